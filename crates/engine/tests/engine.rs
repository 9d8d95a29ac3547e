//! Integration tests of the engine: worked examples from hand calculations, framework checks,
//! grading rules, Monte Carlo, presets, and property tests.
#![allow(clippy::unwrap_used)]

use kaohe_engine::{
    Framework, GradeScale, Input, Matrix, MethodChoice, Person, QuotaScope, Rule, Settings,
    WarningCode, WeightNoise, assess, monte_carlo, presets, shrink,
};

/// A framework with one dimension of indicators `(id, direction, weight, normalization)`.
fn framework(inds: &[(&str, &str, f64, &str)], extra_header: &str) -> Framework {
    let mut s = format!(
        "[framework]\nid = \"t\"\nversion = \"1\"\nname = \"test\"\n{extra_header}\n[[dimensions]]\nid = \"d\"\nname = \"d\"\nweight = 1\n"
    );
    for (id, dir, w, norm) in inds {
        s.push_str(&format!(
            "[[dimensions.indicators]]\nid = \"{id}\"\nname = \"{id}\"\nunit = \"1\"\ndirection = \"{dir}\"\nweight = {w}\nnormalization = {norm}\n"
        ));
    }
    Framework::from_toml_str(&s).unwrap()
}

fn people(units: &[&str]) -> Vec<Person> {
    units
        .iter()
        .enumerate()
        .map(|(i, u)| Person::new(format!("p{i}"), *u))
        .collect()
}

#[allow(clippy::needless_pass_by_value)] // test helper: literals read better by value
fn input(cols: &[&str], units: &[&str], columns: Vec<Vec<f64>>) -> Input {
    Input::new(
        people(units),
        cols.iter().map(|s| s.to_string()).collect(),
        Matrix::from_columns(&columns).unwrap(),
    )
}

mod worked {
    use super::*;

    #[test]
    fn minmax_weighted_sum_by_hand() {
        // a: 10, 20, 30 → 0, 50, 100; b (negative): 5, 1, 3 → 0, 100, 50.
        // Weights 60/40: 0, 70, 80.
        let fw = framework(
            &[
                ("a", "positive", 60.0, "\"minmax\""),
                ("b", "negative", 40.0, "\"minmax\""),
            ],
            "",
        );
        let inp = input(
            &["a", "b"],
            &["u", "u", "u"],
            vec![vec![10.0, 20.0, 30.0], vec![5.0, 1.0, 3.0]],
        );
        let a = assess(&fw, &inp, &Settings::default()).unwrap();
        assert_eq!(a.scores, vec![0.0, 70.0, 80.0]);
        assert_eq!(a.ranks, vec![3, 2, 1]);
        assert_eq!(a.effective_weights, vec![0.6, 0.4]);
        let c = a.contributions_of(1);
        assert_eq!(c, vec![("a", 30.0), ("b", 40.0)]);
        // 80 ≥ 70 → 称职; 70 → 称职; 0 → 不称职.
        assert_eq!(a.grade_label(2, "zh"), "称职");
        assert_eq!(a.grade_label(0, "zh"), "不称职");
        assert!(a.rules.iter().all(|r| *r == Rule::Threshold));
    }

    #[test]
    fn competition_ranking_1224() {
        let fw = framework(
            &[(
                "a",
                "positive",
                1.0,
                "{ method = \"goalposts\", min = 0, max = 100 }",
            )],
            "",
        );
        let inp = input(
            &["a"],
            &["u", "u", "v", "v"],
            vec![vec![90.0, 80.0, 80.0, 70.0]],
        );
        let a = assess(&fw, &inp, &Settings::default()).unwrap();
        assert_eq!(a.ranks, vec![1, 2, 2, 4]);
        assert_eq!(a.unit_ranks, vec![1, 2, 1, 2]);
    }

    #[test]
    fn saaty_textbook_matrix() {
        // Saaty's 3 × 3 example: w ≈ (0.637, 0.258, 0.105), λmax ≈ 3.0385, CI ≈ 0.0193,
        // RI = 0.58, CR ≈ 0.0332 < 0.1.
        let r = kaohe_engine::weights::ahp(&[
            vec![1.0, 3.0, 5.0],
            vec![1.0 / 3.0, 1.0, 3.0],
            vec![0.2, 1.0 / 3.0, 1.0],
        ])
        .unwrap();
        let expect = [0.636986, 0.258285, 0.104729];
        for (w, e) in r.weights.iter().zip(expect) {
            assert!((w - e).abs() < 1e-6, "{w} vs {e}");
        }
        assert!((r.lambda_max - 3.038511).abs() < 1e-6);
        assert!((r.ci - 0.019256).abs() < 1e-6);
        assert_eq!(r.ri, 0.58);
        assert!((r.cr - 0.033199).abs() < 1e-6);
    }

