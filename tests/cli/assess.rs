//! `kaohe framework …` and `kaohe assess`: presets, checks, grades with the quota tie rule,
//! located value errors, JSON contributions and reproducible Monte Carlo.

use crate::util::{kaohe, s};
use std::path::Path;
use std::process::Output;

/// One dimension, one indicator `x` scored 0–100 as is: the score equals the value.
const FRAMEWORK: &str = r#"[framework]
id = "tie"
version = "1"
name = "测试"
aggregation = "arithmetic"

[grading]
scale = "annual"
thresholds = [90, 70, 60]

[[dimensions]]
id = "d"
name = "维度"
weight = 1

  [[dimensions.indicators]]
  id = "x"
  name = "得分"
  unit = "分"
  direction = "positive"
  weight = 1
  normalization = { method = "goalposts", min = 0, max = 100 }
"#;

/// Ten people in one unit: quota 20% → k = 2. p1 is alone at 98; p2–p4 tie at 95 across the
/// line (one place left for three), so the committee decides and they get 称职 for now.
const VALUES: &str = "人员编号,单位编码,x\np1,u,98\np2,u,95\np3,u,95\np4,u,95\np5,u,80\np6,u,75\np7,u,72\np8,u,65\np9,u,50\np10,u,40\n";

fn run(args: &[&str]) -> Output {
    kaohe().args(args).output().unwrap()
}

fn stdout_ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "kaohe {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn setup(dir: &Path) -> (String, String) {
    let fw = dir.join("fw.toml");
    let values = dir.join("values.csv");
    std::fs::write(&fw, FRAMEWORK).unwrap();
    std::fs::write(&values, VALUES).unwrap();
    (s(&fw).to_owned(), s(&values).to_owned())
}

#[test]
fn framework_presets_list_show_and_check() {
    let list = stdout_ok(&["framework", "presets"]);
    let names = [
        "civil_servant_annual",
        "political_quality_review",
        "county_team_hqd",
        "routine_quarterly",
    ];
    assert_eq!(list.lines().count(), 4, "{list}");
    for name in names {
        assert!(list.lines().any(|l| l.starts_with(name)), "{list}");
        let checked = stdout_ok(&["framework", "check", name]);
        assert!(checked.contains("effective"), "{checked}");
        let shown = stdout_ok(&["framework", "show", name]);
        assert!(shown.contains(&format!("id = \"{name}\"")), "{shown}");
    }
    assert!(!run(&["framework", "show", "nope"]).status.success());
}

#[test]
fn broken_framework_fails_naming_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let fw = dir.path().join("bad.toml");
    // Line 21: a weight that is not a number.
    std::fs::write(
        &fw,
        FRAMEWORK.replace("  weight = 1\n  normal", "  weight = \"heavy\"\n  normal"),
    )
    .unwrap();
    let out = run(&["framework", "check", s(&fw)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("line 21"), "{err}");
    assert!(err.contains("weight"), "{err}");
}

#[test]
fn a_check_lists_every_problem_and_a_missing_file_is_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let fw = dir.path().join("bad.toml");
    // Line 9: thresholds rising; line 20: an unknown direction; line 21: a weight that is
    // not a number; line 23: an unknown key.
    let broken = FRAMEWORK
        .replace("[90, 70, 60]", "[60, 70, 90]")
        .replace("\"positive\"", "\"upwards\"")
        .replace("  weight = 1\n  normal", "  weight = \"heavy\"\n  normal")
        .replace("max = 100 }\n", "max = 100 }\n  colour = \"red\"\n");
    std::fs::write(&fw, broken).unwrap();
    let out = run(&["framework", "check", s(&fw)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("(4 problems)"), "{err}");
    for needle in [
        "line 9, column 14: `grading.thresholds`",
        "line 20, column 15: `dimensions[0].indicators[0].direction`",
        "line 21, column 12: `dimensions[0].indicators[0].weight`",
        "line 23, column 3: `dimensions[0].indicators[0].colour`",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }

    // A missing file: its name and the reason, each said once, on one line.
    let missing = dir.path().join("missing.csv");
    let (fw, _) = setup(dir.path());
    let out = run(&[
        "assess",
        "--framework",
        &fw,
        "--data",
        s(&missing),
        "--out",
        s(&dir.path().join("out.csv")),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(err.matches("missing.csv").count(), 1, "{err}");
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
}

#[test]
fn the_log_has_no_colour_codes_when_it_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", s(&dir.path().join("kaohe.db")));
    let out = kaohe()
        .env("RUST_LOG", "debug")
        .args(["audit", "verify", "--database-url", &url])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(" DEBUG "), "a debug line is logged: {err}");
    assert!(!err.contains('\u{1b}'), "{err}");
}

