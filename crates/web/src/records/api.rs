//! The JSON API of work records (`/api/v1/records`): list with filters, create (JSON, or
//! multipart with evidence files), one record with its history, review, amendment, evidence.
//!
//! Same permissions and scope as the pages: an assessor or unit leader the records of the
//! officials of their units, an official their own; an assessor verifies, never a record they
//! recorded (four eyes).

use super::data::{
    ListParams, RecordFields, cadre_for, read_multipart, readable, record_for, scoped_query,
};
use super::pages::evidence_response;
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission};
use crate::shell::error::{ApiError, ErrorBody};
use crate::shell::json::{Label, label, parse_body};
use crate::shell::params::ApiQuery;
use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use kaohe_domain::Labeled;
use kaohe_domain::records::Verdict;
use kaohe_store::records::work::{self, RecordInput};
use kaohe_store::records::{Record, RecordQuery};
use kaohe_store::{FileInfo, Store};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

/// A review of a record.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ReviewOut {
    /// `verified` or `rejected`.
    verdict: String,
    verdict_label: Label,
    /// Why (always given for a rejection).
    reason: String,
    /// Who reviewed.
    by: String,
    /// When, unix seconds.
    at: i64,
}

/// An evidence file of a record.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct FileOut {
    /// Number of the file.
    id: i64,
    /// Its name as uploaded.
    name: String,
    /// `pdf`, `png`, `jpeg`, `docx`, `xlsx` (by content).
    kind: String,
    /// Bytes.
    size: u64,
    /// SHA-256 of the content, hex.
    sha256: String,
    /// Where to download it.
    href: String,
}

impl FileOut {
    fn new(record: i64, f: &FileInfo) -> Self {
        Self {
            id: f.id,
            name: f.name.clone(),
            kind: f.kind.code().to_owned(),
            size: f.size,
            sha256: f.sha256.clone(),
            href: format!("/api/v1/records/{record}/files/{}", f.id),
        }
    }
}

/// A work record.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct RecordOut {
    /// Number of the record.
    id: i64,
    /// The official.
    cadre: String,
    /// The official's name.
    cadre_name: String,
    /// The official's unit.
    unit: String,
    /// Date of the fact, `YYYY-MM-DD`.
    #[schema(value_type = String, example = "2026-11-30")]
    date: Date,
    /// `positive` or `negative`.
    kind: String,
    kind_label: Label,
    /// Framework id.
    framework: String,
    /// Framework version.
    framework_version: String,
    /// Indicator id.
    indicator: String,
    /// Points (positive; the kind says which way they count).
    points: f64,
    /// `field_visit`, `concrete_case`, `public_opinion`, `superior`, `attendance`, `other`.
    source: String,
    source_label: Label,
    /// What happened.
    description: String,
    /// `recorded` (待核实), `verified`, `rejected`, `corrected`.
    state: String,
    state_label: Label,
    /// The record this one corrects, for an amendment.
    amends: Option<i64>,
    /// Why it corrects it.
    reason: Option<String>,
    /// Who recorded it.
    recorded_by: String,
    /// When, unix seconds.
    recorded_at: i64,
    /// Its review.
    review: Option<ReviewOut>,
    /// The verified amendment that corrects it.
    corrected_by: Option<i64>,
    /// Number of evidence files.
    files: i64,
}

impl From<&Record> for RecordOut {
    fn from(r: &Record) -> Self {
        let state = r.state();
        Self {
            id: r.id,
            cadre: r.cadre.to_string(),
            cadre_name: r.cadre_name.clone(),
            unit: r.unit.to_string(),
            date: r.date,
            kind: r.kind.code().to_owned(),
            kind_label: label(r.kind),
            framework: r.framework_id.clone(),
            framework_version: r.framework_version.clone(),
            indicator: r.indicator.clone(),
            points: r.points,
            source: r.source.code().to_owned(),
            source_label: label(r.source),
            description: r.description.clone(),
            state: state.code().to_owned(),
            state_label: label(state),
            amends: r.amends,
            reason: r.reason.clone(),
            recorded_by: r.recorded_by.clone(),
            recorded_at: r.recorded_at,
            review: r.review.as_ref().map(|v| ReviewOut {
                verdict: v.verdict.code().to_owned(),
                verdict_label: label(v.verdict),
                reason: v.reason.clone(),
                by: v.by.clone(),
                at: v.at,
            }),
            corrected_by: r.corrected_by,
            files: r.files,
        }
    }
}

