//! Every list as a file (#14): the units, the cadres, the accounts and a poll's results, as
//! CSV and XLSX, with headers in Chinese by default and in English on request, the rows of the
//! list (all of them, not only the page shown), a file name, and never cached; and the
//! pickers that replace typed codes.

use crate::accounts::csrf_in;
use crate::helpers::{Fetched, TestApp, cadre, seed_audit, spawn_apps};
use kaohe_data::{WideTable, read_wide};
use kaohe_domain::grade::AnnualGrade;
use kaohe_domain::polls::{Item, Poll, PollKind, PollSettings, RaterGroup};
use kaohe_domain::{Code, Labeled, NewAuditEntry, RankLevel};
use kaohe_store::polls::issue_codes;
use time::{Duration, OffsetDateTime};

/// A downloaded table: the response's headers and the file read back.
struct Download {
    disposition: String,
    cache: String,
    content_type: String,
    table: WideTable,
}

/// Downloads `path` as `session` and reads the file back (CSV or XLSX by `suffix`).
async fn download(app: &TestApp, session: Option<&str>, path: &str, suffix: &str) -> Download {
    let mut request = app.client.get(format!("{}{path}", app.base));
    if let Some(s) = session {
        request = request.header("cookie", format!("kaohe_session={s}"));
    }
    let response = request.send().await.expect("GET");
    assert_eq!(response.status().as_u16(), 200, "{}: {path}", app.name);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (disposition, cache, content_type) = (
        header("content-disposition"),
        header("cache-control"),
        header("content-type"),
    );
    let bytes = response.bytes().await.expect("body");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join(format!("download.{suffix}"));
    std::fs::write(&file, &bytes).expect("write");
    Download {
        disposition,
        cache,
        content_type,
        table: read_wide(&file).unwrap_or_else(|e| panic!("{path}: {e}")),
    }
}

/// The cells of the rows, each as one line joined by `|`.
fn lines(t: &WideTable) -> Vec<String> {
    t.rows.iter().map(|r| r.cells.join("|")).collect()
}

/// Checks what every export holds: the file's name, its type and no caching.
fn check_file(d: &Download, ascii: &str, utf8: &str, suffix: &str) {
    assert!(
        d.disposition
            .starts_with(&format!("attachment; filename=\"{ascii}.{suffix}\"")),
        "{}",
        d.disposition
    );
    assert!(
        d.disposition
            .contains(&format!("filename*=UTF-8''{utf8}.{suffix}")),
        "{}",
        d.disposition
    );
    assert_eq!(d.cache, "no-store");
    let expected = if suffix == "csv" {
        "text/csv"
    } else {
        "application/vnd.openxmlformats"
    };
    assert!(d.content_type.starts_with(expected), "{}", d.content_type);
}

