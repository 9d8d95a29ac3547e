//! Normalization of one indicator column to the 0–100 scale, with negative (反向) indicators
//! mirrored so that 100 is always best.
//!
//! Data-driven methods (min-max, z-score, rank) are fitted on the observed (non-missing) values
//! of the whole input. Missing values stay `NaN` here; the indicator's missing-value rule is
//! applied afterwards.

use crate::framework::Direction;
use crate::rank::{RadixSorter, f64_key};
use serde::{Deserialize, Serialize};

/// How an indicator's values become scores on 0–100.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Normalization {
    /// `100 (x − min) / (max − min)` over the observed values (mirrored for negative
    /// indicators). A constant column scores `constant` (default 100).
    #[serde(rename = "minmax", alias = "min_max")]
    MinMax {
        /// Score of every value when all observed values are equal.
        #[serde(default = "full")]
        constant: f64,
    },
    /// `50 + 10 z` clamped to 0–100 (a T-score), `z = (x − mean) / sd` with the population
    /// standard deviation; `z` is negated for negative indicators. Values beyond ±5 sd are
    /// clamped and reported. A constant column scores `constant` (default 100).
    #[serde(rename = "zscore", alias = "z_score")]
    ZScore {
        /// Score of every value when all observed values are equal.
        #[serde(default = "full")]
        constant: f64,
    },
    /// Fixed goalposts: `100 (x − min) / (max − min)` (positive) or `100 (max − x) / (max − min)`
    /// (negative), clamped to 0–100; values outside `[min, max]` are clamped and reported.
    Goalposts {
        /// Lower goalpost.
        min: f64,
        /// Upper goalpost.
        max: f64,
    },
    /// Distance to a target with a floor: `100 (x − floor) / (target − floor)` clamped to 0–100.
    /// Meeting or passing the target scores 100 and earns nothing extra; values past the floor
    /// score 0 and are reported. For positive indicators `floor < target` (default 0); for
    /// negative ones `floor > target` and the floor is required.
    Target {
        /// Target value (scores 100).
        target: f64,
        /// Floor value (scores 0).
        #[serde(default)]
        floor: Option<f64>,
    },
    /// Piecewise-linear bands: `points = [[x0, s0], [x1, s1], …]` with `x` strictly
    /// increasing and scores in 0–100; values between points are interpolated, values outside
    /// take the end score and are reported. The scores carry the direction: they must not
    /// decrease for positive indicators and not increase for negative ones.
    Bands {
        /// `[value, score]` pairs.
        points: Vec<[f64; 2]>,
    },
    /// Percentile rank with mid-ranks for ties: `100 (below + (equal − 1) / 2) / (n − 1)`;
    /// mirrored for negative indicators. A single observation scores `constant` (default 100).
    #[serde(alias = "percentile")]
    Rank {
        /// Score when fewer than two values are observed or all are equal.
        #[serde(default = "full")]
        constant: f64,
    },
}

fn full() -> f64 {
    100.0
}

impl Default for Normalization {
    fn default() -> Self {
        Normalization::MinMax { constant: 100.0 }
    }
}

