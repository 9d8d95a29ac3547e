//! Test support: a fresh database per test on each backend under test.
//!
//! SQLite always runs, in a temporary directory. PostgreSQL runs when
//! `KAOHE_TEST_DATABASE_URL` names a server (any database on it: a uniquely named database
//! is created for each test and dropped afterwards). Under `CI=true` a missing
//! `KAOHE_TEST_DATABASE_URL` is an error, so CI cannot silently skip PostgreSQL.

use crate::{Store, StoreError, connect};
use sqlx::Connection;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The variable naming the PostgreSQL server for tests.
pub const PG_URL_VAR: &str = "KAOHE_TEST_DATABASE_URL";

/// A fresh, migrated database for one test.
pub struct TestDatabase {
    /// The store on it.
    pub store: Arc<dyn Store>,
    /// Its URL, for starting the binary or a server on it.
    pub url: String,
    /// Backend name, for assertion messages.
    pub name: &'static str,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite { _dir: tempfile::TempDir },
    Postgres { admin_url: String, database: String },
}

/// Why the test databases could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TestDbError {
    /// Under CI the PostgreSQL URL must be set.
    #[error("CI=true but {PG_URL_VAR} is not set: the PostgreSQL suite must run in CI")]
    MissingPostgres,
    /// Temporary directory.
    #[error("temporary directory: {0}")]
    Io(#[from] std::io::Error),
    /// Database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Creating or dropping the PostgreSQL database.
    #[error("postgres admin: {0}")]
    Admin(#[from] sqlx::Error),
}

/// A name no other test run uses at the same time.
pub fn unique_name(prefix: &str) -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    format!("{}/{}{}", &base[..path_start], database, query)
}

impl TestDatabase {
    /// A fresh SQLite database in a temporary directory.
    pub async fn sqlite() -> Result<Self, TestDbError> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("kaohe.db").display());
        let store = connect(&url).await?;
        Ok(Self {
            store,
            url,
            name: "sqlite",
            cleanup: Cleanup::Sqlite { _dir: dir },
        })
    }

    /// A fresh PostgreSQL database on the server named by `admin_url`.
    pub async fn postgres(admin_url: &str) -> Result<Self, TestDbError> {
        let database = unique_name("kaohe_test");
        let mut admin = sqlx::PgConnection::connect(admin_url).await?;
        sqlx::query(&format!("CREATE DATABASE {database}"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        let url = with_database(admin_url, &database);
        let store = connect(&url).await?;
        Ok(Self {
            store,
            url,
            name: "postgres",
            cleanup: Cleanup::Postgres {
                admin_url: admin_url.to_owned(),
                database,
            },
        })
    }

    /// One fresh database per backend under test: SQLite, and PostgreSQL when configured.
    pub async fn all() -> Result<Vec<Self>, TestDbError> {
        let mut dbs = vec![Self::sqlite().await?];
        match std::env::var(PG_URL_VAR) {
            Ok(url) if !url.is_empty() => dbs.push(Self::postgres(&url).await?),
            _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
                return Err(TestDbError::MissingPostgres);
            }
            _ => {}
        }
        Ok(dbs)
    }

    /// Runs SQL on a raw connection of its own, bypassing the store, as someone with direct
    /// access to the database would (tests of tamper resistance). Several statements may be
    /// given, separated by `;`.
    pub async fn raw_execute(&self, sql: &str) -> Result<(), sqlx::Error> {
        match self.cleanup {
            Cleanup::Sqlite { .. } => {
                let mut conn = sqlx::SqliteConnection::connect(&self.url).await?;
                sqlx::raw_sql(sql).execute(&mut conn).await?;
                conn.close().await
            }
            Cleanup::Postgres { .. } => {
                let mut conn = sqlx::PgConnection::connect(&self.url).await?;
                sqlx::raw_sql(sql).execute(&mut conn).await?;
                conn.close().await
            }
        }
    }

    /// Drops the database (PostgreSQL) or its directory (SQLite).
    pub async fn finish(self) -> Result<(), TestDbError> {
        let Self { store, cleanup, .. } = self;
        drop(store);
        if let Cleanup::Postgres {
            admin_url,
            database,
        } = cleanup
        {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                .execute(&mut admin)
                .await?;
            admin.close().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_database_name() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h:5432", "x"),
            "postgres://u@h:5432/x"
        );
    }
}
