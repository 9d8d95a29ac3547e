//! `kaohe serve`: the web server, optionally on demo data.

use crate::cli::ServeArgs;
use crate::settings::Settings;
use anyhow::Context;
use kaohe_domain::audit::action;
use std::sync::Arc;

pub(crate) async fn run(args: ServeArgs, settings: &Settings) -> anyhow::Result<()> {
    let store = super::open_store(settings).await?;
    super::record_settings(store.as_ref(), settings)
        .await
        .context("recording the settings in the audit log")?;
    let ballot_key = super::ballot_key(settings, store.as_ref()).await?;
    let rate_code = if args.demo {
        super::demo::prepare(store.as_ref(), settings, &ballot_key)
            .await
            .context("preparing the demo")?
    } else {
        None
    };
    // A fresh code of the demo's open poll on every demo start, for a newcomer to vote with.
    let vote_code = if args.demo {
        Some(
            super::demo_polls::prepare(store.as_ref(), &ballot_key)
                .await
                .context("preparing the demo polls")?,
        )
    } else {
        None
    };
    // Demo accounts only on a demo start, and only while the database has no account.
    let demo_accounts = if args.demo {
        match super::user::create_demo_accounts(store.as_ref())
            .await
            .context("creating demo accounts")?
        {
            Some(accounts) => Some(accounts + &demo_token(store.as_ref()).await?),
            None => None,
        }
    } else {
        None
    };
    // The first escalation sweep, before listening: after the demo accounts, so that the demo's
    // overdue rectifications reach demo_unit_leader and demo_assessor at once.
    let offset = settings.server.utc_offset.0;
    escalation_sweep(store.as_ref(), offset).await;
    let sweeps = tokio::spawn(escalation_sweeps(
        store.clone(),
        offset,
        std::time::Duration::from_secs(u64::from(settings.ratings.escalation_sweep_minutes) * 60),
    ));
    let listen = args.listen.as_deref().unwrap_or(&settings.server.listen);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener
        .local_addr()
        .context("cannot read the listening address")?;
    let shutdown = kaohe_web::shutdown_signal().context("cannot listen for signals")?;
    // The listening line comes first: scripts and tests wait for it.
    super::print(&format!("kaohe listening on http://{addr}/\n"))?;
    if let Some(accounts) = demo_accounts {
        // Not fatal: whoever started the server may have stopped reading its output.
        if let Err(error) = super::print(&accounts) {
            tracing::warn!(%error, "could not print the demo accounts");
        }
    }
    if let Some(code) = rate_code
        && let Err(error) = super::print(&format!(
            "Rate a service as the public would (好差评): http://{addr}/rate/{code}\n"
        ))
    {
        tracing::warn!(%error, "could not print the rating page");
    }
    if let Some(code) = &vote_code
        && let Err(error) = super::print(&format!(
            "Vote in the demo poll (民主测评) with code {code}: http://{addr}/vote\n"
        ))
    {
        tracing::warn!(%error, "could not print the demo poll's code");
    }
    let state = kaohe_web::AppState {
        demo: args.demo,
        sanction_periods: settings.rules.sanction_periods,
        utc_offset: settings.server.utc_offset.0,
        auth: settings
            .accounts
            .auth_settings(settings.server.secure_cookies),
        ratings: settings.ratings.rating_settings(),
        value_sources: crate::sources::all(settings, Arc::clone(&ballot_key)),
        evidence: settings.records.vault(),
        record_upload_max_bytes: settings.records.max_evidence_bytes,
        cycles: settings.cycles.options(&settings.rules),
        votes: settings.polls.vote_limit(),
        demo_vote_code: vote_code,
        ..kaohe_web::AppState::new(store, ballot_key)
    };
    let served = kaohe_web::serve(listener, state, shutdown).await;
    sweeps.abort();
    served.context("web server failed")?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Account the server's escalation sweeps are audited under.
const SWEEP_ACTOR: &str = "system";

/// One escalation sweep of the server; a failure is logged and the next sweep tries again.
async fn escalation_sweep(store: &dyn kaohe_store::Store, offset: time::UtcOffset) {
    match super::ratings::sweep(store, offset, SWEEP_ACTOR).await {
        Ok(done) if done.is_empty() => tracing::debug!("escalation sweep: nothing overdue"),
        Ok(done) => tracing::info!(escalated = done.len(), "escalation sweep"),
        Err(error) => tracing::error!(%error, "escalation sweep failed"),
    }
}

/// An escalation sweep every `period` after the first, for as long as the server runs.
async fn escalation_sweeps(
    store: Arc<dyn kaohe_store::Store>,
    offset: time::UtcOffset,
    period: std::time::Duration,
) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        escalation_sweep(store.as_ref(), offset).await;
    }
}

/// An API token for the demo service-system account, so that a newcomer can push cases and
/// ratings at once; printed with the demo accounts (demo databases only).
async fn demo_token(store: &dyn kaohe_store::Store) -> anyhow::Result<String> {
    let username = "demo_service_system";
    let (id, token, hash) = kaohe_web::shell::auth::issue_token();
    let info = kaohe_store::TokenInfo {
        id: id.clone(),
        username: username.to_owned(),
        label: "demo".into(),
        created_at: time::OffsetDateTime::now_utc().unix_timestamp(),
        revoked_at: None,
    };
    let audit = kaohe_domain::NewAuditEntry::new("demo", action::TOKEN_ISSUE, username)
        .after(serde_json::json!({"id": id, "label": "demo"}).to_string());
    store
        .create_token(&info, &hash, &audit)
        .await
        .context("issuing the demo API token")?;
    Ok(format!(
        "API token of {username} (POST /api/v1/cases, /api/v1/ratings; Authorization: Bearer …): {token}\n"
    ))
}
