//! The SQLite backend: one file, WAL journal, foreign keys enforced.

use crate::sql::impl_store;
use crate::{Backend, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// Store on an embedded SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    const BACKEND: Backend = Backend::Sqlite;

    /// Opens (creating if missing) the database file named by a `sqlite://PATH` URL, in WAL
    /// mode with foreign keys on and `synchronous = FULL`, so that a committed transaction
    /// survives power loss. Each connection caches up to 64 MiB of pages (SQLite's default is
    /// 2 MiB), which bulk imports and lookups over millions of rows need.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .pragma("cache_size", "-65536")
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    /// The connection pool, for tests and maintenance commands.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.pool)
            .await?;
        Ok(())
    }
}

impl_store!(SqliteStore, Sqlite);
crate::accounts::impl_account_store!(SqliteStore);
crate::tokens::impl_token_store!(SqliteStore);
crate::service::impl_service_store!(SqliteStore, Sqlite);
