//! Democratic evaluation (民主测评) and recommendation (民主推荐) polls with secret ballots.
//!
//! A [`Poll`] names the people evaluated (or the nominees), the items (the overall grade and
//! optionally the dimensions 德、能、勤、绩、廉, each on the four annual grades
//! 优秀/称职/基本称职/不称职), the rater groups with their weight and number of codes, and its
//! opening and closing times. [`Poll::check`] refuses a definition that cannot be run;
//! [`Poll::check_ballot`] a ballot that does not fit the poll. A ballot is stored as a short
//! text of digits ([`Choices::encode`]) that names nothing but grades in the poll's order.
//!
//! Codes are in [`code`]; the count, the quorum, the merge of small groups, the flags and the
//! ranking of nominees in [`tally`].

pub mod code;
pub mod pool;
pub mod tally;
pub mod values;

use crate::Code;
use crate::grade::AnnualGrade;
use crate::labeled_enum;
use crate::labels::Labeled;
use std::collections::BTreeSet;
use time::OffsetDateTime;

pub use code::{BallotCode, CodeFormatError, code_hash};
pub use pool::{BallotKey, KeyFormatError, PoolError};
pub use tally::{
    Flag, GroupTally, ItemResult, PersonResult, PollResults, RankedNominee, ReportedGroup, Turnout,
    Withheld, tally,
};

/// Most codes a group may be issued.
pub const MAX_CODES_PER_GROUP: u32 = 5_000;

/// Most people a poll may name.
pub const MAX_PEOPLE: usize = 200;

/// Longest title or group name, in characters.
pub const MAX_NAME: usize = 200;

labeled_enum! {
    /// What a poll asks.
    pub enum PollKind: "poll kind" {
        /// 民主测评: each person graded on each item.
        Evaluation = ("evaluation", "民主测评", "Evaluation"),
        /// 民主推荐: nominees chosen, up to the seats.
        Recommendation = ("recommendation", "民主推荐", "Recommendation"),
    }
}

labeled_enum! {
    /// What a person is graded on in an evaluation poll.
    pub enum Item: "poll item" {
        /// 总体评价
        Overall = ("overall", "总体评价", "Overall"),
        /// 德
        De = ("de", "德", "Integrity"),
        /// 能
        Neng = ("neng", "能", "Ability"),
        /// 勤
        Qin = ("qin", "勤", "Diligence"),
        /// 绩
        Ji = ("ji", "绩", "Results"),
        /// 廉
        Lian = ("lian", "廉", "Probity"),
    }
}

/// A rater group (测评组别): superiors, peers, subordinates, public representatives.
#[derive(Debug, Clone, PartialEq)]
pub struct RaterGroup {
    /// Identifier within the poll, e.g. `peers`.
    pub id: Code,
    /// Name shown, e.g. 同级.
    pub name: String,
    /// Weight of the group's shares in the weighted totals (positive).
    pub weight: f64,
    /// Number of codes issued (one per rater).
    pub codes: u32,
    /// The group a too small group is merged into (`None`: the largest other group).
    pub merge_into: Option<Code>,
}

/// The numbers of a poll; the defaults are those of ../shared/PRODUCT.md (docs/polls.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollSettings {
    /// Share of the issued codes of each group that must be used for results (default 2/3).
    pub quorum: f64,
    /// Fewest ballots a group must hold to be reported on its own (default 5).
    pub min_group: u32,
    /// 不称职 share above which a person is flagged for adjustment review (default 1/3).
    pub adjustment_above: f64,
    /// 优秀+称职 share below which a person is flagged for admonition review (default 2/3).
    pub admonition_below: f64,
}

impl Default for PollSettings {
    fn default() -> Self {
        Self {
            quorum: 2.0 / 3.0,
            min_group: 5,
            adjustment_above: 1.0 / 3.0,
            admonition_below: 2.0 / 3.0,
        }
    }
}

