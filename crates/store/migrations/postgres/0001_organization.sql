-- Organization data: units, cadres, appointment history, sanctions, working-day calendar.
CREATE TABLE units (
    code    TEXT PRIMARY KEY NOT NULL,
    name    TEXT NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('province', 'city', 'county', 'township', 'department')),
    parent  TEXT REFERENCES units (code) DEFERRABLE INITIALLY DEFERRED,
    CHECK (parent IS NULL OR parent <> code)
);
CREATE INDEX units_parent ON units (parent);

CREATE TABLE cadres (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    gender      TEXT NOT NULL CHECK (gender IN ('male', 'female')),
    ethnicity   TEXT NOT NULL,
    birth_date  DATE NOT NULL,
    unit        TEXT NOT NULL REFERENCES units (code) DEFERRABLE INITIALLY DEFERRED,
    post        TEXT NOT NULL,
    rank        TEXT NOT NULL,
    is_leader   BOOLEAN NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'retired', 'transferred_out', 'left'))
);
CREATE INDEX cadres_unit ON cadres (unit, is_leader);

CREATE TABLE appointments (
    id          BIGSERIAL PRIMARY KEY,
    cadre       TEXT NOT NULL REFERENCES cadres (id) DEFERRABLE INITIALLY DEFERRED,
    unit        TEXT NOT NULL REFERENCES units (code) DEFERRABLE INITIALLY DEFERRED,
    post        TEXT NOT NULL,
    rank        TEXT NOT NULL,
    start_date  DATE NOT NULL,
    end_date    DATE,
    UNIQUE (cadre, unit, post, start_date),
    CHECK (end_date IS NULL OR end_date >= start_date)
);

CREATE TABLE sanctions (
    id          TEXT PRIMARY KEY NOT NULL,
    cadre       TEXT NOT NULL REFERENCES cadres (id) DEFERRABLE INITIALLY DEFERRED,
    kind        TEXT NOT NULL CHECK (kind IN ('warning', 'demerit', 'major_demerit', 'demotion', 'removal', 'expulsion')),
    start_date  DATE NOT NULL,
    end_date    DATE,
    reason      TEXT NOT NULL,
    CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX sanctions_cadre ON sanctions (cadre);

CREATE TABLE calendar (
    day   DATE PRIMARY KEY NOT NULL,
    kind  TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name  TEXT NOT NULL
);
