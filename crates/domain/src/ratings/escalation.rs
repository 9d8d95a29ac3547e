//! Escalation of overdue rectifications (逾期督办): when a rectification still open after its
//! deadline is escalated, and to whom.
//!
//! A rectification escalates on the first working day after its deadline (on the working-day
//! calendar, holidays and make-up working days included), once, if it is still open then. It
//! goes to the leaders of the responsible unit and to the assessors whose scope covers the unit
//! (the unit itself or a unit above it). The store records each escalation once; this module
//! only decides.

use crate::access::{Role, UserPrincipal};
use crate::calendar::{CalendarError, WorkCalendar};
use crate::code::Code;
use time::Date;

/// The day a rectification due on `deadline` escalates if still open: the first working day
/// after the deadline.
pub fn escalation_day(deadline: Date, calendar: &WorkCalendar) -> Result<Date, CalendarError> {
    calendar.add_working_days(deadline, 1)
}

/// Whether a rectification is overdue (逾期) on `today`: still open, of a review that counts
/// (not excluded by an upheld appeal), and past its deadline. The one rule behind every count
/// of overdue rectifications: the queue, the home page's notice and the escalation sweep.
pub fn is_overdue(deadline: Date, open: bool, excluded: bool, today: Date) -> bool {
    open && !excluded && today > deadline
}

/// Whether a rectification due on `deadline`, open (`open`) on `today`, escalates on `today`:
/// it is open and its escalation day has come. Returns the escalation day when it does.
pub fn escalates(
    deadline: Date,
    open: bool,
    today: Date,
    calendar: &WorkCalendar,
) -> Result<Option<Date>, CalendarError> {
    if !is_overdue(deadline, open, false, today) {
        return Ok(None);
    }
    let day = escalation_day(deadline, calendar)?;
    Ok((today >= day).then_some(day))
}

/// How an account receives the escalations of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// 单位领导: leads the responsible unit.
    Leader,
    /// 考核人员: assesses the unit or a unit above it.
    Assessor,
}

/// How `account` receives the escalations of `unit` (given with its ancestors), if at all: as
/// its leader, else as an assessor whose scope covers it.
pub fn recipient(account: &UserPrincipal, unit: &Code, ancestors: &[Code]) -> Option<Recipient> {
    if account.covers(Role::UnitLeader, unit, ancestors) {
        Some(Recipient::Leader)
    } else if account.covers(Role::Assessor, unit, ancestors) {
        Some(Recipient::Assessor)
    } else {
        None
    }
}

/// The accounts an escalation of `unit` goes to, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipients {
    /// Leaders of the unit.
    pub leaders: Vec<String>,
    /// Assessors whose scope covers the unit.
    pub assessors: Vec<String>,
}

