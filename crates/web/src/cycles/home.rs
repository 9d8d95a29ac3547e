//! What the home page shows of assessment cycles (考核周期): an assessor's cycles at work with
//! their completeness (values gathered of those expected, people computed, people waiting for
//! the committee, people without a grade), and the grade distribution by unit
//! of the latest computed cycle; an official's and a unit leader's latest final results.

use super::pages_results::{OwnRow, own_results};
use super::pages_words as words;
use crate::org::data::units_in_scope;
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission};
use crate::shell::error::ApiError;
use crate::shell::page::{PageCtx, PageError};
use kaohe_domain::Code;
use kaohe_domain::cycles::CycleState;
use kaohe_store::cycles::work::{MissingColumn, completeness, for_committee};
use kaohe_store::cycles::{Cycle, ResultRow};
use std::collections::{BTreeMap, HashSet};

/// Most final results the home page lists; the rest are on `/my/results`.
const OWN_RESULTS: usize = 5;

/// A cycle not yet final, as an assessor's home page lists it.
#[derive(Debug)]
pub(crate) struct CycleLine {
    pub(crate) href: String,
    pub(crate) name: String,
    pub(crate) state: &'static str,
    pub(crate) period: String,
    pub(crate) people: i64,
    /// Values at hand of those the framework's columns expect of its people.
    pub(crate) values: Gathered,
    /// People with a computed result.
    pub(crate) assessed: usize,
    /// People the assessment committee has to look at ([`for_committee`]).
    pub(crate) for_committee: usize,
    /// The committee's page, once the cycle is before the committee.
    pub(crate) committee: Option<String>,
    /// People without a grade (不定等次) so far.
    pub(crate) ungraded: usize,
}

/// Values at hand of those expected (every person, every column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gathered {
    pub(crate) at_hand: usize,
    pub(crate) expected: usize,
}

impl Gathered {
    /// Values at hand of `people` × columns, given who misses each column.
    pub(crate) fn of(people: usize, columns: &[MissingColumn]) -> Self {
        Self {
            at_hand: columns
                .iter()
                .map(|c| people.saturating_sub(c.missing))
                .sum(),
            expected: people * columns.len(),
        }
    }

    /// The share at hand, in whole percent rounded down (100 only when nothing is missing).
    pub(crate) fn percent(&self) -> usize {
        (self.at_hand * 100).checked_div(self.expected).unwrap_or(0)
    }
}

/// The grades of one unit's people in a cycle.
#[derive(Debug)]
pub(crate) struct UnitGrades {
    pub(crate) unit: String,
    /// People per grade, best first, then those without a grade.
    pub(crate) counts: Vec<usize>,
    pub(crate) total: usize,
}

/// The grade distribution by unit of one cycle.
#[derive(Debug)]
pub(crate) struct Distribution {
    pub(crate) cycle: String,
    pub(crate) href: String,
    /// The grades, best first, then 不定等次.
    pub(crate) grades: Vec<String>,
    pub(crate) units: Vec<UnitGrades>,
}

/// An assessor's cycles on the home page.
#[derive(Debug)]
pub(crate) struct AssessorCycles {
    pub(crate) lines: Vec<CycleLine>,
    pub(crate) distribution: Option<Distribution>,
}

fn computed(state: CycleState) -> bool {
    matches!(
        state,
        CycleState::Computed | CycleState::Review | CycleState::Final
    )
}