impl Normalization {
    /// Short method name, as written in framework files.
    pub fn method(&self) -> &'static str {
        match self {
            Normalization::MinMax { .. } => "minmax",
            Normalization::ZScore { .. } => "zscore",
            Normalization::Goalposts { .. } => "goalposts",
            Normalization::Target { .. } => "target",
            Normalization::Bands { .. } => "bands",
            Normalization::Rank { .. } => "rank",
        }
    }

    /// Checks parameters against the direction; returns a message for the framework check.
    pub fn check(&self, direction: Direction) -> Result<(), String> {
        let in_range = |c: f64| (0.0..=100.0).contains(&c);
        match self {
            Normalization::MinMax { constant }
            | Normalization::ZScore { constant }
            | Normalization::Rank { constant } => {
                if !in_range(*constant) {
                    return Err(format!("constant = {constant} must be within 0–100"));
                }
            }
            Normalization::Goalposts { min, max } => {
                if !(min.is_finite() && max.is_finite() && min < max) {
                    return Err(format!(
                        "goalposts need min < max, got min = {min}, max = {max}"
                    ));
                }
            }
            Normalization::Target { target, floor } => {
                if !target.is_finite() {
                    return Err("target must be a finite number".into());
                }
                match (direction, floor) {
                    (Direction::Negative, None) => {
                        return Err(
                            "a negative indicator's target needs a floor (the worst value that still scores 0)"
                                .into(),
                        );
                    }
                    (Direction::Positive, f) => {
                        let f = f.unwrap_or(0.0);
                        if !(f.is_finite() && f < *target) {
                            return Err(format!(
                                "a positive indicator needs floor < target, got floor = {f}, target = {target}"
                            ));
                        }
                    }
                    (Direction::Negative, Some(f)) => {
                        if !(f.is_finite() && *f > *target) {
                            return Err(format!(
                                "a negative indicator needs floor > target, got floor = {f}, target = {target}"
                            ));
                        }
                    }
                }
            }
            Normalization::Bands { points } => {
                if points.len() < 2 {
                    return Err("bands need at least two [value, score] points".into());
                }
                for w in points.windows(2) {
                    let ([x0, s0], [x1, s1]) = (w[0], w[1]);
                    if !(x0.is_finite() && x1.is_finite() && x0 < x1) {
                        return Err(format!(
                            "band values must increase strictly: {x0} then {x1}"
                        ));
                    }
                    let wrong = match direction {
                        Direction::Positive => s1 < s0,
                        Direction::Negative => s1 > s0,
                    };
                    if wrong {
                        return Err(format!(
                            "band scores {s0} then {s1} go against the indicator's direction"
                        ));
                    }
                }
                if let Some(p) = points.iter().find(|p| !in_range(p[1])) {
                    return Err(format!("band score {} must be within 0–100", p[1]));
                }
            }
        }
        Ok(())
    }
}

/// What normalizing one column found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnReport {
    /// Number of observed (non-missing) values.
    pub observed: usize,
    /// All observed values are equal (or fewer than two) for a data-driven method: every
    /// value got the method's constant score.
    pub constant: bool,
    /// Rows whose value lay outside the method's range (goalposts, floor, bands, ±5 sd) and
    /// was clamped.
    pub outside: Vec<u32>,
}

/// Normalizes `values` (`NaN` = missing) into `out` (same length; missing stays `NaN`).
pub fn normalize_column(
    method: &Normalization,
    direction: Direction,
    values: &[f64],
    out: &mut [f64],
) -> ColumnReport {
    let mut report = ColumnReport::default();
    let neg = direction == Direction::Negative;
    match method {
        Normalization::MinMax { constant } => {
            let (mut lo, mut hi, mut count) = (f64::INFINITY, f64::NEG_INFINITY, 0usize);
            for &x in values.iter().filter(|x| !x.is_nan()) {
                lo = lo.min(x);
                hi = hi.max(x);
                count += 1;
            }
            report.observed = count;
            if count == 0 || hi <= lo {
                report.constant = count > 0;
                fill_constant(values, out, *constant);
            } else {
                let scale = 100.0 / (hi - lo);
                for (o, &x) in out.iter_mut().zip(values) {
                    *o = if neg {
                        (hi - x) * scale
                    } else {
                        (x - lo) * scale
                    };
                }
            }
        }
        Normalization::ZScore { constant } => {
            let (mut sum, mut count) = (0.0, 0usize);
            for &x in values.iter().filter(|x| !x.is_nan()) {
                sum += x;
                count += 1;
            }
            report.observed = count;
            let mean = if count > 0 { sum / count as f64 } else { 0.0 };
            let var = values
                .iter()
                .filter(|x| !x.is_nan())
                .map(|&x| (x - mean) * (x - mean))
                .sum::<f64>()
                / count.max(1) as f64;
            let sd = var.sqrt();
            if count == 0 || sd <= 0.0 || !sd.is_finite() {
                report.constant = count > 0;
                fill_constant(values, out, *constant);
            } else {
                for (r, (o, &x)) in out.iter_mut().zip(values).enumerate() {
                    let z = if neg {
                        (mean - x) / sd
                    } else {
                        (x - mean) / sd
                    };
                    let t = 50.0 + 10.0 * z;
                    if !(0.0..=100.0).contains(&t) {
                        report.outside.push(r as u32);
                    }
                    *o = t.clamp(0.0, 100.0);
                }
            }
        }
        Normalization::Goalposts { min, max } => {
            let (a, b) = if neg { (*max, *min) } else { (*min, *max) };
            linear(values, out, a, b, true, &mut report);
        }
        Normalization::Target { target, floor } => {
            let f = floor.unwrap_or(0.0);
            linear(values, out, f, *target, false, &mut report);
        }
        Normalization::Bands { points } => {
            for (r, (o, &x)) in out.iter_mut().zip(values).enumerate() {
                if x.is_nan() {
                    *o = f64::NAN;
                    continue;
                }
                report.observed += 1;
                let (s, outside) = interpolate(points, x);
                if outside {
                    report.outside.push(r as u32);
                }
                *o = s;
            }
        }
        Normalization::Rank { constant } => {
            rank_column(values, out, neg, *constant, &mut report);
        }
    }
    report
}

