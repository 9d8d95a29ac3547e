//! Weights: AHP from a pairwise comparison matrix, and entropy weights from data.
//!
//! Explicit weights need no computation beyond normalizing each group of siblings to sum 1;
//! the framework does that. Effective weights are the products of local weights down the tree.

use serde::Serialize;

/// Saaty's random consistency index RI for matrices of order 1 to 15 (index 0 = order 1).
pub const RANDOM_INDEX: [f64; 15] = [
    0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59,
];

/// Largest consistency ratio accepted unless the framework overrides it explicitly.
pub const MAX_CONSISTENCY_RATIO: f64 = 0.1;

/// Random index RI for a matrix of order `n`, `None` above 15.
pub fn random_index(n: usize) -> Option<f64> {
    n.checked_sub(1).and_then(|i| RANDOM_INDEX.get(i)).copied()
}

/// Result of an AHP weighting: the principal eigenvector and the consistency figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AhpReport {
    /// Where the matrix is: `framework` or the dimension id.
    pub node: String,
    /// The compared items, in matrix order.
    pub items: Vec<String>,
    /// Weights (principal right eigenvector, normalized to sum 1).
    pub weights: Vec<f64>,
    /// Principal eigenvalue λmax.
    pub lambda_max: f64,
    /// Consistency index CI = (λmax − n) / (n − 1).
    pub ci: f64,
    /// Random index RI for this order (Saaty).
    pub ri: f64,
    /// Consistency ratio CR = CI / RI (0 for n ≤ 2).
    pub cr: f64,
    /// Whether the framework accepted CR > 0.1 explicitly.
    pub overridden: bool,
}

/// Why a pairwise comparison matrix was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AhpError {
    /// Not square, empty, or too large for the RI table.
    #[error("{0}")]
    Shape(String),
    /// An entry is not a positive finite number, a diagonal entry is not 1, or
    /// `a[j][i]` is not `1 / a[i][j]`.
    #[error("{0}")]
    Entry(String),
}

/// Weights and consistency figures computed from one pairwise comparison matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct AhpResult {
    /// Principal right eigenvector, normalized to sum 1.
    pub weights: Vec<f64>,
    /// Principal eigenvalue λmax.
    pub lambda_max: f64,
    /// Consistency index CI = (λmax − n) / (n − 1).
    pub ci: f64,
    /// Random index RI (Saaty) for the order of the matrix.
    pub ri: f64,
    /// Consistency ratio CR = CI / RI (0 for n ≤ 2).
    pub cr: f64,
}

/// Computes AHP weights from a positive reciprocal matrix (row `i`, column `j` = how much more
/// important item `i` is than item `j`, on Saaty's 1–9 scale) by power iteration.
pub fn ahp(matrix: &[Vec<f64>]) -> Result<AhpResult, AhpError> {
    let n = matrix.len();
    if n == 0 {
        return Err(AhpError::Shape("the matrix is empty".into()));
    }
    let Some(ri) = random_index(n) else {
        return Err(AhpError::Shape(format!(
            "AHP supports at most 15 items, got {n}"
        )));
    };
    for (i, row) in matrix.iter().enumerate() {
        if row.len() != n {
            return Err(AhpError::Shape(format!(
                "row {} has {} entries, expected {n}",
                i + 1,
                row.len()
            )));
        }
        for (j, &a) in row.iter().enumerate() {
            if !(a.is_finite() && a > 0.0) {
                return Err(AhpError::Entry(format!(
                    "entry ({}, {}) = {a} is not a positive number",
                    i + 1,
                    j + 1
                )));
            }
        }
    }
    for (i, row) in matrix.iter().enumerate() {
        if (row[i] - 1.0).abs() > 1e-9 {
            return Err(AhpError::Entry(format!(
                "diagonal entry ({0}, {0}) must be 1",
                i + 1
            )));
        }
        for (j, other) in matrix.iter().enumerate().skip(i + 1) {
            let prod = row[j] * other[i];
            // 1/3 written as 0.333 gives 0.999: allow 1% for rounded decimals.
            if (prod - 1.0).abs() > 0.01 {
                return Err(AhpError::Entry(format!(
                    "entries ({0}, {1}) = {2} and ({1}, {0}) = {3} are not reciprocal",
                    i + 1,
                    j + 1,
                    row[j],
                    other[i]
                )));
            }
        }
    }
    // Start from the row geometric means (already exact for consistent matrices).
    let mut w: Vec<f64> = matrix
        .iter()
        .map(|row| (row.iter().map(|a| a.ln()).sum::<f64>() / n as f64).exp())
        .collect();
    normalize_sum(&mut w);
    let mut next = vec![0.0; n];
    for _ in 0..10_000 {
        for (i, row) in matrix.iter().enumerate() {
            next[i] = row.iter().zip(&w).map(|(a, x)| a * x).sum();
        }
        normalize_sum(&mut next);
        let delta = next
            .iter()
            .zip(&w)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        std::mem::swap(&mut w, &mut next);
        if delta < 1e-15 {
            break;
        }
    }
    let lambda_max = matrix
        .iter()
        .zip(&w)
        .map(|(row, wi)| row.iter().zip(&w).map(|(a, x)| a * x).sum::<f64>() / wi)
        .sum::<f64>()
        / n as f64;
    let ci = if n > 1 {
        ((lambda_max - n as f64) / (n as f64 - 1.0)).max(0.0)
    } else {
        0.0
    };
    let cr = if ri > 0.0 { ci / ri } else { 0.0 };
    Ok(AhpResult {
        weights: w,
        lambda_max,
        ci,
        ri,
        cr,
    })
}

