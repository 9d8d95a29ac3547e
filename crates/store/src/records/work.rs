//! The steps of work records, for the web, the API, the CLI and the generator alike: record a
//! fact (checked against the rules of records and the indicator's range in its framework),
//! review it (never by whoever recorded it), correct it by amendment, read its evidence back
//! (hash checked), and turn a period's counted points into indicator values.

use super::{NewRecord, NewReview, PointSum, Record};
use crate::files::{FileInfo, NewFile, Vault, VaultError};
use crate::{Store, StoreError};
use kaohe_domain::Code;
use kaohe_domain::access::{FourEyesError, check_four_eyes};
use kaohe_domain::audit::action;
use kaohe_domain::records::{
    RecordError, RecordKind, RecordSource, RecordState, Verdict, check_amendable, check_reason,
    check_record,
};
use kaohe_domain::{Labeled, NewAuditEntry};
use kaohe_engine::Framework;
use kaohe_engine::framework::{Indicator, RecordRuleError};
use std::collections::HashMap;
use time::Date;

/// Why a step on records is refused.
#[derive(Debug, thiserror::Error)]
pub enum RecordWorkError {
    /// The store failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A rule of records refused it.
    #[error(transparent)]
    Rule(#[from] RecordError),
    /// The points or kind do not fit the indicator.
    #[error(transparent)]
    Indicator(#[from] RecordRuleError),
    /// The decider recorded the fact (four eyes).
    #[error(transparent)]
    FourEyes(#[from] FourEyesError),
    /// The evidence store failed or found a file changed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// No such record.
    #[error("no record {0}")]
    NoRecord(i64),
    /// No such official.
    #[error("cadre: no cadre {0}")]
    NoCadre(String),
    /// The framework or indicator named is not one records can fill.
    #[error("{0}")]
    Framework(String),
    /// An amendment names another official than the record it corrects.
    #[error("cadre: an amendment corrects a record of {expected}, not of {given}")]
    OtherCadre {
        /// The corrected record's official.
        expected: String,
        /// The one given.
        given: String,
    },
    /// A record given in a list (a file) is refused: where and why.
    #[error("{place}: {source}")]
    At {
        /// Where (e.g. `row 4`).
        place: String,
        /// Why.
        #[source]
        source: Box<RecordWorkError>,
    },
}

/// A fact as a person or a file gives it, before it is checked.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordInput {
    /// The official.
    pub cadre: Code,
    /// Date of the fact.
    pub date: Date,
    /// Positive or negative.
    pub kind: RecordKind,
    /// Framework id.
    pub framework_id: String,
    /// Framework version; `None` = the latest stored.
    pub framework_version: Option<String>,
    /// The indicator it speaks to.
    pub indicator: String,
    /// Points.
    pub points: f64,
    /// What happened.
    pub description: String,
    /// Where it was seen.
    pub source: RecordSource,
    /// Evidence files, already checked by kind and size.
    pub files: Vec<NewFile>,
}

/// The indicators records can fill: each stored framework's latest version, with the
/// indicators that have a record rule.
pub async fn recordable(store: &dyn Store) -> Result<Vec<(String, Framework)>, RecordWorkError> {
    let mut latest: HashMap<String, (i64, String)> = HashMap::new();
    for f in store.frameworks().await? {
        let e = latest
            .entry(f.id.clone())
            .or_insert((f.created_at, f.version.clone()));
        if f.created_at >= e.0 {
            *e = (f.created_at, f.version.clone());
        }
    }
    let mut out = Vec::new();
    for (id, (_, version)) in latest {
        if let Some(stored) = store.framework(&id, &version).await?
            && let Ok(fw) = Framework::from_toml_str(&stored.source)
            && fw.indicators().iter().any(|i| i.records.is_some())
        {
            out.push((version, fw));
        }
    }
    out.sort_by(|a, b| a.1.id().cmp(b.1.id()));
    Ok(out)
}

/// The framework of a record: the version named, or the latest stored.
async fn framework_of(
    store: &dyn Store,
    id: &str,
    version: Option<&str>,
) -> Result<(String, Framework), RecordWorkError> {
    let version = match version {
        Some(v) => v.to_owned(),
        None => store
            .frameworks()
            .await?
            .into_iter()
            .filter(|f| f.id == id)
            .max_by_key(|f| f.created_at)
            .map(|f| f.version)
            .ok_or_else(|| {
                RecordWorkError::Framework(format!("framework: no framework {id} is stored"))
            })?,
    };
    let stored = store.framework(id, &version).await?.ok_or_else(|| {
        RecordWorkError::Framework(format!(
            "framework: no framework {id} version {version} is stored"
        ))
    })?;
    let fw = Framework::from_toml_str(&stored.source)
        .map_err(|e| RecordWorkError::Framework(format!("framework {id} {version}: {e}")))?;
    Ok((version, fw))
}

fn indicator_of<'a>(fw: &'a Framework, id: &str) -> Result<&'a Indicator, RecordWorkError> {
    fw.indicators().iter().find(|i| i.id == id).ok_or_else(|| {
        RecordWorkError::Framework(format!(
            "indicator: framework {} has no indicator {id}",
            fw.id()
        ))
    })
}

