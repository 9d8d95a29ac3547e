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
CREATE TRIGGER frameworks_no_delete BEFORE DELETE ON frameworks
BEGIN
    SELECT RAISE(ABORT, 'a stored framework version is never deleted');
END;
CREATE TRIGGER frameworks_no_change BEFORE UPDATE ON frameworks
BEGIN
    SELECT RAISE(ABORT, 'a stored framework version is never changed: upload a new version');
END;

-- columns: JSON array of the value columns (indicators, then auxiliary columns) in the order
-- of every values array of the cycle. revision: the revision whose results are current (0:
-- none). changes: JSON array of the scope changes during the period. computing: the token
-- of a compute under way and since when (unix seconds), to refuse a second one.
CREATE TABLE cycles (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT NOT NULL,
    kind               TEXT NOT NULL,
    period_start       TEXT NOT NULL,
    period_end         TEXT NOT NULL,
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
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    cycle_id    BIGINT NOT NULL REFERENCES cycles (id),
    revision    BIGINT NOT NULL,
    cadre       TEXT NOT NULL,
    decision    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    decided_by  TEXT NOT NULL,
    decided_at  BIGINT NOT NULL
);
CREATE INDEX committee_decisions_cycle ON committee_decisions (cycle_id, revision, cadre);

CREATE TRIGGER committee_decisions_no_delete BEFORE DELETE ON committee_decisions
BEGIN
    SELECT RAISE(ABORT, 'a committee decision is never deleted');
END;
CREATE TRIGGER committee_decisions_no_change BEFORE UPDATE ON committee_decisions
BEGIN
    SELECT RAISE(ABORT, 'a committee decision is never changed');
END;

CREATE TRIGGER cycle_results_no_change BEFORE UPDATE ON cycle_results
BEGIN
    SELECT RAISE(ABORT, 'a result is never changed in place');
END;
CREATE TRIGGER cycle_results_locked_no_delete BEFORE DELETE ON cycle_results
WHEN (SELECT locked FROM cycle_revisions WHERE cycle_id = OLD.cycle_id AND revision = OLD.revision)
BEGIN
    SELECT RAISE(ABORT, 'a final result is never deleted: correct it by amendment');
END;
-- A revision is written unlocked, its results inserted, then locked in the same transaction.
CREATE TRIGGER cycle_results_locked_no_insert BEFORE INSERT ON cycle_results
WHEN (SELECT locked FROM cycle_revisions WHERE cycle_id = NEW.cycle_id AND revision = NEW.revision)
BEGIN
    SELECT RAISE(ABORT, 'a final result is never added to: correct it by amendment');
END;
CREATE TRIGGER cycle_revisions_locked_no_change BEFORE UPDATE ON cycle_revisions
WHEN OLD.locked
BEGIN
    SELECT RAISE(ABORT, 'a final revision is never changed');
END;
CREATE TRIGGER cycle_revisions_locked_no_delete BEFORE DELETE ON cycle_revisions
WHEN OLD.locked
BEGIN
    SELECT RAISE(ABORT, 'a final revision is never deleted');
END;
CREATE TRIGGER cycles_final_no_delete BEFORE DELETE ON cycles
WHEN OLD.state = 'final'
BEGIN
    SELECT RAISE(ABORT, 'a final cycle is never deleted');
END;
CREATE TRIGGER cycles_final_stays BEFORE UPDATE ON cycles
WHEN OLD.state = 'final' AND (
    NEW.state <> 'final'
    OR NEW.kind <> OLD.kind
    OR NEW.period_start <> OLD.period_start
    OR NEW.period_end <> OLD.period_end
    OR NEW.framework_id <> OLD.framework_id
    OR NEW.framework_version <> OLD.framework_version
    OR NEW.columns <> OLD.columns
    OR (NEW.revision <> OLD.revision AND NOT EXISTS (
        SELECT 1 FROM cycle_revisions
        WHERE cycle_id = NEW.id AND revision = NEW.revision AND kind = 'amendment'
            AND revision > OLD.revision)))
BEGIN
    SELECT RAISE(ABORT, 'a final cycle changes only by amendment');
END;
CREATE TRIGGER cycle_values_final_locked BEFORE UPDATE ON cycle_values
WHEN (SELECT state FROM cycles WHERE id = OLD.cycle_id) = 'final'
BEGIN
    SELECT RAISE(ABORT, 'the values of a final cycle never change: correct them by amendment');
END;
CREATE TRIGGER cycle_values_final_no_delete BEFORE DELETE ON cycle_values
WHEN (SELECT state FROM cycles WHERE id = OLD.cycle_id) = 'final'
BEGIN
    SELECT RAISE(ABORT, 'the values of a final cycle never change: correct them by amendment');
END;
CREATE TRIGGER cycle_values_final_only_amendments BEFORE INSERT ON cycle_values
WHEN (SELECT state FROM cycles WHERE id = NEW.cycle_id) = 'final' AND NEW.origin NOT LIKE 'amendment:%'
BEGIN
    SELECT RAISE(ABORT, 'the values of a final cycle never change: correct them by amendment');
END;
