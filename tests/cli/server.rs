//! `kaohe serve` as a process: demo data, health, pages, graceful shutdown.

use crate::util::Server;
use kaohe_domain::Labeled;
use kaohe_store::testing::TestDatabase;

#[tokio::test(flavor = "multi_thread")]
async fn demo_serves_a_populated_chinese_home_page_and_stops_on_sigterm() {
    for db in TestDatabase::all().await.unwrap() {
        let server = Server::start(&db.url, &["--demo"]);
        let http = reqwest::Client::new();
        let health = http
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200, "{}", db.name);

        let home = http.get(&server.base).send().await.unwrap();
        assert_eq!(home.status(), 200);
        let html = home.text().await.unwrap();
        assert!(
            html.contains("lang=\"zh-CN\"") && html.contains("单位"),
            "{}: {html}",
            db.name
        );

        let counts = db.store.counts().await.unwrap();
        assert!(
            counts.units > 10 && counts.cadres >= 500,
            "{}: demo data loaded: {counts:?}",
            db.name
        );
        // Organization data needs an account: the demo assessor (of the whole county).
        let session =
            crate::user::login(&server.base, "demo_assessor", "Kaohe-Demo-2025", "").await;
        let units: serde_json::Value = http
            .get(format!("{}/api/v1/units", server.base))
            .header("cookie", &session)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(units["total"].as_u64(), Some(counts.units), "{}", db.name);

        // Public ratings: the rectification queue shows every status, overdue ones among
        // them; one appeal upheld, one pending; and a case closed in the last days awaits its
        // rating.
        let queue = db
            .store
            .rectification_queue(None, false, 10_000)
            .await
            .unwrap();
        let today = time::OffsetDateTime::now_utc().date();
        for status in kaohe_domain::ratings::rectification::Status::ALL {
            assert!(
                queue.iter().any(|q| q.status == *status),
                "{}: no {status:?} in the queue",
                db.name
            );
        }
        let open = |q: &&kaohe_store::QueueItem| {
            q.status != kaohe_domain::ratings::rectification::Status::Closed
        };
        assert!(queue.iter().filter(open).any(|q| q.deadline < today));
        assert!(queue.iter().filter(open).any(|q| q.deadline >= today));
        // The start's escalation sweep escalated the overdue ones to the demo unit leader (of
        // the unit with the most bad reviews) and the demo assessor, whose home page says so.
        let escalated = db.store.open_escalations().await.unwrap();
        assert!(!escalated.is_empty(), "{}: nothing escalated", db.name);
        let mut to_leader = false;
        for (id, _) in &escalated {
            let e = db.store.escalation(*id).await.unwrap().unwrap();
            assert_eq!(e.assessors, vec!["demo_assessor"], "{}", db.name);
            to_leader |= e.leaders == ["demo_unit_leader"];
        }
        assert!(to_leader, "{}: none to demo_unit_leader", db.name);
        let home = http
            .get(&server.base)
            .header("cookie", &session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            home.contains(&format!("{} 件差评整改逾期已督办", escalated.len())),
            "{}: {home}",
            db.name
        );
        let appeals = db.store.appeals(false).await.unwrap();
        let decisions: Vec<_> = appeals
            .iter()
            .map(|a| a.decision.as_ref().map(|d| d.0))
            .collect();
        assert_eq!(
            decisions,
            [None, Some(kaohe_domain::ratings::AppealDecision::Upheld)],
            "{}",
            db.name
        );
        let now = time::OffsetDateTime::now_utc();
        let mut unrated_recent = 0;
        for c in db.store.all_cases().await.unwrap() {
            if now - c.case.closed_at < time::Duration::days(5)
                && db.store.rating_of_case(&c.case.id).await.unwrap().is_none()
            {
                unrated_recent += 1;
            }
        }
        assert!(unrated_recent >= 5, "{}: {unrated_recent}", db.name);

        // The database's tallies per official are those of the figures' own rules.
        let (all, tallies) = db.store.official_tallies(0, i64::MAX).await.unwrap();
        let facts = db.store.rating_facts(0, i64::MAX).await.unwrap();
        let (all_by_rules, groups) =
            kaohe_web::ratings::figures_of(&facts, kaohe_web::ratings::GroupBy::Official, 30.0);
        assert_eq!(all, all_by_rules, "{}", db.name);
        assert!(
            all.excluded > 0 && all.rectified > 0 && all.on_time > 0 && all.called_back > 0,
            "{}: every branch of the tally is exercised: {all:?}",
            db.name
        );
        let by_rules: Vec<(String, kaohe_engine::ratings::Tally)> =
            groups.into_iter().map(|g| (g.key, g.tally)).collect();
        let by_database: Vec<(String, kaohe_engine::ratings::Tally)> = tallies
            .into_iter()
            .map(|(k, t)| (k.to_string(), t))
            .collect();
        assert_eq!(by_database, by_rules, "{}", db.name);

        // Last year's annual assessment is final, this year's computed, both dated from today.
        let year = time::OffsetDateTime::now_utc().year();
        let cycles = db.store.cycles().await.unwrap();
        let shown: Vec<(String, kaohe_domain::cycles::CycleState)> =
            cycles.iter().map(|c| (c.name.clone(), c.state)).collect();
        assert_eq!(
            shown,
            [
                (
                    format!("{year}年度考核"),
                    kaohe_domain::cycles::CycleState::Computed
                ),
                (
                    format!("{}年度考核", year - 1),
                    kaohe_domain::cycles::CycleState::Final
                ),
            ],
            "{}",
            db.name
        );
        let finals = db
            .store
            .results(cycles[1].id, cycles[1].revision)
            .await
            .unwrap();
        assert_eq!(finals.len() as i64, cycles[1].people);
        assert!(
            finals.iter().all(|r| r.rule != "quota_tie_committee"),
            "{}: every tie decided",
            db.name
        );

        assert!(server.terminate(), "{}: clean exit on SIGTERM", db.name);

        // A second start on the same database keeps the data as it is.
        let again = Server::start(&db.url, &["--demo"]);
        assert_eq!(db.store.counts().await.unwrap(), counts);
        assert_eq!(
            db.store
                .rectification_queue(None, false, 10_000)
                .await
                .unwrap(),
            queue
        );
        assert!(again.terminate());
        db.finish().await.unwrap();
    }
}

