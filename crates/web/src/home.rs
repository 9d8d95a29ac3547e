//! The home page (`/`): each role's work, gathered from the capabilities: an assessor's cycles
//! at work with the people waiting for the committee and the grade distribution by unit, the
//! records to verify, the appeals of bad reviews to decide, the escalated rectifications, an
//! official's and a unit leader's latest results and the ratings (好差评) of their unit month by
//! month over the last twelve months, an official's open deadlines, each role's tasks (an
//! administrator's accounts, roles or audit log, a rater's ballot), and for those who may see it
//! the organization at a glance. It composes capabilities, so it lives with the application's
//! assembly, not in one of them.

use crate::cycles;
use crate::cycles::home::AssessorCycles;
use crate::cycles::pages_results::OwnRow;
use crate::org::data;
use crate::org::pages::UnitRow;
use crate::ratings;
use crate::records;
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission, Principal, RequirePermission};
use crate::shell::page::{PageCtx, PageResult, render};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use kaohe_domain::{Code, Role};
use kaohe_store::UnitQuery;

/// The route of the home page, open to everyone.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .require(Permission::Public)
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    /// The escalation notice (督办) of a recipient: how many overdue rectifications went to them.
    escalated: Option<String>,
    /// The notice of an assessor: how many work records (纪实) await their verification.
    to_verify: Option<String>,
    /// The notice of an assessor: how many appeals of bad reviews (申诉复核) await their
    /// decision.
    appeals: Option<String>,
    /// An assessor's cycles at work and the latest grade distribution.
    cycles: Option<AssessorCycles>,
    /// An official's or a unit leader's latest final results, and whether there are more.
    own: Vec<OwnRow>,
    more_own: bool,
    /// An official's or a unit leader's ratings of their unit, month by month.
    trend: Option<ratings::UnitTrend>,
    /// An official's open deadlines: the open rectifications of bad reviews of cases they
    /// handled.
    due: Option<Vec<ratings::DueRow>>,
    /// The role's tasks, each a page of its own.
    tasks: Vec<Task>,
    /// The pages to start from that the caller may open.
    links: Vec<Task>,
    counts: Vec<(&'static str, u64)>,
    /// The top of the unit tree: the roots, and the children of a single root.
    rows: Vec<UnitRow>,
}

impl HomePage {
    /// Whether the page draws a chart: the grades by unit, or the ratings of the caller's unit.
    fn charts(&self) -> bool {
        self.cycles
            .as_ref()
            .is_some_and(|c| c.distribution.is_some())
            || self.trend.as_ref().is_some_and(|t| t.ratings > 0)
    }
}

/// A task or a page on the home page.
struct Task {
    href: &'static str,
    title: &'static str,
    text: &'static str,
}

