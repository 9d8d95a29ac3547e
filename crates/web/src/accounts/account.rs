//! Self service for every signed-in account (#3): `/account`.
//!
//! - Change the password: the current one is required, the policy is checked, and every other
//!   session of the account ends (this one stays). A password set by an administrator must be
//!   changed here before anything else ([`crate::shell::access`] sends the account
//!   here).
//! - Set up a TOTP second factor: a new secret is shown (otpauth URI, base32 and a QR code drawn
//!   as inline SVG) and stored only once a code from it and the current password are given.
//! - Remove the second factor, except for the administrator roles, which require it.
//!
//! A wrong current password counts as a failed sign-in, so a borrowed session cannot be used to
//! guess it. Every change is audited; secrets never are.

use super::admin::{
    account, actor, hash, internal_error, password_error, roles_text, scope_names, scope_text,
    see_other,
};
use crate::shell::AppState;
use crate::shell::access::Caller;
use crate::shell::auth::{
    ClientAddress, SESSION_COOKIE, TOTP_ISSUER, cookie, new_totp_secret, now, verify_password,
};
use crate::shell::page::{PageCtx, PageError, PageResult, render};
use crate::shell::params::QueryParams;
use crate::shell::qr::Qr;
use askama::Template;
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use kaohe_domain::NewAuditEntry;
use kaohe_domain::access::totp;
use kaohe_domain::audit::action;
use kaohe_store::User;
use serde_json::json;
use std::net::IpAddr;

/// Fewest bytes of a TOTP secret accepted back from the enrolment form (RFC 4226 asks for at
/// least 128 bits; we issue 160).
const MIN_SECRET_BYTES: usize = 16;

#[derive(Template)]
#[template(path = "accounts/account.html")]
struct AccountPage {
    ctx: PageCtx,
    username: String,
    name: String,
    roles: String,
    scope: String,
    totp: bool,
    /// The account's roles require a second factor: it cannot be removed.
    totp_required: bool,
    must_change: bool,
    notice: Option<&'static str>,
    error: Option<String>,
}

fn account_page(
    ctx: PageCtx,
    status: StatusCode,
    (user, scope): (&User, &str),
    notice: Option<&'static str>,
    error: Option<String>,
) -> Response {
    render(
        status,
        &AccountPage {
            username: user.username.clone(),
            name: user.display_name.clone(),
            roles: roles_text(&ctx, &user.roles),
            scope: scope.to_owned(),
            totp: user.totp_secret.is_some(),
            totp_required: user.roles.iter().any(|r| r.requires_totp()),
            must_change: user.must_change_password,
            notice,
            error,
            ctx,
        },
    )
}

/// The scope of an account in words.
async fn scope_of(ctx: &PageCtx, state: &AppState, user: &User) -> Result<String, PageError> {
    let names = scope_names(state.store.as_ref(), &[user])
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(scope_text(user, &names))
}

/// The signed-in account.
async fn me(ctx: &PageCtx, caller: &Caller, state: &AppState) -> Result<User, PageError> {
    let username = actor(ctx, caller)?;
    account(ctx, state, username).await
}

pub(super) async fn overview(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
) -> PageResult {
    let user = me(&ctx, &caller, &state).await?;
    let key = match QueryParams::from_uri(&uri).raw("done") {
        Some("password") => Some("account.done.password"),
        Some("totp") => Some("account.done.totp"),
        Some("totp_removed") => Some("account.done.totp_removed"),
        _ => None,
    };
    let notice = key.map(|k| ctx.t(k));
    let scope = scope_of(&ctx, &state, &user).await?;
    Ok(account_page(
        ctx,
        StatusCode::OK,
        (&user, &scope),
        notice,
        None,
    ))
}

/// Checks the account's current password. A wrong one counts as a failed sign-in (and is
/// audited); a locked account is refused. `Err` holds the message key.
async fn confirm_password(
    state: &AppState,
    user: &User,
    password: &str,
    address: IpAddr,
) -> Result<(), &'static str> {
    let t = now();
    let lockout = state.auth.lockout;
    let address = address.to_string();
    let (failed, last_failed) = state
        .store
        .login_failures(&user.username, &address)
        .await
        .unwrap_or((0, None));
    if lockout.locked_until(failed, last_failed, t).is_some() {
        return Err("login.locked");
    }
    let (password, stored) = (password.to_owned(), user.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .unwrap_or(false);
    if ok {
        return Ok(());
    }
    let failures = lockout.failures_after_failure(failed, last_failed, t);
    if let Err(e) = state
        .store
        .record_login_failure(&user.username, &address, failures, t)
        .await
    {
        tracing::error!(error = %e, "recording a failed password check failed");
    }
    let entry = NewAuditEntry::new(&user.username, action::USER_REAUTH_FAILED, &user.username)
        .after(json!({ "failures": failures }).to_string());
    if let Err(e) = state.store.append_audit(&entry).await {
        tracing::error!(error = %e, "audit append failed");
    }
    Err("account.password.wrong")
}

