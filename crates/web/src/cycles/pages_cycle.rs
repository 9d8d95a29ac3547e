//! The list of cycles with the form that creates one, and a cycle's dashboard: its state and
//! the steps the account may take now, the completeness of its values, the grade
//! distribution per unit, the changes of its scope and its revisions.
//!
//! An assessor sees a cycle when every unit of its scope lies in the assessor's units.

use super::pages_words::{self as words, Names};
use crate::org::data::{UnitNames, check_unit, units_in_scope};
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission};
use crate::shell::error::ApiError;
use crate::shell::page::{PageCtx, PageError, PageResult, location, render};
use crate::shell::params::QueryParams;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use kaohe_domain::cycles::{Action, CycleKind, CycleState};
use kaohe_domain::{Code, Labeled};
use kaohe_engine::Framework;
use kaohe_store::cycles::work::{self, CycleRunError};
use kaohe_store::cycles::{Cycle, ResultRow, RevisionKind};
use std::collections::{BTreeMap, HashSet};

/// A cycle the account may use with `permission`: every unit of its scope in its units.
pub(super) async fn load_cycle(
    state: &AppState,
    ctx: &PageCtx,
    caller: &Caller,
    id: &str,
    permission: Permission,
) -> Result<Cycle, PageError> {
    let not_found = || ctx.fail(ApiError::not_found("cycle", id));
    let number: i64 = id.parse().map_err(|_| not_found())?;
    let cycle = state
        .store
        .cycle(number)
        .await
        .map_err(|e| ctx.fail(e))?
        .ok_or_else(not_found)?;
    let store = state.store.as_ref();
    for unit in store.cycle_units(number).await.map_err(|e| ctx.fail(e))? {
        check_unit(store, caller, permission, &unit)
            .await
            .map_err(|e| ctx.fail(e))?;
    }
    Ok(cycle)
}

/// The stored framework version of a cycle, parsed.
pub(super) async fn framework_of(
    state: &AppState,
    ctx: &PageCtx,
    cycle: &Cycle,
) -> Result<Framework, PageError> {
    work::load_framework(
        state.store.as_ref(),
        &cycle.framework_id,
        &cycle.framework_version,
    )
    .await
    .map(|(_, fw)| fw)
    .map_err(|e| {
        ctx.fail(ApiError::Refused {
            code: "framework_unusable",
            reason: e.to_string(),
        })
    })
}

/// The account name of the caller, for audit entries.
pub(super) fn actor(caller: &Caller) -> String {
    caller.0.username().unwrap_or_default().to_owned()
}

/// Stores the built-in presets not stored yet, for an account that manages cycles (on its
/// first visit to the cycles or the frameworks); returns whether the account may.
pub(super) async fn presets_for(
    store: &dyn kaohe_store::Store,
    ctx: &PageCtx,
    caller: &Caller,
) -> Result<bool, PageError> {
    if !caller.0.holds(Permission::ManageCycles) {
        return Ok(false);
    }
    work::store_presets(store, &actor(caller))
        .await
        .map_err(|e| {
            ctx.fail(ApiError::Refused {
                code: "framework_unusable",
                reason: e.to_string(),
            })
        })?;
    Ok(true)
}

/// The problems of a refused step, one per line: every problem of a values file or of a
/// framework file is listed.
pub(super) fn problems(ctx: &PageCtx, error: &CycleRunError) -> Vec<String> {
    match error {
        CycleRunError::Values { problems, .. } => problems.clone(),
        CycleRunError::FourEyes(_) => vec![ctx.t("cycle.four_eyes").to_owned()],
        other => other
            .to_string()
            .lines()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect(),
    }
}

/// A redirect after a form (303).
pub(super) fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut()
        .insert(axum::http::header::LOCATION, location(to));
    r
}

/// The trimmed value of field `name` of a urlencoded form, empty when absent.
pub(super) fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.trim())
}

#[derive(Debug)]
struct CycleRow {
    href: String,
    name: String,
    kind: &'static str,
    state: &'static str,
    period: String,
    framework: String,
    people: i64,
}

#[derive(Debug)]
struct Choice {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "cycles/cycles.html")]
struct CyclesPage {
    ctx: PageCtx,
    rows: Vec<CycleRow>,
    may_create: bool,
    kinds: Vec<Choice>,
    frameworks: Vec<Choice>,
    units: Vec<Choice>,
    start: String,
    end: String,
    problems: Vec<String>,
}

