//! The polls of the demo (民主测评): a closed evaluation of a leadership team with its results,
//! one of them flagged for the committee (不称职 above a third), and an open evaluation with a
//! fresh code on every start, printed and shown on the demo banner, so that a newcomer can
//! vote at once. Dates are relative to today.
//!
//! The closed poll's ballots are cast through the store's ordinary path
//! (`PollStore::cast_ballot`), at moments inside its window, with codes drawn like any other.

use anyhow::Context;
use kaohe_domain::audit::action;
use kaohe_domain::grade::AnnualGrade;
use kaohe_domain::polls::{
    BallotKey, Choices, Item, Mark, Poll, PollKind, PollSettings, RaterGroup,
};
use kaohe_domain::{Code, NewAuditEntry};
use kaohe_store::Store;
use kaohe_store::polls::issue_codes;
use time::{Duration, OffsetDateTime};

/// The closed poll: the same id on every start.
const CLOSED: &str = "demo-team-eval";
/// The open polls start with this; a new one is made when the last has closed.
const OPEN_PREFIX: &str = "demo-open-";
/// Who the demo's polls are run by.
const ORGANIZER: &str = "demo_assessor";

/// Readers of the demo's codes: a deterministic stream, so every newcomer sees the same
/// results (the codes themselves come from the operating system).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// A grade: `weights` out of 100 for 优秀, 称职, 基本称职 (the rest 不称职).
    fn grade(&mut self, weights: [u64; 3]) -> AnnualGrade {
        let r = self.next() % 100;
        if r < weights[0] {
            AnnualGrade::Excellent
        } else if r < weights[0] + weights[1] {
            AnnualGrade::Competent
        } else if r < weights[0] + weights[1] + weights[2] {
            AnnualGrade::BasicallyCompetent
        } else {
            AnnualGrade::Incompetent
        }
    }
}

fn code(s: &str) -> anyhow::Result<Code> {
    Code::parse(s).with_context(|| format!("demo poll code {s:?}"))
}

fn group(id: &str, name: &str, weight: f64, codes: u32) -> anyhow::Result<RaterGroup> {
    Ok(RaterGroup {
        id: code(id)?,
        name: name.to_owned(),
        weight,
        codes,
        merge_into: None,
    })
}

/// The leadership team of the unit with the most leaders: the people of the demo's polls.
async fn team(store: &dyn Store) -> anyhow::Result<Vec<Code>> {
    let leaders = store
        .list_cadres(&kaohe_store::CadreQuery {
            leaders_only: true,
            page: 1,
            per_page: 500,
            ..kaohe_store::CadreQuery::default()
        })
        .await?
        .items;
    let mut per_unit: std::collections::BTreeMap<Code, Vec<Code>> =
        std::collections::BTreeMap::new();
    for c in leaders {
        per_unit.entry(c.unit).or_default().push(c.id);
    }
    let mut team = per_unit
        .into_values()
        .max_by_key(Vec::len)
        .context("the demo has no leaders to evaluate")?;
    team.truncate(5);
    Ok(team)
}

/// Creates the demo's polls when missing and returns a fresh code of the open one, printed
/// (`K7QM-3XPA-9TRD`).
pub(crate) async fn prepare(store: &dyn Store, ballot_key: &BallotKey) -> anyhow::Result<String> {
    let now = OffsetDateTime::now_utc();
    let people = team(store).await?;
    if store.poll(&code(CLOSED)?).await?.is_none() {
        closed_poll(store, &people, now, ballot_key).await?;
    }
    let open = match store
        .polls()
        .await?
        .into_iter()
        .rfind(|p| p.id.as_str().starts_with(OPEN_PREFIX) && p.check_open(now).is_ok())
    {
        Some(p) => p,
        None => open_poll(store, &people, now).await?,
    };
    let group = code("public")?;
    let audit = NewAuditEntry::new(ORGANIZER, action::POLL_CODES, open.id.as_str())
        .after(serde_json::json!({ "group": "public", "codes": 1 }).to_string());
    let codes = issue_codes(store, &open.id, &group, 1, now, &audit)
        .await
        .context("drawing the demo's ballot code")?;
    codes
        .first()
        .map(kaohe_domain::polls::BallotCode::printed)
        .context("no demo ballot code drawn")
}

