//! The PostgreSQL backend.

use crate::ratings::{IMPORT_RECTIFICATIONS, IMPORT_ROWS, LOOKUP_IDS};
use crate::sql::{impl_store, parse_code};
use crate::{Backend, CaseTerms, NewRectification, RatingIntake, StoreError, StoredCase};
use kaohe_domain::{Code, NewAuditEntry};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres};
use std::collections::HashMap;
use std::sync::Arc;
use time::OffsetDateTime;

/// Store on a PostgreSQL server.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    const BACKEND: Backend = Backend::Postgres;

    /// Connects to the database named by a `postgres://…` URL.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await?;
        Ok(Self { pool })
    }

    /// The connection pool, for tests and maintenance commands.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn run_migrations(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    /// [`crate::RatingStore::upsert_cases`].
    async fn bulk_upsert_cases(
        &self,
        cases: &[StoredCase],
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        self.upsert_cases_sql(cases, audit).await
    }

    /// [`crate::RatingStore::case_terms`]: one query per chunk of ids.
    async fn bulk_case_terms(&self, ids: Vec<Code>) -> Result<Vec<Option<CaseTerms>>, StoreError> {
        let mut found: HashMap<String, CaseTerms> = HashMap::with_capacity(ids.len());
        let mut units: HashMap<String, Arc<Code>> = HashMap::new();
        for chunk in ids.chunks(LOOKUP_IDS) {
            let keys: Vec<&str> = chunk.iter().map(Code::as_str).collect();
            let rows: Vec<(String, String, i64, bool)> = sqlx::query_as(
                "SELECT c.id, c.unit, c.closed_at, \
                 EXISTS (SELECT 1 FROM ratings r WHERE r.case_id = c.id) \
                 FROM service_cases c WHERE c.id = ANY($1)",
            )
            .bind(&keys)
            .fetch_all(&self.pool)
            .await?;
            for (id, unit, closed_at, rated) in rows {
                let unit = match units.get(&unit) {
                    Some(code) => Arc::clone(code),
                    None => {
                        let code = Arc::new(parse_code("service_cases", "unit", &unit)?);
                        units.insert(unit, Arc::clone(&code));
                        code
                    }
                };
                let terms = CaseTerms {
                    unit,
                    closed_at: OffsetDateTime::from_unix_timestamp(closed_at).map_err(|e| {
                        StoreError::Corrupt {
                            table: "service_cases",
                            column: "closed_at",
                            reason: e.to_string(),
                        }
                    })?,
                    rated,
                };
                found.insert(id, terms);
            }
        }
        Ok(ids
            .iter()
            .map(|id| found.get(id.as_str()).cloned())
            .collect())
    }

    /// [`crate::RatingStore::import_ratings`]: multi-row statements in one transaction; the
    /// ratings' ids come back for their rectifications.
    async fn bulk_import_ratings(
        &self,
        batch: Vec<RatingIntake>,
        audit: NewAuditEntry,
    ) -> Result<Vec<usize>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut refused = Vec::new();
        let mut sealed: Vec<i64> = Vec::with_capacity(batch.len());
        for (c, chunk) in batch.chunks(IMPORT_ROWS).enumerate() {
            let stored = Self::insert_rating_rows(&mut tx, chunk).await?;
            sealed.extend(stored.iter().map(|(_, id)| *id));
            let needs_ids =
                stored.len() != chunk.len() || chunk.iter().any(|i| i.rectification.is_some());
            if !needs_ids {
                continue;
            }
            let ids: HashMap<&str, i64> = stored
                .iter()
                .map(|(case, id)| (case.as_str(), *id))
                .collect();
            let base = c * IMPORT_ROWS;
            refused.extend(
                chunk
                    .iter()
                    .enumerate()
                    .filter(|(_, i)| !ids.contains_key(i.rating.case_id.as_str()))
                    .map(|(k, _)| base + k),
            );
            if !refused.is_empty() {
                continue;
            }
            let rects: Vec<(i64, &NewRectification)> = chunk
                .iter()
                .filter_map(|i| {
                    Some((
                        *ids.get(i.rating.case_id.as_str())?,
                        i.rectification.as_ref()?,
                    ))
                })
                .collect();
            for part in rects.chunks(IMPORT_RECTIFICATIONS) {
                Self::insert_rectification_rows(&mut tx, part).await?;
            }
        }
        if !refused.is_empty() {
            tx.rollback().await?;
            return Ok(refused);
        }
        Self::seal_ratings_in(&mut tx, &sealed).await?;
        Self::append_audit_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(refused)
    }
}

