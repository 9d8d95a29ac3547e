//! The audit log through the binary: what imports and exports record, and `kaohe audit verify`
//! naming every entry edited, removed or reordered behind kaohe's back, on every backend.

use crate::util::{ok, run, s};
use kaohe_store::testing::TestDatabase;

/// Drops the append-only triggers, as an attacker with database access would.
const DROP_TRIGGERS_SQLITE: &str = "DROP TRIGGER audit_log_no_update; \
    DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_head_no_delete; \
    DROP TRIGGER audit_head_forward_only";
const DROP_TRIGGERS_PG: &str = "DROP TRIGGER audit_log_no_update_delete ON audit_log; \
    DROP TRIGGER audit_log_no_truncate ON audit_log; DROP TRIGGER audit_head_guard ON audit_head; \
    DROP TRIGGER audit_head_no_truncate ON audit_head";

/// A fresh database with a chain of six entries: five imports and one export. Returns the
/// head printed by `kaohe audit verify`.
fn six_entries(db: &TestDatabase) -> String {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("gen");
    ok(
        &db.url,
        &["gen", "--cadres", "30", "--seed", "3", "--out", s(&files)],
    );
    // The organization tables only.
    for t in ["service_cases", "ratings"] {
        std::fs::remove_file(files.join(format!("{t}.csv"))).unwrap();
    }
    ok(&db.url, &["import", "all", s(&files)]);
    ok(&db.url, &["export", "--out", s(&dir.path().join("out"))]);
    let out = ok(&db.url, &["audit", "verify"]);
    assert!(out.starts_with("audit log OK: 6 entries, head 6:"), "{out}");
    out.trim().rsplit(' ').next().unwrap().to_owned()
}

async fn tamper(db: &TestDatabase, sql: &str) {
    let drop = if db.name == "postgres" {
        DROP_TRIGGERS_PG
    } else {
        DROP_TRIGGERS_SQLITE
    };
    db.raw_execute(drop).await.unwrap();
    db.raw_execute(sql).await.unwrap();
}

/// Runs `kaohe audit verify ARGS…`, asserts it fails, and returns what it printed.
fn verify_fails(db: &TestDatabase, args: &[&str]) -> String {
    let out = run(&db.url, &[&["audit", "verify"], args].concat());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !out.status.success(),
        "{}: verify must fail:\n{stdout}",
        db.name
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("audit log verification failed"),
        "{}",
        db.name
    );
    stdout
}

