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
        // Dated relative to today: nothing overdue by years, the oldest review within the
        // last thirteen months.
        for q in &queue {
            let age = (today - q.opened_on).whole_days();
            assert!((0..=400).contains(&age), "{}: {q:?}", db.name);
        }
        // The start's escalation sweep escalated the overdue ones to the demo unit leader (of
        // the unit with the most bad reviews) and the demo assessor, whose home page says so.
        let escalated = db.store.open_escalations().await.unwrap();
        assert!(!escalated.is_empty(), "{}: nothing escalated", db.name);
        let mut to_leader = false;
        for (id, _) in &escalated {
            let e = db.store.escalation(*id).await.unwrap().unwrap();
            assert_eq!(
                e.assessors,
                vec!["demo_assessor", "demo_assessor2"],
                "{}",
                db.name
            );
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

        // Dated from today: each past quarter's routine assessment final, this quarter's open;
        // last year's political quality review and annual assessment final, this year's annual
        // computed.
        let today = time::OffsetDateTime::now_utc().date();
        let year = today.year();
        use kaohe_domain::cycles::CycleState as S;
        let mut expected = Vec::new();
        for y in [year - 1, year] {
            for q in 1..=4u8 {
                let p = kaohe_domain::cycles::Period::quarter(y, q).unwrap();
                if p.start > today {
                    break;
                }
                let state = if p.end >= today {
                    S::Collecting
                } else {
                    S::Final
                };
                expected.push((format!("{y}年第{q}季度平时考核"), state));
            }
            if y < year {
                expected.push((format!("{y}年度领导干部政治素质考察"), S::Final));
            }
            expected.push((
                format!("{y}年度考核"),
                if y < year { S::Final } else { S::Computed },
            ));
        }
        expected.reverse();
        let cycles = db.store.cycles().await.unwrap();
        let shown: Vec<(String, S)> = cycles.iter().map(|c| (c.name.clone(), c.state)).collect();
        assert_eq!(shown, expected, "{}", db.name);
        let last_annual = cycles
            .iter()
            .find(|c| c.name == format!("{}年度考核", year - 1))
            .unwrap();
        let finals = db
            .store
            .results(last_annual.id, last_annual.revision)
            .await
            .unwrap();
        assert_eq!(finals.len() as i64, last_annual.people);
        assert!(
            finals.iter().all(|r| r.rule != "quota_tie_committee"),
            "{}: every tie decided",
            db.name
        );

        // Work records: about twenty a cadre a year, every source, some rejected, the latest
        // awaiting review, each reviewed by another account than its recorder.
        let records = db
            .store
            .records(&kaohe_store::records::RecordQuery::default())
            .await
            .unwrap();
        let years = (today
            - time::Date::from_calendar_date(year - 1, time::Month::January, 1).unwrap())
        .whole_days() as f64
            / 365.0;
        let per_cadre_year = records.len() as f64 / counts.cadres as f64 / years;
        assert!(
            (15.0..=25.0).contains(&per_cadre_year),
            "{}: {per_cadre_year}",
            db.name
        );
        for source in <kaohe_domain::records::RecordSource as Labeled>::ALL {
            assert!(
                records.iter().any(|r| r.source == *source),
                "{}: {source}",
                db.name
            );
        }
        use kaohe_domain::records::RecordState as R;
        for state in [R::Verified, R::Rejected, R::Recorded] {
            assert!(
                records.iter().any(|r| r.state() == state),
                "{}: {state}",
                db.name
            );
        }
        assert!(
            records
                .iter()
                .filter_map(|r| r.review.as_ref().map(|v| (v, r)))
                .all(|(v, r)| v.by != r.recorded_by),
            "{}: four eyes",
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
