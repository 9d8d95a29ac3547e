//! The account screens: the system administrator's accounts, the security administrator's
//! roles and scopes, and every account's own page (password, second factor).

use crate::accounts::{PASSWORD, csrf_in, unix_now};
use crate::helpers::{Fetched, TestApp, spawn_apps_with};
use kaohe_domain::access::totp;
use kaohe_domain::{AuditEntry, Role};
use kaohe_web::shell::auth::AuthSettings;

/// These tests sign in many times from one address.
fn settings() -> AuthSettings {
    AuthSettings {
        login_burst: 100,
        ..AuthSettings::default()
    }
}

fn cookie(token: &str) -> String {
    format!("kaohe_session={token}")
}

fn session_of(r: &Fetched) -> String {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("kaohe_session="))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_owned()
}

impl TestApp {
    /// Sends a form as the session `token`, with its CSRF token.
    async fn submit(&self, token: &str, path: &str, fields: &[(&str, &str)]) -> Fetched {
        let csrf = csrf_in(&self.get_as(Some(token), "/account").await);
        assert!(
            !csrf.is_empty(),
            "{}: no CSRF token for the session",
            self.name
        );
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.post_form(path, &cookie(token), &form).await
    }

    async fn audit_log(&self) -> Vec<AuditEntry> {
        self.db.store.audit_entries(1, 1000).await.expect("audit")
    }

    /// The last audit entry with `action`.
    async fn last_entry(&self, action: &str) -> AuditEntry {
        self.audit_log()
            .await
            .into_iter()
            .rev()
            .find(|e| e.action == action)
            .unwrap_or_else(|| panic!("{}: no {action} entry", self.name))
    }

    /// Sets up a second factor through `/account/totp`; returns the secret.
    async fn enrol_totp(&self, token: &str, password: &str) -> String {
        let page = self.get_as(Some(token), "/account/totp").await;
        let secret = between(&page.body, "id=\"totp-secret\">", "<");
        let bytes = totp::base32_decode(&secret).expect("base32");
        let code = totp::code(&bytes, unix_now());
        let r = self
            .submit(
                token,
                "/account/totp",
                &[("secret", &secret), ("code", &code), ("password", password)],
            )
            .await;
        assert_eq!(r.status, 303, "{}: {}", self.name, r.body);
        secret
    }
}

fn between(text: &str, start: &str, end: &str) -> String {
    let rest = &text[text.find(start).unwrap_or_else(|| panic!("no {start}")) + start.len()..];
    rest[..rest.find(end).expect("end")].to_owned()
}

