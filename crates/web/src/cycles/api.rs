//! The JSON API of assessment cycles: framework versions (`/api/v1/frameworks`), cycles and
//! every step of their life (`/api/v1/cycles…`), and the final results of a cadre
//! (`/api/v1/cadres/{id}/results`) and of a unit (`/api/v1/units/{code}/results`).
//!
//! Each step runs through `kaohe_store::cycles::work`, as the command line's do, with the
//! signed-in account as the actor of its audit entry. An assessor acts on a cycle only when
//! their scope covers every unit of the cycle's scope; officials and unit leaders see results
//! of final cycles only, through the record of a cadre or of a unit.

use crate::org::data;
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission, Target};
use crate::shell::error::{ApiError, ErrorBody};
use crate::shell::json::{JsonBody, Label, label, parse_body};
use crate::shell::params::{ApiQuery, FromQuery, Paging, QueryParams};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kaohe_domain::cycles::{
    Action, CycleError, CycleKind, CycleState, Decision, ScopeChange, ScopeChangeKind, ValueTable,
};
use kaohe_domain::{Code, GradeScale, Labeled};
use kaohe_store::StoreError;
use kaohe_store::cycles::work::{self, CycleRunError, CycleSpec};
use kaohe_store::cycles::{
    Cycle, ResultRow, Revision, RevisionKind, StoredDecision, StoredFramework,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use time::{Date, OffsetDateTime, UtcOffset};
use utoipa::ToSchema;

/// Where the values of a request are, in the messages about them (`request row 2, …`).
const VALUES_SOURCE: &str = "request";

impl From<CycleRunError> for ApiError {
    fn from(e: CycleRunError) -> Self {
        let refused = |code: &'static str, e: &CycleRunError| ApiError::Refused {
            code,
            reason: e.to_string(),
        };
        match e {
            CycleRunError::NoCycle(id) => ApiError::not_found("cycle", id.to_string()),
            CycleRunError::Store(StoreError::Conflict(reason)) => ApiError::Conflict {
                code: "conflict",
                reason,
            },
            CycleRunError::Store(e) => ApiError::Store(e),
            CycleRunError::Worker(e) => ApiError::Store(StoreError::Worker(e)),
            CycleRunError::Rule(rule) => {
                let code = match rule {
                    CycleError::WrongState { .. } => {
                        return ApiError::Conflict {
                            code: "wrong_state",
                            reason: rule.to_string(),
                        };
                    }
                    CycleError::PeriodOrder { .. } | CycleError::PeriodKind { .. } => {
                        "invalid_period"
                    }
                    CycleError::Name => "invalid_name",
                    CycleError::EmptyScope => "empty_scope",
                    CycleError::Reason => "reason_required",
                    CycleError::QuotaExceeded { .. } => "quota_exceeded",
                    CycleError::NotPending { .. } => "not_pending",
                };
                ApiError::Refused {
                    code,
                    reason: rule.to_string(),
                }
            }
            ref e @ CycleRunError::Framework(_) => refused("invalid_framework", e),
            ref e @ CycleRunError::Values { .. } => refused("invalid_values", e),
            ref e @ CycleRunError::UnknownUnits(_) => refused("unknown_units", e),
            ref e @ CycleRunError::Engine(_) => refused("cannot_compute", e),
            ref e @ CycleRunError::Undecided(_) => refused("undecided_ties", e),
            ref e @ CycleRunError::FourEyes(_) => refused("four_eyes", e),
        }
    }
}

/// The account name of the caller, the actor of the audit entries.
fn actor(caller: &Caller) -> Result<&str, ApiError> {
    caller.0.username().ok_or(ApiError::Unauthorized)
}

fn iso(date: Date) -> String {
    date.to_string()
}

/// Unix seconds as RFC 3339 in the deployment's time zone.
fn timestamp(secs: i64, offset: UtcOffset) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .map(|t| t.to_offset(offset))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

/// The code and labels of a grade level on `scale`; `none` (不定等次) for no grade.
fn grade_of(scale: GradeScale, level: Option<u8>) -> (&'static str, Label) {
    match level.and_then(|g| scale.grade(usize::from(g))) {
        Some((code, zh, en)) => (code, Label::new(zh, en)),
        None => ("none", Label::new("不定等次", "No grade")),
    }
}

/// The grade codes of a scale, best first, then `none`.
fn grade_codes(scale: GradeScale) -> Vec<&'static str> {
    (0..4)
        .filter_map(|l| scale.grade(l).map(|g| g.0))
        .chain(["none"])
        .collect()
}

/// A cycle's id from the path; an id that is not a number names no cycle (404).
fn cycle_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| ApiError::not_found("cycle", id))
}

/// The cycle `id`, when the caller holds `permission` on every unit of its scope.
async fn cycle_in_scope(
    state: &AppState,
    caller: &Caller,
    id: &str,
    permission: Permission,
) -> Result<Cycle, ApiError> {
    let id = cycle_id(id)?;
    let store = state.store.as_ref();
    let cycle = store
        .cycle(id)
        .await?
        .ok_or_else(|| ApiError::not_found("cycle", id.to_string()))?;
    for unit in store.cycle_units(id).await? {
        data::check_unit(store, caller, permission, &unit).await?;
    }
    Ok(cycle)
}

/// A stored framework version.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FrameworkOut {
    /// Framework id.
    #[schema(example = "civil_servant_annual")]
    id: String,
    /// Version; a stored version never changes.
    #[schema(example = "2026.1")]
    version: String,
    /// Name.
    name: String,
    /// SHA-256 of the TOML source, hex.
    digest: String,
    /// `preset` (built in) or `upload`.
    #[schema(example = "preset")]
    origin: String,
    /// Labels of the origin.
    origin_label: Label,
    /// When stored (RFC 3339).
    created_at: String,
    /// Who stored it.
    created_by: String,
    /// Cycles that use it.
    cycles: i64,
}

impl FrameworkOut {
    fn new(f: StoredFramework, offset: UtcOffset) -> Self {
        Self {
            id: f.id,
            version: f.version,
            name: f.name,
            digest: f.digest,
            origin_label: match f.origin.as_str() {
                "preset" => Label::new("内置预设", "Built-in preset"),
                _ => Label::new("上传", "Uploaded"),
            },
            origin: f.origin,
            created_at: timestamp(f.created_at, offset),
            created_by: f.created_by,
            cycles: f.cycles,
        }
    }
}

