//! Assessment cycles (考核周期): their kinds, their life from draft to final, the people they
//! assess, and the rules of the assessment committee (考核委员会) and of amendments.
//!
//! A cycle assesses the people of a scope of units over a period against one version of an
//! indicator framework. Its states run draft (草稿) → collecting (采集中) → computed (已计算) →
//! committee review (委员会审议) → final (已定稿); each step is an [`Action`] that needs its own
//! permission. A final cycle's results never change in place: a correction is an amendment
//! (更正) with a reason, recomputed and kept beside the result it corrects.
//!
//! Records (纪实), polls (民主测评) and ratings (好差评) all end as indicator values of a person in
//! a cycle's period; [`ValueOrigin`] names where each value came from.

use crate::access::Permission;
use crate::code::Code;
use crate::grade::GradeScale;
use crate::labels::Labeled;
use crate::org::Appointment;
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, Month};

crate::labeled_enum! {
    /// What a cycle assesses, and how often.
    pub enum CycleKind: "cycle kind" {
        /// 平时考核: one quarter, routine grades 好/较好/一般/较差.
        Routine = ("routine", "平时考核", "Routine assessment"),
        /// 年度考核: one calendar year, annual grades 优秀/称职/基本称职/不称职.
        Annual = ("annual", "年度考核", "Annual assessment"),
        /// 专项考核: a task or a campaign, any period.
        Special = ("special", "专项考核", "Special assessment"),
        /// 任期考核: a term of office, any period.
        Term = ("term", "任期考核", "Term assessment"),
        /// 绩效考核: units and leadership teams, team grades 优秀/良好/一般/较差.
        Performance = ("performance", "绩效考核", "Performance assessment"),
    }
}

impl CycleKind {
    /// The grade scale of the kind's results.
    pub fn scale(self) -> GradeScale {
        match self {
            CycleKind::Routine => GradeScale::Routine,
            CycleKind::Performance => GradeScale::Team,
            CycleKind::Annual | CycleKind::Special | CycleKind::Term => GradeScale::Annual,
        }
    }
}

crate::labeled_enum! {
    /// Where a cycle stands.
    pub enum CycleState: "cycle state" {
        /// 草稿: period, framework and scope can still change; nothing gathered.
        Draft = ("draft", "草稿", "Draft"),
        /// 采集中: values are imported and gathered.
        Collecting = ("collecting", "采集中", "Collecting"),
        /// 已计算: scores and grades computed; can be recomputed.
        Computed = ("computed", "已计算", "Computed"),
        /// 委员会审议: the assessment committee decides ties and flags.
        Review = ("review", "委员会审议", "Committee review"),
        /// 已定稿: results locked; corrected only by amendment.
        Final = ("final", "已定稿", "Final"),
    }
}

crate::labeled_enum! {
    /// A step of a cycle's life, each its own permission and audit entry.
    pub enum Action: "cycle action" {
        /// Open a draft for collecting (开始采集).
        Open = ("open", "开始采集", "Open for collecting"),
        /// Import or gather values (导入数据).
        ImportValues = ("import_values", "导入数据", "Import values"),
        /// Compute scores and grades (计算).
        Compute = ("compute", "计算", "Compute"),
        /// Hand the computed result to the committee (提交审议).
        SubmitReview = ("submit_review", "提交委员会审议", "Submit to the committee"),
        /// Record a committee decision (委员会决定).
        Decide = ("decide", "委员会决定", "Committee decision"),
        /// Lock the results (定稿).
        Finalize = ("finalize", "定稿", "Finalize"),
        /// Correct a final result (更正).
        Amend = ("amend", "更正", "Amend"),
    }
}

impl Action {
    /// The permission the action needs.
    pub fn permission(self) -> Permission {
        match self {
            Action::Open | Action::ImportValues | Action::Compute | Action::SubmitReview => {
                Permission::ManageCycles
            }
            Action::Decide => Permission::DecideCommittee,
            Action::Finalize => Permission::FinalizeCycle,
            Action::Amend => Permission::AmendResults,
        }
    }

