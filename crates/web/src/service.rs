//! Public service ratings (好差评) on the web: intake through the API (service systems, with
//! a token) and through the public rating page, the group-commit writer that stores them, and
//! the JSON figures. The pages of the rectification queue, appeals and figures are in
//! [`crate::service_pages`].
//!
//! A rating is acknowledged (201) only after the transaction that stores it has committed
//! (with SQLite's `synchronous = FULL`, it is on disk). Ratings that arrive together are
//! committed together by one writer task ([`RatingWriter`]), so that intake keeps up with many
//! clients without giving up that guarantee.

use crate::AppState;
use crate::access::{Caller, Permission, RequirePermission, Target};
use crate::error::ApiError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kaohe_domain::ratings::Rating;
use kaohe_domain::ratings::rectification::RectificationPolicy;
use kaohe_domain::ratings::suspicion::SuspicionPolicy;
use kaohe_domain::ratings::{
    Channel, IntakeError, NewRating, Phone, RatingLevel, RatingPolicy, ReasonTag, ServiceCase,
    rating_code,
};
use kaohe_domain::{Code, Labeled, NewAuditEntry, Unit, WorkCalendar};
use kaohe_engine::ratings::{GroupFigures, RatingObs, RectificationObs, Tally, by_group};
use kaohe_store::{IntakeOutcome, IntakeRefused, RatingFacts, RatingIntake, Store, StoredCase};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};
use time::{Date, OffsetDateTime};
use tokio::sync::{mpsc, oneshot};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Pre-session cookie carrying the public rating form's CSRF token.
pub const RATE_COOKIE: &str = "kaohe_rate";

/// Most cases one `POST /api/v1/cases` may carry.
pub const MAX_CASES_PER_REQUEST: usize = 1000;

/// Settings of ratings, rectification and the figures.
#[derive(Debug, Clone, Copy)]
pub struct ServiceSettings {
    /// Intake rules: the rating window and the most tags.
    pub rating: RatingPolicy,
    /// The rectification deadline.
    pub rectification: RectificationPolicy,
    /// What counts as suspicious.
    pub suspicion: SuspicionPolicy,
    /// Ratings the public rating form takes from one IP at once.
    pub public_burst: u32,
    /// Public ratings given back to an IP per minute.
    pub public_per_minute: u32,
    /// Strength of the prior (in ratings) of the shrunk satisfaction rate.
    pub prior_strength: f64,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        Self {
            rating: RatingPolicy::default(),
            rectification: RectificationPolicy::default(),
            suspicion: SuspicionPolicy::default(),
            public_burst: 20,
            public_per_minute: 2,
            prior_strength: 20.0,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The writer

/// Most ratings committed in one transaction.
const MAX_BATCH: usize = 256;

/// A rating taken: stored, with its rectification's deadline for a bad review.
#[derive(Debug, Clone)]
pub(crate) struct Accepted {
    /// The stored rating.
    pub(crate) rating: Rating,
    /// Deadline of the rectification it opened.
    pub(crate) deadline: Option<Date>,
}

type Reply = oneshot::Sender<Result<Accepted, ApiError>>;

/// What the writer needs of the application state.
#[derive(Clone)]
struct WriterContext {
    store: Arc<dyn Store>,
    settings: ServiceSettings,
    utc_offset: time::UtcOffset,
}

/// Stores ratings through one task that takes whatever has queued up, reads their cases in one
/// query, checks each by the intake rules and commits them all in one transaction (group
/// commit), then answers each sender. Started on first use.
#[derive(Clone, Default)]
pub struct RatingWriter {
    queue: Arc<OnceLock<mpsc::Sender<(NewRating, OffsetDateTime, Reply)>>>,
}

impl std::fmt::Debug for RatingWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RatingWriter")
            .field("started", &self.queue.get().is_some())
            .finish()
    }
}

