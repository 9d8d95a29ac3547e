//! The JSON API of polls (`/api/v1/polls`): the list, one poll with the codes issued and used
//! in each group, creating a poll, closing it early, its results once closed.
//!
//! Codes are drawn on the organizer's page or by `kaohe poll codes` and shown only then;
//! ballots are never readable: no route here returns a code, a hash or a ballot. Results are
//! refused while a poll is open (`poll_open`) and without a quorum (`no_quorum`).

use super::view::PollState;
use super::{poll_error, poll_for};
use crate::shell::AppState;
use crate::shell::access::Caller;
use crate::shell::error::{ApiError, ErrorBody};
use crate::shell::json::{JsonBody, Label, label, parse_body};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kaohe_domain::audit::action;
use kaohe_domain::polls::{Item, Poll, PollKind, PollSettings, RaterGroup, Withheld};
use kaohe_domain::{Code, Labeled, NewAuditEntry};
use kaohe_store::polls::results;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

/// A rater group and its codes.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(super) struct GroupOut {
    /// Identifier within the poll, e.g. `peers`.
    id: String,
    /// Name, e.g. 同级.
    name: String,
    /// Weight of the group in the weighted totals.
    weight: f64,
    /// Codes the group may be issued (one per rater).
    codes: u32,
    /// The group a group of fewer than 5 ballots is merged into.
    merge_into: Option<String>,
    /// Codes issued so far (absent on input).
    #[serde(default)]
    issued: u32,
    /// Codes used so far: the turnout, never a tally (absent on input).
    #[serde(default)]
    used: u32,
}

/// A poll.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PollOut {
    /// Identifier.
    id: String,
    /// Title.
    title: String,
    /// `evaluation` (民主测评) or `recommendation` (民主推荐).
    kind: String,
    kind_label: Label,
    /// `upcoming`, `open` or `closed`.
    state: String,
    /// The cycle it feeds, if any.
    cycle: Option<String>,
    /// The people evaluated, or the nominees, in ballot order (cadre ids).
    people: Vec<String>,
    /// Items graded (`overall`, `de`, `neng`, `qin`, `ji`, `lian`); none for a recommendation.
    items: Vec<String>,
    /// Most nominees a recommendation ballot may choose.
    seats: u32,
    /// Rater groups with their codes issued and used.
    groups: Vec<GroupOut>,
    /// Opening, RFC 3339.
    opens_at: String,
    /// Closing, RFC 3339.
    closes_at: String,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

async fn poll_out(state: &AppState, poll: &Poll) -> Result<PollOut, ApiError> {
    let counts = state.store.code_counts(&poll.id).await?;
    Ok(PollOut {
        id: poll.id.to_string(),
        title: poll.title.clone(),
        kind: poll.kind.code().to_owned(),
        kind_label: label(poll.kind),
        state: PollState::of(poll, OffsetDateTime::now_utc())
            .code()
            .to_owned(),
        cycle: poll.cycle.clone(),
        people: poll.people.iter().map(ToString::to_string).collect(),
        items: poll.items.iter().map(|i| i.code().to_owned()).collect(),
        seats: poll.seats,
        groups: poll
            .groups
            .iter()
            .map(|g| {
                let c = counts.iter().find(|c| c.group == g.id);
                GroupOut {
                    id: g.id.to_string(),
                    name: g.name.clone(),
                    weight: g.weight,
                    codes: g.codes,
                    merge_into: g.merge_into.as_ref().map(ToString::to_string),
                    issued: c.map_or(0, |c| c.issued),
                    used: c.map_or(0, |c| c.used),
                }
            })
            .collect(),
        opens_at: rfc3339(poll.opens_at),
        closes_at: rfc3339(poll.closes_at),
    })
}

/// The polls in the caller's scope.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PollList {
    /// Polls, by id.
    polls: Vec<PollOut>,
}

/// Lists the polls whose people all serve in the caller's units.
#[utoipa::path(
    get,
    path = "/api/v1/polls",
    tag = "polls",
    responses(
        (status = 200, description = "Polls, by id", body = PollList),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an assessor", body = ErrorBody),
    )
)]
pub(super) async fn list_polls(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<PollList>, ApiError> {
    let store = state.store.as_ref();
    let mut polls = Vec::new();
    for poll in store.polls().await? {
        if super::view::in_scope(store, &caller, &poll.people).await? {
            polls.push(poll_out(&state, &poll).await?);
        }
    }
    Ok(Json(PollList { polls }))
}

/// One poll with the codes issued and used in each group.
#[utoipa::path(
    get,
    path = "/api/v1/polls/{id}",
    tag = "polls",
    params(("id" = String, Path, description = "Poll id")),
    responses(
        (status = 200, description = "The poll", body = PollOut),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an assessor, or a person outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such poll", body = ErrorBody),
    )
)]
pub(super) async fn get_poll(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PollOut>, ApiError> {
    let poll = poll_for(&state, &caller, &id).await?;
    Ok(Json(poll_out(&state, &poll).await?))
}

/// A new poll.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PollIn {
    /// Identifier, e.g. `2026-qhx`.
    id: String,
    /// Title shown to raters.
    title: String,
    /// `evaluation` or `recommendation`.
    kind: String,
    /// The cycle (number) the poll is held for: its people must be the cycle's.
    cycle: Option<i64>,
    /// Cadre ids, in ballot order.
    people: Vec<String>,
    /// Items besides the overall grade (always first): `de`, `neng`, `qin`, `ji`, `lian`.
    #[serde(default)]
    items: Vec<String>,
    /// Most nominees of a recommendation ballot.
    #[serde(default)]
    seats: u32,
    /// Rater groups (`issued` and `used` are ignored).
    groups: Vec<GroupOut>,
    /// Opening, RFC 3339.
    opens_at: String,
    /// Closing, RFC 3339.
    closes_at: String,
}