/// Records, newest fact first.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct RecordList {
    /// How many.
    total: usize,
    /// The records.
    items: Vec<RecordOut>,
}

/// A record with its history: the record it corrects, its amendments, its evidence.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct RecordDetailOut {
    /// The record.
    record: RecordOut,
    /// For an amendment: the record it corrects.
    corrects: Option<RecordOut>,
    /// The amendments that name it, oldest first.
    amendments: Vec<RecordOut>,
    /// Its evidence files.
    files: Vec<FileOut>,
}

/// Work records in the caller's scope (an official: their own), newest fact first.
#[utoipa::path(
    get,
    path = "/api/v1/records",
    tag = "records",
    params(ListParams),
    responses(
        (status = 200, description = "Records, newest fact first", body = RecordList),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The official asked for is outside the caller's scope", body = ErrorBody),
        (status = 422, description = "A filter does not parse", body = ErrorBody),
    )
)]
pub(super) async fn list_records(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<RecordList>, ApiError> {
    let store = state.store.as_ref();
    let query = RecordQuery {
        cadre: p.cadre,
        from: p.from,
        to: p.to,
        pending: p.pending.unwrap_or(false),
        ..RecordQuery::default()
    };
    if let Some(cadre) = &query.cadre
        && caller.0.holds(Permission::ViewRecords)
    {
        cadre_for(store, &caller, Permission::ViewRecords, cadre).await?;
    }
    let query = scoped_query(store, &caller, Permission::ViewRecords, query).await?;
    let records = store.records(&query).await?;
    Ok(Json(RecordList {
        total: records.len(),
        items: records.iter().map(RecordOut::from).collect(),
    }))
}

/// A fact to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RecordIn {
    /// The official.
    #[schema(example = "C001")]
    cadre: String,
    /// Date of the fact, `YYYY-MM-DD`, not after today.
    #[schema(example = "2026-11-30")]
    date: String,
    /// `positive` or `negative` (or 正向 / 反向).
    #[schema(example = "positive")]
    kind: String,
    /// Framework id (its latest stored version is used).
    #[schema(example = "routine_quarterly")]
    framework: String,
    /// Indicator id within the framework.
    indicator: String,
    /// Points, within the indicator's range.
    #[schema(example = 2.0)]
    points: f64,
    /// Where it was seen: `field_visit`, `concrete_case`, `public_opinion`, `superior`,
    /// `attendance`, `other` (or the Chinese labels).
    #[schema(example = "field_visit")]
    source: String,
    /// What happened.
    description: String,
}

impl RecordIn {
    fn fields(&self) -> RecordFields {
        RecordFields {
            cadre: self.cadre.clone(),
            date: self.date.clone(),
            indicator: format!("{}/{}", self.framework, self.indicator),
            kind: self.kind.clone(),
            points: self.points.to_string(),
            source: self.source.clone(),
            description: self.description.clone(),
            reason: String::new(),
        }
    }
}

/// The number of a stored record with the record.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CreatedOut {
    /// The record.
    record: RecordOut,
    /// Its evidence files.
    files: Vec<FileOut>,
}

async fn store_one(
    state: &AppState,
    caller: &Caller,
    input: RecordInput,
) -> Result<(StatusCode, Json<CreatedOut>), ApiError> {
    let store = state.store.as_ref();
    cadre_for(store, caller, Permission::RecordFacts, &input.cadre).await?;
    let actor = caller.0.username().unwrap_or_default();
    let ids = work::add(
        store,
        &state.evidence,
        vec![input],
        &[],
        state.today(),
        actor,
    )
    .await?;
    let id = ids
        .first()
        .copied()
        .ok_or_else(|| ApiError::not_found("record", ""))?;
    created(store, id).await
}

