//! Storage of assessment cycles (考核周期): framework versions, cycles with their scope and
//! people, gathered values, results by revision and committee decisions, written once for both
//! backends ([`impl_cycle_store!`]); and the steps of a cycle's life ([`work`]), which gather,
//! call the scoring engine and store what it decided.
//!
//! The rules (which step may follow which, the period of a kind, the committee's quota check)
//! live in `kaohe_domain::cycles`. Final results are guarded by triggers
//! (`migrations/*/0007_cycles.sql`, the values' guard since `0012_statement_guards.sql`): a
//! locked revision and its results never change, a final cycle moves only to an amendment.

pub mod profile;
pub mod work;

use crate::StoreError;
use crate::sql::{label, parse_code};
use async_trait::async_trait;
use kaohe_domain::cycles::{
    CycleKind, CycleState, Decision, Period, ScopeChange, ScopeChangeKind, ValueOrigin,
};
use kaohe_domain::{Code, NewAuditEntry};
use time::Date;

/// A framework version to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFramework {
    /// Framework id (`id` of the TOML).
    pub id: String,
    /// Version (`version` of the TOML).
    pub version: String,
    /// Name, in Chinese.
    pub name: String,
    /// The TOML source, exactly as given.
    pub source: String,
    /// `preset` (shipped in the binary) or `upload`.
    pub origin: String,
}

/// A stored framework version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFramework {
    /// Framework id.
    pub id: String,
    /// Version.
    pub version: String,
    /// Name.
    pub name: String,
    /// The TOML source.
    pub source: String,
    /// SHA-256 of the source, hex.
    pub digest: String,
    /// `preset` or `upload`.
    pub origin: String,
    /// When stored, unix seconds.
    pub created_at: i64,
    /// Who stored it.
    pub created_by: String,
    /// Cycles that use it.
    pub cycles: i64,
}

/// A cadre in a cycle, as of the period's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CyclePerson {
    /// The cadre.
    pub cadre: Code,
    /// Name.
    pub name: String,
    /// Unit served in on the period's last day.
    pub unit: Code,
    /// That unit's name.
    pub unit_name: String,
    /// Member of the unit's leadership team (a separate quota group).
    pub is_leader: bool,
}

/// A cycle to create.
#[derive(Debug, Clone)]
pub struct NewCycle {
    /// Name, e.g. 2026年度考核.
    pub name: String,
    /// Kind.
    pub kind: CycleKind,
    /// Period.
    pub period: Period,
    /// Framework id and version.
    pub framework: (String, String),
    /// The value columns, in the order of every values array.
    pub columns: Vec<String>,
    /// The units named as its scope.
    pub units: Vec<Code>,
    /// The people, as of the period's end.
    pub people: Vec<CyclePerson>,
    /// Changes of the scope during the period.
    pub changes: Vec<ScopeChange>,
}

/// A stored cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct Cycle {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: CycleKind,
    /// Period.
    pub period: Period,
    /// Framework id.
    pub framework_id: String,
    /// Framework version.
    pub framework_version: String,
    /// State.
    pub state: CycleState,
    /// Value columns.
    pub columns: Vec<String>,
    /// Changes of the scope during the period.
    pub changes: Vec<ScopeChange>,
    /// The revision whose results are current (0: none yet).
    pub revision: i64,
    /// When created, unix seconds.
    pub created_at: i64,
    /// Who created it.
    pub created_by: String,
    /// Number of people.
    pub people: i64,
}

/// One person's values, aligned with a cycle's columns (`None`: missing).
pub type PersonValues = (Code, Vec<Option<f64>>);

/// Values of one person from one origin, aligned with the cycle's columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueRow {
    /// The cadre.
    pub cadre: Code,
    /// `import`, `ratings`, or `amendment:N`.
    pub origin: String,
    /// One per column; `None` = missing.
    pub values: Vec<Option<f64>>,
}

kaohe_domain::labeled_enum! {
    /// What made a revision of a cycle's results.
    pub enum RevisionKind: "revision kind" {
        /// 计算: a computation (replaced by the next one until final).
        Compute = ("compute", "计算", "Computation"),
        /// 定稿: the final result, with the committee's decisions.
        Final = ("final", "定稿", "Final"),
        /// 更正: an amendment of the final result.
        Amendment = ("amendment", "更正", "Amendment"),
    }
}

