//! Static assets, embedded in the binary: the stylesheet, the icon, the charts' script, the
//! pickers' script and Apache ECharts (the npm package's `dist/echarts.min.js`, with its
//! licence and version in `static/echarts/`), served from our own origin so that the CSP stays
//! `'self'`.
//!
//! They are served with a one-year cache lifetime; pages link them with `?v=` and a hash of
//! their content, so a new release is fetched at once.

use super::AppState;
use super::access::{Permission, RequirePermission};
use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;

/// The stylesheet.
pub(crate) const CSS: &str = include_str!("../../static/kaohe.css");
/// The icon.
pub(crate) const FAVICON: &str = include_str!("../../static/favicon.svg");

/// FNV-1a of the stylesheet, as cache-busting version.
pub(crate) const CSS_VERSION: u64 = fnv1a(CSS.as_bytes());
/// The script that draws a report table's chart (`data-chart`).
pub(crate) const CHARTS: &str = include_str!("../../static/charts.js");
/// FNV-1a of the charts' script, as cache-busting version.
pub(crate) const CHARTS_VERSION: u64 = fnv1a(CHARTS.as_bytes());
/// The script of the pickers' search boxes (`data-search`, `data-search-url`).
pub(crate) const PICKER: &str = include_str!("../../static/picker.js");
/// FNV-1a of the pickers' script, as cache-busting version.
pub(crate) const PICKER_VERSION: u64 = fnv1a(PICKER.as_bytes());
/// Apache ECharts, minified, as published.
const ECHARTS: &str = include_str!("../../static/echarts/echarts.min.js");
/// The ECharts release embedded, as cache-busting version (static/echarts/VERSION).
pub(crate) const ECHARTS_VERSION: &str = "5.6.0";

const CACHE_FOR_A_YEAR: &str = "public, max-age=31536000, immutable";

const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// Routes of the assets.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/static/kaohe.css", get(css))
        .route("/static/favicon.svg", get(favicon))
        .route("/static/charts.js", get(charts))
        .route("/static/picker.js", get(picker))
        .route("/static/echarts.min.js", get(echarts))
        .require(Permission::Public)
}

async fn css() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, CACHE_FOR_A_YEAR),
        ],
        CSS,
    )
}

async fn favicon() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "image/svg+xml"),
            (CACHE_CONTROL, CACHE_FOR_A_YEAR),
        ],
        FAVICON,
    )
}

async fn charts() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, CACHE_FOR_A_YEAR),
        ],
        CHARTS,
    )
}

async fn picker() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, CACHE_FOR_A_YEAR),
        ],
        PICKER,
    )
}

async fn echarts() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, CACHE_FOR_A_YEAR),
        ],
        ECHARTS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_and_content_dependent() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
        assert!(CSS.contains("@media print"));
    }
}
