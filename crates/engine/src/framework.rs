//! Framework files (考核指标体系): a versioned tree of dimensions and indicators in TOML.
//!
//! `docs/frameworks.md` documents the format with a full annotated example. Reading a file
//! validates it completely; every problem is reported with its line and key path.

use crate::error::{FrameworkError, Issue};
use crate::normalize::Normalization;
use crate::settings::QuotaScope;
use crate::tomlpath::{blank_line, element_of, key_path_at, line_col, set_aside, table_at};
use crate::weights::{AhpReport, MAX_CONSISTENCY_RATIO, ahp};
use kaohe_domain::records::RecordKind;
use kaohe_domain::{GradeScale, Labeled};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt::Write as _;
use toml::Spanned;

/// Polarity of an indicator: whether more is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// 正向: higher is better.
    #[serde(alias = "正向", alias = "+")]
    Positive,
    /// 反向: lower is better; scores are mirrored.
    #[serde(alias = "反向", alias = "-")]
    Negative,
}

/// What happens to a missing value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingRule {
    /// Leave the indicator out for that person and renormalize the remaining weights
    /// (the default: a gap in the data neither punishes nor rewards).
    #[default]
    Reweight,
    /// Score 0.
    Zero,
    /// The mean normalized score of those observed.
    Mean,
    /// The lowest normalized score observed.
    Min,
    /// Refuse to assess.
    Error,
}

/// How indicator scores are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Weighted arithmetic mean: full compensation between indicators.
    #[default]
    Arithmetic,
    /// Weighted geometric mean: weak results are compensated less.
    Geometric,
}

/// How the children of a node are weighted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Weighting {
    /// Each child's `weight`, normalized to sum 1 among siblings.
    Explicit,
    /// Equal weights.
    Equal,
    /// AHP from a pairwise comparison matrix.
    Ahp(AhpReport),
    /// Entropy weights computed from the data at assessment time (indicator children only).
    Entropy,
}

impl Weighting {
    /// Method name as written in framework files.
    pub fn method(&self) -> &'static str {
        match self {
            Weighting::Explicit => "explicit",
            Weighting::Equal => "equal",
            Weighting::Ahp(_) => "ahp",
            Weighting::Entropy => "entropy",
        }
    }
}

/// Growth scoring against a baseline period, capped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Growth {
    /// Share of the indicator score that comes from growth (0 < share ≤ 1); the rest is level.
    pub share: f64,
    /// Growth rate in percent that earns the full growth score; faster growth earns nothing
    /// extra.
    pub cap: f64,
    /// Growth rate in percent that scores 0 (default 0: decline earns nothing).
    #[serde(default)]
    pub floor: f64,
}

/// Latent (潜功) credit: the value is blended with its multi-year average.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latent {
    /// Years in the window, the assessed year included (≥ 2).
    pub window: usize,
    /// Weight of the window average in the blended value (0 < share ≤ 1).
    pub share: f64,
}

/// Comparison of a veto.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VetoOp {
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `==`
    #[serde(rename = "==")]
    Eq,
}

/// One-vote veto (一票否决): a value meeting the condition gives the worst grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Veto {
    /// Comparison.
    pub when: VetoOp,
    /// Value compared with.
    pub value: f64,
    /// Why, for people (e.g. 发生重大生产安全事故).
    #[serde(default)]
    pub reason: Option<String>,
}

impl Veto {
    /// Whether a reported value triggers the veto (missing values never do).
    pub fn triggers(&self, x: f64) -> bool {
        if x.is_nan() {
            return false;
        }
        match self.when {
            VetoOp::Gt => x > self.value,
            VetoOp::Ge => x >= self.value,
            VetoOp::Lt => x < self.value,
            VetoOp::Le => x <= self.value,
            VetoOp::Eq => x == self.value,
        }
    }
}

/// Bayesian shrinkage of a rating average toward the group mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shrink {
    /// Input column holding the number of ratings behind each average.
    pub count: String,
    /// Prior strength: how many ratings the prior counts as.
    pub strength: f64,
    /// Prior mean; default the rating-weighted mean of the whole input.
    #[serde(default)]
    pub prior: Option<f64>,
}

/// How dated work records (纪实) fill an indicator: each record carries points within
/// [`RecordRule::points`]; the indicator's value over a period is [`RecordRule::base`] plus the
/// points of the records that count, a record adding when its kind agrees with the indicator's
/// direction (a positive record to a positive indicator, a negative record — a finding — to a
/// negative one) and subtracting otherwise, the sum kept within [`RecordRule::total`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRule {
    /// Smallest and largest points of one record (both positive).
    pub points: [f64; 2],
    /// The value with no record (default 0).
    #[serde(default)]
    pub base: f64,
    /// Lowest and highest value the records can bring the indicator to (the caps).
    pub total: [f64; 2],
    /// Kinds of record the indicator takes (default both).
    #[serde(default = "both_kinds")]
    pub kinds: Vec<RecordKind>,
}

fn both_kinds() -> Vec<RecordKind> {
    vec![RecordKind::Positive, RecordKind::Negative]
}

