//! The organization's JSON API: units, cadres, the working-day calendar and counts.

use crate::org::data::{self, UnitNames};
use crate::org::params::{CadreListParams, CalendarParams, UnitListParams, WorkingDaysParams};
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission, Target};
use crate::shell::error::{ApiError, ErrorBody};
use crate::shell::json::{Label, label};
use crate::shell::params::{ApiQuery, Paging};
use axum::Json;
use axum::extract::{Path, State};
use kaohe_domain::{Appointment, Cadre, CalendarEntry, Code, Labeled, Unit, WorkCalendar};
use kaohe_store::{CadreQuery, UnitQuery, UnitSummary};
use serde::Serialize;
use time::Date;
use utoipa::ToSchema;

fn iso(date: Date) -> String {
    date.to_string()
}

/// A unit (单位).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UnitOut {
    /// Unit code.
    #[schema(example = "340102")]
    code: String,
    /// Full name.
    #[schema(example = "瑶海区")]
    name: String,
    /// Kind: `province`, `city`, `county`, `township` or `department`.
    #[schema(example = "county")]
    kind: &'static str,
    /// Labels of the kind.
    kind_label: Label,
    /// Code of the parent unit; `null` for a root.
    parent: Option<String>,
}

impl From<&Unit> for UnitOut {
    fn from(u: &Unit) -> Self {
        Self {
            code: u.code.to_string(),
            name: u.name.clone(),
            kind: u.kind.code(),
            kind_label: label(u.kind),
            parent: u.parent.as_ref().map(Code::to_string),
        }
    }
}

/// A unit with listing extras.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UnitSummaryOut {
    /// The unit.
    #[serde(flatten)]
    unit: UnitOut,
    /// Name of the parent unit.
    parent_name: Option<String>,
    /// Cadres serving in the unit.
    cadres: u64,
    /// Members of its leadership team.
    leaders: u64,
}

impl From<&UnitSummary> for UnitSummaryOut {
    fn from(s: &UnitSummary) -> Self {
        Self {
            unit: UnitOut::from(&s.unit),
            parent_name: s.parent_name.clone(),
            cadres: s.cadres,
            leaders: s.leaders,
        }
    }
}

/// One page of units.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UnitPage {
    /// Units of this page, ordered by code.
    items: Vec<UnitSummaryOut>,
    /// Units matching across all pages.
    total: u64,
    /// This page, from 1.
    page: u32,
    /// Rows per page.
    per_page: u32,
}

/// A cadre (干部).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CadreOut {
    /// Cadre id.
    #[schema(example = "C0001")]
    id: String,
    /// Full name.
    name: String,
    /// `male` or `female`.
    #[schema(example = "female")]
    gender: &'static str,
    /// Labels of the gender.
    gender_label: Label,
    /// Ethnicity (民族).
    ethnicity: String,
    /// Date of birth.
    #[schema(format = Date, example = "1975-03-01")]
    birth_date: String,
    /// Code of the unit served in.
    unit: String,
    /// Name of that unit.
    unit_name: Option<String>,
    /// Post title (职务).
    post: String,
    /// Post and rank level code, e.g. `division_deputy`.
    #[schema(example = "division_deputy")]
    rank: &'static str,
    /// Labels of the rank level.
    rank_label: Label,
    /// Member of the unit's leadership team (领导班子成员).
    is_leader: bool,
    /// `active`, `retired`, `transferred_out` or `left`.
    #[schema(example = "active")]
    status: &'static str,
    /// Labels of the status.
    status_label: Label,
}

impl CadreOut {
    fn new(c: &Cadre, names: &UnitNames) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.name.clone(),
            gender: c.gender.code(),
            gender_label: label(c.gender),
            ethnicity: c.ethnicity.clone(),
            birth_date: iso(c.birth_date),
            unit: c.unit.to_string(),
            unit_name: names.get(&c.unit).map(str::to_owned),
            post: c.post.clone(),
            rank: c.rank.code(),
            rank_label: label(c.rank),
            is_leader: c.is_leader,
            status: c.status.code(),
            status_label: label(c.status),
        }
    }
}

