//! Import and export through the binary, on every backend under test.

use crate::util::{ok, run, s};
use kaohe_store::testing::TestDatabase;
use std::path::Path;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Exports a database as Chinese-header CSV into `dir` and returns the files' contents.
fn export_csv(url: &str, dir: &Path) -> Vec<(String, String)> {
    ok(url, &["export", "--out", s(dir)]);
    [
        "units",
        "cadres",
        "appointments",
        "sanctions",
        "calendar",
        "service_cases",
        "ratings",
    ]
    .iter()
    .map(|t| (t.to_string(), read(&dir.join(format!("{t}.csv")))))
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_bad_row_among_thousands_changes_nothing_and_is_named() {
    for db in TestDatabase::all().await.unwrap() {
        let dir = tempfile::tempdir().unwrap();
        let files = dir.path().join("gen");
        ok(
            &db.url,
            &[
                "gen",
                "--cadres",
                "3000",
                "--seed",
                "11",
                "--out",
                s(&files),
            ],
        );
        ok(&db.url, &["import", "all", s(&files)]);
        let before = export_csv(&db.url, &dir.path().join("before"));

        // The same file with every name changed (an update of 3,000 rows) and one bad date.
        let text = read(&files.join("cadres.csv"));
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        assert!(lines.len() > 2000, "{} rows", lines.len());
        let header: Vec<&str> = lines[0].trim_start_matches('\u{feff}').split(',').collect();
        let name_col = header.iter().position(|h| *h == "姓名").unwrap();
        let date_col = header.iter().position(|h| *h == "出生日期").unwrap();
        for (i, line) in lines.iter_mut().enumerate().skip(1) {
            let mut fields: Vec<String> = line.split(',').map(str::to_owned).collect();
            fields[name_col] = "改名".into();
            if i + 1 == 1734 {
                fields[date_col] = "1985-13-45".into();
            }
            *line = fields.join(",");
        }
        let bad = dir.path().join("cadres.csv");
        std::fs::write(&bad, lines.join("\n")).unwrap();

        let out = run(&db.url, &["import", "cadres", s(&bad)]);
        assert!(!out.status.success(), "{}: import must fail", db.name);
        let err = String::from_utf8_lossy(&out.stderr);
        let expected = format!("{}:1734:出生日期", bad.display());
        assert!(err.contains(&expected), "{}: {err}", db.name);
        assert_eq!(
            err.matches("cadres.csv:").count(),
            1,
            "{}: only the bad row is named: {err}",
            db.name
        );

        let after = export_csv(&db.url, &dir.path().join("after"));
        assert_eq!(before, after, "{}: nothing changed", db.name);
        db.finish().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reference_to_a_missing_unit_is_named_and_changes_nothing() {
    for db in TestDatabase::all().await.unwrap() {
        let dir = tempfile::tempdir().unwrap();
        let units = dir.path().join("units.csv");
        std::fs::write(
            &units,
            "单位编码,单位名称,单位类型,上级单位编码\n100,清河县,县,\n",
        )
        .unwrap();
        ok(&db.url, &["import", "units", s(&units)]);
        let cadres = dir.path().join("cadres.csv");
        std::fs::write(
            &cadres,
            "id,name,gender,ethnicity,birth_date,unit,post,rank,is_leader,status\n\
             C1,王芳,female,汉族,1980-01-02,100,县长,division_principal,true,active\n\
             C2,李强,male,汉族,1981-01-02,999,副县长,division_deputy,true,active\n",
        )
        .unwrap();
        let out = run(&db.url, &["import", "cadres", s(&cadres)]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("{}:3:unit", cadres.display())) && err.contains("999"),
            "{}: {err}",
            db.name
        );
        assert_eq!(db.store.counts().await.unwrap().cadres, 0, "{}", db.name);
        db.finish().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gb18030_csv_with_chinese_headers_imports() {
    for db in TestDatabase::all().await.unwrap() {
        let dir = tempfile::tempdir().unwrap();
        let text = "单位编码,单位名称,单位类型,上级单位编码\n\
                    520000,贵州省,省,\n\
                    520100,贵阳市,市,520000\n\
                    520102,南明区,县,520100\n\
                    520102-01,南明区人力资源和社会保障局,部门,520102\n";
        let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
        assert!(!unmappable);
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "the file is really not UTF-8"
        );
        let file = dir.path().join("units.csv");
        std::fs::write(&file, &bytes).unwrap();
        assert!(ok(&db.url, &["import", "units", s(&file)]).contains("imported 4 units"));
        let units = db.store.all_units().await.unwrap();
        let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(
            names,
            ["贵州省", "贵阳市", "南明区", "南明区人力资源和社会保障局"],
            "{}",
            db.name
        );
        assert_eq!(units[3].parent.as_ref().map(|p| p.as_str()), Some("520102"));
        db.finish().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn export_then_import_round_trips_every_table() {
    let source = TestDatabase::sqlite().await.unwrap();
    ok(
        &source.url,
        &["gen", "--cadres", "700", "--seed", "5", "--load"],
    );
    let counts = source.store.counts().await.unwrap();
    assert!(
        counts.units > 10
            && counts.cadres == 700
            && counts.appointments >= 700
            && counts.sanctions > 0
            && counts.calendar > 20,
        "{counts:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let reference = export_csv(&source.url, &dir.path().join("reference"));

    for (format, lang) in [("csv", "zh"), ("xlsx", "zh"), ("csv", "en"), ("xlsx", "en")] {
        let files = dir.path().join(format!("{format}-{lang}"));
        // Unmasked: masked phone numbers do not import back.
        ok(
            &source.url,
            &[
                "export",
                "--out",
                s(&files),
                "--format",
                format,
                "--lang",
                lang,
                "--unmasked",
            ],
        );
        for target in TestDatabase::all().await.unwrap() {
            let case = format!("{} {format} {lang}", target.name);
            ok(&target.url, &["import", "all", s(&files)]);
            assert_eq!(target.store.counts().await.unwrap(), counts, "{case}");
            assert_eq!(
                target.store.service_counts().await.unwrap(),
                source.store.service_counts().await.unwrap(),
                "{case}"
            );
            let back = export_csv(
                &target.url,
                &dir.path()
                    .join(format!("{}-{format}-{lang}-back", target.name)),
            );
            for ((table, want), (_, got)) in reference.iter().zip(&back) {
                assert!(want == got, "{case}: {table} differs after the round trip");
            }
            target.finish().await.unwrap();
        }
    }
    source.finish().await.unwrap();
}

/// Replaces the cells of `column` (a header) on the given 1-based file rows.
fn edit_rows(text: &str, column: &str, edits: &[(usize, &str)]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<&str> = lines[0].trim_start_matches('\u{feff}').split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == column)
        .unwrap_or_else(|| panic!("no column {column} in {header:?}"));
    for (row, value) in edits {
        let mut fields: Vec<String> = lines[row - 1].split(',').map(str::to_owned).collect();
        fields[col] = (*value).to_owned();
        lines[row - 1] = fields.join(",");
    }
    lines.join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn ratings_import_by_the_rules_at_their_time_and_a_bad_row_stores_nothing() {
    for db in TestDatabase::all().await.unwrap() {
        let dir = tempfile::tempdir().unwrap();
        let files = dir.path().join("gen");
        ok(
            &db.url,
            &["gen", "--cadres", "400", "--seed", "3", "--out", s(&files)],
        );
        let ratings = read(&files.join("ratings.csv"));
        std::fs::remove_file(files.join("ratings.csv")).unwrap();
        ok(&db.url, &["import", "all", s(&files)]);
        let (cases, rated) = db.store.service_counts().await.unwrap();
        assert_eq!((cases, rated), (800, 0), "{}", db.name);
        let audit_before = db.store.audit_head().await.unwrap().seq;

        // Two bad rows among hundreds: an unknown case, and a rating a month after the case
        // closed.
        let rows = ratings.lines().count();
        assert!(rows > 400, "{rows} rows");
        let bad = edit_rows(&ratings, "办件编号", &[(17, "BJ-NOPE")]);
        let bad = edit_rows(&bad, "评价时间", &[(90, "2026-01-30 10:00")]);
        let file = dir.path().join("ratings.csv");
        std::fs::write(&file, bad).unwrap();
        let out = run(&db.url, &["import", "ratings", s(&file)]);
        assert!(!out.status.success(), "{}: import must fail", db.name);
        let err = String::from_utf8_lossy(&out.stderr);
        let f = file.display();
        for expected in [
            format!("{f}:17:办件编号: case BJ-NOPE does not exist"),
            format!("{f}:90:评价时间: case "),
        ] {
            assert!(err.contains(&expected), "{}: {expected} in {err}", db.name);
        }
        assert!(err.contains("can no longer be rated"), "{}: {err}", db.name);
        assert_eq!(err.matches("ratings.csv:").count(), 2, "{}: {err}", db.name);

        // A case rated twice in one file.
        let first_case = ratings.lines().nth(1).unwrap().split(',').next().unwrap();
        std::fs::write(
            &file,
            edit_rows(&ratings, "办件编号", &[(rows, first_case)]),
        )
        .unwrap();
        let out = run(&db.url, &["import", "ratings", s(&file)]);
        assert!(!out.status.success(), "{}: import must fail", db.name);
        let err = String::from_utf8_lossy(&out.stderr);
        let expected =
            format!("{f}:{rows}:办件编号: case {first_case} is rated twice: one rating per case");
        assert!(err.contains(&expected), "{}: {err}", db.name);
        assert_eq!(
            db.store.service_counts().await.unwrap(),
            (800, 0),
            "{}",
            db.name
        );
        assert_eq!(
            db.store.audit_head().await.unwrap().seq,
            audit_before,
            "{}",
            db.name
        );

        // The good file imports whole, bad reviews with their rectification, even though the
        // rating window of every case closed long ago.
        let good = dir.path().join("good.csv");
        std::fs::write(&good, &ratings).unwrap();
        let n = rows - 1;
        assert!(
            ok(&db.url, &["import", "ratings", s(&good)])
                .contains(&format!("imported {n} ratings")),
            "{}",
            db.name
        );
        assert_eq!(
            db.store.service_counts().await.unwrap(),
            (800, n as u64),
            "{}",
            db.name
        );
        let bad_reviews = ratings
            .lines()
            .filter(|l| l.contains(",不满意,") || l.contains(",非常不满意,"))
            .count();
        assert!(bad_reviews > 0);
        let queue = db
            .store
            .rectification_queue(None, false, 10_000)
            .await
            .unwrap();
        assert_eq!(queue.len(), bad_reviews, "{}", db.name);

        // A second import of the same file: every rating is a second one, nothing stored.
        let out = run(&db.url, &["import", "ratings", s(&good)]);
        assert!(!out.status.success(), "{}", db.name);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(":2:办件编号: case ") && err.contains("has been rated already"),
            "{}: {err}",
            db.name
        );
        assert_eq!(
            db.store.service_counts().await.unwrap(),
            (800, n as u64),
            "{}",
            db.name
        );
        db.finish().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_of_an_unknown_official_is_named_and_cases_get_rating_codes() {
    for db in TestDatabase::all().await.unwrap() {
        let dir = tempfile::tempdir().unwrap();
        let files = dir.path().join("gen");
        ok(
            &db.url,
            &["gen", "--cadres", "200", "--seed", "4", "--out", s(&files)],
        );
        for t in ["units", "cadres"] {
            ok(&db.url, &["import", t, s(&files.join(format!("{t}.csv")))]);
        }
        let cases = read(&files.join("service_cases.csv"));
        let bad = edit_rows(&cases, "经办人", &[(5, "G0000001、G9999999")]);
        let file = dir.path().join("cases.csv");
        std::fs::write(&file, bad).unwrap();
        let out = run(&db.url, &["import", "cases", s(&file)]);
        assert!(!out.status.success(), "{}", db.name);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err.trim()
                .lines()
                .filter(|l| l.contains("cases.csv:"))
                .map(|l| l.trim_start_matches("error: "))
                .collect::<Vec<_>>(),
            [format!(
                "{}:5:经办人: cadre G9999999 does not exist",
                file.display()
            )],
            "{}: {err}",
            db.name
        );
        assert_eq!(
            db.store.service_counts().await.unwrap(),
            (0, 0),
            "{}",
            db.name
        );

        ok(
            &db.url,
            &["import", "cases", s(&files.join("service_cases.csv"))],
        );
        let stored = db.store.all_cases().await.unwrap();
        assert_eq!(stored.len(), 400, "{}", db.name);
        let codes: std::collections::HashSet<&str> =
            stored.iter().map(|c| c.rating_code.as_str()).collect();
        assert_eq!(codes.len(), stored.len(), "{}: codes are unique", db.name);
        assert!(stored.iter().all(|c| c.rating_code.len() == 16));
        db.finish().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_mask_phones_unless_asked_and_the_audit_log_says_so() {
    let db = TestDatabase::sqlite().await.unwrap();
    ok(
        &db.url,
        &["gen", "--cadres", "150", "--seed", "9", "--load"],
    );
    let phone = db
        .store
        .all_cases()
        .await
        .unwrap()
        .into_iter()
        .find_map(|c| c.case.phone)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    ok(&db.url, &["export", "--out", s(&dir.path().join("m"))]);
    let masked = read(&dir.path().join("m/service_cases.csv"));
    assert!(masked.contains(&phone.masked()));
    assert!(!masked.contains(phone.reveal()));
    ok(
        &db.url,
        &["export", "--out", s(&dir.path().join("u")), "--unmasked"],
    );
    assert!(read(&dir.path().join("u/service_cases.csv")).contains(phone.reveal()));
    let log = ok(&db.url, &["audit", "list", "--action", "export"]);
    let actions: Vec<&str> = log.lines().filter_map(|l| l.split('\t').nth(3)).collect();
    assert_eq!(actions, ["export.all", "export.personal_data"], "{log}");
    assert!(log.contains("\"phones\":\"unmasked\""), "{log}");
    db.finish().await.unwrap();
}
