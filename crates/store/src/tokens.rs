//! API tokens of service systems (接入系统): a service system pushes cases and ratings with
//! `Authorization: Bearer <token>`. Only the token's SHA-256 is stored.

use crate::{StoreError, User};
use async_trait::async_trait;
use kaohe_domain::NewAuditEntry;

/// A token as listed: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// Public id, shown in lists and used to revoke.
    pub id: String,
    /// Account the token acts as.
    pub username: String,
    /// What it is for, e.g. the name of the service system.
    pub label: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, once revoked.
    pub revoked_at: Option<i64>,
}

/// Storage of API tokens.
#[async_trait]
pub trait TokenStore {
    /// Stores a new token (its hash), in one transaction with its audit entry.
    async fn create_token(
        &self,
        info: &TokenInfo,
        hash: &str,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;
    /// The account of a token that is not revoked, by the token's hash.
    async fn token_user(&self, hash: &str) -> Result<Option<User>, StoreError>;
    /// Revokes a token; false when there is no such token or it was revoked already.
    async fn revoke_token(
        &self,
        id: &str,
        at: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// Every token, newest first.
    async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError>;
}

/// Expands the backend-independent [`TokenStore`] implementation for one backend.
macro_rules! impl_token_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::TokenStore for $store {
            async fn create_token(&self, info: &$crate::TokenInfo, hash: &str, audit: &kaohe_domain::NewAuditEntry) -> Result<(), $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("INSERT INTO api_tokens (id, hash, username, label, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&info.id)
                    .bind(hash)
                    .bind(&info.username)
                    .bind(&info.label)
                    .bind(info.created_at)
                    .execute(&mut *tx)
                    .await?;
                Self::append_audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn token_user(&self, hash: &str) -> Result<Option<$crate::User>, $crate::StoreError> {
                let sql = format!(
                    "SELECT {} FROM users WHERE username = \
                     (SELECT username FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL)",
                    $crate::accounts::USER_COLS
                );
                sqlx::query_as::<_, $crate::accounts::UserRow>(&sql)
                    .bind(hash)
                    .fetch_optional(&self.pool)
                    .await?
                    .map($crate::accounts::UserRow::into_domain)
                    .transpose()
            }

            async fn revoke_token(&self, id: &str, at: i64, audit: &kaohe_domain::NewAuditEntry) -> Result<bool, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id)
                    .bind(at)
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

            async fn list_tokens(&self) -> Result<Vec<$crate::TokenInfo>, $crate::StoreError> {
                let rows: Vec<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
                    "SELECT id, username, label, created_at, revoked_at FROM api_tokens ORDER BY created_at DESC, id",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, username, label, created_at, revoked_at)| $crate::TokenInfo {
                        id,
                        username,
                        label,
                        created_at,
                        revoked_at,
                    })
                    .collect())
            }
        }
    };
}
pub(crate) use impl_token_store;