    #[test]
    fn ahp_in_a_framework_file_and_cr_rejection() {
        let src = |matrix: &str, allow: bool| {
            format!(
                r#"[framework]
id = "ahp"
version = "1"
name = "ahp"
weighting = {{ method = "ahp", order = ["x", "y", "z"], matrix = {matrix}, allow_inconsistent = {allow} }}
[[dimensions]]
id = "x"
name = "x"
weighting = "equal"
[[dimensions.indicators]]
id = "a"
name = "a"
unit = "1"
direction = "positive"
[[dimensions]]
id = "y"
name = "y"
weighting = "equal"
[[dimensions.indicators]]
id = "b"
name = "b"
unit = "1"
direction = "positive"
[[dimensions]]
id = "z"
name = "z"
weighting = "equal"
[[dimensions.indicators]]
id = "c"
name = "c"
unit = "1"
direction = "positive"
"#
            )
        };
        let fw = Framework::from_toml_str(&src(
            r#"[[1, 3, 5], ["1/3", 1, 3], ["1/5", "1/3", 1]]"#,
            false,
        ))
        .unwrap();
        let w = fw.effective_weights();
        assert!((w[0].1 - 0.636986).abs() < 1e-6);
        assert_eq!(fw.ahp_reports().len(), 1);
        // A circular (intransitive) matrix: CR far above 0.1.
        let bad = r#"[[1, 9, "1/9"], ["1/9", 1, 9], [9, "1/9", 1]]"#;
        let e = Framework::from_toml_str(&src(bad, false)).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("consistency ratio"), "{text}");
        assert!(text.contains("line 5"), "{text}");
        assert!(text.contains("framework.weighting.matrix"), "{text}");
        // Explicitly overridden: accepted and reported.
        let fw = Framework::from_toml_str(&src(bad, true)).unwrap();
        assert!(fw.ahp_reports()[0].overridden && fw.ahp_reports()[0].cr > 0.1);
    }

    #[test]
    fn entropy_weights_by_hand() {
        // Column a = 100, 50, 0, 50: p = ½, ¼, 0, ¼; e = (½ ln 2 + ½ ln 4) / ln 4 = 0.75; d = 0.25.
        // Column b = 20, 30, 25, 25 (goalposts 0–100 keep the values): d ≈ 0.00726.
        let d = kaohe_engine::weights::entropy_divergence(&[100.0, 50.0, 0.0, 50.0]);
        assert!((d - 0.25).abs() < 1e-12);
        let src = r#"[framework]
id = "e"
version = "1"
name = "e"
[[dimensions]]
id = "d"
name = "d"
weight = 1
weighting = "entropy"
[[dimensions.indicators]]
id = "a"
name = "a"
unit = "1"
direction = "positive"
normalization = { method = "goalposts", min = 0, max = 100 }
[[dimensions.indicators]]
id = "b"
name = "b"
unit = "1"
direction = "positive"
normalization = { method = "goalposts", min = 0, max = 100 }
"#;
        let fw = Framework::from_toml_str(src).unwrap();
        assert!(fw.has_data_driven_weights());
        let inp = input(
            &["a", "b"],
            &["u"; 4],
            vec![vec![100.0, 50.0, 0.0, 50.0], vec![20.0, 30.0, 25.0, 25.0]],
        );
        let a = assess(&fw, &inp, &Settings::default()).unwrap();
        assert!(
            (a.effective_weights[0] - 0.971771).abs() < 1e-6,
            "{:?}",
            a.effective_weights
        );
    }

    #[test]
    fn geometric_aggregation() {
        // Scores 100 and 25 with equal weights: √(100 × 25) = 50 (arithmetic would give 62.5).
        let fw = framework(
            &[
                (
                    "a",
                    "positive",
                    1.0,
                    "{ method = \"goalposts\", min = 0, max = 100 }",
                ),
                (
                    "b",
                    "positive",
                    1.0,
                    "{ method = \"goalposts\", min = 0, max = 100 }",
                ),
            ],
            "aggregation = \"geometric\"",
        );
        let inp = input(&["a", "b"], &["u"], vec![vec![100.0], vec![25.0]]);
        let a = assess(&fw, &inp, &Settings::default()).unwrap();
        assert_eq!(a.scores, vec![50.0]);
        let c: f64 = a.contributions_of(0).iter().map(|x| x.1).sum();
        assert!((c - 50.0).abs() < 1e-9);
    }

    #[test]
    fn growth_is_capped_and_latent_is_credited() {
        let src = r#"[framework]
id = "g"
version = "1"
name = "g"
[[dimensions]]
id = "d"
name = "d"
weight = 1
[[dimensions.indicators]]
id = "gdp"
name = "gdp"
unit = "元"
direction = "positive"
weight = 1
normalization = { method = "goalposts", min = 0, max = 100 }
growth = { share = 0.5, cap = 6.0 }
[[dimensions.indicators]]
id = "forest"
name = "forest"
unit = "%"
direction = "positive"
weight = 0
normalization = { method = "goalposts", min = 0, max = 100 }
latent = { window = 3, share = 0.5 }
"#;
        let fw = Framework::from_toml_str(src).unwrap();
        let mut inp = input(
            &["gdp", "forest"],
            &["u"; 3],
            vec![vec![50.0, 53.0, 80.0], vec![40.0, 40.0, 40.0]],
        );
        // Baselines: +0%, +6% (the cap), +60% (reckless: no extra).
        inp.baseline =
            Some(Matrix::from_columns(&[vec![50.0, 50.0, 50.0], vec![f64::NAN; 3]]).unwrap());
        let a = assess(&fw, &inp, &Settings::default()).unwrap();
        // level/2 + growth/2: 25 + 0; 26.5 + 50; 40 + 50.
        assert_eq!(a.scores, vec![25.0, 76.5, 90.0]);

        // Latent: forest alone, history 20 and 80 for the last two years.
        let fw2 = Framework::from_toml_str(&src.replace("weight = 1\nnormalization = { method = \"goalposts\", min = 0, max = 100 }\ngrowth", "weight = 0\nnormalization = { method = \"goalposts\", min = 0, max = 100 }\ngrowth").replace("weight = 0\nnormalization = { method = \"goalposts\", min = 0, max = 100 }\nlatent", "weight = 1\nnormalization = { method = \"goalposts\", min = 0, max = 100 }\nlatent")).unwrap();
        inp.history.push(kaohe_engine::History {
            column: "forest".into(),
            years: 2,
            data: vec![20.0, 20.0, f64::NAN, 80.0, 20.0, f64::NAN],
        });
        let a = assess(&fw2, &inp, &Settings::default()).unwrap();
        // p0: mean(40, 20, 80) = 46.67 → 0.5·40 + 0.5·46.67 = 43.3333.
        // p1: mean(40, 20, 20) = 26.67 → 33.3333. p2: no history → 40.
        assert_eq!(a.scores, vec![43.3333, 33.3333, 40.0]);
    }

    #[test]
    fn shrinkage_inside_a_framework() {
        let fw = framework(
            &[(
                "rating",
                "positive",
                1.0,
                "{ method = \"goalposts\", min = 1, max = 5 }",
            )],
            "",
        );
        assert!(fw.indicators()[0].shrink.is_none());
        let src = r#"[framework]
id = "s"
version = "1"
name = "s"
[[dimensions]]
id = "d"
name = "d"
weight = 1
[[dimensions.indicators]]
id = "rating"
name = "好差评均分"
unit = "分"
direction = "positive"
weight = 1
normalization = { method = "goalposts", min = 1, max = 5 }
shrink = { count = "rating_n", strength = 10, prior = 4.5 }
"#;
        let fw = Framework::from_toml_str(src).unwrap();
        let inp = input(
            &["rating", "rating_n"],
            &["u", "u"],
            vec![vec![5.0, 4.8], vec![3.0, 3000.0]],
        );
        let a = assess(&fw, &inp, &Settings::default()).unwrap();
        assert!(a.scores[1] > a.scores[0], "{:?}", a.scores);
        assert_eq!(a.ranks, vec![2, 1]);
        assert!(shrink::bayesian_average(15.0, 3.0, 4.5, 10.0) < 4.8);
    }
}

