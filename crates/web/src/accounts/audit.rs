//! The audit administrator's screen (`/admin/audit`): the latest entries of the audit log in
//! words (what was done, and what changed, before → after), and a verification of its chain,
//! by the same code as `kaohe audit verify`.

use crate::shell::AppState;
use crate::shell::download::{suffix_of, table_file};
use crate::shell::i18n::{self, Lang};
use crate::shell::page::{PageCtx, PageResult, render};
use crate::shell::params::{QueryParams, href};
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use kaohe_data::WideCell;
use kaohe_domain::Labeled;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

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
        "audit.action",
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

/// A value in words: a label for the codes of a few known fields (roles, states, decisions),
/// a unit's name for a unit code, yes or no, lists joined, nested fields as `key=value`.
fn value_words(lang: Lang, key: &str, v: &Value, units: &HashMap<String, String>) -> String {
    fn label<T: Labeled>(code: &str, lang: Lang) -> Option<String> {
        T::parse_label(code)
            .ok()
            .map(|v| v.label(lang.code()).to_owned())
    }
    match v {
        Value::Null => "—".to_owned(),
        Value::Bool(b) => i18n::t(lang, if *b { "yes" } else { "no" }).to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let words = match key {
                "roles" | "role" => label::<kaohe_domain::Role>(s, lang),
                "state" => label::<kaohe_domain::cycles::CycleState>(s, lang),
                "kind" => label::<kaohe_domain::cycles::CycleKind>(s, lang),
                "decision" => label::<kaohe_domain::cycles::Decision>(s, lang),
                "origin" => label::<kaohe_domain::cycles::ValueOrigin>(s, lang),
                "status" => label::<kaohe_domain::ratings::rectification::Status>(s, lang),
                "unit" | "units" => units.get(s).cloned(),
                _ => None,
            };
            words.unwrap_or_else(|| s.clone())
        }
        Value::Array(items) => items
            .iter()
            .map(|i| value_words(lang, key, i, units))
            .collect::<Vec<_>>()
            .join(i18n::t(lang, "punct.list")),
        Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| format!("{}={}", key_words(lang, k), value_words(lang, k, v, units)))
            .collect::<Vec<_>>()
            .join(i18n::t(lang, "punct.list")),
    }
}

/// A field's name in words (`audit.key.<key>`), or the key itself.
fn key_words(lang: Lang, key: &str) -> String {
    i18n::lookup(lang, &format!("audit.key.{key}")).map_or_else(|| key.to_owned(), str::to_owned)
}

/// The fields of an entry's before and after that differ, in words; text that is not a JSON
/// object is one change of its own.
fn changes(
    lang: Lang,
    before: Option<&str>,
    after: Option<&str>,
    units: &HashMap<String, String>,
) -> Vec<Change> {
    let object = |t: Option<&str>| -> Option<BTreeMap<String, Value>> {
        t.and_then(|t| serde_json::from_str::<BTreeMap<String, Value>>(t).ok())
    };
    match (object(before), object(after)) {
        (b, a) if (b.is_some() || before.is_none()) && (a.is_some() || after.is_none()) => {
            let b = b.unwrap_or_default();
            let a = a.unwrap_or_default();
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| b.get(*k) != a.get(*k))
                .map(|k| Change {
                    key: key_words(lang, k),
                    before: b.get(k).map(|v| value_words(lang, k, v, units)),
                    after: a.get(k).map(|v| value_words(lang, k, v, units)),
                })
                .collect()
        }
        _ => vec![Change {
            key: String::new(),
            before: before.map(str::to_owned),
            after: after.map(str::to_owned),
        }],
    }
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
            changes: changes(lang, e.before.as_deref(), e.after.as_deref(), &units),
            code: e.action,
            target: units.get(&e.target).cloned().unwrap_or(e.target),
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

    #[test]
    fn actions_fields_and_values_read_as_words() {
        assert_eq!(action_words(Lang::Zh, "user.login"), "登录");
        assert_eq!(action_words(Lang::En, "user.login"), "Signed in");
        assert_eq!(action_words(Lang::Zh, "something.new"), "something.new");
        let units = HashMap::from([("340128".to_owned(), "春德县".to_owned())]);
        let got = changes(
            Lang::Zh,
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
            None,
            Some(r#"{"state":"computed","people":800}"#),
            &units,
        );
        assert_eq!(created.len(), 2);
        assert_eq!(created[1].after.as_deref(), Some("已计算"));
        let text = changes(Lang::Zh, None, Some("not json"), &units);
        assert_eq!(text[0].after.as_deref(), Some("not json"));
    }
}
