//! Storage of democratic evaluation and recommendation polls (民主测评、民主推荐): definitions,
//! hashed ballot codes, secret ballots and confirmed paper counts, written once for both
//! backends ([`impl_poll_store!`]).
//!
//! Secrecy is a property of what is stored (`migrations/*/0011_polls.sql`, `0013_ballot_pool.sql`,
//! `0014_encrypted_pool.sql`): a ballot row holds its poll, its group, its choices and a random
//! key, nothing else. It is written to the pool, its choices encrypted under the ballot key
//! (`kaohe_domain::polls::pool`, the key in a file: [`key_file`]), in the transaction that marks
//! its code used; at the close it is decrypted and sealed into `poll_ballots` under a new random
//! key, in key order ([`PollStore::seal_poll`]). A cast writes no audit
//! entry and no log line (an entry's time would give the casting order); creating a poll,
//! issuing codes, closing and paper counts are audited. The rules (what a poll and a ballot may be, the count) live in
//! `kaohe_domain::polls`; docs/security.md states the threat model.

pub mod key_file;

use crate::sql::{label, parse_code};
use crate::{Store, StoreError};
use async_trait::async_trait;
use kaohe_domain::polls::{
    BallotCode, BallotError, BallotKey, Choices, GroupTally, Item, PaperCount, Poll, PollKind,
    PollResults, PollSettings, RaterGroup, Withheld,
};
use kaohe_domain::{Code, Labeled, NewAuditEntry};
use time::OffsetDateTime;

/// Why a ballot was refused. Nothing is stored on any refusal.
#[derive(Debug, thiserror::Error)]
pub enum CastError {
    /// No poll of that id.
    #[error("no poll {0}")]
    NoPoll(Code),
    /// The ballot does not fit the poll, or the poll is not open.
    #[error(transparent)]
    Ballot(#[from] BallotError),
    /// The code has been used already.
    #[error("this code has been used already: each code is good for one ballot")]
    Used,
    /// The code belongs to another poll.
    #[error("this code belongs to another poll")]
    OtherPoll,
    /// No poll issued this code.
    #[error("no such code: check the slip and type it again")]
    UnknownCode,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CastError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

/// Codes issued and used in one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeCount {
    /// The group.
    pub group: Code,
    /// Codes the group may be issued.
    pub planned: u32,
    /// Codes issued (hashes stored).
    pub issued: u32,
    /// Codes used.
    pub used: u32,
}

/// A paper count as stored, with its confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperEntry {
    /// The group.
    pub group: Code,
    /// Paper ballots returned.
    pub ballots: u32,
    /// Who entered it.
    pub entered_by: String,
    /// Who confirmed it (counted only then).
    pub confirmed_by: Option<String>,
}

