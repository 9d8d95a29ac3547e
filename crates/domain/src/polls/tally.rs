//! The count of a poll: votes per grade per group, the quorum, the merge of small groups,
//! weighted shares, 优秀率 and 称职以上率, the review flags, and the ranking of nominees.
//!
//! Results exist only after the poll closes and only with a quorum in every group
//! ([`Withheld`]). A group of fewer than `min_group` ballots is never reported on its own: it
//! is merged into the group its definition names, or into the largest other group, until every
//! reported group holds enough ballots; when the whole poll holds too few, nothing is reported.
//!
//! Weighted shares: for each reported group `c` with weight `w_c` (the weight of the group
//! that absorbed the others) and `n_c,k` votes for grade `k` out of `N_c`, the share of grade
//! `k` is `Σ w_c · n_c,k / N_c` over `Σ w_c` (groups without a vote on the item left out).
//! Nominees rank by weighted votes `Σ w_c · v_c`; equal weighted votes share a rank.

use super::{BallotError, Choices, Item, PaperCount, Poll, PollKind};
use crate::Code;
use crate::labeled_enum;
use time::OffsetDateTime;

/// Grades on the poll scale (优秀, 称职, 基本称职, 不称职).
pub const GRADES: usize = 4;

/// Votes of one group: ballots received and votes per grade for each person and item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTally {
    /// Ballots received: used codes and counted paper ballots.
    pub ballots: u32,
    /// Votes per grade, indexed by `person * items_per_person + item`; in a recommendation
    /// the votes for a nominee are in the first grade.
    pub counts: Vec<[u32; GRADES]>,
}

impl GroupTally {
    /// An empty tally of a poll's group.
    pub fn new(poll: &Poll) -> Self {
        Self {
            ballots: 0,
            counts: vec![[0; GRADES]; poll.people.len() * poll.items_per_person()],
        }
    }

    /// Adds a ballot as stored ([`Poll::encode`]) in a poll of `kind`.
    pub fn add_encoded(&mut self, kind: PollKind, text: &str) -> Result<(), BallotError> {
        if text.len() != self.counts.len() {
            return Err(BallotError::Encoding);
        }
        let top = match kind {
            PollKind::Evaluation => GRADES,
            PollKind::Recommendation => 2,
        };
        let digits: Vec<usize> = text
            .bytes()
            .map(|b| b.wrapping_sub(b'0') as usize)
            .collect();
        if digits.iter().any(|d| *d >= top) {
            return Err(BallotError::Encoding);
        }
        for (slot, d) in self.counts.iter_mut().zip(digits) {
            match kind {
                PollKind::Evaluation => slot[d] += 1,
                // Chosen is 1 on the stored text; the count keeps votes in the first grade.
                PollKind::Recommendation => slot[0] += d as u32,
            }
        }
        self.ballots += 1;
        Ok(())
    }

    /// Adds a confirmed paper count, checked by [`Poll::check_paper`].
    pub fn add_paper(&mut self, poll: &Poll, paper: &PaperCount) {
        let per = poll.items_per_person();
        for (person, item, counts) in &paper.counts {
            let p = poll.people.iter().position(|x| x == person);
            let i = match poll.kind {
                PollKind::Evaluation => poll.items.iter().position(|x| x == item),
                PollKind::Recommendation => Some(0),
            };
            if let (Some(p), Some(i)) = (p, i)
                && let Some(slot) = self.counts.get_mut(p * per + i)
            {
                for k in 0..GRADES {
                    slot[k] += counts[k];
                }
            }
        }
        self.ballots += paper.ballots;
    }

    /// Adds a ballot.
    pub fn add(&mut self, poll: &Poll, choices: &Choices) -> Result<(), BallotError> {
        let text = poll.encode(choices)?;
        self.add_encoded(poll.kind, &text)
    }
}