async fn created(store: &dyn Store, id: i64) -> Result<(StatusCode, Json<CreatedOut>), ApiError> {
    let record = work::record_of(store, id).await?;
    let files = store.record_files(id).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedOut {
            record: RecordOut::from(&record),
            files: files.iter().map(|f| FileOut::new(id, f)).collect(),
        }),
    ))
}

/// Records a fact of an official in scope, without evidence (for evidence files, the
/// multipart route `/api/v1/records/upload`). It awaits verification by another assessor.
#[utoipa::path(
    post,
    path = "/api/v1/records",
    tag = "records",
    request_body = RecordIn,
    responses(
        (status = 201, description = "Recorded, awaiting verification", body = CreatedOut),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The official is outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such official", body = ErrorBody),
        (status = 422, description = "A field is refused; `field` names it", body = ErrorBody),
    )
)]
pub(super) async fn create_record(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<(StatusCode, Json<CreatedOut>), ApiError> {
    let body: RecordIn = parse_body(&body)?;
    let input = body.fields().input(Vec::new())?;
    store_one(&state, &caller, input).await
}

/// Records a fact with evidence files, as `multipart/form-data`: the text fields of
/// [`RecordIn`] (`cadre`, `date`, `kind`, `points`, `source`, `description`, and `indicator`
/// as `framework/indicator`) and any number of `files` parts (PDF, PNG, JPEG, DOCX or XLSX by
/// content, each within the upload limit).
#[utoipa::path(
    post,
    path = "/api/v1/records/upload",
    tag = "records",
    request_body(content_type = "multipart/form-data", description = "Fields cadre, date, indicator (framework/indicator), kind, points, source, description; files parts"),
    responses(
        (status = 201, description = "Recorded with its evidence, awaiting verification", body = CreatedOut),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The official is outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such official", body = ErrorBody),
        (status = 422, description = "A field or file is refused; `field` names it", body = ErrorBody),
    )
)]
pub(super) async fn upload_record(
    State(state): State<AppState>,
    caller: Caller,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<CreatedOut>), ApiError> {
    let (fields, files, problem) = read_multipart(&state, multipart).await;
    if let Some(p) = problem {
        return Err(p.into());
    }
    let input = fields.input(files)?;
    store_one(&state, &caller, input).await
}

/// A record with its history (the record it corrects, its amendments) and its evidence.
#[utoipa::path(
    get,
    path = "/api/v1/records/{id}",
    tag = "records",
    params(("id" = i64, Path, description = "Record number")),
    responses(
        (status = 200, description = "The record", body = RecordDetailOut),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The official is outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such record", body = ErrorBody),
    )
)]
pub(super) async fn get_record(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RecordDetailOut>, ApiError> {
    let store = state.store.as_ref();
    let record = readable(store, &caller, &id).await?;
    detail(store, &record).await.map(Json)
}

async fn detail(store: &dyn Store, record: &Record) -> Result<RecordDetailOut, ApiError> {
    let corrects = match record.amends {
        Some(a) => store.record(a).await?.as_ref().map(RecordOut::from),
        None => None,
    };
    let amendments = store.amendments_of(record.id).await?;
    let files = store.record_files(record.id).await?;
    Ok(RecordDetailOut {
        record: RecordOut::from(record),
        corrects,
        amendments: amendments.iter().map(RecordOut::from).collect(),
        files: files.iter().map(|f| FileOut::new(record.id, f)).collect(),
    })
}

/// A review.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReviewIn {
    /// `verified` or `rejected` (or 已核实 / 已驳回).
    #[schema(example = "verified")]
    verdict: String,
    /// Why; required for a rejection.
    #[serde(default)]
    reason: String,
}

