//! The tamper-evident audit log (审计日志): entries, their hash chain and its verification.
//!
//! Every entry is sealed with a SHA-256 hash over an unambiguous, length-prefixed encoding of
//! its sequence number, time, actor, action, target, before and after values and the hash of
//! the entry before it ([`GENESIS_HASH`] for the first). [`Verifier`] reads a chain in stored
//! order and names every entry that was edited, removed or moved; a cut tail is caught against
//! an expected head ([`AuditHead`]) recorded outside the database.

pub mod action;

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;
use time::OffsetDateTime;

/// The `prev_hash` of the first entry: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Domain-separation prefix of the hashed encoding (version 1).
const ENCODING_TAG: &[u8] = b"kaohe-audit-v1\0";

/// An event to append: who did what to which thing, with the state before and after (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// Who: an account name, or `cli:USER` for the command line.
    pub actor: String,
    /// What, dotted: `import.cadres`, `user.login_failed`, `export.all`.
    pub action: String,
    /// Which thing: a file name, an account, a cadre id.
    pub target: String,
    /// State before the change (JSON), when there was one.
    pub before: Option<String>,
    /// State after the change, or a summary of it (JSON).
    pub after: Option<String>,
}

impl NewAuditEntry {
    /// An event with no before or after state.
    pub fn new(
        actor: impl Into<String>,
        action: impl Into<String>,
        target: impl Into<String>,
    ) -> Self {
        Self {
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            before: None,
            after: None,
        }
    }

    /// With the state before (JSON).
    #[must_use]
    pub fn before(mut self, json: impl Into<String>) -> Self {
        self.before = Some(json.into());
        self
    }

    /// With the state after (JSON).
    #[must_use]
    pub fn after(mut self, json: impl Into<String>) -> Self {
        self.after = Some(json.into());
        self
    }
}

/// A stored audit entry, sealed into the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// When, UTC, to the microsecond.
    pub at: OffsetDateTime,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// Which thing.
    pub target: String,
    /// State before (JSON).
    pub before: Option<String>,
    /// State after (JSON).
    pub after: Option<String>,
    /// Hash of the previous entry (hex), [`GENESIS_HASH`] for the first.
    pub prev_hash: String,
    /// This entry's hash (hex).
    pub hash: String,
}

/// Microseconds since the Unix epoch: the time as hashed and stored.
pub fn unix_micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

/// `at` cut to whole microseconds, as it is stored.
pub fn truncate_to_micros(at: OffsetDateTime) -> OffsetDateTime {
    let micros = i128::from(unix_micros(at));
    OffsetDateTime::from_unix_timestamp_nanos(micros * 1000).unwrap_or(at)
}

impl AuditEntry {
    /// Seals a new event as entry `seq` after the entry whose hash is `prev_hash`.
    pub fn seal(new: &NewAuditEntry, seq: i64, at: OffsetDateTime, prev_hash: &str) -> Self {
        let mut entry = Self {
            seq,
            at: truncate_to_micros(at),
            actor: new.actor.clone(),
            action: new.action.clone(),
            target: new.target.clone(),
            before: new.before.clone(),
            after: new.after.clone(),
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        entry
    }

    /// The hash this entry's fields give (hex), whatever its stored `hash` says.
    pub fn compute_hash(&self) -> String {
        self.hash_as(self.seq)
    }

    /// The hash these fields would have as entry `seq`.
    fn hash_as(&self, seq: i64) -> String {
        let mut h = Sha256::new();
        h.update(ENCODING_TAG);
        h.update(seq.to_be_bytes());
        h.update(unix_micros(self.at).to_be_bytes());
        for field in [&self.actor, &self.action, &self.target] {
            field_bytes(&mut h, field);
        }
        for field in [&self.before, &self.after] {
            match field {
                None => h.update([0u8]),
                Some(s) => {
                    h.update([1u8]);
                    field_bytes(&mut h, s);
                }
            }
        }
        field_bytes(&mut h, &self.prev_hash);
        hex(&h.finalize())
    }

    /// Whether the stored hash matches the fields.
    pub fn is_sealed(&self) -> bool {
        self.compute_hash() == self.hash
    }

    /// This entry as a head (its seq and hash).
    pub fn head(&self) -> AuditHead {
        AuditHead {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }
}

fn field_bytes(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_be_bytes());
    h.update(s.as_bytes());
}

fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The last entry of a chain, `SEQ:HASH`: record it outside the database to catch a cut tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// Sequence number of the last entry (0 for an empty chain).
    pub seq: i64,
    /// Its hash ([`GENESIS_HASH`] for an empty chain).
    pub hash: String,
}

