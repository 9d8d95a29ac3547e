//! Accounts, login, sessions, CSRF, security headers, and the route × role matrix.

use crate::helpers::{Fetched, TestApp, spawn_apps, spawn_apps_with, spawn_apps_with_settings};
use kaohe_domain::access::totp;
use kaohe_domain::{Code, Labeled, Role};
use kaohe_store::NewUser;
use std::collections::{BTreeMap, BTreeSet};

/// Password of every test account.
pub(crate) const PASSWORD: &str = "Test-Password-2025";

pub(crate) fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn set_cookie_value(r: &Fetched, name: &str) -> Option<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")).map(str::to_owned))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
}

fn set_cookie_header(r: &Fetched, name: &str) -> String {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_default()
        .to_owned()
}

impl TestApp {
    /// Creates an account; returns its TOTP secret (base32) for administrator roles.
    pub(crate) async fn create_user(
        &self,
        username: &str,
        roles: &[&str],
        units: &[&str],
        cadre: Option<&str>,
    ) -> Option<String> {
        let roles: BTreeSet<Role> = roles
            .iter()
            .map(|r| Role::parse_label(r).expect("role"))
            .collect();
        let secret = roles
            .iter()
            .any(|r| r.requires_totp())
            .then(kaohe_web::shell::auth::new_totp_secret);
        let user = NewUser {
            username: username.into(),
            display_name: username.into(),
            password_hash: kaohe_web::shell::auth::hash_password(PASSWORD).expect("hash"),
            roles,
            units: units
                .iter()
                .map(|u| Code::parse(u).expect("unit"))
                .collect(),
            cadre: cadre.map(|c| Code::parse(c).expect("cadre")),
            totp_secret: secret.clone(),
            must_change_password: false,
        };
        let audit = kaohe_domain::NewAuditEntry::new("test", "user.create", username);
        assert!(
            self.db
                .store
                .create_user(&user, unix_now(), &audit)
                .await
                .expect("create user")
        );
        secret
    }

    /// `POST path` with a urlencoded form and a cookie header.
    pub(crate) async fn post_form(
        &self,
        path: &str,
        cookie: &str,
        form: &[(&str, &str)],
    ) -> Fetched {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: POST {path}: {e}", self.name));
        Fetched::read(response).await
    }

    /// Submits the login form; the response of `POST /login`.
    pub(crate) async fn try_login(&self, username: &str, password: &str, code: &str) -> Fetched {
        self.try_login_with(&self.client, username, password, code)
            .await
    }

