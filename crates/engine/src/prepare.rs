//! Turning input columns into normalized indicator scores, once, into one flat column-major
//! buffer that both the deterministic assessment and the Monte Carlo reuse.

use crate::assess::{Warning, WarningCode};
use crate::error::EngineError;
use crate::framework::{Direction, Framework, Indicator, MissingRule, Weighting};
use crate::input::Input;
use crate::normalize::{Normalization, normalize_column};
use crate::settings::{MethodChoice, Settings};
use crate::weights::entropy_divergence;

/// Normalized scores and what came with them.
pub(crate) struct Prepared {
    pub(crate) n: usize,
    pub(crate) m: usize,
    /// `n × m` column-major normalized scores on 0–100; 0 where an indicator is left out.
    /// Empty when only the sums were kept.
    pub(crate) z: Vec<f64>,
    /// When asked for and the weights are known before the data (no entropy weighting): each
    /// person's `Σ_j w_j z_j` with the effective weights, added in indicator order.
    pub(crate) sums: Option<Vec<f64>>,
    /// Rows with left-out (reweighted) indicators, as compressed rows: the columns of
    /// `excl_rows[r]` are `excl_cols[excl_start[r]..excl_start[r + 1]]`.
    pub(crate) excl_rows: Vec<u32>,
    pub(crate) excl_start: Vec<u32>,
    pub(crate) excl_cols: Vec<u32>,
    /// Local weights of dimensions and indicators, entropy resolved.
    pub(crate) dim_local: Vec<f64>,
    pub(crate) ind_local: Vec<f64>,
    /// Effective weights of the indicators (sum 1).
    pub(crate) effective: Vec<f64>,
    /// Vetoes raised by indicator values: `(row, indicator)`, by row then indicator.
    pub(crate) vetoes: Vec<(u32, u32)>,
    pub(crate) warnings: Vec<Warning>,
    /// Per-person flags `(row, flag)`, when collected.
    pub(crate) flags: Vec<(u32, String)>,
}

/// Everything one column produced besides its scores.
#[derive(Default)]
struct ColumnOut {
    warnings: Vec<Warning>,
    flags: Vec<(u32, String)>,
    excluded: Vec<u32>,
    vetoed: Vec<u32>,
    divergence: f64,
    error: Option<EngineError>,
}

struct Ctx<'a> {
    fw: &'a Framework,
    input: &'a Input,
    columns: &'a [usize],
    examples: usize,
    collect_flags: bool,
    method: MethodChoice,
}

/// Columns normalized at a time when only the sums are kept.
const GROUP: usize = 8;

