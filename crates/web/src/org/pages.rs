//! The organization's pages: units, cadres and the working-day calendar.

use crate::org::data::{self, UnitNames};
use crate::org::params::{CadreListParams, CalendarParams, UnitListParams, WorkingDaysParams};
use crate::org::picker::{self, UnitOption};
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission, Target};
use crate::shell::download::{suffix_of, table_file};
use crate::shell::error::ApiError;
use crate::shell::i18n;
use crate::shell::page::{Link, PageCtx, PageResult, Pager, render};
use crate::shell::params::{Paging, QueryParams, encode_component, href};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use kaohe_data::WideCell;
use kaohe_domain::{Cadre, Code, Labeled, UnitKind, WorkCalendar};
use kaohe_store::{CadreQuery, UnitQuery, UnitSummary};
use std::collections::BTreeMap;

fn unit_href(code: &Code) -> String {
    format!("/units/{}", encode_component(code.as_str()))
}

fn cadre_href(id: &Code) -> String {
    format!("/cadres/{}", encode_component(id.as_str()))
}

// ---------------------------------------------------------------------------------------------
// Units

/// An option of a select box.
#[derive(Debug)]
struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// A unit as a row of the unit tables (`org/unit_table.html`).
#[derive(Debug)]
pub(crate) struct UnitRow {
    pub(crate) code: String,
    pub(crate) link: Link,
    pub(crate) kind: &'static str,
    pub(crate) parent: Option<Link>,
    pub(crate) cadres: u64,
    pub(crate) leaders: u64,
}

impl UnitRow {
    /// The row of a unit, its texts in the page's language.
    pub(crate) fn new(ctx: &PageCtx, s: &UnitSummary) -> Self {
        Self {
            code: s.unit.code.to_string(),
            link: Link {
                href: unit_href(&s.unit.code),
                text: s.unit.name.clone(),
            },
            kind: ctx.label(s.unit.kind),
            parent: s.unit.parent.as_ref().map(|p| Link {
                href: unit_href(p),
                text: s.parent_name.clone().unwrap_or_else(|| p.to_string()),
            }),
            cadres: s.cadres,
            leaders: s.leaders,
        }
    }
}

#[derive(Template)]
#[template(path = "org/units.html")]
struct UnitsPage {
    ctx: PageCtx,
    q: String,
    /// The units to filter by parent, as a tree (the current one selected).
    parents: Vec<UnitOption>,
    kinds: Vec<Choice>,
    rows: Vec<UnitRow>,
    pager: Pager,
    export_xlsx: String,
    export_csv: String,
}

/// `?format=xlsx|csv` of the units list: every unit the filter finds (not only the page
/// shown), in the page's language.
async fn export_units(
    ctx: &PageCtx,
    state: &AppState,
    format: &str,
    query: UnitQuery,
) -> PageResult {
    let suffix = suffix_of(ctx, format)?;
    let store = state.store.as_ref();
    let found = data::every_page(|page, per_page| {
        let query = UnitQuery {
            page,
            per_page,
            ..query.clone()
        };
        async move { store.list_units(&query).await }
    })
    .await
    .map_err(|e| ctx.fail(e))?;
    let rows = found
        .iter()
        .map(|s| {
            vec![
                WideCell::Text(s.unit.code.to_string()),
                WideCell::Text(s.unit.name.clone()),
                WideCell::Text(ctx.label(s.unit.kind).to_owned()),
                s.unit
                    .parent
                    .as_ref()
                    .map_or(WideCell::Empty, |p| WideCell::Text(p.to_string())),
                s.parent_name
                    .clone()
                    .map_or(WideCell::Empty, WideCell::Text),
                WideCell::Number(s.cadres as f64),
                WideCell::Number(s.leaders as f64),
            ]
        })
        .collect();
    let header = [
        "col.code",
        "col.name",
        "col.kind",
        "tables.parent_code",
        "col.parent",
        "col.cadres",
        "col.leaders",
    ]
    .iter()
    .map(|k| ctx.t(k).to_owned())
    .collect();
    let name = ctx.t("units.title").to_owned();
    table_file(ctx, "units", name, suffix, header, rows).await
}

