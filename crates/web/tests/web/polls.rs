//! Polls on the web (民主测评、民主推荐): the public voting page (codes typed or scanned, the
//! ballot, its confirmation, refusals that store nothing, the rate limit), 1,000 codes cast
//! concurrently over HTTP and tallied, the organizer's pages (creation, code slips with QR
//! codes, closing, paper counts with four eyes, results) and `/api/v1/polls` (never a code or
//! a ballot, no tally while open), with access per role.

use crate::accounts::csrf_in;
use crate::helpers::{Fetched, TestApp, spawn_apps, spawn_apps_with_votes};
use kaohe_domain::grade::AnnualGrade;
use kaohe_domain::polls::{BallotCode, Item, Poll, PollKind, PollSettings, RaterGroup};
use kaohe_domain::{Code, Labeled, NewAuditEntry};
use kaohe_store::polls::issue_codes;
use serde_json::{Value, json};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

fn code(s: &str) -> Code {
    Code::parse(s).expect("code")
}

/// An evaluation of C001 and C002 (瑶海区) on the overall grade and 德, one group of `codes`
/// raters, open from `opens` for `hours`.
fn evaluation(id: &str, codes: u32, opens: OffsetDateTime, hours: i64) -> Poll {
    Poll {
        id: code(id),
        title: format!("{id} 民主测评"),
        kind: PollKind::Evaluation,
        cycle: None,
        people: vec![code("C001"), code("C002")],
        items: vec![Item::Overall, Item::De],
        seats: 0,
        groups: vec![RaterGroup {
            id: code("peers"),
            name: "同级".into(),
            weight: 1.0,
            codes,
            merge_into: None,
        }],
        opens_at: opens,
        closes_at: opens + Duration::hours(hours),
        settings: PollSettings::default(),
    }
}

/// Stores `poll` and draws all its codes at `at`.
async fn with_codes(app: &TestApp, poll: &Poll, at: OffsetDateTime) -> Vec<BallotCode> {
    let store = app.db.store.as_ref();
    store
        .create_poll(
            poll,
            "test",
            &NewAuditEntry::new("test", "poll.create", "t"),
        )
        .await
        .expect("poll");
    let g = &poll.groups[0];
    issue_codes(
        store,
        &poll.id,
        &g.id,
        g.codes,
        at,
        &NewAuditEntry::new("test", "poll.codes", "t"),
    )
    .await
    .expect("codes")
}

/// The form of a ballot grading every slot of `poll` with the grades of `grade`.
fn ballot_form(poll: &Poll, grade: impl Fn(usize, usize) -> AnnualGrade) -> Vec<(String, String)> {
    let mut form = Vec::new();
    for p in 0..poll.people.len() {
        for i in 0..poll.items.len() {
            form.push((format!("g{p}_{i}"), grade(p, i).code().to_owned()));
        }
    }
    form
}

/// Posts the voting form with its pre-session token (any token: cookie and field agree).
async fn post_vote(
    client: &reqwest::Client,
    base: &str,
    code: &str,
    poll: &str,
    step: &str,
    choices: &[(String, String)],
) -> Fetched {
    let mut form: Vec<(String, String)> = vec![
        ("csrf".into(), "t0ken".into()),
        ("code".into(), code.into()),
        ("poll".into(), poll.into()),
        ("step".into(), step.into()),
    ];
    form.extend(choices.iter().cloned());
    let response = client
        .post(format!("{base}/vote"))
        .header("cookie", "kaohe_vote=t0ken")
        .form(&form)
        .send()
        .await
        .expect("POST /vote");
    Fetched::read(response).await
}

/// Ballots and used codes of a poll, as stored: its ballots waiting in the pool (the tests
/// cast into one poll at a time) or, once it is sealed, counted.
async fn stored(app: &TestApp, poll: &Poll) -> (u32, u32) {
    let store = app.db.store.as_ref();
    let ballots = match store.tallies(poll).await {
        Ok(tallies) => tallies.iter().map(|t| t.ballots).sum(),
        Err(_) => u32::try_from(store.pooled_ballots().await.expect("pool")).expect("count"),
    };
    let used = store
        .code_counts(&poll.id)
        .await
        .expect("counts")
        .iter()
        .map(|c| c.used)
        .sum();
    (ballots, used)
}

/// The session's CSRF token, for the JSON API and the forms.
async fn session_csrf(app: &TestApp) -> String {
    csrf_in(&app.get("/account").await)
}

