//! Sessions, CSRF, rate limits, API tokens and security headers: what every request passes
//! through before a capability sees it.
//!
//! - Passwords are argon2id hashes ([`hash_password`], [`verify_password`]).
//! - A session is a random token in the `kaohe_session` cookie (HttpOnly, SameSite=Strict,
//!   Path=/, Secure behind TLS); the store keeps only its SHA-256. Sessions end after
//!   [`AuthSettings::idle_timeout_seconds`] without a request.
//! - Every state-changing request carries a CSRF token (form field `csrf` or header
//!   `X-CSRF-Token`): the session's, or for a form posted before any session exists (the
//!   sign-in form, the public rating form: a `PreSessionForm` of its capability) the one of
//!   that form's pre-session cookie.
//! - `POST /login` is rate-limited per client IP ([`ClientLimiter`]); accounts lock after
//!   repeated failures ([`kaohe_domain::access::LockoutPolicy`]); administrators need a TOTP
//!   code. The sign-in form and its handlers belong to the accounts capability.

use super::input::form_fields;
use super::page::error_response;
use super::{ApiError, AppState, MAX_BODY_BYTES};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use kaohe_domain::access::{LockoutPolicy, PasswordPolicy, session_expired, totp};
use kaohe_domain::{Principal, UserPrincipal};
use rand::RngCore;
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// Session cookie.
pub const SESSION_COOKIE: &str = "kaohe_session";
/// Form field and header of CSRF tokens.
pub const CSRF_FIELD: &str = "csrf";
/// Header alternative to the form field, for API clients.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Settings of accounts and sessions.
#[derive(Debug, Clone, Copy)]
pub struct AuthSettings {
    /// Seconds without a request after which a session ends (default 600).
    pub idle_timeout_seconds: i64,
    /// Lockout after failed logins.
    pub lockout: LockoutPolicy,
    /// Password policy.
    pub password: PasswordPolicy,
    /// Always mark cookies `Secure` (also done per request behind `X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
    /// Login attempts a client IP may make at once.
    pub login_burst: u32,
    /// Login attempts given back to a client IP per minute.
    pub login_per_minute: u32,
    /// Seconds an API token's account is remembered after it was looked up: a revoked token or
    /// a disabled account is refused at the latest this long after the change (default 30).
    pub token_cache_seconds: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            idle_timeout_seconds: kaohe_domain::access::DEFAULT_IDLE_TIMEOUT_SECONDS,
            lockout: LockoutPolicy::default(),
            password: PasswordPolicy::default(),
            secure_cookies: false,
            login_burst: 10,
            login_per_minute: 10,
            token_cache_seconds: 30,
        }
    }
}

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// The argon2id hash (PHC string, default parameters) of `password` with a random salt.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the PHC `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random token: 32 bytes, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Issuer of TOTP secrets, as authenticator apps show it.
pub const TOTP_ISSUER: &str = "kaohe";

/// A new random TOTP secret, base32 (20 bytes).
pub fn new_totp_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    totp::base32_encode(&bytes)
}

/// A new API token for a service system: `(id, token, hash)`. The token is `kh_<id>_<secret>`,
/// shown once; the store keeps the id and the hex SHA-256 of the whole token ([`token_hash`]).
pub fn issue_token() -> (String, String, String) {
    let mut id = [0u8; 4];
    rand::rng().fill_bytes(&mut id);
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let token = format!("kh_{id}_{}", random_token());
    let hash = token_hash(&token);
    (id, token, hash)
}

/// Hex SHA-256 of an API token, as stored.
pub fn token_hash(token: &str) -> String {
    token_hash_bytes(token.as_bytes())
}

/// Hex SHA-256 of some bytes.
pub(crate) fn token_hash_bytes(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Accounts of recently used API tokens, by token hash, so that intake does not read the
/// accounts table on every request.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (UserPrincipal, Instant)>>,
}

impl TokenCache {
    fn get(&self, hash: &str, ttl_seconds: u64) -> Option<UserPrincipal> {
        let entries = self.entries.lock().ok()?;
        let (user, at) = entries.get(hash)?;
        (at.elapsed().as_secs() < ttl_seconds).then(|| user.clone())
    }

    fn put(&self, hash: String, user: UserPrincipal) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.clear();
            }
            entries.insert(hash, (user, Instant::now()));
        }
    }
}

/// Marks a request authenticated by an API token: no cookie rode along, so no CSRF check.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokenAuth;

/// The bearer token of a request, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The CSRF token of the request's session, for the forms of a page.
#[derive(Debug, Clone)]
pub(crate) struct SessionCsrf(pub(crate) String);

/// Marks a request whose account must change its password before anything else
/// ([`super::access`] sends it to `/account`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PasswordChangeDue;

/// The value of cookie `name` in a request's `Cookie` headers (surrounding double quotes
/// removed), parsed by the `cookie` crate; a malformed pair is skipped.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value_trimmed().to_owned())
}