fn fill_constant(values: &[f64], out: &mut [f64], constant: f64) {
    for (o, &x) in out.iter_mut().zip(values) {
        *o = if x.is_nan() { f64::NAN } else { constant };
    }
}

/// `100 (x − zero) / (hundred − zero)` clamped; `report_high` also reports values past the
/// 100 end (goalposts), while a target's 100 end is an achievement, not an anomaly.
fn linear(
    values: &[f64],
    out: &mut [f64],
    zero: f64,
    hundred: f64,
    report_high: bool,
    report: &mut ColumnReport,
) {
    let scale = 100.0 / (hundred - zero);
    for (r, (o, &x)) in out.iter_mut().zip(values).enumerate() {
        if x.is_nan() {
            *o = f64::NAN;
            continue;
        }
        report.observed += 1;
        let s = (x - zero) * scale;
        if s < 0.0 || (report_high && s > 100.0) {
            report.outside.push(r as u32);
        }
        *o = s.clamp(0.0, 100.0);
    }
}

fn interpolate(points: &[[f64; 2]], x: f64) -> (f64, bool) {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return (0.0, false);
    };
    if x < first[0] {
        return (first[1], true);
    }
    if x > last[0] {
        return (last[1], true);
    }
    for w in points.windows(2) {
        let ([x0, s0], [x1, s1]) = (w[0], w[1]);
        if x <= x1 {
            return (s0 + (s1 - s0) * (x - x0) / (x1 - x0), false);
        }
    }
    (last[1], false)
}

