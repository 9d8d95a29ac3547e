//! The web layer of kaohe (考核): a JSON API under `/api/v1` documented by an OpenAPI
//! document, and server-rendered HTML pages in Chinese (default) or English.
//!
//! The `kaohe` binary builds an [`AppState`] around its store, and either mounts [`app`] itself
//! or hands a bound listener to [`serve`]:
//!
//! ```no_run
//! # async fn run(
//! #     store: std::sync::Arc<dyn kaohe_store::Store>,
//! #     ballot_key: std::sync::Arc<kaohe_domain::polls::BallotKey>,
//! # ) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! let state = kaohe_web::AppState { demo: true, ..kaohe_web::AppState::new(store, ballot_key) };
//! kaohe_web::serve(listener, state, kaohe_web::shutdown_signal()?).await
//! # }
//! ```
//!
//! The crate is laid out by capability. The [`shell`] is what every capability stands on
//! (state, errors, access, sessions and CSRF, the page context and layout, i18n, assets) and
//! imports none of them. Each capability has a folder with its router (`mod.rs`, which also
//! declares the permission of each group of routes), its API (`api.rs`, when it has one) and
//! its pages, and its templates under `templates/<capability>/`: `org` (units, cadres,
//! calendar), `accounts` (sign-in, account pages, administrators' screens, audit screen),
//! [`ratings`] (好差评), `cycles` (assessment cycles and their frameworks: pages and JSON
//! API), `records` (work records, 全程纪实: pages and JSON API) and [`polls`] (民主测评、
//! 民主推荐: the voting page, the organizer's pages and the JSON API). A capability imports the
//! shell and `org`, never another capability. This file assembles them, with the home page
//! (`home.rs`) and the OpenAPI document (`api.rs`), which draw on several.
//!
//! Routes:
//!
//! | path | what | where |
//! |---|---|---|
//! | `/healthz` | `ok` when the database answers, 503 otherwise | shell |
//! | `/` | the home page: each role's work | `home.rs` |
//! | `/units`, `/units/{code}`, `/cadres`, `/cadres/{id}`, `/calendar` | organization pages | `org` |
//! | `/lang/{zh,en}?next=/path` | remembers the language in a cookie and goes back | shell |
//! | `/login` (GET form, POST), `/logout` (POST) | sign in and out | `accounts` |
//! | `/admin/users` | the accounts, for the system administrator: create, reset a password, disable, enable | `accounts` |
//! | `/admin/roles` | roles and unit scopes of the accounts, for the security administrator | `accounts` |
//! | `/admin/audit` | the audit log and its verification, for the audit administrator | `accounts` |
//! | `/account` | every account's own page: change the password, set up or remove TOTP | `accounts` |
//! | `/rate/{code}`, `/rate/w/{unit}/{window}` | the public rating pages of a case and of a service window (好差评), phone-sized | [`ratings`] |
//! | `/service/...` | rectification queue, a case's history and steps, callback contact, appeals, figures, QR codes | [`ratings`] |
//! | `/frameworks` (GET; POST a TOML file), `/frameworks/{name}`, `/frameworks/{id}/{version}` | indicator frameworks: stored versions and presets, each version's indicators in words, the upload of a new version | `cycles` |
//! | `/cycles` (GET; POST creates), `/cycles/{id}` | the assessor's cycles and the form that creates one; a cycle's dashboard: state and steps, completeness, grades by unit, scope changes, revisions | `cycles` |
//! | `/cycles/{id}/{open,compute,review,finalize}` (POST) | the steps 开始采集, 计算, 提交委员会审议, 定稿 | `cycles` |
//! | `/cycles/{id}/values` (POST, multipart), `/cycles/{id}/template.{xlsx,csv}` | the values upload and the pre-filled template | `cycles` |
//! | `/cycles/{id}/results?unit=&grade=&q=&format=xlsx\|csv` | results with filters, paging and export | `cycles` |
//! | `/cycles/{id}/committee` (GET, POST a decision) | the assessment committee: ties at a quota line, flags, decisions | `cycles` |
//! | `/cycles/{id}/amend` (POST, multipart), `/cycles/{id}/revisions/{revision}` | amendment of a final cycle; a revision with what it changed | `cycles` |
//! | `/my/results` | results of final cycles: an official's own, a unit leader's unit | `cycles` |
//! | `/cadres/{id}/records`, `/my/records` | an official's timeline of work records (纪实); the official's own | `records` |
//! | `/records/new` (GET form, POST multipart), `/records/queue`, `/records/{id}` | record a fact with evidence; the assessor's verification queue; a record with its history | `records` |
//! | `/records/{id}/{review,amend}` (POST), `/records/{id}/files/{file}` | verify or reject (four eyes); correct by amendment; evidence, always as an attachment | `records` |
//! | `/records/import` (GET, POST multipart), `/records/export.{csv,xlsx}` | import of records, all or nothing; export of the records in scope | `records` |
//! | `/vote` (GET `?code=`, POST) | the public voting page of polls (一评一码), phone-sized: the code, the ballot, its confirmation | [`polls`] |
//! | `/polls` (GET; POST creates), `/polls/new`, `/polls/{id}` | the organizer's polls: list, creation form, a poll with its groups, codes issued and used, results once closed | [`polls`] |
//! | `/polls/{id}/{close,codes}` (POST), `/polls/{id}/paper` (GET, POST), `/polls/{id}/paper/confirm` (POST) | close early; draw a group's codes as an A4 sheet of slips with QR codes (shown once); paper counts and their confirmation by another account | [`polls`] |
//! | `/api/v1/polls…` | JSON API of polls: list, one poll, create, close, results (never codes or ballots) | [`polls`] |
//! | `/static/kaohe.css`, `/static/favicon.svg` | embedded assets, cached for a year | shell |
//! | `/api/v1/frameworks`, `/api/v1/cycles…`, `/api/v1/cadres/{id}/results`, `/api/v1/units/{code}/results` | JSON API of cycles: framework versions, cycles and their steps (open, values, compute, review, committee decisions, finalize, amendments), completeness, results; the final results of a cadre and of a unit | `cycles` |
//! | `/api/v1/...` | JSON API, see `/api/v1/openapi.json` | each capability's `api.rs` |
//! | `/api/docs` | Swagger UI, served from the binary (no CDN) | `lib.rs` |
//!
//! Every route belongs to a group that declares the [`shell::access::Permission`] it needs; a
//! route that declares none answers 500 ([`shell::access`]). Sessions, CSRF, login rate limits
//! and security headers: [`shell::auth`].

