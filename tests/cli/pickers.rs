//! The pickers' search boxes in a real browser on the demo (#14): a unit tree narrowed to the
//! units whose name holds the text typed, with the units above them; a new poll's people
//! narrowed to a unit's group; the role form's cadre field searching every cadre as the
//! security administrator types a name.

use crate::browser::{DEMO_PASSWORD, browser_missing, capture, code_of};
use crate::util::Server;
use crate::webdriver::Browser;
use kaohe_store::testing::TestDatabase;
use std::collections::HashMap;

/// The values of the options of `#select` not hidden by the search.
async fn shown(browser: &Browser, select: &str) -> Vec<String> {
    let values = browser
        .eval(&format!(
            "return [...document.getElementById('{select}').options]\
             .filter(o => !o.hidden).map(o => o.value)"
        ))
        .await;
    values
        .as_array()
        .expect("options")
        .iter()
        .map(|v| v.as_str().expect("a value").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_unit_tree_and_the_cadres_are_found_by_typing_a_name() {
    if browser_missing() {
        return;
    }
    let db = TestDatabase::sqlite().await.unwrap();
    let server = Server::start(&db.url, &["--demo"]);
    let units = db.store.all_units().await.unwrap();
    let parent: HashMap<&str, &str> = units
        .iter()
        .filter_map(|u| Some((u.code.as_str(), u.parent.as_ref()?.as_str())))
        .collect();
    // A unit under another, found by its whole name, shown with the units above it.
    let deep = units
        .iter()
        .find(|u| {
            parent.contains_key(u.code.as_str())
                && units.iter().filter(|o| o.name.contains(&u.name)).count() == 1
        })
        .expect("a unit under another");
    let mut expected = vec![deep.code.to_string()];
    while let Some(up) = parent.get(expected[0].as_str()) {
        expected.insert(0, (*up).to_owned());
    }
    expected.insert(0, String::new());

    let browser = Browser::start("zh-CN").await;
    let page = browser
        .sign_in(&server.base, "demo_assessor", DEMO_PASSWORD, None)
        .await;
    assert!(page.contains("action=\"/logout\""), "signed in: {page}");
    browser.goto(&format!("{}/cadres", server.base)).await;
    let all = shown(&browser, "unit-picker").await;
    assert!(all.len() > 3, "the whole tree before a search: {all:?}");
    browser.type_into("#unit-picker-search", &deep.name).await;
    let narrowed = shown(&browser, "unit-picker").await;
    assert!(expected.len() >= 3, "{expected:?}");
    assert_eq!(
        narrowed, expected,
        "{} with the units above it, and \"any\"",
        deep.name
    );
    let chosen = browser
        .eval("return document.getElementById('unit-picker').value")
        .await;
    assert_eq!(chosen, deep.code.as_str(), "the one unit found is chosen");
    capture(&browser, "picker-units.png").await;
    browser.type_into("#unit-picker-search", "").await;
    browser
        .eval("document.getElementById('unit-picker-search').dispatchEvent(new Event('input'))")
        .await;
    assert_eq!(
        shown(&browser, "unit-picker").await,
        all,
        "cleared: all again"
    );

    // A new poll's people: typing a unit's name keeps that unit's group, whole, and hides the
    // groups of the others.
    browser.goto(&format!("{}/polls/new", server.base)).await;
    let groups = browser
        .eval(
            "return [...document.querySelectorAll('#people-picker optgroup')]\
             .map(g => [g.label, g.querySelectorAll('option').length])",
        )
        .await;
    let groups = groups.as_array().expect("groups");
    assert!(groups.len() > 1, "people grouped by unit: {groups:?}");
    let (label, size) = (
        groups[1][0].as_str().expect("a label").to_owned(),
        groups[1][1].as_u64().expect("a size"),
    );
    browser.type_into("#people-picker-search", &label).await;
    let visible = browser
        .eval(
            "return [...document.querySelectorAll('#people-picker optgroup')]\
             .filter(g => !g.hidden)\
             .map(g => [g.label, [...g.querySelectorAll('option')].filter(o => !o.hidden).length])",
        )
        .await;
    let visible = visible.as_array().expect("groups");
    assert!(
        visible
            .iter()
            .any(|g| g[0] == label.as_str() && g[1].as_u64() == Some(size)),
        "{label}'s group whole: {visible:?}"
    );
    assert!(
        visible.len() < groups.len(),
        "other units' groups hidden: {visible:?}"
    );

    // The role form: the last cadre by id, whom a list of the first 500 may not hold, is
    // offered once part of the name is typed.
    let cadres = db.store.all_cadres().await.unwrap();
    let last = cadres.iter().max_by_key(|c| c.id.clone()).expect("cadres");
    let typed = last.name.clone();
    drop(browser);
    let browser = Browser::start("zh-CN").await;
    let totp = code_of(&db, "demo_security_admin").await;
    let page = browser
        .sign_in(
            &server.base,
            "demo_security_admin",
            DEMO_PASSWORD,
            Some(&totp),
        )
        .await;
    assert!(page.contains("action=\"/logout\""), "signed in: {page}");
    browser
        .goto(&format!("{}/admin/roles/demo_official", server.base))
        .await;
    browser.type_into("#cadre", &typed).await;
    let mut offered = serde_json::Value::Null;
    for _ in 0..50 {
        offered = browser
            .eval(
                "return [...document.querySelectorAll('#cadre-list option')]\
                 .map(o => [o.value, o.textContent])",
            )
            .await;
        let list = offered.as_array().expect("options");
        if !list.is_empty() && list.iter().all(|o| o[1].as_str().unwrap().contains(&typed)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let list = offered.as_array().expect("options");
    assert!(
        !list.is_empty()
            && list.len() <= 20
            && list.iter().all(|o| o[1].as_str().unwrap().contains(&typed)),
        "the list holds those named {typed}: {offered}"
    );
    assert!(
        list.iter().any(|o| o[0] == last.id.as_str()),
        "{} is offered: {offered}",
        last.id
    );
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "axe-core: {violations:?}");
    drop(browser);
    assert!(server.terminate());
    db.finish().await.unwrap();
}
