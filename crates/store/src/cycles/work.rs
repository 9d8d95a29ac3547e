//! The steps of a cycle's life, for the web layer and the CLI alike: store framework versions,
//! create a cycle from the organization data, import and gather values, compute through the
//! scoring engine, record committee decisions, finalize and amend. Each step checks the rule
//! of `kaohe_domain::cycles`, then writes one transaction with its audit entry.

use super::{
    CyclePerson, NewCycle, NewFramework, PersonValues, ResultRow, RevisionKind, StoredDecision,
    StoredFramework, origin_text,
};
use crate::{Store, StoreError};
use async_trait::async_trait;
use kaohe_domain::access::{FourEyesError, check_four_eyes};
use kaohe_domain::audit::action;
use kaohe_domain::cycles::{
    Action, CycleError, CycleKind, CycleState, Decision, Period, QuotaTie, ValueOrigin, ValueTable,
    check_name, check_reason, check_tie_decisions, scope_people,
};
use kaohe_domain::{Code, GradeBlocks, Labeled, NewAuditEntry, SanctionPeriods, UnitTree};
use kaohe_engine::{Framework, Input, Matrix, Person, QuotaScope, Settings};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Why a step of a cycle was refused or failed. Nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum CycleRunError {
    /// The store failed or refused (a conflict names what came first).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A rule of cycles refused the step.
    #[error(transparent)]
    Rule(#[from] CycleError),
    /// No cycle with this id.
    #[error("no cycle {0}")]
    NoCycle(i64),
    /// The framework file or version is not usable.
    #[error("{0}")]
    Framework(String),
    /// The values given do not fit the cycle; every problem is listed.
    #[error("the values do not fit cycle {cycle} ({} problems):\n  {}", problems.len(), problems.join("\n  "))]
    Values {
        /// The cycle.
        cycle: i64,
        /// Each problem, with its row and column where there is one.
        problems: Vec<String>,
    },
    /// Units of the scope that do not exist.
    #[error("the scope names units that do not exist: {}", .0.join(", "))]
    UnknownUnits(Vec<String>),
    /// The engine refused the input.
    #[error("cannot compute: {0}")]
    Engine(#[from] kaohe_engine::EngineError),
    /// The engine's thread ended without an answer.
    #[error("the computation stopped: {0}")]
    Worker(#[from] tokio::task::JoinError),
    /// Finalizing needs a decision on every tie at a quota line.
    #[error("the committee has not decided {} tied people yet: {}", .0.len(), .0.join(", "))]
    Undecided(Vec<String>),
    /// Whoever computed the result under review may not decide on it or finalize it.
    #[error(transparent)]
    FourEyes(#[from] FourEyesError),
}

/// A source of indicator values of a cycle's people: ratings (好差评) and records (纪实) of
/// the cycle's period, and the polls (民主测评) held for the cycle. Cycles know this interface,
/// not the capabilities behind it; the binary wires the sources in.
#[async_trait]
pub trait ValueSource: Send + Sync {
    /// Where its values come from.
    fn origin(&self) -> ValueOrigin;
    /// The column ids it can fill for a cycle of `framework`; a cycle takes those its
    /// framework names.
    fn columns(&self, framework: &Framework) -> Vec<String>;
    /// Values of `people` of `cycle` (in its period, or from what was held for it), one per
    /// column of [`ValueSource::columns`] (`None`: nothing to say for that person). People it
    /// knows nothing of may be left out. An error stops the gathering with its message (a
    /// poll of the cycle still open, say).
    async fn gather(
        &self,
        store: &dyn Store,
        framework: &Framework,
        people: &[Code],
        cycle: &super::Cycle,
    ) -> Result<Vec<PersonValues>, StoreError>;
}

/// Settings of computing a cycle.
#[derive(Debug, Clone)]
pub struct ComputeOptions {
    /// Monte Carlo draws for rank intervals (0: none).
    pub draws: usize,
    /// Seed of the draws.
    pub seed: u64,
    /// Top-grade quota share; `None` = the engine's default (20%).
    pub quota_share: Option<f64>,
    /// Routine 较差 results allowed before 优秀 is ruled out; `None` = the engine's default.
    pub max_routine_poor: Option<u32>,
    /// Sanction periods, to tell which sanctions are in effect.
    pub sanction_periods: SanctionPeriods,
    /// A compute mark older than this many seconds is taken as left by a crash.
    pub stale_after: i64,
}

impl Default for ComputeOptions {
    fn default() -> Self {
        Self {
            draws: 200,
            seed: 0,
            quota_share: None,
            max_routine_poor: None,
            sanction_periods: SanctionPeriods::default(),
            stale_after: 3600,
        }
    }
}

impl ComputeOptions {
    /// Engine settings of a cycle of `kind`.
    pub fn settings(&self, kind: CycleKind) -> Settings {
        let mut s = Settings {
            scale: Some(kind.scale()),
            keep_contributions: true,
            ..Settings::default()
        };
        if let Some(q) = self.quota_share {
            s.quota_share = q;
        }
        if let Some(m) = self.max_routine_poor {
            s.max_routine_poor = m;
        }
        s
    }
}

/// Parses a framework's TOML, listing every problem at once.
pub fn parse_framework(source: &str) -> Result<Framework, CycleRunError> {
    Framework::from_toml_str(source).map_err(|e| CycleRunError::Framework(e.to_string()))
}

/// The value columns of a framework: its indicators, then the auxiliary columns they name
/// (rating counts of shrunk averages).
pub fn columns_of(fw: &Framework) -> Vec<String> {
    let mut cols: Vec<String> = fw.indicator_ids().iter().map(|s| (*s).to_owned()).collect();
    for i in fw.indicators() {
        if let Some(s) = &i.shrink
            && !cols.contains(&s.count)
        {
            cols.push(s.count.clone());
        }
    }
    cols
}

/// Stores a framework version from its TOML (`origin`: `preset` or `upload`); `Ok(false)`
/// when the same version with the same content is stored already.
pub async fn save_framework(
    store: &dyn Store,
    source: &str,
    origin: &str,
    actor: &str,
) -> Result<(Framework, bool), CycleRunError> {
    let fw = parse_framework(source)?;
    let new = NewFramework {
        id: fw.id().to_owned(),
        version: fw.version().to_owned(),
        name: fw.name().to_owned(),
        source: source.to_owned(),
        origin: origin.to_owned(),
    };
    let audit = NewAuditEntry::new(
        actor,
        action::FRAMEWORK_STORED,
        format!("framework:{}@{}", new.id, new.version),
    )
    .after(serde_json::json!({"name": new.name, "origin": origin}).to_string());
    let stored = store.save_framework(&new, &audit).await?;
    Ok((fw, stored))
}

/// Stores every built-in preset that is not stored yet; returns how many were stored.
pub async fn store_presets(store: &dyn Store, actor: &str) -> Result<usize, CycleRunError> {
    let mut n = 0;
    for p in kaohe_engine::presets::all() {
        if save_framework(store, p.source, "preset", actor).await?.1 {
            n += 1;
        }
    }
    Ok(n)
}

/// A stored framework version, parsed.
pub async fn load_framework(
    store: &dyn Store,
    id: &str,
    version: &str,
) -> Result<(StoredFramework, Framework), CycleRunError> {
    let stored = store.framework(id, version).await?.ok_or_else(|| {
        CycleRunError::Framework(format!("no framework {id} version {version} is stored"))
    })?;
    let fw = parse_framework(&stored.source)?;
    Ok((stored, fw))
}

/// What a new cycle is to be.
#[derive(Debug, Clone)]
pub struct CycleSpec {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: CycleKind,
    /// First day.
    pub start: time::Date,
    /// Last day.
    pub end: time::Date,
    /// Framework id.
    pub framework_id: String,
    /// Framework version; `None` = the latest stored.
    pub framework_version: Option<String>,
    /// Units of the scope (each with everything under it).
    pub units: Vec<Code>,
}

/// Creates a cycle in draft: checks the name and the period, finds the framework version and
/// takes the people of the scope as of the period's end from the organization data.
pub async fn create(
    store: &dyn Store,
    spec: &CycleSpec,
    actor: &str,
) -> Result<i64, CycleRunError> {
    let name = check_name(&spec.name)?;
    let period = Period::new(spec.kind, spec.start, spec.end)?;
    if spec.units.is_empty() {
        return Err(CycleError::EmptyScope.into());
    }
    let version = match &spec.framework_version {
        Some(v) => v.clone(),
        None => store
            .frameworks()
            .await?
            .into_iter()
            .filter(|f| f.id == spec.framework_id)
            .max_by_key(|f| f.created_at)
            .map(|f| f.version)
            .ok_or_else(|| {
                CycleRunError::Framework(format!(
                    "no framework {} is stored (kaohe framework presets lists the built-in ones)",
                    spec.framework_id
                ))
            })?,
    };
    let (_, fw) = load_framework(store, &spec.framework_id, &version).await?;
    let all_units = store.all_units().await?;
    let tree = UnitTree::new(&all_units);
    let names: HashMap<&Code, &str> = all_units
        .iter()
        .map(|u| (&u.code, u.name.as_str()))
        .collect();
    let mut missing = Vec::new();
    for u in &spec.units {
        if !names.contains_key(u) {
            missing.push(u.to_string());
        }
    }
    if !missing.is_empty() {
        return Err(CycleRunError::UnknownUnits(missing));
    }
    let named: BTreeSet<&Code> = spec.units.iter().collect();
    let in_scope: BTreeSet<Code> = all_units
        .iter()
        .filter(|u| {
            named.contains(&u.code) || tree.ancestors(&u.code).iter().any(|a| named.contains(a))
        })
        .map(|u| u.code.clone())
        .collect();
    let cadres = store.all_cadres().await?;
    let appointments = store.all_appointments().await?;
    let scope = scope_people(
        &in_scope,
        cadres.iter().map(|c| {
            (
                &c.id,
                &c.unit,
                c.status == kaohe_domain::CadreStatus::Active,
            )
        }),
        &appointments,
        period,
    );
    let by_id: HashMap<&Code, &kaohe_domain::Cadre> = cadres.iter().map(|c| (&c.id, c)).collect();
    let people: Vec<CyclePerson> = scope
        .people
        .iter()
        .filter_map(|p| {
            let c = by_id.get(&p.cadre)?;
            Some(CyclePerson {
                cadre: p.cadre.clone(),
                name: c.name.clone(),
                unit: p.unit.clone(),
                unit_name: names
                    .get(&p.unit)
                    .map_or_else(String::new, |n| (*n).to_owned()),
                is_leader: c.is_leader,
            })
        })
        .collect();
    let new = NewCycle {
        name: name.clone(),
        kind: spec.kind,
        period,
        framework: (spec.framework_id.clone(), version.clone()),
        columns: columns_of(&fw),
        units: spec.units.clone(),
        people,
        changes: scope.changes,
    };
    let audit = NewAuditEntry::new(actor, action::CYCLE_CREATED, "cycle").after(
        serde_json::json!({
            "name": name,
            "kind": spec.kind.code(),
            "period": [period.start.to_string(), period.end.to_string()],
            "framework": [spec.framework_id, version],
            "units": spec.units.iter().map(Code::as_str).collect::<Vec<_>>(),
            "people": new.people.len(),
        })
        .to_string(),
    );
    Ok(store.create_cycle(&new, &audit).await?)
}

async fn cycle_of(store: &dyn Store, id: i64) -> Result<super::Cycle, CycleRunError> {
    store.cycle(id).await?.ok_or(CycleRunError::NoCycle(id))
}

fn step_audit(
    actor: &str,
    action: Action,
    id: i64,
    from: CycleState,
    to: CycleState,
) -> NewAuditEntry {
    NewAuditEntry::new(actor, action::of_cycle(action), format!("cycle:{id}"))
        .before(serde_json::json!({"state": from.code()}).to_string())
        .after(serde_json::json!({"state": to.code()}).to_string())
}

/// The steps that only move a cycle's state: the others (compute, decide, finalize, amend)
/// have their own function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateStep {
    /// Open a draft for collecting (开始采集).
    Open,
    /// Hand a computed result to the committee (提交审议).
    SubmitReview,
}

impl StateStep {
    /// The action this step is.
    pub fn action(self) -> Action {
        match self {
            StateStep::Open => Action::Open,
            StateStep::SubmitReview => Action::SubmitReview,
        }
    }
}

/// Opens a draft for collecting, or submits a computed result to the committee.
pub async fn advance(
    store: &dyn Store,
    id: i64,
    step: StateStep,
    actor: &str,
) -> Result<CycleState, CycleRunError> {
    let cycle = cycle_of(store, id).await?;
    let action = step.action();
    let to = action.check(cycle.state)?;
    store
        .set_cycle_state(
            id,
            cycle.state,
            to,
            &step_audit(actor, action, id, cycle.state, to),
        )
        .await?;
    Ok(to)
}

/// The column of `cycle` a file's header names: an indicator by its id or its name in the
/// framework, or an auxiliary column by its id.
pub fn column_named(cycle: &super::Cycle, fw: &Framework, header: &str) -> Option<String> {
    fw.indicators()
        .iter()
        .find(|i| i.id == header || i.name == header)
        .map(|i| i.id.clone())
        .or_else(|| cycle.columns.iter().find(|c| *c == header).cloned())
}

/// Checks `table` against the cycle: every column a column of the cycle's framework, every
/// person in its scope (and in the unit given). All problems are listed at once.
fn align(
    cycle: &super::Cycle,
    people: &[CyclePerson],
    table: &ValueTable,
) -> Result<Vec<PersonValues>, CycleRunError> {
    let mut problems = Vec::new();
    let at: Vec<Option<usize>> = table
        .columns
        .iter()
        .map(|c| {
            let p = cycle.columns.iter().position(|k| k == c);
            if p.is_none() {
                problems.push(format!(
                    "{}: column {c:?} is not an indicator of framework {} version {}",
                    table.file, cycle.framework_id, cycle.framework_version
                ));
            }
            p
        })
        .collect();
    let index: HashMap<&str, &CyclePerson> = people.iter().map(|p| (p.cadre.as_str(), p)).collect();
    let mut out = Vec::with_capacity(table.people.len());
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(table.people.len());
    for (i, id) in table.people.iter().enumerate() {
        let row = table.rows.get(i).copied().unwrap_or(i + 2);
        if let Some(prev) = seen.insert(id.as_str(), row) {
            problems.push(format!(
                "{} row {row}, person_id: {id:?} is already given in row {prev}",
                table.file
            ));
            continue;
        }
        let Some(p) = index.get(id.as_str()) else {
            problems.push(format!(
                "{} row {row}, person_id: {id:?} is not in the scope of cycle {} ({})",
                table.file, cycle.id, cycle.name
            ));
            continue;
        };
        if let Some(Some(u)) = table.units.get(i)
            && u != p.unit.as_str()
        {
            problems.push(format!(
                "{} row {row}, unit_id: {id} serves in {} ({}) at the period's end, not {u}",
                table.file, p.unit, p.unit_name
            ));
            continue;
        }
        let mut vals = vec![None; cycle.columns.len()];
        for (j, c) in at.iter().enumerate() {
            if let (Some(c), Some(v)) = (c, table.values[i].get(j)) {
                vals[*c] = *v;
            }
        }
        out.push((p.cadre.clone(), vals));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(CycleRunError::Values {
            cycle: cycle.id,
            problems,
        })
    }
}

/// Imports a values file into a cycle that is collecting (or computed: the result then needs
/// computing again). A person given again replaces their earlier imported values.
pub async fn import_values(
    store: &dyn Store,
    id: i64,
    table: &ValueTable,
    actor: &str,
) -> Result<usize, CycleRunError> {
    let cycle = cycle_of(store, id).await?;
    Action::ImportValues.check(cycle.state)?;
    let people = store.cycle_people(id).await?;
    let rows = align(&cycle, &people, table)?;
    let audit = NewAuditEntry::new(actor, action::CYCLE_IMPORT_VALUES, format!("cycle:{id}"))
        .after(
            serde_json::json!({"file": table.file, "people": rows.len(), "columns": table.columns})
                .to_string(),
        );
    let origin = origin_text(ValueOrigin::Import, None);
    store
        .put_values(
            id,
            Action::ImportValues.allowed_in(),
            &origin,
            &rows,
            &audit,
        )
        .await?;
    Ok(rows.len())
}

/// Records the unit leader's judgement (单位主要负责人评价) of people of routine cycle `id`:
/// each judgement becomes the value of the framework's judgement indicator
/// ([`kaohe_domain::cycles::JUDGEMENT_COLUMN`]), kept under its own origin, replacing an earlier
/// judgement of the same person. Whose people a leader may judge is the caller's check.
pub async fn judge(
    store: &dyn Store,
    id: i64,
    judgements: &[(Code, kaohe_domain::RoutineGrade)],
    actor: &str,
) -> Result<usize, CycleRunError> {
    use kaohe_domain::cycles::{JUDGEMENT_COLUMN, judgement_value};
    let cycle = cycle_of(store, id).await?;
    Action::ImportValues.check(cycle.state)?;
    let Some(col) = cycle.columns.iter().position(|c| c == JUDGEMENT_COLUMN) else {
        return Err(CycleRunError::Framework(format!(
            "the framework of cycle {id} has no indicator {JUDGEMENT_COLUMN} for the unit leader's judgement"
        )));
    };
    let people: BTreeSet<Code> = store
        .cycle_people(id)
        .await?
        .into_iter()
        .map(|p| p.cadre)
        .collect();
    let outside: Vec<String> = judgements
        .iter()
        .filter(|(c, _)| !people.contains(c))
        .map(|(c, _)| format!("{c} is not assessed by this cycle"))
        .collect();
    if !outside.is_empty() {
        return Err(CycleRunError::Values {
            cycle: id,
            problems: outside,
        });
    }
    let rows: Vec<PersonValues> = judgements
        .iter()
        .map(|(cadre, grade)| {
            let mut row = vec![None; cycle.columns.len()];
            row[col] = Some(judgement_value(*grade));
            (cadre.clone(), row)
        })
        .collect();
    let audit = NewAuditEntry::new(actor, action::CYCLE_JUDGE, format!("cycle:{id}")).after(
        serde_json::json!({
            "judgements": judgements.iter().map(|(c, g)| (c.to_string(), g.code())).collect::<BTreeMap<_, _>>(),
        })
        .to_string(),
    );
    store
        .put_values(
            id,
            Action::ImportValues.allowed_in(),
            &origin_text(ValueOrigin::Judgement, None),
            &rows,
            &audit,
        )
        .await?;
    Ok(rows.len())
}

/// The unit leader's judgements stored in cycle `id`, by person.
pub async fn judgements(
    store: &dyn Store,
    id: i64,
) -> Result<HashMap<Code, kaohe_domain::RoutineGrade>, CycleRunError> {
    use kaohe_domain::cycles::{JUDGEMENT_COLUMN, judgement_of};
    let cycle = cycle_of(store, id).await?;
    let Some(col) = cycle.columns.iter().position(|c| c == JUDGEMENT_COLUMN) else {
        return Ok(HashMap::new());
    };
    let origin = origin_text(ValueOrigin::Judgement, None);
    Ok(store
        .cycle_values(id)
        .await?
        .into_iter()
        .filter(|r| r.origin == origin)
        .filter_map(|r| {
            let g = judgement_of(r.values.get(col).copied().flatten()?)?;
            Some((r.cadre, g))
        })
        .collect())
}

/// What a computation gave.
#[derive(Debug, Clone)]
pub struct Computed {
    /// The revision stored.
    pub revision: i64,
    /// People assessed.
    pub people: usize,
    /// Count per grade level (index 4: no grade).
    pub grades: [usize; 5],
    /// People tied at a quota line.
    pub ties: usize,
    /// Engine warnings, in words.
    pub warnings: Vec<String>,
}

/// The engine's input of a cycle: its people (by cadre id), facts from the database, and the
/// values of every origin (gathered, overridden by imported files, then by amendments in order).
async fn input_of(
    store: &dyn Store,
    cycle: &super::Cycle,
    people: &[CyclePerson],
    opts: &ComputeOptions,
) -> Result<Input, CycleRunError> {
    let n = people.len();
    let index: HashMap<&Code, usize> = people
        .iter()
        .enumerate()
        .map(|(i, p)| (&p.cadre, i))
        .collect();
    let mut rows = store.cycle_values(cycle.id).await?;
    // Precedence, lowest first: gathered sources, then imported files (a value a person
    // gave on purpose), then amendments by revision.
    let rank = |o: &str| -> (u8, i64) {
        match o.split_once(':') {
            Some(("amendment", r)) => (2, r.parse().unwrap_or(0)),
            _ if o == "import" => (1, 0),
            _ => (0, 0),
        }
    };
    rows.sort_by_key(|r| rank(&r.origin));
    let cols = cycle.columns.len();
    let mut matrix = Matrix::missing(n, cols);
    for r in &rows {
        if let Some(&i) = index.get(&r.cadre) {
            for (c, v) in r.values.iter().enumerate().take(cols) {
                if v.is_some() {
                    matrix.set(i, c, *v);
                }
            }
        }
    }
    let mut persons: Vec<Person> = people
        .iter()
        .map(|p| Person::new(p.cadre.as_str(), p.unit.as_str()))
        .collect();
    if cycle.kind == CycleKind::Annual {
        let year = cycle.period.assessed_year();
        let mut sanctions: HashMap<Code, Vec<kaohe_domain::Sanction>> = HashMap::new();
        for s in store.all_sanctions().await? {
            sanctions.entry(s.cadre.clone()).or_default().push(s);
        }
        let routine = store.routine_grades(cycle.period).await?;
        let poor_level = 3usize;
        for (p, person) in people.iter().zip(persons.iter_mut()) {
            if let Some(list) = sanctions.get(&p.cadre) {
                person.facts.blocks = GradeBlocks::from_sanctions(
                    list,
                    year,
                    cycle.period.end,
                    &opts.sanction_periods,
                );
            }
        }
        for (cadre, grade) in routine {
            if grade.map(usize::from) == Some(poor_level)
                && let Some(&i) = index.get(&cadre)
            {
                persons[i].facts.routine_poor += 1;
            }
        }
    }
    Ok(Input::new(persons, cycle.columns.clone(), matrix))
}

/// The engine's input of cycle `id` as a computation would read it now (without gathering
/// the sources again), with the number of people: for `kaohe cycle input`, to check a result
/// with `kaohe assess`.
pub async fn engine_input(
    store: &dyn Store,
    id: i64,
    opts: &ComputeOptions,
) -> Result<(usize, Input), CycleRunError> {
    let cycle = cycle_of(store, id).await?;
    let people = store.cycle_people(id).await?;
    Ok((people.len(), input_of(store, &cycle, &people, opts).await?))
}

/// Gathers the values of every source whose columns the cycle's framework names, and stores
/// them under the source's origin (replacing what it gave before).
async fn gather(
    store: &dyn Store,
    cycle: &super::Cycle,
    fw: &Framework,
    people: &[CyclePerson],
    sources: &[Arc<dyn ValueSource>],
    actor: &str,
) -> Result<(), CycleRunError> {
    let ids: Vec<Code> = people.iter().map(|p| p.cadre.clone()).collect();
    for source in sources {
        let cols = source.columns(fw);
        let wanted: Vec<(usize, usize)> = cols
            .iter()
            .enumerate()
            .filter_map(|(j, c)| cycle.columns.iter().position(|k| k == c).map(|k| (j, k)))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let got = source.gather(store, fw, &ids, cycle).await?;
        let rows: Vec<PersonValues> = got
            .into_iter()
            .map(|(cadre, vals)| {
                let mut row = vec![None; cycle.columns.len()];
                for &(j, k) in &wanted {
                    row[k] = vals.get(j).copied().flatten();
                }
                (cadre, row)
            })
            .collect();
        let origin = origin_text(source.origin(), None);
        let audit =
            NewAuditEntry::new(actor, action::CYCLE_GATHERED, format!("cycle:{}", cycle.id))
                .after(serde_json::json!({"origin": origin, "people": rows.len()}).to_string());
        store
            .put_values(
                cycle.id,
                Action::Compute.allowed_in(),
                &origin,
                &rows,
                &audit,
            )
            .await?;
    }
    Ok(())
}

/// Runs the engine on `input` on a blocking thread and turns its answer into result rows and
/// the revision's summary.
async fn run_engine(
    fw: Framework,
    input: Input,
    settings: Settings,
    opts: &ComputeOptions,
    people: &[CyclePerson],
) -> Result<(Vec<ResultRow>, String, Vec<String>), CycleRunError> {
    let (draws, seed) = (opts.draws, opts.seed);
    let (result, ranks) = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let result = kaohe_engine::assess(&fw, &input, &settings)?;
        let assessed = started.elapsed();
        let ranks = if draws > 0 {
            Some(kaohe_engine::monte_carlo(
                &fw, &input, &settings, draws, seed,
            )?)
        } else {
            None
        };
        tracing::debug!(
            assess_s = assessed.as_secs_f64(),
            draws_s = (started.elapsed() - assessed).as_secs_f64(),
            "engine"
        );
        Ok::<_, kaohe_engine::EngineError>((result, ranks))
    })
    .await??;
    let rows = people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let r = ranks.as_ref().and_then(|r| r.get(i));
            ResultRow {
                cadre: p.cadre.clone(),
                name: p.name.clone(),
                unit: p.unit.clone(),
                unit_name: p.unit_name.clone(),
                score: result.scores[i],
                rank: result.ranks[i],
                rank_in_unit: result.unit_ranks[i],
                grade_level: result.grades[i].map(|g| g.level),
                rule: result.rules[i].code().into_owned(),
                flags: result.flags[i].clone(),
                median_rank: r.map(|r| r.median_rank),
                p05: r.map(|r| r.p05),
                p95: r.map(|r| r.p95),
                p_top: r.map(|r| r.p_top_grade),
                // Kept at the precision of the score: what explains a score needs no more, and
                // a province's contributions stay a few dozen megabytes.
                contributions: result
                    .contributions_of(i)
                    .into_iter()
                    .map(|(_, v)| (v * 1e4).round() / 1e4)
                    .collect(),
            }
        })
        .collect();
    let warnings = result.warnings.iter().map(|w| w.message.clone()).collect();
    let summary = serde_json::json!({
        "framework_id": result.framework_id,
        "framework_version": result.framework_version,
        "scale": result.scale.code(),
        "thresholds": result.thresholds,
        "indicators": result.indicator_ids,
        "effective_weights": result.effective_weights,
        "quota_lines": result.quota_lines,
        "warnings": result.warnings,
        "draws": draws,
        "seed": seed,
    })
    .to_string();
    Ok((rows, summary, warnings))
}