fn rank_column(
    values: &[f64],
    out: &mut [f64],
    neg: bool,
    constant: f64,
    report: &mut ColumnReport,
) {
    let mut sorter = RadixSorter::default();
    let (keys, idx) = sorter.sort_desc(
        values
            .iter()
            .enumerate()
            .filter(|(_, x)| !x.is_nan())
            .map(|(i, &x)| (f64_key(x), i as u32)),
    );
    let n = keys.len();
    report.observed = n;
    for o in out.iter_mut() {
        *o = f64::NAN;
    }
    if n < 2 || keys.first() == keys.last() {
        report.constant = n > 0;
        for &i in idx {
            out[i as usize] = constant;
        }
        return;
    }
    // Sorted descending: a run [a, b) of equal values has `a` values above it and `n - b` below.
    let denom = (n - 1) as f64;
    let mut a = 0;
    while a < n {
        let mut b = a + 1;
        while b < n && keys[b] == keys[a] {
            b += 1;
        }
        let ties_half = (b - a - 1) as f64 / 2.0;
        // Share of the others this value beats: those below it, or above it when lower is better.
        let beaten = if neg { a as f64 } else { (n - b) as f64 };
        let s = 100.0 * (beaten + ties_half) / denom;
        for &i in &idx[a..b] {
            out[i as usize] = s;
        }
        a = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(m: Normalization, d: Direction, v: &[f64]) -> (Vec<f64>, ColumnReport) {
        let mut out = vec![0.0; v.len()];
        let r = normalize_column(&m, d, v, &mut out);
        let _consumed = m;
        (out, r)
    }

    #[test]
    fn minmax_worked_example() {
        let (o, r) = norm(
            Normalization::default(),
            Direction::Positive,
            &[2.0, 4.0, f64::NAN, 10.0],
        );
        assert_eq!(o[0], 0.0);
        assert_eq!(o[1], 25.0);
        assert!(o[2].is_nan());
        assert_eq!(o[3], 100.0);
        assert_eq!(r.observed, 3);
        let (o, _) = norm(
            Normalization::default(),
            Direction::Negative,
            &[2.0, 4.0, 10.0],
        );
        assert_eq!(o, vec![100.0, 75.0, 0.0]);
        let (o, r) = norm(Normalization::default(), Direction::Positive, &[3.0, 3.0]);
        assert!(r.constant);
        assert_eq!(o, vec![100.0, 100.0]);
    }

    #[test]
    fn zscore_worked_example() {
        // mean 5, population sd 2 → T = 50 + 10 z.
        let v = [3.0, 5.0, 7.0, 3.0, 7.0];
        let (o, _) = norm(
            Normalization::ZScore { constant: 100.0 },
            Direction::Positive,
            &v,
        );
        let sd = (16.0f64 / 5.0).sqrt();
        assert!((o[0] - (50.0 - 20.0 / sd)).abs() < 1e-12);
        assert_eq!(o[1], 50.0);
    }

    #[test]
    fn goalposts_target_bands() {
        let g = Normalization::Goalposts {
            min: 15.0,
            max: 75.0,
        };
        let (o, r) = norm(g, Direction::Negative, &[35.0, 10.0, 80.0]);
        assert!((o[0] - 100.0 * 40.0 / 60.0).abs() < 1e-12);
        assert_eq!((o[1], o[2]), (100.0, 0.0));
        assert_eq!(r.outside, vec![1, 2]);
        let t = Normalization::Target {
            target: 100.0,
            floor: Some(60.0),
        };
        let (o, r) = norm(t, Direction::Positive, &[80.0, 120.0, 50.0]);
        assert_eq!(o, vec![50.0, 100.0, 0.0]);
        assert_eq!(r.outside, vec![2]);
        let t = Normalization::Target {
            target: 5.5,
            floor: Some(8.0),
        };
        let (o, _) = norm(t, Direction::Negative, &[5.0, 6.75]);
        assert_eq!(o, vec![100.0, 50.0]);
        let b = Normalization::Bands {
            points: vec![[0.0, 100.0], [100.0, 100.0], [120.0, 0.0]],
        };
        let (o, r) = norm(b, Direction::Negative, &[80.0, 110.0, 130.0]);
        assert_eq!(o, vec![100.0, 50.0, 0.0]);
        assert_eq!(r.outside, vec![2]);
    }

    #[test]
    fn rank_with_ties() {
        let (o, _) = norm(
            Normalization::Rank { constant: 100.0 },
            Direction::Positive,
            &[10.0, 20.0, 20.0, 30.0, 40.0],
        );
        assert_eq!(o, vec![0.0, 37.5, 37.5, 75.0, 100.0]);
        let (o, _) = norm(
            Normalization::Rank { constant: 100.0 },
            Direction::Negative,
            &[10.0, 20.0, 20.0, 30.0, 40.0],
        );
        assert_eq!(o, vec![100.0, 62.5, 62.5, 25.0, 0.0]);
    }

    #[test]
    fn checks() {
        assert!(
            Normalization::Target {
                target: 5.0,
                floor: None
            }
            .check(Direction::Negative)
            .is_err()
        );
        assert!(
            Normalization::Goalposts { min: 1.0, max: 1.0 }
                .check(Direction::Positive)
                .is_err()
        );
        let b = Normalization::Bands {
            points: vec![[0.0, 0.0], [1.0, 100.0]],
        };
        assert!(b.check(Direction::Positive).is_ok());
        assert!(b.check(Direction::Negative).is_err());
    }
}