/// The links that download a list as shown (its filter kept) in both formats.
fn export_links(path: &str, filter: &[(&str, String)]) -> (String, String) {
    let link = |format: &str| {
        let mut pairs: Vec<(&str, String)> = filter
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .cloned()
            .collect();
        pairs.push(("format", format.to_owned()));
        href(path, &pairs)
    };
    (link("xlsx"), link("csv"))
}

pub(super) async fn units(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
) -> PageResult {
    let query = QueryParams::from_uri(&uri);
    let p: UnitListParams = ctx.parse(&query)?;
    data::check_list_scope(state.store.as_ref(), &caller, p.parent.as_ref())
        .await
        .map_err(|e| ctx.fail(e))?;
    let unit_query = UnitQuery {
        search: p.q.clone(),
        parent: p.parent.clone(),
        kind: p.kind,
        roots_only: false,
        page: p.paging.page,
        per_page: p.paging.per_page,
    };
    if let Some(format) = query.raw("format") {
        return export_units(&ctx, &state, format, unit_query).await;
    }
    let page = state
        .store
        .list_units(&unit_query)
        .await
        .map_err(|e| ctx.fail(e))?;
    let q = p.q.unwrap_or_default();
    let parent = p.parent.map(String::from).unwrap_or_default();
    let kind = p.kind.map(|k| k.code().to_owned()).unwrap_or_default();
    let filter = [("q", q.clone()), ("kind", kind), ("parent", parent.clone())];
    let pager = Pager::new(&ctx, &page, "/units", &filter);
    let (export_xlsx, export_csv) = export_links("/units", &filter);
    let parents = picker::unit_options(state.store.as_ref(), &caller, &parent)
        .await
        .map_err(|e| ctx.fail(e))?;
    let kinds = UnitKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.code(),
            label: ctx.label(*k),
            selected: Some(*k) == p.kind,
        })
        .collect();
    let rows = page.items.iter().map(|s| UnitRow::new(&ctx, s)).collect();
    Ok(render(
        StatusCode::OK,
        &UnitsPage {
            ctx,
            q,
            parents,
            kinds,
            rows,
            pager,
            export_xlsx,
            export_csv,
        },
    ))
}

#[derive(Debug)]
struct CadreRow {
    id: String,
    link: Link,
    gender: &'static str,
    unit: Link,
    post: String,
    rank: &'static str,
    leader: &'static str,
    status: &'static str,
}

impl CadreRow {
    fn new(ctx: &PageCtx, c: &Cadre, names: &UnitNames) -> Self {
        Self {
            id: c.id.to_string(),
            link: Link {
                href: cadre_href(&c.id),
                text: c.name.clone(),
            },
            gender: ctx.label(c.gender),
            unit: Link {
                href: unit_href(&c.unit),
                text: names
                    .get(&c.unit)
                    .map_or_else(|| c.unit.to_string(), str::to_owned),
            },
            post: c.post.clone(),
            rank: ctx.label(c.rank),
            leader: ctx.yes_no(c.is_leader),
            status: ctx.label(c.status),
        }
    }
}

#[derive(Template)]
#[template(path = "org/unit.html")]
struct UnitPage {
    ctx: PageCtx,
    name: String,
    code: String,
    kind: &'static str,
    breadcrumb: Vec<Link>,
    children: Vec<UnitRow>,
    more_children: Option<String>,
    team: Vec<CadreRow>,
    cadres: Vec<CadreRow>,
    pager: Pager,
}