/// The stored framework versions.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FrameworkList {
    /// By id, then by time stored.
    items: Vec<FrameworkOut>,
}

/// A framework file as stored.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FrameworkStoredOut {
    /// Framework id.
    id: String,
    /// Version.
    version: String,
    /// Name.
    name: String,
    /// `false` when the same version with the same content was stored already.
    stored: bool,
}

/// A cycle to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CycleIn {
    /// Name.
    #[schema(example = "2026年度考核")]
    name: String,
    /// `routine` (one quarter), `annual` (one calendar year), `special`, `term`, `performance`.
    #[schema(value_type = String, example = "annual")]
    kind: CycleKind,
    /// First day of the period.
    #[schema(format = Date, example = "2026-01-01")]
    from: String,
    /// Last day of the period.
    #[schema(format = Date, example = "2026-12-31")]
    to: String,
    /// Framework id.
    #[schema(example = "civil_servant_annual")]
    framework: String,
    /// Framework version; the latest stored when absent.
    #[serde(default)]
    framework_version: Option<String>,
    /// Codes of the units of the scope, each with everything under it.
    units: Vec<String>,
}

/// A cycle in a list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CycleOut {
    /// Id.
    id: i64,
    /// Name.
    name: String,
    /// Kind code.
    #[schema(example = "annual")]
    kind: &'static str,
    /// Labels of the kind.
    kind_label: Label,
    /// State: `draft`, `collecting`, `computed`, `review` or `final`.
    #[schema(example = "collecting")]
    state: &'static str,
    /// Labels of the state.
    state_label: Label,
    /// First day of the period.
    #[schema(format = Date)]
    from: String,
    /// Last day of the period.
    #[schema(format = Date)]
    to: String,
    /// Framework id.
    framework: String,
    /// Framework version.
    framework_version: String,
    /// People assessed.
    people: i64,
    /// The revision whose results are current (0: none yet).
    revision: i64,
    /// When created (RFC 3339).
    created_at: String,
    /// Who created it.
    created_by: String,
}

impl CycleOut {
    fn new(c: &Cycle, offset: UtcOffset) -> Self {
        Self {
            id: c.id,
            name: c.name.clone(),
            kind: c.kind.code(),
            kind_label: label(c.kind),
            state: c.state.code(),
            state_label: label(c.state),
            from: iso(c.period.start),
            to: iso(c.period.end),
            framework: c.framework_id.clone(),
            framework_version: c.framework_version.clone(),
            people: c.people,
            revision: c.revision,
            created_at: timestamp(c.created_at, offset),
            created_by: c.created_by.clone(),
        }
    }
}

/// The cycles the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CycleList {
    /// Newest period first.
    items: Vec<CycleOut>,
}

/// A unit of a cycle's scope.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScopeUnitOut {
    /// Unit code.
    code: String,
    /// Its name.
    name: Option<String>,
}

/// A change of a cadre's place in the scope during the period.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScopeChangeOut {
    /// Cadre id.
    person_id: String,
    /// `joined`, `left` or `moved`.
    #[schema(example = "joined")]
    kind: &'static str,
    /// Labels of the kind.
    kind_label: Label,
    /// The day it changed.
    #[schema(format = Date)]
    on: String,
    /// The unit before.
    from: Option<String>,
    /// The unit after.
    to: Option<String>,
}

impl From<&ScopeChange> for ScopeChangeOut {
    fn from(c: &ScopeChange) -> Self {
        let kind: ScopeChangeKind = c.kind;
        Self {
            person_id: c.cadre.to_string(),
            kind: kind.code(),
            kind_label: label(kind),
            on: iso(c.on),
            from: c.from.as_ref().map(Code::to_string),
            to: c.to.as_ref().map(Code::to_string),
        }
    }
}

/// A revision of a cycle's results.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RevisionOut {
    /// Number, from 1.
    revision: i64,
    /// `compute`, `final` or `amendment`.
    #[schema(example = "final")]
    kind: &'static str,
    /// Labels of the kind.
    kind_label: Label,
    /// The reason of an amendment.
    reason: Option<String>,
    /// Final or amendment: never changes.
    locked: bool,
    /// Whether its results are the cycle's current ones.
    current: bool,
    /// When (RFC 3339).
    created_at: String,
    /// Who.
    created_by: String,
}

impl RevisionOut {
    fn new(r: &Revision, current: i64, offset: UtcOffset) -> Self {
        let kind: RevisionKind = r.kind;
        Self {
            revision: r.revision,
            kind: kind.code(),
            kind_label: label(kind),
            reason: r.reason.clone(),
            locked: r.locked,
            current: r.revision == current,
            created_at: timestamp(r.created_at, offset),
            created_by: r.created_by.clone(),
        }
    }
}

/// How many people got a grade.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GradeCountOut {
    /// Grade code on the cycle's scale (`excellent`, …), or `none` (不定等次).
    #[schema(example = "excellent")]
    grade: &'static str,
    /// Labels of the grade.
    grade_label: Label,
    /// People.
    count: usize,
}

/// Counts per grade, best first, then `none`.
fn grade_counts<'a>(
    scale: GradeScale,
    rows: impl Iterator<Item = &'a ResultRow>,
) -> Vec<GradeCountOut> {
    let mut counts = [0usize; 5];
    for r in rows {
        counts[r.grade_level.map_or(4, |g| usize::from(g.min(3)))] += 1;
    }
    counts
        .iter()
        .enumerate()
        .map(|(level, count)| {
            let level = u8::try_from(level).ok().filter(|l| *l < 4);
            let (grade, grade_label) = grade_of(scale, level);
            GradeCountOut {
                grade,
                grade_label,
                count: *count,
            }
        })
        .collect()
}

/// The grades of one unit in the current revision.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UnitGradesOut {
    /// Unit code.
    unit: String,
    /// Its name.
    unit_name: String,
    /// People assessed in it.
    people: usize,
    /// Counts per grade.
    grades: Vec<GradeCountOut>,
}

/// A cycle with its scope, revisions and grade distribution.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CycleDetailOut {
    /// The cycle.
    #[serde(flatten)]
    cycle: CycleOut,
    /// Value columns: indicator ids of the framework, then auxiliary columns.
    columns: Vec<String>,
    /// Units named as its scope.
    units: Vec<ScopeUnitOut>,
    /// Changes of the scope during the period.
    scope_changes: Vec<ScopeChangeOut>,
    /// Revisions of its results, oldest first.
    revisions: Vec<RevisionOut>,
    /// Grade distribution of the current revision, per unit (empty before computing).
    grades: Vec<UnitGradesOut>,
}