/// A group's turnout against its issued codes.
#[derive(Debug, Clone, PartialEq)]
pub struct Turnout {
    /// The group.
    pub group: Code,
    /// Codes issued.
    pub issued: u32,
    /// Ballots received.
    pub ballots: u32,
    /// Whether the quorum is met.
    pub quorate: bool,
}

/// Why no result is shown.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Withheld {
    /// The poll is still open: no tally is shown while raters vote.
    #[error("results are shown only after the poll closes")]
    Open,
    /// A group's quorum is not met.
    #[error("no quorum: {}", .0.iter().filter(|t| !t.quorate).map(|t| format!("{} {}/{}", t.group, t.ballots, t.issued)).collect::<Vec<_>>().join(", "))]
    NoQuorum(Vec<Turnout>),
    /// Fewer ballots in the whole poll than a group must hold.
    #[error("too few ballots to report without revealing a vote")]
    TooFewBallots,
}

/// A group as reported: itself and any small groups merged into it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportedGroup {
    /// The group whose weight and name the report carries.
    pub group: Code,
    /// The groups counted in it, itself first.
    pub members: Vec<Code>,
    /// Ballots counted.
    pub ballots: u32,
    /// Weight.
    pub weight: f64,
}

labeled_enum! {
    /// A finding of an evaluation poll for the assessment committee.
    pub enum Flag: "poll flag" {
        /// 不称职 votes above the setting (1/3): review for adjustment.
        AdjustmentReview = ("adjustment_review", "不称职票超过三分之一，需组织调整研判", "Adjustment review"),
        /// 优秀+称职 below the setting (2/3): review for an admonition talk.
        AdmonitionReview = ("admonition_review", "优秀和称职票不足三分之二，需诫勉研判", "Admonition review"),
    }
}

/// The count of one person on one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemResult {
    /// The item.
    pub item: Item,
    /// Votes per grade in each reported group, in the order of [`PollResults::groups`].
    pub by_group: Vec<[u32; GRADES]>,
    /// Votes per grade, all groups.
    pub votes: [u32; GRADES],
    /// Weighted share of each grade.
    pub shares: [f64; GRADES],
    /// 优秀率: the weighted share of 优秀.
    pub excellent_rate: f64,
    /// 称职以上率: the weighted share of 优秀 and 称职.
    pub competent_rate: f64,
}

/// The count of one person of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonResult {
    /// The person.
    pub person: Code,
    /// One result per item, in the poll's order.
    pub items: Vec<ItemResult>,
    /// Flags from the overall grade.
    pub flags: Vec<Flag>,
}

/// A nominee's place in a recommendation.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedNominee {
    /// The nominee.
    pub person: Code,
    /// Votes, all groups.
    pub votes: u32,
    /// Weighted votes `Σ w_c · v_c`.
    pub weighted: f64,
    /// Rank, 1 first; equal weighted votes share a rank (1, 2, 2, 4).
    pub rank: usize,
    /// Whether another nominee shares the rank.
    pub tied: bool,
}

/// The results of a closed poll with a quorum.
#[derive(Debug, Clone, PartialEq)]
pub struct PollResults {
    /// Turnout of every group.
    pub turnout: Vec<Turnout>,
    /// The groups reported, after merging the small ones.
    pub groups: Vec<ReportedGroup>,
    /// Evaluation: one result per person, in the poll's order.
    pub people: Vec<PersonResult>,
    /// Recommendation: the nominees, best first (ties in the poll's order).
    pub ranking: Vec<RankedNominee>,
}

