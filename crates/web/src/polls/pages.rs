//! The organizer's pages of polls (assessors): the list, the form that creates a poll, a
//! poll's page (people, items, groups with the codes issued and used, its state; the results
//! once it has closed, never a tally while it is open), closing early, drawing a group's codes
//! as an A4 sheet of slips with QR codes (shown once), and paper counts with their
//! confirmation by a second account.

use super::view::{
    PollState, ResultsView, in_scope, local, people_names, poll_error_words, results_view,
};
use super::{CreateError, poll_error, poll_for};
use crate::org::picker::{self, CadreGroup};
use crate::shell::AppState;
use crate::shell::access::Caller;
use crate::shell::download::{suffix_of, table_file};
use crate::shell::error::ApiError;
use crate::shell::page::{PageCtx, PageError, PageResult, location, render};
use crate::shell::params::encode_component;
use crate::shell::qr::{Qr, public_base};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kaohe_data::WideCell;
use kaohe_data::parse::parse_datetime;
use kaohe_domain::audit::action;
use kaohe_domain::polls::{
    Item, MAX_CODES_PER_GROUP, PaperCount, Poll, PollKind, PollSettings, RaterGroup,
};
use kaohe_domain::{Code, Labeled, NewAuditEntry};
use kaohe_store::polls::{CycleMisfit, issue_codes, results};
use time::OffsetDateTime;

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    r.headers_mut().insert(LOCATION, location(to));
    r
}

/// A refused step in the page's language: `conflict` says what conflicts with what is stored.
fn step_error(ctx: &PageCtx, e: kaohe_store::StoreError, conflict: &str) -> ApiError {
    use kaohe_domain::polls::PaperError;
    use kaohe_store::StoreError;
    let refused = |reason: String| ApiError::Refused {
        code: "invalid_paper_count",
        reason,
    };
    match e {
        StoreError::Conflict(_) => ApiError::Conflict {
            code: "poll_conflict",
            reason: ctx.t(conflict).to_owned(),
        },
        StoreError::FourEyes(_) => ApiError::Refused {
            code: "four_eyes",
            reason: ctx.t("polls.err.four_eyes").to_owned(),
        },
        StoreError::Paper(PaperError::TooMany(who, item) | PaperError::Slot(who, item)) => {
            refused(ctx.tf("polls.err.paper_votes", &[("who", &who), ("item", &item)]))
        }
        StoreError::Paper(PaperError::Ballots(_) | PaperError::Group(_)) => {
            refused(ctx.t("polls.err.paper_ballots").to_owned())
        }
        other => poll_error(other),
    }
}

fn actor(caller: &Caller) -> String {
    caller.0.username().unwrap_or("web").to_owned()
}

fn audit(caller: &Caller, action: &str, poll: &Code) -> NewAuditEntry {
    NewAuditEntry::new(actor(caller), action, poll.as_str())
}

/// A row of the list of polls.
#[derive(Debug)]
struct PollRow {
    href: String,
    title: String,
    kind: &'static str,
    state: &'static str,
    opens: String,
    closes: String,
    issued: u32,
    used: u32,
}

#[derive(Template)]
#[template(path = "polls/list.html")]
struct ListPage {
    ctx: PageCtx,
    rows: Vec<PollRow>,
    may_manage: bool,
}

/// `GET /polls`: the polls of the people in the caller's scope.
pub(crate) async fn list(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
) -> PageResult {
    let store = state.store.as_ref();
    let now = OffsetDateTime::now_utc();
    let mut rows = Vec::new();
    for poll in store.polls().await.map_err(|e| ctx.fail(e))? {
        if !in_scope(store, &caller, &poll.people)
            .await
            .map_err(|e| ctx.fail(e))?
        {
            continue;
        }
        let counts = store.code_counts(&poll.id).await.map_err(|e| ctx.fail(e))?;
        rows.push(PollRow {
            href: format!("/polls/{}", encode_component(poll.id.as_str())),
            title: poll.title.clone(),
            kind: ctx.label(poll.kind),
            state: PollState::of(&poll, now).words(&ctx),
            opens: local(state.utc_offset, poll.opens_at),
            closes: local(state.utc_offset, poll.closes_at),
            issued: counts.iter().map(|c| c.issued).sum(),
            used: counts.iter().map(|c| c.used).sum(),
        });
    }
    let may_manage = caller
        .0
        .holds(kaohe_domain::access::Permission::ManageCycles);
    Ok(render(
        StatusCode::OK,
        &ListPage {
            ctx,
            rows,
            may_manage,
        },
    ))
}

