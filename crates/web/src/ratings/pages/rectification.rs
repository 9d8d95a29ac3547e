//! The staff's side of a bad review: the rectification queue of the units in scope, a case's
//! full history with its escalation (督办) and next step, and the callback screen (the only one
//! showing a full phone number, each view audited).

use super::{form_value, local_time, local_unix, redirect};
use crate::org::data::{ancestor_codes, check_unit, units_in_scope};
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission, Target};
use crate::shell::auth;
use crate::shell::download::{suffix_of, table_file};
use crate::shell::error::ApiError;
use crate::shell::page::{PageCtx, PageError, PageResult, render};
use crate::shell::params::{QueryParams, href};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use kaohe_data::WideCell;
use kaohe_domain::access::check_four_eyes;
use kaohe_domain::audit::action;
use kaohe_domain::ratings::escalation::is_overdue;
use kaohe_domain::ratings::rectification::{Rectification, Status, Step, StepKind, Verdict};
use kaohe_domain::ratings::{AppealDecision, AppealGround, Phone};
use kaohe_domain::{Code, Labeled, NewAuditEntry, WorkCalendar};
use kaohe_store::{RectificationRecord, RectificationState};
use time::Date;

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
#[template(path = "ratings/rectifications.html")]
struct QueuePage {
    ctx: PageCtx,
    rows: Vec<QueueRow>,
    all: bool,
    toggle: String,
    overdue: Option<String>,
    export_xlsx: String,
    export_csv: String,
}

/// `?format=xlsx|csv`: the queue as shown (open ones, or all with `all=1`) as a file, headers
/// and labels in the page's language.
async fn export(ctx: &PageCtx, format: &str, rows: &[QueueRow]) -> PageResult {
    let suffix = suffix_of(ctx, format)?;
    let header: Vec<String> = [
        "rect.case",
        "rect.item",
        "col.unit",
        "rect.level",
        "rect.opened",
        "rect.deadline",
        "rect.left",
        "rect.status",
        "rect.real_name",
        "rect.excluded",
    ]
    .iter()
    .map(|k| ctx.t(k).to_owned())
    .collect();
    let text = |s: &str| WideCell::Text(s.to_owned());
    let table = rows
        .iter()
        .map(|r| {
            vec![
                text(&r.case_id),
                text(&r.item),
                text(&r.unit),
                text(r.level),
                text(&r.opened),
                text(&r.deadline),
                text(&r.left),
                text(r.status),
                text(ctx.yes_no(r.real_name)),
                text(ctx.yes_no(r.excluded)),
            ]
        })
        .collect();
    table_file(
        ctx,
        "rectifications",
        ctx.t("rect.title").to_owned(),
        suffix,
        header,
        table,
    )
    .await
}