impl Recipients {
    /// The recipients among `accounts` (active accounts only: the caller leaves out disabled
    /// ones) of an escalation of `unit`, given with its ancestors; each list in the order of
    /// `accounts`.
    pub fn of<'a>(
        accounts: impl IntoIterator<Item = &'a UserPrincipal>,
        unit: &Code,
        ancestors: &[Code],
    ) -> Self {
        let mut out = Self::default();
        for account in accounts {
            match recipient(account, unit, ancestors) {
                Some(Recipient::Leader) => out.leaders.push(account.username.clone()),
                Some(Recipient::Assessor) => out.assessors.push(account.username.clone()),
                None => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::ratings::rectification::tests::autumn_2026;
    use crate::ratings::rectification::{Rectification, RectificationPolicy};
    use std::collections::BTreeSet;
    use time::macros::date;

    #[test]
    fn overdue_means_open_counted_and_past_the_deadline() {
        let d = time::macros::date!(2026 - 03 - 12);
        let next = time::macros::date!(2026 - 03 - 13);
        assert!(is_overdue(d, true, false, next));
        assert!(!is_overdue(d, true, false, d), "due that day");
        assert!(!is_overdue(d, false, false, next), "closed");
        assert!(
            !is_overdue(d, true, true, next),
            "excluded by an upheld appeal"
        );
    }

    #[test]
    fn an_open_rectification_escalates_on_the_first_working_day_after_its_deadline() {
        let cal = WorkCalendar::default();
        // Deadline Friday 6 March 2026: the weekend does not escalate, Monday does.
        let deadline = date!(2026 - 03 - 06);
        assert_eq!(escalation_day(deadline, &cal), Ok(date!(2026 - 03 - 09)));
        assert_eq!(escalates(deadline, true, deadline, &cal), Ok(None));
        assert_eq!(
            escalates(deadline, true, date!(2026 - 03 - 07), &cal),
            Ok(None)
        );
        assert_eq!(
            escalates(deadline, true, date!(2026 - 03 - 08), &cal),
            Ok(None)
        );
        assert_eq!(
            escalates(deadline, true, date!(2026 - 03 - 09), &cal),
            Ok(Some(date!(2026 - 03 - 09)))
        );
        // A sweep that ran late still escalates, with the day it was due.
        assert_eq!(
            escalates(deadline, true, date!(2026 - 03 - 20), &cal),
            Ok(Some(date!(2026 - 03 - 09)))
        );
        // A closed one never does.
        assert_eq!(
            escalates(deadline, false, date!(2026 - 03 - 20), &cal),
            Ok(None)
        );
    }

    #[test]
    fn escalation_waits_out_a_holiday_and_counts_a_make_up_working_day() {
        let cal = autumn_2026();
        // A bad review on Thursday 24 September is due Friday 9 October (see the deadline
        // test of `rectification`); the next working day is the make-up Saturday 10 October.
        let r = Rectification::open(
            false,
            date!(2026 - 09 - 24),
            &cal,
            &RectificationPolicy::default(),
        )
        .unwrap();
        assert_eq!(r.deadline, date!(2026 - 10 - 09));
        assert_eq!(escalation_day(r.deadline, &cal), Ok(date!(2026 - 10 - 10)));
        assert_eq!(
            escalates(r.deadline, true, date!(2026 - 10 - 10), &cal),
            Ok(Some(date!(2026 - 10 - 10)))
        );
        // Due Wednesday 30 September, the last day before the holiday: nothing escalates during
        // the holiday (1–7 October) or on the weekend, only on Thursday 8 October.
        let deadline = date!(2026 - 09 - 30);
        assert_eq!(escalation_day(deadline, &cal), Ok(date!(2026 - 10 - 08)));
        for day in 1..=7 {
            let today = Date::from_calendar_date(2026, time::Month::October, day).unwrap();
            assert_eq!(escalates(deadline, true, today, &cal), Ok(None), "{today}");
        }
        assert_eq!(
            escalates(deadline, true, date!(2026 - 10 - 08), &cal),
            Ok(Some(date!(2026 - 10 - 08)))
        );
        // Due Friday 18 September: the make-up Sunday 20 September is the escalation day.
        assert_eq!(
            escalation_day(date!(2026 - 09 - 18), &cal),
            Ok(date!(2026 - 09 - 20))
        );
        // On a plain calendar the same deadline would escalate on Thursday 1 October.
        assert_eq!(
            escalation_day(deadline, &WorkCalendar::default()),
            Ok(date!(2026 - 10 - 01))
        );
    }

    #[test]
    fn a_deadline_at_the_end_of_time_is_an_error_not_a_panic() {
        assert!(escalation_day(Date::MAX, &WorkCalendar::default()).is_err());
    }

    fn account(name: &str, roles: &[Role], units: &[&str]) -> UserPrincipal {
        UserPrincipal {
            username: name.into(),
            roles: roles.iter().copied().collect::<BTreeSet<_>>(),
            units: units.iter().map(|u| Code::parse(u).unwrap()).collect(),
            cadre: None,
        }
    }

    #[test]
    fn it_goes_to_the_units_leader_and_the_assessors_whose_scope_covers_the_unit() {
        let code = |s: &str| Code::parse(s).unwrap();
        let accounts = [
            account("leader", &[Role::UnitLeader], &["341000-01"]),
            account("other_leader", &[Role::UnitLeader], &["341001"]),
            account("county_assessor", &[Role::Assessor], &["341000"]),
            account("unit_assessor", &[Role::Assessor], &["341000-01"]),
            account("town_assessor", &[Role::Assessor], &["341001"]),
            account("admin", &[Role::SystemAdmin], &[]),
            account("official", &[Role::Official], &["341000-01"]),
        ];
        let unit = code("341000-01");
        let ancestors = [code("341000")];
        let to = Recipients::of(&accounts, &unit, &ancestors);
        assert_eq!(to.leaders, vec!["leader"]);
        assert_eq!(to.assessors, vec!["county_assessor", "unit_assessor"]);
        assert_eq!(
            recipient(&accounts[0], &unit, &ancestors),
            Some(Recipient::Leader)
        );
        assert_eq!(recipient(&accounts[4], &unit, &ancestors), None);
        // A unit leader's scope is the unit itself, never the units under it.
        let below = code("341000-01-01");
        let below_ancestors = [code("341000-01"), code("341000")];
        let to = Recipients::of(&accounts, &below, &below_ancestors);
        assert!(to.leaders.is_empty());
        assert_eq!(to.assessors, vec!["county_assessor", "unit_assessor"]);
    }
}
