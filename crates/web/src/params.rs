//! Query parameters: parsed by hand from the query string so that a bad value is reported
//! with the name of its parameter (422 JSON in the API, an error page in HTML), and so that
//! an empty value (as an HTML form sends for an empty field) means "not given".

use crate::error::ApiError;
use axum::extract::{FromRequestParts, Query};
use axum::http::Uri;
use axum::http::request::Parts;
use kaohe_domain::{Code, Labeled, UnitKind};
use kaohe_store::MAX_PER_PAGE;
use time::Date;
use utoipa::IntoParams;

/// Rows per page when the request does not say.
pub(crate) const DEFAULT_PER_PAGE: u32 = 20;

/// Most working days the calendar counts in one request (about 40 years).
pub(crate) const MAX_DAYS: u32 = 10_000;

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

impl ParamValue for UnitKind {
    fn parse_param(value: &str) -> Result<Self, String> {
        UnitKind::parse_label(value).map_err(|e| e.to_string())
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

/// Which units to list.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UnitListParams {
    /// Text searched in unit code and name (case-insensitive).
    pub(crate) q: Option<String>,
    /// Only the direct children of the unit with this code.
    #[param(value_type = Option<String>)]
    pub(crate) parent: Option<Code>,
    /// Only units of this kind: `province`, `city`, `county`, `township` or `department`.
    #[param(value_type = Option<String>, example = "county")]
    pub(crate) kind: Option<UnitKind>,
    /// Page and page size (documented by [`Paging`]).
    #[param(ignore)]
    pub(crate) paging: Paging,
}

impl FromQuery for UnitListParams {
    fn from_query(params: &QueryParams) -> Result<Self, ApiError> {
        let paging = Paging::from_query(params)?;
        Ok(Self {
            q: params.get("q")?,
            parent: params.get("parent")?,
            kind: params.get("kind")?,
            paging,
        })
    }
}

/// Which cadres to list.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CadreListParams {
    /// Text searched in cadre id, name and post (case-insensitive).
    pub(crate) q: Option<String>,
    /// Only cadres of the unit with this code.
    #[param(value_type = Option<String>)]
    pub(crate) unit: Option<Code>,
    /// Only members of leadership teams (领导班子成员).
    pub(crate) leaders: Option<bool>,
    /// Page and page size (documented by [`Paging`]).
    #[param(ignore)]
    pub(crate) paging: Paging,
}

impl FromQuery for CadreListParams {
    fn from_query(params: &QueryParams) -> Result<Self, ApiError> {
        let paging = Paging::from_query(params)?;
        Ok(Self {
            q: params.get("q")?,
            unit: params.get("unit")?,
            leaders: params.get("leaders")?,
            paging,
        })
    }
}

/// Which calendar entries to list.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CalendarParams {
    /// Only entries of this year.
    pub(crate) year: Option<i32>,
}

impl FromQuery for CalendarParams {
    fn from_query(params: &QueryParams) -> Result<Self, ApiError> {
        Ok(Self {
            year: params.get("year")?,
        })
    }
}

/// A working-day count: the `days`-th working day after `from`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct WorkingDaysParams {
    /// Start date (not counted), as YYYY-MM-DD.
    #[param(value_type = String, format = Date, example = "2025-09-26")]
    pub(crate) from: Date,
    /// Working days to count, 0 to 10000.
    #[param(minimum = 0, maximum = 10000, example = 5)]
    pub(crate) days: u32,
}

impl WorkingDaysParams {
    /// Parses `from` and `days` when both are present; `None` when neither is.
    pub(crate) fn optional(params: &QueryParams) -> Result<Option<Self>, ApiError> {
        let from = params.get::<Date>("from")?;
        let days = params.get::<u32>("days")?;
        match (from, days) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(ApiError::invalid_param("days", "missing")),
            (None, Some(_)) => Err(ApiError::invalid_param("from", "missing")),
            (Some(from), Some(days)) if days > MAX_DAYS => Err(ApiError::invalid_param(
                "days",
                format!("at most {MAX_DAYS} working days; got {days} (from {from})"),
            )),
            (Some(from), Some(days)) => Ok(Some(Self { from, days })),
        }
    }
}

impl FromQuery for WorkingDaysParams {
    fn from_query(params: &QueryParams) -> Result<Self, ApiError> {
        Self::optional(params)?.ok_or_else(|| ApiError::invalid_param("from", "missing"))
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

    fn params(query: &str) -> QueryParams {
        let uri: Uri = format!("/x?{query}").parse().expect("uri");
        QueryParams::from_uri(&uri)
    }

    #[test]
    fn empty_means_absent_and_errors_name_the_parameter() {
        let p = params("q=&kind=&page=2&per_page=5&parent=%E5%8D%95");
        let u = UnitListParams::from_query(&p).expect("valid");
        assert_eq!(u.q, None);
        assert_eq!(u.kind, None);
        assert_eq!(
            u.paging,
            Paging {
                page: 2,
                per_page: 5
            }
        );
        assert_eq!(u.parent.map(String::from), Some("单".to_owned()));

        for (query, name) in [
            ("page=abc", "page"),
            ("page=0", "page"),
            ("per_page=501", "per_page"),
            ("kind=planet", "kind"),
            ("parent=a%20b", "parent"),
        ] {
            match UnitListParams::from_query(&params(query)) {
                Err(ApiError::InvalidParam { name: n, .. }) => assert_eq!(n, name, "{query}"),
                other => panic!("{query}: {other:?}"),
            }
        }
        let c = CadreListParams::from_query(&params("leaders=on&kind=whatever")).expect("valid");
        assert_eq!(c.leaders, Some(true));
        assert!(CadreListParams::from_query(&params("leaders=maybe")).is_err());
    }

    #[test]
    fn kinds_parse_in_both_languages() {
        let p = params("kind=%E5%8E%BF");
        assert_eq!(
            UnitListParams::from_query(&p).expect("valid").kind,
            Some(UnitKind::County)
        );
    }

    #[test]
    fn working_days() {
        let w = WorkingDaysParams::optional(&params("from=2025-09-26&days=5")).expect("valid");
        assert_eq!(w.map(|w| w.days), Some(5));
        assert!(
            WorkingDaysParams::optional(&params(""))
                .expect("valid")
                .is_none()
        );
        assert!(WorkingDaysParams::optional(&params("from=2025-13-01&days=5")).is_err());
        assert!(WorkingDaysParams::optional(&params("from=2025-09-26&days=10001")).is_err());
        assert!(WorkingDaysParams::optional(&params("from=2025-09-26")).is_err());
    }

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