/// A poll as defined by its organizer.
#[derive(Debug, Clone, PartialEq)]
pub struct Poll {
    /// Identifier, e.g. `2026-qhx-eval`.
    pub id: Code,
    /// Title shown to raters.
    pub title: String,
    /// Evaluation or recommendation.
    pub kind: PollKind,
    /// The cycle whose indicator values it feeds, if any.
    pub cycle: Option<String>,
    /// The people evaluated, or the nominees, in ballot order (cadre ids).
    pub people: Vec<Code>,
    /// Items graded (evaluation: the overall grade first); empty for a recommendation.
    pub items: Vec<Item>,
    /// Most nominees a recommendation ballot may choose (0 for an evaluation).
    pub seats: u32,
    /// The rater groups.
    pub groups: Vec<RaterGroup>,
    /// Ballots are taken from this time on.
    pub opens_at: OffsetDateTime,
    /// Ballots are refused from this time on.
    pub closes_at: OffsetDateTime,
    /// Quorum, small-group and flag numbers.
    pub settings: PollSettings,
}

/// Why a poll definition cannot be run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PollError {
    /// The title or a group name is empty or too long.
    #[error("{0} must hold 1 to {MAX_NAME} characters")]
    Name(&'static str),
    /// Nobody to evaluate, or too many.
    #[error("a poll names 1 to {MAX_PEOPLE} people")]
    People,
    /// A person named twice.
    #[error("{0} is named twice")]
    DuplicatePerson(Code),
    /// An evaluation without the overall grade first, or with an item twice; a
    /// recommendation with items.
    #[error(
        "an evaluation grades the overall grade first and each item once; a recommendation has no items"
    )]
    Items,
    /// Seats out of range.
    #[error("a recommendation chooses 1 to {0} nominees; an evaluation has no seats")]
    Seats(usize),
    /// No rater group.
    #[error("a poll has at least one rater group")]
    NoGroup,
    /// A group named twice.
    #[error("group {0} is named twice")]
    DuplicateGroup(Code),
    /// A weight that is not a positive number.
    #[error("the weight of group {0} must be a positive number")]
    Weight(Code),
    /// No codes, or too many.
    #[error("group {0} is issued 1 to {MAX_CODES_PER_GROUP} codes")]
    Codes(Code),
    /// A merge into an unknown group or into itself.
    #[error("group {0} merges into an unknown group or into itself")]
    Merge(Code),
    /// Closing not after opening.
    #[error("a poll closes after it opens")]
    Times,
    /// A setting out of its range.
    #[error("setting {0} is out of range")]
    Setting(&'static str),
}

/// Why a ballot is refused. Every refusal of a cast stores nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BallotError {
    /// The poll has not opened yet.
    #[error("this poll has not opened yet")]
    NotOpen,
    /// The poll has closed.
    #[error("this poll has closed")]
    Closed,
    /// The ballot does not grade every person on every item exactly once.
    #[error("a ballot grades every person on every item once")]
    Incomplete,
    /// A person or item the poll does not name.
    #[error("the ballot names someone or something this poll does not")]
    Unknown,
    /// A recommendation choosing more nominees than seats, or one twice.
    #[error("a ballot chooses at most {0} different nominees")]
    TooMany(u32),
    /// A recommendation ballot given grades, or an evaluation ballot given nominees.
    #[error("the ballot is not of this poll's kind")]
    Kind,
    /// A stored ballot text that does not fit the poll (the database was changed).
    #[error("a stored ballot does not fit its poll")]
    Encoding,
}

/// One grade on a ballot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// The person graded.
    pub person: Code,
    /// The item.
    pub item: Item,
    /// The grade.
    pub grade: AnnualGrade,
}

/// What a ballot says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choices {
    /// An evaluation: every person on every item.
    Grades(Vec<Mark>),
    /// A recommendation: the chosen nominees (none is a blank ballot).
    Nominees(Vec<Code>),
}