    /// The states the action may be taken in.
    pub fn allowed_in(self) -> &'static [CycleState] {
        use CycleState as S;
        match self {
            Action::Open => &[S::Draft],
            Action::ImportValues => &[S::Collecting, S::Computed],
            Action::Compute => &[S::Collecting, S::Computed],
            Action::SubmitReview => &[S::Computed],
            Action::Decide => &[S::Review],
            Action::Finalize => &[S::Review],
            Action::Amend => &[S::Final],
        }
    }

    /// The state after the action, from `state`.
    pub fn next_state(self, state: CycleState) -> CycleState {
        match self {
            Action::Open => CycleState::Collecting,
            Action::ImportValues => CycleState::Collecting,
            Action::Compute => CycleState::Computed,
            Action::SubmitReview => CycleState::Review,
            Action::Decide => state,
            Action::Finalize | Action::Amend => CycleState::Final,
        }
    }

    /// Checks that the action may be taken in `state`, and returns the state after it.
    pub fn check(self, state: CycleState) -> Result<CycleState, CycleError> {
        if self.allowed_in().contains(&state) {
            Ok(self.next_state(state))
        } else {
            Err(CycleError::WrongState {
                action: self,
                state,
            })
        }
    }
}

/// Why a cycle cannot be created or changed as asked. Each message says what and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CycleError {
    /// The action does not fit the cycle's state.
    #[error("cannot {} a cycle that is {} ({}): allowed only when {}", action.en().to_lowercase(), state.zh(), state.code(), allowed(*action))]
    WrongState {
        /// What was asked.
        action: Action,
        /// Where the cycle stands.
        state: CycleState,
    },
    /// The period ends before it starts.
    #[error("the period ends on {end}, before it starts on {start}")]
    PeriodOrder {
        /// First day.
        start: Date,
        /// Last day.
        end: Date,
    },
    /// The period does not fit the kind (a routine cycle is a calendar quarter, an annual one a
    /// calendar year).
    #[error("a {} cycle covers {expected}; {start} to {end} does not", kind.en().to_lowercase())]
    PeriodKind {
        /// The kind.
        kind: CycleKind,
        /// What it needs.
        expected: &'static str,
        /// First day given.
        start: Date,
        /// Last day given.
        end: Date,
    },
    /// The name is empty or too long.
    #[error("the cycle name must have 1 to {MAX_NAME} characters without control characters")]
    Name,
    /// The scope names no unit.
    #[error("the scope names no unit")]
    EmptyScope,
    /// A reason is required (committee decisions, amendments).
    #[error("a reason is required (1 to {MAX_REASON} characters without control characters)")]
    Reason,
    /// A committee decision would award the top grade beyond the quota.
    #[error(
        "the quota of {scope} allows {k} top grades; {awarded} are awarded already, so {asked} more cannot be"
    )]
    QuotaExceeded {
        /// Quota scope (unit, or unit/group).
        scope: String,
        /// Quota.
        k: u32,
        /// Awarded without the decision.
        awarded: u32,
        /// Asked for by the decision.
        asked: u32,
    },
    /// The person is not among those the committee is to decide.
    #[error("{person} is not waiting for a committee decision in this cycle")]
    NotPending {
        /// The person.
        person: Code,
    },
}

fn allowed(action: Action) -> String {
    action
        .allowed_in()
        .iter()
        .map(|s| format!("{} ({})", s.zh(), s.code()))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Longest cycle name, in characters.
pub const MAX_NAME: usize = 100;
/// Longest reason of a decision or an amendment, in characters.
pub const MAX_REASON: usize = 2000;

/// Checks a cycle name: 1 to [`MAX_NAME`] characters, no control characters; trimmed.
pub fn check_name(name: &str) -> Result<String, CycleError> {
    let t = name.trim();
    if t.is_empty() || t.chars().count() > MAX_NAME || t.chars().any(char::is_control) {
        return Err(CycleError::Name);
    }
    Ok(t.to_owned())
}

/// Checks the reason of a committee decision or an amendment: required, at most
/// [`MAX_REASON`] characters, no control characters but line breaks; trimmed.
pub fn check_reason(reason: &str) -> Result<String, CycleError> {
    let t = reason.trim();
    if t.is_empty()
        || t.chars().count() > MAX_REASON
        || t.chars().any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(CycleError::Reason);
    }
    Ok(t.to_owned())
}

/// The days a cycle covers, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Period {
    /// First day.
    pub start: Date,
    /// Last day.
    pub end: Date,
}

