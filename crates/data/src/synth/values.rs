//! Seeded indicator values for generated cadres: the wide `values.csv` that `kaohe assess`
//! reads (`person_id, unit_id, <indicator>…`) and the `people.csv` of per-person facts
//! (warning in the year, sanction in effect, routine 较差 count).
//!
//! The generator knows nothing of frameworks: the caller describes each column with a
//! [`ValueDist`] (the binary maps a framework's goalposts, targets and bands onto them). Each
//! person has one latent ability, so a person who does well on one indicator tends to do well
//! on the others, as in real assessments. Rows are produced one at a time from one ChaCha8
//! stream, so a million people × 60 indicators streams to disk in constant memory and the same
//! seed always gives the same bytes.

use crate::error::ExportError;
use crate::synth::Dataset;
use kaohe_domain::{GradeBlocks, Sanction, SanctionPeriods};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::Path;

/// How the values of one column are drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueDist {
    /// A normal around `mean` with standard deviation `sd`, clamped to `[min, max]`, rounded
    /// to `decimals`. `positive` says whether a higher latent ability means a higher value.
    Normal {
        /// Centre.
        mean: f64,
        /// Spread.
        sd: f64,
        /// Lowest value written.
        min: f64,
        /// Highest value written.
        max: f64,
        /// Decimal places written (at most 6).
        decimals: u8,
        /// Higher ability → higher value.
        positive: bool,
    },
    /// A count of events (0, 1, 2, …), geometric with the given mean: rare incidents with a
    /// small mean, numbers of ratings with a large one.
    Count {
        /// Mean count.
        mean: f64,
    },
}

/// One generated column.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueColumn {
    /// Column header (the indicator id, or the count column a shrinkage names).
    pub id: String,
    /// Distribution of its values.
    pub dist: ValueDist,
    /// Share of empty (missing) cells, 0–1.
    pub missing: f64,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuesSpec {
    /// Seed: the same spec and people give the same values.
    pub seed: u64,
    /// The columns, in file order after `person_id, unit_id`.
    pub columns: Vec<ValueColumn>,
}

/// Generates the values row by row: calls `row(i, values)` for each of `people` rows with one
/// value per column (`NaN` = missing). Deterministic for a spec.
pub fn generate_values(spec: &ValuesSpec, people: usize, mut row: impl FnMut(usize, &[f64])) {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x7661_6c75_6573);
    let mut out = vec![f64::NAN; spec.columns.len()];
    for i in 0..people {
        let ability = normal(&mut rng);
        for (slot, col) in out.iter_mut().zip(&spec.columns) {
            // Draw every random number whether or not the cell is missing, so that the
            // missing pattern does not shift the other values.
            let missing = rng.random_bool(col.missing.clamp(0.0, 1.0));
            let x = match col.dist {
                ValueDist::Normal {
                    mean,
                    sd,
                    min,
                    max,
                    decimals,
                    positive,
                } => {
                    let own = normal(&mut rng);
                    let a = if positive { ability } else { -ability };
                    let z = 0.6 * a + 0.8 * own;
                    round((mean + sd * z).clamp(min.min(max), max.max(min)), decimals)
                }
                ValueDist::Count { mean } => {
                    let u: f64 = rng.random();
                    let p = 1.0 / (1.0 + mean.max(0.0));
                    // Geometric on 0, 1, 2, …: floor(ln u / ln(1 − p)).
                    if p >= 1.0 {
                        0.0
                    } else {
                        ((1.0 - u).ln() / (1.0 - p).ln()).floor().min(1e9)
                    }
                }
            };
            *slot = if missing { f64::NAN } else { x };
        }
        row(i, &out);
    }
}

