//! Settings: defaults → TOML file → `KAOHE_*` environment variables → flags.

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use kaohe_domain::SanctionPeriods;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The documented example configuration, printed by `kaohe config default`.
pub(crate) const EXAMPLE: &str = include_str!("../config/kaohe.example.toml");

/// All settings of kaohe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Settings {
    /// `sqlite://PATH` or `postgres://…`.
    pub(crate) database_url: String,
    /// Web server.
    pub(crate) server: Server,
    /// Logging.
    pub(crate) log: Log,
    /// Domain rules with their regulatory defaults.
    pub(crate) rules: Rules,
    /// Accounts: password policy, lockout, session timeout.
    pub(crate) accounts: Accounts,
    /// Public service ratings (好差评): intake, rectification, figures.
    pub(crate) ratings: Ratings,
    /// Assessment cycles: rank intervals and grading.
    pub(crate) cycles: Cycles,
    /// Work records (纪实): where evidence is kept and how large it may be.
    pub(crate) records: Records,
    /// Polls (民主测评): the rate limit of the public voting page.
    pub(crate) polls: Polls,
}

/// Settings of polls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Polls {
    /// Requests the voting page (`/vote`) takes from one client address at once.
    pub(crate) vote_burst: u32,
    /// Requests given back to a client address a minute: the guessing rate of docs/polls.md.
    pub(crate) vote_per_minute: u32,
    /// The ballot key file (docs/security.md): created on first use; unset: beside the SQLite
    /// database file (`kaohe.db.ballot-key`), or `kaohe.ballot-key` in the working directory
    /// with PostgreSQL.
    pub(crate) ballot_key_file: Option<std::path::PathBuf>,
}

impl Default for Polls {
    fn default() -> Self {
        let d = kaohe_web::VoteLimit::default();
        Self {
            vote_burst: d.burst,
            vote_per_minute: d.per_minute,
            ballot_key_file: None,
        }
    }
}

impl Polls {
    /// Where the ballot key is kept for the database at `database_url`.
    pub(crate) fn ballot_key_file(&self, database_url: &str) -> std::path::PathBuf {
        if let Some(file) = &self.ballot_key_file {
            return file.clone();
        }
        let file = database_url
            .strip_prefix("sqlite://")
            .or_else(|| database_url.strip_prefix("sqlite:"))
            .map(|rest| rest.split('?').next().unwrap_or_default())
            .filter(|path| !path.is_empty() && !path.contains(":memory:"));
        match file {
            Some(path) => format!("{path}.ballot-key").into(),
            None => "kaohe.ballot-key".into(),
        }
    }

    /// The rate limit the web layer runs with.
    pub(crate) fn vote_limit(&self) -> kaohe_web::VoteLimit {
        kaohe_web::VoteLimit {
            burst: self.vote_burst,
            per_minute: self.vote_per_minute,
        }
    }
}

/// Settings of work records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Records {
    /// Directory of evidence files, one file per content hash; unset: in the database.
    pub(crate) evidence_dir: Option<std::path::PathBuf>,
    /// Largest evidence file, in bytes.
    pub(crate) max_evidence_bytes: usize,
}

impl Default for Records {
    fn default() -> Self {
        Self {
            evidence_dir: None,
            max_evidence_bytes: 10 * 1024 * 1024,
        }
    }
}

impl Records {
    /// Where evidence files are kept.
    pub(crate) fn vault(&self) -> kaohe_store::files::Vault {
        match &self.evidence_dir {
            Some(dir) => kaohe_store::files::Vault::Directory(dir.clone()),
            None => kaohe_store::files::Vault::Database,
        }
    }
}

/// Settings of computing assessment cycles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Cycles {
    /// Monte Carlo draws for each person's rank interval (0: none).
    pub(crate) draws: usize,
    /// Seed of the draws (the same seed, the same intervals).
    pub(crate) seed: u64,
    /// Top-grade (优秀) quota share of those assessed in a quota scope, rounded down.
    pub(crate) quota_share: f64,
    /// Routine 较差 results allowed in the year before 优秀 is ruled out.
    pub(crate) max_routine_poor: u32,
}