impl PollIn {
    fn poll(&self) -> Result<Poll, ApiError> {
        let code = |field: &str, s: &str| {
            Code::parse(s).map_err(|e| ApiError::invalid_field(field, e.to_string()))
        };
        let kind = PollKind::parse_label(&self.kind)
            .map_err(|e| ApiError::invalid_field("kind", e.to_string()))?;
        let mut items = Vec::new();
        if kind == PollKind::Evaluation {
            items.push(Item::Overall);
        }
        for (k, i) in self.items.iter().enumerate() {
            let item = Item::parse_label(i)
                .map_err(|e| ApiError::invalid_field(format!("items[{k}]"), e.to_string()))?;
            if item != Item::Overall {
                items.push(item);
            }
        }
        let time = |field: &str, s: &str| {
            OffsetDateTime::parse(s.trim(), &Rfc3339)
                .map_err(|e| ApiError::invalid_field(field, format!("{e} (expected RFC 3339)")))
        };
        let poll = Poll {
            id: code("id", &self.id)?,
            title: self.title.clone(),
            kind,
            cycle: self.cycle.map(|c| c.to_string()),
            people: self
                .people
                .iter()
                .enumerate()
                .map(|(k, p)| code(&format!("people[{k}]"), p))
                .collect::<Result<_, _>>()?,
            items,
            seats: self.seats,
            groups: self
                .groups
                .iter()
                .enumerate()
                .map(|(k, g)| {
                    Ok(RaterGroup {
                        id: code(&format!("groups[{k}].id"), &g.id)?,
                        name: g.name.clone(),
                        weight: g.weight,
                        codes: g.codes,
                        merge_into: g
                            .merge_into
                            .as_deref()
                            .map(|m| code(&format!("groups[{k}].merge_into"), m))
                            .transpose()?,
                    })
                })
                .collect::<Result<_, ApiError>>()?,
            opens_at: time("opens_at", &self.opens_at)?,
            closes_at: time("closes_at", &self.closes_at)?,
            settings: PollSettings::default(),
        };
        poll.check().map_err(|e| ApiError::Refused {
            code: "invalid_poll",
            reason: e.to_string(),
        })?;
        Ok(poll)
    }
}

/// Creates a poll. Its codes are drawn on the poll's page or by `kaohe poll codes`.
#[utoipa::path(
    post,
    path = "/api/v1/polls",
    tag = "polls",
    request_body = PollIn,
    responses(
        (status = 201, description = "Created", body = PollOut),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an assessor, or a person outside the caller's scope", body = ErrorBody),
        (status = 409, description = "The id is taken (`poll_conflict`)", body = ErrorBody),
        (status = 422, description = "A field is invalid, or the poll cannot be run (`invalid_poll`)", body = ErrorBody),
    )
)]
pub(super) async fn create_poll(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<PollOut>), ApiError> {
    let input: PollIn = parse_body(&body)?;
    let poll = input.poll()?;
    super::create_poll(&state, &caller, &poll, input.cycle)
        .await
        .map_err(ApiError::from)?;
    Ok((StatusCode::CREATED, Json(poll_out(&state, &poll).await?)))
}