mod grading {
    use super::*;

    fn one_indicator() -> Framework {
        framework(
            &[(
                "s",
                "positive",
                1.0,
                "{ method = \"goalposts\", min = 0, max = 100 }",
            )],
            "",
        )
    }

    #[test]
    fn quota_with_a_tie_at_the_line() {
        // Ten people in one unit: k = floor(0.2 × 10) = 2. Scores 96, 93, 93, 91, 85, …:
        // 96 gets 优秀; the two 93s tie across the line → committee; 91 is beyond the quota.
        let scores = vec![
            96.0,
            93.0,
            93.0,
            91.0,
            85.0,
            80.0,
            75.0,
            65.0,
            55.0,
            93.0 - 30.0,
        ];
        let inp = input(&["s"], &["u"; 10], vec![scores]);
        let a = assess(&one_indicator(), &inp, &Settings::default()).unwrap();
        let codes: Vec<String> = a.rules.iter().map(|r| r.code().into_owned()).collect();
        assert_eq!(
            &codes[..5],
            [
                "threshold",
                "quota_tie_committee",
                "quota_tie_committee",
                "quota",
                "threshold"
            ]
        );
        assert_eq!(a.grade_label(0, "zh"), "优秀");
        assert_eq!(a.grade_label(1, "zh"), "称职");
        assert_eq!(a.grade_label(3, "zh"), "称职");
        assert!(a.flags[1].contains(&"committee_review".to_string()));
        assert_eq!(a.grade_label(7, "zh"), "基本称职");
        assert_eq!(a.grade_label(8, "zh"), "不称职");
        let line = &a.quota_lines[0];
        assert_eq!(
            (
                line.assessed,
                line.k,
                line.eligible,
                line.awarded,
                line.committee
            ),
            (10, 2, 4, 1, 2)
        );
        assert_eq!(line.tie_score, Some(93.0));
        assert_eq!(line.lowest_awarded, Some(96.0));
    }

    #[test]
    fn blocks_and_vetoes() {
        let fw = framework(
            &[
                (
                    "s",
                    "positive",
                    1.0,
                    "{ method = \"goalposts\", min = 0, max = 100 }",
                ),
                (
                    "accidents",
                    "negative",
                    0.0,
                    "{ method = \"goalposts\", min = 0, max = 1 }\nveto = { when = \">=\", value = 1 }",
                ),
            ],
            "",
        );
        let mut inp = input(
            &["s", "accidents"],
            &["u"; 10],
            vec![
                vec![99.0, 98.0, 97.0, 96.0, 95.0, 94.0, 50.0, 50.0, 50.0, 50.0],
                vec![0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            ],
        );
        inp.people[0].facts.blocks.warning_in_year = true;
        inp.people[1].facts.blocks.sanction_in_effect = true;
        inp.people[2].facts.routine_poor = 2;
        inp.people[3].facts.routine_poor = 1; // one 较差 is allowed by default
        inp.people[5].facts.vetoes.push("political_unfit".into());
        let a = assess(&fw, &inp, &Settings::default()).unwrap();
        assert_eq!(a.rules[0], Rule::BlockedWarning);
        assert_eq!(a.grade_label(0, "zh"), "称职");
        assert_eq!(a.rules[1], Rule::BlockedSanctionInEffect);
        assert_eq!(a.grades[1], None);
        assert_eq!(a.grade_label(1, "zh"), "不定等次");
        assert_eq!(a.rules[2], Rule::BlockedRoutinePoor);
        assert_eq!(a.rules[3], Rule::Threshold);
        assert_eq!(a.grade_label(3, "zh"), "优秀");
        assert_eq!(a.rules[4].code(), "veto:accidents");
        assert_eq!(a.grade_label(4, "zh"), "不称职");
        assert_eq!(a.rules[5].code(), "veto:political_unfit");
        // k = 2, only person 3 was eligible.
        assert_eq!(a.quota_lines[0].awarded, 1);
    }

    #[test]
    fn a_review_flags_for_the_committee_and_changes_nothing_else() {
        let indicators = |review: &str| {
            framework(
                &[
                    (
                        "s",
                        "positive",
                        1.0,
                        "{ method = \"goalposts\", min = 0, max = 100 }",
                    ),
                    (
                        "poll_flag",
                        "negative",
                        0.0,
                        &format!("{{ method = \"goalposts\", min = 0, max = 1 }}{review}"),
                    ),
                ],
                "",
            )
        };
        let fw = indicators("\nreview = { when = \">=\", value = 1 }");
        let plain = indicators("");
        let inp = input(
            &["s", "poll_flag"],
            &["u"; 4],
            vec![vec![95.0, 80.0, 70.0, 50.0], vec![1.0, 0.0, f64::NAN, 1.0]],
        );
        let a = assess(&fw, &inp, &Settings::default()).unwrap();
        let b = assess(&plain, &inp, &Settings::default()).unwrap();
        assert!(a.flags[0].contains(&"review:poll_flag".to_string()));
        assert!(a.flags[3].contains(&"review:poll_flag".to_string()));
        assert!(a.flags[1].is_empty(), "{:?}", a.flags[1]);
        // No value, nothing to review: not reported as missing either.
        assert!(a.flags[2].is_empty(), "{:?}", a.flags[2]);
        assert!(b.flags[2].contains(&"missing:poll_flag".to_string()));
        assert_eq!(a.scores, b.scores);
        assert_eq!(a.grades, b.grades);
        assert_eq!(a.rules, b.rules);
    }

    #[test]
    fn a_review_value_must_be_finite() {
        let src = "[framework]\nid = \"t\"\nversion = \"1\"\nname = \"test\"\n[[dimensions]]\nid = \"d\"\nname = \"d\"\nweight = 1\n[[dimensions.indicators]]\nid = \"x\"\nname = \"x\"\nunit = \"1\"\ndirection = \"negative\"\nweight = 0\nnormalization = { method = \"goalposts\", min = 0, max = 1 }\nreview = { when = \">=\", value = nan }\n";
        let err = Framework::from_toml_str(src).unwrap_err().to_string();
        assert!(err.contains("review value must be finite"), "{err}");
    }

    #[test]
    fn team_and_routine_scales_and_scope_all() {
        let fw = one_indicator();
        let inp = input(
            &["s"],
            &["a", "b", "c", "d", "e"],
            vec![vec![95.0, 85.0, 75.0, 50.0, 92.0]],
        );
        let mut st = Settings {
            scale: Some(GradeScale::Team),
            ..Settings::default()
        };
        // Per unit, each unit has one person: k = 0, nobody gets 优秀.
        let a = assess(&fw, &inp, &st).unwrap();
        assert_eq!(a.grade_label(0, "zh"), "良好");
        assert_eq!(a.rules[0], Rule::Quota);
        st.quota_scope = Some(QuotaScope::All);
        let a = assess(&fw, &inp, &st).unwrap();
        assert_eq!(a.grade_label(0, "zh"), "优秀");
        assert_eq!(a.grade_label(4, "zh"), "良好");
        assert_eq!(a.grade_label(2, "zh"), "一般");
        assert_eq!(a.grade_label(3, "zh"), "较差");
        st.scale = Some(GradeScale::Routine);
        let a = assess(&fw, &inp, &st).unwrap();
        assert_eq!(a.grade_label(0, "zh"), "好");
        assert_eq!(a.grade_label(1, "zh"), "较好");
    }
}

mod missing_and_warnings {
    use super::*;

