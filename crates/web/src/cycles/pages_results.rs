//! Results of a cycle: the results table with filters, paging and export; a revision with
//! the people an amendment changed; and the results an official or a unit leader may see of
//! final cycles (`/my/results`).

use super::home::{Distribution, distribution};
use super::pages_cycle::{framework_of, load_cycle};
use super::pages_words::{self as words, Names};
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission, Principal};
use crate::shell::download::table_file;
use crate::shell::error::ApiError;
use crate::shell::i18n::Lang;
use crate::shell::page::{PageCtx, PageError, PageResult, Pager, render};
use crate::shell::params::{Paging, QueryParams};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use kaohe_data::WideCell;
use kaohe_domain::cycles::CycleState;
use kaohe_domain::{Code, Labeled, Role};
use kaohe_engine::Framework;
use kaohe_store::Page;
use kaohe_store::cycles::{Cycle, ResultRow, RevisionKind};
use std::collections::{BTreeMap, HashMap};

/// One person's result, every text in the page's language.
#[derive(Debug)]
pub(crate) struct ResultView {
    pub(crate) cadre: String,
    pub(crate) name: String,
    pub(crate) unit: String,
    pub(crate) score: String,
    pub(crate) rank: u32,
    pub(crate) rank_in_unit: u32,
    pub(crate) interval: String,
    /// The ends of the rank's interval for a chart (empty without draws).
    pub(crate) low: String,
    pub(crate) high: String,
    pub(crate) grade: String,
    pub(crate) rule: String,
    pub(crate) flags: Vec<String>,
}

impl ResultView {
    pub(super) fn new(ctx: &PageCtx, cycle: &Cycle, names: &Names<'_>, r: &ResultRow) -> Self {
        Self {
            cadre: r.cadre.to_string(),
            name: r.name.clone(),
            unit: r.unit_name.clone(),
            score: format!("{:.2}", r.score),
            rank: r.rank,
            rank_in_unit: r.rank_in_unit,
            interval: words::interval(r.p05, r.p95),
            low: r.p05.map(|v| v.to_string()).unwrap_or_default(),
            high: r.p95.map(|v| v.to_string()).unwrap_or_default(),
            grade: words::grade(ctx, cycle.kind, r.grade_level),
            rule: words::rule(ctx, cycle.kind, names, &r.rule),
            flags: r.flags.iter().map(|f| words::flag(ctx, names, f)).collect(),
        }
    }
}

#[derive(Debug)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "cycles/results.html")]
struct ResultsPage {
    ctx: PageCtx,
    id: i64,
    name: String,
    state: &'static str,
    revision: i64,
    units: Vec<Choice>,
    grades: Vec<Choice>,
    q: String,
    rows: Vec<ResultView>,
    pager: Pager,
    export_xlsx: String,
    export_csv: String,
    /// The query of each person's timeline of work records over the period, on the indicators
    /// of the framework that records fill; `None` when none does.
    records_query: Option<String>,
    /// The ranking chart's axis: the ranks of the people shown with their intervals, with the
    /// words that say which of everyone's; and the quota line of the top grade ([`quota_line`])
    /// when it falls on the axis.
    axis: (u32, u32),
    axis_note: String,
    quota: Option<QuotaMark>,
    /// The grade distribution by unit of every result.
    distribution: Option<Distribution>,
}

/// The quota line of the top grade as the ranking chart marks it: between rank `k` and the
/// next.
#[derive(Debug)]
struct QuotaMark {
    at: String,
    label: String,
}

/// The ranks the ranking chart's axis spans: from the best to the worst rank of `shown`,
/// intervals included, one rank beyond each end (within 1 and `assessed`); everyone's when no
/// one is shown.
fn rank_axis(shown: &[&ResultRow], assessed: usize) -> (u32, u32) {
    let last = u32::try_from(assessed).unwrap_or(u32::MAX).max(1);
    let low = shown
        .iter()
        .map(|r| r.p05.unwrap_or(r.rank).min(r.rank))
        .min();
    let high = shown
        .iter()
        .map(|r| r.p95.unwrap_or(r.rank).max(r.rank))
        .max();
    match (low, high) {
        (Some(low), Some(high)) => (
            low.saturating_sub(1).max(1),
            high.saturating_add(1).min(last),
        ),
        _ => (1, last),
    }
}