fn normalize_sum(w: &mut [f64]) {
    let s: f64 = w.iter().sum();
    if s > 0.0 && s.is_finite() {
        for x in w {
            *x /= s;
        }
    }
}

/// Degree of divergence `d = 1 − e` of one column of non-negative normalized scores (`NaN` =
/// missing, skipped), where `e = −(1 / ln n) Σ p ln p` and `p = x / Σ x`. A column that carries
/// no information (constant, a single observation, or all zero) has `d = 0`.
pub fn entropy_divergence(column: &[f64]) -> f64 {
    let (sum, count) = column
        .iter()
        .filter(|x| !x.is_nan())
        .fold((0.0, 0usize), |(s, c), &x| (s + x.max(0.0), c + 1));
    if count < 2 || sum <= 0.0 {
        return 0.0;
    }
    let h: f64 = column
        .iter()
        .filter(|x| !x.is_nan())
        .map(|&x| {
            let p = x.max(0.0) / sum;
            if p > 0.0 { -p * p.ln() } else { 0.0 }
        })
        .sum();
    let e = h / (count as f64).ln();
    let d = (1.0 - e).clamp(0.0, 1.0);
    // A constant column has e = 1 exactly in theory; drop rounding residue.
    if d < 1e-12 { 0.0 } else { d }
}

/// Entropy weights of several columns: `w_j = d_j / Σ d`. When no column carries information,
/// the weights are equal.
pub fn entropy_weights(columns: &[&[f64]]) -> Vec<f64> {
    let d: Vec<f64> = columns.iter().map(|c| entropy_divergence(c)).collect();
    let total: f64 = d.iter().sum();
    if total > 0.0 {
        d.iter().map(|x| x / total).collect()
    } else {
        vec![1.0 / columns.len().max(1) as f64; columns.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ri_table() {
        assert_eq!(random_index(3), Some(0.58));
        assert_eq!(random_index(9), Some(1.45));
        assert_eq!(random_index(16), None);
        assert_eq!(random_index(0), None);
    }

    #[test]
    fn consistent_matrix_has_zero_cr() {
        let m = vec![
            vec![1.0, 2.0, 4.0],
            vec![0.5, 1.0, 2.0],
            vec![0.25, 0.5, 1.0],
        ];
        let r = ahp(&m).expect("valid");
        assert!((r.weights[0] - 4.0 / 7.0).abs() < 1e-12);
        assert!((r.lambda_max - 3.0).abs() < 1e-12 && r.ci < 1e-12 && r.cr < 1e-12);
    }

    #[test]
    fn rejects_non_reciprocal() {
        let m = vec![vec![1.0, 3.0], vec![3.0, 1.0]];
        assert!(matches!(ahp(&m), Err(AhpError::Entry(_))));
        let m = vec![vec![1.0, 3.0]];
        assert!(matches!(ahp(&m), Err(AhpError::Shape(_))));
    }

    #[test]
    fn entropy_of_constant_is_zero() {
        assert_eq!(entropy_divergence(&[5.0, 5.0, 5.0]), 0.0);
        assert!(entropy_divergence(&[0.0, 0.0, 100.0]) > 0.99);
        let w = entropy_weights(&[&[1.0, 1.0], &[2.0, 2.0]]);
        assert_eq!(w, vec![0.5, 0.5]);
    }
}