mod accounts;
mod api;
mod cycles;
mod home;
mod org;
pub mod polls;
pub mod ratings;
mod records;
pub mod shell;

pub use shell::{
    ApiError, AppState, CHINA_STANDARD_TIME, DEFAULT_RECORD_UPLOAD_BYTES, MAX_BODY_BYTES, VoteLimit,
};

use axum::middleware;
use axum::{Extension, Router};
use shell::access::{self, Permission, RequirePermission};
use shell::auth::{self, PreSessionForm};
use std::future::Future;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

/// Every page route with the permission it declares, for the route × role test matrix (which
/// checks that each of them is in the matrix).
pub const PAGE_ROUTES: &[(&str, Permission)] = &[
    ("/", Permission::Public),
    ("/units", Permission::ViewOrganization),
    ("/units/{code}", Permission::ViewUnit),
    ("/cadres", Permission::ViewOrganization),
    ("/cadres/{id}", Permission::ViewCadre),
    ("/calendar", Permission::Authenticated),
    ("/frameworks", Permission::Authenticated),
    ("/frameworks/{name}", Permission::Authenticated),
    ("/frameworks/{id}/{version}", Permission::Authenticated),
    // Assessment cycles (#11): assessors; results of final cycles for officials and leaders.
    ("/cycles", Permission::ViewCycles),
    ("/cycles/{id}", Permission::ViewCycles),
    ("/cycles/{id}/results", Permission::ViewCycles),
    ("/cycles/{id}/revisions/{revision}", Permission::ViewCycles),
    ("/cycles/{id}/open", Permission::ManageCycles),
    ("/cycles/{id}/compute", Permission::ManageCycles),
    ("/cycles/{id}/review", Permission::ManageCycles),
    ("/cycles/{id}/values", Permission::ManageCycles),
    ("/cycles/{id}/template.xlsx", Permission::ManageCycles),
    ("/cycles/{id}/template.csv", Permission::ManageCycles),
    ("/cycles/{id}/committee", Permission::DecideCommittee),
    ("/cycles/{id}/finalize", Permission::FinalizeCycle),
    ("/cycles/{id}/amend", Permission::AmendResults),
    ("/my/results", Permission::ViewOwnResults),
    ("/judgements", Permission::JudgeRoutine),
    // Work records (纪实): timelines, the verification queue, the form, import, export.
    ("/cadres/{id}/records", Permission::ViewRecords),
    ("/records/export.csv", Permission::ViewRecords),
    ("/records/export.xlsx", Permission::ViewRecords),
    ("/records/new", Permission::RecordFacts),
    ("/records/import", Permission::RecordFacts),
    ("/records/{id}/amend", Permission::RecordFacts),
    ("/records/queue", Permission::VerifyRecords),
    ("/records/{id}/review", Permission::VerifyRecords),
    ("/records/{id}", Permission::ViewCadre),
    ("/records/{id}/files/{file}", Permission::ViewCadre),
    ("/my/records", Permission::ViewOwnRecords),
    // Polls (民主测评、民主推荐): the public voting page; the organizer's pages.
    ("/vote", Permission::Public),
    ("/polls", Permission::ViewCycles),
    ("/polls/{id}", Permission::ViewCycles),
    ("/polls/new", Permission::ManageCycles),
    ("/polls/{id}/close", Permission::ManageCycles),
    ("/polls/{id}/codes", Permission::ManageCycles),
    ("/polls/{id}/paper", Permission::ManageCycles),
    ("/polls/{id}/paper/confirm", Permission::ManageCycles),
    ("/logout", Permission::Authenticated),
    ("/admin/users", Permission::ManageAccounts),
    ("/admin/audit", Permission::ViewAudit),
    ("/lang/{lang}", Permission::Public),
    ("/login", Permission::Public),
    ("/rate/{code}", Permission::Public),
    ("/rate/{code}/qr.svg", Permission::Public),
    ("/rate/{code}/qr.png", Permission::Public),
    ("/rate/w/{unit}/{window}", Permission::Public),
    ("/rate/w/{unit}/{window}/qr.svg", Permission::Public),
    ("/rate/w/{unit}/{window}/qr.png", Permission::Public),
    ("/service/qr", Permission::HandleRectification),
    ("/service/rectifications", Permission::HandleRectification),
    (
        "/service/rectifications/{id}",
        Permission::HandleRectification,
    ),
    (
        "/service/rectifications/{id}/steps",
        Permission::HandleRectification,
    ),
    (
        "/service/rectifications/{id}/contact",
        Permission::ViewContact,
    ),
    (
        "/service/rectifications/{id}/files/{file}",
        Permission::HandleRectification,
    ),
    (
        "/service/rectifications/{id}/appeal",
        Permission::FileAppeal,
    ),
    ("/service/appeals", Permission::DecideAppeal),
    ("/service/appeals/{id}", Permission::DecideAppeal),
    ("/service/figures", Permission::ViewServiceFigures),
    // Account management (#3): system administrator, security administrator, self service.
    (
        "/admin/users/{username}/password",
        Permission::ManageAccounts,
    ),
    (
        "/admin/users/{username}/disable",
        Permission::ManageAccounts,
    ),
    ("/admin/users/{username}/enable", Permission::ManageAccounts),
    ("/admin/roles", Permission::ManageRoles),
    ("/admin/roles/{username}", Permission::ManageRoles),
    ("/account", Permission::Authenticated),
    ("/account/password", Permission::Authenticated),
    ("/account/totp", Permission::Authenticated),
    ("/account/totp/remove", Permission::Authenticated),
];

