//! Public ratings of government services (政务服务好差评, GB/T 39734-2020 and GB/T 39735-2020):
//! service cases (办件), ratings on five levels, the rules of intake (一次一评、一事一评, the
//! rating window), masking of the public's contact data, and the appeal (申诉复核) of a
//! mistaken or malicious review. The rectification (整改) of a bad review is in
//! [`rectification`]; suspicious rating patterns in [`suspicion`].
//!
//! Everything here is pure: callers pass in the time and the settings.

pub mod escalation;
pub mod rectification;
pub mod seal;
pub mod suspicion;

use crate::code::Code;
use crate::labeled_enum;
use crate::labels::Labeled;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

labeled_enum! {
    /// Channel through which a case was handled or a rating given (评价渠道).
    pub enum Channel: "channel" {
        /// 窗口: at a service window, on the window's rating device.
        Window = ("window", "窗口", "Service window"),
        /// 网上: the online service portal.
        Online = ("online", "网上", "Online portal"),
        /// 移动端: the mobile app or mini-program.
        Mobile = ("mobile", "移动端", "Mobile app"),
        /// 二维码: a printed QR code (per window or per case).
        QrCode = ("qr_code", "二维码", "QR code"),
        /// 12345热线: the government service hotline.
        Hotline = ("hotline", "12345热线", "12345 hotline"),
        /// 短信: a text message with a rating link.
        Sms = ("sms", "短信", "Text message"),
        /// 自助终端: a self-service terminal.
        SelfService = ("self_service", "自助终端", "Self-service terminal"),
    }
}

labeled_enum! {
    /// The five levels of a rating. The code is the number of the level.
    pub enum RatingLevel: "rating level" {
        /// 非常满意 (5).
        VerySatisfied = ("5", "非常满意", "Very satisfied"),
        /// 满意 (4).
        Satisfied = ("4", "满意", "Satisfied"),
        /// 基本满意 (3).
        FairlySatisfied = ("3", "基本满意", "Fairly satisfied"),
        /// 不满意 (2): a bad review.
        Dissatisfied = ("2", "不满意", "Dissatisfied"),
        /// 非常不满意 (1): a bad review.
        VeryDissatisfied = ("1", "非常不满意", "Very dissatisfied"),
    }
}

impl RatingLevel {
    /// The level as a number, 1 to 5.
    pub fn value(self) -> u8 {
        match self {
            RatingLevel::VerySatisfied => 5,
            RatingLevel::Satisfied => 4,
            RatingLevel::FairlySatisfied => 3,
            RatingLevel::Dissatisfied => 2,
            RatingLevel::VeryDissatisfied => 1,
        }
    }

    /// The level with number `value`, 1 to 5.
    pub fn from_value(value: u8) -> Option<Self> {
        Some(match value {
            5 => RatingLevel::VerySatisfied,
            4 => RatingLevel::Satisfied,
            3 => RatingLevel::FairlySatisfied,
            2 => RatingLevel::Dissatisfied,
            1 => RatingLevel::VeryDissatisfied,
            _ => return None,
        })
    }

    /// Whether this is a bad review (差评: levels 1 and 2), which opens a rectification.
    pub fn is_bad(self) -> bool {
        self.value() <= 2
    }

    /// Whether this counts as satisfied (levels 3 to 5) in the satisfaction rate.
    pub fn is_satisfied(self) -> bool {
        self.value() >= 3
    }
}

labeled_enum! {
    /// A reason the rater may tick (评价原因), mostly for bad reviews.
    pub enum ReasonTag: "reason tag" {
        /// 办事指南不清晰.
        UnclearGuide = ("unclear_guide", "办事指南不清晰", "Unclear guide"),
        /// 多次跑动.
        RepeatVisits = ("repeat_visits", "多次跑动", "Had to come back again"),
        /// 办理超时.
        Overdue = ("overdue", "办理超时", "Took too long"),
        /// 材料要求过多.
        TooManyDocuments = ("too_many_documents", "材料要求过多", "Too many documents asked"),
        /// 服务态度不好.
        Attitude = ("attitude", "服务态度不好", "Unfriendly service"),
        /// 收费不合理.
        Fees = ("fees", "收费不合理", "Unreasonable fees"),
        /// 系统故障.
        SystemFault = ("system_fault", "系统故障", "System fault"),
        /// 高效便捷 (praise).
        Efficient = ("efficient", "高效便捷", "Quick and easy"),
        /// 热情周到 (praise).
        Courteous = ("courteous", "热情周到", "Courteous"),
        /// 其他.
        Other = ("other", "其他", "Other"),
    }
}

