//! Storage of public service ratings (好差评): service cases, ratings, rectifications and
//! appeals, written once for both backends ([`impl_rating_store!`]), and the escalation of
//! overdue rectifications ([`escalation`]).
//!
//! The rules (which rating is acceptable, which step may follow which, when a rectification is
//! due) live in `kaohe_domain::ratings`; the store keeps what they decided. A rating is stored
//! whole or not at all, with its rectification when it is a bad review; one case takes one
//! rating, enforced by a unique key, so two concurrent ratings of a case cannot both land.

pub(crate) mod escalation;

pub use escalation::{Escalation, EscalationCandidate, EscalationError, escalate_overdue};

use crate::StoreError;
use crate::files::{FileInfo, NewFile};
use crate::sql::{label, parse_code};
use async_trait::async_trait;
use kaohe_domain::ratings::rectification::{
    Rectification, RectificationPolicy, Status, Step, StepKind, Verdict,
};
use kaohe_domain::ratings::seal::{RatingSeal, SealedRating, SealedRow, SealedStep};
use kaohe_domain::ratings::{
    AppealDecision, AppealGround, IntakeError, NewRating, Phone, Rating, RatingLevel, RatingPolicy,
    ReasonTag, ServiceCase, check_rating_of,
};
use kaohe_domain::{CalendarError, Code, Labeled, NewAuditEntry, WorkCalendar};
use time::{Date, OffsetDateTime};

/// A case as stored, with the code of its public rating page (`/rate/{code}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCase {
    /// The case.
    pub case: ServiceCase,
    /// Unguessable code of its rating page, printed as a QR code on the receipt.
    pub rating_code: String,
}

/// A rating to store, with the rectification it opens when it is a bad review.
#[derive(Debug, Clone)]
pub struct RatingIntake {
    /// The rating, checked by `kaohe_domain::ratings::check_rating`.
    pub rating: NewRating,
    /// When it arrived.
    pub rated_at: OffsetDateTime,
    /// For a bad review: its rectification.
    pub rectification: Option<NewRectification>,
}

impl RatingIntake {
    /// Checks a rating of `case` received at `now` by the intake rules and, for a bad review,
    /// opens its rectification with the deadline counted on `calendar` (the day is `now` at
    /// `offset`, the deployment's local time). The one path from a received rating to what is
    /// stored, for the API, the public page and file imports alike.
    pub fn prepare(
        case: &StoredCase,
        rating: NewRating,
        now: OffsetDateTime,
        offset: time::UtcOffset,
        policy: &RatingPolicy,
        calendar: &WorkCalendar,
        rectification: &RectificationPolicy,
    ) -> Result<Self, IntakeRefused> {
        let c = &case.case;
        Self::prepare_of(
            &c.unit,
            c.closed_at,
            rating,
            now,
            offset,
            (policy, calendar, rectification),
        )
    }

    /// [`RatingIntake::prepare`] given only what the rules read of the rated case: its unit
    /// and when it closed ([`CaseTerms`], what a bulk import looks up).
    pub fn prepare_of(
        unit: &Code,
        closed_at: OffsetDateTime,
        rating: NewRating,
        now: OffsetDateTime,
        offset: time::UtcOffset,
        (policy, calendar, rectification): (&RatingPolicy, &WorkCalendar, &RectificationPolicy),
    ) -> Result<Self, IntakeRefused> {
        let rating = check_rating_of(closed_at, rating, now, policy)?;
        let rectification = if rating.level.is_bad() {
            let opened_on = now.to_offset(offset).date();
            let open = Rectification::open(rating.real_name, opened_on, calendar, rectification)?;
            Some(NewRectification {
                unit: unit.clone(),
                real_name: rating.real_name,
                opened_on,
                deadline: open.deadline,
            })
        } else {
            None
        };
        Ok(Self {
            rating,
            rated_at: now,
            rectification,
        })
    }
}

/// What a bulk import of ratings looks up of each rated case (办件): the rules need no more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseTerms {
    /// The case's unit, responsible for the rectification of a bad review (shared: an import
    /// names a few hundred units across millions of cases).
    pub unit: std::sync::Arc<Code>,
    /// When the case closed: the rating window counts from here.
    pub closed_at: OffsetDateTime,
    /// The case has a rating already (一次一评).
    pub rated: bool,
}

/// Why a rating cannot be prepared for storage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeRefused {
    /// It breaks an intake rule.
    #[error(transparent)]
    Rule(#[from] IntakeError),
    /// Its deadline falls outside the calendar's range.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

/// The opening of a rectification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRectification {
    /// Responsible unit.
    pub unit: Code,
    /// A real-name review (callback required).
    pub real_name: bool,
    /// Day of the bad review.
    pub opened_on: Date,
    /// Last day to close it on time.
    pub deadline: Date,
}

/// What became of one rating of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntakeOutcome {
    /// Stored, with its id.
    Stored(Rating),
    /// The case had a rating already (一次一评); nothing stored.
    AlreadyRated,
    /// No such case; nothing stored.
    UnknownCase,
}

/// A step as stored: who took it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStep {
    /// The step.
    pub step: Step,
    /// Account that recorded it.
    pub actor: String,
    /// When it was recorded, unix seconds.
    pub at: i64,
}

/// A rectification with everything its page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RectificationRecord {
    /// The bad review.
    pub rating: Rating,
    /// The case rated.
    pub case: StoredCase,
    /// Responsible unit.
    pub unit: Code,
    /// Real-name review.
    pub real_name: bool,
    /// Day of the review.
    pub opened_on: Date,
    /// Deadline fixed at opening.
    pub deadline: Date,
    /// Steps, in order.
    pub steps: Vec<StoredStep>,
    /// The appeal against the review, if any.
    pub appeal: Option<Appeal>,
    /// Evidence files of the appeal.
    pub files: Vec<FileInfo>,
}

impl RectificationRecord {
    /// The accounts that filed the appeal or took a step of the rectification: those who may
    /// never decide the appeal (four eyes).
    pub fn involved(&self) -> impl Iterator<Item = &str> {
        self.appeal
            .iter()
            .map(|a| a.filed_by.as_str())
            .chain(self.steps.iter().map(|s| s.actor.as_str()))
    }
}

/// The state of a rectification after a step, as kept for the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RectificationState {
    /// Status after the step.
    pub status: Status,
    /// Day it closed.
    pub closed_on: Option<Date>,
    /// Whether a callback has reached the rater.
    pub called_back: bool,
}

/// One line of the rectification queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueItem {
    /// The rating.
    pub rating_id: i64,
    /// The case.
    pub case_id: Code,
    /// Service item.
    pub item: String,
    /// Responsible unit.
    pub unit: Code,
    /// Level of the bad review.
    pub level: RatingLevel,
    /// Day of the review.
    pub opened_on: Date,
    /// Deadline.
    pub deadline: Date,
    /// Where it stands.
    pub status: Status,
    /// Real-name review.
    pub real_name: bool,
    /// Excluded by an upheld appeal.
    pub excluded: bool,
}

/// An appeal against a review (申诉).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appeal {
    /// The rating appealed.
    pub rating_id: i64,
    /// Ground.
    pub ground: AppealGround,
    /// Evidence and reasoning of the unit.
    pub evidence: String,
    /// Account that filed it.
    pub filed_by: String,
    /// When, unix seconds.
    pub filed_at: i64,
    /// The decision, once made: decision, reason, by whom, when.
    pub decision: Option<(AppealDecision, String, String, i64)>,
}

/// One rating with what the figures group it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingFacts {
    /// The rating.
    pub rating: Rating,
    /// Responsible unit.
    pub unit: Code,
    /// Window, if any.
    pub window: Option<Code>,
    /// Service item.
    pub item: String,
    /// Handling officials.
    pub officials: Vec<Code>,
    /// Applicant's phone.
    pub phone: Option<Phone>,
    /// The rectification's state, for a bad review.
    pub rectification: Option<(RectificationState, Date)>,
}