fn check_name(s: &str, what: &'static str) -> Result<(), PollError> {
    let n = s.trim().chars().count();
    if n == 0 || n > MAX_NAME {
        return Err(PollError::Name(what));
    }
    Ok(())
}

impl Poll {
    /// Checks the definition.
    pub fn check(&self) -> Result<(), PollError> {
        check_name(&self.title, "the title")?;
        if self.people.is_empty() || self.people.len() > MAX_PEOPLE {
            return Err(PollError::People);
        }
        let mut seen = BTreeSet::new();
        for p in &self.people {
            if !seen.insert(p) {
                return Err(PollError::DuplicatePerson(p.clone()));
            }
        }
        match self.kind {
            PollKind::Evaluation => {
                let distinct: BTreeSet<_> = self.items.iter().collect();
                if self.items.first() != Some(&Item::Overall) || distinct.len() != self.items.len()
                {
                    return Err(PollError::Items);
                }
                if self.seats != 0 {
                    return Err(PollError::Seats(self.people.len()));
                }
            }
            PollKind::Recommendation => {
                if !self.items.is_empty() {
                    return Err(PollError::Items);
                }
                if self.seats == 0 || self.seats as usize > self.people.len() {
                    return Err(PollError::Seats(self.people.len()));
                }
            }
        }
        if self.groups.is_empty() {
            return Err(PollError::NoGroup);
        }
        let ids: BTreeSet<&Code> = self.groups.iter().map(|g| &g.id).collect();
        if ids.len() != self.groups.len() {
            let mut seen = BTreeSet::new();
            for g in &self.groups {
                if !seen.insert(&g.id) {
                    return Err(PollError::DuplicateGroup(g.id.clone()));
                }
            }
        }
        for g in &self.groups {
            check_name(&g.name, "a group's name")?;
            if !(g.weight.is_finite() && g.weight > 0.0) {
                return Err(PollError::Weight(g.id.clone()));
            }
            if g.codes == 0 || g.codes > MAX_CODES_PER_GROUP {
                return Err(PollError::Codes(g.id.clone()));
            }
            if let Some(m) = &g.merge_into
                && (m == &g.id || !ids.contains(m))
            {
                return Err(PollError::Merge(g.id.clone()));
            }
        }
        if self.closes_at <= self.opens_at {
            return Err(PollError::Times);
        }
        let s = &self.settings;
        let share = |v: f64| v.is_finite() && (0.0..=1.0).contains(&v);
        if !share(s.quorum) {
            return Err(PollError::Setting("quorum"));
        }
        if !share(s.adjustment_above) {
            return Err(PollError::Setting("adjustment_above"));
        }
        if !share(s.admonition_below) {
            return Err(PollError::Setting("admonition_below"));
        }
        if s.min_group == 0 {
            return Err(PollError::Setting("min_group"));
        }
        Ok(())
    }

    /// Items a ballot carries for each person (1 for a recommendation: chosen or not).
    pub fn items_per_person(&self) -> usize {
        self.items.len().max(1)
    }

    /// Whether a ballot may be cast at `now`.
    pub fn check_open(&self, now: OffsetDateTime) -> Result<(), BallotError> {
        if now < self.opens_at {
            return Err(BallotError::NotOpen);
        }
        if now >= self.closes_at {
            return Err(BallotError::Closed);
        }
        Ok(())
    }

    /// Whether the poll has closed at `now` (results may be read).
    pub fn is_closed(&self, now: OffsetDateTime) -> bool {
        now >= self.closes_at
    }

    /// Checks a ballot against the poll and returns it in canonical form.
    pub fn check_ballot(&self, choices: &Choices) -> Result<Choices, BallotError> {
        let encoded = self.encode(choices)?;
        self.decode(&encoded)
    }