/// Closes a poll now, earlier than planned.
#[utoipa::path(
    post,
    path = "/api/v1/polls/{id}/close",
    tag = "polls",
    params(("id" = String, Path, description = "Poll id")),
    responses(
        (status = 200, description = "Closed", body = PollOut),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an assessor, or a person outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such poll", body = ErrorBody),
        (status = 409, description = "Closed already (`poll_conflict`)", body = ErrorBody),
    )
)]
pub(super) async fn close_poll(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PollOut>, ApiError> {
    let poll = poll_for(&state, &caller, &id).await?;
    let by = caller.0.username().unwrap_or("api");
    state
        .store
        .close_poll(
            &poll.id,
            OffsetDateTime::now_utc(),
            &NewAuditEntry::new(by, action::POLL_CLOSE, poll.id.as_str()),
            &state.ballot_key,
        )
        .await
        .map_err(poll_error)?;
    let poll = poll_for(&state, &caller, &id).await?;
    Ok(Json(poll_out(&state, &poll).await?))
}

/// Votes per grade (优秀, 称职, 基本称职, 不称职) and their weighted shares.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ItemOut {
    /// The item.
    item: String,
    item_label: Label,
    /// Votes per grade in each reported group, in the order of `groups`.
    by_group: Vec<[u32; 4]>,
    /// Votes per grade, all groups.
    votes: [u32; 4],
    /// Weighted share of each grade.
    shares: [f64; 4],
    /// 优秀率.
    excellent_rate: f64,
    /// 称职以上率.
    competent_rate: f64,
}

/// One person's results.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PersonOut {
    /// Cadre id.
    person: String,
    /// One result per item.
    items: Vec<ItemOut>,
    /// `adjustment_review`, `admonition_review`.
    flags: Vec<String>,
    flag_labels: Vec<Label>,
}

/// A nominee's place.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct NomineeOut {
    /// Cadre id.
    person: String,
    /// Votes, all groups.
    votes: u32,
    /// Weighted votes.
    weighted: f64,
    /// Rank, 1 first; equal weighted votes share a rank.
    rank: usize,
    /// Whether another nominee shares the rank.
    tied: bool,
}

/// A reported group: itself and the small groups merged into it.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ReportedOut {
    /// The group.
    group: String,
    /// The groups counted in it.
    members: Vec<String>,
    /// Ballots counted.
    ballots: u32,
    /// Weight.
    weight: f64,
}

/// The results of a closed poll with its quorum.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ResultsOut {
    /// Poll id.
    poll: String,
    /// Reported groups.
    groups: Vec<ReportedOut>,
    /// Evaluation: one result per person.
    people: Vec<PersonOut>,
    /// Recommendation: nominees, best first.
    ranking: Vec<NomineeOut>,
}

/// The results of a closed poll: refused while open and without a quorum.
#[utoipa::path(
    get,
    path = "/api/v1/polls/{id}/results",
    tag = "polls",
    params(("id" = String, Path, description = "Poll id")),
    responses(
        (status = 200, description = "The results", body = ResultsOut),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an assessor, or a person outside the caller's scope", body = ErrorBody),
        (status = 404, description = "No such poll", body = ErrorBody),
        (status = 409, description = "The poll is open: no tally is shown (`poll_open`)", body = ErrorBody),
        (status = 422, description = "No quorum (`no_quorum`) or too few ballots (`too_few_ballots`)", body = ErrorBody),
    )
)]
pub(super) async fn poll_results(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ResultsOut>, ApiError> {
    let poll = poll_for(&state, &caller, &id).await?;
    let outcome = results(
        state.store.as_ref(),
        &poll.id,
        OffsetDateTime::now_utc(),
        &state.ballot_key,
    )
    .await?
    .map_or(Err(Withheld::Open), |(_, r)| r);
    let r = match outcome {
        Ok(r) => r,
        Err(w @ Withheld::Open) => {
            return Err(ApiError::Conflict {
                code: "poll_open",
                reason: w.to_string(),
            });
        }
        Err(w @ Withheld::NoQuorum(_)) => {
            return Err(ApiError::Refused {
                code: "no_quorum",
                reason: w.to_string(),
            });
        }
        Err(w @ Withheld::TooFewBallots) => {
            return Err(ApiError::Refused {
                code: "too_few_ballots",
                reason: w.to_string(),
            });
        }
    };
    Ok(Json(ResultsOut {
        poll: poll.id.to_string(),
        groups: r
            .groups
            .iter()
            .map(|g| ReportedOut {
                group: g.group.to_string(),
                members: g.members.iter().map(ToString::to_string).collect(),
                ballots: g.ballots,
                weight: g.weight,
            })
            .collect(),
        people: r
            .people
            .iter()
            .map(|p| PersonOut {
                person: p.person.to_string(),
                items: p
                    .items
                    .iter()
                    .map(|i| ItemOut {
                        item: i.item.code().to_owned(),
                        item_label: label(i.item),
                        by_group: i.by_group.clone(),
                        votes: i.votes,
                        shares: i.shares,
                        excellent_rate: i.excellent_rate,
                        competent_rate: i.competent_rate,
                    })
                    .collect(),
                flags: p.flags.iter().map(|f| f.code().to_owned()).collect(),
                flag_labels: p.flags.iter().map(|f| label(*f)).collect(),
            })
            .collect(),
        ranking: r
            .ranking
            .iter()
            .map(|n| NomineeOut {
                person: n.person.to_string(),
                votes: n.votes,
                weighted: n.weighted,
                rank: n.rank,
                tied: n.tied,
            })
            .collect(),
    }))
}
