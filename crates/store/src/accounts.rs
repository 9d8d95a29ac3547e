//! Accounts and sessions: the [`AccountStore`] part of every [`crate::Store`].
//!
//! The SQL is written once and expanded into each backend by [`impl_account_store!`], like
//! `sql.rs`. Session tokens are never stored: a session's id is the SHA-256 of its token, so a
//! copy of the database does not let anyone sign in. Times are unix seconds.

use crate::StoreError;
use crate::sql::parse_code;
use async_trait::async_trait;
use kaohe_domain::{Code, Labeled, NewAuditEntry, Role};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// An account to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Unique account name.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// PHC string of the argon2id hash of the password.
    pub password_hash: String,
    /// Roles held.
    pub roles: BTreeSet<Role>,
    /// Units: an assessor's assigned units, a unit leader's unit.
    pub units: Vec<Code>,
    /// An official's own cadre record.
    pub cadre: Option<Code>,
    /// Base32 TOTP secret, when a second factor is set up.
    pub totp_secret: Option<String>,
    /// Whether the password was set by someone else and must be changed at the next sign-in.
    pub must_change_password: bool,
}

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Unique account name.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// PHC string of the argon2id hash of the password.
    pub password_hash: String,
    /// Roles held.
    pub roles: BTreeSet<Role>,
    /// Units of the account.
    pub units: Vec<Code>,
    /// An official's own cadre record.
    pub cadre: Option<Code>,
    /// Base32 TOTP secret.
    pub totp_secret: Option<String>,
    /// Consecutive failed logins.
    pub failed_logins: u32,
    /// When the last failed login was.
    pub last_failed_at: Option<i64>,
    /// Disabled accounts cannot sign in.
    pub disabled: bool,
    /// When the account was created.
    pub created_at: i64,
    /// Whether the password must be changed at the next sign-in.
    pub must_change_password: bool,
}

/// A session with its account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The account.
    pub user: User,
    /// The CSRF token of the session, for its forms.
    pub csrf: String,
    /// When it started.
    pub created_at: i64,
    /// When it was last used.
    pub last_seen_at: i64,
}

