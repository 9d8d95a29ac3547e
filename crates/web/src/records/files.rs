//! Records as files: the import of facts from a CSV or XLSX file (all or nothing, every refused
//! cell named by row and column) and the export of the records in scope as CSV or XLSX, with
//! Chinese headers and labels (English with `lang=en`). Files are read and written by
//! `kaohe_data` (`read_wide`, `write_wide`: encodings, formula guards).

use super::data::{
    FieldError, Frameworks, ListParams, RecordFields, cadre_for, field_error, scoped_query,
};
use super::view::{indicator_name, points_text};
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission};
use crate::shell::download::table_file;
use crate::shell::error::ApiError;
use crate::shell::page::{PageCtx, PageError, PageResult, location, render};
use crate::shell::params::QueryParams;
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::header::LOCATION;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use kaohe_data::{WideCell, WideTable};
use kaohe_store::records::RecordQuery;
use kaohe_store::records::work::{self, RecordInput, RecordWorkError};

/// The columns of a records file: key, Chinese header, English header.
const COLUMNS: &[(&str, &str, &str)] = &[
    ("cadre", "干部编号", "cadre"),
    ("date", "日期", "date"),
    ("kind", "类别", "kind"),
    ("framework", "指标体系", "framework"),
    ("indicator", "指标", "indicator"),
    ("points", "分值", "points"),
    ("source", "来源", "source"),
    ("description", "事实描述", "description"),
];

/// The header of column `key` in the page's language.
fn header_of(ctx: &PageCtx, key: &str) -> String {
    COLUMNS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, zh, en)| if ctx.lang().code() == "en" { *en } else { *zh })
        .unwrap_or(key)
        .to_owned()
}

#[derive(Template)]
#[template(path = "records/import.html")]
struct ImportPage {
    ctx: PageCtx,
    /// The columns: Chinese and English header.
    columns: Vec<(&'static str, &'static str)>,
    problems: Vec<String>,
    /// How many records the last import stored.
    imported: Option<usize>,
}

fn import_page(ctx: PageCtx, problems: Vec<String>) -> Response {
    import_page_with(ctx, problems, None)
}

fn import_page_with(ctx: PageCtx, problems: Vec<String>, imported: Option<usize>) -> Response {
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ImportPage {
        ctx,
        columns: COLUMNS.iter().map(|(_, zh, en)| (*zh, *en)).collect(),
        problems,
        imported,
    };
    render(status, &page)
}

/// `GET /records/import`: the form of the import and the columns of the file.
pub(super) async fn import_form(ctx: PageCtx, uri: Uri) -> PageResult {
    let query = QueryParams::from_uri(&uri);
    let imported = query
        .get::<u32>("imported")
        .ok()
        .flatten()
        .map(|n| n as usize);
    Ok(import_page_with(ctx, Vec::new(), imported))
}

/// The extension of an uploaded table, when it is one a records file may have.
fn table_suffix(file_name: &str) -> Option<&'static str> {
    let lower = file_name.to_lowercase();
    if lower.ends_with(".csv") {
        Some(".csv")
    } else if lower.ends_with(".xlsx") {
        Some(".xlsx")
    } else {
        None
    }
}

/// Reads an uploaded table through a temporary file.
async fn read_table(
    ctx: &PageCtx,
    suffix: &'static str,
    bytes: Vec<u8>,
) -> Result<Result<WideTable, Vec<String>>, PageError> {
    let read = tokio::task::spawn_blocking(move || {
        let mut tmp = tempfile::Builder::new().suffix(suffix).tempfile()?;
        std::io::Write::write_all(&mut tmp, &bytes)?;
        Ok::<_, std::io::Error>(kaohe_data::read_wide(tmp.path()))
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "reading a records file stopped");
        ctx.fail(ApiError::Unavailable)
    })?
    .map_err(|e| {
        tracing::error!(error = %e, "cannot write a temporary file");
        ctx.fail(ApiError::Unavailable)
    })?;
    Ok(read.map_err(|e| {
        e.to_string()
            .lines()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect()
    }))
}

/// A refused cell in words: row, column, why.
fn cell_text(ctx: &PageCtx, row: usize, column: &str, why: &str) -> String {
    ctx.tf(
        "rec.import.problem",
        &[("row", &row), ("column", &column), ("why", &why)],
    )
}

/// Why a field is refused, in the page's language.
fn why(ctx: &PageCtx, e: &FieldError) -> String {
    match e.key {
        Some(key) => ctx.t(key).to_owned(),
        None => e.reason.clone(),
    }
}

