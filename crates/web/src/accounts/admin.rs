//! The administrators' account screens (#3).
//!
//! - `/admin/users` (system administrator, `Permission::ManageAccounts`): the accounts;
//!   create one, reset a password, disable and enable.
//! - `/admin/roles` (security administrator, `Permission::ManageRoles`): roles and unit
//!   scopes of the accounts.
//!
//! 三员分立: the system administrator creates accounts without any role, and only the security
//! administrator grants roles ([`check_role_assignment`]: never to their own account, never two
//! administrator roles, an administrator role only to an account with a second factor). A
//! password set by an administrator must be changed at the next sign-in. Every change is
//! appended to the audit log in its own transaction with who, what, and the state before and
//! after; password hashes and TOTP secrets never reach a page, a log line or an audit entry.

use crate::org::picker::{self, CadreOption, UnitOption};
use crate::shell::AppState;
use crate::shell::access::Caller;
use crate::shell::auth::{hash_password, now};
use crate::shell::download::{suffix_of, table_file};
use crate::shell::error::ApiError;
use crate::shell::page::{PageCtx, PageError, PageResult, location, render};
use crate::shell::params::{QueryParams, encode_component};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use kaohe_data::WideCell;
use kaohe_domain::access::{
    PasswordError, RoleError, UsernameError, check_role_assignment, check_scope, check_username,
};
use kaohe_domain::audit::action;
use kaohe_domain::{Code, Labeled, NewAuditEntry, Role};
use kaohe_store::{CadreQuery, Grants, LastHolder, MAX_PER_PAGE, NewUser, StoreError, User};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};

/// Longest display name, in characters.
const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// A 303 to `path` (a local path with a query of our own making).
pub(super) fn see_other(path: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut().insert(LOCATION, location(path));
    r
}

/// The signed-in account's name: these routes need one.
pub(super) fn actor<'a>(ctx: &PageCtx, caller: &'a Caller) -> Result<&'a str, PageError> {
    caller
        .0
        .username()
        .ok_or_else(|| ctx.fail(ApiError::Unauthorized))
}

/// The account `username`, or a 404 page.
pub(super) async fn account(
    ctx: &PageCtx,
    state: &AppState,
    username: &str,
) -> Result<User, PageError> {
    state
        .store
        .get_user(username)
        .await
        .map_err(|e| ctx.fail(e))?
        .ok_or_else(|| ctx.fail(ApiError::not_found("account", username)))
}

/// The argon2id hash of `password`, computed off the async threads; `None` (logged) when
/// hashing fails.
pub(super) async fn hash(password: String) -> Option<String> {
    match tokio::task::spawn_blocking(move || hash_password(&password)).await {
        Ok(Ok(hash)) => Some(hash),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "password hashing failed");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "password hashing task failed");
            None
        }
    }
}

/// The answer when hashing failed.
pub(super) fn internal_error() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response()
}

/// A refused password, in the page's language.
pub(super) fn password_error(ctx: &PageCtx, e: &PasswordError) -> String {
    match e {
        PasswordError::TooShort(n) => ctx.tf("form.password.too_short", &[("n", n)]),
        PasswordError::TooFewClasses(n) => ctx.tf("form.password.classes", &[("n", n)]),
        PasswordError::ContainsUsername => ctx.t("form.password.username").to_owned(),
    }
}

fn username_error(ctx: &PageCtx, e: &UsernameError) -> String {
    match e {
        UsernameError::Empty => ctx.t("form.username.empty").to_owned(),
        UsernameError::TooLong => ctx.tf(
            "form.username.too_long",
            &[("n", &kaohe_domain::access::MAX_USERNAME_CHARS)],
        ),
        UsernameError::BadChar(c) => ctx.tf("form.username.bad_char", &[("char", c)]),
    }
}

fn role_label(ctx: &PageCtx, code: &str) -> String {
    Role::parse_label(code).map_or_else(|_| code.to_owned(), |r| ctx.label(r).to_owned())
}

