//! The pages of work records: an official's timeline (`/cadres/{id}/records`, `/my/records`),
//! the assessor's verification queue, the form that records a fact, a record's page with its
//! history, review and amendment, and the download of its evidence. Templates in
//! `templates/records/`.

use super::data::{
    FieldError, RecordFields, cadre_for, field_error, may_on, own_cadre, read_multipart, readable,
    record_for, scoped_query, vault_error,
};
use super::view::{IndicatorOption, RecordView, indicator_groups, views};
use crate::org::data::units_in_scope;
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission};
use crate::shell::error::ApiError;
use crate::shell::page::{PageCtx, PageResult, local_path, location, render};
use crate::shell::params::{QueryParams, encode_component};
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use kaohe_domain::records::{RecordError, RecordKind, RecordSource, Verdict};
use kaohe_domain::{Code, Labeled};
use kaohe_store::records::RecordQuery;
use kaohe_store::records::work::{self, RecordWorkError};
use kaohe_store::{CadreQuery, MAX_PER_PAGE};

/// A 303 to `path`.
fn redirect(path: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut().insert(LOCATION, location(path));
    r
}

/// The label of a field of a record, for error messages.
fn field_label(ctx: &PageCtx, field: &str) -> &'static str {
    ctx.t(match field {
        "cadre" => "rec.f.cadre",
        "date" => "rec.f.date",
        "indicator" => "rec.f.indicator",
        "kind" => "rec.f.kind",
        "points" => "rec.f.points",
        "source" => "rec.f.source",
        "description" => "rec.f.description",
        "files" => "rec.f.files",
        "reason" => "rec.f.reason",
        _ => "rec.f.form",
    })
}

/// A refused field in words: the field and why.
fn field_text(ctx: &PageCtx, e: &FieldError) -> String {
    let why = match e.key {
        Some(key) => ctx.t(key).to_owned(),
        None => e.reason.clone(),
    };
    format!("{}{}{why}", field_label(ctx, e.field), ctx.t("rec.colon"))
}

/// A refused step in words, with its status.
fn step_text(ctx: &PageCtx, e: &RecordWorkError) -> (StatusCode, String) {
    if let Some(f) = field_error(e) {
        return (StatusCode::UNPROCESSABLE_ENTITY, field_text(ctx, &f));
    }
    match e {
        RecordWorkError::FourEyes(_) => (StatusCode::FORBIDDEN, ctx.t("rec.four_eyes").into()),
        RecordWorkError::Rule(RecordError::AlreadyReviewed(_)) => {
            (StatusCode::CONFLICT, ctx.t("rec.err.reviewed").into())
        }
        RecordWorkError::Rule(RecordError::NotAmendable { .. }) => {
            (StatusCode::CONFLICT, ctx.t("rec.err.not_amendable").into())
        }
        other => (StatusCode::CONFLICT, other.to_string()),
    }
}

fn actor(caller: &Caller) -> String {
    caller.0.username().unwrap_or_default().to_owned()
}

#[derive(Template)]
#[template(path = "records/timeline.html")]
struct TimelinePage {
    ctx: PageCtx,
    title: String,
    /// The cadre's page, for the timeline of a cadre.
    cadre_href: Option<String>,
    /// The form that records a fact of this cadre, for those who record.
    new_href: Option<String>,
    /// The export of this cadre's records as CSV and as XLSX, for those who read them.
    export_href: Option<(String, String)>,
    /// With `?framework=…&from=…&to=…`: the framework and period, and each record-filled
    /// indicator's value from the records listed.
    trace: Option<Trace>,
    records: Vec<RecordView>,
}

/// How an official's record-filled indicators of a framework stand over a period: the records
/// that count and the value the framework's rule gives them (the same rule a cycle uses).
#[derive(Debug)]
struct Trace {
    /// The framework and period, in words.
    heading: String,
    rows: Vec<TraceRow>,
}

#[derive(Debug)]
struct TraceRow {
    indicator: String,
    counted: usize,
    positive: String,
    negative: String,
    value: String,
}

