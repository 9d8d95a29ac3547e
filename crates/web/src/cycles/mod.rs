//! Assessment cycles (考核). Today: the indicator frameworks of the scoring engine's built-in
//! presets (`pages.rs`, templates in `templates/cycles/`), for every signed-in account.

mod api;
mod pages;

use crate::shell::AppState;
use crate::shell::access::{Permission, RequirePermission};
use axum::Router;
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes of the cycles' pages, each group with the permission it needs.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/frameworks", get(pages::frameworks))
        .route("/frameworks/{name}", get(pages::framework))
        .require(Permission::Authenticated)
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