    #[test]
    fn missing_rules_and_warnings() {
        let nan = f64::NAN;
        let mk = |rule: &str| {
            framework(
                &[
                    (
                        "a",
                        "positive",
                        1.0,
                        &format!(
                            "{{ method = \"goalposts\", min = 0, max = 100 }}\nmissing = \"{rule}\""
                        ),
                    ),
                    (
                        "b",
                        "positive",
                        1.0,
                        "{ method = \"goalposts\", min = 0, max = 100 }",
                    ),
                ],
                "",
            )
        };
        let inp = input(
            &["a", "b"],
            &["u"; 3],
            vec![vec![nan, 40.0, 80.0], vec![60.0, 60.0, 60.0]],
        );
        let s = |rule| {
            assess(&mk(rule), &inp, &Settings::default())
                .unwrap()
                .scores[0]
        };
        assert_eq!(s("reweight"), 60.0);
        assert_eq!(s("zero"), 30.0);
        assert_eq!(s("mean"), 60.0);
        assert_eq!(s("min"), 50.0);
        assert!(assess(&mk("error"), &inp, &Settings::default()).is_err());
        let a = assess(&mk("reweight"), &inp, &Settings::default()).unwrap();
        let w = a
            .warnings
            .iter()
            .find(|w| w.code == WarningCode::MissingValues)
            .unwrap();
        assert_eq!(
            (w.indicator.as_deref(), w.count, w.people.clone()),
            (Some("a"), 1, vec!["p0".to_string()])
        );
        assert!(a.flags[0].contains(&"missing:a".to_string()));
        assert_eq!(a.contributions_of(0), vec![("a", 0.0), ("b", 60.0)]);
    }

    #[test]
    fn constant_and_outside_are_reported() {
        let fw = framework(
            &[
                ("a", "positive", 1.0, "\"minmax\""),
                (
                    "b",
                    "positive",
                    1.0,
                    "{ method = \"goalposts\", min = 0, max = 10 }",
                ),
            ],
            "",
        );
        let inp = input(
            &["a", "b", "extra"],
            &["u"; 2],
            vec![vec![3.0, 3.0], vec![5.0, 12.0], vec![1.0, 1.0]],
        );
        let a = assess(&fw, &inp, &Settings::default()).unwrap();
        let codes: Vec<WarningCode> = a.warnings.iter().map(|w| w.code).collect();
        assert!(codes.contains(&WarningCode::ConstantColumn));
        assert!(codes.contains(&WarningCode::OutsideRange));
        assert!(codes.contains(&WarningCode::UnusedColumn));
        assert_eq!(a.scores, vec![75.0, 100.0]);
        assert!(a.flags[1].contains(&"outside:b".to_string()));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let fw = framework(&[("a", "positive", 1.0, "\"minmax\"")], "");
        let inp = input(&["b"], &["u"], vec![vec![1.0]]);
        assert!(matches!(
            assess(&fw, &inp, &Settings::default()),
            Err(kaohe_engine::EngineError::MissingColumn { .. })
        ));
        let inp = input(&["a"], &["u"], vec![vec![f64::INFINITY]]);
        assert!(assess(&fw, &inp, &Settings::default()).is_err());
        let empty = Input::default();
        assert!(assess(&fw, &empty, &Settings::default()).is_err());
        let st = Settings {
            quota_share: 2.0,
            ..Settings::default()
        };
        let inp = input(&["a"], &["u"], vec![vec![1.0]]);
        assert!(assess(&fw, &inp, &st).is_err());
    }
}

mod framework_files {
    use super::*;

