//! Server-rendered HTML pages (askama templates in `templates/`).
//!
//! Handlers gather data (through [`crate::data`] where the API shows the same), turn it into
//! small view structs with every text already in the request's language, and render. Every
//! value is escaped by askama; no template marks data as safe.

use crate::access::{Caller, Declared, Permission, RequirePermission, Target};
use crate::data::{self, UnitNames};
use crate::error::ApiError;
use crate::i18n::{self, LANG_PARAM, Lang};
use crate::params::{
    CadreListParams, CalendarParams, FromQuery, Paging, QueryParams, UnitListParams,
    WorkingDaysParams, encode_component, href,
};
use crate::{AppState, assets};
use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use kaohe_domain::{Cadre, Code, Labeled, UnitKind, WorkCalendar};
use kaohe_store::{CadreQuery, Page, UnitQuery, UnitSummary};
use std::collections::BTreeMap;

/// Routes of the pages.
pub(crate) fn router() -> Router<AppState> {
    let organization = Router::new()
        .route("/units", get(units))
        .route("/cadres", get(cadres))
        .require(Permission::ViewOrganization);
    let unit = Router::new()
        .route("/units/{code}", get(unit))
        .require(Permission::ViewUnit);
    let cadre = Router::new()
        .route("/cadres/{id}", get(cadre))
        .require(Permission::ViewCadre);
    let audit = Router::new()
        .route("/admin/audit", get(admin_audit))
        .require(Permission::ViewAudit);
    let signed_in = Router::new()
        .route("/calendar", get(calendar))
        .route("/frameworks", get(frameworks))
        .route("/frameworks/{name}", get(framework))
        .route("/logout", post(crate::auth::logout))
        .require(Permission::Authenticated);
    let public = Router::new()
        .route("/", get(home))
        .route("/lang/{lang}", get(set_lang))
        .route(
            "/login",
            get(crate::auth::login_form).post(crate::auth::login),
        )
        .require(Permission::Public);
    organization
        .merge(audit)
        .merge(unit)
        .merge(cadre)
        .merge(signed_in)
        .merge(public)
        .merge(admin::router())
        .merge(account::router())
}

mod account;
mod admin;

/// Every page route with the permission it declares, for the route × role test matrix;
/// `pages_are_listed` keeps it in step with [`router`] and the rating pages' router.
pub const PAGE_ROUTES: &[(&str, Permission)] = &[
    ("/", Permission::Public),
    ("/units", Permission::ViewOrganization),
    ("/units/{code}", Permission::ViewUnit),
    ("/cadres", Permission::ViewOrganization),
    ("/cadres/{id}", Permission::ViewCadre),
    ("/calendar", Permission::Authenticated),
    ("/frameworks", Permission::Authenticated),
    ("/frameworks/{name}", Permission::Authenticated),
    ("/logout", Permission::Authenticated),
    ("/admin/users", Permission::ManageAccounts),
    ("/admin/audit", Permission::ViewAudit),
    ("/lang/{lang}", Permission::Public),
    ("/login", Permission::Public),
    ("/rate/{code}", Permission::Public),
    ("/rate/{code}/qr.svg", Permission::Public),
    ("/rate/{code}/qr.png", Permission::Public),
    ("/rate/w/{unit}/{window}", Permission::Public),
    ("/rate/w/{unit}/{window}/qr.svg", Permission::Public),
    ("/rate/w/{unit}/{window}/qr.png", Permission::Public),
    ("/service/qr", Permission::HandleRectification),
    ("/service/rectifications", Permission::HandleRectification),
    (
        "/service/rectifications/{id}",
        Permission::HandleRectification,
    ),
    (
        "/service/rectifications/{id}/steps",
        Permission::HandleRectification,
    ),
    (
        "/service/rectifications/{id}/contact",
        Permission::ViewContact,
    ),
    (
        "/service/rectifications/{id}/files/{file}",
        Permission::HandleRectification,
    ),
    (
        "/service/rectifications/{id}/appeal",
        Permission::FileAppeal,
    ),
    ("/service/appeals", Permission::DecideAppeal),
    ("/service/appeals/{id}", Permission::DecideAppeal),
    ("/service/figures", Permission::ViewServiceFigures),
    // Account management (#3): system administrator, security administrator, self service.
    (
        "/admin/users/{username}/password",
        Permission::ManageAccounts,
    ),
    (
        "/admin/users/{username}/disable",
        Permission::ManageAccounts,
    ),
    ("/admin/users/{username}/enable", Permission::ManageAccounts),
    ("/admin/roles", Permission::ManageRoles),
    ("/admin/roles/{username}", Permission::ManageRoles),
    ("/account", Permission::Authenticated),
    ("/account/password", Permission::Authenticated),
    ("/account/totp", Permission::Authenticated),
    ("/account/totp/remove", Permission::Authenticated),
];

