//! A small W3C WebDriver client over HTTP, driving Debian's Chromium through `chromedriver`
//! (package `chromium-driver`): enough to fill in forms, click and read pages like a person.

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A headless Chromium session. When dropped, the session is ended (chromedriver quits
/// Chromium) and chromedriver's process group, with any Chromium process left in it, is killed.
pub(crate) struct Browser {
    driver: Child,
    http: reqwest::Client,
    /// chromedriver's `127.0.0.1:PORT`.
    address: String,
    /// `/session/ID`.
    path: String,
    /// `http://127.0.0.1:PORT/session/ID`.
    session: String,
    _profile: tempfile::TempDir,
}

/// Whether Chromium and chromedriver are installed.
pub(crate) fn available() -> bool {
    ["chromium", "chromedriver"].iter().all(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session whose
    /// preferred language is `lang` (e.g. `zh-CN`).
    pub(crate) async fn start(lang: &str) -> Self {
        Self::start_with(lang, None).await
    }

    /// [`Browser::start`] emulating a phone: a 390 × 844 viewport at 3× with a phone's user
    /// agent and touch.
    pub(crate) async fn start_phone(lang: &str) -> Self {
        let phone = json!({
            "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 3.0, "touch": true, "mobile": true},
            "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36",
        });
        Self::start_with(lang, Some(phone)).await
    }

    async fn start_with(lang: &str, mobile: Option<Value>) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // A process group of its own, inherited by the Chromium it starts: killed as one.
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::new();
        let address = format!("127.0.0.1:{port}");
        let base = format!("http://{address}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([
            format!("--user-data-dir={}", profile.path().display()),
            format!("--lang={lang}"),
        ])
        .collect::<Vec<_>>();
        let mut options = json!({
            "binary": "/usr/bin/chromium",
            "args": args,
            "prefs": {"intl.accept_languages": lang},
        });
        if let Some(mobile) = mobile {
            options["mobileEmulation"] = mobile;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
        }}});
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        Self {
            driver,
            http,
            address,
            path: format!("/session/{session}"),
            session: format!("{base}/session/{session}"),
            _profile: profile,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let reply: Value = req.send().await.unwrap().json().await.unwrap();
        assert!(
            reply["value"].get("error").is_none(),
            "webdriver {path}: {reply}"
        );
        reply["value"].clone()
    }

    /// Opens a URL and waits for the page to load.
    pub(crate) async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// The current page's URL.
    pub(crate) async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The current page's HTML.
    pub(crate) async fn source(&self) -> String {
        let v = self.call(reqwest::Method::GET, "/source", None).await;
        v.as_str()
            .unwrap_or_else(|| panic!("source: {v}"))
            .to_owned()
    }

    /// Waits until the current page's HTML satisfies `done` (a form submission may still be
    /// on its way when a click returns), and returns that HTML.
    pub(crate) async fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let html = self.source().await;
            if done(&html) {
                return html;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {html}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("{css}: {found}"))
            .to_owned()
    }

    /// Types `text` into the element matching `css`.
    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/clear"),
            Some(json!({})),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Chooses the local file `path` in the file input matching `css`.
    pub(crate) async fn choose_file(&self, css: &str, path: &std::path::Path) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": path.display().to_string()})),
        )
        .await;
    }

    /// Saves a PNG screenshot of the whole page at `path` at the window's width (a phone stays
    /// a phone; the window is made as tall as the page, up to 4000 pixels). Chinese text needs
    /// a CJK font (Debian: `fonts-wqy-microhei`).
    pub(crate) async fn screenshot(&self, path: &std::path::Path) {
        let width = self.call(reqwest::Method::GET, "/window/rect", None).await["width"]
            .as_u64()
            .unwrap_or(1280);
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": 900})),
        )
        .await;
        let height = self
            .eval("return document.documentElement.scrollHeight;")
            .await
            .as_u64()
            .unwrap_or(900)
            .clamp(900, 4000);
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height + 140})),
        )
        .await;
        let encoded = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64_decode(encoded.as_str().expect("base64 PNG"));
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(path, png).expect("screenshot written");
    }

    /// Prints the current page to PDF as the browser's print dialog would, on A4 paper with
    /// the page's own print stylesheet, and saves it at `path`.
    pub(crate) async fn print_pdf(&self, path: &std::path::Path) {
        let encoded = self
            .call(
                reqwest::Method::POST,
                "/print",
                Some(json!({"page": {"width": 21.0, "height": 29.7}, "background": false})),
            )
            .await;
        let pdf = base64_decode(encoded.as_str().expect("base64 PDF"));
        assert!(pdf.starts_with(b"%PDF"), "a PDF");
        std::fs::write(path, pdf).expect("PDF written");
    }

    /// Sets the window's size in CSS pixels.
    pub(crate) async fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// Clicks the element matching `css` (waits for a page load it starts).
    pub(crate) async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Runs axe-core (tests/cli/axe, injected into the page) on the current page and returns
    /// its critical and serious violations, each as `rule (impact): N elements, first: selector`.
    pub(crate) async fn accessibility_violations(&self) -> Vec<String> {
        const AXE: &str = include_str!("axe/axe.min.js");
        self.eval(&format!("{AXE}; return 0;")).await;
        let found = self
            .call(
                reqwest::Method::POST,
                "/execute/async",
                Some(json!({
                    "script": "const done = arguments[arguments.length - 1];\
                        axe.run(document, { resultTypes: ['violations'] })\
                        .then(r => done(r.violations\
                            .filter(v => v.impact === 'critical' || v.impact === 'serious')\
                            .map(v => `${v.id} (${v.impact}): ${v.nodes.length} elements, first: ${v.nodes[0].target.join(' ')}`)))\
                        .catch(e => done([`axe failed: ${e}`]));",
                    "args": []
                })),
            )
            .await;
        found
            .as_array()
            .expect("a list of violations")
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub(crate) async fn eval(&self, script: &str) -> Value {
        self.eval_with(script, &[]).await
    }

    /// Runs `script` (a function body) in the page with `args` as its `arguments` and returns
    /// its value.
    pub(crate) async fn eval_with(&self, script: &str, args: &[Value]) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// The visible text of the element matching `css`.
    pub(crate) async fn text(&self, css: &str) -> String {
        let id = self.element(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Fills in and submits the login form as a person would, and waits for the answer: signed
    /// in (a logout button) or refused (an alert). Returns the page.
    pub(crate) async fn sign_in(
        &self,
        base: &str,
        username: &str,
        password: &str,
        totp: Option<&str>,
    ) -> String {
        self.goto(&format!("{base}/login")).await;
        self.type_into("#username", username).await;
        self.type_into("#password", password).await;
        if let Some(code) = totp {
            self.type_into("#totp", code).await;
        }
        self.click("form.login button[type=submit]").await;
        self.wait_for("the answer to signing in", |html| {
            html.contains("action=\"/logout\"") || html.contains("role=\"alert\"")
        })
        .await
    }
}

/// Decodes standard base64 (what WebDriver returns screenshots in).
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
    {
        let v = ALPHABET
            .iter()
            .position(|a| *a == c)
            .unwrap_or_else(|| panic!("not base64: {c}"));
        acc = (acc << 6) | u32::try_from(v).unwrap();
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap());
        }
    }
    out
}

