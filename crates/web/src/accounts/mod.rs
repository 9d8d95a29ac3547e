//! Accounts (账号): signing in and out, every account's own page, the administrators' account
//! screens and the audit administrator's screen (templates in `templates/accounts/`).
//!
//! - `login.rs`: `/login`, `/logout`.
//! - `account.rs`: `/account…`: the password, TOTP.
//! - `admin.rs`: `/admin/users…` (system administrator), `/admin/roles…` and the cadre
//!   search of their form, `/admin/cadres` (security administrator).
//! - `audit.rs`: `/admin/audit` (audit administrator).
//!
//! Sessions, CSRF and password hashing are the shell's ([`crate::shell::auth`]); the sign-in
//! form declares its pre-session cookie ([`LOGIN_FORM`]) for the shell's CSRF check.

mod account;
mod admin;
mod audit;
mod login;

pub(crate) use login::LOGIN_FORM;

use crate::shell::AppState;
use crate::shell::access::{Permission, RequirePermission};
use axum::Router;
use axum::routing::{get, post};

/// Routes of the accounts' pages, each group with the permission it needs.
pub(crate) fn router() -> Router<AppState> {
    let accounts = Router::new()
        .route("/admin/users", get(admin::users).post(admin::create))
        .route(
            "/admin/users/{username}/password",
            post(admin::reset_password),
        )
        .route("/admin/users/{username}/disable", post(admin::disable))
        .route("/admin/users/{username}/enable", post(admin::enable))
        .require(Permission::ManageAccounts);
    let roles = Router::new()
        .route("/admin/roles", get(admin::roles))
        .route("/admin/cadres", get(admin::cadre_search))
        .route(
            "/admin/roles/{username}",
            get(admin::edit_roles).post(admin::assign_roles),
        )
        .require(Permission::ManageRoles);
    let audit = Router::new()
        .route("/admin/audit", get(audit::admin_audit))
        .require(Permission::ViewAudit);
    let own = Router::new()
        .route("/account", get(account::overview))
        .route("/account/password", post(account::change_password))
        .route(
            "/account/totp",
            get(account::totp_form).post(account::enrol_totp),
        )
        .route("/account/totp/remove", post(account::remove_totp))
        .route("/logout", post(login::logout))
        .require(Permission::Authenticated);
    let public = Router::new()
        .route("/login", get(login::login_form).post(login::login))
        .require(Permission::Public);
    accounts.merge(roles).merge(audit).merge(own).merge(public)
}