fn role_error(ctx: &PageCtx, e: &RoleError) -> String {
    match e {
        RoleError::TwoAdmins(a, b) => ctx.tf(
            "admin.roles.two_admins",
            &[("a", &role_label(ctx, a)), ("b", &role_label(ctx, b))],
        ),
        RoleError::AdminWithBusinessRole(a, b) => ctx.tf(
            "admin.roles.admin_with_business",
            &[("a", &role_label(ctx, a)), ("b", &role_label(ctx, b))],
        ),
        RoleError::NoRole => ctx.t("admin.roles.no_role").to_owned(),
        RoleError::LastHolder(r) => {
            ctx.tf("admin.roles.last_holder", &[("role", &role_label(ctx, r))])
        }
        RoleError::OwnAccount => ctx.t("admin.roles.own_account").to_owned(),
        RoleError::UnitsNeeded(r) => {
            ctx.tf("admin.roles.units_needed", &[("role", &role_label(ctx, r))])
        }
        RoleError::UnitsUnused => ctx.t("admin.roles.units_unused").to_owned(),
        RoleError::CadreNeeded => ctx.t("admin.roles.cadre_needed").to_owned(),
        RoleError::CadreUnused => ctx.t("admin.roles.cadre_unused").to_owned(),
        RoleError::NeedsTotp(r) => {
            ctx.tf("admin.roles.needs_totp", &[("role", &role_label(ctx, r))])
        }
    }
}

/// Roles, joined for a table cell.
pub(super) fn roles_text(ctx: &PageCtx, roles: &BTreeSet<Role>) -> String {
    roles
        .iter()
        .map(|r| ctx.label(*r))
        .collect::<Vec<_>>()
        .join("、")
}

/// The names of the units and cadres that make up the scopes of `users`.
pub(super) async fn scope_names(
    store: &dyn kaohe_store::Store,
    users: &[&User],
) -> Result<HashMap<Code, String>, StoreError> {
    let mut names: HashMap<Code, String> = HashMap::new();
    if users.iter().any(|u| !u.units.is_empty()) {
        names.extend(
            store
                .all_units()
                .await?
                .into_iter()
                .map(|u| (u.code, u.name)),
        );
    }
    for id in users.iter().filter_map(|u| u.cadre.as_ref()) {
        if !names.contains_key(id)
            && let Some(c) = store.get_cadre(id).await?
        {
            names.insert(c.id, c.name);
        }
    }
    Ok(names)
}

/// Units and cadre record by name with their code, joined for a table cell:
/// 春德县（340128）.
pub(super) fn scope_text(user: &User, names: &HashMap<Code, String>) -> String {
    user.units
        .iter()
        .chain(user.cadre.as_ref())
        .map(|c| match names.get(c) {
            Some(name) => format!("{name}（{c}）"),
            None => c.to_string(),
        })
        .collect::<Vec<_>>()
        .join("、")
}

/// Roles and scope as recorded in the audit log.
fn grants_json(roles: &BTreeSet<Role>, units: &[Code], cadre: Option<&Code>) -> String {
    json!({
        "roles": roles.iter().map(|r| r.code()).collect::<Vec<_>>(),
        "units": units.iter().map(Code::as_str).collect::<Vec<_>>(),
        "cadre": cadre.map(Code::as_str),
    })
    .to_string()
}

/// The notice after a change, from the `done` query parameter of the redirect.
fn notice(ctx: &PageCtx, uri: &Uri) -> Option<&'static str> {
    let key = match QueryParams::from_uri(uri).raw("done")? {
        "created" => "admin.users.done.created",
        "reset" => "admin.users.done.reset",
        "disabled" => "admin.users.done.disabled",
        "enabled" => "admin.users.done.enabled",
        "assigned" => "admin.roles.done",
        _ => return None,
    };
    Some(ctx.t(key))
}

