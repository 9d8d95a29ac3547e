//! Work records (纪实) on both backends: checks against the indicator's range, four eyes on
//! review, what counts (verified, not rejected, not corrected), amendments that keep both, the
//! append-only tables against SQL, and evidence kept in the database or a directory with its
//! hash checked on read.

use super::{code, seed};
use kaohe_domain::records::{RecordKind, RecordSource, RecordState, Verdict};
use kaohe_domain::upload::FileKind;
use kaohe_store::files::{NewFile, Vault};
use kaohe_store::records::RecordQuery;
use kaohe_store::records::work::{self, RecordInput, RecordWorkError};
use kaohe_store::testing::TestDatabase;
use kaohe_store::{Store, cycles};
use time::macros::date;

/// A positive indicator filled by records from a base of 60, and a negative list of findings.
const FRAMEWORK: &str = r#"[framework]
id = "test_records"
version = "1"
name = "纪实测试"
weighting = "equal"
[[dimensions]]
id = "d"
name = "绩"
weighting = "equal"
[[dimensions.indicators]]
id = "work"
name = "工作实绩"
unit = "分"
direction = "positive"
normalization = { method = "goalposts", min = 0, max = 100 }
records = { points = [1, 10], base = 60, total = [0, 100] }
[[dimensions.indicators]]
id = "findings"
name = "反向情形"
unit = "件"
direction = "negative"
normalization = { method = "goalposts", min = 0, max = 10 }
records = { points = [1, 3], total = [0, 10], kinds = ["negative"] }
"#;

const TODAY: time::Date = date!(2026 - 06 - 30);

fn fact(cadre: &str, indicator: &str, kind: RecordKind, points: f64) -> RecordInput {
    RecordInput {
        cadre: code(cadre),
        date: date!(2026 - 05 - 12),
        kind,
        framework_id: "test_records".to_owned(),
        framework_version: None,
        indicator: indicator.to_owned(),
        points,
        description: "到村里现场查看产业项目进度".to_owned(),
        source: RecordSource::FieldVisit,
        files: Vec::new(),
    }
}

fn png() -> NewFile {
    NewFile::new(
        "现场照片.png".to_owned(),
        FileKind::Png,
        b"\x89PNG\r\n\x1a\nphoto".to_vec(),
    )
}

async fn add_one(store: &dyn Store, input: RecordInput, actor: &str) -> i64 {
    work::add(store, &Vault::Database, vec![input], &[], TODAY, actor)
        .await
        .unwrap()[0]
}

async fn work_of(store: &dyn Store, cadre: &str) -> f64 {
    let sums = store
        .point_sums("test_records", date!(2026 - 04 - 01), date!(2026 - 06 - 30))
        .await
        .unwrap();
    let fw = kaohe_engine::Framework::from_toml_str(FRAMEWORK).unwrap();
    let values = work::indicator_values(&fw, &sums, &[code(cadre)]);
    values[0].1[0].unwrap()
}