/// A revision of a cycle's results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// Number, from 1.
    pub revision: i64,
    /// What made it.
    pub kind: RevisionKind,
    /// The reason of an amendment.
    pub reason: Option<String>,
    /// What the engine reported beside the people (JSON: thresholds, weights, quota lines,
    /// warnings).
    pub summary: String,
    /// Final or amendment: never changes.
    pub locked: bool,
    /// When, unix seconds.
    pub created_at: i64,
    /// Who.
    pub created_by: String,
}

/// One person's result in a revision.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// The cadre.
    pub cadre: Code,
    /// Name.
    pub name: String,
    /// Unit.
    pub unit: Code,
    /// Unit name.
    pub unit_name: String,
    /// Composite score, 0–100.
    pub score: f64,
    /// Rank among all assessed (1 = best).
    pub rank: u32,
    /// Rank within the unit.
    pub rank_in_unit: u32,
    /// Grade level on the cycle's scale (0 = best); `None` = 不定等次.
    pub grade_level: Option<u8>,
    /// The rule that set the grade (engine code, or `committee:…`).
    pub rule: String,
    /// Flags for review.
    pub flags: Vec<String>,
    /// Median rank over the Monte Carlo draws.
    pub median_rank: Option<u32>,
    /// 5th percentile of the rank.
    pub p05: Option<u32>,
    /// 95th percentile of the rank.
    pub p95: Option<u32>,
    /// Share of draws with the top grade.
    pub p_top: Option<f64>,
    /// Contribution of each indicator (in the order of the summary's indicators).
    pub contributions: Vec<f64>,
}

/// A recorded committee decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDecision {
    /// Id.
    pub id: i64,
    /// The computed revision it was taken on.
    pub revision: i64,
    /// The person.
    pub cadre: Code,
    /// What was decided.
    pub decision: Decision,
    /// Why.
    pub reason: String,
    /// Who decided.
    pub decided_by: String,
    /// When, unix seconds.
    pub decided_at: i64,
}

