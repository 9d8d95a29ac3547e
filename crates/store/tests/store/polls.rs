//! Polls (民主测评、民主推荐) on both backends: the secrecy of ballots (nothing links a ballot
//! to its code or its place in the casting order), the refusals that store nothing, the
//! quorum, the merge of small groups, the flags and confirmed paper counts.

use super::{audit, code, seed};
use kaohe_domain::grade::AnnualGrade;
use kaohe_domain::polls::{
    BallotCode, BallotError, BallotKey, Choices, Flag, Item, Mark, PaperCount, Poll, PollKind,
    PollSettings, RaterGroup, Withheld, code_hash,
};
use kaohe_store::polls::{CastError, results};
use kaohe_store::testing::TestDatabase;
use kaohe_store::{Backend, Store, StoreError};
use sqlx::{Column, Connection, Row};
use time::{Duration, OffsetDateTime};

/// The deployment's ballot key of these tests.
fn key() -> BallotKey {
    BallotKey::from_bytes([42; 32])
}

fn group(id: &str, weight: f64, codes: u32) -> RaterGroup {
    RaterGroup {
        id: code(id),
        name: id.to_owned(),
        weight,
        codes,
        merge_into: None,
    }
}

fn poll(id: &str, groups: Vec<RaterGroup>, now: OffsetDateTime) -> Poll {
    Poll {
        id: code(id),
        title: "2026年度民主测评".into(),
        kind: PollKind::Evaluation,
        cycle: None,
        people: vec![code("C003"), code("C004")],
        items: vec![Item::Overall, Item::De],
        seats: 0,
        groups,
        opens_at: now - Duration::hours(1),
        closes_at: now + Duration::hours(1),
        settings: PollSettings::default(),
    }
}

/// Distinct codes from a counter (the CLI draws them from the operating system).
fn codes(salt: u64, n: usize) -> Vec<BallotCode> {
    (0..n as u64)
        .map(|i| {
            // splitmix64 of (salt, i).
            let mut x = (salt << 32 | i).wrapping_add(0x9E37_79B9_7F4A_7C15);
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^= x >> 31;
            BallotCode::from_random(&x.to_be_bytes())
        })
        .collect()
}

async fn issue(
    store: &dyn Store,
    p: &Poll,
    group: &str,
    codes: &[BallotCode],
    now: OffsetDateTime,
) {
    let hashes: Vec<String> = codes.iter().map(|c| code_hash(&p.id, c)).collect();
    store
        .add_codes(&p.id, &code(group), &hashes, now, &audit("poll.codes"))
        .await
        .unwrap();
}

/// The ballot of casting position `i`: the four grades are the base-4 digits of `i`, so that
/// each of up to 256 ballots is distinct and its stored text names its position (for the test
/// only: the test knows what each voter chose).
fn ballot(p: &Poll, i: usize) -> Choices {
    let mut marks = Vec::new();
    let mut k = 0;
    for person in &p.people {
        for item in &p.items {
            let level = (i >> (2 * (3 - k))) & 3;
            marks.push(Mark {
                person: person.clone(),
                item: *item,
                grade: [
                    AnnualGrade::Excellent,
                    AnnualGrade::Competent,
                    AnnualGrade::BasicallyCompetent,
                    AnnualGrade::Incompetent,
                ][level],
            });
            k += 1;
        }
    }
    Choices::Grades(marks)
}

/// Spearman's rank correlation of two permutations of `0..n`.
fn spearman(a: &[usize], b: &[usize]) -> f64 {
    let n = a.len() as f64;
    let d2: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
        .sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

/// Rows of a query on a connection of its own, as someone holding the database would read them.
async fn raw<T>(db: &TestDatabase, sql: &str) -> Vec<T>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    match db.store.backend() {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(sql).fetch_all(&mut c).await.unwrap()
        }
    }
}

async fn columns(db: &TestDatabase, table: &str) -> Vec<String> {
    let sql = format!("SELECT * FROM {table} LIMIT 1");
    match db.store.backend() {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            let row = sqlx::query(&sql).fetch_one(&mut c).await.unwrap();
            row.columns().iter().map(|c| c.name().to_owned()).collect()
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            let row = sqlx::query(&sql).fetch_one(&mut c).await.unwrap();
            row.columns().iter().map(|c| c.name().to_owned()).collect()
        }
    }
}

