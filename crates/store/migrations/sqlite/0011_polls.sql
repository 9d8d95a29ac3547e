-- Democratic evaluation and recommendation polls (民主测评、民主推荐) with secret ballots.
--
-- Secrecy by design (docs/security.md, "Secret ballots"): a ballot row holds its poll, its
-- rater group and its choices, nothing else: no code, no rater, no account, no address, no
-- time. Its key is 128 random bits from the operating system, and the table is WITHOUT ROWID,
-- so rows are stored in the order of that random key, not in casting order. Codes are stored
-- only as hashes, in a WITHOUT ROWID table keyed by the hash. Casting marks the code used in
-- the transaction that stores the ballot. Ballots, paper counts and their confirmations are
-- never changed or deleted; a poll changes only by closing earlier.
CREATE TABLE polls (
    id                TEXT PRIMARY KEY,
    title             TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('evaluation', 'recommendation')),
    cycle             TEXT,
    items             TEXT NOT NULL,
    seats             INTEGER NOT NULL,
    opens_at          BIGINT NOT NULL,
    closes_at         BIGINT NOT NULL,
    quorum            REAL NOT NULL,
    min_group         INTEGER NOT NULL,
    adjustment_above  REAL NOT NULL,
    admonition_below  REAL NOT NULL,
    created_by        TEXT NOT NULL,
    CHECK (closes_at > opens_at)
);

CREATE TABLE poll_people (
    poll_id   TEXT NOT NULL REFERENCES polls (id),
    position  INTEGER NOT NULL,
    cadre     TEXT NOT NULL REFERENCES cadres (id),
    PRIMARY KEY (poll_id, position),
    UNIQUE (poll_id, cadre)
);

CREATE TABLE poll_groups (
    poll_id     TEXT NOT NULL REFERENCES polls (id),
    id          TEXT NOT NULL,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    weight      REAL NOT NULL CHECK (weight > 0),
    codes       INTEGER NOT NULL CHECK (codes > 0),
    merge_into  TEXT,
    PRIMARY KEY (poll_id, id)
);

CREATE TABLE poll_codes (
    hash      TEXT PRIMARY KEY,
    poll_id   TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    used      BOOLEAN NOT NULL DEFAULT FALSE,
    FOREIGN KEY (poll_id, group_id) REFERENCES poll_groups (poll_id, id)
) WITHOUT ROWID;
CREATE INDEX poll_codes_group ON poll_codes (poll_id, group_id, used);

CREATE TABLE poll_ballots (
    id        BLOB PRIMARY KEY CHECK (length(id) = 16),
    poll_id   TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    choices   TEXT NOT NULL,
    FOREIGN KEY (poll_id, group_id) REFERENCES poll_groups (poll_id, id)
) WITHOUT ROWID;