async fn detail(state: &AppState, cycle: &Cycle) -> Result<CycleDetailOut, ApiError> {
    let store = state.store.as_ref();
    let mut names = data::UnitNames::default();
    let units = store.cycle_units(cycle.id).await?;
    names.load(store, units.clone()).await?;
    let revisions = store.revisions(cycle.id).await?;
    let scale = cycle.kind.scale();
    let mut by_unit: BTreeMap<(Code, String), Vec<ResultRow>> = BTreeMap::new();
    if cycle.revision > 0 {
        for r in store.results(cycle.id, cycle.revision).await? {
            by_unit
                .entry((r.unit.clone(), r.unit_name.clone()))
                .or_default()
                .push(r);
        }
    }
    Ok(CycleDetailOut {
        cycle: CycleOut::new(cycle, state.utc_offset),
        columns: cycle.columns.clone(),
        units: units
            .iter()
            .map(|u| ScopeUnitOut {
                code: u.to_string(),
                name: names.get(u).map(str::to_owned),
            })
            .collect(),
        scope_changes: cycle.changes.iter().map(ScopeChangeOut::from).collect(),
        revisions: revisions
            .iter()
            .map(|r| RevisionOut::new(r, cycle.revision, state.utc_offset))
            .collect(),
        grades: by_unit
            .iter()
            .map(|((unit, unit_name), rows)| UnitGradesOut {
                unit: unit.to_string(),
                unit_name: unit_name.clone(),
                people: rows.len(),
                grades: grade_counts(scale, rows.iter()),
            })
            .collect(),
    })
}

/// Where a cycle stands after a step.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StateOut {
    /// Cycle id.
    id: i64,
    /// State code.
    #[schema(example = "collecting")]
    state: &'static str,
    /// Labels of the state.
    state_label: Label,
    /// The current revision of its results (0: none yet).
    revision: i64,
}

fn state_out(id: i64, state: CycleState, revision: i64) -> StateOut {
    StateOut {
        id,
        state: state.code(),
        state_label: label(state),
        revision,
    }
}

/// One person's values.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PersonValuesIn {
    /// Cadre id.
    #[schema(example = "C0001")]
    person_id: String,
    /// The unit the person serves in, checked against the cycle's when given.
    #[serde(default)]
    unit_id: Option<String>,
    /// One value per column, in the order of `columns`; `null` for missing.
    values: Vec<Option<f64>>,
}

/// Indicator values of people, as a values file holds them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ValuesIn {
    /// Columns: indicator ids or names of the cycle's framework, or its auxiliary columns.
    columns: Vec<String>,
    /// The people, one row each (row 1 is the first, in messages).
    people: Vec<PersonValuesIn>,
}

/// Turns values of a request into the table a values file would give, checking its shape:
/// columns named once, every row as long as the columns, every person once.
fn value_table(
    cycle: &Cycle,
    fw: &kaohe_engine::Framework,
    columns: &[String],
    people: Vec<PersonValuesIn>,
) -> Result<ValueTable, ApiError> {
    let mut seen = HashSet::new();
    let mut cols = Vec::with_capacity(columns.len());
    for (j, c) in columns.iter().enumerate() {
        let id = work::column_named(cycle, fw, c.trim()).unwrap_or_else(|| c.clone());
        if !seen.insert(id.clone()) {
            return Err(ApiError::invalid_field(
                format!("columns[{j}]"),
                format!("column {id:?} is given twice"),
            ));
        }
        cols.push(id);
    }
    let mut table = ValueTable {
        file: VALUES_SOURCE.to_owned(),
        columns: cols,
        ..ValueTable::default()
    };
    let mut persons = HashSet::new();
    for (i, p) in people.into_iter().enumerate() {
        if p.values.len() != columns.len() {
            return Err(ApiError::invalid_field(
                format!("people[{i}].values"),
                format!(
                    "{} values given, {} expected: one per column",
                    p.values.len(),
                    columns.len()
                ),
            ));
        }
        let id = p.person_id.trim().to_owned();
        if !persons.insert(id.clone()) {
            return Err(ApiError::invalid_field(
                format!("people[{i}].person_id"),
                format!("{id:?} is given twice"),
            ));
        }
        table.people.push(id);
        table.units.push(
            p.unit_id
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty()),
        );
        table.rows.push(i + 1);
        table.values.push(p.values);
    }
    Ok(table)
}

/// How many people's values were stored.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ImportedOut {
    /// People whose imported values were replaced.
    people: usize,
}

/// What a computation gave.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ComputedOut {
    /// The revision stored.
    revision: i64,
    /// People assessed.
    people: usize,
    /// Counts per grade.
    grades: Vec<GradeCountOut>,
    /// People tied at a quota line, for the committee.
    ties: usize,
    /// Warnings of the engine.
    warnings: Vec<String>,
}

/// What is missing of one column.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MissingOut {
    /// Column id.
    column: String,
    /// Its name in the framework.
    name: String,
    /// People without a value.
    missing: usize,
    /// What the missing-value rule does (Chinese, then English).
    rule: &'static str,
    /// Who is missing it (cadre ids, at most 50).
    people: Vec<String>,
}

/// The completeness of a cycle's values.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CompletenessOut {
    /// People assessed.
    people: usize,
    /// Per column.
    columns: Vec<MissingOut>,
}

/// An indicator's part of a score.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ContributionOut {
    /// Indicator id.
    indicator: String,
    /// Points it contributes to the score.
    value: f64,
}

/// One person's result.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ResultOut {
    /// Cadre id.
    person_id: String,
    /// Name.
    name: String,
    /// Unit code at the period's end.
    unit: String,
    /// Unit name.
    unit_name: String,
    /// Composite score, 0–100.
    score: f64,
    /// Rank among all assessed (1 = best).
    rank: u32,
    /// Rank within the unit.
    rank_in_unit: u32,
    /// Grade code on the cycle's scale, or `none` (不定等次).
    #[schema(example = "excellent")]
    grade: &'static str,
    /// Labels of the grade.
    grade_label: Label,
    /// The rule that set the grade (an engine code, or `committee:award_top`,
    /// `committee:keep_next`).
    rule: String,
    /// Flags for review.
    flags: Vec<String>,
    /// Median rank over the Monte Carlo draws.
    median_rank: Option<u32>,
    /// 5th percentile of the rank.
    p05: Option<u32>,
    /// 95th percentile of the rank.
    p95: Option<u32>,
    /// Share of draws with the top grade.
    p_top: Option<f64>,
    /// Contribution of each indicator.
    contributions: Vec<ContributionOut>,
}