/// The fields of the password form.
#[derive(serde::Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub(super) async fn change_password(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    axum::Form(form): axum::Form<PasswordForm>,
) -> PageResult {
    let user = me(&ctx, &caller, &state).await?;
    let scope = scope_of(&ctx, &state, &user).await?;
    let refused = |ctx: PageCtx, error: String| {
        Ok(account_page(
            ctx,
            StatusCode::BAD_REQUEST,
            (&user, &scope),
            None,
            Some(error),
        ))
    };
    if let Err(key) = confirm_password(&state, &user, &form.current, address).await {
        let error = ctx.t(key).to_owned();
        return refused(ctx, error);
    }
    if form.new != form.confirm {
        let error = ctx.t("account.password.mismatch").to_owned();
        return refused(ctx, error);
    }
    if form.new == form.current {
        let error = ctx.t("account.password.same").to_owned();
        return refused(ctx, error);
    }
    if let Err(e) = state.auth.password.check(&user.username, &form.new) {
        let error = password_error(&ctx, &e);
        return refused(ctx, error);
    }
    let Some(password_hash) = hash(form.new.clone()).await else {
        return Ok(internal_error());
    };
    let audit = NewAuditEntry::new(&user.username, action::USER_PASSWORD, &user.username)
        .before(json!({ "must_change_password": user.must_change_password }).to_string())
        .after(json!({ "must_change_password": false, "other_sessions_ended": true }).to_string());
    let keep = cookie(&headers, SESSION_COOKIE);
    state
        .store
        .set_password(
            &user.username,
            &password_hash,
            false,
            keep.as_deref(),
            &audit,
        )
        .await
        .map_err(|e| ctx.fail(e))?;
    tracing::info!(account = %user.username, "password changed");
    Ok(see_other("/account?done=password"))
}

#[derive(Template)]
#[template(path = "accounts/account_totp.html")]
struct TotpPage {
    ctx: PageCtx,
    secret: String,
    uri: String,
    qr: Option<Qr>,
    /// A second factor is set up already and would be replaced.
    replacing: bool,
    error: Option<String>,
}

/// The enrolment page for `secret`; never cached, since it shows the secret.
fn totp_page(
    ctx: PageCtx,
    status: StatusCode,
    user: &User,
    secret: &str,
    error: Option<String>,
) -> Response {
    let Some(uri) = totp::otpauth_uri(TOTP_ISSUER, &user.username, secret) else {
        tracing::error!(account = %user.username, "no otpauth URI");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut response = render(
        status,
        &TotpPage {
            qr: Qr::new(&uri),
            secret: secret.to_owned(),
            uri,
            replacing: user.totp_secret.is_some(),
            error,
            ctx,
        },
    );
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(super) async fn totp_form(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
) -> PageResult {
    let user = me(&ctx, &caller, &state).await?;
    let secret = new_totp_secret();
    Ok(totp_page(ctx, StatusCode::OK, &user, &secret, None))
}

/// The fields of the enrolment form.
#[derive(serde::Deserialize)]
pub(super) struct EnrolForm {
    #[serde(default)]
    secret: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
}

pub(super) async fn enrol_totp(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    axum::Form(form): axum::Form<EnrolForm>,
) -> PageResult {
    let user = me(&ctx, &caller, &state).await?;
    let Some(bytes) = totp::base32_decode(&form.secret).filter(|b| b.len() >= MIN_SECRET_BYTES)
    else {
        // Not a secret we issued: start again with a fresh one.
        let error = ctx.t("account.totp.bad_secret").to_owned();
        let secret = new_totp_secret();
        return Ok(totp_page(
            ctx,
            StatusCode::BAD_REQUEST,
            &user,
            &secret,
            Some(error),
        ));
    };
    let secret = totp::base32_encode(&bytes);
    let refused = |ctx: PageCtx, key: &str| {
        let error = ctx.t(key).to_owned();
        Ok(totp_page(
            ctx,
            StatusCode::BAD_REQUEST,
            &user,
            &secret,
            Some(error),
        ))
    };
    if let Err(key) = confirm_password(&state, &user, &form.password, address).await {
        return refused(ctx, key);
    }
    if !totp::verify(&bytes, &form.code, now()) {
        return refused(ctx, "account.totp.wrong_code");
    }
    let audit = NewAuditEntry::new(&user.username, action::USER_TOTP_ENROL, &user.username)
        .before(json!({ "totp": user.totp_secret.is_some() }).to_string())
        .after(json!({ "totp": true, "other_sessions_ended": true }).to_string());
    let keep = cookie(&headers, SESSION_COOKIE);
    state
        .store
        .set_totp_secret(&user.username, Some(&secret), keep.as_deref(), &audit)
        .await
        .map_err(|e| ctx.fail(e))?;
    tracing::info!(account = %user.username, "second factor set up");
    Ok(see_other("/account?done=totp"))
}

/// The field of the removal form.
#[derive(serde::Deserialize)]
pub(super) struct RemoveForm {
    #[serde(default)]
    password: String,
}

pub(super) async fn remove_totp(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    axum::Form(form): axum::Form<RemoveForm>,
) -> PageResult {
    let user = me(&ctx, &caller, &state).await?;
    let scope = scope_of(&ctx, &state, &user).await?;
    let refused = |ctx: PageCtx, key: &str| {
        let error = ctx.t(key).to_owned();
        Ok(account_page(
            ctx,
            StatusCode::BAD_REQUEST,
            (&user, &scope),
            None,
            Some(error),
        ))
    };
    if user.roles.iter().any(|r| r.requires_totp()) {
        return refused(ctx, "account.totp.required");
    }
    if user.totp_secret.is_none() {
        return Ok(see_other("/account"));
    }
    if let Err(key) = confirm_password(&state, &user, &form.password, address).await {
        return refused(ctx, key);
    }
    let audit = NewAuditEntry::new(&user.username, action::USER_TOTP_REMOVE, &user.username)
        .before(json!({ "totp": true }).to_string())
        .after(json!({ "totp": false, "other_sessions_ended": true }).to_string());
    let keep = cookie(&headers, SESSION_COOKIE);
    state
        .store
        .set_totp_secret(&user.username, None, keep.as_deref(), &audit)
        .await
        .map_err(|e| ctx.fail(e))?;
    tracing::info!(account = %user.username, "second factor removed");
    Ok(see_other("/account?done=totp_removed"))
}
