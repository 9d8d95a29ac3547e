//! `kaohe poll …`: democratic evaluation and recommendation polls (民主测评、民主推荐) on the
//! database, by the rules of `kaohe_domain::polls` and the storage of `kaohe_store::polls`.
//! Codes are drawn from the operating system, stored only as hashes and printed once.

use super::print;
use crate::cli::PollAction;
use anyhow::Context;
use kaohe_data::parse::{format_datetime, parse_datetime};
use kaohe_domain::audit::action;
use kaohe_domain::polls::{
    BallotKey, Item, PaperCount, Poll, PollKind, PollResults, PollSettings, RaterGroup,
};
use kaohe_domain::{Code, Labeled, NewAuditEntry};
use kaohe_store::Store;
use kaohe_store::polls::results;
use std::fmt::Write as _;
use time::{OffsetDateTime, UtcOffset};

fn code(flag: &str, s: &str) -> anyhow::Result<Code> {
    Code::parse(s).with_context(|| format!("--{flag} {s:?}"))
}

/// `ID:NAME:WEIGHT:CODES[:MERGE_INTO]`.
fn group(spec: &str) -> anyhow::Result<RaterGroup> {
    let parts: Vec<&str> = spec.split(':').collect();
    let [id, name, weight, codes, rest @ ..] = parts.as_slice() else {
        anyhow::bail!("--group {spec:?}: expected ID:NAME:WEIGHT:CODES[:MERGE_INTO]");
    };
    Ok(RaterGroup {
        id: code("group", id)?,
        name: (*name).to_owned(),
        weight: weight
            .parse()
            .with_context(|| format!("--group {spec:?}: weight {weight:?}"))?,
        codes: codes
            .parse()
            .with_context(|| format!("--group {spec:?}: codes {codes:?}"))?,
        merge_into: rest.first().map(|m| code("group", m)).transpose()?,
    })
}

/// `PERSON:ITEM:N[,N,N,N]`: the votes per grade of one person on one item.
fn paper_count(spec: &str) -> anyhow::Result<(Code, Item, [u32; 4])> {
    let parts: Vec<&str> = spec.split(':').collect();
    let [person, item, votes] = parts.as_slice() else {
        anyhow::bail!("--count {spec:?}: expected PERSON:ITEM:优秀,称职,基本称职,不称职");
    };
    let mut counts = [0u32; 4];
    let numbers: Vec<&str> = votes.split(',').collect();
    if numbers.len() > 4 {
        anyhow::bail!("--count {spec:?}: at most four numbers");
    }
    for (slot, n) in counts.iter_mut().zip(numbers) {
        *slot = n
            .trim()
            .parse()
            .with_context(|| format!("--count {spec:?}: {n:?} is not a count"))?;
    }
    Ok((code("count", person)?, Item::parse_label(item)?, counts))
}

