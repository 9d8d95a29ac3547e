//! Public service ratings (好差评): intake through the API and the public page, the
//! rectification of a bad review from open to closed, the callback screen, appeals, figures.
//! Seed (helpers.rs): rating 1 is a real-name bad review of BJ-1 (瑶海区 340102), rating 2 an
//! anonymous one of BJ-2 (庐阳区 340103); BJ-3 is unrated; BJ-OLD is past its rating window.

use crate::accounts::csrf_in;
use crate::helpers::{Fetched, TestApp, spawn_apps, spawn_apps_with, spawn_apps_with_ratings};
use kaohe_domain::WorkCalendar;
use kaohe_store::TokenInfo;
use serde_json::{Value, json};

impl TestApp {
    /// `POST path` as `multipart/form-data` with text fields and an optional file.
    async fn post_multipart(
        &self,
        path: &str,
        cookie: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> Fetched {
        let boundary = "kaohe-test-boundary-7f3a";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
            );
        }
        if let Some((file_name, bytes)) = file {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: image/png\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", cookie)
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

    /// Creates a service-system account with an API token; returns the token.
    async fn service_token(&self) -> String {
        self.create_user("gov_portal", &["service_system"], &[], None)
            .await;
        let (id, token, hash) = kaohe_web::shell::auth::issue_token();
        let info = TokenInfo {
            id,
            username: "gov_portal".into(),
            label: "一网通办".into(),
            created_at: 1,
            revoked_at: None,
        };
        let audit = kaohe_domain::NewAuditEntry::new("test", "token.issue", "gov_portal");
        self.db
            .store
            .create_token(&info, &hash, &audit)
            .await
            .expect("token");
        token
    }

    /// `POST path` with a JSON body and an optional bearer token.
    async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Fetched {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            request = request.header("authorization", format!("Bearer {t}"));
        }
        let response = request.send().await.expect("POST");
        Fetched::read(response).await
    }
}

fn error_of(r: &Fetched) -> (String, String) {
    let v = r.json();
    (
        v["error"]["code"].as_str().unwrap_or_default().to_owned(),
        v["error"]["field"].as_str().unwrap_or_default().to_owned(),
    )
}

fn case_json(id: &str, unit: &str, phone: &str) -> Value {
    let closed = time::OffsetDateTime::now_utc() - time::Duration::hours(3);
    let fmt = &time::format_description::well_known::Rfc3339;
    json!({
        "id": id,
        "item": "企业开办",
        "unit": unit,
        "window": "W-02",
        "officials": ["C003"],
        "channel": "window",
        "accepted_at": (closed - time::Duration::hours(4)).format(fmt).expect("time"),
        "closed_at": closed.format(fmt).expect("time"),
        "applicant": "钱先生",
        "phone": phone,
    })
}