pub(super) async fn unit(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(code): Path<String>,
    uri: Uri,
) -> PageResult {
    let not_found = || ctx.fail(ApiError::not_found("unit", code.as_str()));
    let code = Code::parse(&code).map_err(|_| not_found())?;
    let paging: Paging = ctx.parse(&QueryParams::from_uri(&uri))?;
    let store = state.store.as_ref();
    let d = data::unit_detail(store, &code, paging)
        .await
        .map_err(|e| ctx.fail(e))?
        .ok_or_else(not_found)?;
    let ancestors: Vec<Code> = d.ancestors.iter().map(|u| u.code.clone()).collect();
    caller
        .check(
            Permission::ViewUnit,
            Target::Unit {
                code: &d.unit.code,
                ancestors: &ancestors,
            },
        )
        .map_err(|e| ctx.fail(e))?;
    let mut names = UnitNames::default();
    names
        .load(store, vec![d.unit.code.clone()])
        .await
        .map_err(|e| ctx.fail(e))?;
    let here = unit_href(&d.unit.code);
    let more_children = (d.children.total > d.children.items.len() as u64)
        .then(|| href("/units", &[("parent", d.unit.code.to_string())]));
    let pager = Pager::new(&ctx, &d.cadres, &here, &[]);
    Ok(render(
        StatusCode::OK,
        &UnitPage {
            name: d.unit.name.clone(),
            code: d.unit.code.to_string(),
            kind: ctx.label(d.unit.kind),
            breadcrumb: d
                .ancestors
                .iter()
                .map(|u| Link {
                    href: unit_href(&u.code),
                    text: u.name.clone(),
                })
                .collect(),
            children: d
                .children
                .items
                .iter()
                .map(|s| UnitRow::new(&ctx, s))
                .collect(),
            more_children,
            team: d
                .leaders
                .iter()
                .map(|c| CadreRow::new(&ctx, c, &names))
                .collect(),
            cadres: d
                .cadres
                .items
                .iter()
                .map(|c| CadreRow::new(&ctx, c, &names))
                .collect(),
            pager,
            ctx,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// Cadres

#[derive(Template)]
#[template(path = "org/cadres.html")]
struct CadresPage {
    ctx: PageCtx,
    q: String,
    /// The units to filter by, as a tree (the current one selected).
    units: Vec<UnitOption>,
    leaders: bool,
    rows: Vec<CadreRow>,
    pager: Pager,
    export_xlsx: String,
    export_csv: String,
}

/// `?format=xlsx|csv` of the cadres list: every cadre the filter finds (not only the page
/// shown), in the page's language.
async fn export_cadres(
    ctx: &PageCtx,
    state: &AppState,
    format: &str,
    query: CadreQuery,
) -> PageResult {
    let suffix = suffix_of(ctx, format)?;
    let store = state.store.as_ref();
    let found = data::every_page(|page, per_page| {
        let query = CadreQuery {
            page,
            per_page,
            ..query.clone()
        };
        async move { store.list_cadres(&query).await }
    })
    .await
    .map_err(|e| ctx.fail(e))?;
    let mut names = UnitNames::default();
    names
        .load(store, found.iter().map(|c| c.unit.clone()).collect())
        .await
        .map_err(|e| ctx.fail(e))?;
    let rows = found
        .iter()
        .map(|c| {
            vec![
                WideCell::Text(c.id.to_string()),
                WideCell::Text(c.name.clone()),
                WideCell::Text(ctx.label(c.gender).to_owned()),
                WideCell::Text(c.unit.to_string()),
                WideCell::Text(
                    names
                        .get(&c.unit)
                        .map_or_else(|| c.unit.to_string(), str::to_owned),
                ),
                WideCell::Text(c.post.clone()),
                WideCell::Text(ctx.label(c.rank).to_owned()),
                WideCell::Text(ctx.yes_no(c.is_leader).to_owned()),
                WideCell::Text(ctx.label(c.status).to_owned()),
            ]
        })
        .collect();
    let header = [
        "col.id",
        "col.full_name",
        "col.gender",
        "export.unit_id",
        "export.unit_name",
        "col.post",
        "col.rank",
        "col.leader",
        "col.status",
    ]
    .iter()
    .map(|k| ctx.t(k).to_owned())
    .collect();
    let name = ctx.t("cadres.title").to_owned();
    table_file(ctx, "cadres", name, suffix, header, rows).await
}

pub(super) async fn cadres(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
) -> PageResult {
    let query = QueryParams::from_uri(&uri);
    let p: CadreListParams = ctx.parse(&query)?;
    data::check_list_scope(state.store.as_ref(), &caller, p.unit.as_ref())
        .await
        .map_err(|e| ctx.fail(e))?;
    let leaders = p.leaders.unwrap_or(false);
    let store = state.store.as_ref();
    let cadre_query = CadreQuery {
        search: p.q.clone(),
        unit: p.unit.clone(),
        leaders_only: leaders,
        page: p.paging.page,
        per_page: p.paging.per_page,
    };
    if let Some(format) = query.raw("format") {
        return export_cadres(&ctx, &state, format, cadre_query).await;
    }
    let page = store
        .list_cadres(&cadre_query)
        .await
        .map_err(|e| ctx.fail(e))?;
    let mut names = UnitNames::default();
    names
        .load(store, page.items.iter().map(|c| c.unit.clone()).collect())
        .await
        .map_err(|e| ctx.fail(e))?;
    let q = p.q.unwrap_or_default();
    let unit = p.unit.map(String::from).unwrap_or_default();
    let filter = [
        ("q", q.clone()),
        ("unit", unit.clone()),
        (
            "leaders",
            if leaders {
                "true".to_owned()
            } else {
                String::new()
            },
        ),
    ];
    let pager = Pager::new(&ctx, &page, "/cadres", &filter);
    let (export_xlsx, export_csv) = export_links("/cadres", &filter);
    let units = picker::unit_options(store, &caller, &unit)
        .await
        .map_err(|e| ctx.fail(e))?;
    let rows = page
        .items
        .iter()
        .map(|c| CadreRow::new(&ctx, c, &names))
        .collect();
    Ok(render(
        StatusCode::OK,
        &CadresPage {
            ctx,
            q,
            units,
            leaders,
            rows,
            pager,
            export_xlsx,
            export_csv,
        },
    ))
}

#[derive(Debug)]
struct AppointmentRow {
    start: String,
    end: String,
    unit: Link,
    post: String,
    rank: &'static str,
}

#[derive(Debug)]
struct SanctionRow {
    id: String,
    kind: &'static str,
    start: String,
    end: String,
    in_effect: bool,
    in_effect_text: &'static str,
    reason: String,
}

#[derive(Template)]
#[template(path = "org/cadre.html")]
struct CadrePage {
    ctx: PageCtx,
    cadre: CadreRow,
    ethnicity: String,
    birth_date: String,
    appointments: Vec<AppointmentRow>,
    sanctions: Vec<SanctionRow>,
    /// The cadre's work records (纪实), for those who may read them.
    records_href: Option<String>,
}

pub(super) async fn cadre(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let not_found = || ctx.fail(ApiError::not_found("cadre", id.as_str()));
    let code = Code::parse(&id).map_err(|_| not_found())?;
    data::check_cadre_scope(state.store.as_ref(), &caller, &code)
        .await
        .map_err(|e| ctx.fail(e))?;
    let d = data::cadre_detail(
        state.store.as_ref(),
        &code,
        state.today(),
        &state.sanction_periods,
    )
    .await
    .map_err(|e| ctx.fail(e))?
    .ok_or_else(not_found)?;
    let names = &d.unit_names;
    let ancestors = data::ancestor_codes(state.store.as_ref(), &d.cadre.unit)
        .await
        .map_err(|e| ctx.fail(e))?;
    let target = Target::Cadre {
        id: &d.cadre.id,
        unit: &d.cadre.unit,
        unit_ancestors: &ancestors,
    };
    let records_href = if caller.0.may(Permission::ViewRecords, target) {
        Some(format!("/cadres/{}/records", d.cadre.id))
    } else if caller.0.may(Permission::ViewOwnRecords, target) {
        Some("/my/records".to_owned())
    } else {
        None
    };
    let appointments = d
        .appointments
        .iter()
        .map(|a| AppointmentRow {
            start: a.start_date.to_string(),
            end: a
                .end_date
                .map_or_else(|| ctx.t("cadre.current").to_owned(), |e| e.to_string()),
            unit: Link {
                href: unit_href(&a.unit),
                text: names
                    .get(&a.unit)
                    .map_or_else(|| a.unit.to_string(), str::to_owned),
            },
            post: a.post.clone(),
            rank: ctx.label(a.rank),
        })
        .collect();
    let sanctions = d
        .sanctions
        .iter()
        .map(|s| SanctionRow {
            id: s.sanction.id.to_string(),
            kind: ctx.label(s.sanction.kind),
            start: s.sanction.start_date.to_string(),
            end: s
                .effective_end
                .map_or_else(|| ctx.t("cadre.no_end").to_owned(), |e| e.to_string()),
            in_effect: s.in_effect,
            in_effect_text: ctx.yes_no(s.in_effect),
            reason: s.sanction.reason.clone(),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &CadrePage {
            cadre: CadreRow::new(&ctx, &d.cadre, names),
            ethnicity: d.cadre.ethnicity.clone(),
            birth_date: d.cadre.birth_date.to_string(),
            appointments,
            sanctions,
            records_href,
            ctx,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// Calendar

#[derive(Debug)]
struct DayRow {
    date: String,
    weekday: &'static str,
    kind: &'static str,
    workday: bool,
    name: String,
}

#[derive(Debug)]
struct YearBlock {
    heading: String,
    days: Vec<DayRow>,
}

#[derive(Template)]
#[template(path = "org/calendar.html")]
struct CalendarPage {
    ctx: PageCtx,
    years: Vec<YearBlock>,
    from: String,
    days: String,
    result: Option<String>,
}

pub(super) async fn calendar(ctx: PageCtx, State(state): State<AppState>, uri: Uri) -> PageResult {
    let query = QueryParams::from_uri(&uri);
    let filter: CalendarParams = ctx.parse(&query)?;
    let count = WorkingDaysParams::optional(&query).map_err(|e| ctx.fail(e))?;
    let entries = state.store.calendar().await.map_err(|e| ctx.fail(e))?;
    let result = count.as_ref().map(|w| {
        match WorkCalendar::new(&entries).add_working_days(w.from, w.days) {
            Ok(due) => ctx.tf(
                "calendar.result",
                &[
                    ("from", &w.from),
                    ("days", &w.days),
                    ("due", &due),
                    ("weekday", &i18n::weekday(ctx.lang(), due.weekday())),
                ],
            ),
            Err(_) => ctx.t("calendar.out_of_range").to_owned(),
        }
    });
    let mut by_year: BTreeMap<i32, Vec<DayRow>> = BTreeMap::new();
    for e in entries
        .iter()
        .filter(|e| filter.year.is_none_or(|y| e.date.year() == y))
    {
        by_year.entry(e.date.year()).or_default().push(DayRow {
            date: e.date.to_string(),
            weekday: i18n::weekday(ctx.lang(), e.date.weekday()),
            kind: ctx.label(e.kind),
            workday: e.kind == kaohe_domain::DayKind::Workday,
            name: e.name.clone(),
        });
    }
    let years = by_year
        .into_iter()
        .rev()
        .map(|(year, days)| YearBlock {
            heading: ctx.tf("calendar.year", &[("year", &year)]),
            days,
        })
        .collect();
    let (from, days) = match &count {
        Some(w) => (w.from.to_string(), w.days.to_string()),
        None => (state.today().to_string(), "5".to_owned()),
    };
    Ok(render(
        StatusCode::OK,
        &CalendarPage {
            ctx,
            years,
            from,
            days,
            result,
        },
    ))
}
