//! Pages of public service ratings (好差评): the public rating page reached by a case's QR
//! code, and for the staff the rectification queue, a case's full history with its next step,
//! the callback screen (the only one showing a full phone number, each view audited), appeals
//! and the figures.

use crate::AppState;
use crate::access::{Caller, Permission, RequirePermission};
use crate::auth::{random_token, secure, set_cookie};
use crate::error::ApiError;
use crate::pages::{PageCtx, PageResult, render};
use crate::params::{QueryParams, encode_component, href};
use crate::service::{self, GroupBy, RATE_COOKIE};
use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kaohe_domain::ratings::rectification::{Rectification, Status, Step, StepKind, Verdict};
use kaohe_domain::ratings::{
    AppealDecision, AppealGround, Channel, NewRating, Phone, RatingLevel, ReasonTag,
    check_appeal_text,
};
use kaohe_domain::{Code, Labeled, NewAuditEntry, WorkCalendar};
use kaohe_store::{Appeal, RectificationRecord, RectificationState, StoredCase};
use std::net::{IpAddr, SocketAddr};
use time::{Date, OffsetDateTime};

/// Routes of the rating pages.
pub(crate) fn router() -> Router<AppState> {
    let public = Router::new()
        .route("/rate/{code}", get(rate_form).post(rate))
        .route("/rate/{code}/qr.svg", get(case_qr_svg))
        .route("/rate/{code}/qr.png", get(case_qr_png))
        .route(
            "/rate/w/{unit}/{window}",
            get(window_form).post(window_lookup),
        )
        .route("/rate/w/{unit}/{window}/qr.svg", get(window_qr_svg))
        .route("/rate/w/{unit}/{window}/qr.png", get(window_qr_png))
        .require(Permission::Public);
    let sheet = Router::new()
        .route("/service/qr", get(qr_sheet))
        .require(Permission::HandleRectification);
    let handle = Router::new()
        .route("/service/rectifications", get(queue))
        .route("/service/rectifications/{id}", get(case_page))
        .route("/service/rectifications/{id}/steps", post(add_step))
        .route(
            "/service/rectifications/{id}/files/{file}",
            get(appeal_file),
        )
        .require(Permission::HandleRectification);
    let contact = Router::new()
        .route("/service/rectifications/{id}/contact", get(contact))
        .require(Permission::ViewContact);
    let file = Router::new()
        .route("/service/rectifications/{id}/appeal", post(file_appeal))
        .require(Permission::FileAppeal);
    let decide = Router::new()
        .route("/service/appeals", get(appeals))
        .route("/service/appeals/{id}", post(decide_appeal))
        .require(Permission::DecideAppeal);
    let figures = Router::new()
        .route("/service/figures", get(figures_page))
        .require(Permission::ViewServiceFigures);
    public
        .merge(sheet)
        .merge(handle)
        .merge(contact)
        .merge(file)
        .merge(decide)
        .merge(figures)
}

fn local_time(state: &AppState, t: OffsetDateTime) -> String {
    let t = t.to_offset(state.utc_offset);
    format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
}

fn local_unix(state: &AppState, t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .map(|t| local_time(state, t))
        .unwrap_or_default()
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut().insert(
        LOCATION,
        HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/")),
    );
    r
}

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

/// Takes one public submission (rating or window lookup) from the client's IP bucket.
fn public_rate_limit(
    state: &AppState,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
) -> Result<(), ApiError> {
    let ip = connect.map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.0.ip());
    if state.rate_limiter.allow(
        ip,
        state.service.public_burst,
        state.service.public_per_minute,
    ) {
        Ok(())
    } else {
        tracing::info!(%ip, "public form rate limit");
        Err(ApiError::RateLimited)
    }
}

/// The trimmed value of field `name` of a urlencoded form, empty when absent.
fn form_value<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.trim())
}

// ---------------------------------------------------------------------------------------------
// The public rating page

/// A choice of the rating form.
#[derive(Debug)]
struct Choice {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "rate.html")]
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

