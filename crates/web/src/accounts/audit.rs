//! The audit administrator's screen (`/admin/audit`): the latest entries of the audit log in
//! words (what was done, and what changed, before → after), and a verification of its chain,
//! by the same code as `kaohe audit verify`.

use crate::shell::AppState;
use crate::shell::download::{suffix_of, table_file};
use crate::shell::i18n::{self, Lang};
use crate::shell::page::{PageCtx, PageResult, render};
use crate::shell::params::{QueryParams, href};
use crate::shell::words;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use kaohe_data::WideCell;
use kaohe_domain::Labeled;
use kaohe_domain::cycles::CycleKind;
use kaohe_store::cycles::work::load_framework;
use serde_json::Value;
use std::collections::HashMap;

/// Most entries the audit page lists.
const AUDIT_ROWS: usize = 200;

#[derive(Debug)]
struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    /// What was done, in words (登录 for `user.login`); the code when there are no words.
    action: String,
    /// The action's code, for the filter.
    code: String,
    target: String,
    /// What changed, one line each: `key: before → after`, or `key: value`.
    changes: Vec<Change>,
}

/// One changed field of an entry, in words.
#[derive(Debug, PartialEq)]
struct Change {
    key: String,
    before: Option<String>,
    after: Option<String>,
}

/// `?format=xlsx|csv`: the entries as listed (the latest, filtered by action), in words, as a
/// file; the action's code kept in a column of its own.
async fn export(ctx: &PageCtx, format: &str, rows: &[AuditRow]) -> PageResult {
    let suffix = suffix_of(ctx, format)?;
    let header: Vec<String> = [
        "audit.seq",
        "audit.at",
        "audit.actor",
        "audit.column.action",
        "audit.code",
        "audit.target",
        "audit.details",
    ]
    .iter()
    .map(|k| ctx.t(k).to_owned())
    .collect();
    let table = rows
        .iter()
        .map(|r| {
            let details = r
                .changes
                .iter()
                .map(|c| {
                    let value = match (&c.before, &c.after) {
                        (Some(b), Some(a)) => format!("{b} → {a}"),
                        (None, Some(a)) => a.clone(),
                        (Some(b), None) => format!("{b} → —"),
                        (None, None) => String::new(),
                    };
                    if c.key.is_empty() {
                        value
                    } else {
                        format!("{}{}{value}", c.key, ctx.t("punct.colon"))
                    }
                })
                .collect::<Vec<_>>()
                .join(ctx.t("punct.list"));
            vec![
                WideCell::Number(r.seq as f64),
                WideCell::Text(r.at.clone()),
                WideCell::Text(r.actor.clone()),
                WideCell::Text(r.action.clone()),
                WideCell::Text(r.code.clone()),
                WideCell::Text(r.target.clone()),
                WideCell::Text(details),
            ]
        })
        .collect();
    table_file(
        ctx,
        "audit",
        ctx.t("audit.title").to_owned(),
        suffix,
        header,
        table,
    )
    .await
}

/// What an action code says in words: `audit.action.<code>` in the language's messages.
fn action_words(lang: Lang, code: &str) -> String {
    i18n::lookup(lang, &format!("audit.action.{code}"))
        .map_or_else(|| code.to_owned(), str::to_owned)
}

/// A label of `T` for `code`, if it is one of its codes.
fn label<T: Labeled>(lang: Lang, code: &str) -> Option<String> {
    T::parse_label(code)
        .ok()
        .map(|v| v.label(lang.code()).to_owned())
}

/// A message looked up from a code: `prefix.<code>`.
fn message(lang: Lang, prefix: &str, code: &str) -> Option<String> {
    i18n::lookup(lang, &format!("{prefix}.{code}")).map(str::to_owned)
}

/// The names of a cycle's framework, for the audit entries of the cycle.
#[derive(Debug, Default)]
struct FrameworkNames {
    id: String,
    name: String,
    /// Indicator names by id, in the page's language.
    indicators: HashMap<String, String>,
}

