//! A real headless Chromium against the demo server.
//!
//! Chromium comes from Debian's `chromium` package. Outside CI a missing browser skips the
//! test with a message; under `CI=true` it is a failure.

use crate::util::Server;
use kaohe_store::testing::TestDatabase;
use std::process::Command;

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// The DOM of `url` after Chromium, set to prefer `lang`, has loaded it.
fn dump_dom(browser: &str, lang: &str, url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--lang={lang}"))
        .arg(format!("--accept-lang={lang}"))
        .args(["--dump-dom", url])
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_opens_the_demo_home_page_and_finds_the_units() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but Chromium is not installed"
        );
        eprintln!("SKIPPED: chromium not installed (apt-get install chromium)");
        return;
    };
    let db = TestDatabase::sqlite().await.unwrap();
    let server = Server::start(&db.url, &["--demo"]);
    let units = db.store.all_units().await.unwrap();

    let home = dump_dom(browser, "zh-CN", &format!("{}/", server.base));
    assert!(
        home.contains("<html lang=\"zh-CN\""),
        "home page is Chinese"
    );
    let list_start = home
        .find("id=\"units\"")
        .expect("the home page lists units");
    let list = &home[list_start..];
    let root = units
        .iter()
        .find(|u| u.parent.is_none())
        .expect("a root unit");
    assert!(
        list.contains(&root.name),
        "the list shows the county {}",
        root.name
    );

    // An English browser gets English pages.
    let en = dump_dom(browser, "en-US", &format!("{}/units", server.base));
    assert!(en.contains("<html lang=\"en\""));
    assert!(en.contains("id=\"units\""));
    let rows = en.matches("<tr").count();
    assert!(rows > 5, "the units table has rows ({rows})");
    assert!(server.terminate());
    db.finish().await.unwrap();
}
