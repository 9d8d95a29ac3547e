//! The working-day calendar (工作日历): weekends are rest days, except make-up working days
//! (调休上班); weekdays are working days, except public holidays (法定节假日及调休休息日).
//!
//! Deadlines of rectification (整改), public notice (公示), review (复核) and complaint (申诉)
//! are counted on this calendar.

use crate::labeled_enum;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Date, Weekday};

labeled_enum! {
    /// How a calendar entry overrides the plain Monday-to-Friday week.
    pub enum DayKind: "day kind" {
        /// A rest day on a weekday: public holiday or a day swapped for a make-up day (休).
        Holiday = ("holiday", "休", "Holiday"),
        /// A working day on a weekend: make-up working day (班, 调休上班).
        Workday = ("workday", "班", "Working day"),
    }
}

/// One override of the calendar, as imported from the State Council's yearly holiday notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEntry {
    /// The day.
    pub date: Date,
    /// Rest day or make-up working day.
    pub kind: DayKind,
    /// Name of the holiday it belongs to, e.g. 春节.
    pub name: String,
}

/// A date computation ran past the supported range of dates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("date out of range counting {days} working days from {from}")]
pub struct CalendarError {
    /// Start of the count.
    pub from: Date,
    /// Working days counted.
    pub days: u32,
}

/// The working-day calendar: weekends plus explicit overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    overrides: BTreeMap<Date, DayKind>,
}

impl WorkCalendar {
    /// A calendar from its overrides; a later entry for the same day wins.
    pub fn new<'a>(entries: impl IntoIterator<Item = &'a CalendarEntry>) -> Self {
        Self {
            overrides: entries.into_iter().map(|e| (e.date, e.kind)).collect(),
        }
    }

    /// Whether `day` is a working day.
    pub fn is_working_day(&self, day: Date) -> bool {
        match self.overrides.get(&day) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday),
        }
    }

    /// The `n`-th working day after `from` (`from` itself is not counted): the deadline of a
    /// task given `n` working days on day `from`. With `n = 0`, `from` itself.
    pub fn add_working_days(&self, from: Date, n: u32) -> Result<Date, CalendarError> {
        let mut day = from;
        let mut left = n;
        while left > 0 {
            day = day.next_day().ok_or(CalendarError { from, days: n })?;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        Ok(day)
    }

    /// Working days in the half-open range `(from, to]`; zero when `to <= from`.
    pub fn working_days_between(&self, from: Date, to: Date) -> u32 {
        let mut count = 0;
        let mut day = from;
        while day < to {
            match day.next_day() {
                Some(next) => day = next,
                None => break,
            }
            if self.is_working_day(day) {
                count += 1;
            }
        }
        count
    }
}

/// A calendar month (月份): the bucket of monthly figures, ordered in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct YearMonth {
    /// The year.
    pub year: i32,
    /// The month, 1–12.
    pub month: u8,
}

impl YearMonth {
    /// The month of `date`.
    pub fn of(date: Date) -> Self {
        Self {
            year: date.year(),
            month: u8::from(date.month()),
        }
    }

    /// The month before.
    pub fn previous(self) -> Self {
        if self.month <= 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// Its first day; `None` out of the range of dates.
    pub fn first_day(self) -> Option<Date> {
        let month = time::Month::try_from(self.month).ok()?;
        Date::from_calendar_date(self.year, month, 1).ok()
    }

    /// The `n` months that end with this one (近 n 个月), oldest first.
    pub fn last(self, n: usize) -> Vec<Self> {
        let mut months: Vec<Self> = std::iter::successors(Some(self), |m| Some(m.previous()))
            .take(n)
            .collect();
        months.reverse();
        months
    }
}

impl std::fmt::Display for YearMonth {
    /// `2026-01`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    /// National Day 2025 as announced: Oct 1–8 off, Sep 28 (Sun) and Oct 11 (Sat) worked.
    fn national_day_2025() -> WorkCalendar {
        let mut entries: Vec<CalendarEntry> = (1..=8)
            .map(|d| CalendarEntry {
                date: Date::from_calendar_date(2025, time::Month::October, d).expect("valid"),
                kind: DayKind::Holiday,
                name: "国庆节、中秋节".into(),
            })
            .collect();
        for date in [date!(2025 - 09 - 28), date!(2025 - 10 - 11)] {
            entries.push(CalendarEntry {
                date,
                kind: DayKind::Workday,
                name: "调休".into(),
            });
        }
        WorkCalendar::new(&entries)
    }

