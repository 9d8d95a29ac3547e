//! Disciplinary sanctions (处分) and the grade blocks they cause.

use crate::code::Code;
use crate::labeled_enum;
use serde::{Deserialize, Serialize};
use time::{Date, Month};

labeled_enum! {
    /// Kind of disciplinary sanction, lightest first.
    pub enum SanctionKind: "sanction kind" {
        /// 警告
        Warning = ("warning", "警告", "Warning"),
        /// 记过
        Demerit = ("demerit", "记过", "Demerit"),
        /// 记大过
        MajorDemerit = ("major_demerit", "记大过", "Major demerit"),
        /// 降级
        Demotion = ("demotion", "降级", "Demotion"),
        /// 撤职
        Removal = ("removal", "撤职", "Removal from post"),
        /// 开除
        Expulsion = ("expulsion", "开除", "Expulsion"),
    }
}

/// Length of each sanction period (处分期), in months. A setting; the defaults are those of the
/// regulations on sanctions of civil servants (警告 6, 记过 12, 记大过 18, 降级/撤职 24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SanctionPeriods {
    /// 警告 period, months.
    pub warning: u32,
    /// 记过 period, months.
    pub demerit: u32,
    /// 记大过 period, months.
    pub major_demerit: u32,
    /// 降级 period, months.
    pub demotion: u32,
    /// 撤职 period, months.
    pub removal: u32,
}

impl Default for SanctionPeriods {
    fn default() -> Self {
        Self {
            warning: 6,
            demerit: 12,
            major_demerit: 18,
            demotion: 24,
            removal: 24,
        }
    }
}

impl SanctionPeriods {
    /// Period of a kind in months; `None` for expulsion, which ends the service.
    pub fn months(&self, kind: SanctionKind) -> Option<u32> {
        match kind {
            SanctionKind::Warning => Some(self.warning),
            SanctionKind::Demerit => Some(self.demerit),
            SanctionKind::MajorDemerit => Some(self.major_demerit),
            SanctionKind::Demotion => Some(self.demotion),
            SanctionKind::Removal => Some(self.removal),
            SanctionKind::Expulsion => None,
        }
    }
}

/// A disciplinary sanction decided on a cadre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sanction {
    /// Sanction id (decision number or source id).
    pub id: Code,
    /// The cadre sanctioned.
    pub cadre: Code,
    /// Kind of sanction.
    pub kind: SanctionKind,
    /// Date the sanction took effect.
    pub start_date: Date,
    /// Last day of the sanction period when recorded explicitly (e.g. lifted early or
    /// extended); `None` to use the default period for the kind.
    pub end_date: Option<Date>,
    /// Reason, as written in the decision.
    pub reason: String,
}

impl Sanction {
    /// Last day of the sanction period: the recorded end date, or the start date plus the
    /// period for the kind, less one day. `None` when the sanction has no end (expulsion).
    pub fn effective_end(&self, periods: &SanctionPeriods) -> Option<Date> {
        if let Some(end) = self.end_date {
            return Some(end);
        }
        let months = periods.months(self.kind)?;
        add_months(self.start_date, months).and_then(Date::previous_day)
    }

    /// Whether the sanction period covers `day`.
    pub fn in_effect_on(&self, day: Date, periods: &SanctionPeriods) -> bool {
        self.start_date <= day && self.effective_end(periods).is_none_or(|end| day <= end)
    }

    /// Whether the sanction period overlaps the calendar year `year`.
    pub fn overlaps_year(&self, year: i32, periods: &SanctionPeriods) -> bool {
        self.start_date.year() <= year
            && self
                .effective_end(periods)
                .is_none_or(|end| end.year() >= year)
    }
}

/// Adds calendar months, clamping the day to the end of the target month (Jan 31 + 1 month =
/// Feb 28/29). `None` past the supported date range.
pub fn add_months(date: Date, months: u32) -> Option<Date> {
    let total = date.year() as i64 * 12 + (date.month() as i64 - 1) + months as i64;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
    let day = date.day().min(time::util::days_in_month(month, year));
    Date::from_calendar_date(year, month, day).ok()
}