/// The stored id of a session token: hex SHA-256.
pub fn session_id(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What an account may do and see: its roles and their scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grants {
    /// Roles held.
    pub roles: BTreeSet<Role>,
    /// Units: an assessor's assigned units, a unit leader's unit.
    pub units: Vec<Code>,
    /// An official's own cadre record.
    pub cadre: Option<Code>,
}

/// Accounts and sessions.
///
/// Every method that changes an account takes the audit entry of the change and appends it in
/// the change's transaction; when the account does not exist nothing changes and no entry is
/// appended. Methods that end sessions may keep one: the session token `keep_session`, so that
/// the person changing their own password or second factor stays signed in.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates an account; `false` (and no audit entry) if the name is taken.
    async fn create_user(
        &self,
        user: &NewUser,
        now: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// One account by name.
    async fn get_user(&self, username: &str) -> Result<Option<User>, StoreError>;
    /// All accounts, by name.
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;
    /// Number of accounts.
    async fn count_users(&self) -> Result<u64, StoreError>;
    /// Sets a new password hash, whether it must be changed at the next sign-in, and clears the
    /// lockout; ends the account's sessions but `keep_session`. `false` if there is no such
    /// account.
    async fn set_password(
        &self,
        username: &str,
        password_hash: &str,
        must_change: bool,
        keep_session: Option<&str>,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// Disables or enables an account; disabling ends its sessions. `false` if there is no
    /// such account. With [`LastHolder::Keep`], disabling the last enabled holder of an
    /// administrator role is refused ([`StoreError::Role`]), checked in the change's
    /// transaction after every concurrent account change has committed.
    async fn set_disabled(
        &self,
        username: &str,
        disabled: bool,
        last_holder: LastHolder,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// Replaces the roles and scope of an account and ends its sessions, so that the new
    /// grants apply from the next sign-in. `false` if there is no such account. With
    /// [`LastHolder::Keep`], taking an administrator role from its last enabled holder is
    /// refused ([`StoreError::Role`]).
    async fn set_grants(
        &self,
        username: &str,
        grants: &Grants,
        last_holder: LastHolder,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// Sets (or, with `None`, removes) the base32 TOTP secret of an account; ends its sessions
    /// but `keep_session`. `false` if there is no such account.
    async fn set_totp_secret(
        &self,
        username: &str,
        secret: Option<&str>,
        keep_session: Option<&str>,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// The consecutive failed sign-ins of an account from one client address, and when the
    /// last was: what its lockout there is decided on.
    async fn login_failures(
        &self,
        username: &str,
        address: &str,
    ) -> Result<(u32, Option<i64>), StoreError>;
    /// Records a failed login from `address`: the new count of consecutive failures there and
    /// when; the account's own count (`User::failed_logins`) goes up by one.
    async fn record_login_failure(
        &self,
        username: &str,
        address: &str,
        failures: u32,
        at: i64,
    ) -> Result<(), StoreError>;
    /// Records a successful login from `address`: clears the failures there and the account's
    /// own count.
    async fn record_login_success(&self, username: &str, address: &str) -> Result<(), StoreError>;
    /// Accepts TOTP time step `step` for the account once: `false` when that step or a later
    /// one was accepted before (a replayed code).
    async fn accept_totp_step(&self, username: &str, step: i64) -> Result<bool, StoreError>;
    /// Starts a session for `token` (stored as its hash).
    async fn create_session(
        &self,
        token: &str,
        username: &str,
        csrf: &str,
        now: i64,
    ) -> Result<(), StoreError>;
    /// The session of `token`, with its account.
    async fn session(&self, token: &str) -> Result<Option<Session>, StoreError>;
    /// Marks the session of `token` as used at `now`.
    async fn touch_session(&self, token: &str, now: i64) -> Result<(), StoreError>;
    /// Ends the session of `token`.
    async fn delete_session(&self, token: &str) -> Result<(), StoreError>;
    /// Ends every session last used before `before`; returns how many.
    async fn delete_sessions_idle_since(&self, before: i64) -> Result<u64, StoreError>;
}

/// Columns of `users`, in [`UserRow`] order.
pub(crate) const USER_COLS: &str = "username, display_name, password_hash, roles, units, cadre, \
     totp_secret, failed_logins, last_failed_at, disabled, created_at, must_change_password";

/// An account as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    username: String,
    display_name: String,
    password_hash: String,
    roles: String,
    units: String,
    cadre: Option<String>,
    totp_secret: Option<String>,
    failed_logins: i32,
    last_failed_at: Option<i64>,
    disabled: bool,
    created_at: i64,
    must_change_password: bool,
}

impl UserRow {
    pub(crate) fn into_domain(self) -> Result<User, StoreError> {
        let roles = self
            .roles
            .split_whitespace()
            .map(|r| {
                Role::parse_label(r).map_err(|e| StoreError::Corrupt {
                    table: "users",
                    column: "roles",
                    reason: e.to_string(),
                })
            })
            .collect::<Result<_, _>>()?;
        let units = self
            .units
            .split_whitespace()
            .map(|u| parse_code("users", "units", u))
            .collect::<Result<_, _>>()?;
        Ok(User {
            username: self.username,
            display_name: self.display_name,
            password_hash: self.password_hash,
            roles,
            units,
            cadre: self
                .cadre
                .as_deref()
                .map(|c| parse_code("users", "cadre", c))
                .transpose()?,
            totp_secret: self.totp_secret,
            failed_logins: u32::try_from(self.failed_logins).unwrap_or(0),
            last_failed_at: self.last_failed_at,
            disabled: self.disabled,
            created_at: self.created_at,
            must_change_password: self.must_change_password,
        })
    }
}

/// A session row joined with its account.
#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    csrf: String,
    session_created_at: i64,
    last_seen_at: i64,
}

impl SessionRow {
    pub(crate) fn into_domain(self) -> Result<Session, StoreError> {
        Ok(Session {
            user: self.user.into_domain()?,
            csrf: self.csrf,
            created_at: self.session_created_at,
            last_seen_at: self.last_seen_at,
        })
    }
}

/// Space-separated role codes, as stored.
pub(crate) fn roles_text(roles: &BTreeSet<Role>) -> String {
    roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(" ")
}

/// Space-separated unit codes, as stored.
pub(crate) fn units_text(units: &[Code]) -> String {
    units.iter().map(Code::as_str).collect::<Vec<_>>().join(" ")
}

/// Whether a change may take an administrator role from its last enabled holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastHolder {
    /// Refuse it ([`kaohe_domain::access::check_last_holder`]): the web's administrators
    /// never leave a role of the three without a holder.
    Keep,
    /// Allow it: the command line, the documented recovery.
    MayLeave,
}

/// The administrator roles an account holding `roles` (as stored), enabled or not, gives up
/// when it is disabled (`after` is `None`) or given the roles `after`.
pub(crate) fn admin_roles_lost(
    roles: &str,
    was_disabled: bool,
    after: Option<&BTreeSet<Role>>,
) -> BTreeSet<Role> {
    if was_disabled {
        return BTreeSet::new();
    }
    roles
        .split_whitespace()
        .filter_map(|r| Role::parse_label(r).ok())
        .filter(|r| r.is_admin() && after.is_none_or(|a| !a.contains(r)))
        .collect()
}

/// Checks [`kaohe_domain::access::check_last_holder`] against the roles of every enabled
/// account after the change (as stored).
pub(crate) fn check_last_holder(
    lost: &BTreeSet<Role>,
    enabled: &[(String,)],
) -> Result<(), StoreError> {
    let holders = |role: Role| {
        enabled
            .iter()
            .filter(|(roles,)| roles.split_whitespace().any(|r| r == role.code()))
            .count()
    };
    Ok(kaohe_domain::access::check_last_holder(
        lost.iter().copied(),
        holders,
    )?)
}

/// The stored id of the session to keep, or one that matches no session.
pub(crate) fn kept_session_id(keep_session: Option<&str>) -> String {
    keep_session.map(session_id).unwrap_or_default()
}

/// Expands the backend-independent [`AccountStore`] implementation for one backend.
macro_rules! impl_account_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::AccountStore for $store {
            async fn create_user(&self, user: &$crate::NewUser, now: i64, audit: &kaohe_domain::NewAuditEntry) -> Result<bool, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query(
                    "INSERT INTO users (username, display_name, password_hash, roles, units, cadre, totp_secret, created_at, must_change_password) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (username) DO NOTHING",
                )
                .bind(&user.username)
                .bind(&user.display_name)
                .bind(&user.password_hash)
                .bind($crate::accounts::roles_text(&user.roles))
                .bind($crate::accounts::units_text(&user.units))
                .bind(user.cadre.as_ref().map(|c| c.as_str()))
                .bind(user.totp_secret.as_deref())
                .bind(now)
                .bind(user.must_change_password)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                Self::append_audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn get_user(&self, username: &str) -> Result<Option<$crate::User>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM users WHERE username = $1", $crate::accounts::USER_COLS);
                sqlx::query_as::<_, $crate::accounts::UserRow>(&sql)
                    .bind(username)
                    .fetch_optional(&self.pool)
                    .await?
                    .map($crate::accounts::UserRow::into_domain)
                    .transpose()
            }

            async fn list_users(&self) -> Result<Vec<$crate::User>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM users ORDER BY username", $crate::accounts::USER_COLS);
                sqlx::query_as::<_, $crate::accounts::UserRow>(&sql)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::accounts::UserRow::into_domain)
                    .collect()
            }

            async fn count_users(&self) -> Result<u64, $crate::StoreError> {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(u64::try_from(n).unwrap_or_default())
            }

            async fn set_password(
                &self,
                username: &str,
                password_hash: &str,
                must_change: bool,
                keep_session: Option<&str>,
                audit: &kaohe_domain::NewAuditEntry,
            ) -> Result<bool, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query(
                    "UPDATE users SET password_hash = $2, must_change_password = $3, failed_logins = 0, \
                     last_failed_at = NULL WHERE username = $1",
                )
                .bind(username)
                .bind(password_hash)
                .bind(must_change)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                sqlx::query("DELETE FROM login_failures WHERE username = $1")
                    .bind(username)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM sessions WHERE username = $1 AND id <> $2")
                    .bind(username)
                    .bind($crate::accounts::kept_session_id(keep_session))
                    .execute(&mut *tx)
                    .await?;
                Self::append_audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn set_disabled(&self, username: &str, disabled: bool, last_holder: $crate::LastHolder, audit: &kaohe_domain::NewAuditEntry) -> Result<bool, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                // Write first, so that SQLite takes its write lock before reading.
                sqlx::query("UPDATE users SET disabled = disabled WHERE username = $1")
                    .bind(username)
                    .execute(&mut *tx)
                    .await?;
                let before: Option<(String, bool)> = sqlx::query_as("SELECT roles, disabled FROM users WHERE username = $1")
                    .bind(username)
                    .fetch_optional(&mut *tx)
                    .await?;
                let lost = match (&before, disabled) {
                    (Some((roles, was_disabled)), true) => $crate::accounts::admin_roles_lost(roles, *was_disabled, None),
                    _ => std::collections::BTreeSet::new(),
                };
                let done = sqlx::query("UPDATE users SET disabled = $2 WHERE username = $1")
                    .bind(username)
                    .bind(disabled)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                if disabled {
                    sqlx::query("DELETE FROM sessions WHERE username = $1")
                        .bind(username)
                        .execute(&mut *tx)
                        .await?;
                }
                Self::append_audit_in(&mut tx, audit).await?;
                if let Err(e) = Self::keep_last_holders(&mut tx, last_holder, &lost).await {
                    // At once: a dropped transaction rolls back only when its connection is
                    // used again, and until then it holds the audit head.
                    tx.rollback().await?;
                    return Err(e);
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn set_grants(&self, username: &str, grants: &$crate::Grants, last_holder: $crate::LastHolder, audit: &kaohe_domain::NewAuditEntry) -> Result<bool, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                // Write first, so that SQLite takes its write lock before reading.
                sqlx::query("UPDATE users SET disabled = disabled WHERE username = $1")
                    .bind(username)
                    .execute(&mut *tx)
                    .await?;
                let before: Option<(String, bool)> = sqlx::query_as("SELECT roles, disabled FROM users WHERE username = $1")
                    .bind(username)
                    .fetch_optional(&mut *tx)
                    .await?;
                let lost = before
                    .as_ref()
                    .map(|(roles, was_disabled)| $crate::accounts::admin_roles_lost(roles, *was_disabled, Some(&grants.roles)))
                    .unwrap_or_default();
                let done = sqlx::query("UPDATE users SET roles = $2, units = $3, cadre = $4 WHERE username = $1")
                    .bind(username)
                    .bind($crate::accounts::roles_text(&grants.roles))
                    .bind($crate::accounts::units_text(&grants.units))
                    .bind(grants.cadre.as_ref().map(|c| c.as_str()))
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                sqlx::query("DELETE FROM sessions WHERE username = $1")
                    .bind(username)
                    .execute(&mut *tx)
                    .await?;
                Self::append_audit_in(&mut tx, audit).await?;
                if let Err(e) = Self::keep_last_holders(&mut tx, last_holder, &lost).await {
                    // At once: a dropped transaction rolls back only when its connection is
                    // used again, and until then it holds the audit head.
                    tx.rollback().await?;
                    return Err(e);
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn set_totp_secret(
                &self,
                username: &str,
                secret: Option<&str>,
                keep_session: Option<&str>,
                audit: &kaohe_domain::NewAuditEntry,
            ) -> Result<bool, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query("UPDATE users SET totp_secret = $2 WHERE username = $1")
                    .bind(username)
                    .bind(secret)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                sqlx::query("DELETE FROM sessions WHERE username = $1 AND id <> $2")
                    .bind(username)
                    .bind($crate::accounts::kept_session_id(keep_session))
                    .execute(&mut *tx)
                    .await?;
                Self::append_audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn login_failures(&self, username: &str, address: &str) -> Result<(u32, Option<i64>), $crate::StoreError> {
                let row: Option<(i32, i64)> = sqlx::query_as(
                    "SELECT failures, last_failed_at FROM login_failures WHERE username = $1 AND address = $2",
                )
                .bind(username)
                .bind(address)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map_or((0, None), |(n, at)| (u32::try_from(n).unwrap_or(0), Some(at))))
            }

            async fn record_login_failure(&self, username: &str, address: &str, failures: u32, at: i64) -> Result<(), $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query("UPDATE users SET failed_logins = failed_logins + 1, last_failed_at = $2 WHERE username = $1")
                    .bind(username)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 1 {
                    sqlx::query(
                        "INSERT INTO login_failures (username, address, failures, last_failed_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (username, address) DO UPDATE SET failures = excluded.failures, last_failed_at = excluded.last_failed_at",
                    )
                    .bind(username)
                    .bind(address)
                    .bind(i32::try_from(failures).unwrap_or(i32::MAX))
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn record_login_success(&self, username: &str, address: &str) -> Result<(), $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("UPDATE users SET failed_logins = 0, last_failed_at = NULL WHERE username = $1")
                    .bind(username)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM login_failures WHERE username = $1 AND address = $2")
                    .bind(username)
                    .bind(address)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn accept_totp_step(&self, username: &str, step: i64) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query(
                    "UPDATE users SET totp_last_step = $2 WHERE username = $1 \
                     AND (totp_last_step IS NULL OR totp_last_step < $2)",
                )
                .bind(username)
                .bind(step)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn create_session(&self, token: &str, username: &str, csrf: &str, now: i64) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO sessions (id, username, csrf, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)",
                )
                .bind($crate::accounts::session_id(token))
                .bind(username)
                .bind(csrf)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn session(&self, token: &str) -> Result<Option<$crate::Session>, $crate::StoreError> {
                let sql = format!(
                    "SELECT {}, s.csrf, s.created_at AS session_created_at, s.last_seen_at \
                     FROM sessions s JOIN users USING (username) WHERE s.id = $1",
                    $crate::accounts::USER_COLS
                        .split(", ")
                        .map(|c| if c == "username" { "username".to_owned() } else { format!("users.{c}") })
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                sqlx::query_as::<_, $crate::accounts::SessionRow>(&sql)
                    .bind($crate::accounts::session_id(token))
                    .fetch_optional(&self.pool)
                    .await?
                    .map($crate::accounts::SessionRow::into_domain)
                    .transpose()
            }

            async fn touch_session(&self, token: &str, now: i64) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1")
                    .bind($crate::accounts::session_id(token))
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_session(&self, token: &str) -> Result<(), $crate::StoreError> {
                sqlx::query("DELETE FROM sessions WHERE id = $1")
                    .bind($crate::accounts::session_id(token))
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_sessions_idle_since(&self, before: i64) -> Result<u64, $crate::StoreError> {
                let done = sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1")
                    .bind(before)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }
        }
    };
}

pub(crate) use impl_account_store;