/// Where the ranking chart's axis of overall ranks takes the quota line of the top grade.
#[derive(Debug, Clone, Copy, PartialEq)]
struct QuotaAt {
    /// The point of the axis: between the last rank within the quota and the next.
    at: f64,
    /// The quota: how many may have the top grade.
    k: u32,
    /// Whether it is the quota of the unit the page is filtered to, not everyone's.
    of_unit: bool,
}

/// The quota line of the top grade in a revision's summary, on the axis of overall ranks:
/// with one line for everyone (scope `*`), between ranks `k` and `k + 1`; with quotas by unit
/// and the page filtered to `unit`, between the overall ranks of the unit's `k`-th and
/// `k + 1`-th person, where the unit's quota falls. `None` without such a line, and when the
/// quota takes in everyone it counts.
fn quota_line(summary: &str, unit: &str, all: &[ResultRow]) -> Option<QuotaAt> {
    #[derive(serde::Deserialize)]
    struct Line {
        scope: String,
        k: u32,
    }
    #[derive(serde::Deserialize)]
    struct Lines {
        #[serde(default)]
        quota_lines: Vec<Line>,
    }
    let lines = serde_json::from_str::<Lines>(summary).ok()?.quota_lines;
    if let [line] = lines.as_slice()
        && line.scope == "*"
    {
        let within = usize::try_from(line.k).ok()? < all.len();
        return (line.k > 0 && within).then(|| QuotaAt {
            at: f64::from(line.k) + 0.5,
            k: line.k,
            of_unit: false,
        });
    }
    let line = lines.iter().find(|l| !unit.is_empty() && l.scope == unit)?;
    let mut ranks: Vec<u32> = all
        .iter()
        .filter(|r| r.unit.as_str() == unit)
        .map(|r| r.rank)
        .collect();
    ranks.sort_unstable();
    let k = usize::try_from(line.k).ok()?;
    let (last_in, first_out) = (ranks.get(k.checked_sub(1)?)?, ranks.get(k)?);
    Some(QuotaAt {
        at: (f64::from(*last_in) + f64::from(*first_out)) / 2.0,
        k: line.k,
        of_unit: true,
    })
}

