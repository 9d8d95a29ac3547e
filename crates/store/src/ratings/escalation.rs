//! Escalation of overdue rectifications (逾期督办): the sweep that records, once each, the
//! rectifications the rule of `kaohe_domain::ratings::escalation` escalates, with their
//! recipients and an audit entry. The server runs it at start and periodically, `kaohe ratings
//! escalate` once.

use crate::{Store, StoreError};
use kaohe_domain::audit::action;
use kaohe_domain::ratings::escalation::{Recipients, escalates};
use kaohe_domain::ratings::rectification::Status;
use kaohe_domain::{
    CalendarError, Code, Labeled, NewAuditEntry, UnitTree, UserPrincipal, WorkCalendar,
};
use time::Date;

/// An open rectification past its deadline and not escalated yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationCandidate {
    /// The bad review.
    pub rating_id: i64,
    /// Responsible unit.
    pub unit: Code,
    /// Deadline.
    pub deadline: Date,
    /// Where it stands.
    pub status: Status,
}

/// A recorded escalation (督办) of a rectification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    /// The bad review.
    pub rating_id: i64,
    /// Responsible unit.
    pub unit: Code,
    /// Deadline of the rectification.
    pub deadline: Date,
    /// The day the rule escalates it: the first working day after the deadline.
    pub due_on: Date,
    /// The day the sweep recorded it (later than `due_on` when no sweep ran that day).
    pub on: Date,
    /// Account names of the unit's leaders it went to.
    pub leaders: Vec<String>,
    /// Account names of the assessors it went to.
    pub assessors: Vec<String>,
    /// When it was recorded, unix seconds.
    pub at: i64,
}

/// Why a sweep failed; nothing of it was recorded.
#[derive(Debug, thiserror::Error)]
pub enum EscalationError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A deadline at the end of the calendar's range.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

/// Records the escalation of every open rectification that the rule escalates on `today`, in
/// one transaction with one audit entry each (`rectification.escalated`, by `actor`), and
/// returns them. Idempotent: a rectification escalated already is left alone, so a second
/// sweep records nothing. Rectifications of reviews excluded by an upheld appeal are not
/// escalated. Recipients are the active accounts at the time of the sweep.
pub async fn escalate_overdue(
    store: &dyn Store,
    today: Date,
    at: i64,
    actor: &str,
) -> Result<Vec<Escalation>, EscalationError> {
    let candidates = store.escalation_candidates(today).await?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let calendar = WorkCalendar::new(&store.calendar().await?);
    let accounts: Vec<UserPrincipal> = store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| !u.disabled)
        .map(|u| UserPrincipal {
            username: u.username,
            roles: u.roles,
            units: u.units,
            cadre: u.cadre,
        })
        .collect();
    let tree = UnitTree::new(&store.all_units().await?);
    let mut due = Vec::new();
    for c in candidates {
        let Some(due_on) = escalates(c.deadline, c.status != Status::Closed, today, &calendar)?
        else {
            continue;
        };
        let to = Recipients::of(&accounts, &c.unit, &tree.ancestors(&c.unit));
        let escalation = Escalation {
            rating_id: c.rating_id,
            unit: c.unit,
            deadline: c.deadline,
            due_on,
            on: today,
            leaders: to.leaders,
            assessors: to.assessors,
            at,
        };
        let audit = NewAuditEntry::new(
            actor,
            action::RECTIFICATION_ESCALATED,
            format!("rating:{}", escalation.rating_id),
        )
        .before(serde_json::json!({"status": c.status.code(), "escalated_on": null}).to_string())
        .after(
            serde_json::json!({
                "status": c.status.code(),
                "escalated_on": escalation.on.to_string(),
                "due_on": escalation.due_on.to_string(),
                "deadline": escalation.deadline.to_string(),
                "unit": escalation.unit.as_str(),
                "leaders": escalation.leaders,
                "assessors": escalation.assessors,
            })
            .to_string(),
        );
        due.push((escalation, audit));
    }
    let recorded: std::collections::HashSet<i64> =
        store.record_escalations(&due).await?.into_iter().collect();
    Ok(due
        .into_iter()
        .map(|(e, _)| e)
        .filter(|e| recorded.contains(&e.rating_id))
        .collect())
}

/// Space-separated account names, as stored.
pub(crate) fn names_text(names: &[String]) -> String {
    names.join(" ")
}

/// A candidate row as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct CandidateRow {
    rating_id: i64,
    unit: String,
    deadline: Date,
    status: String,
}

impl CandidateRow {
    pub(crate) fn into_domain(self) -> Result<EscalationCandidate, StoreError> {
        const T: &str = "rectifications";
        Ok(EscalationCandidate {
            rating_id: self.rating_id,
            unit: crate::sql::parse_code(T, "unit", &self.unit)?,
            deadline: self.deadline,
            status: crate::sql::label(T, "status", &self.status)?,
        })
    }
}

/// An escalation row as stored, with its rectification's unit and deadline.
#[derive(sqlx::FromRow)]
pub(crate) struct EscalationRow {
    rating_id: i64,
    unit: String,
    deadline: Date,
    due_on: Date,
    on_day: Date,
    leaders: String,
    assessors: String,
    at: i64,
}

/// Columns of [`EscalationRow`], from `rectification_escalations e JOIN rectifications x`.
pub(crate) const ESCALATION_COLS: &str =
    "e.rating_id, x.unit, x.deadline, e.due_on, e.on_day, e.leaders, e.assessors, e.at";

impl EscalationRow {
    pub(crate) fn into_domain(self) -> Result<Escalation, StoreError> {
        let names = |s: &str| s.split_whitespace().map(str::to_owned).collect();
        Ok(Escalation {
            rating_id: self.rating_id,
            unit: crate::sql::parse_code("rectifications", "unit", &self.unit)?,
            deadline: self.deadline,
            due_on: self.due_on,
            on: self.on_day,
            leaders: names(&self.leaders),
            assessors: names(&self.assessors),
            at: self.at,
        })
    }
}