pub(crate) fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.auth.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Secure when asked.
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: Option<i64>,
    secure: bool,
) -> HeaderValue {
    let mut builder = Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure);
    if let Some(age) = max_age {
        builder = builder.max_age(time::Duration::seconds(age));
    }
    set_cookie_header(&builder.build())
}

/// A cookie as a `Set-Cookie` value; a cookie no header can hold (a control character in
/// its value) becomes an expired, empty one.
pub(crate) fn set_cookie_header(cookie: &Cookie<'_>) -> HeaderValue {
    HeaderValue::from_str(&cookie.to_string())
        .unwrap_or_else(|_| HeaderValue::from_static("x=; Max-Age=0"))
}

/// Marks whether the server runs on demo data, for the answers given before a handler runs
/// (the refusal page of [`super::access`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DemoData(pub(crate) bool);

/// Middleware: resolves the session cookie into a [`Principal`] (and [`SessionCsrf`]) in the
/// request's extensions. Ends idle sessions and sessions of disabled accounts.
pub(crate) async fn resolve_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    request.extensions_mut().insert(DemoData(state.demo));
    let mut principal = Principal::Anonymous;
    if let Some(token) = bearer(request.headers()) {
        let hash = token_hash(token);
        let user = match state.token_cache.get(&hash, state.auth.token_cache_seconds) {
            Some(user) => Some(user),
            None => match state.store.token_user(&hash).await {
                Ok(Some(user)) if !user.disabled => {
                    let user = UserPrincipal {
                        username: user.username,
                        roles: user.roles,
                        units: user.units,
                        cadre: user.cadre,
                    };
                    state.token_cache.put(hash, user.clone());
                    Some(user)
                }
                Ok(_) => None,
                Err(e) => return ApiError::from(e).into_response(),
            },
        };
        let Some(user) = user else {
            return ApiError::Unauthorized.into_response();
        };
        request.extensions_mut().insert(TokenAuth);
        request.extensions_mut().insert(Principal::User(user));
        return next.run(request).await;
    }
    if let Some(token) = cookie(request.headers(), SESSION_COOKIE) {
        match state.store.session(&token).await {
            Ok(Some(session)) => {
                let t = now();
                if session.user.disabled
                    || session_expired(session.last_seen_at, t, state.auth.idle_timeout_seconds)
                {
                    if let Err(e) = state.store.delete_session(&token).await {
                        tracing::error!(error = %e, "ending a session failed");
                    }
                } else {
                    if let Err(e) = state.store.touch_session(&token, t).await {
                        tracing::error!(error = %e, "touching a session failed");
                    }
                    request
                        .extensions_mut()
                        .insert(SessionCsrf(session.csrf.clone()));
                    if session.user.must_change_password {
                        request.extensions_mut().insert(PasswordChangeDue);
                    }
                    principal = Principal::User(UserPrincipal {
                        username: session.user.username,
                        roles: session.user.roles,
                        units: session.user.units,
                        cadre: session.user.cadre,
                    });
                }
            }
            Ok(None) => {}
            Err(e) => {
                return error_response(
                    request.uri(),
                    request.headers(),
                    state.demo,
                    ApiError::from(e),
                );
            }
        }
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// The client's address, as the rate limits and lockouts key it (unspecified when the server
/// was not started with connection info, as in some tests).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddress(pub(crate) IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip()),
        ))
    }
}

/// Whether two tokens are equal, in time independent of where they differ.
fn constant_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A form posted before any session exists (the sign-in form, the public rating form): its
/// CSRF token is the one of a pre-session cookie, set when the form is shown.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PreSessionForm {
    /// The path the form posts to, or the start of those paths.
    path: &'static str,
    /// Whether `path` is the start of the paths rather than the path itself.
    prefix: bool,
    /// The cookie carrying the form's token.
    cookie: &'static str,
}

impl PreSessionForm {
    /// The form posted to `path`, with its token in `cookie`.
    pub(crate) const fn posted_to(path: &'static str, cookie: &'static str) -> Self {
        Self {
            path,
            prefix: false,
            cookie,
        }
    }

    /// The forms posted to the paths starting with `prefix`, with their token in `cookie`.
    pub(crate) const fn posted_under(prefix: &'static str, cookie: &'static str) -> Self {
        Self {
            path: prefix,
            prefix: true,
            cookie,
        }
    }

    fn takes(&self, path: &str) -> bool {
        if self.prefix {
            path.starts_with(self.path)
        } else {
            path == self.path
        }
    }
}