/// Storage of assessment cycles. Every change is one transaction with its audit entry.
#[async_trait]
pub trait CycleStore {
    /// Stores a framework version unless one with that id and version exists: `true` when
    /// stored, `false` when the same source is stored already; an error
    /// ([`StoreError::Conflict`]) when a different source holds that version.
    async fn save_framework(
        &self,
        fw: &NewFramework,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// One framework version.
    async fn framework(
        &self,
        id: &str,
        version: &str,
    ) -> Result<Option<StoredFramework>, StoreError>;
    /// Every stored framework version, by id then time.
    async fn frameworks(&self) -> Result<Vec<StoredFramework>, StoreError>;

    /// Creates a cycle in draft with its units and people; returns its id.
    async fn create_cycle(
        &self,
        cycle: &NewCycle,
        audit: &NewAuditEntry,
    ) -> Result<i64, StoreError>;
    /// One cycle.
    async fn cycle(&self, id: i64) -> Result<Option<Cycle>, StoreError>;
    /// Every cycle, newest first.
    async fn cycles(&self) -> Result<Vec<Cycle>, StoreError>;
    /// The units named as a cycle's scope.
    async fn cycle_units(&self, id: i64) -> Result<Vec<Code>, StoreError>;
    /// A cycle's people, by unit then cadre id (the order the engine reads them in: people of a
    /// unit together).
    async fn cycle_people(&self, id: i64) -> Result<Vec<CyclePerson>, StoreError>;
    /// Moves a cycle from `from` to `to`; [`StoreError::Conflict`] when it is no longer in
    /// `from` (another step came first).
    async fn set_cycle_state(
        &self,
        id: i64,
        from: CycleState,
        to: CycleState,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;

    /// Replaces the values of the given people from `origin` (others keep theirs), while the
    /// cycle is in one of `states`; each row's values are aligned with the cycle's columns.
    async fn put_values(
        &self,
        id: i64,
        states: &[CycleState],
        origin: &str,
        rows: &[PersonValues],
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;
    /// Every value row of a cycle.
    async fn cycle_values(&self, id: i64) -> Result<Vec<ValueRow>, StoreError>;

    /// Marks a compute under way with `token` at `now` (unix seconds); a mark older than
    /// `stale_after` seconds is taken over. [`StoreError::Conflict`] when another is under way.
    async fn begin_compute(
        &self,
        id: i64,
        token: &str,
        now: i64,
        stale_after: i64,
    ) -> Result<(), StoreError>;
    /// Clears the mark of `token`.
    async fn end_compute(&self, id: i64, token: &str) -> Result<(), StoreError>;

    /// Stores a revision with its results and makes it current, moving the cycle from `from`
    /// to `to`; returns its number. Final and amendment revisions are locked.
    #[allow(clippy::too_many_arguments)]
    async fn save_revision(
        &self,
        id: i64,
        from: CycleState,
        to: CycleState,
        kind: RevisionKind,
        reason: Option<&str>,
        summary: &str,
        results: &[ResultRow],
        audit: &NewAuditEntry,
    ) -> Result<i64, StoreError>;
    /// A cycle's revisions, oldest first.
    async fn revisions(&self, id: i64) -> Result<Vec<Revision>, StoreError>;
    /// The results of a revision, by rank then cadre.
    async fn results(&self, id: i64, revision: i64) -> Result<Vec<ResultRow>, StoreError>;
    /// Current results of final cycles for a cadre: (cycle, result), newest period first.
    async fn final_results_of(&self, cadre: &Code) -> Result<Vec<(Cycle, ResultRow)>, StoreError>;
    /// Grade levels of final routine cycles whose period lies within `period`, per cadre.
    async fn routine_grades(&self, period: Period) -> Result<Vec<(Code, Option<u8>)>, StoreError>;

    /// Records a committee decision on the current revision, while the cycle is in review.
    async fn record_decision(
        &self,
        id: i64,
        revision: i64,
        cadre: &Code,
        decision: Decision,
        reason: &str,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;
    /// A cycle's committee decisions, oldest first.
    async fn decisions(&self, id: i64) -> Result<Vec<StoredDecision>, StoreError>;
}

/// The stored form of the scope changes (JSON).
#[derive(serde::Serialize, serde::Deserialize)]
struct ChangeJson {
    cadre: String,
    kind: String,
    on: String,
    from: Option<String>,
    to: Option<String>,
}

pub(crate) fn changes_json(changes: &[ScopeChange]) -> String {
    let rows: Vec<ChangeJson> = changes
        .iter()
        .map(|c| ChangeJson {
            cadre: c.cadre.to_string(),
            kind: kaohe_domain::Labeled::code(c.kind).to_owned(),
            on: c.on.to_string(),
            from: c.from.as_ref().map(ToString::to_string),
            to: c.to.as_ref().map(ToString::to_string),
        })
        .collect();
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".to_owned())
}

fn corrupt(column: &'static str, reason: &dyn std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table: "cycles",
        column,
        reason: reason.to_string(),
    }
}

fn parse_changes(text: &str) -> Result<Vec<ScopeChange>, StoreError> {
    let rows: Vec<ChangeJson> = serde_json::from_str(text).map_err(|e| corrupt("changes", &e))?;
    let day = |s: &str| {
        Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|e| corrupt("changes", &e))
    };
    rows.into_iter()
        .map(|r| {
            Ok(ScopeChange {
                cadre: parse_code("cycles", "changes", &r.cadre)?,
                kind: label::<ScopeChangeKind>("cycles", "changes", &r.kind)?,
                on: day(&r.on)?,
                from: r
                    .from
                    .map(|c| parse_code("cycles", "changes", &c))
                    .transpose()?,
                to: r
                    .to
                    .map(|c| parse_code("cycles", "changes", &c))
                    .transpose()?,
            })
        })
        .collect()
}

/// Values as stored: a JSON array, `null` for missing.
pub(crate) fn values_json(values: &[Option<f64>]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

fn parse_values(text: &str) -> Result<Vec<Option<f64>>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        table: "cycle_values",
        column: "vals",
        reason: e.to_string(),
    })
}

/// The origin text of a value row.
pub fn origin_text(origin: ValueOrigin, revision: Option<i64>) -> String {
    match revision {
        Some(r) => format!("{}:{r}", kaohe_domain::Labeled::code(origin)),
        None => kaohe_domain::Labeled::code(origin).to_owned(),
    }
}

pub(crate) const CYCLE_COLS: &str = "c.id, c.name, c.kind, c.period_start, c.period_end, \
    c.framework_id, c.framework_version, c.state, c.columns, c.changes, c.revision, \
    c.created_at, c.created_by, \
    (SELECT COUNT(*) FROM cycle_people p WHERE p.cycle_id = c.id) AS people";

#[derive(sqlx::FromRow)]
pub(crate) struct CycleRow {
    id: i64,
    name: String,
    kind: String,
    period_start: Date,
    period_end: Date,
    framework_id: String,
    framework_version: String,
    state: String,
    columns: String,
    changes: String,
    revision: i64,
    created_at: i64,
    created_by: String,
    people: i64,
}