#[test]
fn quota_tie_goes_to_the_committee() {
    let dir = tempfile::tempdir().unwrap();
    let (fw, values) = setup(dir.path());
    let out = dir.path().join("result.csv");
    let summary = stdout_ok(&[
        "assess",
        "--framework",
        &fw,
        "--data",
        &values,
        "--out",
        s(&out),
    ]);
    assert!(summary.contains("assessed 10 people"), "{summary}");
    let text = std::fs::read_to_string(&out).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "person_id,unit_id,score,rank,rank_in_unit,grade,rule,flags"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // (id, rank, grade, rule), worked out by hand: thresholds 90/70/60, k = floor(0.2 × 10).
    let expected = [
        ("p1", "1", "优秀", "threshold"),
        ("p2", "2", "称职", "quota_tie_committee"),
        ("p3", "2", "称职", "quota_tie_committee"),
        ("p4", "2", "称职", "quota_tie_committee"),
        ("p5", "5", "称职", "threshold"),
        ("p6", "6", "称职", "threshold"),
        ("p7", "7", "称职", "threshold"),
        ("p8", "8", "基本称职", "threshold"),
        ("p9", "9", "不称职", "threshold"),
        ("p10", "10", "不称职", "threshold"),
    ];
    assert_eq!(rows.len(), expected.len());
    for (row, (id, rank, grade, rule)) in rows.iter().zip(expected) {
        assert_eq!(
            (row[0], row[3], row[4], row[5], row[6]),
            (id, rank, rank, grade, rule),
            "{text}"
        );
    }
    // A warning in the year blocks the top grade; a sanction in effect gives no grade.
    let people = dir.path().join("people.csv");
    std::fs::write(
        &people,
        "人员编号,是否受警告,处分期内\np1,是,否\np9,否,是\n",
    )
    .unwrap();
    stdout_ok(&[
        "assess",
        "--framework",
        &fw,
        "--data",
        &values,
        "--people",
        s(&people),
        "--out",
        s(&out),
    ]);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("p1,u,98,1,1,称职,blocked:warning"), "{text}");
    assert!(
        text.contains("p9,u,50,9,9,,blocked:sanction_in_effect"),
        "{text}"
    );
    // A PEOPLE id not in VALUES is an error naming the row.
    std::fs::write(&people, "person_id,warning_in_year\np1,否\nzz,否\n").unwrap();
    let failed = run(&[
        "assess",
        "--framework",
        &fw,
        "--data",
        &values,
        "--people",
        s(&people),
        "--out",
        s(&out),
    ]);
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains("people.csv:3:person_id:"), "{err}");
}

#[test]
fn bad_values_are_located_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (fw, _) = setup(dir.path());
    let values = dir.path().join("bad.csv");
    std::fs::write(
        &values,
        "person_id,unit_id,x\np1,u,98\np2,u,九十\np1,u,70\n",
    )
    .unwrap();
    let out = dir.path().join("result.csv");
    let failed = run(&[
        "assess",
        "--framework",
        &fw,
        "--data",
        s(&values),
        "--out",
        s(&out),
    ]);
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains(&format!("{}:3:x:", s(&values))), "{err}");
    assert!(err.contains(":4:person_id:"), "{err}");
    assert!(!out.exists());
    // Unknown indicator columns are reported by name.
    std::fs::write(&values, "person_id,unit_id,x,y\np1,u,98,1\n").unwrap();
    let failed = run(&[
        "assess",
        "--framework",
        &fw,
        "--data",
        s(&values),
        "--out",
        s(&out),
    ]);
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("\"y\""));
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        3,
        "no stray files"
    );
}

