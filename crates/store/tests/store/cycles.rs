//! Assessment cycles on both backends: from creation to final, the committee's quota, the
//! locks on final results (by every step and by SQL), amendments, and racing computations.

use super::{code, seed};
use kaohe_domain::Code;
use kaohe_domain::Labeled;
use kaohe_domain::cycles::ValueTable;
use kaohe_domain::cycles::{CycleKind, CycleState, Decision};
use kaohe_store::cycles::work::{self, ComputeOptions, CycleRunError, CycleSpec};
use kaohe_store::cycles::{PersonValues, RevisionKind};
use kaohe_store::testing::TestDatabase;
use kaohe_store::{Store, StoreError};
use std::collections::BTreeMap;
use time::macros::date;

/// Two indicators on fixed goalposts: a score is the mean of the two values.
const FRAMEWORK: &str = r#"[framework]
id = "test_annual"
version = "1"
name = "测试年度考核"
weighting = "equal"
[[dimensions]]
id = "d"
name = "绩"
weighting = "equal"
[[dimensions.indicators]]
id = "a"
name = "任务完成"
unit = "分"
direction = "positive"
normalization = { method = "goalposts", min = 0, max = 100 }
[[dimensions.indicators]]
id = "b"
name = "工作质效"
unit = "分"
direction = "positive"
normalization = { method = "goalposts", min = 0, max = 100 }
"#;

fn table(rows: &[(&str, f64, f64)]) -> ValueTable {
    ValueTable {
        file: "values.csv".to_owned(),
        columns: vec!["a".to_owned(), "b".to_owned()],
        people: rows.iter().map(|r| r.0.to_owned()).collect(),
        units: vec![None; rows.len()],
        rows: (2..2 + rows.len()).collect(),
        values: rows.iter().map(|r| vec![Some(r.1), Some(r.2)]).collect(),
    }
}

fn opts() -> ComputeOptions {
    ComputeOptions {
        draws: 50,
        quota_share: Some(0.5),
        ..ComputeOptions::default()
    }
}