impl Default for Cycles {
    fn default() -> Self {
        let engine = kaohe_engine::Settings::default();
        Self {
            draws: 200,
            seed: 0,
            quota_share: engine.quota_share,
            max_routine_poor: engine.max_routine_poor,
        }
    }
}

impl Cycles {
    /// The options of a computation.
    pub(crate) fn options(&self, rules: &Rules) -> kaohe_store::cycles::work::ComputeOptions {
        kaohe_store::cycles::work::ComputeOptions {
            draws: self.draws,
            seed: self.seed,
            quota_share: Some(self.quota_share),
            max_routine_poor: Some(self.max_routine_poor),
            sanction_periods: rules.sanction_periods,
            ..Default::default()
        }
    }
}

/// Settings of public service ratings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Ratings {
    /// Days after a case closes during which it may be rated.
    pub(crate) window_days: u32,
    /// Working days to rectify a bad review.
    pub(crate) rectification_working_days: u32,
    /// Minutes between two escalation sweeps of the server (one also runs at start).
    pub(crate) escalation_sweep_minutes: u32,
    /// Ratings the public rating page takes from one client IP at once.
    pub(crate) public_burst: u32,
    /// Public ratings given back to a client IP per minute.
    pub(crate) public_per_minute: u32,
    /// Strength, in ratings, of the prior toward which satisfaction rates are shrunk.
    pub(crate) prior_strength: f64,
    /// Ratings of one official within `burst_minutes` flagged as a burst.
    pub(crate) burst_count: usize,
    /// Minutes of the burst window.
    pub(crate) burst_minutes: u32,
    /// Distinct cases rated from one phone within `contact_days` above which all are flagged.
    pub(crate) contact_cases: usize,
    /// Days of the contact window.
    pub(crate) contact_days: u32,
}

impl Default for Ratings {
    fn default() -> Self {
        let d = kaohe_domain::ratings::RatingSettings::default();
        Self {
            window_days: d.rating.window_days,
            rectification_working_days: d.rectification.deadline_working_days,
            escalation_sweep_minutes: 60,
            public_burst: d.public_burst,
            public_per_minute: d.public_per_minute,
            prior_strength: d.prior_strength,
            burst_count: d.suspicion.burst_count,
            burst_minutes: u32::try_from(d.suspicion.burst_minutes).unwrap_or(10),
            contact_cases: d.suspicion.contact_cases,
            contact_days: u32::try_from(d.suspicion.contact_days).unwrap_or(30),
        }
    }
}

impl Ratings {
    /// The rating settings the web layer runs with.
    pub(crate) fn rating_settings(&self) -> kaohe_domain::ratings::RatingSettings {
        let d = kaohe_domain::ratings::RatingSettings::default();
        kaohe_domain::ratings::RatingSettings {
            rating: kaohe_domain::ratings::RatingPolicy {
                window_days: self.window_days,
                ..d.rating
            },
            rectification: kaohe_domain::ratings::rectification::RectificationPolicy {
                deadline_working_days: self.rectification_working_days,
            },
            suspicion: kaohe_domain::ratings::suspicion::SuspicionPolicy {
                burst_count: self.burst_count,
                burst_minutes: i64::from(self.burst_minutes),
                contact_cases: self.contact_cases,
                contact_days: i64::from(self.contact_days),
                ..d.suspicion
            },
            public_burst: self.public_burst,
            public_per_minute: self.public_per_minute,
            prior_strength: self.prior_strength,
        }
    }
}

/// Web server settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Server {
    /// Listen address.
    pub(crate) listen: String,
    /// Mark session cookies `Secure` (also done per request behind `X-Forwarded-Proto: https`).
    pub(crate) secure_cookies: bool,
    /// Local time of the deployment.
    pub(crate) utc_offset: LocalOffset,
}

/// An offset from UTC written `+08:00` (`-05:30`, `Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct LocalOffset(pub(crate) time::UtcOffset);