    #[test]
    fn errors_name_line_and_key() {
        let src = "[framework]\nid = \"x\"\nversion = \"1\"\nname = \"x\"\n[[dimensions]]\nid = \"d\"\nname = \"d\"\nweight = 1\n[[dimensions.indicators]]\nid = \"a\"\nname = \"a\"\nunit = \"1\"\ndirection = \"positive\"\nweight = \"heavy\"\n";
        let e = Framework::from_toml_str(src).unwrap_err();
        let i = &e.issues[0];
        assert_eq!(i.line, Some(14));
        assert_eq!(i.key, "dimensions[0].indicators[0].weight");

        // Semantic errors are all collected.
        let src = "[framework]\nid = \"x\"\nversion = \"1\"\nname = \"x\"\n[[dimensions]]\nid = \"d\"\nname = \"d\"\nweight = 1\n[[dimensions.indicators]]\nid = \"a\"\nname = \"a\"\nunit = \"1\"\ndirection = \"negative\"\nweight = -1\nnormalization = { method = \"target\", target = 5 }\n[[dimensions.indicators]]\nid = \"a\"\nname = \"b\"\nunit = \"1\"\ndirection = \"positive\"\n";
        let e = Framework::from_toml_str(src).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("line 14") && text.contains("dimensions[0].indicators[0].weight"),
            "{text}"
        );
        assert!(
            text.contains("dimensions[0].indicators[0].normalization"),
            "{text}"
        );
        assert!(text.contains("duplicate id"), "{text}");
        assert!(
            text.contains("dimensions[0].indicators[1].weight"),
            "{text}"
        );
        assert!(e.issues.len() >= 4, "{text}");

        // Unknown keys are caught.
        let e = Framework::from_toml_str(
            "[framework]\nid = \"x\"\nversion = \"1\"\nname = \"x\"\nwieght = 3\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("wieght"));
    }

    /// A file with problems of every kind in several tables: each is listed, once, with its
    /// line and its key in the whole file, and nothing that follows only from reading past them.
    #[test]
    fn every_problem_is_listed_at_once() {
        let src = "\
[framework]
id = \"x\"
version = \"1\"
name = \"x\"
[grading]
thresholds = [60, 80, 90]
[[dimensions]]
id = \"d\"
name = \"d\"
weight = -3
weighting = \"bogus\"
[[dimensions.indicators]]
id = \"broken
name = \"a\"
unit = \"1\"
direction = \"positive\"
[[dimensions.indicators]]
id = \"b\"
name = \"b\"
unit = \"1\"
direction = \"sideways\"
weight = \"heavy\"
colour = \"red\"
[[dimensions.indicators]]
id = \"c\"
name = \"c\"
unit = \"1\"
direction = \"positive\"
weight = -1
[[dimensions]]
id = \"e\"
name = \"e\"
weight = 1
[[dimensions.indicators]]
id = \"f\"
unit = \"1\"
direction = \"positive\"
";
        let e = Framework::from_toml_str(src).unwrap_err();
        let text = e.to_string();
        let found: Vec<(Option<usize>, &str)> =
            e.issues.iter().map(|i| (i.line, i.key.as_str())).collect();
        assert_eq!(
            found,
            [
                (Some(6), "grading.thresholds"),
                (Some(10), "dimensions[0].weight"),
                (Some(11), "dimensions[0].weighting"),
                (Some(13), "dimensions[0].indicators[0].id"),
                (Some(21), "dimensions[0].indicators[1].direction"),
                (Some(22), "dimensions[0].indicators[1].weight"),
                (Some(23), "dimensions[0].indicators[1].colour"),
                (Some(29), "dimensions[0].indicators[2].weight"),
                (Some(34), "dimensions[1].indicators[0]"),
            ],
            "{text}"
        );
        assert!(text.contains("missing field `name`"), "{text}");
        assert!(text.contains("unknown field `colour`"), "{text}");
        // A file with one problem names only it (and nothing that follows from setting aside
        // its only indicator); without the problem it reads.
        let one = "[framework]\nid = \"x\"\nversion = \"1\"\nname = \"x\"\n[[dimensions]]\nid = \"d\"\nname = \"d\"\nweight = 1\n[[dimensions.indicators]]\nid = \"a\"\nname = \"a\"\nunit = \"1\"\ndirection = \"up\"\nweight = 1\n";
        let e = Framework::from_toml_str(one).unwrap_err();
        assert_eq!(e.issues.len(), 1, "{e}");
        assert_eq!(e.issues[0].key, "dimensions[0].indicators[0].direction");
        assert!(Framework::from_toml_str(&one.replace("\"up\"", "\"positive\"")).is_ok());
    }

