-- Escalations of overdue rectifications (逾期督办): one per rectification, recorded by the
-- sweep on the first working day after the deadline, and kept when the rectification closes.
-- leaders, assessors: the account names it went to, space-separated.
CREATE TABLE rectification_escalations (
    rating_id  BIGINT PRIMARY KEY NOT NULL REFERENCES rectifications (rating_id),
    due_on     DATE NOT NULL,
    on_day     DATE NOT NULL,
    leaders    TEXT NOT NULL,
    assessors  TEXT NOT NULL,
    at         BIGINT NOT NULL
);

CREATE FUNCTION rectification_escalations_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'an escalation is never changed or deleted (% refused)', TG_OP;
END;
$$;
CREATE TRIGGER rectification_escalations_guard BEFORE UPDATE OR DELETE ON rectification_escalations
    FOR EACH ROW EXECUTE FUNCTION rectification_escalations_guard();
CREATE TRIGGER rectification_escalations_no_truncate BEFORE TRUNCATE ON rectification_escalations
    FOR EACH STATEMENT EXECUTE FUNCTION rectification_escalations_guard();