async fn api_post(app: &TestApp, csrf: &str, path: &str, body: &Value) -> Fetched {
    let response = app
        .client
        .post(format!("{}{path}", app.base))
        .header(
            "cookie",
            format!(
                "kaohe_session={}",
                app.session.as_deref().unwrap_or_default()
            ),
        )
        .header("x-csrf-token", csrf)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("POST");
    Fetched::read(response).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_codes_cast_concurrently_over_http_are_tallied() {
    let votes = kaohe_web::VoteLimit {
        burst: 5_000,
        per_minute: 5_000,
    };
    for app in spawn_apps_with_votes(votes).await {
        let now = OffsetDateTime::now_utc();
        let poll = evaluation("P-1000", 1_000, now - Duration::hours(1), 2);
        let codes = with_codes(&app, &poll, now).await;
        assert_eq!(codes.len(), 1_000);
        // Rater k grades person p on item i with grade (k + p + i) % 4: a known tally.
        let grade = |k: usize, p: usize, i: usize| AnnualGrade::ALL[(k + p + i) % 4];
        let mut expected = [[0u32; 4]; 4];
        for k in 0..codes.len() {
            for p in 0..2 {
                for i in 0..2 {
                    expected[p * 2 + i][(k + p + i) % 4] += 1;
                }
            }
        }
        let base = Arc::new(app.base.clone());
        let client = reqwest::Client::new();
        let gate = Arc::new(tokio::sync::Semaphore::new(32));
        let mut tasks = tokio::task::JoinSet::new();
        for (k, c) in codes.iter().enumerate() {
            let form = ballot_form(&poll, |p, i| grade(k, p, i));
            let (base, client, gate) = (Arc::clone(&base), client.clone(), Arc::clone(&gate));
            // Typed as a rater would: lower case with spaces.
            let typed = c.printed().to_lowercase().replace('-', " ");
            tasks.spawn(async move {
                let _permit = gate.acquire().await.expect("permit");
                post_vote(&client, &base, &typed, "P-1000", "cast", &form)
                    .await
                    .status
            });
        }
        let statuses = tasks.join_all().await;
        let cast = statuses.iter().filter(|s| **s == 201).count();
        assert_eq!(cast, 1_000, "{}: {statuses:?}", app.name);
        assert_eq!(stored(&app, &poll).await, (1_000, 1_000), "{}", app.name);
        // Closed, the count matches the ballots cast.
        let csrf = session_csrf(&app).await;
        let closed = api_post(&app, &csrf, "/api/v1/polls/P-1000/close", &json!({})).await;
        assert_eq!(closed.status, 200, "{}: {}", app.name, closed.body);
        assert_eq!(closed.json()["state"], "closed");
        let r = app.get("/api/v1/polls/P-1000/results").await;
        assert_eq!(r.status, 200, "{}: {}", app.name, r.body);
        let v = r.json();
        for (p, person) in v["people"].as_array().expect("people").iter().enumerate() {
            for (i, item) in person["items"]
                .as_array()
                .expect("items")
                .iter()
                .enumerate()
            {
                let votes: Vec<u32> = item["votes"]
                    .as_array()
                    .expect("votes")
                    .iter()
                    .map(|n| u32::try_from(n.as_u64().expect("count")).expect("u32"))
                    .collect();
                assert_eq!(votes, expected[p * 2 + i].to_vec(), "{}: {p} {i}", app.name);
            }
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn refused_ballots_store_nothing_and_say_why() {
    for app in spawn_apps().await {
        let now = OffsetDateTime::now_utc();
        let a = evaluation("P-A", 6, now - Duration::hours(1), 2);
        let b = evaluation("P-B", 6, now - Duration::hours(1), 2);
        let later = evaluation("P-LATER", 6, now + Duration::days(1), 2);
        let past = evaluation("P-PAST", 6, now - Duration::days(2), 2);
        let codes_a = with_codes(&app, &a, now).await;
        let codes_b = with_codes(&app, &b, now).await;
        let codes_later = with_codes(&app, &later, now).await;
        let codes_past = with_codes(&app, &past, now - Duration::days(2)).await;
        let client = &app.client;
        let good = ballot_form(&a, |_, _| AnnualGrade::Competent);
        // The code's page: the ballot of every person and item, nothing pre-selected.
        let page = app
            .get(&format!(
                "/vote?code={}",
                codes_a[0].printed().to_lowercase()
            ))
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("张三") && page.body.contains("李四"));
        assert_eq!(page.body.matches("type=\"radio\"").count(), 2 * 2 * 4);
        assert!(!page.body.contains(" checked"));
        // Without the form's token: refused.
        let forged = client
            .post(format!("{}/vote", app.base))
            .form(&[
                ("code", codes_a[0].as_str()),
                ("poll", "P-A"),
                ("step", "cast"),
            ])
            .send()
            .await
            .expect("POST");
        assert_eq!(forged.status().as_u16(), 403);
        // Incomplete: asked again, the choices kept.
        let r = post_vote(
            client,
            &app.base,
            codes_a[0].as_str(),
            "P-A",
            "confirm",
            &good[..1],
        )
        .await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("请为每个人的每个项目都选择一个等次"));
        assert_eq!(r.body.matches(" checked").count(), 1);
        // Complete: the confirmation shows the choices in words, then the cast.
        let r = post_vote(
            client,
            &app.base,
            codes_a[0].as_str(),
            "P-A",
            "confirm",
            &good,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.body.contains("id=\"confirm\"") && r.body.contains("德：称职"),
            "{}",
            r.body
        );
        assert_eq!(
            stored(&app, &a).await,
            (0, 0),
            "nothing stored before the cast"
        );
        let r = post_vote(client, &app.base, codes_a[0].as_str(), "P-A", "cast", &good).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert!(r.body.contains("投票成功"));
        assert_eq!(stored(&app, &a).await, (1, 1));
        // Used twice.
        let r = post_vote(client, &app.base, codes_a[0].as_str(), "P-A", "cast", &good).await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(r.body.contains("已经投过票"));
        let r = app
            .get(&format!("/vote?code={}", codes_a[0].as_str()))
            .await;
        assert_eq!(r.status, 409);
        assert!(r.body.contains("已经投过票") && !r.body.contains("type=\"radio\""));
        // A code of another poll.
        let r = post_vote(client, &app.base, codes_b[0].as_str(), "P-A", "cast", &good).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("属于另一次测评"), "{}", r.body);
        // Made up: well-formed but issued by no poll, or not a code at all.
        let made_up = "2345-6789-ABCD";
        let r = post_vote(client, &app.base, made_up, "P-A", "cast", &good).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("没有这个测评码"), "{}", r.body);
        let r = app.get(&format!("/vote?code={made_up}")).await;
        assert!(r.body.contains("没有这个测评码"));
        let r = app.get("/vote?code=I0I0-I0I0").await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("测评码格式不对"));
        // Before the opening and after the closing.
        let r = post_vote(
            client,
            &app.base,
            codes_later[0].as_str(),
            "P-LATER",
            "cast",
            &good,
        )
        .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("尚未开始"), "{}", r.body);
        let r = app
            .get(&format!("/vote?code={}", codes_past[0].as_str()))
            .await;
        assert!(r.body.contains("已经结束") && !r.body.contains("type=\"radio\""));
        let r = post_vote(
            client,
            &app.base,
            codes_past[0].as_str(),
            "P-PAST",
            "cast",
            &good,
        )
        .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("已经结束"));
        // Closed early: refused too.
        let csrf = session_csrf(&app).await;
        let closed = api_post(&app, &csrf, "/api/v1/polls/P-A/close", &json!({})).await;
        assert_eq!(closed.status, 200, "{}", closed.body);
        let r = post_vote(client, &app.base, codes_a[1].as_str(), "P-A", "cast", &good).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("已经结束"));
        // Nothing stored by any refusal.
        assert_eq!(stored(&app, &a).await, (1, 1), "{}", app.name);
        for p in [&b, &later, &past] {
            assert_eq!(stored(&app, p).await, (0, 0), "{}: {}", app.name, p.id);
        }
        // In English on request.
        let r = app
            .get(&format!("/vote?code={}&lang=en", codes_a[0].as_str()))
            .await;
        assert!(r.body.contains("used already"), "{}", r.body);
        app.finish().await;
    }
}