/// Normalizes every indicator. With `sums_only`, keeps the weighted sums instead of the
/// scores when it can (see [`Prepared::sums`]): columns are then normalized a few at a time
/// into a small buffer, which saves a buffer of all scores.
pub(crate) fn prepare(
    fw: &Framework,
    input: &Input,
    settings: &Settings,
    method: MethodChoice,
    collect_flags: bool,
    sums_only: bool,
) -> Result<Prepared, EngineError> {
    input.validate()?;
    let n = input.people.len();
    let m = fw.indicators().len();
    let mut columns = Vec::with_capacity(m);
    for ind in fw.indicators() {
        let c = input
            .column_index(&ind.id)
            .ok_or_else(|| EngineError::MissingColumn {
                indicator: ind.id.clone(),
            })?;
        if let Some(s) = &ind.shrink
            && input.column_index(&s.count).is_none()
        {
            return Err(EngineError::MissingAuxColumn {
                indicator: ind.id.clone(),
                column: s.count.clone(),
            });
        }
        columns.push(c);
    }
    let mut warnings = Vec::new();
    for (c, name) in input.columns.iter().enumerate() {
        let used = columns.contains(&c)
            || fw
                .indicators()
                .iter()
                .any(|i| i.shrink.as_ref().is_some_and(|s| s.count == *name));
        if !used {
            warnings.push(Warning::new(
                WarningCode::UnusedColumn,
                Some(name),
                format!(
                    "input column `{name}` is not an indicator of the framework and was ignored"
                ),
            ));
        }
    }
    let ctx = Ctx {
        fw,
        input,
        columns: &columns,
        examples: settings.warning_examples,
        collect_flags,
        method,
    };
    let threads = if n * m >= 200_000 { 2 } else { 1 };
    let entropy = fw
        .dimensions()
        .iter()
        .any(|d| matches!(d.weighting, Weighting::Entropy));
    let dim_local: Vec<f64> = fw.dimensions().iter().map(|d| d.local_weight).collect();
    let mut ind_local: Vec<f64> = fw.indicators().iter().map(|i| i.local_weight).collect();
    let mut outs: Vec<(usize, ColumnOut)> = Vec::with_capacity(m);
    let (z, sums) = if sums_only && !entropy && m > 0 {
        let w = fw.effective_from(&dim_local, &ind_local);
        let width = GROUP.min(m);
        let mut buf = vec![0.0; n * width];
        let mut acc = vec![0.0; n];
        for first in (0..m).step_by(width) {
            let cols = first..(first + width).min(m);
            let part = &mut buf[..n * cols.len()];
            normalize(&ctx, cols.clone(), part, threads, &mut outs);
            weighted_sums(part, &w[cols], &mut acc);
        }
        (Vec::new(), Some(acc))
    } else {
        let mut z = vec![0.0; n * m];
        normalize(&ctx, 0..m, &mut z, threads, &mut outs);
        (z, None)
    };
    outs.sort_by_key(|(j, _)| *j);

    let mut flags = Vec::new();
    let mut excl_pairs: Vec<(u32, u32)> = Vec::new();
    let mut vetoes = Vec::new();
    let mut divergence = vec![0.0; m];
    for (j, out) in outs {
        if let Some(e) = out.error {
            return Err(e);
        }
        warnings.extend(out.warnings);
        flags.extend(out.flags);
        excl_pairs.extend(out.excluded.iter().map(|&r| (r, j as u32)));
        vetoes.extend(out.vetoed.iter().map(|&r| (r, j as u32)));
        divergence[j] = out.divergence;
    }
    vetoes.sort_unstable();
    excl_pairs.sort_unstable();
    let mut excl_rows = Vec::new();
    let mut excl_start = Vec::new();
    let mut excl_cols = Vec::with_capacity(excl_pairs.len());
    for (r, c) in excl_pairs {
        if excl_rows.last() != Some(&r) {
            excl_rows.push(r);
            excl_start.push(excl_cols.len() as u32);
        }
        excl_cols.push(c);
    }
    excl_start.push(excl_cols.len() as u32);

    for (k, d) in fw.dimensions().iter().enumerate() {
        if !matches!(d.weighting, Weighting::Entropy) {
            continue;
        }
        let kids: Vec<usize> = (0..m)
            .filter(|&j| fw.indicators()[j].dimension == k)
            .collect();
        let total: f64 = kids.iter().map(|&j| divergence[j]).sum();
        for &j in &kids {
            ind_local[j] = if total > 0.0 {
                divergence[j] / total
            } else {
                1.0 / kids.len() as f64
            };
        }
        if total <= 0.0 {
            warnings.push(Warning::new(
                WarningCode::EntropyDegenerate,
                Some(&d.id),
                format!(
                    "no indicator under `{}` varies: entropy weights fall back to equal",
                    d.id
                ),
            ));
        }
    }
    let effective = fw.effective_from(&dim_local, &ind_local);
    Ok(Prepared {
        n,
        m,
        z,
        sums,
        excl_rows,
        excl_start,
        excl_cols,
        dim_local,
        ind_local,
        effective,
        vetoes,
        warnings,
        flags,
    })
}

