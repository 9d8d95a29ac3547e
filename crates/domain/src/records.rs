//! Year-round work records (全程纪实): dated facts of an official's work and conduct, each
//! speaking to one indicator of a framework, with its source and evidence, verified by an
//! assessor other than the one who recorded it.
//!
//! A record is never edited or deleted. Its review (核实 or 驳回) is a row of its own, and a
//! correction is an amendment (更正): a new record that names the one it corrects, with a
//! reason. What counts toward an indicator is the set of verified records that no verified
//! amendment has corrected ([`RecordState::counts`]). How the counted points become an
//! indicator's value is the framework's rule (`kaohe_engine::framework::RecordRule`).

use crate::labeled_enum;
use crate::labels::Labeled;
use time::Date;

labeled_enum! {
    /// Whether a record speaks for or against the official (正向 / 反向).
    pub enum RecordKind: "record kind" {
        /// 正向: a positive fact (加分).
        Positive = ("positive", "正向", "Positive"),
        /// 反向: a negative fact (减分, or a finding of a negative list).
        Negative = ("negative", "反向", "Negative"),
    }
}

labeled_enum! {
    /// Where a record's fact was seen (多到现场看、多见具体事、多听群众说).
    pub enum RecordSource: "record source" {
        /// 现场看: seen on a field visit.
        FieldVisit = ("field_visit", "现场看", "Field visit"),
        /// 具体事: a concrete case or piece of work.
        ConcreteCase = ("concrete_case", "具体事", "Concrete case"),
        /// 群众说: heard from the public.
        PublicOpinion = ("public_opinion", "群众说", "Public opinion"),
        /// 上级评价: the assessment of a superior.
        Superior = ("superior", "上级评价", "Superior's assessment"),
        /// 考勤: attendance.
        Attendance = ("attendance", "考勤", "Attendance"),
        /// 其他.
        Other = ("other", "其他", "Other"),
    }
}

labeled_enum! {
    /// An assessor's decision on a record.
    pub enum Verdict: "verdict" {
        /// 核实: the fact is verified and counts.
        Verified = ("verified", "已核实", "Verified"),
        /// 驳回: the fact is rejected and never counts.
        Rejected = ("rejected", "已驳回", "Rejected"),
    }
}

labeled_enum! {
    /// Where a record stands, from its review and the amendments that name it.
    pub enum RecordState: "record state" {
        /// 待核实: recorded, not yet reviewed.
        Recorded = ("recorded", "待核实", "Awaiting verification"),
        /// 已核实: verified; it counts.
        Verified = ("verified", "已核实", "Verified"),
        /// 已驳回: rejected; it never counts.
        Rejected = ("rejected", "已驳回", "Rejected"),
        /// 已更正: verified, then corrected by a verified amendment, which counts instead.
        Corrected = ("corrected", "已更正", "Corrected"),
    }
}

impl RecordState {
    /// The state of a record from its review and whether a verified amendment corrects it.
    pub fn of(verdict: Option<Verdict>, corrected: bool) -> Self {
        match verdict {
            None => RecordState::Recorded,
            Some(Verdict::Rejected) => RecordState::Rejected,
            Some(Verdict::Verified) if corrected => RecordState::Corrected,
            Some(Verdict::Verified) => RecordState::Verified,
        }
    }

    /// Whether a record in this state counts toward its indicator: verified and not corrected.
    pub fn counts(self) -> bool {
        self == RecordState::Verified
    }
}

/// Longest description of a record, in characters.
pub const MAX_DESCRIPTION: usize = 2000;

/// Longest reason of a review or an amendment, in characters.
pub const MAX_REASON: usize = 500;

/// Why a record, its review or its amendment is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    /// No description.
    #[error("description: a record needs a description of the fact")]
    NoDescription,
    /// Description over [`MAX_DESCRIPTION`] characters.
    #[error("description: at most {MAX_DESCRIPTION} characters")]
    LongDescription,
    /// A character that text fields may not hold.
    #[error("{0}: contains a control or invisible formatting character")]
    BadCharacter(&'static str),
    /// A fact dated after the day it is recorded.
    #[error("date: the fact's date {date} is after today ({today})")]
    FutureDate {
        /// The fact's date.
        date: Date,
        /// The day of recording.
        today: Date,
    },
    /// A rejection or an amendment without a reason.
    #[error("reason: a reason is required")]
    NoReason,
    /// A reason over [`MAX_REASON`] characters.
    #[error("reason: at most {MAX_REASON} characters")]
    LongReason,
    /// A review of a record already reviewed.
    #[error("record {0} has already been reviewed")]
    AlreadyReviewed(i64),
    /// An amendment of a record that is not in a state to be corrected.
    #[error("record {id} is {state}: only a verified or pending record can be corrected")]
    NotAmendable {
        /// The record.
        id: i64,
        /// Its state.
        state: &'static str,
    },
    /// Points that are not a finite positive number.
    #[error("points: {0} is not a positive number")]
    BadPoints(f64),
}

