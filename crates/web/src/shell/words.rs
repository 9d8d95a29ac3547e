//! Words for codes of the assessment engine that more than one capability shows: a grade by
//! its level on a cycle kind's scale, and the rule that set it (`quota_tie_committee` →
//! 比例线并列，待考核委员会决定).

use super::i18n::{self, Lang};
use kaohe_domain::cycles::CycleKind;

/// The grade of `level` on the scale of `kind`, or 不定等次 for none.
pub(crate) fn grade(lang: Lang, kind: CycleKind, level: Option<u8>) -> String {
    level
        .and_then(|l| kind.scale().grade(usize::from(l)))
        .map_or_else(
            || i18n::t(lang, "cycle.grade.none").to_owned(),
            |(_, zh, en)| if lang == Lang::En { en } else { zh }.to_owned(),
        )
}

/// The rule that set a grade, in words; a veto names its indicator by `indicator`.
pub(crate) fn rule(
    lang: Lang,
    kind: CycleKind,
    indicator: &dyn Fn(&str) -> String,
    code: &str,
) -> String {
    let top = grade(lang, kind, Some(0));
    let with_top = |key: &str| i18n::format(lang, key, &[("top", &top)]);
    match code {
        "threshold" => i18n::t(lang, "rule.threshold").to_owned(),
        "quota" => with_top("rule.quota"),
        "quota_tie_committee" => i18n::t(lang, "rule.quota_tie_committee").to_owned(),
        "blocked:warning" => with_top("rule.blocked_warning"),
        "blocked:sanction_in_effect" => i18n::t(lang, "rule.blocked_sanction").to_owned(),
        "blocked:routine_poor" => with_top("rule.blocked_routine_poor"),
        "committee:award_top" => with_top("rule.committee_award_top"),
        "committee:keep_next" => i18n::t(lang, "rule.committee_keep_next").to_owned(),
        other => match other.split_once(':') {
            Some(("veto", id)) => i18n::format(lang, "rule.veto", &[("indicator", &indicator(id))]),
            _ => other.to_owned(),
        },
    }
}
