//! Rectification of a bad review (差评整改): verify → rectify or explain → call back the
//! rater, who judges the fix → closed, within a deadline counted in working days.
//!
//! The store keeps the steps; the state is always the replay of the steps through
//! [`Rectification::apply`], so the rules of the workflow live here only.
//!
//! ```text
//! open ──verify──▶ verified ──rectify/explain──▶ handled ──callback (reached, verdict)──▶ called_back ──close──▶ closed
//!                     ▲                            │  └─callback (not reached): stays handled      │
//!                     └────── verdict 不满意: another round ◀──────────────────────────────────────┘
//!                                                  └──close (anonymous review only)──▶ closed
//! ```

use crate::calendar::{CalendarError, WorkCalendar};
use crate::labeled_enum;
use crate::labels::Labeled;
use serde::{Deserialize, Serialize};
use time::Date;

labeled_enum! {
    /// Where a rectification stands.
    pub enum Status: "rectification status" {
        /// 待核实: opened by a bad review.
        Open = ("open", "待核实", "To verify"),
        /// 待整改: the review was verified.
        Verified = ("verified", "待整改", "To rectify"),
        /// 待回访: rectified or explained.
        Handled = ("handled", "待回访", "To call back"),
        /// 已回访: the rater was called back and judged the fix.
        CalledBack = ("called_back", "已回访", "Called back"),
        /// 已办结.
        Closed = ("closed", "已办结", "Closed"),
    }
}

labeled_enum! {
    /// How the unit answered a bad review.
    pub enum Resolution: "resolution" {
        /// 已整改: the problem was fixed.
        Rectified = ("rectified", "已整改", "Rectified"),
        /// 已解释说明: nothing to fix; the rater was given an explanation.
        Explained = ("explained", "已解释说明", "Explained"),
    }
}

labeled_enum! {
    /// The rater's verdict on the fix, given at the callback (整改评价).
    pub enum Verdict: "verdict" {
        /// 满意.
        Satisfied = ("satisfied", "满意", "Satisfied"),
        /// 基本满意.
        FairlySatisfied = ("fairly_satisfied", "基本满意", "Fairly satisfied"),
        /// 不满意: the case goes back for another round of rectification.
        Dissatisfied = ("dissatisfied", "不满意", "Dissatisfied"),
    }
}

labeled_enum! {
    /// Kind of a step, as stored.
    pub enum StepKind: "rectification step" {
        /// 核实.
        Verify = ("verify", "核实", "Verify"),
        /// 整改.
        Rectify = ("rectify", "整改", "Rectify"),
        /// 解释说明.
        Explain = ("explain", "解释说明", "Explain"),
        /// 回访.
        Callback = ("callback", "回访", "Call back"),
        /// 办结.
        Close = ("close", "办结", "Close"),
    }
}

/// One step taken on a rectification, with its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// What was done.
    pub kind: StepKind,
    /// Finding, action, explanation, callback note or closing note.
    pub note: String,
    /// For a callback: whether the rater was reached.
    pub reached: Option<bool>,
    /// For a reached callback: the rater's verdict.
    pub verdict: Option<Verdict>,
    /// Day the step was taken.
    pub on: Date,
}

/// Longest note of a step.
pub const MAX_NOTE: usize = 2000;

/// Settings of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RectificationPolicy {
    /// Working days from the bad review to the deadline (default 5).
    pub deadline_working_days: u32,
}

impl Default for RectificationPolicy {
    fn default() -> Self {
        Self {
            deadline_working_days: 5,
        }
    }
}

/// Why a step may not be taken now. Each message says what is expected instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The step does not follow from the current status.
    #[error("cannot {step} a rectification that is {status}; expected: {expected}")]
    OutOfOrder {
        /// The step tried.
        step: &'static str,
        /// The current status.
        status: &'static str,
        /// The steps allowed now.
        expected: String,
    },
    /// A step needs a note (finding, action, explanation).
    #[error("note: a {0} needs a note")]
    NoteRequired(&'static str),
    /// Note too long.
    #[error("note: longer than {MAX_NOTE} characters")]
    NoteTooLong,
    /// A callback without saying whether the rater was reached.
    #[error("reached: say whether the rater was reached")]
    ReachedRequired,
    /// A reached callback without the rater's verdict, or a verdict without reaching.
    #[error("verdict: a verdict is given when, and only when, the rater was reached")]
    VerdictMismatch,
    /// A real-name review closing without a reached callback.
    #[error("a real-name bad review cannot close without a callback that reached the rater")]
    CallbackRequired,
    /// A step dated before the previous one.
    #[error("on: {on} is before the previous step ({previous})")]
    BackInTime {
        /// The step's day.
        on: Date,
        /// The previous step's day.
        previous: Date,
    },
}

