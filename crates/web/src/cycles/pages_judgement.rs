//! The unit leader's judgement (单位主要负责人评价) in routine cycles (平时考核): the open
//! routine cycles with people of the leader's units, and per cycle a form with one judgement
//! (好/较好/一般/较差) a person, stored by `kaohe_store::cycles::work::judge` as the value of the
//! framework's judgement indicator.

use super::pages_cycle::{actor, problems, see_other};
use crate::org::data::units_in_scope;
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission};
use crate::shell::error::ApiError;
use crate::shell::page::{PageCtx, PageError, PageResult, render};
use crate::shell::params::QueryParams;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use kaohe_domain::cycles::{Action, CycleKind, JUDGEMENT_COLUMN};
use kaohe_domain::{Code, Labeled, RoutineGrade};
use kaohe_store::cycles::work::{self, CycleRunError};
use kaohe_store::cycles::{Cycle, CyclePerson};
use std::collections::HashSet;

/// A routine cycle open to judgement, as the list shows it.
#[derive(Debug)]
struct Open {
    id: i64,
    name: String,
    period: String,
    /// How many of the leader's people are judged, in words.
    progress: String,
}

#[derive(Template)]
#[template(path = "cycles/judgements.html")]
struct ListPage {
    ctx: PageCtx,
    cycles: Vec<Open>,
}

#[derive(Debug)]
struct Row {
    cadre: String,
    name: String,
    unit: String,
    /// The code of the current judgement, empty when none.
    current: &'static str,
}

#[derive(Template)]
#[template(path = "cycles/judgement.html")]
struct FormPage {
    ctx: PageCtx,
    id: i64,
    name: String,
    period: String,
    rows: Vec<Row>,
    grades: Vec<(&'static str, &'static str)>,
    notice: Option<String>,
    problems: Vec<String>,
}

/// The routine cycles that take judgements now, with the people of `units` in each.
async fn open_cycles(
    state: &AppState,
    ctx: &PageCtx,
    units: &HashSet<Code>,
) -> Result<Vec<(Cycle, Vec<CyclePerson>)>, PageError> {
    let store = state.store.as_ref();
    let mut out = Vec::new();
    for c in store.cycles().await.map_err(|e| ctx.fail(e))? {
        if c.kind != CycleKind::Routine
            || !Action::ImportValues.allowed_in().contains(&c.state)
            || !c.columns.iter().any(|col| col == JUDGEMENT_COLUMN)
        {
            continue;
        }
        let people: Vec<CyclePerson> = store
            .cycle_people(c.id)
            .await
            .map_err(|e| ctx.fail(e))?
            .into_iter()
            .filter(|p| units.contains(&p.unit))
            .collect();
        if !people.is_empty() {
            out.push((c, people));
        }
    }
    Ok(out)
}

async fn leader_units(
    state: &AppState,
    ctx: &PageCtx,
    caller: &Caller,
) -> Result<HashSet<Code>, PageError> {
    Ok(
        units_in_scope(state.store.as_ref(), caller, Permission::JudgeRoutine)
            .await
            .map_err(|e| ctx.fail(e))?
            .into_iter()
            .map(|u| u.code)
            .collect(),
    )
}

fn period_text(c: &Cycle) -> String {
    format!("{} – {}", c.period.start, c.period.end)
}

/// `GET /judgements`: the routine cycles awaiting the leader's judgement.
pub(super) async fn judgements(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
) -> PageResult {
    let units = leader_units(&state, &ctx, &caller).await?;
    let mut cycles = Vec::new();
    for (c, people) in open_cycles(&state, &ctx, &units).await? {
        let judged = work::judgements(state.store.as_ref(), c.id)
            .await
            .map_err(|e| {
                ctx.fail(ApiError::Refused {
                    code: "cycle",
                    reason: e.to_string(),
                })
            })?;
        let done = people
            .iter()
            .filter(|p| judged.contains_key(&p.cadre))
            .count();
        cycles.push(Open {
            id: c.id,
            period: period_text(&c),
            progress: ctx.tf(
                "judgement.progress",
                &[("judged", &done), ("people", &people.len())],
            ),
            name: c.name,
        });
    }
    Ok(render(StatusCode::OK, &ListPage { ctx, cycles }))
}