/// Verifies or rejects a record of an official in scope, once, never by whoever recorded it
/// (four eyes: 422 `four_eyes`); a rejection needs a reason.
#[utoipa::path(
    post,
    path = "/api/v1/records/{id}/review",
    tag = "records",
    params(("id" = i64, Path, description = "Record number")),
    request_body = ReviewIn,
    responses(
        (status = 200, description = "Reviewed", body = RecordDetailOut),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The official is outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such record", body = ErrorBody),
        (status = 409, description = "Reviewed already (`already_reviewed`)", body = ErrorBody),
        (status = 422, description = "A field is refused, or the caller recorded it (`four_eyes`)", body = ErrorBody),
    )
)]
pub(super) async fn review_record(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<RecordDetailOut>, ApiError> {
    let store = state.store.as_ref();
    let record = record_for(store, &caller, Permission::VerifyRecords, &id).await?;
    let body: ReviewIn = parse_body(&body)?;
    let verdict = Verdict::parse_label(body.verdict.trim())
        .map_err(|e| ApiError::invalid_field("verdict", e.to_string()))?;
    let actor = caller.0.username().unwrap_or_default();
    work::review(store, record.id, verdict, &body.reason, actor).await?;
    let record = work::record_of(store, record.id).await?;
    detail(store, &record).await.map(Json)
}

/// An amendment: the corrected fact and why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AmendIn {
    /// Date of the fact, `YYYY-MM-DD`.
    date: String,
    /// `positive` or `negative`.
    kind: String,
    /// Framework id.
    framework: String,
    /// Indicator id.
    indicator: String,
    /// Points.
    points: f64,
    /// Where it was seen.
    source: String,
    /// What happened.
    description: String,
    /// Why the record is corrected (required).
    reason: String,
}

/// Corrects a record by an amendment: a new record of the same official naming it, with a
/// reason; it awaits verification, and once verified counts instead of the one it corrects.
#[utoipa::path(
    post,
    path = "/api/v1/records/{id}/amend",
    tag = "records",
    params(("id" = i64, Path, description = "Record number")),
    request_body = AmendIn,
    responses(
        (status = 201, description = "The amendment, awaiting verification", body = CreatedOut),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The official is outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such record", body = ErrorBody),
        (status = 409, description = "The record cannot be corrected now", body = ErrorBody),
        (status = 422, description = "A field is refused; `field` names it", body = ErrorBody),
    )
)]
pub(super) async fn amend_record(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<CreatedOut>), ApiError> {
    let store = state.store.as_ref();
    let record = record_for(store, &caller, Permission::RecordFacts, &id).await?;
    let body: AmendIn = parse_body(&body)?;
    let fields = RecordFields {
        cadre: record.cadre.to_string(),
        date: body.date,
        indicator: format!("{}/{}", body.framework, body.indicator),
        kind: body.kind,
        points: body.points.to_string(),
        source: body.source,
        description: body.description,
        reason: String::new(),
    };
    let input = fields.input(Vec::new())?;
    let actor = caller.0.username().unwrap_or_default();
    let new = work::amend(
        store,
        &state.evidence,
        record.id,
        input,
        &body.reason,
        state.today(),
        actor,
    )
    .await?;
    created(store, new).await
}

/// An evidence file of a record, its hash checked, as an attachment (`Content-Disposition:
/// attachment`, `X-Content-Type-Options: nosniff`, `Cache-Control: no-store`).
#[utoipa::path(
    get,
    path = "/api/v1/records/{id}/files/{file}",
    tag = "records",
    params(
        ("id" = i64, Path, description = "Record number"),
        ("file" = i64, Path, description = "File number"),
    ),
    responses(
        (status = 200, description = "The file's content", content_type = "application/octet-stream"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The official is outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such record or file", body = ErrorBody),
        (status = 409, description = "The file no longer matches its hash (`evidence_changed`)", body = ErrorBody),
    )
)]
pub(super) async fn record_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    evidence_response(&state, &caller, &id, &file).await
}