impl ResultOut {
    fn new(r: &ResultRow, scale: GradeScale, indicators: &[String]) -> Self {
        let (grade, grade_label) = grade_of(scale, r.grade_level);
        Self {
            person_id: r.cadre.to_string(),
            name: r.name.clone(),
            unit: r.unit.to_string(),
            unit_name: r.unit_name.clone(),
            score: r.score,
            rank: r.rank,
            rank_in_unit: r.rank_in_unit,
            grade,
            grade_label,
            rule: r.rule.clone(),
            flags: r.flags.clone(),
            median_rank: r.median_rank,
            p05: r.p05,
            p95: r.p95,
            p_top: r.p_top,
            contributions: indicators
                .iter()
                .zip(&r.contributions)
                .map(|(i, v)| ContributionOut {
                    indicator: i.clone(),
                    value: *v,
                })
                .collect(),
        }
    }
}

/// The indicator ids of a revision's summary, in the order of the contributions.
fn indicators_of(revision: Option<&Revision>) -> Vec<String> {
    #[derive(Deserialize)]
    struct Summary {
        #[serde(default)]
        indicators: Vec<String>,
    }
    revision
        .and_then(|r| serde_json::from_str::<Summary>(&r.summary).ok())
        .map(|s| s.indicators)
        .unwrap_or_default()
}

/// A committee decision.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DecisionOut {
    /// Cadre id.
    person_id: String,
    /// The revision it was taken on.
    revision: i64,
    /// `award_top`, `keep_next` or `confirm`.
    #[schema(example = "award_top")]
    decision: &'static str,
    /// Labels of the decision.
    decision_label: Label,
    /// Why.
    reason: String,
    /// Who decided.
    decided_by: String,
    /// When (RFC 3339).
    decided_at: String,
}

impl DecisionOut {
    fn new(d: &StoredDecision, offset: UtcOffset) -> Self {
        let decision: Decision = d.decision;
        Self {
            person_id: d.cadre.to_string(),
            revision: d.revision,
            decision: decision.code(),
            decision_label: label(decision),
            reason: d.reason.clone(),
            decided_by: d.decided_by.clone(),
            decided_at: timestamp(d.decided_at, offset),
        }
    }
}

/// A quota line with people tied across it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TieOut {
    /// Quota scope (a unit, or unit/group).
    scope: String,
    /// Quota: the most top grades in the scope.
    k: u32,
    /// Top grades the computation awarded, before any decision.
    awarded: u32,
    /// The people tied, side by side.
    people: Vec<ResultOut>,
}

/// What the assessment committee (考核委员会) is to decide.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CommitteeOut {
    /// Cycle id.
    cycle: i64,
    /// State code.
    state: &'static str,
    /// Labels of the state.
    state_label: Label,
    /// The revision decided on (0: none yet).
    revision: i64,
    /// Indicator ids, in the order of every person's contributions.
    indicators: Vec<String>,
    /// Every quota line with people tied across it.
    ties: Vec<TieOut>,
    /// People flagged for review (not tied).
    flagged: Vec<ResultOut>,
    /// Every decision so far, oldest first (the latest per person and revision counts).
    decisions: Vec<DecisionOut>,
}

/// A committee decision to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecisionIn {
    /// Cadre id.
    person: String,
    /// `award_top` or `keep_next` for a tie, `confirm` for a flag.
    #[schema(value_type = String, example = "award_top")]
    decision: Decision,
    /// Why (required).
    reason: String,
}

/// An amendment (更正) of a final cycle.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AmendIn {
    /// Why (required).
    reason: String,
    /// Columns of the corrected values, with `people`.
    #[serde(default)]
    columns: Option<Vec<String>>,
    /// Corrected values, with `columns`.
    #[serde(default)]
    people: Option<Vec<PersonValuesIn>>,
}

/// A result before or after an amendment.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BriefOut {
    /// Score.
    score: f64,
    /// Rank.
    rank: u32,
    /// Grade code.
    grade: &'static str,
    /// Labels of the grade.
    grade_label: Label,
    /// Rule.
    rule: String,
}

fn brief(r: &ResultRow, scale: GradeScale) -> BriefOut {
    let (grade, grade_label) = grade_of(scale, r.grade_level);
    BriefOut {
        score: r.score,
        rank: r.rank,
        grade,
        grade_label,
        rule: r.rule.clone(),
    }
}

/// A person an amendment changed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ChangedOut {
    /// Cadre id.
    person_id: String,
    /// Name.
    name: String,
    /// In the corrected revision.
    before: BriefOut,
    /// In the amendment.
    after: BriefOut,
}

/// What an amendment changed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AmendedOut {
    /// The amendment's revision, now current.
    revision: i64,
    /// The revision it corrects, kept.
    corrects: i64,
    /// People whose score, rank, grade or rule changed.
    changed: Vec<ChangedOut>,
}

/// Which results to list.
#[derive(Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ResultsParams {
    /// A revision (default: the current one).
    pub(crate) revision: Option<u32>,
    /// Only people of this unit.
    #[param(value_type = Option<String>)]
    pub(crate) unit: Option<Code>,
    /// Only this grade code of the cycle's scale, or `none` (不定等次).
    #[param(example = "excellent")]
    pub(crate) grade: Option<String>,
    /// Page and page size (documented by [`Paging`]).
    #[param(ignore)]
    pub(crate) paging: Paging,
}

impl FromQuery for ResultsParams {
    fn from_query(params: &QueryParams) -> Result<Self, ApiError> {
        let paging = Paging::from_query(params)?;
        Ok(Self {
            revision: params.get("revision")?,
            unit: params.get("unit")?,
            grade: params.get("grade")?,
            paging,
        })
    }
}

/// One page of a revision's results.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ResultsOut {
    /// Cycle id.
    cycle: i64,
    /// The revision listed (0: none yet).
    revision: i64,
    /// What made it: `compute`, `final` or `amendment`.
    revision_kind: Option<&'static str>,
    /// Labels of that.
    revision_kind_label: Option<Label>,
    /// Whether it is locked (final or amendment).
    locked: bool,
    /// The reason of an amendment.
    reason: Option<String>,
    /// Results of this page, by rank then cadre id.
    items: Vec<ResultOut>,
    /// Results matching across all pages.
    total: usize,
    /// This page, from 1.
    page: u32,
    /// Rows per page.
    per_page: u32,
}

