//! The indicator frameworks (考核指标体系): the stored versions and the built-in presets, each
//! version's dimensions and indicators with their effective weights, directions and
//! normalization methods in words, and the upload of a new version (a TOML file).

use super::pages_cycle::{actor, presets_for, problems, see_other};
use super::pages_values::Posted;
use super::pages_words::{self as words, local_time};
use crate::shell::AppState;
use crate::shell::access::Caller;
use crate::shell::error::ApiError;
use crate::shell::i18n::Lang;
use crate::shell::page::{Link, PageCtx, PageResult, render};
use crate::shell::params::{QueryParams, encode_component};
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, Uri};
use kaohe_engine::Framework;
use kaohe_store::StoreError;
use kaohe_store::cycles::work::{self, CycleRunError};
use std::collections::BTreeMap;

#[derive(Debug)]
struct PresetRow {
    link: Link,
    name: &'static str,
    dimensions: usize,
    indicators: usize,
}

#[derive(Debug)]
struct StoredRow {
    link: Link,
    id: String,
    version: String,
    origin: &'static str,
    stored: String,
    cycles: i64,
}

#[derive(Template)]
#[template(path = "cycles/frameworks.html")]
struct FrameworksPage {
    ctx: PageCtx,
    stored: Vec<StoredRow>,
    rows: Vec<PresetRow>,
    may_upload: bool,
    problems: Vec<String>,
}

/// `GET /frameworks`: the stored versions and the built-in presets; for an assessor the
/// upload form (the presets are stored on an assessor's first visit).
pub(super) async fn frameworks(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
) -> PageResult {
    list(&state, ctx, &caller, Vec::new(), StatusCode::OK).await
}

async fn list(
    state: &AppState,
    ctx: PageCtx,
    caller: &Caller,
    problems: Vec<String>,
    status: StatusCode,
) -> PageResult {
    let store = state.store.as_ref();
    let may_upload = presets_for(store, &ctx, caller).await?;
    let stored = store
        .frameworks()
        .await
        .map_err(|e| ctx.fail(e))?
        .into_iter()
        .map(|f| StoredRow {
            link: Link {
                href: format!(
                    "/frameworks/{}/{}",
                    encode_component(&f.id),
                    encode_component(&f.version)
                ),
                text: f.name,
            },
            origin: if f.origin == "preset" {
                ctx.t("frameworks.origin_preset")
            } else {
                ctx.t("frameworks.origin_upload")
            },
            stored: format!(
                "{} · {}",
                local_time(state.utc_offset, f.created_at),
                f.created_by
            ),
            id: f.id,
            version: f.version,
            cycles: f.cycles,
        })
        .collect();
    let mut rows = Vec::new();
    for preset in kaohe_engine::presets::all() {
        let framework = preset.framework().map_err(|e| ctx.fail(e))?;
        rows.push(PresetRow {
            link: Link {
                href: format!("/frameworks/{}", preset.name),
                text: if ctx.lang() == Lang::En {
                    preset.title_en
                } else {
                    preset.title_zh
                }
                .to_owned(),
            },
            name: preset.name,
            dimensions: framework.dimensions().len(),
            indicators: framework.indicators().len(),
        });
    }
    Ok(render(
        status,
        &FrameworksPage {
            ctx,
            stored,
            rows,
            may_upload,
            problems,
        },
    ))
}

/// `POST /frameworks` (multipart, field `file`): stores a framework version from a TOML file;
/// every problem of the file is listed at once, and a changed file under a stored version is
/// refused.
pub(super) async fn upload(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    form: Result<Multipart, MultipartRejection>,
) -> PageResult {
    let (file_name, source) = match Posted::read(form).await.map(|p| p.file) {
        Err(e) => return refuse(&state, ctx, &caller, vec![e]).await,
        Ok(None) => {
            let problem = ctx.t("frameworks.no_file").to_owned();
            return refuse(&state, ctx, &caller, vec![problem]).await;
        }
        Ok(Some((file_name, bytes))) => match String::from_utf8(bytes) {
            Ok(source) => (file_name, source),
            Err(_) => {
                let problem = ctx.tf("frameworks.not_text", &[("file", &file_name)]);
                return refuse(&state, ctx, &caller, vec![problem]).await;
            }
        },
    };
    match work::save_framework(state.store.as_ref(), &source, "upload", &actor(&caller)).await {
        Ok((fw, stored)) => Ok(see_other(&format!(
            "/frameworks/{}/{}?stored={}",
            encode_component(fw.id()),
            encode_component(fw.version()),
            if stored { "new" } else { "same" }
        ))),
        Err(CycleRunError::Store(StoreError::Conflict(reason))) => {
            let listed = vec![ctx.t("frameworks.changed").to_owned(), reason];
            refuse(&state, ctx, &caller, listed).await
        }
        Err(e @ CycleRunError::Store(_)) => {
            tracing::error!(error = %e, "storing a framework failed");
            Err(ctx.fail(ApiError::Unavailable))
        }
        Err(e) => {
            let mut listed = vec![ctx.tf("frameworks.invalid", &[("file", &file_name)])];
            listed.extend(problems(&ctx, &e));
            refuse(&state, ctx, &caller, listed).await
        }
    }
}