impl Period {
    /// A period of `kind` from `start` to `end`: a routine cycle covers one calendar quarter
    /// and an annual one a calendar year; the other kinds any non-empty period.
    pub fn new(kind: CycleKind, start: Date, end: Date) -> Result<Self, CycleError> {
        if end < start {
            return Err(CycleError::PeriodOrder { start, end });
        }
        let p = Self { start, end };
        let expected = match kind {
            CycleKind::Routine if Some(p) != Self::quarter_of(start) => "one calendar quarter",
            CycleKind::Annual if Some(p) != Self::year(start.year()) => "one calendar year",
            _ => return Ok(p),
        };
        Err(CycleError::PeriodKind {
            kind,
            expected,
            start,
            end,
        })
    }

    /// The calendar year `year`.
    pub fn year(year: i32) -> Option<Self> {
        Some(Self {
            start: Date::from_calendar_date(year, Month::January, 1).ok()?,
            end: Date::from_calendar_date(year, Month::December, 31).ok()?,
        })
    }

    /// The calendar quarter that `day` falls in.
    pub fn quarter_of(day: Date) -> Option<Self> {
        let q = (u8::from(day.month()) - 1) / 3;
        let first = Month::try_from(q * 3 + 1).ok()?;
        let last = Month::try_from(q * 3 + 3).ok()?;
        let start = Date::from_calendar_date(day.year(), first, 1).ok()?;
        let end = Date::from_calendar_date(day.year(), last, last.length(day.year())).ok()?;
        Some(Self { start, end })
    }

    /// Quarter `q` (1–4) of `year`.
    pub fn quarter(year: i32, q: u8) -> Option<Self> {
        if !(1..=4).contains(&q) {
            return None;
        }
        Self::quarter_of(Date::from_calendar_date(year, Month::try_from(q * 3).ok()?, 1).ok()?)
    }

    /// The assessed year: the year of the last day.
    pub fn assessed_year(&self) -> i32 {
        self.end.year()
    }

    /// Whether `day` lies in the period.
    pub fn contains(&self, day: Date) -> bool {
        self.start <= day && day <= self.end
    }
}

crate::labeled_enum! {
    /// Where an indicator value of a cycle came from.
    pub enum ValueOrigin: "value origin" {
        /// 导入: a values file imported into the cycle.
        Import = ("import", "导入文件", "Imported file"),
        /// 好差评: satisfaction figures computed from the stored ratings of the period.
        Ratings = ("ratings", "好差评", "Public ratings"),
        /// 纪实: indicator values from the period's verified work records.
        Records = ("records", "纪实", "Work records"),
        /// 单位主要负责人评价: the unit leader's judgement in a routine cycle.
        Judgement = ("judgement", "负责人评价", "Unit leader's judgement"),
        /// 民主测评: the counts of the evaluation polls held for the cycle.
        Polls = ("polls", "民主测评", "Evaluation polls"),
        /// 更正: a values file of an amendment.
        Amendment = ("amendment", "更正", "Amendment"),
    }
}

/// The indicator of a routine framework that holds the unit leader's judgement
/// (单位主要负责人评价) of each of their people.
pub const JUDGEMENT_COLUMN: &str = "leader_judgement";

/// The value a unit leader's judgement gives the judgement indicator: 好 95, 较好 85, 一般 70,
/// 较差 50 (the middle of each band of the routine grades' usual 0–100 scale).
pub fn judgement_value(grade: crate::RoutineGrade) -> f64 {
    match grade {
        crate::RoutineGrade::Good => 95.0,
        crate::RoutineGrade::FairlyGood => 85.0,
        crate::RoutineGrade::Fair => 70.0,
        crate::RoutineGrade::Poor => 50.0,
    }
}

/// The judgement a stored value stands for ([`judgement_value`] read back).
pub fn judgement_of(value: f64) -> Option<crate::RoutineGrade> {
    crate::RoutineGrade::ALL
        .iter()
        .copied()
        .find(|g| judgement_value(*g) == value)
}

/// A cadre assessed by a cycle: who, in which unit at the period's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedPerson {
    /// The cadre.
    pub cadre: Code,
    /// Unit served in on the period's last day.
    pub unit: Code,
}

crate::labeled_enum! {
    /// How a cadre's place in a cycle's scope changed during the period.
    pub enum ScopeChangeKind: "scope change" {
        /// 调入: came into a unit of the scope during the period.
        Joined = ("joined", "期间调入", "Joined during the period"),
        /// 调出: left the scope during the period (not assessed by this cycle).
        Left = ("left", "期间调出", "Left during the period"),
        /// 单位内调动: moved between units of the scope.
        Moved = ("moved", "范围内调动", "Moved within the scope"),
    }
}