/// A row of rater groups on the creation form.
#[derive(Debug, Clone)]
struct GroupInput {
    id: String,
    name: String,
    weight: String,
    codes: String,
    merge: String,
}

/// The fields of the creation form, as typed.
#[derive(Debug, Clone)]
struct NewInput {
    id: String,
    title: String,
    kind: String,
    people: String,
    items: Vec<String>,
    seats: String,
    groups: Vec<GroupInput>,
    opens: String,
    closes: String,
    cycle: String,
}

impl NewInput {
    fn blank(state: &AppState) -> Self {
        let today = state.today();
        let group = |id: &str, name: &str, weight: &str| GroupInput {
            id: id.into(),
            name: name.into(),
            weight: weight.into(),
            codes: String::new(),
            merge: String::new(),
        };
        Self {
            id: String::new(),
            title: String::new(),
            kind: PollKind::Evaluation.code().into(),
            people: String::new(),
            items: vec![],
            seats: String::new(),
            groups: vec![
                group("superiors", "上级", "0.3"),
                group("peers", "同级", "0.4"),
                group("subordinates", "下级", "0.3"),
                group("public", "群众代表", "0.2"),
            ],
            opens: format!("{today}T09:00"),
            closes: format!("{today}T17:00"),
            cycle: String::new(),
        }
    }

    fn read(form: &[(String, String)]) -> Self {
        let value_of = |k: &str| {
            form.iter()
                .find(|(n, _)| n == k)
                .map_or(String::new(), |(_, v)| v.trim().to_owned())
        };
        let groups = (0..GROUP_ROWS)
            .map(|k| GroupInput {
                id: value_of(&format!("group_id_{k}")),
                name: value_of(&format!("group_name_{k}")),
                weight: value_of(&format!("group_weight_{k}")),
                codes: value_of(&format!("group_codes_{k}")),
                merge: value_of(&format!("group_merge_{k}")),
            })
            .collect();
        Self {
            id: value_of("id"),
            title: value_of("title"),
            kind: value_of("kind"),
            people: form
                .iter()
                .filter(|(k, _)| k == "people")
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
            items: form
                .iter()
                .filter(|(k, _)| k == "items")
                .map(|(_, v)| v.clone())
                .collect(),
            seats: value_of("seats"),
            groups,
            opens: value_of("opens"),
            closes: value_of("closes"),
            cycle: value_of("cycle"),
        }
    }