fn tally(rows: &[ResultRow]) -> ([usize; 5], usize) {
    let mut grades = [0usize; 5];
    let mut ties = 0;
    for r in rows {
        grades[r.grade_level.map_or(4, |g| usize::from(g.min(3)))] += 1;
        if r.rule == TIE_RULE {
            ties += 1;
        }
    }
    (grades, ties)
}

/// The engine's rule of a tie across the quota line.
pub const TIE_RULE: &str = "quota_tie_committee";

/// Whether the assessment committee (考核委员会) has to look at a result: a tie across the
/// quota line, or a flag that asks for its judgement — a veto (一票否决), a review (研判) or the
/// engine's `committee_review`. Flags about the data (a missing or implausible value, no
/// baseline, an unshrunk rate) are the assessor's, shown with the result.
pub fn for_committee(r: &ResultRow) -> bool {
    r.rule == TIE_RULE
        || r.flags
            .iter()
            .any(|f| f == "committee_review" || f.starts_with("veto:") || f.starts_with("review:"))
}

/// Holds the compute mark of a cycle while a computation runs.
struct ComputeMark<'a> {
    store: &'a dyn Store,
    id: i64,
    token: String,
}

impl<'a> ComputeMark<'a> {
    async fn take(
        store: &'a dyn Store,
        id: i64,
        opts: &ComputeOptions,
    ) -> Result<Self, CycleRunError> {
        static TAKEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let at = time::OffsetDateTime::now_utc();
        // Unique per process and call: the mark only tells this computation from another.
        let token = format!(
            "{}-{}-{}",
            std::process::id(),
            at.unix_timestamp_nanos(),
            TAKEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let now = at.unix_timestamp();
        store
            .begin_compute(id, &token, now, opts.stale_after)
            .await?;
        Ok(Self { store, id, token })
    }

    async fn release(self) {
        if let Err(e) = self.store.end_compute(self.id, &self.token).await {
            tracing::warn!(cycle = self.id, error = %e, "cannot clear the compute mark");
        }
    }
}

/// Computes a cycle that is collecting or computed: gathers the sources, runs the engine and
/// stores the result as a new revision. A second computation of the same cycle while one runs
/// is refused.
pub async fn compute(
    store: &dyn Store,
    id: i64,
    sources: &[Arc<dyn ValueSource>],
    opts: &ComputeOptions,
    actor: &str,
) -> Result<Computed, CycleRunError> {
    let cycle = cycle_of(store, id).await?;
    Action::Compute.check(cycle.state)?;
    let mark = ComputeMark::take(store, id, opts).await?;
    let result = compute_marked(store, &cycle, sources, opts, actor).await;
    mark.release().await;
    result
}

async fn compute_marked(
    store: &dyn Store,
    cycle: &super::Cycle,
    sources: &[Arc<dyn ValueSource>],
    opts: &ComputeOptions,
    actor: &str,
) -> Result<Computed, CycleRunError> {
    let started = std::time::Instant::now();
    let (_, fw) = load_framework(store, &cycle.framework_id, &cycle.framework_version).await?;
    let people = store.cycle_people(cycle.id).await?;
    gather(store, cycle, &fw, &people, sources, actor).await?;
    let gathered = started.elapsed();
    let input = input_of(store, cycle, &people, opts).await?;
    let read = started.elapsed();
    let settings = opts.settings(cycle.kind);
    let (rows, summary, warnings) = run_engine(fw, input, settings, opts, &people).await?;
    let engine = started.elapsed();
    let (grades, ties) = tally(&rows);
    let audit = NewAuditEntry::new(actor, action::CYCLE_COMPUTE, format!("cycle:{}", cycle.id))
        .before(serde_json::json!({"state": cycle.state.code(), "revision": cycle.revision}).to_string())
        .after(serde_json::json!({"state": "computed", "people": rows.len(), "grades": grades, "ties": ties}).to_string());
    let revision = store
        .save_revision(
            cycle.id,
            cycle.state,
            CycleState::Computed,
            RevisionKind::Compute,
            None,
            &summary,
            &rows,
            &audit,
        )
        .await?;
    tracing::debug!(
        cycle = cycle.id,
        gather_s = gathered.as_secs_f64(),
        read_s = (read - gathered).as_secs_f64(),
        engine_s = (engine - read).as_secs_f64(),
        store_s = (started.elapsed() - engine).as_secs_f64(),
        "cycle computed"
    );
    Ok(Computed {
        revision,
        people: rows.len(),
        grades,
        ties,
        warnings,
    })
}

/// A quota line as the revision's summary gives it.
#[derive(Debug, Clone, serde::Deserialize)]
struct SummaryLine {
    scope: String,
    k: u32,
    awarded: usize,
}

#[derive(Debug, Clone, serde::Deserialize)]
struct SummaryLines {
    #[serde(default)]
    quota_lines: Vec<SummaryLine>,
}

/// The ties of a revision, one per quota line with people tied across it.
pub fn ties_of(rows: &[ResultRow], summary: &str, scope: QuotaScope) -> Vec<QuotaTie> {
    let lines: Vec<SummaryLine> = serde_json::from_str::<SummaryLines>(summary)
        .map(|s| s.quota_lines)
        .unwrap_or_default();
    let mut by_scope: BTreeMap<String, Vec<Code>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.rule == TIE_RULE) {
        let key = match scope {
            QuotaScope::Unit => r.unit.to_string(),
            QuotaScope::All => "*".to_owned(),
        };
        by_scope.entry(key).or_default().push(r.cadre.clone());
    }
    by_scope
        .into_iter()
        .map(|(scope, tied)| {
            let line = lines.iter().find(|l| l.scope == scope);
            QuotaTie {
                k: line.map_or(0, |l| l.k),
                awarded: line.map_or(0, |l| u32::try_from(l.awarded).unwrap_or(u32::MAX)),
                scope,
                tied,
            }
        })
        .collect()
}