impl CycleRow {
    pub(crate) fn into_domain(self) -> Result<Cycle, StoreError> {
        Ok(Cycle {
            id: self.id,
            name: self.name,
            kind: label("cycles", "kind", &self.kind)?,
            period: Period {
                start: self.period_start,
                end: self.period_end,
            },
            framework_id: self.framework_id,
            framework_version: self.framework_version,
            state: label("cycles", "state", &self.state)?,
            columns: serde_json::from_str(&self.columns).map_err(|e| corrupt("columns", &e))?,
            changes: parse_changes(&self.changes)?,
            revision: self.revision,
            created_at: self.created_at,
            created_by: self.created_by,
            people: self.people,
        })
    }
}

pub(crate) const RESULT_COLS: &str = "r.cadre, r.name, r.unit, r.unit_name, r.score, r.rank, \
    r.rank_in_unit, r.grade_level, r.rule, r.flags, r.median_rank, r.p05, r.p95, r.p_top, \
    r.contributions";

#[derive(sqlx::FromRow)]
pub(crate) struct ResultSqlRow {
    cadre: String,
    name: String,
    unit: String,
    unit_name: String,
    score: f64,
    rank: i64,
    rank_in_unit: i64,
    grade_level: Option<i32>,
    rule: String,
    flags: String,
    median_rank: Option<i64>,
    p05: Option<i64>,
    p95: Option<i64>,
    p_top: Option<f64>,
    contributions: String,
}