/// One page of cadres.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CadrePage {
    /// Cadres of this page, ordered by id.
    items: Vec<CadreOut>,
    /// Cadres matching across all pages.
    total: u64,
    /// This page, from 1.
    page: u32,
    /// Rows per page.
    per_page: u32,
}

/// A unit with its parent, children and leadership team.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UnitDetailOut {
    /// The unit.
    unit: UnitOut,
    /// Its parent unit.
    parent: Option<UnitOut>,
    /// Its ancestors, the root first (the last one is the parent).
    ancestors: Vec<UnitOut>,
    /// Its direct children (at most 500).
    children: Vec<UnitSummaryOut>,
    /// Number of direct children.
    children_total: u64,
    /// Its leadership team (领导班子): its cadres marked as leaders.
    leadership_team: Vec<CadreOut>,
    /// Number of cadres serving in the unit.
    cadres_total: u64,
}

/// An entry of a cadre's appointment history (任职经历).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AppointmentOut {
    /// Code of the unit served in.
    unit: String,
    /// Its name, if the unit is on record.
    unit_name: Option<String>,
    /// Post title.
    post: String,
    /// Rank level code.
    rank: &'static str,
    /// Labels of the rank level.
    rank_label: Label,
    /// First day in the post.
    #[schema(format = Date)]
    start_date: String,
    /// Last day in the post; `null` while current.
    #[schema(format = Date)]
    end_date: Option<String>,
}

impl AppointmentOut {
    fn new(a: &Appointment, names: &UnitNames) -> Self {
        Self {
            unit: a.unit.to_string(),
            unit_name: names.get(&a.unit).map(str::to_owned),
            post: a.post.clone(),
            rank: a.rank.code(),
            rank_label: label(a.rank),
            start_date: iso(a.start_date),
            end_date: a.end_date.map(iso),
        }
    }
}

/// A disciplinary sanction (处分).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SanctionOut {
    /// Sanction id.
    id: String,
    /// `warning`, `demerit`, `major_demerit`, `demotion`, `removal` or `expulsion`.
    #[schema(example = "warning")]
    kind: &'static str,
    /// Labels of the kind.
    kind_label: Label,
    /// Day it took effect.
    #[schema(format = Date)]
    start_date: String,
    /// End of the period as recorded, when recorded.
    #[schema(format = Date)]
    end_date: Option<String>,
    /// Last day of the period: recorded, or derived from the kind; `null` for no end.
    #[schema(format = Date)]
    effective_end: Option<String>,
    /// Whether the period covers today.
    in_effect: bool,
    /// Reason.
    reason: String,
}

/// A cadre with appointment history and sanctions.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CadreDetailOut {
    /// The cadre.
    cadre: CadreOut,
    /// Appointment history, oldest first.
    appointments: Vec<AppointmentOut>,
    /// Sanctions, oldest first.
    sanctions: Vec<SanctionOut>,
}

/// A calendar override.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CalendarEntryOut {
    /// The day.
    #[schema(format = Date, example = "2025-10-01")]
    date: String,
    /// `holiday` (a weekday off) or `workday` (a weekend day worked, 调休上班).
    #[schema(example = "holiday")]
    kind: &'static str,
    /// Labels of the kind.
    kind_label: Label,
    /// Holiday the day belongs to.
    #[schema(example = "国庆节")]
    name: String,
}

impl From<&CalendarEntry> for CalendarEntryOut {
    fn from(e: &CalendarEntry) -> Self {
        Self {
            date: iso(e.date),
            kind: e.kind.code(),
            kind_label: label(e.kind),
            name: e.name.clone(),
        }
    }
}

/// The calendar overrides.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CalendarOut {
    /// Overrides by date.
    entries: Vec<CalendarEntryOut>,
}

/// A working-day count.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WorkingDaysOut {
    /// Start date (not counted).
    #[schema(format = Date, example = "2025-09-26")]
    from: String,
    /// Working days counted.
    #[schema(example = 5)]
    days: u32,
    /// The `days`-th working day after `from`.
    #[schema(format = Date, example = "2025-10-10")]
    due: String,
}

/// Counts of what is on record.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StatsOut {
    /// Units.
    units: u64,
    /// Cadres.
    cadres: u64,
    /// Members of leadership teams.
    leaders: u64,
    /// Appointment history entries.
    appointments: u64,
    /// Sanctions.
    sanctions: u64,
    /// Calendar overrides.
    calendar: u64,
}

