//! Democratic evaluation and recommendation polls (民主测评、民主推荐) on the web.
//!
//! - `vote.rs`: the public voting page `/vote` (no account, phone-sized): a code typed or
//!   scanned, the ballot, its confirmation, the cast; rate-limited per client address.
//! - `pages.rs`: the organizer's pages (assessors): the list, creating a poll, a poll's page
//!   with its groups, codes and results, closing early, the A4 sheet of code slips with QR
//!   codes, paper counts and their confirmation by a second account.
//! - `view.rs`: polls and their results in words; who may see a poll.
//! - `api.rs`: `/api/v1/polls`: list, one poll, create, close, results. Codes and ballots are
//!   never readable through the API, nor anywhere else.
//!
//! The rules are the domain's (`kaohe_domain::polls`), the storage and its secrecy the store's
//! (`kaohe_store::polls`). An assessor sees and runs the polls whose people all serve in
//! their units (`ViewCycles` to read, `ManageCycles` to act).

mod api;
mod pages;
mod view;
mod vote;

use crate::shell::AppState;
use crate::shell::access::{Caller, Permission, RequirePermission};
use crate::shell::auth::PreSessionForm;
use crate::shell::error::ApiError;
use axum::Router;
use axum::routing::{get, post};
use kaohe_domain::Code;
use kaohe_domain::audit::action;
use kaohe_domain::polls::Poll;
use kaohe_store::StoreError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Pre-session cookie carrying the voting form's CSRF token.
pub const VOTE_COOKIE: &str = "kaohe_vote";

/// The public voting form (`/vote`), posted without a session: its CSRF token is the one of
/// the [`VOTE_COOKIE`].
pub(crate) const VOTE_FORM: PreSessionForm = PreSessionForm::posted_to("/vote", VOTE_COOKIE);

/// The answer to a refused step of a poll: a rule (422) or a conflict with what is stored
/// (409) with the reason; anything else is a failure of the store.
pub(crate) fn poll_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(reason) => ApiError::Conflict {
            code: "poll_conflict",
            reason,
        },
        StoreError::Poll(e) => ApiError::Refused {
            code: "invalid_poll",
            reason: e.to_string(),
        },
        StoreError::Paper(e) => ApiError::Refused {
            code: "invalid_paper_count",
            reason: e.to_string(),
        },
        StoreError::FourEyes(e) => ApiError::Refused {
            code: "four_eyes",
            reason: e.to_string(),
        },
        other => ApiError::Store(other),
    }
}

/// The poll `id` when it exists (404) and the caller's scope covers its people (403).
pub(crate) async fn poll_for(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Poll, ApiError> {
    let not_found = || ApiError::not_found("poll", id);
    let code = Code::parse(id).map_err(|_| not_found())?;
    let poll = state.store.poll(&code).await?.ok_or_else(not_found)?;
    if !view::in_scope(state.store.as_ref(), caller, &poll.people).await? {
        tracing::info!(user = ?caller.0.username(), "access denied (poll scope)");
        return Err(ApiError::Forbidden);
    }
    Ok(poll)
}

/// Why a poll was not created.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CreateError {
    /// A person who is no cadre.
    #[error("no cadre {0}")]
    NoCadre(Code),
    /// A person outside the caller's scope.
    #[error("a person outside the caller's units")]
    Scope,
    /// The cycle named does not exist or does not assess a person.
    #[error(transparent)]
    Cycle(#[from] kaohe_store::polls::CycleMisfit),
    /// The id is taken, or the store refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A check of the caller's scope failed.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<CreateError> for ApiError {
    fn from(e: CreateError) -> Self {
        match e {
            CreateError::Scope => ApiError::Forbidden,
            CreateError::Store(e) => poll_error(e),
            CreateError::Api(e) => e,
            e @ (CreateError::NoCadre(_) | CreateError::Cycle(_)) => ApiError::Refused {
                code: "invalid_poll",
                reason: e.to_string(),
            },
        }
    }
}

/// Stores a checked poll for the caller: its people in the caller's scope, and those of its
/// cycle when it names one.
pub(crate) async fn create_poll(
    state: &AppState,
    caller: &Caller,
    poll: &Poll,
    cycle: Option<i64>,
) -> Result<(), CreateError> {
    let store = state.store.as_ref();
    for p in &poll.people {
        if store.get_cadre(p).await?.is_none() {
            return Err(CreateError::NoCadre(p.clone()));
        }
    }
    if !view::in_scope(store, caller, &poll.people).await? {
        return Err(CreateError::Scope);
    }
    if let Some(c) = cycle
        && let Some(misfit) = kaohe_store::polls::cycle_misfit(store, c, &poll.people).await?
    {
        return Err(misfit.into());
    }
    let by = caller.0.username().unwrap_or("web");
    store
        .create_poll(
            poll,
            by,
            &kaohe_domain::NewAuditEntry::new(by, action::POLL_CREATE, poll.id.as_str()),
        )
        .await?;
    Ok(())
}

/// Routes of the polls' pages, each group with the permission it needs.
pub(crate) fn router() -> Router<AppState> {
    let public = Router::new()
        .route("/vote", get(vote::vote_form).post(vote::vote))
        .require(Permission::Public);
    let view = Router::new()
        .route("/polls", get(pages::list))
        .route("/polls/{id}", get(pages::detail))
        .require(Permission::ViewCycles);
    let manage = Router::new()
        .route("/polls", post(pages::create))
        .route("/polls/new", get(pages::new_form))
        .route("/polls/{id}/close", post(pages::close))
        .route("/polls/{id}/codes", post(pages::codes))
        .route(
            "/polls/{id}/paper",
            get(pages::paper_form).post(pages::paper),
        )
        .route("/polls/{id}/paper/confirm", post(pages::confirm))
        .require(Permission::ManageCycles);
    public.merge(view).merge(manage)
}

/// Routes of the polls' API, with their OpenAPI description, each group with the permission
/// it needs; the scope of the poll's people is checked in each handler.
pub(crate) fn api_router() -> OpenApiRouter<AppState> {
    let view = OpenApiRouter::new()
        .routes(routes!(api::list_polls))
        .routes(routes!(api::get_poll))
        .routes(routes!(api::poll_results))
        .require(Permission::ViewCycles);
    let manage = OpenApiRouter::new()
        .routes(routes!(api::create_poll))
        .routes(routes!(api::close_poll))
        .require(Permission::ManageCycles);
    view.merge(manage)
}
