//! Pages of ratings (好差评): the public pages (`rate.rs`) and QR codes (`qr.rs`), and for the
//! staff the rectification queue, a case's history, steps and callback (`rectification.rs`),
//! appeals (`appeals.rs`) and the figures (`figures.rs`). Templates in `templates/ratings/`.

pub(super) mod appeals;
pub(super) mod figures;
pub(super) mod qr;
pub(super) mod rate;
pub(super) mod rectification;

use crate::shell::AppState;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

fn local_time(state: &AppState, t: OffsetDateTime) -> String {
    let t = t.to_offset(state.utc_offset);
    format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
}

fn local_unix(state: &AppState, t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .map(|t| local_time(state, t))
        .unwrap_or_default()
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut().insert(
        LOCATION,
        HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/")),
    );
    r
}

/// The trimmed value of field `name` of a urlencoded form, empty when absent.
fn form_value<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.trim())
}
