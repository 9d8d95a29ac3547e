//! Errors of the JSON API and how they look on the wire.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kaohe_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// Everything a request can fail with. As JSON:
/// `{"error": {"code": "not_found", "message": "…"}}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No unit, cadre, … with this identifier (404).
    #[error("{what} {id:?} not found")]
    NotFound {
        /// What was looked for, e.g. `unit`.
        what: &'static str,
        /// The identifier asked for.
        id: String,
    },
    /// No route has this path (404).
    #[error("no such API route")]
    NoRoute,
    /// A query parameter does not parse or is out of range (422).
    #[error("invalid query parameter `{name}`: {reason}")]
    InvalidParam {
        /// The parameter.
        name: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A field of a request body is missing, malformed or breaks a rule (422).
    #[error("invalid field `{field}`: {reason}")]
    InvalidField {
        /// The field, as a path into the body (`level`, `cases[3].unit`).
        field: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The request is well-formed but a rule refuses it (422), with a stable code such as
    /// `rating_window_closed`.
    #[error("{reason}")]
    Refused {
        /// Stable code.
        code: &'static str,
        /// What rule, and what to do.
        reason: String,
    },
    /// The request conflicts with what is stored (409), e.g. a second rating of a case.
    #[error("{reason}")]
    Conflict {
        /// Stable code, e.g. `already_rated`.
        code: &'static str,
        /// What conflicts.
        reason: String,
    },
    /// The store could not take the request now (503); the cause has been logged.
    #[error("temporarily unavailable; try again")]
    Unavailable,
    /// Too many requests from this client; try again later (429).
    #[error("too many requests; try again in a minute")]
    RateLimited,
    /// The body is not of the type the route takes (415): a JSON route given a form, say.
    #[error("the body must be {expected} (Content-Type: {expected})")]
    UnsupportedMediaType {
        /// The media type the route takes.
        expected: &'static str,
    },
    /// Nobody is signed in and the route needs an account (401).
    #[error("sign in first")]
    Unauthorized,
    /// The signed-in account may not do this (403).
    #[error("forbidden")]
    Forbidden,
    /// The store failed (500). Logged with its cause chain; the client gets a generic message.
    #[error("storage failed")]
    Store(#[from] StoreError),
    /// A built-in indicator framework does not parse (500): a defect of the release, logged.
    #[error("built-in framework is invalid")]
    Framework(#[from] kaohe_engine::FrameworkError),
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    /// The error.
    pub(crate) error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorDetail {
    /// Stable machine-readable code: `not_found`, `no_route`, `invalid_parameter`,
    /// `invalid_field`, `unauthorized`, `forbidden`, `rate_limited`, `internal_error`, and the
    /// codes of refused requests (`rating_window_closed`, `case_not_closed`, `invalid_values`,
    /// `reason_required`, `quota_exceeded`, …) and conflicts (`already_rated`, `wrong_state`,
    /// `version_taken`, …).
    #[schema(example = "invalid_parameter")]
    pub(crate) code: &'static str,
    /// Human-readable explanation (English).
    #[schema(example = "invalid query parameter `page`: invalid digit found in string")]
    pub(crate) message: String,
    /// The offending query parameter, for `invalid_parameter`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "page")]
    pub(crate) parameter: Option<String>,
    /// The offending field of the request body, for `invalid_field`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "level")]
    pub(crate) field: Option<String>,
}

impl ApiError {
    /// A 404 for `what` (e.g. `unit`) with identifier `id`.
    pub fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        Self::NotFound {
            what,
            id: id.into(),
        }
    }

    /// A 422 naming the query parameter `name`.
    pub fn invalid_param(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidParam {
            name: name.into(),
            reason: reason.into(),
        }
    }

    /// A 422 naming the body field `field`.
    pub fn invalid_field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound { .. } | Self::NoRoute => StatusCode::NOT_FOUND,
            Self::InvalidParam { .. } | Self::InvalidField { .. } | Self::Refused { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Store(_) | Self::Framework(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::NoRoute => "no_route",
            Self::InvalidParam { .. } => "invalid_parameter",
            Self::InvalidField { .. } => "invalid_field",
            Self::Refused { code, .. } | Self::Conflict { code, .. } => code,
            Self::RateLimited => "rate_limited",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::Unavailable => "unavailable",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::Store(_) | Self::Framework(_) => "internal_error",
        }
    }

    /// Logs a server-side failure with its whole cause chain; client errors are not logged.
    pub(crate) fn log(&self) {
        if self.status().is_server_error() {
            tracing::error!(error = %cause_chain(self), "request failed");
        }
    }

    pub(crate) fn body(&self) -> ErrorBody {
        let message = match self {
            Self::Store(_) | Self::Framework(_) => {
                "internal server error; the cause has been logged".to_owned()
            }
            other => other.to_string(),
        };
        let parameter = match self {
            Self::InvalidParam { name, .. } => Some(name.clone()),
            _ => None,
        };
        let field = match self {
            Self::InvalidField { field, .. } => Some(field.clone()),
            _ => None,
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message,
                parameter,
                field,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        (self.status(), Json(self.body())).into_response()
    }
}

/// `error: cause: cause of cause …`, for logs.
pub(crate) fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        let e = ApiError::invalid_param("page", "invalid digit found in string");
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = serde_json::to_value(e.body()).expect("serializes");
        assert_eq!(body["error"]["code"], "invalid_parameter");
        assert_eq!(body["error"]["parameter"], "page");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("`page`"))
        );
        let e = ApiError::not_found("unit", "NOPE");
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        let body = serde_json::to_value(e.body()).expect("serializes");
        assert!(body["error"].get("parameter").is_none());
    }

    #[test]
    fn store_errors_are_generic_to_clients_and_chained_in_logs() {
        let e = ApiError::from(StoreError::UnsupportedUrl("mysql://x".into()));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.body().error.message.contains("mysql"));
        assert!(cause_chain(&e).contains("mysql://x"));
    }
}
