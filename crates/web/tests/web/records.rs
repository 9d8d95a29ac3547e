//! Work records (纪实) on the web: the form with evidence, the verification queue and four eyes,
//! the scope of assessors and officials, evidence served as an attachment with its hash
//! checked, amendments, the import all or nothing with errors by row and column, the export,
//! and the JSON API. Seed (helpers.rs): C003 serves in 瑶海区 340102, C004 in 庐阳区 340103.

use crate::accounts::csrf_in;
use crate::helpers::{Fetched, TestApp, spawn_apps_with_evidence};
use kaohe_store::files::Vault;
use serde_json::{Value, json};

/// A small valid PNG (a 1×1 white pixel).
pub(crate) const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xDE, 0x00, 0x00, 0x00, 0x0C, 0x49, 0x44, 0x41, 0x54, 0x08, 0xD7, 0x63, 0xF8, 0xFF, 0xFF, 0x3F,
    0x00, 0x05, 0xFE, 0x02, 0xFE, 0xA7, 0x35, 0x81, 0x84, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E,
    0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// The largest evidence file of the test servers.
const UPLOAD_LIMIT: usize = 64 * 1024;

/// The indicator of the work results of the routine preset: 0.5 to 10 points a record.
const INDICATOR: &str = "routine_quarterly/routine_ji";

/// A signed-in account of a test server.
struct As<'a> {
    app: &'a TestApp,
    token: String,
    cookie: String,
    csrf: String,
}

impl<'a> As<'a> {
    async fn new(
        app: &'a TestApp,
        name: &str,
        roles: &[&str],
        units: &[&str],
        cadre: Option<&str>,
    ) -> Self {
        let token = app.sign_in_as(name, roles, units, cadre).await;
        let cookie = format!("kaohe_session={token}");
        let page = app.get_as(Some(&token), "/account").await;
        Self {
            app,
            token,
            cookie,
            csrf: csrf_in(&page),
        }
    }

    async fn get(&self, path: &str) -> Fetched {
        self.app.get_as(Some(&self.token), path).await
    }