/// The list again with the problems of an upload (422).
async fn refuse(
    state: &AppState,
    ctx: PageCtx,
    caller: &Caller,
    problems: Vec<String>,
) -> PageResult {
    list(
        state,
        ctx,
        caller,
        problems,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// Width of the weight bars, in SVG user units, for the largest weight.
const WEIGHT_BAR: f64 = 120.0;

#[derive(Debug)]
struct IndicatorRow {
    dimension: String,
    name: String,
    id: String,
    unit: String,
    direction: &'static str,
    method: &'static str,
    missing: &'static str,
    veto: bool,
    /// Whether a value flags the person for the committee (研判).
    review: bool,
    /// Effective weight, as a percentage with one decimal.
    weight: String,
    /// Length of the weight's bar.
    bar: String,
}

#[derive(Template)]
#[template(path = "cycles/framework.html")]
struct FrameworkPage {
    ctx: PageCtx,
    title: String,
    name: String,
    version: String,
    description: Option<String>,
    sources: Vec<String>,
    rows: Vec<IndicatorRow>,
    source: String,
    /// Where a stored version came from, when and by whom.
    stored: Option<String>,
    notice: Option<&'static str>,
}

/// A framework's page: its indicators with direction, method, missing-value rule and
/// effective weight, in words.
fn framework_page(
    ctx: PageCtx,
    framework: &Framework,
    title: String,
    source: String,
    stored: Option<String>,
    notice: Option<&'static str>,
) -> PageResult {
    let weights: BTreeMap<String, f64> = framework.effective_weights().into_iter().collect();
    let largest = weights.values().copied().fold(f64::EPSILON, f64::max);
    let en = ctx.lang() == Lang::En;
    let pick = |zh: &str, en_name: Option<&str>| match en_name {
        Some(e) if en => e.to_owned(),
        _ => zh.to_owned(),
    };
    let rows = framework
        .indicators()
        .iter()
        .map(|i| {
            let weight = weights.get(&i.id).copied().unwrap_or_default();
            let dimension = &framework.dimensions()[i.dimension];
            IndicatorRow {
                dimension: pick(&dimension.name, dimension.name_en.as_deref()),
                name: pick(&i.name, i.name_en.as_deref()),
                id: i.id.clone(),
                unit: i.unit.clone(),
                direction: match i.direction {
                    kaohe_engine::Direction::Positive => ctx.t("framework.positive"),
                    kaohe_engine::Direction::Negative => ctx.t("framework.negative"),
                },
                method: words::method(&ctx, i.normalization.method()),
                missing: words::missing_rule(&ctx, Some(i.missing)),
                veto: i.veto.is_some(),
                review: i.review.is_some(),
                weight: format!("{:.1}", weight * 100.0),
                bar: format!("{:.1}", weight / largest * WEIGHT_BAR),
            }
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &FrameworkPage {
            title,
            name: framework.id().to_owned(),
            version: framework.version().to_owned(),
            description: framework.description().map(str::to_owned),
            sources: framework.sources().to_vec(),
            rows,
            source,
            stored,
            notice,
            ctx,
        },
    ))
}

/// `GET /frameworks/{name}`: a built-in preset.
pub(super) async fn framework(ctx: PageCtx, Path(name): Path<String>) -> PageResult {
    let Some(preset) = kaohe_engine::presets::get(&name) else {
        return Err(ctx.fail(ApiError::not_found("framework", name)));
    };
    let framework = preset.framework().map_err(|e| ctx.fail(e))?;
    let title = if ctx.lang() == Lang::En {
        preset.title_en
    } else {
        preset.title_zh
    }
    .to_owned();
    framework_page(ctx, &framework, title, preset.source.to_owned(), None, None)
}

/// `GET /frameworks/{id}/{version}`: a stored framework version.
pub(super) async fn version(
    ctx: PageCtx,
    uri: Uri,
    State(state): State<AppState>,
    Path((id, version)): Path<(String, String)>,
) -> PageResult {
    let stored = state
        .store
        .framework(&id, &version)
        .await
        .map_err(|e| ctx.fail(e))?
        .ok_or_else(|| ctx.fail(ApiError::not_found("framework", format!("{id} {version}"))))?;
    let framework = work::parse_framework(&stored.source).map_err(|e| {
        ctx.fail(ApiError::Refused {
            code: "framework_unusable",
            reason: e.to_string(),
        })
    })?;
    let notice = match QueryParams::from_uri(&uri).raw("stored") {
        Some("new") => Some(ctx.t("frameworks.stored_new")),
        Some("same") => Some(ctx.t("frameworks.stored_same")),
        _ => None,
    };
    let origin = if stored.origin == "preset" {
        ctx.t("frameworks.origin_preset")
    } else {
        ctx.t("frameworks.origin_upload")
    };
    let facts = ctx.tf(
        "frameworks.stored_facts",
        &[
            ("origin", &origin),
            ("at", &local_time(state.utc_offset, stored.created_at)),
            ("by", &stored.created_by),
            ("cycles", &stored.cycles),
        ],
    );
    let title = match framework.name_en() {
        Some(e) if ctx.lang() == Lang::En => e.to_owned(),
        _ => framework.name().to_owned(),
    };
    framework_page(ctx, &framework, title, stored.source, Some(facts), notice)
}