/// A change of a cadre's place in the scope during the period, listed with the cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeChange {
    /// The cadre.
    pub cadre: Code,
    /// What changed.
    pub kind: ScopeChangeKind,
    /// The day it changed.
    pub on: Date,
    /// The unit before (outside the scope for a join).
    pub from: Option<Code>,
    /// The unit after (outside the scope for a leave).
    pub to: Option<Code>,
}

/// The people of a scope and the changes during the period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The people assessed, by cadre id.
    pub people: Vec<ScopedPerson>,
    /// Changes during the period, by day then cadre.
    pub changes: Vec<ScopeChange>,
}

/// The people of `units` (the scope, each unit with everything under it already expanded) on
/// the last day of `period`, from the appointment history; a serving cadre with no
/// appointment on record counts in their current unit (`current`: id, unit, serving). Changes
/// are appointments that started or ended inside the period and cross the scope's edge or move
/// within it.
pub fn scope_people<'a>(
    units: &BTreeSet<Code>,
    current: impl IntoIterator<Item = (&'a Code, &'a Code, bool)>,
    appointments: &[Appointment],
    period: Period,
) -> Scope {
    let mut by_cadre: BTreeMap<&Code, Vec<&Appointment>> = BTreeMap::new();
    for a in appointments {
        by_cadre.entry(&a.cadre).or_default().push(a);
    }
    let at = |list: &[&Appointment], day: Date| -> Option<Code> {
        list.iter()
            .filter(|a| a.start_date <= day && a.end_date.is_none_or(|e| e >= day))
            .max_by_key(|a| a.start_date)
            .map(|a| a.unit.clone())
    };
    let mut scope = Scope::default();
    for (cadre, unit, serving) in current {
        let history = by_cadre.get(cadre).map(Vec::as_slice).unwrap_or(&[]);
        let at_end = if history.is_empty() {
            serving.then(|| unit.clone())
        } else {
            at(history, period.end)
        };
        if let Some(u) = &at_end
            && units.contains(u)
        {
            scope.people.push(ScopedPerson {
                cadre: cadre.clone(),
                unit: u.clone(),
            });
        }
        // Each day in the period on which the cadre's unit changed.
        let mut days: BTreeSet<Date> = BTreeSet::new();
        for a in history {
            if period.contains(a.start_date) && a.start_date > period.start {
                days.insert(a.start_date);
            }
            if let Some(e) = a.end_date
                && let Some(next) = e.next_day()
                && period.contains(next)
                && next > period.start
            {
                days.insert(next);
            }
        }
        for day in days {
            let before = day.previous_day().and_then(|d| at(history, d));
            let after = at(history, day);
            if before == after {
                continue;
            }
            let inside = |u: &Option<Code>| u.as_ref().is_some_and(|u| units.contains(u));
            let kind = match (inside(&before), inside(&after)) {
                (false, true) => ScopeChangeKind::Joined,
                (true, false) => ScopeChangeKind::Left,
                (true, true) => ScopeChangeKind::Moved,
                (false, false) => continue,
            };
            scope.changes.push(ScopeChange {
                cadre: cadre.clone(),
                kind,
                on: day,
                from: before,
                to: after,
            });
        }
    }
    scope.people.sort_by(|a, b| a.cadre.cmp(&b.cadre));
    scope
        .changes
        .sort_by(|a, b| (a.on, &a.cadre).cmp(&(b.on, &b.cadre)));
    scope
}

crate::labeled_enum! {
    /// What the committee decides about one person.
    pub enum Decision: "committee decision" {
        /// Tied at the quota line: award the top grade (授予最高等次).
        AwardTop = ("award_top", "确定为最高等次", "Award the top grade"),
        /// Tied at the quota line: keep the next grade (维持次一等次).
        KeepNext = ("keep_next", "维持次一等次", "Keep the next grade"),
        /// A flag reviewed: the computed grade stands (维持计算结果).
        Confirm = ("confirm", "维持计算结果", "Confirm the computed grade"),
    }
}

/// One quota line with people tied across it, as the committee sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaTie {
    /// Quota scope (unit, or unit/group).
    pub scope: String,
    /// Quota: the most top grades in the scope.
    pub k: u32,
    /// Top grades awarded by the computation, before any decision.
    pub awarded: u32,
    /// The people tied across the line.
    pub tied: Vec<Code>,
}