impl Browser {
    /// Ends the WebDriver session, on which chromedriver quits Chromium and waits for its
    /// processes. A plain blocking HTTP/1.1 request: `Drop` may run inside the async runtime,
    /// where the async client cannot be awaited.
    fn end_session(&self) -> std::io::Result<()> {
        let mut stream = TcpStream::connect(&self.address)?;
        stream.set_read_timeout(Some(Duration::from_secs(20)))?;
        write!(
            stream,
            "DELETE {} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.path, self.address
        )?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply)?;
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.end_session();
        // chromedriver started its own process group (its pid): whatever is left in it goes too.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The processes of the process group `group`, each as `pid name` (`pgrep -l -g`).
fn group_processes(group: u32) -> Vec<String> {
    let out = Command::new("pgrep")
        .args(["-l", "-g", &group.to_string()])
        .output()
        .expect("pgrep (procps)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Chromium runs in chromedriver's process group, and nothing of that group outlives the
/// `Browser`: no orphaned Chromium piles up over a run of the browser tests.
#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_browser_leaves_no_chromium_behind() {
    if crate::browser::browser_missing() {
        return;
    }
    let browser = Browser::start("en").await;
    browser.goto("about:blank").await;
    let group = browser.driver.id();
    let running = group_processes(group);
    assert!(
        running
            .iter()
            .any(|p| p.contains("chrom") && !p.contains("chromedriver")),
        "Chromium in chromedriver's group: {running:?}"
    );
    drop(browser);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = group_processes(group);
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "left behind: {left:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