    /// The people as submitted: picked ones, or codes separated by spaces, commas, 、 or ;.
    fn people_codes(&self) -> impl Iterator<Item = &str> {
        self.people
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';'))
            .filter(|p| !p.is_empty())
    }

    /// The poll the form describes, or what is wrong, in the page's language.
    fn poll(&self, ctx: &PageCtx, offset: time::UtcOffset) -> Result<(Poll, Option<i64>), String> {
        let bad = |field: &str, value: String| {
            let label = match field {
                "id" => ctx.t("polls.new.id"),
                "kind" => ctx.t("polls.kind"),
                "people" => ctx.t("polls.new.people"),
                "items" => ctx.t("polls.new.items"),
                "seats" => ctx.t("polls.new.seats"),
                "opens" => ctx.t("polls.opens"),
                "closes" => ctx.t("polls.closes"),
                "cycle" => ctx.t("polls.new.cycle"),
                _ => ctx.t("polls.groups"),
            };
            ctx.tf(
                "polls.new.bad_field",
                &[("field", &label), ("value", &value)],
            )
        };
        let id = Code::parse(&self.id).map_err(|_| bad("id", self.id.clone()))?;
        let kind = PollKind::parse_label(&self.kind).map_err(|_| bad("kind", self.kind.clone()))?;
        let people = self
            .people_codes()
            .map(|p| Code::parse(p).map_err(|_| bad("people", p.to_owned())))
            .collect::<Result<Vec<_>, _>>()?;
        let mut items = Vec::new();
        if kind == PollKind::Evaluation {
            items.push(Item::Overall);
            for i in &self.items {
                let item = Item::parse_label(i).map_err(|_| bad("items", i.clone()))?;
                if item != Item::Overall && !items.contains(&item) {
                    items.push(item);
                }
            }
        }
        let seats = match kind {
            PollKind::Evaluation => 0,
            PollKind::Recommendation => self
                .seats
                .parse::<u32>()
                .map_err(|_| bad("seats", self.seats.clone()))?,
        };
        let mut groups = Vec::new();
        // A row without a number of codes is left out.
        for g in self.groups.iter().filter(|g| !g.codes.is_empty()) {
            groups.push(RaterGroup {
                id: Code::parse(&g.id).map_err(|_| bad("group", g.id.clone()))?,
                name: g.name.clone(),
                weight: g
                    .weight
                    .parse::<f64>()
                    .map_err(|_| bad("group", g.weight.clone()))?,
                codes: g
                    .codes
                    .parse::<u32>()
                    .map_err(|_| bad("group", g.codes.clone()))?,
                merge_into: if g.merge.is_empty() {
                    None
                } else {
                    Some(Code::parse(&g.merge).map_err(|_| bad("group", g.merge.clone()))?)
                },
            });
        }
        let time = |field: &str, v: &str| {
            parse_datetime(&v.replace('T', " "), offset).map_err(|_| bad(field, v.to_owned()))
        };
        let cycle = if self.cycle.is_empty() {
            None
        } else {
            Some(
                self.cycle
                    .parse::<i64>()
                    .map_err(|_| bad("cycle", self.cycle.clone()))?,
            )
        };
        let poll = Poll {
            id,
            title: self.title.clone(),
            kind,
            cycle: cycle.map(|c| c.to_string()),
            people,
            items,
            seats,
            groups,
            opens_at: time("opens", &self.opens)?,
            closes_at: time("closes", &self.closes)?,
            settings: PollSettings::default(),
        };
        poll.check().map_err(|e| poll_error_words(ctx, &e))?;
        Ok((poll, cycle))
    }
}

/// Rows of rater groups on the creation form.
const GROUP_ROWS: usize = 4;

/// An item to tick on the creation form.
#[derive(Debug)]
struct ItemChoice {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "polls/new.html")]
struct NewPage {
    ctx: PageCtx,
    input: NewInput,
    item_choices: Vec<ItemChoice>,
    evaluation: bool,
    error: Option<String>,
    groups_help: String,
    /// The cadres to pick, by unit.
    people: Vec<CadreGroup>,
}

/// The cadres the caller may pick for a poll, by unit in tree order, `input`'s marked.
async fn people_choices(
    state: &AppState,
    caller: &Caller,
    input: &NewInput,
) -> Result<Vec<CadreGroup>, ApiError> {
    let store = state.store.as_ref();
    let units = picker::unit_options(store, caller, "").await?;
    let selected: Vec<&str> = input.people_codes().collect();
    picker::cadre_groups(store, &units, &selected).await
}

fn new_page(
    ctx: PageCtx,
    input: NewInput,
    people: Vec<CadreGroup>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let item_choices = Item::ALL
        .iter()
        .filter(|i| **i != Item::Overall)
        .map(|i| ItemChoice {
            value: i.code(),
            label: ctx.label(*i),
            checked: input.items.iter().any(|x| x == i.code()),
        })
        .collect();
    let evaluation = input.kind != PollKind::Recommendation.code();
    render(
        status,
        &NewPage {
            input,
            item_choices,
            evaluation,
            error,
            groups_help: ctx.tf("polls.new.groups_help", &[("max", &MAX_CODES_PER_GROUP)]),
            people,
            ctx,
        },
    )
}

/// `GET /polls/new`: the form that creates a poll.
pub(crate) async fn new_form(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
) -> PageResult {
    let input = NewInput::blank(&state);
    let people = people_choices(&state, &caller, &input)
        .await
        .map_err(|e| ctx.fail(e))?;
    Ok(new_page(ctx, input, people, None, StatusCode::OK))
}