    /// [`TestApp::try_login`] through `client` (from another address, say).
    pub(crate) async fn try_login_with(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
        code: &str,
    ) -> Fetched {
        let form = client.get(format!("{}/login", self.base)).send().await;
        let form = form.expect("GET /login");
        let token = form
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix("kaohe_login="))
            .and_then(|c| c.split(';').next())
            .expect("login cookie")
            .to_owned();
        let response = client
            .post(format!("{}/login", self.base))
            .header("cookie", format!("kaohe_login={token}"))
            .form(&[
                ("csrf", token.as_str()),
                ("username", username),
                ("password", password),
                ("totp", code),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: POST /login: {e}", self.name));
        Fetched::read(response).await
    }

    /// Signs in and returns the session token.
    pub(crate) async fn login(&self, username: &str, secret: Option<&str>) -> String {
        let code = secret
            .map(|s| totp::code(&totp::base32_decode(s).expect("base32"), unix_now()))
            .unwrap_or_default();
        let r = self.try_login(username, PASSWORD, &code).await;
        assert_eq!(r.status, 303, "{}: login {username}: {}", self.name, r.body);
        set_cookie_value(&r, kaohe_web::shell::auth::SESSION_COOKIE).expect("session cookie")
    }

    /// Creates an account and signs in; returns the session token.
    pub(crate) async fn sign_in_as(
        &self,
        username: &str,
        roles: &[&str],
        units: &[&str],
        cadre: Option<&str>,
    ) -> String {
        let secret = self.create_user(username, roles, units, cadre).await;
        self.login(username, secret.as_deref()).await
    }

    /// The same server, as another session (or none).
    pub(crate) async fn get_as(&self, session: Option<&str>, path: &str) -> Fetched {
        let cookie = session.map(|s| format!("kaohe_session={s}"));
        let headers: Vec<(&str, &str)> = cookie.iter().map(|c| ("cookie", c.as_str())).collect();
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .headers(
                headers
                    .iter()
                    .map(|(k, v)| {
                        (
                            reqwest::header::HeaderName::from_static(k),
                            reqwest::header::HeaderValue::from_str(v).expect("header"),
                        )
                    })
                    .collect(),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: GET {path}: {e}", self.name));
        Fetched::read(response).await
    }
}

/// Allowed: answered (2xx/3xx) and not sent to the login page. Denied: 401, 403, or a redirect
/// to `/login`.
fn allowed(r: &Fetched) -> bool {
    let to_login = r.status == 303 && r.header("location").starts_with("/login");
    (200..400).contains(&r.status) && !to_login
}

/// A form sent by an account it is not for: 401, 403, or a redirect to `/login`. Anything else
/// (a 303 after a change, a 400 or 404 for the empty test form) means the route let it in.
fn refused(r: &Fetched) -> bool {
    let to_login = r.status == 303 && r.header("location").starts_with("/login");
    matches!(r.status, 401 | 403) || to_login
}

/// The forms of the matrix: route template, path, and the accounts allowed. Each is sent with
/// the session's CSRF token and no fields, or for an account that does not exist, so that
/// nothing changes.
fn post_matrix() -> Vec<(&'static str, &'static str, &'static [&'static str])> {
    vec![
        ("/admin/users", "/admin/users", &["system_admin"]),
        (
            "/admin/users/{username}/password",
            "/admin/users/nobody_here/password",
            &["system_admin"],
        ),
        (
            "/admin/users/{username}/disable",
            "/admin/users/nobody_here/disable",
            &["system_admin"],
        ),
        (
            "/admin/users/{username}/enable",
            "/admin/users/nobody_here/enable",
            &["system_admin"],
        ),
        (
            "/admin/roles/{username}",
            "/admin/roles/nobody_here",
            &["security_admin"],
        ),
        ("/account/password", "/account/password", SIGNED_IN),
        ("/account/totp", "/account/totp", SIGNED_IN),
        ("/account/totp/remove", "/account/totp/remove", SIGNED_IN),
        ("/api/v1/cases", "/api/v1/cases", &["service_system"]),
        ("/api/v1/ratings", "/api/v1/ratings", &["service_system"]),
        (
            "/service/rectifications/{id}/steps",
            "/service/rectifications/1/steps",
            HANDLERS,
        ),
        (
            "/service/rectifications/{id}/steps",
            "/service/rectifications/2/steps",
            ASSESSORS,
        ),
        (
            "/service/rectifications/{id}/appeal",
            "/service/rectifications/1/appeal",
            &["unit_leader"],
        ),
        (
            "/service/rectifications/{id}/appeal",
            "/service/rectifications/2/appeal",
            &[],
        ),
        ("/service/appeals/{id}", "/service/appeals/1", ASSESSORS),
        // Forms of cycles, sent empty or to cycle 999 that does not exist (422, 404).
        ("/cycles", "/cycles", ASSESSORS),
        ("/frameworks", "/frameworks", ASSESSORS),
        ("/cycles/{id}/open", "/cycles/999/open", ASSESSORS),
        ("/cycles/{id}/compute", "/cycles/999/compute", ASSESSORS),
        ("/cycles/{id}/review", "/cycles/999/review", ASSESSORS),
        ("/cycles/{id}/values", "/cycles/999/values", ASSESSORS),
        ("/cycles/{id}/committee", "/cycles/999/committee", ASSESSORS),
        ("/cycles/{id}/finalize", "/cycles/999/finalize", ASSESSORS),
        ("/cycles/{id}/amend", "/cycles/999/amend", ASSESSORS),
        // Cycles: an empty form is not a framework or a cycle (422), and cycle 999 does not
        // exist (404), so nothing changes; scopes are tested in cycles.rs.
        ("/api/v1/frameworks", "/api/v1/frameworks", ASSESSORS),
        ("/api/v1/cycles", "/api/v1/cycles", ASSESSORS),
        (
            "/api/v1/cycles/{id}/open",
            "/api/v1/cycles/999/open",
            ASSESSORS,
        ),
        (
            "/api/v1/cycles/{id}/values",
            "/api/v1/cycles/999/values",
            ASSESSORS,
        ),
        (
            "/api/v1/cycles/{id}/compute",
            "/api/v1/cycles/999/compute",
            ASSESSORS,
        ),
        (
            "/api/v1/cycles/{id}/review",
            "/api/v1/cycles/999/review",
            ASSESSORS,
        ),
        (
            "/api/v1/cycles/{id}/decisions",
            "/api/v1/cycles/999/decisions",
            ASSESSORS,
        ),
        (
            "/api/v1/cycles/{id}/finalize",
            "/api/v1/cycles/999/finalize",
            ASSESSORS,
        ),
        (
            "/api/v1/cycles/{id}/amendments",
            "/api/v1/cycles/999/amendments",
            ASSESSORS,
        ),
        // Records: an empty form is not a record or a file (422), and record 999 does not
        // exist (404), so nothing changes; scopes are tested in records.rs.
        ("/records/new", "/records/new", RECORDERS),
        ("/records/import", "/records/import", RECORDERS),
        ("/records/{id}/amend", "/records/999/amend", RECORDERS),
        ("/records/{id}/review", "/records/999/review", ASSESSORS),
        ("/api/v1/records", "/api/v1/records", RECORDERS),
        (
            "/api/v1/records/upload",
            "/api/v1/records/upload",
            RECORDERS,
        ),
        (
            "/api/v1/records/{id}/review",
            "/api/v1/records/999/review",
            ASSESSORS,
        ),
        (
            "/api/v1/records/{id}/amend",
            "/api/v1/records/999/amend",
            RECORDERS,
        ),
        // Polls: an empty form is not a poll (422), and poll `nope` does not exist (404), so
        // nothing changes; scopes and the voting page are tested in polls.rs.
        ("/polls", "/polls", ASSESSORS),
        ("/polls/{id}/close", "/polls/nope/close", ASSESSORS),
        ("/polls/{id}/codes", "/polls/nope/codes", ASSESSORS),
        ("/polls/{id}/paper", "/polls/nope/paper", ASSESSORS),
        (
            "/polls/{id}/paper/confirm",
            "/polls/nope/paper/confirm",
            ASSESSORS,
        ),
        ("/api/v1/polls", "/api/v1/polls", ASSESSORS),
        (
            "/api/v1/polls/{id}/close",
            "/api/v1/polls/nope/close",
            ASSESSORS,
        ),
    ]
}

/// Who records facts of the officials of 瑶海区 340102 (and reads them).
const RECORDERS: &[&str] = &["assessor_all", "assessor", "unit_leader"];

/// Who reads the records of C003 (serving in 340102): the recorders and C003 themself.
const C003_READERS: &[&str] = &["assessor_all", "assessor", "unit_leader", "official"];

/// Record 1 of C003, with an evidence file, and record 2 of C004 (serving in 340103), both
/// recorded by `test`.
async fn seed_records(app: &TestApp) {
    use kaohe_domain::records::{RecordKind, RecordSource};
    use kaohe_store::records::work::{self, RecordInput};
    let store = app.db.store.as_ref();
    let png = b"\x89PNG\r\n\x1a\n matrix".to_vec();
    let file =
        kaohe_store::NewFile::new("photo.png".into(), kaohe_domain::upload::FileKind::Png, png);
    let today = time::OffsetDateTime::now_utc().date();
    let input = |cadre: &str, files: Vec<kaohe_store::NewFile>| RecordInput {
        cadre: Code::parse(cadre).expect("cadre"),
        date: today,
        kind: RecordKind::Positive,
        framework_id: "routine_quarterly".into(),
        framework_version: None,
        indicator: "routine_ji".into(),
        points: 2.0,
        description: "走访村组".into(),
        source: RecordSource::FieldVisit,
        files,
    };
    let ids = work::add(
        store,
        &kaohe_store::files::Vault::Database,
        vec![input("C003", vec![file]), input("C004", Vec::new())],
        &[],
        today,
        "test",
    )
    .await
    .expect("records");
    assert_eq!(ids, vec![1, 2]);
}

/// A draft annual cycle of 瑶海区 340102 with the preset `civil_servant_annual`: cycle 1.
async fn seed_cycle(app: &TestApp) {
    use kaohe_store::cycles::work;
    let store = app.db.store.as_ref();
    work::store_presets(store, "test").await.expect("presets");
    let year = time::OffsetDateTime::now_utc().year();
    let spec = work::CycleSpec {
        name: format!("{year}年度考核"),
        kind: kaohe_domain::cycles::CycleKind::Annual,
        start: time::Date::from_calendar_date(year, time::Month::January, 1).expect("date"),
        end: time::Date::from_calendar_date(year, time::Month::December, 31).expect("date"),
        framework_id: "civil_servant_annual".into(),
        framework_version: None,
        units: vec![Code::parse("340102").expect("unit")],
    };
    assert_eq!(work::create(store, &spec, "test").await.expect("cycle"), 1);
}

/// Who handles the rectifications of 瑶海区 340102.
const HANDLERS: &[&str] = &["assessor_all", "assessor", "unit_leader"];

/// The CSRF token of a page's forms.
pub(crate) fn csrf_in(page: &Fetched) -> String {
    page.body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

/// The declared matrix: route template, the concrete request, and the accounts allowed
/// (`anonymous` for nobody signed in). Seed: `assessor_all` assesses the province 340000 (the
/// whole tree), `assessor` the city 340100 (so 340102 and 340103, not the province, and lists
/// only filtered by a unit of its scope), `unit_leader` leads 瑶海区 340102, `official` is C003
/// (serving in 340102); C004 serves in 340103.
const EVERYONE: &[&str] = &[
    "anonymous",
    "system_admin",
    "security_admin",
    "audit_admin",
    "assessor_all",
    "assessor",
    "unit_leader",
    "official",
    "rater",
    "service_system",
];
const SIGNED_IN: &[&str] = &[
    "system_admin",
    "security_admin",
    "audit_admin",
    "assessor_all",
    "assessor",
    "unit_leader",
    "official",
    "rater",
    "service_system",
];
const ASSESSORS: &[&str] = &["assessor_all", "assessor"];

/// The accounts of the matrix: label, role, units, cadre.
const ACCOUNTS: &[(&str, &str, &[&str], Option<&str>)] = &[
    ("system_admin", "system_admin", &[], None),
    ("security_admin", "security_admin", &[], None),
    ("audit_admin", "audit_admin", &[], None),
    ("assessor_all", "assessor", &["340000"], None),
    ("assessor", "assessor", &["340100"], None),
    ("unit_leader", "unit_leader", &["340102"], None),
    ("official", "official", &[], Some("C003")),
    ("rater", "rater", &[], None),
    ("service_system", "service_system", &[], None),
];

fn matrix() -> Vec<(&'static str, &'static str, &'static [&'static str])> {
    vec![
        ("/", "/", EVERYONE),
        ("/login", "/login", EVERYONE),
        ("/lang/{lang}", "/lang/en?next=/", EVERYONE),
        ("/healthz", "/healthz", EVERYONE),
        ("/static", "/static/kaohe.css", EVERYONE),
        ("/static", "/static/favicon.svg", EVERYONE),
        ("/api/docs", "/api/docs/", EVERYONE),
        ("/api/v1/openapi.json", "/api/v1/openapi.json", EVERYONE),
        ("/units", "/units", &["assessor_all"]),
        ("/units", "/units?parent=340100", ASSESSORS),
        ("/units", "/units?parent=340000", &["assessor_all"]),
        ("/cadres", "/cadres", &["assessor_all"]),
        ("/cadres", "/cadres?unit=340102", ASSESSORS),
        (
            "/units/{code}",
            "/units/340102",
            &["assessor_all", "assessor", "unit_leader"],
        ),
        ("/units/{code}", "/units/340103", ASSESSORS),
        ("/units/{code}", "/units/340000", &["assessor_all"]),
        (
            "/cadres/{id}",
            "/cadres/C003",
            &["assessor_all", "assessor", "unit_leader", "official"],
        ),
        ("/cadres/{id}", "/cadres/C004", ASSESSORS),
        ("/calendar", "/calendar", SIGNED_IN),
        ("/frameworks", "/frameworks", SIGNED_IN),
        (
            "/frameworks/{name}",
            "/frameworks/civil_servant_annual",
            SIGNED_IN,
        ),
        ("/admin/users", "/admin/users", &["system_admin"]),
        ("/admin/audit", "/admin/audit", &["audit_admin"]),
        ("/admin/roles", "/admin/roles", &["security_admin"]),
        (
            "/admin/roles/{username}",
            "/admin/roles/m_rater",
            &["security_admin"],
        ),
        ("/account", "/account", SIGNED_IN),
        ("/account/totp", "/account/totp", SIGNED_IN),
        (
            "/admin/audit",
            "/admin/audit?verify=1&action=user.",
            &["audit_admin"],
        ),
        ("/api/v1/units", "/api/v1/units", &["assessor_all"]),
        ("/api/v1/units", "/api/v1/units?parent=340100", ASSESSORS),
        ("/api/v1/cadres", "/api/v1/cadres", &["assessor_all"]),
        ("/api/v1/cadres", "/api/v1/cadres?unit=340103", ASSESSORS),
        (
            "/api/v1/cadres",
            "/api/v1/cadres?unit=340000",
            &["assessor_all"],
        ),
        ("/api/v1/stats", "/api/v1/stats", &["assessor_all"]),
        (
            "/api/v1/units/{code}",
            "/api/v1/units/340102",
            &["assessor_all", "assessor", "unit_leader"],
        ),
        ("/api/v1/units/{code}", "/api/v1/units/340103", ASSESSORS),
        (
            "/api/v1/units/{code}",
            "/api/v1/units/340000",
            &["assessor_all"],
        ),
        (
            "/api/v1/cadres/{id}",
            "/api/v1/cadres/C003",
            &["assessor_all", "assessor", "unit_leader", "official"],
        ),
        ("/api/v1/cadres/{id}", "/api/v1/cadres/C004", ASSESSORS),
        ("/api/v1/calendar", "/api/v1/calendar", SIGNED_IN),
        // Cycle 1 covers 瑶海区 340102 (see `seed_cycle`), in draft: no revision yet.
        ("/cycles", "/cycles", ASSESSORS),
        ("/cycles/{id}", "/cycles/1", ASSESSORS),
        ("/cycles/{id}/results", "/cycles/1/results", ASSESSORS),
        ("/cycles/{id}/committee", "/cycles/1/committee", ASSESSORS),
        (
            "/cycles/{id}/template.xlsx",
            "/cycles/1/template.xlsx",
            ASSESSORS,
        ),
        (
            "/cycles/{id}/template.csv",
            "/cycles/1/template.csv",
            ASSESSORS,
        ),
        // No revision 1 yet: 404 for assessors, refused for everyone else.
        (
            "/cycles/{id}/revisions/{revision}",
            "/cycles/1/revisions/1",
            &[],
        ),
        ("/my/results", "/my/results", &["unit_leader", "official"]),
        ("/judgements", "/judgements", &["unit_leader"]),
        (
            "/frameworks/{id}/{version}",
            "/frameworks/civil_servant_annual/2026.1",
            SIGNED_IN,
        ),
        (
            "/api/v1/calendar/working-days",
            "/api/v1/calendar/working-days?from=2025-09-26&days=5",
            SIGNED_IN,
        ),
        ("/rate/{code}", "/rate/rate-bj-3", EVERYONE),
        ("/rate/{code}/qr.svg", "/rate/rate-bj-3/qr.svg", EVERYONE),
        ("/rate/{code}/qr.png", "/rate/rate-bj-3/qr.png", EVERYONE),
        ("/rate/w/{unit}/{window}", "/rate/w/340102/W-01", EVERYONE),
        (
            "/rate/w/{unit}/{window}/qr.svg",
            "/rate/w/340102/W-01/qr.svg",
            EVERYONE,
        ),
        (
            "/rate/w/{unit}/{window}/qr.png",
            "/rate/w/340102/W-01/qr.png",
            EVERYONE,
        ),
        ("/service/qr", "/service/qr", HANDLERS),
        (
            "/service/rectifications/{id}/files/{file}",
            "/service/rectifications/2/files/1",
            ASSESSORS,
        ),
        (
            "/service/rectifications",
            "/service/rectifications",
            HANDLERS,
        ),
        (
            "/service/rectifications/{id}",
            "/service/rectifications/1",
            HANDLERS,
        ),
        (
            "/service/rectifications/{id}",
            "/service/rectifications/2",
            ASSESSORS,
        ),
        (
            "/service/rectifications/{id}/contact",
            "/service/rectifications/1/contact",
            HANDLERS,
        ),
        (
            "/service/rectifications/{id}/contact",
            "/service/rectifications/2/contact",
            ASSESSORS,
        ),
        ("/service/appeals", "/service/appeals", ASSESSORS),
        ("/service/figures", "/service/figures", HANDLERS),
        (
            "/api/v1/service/figures",
            "/api/v1/service/figures?by=official",
            HANDLERS,
        ),
        // Cycles: cycle 999 does not exist, so assessors get 404 there and everybody else 401
        // or 403; a cycle's scope is tested in cycles.rs.
        ("/api/v1/frameworks", "/api/v1/frameworks", ASSESSORS),
        ("/api/v1/cycles", "/api/v1/cycles", ASSESSORS),
        ("/api/v1/cycles/{id}", "/api/v1/cycles/999", &[]),
        (
            "/api/v1/cycles/{id}/completeness",
            "/api/v1/cycles/999/completeness",
            &[],
        ),
        (
            "/api/v1/cycles/{id}/committee",
            "/api/v1/cycles/999/committee",
            &[],
        ),
        (
            "/api/v1/cycles/{id}/results",
            "/api/v1/cycles/999/results",
            &[],
        ),
        (
            "/api/v1/cadres/{id}/results",
            "/api/v1/cadres/C003/results",
            &["assessor_all", "assessor", "unit_leader", "official"],
        ),
        (
            "/api/v1/cadres/{id}/results",
            "/api/v1/cadres/C004/results",
            ASSESSORS,
        ),
        (
            "/api/v1/units/{code}/results",
            "/api/v1/units/340102/results",
            &["assessor_all", "assessor", "unit_leader"],
        ),
        (
            "/api/v1/units/{code}/results",
            "/api/v1/units/340103/results",
            ASSESSORS,
        ),
        // Records 1 (of C003, with file 1) and 2 (of C004): see `seed_records`.
        ("/cadres/{id}/records", "/cadres/C003/records", RECORDERS),
        ("/cadres/{id}/records", "/cadres/C004/records", ASSESSORS),
        ("/my/records", "/my/records", &["official"]),
        ("/records/queue", "/records/queue", ASSESSORS),
        ("/records/new", "/records/new", RECORDERS),
        ("/records/import", "/records/import", RECORDERS),
        ("/records/export.csv", "/records/export.csv", RECORDERS),
        ("/records/export.xlsx", "/records/export.xlsx", RECORDERS),
        ("/records/{id}", "/records/1", C003_READERS),
        ("/records/{id}", "/records/2", ASSESSORS),
        (
            "/records/{id}/files/{file}",
            "/records/1/files/1",
            C003_READERS,
        ),
        ("/api/v1/records", "/api/v1/records", C003_READERS),
        ("/api/v1/records", "/api/v1/records?cadre=C004", ASSESSORS),
        ("/api/v1/records/{id}", "/api/v1/records/1", C003_READERS),
        ("/api/v1/records/{id}", "/api/v1/records/2", ASSESSORS),
        (
            "/api/v1/records/{id}/files/{file}",
            "/api/v1/records/1/files/1",
            C003_READERS,
        ),
        // Polls: the public voting page; the organizer's pages for assessors (poll `nope`
        // does not exist: 404 for them, refused for everybody else).
        ("/vote", "/vote", EVERYONE),
        ("/polls", "/polls", ASSESSORS),
        ("/polls/new", "/polls/new", ASSESSORS),
        ("/polls/{id}", "/polls/nope", &[]),
        ("/polls/{id}/paper", "/polls/nope/paper?group=x", &[]),
        ("/api/v1/polls", "/api/v1/polls", ASSESSORS),
        ("/api/v1/polls/{id}", "/api/v1/polls/nope", &[]),
        (
            "/api/v1/polls/{id}/results",
            "/api/v1/polls/nope/results",
            &[],
        ),
    ]
}

#[tokio::test]
async fn every_role_against_every_route() {
    // One sign-in per account from one address: room beyond the default burst of 10, so that
    // accounts can be added to the matrix.
    let auth = kaohe_web::shell::auth::AuthSettings {
        login_burst: 100,
        ..kaohe_web::shell::auth::AuthSettings::default()
    };
    // Every account looks at the public rating pages and their QR codes from one address.
    let ratings = kaohe_domain::ratings::RatingSettings {
        public_burst: 100,
        ..kaohe_domain::ratings::RatingSettings::default()
    };
    for app in spawn_apps_with_settings(auth, ratings).await {
        seed_cycle(&app).await;
        seed_records(&app).await;
        // Every route of the API and of the pages is in the matrix.
        let doc = app.get("/api/v1/openapi.json").await.json();
        let templates: BTreeSet<&str> = matrix()
            .iter()
            .chain(post_matrix().iter())
            .map(|(t, _, _)| *t)
            .collect();
        for path in doc["paths"].as_object().expect("paths").keys() {
            assert!(
                templates.contains(path.as_str()),
                "API route {path} not in the matrix"
            );
        }
        for (path, _) in kaohe_web::PAGE_ROUTES {
            assert!(
                templates.contains(path) || *path == "/logout",
                "page route {path} not in the matrix"
            );
        }

        let mut sessions: BTreeMap<&str, Option<String>> = BTreeMap::new();
        sessions.insert("anonymous", None);
        for (label, role, units, cadre) in ACCOUNTS {
            let token = app
                .sign_in_as(&format!("m_{label}"), &[role], units, *cadre)
                .await;
            sessions.insert(label, Some(token));
        }
        for (template, path, roles) in matrix() {
            for (role, session) in &sessions {
                let r = app.get_as(session.as_deref(), path).await;
                assert_ne!(r.status, 500, "{}: {path} as {role}: {}", app.name, r.body);
                let expected = roles.contains(role);
                assert_eq!(
                    allowed(&r),
                    expected,
                    "{}: {template} ({path}) as {role}: status {} {}",
                    app.name,
                    r.status,
                    r.header("location")
                );
                if !expected && *role == "anonymous" && path.starts_with("/api/") {
                    assert_eq!(r.status, 401, "{path}");
                }
            }
        }
        // Every form, with the session's CSRF token, as every account.
        for (template, path, roles) in post_matrix() {
            for (role, session) in &sessions {
                let (cookie, csrf) = match session {
                    Some(token) => {
                        let page = app.get_as(Some(token), "/account").await;
                        (format!("kaohe_session={token}"), csrf_in(&page))
                    }
                    None => (String::new(), String::new()),
                };
                let r = app.post_form(path, &cookie, &[("csrf", &csrf)]).await;
                assert_ne!(
                    r.status, 500,
                    "{}: POST {path} as {role}: {}",
                    app.name, r.body
                );
                assert_eq!(
                    !refused(&r),
                    roles.contains(role),
                    "{}: POST {template} ({path}) as {role}: status {} {}",
                    app.name,
                    r.status,
                    r.header("location")
                );
            }
        }
        // The system administrator's account list shows accounts, never their secrets.
        let admin = sessions["system_admin"].as_deref();
        let users = app.get_as(admin, "/admin/users").await;
        assert!(users.body.contains("m_unit_leader"), "{}", users.body);
        assert!(users.body.contains("单位领导"));
        assert!(!users.body.contains("$argon2id"));
        // The audit administrator's screen lists the sign-ins just made, filters them and
        // verifies the chain; the navigation offers it to that role only.
        let auditor = sessions["audit_admin"].as_deref();
        let log = app
            .get_as(auditor, "/admin/audit?action=user.login&verify=1")
            .await;
        assert!(
            log.body.contains("id=\"audit\"") && log.body.contains("user.login"),
            "{}",
            log.body
        );
        assert!(!log.body.contains("user.create"), "filtered by action");
        // The same entries as a file: words, and the code in a column of its own.
        let csv = app
            .get_as(auditor, "/admin/audit?action=user.login&format=csv")
            .await;
        assert_eq!(csv.status, 200);
        let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
        assert!(
            lines[0].starts_with("序号,时间,操作人,操作,操作代码,"),
            "{}",
            lines[0]
        );
        assert!(
            lines.len() > 1 && lines[1..].iter().all(|l| l.contains(",登录,user.login,")),
            "{}",
            csv.body
        );
        // Actions in words, the code kept only as a tooltip.
        let rows = log.table_rows("audit");
        assert!(!rows.is_empty());
        for row in &rows {
            assert!(row.contains("title=\"user.login\">登录<"), "{row}");
        }
        assert!(
            log.body.contains("id=\"verification\"") && log.body.contains("校验通过"),
            "{}",
            log.body
        );
        assert!(log.body.contains("href=\"/admin/audit\""));
        assert!(
            !users.body.contains("href=\"/admin/audit\""),
            "not in the system administrator's menu"
        );
        // The role screen is in the security administrator's menu only.
        let security = app
            .get_as(sessions["security_admin"].as_deref(), "/account")
            .await;
        assert!(security.body.contains("href=\"/admin/roles\""));
        assert!(!users.body.contains("href=\"/admin/roles\""));
        assert!(!security.body.contains("href=\"/admin/users\""));
        app.finish().await;
    }
}

#[tokio::test]
async fn login_sets_a_strict_cookie_and_logout_needs_the_csrf_token() {
    for app in spawn_apps().await {
        app.create_user("li", &["assessor"], &["340000"], None)
            .await;
        let r = app.try_login("li", PASSWORD, "").await;
        assert_eq!(r.status, 303, "{}", r.body);
        let cookie = set_cookie_header(&r, "kaohe_session");
        for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!cookie.contains("Secure"), "no TLS here: {cookie}");
        let token = set_cookie_value(&r, "kaohe_session").expect("token");
        let session = format!("kaohe_session={token}");

        // Behind a TLS proxy the cookie is Secure.
        let form = app.get("/login").await;
        let login = set_cookie_value(&form, "kaohe_login").expect("login cookie");
        let tls = app
            .client
            .post(format!("{}/login", app.base))
            .header("cookie", format!("kaohe_login={login}"))
            .header("x-forwarded-proto", "https")
            .form(&[
                ("csrf", login.as_str()),
                ("username", "li"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .expect("login");
        let secure = tls
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|c| c.starts_with("kaohe_session=") && c.contains("; Secure"));
        assert!(secure);

        // The login form refuses a request without its pre-session token.
        let forged = app
            .post_form("/login", "", &[("username", "li"), ("password", PASSWORD)])
            .await;
        assert_eq!(forged.status, 403);

        let page = app.get_as(Some(&token), "/units").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("name=\"csrf\""), "logout form");
        // Logout without the CSRF token is refused, with it the session ends.
        assert_eq!(app.post_form("/logout", &session, &[]).await.status, 403);
        let wrong = app
            .post_form("/logout", &session, &[("csrf", "nope")])
            .await;
        assert_eq!(wrong.status, 403);
        let csrf = page
            .body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("csrf value")
            .to_owned();
        let out = app.post_form("/logout", &session, &[("csrf", &csrf)]).await;
        assert_eq!(out.status, 303);
        assert_eq!(app.get_as(Some(&token), "/units").await.status, 303);
        app.finish().await;
    }
}

#[tokio::test]
async fn lockout_after_five_failures_and_totp_for_administrators() {
    // The per-address rate limit in front of the lockout stays out of the way here.
    let auth = kaohe_web::shell::auth::AuthSettings {
        login_burst: 100,
        ..kaohe_web::shell::auth::AuthSettings::default()
    };
    for app in spawn_apps_with(auth).await {
        app.create_user("wang", &["official"], &[], Some("C003"))
            .await;
        for _ in 0..5 {
            let r = app.try_login("wang", "Wrong-Password-1", "").await;
            assert_eq!(r.status, 401);
        }
        // Locked: even the right password fails now, and reads as any other failure (as an
        // unknown account does): nothing tells a guesser the account exists.
        let locked = app.try_login("wang", PASSWORD, "").await;
        assert_eq!(locked.status, 401);
        let unknown = app.try_login("nobody-here", PASSWORD, "").await;
        let message = |f: &Fetched| {
            f.body
                .split("class=\"error\"")
                .nth(1)
                .and_then(|rest| rest.split('<').next().map(str::to_owned))
                .unwrap_or_default()
        };
        assert!(!locked.body.contains("锁定"), "{}", locked.body);
        assert_eq!(message(&locked), message(&unknown), "{}", locked.body);
        assert!(locked.body.contains("用户名、密码或验证码错误"));
        let user = app.db.store.get_user("wang").await.expect("user");
        assert_eq!(user.map(|u| u.failed_logins), Some(5));
        // The lockout holds for the address the failures came from: the owner, elsewhere,
        // still signs in.
        let elsewhere = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
            .build()
            .expect("client");
        let owner = app.try_login_with(&elsewhere, "wang", PASSWORD, "").await;
        assert_eq!(owner.status, 303, "{}: {}", app.name, owner.body);
        assert_eq!(app.try_login("wang", PASSWORD, "").await.status, 401);

        let secret = app
            .create_user("sys", &["system_admin"], &[], None)
            .await
            .expect("administrators get a TOTP secret");
        assert_eq!(app.try_login("sys", PASSWORD, "").await.status, 401);
        assert_eq!(app.try_login("sys", PASSWORD, "000000").await.status, 401);
        // A code is accepted once: the same code again (replayed) fails.
        let code = totp::code(&totp::base32_decode(&secret).expect("base32"), unix_now());
        let first = app.try_login("sys", PASSWORD, &code).await;
        assert_eq!(first.status, 303, "{}", first.body);
        let replay = app.try_login("sys", PASSWORD, &code).await;
        assert_eq!(replay.status, 401, "{}: a replayed code", app.name);
        let entry = app
            .db
            .store
            .last_audit_of("user.login_failed")
            .await
            .expect("audit")
            .and_then(|e| e.after)
            .unwrap_or_default();
        assert!(entry.contains("second factor used already"), "{entry}");
        app.finish().await;
    }
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_client() {
    for app in spawn_apps().await {
        // Unknown accounts fail like wrong passwords.
        assert_eq!(app.try_login("nobody", PASSWORD, "").await.status, 401);
        // `spawn_apps` signed in once already.
        let mut statuses = Vec::new();
        for _ in 0..12 {
            statuses.push(app.try_login("nobody", "x", "").await.status);
        }
        assert!(statuses.contains(&429), "{statuses:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn security_headers_on_every_response() {
    for app in spawn_apps().await {
        for path in [
            "/",
            "/units",
            "/api/v1/units",
            "/healthz",
            "/nope",
            "/login",
        ] {
            let r = app.get(path).await;
            let csp = r.header("content-security-policy");
            assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
            assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
            assert!(csp.contains("frame-ancestors 'none'"), "{path}");
            assert_eq!(r.header("x-frame-options"), "DENY", "{path}");
            assert_eq!(r.header("x-content-type-options"), "nosniff", "{path}");
            assert_eq!(r.header("referrer-policy"), "same-origin", "{path}");
            assert_eq!(r.header("cache-control"), "no-store", "{path}");
        }
        let docs = app.get("/api/docs/").await;
        assert_eq!(docs.status, 200);
        let csp = docs.header("content-security-policy");
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(
            !docs.body.contains("<script>"),
            "Swagger UI has no inline script"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn idle_sessions_end_after_ten_minutes() {
    for app in spawn_apps().await {
        let store = &app.db.store;
        let now = unix_now();
        store
            .create_session("idle-token", "tester", "c", now - 601)
            .await
            .expect("session");
        store
            .create_session("fresh-token", "tester", "c", now - 500)
            .await
            .expect("session");
        let idle = app.get_as(Some("idle-token"), "/units").await;
        assert_eq!(idle.status, 303, "{}", app.name);
        assert!(idle.header("location").starts_with("/login"));
        assert!(store.session("idle-token").await.expect("read").is_none());
        // A request slides the timeout.
        assert_eq!(app.get_as(Some("fresh-token"), "/units").await.status, 200);
        let fresh = store.session("fresh-token").await.expect("read");
        assert!(fresh.is_some_and(|s| s.last_seen_at >= now));
        // Any sign-in sweeps away sessions idle past the timeout, used again or not.
        store
            .create_session("stale-token", "tester", "c", now - 700)
            .await
            .expect("session");
        app.create_user("sweeper", &["assessor"], &["340000"], None)
            .await;
        assert_eq!(app.try_login("sweeper", PASSWORD, "").await.status, 303);
        assert!(store.session("stale-token").await.expect("read").is_none());
        assert!(store.session("fresh-token").await.expect("read").is_some());
        app.finish().await;
    }
}
