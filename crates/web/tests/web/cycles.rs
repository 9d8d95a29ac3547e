//! Assessment cycles over the JSON API: an annual cycle from a framework upload to final and
//! an amendment; bad input refused with nothing changed; who sees and does what; the OpenAPI
//! document.

use crate::accounts::csrf_in;
use crate::helpers::{Fetched, TestApp, spawn_apps};
use kaohe_domain::{Cadre, CadreStatus, Code, Gender, NewAuditEntry, RankLevel, Unit, UnitKind};
use serde_json::{Value, json};
use time::{Date, Month};

/// Two indicators on fixed goalposts: a score is the mean of the two values.
const FRAMEWORK: &str = r#"[framework]
id = "web_annual"
version = "1"
name = "网页测试年度考核"
weighting = "equal"
[[dimensions]]
id = "d"
name = "绩"
weighting = "equal"
[[dimensions.indicators]]
id = "a"
name = "任务完成"
unit = "分"
direction = "positive"
normalization = { method = "goalposts", min = 0, max = 100 }
[[dimensions.indicators]]
id = "b"
name = "工作质效"
unit = "分"
direction = "positive"
normalization = { method = "goalposts", min = 0, max = 100 }
"#;

/// The values of the county: in 蜀山区 S01 and S02 tie at the top (a quota of one for five
/// people), in 包河区 B01 leads alone.
const VALUES: &[(&str, f64)] = &[
    ("S01", 92.0),
    ("S02", 92.0),
    ("S03", 80.0),
    ("S04", 70.0),
    ("S05", 60.0),
    ("B01", 95.0),
    ("B02", 85.0),
    ("B03", 75.0),
    ("B04", 65.0),
    ("B05", 55.0),
];

/// A signed-in account and the CSRF token of its session.
struct Account {
    session: String,
    csrf: String,
}

impl TestApp {
    /// Creates an account, signs in and reads the CSRF token of its session.
    async fn account(
        &self,
        username: &str,
        roles: &[&str],
        units: &[&str],
        cadre: Option<&str>,
    ) -> Account {
        let session = self.sign_in_as(username, roles, units, cadre).await;
        let csrf = csrf_in(&self.get_as(Some(&session), "/account").await);
        assert!(!csrf.is_empty(), "{}: CSRF token of {username}", self.name);
        Account { session, csrf }
    }

    /// `POST path` as `who`, with its CSRF token.
    async fn post_as(
        &self,
        who: &Account,
        path: &str,
        content_type: &str,
        body: String,
    ) -> Fetched {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(
                "cookie",
                format!("{}={}", kaohe_web::shell::auth::SESSION_COOKIE, who.session),
            )
            .header(kaohe_web::shell::auth::CSRF_HEADER, &who.csrf)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: POST {path}: {e}", self.name));
        Fetched::read(response).await
    }

    /// `POST path` with a JSON body as `who`.
    async fn cycle_post(&self, who: &Account, path: &str, body: &Value) -> Fetched {
        self.post_as(who, path, "application/json", body.to_string())
            .await
    }

    /// `GET path` as `who`.
    async fn cycle_get(&self, who: &Account, path: &str) -> Fetched {
        self.get_as(Some(&who.session), path).await
    }
}