/// Rows per `UNNEST` insert of results: ten statements for a hundred thousand people.
const RESULT_ARRAYS: usize = 10_000;

/// Rows per `UNNEST` upsert of values: ten statements for a hundred thousand people.
const VALUE_ARRAYS: usize = 10_000;

impl PgStore {
    /// Writes value rows of one origin, one array per column and statement (`UNNEST`): the
    /// hundred thousand rows of a province's gathered values in ten statements, each checked
    /// once by the guard of final cycles (`migrations/postgres/0012_statement_guards.sql`).
    async fn upsert_values(
        tx: &mut sqlx::Transaction<'_, Postgres>,
        id: i64,
        origin: &str,
        rows: &[crate::cycles::PersonValues],
    ) -> Result<(), StoreError> {
        let sql = format!(
            "{}SELECT $1, u.cadre, $2, u.vals FROM UNNEST($3::text[], $4::text[]) AS u (cadre, vals){}",
            crate::cycles::VALUES_INSERT,
            crate::cycles::VALUES_UPSERT
        );
        for chunk in rows.chunks(VALUE_ARRAYS) {
            let cadres: Vec<&str> = chunk.iter().map(|(c, _)| c.as_str()).collect();
            let vals: Vec<String> = chunk
                .iter()
                .map(|(_, v)| crate::cycles::values_json(v))
                .collect();
            sqlx::query(&sql)
                .bind(id)
                .bind(origin)
                .bind(cadres)
                .bind(vals)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Inserts the results of a revision, one array per column and statement (`UNNEST`): a
    /// hundred thousand rows in a hundred statements without a parameter per cell.
    async fn insert_results(
        tx: &mut sqlx::Transaction<'_, Postgres>,
        id: i64,
        revision: i64,
        results: &[crate::cycles::ResultRow],
    ) -> Result<(), StoreError> {
        let sql = format!(
            "{} SELECT $1, $2, * FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], \
             $7::float8[], $8::int8[], $9::int8[], $10::int4[], $11::text[], $12::text[], \
             $13::int8[], $14::int8[], $15::int8[], $16::float8[], $17::text[])",
            crate::cycles::RESULT_INSERT
        );
        for chunk in results.chunks(RESULT_ARRAYS) {
            let col = |f: &dyn Fn(&crate::cycles::ResultRow) -> String| -> Vec<String> {
                chunk.iter().map(f).collect()
            };
            let int = |f: &dyn Fn(&crate::cycles::ResultRow) -> Option<u32>| -> Vec<Option<i64>> {
                chunk.iter().map(|r| f(r).map(i64::from)).collect()
            };
            sqlx::query(&sql)
                .bind(id)
                .bind(revision)
                .bind(col(&|r| r.cadre.to_string()))
                .bind(col(&|r| r.name.clone()))
                .bind(col(&|r| r.unit.to_string()))
                .bind(col(&|r| r.unit_name.clone()))
                .bind(chunk.iter().map(|r| r.score).collect::<Vec<f64>>())
                .bind(int(&|r| Some(r.rank)))
                .bind(int(&|r| Some(r.rank_in_unit)))
                .bind(
                    chunk
                        .iter()
                        .map(|r| r.grade_level.map(i32::from))
                        .collect::<Vec<Option<i32>>>(),
                )
                .bind(col(&|r| r.rule.clone()))
                .bind(col(&|r| r.flags.join(";")))
                .bind(int(&|r| r.median_rank))
                .bind(int(&|r| r.p05))
                .bind(int(&|r| r.p95))
                .bind(chunk.iter().map(|r| r.p_top).collect::<Vec<Option<f64>>>())
                .bind(col(&|r| {
                    crate::cycles::contributions_json(&r.contributions)
                }))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

impl_store!(PgStore, Postgres);
crate::accounts::impl_account_store!(PgStore);
crate::tokens::impl_token_store!(PgStore);
crate::ratings::impl_rating_store!(PgStore, Postgres);
crate::cycles::impl_cycle_store!(PgStore, Postgres);
crate::records::impl_record_store!(PgStore, Postgres);
crate::polls::impl_poll_store!(PgStore, Postgres);