/// A rectification case as its steps made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rectification {
    /// Where it stands.
    pub status: Status,
    /// The unit's answer, once given.
    pub resolution: Option<Resolution>,
    /// The last verdict of the rater.
    pub verdict: Option<Verdict>,
    /// Callbacks attempted, and those that reached the rater.
    pub callbacks: u32,
    /// Callbacks that reached the rater.
    pub callbacks_reached: u32,
    /// Rounds of rectification (a 不满意 verdict starts another).
    pub rounds: u32,
    /// Whether the review was given under the rater's name.
    pub real_name: bool,
    /// Day the bad review arrived.
    pub opened_on: Date,
    /// Last day to close it on time.
    pub deadline: Date,
    /// Day of the last step.
    pub last_step_on: Date,
    /// Day it closed.
    pub closed_on: Option<Date>,
}

impl Rectification {
    /// A new rectification for a bad review received on `opened_on`.
    pub fn open(
        real_name: bool,
        opened_on: Date,
        calendar: &WorkCalendar,
        policy: &RectificationPolicy,
    ) -> Result<Self, CalendarError> {
        Ok(Self {
            status: Status::Open,
            resolution: None,
            verdict: None,
            callbacks: 0,
            callbacks_reached: 0,
            rounds: 1,
            real_name,
            opened_on,
            deadline: calendar.add_working_days(opened_on, policy.deadline_working_days)?,
            last_step_on: opened_on,
            closed_on: None,
        })
    }