impl RatingWriter {
    /// Checks and stores one rating received at `now`; answers once its transaction has
    /// committed.
    async fn submit(
        &self,
        state: &AppState,
        rating: NewRating,
        now: OffsetDateTime,
    ) -> Result<Accepted, ApiError> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
            let context = WriterContext {
                store: state.store.clone(),
                settings: state.service,
                utc_offset: state.utc_offset,
            };
            tokio::spawn(run_writer(context, rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        queue
            .send((rating, now, reply))
            .await
            .map_err(|_| ApiError::Unavailable)?;
        answer.await.map_err(|_| ApiError::Unavailable)?
    }
}

async fn run_writer(
    context: WriterContext,
    mut rx: mpsc::Receiver<(NewRating, OffsetDateTime, Reply)>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let taken = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
        if let Err(e) = write_batch(&context, taken).await {
            tracing::error!(error = %crate::error::cause_chain(&e), "storing ratings failed");
        }
    }
}

/// One batch: its cases in one read, the rules, one transaction, the answers.
async fn write_batch(
    context: &WriterContext,
    taken: Vec<(NewRating, OffsetDateTime, Reply)>,
) -> Result<(), kaohe_store::StoreError> {
    let store = context.store.as_ref();
    let ids: Vec<Code> = taken
        .iter()
        .map(|(r, _, _)| r.case_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let (cases, calendar) = match store.cases_by_ids(&ids).await {
        Ok(cases) if taken.iter().any(|(r, _, _)| r.level.is_bad()) => {
            match store.calendar().await {
                Ok(entries) => (cases, WorkCalendar::new(&entries)),
                Err(e) => return fail_all(taken, e),
            }
        }
        Ok(cases) => (cases, WorkCalendar::default()),
        Err(e) => return fail_all(taken, e),
    };
    let cases: HashMap<&Code, &StoredCase> = cases.iter().map(|c| (&c.case.id, c)).collect();
    let mut intakes = Vec::with_capacity(taken.len());
    let mut waiting = Vec::with_capacity(taken.len());
    for (rating, now, reply) in taken {
        let Some(case) = cases.get(&rating.case_id) else {
            let _ = reply.send(Err(ApiError::not_found("case", rating.case_id.as_str())));
            continue;
        };
        match RatingIntake::prepare(
            case,
            rating,
            now,
            context.utc_offset,
            &context.settings.rating,
            &calendar,
            &context.settings.rectification,
        ) {
            Ok(intake) => {
                waiting.push((reply, intake.rectification.as_ref().map(|r| r.deadline)));
                intakes.push(intake);
            }
            Err(e) => {
                let _ = reply.send(Err(refused(e)));
            }
        }
    }
    if intakes.is_empty() {
        return Ok(());
    }
    match store.insert_ratings(&intakes).await {
        Ok(outcomes) => {
            for (((reply, deadline), outcome), intake) in
                waiting.into_iter().zip(outcomes).zip(&intakes)
            {
                let answer = match outcome {
                    IntakeOutcome::Stored(rating) => Ok(Accepted { rating, deadline }),
                    IntakeOutcome::AlreadyRated => Err(already_rated(&intake.rating.case_id)),
                    IntakeOutcome::UnknownCase => {
                        Err(ApiError::not_found("case", intake.rating.case_id.as_str()))
                    }
                };
                let _ = reply.send(answer);
            }
            Ok(())
        }
        Err(e) => {
            for (reply, _) in waiting {
                let _ = reply.send(Err(ApiError::Unavailable));
            }
            Err(e)
        }
    }
}

fn fail_all(
    taken: Vec<(NewRating, OffsetDateTime, Reply)>,
    e: kaohe_store::StoreError,
) -> Result<(), kaohe_store::StoreError> {
    for (_, _, reply) in taken {
        let _ = reply.send(Err(ApiError::Unavailable));
    }
    Err(e)
}

/// Checks and stores one rating received now: the one path of the API and of the public page.
pub(crate) async fn take_rating(state: &AppState, rating: NewRating) -> Result<Accepted, ApiError> {
    state
        .rating_writer
        .submit(state, rating, OffsetDateTime::now_utc())
        .await
}

fn already_rated(case: &Code) -> ApiError {
    ApiError::Conflict {
        code: "already_rated",
        reason: IntakeError::AlreadyRated(case.as_str().to_owned()).to_string(),
    }
}

fn refused(e: IntakeRefused) -> ApiError {
    match e {
        IntakeRefused::Rule(rule) => match rule {
            IntakeError::AlreadyRated(case) => ApiError::Conflict {
                code: "already_rated",
                reason: IntakeError::AlreadyRated(case).to_string(),
            },
            IntakeError::WindowClosed { .. } => ApiError::Refused {
                code: "rating_window_closed",
                reason: rule.to_string(),
            },
            IntakeError::NotClosed(_) => ApiError::Refused {
                code: "case_not_closed",
                reason: rule.to_string(),
            },
            IntakeError::TooManyTags(_) | IntakeError::DuplicateTag(_) => {
                ApiError::invalid_field("tags", rule.to_string())
            }
            IntakeError::CommentTooLong => ApiError::invalid_field("comment", rule.to_string()),
        },
        IntakeRefused::Calendar(c) => ApiError::Refused {
            code: "date_out_of_range",
            reason: c.to_string(),
        },
    }
}

/// A new unguessable rating-page code.
pub(crate) fn new_rating_code() -> String {
    let mut bytes = [0u8; 10];
    rand::rng().fill_bytes(&mut bytes);
    rating_code(&bytes)
}

// ---------------------------------------------------------------------------------------------
// Scope

/// The units on which the caller holds `permission`, with every unit's ancestors resolved in
/// memory from one read of the unit tree.
pub(crate) async fn units_in_scope(
    store: &dyn Store,
    caller: &Caller,
    permission: Permission,
) -> Result<Vec<Unit>, ApiError> {
    let units = store.all_units().await?;
    let tree = kaohe_domain::UnitTree::new(&units);
    let mut out = Vec::new();
    for u in &units {
        let ancestors = tree.ancestors(&u.code);
        let target = Target::Unit {
            code: &u.code,
            ancestors: &ancestors,
        };
        if caller.0.may(permission, target) {
            out.push(u.clone());
        }
    }
    Ok(out)
}

/// Checks that the caller holds `permission` on `unit`.
pub(crate) async fn check_unit(
    store: &dyn Store,
    caller: &Caller,
    permission: Permission,
    unit: &Code,
) -> Result<(), ApiError> {
    let ancestors = crate::data::ancestor_codes(store, unit).await?;
    caller.check(
        permission,
        Target::Unit {
            code: unit,
            ancestors: &ancestors,
        },
    )
}

/// How many escalated rectifications still open went to the caller (督办): those of the units
/// whose leader they are, or which their assessor scope covers, by the one rule of
/// `kaohe_domain::ratings::escalation::recipient`. Zero for everyone else.
pub(crate) async fn escalated_to(store: &dyn Store, caller: &Caller) -> Result<usize, ApiError> {
    let kaohe_domain::Principal::User(user) = &caller.0 else {
        return Ok(0);
    };
    if user.units.is_empty() {
        return Ok(0);
    }
    let open = store.open_escalations().await?;
    if open.is_empty() {
        return Ok(0);
    }
    let tree = kaohe_domain::UnitTree::new(&store.all_units().await?);
    Ok(open
        .iter()
        .filter(|(_, unit)| {
            kaohe_domain::ratings::escalation::recipient(user, unit, &tree.ancestors(unit))
                .is_some()
        })
        .count())
}

// ---------------------------------------------------------------------------------------------
// Figures

/// How figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Responsible unit.
    Unit,
    /// Handling official.
    Official,
    /// Service window.
    Window,
    /// Service item.
    Item,
}