// ---------------------------------------------------------------------------------------------
// Accounts (system administrator)

#[derive(Debug)]
struct UserRow {
    username: String,
    /// The account name, encoded for a path segment.
    segment: String,
    name: String,
    roles: String,
    scope: String,
    totp: &'static str,
    status: String,
    disabled: bool,
    /// The administrator's own account: changed on `/account`, not here.
    own: bool,
}

#[derive(Template)]
#[template(path = "accounts/admin_users.html")]
struct UsersPage {
    ctx: PageCtx,
    rows: Vec<UserRow>,
    notice: Option<&'static str>,
    error: Option<String>,
    /// The new-account form's values after a refusal (never the password).
    username: String,
    display_name: String,
}

/// The fields of the new-account form.
#[derive(serde::Deserialize)]
pub(super) struct NewAccountForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
}

pub(super) async fn users(ctx: PageCtx, State(state): State<AppState>, uri: Uri) -> PageResult {
    if let Some(format) = QueryParams::from_uri(&uri).raw("format") {
        return export_users(&ctx, &state, format).await;
    }
    let notice = notice(&ctx, &uri);
    users_page(ctx, &state, StatusCode::OK, notice, None, ("", "")).await
}

/// `?format=xlsx|csv`: the accounts as listed, in words (never a secret).
async fn export_users(ctx: &PageCtx, state: &AppState, format: &str) -> PageResult {
    let suffix = suffix_of(ctx, format)?;
    let users = state.store.list_users().await.map_err(|e| ctx.fail(e))?;
    let names = scope_names(state.store.as_ref(), &users.iter().collect::<Vec<_>>())
        .await
        .map_err(|e| ctx.fail(e))?;
    let rows = users
        .iter()
        .map(|u| {
            let row = user_row(ctx, u, &names, "");
            vec![
                WideCell::Text(row.username),
                WideCell::Text(row.name),
                WideCell::Text(row.roles),
                WideCell::Text(row.scope),
                WideCell::Text(row.totp.to_owned()),
                WideCell::Text(row.status),
            ]
        })
        .collect();
    let header = [
        "login.username",
        "admin.users.name",
        "admin.users.roles",
        "admin.users.scope",
        "admin.users.totp",
        "admin.users.status",
    ]
    .iter()
    .map(|k| ctx.t(k).to_owned())
    .collect();
    let name = ctx.t("tables.users_file").to_owned();
    table_file(ctx, "accounts", name, suffix, header, rows).await
}

/// An account as a row of the accounts table, in the page's language.
fn user_row(ctx: &PageCtx, u: &User, names: &HashMap<Code, String>, me: &str) -> UserRow {
    UserRow {
        roles: if u.roles.is_empty() {
            ctx.t("admin.users.no_roles").to_owned()
        } else {
            roles_text(ctx, &u.roles)
        },
        scope: scope_text(u, names),
        totp: ctx.yes_no(u.totp_secret.is_some()),
        status: if u.disabled {
            ctx.t("admin.users.disabled").to_owned()
        } else if u.must_change_password {
            ctx.t("admin.users.must_change").to_owned()
        } else if u.failed_logins > 0 {
            ctx.tf("admin.users.failures", &[("n", &u.failed_logins)])
        } else {
            ctx.t("admin.users.active").to_owned()
        },
        disabled: u.disabled,
        own: u.username == me,
        segment: encode_component(&u.username),
        username: u.username.clone(),
        name: u.display_name.clone(),
    }
}

/// The accounts page with `error` (and the new-account form's `(username, display_name)`).
async fn users_page(
    ctx: PageCtx,
    state: &AppState,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
    (username, display_name): (&str, &str),
) -> PageResult {
    let users = state.store.list_users().await.map_err(|e| ctx.fail(e))?;
    let names = scope_names(state.store.as_ref(), &users.iter().collect::<Vec<_>>())
        .await
        .map_err(|e| ctx.fail(e))?;
    let me = ctx.user().unwrap_or_default().to_owned();
    let rows = users
        .iter()
        .map(|u| user_row(&ctx, u, &names, &me))
        .collect();
    Ok(render(
        status,
        &UsersPage {
            ctx,
            rows,
            notice,
            error,
            username: username.to_owned(),
            display_name: display_name.to_owned(),
        },
    ))
}

