//! The organization (组织): units, cadres with their appointments and sanctions, and the
//! working-day calendar, as pages and as JSON. Every capability stands on it: the unit tree
//! and the unit scope of an account ([`data`]) are what the others check before they show
//! anything of a unit.
//!
//! - `api.rs`: `/api/v1/units…`, `/api/v1/cadres…`, `/api/v1/calendar…`, `/api/v1/stats`.
//! - `pages.rs`: `/units…`, `/cadres…`, `/calendar` (templates in `templates/org/`).
//! - `data.rs`: what the API and the pages show, gathered once for both; unit scope.
//! - `params.rs`: the query parameters of the lists and of the calendar.
//! - `picker.rs`: units as a tree and cadres by name, for the forms and filters of every
//!   capability.

mod api;
pub(crate) mod data;
pub(crate) mod pages;
mod params;
pub(crate) mod picker;

use crate::shell::AppState;
use crate::shell::access::{Permission, RequirePermission};
use axum::Router;
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes of the organization's pages, each group with the permission it needs.
pub(crate) fn router() -> Router<AppState> {
    let organization = Router::new()
        .route("/units", get(pages::units))
        .route("/cadres", get(pages::cadres))
        .require(Permission::ViewOrganization);
    let unit = Router::new()
        .route("/units/{code}", get(pages::unit))
        .require(Permission::ViewUnit);
    let cadre = Router::new()
        .route("/cadres/{id}", get(pages::cadre))
        .require(Permission::ViewCadre);
    let signed_in = Router::new()
        .route("/calendar", get(pages::calendar))
        .require(Permission::Authenticated);
    organization.merge(unit).merge(cadre).merge(signed_in)
}

/// Routes of the organization's API, with their OpenAPI description, each group with the
/// permission it needs.
pub(crate) fn api_router() -> OpenApiRouter<AppState> {
    let organization = OpenApiRouter::new()
        .routes(routes!(api::list_units))
        .routes(routes!(api::list_cadres))
        .routes(routes!(api::stats))
        .require(Permission::ViewOrganization);
    let unit = OpenApiRouter::new()
        .routes(routes!(api::get_unit))
        .require(Permission::ViewUnit);
    let cadre = OpenApiRouter::new()
        .routes(routes!(api::get_cadre))
        .require(Permission::ViewCadre);
    let signed_in = OpenApiRouter::new()
        .routes(routes!(api::calendar))
        .routes(routes!(api::working_days))
        .require(Permission::Authenticated);
    organization.merge(unit).merge(cadre).merge(signed_in)
}