impl AuditHead {
    /// The head of an empty chain.
    pub fn genesis() -> Self {
        Self {
            seq: 0,
            hash: GENESIS_HASH.to_owned(),
        }
    }
}

impl fmt::Display for AuditHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// A head that is not `SEQ:HASH` with a 64-digit hex hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected SEQ:HASH (a number, a colon and 64 hex digits), got {0:?}")]
pub struct ParseHeadError(String);

impl FromStr for AuditHead {
    type Err = ParseHeadError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseHeadError(s.to_owned());
        let (seq, hash) = s.trim().split_once(':').ok_or_else(bad)?;
        let seq: i64 = seq.parse().map_err(|_| bad())?;
        if seq < 0 || hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Self {
            seq,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

/// Where an expected head comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadSource {
    /// Given by the operator (`--expect-head`), recorded outside the database.
    Operator,
    /// The database's own head row, written in the same transaction as each entry.
    Database,
}

impl fmt::Display for HeadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Operator => "expected head",
            Self::Database => "head recorded in the database",
        })
    }
}

/// One thing wrong with a chain, located by sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditProblem {
    /// The entry's fields no longer give its hash: it was edited in place.
    Edited {
        /// The entry.
        seq: i64,
    },
    /// The entry at `seq` is a genuine entry sealed as `sealed_as`: entries were reordered.
    Reordered {
        /// Where it is now.
        seq: i64,
        /// Where it was sealed.
        sealed_as: i64,
    },
    /// Entries are missing after `after_seq` (0: from the start).
    Removed {
        /// The last entry before the gap.
        after_seq: i64,
        /// The missing sequence numbers.
        missing: Range<i64>,
    },
    /// In stored order, `seq` comes after `after_seq` though it is not greater.
    OutOfOrder {
        /// The entry.
        seq: i64,
        /// The entry stored before it.
        after_seq: i64,
    },
    /// The entry is intact but does not link to the one before it: the one before was
    /// rewritten with a new hash, or this one's link was.
    BadLink {
        /// The entry whose `prev_hash` does not match.
        seq: i64,
    },
    /// The chain ends before an expected head: entries were cut from the end.
    Truncated {
        /// Where the expected head comes from.
        source: HeadSource,
        /// The expected head.
        expected: AuditHead,
        /// The last sequence number present.
        last_seq: i64,
    },
    /// The entry at an expected head's sequence number has another hash, or is missing: the
    /// chain was rewritten.
    HeadMismatch {
        /// Where the expected head comes from.
        source: HeadSource,
        /// The expected head.
        expected: AuditHead,
        /// The hash found at that sequence number, if the entry exists.
        found: Option<String>,
    },
    /// Entries after the head recorded in the database: appended behind kaohe's back.
    Unrecorded {
        /// The recorded head's sequence number.
        head_seq: i64,
        /// The last sequence number present.
        last_seq: i64,
    },
}

