//! `kaohe ratings figures`: satisfaction figures as indicator values for `kaohe assess`;
//! `kaohe ratings escalate`: one escalation sweep (督办) of overdue rectifications.

use super::print;
use crate::cli::{RatingsAction, RatingsBy};
use crate::settings::Settings;
use anyhow::Context;
use kaohe_data::WideCell;
use kaohe_domain::audit::action;
use kaohe_domain::{Code, NewAuditEntry};
use kaohe_store::{Escalation, Store};
use kaohe_web::ratings::{GroupBy, figures_of, period_bounds};
use time::{Date, OffsetDateTime, UtcOffset};

use crate::sources::FIGURES as COLUMNS;

pub(crate) async fn run(
    action: &RatingsAction,
    store: &dyn Store,
    settings: &Settings,
) -> anyhow::Result<()> {
    match action {
        RatingsAction::Figures {
            by,
            from,
            to,
            columns,
            out,
        } => figures(store, settings, *by, from, to, columns, out).await,
        RatingsAction::Escalate => escalate(store, settings).await,
    }
}

/// One escalation sweep on today's date at the deployment's `offset`, audited as `actor`: the
/// one call of the server (at start and periodically) and of `kaohe ratings escalate`.
pub(crate) async fn sweep(
    store: &dyn Store,
    offset: UtcOffset,
    actor: &str,
) -> Result<Vec<Escalation>, kaohe_store::EscalationError> {
    let now = OffsetDateTime::now_utc();
    kaohe_store::escalate_overdue(
        store,
        now.to_offset(offset).date(),
        now.unix_timestamp(),
        actor,
    )
    .await
}

async fn escalate(store: &dyn Store, settings: &Settings) -> anyhow::Result<()> {
    let done = sweep(store, settings.server.utc_offset.0, &super::audit::actor())
        .await
        .context("escalation sweep")?;
    let names = |n: &[String]| {
        if n.is_empty() {
            "-".to_owned()
        } else {
            n.join(",")
        }
    };
    let mut text = String::new();
    for e in &done {
        text.push_str(&format!(
            "escalated rectification {}	unit {}	deadline {}	due {}	leaders {}	assessors {}\n",
            e.rating_id,
            e.unit,
            e.deadline,
            e.due_on,
            names(&e.leaders),
            names(&e.assessors)
        ));
    }
    text.push_str(&format!("{} rectifications escalated\n", done.len()));
    print(&text)
}

async fn figures(
    store: &dyn Store,
    settings: &Settings,
    by: RatingsBy,
    from: &Option<String>,
    to: &Option<String>,
    columns: &[String],
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let keep: Vec<usize> = if columns.is_empty() {
        (0..COLUMNS.len()).collect()
    } else {
        columns
            .iter()
            .map(|c| {
                COLUMNS
                    .iter()
                    .position(|k| *k == c.trim())
                    .with_context(|| {
                        format!(
                            "--columns: no figure {c:?}; expected some of {}",
                            COLUMNS.join(", ")
                        )
                    })
            })
            .collect::<anyhow::Result<_>>()?
    };
    let offset = settings.server.utc_offset.0;
    let today = OffsetDateTime::now_utc().to_offset(offset).date();
    let day = |flag: &str, v: &Option<String>, default: Date| -> anyhow::Result<Date> {
        match v {
            Some(v) => Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"))
                .with_context(|| format!("--{flag} {v:?}: expected YYYY-MM-DD")),
            None => Ok(default),
        }
    };
    let from = day(
        "from",
        from,
        kaohe_web::ratings::default_period_start(today),
    )?;
    let to = day("to", to, today)?;
    anyhow::ensure!(from <= to, "--to {to} is before --from {from}");
    let (start, end) = period_bounds(from, to, offset);
    let facts = store.rating_facts(start, end).await?;
    let group = match by {
        RatingsBy::Official => GroupBy::Official,
        RatingsBy::Unit => GroupBy::Unit,
    };
    let (all, groups) = figures_of(&facts, group, settings.ratings.prior_strength);
    let mut rows = Vec::with_capacity(groups.len());
    for g in &groups {
        let key = Code::parse(&g.key).context("stored identifier")?;
        let unit = match by {
            RatingsBy::Official => store.get_cadre(&key).await?.map(|c| c.unit),
            RatingsBy::Unit => store
                .get_unit(&key)
                .await?
                .map(|u| u.parent.unwrap_or(u.code)),
        };
        let Some(unit) = unit else {
            anyhow::bail!(
                "{} {key} of a rated case is not in the database",
                group.code()
            );
        };
        let cells =
            crate::sources::figure_cells(g).map(|c| c.map_or(WideCell::Empty, WideCell::Number));
        let mut row = vec![
            WideCell::Text(key.to_string()),
            WideCell::Text(unit.to_string()),
        ];
        row.extend(keep.iter().map(|&i| cells[i].clone()));
        rows.push(row);
    }
    let header: Vec<String> = ["person_id", "unit_id"]
        .into_iter()
        .chain(keep.iter().map(|&i| COLUMNS[i]))
        .map(str::to_owned)
        .collect();
    kaohe_data::write_wide(out, &header, &rows)?;
    let entry = NewAuditEntry::new("cli", action::RATINGS_FIGURES, out.display().to_string()).after(
        serde_json::json!({"by": group.code(), "from": from.to_string(), "to": to.to_string(), "rows": rows.len()})
            .to_string(),
    );
    store.append_audit(&entry).await?;
    print(&format!(
        "{} rows ({} ratings, {from} to {to}) written to {}\n",
        rows.len(),
        all.ratings,
        out.display()
    ))
}