#[tokio::test]
async fn records_count_once_verified_and_never_change() {
    for db in TestDatabase::all().await.unwrap() {
        let store = &*db.store;
        seed(store).await;
        cycles::work::save_framework(store, FRAMEWORK, "upload", "admin")
            .await
            .unwrap();

        // Out of the indicator's range, of a kind it does not take, in the future, of nobody.
        for (input, expect) in [
            (
                fact("C003", "work", RecordKind::Positive, 11.0),
                "outside the range 1–10",
            ),
            (
                fact("C003", "work", RecordKind::Positive, 0.5),
                "outside the range 1–10",
            ),
            (
                fact("C003", "findings", RecordKind::Positive, 1.0),
                "takes no positive records",
            ),
            (
                fact("C003", "nope", RecordKind::Positive, 1.0),
                "has no indicator nope",
            ),
            (
                fact("X999", "work", RecordKind::Positive, 1.0),
                "no cadre X999",
            ),
            (
                RecordInput {
                    date: date!(2026 - 07 - 01),
                    ..fact("C003", "work", RecordKind::Positive, 1.0)
                },
                "after today",
            ),
        ] {
            let err = work::add(
                store,
                &Vault::Database,
                vec![fact("C003", "work", RecordKind::Positive, 2.0), input],
                &["row 2".to_owned(), "row 3".to_owned()],
                TODAY,
                "alice",
            )
            .await
            .unwrap_err();
            let text = err.to_string();
            assert!(
                text.starts_with("row 3: ") && text.contains(expect),
                "{}: {text}",
                db.name
            );
        }
        assert!(
            store
                .records(&RecordQuery::default())
                .await
                .unwrap()
                .is_empty(),
            "{}: a refused file stores nothing",
            db.name
        );

        // Recorded with a photo by alice; alice may not verify her own record.
        let first = add_one(
            store,
            RecordInput {
                files: vec![png()],
                ..fact("C003", "work", RecordKind::Positive, 5.0)
            },
            "alice",
        )
        .await;
        assert_eq!(
            work_of(store, "C003").await,
            60.0,
            "{}: pending counts nothing",
            db.name
        );
        let err = work::review(store, first, Verdict::Verified, "", "alice")
            .await
            .unwrap_err();
        assert!(matches!(err, RecordWorkError::FourEyes(_)), "{err}");
        work::review(store, first, Verdict::Verified, "", "bob")
            .await
            .unwrap();
        let err = work::review(store, first, Verdict::Rejected, "再议", "carol")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("already been reviewed"), "{err}");
        assert_eq!(work_of(store, "C003").await, 65.0, "{}", db.name);

        // A rejected record never counts; a rejection needs its reason.
        let second = add_one(
            store,
            fact("C003", "work", RecordKind::Positive, 4.0),
            "alice",
        )
        .await;
        let err = work::review(store, second, Verdict::Rejected, " ", "bob")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("reason"), "{err}");
        work::review(store, second, Verdict::Rejected, "无佐证材料", "bob")
            .await
            .unwrap();
        assert_eq!(work_of(store, "C003").await, 65.0, "{}", db.name);
        let err = work::amend(
            store,
            &Vault::Database,
            second,
            fact("C003", "work", RecordKind::Positive, 4.0),
            "补充材料",
            TODAY,
            "alice",
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("rejected"), "{err}");

        // A negative finding and a negative record against a positive indicator.
        let finding = add_one(
            store,
            fact("C003", "findings", RecordKind::Negative, 2.0),
            "alice",
        )
        .await;
        let minus = add_one(
            store,
            fact("C003", "work", RecordKind::Negative, 3.0),
            "alice",
        )
        .await;
        for id in [finding, minus] {
            work::review(store, id, Verdict::Verified, "", "bob")
                .await
                .unwrap();
        }
        assert_eq!(work_of(store, "C003").await, 62.0, "{}", db.name);

        // An amendment: reason required, same official, counts instead once verified, both kept.
        let err = work::amend(
            store,
            &Vault::Database,
            first,
            fact("C003", "work", RecordKind::Positive, 8.0),
            "",
            TODAY,
            "alice",
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("reason"), "{err}");
        let err = work::amend(
            store,
            &Vault::Database,
            first,
            fact("C004", "work", RecordKind::Positive, 8.0),
            "分值更正",
            TODAY,
            "alice",
        )
        .await
        .unwrap_err();
        assert!(matches!(err, RecordWorkError::OtherCadre { .. }), "{err}");
        let fix = work::amend(
            store,
            &Vault::Database,
            first,
            fact("C003", "work", RecordKind::Positive, 8.0),
            "分值更正：经核查为重点项目",
            TODAY,
            "alice",
        )
        .await
        .unwrap();
        assert_eq!(
            work_of(store, "C003").await,
            62.0,
            "{}: until verified",
            db.name
        );
        work::review(store, fix, Verdict::Verified, "", "bob")
            .await
            .unwrap();
        assert_eq!(work_of(store, "C003").await, 65.0, "{}", db.name);
        let old = store.record(first).await.unwrap().unwrap();
        assert_eq!(old.state(), RecordState::Corrected);
        assert_eq!(old.points, 5.0);
        assert_eq!(old.corrected_by, Some(fix));
        let amendments = store.amendments_of(first).await.unwrap();
        assert_eq!(amendments.len(), 1);
        assert_eq!(amendments[0].amends, Some(first));
        assert_eq!(
            amendments[0].reason.as_deref(),
            Some("分值更正：经核查为重点项目")
        );
        assert_eq!(
            store
                .records(&RecordQuery {
                    cadre: Some(code("C003")),
                    ..RecordQuery::default()
                })
                .await
                .unwrap()
                .len(),
            5
        );

        // The tables are append-only, by SQL too.
        let mut refused = vec![
            format!("UPDATE records SET points = 10 WHERE id = {first}"),
            format!("DELETE FROM records WHERE id = {second}"),
            format!("UPDATE record_reviews SET verdict = 'verified' WHERE record_id = {second}"),
            format!("DELETE FROM record_reviews WHERE record_id = {fix}"),
            "UPDATE record_files SET name = 'x'".to_owned(),
            "DELETE FROM record_files".to_owned(),
        ];
        if db.name == "postgres" {
            refused.push("TRUNCATE records CASCADE".to_owned());
            refused.push("TRUNCATE record_reviews".to_owned());
            refused.push(format!(
                "INSERT INTO record_reviews (record_id, verdict, reason, reviewed_by, reviewed_at) VALUES ({second}, 'verified', '', 'x', 0) ON CONFLICT (record_id) DO UPDATE SET verdict = 'verified'"
            ));
        } else {
            refused.push(format!(
                "INSERT OR REPLACE INTO record_reviews (record_id, verdict, reason, reviewed_by, reviewed_at) VALUES ({second}, 'verified', '', 'x', 0)"
            ));
            refused.push(format!(
                "REPLACE INTO records (id, cadre, fact_date, kind, framework_id, framework_version, indicator, points, description, source, recorded_by, recorded_at) VALUES ({first}, 'C003', '2026-05-12', 'positive', 'test_records', '1', 'work', 10, 'x', 'other', 'x', 0)"
            ));
        }
        for sql in &refused {
            assert!(
                db.raw_execute(sql).await.is_err(),
                "{}: {sql} was allowed",
                db.name
            );
        }
        assert_eq!(work_of(store, "C003").await, 65.0, "{}", db.name);
        assert_eq!(
            store.record(second).await.unwrap().unwrap().state(),
            RecordState::Rejected
        );

        // Evidence in the database comes back whole, hash checked.
        let files = store.record_files(first).await.unwrap();
        assert_eq!(files.len(), 1);
        let (info, bytes) = work::evidence(store, &Vault::Database, first, files[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((info.kind, bytes), (FileKind::Png, png().bytes));

        // Evidence in a directory: kept by hash, a changed file is refused on read.
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::Directory(dir.path().to_owned());
        let photo = NewFile::new(
            "照片.jpg".to_owned(),
            FileKind::Jpeg,
            vec![0xFF, 0xD8, 0xFF, 1, 2],
        );
        let third = work::add(
            store,
            &vault,
            vec![RecordInput {
                files: vec![photo.clone()],
                ..fact("C005", "work", RecordKind::Positive, 1.0)
            }],
            &[],
            TODAY,
            "alice",
        )
        .await
        .unwrap()[0];
        let f = store.record_files(third).await.unwrap()[0].clone();
        assert_eq!(
            work::evidence(store, &vault, third, f.id)
                .await
                .unwrap()
                .unwrap()
                .1,
            photo.bytes
        );
        let path = dir.path().join(&photo.sha256[..2]).join(&photo.sha256);
        std::fs::write(&path, b"changed").unwrap();
        let err = work::evidence(store, &vault, third, f.id)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("has been changed"), "{err}");
        assert!(
            work::evidence(store, &vault, third, 999_999)
                .await
                .unwrap()
                .is_none()
        );
    }
}