#[test]
fn json_has_contributions_and_draws_are_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let (fw, values) = setup(dir.path());
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    for out in [&a, &b] {
        stdout_ok(&[
            "assess",
            "--framework",
            &fw,
            "--data",
            &values,
            "--draws",
            "200",
            "--seed",
            "1",
            "--out",
            s(out),
        ]);
    }
    let text = std::fs::read_to_string(&a).unwrap();
    assert_eq!(text, std::fs::read_to_string(&b).unwrap());
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let people = doc["people"].as_array().unwrap();
    assert_eq!(people.len(), 10);
    assert_eq!(people[0]["contributions"]["x"], 98.0);
    assert_eq!(people[1]["rule"], "quota_tie_committee");
    for key in ["median_rank", "p05", "p95", "p_top_grade"] {
        assert!(people[0].get(key).is_some(), "{key}");
    }
    // A preset through CSV with draws adds the rank-interval columns; XLSX is written too.
    let csv = dir.path().join("r.csv");
    stdout_ok(&[
        "assess",
        "--framework",
        &fw,
        "--data",
        &values,
        "--draws",
        "50",
        "--out",
        s(&csv),
    ]);
    let head = std::fs::read_to_string(&csv).unwrap();
    assert!(
        head.lines()
            .next()
            .unwrap()
            .ends_with("median_rank,p05,p95,p_top_grade")
    );
    let xlsx = dir.path().join("r.xlsx");
    stdout_ok(&[
        "assess",
        "--framework",
        &fw,
        "--data",
        &values,
        "--out",
        s(&xlsx),
    ]);
    assert!(std::fs::metadata(&xlsx).unwrap().len() > 0);
}

#[test]
fn gen_values_for_a_preset_are_accepted_by_assess() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g");
    stdout_ok(&[
        "gen",
        "--cadres",
        "300",
        "--framework",
        "county_team_hqd",
        "--out",
        s(&out),
    ]);
    let values = std::fs::read_to_string(out.join("values.csv")).unwrap();
    assert!(
        values.starts_with("person_id,unit_id,gdp_per_capita,"),
        "{values:.200}"
    );
    assert_eq!(values.lines().count(), 301);
    // A few percent of the cells are empty.
    assert!(values.contains(",,"));
    let result = out.join("r.json");
    let text = stdout_ok(&[
        "assess",
        "--framework",
        "county_team_hqd",
        "--data",
        s(&out.join("values.csv")),
        "--people",
        s(&out.join("people.csv")),
        "--out",
        s(&result),
    ]);
    assert!(text.starts_with("assessed 300 people"), "{text}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&result).unwrap()).unwrap();
    assert_eq!(doc["people"].as_array().unwrap().len(), 300);

    // The civil-servant preset needs its rating-count column and has an indicator whose
    // missing values are an error: the generated file must satisfy both.
    let cs = dir.path().join("cs");
    stdout_ok(&[
        "gen",
        "--cadres",
        "300",
        "--framework",
        "civil_servant_annual",
        "--out",
        s(&cs),
    ]);
    let header = std::fs::read_to_string(cs.join("values.csv")).unwrap();
    assert!(
        header
            .lines()
            .next()
            .unwrap()
            .contains("ji_public_rating_n")
    );
    stdout_ok(&[
        "assess",
        "--framework",
        "civil_servant_annual",
        "--data",
        s(&cs.join("values.csv")),
        "--people",
        s(&cs.join("people.csv")),
        "--out",
        s(&cs.join("r.csv")),
    ]);
}

#[test]
fn gen_synthetic_framework_checks_assesses_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let gen_into = |name: &str, seed: &str| {
        let out = dir.path().join(name);
        stdout_ok(&[
            "gen",
            "--cadres",
            "200",
            "--indicators",
            "12",
            "--seed",
            seed,
            "--out",
            s(&out),
        ]);
        out
    };
    let a = gen_into("a", "5");
    let fw = a.join("framework.toml");
    let check = stdout_ok(&["framework", "check", s(&fw)]);
    assert!(check.contains(": ok"), "{check}");
    let header = std::fs::read_to_string(a.join("values.csv")).unwrap();
    assert_eq!(
        header.lines().next().unwrap().split(',').count(),
        2 + 12,
        "{header:.200}"
    );
    let text = stdout_ok(&[
        "assess",
        "--framework",
        s(&fw),
        "--data",
        s(&a.join("values.csv")),
        "--people",
        s(&a.join("people.csv")),
        "--out",
        s(&a.join("r.csv")),
    ]);
    assert!(text.starts_with("assessed 200 people"), "{text}");

    let b = gen_into("b", "5");
    let c = gen_into("c", "6");
    for file in ["framework.toml", "values.csv", "people.csv", "cadres.csv"] {
        let read = |d: &Path| std::fs::read(d.join(file)).unwrap();
        assert_eq!(read(&a), read(&b), "{file} differs for the same seed");
    }
    assert_ne!(
        std::fs::read(a.join("values.csv")).unwrap(),
        std::fs::read(c.join("values.csv")).unwrap()
    );
}

