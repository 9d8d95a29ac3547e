//! `kaohe user …` and the demo accounts of `kaohe serve --demo`.

use crate::util::{kaohe, ok, run};
use kaohe_store::testing::TestDatabase;
use std::io::{BufRead, Write};
use std::process::{Output, Stdio};

/// Runs `kaohe ARGS --database-url URL` with `input` on standard input.
pub(crate) fn run_with_stdin(url: &str, args: &[&str], input: &str) -> Output {
    let mut child = kaohe()
        .args(args)
        .args(["--database-url", url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kaohe runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("writes stdin");
    child.wait_with_output().expect("kaohe ends")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Signs in over HTTP (login form, then POST) and returns the session cookie header value.
pub(crate) async fn login(base: &str, username: &str, password: &str, code: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = http.get(format!("{base}/login")).send().await.unwrap();
    let token = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("kaohe_login="))
        .and_then(|c| c.split(';').next())
        .expect("login cookie")
        .to_owned();
    let r = http
        .post(format!("{base}/login"))
        .header("cookie", format!("kaohe_login={token}"))
        .form(&[
            ("csrf", token.as_str()),
            ("username", username),
            ("password", password),
            ("totp", code),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "login {username}");
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("kaohe_session="))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_owned();
    format!("kaohe_session={session}")
}

#[tokio::test(flavor = "multi_thread")]
async fn user_add_list_reset_disable() {
    for db in TestDatabase::all().await.unwrap() {
        let url = db.url.as_str();
        let add = run_with_stdin(
            url,
            &["user", "add", "root", "--role", "system_admin"],
            "Strong-Password-2025\n",
        );
        assert!(add.status.success(), "{}", text(&add));
        let out = text(&add);
        assert!(out.contains("TOTP secret"), "{out}");
        assert!(out.contains("otpauth://totp/kaohe:root?secret="), "{out}");

        // 三员分立: no account holds two administrator roles.
        let two = run_with_stdin(
            url,
            &[
                "user",
                "add",
                "both",
                "--role",
                "system_admin",
                "--role",
                "audit_admin",
            ],
            "Strong-Password-2025\n",
        );
        assert!(!two.status.success());
        assert!(
            text(&two).contains("two administrator roles"),
            "{}",
            text(&two)
        );
        // An administrator holds no business role.
        for roles in [
            ["audit_admin", "assessor"],
            ["system_admin", "service_system"],
        ] {
            let mixed = run_with_stdin(
                url,
                &[
                    "user", "add", "mixed", "--role", roles[0], "--role", roles[1], "--unit",
                    "340100",
                ],
                "Strong-Password-2025\n",
            );
            assert!(!mixed.status.success(), "{roles:?}");
            assert!(
                text(&mixed).contains("an administrator role holds no business role"),
                "{}",
                text(&mixed)
            );
        }
        // Password policy.
        let weak = run_with_stdin(url, &["user", "add", "weak", "--role", "rater"], "short\n");
        assert!(!weak.status.success());
        assert!(text(&weak).contains("at least 12"), "{}", text(&weak));
        // Scope must exist.
        let nounit = run_with_stdin(
            url,
            &["user", "add", "a1", "--role", "assessor", "--unit", "NOPE"],
            "Strong-Password-2025\n",
        );
        assert!(!nounit.status.success());

        let list = ok(url, &["user", "list"]);
        assert!(
            list.contains("root\troot\tsystem_admin\t\t\tyes\tactive"),
            "{list}"
        );
        assert!(!list.contains("both") && !list.contains("weak"), "{list}");

        let reset = run_with_stdin(url, &["user", "reset", "root"], "New-Password-2026\n");
        assert!(reset.status.success(), "{}", text(&reset));
        let user = db.store.get_user("root").await.unwrap().unwrap();
        assert!(user.password_hash.starts_with("$argon2id$"));
        assert!(kaohe_web::shell::auth::verify_password(
            "New-Password-2026",
            &user.password_hash
        ));

        ok(url, &["user", "disable", "root"]);
        assert!(ok(url, &["user", "list"]).contains("disabled"));
        assert!(!run(url, &["user", "disable", "nobody"]).status.success());

        let actions: Vec<String> = db
            .store
            .audit_entries(1, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        for action in ["user.create", "user.reset", "user.disable"] {
            assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
        }
        db.finish().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn totp_reset_reissues_a_lost_second_factor_once() {
    for db in TestDatabase::all().await.unwrap() {
        let url = db.url.as_str();
        let add = run_with_stdin(
            url,
            &["user", "add", "auditor", "--role", "audit_admin"],
            "Strong-Password-2025\n",
        );
        assert!(add.status.success(), "{}", text(&add));
        let old = db.store.get_user("auditor").await.unwrap().unwrap();
        let old_secret = old.totp_secret.unwrap();
        db.store
            .create_session(
                "lost-phone",
                "auditor",
                "c",
                time::OffsetDateTime::now_utc().unix_timestamp(),
            )
            .await
            .unwrap();

        let out = ok(url, &["user", "totp-reset", "auditor"]);
        let user = db.store.get_user("auditor").await.unwrap().unwrap();
        let new_secret = user.totp_secret.unwrap();
        assert_ne!(new_secret, old_secret, "{}", db.name);
        assert!(out.contains(&format!(": {new_secret}\n")), "{out}");
        assert!(
            out.contains(&format!(
                "otpauth://totp/kaohe:auditor?secret={new_secret}&"
            )),
            "{out}"
        );
        assert!(
            db.store.session("lost-phone").await.unwrap().is_none(),
            "sessions end"
        );
        // Printed once, never listed.
        assert!(!ok(url, &["user", "list"]).contains(&new_secret));
        let entry = db
            .store
            .audit_entries(1, 100)
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.action == "user.totp_reset")
            .expect("audited");
        assert!(entry.actor.starts_with("cli"), "{}", entry.actor);
        assert_eq!(entry.target, "auditor");
        assert_eq!(
            entry.after.as_deref(),
            Some(r#"{"sessions_ended":true,"totp":true}"#)
        );
        assert!(!format!("{:?}", entry.after).contains(&new_secret));

        let missing = run(url, &["user", "totp-reset", "nobody"]);
        assert!(!missing.status.success());
        assert!(
            text(&missing).contains("no user nobody"),
            "{}",
            text(&missing)
        );
        db.finish().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_demo_prints_demo_accounts_that_sign_in_and_a_normal_start_does_not() {
    let db = TestDatabase::sqlite().await.unwrap();
    let mut child = kaohe()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--demo",
            "--database-url",
            &db.url,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .strip_prefix("kaohe listening on ")
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let header = lines.next().unwrap().unwrap();
    assert!(header.starts_with("DEMO ACCOUNTS"), "{header}");
    lines.next().unwrap().unwrap(); // column names
    let mut accounts = Vec::new();
    for _ in 0..9 {
        let line = lines.next().unwrap().unwrap();
        let cols: Vec<String> = line.split('\t').map(str::to_owned).collect();
        accounts.push(cols);
    }
    let roles: Vec<&str> = accounts.iter().map(|c| c[2].as_str()).collect();
    assert_eq!(
        roles,
        [
            "system_admin",
            "security_admin",
            "audit_admin",
            "assessor",
            "unit_leader",
            "official",
            "rater",
            "service_system",
            "assessor"
        ]
    );
    assert_eq!(
        accounts[8][0], "demo_assessor2",
        "a second assessor, for four eyes"
    );
    // And an API token of the demo service system, which pushes cases.
    let token_line = lines.next().unwrap().unwrap();
    let token = token_line
        .rsplit(' ')
        .next()
        .filter(|t| t.starts_with("kh_"))
        .unwrap_or_else(|| panic!("{token_line}"))
        .to_owned();
    let pushed = reqwest::Client::new()
        .post(format!("{base}/api/v1/cases"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"cases": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 200);
    let assessor = &accounts[3];
    let session = login(&base, &assessor[0], &assessor[1], "").await;
    let http = reqwest::Client::new();
    let units = http
        .get(format!("{base}/api/v1/units"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(units.status(), 200);
    let anonymous = http
        .get(format!("{base}/api/v1/units"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // An administrator signs in with the printed TOTP secret.
    let admin = &accounts[0];
    let secret = kaohe_domain::access::totp::base32_decode(&admin[4]).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let code = kaohe_domain::access::totp::code(&secret, now);
    login(&base, &admin[0], &admin[1], &code).await;
    child.kill().unwrap();
    child.wait().unwrap();

    // A normal start never creates or prints demo accounts.
    let plain = TestDatabase::sqlite().await.unwrap();
    let mut child = kaohe()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &plain.url,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(
        lines
            .next()
            .unwrap()
            .unwrap()
            .starts_with("kaohe listening on ")
    );
    assert_eq!(plain.store.count_users().await.unwrap(), 0);
    child.kill().unwrap();
    child.wait().unwrap();
    db.finish().await.unwrap();
    plain.finish().await.unwrap();
}