/// The records source of the binary (`src/sources.rs`), as cycles see it: the counted points
/// of the period turned into values by the framework's rule.
struct Records;

#[async_trait::async_trait]
impl cycles::work::ValueSource for Records {
    fn origin(&self) -> kaohe_domain::cycles::ValueOrigin {
        kaohe_domain::cycles::ValueOrigin::Records
    }
    fn columns(&self, fw: &kaohe_engine::Framework) -> Vec<String> {
        work::record_columns(fw)
    }
    async fn gather(
        &self,
        store: &dyn Store,
        fw: &kaohe_engine::Framework,
        people: &[kaohe_domain::Code],
        cycle: &cycles::Cycle,
    ) -> Result<Vec<cycles::PersonValues>, kaohe_store::StoreError> {
        let (start, end) = (cycle.period.start, cycle.period.end);
        let sums = store.point_sums(fw.id(), start, end).await?;
        Ok(work::indicator_values(fw, &sums, people))
    }
}

#[tokio::test]
async fn a_routine_cycle_grades_from_records_and_judgement_and_reaches_the_annual() {
    use cycles::work::{self as cw, ComputeOptions, CycleSpec, StateStep};
    use kaohe_domain::RoutineGrade;
    use kaohe_domain::cycles::{CycleKind, CycleState};
    use std::sync::Arc;
    for db in TestDatabase::all().await.unwrap() {
        let store = &*db.store;
        seed(store).await;
        cw::store_presets(store, "system").await.unwrap();
        cycles::work::save_framework(store, FRAMEWORK, "upload", "admin")
            .await
            .unwrap();
        // Q2: C003 did well; C004 was found wanting on work and conduct.
        let q2 = |cadre: &str, indicator: &str, kind: RecordKind, points: f64| RecordInput {
            framework_id: "routine_quarterly".to_owned(),
            ..fact(cadre, indicator, kind, points)
        };
        let inputs = vec![
            q2("C003", "routine_ji", RecordKind::Positive, 10.0),
            q2("C003", "routine_ji", RecordKind::Positive, 10.0),
            q2("C004", "routine_ji", RecordKind::Negative, 10.0),
            q2("C004", "routine_ji", RecordKind::Negative, 10.0),
            q2("C004", "routine_ji", RecordKind::Negative, 10.0),
            q2("C004", "routine_ji", RecordKind::Negative, 10.0),
            q2("C004", "routine_ji", RecordKind::Negative, 10.0),
            q2("C004", "routine_de", RecordKind::Negative, 5.0),
            q2("C004", "routine_de", RecordKind::Negative, 5.0),
            q2("C004", "routine_qin", RecordKind::Negative, 5.0),
            // Rejected: never counts.
            q2("C005", "routine_ji", RecordKind::Negative, 10.0),
        ];
        let ids = work::add(store, &Vault::Database, inputs, &[], TODAY, "alice")
            .await
            .unwrap();
        for (k, id) in ids.iter().enumerate() {
            let verdict = if k == 10 {
                Verdict::Rejected
            } else {
                Verdict::Verified
            };
            work::review(store, *id, verdict, "核查不实", "bob")
                .await
                .unwrap();
        }
        let spec = CycleSpec {
            name: "2026年第2季度平时考核".to_owned(),
            kind: CycleKind::Routine,
            start: date!(2026 - 04 - 01),
            end: date!(2026 - 06 - 30),
            framework_id: "routine_quarterly".to_owned(),
            framework_version: None,
            units: vec![code("341000")],
        };
        let id = cw::create(store, &spec, "assessor").await.unwrap();
        cw::advance(store, id, StateStep::Open, "assessor")
            .await
            .unwrap();
        let err = cw::judge(store, id, &[(code("X999"), RoutineGrade::Good)], "leader")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("X999"), "{err}");
        let judged = [
            ("C001", RoutineGrade::FairlyGood),
            ("C002", RoutineGrade::FairlyGood),
            ("C003", RoutineGrade::Good),
            ("C004", RoutineGrade::Poor),
            ("C005", RoutineGrade::FairlyGood),
        ]
        .map(|(c, g)| (code(c), g));
        cw::judge(store, id, &judged, "leader").await.unwrap();
        assert_eq!(
            cw::judgements(store, id).await.unwrap().get(&code("C004")),
            Some(&RoutineGrade::Poor)
        );
        let opts = ComputeOptions {
            draws: 0,
            quota_share: Some(0.5),
            ..ComputeOptions::default()
        };
        let sources: Vec<Arc<dyn cw::ValueSource>> = vec![Arc::new(Records)];
        cw::compute(store, id, &sources, &opts, "assessor")
            .await
            .unwrap();
        let cycle = store.cycle(id).await.unwrap().unwrap();
        let rows = store.results(id, cycle.revision).await.unwrap();
        let grade = |c: &str| {
            rows.iter()
                .find(|r| r.cadre.as_str() == c)
                .and_then(|r| r.grade_level)
        };
        // Levels of 好/较好/一般/较差: C003 好 (ji 100, judgement 95), C004 较差 (ji 30,
        // de 80, qin 90, judgement 50: 58.75), C005 较好 (its rejected record never counted).
        assert_eq!(grade("C003"), Some(0), "{}: {rows:?}", db.name);
        assert_eq!(grade("C004"), Some(3), "{}: {rows:?}", db.name);
        assert_eq!(grade("C005"), Some(1), "{}: {rows:?}", db.name);
        let (_, input) = cw::engine_input(store, id, &opts).await.unwrap();
        let ji = input
            .columns
            .iter()
            .position(|c| c == "routine_ji")
            .unwrap();
        let c005 = input
            .people
            .iter()
            .position(|p| p.person_id == "C005")
            .unwrap();
        assert_eq!(
            input.values.get(c005, ji),
            Some(80.0),
            "{}: the base",
            db.name
        );
        cw::advance(store, id, StateStep::SubmitReview, "assessor")
            .await
            .unwrap();
        cw::finalize(store, id, "chair").await.unwrap();
        assert_eq!(
            store.cycle(id).await.unwrap().unwrap().state,
            CycleState::Final
        );

        // The year's annual cycle counts C004's 较差 routine result.
        let annual = cw::create(
            store,
            &CycleSpec {
                name: "2026年度考核".to_owned(),
                kind: CycleKind::Annual,
                start: date!(2026 - 01 - 01),
                end: date!(2026 - 12 - 31),
                framework_id: "test_records".to_owned(),
                framework_version: None,
                units: vec![code("341000")],
            },
            "assessor",
        )
        .await
        .unwrap();
        let (_, input) = cw::engine_input(store, annual, &opts).await.unwrap();
        let poor: Vec<(&str, u32)> = input
            .people
            .iter()
            .map(|p| (p.person_id.as_str(), p.facts.routine_poor))
            .filter(|(_, n)| *n > 0)
            .collect();
        assert_eq!(poor, [("C004", 1)], "{}", db.name);
    }
}

