//! Public service ratings through the binary: API tokens, and the durability of acknowledged
//! ratings across a crash.

use crate::user::run_with_stdin;
use crate::util::{Server, ok, run};
use kaohe_domain::{Code, NewAuditEntry, Unit, UnitKind};
use kaohe_store::testing::TestDatabase;
use std::sync::{Arc, Mutex};

/// A unit, a service-system account and a token; returns the token.
async fn set_up(db: &TestDatabase) -> String {
    db.store
        .upsert_units(
            &[Unit {
                code: Code::parse("340102").unwrap(),
                name: "瑶海区".into(),
                kind: UnitKind::County,
                parent: None,
            }],
            &NewAuditEntry::new("test", "seed.units", "ratings.rs"),
        )
        .await
        .unwrap();
    let out = run_with_stdin(
        &db.url,
        &["user", "add", "gov_portal", "--role", "service_system"],
        "Portal-Secret-2026\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Only a service-system account gets a token.
    let refused = run(&db.url, &["token", "issue", "nobody"]);
    assert!(!refused.status.success());
    let printed = ok(
        &db.url,
        &["token", "issue", "gov_portal", "--label", "一网通办"],
    );
    let token = printed
        .lines()
        .find(|l| l.starts_with("kh_"))
        .expect("token line")
        .to_owned();
    let listed = ok(&db.url, &["token", "list"]);
    assert!(listed.contains("gov_portal\t一网通办"), "{listed}");
    assert!(!listed.contains(&token), "a token is shown once only");
    token
}

fn cases(n: usize) -> serde_json::Value {
    let closed = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    let fmt = &time::format_description::well_known::Rfc3339;
    let closed = closed.format(fmt).unwrap();
    serde_json::json!({
        "cases": (0..n).map(|i| serde_json::json!({
            "id": format!("K-{i:05}"),
            "item": "社保卡办理",
            "unit": "340102",
            "channel": "window",
            "accepted_at": closed,
            "closed_at": closed,
        })).collect::<Vec<_>>()
    })
}

/// A rating acknowledged with 201 is committed: clients keep sending while the server is
/// killed with SIGKILL, and after a restart every acknowledged rating is there.
#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_ratings_survive_sigkill() {
    for db in TestDatabase::all().await.unwrap() {
        let token = set_up(&db).await;
        let server = Server::start(&db.url, &[]);
        let http = reqwest::Client::new();
        let n = 1000;
        let r = http
            .post(format!("{}/api/v1/cases", server.base))
            .bearer_auth(&token)
            .json(&cases(n))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

        let acked: Arc<Mutex<Vec<String>>> = Arc::default();
        let workers = 16;
        let mut tasks = Vec::new();
        for w in 0..workers {
            let (http, base, token, acked) = (
                http.clone(),
                server.base.clone(),
                token.clone(),
                acked.clone(),
            );
            tasks.push(tokio::spawn(async move {
                for i in (w..n).step_by(workers) {
                    let case = format!("K-{i:05}");
                    let body = serde_json::json!({"case_id": case, "level": 1 + i % 5, "channel": "online"});
                    match http
                        .post(format!("{base}/api/v1/ratings"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == 201 => acked.lock().unwrap().push(case),
                        Ok(r) => panic!("{case}: {} {}", r.status(), r.text().await.unwrap()),
                        Err(_) => return,
                    }
                }
            }));
        }
        // Kill once a good part has been acknowledged, while the rest are in flight.
        while acked.lock().unwrap().len() < n / 4 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        server.kill_hard();
        for t in tasks {
            t.await.unwrap();
        }
        let acked = acked.lock().unwrap().clone();
        assert!(
            acked.len() >= n / 4 && acked.len() < n,
            "{}: {} acknowledged",
            db.name,
            acked.len()
        );

        // After a restart, every acknowledged rating is there.
        let again = Server::start(&db.url, &[]);
        let health = http
            .get(format!("{}/healthz", again.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        for case in &acked {
            let code = Code::parse(case).unwrap();
            assert!(
                db.store.rating_of_case(&code).await.unwrap().is_some(),
                "{}: acknowledged rating of {case} lost",
                db.name
            );
        }
        let (_, stored) = db.store.service_counts().await.unwrap();
        assert!(stored >= acked.len() as u64, "{}", db.name);
        eprintln!(
            "{}: {} acknowledged, {stored} stored, none lost",
            db.name,
            acked.len()
        );
        assert!(again.terminate());
        db.finish().await.unwrap();
    }
}

/// Satisfaction figures become indicator values: `kaohe ratings figures` writes a values file
/// that `kaohe assess` scores with a framework naming its columns.
#[tokio::test(flavor = "multi_thread")]
async fn satisfaction_figures_feed_an_assessment() {
    use kaohe_domain::ratings::{Channel, NewRating, RatingLevel, ServiceCase};
    use kaohe_domain::{Cadre, CadreStatus, Gender, RankLevel};
    use kaohe_store::{RatingIntake, StoredCase};
    let db = TestDatabase::sqlite().await.unwrap();
    set_up(&db).await;
    let code = |s: &str| Code::parse(s).unwrap();
    let cadre = |id: &str| Cadre {
        id: code(id),
        name: format!("干部{id}"),
        gender: Gender::Male,
        ethnicity: "汉族".into(),
        birth_date: time::macros::date!(1985 - 01 - 01),
        unit: code("340102"),
        post: "科员".into(),
        rank: RankLevel::Staff1,
        is_leader: false,
        status: CadreStatus::Active,
    };
    let audit = || NewAuditEntry::new("test", "seed", "ratings.rs");
    db.store
        .upsert_cadres(&[cadre("A"), cadre("B")], &audit())
        .await
        .unwrap();
    // A: 40 ratings, all satisfied. B: 40 ratings, 10 of them bad.
    let closed = time::OffsetDateTime::now_utc() - time::Duration::hours(2);
    let mut cases = Vec::new();
    let mut intakes = Vec::new();
    for i in 0..80 {
        let official = if i < 40 { "A" } else { "B" };
        let id = format!("F-{i:03}");
        let case = StoredCase {
            case: ServiceCase {
                id: code(&id),
                item: "医保报销".into(),
                unit: code("340102"),
                window: None,
                officials: vec![code(official)],
                channel: Channel::Window,
                accepted_at: closed,
                closed_at: closed,
                applicant: None,
                phone: None,
            },
            rating_code: format!("f{i}"),
        };
        let level = if official == "B" && i % 4 == 0 {
            RatingLevel::Dissatisfied
        } else {
            RatingLevel::VerySatisfied
        };
        let rating = NewRating {
            case_id: code(&id),
            level,
            tags: vec![],
            comment: None,
            channel: Channel::Online,
            real_name: false,
            contact: None,
        };
        intakes.push(
            RatingIntake::prepare(
                &case,
                rating,
                closed + time::Duration::minutes(i),
                kaohe_web::CHINA_STANDARD_TIME,
                &Default::default(),
                &Default::default(),
                &Default::default(),
            )
            .unwrap(),
        );
        cases.push(case);
    }
    db.store.upsert_cases(&cases, &audit()).await.unwrap();
    db.store.insert_ratings(&intakes).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("values.csv");
    let bad = run(
        &db.url,
        &[
            "ratings",
            "figures",
            "--columns",
            "stars",
            "--out",
            crate::util::s(&values),
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no figure \"stars\""));
    let printed = ok(
        &db.url,
        &[
            "ratings",
            "figures",
            "--by",
            "official",
            "--columns",
            "satisfaction_shrunk,bad_rate",
            "--out",
            crate::util::s(&values),
        ],
    );
    assert!(printed.contains("2 rows (80 ratings"), "{printed}");
    let text = std::fs::read_to_string(&values).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "person_id,unit_id,satisfaction_shrunk,bad_rate");
    assert!(lines[1].starts_with("A,340102,"), "{text}");
    assert!(
        lines[2].starts_with("B,340102,") && lines[2].ends_with(",25"),
        "{text}"
    );
    // Rates to one decimal, as the figures page shows them.
    for line in &lines[1..] {
        for cell in line.split(',').skip(2) {
            assert!(
                cell.split_once('.').is_none_or(|(_, d)| d.len() <= 1),
                "{cell} in {text}"
            );
        }
    }

    let framework = dir.path().join("fw.toml");
    std::fs::write(
        &framework,
        r#"[framework]
id = "service"
version = "1"
name = "窗口服务"

[[dimensions]]
id = "public"
name = "群众评价"
weight = 1

  [[dimensions.indicators]]
  id = "satisfaction_shrunk"
  name = "满意率（收缩）"
  unit = "%"
  direction = "positive"
  weight = 3
  normalization = { method = "goalposts", min = 80, max = 100 }

  [[dimensions.indicators]]
  id = "bad_rate"
  name = "差评率"
  unit = "%"
  direction = "negative"
  weight = 1
  normalization = { method = "goalposts", min = 0, max = 30 }
"#,
    )
    .unwrap();
    let result = dir.path().join("result.csv");
    ok(
        &db.url,
        &[
            "assess",
            "--framework",
            crate::util::s(&framework),
            "--data",
            crate::util::s(&values),
            "--out",
            crate::util::s(&result),
        ],
    );
    let scored = std::fs::read_to_string(&result).unwrap();
    let rank_of = |person: &str| {
        scored
            .lines()
            .find(|l| {
                l.trim_start_matches('\u{feff}')
                    .starts_with(&format!("{person},"))
            })
            .and_then(|l| l.split(',').nth(3))
            .unwrap_or_else(|| panic!("{person} in {scored}"))
            .to_owned()
    };
    assert_eq!(rank_of("A"), "1", "{scored}");
    assert_eq!(rank_of("B"), "2", "{scored}");
    db.finish().await.unwrap();
}

/// `kaohe ratings escalate` escalates an overdue rectification once, prints it, and records
/// nothing more when run again (for cron).
#[tokio::test(flavor = "multi_thread")]
async fn escalate_records_an_overdue_rectification_once() {
    use kaohe_domain::ratings::{Channel, NewRating, RatingLevel, ServiceCase};
    use kaohe_store::{NewRectification, NewUser, RatingIntake, StoredCase};
    for db in TestDatabase::all().await.unwrap() {
        set_up(&db).await;
        let code = |s: &str| Code::parse(s).unwrap();
        let audit = || NewAuditEntry::new("test", "seed", "ratings.rs");
        let leader = NewUser {
            username: "yaohai_leader".into(),
            display_name: "瑶海区领导".into(),
            password_hash: "$argon2id$fake".into(),
            roles: [kaohe_domain::Role::UnitLeader].into_iter().collect(),
            units: vec![code("340102")],
            cadre: None,
            totp_secret: None,
            must_change_password: false,
        };
        assert!(db.store.create_user(&leader, 1, &audit()).await.unwrap());
        let closed = time::OffsetDateTime::now_utc() - time::Duration::days(40);
        db.store
            .upsert_cases(
                &[StoredCase {
                    case: ServiceCase {
                        id: code("E-1"),
                        item: "社保卡办理".into(),
                        unit: code("340102"),
                        window: None,
                        officials: vec![],
                        channel: Channel::Window,
                        accepted_at: closed,
                        closed_at: closed,
                        applicant: None,
                        phone: None,
                    },
                    rating_code: "e1".into(),
                }],
                &audit(),
            )
            .await
            .unwrap();
        let opened = closed.date();
        db.store
            .insert_ratings(&[RatingIntake {
                rating: NewRating {
                    case_id: code("E-1"),
                    level: RatingLevel::VeryDissatisfied,
                    tags: vec![],
                    comment: None,
                    channel: Channel::Online,
                    real_name: false,
                    contact: None,
                },
                rated_at: closed,
                rectification: Some(NewRectification {
                    unit: code("340102"),
                    real_name: false,
                    opened_on: opened,
                    deadline: opened + time::Duration::days(7),
                }),
            }])
            .await
            .unwrap();

        let first = ok(&db.url, &["ratings", "escalate"]);
        assert!(
            first.contains("escalated rectification 1\tunit 340102")
                && first.contains("leaders yaohai_leader\tassessors -")
                && first.ends_with("1 rectifications escalated\n"),
            "{}: {first}",
            db.name
        );
        let again = ok(&db.url, &["ratings", "escalate"]);
        assert_eq!(again, "0 rectifications escalated\n", "{}", db.name);
        let escalated: Vec<_> = db
            .store
            .audit_entries(1, 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "rectification.escalated")
            .collect();
        assert_eq!(escalated.len(), 1, "{}", db.name);
        assert!(
            escalated[0].actor.starts_with("cli"),
            "{}",
            escalated[0].actor
        );
        assert_eq!(escalated[0].target, "rating:1");
        assert!(db.store.escalation(1).await.unwrap().is_some());
        db.finish().await.unwrap();
    }
}
