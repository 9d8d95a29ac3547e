//! Seals of stored ratings and rectification steps: what makes a changed, removed or inserted
//! one visible to `kaohe audit verify`, as the hash chain does for the audit log itself.
//!
//! Every transaction that stores ratings also appends an audit entry `ratings.seal` holding a
//! [`RatingSeal`]: the keys it stored (as ranges) and a SHA-256 digest over an unambiguous,
//! length-prefixed encoding of each stored row, in key order; every step of a rectification
//! is sealed the same way (`rectification.steps_seal`). The entry is part of the chain, so the
//! seal cannot be changed without the chain showing it. [`SealVerifier`] reads the stored rows
//! in key order against every seal and names each seal whose rows were changed or removed, and
//! each row no seal covers (inserted behind kaohe's back).
//!
//! What a rating may legitimately change after it is stored, its exclusion by an upheld
//! appeal (audited as `appeal.decide`), is not sealed.

use sha2::{Digest, Sha256};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;

/// The action of the audit entries that seal ratings.
pub const SEAL_ACTION: &str = crate::audit::action::RATINGS_SEAL;
/// The action of the audit entries that seal steps of rectifications.
pub const STEP_SEAL_ACTION: &str = crate::audit::action::RECTIFICATION_STEPS_SEAL;

/// A stored row a seal covers.
pub trait SealedRow {
    /// Its key: unique, and the order rows are read in.
    fn key(&self) -> i64;
    /// Feeds its unambiguous encoding to `hasher`.
    fn feed(&self, hasher: &mut Sha256);
}

fn feed_text(h: &mut Sha256, s: Option<&str>) {
    match s {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        }
    }
}

/// Domain-separation prefix of the digest (version 1).
const SEAL_TAG: &[u8] = b"kaohe-rating-seal-v1\0";

/// A rating as stored, the columns a seal covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRating {
    /// Id.
    pub id: i64,
    /// The case rated.
    pub case_id: String,
    /// Level, 1 to 5.
    pub level: i32,
    /// Tags, as stored.
    pub tags: String,
    /// Comment.
    pub comment: Option<String>,
    /// Channel code.
    pub channel: String,
    /// Real-name rating.
    pub real_name: bool,
    /// The rater's phone, as stored.
    pub contact: Option<String>,
    /// When it was rated, unix seconds.
    pub rated_at: i64,
}

impl SealedRow for SealedRating {
    fn key(&self) -> i64 {
        self.id
    }

    fn feed(&self, hasher: &mut Sha256) {
        let text = feed_text;
        hasher.update(self.id.to_be_bytes());
        text(hasher, Some(&self.case_id));
        hasher.update(self.level.to_be_bytes());
        text(hasher, Some(&self.tags));
        text(hasher, self.comment.as_deref());
        text(hasher, Some(&self.channel));
        hasher.update([u8::from(self.real_name)]);
        text(hasher, self.contact.as_deref());
        hasher.update(self.rated_at.to_be_bytes());
    }
}

/// A step of a rectification as stored, the columns a seal covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedStep {
    /// The rating whose rectification it is.
    pub rating_id: i64,
    /// Its number, from 1.
    pub seq: i32,
    /// Kind code.
    pub kind: String,
    /// Note.
    pub note: String,
    /// Whether a callback reached the rater.
    pub reached: Option<bool>,
    /// Verdict code of a callback.
    pub verdict: Option<String>,
    /// The day, `YYYY-MM-DD`.
    pub on_day: String,
    /// Who took it.
    pub actor: String,
    /// When, unix seconds.
    pub at: i64,
}

impl SealedStep {
    /// The key of step `seq` of rating `rating_id` (steps are numbered below 2^24).
    pub fn key_of(rating_id: i64, seq: i32) -> i64 {
        (rating_id << 24) | i64::from(seq & 0x00ff_ffff)
    }

    /// The rating and step number of a key.
    pub fn of_key(key: i64) -> (i64, i64) {
        (key >> 24, key & 0x00ff_ffff)
    }
}

impl SealedRow for SealedStep {
    fn key(&self) -> i64 {
        Self::key_of(self.rating_id, self.seq)
    }

