-- Accounts and sessions. Times are unix seconds (UTC).
-- roles: space-separated role codes; units: space-separated unit codes (an assessor's assigned
-- units, a unit leader's unit); cadre: the official's own record.
CREATE TABLE users (
    username        TEXT PRIMARY KEY NOT NULL,
    display_name    TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    roles           TEXT NOT NULL,
    units           TEXT NOT NULL DEFAULT '',
    cadre           TEXT,
    totp_secret     TEXT,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    last_failed_at  BIGINT,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT NOT NULL
);

-- id: hex SHA-256 of the session token; the token itself is never stored.
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    csrf          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL
);
CREATE INDEX sessions_username ON sessions (username);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);