impl AuditProblem {
    /// The sequence number the problem is about, for ordering a report.
    pub fn seq(&self) -> i64 {
        match self {
            Self::Edited { seq }
            | Self::Reordered { seq, .. }
            | Self::OutOfOrder { seq, .. }
            | Self::BadLink { seq } => *seq,
            Self::Removed { missing, .. } => missing.start,
            Self::Truncated { expected, .. } | Self::HeadMismatch { expected, .. } => expected.seq,
            Self::Unrecorded { head_seq, .. } => head_seq + 1,
        }
    }
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Edited { seq } => write!(
                f,
                "entry {seq}: edited (its hash does not match its content)"
            ),
            Self::Reordered { seq, sealed_as } => write!(
                f,
                "entry {seq}: reordered (it holds the content of entry {sealed_as})"
            ),
            Self::Removed { after_seq, missing } if missing.end - missing.start == 1 => write!(
                f,
                "entry {}: removed (missing after entry {after_seq})",
                missing.start
            ),
            Self::Removed { after_seq, missing } => write!(
                f,
                "entries {}..={}: removed (missing after entry {after_seq})",
                missing.start,
                missing.end - 1
            ),
            Self::OutOfOrder { seq, after_seq } => {
                write!(f, "entry {seq}: reordered (stored after entry {after_seq})")
            }
            Self::BadLink { seq } => write!(
                f,
                "entry {seq}: broken link (entry {} was rewritten with a new hash, or entry {seq}'s link was edited)",
                seq - 1
            ),
            Self::Truncated {
                source,
                expected,
                last_seq,
            } => write!(
                f,
                "entries {}..={}: removed from the end (the {source} is {expected}, the last entry is {last_seq})",
                last_seq + 1,
                expected.seq
            ),
            Self::HeadMismatch {
                source,
                expected,
                found,
            } => match found {
                Some(found) => write!(
                    f,
                    "entry {}: rewritten (the {source} is {expected}, the entry's hash is {found})",
                    expected.seq
                ),
                None => write!(
                    f,
                    "entry {}: missing (the {source} is {expected})",
                    expected.seq
                ),
            },
            Self::Unrecorded { head_seq, last_seq } => write!(
                f,
                "entries {}..={last_seq}: not recorded in the database's head (appended behind kaohe's back)",
                head_seq + 1
            ),
        }
    }
}

/// The outcome of verifying a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Entries read.
    pub count: u64,
    /// The last entry read (genesis for an empty chain).
    pub head: AuditHead,
    /// Everything wrong, by sequence number; empty when the chain is intact.
    pub problems: Vec<AuditProblem>,
}

impl AuditReport {
    /// Whether no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verifies a chain read page by page, in stored order.
///
/// Memory grows with the chain (one hash per entry), so that a moved entry can be traced to
/// where it was sealed.
#[derive(Debug)]
pub struct Verifier {
    count: u64,
    last: Option<AuditHead>,
    last_sealed: bool,
    /// Stored hash → sequence number it is stored at.
    by_hash: HashMap<String, i64>,
    /// Entries whose hash does not match their content, by sequence number.
    unsealed: Vec<AuditEntry>,
    unsealed_seqs: HashMap<i64, usize>,
    problems: Vec<AuditProblem>,
    expected: Vec<(HeadSource, AuditHead, Option<String>)>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    /// A verifier at the start of a chain.
    pub fn new() -> Self {
        Self {
            count: 0,
            last: None,
            last_sealed: true,
            by_hash: HashMap::new(),
            unsealed: Vec::new(),
            unsealed_seqs: HashMap::new(),
            problems: Vec::new(),
            expected: Vec::new(),
        }
    }

    /// Also checks the chain against a head recorded earlier: the entry at its sequence number
    /// must exist and have its hash. For [`HeadSource::Database`] the chain must also end there.
    pub fn expect_head(&mut self, source: HeadSource, head: AuditHead) {
        self.expected.push((source, head, None));
    }

    /// Reads the next entry in stored order.
    pub fn push(&mut self, entry: &AuditEntry) {
        self.count += 1;
        for (_, head, found) in &mut self.expected {
            if head.seq == entry.seq && found.is_none() {
                *found = Some(entry.hash.clone());
            }
        }
        let sealed = entry.is_sealed();
        let (prev_seq, prev_hash) = match &self.last {
            Some(h) => (h.seq, h.hash.as_str()),
            None => (0, GENESIS_HASH),
        };
        let mut gap = false;
        if entry.seq <= prev_seq {
            self.problems.push(AuditProblem::OutOfOrder {
                seq: entry.seq,
                after_seq: prev_seq,
            });
            gap = true;
        } else if entry.seq > prev_seq + 1 {
            self.problems.push(AuditProblem::Removed {
                after_seq: prev_seq,
                missing: prev_seq + 1..entry.seq,
            });
            gap = true;
        }
        if sealed {
            if entry.prev_hash != prev_hash && self.last_sealed && !gap {
                self.problems.push(AuditProblem::BadLink { seq: entry.seq });
            }
        } else {
            self.unsealed_seqs
                .entry(entry.seq)
                .or_insert(self.unsealed.len());
            self.unsealed.push(entry.clone());
        }
        self.by_hash.entry(entry.hash.clone()).or_insert(entry.seq);
        self.last_sealed = sealed;
        self.last = Some(entry.head());
    }

