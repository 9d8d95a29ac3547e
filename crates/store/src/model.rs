//! Query and result types of the store.

use kaohe_domain::{Code, Unit, UnitKind};
use serde::Serialize;

/// Largest page size a query may ask for.
pub const MAX_PER_PAGE: u32 = 500;

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Rows matching the query across all pages.
    pub total: u64,
    /// This page's number, from 1.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
}

impl<T> Page<T> {
    /// Number of pages (at least 1).
    pub fn pages(&self) -> u32 {
        let per = u64::from(self.per_page.max(1));
        u32::try_from(self.total.div_ceil(per))
            .unwrap_or(u32::MAX)
            .max(1)
    }
}

/// Paging shared by the queries: page from 1, clamped page size.
pub(crate) fn limit_offset(page: u32, per_page: u32) -> (u32, u32, i64, i64) {
    let page = page.max(1);
    let per_page = per_page.clamp(1, MAX_PER_PAGE);
    (
        page,
        per_page,
        i64::from(per_page),
        (i64::from(page) - 1) * i64::from(per_page),
    )
}

/// Which units to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitQuery {
    /// Text searched in code and name.
    pub search: Option<String>,
    /// Only direct children of this unit.
    pub parent: Option<Code>,
    /// Only units of this kind.
    pub kind: Option<UnitKind>,
    /// Only roots of the tree (units without a parent).
    pub roots_only: bool,
    /// Page number, from 1.
    pub page: u32,
    /// Rows per page (clamped to 1..=500).
    pub per_page: u32,
}

/// A unit with what a listing shows beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitSummary {
    /// The unit.
    pub unit: Unit,
    /// Name of the parent unit.
    pub parent_name: Option<String>,
    /// Cadres serving in the unit.
    pub cadres: u64,
    /// Members of its leadership team (领导班子).
    pub leaders: u64,
}

/// Which cadres to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CadreQuery {
    /// Text searched in id, name and post.
    pub search: Option<String>,
    /// Only cadres of this unit.
    pub unit: Option<Code>,
    /// Only members of leadership teams.
    pub leaders_only: bool,
    /// Page number, from 1.
    pub page: u32,
    /// Rows per page (clamped to 1..=500).
    pub per_page: u32,
}

/// Row counts per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Units.
    pub units: u64,
    /// Cadres.
    pub cadres: u64,
    /// Appointment history entries.
    pub appointments: u64,
    /// Sanctions.
    pub sanctions: u64,
    /// Calendar overrides.
    pub calendar: u64,
}
