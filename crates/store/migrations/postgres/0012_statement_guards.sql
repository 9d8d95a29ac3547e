-- The guard of a final cycle's values (0007), checked once per statement instead of once per
-- row. Computing a province's routine cycle writes a hundred thousand rows of gathered values,
-- and the row-level trigger looked up the cycle's state for every one of them
-- (docs/performance.md, "Routine cycles from work records"). The rule and its message are
-- unchanged: the values of a final cycle are never changed or deleted, and only an amendment
-- adds values of its own (origin `amendment:N`); an UPDATE is now also refused when it moves
-- rows into a final cycle (the row-level guard looked at the row before the change only; so
-- does SQLite's 0012). Each statement's rows are checked together through its transition
-- tables, so a statement touching many rows, or rows of several cycles, is refused as a
-- whole when one of them breaks the rule.
DROP TRIGGER cycle_values_final ON cycle_values;
DROP FUNCTION cycle_values_guard();

CREATE FUNCTION cycle_values_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM cycles c
                   WHERE c.state = 'final' AND c.id IN (
                       SELECT n.cycle_id FROM new_rows n WHERE n.origin NOT LIKE 'amendment:%')) THEN
            RAISE EXCEPTION 'the values of a final cycle never change: correct them by amendment';
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF EXISTS (SELECT 1 FROM cycles c
                   WHERE c.state = 'final' AND (c.id IN (SELECT o.cycle_id FROM old_rows o)
                       OR c.id IN (SELECT n.cycle_id FROM new_rows n))) THEN
            RAISE EXCEPTION 'the values of a final cycle never change: correct them by amendment';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM cycles c
                  WHERE c.state = 'final' AND c.id IN (SELECT o.cycle_id FROM old_rows o)) THEN
        RAISE EXCEPTION 'the values of a final cycle never change: correct them by amendment';
    END IF;
    RETURN NULL;
END;
$$;
-- One trigger per event: PostgreSQL allows transition tables only on a trigger of one event.
CREATE TRIGGER cycle_values_final_insert AFTER INSERT ON cycle_values
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cycle_values_guard();
CREATE TRIGGER cycle_values_final_update AFTER UPDATE ON cycle_values
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cycle_values_guard();
CREATE TRIGGER cycle_values_final_delete AFTER DELETE ON cycle_values
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cycle_values_guard();