/// What a cadre's sanctions mean for the annual grade of one year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradeBlocks {
    /// A warning (警告) took effect or ran during the year: rules out 优秀.
    pub warning_in_year: bool,
    /// A sanction of 记过 or worse is in effect at the assessment date: the cadre gets a
    /// written comment and no grade (不定等次).
    pub sanction_in_effect: bool,
}

impl GradeBlocks {
    /// Derives the blocks for the assessment of `year`, judged at `assessed_on` (usually the
    /// year end), from all of a cadre's sanctions.
    pub fn from_sanctions<'a>(
        sanctions: impl IntoIterator<Item = &'a Sanction>,
        year: i32,
        assessed_on: Date,
        periods: &SanctionPeriods,
    ) -> Self {
        let mut blocks = Self::default();
        for s in sanctions {
            match s.kind {
                SanctionKind::Warning => {
                    blocks.warning_in_year |= s.overlaps_year(year, periods);
                }
                _ => blocks.sanction_in_effect |= s.in_effect_on(assessed_on, periods),
            }
        }
        blocks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn sanction(kind: SanctionKind, start: Date) -> Sanction {
        Sanction {
            id: Code::parse("S1").expect("valid"),
            cadre: Code::parse("C1").expect("valid"),
            kind,
            start_date: start,
            end_date: None,
            reason: String::new(),
        }
    }

    #[test]
    fn months_clamp_to_month_end() {
        assert_eq!(
            add_months(date!(2024 - 01 - 31), 1),
            Some(date!(2024 - 02 - 29))
        );
        assert_eq!(
            add_months(date!(2023 - 08 - 31), 6),
            Some(date!(2024 - 02 - 29))
        );
        assert_eq!(
            add_months(date!(2023 - 12 - 15), 12),
            Some(date!(2024 - 12 - 15))
        );
    }

    #[test]
    fn periods_end_the_day_before() {
        let p = SanctionPeriods::default();
        let s = sanction(SanctionKind::Demerit, date!(2024 - 03 - 01));
        assert_eq!(s.effective_end(&p), Some(date!(2025 - 02 - 28)));
        assert!(s.in_effect_on(date!(2025 - 02 - 28), &p));
        assert!(!s.in_effect_on(date!(2025 - 03 - 01), &p));
        assert!(!s.in_effect_on(date!(2024 - 02 - 29), &p));
        let e = sanction(SanctionKind::Expulsion, date!(2020 - 01 - 01));
        assert!(e.in_effect_on(date!(2090 - 01 - 01), &p));
    }

    #[test]
    fn blocks_for_a_year() {
        let p = SanctionPeriods::default();
        let year_end = date!(2025 - 12 - 31);
        // A warning from last autumn runs into this year.
        let w = sanction(SanctionKind::Warning, date!(2024 - 10 - 01));
        let b = GradeBlocks::from_sanctions([&w], 2025, year_end, &p);
        assert!(b.warning_in_year && !b.sanction_in_effect);
        // A warning that ended last year does not block.
        let old = sanction(SanctionKind::Warning, date!(2024 - 01 - 01));
        assert_eq!(
            GradeBlocks::from_sanctions([&old], 2025, year_end, &p),
            GradeBlocks::default()
        );
        // 记大过 from mid-2024 is in effect at the end of 2025 (18 months).
        let m = sanction(SanctionKind::MajorDemerit, date!(2024 - 07 - 01));
        assert!(GradeBlocks::from_sanctions([&m], 2025, year_end, &p).sanction_in_effect);
        // 记过 from early 2024 has ended.
        let d = sanction(SanctionKind::Demerit, date!(2024 - 01 - 10));
        assert!(!GradeBlocks::from_sanctions([&d], 2025, year_end, &p).sanction_in_effect);
    }
}
