//! Settings of an assessment. Every number has a default taken from the regulations or, where
//! they are silent, a documented kaohe default (see docs/frameworks.md).

use crate::error::EngineError;
use crate::framework::{Framework, valid_thresholds};
use crate::grading::default_thresholds;
use kaohe_domain::GradeScale;
use serde::{Deserialize, Serialize};

/// Where the top-grade quota is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaScope {
    /// Per unit (the default): `k` per unit from the number assessed in it.
    #[default]
    Unit,
    /// Across everyone assessed together.
    All,
}

/// Noise put on the weights in each Monte Carlo draw, applied to each group of siblings and
/// multiplied down the tree.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum WeightNoise {
    /// No weight noise (only the normalization method varies, if several are given).
    None,
    /// Each local weight times `1 + U(−fraction, +fraction)`, then renormalized.
    Uniform {
        /// Relative half-width, e.g. 0.2 for ±20%.
        fraction: f64,
    },
    /// Local weights drawn from a Dirichlet distribution with parameters
    /// `concentration × n × w` (mean `w`; larger concentration, less noise).
    Dirichlet {
        /// Concentration per item.
        concentration: f64,
    },
}

impl Default for WeightNoise {
    fn default() -> Self {
        WeightNoise::Uniform { fraction: 0.2 }
    }
}

/// Normalization methods a Monte Carlo draw may pick from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodChoice {
    /// Each indicator's declared method.
    Declared,
    /// Min-max for every indicator.
    #[serde(rename = "minmax")]
    MinMax,
    /// Z-score (T-score) for every indicator.
    #[serde(rename = "zscore")]
    ZScore,
    /// Percentile rank for every indicator.
    Rank,
}

/// Monte Carlo settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonteCarloSettings {
    /// Number of draws (default 1,000).
    pub draws: usize,
    /// Seed of the ChaCha random number generator (default 0).
    pub seed: u64,
    /// Weight noise (default ±20% uniform).
    pub noise: WeightNoise,
    /// Normalization methods drawn uniformly per draw (default: the declared ones only).
    pub methods: Vec<MethodChoice>,
    /// Worker threads, 0 = up to 2 (the result does not depend on it).
    pub threads: usize,
}

impl Default for MonteCarloSettings {
    fn default() -> Self {
        Self {
            draws: 1000,
            seed: 0,
            noise: WeightNoise::default(),
            methods: vec![MethodChoice::Declared],
            threads: 0,
        }
    }
}

/// Settings of an assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Grade scale; `None` = the framework's.
    pub scale: Option<GradeScale>,
    /// Thresholds of levels 0, 1, 2; `None` = the framework's (which default per scale).
    pub thresholds: Option<[f64; 3]>,
    /// Top-grade quota share (default 0.20): `k = floor(share × assessed in scope)`.
    pub quota_share: f64,
    /// Quota scope; `None` = the framework's (which defaults to per unit).
    pub quota_scope: Option<QuotaScope>,
    /// Routine 较差 results allowed before the top grade is ruled out: more than this many
    /// blocks it (default 1, so two or more block).
    pub max_routine_poor: u32,
    /// Decimals scores are rounded to before ranking and grading (default 4): scores equal at
    /// this precision are ties.
    pub score_decimals: u32,
    /// Keep the per-indicator contributions (default true).
    pub keep_contributions: bool,
    /// Example people listed per warning (default 20).
    pub warning_examples: usize,
    /// Monte Carlo settings.
    pub monte_carlo: MonteCarloSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            scale: None,
            thresholds: None,
            quota_share: 0.20,
            quota_scope: None,
            max_routine_poor: 1,
            score_decimals: 4,
            keep_contributions: true,
            warning_examples: 20,
            monte_carlo: MonteCarloSettings::default(),
        }
    }
}

impl Settings {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |m: String| Err(EngineError::Settings(m));
        if !(0.0..=1.0).contains(&self.quota_share) {
            return bad(format!(
                "quota_share {} must be within 0–1",
                self.quota_share
            ));
        }
        if let Some(t) = self.thresholds
            && !valid_thresholds(t)
        {
            return bad(format!(
                "thresholds {t:?} must be within 0–100 and not increasing"
            ));
        }
        if self.score_decimals > 9 {
            return bad("score_decimals must be at most 9".into());
        }
        match self.monte_carlo.noise {
            WeightNoise::Uniform { fraction } if !(0.0..1.0).contains(&fraction) => {
                return bad(format!(
                    "uniform noise fraction {fraction} must be within [0, 1)"
                ));
            }
            WeightNoise::Dirichlet { concentration }
                if !(concentration > 0.0 && concentration.is_finite()) =>
            {
                return bad("Dirichlet concentration must be > 0".into());
            }
            _ => {}
        }
        Ok(())
    }

    /// The scale in force: the setting or the framework's.
    pub fn scale_for(&self, fw: &Framework) -> GradeScale {
        self.scale.unwrap_or(fw.scale())
    }

    /// The quota scope in force: the setting or the framework's.
    pub fn quota_scope_for(&self, fw: &Framework) -> QuotaScope {
        self.quota_scope.unwrap_or(fw.quota_scope())
    }

    /// The thresholds in force: the setting; else the framework's when the scale is the
    /// framework's; else the default of the scale.
    pub fn thresholds_for(&self, fw: &Framework) -> [f64; 3] {
        match (self.thresholds, self.scale) {
            (Some(t), _) => t,
            (None, Some(s)) if s != fw.scale() => default_thresholds(s),
            _ => fw.thresholds(),
        }
    }
}