    /// The steps allowed in the current status.
    pub fn allowed(&self) -> &'static [StepKind] {
        match self.status {
            Status::Open => &[StepKind::Verify],
            Status::Verified => &[StepKind::Rectify, StepKind::Explain],
            Status::Handled if self.real_name => &[StepKind::Callback],
            Status::Handled => &[StepKind::Callback, StepKind::Close],
            Status::CalledBack => &[StepKind::Close],
            Status::Closed => &[],
        }
    }

    /// Takes a step, or says why it may not be taken; on error nothing changes.
    pub fn apply(&mut self, step: &Step) -> Result<(), StepError> {
        if step.on < self.last_step_on {
            return Err(StepError::BackInTime {
                on: step.on,
                previous: self.last_step_on,
            });
        }
        if !self.allowed().contains(&step.kind) {
            if step.kind == StepKind::Close && self.status == Status::Handled {
                return Err(StepError::CallbackRequired);
            }
            return Err(StepError::OutOfOrder {
                step: step.kind.code(),
                status: self.status.code(),
                expected: self
                    .allowed()
                    .iter()
                    .map(|k| k.code())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let note = step.note.trim();
        if note.chars().count() > MAX_NOTE {
            return Err(StepError::NoteTooLong);
        }
        let needs_note = matches!(
            step.kind,
            StepKind::Verify | StepKind::Rectify | StepKind::Explain
        );
        if needs_note && note.is_empty() {
            return Err(StepError::NoteRequired(step.kind.code()));
        }
        match step.kind {
            StepKind::Verify => self.status = Status::Verified,
            StepKind::Rectify | StepKind::Explain => {
                self.resolution = Some(if step.kind == StepKind::Rectify {
                    Resolution::Rectified
                } else {
                    Resolution::Explained
                });
                self.status = Status::Handled;
            }
            StepKind::Callback => {
                let reached = step.reached.ok_or(StepError::ReachedRequired)?;
                if reached != step.verdict.is_some() {
                    return Err(StepError::VerdictMismatch);
                }
                self.callbacks += 1;
                if let Some(v) = step.verdict {
                    self.callbacks_reached += 1;
                    self.verdict = Some(v);
                    if v == Verdict::Dissatisfied {
                        self.rounds += 1;
                        self.status = Status::Verified;
                    } else {
                        self.status = Status::CalledBack;
                    }
                }
            }
            StepKind::Close => {
                self.status = Status::Closed;
                self.closed_on = Some(step.on);
            }
        }
        self.last_step_on = step.on;
        Ok(())
    }

    /// Replays stored steps onto a freshly opened rectification.
    pub fn replay<'a>(
        mut self,
        steps: impl IntoIterator<Item = &'a Step>,
    ) -> Result<Self, (usize, StepError)> {
        for (i, s) in steps.into_iter().enumerate() {
            self.apply(s).map_err(|e| (i, e))?;
        }
        Ok(self)
    }

    /// Whether it is still open after its deadline on `today` (逾期); it escalates on the first
    /// working day after the deadline ([`crate::ratings::escalation`]).
    pub fn is_overdue(&self, today: Date) -> bool {
        self.closed_on.is_none() && today > self.deadline
    }

    /// Whether it closed by its deadline; `None` while open.
    pub fn closed_on_time(&self) -> Option<bool> {
        self.closed_on.map(|d| d <= self.deadline)
    }

    /// Working days left to the deadline on `today` (negative when overdue), for the queue.
    pub fn working_days_left(&self, calendar: &WorkCalendar, today: Date) -> i64 {
        if today <= self.deadline {
            i64::from(calendar.working_days_between(today, self.deadline))
        } else {
            -i64::from(calendar.working_days_between(self.deadline, today))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::calendar::{CalendarEntry, DayKind};
    use time::macros::date;

    fn step(kind: StepKind, on: Date) -> Step {
        Step {
            kind,
            note: "已处理".into(),
            reached: None,
            verdict: None,
            on,
        }
    }

    fn callback(on: Date, verdict: Option<Verdict>) -> Step {
        Step {
            reached: Some(verdict.is_some()),
            verdict,
            ..step(StepKind::Callback, on)
        }
    }

    /// The 2026 Mid-Autumn and National Day holidays as the State Council's notice sets them:
    /// 25–27 September and 1–7 October off, Sunday 20 September and Saturday 10 October
    /// make-up working days.
    pub(crate) fn autumn_2026() -> WorkCalendar {
        let day = |m: time::Month, d: u8| Date::from_calendar_date(2026, m, d).unwrap();
        let mut entries: Vec<CalendarEntry> = (25..=27)
            .map(|d| (time::Month::September, d, "中秋节"))
            .chain((1..=7).map(|d| (time::Month::October, d, "国庆节")))
            .map(|(m, d, name)| CalendarEntry {
                date: day(m, d),
                kind: DayKind::Holiday,
                name: name.into(),
            })
            .collect();
        for d in [date!(2026 - 09 - 20), date!(2026 - 10 - 10)] {
            entries.push(CalendarEntry {
                date: d,
                kind: DayKind::Workday,
                name: "国庆节调休".into(),
            });
        }
        WorkCalendar::new(&entries)
    }

    #[test]
    fn the_deadline_skips_holidays_and_counts_make_up_days() {
        let cal = autumn_2026();
        let p = RectificationPolicy::default();
        let deadline = |on: Date, cal: &WorkCalendar| {
            Rectification::open(false, on, cal, &p).unwrap().deadline
        };
        // Thursday 24 September: Mon 28, Tue 29, Wed 30 September, then the holiday, then
        // Thu 8 and Fri 9 October.
        assert_eq!(deadline(date!(2026 - 09 - 24), &cal), date!(2026 - 10 - 09));
        // On a plain calendar it would be Thursday 1 October.
        assert_eq!(
            deadline(date!(2026 - 09 - 24), &WorkCalendar::default()),
            date!(2026 - 10 - 01)
        );
        // Friday 18 September: the make-up Sunday 20 September counts, then 21–24.
        assert_eq!(deadline(date!(2026 - 09 - 18), &cal), date!(2026 - 09 - 24));
        // Received on the last holiday day: Thu 8, Fri 9, Sat 10 (make-up), Mon 12, Tue 13.
        let r = Rectification::open(false, date!(2026 - 10 - 07), &cal, &p).unwrap();
        assert_eq!(r.deadline, date!(2026 - 10 - 13));
        assert!(!r.is_overdue(date!(2026 - 10 - 13)));
        assert!(r.is_overdue(date!(2026 - 10 - 14)));
        assert_eq!(r.working_days_left(&cal, date!(2026 - 10 - 07)), 5);
        assert_eq!(r.working_days_left(&cal, date!(2026 - 10 - 15)), -2);
    }

    #[test]
    fn a_bad_review_runs_from_open_to_closed() {
        let cal = WorkCalendar::default();
        let d = date!(2026 - 03 - 02);
        let r = Rectification::open(true, d, &cal, &RectificationPolicy::default()).unwrap();
        let steps = [
            step(StepKind::Verify, d),
            step(StepKind::Rectify, d),
            callback(date!(2026 - 03 - 03), None),
            callback(date!(2026 - 03 - 04), Some(Verdict::FairlySatisfied)),
            step(StepKind::Close, date!(2026 - 03 - 04)),
        ];
        let r = r.replay(&steps).unwrap();
        assert_eq!(r.status, Status::Closed);
        assert_eq!(r.resolution, Some(Resolution::Rectified));
        assert_eq!((r.callbacks, r.callbacks_reached), (2, 1));
        assert_eq!(r.closed_on_time(), Some(true));
        assert!(!r.is_overdue(date!(2026 - 04 - 01)));
    }

    #[test]
    fn a_real_name_review_cannot_close_without_a_reached_callback() {
        let cal = WorkCalendar::default();
        let d = date!(2026 - 03 - 02);
        let mut r = Rectification::open(true, d, &cal, &RectificationPolicy::default())
            .unwrap()
            .replay(&[step(StepKind::Verify, d), step(StepKind::Explain, d)])
            .unwrap();
        assert_eq!(
            r.apply(&step(StepKind::Close, d)),
            Err(StepError::CallbackRequired)
        );
        r.apply(&callback(d, None)).unwrap();
        assert_eq!(
            r.status,
            Status::Handled,
            "an unanswered call changes nothing"
        );
        assert_eq!(
            r.apply(&step(StepKind::Close, d)),
            Err(StepError::CallbackRequired)
        );
        // An anonymous review may close without one.
        let mut anon = Rectification::open(false, d, &cal, &RectificationPolicy::default())
            .unwrap()
            .replay(&[step(StepKind::Verify, d), step(StepKind::Explain, d)])
            .unwrap();
        anon.apply(&step(StepKind::Close, d)).unwrap();
        assert_eq!(anon.status, Status::Closed);
    }

    #[test]
    fn a_dissatisfied_verdict_starts_another_round() {
        let cal = WorkCalendar::default();
        let d = date!(2026 - 03 - 02);
        let r = Rectification::open(true, d, &cal, &RectificationPolicy::default())
            .unwrap()
            .replay(&[
                step(StepKind::Verify, d),
                step(StepKind::Rectify, d),
                callback(d, Some(Verdict::Dissatisfied)),
            ])
            .unwrap();
        assert_eq!(r.status, Status::Verified);
        assert_eq!(r.rounds, 2);
        assert_eq!(r.allowed(), &[StepKind::Rectify, StepKind::Explain]);
    }

    #[test]
    fn steps_out_of_order_are_refused_and_change_nothing() {
        let cal = WorkCalendar::default();
        let d = date!(2026 - 03 - 02);
        let mut r = Rectification::open(false, d, &cal, &RectificationPolicy::default()).unwrap();
        let before = r.clone();
        let e = r.apply(&step(StepKind::Rectify, d)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot rectify a rectification that is open; expected: verify"
        );
        let mut blank = step(StepKind::Verify, d);
        blank.note = "  ".into();
        assert_eq!(r.apply(&blank), Err(StepError::NoteRequired("verify")));
        assert_eq!(
            r.apply(&step(StepKind::Verify, date!(2026 - 03 - 01))),
            Err(StepError::BackInTime {
                on: date!(2026 - 03 - 01),
                previous: d
            })
        );
        r.apply(&step(StepKind::Verify, d)).unwrap();
        r.apply(&step(StepKind::Rectify, d)).unwrap();
        let mut odd = callback(d, None);
        odd.verdict = Some(Verdict::Satisfied);
        assert_eq!(r.apply(&odd), Err(StepError::VerdictMismatch));
        assert_eq!(before.status, Status::Open);
        let replayed = Rectification::open(false, d, &cal, &RectificationPolicy::default())
            .unwrap()
            .replay(&[step(StepKind::Close, d)]);
        assert!(matches!(replayed, Err((0, StepError::OutOfOrder { .. }))));
    }

    #[test]
    fn closing_late_is_not_on_time() {
        let cal = WorkCalendar::default();
        let d = date!(2026 - 03 - 02);
        let r = Rectification::open(false, d, &cal, &RectificationPolicy::default())
            .unwrap()
            .replay(&[
                step(StepKind::Verify, d),
                step(StepKind::Explain, d),
                step(StepKind::Close, date!(2026 - 03 - 10)),
            ])
            .unwrap();
        assert_eq!(r.deadline, date!(2026 - 03 - 09));
        assert_eq!(r.closed_on_time(), Some(false));
    }
}