/// Why a text is not a valid phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a phone number: expected 5 to 20 digits, optionally with +, - or spaces")]
pub struct PhoneError(pub String);

/// A phone number of a member of the public (联系电话): personal data, shown masked everywhere
/// except on the callback screen. Kept as digits with an optional leading `+`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Parses a phone number; spaces and dashes are dropped.
    pub fn parse(s: &str) -> Result<Self, PhoneError> {
        let t = s.trim();
        let mut out = String::with_capacity(t.len());
        for (i, c) in t.chars().enumerate() {
            match c {
                '0'..='9' => out.push(c),
                '+' if i == 0 => out.push(c),
                ' ' | '-' => {}
                _ => return Err(PhoneError(t.to_owned())),
            }
        }
        let digits = out.trim_start_matches('+').len();
        if !(5..=20).contains(&digits) {
            return Err(PhoneError(t.to_owned()));
        }
        Ok(Self(out))
    }

    /// The full number: only for the callback screen, whose every view is audited.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// The number masked for display and export: the first three and last four characters kept
    /// (`138****5678`), or only the last two of a short number.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        let n = chars.len();
        let (head, tail) = if n >= 11 { (3, 4) } else { (0, 2) };
        chars
            .iter()
            .enumerate()
            .map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' })
            .collect()
    }
}

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl TryFrom<String> for Phone {
    type Error = PhoneError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> Self {
        p.0
    }
}

/// The code of a case's public rating page (`/rate/{code}`), from 10 random bytes the caller
/// draws from the operating system (or from a seeded generator for demo data): 16 base32
/// characters, 80 bits, unguessable, so that only the holder of the receipt can rate the case.
pub fn rating_code(random: &[u8; 10]) -> String {
    crate::access::totp::base32_encode(random).to_ascii_lowercase()
}

/// Longest service item name, comment or applicant name, in characters.
pub const MAX_TEXT: usize = 500;

/// A service case (办件), as a service system reports it when the case closes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceCase {
    /// Case number in the service system (办件编号).
    pub id: Code,
    /// Service item (事项名称), e.g. 不动产登记.
    pub item: String,
    /// Responsible unit.
    pub unit: Code,
    /// Service window (窗口) that handled it, if any.
    pub window: Option<Code>,
    /// Handling officials (cadre ids), first the main one.
    pub officials: Vec<Code>,
    /// Channel through which the case was handled.
    pub channel: Channel,
    /// When the application was accepted (受理).
    #[serde(with = "time::serde::rfc3339")]
    pub accepted_at: OffsetDateTime,
    /// When the case closed (办结).
    #[serde(with = "time::serde::rfc3339")]
    pub closed_at: OffsetDateTime,
    /// Applicant's name, if given (personal data).
    pub applicant: Option<String>,
    /// Applicant's phone, for the callback (personal data, masked).
    pub phone: Option<Phone>,
}

/// Why a service case is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    /// A text field is empty.
    #[error("{0} is empty")]
    Empty(&'static str),
    /// A text field is too long.
    #[error("{0} is longer than {MAX_TEXT} characters")]
    TooLong(&'static str),
    /// The case closed before it was accepted.
    #[error("closed_at is before accepted_at")]
    ClosedBeforeAccepted,
    /// The same official twice.
    #[error("official {0} is listed twice")]
    DuplicateOfficial(String),
}

impl ServiceCase {
    /// Checks the rules a case must satisfy beyond its field types.
    pub fn check(&self) -> Result<(), CaseError> {
        check_text("item", &self.item, true)?;
        if let Some(a) = &self.applicant {
            check_text("applicant", a, false)?;
        }
        if self.closed_at < self.accepted_at {
            return Err(CaseError::ClosedBeforeAccepted);
        }
        for (i, o) in self.officials.iter().enumerate() {
            if self.officials[..i].contains(o) {
                return Err(CaseError::DuplicateOfficial(o.as_str().to_owned()));
            }
        }
        Ok(())
    }
}

fn check_text(field: &'static str, s: &str, required: bool) -> Result<(), CaseError> {
    if required && s.trim().is_empty() {
        return Err(CaseError::Empty(field));
    }
    if s.chars().count() > MAX_TEXT {
        return Err(CaseError::TooLong(field));
    }
    Ok(())
}

/// A rating as given, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRating {
    /// The case rated.
    pub case_id: Code,
    /// The level chosen by the rater.
    pub level: RatingLevel,
    /// Reasons ticked.
    #[serde(default)]
    pub tags: Vec<ReasonTag>,
    /// Free comment.
    #[serde(default)]
    pub comment: Option<String>,
    /// Channel of the rating.
    pub channel: Channel,
    /// Whether the rater gave their identity (实名评价): a real-name bad review needs a
    /// recorded callback before its rectification closes.
    #[serde(default)]
    pub real_name: bool,
    /// Phone the rater left for the callback, if other than the applicant's.
    #[serde(default)]
    pub contact: Option<Phone>,
}