async fn rating_case(
    state: &AppState,
    ctx: &PageCtx,
    code: &str,
) -> Result<StoredCase, crate::pages::PageError> {
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

/// `GET /rate/{code}`: the rating form, nothing pre-selected, with a fresh form token.
async fn rate_form(
    ctx: PageCtx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> PageResult {
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
                + time::Duration::days(i64::from(state.service.rating.window_days));
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
async fn rate(
    ctx: PageCtx,
    State(state): State<AppState>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Path(code): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    public_rate_limit(&state, connect).map_err(|e| ctx.fail(e))?;
    let case = rating_case(&state, &ctx, &code).await?;
    let token = crate::auth::cookie(&headers, RATE_COOKIE).unwrap_or_default();
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
    match service::take_rating(&state, rating).await {
        Ok(_) => {
            let thanks = if level.is_bad() {
                let n = state.service.rectification.deadline_working_days;
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

// ---------------------------------------------------------------------------------------------
// The rectification queue

#[derive(Debug)]
struct QueueRow {
    href: String,
    case_id: String,
    item: String,
    unit: String,
    level: &'static str,
    opened: String,
    deadline: String,
    left: String,
    overdue: bool,
    status: &'static str,
    real_name: bool,
    excluded: bool,
}

#[derive(Template)]
#[template(path = "rectifications.html")]
struct QueuePage {
    ctx: PageCtx,
    rows: Vec<QueueRow>,
    all: bool,
    toggle: String,
    overdue: Option<String>,
}

async fn queue(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
) -> PageResult {
    let all = QueryParams::from_uri(&uri).raw("all") == Some("1");
    let store = state.store.as_ref();
    let units = service::units_in_scope(store, &caller, Permission::HandleRectification)
        .await
        .map_err(|e| ctx.fail(e))?;
    let names: std::collections::HashMap<Code, String> = units
        .iter()
        .map(|u| (u.code.clone(), u.name.clone()))
        .collect();
    let codes: Vec<Code> = units.into_iter().map(|u| u.code).collect();
    let items = store
        .rectification_queue(Some(&codes), !all, 500)
        .await
        .map_err(|e| ctx.fail(e))?;
    let calendar = WorkCalendar::new(&store.calendar().await.map_err(|e| ctx.fail(e))?);
    let today = state.today();
    let rows: Vec<QueueRow> = items
        .into_iter()
        .map(|q| {
            let open = q.status != Status::Closed;
            let overdue = open && today > q.deadline;
            let left = if !open {
                String::new()
            } else if overdue {
                ctx.tf(
                    "rect.overdue_by",
                    &[("n", &calendar.working_days_between(q.deadline, today))],
                )
            } else {
                ctx.tf(
                    "rect.days_left",
                    &[("n", &calendar.working_days_between(today, q.deadline))],
                )
            };
            QueueRow {
                href: format!("/service/rectifications/{}", q.rating_id),
                case_id: q.case_id.to_string(),
                item: q.item,
                unit: names
                    .get(&q.unit)
                    .cloned()
                    .unwrap_or_else(|| q.unit.to_string()),
                level: ctx.label(q.level),
                opened: q.opened_on.to_string(),
                deadline: q.deadline.to_string(),
                left,
                overdue,
                status: ctx.label(q.status),
                real_name: q.real_name,
                excluded: q.excluded,
            }
        })
        .collect();
    let overdue = match rows.iter().filter(|r| r.overdue).count() {
        0 => None,
        n => Some(ctx.tf("rect.overdue_count", &[("n", &n)])),
    };
    Ok(render(
        StatusCode::OK,
        &QueuePage {
            toggle: if all {
                "/service/rectifications".into()
            } else {
                href("/service/rectifications", &[("all", "1".into())])
            },
            ctx,
            rows,
            all,
            overdue,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// One case: history and next step

#[derive(Debug)]
struct StepRow {
    kind: &'static str,
    note: String,
    outcome: String,
    on: String,
    actor: String,
    at: String,
    /// The escalation (督办) recorded by the sweep, not a step taken by someone.
    escalation: bool,
}

#[derive(Template)]
#[template(path = "rectification.html")]
struct CasePage {
    ctx: PageCtx,
    id: i64,
    case_id: String,
    item: String,
    unit: String,
    officials: String,
    channel: &'static str,
    accepted: String,
    closed: String,
    applicant: String,
    phone: String,
    level: &'static str,
    tags: String,
    comment: String,
    rated_at: String,
    real_name: bool,
    contact: String,
    excluded: bool,
    status: &'static str,
    deadline: String,
    overdue: bool,
    steps: Vec<StepRow>,
    /// Steps allowed now, code and label.
    next: Vec<(&'static str, &'static str)>,
    verdicts: Vec<(&'static str, &'static str)>,
    today: String,
    error: Option<String>,
    may_view_contact: bool,
    appeal: Option<AppealView>,
    /// Evidence files: link, name, kind and size.
    files: Vec<(String, String, &'static str, String)>,
    may_file_appeal: bool,
    may_decide_appeal: bool,
    grounds: Vec<(&'static str, &'static str)>,
    decisions: Vec<(&'static str, &'static str)>,
}

#[derive(Debug)]
struct AppealView {
    ground: &'static str,
    evidence: String,
    filed: String,
    decision: Option<(&'static str, String, String)>,
}

async fn load_record(
    state: &AppState,
    ctx: &PageCtx,
    caller: &Caller,
    permission: Permission,
    id: &str,
) -> Result<RectificationRecord, crate::pages::PageError> {
    let not_found = || ctx.fail(ApiError::not_found("rectification", id));
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let record = state
        .store
        .rectification(id)
        .await
        .map_err(|e| ctx.fail(e))?
        .ok_or_else(not_found)?;
    service::check_unit(state.store.as_ref(), caller, permission, &record.unit)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(record)
}

/// The state of a record: its steps replayed by the domain's rules.
fn replay(
    state: &AppState,
    calendar: &WorkCalendar,
    r: &RectificationRecord,
) -> Result<Rectification, ApiError> {
    let mut open = Rectification::open(
        r.real_name,
        r.opened_on,
        calendar,
        &state.service.rectification,
    )
    .map_err(|e| ApiError::Refused {
        code: "date_out_of_range",
        reason: e.to_string(),
    })?;
    // The deadline was fixed when the review arrived; a later calendar change does not move it.
    open.deadline = r.deadline;
    open.replay(r.steps.iter().map(|s| &s.step)).map_err(|(i, e)| {
        tracing::error!(rating = r.rating.id, step = i, error = %e, "stored steps do not replay");
        ApiError::Unavailable
    })
}

async fn render_case(
    state: &AppState,
    ctx: PageCtx,
    caller: &Caller,
    r: RectificationRecord,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let store = state.store.as_ref();
    let calendar = WorkCalendar::new(&store.calendar().await.map_err(|e| ctx.fail(e))?);
    let now = replay(state, &calendar, &r).map_err(|e| ctx.fail(e))?;
    let unit = store
        .get_unit(&r.unit)
        .await
        .map_err(|e| ctx.fail(e))?
        .map_or_else(|| r.unit.to_string(), |u| u.name);
    let mut officials = Vec::new();
    for o in &r.case.case.officials {
        let name = store
            .get_cadre(o)
            .await
            .map_err(|e| ctx.fail(e))?
            .map(|c| c.name);
        officials.push(match name {
            Some(n) => format!("{n}（{o}）"),
            None => o.to_string(),
        });
    }
    let rating = &r.rating.rating;
    let steps = r
        .steps
        .iter()
        .map(|s| StepRow {
            kind: ctx.label(s.step.kind),
            note: s.step.note.clone(),
            outcome: match (s.step.reached, s.step.verdict) {
                (Some(false), _) => ctx.t("rect.not_reached").to_owned(),
                (_, Some(v)) => format!("{} · {}", ctx.t("rect.verdict"), ctx.label(v)),
                _ => String::new(),
            },
            on: s.step.on.to_string(),
            actor: s.actor.clone(),
            at: local_unix(state, s.at),
            escalation: false,
        })
        .collect();
    let steps = with_escalation(
        state,
        &ctx,
        steps,
        store
            .escalation(r.rating.id)
            .await
            .map_err(|e| ctx.fail(e))?,
    );
    let appeal = r.appeal.as_ref().map(|a| AppealView {
        ground: ctx.label(a.ground),
        evidence: a.evidence.clone(),
        filed: format!("{} · {}", a.filed_by, local_unix(state, a.filed_at)),
        decision: a.decision.as_ref().map(|(d, reason, by, at)| {
            (
                ctx.label(*d),
                reason.clone(),
                format!("{by} · {}", local_unix(state, *at)),
            )
        }),
    });
    // What else the caller may do here, asked of the unit's ancestry read once.
    let ancestors = crate::data::ancestor_codes(store, &r.unit)
        .await
        .map_err(|e| ctx.fail(e))?;
    let may = |permission| {
        caller.0.may(
            permission,
            crate::access::Target::Unit {
                code: &r.unit,
                ancestors: &ancestors,
            },
        )
    };
    let may_view_contact = may(Permission::ViewContact);
    let may_file_appeal = r.appeal.is_none() && may(Permission::FileAppeal);
    let may_decide_appeal =
        r.appeal.as_ref().is_some_and(|a| a.decision.is_none()) && may(Permission::DecideAppeal);
    let page = CasePage {
        id: r.rating.id,
        case_id: r.case.case.id.to_string(),
        item: r.case.case.item.clone(),
        unit,
        officials: officials.join("、"),
        channel: ctx.label(r.case.case.channel),
        accepted: local_time(state, r.case.case.accepted_at),
        closed: local_time(state, r.case.case.closed_at),
        applicant: r
            .case
            .case
            .applicant
            .as_deref()
            .map(mask_name)
            .unwrap_or_default(),
        phone: r
            .case
            .case
            .phone
            .as_ref()
            .map(Phone::masked)
            .unwrap_or_default(),
        level: ctx.label(rating.level),
        tags: rating
            .tags
            .iter()
            .map(|t| ctx.label(*t))
            .collect::<Vec<_>>()
            .join("、"),
        comment: rating.comment.clone().unwrap_or_default(),
        rated_at: local_time(state, r.rating.rated_at),
        real_name: rating.real_name,
        contact: rating
            .contact
            .as_ref()
            .map(Phone::masked)
            .unwrap_or_default(),
        excluded: r.rating.excluded,
        status: ctx.label(now.status),
        deadline: r.deadline.to_string(),
        overdue: now.is_overdue(state.today()),
        steps,
        next: now
            .allowed()
            .iter()
            .map(|k| (k.code(), ctx.label(*k)))
            .collect(),
        verdicts: Verdict::ALL
            .iter()
            .map(|v| (v.code(), ctx.label(*v)))
            .collect(),
        today: state.today().to_string(),
        error,
        may_view_contact,
        appeal,
        files: r
            .files
            .iter()
            .map(|f| {
                (
                    format!("/service/rectifications/{}/files/{}", r.rating.id, f.id),
                    f.name.clone(),
                    ctx.label(f.kind),
                    format!("{:.1} KiB", f.size as f64 / 1024.0),
                )
            })
            .collect(),
        may_file_appeal,
        may_decide_appeal,
        grounds: AppealGround::ALL
            .iter()
            .map(|g| (g.code(), ctx.label(*g)))
            .collect(),
        decisions: AppealDecision::ALL
            .iter()
            .map(|d| (d.code(), ctx.label(*d)))
            .collect(),
        ctx,
    };
    Ok(render(status, &page))
}

/// The history with the escalation (督办), if any, after the steps taken by its day.
fn with_escalation(
    state: &AppState,
    ctx: &PageCtx,
    mut steps: Vec<StepRow>,
    escalation: Option<kaohe_store::Escalation>,
) -> Vec<StepRow> {
    let Some(e) = escalation else {
        return steps;
    };
    let names = |names: &[String]| {
        if names.is_empty() {
            ctx.t("rect.nobody").to_owned()
        } else {
            names.join("、")
        }
    };
    let on = e.on.to_string();
    let row = StepRow {
        kind: ctx.t("rect.escalated"),
        note: String::new(),
        outcome: ctx.tf(
            "rect.escalated_to",
            &[
                ("leaders", &names(&e.leaders)),
                ("assessors", &names(&e.assessors)),
                ("due", &e.due_on),
            ],
        ),
        actor: String::new(),
        at: local_unix(state, e.at),
        escalation: true,
        on,
    };
    let at = steps
        .iter()
        .position(|s| s.on > row.on)
        .unwrap_or(steps.len());
    steps.insert(at, row);
    steps
}

/// The case page again, 422, with what was wrong with the form sent.
async fn refuse_step(
    state: &AppState,
    ctx: PageCtx,
    caller: &Caller,
    r: RectificationRecord,
    error: String,
) -> PageResult {
    render_case(
        state,
        ctx,
        caller,
        r,
        Some(error),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// A name masked for display: the family name kept (赵**).
fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

async fn case_page(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let r = load_record(&state, &ctx, &caller, Permission::HandleRectification, &id).await?;
    render_case(&state, ctx, &caller, r, None, StatusCode::OK).await
}

/// `POST /service/rectifications/{id}/steps`: records the next step, or shows why not.
async fn add_step(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let r = load_record(&state, &ctx, &caller, Permission::HandleRectification, &id).await?;
    let get = |k: &str| Some(form_value(&form, k)).filter(|v| !v.is_empty());
    let parsed = (|| -> Result<Step, String> {
        let kind: StepKind = get("kind")
            .unwrap_or_default()
            .parse()
            .map_err(|e: kaohe_domain::ParseLabelError| format!("kind: {e}"))?;
        let on = match get("on").filter(|v| !v.is_empty()) {
            Some(v) => Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"))
                .map_err(|e| format!("on: {v:?}: {e}"))?,
            None => state.today(),
        };
        if on > state.today() {
            return Err(format!("on: {on} is in the future"));
        }
        let reached = match (kind, get("reached")) {
            (StepKind::Callback, Some("1")) => Some(true),
            (StepKind::Callback, _) => Some(false),
            _ => None,
        };
        let verdict = match get("verdict").filter(|v| !v.is_empty()) {
            Some(v) if reached == Some(true) => {
                Some(v.parse::<Verdict>().map_err(|e| format!("verdict: {e}"))?)
            }
            _ => None,
        };
        Ok(Step {
            kind,
            note: get("note").unwrap_or_default().to_owned(),
            reached,
            verdict,
            on,
        })
    })();
    let store = state.store.as_ref();
    let calendar = WorkCalendar::new(&store.calendar().await.map_err(|e| ctx.fail(e))?);
    let mut now = replay(&state, &calendar, &r).map_err(|e| ctx.fail(e))?;
    let before = now.status;
    let step = match parsed {
        Ok(s) => s,
        Err(e) => {
            return refuse_step(&state, ctx, &caller, r, e).await;
        }
    };
    if let Err(e) = now.apply(&step) {
        return refuse_step(&state, ctx, &caller, r, e.to_string()).await;
    }
    let actor = caller.0.username().unwrap_or_default().to_owned();
    let audit = NewAuditEntry::new(
        &actor,
        "rectification.step",
        format!("rating:{}", r.rating.id),
    )
    .before(serde_json::json!({"status": before.code()}).to_string())
    .after(
        serde_json::json!({
            "status": now.status.code(),
            "step": step.kind.code(),
            "note": step.note.trim(),
            "reached": step.reached,
            "verdict": step.verdict.map(|v| v.code()),
            "on": step.on.to_string(),
        })
        .to_string(),
    );
    let seq = u32::try_from(r.steps.len() + 1).unwrap_or(u32::MAX);
    let state_after = RectificationState {
        status: now.status,
        closed_on: now.closed_on,
        called_back: now.callbacks_reached > 0,
    };
    let stored = store
        .add_step(
            r.rating.id,
            seq,
            &step,
            state_after,
            &actor,
            crate::auth::now(),
            &audit,
        )
        .await
        .map_err(|e| ctx.fail(e))?;
    if !stored {
        let fresh =
            load_record(&state, &ctx, &caller, Permission::HandleRectification, &id).await?;
        return render_case(
            &state,
            ctx.clone(),
            &caller,
            fresh,
            Some(ctx.t("rect.concurrent").to_owned()),
            StatusCode::CONFLICT,
        )
        .await;
    }
    Ok(redirect(&format!(
        "/service/rectifications/{}",
        r.rating.id
    )))
}

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactPage {
    ctx: PageCtx,
    id: i64,
    case_id: String,
    applicant: String,
    phone: String,
    contact: String,
    real_name: bool,
}

/// `GET /service/rectifications/{id}/contact`: the full numbers for the callback. Every view
/// is recorded in the audit log.
async fn contact(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let r = load_record(&state, &ctx, &caller, Permission::ViewContact, &id).await?;
    let actor = caller.0.username().unwrap_or_default().to_owned();
    let entry = NewAuditEntry::new(&actor, "contact.view", format!("rating:{}", r.rating.id))
        .after(
            serde_json::json!({"case": r.case.case.id.as_str(), "purpose": "callback"}).to_string(),
        );
    state
        .store
        .append_audit(&entry)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(render(
        StatusCode::OK,
        &ContactPage {
            id: r.rating.id,
            case_id: r.case.case.id.to_string(),
            applicant: r.case.case.applicant.clone().unwrap_or_default(),
            phone: r
                .case
                .case
                .phone
                .as_ref()
                .map(|p| p.reveal().to_owned())
                .unwrap_or_default(),
            contact: r
                .rating
                .rating
                .contact
                .as_ref()
                .map(|p| p.reveal().to_owned())
                .unwrap_or_default(),
            real_name: r.rating.rating.real_name,
            ctx,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// Appeals

/// `POST /service/rectifications/{id}/appeal` (multipart): the unit appeals the review, with
/// an optional evidence file (PDF, PNG or JPEG by content, at most 5 MiB).
async fn file_appeal(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult {
    let r = load_record(&state, &ctx, &caller, Permission::FileAppeal, &id).await?;
    let mut ground = String::new();
    let mut evidence = String::new();
    let mut files = Vec::new();
    let mut problem: Option<String> = None;
    match multipart {
        Err(e) => problem = Some(format!("form: {e}")),
        Ok(mut form) => loop {
            match form.next_field().await {
                Ok(None) => break,
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or_default().to_owned();
                    let file_name = field.file_name().map(str::to_owned);
                    match field.bytes().await {
                        Err(e) => {
                            problem = Some(format!("{name}: {e}"));
                            break;
                        }
                        Ok(bytes) => match (name.as_str(), file_name) {
                            ("ground", _) => ground = String::from_utf8_lossy(&bytes).into_owned(),
                            ("evidence", _) => {
                                evidence = String::from_utf8_lossy(&bytes).into_owned();
                            }
                            ("file", Some(file_name))
                                if !(bytes.is_empty() && file_name.is_empty()) =>
                            {
                                match kaohe_domain::upload::check_upload(
                                    &file_name,
                                    &bytes,
                                    &kaohe_domain::upload::UploadPolicy::default(),
                                ) {
                                    Ok(accepted) => files.push(kaohe_store::NewFile {
                                        name: accepted.name,
                                        kind: accepted.kind,
                                        sha256: crate::auth::token_hash_bytes(&bytes),
                                        bytes: bytes.to_vec(),
                                    }),
                                    Err(e) => problem = Some(format!("file: {e}")),
                                }
                            }
                            _ => {}
                        },
                    }
                }
                Err(e) => {
                    problem = Some(format!("form: {e}"));
                    break;
                }
            }
        },
    }
    if files.len() > 1 {
        problem = Some("file: one evidence file per appeal".into());
    }
    let parsed = match problem {
        Some(p) => Err(p),
        None => ground
            .parse::<AppealGround>()
            .map_err(|e| format!("ground: {e}"))
            .and_then(|g| {
                check_appeal_text("evidence", &evidence)
                    .map(|t| (g, t))
                    .map_err(|e| e.to_string())
            }),
    };
    let (ground, evidence) = match parsed {
        Ok(x) => x,
        Err(e) => {
            return refuse_step(&state, ctx, &caller, r, e).await;
        }
    };
    let actor = caller.0.username().unwrap_or_default().to_owned();
    let appeal = Appeal {
        rating_id: r.rating.id,
        ground,
        evidence: evidence.clone(),
        filed_by: actor.clone(),
        filed_at: crate::auth::now(),
        decision: None,
    };
    let listed: Vec<serde_json::Value> = files
        .iter()
        .map(|f| serde_json::json!({"name": f.name, "kind": f.kind.code(), "size": f.bytes.len(), "sha256": f.sha256}))
        .collect();
    let audit = NewAuditEntry::new(&actor, "appeal.file", format!("rating:{}", r.rating.id)).after(
        serde_json::json!({"ground": ground.code(), "evidence": evidence, "files": listed})
            .to_string(),
    );
    if !state
        .store
        .file_appeal_with(&appeal, &files, &audit)
        .await
        .map_err(|e| ctx.fail(e))?
    {
        let fresh = load_record(&state, &ctx, &caller, Permission::FileAppeal, &id).await?;
        return render_case(
            &state,
            ctx.clone(),
            &caller,
            fresh,
            Some(ctx.t("appeal.exists").to_owned()),
            StatusCode::CONFLICT,
        )
        .await;
    }
    Ok(redirect(&format!(
        "/service/rectifications/{}",
        r.rating.id
    )))
}

/// `GET /service/rectifications/{id}/files/{file}`: an evidence file, as an attachment.
async fn appeal_file(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path((id, file)): Path<(String, String)>,
) -> PageResult {
    let r = load_record(&state, &ctx, &caller, Permission::HandleRectification, &id).await?;
    let not_found = || ctx.fail(ApiError::not_found("file", file.as_str()));
    let file_id: i64 = file.parse().map_err(|_| not_found())?;
    let (info, bytes) = state
        .store
        .appeal_file(r.rating.id, file_id)
        .await
        .map_err(|e| ctx.fail(e))?
        .ok_or_else(not_found)?;
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(info.kind.content_type()),
    );
    let disposition = format!(
        "attachment; filename=\"evidence-{}.{}\"; filename*=UTF-8''{}",
        info.id,
        info.kind.code(),
        encode_component(&info.name)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

#[derive(Debug)]
struct AppealRow {
    href: String,
    case_id: String,
    item: String,
    unit: String,
    level: &'static str,
    ground: &'static str,
    filed: String,
    decision: String,
}

#[derive(Template)]
#[template(path = "appeals.html")]
struct AppealsPage {
    ctx: PageCtx,
    /// Pending, then decided.
    sections: Vec<(&'static str, Vec<AppealRow>)>,
}

async fn appeals(ctx: PageCtx, caller: Caller, State(state): State<AppState>) -> PageResult {
    let store = state.store.as_ref();
    let scope: std::collections::HashMap<Code, String> =
        service::units_in_scope(store, &caller, Permission::DecideAppeal)
            .await
            .map_err(|e| ctx.fail(e))?
            .into_iter()
            .map(|u| (u.code, u.name))
            .collect();
    let mut pending = Vec::new();
    let mut decided = Vec::new();
    for a in store.appeals(false).await.map_err(|e| ctx.fail(e))? {
        let Some(r) = store
            .rectification(a.rating_id)
            .await
            .map_err(|e| ctx.fail(e))?
        else {
            continue;
        };
        let Some(unit) = scope.get(&r.unit) else {
            continue;
        };
        let row = AppealRow {
            href: format!("/service/rectifications/{}", a.rating_id),
            case_id: r.case.case.id.to_string(),
            item: r.case.case.item.clone(),
            unit: unit.clone(),
            level: ctx.label(r.rating.rating.level),
            ground: ctx.label(a.ground),
            filed: format!("{} · {}", a.filed_by, local_unix(&state, a.filed_at)),
            decision: a
                .decision
                .as_ref()
                .map(|(d, reason, _, _)| format!("{}：{reason}", ctx.label(*d)))
                .unwrap_or_default(),
        };
        if a.decision.is_some() {
            decided.push(row);
        } else {
            pending.push(row);
        }
    }
    let sections = vec![
        (ctx.t("appeal.pending_list"), pending),
        (ctx.t("appeal.decided_list"), decided),
    ];
    Ok(render(StatusCode::OK, &AppealsPage { ctx, sections }))
}

/// `POST /service/appeals/{id}`: an assessor upholds or rejects an appeal, with a reason.
async fn decide_appeal(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let r = load_record(&state, &ctx, &caller, Permission::DecideAppeal, &id).await?;
    let get = |k: &str| form_value(&form, k);
    let parsed = get("decision")
        .parse::<AppealDecision>()
        .map_err(|e| format!("decision: {e}"))
        .and_then(|d| {
            check_appeal_text("reason", get("reason"))
                .map(|t| (d, t))
                .map_err(|e| e.to_string())
        });
    let (decision, reason) = match parsed {
        Ok(x) => x,
        Err(e) => {
            return refuse_step(&state, ctx, &caller, r, e).await;
        }
    };
    let actor = caller.0.username().unwrap_or_default().to_owned();
    let audit = NewAuditEntry::new(&actor, "appeal.decide", format!("rating:{}", r.rating.id))
        .before(serde_json::json!({"excluded": r.rating.excluded}).to_string())
        .after(
            serde_json::json!({
                "decision": decision.code(),
                "reason": reason,
                "excluded": r.rating.excluded || decision == AppealDecision::Upheld,
            })
            .to_string(),
        );
    let done = state
        .store
        .decide_appeal(
            r.rating.id,
            decision,
            &reason,
            &actor,
            crate::auth::now(),
            &audit,
        )
        .await
        .map_err(|e| ctx.fail(e))?;
    if !done {
        let fresh = load_record(&state, &ctx, &caller, Permission::DecideAppeal, &id).await?;
        return render_case(
            &state,
            ctx.clone(),
            &caller,
            fresh,
            Some(ctx.t("appeal.not_pending").to_owned()),
            StatusCode::CONFLICT,
        )
        .await;
    }
    Ok(redirect(&format!(
        "/service/rectifications/{}",
        r.rating.id
    )))
}

// ---------------------------------------------------------------------------------------------
// Figures

#[derive(Debug)]
struct FigureRow {
    key: String,
    ratings: u64,
    excluded: u64,
    satisfaction: String,
    bad: String,
    rectified: String,
    on_time: String,
    callback: String,
    shrunk: String,
    /// Bar geometry of the shrunk rate and its interval, in SVG units (0–300).
    bar: u32,
    low: u32,
    high: u32,
    y: u32,
}

#[derive(Template)]
#[template(path = "service_figures.html")]
struct FiguresPage {
    ctx: PageCtx,
    by_label: &'static str,
    groupings: Vec<(&'static str, &'static str, bool)>,
    from: String,
    to: String,
    summary: String,
    rows: Vec<FigureRow>,
    chart_height: u32,
    flagged: Vec<(String, String)>,
    json: String,
}

fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

async fn figures_page(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
) -> PageResult {
    let q = QueryParams::from_uri(&uri);
    let (by, from, to) = service::figures_params(&state, q.raw("by"), q.raw("from"), q.raw("to"))
        .map_err(|e| ctx.fail(e))?;
    let f = service::figures(&state, &caller, by, from, to)
        .await
        .map_err(|e| ctx.fail(e))?;
    let mut groups = f.groups;
    groups.sort_by(|a, b| {
        b.shrunk
            .value
            .total_cmp(&a.shrunk.value)
            .then(a.key.cmp(&b.key))
    });
    let store = state.store.as_ref();
    let mut rows = Vec::with_capacity(groups.len());
    for (i, g) in groups.into_iter().enumerate() {
        let key = match by {
            GroupBy::Unit => match Code::parse(&g.key) {
                Ok(c) => store
                    .get_unit(&c)
                    .await
                    .map_err(|e| ctx.fail(e))?
                    .map_or(g.key.clone(), |u| u.name),
                Err(_) => g.key.clone(),
            },
            GroupBy::Official => match Code::parse(&g.key) {
                Ok(c) => store
                    .get_cadre(&c)
                    .await
                    .map_err(|e| ctx.fail(e))?
                    .map_or(g.key.clone(), |c| format!("{}（{}）", c.name, g.key)),
                Err(_) => g.key.clone(),
            },
            GroupBy::Window | GroupBy::Item => g.key.clone(),
        };
        let scale = |v: f64| (v.clamp(0.0, 1.0) * 300.0).round() as u32;
        rows.push(FigureRow {
            key,
            ratings: g.tally.ratings,
            excluded: g.tally.excluded,
            satisfaction: percent(g.figures.satisfaction_rate),
            bad: percent(g.figures.bad_rate),
            rectified: percent(g.figures.rectification_rate),
            on_time: percent(g.figures.on_time_rate),
            callback: percent(g.figures.callback_rate),
            shrunk: percent(Some(g.shrunk.value)),
            bar: scale(g.shrunk.value),
            low: scale(g.shrunk.low),
            high: scale(g.shrunk.high),
            y: u32::try_from(i).unwrap_or(0) * 22,
        });
    }
    let by_code = by.code();
    Ok(render(
        StatusCode::OK,
        &FiguresPage {
            by_label: ctx.t(&format!("figures.by.{by_code}")),
            groupings: GroupBy::ALL
                .iter()
                .map(|g| {
                    (
                        g.code(),
                        ctx.t(&format!("figures.by.{}", g.code())),
                        *g == by,
                    )
                })
                .collect(),
            from: from.to_string(),
            to: to.to_string(),
            summary: ctx.tf(
                "figures.summary",
                &[
                    ("n", &f.all.ratings),
                    ("rate", &percent(f.all.figures().satisfaction_rate)),
                ],
            ),
            chart_height: u32::try_from(rows.len()).unwrap_or(0) * 22 + 4,
            rows,
            flagged: f
                .flagged
                .into_iter()
                .map(|(_, case, kinds)| {
                    let kinds = kinds
                        .iter()
                        .filter_map(|k| {
                            k.parse::<kaohe_domain::ratings::suspicion::SuspicionKind>()
                                .ok()
                        })
                        .map(|k| ctx.label(k))
                        .collect::<Vec<_>>()
                        .join("、");
                    (case.to_string(), kinds)
                })
                .collect(),
            json: href(
                "/api/v1/service/figures",
                &[
                    ("by", by_code.into()),
                    ("from", from.to_string()),
                    ("to", to.to_string()),
                ],
            ),
            ctx,
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// QR codes: per case (on the receipt) and per service window (on the counter)

/// `scheme://host` of the request, for the absolute URL a QR code must carry.
fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    let scheme = if secure(state, headers) {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

fn qr_response(qr: Option<crate::qr::Qr>, png: bool, caption: &str) -> Response {
    let Some(qr) = qr else {
        return ApiError::invalid_param("url", "too long for a QR code").into_response();
    };
    let (kind, body) = if png {
        ("image/png", qr.png(8))
    } else {
        (
            "image/svg+xml; charset=utf-8",
            qr.svg(320, caption).into_bytes(),
        )
    };
    let mut r = body.into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(kind),
    );
    r
}

async fn case_qr(
    ctx: PageCtx,
    state: AppState,
    headers: HeaderMap,
    code: String,
    png: bool,
) -> PageResult {
    let case = rating_case(&state, &ctx, &code).await?;
    let url = format!(
        "{}/rate/{}",
        public_base(&state, &headers),
        encode_component(&case.rating_code)
    );
    let caption = format!("{} · {}", ctx.t("rate.title"), case.case.id);
    Ok(qr_response(crate::qr::Qr::new(&url), png, &caption))
}

/// `GET /rate/{code}/qr.svg`: the case's QR code, for its receipt.
async fn case_qr_svg(
    ctx: PageCtx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> PageResult {
    case_qr(ctx, state, headers, code, false).await
}

/// `GET /rate/{code}/qr.png`.
async fn case_qr_png(
    ctx: PageCtx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> PageResult {
    case_qr(ctx, state, headers, code, true).await
}

/// A window of the store, or 404.
async fn known_window(
    state: &AppState,
    ctx: &PageCtx,
    unit: &str,
    window: &str,
) -> Result<(Code, Code, String), crate::pages::PageError> {
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

fn window_path(unit: &Code, window: &Code) -> String {
    format!(
        "/rate/w/{}/{}",
        encode_component(unit.as_str()),
        encode_component(window.as_str())
    )
}

async fn window_qr(
    ctx: PageCtx,
    state: AppState,
    headers: HeaderMap,
    (unit, window): (String, String),
    png: bool,
) -> PageResult {
    let (unit, window, name) = known_window(&state, &ctx, &unit, &window).await?;
    let url = format!(
        "{}{}",
        public_base(&state, &headers),
        window_path(&unit, &window)
    );
    let caption = format!("{name} · {window} · {}", ctx.t("rate.title"));
    Ok(qr_response(crate::qr::Qr::new(&url), png, &caption))
}

/// `GET /rate/w/{unit}/{window}/qr.svg`: the window's QR code, for its counter.
async fn window_qr_svg(
    ctx: PageCtx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(p): Path<(String, String)>,
) -> PageResult {
    window_qr(ctx, state, headers, p, false).await
}

/// `GET /rate/w/{unit}/{window}/qr.png`.
async fn window_qr_png(
    ctx: PageCtx,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(p): Path<(String, String)>,
) -> PageResult {
    window_qr(ctx, state, headers, p, true).await
}

#[derive(Template)]
#[template(path = "rate_window.html")]
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
async fn window_form(
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
async fn window_lookup(
    ctx: PageCtx,
    State(state): State<AppState>,
    connect: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
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
                        .is_some_and(|p| p.reveal().ends_with(last4))
            }),
        _ => None,
    };
    match found {
        Some(case) => Ok(redirect(&format!(
            "/rate/{}",
            encode_component(&case.rating_code)
        ))),
        None => {
            let token = crate::auth::cookie(&headers, RATE_COOKIE).unwrap_or_default();
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

#[derive(Debug)]
struct WindowRow {
    unit: String,
    window: String,
    cases: u64,
    svg: String,
    png: String,
    page: String,
}

#[derive(Template)]
#[template(path = "service_qr.html")]
struct QrSheet {
    ctx: PageCtx,
    rows: Vec<WindowRow>,
}

/// `GET /service/qr`: the windows of the units in scope with their QR codes, to print.
async fn qr_sheet(ctx: PageCtx, caller: Caller, State(state): State<AppState>) -> PageResult {
    let store = state.store.as_ref();
    let scope: std::collections::HashMap<Code, String> =
        service::units_in_scope(store, &caller, Permission::HandleRectification)
            .await
            .map_err(|e| ctx.fail(e))?
            .into_iter()
            .map(|u| (u.code, u.name))
            .collect();
    let rows = store
        .service_windows()
        .await
        .map_err(|e| ctx.fail(e))?
        .into_iter()
        .filter_map(|(unit, window, cases)| {
            let name = scope.get(&unit)?.clone();
            let page = window_path(&unit, &window);
            Some(WindowRow {
                unit: name,
                window: window.to_string(),
                cases,
                svg: format!("{page}/qr.svg"),
                png: format!("{page}/qr.png"),
                page,
            })
        })
        .collect();
    Ok(render(StatusCode::OK, &QrSheet { ctx, rows }))
}