    /// The stored text of a ballot: one digit per person and item in the poll's order, the
    /// grade's level (0 = 优秀 … 3 = 不称职) for an evaluation, 1 or 0 (chosen or not) for a
    /// recommendation. It names no code, rater or time.
    pub fn encode(&self, choices: &Choices) -> Result<String, BallotError> {
        let person = |c: &Code| {
            self.people
                .iter()
                .position(|p| p == c)
                .ok_or(BallotError::Unknown)
        };
        match (self.kind, choices) {
            (PollKind::Evaluation, Choices::Grades(marks)) => {
                let per = self.items.len();
                let mut slots: Vec<Option<u8>> = vec![None; self.people.len() * per];
                for m in marks {
                    let i = self
                        .items
                        .iter()
                        .position(|it| *it == m.item)
                        .ok_or(BallotError::Unknown)?;
                    let slot = &mut slots[person(&m.person)? * per + i];
                    if slot.is_some() {
                        return Err(BallotError::Incomplete);
                    }
                    *slot = Some(grade_level(m.grade));
                }
                slots
                    .into_iter()
                    .map(|s| s.map(|l| char::from(b'0' + l)))
                    .collect::<Option<String>>()
                    .ok_or(BallotError::Incomplete)
            }
            (PollKind::Recommendation, Choices::Nominees(chosen)) => {
                let mut slots = vec![b'0'; self.people.len()];
                for c in chosen {
                    let slot = &mut slots[person(c)?];
                    if *slot == b'1' {
                        return Err(BallotError::TooMany(self.seats));
                    }
                    *slot = b'1';
                }
                if chosen.len() > self.seats as usize {
                    return Err(BallotError::TooMany(self.seats));
                }
                Ok(slots.into_iter().map(char::from).collect())
            }
            _ => Err(BallotError::Kind),
        }
    }

    /// A stored ballot text back as choices.
    pub fn decode(&self, text: &str) -> Result<Choices, BallotError> {
        let per = self.items_per_person();
        if text.len() != self.people.len() * per {
            return Err(BallotError::Encoding);
        }
        let digits: Vec<u8> = text.bytes().map(|b| b.wrapping_sub(b'0')).collect();
        match self.kind {
            PollKind::Evaluation => {
                let mut marks = Vec::with_capacity(digits.len());
                for (k, d) in digits.iter().enumerate() {
                    let grade = AnnualGrade::ALL
                        .get(*d as usize)
                        .copied()
                        .ok_or(BallotError::Encoding)?;
                    marks.push(Mark {
                        person: self.people[k / per].clone(),
                        item: self.items[k % per],
                        grade,
                    });
                }
                Ok(Choices::Grades(marks))
            }
            PollKind::Recommendation => {
                let mut chosen = Vec::new();
                for (k, d) in digits.iter().enumerate() {
                    match d {
                        0 => {}
                        1 => chosen.push(self.people[k].clone()),
                        _ => return Err(BallotError::Encoding),
                    }
                }
                if chosen.len() > self.seats as usize {
                    return Err(BallotError::Encoding);
                }
                Ok(Choices::Nominees(chosen))
            }
        }
    }
}

/// Counted paper ballots of one group (纸质票), entered by one person and counted only once a
/// second person confirms them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperCount {
    /// The group.
    pub group: Code,
    /// Paper ballots returned (they count toward the quorum).
    pub ballots: u32,
    /// Votes per grade for each person and item; a recommendation gives a nominee's votes as
    /// the first number, on the item 总体评价, the rest 0.
    pub counts: Vec<(Code, Item, [u32; 4])>,
}

