//! Reading the whole audit log back and verifying its hash chain against the stored head.
//!
//! The chain rules live in `kaohe_domain::audit`; this module only feeds them the stored
//! entries page by page, for `kaohe audit verify` and the audit administrator's screen alike.

use crate::{Store, StoreError};
use kaohe_domain::audit::{HeadSource, Verifier};
use kaohe_domain::ratings::seal::{
    RatingSeal, SEAL_ACTION, STEP_SEAL_ACTION, SealProblem, SealVerifier, SealedStep,
};
use kaohe_domain::{AuditEntry, AuditHead, AuditProblem, AuditReport};
use std::collections::VecDeque;

/// Entries read per query.
pub const AUDIT_PAGE: u32 = 1000;

/// Ratings read per query when checking them against their seals.
const RATINGS_PAGE: u32 = 10_000;

/// The outcome of verifying the stored chain and the ratings it seals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    /// What the chain rules found.
    pub report: AuditReport,
    /// Entries appended while verifying, beyond the head read at the start: not checked.
    pub unchecked: i64,
    /// Ratings and steps of rectifications changed, removed or inserted, found against their
    /// seals ([`kaohe_domain::ratings::seal`]).
    pub sealed: Vec<SealProblem>,
}

impl AuditVerification {
    /// Whether the chain is intact and every stored rating matches its seal.
    pub fn is_ok(&self) -> bool {
        self.report.is_ok() && self.sealed.is_empty()
    }

    /// Every problem, in words: the chain's, then the ratings'.
    pub fn problems(&self) -> Vec<String> {
        self.report
            .problems
            .iter()
            .map(ToString::to_string)
            .chain(self.sealed.iter().map(ToString::to_string))
            .collect()
    }
}

/// Calls `f` on every stored entry with `from <= seq <= to`, in order, a page at a time.
pub async fn for_each_audit_entry(
    store: &dyn Store,
    from: i64,
    to: i64,
    mut f: impl FnMut(&AuditEntry) + Send,
) -> Result<(), StoreError> {
    let mut next = from;
    while next <= to {
        let page = store.audit_entries(next, AUDIT_PAGE).await?;
        for e in page.iter().take_while(|e| e.seq <= to) {
            f(e);
        }
        match page.last() {
            Some(last) if page.len() == AUDIT_PAGE as usize && last.seq < to => next = last.seq + 1,
            _ => break,
        }
    }
    Ok(())
}

/// Verifies every stored entry against the chain rules and the head recorded in the
/// database, and against `expect` (a head the operator recorded elsewhere) when given.
pub async fn verify_audit(
    store: &dyn Store,
    expect: Option<&AuditHead>,
) -> Result<AuditVerification, StoreError> {
    // The head first: entries and head commit together, so every entry up to it is complete.
    // Entries appended while verifying lie beyond it and are checked against a later head.
    let recorded = store.audit_head().await?;
    let mut verifier = Verifier::new();
    verifier.expect_head(HeadSource::Database, recorded.clone());
    if let Some(head) = expect {
        verifier.expect_head(HeadSource::Operator, head.clone());
    }
    let mut seals: Vec<(i64, RatingSeal)> = Vec::new();
    let mut step_seals: Vec<(i64, RatingSeal)> = Vec::new();
    for_each_audit_entry(store, 1, recorded.seq, |e| {
        verifier.push(e);
        seals.extend(seal_of(e, SEAL_ACTION).map(|seal| (e.seq, seal)));
        step_seals.extend(seal_of(e, STEP_SEAL_ACTION).map(|seal| (e.seq, seal)));
    })
    .await?;
    // The stored rows after the chain up to the head, and the entries beyond the head after
    // the rows: a row stored meanwhile commits with its seal, which is then among them.
    let mut ratings = SealVerifier::ratings(seals);
    let mut after = 0i64;
    loop {
        let page = store.sealed_ratings(after, RATINGS_PAGE).await?;
        for r in &page {
            ratings.push(r);
        }
        match page.last() {
            Some(last) if page.len() == RATINGS_PAGE as usize => after = last.id,
            _ => break,
        }
    }
    let mut steps = SealVerifier::steps(step_seals);
    let mut after = 0i64;
    loop {
        let page = store.sealed_steps(after, RATINGS_PAGE).await?;
        for s in &page {
            steps.push(s);
        }
        match page.last() {
            Some(last) if page.len() == RATINGS_PAGE as usize => {
                after = SealedStep::key_of(last.rating_id, last.seq);
            }
            _ => break,
        }
    }
    let mut unchecked = 0i64;
    let mut beyond_last = recorded.seq;
    let (mut later, mut later_steps): (Vec<RatingSeal>, Vec<RatingSeal>) = (Vec::new(), Vec::new());
    for_each_audit_entry(store, recorded.seq.saturating_add(1), i64::MAX, |e| {
        unchecked += 1;
        beyond_last = e.seq;
        later.extend(seal_of(e, SEAL_ACTION));
        later_steps.extend(seal_of(e, STEP_SEAL_ACTION));
    })
    .await?;
    let mut report = verifier.finish();
    if unchecked > 0 {
        let now = store.audit_head().await?;
        if now.seq < beyond_last {
            report.problems.push(AuditProblem::Unrecorded {
                head_seq: now.seq,
                last_seq: beyond_last,
            });
        }
    }
    Ok(AuditVerification {
        report,
        unchecked,
        sealed: ratings
            .finish(&later)
            .into_iter()
            .chain(steps.finish(&later_steps))
            .collect(),
    })
}

/// The seal an entry holds, if it is a sealing entry of `action`.
fn seal_of(e: &AuditEntry, action: &str) -> Option<RatingSeal> {
    (e.action == action)
        .then(|| serde_json::from_str(e.after.as_deref()?).ok())
        .flatten()
}

/// The last `limit` entries whose action starts with `action` (all entries without a filter),
/// oldest first. Without a filter only those entries are read; with one the log is scanned.
pub async fn recent_audit_entries(
    store: &dyn Store,
    limit: usize,
    action: Option<&str>,
) -> Result<Vec<AuditEntry>, StoreError> {
    let head = store.audit_head().await?;
    let from = match action {
        None => head
            .seq
            .saturating_sub(i64::try_from(limit).unwrap_or(i64::MAX))
            .saturating_add(1)
            .max(1),
        Some(_) => 1,
    };
    let mut last: VecDeque<AuditEntry> = VecDeque::with_capacity(limit.min(10_000));
    for_each_audit_entry(store, from, i64::MAX, |e| {
        if action.is_none_or(|p| e.action.starts_with(p)) && limit > 0 {
            if last.len() == limit {
                last.pop_front();
            }
            last.push_back(e.clone());
        }
    })
    .await?;
    Ok(last.into())
}
