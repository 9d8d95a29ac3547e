//! The API routes of the shell: the health check and the JSON 404 of every path under
//! `/api/v1` that no capability serves.

use super::AppState;
use super::access::{Permission, RequirePermission};
use super::error::{ApiError, cause_chain};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The public API routes of the shell.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .route("/api/v1", axum::routing::any(no_route))
        .route("/api/v1/{*rest}", axum::routing::any(no_route))
        .require(Permission::Public)
}

async fn no_route() -> ApiError {
    ApiError::NoRoute
}

/// `GET /healthz`: `ok` when the store answers, 503 otherwise.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "meta",
    responses(
        (status = 200, description = "The database answers", body = String, content_type = "text/plain", example = "ok"),
        (status = 503, description = "The database does not answer", body = String, content_type = "text/plain"),
    )
)]
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(error) => {
            tracing::error!(error = %cause_chain(&error), "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    }
}
