//! `kaohe user add|reset|disable|totp-reset|list`: accounts from the command line, for the
//! first administrator and for recovery; and the demo accounts of `kaohe serve --demo`.

use super::audit::actor;
use super::print;
use crate::cli::UserAction;
use anyhow::{Context, bail};
use kaohe_domain::access::{PasswordPolicy, check_admin_separation, check_username, totp};
use kaohe_domain::audit::action;
use kaohe_domain::{Code, Labeled, NewAuditEntry, Role};
use kaohe_store::{LastHolder, NewUser, Store};
use kaohe_web::shell::auth::TOTP_ISSUER;
use std::collections::BTreeSet;
use std::io::BufRead;

/// An account to create, before hashing.
pub(crate) struct AccountSpec<'a> {
    pub(crate) username: &'a str,
    pub(crate) display_name: &'a str,
    pub(crate) password: &'a str,
    pub(crate) roles: BTreeSet<Role>,
    pub(crate) units: Vec<Code>,
    pub(crate) cadre: Option<Code>,
}

/// The `otpauth://` URI of an account's TOTP secret, for authenticator apps.
fn otpauth_uri(username: &str, secret: &str) -> anyhow::Result<String> {
    totp::otpauth_uri(TOTP_ISSUER, username, secret)
        .with_context(|| format!("no otpauth URI for {username}"))
}

/// Checks and creates an account, audited; returns the TOTP secret when its roles need one.
pub(crate) async fn create_account(
    store: &dyn Store,
    spec: &AccountSpec<'_>,
    policy: &PasswordPolicy,
    actor: &str,
) -> anyhow::Result<Option<String>> {
    let username = spec.username.trim();
    check_username(username).with_context(|| format!("invalid user name {username:?}"))?;
    check_admin_separation(&spec.roles)?;
    policy.check(username, spec.password)?;
    for unit in &spec.units {
        if store.get_unit(unit).await?.is_none() {
            bail!("no unit {unit}");
        }
    }
    if let Some(cadre) = &spec.cadre
        && store.get_cadre(cadre).await?.is_none()
    {
        bail!("no cadre {cadre}");
    }
    let secret = spec
        .roles
        .iter()
        .any(|r| r.requires_totp())
        .then(kaohe_web::shell::auth::new_totp_secret);
    let password = spec.password.to_owned();
    let password_hash =
        tokio::task::spawn_blocking(move || kaohe_web::shell::auth::hash_password(&password))
            .await
            .context("hashing task failed")??;
    let user = NewUser {
        username: username.to_owned(),
        display_name: if spec.display_name.is_empty() {
            username.to_owned()
        } else {
            spec.display_name.to_owned()
        },
        password_hash,
        roles: spec.roles.clone(),
        units: spec.units.clone(),
        cadre: spec.cadre.clone(),
        totp_secret: secret.clone(),
        must_change_password: false,
    };
    let audit = NewAuditEntry::new(actor, action::USER_CREATE, username).after(
        serde_json::json!({
            "roles": spec.roles.iter().map(|r| r.code()).collect::<Vec<_>>(),
            "units": spec.units.iter().map(Code::as_str).collect::<Vec<_>>(),
            "cadre": spec.cadre.as_ref().map(Code::as_str),
            "totp": secret.is_some(),
        })
        .to_string(),
    );
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if !store.create_user(&user, now, &audit).await? {
        bail!("user {username} exists already");
    }
    Ok(secret)
}

/// The first line of standard input, without its line end.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}

