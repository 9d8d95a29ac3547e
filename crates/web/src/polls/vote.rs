//! The public voting page (`/vote`, no account, phone-sized): a rater types the code of their
//! slip, or arrives from its QR code (`/vote?code=…`), sees every person to be rated with
//! every item on one screen, confirms the choices and submits.
//!
//! Every request takes one from the client address's bucket (`AppState::vote_limiter`, the
//! `[polls]` settings), whether it shows the ballot, asks for the confirmation or casts, so
//! that codes cannot be tried faster than docs/polls.md says. The form carries the token of
//! the pre-session cookie [`super::VOTE_COOKIE`] (checked by the shell's CSRF guard). Nothing
//! here logs a code or a choice: a refusal is logged by its kind alone, a cast not at all.

use super::VOTE_COOKIE;
use super::view::people_names;
use crate::shell::AppState;
use crate::shell::auth::{ClientAddress, cookie, random_token, secure, set_cookie};
use crate::shell::error::ApiError;
use crate::shell::page::{PageCtx, PageResult, render};
use askama::Template;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kaohe_domain::grade::AnnualGrade;
use kaohe_domain::polls::{BallotCode, BallotError, Choices, Mark, Poll, PollKind};
use kaohe_domain::{Code, Labeled};
use kaohe_store::polls::{CastError, CodeLookup, find_code};
use time::OffsetDateTime;

/// A grade to choose for one person on one item.
#[derive(Debug)]
pub(super) struct GradeChoice {
    pub(super) value: &'static str,
    pub(super) label: &'static str,
    pub(super) checked: bool,
}

/// One item of one person on the ballot: a row of four grades.
#[derive(Debug)]
pub(super) struct BallotItem {
    /// Form field: `g{person}_{item}`.
    pub(super) field: String,
    pub(super) label: &'static str,
    pub(super) grades: Vec<GradeChoice>,
    /// The chosen grade's label, for the confirmation.
    pub(super) chosen: Option<&'static str>,
}

/// A person on the ballot.
#[derive(Debug)]
pub(super) struct BallotPerson {
    /// Position on the ballot (the value of a recommendation's checkbox).
    pub(super) index: usize,
    pub(super) name: String,
    pub(super) post: String,
    /// Evaluation: one row per item.
    pub(super) items: Vec<BallotItem>,
    /// Recommendation: whether the person is chosen.
    pub(super) chosen: bool,
}

/// Where the rater is.
#[derive(Debug, PartialEq, Eq)]
enum Stage {
    /// Typing the code.
    Code,
    /// Choosing.
    Ballot,
    /// Looking over the choices before casting.
    Confirm,
    /// Cast, or refused for good: the text says which.
    Done,
}

#[derive(Template)]
#[template(path = "polls/vote.html")]
struct VotePage {
    ctx: PageCtx,
    stage: Stage,
    /// The form's token, from the pre-session cookie.
    token: String,
    /// The code as typed or carried along (only ever in this rater's own page).
    code: String,
    poll_id: String,
    title: String,
    recommendation: bool,
    /// How many nominees a recommendation ballot may choose, in words.
    choose_up_to: String,
    closes: String,
    people: Vec<BallotPerson>,
    error: Option<String>,
    done: Option<String>,
    done_ok: bool,
}

impl VotePage {
    fn new(ctx: PageCtx, token: String) -> Self {
        Self {
            ctx,
            stage: Stage::Code,
            token,
            code: String::new(),
            poll_id: String::new(),
            title: String::new(),
            recommendation: false,
            choose_up_to: String::new(),
            closes: String::new(),
            people: Vec::new(),
            error: None,
            done: None,
            done_ok: false,
        }
    }
}

/// Takes one request of the client's address from the voting page's bucket.
fn vote_limit(state: &AppState, client: ClientAddress) -> Result<(), ApiError> {
    if state
        .vote_limiter
        .allow(client.0, state.votes.burst, state.votes.per_minute)
    {
        Ok(())
    } else {
        tracing::info!(ip = %client.0, "voting page rate limit");
        Err(ApiError::RateLimited)
    }
}

fn with_cookie(
    mut response: Response,
    token: &str,
    state: &AppState,
    headers: &HeaderMap,
) -> Response {
    response.headers_mut().insert(
        SET_COOKIE,
        set_cookie(
            VOTE_COOKIE,
            token,
            "/vote",
            Some(3600),
            secure(state, headers),
        ),
    );
    response
}

/// The rater's choices as read from the form: a grade per `(person, item)` slot, or the
/// chosen nominees' positions.
#[derive(Debug, Default)]
struct Picked {
    grades: std::collections::HashMap<(usize, usize), AnnualGrade>,
    nominees: Vec<usize>,
}

