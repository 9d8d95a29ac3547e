//! Public ratings of services (好差评) on the web.
//!
//! - `api.rs`: service systems push cases and ratings with a token; the JSON figures.
//! - `intake.rs`: the group-commit writer that stores every rating, from the API and from the
//!   public page alike (`RatingWriter`).
//! - `figures.rs`: the satisfaction figures, for the API, the figures page and the CLI.
//! - `escalation.rs`: the escalation notice (督办) of the home page.
//! - `trend.rs`: an official's and a unit leader's ratings of their unit month by month, for
//!   the home page.
//! - `pages.rs` and `pages/`: the public rating pages and QR codes, the rectification queue,
//!   a case's history and steps, the callback screen, appeals and the figures page (templates
//!   in `templates/ratings/`).
//!
//! The rules (intake, rectification, escalation, suspicion) are the domain's
//! (`kaohe_domain::ratings`), the settings too (`RatingSettings`, in the shell's `AppState`).

mod api;
mod deadlines;
mod escalation;
mod figures;
mod intake;
mod pages;
mod trend;
mod waiting;

pub(crate) use deadlines::{DueRow, own_deadlines};
pub(crate) use escalation::escalated_to;
pub use figures::{GroupBy, default_period_start, figures_of, period_bounds};
pub(crate) use intake::RatingWriter;
pub(crate) use trend::{UnitTrend, unit_trend};
pub(crate) use waiting::appeals_waiting;

use crate::shell::AppState;
use crate::shell::access::{Permission, RequirePermission};
use crate::shell::auth::PreSessionForm;
use axum::Router;
use axum::routing::{get, post};
use pages::{appeals, qr, rate, rectification};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Pre-session cookie carrying the public rating forms' CSRF token.
pub const RATE_COOKIE: &str = "kaohe_rate";

/// The public rating forms (`/rate/…`), posted without a session: their CSRF token is the one
/// of the [`RATE_COOKIE`].
pub(crate) const RATE_FORMS: PreSessionForm = PreSessionForm::posted_under("/rate/", RATE_COOKIE);

/// Routes of the ratings' pages, each group with the permission it needs.
pub(crate) fn router() -> Router<AppState> {
    let public = Router::new()
        .route("/rate/{code}", get(rate::rate_form).post(rate::rate))
        .route("/rate/{code}/qr.svg", get(qr::case_qr_svg))
        .route("/rate/{code}/qr.png", get(qr::case_qr_png))
        .route(
            "/rate/w/{unit}/{window}",
            get(rate::window_form).post(rate::window_lookup),
        )
        .route("/rate/w/{unit}/{window}/qr.svg", get(qr::window_qr_svg))
        .route("/rate/w/{unit}/{window}/qr.png", get(qr::window_qr_png))
        .require(Permission::Public);
    let sheet = Router::new()
        .route("/service/qr", get(qr::qr_sheet))
        .require(Permission::HandleRectification);
    let handle = Router::new()
        .route("/service/rectifications", get(rectification::queue))
        .route(
            "/service/rectifications/{id}",
            get(rectification::case_page),
        )
        .route(
            "/service/rectifications/{id}/steps",
            post(rectification::add_step),
        )
        .route(
            "/service/rectifications/{id}/files/{file}",
            get(appeals::appeal_file),
        )
        .require(Permission::HandleRectification);
    let contact = Router::new()
        .route(
            "/service/rectifications/{id}/contact",
            get(rectification::contact),
        )
        .require(Permission::ViewContact);
    let file = Router::new()
        .route(
            "/service/rectifications/{id}/appeal",
            post(appeals::file_appeal),
        )
        .require(Permission::FileAppeal);
    let decide = Router::new()
        .route("/service/appeals", get(appeals::appeals))
        .route("/service/appeals/{id}", post(appeals::decide_appeal))
        .require(Permission::DecideAppeal);
    let figures = Router::new()
        .route("/service/figures", get(pages::figures::figures_page))
        .require(Permission::ViewServiceFigures);
    public
        .merge(sheet)
        .merge(handle)
        .merge(contact)
        .merge(file)
        .merge(decide)
        .merge(figures)
}

/// Routes of the ratings' API, with their OpenAPI description, each group with the permission
/// it needs.
pub(crate) fn api_router() -> OpenApiRouter<AppState> {
    let push = OpenApiRouter::new()
        .routes(routes!(api::push_cases))
        .routes(routes!(api::post_rating))
        .require(Permission::PushServiceData);
    let figures = OpenApiRouter::new()
        .routes(routes!(api::get_figures))
        .require(Permission::ViewServiceFigures);
    push.merge(figures)
}