/// `POST /records/import` (multipart, field `file`): records every fact of a CSV or XLSX file,
/// or none; the refused cells are listed by row and column.
pub(super) async fn import(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult {
    let mut upload: Option<(String, Vec<u8>)> = None;
    match multipart {
        Err(e) => return Ok(import_page(ctx, vec![e.to_string()])),
        Ok(mut form) => loop {
            match form.next_field().await {
                Ok(None) => break,
                Ok(Some(field)) => {
                    let is_file = field.name() == Some("file");
                    let name = field.file_name().unwrap_or_default().to_owned();
                    match field.bytes().await {
                        Ok(bytes) if is_file => upload = Some((name, bytes.to_vec())),
                        Ok(_) => {}
                        Err(e) => return Ok(import_page(ctx, vec![e.to_string()])),
                    }
                }
                Err(e) => return Ok(import_page(ctx, vec![e.to_string()])),
            }
        },
    }
    let Some((name, bytes)) = upload.filter(|(_, b)| !b.is_empty()) else {
        let text = ctx.t("rec.import.no_file").to_owned();
        return Ok(import_page(ctx, vec![text]));
    };
    let Some(suffix) = table_suffix(&name) else {
        let text = ctx.tf("rec.import.bad_type", &[("file", &name)]);
        return Ok(import_page(ctx, vec![text]));
    };
    let table = match read_table(&ctx, suffix, bytes).await? {
        Ok(t) => t,
        Err(problems) => return Ok(import_page(ctx, problems)),
    };
    let (inputs, places, mut problems) = parse_rows(&ctx, &table);
    let store = state.store.as_ref();
    for (input, place) in inputs.iter().zip(&places) {
        if let Err(e) = cadre_for(store, &caller, Permission::RecordFacts, &input.cadre).await {
            let text = match e {
                ApiError::NotFound { .. } => ctx.t("rec.err.cadre"),
                _ => ctx.t("rec.err.cadre_scope"),
            };
            problems.push(cell_text(&ctx, *place, &header_of(&ctx, "cadre"), text));
        }
    }
    if !problems.is_empty() {
        return Ok(import_page(ctx, problems));
    }
    let labels: Vec<String> = places.iter().map(usize::to_string).collect();
    let actor = caller.0.username().unwrap_or_default().to_owned();
    match work::add(
        store,
        &state.evidence,
        inputs,
        &labels,
        state.today(),
        &actor,
    )
    .await
    {
        Ok(ids) => {
            let mut r = StatusCode::SEE_OTHER.into_response();
            let to = format!("/records/import?imported={}", ids.len());
            r.headers_mut().insert(LOCATION, location(&to));
            Ok(r)
        }
        Err(RecordWorkError::At { place, source }) => {
            let row: usize = place.parse().unwrap_or_default();
            let text = match field_error(&source) {
                Some(f) => {
                    let column = header_of(&ctx, column_of(f.field));
                    cell_text(&ctx, row, &column, &why(&ctx, &f))
                }
                None => source.to_string(),
            };
            Ok(import_page(ctx, vec![text]))
        }
        Err(e) => Err(ctx.fail(ApiError::from(e))),
    }
}

/// The file column of a field of a record (`indicator` covers the framework too).
fn column_of(field: &str) -> &str {
    match field {
        "files" | "reason" | "form" => "description",
        other => other,
    }
}

/// The rows of a records file as facts, each with its row number and, for `add`, its place;
/// every refused cell (the first of each row) listed.
fn parse_rows(ctx: &PageCtx, table: &WideTable) -> (Vec<RecordInput>, Vec<usize>, Vec<String>) {
    let mut problems = Vec::new();
    let index: Vec<Option<usize>> = COLUMNS
        .iter()
        .map(|(key, zh, en)| {
            table.header.iter().position(|h| {
                let h = h.trim();
                h == *zh || h.eq_ignore_ascii_case(en) || h.eq_ignore_ascii_case(key)
            })
        })
        .collect();
    for ((key, _, _), at) in COLUMNS.iter().zip(&index) {
        if at.is_none() {
            problems.push(cell_text(
                ctx,
                1,
                &header_of(ctx, key),
                ctx.t("rec.import.missing_column"),
            ));
        }
    }
    if !problems.is_empty() {
        return (Vec::new(), Vec::new(), problems);
    }
    let cell = |row: &kaohe_data::WideRow, k: usize| -> String {
        index
            .get(k)
            .copied()
            .flatten()
            .and_then(|i| row.cells.get(i))
            .cloned()
            .unwrap_or_default()
    };
    let mut inputs = Vec::new();
    let mut places = Vec::new();
    for row in &table.rows {
        let fields = RecordFields {
            cadre: cell(row, 0),
            date: cell(row, 1),
            kind: cell(row, 2),
            indicator: format!("{}/{}", cell(row, 3), cell(row, 4)),
            points: cell(row, 5),
            source: cell(row, 6),
            description: cell(row, 7),
            reason: String::new(),
        };
        match fields.input(Vec::new()) {
            Ok(input) => {
                inputs.push(input);
                places.push(row.row);
            }
            Err(e) => {
                let column = if e.field == "indicator" && cell(row, 3).is_empty() {
                    "framework"
                } else {
                    column_of(e.field)
                };
                problems.push(cell_text(
                    ctx,
                    row.row,
                    &header_of(ctx, column),
                    &why(ctx, &e),
                ));
            }
        }
    }
    if table.rows.is_empty() {
        problems.push(ctx.t("rec.import.empty").to_owned());
    }
    (inputs, places, problems)
}

/// `GET /records/export.csv?cadre=&from=&to=&pending=`: the records in scope as CSV.
pub(super) async fn export_csv(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
) -> PageResult {
    export(ctx, caller, state, &uri, ".csv").await
}

/// `GET /records/export.xlsx?cadre=&from=&to=&pending=`: the records in scope as XLSX.
pub(super) async fn export_xlsx(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    uri: Uri,
) -> PageResult {
    export(ctx, caller, state, &uri, ".xlsx").await
}

/// The records in scope, filtered like the list of the API (`cadre`, `from`, `to`,
/// `pending`), as a file.
async fn export(
    ctx: PageCtx,
    caller: Caller,
    state: AppState,
    uri: &Uri,
    suffix: &'static str,
) -> PageResult {
    let store = state.store.as_ref();
    let p: ListParams = ctx.parse(&QueryParams::from_uri(uri))?;
    if let Some(cadre) = &p.cadre {
        cadre_for(store, &caller, Permission::ViewRecords, cadre)
            .await
            .map_err(|e| ctx.fail(e))?;
    }
    let query = RecordQuery {
        cadre: p.cadre,
        from: p.from,
        to: p.to,
        pending: p.pending.unwrap_or(false),
        ..RecordQuery::default()
    };
    let query = scoped_query(store, &caller, Permission::ViewRecords, query)
        .await
        .map_err(|e| ctx.fail(e))?;
    let records = store.records(&query).await.map_err(|e| ctx.fail(e))?;
    let mut frameworks = Frameworks::default();
    frameworks
        .load(store, &records)
        .await
        .map_err(|e| ctx.fail(e))?;
    let header: Vec<String> = [
        "rec.col.id",
        "rec.col.cadre",
        "rec.col.name",
        "rec.col.unit",
        "rec.col.date",
        "rec.col.kind",
        "rec.col.framework",
        "rec.col.indicator",
        "rec.col.indicator_name",
        "rec.col.points",
        "rec.col.source",
        "rec.col.description",
        "rec.col.state",
        "rec.col.recorded_by",
        "rec.col.reviewed_by",
        "rec.col.review_reason",
        "rec.col.amends",
        "rec.col.amend_reason",
    ]
    .iter()
    .map(|k| ctx.t(k).to_owned())
    .collect();
    let text = |s: &str| WideCell::Text(s.to_owned());
    let rows: Vec<Vec<WideCell>> = records
        .iter()
        .map(|r| {
            vec![
                WideCell::Number(r.id as f64),
                text(r.cadre.as_str()),
                text(&r.cadre_name),
                text(r.unit.as_str()),
                text(&r.date.to_string()),
                text(ctx.label(r.kind)),
                text(&r.framework_id),
                text(&r.indicator),
                text(
                    &frameworks
                        .indicator(r)
                        .map(|i| indicator_name(&ctx, i))
                        .unwrap_or_default(),
                ),
                text(&points_text(r.points)),
                text(ctx.label(r.source)),
                text(&r.description),
                text(ctx.label(r.state())),
                text(&r.recorded_by),
                text(r.review.as_ref().map_or("", |v| v.by.as_str())),
                text(r.review.as_ref().map_or("", |v| v.reason.as_str())),
                r.amends
                    .map_or(WideCell::Empty, |a| WideCell::Number(a as f64)),
                text(r.reason.as_deref().unwrap_or_default()),
            ]
        })
        .collect();
    let name = ctx.t("rec.export_name").to_owned();
    table_file(&ctx, "records", name, suffix, header, rows).await
}
