//! Pickers of units and cadres for forms and filters, so that nobody types a code: the units
//! as a tree (each indented under its parent, in a `<select>`), the cadres by name (in a
//! `<datalist>` or grouped by unit). What is submitted is still a code, checked by the handler
//! that receives it.

use crate::org::data::units_in_scope;
use crate::shell::access::{Caller, Permission};
use crate::shell::error::ApiError;
use kaohe_domain::{Code, Unit};
use kaohe_store::{CadreQuery, MAX_PER_PAGE, Store, StoreError};
use std::collections::{BTreeMap, HashSet};

/// Most cadres a picker offers; beyond, the rest are found by the list's search.
const MAX_CADRES: usize = 2000;

/// A unit of a picker: its code, its name indented by its depth in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnitOption {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

/// `units` in tree order (each parent before its children, siblings by code), the name
/// indented one ideographic space per level, those in `selected` marked. A unit whose parent
/// is not among `units` starts a tree of its own.
pub(crate) fn tree_options(units: &[Unit], selected: &[&str]) -> Vec<UnitOption> {
    let known: HashSet<&Code> = units.iter().map(|u| &u.code).collect();
    let mut children: BTreeMap<Option<&Code>, Vec<&Unit>> = BTreeMap::new();
    for u in units {
        let parent = u.parent.as_ref().filter(|p| known.contains(p));
        children.entry(parent).or_default().push(u);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| a.code.cmp(&b.code));
    }
    let mut out = Vec::with_capacity(units.len());
    let mut stack: Vec<(&Unit, usize)> = children
        .get(&None)
        .map(|roots| roots.iter().rev().map(|u| (*u, 0)).collect())
        .unwrap_or_default();
    let mut seen: HashSet<&Code> = HashSet::new();
    while let Some((u, depth)) = stack.pop() {
        if !seen.insert(&u.code) {
            continue;
        }
        out.push(UnitOption {
            value: u.code.to_string(),
            label: format!("{}{}", "\u{3000}".repeat(depth), u.name),
            selected: selected.contains(&u.code.as_str()),
        });
        if let Some(kids) = children.get(&Some(&u.code)) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    out
}

/// The units the caller may see, as a tree, `selected` marked.
pub(crate) async fn unit_options(
    store: &dyn Store,
    caller: &Caller,
    selected: &str,
) -> Result<Vec<UnitOption>, ApiError> {
    let units = units_in_scope(store, caller, Permission::ViewUnit).await?;
    Ok(tree_options(&units, &[selected]))
}

/// Every unit, as a tree, those in `selected` marked (for granting scopes).
pub(crate) async fn all_unit_options(
    store: &dyn Store,
    selected: &[&str],
) -> Result<Vec<UnitOption>, StoreError> {
    Ok(tree_options(&store.all_units().await?, selected))
}

/// A cadre of a picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CadreOption {
    pub(crate) id: String,
    /// Name and post: 张三 · 县长.
    pub(crate) label: String,
    pub(crate) selected: bool,
}

/// The cadres of one unit in a picker.
#[derive(Debug)]
pub(crate) struct CadreGroup {
    pub(crate) unit: String,
    pub(crate) cadres: Vec<CadreOption>,
}

/// The cadres of `units` (in their order) grouped by unit, at most [`MAX_CADRES`], those in
/// `selected` marked.
pub(crate) async fn cadre_groups(
    store: &dyn Store,
    units: &[UnitOption],
    selected: &[&str],
) -> Result<Vec<CadreGroup>, ApiError> {
    let mut out = Vec::new();
    let mut count = 0;
    for u in units {
        let Ok(code) = Code::parse(&u.value) else {
            continue;
        };
        let page = store
            .list_cadres(&CadreQuery {
                unit: Some(code),
                page: 1,
                per_page: MAX_PER_PAGE,
                ..CadreQuery::default()
            })
            .await?;
        let cadres: Vec<CadreOption> = page
            .items
            .into_iter()
            .take(MAX_CADRES.saturating_sub(count))
            .map(|c| CadreOption {
                selected: selected.contains(&c.id.as_str()),
                id: c.id.to_string(),
                label: format!("{} · {}", c.name, c.post),
            })
            .collect();
        count += cadres.len();
        if !cadres.is_empty() {
            out.push(CadreGroup {
                unit: u.label.trim_start_matches('\u{3000}').to_owned(),
                cadres,
            });
        }
        if count >= MAX_CADRES {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kaohe_domain::UnitKind;

    fn unit(code: &str, name: &str, parent: Option<&str>) -> Unit {
        Unit {
            code: Code::parse(code).expect("code"),
            name: name.to_owned(),
            kind: UnitKind::County,
            parent: parent.map(|p| Code::parse(p).expect("code")),
        }
    }

    #[test]
    fn units_come_as_a_tree_indented_by_depth() {
        let units = [
            unit("340102", "瑶海区", Some("340100")),
            unit("340100", "合肥市", Some("340000")),
            unit("340000", "安徽省", None),
            unit("340101", "市直", Some("340100")),
            unit("990000", "孤立单位", Some("NOPE")),
        ];
        let got: Vec<(String, bool)> = tree_options(&units, &["340101"])
            .into_iter()
            .map(|o| (o.label, o.selected))
            .collect();
        assert_eq!(
            got,
            vec![
                ("安徽省".to_owned(), false),
                ("\u{3000}合肥市".to_owned(), false),
                ("\u{3000}\u{3000}市直".to_owned(), true),
                ("\u{3000}\u{3000}瑶海区".to_owned(), false),
                ("孤立单位".to_owned(), false),
            ]
        );
    }
}