impl GroupBy {
    /// Every grouping.
    pub const ALL: [GroupBy; 4] = [
        GroupBy::Unit,
        GroupBy::Official,
        GroupBy::Window,
        GroupBy::Item,
    ];

    /// The grouping's code: `unit`, `official`, `window`, `item`.
    pub fn code(self) -> &'static str {
        match self {
            GroupBy::Unit => "unit",
            GroupBy::Official => "official",
            GroupBy::Window => "window",
            GroupBy::Item => "item",
        }
    }

    /// The grouping of a code.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.code() == s)
    }
}

/// Figures of the ratings of a period, grouped, for the units in the caller's scope.
pub(crate) struct FiguresResult {
    /// All ratings in scope together.
    pub(crate) all: Tally,
    /// Per group, ordered by key.
    pub(crate) groups: Vec<GroupFigures<String>>,
    /// Ratings flagged as suspicious, by id, with the kinds.
    pub(crate) flagged: Vec<(i64, Code, Vec<&'static str>)>,
}

/// First day of the default period of the figures: the last 12 months up to `today`.
pub fn default_period_start(today: Date) -> Date {
    let year_ago = today
        .replace_year(today.year() - 1)
        .or_else(|_| (today - time::Duration::days(1)).replace_year(today.year() - 1))
        .unwrap_or(today);
    year_ago.next_day().unwrap_or(year_ago)
}

/// The unix seconds `[start, end)` of the local days `from` to `to`.
pub fn period_bounds(from: Date, to: Date, offset: time::UtcOffset) -> (i64, i64) {
    let start = from.midnight().assume_offset(offset).unix_timestamp();
    let end = to
        .next_day()
        .unwrap_or(to)
        .midnight()
        .assume_offset(offset)
        .unix_timestamp();
    (start, end)
}

/// Tallies ratings by group and shrinks each group's satisfaction toward all of them together:
/// the one grouping of the figures pages, the API and `kaohe ratings figures`.
pub fn figures_of(
    facts: &[RatingFacts],
    by: GroupBy,
    prior_strength: f64,
) -> (Tally, Vec<GroupFigures<String>>) {
    let obs = |f: &RatingFacts| RatingObs {
        level: f.rating.rating.level,
        excluded: f.rating.excluded,
        rectification: f.rectification.map(|(s, deadline)| RectificationObs {
            closed_on_time: s.closed_on.map(|d| d <= deadline),
            called_back: s.called_back,
        }),
    };
    by_group(
        facts.iter().map(|f| (f, obs(f))),
        |f: &&RatingFacts| match by {
            GroupBy::Unit => vec![f.unit.to_string()],
            GroupBy::Official => f.officials.iter().map(Code::to_string).collect(),
            GroupBy::Window => f.window.iter().map(Code::to_string).collect(),
            GroupBy::Item => vec![f.item.clone()],
        },
        prior_strength,
    )
}

/// Computes the figures of ratings received in `[from, to]` (local days).
pub(crate) async fn figures(
    state: &AppState,
    caller: &Caller,
    by: GroupBy,
    from: Date,
    to: Date,
) -> Result<FiguresResult, ApiError> {
    let scope: BTreeSet<Code> =
        units_in_scope(state.store.as_ref(), caller, Permission::ViewServiceFigures)
            .await?
            .into_iter()
            .map(|u| u.code)
            .collect();
    let (start, end) = period_bounds(from, to, state.utc_offset);
    let facts: Vec<RatingFacts> = state
        .store
        .rating_facts(start, end)
        .await?
        .into_iter()
        .filter(|f| scope.contains(&f.unit))
        .collect();
    let (all, groups) = figures_of(&facts, by, state.service.prior_strength);
    let contacts: Vec<Option<String>> = facts
        .iter()
        .map(|f| {
            f.rating
                .rating
                .contact
                .as_ref()
                .or(f.phone.as_ref())
                .map(|p| p.reveal().to_owned())
        })
        .collect();
    let suspicion_facts: Vec<kaohe_domain::ratings::suspicion::RatingFact<'_>> = facts
        .iter()
        .zip(&contacts)
        .map(|(f, c)| kaohe_domain::ratings::suspicion::RatingFact {
            id: f.rating.id,
            rated_at: f.rating.rated_at,
            officials: &f.officials,
            case_id: &f.rating.rating.case_id,
            contact: c.as_deref(),
        })
        .collect();
    let policy = SuspicionPolicy {
        utc_offset: state.utc_offset,
        ..state.service.suspicion
    };
    let cases: HashMap<i64, &Code> = facts
        .iter()
        .map(|f| (f.rating.id, &f.rating.rating.case_id))
        .collect();
    let flagged = kaohe_domain::ratings::suspicion::flag(&suspicion_facts, &policy)
        .into_iter()
        .filter_map(|(id, kinds)| {
            cases.get(&id).map(|case| {
                (
                    id,
                    (*case).clone(),
                    kinds.into_iter().map(|k| k.code()).collect(),
                )
            })
        })
        .collect();
    Ok(FiguresResult {
        all,
        groups,
        flagged,
    })
}

// ---------------------------------------------------------------------------------------------
// JSON API

/// The API routes of service ratings.
pub(crate) fn api_router() -> OpenApiRouter<AppState> {
    let push = OpenApiRouter::new()
        .routes(routes!(push_cases))
        .routes(routes!(post_rating))
        .require(Permission::PushServiceData);
    let figures = OpenApiRouter::new()
        .routes(routes!(get_figures))
        .require(Permission::ViewServiceFigures);
    push.merge(figures)
}

/// Parses a JSON body, naming the field at fault.
fn parse_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // A missing field is reported at its parent (an unknown one at itself): name it.
        let missing = inner
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name.to_owned(),
            (".", None) => "body".to_owned(),
            (parent, Some(name)) => format!("{parent}.{name}"),
            (p, None) => p.to_owned(),
        };
        ApiError::invalid_field(field, inner)
    })
}

