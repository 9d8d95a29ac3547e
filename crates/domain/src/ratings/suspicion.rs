//! Suspicious rating patterns (异常评价), flagged for a person to review and never dropped
//! silently: a burst of ratings for one official, one contact rating many cases, and ratings
//! at implausible hours.

use crate::code::Code;
use crate::labeled_enum;
use std::collections::{BTreeMap, BTreeSet};
use time::{Duration, OffsetDateTime, UtcOffset};

labeled_enum! {
    /// Why a rating was flagged.
    pub enum SuspicionKind: "suspicion" {
        /// 集中评价: many ratings of one official within minutes.
        Burst = ("burst", "短时集中评价", "Burst of ratings for one official"),
        /// 同一联系人多次评价: one phone rating many cases.
        RepeatContact = ("repeat_contact", "同一联系人多次评价", "One contact rating many cases"),
        /// 异常时段: a rating at an hour when nobody rates.
        OddHour = ("odd_hour", "异常时段评价", "Rating at an implausible hour"),
    }
}

/// Settings of the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuspicionPolicy {
    /// Ratings of one official within [`Self::burst_minutes`] that make a burst.
    pub burst_count: usize,
    /// Length of the burst window, in minutes.
    pub burst_minutes: i64,
    /// Distinct cases rated with one contact within [`Self::contact_days`] above which every
    /// one of them is flagged.
    pub contact_cases: usize,
    /// Length of the contact window, in days.
    pub contact_days: i64,
    /// Local hours `[start, end)` at which ratings are implausible.
    pub odd_hours: (u8, u8),
    /// Local time offset of the deployment.
    pub utc_offset: UtcOffset,
}

impl Default for SuspicionPolicy {
    fn default() -> Self {
        Self {
            burst_count: 10,
            burst_minutes: 10,
            contact_cases: 5,
            contact_days: 30,
            odd_hours: (1, 5),
            utc_offset: UtcOffset::UTC,
        }
    }
}

/// What the checks need of a rating.
#[derive(Debug, Clone)]
pub struct RatingFact<'a> {
    /// The rating's id.
    pub id: i64,
    /// When it arrived.
    pub rated_at: OffsetDateTime,
    /// The case's handling officials.
    pub officials: &'a [Code],
    /// The case rated.
    pub case_id: &'a Code,
    /// The contact phone behind the rating (the rater's, else the applicant's), as digits.
    pub contact: Option<&'a str>,
}

