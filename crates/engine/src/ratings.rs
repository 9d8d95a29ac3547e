//! Satisfaction figures from public ratings (好差评), per window, service item, official, unit
//! or period, and their shrunk form for rankings.
//!
//! Definitions (a rating excluded by an upheld appeal counts in `excluded` only):
//!
//! | figure | formula |
//! |---|---|
//! | satisfaction rate 满意率 | ratings at levels 3–5 / ratings |
//! | bad-review rate 差评率 | ratings at levels 1–2 / ratings |
//! | rectification rate 整改率 | bad reviews whose rectification closed / bad reviews |
//! | on-time rate 按时整改率 | rectifications closed by their deadline / rectifications closed |
//! | callback rate 回访率 | bad reviews with a callback that reached the rater / bad reviews |
//! | mean level 平均分 | mean of the levels, 1–5 |
//!
//! A rate with nothing to count is `None`, never 0 or 100. For rankings, the satisfaction rate
//! is shrunk toward the group's rate (a Beta prior worth `prior_strength` ratings, see
//! [`crate::shrink::bayesian_average`]) and given a 95% interval from the Beta posterior, so
//! that 3 ratings do not outrank 3,000.

use crate::shrink::bayesian_average;
use kaohe_domain::ratings::RatingLevel;
use serde::Serialize;
use std::collections::BTreeMap;

/// What the figures need of one rating and its rectification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatingObs {
    /// The level given.
    pub level: RatingLevel,
    /// Excluded by an upheld appeal.
    pub excluded: bool,
    /// The rectification of a bad review, if one was opened.
    pub rectification: Option<RectificationObs>,
}

/// What the figures need of a rectification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RectificationObs {
    /// Closed, and on time or not.
    pub closed_on_time: Option<bool>,
    /// A callback reached the rater.
    pub called_back: bool,
}

/// Counts behind the figures of one group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Ratings counted (not excluded).
    pub ratings: u64,
    /// Ratings excluded by upheld appeals.
    pub excluded: u64,
    /// Ratings at levels 3–5.
    pub satisfied: u64,
    /// Ratings at levels 1–2.
    pub bad: u64,
    /// Sum of the levels.
    pub level_sum: u64,
    /// Bad reviews whose rectification closed.
    pub rectified: u64,
    /// Rectifications closed by their deadline.
    pub on_time: u64,
    /// Bad reviews with a callback that reached the rater.
    pub called_back: u64,
}

impl Tally {
    /// Adds one rating.
    pub fn add(&mut self, r: &RatingObs) {
        if r.excluded {
            self.excluded += 1;
            return;
        }
        self.ratings += 1;
        self.level_sum += u64::from(r.level.value());
        if r.level.is_bad() {
            self.bad += 1;
            if let Some(rect) = r.rectification {
                if let Some(on_time) = rect.closed_on_time {
                    self.rectified += 1;
                    self.on_time += u64::from(on_time);
                }
                self.called_back += u64::from(rect.called_back);
            }
        } else {
            self.satisfied += 1;
        }
    }

    /// The figures of these counts.
    pub fn figures(&self) -> Figures {
        let rate = |num: u64, den: u64| (den > 0).then(|| num as f64 / den as f64);
        Figures {
            satisfaction_rate: rate(self.satisfied, self.ratings),
            bad_rate: rate(self.bad, self.ratings),
            rectification_rate: rate(self.rectified, self.bad),
            on_time_rate: rate(self.on_time, self.rectified),
            callback_rate: rate(self.called_back, self.bad),
            mean_level: rate(self.level_sum, self.ratings),
        }
    }

    /// The satisfaction rate shrunk toward `prior_rate` with a prior worth `prior_strength`
    /// ratings, with its 95% interval.
    pub fn shrunk_satisfaction(&self, prior_rate: f64, prior_strength: f64) -> Shrunk {
        let n = self.ratings as f64;
        let s = self.satisfied as f64;
        let c = prior_strength.max(0.0);
        let p = prior_rate.clamp(0.0, 1.0);
        let mean = bayesian_average(s, n, p, c);
        // Beta(a, b) posterior: a = c p + s, b = c (1 - p) + n - s.
        let (a, b) = (c * p + s, c * (1.0 - p) + n - s);
        let total = a + b;
        let sd = if total > 0.0 {
            (a * b / (total * total * (total + 1.0))).sqrt()
        } else {
            0.0
        };
        Shrunk {
            value: mean,
            low: (mean - 1.96 * sd).max(0.0),
            high: (mean + 1.96 * sd).min(1.0),
        }
    }
}

impl std::ops::AddAssign<&Tally> for Tally {
    fn add_assign(&mut self, o: &Tally) {
        self.ratings += o.ratings;
        self.excluded += o.excluded;
        self.satisfied += o.satisfied;
        self.bad += o.bad;
        self.level_sum += o.level_sum;
        self.rectified += o.rectified;
        self.on_time += o.on_time;
        self.called_back += o.called_back;
    }
}

/// Rates of one group; `None` where there is nothing to count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figures {
    /// Satisfaction rate, 0–1.
    pub satisfaction_rate: Option<f64>,
    /// Bad-review rate, 0–1.
    pub bad_rate: Option<f64>,
    /// Rectification rate, 0–1.
    pub rectification_rate: Option<f64>,
    /// On-time rate, 0–1.
    pub on_time_rate: Option<f64>,
    /// Callback rate, 0–1.
    pub callback_rate: Option<f64>,
    /// Mean level, 1–5.
    pub mean_level: Option<f64>,
}

/// A shrunk rate with its 95% interval, 0–1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Shrunk {
    /// Posterior mean.
    pub value: f64,
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

