//! Files of a cycle: the upload of a values file (CSV or XLSX, multipart), the pre-filled
//! template to fill in, the amendment of a final cycle with its optional corrected values,
//! and the table files the results page exports.

use super::pages_cycle::{actor, dashboard, load_cycle, refused, see_other};
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission};
use crate::shell::download::table_file;
use crate::shell::error::ApiError;
use crate::shell::page::{PageCtx, PageError, PageResult};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use kaohe_data::WideCell;
use kaohe_domain::cycles::ValueTable;
use kaohe_store::cycles::Cycle;
use kaohe_store::cycles::work;

/// A posted multipart form: its text fields and its one file (`file`), if any.
#[derive(Debug, Default)]
pub(super) struct Posted {
    fields: Vec<(String, String)>,
    /// The file's own name and its bytes.
    pub(super) file: Option<(String, Vec<u8>)>,
}

impl Posted {
    /// Reads a multipart form; an empty file input counts as no file.
    pub(super) async fn read(form: Result<Multipart, MultipartRejection>) -> Result<Self, String> {
        let mut form = form.map_err(|e| format!("form: {e}"))?;
        let mut posted = Posted::default();
        while let Some(field) = form.next_field().await.map_err(|e| format!("form: {e}"))? {
            let name = field.name().unwrap_or_default().to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let bytes = field.bytes().await.map_err(|e| format!("{name}: {e}"))?;
            match file_name {
                Some(f) if name == "file" => {
                    if !(f.is_empty() && bytes.is_empty()) {
                        posted.file = Some((f, bytes.to_vec()));
                    }
                }
                _ => posted
                    .fields
                    .push((name, String::from_utf8_lossy(&bytes).trim().to_owned())),
            }
        }
        Ok(posted)
    }

    /// The text field `name`, empty when absent.
    pub(super) fn field(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// The extension of a file name, lower case, when it is one a table file may have.
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

/// Reads an uploaded values file for `cycle` through a temporary file; every problem of the
/// file is listed, one per entry.
async fn read_values(
    state: &AppState,
    ctx: &PageCtx,
    cycle: &Cycle,
    file_name: String,
    bytes: Vec<u8>,
) -> Result<Result<ValueTable, Vec<String>>, PageError> {
    let Some(suffix) = table_suffix(&file_name) else {
        return Ok(Err(vec![
            ctx.tf("values.bad_type", &[("file", &file_name)]),
        ]));
    };
    let fw = super::pages_cycle::framework_of(state, ctx, cycle).await?;
    let cycle = cycle.clone();
    let read = tokio::task::spawn_blocking(move || {
        let mut tmp = tempfile::Builder::new().suffix(suffix).tempfile()?;
        std::io::Write::write_all(&mut tmp, &bytes)?;
        Ok::<_, std::io::Error>(kaohe_data::read_value_table(tmp.path(), &file_name, |h| {
            work::column_named(&cycle, &fw, h)
        }))
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "reading a values file stopped");
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

/// The dashboard with the problems of an upload (422).
async fn upload_refused(
    state: &AppState,
    ctx: PageCtx,
    caller: &Caller,
    cycle: Cycle,
    problems: Vec<String>,
) -> PageResult {
    dashboard(
        state,
        ctx,
        caller,
        cycle,
        None,
        problems,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// `POST /cycles/{id}/values` (multipart, field `file`): imports a values file, all or
/// nothing.
pub(super) async fn upload_values(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> PageResult {
    let cycle = load_cycle(&state, &ctx, &caller, &id, Permission::ManageCycles).await?;
    let posted = match Posted::read(form).await {
        Ok(p) => p,
        Err(e) => return upload_refused(&state, ctx, &caller, cycle, vec![e]).await,
    };
    let Some((file_name, bytes)) = posted.file else {
        let problem = ctx.t("values.no_file").to_owned();
        return upload_refused(&state, ctx, &caller, cycle, vec![problem]).await;
    };
    let table = match read_values(&state, &ctx, &cycle, file_name, bytes).await? {
        Ok(t) => t,
        Err(problems) => return upload_refused(&state, ctx, &caller, cycle, problems).await,
    };
    match work::import_values(state.store.as_ref(), cycle.id, &table, &actor(&caller)).await {
        Ok(_) => Ok(see_other(&format!(
            "/cycles/{}?done=import_values",
            cycle.id
        ))),
        Err(e) => refused(&state, ctx, &caller, cycle.id, &e).await,
    }
}

/// `POST /cycles/{id}/amend` (multipart: `reason`, optional `file`): corrects a final cycle
/// by amendment; on to the amendment's revision, with the people it changed.
pub(super) async fn amend(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> PageResult {
    let cycle = load_cycle(&state, &ctx, &caller, &id, Permission::AmendResults).await?;
    let posted = match Posted::read(form).await {
        Ok(p) => p,
        Err(e) => return upload_refused(&state, ctx, &caller, cycle, vec![e]).await,
    };
    let reason = posted.field("reason").to_owned();
    let table = match posted.file {
        Some((file_name, bytes)) => {
            match read_values(&state, &ctx, &cycle, file_name, bytes).await? {
                Ok(t) => Some(t),
                Err(problems) => {
                    return upload_refused(&state, ctx, &caller, cycle, problems).await;
                }
            }
        }
        None => None,
    };
    match work::amend(
        state.store.as_ref(),
        cycle.id,
        table.as_ref(),
        &reason,
        &state.cycles,
        &actor(&caller),
    )
    .await
    {
        Ok(a) => Ok(see_other(&format!(
            "/cycles/{}/revisions/{}",
            cycle.id, a.revision
        ))),
        Err(e) => refused(&state, ctx, &caller, cycle.id, &e).await,
    }
}

/// The template of a cycle: person_id, 姓名, unit_id, 单位名称, one empty column per value
/// column of the framework, one row per person.
async fn template(
    state: AppState,
    ctx: PageCtx,
    caller: Caller,
    id: String,
    suffix: &'static str,
) -> PageResult {
    let cycle = load_cycle(&state, &ctx, &caller, &id, Permission::ManageCycles).await?;
    let people = state
        .store
        .cycle_people(cycle.id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let mut header: Vec<String> = ["person_id", "姓名", "unit_id", "单位名称"]
        .map(str::to_owned)
        .to_vec();
    header.extend(cycle.columns.iter().cloned());
    let rows = people
        .into_iter()
        .map(|p| {
            let mut row = vec![
                WideCell::Text(p.cadre.to_string()),
                WideCell::Text(p.name),
                WideCell::Text(p.unit.to_string()),
                WideCell::Text(p.unit_name),
            ];
            row.extend(cycle.columns.iter().map(|_| WideCell::Empty));
            row
        })
        .collect();
    let name = format!("{}-{}", cycle.name, ctx.t("values.template_name"));
    table_file(&ctx, "cycle", name, suffix, header, rows).await
}

/// `GET /cycles/{id}/template.xlsx`.
pub(super) async fn template_xlsx(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    template(state, ctx, caller, id, ".xlsx").await
}

/// `GET /cycles/{id}/template.csv`.
pub(super) async fn template_csv(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    template(state, ctx, caller, id, ".csv").await
}