/// The filter of a timeline: `framework` (its record-filled indicators only), `from`, `to`.
struct TraceFilter {
    framework: Option<String>,
    from: Option<time::Date>,
    to: Option<time::Date>,
}

impl TraceFilter {
    fn of(uri: &Uri) -> Self {
        let q = QueryParams::from_uri(uri);
        let day = |k: &str| {
            q.raw(k).and_then(|v| {
                time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]")).ok()
            })
        };
        Self {
            framework: q.raw("framework").map(str::to_owned),
            from: day("from"),
            to: day("to"),
        }
    }

    fn narrow(&self, query: RecordQuery) -> RecordQuery {
        RecordQuery {
            from: self.from,
            to: self.to,
            ..query
        }
    }
}

/// The trace of `records` (one official's, already filtered by period) on the record-filled
/// indicators of the filter's framework; `records` keeps only those of its indicators.
async fn trace(
    state: &AppState,
    ctx: &PageCtx,
    filter: &TraceFilter,
    cadre: &Code,
    records: &mut Vec<kaohe_store::records::Record>,
) -> Result<Option<Trace>, RecordWorkError> {
    let Some(id) = &filter.framework else {
        return Ok(None);
    };
    let recordable = work::recordable(state.store.as_ref()).await?;
    let Some((version, fw)) = recordable.iter().find(|(_, fw)| fw.id() == id) else {
        return Ok(None);
    };
    records.retain(|r| r.framework_id == *id);
    let sums: Vec<kaohe_store::records::PointSum> = records
        .iter()
        .filter(|r| r.state().counts())
        .map(|r| kaohe_store::records::PointSum {
            cadre: r.cadre.clone(),
            indicator: r.indicator.clone(),
            kind: r.kind,
            points: r.points,
        })
        .collect();
    let values = work::indicator_values(fw, &sums, std::slice::from_ref(cadre));
    let columns = work::record_columns(fw);
    let rows = columns
        .iter()
        .zip(values.first().map(|(_, v)| v.clone()).unwrap_or_default())
        .filter_map(|(col, value)| {
            let ind = fw.indicators().iter().find(|i| &i.id == col)?;
            let of = |kind: RecordKind| -> f64 {
                sums.iter()
                    .filter(|s| s.indicator == *col && s.kind == kind)
                    .map(|s| s.points)
                    .sum()
            };
            let name = match ctx.lang() {
                crate::shell::i18n::Lang::En => ind.name_en.clone().unwrap_or(ind.name.clone()),
                crate::shell::i18n::Lang::Zh => ind.name.clone(),
            };
            Some(TraceRow {
                indicator: name,
                counted: sums.iter().filter(|s| s.indicator == *col).count(),
                positive: format!("{}", of(RecordKind::Positive)),
                negative: format!("{}", of(RecordKind::Negative)),
                value: value.map_or_else(String::new, |v| format!("{v:.2}")),
            })
        })
        .collect();
    let period = match (filter.from, filter.to) {
        (Some(a), Some(b)) => format!("{a} – {b}"),
        (Some(a), None) => format!("{a} –"),
        (None, Some(b)) => format!("– {b}"),
        (None, None) => String::new(),
    };
    Ok(Some(Trace {
        heading: ctx.tf(
            "rec.trace_heading",
            &[
                ("framework", &fw.name()),
                ("version", version),
                ("period", &period),
            ],
        ),
        rows,
    }))
}

