//! Accessibility of the pages the other browser tests do not reach, measured in headless
//! Chromium against the demo: axe-core finds no critical or serious violation on a bad review's
//! rectification case, the organizer's pages of polls and the printable code slips; on a phone,
//! the public pages (home, sign-in, rating, every step of voting) pass axe-core and every
//! control is a touch target of at least 44 × 44 CSS pixels.

use crate::browser::{DEMO_PASSWORD, browser_missing, pdf_facts, pdf_tools_missing};
use crate::util::Server;
use crate::webdriver::Browser;
use kaohe_store::testing::TestDatabase;

/// The smallest touch target, in CSS pixels (WCAG 2.5.5, Target Size).
const TARGET: f64 = 44.0;

/// Lists the page's visible controls smaller than [`TARGET`] in either direction, each as
/// `tag "text": width × height`. Measured: links, buttons, inputs, selects, text areas,
/// summaries; a radio button or checkbox inside its label is measured as the label, which is
/// what a finger taps. Exempt, as WCAG's inline exception allows: a link shown inline inside
/// running text (its nearest block holds text other than the link's own).
const SMALL_TARGETS: &str = r"
const min = arguments[0];
const squeeze = s => (s || '').replace(/\s+/g, '');
const blockOf = el => {
  let b = el.parentElement;
  while (b && getComputedStyle(b).display.startsWith('inline')) b = b.parentElement;
  return b;
};
const inText = a => getComputedStyle(a).display === 'inline'
  && squeeze(blockOf(a)?.textContent).length > squeeze(a.textContent).length;
const targets = new Set();
for (const el of document.querySelectorAll('a[href], button, input, select, textarea, summary')) {
  if (el.type === 'hidden') continue;
  const label = el.closest('label');
  if ((el.type === 'radio' || el.type === 'checkbox') && label) { targets.add(label); continue; }
  if (el.tagName === 'A' && inText(el)) continue;
  targets.add(el);
}
const shown = [...targets].filter(el => {
  const r = el.getBoundingClientRect();
  return el.checkVisibility({ visibilityProperty: true, opacityProperty: true })
    && r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0;
});
const small = shown.flatMap(el => {
  const r = el.getBoundingClientRect();
  if (r.width >= min && r.height >= min) return [];
  const text = (el.innerText || el.value || el.getAttribute('aria-label') || el.name || '')
    .trim().replace(/\s+/g, ' ').slice(0, 40);
  return [`${el.tagName.toLowerCase()} \u0022${text}\u0022: ${r.width.toFixed(1)} × ${r.height.toFixed(1)}`];
});
return { measured: shown.length, small };
";

/// How many controls the current page shows, and those smaller than 44 × 44 CSS pixels (see
/// [`SMALL_TARGETS`]).
async fn small_targets(browser: &Browser) -> (u64, Vec<String>) {
    let found = browser.eval_with(SMALL_TARGETS, &[TARGET.into()]).await;
    let measured = found["measured"].as_u64().unwrap_or(0);
    let small = found["small"]
        .as_array()
        .expect("a list of small targets")
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect();
    (measured, small)
}

/// The current page has an `<h1>` and axe-core finds no critical or serious violation.
async fn passes_axe(browser: &Browser, what: &str) {
    let h1 = browser
        .eval("return document.querySelectorAll('h1').length")
        .await
        .as_u64()
        .unwrap_or(0);
    assert!(h1 >= 1, "{what}: no <h1>");
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{what}: axe-core: {violations:?}");
}

/// The current page passes axe-core and every control is a touch target of 44 × 44 or more.
async fn fits_a_finger(phone: &Browser, what: &str) {
    passes_axe(phone, what).await;
    let (measured, small) = small_targets(phone).await;
    assert!(measured > 0, "{what}: no control measured");
    assert!(
        small.is_empty(),
        "{what}: touch targets under 44 × 44 px: {small:#?}"
    );
}

/// Signs out through the header's button and waits for the signed-out page.
async fn sign_out(browser: &Browser) {
    browser.click("form[action='/logout'] button").await;
    browser
        .wait_for("signing out", |html| !html.contains("action=\"/logout\""))
        .await;
}