    #[test]
    fn presets_listed_and_described() {
        let names: Vec<&str> = presets::all().iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "civil_servant_annual",
                "political_quality_review",
                "county_team_hqd",
                "routine_quarterly"
            ]
        );
        let fw = presets::get("political_quality_review")
            .unwrap()
            .framework()
            .unwrap();
        let w = fw.effective_weights();
        // Loyalty = 1/3 by AHP, split 70/30 between positive and negative lists.
        assert!((w[0].1 - 0.7 / 3.0).abs() < 1e-9);
        assert!(fw.ahp_reports()[0].cr < 1e-9);
        let county = presets::get("county_team_hqd")
            .unwrap()
            .framework()
            .unwrap();
        assert_eq!(county.scale(), GradeScale::Team);
        assert_eq!(county.quota_scope(), QuotaScope::All);
        let text = county.describe();
        assert!(
            text.contains("rd_intensity") && text.contains("growth"),
            "{text}"
        );
        for id in [
            "rd_intensity",
            "pm25",
            "urban_rural_income_ratio",
            "new_urban_jobs",
            "debt_ratio",
            "energy_intensity_cut",
        ] {
            assert!(county.indicator_ids().contains(&id), "{id}");
        }
    }

    #[test]
    fn presets_assess_synthetic_data() {
        for p in presets::all() {
            let fw = p.framework().unwrap();
            let ids: Vec<String> = fw.indicator_ids().iter().map(|s| s.to_string()).collect();
            let mut cols: Vec<String> = ids.clone();
            let n = 30;
            let mut data = Vec::new();
            for (j, id) in ids.iter().enumerate() {
                for r in 0..n {
                    let v = if fw.indicators()[j].veto.is_some() {
                        if r == 0 { 1.0 } else { 0.0 }
                    } else {
                        ((r * 37 + j * 11) % 100) as f64 / 10.0
                            + if id.contains("rating") { 0.0 } else { 50.0 }
                    };
                    data.push(v);
                }
            }
            for ind in fw.indicators() {
                if let Some(s) = &ind.shrink {
                    cols.push(s.count.clone());
                    data.extend((0..n).map(|r| (r * 13 % 50) as f64));
                }
            }
            let m = cols.len();
            let units: Vec<String> = (0..n).map(|r| format!("u{}", r % 3)).collect();
            let unit_refs: Vec<&str> = units.iter().map(String::as_str).collect();
            let inp = Input::new(
                people(&unit_refs),
                cols,
                Matrix::from_col_major(n, m, data).unwrap(),
            );
            let a = assess(&fw, &inp, &Settings::default()).unwrap();
            let has_veto = fw.indicators().iter().any(|i| i.veto.is_some());
            let first_rule = if has_veto { "veto" } else { "threshold" };
            assert_eq!(
                a.rules[0].code().split(':').next(),
                Some(first_rule),
                "{}",
                p.name
            );
            assert!(a.scores.iter().all(|s| (0.0..=100.0).contains(s)));
            let mc = monte_carlo(&fw, &inp, &Settings::default(), 50, 1).unwrap();
            assert_eq!(mc.len(), n);
        }
    }
}

mod uncertainty {
    use super::*;

    fn data(n: usize) -> (Framework, Input) {
        let fw = framework(
            &[
                ("a", "positive", 3.0, "\"minmax\""),
                ("b", "negative", 2.0, "\"zscore\""),
                ("c", "positive", 1.0, "\"rank\""),
            ],
            "",
        );
        let cols: Vec<Vec<f64>> = (0..3)
            .map(|j| {
                (0..n)
                    .map(|i| ((i * (7 + j * 5) + j * 3) % 101) as f64)
                    .collect()
            })
            .collect();
        let units: Vec<&str> = (0..n).map(|i| if i % 2 == 0 { "x" } else { "y" }).collect();
        (fw, input(&["a", "b", "c"], &units, cols))
    }

    #[test]
    fn reproducible_and_independent_of_threads() {
        let (fw, inp) = data(200);
        let mut st = Settings::default();
        st.monte_carlo.methods = vec![
            MethodChoice::Declared,
            MethodChoice::MinMax,
            MethodChoice::Rank,
        ];
        st.monte_carlo.threads = 1;
        let one = monte_carlo(&fw, &inp, &st, 101, 9).unwrap();
        st.monte_carlo.threads = 2;
        let two = monte_carlo(&fw, &inp, &st, 101, 9).unwrap();
        assert_eq!(one, two);
        st.monte_carlo.threads = 3;
        assert_eq!(monte_carlo(&fw, &inp, &st, 101, 9).unwrap(), one);
        let other = monte_carlo(&fw, &inp, &st, 101, 10).unwrap();
        assert_ne!(one, other);
        for r in &one {
            assert!(r.p05 <= r.median_rank && r.median_rank <= r.p95);
        }
        // Per draw at most k per unit get the top grade: the expected count is bounded too.
        let total: f64 = one.iter().map(|r| r.p_top_grade).sum();
        assert!(total <= 2.0 * 20.0 + 1e-9);
    }

    #[test]
    fn no_noise_reproduces_the_deterministic_ranks() {
        let (fw, inp) = data(120);
        let mut st = Settings::default();
        st.monte_carlo.noise = WeightNoise::None;
        let a = assess(&fw, &inp, &st).unwrap();
        let mc = monte_carlo(&fw, &inp, &st, 5, 0).unwrap();
        for (r, u) in a.ranks.iter().zip(&mc) {
            assert_eq!((*r, *r), (u.p05, u.p95));
        }
        for (i, u) in mc.iter().enumerate() {
            let top = a.rules[i] == Rule::Threshold && a.grades[i].is_some_and(|g| g.level == 0);
            assert_eq!(u.p_top_grade, if top { 1.0 } else { 0.0 });
        }
    }

