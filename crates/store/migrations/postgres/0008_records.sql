-- Work records (全程纪实): dated facts of an official's work and conduct, their reviews, and
-- their evidence files. Nothing here is ever changed or deleted: a review is a row of its
-- own (one per record), a correction is a new record naming the one it corrects (amends) with
-- a reason.
CREATE TABLE records (
    id                 BIGSERIAL PRIMARY KEY,
    cadre              TEXT NOT NULL REFERENCES cadres (id),
    fact_date          DATE NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('positive', 'negative')),
    framework_id       TEXT NOT NULL,
    framework_version  TEXT NOT NULL,
    indicator          TEXT NOT NULL,
    points             DOUBLE PRECISION NOT NULL CHECK (points > 0),
    description        TEXT NOT NULL,
    source             TEXT NOT NULL CHECK (source IN ('field_visit', 'concrete_case',
                           'public_opinion', 'superior', 'attendance', 'other')),
    amends             BIGINT REFERENCES records (id),
    reason             TEXT,
    recorded_by        TEXT NOT NULL,
    recorded_at        BIGINT NOT NULL,
    CHECK ((amends IS NULL) = (reason IS NULL)),
    FOREIGN KEY (framework_id, framework_version) REFERENCES frameworks (id, version)
);
CREATE INDEX records_cadre ON records (cadre, fact_date);
-- The sums of a cycle (POINT_SUMS in crates/store/src/records/mod.rs) walk this index alone,
-- already in the order of their GROUP BY.
CREATE INDEX records_sums ON records (framework_id, cadre, indicator, kind, fact_date, points);
CREATE INDEX records_amends ON records (amends) WHERE amends IS NOT NULL;

CREATE TABLE record_reviews (
    record_id    BIGINT PRIMARY KEY REFERENCES records (id),
    verdict      TEXT NOT NULL CHECK (verdict IN ('verified', 'rejected')),
    reason       TEXT NOT NULL,
    reviewed_by  TEXT NOT NULL,
    reviewed_at  BIGINT NOT NULL
);

-- Evidence files; data is NULL when the content is kept in the evidence directory.
CREATE TABLE record_files (
    id         BIGSERIAL PRIMARY KEY,
    record_id  BIGINT NOT NULL REFERENCES records (id),
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('pdf', 'png', 'jpeg', 'docx', 'xlsx')),
    size       BIGINT NOT NULL,
    sha256     TEXT NOT NULL,
    data       BYTEA
);
CREATE INDEX record_files_record ON record_files (record_id);

CREATE TRIGGER records_guard BEFORE UPDATE OR DELETE OR TRUNCATE ON records
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('a work record is never changed or deleted: correct it by amendment');
CREATE TRIGGER record_reviews_guard BEFORE UPDATE OR DELETE OR TRUNCATE ON record_reviews
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('a review of a work record is never changed or deleted');
CREATE TRIGGER record_files_guard BEFORE UPDATE OR DELETE OR TRUNCATE ON record_files
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('an evidence file is never changed or deleted');