/// A standard normal draw (Box–Muller, one of the pair).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random();
    let u2: f64 = rng.random();
    (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn round(x: f64, decimals: u8) -> f64 {
    let f = 10f64.powi(i32::from(decimals.min(6)));
    (x * f).round() / f
}

/// Appends `x` with `decimals` places (at most 6), trailing zeros kept; `NaN` writes nothing.
fn push_fixed(buf: &mut Vec<u8>, x: f64, decimals: u8) {
    use std::io::Write as _;
    if x.is_nan() {
        return;
    }
    let d = u32::from(decimals.min(6));
    let scale = 10i64.pow(d);
    // Values are clamped to the column's range, far inside i64 once scaled.
    #[allow(clippy::cast_possible_truncation)]
    let v = (x * scale as f64).round() as i64;
    if v < 0 {
        buf.push(b'-');
    }
    let v = v.unsigned_abs();
    let scale = scale.unsigned_abs();
    let _ = write!(buf, "{}", v / scale);
    if d > 0 {
        let _ = write!(buf, ".{:0width$}", v % scale, width = d as usize);
    }
}

/// Appends a CSV field, quoted when needed.
fn push_field(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        buf.push(b'"');
        buf.extend_from_slice(s.replace('"', "\"\"").as_bytes());
        buf.push(b'"');
    } else {
        buf.extend_from_slice(s.as_bytes());
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        file: path.to_owned(),
        source,
    }
}

/// Writes `values.csv` for the cadres of `data` (UTF-8, no BOM): `person_id, unit_id`, then one
/// column per spec column. Rows are streamed to the file; returns the number of rows.
pub fn write_values(path: &Path, data: &Dataset, spec: &ValuesSpec) -> Result<usize, ExportError> {
    let err = io_err(path);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).map_err(&err)?);
    let mut buf = Vec::with_capacity(4096);
    buf.extend_from_slice(b"person_id,unit_id");
    for c in &spec.columns {
        buf.push(b',');
        push_field(&mut buf, &c.id);
    }
    buf.push(b'\n');
    let decimals: Vec<u8> = spec
        .columns
        .iter()
        .map(|c| match c.dist {
            ValueDist::Normal { decimals, .. } => decimals,
            ValueDist::Count { .. } => 0,
        })
        .collect();
    let mut result = Ok(());
    generate_values(spec, data.cadres.len(), |i, values| {
        if result.is_err() {
            return;
        }
        let c = &data.cadres[i];
        push_field(&mut buf, c.id.as_str());
        buf.push(b',');
        push_field(&mut buf, c.unit.as_str());
        for (x, &d) in values.iter().zip(&decimals) {
            buf.push(b',');
            push_fixed(&mut buf, *x, d);
        }
        buf.push(b'\n');
        if buf.len() >= 1 << 16 {
            result = w.write_all(&buf);
            buf.clear();
        }
    });
    result.map_err(&err)?;
    w.write_all(&buf).map_err(&err)?;
    w.flush().map_err(&err)?;
    Ok(data.cadres.len())
}

/// A column scored on growth against a baseline period: see [`write_baseline`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrowthColumn {
    /// Index of the column in [`ValuesSpec::columns`].
    pub column: usize,
    /// Growth rate in percent that earns full growth credit.
    pub cap: f64,
    /// Whether growth means a higher value (`false`: a reduction, as for a negative indicator).
    pub positive: bool,
}

/// A column with latent credit over a multi-year window: see [`write_history`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatentColumn {
    /// Index of the column in [`ValuesSpec::columns`].
    pub column: usize,
    /// Years in the window, the assessed year included.
    pub window: usize,
}

fn dist_shape(dist: &ValueDist) -> (f64, f64, u8) {
    match *dist {
        ValueDist::Normal {
            min, max, decimals, ..
        } => (min.min(max), max.max(min), decimals.min(6)),
        ValueDist::Count { .. } => (0.0, f64::MAX, 0),
    }
}

/// Share of people whose growth is reckless (well above the cap) in [`write_baseline`].
pub const RECKLESS_SHARE: f64 = 0.08;