/// The sums of `kaohe_engine::ratings::Tally::add` over `ratings r` left-joined to their
/// `rectifications x`: excluded ratings count only as excluded; a bad review (level 1–2) counts
/// as rectified once its rectification closed, on time when it closed by the deadline, and
/// called back when the callback reached the rater.
pub(crate) const TALLY_SUMS: &str = "\
    COALESCE(SUM(CASE WHEN r.excluded THEN 0 ELSE 1 END), 0) AS ratings, \
    COALESCE(SUM(CASE WHEN r.excluded THEN 1 ELSE 0 END), 0) AS excluded, \
    COALESCE(SUM(CASE WHEN NOT r.excluded AND r.level >= 3 THEN 1 ELSE 0 END), 0) AS satisfied, \
    COALESCE(SUM(CASE WHEN NOT r.excluded AND r.level <= 2 THEN 1 ELSE 0 END), 0) AS bad, \
    COALESCE(SUM(CASE WHEN r.excluded THEN 0 ELSE r.level END), 0) AS level_sum, \
    COALESCE(SUM(CASE WHEN NOT r.excluded AND r.level <= 2 AND x.closed_on IS NOT NULL THEN 1 ELSE 0 END), 0) AS rectified, \
    COALESCE(SUM(CASE WHEN NOT r.excluded AND r.level <= 2 AND x.closed_on IS NOT NULL AND x.closed_on <= x.deadline THEN 1 ELSE 0 END), 0) AS on_time, \
    COALESCE(SUM(CASE WHEN NOT r.excluded AND r.level <= 2 AND x.called_back THEN 1 ELSE 0 END), 0) AS called_back";

/// The query of [`RatingStore::rating_facts`]: the ratings received in `[$1, $2)`, oldest
/// first, narrowed by `filter` (`AND …` on the case `c`, its parameters from `$3`).
pub(crate) fn facts_sql(filter: &str) -> String {
    format!(
        "SELECT {RATING_COLS}, c.unit, c.window_code, c.item, c.phone, \
         (SELECT string_agg(o.cadre, ' ' ORDER BY o.position) FROM case_officials o WHERE o.case_id = c.id) AS officials, \
         x.status, x.closed_on, x.called_back, x.deadline \
         FROM ratings r JOIN service_cases c ON c.id = r.case_id \
         LEFT JOIN rectifications x ON x.rating_id = r.id \
         WHERE r.rated_at >= $1 AND r.rated_at < $2 {filter} ORDER BY r.rated_at, r.id"
    )
}

/// A row of [`TALLY_SUMS`] with its key.
#[derive(sqlx::FromRow)]
pub(crate) struct TallyRow {
    k: String,
    ratings: i64,
    excluded: i64,
    satisfied: i64,
    bad: i64,
    level_sum: i64,
    rectified: i64,
    on_time: i64,
    called_back: i64,
}

impl TallyRow {
    pub(crate) fn into_tally(self) -> Result<(String, kaohe_engine::ratings::Tally), StoreError> {
        let n = |v: i64| {
            u64::try_from(v).map_err(|e| StoreError::Corrupt {
                table: "ratings",
                column: "count",
                reason: e.to_string(),
            })
        };
        Ok((
            self.k,
            kaohe_engine::ratings::Tally {
                ratings: n(self.ratings)?,
                excluded: n(self.excluded)?,
                satisfied: n(self.satisfied)?,
                bad: n(self.bad)?,
                level_sum: n(self.level_sum)?,
                rectified: n(self.rectified)?,
                on_time: n(self.on_time)?,
                called_back: n(self.called_back)?,
            },
        ))
    }
}

/// The columns of `ratings` a seal covers, in [`SealRow`] order.
pub(crate) const SEAL_COLS: &str =
    "id, case_id, level, tags, comment, channel, real_name, contact, rated_at";

/// A rating as a seal reads it.
pub(crate) type SealRow = (
    i64,
    String,
    i32,
    String,
    Option<String>,
    String,
    bool,
    Option<String>,
    i64,
);

/// A [`SealRow`] as the seal's domain type.
pub(crate) fn sealed(
    (id, case_id, level, tags, comment, channel, real_name, contact, rated_at): SealRow,
) -> SealedRating {
    SealedRating {
        id,
        case_id,
        level,
        tags,
        comment,
        channel,
        real_name,
        contact,
        rated_at,
    }
}

/// The audit entry `action` sealing `rows` of `table`, the ones one transaction stored
/// ([`kaohe_domain::ratings::seal`]).
pub(crate) fn seal_entry<R: SealedRow>(
    (action, table): (&str, &str),
    rows: &mut [R],
    upgrade: bool,
) -> NewAuditEntry {
    let seal = RatingSeal::of(rows);
    let mut after = serde_json::to_value(&seal).unwrap_or_default();
    if upgrade {
        after["upgrade"] = serde_json::Value::Bool(true);
    }
    NewAuditEntry::new("system", action, table).after(after.to_string())
}

/// What [`seal_entry`] seals ratings as.
pub(crate) const RATINGS_SEALED: (&str, &str) =
    (kaohe_domain::ratings::seal::SEAL_ACTION, "ratings");
/// What [`seal_entry`] seals steps of rectifications as.
pub(crate) const STEPS_SEALED: (&str, &str) = (
    kaohe_domain::ratings::seal::STEP_SEAL_ACTION,
    "rectification_steps",
);

/// The columns of `rectification_steps` a seal covers, in [`StepSealRow`] order.
pub(crate) const STEP_SEAL_COLS: &str =
    "rating_id, seq, kind, note, reached, verdict, on_day, actor, at";

/// A step of a rectification as a seal reads it.
pub(crate) type StepSealRow = (
    i64,
    i32,
    String,
    String,
    Option<bool>,
    Option<String>,
    Date,
    String,
    i64,
);

/// A [`StepSealRow`] as the seal's domain type.
pub(crate) fn sealed_step(
    (rating_id, seq, kind, note, reached, verdict, on_day, actor, at): StepSealRow,
) -> SealedStep {
    SealedStep {
        rating_id,
        seq,
        kind,
        note,
        reached,
        verdict,
        on_day: on_day.to_string(),
        actor,
        at,
    }
}

/// What a rating was given under, as stored: case id, unit, closing time (unix seconds) and
/// the officials, space-separated in order.
pub(crate) type RatedTerms = (String, String, i64, Option<String>);

/// Refuses a new version of a rated case that moves it to another unit or other officials, or
/// changes when it closed (and so its rating window): a rating keeps the attribution it was
/// given under, so the figures count it where it was rated.
pub(crate) fn check_rated_terms(
    rated: &[RatedTerms],
    cases: &[StoredCase],
) -> Result<(), StoreError> {
    for (id, unit, closed_at, officials) in rated {
        let Some(new) = cases.iter().find(|c| c.case.id.as_str() == id) else {
            continue;
        };
        let c = &new.case;
        let officials_now: Vec<&str> = c.officials.iter().map(Code::as_str).collect();
        let officials_then: Vec<&str> = officials
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let changed = [
            (c.unit.as_str() != unit, "unit"),
            (c.closed_at.unix_timestamp() != *closed_at, "closed_at"),
            (officials_now != officials_then, "officials"),
        ];
        if let Some((_, what)) = changed.iter().find(|(differs, _)| *differs) {
            return Err(StoreError::Conflict(format!(
                "case {id} has been rated: its unit, officials and closing time stay as they were when it was rated ({what} differs)"
            )));
        }
    }
    Ok(())
}