fn check_chars(field: &'static str, text: &str) -> Result<(), RecordError> {
    crate::text::check_text(field, text).map_err(|_| RecordError::BadCharacter(field))
}

/// Checks what a person writes of a new record: a description (trimmed, not empty, at most
/// [`MAX_DESCRIPTION`] characters, no character [`crate::text`] refuses), a fact not
/// dated after `today`, and positive points. The points' range is the framework's
/// (`kaohe_engine::framework::RecordRule::check`).
pub fn check_record(
    description: &str,
    date: Date,
    today: Date,
    points: f64,
) -> Result<(), RecordError> {
    let d = description.trim();
    if d.is_empty() {
        return Err(RecordError::NoDescription);
    }
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(RecordError::LongDescription);
    }
    check_chars("description", d)?;
    if date > today {
        return Err(RecordError::FutureDate { date, today });
    }
    if !(points.is_finite() && points > 0.0) {
        return Err(RecordError::BadPoints(points));
    }
    Ok(())
}

/// Checks the reason of a review or an amendment: required for a rejection and an amendment
/// (`required`), at most [`MAX_REASON`] characters, no control or invisible characters.
pub fn check_reason(reason: &str, required: bool) -> Result<(), RecordError> {
    let r = reason.trim();
    if required && r.is_empty() {
        return Err(RecordError::NoReason);
    }
    if r.chars().count() > MAX_REASON {
        return Err(RecordError::LongReason);
    }
    check_chars("reason", r)
}

/// Checks that a record in `state` may be corrected by an amendment: a pending or verified one
/// (a rejected record counts for nothing, a corrected one has its correction already).
pub fn check_amendable(id: i64, state: RecordState) -> Result<(), RecordError> {
    match state {
        RecordState::Recorded | RecordState::Verified => Ok(()),
        RecordState::Rejected | RecordState::Corrected => Err(RecordError::NotAmendable {
            id,
            state: state.code(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn only_verified_uncorrected_records_count() {
        assert_eq!(RecordState::of(None, false), RecordState::Recorded);
        assert!(RecordState::of(Some(Verdict::Verified), false).counts());
        assert!(!RecordState::of(Some(Verdict::Verified), true).counts());
        assert!(!RecordState::of(Some(Verdict::Rejected), false).counts());
        assert!(!RecordState::of(None, false).counts());
    }

    #[test]
    fn records_are_checked() {
        let today = date!(2026 - 06 - 30);
        assert!(check_record("走访村组", date!(2026 - 06 - 01), today, 2.0).is_ok());
        assert_eq!(
            check_record("  ", today, today, 1.0),
            Err(RecordError::NoDescription)
        );
        assert!(matches!(
            check_record("x", date!(2026 - 07 - 01), today, 1.0),
            Err(RecordError::FutureDate { .. })
        ));
        assert_eq!(
            check_record("a\u{202E}b", today, today, 1.0),
            Err(RecordError::BadCharacter("description"))
        );
        assert_eq!(
            check_record("a\0b", today, today, 1.0),
            Err(RecordError::BadCharacter("description"))
        );
        assert!(check_record("第一行\n第二行", today, today, 1.0).is_ok());
        assert_eq!(
            check_record("x", today, today, 0.0),
            Err(RecordError::BadPoints(0.0))
        );
        assert!(check_record("x", today, today, f64::NAN).is_err());
        assert_eq!(
            check_record(&"字".repeat(MAX_DESCRIPTION + 1), today, today, 1.0),
            Err(RecordError::LongDescription)
        );
    }

    #[test]
    fn reasons_and_amendments_are_checked() {
        assert_eq!(check_reason(" ", true), Err(RecordError::NoReason));
        assert!(check_reason("", false).is_ok());
        assert_eq!(
            check_reason("a\u{200B}", false),
            Err(RecordError::BadCharacter("reason"))
        );
        assert!(check_amendable(1, RecordState::Verified).is_ok());
        assert!(check_amendable(1, RecordState::Recorded).is_ok());
        assert!(matches!(
            check_amendable(1, RecordState::Rejected),
            Err(RecordError::NotAmendable {
                state: "rejected",
                ..
            })
        ));
    }
}