/// Status and error code of a response, for assertions.
fn refusal(r: &Fetched) -> (u16, String) {
    let code = serde_json::from_str::<Value>(&r.body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_default();
    (r.status, code)
}

/// Whether a JSON number is `x`, up to rounding.
fn close(v: &Value, x: f64) -> bool {
    v.as_f64().is_some_and(|v| (v - x).abs() < 1e-9)
}

fn code(s: &str) -> Code {
    Code::parse(s).expect("valid code")
}

/// 蜀山区 340104 and 包河区 340111 under 合肥市, five cadres each.
async fn seed_county(app: &TestApp) {
    let store = app.db.store.as_ref();
    let audit = NewAuditEntry::new("test", "seed.cycles", "cycles.rs");
    let unit = |c: &str, name: &str| Unit {
        code: code(c),
        name: name.into(),
        kind: UnitKind::County,
        parent: Some(code("340100")),
    };
    store
        .upsert_units(
            &[unit("340104", "蜀山区"), unit("340111", "包河区")],
            &audit,
        )
        .await
        .expect("units");
    let cadres: Vec<Cadre> = VALUES
        .iter()
        .map(|(id, _)| Cadre {
            id: code(id),
            name: format!("干部{id}"),
            gender: Gender::Male,
            ethnicity: "汉族".into(),
            birth_date: Date::from_calendar_date(1980, Month::May, 1).expect("date"),
            unit: code(if id.starts_with('S') {
                "340104"
            } else {
                "340111"
            }),
            post: "科员".into(),
            rank: RankLevel::Staff1,
            is_leader: false,
            status: CadreStatus::Active,
        })
        .collect();
    store.upsert_cadres(&cadres, &audit).await.expect("cadres");
}

fn values(rows: &[(&str, f64)]) -> Value {
    json!({
        "columns": ["a", "工作质效"],
        "people": rows
            .iter()
            .map(|(id, v)| json!({"person_id": id, "values": [v, v]}))
            .collect::<Vec<_>>(),
    })
}

fn cycle_json(units: &[&str]) -> Value {
    json!({
        "name": "2025年度考核",
        "kind": "annual",
        "from": "2025-01-01",
        "to": "2025-12-31",
        "framework": "web_annual",
        "units": units,
    })
}

/// Asserts the status of a response, showing its body otherwise.
fn expect(app: &TestApp, r: &Fetched, status: u16, what: &str) -> Value {
    assert_eq!(r.status, status, "{}: {what}: {}", app.name, r.body);
    serde_json::from_str(&r.body).unwrap_or(Value::Null)
}

/// Uploads the framework and creates the county's annual cycle, collecting, with its values;
/// returns its id.
async fn collecting_cycle(app: &TestApp, who: &Account) -> i64 {
    let r = app
        .post_as(
            who,
            "/api/v1/frameworks",
            "application/toml",
            FRAMEWORK.to_owned(),
        )
        .await;
    assert!(matches!(r.status, 200 | 201), "{}: {}", app.name, r.body);
    let r = app
        .cycle_post(who, "/api/v1/cycles", &cycle_json(&["340104", "340111"]))
        .await;
    let id = expect(app, &r, 201, "create")["id"]
        .as_i64()
        .expect("cycle id");
    let r = app
        .cycle_post(who, &format!("/api/v1/cycles/{id}/open"), &json!({}))
        .await;
    expect(app, &r, 200, "open");
    let r = app
        .cycle_post(who, &format!("/api/v1/cycles/{id}/values"), &values(VALUES))
        .await;
    expect(app, &r, 200, "values");
    id
}

/// Computes and submits as `who`, then decides the tie of 蜀山区 (S01 awarded, S02 kept)
/// and finalizes as `chair` (four eyes).
async fn finish(app: &TestApp, who: &Account, chair: &Account, id: i64) {
    for step in ["compute", "review"] {
        let r = app
            .cycle_post(who, &format!("/api/v1/cycles/{id}/{step}"), &json!({}))
            .await;
        expect(app, &r, 200, step);
    }
    for (person, decision) in [("S01", "award_top"), ("S02", "keep_next")] {
        let r = app
            .cycle_post(
                chair,
                &format!("/api/v1/cycles/{id}/decisions"),
                &json!({"person": person, "decision": decision, "reason": "考核委员会讨论决定"}),
            )
            .await;
        expect(app, &r, 201, "decision");
    }
    let r = app
        .cycle_post(chair, &format!("/api/v1/cycles/{id}/finalize"), &json!({}))
        .await;
    expect(app, &r, 200, "finalize");
}

/// The result of `person` in a results page.
fn row<'a>(page: &'a Value, person: &str) -> &'a Value {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|r| r["person_id"] == person)
        .unwrap_or_else(|| panic!("{person} in {page}"))
}