/// Writes `baseline.csv` (`person_id`, then one column per growth column) for the cadres of
/// `data`: the previous period's value of each growth column, the current value (as
/// [`generate_values`] draws it for `spec`) divided by 1 + a plausible growth rate (around half
/// the cap, sometimes a decline), or by 1 − the rate for a reduction. About
/// [`RECKLESS_SHARE`] of the people grew recklessly, at 2–5 times the cap. Baselines have two
/// more decimals than the values and are never 0; a missing current value leaves the baseline
/// empty. Deterministic for the seed; returns the number of rows.
pub fn write_baseline(
    path: &Path,
    data: &Dataset,
    spec: &ValuesSpec,
    growth: &[GrowthColumn],
) -> Result<usize, ExportError> {
    let err = io_err(path);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).map_err(&err)?);
    let mut buf = Vec::with_capacity(4096);
    buf.extend_from_slice(b"person_id");
    for g in growth {
        buf.push(b',');
        push_field(&mut buf, &spec.columns[g.column].id);
    }
    buf.push(b'\n');
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x6261_7365_6c69_6e65);
    let mut result = Ok(());
    generate_values(spec, data.cadres.len(), |i, values| {
        if result.is_err() {
            return;
        }
        push_field(&mut buf, data.cadres[i].id.as_str());
        for g in growth {
            let reckless = rng.random_bool(RECKLESS_SHARE);
            let z = normal(&mut rng);
            let u: f64 = rng.random();
            let cap = g.cap.abs().max(0.1);
            let rate = if reckless {
                cap * (2.0 + 3.0 * u)
            } else {
                (cap * (0.5 + 0.4 * z)).clamp(-cap, 1.5 * cap)
            };
            let (_, _, decimals) = dist_shape(&spec.columns[g.column].dist);
            let d = (decimals + 2).min(6);
            let x = values[g.column];
            let b = if g.positive {
                x / (1.0 + rate / 100.0)
            } else {
                x / (1.0 - rate.min(90.0) / 100.0)
            };
            let smallest = 10f64.powi(-i32::from(d));
            let b = round(b, d);
            let b = if b == 0.0 { smallest } else { b };
            buf.push(b',');
            push_fixed(&mut buf, if x.is_nan() { f64::NAN } else { b }, d);
        }
        buf.push(b'\n');
        if buf.len() >= 1 << 16 {
            result = w.write_all(&buf);
            buf.clear();
        }
    });
    result.map_err(&err)?;
    w.write_all(&buf).map_err(&err)?;
    w.flush().map_err(&err)?;
    Ok(data.cadres.len())
}

/// Writes `history.csv` (`person_id, indicator, period, value`, one row per past value) for
/// the cadres of `data`: for each latent column, the `window − 1` years before `year`, drifting
/// a little from the current value (as [`generate_values`] draws it for `spec`) and clamped to
/// the column's range. About 2% of the past values are absent (no row), and none when the
/// current value is missing. Deterministic for the seed; returns the number of rows.
pub fn write_history(
    path: &Path,
    data: &Dataset,
    spec: &ValuesSpec,
    latent: &[LatentColumn],
    year: i32,
) -> Result<usize, ExportError> {
    let err = io_err(path);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).map_err(&err)?);
    let mut buf = Vec::with_capacity(4096);
    buf.extend_from_slice(b"person_id,indicator,period,value\n");
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x0068_6973_746f_7279);
    let mut result = Ok(());
    let mut rows = 0usize;
    generate_values(spec, data.cadres.len(), |i, values| {
        if result.is_err() {
            return;
        }
        let id = data.cadres[i].id.as_str();
        for l in latent {
            let col = &spec.columns[l.column];
            let (lo, hi, decimals) = dist_shape(&col.dist);
            let x = values[l.column];
            // A yearly trend of −2%…+4% towards today, plus noise of a few percent.
            let trend: f64 = rng.random_range(-0.02..0.04);
            let mut y = x;
            for back in 1..l.window {
                let z = normal(&mut rng);
                let absent = rng.random_bool(0.02);
                y = (y * (1.0 - trend + 0.03 * z)).clamp(lo, hi);
                if x.is_nan() || absent {
                    continue;
                }
                push_field(&mut buf, id);
                buf.push(b',');
                push_field(&mut buf, &col.id);
                let period = i64::from(year) - i64::try_from(back).unwrap_or(0);
                buf.extend_from_slice(format!(",{period},").as_bytes());
                push_fixed(&mut buf, round(y, decimals), decimals);
                buf.push(b'\n');
                rows += 1;
            }
        }
        if buf.len() >= 1 << 16 {
            result = w.write_all(&buf);
            buf.clear();
        }
    });
    result.map_err(&err)?;
    w.write_all(&buf).map_err(&err)?;
    w.flush().map_err(&err)?;
    Ok(rows)
}

/// Per-person facts of one cadre.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PersonFacts {
    /// Grade blocks derived from the cadre's sanctions.
    pub blocks: GradeBlocks,
    /// Number of routine (平时) assessments graded 较差 in the year.
    pub routine_poor: u32,
}

