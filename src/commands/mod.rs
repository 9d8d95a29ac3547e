//! One module per command. Each turns flags and settings into calls on the library crates.

mod assess;
pub(crate) mod audit;
mod cycle;
mod data;
mod demo;
mod demo_polls;
mod poll;
mod ratings;
mod records;
mod serve;
mod token;
mod user;

use crate::cli::{Cli, Command, ConfigAction, FrameworkAction};
use crate::settings::{EXAMPLE, Settings};
use anyhow::Context;
use kaohe_domain::audit::action;
use std::io::{IsTerminal, Write};
use std::sync::Arc;

/// Runs a parsed command line.
pub(crate) fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    if let Some(url) = cli.database_url {
        settings.database_url = url;
    }
    match cli.command {
        Command::Config {
            action: ConfigAction::Default,
        } => print(EXAMPLE),
        Command::Config {
            action: ConfigAction::Show,
        } => {
            let mut shown = settings;
            shown.database_url = kaohe_store::redact_url(&shown.database_url);
            print(&toml::to_string_pretty(&shown).context("cannot print settings")?)
        }
        Command::Framework { action } if !matches!(action, FrameworkAction::Upload { .. }) => {
            assess::framework(&action)
        }
        Command::Assess(args) => assess::assess(&args),
        command => {
            init_logging(&settings.log.filter);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(run_async(command, settings))
        }
    }
}

async fn run_async(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve::run(args, &settings).await,
        Command::Migrate => {
            open_store(&settings).await?;
            print("migrations applied\n")
        }
        Command::Import(args) => {
            data::import(
                &args,
                &open_store(&settings).await?,
                settings.server.utc_offset.0,
            )
            .await
        }
        Command::Export(args) => {
            data::export(
                &args,
                &open_store(&settings).await?,
                settings.server.utc_offset.0,
            )
            .await
        }
        Command::Gen(args) => {
            if let Some(id) = args.cycle {
                let store = open_store(&settings).await?;
                let n = data::fill_cycle(store.as_ref(), id, args.seed, &settings, &audit::actor())
                    .await?;
                return print(&format!("filled the values of {n} people of cycle {id}\n"));
            }
            let store = if args.load {
                Some(open_store(&settings).await?)
            } else {
                None
            };
            data::generate(&args, store.as_ref(), settings.server.utc_offset.0).await
        }
        Command::User { action } => {
            let store = open_store(&settings).await?;
            user::run(
                &action,
                store.as_ref(),
                &settings.accounts.password_policy(),
            )
            .await
        }
        Command::Ratings { action } => {
            ratings::run(&action, open_store(&settings).await?.as_ref(), &settings).await
        }
        Command::Token { action } => {
            token::run(&action, open_store(&settings).await?.as_ref()).await
        }
        Command::Audit { action } => {
            audit::run(&action, open_store(&settings).await?.as_ref()).await
        }
        Command::Poll { action } => {
            let store = open_store(&settings).await?;
            let key = ballot_key(&settings, store.as_ref()).await?;
            poll::run(&action, store.as_ref(), settings.server.utc_offset.0, &key).await
        }
        Command::Cycle { action } => {
            cycle::run(&action, open_store(&settings).await?.as_ref(), &settings).await
        }
        Command::Framework {
            action: FrameworkAction::Upload { file },
        } => cycle::upload(&file, open_store(&settings).await?.as_ref()).await,
        Command::Config { .. } | Command::Framework { .. } | Command::Assess(_) => Ok(()),
    }
}

/// Appends `settings.applied` to the audit log, with the settings before and after, when the
/// effective settings differ from those of the last start: a change of the configuration file
/// or of the environment leaves a trace. The database URL is recorded without its password.
pub(crate) async fn record_settings(
    store: &dyn kaohe_store::Store,
    settings: &Settings,
) -> anyhow::Result<()> {
    let mut shown = settings.clone();
    shown.database_url = kaohe_store::redact_url(&shown.database_url);
    let now = serde_json::to_string(&shown).context("cannot serialize the settings")?;
    let last = store.last_audit_of(action::SETTINGS_APPLIED).await?;
    let before = last.as_ref().and_then(|e| e.after.clone());
    if before.as_deref() != Some(now.as_str()) {
        let mut entry =
            kaohe_domain::NewAuditEntry::new("system", action::SETTINGS_APPLIED, "settings");
        if let Some(before) = before {
            entry = entry.before(before);
        }
        store.append_audit(&entry.after(now)).await?;
    }
    Ok(())
}

/// Opens and migrates the configured database.
async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn kaohe_store::Store>> {
    kaohe_store::connect(&settings.database_url)
        .await
        .with_context(|| {
            format!(
                "cannot open database {}",
                kaohe_store::redact_url(&settings.database_url)
            )
        })
}

/// The deployment's ballot key (`[polls] ballot_key_file`), created on first use.
async fn ballot_key(
    settings: &Settings,
    store: &dyn kaohe_store::Store,
) -> anyhow::Result<Arc<kaohe_domain::polls::BallotKey>> {
    let file = settings.polls.ballot_key_file(&settings.database_url);
    Ok(Arc::new(
        kaohe_store::polls::key_file::load_or_create(&file, store).await?,
    ))
}

/// Writes command output to standard output.
pub(crate) fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to standard output")
}

fn init_logging(filter: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| filter.to_owned());
    // A second initialisation (never in the binary) is harmless, so its error is ignored.
    // Colours only on a terminal: a log file or a journal gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