impl TryFrom<String> for LocalOffset {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let t = s.trim();
        if t == "Z" {
            return Ok(Self(time::UtcOffset::UTC));
        }
        time::UtcOffset::parse(
            t,
            time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]"),
        )
        .map(Self)
        .map_err(|_| format!("{t:?} is not a UTC offset; expected e.g. +08:00"))
    }
}

impl From<LocalOffset> for String {
    fn from(o: LocalOffset) -> Self {
        let (h, m, _) = o.0.as_hms();
        let sign = if h < 0 || m < 0 { '-' } else { '+' };
        format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
    }
}

/// Account settings (等保 practice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Accounts {
    /// Fewest characters of a password.
    pub(crate) password_min_length: usize,
    /// Consecutive failed logins that lock an account.
    pub(crate) max_failed_logins: u32,
    /// Minutes an account stays locked.
    pub(crate) lockout_minutes: u32,
    /// Minutes without a request after which a session ends.
    pub(crate) idle_timeout_minutes: u32,
    /// Sign-in attempts one client IP may make at once.
    pub(crate) login_burst: u32,
    /// Sign-in attempts given back to a client IP per minute.
    pub(crate) login_per_minute: u32,
}

impl Default for Accounts {
    fn default() -> Self {
        Self {
            password_min_length: 12,
            max_failed_logins: 5,
            lockout_minutes: 15,
            idle_timeout_minutes: 10,
            login_burst: 10,
            login_per_minute: 10,
        }
    }
}

impl Accounts {
    /// The password policy.
    pub(crate) fn password_policy(&self) -> kaohe_domain::access::PasswordPolicy {
        kaohe_domain::access::PasswordPolicy {
            min_length: self.password_min_length,
            ..kaohe_domain::access::PasswordPolicy::default()
        }
    }

    /// The web layer's account settings.
    pub(crate) fn auth_settings(
        &self,
        secure_cookies: bool,
    ) -> kaohe_web::shell::auth::AuthSettings {
        kaohe_web::shell::auth::AuthSettings {
            idle_timeout_seconds: i64::from(self.idle_timeout_minutes) * 60,
            lockout: kaohe_domain::access::LockoutPolicy {
                max_failures: self.max_failed_logins,
                lock_seconds: i64::from(self.lockout_minutes) * 60,
            },
            password: self.password_policy(),
            secure_cookies,
            login_burst: self.login_burst,
            login_per_minute: self.login_per_minute,
            ..kaohe_web::shell::auth::AuthSettings::default()
        }
    }
}

/// Logging settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Log {
    /// tracing filter.
    pub(crate) filter: String,
}

/// Domain rules.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Rules {
    /// Sanction periods in months.
    pub(crate) sanction_periods: SanctionPeriods,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://kaohe.db".into(),
            server: Server::default(),
            log: Log::default(),
            rules: Rules::default(),
            accounts: Accounts::default(),
            ratings: Ratings::default(),
            cycles: Cycles::default(),
            records: Records::default(),
            polls: Polls::default(),
        }
    }
}

impl Default for Server {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            secure_cookies: false,
            utc_offset: LocalOffset(kaohe_web::CHINA_STANDARD_TIME),
        }
    }
}

impl Default for Log {
    fn default() -> Self {
        Self {
            filter: "info".into(),
        }
    }
}