async fn annual(store: &dyn Store) -> i64 {
    work::save_framework(store, FRAMEWORK, "upload", "assessor")
        .await
        .unwrap();
    work::create(
        store,
        &CycleSpec {
            name: "2026年度考核".to_owned(),
            kind: CycleKind::Annual,
            start: date!(2026 - 01 - 01),
            end: date!(2026 - 12 - 31),
            framework_id: "test_annual".to_owned(),
            framework_version: None,
            units: vec![code("341000")],
        },
        "assessor",
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn an_annual_cycle_runs_from_draft_to_final_and_stays_final() {
    for db in TestDatabase::all().await.unwrap() {
        let store = &*db.store;
        seed(store).await;
        let id = annual(store).await;
        let cycle = store.cycle(id).await.unwrap().unwrap();
        assert_eq!(cycle.state, CycleState::Draft);
        assert_eq!(
            cycle.people, 5,
            "{}: the county with everything under it",
            db.name
        );
        assert_eq!(cycle.columns, ["a", "b"]);
        let people = store.cycle_people(id).await.unwrap();
        assert_eq!(people[0].name, "王建国");
        assert_eq!(people[0].unit_name, "清河县");

        // Values cannot come before the cycle is opened.
        let values = table(&[
            ("C001", 95.0, 95.0),
            ("C002", 95.0, 95.0),
            ("C003", 80.0, 70.0),
            ("C004", 50.0, 60.0),
            ("C005", 88.0, 92.0),
        ]);
        let err = work::import_values(store, id, &values, "assessor")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("草稿"), "{err}");
        work::advance(store, id, work::StateStep::Open, "assessor")
            .await
            .unwrap();

        // A person outside the scope and an unknown column: every problem at once, nothing stored.
        let mut bad = table(&[("C001", 1.0, 2.0), ("X999", 1.0, 1.0), ("C001", 3.0, 3.0)]);
        bad.columns[1] = "zz".to_owned();
        let err = work::import_values(store, id, &bad, "assessor")
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("\"zz\" is not an indicator"), "{text}");
        assert!(
            text.contains("row 3, person_id: \"X999\" is not in the scope"),
            "{text}"
        );
        assert!(
            text.contains("row 4, person_id: \"C001\" is already given in row 2"),
            "{text}"
        );
        assert!(store.cycle_values(id).await.unwrap().is_empty());

        assert_eq!(
            work::import_values(store, id, &values, "assessor")
                .await
                .unwrap(),
            5
        );
        let done = work::compute(store, id, &[], &opts(), "assessor")
            .await
            .unwrap();
        assert_eq!(done.people, 5);
        assert_eq!(
            done.ties, 2,
            "{}: C001 and C002 tie for the one 优秀 of the county",
            db.name
        );
        let rows = store.results(id, done.revision).await.unwrap();
        let c005 = rows.iter().find(|r| r.cadre.as_str() == "C005").unwrap();
        assert_eq!(c005.score, 90.0);
        assert_eq!(c005.name, "陈静");
        assert!(c005.p05.is_some() && c005.median_rank.is_some());
        assert_eq!(c005.contributions.len(), 2);

        // The committee decides the tie; the quota holds.
        let err = work::decide(
            store,
            id,
            &code("C001"),
            Decision::AwardTop,
            "票数多",
            "committee",
        )
        .await
        .unwrap_err();
        assert!(
            err.to_string().contains("计算"),
            "not yet under review: {err}"
        );
        work::advance(store, id, work::StateStep::SubmitReview, "assessor")
            .await
            .unwrap();
        let err = work::decide(
            store,
            id,
            &code("C001"),
            Decision::AwardTop,
            " ",
            "committee",
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, CycleRunError::Rule(_)),
            "a reason is required: {err}"
        );
        work::decide(
            store,
            id,
            &code("C001"),
            Decision::AwardTop,
            "实绩突出",
            "committee",
        )
        .await
        .unwrap();
        let err = work::decide(
            store,
            id,
            &code("C002"),
            Decision::AwardTop,
            "也很突出",
            "committee",
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("quota"), "{err}");
        let err = work::finalize(store, id, "chair").await.unwrap_err();
        assert!(
            matches!(err, CycleRunError::Undecided(ref who) if who.len() == 1),
            "{err}"
        );
        // Whoever computed the result neither decides on it nor finalizes it (four eyes).
        let err = work::decide(
            store,
            id,
            &code("C002"),
            Decision::KeepNext,
            "名额所限",
            "assessor",
        )
        .await
        .unwrap_err();
        assert!(matches!(err, CycleRunError::FourEyes(_)), "{err}");
        let err = work::finalize(store, id, "assessor").await.unwrap_err();
        assert!(matches!(err, CycleRunError::FourEyes(_)), "{err}");
        work::decide(
            store,
            id,
            &code("C002"),
            Decision::KeepNext,
            "名额所限",
            "committee",
        )
        .await
        .unwrap();
        let err = work::decide(
            store,
            id,
            &code("C004"),
            Decision::AwardTop,
            "x",
            "committee",
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("not waiting"), "{err}");
        let final_rev = work::finalize(store, id, "chair").await.unwrap();
        let cycle = store.cycle(id).await.unwrap().unwrap();
        assert_eq!(
            (cycle.state, cycle.revision),
            (CycleState::Final, final_rev)
        );
        let finals = store.results(id, final_rev).await.unwrap();
        let grade = |cadre: &str| {
            let r = finals.iter().find(|r| r.cadre.as_str() == cadre).unwrap();
            (r.grade_level, r.rule.clone())
        };
        assert_eq!(grade("C001"), (Some(0), "committee:award_top".to_owned()));
        assert_eq!(grade("C002"), (Some(1), "committee:keep_next".to_owned()));
        assert_eq!(
            store.final_results_of(&code("C001")).await.unwrap().len(),
            1
        );

        // Final: no step changes it, and no SQL either.
        let err = work::import_values(store, id, &values, "assessor")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("已定稿"), "{err}");
        let err = work::compute(store, id, &[], &opts(), "assessor")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("已定稿"), "{err}");
        let mut refused = vec![
            format!("UPDATE cycle_results SET score = 1 WHERE cycle_id = {id}"),
            format!("DELETE FROM cycle_results WHERE cycle_id = {id} AND revision = {final_rev}"),
            format!(
                "INSERT INTO cycle_results (cycle_id, revision, cadre, name, unit, unit_name, score, rank, rank_in_unit, grade_level, rule, flags, contributions) VALUES ({id}, {final_rev}, 'C009', 'x', '341000', 'x', 99, 1, 1, 0, 'threshold', '', '[]')"
            ),
            format!(
                "UPDATE cycle_revisions SET summary = '{{}}' WHERE cycle_id = {id} AND revision = {final_rev}"
            ),
            format!("DELETE FROM cycle_revisions WHERE cycle_id = {id} AND revision = {final_rev}"),
            format!("UPDATE cycles SET revision = 1 WHERE id = {id}"),
            format!("UPDATE cycles SET state = 'review' WHERE id = {id}"),
            format!("DELETE FROM cycles WHERE id = {id}"),
            format!("UPDATE cycle_values SET vals = '[1,1]' WHERE cycle_id = {id}"),
            format!("DELETE FROM cycle_values WHERE cycle_id = {id}"),
            format!(
                "INSERT INTO cycle_values (cycle_id, cadre, origin, vals) VALUES ({id}, 'C009', 'import', '[1,1]')"
            ),
            "DELETE FROM committee_decisions".to_owned(),
            "UPDATE committee_decisions SET decision = 'award_top'".to_owned(),
            "UPDATE frameworks SET source = ''".to_owned(),
            "DELETE FROM frameworks".to_owned(),
        ];
        if db.name == "postgres" {
            refused.push("TRUNCATE cycle_results CASCADE".to_owned());
            refused.push("TRUNCATE committee_decisions".to_owned());
        }
        for sql in &refused {
            assert!(
                db.raw_execute(sql).await.is_err(),
                "{}: {sql} was allowed",
                db.name
            );
        }
        assert_eq!(
            store.results(id, final_rev).await.unwrap(),
            finals,
            "{}",
            db.name
        );

        // An amendment: reason required, recomputed, both kept.
        let err = work::amend(store, id, None, "", &opts(), "assessor")
            .await
            .unwrap_err();
        assert!(matches!(err, CycleRunError::Rule(_)), "{err}");
        let fix = table(&[("C004", 90.0, 90.0)]);
        let amended = work::amend(
            store,
            id,
            Some(&fix),
            "复核更正：C004 任务完成率录入错误",
            &opts(),
            "assessor",
        )
        .await
        .unwrap();
        assert_eq!(amended.corrects, final_rev);
        let changed = amended
            .changed
            .iter()
            .find(|c| c.0.as_str() == "C004")
            .unwrap();
        assert_eq!((changed.1.score, changed.2.score), (55.0, 90.0));
        assert_eq!(
            store.results(id, final_rev).await.unwrap(),
            finals,
            "the corrected revision is kept"
        );
        let kinds: Vec<RevisionKind> = store
            .revisions(id)
            .await
            .unwrap()
            .iter()
            .map(|r| r.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                RevisionKind::Compute,
                RevisionKind::Final,
                RevisionKind::Amendment
            ]
        );
        let cycle = store.cycle(id).await.unwrap().unwrap();
        assert_eq!(
            (cycle.state, cycle.revision),
            (CycleState::Final, amended.revision)
        );
        let actions: Vec<String> = store
            .audit_entries(0, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        for a in [
            "cycle.created",
            "cycle.open",
            "cycle.import_values",
            "cycle.compute",
            "cycle.submit_review",
            "cycle.decide",
            "cycle.finalize",
            "cycle.amend",
        ] {
            assert!(
                actions.iter().any(|x| x == a),
                "{}: {a} not audited",
                db.name
            );
        }
        eprintln!("cycle from draft to amendment: {} ok", db.name);
        db.finish().await.unwrap();
    }
}

