//! The pages of assessment cycles: a framework uploaded, a cycle created, values uploaded (and
//! refused with every problem listed), computed, decided by the committee within the quota,
//! finalized and amended; who may see what (an official, a unit leader, an assessor outside
//! the cycle's units).
//!
//! Seed (helpers.rs) plus six cadres of 庐阳区 340103 (C101–C106): the city 340100 has ten
//! people, so that one quota of 20% over everyone gives k = 2; C003 and C004 tie at 93 for the
//! second place.

use crate::accounts::csrf_in;
use crate::helpers::{Fetched, TestApp, spawn_apps};
use kaohe_domain::{Cadre, CadreStatus, Code, Gender, RankLevel};

/// A framework of one indicator scored as its value (0–100), one quota over everyone.
const FRAMEWORK: &str = r#"[framework]
id = "page_test"
version = "1"
name = "页面测试指标体系"

[grading]
scale = "annual"
thresholds = [90, 70, 60]
quota_scope = "all"

[[dimensions]]
id = "ji"
name = "绩"
weight = 100

  [[dimensions.indicators]]
  id = "task"
  name = "任务完成率"
  unit = "%"
  direction = "positive"
  weight = 100
  normalization = { method = "goalposts", min = 0, max = 100 }
"#;

/// Values of the ten people: C003 and C004 tie at 93 behind C001; C002 (95, but a warning this
/// year) cannot be 优秀.
const VALUES: &str = "person_id,姓名,task\nC001,张三,96\nC002,李四,95\nC003,王五,93\nC004,赵六,93\n\
C101,甲,80\nC102,乙,75\nC103,丙,65\nC104,丁,63\nC105,戊,55\nC106,己,85\n";