/// The cycle `id` with the people of the leader's units in it; 404 when it takes no judgement
/// of theirs.
async fn load(
    state: &AppState,
    ctx: &PageCtx,
    caller: &Caller,
    id: &str,
) -> Result<(Cycle, Vec<CyclePerson>), PageError> {
    let units = leader_units(state, ctx, caller).await?;
    let number: i64 = id
        .parse()
        .map_err(|_| ctx.fail(ApiError::not_found("cycle", id)))?;
    open_cycles(state, ctx, &units)
        .await?
        .into_iter()
        .find(|(c, _)| c.id == number)
        .ok_or_else(|| ctx.fail(ApiError::not_found("cycle", id)))
}

async fn form_page(
    state: &AppState,
    ctx: PageCtx,
    cycle: Cycle,
    people: Vec<CyclePerson>,
    notice: Option<String>,
    problems: Vec<String>,
    status: StatusCode,
) -> PageResult {
    let judged = work::judgements(state.store.as_ref(), cycle.id)
        .await
        .map_err(|e| {
            ctx.fail(ApiError::Refused {
                code: "cycle",
                reason: e.to_string(),
            })
        })?;
    let rows = people
        .into_iter()
        .map(|p| Row {
            current: judged.get(&p.cadre).map_or("", |g| g.code()),
            cadre: p.cadre.to_string(),
            name: p.name,
            unit: p.unit_name,
        })
        .collect();
    let grades = RoutineGrade::ALL
        .iter()
        .map(|g| (g.code(), ctx.label(*g)))
        .collect();
    let page = FormPage {
        id: cycle.id,
        period: period_text(&cycle),
        name: cycle.name,
        rows,
        grades,
        notice,
        problems,
        ctx,
    };
    Ok(render(status, &page))
}

/// `GET /cycles/{id}/judgement`.
pub(super) async fn judgement(
    ctx: PageCtx,
    caller: Caller,
    uri: Uri,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let (cycle, people) = load(&state, &ctx, &caller, &id).await?;
    let notice = QueryParams::from_uri(&uri)
        .raw("saved")
        .is_some()
        .then(|| ctx.t("judgement.saved").to_owned());
    form_page(
        &state,
        ctx,
        cycle,
        people,
        notice,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /cycles/{id}/judgement` (`j_{cadre}` = a routine grade, or empty to leave it): stores
/// the judgements given, of the leader's own people only.
pub(super) async fn judge(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let (cycle, people) = load(&state, &ctx, &caller, &id).await?;
    let mine: HashSet<&str> = people.iter().map(|p| p.cadre.as_str()).collect();
    let mut given = Vec::new();
    let mut bad = Vec::new();
    for (name, value) in &form {
        let Some(cadre) = name.strip_prefix("j_") else {
            continue;
        };
        if value.trim().is_empty() {
            continue;
        }
        if !mine.contains(cadre) {
            bad.push(ctx.tf("judgement.not_yours", &[("cadre", &cadre)]));
            continue;
        }
        match (Code::parse(cadre), RoutineGrade::parse_label(value.trim())) {
            (Ok(c), Ok(g)) => given.push((c, g)),
            (_, Err(e)) => bad.push(format!("{cadre}: {e}")),
            (Err(e), _) => bad.push(format!("{cadre}: {e}")),
        }
    }
    if bad.is_empty() && given.is_empty() {
        bad.push(ctx.t("judgement.none").to_owned());
    }
    if !bad.is_empty() {
        return form_page(
            &state,
            ctx,
            cycle,
            people,
            None,
            bad,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match work::judge(state.store.as_ref(), cycle.id, &given, &actor(&caller)).await {
        Ok(_) => Ok(see_other(&format!(
            "/cycles/{}/judgement?saved=1",
            cycle.id
        ))),
        Err(CycleRunError::Store(e)) => {
            tracing::error!(cycle = cycle.id, error = %e, "judgement failed");
            Err(ctx.fail(ApiError::Unavailable))
        }
        Err(e) => {
            let p = problems(&ctx, &e);
            form_page(
                &state,
                ctx,
                cycle,
                people,
                None,
                p,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