/// A cadre's result in a final cycle.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CadreResultOut {
    /// The cycle.
    cycle: CycleOut,
    /// The result of its current revision.
    result: ResultOut,
}

/// A cadre's results of final cycles.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CadreResultsOut {
    /// Cadre id.
    person_id: String,
    /// Newest period first.
    items: Vec<CadreResultOut>,
}

/// A final cycle's results in one unit.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UnitCycleResultsOut {
    /// The cycle.
    cycle: CycleOut,
    /// The results of its current revision of the people assessed in the unit, by rank.
    results: Vec<ResultOut>,
}

/// A unit's results of final cycles.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UnitResultsOut {
    /// Unit code.
    unit: String,
    /// Final cycles that assessed people in the unit, newest period first.
    items: Vec<UnitCycleResultsOut>,
}

/// Lists the stored framework versions; the built-in presets are stored on first use.
#[utoipa::path(
    get,
    path = "/api/v1/frameworks",
    tag = "cycles",
    responses(
        (status = 200, description = "Stored framework versions", body = FrameworkList),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an assessor", body = ErrorBody),
        (status = 500, description = "Storage failure", body = ErrorBody),
    )
)]
pub(super) async fn list_frameworks(
    State(state): State<AppState>,
) -> Result<Json<FrameworkList>, ApiError> {
    work::store_presets(state.store.as_ref(), "system").await?;
    let items = state
        .store
        .frameworks()
        .await?
        .into_iter()
        .map(|f| FrameworkOut::new(f, state.utc_offset))
        .collect();
    Ok(Json(FrameworkList { items }))
}

/// Stores a framework version from its TOML file (the request body, UTF-8).
#[utoipa::path(
    post,
    path = "/api/v1/frameworks",
    tag = "cycles",
    request_body(content = String, content_type = "application/toml", description = "The framework file (TOML)"),
    responses(
        (status = 201, description = "Stored", body = FrameworkStoredOut),
        (status = 200, description = "The same version with the same content is stored already", body = FrameworkStoredOut),
        (status = 403, description = "Not an assessor", body = ErrorBody),
        (status = 409, description = "A different file is stored under this version (`version_taken`): give it a new `version`", body = ErrorBody),
        (status = 422, description = "The file does not parse or breaks a rule (`invalid_framework`); every problem is listed", body = ErrorBody),
    )
)]
pub(super) async fn upload_framework(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<(StatusCode, Json<FrameworkStoredOut>), ApiError> {
    let source = std::str::from_utf8(&body)
        .map_err(|e| ApiError::invalid_field("body", format!("not UTF-8 text: {e}")))?;
    let (fw, stored) =
        work::save_framework(state.store.as_ref(), source, "upload", actor(&caller)?)
            .await
            .map_err(|e| match e {
                CycleRunError::Store(StoreError::Conflict(reason)) => ApiError::Conflict {
                    code: "version_taken",
                    reason,
                },
                e => e.into(),
            })?;
    let status = if stored {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(FrameworkStoredOut {
            id: fw.id().to_owned(),
            version: fw.version().to_owned(),
            name: fw.name().to_owned(),
            stored,
        }),
    ))
}

/// Lists the cycles whose every unit lies in the caller's scope.
#[utoipa::path(
    get,
    path = "/api/v1/cycles",
    tag = "cycles",
    responses(
        (status = 200, description = "The cycles", body = CycleList),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an assessor", body = ErrorBody),
        (status = 500, description = "Storage failure", body = ErrorBody),
    )
)]
pub(super) async fn list_cycles(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<CycleList>, ApiError> {
    let store = state.store.as_ref();
    let visible: HashSet<Code> = data::units_in_scope(store, &caller, Permission::ViewCycles)
        .await?
        .into_iter()
        .map(|u| u.code)
        .collect();
    let mut items = Vec::new();
    for c in store.cycles().await? {
        let units = store.cycle_units(c.id).await?;
        if units.iter().all(|u| visible.contains(u)) {
            items.push(CycleOut::new(&c, state.utc_offset));
        }
    }
    Ok(Json(CycleList { items }))
}

/// Creates a cycle in draft: the people of the scope's units on the period's last day, from
/// the organization data, and the changes during the period.
#[utoipa::path(
    post,
    path = "/api/v1/cycles",
    tag = "cycles",
    request_body = CycleIn,
    responses(
        (status = 201, description = "Created", body = CycleDetailOut),
        (status = 403, description = "Not an assessor, or a unit outside the caller's scope", body = ErrorBody),
        (status = 422, description = "A field is invalid, the period does not fit the kind (`invalid_period`), the framework version is not stored (`invalid_framework`), units do not exist (`unknown_units`)", body = ErrorBody),
    )
)]
pub(super) async fn create_cycle(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<CycleDetailOut>), ApiError> {
    let input: CycleIn = parse_body(&body)?;
    let day = |field: &str, text: &str| {
        Date::parse(
            text.trim(),
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|e| ApiError::invalid_field(field, format!("{e} (expected YYYY-MM-DD)")))
    };
    let start = day("from", &input.from)?;
    let end = day("to", &input.to)?;
    let store = state.store.as_ref();
    let mut units = Vec::with_capacity(input.units.len());
    for (i, u) in input.units.iter().enumerate() {
        let code = Code::parse(u.trim())
            .map_err(|e| ApiError::invalid_field(format!("units[{i}]"), e.to_string()))?;
        // Units that do not exist are reported by the step, all at once.
        if store.get_unit(&code).await?.is_some() {
            data::check_unit(store, &caller, Permission::ManageCycles, &code).await?;
        }
        units.push(code);
    }
    let actor = actor(&caller)?;
    work::store_presets(store, "system").await?;
    let spec = CycleSpec {
        name: input.name,
        kind: input.kind,
        start,
        end,
        framework_id: input.framework.trim().to_owned(),
        framework_version: input
            .framework_version
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty()),
        units,
    };
    let id = work::create(store, &spec, actor).await?;
    let cycle = store
        .cycle(id)
        .await?
        .ok_or_else(|| ApiError::not_found("cycle", id.to_string()))?;
    Ok((StatusCode::CREATED, Json(detail(&state, &cycle).await?)))
}