fn percent(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// Refuses a poll for a cycle that does not exist or that does not assess one of its people.
async fn check_cycle(store: &dyn Store, cycle: i64, people: &[Code]) -> anyhow::Result<()> {
    use kaohe_store::polls::CycleMisfit;
    match kaohe_store::polls::cycle_misfit(store, cycle, people).await? {
        None => Ok(()),
        Some(e @ CycleMisfit::NoCycle(_)) => anyhow::bail!("--cycle: {e}"),
        Some(CycleMisfit::NotInCycle(p, c)) => {
            anyhow::bail!("--person {p}: not one of the people of cycle {c}")
        }
    }
}

fn entry(action: &str, poll: &Code) -> NewAuditEntry {
    NewAuditEntry::new(super::audit::actor(), action, poll.as_str())
}

/// Runs `kaohe poll …`.
pub(crate) async fn run(
    action: &PollAction,
    store: &dyn Store,
    offset: UtcOffset,
    ballot_key: &BallotKey,
) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    match action {
        PollAction::Create {
            id,
            title,
            kind,
            people,
            items,
            seats,
            groups,
            opens,
            closes,
            cycle,
            quorum,
        } => {
            let kind = PollKind::parse_label(kind)?;
            let mut poll_items = Vec::new();
            if kind == PollKind::Evaluation {
                poll_items.push(Item::Overall);
                for i in items {
                    poll_items.push(Item::parse_label(i)?);
                }
            } else if !items.is_empty() {
                anyhow::bail!("a recommendation has no items");
            }
            let mut settings = PollSettings::default();
            if let Some(q) = quorum {
                settings.quorum = *q;
            }
            let poll = Poll {
                id: code("id", id)?,
                title: title.clone(),
                kind,
                cycle: cycle.map(|c| c.to_string()),
                people: people
                    .iter()
                    .map(|p| code("person", p))
                    .collect::<Result<_, _>>()?,
                items: poll_items,
                seats: *seats,
                groups: groups.iter().map(|g| group(g)).collect::<Result<_, _>>()?,
                opens_at: parse_datetime(opens, offset)
                    .map_err(|e| anyhow::anyhow!("--opens: {e}"))?,
                closes_at: parse_datetime(closes, offset)
                    .map_err(|e| anyhow::anyhow!("--closes: {e}"))?,
                settings,
            };
            if let Some(c) = cycle {
                check_cycle(store, *c, &poll.people).await?;
            }
            let actor = super::audit::actor();
            store
                .create_poll(&poll, &actor, &entry(action::POLL_CREATE, &poll.id))
                .await?;
            print(&format!(
                "poll {} created: {} people, {} groups, {} codes to issue\n",
                poll.id,
                poll.people.len(),
                poll.groups.len(),
                poll.groups.iter().map(|g| g.codes).sum::<u32>()
            ))
        }
        PollAction::Codes { poll, group, count } => {
            let poll = code("poll", poll)?;
            let group = code("group", group)?;
            let counts = store.code_counts(&poll).await?;
            let Some(c) = counts.iter().find(|c| c.group == group) else {
                anyhow::bail!("poll {poll} has no group {group}");
            };
            let n = count.unwrap_or(c.planned.saturating_sub(c.issued));
            let mut audit = entry(action::POLL_CODES, &poll);
            audit.after =
                Some(serde_json::json!({ "group": group.as_str(), "codes": n }).to_string());
            let codes = kaohe_store::polls::issue_codes(store, &poll, &group, n, now, &audit)
                .await
                .context("cannot issue the codes")?;
            let mut out = String::new();
            for c in &codes {
                let _ = writeln!(out, "{}", c.printed());
            }
            print(&out)
        }
        PollAction::Paper {
            poll,
            group,
            ballots,
            counts,
        } => {
            let poll = code("poll", poll)?;
            let paper = PaperCount {
                group: code("group", group)?,
                ballots: *ballots,
                counts: counts
                    .iter()
                    .map(|c| paper_count(c))
                    .collect::<Result<_, _>>()?,
            };
            let mut audit = entry(action::POLL_PAPER, &poll);
            audit.after = Some(
                serde_json::json!({ "group": paper.group.as_str(), "ballots": paper.ballots })
                    .to_string(),
            );
            store
                .enter_paper(&poll, &paper, &super::audit::actor(), now, &audit)
                .await?;
            print(&format!(
                "paper count of group {} entered: it counts once another account confirms it\n",
                paper.group
            ))
        }
        PollAction::Confirm { poll, group } => {
            let poll = code("poll", poll)?;
            let group = code("group", group)?;
            let mut audit = entry(action::POLL_PAPER_CONFIRM, &poll);
            audit.after = Some(serde_json::json!({ "group": group.as_str() }).to_string());
            store
                .confirm_paper(&poll, &group, &super::audit::actor(), now, &audit)
                .await?;
            print(&format!("paper count of group {group} confirmed\n"))
        }
        PollAction::Close { poll } => {
            let poll = code("poll", poll)?;
            store
                .close_poll(&poll, now, &entry(action::POLL_CLOSE, &poll), ballot_key)
                .await?;
            print(&format!("poll {poll} closed\n"))
        }
        PollAction::Results { poll } => {
            let id = code("poll", poll)?;
            let Some((poll, outcome)) = results(store, &id, now, ballot_key).await? else {
                anyhow::bail!("no poll {id}");
            };
            let mut out = format!(
                "{} {} ({}), {} – {}\n",
                poll.id,
                poll.title,
                poll.kind.zh(),
                format_datetime(poll.opens_at, offset),
                format_datetime(poll.closes_at, offset)
            );
            for c in store.code_counts(&id).await? {
                let _ = writeln!(
                    out,
                    "  group {}: {} of {} codes issued, {} used",
                    c.group, c.issued, c.planned, c.used
                );
            }
            match outcome {
                Err(withheld) => {
                    let _ = writeln!(out, "no results: {withheld}");
                }
                Ok(r) => write_results(&mut out, &poll, &r),
            }
            print(&out)
        }
    }
}

fn write_results(out: &mut String, poll: &Poll, r: &PollResults) {
    for g in &r.groups {
        let members: Vec<&str> = g.members.iter().map(Code::as_str).collect();
        let _ = writeln!(
            out,
            "reported group {} ({}): {} ballots, weight {}",
            g.group,
            members.join("+"),
            g.ballots,
            g.weight
        );
    }
    match poll.kind {
        PollKind::Evaluation => {
            for p in &r.people {
                let _ = writeln!(out, "{}", p.person);
                for i in &p.items {
                    let _ = writeln!(
                        out,
                        "  {}: 优秀 {} 称职 {} 基本称职 {} 不称职 {}; 优秀率 {}, 称职以上率 {}",
                        i.item.zh(),
                        i.votes[0],
                        i.votes[1],
                        i.votes[2],
                        i.votes[3],
                        percent(i.excellent_rate),
                        percent(i.competent_rate)
                    );
                }
                for f in &p.flags {
                    let _ = writeln!(out, "  flag: {}", f.zh());
                }
            }
        }
        PollKind::Recommendation => {
            for n in &r.ranking {
                let tie = if n.tied { " (并列)" } else { "" };
                let _ = writeln!(
                    out,
                    "{}{tie}. {}: {} votes, weighted {:.3}",
                    n.rank, n.person, n.votes, n.weighted
                );
            }
        }
    }
}
