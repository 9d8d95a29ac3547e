-- Sign-in hardening (issue #15).

-- The last TOTP time step accepted for the account: a code is accepted once, and never a code
-- of an earlier step (replay).
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

-- Failed sign-ins per account and client address: a lockout holds for the address the
-- failures came from, so an attacker elsewhere cannot lock the owner out of every address.
-- users.failed_logins and last_failed_at keep the account's own count, for its administrators.
CREATE TABLE login_failures (
    username        TEXT NOT NULL REFERENCES users (username),
    address         TEXT NOT NULL,
    failures        INTEGER NOT NULL,
    last_failed_at  BIGINT NOT NULL,
    PRIMARY KEY (username, address)
);
