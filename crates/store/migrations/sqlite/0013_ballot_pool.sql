-- Ballots of an open poll wait in a pool and are sealed into poll_ballots when the poll closes
-- (docs/security.md, "Secret ballots").
--
-- Within a page SQLite places each new cell below the ones written before it, so the byte
-- offsets of ballots written one by one follow the casting order, and the write-ahead log
-- holds each commit's pages. At the close the store copies the poll's pooled ballots into
-- poll_ballots in the order of their random keys, deletes them from the pool with
-- secure_delete on (their bytes overwritten with zeros) and truncates the log.
CREATE TABLE poll_ballot_pool (
    id        BLOB PRIMARY KEY CHECK (length(id) = 16),
    poll_id   TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    choices   TEXT NOT NULL,
    FOREIGN KEY (poll_id, group_id) REFERENCES poll_groups (poll_id, id)
) WITHOUT ROWID;

CREATE TRIGGER poll_ballot_pool_no_change BEFORE UPDATE ON poll_ballot_pool
BEGIN
    SELECT RAISE(ABORT, 'a ballot is never changed');
END;
CREATE TRIGGER poll_ballot_pool_no_replace BEFORE INSERT ON poll_ballot_pool
WHEN EXISTS (SELECT 1 FROM poll_ballot_pool WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'a ballot is never replaced');
END;
CREATE TRIGGER poll_ballot_pool_sealed BEFORE DELETE ON poll_ballot_pool
WHEN NOT EXISTS (SELECT 1 FROM poll_ballots b WHERE b.id = OLD.id AND b.poll_id = OLD.poll_id
                 AND b.group_id = OLD.group_id AND b.choices = OLD.choices)
BEGIN
    SELECT RAISE(ABORT, 'a ballot leaves the pool only when it is sealed into poll_ballots');
END;