/// `GET /cycles/{id}/results?unit=&grade=&q=&page=&format=xlsx|csv`: the current results,
/// filtered; `format` exports every filtered row (Chinese headers and labels, English with
/// `lang=en`).
pub(super) async fn results(
    ctx: PageCtx,
    caller: Caller,
    uri: Uri,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let cycle = load_cycle(&state, &ctx, &caller, &id, Permission::ViewCycles).await?;
    let fw = framework_of(&state, &ctx, &cycle).await?;
    let names = Names::new(&ctx, &fw);
    let query = QueryParams::from_uri(&uri);
    let all = if cycle.revision > 0 {
        state
            .store
            .results(cycle.id, cycle.revision)
            .await
            .map_err(|e| ctx.fail(e))?
    } else {
        Vec::new()
    };
    let unit = query.raw("unit").unwrap_or_default().trim().to_owned();
    let grade = query.raw("grade").unwrap_or_default().trim().to_owned();
    let q = query.raw("q").unwrap_or_default().trim().to_owned();
    let mut units: BTreeMap<String, String> = BTreeMap::new();
    for r in &all {
        units.insert(r.unit.to_string(), r.unit_name.clone());
    }
    let wanted_grade = |r: &ResultRow| match grade.as_str() {
        "" => true,
        "none" => r.grade_level.is_none(),
        g => g.parse::<u8>().ok() == r.grade_level,
    };
    let rows: Vec<&ResultRow> = all
        .iter()
        .filter(|r| unit.is_empty() || r.unit.as_str() == unit)
        .filter(|r| wanted_grade(r))
        .filter(|r| q.is_empty() || r.name.contains(&q) || r.cadre.as_str().contains(&q))
        .collect();
    match query.raw("format") {
        Some(format @ ("xlsx" | "csv")) => {
            return export(&ctx, &cycle, &names, &rows, format).await;
        }
        Some(other) => {
            return Err(ctx.fail(ApiError::invalid_param(
                "format",
                format!("{other:?}: expected xlsx or csv"),
            )));
        }
        None => {}
    }
    let paging: Paging = ctx.parse(&query)?;
    let total = rows.len();
    let start = usize::try_from(paging.page.saturating_sub(1))
        .unwrap_or(usize::MAX)
        .saturating_mul(usize::try_from(paging.per_page).unwrap_or(usize::MAX));
    let shown: Vec<&ResultRow> = rows
        .iter()
        .skip(start)
        .take(usize::try_from(paging.per_page).unwrap_or(usize::MAX))
        .copied()
        .collect();
    let axis = rank_axis(&shown, all.len());
    let page = Page {
        items: shown
            .iter()
            .map(|r| ResultView::new(&ctx, &cycle, &names, r))
            .collect::<Vec<_>>(),
        total: u64::try_from(total).unwrap_or(u64::MAX),
        page: paging.page,
        per_page: paging.per_page,
    };
    let path = format!("/cycles/{}/results", cycle.id);
    let kept = [
        ("unit", unit.clone()),
        ("grade", grade.clone()),
        ("q", q.clone()),
    ];
    let pager = Pager::new(&ctx, &page, &path, &kept);
    let export_href = |format: &str| {
        let mut pairs = kept.to_vec();
        pairs.push(("format", format.to_owned()));
        if ctx.lang() == Lang::En {
            pairs.push(("lang", "en".to_owned()));
        }
        crate::shell::params::href(&path, &pairs)
    };
    let records_query = fw
        .indicators()
        .iter()
        .any(|i| i.records.is_some())
        .then(|| {
            format!(
                "framework={}&from={}&to={}",
                crate::shell::params::encode_component(fw.id()),
                cycle.period.start,
                cycle.period.end
            )
        });
    let quota = if cycle.revision > 0 {
        state
            .store
            .revisions(cycle.id)
            .await
            .map_err(|e| ctx.fail(e))?
            .iter()
            .find(|r| r.revision == cycle.revision)
            .and_then(|r| quota_line(&r.summary, &unit, &all))
            .filter(|q| f64::from(axis.0) < q.at && q.at < f64::from(axis.1))
            .map(|q| {
                let grade = words::grade(&ctx, cycle.kind, Some(0));
                let unit_name = units.get(&unit).map_or("", String::as_str);
                QuotaMark {
                    at: q.at.to_string(),
                    label: if q.of_unit {
                        ctx.tf(
                            "charts.quota_line_unit",
                            &[("k", &q.k), ("grade", &grade), ("unit", &unit_name)],
                        )
                    } else {
                        ctx.tf("charts.quota_line", &[("k", &q.k), ("grade", &grade)])
                    },
                }
            })
    } else {
        None
    };
    let distribution = (!all.is_empty()).then(|| distribution(&ctx, &cycle, &all));
    let page_view = ResultsPage {
        axis_note: ctx.tf(
            "charts.rank_axis",
            &[("from", &axis.0), ("to", &axis.1), ("n", &all.len())],
        ),
        axis,
        quota,
        distribution,
        records_query,
        id: cycle.id,
        name: cycle.name.clone(),
        state: ctx.label(cycle.state),
        revision: cycle.revision,
        units: units
            .into_iter()
            .map(|(code, name)| Choice {
                selected: code == unit,
                value: code,
                label: name,
            })
            .collect(),
        grades: (0..4u8)
            .map(|l| (l.to_string(), Some(l)))
            .chain(std::iter::once(("none".to_owned(), None)))
            .map(|(value, level)| Choice {
                selected: value == grade,
                label: words::grade(&ctx, cycle.kind, level),
                value,
            })
            .collect(),
        rows: page.items,
        pager,
        export_xlsx: export_href("xlsx"),
        export_csv: export_href("csv"),
        q,
        ctx,
    };
    Ok(render(StatusCode::OK, &page_view))
}

