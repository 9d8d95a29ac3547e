//! Rank uncertainty by Monte Carlo over weights and, optionally, normalization methods.
//!
//! The data are normalized once per method into flat column-major buffers; each draw only
//! recomputes weighted sums (in cache-sized blocks of people, 16 draws at a time), ranks them
//! with a radix sort into reused buffers, and applies the top-grade quota. Draw `d` uses its own
//! ChaCha8 stream (`seed`, stream `d`), so the result does not depend on the number of threads.

use crate::assess::{Block, blocks, quantize, scopes};
use crate::error::EngineError;
use crate::framework::{Aggregation, Framework};
use crate::grading::{QuotaState, TopOutcome, quota_k};
use crate::input::Input;
use crate::prepare::{Prepared, prepare};
use crate::rank::{RadixSorter, competition_ranks};
use crate::settings::{MethodChoice, Settings, WeightNoise};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};
use serde::Serialize;

/// Rank uncertainty of one person over the draws.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RankUncertainty {
    /// Median rank (the lower median for an even number of draws).
    pub median_rank: u32,
    /// 5th percentile of the rank (nearest-rank method): the better end of the interval.
    pub p05: u32,
    /// 95th percentile of the rank: the worse end of the interval.
    pub p95: u32,
    /// Share of draws in which the person got the top grade within the quota.
    pub p_top_grade: f64,
    /// Share of draws in which the person tied across the quota line (committee).
    pub p_committee: f64,
}

/// Draws processed together.
const BATCH: usize = 16;
/// People per cache block in the weighted sums.
const BLOCK: usize = 512;

/// One normalization method's data.
struct Variant {
    /// Column-major scores (log scores for geometric aggregation), 0 where left out.
    z: Vec<f64>,
    dim_local: Vec<f64>,
    ind_local: Vec<f64>,
}

struct Shared<'a> {
    fw: &'a Framework,
    variants: Vec<Variant>,
    excl_rows: Vec<u32>,
    excl_start: Vec<u32>,
    excl_cols: Vec<u32>,
    groups: Vec<Vec<usize>>,
    noise: WeightNoise,
    seed: u64,
    geometric: bool,
    n: usize,
    m: usize,
    scale: f64,
    top_key: u64,
    eligible: Vec<bool>,
    scope: Vec<u32>,
    k: Vec<u32>,
}

/// Per-thread result: ranks of its draws per person (`[person][draw]`), and counts.
struct Part {
    draws: usize,
    ranks: Vec<u32>,
    top: Vec<u32>,
    tie: Vec<u32>,
}

/// Runs `draws` Monte Carlo draws and summarizes each person's rank and top-grade chance.
/// Noise, methods and threads come from `settings.monte_carlo`; `draws` and `seed` from the
/// arguments. Memory: 4 bytes × people × draws for the ranks, plus one normalized buffer per
/// method.
pub fn monte_carlo(
    framework: &Framework,
    input: &Input,
    settings: &Settings,
    draws: usize,
    seed: u64,
) -> Result<Vec<RankUncertainty>, EngineError> {
    settings.validate()?;
    if draws == 0 {
        return Err(EngineError::Settings(
            "Monte Carlo needs at least one draw".into(),
        ));
    }
    let mut methods = settings.monte_carlo.methods.clone();
    if methods.is_empty() {
        methods.push(MethodChoice::Declared);
    }
    methods.dedup();
    let geometric = framework.aggregation() == Aggregation::Geometric;
    let floor = framework.geometric_floor();
    let mut variants = Vec::with_capacity(methods.len());
    let mut first: Option<Prepared> = None;
    for &method in &methods {
        let mut p = prepare(framework, input, settings, method, false, false)?;
        if geometric {
            for x in &mut p.z {
                *x = x.max(floor).ln();
            }
            for (k, &r) in p.excl_rows.iter().enumerate() {
                for &c in &p.excl_cols[p.excl_start[k] as usize..p.excl_start[k + 1] as usize] {
                    p.z[c as usize * p.n + r as usize] = 0.0;
                }
            }
        }
        variants.push(Variant {
            z: std::mem::take(&mut p.z),
            dim_local: p.dim_local.clone(),
            ind_local: p.ind_local.clone(),
        });
        if first.is_none() {
            first = Some(p);
        }
    }
    let Some(first) = first else {
        return Err(EngineError::Settings("no normalization method".into()));
    };
    let n = first.n;
    let block = blocks(input, &first, settings);
    let sc = scopes(input, settings.quota_scope_for(framework));
    let scale = 10f64.powi(settings.score_decimals as i32);
    let thresholds = settings.thresholds_for(framework);
    let shared = Shared {
        fw: framework,
        variants,
        excl_rows: first.excl_rows,
        excl_start: first.excl_start,
        excl_cols: first.excl_cols,
        groups: framework.sibling_groups(),
        noise: settings.monte_carlo.noise,
        seed,
        geometric,
        n,
        m: first.m,
        scale,
        top_key: quantize(thresholds[0], scale),
        eligible: block.iter().map(|b| *b == Block::None).collect(),
        k: sc
            .assessed
            .iter()
            .map(|&a| quota_k(settings.quota_share, a))
            .collect(),
        scope: sc.of,
    };

    let threads = match settings.monte_carlo.threads {
        0 => std::thread::available_parallelism()
            .map_or(1, |t| t.get())
            .min(2),
        t => t.min(64),
    }
    .clamp(1, draws);
    let per = draws.div_ceil(threads);
    let parts: Vec<Part> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let shared = &shared;
                let start = (t * per).min(draws);
                let end = ((t + 1) * per).min(draws);
                s.spawn(move || run(shared, start, end))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    Ok(summarize(&parts, n, draws))
}

