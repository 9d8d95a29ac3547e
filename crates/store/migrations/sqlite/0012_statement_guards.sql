-- The guard of a final cycle's values (0007) on an UPDATE looked at the row's cycle before
-- the change only, so an UPDATE could move values of a cycle not final into a final one. It
-- now refuses when the cycle before or after the change is final, as PostgreSQL's guard does
-- since this migration (there, checked once per statement instead of once per row; SQLite
-- has row-level triggers only). The message is unchanged.
DROP TRIGGER cycle_values_final_locked;
CREATE TRIGGER cycle_values_final_locked BEFORE UPDATE ON cycle_values
WHEN (SELECT state FROM cycles WHERE id = OLD.cycle_id) = 'final'
    OR (SELECT state FROM cycles WHERE id = NEW.cycle_id) = 'final'
BEGIN
    SELECT RAISE(ABORT, 'the values of a final cycle never change: correct them by amendment');
END;
