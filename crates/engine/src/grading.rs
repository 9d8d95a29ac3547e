//! Grades, the rules that decide them, and the top-grade quota with its tie rule.

use kaohe_domain::{GradeScale, Labeled};
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// Default score thresholds of grade levels 0, 1 and 2 for a scale (below the last: level 3).
///
/// Annual: 优秀 ≥ 90, 称职 ≥ 70, 基本称职 ≥ 60, else 不称职 (a unit's evaluation form; see
/// docs/frameworks.md). Routine and team scales: 90 / 80 / 60, a kaohe default.
pub fn default_thresholds(scale: GradeScale) -> [f64; 3] {
    match scale {
        GradeScale::Annual => [90.0, 70.0, 60.0],
        GradeScale::Routine | GradeScale::Team => [90.0, 80.0, 60.0],
    }
}

/// A grade on a scale: level 0 is the best (优秀/好), 3 the worst (不称职/较差).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grade {
    /// Scale.
    pub scale: GradeScale,
    /// Level, 0 (best) to 3 (worst).
    pub level: u8,
}

impl Grade {
    /// Stable code, e.g. `excellent`.
    pub fn code(self) -> &'static str {
        self.labels().0
    }

    /// Chinese label, e.g. 优秀.
    pub fn zh(self) -> &'static str {
        self.labels().1
    }

    /// English label.
    pub fn en(self) -> &'static str {
        self.labels().2
    }

    fn labels(self) -> (&'static str, &'static str, &'static str) {
        self.scale
            .grade(self.level as usize)
            .unwrap_or(("unknown", "未知", "Unknown"))
    }

    /// Label for an optional grade: `None` is 不定等次 (no grade, written comment only).
    pub fn label(grade: Option<Grade>, lang: &str) -> &'static str {
        match (grade, lang) {
            (Some(g), "en") => g.en(),
            (Some(g), _) => g.zh(),
            (None, "en") => "No grade (comment only)",
            (None, _) => "不定等次",
        }
    }
}

impl Serialize for Grade {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Grade", 5)?;
        st.serialize_field("scale", self.scale.code())?;
        st.serialize_field("level", &self.level)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("zh", self.zh())?;
        st.serialize_field("en", self.en())?;
        st.end()
    }
}

/// The rule that decided a grade.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Rule {
    /// `threshold`: the score's band (for the top grade: within the quota).
    Threshold,
    /// `quota`: eligible for the top grade but beyond the quota; next grade.
    Quota,
    /// `quota_tie_committee`: tied at the quota line; next grade provisionally, for the
    /// assessment committee (考核委员会) to decide.
    QuotaTieCommittee,
    /// `veto:<id>`: a veto by an indicator value or an input fact; worst grade.
    Veto(String),
    /// `blocked:warning`: a warning (警告) in the year rules out the top grade.
    BlockedWarning,
    /// `blocked:sanction_in_effect`: a sanction of 记过 or worse in effect: no grade.
    BlockedSanctionInEffect,
    /// `blocked:routine_poor`: too many routine 较差 results rule out the top grade.
    BlockedRoutinePoor,
}

impl Rule {
    /// Machine code, e.g. `quota_tie_committee` or `veto:safety_accidents`.
    pub fn code(&self) -> Cow<'static, str> {
        match self {
            Rule::Threshold => "threshold".into(),
            Rule::Quota => "quota".into(),
            Rule::QuotaTieCommittee => "quota_tie_committee".into(),
            Rule::Veto(id) => format!("veto:{id}").into(),
            Rule::BlockedWarning => "blocked:warning".into(),
            Rule::BlockedSanctionInEffect => "blocked:sanction_in_effect".into(),
            Rule::BlockedRoutinePoor => "blocked:routine_poor".into(),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code())
    }
}

/// What the quota decided for one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TopOutcome {
    /// Not eligible for the top grade (below the threshold or blocked).
    NotEligible,
    /// Within the quota: top grade.
    Top,
    /// Eligible but beyond the quota.
    Quota,
    /// Tied across the quota line: for the committee.
    Tie,
}

/// Quota state per scope, reused across draws.
#[derive(Debug, Default)]
pub(crate) struct QuotaState {
    /// Quota `k` per scope.
    pub(crate) k: Vec<u32>,
    awarded: Vec<u32>,
    closed: Vec<bool>,
    run_count: Vec<u32>,
    decision: Vec<Option<TopOutcome>>,
    touched: Vec<u32>,
}

/// `k = floor(share × assessed)`, robust to binary fractions (0.29 × 100 is 28.999…).
pub(crate) fn quota_k(share: f64, assessed: usize) -> u32 {
    (share * assessed as f64 + 1e-9).floor().max(0.0) as u32
}

