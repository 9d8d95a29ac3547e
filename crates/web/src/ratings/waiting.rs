//! The appeals notice (申诉复核) of the home page: how many appeals of bad reviews wait for the
//! signed-in assessor's decision.

use crate::org::data::units_in_scope;
use crate::shell::access::{Caller, Permission};
use crate::shell::error::ApiError;
use kaohe_domain::access::check_four_eyes;
use kaohe_store::Store;
use std::collections::HashSet;

/// How many appeals not yet decided concern a bad review of a unit the caller decides appeals
/// for (the units of their `DecideAppeal` scope, as the appeals page lists them) and are
/// theirs to decide: not filed by them, nor of a case they handled (双人复核, the rule of
/// [`check_four_eyes`] that the case page applies). Zero for those who decide none.
pub(crate) async fn appeals_waiting(store: &dyn Store, caller: &Caller) -> Result<usize, ApiError> {
    let Some(me) = caller.0.username() else {
        return Ok(0);
    };
    if !caller.0.holds(Permission::DecideAppeal) {
        return Ok(0);
    }
    let pending = store.appeals(true).await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let scope: HashSet<_> = units_in_scope(store, caller, Permission::DecideAppeal)
        .await?
        .into_iter()
        .map(|u| u.code)
        .collect();
    let mut n = 0;
    for a in pending {
        if let Some(r) = store.rectification(a.rating_id).await?
            && scope.contains(&r.unit)
            && check_four_eyes(r.involved(), me).is_ok()
        {
            n += 1;
        }
    }
    Ok(n)
}