#[tokio::test]
async fn a_second_computation_is_refused_while_one_runs_and_versions_stay_put() {
    for db in TestDatabase::all().await.unwrap() {
        let store = &*db.store;
        seed(store).await;
        let id = annual(store).await;
        work::advance(store, id, work::StateStep::Open, "assessor")
            .await
            .unwrap();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        store.begin_compute(id, "first", now, 3600).await.unwrap();
        let err = work::compute(store, id, &[], &opts(), "assessor")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("under way"), "{}: {err}", db.name);
        assert_eq!(store.cycle(id).await.unwrap().unwrap().revision, 0);
        assert!(matches!(
            store.begin_compute(id, "second", now + 1, 3600).await,
            Err(StoreError::Conflict(_))
        ));
        // A mark left by a crash is taken over once stale.
        store
            .begin_compute(id, "third", now + 10_000, 3600)
            .await
            .unwrap();
        store.end_compute(id, "third").await.unwrap();

        // A framework version is never replaced by another content.
        let changed = FRAMEWORK.replace("任务完成", "任务完成率");
        let err = work::save_framework(store, &changed, "upload", "assessor")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("new version"), "{err}");
        let again = work::save_framework(store, FRAMEWORK, "upload", "assessor")
            .await
            .unwrap();
        assert!(!again.1, "the same content is stored once");
        assert_eq!(work::store_presets(store, "system").await.unwrap(), 4);
        assert_eq!(work::store_presets(store, "system").await.unwrap(), 0);
        let broken = work::save_framework(store, "[framework]\nid = 1", "upload", "assessor")
            .await
            .unwrap_err();
        assert!(matches!(broken, CycleRunError::Framework(_)), "{broken}");
        assert_eq!(CycleState::Final.zh(), "已定稿");

        // Periods that do not fit the kind, and scopes of units that do not exist.
        let mut spec = CycleSpec {
            name: "一季度".to_owned(),
            kind: CycleKind::Routine,
            start: date!(2026 - 01 - 01),
            end: date!(2026 - 04 - 30),
            framework_id: "test_annual".to_owned(),
            framework_version: Some("1".to_owned()),
            units: vec![code("341001")],
        };
        let err = work::create(store, &spec, "assessor").await.unwrap_err();
        assert!(err.to_string().contains("quarter"), "{err}");
        spec.end = date!(2026 - 03 - 31);
        spec.units = vec![code("999999")];
        let err = work::create(store, &spec, "assessor").await.unwrap_err();
        assert!(
            err.to_string().contains("units that do not exist: 999999"),
            "{err}"
        );
        spec.framework_version = Some("9".to_owned());
        spec.units = vec![code("341001")];
        let err = work::create(store, &spec, "assessor").await.unwrap_err();
        assert!(err.to_string().contains("version 9"), "{err}");
        db.finish().await.unwrap();
    }
}

