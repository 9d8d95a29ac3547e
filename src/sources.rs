//! The sources of indicator values that cycles gather from (`kaohe_store::cycles::work::
//! ValueSource`), wired here where the application is assembled: cycles know the interface,
//! not the capabilities behind it.

use crate::settings::Settings;
use async_trait::async_trait;
use kaohe_domain::Code;
use kaohe_domain::cycles::ValueOrigin;
use kaohe_domain::polls::{BallotKey, PollKind, values as poll_values};
use kaohe_engine::Framework;
use kaohe_engine::ratings::{GroupFigures, of_tallies};
use kaohe_store::cycles::Cycle;
use kaohe_store::cycles::work::ValueSource;
use kaohe_store::records::work::{indicator_values, record_columns};
use kaohe_store::{Store, StoreError};
use kaohe_web::ratings::period_bounds;
use std::sync::Arc;

/// The satisfaction figures, in the order of [`figure_cells`]: each an indicator id a
/// framework can name.
pub(crate) const FIGURES: [&str; 10] = [
    "ratings",
    "excluded",
    "satisfaction",
    "satisfaction_shrunk",
    "satisfaction_low",
    "satisfaction_high",
    "bad_rate",
    "rectification_rate",
    "on_time_rate",
    "callback_rate",
];

/// The figures of one group, in the order of [`FIGURES`]: counts, then rates in percent to one
/// decimal, as the figures page shows them (`None` where a rate has no denominator).
pub(crate) fn figure_cells(g: &GroupFigures<String>) -> [Option<f64>; 10] {
    let pct = |r: Option<f64>| r.map(|r| (r * 1000.0).round() / 10.0);
    let f = &g.figures;
    [
        Some(g.tally.ratings as f64),
        Some(g.tally.excluded as f64),
        pct(f.satisfaction_rate),
        pct(Some(g.shrunk.value)),
        pct(Some(g.shrunk.low)),
        pct(Some(g.shrunk.high)),
        pct(f.bad_rate),
        pct(f.rectification_rate),
        pct(f.on_time_rate),
        pct(f.callback_rate),
    ]
}

/// Columns of the `civil_servant_annual` preset that ratings fill besides [`FIGURES`]: the
/// mean level (1–5) of an official's ratings and their number (the engine shrinks the mean).
const PRESET_COLUMNS: [&str; 2] = ["ji_public_rating", "ji_public_rating_n"];

/// Satisfaction figures (好差评) of each official over a cycle's period, from the stored
/// ratings: the same figures as `kaohe ratings figures --by official` (tested).
pub(crate) struct RatingSource {
    /// Prior strength of the shrunk satisfaction rate.
    prior_strength: f64,
    /// The deployment's local time, which decides the period's bounds.
    offset: time::UtcOffset,
}

#[async_trait]
impl ValueSource for RatingSource {
    fn origin(&self) -> ValueOrigin {
        ValueOrigin::Ratings
    }

    fn columns(&self, _framework: &Framework) -> Vec<String> {
        FIGURES
            .iter()
            .chain(PRESET_COLUMNS.iter())
            .map(|c| (*c).to_owned())
            .collect()
    }

    async fn gather(
        &self,
        store: &dyn Store,
        _framework: &Framework,
        people: &[Code],
        cycle: &Cycle,
    ) -> Result<Vec<(Code, Vec<Option<f64>>)>, StoreError> {
        let period = cycle.period;
        // Tallied by the database: a province's millions of ratings never leave it.
        let (start, end) = period_bounds(period.start, period.end, self.offset);
        let (all, tallies) = store.official_tallies(start, end).await?;
        let wanted: std::collections::HashSet<&Code> = people.iter().collect();
        let groups = of_tallies(
            &all,
            tallies
                .into_iter()
                .filter(|(cadre, _)| wanted.contains(cadre))
                .map(|(cadre, t)| (cadre.to_string(), t)),
            self.prior_strength,
        );
        Ok(groups
            .iter()
            .filter_map(|g| {
                let cadre = Code::parse(&g.key).ok()?;
                let mut row: Vec<Option<f64>> = figure_cells(g).to_vec();
                row.push(g.figures.mean_level);
                row.push(Some(g.tally.ratings as f64));
                Some((cadre, row))
            })
            .collect())
    }
}

/// The record-filled indicators (纪实) of a cycle's framework: each official's counted points
/// of the period on every indicator with a record rule, summed by the database and turned into
/// values by the framework's rule (`kaohe_store::records::work::indicator_values`).
pub(crate) struct RecordSource;