#[tokio::test]
async fn service_systems_push_cases_and_ratings_with_a_token() {
    // Tokens looked up on every request, so that the revocation below shows at once.
    let auth = kaohe_web::shell::auth::AuthSettings {
        token_cache_seconds: 0,
        ..kaohe_web::shell::auth::AuthSettings::default()
    };
    for app in spawn_apps_with(auth).await {
        let token = app.service_token().await;
        // Without a token, or with a wrong one: 401.
        let r = app
            .post_json("/api/v1/cases", None, &json!({"cases": []}))
            .await;
        assert_eq!(r.status, 401, "{}: {}", app.name, r.body);
        let r = app
            .post_json("/api/v1/cases", Some("kh_00_nope"), &json!({"cases": []}))
            .await;
        assert_eq!(r.status, 401, "{}", app.name);

        // Cases: stored, each with its rating page; bad fields are named.
        let r = app
            .post_json(
                "/api/v1/cases",
                Some(&token),
                &json!({"cases": [case_json("API-1", "340102", "138 0000 1111"), case_json("API-2", "340102", "")]}),
            )
            .await;
        assert_eq!(r.status, 200, "{}: {}", app.name, r.body);
        let out = r.json();
        assert_eq!(out[0]["id"], "API-1");
        let rate_path = out[0]["rate_path"].as_str().expect("path").to_owned();
        assert!(
            rate_path.starts_with("/rate/") && rate_path.len() == 22,
            "{rate_path}"
        );
        for (body, field) in [
            (
                json!({"cases": [case_json("API-3", "999999", "")]}),
                "cases[0].unit",
            ),
            (
                json!({"cases": [case_json("API-3", "340102", "12ab")]}),
                "cases[0].phone",
            ),
            (
                json!({"cases": [case_json("API-3", "340102", ""), case_json("API-3", "340102", "")]}),
                "cases[1].id",
            ),
            (json!({"cases": [{"id": "API-3"}]}), "cases[0].item"),
            (json!({"case": []}), "case"),
        ] {
            let r = app.post_json("/api/v1/cases", Some(&token), &body).await;
            assert_eq!(r.status, 422, "{}: {body}: {}", app.name, r.body);
            assert_eq!(
                error_of(&r),
                ("invalid_field".into(), field.into()),
                "{body}"
            );
        }
        let mut late = case_json("API-3", "340102", "");
        late["closed_at"] = json!("2026-01-01T00:00:00+08:00");
        late["accepted_at"] = json!("2026-01-02T00:00:00+08:00");
        let r = app
            .post_json("/api/v1/cases", Some(&token), &json!({"cases": [late]}))
            .await;
        assert_eq!(error_of(&r).1, "cases[0].closed_at", "{}", r.body);

        // Ratings: 201 once, 409 the second time, 404 for an unknown case, 422 naming the field.
        let rating =
            json!({"case_id": "API-1", "level": 5, "tags": ["efficient"], "channel": "online"});
        let r = app
            .post_json("/api/v1/ratings", Some(&token), &rating)
            .await;
        assert_eq!(r.status, 201, "{}: {}", app.name, r.body);
        assert_eq!(r.json()["level"], 5);
        assert!(r.json().get("rectification_deadline").is_none());
        let r = app
            .post_json("/api/v1/ratings", Some(&token), &rating)
            .await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(error_of(&r).0, "already_rated");
        // The rated case pushed again under another unit: refused, the rating stays where
        // it was given.
        let r = app
            .post_json(
                "/api/v1/cases",
                Some(&token),
                &json!({"cases": [case_json("API-1", "340103", "138 0000 1111")]}),
            )
            .await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(error_of(&r).0, "case_rated");
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("API-1")
        );
        let r = app
            .post_json(
                "/api/v1/ratings",
                Some(&token),
                &json!({"case_id": "NOPE", "level": 5, "channel": "online"}),
            )
            .await;
        assert_eq!(r.status, 404, "{}", r.body);
        for (body, field) in [
            (json!({"case_id": "API-2", "channel": "online"}), "level"),
            (
                json!({"case_id": "API-2", "level": 7, "channel": "online"}),
                "level",
            ),
            (
                json!({"case_id": "API-2", "level": "五", "channel": "online"}),
                "level",
            ),
            (
                json!({"case_id": "API-2", "level": 4, "channel": "fax"}),
                "channel",
            ),
            (
                json!({"case_id": "API-2", "level": 4, "channel": "online", "tags": ["nice"]}),
                "tags[0]",
            ),
            (
                json!({"case_id": "API-2", "level": 4, "channel": "online", "tags": ["fees", "fees"]}),
                "tags",
            ),
            (
                json!({"case_id": "API-2", "level": 4, "channel": "online", "stars": 5}),
                "stars",
            ),
            (
                json!({"case_id": "API-2", "level": 4, "channel": "online", "contact": "x"}),
                "contact",
            ),
        ] {
            let r = app.post_json("/api/v1/ratings", Some(&token), &body).await;
            assert_eq!(r.status, 422, "{}: {body}: {}", app.name, r.body);
            assert_eq!(
                error_of(&r),
                ("invalid_field".into(), field.into()),
                "{body}"
            );
        }
        let r = app
            .post_json(
                "/api/v1/ratings",
                Some(&token),
                &json!({"case_id": "BJ-OLD", "level": 4, "channel": "online"}),
            )
            .await;
        assert_eq!(
            (r.status, error_of(&r).0.as_str()),
            (422, "rating_window_closed"),
            "{}",
            r.body
        );

        // A bad review opens a rectification due in 5 working days on the stored calendar.
        let r = app
            .post_json(
                "/api/v1/ratings",
                Some(&token),
                &json!({"case_id": "API-2", "level": 2, "channel": "online"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let calendar = WorkCalendar::new(&app.db.store.calendar().await.expect("calendar"));
        let today = time::OffsetDateTime::now_utc()
            .to_offset(kaohe_web::CHINA_STANDARD_TIME)
            .date();
        let due = calendar.add_working_days(today, 5).expect("deadline");
        assert_eq!(r.json()["rectification_deadline"], due.to_string());
        // The token acts as its account; revoked, it is refused.
        let listed = app.db.store.list_tokens().await.expect("tokens");
        let audit = kaohe_domain::NewAuditEntry::new("test", "token.revoke", "gov_portal");
        assert!(
            app.db
                .store
                .revoke_token(&listed[0].id, 2, &audit)
                .await
                .expect("revoke")
        );
        let r = app
            .post_json("/api/v1/ratings", Some(&token), &rating)
            .await;
        assert_eq!(r.status, 401, "{}", r.body);
        app.finish().await;
    }
}

/// The form token of a rating page, from its cookie.
fn rate_cookie(r: &Fetched) -> String {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("kaohe_rate="))
        .and_then(|c| c.split(';').next())
        .expect("rate cookie")
        .to_owned()
}

#[tokio::test]
async fn text_no_field_may_hold_is_refused_naming_the_field_and_hurts_no_other_rating() {
    for app in spawn_apps().await {
        let token = app.service_token().await;
        // A NUL in an applicant's name, a right-to-left override in an item: 422, named.
        let mut nul = case_json("TXT-0", "340102", "");
        nul["applicant"] = json!("钱\u{0}先生");
        let mut bidi = case_json("TXT-0", "340102", "");
        bidi["item"] = json!("企业\u{202E}开办");
        for (case, field) in [(nul, "cases[0].applicant"), (bidi, "cases[0].item")] {
            let r = app
                .post_json("/api/v1/cases", Some(&token), &json!({ "cases": [case] }))
                .await;
            assert_eq!(r.status, 422, "{}: {}", app.name, r.body);
            assert_eq!(
                error_of(&r),
                ("invalid_field".into(), field.into()),
                "{}",
                r.body
            );
        }
        // Ratings at once, a third of them with a NUL, a zero-width space or a bidi isolate
        // in the comment: those are refused naming the comment, every other one is stored.
        let n = 30;
        let cases: Vec<Value> = (0..n)
            .map(|i| case_json(&format!("TXT-{i}"), "340102", ""))
            .collect();
        let r = app
            .post_json("/api/v1/cases", Some(&token), &json!({ "cases": cases }))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let bad = ["差\u{0}评", "好\u{200B}评", "好\u{2067}评"];
        let answers = futures_join(&app, &token, n, &bad).await;
        for (i, r) in answers.iter().enumerate() {
            if i % 3 == 0 {
                assert_eq!(r.status, 422, "{i}: {}", r.body);
                assert_eq!(error_of(r), ("invalid_field".into(), "comment".into()));
            } else {
                assert_eq!(r.status, 201, "{}: {i}: {}", app.name, r.body);
            }
        }
        // The public rating form: refused, the field named, nothing stored.
        let page = app.get_as(None, "/rate/rate-bj-3").await;
        let form = rate_cookie(&page);
        let r = app
            .post_form(
                "/rate/rate-bj-3",
                &format!("kaohe_rate={form}"),
                &[("csrf", &form), ("level", "5"), ("comment", "快\u{0}")],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("comment"), "{}", r.body);
        let page = app.get_as(None, "/rate/rate-bj-3").await;
        assert!(page.body.contains("name=\"level\""), "still to be rated");
        app.finish().await;
    }
}

#[tokio::test]
async fn the_json_api_takes_json_only_and_names_where_a_truncated_body_broke() {
    for app in spawn_apps().await {
        let token = app.service_token().await;
        let rating = r#"{"case_id": "BJ-3", "level": 5, "channel": "online"}"#;
        // The same body as a form, as text, or without a type: 415, nothing stored.
        for content_type in ["application/x-www-form-urlencoded", "text/plain", ""] {
            let mut request = app
                .client
                .post(format!("{}/api/v1/ratings", app.base))
                .header("authorization", format!("Bearer {token}"))
                .body(rating);
            if !content_type.is_empty() {
                request = request.header("content-type", content_type);
            }
            let r = Fetched::read(request.send().await.expect("POST")).await;
            assert_eq!(r.status, 415, "{}: {content_type:?}: {}", app.name, r.body);
            assert_eq!(error_of(&r).0, "unsupported_media_type");
        }
        // Cut short: the field being read when it broke, with line and column.
        for (body, field) in [
            (r#"{"case_id": "BJ-3", "comm"#, "body"),
            (r#"{"case_id": "BJ-3", "comment": "很"#, "comment"),
            (r#"{"case_id": "BJ-3", "tags": ["attitude", "#, "tags"),
        ] {
            let r = app
                .client
                .post(format!("{}/api/v1/ratings", app.base))
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json; charset=utf-8")
                .body(body)
                .send()
                .await
                .expect("POST");
            let r = Fetched::read(r).await;
            assert_eq!(r.status, 422, "{}: {body}: {}", app.name, r.body);
            assert_eq!(
                error_of(&r),
                ("invalid_field".into(), field.into()),
                "{}",
                r.body
            );
            assert!(
                r.body.contains("ends early at line 1, column"),
                "{}",
                r.body
            );
        }
        let r = app
            .post_json(
                "/api/v1/ratings",
                Some(&token),
                &serde_json::from_str(rating).expect("json"),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        app.finish().await;
    }
}

/// A rating the database itself refuses (a trigger standing in for any failure of one row)
/// fails alone: the others committed in the same group are stored.
#[tokio::test]
async fn a_rating_the_database_refuses_fails_alone_in_its_group_commit() {
    for app in spawn_apps().await {
        let token = app.service_token().await;
        let trap = if app.db.name == "sqlite" {
            "CREATE TRIGGER trap BEFORE INSERT ON ratings WHEN NEW.comment = 'trap' \
             BEGIN SELECT RAISE(ABORT, 'trapped'); END"
        } else {
            "CREATE FUNCTION trap() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.comment = 'trap' THEN RAISE EXCEPTION 'trapped'; END IF; RETURN NEW; END $$; \
             CREATE TRIGGER trap BEFORE INSERT ON ratings FOR EACH ROW EXECUTE FUNCTION trap()"
        };
        app.db.raw_execute(trap).await.expect("trap");
        let n = 30;
        let cases: Vec<Value> = (0..n)
            .map(|i| case_json(&format!("TXT-{i}"), "340102", ""))
            .collect();
        let r = app
            .post_json("/api/v1/cases", Some(&token), &json!({ "cases": cases }))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let answers = futures_join(&app, &token, n, &["trap"]).await;
        for (i, r) in answers.iter().enumerate() {
            let expected = if i % 3 == 0 { 503 } else { 201 };
            assert_eq!(r.status, expected, "{}: {i}: {}", app.name, r.body);
        }
        app.finish().await;
    }
}

/// Posts `n` ratings of cases `TXT-0`… at once, every third with a comment of `bad`.
async fn futures_join(app: &TestApp, token: &str, n: usize, bad: &[&str]) -> Vec<Fetched> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let comment = if i % 3 == 0 {
            bad[(i / 3) % bad.len()].to_owned()
        } else {
            "办事很快".to_owned()
        };
        let body = json!({"case_id": format!("TXT-{i}"), "level": 5, "comment": comment, "channel": "online"});
        let (client, base, token) = (app.client.clone(), app.base.clone(), token.to_owned());
        tasks.spawn(async move {
            let r = client
                .post(format!("{base}/api/v1/ratings"))
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .expect("POST rating");
            (i, Fetched::read(r).await)
        });
    }
    let mut out: Vec<(usize, Fetched)> = tasks.join_all().await;
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, f)| f).collect()
}

#[tokio::test]
async fn the_public_rates_a_case_once_on_its_page() {
    for app in spawn_apps().await {
        let page = app.get_as(None, "/rate/rate-bj-3").await;
        assert_eq!(page.status, 200, "{}", app.name);
        assert!(page.body.contains("不动产登记") && page.body.contains("瑶海区"));
        assert!(page.body.contains("name=\"level\""));
        assert!(!page.body.contains(" checked"), "nothing is pre-selected");
        assert!(!page.body.contains("13700002222"), "no personal data");
        let token = rate_cookie(&page);
        let cookie = format!("kaohe_rate={token}");
        // Without the form token: refused.
        let r = app
            .post_form("/rate/rate-bj-3", "", &[("level", "5")])
            .await;
        assert_eq!(r.status, 403);
        // Without a level: asked again, nothing stored.
        let r = app
            .post_form(
                "/rate/rate-bj-3",
                &cookie,
                &[("csrf", &token), ("comment", "很快")],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("请选择一个评价等级"));
        assert!(r.body.contains("很快"), "what was typed is kept");
        let r = app
            .post_form(
                "/rate/rate-bj-3",
                &cookie,
                &[
                    ("csrf", &token),
                    ("level", "1"),
                    ("tags", "overdue"),
                    ("tags", "attitude"),
                    ("real_name", "1"),
                    ("contact", "12"),
                ],
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("回访电话格式不正确"));
        // A real-name bad review with a callback phone.
        let r = app
            .post_form(
                "/rate/rate-bj-3",
                &cookie,
                &[
                    ("csrf", &token),
                    ("level", "1"),
                    ("tags", "overdue"),
                    ("tags", "attitude"),
                    ("real_name", "1"),
                    ("contact", "13512345678"),
                    ("comment", "跑了三次"),
                ],
            )
            .await;
        assert_eq!(r.status, 201, "{}: {}", app.name, r.body);
        assert!(r.body.contains("5 个工作日内"));
        let stored = app
            .db
            .store
            .rating_of_case(&kaohe_domain::Code::parse("BJ-3").expect("code"))
            .await
            .expect("rating")
            .expect("stored");
        assert_eq!(stored.rating.level.value(), 1);
        assert!(stored.rating.real_name);
        assert_eq!(stored.rating.tags.len(), 2);
        assert_eq!(
            stored.rating.contact.as_ref().map(|p| p.reveal()),
            Some("13512345678")
        );
        let queue = app
            .db
            .store
            .rectification_queue(None, true, 10)
            .await
            .expect("queue");
        assert!(queue.iter().any(|q| q.rating_id == stored.id));
        // Once only.
        let r = app
            .post_form(
                "/rate/rate-bj-3",
                &cookie,
                &[("csrf", &token), ("level", "5")],
            )
            .await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(r.body.contains("只能评价一次"));
        let again = app.get_as(None, "/rate/rate-bj-3").await;
        assert!(!again.body.contains("name=\"level\""), "no form once rated");
        // Past the window, and unknown codes.
        let old = app.get_as(None, "/rate/rate-bj-old").await;
        assert!(old.body.contains("已超过评价期限") && !old.body.contains("name=\"level\""));
        assert_eq!(app.get_as(None, "/rate/no-such-code").await.status, 404);
        // English on request.
        let en = app.get_as(None, "/rate/rate-bj-1?lang=en").await;
        assert!(en.body.contains("rated already"), "{}", en.body);
        app.finish().await;
    }
}

#[tokio::test]
async fn the_public_rating_form_is_rate_limited_per_client() {
    let settings = kaohe_domain::ratings::RatingSettings {
        public_burst: 3,
        public_per_minute: 1,
        ..kaohe_domain::ratings::RatingSettings::default()
    };
    for app in spawn_apps_with_ratings(settings).await {
        let page = app.get_as(None, "/rate/rate-bj-3").await;
        let token = rate_cookie(&page);
        let cookie = format!("kaohe_rate={token}");
        let statuses: Vec<u16> = {
            let mut v = Vec::new();
            for _ in 0..5 {
                v.push(
                    app.post_form("/rate/rate-bj-3", &cookie, &[("csrf", &token)])
                        .await
                        .status,
                );
            }
            v
        };
        // The form itself took one from the same bucket.
        assert_eq!(statuses, vec![422, 422, 429, 429, 429], "{}", app.name);
        // Looking is limited like rating: codes cannot be tried by GET either.
        let look = app.get_as(None, "/rate/some-guessed-code").await;
        assert_eq!(look.status, 429, "{}", look.body);
        assert_eq!(look.header("cache-control"), "no-store");
        app.finish().await;
    }
}

#[tokio::test]
async fn the_qr_codes_of_cases_are_rate_limited_like_the_form() {
    let settings = kaohe_domain::ratings::RatingSettings {
        public_burst: 3,
        public_per_minute: 1,
        ..kaohe_domain::ratings::RatingSettings::default()
    };
    for app in spawn_apps_with_ratings(settings).await {
        let mut statuses = Vec::new();
        for path in [
            "/rate/rate-bj-3/qr.svg",
            "/rate/rate-bj-3/qr.png",
            "/rate/some-guessed-code/qr.svg",
            "/rate/rate-bj-3/qr.svg",
            "/rate/another-guess/qr.png",
        ] {
            statuses.push(app.get_as(None, path).await.status);
        }
        assert_eq!(statuses, vec![200, 200, 404, 429, 429], "{}", app.name);
        // The same bucket as the form: looking at a code's page is refused too.
        let look = app.get_as(None, "/rate/rate-bj-3").await;
        assert_eq!(look.status, 429, "{}", look.body);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_bad_review_runs_from_open_to_closed_with_its_callback() {
    for app in spawn_apps().await {
        let leader = app
            .sign_in_as("leader", &["unit_leader"], &["340102"], None)
            .await;
        let cookie = format!("kaohe_session={leader}");
        let queue = app.get_as(Some(&leader), "/service/rectifications").await;
        assert_eq!(queue.status, 200, "{}", queue.body);
        let rows = queue.table_rows("queue");
        assert_eq!(rows.len(), 1, "only the leader's unit: {rows:?}");
        assert!(rows[0].contains("BJ-1") && rows[0].contains("非常不满意"));
        // The queue as a file, as shown: Chinese headers and labels, English on request.
        let csv = app
            .get_as(Some(&leader), "/service/rectifications?format=csv")
            .await;
        assert_eq!(csv.status, 200);
        assert!(
            csv.header("content-disposition")
                .contains("rectifications.csv")
        );
        let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines.len(), 2, "{}", csv.body);
        assert!(
            lines[0].starts_with("办件,事项,单位,评价等级"),
            "{}",
            lines[0]
        );
        assert!(lines[1].starts_with("BJ-1,") && lines[1].contains("非常不满意"));
        let en = app
            .get_as(Some(&leader), "/service/rectifications?format=csv&lang=en")
            .await;
        assert!(
            en.body.trim_start_matches('\u{feff}').starts_with("Case,"),
            "{}",
            en.body
        );
        let xlsx = app
            .get_as(Some(&leader), "/service/rectifications?format=xlsx&all=1")
            .await;
        assert!(xlsx.header("content-type").contains("spreadsheetml"));
        let bad = app
            .get_as(Some(&leader), "/service/rectifications?format=pdf")
            .await;
        assert_eq!(bad.status, 422);
        let page = app.get_as(Some(&leader), "/service/rectifications/1").await;
        assert!(page.body.contains("138****5678"), "masked phone");
        assert!(
            !page.body.contains("13812345678"),
            "never the full number here"
        );
        assert!(page.body.contains("赵**"), "masked name");
        let csrf = csrf_in(&page);
        let step = |kind: &'static str, extra: Vec<(&'static str, &'static str)>| {
            let mut form = vec![("csrf", csrf.clone()), ("kind", kind.to_owned())];
            form.extend(extra.into_iter().map(|(k, v)| (k, v.to_owned())));
            form
        };
        let app_ref = &app;
        let post = |form: Vec<(&'static str, String)>| {
            let cookie = cookie.clone();
            async move {
                let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                app_ref
                    .post_form("/service/rectifications/1/steps", &cookie, &pairs)
                    .await
            }
        };
        // Out of order: refused with the reason, nothing recorded.
        let r = post(step("close", vec![])).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("expected: verify"), "{}", r.body);
        // A verification needs a finding.
        let r = post(step("verify", vec![])).await;
        assert_eq!(r.status, 422);
        for (kind, extra) in [
            ("verify", vec![("note", "调取窗口录像，情况属实")]),
            ("rectify", vec![("note", "对窗口人员批评教育，增加引导员")]),
        ] {
            let r = post(step(kind, extra)).await;
            assert_eq!(r.status, 303, "{kind}: {}", r.body);
        }
        // A real-name review cannot close without a callback that reached the rater.
        let r = post(step("close", vec![])).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("callback"), "{}", r.body);
        // The callback screen shows the full number and is audited.
        let contact = app
            .get_as(Some(&leader), "/service/rectifications/1/contact")
            .await;
        assert!(contact.body.contains("13812345678"));
        assert_eq!(contact.header("cache-control"), "no-store", "personal data");
        let log = app.db.store.audit_entries(1, 10_000).await.expect("audit");
        assert!(
            log.iter().any(|e| e.action == "contact.view"
                && e.actor == "leader"
                && e.target == "rating:1")
        );
        for (kind, extra) in [
            ("callback", vec![("note", "无人接听")]),
            (
                "callback",
                vec![
                    ("note", "已回访"),
                    ("reached", "1"),
                    ("verdict", "satisfied"),
                ],
            ),
            ("close", vec![]),
        ] {
            let r = post(step(kind, extra)).await;
            assert_eq!(r.status, 303, "{kind}: {}", r.body);
        }
        let done = app.get_as(Some(&leader), "/service/rectifications/1").await;
        assert!(done.body.contains("已办结"), "{}", done.body);
        assert!(done.body.contains("未联系上") && done.body.contains("满意"));
        assert!(
            !done.body.contains("id=\"step-form\""),
            "nothing left to do"
        );
        let steps: Vec<String> = app
            .db
            .store
            .audit_entries(1, 10_000)
            .await
            .expect("audit")
            .into_iter()
            .filter(|e| e.action == "rectification.step")
            .map(|e| e.after.unwrap_or_default())
            .collect();
        assert_eq!(steps.len(), 5);
        assert!(steps[4].contains("\"status\":\"closed\""), "{}", steps[4]);
        // Another unit's rectification is out of the leader's reach.
        let other = app.get_as(Some(&leader), "/service/rectifications/2").await;
        assert_eq!(other.status, 403);
        // The figures count it rectified, on time and called back.
        let f = app
            .get_as(Some(&leader), "/api/v1/service/figures?by=unit")
            .await
            .json();
        let group = &f["groups"][0];
        assert_eq!(
            (group["key"].as_str(), group["ratings"].as_i64()),
            (Some("340102"), Some(1))
        );
        assert_eq!(group["rectification_rate"], 1.0);
        assert_eq!(group["on_time_rate"], 1.0);
        assert_eq!(group["callback_rate"], 1.0);
        app.finish().await;
    }
}