/// One group's counts, figures and shrunk satisfaction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupFigures<K> {
    /// The group.
    pub key: K,
    /// Its counts.
    pub tally: Tally,
    /// Its rates.
    pub figures: Figures,
    /// Its satisfaction rate shrunk toward the rate of all groups together.
    pub shrunk: Shrunk,
}

/// Tallies ratings by group and shrinks each group's satisfaction toward the rate of all of them
/// (a prior worth `prior_strength` ratings). Groups come out ordered by key; a rating may belong
/// to several groups (a case with two officials), or to none.
pub fn by_group<K: Ord + Clone, I>(
    items: impl IntoIterator<Item = (I, RatingObs)>,
    keys: impl Fn(&I) -> Vec<K>,
    prior_strength: f64,
) -> (Tally, Vec<GroupFigures<K>>) {
    let mut groups: BTreeMap<K, Tally> = BTreeMap::new();
    let mut all = Tally::default();
    for (item, obs) in items {
        all.add(&obs);
        for k in keys(&item) {
            groups.entry(k).or_default().add(&obs);
        }
    }
    let out = of_tallies(&all, groups, prior_strength);
    (all, out)
}

/// The figures of groups already tallied (by a database, say), each satisfaction rate shrunk
/// toward the rate of `all`, the tally of every rating together: what [`by_group`] gives for
/// the same counts.
pub fn of_tallies<K>(
    all: &Tally,
    groups: impl IntoIterator<Item = (K, Tally)>,
    prior_strength: f64,
) -> Vec<GroupFigures<K>> {
    let prior = all.figures().satisfaction_rate.unwrap_or(1.0);
    groups
        .into_iter()
        .map(|(key, tally)| GroupFigures {
            key,
            figures: tally.figures(),
            shrunk: tally.shrunk_satisfaction(prior, prior_strength),
            tally,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn obs(level: u8) -> RatingObs {
        RatingObs {
            level: RatingLevel::from_value(level).unwrap(),
            excluded: false,
            rectification: None,
        }
    }

    #[test]
    fn rates_follow_their_definitions() {
        let mut t = Tally::default();
        for l in [5, 5, 4, 3, 2, 1] {
            t.add(&obs(l));
        }
        let closed_late = RectificationObs {
            closed_on_time: Some(false),
            called_back: true,
        };
        let open = RectificationObs {
            closed_on_time: None,
            called_back: false,
        };
        t.add(&RatingObs {
            rectification: Some(closed_late),
            ..obs(1)
        });
        t.add(&RatingObs {
            rectification: Some(open),
            ..obs(2)
        });
        t.add(&RatingObs {
            excluded: true,
            ..obs(1)
        });
        let f = t.figures();
        assert_eq!((t.ratings, t.excluded, t.bad), (8, 1, 4));
        assert_eq!(f.satisfaction_rate, Some(0.5));
        assert_eq!(f.bad_rate, Some(0.5));
        assert_eq!(f.rectification_rate, Some(0.25));
        assert_eq!(f.on_time_rate, Some(0.0));
        assert_eq!(f.callback_rate, Some(0.25));
        assert_eq!(f.mean_level, Some(23.0 / 8.0));
        let empty = Tally::default().figures();
        assert_eq!(empty.satisfaction_rate, None);
        assert_eq!(empty.on_time_rate, None);
    }

    #[test]
    fn three_perfect_ratings_do_not_outrank_three_thousand_good_ones() {
        let few = (0..3).map(|_| ("few", obs(5)));
        let many = (0..3000).map(|i| ("many", obs(if i % 50 == 0 { 2 } else { 4 })));
        let bad = (0..200).map(|i| ("poor", obs(if i % 4 == 0 { 1 } else { 4 })));
        let (_, groups) = by_group(few.chain(many).chain(bad), |k| vec![*k], 20.0);
        let get = |k: &str| groups.iter().find(|g| g.key == k).unwrap();
        assert_eq!(get("few").figures.satisfaction_rate, Some(1.0));
        assert!(get("many").figures.satisfaction_rate.unwrap() < 1.0);
        assert!(get("few").shrunk.value < get("many").shrunk.value);
        assert!(
            get("few").shrunk.high - get("few").shrunk.low
                > get("many").shrunk.high - get("many").shrunk.low
        );
    }

    proptest! {
        #[test]
        fn shrunk_rates_lie_between_the_prior_and_the_raw_rate(
            levels in proptest::collection::vec(1u8..=5, 1..200),
            prior in 0.0f64..=1.0,
            strength in 0.0f64..100.0,
        ) {
            let mut t = Tally::default();
            for l in &levels {
                t.add(&obs(*l));
            }
            let raw = t.figures().satisfaction_rate.unwrap();
            let s = t.shrunk_satisfaction(prior, strength);
            let (lo, hi) = if raw < prior { (raw, prior) } else { (prior, raw) };
            prop_assert!(s.value >= lo - 1e-12 && s.value <= hi + 1e-12);
            prop_assert!(s.low <= s.value && s.value <= s.high);
            prop_assert!(s.low >= 0.0 && s.high <= 1.0);
        }

        #[test]
        fn excluded_ratings_never_move_the_rates(
            levels in proptest::collection::vec(1u8..=5, 0..100),
            extra in proptest::collection::vec(1u8..=5, 0..20),
        ) {
            let mut a = Tally::default();
            let mut b = Tally::default();
            for l in &levels {
                a.add(&obs(*l));
                b.add(&obs(*l));
            }
            for l in &extra {
                b.add(&RatingObs { excluded: true, ..obs(*l) });
            }
            prop_assert_eq!(a.figures(), b.figures());
            prop_assert_eq!(b.excluded, extra.len() as u64);
        }
    }
}
