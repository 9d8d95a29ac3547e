//! The home page (`/`): what each role has to do, gathered from the capabilities (the
//! escalated rectifications of ratings, the counts and top units of the organization). It
//! composes capabilities, so it lives with the application's assembly, not in one of them.

use crate::org::data;
use crate::org::pages::UnitRow;
use crate::ratings;
use crate::records;
use crate::shell::AppState;
use crate::shell::access::{Caller, Permission, RequirePermission};
use crate::shell::page::{PageCtx, PageResult, render};
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use kaohe_domain::Code;
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
    counts: Vec<(&'static str, u64)>,
    /// The top of the unit tree: the roots, and the children of a single root.
    rows: Vec<UnitRow>,
}

/// Most units the home page lists.
const HOME_UNITS: u32 = 30;

/// `GET /`: the escalation notice of its recipients and, for those who may see the whole
/// organization, its counts and the top of the unit tree.
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
            counts,
            rows,
        },
    ))
}