/// A cycle driven to final with distinct scores (no tie for the committee to decide).
async fn final_cycle(store: &dyn Store) -> i64 {
    let id = annual(store).await;
    work::advance(store, id, work::StateStep::Open, "assessor")
        .await
        .unwrap();
    let values = table(&[
        ("C001", 95.0, 95.0),
        ("C002", 85.0, 85.0),
        ("C003", 80.0, 70.0),
        ("C004", 50.0, 60.0),
        ("C005", 88.0, 92.0),
    ]);
    work::import_values(store, id, &values, "assessor")
        .await
        .unwrap();
    work::compute(store, id, &[], &opts(), "assessor")
        .await
        .unwrap();
    work::advance(store, id, work::StateStep::SubmitReview, "assessor")
        .await
        .unwrap();
    work::finalize(store, id, "chair").await.unwrap();
    id
}

/// `count` people's values, aligned with the test framework's two columns; every seventh
/// person misses the second. Quarters, which the values' JSON holds exactly.
fn many_values(count: usize, shift: f64) -> Vec<PersonValues> {
    (0..count)
        .map(|i| {
            let b = (i % 7 != 0).then_some(i as f64 / 4.0);
            (code(&format!("P{i:06}")), vec![Some(shift + i as f64), b])
        })
        .collect()
}

