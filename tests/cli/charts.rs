//! The report charts in a real browser on the demo: each chart drawn by ECharts above the
//! table it is drawn from, with its role, text alternative and title, as many marks as the
//! table has rows, and its table view; each page photographed and checked by axe-core.

use crate::browser::{DEMO_PASSWORD, browser_missing, capture};
use crate::util::Server;
use crate::webdriver::Browser;
use kaohe_domain::cycles::{CycleKind, CycleState};
use kaohe_store::testing::TestDatabase;
use serde_json::Value;

/// What the page shows of the chart drawn from table `#TABLE`: its box (`#TABLE-chart`) and the
/// ECharts options it was drawn with, with the table's rows.
async fn chart_of(browser: &Browser, table: &str) -> Value {
    let script = format!(
        "const table = document.getElementById('{table}');
         const box = document.getElementById('{table}-chart');
         if (!table || !box) return null;
         const chart = echarts.getInstanceByDom(box);
         const o = chart.getOption();
         return {{
           role: box.getAttribute('role'),
           label: box.getAttribute('aria-label'),
           svg: box.querySelectorAll('svg').length,
           paths: box.querySelectorAll('svg path').length,
           title: o.title[0].text,
           subtitle: o.title[0].subtext,
           rows: table.tBodies[0].rows.length,
           after: !!(box.compareDocumentPosition(table) & Node.DOCUMENT_POSITION_FOLLOWING),
           series: o.series.map(s => ({{
             type: s.type,
             data: s.data.length,
             line: s.markLine ? s.markLine.data.map(d => d.xAxis) : [],
           }})),
           xmin: o.xAxis && o.xAxis.length ? o.xAxis[0].min : null,
           ymin: o.yAxis && o.yAxis.length ? o.yAxis[0].min : null,
           yaxes: o.yAxis ? o.yAxis.length : 0,
           radar: o.radar && o.radar.length ? o.radar[0].indicator.length : 0,
         }};"
    );
    let mut facts = Value::Null;
    for _ in 0..50 {
        facts = browser.eval(&script).await;
        if !facts.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!facts.is_null(), "no chart drawn from #{table}");
    assert_eq!(facts["role"], "img", "#{table}: {facts}");
    assert!(
        facts["label"]
            .as_str()
            .is_some_and(|l| l.chars().count() > 10),
        "#{table} has a text alternative: {facts}"
    );
    assert!(
        facts["title"].as_str().is_some_and(|t| !t.is_empty()),
        "#{table} has a title: {facts}"
    );
    assert_eq!(facts["svg"], 1, "#{table} is drawn as SVG: {facts}");
    assert_eq!(
        facts["after"], true,
        "the table view follows the chart: {facts}"
    );
    facts
}

fn count(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("a count: {v}"))
}