#[test]
fn settings_flags_reach_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let (fw, values) = setup(dir.path());
    let out = dir.path().join("r.csv");
    let text = stdout_ok(&[
        "assess",
        "--framework",
        &fw,
        "--data",
        &values,
        "--quota-share",
        "0.5",
        "--scale",
        "routine",
        "--draws",
        "20",
        "--noise",
        "dirichlet:50",
        "--out",
        s(&out),
    ]);
    // Quota 50% of ten: five places, all four at 95 and above get the top grade 好.
    assert!(text.contains("好 4"), "{text}");
    let bad = run(&[
        "assess",
        "--framework",
        &fw,
        "--data",
        &values,
        "--noise",
        "gaussian",
        "--out",
        s(&out),
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--noise gaussian"));
}

/// VALUES for `county_team_hqd` built from one generated row copied to four people, with
/// `gdp_per_capita` (growth share 0.4, cap 6%) set to `gdp` and the two other growth-scored
/// indicators fixed; returns the path of the values file written into `dir`.
fn growth_values(dir: &Path, gdp: [f64; 4]) -> String {
    let g = dir.join("g");
    stdout_ok(&[
        "gen",
        "--cadres",
        "20",
        "--framework",
        "county_team_hqd",
        "--out",
        s(&g),
    ]);
    let text = std::fs::read_to_string(g.join("values.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut out = header.join(",") + "\n";
    for (k, x) in gdp.iter().enumerate() {
        let cells: Vec<String> = header
            .iter()
            .zip(&row)
            .map(|(h, c)| match *h {
                "person_id" => format!("p{}", k + 1),
                "unit_id" => "u".to_owned(),
                "gdp_per_capita" => x.to_string(),
                "rd_intensity" => "2".to_owned(),
                "pm25" => "30".to_owned(),
                "forest_cover" => "60".to_owned(),
                _ => (*c).to_owned(),
            })
            .collect();
        out.push_str(&(cells.join(",") + "\n"));
    }
    let values = dir.join("values.csv");
    std::fs::write(&values, out).unwrap();
    s(&values).to_owned()
}

#[test]
fn baseline_caps_growth_credit_and_bad_cells_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let values = growth_values(dir.path(), [53.0, 53.0, 53.0, 30.0]);
    // p1 grew exactly 6% (the cap), p2 32.5% (reckless), p3 below the cap, p4 not at all.
    let baseline = dir.path().join("baseline.csv");
    std::fs::write(
        &baseline,
        "人员编号,gdp_per_capita,rd_intensity,pm25\np1,50,2,30\np2,40,2,30\np3,51.5,2,30\np4,30,2,30\n",
    )
    .unwrap();
    let without = dir.path().join("without.json");
    let text = stdout_ok(&[
        "assess",
        "--framework",
        "county_team_hqd",
        "--data",
        &values,
        "--out",
        s(&without),
    ]);
    assert!(text.contains("growth_unavailable"), "{text}");
    let with = dir.path().join("with.json");
    let text = stdout_ok(&[
        "assess",
        "--framework",
        "county_team_hqd",
        "--data",
        &values,
        "--baseline",
        s(&baseline),
        "--out",
        s(&with),
    ]);
    assert!(!text.contains("growth_unavailable"), "{text}");
    let c = contributions(&with, "gdp_per_capita");
    // Score = 0.6 × level + 0.4 × 100 × clamp(g / 6%, 0, 1); levels (min-max): 100, 100, 100, 0.
    let score = |level: f64, g: f64| 0.6 * level + 0.4 * 100.0 * (g / 6.0).clamp(0.0, 1.0);
    let g3 = 100.0 * (53.0 - 51.5) / 51.5;
    assert!(c[0] > 0.0);
    assert!((c[0] - c[1]).abs() < 1e-9, "capped: {c:?}");
    let weight = c[0] / score(100.0, 6.0);
    assert!((c[2] - weight * score(100.0, g3)).abs() < 1e-9, "{c:?}");
    assert!(c[2] < c[0]);
    assert!(c[3].abs() < 1e-9, "{c:?}");

    // History with Chinese headers feeds latent credit (window 5, share 0.5): everyone has 60
    // this year; p1's past years were higher, so p1's blended value and score are the highest.
    let history = dir.path().join("history.csv");
    std::fs::write(
        &history,
        "人员编号,指标,期间,数值\np1,forest_cover,2024,80\np1,forest_cover,2023年,80\n\
         p2,forest_cover,2024,40\np3,forest_cover,2024,\n",
    )
    .unwrap();
    let latent = dir.path().join("latent.json");
    let text = stdout_ok(&[
        "assess",
        "--framework",
        "county_team_hqd",
        "--data",
        &values,
        "--baseline",
        s(&baseline),
        "--history",
        s(&history),
        "--year",
        "2025",
        "--out",
        s(&latent),
    ]);
    assert!(!text.contains("no_history"), "{text}");
    let f = contributions(&latent, "forest_cover");
    // Blended x' = 0.5·x + 0.5·m: p1 0.5·60 + 0.5·(60+80+80)/3 = 66.67, p2 0.5·60 +
    // 0.5·(60+40)/2 = 55, p3 (empty value) and p4 (no rows) 60; then min-max.
    assert!(f[0] > f[2] && f[2] > f[1], "{f:?}");
    assert!((f[2] - f[3]).abs() < 1e-9, "{f:?}");
    let w = f[0] / 100.0;
    assert!(
        (f[2] - w * 100.0 * (60.0 - 55.0) / (0.5 * 60.0 + 0.5 * 220.0 / 3.0 - 55.0)).abs() < 1e-9,
        "{f:?}"
    );

    // A non-numeric baseline cell is located; nothing is written.
    std::fs::write(
        &baseline,
        "person_id,gdp_per_capita,rd_intensity,pm25\np1,50,2,30\np2,四十,2,30\n",
    )
    .unwrap();
    let out = dir.path().join("bad.json");
    let failed = run(&[
        "assess",
        "--framework",
        "county_team_hqd",
        "--data",
        &values,
        "--baseline",
        s(&baseline),
        "--out",
        s(&out),
    ]);
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(
        err.contains(&format!("{}:3:gdp_per_capita:", s(&baseline))),
        "{err}"
    );
    assert!(!out.exists());
    // Unknown columns are named; a bad history cell is located.
    std::fs::write(&baseline, "person_id,gdp_per_capita,nope\np1,50,1\n").unwrap();
    let failed = run(&[
        "assess",
        "--framework",
        "county_team_hqd",
        "--data",
        &values,
        "--baseline",
        s(&baseline),
        "--out",
        s(&out),
    ]);
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("\"nope\""));
    let history = dir.path().join("history.csv");
    std::fs::write(
        &history,
        "人员编号,指标,期间,数值\np1,forest_cover,2024,60\np2,forest_cover,2024,x\n",
    )
    .unwrap();
    let failed = run(&[
        "assess",
        "--framework",
        "county_team_hqd",
        "--data",
        &values,
        "--history",
        s(&history),
        "--year",
        "2025",
        "--out",
        s(&out),
    ]);
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains(&format!("{}:3:数值:", s(&history))), "{err}");
    assert!(!out.exists());
}

