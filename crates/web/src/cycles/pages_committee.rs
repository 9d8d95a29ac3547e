//! The assessment committee (考核委员会) of a cycle under review: every tie at a quota line
//! with the people side by side, the flagged people, a decision form per person with a
//! required reason, the decisions so far, and the finalize button once every tie is decided.

use super::pages_cycle::{
    actor, field, framework_of, load_cycle, problems, see_other, undecided_ties,
};
use super::pages_results::ResultView;
use super::pages_words::{self as words, Names};
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission};
use crate::shell::error::ApiError;
use crate::shell::page::{PageCtx, PageResult, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use kaohe_domain::cycles::{CycleState, Decision};
use kaohe_domain::{Code, Labeled};
use kaohe_store::cycles::work::{self, CycleRunError};
use kaohe_store::cycles::{Cycle, ResultRow, RevisionKind};
use std::collections::BTreeMap;

/// Indicators shown per person: the largest contributions.
const TOP_CONTRIBUTIONS: usize = 3;

#[derive(Debug)]
struct Person {
    view: ResultView,
    contributions: Vec<String>,
    /// The latest decision on the current revision: what, why, who.
    decided: Option<(&'static str, String, String)>,
}

#[derive(Debug)]
struct TieView {
    scope: String,
    quota: String,
    people: Vec<Person>,
}

#[derive(Debug)]
struct DecisionRow {
    person: String,
    decision: &'static str,
    reason: String,
    by: String,
    at: String,
}

#[derive(Template)]
#[template(path = "cycles/committee.html")]
struct CommitteePage {
    ctx: PageCtx,
    id: i64,
    name: String,
    state: &'static str,
    deciding: bool,
    /// The caller computed the result under review: another assessor decides (four eyes).
    computed_here: bool,
    ties: Vec<TieView>,
    flagged: Vec<Person>,
    tie_choices: Vec<(&'static str, &'static str)>,
    confirm: (&'static str, &'static str),
    decisions: Vec<DecisionRow>,
    may_finalize: bool,
    /// How many tied people wait for a decision, in words; empty when none.
    undecided: String,
    notice: Option<String>,
    problems: Vec<String>,
}

/// The contributions of a result row by indicator, largest first, in words.
fn top_contributions(names: &Names<'_>, indicators: &[String], r: &ResultRow) -> Vec<String> {
    let mut pairs: Vec<(&String, f64)> = indicators
        .iter()
        .zip(r.contributions.iter().copied())
        .collect();
    pairs.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    pairs
        .into_iter()
        .take(TOP_CONTRIBUTIONS)
        .map(|(id, v)| format!("{} {v:.2}", names.of(id)))
        .collect()
}

/// `GET /cycles/{id}/committee`.
pub(super) async fn committee(
    ctx: PageCtx,
    caller: Caller,
    uri: Uri,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let cycle = load_cycle(&state, &ctx, &caller, &id, Permission::DecideCommittee).await?;
    let notice = crate::shell::params::QueryParams::from_uri(&uri)
        .raw("decided")
        .is_some()
        .then(|| ctx.t("committee.recorded").to_owned());
    page(
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

async fn page(
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
    let revisions = store.revisions(cycle.id).await.map_err(|e| ctx.fail(e))?;
    // The committee decides on the computed revision under review; in a final cycle, the
    // decisions are shown on the revision they were taken on.
    let decisions = store.decisions(cycle.id).await.map_err(|e| ctx.fail(e))?;
    let on = match cycle.state {
        CycleState::Review => cycle.revision,
        _ => decisions.iter().map(|d| d.revision).max().unwrap_or(0),
    };
    let revision = revisions
        .iter()
        .find(|r| r.revision == on && r.kind == RevisionKind::Compute);
    let rows = match revision {
        Some(r) => store
            .results(cycle.id, r.revision)
            .await
            .map_err(|e| ctx.fail(e))?,
        None => Vec::new(),
    };
    let summary = revision.map(|r| r.summary.as_str()).unwrap_or("{}");
    let indicators: Vec<String> = serde_json::from_str::<serde_json::Value>(summary)
        .ok()
        .and_then(|v| {
            v.pointer("/indicators").and_then(|i| {
                i.as_array().map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
            })
        })
        .unwrap_or_default();
    let latest = work::latest_decisions(&decisions, on);
    let by_cadre: BTreeMap<&Code, &ResultRow> = rows.iter().map(|r| (&r.cadre, r)).collect();
    let person = |r: &ResultRow| Person {
        view: ResultView::new(&ctx, &cycle, &names, r),
        contributions: top_contributions(&names, &indicators, r),
        decided: latest.get(&r.cadre).map(|d| {
            (
                ctx.label(d.decision),
                d.reason.clone(),
                d.decided_by.clone(),
            )
        }),
    };
    let ties = work::ties_of(&rows, summary, fw.quota_scope())
        .into_iter()
        .map(|t| {
            let scope = if t.scope == "*" {
                ctx.t("committee.scope_all").to_owned()
            } else {
                t.tied
                    .first()
                    .and_then(|c| by_cadre.get(c))
                    .map_or_else(|| t.scope.clone(), |r| r.unit_name.clone())
            };
            TieView {
                quota: ctx.tf(
                    "committee.quota",
                    &[
                        ("k", &t.k),
                        ("awarded", &t.awarded),
                        ("top", &words::grade(&ctx, cycle.kind, Some(0))),
                    ],
                ),
                scope,
                people: t
                    .tied
                    .iter()
                    .filter_map(|c| by_cadre.get(c).map(|r| person(r)))
                    .collect(),
            }
        })
        .collect();
    let flagged = rows
        .iter()
        .filter(|r| r.rule != work::TIE_RULE && work::for_committee(r))
        .map(person)
        .collect();
    let mut people_names: BTreeMap<&Code, &str> = BTreeMap::new();
    for r in &rows {
        people_names.insert(&r.cadre, &r.name);
    }
    let decision_rows = decisions
        .iter()
        .rev()
        .map(|d| DecisionRow {
            person: format!(
                "{} ({})",
                people_names.get(&d.cadre).copied().unwrap_or_default(),
                d.cadre
            ),
            decision: ctx.label(d.decision),
            reason: d.reason.clone(),
            by: d.decided_by.clone(),
            at: words::local_time(state.utc_offset, d.decided_at),
        })
        .collect();
    // Four eyes (双人复核): whoever computed the result under review sees it, never the forms
    // to decide on it or finalize it.
    let computed_here = cycle.state == CycleState::Review
        && revision.is_some_and(|r| r.created_by == actor(caller));
    let deciding = cycle.state == CycleState::Review && !computed_here;
    let undecided = if deciding {
        undecided_ties(state, &ctx, &cycle, &fw, &rows).await?
    } else {
        0
    };
    let label = |d: Decision| (d.code(), ctx.label(d));
    let page = CommitteePage {
        id: cycle.id,
        state: ctx.label(cycle.state),
        deciding,
        computed_here,
        ties,
        flagged,
        tie_choices: vec![label(Decision::AwardTop), label(Decision::KeepNext)],
        confirm: label(Decision::Confirm),
        decisions: decision_rows,
        may_finalize: deciding && undecided == 0 && caller.0.holds(Permission::FinalizeCycle),
        undecided: if undecided > 0 {
            ctx.tf("committee.undecided", &[("n", &undecided)])
        } else {
            String::new()
        },
        notice,
        problems,
        name: cycle.name,
        ctx,
    };
    Ok(render(status, &page))
}

/// `POST /cycles/{id}/committee` (`cadre`, `decision`, `reason`): records a decision; back to
/// the committee page, or the page again with why it was refused.
pub(super) async fn decide(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let cycle = load_cycle(&state, &ctx, &caller, &id, Permission::DecideCommittee).await?;
    let parsed = Code::parse(field(&form, "cadre"))
        .map_err(|e| format!("cadre: {e}"))
        .and_then(|c| {
            Decision::parse_label(field(&form, "decision"))
                .map(|d| (c, d))
                .map_err(|e| format!("decision: {e}"))
        });
    let result = match parsed {
        Ok((cadre, decision)) => work::decide(
            state.store.as_ref(),
            cycle.id,
            &cadre,
            decision,
            field(&form, "reason"),
            &actor(&caller),
        )
        .await
        .map_err(|e| {
            let status = match &e {
                CycleRunError::Store(kaohe_store::StoreError::Conflict(_)) => StatusCode::CONFLICT,
                CycleRunError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
                CycleRunError::FourEyes(_) => StatusCode::FORBIDDEN,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            (status, problems(&ctx, &e))
        }),
        Err(e) => Err((StatusCode::UNPROCESSABLE_ENTITY, vec![e])),
    };
    match result {
        Ok(()) => Ok(see_other(&format!(
            "/cycles/{}/committee?decided=1",
            cycle.id
        ))),
        Err((StatusCode::INTERNAL_SERVER_ERROR, p)) => {
            tracing::error!(cycle = cycle.id, problems = ?p, "committee decision failed");
            Err(ctx.fail(ApiError::Unavailable))
        }
        Err((status, p)) => page(&state, ctx, &caller, cycle, None, p, status).await,
    }
}