#[tokio::test]
async fn an_annual_cycle_runs_from_upload_to_final_and_amendment_over_http() {
    for app in spawn_apps().await {
        seed_county(&app).await;
        let who = app
            .account("kaoheyuan", &["assessor"], &["340100"], None)
            .await;
        // The committee's decisions and the finalization come from another assessor than the
        // one who computed (four eyes).
        let chair = app
            .account("weiyuan", &["assessor"], &["340100"], None)
            .await;

        // Frameworks: stored once; the same file again stores nothing; a changed file under
        // the same version is refused; a broken file lists its problems.
        let upload =
            |body: String| app.post_as(&who, "/api/v1/frameworks", "application/toml", body);
        let r = upload(FRAMEWORK.to_owned()).await;
        assert_eq!(expect(&app, &r, 201, "upload")["stored"], true);
        let r = upload(FRAMEWORK.to_owned()).await;
        assert_eq!(expect(&app, &r, 200, "upload again")["stored"], false);
        let r = upload(FRAMEWORK.replace("任务完成", "任务完成率")).await;
        assert_eq!(refusal(&r), (409, "version_taken".to_owned()), "{}", r.body);
        let r = upload("[framework]\nid = \"x\"\n".to_owned()).await;
        assert_eq!(
            refusal(&r),
            (422, "invalid_framework".to_owned()),
            "{}",
            r.body
        );
        let list = expect(
            &app,
            &app.cycle_get(&who, "/api/v1/frameworks").await,
            200,
            "frameworks",
        );
        let ids: Vec<&str> = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|f| f["id"].as_str())
            .collect();
        assert!(ids.contains(&"web_annual"), "{ids:?}");
        let ours = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|f| f["id"] == "web_annual")
            .expect("uploaded");
        assert_eq!(ours["origin"], "upload");
        assert_eq!(ours["origin_label"]["zh"], "上传");
        assert_eq!(ours["created_by"], "kaoheyuan");
        assert!(ids.contains(&"civil_servant_annual"), "presets: {ids:?}");

        // A cycle of the two counties: ten people, a draft.
        let r = app
            .cycle_post(&who, "/api/v1/cycles", &cycle_json(&["340104", "340111"]))
            .await;
        let created = expect(&app, &r, 201, "create");
        let id = created["id"].as_i64().expect("id");
        assert_eq!(created["state"], "draft");
        assert_eq!(created["state_label"]["zh"], "草稿");
        assert_eq!(created["kind_label"]["zh"], "年度考核");
        assert_eq!(created["people"], 10);
        assert_eq!(created["framework_version"], "1");
        assert_eq!(created["units"][0]["name"], "蜀山区");
        let base = format!("/api/v1/cycles/{id}");
        let r = app
            .cycle_post(&who, &format!("{base}/open"), &json!({}))
            .await;
        assert_eq!(expect(&app, &r, 200, "open")["state"], "collecting");

        // Nothing yet: every value is missing, with what the rule will do.
        let c = expect(
            &app,
            &app.cycle_get(&who, &format!("{base}/completeness")).await,
            200,
            "completeness",
        );
        assert_eq!(c["people"], 10);
        assert_eq!(c["columns"][0]["missing"], 10);
        assert!(
            c["columns"][0]["rule"]
                .as_str()
                .is_some_and(|r| !r.is_empty())
        );
        let r = app
            .cycle_post(&who, &format!("{base}/values"), &values(VALUES))
            .await;
        assert_eq!(expect(&app, &r, 200, "values")["people"], 10);
        let c = expect(
            &app,
            &app.cycle_get(&who, &format!("{base}/completeness")).await,
            200,
            "completeness",
        );
        assert_eq!(c["columns"][0]["missing"], 0);
        assert_eq!(c["columns"][1]["missing"], 0);

        // Computed: the tie at 蜀山区's quota line waits for the committee.
        let r = app
            .cycle_post(&who, &format!("{base}/compute"), &json!({}))
            .await;
        let computed = expect(&app, &r, 200, "compute");
        assert_eq!(computed["revision"], 1);
        assert_eq!(computed["people"], 10);
        assert_eq!(computed["ties"], 2);
        let committee = expect(
            &app,
            &app.cycle_get(&who, &format!("{base}/committee")).await,
            200,
            "committee",
        );
        assert_eq!(committee["indicators"], json!(["a", "b"]));
        let ties = committee["ties"].as_array().expect("ties");
        assert_eq!(ties.len(), 1, "{committee}");
        assert_eq!(ties[0]["scope"], "340104");
        assert_eq!(ties[0]["k"], 1);
        assert_eq!(ties[0]["awarded"], 0);
        let tied: Vec<&str> = ties[0]["people"]
            .as_array()
            .expect("people")
            .iter()
            .filter_map(|p| p["person_id"].as_str())
            .collect();
        assert_eq!(tied, ["S01", "S02"]);
        let s01 = &ties[0]["people"][0];
        assert_eq!(s01["name"], "干部S01");
        assert!(close(&s01["score"], 92.0), "{s01}");
        assert!(s01["p05"].is_u64() && s01["p95"].is_u64(), "{s01}");
        assert_eq!(s01["contributions"][0]["indicator"], "a");
        assert_eq!(s01["rule"], "quota_tie_committee");

        // The committee decides only under review, with a reason, within the quota.
        let (app_ref, who_ref) = (&app, &chair);
        let decide = |person: &str, decision: &str, reason: &str| {
            let body = json!({"person": person, "decision": decision, "reason": reason});
            async move {
                app_ref
                    .cycle_post(who_ref, &format!("/api/v1/cycles/{id}/decisions"), &body)
                    .await
            }
        };
        let r = decide("S01", "award_top", "实绩突出").await;
        assert_eq!(refusal(&r), (409, "wrong_state".to_owned()), "{}", r.body);
        let r = app
            .cycle_post(&who, &format!("{base}/review"), &json!({}))
            .await;
        assert_eq!(expect(&app, &r, 200, "review")["state"], "review");
        let r = decide("S01", "award_top", "  ").await;
        assert_eq!(
            refusal(&r),
            (422, "reason_required".to_owned()),
            "{}",
            r.body
        );
        let r = app
            .cycle_post(
                &who,
                &format!("{base}/decisions"),
                &json!({"person": "S01", "decision": "award_top"}),
            )
            .await;
        assert_eq!(refusal(&r), (422, "invalid_field".to_owned()), "{}", r.body);
        let r = app
            .cycle_post(&chair, &format!("{base}/finalize"), &json!({}))
            .await;
        assert_eq!(
            refusal(&r),
            (422, "undecided_ties".to_owned()),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("S01") && r.body.contains("S02"),
            "{}",
            r.body
        );
        let r = app
            .cycle_post(
                &who,
                &format!("{base}/decisions"),
                &json!({"person": "S01", "decision": "award_top", "reason": "实绩突出"}),
            )
            .await;
        assert_eq!(refusal(&r), (422, "four_eyes".to_owned()), "{}", r.body);
        let r = decide("S01", "award_top", "实绩突出，群众评价高").await;
        let d = expect(&app, &r, 201, "decide S01");
        assert_eq!(d["decided_by"], "weiyuan");
        assert_eq!(d["decision_label"]["zh"], "确定为最高等次");
        let r = decide("S02", "award_top", "同样优秀").await;
        assert_eq!(
            refusal(&r),
            (422, "quota_exceeded".to_owned()),
            "{}",
            r.body
        );
        let r = decide("C004", "confirm", "不在本周期").await;
        assert_eq!(refusal(&r), (422, "not_pending".to_owned()), "{}", r.body);
        let r = decide("S02", "keep_next", "名额所限").await;
        expect(&app, &r, 201, "decide S02");
        let committee = expect(
            &app,
            &app.cycle_get(&who, &format!("{base}/committee")).await,
            200,
            "committee",
        );
        assert_eq!(committee["decisions"].as_array().map(Vec::len), Some(2));
        assert_eq!(committee["decisions"][0]["reason"], "实绩突出，群众评价高");

        // Final: the committee's decisions in the results, names included.
        let r = app
            .cycle_post(&who, &format!("{base}/finalize"), &json!({}))
            .await;
        assert_eq!(refusal(&r), (422, "four_eyes".to_owned()), "{}", r.body);
        let r = app
            .cycle_post(&chair, &format!("{base}/finalize"), &json!({}))
            .await;
        let fin = expect(&app, &r, 200, "finalize");
        assert_eq!(fin["state"], "final");
        assert_eq!(fin["revision"], 2);
        let page = expect(
            &app,
            &app.cycle_get(&who, &format!("{base}/results?per_page=500"))
                .await,
            200,
            "results",
        );
        assert_eq!(page["total"], 10);
        assert_eq!(page["revision"], 2);
        assert_eq!(page["revision_kind"], "final");
        assert_eq!(page["locked"], true);
        assert_eq!(row(&page, "S01")["grade"], "excellent");
        assert_eq!(row(&page, "S01")["grade_label"]["zh"], "优秀");
        assert_eq!(row(&page, "S01")["rule"], "committee:award_top");
        assert_eq!(row(&page, "S02")["rule"], "committee:keep_next");
        assert_ne!(row(&page, "S02")["grade"], "excellent");
        assert_eq!(row(&page, "B01")["grade"], "excellent");
        assert_eq!(row(&page, "B01")["name"], "干部B01");
        assert_eq!(row(&page, "B01")["unit_name"], "包河区");
        let unit = expect(
            &app,
            &app.cycle_get(&who, &format!("{base}/results?unit=340104"))
                .await,
            200,
            "results of a unit",
        );
        assert_eq!(unit["total"], 5);
        let top = expect(
            &app,
            &app.cycle_get(&who, &format!("{base}/results?grade=excellent"))
                .await,
            200,
            "results of a grade",
        );
        let top: Vec<&str> = top["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|r| r["person_id"].as_str())
            .collect();
        assert_eq!(top, ["B01", "S01"]);
        let r = app
            .cycle_get(&who, &format!("{base}/results?grade=great"))
            .await;
        assert_eq!(
            refusal(&r),
            (422, "invalid_parameter".to_owned()),
            "{}",
            r.body
        );
        let first = expect(
            &app,
            &app.cycle_get(&who, &format!("{base}/results?revision=1&unit=340104"))
                .await,
            200,
            "results of revision 1",
        );
        assert_eq!(row(&first, "S01")["rule"], "quota_tie_committee");
        let r = app
            .cycle_get(&who, &format!("{base}/results?revision=9"))
            .await;
        assert_eq!(r.status, 404, "{}", r.body);
        let shown = expect(&app, &app.cycle_get(&who, &base).await, 200, "cycle");
        assert_eq!(shown["state"], "final");
        let grades = shown["grades"].as_array().expect("grades");
        assert_eq!(grades.len(), 2, "{shown}");
        assert_eq!(grades[0]["unit"], "340104");
        assert_eq!(grades[0]["people"], 5);
        assert_eq!(grades[0]["grades"][0]["grade"], "excellent");
        assert_eq!(grades[0]["grades"][0]["count"], 1);

        // A final cycle takes no values: refused, nothing stored.
        let store = app.db.store.as_ref();
        let before = store.cycle_values(id).await.expect("values");
        let r = app
            .cycle_post(&who, &format!("{base}/values"), &values(&[("B03", 99.0)]))
            .await;
        assert_eq!(refusal(&r), (409, "wrong_state".to_owned()), "{}", r.body);
        assert!(r.body.contains("已定稿"), "{}", r.body);
        assert_eq!(store.cycle_values(id).await.expect("values"), before);

        // An amendment needs a reason; with one it recomputes and keeps both revisions.
        let amend = |body: Value| async move {
            app_ref
                .cycle_post(who_ref, &format!("/api/v1/cycles/{id}/amendments"), &body)
                .await
        };
        let r = amend(json!({"reason": "", "columns": ["a", "b"], "people": [{"person_id": "B03", "values": [99, 99]}]})).await;
        assert_eq!(
            refusal(&r),
            (422, "reason_required".to_owned()),
            "{}",
            r.body
        );
        assert_eq!(store.revisions(id).await.expect("revisions").len(), 2);
        assert_eq!(store.cycle_values(id).await.expect("values"), before);
        let r = amend(json!({"reason": "B03 的任务完成数据录入错误，据原始台账更正", "columns": ["a", "b"], "people": [{"person_id": "B03", "values": [99, 99]}]})).await;
        let amended = expect(&app, &r, 201, "amend");
        assert_eq!(amended["revision"], 3);
        assert_eq!(amended["corrects"], 2);
        let b03 = amended["changed"]
            .as_array()
            .expect("changed")
            .iter()
            .find(|c| c["person_id"] == "B03")
            .expect("B03 changed");
        assert!(close(&b03["before"]["score"], 75.0), "{b03}");
        assert!(close(&b03["after"]["score"], 99.0), "{b03}");
        let shown = expect(&app, &app.cycle_get(&who, &base).await, 200, "cycle");
        let kinds: Vec<&str> = shown["revisions"]
            .as_array()
            .expect("revisions")
            .iter()
            .filter_map(|r| r["kind"].as_str())
            .collect();
        assert_eq!(kinds, ["compute", "final", "amendment"]);
        assert_eq!(
            shown["revisions"][2]["reason"],
            "B03 的任务完成数据录入错误，据原始台账更正"
        );
        assert_eq!(shown["revisions"][2]["current"], true);
        let old = expect(
            &app,
            &app.cycle_get(&who, &format!("{base}/results?revision=2&unit=340111"))
                .await,
            200,
            "final revision",
        );
        assert!(close(&row(&old, "B03")["score"], 75.0), "{old}");
        let new = expect(
            &app,
            &app.cycle_get(&who, &format!("{base}/results?unit=340111"))
                .await,
            200,
            "amendment",
        );
        assert_eq!(new["revision"], 3);
        assert_eq!(new["revision_kind"], "amendment");
        assert!(close(&row(&new, "B03")["score"], 99.0), "{new}");
        assert_eq!(row(&new, "B03")["grade"], "excellent");
        let shu = expect(
            &app,
            &app.cycle_get(&who, &format!("{base}/results?unit=340104"))
                .await,
            200,
            "amendment of 蜀山区",
        );
        assert_eq!(row(&shu, "S01")["rule"], "committee:award_top");
        app.finish().await;
    }
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    for app in spawn_apps().await {
        seed_county(&app).await;
        let who = app
            .account("kaoheyuan", &["assessor"], &["340100"], None)
            .await;
        let id = collecting_cycle(&app, &who).await;
        let store = app.db.store.as_ref();
        let base = format!("/api/v1/cycles/{id}");

        // A framework version that is not stored.
        let cycles = store.cycles().await.expect("cycles").len();
        let mut body = cycle_json(&["340104"]);
        body["framework_version"] = json!("9");
        let r = app.cycle_post(&who, "/api/v1/cycles", &body).await;
        assert_eq!(
            refusal(&r),
            (422, "invalid_framework".to_owned()),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("web_annual") && r.body.contains('9'),
            "{}",
            r.body
        );
        // A period that is not a calendar year, a unit that does not exist, a bad date.
        let mut body = cycle_json(&["340104"]);
        body["to"] = json!("2025-06-30");
        let r = app.cycle_post(&who, "/api/v1/cycles", &body).await;
        assert_eq!(
            refusal(&r),
            (422, "invalid_period".to_owned()),
            "{}",
            r.body
        );
        let r = app
            .cycle_post(&who, "/api/v1/cycles", &cycle_json(&["340104", "349999"]))
            .await;
        assert_eq!(refusal(&r), (422, "unknown_units".to_owned()), "{}", r.body);
        assert!(r.body.contains("349999"), "{}", r.body);
        let mut body = cycle_json(&["340104"]);
        body["from"] = json!("2025-13-01");
        let r = app.cycle_post(&who, "/api/v1/cycles", &body).await;
        assert_eq!(r.json()["error"]["field"], "from", "{}", r.body);
        assert_eq!(store.cycles().await.expect("cycles").len(), cycles);

        // A person outside the scope, named with the row; a malformed row: nothing stored.
        let before = store.cycle_values(id).await.expect("values");
        let r = app
            .cycle_post(
                &who,
                &format!("{base}/values"),
                &values(&[("S01", 50.0), ("C004", 50.0)]),
            )
            .await;
        assert_eq!(
            refusal(&r),
            (422, "invalid_values".to_owned()),
            "{}",
            r.body
        );
        let message = r.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.contains("row 2") && message.contains("C004"),
            "{message}"
        );
        let r = app
            .cycle_post(
                &who,
                &format!("{base}/values"),
                &json!({"columns": ["a", "b"], "people": [{"person_id": "S01", "values": [1]}]}),
            )
            .await;
        assert_eq!(r.json()["error"]["field"], "people[0].values", "{}", r.body);
        let r = app
            .cycle_post(
                &who,
                &format!("{base}/values"),
                &json!({"columns": ["a", "nope"], "people": [{"person_id": "S01", "unit_id": "340111", "values": [1, 2]}]}),
            )
            .await;
        assert_eq!(
            refusal(&r),
            (422, "invalid_values".to_owned()),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("nope") && r.body.contains("340104"),
            "every problem: {}",
            r.body
        );
        assert_eq!(store.cycle_values(id).await.expect("values"), before);

        // A second computation while one runs.
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        store
            .begin_compute(id, "held-by-the-test", now, 3600)
            .await
            .expect("mark");
        let r = app
            .cycle_post(&who, &format!("{base}/compute"), &json!({}))
            .await;
        assert_eq!(refusal(&r), (409, "conflict".to_owned()), "{}", r.body);
        assert!(r.body.contains("under way"), "{}", r.body);
        assert!(store.revisions(id).await.expect("revisions").is_empty());
        let cycle = store.cycle(id).await.expect("cycle").expect("stored");
        assert_eq!(cycle.revision, 0);
        assert_eq!(kaohe_domain::Labeled::code(cycle.state), "collecting");
        store
            .end_compute(id, "held-by-the-test")
            .await
            .expect("mark cleared");
        let r = app
            .cycle_post(&who, &format!("{base}/compute"), &json!({}))
            .await;
        expect(&app, &r, 200, "compute after the mark");

        // Steps out of order, an unknown cycle, a malformed body.
        let r = app
            .cycle_post(&who, &format!("{base}/open"), &json!({}))
            .await;
        assert_eq!(refusal(&r), (409, "wrong_state".to_owned()), "{}", r.body);
        let r = app
            .cycle_post(&who, &format!("{base}/finalize"), &json!({}))
            .await;
        assert_eq!(refusal(&r), (409, "wrong_state".to_owned()), "{}", r.body);
        let r = app
            .cycle_post(
                &who,
                &format!("{base}/amendments"),
                &json!({"reason": "更正"}),
            )
            .await;
        assert_eq!(refusal(&r), (409, "wrong_state".to_owned()), "{}", r.body);
        let r = app.cycle_get(&who, "/api/v1/cycles/999").await;
        assert_eq!(refusal(&r), (404, "not_found".to_owned()), "{}", r.body);
        let r = app
            .post_as(&who, "/api/v1/cycles", "application/json", "{".to_owned())
            .await;
        assert_eq!(refusal(&r), (422, "invalid_field".to_owned()), "{}", r.body);
        app.finish().await;
    }
}