/// Section of the site, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Home,
    Units,
    Cadres,
    Calendar,
    Frameworks,
    Service,
    Admin,
    Other,
}

impl Section {
    fn of(path: &str) -> Self {
        let first = path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default();
        match first {
            "" => Section::Home,
            "units" => Section::Units,
            "cadres" => Section::Cadres,
            "calendar" => Section::Calendar,
            "frameworks" => Section::Frameworks,
            "admin" => Section::Admin,
            "service" => Section::Service,
            _ => Section::Other,
        }
    }
}

/// A link of the navigation or of the language switch.
#[derive(Debug)]
pub(crate) struct NavLink {
    pub(crate) href: String,
    pub(crate) label: &'static str,
    pub(crate) current: bool,
    /// Language of the label, for the language switch.
    pub(crate) lang: &'static str,
}

/// What every page needs: the language, the demo flag, where the request went.
#[derive(Debug, Clone)]
pub(crate) struct PageCtx {
    lang: Lang,
    demo: bool,
    /// The signed-in account's name.
    user: Option<String>,
    /// The session's CSRF token, for the forms of the page.
    csrf: String,
    /// Whether organization-wide data may be shown.
    sees_organization: bool,
    /// Whether the account may manage accounts (system administrator).
    manages_accounts: bool,
    /// Whether the account may assign roles (security administrator).
    manages_roles: bool,
    /// Whether the account may read the audit log (audit administrator).
    views_audit: bool,
    /// Whether the account works on bad-review rectifications.
    handles_ratings: bool,
    /// Whether the account decides appeals.
    decides_appeals: bool,
    section: Section,
    /// Path and query of the request without `lang`: where the language switch returns.
    here: String,
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let mut ctx = PageCtx::new(&parts.uri, &parts.headers, state.demo);
        let principal = crate::access::principal_of(parts);
        ctx.user = principal.username().map(str::to_owned);
        ctx.sees_organization = principal.holds(Permission::ViewOrganization);
        ctx.manages_accounts = principal.holds(Permission::ManageAccounts);
        ctx.manages_roles = principal.holds(Permission::ManageRoles);
        ctx.views_audit = principal.holds(Permission::ViewAudit);
        ctx.handles_ratings = principal.holds(Permission::HandleRectification);
        ctx.decides_appeals = principal.holds(Permission::DecideAppeal);
        ctx.csrf = parts
            .extensions
            .get::<crate::auth::SessionCsrf>()
            .map(|c| c.0.clone())
            .unwrap_or_default();
        Ok(ctx)
    }
}

impl PageCtx {
    fn new(uri: &Uri, headers: &HeaderMap, demo: bool) -> Self {
        let query = QueryParams::from_uri(uri);
        let lang = Lang::negotiate(query.raw(LANG_PARAM), headers);
        let path = uri.path();
        let kept: Vec<(&str, String)> = query
            .pairs()
            .iter()
            .filter(|(k, _)| k != LANG_PARAM)
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        Self {
            lang,
            demo,
            user: None,
            csrf: String::new(),
            sees_organization: false,
            manages_accounts: false,
            manages_roles: false,
            views_audit: false,
            handles_ratings: false,
            decides_appeals: false,
            section: Section::of(path),
            here: href(path, &kept),
        }
    }

