//! Wide tables on a 390 px phone and on a 1366 px screen: the page never scrolls sideways,
//! the columns that matter are on screen, and a phone hides the secondary ones (`col-more`),
//! which each row's own page shows.

use crate::browser::{DEMO_PASSWORD, browser_missing, capture};
use crate::util::Server;
use crate::webdriver::Browser;
use kaohe_domain::access::totp;
use kaohe_store::testing::TestDatabase;

/// A demo administrator's TOTP code `steps` time steps from now (each browser signs in with a
/// step of its own: a step is accepted once).
async fn code_at(db: &TestDatabase, username: &str, steps: i64) -> String {
    let user = db
        .store
        .get_user(username)
        .await
        .unwrap()
        .expect("demo administrator");
    let secret = totp::base32_decode(user.totp_secret.as_deref().expect("TOTP")).unwrap();
    totp::code(
        &secret,
        time::OffsetDateTime::now_utc().unix_timestamp() + 30 * steps,
    )
}

/// Checks the table `table` on the current page: no sideways scrolling of the page, every
/// shown header inside the window, the headers `key` shown, and the secondary columns hidden
/// on a phone and shown on a wide screen.
async fn check_table(browser: &Browser, what: &str, table: &str, key: &[&str], phone: bool) {
    let facts = browser
        .eval(&format!(
            "const t = document.querySelector('{table}');\
             if (!t) return null;\
             const shown = [...t.querySelectorAll('thead th')]\
               .filter(th => getComputedStyle(th).display !== 'none')\
               .map(th => [th.textContent.trim(), Math.ceil(th.getBoundingClientRect().right)]);\
             const more = [...t.querySelectorAll('.col-more')]\
               .filter(c => getComputedStyle(c).display !== 'none').length;\
             return [window.innerWidth, document.documentElement.scrollWidth, shown, more,\
               t.querySelectorAll('.col-more').length];"
        ))
        .await;
    assert!(!facts.is_null(), "{what}: no table {table}");
    let inner = facts[0].as_i64().unwrap();
    let scroll = facts[1].as_i64().unwrap();
    assert!(
        scroll <= inner,
        "{what}: the page scrolls sideways: {scroll} > {inner}"
    );
    let shown: Vec<(String, i64)> = facts[2]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h[0].as_str().unwrap().to_owned(), h[1].as_i64().unwrap()))
        .collect();
    for (name, right) in &shown {
        assert!(
            *right <= inner,
            "{what}: column {name} cut off at {right} > {inner}"
        );
    }
    for k in key {
        assert!(
            shown.iter().any(|(name, _)| name == k),
            "{what}: key column {k} not shown: {shown:?}"
        );
    }
    let (visible_more, all_more) = (facts[3].as_u64().unwrap(), facts[4].as_u64().unwrap());
    assert!(all_more > 0, "{what}: no secondary column");
    if phone {
        assert_eq!(visible_more, 0, "{what}: secondary columns on a phone");
    } else {
        assert_eq!(
            visible_more, all_more,
            "{what}: every column on a wide screen"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wide_tables_fit_a_phone_and_a_laptop() {
    if browser_missing() {
        return;
    }
    let db = TestDatabase::sqlite().await.unwrap();
    let server = Server::start(&db.url, &["--demo"]);
    let phone = Browser::start_phone("zh-CN").await;
    let laptop = Browser::start("zh-CN").await;
    laptop.resize(1366, 768).await;
    // Who reads which list, and its key columns.
    let lists: [(&str, &str, &str, &[&str]); 6] = [
        (
            "demo_assessor",
            "/units",
            "#units",
            &["名称", "类型", "干部数"],
        ),
        (
            "demo_assessor",
            "/cadres",
            "#cadres",
            &["姓名", "单位", "职务"],
        ),
        (
            "demo_assessor",
            "/service/rectifications?all=1",
            "#queue",
            &["办件", "单位", "整改期限", "状态"],
        ),
        (
            "demo_system_admin",
            "/admin/users",
            "#users",
            &["用户名", "角色", "状态"],
        ),
        (
            "demo_security_admin",
            "/admin/roles",
            "#accounts",
            &["用户名", "角色", "范围"],
        ),
        (
            "demo_audit_admin",
            "/admin/audit",
            "#audit",
            &["时间", "操作人", "操作"],
        ),
    ];
    let mut signed_in = "";
    for (user, path, table, key) in lists {
        if user != signed_in {
            for (k, browser) in [&phone, &laptop].into_iter().enumerate() {
                if !signed_in.is_empty() {
                    browser.goto(&format!("{}/", server.base)).await;
                    browser.click("form[action=\"/logout\"] button").await;
                    browser
                        .wait_for("signed out", |html| !html.contains("action=\"/logout\""))
                        .await;
                }
                let totp = if user.ends_with("_admin") {
                    Some(code_at(&db, user, i64::try_from(k).unwrap()).await)
                } else {
                    None
                };
                let page = browser
                    .sign_in(&server.base, user, DEMO_PASSWORD, totp.as_deref())
                    .await;
                assert!(page.contains("action=\"/logout\""), "{user}: {page}");
            }
            signed_in = user;
        }
        for (browser, is_phone) in [(&phone, true), (&laptop, false)] {
            browser.goto(&format!("{}{path}", server.base)).await;
            let what = format!("{path} at {}", if is_phone { 390 } else { 1366 });
            check_table(browser, &what, table, key, is_phone).await;
        }
        let name = path.trim_start_matches('/').replace(['/', '?', '='], "-");
        capture(&phone, &format!("phone-table-{name}.png")).await;
    }
    // The records queue is a list of cards: it fits the phone too.
    phone.goto(&format!("{}/", server.base)).await;
    phone.click("form[action=\"/logout\"] button").await;
    phone
        .wait_for("signed out", |html| !html.contains("action=\"/logout\""))
        .await;
    phone
        .sign_in(&server.base, "demo_assessor", DEMO_PASSWORD, None)
        .await;
    phone.goto(&format!("{}/records/queue", server.base)).await;
    let fits = phone
        .eval("return [window.innerWidth, document.documentElement.scrollWidth];")
        .await;
    assert!(
        fits[1].as_i64().unwrap() <= fits[0].as_i64().unwrap(),
        "/records/queue scrolls sideways: {fits}"
    );
    drop(phone);
    drop(laptop);
    assert!(server.terminate());
    db.finish().await.unwrap();
}
