-- Append-only tables stay append-only under INSERT OR REPLACE (issue #15).
--
-- SQLite's REPLACE deletes the row in the way and inserts the new one without firing the
-- table's DELETE triggers (unless recursive triggers are on), so a rating could be rewritten
-- (level 1 -> 5) past `ratings_no_delete` and `ratings_no_change`. Each trigger below runs
-- before the insert: a row given the key of a stored row is refused (ABORT) where kaohe never
-- inserts such a row, and skipped (IGNORE: the stored row stays, as with ON CONFLICT DO
-- NOTHING) where kaohe relies on ON CONFLICT DO NOTHING to refuse a second row.

CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER ratings_no_replace_id BEFORE INSERT ON ratings
WHEN EXISTS (SELECT 1 FROM ratings WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'a rating is never replaced');
END;

CREATE TRIGGER ratings_one_per_case BEFORE INSERT ON ratings
WHEN EXISTS (SELECT 1 FROM ratings WHERE case_id = NEW.case_id)
    AND NOT EXISTS (SELECT 1 FROM ratings WHERE id = NEW.id)
BEGIN
    SELECT RAISE(IGNORE);
END;

-- The opening of a rectification is kept as it was: only its replayed state (status,
-- closed_on, called_back) follows the steps.
CREATE TRIGGER rectifications_no_delete BEFORE DELETE ON rectifications
BEGIN
    SELECT RAISE(ABORT, 'a rectification is never deleted');
END;

CREATE TRIGGER rectifications_no_change
BEFORE UPDATE OF rating_id, unit, real_name, opened_on, deadline ON rectifications
BEGIN
    SELECT RAISE(ABORT, 'the opening of a rectification is never changed');
END;

CREATE TRIGGER rectifications_no_replace BEFORE INSERT ON rectifications
WHEN EXISTS (SELECT 1 FROM rectifications WHERE rating_id = NEW.rating_id)
BEGIN
    SELECT RAISE(ABORT, 'a rectification is never replaced');
END;

-- Steps of a rectification are its history: never changed, removed or replaced.
CREATE TRIGGER rectification_steps_no_delete BEFORE DELETE ON rectification_steps
BEGIN
    SELECT RAISE(ABORT, 'rectification steps are append-only');
END;

CREATE TRIGGER rectification_steps_no_change BEFORE UPDATE ON rectification_steps
BEGIN
    SELECT RAISE(ABORT, 'rectification steps are append-only');
END;

CREATE TRIGGER rectification_steps_no_replace BEFORE INSERT ON rectification_steps
WHEN EXISTS (SELECT 1 FROM rectification_steps WHERE rating_id = NEW.rating_id AND seq = NEW.seq)
BEGIN
    SELECT RAISE(IGNORE);
END;

CREATE TRIGGER rectification_escalations_no_replace BEFORE INSERT ON rectification_escalations
WHEN EXISTS (SELECT 1 FROM rectification_escalations WHERE rating_id = NEW.rating_id)
BEGIN
    SELECT RAISE(IGNORE);
END;

CREATE TRIGGER frameworks_no_replace BEFORE INSERT ON frameworks
WHEN EXISTS (SELECT 1 FROM frameworks WHERE id = NEW.id AND version = NEW.version)
BEGIN
    SELECT RAISE(ABORT, 'a framework version is never replaced');
END;

CREATE TRIGGER committee_decisions_no_replace BEFORE INSERT ON committee_decisions
WHEN EXISTS (SELECT 1 FROM committee_decisions WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'committee decisions are append-only');
END;
