//! Polls in words, in the page's language: who may see a poll, the names of its people, its
//! state, and its results (turnout, votes per grade per group, weighted shares, 优秀率,
//! 称职以上率, the review flags, the ranking of nominees with ties).

use crate::org::data::check_cadre_scope;
use crate::shell::access::Caller;
use crate::shell::error::ApiError;
use crate::shell::page::PageCtx;
use kaohe_domain::grade::AnnualGrade;
use kaohe_domain::polls::{
    MAX_CODES_PER_GROUP, MAX_PEOPLE, Poll, PollError, PollKind, PollResults, Withheld,
};
use kaohe_domain::{Code, Labeled};
use kaohe_store::Store;
use std::collections::HashMap;
use time::OffsetDateTime;

/// The name and post of each person, by id (an unknown id stays its id).
pub(super) async fn people_names(
    store: &dyn Store,
    people: &[Code],
) -> Result<HashMap<Code, (String, String)>, ApiError> {
    let mut out = HashMap::with_capacity(people.len());
    for id in people {
        let entry = match store.get_cadre(id).await? {
            Some(c) => (c.name, c.post),
            None => (id.to_string(), String::new()),
        };
        out.insert(id.clone(), entry);
    }
    Ok(out)
}

/// Whether the caller's scope covers every person of the poll: an assessor sees and runs the
/// polls of the people of their units.
pub(super) async fn in_scope(
    store: &dyn Store,
    caller: &Caller,
    people: &[Code],
) -> Result<bool, ApiError> {
    for id in people {
        match check_cadre_scope(store, caller, id).await {
            Ok(()) => {}
            Err(ApiError::Forbidden) => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Where a poll stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PollState {
    /// Before its opening.
    Upcoming,
    /// Taking ballots.
    Open,
    /// Closed.
    Closed,
}

impl PollState {
    pub(super) fn of(poll: &Poll, now: OffsetDateTime) -> Self {
        if poll.is_closed(now) {
            Self::Closed
        } else if now < poll.opens_at {
            Self::Upcoming
        } else {
            Self::Open
        }
    }

    /// The stable code, for the API.
    pub(super) fn code(self) -> &'static str {
        match self {
            Self::Upcoming => "upcoming",
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }

    /// The state in words.
    pub(super) fn words(self, ctx: &PageCtx) -> &'static str {
        match self {
            Self::Upcoming => ctx.t("polls.state.upcoming"),
            Self::Open => ctx.t("polls.state.open"),
            Self::Closed => ctx.t("polls.state.closed"),
        }
    }
}

/// A time in the organization's local time, to the minute.
pub(super) fn local(offset: time::UtcOffset, t: OffsetDateTime) -> String {
    let t = t.to_offset(offset);
    format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
}

/// A share as a percentage with one decimal.
pub(super) fn percent(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// A reported group's votes for one person and item.
#[derive(Debug)]
pub(super) struct GroupVotes {
    pub(super) group: String,
    pub(super) votes: [u32; 4],
}

/// One item of one person, in words.
#[derive(Debug)]
pub(super) struct ItemView {
    pub(super) item: &'static str,
    pub(super) by_group: Vec<GroupVotes>,
    pub(super) votes: [u32; 4],
    pub(super) shares: Vec<String>,
    pub(super) excellent: String,
    pub(super) competent: String,
}

/// One person's results, in words.
#[derive(Debug)]
pub(super) struct PersonView {
    pub(super) name: String,
    pub(super) post: String,
    pub(super) items: Vec<ItemView>,
    pub(super) flags: Vec<&'static str>,
}

/// A nominee's place.
#[derive(Debug)]
pub(super) struct RankView {
    pub(super) rank: String,
    pub(super) name: String,
    pub(super) votes: u32,
    pub(super) weighted: String,
}

/// A reported group: itself and the small groups merged into it.
#[derive(Debug)]
pub(super) struct ReportedView {
    pub(super) name: String,
    pub(super) members: String,
    pub(super) ballots: u32,
    pub(super) weight: String,
}

/// The results of a poll in words, or why there are none.
#[derive(Debug)]
pub(super) struct ResultsView {
    /// Why no result is shown, when none is.
    pub(super) withheld: Option<String>,
    pub(super) grades: Vec<&'static str>,
    pub(super) groups: Vec<ReportedView>,
    pub(super) people: Vec<PersonView>,
    pub(super) ranking: Vec<RankView>,
}

/// The results of `poll` in words.
pub(super) fn results_view(
    ctx: &PageCtx,
    poll: &Poll,
    names: &HashMap<Code, (String, String)>,
    outcome: &Result<PollResults, Withheld>,
) -> ResultsView {
    let group_name = |id: &Code| {
        poll.groups
            .iter()
            .find(|g| &g.id == id)
            .map_or_else(|| id.to_string(), |g| g.name.clone())
    };
    let name = |id: &Code| {
        names
            .get(id)
            .cloned()
            .unwrap_or_else(|| (id.to_string(), String::new()))
    };
    let grades = AnnualGrade::ALL.iter().map(|g| ctx.label(*g)).collect();
    let r = match outcome {
        Err(w) => {
            let withheld = match w {
                Withheld::Open => ctx.t("polls.withheld.open").to_owned(),
                Withheld::TooFewBallots => ctx.t("polls.withheld.too_few").to_owned(),
                Withheld::NoQuorum(turnout) => ctx.tf(
                    "polls.withheld.no_quorum",
                    &[(
                        "groups",
                        &turnout
                            .iter()
                            .filter(|t| !t.quorate)
                            .map(|t| format!("{} {}/{}", group_name(&t.group), t.ballots, t.issued))
                            .collect::<Vec<_>>()
                            .join(ctx.t("punct.list")),
                    )],
                ),
            };
            return ResultsView {
                withheld: Some(withheld),
                grades,
                groups: Vec::new(),
                people: Vec::new(),
                ranking: Vec::new(),
            };
        }
        Ok(r) => r,
    };
    let groups = r
        .groups
        .iter()
        .map(|g| ReportedView {
            name: group_name(&g.group),
            members: g
                .members
                .iter()
                .map(group_name)
                .collect::<Vec<_>>()
                .join(ctx.t("punct.list")),
            ballots: g.ballots,
            weight: format!("{}", g.weight),
        })
        .collect();
    let people = match poll.kind {
        PollKind::Evaluation => r
            .people
            .iter()
            .map(|p| {
                let (name, post) = name(&p.person);
                PersonView {
                    name,
                    post,
                    items: p
                        .items
                        .iter()
                        .map(|i| ItemView {
                            item: ctx.label(i.item),
                            by_group: r
                                .groups
                                .iter()
                                .zip(&i.by_group)
                                .map(|(g, v)| GroupVotes {
                                    group: group_name(&g.group),
                                    votes: *v,
                                })
                                .collect(),
                            votes: i.votes,
                            shares: i.shares.iter().map(|s| percent(*s)).collect(),
                            excellent: percent(i.excellent_rate),
                            competent: percent(i.competent_rate),
                        })
                        .collect(),
                    flags: p.flags.iter().map(|f| ctx.label(*f)).collect(),
                }
            })
            .collect(),
        PollKind::Recommendation => Vec::new(),
    };
    let ranking = r
        .ranking
        .iter()
        .map(|n| RankView {
            rank: if n.tied {
                ctx.tf("polls.rank_tied", &[("rank", &n.rank)])
            } else {
                n.rank.to_string()
            },
            name: name(&n.person).0,
            votes: n.votes,
            weighted: format!("{:.2}", n.weighted),
        })
        .collect();
    ResultsView {
        withheld: None,
        grades,
        groups,
        people,
        ranking,
    }
}

/// Why a poll definition cannot be run, in the page's language.
pub(super) fn poll_error_words(ctx: &PageCtx, e: &PollError) -> String {
    match e {
        PollError::Name(_) => ctx.t("polls.err.name").to_owned(),
        PollError::People => ctx.tf("polls.err.people", &[("max", &MAX_PEOPLE)]),
        PollError::DuplicatePerson(p) => ctx.tf("polls.err.duplicate_person", &[("who", p)]),
        PollError::Items => ctx.t("polls.err.items").to_owned(),
        PollError::Seats(n) => ctx.tf("polls.err.seats", &[("n", n)]),
        PollError::NoGroup => ctx.t("polls.err.no_group").to_owned(),
        PollError::DuplicateGroup(g) => ctx.tf("polls.err.duplicate_group", &[("group", g)]),
        PollError::Weight(g) => ctx.tf("polls.err.weight", &[("group", g)]),
        PollError::Codes(g) => ctx.tf(
            "polls.err.codes",
            &[("group", g), ("max", &MAX_CODES_PER_GROUP)],
        ),
        PollError::Merge(g) => ctx.tf("polls.err.merge", &[("group", g)]),
        PollError::Times => ctx.t("polls.err.times").to_owned(),
        PollError::Setting(name) => ctx.tf("polls.err.setting", &[("name", name)]),
    }
}