/// The filtered results as an XLSX or CSV file, headers and labels in the page's language.
async fn export(
    ctx: &PageCtx,
    cycle: &Cycle,
    names: &Names<'_>,
    rows: &[&ResultRow],
    format: &str,
) -> PageResult {
    let header: Vec<String> = [
        "export.person_id",
        "export.name",
        "export.unit_id",
        "export.unit_name",
        "export.score",
        "export.rank",
        "export.rank_in_unit",
        "export.p05",
        "export.p95",
        "export.grade",
        "export.rule",
        "export.flags",
    ]
    .iter()
    .map(|k| ctx.t(k).to_owned())
    .collect();
    let number = |x: Option<u32>| x.map_or(WideCell::Empty, |v| WideCell::Number(f64::from(v)));
    let table = rows
        .iter()
        .map(|r| {
            vec![
                WideCell::Text(r.cadre.to_string()),
                WideCell::Text(r.name.clone()),
                WideCell::Text(r.unit.to_string()),
                WideCell::Text(r.unit_name.clone()),
                WideCell::Number(r.score),
                WideCell::Number(f64::from(r.rank)),
                WideCell::Number(f64::from(r.rank_in_unit)),
                number(r.p05),
                number(r.p95),
                WideCell::Text(words::grade(ctx, cycle.kind, r.grade_level)),
                WideCell::Text(words::rule(ctx, cycle.kind, names, &r.rule)),
                WideCell::Text(
                    r.flags
                        .iter()
                        .map(|f| words::flag(ctx, names, f))
                        .collect::<Vec<_>>()
                        .join(ctx.t("punct.list")),
                ),
            ]
        })
        .collect();
    let suffix = if format == "csv" { ".csv" } else { ".xlsx" };
    let name = format!("{}-{}", cycle.name, ctx.t("cycle.results"));
    table_file(ctx, "cycle", name, suffix, header, table).await
}

#[derive(Debug)]
struct ChangedRow {
    name: String,
    unit: String,
    score: (String, String),
    rank: (u32, u32),
    grade: (String, String),
    rule: (String, String),
}

#[derive(Template)]
#[template(path = "cycles/revision.html")]
struct RevisionPage {
    ctx: PageCtx,
    id: i64,
    name: String,
    title: String,
    kind: &'static str,
    reason: String,
    at: String,
    by: String,
    corrects: Option<i64>,
    changed: Vec<ChangedRow>,
}