/// Runs `kaohe user …`.
pub(crate) async fn run(
    action: &UserAction,
    store: &dyn Store,
    policy: &PasswordPolicy,
) -> anyhow::Result<()> {
    match action {
        UserAction::Add {
            username,
            role,
            unit,
            cadre,
            name,
        } => {
            let roles = role
                .iter()
                .map(|r| Role::parse_label(r))
                .collect::<Result<BTreeSet<_>, _>>()?;
            let units = unit
                .iter()
                .map(|u| Code::parse(u))
                .collect::<Result<Vec<_>, _>>()?;
            let cadre = cadre.as_deref().map(Code::parse).transpose()?;
            let password = read_password()?;
            let spec = AccountSpec {
                username,
                display_name: name.as_deref().unwrap_or_default(),
                password: &password,
                roles,
                units,
                cadre,
            };
            let secret = create_account(store, &spec, policy, &actor()).await?;
            let mut out = format!("user {username} created\n");
            if let Some(secret) = secret {
                out.push_str(&format!(
                    "TOTP secret (add it to an authenticator app; needed at every login): {secret}\n{}\n",
                    otpauth_uri(username, &secret)?
                ));
            }
            print(&out)
        }
        UserAction::Reset { username } => {
            let user = store
                .get_user(username)
                .await?
                .with_context(|| format!("no user {username}"))?;
            let password = read_password()?;
            policy.check(username, &password)?;
            let hash = tokio::task::spawn_blocking(move || {
                kaohe_web::shell::auth::hash_password(&password)
            })
            .await
            .context("hashing task failed")??;
            let audit = NewAuditEntry::new(actor(), action::USER_RESET, username)
                .before(
                    serde_json::json!({
                        "must_change_password": user.must_change_password,
                        "failed_logins": user.failed_logins,
                    })
                    .to_string(),
                )
                .after(
                    serde_json::json!({
                        "must_change_password": false,
                        "failed_logins": 0,
                        "sessions_ended": true,
                    })
                    .to_string(),
                );
            store
                .set_password(&user.username, &hash, false, None, &audit)
                .await?;
            print(&format!(
                "password of {username} reset; lockout cleared; sessions ended\n"
            ))
        }
        UserAction::Disable { username } => {
            let user = store
                .get_user(username)
                .await?
                .with_context(|| format!("no user {username}"))?;
            let audit = NewAuditEntry::new(actor(), action::USER_DISABLE, username)
                .before(serde_json::json!({ "disabled": user.disabled }).to_string())
                .after(serde_json::json!({ "disabled": true, "sessions_ended": true }).to_string());
            if !store
                .set_disabled(username, true, LastHolder::MayLeave, &audit)
                .await?
            {
                bail!("no user {username}");
            }
            print(&format!("user {username} disabled; sessions ended\n"))
        }
        UserAction::TotpReset { username } => {
            let user = store
                .get_user(username)
                .await?
                .with_context(|| format!("no user {username}"))?;
            let secret = kaohe_web::shell::auth::new_totp_secret();
            let uri = otpauth_uri(username, &secret)?;
            let audit = NewAuditEntry::new(actor(), action::USER_TOTP_RESET, username)
                .before(serde_json::json!({ "totp": user.totp_secret.is_some() }).to_string())
                .after(serde_json::json!({ "totp": true, "sessions_ended": true }).to_string());
            if !store
                .set_totp_secret(username, Some(&secret), None, &audit)
                .await?
            {
                bail!("no user {username}");
            }
            print(&format!(
                "new TOTP secret of {username} (add it to an authenticator app; the old one no longer works; sessions ended): {secret}\n{uri}\n"
            ))
        }
        UserAction::List => {
            let mut out = String::from("username\tname\troles\tunits\tcadre\ttotp\tstatus\n");
            for u in store.list_users().await? {
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                    u.username,
                    u.display_name,
                    u.roles
                        .iter()
                        .map(|r| r.code())
                        .collect::<Vec<_>>()
                        .join(","),
                    u.units
                        .iter()
                        .map(Code::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                    u.cadre.as_ref().map_or("", Code::as_str),
                    if u.totp_secret.is_some() { "yes" } else { "no" },
                    if u.disabled {
                        "disabled"
                    } else if u.failed_logins > 0 {
                        "failed logins"
                    } else {
                        "active"
                    },
                ));
            }
            print(&out)
        }
    }
}