/// `GET /cadres/{id}/records`: an official's timeline, newest fact first.
pub(super) async fn cadre_timeline(
    ctx: PageCtx,
    caller: Caller,
    uri: Uri,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let filter = TraceFilter::of(&uri);
    let store = state.store.as_ref();
    let code = Code::parse(&id).map_err(|_| ctx.fail(ApiError::not_found("cadre", id.as_str())))?;
    let cadre = cadre_for(store, &caller, Permission::ViewRecords, &code)
        .await
        .map_err(|e| ctx.fail(e))?;
    let mut records = store
        .records(&filter.narrow(RecordQuery {
            cadre: Some(code.clone()),
            ..RecordQuery::default()
        }))
        .await
        .map_err(|e| ctx.fail(e))?;
    let trace = trace(&state, &ctx, &filter, &code, &mut records)
        .await
        .map_err(|e| {
            ctx.fail(ApiError::Refused {
                code: "framework",
                reason: e.to_string(),
            })
        })?;
    let records = views(&state, &ctx, &records)
        .await
        .map_err(|e| ctx.fail(e))?;
    let may_record = cadre_for(store, &caller, Permission::RecordFacts, &code)
        .await
        .is_ok();
    let page = TimelinePage {
        title: ctx.tf(
            "rec.timeline_of",
            &[("name", &cadre.name), ("id", &cadre.id)],
        ),
        cadre_href: Some(format!("/cadres/{}", cadre.id)),
        export_href: Some((
            format!(
                "/records/export.csv?cadre={}",
                encode_component(code.as_str())
            ),
            format!(
                "/records/export.xlsx?cadre={}",
                encode_component(code.as_str())
            ),
        )),
        new_href: may_record
            .then(|| format!("/records/new?cadre={}", encode_component(code.as_str()))),
        trace,
        records,
        ctx,
    };
    Ok(render(StatusCode::OK, &page))
}

/// `GET /my/records`: the official's own timeline.
pub(super) async fn my_timeline(
    ctx: PageCtx,
    caller: Caller,
    uri: Uri,
    State(state): State<AppState>,
) -> PageResult {
    let store = state.store.as_ref();
    let own = own_cadre(&caller).ok_or_else(|| ctx.fail(ApiError::Forbidden))?;
    let filter = TraceFilter::of(&uri);
    let query = filter.narrow(RecordQuery {
        cadre: Some(own.clone()),
        ..RecordQuery::default()
    });
    let mut records = store.records(&query).await.map_err(|e| ctx.fail(e))?;
    let trace = trace(&state, &ctx, &filter, &own, &mut records)
        .await
        .map_err(|e| {
            ctx.fail(ApiError::Refused {
                code: "framework",
                reason: e.to_string(),
            })
        })?;
    let records = views(&state, &ctx, &records)
        .await
        .map_err(|e| ctx.fail(e))?;
    let page = TimelinePage {
        title: ctx.t("rec.my_title").to_owned(),
        cadre_href: None,
        new_href: None,
        export_href: None,
        trace,
        records,
        ctx,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "records/queue.html")]
struct QueuePage {
    ctx: PageCtx,
    records: Vec<RecordView>,
    /// Where the review forms go back to.
    next: &'static str,
}

/// `GET /records/queue`: records of the officials in scope awaiting verification, oldest fact
/// last.
pub(super) async fn queue(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
) -> PageResult {
    let store = state.store.as_ref();
    let query = scoped_query(
        store,
        &caller,
        Permission::VerifyRecords,
        RecordQuery {
            pending: true,
            ..RecordQuery::default()
        },
    )
    .await
    .map_err(|e| ctx.fail(e))?;
    let records = store.records(&query).await.map_err(|e| ctx.fail(e))?;
    let records = views(&state, &ctx, &records)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(render(
        StatusCode::OK,
        &QueuePage {
            ctx,
            records,
            next: "/records/queue",
        },
    ))
}

/// The choices of a select: code, label, selected.
type Choices = Vec<(&'static str, &'static str, bool)>;

fn choices<T: Labeled>(ctx: &PageCtx, selected: &str) -> Choices {
    T::ALL
        .iter()
        .map(|v| (v.code(), ctx.label(*v), v.code() == selected))
        .collect()
}