/// Largest |ρ| accepted between casting order and a stored order for n = 200. Under
/// independence ρ has mean 0 and standard deviation 1/√(n−1) ≈ 0.071: 0.33 is 4.65 standard
/// deviations, a false alarm about once in 300,000 runs.
const RHO_BOUND: f64 = 0.33;

#[tokio::test]
async fn two_hundred_ballots_keep_their_secret_and_count_right() {
    for db in TestDatabase::all().await.unwrap() {
        let store = &*db.store;
        seed(store).await;
        let now = OffsetDateTime::now_utc();
        let p = poll(
            "P2026",
            vec![
                group("superiors", 0.3, 20),
                group("peers", 0.4, 100),
                group("subordinates", 0.3, 80),
            ],
            now,
        );
        store
            .create_poll(&p, "organizer", &audit("poll.create"))
            .await
            .unwrap();
        let all = codes(7, 200);
        issue(store, &p, "superiors", &all[..20], now).await;
        issue(store, &p, "peers", &all[20..120], now).await;
        issue(store, &p, "subordinates", &all[120..], now).await;
        let audit_before = store.audit_head().await.unwrap();

        // Cast in a known order: position i with code order[i] and ballot(i).
        let order: Vec<usize> = (0..200).map(|i| (i * 73 + 11) % 200).collect();
        let mut expected = [[[0u32; 4]; 4]; 3];
        for (i, &c) in order.iter().enumerate() {
            store
                .cast_ballot(&p.id, &all[c], &ballot(&p, i), now, &key())
                .await
                .unwrap();
            let g = if c < 20 {
                0
            } else if c < 120 {
                1
            } else {
                2
            };
            for slot in 0..4 {
                expected[g][slot][(i >> (2 * (3 - slot))) & 3] += 1;
            }
        }
        // A cast writes no audit entry: an entry's time would give the casting order.
        assert_eq!(
            store.audit_head().await.unwrap(),
            audit_before,
            "{}",
            db.name
        );

        // While the poll is open the ballots wait in the pool; every column of it and of the
        // code table: nothing but the key, poll, group and choices, and the hash and use.
        for table in ["poll_ballot_pool", "poll_ballots"] {
            let n: Vec<(i64,)> = raw(&db, &format!("SELECT COUNT(*) FROM {table}")).await;
            assert_eq!(n[0].0, if table == "poll_ballots" { 0 } else { 200 });
        }
        let mut cols = columns(&db, "poll_ballot_pool").await;
        cols.sort();
        assert_eq!(
            cols,
            ["choices", "group_id", "id", "poll_id"],
            "{}",
            db.name
        );
        let mut cols = columns(&db, "poll_codes").await;
        cols.sort();
        assert_eq!(cols, ["group_id", "hash", "poll_id", "used"], "{}", db.name);
        // What the write-ahead log, the transaction numbers or a statement log pair with a
        // code's hash while the poll is open: a pooled row, whose choices are encrypted under
        // the ballot key (all of one length), under a key the sealed ballot will not keep.
        let pooled: Vec<(Vec<u8>, String, String)> =
            raw(&db, "SELECT id, group_id, choices FROM poll_ballot_pool").await;
        let plain: std::collections::HashSet<String> = (0..200)
            .map(|i| p.encode(&ballot(&p, i)).unwrap())
            .collect();
        let mut opened = std::collections::HashSet::new();
        for (_, group, text) in &pooled {
            assert!(text.starts_with(&format!("x1:{}:", key().id())), "{text}");
            assert_eq!(text.len(), pooled[0].2.len(), "one length for every ballot");
            assert!(!plain.contains(text));
            let choices = key().decrypt(&p.id, &code(group), text).unwrap();
            assert!(plain.contains(&choices));
            opened.insert(choices);
        }
        assert_eq!(opened.len(), 200, "every ballot, each once");
        let pool_ids: std::collections::HashSet<Vec<u8>> =
            pooled.into_iter().map(|(id, _, _)| id).collect();
        // Withheld while open.
        let (_, open) = results(store, &p.id, now, &key()).await.unwrap().unwrap();
        assert_eq!(open, Err(Withheld::Open));
        // Sealing with another key is refused, and leaves everything as it was.
        let wrong = BallotKey::from_bytes([7; 32]);
        let refused = store
            .close_poll(&p.id, now, &audit("poll.close"), &wrong)
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains(&key().id()) && refused.to_string().contains(&wrong.id()),
            "{}: {refused}",
            db.name
        );
        let n: Vec<(i64, i64)> = raw(
            &db,
            "SELECT (SELECT COUNT(*) FROM poll_ballot_pool), (SELECT COUNT(*) FROM poll_ballots)",
        )
        .await;
        assert_eq!(n[0], (200, 0), "{}", db.name);
        assert_eq!(store.pooled_ballots().await.unwrap(), 200);
        // The poll closed (the close was stored), its ballots still pooled: no results yet,
        // and the sealing with the right key seals them all.
        assert!(store.tallies(&p).await.is_err(), "{}", db.name);
        assert_eq!(store.seal_poll(&p.id, now, &key()).await.unwrap(), 200);
        assert_eq!(store.pooled_ballots().await.unwrap(), 0);

        let pooled: Vec<(i64,)> = raw(&db, "SELECT COUNT(*) FROM poll_ballot_pool").await;
        assert_eq!(pooled[0].0, 0, "{}", db.name);
        let mut cols = columns(&db, "poll_ballots").await;
        cols.sort();
        assert_eq!(
            cols,
            ["choices", "group_id", "id", "poll_id"],
            "{}",
            db.name
        );

        // The sealed ballots, in the order a scan of the table returns them.
        let stored: Vec<(Vec<u8>, String, String)> =
            raw(&db, "SELECT id, group_id, choices FROM poll_ballots").await;
        assert_eq!(stored.len(), 200);
        let position = |choices: &str| -> usize {
            choices
                .bytes()
                .fold(0, |acc, b| acc * 4 + usize::from(b - b'0'))
        };
        for (id, _, choices) in &stored {
            assert_eq!(id.len(), 16);
            assert!(
                !pool_ids.contains(id),
                "a sealed ballot kept its pooled key"
            );
            for c in &all {
                let hash = code_hash(&p.id, c);
                assert!(
                    !choices.contains(c.as_str()) && !hash.as_bytes().windows(16).any(|w| w == id)
                );
            }
            assert!(position(choices) < 200);
        }
        let rank: Vec<usize> = (0..200).collect();
        // Casting positions of the ballots in the order of a query, against 0..200.
        let rho_of = |rows: &[(Vec<u8>, String)]| -> f64 {
            let order: Vec<usize> = rows.iter().map(|r| position(&r.1)).collect();
            spearman(&order, &rank)
        };
        let mut by_key: Vec<(Vec<u8>, String)> =
            stored.iter().map(|r| (r.0.clone(), r.2.clone())).collect();
        by_key.sort();
        let rho_key = rho_of(&by_key);
        let scan: Vec<(Vec<u8>, String)> =
            stored.iter().map(|r| (r.0.clone(), r.2.clone())).collect();
        let rho_scan = rho_of(&scan);
        eprintln!(
            "{}: ρ(key) = {rho_key:.3}, ρ(scan) = {rho_scan:.3}",
            db.name
        );
        assert!(rho_key.abs() < RHO_BOUND, "{}: ρ(key) = {rho_key}", db.name);
        assert!(
            rho_scan.abs() < RHO_BOUND,
            "{}: ρ(scan) = {rho_scan}",
            db.name
        );
        match db.store.backend() {
            // The file itself: the write-ahead log is empty, each key is in the file as the
            // sealed table holds it (the pooled copies were overwritten with zeros) and the byte offsets of the
            // ballots are unrelated to the casting order.
            Backend::Sqlite => {
                let path = db.url.trim_start_matches("sqlite://");
                let wal = std::fs::metadata(format!("{path}-wal")).map_or(0, |m| m.len());
                assert_eq!(wal, 0, "the write-ahead log after sealing");
                let file = std::fs::read(path).unwrap();
                let mut at: Vec<(usize, String)> = Vec::new();
                let mut twice = 0;
                for (id, _, choices) in &stored {
                    let found: Vec<usize> = file
                        .windows(16)
                        .enumerate()
                        .filter(|(_, w)| *w == id.as_slice())
                        .map(|(i, _)| i)
                        .collect();
                    // Once in its leaf page; a few keys also divide the pages above.
                    assert!(matches!(found.len(), 1 | 2), "a key at {found:?}");
                    twice += usize::from(found.len() == 2);
                    at.push((found[0], choices.clone()));
                }
                // Left behind by the casts (page splits, deleted pool rows), nearly every key
                // would be in the file several times.
                assert!(twice <= 50, "{twice} keys twice in the file");
                at.sort();
                let offsets: Vec<(Vec<u8>, String)> =
                    at.into_iter().map(|(_, c)| (Vec::new(), c)).collect();
                let rho_file = rho_of(&offsets);
                eprintln!("sqlite: ρ(file offset) = {rho_file:.3}");
                assert!(rho_file.abs() < RHO_BOUND, "ρ(file offset) = {rho_file}");
            }
            // The heap order and the writing transaction: sealed rows are in key order and
            // all carry the sealing transaction, which marked no code used. The pool's file
            // was replaced by an empty one.
            Backend::Postgres => {
                let heap: Vec<(Vec<u8>, String)> =
                    raw(&db, "SELECT id, choices FROM poll_ballots ORDER BY ctid").await;
                let rho_heap = rho_of(&heap);
                eprintln!("postgres: ρ(heap) = {rho_heap:.3}");
                assert!(rho_heap.abs() < RHO_BOUND, "ρ(heap) = {rho_heap}");
                let sealed: Vec<(String,)> =
                    raw(&db, "SELECT DISTINCT xmin::text FROM poll_ballots").await;
                assert_eq!(sealed.len(), 1, "one sealing transaction");
                let codes: Vec<(String,)> =
                    raw(&db, "SELECT DISTINCT xmin::text FROM poll_codes WHERE used").await;
                assert!(codes.len() > 1 && !codes.contains(&sealed[0]));
                let size: Vec<(i64,)> =
                    raw(&db, "SELECT pg_relation_size('poll_ballot_pool')").await;
                assert_eq!(size[0].0, 0, "the pool's file after sealing");
            }
        }
        // The codes: hashes only, scanned in an order unrelated to their use on SQLite.
        let hashes: Vec<(String, bool)> = raw(&db, "SELECT hash, used FROM poll_codes").await;
        assert_eq!(hashes.len(), 200);
        assert!(hashes.iter().all(|(_, used)| *used));
        for (h, _) in &hashes {
            assert!(all.iter().all(|c| !h.contains(c.as_str())));
        }
        if db.store.backend() == Backend::Sqlite {
            let used_at: Vec<usize> = hashes
                .iter()
                .map(|(h, _)| {
                    let c = all.iter().position(|c| &code_hash(&p.id, c) == h).unwrap();
                    order.iter().position(|&o| o == c).unwrap()
                })
                .collect();
            let rho = spearman(&used_at, &rank);
            assert!(rho.abs() < RHO_BOUND, "ρ(codes) = {rho}");
        }
        // No audit entry names a code.
        for e in store.audit_entries(1, 10_000).await.unwrap() {
            let text = format!("{e:?}");
            assert!(all.iter().all(|c| !text.contains(c.as_str())));
        }

        // The tally after the close matches the ballots cast.
        let (_, r) = results(store, &p.id, now, &key()).await.unwrap().unwrap();
        let r = r.unwrap();
        assert_eq!(r.groups.len(), 3);
        for (g, reported) in r.groups.iter().enumerate() {
            assert_eq!(reported.ballots, [20, 100, 80][g]);
        }
        for (person, pr) in r.people.iter().enumerate() {
            for (item, ir) in pr.items.iter().enumerate() {
                let slot = person * 2 + item;
                let by_group: Vec<[u32; 4]> = (0..3).map(|g| expected[g][slot]).collect();
                assert_eq!(ir.by_group, by_group, "{}", db.name);
            }
        }
        db.finish().await.unwrap();
    }
}