/// Middleware: every request that is not GET, HEAD or OPTIONS must carry the right CSRF token:
/// the session's, or the pre-session cookie's for the `forms` posted without a session.
pub(crate) async fn csrf_guard(
    State(forms): State<&'static [PreSessionForm]>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || request.extensions().get::<TokenAuth>().is_some()
    {
        return next.run(request).await;
    }
    let path = request.uri().path();
    if path.starts_with("/api/") && request.extensions().get::<SessionCsrf>().is_none() {
        // No session rode along: nothing to forge. The route's permission answers (401).
        return next.run(request).await;
    }
    let expected = match forms.iter().find(|f| f.takes(path)) {
        Some(form) => cookie(request.headers(), form.cookie),
        None => request
            .extensions()
            .get::<SessionCsrf>()
            .map(|c| c.0.clone()),
    };
    let header = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let provided = match header {
        Some(h) => Some(h),
        None => form_fields(&parts.headers, &bytes)
            .await
            .and_then(|fields| fields.into_iter().find(|(k, _)| k == CSRF_FIELD))
            .map(|(_, v)| v),
    };
    match (expected, provided) {
        (Some(e), Some(p)) if !e.is_empty() && constant_eq(&e, &p) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ => {
            tracing::info!(path = %parts.uri.path(), "CSRF check failed");
            (StatusCode::FORBIDDEN, "CSRF token missing or wrong").into_response()
        }
    }
}

/// Content-Security-Policy of our pages: no inline scripts or styles.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
/// Content-Security-Policy of the Swagger UI, which styles elements inline (scripts stay
/// external).
pub const CSP_API_DOCS: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// Middleware: security headers on every response, and `Cache-Control: no-store` on every
/// response that sets no cache policy of its own.
pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let docs = request.uri().path().starts_with("/api/docs");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(if docs { CSP_API_DOCS } else { CSP }),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    // Pages, API answers and downloads may carry personal data: never kept by a browser or
    // a proxy, unless a response says otherwise (the static assets, cached for a year).
    if !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Per-IP rate limits (token buckets of `governor`), for `POST /login` and for the public
/// rating pages. The quota comes with each call, from the settings the state holds; the
/// buckets of a quota are kept until the quota changes.
#[derive(Debug, Default)]
pub struct ClientLimiter {
    limiter: Mutex<Option<(Quota, Arc<DefaultKeyedRateLimiter<IpAddr>>)>>,
}

/// Most client addresses remembered before the full buckets are forgotten.
const MAX_REMEMBERED_CLIENTS: usize = 100_000;

impl ClientLimiter {
    /// Takes one request of `ip` from its bucket of `burst` requests given back at
    /// `per_minute` a minute; `false` when the bucket is empty (or the quota is zero).
    pub(crate) fn allow(&self, ip: IpAddr, burst: u32, per_minute: u32) -> bool {
        let (Some(burst), Some(per_minute)) = (NonZeroU32::new(burst), NonZeroU32::new(per_minute))
        else {
            return false;
        };
        let Some(quota) = Quota::with_period(Duration::from_secs(60) / per_minute.get())
            .map(|q| q.allow_burst(burst))
        else {
            return false;
        };
        let limiter = {
            let Ok(mut current) = self.limiter.lock() else {
                return false;
            };
            match current.as_ref() {
                Some((q, limiter)) if *q == quota => Arc::clone(limiter),
                _ => {
                    let limiter = Arc::new(RateLimiter::keyed(quota));
                    *current = Some((quota, Arc::clone(&limiter)));
                    limiter
                }
            }
        };
        if limiter.len() > MAX_REMEMBERED_CLIENTS {
            limiter.retain_recent();
        }
        limiter.check_key(&ip).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("Correct-Horse-42").expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("Correct-Horse-42", &hash));
        assert!(!verify_password("correct-horse-42", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn login_limiter_empties_and_is_per_ip() {
        let l = ClientLimiter::default();
        let a = IpAddr::from([10, 0, 0, 1]);
        let b = IpAddr::from([10, 0, 0, 2]);
        for _ in 0..3 {
            assert!(l.allow(a, 3, 1));
        }
        assert!(!l.allow(a, 3, 1));
        assert!(l.allow(b, 3, 1));
        assert!(!l.allow(b, 0, 1), "a zero quota admits nobody");
        assert!(!l.allow(b, 1, 0), "a zero quota admits nobody");
        // Another quota starts from full buckets.
        assert!(l.allow(a, 4, 1));
    }

    #[test]
    fn cookies_parse() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("lang=en; kaohe_session=abc"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "kaohe_login"), None);
        // Several headers, a quoted value, a pair without `=` skipped.
        h.append(
            COOKIE,
            HeaderValue::from_static("broken; kaohe_login=\"xyz\""),
        );
        assert_eq!(cookie(&h, "kaohe_login").as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "broken"), None);
    }

    #[test]
    fn set_cookie_values_carry_their_attributes() {
        let value = set_cookie("kaohe_rate", "t0k", "/rate", Some(3600), true);
        let text = value.to_str().expect("ASCII");
        assert!(text.starts_with("kaohe_rate=t0k;"), "{text}");
        for part in [
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
            "Path=/rate",
            "Max-Age=3600",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        let plain = set_cookie("kaohe_session", "", "/", Some(0), false);
        let plain = plain.to_str().expect("ASCII");
        assert!(
            plain.contains("Max-Age=0") && !plain.contains("Secure"),
            "{plain}"
        );
    }
}