#[test]
fn history_periods_count_back_from_the_assessed_year() {
    let dir = tempfile::tempdir().unwrap();
    let values = growth_values(dir.path(), [50.0; 4]);
    let history = dir.path().join("history.csv");
    std::fs::write(
        &history,
        "人员编号,指标,期间,数值\np1,forest_cover,2024,80\np1,forest_cover,2023年,80\n\
         p2,forest_cover,2024,40\n",
    )
    .unwrap();
    let assess = |year: &str, out: &Path| {
        run(&[
            "assess",
            "--framework",
            "county_team_hqd",
            "--data",
            &values,
            "--history",
            s(&history),
            "--year",
            year,
            "--out",
            s(out),
        ])
    };
    // Window 5 (4 past years). Assessing 2025: 2024 and 2023 are both in the window; p1's
    // blend is 0.5·60 + 0.5·(60+80+80)/3, p2's 0.5·60 + 0.5·(60+40)/2 = 55, p3 and p4 60.
    let r2025 = dir.path().join("r2025.json");
    assert!(assess("2025", &r2025).status.success());
    let f = contributions(&r2025, "forest_cover");
    let p1 = 0.5 * 60.0 + 0.5 * 220.0 / 3.0;
    assert!((f[2] / f[0] - 5.0 / (p1 - 55.0)).abs() < 1e-9, "{f:?}");
    // Assessing 2028: 2024 is 4 years back (in), 2023 is 5 (out of the window): p1's blend is
    // 0.5·60 + 0.5·(60+80)/2 = 65, so p3 lies halfway between p2 and p1.
    let r2028 = dir.path().join("r2028.json");
    assert!(assess("2028", &r2028).status.success());
    let f = contributions(&r2028, "forest_cover");
    assert!((f[2] / f[0] - 0.5).abs() < 1e-9, "{f:?}");
    assert!(f[1].abs() < 1e-9, "{f:?}");

    // A period that is not before the assessed year is located.
    let out = dir.path().join("bad.json");
    let failed = assess("2024", &out);
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    for row in [2, 4] {
        assert!(
            err.contains(&format!(
                "{}:{row}:期间: 2024 is not before the assessed year 2024 (--year)",
                s(&history)
            )),
            "{err}"
        );
    }
    assert!(!out.exists());
    // Rows, but none in the window: a wrong year or file.
    let failed = assess("2035", &out);
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(
        err.contains("no period of \"forest_cover\" is within its latent window 2031–2034"),
        "{err}"
    );
    assert!(!out.exists());
    // --history without --year: no guessing.
    let failed = run(&[
        "assess",
        "--framework",
        "county_team_hqd",
        "--data",
        &values,
        "--history",
        s(&history),
        "--out",
        s(&out),
    ]);
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains("--year"), "{err}");
    assert!(!out.exists());
}

