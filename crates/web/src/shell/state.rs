//! What every request handler shares: the store and the settings of the deployment.

use super::auth::{AuthSettings, ClientLimiter, TokenCache};
use kaohe_domain::SanctionPeriods;
use kaohe_domain::polls::BallotKey;
use kaohe_domain::ratings::RatingSettings;
use kaohe_store::Store;
use kaohe_store::cycles::work::{ComputeOptions, ValueSource};
use kaohe_store::files::Vault;
use std::sync::Arc;
use time::{OffsetDateTime, UtcOffset};

/// Largest request body accepted, in bytes (16 MiB: an evidence file of a work record of at
/// most [`DEFAULT_RECORD_UPLOAD_BYTES`] with its form, or several smaller ones).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Default largest evidence file of a work record, in bytes (10 MiB).
pub const DEFAULT_RECORD_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

/// China Standard Time (UTC+8), the default time zone for "today".
pub const CHINA_STANDARD_TIME: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The store, whichever backend it runs on.
    pub store: Arc<dyn Store>,
    /// Whether the data is demo data: every page then says so.
    pub demo: bool,
    /// Sanction periods used to tell whether a sanction is in effect.
    pub sanction_periods: SanctionPeriods,
    /// Time zone of the organization, which decides what "today" is.
    pub utc_offset: UtcOffset,
    /// Accounts and sessions: idle timeout, lockout, password policy, secure cookies.
    pub auth: AuthSettings,
    /// Per-IP buckets of login attempts.
    pub login_limiter: Arc<ClientLimiter>,
    /// Settings of public ratings, rectification and figures.
    pub ratings: RatingSettings,
    /// Per-IP buckets of the public rating form.
    pub rate_limiter: Arc<ClientLimiter>,
    /// Accounts of recently used API tokens.
    pub token_cache: Arc<TokenCache>,
    /// Where assessment cycles gather indicator values from (ratings, …), wired by the binary.
    pub value_sources: Vec<Arc<dyn ValueSource>>,
    /// Settings of computing assessment cycles.
    pub cycles: ComputeOptions,
    /// Where the evidence files of work records (纪实) are kept: in the database (the default)
    /// or in a directory (`[records] evidence_dir`).
    pub evidence: Vault,
    /// Largest evidence file of a work record, in bytes (default
    /// [`DEFAULT_RECORD_UPLOAD_BYTES`]); a request body is never larger than
    /// [`MAX_BODY_BYTES`] whatever this says.
    pub record_upload_max_bytes: usize,
    /// The rate limit of the public voting page of polls.
    pub votes: VoteLimit,
    /// Per-IP buckets of the public voting page.
    pub vote_limiter: Arc<ClientLimiter>,
    /// The deployment's ballot key: pooled ballots of open polls are encrypted under it and
    /// decrypted only when a poll is sealed (`[polls] ballot_key_file`, docs/security.md).
    pub ballot_key: Arc<BallotKey>,
    /// A fresh ballot code of the demo's open poll, printed for a newcomer to vote with (demo
    /// starts only); shown on the demo banner.
    pub demo_vote_code: Option<String>,
}

/// The rate limit of the public voting page (`/vote`): what one client address may send at
/// once, and how many requests it is given back a minute (`[polls]` of the settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoteLimit {
    /// Requests (the code form, the ballot, its confirmation) at once (default 60).
    pub burst: u32,
    /// Requests given back a minute (default 10): the guessing rate of docs/polls.md.
    pub per_minute: u32,
}

impl Default for VoteLimit {
    fn default() -> Self {
        Self {
            burst: 60,
            per_minute: 10,
        }
    }
}

impl AppState {
    /// State around a store and the deployment's ballot key: not demo data, default sanction
    /// periods, China Standard Time.
    pub fn new(store: Arc<dyn Store>, ballot_key: Arc<BallotKey>) -> Self {
        Self {
            store,
            ballot_key,
            demo: false,
            sanction_periods: SanctionPeriods::default(),
            utc_offset: CHINA_STANDARD_TIME,
            auth: AuthSettings::default(),
            login_limiter: Arc::default(),
            ratings: RatingSettings::default(),
            rate_limiter: Arc::default(),
            token_cache: Arc::default(),
            value_sources: Vec::new(),
            cycles: ComputeOptions::default(),
            evidence: Vault::Database,
            record_upload_max_bytes: DEFAULT_RECORD_UPLOAD_BYTES,
            votes: VoteLimit::default(),
            vote_limiter: Arc::default(),
            demo_vote_code: None,
        }
    }

    /// Today's date in the organization's time zone.
    pub fn today(&self) -> time::Date {
        OffsetDateTime::now_utc().to_offset(self.utc_offset).date()
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("backend", &self.store.backend())
            .field("demo", &self.demo)
            .field("sanction_periods", &self.sanction_periods)
            .field("utc_offset", &self.utc_offset)
            .field("auth", &self.auth)
            .field("ratings", &self.ratings)
            .field("value_sources", &self.value_sources.len())
            .field("cycles", &self.cycles)
            .field("evidence", &self.evidence)
            .field("record_upload_max_bytes", &self.record_upload_max_bytes)
            .field("votes", &self.votes)
            .field("ballot_key", &self.ballot_key)
            .finish()
    }
}
