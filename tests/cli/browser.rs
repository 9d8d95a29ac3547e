//! A real headless Chromium, driven through chromedriver like a person at a keyboard, against
//! the demo server.
//!
//! Chromium and chromedriver come from Debian's `chromium` and `chromium-driver` packages, a
//! Chinese font for the screenshots from `fonts-wqy-microhei`.
//! Outside CI a missing browser skips these tests with a message; under `CI=true` it fails.

use crate::util::Server;
use crate::webdriver::{self, Browser};
use kaohe_domain::access::totp;
use kaohe_store::testing::TestDatabase;

/// The demo accounts' password, printed by `kaohe serve --demo`.
pub(crate) const DEMO_PASSWORD: &str = "Kaohe-Demo-2025";

pub(crate) fn browser_missing() -> bool {
    if webdriver::available() {
        return false;
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "CI=true but Chromium or chromedriver is not installed"
    );
    eprintln!(
        "SKIPPED: chromium or chromedriver not installed (apt-get install chromium chromium-driver)"
    );
    true
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_signs_in_and_finds_the_units_on_the_demo_home_page() {
    if browser_missing() {
        return;
    }
    let db = TestDatabase::sqlite().await.unwrap();
    let server = Server::start(&db.url, &["--demo"]);
    let units = db.store.all_units().await.unwrap();
    let root = units
        .iter()
        .find(|u| u.parent.is_none())
        .expect("a root unit");
    let browser = Browser::start("zh-CN").await;

    // Anonymous: the home page is Chinese, shows no organization data and offers to sign in.
    browser.goto(&format!("{}/", server.base)).await;
    let home = browser.source().await;
    assert!(
        home.contains("<html lang=\"zh-CN\""),
        "the home page is Chinese"
    );
    assert!(!home.contains(&root.name), "no unit names for the public");

    let signed_in = browser
        .sign_in(&server.base, "demo_assessor", DEMO_PASSWORD, None)
        .await;
    assert!(
        signed_in.contains("action=\"/logout\""),
        "signed in: {signed_in}"
    );
    browser.goto(&format!("{}/", server.base)).await;
    let list = browser.text("#units").await;
    assert!(
        list.contains(&root.name),
        "the home page lists the county {}: {list}",
        root.name
    );
    let first_child = units
        .iter()
        .find(|u| u.parent.as_ref() == Some(&root.code))
        .expect("a child unit");
    assert!(list.contains(&first_child.name), "and its units");

    // The English switch works in the browser too.
    browser.click("a[hreflang=en]").await;
    browser
        .wait_for("the English page", |html| {
            html.contains("<html lang=\"en\"")
        })
        .await;
    drop(browser);
    assert!(server.terminate());
    db.finish().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_signs_in_with_totp_and_failures_lock_an_account() {
    if browser_missing() {
        return;
    }
    let db = TestDatabase::sqlite().await.unwrap();
    let server = Server::start(&db.url, &["--demo"]);
    let admin = db
        .store
        .get_user("demo_system_admin")
        .await
        .unwrap()
        .expect("demo administrator");
    let secret = totp::base32_decode(
        admin
            .totp_secret
            .as_deref()
            .expect("administrators have TOTP"),
    )
    .unwrap();
    let browser = Browser::start("zh-CN").await;

    // Password alone is not enough for an administrator.
    let refused = browser
        .sign_in(&server.base, "demo_system_admin", DEMO_PASSWORD, None)
        .await;
    assert!(
        refused.contains("用户名、密码或验证码错误"),
        "refused without a code"
    );

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let page = browser
        .sign_in(
            &server.base,
            "demo_system_admin",
            DEMO_PASSWORD,
            Some(&totp::code(&secret, now)),
        )
        .await;
    assert!(
        page.contains("demo_system_admin") && page.contains("action=\"/logout\""),
        "signed in: {page}"
    );
    browser.click("form[action='/logout'] button").await;
    browser
        .wait_for("signing out", |html| !html.contains("action=\"/logout\""))
        .await;

    // Five wrong passwords lock the account at this address: then even the right one is
    // refused, worded like any other failure (nothing tells a guesser the account exists).
    for _ in 0..5 {
        let refused = browser
            .sign_in(&server.base, "demo_official", "wrong-password-1", None)
            .await;
        assert!(refused.contains("role=\"alert\""), "refused: {refused}");
    }
    let page = browser
        .sign_in(&server.base, "demo_official", DEMO_PASSWORD, None)
        .await;
    assert!(
        page.contains("用户名、密码或验证码错误"),
        "locked out: {page}"
    );
    assert!(!page.contains("锁定"), "locked out: {page}");
    assert!(browser.url().await.contains("/login"));
    drop(browser);
    assert!(server.terminate());
    db.finish().await.unwrap();
}

/// The current TOTP code of a demo administrator.
pub(crate) async fn code_of(db: &TestDatabase, username: &str) -> String {
    let user = db
        .store
        .get_user(username)
        .await
        .unwrap()
        .expect("demo administrator");
    let secret = totp::base32_decode(user.totp_secret.as_deref().expect("TOTP")).unwrap();
    totp::code(&secret, time::OffsetDateTime::now_utc().unix_timestamp())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_created_and_given_a_role_in_the_browser_signs_in() {
    if browser_missing() {
        return;
    }
    let db = TestDatabase::sqlite().await.unwrap();
    let server = Server::start(&db.url, &["--demo"]);
    let root = db
        .store
        .all_units()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.parent.is_none())
        .expect("a root unit");
    let browser = Browser::start("zh-CN").await;

    // The system administrator creates the account: a name and an initial password, no role.
    let code = code_of(&db, "demo_system_admin").await;
    browser
        .sign_in(
            &server.base,
            "demo_system_admin",
            DEMO_PASSWORD,
            Some(&code),
        )
        .await;
    browser.goto(&format!("{}/admin/users", server.base)).await;
    browser.type_into("#new-username", "qian").await;
    browser.type_into("#new-display-name", "钱七").await;
    browser
        .type_into("#new-password", "Initial-Pass-2025")
        .await;
    browser.click("#new-account button[type=submit]").await;
    let page = browser
        .wait_for("the account to be created", |html| {
            html.contains("id=\"notice\"") || html.contains("id=\"form-error\"")
        })
        .await;
    assert!(page.contains("账号已创建"), "created: {page}");
    assert!(page.contains("待分配角色"), "without a role: {page}");
    browser.click("form[action='/logout'] button").await;
    browser
        .wait_for("signing out", |html| !html.contains("action=\"/logout\""))
        .await;

    // The security administrator makes it an assessor of the whole county.
    let code = code_of(&db, "demo_security_admin").await;
    browser
        .sign_in(
            &server.base,
            "demo_security_admin",
            DEMO_PASSWORD,
            Some(&code),
        )
        .await;
    browser.goto(&format!("{}/admin/roles", server.base)).await;
    browser.click("a[href='/admin/roles/qian']").await;
    browser.click("input[name=role][value=assessor]").await;
    browser
        .click(&format!("#units option[value='{}']", root.code))
        .await;
    browser.click("#roles-form button[type=submit]").await;
    let page = browser
        .wait_for("the roles to be saved", |html| {
            html.contains("id=\"notice\"") || html.contains("id=\"form-error\"")
        })
        .await;
    assert!(page.contains("角色已保存"), "saved: {page}");
    browser.click("form[action='/logout'] button").await;
    browser
        .wait_for("signing out", |html| !html.contains("action=\"/logout\""))
        .await;

    // The new account signs in, must first replace the initial password, then sees its units.
    let page = browser
        .sign_in(&server.base, "qian", "Initial-Pass-2025", None)
        .await;
    assert!(
        page.contains("id=\"must-change\""),
        "a change is due: {page}"
    );
    assert!(browser.url().await.ends_with("/account"));
    browser.type_into("#current", "Initial-Pass-2025").await;
    browser.type_into("#new", "Own-Secret-Pass-2026").await;
    browser.type_into("#confirm", "Own-Secret-Pass-2026").await;
    browser.click("#password-form button[type=submit]").await;
    browser
        .wait_for("the password change", |html| html.contains("id=\"notice\""))
        .await;
    browser.goto(&format!("{}/", server.base)).await;
    let list = browser.text("#units").await;
    assert!(
        list.contains(&root.name),
        "an assessor of {}: {list}",
        root.name
    );
    drop(browser);
    assert!(server.terminate());
    db.finish().await.unwrap();
}

/// A county with one official, an unrated service case closed an hour ago (rated at
/// `/rate/rate-k1`) and a unit leader `leader` (password on the first line).
async fn seed_service_case(db: &TestDatabase) {
    use kaohe_domain::ratings::{Channel, Phone, ServiceCase};
    use kaohe_domain::{
        Cadre, CadreStatus, Code, Gender, NewAuditEntry, RankLevel, Unit, UnitKind,
    };
    let code = |s: &str| Code::parse(s).unwrap();
    let audit = |a: &str| NewAuditEntry::new("test", a, "browser.rs");
    db.store
        .upsert_units(
            &[Unit {
                code: code("340102"),
                name: "瑶海区".into(),
                kind: UnitKind::County,
                parent: None,
            }],
            &audit("seed.units"),
        )
        .await
        .unwrap();
    db.store
        .upsert_cadres(
            &[Cadre {
                id: code("C1"),
                name: "孙丽".into(),
                gender: Gender::Female,
                ethnicity: "汉族".into(),
                birth_date: time::macros::date!(1988 - 04 - 02),
                unit: code("340102"),
                post: "窗口工作人员".into(),
                rank: RankLevel::Staff1,
                is_leader: false,
                status: CadreStatus::Active,
            }],
            &audit("seed.cadres"),
        )
        .await
        .unwrap();
    let closed = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    db.store
        .upsert_cases(
            &[kaohe_store::StoredCase {
                case: ServiceCase {
                    id: code("K1"),
                    item: "不动产登记".into(),
                    unit: code("340102"),
                    window: Some(code("W-03")),
                    officials: vec![code("C1")],
                    channel: Channel::Window,
                    accepted_at: closed - time::Duration::hours(2),
                    closed_at: closed,
                    applicant: Some("周建华".into()),
                    phone: Some(Phone::parse("13955556666").unwrap()),
                },
                rating_code: "rate-k1".into(),
            }],
            &audit("seed.cases"),
        )
        .await
        .unwrap();
    let out = crate::user::run_with_stdin(
        &db.url,
        &[
            "user",
            "add",
            "leader",
            "--role",
            "unit_leader",
            "--unit",
            "340102",
        ],
        "Qinghe-Secret-2026\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// On a phone-sized screen, a member of the public rates a case: nothing is pre-selected,
/// the page fits the screen, and a bad review under their name opens a rectification.
async fn rate_on_a_phone(base: &str) {
    let phone = Browser::start_phone("zh-CN").await;
    phone.goto(&format!("{base}/rate/rate-k1")).await;
    let page = phone.source().await;
    assert!(page.contains("不动产登记") && page.contains("瑶海区"));
    let fits = phone
        .eval("return [window.innerWidth, document.documentElement.scrollWidth];")
        .await;
    let (inner, scroll) = (fits[0].as_i64().unwrap(), fits[1].as_i64().unwrap());
    assert!(inner <= 400, "a phone viewport: {inner}");
    assert!(scroll <= inner, "no sideways scrolling: {scroll} > {inner}");
    let checked = phone
        .eval("return document.querySelectorAll('input[name=level]:checked').length;")
        .await;
    assert_eq!(checked, 0, "no level is pre-selected");
    // Submitting without a level is refused by the browser; with one it goes through.
    phone.click("label.level-1 input").await;
    phone.click("input[name=tags][value=repeat_visits]").await;
    phone
        .type_into("textarea[name=comment]", "材料要求反复变化，跑了三次")
        .await;
    phone.click("input[name=real_name]").await;
    phone.click("button.primary").await;
    let done = phone
        .wait_for("the thanks", |html| html.contains("id=\"done\""))
        .await;
    assert!(done.contains("5 个工作日内"), "{done}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_review_from_a_phone_is_taken_from_open_to_closed() {
    if browser_missing() {
        return;
    }
    let db = TestDatabase::sqlite().await.unwrap();
    seed_service_case(&db).await;
    let server = Server::start(&db.url, &[]);
    rate_on_a_phone(&server.base).await;
    let case = kaohe_domain::Code::parse("K1").unwrap();
    let rating = db
        .store
        .rating_of_case(&case)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(rating.rating.level.value(), 1);
    assert!(rating.rating.real_name);

    // The unit leader works it through, step by step, in a desktop browser.
    let browser = Browser::start("zh-CN").await;
    let page = browser
        .sign_in(&server.base, "leader", "Qinghe-Secret-2026", None)
        .await;
    assert!(page.contains("action=\"/logout\""), "{page}");
    browser
        .goto(&format!("{}/service/rectifications", server.base))
        .await;
    assert!(browser.text("#queue").await.contains("K1"));
    browser.click("#queue a").await;
    browser
        .wait_for("the case", |h| h.contains("id=\"step-form\""))
        .await;
    assert!(browser.source().await.contains("139****6666"));
    for (kind, note) in [
        ("verify", "核实：材料清单未及时更新"),
        ("rectify", "已更新办事指南并对窗口人员培训"),
    ] {
        browser
            .click(&format!("select[name=kind] option[value={kind}]"))
            .await;
        browser.type_into("textarea[name=note]", note).await;
        browser.click("#step-form button").await;
        browser
            .wait_for(kind, |h| {
                h.contains(note) && !h.contains("id=\"step-error\"")
            })
            .await;
    }
    // The callback: the full number is on its own audited screen.
    browser.click("#reveal").await;
    let contact = browser
        .wait_for("the number", |h| h.contains("id=\"contact\""))
        .await;
    assert!(contact.contains("13955556666"));
    browser
        .goto(&format!("{}/service/rectifications/1", server.base))
        .await;
    browser
        .type_into("textarea[name=note]", "电话回访，群众认可整改")
        .await;
    browser.click("input[name=reached]").await;
    browser
        .click("select[name=verdict] option[value=satisfied]")
        .await;
    browser.click("#step-form button").await;
    browser
        .wait_for("the callback", |h| h.contains("电话回访，群众认可整改"))
        .await;
    browser.click("#step-form button").await;
    let closed = browser
        .wait_for("closed", |h| {
            h.contains("id=\"status\"") && h.contains("已办结")
        })
        .await;
    assert!(!closed.contains("id=\"step-form\""));
    let queue = db.store.rectification_queue(None, false, 10).await.unwrap();
    assert_eq!(queue[0].status.to_string(), "closed");
    drop(browser);
    assert!(server.terminate());
    db.finish().await.unwrap();
}

/// A framework of one indicator scored as its value (0–100), one quota over everyone.
const CYCLE_FRAMEWORK: &str = r#"[framework]
id = "browser_test"
version = "1"
name = "浏览器测试指标体系"

[grading]
scale = "annual"
thresholds = [90, 70, 60]
quota_scope = "all"

[[dimensions]]
id = "ji"
name = "绩"
weight = 100

  [[dimensions.indicators]]
  id = "task"
  name = "任务完成率"
  unit = "%"
  direction = "positive"
  weight = 100
  normalization = { method = "goalposts", min = 0, max = 100 }
"#;

/// Saves a screenshot of the current page into the screenshot folder (the user guide's
/// pictures) and checks the page with axe-core: no critical or serious violation.
pub(crate) async fn capture(browser: &Browser, name: &str) {
    browser.screenshot(&screenshot_dir().join(name)).await;
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{name}: axe-core: {violations:?}");
}

/// Where the browser tests put their screenshots: `KAOHE_SCREENSHOTS`, else a folder under
/// the system's temporary directory.
pub(crate) fn screenshot_dir() -> std::path::PathBuf {
    let dir = std::env::var_os("KAOHE_SCREENSHOTS").map_or_else(
        || std::env::temp_dir().join("kaohe-screenshots"),
        std::path::PathBuf::from,
    );
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// Values of a cycle's people (sorted by id) that tie two of them across the quota line of
/// k = floor(20% × n): the first k − 1 get 99, the next two 95, the others 50 to 89.
fn tied_values(people: &[kaohe_store::cycles::CyclePerson]) -> (String, [String; 2]) {
    let k = people.len() / 5;
    assert!(k >= 1, "at least five people: {}", people.len());
    let mut csv = String::from("person_id,task\n");
    for (i, p) in people.iter().enumerate() {
        let v = if i + 1 < k {
            99
        } else if i + 1 == k || i == k {
            95
        } else {
            50 + i % 40
        };
        csv.push_str(&format!("{},{v}\n", p.cadre));
    }
    let tied = [people[k - 1].cadre.to_string(), people[k].cadre.to_string()];
    (csv, tied)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_assessor_runs_a_cycle_through_the_committee_in_the_browser() {
    if browser_missing() {
        return;
    }
    let db = TestDatabase::sqlite().await.unwrap();
    let server = Server::start(&db.url, &["--demo"]);
    let root = db
        .store
        .all_units()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.parent.is_none())
        .expect("a root unit");
    let shots = screenshot_dir();
    let files = tempfile::tempdir().unwrap();
    let browser = Browser::start("zh-CN").await;
    browser
        .sign_in(&server.base, "demo_assessor", DEMO_PASSWORD, None)
        .await;
    let home = browser.source().await;
    assert!(home.contains("href=\"/cycles\""), "the 考核 menu item");

    // A framework version uploaded as a file; its page shows the methods in words.
    browser.goto(&format!("{}/frameworks", server.base)).await;
    let toml = files.path().join("browser_test.toml");
    std::fs::write(&toml, CYCLE_FRAMEWORK).unwrap();
    browser
        .choose_file("#framework-form input[type=file]", &toml)
        .await;
    browser.click("#framework-form button[type=submit]").await;
    let page = browser
        .wait_for("the framework stored", |html| html.contains("新版本已入库"))
        .await;
    assert!(page.contains("固定阈值法") && page.contains("正向"));
    capture(&browser, "cycles-01-framework.png").await;

    // A special assessment (专项考核: no sanctions applied) of the whole county.
    browser.goto(&format!("{}/cycles", server.base)).await;
    let year = time::OffsetDateTime::now_utc().year();
    browser
        .type_into("input[name=name]", "专项考核（浏览器测试）")
        .await;
    browser
        .eval(&format!(
            "document.querySelector('select[name=kind]').value = 'special';
             document.querySelector('input[name=start]').value = '{year}-01-01';
             document.querySelector('input[name=end]').value = '{year}-06-30';
             document.querySelector('select[name=framework]').value = 'browser_test@1';
             for (const o of document.querySelector('select[name=unit]').options) {{
               o.selected = o.value === '{}';
             }}
             return true;",
            root.code
        ))
        .await;
    capture(&browser, "cycles-02-list.png").await;
    browser.click("#create-form button[type=submit]").await;
    let page = browser
        .wait_for("the new cycle", |html| html.contains("id=\"step-open\""))
        .await;
    assert!(page.contains("草稿"));
    let url = browser.url().await;
    let id: i64 = url.rsplit('/').next().unwrap().parse().expect("cycle id");
    browser.click("#step-open").await;
    browser
        .wait_for("collecting", |html| html.contains("已完成：开始采集"))
        .await;

    // The values file, uploaded on the dashboard.
    let mut people = db.store.cycle_people(id).await.unwrap();
    people.sort_by(|a, b| a.cadre.cmp(&b.cadre));
    let (csv, tied) = tied_values(&people);
    let values = files.path().join("数值.csv");
    std::fs::write(&values, csv).unwrap();
    browser
        .choose_file("#values-form input[type=file]", &values)
        .await;
    browser.click("#values-form button[type=submit]").await;
    browser
        .wait_for("the values imported", |html| {
            html.contains("已完成：导入数据")
        })
        .await;
    browser.click("#step-compute").await;
    let page = browser
        .wait_for("the computation", |html| html.contains("已完成：计算"))
        .await;
    assert!(page.contains("id=\"distribution\""), "grades by unit");
    capture(&browser, "cycles-03-dashboard.png").await;
    browser.click("#results-link").await;
    browser
        .wait_for("the results", |html| html.contains("id=\"results\""))
        .await;
    capture(&browser, "cycles-04-results.png").await;
    // The results filtered by name or id: the first of the two tied.
    browser.type_into("input[name=q]", &tied[0]).await;
    browser.click("#filters button[type=submit]").await;
    let page = browser
        .wait_for("the filtered results", |html| html.contains("比例线并列"))
        .await;
    assert!(page.contains("比例线并列，待考核委员会决定"));
    capture(&browser, "cycles-04-results-filtered.png").await;

    // The committee awards one of the two tied and keeps the other, with reasons; another
    // assessor than the one who computed records its decisions and finalizes (four eyes).
    browser.goto(&format!("{}/cycles/{id}", server.base)).await;
    browser.click("#step-review").await;
    browser
        .wait_for("the review", |html| html.contains("已完成：提交委员会审议"))
        .await;
    browser.click("form[action='/logout'] button").await;
    browser
        .wait_for("signing out", |html| !html.contains("action=\"/logout\""))
        .await;
    browser
        .sign_in(&server.base, "demo_assessor2", DEMO_PASSWORD, None)
        .await;
    browser.goto(&format!("{}/cycles/{id}", server.base)).await;
    browser
        .wait_for("the dashboard", |html| {
            html.contains("id=\"committee-link\"")
        })
        .await;
    browser.click("#committee-link").await;
    browser
        .wait_for("the committee", |html| {
            html.contains(&format!("id=\"tie-{}\"", tied[0]))
        })
        .await;
    capture(&browser, "cycles-05-committee.png").await;
    let first = format!("#tie-{}", tied[0]);
    browser
        .type_into(
            &format!("{first} textarea"),
            "全年承担重点任务多，群众评价好",
        )
        .await;
    browser.click(&format!("{first} button")).await;
    browser
        .wait_for("the first decision", |html| html.contains("决定已记录"))
        .await;
    let second = format!("#tie-{}", tied[1]);
    browser
        .eval(&format!(
            "document.querySelector('{second} select').value = 'keep_next'; return true;"
        ))
        .await;
    browser
        .type_into(&format!("{second} textarea"), "名额已满，维持称职")
        .await;
    browser.click(&format!("{second} button")).await;
    let page = browser
        .wait_for("the finalize button", |html| {
            html.contains("id=\"step-finalize\"")
        })
        .await;
    assert!(page.contains("名额已满，维持称职"));
    capture(&browser, "cycles-06-decided.png").await;
    browser.click("#step-finalize").await;
    let page = browser
        .wait_for("the final cycle", |html| html.contains("已完成：定稿"))
        .await;
    assert!(page.contains("已定稿") && page.contains("id=\"amend-form\""));
    capture(&browser, "cycles-07-final.png").await;

    // An official sees their own results of final cycles only: last year's, not this year's
    // (computed, not final), and no 考核 menu item.
    browser.click("form[action='/logout'] button").await;
    browser
        .wait_for("signing out", |html| !html.contains("action=\"/logout\""))
        .await;
    browser
        .sign_in(&server.base, "demo_official", DEMO_PASSWORD, None)
        .await;
    browser.goto(&format!("{}/my/results", server.base)).await;
    let page = browser
        .wait_for("the official's results", |html| {
            html.contains("id=\"my-results\"")
        })
        .await;
    assert!(page.contains(&format!("{}年度考核", year - 1)), "{page}");
    assert!(
        !page.contains(&format!("{year}年度考核")),
        "not final: {page}"
    );
    assert!(!page.contains("href=\"/cycles\""), "no 考核 menu item");
    capture(&browser, "cycles-08-official.png").await;
    eprintln!("screenshots in {}", shots.display());
    drop(browser);
    assert!(server.terminate());
    db.finish().await.unwrap();
}

/// A 1×1 PNG: the photo of a field visit.
const PHOTO: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xDE, 0x00, 0x00, 0x00, 0x0C, 0x49, 0x44, 0x41, 0x54, 0x08, 0xD7, 0x63, 0xF8, 0xFF, 0xFF, 0x3F,
    0x00, 0x05, 0xFE, 0x02, 0xFE, 0xA7, 0x35, 0x81, 0x84, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E,
    0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// Whether the page fits the phone's width (no sideways scrolling).
async fn fits_the_phone(phone: &Browser) {
    let fits = phone
        .eval("return [window.innerWidth, document.documentElement.scrollWidth];")
        .await;
    let (inner, scroll) = (fits[0].as_i64().unwrap(), fits[1].as_i64().unwrap());
    assert!(inner <= 400, "a phone viewport: {inner}");
    assert!(scroll <= inner, "no sideways scrolling: {scroll} > {inner}");
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_records_a_field_visit_on_a_phone_verified_by_a_second_assessor() {
    if browser_missing() {
        return;
    }
    let db = TestDatabase::sqlite().await.unwrap();
    let server = Server::start(&db.url, &["--demo"]);
    let official = db
        .store
        .get_user("demo_official")
        .await
        .unwrap()
        .expect("the demo official")
        .cadre
        .expect("their cadre record");
    let files = tempfile::tempdir().unwrap();
    let photo = files.path().join("field-visit.png");
    std::fs::write(&photo, PHOTO).unwrap();
    let description = "浏览器测试：到村里查看防汛工作，现场解决两处隐患";

    // The first assessor records the visit on a phone, with a photo.
    let phone = Browser::start_phone("zh-CN").await;
    phone
        .sign_in(&server.base, "demo_assessor", DEMO_PASSWORD, None)
        .await;
    assert!(
        phone.source().await.contains("href=\"/records/new\""),
        "the menu offers to record a fact"
    );
    phone.goto(&format!("{}/records/new", server.base)).await;
    fits_the_phone(&phone).await;
    phone
        .type_into("input[name=cadre]", official.as_str())
        .await;
    phone
        .click("select[name=indicator] option[value='routine_quarterly/routine_ji']")
        .await;
    phone
        .click("select[name=source] option[value=field_visit]")
        .await;
    phone.type_into("input[name=points]", "2").await;
    phone
        .type_into("textarea[name=description]", description)
        .await;
    phone.choose_file("input[name=files]", &photo).await;
    capture(&phone, "records-01-new.png").await;
    phone.click("#record-form button[type=submit]").await;
    let page = phone
        .wait_for("the stored record", |html| html.contains("id=\"state\""))
        .await;
    assert!(
        page.contains("待核实") && page.contains("field-visit.png"),
        "{page}"
    );
    assert!(
        page.contains("id=\"four-eyes\""),
        "the recorder cannot verify it"
    );
    fits_the_phone(&phone).await;
    capture(&phone, "records-02-recorded.png").await;
    let url = phone.url().await;
    let id: i64 = url.rsplit('/').next().unwrap().parse().expect("record id");
    drop(phone);

    // The second assessor finds it in the queue and verifies it.
    let phone = Browser::start_phone("zh-CN").await;
    phone
        .sign_in(&server.base, "demo_assessor2", DEMO_PASSWORD, None)
        .await;
    phone.goto(&format!("{}/records/queue", server.base)).await;
    let card = phone.text(&format!("#record-{id}")).await;
    assert!(
        card.contains(description) && card.contains("现场看"),
        "{card}"
    );
    assert!(card.contains("待核实") && card.contains("+2"), "{card}");
    capture(&phone, "records-03-queue.png").await;
    // Its page has the review form and, in English, the same words translated.
    phone
        .goto(&format!("{}/records/{id}?lang=en", server.base))
        .await;
    let page = phone.source().await;
    assert!(page.contains("Awaiting verification") && page.contains("Field visit"));
    assert!(page.contains("action=\"/records/") && page.contains("Verify"));
    fits_the_phone(&phone).await;
    capture(&phone, "records-03b-record-en.png").await;
    phone.goto(&format!("{}/records/queue", server.base)).await;
    phone
        .click(&format!("#record-{id} ~ .review-forms button.verify"))
        .await;
    phone
        .wait_for("the queue without it", |html| {
            html.contains("id=\"queue") && !html.contains(&format!("id=\"record-{id}\""))
        })
        .await;
    drop(phone);

    // The official sees it on their own timeline, verified, with the photo.
    let phone = Browser::start_phone("zh-CN").await;
    phone
        .sign_in(&server.base, "demo_official", DEMO_PASSWORD, None)
        .await;
    phone.goto(&format!("{}/my/records", server.base)).await;
    let card = phone.text(&format!("#record-{id}")).await;
    assert!(
        card.contains("已核实") && card.contains("field-visit.png"),
        "{card}"
    );
    assert!(card.contains("demo_assessor2"), "who verified it: {card}");
    fits_the_phone(&phone).await;
    capture(&phone, "records-04-mine.png").await;
    drop(phone);
    let record = db.store.record(id).await.unwrap().expect("stored");
    assert_eq!(record.state().to_string(), "verified");
    assert_eq!(db.store.record_files(id).await.unwrap().len(), 1);
    assert!(server.terminate());
    db.finish().await.unwrap();
}

/// On a phone-sized screen, a rater votes in the demo's open poll with the code the demo
/// shows: every person and item on one screen without sideways scrolling, a confirmation
/// step, then the ballot is cast and the code spent.
#[tokio::test(flavor = "multi_thread")]
async fn a_rater_votes_with_the_demo_code_on_a_phone() {
    if browser_missing() {
        return;
    }
    let db = TestDatabase::sqlite().await.unwrap();
    let server = Server::start(&db.url, &["--demo"]);
    let phone = Browser::start_phone("zh-CN").await;
    phone.goto(&format!("{}/vote", server.base)).await;
    let code = phone
        .eval("return document.querySelector('#demo-vote a').textContent;")
        .await
        .as_str()
        .expect("the demo banner shows a code")
        .to_owned();
    assert_eq!(code.len(), 14, "{code}");
    // Typed as a person would: lower case, spaces for hyphens.
    phone
        .type_into("input[name=code]", &code.to_lowercase().replace('-', " "))
        .await;
    phone.click("#code-form button.primary").await;
    let ballot = phone
        .wait_for("the ballot", |html| html.contains("id=\"ballot\""))
        .await;
    assert!(ballot.contains("民主测评"), "{ballot}");
    let fits = phone
        .eval("return [window.innerWidth, document.documentElement.scrollWidth, document.querySelectorAll('fieldset.person').length, document.querySelectorAll('.grade-row').length, document.querySelectorAll('input[type=radio]:checked').length];")
        .await;
    let n = |k: usize| fits[k].as_i64().unwrap();
    assert!(n(0) <= 400, "a phone viewport: {}", n(0));
    assert!(n(1) <= n(0), "no sideways scrolling: {} > {}", n(1), n(0));
    assert_eq!(n(2), 5, "every person on one page");
    assert_eq!(n(3), 15, "every item of every person");
    assert_eq!(n(4), 0, "nothing pre-selected");
    // One grade by a tap, the others likewise through the page.
    phone
        .click(".grade-row:first-of-type label.grade:first-of-type input")
        .await;
    phone
        .eval("document.querySelectorAll('.grade-row').forEach((row, k) => { if (k > 0) row.querySelectorAll('input')[k % 3].click(); }); return 0;")
        .await;
    capture(&phone, "polls-01-ballot.png").await;
    phone.click("#to-confirm").await;
    let confirm = phone
        .wait_for("the confirmation", |html| html.contains("id=\"confirm\""))
        .await;
    assert!(
        confirm.contains("总体评价：优秀") && confirm.contains("廉："),
        "{confirm}"
    );
    phone.click("#cast").await;
    let done = phone
        .wait_for("the thanks", |html| html.contains("id=\"done\""))
        .await;
    assert!(done.contains("投票成功"), "{done}");
    let open = db
        .store
        .polls()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.id.as_str().starts_with("demo-open-"))
        .expect("the demo's open poll");
    let counts = db.store.code_counts(&open.id).await.unwrap();
    assert_eq!(counts[0].used, 1, "one ballot cast");
    // The same code again: refused, with the reason.
    phone
        .goto(&format!("{}/vote?code={code}", server.base))
        .await;
    assert!(phone.text("#done").await.contains("已经投过票"));
}

/// What a person must never read on a page: raw JSON, and the codes behind the words (audit
/// actions, rules, flags).
const RAW: [&str; 12] = [
    "{\"",
    "user.login",
    "cycle.compute",
    "quota_tie_committee",
    "blocked:",
    "missing:",
    "review:",
    "veto:",
    "committee_review",
    "import_values",
    "keep_next",
    "award_top",
];

/// Every demo role in a real browser: signed in, its home page and every page its menu and
/// home page link to open as a page in words — not refused (无权访问), not missing, with an
/// `<h1>`, no raw JSON and no raw code on screen, and no critical or serious accessibility
/// violation found by axe-core.
#[tokio::test(flavor = "multi_thread")]
async fn every_demo_role_finds_a_page_in_words_behind_every_link() {
    if browser_missing() {
        return;
    }
    let db = TestDatabase::sqlite().await.unwrap();
    let server = Server::start(&db.url, &["--demo"]);
    let browser = Browser::start("zh-CN").await;
    // The public pages first: signing in, voting.
    for path in ["/login", "/vote"] {
        browser.goto(&format!("{}{path}", server.base)).await;
        let violations = browser.accessibility_violations().await;
        assert!(violations.is_empty(), "{path}: axe-core: {violations:?}");
    }
    let mut visited = 0;
    for user in [
        "demo_system_admin",
        "demo_security_admin",
        "demo_audit_admin",
        "demo_assessor",
        "demo_unit_leader",
        "demo_official",
        "demo_rater",
    ] {
        let totp = if user.ends_with("_admin") {
            Some(code_of(&db, user).await)
        } else {
            None
        };
        let page = browser
            .sign_in(&server.base, user, DEMO_PASSWORD, totp.as_deref())
            .await;
        assert!(
            page.contains("action=\"/logout\""),
            "{user} signed in: {page}"
        );
        browser.goto(&format!("{}/", server.base)).await;
        capture(&browser, &format!("home-{user}.png")).await;
        let links = browser
            .eval(
                "return [...document.querySelectorAll('nav.main-nav a, main a')]\
                 .map(a => a.getAttribute('href'))\
                 .filter(h => h && h.startsWith('/') && !h.startsWith('/api/') && !h.startsWith('/lang/'))",
            )
            .await;
        let mut hrefs: Vec<String> = links
            .as_array()
            .expect("a list of links")
            .iter()
            .filter_map(|h| h.as_str().map(str::to_owned))
            .collect();
        hrefs.sort();
        hrefs.dedup();
        // The units list links every unit: two of them are enough.
        let mut units = 0;
        hrefs.retain(|h| {
            !h.starts_with("/units/") || {
                units += 1;
                units <= 2
            }
        });
        hrefs.insert(0, "/".to_owned());
        for href in &hrefs {
            browser.goto(&format!("{}{href}", server.base)).await;
            let text = browser
                .eval("return document.body.innerText")
                .await
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let h1 = browser
                .eval("return document.querySelectorAll('h1').length")
                .await
                .as_u64()
                .unwrap_or(0);
            assert!(h1 >= 1, "{user} {href}: no <h1>: {text}");
            let violations = browser.accessibility_violations().await;
            assert!(
                violations.is_empty(),
                "{user} {href}: axe-core: {violations:?}"
            );
            for refused in ["无权访问", "页面不存在", "服务器内部错误"] {
                assert!(!text.contains(refused), "{user} {href}: {refused}");
            }
            for raw in RAW {
                assert!(!text.contains(raw), "{user} {href} shows {raw:?}: {text}");
            }
            visited += 1;
        }
        browser.goto(&format!("{}/", server.base)).await;
        browser.click("form[action=\"/logout\"] button").await;
        browser
            .wait_for("signed out", |html| !html.contains("action=\"/logout\""))
            .await;
    }
    assert!(visited > 30, "only {visited} pages");
    drop(browser);
    assert!(server.terminate());
    db.finish().await.unwrap();
}

/// Whether `pdfinfo` and `pdftotext` are missing (skipped outside CI, refused under it).
pub(crate) fn pdf_tools_missing() -> bool {
    let found = std::process::Command::new("pdftotext")
        .arg("-v")
        .output()
        .is_ok();
    assert!(
        found || std::env::var("CI").map_or(true, |v| v != "true"),
        "CI=true but pdftotext is not installed (apt-get install poppler-utils)"
    );
    if !found {
        eprintln!("SKIPPED: pdftotext not installed (apt-get install poppler-utils)");
    }
    !found
}

/// What `pdfinfo` and `pdftotext` (Debian's poppler-utils) read from a PDF: its page count,
/// whether its pages are A4, and its text.
pub(crate) fn pdf_facts(path: &std::path::Path) -> (u32, bool, String) {
    let info = std::process::Command::new("pdfinfo")
        .arg(path)
        .output()
        .expect("pdfinfo (apt-get install poppler-utils)");
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    let pages = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let a4 = info.contains("(A4)");
    let text = std::process::Command::new("pdftotext")
        .args([path.as_os_str(), std::ffi::OsStr::new("-")])
        .output()
        .expect("pdftotext");
    (
        pages,
        a4,
        String::from_utf8_lossy(&text.stdout).into_owned(),
    )
}

/// Report pages print to A4 with their Chinese text, without the navigation: an assessor's
/// home page (cycles and grades by unit), a cycle's results and an official's own results,
/// printed by Chromium to PDF and read back.
#[tokio::test(flavor = "multi_thread")]
async fn report_pages_print_to_a4_with_their_chinese_text() {
    if browser_missing() || pdf_tools_missing() {
        return;
    }
    let db = TestDatabase::sqlite().await.unwrap();
    let server = Server::start(&db.url, &["--demo"]);
    let year = time::OffsetDateTime::now_utc().year();
    let annual = db
        .store
        .cycles()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == format!("{year}年度考核"))
        .expect("this year's annual assessment");
    let results = db.store.results(annual.id, annual.revision).await.unwrap();
    let first = results.iter().min_by_key(|r| r.rank).expect("results");
    let shots = screenshot_dir();
    let browser = Browser::start("zh-CN").await;
    browser
        .sign_in(&server.base, "demo_assessor", DEMO_PASSWORD, None)
        .await;
    for (path, file, words, min_pages) in [
        (
            "/".to_owned(),
            "print-assessor-home.pdf",
            vec![annual.name.clone(), "等次分布".to_owned()],
            2,
        ),
        (
            format!("/cycles/{}/results", annual.id),
            "print-cycle-results.pdf",
            vec![annual.name.clone(), first.name.clone(), "等次".to_owned()],
            1,
        ),
    ] {
        browser.goto(&format!("{}{path}", server.base)).await;
        if path == "/" {
            // The grades by unit drawn by ECharts from the table, which stays as its table
            // view: one bar segment (an SVG path) per unit and grade that is not zero.
            browser
                .wait_for("the chart", |html| {
                    html.contains("class=\"chart\"") && html.contains("<svg")
                })
                .await;
            let label = browser
                .eval(
                    "return document.querySelector('.chart[role=img]').getAttribute('aria-label')",
                )
                .await;
            assert!(
                label.as_str().unwrap_or_default().contains("等次"),
                "a text alternative: {label}"
            );
            let bars = browser
                .eval("return document.querySelectorAll('.chart svg path').length")
                .await
                .as_u64()
                .unwrap_or(0);
            let cells = browser
                .eval(
                    "return [...document.querySelectorAll('#home-grades-table tbody td')]\
                     .filter((td, i, all) => td.nextElementSibling && td.textContent.trim() !== '0').length",
                )
                .await
                .as_u64()
                .unwrap_or(0);
            assert!(cells > 0 && bars >= cells, "{bars} paths for {cells} bars");
            assert!(browser.source().await.contains("id=\"home-grades-table\""));
        }
        let pdf = shots.join(file);
        browser.print_pdf(&pdf).await;
        let (pages, a4, text) = pdf_facts(&pdf);
        assert!(pages >= min_pages, "{path}: {pages} pages");
        assert!(a4, "{path}: A4 pages");
        for w in &words {
            assert!(text.contains(w.as_str()), "{path}: {w} in the PDF: {text}");
        }
        for nav in ["退出", "跳到正文", "记录纪实"] {
            assert!(!text.contains(nav), "{path}: the menu printed ({nav})");
        }
    }
    drop(browser);
    assert!(server.terminate());
    db.finish().await.unwrap();
}
