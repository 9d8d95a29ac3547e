//! The public pages (no account needed, phone-sized): the rating page of a case, reached by
//! the QR code on its receipt (`/rate/{code}`), and the page of a service window, reached by
//! the QR code on its counter (`/rate/w/{unit}/{window}`), which finds the case to rate.

use super::{form_value, local_time, redirect};
use crate::ratings::RATE_COOKIE;
use crate::ratings::intake::{RatingWriter, take_rating};
use crate::shell::AppState;
use crate::shell::auth::{cookie, random_token, secure, set_cookie};
use crate::shell::error::ApiError;
use crate::shell::page::{PageCtx, PageError, PageResult, render};
use crate::shell::params::encode_component;
use askama::Template;
use axum::Extension;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kaohe_domain::ratings::{Channel, NewRating, Phone, RatingLevel, ReasonTag};
use kaohe_domain::{Code, Labeled};
use kaohe_store::StoredCase;
use std::net::{IpAddr, SocketAddr};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

/// The form's token cookie of the public pages (`/rate/…`), for the form just rendered.
fn set_rate_cookie(response: &mut Response, token: &str, state: &AppState, headers: &HeaderMap) {
    response.headers_mut().insert(
        SET_COOKIE,
        set_cookie(
            RATE_COOKIE,
            token,
            "/rate",
            Some(3600),
            secure(state, headers),
        ),
    );
}

/// Takes one public request (the rating form, a rating or a window lookup) from the client's
/// IP bucket.
pub(super) fn public_rate_limit(
    state: &AppState,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Result<(), ApiError> {
    let ip = connect.map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.0.ip());
    if state.rate_limiter.allow(
        ip,
        state.ratings.public_burst,
        state.ratings.public_per_minute,
    ) {
        Ok(())
    } else {
        tracing::info!(%ip, "public form rate limit");
        Err(ApiError::RateLimited)
    }
}

/// Whether `phone` ends with the four digits `last4`, compared in constant time (`subtle`):
/// the digits stand in for a secret at the window.
fn last_four_match(phone: &str, last4: &str) -> bool {
    let digits = phone.as_bytes();
    digits
        .get(digits.len().saturating_sub(4)..)
        .is_some_and(|end| end.len() == 4 && bool::from(end.ct_eq(last4.as_bytes())))
}

/// A choice of the rating form.
#[derive(Debug)]
struct Choice {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "ratings/rate.html")]
struct RatePage {
    ctx: PageCtx,
    /// The form's token, from the pre-session cookie.
    token: String,
    action: String,
    item: String,
    unit: String,
    closed: String,
    levels: Vec<Choice>,
    tags: Vec<Choice>,
    comment: String,
    real_name: bool,
    contact: String,
    error: Option<String>,
    /// Set once the case is rated or can no longer be rated: the form is not shown.
    done: Option<String>,
}

pub(super) async fn rating_case(
    state: &AppState,
    ctx: &PageCtx,
    code: &str,
) -> Result<StoredCase, PageError> {
    let not_found = || ctx.fail(ApiError::not_found("rating page", code));
    if code.len() > 64 {
        return Err(not_found());
    }
    state
        .store
        .case_by_rating_code(code)
        .await
        .map_err(|e| ctx.fail(e))?
        .ok_or_else(not_found)
}

#[derive(Debug, Default)]
struct RateInput {
    level: Option<RatingLevel>,
    tags: Vec<ReasonTag>,
    comment: String,
    real_name: bool,
    contact: String,
}

async fn rate_page(
    state: &AppState,
    ctx: PageCtx,
    case: &StoredCase,
    token: &str,
    input: &RateInput,
    (error, done): (Option<String>, Option<String>),
    status: StatusCode,
) -> PageResult {
    let unit = state
        .store
        .get_unit(&case.case.unit)
        .await
        .map_err(|e| ctx.fail(e))?
        .map_or_else(|| case.case.unit.to_string(), |u| u.name);
    let page = RatePage {
        token: token.to_owned(),
        action: format!("/rate/{}", encode_component(&case.rating_code)),
        item: case.case.item.clone(),
        unit,
        closed: local_time(state, case.case.closed_at),
        levels: RatingLevel::ALL
            .iter()
            .map(|l| Choice {
                value: l.code(),
                label: ctx.label(*l),
                checked: input.level == Some(*l),
            })
            .collect(),
        tags: ReasonTag::ALL
            .iter()
            .map(|t| Choice {
                value: t.code(),
                label: ctx.label(*t),
                checked: input.tags.contains(t),
            })
            .collect(),
        comment: input.comment.clone(),
        real_name: input.real_name,
        contact: input.contact.clone(),
        error,
        done,
        ctx,
    };
    Ok(render(status, &page))
}