/// `GET /cycles`: the cycles of the account's units, and the form that creates one.
pub(super) async fn cycles(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
) -> PageResult {
    list(&state, ctx, &caller, Vec::new(), StatusCode::OK).await
}

async fn list(
    state: &AppState,
    ctx: PageCtx,
    caller: &Caller,
    problems: Vec<String>,
    status: StatusCode,
) -> PageResult {
    let store = state.store.as_ref();
    let may_create = presets_for(store, &ctx, caller).await?;
    let visible: HashSet<Code> = units_in_scope(store, caller, Permission::ViewCycles)
        .await
        .map_err(|e| ctx.fail(e))?
        .into_iter()
        .map(|u| u.code)
        .collect();
    let frameworks = store.frameworks().await.map_err(|e| ctx.fail(e))?;
    let fw_name: BTreeMap<(String, String), String> = frameworks
        .iter()
        .map(|f| ((f.id.clone(), f.version.clone()), f.name.clone()))
        .collect();
    let mut rows = Vec::new();
    for c in store.cycles().await.map_err(|e| ctx.fail(e))? {
        let units = store.cycle_units(c.id).await.map_err(|e| ctx.fail(e))?;
        if !units.iter().all(|u| visible.contains(u)) {
            continue;
        }
        let key = (c.framework_id.clone(), c.framework_version.clone());
        rows.push(CycleRow {
            href: format!("/cycles/{}", c.id),
            name: c.name,
            kind: ctx.label(c.kind),
            state: ctx.label(c.state),
            period: format!("{} – {}", c.period.start, c.period.end),
            framework: format!(
                "{} {}",
                fw_name.get(&key).map_or(c.framework_id.as_str(), |n| n),
                c.framework_version
            ),
            people: c.people,
        });
    }
    let units = if may_create {
        let mut units = units_in_scope(store, caller, Permission::ManageCycles)
            .await
            .map_err(|e| ctx.fail(e))?;
        units.sort_by(|a, b| a.code.cmp(&b.code));
        units
            .into_iter()
            .map(|u| Choice {
                label: format!("{} {}", u.code, u.name),
                value: u.code.to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let year = state.today().year();
    let page = CyclesPage {
        rows,
        may_create,
        kinds: CycleKind::ALL
            .iter()
            .map(|k| Choice {
                value: k.code().to_owned(),
                label: ctx.label(*k).to_owned(),
            })
            .collect(),
        frameworks: frameworks
            .iter()
            .map(|f| Choice {
                value: format!("{}@{}", f.id, f.version),
                label: format!("{} · {} {}", f.name, ctx.t("framework.version"), f.version),
            })
            .collect(),
        units,
        start: format!("{year}-01-01"),
        end: format!("{year}-12-31"),
        problems,
        ctx,
    };
    Ok(render(status, &page))
}

/// `POST /cycles`: creates a cycle in draft from the form; units outside the account's scope
/// are refused.
pub(super) async fn create(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let store = state.store.as_ref();
    let mut errors = Vec::new();
    let kind = CycleKind::parse_label(field(&form, "kind"))
        .map_err(|e| errors.push(e.to_string()))
        .ok();
    let day = |name: &str, errors: &mut Vec<String>| {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(field(&form, name), &format)
            .map_err(|_| errors.push(ctx.tf("cycle.form.bad_date", &[("field", &name)])))
            .ok()
    };
    let start = day("start", &mut errors);
    let end = day("end", &mut errors);
    let (framework_id, version) = match field(&form, "framework").split_once('@') {
        Some((id, v)) => (id.to_owned(), Some(v.to_owned())),
        None => (field(&form, "framework").to_owned(), None),
    };
    let mut units = Vec::new();
    for (_, v) in form.iter().filter(|(n, v)| n == "unit" && !v.is_empty()) {
        match Code::parse(v.trim()) {
            Ok(code) => {
                check_unit(store, &caller, Permission::ManageCycles, &code)
                    .await
                    .map_err(|e| ctx.fail(e))?;
                units.push(code);
            }
            Err(e) => errors.push(format!("unit: {e}")),
        }
    }
    if units.is_empty() {
        errors.push(ctx.t("cycle.form.no_unit").to_owned());
    }
    let (Some(kind), Some(start), Some(end), true) = (kind, start, end, errors.is_empty()) else {
        return list(
            &state,
            ctx,
            &caller,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let spec = work::CycleSpec {
        name: field(&form, "name").to_owned(),
        kind,
        start,
        end,
        framework_id,
        framework_version: version,
        units,
    };
    match work::create(store, &spec, &actor(&caller)).await {
        Ok(id) => Ok(see_other(&format!("/cycles/{id}"))),
        Err(e) => {
            let listed = problems(&ctx, &e);
            list(
                &state,
                ctx,
                &caller,
                listed,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[derive(Debug)]
struct StepButton {
    href: String,
    label: &'static str,
    id: &'static str,
}

#[derive(Debug)]
struct MissingRow {
    name: String,
    /// Who misses it (the first 50), by name.
    who: String,
    column: String,
    missing: usize,
    rule: &'static str,
}

#[derive(Debug)]
struct UnitGrades {
    unit: String,
    counts: Vec<usize>,
    total: usize,
}

#[derive(Debug)]
struct ChangeRow {
    person: String,
    kind: &'static str,
    on: String,
    from: String,
    to: String,
}

#[derive(Debug)]
struct RevisionRow {
    href: String,
    number: i64,
    kind: &'static str,
    reason: String,
    at: String,
    by: String,
}

#[derive(Template)]
#[template(path = "cycles/cycle.html")]
struct CyclePage {
    ctx: PageCtx,
    id: i64,
    name: String,
    kind: &'static str,
    state: &'static str,
    period: String,
    framework: String,
    framework_href: String,
    people: i64,
    created: String,
    steps: Vec<StepButton>,
    notice: Option<String>,
    problems: Vec<String>,
    may_import: bool,
    may_decide: bool,
    may_amend: bool,
    has_results: bool,
    missing: Vec<MissingRow>,
    grade_labels: Vec<String>,
    grades: Vec<UnitGrades>,
    changes: Vec<ChangeRow>,
    revisions: Vec<RevisionRow>,
}

/// `GET /cycles/{id}`: the cycle's dashboard.
pub(super) async fn cycle(
    ctx: PageCtx,
    caller: Caller,
    uri: Uri,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let cycle = load_cycle(&state, &ctx, &caller, &id, Permission::ViewCycles).await?;
    let query = QueryParams::from_uri(&uri);
    let notice = query
        .raw("done")
        .and_then(|d| Action::parse_label(d).ok())
        .map(|a| ctx.tf("cycle.done", &[("step", &ctx.label(a))]));
    dashboard(
        &state,
        ctx,
        &caller,
        cycle,
        notice,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// Renders the dashboard of `cycle`, with a notice or the problems of a refused step.
pub(super) async fn dashboard(
    state: &AppState,
    ctx: PageCtx,
    caller: &Caller,
    cycle: Cycle,
    notice: Option<String>,
    problems: Vec<String>,
    status: StatusCode,
) -> PageResult {
    let store = state.store.as_ref();
    let fw = framework_of(state, &ctx, &cycle).await?;
    let names = Names::new(&ctx, &fw);
    let results = if cycle.revision > 0 {
        store
            .results(cycle.id, cycle.revision)
            .await
            .map_err(|e| ctx.fail(e))?
    } else {
        Vec::new()
    };
    let undecided = if cycle.state == CycleState::Review {
        undecided_ties(state, &ctx, &cycle, &fw, &results).await?
    } else {
        0
    };
    let holds = |a: Action| caller.0.holds(a.permission()) && a.allowed_in().contains(&cycle.state);
    let steps = [
        (Action::Open, "open", "step-open"),
        (Action::Compute, "compute", "step-compute"),
        (Action::SubmitReview, "review", "step-review"),
        (Action::Finalize, "finalize", "step-finalize"),
    ]
    .into_iter()
    .filter(|(a, _, _)| holds(*a) && (*a != Action::Finalize || undecided == 0))
    .map(|(a, path, id)| StepButton {
        href: format!("/cycles/{}/{path}", cycle.id),
        label: ctx.label(a),
        id,
    })
    .collect();
    let (_, columns) = work::completeness(store, cycle.id).await.map_err(|e| {
        ctx.fail(ApiError::Refused {
            code: "framework_unusable",
            reason: e.to_string(),
        })
    })?;
    let people: BTreeMap<Code, String> = store
        .cycle_people(cycle.id)
        .await
        .map_err(|e| ctx.fail(e))?
        .into_iter()
        .map(|p| (p.cadre, p.name))
        .collect();
    let missing = columns
        .into_iter()
        .map(|c| {
            let rule = fw
                .indicators()
                .iter()
                .find(|i| i.id == c.column)
                .map(|i| i.missing);
            let mut who: Vec<String> = c
                .people
                .iter()
                .map(|p| match people.get(p) {
                    Some(n) => format!("{n} ({p})"),
                    None => p.to_string(),
                })
                .collect();
            if c.missing > c.people.len() {
                who.push("…".to_owned());
            }
            MissingRow {
                name: names.of(&c.column),
                who: who.join("、"),
                rule: words::missing_rule(&ctx, rule),
                column: c.column,
                missing: c.missing,
            }
        })
        .collect();
    let grade_labels: Vec<String> = (0..4u8)
        .map(|l| words::grade(&ctx, cycle.kind, Some(l)))
        .chain(std::iter::once(words::grade(&ctx, cycle.kind, None)))
        .collect();
    let grades = grade_distribution(&results);
    let mut unit_names = UnitNames::default();
    unit_names
        .load(
            store,
            cycle
                .changes
                .iter()
                .flat_map(|c| c.from.iter().chain(c.to.iter()).cloned())
                .collect(),
        )
        .await
        .map_err(|e| ctx.fail(e))?;
    let mut changes = Vec::new();
    for c in &cycle.changes {
        let name = match people.get(&c.cadre) {
            Some(n) => n.clone(),
            None => store
                .get_cadre(&c.cadre)
                .await
                .map_err(|e| ctx.fail(e))?
                .map_or_else(String::new, |p| p.name),
        };
        let unit = |u: &Option<Code>| {
            u.as_ref().map_or_else(String::new, |u| {
                unit_names
                    .get(u)
                    .map_or_else(|| u.to_string(), str::to_owned)
            })
        };
        changes.push(ChangeRow {
            person: format!("{name} ({})", c.cadre),
            kind: ctx.label(c.kind),
            on: c.on.to_string(),
            from: unit(&c.from),
            to: unit(&c.to),
        });
    }
    let revisions = store
        .revisions(cycle.id)
        .await
        .map_err(|e| ctx.fail(e))?
        .into_iter()
        .map(|r| RevisionRow {
            href: format!("/cycles/{}/revisions/{}", cycle.id, r.revision),
            number: r.revision,
            kind: ctx.label(r.kind),
            reason: r.reason.unwrap_or_default(),
            at: words::local_time(state.utc_offset, r.created_at),
            by: r.created_by,
        })
        .collect();
    let page = CyclePage {
        id: cycle.id,
        kind: ctx.label(cycle.kind),
        state: ctx.label(cycle.state),
        period: format!("{} – {}", cycle.period.start, cycle.period.end),
        framework: format!("{} {}", fw.name(), cycle.framework_version),
        framework_href: format!(
            "/frameworks/{}/{}",
            crate::shell::params::encode_component(&cycle.framework_id),
            crate::shell::params::encode_component(&cycle.framework_version)
        ),
        people: cycle.people,
        created: format!(
            "{} · {}",
            words::local_time(state.utc_offset, cycle.created_at),
            cycle.created_by
        ),
        steps,
        notice,
        problems,
        may_import: holds(Action::ImportValues),
        may_decide: caller.0.holds(Permission::DecideCommittee)
            && matches!(cycle.state, CycleState::Review | CycleState::Final),
        may_amend: holds(Action::Amend),
        has_results: !results.is_empty(),
        missing,
        grade_labels,
        grades,
        changes,
        revisions,
        name: cycle.name,
        ctx,
    };
    Ok(render(status, &page))
}

/// Counts per grade level (the last: no grade) in each unit, by unit name.
fn grade_distribution(results: &[ResultRow]) -> Vec<UnitGrades> {
    let mut by_unit: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for r in results {
        let counts = by_unit
            .entry((r.unit_name.clone(), r.unit.to_string()))
            .or_insert_with(|| vec![0; 5]);
        counts[r.grade_level.map_or(4, |g| usize::from(g.min(3)))] += 1;
    }
    let mut rows: Vec<UnitGrades> = by_unit
        .into_iter()
        .map(|((name, _), counts)| UnitGrades {
            unit: name,
            total: counts.iter().sum(),
            counts,
        })
        .collect();
    if rows.len() > 1 {
        let mut all = vec![0; 5];
        for r in &rows {
            for (a, c) in all.iter_mut().zip(&r.counts) {
                *a += c;
            }
        }
        rows.push(UnitGrades {
            unit: String::new(),
            total: all.iter().sum(),
            counts: all,
        });
    }
    rows
}

/// People tied at a quota line without a decision on the current revision.
pub(super) async fn undecided_ties(
    state: &AppState,
    ctx: &PageCtx,
    cycle: &Cycle,
    fw: &Framework,
    results: &[ResultRow],
) -> Result<usize, PageError> {
    let store = state.store.as_ref();
    let revision = store
        .revisions(cycle.id)
        .await
        .map_err(|e| ctx.fail(e))?
        .into_iter()
        .find(|r| r.revision == cycle.revision);
    let Some(revision) = revision.filter(|r| r.kind == RevisionKind::Compute) else {
        return Ok(0);
    };
    let decisions = store.decisions(cycle.id).await.map_err(|e| ctx.fail(e))?;
    let latest = work::latest_decisions(&decisions, cycle.revision);
    Ok(work::ties_of(results, &revision.summary, fw.quota_scope())
        .iter()
        .flat_map(|t| t.tied.iter())
        .filter(|c| !latest.contains_key(*c))
        .count())
}

/// Takes a step of a cycle: checks the account's scope with the step's permission, then the
/// step; back to the dashboard with what was done, or with why it was refused.
async fn step(
    state: AppState,
    ctx: PageCtx,
    caller: Caller,
    id: String,
    action: Action,
) -> PageResult {
    let cycle = load_cycle(&state, &ctx, &caller, &id, action.permission()).await?;
    let store = state.store.as_ref();
    let who = actor(&caller);
    let done = match action {
        Action::Open => work::advance(store, cycle.id, work::StateStep::Open, &who)
            .await
            .map(|_| ()),
        Action::SubmitReview => work::advance(store, cycle.id, work::StateStep::SubmitReview, &who)
            .await
            .map(|_| ()),
        Action::Compute => {
            work::compute(store, cycle.id, &state.value_sources, &state.cycles, &who)
                .await
                .map(|_| ())
        }
        _ => work::finalize(store, cycle.id, &who).await.map(|_| ()),
    };
    match done {
        Ok(()) => Ok(see_other(&format!(
            "/cycles/{}?done={}",
            cycle.id,
            action.code()
        ))),
        Err(e) => refused(&state, ctx, &caller, cycle.id, &e).await,
    }
}

/// The dashboard again, with the problems of a refused step (409 when the cycle moved on or
/// a computation runs, 422 otherwise).
pub(super) async fn refused(
    state: &AppState,
    ctx: PageCtx,
    caller: &Caller,
    id: i64,
    error: &CycleRunError,
) -> PageResult {
    let status = match error {
        CycleRunError::Store(kaohe_store::StoreError::Conflict(_)) => StatusCode::CONFLICT,
        CycleRunError::FourEyes(_) => StatusCode::FORBIDDEN,
        CycleRunError::Store(_) | CycleRunError::Worker(_) => {
            tracing::error!(cycle = id, error = %error, "cycle step failed");
            return Err(ctx.fail(ApiError::Unavailable));
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let cycle = state
        .store
        .cycle(id)
        .await
        .map_err(|e| ctx.fail(e))?
        .ok_or_else(|| ctx.fail(ApiError::not_found("cycle", id.to_string())))?;
    let listed = problems(&ctx, error);
    dashboard(state, ctx, caller, cycle, None, listed, status).await
}

/// `POST /cycles/{id}/open`: 开始采集.
pub(super) async fn open(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    step(state, ctx, caller, id, Action::Open).await
}

/// `POST /cycles/{id}/compute`: 计算.
pub(super) async fn compute(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    step(state, ctx, caller, id, Action::Compute).await
}

/// `POST /cycles/{id}/review`: 提交委员会审议.
pub(super) async fn review(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    step(state, ctx, caller, id, Action::SubmitReview).await
}

/// `POST /cycles/{id}/finalize`: 定稿.
pub(super) async fn finalize(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    step(state, ctx, caller, id, Action::Finalize).await
}