/// Lists units, paged.
#[utoipa::path(
    get,
    path = "/api/v1/units",
    tag = "units",
    params(UnitListParams, Paging),
    responses(
        (status = 200, description = "One page of units", body = UnitPage),
        (status = 403, description = "Outside the caller's scope: an assessor of part of the tree must filter by a unit of their scope (`parent`)", body = ErrorBody),
        (status = 422, description = "Invalid query parameter", body = ErrorBody),
        (status = 500, description = "Storage failure", body = ErrorBody),
    )
)]
pub(super) async fn list_units(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<UnitListParams>,
) -> Result<Json<UnitPage>, ApiError> {
    data::check_list_scope(state.store.as_ref(), &caller, p.parent.as_ref()).await?;
    let page = state
        .store
        .list_units(&UnitQuery {
            search: p.q,
            parent: p.parent,
            kind: p.kind,
            roots_only: false,
            page: p.paging.page,
            per_page: p.paging.per_page,
        })
        .await?;
    Ok(Json(UnitPage {
        items: page.items.iter().map(UnitSummaryOut::from).collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

/// One unit with its parent, children and leadership team (领导班子).
#[utoipa::path(
    get,
    path = "/api/v1/units/{code}",
    tag = "units",
    params(("code" = String, Path, description = "Unit code", example = "340102")),
    responses(
        (status = 200, description = "The unit", body = UnitDetailOut),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The unit is outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such unit", body = ErrorBody),
        (status = 500, description = "Storage failure", body = ErrorBody),
    )
)]
pub(super) async fn get_unit(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<UnitDetailOut>, ApiError> {
    let not_found = || ApiError::not_found("unit", code.as_str());
    let id = Code::parse(&code).map_err(|_| not_found())?;
    if state.store.get_unit(&id).await?.is_some() {
        let ancestors = data::ancestor_codes(state.store.as_ref(), &id).await?;
        caller.check(
            Permission::ViewUnit,
            Target::Unit {
                code: &id,
                ancestors: &ancestors,
            },
        )?;
    }
    let paging = Paging {
        page: 1,
        per_page: 1,
    };
    let d = data::unit_detail(state.store.as_ref(), &id, paging)
        .await?
        .ok_or_else(not_found)?;
    let mut names = UnitNames::default();
    names
        .load(state.store.as_ref(), vec![d.unit.code.clone()])
        .await?;
    Ok(Json(UnitDetailOut {
        unit: UnitOut::from(&d.unit),
        parent: d.ancestors.last().map(UnitOut::from),
        ancestors: d.ancestors.iter().map(UnitOut::from).collect(),
        children: d.children.items.iter().map(UnitSummaryOut::from).collect(),
        children_total: d.children.total,
        leadership_team: d.leaders.iter().map(|c| CadreOut::new(c, &names)).collect(),
        cadres_total: d.cadres.total,
    }))
}

/// Lists cadres, paged.
#[utoipa::path(
    get,
    path = "/api/v1/cadres",
    tag = "cadres",
    params(CadreListParams, Paging),
    responses(
        (status = 200, description = "One page of cadres", body = CadrePage),
        (status = 403, description = "Outside the caller's scope: an assessor of part of the tree must filter by a unit of their scope (`unit`)", body = ErrorBody),
        (status = 422, description = "Invalid query parameter", body = ErrorBody),
        (status = 500, description = "Storage failure", body = ErrorBody),
    )
)]
pub(super) async fn list_cadres(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<CadreListParams>,
) -> Result<Json<CadrePage>, ApiError> {
    data::check_list_scope(state.store.as_ref(), &caller, p.unit.as_ref()).await?;
    let page = state
        .store
        .list_cadres(&CadreQuery {
            search: p.q,
            unit: p.unit,
            leaders_only: p.leaders.unwrap_or(false),
            page: p.paging.page,
            per_page: p.paging.per_page,
        })
        .await?;
    let mut names = UnitNames::default();
    names
        .load(
            state.store.as_ref(),
            page.items.iter().map(|c| c.unit.clone()).collect(),
        )
        .await?;
    Ok(Json(CadrePage {
        items: page
            .items
            .iter()
            .map(|c| CadreOut::new(c, &names))
            .collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

/// One cadre with appointment history (任职经历) and sanctions (处分).
#[utoipa::path(
    get,
    path = "/api/v1/cadres/{id}",
    tag = "cadres",
    params(("id" = String, Path, description = "Cadre id")),
    responses(
        (status = 200, description = "The cadre", body = CadreDetailOut),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The record is outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such cadre", body = ErrorBody),
        (status = 500, description = "Storage failure", body = ErrorBody),
    )
)]
pub(super) async fn get_cadre(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CadreDetailOut>, ApiError> {
    let not_found = || ApiError::not_found("cadre", id.as_str());
    let code = Code::parse(&id).map_err(|_| not_found())?;
    data::check_cadre_scope(state.store.as_ref(), &caller, &code).await?;
    let d = data::cadre_detail(
        state.store.as_ref(),
        &code,
        state.today(),
        &state.sanction_periods,
    )
    .await?
    .ok_or_else(not_found)?;
    Ok(Json(CadreDetailOut {
        cadre: CadreOut::new(&d.cadre, &d.unit_names),
        appointments: d
            .appointments
            .iter()
            .map(|a| AppointmentOut::new(a, &d.unit_names))
            .collect(),
        sanctions: d
            .sanctions
            .iter()
            .map(|s| SanctionOut {
                id: s.sanction.id.to_string(),
                kind: s.sanction.kind.code(),
                kind_label: label(s.sanction.kind),
                start_date: iso(s.sanction.start_date),
                end_date: s.sanction.end_date.map(iso),
                effective_end: s.effective_end.map(iso),
                in_effect: s.in_effect,
                reason: s.sanction.reason.clone(),
            })
            .collect(),
    }))
}

/// The working-day calendar's overrides: public holidays on weekdays and make-up working days
/// on weekends.
#[utoipa::path(
    get,
    path = "/api/v1/calendar",
    tag = "calendar",
    params(CalendarParams),
    responses(
        (status = 200, description = "Overrides by date", body = CalendarOut),
        (status = 422, description = "Invalid query parameter", body = ErrorBody),
        (status = 500, description = "Storage failure", body = ErrorBody),
    )
)]
pub(super) async fn calendar(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<CalendarParams>,
) -> Result<Json<CalendarOut>, ApiError> {
    let entries = state.store.calendar().await?;
    Ok(Json(CalendarOut {
        entries: entries
            .iter()
            .filter(|e| p.year.is_none_or(|y| e.date.year() == y))
            .map(CalendarEntryOut::from)
            .collect(),
    }))
}

/// The `days`-th working day after `from`, on the working-day calendar.
#[utoipa::path(
    get,
    path = "/api/v1/calendar/working-days",
    tag = "calendar",
    params(WorkingDaysParams),
    responses(
        (status = 200, description = "The due date", body = WorkingDaysOut),
        (status = 422, description = "Invalid or missing query parameter, or a date out of range", body = ErrorBody),
        (status = 500, description = "Storage failure", body = ErrorBody),
    )
)]
pub(super) async fn working_days(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<WorkingDaysParams>,
) -> Result<Json<WorkingDaysOut>, ApiError> {
    let entries = state.store.calendar().await?;
    let due = WorkCalendar::new(&entries)
        .add_working_days(p.from, p.days)
        .map_err(|e| ApiError::invalid_param("days", e.to_string()))?;
    Ok(Json(WorkingDaysOut {
        from: iso(p.from),
        days: p.days,
        due: iso(due),
    }))
}

/// Counts of what is on record.
#[utoipa::path(
    get,
    path = "/api/v1/stats",
    tag = "meta",
    responses(
        (status = 200, description = "Counts", body = StatsOut),
        (status = 500, description = "Storage failure", body = ErrorBody),
    )
)]
pub(super) async fn stats(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<StatsOut>, ApiError> {
    data::check_list_scope(state.store.as_ref(), &caller, None).await?;
    let s = data::stats(state.store.as_ref()).await?;
    Ok(Json(StatsOut {
        units: s.counts.units,
        cadres: s.counts.cadres,
        leaders: s.leaders,
        appointments: s.counts.appointments,
        sanctions: s.counts.sanctions,
        calendar: s.counts.calendar,
    }))
}
