//! Help, configuration and migrations.

use crate::util::{kaohe, ok};

#[test]
fn help_lists_every_command() {
    let out = kaohe().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for command in [
        "serve", "migrate", "import", "export", "gen", "audit", "poll", "config",
    ] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(command)),
            "{command} missing:\n{help}"
        );
    }
}

#[test]
fn config_default_prints_the_documented_defaults() {
    let out = kaohe().args(["config", "default"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("database_url = \"sqlite://kaohe.db\"")
            && text.contains("listen = \"127.0.0.1:8080\"")
    );
    // The example, given back as a file, is accepted and changes nothing.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kaohe.toml");
    std::fs::write(&file, &text).unwrap();
    let shown = kaohe()
        .args(["config", "show", "--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(shown.status.success());
    let shown = String::from_utf8(shown.stdout).unwrap();
    assert!(shown.contains("listen = \"127.0.0.1:8080\""), "{shown}");
}

#[test]
fn file_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kaohe.toml");
    std::fs::write(&file, "database_url = \"sqlite://from-file.db\"\n[server]\nlisten = \"127.0.0.1:9000\"\n[rules.sanction_periods]\nwarning = 7\n").unwrap();
    let show = |envs: &[(&str, &str)], flags: &[&str]| {
        let out = kaohe()
            .args(["config", "show", "--config", file.to_str().unwrap()])
            .args(flags)
            .envs(envs.iter().copied())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let from_file = show(&[], &[]);
    assert!(
        from_file.contains("sqlite://from-file.db")
            && from_file.contains("127.0.0.1:9000")
            && from_file.contains("warning = 7")
    );
    let from_env = show(
        &[
            ("KAOHE_SERVER__LISTEN", "0.0.0.0:81"),
            ("KAOHE_DATABASE_URL", "sqlite://env.db"),
        ],
        &[],
    );
    assert!(
        from_env.contains("0.0.0.0:81") && from_env.contains("sqlite://env.db"),
        "{from_env}"
    );
    let from_flag = show(
        &[("KAOHE_DATABASE_URL", "sqlite://env.db")],
        &["--database-url", "postgres://u:secret@h/db"],
    );
    assert!(
        from_flag.contains("postgres://u:***@h/db") && !from_flag.contains("secret"),
        "{from_flag}"
    );
}

#[test]
fn a_typo_in_the_config_file_names_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kaohe.toml");
    std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:1\"\nlisen = \"x\"\n").unwrap();
    let out = kaohe()
        .args(["config", "show", "--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("lisen") && err.contains("line 3") && err.contains("kaohe.toml"),
        "{err}"
    );
}

#[test]
fn migrate_creates_an_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.db");
    let url = format!("sqlite://{}", db.display());
    assert!(ok(&url, &["migrate"]).contains("migrations applied"));
    assert!(db.is_file());
    ok(&url, &["migrate"]);
}

#[test]
fn an_unsupported_url_is_a_clear_error() {
    let out = crate::util::run("mysql://x/y", &["migrate"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sqlite://PATH or postgres://"));
}
