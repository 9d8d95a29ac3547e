//! What every capability's JSON API shares: the labels of an enumeration beside its code, and
//! request bodies read so that a bad one is reported with the field at fault.

use super::error::ApiError;
use axum::body::Bytes;
use kaohe_domain::Labeled;
use serde::Serialize;
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

/// Parses a JSON body, naming the field at fault (422 `invalid_field`).
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
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