/// Checks a set of committee decisions on one quota line: every decided person must be tied
/// there, and the top grades awarded with them must stay within the quota. Returns how many
/// top grades the line then has.
pub fn check_tie_decisions(
    tie: &QuotaTie,
    decisions: &BTreeMap<Code, Decision>,
) -> Result<u32, CycleError> {
    let mut asked = 0u32;
    for (person, d) in decisions {
        if !tie.tied.contains(person) || *d == Decision::Confirm {
            return Err(CycleError::NotPending {
                person: person.clone(),
            });
        }
        if *d == Decision::AwardTop {
            asked += 1;
        }
    }
    if tie.awarded + asked > tie.k {
        return Err(CycleError::QuotaExceeded {
            scope: tie.scope.clone(),
            k: tie.k,
            awarded: tie.awarded,
            asked,
        });
    }
    Ok(tie.awarded + asked)
}

/// Values of people by column id, as read from a file: `people[i]` has `values[i]`, one per
/// entry of `columns`; `rows[i]` is person `i`'s row in the file, for messages.
#[derive(Debug, Clone, Default)]
pub struct ValueTable {
    /// The file, for messages.
    pub file: String,
    /// Column ids (indicator ids of the framework).
    pub columns: Vec<String>,
    /// Person ids.
    pub people: Vec<String>,
    /// Unit ids given in the file, if any (checked against the cycle's).
    pub units: Vec<Option<String>>,
    /// Row numbers in the file.
    pub rows: Vec<usize>,
    /// Values, person-major.
    pub values: Vec<Vec<Option<f64>>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::RankLevel;
    use time::macros::date;

    fn code(s: &str) -> Code {
        Code::parse(s).expect("valid code")
    }

    #[test]
    fn states_follow_the_steps_and_refuse_the_rest() {
        assert_eq!(
            Action::Open.check(CycleState::Draft),
            Ok(CycleState::Collecting)
        );
        assert_eq!(
            Action::Compute.check(CycleState::Computed),
            Ok(CycleState::Computed)
        );
        assert_eq!(
            Action::Finalize.check(CycleState::Review),
            Ok(CycleState::Final)
        );
        let err = Action::ImportValues
            .check(CycleState::Final)
            .expect_err("final is locked");
        assert!(err.to_string().contains("已定稿"), "{err}");
        assert!(err.to_string().contains("采集中"), "{err}");
        assert!(Action::Decide.check(CycleState::Computed).is_err());
        assert!(Action::Amend.check(CycleState::Review).is_err());
        assert_eq!(
            Action::Amend.check(CycleState::Final),
            Ok(CycleState::Final)
        );
        for a in Action::ALL {
            assert!(!a.allowed_in().is_empty());
        }
    }

    #[test]
    fn periods_fit_their_kind() {
        assert!(
            Period::new(
                CycleKind::Annual,
                date!(2026 - 01 - 01),
                date!(2026 - 12 - 31)
            )
            .is_ok()
        );
        assert!(
            Period::new(
                CycleKind::Annual,
                date!(2026 - 01 - 01),
                date!(2026 - 06 - 30)
            )
            .is_err()
        );
        assert!(
            Period::new(
                CycleKind::Routine,
                date!(2026 - 04 - 01),
                date!(2026 - 06 - 30)
            )
            .is_ok()
        );
        assert!(
            Period::new(
                CycleKind::Routine,
                date!(2026 - 04 - 01),
                date!(2026 - 07 - 31)
            )
            .is_err()
        );
        assert!(
            Period::new(
                CycleKind::Term,
                date!(2021 - 06 - 01),
                date!(2026 - 05 - 31)
            )
            .is_ok()
        );
        assert!(matches!(
            Period::new(
                CycleKind::Special,
                date!(2026 - 05 - 01),
                date!(2026 - 04 - 01)
            ),
            Err(CycleError::PeriodOrder { .. })
        ));
        assert_eq!(
            Period::quarter(2024, 1).map(|p| p.end),
            Some(date!(2024 - 03 - 31))
        );
        assert_eq!(
            Period::quarter(2026, 4).map(|p| (p.start, p.end)),
            Some((date!(2026 - 10 - 01), date!(2026 - 12 - 31)))
        );
        assert_eq!(Period::quarter(2026, 5), None);
        assert_eq!(CycleKind::Performance.scale(), GradeScale::Team);
        assert_eq!(CycleKind::Routine.scale(), GradeScale::Routine);
        for g in crate::RoutineGrade::ALL {
            assert_eq!(judgement_of(judgement_value(*g)), Some(*g));
        }
        assert_eq!(judgement_of(71.0), None);
    }