/// A unit leader's rectification case of a bad review, and the organizer's pages of polls:
/// the list, the creation form, a closed poll with its results, an open poll, its paper-count
/// form and the A4 sheet of code slips (which prints the codes and nothing of the page frame).
#[tokio::test(flavor = "multi_thread")]
async fn the_rectification_case_and_the_organizers_poll_pages_pass_axe() {
    if browser_missing() || pdf_tools_missing() {
        return;
    }
    let db = TestDatabase::sqlite().await.unwrap();
    let server = Server::start(&db.url, &["--demo"]);
    let open = db
        .store
        .polls()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.id.as_str().starts_with("demo-open-"))
        .expect("the demo's open poll");
    let browser = Browser::start("zh-CN").await;

    // The unit leader's case page: its history, the step form and the appeal form.
    browser
        .sign_in(&server.base, "demo_unit_leader", DEMO_PASSWORD, None)
        .await;
    browser
        .goto(&format!("{}/service/rectifications?all=1", server.base))
        .await;
    let case = browser
        .eval("return document.querySelector('#queue a').getAttribute('href')")
        .await
        .as_str()
        .expect("a case in the unit leader's queue")
        .to_owned();
    assert!(case.starts_with("/service/rectifications/"), "{case}");
    browser.goto(&format!("{}{case}", server.base)).await;
    let page = browser.source().await;
    assert!(page.contains("id=\"status\""), "the case page: {page}");
    passes_axe(&browser, &case).await;
    sign_out(&browser).await;

    browser
        .sign_in(&server.base, "demo_assessor", DEMO_PASSWORD, None)
        .await;
    let poll = format!("/polls/{}", open.id);
    for (path, mark) in [
        ("/polls".to_owned(), "href=\"/polls/demo-team-eval\""),
        ("/polls/new".to_owned(), "action=\"/polls\""),
        ("/polls/demo-team-eval".to_owned(), "id=\"reported-groups\""),
        (poll.clone(), "codes-form"),
        (format!("{poll}/paper?group=public"), "name=\"csrf\""),
    ] {
        browser.goto(&format!("{}{path}", server.base)).await;
        let page = browser.source().await;
        assert!(page.contains(mark), "{path}: {mark} missing: {page}");
        passes_axe(&browser, &path).await;
    }
    // Each count of the paper form is labelled with its person, item and grade.
    let labels = browser
        .eval(
            "const inputs = [...document.querySelectorAll('#paper-counts input')];\
             return [inputs.length, new Set(inputs.map(i => i.getAttribute('aria-label'))).size];",
        )
        .await;
    assert!(
        labels[0].as_u64().unwrap_or(0) >= 12 && labels[0] == labels[1],
        "one label per count: {labels}"
    );

    // Three code slips drawn on the open poll's page: shown once, printed on one A4 page.
    browser.goto(&format!("{}{poll}", server.base)).await;
    browser
        .type_into(".codes-form input[name=count]", "3")
        .await;
    browser.click(".codes-form button[type=submit]").await;
    browser
        .wait_for("the slips", |html| html.contains("id=\"slips\""))
        .await;
    let codes = browser
        .eval("return [...document.querySelectorAll('.slip-code')].map(c => c.textContent)")
        .await;
    let codes: Vec<&str> = codes
        .as_array()
        .expect("the slips' codes")
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert_eq!(codes.len(), 3, "{codes:?}");
    passes_axe(&browser, "the code slips").await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("slips.pdf");
    browser.print_pdf(&pdf).await;
    let (pages, a4, text) = pdf_facts(&pdf);
    assert!(pages == 1 && a4, "{pages} pages, A4: {a4}");
    for code in &codes {
        assert!(text.contains(code), "{code} printed: {text}");
    }
    for frame in ["本站数据均为虚构", "试一试", "退出", "只显示这一次"] {
        assert!(
            !text.contains(frame),
            "{frame} printed on the slips: {text}"
        );
    }
    drop(browser);
    assert!(server.terminate());
    db.finish().await.unwrap();
}

/// On a phone, the public pages — the home page, signing in, a service case to rate, a
/// window's rating form, and voting with the demo's code through the ballot, its confirmation
/// and the thanks — pass axe-core and every control is a touch target of 44 × 44 or more.
#[tokio::test(flavor = "multi_thread")]
async fn public_pages_on_a_phone_pass_axe_with_44_px_touch_targets() {
    if browser_missing() {
        return;
    }
    let db = TestDatabase::sqlite().await.unwrap();
    let server = Server::start(&db.url, &["--demo"]);
    let mut cases = db.store.all_cases().await.unwrap();
    cases.sort_by_key(|c| std::cmp::Reverse(c.case.closed_at));
    let mut unrated = None;
    for c in cases {
        if c.case.window.is_some() && db.store.rating_of_case(&c.case.id).await.unwrap().is_none() {
            unrated = Some(c);
            break;
        }
    }
    let case = unrated.expect("a recent demo case at a window, not yet rated");
    let window = case.case.window.as_ref().expect("a window");
    let phone = Browser::start_phone("zh-CN").await;

    for (path, mark) in [
        ("/".to_owned(), "href=\"/login\""),
        ("/login".to_owned(), "id=\"username\""),
        (format!("/rate/{}", case.rating_code), "name=\"level\""),
        (
            format!("/rate/w/{}/{window}", case.case.unit),
            "name=\"phone_last4\"",
        ),
        ("/vote".to_owned(), "id=\"code-form\""),
    ] {
        phone.goto(&format!("{}{path}", server.base)).await;
        let page = phone.source().await;
        assert!(page.contains(mark), "{path}: {mark} missing: {page}");
        fits_a_finger(&phone, &path).await;
    }

    // Voting, step by step, with the code on the demo banner.
    let code = phone
        .eval("return document.querySelector('#demo-vote a').textContent;")
        .await
        .as_str()
        .expect("the demo banner shows a code")
        .to_owned();
    phone.type_into("input[name=code]", &code).await;
    phone.click("#code-form button.primary").await;
    phone
        .wait_for("the ballot", |html| html.contains("id=\"ballot\""))
        .await;
    fits_a_finger(&phone, "the ballot").await;
    phone
        .eval("document.querySelectorAll('.grade-row').forEach(row => row.querySelector('input').click()); return 0;")
        .await;
    phone.click("#to-confirm").await;
    phone
        .wait_for("the confirmation", |html| html.contains("id=\"confirm\""))
        .await;
    fits_a_finger(&phone, "the confirmation").await;
    phone.click("#cast").await;
    let done = phone
        .wait_for("the thanks", |html| html.contains("id=\"done\""))
        .await;
    assert!(done.contains("投票成功"), "{done}");
    fits_a_finger(&phone, "the thanks").await;
    drop(phone);
    assert!(server.terminate());
    db.finish().await.unwrap();
}