impl ResultSqlRow {
    pub(crate) fn into_domain(self) -> Result<ResultRow, StoreError> {
        let bad = |column: &'static str, reason: String| StoreError::Corrupt {
            table: "cycle_results",
            column,
            reason,
        };
        let rank32 =
            |column: &'static str, v: i64| u32::try_from(v).map_err(|e| bad(column, e.to_string()));
        Ok(ResultRow {
            cadre: parse_code("cycle_results", "cadre", &self.cadre)?,
            name: self.name,
            unit: parse_code("cycle_results", "unit", &self.unit)?,
            unit_name: self.unit_name,
            score: self.score,
            rank: rank32("rank", self.rank)?,
            rank_in_unit: rank32("rank_in_unit", self.rank_in_unit)?,
            grade_level: self
                .grade_level
                .map(|g| u8::try_from(g).map_err(|e| bad("grade_level", e.to_string())))
                .transpose()?,
            rule: self.rule,
            flags: if self.flags.is_empty() {
                Vec::new()
            } else {
                self.flags.split(';').map(str::to_owned).collect()
            },
            median_rank: self
                .median_rank
                .map(|v| rank32("median_rank", v))
                .transpose()?,
            p05: self.p05.map(|v| rank32("p05", v)).transpose()?,
            p95: self.p95.map(|v| rank32("p95", v)).transpose()?,
            p_top: self.p_top,
            contributions: serde_json::from_str(&self.contributions)
                .map_err(|e| bad("contributions", e.to_string()))?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct FrameworkRow {
    id: String,
    version: String,
    name: String,
    source: String,
    digest: String,
    origin: String,
    created_at: i64,
    created_by: String,
    cycles: i64,
}

impl From<FrameworkRow> for StoredFramework {
    fn from(r: FrameworkRow) -> Self {
        Self {
            id: r.id,
            version: r.version,
            name: r.name,
            source: r.source,
            digest: r.digest,
            origin: r.origin,
            created_at: r.created_at,
            created_by: r.created_by,
            cycles: r.cycles,
        }
    }
}

pub(crate) const FRAMEWORK_COLS: &str = "f.id, f.version, f.name, f.source, f.digest, f.origin, \
    f.created_at, f.created_by, (SELECT COUNT(*) FROM cycles c WHERE c.framework_id = f.id \
    AND c.framework_version = f.version) AS cycles";

/// SHA-256 of a framework source, hex.
pub(crate) fn digest(source: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(source.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct RevisionRow {
    revision: i64,
    kind: String,
    reason: Option<String>,
    summary: String,
    locked: bool,
    created_at: i64,
    created_by: String,
}

impl RevisionRow {
    pub(crate) fn into_domain(self) -> Result<Revision, StoreError> {
        Ok(Revision {
            revision: self.revision,
            kind: label("cycle_revisions", "kind", &self.kind)?,
            reason: self.reason,
            summary: self.summary,
            locked: self.locked,
            created_at: self.created_at,
            created_by: self.created_by,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DecisionRow {
    id: i64,
    revision: i64,
    cadre: String,
    decision: String,
    reason: String,
    decided_by: String,
    decided_at: i64,
}

impl DecisionRow {
    pub(crate) fn into_domain(self) -> Result<StoredDecision, StoreError> {
        Ok(StoredDecision {
            id: self.id,
            revision: self.revision,
            cadre: parse_code("committee_decisions", "cadre", &self.cadre)?,
            decision: label("committee_decisions", "decision", &self.decision)?,
            reason: self.reason,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
        })
    }
}

pub(crate) fn parse_value_row(
    cadre: &str,
    origin: String,
    vals: &str,
) -> Result<ValueRow, StoreError> {
    Ok(ValueRow {
        cadre: parse_code("cycle_values", "cadre", cadre)?,
        origin,
        values: parse_values(vals)?,
    })
}

/// Rows per multi-row insert of results into SQLite: 17 parameters a row, under its limit of
/// 32,766.
pub(crate) const RESULT_BATCH: usize = 1000;

/// The columns of a result row as stored, in the order of the insert statements.
pub(crate) const RESULT_INSERT: &str = "INSERT INTO cycle_results (cycle_id, revision, cadre, \
    name, unit, unit_name, score, rank, rank_in_unit, grade_level, rule, flags, median_rank, \
    p05, p95, p_top, contributions) ";

/// The start of every write of value rows: a person given again replaces their values of this
/// origin, found through the primary key (a DELETE … IN of a chunk is planned as a scan while
/// the table fills in the same transaction).
pub(crate) const VALUES_INSERT: &str = "INSERT INTO cycle_values (cycle_id, cadre, origin, vals) ";

/// The end of every write of value rows.
pub(crate) const VALUES_UPSERT: &str =
    " ON CONFLICT (cycle_id, cadre, origin) DO UPDATE SET vals = excluded.vals";

/// The stored form of a result's contributions (JSON).
pub(crate) fn contributions_json(values: &[f64]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

/// Expands [`CycleStore`] for one backend.
macro_rules! impl_cycle_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::cycles::CycleStore for $store {
            async fn save_framework(&self, fw: &$crate::cycles::NewFramework, audit: &kaohe_domain::NewAuditEntry) -> Result<bool, $crate::StoreError> {
                let digest = $crate::cycles::digest(&fw.source);
                let mut tx = self.pool.begin().await?;
                let existing: Option<(String,)> = sqlx::query_as("SELECT digest FROM frameworks WHERE id = $1 AND version = $2")
                    .bind(&fw.id).bind(&fw.version).fetch_optional(&mut *tx).await?;
                match existing {
                    Some((d,)) if d == digest => return Ok(false),
                    Some(_) => return Err($crate::StoreError::Conflict(format!(
                        "framework {} version {} is stored already with another content: give the new file a new version",
                        fw.id, fw.version))),
                    None => {}
                }
                Self::append_audit_in(&mut tx, audit).await?;
                sqlx::query("INSERT INTO frameworks (id, version, name, source, digest, origin, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    .bind(&fw.id).bind(&fw.version).bind(&fw.name).bind(&fw.source).bind(&digest)
                    .bind(&fw.origin).bind(time::OffsetDateTime::now_utc().unix_timestamp()).bind(&audit.actor)
                    .execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn framework(&self, id: &str, version: &str) -> Result<Option<$crate::cycles::StoredFramework>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM frameworks f WHERE f.id = $1 AND f.version = $2", $crate::cycles::FRAMEWORK_COLS);
                Ok(sqlx::query_as::<_, $crate::cycles::FrameworkRow>(&sql).bind(id).bind(version)
                    .fetch_optional(&self.pool).await?.map(Into::into))
            }

            async fn frameworks(&self) -> Result<Vec<$crate::cycles::StoredFramework>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM frameworks f ORDER BY f.id, f.created_at, f.version", $crate::cycles::FRAMEWORK_COLS);
                Ok(sqlx::query_as::<_, $crate::cycles::FrameworkRow>(&sql)
                    .fetch_all(&self.pool).await?.into_iter().map(Into::into).collect())
            }

            async fn create_cycle(&self, c: &$crate::cycles::NewCycle, audit: &kaohe_domain::NewAuditEntry) -> Result<i64, $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut tx = self.pool.begin().await?;
                let columns = serde_json::to_string(&c.columns).unwrap_or_else(|_| "[]".to_owned());
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO cycles (name, kind, period_start, period_end, framework_id, framework_version, state, columns, changes, created_at, created_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
                    .bind(&c.name).bind(c.kind.code()).bind(c.period.start).bind(c.period.end)
                    .bind(&c.framework.0).bind(&c.framework.1)
                    .bind(kaohe_domain::cycles::CycleState::Draft.code())
                    .bind(columns).bind($crate::cycles::changes_json(&c.changes))
                    .bind(time::OffsetDateTime::now_utc().unix_timestamp()).bind(&audit.actor)
                    .fetch_one(&mut *tx).await?;
                let audit = kaohe_domain::NewAuditEntry { target: format!("cycle:{id}"), ..audit.clone() };
                Self::append_audit_in(&mut tx, &audit).await?;
                for chunk in c.units.chunks($crate::sql::BATCH_ROWS) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO cycle_units (cycle_id, unit) ");
                    q.push_values(chunk, |mut b, u| { b.push_bind(id).push_bind(u.as_str()); });
                    q.build().execute(&mut *tx).await?;
                }
                for chunk in c.people.chunks($crate::sql::BATCH_ROWS) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO cycle_people (cycle_id, cadre, name, unit, unit_name, is_leader) ");
                    q.push_values(chunk, |mut b, p| {
                        b.push_bind(id).push_bind(p.cadre.as_str()).push_bind(&p.name)
                            .push_bind(p.unit.as_str()).push_bind(&p.unit_name).push_bind(p.is_leader);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(id)
            }

            async fn cycle(&self, id: i64) -> Result<Option<$crate::cycles::Cycle>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM cycles c WHERE c.id = $1", $crate::cycles::CYCLE_COLS);
                sqlx::query_as::<_, $crate::cycles::CycleRow>(&sql).bind(id).fetch_optional(&self.pool).await?
                    .map($crate::cycles::CycleRow::into_domain).transpose()
            }

            async fn cycles(&self) -> Result<Vec<$crate::cycles::Cycle>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM cycles c ORDER BY c.period_end DESC, c.id DESC", $crate::cycles::CYCLE_COLS);
                sqlx::query_as::<_, $crate::cycles::CycleRow>(&sql).fetch_all(&self.pool).await?
                    .into_iter().map($crate::cycles::CycleRow::into_domain).collect()
            }

            async fn cycle_units(&self, id: i64) -> Result<Vec<kaohe_domain::Code>, $crate::StoreError> {
                let rows: Vec<(String,)> = sqlx::query_as("SELECT unit FROM cycle_units WHERE cycle_id = $1 ORDER BY unit")
                    .bind(id).fetch_all(&self.pool).await?;
                rows.into_iter().map(|(u,)| $crate::sql::parse_code("cycle_units", "unit", &u)).collect()
            }

            async fn cycle_people(&self, id: i64) -> Result<Vec<$crate::cycles::CyclePerson>, $crate::StoreError> {
                let rows: Vec<(String, String, String, String, bool)> = sqlx::query_as(
                    "SELECT cadre, name, unit, unit_name, is_leader FROM cycle_people WHERE cycle_id = $1 ORDER BY unit, cadre")
                    .bind(id).fetch_all(&self.pool).await?;
                rows.into_iter().map(|(c, name, u, unit_name, is_leader)| Ok($crate::cycles::CyclePerson {
                    cadre: $crate::sql::parse_code("cycle_people", "cadre", &c)?,
                    name,
                    unit: $crate::sql::parse_code("cycle_people", "unit", &u)?,
                    unit_name,
                    is_leader,
                })).collect()
            }

            async fn set_cycle_state(&self, id: i64, from: kaohe_domain::cycles::CycleState, to: kaohe_domain::cycles::CycleState, audit: &kaohe_domain::NewAuditEntry) -> Result<(), $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query("UPDATE cycles SET state = $1 WHERE id = $2 AND state = $3")
                    .bind(to.code()).bind(id).bind(from.code()).execute(&mut *tx).await?;
                if done.rows_affected() != 1 {
                    return Err($crate::StoreError::Conflict(format!("cycle {id} is no longer {} ({}): another step came first", from.zh(), from.code())));
                }
                Self::append_audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn put_values(&self, id: i64, states: &[kaohe_domain::cycles::CycleState], origin: &str, rows: &[$crate::cycles::PersonValues], audit: &kaohe_domain::NewAuditEntry) -> Result<(), $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut tx = self.pool.begin().await?;
                // Takes the cycle's row lock (PostgreSQL) or the write lock (SQLite) first, so
                // that no step changes the state between the check and the write.
                sqlx::query("UPDATE cycles SET state = state WHERE id = $1").bind(id).execute(&mut *tx).await?;
                let (state,): (String,) = sqlx::query_as("SELECT state FROM cycles WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
                let state: kaohe_domain::cycles::CycleState = $crate::sql::label("cycles", "state", &state)?;
                if !states.contains(&state) {
                    return Err($crate::StoreError::Conflict(format!("cycle {id} is {} ({}): values cannot be changed now", state.zh(), state.code())));
                }
                Self::append_audit_in(&mut tx, audit).await?;
                Self::upsert_values(&mut tx, id, origin, rows).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn cycle_values(&self, id: i64) -> Result<Vec<$crate::cycles::ValueRow>, $crate::StoreError> {
                let rows: Vec<(String, String, String)> = sqlx::query_as(
                    "SELECT cadre, origin, vals FROM cycle_values WHERE cycle_id = $1 ORDER BY cadre, origin")
                    .bind(id).fetch_all(&self.pool).await?;
                rows.into_iter().map(|(c, o, v)| $crate::cycles::parse_value_row(&c, o, &v)).collect()
            }

            async fn begin_compute(&self, id: i64, token: &str, now: i64, stale_after: i64) -> Result<(), $crate::StoreError> {
                let done = sqlx::query(
                    "UPDATE cycles SET computing = $1, computing_since = $2 WHERE id = $3 \
                     AND (computing IS NULL OR computing_since < $4)")
                    .bind(token).bind(now).bind(id).bind(now - stale_after).execute(&self.pool).await?;
                if done.rows_affected() == 1 {
                    return Ok(());
                }
                Err($crate::StoreError::Conflict(format!("a computation of cycle {id} is under way already: wait for it to finish")))
            }

            async fn end_compute(&self, id: i64, token: &str) -> Result<(), $crate::StoreError> {
                sqlx::query("UPDATE cycles SET computing = NULL, computing_since = NULL WHERE id = $1 AND computing = $2")
                    .bind(id).bind(token).execute(&self.pool).await?;
                Ok(())
            }

            async fn save_revision(&self, id: i64, from: kaohe_domain::cycles::CycleState, to: kaohe_domain::cycles::CycleState, kind: $crate::cycles::RevisionKind, reason: Option<&str>, summary: &str, results: &[$crate::cycles::ResultRow], audit: &kaohe_domain::NewAuditEntry) -> Result<i64, $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut tx = self.pool.begin().await?;
                sqlx::query("UPDATE cycles SET state = state WHERE id = $1").bind(id).execute(&mut *tx).await?;
                let (state,): (String,) = sqlx::query_as("SELECT state FROM cycles WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
                if state != from.code() {
                    return Err($crate::StoreError::Conflict(format!("cycle {id} is no longer {} ({}): another step came first", from.zh(), from.code())));
                }
                let (revision,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(revision), 0) + 1 FROM cycle_revisions WHERE cycle_id = $1")
                    .bind(id).fetch_one(&mut *tx).await?;
                Self::append_audit_in(&mut tx, audit).await?;
                sqlx::query("INSERT INTO cycle_revisions (cycle_id, revision, kind, reason, summary, locked, created_at, created_by) VALUES ($1, $2, $3, $4, $5, FALSE, $6, $7)")
                    .bind(id).bind(revision).bind(kind.code()).bind(reason).bind(summary)
                    .bind(time::OffsetDateTime::now_utc().unix_timestamp()).bind(&audit.actor)
                    .execute(&mut *tx).await?;
                Self::insert_results(&mut tx, id, revision, results).await?;
                if kind != $crate::cycles::RevisionKind::Compute {
                    sqlx::query("UPDATE cycle_revisions SET locked = TRUE WHERE cycle_id = $1 AND revision = $2")
                        .bind(id).bind(revision).execute(&mut *tx).await?;
                }
                sqlx::query("UPDATE cycles SET state = $1, revision = $2 WHERE id = $3")
                    .bind(to.code()).bind(revision).bind(id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(revision)
            }

            async fn revisions(&self, id: i64) -> Result<Vec<$crate::cycles::Revision>, $crate::StoreError> {
                sqlx::query_as::<_, $crate::cycles::RevisionRow>(
                    "SELECT revision, kind, reason, summary, locked, created_at, created_by FROM cycle_revisions WHERE cycle_id = $1 ORDER BY revision")
                    .bind(id).fetch_all(&self.pool).await?
                    .into_iter().map($crate::cycles::RevisionRow::into_domain).collect()
            }

            async fn results(&self, id: i64, revision: i64) -> Result<Vec<$crate::cycles::ResultRow>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM cycle_results r WHERE r.cycle_id = $1 AND r.revision = $2 ORDER BY r.rank, r.cadre", $crate::cycles::RESULT_COLS);
                sqlx::query_as::<_, $crate::cycles::ResultSqlRow>(&sql).bind(id).bind(revision).fetch_all(&self.pool).await?
                    .into_iter().map($crate::cycles::ResultSqlRow::into_domain).collect()
            }

            async fn final_results_of(&self, cadre: &kaohe_domain::Code) -> Result<Vec<($crate::cycles::Cycle, $crate::cycles::ResultRow)>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM cycles c WHERE c.state = 'final' AND EXISTS (SELECT 1 FROM cycle_results r WHERE r.cycle_id = c.id AND r.revision = c.revision AND r.cadre = $1) ORDER BY c.period_end DESC, c.id DESC", $crate::cycles::CYCLE_COLS);
                let cycles: Vec<$crate::cycles::Cycle> = sqlx::query_as::<_, $crate::cycles::CycleRow>(&sql).bind(cadre.as_str()).fetch_all(&self.pool).await?
                    .into_iter().map($crate::cycles::CycleRow::into_domain).collect::<Result<_, _>>()?;
                let mut out = Vec::with_capacity(cycles.len());
                let sql = format!("SELECT {} FROM cycle_results r WHERE r.cycle_id = $1 AND r.revision = $2 AND r.cadre = $3", $crate::cycles::RESULT_COLS);
                for c in cycles {
                    if let Some(row) = sqlx::query_as::<_, $crate::cycles::ResultSqlRow>(&sql).bind(c.id).bind(c.revision).bind(cadre.as_str()).fetch_optional(&self.pool).await? {
                        out.push((c, row.into_domain()?));
                    }
                }
                Ok(out)
            }

            async fn routine_grades(&self, period: kaohe_domain::cycles::Period) -> Result<Vec<(kaohe_domain::Code, Option<u8>)>, $crate::StoreError> {
                let rows: Vec<(String, Option<i32>)> = sqlx::query_as(
                    "SELECT r.cadre, r.grade_level FROM cycles c JOIN cycle_results r ON r.cycle_id = c.id AND r.revision = c.revision \
                     WHERE c.kind = 'routine' AND c.state = 'final' AND c.period_start >= $1 AND c.period_end <= $2 ORDER BY r.cadre, c.period_start")
                    .bind(period.start).bind(period.end).fetch_all(&self.pool).await?;
                rows.into_iter().map(|(c, g)| Ok((
                    $crate::sql::parse_code("cycle_results", "cadre", &c)?,
                    g.and_then(|g| u8::try_from(g).ok()),
                ))).collect()
            }

            async fn record_decision(&self, id: i64, revision: i64, cadre: &kaohe_domain::Code, decision: kaohe_domain::cycles::Decision, reason: &str, audit: &kaohe_domain::NewAuditEntry) -> Result<(), $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query("UPDATE cycles SET state = state WHERE id = $1 AND state = 'review' AND revision = $2")
                    .bind(id).bind(revision).execute(&mut *tx).await?;
                if done.rows_affected() != 1 {
                    return Err($crate::StoreError::Conflict(format!("cycle {id} is no longer under committee review of revision {revision}")));
                }
                Self::append_audit_in(&mut tx, audit).await?;
                sqlx::query("INSERT INTO committee_decisions (cycle_id, revision, cadre, decision, reason, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(id).bind(revision).bind(cadre.as_str()).bind(decision.code()).bind(reason).bind(&audit.actor)
                    .bind(time::OffsetDateTime::now_utc().unix_timestamp())
                    .execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn decisions(&self, id: i64) -> Result<Vec<$crate::cycles::StoredDecision>, $crate::StoreError> {
                sqlx::query_as::<_, $crate::cycles::DecisionRow>(
                    "SELECT id, revision, cadre, decision, reason, decided_by, decided_at FROM committee_decisions WHERE cycle_id = $1 ORDER BY id")
                    .bind(id).fetch_all(&self.pool).await?
                    .into_iter().map($crate::cycles::DecisionRow::into_domain).collect()
            }
        }
    };
}

pub(crate) use impl_cycle_store;