/// The latest decision per person on `revision`.
pub fn latest_decisions(
    decisions: &[StoredDecision],
    revision: i64,
) -> BTreeMap<Code, &StoredDecision> {
    let mut out = BTreeMap::new();
    for d in decisions.iter().filter(|d| d.revision == revision) {
        out.insert(d.cadre.clone(), d);
    }
    out
}

/// Records a committee decision on the current revision of a cycle under review: an award or
/// not for a person tied at a quota line (the quota holds with every decision taken so far),
/// or a confirmation of a flagged person's grade. The reason is required, and whoever computed
/// the result may not decide on it (four eyes).
pub async fn decide(
    store: &dyn Store,
    id: i64,
    cadre: &Code,
    decision: Decision,
    reason: &str,
    actor: &str,
) -> Result<(), CycleRunError> {
    let cycle = cycle_of(store, id).await?;
    Action::Decide.check(cycle.state)?;
    let reason = check_reason(reason)?;
    let rows = store.results(id, cycle.revision).await?;
    let revision = store
        .revisions(id)
        .await?
        .into_iter()
        .find(|r| r.revision == cycle.revision)
        .ok_or(CycleRunError::NoCycle(id))?;
    check_four_eyes([revision.created_by.as_str()], actor)?;
    let (_, fw) = load_framework(store, &cycle.framework_id, &cycle.framework_version).await?;
    let row = rows
        .iter()
        .find(|r| &r.cadre == cadre)
        .ok_or_else(|| CycleError::NotPending {
            person: cadre.clone(),
        })?;
    if row.rule == TIE_RULE {
        let ties = ties_of(&rows, &revision.summary, fw.quota_scope());
        let tie = ties
            .iter()
            .find(|t| t.tied.contains(cadre))
            .ok_or_else(|| CycleError::NotPending {
                person: cadre.clone(),
            })?;
        let decisions = store.decisions(id).await?;
        let mut current: BTreeMap<Code, Decision> = latest_decisions(&decisions, cycle.revision)
            .into_iter()
            .filter(|(c, _)| tie.tied.contains(c))
            .map(|(c, d)| (c, d.decision))
            .collect();
        current.insert(cadre.clone(), decision);
        check_tie_decisions(tie, &current)?;
    } else if row.flags.is_empty() || decision != Decision::Confirm {
        return Err(CycleError::NotPending {
            person: cadre.clone(),
        }
        .into());
    }
    let audit = NewAuditEntry::new(actor, action::CYCLE_DECIDE, format!("cycle:{id}/{cadre}")).after(
        serde_json::json!({"revision": cycle.revision, "decision": decision.code(), "reason": reason}).to_string(),
    );
    store
        .record_decision(id, cycle.revision, cadre, decision, &reason, &audit)
        .await?;
    Ok(())
}