/// A stored rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// Number given by the store.
    pub id: i64,
    /// What was given.
    #[serde(flatten)]
    pub rating: NewRating,
    /// When it was received.
    #[serde(with = "time::serde::rfc3339")]
    pub rated_at: OffsetDateTime,
    /// Excluded from the figures by an upheld appeal (kept, and shown as excluded).
    pub excluded: bool,
}

/// Settings of rating intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatingPolicy {
    /// Days after a case closes during which it may be rated.
    pub window_days: u32,
    /// Most reason tags on one rating.
    pub max_tags: usize,
}

impl Default for RatingPolicy {
    fn default() -> Self {
        Self {
            window_days: 15,
            max_tags: 5,
        }
    }
}

/// Settings of ratings as a deployment chooses them: the intake rules, the rectification
/// deadline, what counts as suspicious, the rate limit of the public rating form and the prior
/// of the satisfaction figures.
#[derive(Debug, Clone, Copy)]
pub struct RatingSettings {
    /// Intake rules: the rating window and the most tags.
    pub rating: RatingPolicy,
    /// The rectification deadline.
    pub rectification: rectification::RectificationPolicy,
    /// What counts as suspicious.
    pub suspicion: suspicion::SuspicionPolicy,
    /// Ratings the public rating form takes from one IP at once.
    pub public_burst: u32,
    /// Public ratings given back to an IP per minute.
    pub public_per_minute: u32,
    /// Strength of the prior (in ratings) of the shrunk satisfaction rate.
    pub prior_strength: f64,
}

impl Default for RatingSettings {
    fn default() -> Self {
        Self {
            rating: RatingPolicy::default(),
            rectification: rectification::RectificationPolicy::default(),
            suspicion: suspicion::SuspicionPolicy::default(),
            public_burst: 20,
            public_per_minute: 2,
            prior_strength: 20.0,
        }
    }
}

/// Why a rating is refused. Each names the field or rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    /// The case was rated already (一次一评).
    #[error("case {0} has been rated already: one rating per case")]
    AlreadyRated(String),
    /// Rating window over.
    #[error(
        "case {case} can no longer be rated: ratings close {window_days} days after the case closes ({deadline})"
    )]
    WindowClosed {
        /// The case.
        case: String,
        /// The setting.
        window_days: u32,
        /// The last moment a rating was accepted, RFC 3339.
        deadline: String,
    },
    /// The case has not closed yet at the rating time.
    #[error("case {0} has not closed yet")]
    NotClosed(String),
    /// Too many tags.
    #[error("tags: at most {0} reasons")]
    TooManyTags(usize),
    /// A tag repeated.
    #[error("tags: {0} is given twice")]
    DuplicateTag(String),
    /// Comment too long.
    #[error("comment: longer than {MAX_TEXT} characters")]
    CommentTooLong,
    /// A character no text may hold (`crate::text::check_text`).
    #[error(transparent)]
    BadText(#[from] crate::text::TextError),
}

/// Checks a new rating of `case` received at `now`, before the one-per-case check the store
/// makes atomically. Returns the rating with its comment trimmed (empty → none).
pub fn check_rating(
    case: &ServiceCase,
    rating: NewRating,
    now: OffsetDateTime,
    policy: &RatingPolicy,
) -> Result<NewRating, IntakeError> {
    check_rating_of(case.closed_at, rating, now, policy)
}