/// Flags of each flagged rating, by rating id.
pub fn flag(
    ratings: &[RatingFact<'_>],
    policy: &SuspicionPolicy,
) -> BTreeMap<i64, BTreeSet<SuspicionKind>> {
    let mut out: BTreeMap<i64, BTreeSet<SuspicionKind>> = BTreeMap::new();
    let mut mark = |id: i64, kind: SuspicionKind| {
        out.entry(id).or_default().insert(kind);
    };

    let mut by_official: BTreeMap<&Code, Vec<(OffsetDateTime, i64)>> = BTreeMap::new();
    let mut by_contact: BTreeMap<&str, Vec<(OffsetDateTime, i64, &Code)>> = BTreeMap::new();
    for r in ratings {
        for o in r.officials {
            by_official.entry(o).or_default().push((r.rated_at, r.id));
        }
        if let Some(c) = r.contact {
            by_contact
                .entry(c)
                .or_default()
                .push((r.rated_at, r.id, r.case_id));
        }
        let hour = r.rated_at.to_offset(policy.utc_offset).hour();
        if (policy.odd_hours.0..policy.odd_hours.1).contains(&hour) {
            mark(r.id, SuspicionKind::OddHour);
        }
    }

    let burst = Duration::minutes(policy.burst_minutes);
    for times in by_official.values_mut() {
        times.sort();
        for_each_crowded_window(
            times.len(),
            policy.burst_count,
            |i, j| times[j].0 - times[i].0 <= burst,
            |i| mark(times[i].1, SuspicionKind::Burst),
        );
    }

    let window = Duration::days(policy.contact_days);
    for times in by_contact.values_mut() {
        times.sort();
        let mut start = 0;
        for end in 0..times.len() {
            while times[end].0 - times[start].0 > window {
                start += 1;
            }
            let cases: BTreeSet<&Code> = times[start..=end].iter().map(|t| t.2).collect();
            if cases.len() > policy.contact_cases {
                for t in &times[start..=end] {
                    mark(t.1, SuspicionKind::RepeatContact);
                }
            }
        }
    }
    out
}

/// Calls `hit(k)` for every index `k` inside a window `[i, i + need)` of sorted items for which
/// `close(i, i + need - 1)` holds.
fn for_each_crowded_window(
    n: usize,
    need: usize,
    close: impl Fn(usize, usize) -> bool,
    mut hit: impl FnMut(usize),
) {
    if need == 0 || n < need {
        return;
    }
    let mut marked_to = 0;
    for i in 0..=n - need {
        let j = i + need - 1;
        if close(i, j) {
            for k in i.max(marked_to)..=j {
                hit(k);
            }
            marked_to = j + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::{datetime, offset};

    fn code(s: &str) -> Code {
        Code::parse(s).unwrap()
    }

    #[test]
    fn a_burst_for_one_official_is_flagged_and_spread_ratings_are_not() {
        let officials = [code("C1")];
        let others = [code("C2")];
        let cases: Vec<Code> = (0..40).map(|i| code(&format!("K{i}"))).collect();
        let start = datetime!(2026-03-02 10:00 +8);
        let mut facts = Vec::new();
        // Ten ratings of C1 within nine minutes: a burst.
        for i in 0..10 {
            facts.push(RatingFact {
                id: i,
                rated_at: start + Duration::minutes(i),
                officials: &officials,
                case_id: &cases[i as usize],
                contact: None,
            });
        }
        // Twenty ratings of C2, one an hour: fine.
        for i in 10..30 {
            facts.push(RatingFact {
                id: i,
                rated_at: start + Duration::hours(i),
                officials: &others,
                case_id: &cases[i as usize],
                contact: None,
            });
        }
        let policy = SuspicionPolicy {
            utc_offset: offset!(+8),
            odd_hours: (1, 5),
            ..SuspicionPolicy::default()
        };
        let flags = flag(&facts, &policy);
        for i in 0..10 {
            assert!(flags[&i].contains(&SuspicionKind::Burst), "rating {i}");
        }
        for i in 10..30 {
            assert!(
                !flags
                    .get(&i)
                    .is_some_and(|f| f.contains(&SuspicionKind::Burst))
            );
        }
        // Ratings 15 to 18 arrive at 01:00 to 04:00 local time.
        let odd: Vec<i64> = flags
            .iter()
            .filter(|(_, f)| f.contains(&SuspicionKind::OddHour))
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(odd, vec![15, 16, 17, 18]);
        // Nine ratings are not a burst.
        assert!(flag(&facts[1..10], &policy).is_empty());
    }

    #[test]
    fn one_contact_rating_many_cases_is_flagged() {
        let officials = [code("C1")];
        let cases: Vec<Code> = (0..7).map(|i| code(&format!("K{i}"))).collect();
        let start = datetime!(2026-03-02 10:00 +8);
        let facts: Vec<RatingFact<'_>> = (0..6)
            .map(|i| RatingFact {
                id: i,
                rated_at: start + Duration::days(i * 5),
                officials: &officials,
                case_id: &cases[i as usize],
                contact: Some("13812345678"),
            })
            .collect();
        let p = SuspicionPolicy {
            utc_offset: offset!(+8),
            ..SuspicionPolicy::default()
        };
        let flags = flag(&facts, &p);
        assert_eq!(flags.len(), 6, "six cases within 25 days from one phone");
        assert!(
            flags
                .values()
                .all(|f| f.len() == 1 && f.contains(&SuspicionKind::RepeatContact))
        );
        // Spread over more than 30 days, five cases at a time: nothing.
        let spread: Vec<RatingFact<'_>> = facts
            .iter()
            .cloned()
            .map(|mut f| {
                f.rated_at = start + Duration::days(f.id * 7);
                f
            })
            .collect();
        assert!(flag(&spread, &p).is_empty());
    }
}