    #[test]
    fn dirichlet_noise_widens_intervals() {
        let (fw, inp) = data(100);
        let mut st = Settings::default();
        st.monte_carlo.noise = WeightNoise::Dirichlet { concentration: 5.0 };
        let mc = monte_carlo(&fw, &inp, &st, 200, 3).unwrap();
        assert!(mc.iter().any(|r| r.p95 > r.p05));
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const NORMS: [&str; 3] = ["\"minmax\"", "\"zscore\"", "\"rank\""];

    fn values(n: usize) -> impl Strategy<Value = Vec<f64>> {
        proptest::collection::vec(
            prop_oneof![(-50i32..150).prop_map(f64::from), -50.0f64..150.0],
            n,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// A preset with lines broken at random (cut short, a value replaced, a key renamed):
        /// the reading never panics, every problem it lists has a line in the file, and each
        /// is listed once.
        #[test]
        fn broken_files_list_located_problems_once(
            breaks in proptest::collection::vec((0usize..400, 0usize..3), 1..8), preset in 0usize..4,
        ) {
            let src = presets::all()[preset].source;
            let mut lines: Vec<String> = src.lines().map(str::to_owned).collect();
            for (at, how) in breaks {
                let i = at % lines.len();
                let line = &mut lines[i];
                match how {
                    0 => { let keep = line.len() / 2; *line = line.chars().take(keep).collect(); }
                    1 => if let Some((k, _)) = line.split_once('=') { *line = format!("{k}= \"?\""); },
                    _ => *line = line.replacen('=', "x =", 1),
                }
            }
            let text = lines.join("\n");
            if let Err(e) = Framework::from_toml_str(&text) {
                prop_assert!(!e.issues.is_empty());
                let total = text.lines().count() + 1;
                for (k, issue) in e.issues.iter().enumerate() {
                    prop_assert!(issue.line.is_none_or(|l| l <= total), "{issue}");
                    prop_assert!(!e.issues[..k].contains(issue), "{issue} twice");
                }
            }
        }

        #[test]
        fn mirroring_a_negative_indicator_equals_declaring_it_positive(
            a in values(12), b in values(12), norm in 0usize..3,
        ) {
            let neg = framework(&[("a", "negative", 2.0, NORMS[norm]), ("b", "positive", 1.0, "\"minmax\"")], "");
            let pos = framework(&[("a", "positive", 2.0, NORMS[norm]), ("b", "positive", 1.0, "\"minmax\"")], "");
            let mirrored: Vec<f64> = a.iter().map(|x| -x).collect();
            let units = ["u"; 12];
            let x = assess(&neg, &input(&["a", "b"], &units, vec![a, b.clone()]), &Settings::default()).unwrap();
            let y = assess(&pos, &input(&["a", "b"], &units, vec![mirrored, b]), &Settings::default()).unwrap();
            for (s, t) in x.scores.iter().zip(&y.scores) {
                prop_assert!((s - t).abs() < 1e-3, "{} vs {}", s, t);
            }
        }

        #[test]
        fn raising_a_positive_indicator_never_lowers_the_score(
            a in values(10), b in values(10), who in 0usize..10, up in 0.0f64..80.0, norm in 0usize..3,
        ) {
            let fw = framework(&[("a", "positive", 1.0, NORMS[norm]), ("b", "negative", 1.0, NORMS[(norm + 1) % 3])], "");
            let units = ["u"; 10];
            let before = assess(&fw, &input(&["a", "b"], &units, vec![a.clone(), b.clone()]), &Settings::default()).unwrap();
            let mut raised = a;
            raised[who] += up;
            let after = assess(&fw, &input(&["a", "b"], &units, vec![raised, b]), &Settings::default()).unwrap();
            prop_assert!(after.scores[who] >= before.scores[who], "{} < {}", after.scores[who], before.scores[who]);
        }

        #[test]
        fn scaling_all_weights_changes_nothing(
            a in values(15), b in values(15), c in values(15), k in 0.01f64..1000.0,
        ) {
            let w = [3.0, 1.5, 0.7];
            let mk = |f: f64| framework(&[
                ("a", "positive", w[0] * f, "\"minmax\""),
                ("b", "negative", w[1] * f, "\"zscore\""),
                ("c", "positive", w[2] * f, "{ method = \"goalposts\", min = 0, max = 100 }"),
            ], "");
            let inp = input(&["a", "b", "c"], &["u"; 15], vec![a, b, c]);
            let x = assess(&mk(1.0), &inp, &Settings::default()).unwrap();
            let y = assess(&mk(k), &inp, &Settings::default()).unwrap();
            for (s, t) in x.scores.iter().zip(&y.scores) {
                prop_assert!((s - t).abs() <= 1e-4 + 1e-12, "{} vs {}", s, t);
            }
            for (e, f) in x.effective_weights.iter().zip(&y.effective_weights) {
                prop_assert!((e - f).abs() < 1e-12);
            }
        }

        #[test]
        fn quota_never_exceeded_and_ties_never_split(
            scores in proptest::collection::vec(prop_oneof![Just(95.0), Just(92.0), Just(90.0), 85.0f64..100.0], 1..40),
            units in proptest::collection::vec(0usize..3, 40),
            share in prop_oneof![Just(0.2), 0.0f64..0.6],
            warned in proptest::collection::vec(any::<bool>(), 40),
        ) {
            let n = scores.len();
            let names: Vec<String> = units[..n].iter().map(|u| format!("u{u}")).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let fw = framework(&[("s", "positive", 1.0, "{ method = \"goalposts\", min = 0, max = 100 }")], "");
            let mut inp = input(&["s"], &refs, vec![scores]);
            for (p, w) in inp.people.iter_mut().zip(&warned) {
                p.facts.blocks.warning_in_year = *w && p.person_id.len() % 2 == 0;
            }
            let st = Settings { quota_share: share, ..Settings::default() };
            let a = assess(&fw, &inp, &st).unwrap();
            for line in &a.quota_lines {
                prop_assert!(line.awarded <= line.k as usize);
                prop_assert_eq!(line.k as usize, (share * line.assessed as f64 + 1e-9).floor() as usize);
            }
            // Per unit: no two eligible people with equal scores where one got 优秀 and the other not.
            for i in 0..n {
                for j in 0..n {
                    let same = names[i] == names[j] && a.scores[i] == a.scores[j];
                    let top_i = a.grades[i].is_some_and(|g| g.level == 0);
                    let top_j = a.grades[j].is_some_and(|g| g.level == 0);
                    let elig_j = matches!(a.rules[j], Rule::Threshold | Rule::Quota | Rule::QuotaTieCommittee);
                    if same && top_i && elig_j {
                        prop_assert!(top_j, "tie split between {} and {}", i, j);
                    }
                }
            }
            // Monte Carlo never exceeds the quota either.
            let mc = monte_carlo(&fw, &inp, &Settings { quota_share: share, ..Settings::default() }, 20, 1).unwrap();
            let expected_top: f64 = mc.iter().map(|r| r.p_top_grade).sum();
            let cap: f64 = a.quota_lines.iter().map(|l| l.k as f64).sum();
            prop_assert!(expected_top <= cap + 1e-9);
        }
    }
}

mod large {
    use super::*;

    /// Large enough for the engine's threads, with missing values (left out and reweighted)
    /// and a person with nothing observed.
    #[test]
    fn scores_are_the_same_with_or_without_contributions() {
        let (n, m) = (40_000, 30);
        let ids: Vec<String> = (0..m).map(|j| format!("x{j}")).collect();
        let inds: Vec<(&str, &str, f64, &str)> = ids
            .iter()
            .enumerate()
            .map(|(j, id)| {
                let dir = if j % 4 == 3 { "negative" } else { "positive" };
                (id.as_str(), dir, 1.0 + (j % 5) as f64, "\"minmax\"")
            })
            .collect();
        let fw = framework(&inds, "");
        let cols: Vec<Vec<f64>> = (0..m)
            .map(|j| {
                (0..n)
                    .map(|i| {
                        if i == 7 || (i * 31 + j * 17) % 37 == 0 {
                            f64::NAN
                        } else {
                            ((i * (7 + j * 5) + j * 3) % 1009) as f64 / 7.0
                        }
                    })
                    .collect()
            })
            .collect();
        let units: Vec<String> = (0..n).map(|i| format!("u{}", i / 50)).collect();
        let units: Vec<&str> = units.iter().map(String::as_str).collect();
        let names: Vec<&str> = ids.iter().map(String::as_str).collect();
        let inp = input(&names, &units, cols);
        let mut st = Settings {
            keep_contributions: true,
            ..Settings::default()
        };
        let with = assess(&fw, &inp, &st).unwrap();
        st.keep_contributions = false;
        let without = assess(&fw, &inp, &st).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&with.scores), bits(&without.scores));
        assert_eq!(with.ranks, without.ranks);
        assert_eq!(with.unit_ranks, without.unit_ranks);
        assert_eq!(with.grades, without.grades);
        assert_eq!(with.flags, without.flags);
        assert!(without.contributions.is_none());
        assert_eq!(with.scores[7], 0.0);
        assert!(with.flags[7].contains(&"missing:x0".to_owned()));
        // The contributions of a person with a left-out indicator add up to the score.
        let row = 0;
        assert!(with.flags[row].iter().any(|f| f.starts_with("missing:")));
        let total: f64 = with.contributions_of(row).iter().map(|(_, c)| c).sum();
        assert!(
            (total - with.scores[row]).abs() < 1e-3,
            "{total} {}",
            with.scores[row]
        );
    }
}