/// Why a record does not fit its indicator's rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordRuleError {
    /// The indicator takes no records at all.
    #[error("indicator `{0}` is not filled by records")]
    NoRecords(String),
    /// A kind the indicator does not take.
    #[error("indicator `{indicator}` takes no {kind} records")]
    Kind {
        /// The indicator.
        indicator: String,
        /// The kind refused.
        kind: RecordKind,
    },
    /// Points outside the allowed range.
    #[error("points: {points} is outside the range {min}–{max} of indicator `{indicator}`")]
    Points {
        /// The indicator.
        indicator: String,
        /// The points given.
        points: f64,
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
}

impl RecordRule {
    /// Whether a record of `kind` with `points` fits the rule of `indicator`.
    pub fn check(
        &self,
        indicator: &str,
        kind: RecordKind,
        points: f64,
    ) -> Result<(), RecordRuleError> {
        if !self.kinds.contains(&kind) {
            return Err(RecordRuleError::Kind {
                indicator: indicator.to_owned(),
                kind,
            });
        }
        let [min, max] = self.points;
        if !(points >= min && points <= max) {
            return Err(RecordRuleError::Points {
                indicator: indicator.to_owned(),
                points,
                min,
                max,
            });
        }
        Ok(())
    }

    /// The indicator's value from the summed points of the counted records of each kind.
    pub fn value(&self, direction: Direction, positive: f64, negative: f64) -> f64 {
        let (adds, subtracts) = match direction {
            Direction::Positive => (positive, negative),
            Direction::Negative => (negative, positive),
        };
        (self.base + adds - subtracts).clamp(self.total[0], self.total[1])
    }

    /// What is wrong with the rule itself, if anything.
    fn problem(&self) -> Option<&'static str> {
        let [pmin, pmax] = self.points;
        let [tmin, tmax] = self.total;
        let finite = [pmin, pmax, tmin, tmax, self.base]
            .iter()
            .all(|v| v.is_finite());
        if !finite || pmin <= 0.0 || pmin > pmax {
            Some("records need points = [min, max] with 0 < min ≤ max")
        } else if tmin > tmax {
            Some("records need total = [lowest, highest] with lowest ≤ highest")
        } else if self.kinds.is_empty() {
            Some("records need at least one kind (positive, negative)")
        } else {
            None
        }
    }
}

/// An indicator (指标), a leaf of the tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    /// Id, also the input column name.
    pub id: String,
    /// Name (Chinese).
    pub name: String,
    /// English name.
    pub name_en: Option<String>,
    /// Unit of measure (计量单位), e.g. `%`, `μg/m³`, `分`.
    pub unit: String,
    /// Polarity.
    pub direction: Direction,
    /// Normalization method.
    pub normalization: Normalization,
    /// Missing-value rule.
    pub missing: MissingRule,
    /// Growth scoring, if any.
    pub growth: Option<Growth>,
    /// Latent credit, if any.
    pub latent: Option<Latent>,
    /// Veto, if any.
    pub veto: Option<Veto>,
    /// Committee review (研判), if any: a reported value meeting the condition flags the
    /// person for the assessment committee (`review:ID`) without changing score or grade.
    pub review: Option<Veto>,
    /// Rating shrinkage, if any.
    pub shrink: Option<Shrink>,
    /// Filled by work records (纪实), if so.
    pub records: Option<RecordRule>,
    /// Description.
    pub description: Option<String>,
    /// Source of the indicator (document, statistical yearbook table).
    pub source: Option<String>,
    /// Index of the parent dimension in [`Framework::dimensions`].
    pub dimension: usize,
    /// Weight among its siblings (sums to 1 with them; provisional equal share under entropy
    /// weighting).
    pub local_weight: f64,
}

/// A dimension (维度), an inner node of the tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dimension {
    /// Id.
    pub id: String,
    /// Name (Chinese).
    pub name: String,
    /// English name.
    pub name_en: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Parent dimension, `None` at the top level.
    pub parent: Option<usize>,
    /// How this dimension's children are weighted.
    pub weighting: Weighting,
    /// Weight among its siblings.
    pub local_weight: f64,
}

/// A validated framework.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Framework {
    id: String,
    version: String,
    name: String,
    name_en: Option<String>,
    description: Option<String>,
    sources: Vec<String>,
    aggregation: Aggregation,
    geometric_floor: f64,
    scale: GradeScale,
    thresholds: [f64; 3],
    quota_scope: QuotaScope,
    weighting: Weighting,
    dimensions: Vec<Dimension>,
    indicators: Vec<Indicator>,
}

