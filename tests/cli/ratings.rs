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
