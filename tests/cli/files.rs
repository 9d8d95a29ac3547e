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
    ["units", "cadres", "appointments", "sanctions", "calendar"]
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
            ],
        );
        for target in TestDatabase::all().await.unwrap() {
            let case = format!("{} {format} {lang}", target.name);
            ok(&target.url, &["import", "all", s(&files)]);
            assert_eq!(target.store.counts().await.unwrap(), counts, "{case}");
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