/// A change of the settings between two starts leaves an audit entry with before and after;
/// a start with the same settings adds none.
#[tokio::test(flavor = "multi_thread")]
async fn a_change_of_settings_is_recorded_in_the_audit_log() {
    for db in TestDatabase::all().await.unwrap() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("kaohe.toml");
        let config_arg = crate::util::s(&config).to_owned();
        let applied = || async {
            db.store
                .audit_entries(1, 10_000)
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.action == "settings.applied")
                .collect::<Vec<_>>()
        };
        std::fs::write(&config, "[ratings]\nwindow_days = 15\n").unwrap();
        for _ in 0..2 {
            let server = Server::start(&db.url, &["--config", &config_arg]);
            assert!(server.terminate());
        }
        assert_eq!(
            applied().await.len(),
            1,
            "{}: the same settings twice",
            db.name
        );
        std::fs::write(&config, "[ratings]\nwindow_days = 20\n").unwrap();
        let server = Server::start(&db.url, &["--config", &config_arg]);
        assert!(server.terminate());
        let entries = applied().await;
        assert_eq!(entries.len(), 2, "{}", db.name);
        let last = &entries[1];
        assert_eq!(last.actor, "system");
        assert!(
            last.before
                .as_deref()
                .unwrap_or_default()
                .contains("\"window_days\":15")
        );
        assert!(
            last.after
                .as_deref()
                .unwrap_or_default()
                .contains("\"window_days\":20")
        );
        db.finish().await.unwrap();
    }
}
