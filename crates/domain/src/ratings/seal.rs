//! Seals of stored ratings: what makes a changed, removed or inserted rating visible to
//! `kaohe audit verify`, as the hash chain does for the audit log itself.
//!
//! Every transaction that stores ratings also appends an audit entry `ratings.seal` holding a
//! [`RatingSeal`]: the ids it stored (as ranges) and a SHA-256 digest over an unambiguous,
//! length-prefixed encoding of each stored rating, in id order. The entry is part of the
//! chain, so the seal cannot be changed without the chain showing it. [`SealVerifier`] reads
//! the stored ratings in id order against every seal and names each seal whose ratings were
//! changed or removed, and each rating no seal covers (inserted behind kaohe's back).
//!
//! What a rating may legitimately change after it is stored, its exclusion by an upheld
//! appeal (audited as `appeal.decide`), is not sealed.

use sha2::{Digest, Sha256};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;

/// The action of the audit entries that seal ratings.
pub const SEAL_ACTION: &str = "ratings.seal";

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

impl SealedRating {
    fn feed(&self, hasher: &mut Sha256) {
        fn text(h: &mut Sha256, s: Option<&str>) {
            match s {
                None => h.update([0u8]),
                Some(s) => {
                    h.update([1u8]);
                    h.update((s.len() as u64).to_be_bytes());
                    h.update(s.as_bytes());
                }
            }
        }
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

/// What one transaction stored: its ratings' ids as inclusive ranges, their number and the
/// digest of their content in id order.
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
    /// The seal of `rows` (any order; ids are unique).
    pub fn of(rows: &mut [SealedRating]) -> Self {
        rows.sort_unstable_by_key(|r| r.id);
        let mut hasher = Sha256::new();
        hasher.update(SEAL_TAG);
        let mut ids: Vec<(i64, i64)> = Vec::new();
        for r in rows.iter() {
            r.feed(&mut hasher);
            match ids.last_mut() {
                Some((_, end)) if *end + 1 == r.id => *end = r.id,
                _ => ids.push((r.id, r.id)),
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

/// Something wrong with the stored ratings, found against their seals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealProblem {
    /// Ratings of the seal in audit entry `seq` were removed: `found` of `sealed` are left.
    Removed {
        /// The sealing entry.
        seq: i64,
        /// Ratings sealed.
        sealed: u64,
        /// Ratings found.
        found: u64,
    },
    /// The ratings of the seal in audit entry `seq` are all there but their content differs.
    Changed {
        /// The sealing entry.
        seq: i64,
    },
    /// Stored ratings that no seal covers, or more than a seal holds: inserted behind kaohe's
    /// back.
    Inserted {
        /// Their ids (the first few).
        ids: Vec<i64>,
        /// How many.
        count: u64,
    },
}

impl fmt::Display for SealProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Removed { seq, sealed, found } => write!(
                f,
                "entry {seq}: ratings removed ({found} of the {sealed} sealed are left)"
            ),
            Self::Changed { seq } => write!(
                f,
                "entry {seq}: ratings changed (their content does not match the seal)"
            ),
            Self::Inserted { ids, count } => {
                let shown: Vec<String> = ids.iter().map(i64::to_string).collect();
                write!(
                    f,
                    "{count} rating(s) inserted without a seal (ids {}{})",
                    shown.join(", "),
                    if *count > ids.len() as u64 {
                        ", …"
                    } else {
                        ""
                    }
                )
            }
        }
    }
}

struct Open {
    seq: i64,
    seal: RatingSeal,
    hasher: Option<Sha256>,
    found: u64,
}

/// Checks stored ratings, pushed in id order, against the seals of the audit log.
pub struct SealVerifier {
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
    /// A verifier of the seals found in the audit log: `(seq of the entry, seal)`.
    pub fn new(seals: Vec<(i64, RatingSeal)>) -> Self {
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
            seals,
            ranges,
            pending: BinaryHeap::new(),
            unsealed: Vec::new(),
            last_id: None,
            problems: Vec::new(),
        }
    }

    /// The next stored rating; ratings must come in ascending id order.
    pub fn push(&mut self, row: &SealedRating) {
        self.close_before(row.id);
        if self.last_id.is_some_and(|last| last >= row.id) {
            // Not in id order: the caller's fault, not the data's; counted as unsealed.
            self.unsealed.push(row.id);
            return;
        }
        self.last_id = Some(row.id);
        let at = self.ranges.partition_point(|(a, _, _)| *a <= row.id);
        let seal = at
            .checked_sub(1)
            .map(|k| self.ranges[k])
            .filter(|(_, b, _)| row.id <= *b)
            .map(|(_, _, i)| i);
        let Some(i) = seal else {
            self.unsealed.push(row.id);
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
            let last = open.seal.ids.last().map_or(row.id, |(_, b)| *b);
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
                seq: open.seq,
                sealed: open.seal.rows,
                found: open.found,
            })
        } else if digest.as_deref() != Some(open.seal.sha256.as_str()) {
            Some(SealProblem::Changed { seq: open.seq })
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
            SealProblem::Removed { seq, .. } | SealProblem::Changed { seq } => *seq,
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
                ids: inserted.into_iter().take(INSERTED_SHOWN).collect(),
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
        let mut v = SealVerifier::new(seals.to_vec());
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
            vec![SealProblem::Changed { seq: 7 }]
        );
        // One removed.
        let removed = [rating(1, 1), rating(2, 5), rating(3, 2), rating(5, 4)];
        assert_eq!(
            verify(&seals, &removed),
            vec![SealProblem::Removed {
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
                ids: vec![6],
                count: 1
            }]
        );
        assert_eq!(
            verify(&seals, &inserted)[0].to_string(),
            "1 rating(s) inserted without a seal (ids 6)"
        );
        // Unless a seal appended while verifying covers it.
        let mut v = SealVerifier::new(seals.clone());
        for r in &inserted {
            v.push(r);
        }
        assert!(v.finish(&[RatingSeal::of(&mut [rating(6, 5)])]).is_empty());
    }
}