/// One cycle: state, period, framework, people, scope, revisions and the grade distribution
/// per unit of the current revision.
#[utoipa::path(
    get,
    path = "/api/v1/cycles/{id}",
    tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id")),
    responses(
        (status = 200, description = "The cycle", body = CycleDetailOut),
        (status = 403, description = "A unit of the cycle is outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such cycle", body = ErrorBody),
    )
)]
pub(super) async fn get_cycle(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CycleDetailOut>, ApiError> {
    let cycle = cycle_in_scope(&state, &caller, &id, Permission::ViewCycles).await?;
    Ok(Json(detail(&state, &cycle).await?))
}

/// Opens a draft for collecting values.
#[utoipa::path(
    post,
    path = "/api/v1/cycles/{id}/open",
    tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id")),
    responses(
        (status = 200, description = "Collecting", body = StateOut),
        (status = 403, description = "Not allowed, or outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such cycle", body = ErrorBody),
        (status = 409, description = "The cycle is not a draft (`wrong_state`), or another step came first (`conflict`)", body = ErrorBody),
    )
)]
pub(super) async fn open_cycle(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<StateOut>, ApiError> {
    step(&state, &caller, &id, work::StateStep::Open).await
}

/// Submits the computed result to the assessment committee.
#[utoipa::path(
    post,
    path = "/api/v1/cycles/{id}/review",
    tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id")),
    responses(
        (status = 200, description = "Under committee review", body = StateOut),
        (status = 403, description = "Not allowed, or outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such cycle", body = ErrorBody),
        (status = 409, description = "The cycle is not computed (`wrong_state`), or another step came first (`conflict`)", body = ErrorBody),
    )
)]
pub(super) async fn review_cycle(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<StateOut>, ApiError> {
    step(&state, &caller, &id, work::StateStep::SubmitReview).await
}

async fn step(
    state: &AppState,
    caller: &Caller,
    id: &str,
    step: work::StateStep,
) -> Result<Json<StateOut>, ApiError> {
    let cycle = cycle_in_scope(state, caller, id, step.action().permission()).await?;
    let to = work::advance(state.store.as_ref(), cycle.id, step, actor(caller)?).await?;
    Ok(Json(state_out(cycle.id, to, cycle.revision)))
}

/// Stores indicator values of people (all or nothing; every problem listed, by row from 1):
/// a person given again replaces their earlier values.
#[utoipa::path(
    post,
    path = "/api/v1/cycles/{id}/values",
    tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id")),
    request_body = ValuesIn,
    responses(
        (status = 200, description = "Stored", body = ImportedOut),
        (status = 403, description = "Not allowed, or outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such cycle", body = ErrorBody),
        (status = 409, description = "The cycle is not collecting or computed (`wrong_state`, e.g. final: correct it by amendment)", body = ErrorBody),
        (status = 422, description = "A malformed field, or values that do not fit the cycle (`invalid_values`: people outside its scope, unknown columns), each with its row", body = ErrorBody),
    )
)]
pub(super) async fn post_values(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<ImportedOut>, ApiError> {
    let cycle = cycle_in_scope(&state, &caller, &id, Action::ImportValues.permission()).await?;
    Action::ImportValues
        .check(cycle.state)
        .map_err(CycleRunError::from)?;
    let input: ValuesIn = parse_body(&body)?;
    let store = state.store.as_ref();
    let (_, fw) =
        work::load_framework(store, &cycle.framework_id, &cycle.framework_version).await?;
    let table = value_table(&cycle, &fw, &input.columns, input.people)?;
    let people = work::import_values(store, cycle.id, &table, actor(&caller)?).await?;
    Ok(Json(ImportedOut { people }))
}

/// Computes scores, ranks, rank intervals and grades, gathering the values of the sources
/// first; the result is a new revision. A second computation while one runs is refused.
#[utoipa::path(
    post,
    path = "/api/v1/cycles/{id}/compute",
    tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id")),
    responses(
        (status = 200, description = "Computed", body = ComputedOut),
        (status = 403, description = "Not allowed, or outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such cycle", body = ErrorBody),
        (status = 409, description = "The cycle is not collecting or computed (`wrong_state`), or a computation is under way (`conflict`)", body = ErrorBody),
        (status = 422, description = "The engine refused the values (`cannot_compute`)", body = ErrorBody),
    )
)]
pub(super) async fn compute_cycle(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ComputedOut>, ApiError> {
    let cycle = cycle_in_scope(&state, &caller, &id, Action::Compute.permission()).await?;
    let done = work::compute(
        state.store.as_ref(),
        cycle.id,
        &state.value_sources,
        &state.cycles,
        actor(&caller)?,
    )
    .await?;
    let scale = cycle.kind.scale();
    let grades = (0..5)
        .map(|level| {
            let (grade, grade_label) = grade_of(scale, u8::try_from(level).ok().filter(|l| *l < 4));
            GradeCountOut {
                grade,
                grade_label,
                count: done.grades[level],
            }
        })
        .collect();
    Ok(Json(ComputedOut {
        revision: done.revision,
        people: done.people,
        grades,
        ties: done.ties,
        warnings: done.warnings,
    }))
}

/// What is missing, per indicator, and what the missing-value rule will do.
#[utoipa::path(
    get,
    path = "/api/v1/cycles/{id}/completeness",
    tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id")),
    responses(
        (status = 200, description = "Completeness", body = CompletenessOut),
        (status = 403, description = "Outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such cycle", body = ErrorBody),
    )
)]
pub(super) async fn completeness(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CompletenessOut>, ApiError> {
    let cycle = cycle_in_scope(&state, &caller, &id, Permission::ViewCycles).await?;
    let (people, columns) = work::completeness(state.store.as_ref(), cycle.id).await?;
    Ok(Json(CompletenessOut {
        people,
        columns: columns
            .into_iter()
            .map(|m| MissingOut {
                column: m.column,
                name: m.name,
                missing: m.missing,
                rule: m.rule,
                people: m.people.iter().map(Code::to_string).collect(),
            })
            .collect(),
    }))
}

/// What the committee is to decide on the current revision: each tie at a quota line with
/// the people side by side, the flagged people, and the decisions so far.
#[utoipa::path(
    get,
    path = "/api/v1/cycles/{id}/committee",
    tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id")),
    responses(
        (status = 200, description = "Ties, flags and decisions", body = CommitteeOut),
        (status = 403, description = "Outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such cycle", body = ErrorBody),
    )
)]
pub(super) async fn committee(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CommitteeOut>, ApiError> {
    let cycle = cycle_in_scope(&state, &caller, &id, Permission::ViewCycles).await?;
    let store = state.store.as_ref();
    let revisions = store.revisions(cycle.id).await?;
    let current = revisions.iter().find(|r| r.revision == cycle.revision);
    let indicators = indicators_of(current);
    let scale = cycle.kind.scale();
    let rows = if cycle.revision > 0 {
        store.results(cycle.id, cycle.revision).await?
    } else {
        Vec::new()
    };
    let mut ties = Vec::new();
    if let Some(revision) = current {
        let (_, fw) =
            work::load_framework(store, &cycle.framework_id, &cycle.framework_version).await?;
        for tie in work::ties_of(&rows, &revision.summary, fw.quota_scope()) {
            let tied: BTreeSet<&Code> = tie.tied.iter().collect();
            ties.push(TieOut {
                scope: tie.scope.clone(),
                k: tie.k,
                awarded: tie.awarded,
                people: rows
                    .iter()
                    .filter(|r| tied.contains(&r.cadre))
                    .map(|r| ResultOut::new(r, scale, &indicators))
                    .collect(),
            });
        }
    }
    let flagged = rows
        .iter()
        .filter(|r| !r.flags.is_empty() && r.rule != work::TIE_RULE)
        .map(|r| ResultOut::new(r, scale, &indicators))
        .collect();
    let decisions = store
        .decisions(cycle.id)
        .await?
        .iter()
        .map(|d| DecisionOut::new(d, state.utc_offset))
        .collect();
    Ok(Json(CommitteeOut {
        cycle: cycle.id,
        state: cycle.state.code(),
        state_label: label(cycle.state),
        revision: cycle.revision,
        indicators,
        ties,
        flagged,
        decisions,
    }))
}

/// Records a decision of the assessment committee on the current revision; the signed-in
/// account is the one who decided. The quota holds with every decision.
#[utoipa::path(
    post,
    path = "/api/v1/cycles/{id}/decisions",
    tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id")),
    request_body = DecisionIn,
    responses(
        (status = 201, description = "Recorded", body = DecisionOut),
        (status = 403, description = "Not a committee decider, or outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such cycle", body = ErrorBody),
        (status = 409, description = "The cycle is not under committee review (`wrong_state`)", body = ErrorBody),
        (status = 422, description = "A malformed field, no reason (`reason_required`), a person not waiting for a decision (`not_pending`), or beyond the quota (`quota_exceeded`)", body = ErrorBody),
    )
)]
pub(super) async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<DecisionOut>), ApiError> {
    let cycle = cycle_in_scope(&state, &caller, &id, Action::Decide.permission()).await?;
    let input: DecisionIn = parse_body(&body)?;
    let person = Code::parse(input.person.trim())
        .map_err(|e| ApiError::invalid_field("person", e.to_string()))?;
    let store = state.store.as_ref();
    work::decide(
        store,
        cycle.id,
        &person,
        input.decision,
        &input.reason,
        actor(&caller)?,
    )
    .await?;
    let decisions = store.decisions(cycle.id).await?;
    let recorded = decisions
        .iter()
        .rev()
        .find(|d| d.cadre == person)
        .ok_or_else(|| ApiError::not_found("decision", person.to_string()))?;
    Ok((
        StatusCode::CREATED,
        Json(DecisionOut::new(recorded, state.utc_offset)),
    ))
}