/// What the words of an entry's fields depend on.
struct Words<'a> {
    lang: Lang,
    /// The entry's action: its area tells apart fields of the same name (a record's verdict is
    /// not a rectification's).
    action: &'a str,
    /// Unit names by code.
    units: &'a HashMap<String, String>,
    /// The kind of the entry's cycle, whose scale names its grades and rules.
    kind: Option<CycleKind>,
    /// The framework of the entry's cycle: its id and name, and its indicators' names by id.
    framework: Option<&'a FrameworkNames>,
    /// The names of the rater groups of the entry's poll, by group id.
    groups: Option<&'a HashMap<String, String>>,
}

impl Words<'_> {
    /// A code of field `key` in words: the label of its enumeration, a unit's name for a unit
    /// code, the words of a few fixed values; `None` when the text is not a code with words.
    fn code(&self, key: &str, code: &str) -> Option<String> {
        use kaohe_domain::{cycles, ratings, records, upload};
        let lang = self.lang;
        let area = self.action.split('.').next().unwrap_or_default();
        match (area, key) {
            (_, "roles" | "role") => label::<kaohe_domain::Role>(lang, code),
            ("record", "state") => label::<records::RecordState>(lang, code),
            ("record", "verdict") => label::<records::Verdict>(lang, code),
            ("appeal", "decision") => label::<ratings::AppealDecision>(lang, code),
            ("framework", "origin") => {
                i18n::lookup(lang, &format!("frameworks.origin_{code}")).map(str::to_owned)
            }
            (_, "state") => label::<cycles::CycleState>(lang, code),
            (_, "kind") => {
                label::<CycleKind>(lang, code).or_else(|| label::<upload::FileKind>(lang, code))
            }
            (_, "decision") => label::<cycles::Decision>(lang, code),
            (_, "origin") => match code.split_once(':') {
                Some((origin, revision)) => label::<cycles::ValueOrigin>(lang, origin).map(|o| {
                    i18n::format(
                        lang,
                        "audit.origin_revision",
                        &[("origin", &o), ("revision", &revision)],
                    )
                }),
                None => label::<cycles::ValueOrigin>(lang, code),
            },
            (_, "rule") => self.kind.map(|kind| {
                let indicator = |id: &str| {
                    self.framework
                        .and_then(|f| f.indicators.get(id))
                        .cloned()
                        .unwrap_or_else(|| id.to_owned())
                };
                words::rule(lang, kind, &indicator, code)
            }),
            ("cycle", "columns") => self.framework.and_then(|f| f.indicators.get(code)).cloned(),
            ("cycle", "framework") => self
                .framework
                .filter(|f| f.id == code)
                .map(|f| f.name.clone()),
            (_, "verdict") => label::<ratings::rectification::Verdict>(lang, code),
            (_, "status") => label::<ratings::rectification::Status>(lang, code),
            (_, "step") => label::<ratings::rectification::StepKind>(lang, code),
            (_, "ground") => label::<ratings::AppealGround>(lang, code),
            (_, "judgements") => label::<kaohe_domain::RoutineGrade>(lang, code),
            (_, "unit" | "units") => self.units.get(code).cloned(),
            ("poll", "group") => self.groups.and_then(|g| g.get(code)).cloned(),
            ("user", "reason") => {
                login_failure(code).and_then(|k| message(lang, "audit.value.login", k))
            }
            (_, "purpose") => message(lang, "audit.value.purpose", code),
            (_, "phones") => message(lang, "audit.value.phones", code),
            (_, "by") => message(lang, "audit.value.by", code),
            (_, "tables") => message(lang, "audit.value.table", code),
            (_, "format") => Some(code.to_uppercase()),
            _ => None,
        }
    }

    /// A value in words: codes through [`Words::code`], a cycle's grades by their names, yes
    /// or no, lists joined, nested fields as `field=value`.
    fn value(&self, key: &str, v: &Value) -> String {
        let lang = self.lang;
        let list = i18n::t(lang, "punct.list");
        match (key, v, self.kind) {
            ("grade_level", Value::Null | Value::Number(_), Some(kind)) => {
                let level = v.as_u64().and_then(|l| u8::try_from(l).ok());
                words::grade(lang, kind, level)
            }
            // The counts by grade (`grades`): the best first, the last without a grade.
            ("grades", Value::Array(counts), Some(kind)) => counts
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let level = u8::try_from(i)
                        .ok()
                        .filter(|l| usize::from(*l) + 1 < counts.len());
                    format!("{} {}", words::grade(lang, kind, level), self.value("", n))
                })
                .collect::<Vec<_>>()
                .join(list),
            (_, Value::Null, _) => "—".to_owned(),
            (_, Value::Bool(b), _) => i18n::t(lang, if *b { "yes" } else { "no" }).to_owned(),
            (_, Value::Number(n), _) => n.to_string(),
            (_, Value::String(s), _) => self.code(key, s).unwrap_or_else(|| s.clone()),
            (_, Value::Array(items), _) => items
                .iter()
                .map(|i| self.value(key, i))
                .collect::<Vec<_>>()
                .join(list),
            (_, Value::Object(fields), _) => fields
                .iter()
                .map(|(k, v)| {
                    // The fields of a map by person (`judgements`) are people, their values
                    // codes of the map's own field.
                    let (name, of) = if key == "judgements" {
                        (k.clone(), key)
                    } else {
                        (key_words(lang, k), k.as_str())
                    };
                    format!("{name}={}", self.value(of, v))
                })
                .collect::<Vec<_>>()
                .join(list),
        }
    }

    /// The fields that differ between `b` and `a`, in words, each named by `prefix` and its
    /// own name; a field that is an object on both sides (a section of the settings) by its
    /// own fields that differ.
    fn diff(
        &self,
        prefix: &str,
        b: &serde_json::Map<String, Value>,
        a: &serde_json::Map<String, Value>,
        out: &mut Vec<Change>,
    ) {
        let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let (before, after) = (b.get(k), a.get(k));
            if before == after {
                continue;
            }
            let name = if prefix.is_empty() {
                key_words(self.lang, k)
            } else {
                format!("{prefix} · {}", key_words(self.lang, k))
            };
            match (before, after) {
                (Some(Value::Object(b)), Some(Value::Object(a))) => self.diff(&name, b, a, out),
                _ => out.push(Change {
                    key: name,
                    before: before.map(|v| self.value(k, v)),
                    after: after.map(|v| self.value(k, v)),
                }),
            }
        }
    }

    /// The fields of an entry's before and after that differ, in words; text that is not a
    /// JSON object is one change of its own.
    fn changes(&self, before: Option<&str>, after: Option<&str>) -> Vec<Change> {
        let object = |t: Option<&str>| -> Option<serde_json::Map<String, Value>> {
            t.and_then(|t| serde_json::from_str::<serde_json::Map<String, Value>>(t).ok())
        };
        match (object(before), object(after)) {
            (b, a) if (b.is_some() || before.is_none()) && (a.is_some() || after.is_none()) => {
                let mut out = Vec::new();
                self.diff("", &b.unwrap_or_default(), &a.unwrap_or_default(), &mut out);
                out
            }
            _ => vec![Change {
                key: String::new(),
                before: before.map(str::to_owned),
                after: after.map(str::to_owned),
            }],
        }
    }
}

