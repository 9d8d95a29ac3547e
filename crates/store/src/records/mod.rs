//! Storage of work records (全程纪实): records, their reviews and evidence files, written once
//! for both backends ([`impl_record_store!`]), and the steps that check them before they are
//! stored ([`work`]).
//!
//! Nothing is ever changed or deleted: triggers in `migrations/*/0008_records.sql` refuse every
//! UPDATE and DELETE (and, on SQLite, every `INSERT OR REPLACE`) of the three tables. The rules
//! (what a record must hold, when it counts) live in `kaohe_domain::records`; how counted
//! points become an indicator's value is the framework's `RecordRule`.

pub mod work;

use crate::StoreError;
use crate::files::{FileInfo, NewFile};
use crate::sql::{label, parse_code};
use async_trait::async_trait;
use kaohe_domain::records::{RecordKind, RecordSource, RecordState, Verdict};
use kaohe_domain::{Code, NewAuditEntry};
use time::Date;

/// A review given with a record as it is stored (records imported with their verification,
/// generated records).
#[derive(Debug, Clone, PartialEq)]
pub struct NewReview {
    /// Verified or rejected.
    pub verdict: Verdict,
    /// Why (required for a rejection).
    pub reason: String,
    /// Who reviewed.
    pub by: String,
    /// When, unix seconds.
    pub at: i64,
}

/// A record to store, already checked (`work::prepare`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecord {
    /// The official.
    pub cadre: Code,
    /// Date of the fact.
    pub date: Date,
    /// Positive or negative.
    pub kind: RecordKind,
    /// Framework id and version of the indicator.
    pub framework: (String, String),
    /// The indicator it speaks to.
    pub indicator: String,
    /// Points, within the indicator's range.
    pub points: f64,
    /// What happened.
    pub description: String,
    /// Where it was seen.
    pub source: RecordSource,
    /// The record it corrects and why, for an amendment (更正).
    pub amends: Option<(i64, String)>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When, unix seconds.
    pub recorded_at: i64,
    /// Evidence files.
    pub files: Vec<NewFile>,
    /// Its review, when it comes already reviewed.
    pub review: Option<NewReview>,
}

/// A stored review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// Verified or rejected.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
    /// Who reviewed.
    pub by: String,
    /// When, unix seconds.
    pub at: i64,
}

/// A stored record with its review and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Number given by the store.
    pub id: i64,
    /// The official.
    pub cadre: Code,
    /// The official's name.
    pub cadre_name: String,
    /// The official's unit today.
    pub unit: Code,
    /// Date of the fact.
    pub date: Date,
    /// Positive or negative.
    pub kind: RecordKind,
    /// Framework id.
    pub framework_id: String,
    /// Framework version.
    pub framework_version: String,
    /// The indicator.
    pub indicator: String,
    /// Points.
    pub points: f64,
    /// What happened.
    pub description: String,
    /// Where it was seen.
    pub source: RecordSource,
    /// The record this one corrects.
    pub amends: Option<i64>,
    /// Why it corrects it.
    pub reason: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
    /// When, unix seconds.
    pub recorded_at: i64,
    /// Its review, if any.
    pub review: Option<Review>,
    /// The verified amendment that corrects it, if any.
    pub corrected_by: Option<i64>,
    /// Number of evidence files.
    pub files: i64,
}

impl Record {
    /// Where it stands.
    pub fn state(&self) -> RecordState {
        RecordState::of(
            self.review.as_ref().map(|r| r.verdict),
            self.corrected_by.is_some(),
        )
    }
}

/// Which records to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordQuery {
    /// One official's.
    pub cadre: Option<Code>,
    /// Those of officials whose unit is one of these (`None`: any unit).
    pub units: Option<Vec<Code>>,
    /// Facts on or after.
    pub from: Option<Date>,
    /// Facts on or before.
    pub to: Option<Date>,
    /// Only those awaiting review.
    pub pending: bool,
    /// Only those of this indicator.
    pub indicator: Option<String>,
    /// At most this many (`None`: all).
    pub limit: Option<i64>,
}

/// The counted points of one official on one indicator of a kind, over a period.
#[derive(Debug, Clone, PartialEq)]
pub struct PointSum {
    /// The official.
    pub cadre: Code,
    /// The indicator.
    pub indicator: String,
    /// The kind.
    pub kind: RecordKind,
    /// Sum of the points of the counted records.
    pub points: f64,
}

