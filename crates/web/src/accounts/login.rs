//! Signing in and out: the sign-in form (`GET /login`, with a fresh pre-session CSRF cookie),
//! `POST /login` (rate-limited per client IP, lockout after repeated failures, a TOTP code for
//! administrators) and `POST /logout`. Sessions themselves, CSRF and the rate limiter are the
//! shell's ([`crate::shell::auth`]).

use crate::shell::AppState;
use crate::shell::access::PASSWORD_CHANGE_PAGE;
use crate::shell::auth::{
    PreSessionForm, SESSION_COOKIE, cookie, hash_password, now, random_token, secure, set_cookie,
    verify_password,
};
use crate::shell::page::{PageCtx, local_path, location, render};
use crate::shell::params::QueryParams;
use askama::Template;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kaohe_domain::access::totp;
use kaohe_domain::audit::action;
use kaohe_domain::{NewAuditEntry, Principal};
use std::net::{IpAddr, SocketAddr};
use std::sync::LazyLock;

/// Pre-session cookie carrying the login form's CSRF token.
const LOGIN_COOKIE: &str = "kaohe_login";

/// The sign-in form, posted before any session exists: its CSRF token is the one of the
/// [`LOGIN_COOKIE`].
pub(crate) const LOGIN_FORM: PreSessionForm = PreSessionForm::posted_to("/login", LOGIN_COOKIE);

/// A hash to check against when the account does not exist, so that the answer takes as long.
/// Why a sign-in failed, as its audit entry records it (`reason`).
pub(super) mod failure {
    /// No such account, or a disabled one.
    pub(crate) const UNKNOWN_ACCOUNT: &str = "unknown or disabled account";
    /// Locked after too many failures from the address.
    pub(crate) const LOCKED: &str = "locked";
    /// A wrong password.
    pub(crate) const PASSWORD: &str = "password";
    /// A wrong or missing one-time code.
    pub(crate) const SECOND_FACTOR: &str = "second factor";
    /// A one-time code accepted once already.
    pub(crate) const SECOND_FACTOR_USED: &str = "second factor used already";
}

static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("dummy-password-for-timing").unwrap_or_default());

#[derive(Template)]
#[template(path = "accounts/login.html")]
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
fn login_page(
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

/// `GET /login`: the form, with a fresh pre-session CSRF cookie.
pub(super) async fn login_form(
    ctx: PageCtx,
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let query = QueryParams::from_uri(&uri);
    let next = local_path(query.raw("next")).to_owned();
    let token = random_token();
    let mut response = login_page(ctx, StatusCode::OK, &token, &next, None);
    response.headers_mut().insert(
        SET_COOKIE,
        set_cookie(
            LOGIN_COOKIE,
            &token,
            "/login",
            Some(1800),
            secure(&state, &headers),
        ),
    );
    response
}

/// The login form's fields.
#[derive(Debug, serde::Deserialize)]
pub(super) struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    totp: String,
    #[serde(default)]
    next: String,
}

async fn audit(state: &AppState, entry: NewAuditEntry) {
    if let Err(e) = state.store.append_audit(&entry).await {
        tracing::error!(error = %e, action = %entry.action, "audit append failed");
    }
}

