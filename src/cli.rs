//! Command-line flags.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// kaohe 考核: self-hosted performance assessment of public officials.
#[derive(Debug, Parser)]
#[command(name = "kaohe", version, about, long_about = None)]
pub(crate) struct Cli {
    /// Configuration file (TOML); see `kaohe config default`.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://… [default: sqlite://kaohe.db]
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) database_url: Option<String>,
    /// The command.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the web server (UI and JSON API).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Import a CSV or XLSX file into the database, all or nothing.
    Import(ImportArgs),
    /// Export tables to CSV or XLSX files that `kaohe import` reads back.
    Export(ExportArgs),
    /// Generate realistic synthetic data (deterministic for a seed).
    Gen(GenArgs),
    /// Framework files (考核指标体系): list the presets, show one, check a file.
    Framework {
        /// What to do.
        #[command(subcommand)]
        action: FrameworkAction,
    },
    /// Assess people from a file of indicator values: scores, ranks and grades.
    Assess(AssessArgs),
    /// The hash-chained audit log (审计日志): verify, list, export.
    Audit {
        /// What to do.
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Accounts: add, reset a password, disable, reissue a TOTP secret, list (first
    /// administrator and recovery).
    User {
        /// What to do.
        #[command(subcommand)]
        action: UserAction,
    },
    /// API tokens of service systems (接入系统) that push cases and ratings: issue, list, revoke.
    Token {
        /// What to do.
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Public service ratings (好差评): satisfaction figures as indicator values for
    /// `kaohe assess`.
    Ratings {
        /// What to do.
        #[command(subcommand)]
        action: RatingsAction,
    },
    /// Assessment cycles (考核周期): create, open, import values, compute, committee decisions,
    /// finalize, amend, results.
    Cycle {
        /// What to do.
        #[command(subcommand)]
        action: CycleAction,
    },
    /// Democratic evaluation and recommendation polls (民主测评、民主推荐) with one-time
    /// codes: create, print codes, close, results.
    Poll {
        /// What to do.
        #[command(subcommand)]
        action: PollAction,
    },
    /// Configuration helpers.
    Config {
        /// What to do.
        #[command(subcommand)]
        action: ConfigAction,
    },
}

/// `kaohe serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<String>,
    /// Fill an empty database with a generated county and mark pages as demo data.
    #[arg(long)]
    pub(crate) demo: bool,
}

/// What `kaohe import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ImportWhat {
    /// Units (单位).
    Units,
    /// Cadres (干部).
    Cadres,
    /// Appointment history (任职经历).
    Appointments,
    /// Disciplinary sanctions (处分).
    Sanctions,
    /// Working-day calendar overrides (节假日与调休).
    Calendar,
    /// Service cases (办件) of public ratings; each new case gets the code of its rating page.
    Cases,
    /// Public ratings of service cases (好差评): one per case, by the intake rules at the time
    /// of each rating; bad reviews open their rectification.
    Ratings,
    /// Every table's file found in a directory, in dependency order.
    All,
}

/// `kaohe import`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// Which table the file holds (`all`: PATH is a directory of units.csv, cadres.csv, …).
    pub(crate) what: ImportWhat,
    /// The .csv or .xlsx file (or directory, with `all`).
    pub(crate) path: PathBuf,
}

/// File format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FormatArg {
    /// CSV, UTF-8 with BOM.
    Csv,
    /// Excel workbook.
    Xlsx,
}

/// Header language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LangArg {
    /// Chinese headers and labels.
    Zh,
    /// English headers and codes.
    En,
}

/// `kaohe export`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// Directory to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// File format.
    #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
    pub(crate) format: FormatArg,
    /// Header language.
    #[arg(long, value_enum, default_value_t = LangArg::Zh)]
    pub(crate) lang: LangArg,
    /// Write the public's phone numbers in full instead of masked (138****5678): recorded in
    /// the audit log as an export of personal data.
    #[arg(long)]
    pub(crate) unmasked: bool,
}