#[async_trait]
impl ValueSource for RecordSource {
    fn origin(&self) -> ValueOrigin {
        ValueOrigin::Records
    }

    fn columns(&self, framework: &Framework) -> Vec<String> {
        record_columns(framework)
    }

    async fn gather(
        &self,
        store: &dyn Store,
        framework: &Framework,
        people: &[Code],
        cycle: &Cycle,
    ) -> Result<Vec<(Code, Vec<Option<f64>>)>, StoreError> {
        let period = cycle.period;
        let sums = store
            .point_sums(framework.id(), period.start, period.end)
            .await?;
        Ok(indicator_values(framework, &sums, people))
    }
}

/// The evaluation polls (民主测评) held for a cycle, as indicator values
/// (`kaohe_domain::polls::values`): each item's score, 优秀率, 称职以上率 and the review flags of
/// every person evaluated. A poll of the cycle that is still open, or closed without a quorum,
/// stops the gathering with its reason; so does a person evaluated by two polls of the cycle.
pub(crate) struct PollSource {
    /// The ballot key, to seal a poll that closed on time.
    pub(crate) ballot_key: Arc<BallotKey>,
}

#[async_trait]
impl ValueSource for PollSource {
    fn origin(&self) -> ValueOrigin {
        ValueOrigin::Polls
    }

    fn columns(&self, _framework: &Framework) -> Vec<String> {
        poll_values::COLUMNS
            .iter()
            .map(|c| (*c).to_owned())
            .collect()
    }

    async fn gather(
        &self,
        store: &dyn Store,
        _framework: &Framework,
        people: &[Code],
        cycle: &Cycle,
    ) -> Result<Vec<(Code, Vec<Option<f64>>)>, StoreError> {
        let id = cycle.id.to_string();
        let now = time::OffsetDateTime::now_utc();
        let wanted: std::collections::HashSet<&Code> = people.iter().collect();
        let mut by_person: std::collections::BTreeMap<Code, (Code, Vec<Option<f64>>)> =
            std::collections::BTreeMap::new();
        for poll in store.polls().await? {
            if poll.cycle.as_deref() != Some(id.as_str()) || poll.kind != PollKind::Evaluation {
                continue;
            }
            let Some((poll, results)) =
                kaohe_store::polls::results(store, &poll.id, now, &self.ballot_key).await?
            else {
                continue;
            };
            let results = results.map_err(|why| {
                StoreError::Conflict(format!("poll {} of this cycle: {why}", poll.id))
            })?;
            for person in results.people {
                if !wanted.contains(&person.person) {
                    continue;
                }
                let row = poll_values::cells(&person).to_vec();
                if let Some((other, _)) =
                    by_person.insert(person.person.clone(), (poll.id.clone(), row))
                {
                    return Err(StoreError::Conflict(format!(
                        "{} is evaluated by two polls of this cycle, {other} and {}",
                        person.person, poll.id
                    )));
                }
            }
        }
        Ok(by_person
            .into_iter()
            .map(|(person, (_, row))| (person, row))
            .collect())
    }
}

/// The columns the sources gather for cycle `id` of `framework`: those of ratings and records
/// always, those of polls when an evaluation poll is held for the cycle (values files fill
/// them otherwise).
pub(crate) async fn gathered_columns(
    store: &dyn Store,
    settings: &Settings,
    framework: &Framework,
    id: i64,
) -> Result<Vec<String>, StoreError> {
    let cycle = id.to_string();
    let polled = store
        .polls()
        .await?
        .iter()
        .any(|p| p.cycle.as_deref() == Some(cycle.as_str()) && p.kind == PollKind::Evaluation);
    let mut columns: Vec<String> = unpolled(settings)
        .iter()
        .flat_map(|s| s.columns(framework))
        .collect();
    if polled {
        columns.extend(poll_values::COLUMNS.iter().map(|c| (*c).to_owned()));
    }
    Ok(columns)
}

/// The sources of ratings and records.
fn unpolled(settings: &Settings) -> Vec<Arc<dyn ValueSource>> {
    vec![
        Arc::new(RatingSource {
            prior_strength: settings.ratings.prior_strength,
            offset: settings.server.utc_offset.0,
        }),
        Arc::new(RecordSource),
    ]
}

/// Every source a cycle gathers from; polls are sealed with `ballot_key` when they closed on
/// time.
pub(crate) fn all(settings: &Settings, ballot_key: Arc<BallotKey>) -> Vec<Arc<dyn ValueSource>> {
    let mut sources = unpolled(settings);
    sources.push(Arc::new(PollSource { ballot_key }));
    sources
}