/// `POST /login`.
pub(super) async fn login(
    ctx: PageCtx,
    State(state): State<AppState>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    let ip = connect.map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.0.ip());
    let next = local_path(Some(&form.next)).to_owned();
    let retry = |status: StatusCode, key: &str| {
        let token = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
        let error = ctx.t(key);
        login_page(ctx.clone(), status, &token, &next, Some(error))
    };
    if !state
        .login_limiter
        .allow(ip, state.auth.login_burst, state.auth.login_per_minute)
    {
        tracing::info!(%ip, "login rate limit");
        return retry(StatusCode::TOO_MANY_REQUESTS, "login.rate_limited");
    }
    let username = form.username.trim().to_owned();
    let user = match state.store.get_user(&username).await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "login lookup failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let t = now();
    let hash = user
        .as_ref()
        .map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let password = form.password.clone();
    let password_ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|u| !u.disabled) else {
        audit(
            &state,
            NewAuditEntry::new(&username, action::USER_LOGIN_FAILED, &username)
                .after(format!(r#"{{"reason":"{}"}}"#, failure::UNKNOWN_ACCOUNT)),
        )
        .await;
        return retry(StatusCode::UNAUTHORIZED, "login.failed");
    };
    // Failures count per account and client address: a lockout holds where the failures came
    // from, and answers as any other failure does.
    let address = ip.to_string();
    let (failed, last_failed) = match state.store.login_failures(&username, &address).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "login lookup failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let lockout = state.auth.lockout;
    if lockout.locked_until(failed, last_failed, t).is_some() {
        audit(
            &state,
            NewAuditEntry::new(&username, action::USER_LOGIN_FAILED, &username).after(format!(
                r#"{{"reason":"{}","address":"{address}"}}"#,
                failure::LOCKED
            )),
        )
        .await;
        return retry(StatusCode::UNAUTHORIZED, "login.failed");
    }
    let needs_totp = user.roles.iter().any(|r| r.requires_totp()) || user.totp_secret.is_some();
    let step = user
        .totp_secret
        .as_deref()
        .and_then(totp::base32_decode)
        .and_then(|secret| totp::verified_step(&secret, &form.totp, t));
    // A code is accepted once: its step is taken only with the right password.
    let totp_ok = !needs_totp
        || match step {
            Some(step) if password_ok => {
                match state.store.accept_totp_step(&username, step).await {
                    Ok(fresh) => fresh,
                    Err(e) => {
                        tracing::error!(error = %e, "recording a TOTP step failed");
                        return StatusCode::SERVICE_UNAVAILABLE.into_response();
                    }
                }
            }
            _ => false,
        };
    if !(password_ok && totp_ok) {
        let failures = lockout.failures_after_failure(failed, last_failed, t);
        if let Err(e) = state
            .store
            .record_login_failure(&username, &address, failures, t)
            .await
        {
            tracing::error!(error = %e, "recording a failed login failed");
        }
        let reason = match (password_ok, step) {
            (false, _) => failure::PASSWORD,
            (true, Some(_)) => failure::SECOND_FACTOR_USED,
            (true, None) => failure::SECOND_FACTOR,
        };
        audit(
            &state,
            NewAuditEntry::new(&username, action::USER_LOGIN_FAILED, &username)
                .after(format!(r#"{{"reason":"{reason}","failures":{failures}}}"#)),
        )
        .await;
        return retry(StatusCode::UNAUTHORIZED, "login.failed");
    }
    let token = random_token();
    let csrf = random_token();
    let stored = async {
        state
            .store
            .record_login_success(&username, &address)
            .await?;
        // Housekeeping at each sign-in: sessions idle past the timeout are gone for good, not
        // only refused when next used.
        state
            .store
            .delete_sessions_idle_since(t - state.auth.idle_timeout_seconds)
            .await?;
        state
            .store
            .create_session(&token, &username, &csrf, t)
            .await
    };
    if let Err(e) = stored.await {
        tracing::error!(error = %e, "starting a session failed");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    audit(
        &state,
        NewAuditEntry::new(&username, action::USER_LOGIN, &username),
    )
    .await;
    let secure = secure(&state, &headers);
    let mut response = StatusCode::SEE_OTHER.into_response();
    let h = response.headers_mut();
    let next = if user.must_change_password {
        PASSWORD_CHANGE_PAGE
    } else {
        next.as_str()
    };
    h.insert(LOCATION, location(next));
    h.append(
        SET_COOKIE,
        set_cookie(SESSION_COOKIE, &token, "/", None, secure),
    );
    h.append(
        SET_COOKIE,
        set_cookie(LOGIN_COOKIE, "", "/login", Some(0), secure),
    );
    response
}

/// `POST /logout`: ends the session.
pub(super) async fn logout(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers().clone();
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = state.store.delete_session(&token).await
    {
        tracing::error!(error = %e, "ending a session failed");
    }
    if let Some(user) = request
        .extensions()
        .get::<Principal>()
        .and_then(Principal::username)
    {
        audit(&state, NewAuditEntry::new(user, action::USER_LOGOUT, user)).await;
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    response
        .headers_mut()
        .insert(LOCATION, HeaderValue::from_static("/"));
    response.headers_mut().insert(
        SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", "/", Some(0), secure(&state, &headers)),
    );
    response
}