/// Whether a rectification of the queue is overdue today ([`is_overdue`]), and the working days
/// left or overdue in words; no words for a closed one or a review an upheld appeal excluded.
pub(crate) fn time_left(
    ctx: &PageCtx,
    calendar: &WorkCalendar,
    q: &kaohe_store::QueueItem,
    today: Date,
) -> (bool, String) {
    let open = q.status != Status::Closed;
    let overdue = is_overdue(q.deadline, open, q.excluded, today);
    let left = if !open || q.excluded {
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
    (overdue, left)
}

pub(crate) async fn queue(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
) -> PageResult {
    let params = QueryParams::from_uri(&uri);
    let all = params.raw("all") == Some("1");
    let format = params.raw("format").map(str::to_owned);
    let store = state.store.as_ref();
    let units = units_in_scope(store, &caller, Permission::HandleRectification)
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
            let (overdue, left) = time_left(&ctx, &calendar, &q, today);
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
    if let Some(format) = format {
        return export(&ctx, &format, &rows).await;
    }
    let overdue = match rows.iter().filter(|r| r.overdue).count() {
        0 => None,
        n => Some(ctx.tf("rect.overdue_count", &[("n", &n)])),
    };
    let export_href = |format: &str| {
        let mut pairs = vec![("format", format.to_owned())];
        if all {
            pairs.push(("all", "1".to_owned()));
        }
        href("/service/rectifications", &pairs)
    };
    Ok(render(
        StatusCode::OK,
        &QueuePage {
            export_xlsx: export_href("xlsx"),
            export_csv: export_href("csv"),
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

/// What an entry of a case's history is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// A step of the rectification, taken by someone.
    Step,
    /// The escalation (督办) recorded by the sweep.
    Escalation,
    /// The appeal (申诉) filed by the unit.
    AppealFiled,
    /// The decision on the appeal.
    AppealDecided,
}

/// One entry of a case's history: its steps, the escalation and the appeal, in time order.
#[derive(Debug)]
struct HistoryRow {
    entry: Entry,
    kind: &'static str,
    note: String,
    outcome: String,
    on: String,
    actor: String,
    at: String,
    /// Where it sits in time: its day, then when it was recorded (unix seconds).
    when: (Date, i64),
}

#[derive(Template)]
#[template(path = "ratings/rectification.html")]
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
    /// Steps, escalation and appeal, in time order.
    history: Vec<HistoryRow>,
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
    /// The decision, once made (its reason, who and when are in the history).
    decision: Option<&'static str>,
}

pub(super) async fn load_record(
    state: &AppState,
    ctx: &PageCtx,
    caller: &Caller,
    permission: Permission,
    id: &str,
) -> Result<RectificationRecord, PageError> {
    let not_found = || ctx.fail(ApiError::not_found("rectification", id));
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let record = state
        .store
        .rectification(id)
        .await
        .map_err(|e| ctx.fail(e))?
        .ok_or_else(not_found)?;
    check_unit(state.store.as_ref(), caller, permission, &record.unit)
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
        &state.ratings.rectification,
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

pub(super) async fn render_case(
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
        .map(|s| HistoryRow {
            entry: Entry::Step,
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
            when: (s.step.on, s.at),
        })
        .collect();
    let mut events: Vec<HistoryRow> = store
        .escalation(r.rating.id)
        .await
        .map_err(|e| ctx.fail(e))?
        .map(|e| escalation_row(state, &ctx, &e))
        .into_iter()
        .collect();
    if let Some(a) = &r.appeal {
        events.extend(appeal_rows(state, &ctx, a));
    }
    let history = in_time_order(steps, events);
    let appeal = r.appeal.as_ref().map(|a| AppealView {
        ground: ctx.label(a.ground),
        evidence: a.evidence.clone(),
        decision: a.decision.as_ref().map(|(d, ..)| ctx.label(*d)),
    });
    // What else the caller may do here, asked of the unit's ancestry read once.
    let ancestors = ancestor_codes(store, &r.unit)
        .await
        .map_err(|e| ctx.fail(e))?;
    let may = |permission| {
        caller.0.may(
            permission,
            Target::Unit {
                code: &r.unit,
                ancestors: &ancestors,
            },
        )
    };
    let may_view_contact = may(Permission::ViewContact);
    let may_file_appeal = r.appeal.is_none() && may(Permission::FileAppeal);
    let may_decide_appeal = r.appeal.as_ref().is_some_and(|a| a.decision.is_none())
        && may(Permission::DecideAppeal)
        && check_four_eyes(r.involved(), caller.0.username().unwrap_or_default()).is_ok();
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
        history,
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

/// The steps in the order they were taken, with the other events (escalation, appeal) each
/// put before the first step that came after it: one history in time order.
fn in_time_order(mut rows: Vec<HistoryRow>, mut events: Vec<HistoryRow>) -> Vec<HistoryRow> {
    events.sort_by_key(|e| e.when);
    for event in events {
        let at = rows
            .iter()
            .position(|r| r.when > event.when)
            .unwrap_or(rows.len());
        rows.insert(at, event);
    }
    rows
}

/// The day of a time recorded in unix seconds, at the deployment's local time.
fn local_day(state: &AppState, t: i64) -> Date {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map(|t| t.to_offset(state.utc_offset).date())
        .unwrap_or(Date::MIN)
}

/// The escalation (督办) as an entry of the history.
fn escalation_row(state: &AppState, ctx: &PageCtx, e: &kaohe_store::Escalation) -> HistoryRow {
    let names = |names: &[String]| {
        if names.is_empty() {
            ctx.t("rect.nobody").to_owned()
        } else {
            names.join("、")
        }
    };
    HistoryRow {
        entry: Entry::Escalation,
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
        on: e.on.to_string(),
        actor: String::new(),
        at: local_unix(state, e.at),
        when: (e.on, e.at),
    }
}

/// The appeal as entries of the history: filed (with its ground and evidence), and decided
/// (with the decision and its reason) once it is.
fn appeal_rows(state: &AppState, ctx: &PageCtx, a: &kaohe_store::Appeal) -> Vec<HistoryRow> {
    let filed_on = local_day(state, a.filed_at);
    let mut rows = vec![HistoryRow {
        entry: Entry::AppealFiled,
        kind: ctx.t("rect.history.appeal_filed"),
        note: a.evidence.clone(),
        outcome: format!("{} · {}", ctx.t("appeal.ground"), ctx.label(a.ground)),
        on: filed_on.to_string(),
        actor: a.filed_by.clone(),
        at: local_unix(state, a.filed_at),
        when: (filed_on, a.filed_at),
    }];
    if let Some((decision, reason, by, at)) = &a.decision {
        let on = local_day(state, *at);
        rows.push(HistoryRow {
            entry: Entry::AppealDecided,
            kind: ctx.t("rect.history.appeal_decided"),
            note: reason.clone(),
            outcome: format!("{} · {}", ctx.t("appeal.decision"), ctx.label(*decision)),
            on: on.to_string(),
            actor: by.clone(),
            at: local_unix(state, *at),
            when: (on, *at),
        });
    }
    rows
}

/// The case page again, 422, with what was wrong with the form sent.
pub(super) async fn refuse_step(
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

pub(crate) async fn case_page(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let r = load_record(&state, &ctx, &caller, Permission::HandleRectification, &id).await?;
    render_case(&state, ctx, &caller, r, None, StatusCode::OK).await
}

/// `POST /service/rectifications/{id}/steps`: records the next step, or shows why not.
pub(crate) async fn add_step(
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
        action::RECTIFICATION_STEP,
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
            auth::now(),
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
#[template(path = "ratings/contact.html")]
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
pub(crate) async fn contact(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let r = load_record(&state, &ctx, &caller, Permission::ViewContact, &id).await?;
    let actor = caller.0.username().unwrap_or_default().to_owned();
    let entry = NewAuditEntry::new(
        &actor,
        action::CONTACT_VIEW,
        format!("rating:{}", r.rating.id),
    )
    .after(serde_json::json!({"case": r.case.case.id.as_str(), "purpose": "callback"}).to_string());
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
