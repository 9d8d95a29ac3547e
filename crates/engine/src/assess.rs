//! The deterministic assessment: scores with contributions, ranks, grades with the rule that
//! decided each, quota lines and warnings.

use crate::error::EngineError;
use crate::framework::{Aggregation, Framework};
use crate::grading::{Grade, QuotaState, Rule, TopOutcome, quota_k};
use crate::input::{Input, Matrix};
use crate::prepare::{Prepared, prepare, weighted_sums};
use crate::rank::{RadixSorter, competition_ranks, group_ranks};
use crate::settings::{MethodChoice, QuotaScope, Settings};
use kaohe_domain::GradeScale;
use serde::Serialize;
use std::collections::HashMap;

/// Kind of a warning in an assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    /// All observed values of an indicator are equal: a data-driven normalization gave everyone
    /// its constant score.
    ConstantColumn,
    /// Values outside the normalization's range (goalposts, floor, bands, ±5 sd) were clamped.
    OutsideRange,
    /// Values were missing and the indicator's missing-value rule was applied.
    MissingValues,
    /// An indicator has no observed value at all: it was left out for everyone.
    AllMissing,
    /// Growth could not be scored (baseline missing or zero): level only.
    GrowthUnavailable,
    /// Latent credit was declared but the input has no history for the indicator.
    NoHistory,
    /// A rating count was missing: the average was used without shrinkage.
    ShrinkCountMissing,
    /// An input column is not used by the framework.
    UnusedColumn,
    /// No indicator under an entropy-weighted dimension varies: equal weights were used.
    EntropyDegenerate,
    /// Geometric aggregation raised scores below the floor to the floor.
    GeometricFloor,
}

impl WarningCode {
    /// Machine code, e.g. `constant_column`.
    pub fn code(self) -> &'static str {
        match self {
            WarningCode::ConstantColumn => "constant_column",
            WarningCode::OutsideRange => "outside_range",
            WarningCode::MissingValues => "missing_values",
            WarningCode::AllMissing => "all_missing",
            WarningCode::GrowthUnavailable => "growth_unavailable",
            WarningCode::NoHistory => "no_history",
            WarningCode::ShrinkCountMissing => "shrink_count_missing",
            WarningCode::UnusedColumn => "unused_column",
            WarningCode::EntropyDegenerate => "entropy_degenerate",
            WarningCode::GeometricFloor => "geometric_floor",
        }
    }
}

/// A warning: something the engine handled by a documented rule and that a person should know.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    /// Kind.
    pub code: WarningCode,
    /// Indicator (or column, or dimension) concerned.
    pub indicator: Option<String>,
    /// Number of people concerned (0 when it concerns the column as a whole).
    pub count: usize,
    /// Some of the people concerned (at most `Settings::warning_examples`).
    pub people: Vec<String>,
    /// Explanation in English.
    pub message: String,
}

impl Warning {
    pub(crate) fn new(code: WarningCode, indicator: Option<&str>, message: String) -> Self {
        Self {
            code,
            indicator: indicator.map(str::to_owned),
            count: 0,
            people: Vec::new(),
            message,
        }
    }
}

/// The quota in one scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuotaLine {
    /// Scope: the unit id (or `*` for everyone), with `/group` for a quota group.
    pub scope: String,
    /// Number assessed in the scope.
    pub assessed: usize,
    /// Quota `k = floor(share × assessed)`.
    pub k: u32,
    /// Number eligible for the top grade (score at the threshold, not blocked or vetoed).
    pub eligible: usize,
    /// Number who got the top grade.
    pub awarded: usize,
    /// Lowest score that got the top grade.
    pub lowest_awarded: Option<f64>,
    /// Number flagged for the committee because they tie across the quota line.
    pub committee: usize,
    /// Score of the tie group at the line, if any.
    pub tie_score: Option<f64>,
}

/// The result of an assessment. Every per-person vector is index-aligned with `Input::people`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// Framework id.
    pub framework_id: String,
    /// Framework version.
    pub framework_version: String,
    /// Grade scale used.
    pub scale: GradeScale,
    /// Thresholds used (levels 0, 1, 2).
    pub thresholds: [f64; 3],
    /// Indicator ids, in framework order (the columns of `contributions`).
    pub indicator_ids: Vec<String>,
    /// Effective weights, in framework order (entropy weights resolved on this data).
    pub effective_weights: Vec<f64>,
    /// Score 0–100, rounded to `Settings::score_decimals`.
    pub scores: Vec<f64>,
    /// Rank among everyone, 1 = best, competition ranking ("1224") for ties.
    pub ranks: Vec<u32>,
    /// Rank within the person's unit, same convention.
    pub unit_ranks: Vec<u32>,
    /// Grade; `None` = 不定等次 (no grade, written comment only).
    pub grades: Vec<Option<Grade>>,
    /// The rule that decided each grade.
    pub rules: Vec<Rule>,
    /// Flags per person, e.g. `committee_review`, `missing:<indicator>`, `veto:<id>`,
    /// `review:<indicator>` (a committee review, 研判).
    pub flags: Vec<Vec<String>>,
    /// Contribution of each indicator to each score (`people × indicators`, column-major; each
    /// row sums to the unrounded score). `None` when not kept.
    pub contributions: Option<Matrix>,
    /// The quota per scope.
    pub quota_lines: Vec<QuotaLine>,
    /// Warnings.
    pub warnings: Vec<Warning>,
}