/// Checks a fact against the rules of records and its indicator's range: the record to store.
fn check_input(
    input: RecordInput,
    version: String,
    fw: &Framework,
    today: Date,
    actor: &str,
    now: i64,
) -> Result<NewRecord, RecordWorkError> {
    check_record(&input.description, input.date, today, input.points)?;
    let ind = indicator_of(fw, &input.indicator)?;
    let rule = ind
        .records
        .as_ref()
        .ok_or_else(|| RecordRuleError::NoRecords(ind.id.clone()))?;
    rule.check(&ind.id, input.kind, input.points)?;
    Ok(NewRecord {
        cadre: input.cadre,
        date: input.date,
        kind: input.kind,
        framework: (input.framework_id, version),
        indicator: input.indicator,
        points: input.points,
        description: input.description.trim().to_owned(),
        source: input.source,
        amends: None,
        recorded_by: actor.to_owned(),
        recorded_at: now,
        files: input.files,
        review: None,
    })
}

/// Checks facts and stores them all or none (a file import, the form, the API), with their
/// evidence kept where `vault` says. Every refused fact is named by `places[i]` (e.g.
/// `row 4`); the first refusal is returned.
pub async fn add(
    store: &dyn Store,
    vault: &Vault,
    inputs: Vec<RecordInput>,
    places: &[String],
    today: Date,
    actor: &str,
) -> Result<Vec<i64>, RecordWorkError> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut frameworks: HashMap<(String, Option<String>), (String, Framework)> = HashMap::new();
    let mut known: HashMap<Code, bool> = HashMap::new();
    let mut out = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.into_iter().enumerate() {
        let at = |e: RecordWorkError| match places.get(i) {
            Some(place) => RecordWorkError::At {
                place: place.clone(),
                source: Box::new(e),
            },
            None => e,
        };
        let exists = match known.get(&input.cadre) {
            Some(&b) => b,
            None => {
                let b = store.get_cadre(&input.cadre).await?.is_some();
                known.insert(input.cadre.clone(), b);
                b
            }
        };
        if !exists {
            return Err(at(RecordWorkError::NoCadre(input.cadre.to_string())));
        }
        let key = (input.framework_id.clone(), input.framework_version.clone());
        if !frameworks.contains_key(&key) {
            let got = framework_of(store, &key.0, key.1.as_deref())
                .await
                .map_err(at)?;
            frameworks.insert(key.clone(), got);
        }
        let Some((version, fw)) = frameworks.get(&key) else {
            continue;
        };
        out.push(check_input(input, version.clone(), fw, today, actor, now).map_err(at)?);
    }
    store_records(store, vault, &out, actor, action::RECORD_ADD).await
}

async fn store_records(
    store: &dyn Store,
    vault: &Vault,
    records: &[NewRecord],
    actor: &str,
    action: &str,
) -> Result<Vec<i64>, RecordWorkError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let files: Vec<NewFile> = records.iter().flat_map(|r| r.files.clone()).collect();
    vault.keep(&files)?;
    let target = match records {
        [one] => format!("cadre:{}", one.cadre),
        many => format!("records:{}", many.len()),
    };
    let audit = NewAuditEntry::new(actor, action, target).after(
        serde_json::json!({
            "records": records.len(),
            "files": files.len(),
            "sha256": files.iter().map(|f| f.sha256.as_str()).collect::<Vec<_>>(),
        })
        .to_string(),
    );
    let in_db = matches!(vault, Vault::Database);
    Ok(store.add_records(records, in_db, &audit).await?)
}

/// Stores records that come already reviewed (the generator, the demo), all or none, without
/// the checks of a person's input: the caller made them within the rules.
pub async fn add_reviewed(
    store: &dyn Store,
    records: &[NewRecord],
    actor: &str,
) -> Result<Vec<i64>, RecordWorkError> {
    store_records(store, &Vault::Database, records, actor, action::RECORD_LOAD).await
}

/// One record, or [`RecordWorkError::NoRecord`].
pub async fn record_of(store: &dyn Store, id: i64) -> Result<Record, RecordWorkError> {
    store.record(id).await?.ok_or(RecordWorkError::NoRecord(id))
}

