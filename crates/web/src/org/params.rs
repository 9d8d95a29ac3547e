//! Query parameters of the organization's lists and of the calendar.

use crate::shell::ApiError;
use crate::shell::params::{FromQuery, Paging, ParamValue, QueryParams};
use kaohe_domain::{Code, Labeled, UnitKind};
use time::Date;
use utoipa::IntoParams;

/// Most working days the calendar counts in one request (about 40 years).
pub(crate) const MAX_DAYS: u32 = 10_000;

impl ParamValue for UnitKind {
    fn parse_param(value: &str) -> Result<Self, String> {
        UnitKind::parse_label(value).map_err(|e| e.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Uri;

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
}
