//! The scoring engine of kaohe (考核): indicator values in, scores, ranks and grades out.
//!
//! The engine is pure: no IO, no async, no database. It follows the composite-indicator practice
//! of the OECD/JRC *Handbook on Constructing Composite Indicators*:
//!
//! 1. A [`Framework`] (考核指标体系) is a versioned tree of dimensions (维度) and indicators (指标),
//!    read from TOML ([`Framework::from_toml_str`]); `docs/frameworks.md` documents the format.
//!    Three documented [`presets`] ship in the binary.
//! 2. Each indicator is normalized to 0–100 ([`normalize`]); negative (反向) indicators are
//!    mirrored; missing values follow a declared rule.
//! 3. Weights are explicit, from AHP pairwise comparisons or from entropy ([`weights`]), and
//!    multiply down the tree into effective weights.
//! 4. Scores aggregate arithmetically or geometrically, each with its per-indicator contributions.
//! 5. Grades follow thresholds, blocks, vetoes and the top-grade quota, with ties at the quota line
//!    left to the assessment committee ([`assess()`]). Every grade carries the [`Rule`] that set it.
//! 6. Rank uncertainty comes from a seeded, reproducible Monte Carlo ([`monte_carlo()`]); rating
//!    averages are shrunk toward their group ([`shrink`]); satisfaction figures of public
//!    ratings (好差评) are computed and shrunk in [`ratings`].
//!
//! Results are index-aligned with the rows of the [`Input`]: person `i` of the input is entry `i`
//! of every per-person vector of the [`Assessment`].

pub mod assess;
pub mod error;
pub mod framework;
pub mod grading;
pub mod input;
pub mod montecarlo;
pub mod normalize;
pub mod presets;
pub mod ratings;
pub mod settings;
pub mod shrink;
pub mod weights;

mod prepare;
mod rank;
mod tomlpath;

pub use assess::{Assessment, QuotaLine, Warning, WarningCode, assess};
pub use error::{EngineError, FrameworkError, Issue};
pub use framework::{
    Aggregation, Dimension, Direction, Framework, Growth, Indicator, Latent, MissingRule, Shrink,
    Veto, VetoOp, Weighting,
};
pub use grading::{Grade, Rule};
pub use input::{Facts, History, Input, Matrix, Person};
pub use montecarlo::{RankUncertainty, monte_carlo};
pub use normalize::Normalization;
pub use settings::{MethodChoice, MonteCarloSettings, QuotaScope, Settings, WeightNoise};
pub use weights::AhpReport;

/// Re-exported from `kaohe-domain`, where grade scales and grade blocks are defined.
pub use kaohe_domain::{GradeBlocks, GradeScale};
