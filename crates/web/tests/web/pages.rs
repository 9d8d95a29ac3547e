//! The HTML pages.

use crate::helpers::{XSS_NAME, spawn_apps};

#[tokio::test]
async fn healthz_answers_ok() {
    for app in spawn_apps().await {
        let r = app.get("/healthz").await;
        assert_eq!((r.status, r.body.as_str()), (200, "ok"), "{}", app.name);
        app.finish().await;
    }
}

#[tokio::test]
async fn home_is_chinese_by_default_and_english_on_request() {
    for app in spawn_apps().await {
        let zh = app.get("/").await;
        assert_eq!(zh.status, 200, "{}", app.name);
        assert!(zh.header("content-type").starts_with("text/html"));
        assert!(zh.body.contains("<html lang=\"zh-CN\">"), "{}", zh.body);
        assert!(zh.body.contains("单位"));
        assert!(zh.body.contains("演示数据"), "demo banner");
        assert!(zh.body.contains("name=\"viewport\""));
        assert!(zh.body.contains("/static/kaohe.css?v="));

        let en = app.get("/?lang=en").await;
        assert!(en.body.contains("<html lang=\"en\">"), "{}", en.body);
        assert!(en.body.contains(">Units<"));
        assert!(en.body.contains("Demo data"));

        let accept = app
            .get_with("/", &[("accept-language", "en-US,en;q=0.9,zh-CN;q=0.5")])
            .await;
        assert!(accept.body.contains("<html lang=\"en\">"));
        let prefers_zh = app
            .get_with("/", &[("accept-language", "zh-CN,zh;q=0.9,en;q=0.8")])
            .await;
        assert!(prefers_zh.body.contains("<html lang=\"zh-CN\">"));

        // The charts' scripts from our own origin, cached for a year.
        for path in ["/static/echarts.min.js?v=5.6.0", "/static/charts.js"] {
            let js = app.get(path).await;
            assert_eq!(js.status, 200, "{path}");
            assert!(js.header("content-type").starts_with("text/javascript"));
            assert!(js.header("cache-control").contains("max-age=31536000"));
        }
        assert!(
            app.get("/static/echarts.min.js")
                .await
                .body
                .contains("echarts")
        );
        assert!(!zh.body.contains("echarts.min.js"), "no chart, no script");
        // Compressed for clients that accept it, plain for those that do not.
        for path in ["/", "/static/kaohe.css"] {
            let gz = app.get_with(path, &[("accept-encoding", "gzip")]).await;
            assert_eq!(gz.status, 200);
            assert_eq!(gz.header("content-encoding"), "gzip", "{path}");
            let plain = app.get(path).await;
            assert_eq!(plain.header("content-encoding"), "", "{path}");
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn language_switch_sets_a_cookie_and_only_goes_back_to_local_paths() {
    for app in spawn_apps().await {
        let r = app.get("/lang/en?next=%2Funits%3Fq%3D%E7%91%B6").await;
        assert_eq!(r.status, 303, "{}", app.name);
        assert_eq!(r.header("location"), "/units?q=%E7%91%B6");
        let cookie = r.header("set-cookie");
        assert!(
            cookie.starts_with("lang=en;") && cookie.contains("Path=/"),
            "{cookie}"
        );

        let with_cookie = app.get_with("/units", &[("cookie", "lang=en")]).await;
        assert!(with_cookie.body.contains("<html lang=\"en\">"));
        // The query parameter beats the cookie.
        let overridden = app
            .get_with("/units?lang=zh", &[("cookie", "lang=en")])
            .await;
        assert!(overridden.body.contains("<html lang=\"zh-CN\">"));

        for evil in [
            "https://evil.example/",
            "//evil.example/",
            "/%5Cevil.example",
            "evil",
        ] {
            let r = app.get(&format!("/lang/zh?next={evil}")).await;
            assert_eq!(r.status, 303);
            assert_eq!(r.header("location"), "/", "next={evil}");
        }
        assert_eq!(app.get("/lang/fr?next=/").await.status, 404);

        // The switch links back to the current page, without its `lang` parameter.
        let page = app.get("/units?q=x&lang=en").await;
        assert!(
            page.body
                .contains("href=\"/lang/zh?next=%2Funits%3Fq%3Dx\""),
            "{}",
            page.body
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn units_table_searches_and_pages() {
    for app in spawn_apps().await {
        let all = app.get("/units").await;
        assert_eq!(all.status, 200, "{}", app.name);
        let rows = all.table_rows("units");
        assert_eq!(rows.len(), 5, "{}", app.name);
        assert!(all.body.contains("瑶海区") && all.body.contains("庐阳区"));
        assert!(all.body.contains(">县<"), "kind label");

        let found = app.get("/units?q=%E7%91%B6%E6%B5%B7").await; // 瑶海
        let rows = found.table_rows("units");
        assert_eq!(rows.len(), 2, "瑶海区 and its department");
        assert!(rows.iter().all(|r| !r.contains("庐阳区")));
        assert!(
            found.body.contains("value=\"瑶海\""),
            "search box keeps the text"
        );

        let counties = app.get("/units?kind=county").await;
        assert_eq!(counties.table_rows("units").len(), 2);

        let page3 = app.get("/units?per_page=2&page=3").await;
        assert_eq!(page3.table_rows("units").len(), 1);
        assert!(page3.body.contains("第 3 页，共 3 页"), "{}", page3.body);
        assert!(
            page3.body.contains("href=\"/units?page=2&#38;per_page=2\""),
            "prev link: {}",
            page3.body
        );
        let page1 = app.get("/units?per_page=2&lang=en").await;
        assert!(page1.body.contains("Page 1 of 3 (5 rows)"));
        assert!(
            page1.body.contains("href=\"/units?page=2&#38;per_page=2\""),
            "next link"
        );

        let bad = app.get("/units?page=abc").await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("page") && bad.body.contains("<html"));
        app.finish().await;
    }
}

#[tokio::test]
async fn unit_page_shows_the_leadership_team() {
    for app in spawn_apps().await {
        let r = app.get("/units/340102").await;
        assert_eq!(r.status, 200, "{}", app.name);
        assert!(r.body.contains("领导班子"));
        let team = r.table_rows("team");
        assert_eq!(team.len(), 2, "{}", app.name);
        assert!(
            team.iter().any(|row| row.contains("张三"))
                && team.iter().any(|row| row.contains("李四"))
        );
        assert!(!team.iter().any(|row| row.contains("王五")));
        assert_eq!(r.table_rows("cadres").len(), 3);
        assert_eq!(r.table_rows("children").len(), 1);
        // Breadcrumb of ancestors.
        assert!(
            r.body.contains("href=\"/units/340000\">安徽省")
                && r.body.contains("href=\"/units/340100\">合肥市")
        );

        let missing = app.get("/units/NOPE").await;
        assert_eq!(missing.status, 404);
        assert!(missing.header("content-type").starts_with("text/html"));
        assert!(missing.body.contains("页面不存在"));
        let missing_en = app.get("/units/NOPE?lang=en").await;
        assert!(missing_en.body.contains("Page not found"));
        let nowhere = app.get("/no/such/page").await;
        assert_eq!(nowhere.status, 404);
        assert!(nowhere.body.contains("<html lang=\"zh-CN\">"));
        app.finish().await;
    }
}

#[tokio::test]
async fn cadres_filter_and_detail() {
    for app in spawn_apps().await {
        let all = app.get("/cadres").await;
        assert_eq!(all.table_rows("cadres").len(), 4, "{}", app.name);
        let leaders = app.get("/cadres?leaders=true").await;
        assert_eq!(leaders.table_rows("cadres").len(), 2);
        assert!(leaders.body.contains("checked"));
        let of_unit = app.get("/cadres?unit=340103").await;
        assert_eq!(of_unit.table_rows("cadres").len(), 1);

        let zhang = app.get("/cadres/C001").await;
        assert_eq!(zhang.status, 200);
        assert!(zhang.body.contains("任职经历"));
        assert_eq!(zhang.table_rows("appointments").len(), 2);
        assert!(zhang.body.contains("2021-07-01") && zhang.body.contains("至今"));

        let li = app.get("/cadres/C002?lang=en").await;
        let sanctions = li.table_rows("sanctions");
        assert_eq!(sanctions.len(), 2);
        let old = sanctions
            .iter()
            .find(|r| r.contains("S-OLD"))
            .expect("old sanction");
        let now = sanctions
            .iter()
            .find(|r| r.contains("S-NOW"))
            .expect("current sanction");
        assert!(old.contains(">No<") && old.contains("2020-04-30"), "{old}");
        assert!(now.contains(">Yes<") && now.contains("in-effect"), "{now}");
        assert_eq!(app.get("/cadres/NOPE").await.status, 404);
        app.finish().await;
    }
}

#[tokio::test]
async fn calendar_counts_working_days_across_national_day() {
    for app in spawn_apps().await {
        let r = app.get("/calendar?from=2025-09-26&days=5").await;
        assert_eq!(r.status, 200, "{}", app.name);
        assert!(r.body.contains("2025-10-10"), "{}", r.body);
        assert!(r.body.contains("国庆节调休") && r.body.contains("2025 年"));
        let en = app.get("/calendar?from=2025-09-30&days=5&lang=en").await;
        assert!(
            en.body.contains("gives 2025-10-14 (Tuesday)"),
            "{}",
            en.body
        );
        assert_eq!(
            app.get("/calendar?from=2025-09-26&days=99999").await.status,
            422
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn frameworks_show_every_preset_with_its_effective_weights() {
    for app in spawn_apps().await {
        let list = app.get("/frameworks").await;
        assert_eq!(list.status, 200, "{}", app.name);
        for preset in kaohe_engine::presets::all() {
            assert!(
                list.body
                    .contains(&format!("href=\"/frameworks/{}\"", preset.name)),
                "{}",
                preset.name
            );
            assert!(list.body.contains(preset.title_zh));
        }
        let page = app.get("/frameworks/political_quality_review").await;
        assert_eq!(page.status, 200);
        let framework = kaohe_engine::presets::get("political_quality_review")
            .expect("preset")
            .framework()
            .expect("preset parses");
        // Every indicator is listed with its effective weight, as the engine computes it.
        for (id, weight) in framework.effective_weights() {
            let cell = format!("{:.1}</td>", weight * 100.0);
            assert!(
                page.body
                    .contains(&format!("<span class=\"code\">{id}</span>")),
                "{id}"
            );
            assert!(page.body.contains(&cell), "{id} weight {cell}");
        }
        assert!(page.body.contains("反向") && page.body.contains("<svg class=\"bar\""));
        let en = app
            .get("/frameworks/political_quality_review?lang=en")
            .await;
        assert!(en.body.contains("Effective weight"));
        assert_eq!(app.get("/frameworks/nope").await.status, 404);
        app.finish().await;
    }
}

/// Whether `body` holds a script other than an empty tag loading one of our own files
/// (`<script src="/static/…" defer></script>`).
fn inline_script(body: &str) -> bool {
    let lower = body.to_lowercase();
    lower.match_indices("<script").any(|(at, _)| {
        let tag = &lower[at..];
        let own = tag.starts_with("<script src=\"/static/")
            && tag
                .find('>')
                .is_some_and(|end| tag[end + 1..].starts_with("</script>"));
        !own
    })
}

#[tokio::test]
async fn data_is_escaped_and_pages_carry_no_inline_script_or_style() {
    for app in spawn_apps().await {
        for path in [
            "/cadres",
            "/cadres/C004",
            "/units/340103",
            "/units?q=%3Cscript%3E",
            "/frameworks/county_team_hqd",
            "/login?next=%22%3E%3Cscript%3E",
        ] {
            let r = app.get(path).await;
            assert_eq!(r.status, 200, "{} {path}", app.name);
            assert!(!r.body.contains(XSS_NAME), "{path} shows the raw name");
            assert!(
                !inline_script(&r.body),
                "{path} has a script tag of its own"
            );
            assert!(!r.body.contains(" style="), "{path} has an inline style");
        }
        let r = app.get("/cadres/C004").await;
        assert!(
            r.body.contains("&#60;script&#62;") || r.body.contains("&lt;script&gt;"),
            "{}",
            r.body
        );
        for path in [
            "/",
            "/units",
            "/units/340102",
            "/cadres/C002",
            "/calendar",
            "/nope",
        ] {
            let r = app.get(path).await;
            assert!(!inline_script(&r.body), "{path}");
            assert!(!r.body.contains(" style="), "{path}");
            assert!(
                !r.body.contains("http://") && !r.body.contains("https://"),
                "{path} links outside"
            );
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn stylesheet_is_served_with_a_long_cache() {
    for app in spawn_apps().await {
        let r = app.get("/static/kaohe.css").await;
        assert_eq!(r.status, 200);
        assert!(r.header("content-type").starts_with("text/css"));
        assert!(r.header("cache-control").contains("max-age=31536000"));
        assert!(r.body.contains("@media print") && r.body.contains("overflow-x: auto"));
        app.finish().await;
    }
}

#[tokio::test]
async fn request_bodies_are_limited() {
    for app in spawn_apps().await {
        let big = vec![b'x'; kaohe_web::MAX_BODY_BYTES + 1];
        let r = app
            .client
            .post(format!("{}/units", app.base))
            .body(big)
            .send()
            .await
            .expect("response");
        assert_eq!(r.status().as_u16(), 413, "{}", app.name);
        app.finish().await;
    }
}

#[tokio::test]
async fn healthz_is_503_when_the_database_does_not_answer() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("gone.db").display());
    let store = kaohe_store::SqliteStore::open(&url).await.expect("store");
    store.pool().close().await;
    let state = kaohe_web::AppState::new(std::sync::Arc::new(store), crate::helpers::ballot_key());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(kaohe_web::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let r = reqwest::get(format!("{base}/healthz"))
        .await
        .expect("response");
    assert_eq!(r.status().as_u16(), 503);
    // A page that needs the database answers 500 with a generic message.
    // (With a session cookie, whose lookup is the first thing that needs the database.)
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/stats"))
        .header("cookie", "kaohe_session=x")
        .send()
        .await
        .expect("response");
    assert_eq!(r.status().as_u16(), 500);
    let body: serde_json::Value = r.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "internal_error");
    assert!(
        !body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("pool")
    );
    let page = reqwest::Client::new()
        .get(format!("{base}/units"))
        .header("cookie", "kaohe_session=x")
        .send()
        .await
        .expect("response");
    assert_eq!(page.status().as_u16(), 500);
    assert!(page.text().await.expect("body").contains("服务器内部错误"));
    let _ = stop.send(());
    server.await.expect("server task").expect("server ran");
}