impl Assessment {
    /// Number of people.
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    /// Whether no one was assessed.
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    /// Contributions of person `i`, by indicator id (empty when not kept or out of range).
    pub fn contributions_of(&self, i: usize) -> Vec<(&str, f64)> {
        match &self.contributions {
            Some(c) if i < c.rows() => self
                .indicator_ids
                .iter()
                .enumerate()
                .map(|(j, id)| (id.as_str(), c.get(i, j).unwrap_or(0.0)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Grade label of person `i` (`"en"` or Chinese), 不定等次 for no grade.
    pub fn grade_label(&self, i: usize, lang: &str) -> &'static str {
        Grade::label(self.grades.get(i).copied().flatten(), lang)
    }
}

/// Rounds a non-negative score to an integer key at `scale = 10^decimals`.
pub(crate) fn quantize(x: f64, scale: f64) -> u64 {
    let y = x * scale;
    if y > 0.0 { (y + 0.5) as u64 } else { 0 }
}

/// Scopes of the quota: index per person and names.
pub(crate) struct Scopes {
    pub(crate) of: Vec<u32>,
    pub(crate) names: Vec<String>,
    pub(crate) assessed: Vec<usize>,
    pub(crate) unit_of: Vec<u32>,
    pub(crate) units: usize,
}

pub(crate) fn scopes(input: &Input, scope: QuotaScope) -> Scopes {
    let mut units: HashMap<&str, u32> = HashMap::new();
    let mut unit_of = Vec::with_capacity(input.people.len());
    let mut last: Option<(&str, u32)> = None;
    for p in &input.people {
        // People usually come grouped by unit: skip the hash for a repeated unit.
        let u = match last {
            Some((id, u)) if id == p.unit_id => u,
            _ => {
                let next = units.len() as u32;
                let u = *units.entry(p.unit_id.as_str()).or_insert(next);
                last = Some((p.unit_id.as_str(), u));
                u
            }
        };
        unit_of.push(u);
    }
    let mut map: HashMap<(u32, Option<&str>), u32> = HashMap::new();
    let mut names = Vec::new();
    let mut assessed = Vec::new();
    let mut of = Vec::with_capacity(input.people.len());
    let mut last: Option<((u32, Option<&str>), u32)> = None;
    for (i, p) in input.people.iter().enumerate() {
        let unit = match scope {
            QuotaScope::Unit => unit_of[i],
            QuotaScope::All => u32::MAX,
        };
        let key = (unit, p.quota_group.as_deref());
        if let Some((k, s)) = last
            && k == key
        {
            assessed[s as usize] += 1;
            of.push(s);
            continue;
        }
        let s = *map.entry(key).or_insert_with(|| {
            let base = match scope {
                QuotaScope::Unit => p.unit_id.clone(),
                QuotaScope::All => "*".to_owned(),
            };
            names.push(match key.1 {
                Some(g) => format!("{base}/{g}"),
                None => base,
            });
            assessed.push(0);
            names.len() as u32 - 1
        });
        assessed[s as usize] += 1;
        of.push(s);
        last = Some((key, s));
    }
    Scopes {
        of,
        names,
        assessed,
        unit_of,
        units: units.len(),
    }
}

/// Why a person cannot get the top grade or any grade, apart from the score.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Block {
    None,
    Sanction,
    Veto,
    Warning,
    RoutinePoor,
}

pub(crate) fn blocks(input: &Input, p: &Prepared, settings: &Settings) -> Vec<Block> {
    let mut out: Vec<Block> = input
        .people
        .iter()
        .map(|person| {
            let f = &person.facts;
            if f.blocks.sanction_in_effect {
                Block::Sanction
            } else if !f.vetoes.is_empty() {
                Block::Veto
            } else if f.blocks.warning_in_year {
                Block::Warning
            } else if f.routine_poor > settings.max_routine_poor {
                Block::RoutinePoor
            } else {
                Block::None
            }
        })
        .collect();
    for &(r, _) in &p.vetoes {
        let b = &mut out[r as usize];
        if *b != Block::Sanction {
            *b = Block::Veto;
        }
    }
    out
}

/// Assesses everyone in `input` against `framework`.
pub fn assess(
    framework: &Framework,
    input: &Input,
    settings: &Settings,
) -> Result<Assessment, EngineError> {
    settings.validate()?;
    let geometric = framework.aggregation() == Aggregation::Geometric;
    // The weighted terms are the contributions; an arithmetic score without them needs only
    // the weighted sums.
    let terms = geometric || settings.keep_contributions;
    let prepared = prepare(
        framework,
        input,
        settings,
        MethodChoice::Declared,
        true,
        !terms,
    )?;
    let block = blocks(input, &prepared, settings);
    let Prepared {
        n,
        m,
        mut z,
        sums,
        excl_rows,
        excl_start,
        excl_cols,
        effective: w,
        vetoes,
        mut warnings,
        flags: prepared_flags,
        ..
    } = prepared;
    // Each person's flags, gathered on another thread while the scores are ranked (they are
    // independent until grading adds its own).
    let gathered = std::thread::spawn(move || {
        let mut flags: Vec<Vec<String>> = vec![Vec::new(); n];
        for (r, f) in prepared_flags {
            flags[r as usize].push(f);
        }
        flags
    });
    let floor = framework.geometric_floor();

    // Weighted terms in place, summed per person.
    let mut below_floor = 0usize;
    let mut acc = match sums {
        Some(sums) => sums,
        None if !terms => {
            let mut acc = vec![0.0; n];
            weighted_sums(&z, &w, &mut acc);
            acc
        }
        None => vec![0.0; n],
    };
    for (j, col) in z.chunks_mut(n).enumerate().take(if terms { m } else { 0 }) {
        let wj = w[j];
        if geometric {
            for (c, a) in col.iter_mut().zip(acc.iter_mut()) {
                if *c < floor {
                    below_floor += 1;
                }
                let t = wj * c.max(floor).ln();
                *c = t;
                *a += t;
            }
        } else {
            for (c, a) in col.iter_mut().zip(acc.iter_mut()) {
                let t = wj * *c;
                *c = t;
                *a += t;
            }
        }
    }
    // Left-out indicators: remove their terms and renormalize the remaining weights.
    let mut den: Vec<f64> = Vec::new();
    if !excl_rows.is_empty() {
        den = vec![1.0; n];
        for (k, &r) in excl_rows.iter().enumerate() {
            let r = r as usize;
            let cols = &excl_cols[excl_start[k] as usize..excl_start[k + 1] as usize];
            let mut d = 1.0;
            for &c in cols {
                let c = c as usize;
                // Without terms, the left-out score was added as 0: nothing to take back.
                if terms {
                    acc[r] -= z[c * n + r];
                    z[c * n + r] = 0.0;
                }
                if geometric {
                    // The excluded 0 was counted as below the floor above.
                    below_floor = below_floor.saturating_sub(1);
                }
                d -= w[c];
            }
            let d = if d > 1e-12 { d } else { 0.0 };
            den[r] = d;
            if d > 0.0 {
                acc[r] /= d;
                if terms {
                    for j in 0..m {
                        z[j * n + r] /= d;
                    }
                }
            } else {
                acc[r] = 0.0;
            }
        }
    }
    if geometric && below_floor > 0 {
        let mut wn = Warning::new(
            WarningCode::GeometricFloor,
            None,
            format!(
                "geometric aggregation: {below_floor} indicator scores below the floor {floor} were raised to it"
            ),
        );
        wn.count = below_floor;
        warnings.push(wn);
    }
    let raw_scores: Vec<f64> = if geometric {
        acc.iter()
            .enumerate()
            .map(|(r, l)| {
                if den.get(r).is_some_and(|d| *d <= 0.0) {
                    0.0
                } else {
                    l.exp()
                }
            })
            .collect()
    } else {
        acc.clone()
    };
    if geometric {
        // Contributions: each indicator's share of the log score, applied to the score.
        for (j, col) in z.chunks_mut(n).enumerate().take(m) {
            for (r, t) in col.iter_mut().enumerate() {
                let l = acc[r];
                let d = den.get(r).copied().unwrap_or(1.0);
                *t = if d <= 0.0 {
                    0.0
                } else if l.abs() > 1e-300 {
                    raw_scores[r] * *t / l
                } else if is_excluded(&excl_rows, &excl_start, &excl_cols, r, j) {
                    0.0
                } else {
                    raw_scores[r] * w[j] / d
                };
            }
        }
    }

    let scale = 10f64.powi(settings.score_decimals as i32);
    let keys: Vec<u64> = raw_scores.iter().map(|&s| quantize(s, scale)).collect();
    let scores: Vec<f64> = keys.iter().map(|&k| k as f64 / scale).collect();
    let mut sorter = RadixSorter::default();
    let (skeys, order) = sorter.sort_desc(keys.iter().enumerate().map(|(i, &k)| (k, i as u32)));
    let mut ranks = vec![0u32; n];
    competition_ranks(skeys, order, &mut ranks);
    let sc = scopes(input, settings.quota_scope_for(framework));
    let mut unit_ranks = vec![0u32; n];
    group_ranks(skeys, order, &sc.unit_of, sc.units, &mut unit_ranks);

    let scale_used = settings.scale_for(framework);
    let thresholds = settings.thresholds_for(framework);
    let tkeys = thresholds.map(|t| quantize(t, scale));
    let level_of = |k: u64| -> u8 { tkeys.iter().position(|&t| k >= t).map_or(3, |l| l as u8) };

    // The quota over those eligible for the top grade.
    let k: Vec<u32> = sc
        .assessed
        .iter()
        .map(|&a| quota_k(settings.quota_share, a))
        .collect();
    let mut quota = QuotaState::new(k.clone());
    let mut top = vec![TopOutcome::NotEligible; n];
    quota.award(
        skeys,
        order,
        tkeys[0],
        |i| block[i] == Block::None,
        &sc.of,
        &mut top,
    );

    // Vetoes by person: indicator vetoes (framework order), then input facts.
    let mut veto_ids: Vec<Vec<String>> = vec![Vec::new(); n];
    for &(r, j) in &vetoes {
        veto_ids[r as usize].push(framework.indicators()[j as usize].id.clone());
    }
    let mut flags = gathered
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p));
    let mut grades = Vec::with_capacity(n);
    let mut rules = Vec::with_capacity(n);
    for i in 0..n {
        let facts = &input.people[i].facts;
        let mut ids = std::mem::take(&mut veto_ids[i]);
        ids.extend(facts.vetoes.iter().cloned());
        for id in &ids {
            flags[i].push(format!("veto:{id}"));
        }
        let grade = |level: u8| {
            Some(Grade {
                scale: scale_used,
                level,
            })
        };
        let level = level_of(keys[i]);
        let (g, rule) = if facts.blocks.sanction_in_effect {
            (None, Rule::BlockedSanctionInEffect)
        } else if let Some(first) = ids.into_iter().next() {
            (grade(3), Rule::Veto(first))
        } else if level > 0 {
            (grade(level), Rule::Threshold)
        } else {
            match (block[i], top[i]) {
                (Block::Warning, _) => (grade(1), Rule::BlockedWarning),
                (Block::RoutinePoor, _) => (grade(1), Rule::BlockedRoutinePoor),
                (_, TopOutcome::Top) => (grade(0), Rule::Threshold),
                (_, TopOutcome::Tie) => {
                    flags[i].push("committee_review".to_owned());
                    (grade(1), Rule::QuotaTieCommittee)
                }
                _ => (grade(1), Rule::Quota),
            }
        };
        grades.push(g);
        rules.push(rule);
    }