/// `kaohe gen`.
#[derive(Debug, Args)]
pub(crate) struct GenArgs {
    /// Number of cadres (500 ≈ a county, 1000000 ≈ a province).
    #[arg(long, default_value_t = 500)]
    pub(crate) cadres: usize,
    /// Random seed: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Assessment year the data is generated for.
    #[arg(long, default_value_t = 2025)]
    pub(crate) year: i32,
    /// Service cases of the year (about three quarters rated) [default: two per cadre, at
    /// most 50000].
    #[arg(long, value_name = "N")]
    pub(crate) cases: Option<usize>,
    /// Write files into this directory.
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present_any = ["load", "cycle"],
        conflicts_with_all = ["load", "cycle"]
    )]
    pub(crate) out: Option<PathBuf>,
    /// Load the data straight into the database instead of writing files.
    #[arg(long)]
    pub(crate) load: bool,
    /// With --load: work records (纪实) per cadre over the year (or the quarter), on the
    /// indicators of the preset frameworks that take records.
    #[arg(long, value_name = "N", default_value_t = 20, requires = "load")]
    pub(crate) records: usize,
    /// With --load: the records fall in this quarter (1–4) of --year instead of the whole year.
    #[arg(long, value_name = "Q", requires = "load", value_parser = clap::value_parser!(u8).range(1..=4))]
    pub(crate) records_quarter: Option<u8>,
    /// File format for --out.
    #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
    pub(crate) format: FormatArg,
    /// Header language for --out.
    #[arg(long, value_enum, default_value_t = LangArg::Zh)]
    pub(crate) lang: LangArg,
    /// Also write indicator values for this framework (a TOML file or a preset name) as
    /// values.csv, and per-person facts as people.csv, for `kaohe assess`; baseline.csv
    /// (previous-period values) when an indicator scores growth and history.csv (earlier
    /// years) when one has latent credit.
    #[arg(long, value_name = "FILE|PRESET", conflicts_with_all = ["indicators", "load"])]
    pub(crate) framework: Option<String>,
    /// Also write a synthetic framework.toml of N min-max indicators, with values.csv and
    /// people.csv for it.
    #[arg(long, value_name = "N", conflicts_with = "load", value_parser = clap::value_parser!(u16).range(1..=2000))]
    pub(crate) indicators: Option<u16>,
    /// Instead of generating an organization, fill the values of cycle ID (collecting) in the
    /// database: generated values of its framework's indicators for its people, imported as a
    /// values file would be. Columns a source of the cycle gathers (好差评) are left to it.
    #[arg(long, value_name = "ID", conflicts_with_all = ["load", "framework", "indicators"])]
    pub(crate) cycle: Option<i64>,
}

/// `kaohe audit …`.
#[derive(Debug, Subcommand)]
pub(crate) enum AuditAction {
    /// Check the hash chain: name every edited, removed or reordered entry; exit non-zero if
    /// any. Prints the head (SEQ:HASH) to record outside the database.
    Verify {
        /// A head recorded earlier (SEQ:HASH, from `kaohe audit verify`): also catches entries
        /// cut from the end and a rewritten chain.
        #[arg(long, value_name = "SEQ:HASH")]
        expect_head: Option<kaohe_domain::AuditHead>,
    },
    /// Print the latest entries.
    List {
        /// How many (the most recent).
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Only actions starting with this (`import`, `user.login`).
        #[arg(long, value_name = "PREFIX")]
        action: Option<String>,
    },
    /// Archive entries to a file (.csv or .jsonl), hashes included.
    Export(AuditExportArgs),
}

/// `kaohe audit export`.
#[derive(Debug, Args)]
pub(crate) struct AuditExportArgs {
    /// The file to write: .csv (UTF-8 with BOM) or .jsonl (one entry per line).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// First day (UTC, YYYY-MM-DD) of entries to export.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub(crate) from: Option<time::Date>,
    /// Last day (UTC, YYYY-MM-DD) of entries to export, included.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub(crate) to: Option<time::Date>,
}

fn parse_date(s: &str) -> Result<time::Date, String> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|e| format!("expected YYYY-MM-DD: {e}"))
}

/// `kaohe config …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigAction {
    /// Print the documented example configuration (all defaults).
    Default,
    /// Print the effective settings after file, environment and flags.
    Show,
}