    /// The message `key`.
    pub(crate) fn t(&self, key: &str) -> &'static str {
        i18n::t(self.lang, key)
    }

    /// The message `key` with placeholders filled.
    pub(crate) fn tf(&self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        i18n::format(self.lang, key, args)
    }

    pub(crate) fn label<T: Labeled>(&self, value: T) -> &'static str {
        value.label(self.lang.code())
    }

    pub(crate) fn yes_no(&self, yes: bool) -> &'static str {
        if yes { self.t("yes") } else { self.t("no") }
    }

    /// The language tag of the page.
    pub(crate) fn html_lang(&self) -> &'static str {
        self.lang.html_tag()
    }

    /// The signed-in account's name.
    pub(crate) fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The session's CSRF token.
    pub(crate) fn csrf(&self) -> &str {
        &self.csrf
    }

    /// Whether to show the demo-data banner.
    pub(crate) fn demo(&self) -> bool {
        self.demo
    }

    /// Link to the stylesheet, versioned by its content.
    pub(crate) fn css_href(&self) -> String {
        format!("/static/kaohe.css?v={:016x}", assets::CSS_VERSION)
    }

    /// The main navigation.
    pub(crate) fn nav(&self) -> Vec<NavLink> {
        [
            ("/", "nav.home", Section::Home),
            ("/units", "nav.units", Section::Units),
            ("/cadres", "nav.cadres", Section::Cadres),
            ("/calendar", "nav.calendar", Section::Calendar),
            ("/frameworks", "nav.frameworks", Section::Frameworks),
            ("/service/rectifications", "nav.ratings", Section::Service),
            ("/service/appeals", "nav.appeals", Section::Service),
            ("/admin/users", "nav.accounts", Section::Admin),
            ("/admin/roles", "nav.roles", Section::Admin),
            ("/admin/audit", "nav.audit", Section::Admin),
            ("/api/docs/", "nav.api", Section::Other),
        ]
        .into_iter()
        .filter(|(href, _, _)| match *href {
            "/admin/users" => self.manages_accounts,
            "/admin/roles" => self.manages_roles,
            "/admin/audit" => self.views_audit,
            "/service/rectifications" => self.handles_ratings,
            "/service/appeals" => self.decides_appeals,
            _ => true,
        })
        .map(|(href, key, section)| NavLink {
            current: section == self.section
                && section != Section::Other
                && (!matches!(section, Section::Admin | Section::Service)
                    || self.here.starts_with(href)),
            href: href.to_owned(),
            label: self.t(key),
            lang: self.lang.html_tag(),
        })
        .collect()
    }

    /// The language switch: one link per language, back to this page.
    pub(crate) fn lang_links(&self) -> Vec<NavLink> {
        Lang::ALL
            .into_iter()
            .map(|lang| NavLink {
                href: format!(
                    "/lang/{}?next={}",
                    lang.code(),
                    encode_component(&self.here)
                ),
                label: lang.native_name(),
                current: lang == self.lang,
                lang: lang.html_tag(),
            })
            .collect()
    }

    pub(crate) fn fail(&self, error: impl Into<ApiError>) -> PageError {
        PageError {
            ctx: Box::new(self.clone()),
            error: error.into(),
        }
    }

    fn parse<T: FromQuery>(&self, query: &QueryParams) -> Result<T, PageError> {
        T::from_query(query).map_err(|e| self.fail(e))
    }
}

/// Renders a template with a status, logging a rendering failure.
pub(crate) fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(error = %crate::error::cause_chain(&error), "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response()
        }
    }
}

/// A failed page request: shown as an error page in the request's language.
#[derive(Debug)]
pub(crate) struct PageError {
    ctx: Box<PageCtx>,
    error: ApiError,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: PageCtx,
    title: &'static str,
    text: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.error.log();
        let ctx = *self.ctx;
        let (title, text) = match &self.error {
            ApiError::NotFound { .. } | ApiError::NoRoute => (
                ctx.t("error.not_found.title"),
                ctx.t("error.not_found.text").to_owned(),
            ),
            ApiError::InvalidParam { name, reason } => (
                ctx.t("error.bad_request.title"),
                ctx.tf(
                    "error.bad_request.text",
                    &[("param", name), ("reason", reason)],
                ),
            ),
            ApiError::InvalidField { field, reason } => (
                ctx.t("error.bad_request.title"),
                ctx.tf(
                    "error.bad_request.text",
                    &[("param", field), ("reason", reason)],
                ),
            ),
            ApiError::Refused { reason, .. } | ApiError::Conflict { reason, .. } => {
                (ctx.t("error.refused.title"), reason.clone())
            }
            ApiError::RateLimited => (
                ctx.t("error.rate_limited.title"),
                ctx.t("error.rate_limited.text").to_owned(),
            ),
            ApiError::Unauthorized | ApiError::Forbidden => (
                ctx.t("error.forbidden.title"),
                ctx.t("error.forbidden.text").to_owned(),
            ),
            ApiError::Store(_) | ApiError::Framework(_) | ApiError::Unavailable => (
                ctx.t("error.internal.title"),
                ctx.t("error.internal.text").to_owned(),
            ),
        };
        render(self.error.status(), &ErrorPage { ctx, title, text })
    }
}