/// Counts a poll. `tallies` holds one tally per group of the poll, in the poll's order.
pub fn tally(
    poll: &Poll,
    now: OffsetDateTime,
    tallies: &[GroupTally],
) -> Result<PollResults, Withheld> {
    if !poll.is_closed(now) {
        return Err(Withheld::Open);
    }
    let turnout: Vec<Turnout> = poll
        .groups
        .iter()
        .zip(tallies)
        .map(|(g, t)| Turnout {
            group: g.id.clone(),
            issued: g.codes,
            ballots: t.ballots,
            quorate: f64::from(t.ballots) >= poll.settings.quorum * f64::from(g.codes),
        })
        .collect();
    if turnout.len() != poll.groups.len() || turnout.iter().any(|t| !t.quorate) {
        return Err(Withheld::NoQuorum(turnout));
    }
    let clusters = merge(poll, tallies).ok_or(Withheld::TooFewBallots)?;
    let per = poll.items_per_person();
    let slots = poll.people.len() * per;
    // Votes of each reported group per slot.
    let merged: Vec<Vec<[u32; GRADES]>> = clusters
        .iter()
        .map(|c| {
            let mut sum = vec![[0u32; GRADES]; slots];
            for &m in &c.members {
                for (s, v) in sum.iter_mut().zip(&tallies[m].counts) {
                    for k in 0..GRADES {
                        s[k] += v[k];
                    }
                }
            }
            sum
        })
        .collect();
    let groups: Vec<ReportedGroup> = clusters
        .iter()
        .map(|c| ReportedGroup {
            group: poll.groups[c.root].id.clone(),
            members: c
                .members
                .iter()
                .map(|&m| poll.groups[m].id.clone())
                .collect(),
            ballots: c.ballots,
            weight: poll.groups[c.root].weight,
        })
        .collect();
    let mut results = PollResults {
        turnout,
        groups,
        people: Vec::new(),
        ranking: Vec::new(),
    };
    match poll.kind {
        PollKind::Evaluation => {
            for (p, person) in poll.people.iter().enumerate() {
                let items: Vec<ItemResult> = poll
                    .items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| item_result(*item, &results.groups, &merged, p * per + i))
                    .collect();
                let mut flags = Vec::new();
                if let Some(overall) = items.first() {
                    if overall.shares[3] > poll.settings.adjustment_above {
                        flags.push(Flag::AdjustmentReview);
                    }
                    if overall.competent_rate < poll.settings.admonition_below {
                        flags.push(Flag::AdmonitionReview);
                    }
                }
                results.people.push(PersonResult {
                    person: person.clone(),
                    items,
                    flags,
                });
            }
        }
        PollKind::Recommendation => {
            let mut ranking: Vec<RankedNominee> = poll
                .people
                .iter()
                .enumerate()
                .map(|(p, person)| RankedNominee {
                    person: person.clone(),
                    votes: merged.iter().map(|g| g[p][0]).sum(),
                    weighted: merged
                        .iter()
                        .zip(&results.groups)
                        .map(|(g, r)| r.weight * f64::from(g[p][0]))
                        .sum(),
                    rank: 0,
                    tied: false,
                })
                .collect();
            ranking.sort_by(|a, b| b.weighted.total_cmp(&a.weighted));
            rank(&mut ranking);
            results.ranking = ranking;
        }
    }
    Ok(results)
}

/// Whether two weighted sums are equal but for rounding.
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Gives ranks to nominees sorted best first: equal weighted votes share a rank.
fn rank(sorted: &mut [RankedNominee]) {
    for i in 0..sorted.len() {
        sorted[i].rank = if i > 0 && same(sorted[i].weighted, sorted[i - 1].weighted) {
            sorted[i - 1].rank
        } else {
            i + 1
        };
    }
    for i in 0..sorted.len() {
        let r = sorted[i].rank;
        sorted[i].tied = sorted
            .iter()
            .enumerate()
            .any(|(j, o)| j != i && o.rank == r);
    }
}

fn item_result(
    item: Item,
    groups: &[ReportedGroup],
    merged: &[Vec<[u32; GRADES]>],
    slot: usize,
) -> ItemResult {
    let by_group: Vec<[u32; GRADES]> = merged.iter().map(|g| g[slot]).collect();
    let mut votes = [0u32; GRADES];
    let mut shares = [0f64; GRADES];
    let mut weights = 0.0;
    for (v, g) in by_group.iter().zip(groups) {
        let n: u32 = v.iter().sum();
        if n == 0 {
            continue;
        }
        weights += g.weight;
        for k in 0..GRADES {
            votes[k] += v[k];
            shares[k] += g.weight * f64::from(v[k]) / f64::from(n);
        }
    }
    if weights > 0.0 {
        for s in &mut shares {
            *s /= weights;
        }
    }
    ItemResult {
        item,
        by_group,
        votes,
        excellent_rate: shares[0],
        competent_rate: shares[0] + shares[1],
        shares,
    }
}