/// [`check_rating`] given only what the rules read of the rated case (`rating.case_id`): when it
/// closed. Bulk imports look up no more.
pub fn check_rating_of(
    closed_at: OffsetDateTime,
    rating: NewRating,
    now: OffsetDateTime,
    policy: &RatingPolicy,
) -> Result<NewRating, IntakeError> {
    if now < closed_at {
        return Err(IntakeError::NotClosed(rating.case_id.as_str().to_owned()));
    }
    let deadline = closed_at + Duration::days(i64::from(policy.window_days));
    if now > deadline {
        return Err(IntakeError::WindowClosed {
            case: rating.case_id.as_str().to_owned(),
            window_days: policy.window_days,
            deadline: deadline
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        });
    }
    if rating.tags.len() > policy.max_tags {
        return Err(IntakeError::TooManyTags(policy.max_tags));
    }
    for (i, t) in rating.tags.iter().enumerate() {
        if rating.tags[..i].contains(t) {
            return Err(IntakeError::DuplicateTag(t.code().to_owned()));
        }
    }
    let comment = match rating.comment.as_deref().map(str::trim) {
        Some(c) if c.chars().count() > MAX_TEXT => return Err(IntakeError::CommentTooLong),
        Some(c) if !c.is_empty() => {
            crate::text::check_text("comment", c)?;
            Some(c.to_owned())
        }
        _ => None,
    };
    Ok(NewRating { comment, ..rating })
}

labeled_enum! {
    /// Ground of an appeal against a review (申诉理由).
    pub enum AppealGround: "appeal ground" {
        /// 误评: the rater rated the wrong case or the wrong level.
        Mistaken = ("mistaken", "误评", "Mistaken review"),
        /// 恶意差评: a malicious review, e.g. retaliation for a lawful refusal.
        Malicious = ("malicious", "恶意差评", "Malicious review"),
        /// 非本单位责任: the cause lies outside the unit's remit.
        NotResponsible = ("not_responsible", "非本单位责任", "Outside the unit's remit"),
    }
}

labeled_enum! {
    /// Decision on an appeal (复核结论).
    pub enum AppealDecision: "appeal decision" {
        /// 申诉成立: the review is excluded from the figures, never deleted.
        Upheld = ("upheld", "申诉成立", "Upheld"),
        /// 申诉不成立: the review counts.
        Rejected = ("rejected", "申诉不成立", "Rejected"),
    }
}