pub(crate) type PageResult = Result<Response, PageError>;

/// An error as JSON under `/api/`, as an error page elsewhere.
pub(crate) fn error_response(
    uri: &Uri,
    headers: &HeaderMap,
    demo: bool,
    error: ApiError,
) -> Response {
    if uri.path().starts_with("/api/") {
        error.into_response()
    } else {
        PageCtx::new(uri, headers, demo).fail(error).into_response()
    }
}

/// The fallback: a JSON 404 under `/api/`, the 404 page elsewhere.
pub(crate) async fn not_found(
    uri: Uri,
    headers: HeaderMap,
    State(state): State<AppState>,
) -> Response {
    let mut response = if uri.path().starts_with("/api/") {
        ApiError::NoRoute.into_response()
    } else {
        let ctx = PageCtx::new(&uri, &headers, state.demo);
        ctx.fail(ApiError::NoRoute).into_response()
    };
    response
        .extensions_mut()
        .insert(Declared(Permission::Public));
    response
}

/// Paging links under a table.
#[derive(Debug)]
pub(crate) struct Pager {
    summary: String,
    prev: Option<String>,
    next: Option<String>,
}

impl Pager {
    /// Links to the neighbours of `page`, on `path` with the other `pairs` kept.
    fn new<T>(ctx: &PageCtx, page: &Page<T>, path: &str, pairs: &[(&str, String)]) -> Self {
        let pages = page.pages();
        let link = |n: u32| {
            let mut all = pairs.to_vec();
            all.push(("page", n.to_string()));
            if page.per_page != crate::params::DEFAULT_PER_PAGE {
                all.push(("per_page", page.per_page.to_string()));
            }
            href(path, &all)
        };
        Self {
            summary: ctx.tf(
                "pager.page_of",
                &[
                    ("page", &page.page),
                    ("pages", &pages),
                    ("total", &page.total),
                ],
            ),
            prev: (page.page > 1).then(|| link(page.page.min(pages + 1) - 1)),
            next: (page.page < pages).then(|| link(page.page + 1)),
        }
    }
}

fn unit_href(code: &Code) -> String {
    format!("/units/{}", encode_component(code.as_str()))
}

fn cadre_href(id: &Code) -> String {
    format!("/cadres/{}", encode_component(id.as_str()))
}

// ---------------------------------------------------------------------------------------------
// Home

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    /// The escalation notice (督办) of a recipient: how many overdue rectifications went to them.
    escalated: Option<String>,
    counts: Vec<(&'static str, u64)>,
    /// The top of the unit tree: the roots, and the children of a single root.
    rows: Vec<UnitRow>,
}

/// Most units the home page lists.
const HOME_UNITS: u32 = 30;