    #[test]
    fn plain_week() {
        let cal = WorkCalendar::default();
        // Friday + 1 working day = Monday.
        assert_eq!(
            cal.add_working_days(date!(2025 - 11 - 21), 1),
            Ok(date!(2025 - 11 - 24))
        );
        assert_eq!(
            cal.add_working_days(date!(2025 - 11 - 21), 5),
            Ok(date!(2025 - 11 - 28))
        );
        assert_eq!(
            cal.add_working_days(date!(2025 - 11 - 22), 0),
            Ok(date!(2025 - 11 - 22))
        );
    }

    #[test]
    fn across_national_day_with_make_up_days() {
        let cal = national_day_2025();
        assert!(
            cal.is_working_day(date!(2025 - 09 - 28)),
            "Sunday make-up day"
        );
        assert!(!cal.is_working_day(date!(2025 - 10 - 01)));
        assert!(
            cal.is_working_day(date!(2025 - 10 - 11)),
            "Saturday make-up day"
        );
        // A bad review on Fri Sep 26 with 5 working days: Sun 28 (make-up), Mon 29, Tue 30,
        // then the holiday, then Thu Oct 9, Fri Oct 10.
        assert_eq!(
            cal.add_working_days(date!(2025 - 09 - 26), 5),
            Ok(date!(2025 - 10 - 10))
        );
        // From Tue Sep 30: Thu 9, Fri 10, Sat 11 (make-up), Mon 13, Tue 14.
        assert_eq!(
            cal.add_working_days(date!(2025 - 09 - 30), 5),
            Ok(date!(2025 - 10 - 14))
        );
        assert_eq!(
            cal.working_days_between(date!(2025 - 09 - 26), date!(2025 - 10 - 10)),
            5
        );
    }

    #[test]
    fn range_end_is_an_error() {
        let cal = WorkCalendar::default();
        assert!(
            cal.add_working_days(Date::MAX.previous_day().expect("valid"), 5)
                .is_err()
        );
    }

    proptest! {
        #[test]
        fn add_then_count_agree(offset in 0i64..20_000, n in 0u32..400, holidays in proptest::collection::vec((0i64..800, any::<bool>()), 0..40)) {
            let base = date!(2000 - 01 - 01);
            let from = base + time::Duration::days(offset);
            let entries: Vec<CalendarEntry> = holidays
                .iter()
                .map(|(d, h)| CalendarEntry {
                    date: from + time::Duration::days(*d),
                    kind: if *h { DayKind::Holiday } else { DayKind::Workday },
                    name: String::new(),
                })
                .collect();
            let cal = WorkCalendar::new(&entries);
            let due = cal.add_working_days(from, n).expect("in range");
            prop_assert_eq!(cal.working_days_between(from, due), n);
            prop_assert!(n == 0 || cal.is_working_day(due));
        }
    }

    #[test]
    fn the_last_months_cross_the_year_and_end_with_the_given_one() {
        let ym = |year, month| YearMonth { year, month };
        let day = |y, m, d| Date::from_calendar_date(y, m, d).expect("valid");
        let month = YearMonth::of(day(2026, time::Month::March, 31));
        assert_eq!(month, ym(2026, 3));
        let months = month.last(12);
        assert_eq!(months.len(), 12);
        assert_eq!(months[0], ym(2025, 4));
        assert_eq!(months[8], ym(2025, 12));
        assert_eq!(months[9], ym(2026, 1));
        assert_eq!(months[11], month);
        assert!(months.windows(2).all(|w| w[0] < w[1]), "oldest first");
        assert_eq!(months[0].to_string(), "2025-04");
        assert_eq!(
            months[8].first_day(),
            Some(day(2025, time::Month::December, 1))
        );
        assert_eq!(ym(2026, 13).first_day(), None);
        assert_eq!(ym(2026, 1).previous(), ym(2025, 12));
    }
}