#[tokio::test]
async fn refused_ballots_store_nothing() {
    for db in TestDatabase::all().await.unwrap() {
        let store = &*db.store;
        seed(store).await;
        let now = OffsetDateTime::now_utc();
        let a = poll("PA", vec![group("peers", 1.0, 5)], now);
        let b = poll("PB", vec![group("peers", 1.0, 5)], now);
        let mut later = poll("PC", vec![group("peers", 1.0, 5)], now);
        later.opens_at = now + Duration::hours(1);
        later.closes_at = now + Duration::hours(2);
        for p in [&a, &b, &later] {
            store
                .create_poll(p, "organizer", &audit("poll.create"))
                .await
                .unwrap();
        }
        let ca = codes(1, 5);
        let cb = codes(2, 5);
        let cc = codes(3, 5);
        issue(store, &a, "peers", &ca, now).await;
        issue(store, &b, "peers", &cb, now).await;
        issue(store, &later, "peers", &cc, now).await;
        // Beyond the group's codes.
        let err = store
            .add_codes(
                &a.id,
                &code("peers"),
                &[code_hash(&a.id, &codes(9, 1)[0])],
                now,
                &audit("poll.codes"),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");

        store
            .cast_ballot(&a.id, &ca[0], &ballot(&a, 1), now, &key())
            .await
            .unwrap();
        let refusals = [
            (
                store
                    .cast_ballot(&a.id, &ca[0], &ballot(&a, 2), now, &key())
                    .await,
                "used",
            ),
            (
                store
                    .cast_ballot(&a.id, &cb[0], &ballot(&a, 2), now, &key())
                    .await,
                "other",
            ),
            (
                store
                    .cast_ballot(
                        &a.id,
                        &BallotCode::parse("ZZZZ-ZZZZ-ZZZZ").unwrap(),
                        &ballot(&a, 2),
                        now,
                        &key(),
                    )
                    .await,
                "unknown",
            ),
            (
                store
                    .cast_ballot(&later.id, &cc[0], &ballot(&later, 2), now, &key())
                    .await,
                "not open",
            ),
            (
                store
                    .cast_ballot(
                        &a.id,
                        &ca[1],
                        &ballot(&a, 2),
                        now + Duration::hours(1),
                        &key(),
                    )
                    .await,
                "closed",
            ),
            (
                store
                    .cast_ballot(&a.id, &ca[1], &Choices::Nominees(vec![]), now, &key())
                    .await,
                "kind",
            ),
            (
                store
                    .cast_ballot(&code("NOPE"), &ca[1], &ballot(&a, 2), now, &key())
                    .await,
                "no poll",
            ),
        ];
        for (result, what) in refusals {
            let err = result.unwrap_err();
            let fits = match what {
                "used" => matches!(err, CastError::Used),
                "other" => matches!(err, CastError::OtherPoll),
                "unknown" => matches!(err, CastError::UnknownCode),
                "not open" => matches!(err, CastError::Ballot(BallotError::NotOpen)),
                "closed" => matches!(err, CastError::Ballot(BallotError::Closed)),
                "kind" => matches!(err, CastError::Ballot(BallotError::Kind)),
                _ => matches!(err, CastError::NoPoll(_)),
            };
            assert!(fits, "{}: {what}: {err}", db.name);
            assert!(!err.to_string().is_empty());
        }
        // Only the one good ballot is stored, and only its code is used.
        let n: Vec<(i64,)> = raw(
            &db,
            "SELECT (SELECT COUNT(*) FROM poll_ballots) + (SELECT COUNT(*) FROM poll_ballot_pool)",
        )
        .await;
        assert_eq!(n[0].0, 1, "{}", db.name);
        // A pooled ballot is never changed, and leaves the pool only sealed.
        for sql in [
            "UPDATE poll_ballot_pool SET choices = '3333'",
            "DELETE FROM poll_ballot_pool",
        ] {
            assert!(db.raw_execute(sql).await.is_err(), "{}: {sql}", db.name);
        }
        if db.store.backend() == Backend::Postgres {
            assert!(db.raw_execute("TRUNCATE poll_ballot_pool").await.is_err());
        }
        for (p, used) in [(&a, 1), (&b, 0), (&later, 0)] {
            let counts = store.code_counts(&p.id).await.unwrap();
            assert_eq!(counts[0].used, used, "{}", db.name);
            assert_eq!(counts[0].issued, 5);
        }
        // Closed early: no more ballots, and never reopened.
        store
            .close_poll(&a.id, now, &audit("poll.close"), &key())
            .await
            .unwrap();
        assert!(matches!(
            store
                .cast_ballot(&a.id, &ca[1], &ballot(&a, 2), now, &key())
                .await,
            Err(CastError::Ballot(BallotError::Closed))
        ));
        assert!(
            store
                .close_poll(&a.id, now, &audit("poll.close"), &key())
                .await
                .is_err()
        );
        // The database refuses to change or remove ballots and used codes.
        for sql in [
            "UPDATE poll_ballots SET choices = '3333'",
            "DELETE FROM poll_ballots",
            "UPDATE poll_codes SET used = FALSE",
            "DELETE FROM poll_codes",
            "UPDATE polls SET closes_at = closes_at + 86400",
            "DELETE FROM poll_seals",
            "UPDATE poll_seals SET poll_id = 'PB'",
        ] {
            assert!(db.raw_execute(sql).await.is_err(), "{}: {sql}", db.name);
        }
        if db.store.backend() == Backend::Sqlite {
            assert!(
                db.raw_execute("INSERT OR REPLACE INTO poll_ballots (id, poll_id, group_id, choices) SELECT id, poll_id, group_id, '3333' FROM poll_ballots")
                    .await
                    .is_err()
            );
        }
        db.finish().await.unwrap();
    }
}

#[tokio::test]
async fn quorum_merge_flags_and_paper_through_the_store() {
    for db in TestDatabase::all().await.unwrap() {
        let store = &*db.store;
        seed(store).await;
        let now = OffsetDateTime::now_utc();
        let mut groups = vec![
            group("superiors", 0.3, 3),
            group("peers", 0.4, 12),
            group("public", 0.3, 10),
        ];
        groups[0].merge_into = Some(code("public"));
        let p = poll("PQ", groups, now);
        store
            .create_poll(&p, "organizer", &audit("poll.create"))
            .await
            .unwrap();
        let sup = codes(11, 3);
        let peers = codes(12, 12);
        issue(store, &p, "superiors", &sup, now).await;
        issue(store, &p, "peers", &peers, now).await;
        // Everyone grades everything 不称职 (level 3 in every slot: 255) or 称职 (85).
        for c in &sup {
            store
                .cast_ballot(&p.id, c, &ballot(&p, 85), now, &key())
                .await
                .unwrap();
        }
        for (k, c) in peers.iter().enumerate().take(8) {
            let b = if k < 6 { 255 } else { 85 };
            store
                .cast_ballot(&p.id, c, &ballot(&p, b), now, &key())
                .await
                .unwrap();
        }
        // The public votes on paper: entered by one, confirmed by another.
        let paper = PaperCount {
            group: code("public"),
            ballots: 7,
            counts: vec![
                (code("C003"), Item::Overall, [2, 5, 0, 0]),
                (code("C003"), Item::De, [2, 5, 0, 0]),
                (code("C004"), Item::Overall, [0, 7, 0, 0]),
                (code("C004"), Item::De, [0, 7, 0, 0]),
            ],
        };
        store
            .enter_paper(&p.id, &paper, "clerk", now, &audit("poll.paper"))
            .await
            .unwrap();
        store
            .close_poll(&p.id, now, &audit("poll.close"), &key())
            .await
            .unwrap();
        // Not confirmed yet: the public's quorum is not met.
        let (_, r) = results(store, &p.id, now, &key()).await.unwrap().unwrap();
        let Err(Withheld::NoQuorum(turnout)) = r else {
            panic!("{}: {r:?}", db.name)
        };
        assert!(!turnout[2].quorate);
        let err = store
            .confirm_paper(
                &p.id,
                &code("public"),
                "clerk",
                now,
                &audit("poll.paper_confirm"),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::FourEyes(_)), "{err}");
        store
            .confirm_paper(
                &p.id,
                &code("public"),
                "checker",
                now,
                &audit("poll.paper_confirm"),
            )
            .await
            .unwrap();
        let entries = store.paper_entries(&p.id).await.unwrap();
        assert_eq!(entries[0].confirmed_by.as_deref(), Some("checker"));
        let (_, r) = results(store, &p.id, now, &key()).await.unwrap().unwrap();
        let r = r.unwrap();
        // The 3 superiors are never shown alone: merged into the public.
        assert_eq!(r.groups.len(), 2);
        assert_eq!(r.groups[1].members, vec![code("public"), code("superiors")]);
        assert_eq!(r.groups[1].ballots, 10);
        // C003: peers 6 不称职 of 8 (0.4), public+superiors 2 优秀 + 8 称职 of 10 (0.3).
        let overall = &r.people[0].items[0];
        assert_eq!(overall.votes, [2, 10, 0, 6]);
        let incompetent = 0.4 * 0.75 / 0.7;
        assert!((overall.shares[3] - incompetent).abs() < 1e-9);
        assert!((overall.competent_rate - (1.0 - incompetent)).abs() < 1e-9);
        assert_eq!(
            r.people[0].flags,
            vec![Flag::AdjustmentReview, Flag::AdmonitionReview]
        );
        assert_eq!(r.people[1].flags, r.people[0].flags);
        db.finish().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_casts_all_land_once() {
    for db in TestDatabase::all().await.unwrap() {
        seed(&*db.store).await;
        let now = OffsetDateTime::now_utc();
        let p = poll("PX", vec![group("peers", 1.0, 60)], now);
        db.store
            .create_poll(&p, "organizer", &audit("poll.create"))
            .await
            .unwrap();
        let all = codes(21, 60);
        issue(&*db.store, &p, "peers", &all, now).await;
        // Every code twice at once: each is taken once, the other cast refused as used.
        let mut tasks = Vec::new();
        for (i, c) in all.iter().chain(all.iter()).enumerate() {
            let store = db.store.clone();
            let (id, c, b) = (p.id.clone(), c.clone(), ballot(&p, i % 200));
            tasks.push(tokio::spawn(async move {
                store.cast_ballot(&id, &c, &b, now, &key()).await
            }));
        }
        let (mut stored, mut used) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => stored += 1,
                Err(CastError::Used) => used += 1,
                Err(e) => panic!("{}: {e}", db.name),
            }
        }
        assert_eq!((stored, used), (60, 60), "{}", db.name);
        let counts = db.store.code_counts(&p.id).await.unwrap();
        assert_eq!(counts[0].used, 60);
        db.store
            .close_poll(&p.id, now, &audit("poll.close"), &key())
            .await
            .unwrap();
        let (_, r) = results(&*db.store, &p.id, now, &key())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.unwrap().groups[0].ballots, 60);
        db.finish().await.unwrap();
    }
}

