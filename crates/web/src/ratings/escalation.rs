//! The escalation notice (督办) of the home page: how many overdue rectifications went to the
//! signed-in account.

use crate::shell::access::Caller;
use crate::shell::error::ApiError;
use kaohe_store::Store;

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