/// The cycles of the caller's scope that are not final yet, and the grade distribution of the
/// latest cycle with results; `None` for those who do not work on cycles.
pub(crate) async fn assessor_cycles(
    state: &AppState,
    ctx: &PageCtx,
    caller: &Caller,
) -> Result<Option<AssessorCycles>, PageError> {
    if !caller.0.holds(Permission::ViewCycles) {
        return Ok(None);
    }
    let store = state.store.as_ref();
    let visible: HashSet<Code> = units_in_scope(store, caller, Permission::ViewCycles)
        .await
        .map_err(|e| ctx.fail(e))?
        .into_iter()
        .map(|u| u.code)
        .collect();
    let mut lines = Vec::new();
    // The latest cycle with results, and its results when they were read for its line.
    let mut latest: Option<(Cycle, Option<Vec<ResultRow>>)> = None;
    for c in store.cycles().await.map_err(|e| ctx.fail(e))? {
        let units = store.cycle_units(c.id).await.map_err(|e| ctx.fail(e))?;
        if !units.iter().all(|u| visible.contains(u)) {
            continue;
        }
        // A final cycle's results are read only if it is the latest: home pages are read
        // often, and past cycles hold most of the results.
        let results = if computed(c.state) && c.state != CycleState::Final {
            Some(
                store
                    .results(c.id, c.revision)
                    .await
                    .map_err(|e| ctx.fail(e))?,
            )
        } else {
            None
        };
        if c.state != CycleState::Final {
            let (people, columns) = completeness(store, c.id)
                .await
                .map_err(|e| ctx.fail(ApiError::from(e)))?;
            let results = results.as_deref().unwrap_or_default();
            lines.push(CycleLine {
                href: format!("/cycles/{}", c.id),
                name: c.name.clone(),
                state: ctx.label(c.state),
                period: format!("{} – {}", c.period.start, c.period.end),
                people: c.people,
                values: Gathered::of(people, &columns),
                assessed: results.len(),
                for_committee: results.iter().filter(|r| for_committee(r)).count(),
                committee: (c.state == CycleState::Review)
                    .then(|| format!("/cycles/{}/committee", c.id)),
                ungraded: results.iter().filter(|r| r.grade_level.is_none()).count(),
            });
        }
        let newer = latest
            .as_ref()
            .is_none_or(|(l, _)| (c.period.end, c.id) > (l.period.end, l.id));
        if computed(c.state) && newer {
            latest = Some((c, results));
        }
    }
    let latest = match latest {
        Some((c, Some(results))) => Some((c, results)),
        Some((c, None)) => {
            let results = store
                .results(c.id, c.revision)
                .await
                .map_err(|e| ctx.fail(e))?;
            Some((c, results))
        }
        None => None,
    }
    .filter(|(_, results)| !results.is_empty());
    let distribution = latest.map(|(c, results)| distribution(ctx, &c, &results));
    Ok(Some(AssessorCycles {
        lines,
        distribution,
    }))
}

/// The grade distribution by unit of a cycle's results.
pub(crate) fn distribution(ctx: &PageCtx, c: &Cycle, results: &[ResultRow]) -> Distribution {
    let levels = kaohe_domain::grade::GradeScale::LEVELS;
    let mut grades: Vec<String> = (0..levels)
        .map(|l| words::grade(ctx, c.kind, u8::try_from(l).ok()))
        .collect();
    grades.push(words::grade(ctx, c.kind, None));
    let mut by_unit: BTreeMap<&Code, (&str, Vec<usize>)> = BTreeMap::new();
    for r in results {
        let (_, counts) = by_unit
            .entry(&r.unit)
            .or_insert_with(|| (r.unit_name.as_str(), vec![0; levels + 1]));
        let slot = r.grade_level.map_or(levels, |l| usize::from(l).min(levels));
        counts[slot] += 1;
    }
    Distribution {
        cycle: c.name.clone(),
        href: format!("/cycles/{}/results", c.id),
        grades,
        units: by_unit
            .into_values()
            .map(|(unit, counts)| UnitGrades {
                unit: unit.to_owned(),
                total: counts.iter().sum(),
                counts,
            })
            .collect(),
    }
}

/// The caller's latest final results (an official's own, a unit leader's people's), at most
/// [`OWN_RESULTS`], and whether there are more.
pub(crate) async fn latest_own_results(
    state: &AppState,
    ctx: &PageCtx,
    caller: &Caller,
) -> Result<(Vec<OwnRow>, bool), PageError> {
    if !caller.0.holds(Permission::ViewOwnResults) {
        return Ok((Vec::new(), false));
    }
    let mut rows = own_results(state, ctx, caller, Some(OWN_RESULTS)).await?;
    let more = rows.len() > OWN_RESULTS;
    rows.truncate(OWN_RESULTS);
    Ok((rows, more))
}

#[cfg(test)]
mod tests {
    use super::Gathered;
    use kaohe_store::cycles::work::MissingColumn;

    fn column(missing: usize) -> MissingColumn {
        MissingColumn {
            column: "c".into(),
            name: "c".into(),
            missing,
            rule: "",
            people: Vec::new(),
        }
    }

    #[test]
    fn values_at_hand_count_every_person_of_every_column() {
        let g = Gathered::of(10, &[column(0), column(3), column(10)]);
        assert_eq!(
            g,
            Gathered {
                at_hand: 17,
                expected: 30
            }
        );
        assert_eq!(g.percent(), 56);
        // 299 of 300 is not 100%.
        let almost = Gathered::of(100, &[column(0), column(0), column(1)]);
        assert_eq!(almost.percent(), 99);
        assert_eq!(Gathered::of(100, &[column(0)]).percent(), 100);
        assert_eq!(Gathered::of(0, &[column(0)]).percent(), 0);
        assert_eq!(Gathered::of(5, &[]).percent(), 0);
    }
}
