//! The figures page (`/service/figures`): satisfaction and the other rates per unit, official,
//! window or item, ranked by the shrunk satisfaction with its interval drawn as an SVG chart,
//! and the ratings flagged for review.

use crate::ratings::figures::{GroupBy, figures, figures_params};
use crate::shell::AppState;
use crate::shell::access::Caller;
use crate::shell::page::{PageCtx, PageResult, render};
use crate::shell::params::{QueryParams, href};
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use kaohe_domain::Code;
use kaohe_domain::ratings::suspicion::SuspicionKind;

#[derive(Debug)]
struct FigureRow {
    key: String,
    ratings: u64,
    excluded: u64,
    satisfaction: String,
    bad: String,
    rectified: String,
    on_time: String,
    callback: String,
    shrunk: String,
    /// Bar geometry of the shrunk rate and its interval, in SVG units (0–300).
    bar: u32,
    low: u32,
    high: u32,
    y: u32,
}

#[derive(Template)]
#[template(path = "ratings/figures.html")]
struct FiguresPage {
    ctx: PageCtx,
    by_label: &'static str,
    groupings: Vec<(&'static str, &'static str, bool)>,
    from: String,
    to: String,
    summary: String,
    rows: Vec<FigureRow>,
    chart_height: u32,
    flagged: Vec<(String, String)>,
    json: String,
}

fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

pub(crate) async fn figures_page(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
) -> PageResult {
    let q = QueryParams::from_uri(&uri);
    let (by, from, to) =
        figures_params(&state, q.raw("by"), q.raw("from"), q.raw("to")).map_err(|e| ctx.fail(e))?;
    let f = figures(&state, &caller, by, from, to)
        .await
        .map_err(|e| ctx.fail(e))?;
    let mut groups = f.groups;
    groups.sort_by(|a, b| {
        b.shrunk
            .value
            .total_cmp(&a.shrunk.value)
            .then(a.key.cmp(&b.key))
    });
    let store = state.store.as_ref();
    let mut rows = Vec::with_capacity(groups.len());
    for (i, g) in groups.into_iter().enumerate() {
        let key = match by {
            GroupBy::Unit => match Code::parse(&g.key) {
                Ok(c) => store
                    .get_unit(&c)
                    .await
                    .map_err(|e| ctx.fail(e))?
                    .map_or(g.key.clone(), |u| u.name),
                Err(_) => g.key.clone(),
            },
            GroupBy::Official => match Code::parse(&g.key) {
                Ok(c) => store
                    .get_cadre(&c)
                    .await
                    .map_err(|e| ctx.fail(e))?
                    .map_or(g.key.clone(), |c| format!("{}（{}）", c.name, g.key)),
                Err(_) => g.key.clone(),
            },
            GroupBy::Window | GroupBy::Item => g.key.clone(),
        };
        let scale = |v: f64| (v.clamp(0.0, 1.0) * 300.0).round() as u32;
        rows.push(FigureRow {
            key,
            ratings: g.tally.ratings,
            excluded: g.tally.excluded,
            satisfaction: percent(g.figures.satisfaction_rate),
            bad: percent(g.figures.bad_rate),
            rectified: percent(g.figures.rectification_rate),
            on_time: percent(g.figures.on_time_rate),
            callback: percent(g.figures.callback_rate),
            shrunk: percent(Some(g.shrunk.value)),
            bar: scale(g.shrunk.value),
            low: scale(g.shrunk.low),
            high: scale(g.shrunk.high),
            y: u32::try_from(i).unwrap_or(0) * 22,
        });
    }
    let by_code = by.code();
    Ok(render(
        StatusCode::OK,
        &FiguresPage {
            by_label: ctx.t(&format!("figures.by.{by_code}")),
            groupings: GroupBy::ALL
                .iter()
                .map(|g| {
                    (
                        g.code(),
                        ctx.t(&format!("figures.by.{}", g.code())),
                        *g == by,
                    )
                })
                .collect(),
            from: from.to_string(),
            to: to.to_string(),
            summary: ctx.tf(
                "figures.summary",
                &[
                    ("n", &f.all.ratings),
                    ("rate", &percent(f.all.figures().satisfaction_rate)),
                ],
            ),
            chart_height: u32::try_from(rows.len()).unwrap_or(0) * 22 + 4,
            rows,
            flagged: f
                .flagged
                .into_iter()
                .map(|(_, case, kinds)| {
                    let kinds = kinds
                        .iter()
                        .filter_map(|k| k.parse::<SuspicionKind>().ok())
                        .map(|k| ctx.label(k))
                        .collect::<Vec<_>>()
                        .join("、");
                    (case.to_string(), kinds)
                })
                .collect(),
            json: href(
                "/api/v1/service/figures",
                &[
                    ("by", by_code.into()),
                    ("from", from.to_string()),
                    ("to", to.to_string()),
                ],
            ),
            ctx,
        },
    ))
}
