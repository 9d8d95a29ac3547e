//! Query parameters: parsed by hand from the query string so that a bad value is reported
//! with the name of its parameter (422 JSON in the API, an error page in HTML), and so that
//! an empty value (as an HTML form sends for an empty field) means "not given".

use super::error::ApiError;
use axum::extract::{FromRequestParts, Query};
use axum::http::Uri;
use axum::http::request::Parts;
use kaohe_domain::Code;
use kaohe_store::MAX_PER_PAGE;
use time::Date;
use utoipa::IntoParams;

/// Rows per page when the request does not say.
pub(crate) const DEFAULT_PER_PAGE: u32 = 20;

/// The decoded `name=value` pairs of a query string.
#[derive(Debug, Default)]
pub(crate) struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    /// The pairs of a URI's query string, percent-decoded.
    pub(crate) fn from_uri(uri: &Uri) -> Self {
        Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map(|Query(pairs)| Self(pairs))
            .unwrap_or_default()
    }

    /// Every pair, in order.
    pub(crate) fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The last non-empty value of `name`, trimmed.
    pub(crate) fn raw(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .find(|v| !v.is_empty())
    }

    /// Parses parameter `name`; `None` when absent or empty.
    pub(crate) fn get<T: ParamValue>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.raw(name)
            .map(|v| T::parse_param(v).map_err(|reason| ApiError::invalid_param(name, reason)))
            .transpose()
    }
}

/// A type a query parameter can hold.
pub(crate) trait ParamValue: Sized {
    /// Parses the (non-empty, trimmed) value, or says why it is invalid.
    fn parse_param(value: &str) -> Result<Self, String>;
}

impl ParamValue for String {
    fn parse_param(value: &str) -> Result<Self, String> {
        Ok(value.to_owned())
    }
}

impl ParamValue for u32 {
    fn parse_param(value: &str) -> Result<Self, String> {
        value
            .parse()
            .map_err(|e: std::num::ParseIntError| format!("{e} (expected a whole number)"))
    }
}

impl ParamValue for i32 {
    fn parse_param(value: &str) -> Result<Self, String> {
        value
            .parse()
            .map_err(|e: std::num::ParseIntError| format!("{e} (expected a whole number)"))
    }
}

impl ParamValue for bool {
    fn parse_param(value: &str) -> Result<Self, String> {
        match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "on" | "yes" => Ok(true),
            "false" | "0" | "off" | "no" => Ok(false),
            _ => Err(format!(
                "{value:?} is not a boolean (expected true or false)"
            )),
        }
    }
}

impl ParamValue for Code {
    fn parse_param(value: &str) -> Result<Self, String> {
        Code::parse(value).map_err(|e| e.to_string())
    }
}

impl ParamValue for Date {
    fn parse_param(value: &str) -> Result<Self, String> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        Date::parse(value, &format).map_err(|e| format!("{e} (expected a date as YYYY-MM-DD)"))
    }
}

/// A query-parameter struct that parses itself from [`QueryParams`].
pub(crate) trait FromQuery: Sized {
    /// Parses and validates the parameters.
    fn from_query(params: &QueryParams) -> Result<Self, ApiError>;
}

/// Extracts a [`FromQuery`] struct; rejects with a JSON [`ApiError`] naming the parameter.
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<S: Send + Sync, T: FromQuery> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        T::from_query(&QueryParams::from_uri(&parts.uri)).map(ApiQuery)
    }
}

/// Page number and size, validated: page from 1, size 1 to [`MAX_PER_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Paging {
    /// Page number, from 1 (default 1).
    #[param(required = false, minimum = 1, default = 1)]
    pub(crate) page: u32,
    /// Rows per page, 1 to 500 (default 20).
    #[param(required = false, minimum = 1, maximum = 500, default = 20)]
    pub(crate) per_page: u32,
}

impl Default for Paging {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl FromQuery for Paging {
    fn from_query(params: &QueryParams) -> Result<Self, ApiError> {
        let page = params.get::<u32>("page")?.unwrap_or(1);
        if page == 0 {
            return Err(ApiError::invalid_param("page", "pages are numbered from 1"));
        }
        let per_page = params.get::<u32>("per_page")?.unwrap_or(DEFAULT_PER_PAGE);
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(ApiError::invalid_param(
                "per_page",
                format!("must be between 1 and {MAX_PER_PAGE}"),
            ));
        }
        Ok(Self { page, per_page })
    }
}

/// Percent-encodes a query-string component (everything but unreserved characters).
pub(crate) fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `path?k=v&…` from the pairs whose value is non-empty.
pub(crate) fn href(path: &str, pairs: &[(&str, String)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hrefs_encode() {
        assert_eq!(
            href(
                "/units",
                &[("q", "瑶海 区&x".into()), ("kind", String::new())]
            ),
            "/units?q=%E7%91%B6%E6%B5%B7%20%E5%8C%BA%26x"
        );
        assert_eq!(href("/units", &[]), "/units");
    }
}
