//! Generated work records (纪实) in the database, for `kaohe gen --load` and the demo: the
//! indicators of the stored frameworks that take records, facts drawn by
//! `kaohe_data::synth::generate_records`, stored through `kaohe_store::records::work` in
//! chunks, each one transaction with its audit entry.

use anyhow::Context;
use kaohe_data::synth::{RecordSpec, RecordTarget, generate_records};
use kaohe_domain::Code;
use kaohe_domain::records::Verdict;
use kaohe_store::Store;
use kaohe_store::records::work;
use kaohe_store::records::{NewRecord, NewReview};

/// Records per transaction.
const CHUNK: usize = 50_000;

/// How often records speak to an indicator, relative to the others: work results most, the
/// findings of the negative lists rarely, a finding of political unfitness never (it is a
/// veto, recorded by hand).
fn weight(indicator: &str) -> f64 {
    match indicator {
        "routine_ji" => 6.0,
        "routine_lian" => 0.5,
        "political_unfit" => 0.0,
        i if i.starts_with("routine_") => 1.5,
        i if i.ends_with("_positive") => 0.8,
        i if i.ends_with("_negative") => 0.1,
        _ => 1.0,
    }
}

/// The indicators that take records, in the latest stored version of each framework.
async fn targets(store: &dyn Store) -> anyhow::Result<Vec<RecordTarget>> {
    let mut out = Vec::new();
    for (version, fw) in work::recordable(store).await? {
        for ind in fw.indicators() {
            if let Some(rule) = &ind.records {
                out.push(RecordTarget {
                    framework_id: fw.id().to_owned(),
                    framework_version: version.clone(),
                    indicator: ind.id.clone(),
                    kinds: rule.kinds.clone(),
                    points: rule.points,
                    weight: weight(&ind.id),
                });
            }
        }
    }
    Ok(out)
}

/// Generates records of `cadres` per `spec` and stores them; returns how many. `clerks`
/// record in turn, each record reviewed by the next of them (four eyes: never its recorder).
pub(crate) async fn load(
    store: &dyn Store,
    spec: &RecordSpec,
    cadres: &[Code],
    clerks: [&str; 2],
) -> anyhow::Result<usize> {
    let targets = targets(store).await?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut stored = 0;
    for (k, part) in cadres.chunks(CHUNK / spec.per_cadre.max(1)).enumerate() {
        let part_spec = RecordSpec {
            seed: spec.seed.wrapping_add(k as u64),
            ..spec.clone()
        };
        let records: Vec<NewRecord> = generate_records(&part_spec, part, &targets)
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let t = &targets[r.target];
                let at = |d: time::Date| {
                    d.midnight().assume_utc().unix_timestamp() + 10 * 3600 + (i as i64 % 3600)
                };
                NewRecord {
                    cadre: r.cadre,
                    date: r.date,
                    kind: r.kind,
                    framework: (t.framework_id.clone(), t.framework_version.clone()),
                    indicator: t.indicator.clone(),
                    points: r.points,
                    description: r.description,
                    source: r.source,
                    amends: None,
                    recorded_by: clerks[i % 2].to_owned(),
                    recorded_at: at(r.date).min(now),
                    files: Vec::new(),
                    review: r.review.map(|(verdict, reason)| NewReview {
                        verdict,
                        reason,
                        by: clerks[(i + 1) % 2].to_owned(),
                        at: (at(r.date)
                            + if verdict == Verdict::Verified { 2 } else { 3 } * 86_400)
                            .min(now),
                    }),
                }
            })
            .collect();
        work::add_reviewed(store, &records, clerks[0])
            .await
            .context("storing generated records")?;
        stored += records.len();
    }
    Ok(stored)
}