    let mut lines: Vec<QuotaLine> = sc
        .names
        .iter()
        .zip(&sc.assessed)
        .zip(&k)
        .map(|((name, &assessed), &k)| QuotaLine {
            scope: name.clone(),
            assessed,
            k,
            eligible: 0,
            awarded: 0,
            lowest_awarded: None,
            committee: 0,
            tie_score: None,
        })
        .collect();
    for i in 0..n {
        let line = &mut lines[sc.of[i] as usize];
        match top[i] {
            TopOutcome::NotEligible => continue,
            TopOutcome::Top => {
                line.awarded += 1;
                line.lowest_awarded = Some(
                    line.lowest_awarded
                        .map_or(scores[i], |s: f64| s.min(scores[i])),
                );
            }
            TopOutcome::Tie => {
                line.committee += 1;
                line.tie_score = Some(scores[i]);
            }
            TopOutcome::Quota => {}
        }
        line.eligible += 1;
    }

    let contributions = if settings.keep_contributions {
        Some(Matrix::from_col_major(n, m, z)?)
    } else {
        None
    };
    Ok(Assessment {
        framework_id: framework.id().to_owned(),
        framework_version: framework.version().to_owned(),
        scale: scale_used,
        thresholds,
        indicator_ids: framework
            .indicators()
            .iter()
            .map(|i| i.id.clone())
            .collect(),
        effective_weights: w,
        scores,
        ranks,
        unit_ranks,
        grades,
        rules,
        flags,
        contributions,
        quota_lines: lines,
        warnings,
    })
}

fn is_excluded(rows: &[u32], start: &[u32], cols: &[u32], r: usize, j: usize) -> bool {
    match rows.binary_search(&(r as u32)) {
        Ok(k) => cols[start[k] as usize..start[k + 1] as usize].contains(&(j as u32)),
        Err(_) => false,
    }
}
