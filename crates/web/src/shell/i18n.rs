//! Languages of the pages: Chinese (the default) and English.
//!
//! Every text a page shows comes from the Fluent files `locales/zh-CN/*.ftl` and
//! `locales/en/*.ftl` (`main.ftl`, and `polls.ftl` of the polls; compiled in by
//! `fluent-templates`), looked up by key with [`t`] or filled in with [`format`]; labels of
//! domain enumerations come from [`kaohe_domain::Labeled`]. A request's language is, in order:
//! the `lang` query parameter, the `lang` cookie (set by `/lang/{lang}`), the `Accept-Language`
//! header, and otherwise Chinese.

use super::auth::cookie;
use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;
use fluent_syntax::ast;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, langid};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Name of the cookie and of the query parameter that choose the language.
pub const LANG_PARAM: &str = "lang";

/// A language of the user interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Lang {
    /// 中文 (simplified), the default.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// Every language, in the order of the language switch.
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];

    /// Short code, as in `?lang=en`; also what [`kaohe_domain::Labeled::label`] takes.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The tag for `<html lang="…">`.
    pub fn html_tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The language's name in itself, for the language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Zh => "中文",
            Lang::En => "English",
        }
    }

    /// Parses a code or a language tag: `zh`, `zh-CN`, `zh-Hans`, `en`, `en-US`, ….
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("zh") {
            Some(Lang::Zh)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The language an `Accept-Language` header prefers among ours: the highest quality wins,
    /// the earlier one on a tie; `None` when it names neither.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(Lang, f32)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((lang, quality));
            }
        }
        best.map(|(lang, _)| lang)
    }

    /// The language of a request: `query_lang` (the `lang` query parameter), then the `lang`
    /// cookie, then `Accept-Language`, then Chinese.
    pub fn negotiate(query_lang: Option<&str>, headers: &HeaderMap) -> Lang {
        query_lang
            .and_then(Lang::parse)
            .or_else(|| cookie(headers, LANG_PARAM).as_deref().and_then(Lang::parse))
            .or_else(|| {
                headers
                    .get(ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or_default()
    }
}

// The messages of `locales/<language>/*.ftl`, compiled into the binary. Fluent's bidirectional
// isolation marks are off: the pages set their direction themselves, and the marks would sit
// invisibly in copied text.
fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "zh-CN",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The Fluent sources again, every file of each language (`main.ftl` and one file per
/// capability or report that keeps its own, e.g. `polls.ftl`, `trend.ftl`), for the list of their messages and of
/// each one's variables.
const SOURCES: [(Lang, &[&str]); 2] = [
    (
        Lang::Zh,
        &[
            include_str!("../../locales/zh-CN/main.ftl"),
            include_str!("../../locales/zh-CN/polls.ftl"),
            include_str!("../../locales/zh-CN/tables.ftl"),
            include_str!("../../locales/zh-CN/charts.ftl"),
            include_str!("../../locales/zh-CN/trend.ftl"),
            include_str!("../../locales/zh-CN/audit.ftl"),
        ],
    ),
    (
        Lang::En,
        &[
            include_str!("../../locales/en/main.ftl"),
            include_str!("../../locales/en/polls.ftl"),
            include_str!("../../locales/en/tables.ftl"),
            include_str!("../../locales/en/charts.ftl"),
            include_str!("../../locales/en/trend.ftl"),
            include_str!("../../locales/en/audit.ftl"),
        ],
    ),
];

impl Lang {
    fn id(self) -> LanguageIdentifier {
        match self {
            Lang::Zh => langid!("zh-CN"),
            Lang::En => langid!("en"),
        }
    }

    fn index(self) -> usize {
        match self {
            Lang::Zh => 0,
            Lang::En => 1,
        }
    }
}

/// The Fluent identifier of a message key: a `.` is not allowed in one (Fluent reads it as an
/// attribute), so `nav.units` is written `nav-units`; no key holds a `-`.
fn fluent_id(key: &str) -> String {
    key.replace('.', "-")
}

/// The key of a Fluent identifier ([`fluent_id`] backwards).
fn key_of(id: &str) -> String {
    id.replace('-', ".")
}

/// The messages of a Fluent source with the names of their variables.
fn messages_of(source: &'static str) -> Vec<(&'static str, Vec<&'static str>)> {
    let resource = fluent_syntax::parser::parse(source).unwrap_or_else(|(partial, errors)| {
        tracing::error!(?errors, "messages that do not parse are left out");
        partial
    });
    resource
        .body
        .into_iter()
        .filter_map(|entry| match entry {
            ast::Entry::Message(message) => {
                let variables = message
                    .value
                    .iter()
                    .flat_map(|pattern| &pattern.elements)
                    .filter_map(|element| match element {
                        ast::PatternElement::Placeable {
                            expression:
                                ast::Expression::Inline(ast::InlineExpression::VariableReference {
                                    id,
                                }),
                        } => Some(id.name),
                        _ => None,
                    })
                    .collect();
                Some((message.id.name, variables))
            }
            _ => None,
        })
        .collect()
}

/// Fluent arguments from `(name, value)` pairs, every value as text.
fn fluent_args<'a>(
    args: impl IntoIterator<Item = (&'a str, String)>,
) -> HashMap<String, FluentValue<'static>> {
    args.into_iter()
        .map(|(name, value)| (name.to_owned(), FluentValue::from(value)))
        .collect()
}

/// Every message in each language, by key, rendered once: a placeholder shows as `{name}`.
fn table() -> &'static [HashMap<String, String>; 2] {
    static TABLE: OnceLock<[HashMap<String, String>; 2]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = [HashMap::new(), HashMap::new()];
        for (lang, sources) in SOURCES {
            for (id, variables) in sources.iter().flat_map(|source| messages_of(source)) {
                let args = fluent_args(variables.into_iter().map(|v| (v, format!("{{{v}}}"))));
                match LOCALES.lookup_single_language(&lang.id(), id, Some(&args)) {
                    Ok(text) => {
                        table[lang.index()].insert(key_of(id), text);
                    }
                    Err(error) => tracing::error!(id, %error, "a message does not render"),
                }
            }
        }
        table
    })
}

