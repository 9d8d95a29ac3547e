-- Assessment cycles (考核周期): stored framework versions, cycles with their scope and people,
-- gathered values, computed results by revision, committee decisions.
--
-- A framework version never changes once stored; a cycle names the version it uses.
CREATE TABLE frameworks (
    id          TEXT NOT NULL,
    version     TEXT NOT NULL,
    name        TEXT NOT NULL,
    source      TEXT NOT NULL,
    digest      TEXT NOT NULL,
    origin      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (id, version)
);

-- columns: JSON array of the value columns (indicators, then auxiliary columns) in the order
-- of every values array of the cycle. revision: the revision whose results are current (0:
-- none). changes: JSON array of the scope changes during the period. computing: the token
-- of a compute under way and since when (unix seconds), to refuse a second one.
CREATE TABLE cycles (
    id                 BIGSERIAL PRIMARY KEY,
    name               TEXT NOT NULL,
    kind               TEXT NOT NULL,
    period_start       DATE NOT NULL,
    period_end         DATE NOT NULL,
    framework_id       TEXT NOT NULL,
    framework_version  TEXT NOT NULL,
    state              TEXT NOT NULL,
    columns            TEXT NOT NULL,
    changes            TEXT NOT NULL,
    revision           BIGINT NOT NULL DEFAULT 0,
    computing          TEXT,
    computing_since    BIGINT,
    created_at         BIGINT NOT NULL,
    created_by         TEXT NOT NULL,
    FOREIGN KEY (framework_id, framework_version) REFERENCES frameworks (id, version)
);

CREATE TABLE cycle_units (
    cycle_id  BIGINT NOT NULL REFERENCES cycles (id),
    unit      TEXT NOT NULL,
    PRIMARY KEY (cycle_id, unit)
);

-- The people of a cycle as of the period's end, with the facts gathered for them.
CREATE TABLE cycle_people (
    cycle_id            BIGINT NOT NULL REFERENCES cycles (id),
    cadre               TEXT NOT NULL,
    name                TEXT NOT NULL,
    unit                TEXT NOT NULL,
    unit_name           TEXT NOT NULL,
    is_leader           BOOLEAN NOT NULL,
    PRIMARY KEY (cycle_id, cadre)
);

-- Values of one person from one origin: a JSON array aligned with cycles.columns (null:
-- missing).
CREATE TABLE cycle_values (
    cycle_id  BIGINT NOT NULL REFERENCES cycles (id),
    cadre     TEXT NOT NULL,
    origin    TEXT NOT NULL,
    vals      TEXT NOT NULL,
    PRIMARY KEY (cycle_id, cadre, origin)
);

-- Each computation, finalization and amendment is a revision; a locked revision (final or
-- amendment) and its results never change and are never deleted.
CREATE TABLE cycle_revisions (
    cycle_id    BIGINT NOT NULL REFERENCES cycles (id),
    revision    BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    reason      TEXT,
    summary     TEXT NOT NULL,
    locked      BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (cycle_id, revision)
);

CREATE TABLE cycle_results (
    cycle_id       BIGINT NOT NULL,
    revision       BIGINT NOT NULL,
    cadre          TEXT NOT NULL,
    name           TEXT NOT NULL,
    unit           TEXT NOT NULL,
    unit_name      TEXT NOT NULL,
    score          DOUBLE PRECISION NOT NULL,
    rank           BIGINT NOT NULL,
    rank_in_unit   BIGINT NOT NULL,
    grade_level    INTEGER,
    rule           TEXT NOT NULL,
    flags          TEXT NOT NULL,
    median_rank    BIGINT,
    p05            BIGINT,
    p95            BIGINT,
    p_top          DOUBLE PRECISION,
    contributions  TEXT NOT NULL,
    PRIMARY KEY (cycle_id, revision, cadre),
    FOREIGN KEY (cycle_id, revision) REFERENCES cycle_revisions (cycle_id, revision)
);

CREATE TABLE committee_decisions (
    id          BIGSERIAL PRIMARY KEY,
    cycle_id    BIGINT NOT NULL REFERENCES cycles (id),
    revision    BIGINT NOT NULL,
    cadre       TEXT NOT NULL,
    decision    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    decided_by  TEXT NOT NULL,
    decided_at  BIGINT NOT NULL
);
CREATE INDEX committee_decisions_cycle ON committee_decisions (cycle_id, revision, cadre);