/// The political quality review from a year of records: a verified finding of political
/// unfitness is the veto; a rejected one is not.
#[tokio::test]
async fn a_verified_finding_of_political_unfitness_is_the_veto() {
    use cycles::work::{self as cw, ComputeOptions, CycleSpec, StateStep};
    use kaohe_domain::cycles::CycleKind;
    use std::sync::Arc;
    for db in TestDatabase::all().await.unwrap() {
        let store = &*db.store;
        seed(store).await;
        cw::store_presets(store, "system").await.unwrap();
        let pq = |cadre: &str, indicator: &str, kind: RecordKind, points: f64| RecordInput {
            framework_id: "political_quality_review".to_owned(),
            ..fact(cadre, indicator, kind, points)
        };
        let ids = work::add(
            store,
            &Vault::Database,
            vec![
                pq("C002", "political_unfit", RecordKind::Negative, 1.0),
                pq("C003", "political_unfit", RecordKind::Negative, 1.0),
                pq("C001", "loyalty_positive", RecordKind::Positive, 10.0),
            ],
            &[],
            TODAY,
            "alice",
        )
        .await
        .unwrap();
        work::review(store, ids[0], Verdict::Verified, "", "bob")
            .await
            .unwrap();
        work::review(store, ids[1], Verdict::Rejected, "查无实据", "bob")
            .await
            .unwrap();
        work::review(store, ids[2], Verdict::Verified, "", "bob")
            .await
            .unwrap();
        let err = work::add(
            store,
            &Vault::Database,
            vec![pq("C004", "political_unfit", RecordKind::Negative, 2.0)],
            &[],
            TODAY,
            "alice",
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("outside the range 1–1"), "{err}");
        let id = cw::create(
            store,
            &CycleSpec {
                name: "2026年度政治素质考察".to_owned(),
                kind: CycleKind::Special,
                start: date!(2026 - 01 - 01),
                end: date!(2026 - 12 - 31),
                framework_id: "political_quality_review".to_owned(),
                framework_version: None,
                units: vec![code("341000")],
            },
            "assessor",
        )
        .await
        .unwrap();
        cw::advance(store, id, StateStep::Open, "assessor")
            .await
            .unwrap();
        let opts = ComputeOptions {
            draws: 0,
            ..ComputeOptions::default()
        };
        let sources: Vec<Arc<dyn cw::ValueSource>> = vec![Arc::new(Records)];
        cw::compute(store, id, &sources, &opts, "assessor")
            .await
            .unwrap();
        let cycle = store.cycle(id).await.unwrap().unwrap();
        let rows = store.results(id, cycle.revision).await.unwrap();
        let rule = |c: &str| {
            rows.iter()
                .find(|r| r.cadre.as_str() == c)
                .map(|r| r.rule.clone())
                .unwrap()
        };
        assert!(rule("C002").starts_with("veto"), "{}: {rows:?}", db.name);
        assert!(!rule("C003").starts_with("veto"), "{}: {rows:?}", db.name);
        let score = |c: &str| rows.iter().find(|r| r.cadre.as_str() == c).unwrap().score;
        assert!(
            score("C001") > score("C005"),
            "{}: a verified positive record raises the score",
            db.name
        );
    }
}

