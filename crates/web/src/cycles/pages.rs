//! The indicator frameworks (考核指标体系) of the scoring engine's built-in presets: the list,
//! and each preset's dimensions and indicators with their effective weights.

use crate::shell::error::ApiError;
use crate::shell::i18n::Lang;
use crate::shell::page::{Link, PageCtx, PageResult, render};
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use std::collections::BTreeMap;

#[derive(Debug)]
struct PresetRow {
    link: Link,
    name: &'static str,
    dimensions: usize,
    indicators: usize,
}

#[derive(Template)]
#[template(path = "cycles/frameworks.html")]
struct FrameworksPage {
    ctx: PageCtx,
    rows: Vec<PresetRow>,
}

/// `GET /frameworks`: the built-in presets.
pub(super) async fn frameworks(ctx: PageCtx) -> PageResult {
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
    Ok(render(StatusCode::OK, &FrameworksPage { ctx, rows }))
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
    veto: bool,
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
    name: &'static str,
    version: String,
    description: Option<String>,
    sources: Vec<String>,
    rows: Vec<IndicatorRow>,
    source: &'static str,
}

/// `GET /frameworks/{name}`: a preset's indicators with their effective weights.
pub(super) async fn framework(ctx: PageCtx, Path(name): Path<String>) -> PageResult {
    let Some(preset) = kaohe_engine::presets::get(&name) else {
        return Err(ctx.fail(ApiError::not_found("framework", name)));
    };
    let framework = preset.framework().map_err(|e| ctx.fail(e))?;
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
                method: i.normalization.method(),
                veto: i.veto.is_some(),
                weight: format!("{:.1}", weight * 100.0),
                bar: format!("{:.1}", weight / largest * WEIGHT_BAR),
            }
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &FrameworkPage {
            title: if en { preset.title_en } else { preset.title_zh }.to_owned(),
            name: preset.name,
            version: framework.version().to_owned(),
            description: framework.description().map(str::to_owned),
            sources: framework.sources().to_vec(),
            rows,
            source: preset.source,
            ctx,
        },
    ))
}