#[tokio::test]
async fn a_final_cycles_values_refuse_every_statement_of_many_rows() {
    const REFUSAL: &str = "the values of a final cycle never change";
    for db in TestDatabase::all().await.unwrap() {
        let store = &*db.store;
        seed(store).await;
        let done = final_cycle(store).await;
        let open = annual(store).await;
        work::advance(store, open, work::StateStep::Open, "assessor")
            .await
            .unwrap();
        work::import_values(
            store,
            open,
            &table(&[("C001", 1.0, 2.0), ("C002", 3.0, 4.0)]),
            "assessor",
        )
        .await
        .unwrap();
        let before = (
            store.cycle_values(done).await.unwrap(),
            store.cycle_values(open).await.unwrap(),
        );
        let cols = "INSERT INTO cycle_values (cycle_id, cadre, origin, vals)";
        // Each statement touches several rows; one row of the final cycle that breaks the
        // rule refuses all of them, whatever the other rows are.
        let refused = [
            format!(
                "{cols} VALUES ({done}, 'C101', 'amendment:9', '[1,1]'), ({done}, 'C102', 'import', '[1,1]')"
            ),
            format!(
                "{cols} VALUES ({open}, 'C101', 'import', '[1,1]'), ({done}, 'C102', 'import', '[1,1]')"
            ),
            format!(
                "{cols} SELECT {done}, cadre, 'records', vals FROM cycle_values WHERE cycle_id = {open}"
            ),
            format!(
                "{cols} VALUES ({open}, 'C001', 'import', '[5,5]'), ({done}, 'C001', 'import', '[5,5]') \
                 ON CONFLICT (cycle_id, cadre, origin) DO UPDATE SET vals = excluded.vals"
            ),
            format!("UPDATE cycle_values SET vals = '[0,0]' WHERE cycle_id IN ({open}, {done})"),
            format!(
                "UPDATE cycle_values SET cycle_id = {done}, origin = 'amendment:9' WHERE cycle_id = {open}"
            ),
            format!("DELETE FROM cycle_values WHERE cycle_id IN ({open}, {done})"),
        ];
        for sql in &refused {
            let err = db
                .raw_execute(sql)
                .await
                .err()
                .unwrap_or_else(|| panic!("{}: {sql} was allowed", db.name));
            assert!(
                err.to_string().contains(REFUSAL),
                "{}: {sql}: {err}",
                db.name
            );
        }
        assert_eq!(
            (
                store.cycle_values(done).await.unwrap(),
                store.cycle_values(open).await.unwrap(),
            ),
            before,
            "{}: nothing of a refused statement is stored",
            db.name
        );
        // The store's own path, in statements of many rows: refused as a whole.
        let err = store
            .put_values(
                done,
                &[CycleState::Final],
                "import",
                &many_values(12_000, 0.0),
                &super::audit("values"),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains(REFUSAL), "{}: {err}", db.name);
        assert_eq!(
            store.cycle_values(done).await.unwrap(),
            before.0,
            "{}",
            db.name
        );

        // What the rule allows, in statements of many rows: an amendment's own values of the
        // final cycle, and any change of a cycle not final.
        for sql in [
            format!(
                "{cols} VALUES ({done}, 'C001', 'amendment:9', '[1,1]'), ({done}, 'C002', 'amendment:9', '[2,2]')"
            ),
            format!("UPDATE cycle_values SET vals = '[0,0]' WHERE cycle_id = {open}"),
            format!("DELETE FROM cycle_values WHERE cycle_id = {open}"),
        ] {
            db.raw_execute(&sql)
                .await
                .unwrap_or_else(|e| panic!("{}: {sql}: {e}", db.name));
        }
        assert_eq!(
            store.cycle_values(done).await.unwrap().len(),
            before.0.len() + 2
        );
        assert!(store.cycle_values(open).await.unwrap().is_empty());
        db.finish().await.unwrap();
    }
}

#[tokio::test]
async fn values_of_more_people_than_one_statement_holds_round_trip() {
    for db in TestDatabase::all().await.unwrap() {
        let store = &*db.store;
        seed(store).await;
        let id = annual(store).await;
        work::advance(store, id, work::StateStep::Open, "assessor")
            .await
            .unwrap();
        let states = [CycleState::Collecting];
        // 25,001 people: three statements of values on PostgreSQL (10,000 rows each), 26 on
        // SQLite; then 12,000 of them again, across the first statements' boundaries.
        let first = many_values(25_001, 0.0);
        store
            .put_values(id, &states, "import", &first, &super::audit("values"))
            .await
            .unwrap();
        let again: Vec<PersonValues> = many_values(21_000, 0.5).split_off(9_000);
        store
            .put_values(id, &states, "import", &again, &super::audit("values"))
            .await
            .unwrap();
        let mut expected: BTreeMap<Code, Vec<Option<f64>>> = first.into_iter().collect();
        expected.extend(again);
        let stored: BTreeMap<Code, Vec<Option<f64>>> = store
            .cycle_values(id)
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                assert_eq!(r.origin, "import");
                (r.cadre, r.values)
            })
            .collect();
        assert_eq!(stored.len(), 25_001, "{}", db.name);
        assert!(
            stored == expected,
            "{}: the values read back differ",
            db.name
        );
        assert_eq!(stored[&code("P009000")], [Some(9_000.5), Some(2_250.0)]);
        assert_eq!(stored[&code("P021000")], [Some(21_000.0), None]);
        db.finish().await.unwrap();
    }
}
