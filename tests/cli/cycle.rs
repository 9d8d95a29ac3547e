//! Assessment cycles through the binary, on SQLite and PostgreSQL: a generated county from
//! creation to amendment, the same scores and grades as `kaohe assess` on the same input, and
//! bad input refused with nothing changed.

use crate::util::{kaohe, ok, ok_as, run, s};
use kaohe_store::testing::TestDatabase;

fn fails(url: &str, args: &[&str]) -> String {
    let out = run(url, args);
    assert!(!out.status.success(), "kaohe {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Rows of a CSV file, sorted, each cut to its first `cols` columns.
fn rows(path: &std::path::Path, cols: usize) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut rows: Vec<String> = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(|l| l.split(',').take(cols).collect::<Vec<_>>().join(","))
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn an_annual_cycle_gives_what_assess_gives_and_final_stays_final() {
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("gen");
    kaohe()
        .args([
            "gen",
            "--cadres",
            "240",
            "--seed",
            "11",
            "--cases",
            "2000",
            "--framework",
            "civil_servant_annual",
            "--out",
            s(&generated),
        ])
        .output()
        .unwrap();
    let units = std::fs::read_to_string(generated.join("units.csv")).unwrap();
    let county = units
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    for db in TestDatabase::all().await.unwrap() {
        let url = db.url.as_str();
        ok(url, &["import", "all", s(&generated)]);
        let created = ok(
            url,
            &[
                "cycle",
                "create",
                "--name",
                "2025年度考核",
                "--kind",
                "annual",
                "--from",
                "2025-01-01",
                "--to",
                "2025-12-31",
                "--framework",
                "civil_servant_annual",
                "--unit",
                &county,
            ],
        );
        assert!(
            created.starts_with("created cycle 1 (2025年度考核): 240 people"),
            "{created}"
        );

        // Bad input, each refused with a message that says what.
        let err = fails(
            url,
            &[
                "cycle",
                "create",
                "--name",
                "x",
                "--kind",
                "annual",
                "--from",
                "2025-01-01",
                "--to",
                "2025-12-31",
                "--framework",
                "civil_servant_annual@9",
                "--unit",
                &county,
            ],
        );
        assert!(
            err.contains("no framework civil_servant_annual version 9"),
            "{err}"
        );
        let err = fails(
            url,
            &[
                "cycle",
                "import-values",
                "1",
                s(&generated.join("values.csv")),
            ],
        );
        assert!(err.contains("草稿"), "values before the cycle opens: {err}");
        ok(url, &["cycle", "open", "1"]);
        let outsider = dir.path().join(format!("outsider-{}.csv", db.name));
        std::fs::write(
            &outsider,
            "person_id,ji_task_completion,no_such\nX0000001,90,1\n",
        )
        .unwrap();
        let err = fails(url, &["cycle", "import-values", "1", s(&outsider)]);
        assert!(err.contains("unknown column(s) \"no_such\""), "{err}");
        std::fs::write(
            &outsider,
            "person_id,ji_task_completion\nG0000001,90\nX0000001,90\n",
        )
        .unwrap();
        let err = fails(url, &["cycle", "import-values", "1", s(&outsider)]);
        assert!(
            err.contains("row 3, person_id: \"X0000001\" is not in the scope of cycle 1"),
            "{err}"
        );
        let template = dir.path().join(format!("template-{}.csv", db.name));
        ok(url, &["cycle", "template", "1", "--out", s(&template)]);
        let header = std::fs::read_to_string(&template).unwrap();
        assert!(
            header.contains("person_id,姓名,unit_id,单位名称,de_political_review,de_poll"),
            "{header:.200}"
        );

        let imported = ok(
            url,
            &[
                "cycle",
                "import-values",
                "1",
                s(&generated.join("values.csv")),
            ],
        );
        assert_eq!(imported, "imported the values of 240 people into cycle 1\n");
        let computed = ok(url, &["cycle", "compute", "1"]);
        assert!(
            computed.starts_with("computed cycle 1 (revision 1): 240 people; 优秀 "),
            "{computed}"
        );

        // The same input through kaohe assess: byte-identical scores, ranks, intervals, grades.
        let input = dir.path().join(format!("input-{}", db.name));
        ok(url, &["cycle", "input", "1", "--out", s(&input)]);
        let by_cycle = dir.path().join(format!("cycle-{}.csv", db.name));
        let by_assess = dir.path().join(format!("assess-{}.csv", db.name));
        ok(url, &["cycle", "results", "1", "--out", s(&by_cycle)]);
        let out = kaohe()
            .args([
                "assess",
                "--framework",
                "civil_servant_annual",
                "--data",
                s(&input.join("values.csv")),
                "--people",
                s(&input.join("people.csv")),
                "--draws",
                "200",
                "--out",
                s(&by_assess),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cycle_rows = rows(&by_cycle, 12);
        assert_eq!(cycle_rows.len(), 241);
        assert_eq!(cycle_rows, rows(&by_assess, 12), "{}", db.name);
        let named = std::fs::read_to_string(&by_cycle).unwrap();
        assert!(
            named.lines().next().unwrap().ends_with(",name,unit_name"),
            "{named:.200}"
        );

        // Committee: every tie decided (kept at the next grade), then final.
        ok(url, &["cycle", "review", "1"]);
        for line in named
            .lines()
            .filter(|l| l.contains(",quota_tie_committee,"))
        {
            let person = line.split(',').next().unwrap();
            ok_as(
                "chair",
                url,
                &[
                    "cycle",
                    "decide",
                    "1",
                    "--person",
                    person,
                    "--decision",
                    "keep_next",
                    "--reason",
                    "名额所限",
                ],
            );
        }
        let err = fails(
            url,
            &[
                "cycle",
                "decide",
                "1",
                "--person",
                "G0000001",
                "--decision",
                "award_top",
                "--reason",
                "",
            ],
        );
        assert!(err.contains("reason"), "{err}");
        // Whoever computed the result does not finalize it (four eyes).
        let err = fails(url, &["cycle", "finalize", "1"]);
        assert!(err.contains("four eyes"), "{err}");
        ok_as("chair", url, &["cycle", "finalize", "1"]);
        let final_file = dir.path().join(format!("final-{}.csv", db.name));
        ok(url, &["cycle", "results", "1", "--out", s(&final_file)]);
        let final_rows = rows(&final_file, 14);

        // Final: values, computing and a second finalization are refused, nothing changes.
        let err = fails(
            url,
            &[
                "cycle",
                "import-values",
                "1",
                s(&generated.join("values.csv")),
            ],
        );
        assert!(err.contains("已定稿"), "{err}");
        let err = fails(url, &["cycle", "compute", "1"]);
        assert!(err.contains("已定稿"), "{err}");
        let err = fails(url, &["cycle", "finalize", "1"]);
        assert!(err.contains("已定稿"), "{err}");
        let err = fails(url, &["cycle", "amend", "1", "--reason", " "]);
        assert!(err.contains("reason"), "{err}");
        ok(url, &["cycle", "results", "1", "--out", s(&final_file)]);
        assert_eq!(rows(&final_file, 14), final_rows, "{}", db.name);

        // An amendment keeps the final result and adds the corrected one.
        let fix = dir.path().join(format!("fix-{}.csv", db.name));
        std::fs::write(&fix, "person_id,ji_task_completion\nG0000001,20\n").unwrap();
        let amended = ok(
            url,
            &[
                "cycle",
                "amend",
                "1",
                "--reason",
                "复核更正：任务完成率录入错误",
                "--values",
                s(&fix),
            ],
        );
        assert!(
            amended.contains("revision 3 corrects revision 2"),
            "{amended}"
        );
        assert!(amended.contains("G0000001"), "{amended}");
        let before = dir.path().join(format!("before-{}.csv", db.name));
        ok(
            url,
            &[
                "cycle",
                "results",
                "1",
                "--revision",
                "2",
                "--out",
                s(&before),
            ],
        );
        assert_eq!(rows(&before, 14), final_rows);
        let shown = ok(url, &["cycle", "show", "1"]);
        assert!(shown.contains("state: 已定稿"), "{shown}");
        assert!(
            shown.contains("revision 3: 更正, locked: 复核更正"),
            "{shown}"
        );
        let listed = ok(url, &["cycle", "list"]);
        assert!(
            listed.starts_with("1\t2025年度考核\t年度考核\t2025-01-01 – 2025-12-31"),
            "{listed}"
        );
        eprintln!("cycle through the binary: {} ok", db.name);
        db.finish().await.unwrap();
    }
}

#[test]
fn assess_without_people_warns_in_the_users_language() {
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("gen");
    kaohe()
        .args([
            "gen",
            "--cadres",
            "30",
            "--framework",
            "civil_servant_annual",
            "--out",
            s(&generated),
        ])
        .output()
        .unwrap();
    for (lang, expected) in [
        (
            "en_US.UTF-8",
            "no --people file, so no sanction, warning or routine grade was applied; the grade of any of the 30 people",
        ),
        (
            "zh_CN.UTF-8",
            "未提供 --people，处分、警告和平时考核结果均未计入；本次 30 人",
        ),
    ] {
        let out = kaohe()
            .env("LANG", lang)
            .args([
                "assess",
                "--framework",
                "civil_servant_annual",
                "--data",
                s(&generated.join("values.csv")),
                "--out",
                s(&dir.path().join("r.csv")),
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{lang}: {err}");
    }
    let out = kaohe()
        .args([
            "assess",
            "--framework",
            "civil_servant_annual",
            "--data",
            s(&generated.join("values.csv")),
            "--people",
            s(&generated.join("people.csv")),
            "--out",
            s(&dir.path().join("r.csv")),
        ])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("--people"));
}

#[tokio::test]
async fn gen_fills_a_cycle_and_leaves_gathered_columns_to_their_source() {
    let db = TestDatabase::sqlite().await.unwrap();
    let url = db.url.as_str();
    crate::util::county_with_an_annual_cycle(&db).await;
    let err = fails(url, &["gen", "--cycle", "1"]);
    assert!(err.contains("草稿"), "{err}");
    ok(url, &["cycle", "open", "1"]);
    let filled = ok(url, &["gen", "--cycle", "1", "--seed", "3"]);
    let people = db.store.cycle(1).await.unwrap().unwrap().people;
    assert_eq!(
        filled,
        format!("filled the values of {people} people of cycle 1\n")
    );
    let rows = db.store.cycle_values(1).await.unwrap();
    let cycle = db.store.cycle(1).await.unwrap().unwrap();
    let rating = cycle
        .columns
        .iter()
        .position(|c| c == "ji_public_rating")
        .unwrap();
    let task = cycle
        .columns
        .iter()
        .position(|c| c == "ji_task_completion")
        .unwrap();
    assert!(
        rows.iter().all(|r| r.values[rating].is_none()),
        "left to the ratings"
    );
    assert!(rows.iter().filter(|r| r.values[task].is_some()).count() > rows.len() / 2);
    let computed = ok(url, &["cycle", "compute", "1"]);
    assert!(computed.starts_with("computed cycle 1"), "{computed}");
    db.finish().await.unwrap();
}
