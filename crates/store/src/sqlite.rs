//! The SQLite backend: one file, WAL journal, foreign keys enforced.

use crate::sql::impl_store;
use crate::{Backend, CaseTerms, RatingIntake, StoreError, StoredCase, sqlite_bulk};
use kaohe_domain::{Code, NewAuditEntry};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Store on an embedded SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The database file, for the bulk imports' own connection ([`sqlite_bulk`]).
    path: Arc<PathBuf>,
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
        let path = Arc::new(options.get_filename().to_owned());
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Self { pool, path })
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

    /// [`crate::RatingStore::upsert_cases`]: a batch of [`sqlite_bulk::BULK_CASES`] or more on
    /// a blocking thread (a file import), a smaller one through sqlx (the API).
    async fn bulk_upsert_cases(
        &self,
        cases: &[StoredCase],
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        if cases.len() < sqlite_bulk::BULK_CASES {
            return self.upsert_cases_sql(cases, audit).await;
        }
        let (path, cases, audit) = (Arc::clone(&self.path), cases.to_vec(), audit.clone());
        tokio::task::spawn_blocking(move || sqlite_bulk::upsert_cases(&path, &cases, &audit))
            .await?
    }

    /// [`crate::RatingStore::case_terms`], on a blocking thread.
    async fn bulk_case_terms(&self, ids: Vec<Code>) -> Result<Vec<Option<CaseTerms>>, StoreError> {
        let path = Arc::clone(&self.path);
        tokio::task::spawn_blocking(move || sqlite_bulk::case_terms(&path, &ids)).await?
    }

    /// [`crate::RatingStore::import_ratings`], on a blocking thread.
    async fn bulk_import_ratings(
        &self,
        batch: Vec<RatingIntake>,
        audit: NewAuditEntry,
    ) -> Result<Vec<usize>, StoreError> {
        let path = Arc::clone(&self.path);
        tokio::task::spawn_blocking(move || sqlite_bulk::import_ratings(&path, &batch, &audit))
            .await?
    }
}

impl SqliteStore {
    /// Writes value rows of one origin, several rows per statement.
    async fn upsert_values(
        tx: &mut sqlx::Transaction<'_, Sqlite>,
        id: i64,
        origin: &str,
        rows: &[crate::cycles::PersonValues],
    ) -> Result<(), StoreError> {
        for chunk in rows.chunks(crate::sql::BATCH_ROWS) {
            let mut q = sqlx::QueryBuilder::<Sqlite>::new(crate::cycles::VALUES_INSERT);
            q.push_values(chunk, |mut b, (cadre, values)| {
                b.push_bind(id)
                    .push_bind(cadre.as_str())
                    .push_bind(origin)
                    .push_bind(crate::cycles::values_json(values));
            });
            q.push(crate::cycles::VALUES_UPSERT);
            q.build().execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Inserts the results of a revision, several rows per statement.
    async fn insert_results(
        tx: &mut sqlx::Transaction<'_, Sqlite>,
        id: i64,
        revision: i64,
        results: &[crate::cycles::ResultRow],
    ) -> Result<(), StoreError> {
        for chunk in results.chunks(crate::cycles::RESULT_BATCH) {
            let mut q = sqlx::QueryBuilder::<Sqlite>::new(crate::cycles::RESULT_INSERT);
            q.push_values(chunk, |mut b, r| {
                b.push_bind(id)
                    .push_bind(revision)
                    .push_bind(r.cadre.as_str())
                    .push_bind(&r.name)
                    .push_bind(r.unit.as_str())
                    .push_bind(&r.unit_name)
                    .push_bind(r.score)
                    .push_bind(i64::from(r.rank))
                    .push_bind(i64::from(r.rank_in_unit))
                    .push_bind(r.grade_level.map(i32::from))
                    .push_bind(&r.rule)
                    .push_bind(r.flags.join(";"))
                    .push_bind(r.median_rank.map(i64::from))
                    .push_bind(r.p05.map(i64::from))
                    .push_bind(r.p95.map(i64::from))
                    .push_bind(r.p_top)
                    .push_bind(crate::cycles::contributions_json(&r.contributions));
            });
            q.build().execute(&mut **tx).await?;
        }
        Ok(())
    }
}

impl_store!(SqliteStore, Sqlite);
crate::accounts::impl_account_store!(SqliteStore);
crate::tokens::impl_token_store!(SqliteStore);
crate::ratings::impl_rating_store!(SqliteStore, Sqlite);
crate::cycles::impl_cycle_store!(SqliteStore, Sqlite);
crate::records::impl_record_store!(SqliteStore, Sqlite);
crate::polls::impl_poll_store!(SqliteStore, Sqlite);