CREATE FUNCTION kaohe_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END;
$$;

CREATE TRIGGER frameworks_guard BEFORE UPDATE OR DELETE ON frameworks
    FOR EACH ROW EXECUTE FUNCTION kaohe_refuse('a stored framework version is never changed or deleted: upload a new version');
CREATE TRIGGER frameworks_no_truncate BEFORE TRUNCATE ON frameworks
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('a stored framework version is never deleted');
CREATE TRIGGER committee_decisions_guard BEFORE UPDATE OR DELETE ON committee_decisions
    FOR EACH ROW EXECUTE FUNCTION kaohe_refuse('a committee decision is never changed or deleted');
CREATE TRIGGER committee_decisions_no_truncate BEFORE TRUNCATE ON committee_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('a committee decision is never deleted');
CREATE TRIGGER cycle_results_no_change BEFORE UPDATE ON cycle_results
    FOR EACH ROW EXECUTE FUNCTION kaohe_refuse('a result is never changed in place');
CREATE TRIGGER cycle_tables_no_truncate BEFORE TRUNCATE ON cycle_results
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('results are never truncated');
CREATE TRIGGER cycle_revisions_no_truncate BEFORE TRUNCATE ON cycle_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('revisions are never truncated');
CREATE TRIGGER cycles_no_truncate BEFORE TRUNCATE ON cycles
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('cycles are never truncated');
CREATE TRIGGER cycle_values_no_truncate BEFORE TRUNCATE ON cycle_values
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('values are never truncated');

-- A revision is written unlocked, its results inserted, then locked in the same transaction.
-- Checked once per statement over the rows it touched (a revision holds a hundred thousand).
CREATE FUNCTION cycle_results_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM new_rows n JOIN cycle_revisions v
                   ON v.cycle_id = n.cycle_id AND v.revision = n.revision WHERE v.locked) THEN
            RAISE EXCEPTION 'a final result is never added to: correct it by amendment';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM old_rows o JOIN cycle_revisions v
                  ON v.cycle_id = o.cycle_id AND v.revision = o.revision WHERE v.locked) THEN
        RAISE EXCEPTION 'a final result is never deleted: correct it by amendment';
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER cycle_results_locked_insert AFTER INSERT ON cycle_results
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cycle_results_guard();
CREATE TRIGGER cycle_results_locked_delete AFTER DELETE ON cycle_results
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cycle_results_guard();

CREATE FUNCTION cycle_revisions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.locked THEN
        RAISE EXCEPTION 'a final revision is never changed or deleted';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER cycle_revisions_locked BEFORE UPDATE OR DELETE ON cycle_revisions
    FOR EACH ROW EXECUTE FUNCTION cycle_revisions_guard();

CREATE FUNCTION cycles_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state <> 'final' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a final cycle is never deleted';
    END IF;
    IF NEW.state <> 'final'
        OR NEW.kind <> OLD.kind
        OR NEW.period_start <> OLD.period_start
        OR NEW.period_end <> OLD.period_end
        OR NEW.framework_id <> OLD.framework_id
        OR NEW.framework_version <> OLD.framework_version
        OR NEW.columns <> OLD.columns
        OR (NEW.revision <> OLD.revision AND NOT EXISTS (
            SELECT 1 FROM cycle_revisions
            WHERE cycle_id = NEW.id AND revision = NEW.revision AND kind = 'amendment'
                AND revision > OLD.revision)) THEN
        RAISE EXCEPTION 'a final cycle changes only by amendment';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER cycles_final BEFORE UPDATE OR DELETE ON cycles
    FOR EACH ROW EXECUTE FUNCTION cycles_guard();

CREATE FUNCTION cycle_values_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r RECORD;
BEGIN
    IF TG_OP = 'INSERT' THEN r := NEW; ELSE r := OLD; END IF;
    IF (SELECT state FROM cycles WHERE id = r.cycle_id) = 'final'
        AND (TG_OP <> 'INSERT' OR r.origin NOT LIKE 'amendment:%') THEN
        RAISE EXCEPTION 'the values of a final cycle never change: correct them by amendment';
    END IF;
    RETURN r;
END;
$$;
CREATE TRIGGER cycle_values_final BEFORE INSERT OR UPDATE OR DELETE ON cycle_values
    FOR EACH ROW EXECUTE FUNCTION cycle_values_guard();
