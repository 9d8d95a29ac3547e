//! The tables the report charts are drawn from, as the server writes them: the numbers in the
//! cells' data- attributes, the chart's title and text alternative on the table, and the
//! figures table exported as CSV and XLSX.

use crate::helpers::spawn_apps;

#[tokio::test]
async fn the_figures_table_carries_its_chart_and_exports_in_percent() {
    for app in spawn_apps().await {
        let page = app.get("/service/figures?by=official").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let rows = page.table_rows("figures");
        assert_eq!(rows.len(), 2, "{}", page.body);
        for row in &rows {
            // Shrunk toward an overall rate of 0 with one bad review each: the value and its
            // interval in percent, the value inside it.
            let attr = |name: &str| -> f64 {
                let key = format!("data-{name}=\"");
                let at = row.find(&key).unwrap_or_else(|| panic!("{name} in {row}")) + key.len();
                row[at..row[at..].find('"').expect("closed") + at]
                    .parse()
                    .unwrap_or_else(|e| panic!("{name}: {e} in {row}"))
            };
            let (low, value, high) = (attr("low"), attr("value"), attr("high"));
            assert!(low <= value && value <= high && high <= 100.0, "{row}");
        }
        for needed in [
            "data-chart=\"interval\"",
            "data-chart-title=\"收缩后的满意率及 95% 区间\"",
            "data-chart-label=\"各组排序用满意率的点图",
            "data-chart-max=\"100\"",
            "/static/charts.js",
        ] {
            assert!(page.body.contains(needed), "{needed}: {}", page.body);
        }

        let csv = app.get("/service/figures?by=official&format=csv").await;
        assert_eq!(csv.status, 200, "{}", csv.body);
        assert!(csv.header("content-type").starts_with("text/csv"));
        let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines.len(), 3, "a header and two rows: {}", csv.body);
        assert!(
            lines[0]
                .starts_with("经办人,评价数,不计入,满意率（%）,排序用满意率（%）,区间下限（%）"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains(",1,0,0,"),
            "one rating, none excluded, 0%: {}",
            lines[1]
        );

        let en = app
            .get("/service/figures?by=official&format=csv&lang=en")
            .await;
        assert_eq!(en.status, 200);
        let header = en
            .body
            .trim_start_matches('\u{feff}')
            .lines()
            .next()
            .unwrap_or_default();
        assert!(header.starts_with("Official,"), "{header}");
        assert!(header.is_ascii(), "no Chinese in English headers: {header}");

        let xlsx = app.get("/service/figures?format=xlsx").await;
        assert_eq!(xlsx.status, 200);
        assert!(xlsx.header("content-type").contains("spreadsheetml"));
        assert_eq!(app.get("/service/figures?format=pdf").await.status, 422);
        app.finish().await;
    }
}
