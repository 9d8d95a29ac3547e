//! Satisfaction figures of ratings (满意度): tallied by unit, official, window or service item
//! and shrunk toward all groups together, with the ratings flagged as suspicious; computed
//! once here for the API, the figures page and `kaohe ratings figures`.

use crate::org::data::units_in_scope;
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission};
use crate::shell::error::ApiError;
use kaohe_domain::ratings::escalation::is_overdue;
use kaohe_domain::ratings::rectification::Status;
use kaohe_domain::ratings::suspicion::{self, SuspicionPolicy};
use kaohe_domain::{Code, Labeled, YearMonth};
use kaohe_engine::ratings::{GroupFigures, RatingObs, RectificationObs, Tally, by_group};
use kaohe_store::RatingFacts;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
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

/// What the figures count of one rating and its rectification.
fn obs(f: &RatingFacts) -> RatingObs {
    RatingObs {
        level: f.rating.rating.level,
        excluded: f.rating.excluded,
        rectification: f.rectification.map(|(s, deadline)| RectificationObs {
            closed_on_time: s.closed_on.map(|d| d <= deadline),
            called_back: s.called_back,
        }),
    }
}

/// The figures of the ratings received in one month (local time).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MonthFigures {
    pub(crate) month: YearMonth,
    /// The counts, as the figures page tallies them; a month without ratings tallies nothing,
    /// and its rates are `None`.
    pub(crate) tally: Tally,
    /// Bad reviews of the month whose rectification is overdue (逾期) on `today`.
    pub(crate) overdue: u64,
}

/// The figures of `facts` month by month, for each of `months` (oldest first), by the local
/// day of their receipt at `offset`; ratings of other months are left out. A bad review counts
/// as overdue by the one rule of overdue rectifications (`is_overdue`).
pub(crate) fn by_month(
    facts: &[RatingFacts],
    months: &[YearMonth],
    offset: time::UtcOffset,
    today: Date,
) -> Vec<MonthFigures> {
    let month_of = |f: &RatingFacts| YearMonth::of(f.rating.rated_at.to_offset(offset).date());
    let (_, groups) = by_group(
        facts.iter().map(|f| (f, obs(f))),
        |f: &&RatingFacts| vec![month_of(f)],
        0.0,
    );
    let mut overdue: BTreeMap<YearMonth, u64> = BTreeMap::new();
    for f in facts {
        if let Some((state, deadline)) = f.rectification
            && is_overdue(
                deadline,
                state.status != Status::Closed,
                f.rating.excluded,
                today,
            )
        {
            *overdue.entry(month_of(f)).or_default() += 1;
        }
    }
    let tallies: BTreeMap<YearMonth, Tally> =
        groups.into_iter().map(|g| (g.key, g.tally)).collect();
    months
        .iter()
        .map(|m| MonthFigures {
            month: *m,
            tally: tallies.get(m).copied().unwrap_or_default(),
            overdue: overdue.get(m).copied().unwrap_or_default(),
        })
        .collect()
}

/// Where the value axis of a chart of rates starts (percent): at 0 unless every value (or
/// interval's lower end) lies well above it, then at a multiple of 5 at least 2 points below
/// the lowest, so that rates close to each other (96% and 98%) are told apart.
pub(crate) fn axis_start(lows: impl Iterator<Item = f64>) -> f64 {
    let lowest = lows.fold(f64::INFINITY, f64::min);
    if !lowest.is_finite() {
        return 0.0;
    }
    (((lowest - 2.0) / 5.0).floor() * 5.0).clamp(0.0, 95.0)
}

/// Tallies ratings by group and shrinks each group's satisfaction toward all of them together:
/// the one grouping of the figures pages, the API and `kaohe ratings figures`.
pub fn figures_of(
    facts: &[RatingFacts],
    by: GroupBy,
    prior_strength: f64,
) -> (Tally, Vec<GroupFigures<String>>) {
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

    #[test]
    fn the_axis_starts_below_close_rates_and_at_zero_for_spread_ones() {
        // 96% and 98% with their intervals: the axis starts at 90, not at 0.
        assert_eq!(axis_start([94.1, 96.5].into_iter()), 90.0);
        assert_eq!(axis_start([92.0].into_iter()), 90.0);
        assert_eq!(axis_start([91.9].into_iter()), 85.0);
        assert_eq!(axis_start([40.0, 97.0].into_iter()), 35.0);
        assert_eq!(axis_start([1.5, 97.0].into_iter()), 0.0);
        assert_eq!(axis_start([100.0].into_iter()), 95.0);
        assert_eq!(axis_start(std::iter::empty()), 0.0);
    }

    fn fact(id: i64, level: u8, rated_at: time::OffsetDateTime, excluded: bool) -> RatingFacts {
        use kaohe_domain::ratings::{Channel, NewRating, Rating, RatingLevel};
        let level = RatingLevel::from_value(level).expect("a level");
        RatingFacts {
            rating: Rating {
                id,
                rating: NewRating {
                    case_id: Code::parse(&format!("BJ-{id}")).expect("a code"),
                    level,
                    tags: Vec::new(),
                    comment: None,
                    channel: Channel::Window,
                    real_name: false,
                    contact: None,
                },
                rated_at,
                excluded,
            },
            unit: Code::parse("340102").expect("a code"),
            window: None,
            item: "不动产登记".into(),
            officials: Vec::new(),
            phone: None,
            rectification: level.is_bad().then(|| {
                (
                    kaohe_store::RectificationState {
                        status: Status::Open,
                        closed_on: None,
                        called_back: false,
                    },
                    rated_at.date() + time::Duration::days(7),
                )
            }),
        }
    }

    #[test]
    fn months_bucket_by_local_day_and_stay_empty_without_ratings() {
        use time::macros::{datetime, offset};
        let cst = offset!(+8);
        let months = YearMonth {
            year: 2026,
            month: 3,
        }
        .last(3);
        let facts = [
            // 31 January, 20:00 UTC is 1 February in China.
            fact(1, 5, datetime!(2026-01-31 20:00 UTC), false),
            fact(2, 1, datetime!(2026-02-10 02:00 UTC), false),
            fact(3, 4, datetime!(2026-02-11 02:00 UTC), false),
            fact(4, 2, datetime!(2026-02-12 02:00 UTC), true),
            // Before the months asked for: left out.
            fact(5, 1, datetime!(2025-12-01 02:00 UTC), false),
        ];
        let got = by_month(&facts, &months, cst, date!(2026 - 03 - 10));
        assert_eq!(
            got.iter().map(|m| m.month.to_string()).collect::<Vec<_>>(),
            ["2026-01", "2026-02", "2026-03"]
        );
        assert_eq!(got[0].tally.ratings, 0);
        assert_eq!(
            got[0].tally.figures().satisfaction_rate,
            None,
            "empty, not 0%"
        );
        assert_eq!(got[1].tally.ratings, 3);
        assert_eq!(got[1].tally.excluded, 1);
        assert_eq!(got[1].tally.bad, 1);
        let rate = got[1].tally.figures().satisfaction_rate.expect("a rate");
        assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{rate}");
        // The bad review of 10 February is past its deadline; the excluded one is not counted.
        assert_eq!(got[1].overdue, 1);
        assert_eq!(
            got[2],
            MonthFigures {
                month: months[2],
                tally: Tally::default(),
                overdue: 0
            }
        );
        // Before its deadline, nothing is overdue.
        let early = by_month(&facts, &months, cst, date!(2026 - 02 - 17));
        assert_eq!(early[1].overdue, 0);
    }
}
