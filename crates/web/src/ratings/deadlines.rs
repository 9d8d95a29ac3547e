//! What is due of an official's own work, on their home page: the open rectifications of bad
//! reviews (差评整改) of the service cases they handled, each with its deadline and the working
//! days left or overdue, by the rectification queue's rule ([`time_left`]). Who rated, and how
//! to reach them, is not shown.

use super::pages::rectification::time_left;
use crate::shell::AppState;
use crate::shell::access::Caller;
use crate::shell::page::{PageCtx, PageError};
use kaohe_domain::WorkCalendar;

/// Most rectifications the home page lists.
const MOST: u32 = 50;

/// An open rectification of a case the official handled.
#[derive(Debug)]
pub(crate) struct DueRow {
    pub(crate) case_id: String,
    pub(crate) item: String,
    pub(crate) level: &'static str,
    pub(crate) opened: String,
    pub(crate) deadline: String,
    /// Working days left or overdue, in words.
    pub(crate) left: String,
    pub(crate) overdue: bool,
    pub(crate) status: &'static str,
}

/// The open rectifications of the cases an official handled, by deadline; `None` for a caller
/// who is not an official with a cadre record.
pub(crate) async fn own_deadlines(
    state: &AppState,
    ctx: &PageCtx,
    caller: &Caller,
) -> Result<Option<Vec<DueRow>>, PageError> {
    let Some(cadre) = caller.own_cadre() else {
        return Ok(None);
    };
    let store = state.store.as_ref();
    let items = store
        .open_rectifications_of(cadre, MOST)
        .await
        .map_err(|e| ctx.fail(e))?;
    if items.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let calendar = WorkCalendar::new(&store.calendar().await.map_err(|e| ctx.fail(e))?);
    let today = state.today();
    Ok(Some(
        items
            .iter()
            .map(|q| {
                let (overdue, left) = time_left(ctx, &calendar, q, today);
                DueRow {
                    case_id: q.case_id.to_string(),
                    item: q.item.clone(),
                    level: ctx.label(q.level),
                    opened: q.opened_on.to_string(),
                    deadline: q.deadline.to_string(),
                    left,
                    overdue,
                    status: ctx.label(q.status),
                }
            })
            .collect(),
    ))
}