/// The facts of each cadre of `data` for the assessment of `year` (judged on 31 December):
/// blocks from the generated sanctions via [`GradeBlocks::from_sanctions`], and routine 较差
/// counts at a low rate (about 3% once, 0.5% twice or more). Deterministic for the seed.
pub fn people_facts(data: &Dataset, year: i32, seed: u64) -> Vec<PersonFacts> {
    let mut by_cadre: HashMap<&str, Vec<&Sanction>> = HashMap::new();
    for s in &data.sanctions {
        by_cadre.entry(s.cadre.as_str()).or_default().push(s);
    }
    let periods = SanctionPeriods::default();
    let year_end =
        time::Date::from_calendar_date(year, time::Month::December, 31).unwrap_or(time::Date::MAX);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7065_6f70_6c65);
    data.cadres
        .iter()
        .map(|c| {
            let blocks = by_cadre
                .get(c.id.as_str())
                .map(|list| {
                    GradeBlocks::from_sanctions(list.iter().copied(), year, year_end, &periods)
                })
                .unwrap_or_default();
            let u: f64 = rng.random();
            let routine_poor = if u < 0.005 {
                2
            } else if u < 0.035 {
                1
            } else {
                0
            };
            PersonFacts {
                blocks,
                routine_poor,
            }
        })
        .collect()
}

