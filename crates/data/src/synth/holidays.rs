//! The holiday and make-up working-day overrides of 2024–2026, from the State Council's annual
//! notices (国务院办公厅关于部分节假日安排的通知: 国办发明电〔2023〕7号 for 2024,
//! 〔2024〕12号 for 2025, 〔2025〕7号 for 2026).

use kaohe_domain::{CalendarEntry, DayKind};
use time::{Date, Month};

/// (year, month, first day, last day, name): days off (休), every day of the span listed.
const HOLIDAYS: &[(i32, u8, u8, u8, &str)] = &[
    (2024, 1, 1, 1, "元旦"),
    (2024, 2, 10, 17, "春节"),
    (2024, 4, 4, 6, "清明节"),
    (2024, 5, 1, 5, "劳动节"),
    (2024, 6, 10, 10, "端午节"),
    (2024, 9, 15, 17, "中秋节"),
    (2024, 10, 1, 7, "国庆节"),
    (2025, 1, 1, 1, "元旦"),
    (2025, 1, 28, 31, "春节"),
    (2025, 2, 1, 4, "春节"),
    (2025, 4, 4, 6, "清明节"),
    (2025, 5, 1, 5, "劳动节"),
    (2025, 5, 31, 31, "端午节"),
    (2025, 6, 1, 2, "端午节"),
    (2025, 10, 1, 8, "国庆节、中秋节"),
    (2026, 1, 1, 3, "元旦"),
    (2026, 2, 15, 23, "春节"),
    (2026, 4, 4, 6, "清明节"),
    (2026, 5, 1, 5, "劳动节"),
    (2026, 6, 19, 21, "端午节"),
    (2026, 9, 25, 27, "中秋节"),
    (2026, 10, 1, 7, "国庆节"),
];

/// (year, month, day, name): make-up working days on a weekend (调休上班, 班).
const WORKDAYS: &[(i32, u8, u8, &str)] = &[
    (2024, 2, 4, "春节调休"),
    (2024, 2, 18, "春节调休"),
    (2024, 4, 7, "清明节调休"),
    (2024, 4, 28, "劳动节调休"),
    (2024, 5, 11, "劳动节调休"),
    (2024, 9, 14, "中秋节调休"),
    (2024, 9, 29, "国庆节调休"),
    (2024, 10, 12, "国庆节调休"),
    (2025, 1, 26, "春节调休"),
    (2025, 2, 8, "春节调休"),
    (2025, 4, 27, "劳动节调休"),
    (2025, 9, 28, "国庆节、中秋节调休"),
    (2025, 10, 11, "国庆节、中秋节调休"),
    (2026, 1, 4, "元旦调休"),
    (2026, 2, 14, "春节调休"),
    (2026, 2, 28, "春节调休"),
    (2026, 5, 9, "劳动节调休"),
    (2026, 9, 20, "国庆节调休"),
    (2026, 10, 10, "国庆节调休"),
];

fn day(year: i32, month: u8, day: u8) -> Option<Date> {
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// The official overrides of 2024, 2025 and 2026, in date order.
///
/// This is a static copy for demos and tests. A deployment imports the State Council's notice
/// every year (`kaohe import calendar`), as the dates of the lunar holidays and the make-up
/// working days are only known when it is published, usually in October or November.
pub fn official_calendar() -> Vec<CalendarEntry> {
    let mut out = Vec::new();
    for &(year, month, first, last, name) in HOLIDAYS {
        for d in first..=last {
            if let Some(date) = day(year, month, d) {
                out.push(CalendarEntry {
                    date,
                    kind: DayKind::Holiday,
                    name: name.to_owned(),
                });
            }
        }
    }
    for &(year, month, d, name) in WORKDAYS {
        if let Some(date) = day(year, month, d) {
            out.push(CalendarEntry {
                date,
                kind: DayKind::Workday,
                name: name.to_owned(),
            });
        }
    }
    out.sort_by_key(|e| e.date);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kaohe_domain::WorkCalendar;
    use time::Weekday;
    use time::macros::date;

    #[test]
    fn table_is_consistent() {
        let entries = official_calendar();
        assert_eq!(
            entries.len(),
            HOLIDAYS
                .iter()
                .map(|h| usize::from(h.3 - h.2 + 1))
                .sum::<usize>()
                + WORKDAYS.len()
        );
        let mut dates: Vec<Date> = entries.iter().map(|e| e.date).collect();
        dates.dedup();
        assert_eq!(dates.len(), entries.len(), "no date twice");
        for e in &entries {
            let weekend = matches!(e.date.weekday(), Weekday::Saturday | Weekday::Sunday);
            if e.kind == DayKind::Workday {
                assert!(weekend, "make-up day {} is a weekday", e.date);
            }
        }
    }

    #[test]
    fn known_days() {
        let cal = WorkCalendar::new(&official_calendar());
        // 2025 Spring Festival: Jan 28 – Feb 4 off, Jan 26 (Sun) and Feb 8 (Sat) worked.
        assert!(!cal.is_working_day(date!(2025 - 01 - 28)));
        assert!(!cal.is_working_day(date!(2025 - 02 - 04)));
        assert!(cal.is_working_day(date!(2025 - 01 - 26)));
        assert!(cal.is_working_day(date!(2025 - 02 - 08)));
        assert!(cal.is_working_day(date!(2025 - 02 - 05)));
        // 2025 National Day: 8 days off, 5 working days from Sep 26 land on Oct 10.
        assert_eq!(
            cal.add_working_days(date!(2025 - 09 - 26), 5),
            Ok(date!(2025 - 10 - 10))
        );
        // Working days lost per year equal the statutory holidays: 11 days in 2024, 13 from
        // 2025 on (New Year's Eve of the lunar year and May 2 were added).
        for (year, statutory) in [(2024, 11), (2025, 13), (2026, 13)] {
            let start = Date::from_ordinal_date(year - 1, time::util::days_in_year(year - 1))
                .expect("valid");
            let end = Date::from_ordinal_date(year, time::util::days_in_year(year)).expect("valid");
            let plain = WorkCalendar::default().working_days_between(start, end);
            let real = cal.working_days_between(start, end);
            assert_eq!(plain - real, statutory, "{year}");
        }
    }
}