#[tokio::test]
async fn the_ballot_key_file_is_made_once_and_never_replaced_over_pooled_ballots() {
    use kaohe_store::polls::key_file::load_or_create;
    for db in TestDatabase::all().await.unwrap() {
        let store = &*db.store;
        seed(store).await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys").join("ballot.key");
        // Made on first use, readable by its owner alone, and the same key from then on.
        let made = load_or_create(&file, store).await.unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", db.name);
        }
        assert_eq!(load_or_create(&file, store).await.unwrap(), made);
        assert_eq!(
            std::fs::read_dir(file.parent().unwrap()).unwrap().count(),
            1,
            "no temporary file left behind"
        );

        // A ballot waits in the pool under that key: a missing file is an error, not a new key.
        let now = OffsetDateTime::now_utc();
        let p = poll("PK", vec![group("peers", 1.0, 5)], now);
        store
            .create_poll(&p, "organizer", &audit("poll.create"))
            .await
            .unwrap();
        let cs = codes(5, 5);
        issue(store, &p, "peers", &cs, now).await;
        store
            .cast_ballot(&p.id, &cs[0], &ballot(&p, 3), now, &made)
            .await
            .unwrap();
        std::fs::remove_file(&file).unwrap();
        let err = load_or_create(&file, store).await.unwrap_err();
        assert!(
            err.to_string().contains("1 ballots") && err.to_string().contains("restore"),
            "{}: {err}",
            db.name
        );
        assert!(!file.exists());
        // A file that holds no key is named as such.
        std::fs::write(&file, "not a key").unwrap();
        let err = load_or_create(&file, store).await.unwrap_err();
        assert!(err.to_string().contains("ballot.key"), "{err}");
        // Restored, the ballot is sealed and counted.
        std::fs::write(&file, made.to_file_text()).unwrap();
        let key = load_or_create(&file, store).await.unwrap();
        store
            .close_poll(&p.id, now, &audit("poll.close"), &key)
            .await
            .unwrap();
        assert_eq!(store.pooled_ballots().await.unwrap(), 0);
        let tallies = store.tallies(&p).await.unwrap();
        assert_eq!(tallies[0].ballots, 1, "{}", db.name);
        db.finish().await.unwrap();
    }
}