#[tokio::test]
async fn units_and_cadres_export_every_row_in_both_languages() {
    for app in spawn_apps().await {
        let s = app.session.as_deref();
        // Units: Chinese headers, every unit though the page shows two.
        for suffix in ["csv", "xlsx"] {
            let d = download(
                &app,
                s,
                &format!("/units?per_page=2&format={suffix}"),
                suffix,
            )
            .await;
            check_file(&d, "units", "%E5%8D%95%E4%BD%8D", suffix);
            assert_eq!(
                d.table.header,
                [
                    "编码",
                    "名称",
                    "类型",
                    "上级单位编码",
                    "上级单位",
                    "干部数",
                    "班子成员"
                ],
                "{suffix}"
            );
            let rows = lines(&d.table);
            assert_eq!(rows.len(), 5, "{rows:?}");
            let yaohai = rows
                .iter()
                .find(|r| r.starts_with("340102|"))
                .expect("瑶海区");
            assert!(
                yaohai.starts_with("340102|瑶海区|") && yaohai.ends_with("|340100|合肥市|3|2"),
                "{yaohai}"
            );
        }
        // The filter is kept; English on request.
        let d = download(&app, s, "/units?parent=340100&format=csv&lang=en", "csv").await;
        check_file(&d, "units", "Units", "csv");
        assert_eq!(d.table.header[..3], ["Code", "Name", "Kind"]);
        let codes: Vec<&str> = d.table.rows.iter().map(|r| r.cells[0].as_str()).collect();
        assert_eq!(codes, ["340102", "340103"]);

        // Cadres of one unit, in words.
        for suffix in ["csv", "xlsx"] {
            let d = download(
                &app,
                s,
                &format!("/cadres?unit=340102&format={suffix}"),
                suffix,
            )
            .await;
            check_file(&d, "cadres", "%E5%B9%B2%E9%83%A8", suffix);
            assert_eq!(
                d.table.header,
                [
                    "编号",
                    "姓名",
                    "性别",
                    "单位编码",
                    "单位名称",
                    "职务",
                    "职务职级",
                    "班子成员",
                    "状态"
                ]
            );
            let rows = lines(&d.table);
            assert_eq!(rows.len(), 3, "{rows:?}");
            assert!(
                rows[0].starts_with("C001|张三|女|340102|瑶海区|区长|"),
                "{rows:?}"
            );
            assert!(rows[0].ends_with("|是|在职"), "{rows:?}");
        }
        let d = download(&app, s, "/cadres?leaders=true&format=csv&lang=en", "csv").await;
        assert_eq!(d.table.header[..2], ["ID", "Name"]);
        let rows = lines(&d.table);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(
            rows[0].contains("|Female|") && rows[0].ends_with("|Yes|Active"),
            "{rows:?}"
        );

        // A format that is neither is refused, naming the parameter.
        let r = app.get("/units?format=pdf").await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("format"));
        // The lists link their files, the filter kept.
        let page = app.get("/cadres?unit=340102").await;
        let link = page
            .body
            .split(" id=\"export-xlsx\"")
            .next()
            .and_then(|before| before.rsplit("href=\"").next())
            .unwrap_or_default()
            .trim_end_matches('"');
        assert!(
            link.starts_with("/cadres?unit=340102&") && link.ends_with("format=xlsx"),
            "{link}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn the_accounts_export_holds_words_and_no_secret() {
    for app in spawn_apps().await {
        let admin = app
            .sign_in_as("sysadmin", &["system_admin"], &[], None)
            .await;
        for suffix in ["csv", "xlsx"] {
            let d = download(
                &app,
                Some(&admin),
                &format!("/admin/users?format={suffix}"),
                suffix,
            )
            .await;
            check_file(&d, "accounts", "%E8%B4%A6%E5%8F%B7", suffix);
            assert_eq!(
                d.table.header,
                ["用户名", "姓名", "角色", "范围", "动态验证码", "状态"]
            );
            let rows = lines(&d.table);
            assert!(
                rows.iter()
                    .any(|r| r.starts_with("tester|") && r.contains("|考核人员|安徽省（340000）|")),
                "{rows:?}"
            );
            assert!(rows.iter().all(|r| !r.contains("$argon2")), "{rows:?}");
        }
        let d = download(&app, Some(&admin), "/admin/users?format=csv&lang=en", "csv").await;
        check_file(&d, "accounts", "accounts", "csv");
        assert_eq!(d.table.header[..3], ["User name", "Name", "Roles"]);
        assert!(
            lines(&d.table)
                .iter()
                .any(|r| r.starts_with("tester|") && r.contains("|Assessor|"))
        );
        // Not for another role.
        let r = app.get("/admin/users?format=csv").await;
        assert_eq!(r.status, 403);
        app.finish().await;
    }
}

fn code(s: &str) -> Code {
    Code::parse(s).expect("code")
}

/// Posts the voting form with its pre-session token.
async fn vote(app: &TestApp, ballot: &str, poll: &Poll, grade: AnnualGrade) -> Fetched {
    let mut form: Vec<(String, String)> = vec![
        ("csrf".into(), "t0ken".into()),
        ("code".into(), ballot.into()),
        ("poll".into(), poll.id.to_string()),
        ("step".into(), "cast".into()),
    ];
    for p in 0..poll.people.len() {
        for i in 0..poll.items.len() {
            form.push((format!("g{p}_{i}"), grade.code().to_owned()));
        }
    }
    let response = app
        .client
        .post(format!("{}/vote", app.base))
        .header("cookie", "kaohe_vote=t0ken")
        .form(&form)
        .send()
        .await
        .expect("POST /vote");
    Fetched::read(response).await
}

#[tokio::test]
async fn a_polls_results_export_once_closed() {
    for app in spawn_apps().await {
        let now = OffsetDateTime::now_utc();
        let poll = Poll {
            id: code("P-X"),
            title: "班子测评".into(),
            kind: PollKind::Evaluation,
            cycle: None,
            people: vec![code("C001"), code("C002")],
            items: vec![Item::Overall],
            seats: 0,
            groups: vec![RaterGroup {
                id: code("peers"),
                name: "同级".into(),
                weight: 1.0,
                codes: 5,
                merge_into: None,
            }],
            opens_at: now - Duration::hours(1),
            closes_at: now + Duration::hours(1),
            settings: PollSettings::default(),
        };
        let store = app.db.store.as_ref();
        store
            .create_poll(
                &poll,
                "test",
                &NewAuditEntry::new("test", "poll.create", "t"),
            )
            .await
            .expect("poll");
        let codes = issue_codes(
            store,
            &poll.id,
            &code("peers"),
            5,
            now,
            &NewAuditEntry::new("test", "poll.codes", "t"),
        )
        .await
        .expect("codes");
        for (k, c) in codes.iter().enumerate() {
            let grade = if k < 4 {
                AnnualGrade::Excellent
            } else {
                AnnualGrade::Competent
            };
            let r = vote(&app, c.as_str(), &poll, grade).await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
        // While open: no file.
        let open = app.get("/polls/P-X?format=csv").await;
        assert_eq!(open.status, 409, "{}", open.body);
        assert!(
            !app.get("/polls/P-X")
                .await
                .body
                .contains("id=\"export-csv\"")
        );
        store
            .close_poll(
                &poll.id,
                OffsetDateTime::now_utc(),
                &NewAuditEntry::new("test", "poll.close", "t"),
                &crate::helpers::ballot_key(),
            )
            .await
            .expect("close");
        assert!(
            app.get("/polls/P-X")
                .await
                .body
                .contains("href=\"/polls/P-X?format=csv\"")
        );
        let s = app.session.as_deref();
        for suffix in ["csv", "xlsx"] {
            let d = download(&app, s, &format!("/polls/P-X?format={suffix}"), suffix).await;
            check_file(
                &d,
                "poll-results",
                "%E7%8F%AD%E5%AD%90%E6%B5%8B%E8%AF%84%20%E6%B5%8B%E8%AF%84%E7%BB%93%E6%9E%9C",
                suffix,
            );
            assert_eq!(
                d.table.header,
                [
                    "姓名",
                    "职务",
                    "测评项目",
                    "统计组别",
                    "优秀",
                    "称职",
                    "基本称职",
                    "不称职",
                    "优秀率",
                    "称职以上率"
                ]
            );
            let rows = lines(&d.table);
            assert_eq!(rows.len(), 6, "{rows:?}");
            assert_eq!(rows[0], "张三|区长|总体评价|同级|4|1|0|0||");
            assert_eq!(rows[1], "张三|区长|总体评价|合计|4|1|0|0|80.0%|100.0%");
            assert!(
                rows[2].starts_with("张三|区长|总体评价|加权占比|80.0%|20.0%"),
                "{rows:?}"
            );
            assert!(rows[3].starts_with("李四|副区长|"), "{rows:?}");
        }
        let d = download(&app, s, "/polls/P-X?format=csv&lang=en", "csv").await;
        assert_eq!(
            d.table.header[..4],
            ["Name", "Post", "Item", "Reported group"]
        );
        assert!(d.table.header.contains(&"Excellent".to_owned()));
        app.finish().await;
    }
}

#[tokio::test]
async fn pickers_offer_units_as_a_tree_and_cadres_by_name() {
    for app in spawn_apps().await {
        // The cadres filter: units as a tree, the current one selected.
        let page = app.get("/cadres?unit=340102").await;
        assert!(page.body.contains("id=\"unit-picker\""), "{}", page.body);
        assert!(
            page.body
                .contains("<option value=\"340102\" selected>\u{3000}\u{3000}瑶海区</option>"),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains("<option value=\"340000\">安徽省</option>")
        );
        // An unknown unit is still refused by name.
        let r = app.get("/cadres?unit=a%20b").await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("unit"), "{}", r.body);
        let units = app.get("/units").await;
        assert!(units.body.contains("id=\"parent-picker\""));

        // The role form: scopes picked from the tree, the cadre by name.
        let security = app
            .sign_in_as("secadmin", &["security_admin"], &[], None)
            .await;
        app.create_user("official1", &[], &[], None).await;
        let form = app.get_as(Some(&security), "/admin/roles/official1").await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(
            form.body
                .contains("<select id=\"units\" name=\"units\" multiple")
        );
        assert!(
            form.body
                .contains("<option value=\"340103\">\u{3000}\u{3000}庐阳区</option>")
        );
        assert!(
            form.body.contains("<datalist id=\"cadre-list\">")
                && form
                    .body
                    .contains("<option value=\"C003\">王五 · 瑶海区 · 一级科员</option>"),
            "{}",
            form.body
        );
        let csrf = csrf_in(&form);
        let cookie = format!("kaohe_session={security}");
        // Two units picked: both kept.
        let r = app
            .post_form(
                "/admin/roles/official1",
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("role", "assessor"),
                    ("units", "340102"),
                    ("units", "340103"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let again = app.get_as(Some(&security), "/admin/roles/official1").await;
        assert!(again.body.contains("<option value=\"340102\" selected>"));
        assert!(again.body.contains("<option value=\"340103\" selected>"));
        // A made-up unit is refused, naming it.
        let r = app
            .post_form(
                "/admin/roles/official1",
                &cookie,
                &[("csrf", &csrf), ("role", "assessor"), ("units", "999999")],
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(r.body.contains("999999"), "{}", r.body);

        // Every search box is named for the pickers' script, which the page loads.
        assert!(form.body.contains("data-search=\"搜索单位（名称或代码）\""));
        assert!(form.body.contains("/static/picker.js?v="), "{}", form.body);
        assert!(units.body.contains("data-search=") && page.body.contains("data-search="));

        // Beyond the 500 cadres the form lists, the cadre field searches every cadre.
        let many: Vec<_> = (1..=520)
            .map(|n| {
                cadre(
                    &format!("Z{n:04}"),
                    &format!("测试{n}"),
                    "340103",
                    "科员",
                    RankLevel::Staff2,
                    false,
                )
            })
            .chain([cadre(
                "ZZ999",
                "欧阳修远",
                "340103",
                "副科长",
                RankLevel::SectionDeputy,
                false,
            )])
            .collect();
        app.db
            .store
            .upsert_cadres(&many, &seed_audit("cadres"))
            .await
            .expect("cadres");
        let form = app.get_as(Some(&security), "/admin/roles/official1").await;
        assert!(!form.body.contains("ZZ999"), "beyond the form's list");
        let found = app
            .get_as(Some(&security), "/admin/cadres?q=%E6%AC%A7%E9%98%B3")
            .await;
        assert_eq!(found.status, 200, "{}", found.body);
        assert_eq!(
            found.json()["items"],
            serde_json::json!([{"id": "ZZ999", "label": "欧阳修远 · 庐阳区 · 副科长"}])
        );
        let some = app
            .get_as(Some(&security), "/admin/cadres?q=%E6%B5%8B%E8%AF%95")
            .await;
        assert_eq!(
            some.json()["items"].as_array().map(Vec::len),
            Some(20),
            "at most twenty answers"
        );
        let empty = app.get_as(Some(&security), "/admin/cadres?q=+").await;
        assert_eq!(empty.json()["items"], serde_json::json!([]));
        // Only the security administrator searches there.
        let r = app.get("/admin/cadres?q=%E6%AC%A7%E9%98%B3").await;
        assert_eq!(r.status, 403, "{}", r.body);

        // A new poll's people: picked by name, grouped by unit.
        let new = app.get("/polls/new").await;
        assert!(new.body.contains("id=\"people-picker\""), "{}", new.body);
        assert!(
            new.body
                .contains("<optgroup label=\"瑶海区\"><option value=\"C001\">张三 · 区长</option>")
        );
        assert!(new.body.contains("data-search=\"搜索人员或单位\""));
        app.finish().await;
    }
}