#[tokio::test]
async fn an_upheld_appeal_excludes_the_review_without_deleting_it() {
    for app in spawn_apps().await {
        // The leader is also an assessor of the unit: it files, and four eyes keep it from
        // deciding its own appeal.
        let leader = app
            .sign_in_as("leader", &["unit_leader", "assessor"], &["340102"], None)
            .await;
        let page = app.get_as(Some(&leader), "/service/rectifications/1").await;
        let cookie = format!("kaohe_session={leader}");
        let csrf = csrf_in(&page);
        let appeal = |evidence: &'static str, file: Option<(&'static str, &'static [u8])>| {
            let cookie = cookie.clone();
            let csrf = csrf.clone();
            let app = &app;
            async move {
                app.post_multipart(
                    "/service/rectifications/1/appeal",
                    &cookie,
                    &[
                        ("csrf", csrf.as_str()),
                        ("ground", "malicious"),
                        ("evidence", evidence),
                    ],
                    file,
                )
                .await
            }
        };
        // Without the form token: refused.
        let r = app
            .post_multipart(
                "/service/rectifications/1/appeal",
                &cookie,
                &[("ground", "malicious")],
                None,
            )
            .await;
        assert_eq!(r.status, 403);
        let r = appeal(" ", None).await;
        assert_eq!(r.status, 422, "evidence is required: {}", r.body);
        // An executable named like a picture is refused, and nothing is filed.
        let r = appeal(
            "见附件",
            Some(("录像截图.png", b"MZ\x90\x00\x03 not a picture")),
        )
        .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(
            r.body
                .contains("is not one of PDF, PNG, JPEG by its content"),
            "{}",
            r.body
        );
        let png: &'static [u8] = b"\x89PNG\r\n\x1a\n evidence bytes";
        let r = appeal(
            "录像显示评价人当场表示报复",
            Some(("C:\\证据\\录像截图.png", png)),
        )
        .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let r = appeal("再次申诉", None).await;
        assert_eq!(r.status, 409, "one appeal per review: {}", r.body);
        assert!(r.body.contains("已申诉过"));
        // The file is listed under its plain name and served back byte for byte, as an
        // attachment of its own type.
        let page = app.get_as(Some(&leader), "/service/rectifications/1").await;
        assert!(page.body.contains(">录像截图.png</a>"), "{}", page.body);
        let link = page
            .body
            .split("href=\"/service/rectifications/1/files/")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("file link")
            .to_owned();
        let file = app
            .client
            .get(format!(
                "{}/service/rectifications/1/files/{link}",
                app.base
            ))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("file");
        assert_eq!(file.status(), 200);
        assert_eq!(file.headers()["content-type"], "image/png");
        assert_eq!(file.headers()["cache-control"], "no-store", "a download");
        assert!(
            file.headers()["content-disposition"]
                .to_str()
                .unwrap_or_default()
                .starts_with("attachment;")
        );
        assert_eq!(file.bytes().await.expect("bytes").as_ref(), png);

        // The leader who filed may not decide, though it is an assessor of the unit: no
        // form, and the decision refused; an assessor of the city may.
        assert!(!page.body.contains("id=\"decide-form\""), "{}", page.body);
        let r = app
            .post_form(
                "/service/appeals/1",
                &cookie,
                &[
                    ("csrf", &csrf_in(&page)),
                    ("decision", "upheld"),
                    ("reason", "x"),
                ],
            )
            .await;
        assert_eq!(r.status, 403);
        assert!(r.body.contains("双人复核"), "{}", r.body);
        let pending = app.db.store.appeals(true).await.expect("appeals");
        assert!(
            pending.iter().any(|a| a.filed_by == "leader"),
            "still pending: {pending:?}"
        );
        let assessor = app
            .sign_in_as("city", &["assessor"], &["340100"], None)
            .await;
        // The appeals wait on the home page of the assessor who may decide them (this one
        // and 庐阳区's, both in the city), not on the filer's, whose unit has no other.
        assert_eq!(pending.len(), 2, "{pending:?}");
        let home = app.get_as(Some(&assessor), "/").await;
        assert!(
            home.body.contains(
                "id=\"appeals-waiting\"><a href=\"/service/appeals\">2 件差评申诉待您复核"
            ),
            "{}",
            home.body
        );
        let home = app.get_as(Some(&leader), "/").await;
        assert!(!home.body.contains("appeals-waiting"), "{}", home.body);
        let list = app.get_as(Some(&assessor), "/service/appeals").await;
        assert!(
            list.body.contains("BJ-1") && list.body.contains("恶意差评"),
            "{}",
            list.body
        );
        let before = app
            .get_as(Some(&assessor), "/api/v1/service/figures?by=unit")
            .await
            .json();
        let counted = |f: &Value, key: &str| {
            f["groups"]
                .as_array()
                .and_then(|g| g.iter().find(|g| g["key"] == key))
                .map(|g| {
                    (
                        g["ratings"].as_i64().unwrap_or(-1),
                        g["excluded"].as_i64().unwrap_or(-1),
                    )
                })
        };
        assert_eq!(counted(&before, "340102"), Some((1, 0)));
        let page = app
            .get_as(Some(&assessor), "/service/rectifications/1")
            .await;
        assert!(page.body.contains("id=\"decide-form\""));
        let a_cookie = format!("kaohe_session={assessor}");
        let r = app
            .post_form(
                "/service/appeals/1",
                &a_cookie,
                &[
                    ("csrf", &csrf_in(&page)),
                    ("decision", "upheld"),
                    ("reason", "证据充分"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let after = app
            .get_as(Some(&assessor), "/api/v1/service/figures?by=unit")
            .await
            .json();
        assert_eq!(counted(&after, "340102"), Some((0, 1)), "{after}");
        let home = app.get_as(Some(&assessor), "/").await;
        assert!(
            home.body.contains("1 件差评申诉待您复核"),
            "one decided: {}",
            home.body
        );
        let page = app
            .get_as(Some(&assessor), "/service/rectifications/1")
            .await;
        assert!(page.body.contains("申诉成立") && page.body.contains("证据充分"));
        // Kept, marked excluded, and the decision audited with before and after.
        let rating = app
            .db
            .store
            .rating_of_case(&kaohe_domain::Code::parse("BJ-1").expect("code"))
            .await
            .expect("rating")
            .expect("kept");
        assert!(rating.excluded);
        let log = app.db.store.audit_entries(1, 10_000).await.expect("audit");
        let decided = log
            .iter()
            .find(|e| e.action == "appeal.decide")
            .expect("audited");
        assert_eq!(decided.actor, "city");
        assert!(
            decided
                .after
                .as_deref()
                .unwrap_or_default()
                .contains("\"excluded\":true")
        );
        assert!(
            decided
                .before
                .as_deref()
                .unwrap_or_default()
                .contains("\"excluded\":false")
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn figures_are_grouped_shrunk_and_their_parameters_checked() {
    for app in spawn_apps().await {
        let r = app.get("/api/v1/service/figures?by=official").await;
        assert_eq!(r.status, 200, "{}", r.body);
        let f = r.json();
        assert_eq!(f["ratings"], 2);
        let groups = f["groups"].as_array().expect("groups");
        assert_eq!(groups.len(), 2);
        for g in groups {
            // One bad review each: raw satisfaction 0, shrunk toward the overall rate (also 0
            // here) and an interval that holds it.
            assert_eq!(g["satisfaction_rate"], 0.0);
            let s = g["shrunk_satisfaction"].as_f64().expect("shrunk");
            let i = &g["shrunk_interval"];
            assert!(i[0].as_f64().expect("low") <= s && s <= i[1].as_f64().expect("high"));
        }
        for bad in [
            "by=person",
            "from=2026-13-01",
            "from=2026-05-01&to=2026-04-01",
        ] {
            let r = app.get(&format!("/api/v1/service/figures?{bad}")).await;
            assert_eq!(r.status, 422, "{bad}");
        }
        let page = app.get("/service/figures?by=window").await;
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains("data-chart=\"interval\"") && page.body.contains("W-01"),
            "{}",
            page.body
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn qr_codes_lead_to_the_rating_pages_and_windows_find_their_cases() {
    for app in spawn_apps().await {
        let png = app
            .client
            .get(format!("{}/rate/rate-bj-3/qr.png", app.base))
            .send()
            .await
            .expect("png");
        assert_eq!(png.status(), 200);
        assert_eq!(png.headers()["content-type"], "image/png");
        let bytes = png.bytes().await.expect("bytes");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let svg = app.get_as(None, "/rate/rate-bj-3/qr.svg").await;
        assert!(svg.header("content-type").starts_with("image/svg+xml"));
        assert!(svg.body.starts_with("<svg") && svg.body.contains("BJ-3"));
        assert_eq!(app.get_as(None, "/rate/nope/qr.png").await.status, 404);
        assert_eq!(app.get_as(None, "/rate/w/340102/W-99").await.status, 404);

        // At the counter: the case number and the last four digits of the phone.
        let page = app.get_as(None, "/rate/w/340102/W-01").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("瑶海区") && page.body.contains("W-01"));
        let token = rate_cookie(&page);
        let cookie = format!("kaohe_rate={token}");
        let r = app
            .post_form(
                "/rate/w/340102/W-01",
                &cookie,
                &[
                    ("csrf", &token),
                    ("case_id", "BJ-3"),
                    ("phone_last4", "2222"),
                ],
            )
            .await;
        assert_eq!((r.status, r.header("location")), (303, "/rate/rate-bj-3"));
        for (case, digits) in [
            ("BJ-3", "2223"),
            ("BJ-2", "1111"),
            ("NOPE", "2222"),
            ("BJ-3", "22"),
        ] {
            let r = app
                .post_form(
                    "/rate/w/340102/W-01",
                    &cookie,
                    &[("csrf", &token), ("case_id", case), ("phone_last4", digits)],
                )
                .await;
            assert_eq!(r.status, 422, "{case} {digits}");
            assert!(r.body.contains("没有找到与本窗口匹配的办件"));
        }

        // The leader's sheet lists the windows of the leader's unit only.
        let leader = app
            .sign_in_as("leader", &["unit_leader"], &["340102"], None)
            .await;
        let sheet = app.get_as(Some(&leader), "/service/qr").await;
        assert_eq!(sheet.status, 200);
        assert!(sheet.body.contains("/rate/w/340102/W-01/qr.svg"));
        assert!(!sheet.body.contains("340103"), "{}", sheet.body);
        // Their navigation offers the rectification queue, not the appeals.
        assert!(sheet.body.contains("href=\"/service/rectifications\""));
        assert!(!sheet.body.contains("href=\"/service/appeals\""));
        app.finish().await;
    }
}

/// An overdue rectification escalated by the sweep (督办): the leader of its unit and the
/// assessor covering it see the notice on their home page and the entry in the case's history;
/// the leader of another unit and a signed-out visitor see neither.
#[tokio::test]
async fn an_escalation_reaches_the_units_leader_and_the_assessor_only() {
    use kaohe_domain::ratings::{Channel, NewRating, RatingLevel};
    use kaohe_store::{IntakeOutcome, NewRectification, RatingIntake, escalate_overdue};
    for app in spawn_apps().await {
        let leader = app
            .sign_in_as("yaohai_leader", &["unit_leader"], &["340102"], None)
            .await;
        let other = app
            .sign_in_as("luyang_leader", &["unit_leader"], &["340103"], None)
            .await;
        let store = app.db.store.as_ref();
        // A bad review of BJ-3 (瑶海区) whose deadline passed 30 days ago, still open.
        let today = time::OffsetDateTime::now_utc()
            .to_offset(kaohe_web::CHINA_STANDARD_TIME)
            .date();
        let deadline = today - time::Duration::days(30);
        let out = store
            .insert_ratings(&[RatingIntake {
                rating: NewRating {
                    case_id: kaohe_domain::Code::parse("BJ-3").expect("code"),
                    level: RatingLevel::Dissatisfied,
                    tags: vec![],
                    comment: None,
                    channel: Channel::Online,
                    real_name: false,
                    contact: None,
                },
                rated_at: time::OffsetDateTime::now_utc(),
                rectification: Some(NewRectification {
                    unit: kaohe_domain::Code::parse("340102").expect("code"),
                    real_name: false,
                    opened_on: deadline - time::Duration::days(7),
                    deadline,
                }),
            }])
            .await
            .expect("rating");
        let IntakeOutcome::Stored(rating) = &out[0] else {
            panic!("{out:?}")
        };
        let home = app.get_as(Some(&leader), "/").await;
        assert!(!home.body.contains("id=\"escalated\""), "not swept yet");

        let done = escalate_overdue(store, today, 1, "system")
            .await
            .expect("sweep");
        assert_eq!(done.len(), 1, "{}: {done:?}", app.name);
        assert_eq!(done[0].rating_id, rating.id);
        assert_eq!(done[0].leaders, vec!["yaohai_leader"]);
        assert_eq!(done[0].assessors, vec!["tester"]);

        let notice = "1 件差评整改逾期已督办";
        for (who, session) in [
            ("leader", &leader),
            ("assessor", app.session.as_ref().expect("tester")),
        ] {
            let home = app.get_as(Some(session), "/").await;
            assert_eq!(home.status, 200, "{}", home.body);
            assert!(
                home.body.contains(notice)
                    && home.body.contains("href=\"/service/rectifications\""),
                "{}: {who}: {}",
                app.name,
                home.body
            );
            let page = app
                .get_as(
                    Some(session),
                    &format!("/service/rectifications/{}", rating.id),
                )
                .await;
            assert_eq!(page.status, 200, "{}", page.body);
            let entry = page
                .body
                .split("id=\"escalation\"")
                .nth(1)
                .and_then(|rest| rest.split("</li>").next())
                .unwrap_or_else(|| {
                    panic!("{}: {who}: no escalation entry: {}", app.name, page.body)
                });
            assert!(entry.contains("已督办"), "{entry}");
            assert!(entry.contains(&today.to_string()), "{entry}");
            assert!(
                entry.contains("yaohai_leader") && entry.contains("tester"),
                "{entry}"
            );
        }
        let english = app.get_as(Some(&leader), "/?lang=en").await;
        assert!(
            english
                .body
                .contains("1 overdue bad-review rectifications escalated to you"),
            "{}",
            english.body
        );
        let page = app
            .get_as(
                Some(&leader),
                &format!("/service/rectifications/{}?lang=en", rating.id),
            )
            .await;
        assert!(page.body.contains("Escalated"), "{}", page.body);

        // Neither the leader of another unit nor a signed-out visitor is told.
        for session in [Some(&other), None] {
            let home = app.get_as(session.map(String::as_str), "/").await;
            assert_eq!(home.status, 200);
            assert!(!home.body.contains("id=\"escalated\""), "{}", home.body);
            assert!(!home.body.contains("督办"), "{}", home.body);
        }
        let refused = app
            .get_as(
                Some(&other),
                &format!("/service/rectifications/{}", rating.id),
            )
            .await;
        assert_eq!(refused.status, 403, "{}", refused.body);

        // A second sweep records nothing; the notice stays until the case closes.
        assert!(
            escalate_overdue(store, today, 2, "system")
                .await
                .expect("sweep")
                .is_empty()
        );
        app.finish().await;
    }
}

/// Rating 1's case with a step, then an appeal filed and rejected, then another step, each a
/// second after the one before (times are kept to the second); returns the leader's session.
async fn steps_around_an_appeal(app: &TestApp) -> String {
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(1100));
    let leader = app
        .sign_in_as("leader", &["unit_leader"], &["340102"], None)
        .await;
    let cookie = format!("kaohe_session={leader}");
    let page = app.get_as(Some(&leader), "/service/rectifications/1").await;
    let csrf = csrf_in(&page);
    let step = |kind: &'static str, note: &'static str| {
        let (cookie, csrf) = (cookie.clone(), csrf.clone());
        async move {
            let r = app
                .post_form(
                    "/service/rectifications/1/steps",
                    &cookie,
                    &[("csrf", &csrf), ("kind", kind), ("note", note)],
                )
                .await;
            assert_eq!(r.status, 303, "{}: {kind}: {}", app.name, r.body);
        }
    };
    step("verify", "核实在申诉之前").await;
    pause().await;
    let r = app
        .post_multipart(
            "/service/rectifications/1/appeal",
            &cookie,
            &[
                ("csrf", csrf.as_str()),
                ("ground", "malicious"),
                ("evidence", "申诉的证据说明"),
            ],
            Some(("截图.png", b"\x89PNG\r\n\x1a\n evidence")),
        )
        .await;
    assert_eq!(r.status, 303, "{}: {}", app.name, r.body);
    pause().await;
    let assessor = app
        .sign_in_as("city", &["assessor"], &["340100"], None)
        .await;
    let page = app
        .get_as(Some(&assessor), "/service/rectifications/1")
        .await;
    let r = app
        .post_form(
            "/service/appeals/1",
            &format!("kaohe_session={assessor}"),
            &[
                ("csrf", &csrf_in(&page)),
                ("decision", "rejected"),
                ("reason", "复核认为差评属实"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}: {}", app.name, r.body);
    pause().await;
    step("rectify", "整改在申诉之后").await;
    leader
}

#[tokio::test]
async fn a_case_history_lists_its_steps_and_its_appeal_in_time_order() {
    for app in spawn_apps().await {
        let leader = steps_around_an_appeal(&app).await;
        let page = app.get_as(Some(&leader), "/service/rectifications/1").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let history = page
            .body
            .split("id=\"steps\"")
            .nth(1)
            .and_then(|rest| rest.split("</ol>").next())
            .unwrap_or_else(|| panic!("{}: no history: {}", app.name, page.body));
        let entries: Vec<&str> = history.split("<li").skip(1).collect();
        assert_eq!(entries.len(), 4, "{}: {history}", app.name);
        // One list, in time order: the step, the appeal filed, decided, the next step.
        assert!(entries[0].contains("核实在申诉之前"), "{}", entries[0]);
        assert!(
            entries[1].contains("id=\"appeal-filed\"")
                && entries[1].contains("提出申诉")
                && entries[1].contains("leader")
                && entries[1].contains("恶意差评")
                && entries[1].contains("申诉的证据说明"),
            "{}",
            entries[1]
        );
        assert!(
            entries[2].contains("id=\"appeal-decided\"")
                && entries[2].contains("申诉复核")
                && entries[2].contains("city")
                && entries[2].contains("申诉不成立")
                && entries[2].contains("复核认为差评属实"),
            "{}",
            entries[2]
        );
        assert!(entries[3].contains("整改在申诉之后"), "{}", entries[3]);
        // When on each, and the appeal's panel keeps its ground, evidence and file.
        for entry in &entries {
            assert!(
                entry.contains("<span class=\"muted\">("),
                "{}: {entry}",
                app.name
            );
        }
        let panel = page
            .body
            .split("id=\"appeal\"")
            .nth(1)
            .unwrap_or_else(|| panic!("{}: no appeal panel", app.name));
        assert!(
            panel.contains("申诉的证据说明")
                && panel.contains("申诉不成立")
                && panel.contains(">截图.png</a>"),
            "{panel}"
        );
        let english = app
            .get_as(Some(&leader), "/service/rectifications/1?lang=en")
            .await;
        assert!(
            english.body.contains("Appeal filed") && english.body.contains("Appeal decided"),
            "{}",
            english.body
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn the_audit_log_shows_every_event_of_a_case_in_words() {
    for app in spawn_apps().await {
        let leader = steps_around_an_appeal(&app).await;
        // The callback screen (audited) and a failed sign-in, for more kinds of entries.
        let contact = app
            .get_as(Some(&leader), "/service/rectifications/1/contact")
            .await;
        assert_eq!(contact.status, 200);
        let failed = app.try_login("leader", "not the password", "").await;
        assert_eq!(failed.status, 401);
        let auditor = app.sign_in_as("auditor", &["audit_admin"], &[], None).await;
        let kinds = [
            "user.login",
            "user.login_failed",
            "rectification.step",
            "appeal.file",
            "appeal.decide",
            "contact.view",
            "ratings.seal",
        ];
        for (lang, header) in [
            ("zh", "<th scope=\"col\">操作</th>"),
            ("en", "<th scope=\"col\">Action</th>"),
        ] {
            let log = app
                .get_as(Some(&auditor), &format!("/admin/audit?lang={lang}"))
                .await;
            assert_eq!(log.status, 200, "{}", log.body);
            assert!(
                log.body.contains(header),
                "{}: {lang}: the column header",
                app.name
            );
            assert!(
                !log.body.contains("<th scope=\"col\">操作类型"),
                "not the filter's label"
            );
            let mut seen = Vec::new();
            for row in log.table_rows("audit") {
                let code = row
                    .split("title=\"")
                    .nth(1)
                    .and_then(|s| s.split('"').next())
                    .expect("the action's code");
                if !kaohe_domain::audit::action::ALL.contains(&code) {
                    continue; // the seeds of the tests
                }
                seen.push(code.to_owned());
                let cells: Vec<&str> = row.split("<td").collect();
                let (action, target, details) = (cells[4], cells[5], cells[6]);
                // The target by what it is: `评价 1`, not `rating:1`.
                let target = without_tags(target);
                assert!(
                    !target.contains(':') && !target.contains('_'),
                    "{}: {lang}: {code}: target {target}",
                    app.name
                );
                assert!(
                    !action.contains(&format!(">{code}<")),
                    "{}: {lang}: {code} not in words: {action}",
                    app.name
                );
                // No field name or value left as a code: `snake_case` or `dotted.code`,
                // and in Chinese no Latin word at all but the names of the accounts, the file's
                // suffix and digests.
                let text = without_tags(details);
                for word in text
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                    .map(|w| w.trim_matches('.'))
                    .filter(|w| w.starts_with(|c: char| c.is_ascii_lowercase()))
                {
                    let coded = word.contains('_') || word.contains('.');
                    let digest = word.len() == 64 && word.chars().all(|c| c.is_ascii_hexdigit());
                    let named = ["leader", "city", "png"].contains(&word);
                    assert!(
                        !coded && (lang == "en" || digest || named),
                        "{}: {lang}: {code}: {word} in {text}",
                        app.name
                    );
                }
                // Field names are words: in English they start with a capital.
                for key in details.split("<span class=\"muted\">").skip(1) {
                    let key = key.split('<').next().unwrap_or_default();
                    assert!(
                        !key.starts_with(|c: char| c.is_ascii_lowercase()),
                        "{}: {lang}: {code}: field {key}",
                        app.name
                    );
                }
            }
            for kind in kinds {
                assert!(
                    seen.iter().any(|s| s == kind),
                    "{}: {lang}: no {kind} among {seen:?}",
                    app.name
                );
            }
        }
        app.finish().await;
    }
}

/// The text of an HTML fragment, its tags dropped.
fn without_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}