impl Framework {
    /// Reads and validates a framework file, listing every problem at once. A `key = value`
    /// line that does not read (a wrong type, an unknown key or value) is reported and blanked,
    /// a table that does not read otherwise (broken syntax, a missing key) is reported and set
    /// aside whole, and the reading goes on with the rest; the checks of what is left then add
    /// their problems, except those that may come from what was blanked or set aside
    /// ([`follows_from`]).
    pub fn from_toml_str(src: &str) -> Result<Self, FrameworkError> {
        let mut text = src.to_owned();
        let mut issues = Vec::new();
        let mut aside: Vec<String> = Vec::new();
        let mut touched: Vec<String> = Vec::new();
        loop {
            match toml::from_str::<RawFile>(&text) {
                Ok(raw) => {
                    let built = Builder {
                        src,
                        issues: Vec::new(),
                        ids: HashSet::new(),
                        dimensions: Vec::new(),
                        indicators: Vec::new(),
                    }
                    .build(raw);
                    if aside.is_empty() && touched.is_empty() && issues.is_empty() {
                        return built;
                    }
                    if let Err(e) = built {
                        for issue in e.issues {
                            let issue = rekeyed(issue, &aside);
                            if !follows_from(&issue, &aside, &touched) {
                                issues.push(issue);
                            }
                        }
                    }
                    break;
                }
                Err(e) => {
                    let start = e.span().map(|s| s.start);
                    let (line, column, key) = match start {
                        Some(start) => {
                            let (l, c) = line_col(src, start);
                            (Some(l), Some(c), key_path_at(src, start))
                        }
                        None => (None, None, String::new()),
                    };
                    let Some(start) = start else {
                        issues.push(Issue {
                            line,
                            column,
                            key,
                            message: e.message().trim().to_owned(),
                        });
                        break;
                    };
                    // The table the problem is in, named as in the whole file.
                    let owner = match table_at(&text, start) {
                        Some((header, _, true)) => {
                            let offset = src.split_inclusive('\n').take(header).map(str::len).sum();
                            key_path_at(src, offset)
                        }
                        Some((_, name, false)) => name,
                        None => String::new(),
                    };
                    let missing = e.message().starts_with("missing field");
                    // A required key blanked below is missing now: that is no new problem.
                    if !(missing && touched.contains(&owner)) {
                        issues.push(Issue {
                            line,
                            column,
                            key,
                            message: e.message().trim().to_owned(),
                        });
                    }
                    if !missing && !owner.is_empty() && blank_line(&mut text, start) {
                        touched.push(owner);
                    } else if set_aside(&mut text, start).is_some() {
                        aside.push(owner);
                    } else {
                        break;
                    }
                    if aside.len() + touched.len() >= MAX_SET_ASIDE {
                        break;
                    }
                }
            }
        }
        issues.sort_by_key(|i| (i.line.unwrap_or(usize::MAX), i.column));
        issues.dedup();
        Err(FrameworkError { issues })
    }

    /// Framework id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Version string of the framework file.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Name (Chinese).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// English name.
    pub fn name_en(&self) -> Option<&str> {
        self.name_en.as_deref()
    }

    /// Description.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Documents the framework is based on.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Aggregation method.
    pub fn aggregation(&self) -> Aggregation {
        self.aggregation
    }

    /// Lowest normalized score used in geometric aggregation (scores below are raised to it,
    /// since a zero would wipe out the whole product).
    pub fn geometric_floor(&self) -> f64 {
        self.geometric_floor
    }

    /// Grade scale declared by the framework.
    pub fn scale(&self) -> GradeScale {
        self.scale
    }

    /// Score thresholds of grade levels 0, 1 and 2 (below the last: level 3).
    pub fn thresholds(&self) -> [f64; 3] {
        self.thresholds
    }

    /// Default quota scope of the framework (`[grading] quota_scope`, default per unit).
    pub fn quota_scope(&self) -> QuotaScope {
        self.quota_scope
    }

    /// Weighting of the top-level dimensions.
    pub fn weighting(&self) -> &Weighting {
        &self.weighting
    }

    /// All dimensions, parents before children.
    pub fn dimensions(&self) -> &[Dimension] {
        &self.dimensions
    }

    /// All indicators, in file order.
    pub fn indicators(&self) -> &[Indicator] {
        &self.indicators
    }

    /// Indicator ids, in file order (the columns an input must hold).
    pub fn indicator_ids(&self) -> Vec<&str> {
        self.indicators.iter().map(|i| i.id.as_str()).collect()
    }

    /// Whether some weights depend on the data (entropy); [`Framework::effective_weights`] then
    /// shows equal provisional shares for them and the assessment reports the actual ones.
    pub fn has_data_driven_weights(&self) -> bool {
        self.dimensions
            .iter()
            .any(|d| matches!(d.weighting, Weighting::Entropy))
    }

    /// Effective weight of each indicator: the product of local weights down the tree, summing
    /// to 1.
    pub fn effective_weights(&self) -> Vec<(String, f64)> {
        let dim: Vec<f64> = self.dimensions.iter().map(|d| d.local_weight).collect();
        let ind: Vec<f64> = self.indicators.iter().map(|i| i.local_weight).collect();
        self.indicators
            .iter()
            .map(|i| i.id.clone())
            .zip(self.effective_from(&dim, &ind))
            .collect()
    }

    /// Effective weights from given local weights (dimensions, indicators), normalized to sum 1.
    pub(crate) fn effective_from(&self, dim_local: &[f64], ind_local: &[f64]) -> Vec<f64> {
        let mut dim_eff = vec![0.0; self.dimensions.len()];
        let mut w = vec![0.0; self.indicators.len()];
        self.effective_into(dim_local, ind_local, &mut dim_eff, &mut w);
        w
    }

    /// [`Framework::effective_from`] into caller buffers (no allocation).
    pub(crate) fn effective_into(
        &self,
        dim_local: &[f64],
        ind_local: &[f64],
        dim_eff: &mut [f64],
        out: &mut [f64],
    ) {
        for (k, d) in self.dimensions.iter().enumerate() {
            let parent = d.parent.map_or(1.0, |p| dim_eff[p]);
            dim_eff[k] = parent * dim_local[k];
        }
        for ((o, i), &l) in out.iter_mut().zip(&self.indicators).zip(ind_local) {
            *o = dim_eff[i.dimension] * l;
        }
        let total: f64 = out.iter().sum();
        if total > 0.0 {
            for x in out.iter_mut() {
                *x /= total;
            }
        }
    }

