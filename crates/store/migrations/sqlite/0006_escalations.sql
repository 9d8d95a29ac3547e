-- Escalations of overdue rectifications (逾期督办): one per rectification, recorded by the
-- sweep on the first working day after the deadline, and kept when the rectification closes.
-- leaders, assessors: the account names it went to, space-separated.
CREATE TABLE rectification_escalations (
    rating_id  INTEGER PRIMARY KEY NOT NULL REFERENCES rectifications (rating_id),
    due_on     TEXT NOT NULL,
    on_day     TEXT NOT NULL,
    leaders    TEXT NOT NULL,
    assessors  TEXT NOT NULL,
    at         BIGINT NOT NULL
);

CREATE TRIGGER rectification_escalations_no_delete BEFORE DELETE ON rectification_escalations
BEGIN
    SELECT RAISE(ABORT, 'an escalation is never deleted');
END;
CREATE TRIGGER rectification_escalations_no_change BEFORE UPDATE ON rectification_escalations
BEGIN
    SELECT RAISE(ABORT, 'an escalation is never changed');
END;