impl Picked {
    fn read(form: &[(String, String)]) -> Self {
        let mut picked = Self::default();
        for (k, v) in form {
            if let Some(slot) = k.strip_prefix('g') {
                let Some((p, i)) = slot.split_once('_') else {
                    continue;
                };
                if let (Ok(p), Ok(i), Ok(g)) = (p.parse(), i.parse(), v.parse::<AnnualGrade>()) {
                    picked.grades.insert((p, i), g);
                }
            } else if k == "n"
                && let Ok(p) = v.parse::<usize>()
                && !picked.nominees.contains(&p)
            {
                picked.nominees.push(p);
            }
        }
        picked
    }

    /// The choices on `poll`'s terms (positions out of range are left out, so the ballot is
    /// then incomplete).
    fn choices(&self, poll: &Poll) -> Choices {
        match poll.kind {
            PollKind::Evaluation => {
                let mut marks = Vec::new();
                for (p, person) in poll.people.iter().enumerate() {
                    for (i, item) in poll.items.iter().enumerate() {
                        if let Some(g) = self.grades.get(&(p, i)) {
                            marks.push(Mark {
                                person: person.clone(),
                                item: *item,
                                grade: *g,
                            });
                        }
                    }
                }
                Choices::Grades(marks)
            }
            PollKind::Recommendation => Choices::Nominees(
                self.nominees
                    .iter()
                    .filter_map(|p| poll.people.get(*p).cloned())
                    .collect(),
            ),
        }
    }
}

/// The ballot of `poll` with `picked` marked.
async fn ballot(
    state: &AppState,
    ctx: &PageCtx,
    poll: &Poll,
    picked: &Picked,
) -> Result<Vec<BallotPerson>, ApiError> {
    let names = people_names(state.store.as_ref(), &poll.people).await?;
    Ok(poll
        .people
        .iter()
        .enumerate()
        .map(|(p, id)| {
            let (name, post) = names.get(id).cloned().unwrap_or_default();
            let items = poll
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let chosen = picked.grades.get(&(p, i)).copied();
                    BallotItem {
                        field: format!("g{p}_{i}"),
                        label: ctx.label(*item),
                        grades: AnnualGrade::ALL
                            .iter()
                            .map(|g| GradeChoice {
                                value: g.code(),
                                label: ctx.label(*g),
                                checked: chosen == Some(*g),
                            })
                            .collect(),
                        chosen: chosen.map(|g| ctx.label(g)),
                    }
                })
                .collect();
            BallotPerson {
                index: p,
                name,
                post,
                items,
                chosen: picked.nominees.contains(&p),
            }
        })
        .collect())
}

fn local(state: &AppState, t: OffsetDateTime) -> String {
    let t = t.to_offset(state.utc_offset);
    format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute())
}

/// The message of a refused ballot, in the page's language.
fn refusal(ctx: &PageCtx, state: &AppState, poll: Option<&Poll>, e: &CastError) -> String {
    match e {
        CastError::Used => ctx.t("polls.vote.used").to_owned(),
        CastError::OtherPoll => ctx.t("polls.vote.other_poll").to_owned(),
        CastError::UnknownCode | CastError::NoPoll(_) => ctx.t("polls.vote.unknown").to_owned(),
        CastError::Ballot(BallotError::NotOpen) => match poll {
            Some(p) => ctx.tf(
                "polls.vote.not_open",
                &[("opens", &local(state, p.opens_at))],
            ),
            None => ctx.t("polls.vote.closed").to_owned(),
        },
        CastError::Ballot(BallotError::Closed) => ctx.t("polls.vote.closed").to_owned(),
        CastError::Ballot(BallotError::TooMany(n)) => ctx.tf("polls.vote.too_many", &[("n", n)]),
        CastError::Ballot(_) => ctx.t("polls.vote.incomplete").to_owned(),
        CastError::Store(_) => ctx.t("error.internal.text").to_owned(),
    }
}

/// A page that ends the visit: the ballot was cast, or it cannot be.
fn done(mut page: VotePage, text: String, ok: bool, status: StatusCode) -> Response {
    page.stage = Stage::Done;
    page.done = Some(text);
    page.done_ok = ok;
    render(status, &page)
}

