//! The shell every capability stands on: the application state ([`AppState`]), errors
//! ([`ApiError`]), who may do what ([`access`]), sessions, CSRF, rate limits and security
//! headers ([`auth`]), messages in Chinese and English ([`i18n`]), what the JSON
//! API shares (`json`: labels, request bodies), the page context and layout
//! (`page`), query parameters (`params`), QR codes (`qr`), static assets (`assets`) and the
//! words of grades and rules that several capabilities show (`words`).
//!
//! The shell imports no capability: the capabilities import the shell, and what two of them
//! share moves down here (or into the domain or the store).

pub mod access;
pub(crate) mod api;
pub(crate) mod assets;
pub mod auth;
pub(crate) mod download;
pub(crate) mod error;
pub mod i18n;
pub(crate) mod input;
pub(crate) mod json;
pub(crate) mod page;
pub(crate) mod params;
pub(crate) mod qr;
mod state;
pub(crate) mod words;

pub use error::ApiError;
pub use state::{
    AppState, CHINA_STANDARD_TIME, DEFAULT_RECORD_UPLOAD_BYTES, MAX_BODY_BYTES, VoteLimit,
};

use access::{Permission, RequirePermission};
use axum::Router;
use axum::routing::get;

/// Routes of the shell's pages: the language switch and the static assets.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/lang/{lang}", get(page::set_lang))
        .require(Permission::Public)
        .merge(assets::router())
}