#[tokio::test(flavor = "multi_thread")]
async fn imports_and_exports_are_recorded_and_a_failed_import_is_not() {
    for db in TestDatabase::all().await.unwrap() {
        let head = six_entries(&db);
        let list = ok(&db.url, &["audit", "list", "--action", "import"]);
        let actions: Vec<&str> = list
            .lines()
            .map(|l| l.split('\t').nth(3).unwrap())
            .collect();
        assert_eq!(
            actions,
            [
                "import.units",
                "import.cadres",
                "import.appointments",
                "import.sanctions",
                "import.calendar"
            ],
            "{}: {list}",
            db.name
        );
        assert!(list.lines().next().unwrap().contains("units.csv"), "{list}");
        assert!(list.contains("{\"file\":"), "{list}");
        let last = ok(&db.url, &["audit", "list", "--limit", "1"]);
        assert!(
            last.starts_with("6\t") && last.contains("export.all"),
            "{last}"
        );

        // A refused import leaves no entry.
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("cadres.csv");
        std::fs::write(
            &bad,
            "id,name,gender,ethnicity,birth_date,unit,post,rank,is_leader,status\n\
             X1,无名,male,汉族,1980-01-01,NO-SUCH-UNIT,科员,staff1,false,active\n",
        )
        .unwrap();
        assert!(
            !run(&db.url, &["import", "cadres", s(&bad)])
                .status
                .success()
        );
        let out = ok(&db.url, &["audit", "verify", "--expect-head", &head]);
        assert_eq!(out.trim(), format!("audit log OK: 6 entries, head {head}"));

        // The archive export holds every entry with its hashes, and is itself recorded.
        let jsonl = dir.path().join("audit.jsonl");
        ok(&db.url, &["audit", "export", "--out", s(&jsonl)]);
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&jsonl)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 6);
        assert_eq!(lines[5]["hash"].as_str(), head.split(':').nth(1));
        let csv = dir.path().join("audit.csv");
        ok(
            &db.url,
            &[
                "audit",
                "export",
                "--out",
                s(&csv),
                "--from",
                "2000-01-01",
                "--to",
                "2000-12-31",
            ],
        );
        let text = std::fs::read_to_string(&csv).unwrap();
        assert_eq!(
            text,
            "\u{feff}seq,at,actor,action,target,before,after,prev_hash,hash\n"
        );
        let last = ok(&db.url, &["audit", "list", "--limit", "2"]);
        assert_eq!(last.matches("audit.export").count(), 2, "{last}");
        ok(&db.url, &["audit", "verify", "--expect-head", &head]);
        db.finish().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_entry_is_named() {
    for db in TestDatabase::all().await.unwrap() {
        six_entries(&db);
        tamper(
            &db,
            "UPDATE audit_log SET after_json = '{\"rows\":0}' WHERE seq = 2",
        )
        .await;
        let out = verify_fails(&db, &[]);
        assert_eq!(
            out.trim(),
            "entry 2: edited (its hash does not match its content)",
            "{}",
            db.name
        );
        db.finish().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_entry_is_named() {
    for db in TestDatabase::all().await.unwrap() {
        six_entries(&db);
        tamper(&db, "DELETE FROM audit_log WHERE seq = 3").await;
        let out = verify_fails(&db, &[]);
        assert_eq!(
            out.trim(),
            "entry 3: removed (missing after entry 2)",
            "{}",
            db.name
        );
        db.finish().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reordered_entries_are_named() {
    for db in TestDatabase::all().await.unwrap() {
        six_entries(&db);
        // Entries 2 and 4 trade places: each row keeps its seq and takes the other's content.
        tamper(
            &db,
            "CREATE TEMP TABLE o AS SELECT * FROM audit_log WHERE seq IN (2, 4); \
             UPDATE audit_log SET (at_us, actor, action, target, before_json, after_json, \
             prev_hash, hash) = (SELECT o.at_us, o.actor, o.action, o.target, o.before_json, \
             o.after_json, o.prev_hash, o.hash FROM o WHERE o.seq = 6 - audit_log.seq) \
             WHERE seq IN (2, 4)",
        )
        .await;
        let out = verify_fails(&db, &[]);
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            [
                "entry 2: reordered (it holds the content of entry 4)",
                "entry 4: reordered (it holds the content of entry 2)"
            ],
            "{}",
            db.name
        );
        db.finish().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cut_tail_is_caught_by_the_head() {
    for db in TestDatabase::all().await.unwrap() {
        let head = six_entries(&db);
        // Cut without fixing the head row: the database's own head catches it.
        tamper(&db, "DELETE FROM audit_log WHERE seq = 6").await;
        let out = verify_fails(&db, &[]);
        assert!(
            out.starts_with("entries 6..=6: removed from the end"),
            "{}: {out}",
            db.name
        );
        // Head row rewritten too: only the head recorded outside the database catches it.
        db.raw_execute(
            "UPDATE audit_head SET seq = 5, hash = (SELECT hash FROM audit_log WHERE seq = 5)",
        )
        .await
        .unwrap();
        let out = ok(&db.url, &["audit", "verify"]);
        assert!(out.starts_with("audit log OK: 5 entries"), "{out}");
        let out = verify_fails(&db, &["--expect-head", &head]);
        assert!(
            out.starts_with("entries 6..=6: removed from the end (the expected head is 6:"),
            "{}: {out}",
            db.name
        );
        db.finish().await.unwrap();
    }
}