/// Locks the results: the current revision with the committee's decisions becomes final.
#[utoipa::path(
    post,
    path = "/api/v1/cycles/{id}/finalize",
    tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id")),
    responses(
        (status = 200, description = "Final", body = StateOut),
        (status = 403, description = "Not allowed, or outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such cycle", body = ErrorBody),
        (status = 409, description = "The cycle is not under committee review (`wrong_state`), or another step came first (`conflict`)", body = ErrorBody),
        (status = 422, description = "A tie at a quota line is undecided (`undecided_ties`)", body = ErrorBody),
    )
)]
pub(super) async fn finalize(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<StateOut>, ApiError> {
    let cycle = cycle_in_scope(&state, &caller, &id, Action::Finalize.permission()).await?;
    let revision = work::finalize(state.store.as_ref(), cycle.id, actor(&caller)?).await?;
    Ok(Json(state_out(cycle.id, CycleState::Final, revision)))
}

/// Corrects a final cycle (更正): the reason is required; corrected values (optional) are
/// stored as the amendment's own; the cycle is recomputed and the new result kept beside the
/// one it corrects.
#[utoipa::path(
    post,
    path = "/api/v1/cycles/{id}/amendments",
    tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id")),
    request_body = AmendIn,
    responses(
        (status = 201, description = "Amended", body = AmendedOut),
        (status = 403, description = "Not allowed, or outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such cycle", body = ErrorBody),
        (status = 409, description = "The cycle is not final (`wrong_state`), or a computation is under way (`conflict`)", body = ErrorBody),
        (status = 422, description = "No reason (`reason_required`), a malformed field, or values that do not fit the cycle (`invalid_values`)", body = ErrorBody),
    )
)]
pub(super) async fn amend(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<AmendedOut>), ApiError> {
    let cycle = cycle_in_scope(&state, &caller, &id, Action::Amend.permission()).await?;
    let input: AmendIn = parse_body(&body)?;
    let store = state.store.as_ref();
    let table = match (input.columns, input.people) {
        (Some(columns), Some(people)) => {
            let (_, fw) =
                work::load_framework(store, &cycle.framework_id, &cycle.framework_version).await?;
            Some(value_table(&cycle, &fw, &columns, people)?)
        }
        (None, None) => None,
        (Some(_), None) => {
            return Err(ApiError::invalid_field(
                "people",
                "corrected values need both `columns` and `people`",
            ));
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid_field(
                "columns",
                "corrected values need both `columns` and `people`",
            ));
        }
    };
    let done = work::amend(
        store,
        cycle.id,
        table.as_ref(),
        &input.reason,
        &state.cycles,
        actor(&caller)?,
    )
    .await?;
    let scale = cycle.kind.scale();
    Ok((
        StatusCode::CREATED,
        Json(AmendedOut {
            revision: done.revision,
            corrects: done.corrects,
            changed: done
                .changed
                .iter()
                .map(|(cadre, before, after)| ChangedOut {
                    person_id: cadre.to_string(),
                    name: after.name.clone(),
                    before: brief(before, scale),
                    after: brief(after, scale),
                })
                .collect(),
        }),
    ))
}