/// Applies the committee's decisions on ties to result rows: an award gives the top grade
/// (rule `committee:award_top`), a refusal keeps the next one (`committee:keep_next`).
/// Returns the people still undecided.
fn apply_decisions(
    rows: &mut [ResultRow],
    decisions: &BTreeMap<Code, &StoredDecision>,
) -> Vec<String> {
    let mut undecided = Vec::new();
    for r in rows.iter_mut().filter(|r| r.rule == TIE_RULE) {
        match decisions.get(&r.cadre).map(|d| d.decision) {
            Some(Decision::AwardTop) => {
                r.grade_level = Some(0);
                r.rule = "committee:award_top".to_owned();
            }
            Some(Decision::KeepNext) => r.rule = "committee:keep_next".to_owned(),
            _ => undecided.push(format!("{} ({})", r.name, r.cadre)),
        }
    }
    undecided
}

/// Locks a cycle under review: the current result with the committee's decisions becomes the
/// final revision. Refused while a tie at a quota line is undecided, and to whoever computed
/// the result (four eyes).
pub async fn finalize(store: &dyn Store, id: i64, actor: &str) -> Result<i64, CycleRunError> {
    let cycle = cycle_of(store, id).await?;
    Action::Finalize.check(cycle.state)?;
    let mut rows = store.results(id, cycle.revision).await?;
    let revision = store
        .revisions(id)
        .await?
        .into_iter()
        .find(|r| r.revision == cycle.revision)
        .ok_or(CycleRunError::NoCycle(id))?;
    check_four_eyes([revision.created_by.as_str()], actor)?;
    let (_, fw) = load_framework(store, &cycle.framework_id, &cycle.framework_version).await?;
    let decisions = store.decisions(id).await?;
    let latest = latest_decisions(&decisions, cycle.revision);
    for tie in ties_of(&rows, &revision.summary, fw.quota_scope()) {
        let chosen: BTreeMap<Code, Decision> = latest
            .iter()
            .filter(|(c, _)| tie.tied.contains(c))
            .map(|(c, d)| (c.clone(), d.decision))
            .collect();
        check_tie_decisions(&tie, &chosen)?;
    }
    let undecided = apply_decisions(&mut rows, &latest);
    if !undecided.is_empty() {
        return Err(CycleRunError::Undecided(undecided));
    }
    let (grades, _) = tally(&rows);
    let audit = NewAuditEntry::new(actor, action::CYCLE_FINALIZE, format!("cycle:{id}"))
        .before(serde_json::json!({"state": "review", "revision": cycle.revision}).to_string())
        .after(
            serde_json::json!({"state": "final", "grades": grades, "decisions": latest.len()})
                .to_string(),
        );
    Ok(store
        .save_revision(
            id,
            CycleState::Review,
            CycleState::Final,
            RevisionKind::Final,
            None,
            &revision.summary,
            &rows,
            &audit,
        )
        .await?)
}