/// A service case as a service system pushes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaseIn {
    /// Case number (办件编号).
    #[schema(example = "BJ-2026-000123")]
    id: String,
    /// Service item (事项名称).
    #[schema(example = "不动产登记")]
    item: String,
    /// Code of the responsible unit.
    unit: String,
    /// Code of the service window.
    #[serde(default)]
    window: Option<String>,
    /// Cadre ids of the handling officials, main one first.
    #[serde(default)]
    officials: Vec<String>,
    /// Channel code: window, online, mobile, qr_code, hotline, sms, self_service.
    #[schema(value_type = String, example = "window")]
    channel: Channel,
    /// Accepted (受理), RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, example = "2026-03-02T09:00:00+08:00")]
    accepted_at: OffsetDateTime,
    /// Closed (办结), RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, example = "2026-03-04T15:00:00+08:00")]
    closed_at: OffsetDateTime,
    /// Applicant's name.
    #[serde(default)]
    applicant: Option<String>,
    /// Applicant's phone, for the callback.
    #[serde(default)]
    phone: Option<String>,
}

/// Cases pushed at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CasesIn {
    /// The cases, at most 1,000.
    cases: Vec<CaseIn>,
}

/// A stored case and where it is rated.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CaseOut {
    /// Case number.
    id: String,
    /// Path of its public rating page, for the receipt's QR code.
    #[schema(example = "/rate/k3q8d0x2m5v7b1c9")]
    rate_path: String,
}