pub(super) async fn create(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    axum::Form(form): axum::Form<NewAccountForm>,
) -> PageResult {
    let actor = actor(&ctx, &caller)?;
    let username = form.username.trim();
    let display_name = form.display_name.trim();
    let refused = |ctx: PageCtx, error: String| {
        users_page(
            ctx,
            &state,
            StatusCode::BAD_REQUEST,
            None,
            Some(error),
            (username, display_name),
        )
    };
    if let Err(e) = check_username(username) {
        let error = username_error(&ctx, &e);
        return refused(ctx, error).await;
    }
    if display_name.chars().count() > MAX_DISPLAY_NAME_CHARS
        || display_name.chars().any(char::is_control)
    {
        let error = ctx.tf(
            "form.display_name.invalid",
            &[("n", &MAX_DISPLAY_NAME_CHARS)],
        );
        return refused(ctx, error).await;
    }
    if let Err(e) = state.auth.password.check(username, &form.password) {
        let error = password_error(&ctx, &e);
        return refused(ctx, error).await;
    }
    let Some(password_hash) = hash(form.password.clone()).await else {
        return Ok(internal_error());
    };
    let display_name = if display_name.is_empty() {
        username
    } else {
        display_name
    };
    let user = NewUser {
        username: username.to_owned(),
        display_name: display_name.to_owned(),
        password_hash,
        roles: BTreeSet::new(),
        units: Vec::new(),
        cadre: None,
        totp_secret: None,
        must_change_password: true,
    };
    let audit = NewAuditEntry::new(actor, action::USER_CREATE, username).after(
        json!({
            "display_name": display_name,
            "roles": [],
            "must_change_password": true,
        })
        .to_string(),
    );
    let created = state
        .store
        .create_user(&user, now(), &audit)
        .await
        .map_err(|e| ctx.fail(e))?;
    if !created {
        let error = ctx.tf("admin.users.taken", &[("user", &username)]);
        return refused(ctx, error).await;
    }
    tracing::info!(%actor, account = %username, "account created");
    Ok(see_other("/admin/users?done=created"))
}

/// The field of the password-reset form.
#[derive(serde::Deserialize)]
pub(super) struct ResetForm {
    #[serde(default)]
    password: String,
}

/// Refuses a change of the administrator's own account here (that is done on `/account`).
async fn refuse_own(ctx: PageCtx, state: &AppState) -> PageResult {
    let error = ctx.t("admin.users.own_account").to_owned();
    users_page(
        ctx,
        state,
        StatusCode::BAD_REQUEST,
        None,
        Some(error),
        ("", ""),
    )
    .await
}

pub(super) async fn reset_password(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(username): Path<String>,
    axum::Form(form): axum::Form<ResetForm>,
) -> PageResult {
    let actor = actor(&ctx, &caller)?;
    let user = account(&ctx, &state, &username).await?;
    if actor == user.username {
        return refuse_own(ctx, &state).await;
    }
    if let Err(e) = state.auth.password.check(&user.username, &form.password) {
        let error = format!(
            "{}{}",
            ctx.tf("admin.users.for", &[("user", &user.username)]),
            password_error(&ctx, &e)
        );
        return users_page(
            ctx,
            &state,
            StatusCode::BAD_REQUEST,
            None,
            Some(error),
            ("", ""),
        )
        .await;
    }
    let Some(password_hash) = hash(form.password.clone()).await else {
        return Ok(internal_error());
    };
    let audit = NewAuditEntry::new(actor, action::USER_RESET, &user.username)
        .before(
            json!({
                "must_change_password": user.must_change_password,
                "failed_logins": user.failed_logins,
            })
            .to_string(),
        )
        .after(
            json!({
                "must_change_password": true,
                "failed_logins": 0,
                "sessions_ended": true,
            })
            .to_string(),
        );
    state
        .store
        .set_password(&user.username, &password_hash, true, None, &audit)
        .await
        .map_err(|e| ctx.fail(e))?;
    tracing::info!(%actor, account = %user.username, "password reset");
    Ok(see_other("/admin/users?done=reset"))
}