/// What an amendment changed, person by person.
#[derive(Debug, Clone)]
pub struct Amended {
    /// The amendment's revision.
    pub revision: i64,
    /// The revision it corrects.
    pub corrects: i64,
    /// People whose score, rank or grade changed: (cadre, before, after).
    pub changed: Vec<(Code, ResultRow, ResultRow)>,
}

/// Corrects a final cycle by amendment: the corrected values (if any) are stored as the
/// amendment's own, the whole cycle is recomputed, the committee's decisions still apply to
/// those still tied, and the new result is stored as a locked revision beside the one it
/// corrects. The reason is required.
pub async fn amend(
    store: &dyn Store,
    id: i64,
    corrections: Option<&ValueTable>,
    reason: &str,
    opts: &ComputeOptions,
    actor: &str,
) -> Result<Amended, CycleRunError> {
    let cycle = cycle_of(store, id).await?;
    Action::Amend.check(cycle.state)?;
    let reason = check_reason(reason)?;
    let mark = ComputeMark::take(store, id, opts).await?;
    let result = amend_marked(store, &cycle, corrections, &reason, opts, actor).await;
    mark.release().await;
    result
}

async fn amend_marked(
    store: &dyn Store,
    cycle: &super::Cycle,
    corrections: Option<&ValueTable>,
    reason: &str,
    opts: &ComputeOptions,
    actor: &str,
) -> Result<Amended, CycleRunError> {
    let id = cycle.id;
    let people = store.cycle_people(id).await?;
    let next = cycle.revision + 1;
    let rows = match corrections {
        Some(table) => Some(align(cycle, &people, table)?),
        None => None,
    };
    let (_, fw) = load_framework(store, &cycle.framework_id, &cycle.framework_version).await?;
    let scope = fw.quota_scope();
    let before = store.results(id, cycle.revision).await?;
    let mut input = input_of(store, cycle, &people, opts).await?;
    if let Some(rows) = &rows {
        let index: HashMap<&Code, usize> = people
            .iter()
            .enumerate()
            .map(|(i, p)| (&p.cadre, i))
            .collect();
        for (cadre, vals) in rows {
            if let Some(&i) = index.get(cadre) {
                for (c, v) in vals.iter().enumerate() {
                    if v.is_some() {
                        input.values.set(i, c, *v);
                    }
                }
            }
        }
    }
    let (mut after, summary, _) =
        run_engine(fw, input, opts.settings(cycle.kind), opts, &people).await?;
    // The decisions behind the final revision still hold for those still tied, as far as the
    // quota allows; the others wait, flagged, for the committee.
    let decisions = store.decisions(id).await?;
    let decided_on = decisions.iter().map(|d| d.revision).max().unwrap_or(0);
    let latest = latest_decisions(&decisions, decided_on);
    let mut kept: BTreeMap<Code, &StoredDecision> = BTreeMap::new();
    for tie in ties_of(&after, &summary, scope) {
        let chosen: BTreeMap<Code, Decision> = latest
            .iter()
            .filter(|(c, _)| tie.tied.contains(c))
            .map(|(c, d)| (c.clone(), d.decision))
            .collect();
        if check_tie_decisions(&tie, &chosen).is_ok() {
            kept.extend(
                latest
                    .iter()
                    .filter(|(c, _)| tie.tied.contains(c))
                    .map(|(c, d)| (c.clone(), *d)),
            );
        }
    }
    for c in apply_decisions(&mut after, &kept) {
        tracing::info!(cycle = id, person = %c, "amendment leaves a tie for the committee");
    }
    for r in after.iter_mut().filter(|r| r.rule == TIE_RULE) {
        if !r.flags.iter().any(|f| f == "committee_review") {
            r.flags.push("committee_review".to_owned());
        }
    }
    let old: HashMap<&Code, &ResultRow> = before.iter().map(|r| (&r.cadre, r)).collect();
    let changed: Vec<(Code, ResultRow, ResultRow)> = after
        .iter()
        .filter_map(|a| {
            let b = old.get(&a.cadre)?;
            (b.score.to_bits() != a.score.to_bits()
                || b.rank != a.rank
                || b.grade_level != a.grade_level
                || b.rule != a.rule)
                .then(|| (a.cadre.clone(), (*b).clone(), a.clone()))
        })
        .collect();
    let diff = |pick: fn(&(Code, ResultRow, ResultRow)) -> &ResultRow| {
        serde_json::Value::Array(
            changed
                .iter()
                .map(|c| {
                    let r = pick(c);
                    serde_json::json!({"cadre": c.0.as_str(), "score": r.score, "rank": r.rank, "grade_level": r.grade_level, "rule": r.rule})
                })
                .collect(),
        )
    };
    let audit = NewAuditEntry::new(actor, action::CYCLE_AMEND, format!("cycle:{id}"))
        .before(
            serde_json::json!({"revision": cycle.revision, "people": diff(|c| &c.1)}).to_string(),
        )
        .after(
            serde_json::json!({"revision": next, "reason": reason, "people": diff(|c| &c.2)})
                .to_string(),
        );
    if let Some(rows) = &rows {
        let origin = origin_text(ValueOrigin::Amendment, Some(next));
        let values_audit =
            NewAuditEntry::new(actor, action::CYCLE_AMENDMENT_VALUES, format!("cycle:{id}"))
                .after(serde_json::json!({"origin": origin, "people": rows.len()}).to_string());
        store
            .put_values(id, &[CycleState::Final], &origin, rows, &values_audit)
            .await?;
    }
    let revision = store
        .save_revision(
            id,
            CycleState::Final,
            CycleState::Final,
            RevisionKind::Amendment,
            Some(reason),
            &summary,
            &after,
            &audit,
        )
        .await?;
    Ok(Amended {
        revision,
        corrects: cycle.revision,
        changed,
    })
}

