-- A password set by someone else (an account created or a password reset by the system
-- administrator) must be changed by the account holder at the next sign-in.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
