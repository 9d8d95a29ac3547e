//! Records in words, in the page's language: what the timelines, the queue and a record's page
//! show of each, and the indicators a form offers.

use super::data::Frameworks;
use crate::shell::AppState;
use crate::shell::page::PageCtx;
use kaohe_domain::Labeled;
use kaohe_domain::records::{RecordKind, RecordState};
use kaohe_engine::Framework;
use kaohe_store::records::Record;
use kaohe_store::{FileInfo, Store, StoreError};

/// An evidence file as a link.
#[derive(Debug)]
pub(super) struct FileLink {
    pub(super) href: String,
    pub(super) name: String,
    /// Kind and size.
    pub(super) meta: String,
}

/// A record in words.
#[derive(Debug)]
pub(super) struct RecordView {
    pub(super) id: i64,
    pub(super) href: String,
    pub(super) cadre: String,
    pub(super) date: String,
    pub(super) kind: &'static str,
    pub(super) negative: bool,
    pub(super) indicator: String,
    pub(super) framework: String,
    /// Signed: `+2` for a positive record, `−2` for a negative one.
    pub(super) points: String,
    pub(super) source: &'static str,
    pub(super) description: String,
    pub(super) state: &'static str,
    pub(super) state_code: &'static str,
    /// Who recorded it and when.
    pub(super) recorded: String,
    /// Whether the signed-in account recorded it.
    pub(super) mine: bool,
    /// The review in words: verdict, who, when, reason.
    pub(super) review: Option<String>,
    /// For an amendment: the record it corrects (link, text) and why.
    pub(super) amends: Option<(String, String)>,
    /// The verified amendment that corrects it (link, text).
    pub(super) corrected_by: Option<(String, String)>,
    pub(super) files: Vec<FileLink>,
}

/// Points as a number without a needless fraction.
pub(super) fn points_text(points: f64) -> String {
    if points.fract() == 0.0 && points.abs() < 1e12 {
        format!("{points:.0}")
    } else {
        format!("{points}")
    }
}

/// The name of an indicator in the page's language.
pub(super) fn indicator_name(ctx: &PageCtx, ind: &kaohe_engine::framework::Indicator) -> String {
    match (ctx.lang().code(), &ind.name_en) {
        ("en", Some(en)) => en.clone(),
        _ => ind.name.clone(),
    }
}

/// The name of a framework in the page's language.
pub(super) fn framework_name(ctx: &PageCtx, fw: &Framework) -> String {
    match (ctx.lang().code(), fw.name_en()) {
        ("en", Some(en)) => en.to_owned(),
        _ => fw.name().to_owned(),
    }
}

/// Records in words, with their evidence files listed.
pub(super) async fn views(
    state: &AppState,
    ctx: &PageCtx,
    records: &[Record],
) -> Result<Vec<RecordView>, StoreError> {
    let store: &dyn Store = state.store.as_ref();
    let mut frameworks = Frameworks::default();
    frameworks.load(store, records).await?;
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let files = if r.files > 0 {
            store.record_files(r.id).await?
        } else {
            Vec::new()
        };
        out.push(view(state, ctx, &frameworks, r, &files));
    }
    Ok(out)
}

fn view(
    state: &AppState,
    ctx: &PageCtx,
    frameworks: &Frameworks,
    r: &Record,
    files: &[FileInfo],
) -> RecordView {
    let local = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t)
            .map(|t| {
                let t = t.to_offset(state.utc_offset);
                format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
            })
            .unwrap_or_default()
    };
    let negative = r.kind == RecordKind::Negative;
    let sign = if negative { "−" } else { "+" };
    let st: RecordState = r.state();
    RecordView {
        id: r.id,
        href: format!("/records/{}", r.id),
        cadre: ctx.tf(
            "rec.cadre_name",
            &[("name", &r.cadre_name), ("id", &r.cadre)],
        ),
        date: r.date.to_string(),
        kind: ctx.label(r.kind),
        negative,
        indicator: frameworks
            .indicator(r)
            .map(|i| indicator_name(ctx, i))
            .unwrap_or_else(|| r.indicator.clone()),
        framework: frameworks
            .of(r)
            .map(|f| framework_name(ctx, f))
            .unwrap_or_else(|| r.framework_id.clone()),
        points: format!("{sign}{}", points_text(r.points)),
        source: ctx.label(r.source),
        description: r.description.clone(),
        state: ctx.label(st),
        state_code: st.code(),
        recorded: ctx.tf(
            "rec.recorded_by",
            &[("who", &r.recorded_by), ("at", &local(r.recorded_at))],
        ),
        mine: ctx.user() == Some(r.recorded_by.as_str()),
        review: r.review.as_ref().map(|v| {
            let mut text = ctx.tf(
                "rec.reviewed_by",
                &[
                    ("verdict", &ctx.label(v.verdict)),
                    ("who", &v.by),
                    ("at", &local(v.at)),
                ],
            );
            if !v.reason.is_empty() {
                text.push_str(ctx.t("rec.colon"));
                text.push_str(&v.reason);
            }
            text
        }),
        amends: r.amends.map(|a| {
            (
                format!("/records/{a}"),
                ctx.tf(
                    "rec.amends",
                    &[
                        ("id", &a),
                        ("reason", &r.reason.clone().unwrap_or_default()),
                    ],
                ),
            )
        }),
        corrected_by: r.corrected_by.map(|c| {
            (
                format!("/records/{c}"),
                ctx.tf("rec.corrected_by", &[("id", &c)]),
            )
        }),
        files: files
            .iter()
            .map(|f| FileLink {
                href: format!("/records/{}/files/{}", r.id, f.id),
                name: f.name.clone(),
                meta: format!(
                    "{} · {} KB",
                    f.kind.code().to_uppercase(),
                    f.size.div_ceil(1024)
                ),
            })
            .collect(),
    }
}

/// An option of the indicator select.
#[derive(Debug)]
pub(super) struct IndicatorOption {
    /// `framework/indicator`.
    pub(super) value: String,
    pub(super) label: String,
    pub(super) selected: bool,
}

/// The indicators records can fill, grouped by framework, with their points range and kinds.
pub(super) fn indicator_groups(
    ctx: &PageCtx,
    recordable: &[(String, Framework)],
    selected: &str,
) -> Vec<(String, Vec<IndicatorOption>)> {
    recordable
        .iter()
        .map(|(version, fw)| {
            let options = fw
                .indicators()
                .iter()
                .filter_map(|i| i.records.as_ref().map(|rule| (i, rule)))
                .map(|(i, rule)| {
                    let value = format!("{}/{}", fw.id(), i.id);
                    let kinds: Vec<&str> = rule.kinds.iter().map(|k| ctx.label(*k)).collect();
                    let label = ctx.tf(
                        "rec.indicator_option",
                        &[
                            ("name", &indicator_name(ctx, i)),
                            ("min", &points_text(rule.points[0])),
                            ("max", &points_text(rule.points[1])),
                            ("kinds", &kinds.join("/")),
                        ],
                    );
                    IndicatorOption {
                        selected: value == selected,
                        value,
                        label,
                    }
                })
                .collect();
            let group = ctx.tf(
                "rec.framework_version",
                &[("name", &framework_name(ctx, fw)), ("version", version)],
            );
            (group, options)
        })
        .collect()
}