/// The series of `facts` of type `kind`.
fn series<'a>(facts: &'a Value, kind: &str) -> Vec<&'a Value> {
    facts["series"]
        .as_array()
        .expect("series")
        .iter()
        .filter(|s| s["type"] == kind)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_report_chart_is_drawn_from_its_table_with_a_title_and_a_text_alternative() {
    if browser_missing() {
        return;
    }
    let db = TestDatabase::sqlite().await.unwrap();
    let server = Server::start(&db.url, &["--demo"]);
    let cycles = db.store.cycles().await.unwrap();
    let annual = cycles
        .iter()
        .find(|c| c.kind == CycleKind::Annual && c.state == CycleState::Final)
        .expect("last year's annual assessment, final");
    let browser = Browser::start("zh-CN").await;
    let page = browser
        .sign_in(&server.base, "demo_assessor", DEMO_PASSWORD, None)
        .await;
    assert!(page.contains("action=\"/logout\""), "signed in: {page}");

    // The assessor's home page: every cycle at work with its values at hand of those
    // expected; this year's annual assessment has its values imported.
    browser.goto(&format!("{}/", server.base)).await;
    let lines = browser
        .eval(
            "return [...document.querySelectorAll('#home-cycles-table tbody tr')]\
             .map(r => [r.cells[0].innerText, r.cells[3].innerText])",
        )
        .await;
    let lines = lines.as_array().expect("the cycles at work");
    assert!(!lines.is_empty(), "cycles at work on the home page");
    for line in lines {
        let text = line[1].as_str().unwrap();
        let (at_hand, rest) = text.split_once(" / ").expect("values at hand / expected");
        let expected: u64 = rest.split_whitespace().next().unwrap().parse().unwrap();
        let at_hand: u64 = at_hand.trim().parse().unwrap();
        assert!(at_hand <= expected && expected > 0, "{line}");
    }
    let this_year = lines
        .iter()
        .find(|l| l[0].as_str().unwrap().ends_with("年度考核"))
        .expect("this year's annual assessment at work");
    let at_hand: u64 = this_year[1]
        .as_str()
        .unwrap()
        .split(" / ")
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(at_hand > 0, "imported values at hand: {this_year}");
    let grades = chart_of(&browser, "home-grades-table").await;
    assert_eq!(
        series(&grades, "bar").len(),
        5,
        "four grades and none: {grades}"
    );
    capture(&browser, "chart-home-assessor.png").await;

    // A cycle's results: each person's rank with its interval, and the grades by unit.
    browser
        .goto(&format!("{}/cycles/{}/results", server.base, annual.id))
        .await;
    let ranks = chart_of(&browser, "results").await;
    let rows = count(&ranks["rows"]);
    let points = series(&ranks, "scatter");
    assert_eq!(points.len(), 1, "{ranks}");
    assert_eq!(count(&points[0]["data"]), rows, "a dot a person: {ranks}");
    let bars = series(&ranks, "custom");
    assert_eq!(
        count(&bars[0]["data"]),
        rows,
        "an interval a person: {ranks}"
    );
    assert!(count(&ranks["paths"]) >= rows, "marks drawn: {ranks}");
    assert_eq!(ranks["xmin"], 1, "ranks from 1: {ranks}");
    let by_unit = chart_of(&browser, "results-grades-table").await;
    assert_eq!(series(&by_unit, "bar").len(), 5, "{by_unit}");
    capture(&browser, "chart-results.png").await;

    // Filtered to one unit, the ranking marks the unit's quota of 优秀 (the demo's frameworks
    // count quotas by unit) between the overall ranks of the unit's last within it and first
    // beyond it.
    let results = db.store.results(annual.id, annual.revision).await.unwrap();
    let mut by_unit: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
    for r in &results {
        by_unit.entry(r.unit.as_str()).or_default().push(r.rank);
    }
    let (unit, mut ranks_in_unit) = by_unit
        .into_iter()
        .max_by_key(|(code, ranks)| (ranks.len(), std::cmp::Reverse(*code)))
        .map(|(code, ranks)| (code.to_owned(), ranks))
        .expect("a unit");
    ranks_in_unit.sort_unstable();
    browser
        .goto(&format!(
            "{}/cycles/{}/results?unit={unit}&per_page=100",
            server.base, annual.id
        ))
        .await;
    let of_unit = chart_of(&browser, "results").await;
    let lines = series(&of_unit, "scatter")[0]["line"].clone();
    let at = lines[0]
        .as_f64()
        .unwrap_or_else(|| panic!("the unit's quota line: {of_unit}"));
    let within = ranks_in_unit.iter().filter(|r| f64::from(**r) < at).count();
    assert!(
        within > 0 && within < ranks_in_unit.len(),
        "the line at {at} parts the unit's ranks {ranks_in_unit:?}"
    );
    let label = browser
        .eval("return document.getElementById('results').dataset.chartLineLabel")
        .await;
    assert!(
        label
            .as_str()
            .is_some_and(|l| l.contains("名额线") && l.contains(&format!("本单位前 {within} 名"))),
        "the line names the unit's quota: {label}"
    );
    capture(&browser, "chart-results-unit.png").await;

    // The satisfaction figures: dots with their intervals, on an axis chosen from the data.
    browser
        .goto(&format!("{}/service/figures", server.base))
        .await;
    let figures = chart_of(&browser, "figures").await;
    let rows = count(&figures["rows"]);
    assert!(rows > 1, "{figures}");
    assert_eq!(
        count(&series(&figures, "scatter")[0]["data"]),
        rows,
        "{figures}"
    );
    assert_eq!(
        count(&series(&figures, "custom")[0]["data"]),
        rows,
        "{figures}"
    );
    let min = figures["xmin"].as_f64().expect("the axis' start");
    let lowest = browser
        .eval(
            "return Math.min(...[...document.querySelectorAll('#figures [data-low]')]\
             .map(c => Number(c.getAttribute('data-low'))))",
        )
        .await
        .as_f64()
        .unwrap();
    assert!(
        min <= lowest,
        "every interval on the axis: {min} > {lowest}"
    );
    if min > 0.0 {
        assert!(
            figures["subtitle"].as_str().unwrap().contains("不从 0 起"),
            "the axis says it does not start at 0: {figures}"
        );
    }
    capture(&browser, "chart-figures.png").await;

    browser.goto(&format!("{}/", server.base)).await;
    browser.click("form[action=\"/logout\"] button").await;
    browser
        .wait_for("signed out", |html| !html.contains("action=\"/logout\""))
        .await;

    // An official's results: dimension scores against the unit's median, score and rank
    // across cycles.
    let page = browser
        .sign_in(&server.base, "demo_official", DEMO_PASSWORD, None)
        .await;
    assert!(page.contains("action=\"/logout\""), "signed in: {page}");

    // The official's home page: their unit's ratings month by month, the satisfaction rate as
    // a line on an axis chosen from the data, the counts as bars on a second axis.
    browser.goto(&format!("{}/", server.base)).await;
    let trend = chart_of(&browser, "home-trend-table").await;
    let rows = count(&trend["rows"]);
    assert_eq!(rows, 12, "twelve months: {trend}");
    let lines = series(&trend, "line");
    assert_eq!(lines.len(), 1, "the satisfaction rate: {trend}");
    assert_eq!(count(&lines[0]["data"]), rows, "a point a month: {trend}");
    let bars = series(&trend, "bar");
    assert_eq!(bars.len(), 3, "ratings, bad reviews, overdue: {trend}");
    assert!(bars.iter().all(|b| count(&b["data"]) == rows), "{trend}");
    assert_eq!(
        trend["yaxes"], 2,
        "rates and counts on their own axes: {trend}"
    );
    let rated = browser
        .eval(
            "return [...document.querySelectorAll('#home-trend-table [data-value]')]\
             .map(c => c.getAttribute('data-value')).filter(v => v !== '').map(Number)",
        )
        .await;
    let rated: Vec<f64> = rated
        .as_array()
        .expect("the rates")
        .iter()
        .map(|v| v.as_f64().expect("a rate"))
        .collect();
    assert!(rated.len() >= 3, "ratings in several months: {trend}");
    let min = trend["ymin"].as_f64().expect("the rate axis' start");
    let lowest = rated.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(min <= lowest, "every rate on the axis: {min} > {lowest}");
    if min > 0.0 {
        assert!(
            trend["subtitle"].as_str().unwrap().contains("不从 0 起"),
            "the axis says it does not start at 0: {trend}"
        );
    }
    capture(&browser, "chart-home-official.png").await;

    browser.goto(&format!("{}/my/results", server.base)).await;
    let radar = chart_of(&browser, "my-dimensions").await;
    assert_eq!(
        count(&radar["radar"]),
        count(&radar["rows"]),
        "an axis a dimension: {radar}"
    );
    let shapes = series(&radar, "radar");
    assert_eq!(
        count(&shapes[0]["data"]),
        2,
        "own and the unit's median: {radar}"
    );
    // The quarterly cycles have a line of their own; the single annual and special ones none.
    let trend = chart_of(&browser, "my-trend-routine").await;
    let rows = count(&trend["rows"]);
    let quarterly = browser
        .eval(
            "return [...document.querySelectorAll('#my-results tbody tr')]\
             .filter(r => r.cells[0].innerText.includes('平时考核')).length",
        )
        .await;
    assert_eq!(rows, count(&quarterly), "each quarterly cycle: {trend}");
    assert!(rows >= 2, "{trend}");
    assert!(
        trend["title"]
            .as_str()
            .is_some_and(|t| t.ends_with("平时考核")),
        "{trend}"
    );
    let lines = series(&trend, "line");
    assert_eq!(lines.len(), 2, "score and rank: {trend}");
    assert!(lines.iter().all(|l| count(&l["data"]) == rows), "{trend}");
    assert_eq!(count(&series(&trend, "custom")[0]["data"]), rows, "{trend}");
    let timeline = browser.text("#records-timeline").await;
    assert!(timeline.contains("纪实"), "{timeline}");
    capture(&browser, "chart-my-results.png").await;

    drop(browser);
    assert!(server.terminate());
    db.finish().await.unwrap();
}