impl QuotaState {
    pub(crate) fn new(k: Vec<u32>) -> Self {
        let s = k.len();
        Self {
            k,
            awarded: vec![0; s],
            closed: vec![false; s],
            run_count: vec![0; s],
            decision: vec![None; s],
            touched: Vec::new(),
        }
    }

    /// Awards the top grade over people sorted by descending key (`keys[p]` is the key of
    /// `order[p]`). Only those with `keys ≥ min_key` and `eligible` are considered. Within each
    /// scope the top `k` eligible get it; when the tie group at the line would not fit entirely,
    /// nobody in it gets it automatically (`Tie`) and nobody below it does either (`Quota`).
    /// Writes `out[person]` for every considered eligible person; others are left untouched.
    pub(crate) fn award(
        &mut self,
        keys: &[u64],
        order: &[u32],
        min_key: u64,
        eligible: impl Fn(usize) -> bool,
        scope: &[u32],
        out: &mut [TopOutcome],
    ) {
        self.awarded.iter_mut().for_each(|a| *a = 0);
        self.closed.iter_mut().for_each(|c| *c = false);
        let n = keys.len();
        let mut a = 0;
        while a < n && keys[a] >= min_key {
            let mut b = a + 1;
            while b < n && keys[b] == keys[a] {
                b += 1;
            }
            for &i in &order[a..b] {
                let i = i as usize;
                if eligible(i) {
                    let s = scope[i] as usize;
                    if self.run_count[s] == 0 {
                        self.touched.push(s as u32);
                    }
                    self.run_count[s] += 1;
                }
            }
            for &i in &order[a..b] {
                let i = i as usize;
                if !eligible(i) {
                    continue;
                }
                let s = scope[i] as usize;
                let d = match self.decision[s] {
                    Some(d) => d,
                    None => {
                        let c = self.run_count[s];
                        let d = if self.closed[s] || self.awarded[s] >= self.k[s] {
                            TopOutcome::Quota
                        } else if self.awarded[s] + c <= self.k[s] {
                            self.awarded[s] += c;
                            TopOutcome::Top
                        } else {
                            self.closed[s] = true;
                            TopOutcome::Tie
                        };
                        self.decision[s] = Some(d);
                        d
                    }
                };
                out[i] = d;
            }
            for &s in &self.touched {
                self.run_count[s as usize] = 0;
                self.decision[s as usize] = None;
            }
            self.touched.clear();
            a = b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_rounds_down_robustly() {
        assert_eq!(quota_k(0.2, 9), 1);
        assert_eq!(quota_k(0.2, 10), 2);
        assert_eq!(quota_k(0.29, 100), 29);
        assert_eq!(quota_k(0.2, 4), 0);
    }

    #[test]
    fn tie_straddling_the_line_goes_to_committee() {
        // Scores 95, 93, 93, 91 in one scope, k = 2: the 93s straddle the line.
        let keys = [95u64, 93, 93, 91];
        let order = [0u32, 1, 2, 3];
        let mut q = QuotaState::new(vec![2]);
        let mut out = [TopOutcome::NotEligible; 4];
        q.award(&keys, &order, 90, |_| true, &[0, 0, 0, 0], &mut out);
        assert_eq!(
            out,
            [
                TopOutcome::Top,
                TopOutcome::Tie,
                TopOutcome::Tie,
                TopOutcome::Quota
            ]
        );
        // k = 3: the tie fits.
        let mut q = QuotaState::new(vec![3]);
        q.award(&keys, &order, 90, |_| true, &[0, 0, 0, 0], &mut out);
        assert_eq!(
            out,
            [
                TopOutcome::Top,
                TopOutcome::Top,
                TopOutcome::Top,
                TopOutcome::Quota
            ]
        );
        // k = 1: the line falls between 95 and 93: no tie.
        let mut q = QuotaState::new(vec![1]);
        q.award(&keys, &order, 90, |_| true, &[0, 0, 0, 0], &mut out);
        assert_eq!(
            out,
            [
                TopOutcome::Top,
                TopOutcome::Quota,
                TopOutcome::Quota,
                TopOutcome::Quota
            ]
        );
    }

    #[test]
    fn labels() {
        let g = Grade {
            scale: GradeScale::Team,
            level: 1,
        };
        assert_eq!((g.zh(), g.code()), ("良好", "good"));
        assert_eq!(Grade::label(None, "zh"), "不定等次");
        assert_eq!(Rule::Veto("x".into()).code(), "veto:x");
    }
}