/// Reviews a record: verified or rejected (a rejection needs a reason), never by whoever
/// recorded it (four eyes), once.
pub async fn review(
    store: &dyn Store,
    id: i64,
    verdict: Verdict,
    reason: &str,
    actor: &str,
) -> Result<(), RecordWorkError> {
    let record = record_of(store, id).await?;
    check_four_eyes([record.recorded_by.as_str()], actor)?;
    check_reason(reason, verdict == Verdict::Rejected)?;
    if record.review.is_some() {
        return Err(RecordError::AlreadyReviewed(id).into());
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let audit = NewAuditEntry::new(actor, action::RECORD_REVIEW, format!("record:{id}"))
        .before(serde_json::json!({"state": record.state().code()}).to_string())
        .after(serde_json::json!({"verdict": verdict.code(), "reason": reason.trim()}).to_string());
    store
        .review_record(
            id,
            &NewReview {
                verdict,
                reason: reason.trim().to_owned(),
                by: actor.to_owned(),
                at: now,
            },
            &audit,
        )
        .await?;
    Ok(())
}

/// Corrects record `id` by an amendment: a new record (checked like any other, of the same
/// official) that names it, with a reason. It awaits review like any record; once verified it
/// counts instead of the one it corrects, and both stay.
pub async fn amend(
    store: &dyn Store,
    vault: &Vault,
    id: i64,
    input: RecordInput,
    reason: &str,
    today: Date,
    actor: &str,
) -> Result<i64, RecordWorkError> {
    let original = record_of(store, id).await?;
    check_amendable(id, original.state())?;
    check_reason(reason, true)?;
    if input.cadre != original.cadre {
        return Err(RecordWorkError::OtherCadre {
            expected: original.cadre.to_string(),
            given: input.cadre.to_string(),
        });
    }
    let pending = store
        .amendments_of(id)
        .await?
        .into_iter()
        .any(|a| a.state() == RecordState::Recorded);
    if pending {
        return Err(RecordWorkError::Framework(format!(
            "record {id} has an amendment awaiting review already"
        )));
    }
    let (version, fw) = framework_of(
        store,
        &input.framework_id,
        input.framework_version.as_deref(),
    )
    .await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut record = check_input(input, version, &fw, today, actor, now)?;
    record.amends = Some((id, reason.trim().to_owned()));
    let ids = store_records(store, vault, &[record], actor, action::RECORD_AMEND).await?;
    ids.first()
        .copied()
        .ok_or_else(|| RecordWorkError::NoRecord(id))
}

/// An evidence file of a record with its content, the hash checked.
pub async fn evidence(
    store: &dyn Store,
    vault: &Vault,
    record: i64,
    file: i64,
) -> Result<Option<(FileInfo, Vec<u8>)>, RecordWorkError> {
    let Some((info, stored)) = store.record_file(record, file).await? else {
        return Ok(None);
    };
    let bytes = vault.read(&info, stored)?;
    Ok(Some((info, bytes)))
}

/// The indicators of `fw` that records fill, in framework order.
pub fn record_columns(fw: &Framework) -> Vec<String> {
    fw.indicators()
        .iter()
        .filter(|i| i.records.is_some())
        .map(|i| i.id.clone())
        .collect()
}

/// The values of the record-filled indicators of `fw` (in the order of [`record_columns`]) for
/// each of `people`, from the counted points of the period: the base of an indicator for
/// someone with no record, the rule's sum within its caps otherwise.
pub fn indicator_values(
    fw: &Framework,
    sums: &[PointSum],
    people: &[Code],
) -> Vec<(Code, Vec<Option<f64>>)> {
    let filled: Vec<&Indicator> = fw
        .indicators()
        .iter()
        .filter(|i| i.records.is_some())
        .collect();
    let column: HashMap<&str, usize> = filled
        .iter()
        .enumerate()
        .map(|(k, i)| (i.id.as_str(), k))
        .collect();
    // Per person and column: (positive points, negative points).
    let mut points: HashMap<&Code, Vec<(f64, f64)>> = HashMap::new();
    for s in sums {
        let Some(&k) = column.get(s.indicator.as_str()) else {
            continue;
        };
        let row = points
            .entry(&s.cadre)
            .or_insert_with(|| vec![(0.0, 0.0); filled.len()]);
        match s.kind {
            RecordKind::Positive => row[k].0 += s.points,
            RecordKind::Negative => row[k].1 += s.points,
        }
    }
    let zero = vec![(0.0, 0.0); filled.len()];
    people
        .iter()
        .map(|p| {
            let row = points.get(p).unwrap_or(&zero);
            let values = filled
                .iter()
                .zip(row)
                .map(|(ind, &(pos, neg))| {
                    ind.records
                        .as_ref()
                        .map(|r| r.value(ind.direction, pos, neg))
                })
                .collect();
            (p.clone(), values)
        })
        .collect()
}