    /// AHP results of every node weighted by AHP.
    pub fn ahp_reports(&self) -> Vec<&AhpReport> {
        std::iter::once(&self.weighting)
            .chain(self.dimensions.iter().map(|d| &d.weighting))
            .filter_map(|w| match w {
                Weighting::Ahp(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    /// Sibling groups for weight perturbation: each group is a list of slots, where slot
    /// `k < dimensions.len()` is dimension `k` and slot `dimensions.len() + j` is indicator `j`.
    pub(crate) fn sibling_groups(&self) -> Vec<Vec<usize>> {
        let nd = self.dimensions.len();
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); nd + 1];
        for (k, d) in self.dimensions.iter().enumerate() {
            groups[d.parent.map_or(0, |p| p + 1)].push(k);
        }
        for (j, i) in self.indicators.iter().enumerate() {
            groups[i.dimension + 1].push(nd + j);
        }
        groups.retain(|g| !g.is_empty());
        groups
    }

    /// A readable outline: the tree with local and effective weights, methods and AHP figures.
    pub fn describe(&self) -> String {
        let eff = self.effective_weights();
        let mut s = String::new();
        let _ = writeln!(s, "{} {} — {}", self.id, self.version, self.name);
        if let Some(en) = &self.name_en {
            let _ = writeln!(s, "{en}");
        }
        let (code, zh, _) = self.scale.grade(0).unwrap_or(("", "", ""));
        let _ = writeln!(
            s,
            "aggregation: {:?}; scale: {} ({}…{code}); thresholds: {:?}; top-level weighting: {}",
            self.aggregation,
            self.scale.zh(),
            zh,
            self.thresholds,
            self.weighting.method()
        );
        self.describe_children(None, 1, &eff, &mut s);
        for r in self.ahp_reports() {
            let _ = writeln!(
                s,
                "AHP at {}: λmax = {:.4}, CI = {:.4}, RI = {:.2}, CR = {:.4}{}",
                r.node,
                r.lambda_max,
                r.ci,
                r.ri,
                r.cr,
                if r.overridden {
                    " (CR > 0.1 accepted explicitly)"
                } else {
                    ""
                }
            );
        }
        if self.has_data_driven_weights() {
            let _ = writeln!(
                s,
                "note: entropy weights depend on the data; the shares shown for them are provisional"
            );
        }
        s
    }

    fn describe_children(
        &self,
        parent: Option<usize>,
        depth: usize,
        eff: &[(String, f64)],
        s: &mut String,
    ) {
        let pad = "  ".repeat(depth);
        for (k, d) in self.dimensions.iter().enumerate() {
            if d.parent != parent {
                continue;
            }
            let _ = writeln!(
                s,
                "{pad}[{}] {} local {:.4} (children: {})",
                d.id,
                d.name,
                d.local_weight,
                d.weighting.method()
            );
            self.describe_children(Some(k), depth + 1, eff, s);
            for (j, i) in self.indicators.iter().enumerate() {
                if i.dimension != k {
                    continue;
                }
                let mut extra = String::new();
                if let Some(g) = i.growth {
                    let _ = write!(extra, ", growth {}% share, cap {}%", g.share * 100.0, g.cap);
                }
                if let Some(l) = i.latent {
                    let _ = write!(extra, ", latent {} years", l.window);
                }
                if let Some(v) = &i.veto {
                    let _ = write!(extra, ", veto {:?} {}", v.when, v.value);
                }
                if let Some(v) = &i.review {
                    let _ = write!(extra, ", review {:?} {}", v.when, v.value);
                }
                let _ = writeln!(
                    s,
                    "{pad}  {} {} [{}] {} {}, local {:.4}, effective {:.4}{extra}",
                    i.id,
                    i.name,
                    i.unit,
                    match i.direction {
                        Direction::Positive => "正向",
                        Direction::Negative => "反向",
                    },
                    i.normalization.method(),
                    i.local_weight,
                    eff.get(j).map_or(0.0, |e| e.1)
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Raw file schema.

/// At most this many tables are set aside while one file is read.
const MAX_SET_ASIDE: usize = 100;

/// A problem found by the checks after some tables were set aside, keyed by its place in the
/// whole file: the checks number the elements they saw, which skip those set aside.
fn rekeyed(mut issue: Issue, aside: &[String]) -> Issue {
    let mut whole = String::new();
    for (i, part) in issue.key.split('.').enumerate() {
        if i > 0 {
            whole.push('.');
        }
        let indexed = part
            .strip_suffix(']')
            .and_then(|p| p.split_once('['))
            .and_then(|(name, n)| n.parse::<usize>().ok().map(|n| (name, n)));
        match indexed {
            Some((name, n)) => {
                let seen = (0..)
                    .filter(|k| !aside.contains(&format!("{whole}{name}[{k}]")))
                    .nth(n)
                    .unwrap_or(n);
                whole.push_str(&format!("{name}[{seen}]"));
            }
            None => whole.push_str(part),
        }
    }
    issue.key = whole;
    issue
}

/// Whether a problem the checks found may come only from what was set aside or blanked: one
/// with no place in the file (a framework without indicators, all weights zero); one in a table
/// with a blanked line (a blanked weight makes a weight missing); and one about the children of
/// an element, or of the framework, that lost some of them (an empty dimension, weights all
/// zero, entropy weighting, an AHP order or matrix).
fn follows_from(issue: &Issue, aside: &[String], touched: &[String]) -> bool {
    let within = |owner: &String| {
        !owner.is_empty()
            && issue.key.starts_with(owner.as_str())
            && matches!(issue.key.as_bytes().get(owner.len()), None | Some(b'.'))
    };
    if touched.iter().any(within) {
        return true;
    }
    if aside.is_empty() {
        return false;
    }
    if issue.line.is_none() || issue.key == "dimensions" {
        return true;
    }
    let element = element_of(&issue.key);
    let parent_of_aside = aside.iter().any(|a| {
        element.is_empty()
            || (a.len() > element.len()
                && a.starts_with(element)
                && a[element.len()..].starts_with('.'))
    });
    let own = issue.key[element.len()..].trim_start_matches('.');
    let about_children = own.is_empty()
        || own.starts_with("order")
        || own.starts_with("matrix")
        || issue.message.starts_with("the weights under")
        || issue.message.starts_with("entropy weighting needs");
    parent_of_aside && about_children
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    framework: RawHeader,
    #[serde(default)]
    grading: Option<RawGrading>,
    #[serde(default)]
    dimensions: Vec<RawNode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    id: Spanned<String>,
    version: Spanned<String>,
    name: String,
    #[serde(default)]
    name_en: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    aggregation: Aggregation,
    #[serde(default)]
    geometric_floor: Option<Spanned<f64>>,
    #[serde(default)]
    weighting: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrading {
    #[serde(default)]
    scale: Option<GradeScale>,
    #[serde(default)]
    thresholds: Option<Spanned<Vec<f64>>>,
    #[serde(default)]
    quota_scope: Option<QuotaScope>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    id: Spanned<String>,
    name: String,
    #[serde(default)]
    name_en: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    weight: Option<Spanned<f64>>,
    #[serde(default)]
    weighting: Option<Spanned<toml::Value>>,
    #[serde(default)]
    dimensions: Vec<RawNode>,
    #[serde(default)]
    indicators: Vec<RawIndicator>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    id: Spanned<String>,
    name: String,
    #[serde(default)]
    name_en: Option<String>,
    unit: String,
    direction: Direction,
    #[serde(default)]
    weight: Option<Spanned<f64>>,
    #[serde(default)]
    normalization: Option<Spanned<toml::Value>>,
    #[serde(default)]
    missing: MissingRule,
    #[serde(default)]
    growth: Option<Spanned<Growth>>,
    #[serde(default)]
    latent: Option<Spanned<Latent>>,
    #[serde(default)]
    veto: Option<Spanned<Veto>>,
    #[serde(default)]
    review: Option<Spanned<Veto>>,
    #[serde(default)]
    shrink: Option<Spanned<Shrink>>,
    #[serde(default)]
    records: Option<Spanned<RecordRule>>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeighting {
    method: String,
    #[serde(default)]
    order: Vec<String>,
    #[serde(default)]
    matrix: Vec<Vec<toml::Value>>,
    #[serde(default)]
    allow_inconsistent: bool,
}

/// Parsed weighting before the children are known.
enum WeightingSpec {
    Explicit,
    Equal,
    Entropy,
    Ahp {
        order: Vec<String>,
        matrix: Vec<Vec<f64>>,
        allow_inconsistent: bool,
    },
}

// ---------------------------------------------------------------------------------------------
// Validation.

struct Builder<'a> {
    src: &'a str,
    issues: Vec<Issue>,
    ids: HashSet<String>,
    dimensions: Vec<Dimension>,
    indicators: Vec<Indicator>,
}

/// A child while its parent's weights are being settled.
struct Child {
    id: String,
    key: String,
    span: std::ops::Range<usize>,
    weight: Option<Spanned<f64>>,
    slot: Slot,
}

#[derive(Clone, Copy)]
enum Slot {
    Dim(usize),
    Ind(usize),
}

impl Builder<'_> {
    fn issue(
        &mut self,
        span: Option<&std::ops::Range<usize>>,
        key: &str,
        message: impl Into<String>,
    ) {
        let (line, column) = match span {
            Some(s) => {
                let (l, c) = line_col(self.src, s.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        self.issues.push(Issue {
            line,
            column,
            key: key.to_owned(),
            message: message.into(),
        });
    }

    fn build(mut self, raw: RawFile) -> Result<Framework, FrameworkError> {
        let h = raw.framework;
        if h.id.get_ref().trim().is_empty() {
            self.issue(Some(&h.id.span()), "framework.id", "must not be empty");
        }
        if h.version.get_ref().trim().is_empty() {
            self.issue(
                Some(&h.version.span()),
                "framework.version",
                "must not be empty",
            );
        }
        let geometric_floor = match &h.geometric_floor {
            Some(f) => {
                let v = *f.get_ref();
                if !(v > 0.0 && v <= 100.0) {
                    self.issue(
                        Some(&f.span()),
                        "framework.geometric_floor",
                        "must be within (0, 100]",
                    );
                }
                v
            }
            None => 1.0,
        };
        let (scale, thresholds) = self.grading(raw.grading.as_ref());
        let root_spec = self.weighting_spec(h.weighting.as_ref(), "framework.weighting");
        if raw.dimensions.is_empty() {
            self.issue(
                None,
                "dimensions",
                "a framework needs at least one dimension",
            );
        }
        let mut children = Vec::new();
        for (k, node) in raw.dimensions.into_iter().enumerate() {
            let key = format!("dimensions[{k}]");
            children.push(self.node(node, None, key));
        }
        let root_span = h.weighting.as_ref().map(|w| w.span());
        let weighting = self.settle(
            root_spec,
            &children,
            "framework",
            "framework.weighting",
            root_span.as_ref(),
        );
        if self.indicators.is_empty() && self.issues.is_empty() {
            self.issue(
                None,
                "dimensions",
                "a framework needs at least one indicator",
            );
        }
        let fw = Framework {
            id: h.id.into_inner(),
            version: h.version.into_inner(),
            name: h.name,
            name_en: h.name_en,
            description: h.description,
            sources: h.sources,
            aggregation: h.aggregation,
            geometric_floor,
            scale,
            thresholds,
            quota_scope: raw
                .grading
                .as_ref()
                .and_then(|g| g.quota_scope)
                .unwrap_or_default(),
            weighting,
            dimensions: self.dimensions,
            indicators: self.indicators,
        };
        if self.issues.is_empty() {
            let total: f64 = fw.effective_weights().iter().map(|w| w.1).sum();
            if total <= 0.0 {
                self.issues.push(Issue {
                    line: None,
                    column: None,
                    key: "dimensions".into(),
                    message: "all effective weights are zero".into(),
                });
            }
        }
        if self.issues.is_empty() {
            Ok(fw)
        } else {
            self.issues.sort_by_key(|i| i.line.unwrap_or(usize::MAX));
            Err(FrameworkError {
                issues: self.issues,
            })
        }
    }

    fn grading(&mut self, g: Option<&RawGrading>) -> (GradeScale, [f64; 3]) {
        let scale = g.and_then(|g| g.scale).unwrap_or(GradeScale::Annual);
        let mut thresholds = crate::grading::default_thresholds(scale);
        if let Some(t) = g.and_then(|g| g.thresholds.as_ref()) {
            match t.get_ref().as_slice() {
                &[a, b, c] if valid_thresholds([a, b, c]) => thresholds = [a, b, c],
                _ => self.issue(
                    Some(&t.span()),
                    "grading.thresholds",
                    "need three scores within 0–100, from the best grade down, not increasing",
                ),
            }
        }
        (scale, thresholds)
    }

    fn weighting_spec(&mut self, v: Option<&Spanned<toml::Value>>, key: &str) -> WeightingSpec {
        let Some(v) = v else {
            return WeightingSpec::Explicit;
        };
        let span = v.span();
        let raw = match v.get_ref() {
            toml::Value::String(s) => RawWeighting {
                method: s.clone(),
                order: Vec::new(),
                matrix: Vec::new(),
                allow_inconsistent: false,
            },
            other => match RawWeighting::deserialize(other.clone()) {
                Ok(r) => r,
                Err(e) => {
                    self.issue(Some(&span), key, e.to_string());
                    return WeightingSpec::Explicit;
                }
            },
        };
        match raw.method.as_str() {
            "explicit" => WeightingSpec::Explicit,
            "equal" => WeightingSpec::Equal,
            "entropy" => WeightingSpec::Entropy,
            "ahp" => {
                let mut matrix = Vec::new();
                for (i, row) in raw.matrix.iter().enumerate() {
                    let mut r = Vec::new();
                    for (j, x) in row.iter().enumerate() {
                        match number_or_fraction(x) {
                            Some(n) => r.push(n),
                            None => {
                                self.issue(
                                    Some(&span),
                                    &format!("{key}.matrix[{i}][{j}]"),
                                    format!("{x} is not a number or a fraction like \"1/3\""),
                                );
                                r.push(f64::NAN);
                            }
                        }
                    }
                    matrix.push(r);
                }
                WeightingSpec::Ahp {
                    order: raw.order,
                    matrix,
                    allow_inconsistent: raw.allow_inconsistent,
                }
            }
            other => {
                self.issue(
                    Some(&span),
                    key,
                    format!(
                        "unknown weighting `{other}`, expected explicit, equal, ahp or entropy"
                    ),
                );
                WeightingSpec::Explicit
            }
        }
    }

    fn check_id(&mut self, id: &Spanned<String>, key: &str) {
        let s = id.get_ref();
        let ok = !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !ok {
            self.issue(
                Some(&id.span()),
                key,
                format!("id {s:?} must be non-empty letters, digits, `_`, `-` or `.`"),
            );
        } else if !self.ids.insert(s.clone()) {
            self.issue(Some(&id.span()), key, format!("duplicate id {s:?}"));
        }
    }

    fn node(&mut self, node: RawNode, parent: Option<usize>, key: String) -> Child {
        self.check_id(&node.id, &format!("{key}.id"));
        let index = self.dimensions.len();
        let spec = self.weighting_spec(node.weighting.as_ref(), &format!("{key}.weighting"));
        self.dimensions.push(Dimension {
            id: node.id.get_ref().clone(),
            name: node.name,
            name_en: node.name_en,
            description: node.description,
            parent,
            weighting: Weighting::Explicit,
            local_weight: 0.0,
        });
        let mut children = Vec::new();
        for (k, sub) in node.dimensions.into_iter().enumerate() {
            children.push(self.node(sub, Some(index), format!("{key}.dimensions[{k}]")));
        }
        if matches!(spec, WeightingSpec::Entropy) && !children.is_empty() {
            self.issue(
                node.weighting.as_ref().map(|w| w.span()).as_ref(),
                &format!("{key}.weighting"),
                "entropy weighting needs a dimension whose children are all indicators",
            );
        }
        for (k, ind) in node.indicators.into_iter().enumerate() {
            children.push(self.indicator(ind, index, format!("{key}.indicators[{k}]")));
        }
        if children.is_empty() {
            self.issue(
                Some(&node.id.span()),
                &key,
                "a dimension needs at least one sub-dimension or indicator",
            );
        }
        let span = node.weighting.as_ref().map(|w| w.span());
        let weighting = self.settle(
            spec,
            &children,
            node.id.get_ref(),
            &format!("{key}.weighting"),
            span.as_ref(),
        );
        self.dimensions[index].weighting = weighting;
        Child {
            id: node.id.get_ref().clone(),
            key,
            span: node.id.span(),
            weight: node.weight,
            slot: Slot::Dim(index),
        }
    }

    fn indicator(&mut self, raw: RawIndicator, parent: usize, key: String) -> Child {
        self.check_id(&raw.id, &format!("{key}.id"));
        let id_span = raw.id.span();
        let normalization = match &raw.normalization {
            None => Normalization::default(),
            Some(v) => {
                let value = match v.get_ref() {
                    toml::Value::String(s) => {
                        let mut t = toml::Table::new();
                        t.insert("method".into(), toml::Value::String(s.clone()));
                        toml::Value::Table(t)
                    }
                    other => other.clone(),
                };
                match Normalization::deserialize(value) {
                    Ok(n) => n,
                    Err(e) => {
                        self.issue(
                            Some(&v.span()),
                            &format!("{key}.normalization"),
                            e.to_string(),
                        );
                        Normalization::default()
                    }
                }
            }
        };
        if let Err(msg) = normalization.check(raw.direction) {
            let span = raw
                .normalization
                .as_ref()
                .map_or(id_span.clone(), |v| v.span());
            self.issue(Some(&span), &format!("{key}.normalization"), msg);
        }
        if let Some(g) = &raw.growth {
            let v = g.get_ref();
            let share_ok = v.share > 0.0 && v.share <= 1.0;
            if !(share_ok && v.cap.is_finite() && v.floor.is_finite() && v.cap > v.floor) {
                self.issue(
                    Some(&g.span()),
                    &format!("{key}.growth"),
                    "growth needs 0 < share ≤ 1 and floor < cap (growth rates in percent)",
                );
            }
        }
        if let Some(l) = &raw.latent {
            let v = l.get_ref();
            if !((2..=30).contains(&v.window) && v.share > 0.0 && v.share <= 1.0) {
                self.issue(
                    Some(&l.span()),
                    &format!("{key}.latent"),
                    "latent credit needs a window of 2–30 years and 0 < share ≤ 1",
                );
            }
        }
        if let Some(v) = &raw.veto
            && !v.get_ref().value.is_finite()
        {
            self.issue(
                Some(&v.span()),
                &format!("{key}.veto"),
                "veto value must be finite",
            );
        }
        if let Some(v) = &raw.review
            && !v.get_ref().value.is_finite()
        {
            self.issue(
                Some(&v.span()),
                &format!("{key}.review"),
                "review value must be finite",
            );
        }
        if let Some(s) = &raw.shrink {
            let v = s.get_ref();
            if !(v.strength > 0.0 && v.strength.is_finite())
                || v.count.is_empty()
                || v.count == *raw.id.get_ref()
                || v.prior.is_some_and(|p| !p.is_finite())
            {
                self.issue(
                    Some(&s.span()),
                    &format!("{key}.shrink"),
                    "shrinkage needs strength > 0 and a count column other than the indicator itself",
                );
            }
        }
        if let Some(r) = &raw.records
            && let Some(msg) = r.get_ref().problem()
        {
            self.issue(Some(&r.span()), &format!("{key}.records"), msg);
        }
        let index = self.indicators.len();
        self.indicators.push(Indicator {
            id: raw.id.get_ref().clone(),
            name: raw.name,
            name_en: raw.name_en,
            unit: raw.unit,
            direction: raw.direction,
            normalization,
            missing: raw.missing,
            growth: raw.growth.map(Spanned::into_inner),
            latent: raw.latent.map(Spanned::into_inner),
            veto: raw.veto.map(Spanned::into_inner),
            review: raw.review.map(Spanned::into_inner),
            shrink: raw.shrink.map(Spanned::into_inner),
            records: raw.records.map(Spanned::into_inner),
            description: raw.description,
            source: raw.source,
            dimension: parent,
            local_weight: 0.0,
        });
        Child {
            id: raw.id.into_inner(),
            key,
            span: id_span,
            weight: raw.weight,
            slot: Slot::Ind(index),
        }
    }

    /// Sets the local weights of `children` per the parent's weighting; returns the weighting.
    fn settle(
        &mut self,
        spec: WeightingSpec,
        children: &[Child],
        node: &str,
        key: &str,
        span: Option<&std::ops::Range<usize>>,
    ) -> Weighting {
        let n = children.len();
        if n == 0 {
            return Weighting::Explicit;
        }
        let mut weights = vec![1.0 / n as f64; n];
        let weighting = match spec {
            WeightingSpec::Explicit => {
                for (k, c) in children.iter().enumerate() {
                    match &c.weight {
                        None => self.issue(
                            Some(&c.span),
                            &format!("{}.weight", c.key),
                            format!(
                                "`{}` needs a weight (or set weighting = \"equal\" on its parent)",
                                c.id
                            ),
                        ),
                        Some(w) => {
                            let v = *w.get_ref();
                            if !(v.is_finite() && v >= 0.0) {
                                self.issue(
                                    Some(&w.span()),
                                    &format!("{}.weight", c.key),
                                    format!("weight {v} must be a finite number ≥ 0"),
                                );
                            } else {
                                weights[k] = v;
                            }
                        }
                    }
                }
                let total: f64 = weights.iter().sum();
                if total > 0.0 {
                    for w in &mut weights {
                        *w /= total;
                    }
                } else if children.iter().all(|c| c.weight.is_some()) {
                    self.issue(
                        Some(&children[0].span),
                        key,
                        format!("the weights under `{node}` are all zero"),
                    );
                }
                Weighting::Explicit
            }
            WeightingSpec::Equal | WeightingSpec::Entropy => {
                let entropy = matches!(spec, WeightingSpec::Entropy);
                self.no_child_weights(children, if entropy { "entropy" } else { "equal" });
                if entropy {
                    Weighting::Entropy
                } else {
                    Weighting::Equal
                }
            }
            WeightingSpec::Ahp {
                order,
                matrix,
                allow_inconsistent,
            } => {
                self.no_child_weights(children, "ahp");
                let mut report = AhpReport {
                    node: node.to_owned(),
                    items: order.clone(),
                    weights: weights.clone(),
                    lambda_max: n as f64,
                    ci: 0.0,
                    ri: 0.0,
                    cr: 0.0,
                    overridden: false,
                };
                let ids: Vec<&str> = children.iter().map(|c| c.id.as_str()).collect();
                let mut sorted_order: Vec<&str> = order.iter().map(String::as_str).collect();
                sorted_order.sort_unstable();
                let mut sorted_ids = ids.clone();
                sorted_ids.sort_unstable();
                if sorted_order != sorted_ids {
                    self.issue(
                        span,
                        &format!("{key}.order"),
                        format!(
                            "AHP order must list each child of `{node}` once: {}",
                            ids.join(", ")
                        ),
                    );
                } else {
                    match ahp(&matrix) {
                        Err(e) => {
                            self.issue(span, &format!("{key}.matrix"), e.to_string());
                        }
                        Ok(r) => {
                            if r.cr > MAX_CONSISTENCY_RATIO && !allow_inconsistent {
                                self.issue(
                                    span,
                                    &format!("{key}.matrix"),
                                    format!(
                                        "consistency ratio CR = {:.4} exceeds 0.1 (λmax = {:.4}, CI = {:.4}, RI = {:.2}); revise the comparisons or set allow_inconsistent = true",
                                        r.cr, r.lambda_max, r.ci, r.ri
                                    ),
                                );
                            }
                            for (k, c) in children.iter().enumerate() {
                                if let Some(p) = order.iter().position(|o| *o == c.id) {
                                    weights[k] = r.weights[p];
                                }
                            }
                            report = AhpReport {
                                node: node.to_owned(),
                                items: order,
                                overridden: r.cr > MAX_CONSISTENCY_RATIO,
                                weights: r.weights,
                                lambda_max: r.lambda_max,
                                ci: r.ci,
                                ri: r.ri,
                                cr: r.cr,
                            };
                        }
                    }
                }
                Weighting::Ahp(report)
            }
        };
        for (c, w) in children.iter().zip(weights) {
            match c.slot {
                Slot::Dim(d) => self.dimensions[d].local_weight = w,
                Slot::Ind(i) => self.indicators[i].local_weight = w,
            }
        }
        weighting
    }

    fn no_child_weights(&mut self, children: &[Child], method: &str) {
        for c in children {
            if let Some(w) = &c.weight {
                self.issue(
                    Some(&w.span()),
                    &format!("{}.weight", c.key),
                    format!("the parent's weighting is {method}: remove this weight"),
                );
            }
        }
    }
}

fn number_or_fraction(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Float(f) => Some(*f),
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::String(s) => {
            let (a, b) = s.split_once('/')?;
            let (a, b): (f64, f64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            (b != 0.0).then(|| a / b)
        }
        _ => None,
    }
}

pub(crate) fn valid_thresholds(t: [f64; 3]) -> bool {
    t.iter().all(|x| (0.0..=100.0).contains(x)) && t[0] >= t[1] && t[1] >= t[2]
}