/// The message `key` in `lang`. A key missing from the Fluent files shows as `?` and is logged
/// (a unit test keeps every key the templates and page handlers use in the files).
pub fn t(lang: Lang, key: &str) -> &'static str {
    match table()[lang.index()].get(key) {
        Some(text) => text,
        None => {
            tracing::warn!(key, "missing message");
            "?"
        }
    }
}

/// The message `key` in `lang`, or `None` when the files have no such message (for words
/// looked up from a code, such as an audit action, that may have none).
pub fn lookup(lang: Lang, key: &str) -> Option<&'static str> {
    table()[lang.index()].get(key).map(String::as_str)
}

/// The message `key` in `lang` with its Fluent variables (`{ $name }`) given by `args`.
pub fn format(lang: Lang, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    let args = fluent_args(args.iter().map(|(name, value)| (*name, value.to_string())));
    match LOCALES.lookup_single_language(&lang.id(), &fluent_id(key), Some(&args)) {
        Ok(text) => text,
        Err(error) => {
            tracing::warn!(key, %error, "message not formatted");
            t(lang, key).to_owned()
        }
    }
}

/// The name of a weekday.
pub fn weekday(lang: Lang, day: time::Weekday) -> &'static str {
    let key = match day.number_from_monday() {
        1 => "weekday.1",
        2 => "weekday.2",
        3 => "weekday.3",
        4 => "weekday.4",
        5 => "weekday.5",
        6 => "weekday.6",
        _ => "weekday.7",
    };
    t(lang, key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use axum::http::header::COOKIE;
    use std::collections::HashSet;

    #[test]
    fn every_message_is_in_both_languages_without_isolation_marks() {
        let keys = |lang: Lang| {
            table()[lang.index()]
                .keys()
                .cloned()
                .collect::<HashSet<_>>()
        };
        assert_eq!(
            keys(Lang::Zh),
            keys(Lang::En),
            "the same keys in both languages"
        );
        for (lang, sources) in SOURCES {
            let messages: Vec<_> = sources.iter().flat_map(|s| messages_of(s)).collect();
            let ids: HashSet<_> = messages.iter().map(|(id, _)| *id).collect();
            assert_eq!(ids.len(), messages.len(), "a duplicate message in {lang:?}");
            assert_eq!(
                ids.len(),
                table()[lang.index()].len(),
                "every message renders"
            );
            for source in sources.iter() {
                assert!(
                    fluent_syntax::parser::parse(*source).is_ok(),
                    "{lang:?} parses"
                );
            }
        }
        assert!(keys(Lang::Zh).len() > 600);
        for lang in Lang::ALL {
            for (key, text) in &table()[lang.index()] {
                assert!(!text.is_empty(), "empty text for {key}");
                assert!(
                    !text.contains(['\u{2068}', '\u{2069}']),
                    "isolation marks in {key}"
                );
                assert!(
                    lang == Lang::Zh
                        || !text.contains(|c: char| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                    "Chinese in English text of {key}"
                );
            }
        }
        // An argument is put in as it is, without marks around it.
        let text = format(Lang::En, "home.to_verify", &[("n", &7)]);
        assert_eq!(text, "7 work records await your verification");
    }

    /// The files in `dir` and its subfolders.
    fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).expect("directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                files.extend(files_under(&path));
            } else {
                files.push(path);
            }
        }
        files
    }

    /// Every `t("…")` and `tf("…"` in a template or page handler names a message.
    #[test]
    fn templates_use_known_keys() {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut files = files_under(std::path::Path::new(&format!("{root}/templates")));
        for module in [
            "home",
            "shell/page",
            "org/pages",
            "accounts/login",
            "accounts/account",
            "accounts/admin",
            "accounts/audit",
            "cycles/pages",
            "cycles/pages_cycle",
            "cycles/pages_values",
            "cycles/pages_results",
            "cycles/pages_committee",
            "cycles/pages_words",
            "records/pages",
            "records/view",
            "records/files",
            "polls/pages",
            "polls/vote",
            "polls/view",
        ] {
            files.push(format!("{root}/src/{module}.rs").into());
        }
        let mut checked = 0;
        for path in files {
            let text = std::fs::read_to_string(&path).expect("template");
            for marker in ["t(\"", "tf(\""] {
                for (at, _) in text.match_indices(marker) {
                    // `expect("…")`, `get("…")` and the like end in `t("` too.
                    let before = at.checked_sub(1).map(|i| text.as_bytes()[i]);
                    if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
                        continue;
                    }
                    let rest = &text[at + marker.len()..];
                    let key = &rest[..rest.find('"').expect("closing quote")];
                    assert!(
                        table()[0].contains_key(key),
                        "{}: unknown key {key}",
                        path.display()
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 20, "found only {checked} keys");
    }

    #[test]
    fn lookup_and_format() {
        assert_eq!(t(Lang::Zh, "nav.units"), "单位");
        assert_eq!(t(Lang::En, "nav.units"), "Units");
        assert_eq!(t(Lang::En, "no.such.key"), "?");
        let text = format(
            Lang::En,
            "pager.page_of",
            &[("page", &3), ("pages", &5), ("total", &41)],
        );
        assert_eq!(text, "Page 3 of 5 (41 rows)");
        assert_eq!(t(Lang::En, "punct.colon"), ": ", "spaces kept");
        assert_eq!(
            t(Lang::En, "home.to_verify"),
            "{n} work records await your verification",
            "placeholders shown by name"
        );
        assert_eq!(weekday(Lang::Zh, time::Weekday::Sunday), "星期日");
    }

    #[test]
    fn accept_language() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Lang::Zh)
        );
        assert_eq!(
            Lang::from_accept_language("fr, en;q=0.5, zh;q=0.7"),
            Some(Lang::Zh)
        );
        assert_eq!(
            Lang::from_accept_language("de-DE, en-GB;q=0.3"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("en;q=0, zh;q=0.1"),
            Some(Lang::Zh)
        );
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(Lang::from_accept_language(""), None);
    }

    #[test]
    fn negotiation_order() {
        let mut headers = HeaderMap::new();
        assert_eq!(Lang::negotiate(None, &headers), Lang::Zh);
        headers.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("en-US"));
        assert_eq!(Lang::negotiate(None, &headers), Lang::En);
        headers.insert(COOKIE, HeaderValue::from_static("a=b; lang=zh"));
        assert_eq!(Lang::negotiate(None, &headers), Lang::Zh);
        assert_eq!(Lang::negotiate(Some("en"), &headers), Lang::En);
        assert_eq!(Lang::negotiate(Some("xx"), &headers), Lang::Zh);
    }
}