#[derive(Template)]
#[template(path = "records/new.html")]
struct NewPage {
    ctx: PageCtx,
    groups: Vec<(String, Vec<IndicatorOption>)>,
    kinds: Choices,
    sources: Choices,
    fields: RecordFields,
    /// The refused field and the message.
    error: Option<(&'static str, String)>,
    /// The refused field (empty when none), marked invalid.
    bad: &'static str,
    today: String,
    files_hint: String,
    /// The officials the caller records facts of (id, name and unit), for the list of the
    /// cadre field.
    cadres: Vec<(String, String)>,
}

/// A size limit in words: whole MB, or KB below one MB.
fn size_text(bytes: usize) -> String {
    const MB: usize = 1024 * 1024;
    if bytes >= MB && bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else if bytes >= MB {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// Most officials offered in the list of the cadre field; beyond, the id is typed.
const MAX_PICK: usize = 2000;

/// The officials of the units the caller records facts in (at most [`MAX_PICK`]).
async fn pickable(
    store: &dyn kaohe_store::Store,
    caller: &Caller,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for unit in units_in_scope(store, caller, Permission::RecordFacts).await? {
        let page = store
            .list_cadres(&CadreQuery {
                unit: Some(unit.code.clone()),
                page: 1,
                per_page: MAX_PER_PAGE,
                ..CadreQuery::default()
            })
            .await?;
        out.extend(
            page.items
                .into_iter()
                .map(|c| (c.id.to_string(), format!("{} · {}", c.name, unit.name))),
        );
        if out.len() >= MAX_PICK {
            out.truncate(MAX_PICK);
            break;
        }
    }
    Ok(out)
}

async fn new_page(
    state: &AppState,
    ctx: PageCtx,
    caller: &Caller,
    fields: RecordFields,
    error: Option<FieldError>,
) -> PageResult {
    let cadres = pickable(state.store.as_ref(), caller)
        .await
        .map_err(|e| ctx.fail(e))?;
    let recordable = work::recordable(state.store.as_ref())
        .await
        .map_err(|e| ctx.fail(ApiError::from(e)))?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = NewPage {
        groups: indicator_groups(&ctx, &recordable, &fields.indicator),
        kinds: choices::<RecordKind>(&ctx, &fields.kind),
        sources: choices::<RecordSource>(&ctx, &fields.source),
        bad: error.as_ref().map_or("", |e| e.field),
        error: error.map(|e| (e.field, field_text(&ctx, &e))),
        today: state.today().to_string(),
        files_hint: ctx.tf(
            "rec.files_hint",
            &[("size", &size_text(state.record_upload_max_bytes))],
        ),
        cadres,
        fields,
        ctx,
    };
    Ok(render(status, &page))
}

/// `GET /records/new?cadre=`: the form that records a fact.
pub(super) async fn new_form(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
) -> PageResult {
    let query = QueryParams::from_uri(&uri);
    let fields = RecordFields {
        cadre: query.raw("cadre").unwrap_or_default().to_owned(),
        date: state.today().to_string(),
        kind: RecordKind::Positive.code().to_owned(),
        source: RecordSource::FieldVisit.code().to_owned(),
        ..RecordFields::default()
    };
    new_page(&state, ctx, &caller, fields, None).await
}

/// `POST /records/new` (multipart): records a fact with its evidence files; the form again,
/// its input kept and the field at fault named, when it is refused.
pub(super) async fn create(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult {
    let (fields, files, problem) = read_multipart(&state, multipart).await;
    if let Some(p) = problem {
        return new_page(&state, ctx, &caller, fields, Some(p)).await;
    }
    let input = match fields.input(files) {
        Ok(input) => input,
        Err(e) => return new_page(&state, ctx, &caller, fields, Some(e)).await,
    };
    let store = state.store.as_ref();
    match cadre_for(store, &caller, Permission::RecordFacts, &input.cadre).await {
        Ok(_) => {}
        Err(ApiError::NotFound { .. }) => {
            let e = field_error(&RecordWorkError::NoCadre(input.cadre.to_string()));
            return new_page(&state, ctx, &caller, fields, e).await;
        }
        Err(e) => return Err(ctx.fail(e)),
    }
    match work::add(
        store,
        &state.evidence,
        vec![input],
        &[],
        state.today(),
        &actor(&caller),
    )
    .await
    {
        Ok(ids) => match ids.first() {
            Some(id) => Ok(redirect(&format!("/records/{id}"))),
            None => Err(ctx.fail(ApiError::not_found("record", ""))),
        },
        Err(e) => match field_error(&e) {
            Some(f) => new_page(&state, ctx, &caller, fields, Some(f)).await,
            None => Err(ctx.fail(ApiError::from(e))),
        },
    }
}

#[derive(Template)]
#[template(path = "records/record.html")]
struct RecordPage {
    ctx: PageCtx,
    r: RecordView,
    /// For an amendment: the record it corrects.
    original: Option<RecordView>,
    /// The amendments of this record, oldest first.
    amendments: Vec<RecordView>,
    /// The review form is shown (pending, the caller verifies records of this official).
    may_review: bool,
    /// The caller would review it but recorded it (four eyes).
    four_eyes: bool,
    may_amend: bool,
    /// An amendment of this record awaits verification: no second one until it is reviewed.
    amendment_pending: bool,
    groups: Vec<(String, Vec<IndicatorOption>)>,
    kinds: Choices,
    sources: Choices,
    /// The amendment form's fields: the record's own, or what was typed.
    fields: RecordFields,
    error: Option<String>,
    /// Where the review form goes back to: the record.
    next: String,
}

async fn record_page(
    state: &AppState,
    ctx: PageCtx,
    caller: &Caller,
    id: &str,
    typed: Option<RecordFields>,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let store = state.store.as_ref();
    let record = readable(store, caller, id).await.map_err(|e| ctx.fail(e))?;
    let mut all = vec![record.clone()];
    if let Some(a) = record.amends
        && let Some(original) = store.record(a).await.map_err(|e| ctx.fail(e))?
    {
        all.push(original);
    }
    let amendments = store
        .amendments_of(record.id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let count = all.len();
    all.extend(amendments);
    let mut shown = views(state, &ctx, &all)
        .await
        .map_err(|e| ctx.fail(e))?
        .into_iter();
    let Some(r) = shown.next() else {
        return Err(ctx.fail(ApiError::not_found("record", id)));
    };
    let original = if count > 1 { shown.next() } else { None };
    let amendments: Vec<RecordView> = shown.collect();
    let pending = record.review.is_none();
    let verifies = pending
        && may_on(store, caller, Permission::VerifyRecords, &record)
            .await
            .map_err(|e| ctx.fail(e))?;
    let four_eyes = verifies && r.mine;
    let amendment_pending = amendments
        .iter()
        .any(|a| a.state_code == kaohe_domain::records::RecordState::Recorded.code());
    let may_amend = !amendment_pending
        && matches!(
            record.state(),
            kaohe_domain::records::RecordState::Recorded
                | kaohe_domain::records::RecordState::Verified
        )
        && may_on(store, caller, Permission::RecordFacts, &record)
            .await
            .map_err(|e| ctx.fail(e))?;
    let fields = typed.unwrap_or_else(|| RecordFields {
        cadre: record.cadre.to_string(),
        date: record.date.to_string(),
        indicator: format!("{}/{}", record.framework_id, record.indicator),
        kind: record.kind.code().to_owned(),
        points: super::view::points_text(record.points),
        source: record.source.code().to_owned(),
        description: record.description.clone(),
        reason: String::new(),
    });
    let recordable = if may_amend {
        work::recordable(store)
            .await
            .map_err(|e| ctx.fail(ApiError::from(e)))?
    } else {
        Vec::new()
    };
    let (status, error) = match error {
        Some((s, e)) => (s, Some(e)),
        None => (StatusCode::OK, None),
    };
    let page = RecordPage {
        groups: indicator_groups(&ctx, &recordable, &fields.indicator),
        kinds: choices::<RecordKind>(&ctx, &fields.kind),
        sources: choices::<RecordSource>(&ctx, &fields.source),
        may_review: verifies && !four_eyes,
        four_eyes,
        may_amend,
        amendment_pending,
        original,
        amendments,
        fields,
        error,
        next: format!("/records/{}", record.id),
        r,
        ctx,
    };
    Ok(render(status, &page))
}

/// `GET /records/{id}`: a record with its history, evidence and the forms of the caller.
pub(super) async fn detail(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    record_page(&state, ctx, &caller, &id, None, None).await
}

/// `POST /records/{id}/review`: verifies or rejects a record (a rejection needs a reason),
/// never by whoever recorded it; back to `next` (the queue) or the record.
pub(super) async fn review(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let store = state.store.as_ref();
    let record = record_for(store, &caller, Permission::VerifyRecords, &id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let value = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.trim())
    };
    let verdict = match Verdict::parse_label(value("verdict")) {
        Ok(v) => v,
        Err(_) => {
            let text = format!(
                "{}{}{}",
                ctx.t("rec.f.verdict"),
                ctx.t("rec.colon"),
                ctx.t("rec.err.verdict")
            );
            let e = Some((StatusCode::UNPROCESSABLE_ENTITY, text));
            return record_page(&state, ctx, &caller, &id, None, e).await;
        }
    };
    match work::review(store, record.id, verdict, value("reason"), &actor(&caller)).await {
        Ok(()) => {
            let next = local_path(Some(value("next")));
            let next = if next == "/" {
                format!("/records/{}", record.id)
            } else {
                next.to_owned()
            };
            Ok(redirect(&next))
        }
        Err(e) => {
            let text = step_text(&ctx, &e);
            record_page(&state, ctx, &caller, &id, None, Some(text)).await
        }
    }
}

/// `POST /records/{id}/amend`: corrects a record by an amendment (a new record of the same
/// official, with a reason), which awaits verification like any record.
pub(super) async fn amend(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let store = state.store.as_ref();
    let record = record_for(store, &caller, Permission::RecordFacts, &id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let mut fields = RecordFields::of_form(&form);
    fields.cadre = record.cadre.to_string();
    let input = match fields.input(Vec::new()) {
        Ok(input) => input,
        Err(e) => {
            let text = (StatusCode::UNPROCESSABLE_ENTITY, field_text(&ctx, &e));
            return record_page(&state, ctx, &caller, &id, Some(fields), Some(text)).await;
        }
    };
    let result = work::amend(
        store,
        &state.evidence,
        record.id,
        input,
        &fields.reason,
        state.today(),
        &actor(&caller),
    )
    .await;
    match result {
        Ok(new) => Ok(redirect(&format!("/records/{new}"))),
        Err(e) => {
            let text = step_text(&ctx, &e);
            record_page(&state, ctx, &caller, &id, Some(fields), Some(text)).await
        }
    }
}

/// `GET /records/{id}/files/{file}`: an evidence file, its hash checked, always as an
/// attachment (never shown inline, never sniffed, never cached).
pub(super) async fn evidence(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path((id, file)): Path<(String, String)>,
) -> PageResult {
    evidence_response(&state, &caller, &id, &file)
        .await
        .map_err(|e| ctx.fail(e))
}

/// An evidence file of a record the caller may read, as an attachment.
pub(super) async fn evidence_response(
    state: &AppState,
    caller: &Caller,
    id: &str,
    file: &str,
) -> Result<Response, ApiError> {
    let store = state.store.as_ref();
    let record = readable(store, caller, id).await?;
    let not_found = || ApiError::not_found("file", file);
    let file_id: i64 = file.parse().map_err(|_| not_found())?;
    let (info, bytes) = match work::evidence(store, &state.evidence, record.id, file_id).await {
        Ok(Some(found)) => found,
        Ok(None) => return Err(not_found()),
        Err(RecordWorkError::Vault(v)) => return Err(vault_error(&v)),
        Err(e) => return Err(e.into()),
    };
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(info.kind.content_type()),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        axum::http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let disposition = format!(
        "attachment; filename=\"evidence-{}-{}.{}\"; filename*=UTF-8''{}",
        record.id,
        info.id,
        info.kind.extension(),
        encode_component(&info.name)
    );
    let value = HeaderValue::from_str(&disposition)
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    h.insert(CONTENT_DISPOSITION, value);
    Ok(response)
}