/// `POST /polls`: creates the poll, or shows the form again with what is wrong.
pub(crate) async fn create(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let input = NewInput::read(&form);
    let people = people_choices(&state, &caller, &input)
        .await
        .map_err(|e| ctx.fail(e))?;
    let again = |ctx: PageCtx, input: NewInput, e: String| {
        Ok(new_page(
            ctx,
            input,
            people,
            Some(e),
            StatusCode::UNPROCESSABLE_ENTITY,
        ))
    };
    let (poll, cycle) = match input.poll(&ctx, state.utc_offset) {
        Ok(p) => p,
        Err(e) => return again(ctx, input, e),
    };
    let words = match super::create_poll(&state, &caller, &poll, cycle).await {
        Ok(()) => {
            return Ok(see_other(&format!(
                "/polls/{}",
                encode_component(poll.id.as_str())
            )));
        }
        Err(CreateError::NoCadre(p)) => ctx.tf("polls.err.no_cadre", &[("who", &p)]),
        Err(CreateError::Scope) => ctx.t("polls.err.scope").to_owned(),
        Err(CreateError::Cycle(CycleMisfit::NoCycle(c))) => {
            ctx.tf("polls.err.no_cycle", &[("cycle", &c)])
        }
        Err(CreateError::Cycle(CycleMisfit::NotInCycle(p, c))) => {
            ctx.tf("polls.err.not_in_cycle", &[("who", &p), ("cycle", &c)])
        }
        Err(CreateError::Store(kaohe_store::StoreError::Conflict(_))) => {
            ctx.tf("polls.err.taken", &[("id", &poll.id)])
        }
        Err(CreateError::Store(kaohe_store::StoreError::Poll(e))) => poll_error_words(&ctx, &e),
        Err(e) => return Err(ctx.fail(ApiError::from(e))),
    };
    again(ctx, input, words)
}

/// A group on a poll's page.
#[derive(Debug)]
struct GroupView {
    id: String,
    name: String,
    weight: String,
    merge: String,
    planned: u32,
    issued: u32,
    used: u32,
    /// Codes that may still be drawn.
    left: u32,
    /// The paper count: who entered it, who confirmed it.
    paper: Option<String>,
    /// Whether the caller may confirm the paper count (entered by someone else).
    may_confirm: bool,
}

#[derive(Template)]
#[template(path = "polls/poll.html")]
struct PollPage {
    ctx: PageCtx,
    action: String,
    title: String,
    kind: &'static str,
    state_words: &'static str,
    open_or_upcoming: bool,
    opens: String,
    closes: String,
    cycle: Option<String>,
    people: Vec<(String, String)>,
    items: Vec<&'static str>,
    seats: u32,
    groups: Vec<GroupView>,
    results: ResultsView,
    /// The results as XLSX and CSV, once there are results.
    exports: Option<(String, String)>,
    may_manage: bool,
    message: Option<String>,
}

