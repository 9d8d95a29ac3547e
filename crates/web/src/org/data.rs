//! What the API and the pages show of the organization, gathered from the store once for
//! both, and the unit scope of an account: what every capability checks before it shows a
//! unit's data.

use crate::shell::ApiError;
use crate::shell::access::{Caller, Permission, Target};
use crate::shell::params::Paging;
use kaohe_domain::{Appointment, Cadre, Code, Sanction, SanctionPeriods, Unit, UnitTree};
use kaohe_store::{
    CadreQuery, Counts, MAX_PER_PAGE, Page, Store, StoreError, UnitQuery, UnitSummary,
};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use time::Date;

/// Every row a paged list finds, read [`MAX_PER_PAGE`] at a time: `fetch` reads page `n` (from
/// 1) of that size. Stops at the first short or empty page.
pub(crate) async fn every_page<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, StoreError>
where
    F: FnMut(u32, u32) -> Fut,
    Fut: Future<Output = Result<Page<T>, StoreError>>,
{
    let mut rows = Vec::new();
    for n in 1.. {
        let found = fetch(n, MAX_PER_PAGE).await?;
        let last = found.items.len() < MAX_PER_PAGE as usize;
        rows.extend(found.items);
        if last {
            break;
        }
    }
    Ok(rows)
}

/// Deepest unit tree walked for a breadcrumb; stops a cycle in corrupt data.
const MAX_DEPTH: usize = 64;

/// A unit with everything around it.
#[derive(Debug)]
pub(crate) struct UnitDetail {
    /// The unit.
    pub(crate) unit: Unit,
    /// Its ancestors, the root first; the last is the parent.
    pub(crate) ancestors: Vec<Unit>,
    /// Its direct children (the first [`MAX_PER_PAGE`]) and their total.
    pub(crate) children: Page<UnitSummary>,
    /// Its leadership team (领导班子): its cadres marked as leaders.
    pub(crate) leaders: Vec<Cadre>,
    /// One page of all its cadres.
    pub(crate) cadres: Page<Cadre>,
}

/// A unit, its surroundings and one page of its cadres; `None` when there is no such unit.
pub(crate) async fn unit_detail(
    store: &dyn Store,
    code: &Code,
    cadre_paging: Paging,
) -> Result<Option<UnitDetail>, StoreError> {
    let Some(unit) = store.get_unit(code).await? else {
        return Ok(None);
    };
    let ancestors = ancestors(store, &unit).await?;
    let children = store
        .list_units(&UnitQuery {
            parent: Some(code.clone()),
            page: 1,
            per_page: MAX_PER_PAGE,
            ..UnitQuery::default()
        })
        .await?;
    let leaders = store
        .list_cadres(&CadreQuery {
            unit: Some(code.clone()),
            leaders_only: true,
            page: 1,
            per_page: MAX_PER_PAGE,
            ..CadreQuery::default()
        })
        .await?
        .items;
    let cadres = store
        .list_cadres(&CadreQuery {
            unit: Some(code.clone()),
            page: cadre_paging.page,
            per_page: cadre_paging.per_page,
            ..CadreQuery::default()
        })
        .await?;
    Ok(Some(UnitDetail {
        unit,
        ancestors,
        children,
        leaders,
        cadres,
    }))
}

/// `Ok` when the caller may list units or cadres filtered by `unit` (`None`: unfiltered, and
/// organization-wide counts): an account whose scope covers the whole tree lists anything,
/// others only within a unit of their scope.
pub(crate) async fn check_list_scope(
    store: &dyn Store,
    caller: &Caller,
    unit: Option<&Code>,
) -> Result<(), ApiError> {
    let roots: Vec<Code> = store
        .list_units(&UnitQuery {
            roots_only: true,
            page: 1,
            per_page: MAX_PER_PAGE,
            ..UnitQuery::default()
        })
        .await?
        .items
        .into_iter()
        .map(|s| s.unit.code)
        .collect();
    if caller.0.sees_whole_organization(&roots) {
        return Ok(());
    }
    match unit {
        Some(code) => {
            let ancestors = ancestor_codes(store, code).await?;
            caller.check(
                Permission::ViewUnit,
                Target::Unit {
                    code,
                    ancestors: &ancestors,
                },
            )
        }
        None => Err(ApiError::Forbidden),
    }
}

/// `Ok` when the caller may read the record of cadre `id`: an official their own, a unit leader
/// the cadres of their unit, an assessor those of the units assigned and below. An unknown
/// cadre passes (the handler answers 404).
pub(crate) async fn check_cadre_scope(
    store: &dyn Store,
    caller: &Caller,
    id: &Code,
) -> Result<(), ApiError> {
    let Some(cadre) = store.get_cadre(id).await? else {
        return Ok(());
    };
    let ancestors = ancestor_codes(store, &cadre.unit).await?;
    caller.check(
        Permission::ViewCadre,
        Target::Cadre {
            id,
            unit: &cadre.unit,
            unit_ancestors: &ancestors,
        },
    )
}

/// The codes of the ancestors of the unit `code`, root first; none for an unknown unit.
pub(crate) async fn ancestor_codes(
    store: &dyn Store,
    code: &Code,
) -> Result<Vec<Code>, StoreError> {
    match store.get_unit(code).await? {
        Some(unit) => Ok(ancestors(store, &unit)
            .await?
            .into_iter()
            .map(|u| u.code)
            .collect()),
        None => Ok(Vec::new()),
    }
}

/// The units on which the caller holds `permission`, with every unit's ancestors resolved in
/// memory from one read of the unit tree.
pub(crate) async fn units_in_scope(
    store: &dyn Store,
    caller: &Caller,
    permission: Permission,
) -> Result<Vec<Unit>, ApiError> {
    let units = store.all_units().await?;
    let tree = UnitTree::new(&units);
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
    let ancestors = ancestor_codes(store, unit).await?;
    caller.check(
        permission,
        Target::Unit {
            code: unit,
            ancestors: &ancestors,
        },
    )
}