fn field<T, E: std::fmt::Display>(
    name: impl FnOnce() -> String,
    r: Result<T, E>,
) -> Result<T, ApiError> {
    r.map_err(|e| ApiError::invalid_field(name(), e.to_string()))
}

/// `POST /api/v1/cases`: a service system reports closed cases (insert or update by id).
#[utoipa::path(
    post,
    path = "/api/v1/cases",
    tag = "ratings",
    request_body = CasesIn,
    responses(
        (status = 200, description = "Stored; each case with the path of its rating page", body = [CaseOut]),
        (status = 401, description = "No valid token", body = crate::error::ErrorBody),
        (status = 422, description = "A field is invalid, or names an unknown unit or official", body = crate::error::ErrorBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn push_cases(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Json<Vec<CaseOut>>, ApiError> {
    let input: CasesIn = parse_body(&body)?;
    if input.cases.len() > MAX_CASES_PER_REQUEST {
        return Err(ApiError::invalid_field(
            "cases",
            format!("at most {MAX_CASES_PER_REQUEST} cases per request"),
        ));
    }
    let store = state.store.as_ref();
    let mut known_units = HashMap::new();
    let mut known_cadres = HashMap::new();
    let mut seen = BTreeSet::new();
    let mut stored = Vec::with_capacity(input.cases.len());
    for (i, c) in input.cases.into_iter().enumerate() {
        let at = |f: &str| format!("cases[{i}].{f}");
        let id = field(|| at("id"), Code::parse(&c.id))?;
        if !seen.insert(id.clone()) {
            return Err(ApiError::invalid_field(at("id"), "the same case twice"));
        }
        let unit = field(|| at("unit"), Code::parse(&c.unit))?;
        if !*known_units
            .entry(unit.clone())
            .or_insert(store.get_unit(&unit).await?.is_some())
        {
            return Err(ApiError::invalid_field(
                at("unit"),
                format!("no unit {unit}"),
            ));
        }
        let mut officials = Vec::with_capacity(c.officials.len());
        for (j, o) in c.officials.iter().enumerate() {
            let o = field(|| at(&format!("officials[{j}]")), Code::parse(o))?;
            if !*known_cadres
                .entry(o.clone())
                .or_insert(store.get_cadre(&o).await?.is_some())
            {
                return Err(ApiError::invalid_field(
                    at(&format!("officials[{j}]")),
                    format!("no cadre {o}"),
                ));
            }
            officials.push(o);
        }
        let case = ServiceCase {
            id,
            item: c.item.trim().to_owned(),
            unit,
            window: c
                .window
                .as_deref()
                .filter(|w| !w.trim().is_empty())
                .map(|w| field(|| at("window"), Code::parse(w)))
                .transpose()?,
            officials,
            channel: c.channel,
            accepted_at: c.accepted_at,
            closed_at: c.closed_at,
            applicant: c.applicant.filter(|a| !a.trim().is_empty()),
            phone: c
                .phone
                .as_deref()
                .filter(|p| !p.trim().is_empty())
                .map(|p| field(|| at("phone"), Phone::parse(p)))
                .transpose()?,
        };
        case.check().map_err(|e| {
            let name = match e {
                kaohe_domain::ratings::CaseError::Empty(f)
                | kaohe_domain::ratings::CaseError::TooLong(f) => f,
                kaohe_domain::ratings::CaseError::ClosedBeforeAccepted => "closed_at",
                kaohe_domain::ratings::CaseError::DuplicateOfficial(_) => "officials",
            };
            ApiError::invalid_field(at(name), e.to_string())
        })?;
        stored.push(StoredCase {
            case,
            rating_code: new_rating_code(),
        });
    }
    let actor = caller.0.username().unwrap_or("api").to_owned();
    let audit = NewAuditEntry::new(&actor, "cases.push", "service_cases")
        .after(format!(r#"{{"cases":{}}}"#, stored.len()));
    store.upsert_cases(&stored, &audit).await?;
    // A case pushed again keeps its first code: read back the codes in one query.
    let ids: Vec<Code> = stored.iter().map(|s| s.case.id.clone()).collect();
    let codes: HashMap<Code, String> = store
        .cases_by_ids(&ids)
        .await?
        .into_iter()
        .map(|c| (c.case.id, c.rating_code))
        .collect();
    let out = ids
        .into_iter()
        .map(|id| CaseOut {
            rate_path: format!("/rate/{}", codes.get(&id).map_or("", String::as_str)),
            id: id.to_string(),
        })
        .collect();
    Ok(Json(out))
}

/// A rating as a service system sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RatingIn {
    /// Case number.
    #[schema(example = "BJ-2026-000123")]
    case_id: String,
    /// Level: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.
    #[schema(minimum = 1, maximum = 5, example = 5)]
    level: u8,
    /// Reason tag codes.
    #[serde(default)]
    #[schema(value_type = Vec<String>, example = json!(["efficient"]))]
    tags: Vec<ReasonTag>,
    /// Free comment.
    #[serde(default)]
    comment: Option<String>,
    /// Channel code of the rating.
    #[schema(value_type = String, example = "online")]
    channel: Channel,
    /// Given under the rater's name (a bad review then needs a callback).
    #[serde(default)]
    real_name: bool,
    /// Phone for the callback, if other than the applicant's.
    #[serde(default)]
    contact: Option<String>,
}

/// A stored rating.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RatingOut {
    /// Rating number.
    id: i64,
    /// Case number.
    case_id: String,
    /// Level, 1–5.
    level: u8,
    /// Received, RFC 3339.
    rated_at: String,
    /// For a bad review: the deadline of its rectification.
    #[serde(skip_serializing_if = "Option::is_none")]
    rectification_deadline: Option<String>,
}

/// `POST /api/v1/ratings`: a rating of a closed case, one per case.
#[utoipa::path(
    post,
    path = "/api/v1/ratings",
    tag = "ratings",
    request_body = RatingIn,
    responses(
        (status = 201, description = "Stored and committed", body = RatingOut),
        (status = 401, description = "No valid token", body = crate::error::ErrorBody),
        (status = 404, description = "No such case", body = crate::error::ErrorBody),
        (status = 409, description = "The case was rated already", body = crate::error::ErrorBody),
        (status = 422, description = "A field is invalid, or the rating window is closed", body = crate::error::ErrorBody),
    ),
    security(("token" = []))
)]
pub(crate) async fn post_rating(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: RatingIn = parse_body(&body)?;
    let case_id = field(|| "case_id".to_owned(), Code::parse(&input.case_id))?;
    let level = RatingLevel::from_value(input.level)
        .ok_or_else(|| ApiError::invalid_field("level", "a level is 1 to 5"))?;
    let contact = input
        .contact
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(|c| field(|| "contact".to_owned(), Phone::parse(c)))
        .transpose()?;
    let rating = NewRating {
        case_id,
        level,
        tags: input.tags,
        comment: input.comment,
        channel: input.channel,
        real_name: input.real_name,
        contact,
    };
    let Accepted {
        rating: stored,
        deadline,
    } = take_rating(&state, rating).await?;
    let out = RatingOut {
        id: stored.id,
        case_id: stored.rating.case_id.to_string(),
        level: stored.rating.level.value(),
        rated_at: stored
            .rated_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        rectification_deadline: deadline.map(|d| d.to_string()),
    };
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// Query of the figures.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct FiguresQuery {
    /// Grouping: unit, official, window or item (default unit).
    by: Option<String>,
    /// First day, YYYY-MM-DD (default: the day after the same day a year ago: the last 12
    /// months).
    from: Option<String>,
    /// Last day, YYYY-MM-DD (default: today).
    to: Option<String>,
}

/// The period and grouping of a figures query, with defaults.
pub(crate) fn figures_params(
    state: &AppState,
    by: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(GroupBy, Date, Date), ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let today = state.today();
    let day = |name: &str, v: Option<&str>, default: Date| match v.filter(|v| !v.is_empty()) {
        Some(v) => Date::parse(v, &format)
            .map_err(|e| ApiError::invalid_param(name, format!("{v:?}: {e}; expected YYYY-MM-DD"))),
        None => Ok(default),
    };
    let from = day("from", from, default_period_start(today))?;
    let to = day("to", to, today)?;
    if to < from {
        return Err(ApiError::invalid_param("to", "before `from`"));
    }
    let by = match by.filter(|b| !b.is_empty()) {
        Some(b) => GroupBy::parse(b).ok_or_else(|| {
            ApiError::invalid_param(
                "by",
                format!("{b:?}: expected unit, official, window or item"),
            )
        })?,
        None => GroupBy::Unit,
    };
    Ok((by, from, to))
}

/// Figures of one group.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GroupOut {
    /// Unit code, cadre id, window code or service item.
    key: String,
    /// Ratings counted.
    ratings: u64,
    /// Ratings excluded by upheld appeals.
    excluded: u64,
    /// Satisfaction rate (levels 3–5), 0–1.
    satisfaction_rate: Option<f64>,
    /// Bad-review rate (levels 1–2), 0–1.
    bad_rate: Option<f64>,
    /// Bad reviews whose rectification closed, 0–1.
    rectification_rate: Option<f64>,
    /// Rectifications closed by their deadline, 0–1.
    on_time_rate: Option<f64>,
    /// Bad reviews called back, 0–1.
    callback_rate: Option<f64>,
    /// Satisfaction shrunk toward all groups' rate, for rankings, 0–1.
    shrunk_satisfaction: f64,
    /// 95% interval of the shrunk satisfaction.
    shrunk_interval: [f64; 2],
}