/// `GET /cycles/{id}/revisions/{revision}`: a revision; for an amendment, the people whose
/// score, rank, grade or rule it changed, before and after.
pub(super) async fn revision(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path((id, number)): Path<(String, String)>,
) -> PageResult {
    let cycle = load_cycle(&state, &ctx, &caller, &id, Permission::ViewCycles).await?;
    let store = state.store.as_ref();
    let not_found = || ctx.fail(ApiError::not_found("revision", number.as_str()));
    let n: i64 = number.parse().map_err(|_| not_found())?;
    let revisions = store.revisions(cycle.id).await.map_err(|e| ctx.fail(e))?;
    let rev = revisions
        .iter()
        .find(|r| r.revision == n)
        .ok_or_else(not_found)?;
    let fw = framework_of(&state, &ctx, &cycle).await?;
    let names = Names::new(&ctx, &fw);
    let corrects = (rev.kind == RevisionKind::Amendment).then_some(n - 1);
    let mut changed = Vec::new();
    if let Some(before_n) = corrects {
        let before: HashMap<Code, ResultRow> = store
            .results(cycle.id, before_n)
            .await
            .map_err(|e| ctx.fail(e))?
            .into_iter()
            .map(|r| (r.cadre.clone(), r))
            .collect();
        for a in store.results(cycle.id, n).await.map_err(|e| ctx.fail(e))? {
            let Some(b) = before.get(&a.cadre) else {
                continue;
            };
            if b.score.to_bits() == a.score.to_bits()
                && b.rank == a.rank
                && b.grade_level == a.grade_level
                && b.rule == a.rule
            {
                continue;
            }
            changed.push(ChangedRow {
                name: format!("{} ({})", a.name, a.cadre),
                unit: a.unit_name.clone(),
                score: (format!("{:.2}", b.score), format!("{:.2}", a.score)),
                rank: (b.rank, a.rank),
                grade: (
                    words::grade(&ctx, cycle.kind, b.grade_level),
                    words::grade(&ctx, cycle.kind, a.grade_level),
                ),
                rule: (
                    words::rule(&ctx, cycle.kind, &names, &b.rule),
                    words::rule(&ctx, cycle.kind, &names, &a.rule),
                ),
            });
        }
    }
    let page = RevisionPage {
        id: cycle.id,
        title: ctx.tf("revision.title", &[("n", &n)]),
        kind: ctx.label(rev.kind),
        reason: rev.reason.clone().unwrap_or_default(),
        at: words::local_time(state.utc_offset, rev.created_at),
        by: rev.created_by.clone(),
        corrects,
        changed,
        name: cycle.name,
        ctx,
    };
    Ok(render(StatusCode::OK, &page))
}

/// A result of the caller's own, or of one of a unit leader's people.
#[derive(Debug)]
pub(crate) struct OwnRow {
    pub(crate) cycle: String,
    pub(crate) kind: &'static str,
    /// The kind's code (`routine`, `annual`, `special`).
    pub(crate) kind_code: &'static str,
    pub(crate) period: String,
    pub(crate) result: ResultView,
}

#[derive(Template)]
#[template(path = "cycles/my_results.html")]
struct MyResultsPage {
    ctx: PageCtx,
    rows: Vec<OwnRow>,
    /// One person's score and rank across the cycles of each kind with two or more of them
    /// (drawn as lines of score and rank): ranks of cycles of different kinds are not ranks
    /// among the same people, so each kind has its own.
    trends: Vec<Trend>,
    /// The official's dimension scores in their latest final cycle against their unit's median.
    profile: Option<ProfileView>,
    /// Whether the caller may open their records timeline (`/my/records`).
    records: bool,
}

/// One person's results in the cycles of one kind (平时考核, 年度考核, 专项考核), latest first.
#[derive(Debug)]
struct Trend {
    /// The table's id: `my-trend-KIND`.
    id: String,
    kind: &'static str,
    /// Indexes into the page's rows.
    rows: Vec<usize>,
}

/// The trends of `rows` (one person's, latest first): the rows of each kind in their order,
/// for each kind with two or more; none when the rows are more than one person's.
fn trends(rows: &[OwnRow]) -> Vec<Trend> {
    if rows.iter().any(|r| r.result.cadre != rows[0].result.cadre) {
        return Vec::new();
    }
    let mut out: Vec<Trend> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        match out.iter_mut().find(|t| t.kind == r.kind) {
            Some(t) => t.rows.push(i),
            None => out.push(Trend {
                id: format!("my-trend-{}", r.kind_code),
                kind: r.kind,
                rows: vec![i],
            }),
        }
    }
    out.retain(|t| t.rows.len() >= 2);
    out
}

/// An official's dimension scores in one cycle, in words and numbers.
#[derive(Debug)]
struct ProfileView {
    cycle: String,
    dimensions: Vec<DimensionView>,
    /// Where the radar's axes start, and the words that say so when not at 0.
    axis_min: u32,
    axis_note: String,
}