/// Polls, their codes, ballots and paper counts.
#[async_trait]
pub trait PollStore {
    /// Stores a checked poll definition with its audit entry; refused when the id is taken.
    async fn create_poll(
        &self,
        poll: &Poll,
        created_by: &str,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;
    /// One poll.
    async fn poll(&self, id: &Code) -> Result<Option<Poll>, StoreError>;
    /// Every poll, by id.
    async fn polls(&self) -> Result<Vec<Poll>, StoreError>;
    /// Stores the hashes of new codes of a group (`kaohe_domain::polls::code_hash`); refused
    /// beyond the group's number of codes or after the poll closes.
    async fn add_codes(
        &self,
        poll: &Code,
        group: &Code,
        hashes: &[String],
        now: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;
    /// Whether a code hash (`kaohe_domain::polls::code_hash`) was issued, and whether it has
    /// been used: `None` for a hash no poll issued. Names nothing but that.
    async fn code_used(&self, hash: &str) -> Result<Option<bool>, StoreError>;
    /// Codes issued and used in each group, in the poll's order.
    async fn code_counts(&self, poll: &Code) -> Result<Vec<CodeCount>, StoreError>;
    /// Casts a ballot with a code: marks the code used and stores the ballot in the pool,
    /// encrypted under `key` (`kaohe_domain::polls::pool`) and under a random row key, in one
    /// transaction, or stores nothing.
    async fn cast_ballot(
        &self,
        poll: &Code,
        code: &BallotCode,
        choices: &Choices,
        now: OffsetDateTime,
        key: &BallotKey,
    ) -> Result<(), CastError>;
    /// Closes a poll at `at`, earlier than planned, and seals its ballots with `key`
    /// ([`PollStore::seal_poll`]); refused when it has closed already.
    async fn close_poll(
        &self,
        poll: &Code,
        at: OffsetDateTime,
        audit: &NewAuditEntry,
        key: &BallotKey,
    ) -> Result<(), StoreError>;
    /// Seals the ballots of a poll closed at `now`: decrypts the ballots that waited in the
    /// pool while it was open with `key` (every one, or nothing is written) and writes them
    /// into `poll_ballots` under new random row keys, in the order of those keys and in one
    /// transaction, so that neither a sealed row's key, its place in the table nor its writing
    /// transaction leads back to its pooled row or the casting order. Then it clears what the
    /// casts left behind: on SQLite the pooled rows are overwritten with zeros
    /// (`secure_delete`) and the write-ahead log is truncated; on PostgreSQL the pool is
    /// truncated (a new file) once no poll has ballots in it. Returns the number of ballots
    /// sealed; an open poll, and one with nothing left in the pool, is left alone (0).
    async fn seal_poll(
        &self,
        poll: &Code,
        now: OffsetDateTime,
        key: &BallotKey,
    ) -> Result<u64, StoreError>;
    /// Ballots waiting in the pool, of every poll: those a lost ballot key would leave
    /// unreadable.
    async fn pooled_ballots(&self) -> Result<u64, StoreError>;
    /// Enters a group's counted paper ballots, once per group.
    async fn enter_paper(
        &self,
        poll: &Code,
        paper: &PaperCount,
        by: &str,
        at: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;
    /// Confirms a group's paper count: by another account than the one that entered it.
    async fn confirm_paper(
        &self,
        poll: &Code,
        group: &Code,
        by: &str,
        at: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;
    /// The paper counts of a poll and their confirmations.
    async fn paper_entries(&self, poll: &Code) -> Result<Vec<PaperEntry>, StoreError>;
    /// The votes of each group (sealed ballots and confirmed paper counts), in the poll's
    /// order. Refuses a poll with ballots still in the pool (not sealed), and (corrupt) one
    /// whose sealed ballots of a group are not as many as its used codes.
    async fn tallies(&self, poll: &Poll) -> Result<Vec<GroupTally>, StoreError>;
}

/// The results of a poll at `now`, sealing its ballots with `key` first if it closed on time:
/// withheld while open, without a quorum, or with too few ballots. `Ok(None)` when there is no
/// such poll.
pub async fn results(
    store: &dyn Store,
    id: &Code,
    now: OffsetDateTime,
    key: &BallotKey,
) -> Result<Option<(Poll, Result<PollResults, Withheld>)>, StoreError> {
    let Some(poll) = store.poll(id).await? else {
        return Ok(None);
    };
    if !poll.is_closed(now) {
        return Ok(Some((poll, Err(Withheld::Open))));
    }
    // A poll that closed on time has not been sealed by a close.
    store.seal_poll(&poll.id, now, key).await?;
    let tallies = store.tallies(&poll).await?;
    let results = kaohe_domain::polls::tally(&poll, now, &tallies);
    Ok(Some((poll, results)))
}

/// Where a typed code stands, without casting anything.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeLookup {
    /// A code of this poll, not used yet.
    Fresh(Poll),
    /// A code of this poll, used already.
    Used(Poll),
    /// No poll issued it.
    Unknown,
}

/// Which poll issued `code` and whether it has been used: the hash of the code under each
/// poll's id is looked up (a code's hash names its poll). Nothing is written or logged.
pub async fn find_code(store: &dyn Store, code: &BallotCode) -> Result<CodeLookup, StoreError> {
    for poll in store.polls().await? {
        match store
            .code_used(&kaohe_domain::polls::code_hash(&poll.id, code))
            .await?
        {
            Some(false) => return Ok(CodeLookup::Fresh(poll)),
            Some(true) => return Ok(CodeLookup::Used(poll)),
            None => {}
        }
    }
    Ok(CodeLookup::Unknown)
}

/// Draws `n` new codes of a group from the operating system's random source, stores their
/// hashes with `audit` (refused beyond the group's number of codes or after the poll closes)
/// and returns the codes: the only time they exist outside the raters' hands.
pub async fn issue_codes(
    store: &dyn Store,
    poll: &Code,
    group: &Code,
    n: u32,
    now: OffsetDateTime,
    audit: &NewAuditEntry,
) -> Result<Vec<BallotCode>, StoreError> {
    use rand::TryRngCore;
    let mut codes: Vec<BallotCode> = Vec::with_capacity(n as usize);
    let mut seen = std::collections::HashSet::with_capacity(n as usize);
    let mut random = [0u8; 8];
    while codes.len() < n as usize {
        rand::rngs::OsRng
            .try_fill_bytes(&mut random)
            .map_err(|e| StoreError::Randomness(e.to_string()))?;
        let c = BallotCode::from_random(&random);
        if seen.insert(c.as_str().to_owned()) {
            codes.push(c);
        }
    }
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| kaohe_domain::polls::code_hash(poll, c))
        .collect();
    store.add_codes(poll, group, &hashes, now, audit).await?;
    Ok(codes)
}

/// Why a poll does not fit the cycle it names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CycleMisfit {
    /// No cycle of that number.
    #[error("there is no cycle {0}")]
    NoCycle(i64),
    /// A person the cycle does not assess.
    #[error("{0} is not one of the people of cycle {1}")]
    NotInCycle(Code, i64),
}

/// Whether a poll's people fit the cycle it names: the cycle exists and assesses each of
/// them. `Ok(Some(_))` says why not.
pub async fn cycle_misfit(
    store: &dyn Store,
    cycle: i64,
    people: &[Code],
) -> Result<Option<CycleMisfit>, StoreError> {
    if store.cycle(cycle).await?.is_none() {
        return Ok(Some(CycleMisfit::NoCycle(cycle)));
    }
    let of_cycle: std::collections::HashSet<Code> = store
        .cycle_people(cycle)
        .await?
        .into_iter()
        .map(|p| p.cadre)
        .collect();
    Ok(people
        .iter()
        .find(|p| !of_cycle.contains(*p))
        .map(|p| CycleMisfit::NotInCycle(p.clone(), cycle)))
}

/// Random bytes from the operating system: a ballot's row key, a nonce, a ballot key.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], StoreError> {
    use rand::TryRngCore;
    let mut bytes = [0u8; N];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| StoreError::Randomness(e.to_string()))?;
    Ok(bytes)
}

