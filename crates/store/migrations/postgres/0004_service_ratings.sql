-- Public ratings of services (好差评): service cases, ratings, rectifications of bad reviews,
-- appeals. Times are unix seconds (UTC); days are dates.
-- A rating is never deleted or changed, except `excluded`, set by an upheld appeal.
CREATE TABLE service_cases (
    id           TEXT PRIMARY KEY NOT NULL,
    item         TEXT NOT NULL,
    unit         TEXT NOT NULL REFERENCES units (code),
    window_code  TEXT,
    channel      TEXT NOT NULL,
    accepted_at  BIGINT NOT NULL,
    closed_at    BIGINT NOT NULL,
    applicant    TEXT,
    phone        TEXT,
    rating_code  TEXT NOT NULL UNIQUE,
    CHECK (closed_at >= accepted_at)
);
CREATE INDEX service_cases_unit ON service_cases (unit, closed_at);

CREATE TABLE case_officials (
    case_id   TEXT NOT NULL REFERENCES service_cases (id),
    cadre     TEXT NOT NULL REFERENCES cadres (id),
    position  INTEGER NOT NULL,
    PRIMARY KEY (case_id, cadre)
);
CREATE INDEX case_officials_cadre ON case_officials (cadre);

CREATE TABLE ratings (
    id         BIGSERIAL PRIMARY KEY,
    case_id    TEXT NOT NULL UNIQUE REFERENCES service_cases (id),
    level      INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    tags       TEXT NOT NULL DEFAULT '',
    comment    TEXT,
    channel    TEXT NOT NULL,
    real_name  BOOLEAN NOT NULL,
    contact    TEXT,
    rated_at   BIGINT NOT NULL,
    excluded   BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX ratings_rated_at ON ratings (rated_at);

-- One per bad review. status, closed_on and called_back are the replay of the steps
-- (kaohe_domain::service::rectification), kept for the queue.
CREATE TABLE rectifications (
    rating_id    BIGINT PRIMARY KEY NOT NULL REFERENCES ratings (id),
    unit         TEXT NOT NULL REFERENCES units (code),
    real_name    BOOLEAN NOT NULL,
    opened_on    DATE NOT NULL,
    deadline     DATE NOT NULL,
    status       TEXT NOT NULL,
    closed_on    DATE,
    called_back  BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX rectifications_queue ON rectifications (status, deadline);
CREATE INDEX rectifications_unit ON rectifications (unit);

CREATE TABLE rectification_steps (
    rating_id  BIGINT NOT NULL REFERENCES rectifications (rating_id),
    seq        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    note       TEXT NOT NULL,
    reached    BOOLEAN,
    verdict    TEXT,
    on_day     DATE NOT NULL,
    actor      TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (rating_id, seq)
);

CREATE TABLE appeals (
    rating_id   BIGINT PRIMARY KEY NOT NULL REFERENCES ratings (id),
    ground      TEXT NOT NULL,
    evidence    TEXT NOT NULL,
    filed_by    TEXT NOT NULL,
    filed_at    BIGINT NOT NULL,
    decision    TEXT,
    reason      TEXT,
    decided_by  TEXT,
    decided_at  BIGINT
);

-- Ratings are kept whole: the database itself refuses to delete one or to change anything but
-- its exclusion.
CREATE FUNCTION ratings_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'a rating is never deleted (% refused)', TG_OP;
    END IF;
    IF (NEW.id, NEW.case_id, NEW.level, NEW.tags, NEW.comment, NEW.channel, NEW.real_name,
        NEW.contact, NEW.rated_at) IS DISTINCT FROM (OLD.id, OLD.case_id, OLD.level, OLD.tags,
        OLD.comment, OLD.channel, OLD.real_name, OLD.contact, OLD.rated_at)
    THEN
        RAISE EXCEPTION 'a rating is never changed, only excluded by an upheld appeal';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER ratings_guard BEFORE UPDATE OR DELETE ON ratings
    FOR EACH ROW EXECUTE FUNCTION ratings_guard();
CREATE TRIGGER ratings_no_truncate BEFORE TRUNCATE ON ratings
    FOR EACH STATEMENT EXECUTE FUNCTION ratings_guard();

-- API tokens of service systems (接入系统). hash: hex SHA-256 of the token; the token itself is
-- never stored. id: the public part, for listing and revoking.
CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY NOT NULL,
    hash        TEXT NOT NULL UNIQUE,
    username    TEXT NOT NULL REFERENCES users (username),
    label       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- Finding the latest entry of an action (e.g. the settings last applied) without a scan.
CREATE INDEX audit_log_action ON audit_log (action, seq);

-- Evidence files of appeals (PDF, PNG or JPEG by content, checked before storing).
CREATE TABLE appeal_files (
    id           BIGSERIAL PRIMARY KEY,
    rating_id    BIGINT NOT NULL REFERENCES appeals (rating_id),
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('pdf', 'png', 'jpeg')),
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    data         BYTEA NOT NULL
);
CREATE INDEX appeal_files_rating ON appeal_files (rating_id);
