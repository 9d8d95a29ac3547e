//! Who may do what: every group of routes declares the [`Permission`] it needs, checked against
//! the signed-in [`Principal`] by the rules of [`kaohe_domain::access`] (the one home of the
//! role → permission matrix).
//!
//! A route that declares no permission cannot answer: [`enforce_declared`] turns its response
//! into a 500, so forgetting `.require(…)` fails every test that visits the route. Scoped
//! permissions ([`Permission::ViewUnit`], [`Permission::ViewCadre`]) are checked twice: here,
//! that some role grants them at all, and in the handler against the unit or cadre asked for.

pub use kaohe_domain::access::{Permission, Principal, Target};

use super::error::ApiError;
use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header::LOCATION};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;

/// Declares the permission the routes of a router need. Call it after adding the routes.
pub(crate) trait RequirePermission {
    /// Guards every route added so far with `permission`.
    fn require(self, permission: Permission) -> Self;
}

/// The permission a route declared, attached to its response for [`enforce_declared`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Declared(pub(crate) Permission);

/// The principal of a request (anonymous when the session layer did not run).
pub(crate) fn principal_of(parts: &Parts) -> Principal {
    parts
        .extensions
        .get::<Principal>()
        .cloned()
        .unwrap_or(Principal::Anonymous)
}

/// Extractor of the request's [`Principal`].
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub(crate) Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Caller(principal_of(parts)))
    }
}

impl Caller {
    /// The cadre record of an official (干部本人): the account's own cadre when it holds the
    /// official role; `None` for everyone else.
    pub(crate) fn own_cadre(&self) -> Option<&kaohe_domain::Code> {
        match &self.0 {
            Principal::User(user) if user.roles.contains(&kaohe_domain::Role::Official) => {
                user.cadre.as_ref()
            }
            _ => None,
        }
    }

    /// `Ok` when the caller may use `permission` on `target`, else [`ApiError::Forbidden`].
    pub(crate) fn check(&self, permission: Permission, target: Target<'_>) -> Result<(), ApiError> {
        if self.0.may(permission, target) {
            Ok(())
        } else {
            tracing::info!(?permission, user = ?self.0.username(), "access denied (scope)");
            Err(ApiError::Forbidden)
        }
    }
}

/// The answer to a request the principal may not make: 401 JSON (API) or a redirect to the
/// login page (pages) for the anonymous; 403 for the signed-in, as JSON under `/api/` and as
/// an error page in the account's language elsewhere.
pub(crate) fn deny(principal: &Principal, request: &Request) -> Response {
    let (path, query) = (request.uri().path(), request.uri().query());
    let api = path.starts_with("/api/");
    match principal {
        Principal::Anonymous if api => ApiError::Unauthorized.into_response(),
        Principal::Anonymous => {
            let next = match query {
                Some(q) => format!("{path}?{q}"),
                None => path.to_owned(),
            };
            let target = format!("/login?next={}", super::params::encode_component(&next));
            let mut r = StatusCode::SEE_OTHER.into_response();
            r.headers_mut().insert(
                LOCATION,
                HeaderValue::from_str(&target).unwrap_or(HeaderValue::from_static("/login")),
            );
            r
        }
        Principal::User(_) => {
            let demo = request
                .extensions()
                .get::<super::auth::DemoData>()
                .is_some_and(|d| d.0);
            super::page::error_response(request.uri(), request.headers(), demo, ApiError::Forbidden)
        }
    }
}

/// Where an account whose password must be changed is sent.
pub(crate) const PASSWORD_CHANGE_PAGE: &str = "/account";

/// What an account whose password must be changed may still use besides public routes: its
/// account page, the password form, and signing out.
const WHILE_PASSWORD_CHANGE_DUE: [&str; 3] = [PASSWORD_CHANGE_PAGE, "/account/password", "/logout"];

/// The answer to a request of an account that must change its password first: the account
/// page (pages) or 403 (API).
fn password_change_first(path: &str) -> Response {
    if path.starts_with("/api/") {
        ApiError::Forbidden.into_response()
    } else {
        let mut r = StatusCode::SEE_OTHER.into_response();
        r.headers_mut()
            .insert(LOCATION, HeaderValue::from_static(PASSWORD_CHANGE_PAGE));
        r
    }
}

async fn check(permission: Permission, mut request: Request, next: Next) -> Response {
    let principal = request
        .extensions()
        .get::<Principal>()
        .cloned()
        .unwrap_or(Principal::Anonymous);
    let change_due = request
        .extensions()
        .get::<super::auth::PasswordChangeDue>()
        .is_some()
        && permission != Permission::Public
        && !WHILE_PASSWORD_CHANGE_DUE.contains(&request.uri().path());
    let mut response = if change_due {
        tracing::info!(user = ?principal.username(), path = %request.uri().path(), "password change due");
        password_change_first(request.uri().path())
    } else if principal.holds(permission) {
        request.extensions_mut().insert(permission);
        next.run(request).await
    } else {
        tracing::info!(?permission, user = ?principal.username(), path = %request.uri().path(), "access denied");
        deny(&principal, &request)
    };
    response.extensions_mut().insert(Declared(permission));
    response
}

/// Middleware around the whole application: a response of a route that declared no
/// permission becomes a 500 (fail closed).
pub(crate) async fn enforce_declared(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if let Some(Declared(permission)) = response.extensions().get::<Declared>() {
        tracing::trace!(%path, ?permission, "declared permission");
        response
    } else if matches!(
        response.status(),
        StatusCode::METHOD_NOT_ALLOWED | StatusCode::PAYLOAD_TOO_LARGE
    ) {
        // Answered by the router before any route ran: nothing was served.
        response
    } else {
        tracing::error!(%path, "route declares no permission");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "route declares no permission",
        )
            .into_response()
    }
}

impl<S: Clone + Send + Sync + 'static> RequirePermission for Router<S> {
    fn require(self, permission: Permission) -> Self {
        self.route_layer(middleware::from_fn(move |request, next| {
            check(permission, request, next)
        }))
    }
}

impl<S: Clone + Send + Sync + 'static> RequirePermission for OpenApiRouter<S> {
    fn require(self, permission: Permission) -> Self {
        self.route_layer(middleware::from_fn(move |request, next| {
            check(permission, request, next)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_gets_only_public() {
        assert!(Principal::Anonymous.holds(Permission::Public));
        for p in Permission::ALL
            .into_iter()
            .filter(|p| *p != Permission::Public)
        {
            assert!(!Principal::Anonymous.holds(p), "{p:?}");
        }
    }
}