/// `GET /rate/{code}`: the rating form, nothing pre-selected, with a fresh form token. Taken
/// from the same per-client bucket as the submissions, so that codes cannot be tried faster
/// by looking than by rating.
pub(crate) async fn rate_form(
    ctx: PageCtx,
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> PageResult {
    public_rate_limit(&state, connect).map_err(|e| ctx.fail(e))?;
    let case = rating_case(&state, &ctx, &code).await?;
    let done = match state
        .store
        .rating_of_case(&case.case.id)
        .await
        .map_err(|e| ctx.fail(e))?
    {
        Some(_) => Some(ctx.t("rate.already").to_owned()),
        None => {
            let deadline = case.case.closed_at
                + time::Duration::days(i64::from(state.ratings.rating.window_days));
            (OffsetDateTime::now_utc() > deadline).then(|| ctx.t("rate.window_closed").to_owned())
        }
    };
    let token = random_token();
    let mut response = rate_page(
        &state,
        ctx,
        &case,
        &token,
        &RateInput::default(),
        (None, done),
        StatusCode::OK,
    )
    .await?;
    set_rate_cookie(&mut response, &token, &state, &headers);
    Ok(response)
}

/// `POST /rate/{code}`: takes the rating, or shows the form again with what is wrong.
pub(crate) async fn rate(
    ctx: PageCtx,
    State(state): State<AppState>,
    Extension(writer): Extension<RatingWriter>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Path(code): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    public_rate_limit(&state, connect).map_err(|e| ctx.fail(e))?;
    let case = rating_case(&state, &ctx, &code).await?;
    let token = cookie(&headers, RATE_COOKIE).unwrap_or_default();
    let mut input = RateInput::default();
    let mut bad: Option<String> = None;
    for (k, v) in &form {
        match k.as_str() {
            "level" => input.level = v.parse().ok(),
            "tags" => match v.parse::<ReasonTag>() {
                Ok(t) if !input.tags.contains(&t) => input.tags.push(t),
                Ok(_) => {}
                Err(e) => bad = Some(e.to_string()),
            },
            "comment" => input.comment = v.clone(),
            "real_name" => input.real_name = v == "1",
            "contact" => input.contact = v.trim().to_owned(),
            _ => {}
        }
    }
    macro_rules! again {
        ($error:expr) => {
            rate_page(
                &state,
                ctx.clone(),
                &case,
                &token,
                &input,
                (Some($error), None),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        };
    }
    if let Some(e) = bad {
        return again!(e);
    }
    let Some(level) = input.level else {
        return again!(ctx.t("rate.choose_level").to_owned());
    };
    let contact = if input.contact.is_empty() {
        None
    } else {
        match Phone::parse(&input.contact) {
            Ok(p) => Some(p),
            Err(_) => {
                return again!(ctx.t("rate.bad_phone").to_owned());
            }
        }
    };
    if input.real_name && contact.is_none() && case.case.phone.is_none() {
        return again!(ctx.t("rate.need_phone").to_owned());
    }
    let rating = NewRating {
        case_id: case.case.id.clone(),
        level,
        tags: input.tags.clone(),
        comment: Some(input.comment.clone()),
        channel: Channel::QrCode,
        real_name: input.real_name,
        contact,
    };
    match take_rating(&state, &writer, rating).await {
        Ok(_) => {
            let thanks = if level.is_bad() {
                let n = state.ratings.rectification.deadline_working_days;
                ctx.tf("rate.thanks_bad", &[("n", &n)])
            } else {
                ctx.t("rate.thanks").to_owned()
            };
            rate_page(
                &state,
                ctx.clone(),
                &case,
                &token,
                &input,
                (None, Some(thanks)),
                StatusCode::CREATED,
            )
            .await
        }
        Err(ApiError::Conflict { .. }) => {
            rate_page(
                &state,
                ctx.clone(),
                &case,
                &token,
                &input,
                (None, Some(ctx.t("rate.already").to_owned())),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(ApiError::Refused {
            code: "rating_window_closed",
            ..
        }) => {
            rate_page(
                &state,
                ctx.clone(),
                &case,
                &token,
                &input,
                (None, Some(ctx.t("rate.window_closed").to_owned())),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e @ (ApiError::Refused { .. } | ApiError::InvalidField { .. })) => {
            again!(e.to_string())
        }
        Err(e) => Err(ctx.fail(e)),
    }
}

/// A window of the store, or 404.
pub(super) async fn known_window(
    state: &AppState,
    ctx: &PageCtx,
    unit: &str,
    window: &str,
) -> Result<(Code, Code, String), PageError> {
    let not_found = || ctx.fail(ApiError::not_found("window", format!("{unit}/{window}")));
    let (unit, window) = match (Code::parse(unit), Code::parse(window)) {
        (Ok(u), Ok(w)) => (u, w),
        _ => return Err(not_found()),
    };
    let windows = state
        .store
        .service_windows()
        .await
        .map_err(|e| ctx.fail(e))?;
    if !windows.iter().any(|(u, w, _)| *u == unit && *w == window) {
        return Err(not_found());
    }
    let name = state
        .store
        .get_unit(&unit)
        .await
        .map_err(|e| ctx.fail(e))?
        .map_or_else(|| unit.to_string(), |u| u.name);
    Ok((unit, window, name))
}

pub(super) fn window_path(unit: &Code, window: &Code) -> String {
    format!(
        "/rate/w/{}/{}",
        encode_component(unit.as_str()),
        encode_component(window.as_str())
    )
}

#[derive(Template)]
#[template(path = "ratings/rate_window.html")]
struct WindowPage {
    ctx: PageCtx,
    token: String,
    action: String,
    unit: String,
    window: String,
    case_id: String,
    error: Option<String>,
}

/// `GET /rate/w/{unit}/{window}`: scanned at the counter, asks which case to rate.
pub(crate) async fn window_form(
    ctx: PageCtx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((unit, window)): Path<(String, String)>,
) -> PageResult {
    let (unit, window, name) = known_window(&state, &ctx, &unit, &window).await?;
    let token = random_token();
    let mut response = render(
        StatusCode::OK,
        &WindowPage {
            token: token.clone(),
            action: window_path(&unit, &window),
            unit: name,
            window: window.to_string(),
            case_id: String::new(),
            error: None,
            ctx,
        },
    );
    set_rate_cookie(&mut response, &token, &state, &headers);
    Ok(response)
}

/// `POST /rate/w/{unit}/{window}`: finds the case handled at this window whose phone ends with
/// the four digits given, and goes to its rating page. Any mismatch gets the same answer, so
/// that nobody can probe for cases; attempts count against the public rate limit.
pub(crate) async fn window_lookup(
    ctx: PageCtx,
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Path((unit, window)): Path<(String, String)>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    public_rate_limit(&state, connect).map_err(|e| ctx.fail(e))?;
    let (unit, window, name) = known_window(&state, &ctx, &unit, &window).await?;
    let get = |k: &str| form_value(&form, k);
    let case_id = get("case_id").to_owned();
    let last4 = get("phone_last4");
    let found = match Code::parse(&case_id) {
        Ok(id) if last4.len() == 4 && last4.chars().all(|c| c.is_ascii_digit()) => state
            .store
            .get_case(&id)
            .await
            .map_err(|e| ctx.fail(e))?
            .filter(|c| {
                c.case.unit == unit
                    && c.case.window.as_ref() == Some(&window)
                    && c.case
                        .phone
                        .as_ref()
                        .is_some_and(|p| last_four_match(p.reveal(), last4))
            }),
        _ => None,
    };
    match found {
        Some(case) => Ok(redirect(&format!(
            "/rate/{}",
            encode_component(&case.rating_code)
        ))),
        None => {
            let token = cookie(&headers, RATE_COOKIE).unwrap_or_default();
            Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &WindowPage {
                    token,
                    action: window_path(&unit, &window),
                    unit: name,
                    window: window.to_string(),
                    error: Some(ctx.t("rate.window_no_case").to_owned()),
                    case_id,
                    ctx,
                },
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::last_four_match;

    #[test]
    fn the_last_four_digits_match_only_at_the_end() {
        assert!(last_four_match("13812345678", "5678"));
        assert!(!last_four_match("13812345678", "1234"));
        assert!(!last_four_match("13812345678", "678"));
        assert!(!last_four_match("678", "678"));
        assert!(last_four_match("5678", "5678"));
    }
}
