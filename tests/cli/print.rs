//! Report pages print to A4 with their Chinese text and without the navigation, the demo
//! banner or the export links: a cycle's results and its committee, the rating figures, a
//! poll's results, the rectification queue, a unit's page and the audit log, printed by
//! headless Chromium to PDF and read back with pdftotext.

use crate::browser::{
    DEMO_PASSWORD, browser_missing, code_of, pdf_facts, pdf_tools_missing, screenshot_dir,
};
use crate::util::Server;
use crate::webdriver::Browser;
use kaohe_store::testing::TestDatabase;

/// Words of the menu and the page frame that a printed page must not hold.
const FRAME: [&str; 4] = ["退出", "跳到正文", "记录纪实", "English"];

/// What the screen shows and a printed page must not hold: the demo banner (its notice and
/// the voting code it offers) and the export links.
const NOT_PRINTED: [&str; 5] = [
    "本站数据均为虚构",
    "试一试民主测评投票",
    "导出：",
    "XLSX",
    "CSV",
];

/// A page to print: its path, the PDF's file name, words expected, the page count's bounds.
type Report = (String, &'static str, Vec<String>, (u32, u32));

/// Prints the page `report` names to PDF and checks what pdftotext reads back; returns whether
/// the page on screen offers export links (that the PDF leaves out).
async fn prints(browser: &Browser, base: &str, report: Report) -> bool {
    let (path, file, words, (min, max)) = report;
    browser.goto(&format!("{base}{path}")).await;
    let screen = browser.source().await;
    assert!(
        screen.contains("class=\"demo-banner\""),
        "{path}: the demo banner on screen"
    );
    let pdf = screenshot_dir().join(file);
    browser.print_pdf(&pdf).await;
    let (count, a4, text) = pdf_facts(&pdf);
    assert!(
        (min..=max).contains(&count),
        "{path}: {count} pages, expected {min} to {max}"
    );
    assert!(a4, "{path}: A4 pages");
    for w in &words {
        assert!(text.contains(w.as_str()), "{path}: {w} in the PDF: {text}");
    }
    for frame in FRAME.iter().chain(&NOT_PRINTED) {
        assert!(
            !text.contains(frame),
            "{path}: printed what the screen only shows ({frame})"
        );
    }
    screen.contains("id=\"export-xlsx\"")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_report_page_prints_to_a4_with_its_chinese_text() {
    if browser_missing() || pdf_tools_missing() {
        return;
    }
    let db = TestDatabase::sqlite().await.unwrap();
    let server = Server::start(&db.url, &["--demo"]);
    let year = time::OffsetDateTime::now_utc().year();
    let last = db
        .store
        .cycles()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == format!("{}年度考核", year - 1))
        .expect("last year's annual assessment");
    let results = db.store.results(last.id, last.revision).await.unwrap();
    let first = results.iter().min_by_key(|r| r.rank).expect("results");
    let units = db.store.all_units().await.unwrap();
    let root = units.iter().find(|u| u.parent.is_none()).expect("a root");
    let poll = db
        .store
        .poll(&kaohe_domain::Code::parse("demo-team-eval").unwrap())
        .await
        .unwrap()
        .expect("the demo's closed poll");
    let browser = Browser::start("zh-CN").await;
    browser
        .sign_in(&server.base, "demo_assessor", DEMO_PASSWORD, None)
        .await;
    let pages: [Report; 6] = [
        (
            format!("/cycles/{}/results", last.id),
            "print-last-year-results.pdf",
            vec![last.name.clone(), first.name.clone(), "等次".to_owned()],
            (1, 40),
        ),
        (
            format!("/cycles/{}/committee", last.id),
            "print-committee.pdf",
            vec!["考核委员会".to_owned(), last.name.clone()],
            (1, 10),
        ),
        (
            "/service/figures".to_owned(),
            "print-figures.pdf",
            vec!["满意度统计".to_owned(), "满意率".to_owned()],
            (1, 10),
        ),
        (
            "/polls/demo-team-eval".to_owned(),
            "print-poll-results.pdf",
            vec![
                poll.title.clone(),
                "测评结果".to_owned(),
                "优秀率".to_owned(),
            ],
            (1, 10),
        ),
        (
            "/service/rectifications".to_owned(),
            "print-rectifications.pdf",
            vec!["差评整改".to_owned(), "整改期限".to_owned()],
            (1, 20),
        ),
        (
            format!("/units/{}", root.code),
            "print-unit.pdf",
            vec![root.name.clone(), "领导班子".to_owned()],
            (1, 20),
        ),
    ];
    let mut with_exports = 0;
    for report in pages {
        with_exports += usize::from(prints(&browser, &server.base, report).await);
    }
    browser.click("form[action='/logout'] button").await;
    browser
        .wait_for("signing out", |html| !html.contains("action=\"/logout\""))
        .await;
    let code = code_of(&db, "demo_audit_admin").await;
    browser
        .sign_in(&server.base, "demo_audit_admin", DEMO_PASSWORD, Some(&code))
        .await;
    let audit = (
        "/admin/audit?action=poll.".to_owned(),
        "print-audit.pdf",
        vec![
            "审计日志".to_owned(),
            "新建民主测评".to_owned(),
            // A rater group by its name, not its id.
            format!("组别：{}", poll.groups[0].name),
        ],
        (1, 10),
    );
    with_exports += usize::from(prints(&browser, &server.base, audit).await);
    assert_eq!(
        with_exports, 5,
        "export links on screen: results, figures, poll, queue, audit"
    );
    drop(browser);
    assert!(server.terminate());
    db.finish().await.unwrap();
}