/// The forms posted before any session exists, each with the cookie of its CSRF token.
const PRE_SESSION_FORMS: &[PreSessionForm] =
    &[accounts::LOGIN_FORM, ratings::RATE_FORMS, polls::VOTE_FORM];

/// The whole web application: pages, JSON API, OpenAPI document, Swagger UI and static
/// assets, with request tracing and a request body limit.
pub fn app(state: AppState) -> Router {
    let (api_router, openapi) = api::router().split_for_parts();
    let swagger =
        utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", openapi);
    let swagger = Router::<AppState>::new()
        .merge(swagger)
        .require(Permission::Public);
    Router::new()
        .merge(api_router)
        .merge(home::router())
        .merge(org::router())
        .merge(accounts::router())
        .merge(ratings::router())
        .merge(cycles::router())
        .merge(records::router())
        .merge(polls::router())
        .merge(shell::router())
        .merge(swagger)
        .fallback(shell::page::not_found)
        // One group-commit writer of ratings per application, for the API and the rating page.
        .layer(Extension(ratings::RatingWriter::default()))
        .layer(middleware::from_fn(access::enforce_declared))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            shell::input::text_guard,
        ))
        .layer(middleware::from_fn_with_state(
            PRE_SESSION_FORMS,
            auth::csrf_guard,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::resolve_session,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        // The span of a request names its method and path, never its query: `/vote?code=…`
        // carries a ballot code that no log line may hold.
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        // Pages, JSON and the stylesheet go out gzip-compressed to clients that accept it
        // (tower-http's default: not images, nor bodies too small to gain).
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(auth::security_headers))
        .with_state(state)
}

/// The span of a request: method and path, without the query string.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
    )
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