/// `GET /polls/{id}`: the poll, its groups and codes, its results once closed.
pub(crate) async fn detail(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> PageResult {
    let poll = poll_for(&state, &caller, &id)
        .await
        .map_err(|e| ctx.fail(e))?;
    if let Some((_, format)) = query.iter().find(|(k, _)| k == "format") {
        return export_results(&ctx, &state, &poll, format).await;
    }
    let message = query
        .iter()
        .find(|(k, _)| k == "done")
        .and_then(|(_, v)| match v.as_str() {
            "closed" => Some(ctx.t("polls.done.closed").to_owned()),
            "paper" => Some(ctx.t("polls.done.paper").to_owned()),
            "confirmed" => Some(ctx.t("polls.done.confirmed").to_owned()),
            _ => None,
        });
    poll_page(&ctx, &caller, &state, &poll, message)
        .await
        .map_err(|e| ctx.fail(e))
}

/// `?format=xlsx|csv`: a closed poll's results as a table, in the page's language: for an
/// evaluation, one row per person, item and reported group with the votes per grade, then the
/// person's totals, weighted shares and rates; for a recommendation, the ranking. Refused (409)
/// while no result may be shown.
async fn export_results(ctx: &PageCtx, state: &AppState, poll: &Poll, format: &str) -> PageResult {
    let suffix = suffix_of(ctx, format)?;
    let store = state.store.as_ref();
    let names = people_names(store, &poll.people)
        .await
        .map_err(|e| ctx.fail(e))?;
    let outcome = results(
        store,
        &poll.id,
        OffsetDateTime::now_utc(),
        &state.ballot_key,
    )
    .await
    .map_err(|e| ctx.fail(ApiError::from(e)))?
    .map_or(Err(kaohe_domain::polls::Withheld::Open), |(_, r)| r);
    let view = results_view(ctx, poll, &names, &outcome);
    if let Some(why) = view.withheld {
        return Err(ctx.fail(ApiError::Conflict {
            code: "results_withheld",
            reason: why,
        }));
    }
    let text = |s: &str| WideCell::Text(s.to_owned());
    let (header, rows): (Vec<String>, Vec<Vec<WideCell>>) = match poll.kind {
        PollKind::Evaluation => {
            let mut header: Vec<String> = [
                "col.full_name",
                "col.post",
                "polls.item",
                "polls.reported_group",
            ]
            .iter()
            .map(|k| ctx.t(k).to_owned())
            .collect();
            header.extend(view.grades.iter().map(|g| (*g).to_owned()));
            header.push(ctx.t("polls.excellent_rate").to_owned());
            header.push(ctx.t("polls.competent_rate").to_owned());
            let mut rows = Vec::new();
            for p in &view.people {
                for i in &p.items {
                    let lead = [text(&p.name), text(&p.post), text(i.item)];
                    for g in &i.by_group {
                        let mut row = lead.to_vec();
                        row.push(text(&g.group));
                        row.extend(g.votes.iter().map(|v| WideCell::Number(f64::from(*v))));
                        row.extend([WideCell::Empty, WideCell::Empty]);
                        rows.push(row);
                    }
                    let mut total = lead.to_vec();
                    total.push(text(ctx.t("polls.total")));
                    total.extend(i.votes.iter().map(|v| WideCell::Number(f64::from(*v))));
                    total.extend([text(&i.excellent), text(&i.competent)]);
                    rows.push(total);
                    let mut shares = lead.to_vec();
                    shares.push(text(ctx.t("polls.weighted_share")));
                    shares.extend(i.shares.iter().map(|s| text(s)));
                    shares.extend([WideCell::Empty, WideCell::Empty]);
                    rows.push(shares);
                }
            }
            (header, rows)
        }
        PollKind::Recommendation => {
            let header = [
                "polls.rank",
                "polls.nominee",
                "polls.votes",
                "polls.weighted_votes",
            ]
            .iter()
            .map(|k| ctx.t(k).to_owned())
            .collect();
            let rows = view
                .ranking
                .iter()
                .map(|n| {
                    vec![
                        text(&n.rank),
                        text(&n.name),
                        WideCell::Number(f64::from(n.votes)),
                        text(&n.weighted),
                    ]
                })
                .collect();
            (header, rows)
        }
    };
    let name = format!("{} {}", poll.title, ctx.t("polls.results"));
    table_file(ctx, "poll-results", name, suffix, header, rows).await
}

async fn poll_page(
    ctx: &PageCtx,
    caller: &Caller,
    state: &AppState,
    poll: &Poll,
    message: Option<String>,
) -> Result<Response, ApiError> {
    let store = state.store.as_ref();
    let now = OffsetDateTime::now_utc();
    let poll_state = PollState::of(poll, now);
    let counts = store.code_counts(&poll.id).await?;
    let paper = store.paper_entries(&poll.id).await?;
    let names = people_names(store, &poll.people).await?;
    let me = actor(caller);
    let group_name = |id: &Code| {
        poll.groups
            .iter()
            .find(|g| &g.id == id)
            .map_or_else(|| id.to_string(), |g| g.name.clone())
    };
    let groups = poll
        .groups
        .iter()
        .map(|g| {
            let c = counts.iter().find(|c| c.group == g.id);
            let (planned, issued, used) =
                c.map_or((g.codes, 0, 0), |c| (c.planned, c.issued, c.used));
            let entry = paper.iter().find(|p| p.group == g.id);
            GroupView {
                id: g.id.to_string(),
                name: g.name.clone(),
                weight: format!("{}", g.weight),
                merge: g.merge_into.as_ref().map(&group_name).unwrap_or_default(),
                planned,
                issued,
                used,
                left: planned.saturating_sub(issued),
                paper: entry.map(|p| match &p.confirmed_by {
                    Some(by) => ctx.tf(
                        "polls.paper.confirmed_by",
                        &[("n", &p.ballots), ("entered", &p.entered_by), ("by", by)],
                    ),
                    None => ctx.tf(
                        "polls.paper.awaiting",
                        &[("n", &p.ballots), ("entered", &p.entered_by)],
                    ),
                }),
                may_confirm: entry.is_some_and(|p| p.confirmed_by.is_none() && p.entered_by != me),
            }
        })
        .collect();
    let outcome = results(store, &poll.id, now, &state.ballot_key)
        .await?
        .map_or(Err(kaohe_domain::polls::Withheld::Open), |(_, r)| r);
    let results = results_view(ctx, poll, &names, &outcome);
    let people = poll
        .people
        .iter()
        .map(|p| {
            names
                .get(p)
                .cloned()
                .unwrap_or_else(|| (p.to_string(), String::new()))
        })
        .collect();
    let exports = results.withheld.is_none().then(|| {
        let base = format!("/polls/{}", encode_component(poll.id.as_str()));
        (format!("{base}?format=xlsx"), format!("{base}?format=csv"))
    });
    let page = PollPage {
        exports,
        ctx: ctx.clone(),
        action: format!("/polls/{}", encode_component(poll.id.as_str())),
        title: poll.title.clone(),
        kind: ctx.label(poll.kind),
        state_words: poll_state.words(ctx),
        open_or_upcoming: poll_state != PollState::Closed,
        opens: local(state.utc_offset, poll.opens_at),
        closes: local(state.utc_offset, poll.closes_at),
        cycle: poll.cycle.clone(),
        people,
        items: poll.items.iter().map(|i| ctx.label(*i)).collect(),
        seats: poll.seats,
        groups,
        results,
        may_manage: caller
            .0
            .holds(kaohe_domain::access::Permission::ManageCycles),
        message,
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /polls/{id}/close`: closes the poll now, earlier than planned.
pub(crate) async fn close(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let poll = poll_for(&state, &caller, &id)
        .await
        .map_err(|e| ctx.fail(e))?;
    state
        .store
        .close_poll(
            &poll.id,
            OffsetDateTime::now_utc(),
            &audit(&caller, action::POLL_CLOSE, &poll.id),
            &state.ballot_key,
        )
        .await
        .map_err(|e| ctx.fail(step_error(&ctx, e, "polls.err.closed_already")))?;
    Ok(see_other(&format!(
        "/polls/{}?done=closed",
        encode_component(poll.id.as_str())
    )))
}

/// A printed slip: the code, its QR code and where it leads.
#[derive(Debug)]
struct Slip {
    code: String,
    /// The QR code's dark modules as an SVG path, and its size in modules.
    path: String,
    size: usize,
}

#[derive(Template)]
#[template(path = "polls/slips.html")]
struct SlipsPage {
    ctx: PageCtx,
    title: String,
    group: String,
    back: String,
    vote_url: String,
    slips: Vec<Slip>,
}

/// `POST /polls/{id}/codes`: draws `count` codes of `group` and shows them once, as an A4
/// sheet of slips with a QR code each, to print; only their hashes are stored.
pub(crate) async fn codes(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let poll = poll_for(&state, &caller, &id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let value_of = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.trim())
    };
    let group = poll
        .groups
        .iter()
        .find(|g| g.id.as_str() == value_of("group"))
        .ok_or_else(|| {
            ctx.fail(ApiError::invalid_field(
                "group",
                "no such group in this poll",
            ))
        })?;
    let count: u32 = value_of("count")
        .parse()
        .ok()
        .filter(|n| (1..=MAX_CODES_PER_GROUP).contains(n))
        .ok_or_else(|| {
            ctx.fail(ApiError::invalid_field(
                "count",
                format!("a number from 1 to {MAX_CODES_PER_GROUP}"),
            ))
        })?;
    let now = OffsetDateTime::now_utc();
    if poll.is_closed(now) {
        return Err(ctx.fail(ApiError::Conflict {
            code: "poll_conflict",
            reason: ctx.t("polls.codes.closed").to_owned(),
        }));
    }
    let issued = state
        .store
        .code_counts(&poll.id)
        .await
        .map_err(|e| ctx.fail(e))?
        .iter()
        .find(|c| c.group == group.id)
        .map_or(0, |c| c.issued);
    let left = group.codes.saturating_sub(issued);
    if count > left {
        return Err(ctx.fail(ApiError::Conflict {
            code: "poll_conflict",
            reason: ctx.tf("polls.codes.too_many", &[("left", &left)]),
        }));
    }
    let mut entry = audit(&caller, action::POLL_CODES, &poll.id);
    entry.after =
        Some(serde_json::json!({ "group": group.id.as_str(), "codes": count }).to_string());
    let drawn = issue_codes(
        state.store.as_ref(),
        &poll.id,
        &group.id,
        count,
        now,
        &entry,
    )
    .await
    .map_err(|e| ctx.fail(step_error(&ctx, e, "polls.codes.closed")))?;
    let base = public_base(&state, &headers);
    let mut slips = Vec::with_capacity(drawn.len());
    for code in &drawn {
        let url = format!("{base}/vote?code={}", code.as_str());
        let qr = Qr::new(&url)
            .ok_or_else(|| ctx.fail(ApiError::invalid_param("url", "too long for a QR code")))?;
        slips.push(Slip {
            code: code.printed(),
            path: qr.path.clone(),
            size: qr.size,
        });
    }
    Ok(render(
        StatusCode::OK,
        &SlipsPage {
            title: poll.title.clone(),
            group: group.name.clone(),
            back: format!("/polls/{}", encode_component(poll.id.as_str())),
            vote_url: format!("{base}/vote"),
            slips,
            ctx,
        },
    ))
}

/// A row of the paper count form: one person and item, four grades.
#[derive(Debug)]
struct PaperRow {
    person: String,
    item: &'static str,
    /// Field names of the four grades (a recommendation: the votes only), each with the words
    /// that label its input: person, item and grade.
    fields: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "polls/paper.html")]
struct PaperPage {
    ctx: PageCtx,
    title: String,
    action: String,
    back: String,
    group_id: String,
    group: String,
    grades: Vec<&'static str>,
    rows: Vec<PaperRow>,
    error: Option<String>,
}

async fn paper_page(
    ctx: &PageCtx,
    state: &AppState,
    poll: &Poll,
    group: &RaterGroup,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let names = people_names(state.store.as_ref(), &poll.people).await?;
    let evaluation = poll.kind == PollKind::Evaluation;
    let items: Vec<Item> = if evaluation {
        poll.items.clone()
    } else {
        vec![Item::Overall]
    };
    let grades: Vec<&'static str> = if evaluation {
        kaohe_domain::grade::AnnualGrade::ALL
            .iter()
            .map(|g| ctx.label(*g))
            .collect()
    } else {
        vec![ctx.t("polls.votes")]
    };
    let mut rows = Vec::new();
    for (p, person) in poll.people.iter().enumerate() {
        let person = names
            .get(person)
            .map_or_else(|| person.to_string(), |n| n.0.clone());
        for (i, item) in items.iter().enumerate() {
            let item = if evaluation { ctx.label(*item) } else { "" };
            let fields = grades
                .iter()
                .enumerate()
                .map(|(k, grade)| {
                    let label = [person.as_str(), item, grade]
                        .iter()
                        .filter(|w| !w.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" ");
                    (format!("c{p}_{i}_{k}"), label)
                })
                .collect();
            rows.push(PaperRow {
                person: person.clone(),
                item,
                fields,
            });
        }
    }
    Ok(render(
        status,
        &PaperPage {
            ctx: ctx.clone(),
            title: poll.title.clone(),
            action: format!("/polls/{}/paper", encode_component(poll.id.as_str())),
            back: format!("/polls/{}", encode_component(poll.id.as_str())),
            group_id: group.id.to_string(),
            group: group.name.clone(),
            grades,
            rows,
            error,
        },
    ))
}

fn group_of<'a>(ctx: &PageCtx, poll: &'a Poll, id: &str) -> Result<&'a RaterGroup, PageError> {
    poll.groups
        .iter()
        .find(|g| g.id.as_str() == id)
        .ok_or_else(|| {
            ctx.fail(ApiError::invalid_param(
                "group",
                "no such group in this poll",
            ))
        })
}

/// `GET /polls/{id}/paper?group=…`: the form of a group's counted paper ballots.
pub(crate) async fn paper_form(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> PageResult {
    let poll = poll_for(&state, &caller, &id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let wanted = query
        .iter()
        .find(|(k, _)| k == "group")
        .map_or("", |(_, v)| v.as_str());
    let group = group_of(&ctx, &poll, wanted)?;
    paper_page(&ctx, &state, &poll, group, None, StatusCode::OK)
        .await
        .map_err(|e| ctx.fail(e))
}

/// `POST /polls/{id}/paper`: enters a group's counted paper ballots; they count once another
/// account confirms them.
pub(crate) async fn paper(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let poll = poll_for(&state, &caller, &id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let value_of = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.trim())
    };
    let group = group_of(&ctx, &poll, value_of("group"))?.clone();
    let paper = match paper_count(&ctx, &poll, &group, &form) {
        Ok(p) => p,
        Err(e) => {
            return paper_page(
                &ctx,
                &state,
                &poll,
                &group,
                Some(e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
            .map_err(|e| ctx.fail(e));
        }
    };
    let ballots = paper.ballots;
    let mut entry = audit(&caller, action::POLL_PAPER, &poll.id);
    entry.after =
        Some(serde_json::json!({ "group": group.id.as_str(), "ballots": ballots }).to_string());
    match state
        .store
        .enter_paper(
            &poll.id,
            &paper,
            &actor(&caller),
            OffsetDateTime::now_utc(),
            &entry,
        )
        .await
        .map_err(|e| step_error(&ctx, e, "polls.err.paper_entered"))
    {
        Ok(()) => Ok(see_other(&format!(
            "/polls/{}?done=paper",
            encode_component(poll.id.as_str())
        ))),
        Err(e @ (ApiError::Refused { .. } | ApiError::Conflict { .. })) => paper_page(
            &ctx,
            &state,
            &poll,
            &group,
            Some(e.to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
        .map_err(|e| ctx.fail(e)),
        Err(e) => Err(ctx.fail(e)),
    }
}

/// The paper count of a form, or what is wrong in the page's language.
fn paper_count(
    ctx: &PageCtx,
    poll: &Poll,
    group: &RaterGroup,
    form: &[(String, String)],
) -> Result<PaperCount, String> {
    let number = |k: &str| -> Result<u32, String> {
        let v = form
            .iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.trim());
        if v.is_empty() {
            Ok(0)
        } else {
            v.parse::<u32>()
                .map_err(|_| ctx.tf("polls.paper.not_a_count", &[("value", &v)]))
        }
    };
    let ballots = number("ballots")?;
    let evaluation = poll.kind == PollKind::Evaluation;
    let items: Vec<Item> = if evaluation {
        poll.items.clone()
    } else {
        vec![Item::Overall]
    };
    let mut counts = Vec::new();
    for (p, person) in poll.people.iter().enumerate() {
        for (i, item) in items.iter().enumerate() {
            let mut votes = [0u32; 4];
            let grades = if evaluation { 4 } else { 1 };
            for (k, slot) in votes.iter_mut().enumerate().take(grades) {
                *slot = number(&format!("c{p}_{i}_{k}"))?;
            }
            counts.push((person.clone(), *item, votes));
        }
    }
    Ok(PaperCount {
        group: group.id.clone(),
        ballots,
        counts,
    })
}

/// `POST /polls/{id}/paper/confirm`: confirms a group's paper count, by another account than
/// the one that entered it (four eyes).
pub(crate) async fn confirm(
    ctx: PageCtx,
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let poll = poll_for(&state, &caller, &id)
        .await
        .map_err(|e| ctx.fail(e))?;
    let wanted = form
        .iter()
        .find(|(k, _)| k == "group")
        .map_or("", |(_, v)| v.trim());
    let group = group_of(&ctx, &poll, wanted)?;
    let mut entry = audit(&caller, action::POLL_PAPER_CONFIRM, &poll.id);
    entry.after = Some(serde_json::json!({ "group": group.id.as_str() }).to_string());
    state
        .store
        .confirm_paper(
            &poll.id,
            &group.id,
            &actor(&caller),
            OffsetDateTime::now_utc(),
            &entry,
        )
        .await
        .map_err(|e| ctx.fail(step_error(&ctx, e, "polls.err.paper_not_to_confirm")))?;
    Ok(see_other(&format!(
        "/polls/{}?done=confirmed",
        encode_component(poll.id.as_str())
    )))
}
