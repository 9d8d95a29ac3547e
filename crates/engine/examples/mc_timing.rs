//! Times the Monte Carlo (default 100,000 people × 60 indicators × 1,000 draws) and the
//! deterministic assessment (default 1,000,000 people × 60 indicators) on synthetic data.
//!
//! `cargo run -p kaohe-engine --release --example mc_timing [people] [draws] [assess_people]`
#![allow(clippy::print_stdout)]

use kaohe_engine::{Framework, Input, Matrix, Person, Settings, assess, monte_carlo};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write as _;
use std::time::Instant;

const DIMS: usize = 6;
const PER_DIM: usize = 10;

fn framework() -> Framework {
    let mut s =
        String::from("[framework]\nid = \"synthetic\"\nversion = \"1\"\nname = \"synthetic 60\"\n");
    for d in 0..DIMS {
        let _ = write!(
            s,
            "[[dimensions]]\nid = \"d{d}\"\nname = \"d{d}\"\nweight = {}\n",
            d + 1
        );
        for i in 0..PER_DIM {
            let dir = if i % 4 == 3 { "negative" } else { "positive" };
            let norm = match i % 3 {
                0 => "minmax",
                1 => "zscore",
                _ => "{ method = \"goalposts\", min = 0, max = 100 }",
            };
            let _ = write!(
                s,
                "[[dimensions.indicators]]\nid = \"x{d}_{i}\"\nname = \"x\"\nunit = \"1\"\ndirection = \"{dir}\"\nweight = {}\nnormalization = {}\n",
                i + 1,
                if norm.starts_with('{') {
                    norm.to_owned()
                } else {
                    format!("\"{norm}\"")
                }
            );
        }
    }
    Framework::from_toml_str(&s).expect("synthetic framework is valid")
}

fn input(fw: &Framework, n: usize) -> Input {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let ids: Vec<String> = fw.indicator_ids().iter().map(|s| s.to_string()).collect();
    let m = ids.len();
    let mut data = Vec::with_capacity(n * m);
    for _ in 0..m {
        for _ in 0..n {
            data.push(if rng.random::<f64>() < 0.001 {
                f64::NAN
            } else {
                rng.random_range(0.0..100.0)
            });
        }
    }
    let people = (0..n)
        .map(|i| Person::new(format!("p{i}"), format!("u{}", i % 1000)))
        .collect();
    Input::new(
        people,
        ids,
        Matrix::from_col_major(n, m, data).expect("shape"),
    )
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let people = args.first().copied().unwrap_or(100_000);
    let draws = args.get(1).copied().unwrap_or(1000);
    let assess_people = args.get(2).copied().unwrap_or(1_000_000);
    let fw = framework();
    let settings = Settings::default();

    let inp = input(&fw, people);
    let t = Instant::now();
    let mc = monte_carlo(&fw, &inp, &settings, draws, 42).expect("monte carlo runs");
    let mc_time = t.elapsed();
    let widest = mc.iter().map(|r| r.p95 - r.p05).max().unwrap_or(0);
    println!(
        "monte_carlo: {people} people × {} indicators × {draws} draws: {:.2} s (widest 5–95% rank interval {widest})",
        fw.indicators().len(),
        mc_time.as_secs_f64()
    );
    drop(inp);

    if assess_people > 0 {
        let inp = input(&fw, assess_people);
        let t = Instant::now();
        let a = assess(&fw, &inp, &settings).expect("assessment runs");
        println!(
            "assess: {assess_people} people × {} indicators: {:.2} s ({} warnings, top score {:.4})",
            fw.indicators().len(),
            t.elapsed().as_secs_f64(),
            a.warnings.len(),
            a.scores.iter().copied().fold(0.0, f64::max)
        );
    }
}
