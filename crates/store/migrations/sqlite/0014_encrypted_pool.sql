-- Pooled ballots are encrypted under the deployment's ballot key (kaohe_domain::polls::pool)
-- and sealed into poll_ballots under new random keys, decrypted (docs/security.md, "Secret
-- ballots"). A pooled row and its sealed row share nothing but their poll and group, so the
-- rule that a ballot leaves the pool only as itself becomes: only once its poll is sealed.
-- Ballots pooled by an earlier version (in the clear) are refused by the sealing with a clear
-- error; close open polls before upgrading.
CREATE TABLE poll_seals (
    poll_id  TEXT PRIMARY KEY REFERENCES polls (id)
) WITHOUT ROWID;

CREATE TRIGGER poll_seals_no_change BEFORE UPDATE ON poll_seals
BEGIN
    SELECT RAISE(ABORT, 'a seal is never changed');
END;
CREATE TRIGGER poll_seals_no_delete BEFORE DELETE ON poll_seals
BEGIN
    SELECT RAISE(ABORT, 'a seal is never removed');
END;
CREATE TRIGGER poll_seals_no_replace BEFORE INSERT ON poll_seals
WHEN EXISTS (SELECT 1 FROM poll_seals WHERE poll_id = NEW.poll_id)
BEGIN
    SELECT RAISE(ABORT, 'a seal is never replaced');
END;

DROP TRIGGER poll_ballot_pool_sealed;
CREATE TRIGGER poll_ballot_pool_sealed BEFORE DELETE ON poll_ballot_pool
WHEN NOT EXISTS (SELECT 1 FROM poll_seals s WHERE s.poll_id = OLD.poll_id)
BEGIN
    SELECT RAISE(ABORT, 'a ballot leaves the pool only when its poll is sealed');
END;