    /// The raw bytes and headers of a GET.
    async fn download(&self, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let r = self
            .app
            .client
            .get(format!("{}{path}", self.app.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("GET");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.bytes().await.expect("body").to_vec())
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Fetched {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(form);
        self.app.post_form(path, &self.cookie, &all).await
    }

    /// `POST path` as `multipart/form-data` with the CSRF token, text fields and files
    /// (field name, file name, bytes).
    async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Fetched {
        let boundary = "kaohe-records-boundary-5d1e";
        let mut body = Vec::new();
        for (name, value) in std::iter::once(&("csrf", self.csrf.as_str())).chain(fields) {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
            );
        }
        for (field, file_name, bytes) in files {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let response = self
            .app
            .client
            .post(format!("{}{path}", self.app.base))
            .header("cookie", &self.cookie)
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

    async fn post_json(&self, path: &str, body: &Value) -> Fetched {
        let response = self
            .app
            .client
            .post(format!("{}{path}", self.app.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("POST");
        Fetched::read(response).await
    }
}

fn today() -> String {
    time::OffsetDateTime::now_utc()
        .to_offset(kaohe_web::CHINA_STANDARD_TIME)
        .date()
        .to_string()
}

/// The fields of a field visit of C003 worth `points`.
fn visit(points: &str, date: &str) -> Vec<(&'static str, String)> {
    vec![
        ("cadre", "C003".into()),
        ("date", date.into()),
        ("indicator", INDICATOR.into()),
        ("kind", "positive".into()),
        ("points", points.into()),
        ("source", "field_visit".into()),
        ("description", "到村里查看防汛工作，现场解决两处隐患".into()),
    ]
}

fn pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn servers(dir: &std::path::Path) -> Vec<TestApp> {
    let auth = kaohe_web::shell::auth::AuthSettings {
        login_burst: 100,
        ..kaohe_web::shell::auth::AuthSettings::default()
    };
    let dir = dir.to_path_buf();
    // Evidence files of at most 64 KiB.
    let apps = spawn_apps_with_evidence(auth, move |name| {
        (Vault::Directory(dir.join(name)), Some(UPLOAD_LIMIT))
    })
    .await;
    for app in &apps {
        kaohe_store::cycles::work::store_presets(app.db.store.as_ref(), "test")
            .await
            .expect("presets");
    }
    apps
}

#[tokio::test]
async fn records_form_queue_four_eyes_scope_and_evidence() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for app in servers(dir.path()).await {
        let name = app.name;
        let a1 = As::new(&app, "rec_a1", &["assessor"], &["340000"], None).await;
        let a2 = As::new(&app, "rec_a2", &["assessor"], &["340000"], None).await;
        let other = As::new(&app, "rec_other", &["assessor"], &["340103"], None).await;
        let own = As::new(&app, "rec_c003", &["official"], &[], Some("C003")).await;
        let c004 = As::new(&app, "rec_c004", &["official"], &[], Some("C004")).await;

        // The form: one column, the indicator grouped by framework with its range, files
        // from the phone's camera or documents.
        let form = a1.get("/records/new?cadre=C003").await;
        assert_eq!(form.status, 200, "{name}");
        assert!(form.body.contains(&format!("value=\"{INDICATOR}\"")));
        assert!(
            form.body
                .contains("<optgroup label=\"公务员平时考核（季度）"),
            "{}",
            form.body
        );
        assert!(form.body.contains("每条 0.5–10 分"));
        assert!(form.body.contains("accept=\"image/*,application/pdf"));
        assert!(form.body.contains("value=\"C003\""));
        assert!(form.body.contains("现场看"));

        // Refused fields are named, the input kept.
        let today = today();
        let out_of_range = visit("99", &today);
        let r = a1
            .post_multipart("/records/new", &pairs(&out_of_range), &[])
            .await;
        assert_eq!(r.status, 422, "{name}: {}", r.body);
        assert!(
            r.body.contains("分值：分值超出该指标允许的范围"),
            "{}",
            r.body
        );
        assert!(r.body.contains("到村里查看防汛工作"), "input kept");
        assert!(r.body.contains("aria-invalid=\"true\""));
        let future = visit("2", "2999-01-01");
        let r = a1
            .post_multipart("/records/new", &pairs(&future), &[])
            .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("日期：日期不能晚于今天"), "{}", r.body);
        let fields = visit("2", &today);
        let r = a1
            .post_multipart(
                "/records/new",
                &pairs(&fields),
                &[("files", "photo.png", b"not a picture")],
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("证据文件："), "{}", r.body);
        let mut big = PNG.to_vec();
        big.resize(UPLOAD_LIMIT + 1, 0);
        let r = a1
            .post_multipart(
                "/records/new",
                &pairs(&fields),
                &[("files", "big.png", &big)],
            )
            .await;
        assert_eq!(r.status, 422, "over the upload limit");
        assert!(r.body.contains("证据文件："), "{}", r.body);
        assert!(
            r.body.contains("单个不超过 64 KB"),
            "the limit in words: {}",
            r.body
        );
        let mut unknown = visit("2", &today);
        unknown[0].1 = "C999".into();
        let r = a1
            .post_multipart("/records/new", &pairs(&unknown), &[])
            .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("干部编号：没有这名干部"), "{}", r.body);
        // An assessor of another unit cannot record facts of C003.
        let r = other
            .post_multipart("/records/new", &pairs(&fields), &[])
            .await;
        assert_eq!(r.status, 403, "{name}: {}", r.body);

        // A field visit with a photo.
        let r = a1
            .post_multipart(
                "/records/new",
                &pairs(&fields),
                &[("files", "现场照片.png", PNG)],
            )
            .await;
        assert_eq!(r.status, 303, "{name}: {}", r.body);
        assert_eq!(r.header("location"), "/records/1");
        let page = a1.get("/records/1").await;
        assert!(page.body.contains("待核实") && page.body.contains("现场照片.png"));
        assert!(page.body.contains("工作实绩"), "the indicator by name");
        assert!(page.body.contains("id=\"four-eyes\""), "{}", page.body);

        // The queue: the recorder sees it but cannot decide it.
        let queue = a1.get("/records/queue").await;
        assert!(queue.body.contains("id=\"record-1\""), "{}", queue.body);
        assert!(queue.body.contains("须由另一名考核人员核实"));
        assert!(!queue.body.contains("action=\"/records/1/review\""));
        let r = a1
            .post("/records/1/review", &[("verdict", "verified")])
            .await;
        assert_eq!(r.status, 403, "four eyes: {}", r.body);
        assert!(r.body.contains("双人复核"));
        // Outside the scope: not shown, not readable, not decidable.
        assert!(!other.get("/records/queue").await.body.contains("record-1"));
        assert_eq!(other.get("/records/1").await.status, 403);
        assert_eq!(other.get("/cadres/C003/records").await.status, 403);
        assert_eq!(other.get("/records/1/files/1").await.status, 403);
        let r = other
            .post("/records/1/review", &[("verdict", "verified")])
            .await;
        assert_eq!(r.status, 403);
        // The home page tells the second assessor, not the recorder; the menu has the queue.
        let home = a2.get("/").await;
        assert!(home.body.contains("1 条纪实待您核实"), "{}", home.body);
        assert!(home.body.contains("href=\"/records/queue\""));
        assert!(!a1.get("/").await.body.contains("id=\"to-verify\""));
        assert!(own.get("/").await.body.contains("href=\"/my/records\""));
        // A rejection needs a reason.
        let queue = a2.get("/records/queue").await;
        assert!(queue.body.contains("action=\"/records/1/review\""));
        let r = a2
            .post(
                "/records/1/review",
                &[("verdict", "rejected"), ("reason", " ")],
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("理由：请填写理由"), "{}", r.body);
        assert!(a2.get("/records/1").await.body.contains("待核实"));
        // The second assessor verifies it and goes back to the queue.
        let r = a2
            .post(
                "/records/1/review",
                &[("verdict", "verified"), ("next", "/records/queue")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(r.header("location"), "/records/queue");
        assert!(
            a2.get("/records/queue")
                .await
                .body
                .contains("id=\"queue-empty\"")
        );
        let r = a2
            .post(
                "/records/1/review",
                &[("verdict", "rejected"), ("reason", "x")],
            )
            .await;
        assert_eq!(r.status, 409, "reviewed once");

        // The official sees it on their own timeline, in words, with the photo.
        let mine = own.get("/my/records").await;
        assert_eq!(mine.status, 200);
        assert!(mine.body.contains("已核实") && mine.body.contains("现场照片.png"));
        assert!(mine.body.contains("现场看") && mine.body.contains("+2"));
        assert!(mine.body.contains("rec_a2"), "who verified");
        assert!(!mine.body.contains("field_visit") && !mine.body.contains("routine_ji"));
        assert_eq!(own.get("/records/1").await.status, 200);
        assert_eq!(c004.get("/records/1").await.status, 403);
        assert!(!c004.get("/my/records").await.body.contains("record-1"));
        assert_eq!(own.get("/cadres/C003/records").await.status, 403);
        // The cadre page links the timeline; the timeline escapes names.
        let cadre = a1.get("/cadres/C003").await;
        assert!(cadre.body.contains("href=\"/cadres/C003/records\""));
        assert!(
            own.get("/cadres/C003")
                .await
                .body
                .contains("href=\"/my/records\"")
        );
        let timeline = a1.get("/cadres/C003/records").await;
        assert!(timeline.body.contains("id=\"record-1\""));
        assert!(timeline.body.contains("/lang/en"), "language switch");
        let english = a1.get("/cadres/C003/records?lang=en").await;
        assert!(english.body.contains("Verified") && english.body.contains("Field visit"));
        assert!(english.body.contains("王五 (C003)"), "{}", english.body);

        // Evidence: an attachment, never inline, never sniffed, never cached, as stored.
        let (status, headers, bytes) = own.download("/records/1/files/1").await;
        assert_eq!(status, 200, "{name}");
        let header = |h: &str| {
            headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(header("content-disposition").starts_with("attachment;"));
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("cache-control"), "no-store");
        assert_eq!(header("content-type"), "image/png");
        assert_eq!(bytes, PNG);
        assert_eq!(own.get("/records/1/files/9").await.status, 404);
        // A file changed behind the store's back is refused, not served.
        let sha = kaohe_store::files::sha256_hex(PNG);
        let stored = dir.path().join(name).join(&sha[..2]).join(&sha);
        std::fs::write(&stored, b"\x89PNG\r\n\x1a\nchanged").expect("tamper");
        let r = own.get("/records/1/files/1").await;
        assert_eq!(r.status, 409, "{}", r.body);
        let r = own.get("/api/v1/records/1/files/1").await;
        assert_eq!(r.json()["error"]["code"], "evidence_changed");
        std::fs::write(&stored, PNG).expect("restore");

        // An amendment needs a reason, keeps both records, and names the one it corrects.
        let mut amend = visit("3", &today);
        amend.remove(0);
        let mut form = pairs(&amend);
        form.push(("reason", ""));
        let r = a1.post("/records/1/amend", &form).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("理由：请填写理由"), "{}", r.body);
        form.pop();
        form.push(("reason", "分值录入有误"));
        let r = a1.post("/records/1/amend", &form).await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(r.header("location"), "/records/2");
        let amendment = own.get("/records/2").await;
        assert!(
            amendment
                .body
                .contains("更正第 1 号纪实，理由：分值录入有误")
        );
        assert!(amendment.body.contains("被更正的纪实"));
        let waiting = a1.get("/records/1").await;
        assert!(
            waiting.body.contains("id=\"amendment-pending\""),
            "{}",
            waiting.body
        );
        assert!(
            !waiting.body.contains("id=\"amend-form\""),
            "one correction at a time"
        );
        let original = own.get("/records/1").await;
        assert!(
            original.body.contains("href=\"/records/2\""),
            "{}",
            original.body
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn records_import_is_all_or_nothing_and_export_speaks_words() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for app in servers(dir.path()).await {
        let name = app.name;
        let a1 = As::new(&app, "imp_a1", &["assessor"], &["340102"], None).await;
        let today = today();
        // The form offers the officials of the assessor's units to pick, no others.
        let form = a1.get("/records/new").await;
        assert!(
            form.body.contains("<option value=\"C003\">王五 · "),
            "{}",
            form.body
        );
        assert!(!form.body.contains("<option value=\"C004\">"));
        let head = "干部编号,日期,类别,指标体系,指标,分值,来源,事实描述\n";
        let bad = format!(
            "{head}C003,{today},正向,routine_quarterly,routine_ji,2,现场看,走访\n\
             C003,{today},正向,routine_quarterly,routine_ji,abc,现场看,走访\n\
             C999,{today},正向,routine_quarterly,routine_ji,1,具体事,办结\n\
             C003,{today},斜向,routine_quarterly,routine_ji,1,具体事,办结\n"
        );
        let r = a1
            .post_multipart(
                "/records/import",
                &[],
                &[("file", "纪实.csv", bad.as_bytes())],
            )
            .await;
        assert_eq!(r.status, 422, "{name}: {}", r.body);
        assert!(r.body.contains("第 3 行，“分值”列"), "{}", r.body);
        assert!(
            r.body.contains("第 4 行，“干部编号”列：没有这名干部"),
            "{}",
            r.body
        );
        assert!(r.body.contains("第 5 行，“类别”列"), "{}", r.body);
        // Out of the indicator's range: found by the steps of records, named by row.
        let range = format!(
            "{head}C003,{today},正向,routine_quarterly,routine_ji,2,现场看,走访\n\
             C003,{today},正向,routine_quarterly,routine_ji,20,现场看,走访\n"
        );
        let r = a1
            .post_multipart(
                "/records/import",
                &[],
                &[("file", "纪实.csv", range.as_bytes())],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("第 3 行，“分值”列"), "{}", r.body);
        let none = a1.get("/api/v1/records").await.json();
        assert_eq!(none["total"], 0, "nothing imported: {none}");
        // C004 serves outside the assessor's units.
        let outside =
            format!("{head}C004,{today},正向,routine_quarterly,routine_ji,2,现场看,走访\n");
        let r = a1
            .post_multipart(
                "/records/import",
                &[],
                &[("file", "x.csv", outside.as_bytes())],
            )
            .await;
        assert!(r.body.contains("不在您的工作范围内"), "{}", r.body);

        // English headers and codes.
        let good = format!(
            "cadre,date,kind,framework,indicator,points,source,description\n\
             C003,{today},positive,routine_quarterly,routine_ji,2,field_visit,walked the villages\n\
             C002,{today},negative,routine_quarterly,routine_ji,1,public_opinion,=HYPERLINK(\"x\")\n"
        );
        let r = a1
            .post_multipart(
                "/records/import",
                &[],
                &[("file", "records.csv", good.as_bytes())],
            )
            .await;
        assert_eq!(r.status, 303, "{name}: {}", r.body);
        let done = a1.get(r.header("location")).await;
        assert!(done.body.contains("id=\"imported\""), "{}", done.body);
        assert_eq!(a1.get("/api/v1/records").await.json()["total"], 2);
        // An XLSX file with Chinese headers and labels.
        let xlsx_dir = tempfile::tempdir().expect("temporary directory");
        let path = xlsx_dir.path().join("纪实.xlsx");
        let header: Vec<String> = [
            "干部编号",
            "日期",
            "类别",
            "指标体系",
            "指标",
            "分值",
            "来源",
            "事实描述",
        ]
        .iter()
        .map(|h| (*h).to_owned())
        .collect();
        let text = |s: &str| kaohe_data::WideCell::Text(s.to_owned());
        let row = vec![
            text("C003"),
            text(&today),
            text("反向"),
            text("routine_quarterly"),
            text("routine_ji"),
            kaohe_data::WideCell::Number(1.0),
            text("群众说"),
            text("群众反映办事推诿"),
        ];
        kaohe_data::write_wide(&path, &header, &[row]).expect("xlsx written");
        let bytes = std::fs::read(&path).expect("xlsx");
        let r = a1
            .post_multipart("/records/import", &[], &[("file", "纪实.xlsx", &bytes)])
            .await;
        assert_eq!(r.status, 303, "{name}: {}", r.body);
        let listed = a1.get("/api/v1/records?cadre=C003").await.json();
        assert!(
            listed["items"]
                .as_array()
                .expect("items")
                .iter()
                .any(|r| r["kind"] == "negative" && r["source"] == "public_opinion"),
            "{listed}"
        );

        // The export: Chinese headers and labels, English with lang=en, formulas guarded.
        let csv = a1.get("/records/export.csv").await;
        assert_eq!(csv.status, 200);
        assert!(csv.header("content-disposition").starts_with("attachment"));
        assert!(
            csv.body.contains("干部编号") && csv.body.contains("事实描述"),
            "{}",
            csv.body
        );
        assert!(
            csv.body.contains("正向") && csv.body.contains("现场看") && csv.body.contains("待核实")
        );
        assert!(csv.body.contains("'=HYPERLINK"), "{}", csv.body);
        let one = a1.get("/records/export.csv?cadre=C002").await;
        assert!(
            one.body.contains("C002") && !one.body.contains("C003"),
            "{}",
            one.body
        );
        assert_eq!(a1.get("/records/export.csv?cadre=C004").await.status, 403);
        assert_eq!(a1.get("/records/export.csv?from=soon").await.status, 422);
        let en = a1.get("/records/export.csv?lang=en").await;
        assert!(
            en.body.contains("cadre") && en.body.contains("Positive"),
            "{}",
            en.body
        );
        let xlsx = a1.download("/records/export.xlsx").await;
        assert_eq!(xlsx.0, 200);
        assert!(xlsx.2.starts_with(b"PK"));
        app.finish().await;
    }
}

#[tokio::test]
async fn records_api_round_trip() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for app in servers(dir.path()).await {
        let name = app.name;
        let a1 = As::new(&app, "api_a1", &["assessor"], &["340000"], None).await;
        let a2 = As::new(&app, "api_a2", &["assessor"], &["340000"], None).await;
        let other = As::new(&app, "api_other", &["assessor"], &["340103"], None).await;
        let own = As::new(&app, "api_c003", &["official"], &[], Some("C003")).await;
        let today = today();
        let record = json!({
            "cadre": "C003", "date": today, "kind": "positive", "framework": "routine_quarterly",
            "indicator": "routine_ji", "points": 2, "source": "concrete_case",
            "description": "牵头办结一件群众反映强烈的积案",
        });
        let r = a1.post_json("/api/v1/records", &record).await;
        assert_eq!(r.status, 201, "{name}: {}", r.body);
        let created = r.json();
        assert_eq!(created["record"]["id"], 1);
        assert_eq!(created["record"]["state"], "recorded");
        assert_eq!(created["record"]["state_label"]["zh"], "待核实");
        // Refusals name the field.
        let mut bad = record.clone();
        bad["points"] = json!(11);
        let r = a1.post_json("/api/v1/records", &bad).await;
        assert_eq!(r.status, 422);
        assert_eq!(r.json()["error"]["field"], "points", "{}", r.body);
        let mut bad = record.clone();
        bad["source"] = json!("rumour");
        assert_eq!(
            a1.post_json("/api/v1/records", &bad).await.json()["error"]["field"],
            "source"
        );
        let r = other.post_json("/api/v1/records", &record).await;
        assert_eq!(r.status, 403);

        // With evidence, as multipart.
        let fields = visit("1.5", &today);
        let r = a1
            .post_multipart(
                "/api/v1/records/upload",
                &pairs(&fields),
                &[("files", "a.png", PNG), ("files", "b.png", PNG)],
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let up = r.json();
        assert_eq!(up["files"].as_array().map(Vec::len), Some(2));
        let href = up["files"][0]["href"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let (status, headers, bytes) = own.download(&href).await;
        assert_eq!(status, 200);
        assert_eq!(bytes, PNG);
        assert!(
            headers["content-disposition"]
                .to_str()
                .unwrap_or_default()
                .starts_with("attachment")
        );

        // Review: four eyes, a reason for a rejection, once.
        let r = a1
            .post_json("/api/v1/records/1/review", &json!({"verdict": "verified"}))
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.json()["error"]["code"], "four_eyes");
        let r = a2
            .post_json("/api/v1/records/1/review", &json!({"verdict": "rejected"}))
            .await;
        assert_eq!(r.json()["error"]["field"], "reason", "{}", r.body);
        let r = other
            .post_json("/api/v1/records/1/review", &json!({"verdict": "verified"}))
            .await;
        assert_eq!(r.status, 403);
        let r = a2
            .post_json("/api/v1/records/1/review", &json!({"verdict": "verified"}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["record"]["state"], "verified");
        assert_eq!(r.json()["record"]["review"]["by"], "api_a2");
        let r = a2
            .post_json("/api/v1/records/1/review", &json!({"verdict": "verified"}))
            .await;
        assert_eq!(r.status, 409);

        // Amendment: a new record naming the old one; both stay.
        let amend = json!({
            "date": today, "kind": "positive", "framework": "routine_quarterly",
            "indicator": "routine_ji", "points": 3, "source": "concrete_case",
            "description": "牵头办结一件积案（更正分值）", "reason": "分值录入有误",
        });
        let r = a1.post_json("/api/v1/records/1/amend", &amend).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let new = r.json()["record"]["id"].as_i64().unwrap_or_default();
        let r = a2
            .post_json(
                &format!("/api/v1/records/{new}/review"),
                &json!({"verdict": "verified"}),
            )
            .await;
        assert_eq!(r.status, 200);
        let detail = own.get("/api/v1/records/1").await.json();
        assert_eq!(detail["record"]["state"], "corrected", "{detail}");
        assert_eq!(detail["amendments"][0]["id"], new);
        assert_eq!(detail["amendments"][0]["reason"], "分值录入有误");
        let corrects = own.get(&format!("/api/v1/records/{new}")).await.json();
        assert_eq!(corrects["corrects"]["id"], 1);

        // Lists: filters, scope; an official sees only their own.
        let pending = a1.get("/api/v1/records?pending=true").await.json();
        assert_eq!(pending["total"], 1, "the upload awaits: {pending}");
        let all = own.get("/api/v1/records").await.json();
        assert_eq!(all["total"], 3);
        assert_eq!(own.get("/api/v1/records?cadre=C004").await.status, 403);
        assert_eq!(other.get("/api/v1/records").await.json()["total"], 0);
        assert_eq!(other.get("/api/v1/records/1").await.status, 403);
        let r = a1.get("/api/v1/records?from=2999-01-01").await.json();
        assert_eq!(r["total"], 0);
        let r = a1.get("/api/v1/records?from=yesterday").await;
        assert_eq!(r.status, 422);
        assert_eq!(r.json()["error"]["parameter"], "from");
        app.finish().await;
    }
}

/// A cycle's indicator scores lead back to the records behind them: the timeline filtered by the
/// framework and period sums the records that count and gives the value the rule gives.
#[tokio::test]
async fn indicator_scores_lead_back_to_their_records() {
    use kaohe_domain::Code;
    use kaohe_domain::records::{RecordKind, RecordSource, Verdict};
    use kaohe_store::records::work::{self, RecordInput};
    let dir = tempfile::tempdir().expect("temporary directory");
    for app in servers(dir.path()).await {
        let store = app.db.store.as_ref();
        let day = time::OffsetDateTime::now_utc().date();
        let fact = |indicator: &str, kind, points| RecordInput {
            cadre: Code::parse("C003").expect("code"),
            date: day,
            kind,
            framework_id: "political_quality_review".to_owned(),
            framework_version: None,
            indicator: indicator.to_owned(),
            points,
            description: "主动请缨参与防汛抢险".to_owned(),
            source: RecordSource::ConcreteCase,
            files: Vec::new(),
        };
        let ids = work::add(
            store,
            &Vault::Database,
            vec![
                fact("loyalty_positive", RecordKind::Positive, 5.0),
                fact("loyalty_positive", RecordKind::Positive, 8.0),
                fact("loyalty_positive", RecordKind::Positive, 9.0),
                fact("loyalty_negative", RecordKind::Negative, 2.0),
            ],
            &[],
            day,
            "tr_a",
        )
        .await
        .expect("records");
        for (k, id) in ids.iter().enumerate() {
            // The third positive record is rejected: it never counts.
            let verdict = if k == 2 {
                Verdict::Rejected
            } else {
                Verdict::Verified
            };
            work::review(store, *id, verdict, "不实", "tr_b")
                .await
                .expect("review");
        }
        let a = As::new(&app, "tr_view", &["assessor"], &["340102"], None).await;
        let page = a
            .get(&format!(
                "/cadres/C003/records?framework=political_quality_review&from={day}&to={day}"
            ))
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        let rows = page.table_rows("trace-table");
        let loyalty = rows
            .iter()
            .find(|r| r.contains("政治忠诚正向"))
            .unwrap_or_else(|| panic!("{rows:?}"));
        // 60 + 5 + 8: two records counted.
        assert!(
            loyalty.contains("73.00") && loyalty.contains('2'),
            "{loyalty}"
        );
        let findings = rows
            .iter()
            .find(|r| r.contains("政治忠诚反向"))
            .unwrap_or_else(|| panic!("{rows:?}"));
        assert!(findings.contains("2.00"), "{findings}");
        app.finish().await;
    }
}