/// After a bulk load of records PostgreSQL knows how many there are (`ANALYZE` ran), so the
/// quarter's sums plan as hash joins; on both backends the load counts every record.
#[tokio::test]
async fn a_bulk_load_of_records_refreshes_the_statistics() {
    use kaohe_store::records::{NewRecord, NewReview};
    for db in TestDatabase::all().await.unwrap() {
        let store = &*db.store;
        seed(store).await;
        cycles::work::save_framework(store, FRAMEWORK, "upload", "admin")
            .await
            .unwrap();
        let records: Vec<NewRecord> = (0..10_000)
            .map(|k| NewRecord {
                cadre: code(if k % 2 == 0 { "C003" } else { "C004" }),
                date: date!(2026 - 05 - 12),
                kind: RecordKind::Positive,
                framework: ("test_records".to_owned(), "1".to_owned()),
                indicator: "work".to_owned(),
                points: 1.0,
                description: format!("第{k}次走访"),
                source: RecordSource::FieldVisit,
                amends: None,
                recorded_by: "alice".to_owned(),
                recorded_at: 0,
                files: Vec::new(),
                review: Some(NewReview {
                    verdict: Verdict::Verified,
                    reason: String::new(),
                    by: "bob".to_owned(),
                    at: 0,
                }),
            })
            .collect();
        work::add_reviewed(store, &records, "loader").await.unwrap();
        let sums = store
            .point_sums("test_records", date!(2026 - 04 - 01), date!(2026 - 06 - 30))
            .await
            .unwrap();
        let total: f64 = sums.iter().map(|s| s.points).sum();
        assert_eq!(total, 10_000.0, "{}", db.name);
        if db.name == "postgres" {
            // Inserts alone leave the planner's row count where it was (-1: never analyzed).
            db.raw_execute(
                "DO $$ BEGIN IF (SELECT reltuples FROM pg_class WHERE oid = 'records'::regclass) < 10000 \
                 OR (SELECT reltuples FROM pg_class WHERE oid = 'record_reviews'::regclass) < 10000 \
                 THEN RAISE EXCEPTION 'no statistics of the records'; END IF; END $$",
            )
            .await
            .unwrap();
        }
        db.finish().await.unwrap();
    }
}
