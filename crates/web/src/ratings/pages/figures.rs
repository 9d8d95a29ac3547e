//! The figures page (`/service/figures`): satisfaction and the other rates per unit, official,
//! window or item, ranked by the shrunk satisfaction with its interval (the table, and a chart
//! of it whose axis starts where the data do), exported as XLSX or CSV, and the ratings flagged
//! for review.

use crate::ratings::figures::{GroupBy, axis_start, figures, figures_params};
use crate::shell::AppState;
use crate::shell::access::Caller;
use crate::shell::download::{suffix_of, table_file};
use crate::shell::i18n::Lang;
use crate::shell::page::{PageCtx, PageResult, render};
use crate::shell::params::{QueryParams, href};
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use kaohe_data::WideCell;
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
    /// The shrunk rate and its interval, in percent, for the chart and the export.
    value: f64,
    low: f64,
    high: f64,
    /// The rates of the export, in percent.
    rates: [Option<f64>; 5],
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
    /// Where the chart's value axis starts, in percent, and the words that say so when it is
    /// not 0.
    axis_min: String,
    axis_note: String,
    export_xlsx: String,
    export_csv: String,
    flagged: Vec<(String, String)>,
    json: String,
}

/// A rate in percent with one decimal, `—` when there is nothing to count.
pub(crate) fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

/// A rate in percent, rounded to the one decimal the page shows.
pub(crate) fn in_percent(r: f64) -> f64 {
    (r * 1000.0).round() / 10.0
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
    for g in groups {
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
            value: in_percent(g.shrunk.value),
            low: in_percent(g.shrunk.low),
            high: in_percent(g.shrunk.high),
            rates: [
                g.figures.satisfaction_rate,
                g.figures.bad_rate,
                g.figures.rectification_rate,
                g.figures.on_time_rate,
                g.figures.callback_rate,
            ]
            .map(|r| r.map(in_percent)),
        });
    }
    let by_code = by.code();
    let by_label = ctx.t(&format!("figures.by.{by_code}"));
    if let Some(format) = q.raw("format") {
        let suffix = suffix_of(&ctx, format)?;
        return export(&ctx, by_label, &rows, (from, to), suffix).await;
    }
    let axis = axis_start(rows.iter().map(|r| r.low));
    let export_href = |format: &str| {
        let mut pairs = vec![
            ("by", by_code.to_owned()),
            ("from", from.to_string()),
            ("to", to.to_string()),
            ("format", format.to_owned()),
        ];
        if ctx.lang() == Lang::En {
            pairs.push(("lang", "en".to_owned()));
        }
        href("/service/figures", &pairs)
    };
    Ok(render(
        StatusCode::OK,
        &FiguresPage {
            by_label,
            axis_min: format!("{axis}"),
            axis_note: if axis > 0.0 {
                ctx.tf("charts.axis_from", &[("min", &format!("{axis}%"))])
            } else {
                String::new()
            },
            export_xlsx: export_href("xlsx"),
            export_csv: export_href("csv"),
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

/// The figures table as an XLSX or CSV file, rates in percent rounded as the page shows them.
async fn export(
    ctx: &PageCtx,
    by_label: &str,
    rows: &[FigureRow],
    (from, to): (time::Date, time::Date),
    suffix: &'static str,
) -> PageResult {
    let percent_of = |key: &str| ctx.tf("charts.percent", &[("name", &ctx.t(key))]);
    let header = vec![
        by_label.to_owned(),
        ctx.t("figures.ratings").to_owned(),
        ctx.t("figures.excluded").to_owned(),
        percent_of("figures.satisfaction"),
        percent_of("figures.shrunk"),
        percent_of("charts.low"),
        percent_of("charts.high"),
        percent_of("figures.bad"),
        percent_of("figures.rectified"),
        percent_of("figures.on_time"),
        percent_of("figures.callback"),
    ];
    let rate = |r: Option<f64>| r.map_or(WideCell::Empty, WideCell::Number);
    let table = rows
        .iter()
        .map(|r| {
            let [satisfaction, bad, rectified, on_time, callback] = r.rates;
            vec![
                WideCell::Text(r.key.clone()),
                WideCell::Number(r.ratings as f64),
                WideCell::Number(r.excluded as f64),
                rate(satisfaction),
                WideCell::Number(r.value),
                WideCell::Number(r.low),
                WideCell::Number(r.high),
                rate(bad),
                rate(rectified),
                rate(on_time),
                rate(callback),
            ]
        })
        .collect();
    let name = format!("{}-{from}-{to}", ctx.t("figures.title"));
    table_file(ctx, "figures", name, suffix, header, table).await
}

#[cfg(test)]
mod tests {
    use super::in_percent;

    #[test]
    fn rates_are_exported_in_percent_as_the_page_rounds_them() {
        assert_eq!(in_percent(0.96349), 96.3);
        assert_eq!(in_percent(0.9), 90.0);
        assert_eq!(in_percent(1.0), 100.0);
    }
}
