//! A person's profile in a cycle: the score of each top dimension (维度) of the framework, and
//! the median of those scores among the people of the person's unit in the same revision, for
//! the official's results page.
//!
//! A dimension's score is its indicators' contributions over their effective weights: the
//! weighted mean, 0–100, of its indicators' normalized scores. It exists for frameworks that
//! add their indicators up (arithmetic aggregation); a geometric mean has no such split.

use super::work::{CycleRunError, load_framework};
use super::{Cycle, ResultRow};
use crate::Store;
use kaohe_engine::{Aggregation, Framework};

/// One top dimension of a person's profile.
#[derive(Debug, Clone, PartialEq)]
pub struct DimensionScore {
    /// Name (Chinese).
    pub name: String,
    /// English name, when the framework gives one.
    pub name_en: Option<String>,
    /// The person's score, 0–100.
    pub own: f64,
    /// The median score of the people of the person's unit (the person among them).
    pub unit_median: f64,
    /// How many people of the unit the median is of.
    pub unit_people: usize,
}

/// What the revision's summary says of its indicators.
#[derive(Debug, serde::Deserialize)]
struct Summary {
    #[serde(default)]
    indicators: Vec<String>,
    #[serde(default)]
    effective_weights: Vec<f64>,
}

/// The top dimension of each of the summary's indicators (`None`: not in the framework).
fn top_dimensions(fw: &Framework, indicators: &[String]) -> Vec<Option<usize>> {
    indicators
        .iter()
        .map(|id| {
            let ind = fw.indicators().iter().find(|i| &i.id == id)?;
            let mut d = ind.dimension;
            while let Some(parent) = fw.dimensions().get(d)?.parent {
                d = parent;
            }
            Some(d)
        })
        .collect()
}

/// The score of each top dimension (`None` where its weights add up to nothing or the
/// contributions were not kept), in the order of the framework's dimensions.
fn dimension_scores(
    tops: &[Option<usize>],
    weights: &[f64],
    contributions: &[f64],
    dimensions: usize,
) -> Vec<Option<f64>> {
    let mut sums = vec![(0.0, 0.0); dimensions];
    if contributions.len() != tops.len() {
        return vec![None; dimensions];
    }
    for ((top, w), c) in tops.iter().zip(weights).zip(contributions) {
        if let Some((cs, ws)) = top.and_then(|d| sums.get_mut(d)) {
            *cs += c;
            *ws += w;
        }
    }
    sums.into_iter()
        .map(|(c, w)| (w > 0.0).then(|| c / w))
        .collect()
}

/// The median of `values` (the mean of the middle two of an even count); `None` when empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// The profile of `person` among `results` (one revision's), given the framework and the
/// revision's summary: one entry per top dimension that has a score.
pub fn profile_of(
    fw: &Framework,
    summary: &str,
    results: &[ResultRow],
    person: &ResultRow,
) -> Vec<DimensionScore> {
    if fw.aggregation() != Aggregation::Arithmetic {
        return Vec::new();
    }
    let Ok(summary) = serde_json::from_str::<Summary>(summary) else {
        return Vec::new();
    };
    if summary.effective_weights.len() != summary.indicators.len() {
        return Vec::new();
    }
    let tops = top_dimensions(fw, &summary.indicators);
    let n = fw.dimensions().len();
    let scores =
        |r: &ResultRow| dimension_scores(&tops, &summary.effective_weights, &r.contributions, n);
    let own = scores(person);
    let unit: Vec<Vec<Option<f64>>> = results
        .iter()
        .filter(|r| r.unit == person.unit)
        .map(scores)
        .collect();
    fw.dimensions()
        .iter()
        .enumerate()
        .filter(|(_, d)| d.parent.is_none())
        .filter_map(|(d, dim)| {
            let own = own.get(d).copied().flatten()?;
            let mut of_unit: Vec<f64> = unit
                .iter()
                .filter_map(|s| s.get(d).copied().flatten())
                .collect();
            let unit_people = of_unit.len();
            Some(DimensionScore {
                name: dim.name.clone(),
                name_en: dim.name_en.clone(),
                own,
                unit_median: median(&mut of_unit)?,
                unit_people,
            })
        })
        .collect()
}

/// The profile of `person` in the current revision of `cycle` (see [`profile_of`]); empty
/// when the person has no result there.
pub async fn profile(
    store: &dyn Store,
    cycle: &Cycle,
    person: &kaohe_domain::Code,
) -> Result<Vec<DimensionScore>, CycleRunError> {
    if cycle.revision == 0 {
        return Ok(Vec::new());
    }
    let results = store.results(cycle.id, cycle.revision).await?;
    let Some(own) = results.iter().find(|r| &r.cadre == person) else {
        return Ok(Vec::new());
    };
    let revisions = store.revisions(cycle.id).await?;
    let Some(revision) = revisions.iter().find(|r| r.revision == cycle.revision) else {
        return Ok(Vec::new());
    };
    let (_, fw) = load_framework(store, &cycle.framework_id, &cycle.framework_version).await?;
    Ok(profile_of(&fw, &revision.summary, &results, own))
}

#[cfg(test)]
mod tests {
    use super::{dimension_scores, median};

    #[test]
    fn the_median_is_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&mut [7.0]), Some(7.0));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn a_dimension_scores_its_contributions_over_its_weights() {
        // Two dimensions: indicators 0 and 1 in the first, 2 in the second, 3 in none.
        let tops = [Some(0), Some(0), Some(1), None];
        let weights = [0.2, 0.3, 0.5, 0.0];
        // Normalized scores 80, 60, 90: contributions are weight × score.
        let contributions = [16.0, 18.0, 45.0, 0.0];
        let scores = dimension_scores(&tops, &weights, &contributions, 3);
        assert!((scores[0].expect("scored") - 68.0).abs() < 1e-9);
        assert!((scores[1].expect("scored") - 90.0).abs() < 1e-9);
        assert_eq!(scores[2], None, "no weight, no score");
        // Contributions not kept: no score at all.
        assert_eq!(dimension_scores(&tops, &weights, &[], 2), vec![None, None]);
    }
}