/// A new ballot key from the operating system's random source.
///
/// # Errors
/// [`StoreError::Randomness`] when the operating system gives none.
pub fn new_ballot_key() -> Result<BallotKey, StoreError> {
    random().map(BallotKey::from_bytes)
}

pub(crate) fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

pub(crate) fn time_of(column: &'static str, s: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(s).map_err(|e| StoreError::Corrupt {
        table: "polls",
        column,
        reason: e.to_string(),
    })
}

pub(crate) fn count(table: &'static str, column: &'static str, n: i64) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|e| StoreError::Corrupt {
        table,
        column,
        reason: e.to_string(),
    })
}

pub(crate) fn items_text(items: &[Item]) -> String {
    items.iter().map(|i| i.code()).collect::<Vec<_>>().join(",")
}

/// A stored poll row.
#[derive(sqlx::FromRow)]
pub(crate) struct PollRow {
    pub(crate) id: String,
    title: String,
    kind: String,
    cycle: Option<String>,
    items: String,
    seats: i64,
    opens_at: i64,
    closes_at: i64,
    quorum: f64,
    min_group: i64,
    adjustment_above: f64,
    admonition_below: f64,
}

pub(crate) const POLL_COLS: &str = "id, title, kind, cycle, items, seats, opens_at, closes_at, \
    quorum, min_group, adjustment_above, admonition_below";

/// A stored group row.
pub(crate) type GroupRow = (String, String, f64, i64, Option<String>);