/// `kaohe framework …`.
#[derive(Debug, Subcommand)]
pub(crate) enum FrameworkAction {
    /// List the built-in presets: name, Chinese and English titles.
    Presets,
    /// Print a preset's TOML source.
    Show {
        /// Preset name (see `kaohe framework presets`).
        name: String,
    },
    /// Validate a framework file or preset and print its outline with effective weights.
    Check {
        /// A framework TOML file or a preset name.
        framework: String,
    },
    /// Store a framework file as a version in the database (the presets are stored on first
    /// use); a version once stored never changes: a changed file needs a new `version`.
    Upload {
        /// A framework TOML file.
        file: PathBuf,
    },
}

/// `kaohe cycle …`.
#[derive(Debug, Subcommand)]
pub(crate) enum CycleAction {
    /// Create a cycle in draft: its people are those of the units (with everything under
    /// them) on the period's last day, from the appointment history.
    Create {
        /// Name, e.g. 2026年度考核.
        #[arg(long)]
        name: String,
        /// Kind: routine (平时, one quarter), annual (年度, one year), special (专项), term
        /// (任期), performance (绩效).
        #[arg(long)]
        kind: String,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: String,
        /// Framework id (a preset name or an uploaded framework), optionally `@VERSION`
        /// [default: the latest stored version].
        #[arg(long)]
        framework: String,
        /// A unit of the scope (repeat for several); everything under it is included.
        #[arg(long = "unit", required = true)]
        units: Vec<String>,
    },
    /// List the cycles, newest period first.
    List,
    /// A cycle's state, period, framework, people, scope changes, completeness and results.
    Show {
        /// Cycle id.
        id: i64,
    },
    /// Open a draft for collecting values.
    Open {
        /// Cycle id.
        id: i64,
    },
    /// Write a values template for the cycle: its people with their units, one empty column
    /// per indicator (.csv or .xlsx).
    Template {
        /// Cycle id.
        id: i64,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a values file (CSV or XLSX: person_id, optional unit_id and names, then
    /// indicator columns) into a cycle that is collecting; all or nothing.
    ImportValues {
        /// Cycle id.
        id: i64,
        /// Values file.
        file: PathBuf,
    },
    /// Gather the sources (好差评 figures of the period) and compute scores, ranks, rank
    /// intervals and grades through the scoring engine.
    Compute {
        /// Cycle id.
        id: i64,
    },
    /// Hand a computed result to the assessment committee (考核委员会).
    Review {
        /// Cycle id.
        id: i64,
    },
    /// Record a committee decision on a person: award_top or keep_next for a tie at the quota
    /// line, confirm for a flag.
    Decide {
        /// Cycle id.
        id: i64,
        /// Cadre id.
        #[arg(long)]
        person: String,
        /// award_top, keep_next or confirm (or their Chinese labels).
        #[arg(long)]
        decision: String,
        /// Why (required).
        #[arg(long)]
        reason: String,
    },
    /// Lock the results: every tie must be decided.
    Finalize {
        /// Cycle id.
        id: i64,
    },
    /// Correct a final cycle: recompute with corrected values (optional), keeping the
    /// corrected result beside the new one.
    Amend {
        /// Cycle id.
        id: i64,
        /// Why (required).
        #[arg(long)]
        reason: String,
        /// Corrected values of some people (same format as import-values).
        #[arg(long)]
        values: Option<PathBuf>,
    },
    /// Write a cycle's results: the columns of `kaohe assess`, then name and unit_name.
    Results {
        /// Cycle id.
        id: i64,
        /// Output file (.csv or .xlsx).
        #[arg(long)]
        out: PathBuf,
        /// A revision other than the current one.
        #[arg(long)]
        revision: Option<i64>,
    },
    /// Write the exact input the cycle's engine reads: values.csv and people.csv in the
    /// format of `kaohe assess`, to check a result independently.
    Input {
        /// Cycle id.
        id: i64,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
}

/// `kaohe assess`.
#[derive(Debug, Args)]
pub(crate) struct AssessArgs {
    /// Framework: a TOML file or a preset name.
    #[arg(long, value_name = "FILE|PRESET")]
    pub(crate) framework: String,
    /// Indicator values (.csv or .xlsx): person_id, unit_id, then one column per indicator.
    #[arg(long, value_name = "FILE")]
    pub(crate) data: PathBuf,
    /// Per-person facts (.csv or .xlsx): person_id, warning_in_year, sanction_in_effect,
    /// routine_poor.
    #[arg(long, value_name = "FILE")]
    pub(crate) people: Option<PathBuf>,
    /// Baseline-period values for growth scoring (.csv or .xlsx): person_id, then one column
    /// per indicator scored on growth.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// Past values for latent credit (.csv or .xlsx), one row per value:
    /// person_id, indicator, period (a year before --year), value. Needs --year.
    #[arg(long, value_name = "FILE", requires = "year")]
    pub(crate) history: Option<PathBuf>,
    /// The assessed year: --history periods count back from it (the year before is the
    /// latest past year).
    #[arg(long, value_name = "YEAR", value_parser = clap::value_parser!(i64).range(2..=9999))]
    pub(crate) year: Option<i64>,
    /// Monte Carlo draws for rank intervals (none when absent).
    #[arg(long, value_name = "N")]
    pub(crate) draws: Option<usize>,
    /// Seed of the Monte Carlo draws.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub(crate) seed: u64,
    /// Result file: .csv, .json or .xlsx.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// Top-grade quota share, 0–1 [default: 0.20].
    #[arg(long, value_name = "SHARE")]
    pub(crate) quota_share: Option<f64>,
    /// Grade scale instead of the framework's.
    #[arg(long, value_enum)]
    pub(crate) scale: Option<ScaleArg>,
    /// Weight noise of the Monte Carlo draws: `none`, `uniform:F` (±F, default uniform:0.2) or
    /// `dirichlet:C`.
    #[arg(long, value_name = "NOISE")]
    pub(crate) noise: Option<String>,
}

/// Grade scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ScaleArg {
    /// 年度考核: 优秀/称职/基本称职/不称职.
    Annual,
    /// 平时考核: 好/较好/一般/较差.
    Routine,
    /// 领导班子: 优秀/良好/一般/较差.
    Team,
}

/// `kaohe user …`.
#[derive(Debug, Subcommand)]
pub(crate) enum UserAction {
    /// Create an account; the password is read from the first line of standard input.
    /// Administrator roles get a TOTP secret, printed once.
    Add {
        /// Account name.
        username: String,
        /// Role (system_admin, security_admin, audit_admin, assessor, unit_leader, official,
        /// rater); repeat for several. No two administrator roles together.
        #[arg(long, required = true, value_name = "ROLE")]
        role: Vec<String>,
        /// Unit code: an assessor's assigned unit (with the units under it), a unit leader's
        /// unit; repeat for several.
        #[arg(long, value_name = "CODE")]
        unit: Vec<String>,
        /// An official's own cadre id.
        #[arg(long, value_name = "ID")]
        cadre: Option<String>,
        /// Display name [default: the account name].
        #[arg(long)]
        name: Option<String>,
    },
    /// Set a new password (first line of standard input), clear the lockout, end sessions.
    Reset {
        /// Account name.
        username: String,
    },
    /// Disable an account and end its sessions.
    Disable {
        /// Account name.
        username: String,
    },
    /// Issue a new TOTP secret for an account whose authenticator is lost, end its sessions,
    /// and print the secret and its otpauth:// URI once.
    TotpReset {
        /// Account name.
        username: String,
    },
    /// List the accounts.
    List,
}

/// `kaohe token …`.
#[derive(Debug, Subcommand)]
pub(crate) enum TokenAction {
    /// Issue a token for an account with the service_system role; the token is printed once.
    Issue {
        /// Account the token acts as (role service_system).
        username: String,
        /// What the token is for, e.g. the name of the service system.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List tokens (never the tokens themselves).
    List,
    /// Revoke a token by its id.
    Revoke {
        /// The token's id, as listed.
        id: String,
    },
}

/// `kaohe ratings …`.
#[derive(Debug, Subcommand)]
pub(crate) enum RatingsAction {
    /// Write the satisfaction figures of a period per official or per unit as a values file
    /// (person_id, unit_id, then one column per figure, in percent) that `kaohe assess --data`
    /// reads: ratings become indicators of a framework.
    Figures {
        /// Per official (person_id = cadre id, unit_id = their unit) or per unit (person_id =
        /// unit code, unit_id = the parent unit, or itself at the top).
        #[arg(long, value_enum, default_value = "official")]
        by: RatingsBy,
        /// First day, YYYY-MM-DD [default: the last 12 months up to --to's default, today].
        #[arg(long)]
        from: Option<String>,
        /// Last day, YYYY-MM-DD [default: today].
        #[arg(long)]
        to: Option<String>,
        /// Figure columns to write, comma-separated (a framework must name every column of its
        /// values file): ratings, excluded, satisfaction, satisfaction_shrunk, satisfaction_low,
        /// satisfaction_high, bad_rate, rectification_rate, on_time_rate, callback_rate
        /// [default: all].
        #[arg(long, value_delimiter = ',')]
        columns: Vec<String>,
        /// Output file, .csv or .xlsx.
        #[arg(long)]
        out: PathBuf,
    },
    /// Escalate (督办) the open rectifications overdue today, as the server does at start and
    /// periodically: each once, on the first working day after its deadline, to the unit's
    /// leaders and the assessors covering the unit, with an audit entry. Prints what it
    /// escalated; running it again escalates nothing new. For cron.
    Escalate,
}

/// Whom `kaohe ratings figures` writes a row for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum RatingsBy {
    /// One row per handling official.
    Official,
    /// One row per responsible unit.
    Unit,
}

/// `kaohe poll …`.
#[derive(Debug, Subcommand)]
pub(crate) enum PollAction {
    /// Create a poll: its people, items, rater groups and times.
    Create {
        /// Identifier, e.g. 2026-qhx-eval.
        #[arg(long)]
        id: String,
        /// Title shown to raters, e.g. 2026年度民主测评.
        #[arg(long)]
        title: String,
        /// evaluation (民主测评) or recommendation (民主推荐).
        #[arg(long, default_value = "evaluation")]
        kind: String,
        /// A person evaluated or a nominee, by cadre id (repeat, in ballot order).
        #[arg(long = "person", required = true)]
        people: Vec<String>,
        /// Dimensions graded besides the overall grade: de, neng, qin, ji, lian (德能勤绩廉;
        /// repeat or comma-separate). Evaluation only.
        #[arg(long = "item", value_delimiter = ',')]
        items: Vec<String>,
        /// Most nominees a recommendation ballot may choose.
        #[arg(long, default_value_t = 0)]
        seats: u32,
        /// A rater group as ID:NAME:WEIGHT:CODES[:MERGE_INTO], e.g. peers:同级:0.4:30 (repeat).
        #[arg(long = "group", required = true)]
        groups: Vec<String>,
        /// Opening time, local (2026-12-01 09:00) or RFC 3339.
        #[arg(long)]
        opens: String,
        /// Closing time, local or RFC 3339.
        #[arg(long)]
        closes: String,
        /// The cycle (its number) whose indicator values it feeds: every person must be one of
        /// its people.
        #[arg(long)]
        cycle: Option<i64>,
        /// Share of each group's codes that must be used for results [default: 2/3].
        #[arg(long)]
        quorum: Option<f64>,
    },
    /// Draw a group's codes from the operating system, store their hashes and print them:
    /// the only time they are shown.
    Codes {
        /// The poll.
        #[arg(long)]
        poll: String,
        /// The group.
        #[arg(long)]
        group: String,
        /// How many [default: all the group's codes not issued yet].
        #[arg(long)]
        count: Option<u32>,
    },
    /// Enter a group's counted paper ballots (纸质票), counted once another account confirms.
    Paper {
        /// The poll.
        #[arg(long)]
        poll: String,
        /// The group.
        #[arg(long)]
        group: String,
        /// Paper ballots returned.
        #[arg(long)]
        ballots: u32,
        /// Votes of one person on one item as PERSON:ITEM:优秀,称职,基本称职,不称职, e.g.
        /// C001:overall:6,4,1,0 (repeat); a recommendation gives PERSON:overall:VOTES.
        #[arg(long = "count", required = true)]
        counts: Vec<String>,
    },
    /// Confirm a group's paper count (双人复核): by another account than the one that entered it.
    Confirm {
        /// The poll.
        #[arg(long)]
        poll: String,
        /// The group.
        #[arg(long)]
        group: String,
    },
    /// Close a poll now, before its closing time.
    Close {
        /// The poll.
        #[arg(long)]
        poll: String,
    },
    /// Turnout of each group; once closed, the results (quorum, merged groups, rates, flags
    /// or ranking).
    Results {
        /// The poll.
        #[arg(long)]
        poll: String,
    },
}