    fn feed(&self, hasher: &mut Sha256) {
        hasher.update(b"step\0");
        hasher.update(self.rating_id.to_be_bytes());
        hasher.update(self.seq.to_be_bytes());
        feed_text(hasher, Some(&self.kind));
        feed_text(hasher, Some(&self.note));
        hasher.update([match self.reached {
            None => 0u8,
            Some(false) => 1,
            Some(true) => 2,
        }]);
        feed_text(hasher, self.verdict.as_deref());
        feed_text(hasher, Some(&self.on_day));
        feed_text(hasher, Some(&self.actor));
        hasher.update(self.at.to_be_bytes());
    }
}

/// What one transaction stored: its rows' keys as inclusive ranges, their number and the
/// digest of their content in key order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RatingSeal {
    /// Ids, as inclusive ranges in ascending order.
    pub ids: Vec<(i64, i64)>,
    /// Number of ratings.
    pub rows: u64,
    /// Hex SHA-256 of the ratings' encoding, in id order.
    pub sha256: String,
}

impl RatingSeal {
    /// The seal of `rows` (any order; keys are unique).
    pub fn of<R: SealedRow>(rows: &mut [R]) -> Self {
        rows.sort_unstable_by_key(SealedRow::key);
        let mut hasher = Sha256::new();
        hasher.update(SEAL_TAG);
        let mut ids: Vec<(i64, i64)> = Vec::new();
        for r in rows.iter() {
            r.feed(&mut hasher);
            let key = r.key();
            match ids.last_mut() {
                Some((_, end)) if *end + 1 == key => *end = key,
                _ => ids.push((key, key)),
            }
        }
        Self {
            ids,
            rows: rows.len() as u64,
            sha256: hex(&hasher.finalize()),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Something wrong with stored rows, found against their seals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealProblem {
    /// Rows of the seal in audit entry `seq` were removed: `found` of `sealed` are left.
    Removed {
        /// What the rows are: `ratings`, `rectification steps`.
        what: &'static str,
        /// The sealing entry.
        seq: i64,
        /// Ratings sealed.
        sealed: u64,
        /// Ratings found.
        found: u64,
    },
    /// The rows of the seal in audit entry `seq` are all there but their content differs.
    Changed {
        /// What the rows are.
        what: &'static str,
        /// The sealing entry.
        seq: i64,
    },
    /// Stored rows that no seal covers: inserted behind kaohe's back.
    Inserted {
        /// What the rows are.
        what: &'static str,
        /// Their keys in words (the first few).
        ids: Vec<String>,
        /// How many.
        count: u64,
    },
}

impl fmt::Display for SealProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Removed {
                what,
                seq,
                sealed,
                found,
            } => write!(
                f,
                "entry {seq}: {what} removed ({found} of the {sealed} sealed are left)"
            ),
            Self::Changed { what, seq } => write!(
                f,
                "entry {seq}: {what} changed (their content does not match the seal)"
            ),
            Self::Inserted { what, ids, count } => write!(
                f,
                "{count} {what} inserted without a seal ({}{})",
                ids.join(", "),
                if *count > ids.len() as u64 {
                    ", …"
                } else {
                    ""
                }
            ),
        }
    }
}

struct Open {
    seq: i64,
    seal: RatingSeal,
    hasher: Option<Sha256>,
    found: u64,
}

/// Checks stored rows, pushed in key order, against the seals of the audit log.
pub struct SealVerifier {
    what: &'static str,
    name: fn(i64) -> String,
    seals: Vec<Open>,
    /// (first id, last id, index in `seals`), by first id.
    ranges: Vec<(i64, i64, usize)>,
    /// Seals that got a rating, by their last id: closed once the ratings pass it.
    pending: BinaryHeap<Reverse<(i64, usize)>>,
    unsealed: Vec<i64>,
    last_id: Option<i64>,
    problems: Vec<SealProblem>,
}

/// Inserted ids named in a report.
const INSERTED_SHOWN: usize = 10;

impl SealVerifier {
    /// A verifier of stored ratings against the seals found in the audit log: `(seq of the
    /// entry, seal)`.
    pub fn ratings(seals: Vec<(i64, RatingSeal)>) -> Self {
        Self::new("ratings", |id| format!("id {id}"), seals)
    }