/// Storage of service cases, ratings, rectifications and appeals.
#[async_trait]
pub trait RatingStore {
    /// Inserts or updates cases by id, with their officials, in one transaction with its audit
    /// entry. A case already stored keeps its rating code. A rated case keeps its unit,
    /// officials and closing time: a new version that changes any of them is refused
    /// ([`StoreError::Conflict`], nothing stored).
    async fn upsert_cases(
        &self,
        cases: &[StoredCase],
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError>;
    /// One case by id.
    async fn get_case(&self, id: &Code) -> Result<Option<StoredCase>, StoreError>;
    /// One case by the code of its rating page.
    async fn case_by_rating_code(&self, code: &str) -> Result<Option<StoredCase>, StoreError>;
    /// Number of cases and of ratings.
    async fn service_counts(&self) -> Result<(u64, u64), StoreError>;
    /// Service windows (窗口): unit, window and how many cases it handled, by unit and window.
    async fn service_windows(&self) -> Result<Vec<(Code, Code, u64)>, StoreError>;
    /// The cases among `ids` that exist, in no particular order.
    async fn cases_by_ids(&self, ids: &[Code]) -> Result<Vec<StoredCase>, StoreError>;
    /// Every case, by id.
    async fn all_cases(&self) -> Result<Vec<StoredCase>, StoreError>;

    /// Stores a batch of ratings in one transaction (group commit): each is stored with its
    /// rectification, or refused alone because its case was rated already or is unknown.
    async fn insert_ratings(
        &self,
        batch: &[RatingIntake],
    ) -> Result<Vec<IntakeOutcome>, StoreError>;
    /// What the intake rules need of each case of `ids` (a bulk import's lookup), in the order
    /// of `ids`: `None` for a case that does not exist. Fastest with `ids` sorted.
    async fn case_terms(&self, ids: Vec<Code>) -> Result<Vec<Option<CaseTerms>>, StoreError>;
    /// Stores a whole file of ratings (bulk import) all or nothing, in one transaction with its
    /// audit entry. Every case must exist (the caller checked); when any case had a rating
    /// already, nothing is stored and the positions of those ratings in `batch` are returned,
    /// in order.
    async fn import_ratings(
        &self,
        batch: Vec<RatingIntake>,
        audit: NewAuditEntry,
    ) -> Result<Vec<usize>, StoreError>;
    /// The rating of a case.
    async fn rating_of_case(&self, case: &Code) -> Result<Option<Rating>, StoreError>;
    /// Up to `limit` stored ratings with an id above `after_id`, by id, as seals cover them:
    /// what `kaohe audit verify` checks against the seals.
    async fn sealed_ratings(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<SealedRating>, StoreError>;
    /// Up to `limit` stored steps of rectifications after the step with key `after_key`
    /// ([`SealedStep::key_of`]), by rating and number, as seals cover them.
    async fn sealed_steps(&self, after_key: i64, limit: u32)
    -> Result<Vec<SealedStep>, StoreError>;
    /// Seals the ratings and the steps stored before seals existed (a database upgraded to
    /// migration 0009), once each: when some exist and no seal of their kind does, all of them
    /// in one entry marked `"upgrade": true`. Returns how many rows were sealed. Run by
    /// [`crate::connect`].
    async fn seal_unsealed(&self) -> Result<u64, StoreError>;
    /// Every rating received in `[from, to)` (unix seconds), with what figures group it by,
    /// oldest first.
    async fn rating_facts(&self, from: i64, to: i64) -> Result<Vec<RatingFacts>, StoreError>;
    /// [`RatingStore::rating_facts`] of the cases of one responsible unit only.
    async fn unit_rating_facts(
        &self,
        unit: &Code,
        from: i64,
        to: i64,
    ) -> Result<Vec<RatingFacts>, StoreError>;
    /// The counts of ratings received in `[from, to)` (unix seconds): of all of them, and of
    /// each handling official, tallied by the database (`Tally::add`'s rules in SQL, kept in
    /// step by a test), by official id.
    async fn official_tallies(
        &self,
        from: i64,
        to: i64,
    ) -> Result<
        (
            kaohe_engine::ratings::Tally,
            Vec<(Code, kaohe_engine::ratings::Tally)>,
        ),
        StoreError,
    >;

    /// A rectification with its steps.
    async fn rectification(
        &self,
        rating_id: i64,
    ) -> Result<Option<RectificationRecord>, StoreError>;
    /// Appends step number `seq` (1-based) and the state it leads to, in one transaction with
    /// its audit entry. Returns false, storing nothing, when step `seq` exists already (another
    /// step was recorded meanwhile).
    #[allow(clippy::too_many_arguments)]
    async fn add_step(
        &self,
        rating_id: i64,
        seq: u32,
        step: &Step,
        state: RectificationState,
        actor: &str,
        at: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// The rectification queue: of the given units (all when `None`), open ones only or all,
    /// by deadline.
    async fn rectification_queue(
        &self,
        units: Option<&[Code]>,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<QueueItem>, StoreError>;
    /// The open rectifications of bad reviews of cases the cadre `official` handled (one of the
    /// case's officials), by deadline: what is due of the official's own work.
    async fn open_rectifications_of(
        &self,
        official: &Code,
        limit: u32,
    ) -> Result<Vec<QueueItem>, StoreError>;

    /// Files an appeal against a rating, in one transaction with its audit entry. Returns false
    /// when the rating was appealed already.
    async fn file_appeal(
        &self,
        appeal: &Appeal,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError> {
        self.file_appeal_with(appeal, &[], audit).await
    }
    /// [`RatingStore::file_appeal`] with evidence files, stored in the same transaction.
    async fn file_appeal_with(
        &self,
        appeal: &Appeal,
        files: &[NewFile],
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// One evidence file of the appeal against rating `rating_id`, with its content.
    async fn appeal_file(
        &self,
        rating_id: i64,
        file_id: i64,
    ) -> Result<Option<(FileInfo, Vec<u8>)>, StoreError>;
    /// Decides a pending appeal; an upheld one excludes the rating from the figures. Returns
    /// false when there is no pending appeal on the rating; refuses with
    /// [`StoreError::FourEyes`] when `by` filed the appeal or took a step of the case's
    /// rectification (`kaohe_domain::access::check_four_eyes`).
    async fn decide_appeal(
        &self,
        rating_id: i64,
        decision: AppealDecision,
        reason: &str,
        by: &str,
        at: i64,
        audit: &NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// Appeals, pending first, then by filing time.
    async fn appeals(&self, pending_only: bool) -> Result<Vec<Appeal>, StoreError>;

    /// Open rectifications of reviews not excluded, due before `today` and not escalated yet,
    /// by deadline: what an escalation sweep asks the rule about.
    async fn escalation_candidates(
        &self,
        today: Date,
    ) -> Result<Vec<EscalationCandidate>, StoreError>;
    /// Records escalations, each with its audit entry, in one transaction; one already
    /// recorded for its rectification is skipped with its entry. Returns the ids of the
    /// rectifications recorded now.
    async fn record_escalations(
        &self,
        escalations: &[(Escalation, NewAuditEntry)],
    ) -> Result<Vec<i64>, StoreError>;
    /// The escalation of a rectification, if it was escalated.
    async fn escalation(&self, rating_id: i64) -> Result<Option<Escalation>, StoreError>;
    /// Escalated rectifications still open, of reviews not excluded by an upheld appeal:
    /// rating id and responsible unit, by deadline.
    async fn open_escalations(&self) -> Result<Vec<(i64, Code)>, StoreError>;
}

fn timestamp(
    table: &'static str,
    column: &'static str,
    t: i64,
) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(t).map_err(|e| StoreError::Corrupt {
        table,
        column,
        reason: e.to_string(),
    })
}

/// A stored file's description.
/// Ratings per statement of a bulk import: 8 parameters each, within SQLite's 32,766.
pub(crate) const IMPORT_ROWS: usize = 4_000;

/// Case ids per lookup of a bulk import.
pub(crate) const LOOKUP_IDS: usize = 20_000;

/// Rectifications per statement of a bulk import: 6 parameters each.
pub(crate) const IMPORT_RECTIFICATIONS: usize = 5_000;

/// Space-separated tag codes, as stored.
pub(crate) fn tags_text(tags: &[ReasonTag]) -> String {
    tags.iter().map(|t| t.code()).collect::<Vec<_>>().join(" ")
}

/// A case row as stored (officials come from their own table).
#[derive(sqlx::FromRow)]
pub(crate) struct CaseRow {
    id: String,
    item: String,
    unit: String,
    window_code: Option<String>,
    channel: String,
    accepted_at: i64,
    closed_at: i64,
    applicant: Option<String>,
    phone: Option<String>,
    rating_code: String,
    officials: Option<String>,
}

/// Columns of [`CaseRow`], officials aggregated in position order by a subquery.
/// The insert of cases, up to its `VALUES` (10 columns).
pub(crate) const CASE_INSERT: &str = "INSERT INTO service_cases (id, item, unit, window_code, \
    channel, accepted_at, closed_at, applicant, phone, rating_code) ";

/// What an insert of a case stored already changes: everything but its rating code.
pub(crate) const CASE_UPSERT: &str = " ON CONFLICT (id) DO UPDATE SET item = excluded.item, \
    unit = excluded.unit, window_code = excluded.window_code, channel = excluded.channel, \
    accepted_at = excluded.accepted_at, closed_at = excluded.closed_at, \
    applicant = excluded.applicant, phone = excluded.phone";

pub(crate) const CASE_COLS: &str = "c.id, c.item, c.unit, c.window_code, c.channel, c.accepted_at, \
    c.closed_at, c.applicant, c.phone, c.rating_code, \
    (SELECT string_agg(o.cadre, ' ' ORDER BY o.position) FROM case_officials o WHERE o.case_id = c.id) AS officials";

impl CaseRow {
    pub(crate) fn into_domain(self) -> Result<StoredCase, StoreError> {
        const T: &str = "service_cases";
        Ok(StoredCase {
            case: ServiceCase {
                id: parse_code(T, "id", &self.id)?,
                item: self.item,
                unit: parse_code(T, "unit", &self.unit)?,
                window: self
                    .window_code
                    .as_deref()
                    .map(|w| parse_code(T, "window_code", w))
                    .transpose()?,
                officials: self
                    .officials
                    .as_deref()
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(|o| parse_code("case_officials", "cadre", o))
                    .collect::<Result<_, _>>()?,
                channel: label(T, "channel", &self.channel)?,
                accepted_at: timestamp(T, "accepted_at", self.accepted_at)?,
                closed_at: timestamp(T, "closed_at", self.closed_at)?,
                applicant: self.applicant,
                phone: self
                    .phone
                    .as_deref()
                    .map(|p| {
                        Phone::parse(p).map_err(|e| StoreError::Corrupt {
                            table: T,
                            column: "phone",
                            reason: e.to_string(),
                        })
                    })
                    .transpose()?,
            },
            rating_code: self.rating_code,
        })
    }
}

/// A rating row as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct RatingRow {
    id: i64,
    case_id: String,
    level: i32,
    tags: String,
    comment: Option<String>,
    channel: String,
    real_name: bool,
    contact: Option<String>,
    rated_at: i64,
    excluded: bool,
}

/// Columns of [`RatingRow`] from table alias `r`.
pub(crate) const RATING_COLS: &str = "r.id, r.case_id, r.level, r.tags, r.comment, r.channel, r.real_name, r.contact, r.rated_at, r.excluded";

impl RatingRow {
    pub(crate) fn into_domain(self) -> Result<Rating, StoreError> {
        const T: &str = "ratings";
        let level = u8::try_from(self.level)
            .ok()
            .and_then(RatingLevel::from_value)
            .ok_or_else(|| StoreError::Corrupt {
                table: T,
                column: "level",
                reason: format!("{} is not a level 1–5", self.level),
            })?;
        Ok(Rating {
            id: self.id,
            rating: NewRating {
                case_id: parse_code(T, "case_id", &self.case_id)?,
                level,
                tags: self
                    .tags
                    .split_whitespace()
                    .map(|t| label(T, "tags", t))
                    .collect::<Result<_, _>>()?,
                comment: self.comment,
                channel: label(T, "channel", &self.channel)?,
                real_name: self.real_name,
                contact: self
                    .contact
                    .as_deref()
                    .map(|p| {
                        Phone::parse(p).map_err(|e| StoreError::Corrupt {
                            table: T,
                            column: "contact",
                            reason: e.to_string(),
                        })
                    })
                    .transpose()?,
            },
            rated_at: timestamp(T, "rated_at", self.rated_at)?,
            excluded: self.excluded,
        })
    }
}

/// A step row as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct StepRow {
    kind: String,
    note: String,
    reached: Option<bool>,
    verdict: Option<String>,
    on_day: Date,
    actor: String,
    at: i64,
}

impl StepRow {
    pub(crate) fn into_domain(self) -> Result<StoredStep, StoreError> {
        const T: &str = "rectification_steps";
        Ok(StoredStep {
            step: Step {
                kind: label::<StepKind>(T, "kind", &self.kind)?,
                note: self.note,
                reached: self.reached,
                verdict: self
                    .verdict
                    .as_deref()
                    .map(|v| label::<Verdict>(T, "verdict", v))
                    .transpose()?,
                on: self.on_day,
            },
            actor: self.actor,
            at: self.at,
        })
    }
}

/// An appeal row as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct AppealRow {
    rating_id: i64,
    ground: String,
    evidence: String,
    filed_by: String,
    filed_at: i64,
    decision: Option<String>,
    reason: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<i64>,
}

/// Columns of [`AppealRow`].
pub(crate) const APPEAL_COLS: &str =
    "rating_id, ground, evidence, filed_by, filed_at, decision, reason, decided_by, decided_at";

impl AppealRow {
    pub(crate) fn into_domain(self) -> Result<Appeal, StoreError> {
        const T: &str = "appeals";
        let decision = match (self.decision, self.reason, self.decided_by, self.decided_at) {
            (Some(d), Some(r), Some(by), Some(at)) => {
                Some((label::<AppealDecision>(T, "decision", &d)?, r, by, at))
            }
            (None, _, _, _) => None,
            _ => {
                return Err(StoreError::Corrupt {
                    table: T,
                    column: "decision",
                    reason: "a decision without its reason, author or time".into(),
                });
            }
        };
        Ok(Appeal {
            rating_id: self.rating_id,
            ground: label(T, "ground", &self.ground)?,
            evidence: self.evidence,
            filed_by: self.filed_by,
            filed_at: self.filed_at,
            decision,
        })
    }
}

/// The columns of the rectification queue ([`QueueRow`]), open to further `AND` conditions.
pub(crate) const QUEUE_SELECT: &str = "SELECT x.rating_id, r.case_id, c.item, x.unit, r.level, \
     x.opened_on, x.deadline, x.status, x.real_name, r.excluded FROM rectifications x \
     JOIN ratings r ON r.id = x.rating_id JOIN service_cases c ON c.id = r.case_id WHERE 1 = 1";

/// A queue row as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct QueueRow {
    rating_id: i64,
    case_id: String,
    item: String,
    unit: String,
    level: i32,
    opened_on: Date,
    deadline: Date,
    status: String,
    real_name: bool,
    excluded: bool,
}

impl QueueRow {
    pub(crate) fn into_domain(self) -> Result<QueueItem, StoreError> {
        const T: &str = "rectifications";
        Ok(QueueItem {
            rating_id: self.rating_id,
            case_id: parse_code(T, "case_id", &self.case_id)?,
            item: self.item,
            unit: parse_code(T, "unit", &self.unit)?,
            level: u8::try_from(self.level)
                .ok()
                .and_then(RatingLevel::from_value)
                .ok_or_else(|| StoreError::Corrupt {
                    table: "ratings",
                    column: "level",
                    reason: format!("{} is not a level 1–5", self.level),
                })?,
            opened_on: self.opened_on,
            deadline: self.deadline,
            status: label(T, "status", &self.status)?,
            real_name: self.real_name,
            excluded: self.excluded,
        })
    }
}

/// The rectification summary of a facts row.
#[derive(sqlx::FromRow)]
pub(crate) struct FactsRow {
    #[sqlx(flatten)]
    rating: RatingRow,
    unit: String,
    window_code: Option<String>,
    item: String,
    officials: Option<String>,
    phone: Option<String>,
    status: Option<String>,
    closed_on: Option<Date>,
    called_back: Option<bool>,
    deadline: Option<Date>,
}

impl FactsRow {
    pub(crate) fn into_domain(self) -> Result<RatingFacts, StoreError> {
        const T: &str = "service_cases";
        let rectification = match (self.status, self.deadline) {
            (Some(s), Some(deadline)) => Some((
                RectificationState {
                    status: label("rectifications", "status", &s)?,
                    closed_on: self.closed_on,
                    called_back: self.called_back.unwrap_or(false),
                },
                deadline,
            )),
            _ => None,
        };
        Ok(RatingFacts {
            rating: self.rating.into_domain()?,
            unit: parse_code(T, "unit", &self.unit)?,
            window: self
                .window_code
                .as_deref()
                .map(|w| parse_code(T, "window_code", w))
                .transpose()?,
            item: self.item,
            officials: self
                .officials
                .as_deref()
                .unwrap_or_default()
                .split_whitespace()
                .map(|o| parse_code("case_officials", "cadre", o))
                .collect::<Result<_, _>>()?,
            phone: self.phone.as_deref().and_then(|p| Phone::parse(p).ok()),
            rectification,
        })
    }
}

/// Expands the backend-independent [`RatingStore`] implementation for one backend.
macro_rules! impl_rating_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Inserts or updates cases through sqlx, several per statement, in one transaction
            /// with the audit entry ([`crate::RatingStore::upsert_cases`]).
            async fn upsert_cases_sql(&self, cases: &[$crate::StoredCase], audit: &kaohe_domain::NewAuditEntry) -> Result<(), $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut tx = self.pool.begin().await?;
                Self::append_audit_in(&mut tx, audit).await?;
                for chunk in cases.chunks($crate::sql::BATCH_ROWS) {
                    let mut q = sqlx::QueryBuilder::<$db>::new($crate::ratings::CASE_INSERT);
                    q.push_values(chunk, |mut b, s| {
                        let c = &s.case;
                        b.push_bind(c.id.as_str())
                            .push_bind(c.item.as_str())
                            .push_bind(c.unit.as_str())
                            .push_bind(c.window.as_ref().map(|w| w.as_str()))
                            .push_bind(c.channel.code())
                            .push_bind(c.accepted_at.unix_timestamp())
                            .push_bind(c.closed_at.unix_timestamp())
                            .push_bind(c.applicant.as_deref())
                            .push_bind(c.phone.as_ref().map(|p| p.reveal()))
                            .push_bind(s.rating_code.as_str());
                    });
                    q.push($crate::ratings::CASE_UPSERT);
                    q.build().execute(&mut *tx).await?;
                    let mut del = sqlx::QueryBuilder::<$db>::new("DELETE FROM case_officials WHERE case_id IN (");
                    let mut sep = del.separated(", ");
                    for s in chunk {
                        sep.push_bind(s.case.id.as_str());
                    }
                    del.push(")");
                    del.build().execute(&mut *tx).await?;
                    let links: Vec<(&str, &str, i32)> = chunk
                        .iter()
                        .flat_map(|s| {
                            s.case.officials.iter().enumerate().map(move |(i, o)| {
                                (s.case.id.as_str(), o.as_str(), i32::try_from(i).unwrap_or(i32::MAX))
                            })
                        })
                        .collect();
                    for links in links.chunks($crate::sql::BATCH_ROWS) {
                        let mut q = sqlx::QueryBuilder::<$db>::new("INSERT INTO case_officials (case_id, cadre, position) ");
                        q.push_values(links, |mut b, (case, cadre, pos)| {
                            b.push_bind(*case).push_bind(*cadre).push_bind(*pos);
                        });
                        q.build().execute(&mut *tx).await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }

            /// Inserts ratings in one statement, skipping cases rated already; returns the case
            /// and id of each rating stored.
            async fn insert_rating_rows<'a>(
                tx: &mut sqlx::Transaction<'_, $db>,
                rows: impl IntoIterator<Item = &'a $crate::RatingIntake>,
            ) -> Result<Vec<(String, i64)>, $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO ratings (case_id, level, tags, comment, channel, real_name, contact, rated_at) ",
                );
                q.push_values(rows, |mut b, item| {
                    let r = &item.rating;
                    b.push_bind(r.case_id.as_str())
                        .push_bind(i32::from(r.level.value()))
                        .push_bind($crate::ratings::tags_text(&r.tags))
                        .push_bind(r.comment.as_deref())
                        .push_bind(r.channel.code())
                        .push_bind(r.real_name)
                        .push_bind(r.contact.as_ref().map(|p| p.reveal()))
                        .push_bind(item.rated_at.unix_timestamp());
                });
                q.push(" ON CONFLICT (case_id) DO NOTHING RETURNING case_id, id");
                Ok(q.build_query_as().fetch_all(&mut **tx).await?)
            }

            /// Seals the ratings with `ids` that `tx` stored: reads them back and appends their
            /// `ratings.seal` entry.
            async fn seal_ratings_in(
                tx: &mut sqlx::Transaction<'_, $db>,
                ids: &[i64],
            ) -> Result<(), $crate::StoreError> {
                let (Some(&lo), Some(&hi)) = (ids.iter().min(), ids.iter().max()) else {
                    return Ok(());
                };
                let set: std::collections::HashSet<i64> = ids.iter().copied().collect();
                let sql = format!(
                    "SELECT {} FROM ratings WHERE id BETWEEN $1 AND $2 ORDER BY id",
                    $crate::ratings::SEAL_COLS
                );
                let mut rows: Vec<kaohe_domain::ratings::seal::SealedRating> =
                    sqlx::query_as::<_, $crate::ratings::SealRow>(&sql)
                        .bind(lo)
                        .bind(hi)
                        .fetch_all(&mut **tx)
                        .await?
                        .into_iter()
                        .filter(|r| set.contains(&r.0))
                        .map($crate::ratings::sealed)
                        .collect();
                Self::append_audit_in(tx, &$crate::ratings::seal_entry($crate::ratings::RATINGS_SEALED, &mut rows, false)).await?;
                Ok(())
            }

            /// Opens the rectifications of stored bad reviews, in one statement.
            async fn insert_rectification_rows(
                tx: &mut sqlx::Transaction<'_, $db>,
                rows: &[(i64, &$crate::NewRectification)],
            ) -> Result<(), $crate::StoreError> {
                use kaohe_domain::Labeled;
                let open = kaohe_domain::ratings::rectification::Status::Open.code();
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "INSERT INTO rectifications (rating_id, unit, real_name, opened_on, deadline, status) ",
                );
                q.push_values(rows, |mut b, (id, rect)| {
                    b.push_bind(*id)
                        .push_bind(rect.unit.as_str())
                        .push_bind(rect.real_name)
                        .push_bind(rect.opened_on)
                        .push_bind(rect.deadline)
                        .push_bind(open);
                });
                q.build().execute(&mut **tx).await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::RatingStore for $store {
            async fn upsert_cases(&self, cases: &[$crate::StoredCase], audit: &kaohe_domain::NewAuditEntry) -> Result<(), $crate::StoreError> {
                let any_rating: Option<(i64,)> = sqlx::query_as("SELECT id FROM ratings LIMIT 1")
                    .fetch_optional(&self.pool)
                    .await?;
                if any_rating.is_some() {
                    let sql = format!(
                        "SELECT c.id, c.unit, c.closed_at, \
                         (SELECT string_agg(o.cadre, ' ' ORDER BY o.position) FROM case_officials o WHERE o.case_id = c.id) \
                         FROM service_cases c JOIN ratings r ON r.case_id = c.id WHERE c.id IN ("
                    );
                    for chunk in cases.chunks($crate::ratings::LOOKUP_IDS) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(&sql);
                        let mut sep = q.separated(", ");
                        for c in chunk {
                            sep.push_bind(c.case.id.as_str());
                        }
                        q.push(")");
                        let rated: Vec<$crate::ratings::RatedTerms> = q.build_query_as().fetch_all(&self.pool).await?;
                        $crate::ratings::check_rated_terms(&rated, chunk)?;
                    }
                }
                self.bulk_upsert_cases(cases, audit).await
            }

            async fn get_case(&self, id: &kaohe_domain::Code) -> Result<Option<$crate::StoredCase>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM service_cases c WHERE c.id = $1", $crate::ratings::CASE_COLS);
                sqlx::query_as::<_, $crate::ratings::CaseRow>(&sql)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await?
                    .map($crate::ratings::CaseRow::into_domain)
                    .transpose()
            }

            async fn case_by_rating_code(&self, code: &str) -> Result<Option<$crate::StoredCase>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM service_cases c WHERE c.rating_code = $1", $crate::ratings::CASE_COLS);
                sqlx::query_as::<_, $crate::ratings::CaseRow>(&sql)
                    .bind(code)
                    .fetch_optional(&self.pool)
                    .await?
                    .map($crate::ratings::CaseRow::into_domain)
                    .transpose()
            }

            async fn service_counts(&self) -> Result<(u64, u64), $crate::StoreError> {
                let (cases, ratings): (i64, i64) = sqlx::query_as(
                    "SELECT (SELECT COUNT(*) FROM service_cases), (SELECT COUNT(*) FROM ratings)",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok((u64::try_from(cases).unwrap_or_default(), u64::try_from(ratings).unwrap_or_default()))
            }

            async fn service_windows(&self) -> Result<Vec<(kaohe_domain::Code, kaohe_domain::Code, u64)>, $crate::StoreError> {
                let rows: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT unit, window_code, COUNT(*) FROM service_cases WHERE window_code IS NOT NULL \
                     GROUP BY unit, window_code ORDER BY unit, window_code",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(unit, window, n)| {
                        Ok((
                            $crate::sql::parse_code("service_cases", "unit", &unit)?,
                            $crate::sql::parse_code("service_cases", "window_code", &window)?,
                            u64::try_from(n).unwrap_or_default(),
                        ))
                    })
                    .collect()
            }

            async fn cases_by_ids(&self, ids: &[kaohe_domain::Code]) -> Result<Vec<$crate::StoredCase>, $crate::StoreError> {
                let mut out = Vec::with_capacity(ids.len());
                for chunk in ids.chunks($crate::ratings::LOOKUP_IDS) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(format!(
                        "SELECT {} FROM service_cases c WHERE c.id IN (",
                        $crate::ratings::CASE_COLS
                    ));
                    let mut sep = q.separated(", ");
                    for id in chunk {
                        sep.push_bind(id.as_str());
                    }
                    q.push(")");
                    for row in q.build_query_as::<$crate::ratings::CaseRow>().fetch_all(&self.pool).await? {
                        out.push(row.into_domain()?);
                    }
                }
                Ok(out)
            }

            async fn all_cases(&self) -> Result<Vec<$crate::StoredCase>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM service_cases c ORDER BY c.id", $crate::ratings::CASE_COLS);
                sqlx::query_as::<_, $crate::ratings::CaseRow>(&sql)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::ratings::CaseRow::into_domain)
                    .collect()
            }

            async fn case_terms(&self, ids: Vec<kaohe_domain::Code>) -> Result<Vec<Option<$crate::CaseTerms>>, $crate::StoreError> {
                self.bulk_case_terms(ids).await
            }

            async fn import_ratings(
                &self,
                batch: Vec<$crate::RatingIntake>,
                audit: kaohe_domain::NewAuditEntry,
            ) -> Result<Vec<usize>, $crate::StoreError> {
                self.bulk_import_ratings(batch, audit).await
            }

            async fn insert_ratings(&self, batch: &[$crate::RatingIntake]) -> Result<Vec<$crate::IntakeOutcome>, $crate::StoreError> {
                use std::collections::{HashMap, HashSet};
                let mut tx = self.pool.begin().await?;
                let written: Result<_, $crate::StoreError> = async {
                // Which cases exist, in one query per chunk.
                let mut known: HashSet<String> = HashSet::new();
                let ids: Vec<&str> = batch.iter().map(|i| i.rating.case_id.as_str()).collect();
                for chunk in ids.chunks($crate::sql::BATCH_ROWS) {
                    let mut q = sqlx::QueryBuilder::<$db>::new("SELECT id FROM service_cases WHERE id IN (");
                    let mut sep = q.separated(", ");
                    for id in chunk {
                        sep.push_bind(*id);
                    }
                    q.push(")");
                    for (id,) in q.build_query_as::<(String,)>().fetch_all(&mut *tx).await? {
                        known.insert(id);
                    }
                }
                // The first rating of a case in the batch is the one tried; later ones are
                // already rated.
                let mut out: Vec<Option<$crate::IntakeOutcome>> = vec![None; batch.len()];
                let mut tried: HashMap<&str, usize> = HashMap::new();
                for (i, item) in batch.iter().enumerate() {
                    let case = item.rating.case_id.as_str();
                    if !known.contains(case) {
                        out[i] = Some($crate::IntakeOutcome::UnknownCase);
                    } else if tried.contains_key(case) {
                        out[i] = Some($crate::IntakeOutcome::AlreadyRated);
                    } else {
                        tried.insert(case, i);
                    }
                }
                let mut order: Vec<usize> = tried.values().copied().collect();
                order.sort_unstable();
                let mut stored: HashMap<String, i64> = HashMap::new();
                for chunk in order.chunks($crate::sql::BATCH_ROWS) {
                    let rows = chunk.iter().map(|&i| &batch[i]);
                    stored.extend(Self::insert_rating_rows(&mut tx, rows).await?);
                }
                let opened: Vec<(i64, &$crate::NewRectification)> = order
                    .iter()
                    .filter_map(|&i| {
                        let id = stored.get(batch[i].rating.case_id.as_str())?;
                        batch[i].rectification.as_ref().map(|r| (*id, r))
                    })
                    .collect();
                for chunk in opened.chunks($crate::sql::BATCH_ROWS) {
                    Self::insert_rectification_rows(&mut tx, chunk).await?;
                }
                let ids: Vec<i64> = stored.values().copied().collect();
                Self::seal_ratings_in(&mut tx, &ids).await?;
                Ok((out, stored))
                }
                .await;
                let (out, stored) = match written {
                    Ok(w) => w,
                    Err(e) => {
                        // At once: a dropped transaction rolls back only when its connection
                        // is used again, and SQLite's write lock would wait for that.
                        tx.rollback().await?;
                        return Err(e);
                    }
                };
                tx.commit().await?;
                Ok(out
                    .into_iter()
                    .enumerate()
                    .map(|(i, o)| {
                        o.unwrap_or_else(|| {
                            let item = &batch[i];
                            match stored.get(item.rating.case_id.as_str()) {
                                Some(&id) => $crate::IntakeOutcome::Stored(kaohe_domain::ratings::Rating {
                                    id,
                                    rating: item.rating.clone(),
                                    rated_at: item.rated_at.replace_nanosecond(0).unwrap_or(item.rated_at),
                                    excluded: false,
                                }),
                                None => $crate::IntakeOutcome::AlreadyRated,
                            }
                        })
                    })
                    .collect())
            }

            async fn sealed_ratings(&self, after_id: i64, limit: u32) -> Result<Vec<kaohe_domain::ratings::seal::SealedRating>, $crate::StoreError> {
                let sql = format!(
                    "SELECT {} FROM ratings WHERE id > $1 ORDER BY id LIMIT $2",
                    $crate::ratings::SEAL_COLS
                );
                Ok(sqlx::query_as::<_, $crate::ratings::SealRow>(&sql)
                    .bind(after_id)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::ratings::sealed)
                    .collect())
            }

            async fn sealed_steps(&self, after_key: i64, limit: u32) -> Result<Vec<kaohe_domain::ratings::seal::SealedStep>, $crate::StoreError> {
                let (rating, seq) = kaohe_domain::ratings::seal::SealedStep::of_key(after_key);
                let sql = format!(
                    "SELECT {} FROM rectification_steps WHERE rating_id > $1 OR (rating_id = $1 AND seq > $2) \
                     ORDER BY rating_id, seq LIMIT $3",
                    $crate::ratings::STEP_SEAL_COLS
                );
                Ok(sqlx::query_as::<_, $crate::ratings::StepSealRow>(&sql)
                    .bind(rating)
                    .bind(i32::try_from(seq).unwrap_or(i32::MAX))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::ratings::sealed_step)
                    .collect())
            }

            async fn seal_unsealed(&self) -> Result<u64, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                // Write first, so that SQLite takes its write lock before reading.
                sqlx::query("UPDATE audit_head SET seq = seq").execute(&mut *tx).await?;
                let unsealed = |action: &'static str| {
                    sqlx::query_as::<_, (i64,)>("SELECT seq FROM audit_log WHERE action = $1 LIMIT 1").bind(action)
                };
                let mut sealed = 0u64;
                if unsealed($crate::ratings::RATINGS_SEALED.0).fetch_optional(&mut *tx).await?.is_none() {
                    let sql = format!("SELECT {} FROM ratings ORDER BY id", $crate::ratings::SEAL_COLS);
                    let mut rows: Vec<kaohe_domain::ratings::seal::SealedRating> =
                        sqlx::query_as::<_, $crate::ratings::SealRow>(&sql)
                            .fetch_all(&mut *tx)
                            .await?
                            .into_iter()
                            .map($crate::ratings::sealed)
                            .collect();
                    if !rows.is_empty() {
                        Self::append_audit_in(&mut tx, &$crate::ratings::seal_entry($crate::ratings::RATINGS_SEALED, &mut rows, true)).await?;
                        sealed += rows.len() as u64;
                    }
                }
                if unsealed($crate::ratings::STEPS_SEALED.0).fetch_optional(&mut *tx).await?.is_none() {
                    let sql = format!("SELECT {} FROM rectification_steps ORDER BY rating_id, seq", $crate::ratings::STEP_SEAL_COLS);
                    let mut rows: Vec<kaohe_domain::ratings::seal::SealedStep> =
                        sqlx::query_as::<_, $crate::ratings::StepSealRow>(&sql)
                            .fetch_all(&mut *tx)
                            .await?
                            .into_iter()
                            .map($crate::ratings::sealed_step)
                            .collect();
                    if !rows.is_empty() {
                        Self::append_audit_in(&mut tx, &$crate::ratings::seal_entry($crate::ratings::STEPS_SEALED, &mut rows, true)).await?;
                        sealed += rows.len() as u64;
                    }
                }
                if sealed == 0 {
                    // At once: a dropped transaction would hold the audit head until its
                    // connection is used again.
                    tx.rollback().await?;
                } else {
                    tx.commit().await?;
                }
                Ok(sealed)
            }

            async fn rating_of_case(&self, case: &kaohe_domain::Code) -> Result<Option<kaohe_domain::ratings::Rating>, $crate::StoreError> {
                let sql = format!("SELECT {} FROM ratings r WHERE r.case_id = $1", $crate::ratings::RATING_COLS);
                sqlx::query_as::<_, $crate::ratings::RatingRow>(&sql)
                    .bind(case.as_str())
                    .fetch_optional(&self.pool)
                    .await?
                    .map($crate::ratings::RatingRow::into_domain)
                    .transpose()
            }

            async fn official_tallies(&self, from: i64, to: i64) -> Result<(kaohe_engine::ratings::Tally, Vec<(kaohe_domain::Code, kaohe_engine::ratings::Tally)>), $crate::StoreError> {
                let all = format!("SELECT '' AS k, {} FROM ratings r LEFT JOIN rectifications x ON x.rating_id = r.id WHERE r.rated_at >= $1 AND r.rated_at < $2", $crate::ratings::TALLY_SUMS);
                let (_, all) = sqlx::query_as::<_, $crate::ratings::TallyRow>(&all)
                    .bind(from).bind(to).fetch_one(&self.pool).await?.into_tally()?;
                let by = format!(
                    "SELECT o.cadre AS k, {} FROM ratings r JOIN case_officials o ON o.case_id = r.case_id \
                     LEFT JOIN rectifications x ON x.rating_id = r.id WHERE r.rated_at >= $1 AND r.rated_at < $2 \
                     GROUP BY o.cadre ORDER BY o.cadre",
                    $crate::ratings::TALLY_SUMS
                );
                let rows = sqlx::query_as::<_, $crate::ratings::TallyRow>(&by)
                    .bind(from).bind(to).fetch_all(&self.pool).await?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let (k, t) = row.into_tally()?;
                    out.push(($crate::sql::parse_code("case_officials", "cadre", &k)?, t));
                }
                Ok((all, out))
            }

            async fn rating_facts(&self, from: i64, to: i64) -> Result<Vec<$crate::RatingFacts>, $crate::StoreError> {
                sqlx::query_as::<_, $crate::ratings::FactsRow>(&$crate::ratings::facts_sql(""))
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::ratings::FactsRow::into_domain)
                    .collect()
            }

            async fn unit_rating_facts(&self, unit: &kaohe_domain::Code, from: i64, to: i64) -> Result<Vec<$crate::RatingFacts>, $crate::StoreError> {
                sqlx::query_as::<_, $crate::ratings::FactsRow>(&$crate::ratings::facts_sql("AND c.unit = $3"))
                    .bind(from)
                    .bind(to)
                    .bind(unit.as_str())
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::ratings::FactsRow::into_domain)
                    .collect()
            }

            async fn rectification(&self, rating_id: i64) -> Result<Option<$crate::RectificationRecord>, $crate::StoreError> {
                let head: Option<(String, bool, time::Date, time::Date)> = sqlx::query_as(
                    "SELECT unit, real_name, opened_on, deadline FROM rectifications WHERE rating_id = $1",
                )
                .bind(rating_id)
                .fetch_optional(&self.pool)
                .await?;
                let Some((unit, real_name, opened_on, deadline)) = head else {
                    return Ok(None);
                };
                let sql = format!("SELECT {} FROM ratings r WHERE r.id = $1", $crate::ratings::RATING_COLS);
                let rating = sqlx::query_as::<_, $crate::ratings::RatingRow>(&sql)
                    .bind(rating_id)
                    .fetch_one(&self.pool)
                    .await?
                    .into_domain()?;
                let case = self.get_case(&rating.rating.case_id).await?.ok_or($crate::StoreError::Corrupt {
                    table: "ratings",
                    column: "case_id",
                    reason: "names no case".into(),
                })?;
                let steps = sqlx::query_as::<_, $crate::ratings::StepRow>(
                    "SELECT kind, note, reached, verdict, on_day, actor, at FROM rectification_steps \
                     WHERE rating_id = $1 ORDER BY seq",
                )
                .bind(rating_id)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map($crate::ratings::StepRow::into_domain)
                .collect::<Result<Vec<_>, _>>()?;
                let sql = format!("SELECT {} FROM appeals WHERE rating_id = $1", $crate::ratings::APPEAL_COLS);
                let appeal = sqlx::query_as::<_, $crate::ratings::AppealRow>(&sql)
                    .bind(rating_id)
                    .fetch_optional(&self.pool)
                    .await?
                    .map($crate::ratings::AppealRow::into_domain)
                    .transpose()?;
                let files = sqlx::query_as::<_, (i64, String, String, i64, String)>(
                    "SELECT id, name, kind, size, sha256 FROM appeal_files WHERE rating_id = $1 ORDER BY id",
                )
                .bind(rating_id)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(|(id, name, kind, size, sha256)| $crate::files::file_info("appeal_files", id, name, &kind, size, sha256))
                .collect::<Result<Vec<_>, _>>()?;
                Ok(Some($crate::RectificationRecord {
                    rating,
                    case,
                    unit: $crate::sql::parse_code("rectifications", "unit", &unit)?,
                    real_name,
                    opened_on,
                    deadline,
                    steps,
                    appeal,
                    files,
                }))
            }

            async fn add_step(
                &self,
                rating_id: i64,
                seq: u32,
                step: &kaohe_domain::ratings::rectification::Step,
                state: $crate::RectificationState,
                actor: &str,
                at: i64,
                audit: &kaohe_domain::NewAuditEntry,
            ) -> Result<bool, $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query(
                    "INSERT INTO rectification_steps (rating_id, seq, kind, note, reached, verdict, on_day, actor, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (rating_id, seq) DO NOTHING",
                )
                .bind(rating_id)
                .bind(i32::try_from(seq).unwrap_or(i32::MAX))
                .bind(step.kind.code())
                .bind(step.note.trim())
                .bind(step.reached)
                .bind(step.verdict.map(|v| v.code()))
                .bind(step.on)
                .bind(actor)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                sqlx::query("UPDATE rectifications SET status = $2, closed_on = $3, called_back = $4 WHERE rating_id = $1")
                    .bind(rating_id)
                    .bind(state.status.code())
                    .bind(state.closed_on)
                    .bind(state.called_back)
                    .execute(&mut *tx)
                    .await?;
                Self::append_audit_in(&mut tx, audit).await?;
                let sql = format!(
                    "SELECT {} FROM rectification_steps WHERE rating_id = $1 AND seq = $2",
                    $crate::ratings::STEP_SEAL_COLS
                );
                let mut stored: Vec<kaohe_domain::ratings::seal::SealedStep> =
                    sqlx::query_as::<_, $crate::ratings::StepSealRow>(&sql)
                        .bind(rating_id)
                        .bind(i32::try_from(seq).unwrap_or(i32::MAX))
                        .fetch_all(&mut *tx)
                        .await?
                        .into_iter()
                        .map($crate::ratings::sealed_step)
                        .collect();
                Self::append_audit_in(&mut tx, &$crate::ratings::seal_entry($crate::ratings::STEPS_SEALED, &mut stored, false)).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn rectification_queue(
                &self,
                units: Option<&[kaohe_domain::Code]>,
                open_only: bool,
                limit: u32,
            ) -> Result<Vec<$crate::QueueItem>, $crate::StoreError> {
                let mut q = sqlx::QueryBuilder::<$db>::new($crate::ratings::QUEUE_SELECT);
                if open_only {
                    q.push(" AND x.status <> 'closed'");
                }
                if let Some(units) = units {
                    if units.is_empty() {
                        return Ok(Vec::new());
                    }
                    q.push(" AND x.unit IN (");
                    let mut sep = q.separated(", ");
                    for u in units {
                        sep.push_bind(u.as_str());
                    }
                    q.push(")");
                }
                q.push(" ORDER BY x.deadline, x.rating_id LIMIT ");
                q.push_bind(i64::from(limit));
                q.build_query_as::<$crate::ratings::QueueRow>()
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::ratings::QueueRow::into_domain)
                    .collect()
            }

            async fn open_rectifications_of(
                &self,
                official: &kaohe_domain::Code,
                limit: u32,
            ) -> Result<Vec<$crate::QueueItem>, $crate::StoreError> {
                let mut q = sqlx::QueryBuilder::<$db>::new($crate::ratings::QUEUE_SELECT);
                q.push(
                    " AND x.status <> 'closed' AND EXISTS (SELECT 1 FROM case_officials o \
                     WHERE o.case_id = c.id AND o.cadre = ",
                );
                q.push_bind(official.as_str());
                q.push(") ORDER BY x.deadline, x.rating_id LIMIT ");
                q.push_bind(i64::from(limit));
                q.build_query_as::<$crate::ratings::QueueRow>()
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::ratings::QueueRow::into_domain)
                    .collect()
            }

            async fn file_appeal_with(
                &self,
                appeal: &$crate::Appeal,
                files: &[$crate::NewFile],
                audit: &kaohe_domain::NewAuditEntry,
            ) -> Result<bool, $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query(
                    "INSERT INTO appeals (rating_id, ground, evidence, filed_by, filed_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (rating_id) DO NOTHING",
                )
                .bind(appeal.rating_id)
                .bind(appeal.ground.code())
                .bind(appeal.evidence.as_str())
                .bind(appeal.filed_by.as_str())
                .bind(appeal.filed_at)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                for f in files {
                    sqlx::query(
                        "INSERT INTO appeal_files (rating_id, name, kind, size, sha256, data) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(appeal.rating_id)
                    .bind(f.name.as_str())
                    .bind(f.kind.code())
                    .bind(i64::try_from(f.bytes.len()).unwrap_or(i64::MAX))
                    .bind(f.sha256.as_str())
                    .bind(f.bytes.as_slice())
                    .execute(&mut *tx)
                    .await?;
                }
                Self::append_audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn appeal_file(&self, rating_id: i64, file_id: i64) -> Result<Option<($crate::FileInfo, Vec<u8>)>, $crate::StoreError> {
                let row: Option<(i64, String, String, i64, String, Vec<u8>)> = sqlx::query_as(
                    "SELECT id, name, kind, size, sha256, data FROM appeal_files WHERE rating_id = $1 AND id = $2",
                )
                .bind(rating_id)
                .bind(file_id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(id, name, kind, size, sha256, data)| {
                    Ok(($crate::files::file_info("appeal_files", id, name, &kind, size, sha256)?, data))
                })
                .transpose()
            }

            async fn decide_appeal(
                &self,
                rating_id: i64,
                decision: kaohe_domain::ratings::AppealDecision,
                reason: &str,
                by: &str,
                at: i64,
                audit: &kaohe_domain::NewAuditEntry,
            ) -> Result<bool, $crate::StoreError> {
                use kaohe_domain::Labeled;
                let mut tx = self.pool.begin().await?;
                let involved: Vec<(String,)> = sqlx::query_as(
                    "SELECT filed_by FROM appeals WHERE rating_id = $1 \
                     UNION SELECT actor FROM rectification_steps WHERE rating_id = $1",
                )
                .bind(rating_id)
                .fetch_all(&mut *tx)
                .await?;
                if let Err(e) = kaohe_domain::access::check_four_eyes(involved.iter().map(|(who,)| who.as_str()), by) {
                    tx.rollback().await?;
                    return Err(e.into());
                }
                let done = sqlx::query(
                    "UPDATE appeals SET decision = $2, reason = $3, decided_by = $4, decided_at = $5 \
                     WHERE rating_id = $1 AND decision IS NULL",
                )
                .bind(rating_id)
                .bind(decision.code())
                .bind(reason)
                .bind(by)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                if decision == kaohe_domain::ratings::AppealDecision::Upheld {
                    sqlx::query("UPDATE ratings SET excluded = TRUE WHERE id = $1")
                        .bind(rating_id)
                        .execute(&mut *tx)
                        .await?;
                }
                Self::append_audit_in(&mut tx, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn appeals(&self, pending_only: bool) -> Result<Vec<$crate::Appeal>, $crate::StoreError> {
                let sql = format!(
                    "SELECT {} FROM appeals {} ORDER BY decision IS NOT NULL, filed_at, rating_id",
                    $crate::ratings::APPEAL_COLS,
                    if pending_only { "WHERE decision IS NULL" } else { "" }
                );
                sqlx::query_as::<_, $crate::ratings::AppealRow>(&sql)
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map($crate::ratings::AppealRow::into_domain)
                    .collect()
            }

            async fn escalation_candidates(
                &self,
                today: time::Date,
            ) -> Result<Vec<$crate::EscalationCandidate>, $crate::StoreError> {
                sqlx::query_as::<_, $crate::ratings::escalation::CandidateRow>(
                    "SELECT x.rating_id, x.unit, x.deadline, x.status FROM rectifications x \
                     JOIN ratings r ON r.id = x.rating_id \
                     WHERE x.status <> 'closed' AND x.deadline < $1 AND NOT r.excluded \
                     AND NOT EXISTS (SELECT 1 FROM rectification_escalations e WHERE e.rating_id = x.rating_id) \
                     ORDER BY x.deadline, x.rating_id",
                )
                .bind(today)
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map($crate::ratings::escalation::CandidateRow::into_domain)
                .collect()
            }

            async fn record_escalations(
                &self,
                escalations: &[($crate::Escalation, kaohe_domain::NewAuditEntry)],
            ) -> Result<Vec<i64>, $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                let mut recorded = Vec::new();
                for (e, audit) in escalations {
                    let done = sqlx::query(
                        "INSERT INTO rectification_escalations (rating_id, due_on, on_day, leaders, assessors, at) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (rating_id) DO NOTHING",
                    )
                    .bind(e.rating_id)
                    .bind(e.due_on)
                    .bind(e.on)
                    .bind($crate::ratings::escalation::names_text(&e.leaders))
                    .bind($crate::ratings::escalation::names_text(&e.assessors))
                    .bind(e.at)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 1 {
                        Self::append_audit_in(&mut tx, audit).await?;
                        recorded.push(e.rating_id);
                    }
                }
                tx.commit().await?;
                Ok(recorded)
            }

            async fn escalation(&self, rating_id: i64) -> Result<Option<$crate::Escalation>, $crate::StoreError> {
                let sql = format!(
                    "SELECT {} FROM rectification_escalations e JOIN rectifications x ON x.rating_id = e.rating_id \
                     WHERE e.rating_id = $1",
                    $crate::ratings::escalation::ESCALATION_COLS
                );
                sqlx::query_as::<_, $crate::ratings::escalation::EscalationRow>(&sql)
                    .bind(rating_id)
                    .fetch_optional(&self.pool)
                    .await?
                    .map($crate::ratings::escalation::EscalationRow::into_domain)
                    .transpose()
            }

            async fn open_escalations(&self) -> Result<Vec<(i64, kaohe_domain::Code)>, $crate::StoreError> {
                let rows: Vec<(i64, String)> = sqlx::query_as(
                    "SELECT x.rating_id, x.unit FROM rectification_escalations e \
                     JOIN rectifications x ON x.rating_id = e.rating_id \
                     JOIN ratings r ON r.id = x.rating_id \
                     WHERE x.status <> 'closed' AND NOT r.excluded ORDER BY x.deadline, x.rating_id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(id, unit)| Ok((id, $crate::sql::parse_code("rectifications", "unit", &unit)?)))
                    .collect()
            }
        }
    };
}
pub(crate) use impl_rating_store;