/// A card of the home page: the permission that opens it, its page, its title and text.
type Card = (Permission, &'static str, &'static str, &'static str);

/// The pages of each role's daily work.
const TASKS: [Card; 12] = [
    (
        Permission::VerifyRecords,
        "/records/queue",
        "nav.record_queue",
        "home.task.record_queue",
    ),
    (
        Permission::ManageCycles,
        "/cycles",
        "nav.cycles",
        "home.task.cycles",
    ),
    (
        Permission::ManageCycles,
        "/polls",
        "nav.polls",
        "polls.home_task",
    ),
    (
        Permission::JudgeRoutine,
        "/judgements",
        "nav.judgements",
        "home.task.judgements",
    ),
    (
        Permission::RecordFacts,
        "/records/new",
        "nav.record_new",
        "home.task.record_new",
    ),
    (
        Permission::HandleRectification,
        "/service/rectifications",
        "nav.ratings",
        "home.task.ratings",
    ),
    (
        Permission::DecideAppeal,
        "/service/appeals",
        "nav.appeals",
        "home.task.appeals",
    ),
    (
        Permission::ViewOwnResults,
        "/my/results",
        "nav.my_results",
        "home.task.my_results",
    ),
    (
        Permission::ViewOwnRecords,
        "/my/records",
        "nav.my_records",
        "home.task.my_records",
    ),
    (
        Permission::ManageAccounts,
        "/admin/users",
        "nav.accounts",
        "home.task.accounts",
    ),
    (
        Permission::ManageRoles,
        "/admin/roles",
        "nav.roles",
        "home.task.roles",
    ),
    (
        Permission::ViewAudit,
        "/admin/audit",
        "nav.audit",
        "home.task.audit",
    ),
];

/// The pages to start from.
const LINKS: [Card; 5] = [
    (
        Permission::ViewOrganization,
        "/units",
        "nav.units",
        "home.link.units",
    ),
    (
        Permission::ViewOrganization,
        "/cadres",
        "nav.cadres",
        "home.link.cadres",
    ),
    (
        Permission::Public,
        "/calendar",
        "nav.calendar",
        "home.link.calendar",
    ),
    (
        Permission::Public,
        "/frameworks",
        "nav.frameworks",
        "home.link.frameworks",
    ),
    (Permission::Public, "/api/docs/", "nav.api", "home.link.api"),
];

/// The cards of `table` the caller may open, in words.
fn cards(ctx: &PageCtx, caller: &Caller, table: &[Card]) -> Vec<Task> {
    table
        .iter()
        .filter(|(p, ..)| caller.0.holds(*p))
        .map(|(_, href, title, text)| Task {
            href,
            title: ctx.t(title),
            text: ctx.t(text),
        })
        .collect()
}

/// Each role's tasks; a rater's is the ballot, which needs no permission of its own.
fn tasks(ctx: &PageCtx, caller: &Caller) -> Vec<Task> {
    let rater = matches!(&caller.0, Principal::User(u) if u.roles.contains(&Role::Rater));
    let mut tasks = cards(ctx, caller, &TASKS);
    if rater {
        tasks.push(Task {
            href: "/vote",
            title: ctx.t("home.task.vote_title"),
            text: ctx.t("home.task.vote"),
        });
    }
    tasks
}

/// Most units the home page lists.
const HOME_UNITS: u32 = 30;

/// `GET /`: the caller's work (see the module), and for those who may see the whole
/// organization its counts and the top of the unit tree.
async fn home(ctx: PageCtx, caller: Caller, State(state): State<AppState>) -> PageResult {
    let escalated = match ratings::escalated_to(state.store.as_ref(), &caller)
        .await
        .map_err(|e| ctx.fail(e))?
    {
        0 => None,
        n => Some(ctx.tf("home.escalated", &[("n", &n)])),
    };
    let to_verify = match records::awaiting_verification(state.store.as_ref(), &caller)
        .await
        .map_err(|e| ctx.fail(e))?
    {
        0 => None,
        n => Some(ctx.tf("home.to_verify", &[("n", &n)])),
    };
    let appeals = match ratings::appeals_waiting(state.store.as_ref(), &caller)
        .await
        .map_err(|e| ctx.fail(e))?
    {
        0 => None,
        n => Some(ctx.tf("home.appeals", &[("n", &n)])),
    };
    let cycles = cycles::home::assessor_cycles(&state, &ctx, &caller).await?;
    let (own, more_own) = cycles::home::latest_own_results(&state, &ctx, &caller).await?;
    let trend = ratings::unit_trend(&state, &ctx, &caller).await?;
    let due = ratings::own_deadlines(&state, &ctx, &caller).await?;
    let tasks = tasks(&ctx, &caller);
    let links = cards(&ctx, &caller, &LINKS);
    let whole = ctx.sees_organization()
        && data::check_list_scope(state.store.as_ref(), &caller, None)
            .await
            .is_ok();
    if !whole {
        // Organization data is not public: the home page then only introduces kaohe.
        return Ok(render(
            StatusCode::OK,
            &HomePage {
                ctx,
                escalated,
                to_verify,
                appeals,
                cycles,
                own,
                more_own,
                trend,
                due,
                tasks,
                links,
                counts: Vec::new(),
                rows: Vec::new(),
            },
        ));
    }
    let s = data::stats(state.store.as_ref())
        .await
        .map_err(|e| ctx.fail(e))?;
    let counts = vec![
        (ctx.t("home.units"), s.counts.units),
        (ctx.t("home.cadres"), s.counts.cadres),
        (ctx.t("home.leaders"), s.leaders),
        (ctx.t("home.sanctions"), s.counts.sanctions),
    ];
    let top = |parent: Option<Code>| UnitQuery {
        roots_only: parent.is_none(),
        parent,
        page: 1,
        per_page: HOME_UNITS,
        ..UnitQuery::default()
    };
    let roots = state
        .store
        .list_units(&top(None))
        .await
        .map_err(|e| ctx.fail(e))?;
    let mut units = roots.items;
    if let [root] = units.as_slice() {
        let children = top(Some(root.unit.code.clone()));
        let children = state
            .store
            .list_units(&children)
            .await
            .map_err(|e| ctx.fail(e))?;
        units.extend(children.items);
    }
    let rows = units.iter().map(|u| UnitRow::new(&ctx, u)).collect();
    Ok(render(
        StatusCode::OK,
        &HomePage {
            ctx,
            escalated,
            to_verify,
            appeals,
            cycles,
            own,
            more_own,
            trend,
            due,
            tasks,
            links,
            counts,
            rows,
        },
    ))
}
