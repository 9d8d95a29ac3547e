//! Satisfaction figures of ratings (满意度): tallied by unit, official, window or service item
//! and shrunk toward all groups together, with the ratings flagged as suspicious; computed
//! once here for the API, the figures page and `kaohe ratings figures`.

use crate::org::data::units_in_scope;
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission};
use crate::shell::error::ApiError;
use kaohe_domain::ratings::suspicion::{self, SuspicionPolicy};
use kaohe_domain::{Code, Labeled};
use kaohe_engine::ratings::{GroupFigures, RatingObs, RectificationObs, Tally, by_group};
use kaohe_store::RatingFacts;
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};
use time::Date;
use utoipa::ToSchema;

/// How figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Responsible unit.
    Unit,
    /// Handling official.
    Official,
    /// Service window.
    Window,
    /// Service item.
    Item,
}

impl GroupBy {
    /// Every grouping.
    pub const ALL: [GroupBy; 4] = [
        GroupBy::Unit,
        GroupBy::Official,
        GroupBy::Window,
        GroupBy::Item,
    ];

    /// The grouping's code: `unit`, `official`, `window`, `item`.
    pub fn code(self) -> &'static str {
        match self {
            GroupBy::Unit => "unit",
            GroupBy::Official => "official",
            GroupBy::Window => "window",
            GroupBy::Item => "item",
        }
    }

    /// The grouping of a code.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.code() == s)
    }
}

/// Figures of the ratings of a period, grouped, for the units in the caller's scope.
pub(crate) struct FiguresResult {
    /// All ratings in scope together.
    pub(crate) all: Tally,
    /// Per group, ordered by key.
    pub(crate) groups: Vec<GroupFigures<String>>,
    /// Ratings flagged as suspicious, by id, with the kinds.
    pub(crate) flagged: Vec<(i64, Code, Vec<&'static str>)>,
}

/// First day of the default period of the figures: the last 12 months up to `today`.
pub fn default_period_start(today: Date) -> Date {
    let year_ago = today
        .replace_year(today.year() - 1)
        .or_else(|_| (today - time::Duration::days(1)).replace_year(today.year() - 1))
        .unwrap_or(today);
    year_ago.next_day().unwrap_or(year_ago)
}

/// The unix seconds `[start, end)` of the local days `from` to `to`.
pub fn period_bounds(from: Date, to: Date, offset: time::UtcOffset) -> (i64, i64) {
    let start = from.midnight().assume_offset(offset).unix_timestamp();
    let end = to
        .next_day()
        .unwrap_or(to)
        .midnight()
        .assume_offset(offset)
        .unix_timestamp();
    (start, end)
}

/// Tallies ratings by group and shrinks each group's satisfaction toward all of them together:
/// the one grouping of the figures pages, the API and `kaohe ratings figures`.
pub fn figures_of(
    facts: &[RatingFacts],
    by: GroupBy,
    prior_strength: f64,
) -> (Tally, Vec<GroupFigures<String>>) {
    let obs = |f: &RatingFacts| RatingObs {
        level: f.rating.rating.level,
        excluded: f.rating.excluded,
        rectification: f.rectification.map(|(s, deadline)| RectificationObs {
            closed_on_time: s.closed_on.map(|d| d <= deadline),
            called_back: s.called_back,
        }),
    };
    by_group(
        facts.iter().map(|f| (f, obs(f))),
        |f: &&RatingFacts| match by {
            GroupBy::Unit => vec![f.unit.to_string()],
            GroupBy::Official => f.officials.iter().map(Code::to_string).collect(),
            GroupBy::Window => f.window.iter().map(Code::to_string).collect(),
            GroupBy::Item => vec![f.item.clone()],
        },
        prior_strength,
    )
}

/// Computes the figures of ratings received in `[from, to]` (local days).
pub(crate) async fn figures(
    state: &AppState,
    caller: &Caller,
    by: GroupBy,
    from: Date,
    to: Date,
) -> Result<FiguresResult, ApiError> {
    let scope: BTreeSet<Code> =
        units_in_scope(state.store.as_ref(), caller, Permission::ViewServiceFigures)
            .await?
            .into_iter()
            .map(|u| u.code)
            .collect();
    let (start, end) = period_bounds(from, to, state.utc_offset);
    let facts: Vec<RatingFacts> = state
        .store
        .rating_facts(start, end)
        .await?
        .into_iter()
        .filter(|f| scope.contains(&f.unit))
        .collect();
    let (all, groups) = figures_of(&facts, by, state.ratings.prior_strength);
    let contacts: Vec<Option<String>> = facts
        .iter()
        .map(|f| {
            f.rating
                .rating
                .contact
                .as_ref()
                .or(f.phone.as_ref())
                .map(|p| p.reveal().to_owned())
        })
        .collect();
    let suspicion_facts: Vec<suspicion::RatingFact<'_>> = facts
        .iter()
        .zip(&contacts)
        .map(|(f, c)| suspicion::RatingFact {
            id: f.rating.id,
            rated_at: f.rating.rated_at,
            officials: &f.officials,
            case_id: &f.rating.rating.case_id,
            contact: c.as_deref(),
        })
        .collect();
    let policy = SuspicionPolicy {
        utc_offset: state.utc_offset,
        ..state.ratings.suspicion
    };
    let cases: HashMap<i64, &Code> = facts
        .iter()
        .map(|f| (f.rating.id, &f.rating.rating.case_id))
        .collect();
    let flagged = suspicion::flag(&suspicion_facts, &policy)
        .into_iter()
        .filter_map(|(id, kinds)| {
            cases.get(&id).map(|case| {
                (
                    id,
                    (*case).clone(),
                    kinds.into_iter().map(|k| k.code()).collect(),
                )
            })
        })
        .collect();
    Ok(FiguresResult {
        all,
        groups,
        flagged,
    })
}

/// The period and grouping of a figures query, with defaults.
pub(crate) fn figures_params(
    state: &AppState,
    by: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(GroupBy, Date, Date), ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let today = state.today();
    let day = |name: &str, v: Option<&str>, default: Date| match v.filter(|v| !v.is_empty()) {
        Some(v) => Date::parse(v, &format)
            .map_err(|e| ApiError::invalid_param(name, format!("{v:?}: {e}; expected YYYY-MM-DD"))),
        None => Ok(default),
    };
    let from = day("from", from, default_period_start(today))?;
    let to = day("to", to, today)?;
    if to < from {
        return Err(ApiError::invalid_param("to", "before `from`"));
    }
    let by = match by.filter(|b| !b.is_empty()) {
        Some(b) => GroupBy::parse(b).ok_or_else(|| {
            ApiError::invalid_param(
                "by",
                format!("{b:?}: expected unit, official, window or item"),
            )
        })?,
        None => GroupBy::Unit,
    };
    Ok((by, from, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_default_period_is_the_last_twelve_months() {
        assert_eq!(
            default_period_start(date!(2026 - 11 - 25)),
            date!(2025 - 11 - 26)
        );
        assert_eq!(
            default_period_start(date!(2028 - 02 - 29)),
            date!(2027 - 03 - 01)
        );
        assert_eq!(
            default_period_start(date!(2026 - 12 - 31)),
            date!(2026 - 01 - 01)
        );
    }
}