/// Normalizes the indicators `cols` into `out` (their columns, in order), on `threads`
/// threads; adds what each column produced to `outs`.
fn normalize(
    ctx: &Ctx<'_>,
    cols: std::ops::Range<usize>,
    out: &mut [f64],
    threads: usize,
    outs: &mut Vec<(usize, ColumnOut)>,
) {
    let n = ctx.input.people.len();
    let columns = out.chunks_mut(n.max(1)).zip(cols);
    if threads == 1 || columns.len() < 2 {
        for (col, j) in columns {
            outs.push((j, column(ctx, j, col)));
        }
        return;
    }
    let mut parts: Vec<Vec<(usize, &mut [f64])>> = (0..threads).map(|_| Vec::new()).collect();
    for (col, j) in columns {
        parts[j % threads].push((j, col));
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                s.spawn(move || {
                    part.into_iter()
                        .map(|(j, col)| (j, column(ctx, j, col)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(v) => outs.extend(v),
                Err(e) => std::panic::resume_unwind(e),
            }
        }
    });
}

/// Rows per block of [`weighted_sums`]: the block's sums stay in the L1 cache.
const SUM_BLOCK: usize = 2048;

/// `acc[r] += w[j] · z[j][r]` for the columns `j` of `z` (of `acc.len()` rows each) in order,
/// as [`crate::assess`] adds the terms (so the sums are the same to the bit), on up to two
/// threads by row ranges.
pub(crate) fn weighted_sums(z: &[f64], w: &[f64], acc: &mut [f64]) {
    let n = acc.len();
    let sum = |from: usize, acc: &mut [f64]| {
        for (b, block) in acc.chunks_mut(SUM_BLOCK).enumerate() {
            let start = from + b * SUM_BLOCK;
            for (j, &wj) in w.iter().enumerate() {
                let col = &z[j * n + start..j * n + start + block.len()];
                for (a, &c) in block.iter_mut().zip(col) {
                    *a += wj * c;
                }
            }
        }
    };
    if n * w.len() < 1 << 20 {
        sum(0, acc);
        return;
    }
    let half = n / 2;
    let (a, b) = acc.split_at_mut(half);
    std::thread::scope(|s| {
        s.spawn(|| sum(half, b));
        sum(0, a);
    });
}

fn method_for(ind: &Indicator, choice: MethodChoice) -> Normalization {
    match choice {
        MethodChoice::Declared => ind.normalization.clone(),
        MethodChoice::MinMax => Normalization::MinMax { constant: 100.0 },
        MethodChoice::ZScore => Normalization::ZScore { constant: 100.0 },
        MethodChoice::Rank => Normalization::Rank { constant: 100.0 },
    }
}

/// Processes indicator `j` into `out` (its column of the score buffer).
fn column(ctx: &Ctx<'_>, j: usize, out: &mut [f64]) -> ColumnOut {
    let mut res = ColumnOut::default();
    let ind = &ctx.fw.indicators()[j];
    let input = ctx.input;
    let people = &input.people;
    let raw = input.values.column(ctx.columns[j]);
    if let Some(r) = raw.iter().position(|x| x.is_infinite()) {
        res.error = Some(EngineError::Infinite {
            indicator: ind.id.clone(),
            person: people[r].person_id.clone(),
        });
        return res;
    }
    let id = ind.id.as_str();
    let mut report = Reporter {
        ctx,
        id,
        res: &mut res,
    };

    // Vetoes look at the reported value itself.
    if let Some(v) = &ind.veto {
        let rows: Vec<u32> = raw
            .iter()
            .enumerate()
            .filter(|(_, x)| v.triggers(**x))
            .map(|(r, _)| r as u32)
            .collect();
        report.res.vetoed = rows;
    }
    // So do committee reviews (研判), which only flag.
    if let Some(v) = &ind.review
        && ctx.collect_flags
    {
        let f = format!("review:{id}");
        report.res.flags.extend(
            raw.iter()
                .enumerate()
                .filter(|(_, x)| v.triggers(**x))
                .map(|(r, _)| (r as u32, f.clone())),
        );
    }

    // The value that is normalized: shrunk ratings, blended with the multi-year average.
    let mut work: Option<Vec<f64>> = None;
    if let Some(s) = &ind.shrink {
        let counts = input
            .column_index(&s.count)
            .map(|c| input.values.column(c))
            .unwrap_or(&[]);
        let prior = s.prior.unwrap_or_else(|| {
            let (mut num, mut den) = (0.0, 0.0);
            for (&x, &k) in raw.iter().zip(counts) {
                if !x.is_nan() && k.is_finite() && k > 0.0 {
                    num += x * k;
                    den += k;
                }
            }
            if den > 0.0 { num / den } else { 0.0 }
        });
        let mut v = raw.to_vec();
        let mut bad = Vec::new();
        for (r, x) in v.iter_mut().enumerate() {
            if x.is_nan() {
                continue;
            }
            let k = counts.get(r).copied().unwrap_or(f64::NAN);
            if k.is_finite() && k >= 0.0 {
                *x = crate::shrink::bayesian_average(*x * k, k, prior, s.strength);
            } else {
                bad.push(r as u32);
            }
        }
        report.rows(
            WarningCode::ShrinkCountMissing,
            &bad,
            format!(
                "`{id}`: rating count `{}` missing or negative; the average was used unshrunk",
                s.count
            ),
            "unshrunk",
        );
        work = Some(v);
    }
    if let Some(l) = ind.latent {
        let hist = input.history.iter().find(|h| h.column == ind.id);
        match hist {
            None => report.whole(
                WarningCode::NoHistory,
                format!("`{id}` has latent credit but the input has no history for it: this year's value alone was used"),
            ),
            Some(h) => {
                let n = people.len();
                let years = h.years.min(l.window - 1);
                let mut v = work.take().unwrap_or_else(|| raw.to_vec());
                for (r, x) in v.iter_mut().enumerate() {
                    if x.is_nan() {
                        continue;
                    }
                    let (mut sum, mut cnt) = (*x, 1.0);
                    for y in 0..years {
                        let hv = h.data[y * n + r];
                        if hv.is_finite() {
                            sum += hv;
                            cnt += 1.0;
                        }
                    }
                    *x = (1.0 - l.share) * *x + l.share * sum / cnt;
                }
                work = Some(v);
            }
        }
    }
    let values: &[f64] = work.as_deref().unwrap_or(raw);

    let method = method_for(ind, ctx.method);
    let col = normalize_column(&method, ind.direction, values, out);
    if col.constant {
        report.whole(
            WarningCode::ConstantColumn,
            format!(
                "`{id}`: all observed values are equal; {} gives everyone the same score",
                method.method()
            ),
        );
    }
    report.rows(
        WarningCode::OutsideRange,
        &col.outside,
        format!(
            "`{id}`: values outside the {} range were clamped",
            method.method()
        ),
        "outside",
    );

    if let Some(g) = ind.growth {
        let base = input.baseline.as_ref().map(|b| b.column(ctx.columns[j]));
        let mut unavailable = Vec::new();
        for (r, o) in out.iter_mut().enumerate() {
            let x = raw[r];
            if x.is_nan() || o.is_nan() {
                continue;
            }
            let b = base.map_or(f64::NAN, |b| b[r]);
            if !b.is_finite() || b == 0.0 {
                unavailable.push(r as u32);
                continue;
            }
            let rate = match ind.direction {
                Direction::Positive => 100.0 * (x - b) / b.abs(),
                Direction::Negative => 100.0 * (b - x) / b.abs(),
            };
            let gs = 100.0 * ((rate - g.floor) / (g.cap - g.floor)).clamp(0.0, 1.0);
            *o = (1.0 - g.share) * *o + g.share * gs;
        }
        report.rows(
            WarningCode::GrowthUnavailable,
            &unavailable,
            format!("`{id}`: no usable baseline (missing or zero): scored on level only"),
            "no_baseline",
        );
    }

    // Missing values.
    let missing: Vec<u32> = out
        .iter()
        .enumerate()
        .filter(|(_, x)| x.is_nan())
        .map(|(r, _)| r as u32)
        .collect();
    let mut rule = ind.missing;
    if !missing.is_empty() {
        if rule == MissingRule::Error {
            report.res.error = Some(EngineError::MissingValue {
                indicator: ind.id.clone(),
                person: people[missing[0] as usize].person_id.clone(),
            });
            return res;
        }
        let observed = out.len() - missing.len();
        if observed == 0 && matches!(rule, MissingRule::Mean | MissingRule::Min) {
            rule = MissingRule::Reweight;
            report.whole(
                WarningCode::AllMissing,
                format!("`{id}` has no observed value: left out for everyone"),
            );
        }
        let fill = match rule {
            MissingRule::Zero => 0.0,
            MissingRule::Mean => {
                out.iter().filter(|x| !x.is_nan()).sum::<f64>() / observed.max(1) as f64
            }
            MissingRule::Min => out
                .iter()
                .filter(|x| !x.is_nan())
                .fold(f64::INFINITY, |a, &b| a.min(b)),
            MissingRule::Reweight | MissingRule::Error => f64::NAN,
        };
        let what = match rule {
            MissingRule::Zero => "scored 0",
            MissingRule::Mean => "imputed with the mean score",
            MissingRule::Min => "imputed with the lowest score",
            _ => "left out, the other weights renormalized",
        };
        // A committee review without weight only flags: whoever has no value has nothing to
        // review, and is not reported as missing.
        if ind.review.is_none() || ind.local_weight != 0.0 {
            report.rows(
                WarningCode::MissingValues,
                &missing,
                format!("`{id}`: missing values {what}"),
                "missing",
            );
        }
        for &r in &missing {
            out[r as usize] = fill;
        }
    }
    let mut res_div = 0.0;
    if ctx
        .fw
        .dimensions()
        .get(ind.dimension)
        .is_some_and(|d| matches!(d.weighting, Weighting::Entropy))
    {
        res_div = entropy_divergence(out);
    }
    if rule == MissingRule::Reweight {
        for &r in &missing {
            out[r as usize] = 0.0;
        }
        res.excluded = missing;
    }
    res.divergence = res_div;
    res
}

/// Builds warnings (with example people) and per-person flags for one indicator.
struct Reporter<'c, 'r> {
    ctx: &'c Ctx<'c>,
    id: &'c str,
    res: &'r mut ColumnOut,
}

impl Reporter<'_, '_> {
    fn whole(&mut self, code: WarningCode, message: String) {
        self.res
            .warnings
            .push(Warning::new(code, Some(self.id), message));
    }

    fn rows(&mut self, code: WarningCode, rows: &[u32], message: String, flag: &str) {
        if rows.is_empty() {
            return;
        }
        let mut w = Warning::new(code, Some(self.id), message);
        w.count = rows.len();
        w.people = rows
            .iter()
            .take(self.ctx.examples)
            .map(|&r| self.ctx.input.people[r as usize].person_id.clone())
            .collect();
        self.res.warnings.push(w);
        if self.ctx.collect_flags {
            let f = format!("{flag}:{}", self.id);
            self.res.flags.extend(rows.iter().map(|&r| (r, f.clone())));
        }
    }
}