impl TestApp {
    /// `POST path` as `multipart/form-data` with the CSRF token, text fields and a file.
    async fn post_upload(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> Fetched {
        let session = self.session.clone().expect("signed in");
        let csrf = csrf_in(&self.get("/account").await);
        let boundary = "kaohe-cycle-boundary-91c2";
        let mut body = Vec::new();
        for (name, value) in std::iter::once(&("csrf", csrf.as_str())).chain(fields) {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
            );
        }
        if let Some((file_name, bytes)) = file {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("kaohe_session={session}"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("POST");
        Fetched::read(response).await
    }

    /// `POST path` with a urlencoded form and the CSRF token, as the app's session.
    async fn post_page(&self, path: &str, form: &[(&str, &str)]) -> Fetched {
        let session = self.session.clone().expect("signed in");
        let csrf = csrf_in(&self.get("/account").await);
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(form);
        self.post_form(path, &format!("kaohe_session={session}"), &all)
            .await
    }
}

fn code(s: &str) -> Code {
    Code::parse(s).expect("code")
}

/// Six more cadres of 庐阳区 340103.
async fn seed_people(app: &TestApp) {
    let birth = time::Date::from_calendar_date(1980, time::Month::May, 1).expect("date");
    let cadres: Vec<Cadre> = ["甲", "乙", "丙", "丁", "戊", "己"]
        .iter()
        .enumerate()
        .map(|(i, name)| Cadre {
            id: code(&format!("C10{}", i + 1)),
            name: (*name).into(),
            gender: Gender::Male,
            ethnicity: "汉族".into(),
            birth_date: birth,
            unit: code("340103"),
            post: "科员".into(),
            rank: RankLevel::Staff2,
            is_leader: false,
            status: CadreStatus::Active,
        })
        .collect();
    app.db
        .store
        .upsert_cadres(
            &cadres,
            &kaohe_domain::NewAuditEntry::new("test", "seed.cadres", "cycle_pages.rs"),
        )
        .await
        .expect("cadres");
}

/// Uploads the test framework and creates this year's annual cycle of the city 340100;
/// returns its dashboard path.
async fn create_cycle(app: &TestApp) -> String {
    let stored = app
        .post_upload(
            "/frameworks",
            &[],
            Some(("page_test.toml", FRAMEWORK.as_bytes())),
        )
        .await;
    assert_eq!(stored.status, 303, "{}: {}", app.name, stored.body);
    assert_eq!(
        stored.header("location"),
        "/frameworks/page_test/1?stored=new"
    );
    let year = time::OffsetDateTime::now_utc().year().to_string();
    let (start, end) = (format!("{year}-01-01"), format!("{year}-12-31"));
    let created = app
        .post_page(
            "/cycles",
            &[
                ("name", &format!("{year}年度考核")),
                ("kind", "annual"),
                ("start", &start),
                ("end", &end),
                ("framework", "page_test@1"),
                ("unit", "340100"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}: {}", app.name, created.body);
    created.header("location").to_owned()
}

#[tokio::test]
async fn frameworks_are_stored_listed_in_words_and_uploads_list_every_problem() {
    for app in spawn_apps().await {
        let list = app.get("/frameworks").await;
        assert_eq!(list.status, 200, "{}", app.name);
        // The presets are stored on an assessor's first visit.
        assert_eq!(list.table_rows("stored").len(), 4, "{}", list.body);
        assert!(list.body.contains("内置预设") && list.body.contains("<h1>"));

        // Every problem of a file at once.
        let broken = FRAMEWORK
            .replace("weight = 100\n\n  [[", "weight = -1\n\n  [[")
            .replace("direction = \"positive\"", "direction = \"sideways\"");
        let r = app
            .post_upload("/frameworks", &[], Some(("broken.toml", broken.as_bytes())))
            .await;
        assert_eq!(r.status, 422, "{}: {}", app.name, r.body);
        assert!(r.body.contains("id=\"problems\""), "{}", r.body);
        assert!(r.body.contains("broken.toml 有以下问题"), "{}", r.body);
        let listed = r.body.matches("<li>").count();
        assert!(listed >= 2, "every problem listed: {}", r.body);

        let stored = app
            .post_upload(
                "/frameworks",
                &[],
                Some(("page_test.toml", FRAMEWORK.as_bytes())),
            )
            .await;
        assert_eq!(stored.status, 303, "{}", stored.body);
        let page = app.get("/frameworks/page_test/1?stored=new").await;
        assert_eq!(page.status, 200);
        for words in ["新版本已入库", "固定阈值法", "正向", "100.0", "上传"] {
            assert!(page.body.contains(words), "{words}: {}", page.body);
        }
        assert!(!page.body.contains(">goalposts<"));
        // The same file again stores nothing; a changed file under that version is refused.
        let same = app
            .post_upload(
                "/frameworks",
                &[],
                Some(("page_test.toml", FRAMEWORK.as_bytes())),
            )
            .await;
        assert_eq!(
            same.header("location"),
            "/frameworks/page_test/1?stored=same"
        );
        let changed = FRAMEWORK.replace("任务完成率", "任务完成度");
        let r = app
            .post_upload(
                "/frameworks",
                &[],
                Some(("page_test.toml", changed.as_bytes())),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("此版本已入库且内容不同"), "{}", r.body);
        // A preset's page shows its methods in words too.
        let preset = app
            .get("/frameworks/civil_servant_annual/2026.1?lang=en")
            .await;
        assert_eq!(preset.status, 200);
        assert!(preset.body.contains("Positive") && preset.body.contains("Built-in preset"));
        app.finish().await;
    }
}

#[tokio::test]
async fn a_cycle_from_creation_to_amendment_through_the_pages() {
    for mut app in spawn_apps().await {
        seed_people(&app).await;
        let dashboard = create_cycle(&app).await;
        let id = dashboard.trim_start_matches("/cycles/").to_owned();
        let list = app.get("/cycles").await;
        assert_eq!(list.table_rows("cycles").len(), 1, "{}", list.body);
        assert!(list.body.contains("草稿") && list.body.contains("年度考核"));

        let page = app.get(&dashboard).await;
        assert_eq!(page.status, 200, "{}: {}", app.name, page.body);
        assert!(page.body.contains("id=\"step-open\""), "{}", page.body);
        assert!(!page.body.contains("id=\"step-compute\""));
        let r = app.post_page(&format!("{dashboard}/open"), &[]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let page = app.get(r.header("location")).await;
        assert!(page.body.contains("已完成：开始采集"), "{}", page.body);
        assert!(page.body.contains("采集中"));
        // Completeness: ten people miss the one indicator, and what the rule does.
        let rows = page.table_rows("completeness");
        assert!(
            rows[0].contains(">10<") && rows[0].contains("不计该项"),
            "{rows:?}"
        );
        assert!(rows[0].contains("王五 (C003)"), "who misses it: {rows:?}");

        // The template: the people and units filled in, one column per indicator.
        let template = app.get(&format!("{dashboard}/template.csv")).await;
        assert_eq!(template.status, 200);
        let mut lines = template.body.trim_start_matches('\u{feff}').lines();
        assert_eq!(lines.next(), Some("person_id,姓名,unit_id,单位名称,task"));
        assert_eq!(lines.count(), 10);
        let xlsx = app.get(&format!("{dashboard}/template.xlsx")).await;
        assert_eq!(xlsx.status, 200);
        assert!(xlsx.header("content-disposition").contains(".xlsx"));

        // Upload errors: the type, an unknown column, people outside the scope, bad cells.
        let values = format!("{dashboard}/values");
        let r = app
            .post_upload(&values, &[], Some(("数值.txt", b"person_id\nC001\n")))
            .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("不支持的文件类型"), "{}", r.body);
        let r = app
            .post_upload(&values, &[], Some(("数值.csv", b"person_id,gdp\nC001,1\n")))
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("gdp"), "{}", r.body);
        let bad = "person_id,task\nC001,96\nX999,80\nC003,abc\n";
        let r = app
            .post_upload(&values, &[], Some(("数值.csv", bad.as_bytes())))
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("数值.csv"), "{}", r.body);
        assert!(r.body.contains("数值.csv:4:task"), "{}", r.body);
        let bad = "person_id,task\nC001,96\nX999,80\nC004,90\n";
        let r = app
            .post_upload(&values, &[], Some(("数值.csv", bad.as_bytes())))
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(
            r.body.contains("row 3") && r.body.contains("X999"),
            "{}",
            r.body
        );
        let r = app
            .post_upload(&values, &[], Some(("数值.csv", VALUES.as_bytes())))
            .await;
        assert_eq!(r.status, 303, "{}", r.body);

        let r = app.post_page(&format!("{dashboard}/compute"), &[]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let page = app.get(&dashboard).await;
        assert!(page.body.contains("已计算"));
        assert!(page.body.contains("id=\"distribution\""), "{}", page.body);
        let en = app.get(&format!("{dashboard}?lang=en")).await;
        for words in [
            "Completeness of the values",
            "Grades by unit",
            "Excellent",
            "Computation",
        ] {
            assert!(en.body.contains(words), "{words}: {}", en.body);
        }

        // Results: words, filters, export.
        let results = app.get(&format!("{dashboard}/results")).await;
        assert_eq!(results.status, 200);
        let rows = results.table_rows("results");
        assert_eq!(rows.len(), 10);
        assert!(
            rows[0].contains("张三") && rows[0].contains("优秀"),
            "{}",
            rows[0]
        );
        assert!(results.body.contains("比例线并列，待考核委员会决定"));
        assert!(
            results.body.contains("年内受警告，不得评为优秀"),
            "{}",
            results.body
        );
        assert!(!results.body.contains("quota_tie_committee"));
        let filtered = app
            .get(&format!("{dashboard}/results?unit=340103&q=%E8%B5%B5"))
            .await;
        assert_eq!(filtered.table_rows("results").len(), 1);
        let paged = app
            .get(&format!("{dashboard}/results?per_page=4&page=3"))
            .await;
        assert_eq!(paged.table_rows("results").len(), 2);
        let csv = app.get(&format!("{dashboard}/results?format=csv")).await;
        assert_eq!(csv.status, 200);
        assert!(
            csv.body.contains("人员编号,姓名,单位编码,单位名称,得分"),
            "{}",
            csv.body
        );
        assert!(csv.body.contains("比例线并列"));
        let en = app
            .get(&format!("{dashboard}/results?format=csv&lang=en"))
            .await;
        assert!(en.body.contains("person_id,name,unit_id"), "{}", en.body);
        assert!(en.body.contains("Excellent") || en.body.contains("Competent"));
        let xlsx = app.get(&format!("{dashboard}/results?format=xlsx")).await;
        assert_eq!(xlsx.status, 200);

        // The committee: the tie of C003 and C004, quota 2 with 1 awarded. Its decisions and
        // the finalization come from another assessor than the one who computed (four eyes).
        let r = app.post_page(&format!("{dashboard}/review"), &[]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let chair = app
            .sign_in_as("chair", &["assessor"], &["340000"], None)
            .await;
        let tester = app.session.replace(chair);
        let committee = format!("{dashboard}/committee");
        let page = app.get(&committee).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("id=\"tie-C003\"") && page.body.contains("id=\"tie-C004\""));
        assert!(
            page.body.contains("优秀比例 2 人，已确定 1 人"),
            "{}",
            page.body
        );
        assert!(page.body.contains("任务完成率"), "contributions named");
        assert!(!page.body.contains("id=\"step-finalize\""));
        // Finalizing with the tie undecided is refused.
        let r = app.post_page(&format!("{dashboard}/finalize"), &[]).await;
        assert_eq!(r.status, 422, "{}", r.body);
        let decide = |cadre: &'static str, decision: &'static str, reason: &'static str| {
            let app = &app;
            let committee = committee.clone();
            async move {
                app.post_page(
                    &committee,
                    &[("cadre", cadre), ("decision", decision), ("reason", reason)],
                )
                .await
            }
        };
        let r = decide("C003", "award_top", "").await;
        assert_eq!(r.status, 422, "a reason is required: {}", r.body);
        let r = decide("C003", "award_top", "全年承担重点任务多").await;
        assert_eq!(r.status, 303, "{}", r.body);
        let r = decide("C004", "award_top", "同样优秀").await;
        assert_eq!(r.status, 422, "the quota holds: {}", r.body);
        assert!(r.body.contains("quota"), "{}", r.body);
        let r = decide("C004", "keep_next", "名额已满").await;
        assert_eq!(r.status, 303, "{}", r.body);
        let page = app.get(&committee).await;
        assert_eq!(page.table_rows("decisions").len(), 2);
        assert!(page.body.contains("全年承担重点任务多") && page.body.contains("chair"));
        assert!(page.body.contains("id=\"step-finalize\""), "{}", page.body);
        let chair = std::mem::replace(&mut app.session, tester);
        let r = app.post_page(&format!("{dashboard}/finalize"), &[]).await;
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.body.contains("双人复核"), "{}", r.body);
        // Nor does the page offer them to the one who computed.
        let own = app.get(&committee).await;
        assert!(own.body.contains("id=\"four-eyes\""), "{}", own.body);
        assert!(
            !own.body.contains("id=\"step-finalize\"") && !own.body.contains("decide-form"),
            "{}",
            own.body
        );
        let tester = std::mem::replace(&mut app.session, chair);

        let en = app.get(&format!("{committee}?lang=en")).await;
        for words in [
            "Decisions so far",
            "Award the top grade</strong>: ",
            "Tied at the quota line",
        ] {
            assert!(en.body.contains(words), "{words}: {}", en.body);
        }
        let r = app.post_page(&format!("{dashboard}/finalize"), &[]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        app.session = tester;
        let results = app.get(&format!("{dashboard}/results?q=C003")).await;
        assert!(
            results.body.contains("考核委员会确定为优秀"),
            "{}",
            results.body
        );

        // Amendment: a reason and corrected values; the revision shows before and after.
        let page = app.get(&dashboard).await;
        assert!(page.body.contains("已定稿") && page.body.contains("id=\"amend-form\""));
        let r = app
            .post_upload(&format!("{dashboard}/amend"), &[("reason", "")], None)
            .await;
        assert_eq!(r.status, 422, "a reason is required: {}", r.body);
        let corrected = "person_id,task\nC105,62\n";
        let r = app
            .post_upload(
                &format!("{dashboard}/amend"),
                &[("reason", "戊的数据录入错误")],
                Some(("更正.csv", corrected.as_bytes())),
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let revision = app.get(r.header("location")).await;
        assert_eq!(revision.status, 200);
        let changed = revision.table_rows("changed");
        assert!(
            changed
                .iter()
                .any(|r| r.contains("戊") && r.contains("不称职 → ")),
            "{changed:?}"
        );
        assert!(revision.body.contains("戊的数据录入错误"));
        let page = app.get(&dashboard).await;
        assert_eq!(
            page.table_rows("revisions").len(),
            3,
            "compute, final, amendment"
        );
        assert!(id.parse::<i64>().is_ok());
        app.finish().await;
    }
}

#[tokio::test]
async fn who_sees_a_cycle_and_its_results() {
    for mut app in spawn_apps().await {
        seed_people(&app).await;
        let dashboard = create_cycle(&app).await;
        let official = app
            .sign_in_as("c_official", &["official"], &[], Some("C003"))
            .await;
        let leader = app
            .sign_in_as("c_leader", &["unit_leader"], &["340102"], None)
            .await;
        let outside = app
            .sign_in_as("c_outside", &["assessor"], &["340103"], None)
            .await;
        for session in [&official, &leader] {
            for path in ["/cycles", dashboard.as_str()] {
                let r = app.get_as(Some(session), path).await;
                assert_eq!(r.status, 403, "{}: {path}", app.name);
            }
            let home = app.get_as(Some(session), "/").await;
            assert!(
                !home.body.contains("href=\"/cycles\""),
                "no menu item it cannot open"
            );
            assert!(home.body.contains("href=\"/my/results\""));
            // Nor a link on the home page to what they may not see.
            for path in ["/units", "/cadres"] {
                assert!(!home.body.contains(&format!("href=\"{path}\"")), "{path}");
            }
            assert!(!home.body.contains("id=\"home-cycles\""));
        }
        // An assessor of 340103 only: the cycle of the city is not theirs.
        let r = app.get_as(Some(&outside), &dashboard).await;
        assert_eq!(r.status, 403);
        let list = app.get_as(Some(&outside), "/cycles").await;
        assert_eq!(list.status, 200);
        assert!(!list.body.contains(&dashboard), "{}", list.body);
        assert!(list.body.contains("href=\"/cycles\""), "the menu item");
        let csrf = csrf_in(&app.get_as(Some(&outside), "/account").await);
        let year = time::OffsetDateTime::now_utc().year().to_string();
        let r = app
            .post_form(
                "/cycles",
                &format!("kaohe_session={outside}"),
                &[
                    ("csrf", &csrf),
                    ("name", "越权"),
                    ("kind", "annual"),
                    ("start", &format!("{year}-01-01")),
                    ("end", &format!("{year}-12-31")),
                    ("framework", "page_test@1"),
                    ("unit", "340100"),
                ],
            )
            .await;
        assert_eq!(r.status, 403, "a unit outside the scope: {}", r.body);

        // Nothing final yet: nobody sees a result.
        app.post_page(&format!("{dashboard}/open"), &[]).await;
        let r = app
            .post_upload(
                &format!("{dashboard}/values"),
                &[],
                Some(("v.csv", VALUES.as_bytes())),
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        app.post_page(&format!("{dashboard}/compute"), &[]).await;
        for session in [&official, &leader] {
            let mine = app.get_as(Some(session), "/my/results").await;
            assert_eq!(mine.status, 200);
            assert!(mine.body.contains("id=\"no-results\""), "{}", mine.body);
            let home = app.get_as(Some(session), "/").await;
            assert!(
                !home.body.contains("id=\"home-results\""),
                "nothing final yet"
            );
        }
        // The assessor's home: the cycle at work with its people, those computed and those
        // for the committee, and the grades of each unit.
        let home = app.get("/").await;
        assert!(
            home.body.contains("href=\"/polls\""),
            "polls among the tasks"
        );
        let cycles = home.table_rows("home-cycles-table");
        assert_eq!(cycles.len(), 1, "{}", home.body);
        assert!(
            cycles[0].contains(&format!("href=\"{dashboard}\"")) && cycles[0].contains("已计算"),
            "{cycles:?}"
        );
        let grades = home.table_rows("home-grades-table");
        assert!(!grades.is_empty(), "{}", home.body);
        let sum: usize = grades
            .iter()
            .map(|r| {
                let cells: Vec<&str> = r.split("<td class=\"num\">").skip(1).collect();
                cells
                    .last()
                    .and_then(|c| c.split('<').next())
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(0)
            })
            .sum();
        let people: usize = cycles[0]
            .split("<td class=\"num\">")
            .nth(1)
            .and_then(|c| c.split('<').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(
            people > 0 && sum == people,
            "grades add up to the people: {grades:?}"
        );
        app.post_page(&format!("{dashboard}/review"), &[]).await;
        let chair = app
            .sign_in_as("c_chair", &["assessor"], &["340000"], None)
            .await;
        app.session = Some(chair);
        let committee = format!("{dashboard}/committee");
        for (cadre, decision) in [("C003", "keep_next"), ("C004", "award_top")] {
            let r = app
                .post_page(
                    &committee,
                    &[
                        ("cadre", cadre),
                        ("decision", decision),
                        ("reason", "考核委员会表决"),
                    ],
                )
                .await;
            assert_eq!(r.status, 303, "{}", r.body);
        }
        let r = app.post_page(&format!("{dashboard}/finalize"), &[]).await;
        assert_eq!(r.status, 303, "{}", r.body);

        // The official: their own result only; the unit leader: the people of 340102.
        let mine = app.get_as(Some(&official), "/my/results").await;
        let rows = mine.table_rows("my-results");
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert!(rows[0].contains("王五") && rows[0].contains("考核委员会决定维持次一等次"));
        let theirs = app.get_as(Some(&leader), "/my/results").await;
        let rows = theirs.table_rows("my-results");
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert!(!theirs.body.contains("赵六"));
        // The same on their home pages, and no longer among the assessor's cycles at work.
        let home = app.get_as(Some(&official), "/").await;
        let rows = home.table_rows("home-results-table");
        assert!(rows.len() == 1 && rows[0].contains("王五"), "{rows:?}");
        let home = app.get_as(Some(&leader), "/").await;
        assert_eq!(home.table_rows("home-results-table").len(), 3);
        let home = app.get("/").await;
        assert!(
            !home.body.contains("id=\"home-cycles-table\"")
                && home.body.contains("id=\"home-cycles\""),
            "{}",
            home.body
        );
        assert_eq!(home.table_rows("home-grades-table").len(), grades.len());
        app.finish().await;
    }
}

/// A unit leader judges the people of their unit in an open routine cycle, and only those.
#[tokio::test]
async fn a_unit_leader_judges_their_people_in_a_routine_cycle() {
    use kaohe_store::cycles::work;
    for app in spawn_apps().await {
        seed_people(&app).await;
        let store = app.db.store.as_ref();
        work::store_presets(store, "system").await.expect("presets");
        let today = time::OffsetDateTime::now_utc().date();
        let quarter = kaohe_domain::cycles::Period::quarter_of(today).expect("quarter");
        let id = work::create(
            store,
            &work::CycleSpec {
                name: "本季度平时考核".to_owned(),
                kind: kaohe_domain::cycles::CycleKind::Routine,
                start: quarter.start,
                end: quarter.end,
                framework_id: "routine_quarterly".to_owned(),
                framework_version: None,
                units: vec![code("340100")],
            },
            "tester",
        )
        .await
        .expect("cycle");
        let leader = app
            .sign_in_as("r_leader", &["unit_leader"], &["340103"], None)
            .await;
        // Draft: nothing to judge yet.
        let list = app.get_as(Some(&leader), "/judgements").await;
        assert!(list.body.contains("id=\"no-judgements\""), "{}", list.body);
        work::advance(store, id, work::StateStep::Open, "tester")
            .await
            .expect("open");
        let list = app.get_as(Some(&leader), "/judgements").await;
        assert!(
            list.body.contains(&format!("/cycles/{id}/judgement")),
            "{}",
            list.body
        );
        assert!(list.body.contains("已评价 0 / 7 人"), "{}", list.body);
        let path = format!("/cycles/{id}/judgement");
        let page = app.get_as(Some(&leader), &path).await;
        assert_eq!(page.table_rows("judgements").len(), 7);
        let csrf = csrf_in(&page);
        let cookie = format!("kaohe_session={leader}");
        // Someone of another unit: refused, nothing stored.
        let r = app
            .post_form(
                &path,
                &cookie,
                &[("csrf", &csrf), ("j_C101", "good"), ("j_C001", "poor")],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("C001"), "{}", r.body);
        assert!(work::judgements(store, id).await.expect("read").is_empty());
        let r = app
            .post_form(
                &path,
                &cookie,
                &[
                    ("csrf", &csrf),
                    ("j_C101", "good"),
                    ("j_C102", "poor"),
                    ("j_C103", ""),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let judged = work::judgements(store, id).await.expect("read");
        assert_eq!(judged.len(), 2);
        assert_eq!(
            judged.get(&code("C102")),
            Some(&kaohe_domain::RoutineGrade::Poor)
        );
        let page = app.get_as(Some(&leader), &format!("{path}?saved=1")).await;
        assert!(page.body.contains("评价已保存"), "{}", page.body);
        assert!(
            page.body.contains("value=\"poor\" selected"),
            "{}",
            page.body
        );
        // A leader of another unit sees their own people only, and cannot judge these.
        let other = app
            .sign_in_as("r_other", &["unit_leader"], &["340102"], None)
            .await;
        let theirs = app.get_as(Some(&other), &path).await;
        assert_eq!(theirs.status, 200);
        assert!(!theirs.body.contains("C101"), "{}", theirs.body);
        let csrf = csrf_in(&theirs);
        let r = app
            .post_form(
                &path,
                &format!("kaohe_session={other}"),
                &[("csrf", &csrf), ("j_C101", "fair")],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        let judged = work::judgements(store, id).await.expect("read");
        assert_eq!(
            judged.get(&code("C101")),
            Some(&kaohe_domain::RoutineGrade::Good)
        );
        let missing = app.get_as(Some(&other), "/cycles/999999/judgement").await;
        assert_eq!(missing.status, 404);
        app.finish().await;
    }
}
