//! Intake of ratings: the group-commit writer that stores them, for the API and the public
//! rating page alike.
//!
//! A rating is acknowledged (201) only after the transaction that stores it has committed
//! (with SQLite's `synchronous = FULL`, it is on disk). Ratings that arrive together are
//! committed together by one writer task ([`RatingWriter`]), so that intake keeps up with many
//! clients without giving up that guarantee.

use crate::shell::AppState;
use crate::shell::error::{ApiError, cause_chain};
use kaohe_domain::ratings::{IntakeError, NewRating, Rating, RatingSettings, rating_code};
use kaohe_domain::{Code, WorkCalendar};
use kaohe_store::{IntakeOutcome, IntakeRefused, RatingIntake, Store, StoredCase};
use rand::RngCore;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};
use time::{Date, OffsetDateTime};
use tokio::sync::{mpsc, oneshot};

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
    settings: RatingSettings,
    utc_offset: time::UtcOffset,
}

/// Stores ratings through one task that takes whatever has queued up, reads their cases in one
/// query, checks each by the intake rules and commits them all in one transaction (group
/// commit), then answers each sender. Started on first use; one per application, reached by the
/// handlers as a request extension.
#[derive(Clone, Default)]
pub(crate) struct RatingWriter {
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
                settings: state.ratings,
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
            tracing::error!(error = %cause_chain(&e), "storing ratings failed");
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
            for ((reply, deadline), (outcome, intake)) in
                waiting.into_iter().zip(outcomes.into_iter().zip(&intakes))
            {
                let _ = reply.send(answer(outcome, intake, deadline));
            }
            Ok(())
        }
        Err(e) if intakes.len() == 1 => {
            for (reply, _) in waiting {
                let _ = reply.send(Err(ApiError::Unavailable));
            }
            Err(e)
        }
        Err(e) => {
            // One bad rating never fails the others: each is tried alone, in its own
            // transaction, and only those that fail alone are refused.
            tracing::warn!(error = %e, ratings = intakes.len(), "a group commit failed: storing its ratings one by one");
            let mut failed = None;
            for ((reply, deadline), intake) in waiting.into_iter().zip(&intakes) {
                match store.insert_ratings(std::slice::from_ref(intake)).await {
                    Ok(mut outcomes) => match outcomes.pop() {
                        Some(outcome) => {
                            let _ = reply.send(answer(outcome, intake, deadline));
                        }
                        None => {
                            let _ = reply.send(Err(ApiError::Unavailable));
                        }
                    },
                    Err(e) => {
                        let _ = reply.send(Err(ApiError::Unavailable));
                        failed = Some(e);
                    }
                }
            }
            failed.map_or(Ok(()), Err)
        }
    }
}

/// The answer to one rating of a stored batch.
fn answer(
    outcome: IntakeOutcome,
    intake: &RatingIntake,
    deadline: Option<Date>,
) -> Result<Accepted, ApiError> {
    match outcome {
        IntakeOutcome::Stored(rating) => Ok(Accepted { rating, deadline }),
        IntakeOutcome::AlreadyRated => Err(already_rated(&intake.rating.case_id)),
        IntakeOutcome::UnknownCase => {
            Err(ApiError::not_found("case", intake.rating.case_id.as_str()))
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

/// Checks and stores one rating received now through the application's `writer`: the one path
/// of the API and of the public page.
pub(crate) async fn take_rating(
    state: &AppState,
    writer: &RatingWriter,
    rating: NewRating,
) -> Result<Accepted, ApiError> {
    writer
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
            IntakeError::BadText(e) => ApiError::invalid_field(e.field.clone(), e.to_string()),
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