struct Cluster {
    root: usize,
    members: Vec<usize>,
    ballots: u32,
}

/// Merges groups of fewer than `min_group` ballots, smallest first, each into the group its
/// definition names or else the largest other; `None` when the whole poll is too small.
fn merge(poll: &Poll, tallies: &[GroupTally]) -> Option<Vec<Cluster>> {
    let mut clusters: Vec<Cluster> = tallies
        .iter()
        .enumerate()
        .map(|(i, t)| Cluster {
            root: i,
            members: vec![i],
            ballots: t.ballots,
        })
        .collect();
    loop {
        let small = clusters
            .iter()
            .enumerate()
            .filter(|(_, c)| c.ballots < poll.settings.min_group)
            .min_by_key(|(i, c)| (c.ballots, *i))
            .map(|(i, _)| i);
        let Some(small) = small else {
            return Some(clusters);
        };
        if clusters.len() < 2 {
            return None;
        }
        let named = poll.groups[clusters[small].root]
            .merge_into
            .as_ref()
            .and_then(|id| poll.groups.iter().position(|g| &g.id == id))
            .and_then(|g| clusters.iter().position(|c| c.members.contains(&g)))
            .filter(|&t| t != small);
        let target = named.or_else(|| {
            clusters
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != small)
                .max_by_key(|(i, c)| (c.ballots, std::cmp::Reverse(*i)))
                .map(|(i, _)| i)
        })?;
        let gone = clusters.remove(small);
        let target = if target > small { target - 1 } else { target };
        clusters[target].members.extend(gone.members);
        clusters[target].ballots += gone.ballots;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::grade::AnnualGrade;
    use crate::polls::Mark;
    use crate::polls::tests::{code, evaluation, group};
    use proptest::prelude::*;
    use time::macros::datetime;

    const AFTER: OffsetDateTime = datetime!(2026-12-01 12:00 +8);

    fn ballot(poll: &Poll, grades: [AnnualGrade; 2]) -> Choices {
        let mut marks = Vec::new();
        for p in &poll.people {
            for (item, grade) in poll.items.iter().zip(grades) {
                marks.push(Mark {
                    person: p.clone(),
                    item: *item,
                    grade,
                });
            }
        }
        Choices::Grades(marks)
    }

    fn filled(poll: &Poll, votes: &[(AnnualGrade, u32)]) -> GroupTally {
        let mut t = GroupTally::new(poll);
        for (g, n) in votes {
            for _ in 0..*n {
                t.add(poll, &ballot(poll, [*g, *g])).unwrap();
            }
        }
        t
    }

    #[test]
    fn results_wait_for_the_close_and_the_quorum() {
        let p = evaluation();
        let t = [
            filled(&p, &[(AnnualGrade::Excellent, 7)]),
            filled(&p, &[(AnnualGrade::Competent, 13)]),
        ];
        assert_eq!(
            tally(&p, datetime!(2026-12-01 11:59 +8), &t),
            Err(Withheld::Open)
        );
        let Err(Withheld::NoQuorum(turnout)) = tally(&p, AFTER, &t) else {
            panic!("13 of 20 is below two thirds")
        };
        assert!(turnout[0].quorate && !turnout[1].quorate);
        let t = [t[0].clone(), filled(&p, &[(AnnualGrade::Competent, 14)])];
        assert!(tally(&p, AFTER, &t).is_ok());
    }

    #[test]
    fn weighted_shares_rates_and_flags() {
        let p = evaluation();
        // Superiors (0.3): 7 优秀 of 7; peers (0.7): 7 称职, 7 不称职 of 14.
        let t = [
            filled(&p, &[(AnnualGrade::Excellent, 7)]),
            filled(
                &p,
                &[(AnnualGrade::Competent, 7), (AnnualGrade::Incompetent, 7)],
            ),
        ];
        let r = tally(&p, AFTER, &t).unwrap();
        let overall = &r.people[0].items[0];
        assert_eq!(overall.votes, [7, 7, 0, 7]);
        assert_eq!(overall.by_group, vec![[7, 0, 0, 0], [0, 7, 0, 7]]);
        assert!((overall.excellent_rate - 0.3).abs() < 1e-12);
        assert!((overall.competent_rate - 0.65).abs() < 1e-12);
        assert!((overall.shares[3] - 0.35).abs() < 1e-12);
        assert_eq!(
            r.people[0].flags,
            vec![Flag::AdjustmentReview, Flag::AdmonitionReview]
        );
    }

    #[test]
    fn small_groups_are_merged_never_shown() {
        let mut p = evaluation();
        p.groups = vec![
            group("superiors", 0.3, 3),
            group("peers", 0.4, 10),
            group("public", 0.3, 10),
        ];
        p.groups[0].merge_into = Some(code("public"));
        let t = [
            filled(&p, &[(AnnualGrade::Excellent, 3)]),
            filled(&p, &[(AnnualGrade::Competent, 10)]),
            filled(&p, &[(AnnualGrade::Competent, 7)]),
        ];
        let r = tally(&p, AFTER, &t).unwrap();
        assert_eq!(r.groups.len(), 2);
        assert_eq!(r.groups[1].members, vec![code("public"), code("superiors")]);
        assert_eq!(r.groups[1].ballots, 10);
        assert!((r.groups[1].weight - 0.3).abs() < 1e-12);
        // Without a named group, into the largest other.
        p.groups[0].merge_into = None;
        let r = tally(&p, AFTER, &t).unwrap();
        assert_eq!(r.groups[0].members, vec![code("peers"), code("superiors")]);
        // Too few in the whole poll.
        let mut p = evaluation();
        p.groups = vec![group("a", 1.0, 2), group("b", 1.0, 2)];
        let t = [
            filled(&p, &[(AnnualGrade::Excellent, 2)]),
            filled(&p, &[(AnnualGrade::Excellent, 2)]),
        ];
        assert_eq!(tally(&p, AFTER, &t), Err(Withheld::TooFewBallots));
    }

    #[test]
    fn nominees_rank_by_weighted_votes_with_ties() {
        let mut p = evaluation();
        p.kind = PollKind::Recommendation;
        p.items.clear();
        p.people = vec![code("A"), code("B"), code("C"), code("D")];
        p.seats = 2;
        p.groups = vec![group("g", 1.0, 10)];
        let mut t = GroupTally::new(&p);
        for chosen in [["B", "C"], ["B", "C"], ["A", "B"], ["C", "D"], ["A", "D"]] {
            t.add(&p, &Choices::Nominees(chosen.map(code).to_vec()))
                .unwrap();
        }
        for _ in 0..2 {
            t.add(&p, &Choices::Nominees(vec![])).unwrap();
        }
        let r = tally(&p, AFTER, &[t]).unwrap();
        let ranks: Vec<(String, usize, bool)> = r
            .ranking
            .iter()
            .map(|n| (n.person.to_string(), n.rank, n.tied))
            .collect();
        assert_eq!(
            ranks,
            vec![
                ("B".into(), 1, true),
                ("C".into(), 1, true),
                ("A".into(), 3, true),
                ("D".into(), 3, true),
            ]
        );
    }

    proptest! {
        #[test]
        fn the_tally_keeps_every_vote_and_its_shares_add_up(
            groups in proptest::collection::vec(
                (1u32..5, proptest::collection::vec(0u32..8, 4)), 1..5),
            merge_first in proptest::bool::ANY,
        ) {
            let mut p = evaluation();
            p.settings.quorum = 0.0;
            p.groups = groups.iter().enumerate().map(|(i, (w, _))| {
                let mut g = group(&format!("g{i}"), f64::from(*w), 40);
                if merge_first && i > 0 {
                    g.merge_into = Some(code("g0"));
                }
                g
            }).collect();
            let tallies: Vec<GroupTally> = groups.iter().map(|(_, v)| filled(&p, &[
                (AnnualGrade::Excellent, v[0]), (AnnualGrade::Competent, v[1]),
                (AnnualGrade::BasicallyCompetent, v[2]), (AnnualGrade::Incompetent, v[3]),
            ])).collect();
            let total: u32 = groups.iter().flat_map(|(_, v)| v).sum();
            match tally(&p, AFTER, &tallies) {
                Err(Withheld::TooFewBallots) => prop_assert!(total < p.settings.min_group),
                Err(other) => prop_assert!(false, "{other}"),
                Ok(r) => {
                    prop_assert!(r.groups.iter().all(|g| g.ballots >= p.settings.min_group));
                    prop_assert_eq!(r.groups.iter().map(|g| g.ballots).sum::<u32>(), total);
                    let mut members: Vec<Code> = r.groups.iter().flat_map(|g| g.members.clone()).collect();
                    members.sort();
                    let mut all: Vec<Code> = p.groups.iter().map(|g| g.id.clone()).collect();
                    all.sort();
                    prop_assert_eq!(members, all);
                    for person in &r.people {
                        for item in &person.items {
                            prop_assert_eq!(item.votes.iter().sum::<u32>(), total);
                            let sum: f64 = item.shares.iter().sum();
                            prop_assert!((sum - 1.0).abs() < 1e-9);
                            prop_assert!(item.excellent_rate <= item.competent_rate + 1e-12);
                            let has = |f| person.flags.contains(&f);
                            prop_assert_eq!(has(Flag::AdjustmentReview), person.items[0].shares[3] > 1.0 / 3.0);
                            prop_assert_eq!(has(Flag::AdmonitionReview), person.items[0].competent_rate < 2.0 / 3.0);
                        }
                    }
                    // With one group, the shares are the plain shares.
                    if r.groups.len() == 1 {
                        let item = &r.people[0].items[0];
                        for k in 0..GRADES {
                            prop_assert!((item.shares[k] - f64::from(item.votes[k]) / f64::from(total)).abs() < 1e-9);
                        }
                    }
                }
            }
        }

        #[test]
        fn ranks_follow_weighted_votes(votes in proptest::collection::vec(0u32..6, 2..8)) {
            let mut p = evaluation();
            p.kind = PollKind::Recommendation;
            p.items.clear();
            p.people = (0..votes.len()).map(|i| code(&format!("N{i}"))).collect();
            p.seats = votes.len() as u32;
            p.settings.quorum = 0.0;
            p.settings.min_group = 1;
            p.groups = vec![group("g", 1.5, 40)];
            let mut t = GroupTally::new(&p);
            let most = votes.iter().copied().max().unwrap_or(0);
            for round in 0..most {
                let chosen: Vec<Code> = votes.iter().enumerate()
                    .filter(|(_, v)| **v > round).map(|(i, _)| p.people[i].clone()).collect();
                t.add(&p, &Choices::Nominees(chosen)).unwrap();
            }
            t.add(&p, &Choices::Nominees(vec![])).unwrap();
            let r = tally(&p, AFTER, &[t]).unwrap();
            for w in r.ranking.windows(2) {
                prop_assert!(w[0].weighted >= w[1].weighted);
                prop_assert_eq!(w[0].rank == w[1].rank, w[0].votes == w[1].votes);
            }
            for n in &r.ranking {
                let better = r.ranking.iter().filter(|o| o.votes > n.votes).count();
                prop_assert_eq!(n.rank, better + 1);
            }
        }
    }
}
