//! The web layer of kaohe (考核): a JSON API under `/api/v1` documented by an OpenAPI
//! document, and server-rendered HTML pages in Chinese (default) or English.
//!
//! The `kaohe` binary builds an [`AppState`] around its store, and either mounts [`app`] itself
//! or hands a bound listener to [`serve`]:
//!
//! ```no_run
//! # async fn run(store: std::sync::Arc<dyn kaohe_store::Store>) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let state = kaohe_web::AppState { demo: true, ..kaohe_web::AppState::new(store) };
//! kaohe_web::serve(listener, state, kaohe_web::shutdown_signal()?).await
//! # }
//! ```
//!
//! Routes:
//!
//! | path | what |
//! |---|---|
//! | `/healthz` | `ok` when the database answers, 503 otherwise |
//! | `/`, `/units`, `/units/{code}`, `/cadres`, `/cadres/{id}`, `/calendar` | HTML pages |
//! | `/lang/{zh,en}?next=/path` | remembers the language in a cookie and goes back |
//! | `/login` (GET form, POST), `/logout` (POST) | sign in and out, see [`auth`] |
//! | `/admin/users` | the accounts, for the system administrator |
//! | `/rate/{code}` | the public rating page of a service case (好差评), phone-sized |
//! | `/service/...` | rectification queue, a case's history and steps, callback contact, appeals, figures |
//! | `/admin/users` | the accounts, for the system administrator: create, reset a password, disable, enable |
//! | `/admin/roles` | roles and unit scopes of the accounts, for the security administrator |
//! | `/account` | every account's own page: change the password, set up or remove TOTP |
//! | `/static/kaohe.css`, `/static/favicon.svg` | embedded assets, cached for a year |
//! | `/api/v1/...` | JSON API, see `/api/v1/openapi.json` |
//! | `/api/docs` | Swagger UI, served from the binary (no CDN) |
//!
//! Every route belongs to a group that declares the [`access::Permission`] it needs; a route
//! that declares none answers 500 ([`access`]). Sessions, CSRF, login rate limits and security
//! headers: [`auth`].

pub mod access;
mod api;
mod assets;
pub mod auth;
mod data;
mod error;
pub mod i18n;
mod pages;
mod params;
mod qr;
pub mod service;
mod service_pages;

pub use error::ApiError;
pub use pages::PAGE_ROUTES;

use access::RequirePermission;
use axum::Router;
use axum::middleware;
use kaohe_domain::SanctionPeriods;
use kaohe_store::Store;
use std::future::Future;
use std::sync::Arc;
use time::{OffsetDateTime, UtcOffset};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

/// Largest request body accepted, in bytes (6 MiB: an evidence file of at most 5 MiB with its
/// form).
pub const MAX_BODY_BYTES: usize = 6 * 1024 * 1024;

/// China Standard Time (UTC+8), the default time zone for "today".
pub const CHINA_STANDARD_TIME: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The store, whichever backend it runs on.
    pub store: Arc<dyn Store>,
    /// Whether the data is demo data: every page then says so.
    pub demo: bool,
    /// Sanction periods used to tell whether a sanction is in effect.
    pub sanction_periods: SanctionPeriods,
    /// Time zone of the organization, which decides what "today" is.
    pub utc_offset: UtcOffset,
    /// Accounts and sessions: idle timeout, lockout, password policy, secure cookies.
    pub auth: auth::AuthSettings,
    /// Per-IP buckets of login attempts.
    pub login_limiter: Arc<auth::LoginLimiter>,
    /// Settings of public ratings, rectification and figures.
    pub service: service::ServiceSettings,
    /// The group-commit writer of ratings.
    pub rating_writer: service::RatingWriter,
    /// Per-IP buckets of the public rating form.
    pub rate_limiter: Arc<auth::LoginLimiter>,
    /// Accounts of recently used API tokens.
    pub token_cache: Arc<auth::TokenCache>,
}

impl AppState {
    /// State around a store: not demo data, default sanction periods, China Standard Time.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            demo: false,
            sanction_periods: SanctionPeriods::default(),
            utc_offset: CHINA_STANDARD_TIME,
            auth: auth::AuthSettings::default(),
            login_limiter: Arc::default(),
            service: service::ServiceSettings::default(),
            rating_writer: service::RatingWriter::default(),
            rate_limiter: Arc::default(),
            token_cache: Arc::default(),
        }
    }

    /// Today's date in the organization's time zone.
    pub fn today(&self) -> time::Date {
        OffsetDateTime::now_utc().to_offset(self.utc_offset).date()
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("backend", &self.store.backend())
            .field("demo", &self.demo)
            .field("sanction_periods", &self.sanction_periods)
            .field("utc_offset", &self.utc_offset)
            .field("auth", &self.auth)
            .field("service", &self.service)
            .finish()
    }
}

/// The whole web application: pages, JSON API, OpenAPI document, Swagger UI and static
/// assets, with request tracing and a request body limit.
pub fn app(state: AppState) -> Router {
    let (api_router, openapi) = api::router().split_for_parts();
    let swagger =
        utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", openapi);
    let swagger = Router::<AppState>::new()
        .merge(swagger)
        .require(access::Permission::Public);
    Router::new()
        .merge(api_router)
        .merge(pages::router())
        .merge(service_pages::router())
        .merge(assets::router())
        .merge(swagger)
        .fallback(pages::not_found)
        .layer(middleware::from_fn(access::enforce_declared))
        .layer(middleware::from_fn(auth::csrf_guard))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::resolve_session,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn(auth::security_headers))
        .with_state(state)
}

/// Serves [`app`] on `listener` until `shutdown` resolves, then finishes the requests in
/// flight and returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "listening");
    }
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Listens for SIGINT (Ctrl-C) and SIGTERM from the moment it is called, so that a signal sent
/// as soon as the server says it listens is not lost; the returned future, to pass to
/// [`serve`], resolves on the first of them.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("SIGINT received, shutting down"),
            _ = terminate.recv() => tracing::info!("SIGTERM received, shutting down"),
        }
    })
}
