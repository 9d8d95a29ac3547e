-- Append-only tables stay append-only (issue #15). PostgreSQL has no INSERT OR REPLACE, and
-- INSERT ... ON CONFLICT DO UPDATE fires the UPDATE triggers already in place; what was
-- missing are the guards of the rectifications and their steps.

-- The opening of a rectification is kept as it was: only its replayed state (status,
-- closed_on, called_back) follows the steps.
CREATE FUNCTION rectifications_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'a rectification is never deleted (% refused)', TG_OP;
    END IF;
    IF (NEW.rating_id, NEW.unit, NEW.real_name, NEW.opened_on, NEW.deadline)
        IS DISTINCT FROM (OLD.rating_id, OLD.unit, OLD.real_name, OLD.opened_on, OLD.deadline)
    THEN
        RAISE EXCEPTION 'the opening of a rectification is never changed';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER rectifications_guard BEFORE UPDATE OR DELETE ON rectifications
    FOR EACH ROW EXECUTE FUNCTION rectifications_guard();
CREATE TRIGGER rectifications_no_truncate BEFORE TRUNCATE ON rectifications
    FOR EACH STATEMENT EXECUTE FUNCTION rectifications_guard();

-- Steps of a rectification are its history: never changed or removed.
CREATE FUNCTION rectification_steps_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rectification steps are append-only (% refused)', TG_OP;
END
$$;

CREATE TRIGGER rectification_steps_no_update_delete BEFORE UPDATE OR DELETE ON rectification_steps
    FOR EACH ROW EXECUTE FUNCTION rectification_steps_refuse();
CREATE TRIGGER rectification_steps_no_truncate BEFORE TRUNCATE ON rectification_steps
    FOR EACH STATEMENT EXECUTE FUNCTION rectification_steps_refuse();