/// Where the radar's axes start: at 0 unless every score lies well above it, then at a
/// multiple of 10 at least 10 below the lowest, so that close scores are told apart.
fn radar_start(scores: impl Iterator<Item = f64>) -> u32 {
    let lowest = scores.fold(f64::INFINITY, f64::min);
    if !lowest.is_finite() {
        return 0;
    }
    let start = (((lowest - 10.0) / 10.0).floor() * 10.0).clamp(0.0, 80.0);
    // Clamped to 0–80 above: the cast cannot lose anything.
    start as u32
}

#[derive(Debug)]
struct DimensionView {
    name: String,
    own: String,
    median: String,
    people: usize,
}

/// `GET /my/results`: the results of final cycles an official may see (their own) and a unit
/// leader (those of their unit), never a cycle that is not final; an official's dimension
/// scores in the latest of them against the median of their unit, and their score and rank
/// across cycles.
pub(super) async fn my_results(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
) -> PageResult {
    let rows = own_results(&state, &ctx, &caller, None).await?;
    let trends = trends(&rows);
    let profile = own_profile(&state, &ctx, &caller).await?;
    let records = caller.0.holds(Permission::ViewOwnRecords);
    Ok(render(
        StatusCode::OK,
        &MyResultsPage {
            ctx,
            rows,
            trends,
            profile,
            records,
        },
    ))
}

/// An official's dimension scores in their latest final cycle against their unit's median;
/// `None` for others, or when the framework has no such split.
async fn own_profile(
    state: &AppState,
    ctx: &PageCtx,
    caller: &Caller,
) -> Result<Option<ProfileView>, PageError> {
    let Some(cadre) = caller.own_cadre() else {
        return Ok(None);
    };
    let store = state.store.as_ref();
    let finals = store
        .final_results_of(cadre)
        .await
        .map_err(|e| ctx.fail(e))?;
    let Some((cycle, _)) = finals.first() else {
        return Ok(None);
    };
    let dimensions = kaohe_store::cycles::profile::profile(store, cycle, cadre)
        .await
        .map_err(|e| ctx.fail(ApiError::from(e)))?;
    if dimensions.is_empty() {
        return Ok(None);
    }
    let en = ctx.lang() == Lang::En;
    let axis_min = radar_start(dimensions.iter().flat_map(|d| [d.own, d.unit_median]));
    Ok(Some(ProfileView {
        axis_min,
        axis_note: if axis_min > 0 {
            ctx.tf("charts.axis_from", &[("min", &axis_min)])
        } else {
            String::new()
        },
        cycle: cycle.name.clone(),
        dimensions: dimensions
            .into_iter()
            .map(|d| DimensionView {
                name: match d.name_en {
                    Some(name) if en => name,
                    _ => d.name,
                },
                own: format!("{:.1}", d.own),
                median: format!("{:.1}", d.unit_median),
                people: d.unit_people,
            })
            .collect(),
    }))
}

