//! Tables as files to download (CSV or XLSX), for every capability's exports.

use super::error::ApiError;
use super::page::{PageCtx, PageResult};
use super::params::encode_component;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use kaohe_data::WideCell;

/// The file suffix of an export's `format` parameter (`xlsx` or `csv`); anything else is
/// refused (422) with what was expected.
pub(crate) fn suffix_of(
    ctx: &PageCtx,
    format: &str,
) -> Result<&'static str, super::page::PageError> {
    match format {
        "csv" => Ok(".csv"),
        "xlsx" => Ok(".xlsx"),
        other => Err(ctx.fail(ApiError::InvalidParam {
            name: "format".to_owned(),
            reason: format!("{other:?}: expected xlsx or csv"),
        })),
    }
}

/// A table as a file to download: written by `kaohe_data::write_wide` (CSV or XLSX, by
/// `suffix`) into a temporary file, sent as an attachment named `name` + `suffix` (and
/// `ascii_name` + `suffix` for clients that cannot read the UTF-8 name).
pub(crate) async fn table_file(
    ctx: &PageCtx,
    ascii_name: &str,
    name: String,
    suffix: &'static str,
    header: Vec<String>,
    rows: Vec<Vec<WideCell>>,
) -> PageResult {
    let bytes = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(format!("table{suffix}"));
        kaohe_data::write_wide(&path, &header, &rows).map_err(std::io::Error::other)?;
        std::fs::read(&path)
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "writing a table file stopped");
        ctx.fail(ApiError::Unavailable)
    })?
    .map_err(|e| {
        tracing::error!(error = %e, "cannot write a table file");
        ctx.fail(ApiError::Unavailable)
    })?;
    let content_type = if suffix == ".csv" {
        "text/csv; charset=utf-8"
    } else {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    };
    let mut response: Response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    let disposition = format!(
        "attachment; filename=\"{ascii_name}{suffix}\"; filename*=UTF-8''{}{suffix}",
        encode_component(&name)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