/// Work records (全程纪实), their reviews and evidence.
#[async_trait]
pub trait RecordStore {
    /// Stores records, their evidence and any reviews given with them, all or nothing, with
    /// the audit entry; returns their numbers. `in_database`: whether the files' content is
    /// kept in the database (else the evidence directory has it already).
    async fn add_records(
        &self,
        records: &[NewRecord],
        in_database: bool,
        audit: &NewAuditEntry,
    ) -> Result<Vec<i64>, StoreError>;
    /// One record.
    async fn record(&self, id: i64) -> Result<Option<Record>, StoreError>;
    /// Records matching a query, newest fact first.
    async fn records(&self, query: &RecordQuery) -> Result<Vec<Record>, StoreError>;
    /// The amendments that name a record, oldest first.
    async fn amendments_of(&self, id: i64) -> Result<Vec<Record>, StoreError>;
    /// Reviews a record once; refused when it has been reviewed already.
    async fn review_record(
        &self,
        id: i64,
        review: &NewReview,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;
    /// The evidence files of a record.
    async fn record_files(&self, id: i64) -> Result<Vec<FileInfo>, StoreError>;
    /// One evidence file of a record, with what the database kept of its content.
    async fn record_file(
        &self,
        record: i64,
        file: i64,
    ) -> Result<Option<(FileInfo, Option<Vec<u8>>)>, StoreError>;
    /// The counted points (verified, not corrected) of every official on the indicators of
    /// framework `framework_id`, by indicator and kind, for facts in `from..=to`: summed by the
    /// database.
    async fn point_sums(
        &self,
        framework_id: &str,
        from: Date,
        to: Date,
    ) -> Result<Vec<PointSum>, StoreError>;
}

pub(crate) const RECORD_COLS: &str = "r.id, r.cadre, c.name AS cadre_name, c.unit, r.fact_date, \
    r.kind, r.framework_id, r.framework_version, r.indicator, r.points, r.description, r.source, \
    r.amends, r.reason, r.recorded_by, r.recorded_at, v.verdict, v.reason AS review_reason, \
    v.reviewed_by, v.reviewed_at, \
    (SELECT MIN(a.id) FROM records a JOIN record_reviews av ON av.record_id = a.id \
     WHERE a.amends = r.id AND av.verdict = 'verified') AS corrected_by, \
    (SELECT COUNT(*) FROM record_files f WHERE f.record_id = r.id) AS files \
    FROM records r JOIN cadres c ON c.id = r.cadre \
    LEFT JOIN record_reviews v ON v.record_id = r.id";

#[derive(sqlx::FromRow)]
pub(crate) struct RecordRow {
    id: i64,
    cadre: String,
    cadre_name: String,
    unit: String,
    fact_date: Date,
    kind: String,
    framework_id: String,
    framework_version: String,
    indicator: String,
    points: f64,
    description: String,
    source: String,
    amends: Option<i64>,
    reason: Option<String>,
    recorded_by: String,
    recorded_at: i64,
    verdict: Option<String>,
    review_reason: Option<String>,
    reviewed_by: Option<String>,
    reviewed_at: Option<i64>,
    corrected_by: Option<i64>,
    files: i64,
}

impl RecordRow {
    pub(crate) fn into_domain(self) -> Result<Record, StoreError> {
        let review = match (self.verdict, self.reviewed_by, self.reviewed_at) {
            (Some(v), Some(by), Some(at)) => Some(Review {
                verdict: label("record_reviews", "verdict", &v)?,
                reason: self.review_reason.unwrap_or_default(),
                by,
                at,
            }),
            _ => None,
        };
        Ok(Record {
            id: self.id,
            cadre: parse_code("records", "cadre", &self.cadre)?,
            cadre_name: self.cadre_name,
            unit: parse_code("cadres", "unit", &self.unit)?,
            date: self.fact_date,
            kind: label("records", "kind", &self.kind)?,
            framework_id: self.framework_id,
            framework_version: self.framework_version,
            indicator: self.indicator,
            points: self.points,
            description: self.description,
            source: label("records", "source", &self.source)?,
            amends: self.amends,
            reason: self.reason,
            recorded_by: self.recorded_by,
            recorded_at: self.recorded_at,
            review,
            corrected_by: self.corrected_by,
            files: self.files,
        })
    }
}

/// The sums of counted points, by official, indicator and kind. The records corrected by a
/// verified amendment are found once, through the partial index of amendments, instead of a
/// lookup per record; the rest walks the covering index `records_sums` in group order.
pub(crate) const POINT_SUMS: &str = "SELECT r.cadre, r.indicator, r.kind, SUM(r.points) \
    FROM records r JOIN record_reviews v ON v.record_id = r.id \
    WHERE v.verdict = 'verified' AND r.framework_id = $1 AND r.fact_date >= $2 \
    AND r.fact_date <= $3 AND r.id NOT IN (SELECT a.amends FROM records a \
    WHERE a.amends IS NOT NULL AND EXISTS (SELECT 1 FROM record_reviews av \
    WHERE av.record_id = a.id AND av.verdict = 'verified')) \
    GROUP BY r.cadre, r.indicator, r.kind";

/// Records in one insert from which PostgreSQL's statistics of the records are refreshed
/// (`ANALYZE`) after it: without them the planner takes the quarter's sums right after a bulk
/// load for a handful of rows and walks nested loops (docs/performance.md).
pub(crate) const ANALYZE_AFTER: usize = 10_000;

/// Rows per multi-row insert of records: 14 parameters a row, within SQLite's limit.
pub(crate) const RECORD_BATCH: usize = 2000;

/// Expands [`RecordStore`] for one backend.
macro_rules! impl_record_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::records::RecordStore for $store {
            async fn add_records(&self, records: &[$crate::records::NewRecord], in_database: bool, audit: &kaohe_domain::NewAuditEntry) -> Result<Vec<i64>, $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut tx = self.pool.begin().await?;
                // The audit entry first: on SQLite it takes the write lock, so the numbers
                // read next are this transaction's alone.
                Self::append_audit_in(&mut tx, audit).await?;
                let ids: Vec<i64> = match $crate::Store::backend(self) {
                    $crate::Backend::Sqlite => {
                        // Records are never deleted, so the next numbers follow the largest.
                        let (last,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM records")
                            .fetch_one(&mut *tx).await?;
                        (1..=records.len() as i64).map(|k| last + k).collect()
                    }
                    $crate::Backend::Postgres => {
                        let rows: Vec<(i64,)> = sqlx::query_as(
                            "SELECT nextval(pg_get_serial_sequence('records', 'id')) FROM generate_series(1, $1)")
                            .bind(records.len() as i64).fetch_all(&mut *tx).await?;
                        rows.into_iter().map(|(id,)| id).collect()
                    }
                };
                let numbered: Vec<(i64, &$crate::records::NewRecord)> = ids.iter().copied().zip(records.iter()).collect();
                for chunk in numbered.chunks($crate::records::RECORD_BATCH) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO records (id, cadre, fact_date, kind, framework_id, framework_version, indicator, points, description, source, amends, reason, recorded_by, recorded_at) ");
                    q.push_values(chunk, |mut b, (id, r)| {
                        b.push_bind(*id).push_bind(r.cadre.as_str()).push_bind(r.date).push_bind(r.kind.code())
                            .push_bind(&r.framework.0).push_bind(&r.framework.1).push_bind(&r.indicator)
                            .push_bind(r.points).push_bind(&r.description).push_bind(r.source.code())
                            .push_bind(r.amends.as_ref().map(|a| a.0)).push_bind(r.amends.as_ref().map(|a| a.1.as_str()))
                            .push_bind(&r.recorded_by).push_bind(r.recorded_at);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                let reviews: Vec<(i64, &$crate::records::NewReview)> = numbered.iter()
                    .filter_map(|(id, r)| r.review.as_ref().map(|v| (*id, v))).collect();
                for chunk in reviews.chunks($crate::sql::BATCH_ROWS) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO record_reviews (record_id, verdict, reason, reviewed_by, reviewed_at) ");
                    q.push_values(chunk, |mut b, (id, v)| {
                        b.push_bind(*id).push_bind(v.verdict.code()).push_bind(&v.reason).push_bind(&v.by).push_bind(v.at);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                for (id, r) in &numbered {
                    for f in &r.files {
                        sqlx::query("INSERT INTO record_files (record_id, name, kind, size, sha256, data) VALUES ($1, $2, $3, $4, $5, $6)")
                            .bind(*id).bind(&f.name).bind(f.kind.code()).bind(f.bytes.len() as i64).bind(&f.sha256)
                            .bind(in_database.then_some(f.bytes.as_slice()))
                            .execute(&mut *tx).await?;
                    }
                }
                tx.commit().await?;
                if records.len() >= $crate::records::ANALYZE_AFTER
                    && $crate::Store::backend(self) == $crate::Backend::Postgres
                {
                    // Fresh statistics, so that the sums right after a bulk load plan as hash
                    // joins; the records are stored whatever happens here.
                    if let Err(e) = sqlx::query("ANALYZE records, record_reviews").execute(&self.pool).await {
                        tracing::warn!(error = %e, "statistics of the records not refreshed");
                    }
                }
                Ok(ids)
            }

            async fn record(&self, id: i64) -> Result<Option<$crate::records::Record>, $crate::StoreError> {
                let row: Option<$crate::records::RecordRow> = sqlx::query_as(&format!("SELECT {} WHERE r.id = $1", $crate::records::RECORD_COLS))
                    .bind(id).fetch_optional(&self.pool).await?;
                row.map($crate::records::RecordRow::into_domain).transpose()
            }

            async fn records(&self, query: &$crate::records::RecordQuery) -> Result<Vec<$crate::records::Record>, $crate::StoreError> {
                let mut q = sqlx::QueryBuilder::<$db>::new(format!("SELECT {} WHERE 1 = 1", $crate::records::RECORD_COLS));
                if let Some(c) = &query.cadre {
                    q.push(" AND r.cadre = ").push_bind(c.as_str());
                }
                if let Some(units) = &query.units {
                    if units.is_empty() {
                        return Ok(Vec::new());
                    }
                    q.push(" AND c.unit IN (");
                    let mut sep = q.separated(", ");
                    for u in units {
                        sep.push_bind(u.as_str());
                    }
                    q.push(")");
                }
                if let Some(d) = query.from {
                    q.push(" AND r.fact_date >= ").push_bind(d);
                }
                if let Some(d) = query.to {
                    q.push(" AND r.fact_date <= ").push_bind(d);
                }
                if let Some(i) = &query.indicator {
                    q.push(" AND r.indicator = ").push_bind(i.as_str());
                }
                if query.pending {
                    q.push(" AND v.record_id IS NULL");
                }
                q.push(" ORDER BY r.fact_date DESC, r.id DESC");
                if let Some(n) = query.limit {
                    q.push(" LIMIT ").push_bind(n);
                }
                let rows: Vec<$crate::records::RecordRow> = q.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map($crate::records::RecordRow::into_domain).collect()
            }

            async fn amendments_of(&self, id: i64) -> Result<Vec<$crate::records::Record>, $crate::StoreError> {
                let rows: Vec<$crate::records::RecordRow> = sqlx::query_as(&format!("SELECT {} WHERE r.amends = $1 ORDER BY r.id", $crate::records::RECORD_COLS))
                    .bind(id).fetch_all(&self.pool).await?;
                rows.into_iter().map($crate::records::RecordRow::into_domain).collect()
            }

            async fn review_record(&self, id: i64, review: &$crate::records::NewReview, audit: &kaohe_domain::NewAuditEntry) -> Result<(), $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut tx = self.pool.begin().await?;
                Self::append_audit_in(&mut tx, audit).await?;
                let seen: Option<(i64,)> = sqlx::query_as("SELECT record_id FROM record_reviews WHERE record_id = $1")
                    .bind(id).fetch_optional(&mut *tx).await?;
                if seen.is_some() {
                    return Err($crate::StoreError::Conflict(format!("record {id} has been reviewed already")));
                }
                sqlx::query("INSERT INTO record_reviews (record_id, verdict, reason, reviewed_by, reviewed_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(id).bind(review.verdict.code()).bind(&review.reason).bind(&review.by).bind(review.at)
                    .execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn record_files(&self, id: i64) -> Result<Vec<$crate::FileInfo>, $crate::StoreError> {
                let rows: Vec<(i64, String, String, i64, String)> = sqlx::query_as(
                    "SELECT id, name, kind, size, sha256 FROM record_files WHERE record_id = $1 ORDER BY id")
                    .bind(id).fetch_all(&self.pool).await?;
                rows.into_iter().map(|(id, name, kind, size, sha256)| $crate::files::file_info("record_files", id, name, &kind, size, sha256)).collect()
            }

            async fn record_file(&self, record: i64, file: i64) -> Result<Option<($crate::FileInfo, Option<Vec<u8>>)>, $crate::StoreError> {
                let row: Option<(i64, String, String, i64, String, Option<Vec<u8>>)> = sqlx::query_as(
                    "SELECT id, name, kind, size, sha256, data FROM record_files WHERE record_id = $1 AND id = $2")
                    .bind(record).bind(file).fetch_optional(&self.pool).await?;
                row.map(|(id, name, kind, size, sha256, data)| {
                    Ok(($crate::files::file_info("record_files", id, name, &kind, size, sha256)?, data))
                }).transpose()
            }

            async fn point_sums(&self, framework_id: &str, from: time::Date, to: time::Date) -> Result<Vec<$crate::records::PointSum>, $crate::StoreError> {
                let rows: Vec<(String, String, String, f64)> = sqlx::query_as($crate::records::POINT_SUMS)
                    .bind(framework_id).bind(from).bind(to).fetch_all(&self.pool).await?;
                rows.into_iter().map(|(cadre, indicator, kind, points)| Ok($crate::records::PointSum {
                    cadre: $crate::sql::parse_code("records", "cadre", &cadre)?,
                    indicator,
                    kind: $crate::sql::label("records", "kind", &kind)?,
                    points,
                })).collect()
            }
        }
    };
}

pub(crate) use impl_record_store;