/// Why a paper count is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaperError {
    /// A group the poll does not have.
    #[error("this poll has no group {0}")]
    Group(Code),
    /// A person or item the poll does not name, or named twice.
    #[error("{0} {1} is not on this poll's ballot, or is counted twice")]
    Slot(Code, &'static str),
    /// More votes than ballots.
    #[error("{0} {1}: more votes than paper ballots")]
    TooMany(Code, &'static str),
    /// More ballots than the group's raters.
    #[error("more paper ballots than raters in group {0}")]
    Ballots(Code),
}

impl Poll {
    /// Checks a paper count against the poll.
    pub fn check_paper(&self, paper: &PaperCount) -> Result<(), PaperError> {
        let group = self
            .groups
            .iter()
            .find(|g| g.id == paper.group)
            .ok_or_else(|| PaperError::Group(paper.group.clone()))?;
        if paper.ballots > group.codes {
            return Err(PaperError::Ballots(paper.group.clone()));
        }
        let mut seen = BTreeSet::new();
        for (person, item, counts) in &paper.counts {
            let known = self.people.contains(person)
                && match self.kind {
                    PollKind::Evaluation => self.items.contains(item),
                    PollKind::Recommendation => *item == Item::Overall,
                };
            if !known || !seen.insert((person, *item)) {
                return Err(PaperError::Slot(person.clone(), item.zh()));
            }
            let votes: u32 = counts.iter().sum();
            let recommendation_extra =
                self.kind == PollKind::Recommendation && counts[1..].iter().any(|c| *c > 0);
            if votes > paper.ballots || recommendation_extra {
                return Err(PaperError::TooMany(person.clone(), item.zh()));
            }
        }
        Ok(())
    }
}

/// The level of an annual grade: 0 = 优秀 … 3 = 不称职.
pub fn grade_level(grade: AnnualGrade) -> u8 {
    match grade {
        AnnualGrade::Excellent => 0,
        AnnualGrade::Competent => 1,
        AnnualGrade::BasicallyCompetent => 2,
        AnnualGrade::Incompetent => 3,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::datetime;

    pub(crate) fn code(s: &str) -> Code {
        Code::parse(s).unwrap()
    }

    pub(crate) fn group(id: &str, weight: f64, codes: u32) -> RaterGroup {
        RaterGroup {
            id: code(id),
            name: id.to_owned(),
            weight,
            codes,
            merge_into: None,
        }
    }

    pub(crate) fn evaluation() -> Poll {
        Poll {
            id: code("P1"),
            title: "2026年度民主测评".into(),
            kind: PollKind::Evaluation,
            cycle: None,
            people: vec![code("C1"), code("C2")],
            items: vec![Item::Overall, Item::De],
            seats: 0,
            groups: vec![group("superiors", 0.3, 10), group("peers", 0.7, 20)],
            opens_at: datetime!(2026-12-01 09:00 +8),
            closes_at: datetime!(2026-12-01 12:00 +8),
            settings: PollSettings::default(),
        }
    }

    #[test]
    fn definitions_are_checked() {
        assert_eq!(evaluation().check(), Ok(()));
        let mut p = evaluation();
        p.items = vec![Item::De, Item::Overall];
        assert_eq!(p.check(), Err(PollError::Items));
        let mut p = evaluation();
        p.people.push(code("C1"));
        assert_eq!(p.check(), Err(PollError::DuplicatePerson(code("C1"))));
        let mut p = evaluation();
        p.groups[0].weight = f64::NAN;
        assert!(matches!(p.check(), Err(PollError::Weight(_))));
        let mut p = evaluation();
        p.groups[0].merge_into = Some(code("superiors"));
        assert!(matches!(p.check(), Err(PollError::Merge(_))));
        let mut p = evaluation();
        p.groups[1].id = code("superiors");
        assert!(matches!(p.check(), Err(PollError::DuplicateGroup(_))));
        let mut p = evaluation();
        p.closes_at = p.opens_at;
        assert_eq!(p.check(), Err(PollError::Times));
        let mut p = evaluation();
        p.kind = PollKind::Recommendation;
        assert_eq!(p.check(), Err(PollError::Items));
        p.items.clear();
        assert_eq!(p.check(), Err(PollError::Seats(2)));
        p.seats = 1;
        assert_eq!(p.check(), Ok(()));
    }

    #[test]
    fn ballots_encode_in_the_polls_order() {
        let p = evaluation();
        let mark = |person: &str, item, grade| Mark {
            person: code(person),
            item,
            grade,
        };
        let ballot = Choices::Grades(vec![
            mark("C2", Item::De, AnnualGrade::Incompetent),
            mark("C1", Item::Overall, AnnualGrade::Excellent),
            mark("C2", Item::Overall, AnnualGrade::Competent),
            mark("C1", Item::De, AnnualGrade::BasicallyCompetent),
        ]);
        assert_eq!(p.encode(&ballot).unwrap(), "0213");
        let canonical = p.check_ballot(&ballot).unwrap();
        assert_eq!(p.encode(&canonical).unwrap(), "0213");
        let Choices::Grades(mut marks) = ballot else {
            unreachable!()
        };
        marks.pop();
        assert_eq!(
            p.check_ballot(&Choices::Grades(marks.clone())),
            Err(BallotError::Incomplete)
        );
        marks.push(mark("C9", Item::De, AnnualGrade::Competent));
        assert_eq!(
            p.check_ballot(&Choices::Grades(marks)),
            Err(BallotError::Unknown)
        );
        assert_eq!(
            p.check_ballot(&Choices::Nominees(vec![])),
            Err(BallotError::Kind)
        );
        assert_eq!(p.decode("0214"), Err(BallotError::Encoding));
        assert_eq!(p.decode("021"), Err(BallotError::Encoding));
    }

    #[test]
    fn recommendations_choose_up_to_the_seats() {
        let mut p = evaluation();
        p.kind = PollKind::Recommendation;
        p.items.clear();
        p.seats = 1;
        assert_eq!(
            p.encode(&Choices::Nominees(vec![code("C2")])).unwrap(),
            "01"
        );
        assert_eq!(p.encode(&Choices::Nominees(vec![])).unwrap(), "00");
        assert_eq!(
            p.check_ballot(&Choices::Nominees(vec![code("C1"), code("C2")])),
            Err(BallotError::TooMany(1))
        );
        assert_eq!(p.decode("11"), Err(BallotError::Encoding));
    }

    #[test]
    fn paper_counts_are_checked() {
        let p = evaluation();
        let mut paper = PaperCount {
            group: code("peers"),
            ballots: 12,
            counts: vec![(code("C1"), Item::Overall, [6, 4, 1, 1])],
        };
        assert_eq!(p.check_paper(&paper), Ok(()));
        paper.counts.push((code("C1"), Item::Overall, [1, 0, 0, 0]));
        assert!(matches!(p.check_paper(&paper), Err(PaperError::Slot(..))));
        paper.counts.pop();
        paper.counts.push((code("C2"), Item::Ji, [1, 0, 0, 0]));
        assert!(matches!(p.check_paper(&paper), Err(PaperError::Slot(..))));
        paper.counts.pop();
        paper.counts.push((code("C2"), Item::De, [12, 1, 0, 0]));
        assert!(matches!(
            p.check_paper(&paper),
            Err(PaperError::TooMany(..))
        ));
        paper.ballots = 21;
        assert!(matches!(
            p.check_paper(&paper),
            Err(PaperError::Ballots(..))
        ));
    }

    #[test]
    fn ballots_are_taken_while_open() {
        let p = evaluation();
        assert_eq!(
            p.check_open(datetime!(2026-12-01 08:59 +8)),
            Err(BallotError::NotOpen)
        );
        assert_eq!(p.check_open(datetime!(2026-12-01 09:00 +8)), Ok(()));
        assert_eq!(
            p.check_open(datetime!(2026-12-01 12:00 +8)),
            Err(BallotError::Closed)
        );
        assert!(p.is_closed(datetime!(2026-12-01 12:00 +8)));
    }
}