/// The reason of a failed sign-in as the sign-in form records it, as a message key.
fn login_failure(reason: &str) -> Option<&'static str> {
    use super::login::failure;
    [
        (failure::UNKNOWN_ACCOUNT, "unknown"),
        (failure::LOCKED, "locked"),
        (failure::PASSWORD, "password"),
        (failure::SECOND_FACTOR, "second_factor"),
        (failure::SECOND_FACTOR_USED, "second_factor_used"),
    ]
    .into_iter()
    .find_map(|(code, key)| (code == reason).then_some(key))
}

/// A field's name in words (`audit.key.<key>`), or the key itself.
fn key_words(lang: Lang, key: &str) -> String {
    i18n::lookup(lang, &format!("audit.key.{key}")).map_or_else(|| key.to_owned(), str::to_owned)
}

/// An entry's target in words: a unit's name for a unit code, a table by its name, a
/// numbered thing (`rating:12`, `cycle:3/S01`) by what it is and its number; accounts, files
/// and other names as they are.
fn target_words(lang: Lang, target: &str, units: &HashMap<String, String>) -> String {
    if let Some(name) = units.get(target) {
        return name.clone();
    }
    if let Some(words) =
        message(lang, "audit.value.table", target).or_else(|| message(lang, "audit.target", target))
    {
        return words;
    }
    match target.split_once(':') {
        Some((what, id)) => match message(lang, "audit.target", what) {
            Some(what) => format!("{what} {}", id.replace('/', " · ")),
            None => target.to_owned(),
        },
        None => target.to_owned(),
    }
}