impl Settings {
    /// Loads settings from defaults, the optional file and the environment.
    pub(crate) fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let defaults = Figment::from(Serialized::defaults(Settings::default()));
        let mut figment = defaults.clone();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read configuration file {}", path.display()))?;
            // Parsed alone first, so that a typo is reported with its line and key.
            toml::from_str::<Settings>(&text)
                .with_context(|| format!("invalid configuration file {}", path.display()))?;
            figment = figment.merge(Toml::string(&text));
        }
        // Only variables naming a known key: KAOHE_TEST_DATABASE_URL and the like are not
        // settings.
        // The filter sees the key as written (upper case), before `split` turns `__` into `.`.
        let env = Env::prefixed("KAOHE_")
            .filter(move |key| {
                defaults.contains(&key.as_str().to_ascii_lowercase().replace("__", "."))
            })
            .split("__");
        let settings: Settings = figment
            .merge(env)
            .extract()
            .context("invalid setting in KAOHE_* environment variables")?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values that parse but cannot work.
    fn validate(&self) -> anyhow::Result<()> {
        for (key, value) in [
            ("accounts.login_burst", self.accounts.login_burst),
            ("accounts.login_per_minute", self.accounts.login_per_minute),
            ("ratings.window_days", self.ratings.window_days),
            (
                "ratings.rectification_working_days",
                self.ratings.rectification_working_days,
            ),
            (
                "ratings.escalation_sweep_minutes",
                self.ratings.escalation_sweep_minutes,
            ),
            ("ratings.public_burst", self.ratings.public_burst),
            ("ratings.public_per_minute", self.ratings.public_per_minute),
            ("ratings.burst_minutes", self.ratings.burst_minutes),
            ("ratings.contact_days", self.ratings.contact_days),
            ("polls.vote_burst", self.polls.vote_burst),
            ("polls.vote_per_minute", self.polls.vote_per_minute),
        ] {
            if value == 0 {
                anyhow::bail!("invalid setting {key} = 0: at least 1 is needed");
            }
        }
        let r = &self.ratings;
        if !(r.prior_strength.is_finite() && r.prior_strength >= 0.0) {
            anyhow::bail!(
                "invalid setting ratings.prior_strength = {}: a number of ratings, 0 or more",
                r.prior_strength
            );
        }
        if r.burst_count < 2 || r.contact_cases < 1 {
            anyhow::bail!(
                "invalid settings ratings.burst_count = {} / contact_cases = {}: a burst needs at least 2 ratings, the contact check at least 1 case",
                r.burst_count,
                r.contact_cases
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every setting, as the audit entry `settings.applied` records it, has a name in words on
    /// the audit page.
    #[test]
    fn every_setting_has_words_on_the_audit_page() {
        fn keys(value: &serde_json::Value, out: &mut Vec<String>) {
            if let serde_json::Value::Object(fields) = value {
                for (key, value) in fields {
                    out.push(key.clone());
                    keys(value, out);
                }
            }
        }
        let mut all = Vec::new();
        keys(
            &serde_json::to_value(Settings::default()).expect("settings serialize"),
            &mut all,
        );
        assert!(all.len() > 40, "{all:?}");
        for key in all {
            for lang in kaohe_web::shell::i18n::Lang::ALL {
                assert!(
                    kaohe_web::shell::i18n::lookup(lang, &format!("audit.key.{key}")).is_some(),
                    "{key} has no words in {lang:?}"
                );
            }
        }
    }

    #[test]
    fn documented_example_is_the_defaults() {
        let parsed: Settings = toml::from_str(EXAMPLE).expect("example parses");
        assert_eq!(parsed, Settings::default());
    }

    #[test]
    fn a_login_limit_of_zero_is_refused() {
        let mut settings = Settings::default();
        assert!(settings.validate().is_ok());
        settings.accounts.login_per_minute = 0;
        let msg = settings.validate().expect_err("zero").to_string();
        assert!(msg.contains("accounts.login_per_minute"), "{msg}");
    }

    #[test]
    fn offsets_read_and_write_back() {
        for (text, seconds) in [
            ("+08:00", 8 * 3600),
            ("-05:30", -(5 * 3600 + 1800)),
            ("Z", 0),
        ] {
            let o = LocalOffset::try_from(text.to_owned()).expect("valid");
            assert_eq!(o.0.whole_seconds(), seconds, "{text}");
            assert_eq!(
                LocalOffset::try_from(String::from(o)).expect("round trip"),
                o
            );
        }
        assert!(LocalOffset::try_from("8".to_owned()).is_err());
        let err = toml::from_str::<Settings>("[server]\nutc_offset = \"UTC+8\"\n")
            .expect_err("invalid offset");
        assert!(err.to_string().contains("expected e.g. +08:00"), "{err}");
    }

    #[test]
    fn file_typo_names_the_key() {
        let err = toml::from_str::<Settings>("[server]\nlisen = \"x\"\n").expect_err("unknown key");
        let msg = err.to_string();
        assert!(msg.contains("lisen") && msg.contains("line 2"), "{msg}");
    }
}
