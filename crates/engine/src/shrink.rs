//! Bayesian shrinkage of rating averages, so that 3 ratings do not outrank 3,000.
//!
//! The Bayesian average of `n` ratings summing to `sum`, with a prior mean `m` worth `C`
//! ratings, is `(C m + sum) / (C + n)`: few ratings stay close to the prior, many ratings speak
//! for themselves.

/// Bayesian average `(prior_strength × prior_mean + sum) / (prior_strength + n)`.
///
/// With `n = 0` it is the prior mean. `prior_strength` must be positive; a non-positive
/// strength returns the plain mean (or the prior when there are no ratings).
pub fn bayesian_average(sum: f64, n: f64, prior_mean: f64, prior_strength: f64) -> f64 {
    let c = prior_strength.max(0.0);
    let den = c + n.max(0.0);
    if den > 0.0 {
        (c * prior_mean + sum) / den
    } else {
        prior_mean
    }
}

/// Shrinks each group's average toward the rating-weighted grand mean: `means[i]` is the
/// average of `counts[i]` ratings. `NaN` means stay `NaN`.
pub fn shrink_means(means: &[f64], counts: &[f64], prior_strength: f64) -> Vec<f64> {
    let (mut num, mut den) = (0.0, 0.0);
    for (&m, &k) in means.iter().zip(counts) {
        if m.is_finite() && k.is_finite() && k > 0.0 {
            num += m * k;
            den += k;
        }
    }
    let prior = if den > 0.0 { num / den } else { 0.0 };
    means
        .iter()
        .zip(counts)
        .map(|(&m, &k)| {
            if m.is_nan() {
                f64::NAN
            } else {
                bayesian_average(m * k.max(0.0), k, prior, prior_strength)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_fives_do_not_outrank_three_thousand() {
        // Prior: the service-wide mean 4.5 worth 10 ratings.
        let few = bayesian_average(3.0 * 5.0, 3.0, 4.5, 10.0);
        let many = bayesian_average(3000.0 * 4.8, 3000.0, 4.5, 10.0);
        assert!((few - 60.0 / 13.0).abs() < 1e-12); // 4.615…
        assert!(many > few, "{many} vs {few}");
        assert!((many - 14445.0 / 3010.0).abs() < 1e-12); // 4.799…
        assert_eq!(bayesian_average(0.0, 0.0, 4.5, 10.0), 4.5);
    }

    #[test]
    fn group_prior() {
        // Grand mean (4.475…) pulls the 3 ratings of 5.0 below the 3,000 averaging 4.8.
        let s = shrink_means(
            &[5.0, 4.8, 4.2, 4.3, f64::NAN],
            &[3.0, 3000.0, 2000.0, 2500.0, 0.0],
            10.0,
        );
        assert!(s[1] > s[0], "{s:?}");
        assert!(s[4].is_nan());
    }
}