/// Figures of a period.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FiguresOut {
    /// Grouping.
    by: String,
    /// First day.
    from: String,
    /// Last day.
    to: String,
    /// Ratings counted in scope.
    ratings: u64,
    /// Per group.
    groups: Vec<GroupOut>,
    /// Ratings flagged for review: id, case, kinds (burst, repeat_contact, odd_hour).
    #[schema(value_type = Vec<Object>)]
    flagged: Vec<serde_json::Value>,
}

/// `GET /api/v1/service/figures`: satisfaction figures of the units in scope.
#[utoipa::path(
    get,
    path = "/api/v1/service/figures",
    tag = "ratings",
    params(FiguresQuery),
    responses(
        (status = 200, description = "Figures", body = FiguresOut),
        (status = 422, description = "Invalid parameter", body = crate::error::ErrorBody),
    )
)]
pub(crate) async fn get_figures(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::Query(q): axum::extract::Query<FiguresQuery>,
) -> Result<Json<FiguresOut>, ApiError> {
    let (by, from, to) =
        figures_params(&state, q.by.as_deref(), q.from.as_deref(), q.to.as_deref())?;
    let f = figures(&state, &caller, by, from, to).await?;
    Ok(Json(FiguresOut {
        by: by.code().to_owned(),
        from: from.to_string(),
        to: to.to_string(),
        ratings: f.all.ratings,
        groups: f
            .groups
            .into_iter()
            .map(|g| GroupOut {
                key: g.key,
                ratings: g.tally.ratings,
                excluded: g.tally.excluded,
                satisfaction_rate: g.figures.satisfaction_rate,
                bad_rate: g.figures.bad_rate,
                rectification_rate: g.figures.rectification_rate,
                on_time_rate: g.figures.on_time_rate,
                callback_rate: g.figures.callback_rate,
                shrunk_satisfaction: g.shrunk.value,
                shrunk_interval: [g.shrunk.low, g.shrunk.high],
            })
            .collect(),
        flagged: f
            .flagged
            .into_iter()
            .map(|(id, case, kinds)| serde_json::json!({"rating_id": id, "case_id": case, "kinds": kinds}))
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_default_period_is_the_last_twelve_months() {
        assert_eq!(
            default_period_start(date!(2026 - 11 - 25)),
            date!(2025 - 11 - 26)
        );
        assert_eq!(
            default_period_start(date!(2028 - 02 - 29)),
            date!(2027 - 03 - 01)
        );
        assert_eq!(
            default_period_start(date!(2026 - 12 - 31)),
            date!(2026 - 01 - 01)
        );
    }
}