fn run(sh: &Shared<'_>, start: usize, end: usize) -> Part {
    let (n, m) = (sh.n, sh.m);
    let local = end - start;
    let mut part = Part {
        draws: local,
        ranks: vec![0; n * local],
        top: vec![0; n],
        tie: vec![0; n],
    };
    if local == 0 {
        return part;
    }
    let nd = sh.fw.dimensions().len();
    let mut scores = vec![0.0; BATCH * n];
    let mut weights = vec![0.0; BATCH * m];
    let mut method = [0usize; BATCH];
    let mut batch_ranks = vec![0u32; BATCH * n];
    let mut keys = vec![0u64; n];
    let mut sorter = RadixSorter::default();
    let mut quota = QuotaState::new(sh.k.clone());
    let mut outcome = vec![TopOutcome::NotEligible; n];
    let mut dim_local = vec![0.0; nd];
    let mut ind_local = vec![0.0; m];
    let mut dim_eff = vec![0.0; nd];

    let mut d0 = start;
    while d0 < end {
        let b = BATCH.min(end - d0);
        for (t, meth) in method.iter_mut().enumerate().take(b) {
            let mut rng = ChaCha8Rng::seed_from_u64(sh.seed);
            rng.set_stream((d0 + t) as u64);
            *meth = if sh.variants.len() > 1 {
                rng.random_range(0..sh.variants.len())
            } else {
                0
            };
            let v = &sh.variants[*meth];
            dim_local.copy_from_slice(&v.dim_local);
            ind_local.copy_from_slice(&v.ind_local);
            for g in &sh.groups {
                perturb(g, nd, &mut dim_local, &mut ind_local, sh.noise, &mut rng);
            }
            sh.fw.effective_into(
                &dim_local,
                &ind_local,
                &mut dim_eff,
                &mut weights[t * m..(t + 1) * m],
            );
        }
        // Weighted sums, a cache block of people at a time.
        let mut p0 = 0;
        while p0 < n {
            let p1 = (p0 + BLOCK).min(n);
            for t in 0..b {
                let z = &sh.variants[method[t]].z;
                let acc = &mut scores[t * n + p0..t * n + p1];
                acc.fill(0.0);
                let w = &weights[t * m..(t + 1) * m];
                // Four columns per pass over the accumulator: a quarter of the loads and stores.
                let mut j = 0;
                while j + 4 <= m {
                    let (w0, w1, w2, w3) = (w[j], w[j + 1], w[j + 2], w[j + 3]);
                    let c0 = &z[j * n + p0..j * n + p1];
                    let c1 = &z[(j + 1) * n + p0..(j + 1) * n + p1];
                    let c2 = &z[(j + 2) * n + p0..(j + 2) * n + p1];
                    let c3 = &z[(j + 3) * n + p0..(j + 3) * n + p1];
                    for ((((a, &x0), &x1), &x2), &x3) in
                        acc.iter_mut().zip(c0).zip(c1).zip(c2).zip(c3)
                    {
                        *a += (w0 * x0 + w1 * x1) + (w2 * x2 + w3 * x3);
                    }
                    j += 4;
                }
                while j < m {
                    let wj = w[j];
                    let col = &z[j * n + p0..j * n + p1];
                    for (a, &x) in acc.iter_mut().zip(col) {
                        *a += wj * x;
                    }
                    j += 1;
                }
            }
            p0 = p1;
        }
        for t in 0..b {
            let w = &weights[t * m..(t + 1) * m];
            let s = &mut scores[t * n..(t + 1) * n];
            for (k, &r) in sh.excl_rows.iter().enumerate() {
                let cols = &sh.excl_cols[sh.excl_start[k] as usize..sh.excl_start[k + 1] as usize];
                let den = 1.0 - cols.iter().map(|&c| w[c as usize]).sum::<f64>();
                let r = r as usize;
                s[r] = if den > 1e-12 { s[r] / den } else { f64::NAN };
            }
            for (key, &x) in keys.iter_mut().zip(s.iter()) {
                let x = if sh.geometric { x.exp() } else { x };
                // NaN (everything left out) quantizes to 0.
                *key = quantize(x, sh.scale);
            }
            let (skeys, order) =
                sorter.sort_desc(keys.iter().enumerate().map(|(i, &k)| (k, i as u32)));
            competition_ranks(skeys, order, &mut batch_ranks[t * n..(t + 1) * n]);
            for &i in order {
                outcome[i as usize] = TopOutcome::NotEligible;
            }
            quota.award(
                skeys,
                order,
                sh.top_key,
                |i| sh.eligible[i],
                &sh.scope,
                &mut outcome,
            );
            for (i, o) in outcome.iter().enumerate() {
                match o {
                    TopOutcome::Top => part.top[i] += 1,
                    TopOutcome::Tie => part.tie[i] += 1,
                    _ => {}
                }
            }
        }
        // Transpose the batch into the per-person store: one cache line per person.
        let off = d0 - start;
        for i in 0..n {
            let dst = &mut part.ranks[i * local + off..i * local + off + b];
            for (t, d) in dst.iter_mut().enumerate() {
                *d = batch_ranks[t * n + i];
            }
        }
        d0 += b;
    }
    part
}