#[test]
fn gen_baseline_and_history_feed_growth_and_latent_credit() {
    let dir = tempfile::tempdir().unwrap();
    let g = dir.path().join("g");
    let gen_out = stdout_ok(&[
        "gen",
        "--cadres",
        "300",
        "--framework",
        "county_team_hqd",
        "--out",
        s(&g),
    ]);
    assert!(gen_out.contains("baseline.csv"), "{gen_out}");
    let baseline = std::fs::read_to_string(g.join("baseline.csv")).unwrap();
    assert!(baseline.starts_with("person_id,gdp_per_capita,rd_intensity,pm25\n"));
    let history = std::fs::read_to_string(g.join("history.csv")).unwrap();
    assert!(history.starts_with("person_id,indicator,period,value\n"));
    assert!(history.contains(",forest_cover,"));
    let again = dir.path().join("again");
    stdout_ok(&[
        "gen",
        "--cadres",
        "300",
        "--framework",
        "county_team_hqd",
        "--out",
        s(&again),
    ]);
    assert_eq!(
        baseline,
        std::fs::read_to_string(again.join("baseline.csv")).unwrap()
    );
    assert_eq!(
        history,
        std::fs::read_to_string(again.join("history.csv")).unwrap()
    );
    let text = stdout_ok(&[
        "assess",
        "--framework",
        "county_team_hqd",
        "--data",
        s(&g.join("values.csv")),
        "--people",
        s(&g.join("people.csv")),
        "--baseline",
        s(&g.join("baseline.csv")),
        "--history",
        s(&g.join("history.csv")),
        "--year",
        "2025",
        "--out",
        s(&g.join("r.json")),
    ]);
    assert!(text.starts_with("assessed 300 people"), "{text}");
    assert!(!text.contains("growth_unavailable"), "{text}");
    assert!(!text.contains("no_history"), "{text}");
}

/// Each person's contribution of `indicator` in a JSON result file, in file order.
fn contributions(result: &Path, indicator: &str) -> Vec<f64> {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(result).unwrap()).unwrap();
    doc["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["contributions"][indicator].as_f64().unwrap())
        .collect()
}