    /// A verifier of stored steps of rectifications against their seals.
    pub fn steps(seals: Vec<(i64, RatingSeal)>) -> Self {
        Self::new(
            "rectification steps",
            |key| {
                let (rating, seq) = SealedStep::of_key(key);
                format!("rating {rating} step {seq}")
            },
            seals,
        )
    }

    fn new(what: &'static str, name: fn(i64) -> String, seals: Vec<(i64, RatingSeal)>) -> Self {
        let seals: Vec<Open> = seals
            .into_iter()
            .map(|(seq, seal)| Open {
                seq,
                seal,
                hasher: None,
                found: 0,
            })
            .collect();
        let mut ranges: Vec<(i64, i64, usize)> = seals
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.seal.ids.iter().map(move |&(a, b)| (a, b, i)))
            .collect();
        ranges.sort_unstable();
        Self {
            what,
            name,
            seals,
            ranges,
            pending: BinaryHeap::new(),
            unsealed: Vec::new(),
            last_id: None,
            problems: Vec::new(),
        }
    }

    /// The next stored row; rows must come in ascending key order.
    pub fn push<R: SealedRow>(&mut self, row: &R) {
        let key = row.key();
        self.close_before(key);
        if self.last_id.is_some_and(|last| last >= key) {
            // Not in key order: the caller's fault, not the data's; counted as unsealed.
            self.unsealed.push(key);
            return;
        }
        self.last_id = Some(key);
        let at = self.ranges.partition_point(|(a, _, _)| *a <= key);
        let seal = at
            .checked_sub(1)
            .map(|k| self.ranges[k])
            .filter(|(_, b, _)| key <= *b)
            .map(|(_, _, i)| i);
        let Some(i) = seal else {
            self.unsealed.push(key);
            return;
        };
        let open = &mut self.seals[i];
        let hasher = open.hasher.get_or_insert_with(|| {
            let mut h = Sha256::new();
            h.update(SEAL_TAG);
            h
        });
        row.feed(hasher);
        open.found += 1;
        if open.found == 1 {
            let last = open.seal.ids.last().map_or(key, |(_, b)| *b);
            self.pending.push(Reverse((last, i)));
        }
    }

    fn close_before(&mut self, id: i64) {
        while let Some(Reverse((last, i))) = self.pending.peek().copied() {
            if last >= id {
                break;
            }
            self.pending.pop();
            self.close(i);
        }
    }

    fn close(&mut self, i: usize) {
        let open = &mut self.seals[i];
        let digest = open.hasher.take().map(|h| hex(&h.finalize()));
        let problem = if open.found < open.seal.rows {
            Some(SealProblem::Removed {
                what: self.what,
                seq: open.seq,
                sealed: open.seal.rows,
                found: open.found,
            })
        } else if digest.as_deref() != Some(open.seal.sha256.as_str()) {
            Some(SealProblem::Changed {
                what: self.what,
                seq: open.seq,
            })
        } else {
            None
        };
        self.problems.extend(problem);
    }

    /// Every problem found, by sealing entry, then the ratings inserted: those no seal
    /// covers, neither one given to [`SealVerifier::new`] nor one of `later` (seals appended
    /// while the ratings were read, whose content is not checked).
    pub fn finish(mut self, later: &[RatingSeal]) -> Vec<SealProblem> {
        self.close_before(i64::MAX);
        for i in 0..self.seals.len() {
            if self.seals[i].found == 0 && self.seals[i].seal.rows > 0 {
                self.close(i);
            }
        }
        self.problems.sort_by_key(|p| match p {
            SealProblem::Removed { seq, .. } | SealProblem::Changed { seq, .. } => *seq,
            SealProblem::Inserted { .. } => i64::MAX,
        });
        let later: Vec<(i64, i64)> = later.iter().flat_map(|s| s.ids.iter().copied()).collect();
        let inserted: Vec<i64> = self
            .unsealed
            .into_iter()
            .filter(|id| !later.iter().any(|(a, b)| a <= id && id <= b))
            .collect();
        if let Some(count) = (!inserted.is_empty()).then_some(inserted.len() as u64) {
            self.problems.push(SealProblem::Inserted {
                what: self.what,
                ids: inserted
                    .into_iter()
                    .take(INSERTED_SHOWN)
                    .map(self.name)
                    .collect(),
                count,
            });
        }
        self.problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rating(id: i64, level: i32) -> SealedRating {
        SealedRating {
            id,
            case_id: format!("BJ-{id}"),
            level,
            tags: String::new(),
            comment: Some("好".into()),
            channel: "window".into(),
            real_name: false,
            contact: None,
            rated_at: 1_700_000_000 + id,
        }
    }

    fn verify(seals: &[(i64, RatingSeal)], stored: &[SealedRating]) -> Vec<SealProblem> {
        let mut v = SealVerifier::ratings(seals.to_vec());
        for r in stored {
            v.push(r);
        }
        v.finish(&[])
    }

    #[test]
    fn seals_name_changed_removed_and_inserted_ratings() {
        let mut first = vec![rating(1, 1), rating(2, 5), rating(4, 3)];
        let mut second = vec![rating(3, 2), rating(5, 4)];
        let seals = vec![
            (7, RatingSeal::of(&mut first)),
            (9, RatingSeal::of(&mut second)),
        ];
        assert_eq!(seals[0].1.ids, vec![(1, 2), (4, 4)]);
        let stored = [
            rating(1, 1),
            rating(2, 5),
            rating(3, 2),
            rating(4, 3),
            rating(5, 4),
        ];
        assert!(verify(&seals, &stored).is_empty());

        // Level 1 rewritten as 5.
        let mut changed = stored.clone();
        changed[0].level = 5;
        assert_eq!(
            verify(&seals, &changed),
            vec![SealProblem::Changed {
                what: "ratings",
                seq: 7
            }]
        );
        // One removed.
        let removed = [rating(1, 1), rating(2, 5), rating(3, 2), rating(5, 4)];
        assert_eq!(
            verify(&seals, &removed),
            vec![SealProblem::Removed {
                what: "ratings",
                seq: 7,
                sealed: 3,
                found: 2
            }]
        );
        // All of a seal removed.
        let gone = [rating(3, 2), rating(5, 4)];
        assert_eq!(
            verify(&seals, &gone),
            vec![SealProblem::Removed {
                what: "ratings",
                seq: 7,
                sealed: 3,
                found: 0
            }]
        );
        // One inserted after the others.
        let mut inserted = stored.to_vec();
        inserted.push(rating(6, 5));
        assert_eq!(
            verify(&seals, &inserted),
            vec![SealProblem::Inserted {
                what: "ratings",
                ids: vec!["id 6".into()],
                count: 1
            }]
        );
        assert_eq!(
            verify(&seals, &inserted)[0].to_string(),
            "1 ratings inserted without a seal (id 6)"
        );
        // Unless a seal appended while verifying covers it.
        let mut v = SealVerifier::ratings(seals);
        for r in &inserted {
            v.push(r);
        }
        assert!(v.finish(&[RatingSeal::of(&mut [rating(6, 5)])]).is_empty());
    }

    #[test]
    fn steps_are_sealed_by_rating_and_number() {
        let step = |rating_id: i64, seq: i32, note: &str| SealedStep {
            rating_id,
            seq,
            kind: "verify".into(),
            note: note.into(),
            reached: None,
            verdict: None,
            on_day: "2026-03-05".into(),
            actor: "leader".into(),
            at: 1,
        };
        assert_eq!(SealedStep::of_key(SealedStep::key_of(12, 3)), (12, 3));
        let seals = vec![
            (4, RatingSeal::of(&mut [step(1, 1, "核实")])),
            (5, RatingSeal::of(&mut [step(1, 2, "整改")])),
        ];
        let mut v = SealVerifier::steps(seals);
        for s in [step(1, 1, "核实"), step(1, 2, "已改"), step(2, 1, "新")] {
            v.push(&s);
        }
        let found: Vec<String> = v.finish(&[]).iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            vec![
                "entry 5: rectification steps changed (their content does not match the seal)",
                "1 rectification steps inserted without a seal (rating 2 step 1)"
            ]
        );
    }
}