/// An open evaluation: three items, one group of public representatives, open for 60 days.
async fn open_poll(
    store: &dyn Store,
    people: &[Code],
    now: OffsetDateTime,
) -> anyhow::Result<Poll> {
    let poll = Poll {
        id: code(&format!(
            "{OPEN_PREFIX}{}",
            now.date().to_string().replace('-', "")
        ))?,
        title: format!("{}年度领导班子成员民主测评（演示）", now.year()),
        kind: PollKind::Evaluation,
        cycle: None,
        people: people.to_vec(),
        items: vec![Item::Overall, Item::De, Item::Lian],
        seats: 0,
        groups: vec![group(
            "public",
            "群众代表",
            1.0,
            kaohe_domain::polls::MAX_CODES_PER_GROUP,
        )?],
        opens_at: now - Duration::days(1),
        closes_at: now + Duration::days(60),
        settings: PollSettings::default(),
    };
    store
        .create_poll(
            &poll,
            ORGANIZER,
            &NewAuditEntry::new(ORGANIZER, action::POLL_CREATE, poll.id.as_str()),
        )
        .await
        .context("creating the demo's open poll")?;
    Ok(poll)
}

/// A closed evaluation held ten days ago, every group past its quorum; the last person draws
/// 不称职 from about half the raters (adjustment review), the one before few 优秀 or 称职
/// (admonition review).
async fn closed_poll(
    store: &dyn Store,
    people: &[Code],
    now: OffsetDateTime,
    ballot_key: &BallotKey,
) -> anyhow::Result<()> {
    let opens = now - Duration::days(10);
    let poll = Poll {
        id: code(CLOSED)?,
        title: "领导班子成员年度民主测评（演示）".to_owned(),
        kind: PollKind::Evaluation,
        cycle: None,
        people: people.to_vec(),
        items: vec![
            Item::Overall,
            Item::De,
            Item::Neng,
            Item::Qin,
            Item::Ji,
            Item::Lian,
        ],
        seats: 0,
        groups: vec![
            group("superiors", "上级", 0.3, 6)?,
            group("peers", "同级", 0.4, 12)?,
            group("subordinates", "下级", 0.3, 24)?,
        ],
        opens_at: opens,
        closes_at: opens + Duration::hours(3),
        settings: PollSettings::default(),
    };
    store
        .create_poll(
            &poll,
            ORGANIZER,
            &NewAuditEntry::new(ORGANIZER, action::POLL_CREATE, poll.id.as_str()),
        )
        .await
        .context("creating the demo's closed poll")?;
    let mut random = Lcg(2025);
    let at = opens + Duration::minutes(5);
    let n = people.len();
    for g in &poll.groups {
        let audit = NewAuditEntry::new(ORGANIZER, action::POLL_CODES, poll.id.as_str())
            .after(serde_json::json!({ "group": g.id.as_str(), "codes": g.codes }).to_string());
        let codes = issue_codes(store, &poll.id, &g.id, g.codes, at, &audit).await?;
        // Five in six raters vote: past the quorum of two thirds.
        let voters = (codes.len() * 5).div_ceil(6);
        for (k, c) in codes.iter().take(voters).enumerate() {
            let mut marks = Vec::new();
            for (p, person) in people.iter().enumerate() {
                let weights = if p + 1 == n {
                    [5, 20, 25]
                } else if p + 2 == n {
                    [10, 40, 40]
                } else {
                    [55, 35, 8]
                };
                for item in &poll.items {
                    marks.push(Mark {
                        person: person.clone(),
                        item: *item,
                        grade: random.grade(weights),
                    });
                }
            }
            store
                .cast_ballot(
                    &poll.id,
                    c,
                    &Choices::Grades(marks),
                    at + Duration::minutes(k as i64),
                    ballot_key,
                )
                .await
                .context("casting the demo's ballots")?;
        }
    }
    Ok(())
}