#[tokio::test]
async fn officials_leaders_and_other_assessors_see_only_their_own() {
    for app in spawn_apps().await {
        seed_county(&app).await;
        let who = app
            .account("kaoheyuan", &["assessor"], &["340100"], None)
            .await;
        let chair = app
            .account("weiyuan", &["assessor"], &["340100"], None)
            .await;
        let official = app.account("s01", &["official"], &[], Some("S01")).await;
        let leader = app
            .account("shushan", &["unit_leader"], &["340104"], None)
            .await;
        let outsider = app
            .account("luyang", &["assessor"], &["340103"], None)
            .await;
        let id = collecting_cycle(&app, &who).await;
        let base = format!("/api/v1/cycles/{id}");
        let r = app
            .cycle_post(&who, &format!("{base}/compute"), &json!({}))
            .await;
        expect(&app, &r, 200, "compute");

        // Before final, nothing of the cycle is theirs to see or do.
        for account in [&official, &leader] {
            for path in [
                "/api/v1/cycles".to_owned(),
                "/api/v1/frameworks".to_owned(),
                base.clone(),
                format!("{base}/results"),
                format!("{base}/committee"),
            ] {
                let r = app.cycle_get(account, &path).await;
                assert_eq!(r.status, 403, "{}: {path}: {}", app.name, r.body);
            }
            for (path, body) in [
                ("/api/v1/cycles".to_owned(), cycle_json(&["340104"])),
                (format!("{base}/compute"), json!({})),
                (format!("{base}/values"), values(&[("S01", 100.0)])),
                (format!("{base}/review"), json!({})),
                (format!("{base}/finalize"), json!({})),
                (
                    format!("{base}/decisions"),
                    json!({"person": "S01", "decision": "award_top", "reason": "x"}),
                ),
            ] {
                let r = app.cycle_post(account, &path, &body).await;
                assert_eq!(r.status, 403, "{}: POST {path}: {}", app.name, r.body);
            }
        }
        let mine = expect(
            &app,
            &app.cycle_get(&official, "/api/v1/cadres/S01/results").await,
            200,
            "own results before final",
        );
        assert_eq!(mine["items"], json!([]));
        let unit = expect(
            &app,
            &app.cycle_get(&leader, "/api/v1/cadres/S02/results").await,
            200,
            "unit's results before final",
        );
        assert_eq!(unit["items"], json!([]));
        let unit = expect(
            &app,
            &app.cycle_get(&leader, "/api/v1/units/340104/results").await,
            200,
            "unit's results before final",
        );
        assert_eq!(unit["items"], json!([]));

        // An assessor outside the cycle's units: not listed, refused.
        let list = expect(
            &app,
            &app.cycle_get(&outsider, "/api/v1/cycles").await,
            200,
            "outsider's list",
        );
        assert_eq!(list["items"], json!([]));
        let listed = expect(
            &app,
            &app.cycle_get(&who, "/api/v1/cycles").await,
            200,
            "list",
        );
        assert_eq!(listed["items"][0]["id"], id);
        for path in [
            base.clone(),
            format!("{base}/results"),
            format!("{base}/completeness"),
        ] {
            let r = app.cycle_get(&outsider, &path).await;
            assert_eq!(r.status, 403, "{}: {path}: {}", app.name, r.body);
        }
        for step in ["compute", "review"] {
            let r = app
                .cycle_post(&outsider, &format!("{base}/{step}"), &json!({}))
                .await;
            assert_eq!(r.status, 403, "{}: {step}: {}", app.name, r.body);
        }
        let r = app
            .cycle_post(&outsider, "/api/v1/cycles", &cycle_json(&["340104"]))
            .await;
        assert_eq!(r.status, 403, "{}: create outside: {}", app.name, r.body);
        let r = app.cycle_get(&outsider, "/api/v1/cadres/S01/results").await;
        assert_eq!(r.status, 403, "{}", r.body);

        // Final: an official sees their own result and nobody else's; a unit leader their
        // unit's.
        let r = app
            .cycle_post(&who, &format!("{base}/compute"), &json!({}))
            .await;
        expect(&app, &r, 200, "compute again");
        finish(&app, &who, &chair, id).await;
        let mine = expect(
            &app,
            &app.cycle_get(&official, "/api/v1/cadres/S01/results").await,
            200,
            "own results",
        );
        assert_eq!(mine["items"].as_array().map(Vec::len), Some(1), "{mine}");
        assert_eq!(mine["items"][0]["cycle"]["id"], id);
        assert_eq!(mine["items"][0]["cycle"]["state"], "final");
        assert_eq!(mine["items"][0]["result"]["grade"], "excellent");
        assert_eq!(mine["items"][0]["result"]["name"], "干部S01");
        for other in ["S02", "B01", "C003"] {
            let r = app
                .cycle_get(&official, &format!("/api/v1/cadres/{other}/results"))
                .await;
            assert_eq!(r.status, 403, "{}: {other}: {}", app.name, r.body);
        }
        let r = app.cycle_get(&official, &format!("{base}/results")).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let theirs = expect(
            &app,
            &app.cycle_get(&leader, "/api/v1/cadres/S02/results").await,
            200,
            "the unit's results",
        );
        assert_eq!(theirs["items"][0]["result"]["rule"], "committee:keep_next");
        let r = app.cycle_get(&leader, "/api/v1/cadres/B01/results").await;
        assert_eq!(r.status, 403, "{}: {}", app.name, r.body);
        let unit = expect(
            &app,
            &app.cycle_get(&leader, "/api/v1/units/340104/results").await,
            200,
            "the unit's results",
        );
        assert_eq!(unit["items"].as_array().map(Vec::len), Some(1), "{unit}");
        assert_eq!(unit["items"][0]["cycle"]["id"], id);
        let people: Vec<&str> = unit["items"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter_map(|r| r["person_id"].as_str())
            .collect();
        assert_eq!(people, ["S01", "S02", "S03", "S04", "S05"]);
        let r = app.cycle_get(&leader, "/api/v1/units/340111/results").await;
        assert_eq!(r.status, 403, "{}: {}", app.name, r.body);
        let r = app
            .cycle_get(&official, "/api/v1/units/340104/results")
            .await;
        assert_eq!(r.status, 403, "{}: {}", app.name, r.body);
        let r = app
            .cycle_get(&outsider, "/api/v1/units/340104/results")
            .await;
        assert_eq!(r.status, 403, "{}: {}", app.name, r.body);
        let other = expect(
            &app,
            &app.cycle_get(&who, "/api/v1/units/340111/results").await,
            200,
            "assessor of the unit",
        );
        assert_eq!(
            other["items"][0]["results"].as_array().map(Vec::len),
            Some(5)
        );
        let r = app.cycle_get(&leader, &format!("{base}/results")).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let r = app
            .cycle_post(
                &official,
                &format!("{base}/amendments"),
                &json!({"reason": "我有异议"}),
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
        // The assessor of the units sees every cadre's results.
        let all = expect(
            &app,
            &app.cycle_get(&who, "/api/v1/cadres/B01/results").await,
            200,
            "assessor",
        );
        assert_eq!(all["items"][0]["result"]["grade"], "excellent");
        app.finish().await;
    }
}

#[tokio::test]
async fn the_openapi_document_lists_the_cycle_paths() {
    for app in spawn_apps().await {
        let doc = app.get("/api/v1/openapi.json").await.json();
        for (path, methods) in [
            ("/api/v1/frameworks", &["get", "post"][..]),
            ("/api/v1/cycles", &["get", "post"]),
            ("/api/v1/cycles/{id}", &["get"]),
            ("/api/v1/cycles/{id}/open", &["post"]),
            ("/api/v1/cycles/{id}/values", &["post"]),
            ("/api/v1/cycles/{id}/compute", &["post"]),
            ("/api/v1/cycles/{id}/completeness", &["get"]),
            ("/api/v1/cycles/{id}/review", &["post"]),
            ("/api/v1/cycles/{id}/committee", &["get"]),
            ("/api/v1/cycles/{id}/decisions", &["post"]),
            ("/api/v1/cycles/{id}/finalize", &["post"]),
            ("/api/v1/cycles/{id}/amendments", &["post"]),
            ("/api/v1/cycles/{id}/results", &["get"]),
            ("/api/v1/cadres/{id}/results", &["get"]),
            ("/api/v1/units/{code}/results", &["get"]),
        ] {
            for m in methods {
                assert!(
                    doc["paths"][path][m].is_object(),
                    "{}: {m} {path} missing",
                    app.name
                );
                assert_eq!(doc["paths"][path][m]["tags"][0], "cycles", "{path}");
            }
        }
        for schema in ["CycleDetailOut", "CommitteeOut", "ResultsOut", "ValuesIn"] {
            assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
        }
        app.finish().await;
    }
}