pub(super) async fn disable(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> PageResult {
    set_disabled(ctx, &caller, &state, &username, true).await
}

pub(super) async fn enable(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> PageResult {
    set_disabled(ctx, &caller, &state, &username, false).await
}

async fn set_disabled(
    ctx: PageCtx,
    caller: &Caller,
    state: &AppState,
    username: &str,
    disabled: bool,
) -> PageResult {
    let actor = actor(&ctx, caller)?;
    let user = account(&ctx, state, username).await?;
    if actor == user.username {
        return refuse_own(ctx, state).await;
    }
    let (action, done) = if disabled {
        (action::USER_DISABLE, "/admin/users?done=disabled")
    } else {
        (action::USER_ENABLE, "/admin/users?done=enabled")
    };
    if user.disabled != disabled {
        let audit = NewAuditEntry::new(actor, action, &user.username)
            .before(json!({ "disabled": user.disabled }).to_string())
            .after(json!({ "disabled": disabled, "sessions_ended": disabled }).to_string());
        match state
            .store
            .set_disabled(&user.username, disabled, LastHolder::Keep, &audit)
            .await
        {
            Err(StoreError::Role(e)) => {
                let error = role_error(&ctx, &e);
                return users_page(
                    ctx,
                    state,
                    StatusCode::CONFLICT,
                    None,
                    Some(error),
                    ("", ""),
                )
                .await;
            }
            done => done.map_err(|e| ctx.fail(e))?,
        };
        tracing::info!(%actor, account = %user.username, action, "account changed");
    }
    Ok(see_other(done))
}

// ---------------------------------------------------------------------------------------------
// Roles and scopes (security administrator)

#[derive(Debug)]
struct RoleRow {
    username: String,
    segment: String,
    name: String,
    roles: String,
    scope: String,
    totp: &'static str,
    /// No role yet: waiting for the security administrator.
    pending: bool,
    disabled: bool,
}

#[derive(Template)]
#[template(path = "accounts/admin_roles.html")]
struct RolesPage {
    ctx: PageCtx,
    rows: Vec<RoleRow>,
    notice: Option<&'static str>,
}

pub(super) async fn roles(ctx: PageCtx, State(state): State<AppState>, uri: Uri) -> PageResult {
    let notice = notice(&ctx, &uri);
    let users = state.store.list_users().await.map_err(|e| ctx.fail(e))?;
    let names = scope_names(state.store.as_ref(), &users.iter().collect::<Vec<_>>())
        .await
        .map_err(|e| ctx.fail(e))?;
    let rows = users
        .into_iter()
        .map(|u| RoleRow {
            roles: roles_text(&ctx, &u.roles),
            scope: scope_text(&u, &names),
            totp: ctx.yes_no(u.totp_secret.is_some()),
            pending: u.roles.is_empty(),
            disabled: u.disabled,
            segment: encode_component(&u.username),
            username: u.username,
            name: u.display_name,
        })
        .collect();
    Ok(render(StatusCode::OK, &RolesPage { ctx, rows, notice }))
}

/// A role's checkbox.
#[derive(Debug)]
struct RoleChoice {
    code: &'static str,
    label: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "accounts/admin_role.html")]
struct RolePage {
    ctx: PageCtx,
    username: String,
    segment: String,
    name: String,
    totp: bool,
    own: bool,
    choices: Vec<RoleChoice>,
    /// Every unit as a tree, those of the scope selected.
    unit_options: Vec<UnitOption>,
    /// Cadres by name, for the official's own record.
    cadre_options: Vec<CadreOption>,
    cadre: String,
    error: Option<String>,
}

/// Most cadres the cadre field's search answers with.
const SEARCH_CADRES: u32 = 20;

/// The cadres by name, unit and post for the cadre field: the first `limit` of every cadre, or
/// of those whose id, name or post holds `search`.
async fn cadre_options(
    state: &AppState,
    search: Option<String>,
    limit: u32,
) -> Result<Vec<CadreOption>, StoreError> {
    let store = state.store.as_ref();
    let page = store
        .list_cadres(&CadreQuery {
            search,
            page: 1,
            per_page: limit,
            ..CadreQuery::default()
        })
        .await?;
    let units: HashMap<Code, String> = store
        .all_units()
        .await?
        .into_iter()
        .map(|u| (u.code, u.name))
        .collect();
    Ok(page
        .items
        .into_iter()
        .map(|c| CadreOption {
            label: format!(
                "{} · {} · {}",
                c.name,
                units.get(&c.unit).map_or("", String::as_str),
                c.post
            ),
            id: c.id.to_string(),
            selected: false,
        })
        .collect())
}

/// `GET /admin/cadres?q=`: the cadres whose id, name or post holds `q` (at most
/// [`SEARCH_CADRES`]), as `{"items": [{"id", "label"}]}`, for the search of the role form's
/// cadre field beyond the list the form was sent with.
pub(super) async fn cadre_search(
    ctx: PageCtx,
    uri: Uri,
    State(state): State<AppState>,
) -> Result<Response, PageError> {
    let query = QueryParams::from_uri(&uri);
    let q = query.raw("q").unwrap_or_default().trim().to_owned();
    let items = if q.is_empty() {
        Vec::new()
    } else {
        cadre_options(&state, Some(q), SEARCH_CADRES)
            .await
            .map_err(|e| ctx.fail(e))?
    };
    let items: Vec<_> = items
        .into_iter()
        .map(|c| json!({"id": c.id, "label": c.label}))
        .collect();
    Ok(axum::Json(json!({ "items": items })).into_response())
}

/// The roles an account may be given: every role but the anonymous public's.
fn assignable() -> impl Iterator<Item = Role> {
    Role::ALL.iter().copied().filter(|r| *r != Role::Public)
}

/// The role form, showing `roles`, `units` and `cadre` as entered.
async fn role_page(
    ctx: PageCtx,
    state: &AppState,
    status: StatusCode,
    user: &User,
    roles: &BTreeSet<Role>,
    (units, cadre): (Vec<String>, String),
    error: Option<String>,
) -> PageResult {
    let selected: Vec<&str> = units.iter().map(String::as_str).collect();
    let unit_options = picker::all_unit_options(state.store.as_ref(), &selected)
        .await
        .map_err(|e| ctx.fail(e))?;
    let cadre_options = cadre_options(state, None, MAX_PER_PAGE)
        .await
        .map_err(|e| ctx.fail(e))?;
    let choices = assignable()
        .map(|r| RoleChoice {
            code: r.code(),
            label: ctx.label(r),
            checked: roles.contains(&r),
        })
        .collect();
    let own = ctx.user() == Some(user.username.as_str());
    Ok(render(
        status,
        &RolePage {
            username: user.username.clone(),
            segment: encode_component(&user.username),
            name: user.display_name.clone(),
            totp: user.totp_secret.is_some(),
            own,
            choices,
            unit_options,
            cadre_options,
            cadre,
            error,
            ctx,
        },
    ))
}

pub(super) async fn edit_roles(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> PageResult {
    let user = account(&ctx, &state, &username).await?;
    let units = user.units.iter().map(Code::to_string).collect();
    let cadre = user.cadre.as_ref().map(Code::to_string).unwrap_or_default();
    role_page(
        ctx,
        &state,
        StatusCode::OK,
        &user,
        &user.roles,
        (units, cadre),
        None,
    )
    .await
}

/// Unit codes, each field holding one (picked) or several separated by spaces, commas or 、
/// (typed).
fn parse_units(fields: &[String]) -> Result<Vec<Code>, String> {
    let mut units: Vec<Code> = Vec::new();
    for part in fields
        .iter()
        .flat_map(|f| f.split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、')))
        .filter(|p| !p.is_empty())
    {
        let code = Code::parse(part).map_err(|_| part.to_owned())?;
        if !units.contains(&code) {
            units.push(code);
        }
    }
    Ok(units)
}

pub(super) async fn assign_roles(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(username): Path<String>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let actor = actor(&ctx, &caller)?;
    let user = account(&ctx, &state, &username).await?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let units_fields: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "units")
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    let cadre_text = field("cadre");
    let mut roles = BTreeSet::new();
    let mut error = None;
    for (_, code) in fields.iter().filter(|(k, _)| k == "role") {
        match Role::parse_label(code)
            .ok()
            .filter(|r| assignable().any(|a| a == *r))
        {
            Some(role) => {
                roles.insert(role);
            }
            None => {
                error = Some(ctx.tf("admin.roles.unknown_role", &[("role", code)]));
            }
        }
    }
    let units = parse_units(&units_fields).unwrap_or_else(|bad| {
        error = Some(ctx.tf("admin.roles.bad_unit", &[("unit", &bad)]));
        Vec::new()
    });
    let cadre = if cadre_text.is_empty() {
        None
    } else {
        Code::parse(&cadre_text).ok().or_else(|| {
            error = Some(ctx.tf("admin.roles.bad_cadre", &[("cadre", &cadre_text)]));
            None
        })
    };
    if error.is_none() {
        error = check_role_assignment(actor, &user.username, &roles, user.totp_secret.is_some())
            .and_then(|()| check_scope(&roles, &units, cadre.as_ref()))
            .err()
            .map(|e| role_error(&ctx, &e));
    }
    if error.is_none() {
        for unit in &units {
            if state
                .store
                .get_unit(unit)
                .await
                .map_err(|e| ctx.fail(e))?
                .is_none()
            {
                error = Some(ctx.tf("admin.roles.no_unit", &[("unit", unit)]));
                break;
            }
        }
    }
    if error.is_none()
        && let Some(c) = &cadre
        && state
            .store
            .get_cadre(c)
            .await
            .map_err(|e| ctx.fail(e))?
            .is_none()
    {
        error = Some(ctx.tf("admin.roles.no_cadre", &[("cadre", c)]));
    }
    if let Some(error) = error {
        let status = if actor == user.username {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::BAD_REQUEST
        };
        return role_page(
            ctx,
            &state,
            status,
            &user,
            &roles,
            (units_fields, cadre_text),
            Some(error),
        )
        .await;
    }
    let audit = NewAuditEntry::new(actor, action::USER_ROLES, &user.username)
        .before(grants_json(&user.roles, &user.units, user.cadre.as_ref()))
        .after(grants_json(&roles, &units, cadre.as_ref()));
    let grants = Grants {
        roles,
        units,
        cadre,
    };
    match state
        .store
        .set_grants(&user.username, &grants, LastHolder::Keep, &audit)
        .await
    {
        Err(StoreError::Role(e)) => {
            let error = role_error(&ctx, &e);
            return role_page(
                ctx,
                &state,
                StatusCode::CONFLICT,
                &user,
                &grants.roles,
                (units_fields, cadre_text),
                Some(error),
            )
            .await;
        }
        done => done.map_err(|e| ctx.fail(e))?,
    };
    tracing::info!(%actor, account = %user.username, "roles assigned");
    Ok(see_other("/admin/roles?done=assigned"))
}