/// The ancestors of a unit, root first.
async fn ancestors(store: &dyn Store, unit: &Unit) -> Result<Vec<Unit>, StoreError> {
    let mut chain = Vec::new();
    let mut seen = HashSet::from([unit.code.clone()]);
    let mut next = unit.parent.clone();
    while let Some(code) = next {
        if chain.len() >= MAX_DEPTH || !seen.insert(code.clone()) {
            tracing::warn!(unit = %unit.code, "unit tree too deep or cyclic");
            break;
        }
        match store.get_unit(&code).await? {
            Some(parent) => {
                next = parent.parent.clone();
                chain.push(parent);
            }
            None => break,
        }
    }
    chain.reverse();
    Ok(chain)
}

/// Resolves unit codes to names, asking the store once per code.
#[derive(Debug, Default)]
pub(crate) struct UnitNames(HashMap<Code, Option<String>>);

impl UnitNames {
    /// Looks up every code not yet known.
    pub(crate) async fn load(
        &mut self,
        store: &dyn Store,
        codes: Vec<Code>,
    ) -> Result<(), StoreError> {
        for code in codes {
            if let Entry::Vacant(slot) = self.0.entry(code) {
                let name = store.get_unit(slot.key()).await?.map(|u| u.name);
                slot.insert(name);
            }
        }
        Ok(())
    }

    /// The name of a loaded unit, if it exists.
    pub(crate) fn get(&self, code: &Code) -> Option<&str> {
        self.0.get(code).and_then(|n| n.as_deref())
    }
}

/// A sanction with its period worked out.
#[derive(Debug)]
pub(crate) struct SanctionView {
    /// The sanction.
    pub(crate) sanction: Sanction,
    /// Last day of its period; `None` when it has no end (expulsion).
    pub(crate) effective_end: Option<Date>,
    /// Whether it is in effect today.
    pub(crate) in_effect: bool,
}

/// A cadre with history.
#[derive(Debug)]
pub(crate) struct CadreDetail {
    /// The cadre.
    pub(crate) cadre: Cadre,
    /// Appointment history, oldest first.
    pub(crate) appointments: Vec<Appointment>,
    /// Sanctions, oldest first.
    pub(crate) sanctions: Vec<SanctionView>,
    /// Names of the cadre's unit and of the units of the appointments.
    pub(crate) unit_names: UnitNames,
}

/// A cadre and their history; `None` when there is no such cadre.
pub(crate) async fn cadre_detail(
    store: &dyn Store,
    id: &Code,
    today: Date,
    periods: &SanctionPeriods,
) -> Result<Option<CadreDetail>, StoreError> {
    let Some(cadre) = store.get_cadre(id).await? else {
        return Ok(None);
    };
    let appointments = store.appointments_of(id).await?;
    let sanctions = store
        .sanctions_of(id)
        .await?
        .into_iter()
        .map(|sanction| SanctionView {
            effective_end: sanction.effective_end(periods),
            in_effect: sanction.in_effect_on(today, periods),
            sanction,
        })
        .collect();
    let mut unit_names = UnitNames::default();
    unit_names
        .load(
            store,
            std::iter::once(&cadre.unit)
                .chain(appointments.iter().map(|a| &a.unit))
                .cloned()
                .collect(),
        )
        .await?;
    Ok(Some(CadreDetail {
        cadre,
        appointments,
        sanctions,
        unit_names,
    }))
}

/// Row counts plus the number of leadership-team members.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stats {
    /// Rows per table.
    pub(crate) counts: Counts,
    /// Cadres marked as leaders.
    pub(crate) leaders: u64,
}

/// The counts shown on the home page and by `/api/v1/stats`.
pub(crate) async fn stats(store: &dyn Store) -> Result<Stats, StoreError> {
    let counts = store.counts().await?;
    let leaders = store
        .list_cadres(&CadreQuery {
            leaders_only: true,
            page: 1,
            per_page: 1,
            ..CadreQuery::default()
        })
        .await?
        .total;
    Ok(Stats { counts, leaders })
}

#[cfg(test)]
mod tests {
    use super::every_page;
    use kaohe_store::{MAX_PER_PAGE, Page};
    use std::cell::Cell;

    /// Reads `rows` through [`every_page`], counting the pages asked for.
    async fn read(rows: u32) -> (Vec<u32>, u32) {
        let asked = Cell::new(0);
        let all: Vec<u32> = (0..rows).collect();
        let found = every_page(|page, per_page| {
            asked.set(asked.get() + 1);
            let start = ((page - 1) * per_page).min(rows) as usize;
            let end = (page * per_page).min(rows) as usize;
            let items = all[start..end].to_vec();
            async move {
                Ok(Page {
                    items,
                    total: u64::from(rows),
                    page,
                    per_page,
                })
            }
        })
        .await
        .expect("pages");
        (found, asked.get())
    }

    #[tokio::test]
    async fn every_page_reads_each_row_once_in_order() {
        let (found, asked) = read(2 * MAX_PER_PAGE + 3).await;
        assert_eq!(found, (0..2 * MAX_PER_PAGE + 3).collect::<Vec<_>>());
        assert_eq!(asked, 3);
        // A full last page is followed by one empty page, no more.
        let (found, asked) = read(MAX_PER_PAGE).await;
        assert_eq!(found.len(), MAX_PER_PAGE as usize);
        assert_eq!(asked, 2);
        let (found, asked) = read(0).await;
        assert!(found.is_empty());
        assert_eq!(asked, 1);
    }
}
