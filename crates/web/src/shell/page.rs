//! The page context and layout every page is rendered in: the language, the navigation, the
//! signed-in account and its CSRF token ([`PageCtx`]); rendering ([`render`]); error pages
//! ([`PageError`]); paging links ([`Pager`]); and the language switch (`/lang/{lang}`).
//!
//! Handlers gather data, turn it into small view structs with every text already in the
//! request's language, and render. Every value is escaped by askama; no template marks data as
//! safe.

use super::access::{Declared, Permission};
use super::assets;
use super::auth::set_cookie_header;
use super::error::ApiError;
use super::i18n::{self, LANG_PARAM, Lang};
use super::params::{FromQuery, QueryParams, encode_component, href};
use super::{AppState, auth};
use askama::Template;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use cookie::{Cookie, SameSite};
use kaohe_domain::Labeled;
use kaohe_store::Page;

/// Section of the site, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Home,
    Units,
    Cadres,
    Calendar,
    Frameworks,
    Cycles,
    MyResults,
    Records,
    Polls,
    Ratings,
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
            "cycles" => Section::Cycles,
            "records" => Section::Records,
            "polls" => Section::Polls,
            "my" => Section::MyResults,
            "admin" => Section::Admin,
            "service" => Section::Ratings,
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
    /// Whether someone is signed in.
    signed_in: bool,
    /// Whether the account works on assessment cycles (assessor).
    views_cycles: bool,
    /// Whether the account sees results of final cycles (official, unit leader).
    views_own_results: bool,
    /// Whether the account judges its people in routine cycles (unit leader).
    judges_routine: bool,
    /// Whether the account records facts of officials (assessor, unit leader).
    records_facts: bool,
    /// Whether the account verifies records (assessor).
    verifies_records: bool,
    /// Whether the account reads its own records (official).
    views_own_records: bool,
    /// A ballot code of the demo's open poll, for the demo banner.
    demo_vote: Option<String>,
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
        let principal = super::access::principal_of(parts);
        ctx.user = principal.username().map(str::to_owned);
        ctx.sees_organization = principal.holds(Permission::ViewOrganization);
        ctx.manages_accounts = principal.holds(Permission::ManageAccounts);
        ctx.manages_roles = principal.holds(Permission::ManageRoles);
        ctx.views_audit = principal.holds(Permission::ViewAudit);
        ctx.handles_ratings = principal.holds(Permission::HandleRectification);
        ctx.decides_appeals = principal.holds(Permission::DecideAppeal);
        ctx.views_cycles = principal.holds(Permission::ViewCycles);
        ctx.views_own_results = principal.holds(Permission::ViewOwnResults);
        ctx.judges_routine = principal.holds(Permission::JudgeRoutine);
        ctx.records_facts = principal.holds(Permission::RecordFacts);
        ctx.verifies_records = principal.holds(Permission::VerifyRecords);
        ctx.views_own_records = principal.holds(Permission::ViewOwnRecords);
        ctx.signed_in = principal.holds(Permission::Authenticated);
        ctx.demo_vote = state.demo_vote_code.clone().filter(|_| state.demo);
        ctx.csrf = parts
            .extensions
            .get::<auth::SessionCsrf>()
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
            views_cycles: false,
            views_own_results: false,
            judges_routine: false,
            records_facts: false,
            verifies_records: false,
            views_own_records: false,
            demo_vote: None,
            signed_in: false,
            section: Section::of(path),
            here: href(path, &kept),
        }
    }

    /// The language of the page.
    pub(crate) fn lang(&self) -> Lang {
        self.lang
    }

    /// Whether organization-wide data may be shown.
    pub(crate) fn sees_organization(&self) -> bool {
        self.sees_organization
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

    /// The demo's ballot code to try the voting page with, and where it leads.
    pub(crate) fn demo_vote(&self) -> Option<(&str, String)> {
        self.demo_vote
            .as_deref()
            .map(|code| (code, format!("/vote?code={}", encode_component(code))))
    }

    /// Link to the stylesheet, versioned by its content.
    pub(crate) fn css_href(&self) -> String {
        format!("/static/kaohe.css?v={:016x}", assets::CSS_VERSION)
    }

    /// Links to the scripts that draw the charts of report tables, versioned.
    pub(crate) fn chart_scripts(&self) -> [String; 2] {
        [
            format!("/static/echarts.min.js?v={}", assets::ECHARTS_VERSION),
            format!("/static/charts.js?v={:016x}", assets::CHARTS_VERSION),
        ]
    }

    /// Link to the script of the pickers' search boxes, versioned.
    pub(crate) fn picker_script(&self) -> String {
        format!("/static/picker.js?v={:016x}", assets::PICKER_VERSION)
    }

    /// The main navigation.
    pub(crate) fn nav(&self) -> Vec<NavLink> {
        [
            ("/", "nav.home", Section::Home),
            ("/units", "nav.units", Section::Units),
            ("/cadres", "nav.cadres", Section::Cadres),
            ("/calendar", "nav.calendar", Section::Calendar),
            ("/cycles", "nav.cycles", Section::Cycles),
            ("/my/results", "nav.my_results", Section::MyResults),
            ("/judgements", "nav.judgements", Section::Cycles),
            ("/records/queue", "nav.record_queue", Section::Records),
            ("/records/new", "nav.record_new", Section::Records),
            ("/my/records", "nav.my_records", Section::MyResults),
            ("/polls", "nav.polls", Section::Polls),
            ("/frameworks", "nav.frameworks", Section::Frameworks),
            ("/service/rectifications", "nav.ratings", Section::Ratings),
            ("/service/appeals", "nav.appeals", Section::Ratings),
            ("/admin/users", "nav.accounts", Section::Admin),
            ("/admin/roles", "nav.roles", Section::Admin),
            ("/admin/audit", "nav.audit", Section::Admin),
            ("/api/docs/", "nav.api", Section::Other),
        ]
        .into_iter()
        // No account sees an item it cannot open.
        .filter(|(href, _, _)| match *href {
            "/units" | "/cadres" => self.sees_organization,
            "/calendar" | "/frameworks" => self.signed_in,
            "/cycles" | "/polls" => self.views_cycles,
            "/my/results" => self.views_own_results,
            "/judgements" => self.judges_routine,
            "/records/queue" => self.verifies_records,
            "/records/new" => self.records_facts,
            "/my/records" => self.views_own_records,
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
                && (!matches!(
                    section,
                    Section::Admin | Section::Ratings | Section::Records | Section::MyResults
                ) || self.here.starts_with(href)),
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

    /// Parses query parameters, failing with the error page.
    pub(crate) fn parse<T: FromQuery>(&self, query: &QueryParams) -> Result<T, PageError> {
        T::from_query(query).map_err(|e| self.fail(e))
    }
}

/// Renders a template with a status, logging a rendering failure.
pub(crate) fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(error = %super::error::cause_chain(&error), "template failed");
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
#[template(path = "shell/error.html")]
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
            ApiError::UnsupportedMediaType { .. } => {
                (ctx.t("error.refused.title"), self.error.to_string())
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
    pub(crate) summary: String,
    pub(crate) prev: Option<String>,
    pub(crate) next: Option<String>,
}

impl Pager {
    /// Links to the neighbours of `page`, on `path` with the other `pairs` kept.
    pub(crate) fn new<T>(
        ctx: &PageCtx,
        page: &Page<T>,
        path: &str,
        pairs: &[(&str, String)],
    ) -> Self {
        let pages = page.pages();
        let link = |n: u32| {
            let mut all = pairs.to_vec();
            all.push(("page", n.to_string()));
            if page.per_page != super::params::DEFAULT_PER_PAGE {
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

/// A link with a text.
#[derive(Debug)]
pub(crate) struct Link {
    /// Where it goes.
    pub(crate) href: String,
    /// What it says.
    pub(crate) text: String,
}

/// Longest `lang` cookie lifetime: a year.
const LANG_COOKIE_MAX_AGE: i64 = 365 * 24 * 60 * 60;

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

/// `GET /lang/{lang}?next=/path`: remembers the language in a cookie and goes back.
pub(super) async fn set_lang(Path(lang): Path<String>, uri: Uri) -> Response {
    let Some(lang) = Lang::parse(&lang).filter(|l| l.code() == lang) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let query = QueryParams::from_uri(&uri);
    let next = local_path(query.raw("next"));
    let cookie = Cookie::build((LANG_PARAM, lang.code()))
        .path("/")
        .max_age(time::Duration::seconds(LANG_COOKIE_MAX_AGE))
        .same_site(SameSite::Lax)
        .http_only(true)
        .build();
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(LOCATION, location(next));
    response
        .headers_mut()
        .insert(SET_COOKIE, set_cookie_header(&cookie));
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