/// `GET /vote[?code=…]`: the code form, or the ballot of the code's poll.
pub(crate) async fn vote_form(
    ctx: PageCtx,
    State(state): State<AppState>,
    client: ClientAddress,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<Vec<(String, String)>>,
) -> PageResult {
    vote_limit(&state, client).map_err(|e| ctx.fail(e))?;
    let token = random_token();
    let mut page = VotePage::new(ctx.clone(), token.clone());
    let typed = query
        .iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    if typed.is_empty() {
        return Ok(with_cookie(
            render(StatusCode::OK, &page),
            &token,
            &state,
            &headers,
        ));
    }
    page.code = typed.clone();
    let Ok(code) = BallotCode::parse(&typed) else {
        page.error = Some(ctx.t("polls.vote.bad_format").to_owned());
        return Ok(with_cookie(
            render(StatusCode::UNPROCESSABLE_ENTITY, &page),
            &token,
            &state,
            &headers,
        ));
    };
    page.code = code.printed();
    let (poll, used) = match find_code(state.store.as_ref(), &code)
        .await
        .map_err(|e| ctx.fail(e))?
    {
        CodeLookup::Fresh(poll) => (poll, false),
        CodeLookup::Used(poll) => (poll, true),
        CodeLookup::Unknown => {
            tracing::info!("vote: unknown code");
            page.error = Some(ctx.t("polls.vote.unknown").to_owned());
            return Ok(with_cookie(
                render(StatusCode::UNPROCESSABLE_ENTITY, &page),
                &token,
                &state,
                &headers,
            ));
        }
    };
    page.title.clone_from(&poll.title);
    if used {
        tracing::info!("vote: code used already");
        let text = refusal(&ctx, &state, Some(&poll), &CastError::Used);
        return Ok(done(page, text, false, StatusCode::CONFLICT));
    }
    if let Err(e) = poll.check_open(OffsetDateTime::now_utc()) {
        let text = refusal(&ctx, &state, Some(&poll), &CastError::Ballot(e));
        return Ok(done(page, text, false, StatusCode::UNPROCESSABLE_ENTITY));
    }
    fill(&mut page, &state, &poll, &Picked::default())
        .await
        .map_err(|e| ctx.fail(e))?;
    page.stage = Stage::Ballot;
    Ok(with_cookie(
        render(StatusCode::OK, &page),
        &token,
        &state,
        &headers,
    ))
}

async fn fill(
    page: &mut VotePage,
    state: &AppState,
    poll: &Poll,
    picked: &Picked,
) -> Result<(), ApiError> {
    page.poll_id = poll.id.to_string();
    page.title.clone_from(&poll.title);
    page.recommendation = poll.kind == PollKind::Recommendation;
    page.choose_up_to = page
        .ctx
        .tf("polls.vote.choose_up_to", &[("n", &poll.seats)]);
    page.closes = local(state, poll.closes_at);
    page.people = ballot(state, &page.ctx, poll, picked).await?;
    Ok(())
}

/// `POST /vote`: `step=confirm` shows the choices to confirm (or the ballot again with what is
/// missing), `step=edit` goes back to the ballot, `step=cast` casts the ballot.
pub(crate) async fn vote(
    ctx: PageCtx,
    State(state): State<AppState>,
    client: ClientAddress,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    vote_limit(&state, client).map_err(|e| ctx.fail(e))?;
    let token = cookie(&headers, VOTE_COOKIE).unwrap_or_default();
    let mut page = VotePage::new(ctx.clone(), token);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    };
    let step = field("step").to_owned();
    page.code = field("code").to_owned();
    let Ok(code) = BallotCode::parse(field("code")) else {
        page.error = Some(ctx.t("polls.vote.bad_format").to_owned());
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    page.code = code.printed();
    let poll = match Code::parse(field("poll")) {
        Ok(id) => state.store.poll(&id).await.map_err(|e| ctx.fail(e))?,
        Err(_) => None,
    };
    let Some(poll) = poll else {
        let text = refusal(&ctx, &state, None, &CastError::UnknownCode);
        return Ok(done(page, text, false, StatusCode::UNPROCESSABLE_ENTITY));
    };
    let picked = Picked::read(&form);
    let choices = picked.choices(&poll);
    fill(&mut page, &state, &poll, &picked)
        .await
        .map_err(|e| ctx.fail(e))?;
    let now = OffsetDateTime::now_utc();
    if let Err(e) = poll.check_open(now) {
        let text = refusal(&ctx, &state, Some(&poll), &CastError::Ballot(e));
        return Ok(done(page, text, false, StatusCode::UNPROCESSABLE_ENTITY));
    }
    if step == "edit" {
        page.stage = Stage::Ballot;
        return Ok(render(StatusCode::OK, &page));
    }
    if let Err(e) = poll.check_ballot(&choices) {
        page.stage = Stage::Ballot;
        page.error = Some(refusal(&ctx, &state, Some(&poll), &CastError::Ballot(e)));
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    if step != "cast" {
        page.stage = Stage::Confirm;
        return Ok(render(StatusCode::OK, &page));
    }
    match state
        .store
        .cast_ballot(&poll.id, &code, &choices, now, &state.ballot_key)
        .await
    {
        Ok(()) => {
            let text = ctx.t("polls.vote.thanks").to_owned();
            Ok(done(page, text, true, StatusCode::CREATED))
        }
        Err(CastError::Store(e)) => Err(ctx.fail(e)),
        Err(e) => {
            // The kind of refusal only: never the code, never a choice.
            let kind = match &e {
                CastError::Used => "used",
                CastError::OtherPoll => "other poll",
                CastError::UnknownCode | CastError::NoPoll(_) => "unknown",
                CastError::Ballot(_) | CastError::Store(_) => "ballot",
            };
            tracing::info!(kind, "vote refused");
            let status = if matches!(e, CastError::Used) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let text = refusal(&ctx, &state, Some(&poll), &e);
            Ok(done(page, text, false, status))
        }
    }
}
