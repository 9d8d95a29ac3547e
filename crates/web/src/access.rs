//! Who may do what: every group of routes declares the [`Permission`] it needs.
//!
//! Until accounts and roles exist every request is anonymous and kaohe is a read-only viewer,
//! so every permission is granted. Login replaces [`Principal::Anonymous`] with the signed-in
//! user and [`Principal::may`] with the role check; the routes and handlers stay as they are.

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;

/// What a route requires of whoever calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Anyone: health check, static assets, language switch, API documentation.
    Public,
    /// Reading organization data: units, cadres, appointments, sanctions, the calendar.
    ViewOrganization,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Nobody signed in.
    Anonymous,
}

impl Principal {
    /// Whether this principal holds `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        match (self, permission) {
            (_, Permission::Public) => true,
            // No accounts yet: the organization data is open to read.
            (Principal::Anonymous, Permission::ViewOrganization) => true,
        }
    }
}

/// Declares the permission the routes of a router need. Call it after adding the routes.
pub(crate) trait RequirePermission {
    /// Guards every route added so far with `permission`.
    fn require(self, permission: Permission) -> Self;
}

async fn check(permission: Permission, mut request: Request, next: Next) -> Response {
    let principal = Principal::Anonymous;
    if principal.may(permission) {
        request.extensions_mut().insert(permission);
        next.run(request).await
    } else {
        tracing::info!(?permission, "access denied");
        StatusCode::FORBIDDEN.into_response()
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
    fn anonymous_reads() {
        assert!(Principal::Anonymous.may(Permission::Public));
        assert!(Principal::Anonymous.may(Permission::ViewOrganization));
    }
}
