//! QR codes: per case (on the receipt), per service window (on the counter), as SVG or PNG,
//! and the printable sheet of the windows of the units in scope (`/service/qr`).

use super::rate::{known_window, public_rate_limit, rating_case, window_path};
use crate::org::data::units_in_scope;
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission};
use crate::shell::error::ApiError;
use crate::shell::page::{PageCtx, PageResult, render};
use crate::shell::params::encode_component;
use crate::shell::qr::{Qr, public_base};
use askama::Template;
use axum::Extension;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kaohe_domain::Code;
use std::net::SocketAddr;

fn qr_response(qr: Option<Qr>, png: bool, caption: &str) -> Response {
    let Some(qr) = qr else {
        return ApiError::invalid_param("url", "too long for a QR code").into_response();
    };
    let (kind, body) = if png {
        ("image/png", qr.png(8))
    } else {
        (
            "image/svg+xml; charset=utf-8",
            qr.svg(320, caption).into_bytes(),
        )
    };
    let mut r = body.into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(kind),
    );
    r
}

/// A case's QR code. Taken from the same per-client bucket as the rating form: the answer
/// tells whether a code exists, so codes cannot be tried faster through the images.
async fn case_qr(
    ctx: PageCtx,
    state: AppState,
    (connect, headers): (Option<Extension<ConnectInfo<SocketAddr>>>, HeaderMap),
    code: String,
    png: bool,
) -> PageResult {
    public_rate_limit(&state, connect).map_err(|e| ctx.fail(e))?;
    let case = rating_case(&state, &ctx, &code).await?;
    let url = format!(
        "{}/rate/{}",
        public_base(&state, &headers),
        encode_component(&case.rating_code)
    );
    let caption = format!("{} · {}", ctx.t("rate.title"), case.case.id);
    Ok(qr_response(Qr::new(&url), png, &caption))
}

/// `GET /rate/{code}/qr.svg`: the case's QR code, for its receipt.
pub(crate) async fn case_qr_svg(
    ctx: PageCtx,
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> PageResult {
    case_qr(ctx, state, (connect, headers), code, false).await
}

/// `GET /rate/{code}/qr.png`.
pub(crate) async fn case_qr_png(
    ctx: PageCtx,
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> PageResult {
    case_qr(ctx, state, (connect, headers), code, true).await
}

async fn window_qr(
    ctx: PageCtx,
    state: AppState,
    headers: HeaderMap,
    (unit, window): (String, String),
    png: bool,
) -> PageResult {
    let (unit, window, name) = known_window(&state, &ctx, &unit, &window).await?;
    let url = format!(
        "{}{}",
        public_base(&state, &headers),
        window_path(&unit, &window)
    );
    let caption = format!("{name} · {window} · {}", ctx.t("rate.title"));
    Ok(qr_response(Qr::new(&url), png, &caption))
}

/// `GET /rate/w/{unit}/{window}/qr.svg`: the window's QR code, for its counter.
pub(crate) async fn window_qr_svg(
    ctx: PageCtx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(p): Path<(String, String)>,
) -> PageResult {
    window_qr(ctx, state, headers, p, false).await
}

/// `GET /rate/w/{unit}/{window}/qr.png`.
pub(crate) async fn window_qr_png(
    ctx: PageCtx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(p): Path<(String, String)>,
) -> PageResult {
    window_qr(ctx, state, headers, p, true).await
}

#[derive(Debug)]
struct WindowRow {
    unit: String,
    window: String,
    cases: u64,
    svg: String,
    png: String,
    page: String,
}

#[derive(Template)]
#[template(path = "ratings/qr.html")]
struct QrSheet {
    ctx: PageCtx,
    rows: Vec<WindowRow>,
}

/// `GET /service/qr`: the windows of the units in scope with their QR codes, to print.
pub(crate) async fn qr_sheet(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
) -> PageResult {
    let store = state.store.as_ref();
    let scope: std::collections::HashMap<Code, String> =
        units_in_scope(store, &caller, Permission::HandleRectification)
            .await
            .map_err(|e| ctx.fail(e))?
            .into_iter()
            .map(|u| (u.code, u.name))
            .collect();
    let rows = store
        .service_windows()
        .await
        .map_err(|e| ctx.fail(e))?
        .into_iter()
        .filter_map(|(unit, window, cases)| {
            let name = scope.get(&unit)?.clone();
            let page = window_path(&unit, &window);
            Some(WindowRow {
                unit: name,
                window: window.to_string(),
                cases,
                svg: format!("{page}/qr.svg"),
                png: format!("{page}/qr.png"),
                page,
            })
        })
        .collect();
    Ok(render(StatusCode::OK, &QrSheet { ctx, rows }))
}