async fn home(ctx: PageCtx, caller: Caller, State(state): State<AppState>) -> PageResult {
    let escalated = match crate::service::escalated_to(state.store.as_ref(), &caller)
        .await
        .map_err(|e| ctx.fail(e))?
    {
        0 => None,
        n => Some(ctx.tf("home.escalated", &[("n", &n)])),
    };
    let whole = ctx.sees_organization
        && data::check_list_scope(state.store.as_ref(), &caller, None)
            .await
            .is_ok();
    if !whole {
        // Organization data is not public: the home page then only introduces kaohe.
        return Ok(render(
            StatusCode::OK,
            &HomePage {
                ctx,
                escalated,
                counts: Vec::new(),
                rows: Vec::new(),
            },
        ));
    }
    let s = data::stats(state.store.as_ref())
        .await
        .map_err(|e| ctx.fail(e))?;
    let counts = vec![
        (ctx.t("home.units"), s.counts.units),
        (ctx.t("home.cadres"), s.counts.cadres),
        (ctx.t("home.leaders"), s.leaders),
        (ctx.t("home.sanctions"), s.counts.sanctions),
    ];
    let top = |parent: Option<Code>| UnitQuery {
        roots_only: parent.is_none(),
        parent,
        page: 1,
        per_page: HOME_UNITS,
        ..UnitQuery::default()
    };
    let roots = state
        .store
        .list_units(&top(None))
        .await
        .map_err(|e| ctx.fail(e))?;
    let mut units = roots.items;
    if let [root] = units.as_slice() {
        let children = top(Some(root.unit.code.clone()));
        let children = state
            .store
            .list_units(&children)
            .await
            .map_err(|e| ctx.fail(e))?;
        units.extend(children.items);
    }
    let rows = units.iter().map(|u| UnitRow::new(&ctx, u)).collect();
    Ok(render(
        StatusCode::OK,
        &HomePage {
            ctx,
            escalated,
            counts,
            rows,
        },
    ))
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

/// A link with a text.
#[derive(Debug)]
struct Link {
    href: String,
    text: String,
}

#[derive(Debug)]
struct UnitRow {
    code: String,
    link: Link,
    kind: &'static str,
    parent: Option<Link>,
    cadres: u64,
    leaders: u64,
}

impl UnitRow {
    fn new(ctx: &PageCtx, s: &UnitSummary) -> Self {
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
#[template(path = "units.html")]
struct UnitsPage {
    ctx: PageCtx,
    q: String,
    parent: String,
    kinds: Vec<Choice>,
    rows: Vec<UnitRow>,
    pager: Pager,
}

async fn units(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
) -> PageResult {
    let p: UnitListParams = ctx.parse(&QueryParams::from_uri(&uri))?;
    data::check_list_scope(state.store.as_ref(), &caller, p.parent.as_ref())
        .await
        .map_err(|e| ctx.fail(e))?;
    let page = state
        .store
        .list_units(&UnitQuery {
            search: p.q.clone(),
            parent: p.parent.clone(),
            kind: p.kind,
            roots_only: false,
            page: p.paging.page,
            per_page: p.paging.per_page,
        })
        .await
        .map_err(|e| ctx.fail(e))?;
    let q = p.q.unwrap_or_default();
    let parent = p.parent.map(String::from).unwrap_or_default();
    let kind = p.kind.map(|k| k.code().to_owned()).unwrap_or_default();
    let pager = Pager::new(
        &ctx,
        &page,
        "/units",
        &[("q", q.clone()), ("kind", kind), ("parent", parent.clone())],
    );
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
            parent,
            kinds,
            rows,
            pager,
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
#[template(path = "unit.html")]
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

async fn unit(
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
#[template(path = "cadres.html")]
struct CadresPage {
    ctx: PageCtx,
    q: String,
    unit: String,
    leaders: bool,
    rows: Vec<CadreRow>,
    pager: Pager,
}

async fn cadres(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
) -> PageResult {
    let p: CadreListParams = ctx.parse(&QueryParams::from_uri(&uri))?;
    data::check_list_scope(state.store.as_ref(), &caller, p.unit.as_ref())
        .await
        .map_err(|e| ctx.fail(e))?;
    let leaders = p.leaders.unwrap_or(false);
    let store = state.store.as_ref();
    let page = store
        .list_cadres(&CadreQuery {
            search: p.q.clone(),
            unit: p.unit.clone(),
            leaders_only: leaders,
            page: p.paging.page,
            per_page: p.paging.per_page,
        })
        .await
        .map_err(|e| ctx.fail(e))?;
    let mut names = UnitNames::default();
    names
        .load(store, page.items.iter().map(|c| c.unit.clone()).collect())
        .await
        .map_err(|e| ctx.fail(e))?;
    let q = p.q.unwrap_or_default();
    let unit = p.unit.map(String::from).unwrap_or_default();
    let pager = Pager::new(
        &ctx,
        &page,
        "/cadres",
        &[
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
        ],
    );
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
            unit,
            leaders,
            rows,
            pager,
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
#[template(path = "cadre.html")]
struct CadrePage {
    ctx: PageCtx,
    cadre: CadreRow,
    ethnicity: String,
    birth_date: String,
    appointments: Vec<AppointmentRow>,
    sanctions: Vec<SanctionRow>,
}

async fn cadre(
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
#[template(path = "calendar.html")]
struct CalendarPage {
    ctx: PageCtx,
    years: Vec<YearBlock>,
    from: String,
    days: String,
    result: Option<String>,
}

async fn calendar(ctx: PageCtx, State(state): State<AppState>, uri: Uri) -> PageResult {
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
                    ("weekday", &i18n::weekday(ctx.lang, due.weekday())),
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
            weekday: i18n::weekday(ctx.lang, e.date.weekday()),
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

// ---------------------------------------------------------------------------------------------
// Sign-in page

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    ctx: PageCtx,
    /// The pre-session CSRF token of the form.
    token: &'a str,
    /// Where to go after signing in (a local path).
    next: &'a str,
    /// Why the last attempt was refused.
    error: Option<&'static str>,
}

/// The sign-in form, with `error` when an attempt was refused.
pub(crate) fn login_page(
    ctx: PageCtx,
    status: StatusCode,
    token: &str,
    next: &str,
    error: Option<&'static str>,
) -> Response {
    render(
        status,
        &LoginPage {
            ctx,
            token,
            next,
            error,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Indicator frameworks (考核指标体系): the built-in presets of the scoring engine

#[derive(Debug)]
struct PresetRow {
    link: Link,
    name: &'static str,
    dimensions: usize,
    indicators: usize,
}

#[derive(Template)]
#[template(path = "frameworks.html")]
struct FrameworksPage {
    ctx: PageCtx,
    rows: Vec<PresetRow>,
}

async fn frameworks(ctx: PageCtx) -> PageResult {
    let mut rows = Vec::new();
    for preset in kaohe_engine::presets::all() {
        let framework = preset.framework().map_err(|e| ctx.fail(e))?;
        rows.push(PresetRow {
            link: Link {
                href: format!("/frameworks/{}", preset.name),
                text: if ctx.lang == Lang::En {
                    preset.title_en
                } else {
                    preset.title_zh
                }
                .to_owned(),
            },
            name: preset.name,
            dimensions: framework.dimensions().len(),
            indicators: framework.indicators().len(),
        });
    }
    Ok(render(StatusCode::OK, &FrameworksPage { ctx, rows }))
}

/// Width of the weight bars, in SVG user units, for the largest weight.
const WEIGHT_BAR: f64 = 120.0;

#[derive(Debug)]
struct IndicatorRow {
    dimension: String,
    name: String,
    id: String,
    unit: String,
    direction: &'static str,
    method: &'static str,
    veto: bool,
    /// Effective weight, as a percentage with one decimal.
    weight: String,
    /// Length of the weight's bar.
    bar: String,
}

#[derive(Template)]
#[template(path = "framework.html")]
struct FrameworkPage {
    ctx: PageCtx,
    title: String,
    name: &'static str,
    version: String,
    description: Option<String>,
    sources: Vec<String>,
    rows: Vec<IndicatorRow>,
    source: &'static str,
}

async fn framework(ctx: PageCtx, Path(name): Path<String>) -> PageResult {
    let Some(preset) = kaohe_engine::presets::get(&name) else {
        return Err(ctx.fail(ApiError::not_found("framework", name)));
    };
    let framework = preset.framework().map_err(|e| ctx.fail(e))?;
    let weights: BTreeMap<String, f64> = framework.effective_weights().into_iter().collect();
    let largest = weights.values().copied().fold(f64::EPSILON, f64::max);
    let en = ctx.lang == Lang::En;
    let pick = |zh: &str, en_name: Option<&str>| match en_name {
        Some(e) if en => e.to_owned(),
        _ => zh.to_owned(),
    };
    let rows = framework
        .indicators()
        .iter()
        .map(|i| {
            let weight = weights.get(&i.id).copied().unwrap_or_default();
            let dimension = &framework.dimensions()[i.dimension];
            IndicatorRow {
                dimension: pick(&dimension.name, dimension.name_en.as_deref()),
                name: pick(&i.name, i.name_en.as_deref()),
                id: i.id.clone(),
                unit: i.unit.clone(),
                direction: match i.direction {
                    kaohe_engine::Direction::Positive => ctx.t("framework.positive"),
                    kaohe_engine::Direction::Negative => ctx.t("framework.negative"),
                },
                method: i.normalization.method(),
                veto: i.veto.is_some(),
                weight: format!("{:.1}", weight * 100.0),
                bar: format!("{:.1}", weight / largest * WEIGHT_BAR),
            }
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &FrameworkPage {
            title: if en { preset.title_en } else { preset.title_zh }.to_owned(),
            name: preset.name,
            version: framework.version().to_owned(),
            description: framework.description().map(str::to_owned),
            sources: framework.sources().to_vec(),
            rows,
            source: preset.source,
            ctx,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// Audit log (audit administrator)

/// Most entries the audit page lists.
const AUDIT_ROWS: usize = 200;

#[derive(Debug)]
struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    after: String,
}

/// The outcome of a verification, as shown.
#[derive(Debug)]
struct VerifyView {
    ok: bool,
    /// The summary line when the chain is intact.
    summary: String,
    /// A note on entries appended while verifying.
    unchecked: Option<String>,
    problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AdminAuditPage {
    ctx: PageCtx,
    action: String,
    rows: Vec<AuditRow>,
    verification: Option<VerifyView>,
}

async fn admin_audit(ctx: PageCtx, State(state): State<AppState>, uri: Uri) -> PageResult {
    let query = QueryParams::from_uri(&uri);
    let action = query.raw("action").map(str::trim).filter(|a| !a.is_empty());
    let store = state.store.as_ref();
    let entries = kaohe_store::recent_audit_entries(store, AUDIT_ROWS, action)
        .await
        .map_err(|e| ctx.fail(e))?;
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let rows = entries
        .into_iter()
        .rev()
        .map(|e| AuditRow {
            seq: e.seq,
            at: e
                .at
                .to_offset(state.utc_offset)
                .format(format)
                .unwrap_or_default(),
            actor: e.actor,
            action: e.action,
            target: e.target,
            after: e.after.unwrap_or_default(),
        })
        .collect();
    let verification = if query.raw("verify") == Some("1") {
        let v = kaohe_store::verify_audit(store, None)
            .await
            .map_err(|e| ctx.fail(e))?;
        Some(VerifyView {
            ok: v.report.is_ok(),
            summary: ctx.tf(
                "audit.ok",
                &[("count", &v.report.count), ("head", &v.report.head)],
            ),
            unchecked: (v.unchecked > 0).then(|| ctx.tf("audit.unchecked", &[("n", &v.unchecked)])),
            problems: v.report.problems.iter().map(ToString::to_string).collect(),
        })
    } else {
        None
    };
    let action = action.unwrap_or_default().to_owned();
    Ok(render(
        StatusCode::OK,
        &AdminAuditPage {
            ctx,
            action,
            rows,
            verification,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// Language switch

/// Longest `lang` cookie lifetime: a year.
const LANG_COOKIE_MAX_AGE: u32 = 365 * 24 * 60 * 60;

/// `next` when it is a path on this site, else `/`: never an open redirect.
pub(crate) fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n
        }
        _ => "/",
    }
}

/// A `Location` value: the path with anything but visible ASCII percent-encoded.
pub(crate) fn location(path: &str) -> HeaderValue {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_graphic() {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    HeaderValue::from_str(&out).unwrap_or_else(|_| HeaderValue::from_static("/"))
}

async fn set_lang(Path(lang): Path<String>, uri: Uri) -> Response {
    let Some(lang) = Lang::parse(&lang).filter(|l| l.code() == lang) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let query = QueryParams::from_uri(&uri);
    let next = local_path(query.raw("next"));
    let cookie = format!(
        "{LANG_PARAM}={}; Path=/; Max-Age={LANG_COOKIE_MAX_AGE}; SameSite=Lax; HttpOnly",
        lang.code()
    );
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(LOCATION, location(next));
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/units?q=a")), "/units?q=a");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "units",
            "",
            "/a\nb",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn locations_are_ascii() {
        assert_eq!(
            location("/units?q=瑶海 区").to_str().ok(),
            Some("/units?q=%E7%91%B6%E6%B5%B7%20%E5%8C%BA")
        );
    }

    #[test]
    fn sections() {
        assert_eq!(Section::of("/"), Section::Home);
        assert_eq!(Section::of("/units/340102"), Section::Units);
        assert_eq!(Section::of("/cadres"), Section::Cadres);
        assert_eq!(Section::of("/nope"), Section::Other);
    }
}
