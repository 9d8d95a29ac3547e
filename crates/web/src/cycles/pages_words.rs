//! What a person reads where the engine and the store keep codes: grades, the rules that set
//! them, flags, normalization methods and missing-value rules, in the page's language.

use crate::shell::i18n::Lang;
use crate::shell::page::PageCtx;
use crate::shell::words;
use kaohe_domain::cycles::CycleKind;
use kaohe_engine::{Framework, MissingRule};

/// Indicator names of a framework, in the page's language.
pub(super) struct Names<'a> {
    fw: &'a Framework,
    en: bool,
}

impl<'a> Names<'a> {
    pub(super) fn new(ctx: &PageCtx, fw: &'a Framework) -> Self {
        Self {
            fw,
            en: ctx.lang() == Lang::En,
        }
    }

    /// The name of indicator (or auxiliary column) `id`; the id itself when the framework
    /// has no such indicator.
    pub(super) fn of(&self, id: &str) -> String {
        match self.fw.indicators().iter().find(|i| i.id == id) {
            Some(i) => match (&i.name_en, self.en) {
                (Some(e), true) => e.clone(),
                _ => i.name.clone(),
            },
            None => id.to_owned(),
        }
    }
}

/// The grade of `level` on the scale of `kind`, or 不定等次 for none.
pub(super) fn grade(ctx: &PageCtx, kind: CycleKind, level: Option<u8>) -> String {
    words::grade(ctx.lang(), kind, level)
}

/// The rule that set a grade, in words: `quota_tie_committee` → 比例线并列，待考核委员会决定.
pub(super) fn rule(ctx: &PageCtx, kind: CycleKind, names: &Names<'_>, code: &str) -> String {
    words::rule(ctx.lang(), kind, &|id| names.of(id), code)
}

/// A flag for review, in words: `missing:gdp` → 缺少数据：地区生产总值.
pub(super) fn flag(ctx: &PageCtx, names: &Names<'_>, code: &str) -> String {
    if code == "committee_review" {
        return ctx.t("flag.committee_review").to_owned();
    }
    let key = match code.split_once(':') {
        Some(("missing", _)) => "flag.missing",
        Some(("outside", _)) => "flag.outside",
        Some(("no_baseline", _)) => "flag.no_baseline",
        Some(("unshrunk", _)) => "flag.unshrunk",
        Some(("veto", _)) => "flag.veto",
        Some(("review", _)) => "flag.review",
        _ => return code.to_owned(),
    };
    let id = code.split_once(':').map_or("", |(_, id)| id);
    ctx.tf(key, &[("indicator", &names.of(id))])
}

/// A normalization method in words: `target` → 目标值法.
pub(super) fn method(ctx: &PageCtx, code: &str) -> &'static str {
    match code {
        "minmax" => ctx.t("method.minmax"),
        "zscore" => ctx.t("method.zscore"),
        "goalposts" => ctx.t("method.goalposts"),
        "target" => ctx.t("method.target"),
        "bands" => ctx.t("method.bands"),
        "rank" => ctx.t("method.rank"),
        _ => ctx.t("method.other"),
    }
}

/// What the missing-value rule of an indicator does, in words; `None`: an auxiliary column.
pub(super) fn missing_rule(ctx: &PageCtx, rule: Option<MissingRule>) -> &'static str {
    match rule {
        Some(MissingRule::Reweight) => ctx.t("missing.reweight"),
        Some(MissingRule::Zero) => ctx.t("missing.zero"),
        Some(MissingRule::Mean) => ctx.t("missing.mean"),
        Some(MissingRule::Min) => ctx.t("missing.min"),
        Some(MissingRule::Error) => ctx.t("missing.error"),
        None => ctx.t("missing.auxiliary"),
    }
}

/// A rank interval `p05–p95`, or a dash without Monte Carlo draws.
pub(super) fn interval(p05: Option<u32>, p95: Option<u32>) -> String {
    match (p05, p95) {
        (Some(a), Some(b)) => format!("{a}–{b}"),
        _ => "—".to_owned(),
    }
}

/// A time of the store (unix seconds) as local `YYYY-MM-DD HH:MM`.
pub(super) fn local_time(offset: time::UtcOffset, unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| {
            let t = t.to_offset(offset);
            format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
        })
        .unwrap_or_default()
}