CREATE TABLE poll_paper (
    poll_id     TEXT NOT NULL,
    group_id    TEXT NOT NULL,
    ballots     INTEGER NOT NULL CHECK (ballots >= 0),
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
    excellent INTEGER NOT NULL CHECK (excellent >= 0),
    competent INTEGER NOT NULL CHECK (competent >= 0),
    basic     INTEGER NOT NULL CHECK (basic >= 0),
    incompetent INTEGER NOT NULL CHECK (incompetent >= 0),
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

CREATE TRIGGER polls_only_close_earlier BEFORE UPDATE ON polls
WHEN NEW.id IS NOT OLD.id OR NEW.title IS NOT OLD.title OR NEW.kind IS NOT OLD.kind
    OR NEW.cycle IS NOT OLD.cycle OR NEW.items IS NOT OLD.items OR NEW.seats IS NOT OLD.seats
    OR NEW.opens_at IS NOT OLD.opens_at OR NEW.closes_at > OLD.closes_at
    OR NEW.quorum IS NOT OLD.quorum OR NEW.min_group IS NOT OLD.min_group
    OR NEW.adjustment_above IS NOT OLD.adjustment_above
    OR NEW.admonition_below IS NOT OLD.admonition_below OR NEW.created_by IS NOT OLD.created_by
BEGIN
    SELECT RAISE(ABORT, 'a poll is never changed, only closed earlier');
END;
CREATE TRIGGER polls_no_delete BEFORE DELETE ON polls
BEGIN
    SELECT RAISE(ABORT, 'a poll is never deleted');
END;
CREATE TRIGGER polls_no_replace BEFORE INSERT ON polls
WHEN EXISTS (SELECT 1 FROM polls WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'a poll is never replaced');
END;
CREATE TRIGGER poll_people_no_change BEFORE UPDATE ON poll_people
BEGIN
    SELECT RAISE(ABORT, 'the people of a poll are never changed');
END;
CREATE TRIGGER poll_people_no_delete BEFORE DELETE ON poll_people
BEGIN
    SELECT RAISE(ABORT, 'the people of a poll are never changed');
END;
CREATE TRIGGER poll_groups_no_change BEFORE UPDATE ON poll_groups
BEGIN
    SELECT RAISE(ABORT, 'the groups of a poll are never changed');
END;
CREATE TRIGGER poll_groups_no_delete BEFORE DELETE ON poll_groups
BEGIN
    SELECT RAISE(ABORT, 'the groups of a poll are never changed');
END;
-- A code is only ever marked used, once.
CREATE TRIGGER poll_codes_only_used BEFORE UPDATE ON poll_codes
WHEN NEW.hash IS NOT OLD.hash OR NEW.poll_id IS NOT OLD.poll_id
    OR NEW.group_id IS NOT OLD.group_id OR OLD.used OR NOT NEW.used
BEGIN
    SELECT RAISE(ABORT, 'a ballot code is only ever marked used, once');
END;
CREATE TRIGGER poll_codes_no_delete BEFORE DELETE ON poll_codes
BEGIN
    SELECT RAISE(ABORT, 'a ballot code is never deleted');
END;
CREATE TRIGGER poll_codes_no_replace BEFORE INSERT ON poll_codes
WHEN EXISTS (SELECT 1 FROM poll_codes WHERE hash = NEW.hash)
BEGIN
    SELECT RAISE(ABORT, 'a ballot code is never replaced');
END;
CREATE TRIGGER poll_ballots_no_change BEFORE UPDATE ON poll_ballots
BEGIN
    SELECT RAISE(ABORT, 'a ballot is never changed');
END;
CREATE TRIGGER poll_ballots_no_delete BEFORE DELETE ON poll_ballots
BEGIN
    SELECT RAISE(ABORT, 'a ballot is never deleted');
END;
CREATE TRIGGER poll_ballots_no_replace BEFORE INSERT ON poll_ballots
WHEN EXISTS (SELECT 1 FROM poll_ballots WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'a ballot is never replaced');
END;
CREATE TRIGGER poll_paper_no_change BEFORE UPDATE ON poll_paper
BEGIN
    SELECT RAISE(ABORT, 'a paper count is never changed');
END;
CREATE TRIGGER poll_paper_no_delete BEFORE DELETE ON poll_paper
BEGIN
    SELECT RAISE(ABORT, 'a paper count is never deleted');
END;
CREATE TRIGGER poll_paper_no_replace BEFORE INSERT ON poll_paper
WHEN EXISTS (SELECT 1 FROM poll_paper WHERE poll_id = NEW.poll_id AND group_id = NEW.group_id)
BEGIN
    SELECT RAISE(ABORT, 'a paper count is never replaced');
END;
CREATE TRIGGER poll_paper_counts_no_change BEFORE UPDATE ON poll_paper_counts
BEGIN
    SELECT RAISE(ABORT, 'a paper count is never changed');
END;
CREATE TRIGGER poll_paper_counts_no_delete BEFORE DELETE ON poll_paper_counts
BEGIN
    SELECT RAISE(ABORT, 'a paper count is never deleted');
END;
CREATE TRIGGER poll_paper_counts_no_replace BEFORE INSERT ON poll_paper_counts
WHEN EXISTS (SELECT 1 FROM poll_paper_counts WHERE poll_id = NEW.poll_id
    AND group_id = NEW.group_id AND person = NEW.person AND item = NEW.item)
BEGIN
    SELECT RAISE(ABORT, 'a paper count is never replaced');
END;
CREATE TRIGGER poll_paper_confirmations_no_change BEFORE UPDATE ON poll_paper_confirmations
BEGIN
    SELECT RAISE(ABORT, 'a confirmation is never changed');
END;
CREATE TRIGGER poll_paper_confirmations_no_delete BEFORE DELETE ON poll_paper_confirmations
BEGIN
    SELECT RAISE(ABORT, 'a confirmation is never deleted');
END;
CREATE TRIGGER poll_paper_confirmations_no_replace BEFORE INSERT ON poll_paper_confirmations
WHEN EXISTS (SELECT 1 FROM poll_paper_confirmations WHERE poll_id = NEW.poll_id
    AND group_id = NEW.group_id)
BEGIN
    SELECT RAISE(ABORT, 'a paper count has been confirmed already');
END;
