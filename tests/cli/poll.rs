//! Polls through the binary, on SQLite and PostgreSQL: create, codes printed once and stored
//! only as hashes, results withheld while open, close, results.

use crate::util::{Server, ok, run};
use kaohe_domain::Code;
use kaohe_domain::grade::AnnualGrade;
use kaohe_domain::polls::{BallotCode, Choices, Item, Mark, code_hash};
use kaohe_store::testing::TestDatabase;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// The ballot key the binary uses with `db` (made on first use, by whichever comes first).
async fn ballot_key(db: &TestDatabase) -> kaohe_domain::polls::BallotKey {
    kaohe_store::polls::key_file::load_or_create(
        &crate::util::ballot_key_file(&db.url),
        db.store.as_ref(),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poll_from_creation_to_results() {
    for db in TestDatabase::all().await.unwrap() {
        let url = db.url.as_str();
        ok(url, &["gen", "--cadres", "20", "--seed", "3", "--load"]);
        let ids = db.store.cadre_ids().await.unwrap();
        let now = OffsetDateTime::now_utc();
        let opens = (now - Duration::hours(1)).format(&Rfc3339).unwrap();
        let closes = (now + Duration::hours(1)).format(&Rfc3339).unwrap();
        let out = ok(
            url,
            &[
                "poll",
                "create",
                "--id",
                "P1",
                "--title",
                "2026年度民主测评",
                "--person",
                ids[0].as_str(),
                "--person",
                ids[1].as_str(),
                "--item",
                "de,lian",
                "--group",
                "peers:同级:1:6",
                "--opens",
                &opens,
                "--closes",
                &closes,
            ],
        );
        assert!(out.contains("poll P1 created"), "{out}");
        // A bad group is refused with a message naming it.
        let bad = run(
            url,
            &[
                "poll",
                "create",
                "--id",
                "P2",
                "--title",
                "t",
                "--person",
                ids[0].as_str(),
                "--group",
                "peers:同级:0:6",
                "--opens",
                &opens,
                "--closes",
                &closes,
            ],
        );
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("weight of group peers"));

        let printed = ok(url, &["poll", "codes", "--poll", "P1", "--group", "peers"]);
        let codes: Vec<BallotCode> = printed
            .lines()
            .map(|l| BallotCode::parse(l).unwrap())
            .collect();
        assert_eq!(codes.len(), 6);
        // Printed once: no more codes for the group.
        assert!(
            !run(
                url,
                &[
                    "poll", "codes", "--poll", "P1", "--group", "peers", "--count", "1"
                ]
            )
            .status
            .success()
        );
        let p1 = Code::parse("P1").unwrap();
        let poll = db.store.poll(&p1).await.unwrap().unwrap();
        for c in &codes[..5] {
            let marks = poll
                .people
                .iter()
                .flat_map(|p| {
                    [Item::Overall, Item::De, Item::Lian].map(|item| Mark {
                        person: p.clone(),
                        item,
                        grade: AnnualGrade::Competent,
                    })
                })
                .collect();
            db.store
                .cast_ballot(
                    &p1,
                    c,
                    &Choices::Grades(marks),
                    OffsetDateTime::now_utc(),
                    &ballot_key(&db).await,
                )
                .await
                .unwrap();
        }
        // A paper count needs a second person: the same account cannot confirm it.
        ok(
            url,
            &[
                "poll",
                "paper",
                "--poll",
                "P1",
                "--group",
                "peers",
                "--ballots",
                "1",
                "--count",
                &format!("{}:overall:0,1", ids[0]),
            ],
        );
        let same = run(
            url,
            &["poll", "confirm", "--poll", "P1", "--group", "peers"],
        );
        assert!(String::from_utf8_lossy(&same.stderr).contains("four eyes"));
        let open = ok(url, &["poll", "results", "--poll", "P1"]);
        assert!(
            open.contains("5 used") && open.contains("no results"),
            "{open}"
        );
        ok(url, &["poll", "close", "--poll", "P1"]);
        let done = ok(url, &["poll", "results", "--poll", "P1"]);
        assert!(done.contains("称职以上率 100.0%"), "{done}");
        // The codes are nowhere in the audit log; their hashes are in the database.
        for e in db.store.audit_entries(1, 100_000).await.unwrap() {
            let text = format!("{e:?}");
            assert!(codes.iter().all(|c| !text.contains(c.as_str())));
        }
        let counts = db.store.code_counts(&p1).await.unwrap();
        assert_eq!((counts[0].issued, counts[0].used), (6, 5));
        assert_ne!(code_hash(&p1, &codes[0]), codes[0].as_str());
        db.finish().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_poll_gives_its_cycle_indicator_values() {
    for db in TestDatabase::all().await.unwrap() {
        let url = db.url.as_str();
        crate::util::county_with_an_annual_cycle(&db).await;
        ok(url, &["cycle", "open", "1"]);
        let people = db.store.cycle_people(1).await.unwrap();
        let (good, poor) = (people[0].cadre.clone(), people[1].cadre.clone());
        let now = OffsetDateTime::now_utc();
        let opens = (now - Duration::hours(1)).format(&Rfc3339).unwrap();
        let closes = (now + Duration::hours(1)).format(&Rfc3339).unwrap();
        let create = |cycle: &str, person: &str| {
            run(
                url,
                &[
                    "poll",
                    "create",
                    "--id",
                    "P1",
                    "--title",
                    "2025年度民主测评",
                    "--cycle",
                    cycle,
                    "--person",
                    good.as_str(),
                    "--person",
                    person,
                    "--item",
                    "de,lian",
                    "--group",
                    "peers:同级:1:6",
                    "--opens",
                    &opens,
                    "--closes",
                    &closes,
                ],
            )
        };
        // A cycle that does not exist, or a person it does not assess: refused, nothing stored.
        let err = create("9", poor.as_str());
        assert!(
            String::from_utf8_lossy(&err.stderr).contains("--cycle: there is no cycle 9"),
            "{err:?}"
        );
        let err = create("1", "Z9999999");
        assert!(
            String::from_utf8_lossy(&err.stderr)
                .contains("--person Z9999999: not one of the people of cycle 1"),
            "{err:?}"
        );
        assert!(db.store.polls().await.unwrap().is_empty());
        assert!(create("1", poor.as_str()).status.success());

        let printed = ok(url, &["poll", "codes", "--poll", "P1", "--group", "peers"]);
        let p1 = Code::parse("P1").unwrap();
        for line in printed.lines().take(5) {
            let marks = [
                (&good, AnnualGrade::Excellent),
                (&poor, AnnualGrade::Incompetent),
            ]
            .into_iter()
            .flat_map(|(person, grade)| {
                [Item::Overall, Item::De, Item::Lian].map(|item| Mark {
                    person: person.clone(),
                    item,
                    grade,
                })
            })
            .collect();
            db.store
                .cast_ballot(
                    &p1,
                    &BallotCode::parse(line).unwrap(),
                    &Choices::Grades(marks),
                    OffsetDateTime::now_utc(),
                    &ballot_key(&db).await,
                )
                .await
                .unwrap();
        }
        // Generated values leave the poll's columns to the poll.
        ok(url, &["gen", "--cycle", "1", "--seed", "3"]);
        let out = run(url, &["cycle", "compute", "1"]);
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains("poll P1 of this cycle: results are shown only after the poll closes"),
            "{out:?}"
        );
        ok(url, &["poll", "close", "--poll", "P1"]);
        let computed = ok(url, &["cycle", "compute", "1"]);
        assert!(computed.starts_with("computed cycle 1"), "{computed}");

        let cycle = db.store.cycle(1).await.unwrap().unwrap();
        let col = |id: &str| cycle.columns.iter().position(|c| c == id).unwrap();
        let rows = db.store.cycle_values(1).await.unwrap();
        let of = |cadre: &Code, origin: &str| {
            rows.iter()
                .find(|r| &r.cadre == cadre && r.origin == origin)
                .map(|r| r.values.clone())
        };
        let good_values = of(&good, "polls").unwrap();
        let poor_values = of(&poor, "polls").unwrap();
        assert_eq!(good_values[col("de_poll")], Some(95.0));
        assert_eq!(good_values[col("lian_poll")], Some(95.0));
        assert_eq!(poor_values[col("de_poll")], Some(30.0));
        assert_eq!(poor_values[col("lian_poll")], Some(30.0));
        assert_eq!(poor_values[col("neng_poll")], None, "not asked");
        assert!(of(&people[2].cadre, "polls").is_none(), "not evaluated");
        assert_eq!(poor_values[col("poll_adjustment_review")], Some(1.0));
        assert_eq!(good_values[col("poll_adjustment_review")], Some(0.0));
        // The poll's review flags reach the committee with the results.
        let results = db.store.results(1, cycle.revision).await.unwrap();
        let flags = |cadre: &Code| {
            results
                .iter()
                .find(|r| &r.cadre == cadre)
                .map(|r| r.flags.clone())
                .unwrap()
        };
        assert!(
            flags(&poor).contains(&"review:poll_adjustment_review".to_owned())
                && flags(&poor).contains(&"review:poll_admonition_review".to_owned()),
            "{:?}",
            flags(&poor)
        );
        assert!(!flags(&good).iter().any(|f| f.starts_with("review:")));
        assert!(
            rows.iter()
                .filter(|r| r.origin == "import")
                .all(|r| r.values[col("de_poll")].is_none()),
            "the generated values left de_poll to the poll"
        );
        db.finish().await.unwrap();
    }
}

/// The voting page at debug level: every request, refusal and cast is logged, and no log line
/// holds a code (printed, bare or lower case) or a choice of a ballot.
#[tokio::test(flavor = "multi_thread")]
async fn no_log_line_at_debug_level_holds_a_code_or_a_choice() {
    for db in TestDatabase::all().await.unwrap() {
        let url = db.url.as_str();
        ok(url, &["gen", "--cadres", "20", "--seed", "3", "--load"]);
        let ids = db.store.cadre_ids().await.unwrap();
        let now = OffsetDateTime::now_utc();
        let opens = (now - Duration::hours(1)).format(&Rfc3339).unwrap();
        let closes = (now + Duration::hours(1)).format(&Rfc3339).unwrap();
        ok(
            url,
            &[
                "poll",
                "create",
                "--id",
                "P-LOG",
                "--title",
                "测评",
                "--person",
                ids[0].as_str(),
                "--person",
                ids[1].as_str(),
                "--item",
                "de",
                "--group",
                "peers:同级:1:4",
                "--opens",
                &opens,
                "--closes",
                &closes,
            ],
        );
        let printed = ok(
            url,
            &["poll", "codes", "--poll", "P-LOG", "--group", "peers"],
        );
        let codes: Vec<BallotCode> = printed
            .lines()
            .map(|l| BallotCode::parse(l).unwrap())
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let server = Server::start_logged(url, &[], "debug", &log);
        let client = reqwest::Client::new();
        let base = server.base.clone();
        let grades = [
            "excellent",
            "competent",
            "basically_competent",
            "incompetent",
        ];
        for (k, c) in codes.iter().take(3).enumerate() {
            let page = client
                .get(format!("{base}/vote?code={}", c.printed()))
                .send()
                .await
                .unwrap();
            assert_eq!(page.status().as_u16(), 200);
            let mut form: Vec<(String, String)> = vec![
                ("csrf".into(), "t".into()),
                ("code".into(), c.printed().to_lowercase()),
                ("poll".into(), "P-LOG".into()),
            ];
            for p in 0..2 {
                for i in 0..2 {
                    form.push((format!("g{p}_{i}"), grades[(k + p + i) % 4].into()));
                }
            }
            for step in ["confirm", "cast", "cast"] {
                let mut f = form.clone();
                f.push(("step".into(), step.into()));
                let r = client
                    .post(format!("{base}/vote"))
                    .header("cookie", "kaohe_vote=t")
                    .form(&f)
                    .send()
                    .await
                    .unwrap();
                assert!(
                    [200, 201, 409].contains(&r.status().as_u16()),
                    "{step}: {}",
                    r.status()
                );
            }
        }
        // A made-up code and a malformed one.
        for guess in ["2345-6789-ABCD", "not-a-code"] {
            let r = client
                .get(format!("{base}/vote?code={guess}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 422);
        }
        assert!(server.terminate(), "the server stops cleanly");
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.contains("DEBUG") && text.contains("/vote"),
            "debug lines of the voting page are written: {text}"
        );
        for line in text.lines() {
            for c in &codes {
                for form in [
                    c.as_str().to_owned(),
                    c.printed(),
                    c.printed().to_lowercase(),
                    c.as_str().to_lowercase(),
                ] {
                    assert!(!line.contains(&form), "a code in a log line: {line}");
                }
            }
            assert!(
                !line.contains("2345-6789-ABCD"),
                "a guess in a log line: {line}"
            );
            for g in grades {
                assert!(!line.contains(g), "a choice in a log line: {line}");
            }
            assert!(
                !line.contains("g0_0"),
                "a ballot field in a log line: {line}"
            );
        }
        let counts = db
            .store
            .code_counts(&Code::parse("P-LOG").unwrap())
            .await
            .unwrap();
        assert_eq!(counts[0].used, 3);
    }
}
