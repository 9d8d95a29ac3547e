//! What every capability's JSON API shares: the labels of an enumeration beside its code, and
//! request bodies read so that a bad one is reported with the field at fault.

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use kaohe_domain::Labeled;
use serde::Serialize;
use serde_json::error::Category;
use utoipa::ToSchema;

/// A code with its labels.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Label {
    /// Chinese label.
    #[schema(example = "县")]
    zh: &'static str,
    /// English label.
    #[schema(example = "County")]
    en: &'static str,
}

impl Label {
    /// The labels `zh` and `en` (for codes that are not a [`Labeled`] type, e.g. grades of
    /// a scale).
    pub(crate) fn new(zh: &'static str, en: &'static str) -> Self {
        Self { zh, en }
    }
}

/// The labels of an enumeration value.
pub(crate) fn label<T: Labeled>(value: T) -> Label {
    Label {
        zh: value.zh(),
        en: value.en(),
    }
}

/// The body of a JSON route: refused with 415 unless its `Content-Type` is JSON
/// (`application/json` or a `+json` type), so that a form or a file never passes for one.
pub(crate) struct JsonBody(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::trim)
            .is_some_and(|v| v == "application/json" || v.ends_with("+json"));
        if !json {
            return Err(ApiError::UnsupportedMediaType {
                expected: "application/json",
            });
        }
        Bytes::from_request(request, state)
            .await
            .map(JsonBody)
            .map_err(|e| ApiError::invalid_field("body", e.body_text()))
    }
}

/// Parses a JSON body, naming the field at fault (422 `invalid_field`); a body that is not
/// JSON or ends early is reported at the field being read when it broke (`body` before the
/// first), with the line and column.
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let error = e.into_inner();
        if matches!(error.classify(), Category::Eof | Category::Syntax) {
            let at = path
                .trim_end_matches('?')
                .trim_end_matches('.')
                .trim_start_matches('.');
            let field = if at.is_empty() { "body" } else { at };
            let what = if error.is_eof() {
                "the JSON body ends early"
            } else {
                "the body is not valid JSON"
            };
            return ApiError::invalid_field(
                field,
                format!(
                    "{what} at line {}, column {} ({error})",
                    error.line(),
                    error.column()
                ),
            );
        }
        let inner = error.to_string();
        // A missing field is reported at its parent (an unknown one at itself): name it.
        let missing = inner
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name.to_owned(),
            (".", None) => "body".to_owned(),
            (parent, Some(name)) => format!("{parent}.{name}"),
            (p, None) => p.to_owned(),
        };
        ApiError::invalid_field(field, inner)
    })
}
