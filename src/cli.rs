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
    /// Write files into this directory.
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "load",
        conflicts_with = "load"
    )]
    pub(crate) out: Option<PathBuf>,
    /// Load the data straight into the database instead of writing files.
    #[arg(long)]
    pub(crate) load: bool,
    /// File format for --out.
    #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
    pub(crate) format: FormatArg,
    /// Header language for --out.
    #[arg(long, value_enum, default_value_t = LangArg::Zh)]
    pub(crate) lang: LangArg,
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
    /// Monte Carlo draws for rank intervals (none when absent).
    #[arg(long, value_name = "N")]
    pub(crate) draws: Option<usize>,
    /// Seed of the Monte Carlo draws.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub(crate) seed: u64,
    /// Result file: .csv, .json or .xlsx.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
}
