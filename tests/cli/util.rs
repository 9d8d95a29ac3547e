//! Running the binary.

use std::path::Path;
use std::process::{Command, Output};

/// The `kaohe` binary under test.
pub(crate) fn kaohe() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kaohe"));
    // Settings come from the test alone, never from the developer's environment.
    for (key, _) in std::env::vars() {
        if key.starts_with("KAOHE_") && key != "KAOHE_TEST_DATABASE_URL" {
            cmd.env_remove(key);
        }
    }
    cmd.env("RUST_LOG", "warn");
    // The command line signs as the operating system's user: the same one for every test,
    // unless a test names another (four eyes on the committee's steps).
    cmd.env("USER", "operator");
    cmd
}

/// Runs `kaohe ARGS… --database-url URL` and returns its output.
pub(crate) fn run(url: &str, args: &[&str]) -> Output {
    run_cmd(kaohe(), url, args)
}

/// The ballot key file of the database at `url`: beside an SQLite file, as kaohe's default; for
/// a PostgreSQL database a file of its own in the temporary directory (kaohe's default, the
/// working directory, would be the source tree).
pub(crate) fn ballot_key_file(url: &str) -> std::path::PathBuf {
    match url.strip_prefix("sqlite://") {
        Some(path) => format!("{path}.ballot-key").into(),
        None => {
            let name: String = url
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect();
            std::env::temp_dir().join(format!("kaohe-test-{name}.ballot-key"))
        }
    }
}

fn run_cmd(mut cmd: Command, url: &str, args: &[&str]) -> Output {
    cmd.env("KAOHE_POLLS__BALLOT_KEY_FILE", ballot_key_file(url))
        .args(args)
        .args(["--database-url", url])
        .output()
        .expect("kaohe runs")
}

/// Asserts that `kaohe ARGS…` succeeded, returning standard output.
fn succeeded(out: &Output, args: &[&str]) -> String {
    assert!(
        out.status.success(),
        "kaohe {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `kaohe ARGS… --database-url URL` as the operating system's user `user`, asserting
/// success; returns standard output.
pub(crate) fn ok_as(user: &str, url: &str, args: &[&str]) -> String {
    let mut cmd = kaohe();
    cmd.env("USER", user);
    succeeded(&run_cmd(cmd, url, args), args)
}

/// Runs and asserts success, returning standard output.
pub(crate) fn ok(url: &str, args: &[&str]) -> String {
    succeeded(&run(url, args), args)
}

/// A path as a `&str` for arguments.
pub(crate) fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A `kaohe serve` process on a free port; killed when dropped.
pub(crate) struct Server {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
}

impl Server {
    /// Starts `kaohe serve --listen 127.0.0.1:0 ARGS…` on `url` and waits until it listens.
    pub(crate) fn start(url: &str, args: &[&str]) -> Self {
        Self::start_cmd(kaohe(), url, args)
    }

    /// [`Server::start`] logging at `filter` (e.g. `debug`) into the file `log`.
    pub(crate) fn start_logged(url: &str, args: &[&str], filter: &str, log: &Path) -> Self {
        let mut cmd = kaohe();
        cmd.env("RUST_LOG", filter)
            .stderr(std::fs::File::create(log).expect("log file"));
        Self::start_cmd(cmd, url, args)
    }

    fn start_cmd(mut cmd: Command, url: &str, args: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = cmd
            .env("KAOHE_POLLS__BALLOT_KEY_FILE", ballot_key_file(url))
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url", url])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("kaohe serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = std::io::BufReader::new(stdout);
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .expect("reads the listening line");
        let base = line
            .trim()
            .strip_prefix("kaohe listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .trim_end_matches('/')
            .to_owned();
        // Keep reading what the server prints, as a terminal would, so that it never writes
        // into a closed pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        Self { child, base }
    }

    /// Sends SIGTERM and waits for the process to end, returning whether it exited cleanly.
    pub(crate) fn terminate(mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.success();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "server did not stop after SIGTERM"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Server {
    /// Kills the process with SIGKILL, as a crash or `kill -9` would, and waits for it.
    pub(crate) fn kill_hard(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("wait");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A generated county of 60 cadres (seed 5) and cycle 1 over it: the 2025 annual assessment
/// with the `civil_servant_annual` preset, in draft.
pub(crate) async fn county_with_an_annual_cycle(db: &kaohe_store::testing::TestDatabase) {
    let url = db.url.as_str();
    ok(url, &["gen", "--cadres", "60", "--seed", "5", "--load"]);
    let county = db
        .store
        .all_units()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.parent.is_none())
        .unwrap()
        .code;
    ok(
        url,
        &[
            "cycle",
            "create",
            "--name",
            "2025年度考核",
            "--kind",
            "annual",
            "--from",
            "2025-01-01",
            "--to",
            "2025-12-31",
            "--framework",
            "civil_servant_annual",
            "--unit",
            county.as_str(),
        ],
    );
}
