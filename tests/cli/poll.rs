//! Polls through the binary, on SQLite and PostgreSQL: create, codes printed once and stored
//! only as hashes, results withheld while open, close, results.

use crate::util::{ok, run};
use kaohe_domain::Code;
use kaohe_domain::grade::AnnualGrade;
use kaohe_domain::polls::{BallotCode, Choices, Item, Mark, code_hash};
use kaohe_store::testing::TestDatabase;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

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
                .cast_ballot(&p1, c, &Choices::Grades(marks), OffsetDateTime::now_utc())
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