#[tokio::test]
async fn the_system_administrator_creates_resets_disables_and_enables_accounts() {
    for app in spawn_apps_with(settings()).await {
        let store = &app.db.store;
        let sys = app.sign_in_as("sys", &["system_admin"], &[], None).await;

        // A form without the session's CSRF token is refused.
        let forged = app
            .post_form(
                "/admin/users",
                &cookie(&sys),
                &[("username", "zhao"), ("password", "Initial-Pass-2025")],
            )
            .await;
        assert_eq!(forged.status, 403, "{}", app.name);
        // Each field is checked, with a message that says which.
        for (username, password, message) in [
            ("zhao", "short", "至少需要 12 个字符"),
            ("zhao", "Zhao-Initial-2025", "不能包含用户名"),
            ("zhao liu", "Initial-Pass-2025", "不能包含“ ”"),
            ("", "Initial-Pass-2025", "请填写用户名"),
        ] {
            let r = app
                .submit(
                    &sys,
                    "/admin/users",
                    &[
                        ("username", username),
                        ("display_name", "赵六"),
                        ("password", password),
                    ],
                )
                .await;
            assert_eq!(r.status, 400, "{}: {username:?} {password:?}", app.name);
            assert!(r.body.contains(message), "{message}: {}", r.body);
            assert!(r.body.contains("value=\"赵六\""), "the name is kept");
            assert!(!r.body.contains(password) || password.is_empty());
        }
        assert!(store.get_user("zhao").await.expect("read").is_none());

        let r = app
            .submit(
                &sys,
                "/admin/users",
                &[
                    ("username", "zhao"),
                    ("display_name", "赵六"),
                    ("password", "Initial-Pass-2025"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}: {}", app.name, r.body);
        assert_eq!(r.header("location"), "/admin/users?done=created");
        let zhao = store
            .get_user("zhao")
            .await
            .expect("read")
            .expect("created");
        assert!(
            zhao.roles.is_empty(),
            "the security administrator grants roles"
        );
        assert!(zhao.must_change_password);
        assert_eq!(zhao.display_name, "赵六");
        assert!(kaohe_web::shell::auth::verify_password(
            "Initial-Pass-2025",
            &zhao.password_hash
        ));
        let entry = app.last_entry("user.create").await;
        assert_eq!(
            (entry.actor.as_str(), entry.target.as_str()),
            ("sys", "zhao")
        );
        let after = entry.after.unwrap_or_default();
        assert!(after.contains("\"must_change_password\":true"), "{after}");
        let taken = app
            .submit(
                &sys,
                "/admin/users",
                &[("username", "zhao"), ("password", "Initial-Pass-2025")],
            )
            .await;
        assert_eq!(taken.status, 400);
        assert!(taken.body.contains("已被使用"), "{}", taken.body);

        let list = app.get_as(Some(&sys), "/admin/users?done=created").await;
        assert!(list.body.contains("账号已创建"), "{}", list.body);
        let row = list
            .table_rows("users")
            .into_iter()
            .find(|r| r.contains("zhao"))
            .expect("row of zhao");
        assert!(
            row.contains("待分配角色") && row.contains("须修改密码"),
            "{row}"
        );
        assert!(!list.body.contains("$argon2id"));

        // The new account signs in and must change its password before anything else.
        let login = app.try_login("zhao", "Initial-Pass-2025", "").await;
        assert_eq!(login.status, 303, "{}", login.body);
        assert_eq!(login.header("location"), "/account");
        let zhao_token = session_of(&login);
        let blocked = app.get_as(Some(&zhao_token), "/calendar").await;
        assert_eq!(
            (blocked.status, blocked.header("location")),
            (303, "/account")
        );
        assert_eq!(
            app.get_as(Some(&zhao_token), "/api/v1/calendar")
                .await
                .status,
            403
        );
        let page = app.get_as(Some(&zhao_token), "/account").await;
        assert!(page.body.contains("id=\"must-change\""), "{}", page.body);
        let changed = app
            .submit(
                &zhao_token,
                "/account/password",
                &[
                    ("current", "Initial-Pass-2025"),
                    ("new", "Own-Secret-Pass-9"),
                    ("confirm", "Own-Secret-Pass-9"),
                ],
            )
            .await;
        assert_eq!(changed.status, 303, "{}", changed.body);
        // Without a role the account is only signed in: its page and the calendar.
        assert_eq!(app.get_as(Some(&zhao_token), "/calendar").await.status, 200);
        assert_eq!(app.get_as(Some(&zhao_token), "/units").await.status, 403);

        // A reset: policy checked, sessions ended, a change forced again.
        let weak = app
            .submit(&sys, "/admin/users/zhao/password", &[("password", "weak")])
            .await;
        assert_eq!(weak.status, 400);
        assert!(weak.body.contains("账号 zhao："), "{}", weak.body);
        let reset = app
            .submit(
                &sys,
                "/admin/users/zhao/password",
                &[("password", "Reset-Pass-2026")],
            )
            .await;
        assert_eq!(
            (reset.status, reset.header("location")),
            (303, "/admin/users?done=reset")
        );
        let ended = app.get_as(Some(&zhao_token), "/account").await;
        assert!(
            ended.header("location").starts_with("/login"),
            "session ended"
        );
        let zhao = store.get_user("zhao").await.expect("read").expect("user");
        assert!(zhao.must_change_password);
        assert!(kaohe_web::shell::auth::verify_password(
            "Reset-Pass-2026",
            &zhao.password_hash
        ));
        let entry = app.last_entry("user.reset").await;
        assert_eq!(
            (entry.before.as_deref(), entry.after.as_deref()),
            (
                Some(r#"{"failed_logins":0,"must_change_password":false}"#),
                Some(r#"{"failed_logins":0,"must_change_password":true,"sessions_ended":true}"#)
            )
        );

        // Disable and enable, each audited with the state before and after.
        let login = app.try_login("zhao", "Reset-Pass-2026", "").await;
        let zhao_token = session_of(&login);
        let r = app.submit(&sys, "/admin/users/zhao/disable", &[]).await;
        assert_eq!(
            (r.status, r.header("location")),
            (303, "/admin/users?done=disabled")
        );
        assert!(
            store
                .get_user("zhao")
                .await
                .expect("read")
                .expect("user")
                .disabled
        );
        assert!(store.session(&zhao_token).await.expect("read").is_none());
        assert_eq!(
            app.try_login("zhao", "Reset-Pass-2026", "").await.status,
            401
        );
        let entry = app.last_entry("user.disable").await;
        assert_eq!(entry.before.as_deref(), Some(r#"{"disabled":false}"#));
        let r = app.submit(&sys, "/admin/users/zhao/enable", &[]).await;
        assert_eq!(r.status, 303);
        assert!(
            !store
                .get_user("zhao")
                .await
                .expect("read")
                .expect("user")
                .disabled
        );
        let entry = app.last_entry("user.enable").await;
        assert_eq!(
            entry.after.as_deref(),
            Some(r#"{"disabled":false,"sessions_ended":false}"#)
        );
        assert_eq!(
            app.try_login("zhao", "Reset-Pass-2026", "").await.status,
            303
        );

        // Not the administrator's own account, not a missing one.
        let own = app.submit(&sys, "/admin/users/sys/disable", &[]).await;
        assert_eq!(own.status, 400);
        assert!(
            !store
                .get_user("sys")
                .await
                .expect("read")
                .expect("user")
                .disabled
        );
        assert_eq!(
            app.submit(&sys, "/admin/users/nobody/disable", &[])
                .await
                .status,
            404
        );

        // No password, hash or secret ever reaches the audit log.
        for e in app.audit_log().await {
            let text = format!("{:?} {:?}", e.before, e.after);
            for secret in ["argon2", "Initial-Pass", "Reset-Pass", "Own-Secret"] {
                assert!(!text.contains(secret), "{}: {text}", e.action);
            }
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn the_security_administrator_assigns_roles_and_scopes_with_separation_of_duties() {
    for app in spawn_apps_with(settings()).await {
        let store = &app.db.store;
        let sec = app.sign_in_as("sec", &["security_admin"], &[], None).await;
        app.create_user("li", &[], &[], None).await;
        let li_before = app.login("li", None).await;

        let list = app.get_as(Some(&sec), "/admin/roles").await;
        assert_eq!(list.status, 200, "{}", app.name);
        let row = list
            .table_rows("accounts")
            .into_iter()
            .find(|r| r.contains(">li<"))
            .expect("row of li");
        assert!(
            row.contains("待分配角色") && row.contains("/admin/roles/li"),
            "{row}"
        );
        let form = app.get_as(Some(&sec), "/admin/roles/li").await;
        assert!(form.body.contains("value=\"assessor\""), "{}", form.body);
        assert!(!form.body.contains("value=\"public\""));

        for (fields, message) in [
            (vec![("role", "assessor")], "须指定至少一个单位"),
            (
                vec![("role", "assessor"), ("units", "NOPE")],
                "没有编码为 NOPE 的单位",
            ),
            (vec![("role", "rater"), ("units", "340100")], "请清空单位"),
            (vec![("role", "official")], "干部编号"),
            (
                vec![("role", "official"), ("cadre", "C999")],
                "没有编号为 C999 的干部",
            ),
            (
                vec![("role", "system_admin"), ("role", "audit_admin")],
                "三员分立",
            ),
            (vec![("role", "audit_admin")], "必须使用动态验证码"),
            (vec![("role", "public")], "未知角色"),
            (vec![], "请至少选择一个角色"),
        ] {
            let r = app.submit(&sec, "/admin/roles/li", &fields).await;
            assert_eq!(r.status, 400, "{}: {fields:?}: {}", app.name, r.body);
            assert!(r.body.contains(message), "{message}: {}", r.body);
        }
        assert!(
            store
                .get_user("li")
                .await
                .expect("read")
                .expect("li")
                .roles
                .is_empty()
        );
        // Never to one's own account.
        let own = app
            .submit(&sec, "/admin/roles/sec", &[("role", "rater")])
            .await;
        assert_eq!(own.status, 403);
        assert!(own.body.contains("不能为自己的账号分配角色"));

        let r = app
            .submit(
                &sec,
                "/admin/roles/li",
                &[("role", "assessor"), ("units", "340100"), ("cadre", "")],
            )
            .await;
        assert_eq!(
            (r.status, r.header("location")),
            (303, "/admin/roles?done=assigned"),
            "{}",
            r.body
        );
        let li = store.get_user("li").await.expect("read").expect("li");
        assert_eq!(li.roles, [Role::Assessor].into_iter().collect());
        assert_eq!(li.units.len(), 1);
        let entry = app.last_entry("user.roles").await;
        assert_eq!((entry.actor.as_str(), entry.target.as_str()), ("sec", "li"));
        assert_eq!(
            (entry.before.as_deref(), entry.after.as_deref()),
            (
                Some(r#"{"cadre":null,"roles":[],"units":[]}"#),
                Some(r#"{"cadre":null,"roles":["assessor"],"units":["340100"]}"#)
            )
        );
        // The scope in words on the list.
        let list = app.get_as(Some(&sec), "/admin/roles").await;
        let row = list
            .table_rows("accounts")
            .into_iter()
            .find(|r| r.contains(">li<"))
            .expect("row of li");
        assert!(row.contains("合肥市（340100）"), "{row}");
        // The old session ended; the new grants apply from the next sign-in, within scope.
        let old = app.get_as(Some(&li_before), "/units/340102").await;
        assert!(old.header("location").starts_with("/login"));
        let li_now = app.login("li", None).await;
        assert_eq!(app.get_as(Some(&li_now), "/units/340102").await.status, 200);
        assert_eq!(app.get_as(Some(&li_now), "/units/340000").await.status, 403);

        // An administrator role only once the account has a second factor, and then the
        // account may not remove it.
        app.create_user("lin", &[], &[], None).await;
        let lin = app.login("lin", None).await;
        app.enrol_totp(&lin, PASSWORD).await;
        // An administrator holds no business role: not the audit administrator as an
        // assessor (cadre data, the public's phones), not the system administrator as a
        // service system; said in the user's language.
        for (fields, message) in [
            (
                vec![
                    ("role", "audit_admin"),
                    ("role", "assessor"),
                    ("units", "340100"),
                ],
                "管理员不兼任业务角色",
            ),
            (
                vec![("role", "system_admin"), ("role", "service_system")],
                "管理员不兼任业务角色",
            ),
        ] {
            let r = app.submit(&sec, "/admin/roles/lin", &fields).await;
            assert_eq!(r.status, 400, "{}: {fields:?}: {}", app.name, r.body);
            assert!(r.body.contains(message), "{message}: {}", r.body);
        }
        let en = app
            .submit(
                &sec,
                "/admin/roles/lin?lang=en",
                &[
                    ("role", "security_admin"),
                    ("role", "official"),
                    ("cadre", "C003"),
                ],
            )
            .await;
        assert_eq!(en.status, 400, "{}", en.body);
        assert!(
            en.body.contains("an administrator holds no business role"),
            "{}",
            en.body
        );
        let r = app
            .submit(&sec, "/admin/roles/lin", &[("role", "audit_admin")])
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let secret = store
            .get_user("lin")
            .await
            .expect("read")
            .and_then(|u| u.totp_secret);
        let lin = app.login("lin", secret.as_deref()).await;
        assert_eq!(app.get_as(Some(&lin), "/admin/audit").await.status, 200);
        let keep = app
            .submit(&lin, "/account/totp/remove", &[("password", PASSWORD)])
            .await;
        assert_eq!(keep.status, 400);
        assert!(keep.body.contains("不能停用"), "{}", keep.body);
        app.finish().await;
    }
}

#[tokio::test]
async fn the_last_holder_of_an_administrator_role_is_neither_demoted_nor_disabled_on_the_web() {
    for app in spawn_apps_with(settings()).await {
        let store = &app.db.store;
        let sys = app.sign_in_as("sys", &["system_admin"], &[], None).await;
        let sec = app.sign_in_as("sec", &["security_admin"], &[], None).await;
        // The only security administrator cannot be disabled, nor the only system
        // administrator demoted; nothing changes and nothing is audited.
        let head = store.audit_head().await.expect("head");
        let r = app.submit(&sys, "/admin/users/sec/disable", &[]).await;
        assert_eq!(r.status, 409, "{}: {}", app.name, r.body);
        assert!(r.body.contains("只剩这一个启用的账号"), "{}", r.body);
        let r = app
            .submit(&sec, "/admin/roles/sys", &[("role", "rater")])
            .await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(r.body.contains("系统管理员只剩这一个"), "{}", r.body);
        let r = app
            .submit(&sec, "/admin/roles/sys?lang=en", &[("role", "rater")])
            .await;
        assert!(
            r.body.contains("last enabled account holding"),
            "{}",
            r.body
        );
        assert!(
            !store
                .get_user("sec")
                .await
                .expect("read")
                .expect("sec")
                .disabled
        );
        assert_eq!(
            store
                .get_user("sys")
                .await
                .expect("read")
                .expect("sys")
                .roles,
            [Role::SystemAdmin].into_iter().collect()
        );
        assert_eq!(store.audit_head().await.expect("head"), head);
        // With a second system administrator, the first may be demoted.
        app.create_user("sys2", &["system_admin"], &[], None).await;
        let r = app
            .submit(&sec, "/admin/roles/sys", &[("role", "rater")])
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        app.finish().await;
    }
}

#[tokio::test]
async fn account_holders_change_their_password_and_manage_a_second_factor() {
    for app in spawn_apps_with(settings()).await {
        let store = &app.db.store;
        app.create_user("wang", &["official"], &[], Some("C003"))
            .await;
        let mine = app.login("wang", None).await;
        let other = app.login("wang", None).await;

        let page = app.get_as(Some(&mine), "/account").await;
        assert_eq!(page.status, 200, "{}", app.name);
        assert!(page.body.contains("id=\"my-roles\">干部<"), "{}", page.body);
        assert!(page.body.contains("href=\"/account/totp\""));
        let en = app.get_as(Some(&mine), "/account?lang=en").await;
        assert!(en.body.contains("Change password"), "{}", en.body);

        // Enrolment: a new secret each time, never cached, stored only with a valid code and
        // the current password.
        let enrol = app.get_as(Some(&mine), "/account/totp").await;
        assert_eq!(enrol.header("cache-control"), "no-store");
        assert!(enrol.body.contains("<svg class=\"qr\""), "{}", enrol.body);
        let secret = between(&enrol.body, "id=\"totp-secret\">", "<");
        let uri = between(&enrol.body, "id=\"totp-uri\">", "<");
        assert!(
            uri.starts_with("otpauth://totp/kaohe:wang?secret=") && uri.contains(&secret),
            "{uri}"
        );
        let again = app.get_as(Some(&mine), "/account/totp").await;
        assert_ne!(between(&again.body, "id=\"totp-secret\">", "<"), secret);
        let bytes = totp::base32_decode(&secret).expect("base32");
        let code = totp::code(&bytes, unix_now());
        let wrong = format!(
            "{:06}",
            (code.parse::<u32>().expect("digits") + 500_000) % 1_000_000
        );
        for (fields, message) in [
            (
                [
                    ("secret", secret.as_str()),
                    ("code", wrong.as_str()),
                    ("password", PASSWORD),
                ],
                "验证码不正确",
            ),
            (
                [
                    ("secret", "AAAA"),
                    ("code", code.as_str()),
                    ("password", PASSWORD),
                ],
                "密钥无效",
            ),
            (
                [
                    ("secret", secret.as_str()),
                    ("code", code.as_str()),
                    ("password", "Wrong-Pass-123"),
                ],
                "当前密码不正确",
            ),
        ] {
            let r = app.submit(&mine, "/account/totp", &fields).await;
            assert_eq!(r.status, 400, "{}: {message}", app.name);
            assert!(r.body.contains(message), "{message}: {}", r.body);
        }
        let wang = store.get_user("wang").await.expect("read").expect("wang");
        assert_eq!(wang.totp_secret, None);
        assert_eq!(wang.failed_logins, 1, "a wrong current password counts");
        let r = app
            .submit(
                &mine,
                "/account/totp",
                &[("secret", &secret), ("code", &code), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(
            (r.status, r.header("location")),
            (303, "/account?done=totp"),
            "{}",
            r.body
        );
        assert_eq!(
            store
                .get_user("wang")
                .await
                .expect("read")
                .and_then(|u| u.totp_secret),
            Some(secret.clone())
        );
        assert!(
            store.session(&other).await.expect("read").is_none(),
            "others end"
        );
        assert!(
            store.session(&mine).await.expect("read").is_some(),
            "this one stays"
        );
        // Signing in now needs the code.
        assert_eq!(app.try_login("wang", PASSWORD, "").await.status, 401);
        let other = app.login("wang", Some(&secret)).await;

        // Removal needs the current password.
        let r = app
            .submit(
                &mine,
                "/account/totp/remove",
                &[("password", "Wrong-Pass-123")],
            )
            .await;
        assert_eq!(r.status, 400);
        let r = app
            .submit(&mine, "/account/totp/remove", &[("password", PASSWORD)])
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(
            store
                .get_user("wang")
                .await
                .expect("read")
                .and_then(|u| u.totp_secret),
            None
        );
        assert!(store.session(&other).await.expect("read").is_none());

        // A new password: confirmed, different, within the policy; other sessions end.
        let other = app.login("wang", None).await;
        for (current, new, confirm, message) in [
            (PASSWORD, "New-Password-2026", "New-Password-2027", "不一致"),
            (PASSWORD, PASSWORD, PASSWORD, "不能与当前密码相同"),
            (PASSWORD, "short", "short", "至少需要 12 个字符"),
            (
                "Wrong-Pass-123",
                "New-Password-2026",
                "New-Password-2026",
                "当前密码不正确",
            ),
        ] {
            let r = app
                .submit(
                    &mine,
                    "/account/password",
                    &[("current", current), ("new", new), ("confirm", confirm)],
                )
                .await;
            assert_eq!(r.status, 400, "{message}");
            assert!(r.body.contains(message), "{message}: {}", r.body);
        }
        let r = app
            .submit(
                &mine,
                "/account/password",
                &[
                    ("current", PASSWORD),
                    ("new", "New-Password-2026"),
                    ("confirm", "New-Password-2026"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert!(store.session(&other).await.expect("read").is_none());
        assert_eq!(app.get_as(Some(&mine), "/account").await.status, 200);
        assert_eq!(
            app.try_login("wang", "New-Password-2026", "").await.status,
            303
        );

        let actions: Vec<String> = app
            .audit_log()
            .await
            .into_iter()
            .map(|e| e.action)
            .collect();
        for action in [
            "user.totp_enrol",
            "user.totp_remove",
            "user.password",
            "user.reauth_failed",
        ] {
            assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
        }
        for e in app.audit_log().await {
            let text = format!("{:?} {:?}", e.before, e.after);
            assert!(
                !text.contains(&secret),
                "{}: the secret is never logged",
                e.action
            );
        }
        app.finish().await;
    }
}
