//! The audit administrator's screen (`/admin/audit`): the latest entries of the audit log,
//! and a verification of its chain, by the same code as `kaohe audit verify`.

use crate::shell::AppState;
use crate::shell::page::{PageCtx, PageResult, render};
use crate::shell::params::QueryParams;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};

/// Most entries the audit page lists.
const AUDIT_ROWS: usize = 200;

#[derive(Debug)]
struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    after: String,
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
    let rows = entries
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
            action: e.action,
            target: e.target,
            after: e.after.unwrap_or_default(),
        })
        .collect();
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
    Ok(render(
        StatusCode::OK,
        &AdminAuditPage {
            ctx,
            action,
            rows,
            verification,
        },
    ))
}
