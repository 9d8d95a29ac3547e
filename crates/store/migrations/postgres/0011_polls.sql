-- Democratic evaluation and recommendation polls (民主测评、民主推荐) with secret ballots.
--
-- Secrecy by design (docs/security.md, "Secret ballots"): a ballot row holds its poll, its
-- rater group and its choices, nothing else: no code, no rater, no account, no address, no
-- time. Its key is 128 random bits from the operating system. PostgreSQL keeps a table's rows
-- in the heap in the order they were written and gives each row the number of the
-- transaction that wrote it (xmin): docs/security.md states what that leaves open and to
-- whom. Codes are stored only as hashes. Casting marks the code used in the transaction that
-- stores the ballot. Ballots, paper counts and their confirmations are never changed or
-- deleted; a poll changes only by closing earlier.
CREATE TABLE polls (
    id                TEXT PRIMARY KEY,
    title             TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('evaluation', 'recommendation')),
    cycle             TEXT,
    items             TEXT NOT NULL,
    seats             BIGINT NOT NULL,
    opens_at          BIGINT NOT NULL,
    closes_at         BIGINT NOT NULL,
    quorum            DOUBLE PRECISION NOT NULL,
    min_group         BIGINT NOT NULL,
    adjustment_above  DOUBLE PRECISION NOT NULL,
    admonition_below  DOUBLE PRECISION NOT NULL,
    created_by        TEXT NOT NULL,
    CHECK (closes_at > opens_at)
);

CREATE TABLE poll_people (
    poll_id   TEXT NOT NULL REFERENCES polls (id),
    position  BIGINT NOT NULL,
    cadre     TEXT NOT NULL REFERENCES cadres (id),
    PRIMARY KEY (poll_id, position),
    UNIQUE (poll_id, cadre)
);

CREATE TABLE poll_groups (
    poll_id     TEXT NOT NULL REFERENCES polls (id),
    id          TEXT NOT NULL,
    position    BIGINT NOT NULL,
    name        TEXT NOT NULL,
    weight      DOUBLE PRECISION NOT NULL CHECK (weight > 0),
    codes       BIGINT NOT NULL CHECK (codes > 0),
    merge_into  TEXT,
    PRIMARY KEY (poll_id, id)
);

CREATE TABLE poll_codes (
    hash      TEXT PRIMARY KEY,
    poll_id   TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    used      BOOLEAN NOT NULL DEFAULT FALSE,
    FOREIGN KEY (poll_id, group_id) REFERENCES poll_groups (poll_id, id)
);
CREATE INDEX poll_codes_group ON poll_codes (poll_id, group_id, used);

CREATE TABLE poll_ballots (
    id        BYTEA PRIMARY KEY CHECK (length(id) = 16),
    poll_id   TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    choices   TEXT NOT NULL,
    FOREIGN KEY (poll_id, group_id) REFERENCES poll_groups (poll_id, id)
);

CREATE TABLE poll_paper (
    poll_id     TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    ballots     BIGINT NOT NULL CHECK (ballots >= 0),
    entered_by  TEXT NOT NULL,
    entered_at  BIGINT NOT NULL,
    PRIMARY KEY (poll_id, group_id),
    FOREIGN KEY (poll_id, group_id) REFERENCES poll_groups (poll_id, id)
);

CREATE TABLE poll_paper_counts (
    poll_id   TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    person    TEXT NOT NULL,
    item      TEXT NOT NULL,
    excellent BIGINT NOT NULL CHECK (excellent >= 0),
    competent BIGINT NOT NULL CHECK (competent >= 0),
    basic     BIGINT NOT NULL CHECK (basic >= 0),
    incompetent BIGINT NOT NULL CHECK (incompetent >= 0),
    PRIMARY KEY (poll_id, group_id, person, item),
    FOREIGN KEY (poll_id, group_id) REFERENCES poll_paper (poll_id, group_id)
);

CREATE TABLE poll_paper_confirmations (
    poll_id       TEXT NOT NULL,
    group_id      TEXT NOT NULL,
    confirmed_by  TEXT NOT NULL,
    confirmed_at  BIGINT NOT NULL,
    PRIMARY KEY (poll_id, group_id),
    FOREIGN KEY (poll_id, group_id) REFERENCES poll_paper (poll_id, group_id)
);

CREATE FUNCTION kaohe_poll_close_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.title, NEW.kind, NEW.cycle, NEW.items, NEW.seats, NEW.opens_at, NEW.quorum,
        NEW.min_group, NEW.adjustment_above, NEW.admonition_below, NEW.created_by)
       IS DISTINCT FROM
       (OLD.id, OLD.title, OLD.kind, OLD.cycle, OLD.items, OLD.seats, OLD.opens_at, OLD.quorum,
        OLD.min_group, OLD.adjustment_above, OLD.admonition_below, OLD.created_by)
       OR NEW.closes_at > OLD.closes_at THEN
        RAISE EXCEPTION 'a poll is never changed, only closed earlier';
    END IF;
    RETURN NEW;
END;
$$;

CREATE FUNCTION kaohe_poll_code_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.hash, NEW.poll_id, NEW.group_id) IS DISTINCT FROM (OLD.hash, OLD.poll_id, OLD.group_id)
       OR OLD.used OR NOT NEW.used THEN
        RAISE EXCEPTION 'a ballot code is only ever marked used, once';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER polls_only_close_earlier BEFORE UPDATE ON polls
    FOR EACH ROW EXECUTE FUNCTION kaohe_poll_close_only();
CREATE TRIGGER polls_guard BEFORE DELETE OR TRUNCATE ON polls
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('a poll is never deleted');
CREATE TRIGGER poll_people_guard BEFORE UPDATE OR DELETE OR TRUNCATE ON poll_people
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('the people of a poll are never changed');
CREATE TRIGGER poll_groups_guard BEFORE UPDATE OR DELETE OR TRUNCATE ON poll_groups
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('the groups of a poll are never changed');
CREATE TRIGGER poll_codes_only_used BEFORE UPDATE ON poll_codes
    FOR EACH ROW EXECUTE FUNCTION kaohe_poll_code_use();
CREATE TRIGGER poll_codes_guard BEFORE DELETE OR TRUNCATE ON poll_codes
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('a ballot code is never deleted');
CREATE TRIGGER poll_ballots_guard BEFORE UPDATE OR DELETE OR TRUNCATE ON poll_ballots
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('a ballot is never changed or deleted');
CREATE TRIGGER poll_paper_guard BEFORE UPDATE OR DELETE OR TRUNCATE ON poll_paper
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('a paper count is never changed or deleted');
CREATE TRIGGER poll_paper_counts_guard BEFORE UPDATE OR DELETE OR TRUNCATE ON poll_paper_counts
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('a paper count is never changed or deleted');
CREATE TRIGGER poll_paper_confirmations_guard BEFORE UPDATE OR DELETE OR TRUNCATE ON poll_paper_confirmations
    FOR EACH STATEMENT EXECUTE FUNCTION kaohe_refuse('a confirmation is never changed or deleted');
