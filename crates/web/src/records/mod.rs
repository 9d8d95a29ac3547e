//! Work records (全程纪实) on the web: the pages (templates in `templates/records/`) and the
//! JSON API of dated facts of officials' work, their verification by a second assessor, their
//! amendments and their evidence.
//!
//! - `data.rs`: who may read or act on a record, the records in scope, the fields of a new
//!   record (form, multipart request), the errors of the steps of records.
//! - `view.rs`: records and indicators in words, in the page's language.
//! - `pages.rs`: timelines (`/cadres/{id}/records`, `/my/records`), the verification queue,
//!   the form that records a fact, a record's page with its review and amendment, evidence.
//! - `files.rs`: the import of records from a CSV/XLSX file and their export.
//! - `api.rs`: the JSON API under `/api/v1/records`.
//!
//! The steps themselves are `kaohe_store::records::work`'s (checks, four eyes, amendments, the
//! evidence hash), for the CLI and the web alike. An assessor or unit leader reads and records
//! the facts of the officials of their units; an assessor verifies them, never their own; an
//! official reads their own.

mod api;
mod data;
mod files;
mod pages;
mod view;

use crate::shell::AppState;
use crate::shell::access::{Caller, Permission, RequirePermission};
use crate::shell::error::ApiError;
use axum::Router;
use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How many records of the officials in the caller's scope await a verification the caller
/// may give (those they recorded themselves left out: four eyes), for the home page.
pub(crate) async fn awaiting_verification(
    store: &dyn kaohe_store::Store,
    caller: &Caller,
) -> Result<usize, ApiError> {
    if !caller.0.holds(Permission::VerifyRecords) {
        return Ok(0);
    }
    let query = kaohe_store::records::RecordQuery {
        pending: true,
        ..Default::default()
    };
    let query = data::scoped_query(store, caller, Permission::VerifyRecords, query).await?;
    let me = caller.0.username().unwrap_or_default();
    Ok(store
        .records(&query)
        .await?
        .iter()
        .filter(|r| r.recorded_by != me)
        .count())
}

/// Routes of the records' pages, each group with the permission it needs.
pub(crate) fn router() -> Router<AppState> {
    let view = Router::new()
        .route("/cadres/{id}/records", get(pages::cadre_timeline))
        .route("/records/export.csv", get(files::export_csv))
        .route("/records/export.xlsx", get(files::export_xlsx))
        .require(Permission::ViewRecords);
    let record = Router::new()
        .route("/records/new", get(pages::new_form).post(pages::create))
        .route("/records/{id}/amend", post(pages::amend))
        .route(
            "/records/import",
            get(files::import_form).post(files::import),
        )
        .require(Permission::RecordFacts);
    let verify = Router::new()
        .route("/records/queue", get(pages::queue))
        .route("/records/{id}/review", post(pages::review))
        .require(Permission::VerifyRecords);
    // A record and its evidence: ViewRecords on its official or ViewOwnRecords (handler).
    let one = Router::new()
        .route("/records/{id}", get(pages::detail))
        .route("/records/{id}/files/{file}", get(pages::evidence))
        .require(Permission::ViewCadre);
    let own = Router::new()
        .route("/my/records", get(pages::my_timeline))
        .require(Permission::ViewOwnRecords);
    view.merge(record).merge(verify).merge(one).merge(own)
}

/// Routes of the records' API, with their OpenAPI description, each group with the permission
/// it needs; the scope of the official is checked in each handler.
pub(crate) fn api_router() -> OpenApiRouter<AppState> {
    // Lists, records and evidence: ViewRecords in scope or ViewOwnRecords (handler).
    let view = OpenApiRouter::new()
        .routes(routes!(api::list_records))
        .routes(routes!(api::get_record))
        .routes(routes!(api::record_file))
        .require(Permission::ViewCadre);
    let record = OpenApiRouter::new()
        .routes(routes!(api::create_record))
        .routes(routes!(api::upload_record))
        .routes(routes!(api::amend_record))
        .require(Permission::RecordFacts);
    let verify = OpenApiRouter::new()
        .routes(routes!(api::review_record))
        .require(Permission::VerifyRecords);
    view.merge(record).merge(verify)
}
