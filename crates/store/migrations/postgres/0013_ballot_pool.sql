-- Ballots of an open poll wait in a pool and are sealed into poll_ballots when the poll closes
-- (docs/security.md, "Secret ballots").
--
-- While a poll is open, a ballot row shares the writing transaction (xmin) with the row
-- version that marks its code used, and PostgreSQL's heap keeps rows in writing order. At the
-- close the store copies the poll's pooled ballots into poll_ballots in the order of their
-- random keys, in one transaction, and deletes them from the pool: the sealed rows carry the
-- sealing transaction's number and a heap order unrelated to the casting order. When the pool
-- is empty it is truncated, which gives the table a new file and drops the old one.
CREATE TABLE poll_ballot_pool (
    id        BYTEA PRIMARY KEY CHECK (length(id) = 16),
    poll_id   TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    choices   TEXT NOT NULL,
    FOREIGN KEY (poll_id, group_id) REFERENCES poll_groups (poll_id, id)
);

-- A pooled ballot leaves the pool only once the same row is in poll_ballots.
CREATE FUNCTION kaohe_pool_leaves_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM poll_ballots b WHERE b.id = OLD.id AND b.poll_id = OLD.poll_id
                   AND b.group_id = OLD.group_id AND b.choices = OLD.choices) THEN
        RAISE EXCEPTION 'a ballot leaves the pool only when it is sealed into poll_ballots';
    END IF;
    RETURN OLD;
END;
$$;

CREATE FUNCTION kaohe_pool_truncate_empty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM poll_ballot_pool) THEN
        RAISE EXCEPTION 'the ballot pool is truncated only when empty';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER poll_ballot_pool_no_change BEFORE UPDATE ON poll_ballot_pool
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('a ballot is never changed');
CREATE TRIGGER poll_ballot_pool_sealed BEFORE DELETE ON poll_ballot_pool
    FOR EACH ROW EXECUTE FUNCTION kaohe_pool_leaves_sealed();
CREATE TRIGGER poll_ballot_pool_truncate BEFORE TRUNCATE ON poll_ballot_pool
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_pool_truncate_empty();