impl PollRow {
    pub(crate) fn into_domain(
        self,
        people: &[String],
        groups: Vec<GroupRow>,
    ) -> Result<Poll, StoreError> {
        let items = if self.items.is_empty() {
            Vec::new()
        } else {
            self.items
                .split(',')
                .map(|i| label("polls", "items", i))
                .collect::<Result<_, _>>()?
        };
        Ok(Poll {
            id: parse_code("polls", "id", &self.id)?,
            title: self.title,
            kind: label::<PollKind>("polls", "kind", &self.kind)?,
            cycle: self.cycle,
            people: people
                .iter()
                .map(|p| parse_code("poll_people", "cadre", p))
                .collect::<Result<_, _>>()?,
            items,
            seats: count("polls", "seats", self.seats)?,
            groups: groups
                .into_iter()
                .map(|(id, name, weight, codes, merge)| {
                    Ok(RaterGroup {
                        id: parse_code("poll_groups", "id", &id)?,
                        name,
                        weight,
                        codes: count("poll_groups", "codes", codes)?,
                        merge_into: merge
                            .map(|m| parse_code("poll_groups", "merge_into", &m))
                            .transpose()?,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            opens_at: time_of("opens_at", self.opens_at)?,
            closes_at: time_of("closes_at", self.closes_at)?,
            settings: PollSettings {
                quorum: self.quorum,
                min_group: count("polls", "min_group", self.min_group)?,
                adjustment_above: self.adjustment_above,
                admonition_below: self.admonition_below,
            },
        })
    }
}

/// Expands [`PollStore`] for one backend.
macro_rules! impl_poll_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn poll_in<'e, E>(ex: E, id: &str) -> Result<Option<kaohe_domain::polls::Poll>, $crate::StoreError>
            where
                E: sqlx::Executor<'e, Database = $db> + Copy,
            {
                let row: Option<$crate::polls::PollRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM polls WHERE id = $1", $crate::polls::POLL_COLS))
                    .bind(id).fetch_optional(ex).await?;
                let Some(row) = row else { return Ok(None) };
                let people: Vec<(String,)> = sqlx::query_as(
                    "SELECT cadre FROM poll_people WHERE poll_id = $1 ORDER BY position")
                    .bind(id).fetch_all(ex).await?;
                let groups: Vec<$crate::polls::GroupRow> = sqlx::query_as(
                    "SELECT id, name, weight, codes, merge_into FROM poll_groups WHERE poll_id = $1 ORDER BY position")
                    .bind(id).fetch_all(ex).await?;
                let people: Vec<String> = people.into_iter().map(|(p,)| p).collect();
                row.into_domain(&people, groups).map(Some)
            }
        }

        #[async_trait::async_trait]
        impl $crate::polls::PollStore for $store {
            async fn create_poll(&self, poll: &kaohe_domain::polls::Poll, created_by: &str, audit: &kaohe_domain::NewAuditEntry) -> Result<(), $crate::StoreError> {
                use kaohe_domain::Labeled;
                poll.check()?;
                let mut tx = self.pool.begin().await?;
                Self::append_audit_in(&mut tx, audit).await?;
                let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM polls WHERE id = $1")
                    .bind(poll.id.as_str()).fetch_optional(&mut *tx).await?;
                if taken.is_some() {
                    return Err($crate::StoreError::Conflict(format!("poll {} exists already", poll.id)));
                }
                let s = &poll.settings;
                sqlx::query("INSERT INTO polls (id, title, kind, cycle, items, seats, opens_at, closes_at, quorum, min_group, adjustment_above, admonition_below, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
                    .bind(poll.id.as_str()).bind(poll.title.trim()).bind(poll.kind.code()).bind(poll.cycle.as_deref())
                    .bind($crate::polls::items_text(&poll.items)).bind(i64::from(poll.seats))
                    .bind($crate::polls::unix(poll.opens_at)).bind($crate::polls::unix(poll.closes_at))
                    .bind(s.quorum).bind(i64::from(s.min_group)).bind(s.adjustment_above).bind(s.admonition_below)
                    .bind(created_by)
                    .execute(&mut *tx).await?;
                for (k, p) in poll.people.iter().enumerate() {
                    let known: Option<(String,)> = sqlx::query_as("SELECT id FROM cadres WHERE id = $1")
                        .bind(p.as_str()).fetch_optional(&mut *tx).await?;
                    if known.is_none() {
                        return Err($crate::StoreError::Conflict(format!("no cadre {p}")));
                    }
                    sqlx::query("INSERT INTO poll_people (poll_id, position, cadre) VALUES ($1, $2, $3)")
                        .bind(poll.id.as_str()).bind(k as i64).bind(p.as_str())
                        .execute(&mut *tx).await?;
                }
                for (k, g) in poll.groups.iter().enumerate() {
                    sqlx::query("INSERT INTO poll_groups (poll_id, id, position, name, weight, codes, merge_into) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                        .bind(poll.id.as_str()).bind(g.id.as_str()).bind(k as i64).bind(g.name.trim())
                        .bind(g.weight).bind(i64::from(g.codes)).bind(g.merge_into.as_ref().map(|m| m.as_str()))
                        .execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn poll(&self, id: &kaohe_domain::Code) -> Result<Option<kaohe_domain::polls::Poll>, $crate::StoreError> {
                Self::poll_in(&self.pool, id.as_str()).await
            }

            async fn polls(&self) -> Result<Vec<kaohe_domain::polls::Poll>, $crate::StoreError> {
                let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM polls ORDER BY id")
                    .fetch_all(&self.pool).await?;
                let mut out = Vec::with_capacity(ids.len());
                for (id,) in ids {
                    if let Some(p) = Self::poll_in(&self.pool, &id).await? {
                        out.push(p);
                    }
                }
                Ok(out)
            }

            async fn add_codes(&self, poll: &kaohe_domain::Code, group: &kaohe_domain::Code, hashes: &[String], now: time::OffsetDateTime, audit: &kaohe_domain::NewAuditEntry) -> Result<(), $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                Self::append_audit_in(&mut tx, audit).await?;
                let Some(def) = Self::poll_in(&self.pool, poll.as_str()).await? else {
                    return Err($crate::StoreError::Conflict(format!("no poll {poll}")));
                };
                if def.is_closed(now) {
                    return Err($crate::StoreError::Conflict(format!("poll {poll} has closed: no more codes")));
                }
                let Some(g) = def.groups.iter().find(|g| &g.id == group) else {
                    return Err($crate::StoreError::Conflict(format!("poll {poll} has no group {group}")));
                };
                let (issued,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM poll_codes WHERE poll_id = $1 AND group_id = $2")
                    .bind(poll.as_str()).bind(group.as_str()).fetch_one(&mut *tx).await?;
                if issued + hashes.len() as i64 > i64::from(g.codes) {
                    return Err($crate::StoreError::Conflict(format!(
                        "group {group} has {} codes: {issued} issued, {} more asked", g.codes, hashes.len())));
                }
                for chunk in hashes.chunks($crate::sql::BATCH_ROWS) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO poll_codes (hash, poll_id, group_id) ");
                    q.push_values(chunk, |mut b, h| {
                        b.push_bind(h.as_str()).push_bind(poll.as_str()).push_bind(group.as_str());
                    });
                    q.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn code_used(&self, hash: &str) -> Result<Option<bool>, $crate::StoreError> {
                let row: Option<(bool,)> = sqlx::query_as("SELECT used FROM poll_codes WHERE hash = $1")
                    .bind(hash).fetch_optional(&self.pool).await?;
                Ok(row.map(|(used,)| used))
            }

            async fn code_counts(&self, poll: &kaohe_domain::Code) -> Result<Vec<$crate::polls::CodeCount>, $crate::StoreError> {
                let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
                    "SELECT g.id, g.codes, \
                     (SELECT COUNT(*) FROM poll_codes c WHERE c.poll_id = g.poll_id AND c.group_id = g.id), \
                     (SELECT COUNT(*) FROM poll_codes c WHERE c.poll_id = g.poll_id AND c.group_id = g.id AND c.used) \
                     FROM poll_groups g WHERE g.poll_id = $1 ORDER BY g.position")
                    .bind(poll.as_str()).fetch_all(&self.pool).await?;
                rows.into_iter().map(|(g, planned, issued, used)| Ok($crate::polls::CodeCount {
                    group: $crate::sql::parse_code("poll_groups", "id", &g)?,
                    planned: $crate::polls::count("poll_groups", "codes", planned)?,
                    issued: $crate::polls::count("poll_codes", "hash", issued)?,
                    used: $crate::polls::count("poll_codes", "used", used)?,
                })).collect()
            }

            async fn cast_ballot(&self, poll: &kaohe_domain::Code, code: &kaohe_domain::polls::BallotCode, choices: &kaohe_domain::polls::Choices, now: time::OffsetDateTime, ballot_key: &kaohe_domain::polls::BallotKey) -> Result<(), $crate::polls::CastError> {
                use $crate::polls::CastError;
                let Some(def) = Self::poll_in(&self.pool, poll.as_str()).await? else {
                    return Err(CastError::NoPoll(poll.clone()));
                };
                def.check_open(now)?;
                let text = def.encode(choices)?;
                let hash = kaohe_domain::polls::code_hash(poll, code);
                let key: [u8; 16] = $crate::polls::random()?;
                let nonce = $crate::polls::random()?;
                let mut tx = self.pool.begin().await?;
                // The write comes first: on SQLite it takes the write lock at once, so a cast
                // never has to upgrade a read snapshot that another cast made stale.
                let group: Option<(String,)> = sqlx::query_as(
                    "UPDATE poll_codes SET used = TRUE WHERE hash = $1 AND poll_id = $2 AND NOT used RETURNING group_id")
                    .bind(&hash).bind(poll.as_str()).fetch_optional(&mut *tx).await?;
                // The poll may have been closed early since it was read.
                let (closes_at,): (i64,) = sqlx::query_as("SELECT closes_at FROM polls WHERE id = $1")
                    .bind(poll.as_str()).fetch_one(&mut *tx).await?;
                if now.unix_timestamp() >= closes_at {
                    return Err(kaohe_domain::polls::BallotError::Closed.into());
                }
                let Some((group,)) = group else {
                    let seen: Option<(bool,)> = sqlx::query_as("SELECT used FROM poll_codes WHERE hash = $1")
                        .bind(&hash).fetch_optional(&mut *tx).await?;
                    if seen.is_some() {
                        return Err(CastError::Used);
                    }
                    let others: Vec<(String,)> = sqlx::query_as("SELECT id FROM polls WHERE id <> $1")
                        .bind(poll.as_str()).fetch_all(&mut *tx).await?;
                    for (other,) in others {
                        let Ok(other) = kaohe_domain::Code::parse(&other) else { continue };
                        let h = kaohe_domain::polls::code_hash(&other, code);
                        let found: Option<(String,)> = sqlx::query_as("SELECT group_id FROM poll_codes WHERE hash = $1")
                            .bind(&h).fetch_optional(&mut *tx).await?;
                        if found.is_some() {
                            return Err(CastError::OtherPoll);
                        }
                    }
                    return Err(CastError::UnknownCode);
                };
                let group_code = kaohe_domain::Code::parse(&group).map_err(|e| $crate::StoreError::Corrupt {
                    table: "poll_codes", column: "group_id", reason: e.to_string() })?;
                let sealed = ballot_key.encrypt(poll, &group_code, &text, nonce);
                sqlx::query("INSERT INTO poll_ballot_pool (id, poll_id, group_id, choices) VALUES ($1, $2, $3, $4)")
                    .bind(key.as_slice()).bind(poll.as_str()).bind(&group).bind(&sealed)
                    .execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn close_poll(&self, poll: &kaohe_domain::Code, at: time::OffsetDateTime, audit: &kaohe_domain::NewAuditEntry, key: &kaohe_domain::polls::BallotKey) -> Result<(), $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                Self::append_audit_in(&mut tx, audit).await?;
                let done = sqlx::query("UPDATE polls SET closes_at = $2 WHERE id = $1 AND closes_at > $2")
                    .bind(poll.as_str()).bind(at.unix_timestamp()).execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::Conflict(format!("no open poll {poll}")));
                }
                tx.commit().await?;
                self.seal_poll(poll, at, key).await?;
                Ok(())
            }

            async fn seal_poll(&self, poll: &kaohe_domain::Code, now: time::OffsetDateTime, key: &kaohe_domain::polls::BallotKey) -> Result<u64, $crate::StoreError> {
                use sqlx::Connection as _;
                let closes: Option<(i64,)> = sqlx::query_as("SELECT closes_at FROM polls WHERE id = $1")
                    .bind(poll.as_str()).fetch_optional(&self.pool).await?;
                let Some((closes_at,)) = closes else {
                    return Err($crate::StoreError::Conflict(format!("no poll {poll}")));
                };
                if now.unix_timestamp() < closes_at {
                    return Ok(0);
                }
                // Sealed already (every later reading of its results comes here): no transaction,
                // no checkpoint, no lock.
                let (pooled,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM poll_ballot_pool WHERE poll_id = $1")
                    .bind(poll.as_str()).fetch_one(&self.pool).await?;
                if pooled == 0 {
                    return Ok(0);
                }
                let sqlite = Self::BACKEND == $crate::Backend::Sqlite;
                let mut conn = self.pool.acquire().await?;
                if sqlite {
                    sqlx::query("PRAGMA secure_delete = ON").execute(&mut *conn).await?;
                }
                let sealed = async {
                    let mut tx = conn.begin().await?;
                    // Every pooled ballot is decrypted before anything is written: a wrong key
                    // or a changed row leaves the pool as it was.
                    let pooled: Vec<(String, String)> = sqlx::query_as(
                        "SELECT group_id, choices FROM poll_ballot_pool WHERE poll_id = $1")
                        .bind(poll.as_str()).fetch_all(&mut *tx).await?;
                    let mut ballots = Vec::with_capacity(pooled.len());
                    for (group, text) in &pooled {
                        let g = $crate::sql::parse_code("poll_ballot_pool", "group_id", group)?;
                        let choices = key.decrypt(poll, &g, text)?;
                        ballots.push(($crate::polls::random::<16>()?, group.as_str(), choices));
                    }
                    ballots.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                    sqlx::query("INSERT INTO poll_seals (poll_id) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM poll_seals WHERE poll_id = $1)")
                        .bind(poll.as_str()).execute(&mut *tx).await?;
                    for chunk in ballots.chunks($crate::sql::BATCH_ROWS) {
                        let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO poll_ballots (id, poll_id, group_id, choices) ");
                        q.push_values(chunk, |mut b, (id, group, choices)| {
                            b.push_bind(id.to_vec()).push_bind(poll.as_str()).push_bind(*group).push_bind(choices.as_str());
                        });
                        q.build().execute(&mut *tx).await?;
                    }
                    sqlx::query("DELETE FROM poll_ballot_pool WHERE poll_id = $1")
                        .bind(poll.as_str()).execute(&mut *tx).await?;
                    tx.commit().await?;
                    Ok::<u64, $crate::StoreError>(ballots.len() as u64)
                }.await;
                if sqlite {
                    sqlx::query("PRAGMA secure_delete = OFF").execute(&mut *conn).await?;
                }
                drop(conn);
                let n = sealed?;
                if sqlite {
                    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                        .fetch_one(&self.pool).await?;
                    if busy != 0 {
                        tracing::warn!(poll = %poll, "the write-ahead log was not truncated after sealing: a reader held it");
                    }
                } else {
                    let mut tx = self.pool.begin().await?;
                    sqlx::query("LOCK TABLE poll_ballot_pool IN ACCESS EXCLUSIVE MODE").execute(&mut *tx).await?;
                    let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM poll_ballot_pool")
                        .fetch_one(&mut *tx).await?;
                    if left == 0 {
                        sqlx::query("TRUNCATE poll_ballot_pool").execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                }
                Ok(n)
            }

            async fn pooled_ballots(&self) -> Result<u64, $crate::StoreError> {
                let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM poll_ballot_pool")
                    .fetch_one(&self.pool).await?;
                Ok(u64::try_from(n).unwrap_or_default())
            }

            async fn enter_paper(&self, poll: &kaohe_domain::Code, paper: &kaohe_domain::polls::PaperCount, by: &str, at: time::OffsetDateTime, audit: &kaohe_domain::NewAuditEntry) -> Result<(), $crate::StoreError> {
                use kaohe_domain::Labeled;
                let Some(def) = Self::poll_in(&self.pool, poll.as_str()).await? else {
                    return Err($crate::StoreError::Conflict(format!("no poll {poll}")));
                };
                def.check_paper(paper)?;
                let mut tx = self.pool.begin().await?;
                Self::append_audit_in(&mut tx, audit).await?;
                let seen: Option<(i64,)> = sqlx::query_as("SELECT ballots FROM poll_paper WHERE poll_id = $1 AND group_id = $2")
                    .bind(poll.as_str()).bind(paper.group.as_str()).fetch_optional(&mut *tx).await?;
                if seen.is_some() {
                    return Err($crate::StoreError::Conflict(format!("the paper count of group {} has been entered already", paper.group)));
                }
                sqlx::query("INSERT INTO poll_paper (poll_id, group_id, ballots, entered_by, entered_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(poll.as_str()).bind(paper.group.as_str()).bind(i64::from(paper.ballots)).bind(by).bind(at.unix_timestamp())
                    .execute(&mut *tx).await?;
                for (person, item, c) in &paper.counts {
                    sqlx::query("INSERT INTO poll_paper_counts (poll_id, group_id, person, item, excellent, competent, basic, incompetent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                        .bind(poll.as_str()).bind(paper.group.as_str()).bind(person.as_str()).bind(item.code())
                        .bind(i64::from(c[0])).bind(i64::from(c[1])).bind(i64::from(c[2])).bind(i64::from(c[3]))
                        .execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn confirm_paper(&self, poll: &kaohe_domain::Code, group: &kaohe_domain::Code, by: &str, at: time::OffsetDateTime, audit: &kaohe_domain::NewAuditEntry) -> Result<(), $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                Self::append_audit_in(&mut tx, audit).await?;
                let entered: Option<(String,)> = sqlx::query_as("SELECT entered_by FROM poll_paper WHERE poll_id = $1 AND group_id = $2")
                    .bind(poll.as_str()).bind(group.as_str()).fetch_optional(&mut *tx).await?;
                let Some((entered_by,)) = entered else {
                    return Err($crate::StoreError::Conflict(format!("no paper count of group {group} in poll {poll}")));
                };
                kaohe_domain::access::check_four_eyes([entered_by.as_str()], by)?;
                let seen: Option<(String,)> = sqlx::query_as("SELECT confirmed_by FROM poll_paper_confirmations WHERE poll_id = $1 AND group_id = $2")
                    .bind(poll.as_str()).bind(group.as_str()).fetch_optional(&mut *tx).await?;
                if seen.is_some() {
                    return Err($crate::StoreError::Conflict(format!("the paper count of group {group} has been confirmed already")));
                }
                sqlx::query("INSERT INTO poll_paper_confirmations (poll_id, group_id, confirmed_by, confirmed_at) VALUES ($1, $2, $3, $4)")
                    .bind(poll.as_str()).bind(group.as_str()).bind(by).bind(at.unix_timestamp())
                    .execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn paper_entries(&self, poll: &kaohe_domain::Code) -> Result<Vec<$crate::polls::PaperEntry>, $crate::StoreError> {
                let rows: Vec<(String, i64, String, Option<String>)> = sqlx::query_as(
                    "SELECT p.group_id, p.ballots, p.entered_by, c.confirmed_by FROM poll_paper p \
                     LEFT JOIN poll_paper_confirmations c ON c.poll_id = p.poll_id AND c.group_id = p.group_id \
                     WHERE p.poll_id = $1 ORDER BY p.group_id")
                    .bind(poll.as_str()).fetch_all(&self.pool).await?;
                rows.into_iter().map(|(g, ballots, entered_by, confirmed_by)| Ok($crate::polls::PaperEntry {
                    group: $crate::sql::parse_code("poll_paper", "group_id", &g)?,
                    ballots: $crate::polls::count("poll_paper", "ballots", ballots)?,
                    entered_by,
                    confirmed_by,
                })).collect()
            }

            async fn tallies(&self, poll: &kaohe_domain::polls::Poll) -> Result<Vec<kaohe_domain::polls::GroupTally>, $crate::StoreError> {
                let corrupt = |reason: String| $crate::StoreError::Corrupt { table: "poll_ballots", column: "choices", reason };
                let mut tallies: Vec<kaohe_domain::polls::GroupTally> =
                    poll.groups.iter().map(|_| kaohe_domain::polls::GroupTally::new(poll)).collect();
                let index = |g: &str| poll.groups.iter().position(|x| x.id.as_str() == g);
                let mut tx = self.pool.begin().await?;
                let (pooled,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM poll_ballot_pool WHERE poll_id = $1")
                    .bind(poll.id.as_str()).fetch_one(&mut *tx).await?;
                if pooled > 0 {
                    return Err($crate::StoreError::Conflict(format!(
                        "poll {} has {pooled} ballots not sealed yet: its results are read once it has closed and been sealed", poll.id)));
                }
                let ballots: Vec<(String, String)> = sqlx::query_as(
                    "SELECT group_id, choices FROM poll_ballots WHERE poll_id = $1")
                    .bind(poll.id.as_str()).fetch_all(&mut *tx).await?;
                for (g, text) in &ballots {
                    let i = index(g).ok_or_else(|| corrupt(format!("a ballot of an unknown group {g}")))?;
                    tallies[i].add_encoded(poll.kind, text).map_err(|e| corrupt(e.to_string()))?;
                }
                let used: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT group_id, COUNT(*) FROM poll_codes WHERE poll_id = $1 AND used GROUP BY group_id")
                    .bind(poll.id.as_str()).fetch_all(&mut *tx).await?;
                for (i, g) in poll.groups.iter().enumerate() {
                    let n = used.iter().find(|(u, _)| u == g.id.as_str()).map_or(0, |(_, n)| *n);
                    if n != i64::from(tallies[i].ballots) {
                        return Err(corrupt(format!(
                            "group {} holds {} ballots for {n} used codes", g.id, tallies[i].ballots)));
                    }
                }
                let papers: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT p.group_id, p.ballots FROM poll_paper p JOIN poll_paper_confirmations c \
                     ON c.poll_id = p.poll_id AND c.group_id = p.group_id WHERE p.poll_id = $1")
                    .bind(poll.id.as_str()).fetch_all(&mut *tx).await?;
                for (g, n) in papers {
                    let rows: Vec<(String, String, i64, i64, i64, i64)> = sqlx::query_as(
                        "SELECT person, item, excellent, competent, basic, incompetent FROM poll_paper_counts \
                         WHERE poll_id = $1 AND group_id = $2")
                        .bind(poll.id.as_str()).bind(&g).fetch_all(&mut *tx).await?;
                    let c = |v: i64| $crate::polls::count("poll_paper_counts", "votes", v);
                    let paper = kaohe_domain::polls::PaperCount {
                        group: $crate::sql::parse_code("poll_paper", "group_id", &g)?,
                        ballots: $crate::polls::count("poll_paper", "ballots", n)?,
                        counts: rows.into_iter().map(|(person, item, a, b, d, e)| Ok((
                            $crate::sql::parse_code("poll_paper_counts", "person", &person)?,
                            $crate::sql::label("poll_paper_counts", "item", &item)?,
                            [c(a)?, c(b)?, c(d)?, c(e)?],
                        ))).collect::<Result<_, $crate::StoreError>>()?,
                    };
                    poll.check_paper(&paper).map_err(|e| corrupt(e.to_string()))?;
                    if let Some(i) = index(&g) {
                        tallies[i].add_paper(poll, &paper);
                    }
                }
                tx.commit().await?;
                Ok(tallies)
            }
        }
    };
}

pub(crate) use impl_poll_store;