/// What is missing of one indicator in a cycle.
#[derive(Debug, Clone)]
pub struct MissingColumn {
    /// Column id.
    pub column: String,
    /// Its name in the framework (the id for auxiliary columns).
    pub name: String,
    /// People without a value.
    pub missing: usize,
    /// What the missing-value rule does, in words.
    pub rule: &'static str,
    /// Who is missing it (cadre ids, at most 50).
    pub people: Vec<Code>,
}

/// The completeness of a cycle's values: per column, who is missing it and what the rule
/// will do about it.
pub async fn completeness(
    store: &dyn Store,
    id: i64,
) -> Result<(usize, Vec<MissingColumn>), CycleRunError> {
    let cycle = cycle_of(store, id).await?;
    let (_, fw) = load_framework(store, &cycle.framework_id, &cycle.framework_version).await?;
    let people = store.cycle_people(id).await?;
    let input = input_of(store, &cycle, &people, &ComputeOptions::default()).await?;
    let mut out = Vec::new();
    for (c, col) in cycle.columns.iter().enumerate() {
        let values = input.values.column(c);
        let who: Vec<Code> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_nan())
            .map(|(i, _)| people[i].cadre.clone())
            .collect();
        let ind = fw.indicators().iter().find(|i| &i.id == col);
        out.push(MissingColumn {
            column: col.clone(),
            name: ind.map_or_else(|| col.clone(), |i| i.name.clone()),
            missing: who.len(),
            rule: ind.map_or(
                "辅助列：缺失时不收缩 (auxiliary: no shrinkage when missing)",
                |i| missing_rule_words(i.missing),
            ),
            people: who.into_iter().take(50).collect(),
        });
    }
    Ok((people.len(), out))
}

