//! `kaohe serve`: the web server, optionally on demo data.

use crate::cli::ServeArgs;
use crate::settings::Settings;
use anyhow::Context;

pub(crate) async fn run(args: ServeArgs, settings: &Settings) -> anyhow::Result<()> {
    let store = super::open_store(settings).await?;
    super::record_settings(store.as_ref(), settings)
        .await
        .context("recording the settings in the audit log")?;
    let rate_code = if args.demo {
        super::demo::prepare(store.as_ref(), settings.server.utc_offset.0)
            .await
            .context("preparing the demo")?
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
    let state = kaohe_web::AppState {
        demo: args.demo,
        sanction_periods: settings.rules.sanction_periods,
        utc_offset: settings.server.utc_offset.0,
        auth: settings
            .accounts
            .auth_settings(settings.server.secure_cookies),
        service: settings.ratings.service_settings(),
        ..kaohe_web::AppState::new(store)
    };
    kaohe_web::serve(listener, state, shutdown)
        .await
        .context("web server failed")?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// An API token for the demo service-system account, so that a newcomer can push cases and
/// ratings at once; printed with the demo accounts (demo databases only).
async fn demo_token(store: &dyn kaohe_store::Store) -> anyhow::Result<String> {
    let username = "demo_service_system";
    let (id, token, hash) = kaohe_web::auth::issue_token();
    let info = kaohe_store::TokenInfo {
        id: id.clone(),
        username: username.to_owned(),
        label: "demo".into(),
        created_at: time::OffsetDateTime::now_utc().unix_timestamp(),
        revoked_at: None,
    };
    let audit = kaohe_domain::NewAuditEntry::new("demo", "token.issue", username)
        .after(serde_json::json!({"id": id, "label": "demo"}).to_string());
    store
        .create_token(&info, &hash, &audit)
        .await
        .context("issuing the demo API token")?;
    Ok(format!(
        "API token of {username} (POST /api/v1/cases, /api/v1/ratings; Authorization: Bearer …): {token}\n"
    ))
}