#[tokio::test]
async fn the_voting_page_refuses_beyond_its_burst() {
    let votes = kaohe_web::VoteLimit {
        burst: 3,
        per_minute: 1,
    };
    for app in spawn_apps_with_votes(votes).await {
        let mut statuses = Vec::new();
        for guess in [
            "2345-6789-ABCD",
            "2345-6789-ABCE",
            "2345-6789-ABCF",
            "2345-6789-ABCG",
        ] {
            statuses.push(app.get(&format!("/vote?code={guess}")).await.status);
        }
        assert_eq!(statuses, vec![422, 422, 422, 429], "{}", app.name);
        let r = post_vote(&app.client, &app.base, "2345-6789-ABCH", "P", "cast", &[]).await;
        assert_eq!(r.status, 429, "posting takes from the same bucket");
        assert!(r.body.contains("操作过于频繁"), "{}", r.body);
        app.finish().await;
    }
}

#[tokio::test]
async fn no_tally_while_open_and_no_code_or_ballot_through_the_api() {
    for app in spawn_apps().await {
        let now = OffsetDateTime::now_utc();
        let poll = evaluation("P-OPEN", 6, now - Duration::hours(1), 2);
        let codes = with_codes(&app, &poll, now).await;
        let grades = ballot_form(&poll, |_, _| AnnualGrade::Excellent);
        for c in &codes[..5] {
            let r = post_vote(
                &app.client,
                &app.base,
                c.as_str(),
                "P-OPEN",
                "cast",
                &grades,
            )
            .await;
            assert_eq!(r.status, 201);
        }
        // The organizer's page: turnout, never a tally.
        let page = app.get("/polls/P-OPEN").await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("id=\"withheld\"") && page.body.contains("测评进行中"));
        assert!(!page.body.contains("id=\"reported-groups\""));
        assert!(!page.body.contains("优秀率"));
        // The API: 409 for the results while open.
        let r = app.get("/api/v1/polls/P-OPEN/results").await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(r.json()["error"]["code"], "poll_open");
        // Neither the poll nor the list holds a code or its hash.
        let store = app.db.store.as_ref();
        for path in ["/api/v1/polls", "/api/v1/polls/P-OPEN"] {
            let r = app.get(path).await;
            assert_eq!(r.status, 200);
            for c in &codes {
                let hash = kaohe_domain::polls::code_hash(&poll.id, c);
                assert!(!r.body.contains(c.as_str()) && !r.body.contains(&hash));
            }
            assert!(!r.body.contains("ballots") && !r.body.contains("excellent"));
        }
        assert_eq!(
            app.get("/api/v1/polls/P-OPEN").await.json()["groups"][0]["used"],
            5
        );
        // No route of the API reads codes or ballots.
        let doc = app.get("/api/v1/openapi.json").await.json();
        let paths = doc["paths"].as_object().expect("paths");
        for path in paths.keys().filter(|p| p.starts_with("/api/v1/polls")) {
            assert!(!path.contains("code") && !path.contains("ballot"), "{path}");
        }
        assert_eq!(
            paths
                .keys()
                .filter(|p| p.starts_with("/api/v1/polls"))
                .count(),
            4
        );
        // Closed with a quorum (5 of 6): the results, on the page and through the API.
        store
            .close_poll(
                &poll.id,
                OffsetDateTime::now_utc(),
                &NewAuditEntry::new("test", "poll.close", "t"),
                &crate::helpers::ballot_key(),
            )
            .await
            .expect("close");
        let r = app.get("/api/v1/polls/P-OPEN/results").await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            r.json()["people"][0]["items"][0]["votes"],
            json!([5, 0, 0, 0])
        );
        let page = app.get("/polls/P-OPEN").await;
        assert!(page.body.contains("id=\"reported-groups\"") && page.body.contains("100.0%"));
        app.finish().await;
    }
}