mod records {
    use super::*;
    use kaohe_domain::records::RecordKind;
    use kaohe_engine::framework::{Direction, RecordRuleError};
    use proptest::prelude::*;

    fn with_records(direction: &str, rule: &str) -> Framework {
        Framework::from_toml_str(&format!(
            "[framework]\nid = \"t\"\nversion = \"1\"\nname = \"t\"\n[[dimensions]]\nid = \"d\"\nname = \"d\"\nweight = 1\n[[dimensions.indicators]]\nid = \"x\"\nname = \"x\"\nunit = \"分\"\ndirection = \"{direction}\"\nweight = 1\nrecords = {rule}\n"
        ))
        .unwrap()
    }

    #[test]
    fn points_are_checked_against_the_indicator() {
        let fw = with_records(
            "positive",
            "{ points = [1, 10], base = 60, total = [0, 100], kinds = [\"positive\"] }",
        );
        let rule = fw.indicators()[0].records.as_ref().unwrap();
        assert!(rule.check("x", RecordKind::Positive, 10.0).is_ok());
        assert!(matches!(
            rule.check("x", RecordKind::Positive, 10.5),
            Err(RecordRuleError::Points { max, .. }) if max == 10.0
        ));
        assert!(matches!(
            rule.check("x", RecordKind::Positive, 0.5),
            Err(RecordRuleError::Points { .. })
        ));
        assert!(matches!(
            rule.check("x", RecordKind::Negative, 2.0),
            Err(RecordRuleError::Kind { .. })
        ));
        // Positive records add to a positive indicator from its base, within the caps.
        assert_eq!(rule.value(Direction::Positive, 15.0, 0.0), 75.0);
        assert_eq!(rule.value(Direction::Positive, 55.0, 0.0), 100.0);
        // A negative indicator counts findings: negative records add.
        assert_eq!(rule.value(Direction::Negative, 1.0, 3.0), 62.0);
    }

    #[test]
    fn bad_rules_are_refused_with_their_place() {
        for rule in [
            "{ points = [0, 10], total = [0, 100] }",
            "{ points = [5, 1], total = [0, 100] }",
            "{ points = [1, 2], total = [100, 0] }",
            "{ points = [1, 2], total = [0, 100], kinds = [] }",
        ] {
            let src = format!(
                "[framework]\nid = \"t\"\nversion = \"1\"\nname = \"t\"\n[[dimensions]]\nid = \"d\"\nname = \"d\"\nweight = 1\n[[dimensions.indicators]]\nid = \"x\"\nname = \"x\"\nunit = \"分\"\ndirection = \"positive\"\nweight = 1\nrecords = {rule}\n"
            );
            let e = Framework::from_toml_str(&src).unwrap_err();
            assert!(e.to_string().contains("records"), "{rule}: {e}");
        }
    }

    proptest! {
        #[test]
        fn values_stay_within_the_caps(
            base in -50.0f64..150.0,
            pos in 0.0f64..500.0,
            neg in 0.0f64..500.0,
            lo in -10.0f64..50.0,
            span in 0.0f64..100.0,
        ) {
            let fw = with_records(
                "positive",
                &format!("{{ points = [1, 5], base = {base}, total = [{lo}, {}] }}", lo + span),
            );
            let rule = fw.indicators()[0].records.as_ref().unwrap();
            for dir in [Direction::Positive, Direction::Negative] {
                let v = rule.value(dir, pos, neg);
                prop_assert!(v >= lo && v <= lo + span);
            }
            // More positive points never lower a positive indicator.
            prop_assert!(rule.value(Direction::Positive, pos + 1.0, neg) >= rule.value(Direction::Positive, pos, neg));
        }
    }
}