/// Writes `people.csv` (`person_id, warning_in_year, sanction_in_effect, routine_poor`) for the
/// cadres of `data`; see [`people_facts`]. Returns the number of rows.
pub fn write_people(
    path: &Path,
    data: &Dataset,
    year: i32,
    seed: u64,
) -> Result<usize, ExportError> {
    let err = io_err(path);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).map_err(&err)?);
    w.write_all(b"person_id,warning_in_year,sanction_in_effect,routine_poor\n")
        .map_err(&err)?;
    let facts = people_facts(data, year, seed);
    let mut buf = Vec::with_capacity(64);
    for (c, f) in data.cadres.iter().zip(&facts) {
        buf.clear();
        push_field(&mut buf, c.id.as_str());
        let yes = |b: bool| if b { ",true" } else { ",false" };
        buf.extend_from_slice(yes(f.blocks.warning_in_year).as_bytes());
        buf.extend_from_slice(yes(f.blocks.sanction_in_effect).as_bytes());
        buf.extend_from_slice(format!(",{}\n", f.routine_poor).as_bytes());
        w.write_all(&buf).map_err(&err)?;
    }
    w.flush().map_err(&err)?;
    Ok(facts.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(seed: u64) -> ValuesSpec {
        ValuesSpec {
            seed,
            columns: vec![
                ValueColumn {
                    id: "a".into(),
                    dist: ValueDist::Normal {
                        mean: 80.0,
                        sd: 10.0,
                        min: 0.0,
                        max: 100.0,
                        decimals: 2,
                        positive: true,
                    },
                    missing: 0.03,
                },
                ValueColumn {
                    id: "b".into(),
                    dist: ValueDist::Normal {
                        mean: 5.0,
                        sd: 1.0,
                        min: 0.0,
                        max: 10.0,
                        decimals: 1,
                        positive: false,
                    },
                    missing: 0.0,
                },
                ValueColumn {
                    id: "n".into(),
                    dist: ValueDist::Count { mean: 40.0 },
                    missing: 0.0,
                },
            ],
        }
    }

    fn collect(seed: u64, n: usize) -> Vec<Vec<f64>> {
        let mut rows = Vec::new();
        generate_values(&spec(seed), n, |_, v| rows.push(v.to_vec()));
        rows
    }

    #[test]
    fn same_seed_same_values_and_other_seed_differs() {
        let a = collect(7, 500);
        let b = collect(7, 500);
        let same = |x: &[Vec<f64>], y: &[Vec<f64>]| {
            x.iter()
                .flatten()
                .zip(y.iter().flatten())
                .all(|(p, q)| p.to_bits() == q.to_bits())
        };
        assert!(same(&a, &b));
        assert!(!same(&a, &collect(8, 500)));
    }

    #[test]
    fn missing_rate_ranges_and_decimals() {
        let rows = collect(1, 20_000);
        let missing = rows.iter().filter(|r| r[0].is_nan()).count();
        let rate = missing as f64 / rows.len() as f64;
        assert!((0.02..0.04).contains(&rate), "missing rate {rate}");
        assert!(rows.iter().all(|r| !r[1].is_nan() && !r[2].is_nan()));
        for r in &rows {
            if !r[0].is_nan() {
                assert!((0.0..=100.0).contains(&r[0]));
                assert!(((r[0] * 100.0).round() - r[0] * 100.0).abs() < 1e-6);
            }
            assert!((0.0..=10.0).contains(&r[1]));
            assert!(r[2] >= 0.0 && r[2].fract() == 0.0);
        }
        let mean = rows.iter().map(|r| r[2]).sum::<f64>() / rows.len() as f64;
        assert!((35.0..45.0).contains(&mean), "count mean {mean}");
        // Positive and negative columns follow the one ability in opposite directions.
        let n = rows.len() as f64;
        let (ma, mb) = (
            rows.iter()
                .filter(|r| !r[0].is_nan())
                .map(|r| r[0])
                .sum::<f64>()
                / (n - missing as f64),
            rows.iter().map(|r| r[1]).sum::<f64>() / n,
        );
        let cov: f64 = rows
            .iter()
            .filter(|r| !r[0].is_nan())
            .map(|r| (r[0] - ma) * (r[1] - mb))
            .sum();
        assert!(cov < 0.0);
    }

    #[test]
    fn baseline_rates_have_reckless_tail_and_history_covers_the_window() {
        let data = crate::synth::generate(&crate::synth::GenSpec {
            cadres: 2000,
            ..Default::default()
        });
        let spec = spec(3);
        let dir = tempfile::tempdir().expect("tempdir");
        let growth = [GrowthColumn {
            column: 0,
            cap: 6.0,
            positive: true,
        }];
        let b = dir.path().join("b.csv");
        write_baseline(&b, &data, &spec, &growth).expect("baseline");
        let first = std::fs::read(&b).expect("read");
        write_baseline(&b, &data, &spec, &growth).expect("baseline");
        assert_eq!(first, std::fs::read(&b).expect("read"), "deterministic");
        let values = collect(3, data.cadres.len());
        let text = String::from_utf8(first).expect("utf-8");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("person_id,a"));
        let (mut reckless, mut within, mut n) = (0, 0, 0);
        for (line, v) in lines.zip(&values) {
            let cell = line.split(',').nth(1).expect("cell");
            if v[0].is_nan() {
                assert!(cell.is_empty());
                continue;
            }
            let b: f64 = cell.parse().expect("number");
            assert!(b > 0.0);
            let rate = 100.0 * (v[0] - b) / b;
            n += 1;
            if rate > 12.0 {
                reckless += 1;
            } else if (-6.5..=9.5).contains(&rate) {
                within += 1;
            }
        }
        let share = f64::from(reckless) / f64::from(n);
        assert!((0.05..0.12).contains(&share), "reckless share {share}");
        assert_eq!(reckless + within, n);
        let h = dir.path().join("h.csv");
        let rows = write_history(
            &h,
            &data,
            &spec,
            &[LatentColumn {
                column: 0,
                window: 5,
            }],
            2025,
        )
        .expect("history");
        let text = std::fs::read_to_string(&h).expect("read");
        assert_eq!(text.lines().count(), rows + 1);
        let present = values.iter().filter(|v| !v[0].is_nan()).count();
        assert!(rows <= 4 * present && rows as f64 > 0.95 * 4.0 * present as f64);
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f[1], "a");
            assert!((2021..=2024).contains(&f[2].parse::<i32>().expect("year")));
            assert!((0.0..=100.0).contains(&f[3].parse::<f64>().expect("value")));
        }
    }

    #[test]
    fn fixed_formatting() {
        let mut b = Vec::new();
        push_fixed(&mut b, -1.005, 2);
        b.push(b' ');
        push_fixed(&mut b, 3.0, 0);
        b.push(b' ');
        push_fixed(&mut b, 0.5, 3);
        b.push(b' ');
        push_fixed(&mut b, f64::NAN, 3);
        assert_eq!(String::from_utf8(b).expect("ascii"), "-1.00 3 0.500 ");
    }
}