/// A missing-value rule in words (Chinese, then English).
pub fn missing_rule_words(rule: kaohe_engine::MissingRule) -> &'static str {
    use kaohe_engine::MissingRule as M;
    match rule {
        M::Reweight => {
            "不计该项，其余指标按权重重新分配 (left out; the other weights are rescaled)"
        }
        M::Zero => "按 0 分计 (scored 0)",
        M::Mean => "按已有人员的平均得分计 (scored the mean of those observed)",
        M::Min => "按已有人员的最低得分计 (scored the lowest observed)",
        M::Error => "缺失即拒绝计算 (computing is refused)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(rule: &str, flags: &[&str]) -> ResultRow {
        ResultRow {
            cadre: Code::parse("C1").expect("valid"),
            name: "甲".into(),
            unit: Code::parse("U1").expect("valid"),
            unit_name: "单位".into(),
            score: 80.0,
            rank: 1,
            rank_in_unit: 1,
            grade_level: Some(1),
            rule: rule.into(),
            flags: flags.iter().map(|f| (*f).to_owned()).collect(),
            median_rank: None,
            p05: None,
            p95: None,
            p_top: None,
            contributions: Vec::new(),
        }
    }

    #[test]
    fn the_committee_looks_at_ties_vetoes_and_reviews_not_at_data_flags() {
        assert!(for_committee(&result(TIE_RULE, &[])));
        for flag in [
            "veto:lian_violations",
            "review:poll_adjustment_review",
            "committee_review",
        ] {
            assert!(for_committee(&result("threshold", &[flag])), "{flag}");
        }
        for flag in [
            "missing:de_poll",
            "outside:qin_attendance",
            "no_baseline:x",
            "unshrunk:y",
        ] {
            assert!(!for_committee(&result("threshold", &[flag])), "{flag}");
        }
        assert!(!for_committee(&result("threshold", &[])));
    }
}