/// The results of a revision (the current one unless asked), with names, filtered and paged.
#[utoipa::path(
    get,
    path = "/api/v1/cycles/{id}/results",
    tag = "cycles",
    params(("id" = i64, Path, description = "Cycle id"), ResultsParams, Paging),
    responses(
        (status = 200, description = "One page of results", body = ResultsOut),
        (status = 403, description = "Outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such cycle or revision", body = ErrorBody),
        (status = 422, description = "Invalid query parameter", body = ErrorBody),
    )
)]
pub(super) async fn results(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ResultsParams>,
) -> Result<Json<ResultsOut>, ApiError> {
    let cycle = cycle_in_scope(&state, &caller, &id, Permission::ViewCycles).await?;
    let scale = cycle.kind.scale();
    if let Some(g) = &p.grade
        && !grade_codes(scale).contains(&g.as_str())
    {
        return Err(ApiError::invalid_param(
            "grade",
            format!(
                "{g:?} is not a grade of this cycle (expected one of {})",
                grade_codes(scale).join(", ")
            ),
        ));
    }
    let store = state.store.as_ref();
    let revisions = store.revisions(cycle.id).await?;
    let number = p.revision.map_or(cycle.revision, i64::from);
    let revision = revisions.iter().find(|r| r.revision == number);
    if revision.is_none() && p.revision.is_some() {
        return Err(ApiError::not_found("revision", number.to_string()));
    }
    let indicators = indicators_of(revision);
    let rows = match revision {
        Some(r) => store.results(cycle.id, r.revision).await?,
        None => Vec::new(),
    };
    let matching: Vec<&ResultRow> = rows
        .iter()
        .filter(|r| p.unit.as_ref().is_none_or(|u| &r.unit == u))
        .filter(|r| {
            p.grade
                .as_deref()
                .is_none_or(|g| grade_of(scale, r.grade_level).0 == g)
        })
        .collect();
    let per_page = usize::try_from(p.paging.per_page).unwrap_or(usize::MAX);
    let skip = usize::try_from(p.paging.page - 1)
        .unwrap_or(usize::MAX)
        .saturating_mul(per_page);
    Ok(Json(ResultsOut {
        cycle: cycle.id,
        revision: revision.map_or(0, |r| r.revision),
        revision_kind: revision.map(|r| r.kind.code()),
        revision_kind_label: revision.map(|r| label(r.kind)),
        locked: revision.is_some_and(|r| r.locked),
        reason: revision.and_then(|r| r.reason.clone()),
        total: matching.len(),
        items: matching
            .into_iter()
            .skip(skip)
            .take(per_page)
            .map(|r| ResultOut::new(r, scale, &indicators))
            .collect(),
        page: p.paging.page,
        per_page: p.paging.per_page,
    }))
}

/// A cadre's results of final cycles (current revision of each): an official their own, a
/// unit leader those of their unit's cadres, an assessor those of the units assigned. Nothing
/// of a cycle that is not final.
#[utoipa::path(
    get,
    path = "/api/v1/cadres/{id}/results",
    tag = "cycles",
    params(("id" = String, Path, description = "Cadre id")),
    responses(
        (status = 200, description = "Results of final cycles, newest period first", body = CadreResultsOut),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The record is outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such cadre", body = ErrorBody),
    )
)]
pub(super) async fn cadre_results(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CadreResultsOut>, ApiError> {
    let not_found = || ApiError::not_found("cadre", id.as_str());
    let code = Code::parse(&id).map_err(|_| not_found())?;
    let store = state.store.as_ref();
    data::check_cadre_scope(store, &caller, &code).await?;
    let cadre = store.get_cadre(&code).await?.ok_or_else(not_found)?;
    let ancestors = data::ancestor_codes(store, &cadre.unit).await?;
    let target = Target::Cadre {
        id: &code,
        unit: &cadre.unit,
        unit_ancestors: &ancestors,
    };
    if !caller.0.may(Permission::ViewCycles, target) {
        caller.check(Permission::ViewOwnResults, target)?;
    }
    let mut items = Vec::new();
    for (cycle, row) in store.final_results_of(&code).await? {
        let revisions = store.revisions(cycle.id).await?;
        let indicators = indicators_of(revisions.iter().find(|r| r.revision == cycle.revision));
        items.push(CadreResultOut {
            result: ResultOut::new(&row, cycle.kind.scale(), &indicators),
            cycle: CycleOut::new(&cycle, state.utc_offset),
        });
    }
    Ok(Json(CadreResultsOut {
        person_id: code.to_string(),
        items,
    }))
}

/// The results of final cycles (current revision of each) of the people assessed in a unit:
/// for the unit's leader and the assessors of the unit. Nothing of a cycle that is not final.
#[utoipa::path(
    get,
    path = "/api/v1/units/{code}/results",
    tag = "cycles",
    params(("code" = String, Path, description = "Unit code", example = "340102")),
    responses(
        (status = 200, description = "Results of final cycles, newest period first", body = UnitResultsOut),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The unit is outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such unit", body = ErrorBody),
    )
)]
pub(super) async fn unit_results(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<UnitResultsOut>, ApiError> {
    let not_found = || ApiError::not_found("unit", code.as_str());
    let unit = Code::parse(&code).map_err(|_| not_found())?;
    let store = state.store.as_ref();
    store.get_unit(&unit).await?.ok_or_else(not_found)?;
    let ancestors = data::ancestor_codes(store, &unit).await?;
    let target = Target::Unit {
        code: &unit,
        ancestors: &ancestors,
    };
    if !caller.0.may(Permission::ViewCycles, target) {
        caller.check(Permission::ViewOwnResults, target)?;
    }
    let mut items = Vec::new();
    for cycle in store.cycles().await? {
        if cycle.state != CycleState::Final {
            continue;
        }
        let rows = store.results(cycle.id, cycle.revision).await?;
        if !rows.iter().any(|r| r.unit == unit) {
            continue;
        }
        let revisions = store.revisions(cycle.id).await?;
        let indicators = indicators_of(revisions.iter().find(|r| r.revision == cycle.revision));
        let scale = cycle.kind.scale();
        items.push(UnitCycleResultsOut {
            results: rows
                .iter()
                .filter(|r| r.unit == unit)
                .map(|r| ResultOut::new(r, scale, &indicators))
                .collect(),
            cycle: CycleOut::new(&cycle, state.utc_offset),
        });
    }
    Ok(Json(UnitResultsOut {
        unit: unit.to_string(),
        items,
    }))
}