#[tokio::test]
async fn organizers_create_draw_close_and_count_paper_with_four_eyes() {
    for app in spawn_apps().await {
        let csrf = session_csrf(&app).await;
        let cookie = format!(
            "kaohe_session={}",
            app.session.as_deref().unwrap_or_default()
        );
        let today = OffsetDateTime::now_utc()
            .to_offset(kaohe_web::CHINA_STANDARD_TIME)
            .date();
        // A form with a mistake is shown again with what is wrong.
        let mut form = vec![
            ("csrf", csrf.clone()),
            ("id", "P-WEB".to_owned()),
            ("title", "领导班子民主测评".to_owned()),
            ("kind", "evaluation".to_owned()),
            ("people", "C001, C002 C003".to_owned()),
            ("items", "lian".to_owned()),
            ("group_id_0", "peers".to_owned()),
            ("group_name_0", "同级".to_owned()),
            ("group_weight_0", "0.6".to_owned()),
            ("group_codes_0", "6".to_owned()),
            ("group_id_1", "public".to_owned()),
            ("group_name_1", "群众代表".to_owned()),
            ("group_weight_1", "0.4".to_owned()),
            ("group_codes_1", "0".to_owned()),
            ("opens", format!("{}T00:00", today - Duration::days(1))),
            ("closes", format!("{}T23:59", today + Duration::days(1))),
        ];
        let pairs = |f: &[(&'static str, String)]| -> Vec<(&'static str, String)> { f.to_vec() };
        let send = |f: Vec<(&'static str, String)>| {
            let cookie = cookie.clone();
            let app = &app;
            async move {
                let borrowed: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
                app.post_form("/polls", &cookie, &borrowed).await
            }
        };
        let r = send(pairs(&form)).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(
            r.body.contains("组别 public 的测评码数量")
                && r.body.contains("<option value=\"C003\" selected>"),
            "{}",
            r.body
        );
        form[13].1 = "5".to_owned();
        let r = send(pairs(&form)).await;
        assert_eq!(r.status, 303, "{}: {}", app.name, r.body);
        assert_eq!(r.header("location"), "/polls/P-WEB");
        let page = app.get("/polls/P-WEB").await;
        assert!(
            page.body.contains("王五") && page.body.contains("廉"),
            "{}",
            page.body
        );
        assert!(app.get("/polls").await.body.contains("领导班子民主测评"));
        // Codes for the peers: an A4 sheet of six slips with QR codes, shown once.
        let sheet = app
            .post_form(
                "/polls/P-WEB/codes",
                &cookie,
                &[("csrf", &csrf), ("group", "peers"), ("count", "6")],
            )
            .await;
        assert_eq!(sheet.status, 200, "{}", sheet.body);
        let codes: Vec<String> = sheet
            .body
            .split("class=\"slip-code\">")
            .skip(1)
            .map(|s| s[..s.find('<').expect("end")].to_owned())
            .collect();
        assert_eq!(codes.len(), 6);
        assert_eq!(sheet.body.matches("<svg").count(), 6);
        assert!(sheet.body.contains("/vote"));
        let again = app.get("/polls/P-WEB").await;
        for c in &codes {
            assert!(!again.body.contains(c.as_str()), "a code is shown once");
        }
        // No more than the group holds.
        let more = app
            .post_form(
                "/polls/P-WEB/codes",
                &cookie,
                &[("csrf", &csrf), ("group", "peers"), ("count", "1")],
            )
            .await;
        assert_eq!(more.status, 409, "{}", more.body);
        assert!(
            more.body.contains("该组最多还能生成 0 个测评码"),
            "{}",
            more.body
        );
        // Five raters vote through the page: 不称职 for 王五 from three of them.
        let poll = app
            .db
            .store
            .poll(&code("P-WEB"))
            .await
            .expect("poll")
            .expect("stored");
        for (k, c) in codes.iter().take(5).enumerate() {
            let form = ballot_form(&poll, |p, _| {
                if p == 2 && k < 3 {
                    AnnualGrade::Incompetent
                } else {
                    AnnualGrade::Competent
                }
            });
            let r = post_vote(&app.client, &app.base, c, "P-WEB", "cast", &form).await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
        // The public group votes on paper: entered by one assessor, confirmed by another.
        let mut paper: Vec<(&str, String)> = vec![
            ("csrf", csrf.clone()),
            ("group", "public".into()),
            ("ballots", "5".into()),
        ];
        let names: Vec<String> = (0..3)
            .flat_map(|p| (0..2).map(move |i| format!("c{p}_{i}_1")))
            .collect();
        for n in &names {
            paper.push((n.as_str(), "5".into()));
        }
        let borrowed: Vec<(&str, &str)> = paper.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app
            .post_form("/polls/P-WEB/paper", &cookie, &borrowed)
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let page = app.get("/polls/P-WEB").await;
        assert!(page.body.contains("待另一人复核"), "{}", page.body);
        let same = app
            .post_form(
                "/polls/P-WEB/paper/confirm",
                &cookie,
                &[("csrf", &csrf), ("group", "public")],
            )
            .await;
        assert_eq!(same.status, 422, "four eyes: {}", same.body);
        assert!(
            same.body.contains("须由录入人以外的另一人复核确认"),
            "{}",
            same.body
        );
        let other = app
            .sign_in_as("second", &["assessor"], &["340000"], None)
            .await;
        let other_page = app.get_as(Some(&other), "/account").await;
        let other_csrf = csrf_in(&other_page);
        let r = app
            .post_form(
                "/polls/P-WEB/paper/confirm",
                &format!("kaohe_session={other}"),
                &[("csrf", &other_csrf), ("group", "public")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        // Closed early: the results with the flag in words.
        let r = app
            .post_form("/polls/P-WEB/close", &cookie, &[("csrf", &csrf)])
            .await;
        assert_eq!(r.status, 303);
        let page = app.get("/polls/P-WEB").await;
        assert!(page.body.contains("已结束"));
        assert!(
            page.body.contains("id=\"reported-groups\""),
            "{}",
            page.body
        );
        assert!(
            page.body.contains("不称职票超过三分之一，需组织调整研判"),
            "{}",
            page.body
        );
        assert!(page.body.contains("称职以上率"));
        let r = app.get("/api/v1/polls/P-WEB/results").await;
        let flags = &r.json()["people"][2]["flags"];
        assert!(
            flags
                .as_array()
                .is_some_and(|f| f.contains(&json!("adjustment_review"))),
            "{flags}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn recommendations_are_ranked_with_ties_and_created_through_the_api() {
    for app in spawn_apps().await {
        let csrf = session_csrf(&app).await;
        let now = OffsetDateTime::now_utc();
        let fmt = &time::format_description::well_known::Rfc3339;
        let body = json!({
            "id": "P-REC",
            "title": "民主推荐",
            "kind": "recommendation",
            "people": ["C001", "C002", "C003"],
            "seats": 1,
            "groups": [{"id": "all", "name": "全体", "weight": 1.0, "codes": 6}],
            "opens_at": (now - Duration::hours(1)).format(fmt).expect("time"),
            "closes_at": (now + Duration::hours(1)).format(fmt).expect("time"),
        });
        let r = api_post(&app, &csrf, "/api/v1/polls", &body).await;
        assert_eq!(r.status, 201, "{}: {}", app.name, r.body);
        assert_eq!(r.json()["state"], "open");
        let again = api_post(&app, &csrf, "/api/v1/polls", &body).await;
        assert_eq!(again.status, 409, "{}", again.body);
        let codes = issue_codes(
            app.db.store.as_ref(),
            &code("P-REC"),
            &code("all"),
            6,
            now,
            &NewAuditEntry::new("test", "poll.codes", "t"),
        )
        .await
        .expect("codes");
        // The ballot offers checkboxes; two choices of one seat are refused.
        let page = app.get(&format!("/vote?code={}", codes[0].as_str())).await;
        assert_eq!(page.body.matches("type=\"checkbox\"").count(), 3);
        let two = vec![
            ("n".to_owned(), "0".to_owned()),
            ("n".to_owned(), "1".to_owned()),
        ];
        let r = post_vote(
            &app.client,
            &app.base,
            codes[0].as_str(),
            "P-REC",
            "confirm",
            &two,
        )
        .await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("最多只能推荐 1 人"), "{}", r.body);
        // Two for 张三, two for 李四, one for 王五: a tie at the top.
        for (k, c) in codes.iter().take(5).enumerate() {
            let pick = vec![(
                "n".to_owned(),
                (k % 2 + if k == 4 { 2 } else { 0 }).min(2).to_string(),
            )];
            let r = post_vote(&app.client, &app.base, c.as_str(), "P-REC", "cast", &pick).await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
        let r = api_post(&app, &csrf, "/api/v1/polls/P-REC/close", &json!({})).await;
        assert_eq!(r.status, 200);
        let page = app.get("/polls/P-REC").await;
        let rows = page.table_rows("ranking");
        assert_eq!(rows.len(), 3, "{}", page.body);
        assert!(
            rows[0].contains("并列第 1 名") && rows[1].contains("并列第 1 名"),
            "{rows:?}"
        );
        assert!(rows[2].contains("王五"));
        app.finish().await;
    }
}

#[tokio::test]
async fn polls_are_for_assessors_within_their_scope() {
    for app in spawn_apps().await {
        let now = OffsetDateTime::now_utc();
        let poll = evaluation("P-SCOPE", 6, now - Duration::hours(1), 2);
        with_codes(&app, &poll, now).await;
        // An assessor of 庐阳区 only: C001 and C002 serve in 瑶海区.
        let other = app
            .sign_in_as("luyang", &["assessor"], &["340103"], None)
            .await;
        let list = app.get_as(Some(&other), "/polls").await;
        assert_eq!(list.status, 200);
        assert!(!list.body.contains("P-SCOPE"));
        let page = app.get_as(Some(&other), "/polls/P-SCOPE").await;
        assert_eq!(page.status, 403);
        assert!(
            page.header("content-type").starts_with("text/html"),
            "an HTML page"
        );
        assert!(page.body.contains("<html lang=\"zh-CN\""), "{}", page.body);
        let api = app.get_as(Some(&other), "/api/v1/polls/P-SCOPE").await;
        assert_eq!(api.status, 403);
        assert_eq!(api.json()["error"]["code"], "forbidden");
        assert_eq!(
            app.get_as(Some(&other), "/api/v1/polls").await.json()["polls"],
            json!([])
        );
        // An official: no menu item, and an HTML refusal in their language.
        let official = app
            .sign_in_as("c003", &["official"], &[], Some("C003"))
            .await;
        let home = app.get_as(Some(&official), "/").await;
        assert!(!home.body.contains("href=\"/polls\""));
        let refused = app.get_as(Some(&official), "/polls?lang=en").await;
        assert_eq!(refused.status, 403);
        assert!(refused.header("content-type").starts_with("text/html"));
        assert!(
            refused.body.contains("<html lang=\"en\""),
            "{}",
            refused.body
        );
        // The assessor of the whole province: the menu item, the poll.
        let home = app.get("/").await;
        assert!(home.body.contains("href=\"/polls\"") && home.body.contains("民主测评"));
        assert!(app.get("/polls").await.body.contains("P-SCOPE 民主测评"));
        // The anonymous: to the sign-in page; the API answers 401.
        assert_eq!(app.get_as(None, "/polls").await.status, 303);
        assert_eq!(app.get_as(None, "/api/v1/polls").await.status, 401);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_poll_for_a_cycle_holds_only_its_people_and_links_its_committee() {
    use kaohe_store::cycles::work;
    for app in spawn_apps().await {
        let store = app.db.store.as_ref();
        work::store_presets(store, "test").await.expect("presets");
        let year = OffsetDateTime::now_utc().year();
        let spec = work::CycleSpec {
            name: format!("{year}年度考核"),
            kind: kaohe_domain::cycles::CycleKind::Annual,
            start: time::Date::from_calendar_date(year, time::Month::January, 1).expect("date"),
            end: time::Date::from_calendar_date(year, time::Month::December, 31).expect("date"),
            framework_id: "civil_servant_annual".into(),
            framework_version: None,
            units: vec![code("340102")],
        };
        let cycle = work::create(store, &spec, "test").await.expect("cycle");
        let csrf = session_csrf(&app).await;
        let now = OffsetDateTime::now_utc();
        let fmt = &time::format_description::well_known::Rfc3339;
        let body = |id: &str, cycle: i64, person: &str| {
            json!({
                "id": id,
                "title": "年度考核民主测评",
                "kind": "evaluation",
                "cycle": cycle,
                "people": [person],
                "items": ["de", "lian"],
                "groups": [{"id": "peers", "name": "同级", "weight": 1.0, "codes": 6}],
                "opens_at": (now - Duration::hours(1)).format(fmt).expect("time"),
                "closes_at": (now + Duration::hours(1)).format(fmt).expect("time"),
            })
        };
        let r = api_post(&app, &csrf, "/api/v1/polls", &body("P-NONE", 999, "C001")).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("no cycle 999"), "{}", r.body);
        // C004 serves in 庐阳区, outside the cycle's scope.
        let r = api_post(&app, &csrf, "/api/v1/polls", &body("P-OUT", cycle, "C004")).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(
            r.body.contains("C004 is not one of the people"),
            "{}",
            r.body
        );
        let r = api_post(
            &app,
            &csrf,
            "/api/v1/polls",
            &body("P-CYCLE", cycle, "C001"),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.json()["cycle"], cycle.to_string());
        let page = app.get("/polls/P-CYCLE").await;
        assert!(
            page.body
                .contains(&format!("href=\"/cycles/{cycle}/committee\"")),
            "{}",
            page.body
        );
        app.finish().await;
    }
}