    #[test]
    fn names_and_reasons_are_checked() {
        assert_eq!(check_name("  2026年度考核 "), Ok("2026年度考核".to_owned()));
        assert!(check_name("  ").is_err());
        assert!(check_name("a\u{0}b").is_err());
        assert!(check_reason("").is_err());
        assert!(check_reason(&"很".repeat(MAX_REASON + 1)).is_err());
        assert_eq!(
            check_reason("第一行\n第二行"),
            Ok("第一行\n第二行".to_owned())
        );
    }

    fn appointment(cadre: &str, unit: &str, start: Date, end: Option<Date>) -> Appointment {
        Appointment {
            cadre: code(cadre),
            unit: code(unit),
            post: "科员".to_owned(),
            rank: RankLevel::parse_label("一级科员").expect("rank"),
            start_date: start,
            end_date: end,
        }
    }

    #[test]
    fn scope_takes_the_unit_at_the_period_end_and_lists_changes() {
        let units: BTreeSet<Code> = [code("U1"), code("U2")].into_iter().collect();
        let period = Period::year(2026).expect("year");
        let apps = vec![
            // C1 stays in U1.
            appointment("C1", "U1", date!(2020 - 01 - 01), None),
            // C2 comes from outside in May.
            appointment(
                "C2",
                "X9",
                date!(2019 - 01 - 01),
                Some(date!(2026 - 04 - 30)),
            ),
            appointment("C2", "U2", date!(2026 - 05 - 01), None),
            // C3 leaves in August.
            appointment(
                "C3",
                "U2",
                date!(2018 - 01 - 01),
                Some(date!(2026 - 07 - 31)),
            ),
            appointment("C3", "X9", date!(2026 - 08 - 01), None),
            // C4 moves from U1 to U2 in March.
            appointment(
                "C4",
                "U1",
                date!(2018 - 01 - 01),
                Some(date!(2026 - 02 - 28)),
            ),
            appointment("C4", "U2", date!(2026 - 03 - 01), None),
        ];
        let current = [
            (code("C1"), code("U1"), true),
            (code("C2"), code("U2"), true),
            (code("C3"), code("X9"), true),
            (code("C4"), code("U2"), true),
            (code("C5"), code("U1"), true),
            (code("C6"), code("U1"), false),
        ];
        let scope = scope_people(
            &units,
            current.iter().map(|(c, u, s)| (c, u, *s)),
            &apps,
            period,
        );
        let people: Vec<(&str, &str)> = scope
            .people
            .iter()
            .map(|p| (p.cadre.as_str(), p.unit.as_str()))
            .collect();
        assert_eq!(
            people,
            [("C1", "U1"), ("C2", "U2"), ("C4", "U2"), ("C5", "U1")]
        );
        let changes: Vec<(&str, ScopeChangeKind, Date)> = scope
            .changes
            .iter()
            .map(|c| (c.cadre.as_str(), c.kind, c.on))
            .collect();
        assert_eq!(
            changes,
            [
                ("C4", ScopeChangeKind::Moved, date!(2026 - 03 - 01)),
                ("C2", ScopeChangeKind::Joined, date!(2026 - 05 - 01)),
                ("C3", ScopeChangeKind::Left, date!(2026 - 08 - 01)),
            ]
        );
    }

    #[test]
    fn committee_decisions_keep_the_quota() {
        let tie = QuotaTie {
            scope: "U1".to_owned(),
            k: 2,
            awarded: 1,
            tied: vec![code("C1"), code("C2")],
        };
        let one: BTreeMap<Code, Decision> = [
            (code("C1"), Decision::AwardTop),
            (code("C2"), Decision::KeepNext),
        ]
        .into_iter()
        .collect();
        assert_eq!(check_tie_decisions(&tie, &one), Ok(2));
        let both: BTreeMap<Code, Decision> = [
            (code("C1"), Decision::AwardTop),
            (code("C2"), Decision::AwardTop),
        ]
        .into_iter()
        .collect();
        let err = check_tie_decisions(&tie, &both).expect_err("beyond the quota");
        assert!(matches!(
            err,
            CycleError::QuotaExceeded {
                k: 2,
                awarded: 1,
                asked: 2,
                ..
            }
        ));
        let stranger: BTreeMap<Code, Decision> =
            [(code("C9"), Decision::AwardTop)].into_iter().collect();
        assert!(matches!(
            check_tie_decisions(&tie, &stranger),
            Err(CycleError::NotPending { .. })
        ));
    }
}