/// Why an appeal or its decision is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppealError {
    /// No evidence or reason given.
    #[error("{0}: a reason is required")]
    Missing(&'static str),
    /// Text too long.
    #[error("{0}: longer than {max} characters", max = MAX_APPEAL_TEXT)]
    TooLong(&'static str),
    /// Already decided.
    #[error("the appeal has been decided already")]
    Decided,
    /// An appeal on this rating is pending or was decided.
    #[error("rating {0} has been appealed already")]
    AlreadyAppealed(i64),
}

/// Longest appeal evidence or decision reason.
pub const MAX_APPEAL_TEXT: usize = 2000;

/// Checks the required text of an appeal or of its decision, returning it trimmed.
pub fn check_appeal_text(field: &'static str, s: &str) -> Result<String, AppealError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(AppealError::Missing(field));
    }
    if t.chars().count() > MAX_APPEAL_TEXT {
        return Err(AppealError::TooLong(field));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    fn case() -> ServiceCase {
        ServiceCase {
            id: Code::parse("BJ-1").unwrap(),
            item: "不动产登记".into(),
            unit: Code::parse("U1").unwrap(),
            window: None,
            officials: vec![Code::parse("C1").unwrap()],
            channel: Channel::Window,
            accepted_at: datetime!(2026-03-02 09:00 +8),
            closed_at: datetime!(2026-03-04 15:00 +8),
            applicant: None,
            phone: None,
        }
    }

    fn rating(level: RatingLevel) -> NewRating {
        NewRating {
            case_id: Code::parse("BJ-1").unwrap(),
            level,
            tags: vec![],
            comment: Some("  ".into()),
            channel: Channel::QrCode,
            real_name: false,
            contact: None,
        }
    }

    #[test]
    fn levels_round_trip_and_split_into_good_and_bad() {
        for l in RatingLevel::ALL {
            assert_eq!(RatingLevel::from_value(l.value()), Some(*l));
            assert_eq!(l.is_bad(), !l.is_satisfied());
        }
        assert!(RatingLevel::Dissatisfied.is_bad());
        assert!(!RatingLevel::FairlySatisfied.is_bad());
        assert_eq!(RatingLevel::from_value(0), None);
        assert_eq!(RatingLevel::from_value(6), None);
        assert_eq!("4".parse::<RatingLevel>(), Ok(RatingLevel::Satisfied));
        assert_eq!(
            "非常不满意".parse::<RatingLevel>(),
            Ok(RatingLevel::VeryDissatisfied)
        );
    }

    #[test]
    fn phones_are_masked_but_kept_whole() {
        let p = Phone::parse("138-1234 5678").unwrap();
        assert_eq!(p.reveal(), "13812345678");
        assert_eq!(p.masked(), "138****5678");
        assert_eq!(format!("{p:?}"), "Phone(138****5678)");
        assert_eq!(Phone::parse("12345").unwrap().masked(), "***45");
        assert!(Phone::parse("1234").is_err());
        assert!(Phone::parse("138x").is_err());
        assert!(Phone::parse("1+3812345678").is_err());
        assert_eq!(
            Phone::parse("+8613812345678").unwrap().masked(),
            "+86*******5678"
        );
    }

    proptest! {
        #[test]
        fn a_masked_phone_never_shows_more_than_seven_digits(digits in "[0-9]{5,20}") {
            let p = Phone::parse(&digits).unwrap();
            let m = p.masked();
            prop_assert_eq!(m.chars().count(), digits.len());
            prop_assert!(m.chars().filter(char::is_ascii_digit).count() <= 7);
            prop_assert!(m.contains('*'));
        }
    }

    #[test]
    fn ratings_are_taken_only_within_the_window() {
        let p = RatingPolicy::default();
        let c = case();
        let ok = check_rating(
            &c,
            rating(RatingLevel::Satisfied),
            datetime!(2026-03-19 15:00 +8),
            &p,
        )
        .unwrap();
        assert_eq!(ok.comment, None, "a blank comment is dropped");
        let late = check_rating(
            &c,
            rating(RatingLevel::Satisfied),
            datetime!(2026-03-19 15:01 +8),
            &p,
        );
        assert!(matches!(
            late,
            Err(IntakeError::WindowClosed {
                window_days: 15,
                ..
            })
        ));
        let early = check_rating(
            &c,
            rating(RatingLevel::Satisfied),
            datetime!(2026-03-04 14:59 +8),
            &p,
        );
        assert!(matches!(early, Err(IntakeError::NotClosed(_))));
    }

    #[test]
    fn tags_are_bounded_and_unique() {
        let p = RatingPolicy::default();
        let now = datetime!(2026-03-05 10:00 +8);
        let mut r = rating(RatingLevel::Dissatisfied);
        r.tags = vec![ReasonTag::Attitude, ReasonTag::Attitude];
        assert!(matches!(
            check_rating(&case(), r.clone(), now, &p),
            Err(IntakeError::DuplicateTag(_))
        ));
        r.tags = ReasonTag::ALL.to_vec();
        assert_eq!(
            check_rating(&case(), r.clone(), now, &p),
            Err(IntakeError::TooManyTags(5))
        );
        r.tags = vec![];
        r.comment = Some("字".repeat(MAX_TEXT + 1));
        assert_eq!(
            check_rating(&case(), r, now, &p),
            Err(IntakeError::CommentTooLong)
        );
    }

    #[test]
    fn rating_codes_are_sixteen_url_safe_characters() {
        let a = rating_code(&[0; 10]);
        let b = rating_code(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert!(
            b.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
    }

    #[test]
    fn cases_are_checked() {
        let mut c = case();
        assert_eq!(c.check(), Ok(()));
        c.closed_at = datetime!(2026-03-01 09:00 +8);
        assert_eq!(c.check(), Err(CaseError::ClosedBeforeAccepted));
        let mut c = case();
        c.officials.push(Code::parse("C1").unwrap());
        assert!(matches!(c.check(), Err(CaseError::DuplicateOfficial(_))));
        let mut c = case();
        c.item = " ".into();
        assert_eq!(c.check(), Err(CaseError::Empty("item")));
    }

    #[test]
    fn appeal_texts_are_required() {
        assert_eq!(
            check_appeal_text("evidence", "  "),
            Err(AppealError::Missing("evidence"))
        );
        assert_eq!(
            check_appeal_text("evidence", " 录像显示 ").as_deref(),
            Ok("录像显示")
        );
    }
}