/// Perturbs one group of sibling local weights and renormalizes it.
fn perturb(
    group: &[usize],
    nd: usize,
    dim: &mut [f64],
    ind: &mut [f64],
    noise: WeightNoise,
    rng: &mut ChaCha8Rng,
) {
    let get = |s: usize, dim: &[f64], ind: &[f64]| if s < nd { dim[s] } else { ind[s - nd] };
    let mut total = 0.0;
    for &s in group {
        let w = get(s, dim, ind);
        let v = match noise {
            WeightNoise::None => w,
            WeightNoise::Uniform { fraction } => {
                w * (1.0 + fraction * (2.0 * rng.random::<f64>() - 1.0))
            }
            WeightNoise::Dirichlet { concentration } => {
                let shape = concentration * group.len() as f64 * w;
                match Gamma::new(shape, 1.0) {
                    Ok(g) if shape > 0.0 => g.sample(rng),
                    _ => 0.0,
                }
            }
        };
        let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
        if s < nd {
            dim[s] = v;
        } else {
            ind[s - nd] = v;
        }
        total += v;
    }
    if total > 0.0 {
        for &s in group {
            if s < nd {
                dim[s] /= total;
            } else {
                ind[s - nd] /= total;
            }
        }
    }
}

fn summarize(parts: &[Part], n: usize, draws: usize) -> Vec<RankUncertainty> {
    let mut out = vec![
        RankUncertainty {
            median_rank: 0,
            p05: 0,
            p95: 0,
            p_top_grade: 0.0,
            p_committee: 0.0,
        };
        n
    ];
    let pos = |q: f64| ((q * draws as f64).ceil() as usize).clamp(1, draws) - 1;
    let (p05, p50, p95) = (pos(0.05), pos(0.5), pos(0.95));
    let threads = if n * draws >= 1_000_000 { 2 } else { 1 };
    let chunk = n.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for (c, slice) in out.chunks_mut(chunk).enumerate() {
            s.spawn(move || {
                let mut buf = Vec::with_capacity(draws);
                for (k, o) in slice.iter_mut().enumerate() {
                    let i = c * chunk + k;
                    buf.clear();
                    let (mut top, mut tie) = (0u32, 0u32);
                    for p in parts {
                        buf.extend_from_slice(&p.ranks[i * p.draws..(i + 1) * p.draws]);
                        top += p.top[i];
                        tie += p.tie[i];
                    }
                    let (lo, mid, hi) = buf.select_nth_unstable(p50);
                    let median = *mid;
                    let low = if p05 < p50 {
                        *lo.select_nth_unstable(p05).1
                    } else {
                        median
                    };
                    let high = if p95 > p50 {
                        *hi.select_nth_unstable(p95 - p50 - 1).1
                    } else {
                        median
                    };
                    *o = RankUncertainty {
                        median_rank: median,
                        p05: low,
                        p95: high,
                        p_top_grade: top as f64 / draws as f64,
                        p_committee: tie as f64 / draws as f64,
                    };
                }
            });
        }
    });
    out
}
