//! `kaohe token`: API tokens of service systems (接入系统).

use super::print;
use crate::cli::TokenAction;
use anyhow::Context;
use kaohe_domain::NewAuditEntry;
use kaohe_domain::access::Role;
use kaohe_domain::audit::action;
use kaohe_store::{Store, TokenInfo};

pub(crate) async fn run(action: &TokenAction, store: &dyn Store) -> anyhow::Result<()> {
    match action {
        TokenAction::Issue { username, label } => {
            let user = store
                .get_user(username)
                .await?
                .with_context(|| format!("no account {username:?}"))?;
            anyhow::ensure!(
                user.roles.contains(&Role::ServiceSystem),
                "account {username:?} does not hold the service_system role; create one with \
                 `kaohe user add NAME --role service_system`"
            );
            anyhow::ensure!(!user.disabled, "account {username:?} is disabled");
            let (id, token, hash) = kaohe_web::shell::auth::issue_token();
            let info = TokenInfo {
                id: id.clone(),
                username: username.clone(),
                label: label.trim().to_owned(),
                created_at: time::OffsetDateTime::now_utc().unix_timestamp(),
                revoked_at: None,
            };
            let audit = NewAuditEntry::new("cli", action::TOKEN_ISSUE, username)
                .after(serde_json::json!({"id": id, "label": info.label}).to_string());
            store.create_token(&info, &hash, &audit).await?;
            print(&format!(
                "token {id} for {username} (shown once; send it as `Authorization: Bearer …`):\n{token}\n"
            ))
        }
        TokenAction::List => {
            let mut out = String::from("id\taccount\tlabel\tcreated\trevoked\n");
            for t in store.list_tokens().await? {
                let when = |t: i64| {
                    time::OffsetDateTime::from_unix_timestamp(t)
                        .map(|t| t.date().to_string())
                        .unwrap_or_default()
                };
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\n",
                    t.id,
                    t.username,
                    t.label,
                    when(t.created_at),
                    t.revoked_at.map(when).unwrap_or_else(|| "-".into())
                ));
            }
            print(&out)
        }
        TokenAction::Revoke { id } => {
            let audit = NewAuditEntry::new("cli", action::TOKEN_REVOKE, id);
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            anyhow::ensure!(
                store.revoke_token(id, now, &audit).await?,
                "no token {id:?} in effect (see `kaohe token list`)"
            );
            print(&format!("token {id} revoked\n"))
        }
    }
}