    /// Ends the chain: traces moved entries and checks the expected heads.
    pub fn finish(mut self) -> AuditReport {
        self.classify_unsealed();
        let head = self.last.clone().unwrap_or_else(AuditHead::genesis);
        for (source, expected, found) in std::mem::take(&mut self.expected) {
            if expected.seq > head.seq {
                self.problems.push(AuditProblem::Truncated {
                    source,
                    expected,
                    last_seq: head.seq,
                });
                continue;
            }
            let found = if expected.seq == 0 {
                Some(GENESIS_HASH.to_owned())
            } else {
                found
            };
            if found.as_deref() != Some(expected.hash.as_str()) {
                self.problems.push(AuditProblem::HeadMismatch {
                    source,
                    expected: expected.clone(),
                    found,
                });
            }
            if source == HeadSource::Database && head.seq > expected.seq {
                self.problems.push(AuditProblem::Unrecorded {
                    head_seq: expected.seq,
                    last_seq: head.seq,
                });
            }
        }
        self.problems.sort_by_key(AuditProblem::seq);
        AuditReport {
            count: self.count,
            head,
            problems: self.problems,
        }
    }

    /// Each entry whose hash does not match its content is either a genuine entry moved from
    /// where it was sealed (its link leads to the entry sealed just before that place, and its
    /// content hashes right there) or an edited one.
    fn classify_unsealed(&mut self) {
        // Where each unsealed entry was sealed: Some(seq) once known.
        let mut origin: Vec<Option<i64>> = vec![None; self.unsealed.len()];
        let mut decided = vec![false; self.unsealed.len()];
        let mut progress = true;
        while progress {
            progress = false;
            for i in 0..self.unsealed.len() {
                if decided[i] {
                    continue;
                }
                let entry = &self.unsealed[i];
                // Where the entry this one links to was sealed.
                let base = if entry.prev_hash == GENESIS_HASH {
                    Some(0)
                } else {
                    match self.by_hash.get(&entry.prev_hash) {
                        None => None,
                        Some(pos) => match self.unsealed_seqs.get(pos) {
                            None => Some(*pos),
                            Some(&j) if decided[j] => origin[j],
                            Some(_) => continue,
                        },
                    }
                };
                let sealed_as = base
                    .map(|b| b + 1)
                    .filter(|&t| t != entry.seq && entry.hash_as(t) == entry.hash);
                origin[i] = Some(sealed_as.unwrap_or(entry.seq));
                decided[i] = true;
                progress = true;
            }
        }
        for (i, entry) in self.unsealed.iter().enumerate() {
            let seq = entry.seq;
            self.problems.push(match origin[i] {
                Some(sealed_as) if decided[i] && sealed_as != seq => {
                    AuditProblem::Reordered { seq, sealed_as }
                }
                _ => AuditProblem::Edited { seq },
            });
        }
    }
}

/// Verifies a whole chain in stored order against optional expected heads.
pub fn verify(entries: &[AuditEntry], expected: &[(HeadSource, AuditHead)]) -> AuditReport {
    let mut v = Verifier::new();
    for (source, head) in expected {
        v.expect_head(*source, head.clone());
    }
    for e in entries {
        v.push(e);
    }
    v.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        let start = OffsetDateTime::from_unix_timestamp(1_764_000_000).unwrap();
        for seq in 1..=n {
            let prev = out
                .last()
                .map_or(GENESIS_HASH.to_owned(), |e| e.hash.clone());
            let new = NewAuditEntry::new("cli:alice", format!("import.t{}", seq % 3), "f.csv")
                .after(format!("{{\"rows\":{seq}}}"));
            out.push(AuditEntry::seal(
                &new,
                seq,
                start + time::Duration::seconds(seq),
                &prev,
            ));
        }
        out
    }