/// The cycle an entry is about, from its target (`cycle:12`, `cycle:12/S01`).
fn cycle_of(target: &str) -> Option<i64> {
    let id = target.strip_prefix("cycle:")?;
    id.split('/').next()?.parse().ok()
}

/// The outcome of a verification, as shown.
#[derive(Debug)]
struct VerifyView {
    ok: bool,
    /// The summary line when the chain is intact.
    summary: String,
    /// A note on entries appended while verifying.
    unchecked: Option<String>,
    problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "accounts/admin_audit.html")]
struct AdminAuditPage {
    ctx: PageCtx,
    export_xlsx: String,
    export_csv: String,
    action: String,
    rows: Vec<AuditRow>,
    verification: Option<VerifyView>,
}

/// `GET /admin/audit`: the latest entries, filtered by action, and the chain verified on
/// request (`?verify=1`).
pub(super) async fn admin_audit(
    ctx: PageCtx,
    State(state): State<AppState>,
    uri: Uri,
) -> PageResult {
    let query = QueryParams::from_uri(&uri);
    let action = query.raw("action").map(str::trim).filter(|a| !a.is_empty());
    let store = state.store.as_ref();
    let entries = kaohe_store::recent_audit_entries(store, AUDIT_ROWS, action)
        .await
        .map_err(|e| ctx.fail(e))?;
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let units: HashMap<String, String> = store
        .all_units()
        .await
        .map_err(|e| ctx.fail(e))?
        .into_iter()
        .map(|u| (u.code.to_string(), u.name))
        .collect();
    // Each cycle's kind and the names of its framework.
    let mut cycles: HashMap<i64, Option<(CycleKind, FrameworkNames)>> = HashMap::new();
    for id in entries.iter().filter_map(|e| cycle_of(&e.target)) {
        if let std::collections::hash_map::Entry::Vacant(slot) = cycles.entry(id) {
            let Some(cycle) = store.cycle(id).await.map_err(|e| ctx.fail(e))? else {
                slot.insert(None);
                continue;
            };
            // A framework that no longer reads leaves its ids as stored.
            let names = load_framework(store, &cycle.framework_id, &cycle.framework_version)
                .await
                .map(|(_, fw)| FrameworkNames {
                    id: fw.id().to_owned(),
                    name: fw.name().to_owned(),
                    indicators: fw
                        .indicators()
                        .iter()
                        .map(|i| {
                            let name = match (ctx.lang(), &i.name_en) {
                                (Lang::En, Some(en)) => en.clone(),
                                _ => i.name.clone(),
                            };
                            (i.id.clone(), name)
                        })
                        .collect(),
                })
                .unwrap_or_default();
            slot.insert(Some((cycle.kind, names)));
        }
    }
    // The names of the rater groups of the polls of `poll.…` entries (their target is the
    // poll's id).
    let mut groups: HashMap<String, HashMap<String, String>> = HashMap::new();
    for e in entries.iter().filter(|e| e.action.starts_with("poll.")) {
        if groups.contains_key(&e.target) {
            continue;
        }
        let names = match kaohe_domain::Code::parse(&e.target) {
            Ok(id) => store
                .poll(&id)
                .await
                .map_err(|e| ctx.fail(e))?
                .map(|p| {
                    p.groups
                        .into_iter()
                        .map(|g| (g.id.to_string(), g.name))
                        .collect()
                })
                .unwrap_or_default(),
            Err(_) => HashMap::new(),
        };
        groups.insert(e.target.clone(), names);
    }
    let lang = ctx.lang();
    let rows: Vec<AuditRow> = entries
        .into_iter()
        .rev()
        .map(|e| AuditRow {
            seq: e.seq,
            at: e
                .at
                .to_offset(state.utc_offset)
                .format(format)
                .unwrap_or_default(),
            actor: e.actor,
            action: action_words(lang, &e.action),
            changes: Words {
                lang,
                action: &e.action,
                units: &units,
                kind: cycle_of(&e.target)
                    .and_then(|id| cycles.get(&id))
                    .and_then(|c| c.as_ref().map(|(kind, _)| *kind)),
                framework: cycle_of(&e.target)
                    .and_then(|id| cycles.get(&id))
                    .and_then(|c| c.as_ref().map(|(_, names)| names)),
                groups: groups.get(&e.target),
            }
            .changes(e.before.as_deref(), e.after.as_deref()),
            code: e.action,
            target: target_words(lang, &e.target, &units),
        })
        .collect();
    if let Some(format) = query.raw("format") {
        return export(&ctx, format, &rows).await;
    }
    let verification = if query.raw("verify") == Some("1") {
        let v = kaohe_store::verify_audit(store, None)
            .await
            .map_err(|e| ctx.fail(e))?;
        Some(VerifyView {
            ok: v.is_ok(),
            summary: ctx.tf(
                "audit.ok",
                &[("count", &v.report.count), ("head", &v.report.head)],
            ),
            unchecked: (v.unchecked > 0).then(|| ctx.tf("audit.unchecked", &[("n", &v.unchecked)])),
            problems: v.problems(),
        })
    } else {
        None
    };
    let action = action.unwrap_or_default().to_owned();
    let export_href = |format: &str| {
        let mut pairs = vec![("format", format.to_owned())];
        if !action.is_empty() {
            pairs.push(("action", action.clone()));
        }
        href("/admin/audit", &pairs)
    };
    let (export_xlsx, export_csv) = (export_href("xlsx"), export_href("csv"));
    Ok(render(
        StatusCode::OK,
        &AdminAuditPage {
            ctx,
            export_xlsx,
            export_csv,
            action,
            rows,
            verification,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The changes of an entry that is not about a cycle.
    fn changes(
        lang: Lang,
        action: &str,
        before: Option<&str>,
        after: Option<&str>,
        units: &HashMap<String, String>,
    ) -> Vec<Change> {
        Words {
            lang,
            action,
            units,
            kind: None,
            framework: None,
            groups: None,
        }
        .changes(before, after)
    }

    #[test]
    fn a_cycles_framework_and_indicators_read_by_their_names() {
        let units = HashMap::new();
        let framework = FrameworkNames {
            id: "civil_servant_annual".into(),
            name: "公务员年度考核".into(),
            indicators: HashMap::from([
                ("de_poll".to_owned(), "民主测评（德）".to_owned()),
                ("ji_task".to_owned(), "任务完成".to_owned()),
            ]),
        };
        let words = Words {
            lang: Lang::Zh,
            action: "cycle.values",
            units: &units,
            kind: Some(CycleKind::Annual),
            framework: Some(&framework),
            groups: None,
        };
        let text = |got: Vec<Change>| {
            got.iter()
                .filter_map(|c| c.after.clone())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let values = text(words.changes(
            None,
            Some(r#"{"file":"x.csv","people":3,"columns":["de_poll","ji_task"]}"#),
        ));
        assert!(
            values.contains("民主测评（德）") && values.contains("任务完成"),
            "{values}"
        );
        assert!(!values.contains("de_poll"), "{values}");
        let created = text(
            Words {
                action: "cycle.create",
                ..words
            }
            .changes(
                None,
                Some(r#"{"framework":["civil_servant_annual","2026.1"]}"#),
            ),
        );
        assert!(
            created.contains("公务员年度考核") && created.contains("2026.1"),
            "{created}"
        );
        let origin = text(
            Words {
                action: "framework.stored",
                kind: None,
                framework: None,
                ..words
            }
            .changes(None, Some(r#"{"origin":"preset"}"#)),
        );
        assert_eq!(origin, "内置预设");
    }

    #[test]
    fn a_polls_rater_group_reads_by_its_name() {
        let units = HashMap::new();
        let groups = HashMap::from([("peers".to_owned(), "同级".to_owned())]);
        let words = Words {
            lang: Lang::Zh,
            action: "poll.codes",
            units: &units,
            kind: None,
            framework: None,
            groups: Some(&groups),
        };
        let got = words.changes(None, Some(r#"{"group":"peers","codes":12}"#));
        let text = got
            .iter()
            .filter_map(|c| c.after.clone())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(text.contains("同级") && !text.contains("peers"), "{text}");
        // A group the poll no longer names stays as stored.
        let other = words.changes(None, Some(r#"{"group":"public"}"#));
        assert_eq!(other[0].after.as_deref(), Some("public"));
    }

    #[test]
    fn grades_and_rules_of_a_cycle_read_on_its_scale() {
        let units = HashMap::new();
        let words = Words {
            lang: Lang::Zh,
            action: "cycle.amend",
            units: &units,
            kind: Some(CycleKind::Annual),
            framework: None,
            groups: None,
        };
        let got = words.changes(
            Some(r#"{"people":[{"cadre":"S01","grade_level":1,"rule":"quota"}]}"#),
            Some(
                r#"{"people":[{"cadre":"S01","grade_level":null,"rule":"blocked:sanction_in_effect"}]}"#,
            ),
        );
        let before = got[0].before.as_deref().unwrap_or_default();
        let after = got[0].after.as_deref().unwrap_or_default();
        assert!(
            before.contains("等次级别=称职") && before.contains("规则=超出优秀比例，评为次一等次"),
            "{before}"
        );
        assert!(
            after.contains("等次级别=不定等次") && after.contains("规则=处分影响期内，不定等次"),
            "{after}"
        );
        let computed = Words {
            action: "cycle.compute",
            ..words
        }
        .changes(None, Some(r#"{"grades":[1,2,0,0,1]}"#));
        assert_eq!(
            computed[0].after.as_deref(),
            Some("优秀 1；称职 2；基本称职 0；不称职 0；不定等次 1")
        );
        // Without the cycle, the numbers and codes as stored.
        let unknown = changes(
            Lang::Zh,
            "cycle.compute",
            None,
            Some(r#"{"grades":[1,2]}"#),
            &units,
        );
        assert_eq!(unknown[0].after.as_deref(), Some("1；2"));
        assert_eq!(cycle_of("cycle:12/S01"), Some(12));
        let units = HashMap::from([("340128".to_owned(), "春德县".to_owned())]);
        for (target, zh, en) in [
            ("340128", "春德县", "春德县"),
            ("rating:12", "评价 12", "Rating 12"),
            ("cycle:3/S01", "考核周期 3 · S01", "Cycle 3 · S01"),
            ("rectification_steps", "整改步骤", "Rectification steps"),
            ("service_cases", "办件", "Service cases"),
            ("alice", "alice", "alice"),
        ] {
            assert_eq!(target_words(Lang::Zh, target, &units), zh);
            assert_eq!(target_words(Lang::En, target, &units), en);
        }
        assert_eq!(cycle_of("rating:12"), None);
    }

    #[test]
    fn actions_fields_and_values_read_as_words() {
        assert_eq!(action_words(Lang::Zh, "user.login"), "登录");
        assert_eq!(action_words(Lang::En, "user.login"), "Signed in");
        assert_eq!(action_words(Lang::Zh, "something.new"), "something.new");
        let units = HashMap::from([("340128".to_owned(), "春德县".to_owned())]);
        let got = changes(
            Lang::Zh,
            "user.roles",
            Some(r#"{"roles":["official"],"units":[],"totp":false}"#),
            Some(r#"{"roles":["assessor","unit_leader"],"units":["340128"],"totp":false}"#),
            &units,
        );
        assert_eq!(
            got,
            vec![
                Change {
                    key: "角色".into(),
                    before: Some("干部".into()),
                    after: Some("考核人员；单位领导".into()),
                },
                Change {
                    key: "范围".into(),
                    before: Some(String::new()),
                    after: Some("春德县".into()),
                },
            ]
        );
        let created = changes(
            Lang::Zh,
            "cycle.compute",
            None,
            Some(r#"{"state":"computed","people":800}"#),
            &units,
        );
        assert_eq!(created.len(), 2);
        assert_eq!(created[1].after.as_deref(), Some("已计算"));
        let text = changes(Lang::Zh, "settings.applied", None, Some("not json"), &units);
        assert_eq!(text[0].after.as_deref(), Some("not json"));
    }

    #[test]
    fn codes_of_rarer_fields_read_as_words_by_the_action_they_belong_to() {
        let units = HashMap::new();
        let words = |action: &str, before: Option<&str>, after: &str| {
            changes(Lang::Zh, action, before, Some(after), &units)
                .into_iter()
                .map(|c| (c.key, c.before, c.after))
                .collect::<Vec<_>>()
        };
        // The same field names another enumeration in another area.
        assert_eq!(
            words(
                "record.review",
                Some(r#"{"state":"pending"}"#),
                r#"{"verdict":"rejected"}"#
            )[1]
            .2
            .as_deref(),
            Some(kaohe_domain::records::Verdict::Rejected.label("zh"))
        );
        assert_eq!(
            words("appeal.decide", None, r#"{"decision":"upheld"}"#)[0]
                .2
                .as_deref(),
            Some(kaohe_domain::ratings::AppealDecision::Upheld.label("zh"))
        );
        assert_eq!(
            words("cycle.decide", None, r#"{"decision":"keep_next"}"#)[0]
                .2
                .as_deref(),
            Some("维持次一等次")
        );
        let step = words(
            "rectification.step",
            None,
            r#"{"step":"callback","reached":false,"on":"2026-05-06"}"#,
        );
        assert_eq!(step[0], ("日期".into(), None, Some("2026-05-06".into())));
        assert_eq!(step[1], ("已联系到评价人".into(), None, Some("否".into())));
        assert_eq!(step[2].0, "步骤");
        assert_ne!(step[2].2.as_deref(), Some("callback"));
        assert_eq!(
            words(
                "user.login_failed",
                None,
                r#"{"reason":"unknown or disabled account"}"#
            )[0]
            .2,
            Some("账号不存在或已停用".into())
        );
        {
            use super::super::login::failure;
            for reason in [
                failure::UNKNOWN_ACCOUNT,
                failure::LOCKED,
                failure::PASSWORD,
                failure::SECOND_FACTOR,
                failure::SECOND_FACTOR_USED,
            ] {
                let after = format!(r#"{{"reason":"{reason}"}}"#);
                for lang in Lang::ALL {
                    let got = changes(lang, "user.login_failed", None, Some(&after), &units);
                    assert_ne!(got[0].after.as_deref(), Some(reason), "{lang:?}");
                }
            }
        }
        assert_eq!(
            words(
                "cycle.amendment_values",
                None,
                r#"{"origin":"amendment:2"}"#
            )[0]
            .2,
            Some("更正（第 2 版）".into())
        );
        assert_eq!(
            words(
                "export.all",
                None,
                r#"{"tables":["units","service_cases"],"phones":"masked"}"#
            ),
            vec![
                ("电话号码".into(), None, Some("已遮盖".into())),
                ("数据表".into(), None, Some("单位；办件".into())),
            ]
        );
        // A section of the settings: only the setting that changed, under the section's name.
        let settings = changes(
            Lang::En,
            "settings.applied",
            Some(r#"{"ratings":{"window_days":30,"prior":10},"log":{"json":false}}"#),
            Some(r#"{"ratings":{"window_days":60,"prior":10},"log":{"json":false}}"#),
            &units,
        );
        assert_eq!(
            settings,
            vec![Change {
                key: "Public ratings · Days to rate after a case closes".into(),
                before: Some("30".into()),
                after: Some("60".into()),
            }]
        );
    }

    #[test]
    fn every_action_has_words_in_both_languages() {
        for code in kaohe_domain::audit::action::ALL {
            for lang in Lang::ALL {
                let words = action_words(lang, code);
                assert_ne!(words, *code, "{code} has no words in {lang:?}");
            }
        }
    }

    /// Where the test module of a source file starts.
    const TEST_MODULE: &str = "#[cfg(test)]\nmod ";

    /// The non-test Rust sources of the workspace (every crate's `src/` and the binary's), each
    /// cut before its test module, with their paths.
    fn workspace_sources() -> Vec<(String, String)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    let code = text
                        .split(TEST_MODULE)
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    out.push((path.display().to_string(), code));
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut out = Vec::new();
        walk(&root.join("src"), &mut out);
        for krate in std::fs::read_dir(root.join("crates"))
            .into_iter()
            .flatten()
            .flatten()
        {
            walk(&krate.path().join("src"), &mut out);
        }
        assert!(out.len() > 50, "the workspace's sources are found");
        out
    }

    /// The text from `from` up to the bracket that closes the one open before it, or up to the
    /// `;` that ends the statement.
    fn balanced(text: &str, from: usize) -> &str {
        let mut depth = 0i32;
        for (i, c) in text[from..].char_indices() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' if depth == 0 => return &text[from..from + i],
                ')' | ']' | '}' => depth -= 1,
                ';' if depth == 0 => return &text[from..from + i],
                _ => {}
            }
        }
        &text[from..]
    }

    /// The JSON keys written in `text`: `"key":` in `json!` and in JSON text alike.
    fn json_keys(text: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('"') {
            let after = &rest[open + 1..];
            let len = after
                .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(after.len());
            let tail = &after[len..];
            if len > 0 && tail.starts_with('"') {
                let colon = tail[1..].trim_start();
                if colon.starts_with(':') && !colon.starts_with("::") {
                    keys.push(after[..len].to_owned());
                }
                rest = &tail[1..];
            } else {
                rest = after;
            }
        }
        keys
    }

    /// Every field an audit entry's before or after can hold, by where it is written: the
    /// arguments of `.before(…)`/`.after(…)` and what is assigned to `.before`/`.after`, with
    /// the functions and closures of the same file they call.
    fn written_keys() -> Vec<(String, String)> {
        let mut found = Vec::new();
        for (path, code) in workspace_sources() {
            for pattern in [".after(", ".before(", ".after =", ".before ="] {
                for (at, _) in code.match_indices(pattern) {
                    let argument = balanced(&code, at + pattern.len());
                    let mut texts = vec![argument.to_owned()];
                    for (i, _) in argument.match_indices('(') {
                        let name: String = argument[..i]
                            .chars()
                            .rev()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .collect();
                        if name.is_empty() {
                            continue;
                        }
                        for definition in [format!("fn {name}("), format!("let {name} = ")] {
                            if let Some(start) = code.find(&definition) {
                                let body = &code[start + definition.len()..];
                                let end = if definition.starts_with("fn ") {
                                    body.find("\n}\n").unwrap_or(body.len())
                                } else {
                                    balanced(body, 0).len()
                                };
                                texts.push(body[..end].to_owned());
                            }
                        }
                    }
                    for key in texts.iter().flat_map(|t| json_keys(t)) {
                        found.push((key, path.clone()));
                    }
                }
            }
        }
        found
    }

    #[test]
    fn every_field_the_system_writes_into_an_entry_has_words_in_both_languages() {
        let mut keys = written_keys();
        // Sealing entries hold the seal itself, and mark one made after an upgrade.
        let seal = serde_json::to_value(kaohe_domain::ratings::seal::RatingSeal {
            ids: vec![(1, 2)],
            rows: 2,
            sha256: String::new(),
        })
        .unwrap_or_default();
        let sealed = seal
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>());
        for key in sealed
            .unwrap_or_default()
            .into_iter()
            .chain(["upgrade".into()])
        {
            keys.push((key, "kaohe_domain::ratings::seal".into()));
        }
        // The scan finds what is known to be written: a bug in it would pass anything.
        for known in [
            "must_change_password",
            "escalated_on",
            "roles",
            "cadre",
            "grade_level",
            "codes",
            "reason",
        ] {
            assert!(keys.iter().any(|(k, _)| k == known), "{known} not found");
        }
        let missing: Vec<String> = keys
            .iter()
            .filter(|(key, _)| {
                Lang::ALL
                    .iter()
                    .any(|lang| i18n::lookup(*lang, &format!("audit.key.{key}")).is_none())
            })
            .map(|(key, path)| format!("{key} ({path})"))
            .collect();
        assert!(missing.is_empty(), "fields without words: {missing:?}");
    }

    #[test]
    fn every_action_written_is_one_of_the_named_actions() {
        let mut calls = 0;
        for (path, code) in workspace_sources() {
            for (at, _) in code.match_indices("NewAuditEntry::new(") {
                calls += 1;
                let arguments = balanced(&code, at + "NewAuditEntry::new(".len());
                let mut depth = 0;
                let action = arguments
                    .split(|c: char| {
                        match c {
                            '(' | '[' | '{' => depth += 1,
                            ')' | ']' | '}' => depth -= 1,
                            _ => {}
                        }
                        c == ',' && depth == 0
                    })
                    .nth(1)
                    .unwrap_or_default()
                    .trim();
                assert!(
                    !action.starts_with('"') && !action.starts_with("format!"),
                    "{path}: the action {action} is not one of kaohe_domain::audit::action"
                );
            }
        }
        assert!(calls > 30, "the calls are found: {calls}");
    }
}