/// The results of final cycles the caller may read as their own: an official's, and a unit
/// leader's people's; the latest period first. With `most`, at most `most + 1` rows (enough to
/// tell whether there are more), reading a unit leader's cycles from the latest back only as
/// far as needed.
pub(crate) async fn own_results(
    state: &AppState,
    ctx: &PageCtx,
    caller: &Caller,
    most: Option<usize>,
) -> Result<Vec<OwnRow>, PageError> {
    let store = state.store.as_ref();
    let Principal::User(user) = &caller.0 else {
        return Err(ctx.fail(ApiError::Unauthorized));
    };
    let mut found: Vec<(Cycle, ResultRow)> = Vec::new();
    if user.roles.contains(&Role::UnitLeader) && !user.units.is_empty() {
        let mut finals: Vec<Cycle> = store
            .cycles()
            .await
            .map_err(|e| ctx.fail(e))?
            .into_iter()
            .filter(|c| c.state == CycleState::Final)
            .collect();
        finals.sort_by_key(|c| std::cmp::Reverse(c.period.end));
        for c in finals {
            // Enough rows, and this cycle ends before those read: it cannot come first.
            let enough = most.is_some_and(|n| found.len() > n);
            if enough
                && found
                    .last()
                    .is_some_and(|(l, _)| c.period.end < l.period.end)
            {
                break;
            }
            for r in store
                .results(c.id, c.revision)
                .await
                .map_err(|e| ctx.fail(e))?
            {
                if user.units.contains(&r.unit) {
                    found.push((c.clone(), r));
                }
            }
        }
    }
    if let Some(cadre) = caller.own_cadre() {
        for (c, r) in store
            .final_results_of(cadre)
            .await
            .map_err(|e| ctx.fail(e))?
        {
            if !found
                .iter()
                .any(|(fc, fr)| fc.id == c.id && fr.cadre == r.cadre)
            {
                found.push((c, r));
            }
        }
    }
    found.sort_by(|a, b| {
        b.0.period
            .end
            .cmp(&a.0.period.end)
            .then(a.1.rank.cmp(&b.1.rank))
    });
    if let Some(n) = most {
        found.truncate(n + 1);
    }
    let mut frameworks: HashMap<(String, String), Framework> = HashMap::new();
    let mut rows = Vec::new();
    for (c, r) in found {
        let key = (c.framework_id.clone(), c.framework_version.clone());
        if !frameworks.contains_key(&key) {
            let fw = framework_of(state, ctx, &c).await?;
            frameworks.insert(key.clone(), fw);
        }
        let Some(fw) = frameworks.get(&key) else {
            continue;
        };
        let names = Names::new(ctx, fw);
        rows.push(OwnRow {
            result: ResultView::new(ctx, &c, &names, &r),
            cycle: c.name.clone(),
            kind: ctx.label(c.kind),
            kind_code: c.kind.code(),
            period: format!("{} – {}", c.period.start, c.period.end),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::{OwnRow, QuotaAt, ResultView, quota_line, radar_start, rank_axis, trends};
    use kaohe_domain::Code;
    use kaohe_store::cycles::ResultRow;

    fn ranked(rank: u32, interval: Option<(u32, u32)>) -> ResultRow {
        let (Ok(cadre), Ok(unit)) = (Code::parse("C1"), Code::parse("U1")) else {
            panic!("codes");
        };
        ResultRow {
            cadre,
            name: "甲".into(),
            unit,
            unit_name: "单位".into(),
            score: 80.0,
            rank,
            rank_in_unit: 1,
            grade_level: Some(1),
            rule: "threshold".into(),
            flags: Vec::new(),
            median_rank: None,
            p05: interval.map(|i| i.0),
            p95: interval.map(|i| i.1),
            p_top: None,
            contributions: Vec::new(),
        }
    }

    fn own(cadre: &str, kind: &'static str, cycle: &str) -> OwnRow {
        OwnRow {
            cycle: cycle.into(),
            kind,
            kind_code: kind,
            period: String::new(),
            result: ResultView {
                cadre: cadre.into(),
                name: "甲".into(),
                unit: "单位".into(),
                score: "80.00".into(),
                rank: 3,
                rank_in_unit: 1,
                interval: String::new(),
                low: String::new(),
                high: String::new(),
                grade: String::new(),
                rule: String::new(),
                flags: Vec::new(),
            },
        }
    }

    #[test]
    fn each_kind_of_cycle_has_its_own_trend_of_two_or_more() {
        let rows = [
            own("C1", "routine", "2026Q3"),
            own("C1", "annual", "2025"),
            own("C1", "routine", "2026Q2"),
            own("C1", "special", "2025 special"),
            own("C1", "routine", "2026Q1"),
            own("C1", "annual", "2024"),
        ];
        let found: Vec<(String, Vec<usize>)> =
            trends(&rows).into_iter().map(|t| (t.id, t.rows)).collect();
        assert_eq!(
            found,
            vec![
                ("my-trend-routine".to_owned(), vec![0, 2, 4]),
                ("my-trend-annual".to_owned(), vec![1, 5]),
            ]
        );
        // A unit leader's list holds several people: no line.
        let mixed = [own("C1", "routine", "Q1"), own("C2", "routine", "Q1")];
        assert!(trends(&mixed).is_empty());
        assert!(trends(&[]).is_empty());
    }

    #[test]
    fn the_radar_starts_below_close_scores_and_at_zero_for_low_ones() {
        assert_eq!(radar_start([83.5, 97.5, 90.0].into_iter()), 70);
        assert_eq!(radar_start([90.0].into_iter()), 80);
        assert_eq!(radar_start([100.0].into_iter()), 80);
        assert_eq!(radar_start([12.0, 95.0].into_iter()), 0);
        assert_eq!(radar_start(std::iter::empty()), 0);
    }

    #[test]
    fn the_rank_axis_spans_the_people_shown_with_their_intervals() {
        let a = ranked(21, Some((18, 27)));
        let b = ranked(40, Some((33, 52)));
        assert_eq!(rank_axis(&[&a, &b], 776), (17, 53));
        let first = ranked(1, Some((1, 1)));
        assert_eq!(rank_axis(&[&first, &a], 776), (1, 28));
        let last = ranked(776, None);
        assert_eq!(rank_axis(&[&last], 776), (775, 776));
        assert_eq!(rank_axis(&[], 776), (1, 776));
        assert_eq!(rank_axis(&[], 0), (1, 1));
    }

    fn in_unit(unit: &str, rank: u32) -> ResultRow {
        let mut r = ranked(rank, None);
        r.unit = Code::parse(unit).expect("code");
        r
    }

    #[test]
    fn the_quota_line_falls_after_the_kth_rank_of_everyone_or_of_the_unit_shown() {
        let all: Vec<ResultRow> = [1, 2, 5, 9, 12]
            .into_iter()
            .map(|r| in_unit("U1", r))
            .chain(
                [3, 4, 6, 7, 8, 10, 11]
                    .into_iter()
                    .map(|r| in_unit("U2", r)),
            )
            .collect();
        let one = r#"{"quota_lines":[{"scope":"*","assessed":12,"k":3,"awarded":3}]}"#;
        let everyone = Some(QuotaAt {
            at: 3.5,
            k: 3,
            of_unit: false,
        });
        assert_eq!(quota_line(one, "", &all), everyone);
        assert_eq!(quota_line(one, "U1", &all), everyone);
        let by_unit = r#"{"quota_lines":[{"scope":"U1","k":3},{"scope":"U2","k":2}]}"#;
        assert_eq!(quota_line(by_unit, "", &all), None);
        // U1's third is 5th overall, its fourth 9th: the line falls at 7.
        assert_eq!(
            quota_line(by_unit, "U1", &all),
            Some(QuotaAt {
                at: 7.0,
                k: 3,
                of_unit: true
            })
        );
        assert_eq!(quota_line(by_unit, "U2", &all).map(|q| q.at), Some(5.0));
        assert_eq!(quota_line(by_unit, "U3", &all), None);
        // A quota that takes in the whole unit, or everyone, draws no line.
        let wide = r#"{"quota_lines":[{"scope":"U1","k":5}]}"#;
        assert_eq!(quota_line(wide, "U1", &all), None);
        let all_in = r#"{"quota_lines":[{"scope":"*","k":12}]}"#;
        assert_eq!(quota_line(all_in, "", &all), None);
        let none = r#"{"quota_lines":[{"scope":"U1","k":0}]}"#;
        assert_eq!(quota_line(none, "U1", &all), None);
        assert_eq!(quota_line("{}", "U1", &all), None);
        assert_eq!(quota_line("not json", "", &all), None);
    }
}
