//! Storage for kaohe: one [`Store`] trait, implemented for SQLite (embedded, the default) and
//! PostgreSQL (large deployments), chosen at run time from the database URL by [`connect`].
//!
//! Both backends run the same SQL (written once, in [`sql`]) through per-backend migrations
//! embedded in the binary. Every write that takes a batch runs in one transaction: a batch is
//! stored whole or not at all.

mod accounts;
mod audit;
pub mod cycles;
mod error;
pub mod files;
mod model;
pub mod polls;
mod postgres;
mod ratings;
pub mod records;
mod sql;
mod sqlite;
mod sqlite_bulk;
#[cfg(feature = "testing")]
pub mod testing;
mod tokens;

pub use accounts::{AccountStore, Grants, LastHolder, NewUser, Session, User, session_id};
pub use audit::{
    AUDIT_PAGE, AuditVerification, for_each_audit_entry, recent_audit_entries, verify_audit,
};
pub use cycles::CycleStore;
pub use error::StoreError;
pub use files::{FileInfo, NewFile};
pub use model::{CadreQuery, Counts, MAX_PER_PAGE, Page, UnitQuery, UnitSummary};
pub use polls::PollStore;
pub use postgres::PgStore;
pub use ratings::{
    Appeal, CaseTerms, Escalation, EscalationCandidate, EscalationError, IntakeOutcome,
    IntakeRefused, NewRectification, QueueItem, RatingFacts, RatingIntake, RatingStore,
    RectificationRecord, RectificationState, StoredCase, StoredStep, escalate_overdue,
};
pub use records::RecordStore;
pub use sqlite::SqliteStore;
pub use tokens::{TokenInfo, TokenStore};

use async_trait::async_trait;
use kaohe_domain::{
    Appointment, AuditEntry, AuditHead, Cadre, CalendarEntry, Code, NewAuditEntry, Sanction, Unit,
};
use std::sync::Arc;

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite, one file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Everything kaohe keeps. Implemented once per backend; the web layer and the CLI hold an
/// `Arc<dyn Store>` and never know which.
#[async_trait]
pub trait Store:
    AccountStore
    + RatingStore
    + TokenStore
    + CycleStore
    + RecordStore
    + PollStore
    + Send
    + Sync
    + 'static
{
    /// The backend behind this store.
    fn backend(&self) -> Backend;

    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Number of rows in each table.
    async fn counts(&self) -> Result<Counts, StoreError>;

    /// Inserts or updates units by code, in one transaction
    /// with its audit entry.
    async fn upsert_units(&self, units: &[Unit], audit: &NewAuditEntry) -> Result<(), StoreError>;
    /// One unit by code.
    async fn get_unit(&self, code: &Code) -> Result<Option<Unit>, StoreError>;
    /// Units matching a query, one page, ordered by code.
    async fn list_units(&self, query: &UnitQuery) -> Result<Page<UnitSummary>, StoreError>;
    /// All units, ordered by code.
    async fn all_units(&self) -> Result<Vec<Unit>, StoreError>;

    /// Inserts or updates cadres by id, in one transaction
    /// with its audit entry.
    async fn upsert_cadres(
        &self,
        cadres: &[Cadre],
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;
    /// One cadre by id.
    async fn get_cadre(&self, id: &Code) -> Result<Option<Cadre>, StoreError>;
    /// Cadres matching a query, one page, ordered by id.
    async fn list_cadres(&self, query: &CadreQuery) -> Result<Page<Cadre>, StoreError>;
    /// All cadres, ordered by id.
    async fn all_cadres(&self) -> Result<Vec<Cadre>, StoreError>;
    /// Ids of all cadres, ordered.
    async fn cadre_ids(&self) -> Result<Vec<Code>, StoreError>;

    /// Inserts or updates appointments, keyed by cadre, unit, post and start date, in one
    /// transaction with its audit entry.
    async fn upsert_appointments(
        &self,
        appointments: &[Appointment],
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;
    /// A cadre's appointment history, oldest first.
    async fn appointments_of(&self, cadre: &Code) -> Result<Vec<Appointment>, StoreError>;
    /// All appointments, by cadre then start date.
    async fn all_appointments(&self) -> Result<Vec<Appointment>, StoreError>;

    /// Inserts or updates sanctions by id, in one transaction
    /// with its audit entry.
    async fn upsert_sanctions(
        &self,
        sanctions: &[Sanction],
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;
    /// A cadre's sanctions, oldest first.
    async fn sanctions_of(&self, cadre: &Code) -> Result<Vec<Sanction>, StoreError>;
    /// All sanctions, ordered by id.
    async fn all_sanctions(&self) -> Result<Vec<Sanction>, StoreError>;

    /// Inserts or updates calendar entries by date, in one transaction
    /// with its audit entry.
    async fn upsert_calendar(
        &self,
        entries: &[CalendarEntry],
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;
    /// All calendar entries, by date.
    async fn calendar(&self) -> Result<Vec<CalendarEntry>, StoreError>;

    /// Appends an event that changes no table (a login, an export of personal data) to the
    /// audit log, in its own transaction. Changes of data append theirs in their own
    /// transaction (the `audit` argument of the write methods).
    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError>;
    /// Up to `limit` audit entries from sequence number `from_seq` on, in sequence order.
    async fn audit_entries(&self, from_seq: i64, limit: u32)
    -> Result<Vec<AuditEntry>, StoreError>;
    /// The latest audit entry with this action, if any.
    async fn last_audit_of(&self, action: &str) -> Result<Option<AuditEntry>, StoreError>;
    /// The audit head the database recorded with the last append (genesis when empty).
    async fn audit_head(&self) -> Result<AuditHead, StoreError>;
}

/// Opens the store named by a URL (`sqlite://PATH` or `postgres://…`), creating an SQLite file
/// if missing, and applies migrations.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        Arc::new(SqliteStore::open(url).await?)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Arc::new(PgStore::open(url).await?)
    } else {
        return Err(StoreError::UnsupportedUrl(redact_url(url)));
    };
    store.migrate().await?;
    store.seal_unsealed().await?;
    Ok(store)
}

/// A database URL with any password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
