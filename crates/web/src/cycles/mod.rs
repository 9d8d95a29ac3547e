//! Assessment cycles (考核) on the web: the pages of indicator frameworks and of cycles
//! (templates in `templates/cycles/`), and its JSON API.
//!
//! - `api.rs`: the JSON API under `/api/v1/cycles` and `/api/v1/frameworks`.
//! - `pages.rs`: frameworks: stored versions and presets, a version's indicators in words, the
//!   upload of a new version.
//! - `pages_cycle.rs`: the list of cycles and the form that creates one; a cycle's dashboard
//!   and its steps (开始采集, 计算, 提交委员会审议, 定稿).
//! - `pages_values.rs`: the values upload, the pre-filled template, the amendment of a final
//!   cycle, table files.
//! - `pages_results.rs`: the results table with filters and export, a revision with what an
//!   amendment changed, and `/my/results` of officials and unit leaders.
//! - `pages_committee.rs`: the assessment committee's ties, flags and decisions.
//! - `pages_judgement.rs`: the unit leader's judgement of their people in routine cycles.
//! - `pages_words.rs`: grades, rules, flags and methods in words.
//!
//! The steps themselves are `kaohe_store::cycles::work`'s, for the CLI and the web alike. An
//! assessor uses a cycle when every unit of its scope lies in the assessor's units.

mod api;
pub(crate) mod home;
mod pages;
mod pages_committee;
mod pages_cycle;
mod pages_judgement;
pub(crate) mod pages_results;
mod pages_values;
mod pages_words;

use crate::shell::AppState;
use crate::shell::access::{Permission, RequirePermission};
use axum::Router;
use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes of the cycles' pages, each group with the permission it needs.
pub(crate) fn router() -> Router<AppState> {
    let frameworks = Router::new()
        .route("/frameworks", get(pages::frameworks))
        .route("/frameworks/{name}", get(pages::framework))
        .route("/frameworks/{id}/{version}", get(pages::version))
        .require(Permission::Authenticated);
    let view = Router::new()
        .route("/cycles", get(pages_cycle::cycles))
        .route("/cycles/{id}", get(pages_cycle::cycle))
        .route("/cycles/{id}/results", get(pages_results::results))
        .route(
            "/cycles/{id}/revisions/{revision}",
            get(pages_results::revision),
        )
        .require(Permission::ViewCycles);
    let manage = Router::new()
        .route("/frameworks", post(pages::upload))
        .route("/cycles", post(pages_cycle::create))
        .route("/cycles/{id}/open", post(pages_cycle::open))
        .route("/cycles/{id}/compute", post(pages_cycle::compute))
        .route("/cycles/{id}/review", post(pages_cycle::review))
        .route("/cycles/{id}/values", post(pages_values::upload_values))
        .route(
            "/cycles/{id}/template.xlsx",
            get(pages_values::template_xlsx),
        )
        .route("/cycles/{id}/template.csv", get(pages_values::template_csv))
        .require(Permission::ManageCycles);
    let committee = Router::new()
        .route(
            "/cycles/{id}/committee",
            get(pages_committee::committee).post(pages_committee::decide),
        )
        .require(Permission::DecideCommittee);
    let finalize = Router::new()
        .route("/cycles/{id}/finalize", post(pages_cycle::finalize))
        .require(Permission::FinalizeCycle);
    let amend = Router::new()
        .route("/cycles/{id}/amend", post(pages_values::amend))
        .require(Permission::AmendResults);
    let own = Router::new()
        .route("/my/results", get(pages_results::my_results))
        .require(Permission::ViewOwnResults);
    let judge = Router::new()
        .route("/judgements", get(pages_judgement::judgements))
        .route(
            "/cycles/{id}/judgement",
            get(pages_judgement::judgement).post(pages_judgement::judge),
        )
        .require(Permission::JudgeRoutine);
    frameworks
        .merge(view)
        .merge(manage)
        .merge(committee)
        .merge(finalize)
        .merge(amend)
        .merge(own)
        .merge(judge)
}

/// Routes of the cycles' API (`api.rs`: framework versions, cycles and their steps, the final
/// results of a cadre and of a unit), with their OpenAPI description, each group with the
/// permission it needs; an assessor's scope is checked against the cycle's units in each
/// handler.
pub(crate) fn api_router() -> OpenApiRouter<AppState> {
    let view = OpenApiRouter::new()
        .routes(routes!(api::list_frameworks))
        .routes(routes!(api::list_cycles))
        .routes(routes!(api::get_cycle))
        .routes(routes!(api::completeness))
        .routes(routes!(api::committee))
        .routes(routes!(api::results))
        .require(Permission::ViewCycles);
    let manage = OpenApiRouter::new()
        .routes(routes!(api::upload_framework))
        .routes(routes!(api::create_cycle))
        .routes(routes!(api::open_cycle))
        .routes(routes!(api::post_values))
        .routes(routes!(api::compute_cycle))
        .routes(routes!(api::review_cycle))
        .require(Permission::ManageCycles);
    let decide = OpenApiRouter::new()
        .routes(routes!(api::decide))
        .require(Permission::DecideCommittee);
    let finalize = OpenApiRouter::new()
        .routes(routes!(api::finalize))
        .require(Permission::FinalizeCycle);
    let amend = OpenApiRouter::new()
        .routes(routes!(api::amend))
        .require(Permission::AmendResults);
    // A cadre's record: results need ViewOwnResults or ViewCycles on the cadre (handler).
    let cadre = OpenApiRouter::new()
        .routes(routes!(api::cadre_results))
        .require(Permission::ViewCadre);
    // A unit's record: results need ViewOwnResults or ViewCycles on the unit (handler).
    let unit = OpenApiRouter::new()
        .routes(routes!(api::unit_results))
        .require(Permission::ViewUnit);
    view.merge(manage)
        .merge(decide)
        .merge(finalize)
        .merge(amend)
        .merge(cadre)
        .merge(unit)
}
