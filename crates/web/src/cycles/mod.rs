//! Assessment cycles (考核). Today: the indicator frameworks of the scoring engine's built-in
//! presets (`pages.rs`, templates in `templates/cycles/`), for every signed-in account.

mod pages;

use crate::shell::AppState;
use crate::shell::access::{Permission, RequirePermission};
use axum::Router;
use axum::routing::get;

/// Routes of the cycles' pages, each group with the permission it needs.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/frameworks", get(pages::frameworks))
        .route("/frameworks/{name}", get(pages::framework))
        .require(Permission::Authenticated)
}