/// Password of every demo account (demo databases only).
pub(crate) const DEMO_PASSWORD: &str = "Kaohe-Demo-2025";

/// Creates one account per role on a demo database without accounts and returns what to print:
/// user names, the password and TOTP secrets. `None` when accounts exist already.
pub(crate) async fn create_demo_accounts(store: &dyn Store) -> anyhow::Result<Option<String>> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let roots = store
        .list_units(&kaohe_store::UnitQuery {
            roots_only: true,
            page: 1,
            per_page: 1,
            ..kaohe_store::UnitQuery::default()
        })
        .await?;
    let root = roots.items.first().map(|s| s.unit.code.clone());
    let cadres = store
        .list_cadres(&kaohe_store::CadreQuery {
            page: 1,
            per_page: 1,
            ..kaohe_store::CadreQuery::default()
        })
        .await?;
    let first = cadres.items.first().cloned();
    // The unit leader leads the unit with the most bad reviews, so that the rectification queue
    // shows work at once; without ratings, the first cadre's unit.
    let mut per_unit: std::collections::BTreeMap<Code, usize> = std::collections::BTreeMap::new();
    for item in store.rectification_queue(None, false, 10_000).await? {
        *per_unit.entry(item.unit).or_default() += 1;
    }
    let led_unit = per_unit
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(unit, _)| unit)
        .or_else(|| first.as_ref().map(|c| c.unit.clone()));
    // The official serves in that unit, so that their home page shows its ratings (好差评)
    // month by month, and is the cadre of the unit with the most bad reviews of their own cases
    // still in rectification, so that it shows their open deadlines; without one, the official
    // is the first cadre.
    let cadre = match &led_unit {
        Some(unit) => {
            let mut best: Option<(usize, kaohe_domain::Cadre)> = None;
            for c in store
                .list_cadres(&kaohe_store::CadreQuery {
                    unit: Some(unit.clone()),
                    page: 1,
                    per_page: kaohe_store::MAX_PER_PAGE,
                    ..kaohe_store::CadreQuery::default()
                })
                .await?
                .items
            {
                let due = store.open_rectifications_of(&c.id, 1_000).await?.len();
                if best.as_ref().is_none_or(|(most, _)| due > *most) {
                    best = Some((due, c));
                }
            }
            best.map(|(_, c)| c).or(first)
        }
        None => first,
    };
    let mut out = String::from(
        "DEMO ACCOUNTS (demo database only; never use these on real data)\n\
         username\tpassword\trole\tscope\tTOTP secret\n",
    );
    // A second assessor, so that a record one assessor made can be verified by another (four
    // eyes).
    let accounts = Role::ALL
        .iter()
        .copied()
        .filter(|r| *r != Role::Public)
        .map(|r| (format!("demo_{}", r.code()), r))
        .chain(std::iter::once((
            "demo_assessor2".to_owned(),
            Role::Assessor,
        )));
    for (username, role) in accounts {
        let (units, own) = match role {
            Role::Assessor => (root.iter().cloned().collect(), None),
            Role::UnitLeader => (led_unit.iter().cloned().collect(), None),
            Role::Official => (Vec::new(), cadre.as_ref().map(|c| c.id.clone())),
            _ => (Vec::new(), None),
        };
        let scope = units
            .iter()
            .map(Code::as_str)
            .chain(own.as_ref().map(Code::as_str))
            .collect::<Vec<_>>()
            .join(",");
        let spec = AccountSpec {
            username: &username,
            display_name: role.zh(),
            password: DEMO_PASSWORD,
            roles: BTreeSet::from([role]),
            units,
            cadre: own,
        };
        let secret = create_account(store, &spec, &PasswordPolicy::default(), "demo").await?;
        out.push_str(&format!(
            "{username}\t{DEMO_PASSWORD}\t{}\t{scope}\t{}\n",
            role.code(),
            secret.as_deref().unwrap_or("-")
        ));
    }
    Ok(Some(out))
}