    fn problems(entries: &[AuditEntry]) -> Vec<AuditProblem> {
        verify(entries, &[]).problems
    }

    #[test]
    fn an_intact_chain_verifies_and_reports_its_head() {
        let c = chain(5);
        let r = verify(&c, &[]);
        assert!(r.is_ok(), "{:?}", r.problems);
        assert_eq!((r.count, r.head), (5, c[4].head()));
        let empty = verify(&[], &[(HeadSource::Database, AuditHead::genesis())]);
        assert!(empty.is_ok());
        assert_eq!(empty.head, AuditHead::genesis());
    }

    #[test]
    fn the_encoding_is_unambiguous() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let a = AuditEntry::seal(&NewAuditEntry::new("ab", "c", "t"), 1, at, GENESIS_HASH);
        let b = AuditEntry::seal(&NewAuditEntry::new("a", "bc", "t"), 1, at, GENESIS_HASH);
        assert_ne!(a.hash, b.hash);
        let none = AuditEntry::seal(&NewAuditEntry::new("a", "b", "t"), 1, at, GENESIS_HASH);
        let empty = AuditEntry::seal(
            &NewAuditEntry::new("a", "b", "t").before(""),
            1,
            at,
            GENESIS_HASH,
        );
        let after = AuditEntry::seal(
            &NewAuditEntry::new("a", "b", "t").after(""),
            1,
            at,
            GENESIS_HASH,
        );
        assert_ne!(none.hash, empty.hash);
        assert_ne!(empty.hash, after.hash);
        assert_eq!(a.hash.len(), 64);
    }

    #[test]
    fn an_edit_is_named() {
        let mut c = chain(5);
        c[2].after = Some("{\"rows\":0}".into());
        assert_eq!(problems(&c), vec![AuditProblem::Edited { seq: 3 }]);
    }

    #[test]
    fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
        let mut c = chain(5);
        c[2].actor = "mallory".into();
        c[2].hash = c[2].compute_hash();
        assert_eq!(problems(&c), vec![AuditProblem::BadLink { seq: 4 }]);
    }

    #[test]
    fn a_removal_is_named() {
        let mut c = chain(5);
        c.remove(2);
        assert_eq!(
            problems(&c),
            vec![AuditProblem::Removed {
                after_seq: 2,
                missing: 3..4
            }]
        );
        let mut c = chain(5);
        c.remove(0);
        assert_eq!(
            problems(&c),
            vec![AuditProblem::Removed {
                after_seq: 0,
                missing: 1..2
            }]
        );
    }

    #[test]
    fn a_swap_of_contents_is_named_at_both_places() {
        for (a, b) in [(1, 3), (2, 3), (0, 4)] {
            let mut c = chain(5);
            let (sa, sb) = (c[a].seq, c[b].seq);
            c.swap(a, b);
            c[a].seq = sa;
            c[b].seq = sb;
            assert_eq!(
                problems(&c),
                vec![
                    AuditProblem::Reordered {
                        seq: sa,
                        sealed_as: sb
                    },
                    AuditProblem::Reordered {
                        seq: sb,
                        sealed_as: sa
                    },
                ],
                "swap {a} {b}"
            );
        }
    }

    #[test]
    fn entries_stored_out_of_order_are_named() {
        let mut c = chain(4);
        c.swap(1, 2);
        let p = problems(&c);
        assert!(p.contains(&AuditProblem::OutOfOrder {
            seq: 2,
            after_seq: 3
        }));
    }

    #[test]
    fn a_cut_tail_is_caught_only_against_an_expected_head() {
        let full = chain(5);
        let head = full[4].head();
        let cut = &full[..3];
        assert!(problems(cut).is_empty());
        let r = verify(cut, &[(HeadSource::Operator, head.clone())]);
        assert_eq!(
            r.problems,
            vec![AuditProblem::Truncated {
                source: HeadSource::Operator,
                expected: head,
                last_seq: 3
            }]
        );
        // A head recorded earlier still matches a chain that grew since.
        let r = verify(&full, &[(HeadSource::Operator, full[2].head())]);
        assert!(r.is_ok());
        // A rewritten chain does not match.
        let mut rewritten = chain(5);
        rewritten[1].actor = "mallory".into();
        for i in 1..5 {
            if i > 1 {
                rewritten[i].prev_hash = rewritten[i - 1].hash.clone();
            }
            rewritten[i].hash = rewritten[i].compute_hash();
        }
        assert!(problems(&rewritten).is_empty());
        let r = verify(&rewritten, &[(HeadSource::Operator, full[4].head())]);
        assert!(matches!(
            r.problems.as_slice(),
            [AuditProblem::HeadMismatch { .. }]
        ));
    }

    #[test]
    fn the_database_head_must_be_the_last_entry() {
        let c = chain(4);
        let r = verify(&c, &[(HeadSource::Database, c[2].head())]);
        assert_eq!(
            r.problems,
            vec![AuditProblem::Unrecorded {
                head_seq: 3,
                last_seq: 4
            }]
        );
    }

    #[test]
    fn heads_parse_and_print() {
        let h: AuditHead = format!("12:{}", "AB".repeat(32)).parse().unwrap();
        assert_eq!(h.to_string(), format!("12:{}", "ab".repeat(32)));
        assert!("12".parse::<AuditHead>().is_err());
        assert!("x:00".parse::<AuditHead>().is_err());
        assert!(
            format!("1:{}", "g".repeat(64))
                .parse::<AuditHead>()
                .is_err()
        );
    }

    proptest! {
        #[test]
        fn any_single_field_edit_is_located(n in 2i64..12, pick in 0usize..100, field in 0usize..7) {
            let mut c = chain(n);
            let i = pick % c.len();
            let seq = c[i].seq;
            let e = &mut c[i];
            match field {
                0 => e.at += time::Duration::microseconds(1),
                1 => e.actor.push('x'),
                2 => e.action.push('x'),
                3 => e.target.push('x'),
                4 => e.before = Some("{}".into()),
                5 => e.after = None,
                _ => e.prev_hash = "1".repeat(64),
            }
            prop_assert_eq!(problems(&c), vec![AuditProblem::Edited { seq }]);
        }

        #[test]
        fn any_deletion_is_located(n in 2i64..12, pick in 0usize..100) {
            let mut c = chain(n);
            let i = pick % c.len();
            let seq = c[i].seq;
            c.remove(i);
            let p = problems(&c);
            if seq == n {
                // The last entry: only an expected head catches it.
                prop_assert!(p.is_empty());
                let r = verify(&c, &[(HeadSource::Operator, chain(n)[i].head())]);
                prop_assert_eq!(r.problems.len(), 1);
                prop_assert_eq!(r.problems[0].seq(), seq);
            } else {
                prop_assert_eq!(p, vec![AuditProblem::Removed { after_seq: seq - 1, missing: seq..seq + 1 }]);
            }
        }

        #[test]
        fn any_swap_is_located(n in 2i64..12, x in 0usize..100, y in 0usize..100) {
            let mut c = chain(n);
            let (a, b) = (x % c.len(), y % c.len());
            prop_assume!(a != b);
            let (a, b) = (a.min(b), a.max(b));
            // Rows keep their seq: the contents trade places.
            let (sa, sb) = (c[a].seq, c[b].seq);
            c.swap(a, b);
            c[a].seq = sa;
            c[b].seq = sb;
            prop_assert_eq!(problems(&c), vec![
                AuditProblem::Reordered { seq: sa, sealed_as: sb },
                AuditProblem::Reordered { seq: sb, sealed_as: sa },
            ]);
            // Stored out of order with their own seq: named too.
            let mut d = chain(n);
            d.swap(a, b);
            prop_assert!(!problems(&d).is_empty());
        }
    }
}
