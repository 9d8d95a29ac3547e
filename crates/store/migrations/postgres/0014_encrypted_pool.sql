-- Pooled ballots are encrypted under the deployment's ballot key (kaohe_domain::polls::pool)
-- and sealed into poll_ballots under new random keys, decrypted (docs/security.md, "Secret
-- ballots"). A pooled row and its sealed row share nothing but their poll and group, so the
-- rule that a ballot leaves the pool only as itself becomes: only once its poll is sealed.
-- Ballots pooled by an earlier version (in the clear) are refused by the sealing with a clear
-- error; close open polls before upgrading.
CREATE TABLE poll_seals (
    poll_id  TEXT PRIMARY KEY REFERENCES polls (id)
);

CREATE TRIGGER poll_seals_guard BEFORE UPDATE OR DELETE OR TRUNCATE ON poll_seals
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('a seal is never changed or removed');

CREATE OR REPLACE FUNCTION kaohe_pool_leaves_sealed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM poll_seals s WHERE s.poll_id = OLD.poll_id) THEN
        RAISE EXCEPTION 'a ballot leaves the pool only when its poll is sealed';
    END IF;
    RETURN OLD;
END;
$$;
