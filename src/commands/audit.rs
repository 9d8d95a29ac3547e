//! `kaohe audit`: verify, list and export the hash-chained audit log (审计日志).

use super::print;
use crate::cli::{AuditAction, AuditExportArgs};
use anyhow::Context;
use kaohe_domain::audit::action;
use kaohe_domain::{AuditEntry, AuditHead, NewAuditEntry};
use kaohe_store::{AuditVerification, Store, for_each_audit_entry};
use std::fmt::Write as _;
use time::format_description::well_known::Rfc3339;

/// Who the command line acts as in the audit log: `cli:USER` (the operating-system user), or
/// `cli` when unknown.
pub(crate) fn actor() -> String {
    match std::env::var("USER").ok().filter(|u| !u.trim().is_empty()) {
        Some(user) => format!("cli:{user}"),
        None => "cli".to_owned(),
    }
}

pub(crate) async fn run(action: &AuditAction, store: &dyn Store) -> anyhow::Result<()> {
    match action {
        AuditAction::Verify { expect_head } => verify(store, expect_head.as_ref()).await,
        AuditAction::List { limit, action } => list(store, *limit, action.as_deref()).await,
        AuditAction::Export(args) => export(store, args).await,
    }
}

async fn verify(store: &dyn Store, expect: Option<&AuditHead>) -> anyhow::Result<()> {
    let verification = kaohe_store::verify_audit(store, expect)
        .await
        .context("cannot read the audit log")?;
    let AuditVerification {
        report, unchecked, ..
    } = &verification;
    if verification.is_ok() {
        let mut out = format!(
            "audit log OK: {} entries, head {}\n",
            report.count, report.head
        );
        if *unchecked > 0 {
            let _ = writeln!(
                out,
                "({unchecked} entries appended while verifying were not checked)"
            );
        }
        return print(&out);
    }
    let problems = verification.problems();
    let mut out = String::new();
    for p in &problems {
        let _ = writeln!(out, "{p}");
    }
    print(&out)?;
    anyhow::bail!(
        "audit log verification failed: {} problem(s) in {} entries read",
        problems.len(),
        report.count
    )
}

fn rfc3339(e: &AuditEntry) -> String {
    e.at.format(&Rfc3339).unwrap_or_else(|_| e.at.to_string())
}

async fn list(store: &dyn Store, limit: usize, action: Option<&str>) -> anyhow::Result<()> {
    let last = kaohe_store::recent_audit_entries(store, limit, action)
        .await
        .context("cannot read the audit log")?;
    let mut out = String::new();
    for e in &last {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}",
            e.seq,
            rfc3339(e),
            e.actor,
            e.action,
            e.target,
            e.after.as_deref().unwrap_or("")
        );
    }
    print(&out)
}

/// A CSV field, quoted when needed.
fn csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

async fn export(store: &dyn Store, args: &AuditExportArgs) -> anyhow::Result<()> {
    let jsonl = match args.out.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("jsonl") => true,
        Some(e) if e.eq_ignore_ascii_case("csv") => false,
        _ => anyhow::bail!("--out must end in .csv or .jsonl"),
    };
    let from = args.from.map(|d| d.midnight().assume_utc());
    let to = args
        .to
        .map(|d| d.midnight().assume_utc() + time::Duration::days(1));
    let mut entries = Vec::new();
    for_each_audit_entry(store, 1, i64::MAX, |e| {
        if from.is_none_or(|f| e.at >= f) && to.is_none_or(|t| e.at < t) {
            entries.push(e.clone());
        }
    })
    .await?;
    let mut text = String::new();
    if jsonl {
        for e in &entries {
            let line = serde_json::json!({
                "seq": e.seq,
                "at": rfc3339(e),
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "before": e.before,
                "after": e.after,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            });
            let _ = writeln!(text, "{line}");
        }
    } else {
        text.push('\u{feff}');
        text.push_str("seq,at,actor,action,target,before,after,prev_hash,hash\n");
        for e in &entries {
            let at = rfc3339(e);
            let seq = e.seq.to_string();
            let fields = [
                seq.as_str(),
                at.as_str(),
                &e.actor,
                &e.action,
                &e.target,
                e.before.as_deref().unwrap_or(""),
                e.after.as_deref().unwrap_or(""),
                &e.prev_hash,
                &e.hash,
            ];
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                csv_field(&mut text, f);
            }
            text.push('\n');
        }
    }
    // The archive holds personal data: the export is itself recorded, before it is written.
    let date = |d: Option<time::Date>| d.map(|d| d.to_string());
    store
        .append_audit(
            &NewAuditEntry::new(
                actor(),
                action::AUDIT_EXPORT,
                args.out.display().to_string(),
            )
            .after(
                serde_json::json!({
                    "entries": entries.len(),
                    "from": date(args.from),
                    "to": date(args.to),
                })
                .to_string(),
            ),
        )
        .await
        .context("cannot record the export in the audit log")?;
    kaohe_data::write_atomic(&args.out, text.as_bytes())?;
    print(&format!(
        "wrote {} audit entries to {}\n",
        entries.len(),
        args.out.display()
    ))
}
