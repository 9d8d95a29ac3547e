//! What the home page shows of ratings (好差评) to an official and a unit leader: the figures
//! of their own unit month by month over the last twelve months (本单位好差评（近十二个月）),
//! counted as the figures page counts them ([`super::figures::by_month`]), as a chart and its
//! table (`templates/ratings/_trend.html`).

use super::figures::{axis_start, by_month, period_bounds};
use super::pages::figures::{in_percent, percent};
use crate::shell::AppState;
use crate::shell::access::Caller;
use crate::shell::error::ApiError;
use crate::shell::page::{PageCtx, PageError};
use kaohe_domain::{Code, Principal, Role, YearMonth};
use kaohe_engine::ratings::Tally;

/// Months the home page shows.
const MONTHS: usize = 12;

/// One month of a unit's ratings.
#[derive(Debug)]
pub(crate) struct TrendRow {
    /// The month in words, e.g. 2026年3月.
    pub(crate) month: String,
    pub(crate) ratings: u64,
    /// The satisfaction rate (满意率) in words, `—` for a month without ratings.
    pub(crate) satisfaction: String,
    /// The satisfaction rate in percent for the chart, empty for a month without ratings.
    pub(crate) rate: String,
    /// Bad reviews (差评).
    pub(crate) bad: u64,
    /// Bad reviews of the month whose rectification is overdue today (逾期).
    pub(crate) overdue: u64,
}

/// The ratings of the caller's unit over the last twelve months, oldest month first.
#[derive(Debug)]
pub(crate) struct UnitTrend {
    /// The chart's title, with the unit's name.
    pub(crate) title: String,
    pub(crate) rows: Vec<TrendRow>,
    /// Ratings over the twelve months.
    pub(crate) ratings: u64,
    /// The twelve months together in words: the unit, the ratings and the satisfaction rate.
    pub(crate) summary: String,
    /// Where the chart's rate axis starts, in percent, and the words that say so when it is
    /// not 0.
    pub(crate) axis_min: String,
    pub(crate) axis_note: String,
}

/// The caller's own unit: an official's the unit of their cadre record, a unit leader's the
/// unit they lead; `None` for everyone else.
async fn own_unit(state: &AppState, caller: &Caller) -> Result<Option<Code>, ApiError> {
    let Principal::User(user) = &caller.0 else {
        return Ok(None);
    };
    if let Some(cadre) = caller.own_cadre()
        && let Some(cadre) = state.store.get_cadre(cadre).await?
    {
        return Ok(Some(cadre.unit));
    }
    if user.roles.contains(&Role::UnitLeader) {
        return Ok(user.units.first().cloned());
    }
    Ok(None)
}

/// The ratings of the caller's own unit month by month over the last twelve months; `None`
/// for a caller without a unit of their own (see [`own_unit`]).
pub(crate) async fn unit_trend(
    state: &AppState,
    ctx: &PageCtx,
    caller: &Caller,
) -> Result<Option<UnitTrend>, PageError> {
    let Some(unit) = own_unit(state, caller).await.map_err(|e| ctx.fail(e))? else {
        return Ok(None);
    };
    let store = state.store.as_ref();
    let name = store
        .get_unit(&unit)
        .await
        .map_err(|e| ctx.fail(e))?
        .map_or_else(|| unit.to_string(), |u| u.name);
    let today = state.today();
    let months = YearMonth::of(today).last(MONTHS);
    let from = months.first().and_then(|m| m.first_day()).unwrap_or(today);
    let (start, end) = period_bounds(from, today, state.utc_offset);
    let facts = store
        .unit_rating_facts(&unit, start, end)
        .await
        .map_err(|e| ctx.fail(e))?;
    let figures = by_month(&facts, &months, state.utc_offset, today);
    let rates: Vec<Option<f64>> = figures
        .iter()
        .map(|m| m.tally.figures().satisfaction_rate.map(in_percent))
        .collect();
    let axis = axis_start(rates.iter().flatten().copied());
    let mut all = Tally::default();
    for m in &figures {
        all += &m.tally;
    }
    let rows = figures
        .iter()
        .zip(&rates)
        .map(|(m, rate)| TrendRow {
            month: ctx.tf(
                "trend.month",
                &[("year", &m.month.year), ("month", &m.month.month)],
            ),
            ratings: m.tally.ratings,
            satisfaction: percent(m.tally.figures().satisfaction_rate),
            rate: rate.map(|r| r.to_string()).unwrap_or_default(),
            bad: m.tally.bad,
            overdue: m.overdue,
        })
        .collect();
    Ok(Some(UnitTrend {
        rows,
        ratings: all.ratings,
        summary: if all.ratings == 0 {
            ctx.tf("trend.none", &[("unit", &name)])
        } else {
            ctx.tf(
                "trend.summary",
                &[
                    ("unit", &name),
                    ("n", &all.ratings),
                    ("rate", &percent(all.figures().satisfaction_rate)),
                ],
            )
        },
        axis_min: format!("{axis}"),
        title: ctx.tf("trend.chart", &[("unit", &name)]),
        axis_note: if axis > 0.0 {
            ctx.tf("charts.axis_from", &[("min", &format!("{axis}%"))])
        } else {
            String::new()
        },
    }))
}
