//! The storage suite: every test runs on SQLite, and on PostgreSQL when
//! `KAOHE_TEST_DATABASE_URL` is set (always in CI).
#![allow(clippy::unwrap_used, missing_docs)]

use kaohe_domain::*;
use kaohe_store::testing::TestDatabase;
use kaohe_store::{CadreQuery, LastHolder, Store, UnitQuery};
use std::collections::BTreeSet;
use time::macros::date;

#[path = "store/cycles.rs"]
mod cycles;
#[path = "store/polls.rs"]
mod polls;
#[path = "store/records.rs"]
mod records;

fn audit(action: &str) -> NewAuditEntry {
    NewAuditEntry::new("test", action, "store.rs")
}

fn code(s: &str) -> Code {
    Code::parse(s).unwrap()
}

fn unit(c: &str, name: &str, kind: UnitKind, parent: Option<&str>) -> Unit {
    Unit {
        code: code(c),
        name: name.into(),
        kind,
        parent: parent.map(code),
    }
}

fn cadre(id: &str, name: &str, unit: &str, leader: bool) -> Cadre {
    Cadre {
        id: code(id),
        name: name.into(),
        gender: Gender::Female,
        ethnicity: "汉族".into(),
        birth_date: date!(1980 - 05 - 17),
        unit: code(unit),
        post: if leader {
            "县长".into()
        } else {
            "科员".into()
        },
        rank: if leader {
            RankLevel::DivisionPrincipal
        } else {
            RankLevel::Staff1
        },
        is_leader: leader,
        status: CadreStatus::Active,
    }
}

/// A small county: the county, two townships, one department, five cadres.
async fn seed(store: &dyn Store) {
    // Children before their parent: foreign keys are checked at commit.
    store
        .upsert_units(
            &[
                unit("341001", "青山镇", UnitKind::Township, Some("341000")),
                unit("341002", "白水镇", UnitKind::Township, Some("341000")),
                unit("341000", "清河县", UnitKind::County, None),
                unit(
                    "341000-01",
                    "清河县财政局",
                    UnitKind::Department,
                    Some("341000"),
                ),
            ],
            &audit("test.units"),
        )
        .await
        .unwrap();
    store
        .upsert_cadres(
            &[
                cadre("C001", "王建国", "341000", true),
                cadre("C002", "李秀英", "341000", true),
                cadre("C003", "张伟", "341001", false),
                cadre("C004", "刘洋_100%", "341001", true),
                cadre("C005", "陈静", "341000-01", false),
            ],
            &audit("test.cadres"),
        )
        .await
        .unwrap();
}

macro_rules! on_all_backends {
    ($name:ident, |$store:ident| $body:block) => {
        #[tokio::test]
        async fn $name() {
            for db in TestDatabase::all().await.unwrap() {
                let backend = db.name;
                {
                    let $store: &dyn Store = &*db.store;
                    let run = async { $body };
                    run.await;
                }
                eprintln!("{}: {backend} ok", stringify!($name));
                db.finish().await.unwrap();
            }
        }
    };
}

on_all_backends!(migrations_are_idempotent, |store| {
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
    assert_eq!(
        store.counts().await.unwrap(),
        kaohe_store::Counts::default()
    );
});

on_all_backends!(units_round_trip_and_update, |store| {
    seed(store).await;
    let all = store.all_units().await.unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[0], unit("341000", "清河县", UnitKind::County, None));
    store
        .upsert_units(
            &[unit(
                "341001",
                "青山街道",
                UnitKind::Township,
                Some("341000"),
            )],
            &audit("test.units"),
        )
        .await
        .unwrap();
    let got = store.get_unit(&code("341001")).await.unwrap().unwrap();
    assert_eq!(got.name, "青山街道");
    assert_eq!(store.counts().await.unwrap().units, 4);
    assert!(store.get_unit(&code("999")).await.unwrap().is_none());
});

on_all_backends!(a_batch_with_a_bad_reference_changes_nothing, |store| {
    seed(store).await;
    let mut batch: Vec<Cadre> = (0..2500)
        .map(|i| cadre(&format!("N{i:05}"), "新人", "341000", false))
        .collect();
    batch[1734].unit = code("NOPE");
    // An update to an existing row in the same batch must be rolled back too.
    batch.push(cadre("C001", "改名", "341000", true));
    assert!(
        store
            .upsert_cadres(&batch, &audit("test.cadres"))
            .await
            .is_err()
    );
    assert_eq!(store.counts().await.unwrap().cadres, 5);
    assert_eq!(
        store.get_cadre(&code("C001")).await.unwrap().unwrap().name,
        "王建国"
    );
});

on_all_backends!(database_refuses_a_unit_that_is_its_own_parent, |store| {
    let err = store
        .upsert_units(
            &[unit("X", "X", UnitKind::Department, Some("X"))],
            &audit("test.units"),
        )
        .await;
    assert!(err.is_err());
    assert_eq!(store.counts().await.unwrap().units, 0);
});

on_all_backends!(unit_listing_searches_filters_and_pages, |store| {
    seed(store).await;
    let page = store
        .list_units(&UnitQuery {
            per_page: 3,
            page: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len(), page.pages()), (4, 3, 2));
    let last = store
        .list_units(&UnitQuery {
            per_page: 3,
            page: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(last.items.len(), 1);
    assert_eq!(last.items[0].unit.code, code("341002"));

    let county = &page.items[0];
    assert_eq!(
        (county.cadres, county.leaders, county.parent_name.as_deref()),
        (2, 2, None)
    );
    let town = &page.items[2];
    assert_eq!(town.parent_name.as_deref(), Some("清河县"));
    assert_eq!((town.cadres, town.leaders), (2, 1));

    let q = |search: &str| UnitQuery {
        search: Some(search.into()),
        page: 1,
        per_page: 50,
        ..Default::default()
    };
    assert_eq!(store.list_units(&q("镇")).await.unwrap().total, 2);
    assert_eq!(store.list_units(&q("财政")).await.unwrap().total, 1);
    assert_eq!(
        store.list_units(&q("%")).await.unwrap().total,
        0,
        "LIKE wildcards are escaped"
    );
    let children = UnitQuery {
        parent: Some(code("341000")),
        page: 1,
        per_page: 50,
        ..Default::default()
    };
    assert_eq!(store.list_units(&children).await.unwrap().total, 3);
    let towns = UnitQuery {
        kind: Some(UnitKind::Township),
        page: 1,
        per_page: 50,
        ..Default::default()
    };
    assert_eq!(store.list_units(&towns).await.unwrap().total, 2);
    let roots = UnitQuery {
        roots_only: true,
        page: 1,
        per_page: 50,
        ..Default::default()
    };
    let roots = store.list_units(&roots).await.unwrap();
    assert_eq!(
        roots
            .items
            .iter()
            .map(|u| u.unit.code.as_str())
            .collect::<Vec<_>>(),
        ["341000"]
    );
});

on_all_backends!(cadre_listing_searches_filters_and_pages, |store| {
    seed(store).await;
    let q = |search: Option<&str>, unit: Option<&str>, leaders_only| CadreQuery {
        search: search.map(Into::into),
        unit: unit.map(code),
        leaders_only,
        page: 1,
        per_page: 50,
    };
    assert_eq!(
        store
            .list_cadres(&q(None, None, false))
            .await
            .unwrap()
            .total,
        5
    );
    assert_eq!(
        store.list_cadres(&q(None, None, true)).await.unwrap().total,
        3
    );
    assert_eq!(
        store
            .list_cadres(&q(None, Some("341000"), true))
            .await
            .unwrap()
            .total,
        2
    );
    assert_eq!(
        store
            .list_cadres(&q(Some("县长"), None, false))
            .await
            .unwrap()
            .total,
        3
    );
    assert_eq!(
        store
            .list_cadres(&q(Some("c00"), None, false))
            .await
            .unwrap()
            .total,
        5,
        "case-insensitive id"
    );
    let pct = store
        .list_cadres(&q(Some("100%"), None, false))
        .await
        .unwrap();
    assert_eq!(
        pct.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["C004"]
    );
    let huge = CadreQuery {
        per_page: 100_000,
        page: 0,
        ..Default::default()
    };
    let page = store.list_cadres(&huge).await.unwrap();
    assert_eq!((page.page, page.per_page), (1, kaohe_store::MAX_PER_PAGE));
});

on_all_backends!(history_sanctions_and_calendar_round_trip, |store| {
    seed(store).await;
    let appointments = vec![
        Appointment {
            cadre: code("C001"),
            unit: code("341001"),
            post: "镇长".into(),
            rank: RankLevel::SectionPrincipal,
            start_date: date!(2015 - 03 - 01),
            end_date: Some(date!(2019 - 12 - 31)),
        },
        Appointment {
            cadre: code("C001"),
            unit: code("341000"),
            post: "县长".into(),
            rank: RankLevel::DivisionPrincipal,
            start_date: date!(2020 - 01 - 01),
            end_date: None,
        },
    ];
    store
        .upsert_appointments(&appointments, &audit("test.appointments"))
        .await
        .unwrap();
    store
        .upsert_appointments(&appointments[1..], &audit("test.appointments"))
        .await
        .unwrap();
    assert_eq!(
        store.appointments_of(&code("C001")).await.unwrap(),
        appointments
    );
    assert_eq!(store.all_appointments().await.unwrap().len(), 2);

    let sanction = Sanction {
        id: code("纪〔2025〕3号"),
        cadre: code("C003"),
        kind: SanctionKind::Warning,
        start_date: date!(2025 - 04 - 10),
        end_date: None,
        reason: "违反工作纪律".into(),
    };
    store
        .upsert_sanctions(std::slice::from_ref(&sanction), &audit("test.sanctions"))
        .await
        .unwrap();
    assert_eq!(
        store.sanctions_of(&code("C003")).await.unwrap(),
        vec![sanction.clone()]
    );
    let bad = Sanction {
        cadre: code("NOBODY"),
        id: code("S2"),
        ..sanction
    };
    assert!(
        store
            .upsert_sanctions(&[bad], &audit("test.sanctions"))
            .await
            .is_err(),
        "unknown cadre is refused"
    );
    assert_eq!(store.all_sanctions().await.unwrap().len(), 1);

    let entries = vec![
        CalendarEntry {
            date: date!(2025 - 09 - 28),
            kind: DayKind::Workday,
            name: "国庆节调休".into(),
        },
        CalendarEntry {
            date: date!(2025 - 10 - 01),
            kind: DayKind::Holiday,
            name: "国庆节".into(),
        },
    ];
    store
        .upsert_calendar(&entries, &audit("test.calendar"))
        .await
        .unwrap();
    assert_eq!(store.calendar().await.unwrap(), entries);
    let cal = WorkCalendar::new(&store.calendar().await.unwrap());
    assert!(cal.is_working_day(date!(2025 - 09 - 28)));
});

on_all_backends!(bulk_upsert_spans_many_statements, |store| {
    seed(store).await;
    let batch: Vec<Cadre> = (0..12_345)
        .map(|i| cadre(&format!("B{i:06}"), "批量", "341002", i % 10 == 0))
        .collect();
    store
        .upsert_cadres(&batch, &audit("test.cadres"))
        .await
        .unwrap();
    assert_eq!(store.counts().await.unwrap().cadres, 12_350);
    assert_eq!(store.cadre_ids().await.unwrap().len(), 12_350);
    assert_eq!(store.all_cadres().await.unwrap()[0], batch[0]);
    let leaders = CadreQuery {
        unit: Some(code("341002")),
        leaders_only: true,
        page: 1,
        per_page: 10,
        ..Default::default()
    };
    assert_eq!(store.list_cadres(&leaders).await.unwrap().total, 1235);
});

/// Every entry, in sequence order, read page by page.
async fn audit_log(store: &dyn Store) -> Vec<AuditEntry> {
    let mut all = Vec::new();
    loop {
        let from = all.last().map_or(1, |e: &AuditEntry| e.seq + 1);
        let page = store.audit_entries(from, 7).await.unwrap();
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

on_all_backends!(
    a_write_appends_its_audit_entry_in_its_transaction,
    |store| {
        assert_eq!(store.audit_head().await.unwrap(), AuditHead::genesis());
        seed(store).await;
        let log = audit_log(store).await;
        assert_eq!(
            log.iter()
                .map(|e| (e.seq, e.action.as_str()))
                .collect::<Vec<_>>(),
            [(1, "test.units"), (2, "test.cadres")]
        );
        assert_eq!(log[0].actor, "test");
        let report = audit::verify(
            &log,
            &[(HeadSource::Database, store.audit_head().await.unwrap())],
        );
        assert!(report.is_ok(), "{:?}", report.problems);
        assert_eq!(report.head, log[1].head());
        // A refused batch leaves no entry: the entry rolls back with it.
        let bad = Cadre {
            unit: code("NOPE"),
            ..cadre("C999", "无", "341000", false)
        };
        assert!(
            store
                .upsert_cadres(&[bad], &audit("test.cadres"))
                .await
                .is_err()
        );
        assert_eq!(audit_log(store).await.len(), 2);
        assert_eq!(store.audit_head().await.unwrap(), log[1].head());
        // Events that change no table have their own transaction, with before and after kept.
        let e = store
            .append_audit(
                &NewAuditEntry::new("alice", "user.login_failed", "alice")
                    .before("{\"failures\":0}")
                    .after("{\"failures\":1}"),
            )
            .await
            .unwrap();
        assert_eq!((e.seq, e.prev_hash.as_str()), (3, log[1].hash.as_str()));
        let stored = store.audit_entries(3, 10).await.unwrap();
        assert_eq!(stored, vec![e]);
    }
);

on_all_backends!(concurrent_appends_form_one_chain, |store| {
    let writer = |w: usize| async move {
        for i in 0..10 {
            store
                .append_audit(&NewAuditEntry::new(
                    format!("w{w}"),
                    "test.concurrent",
                    i.to_string(),
                ))
                .await
                .unwrap();
        }
    };
    tokio::join!(writer(0), writer(1), writer(2), writer(3));
    let log = audit_log(store).await;
    assert_eq!(log.len(), 40);
    let report = audit::verify(
        &log,
        &[(HeadSource::Database, store.audit_head().await.unwrap())],
    );
    assert!(report.is_ok(), "{:?}", report.problems);
});

#[tokio::test]
async fn the_database_refuses_to_change_or_remove_audit_entries() {
    for db in TestDatabase::all().await.unwrap() {
        let store = &*db.store;
        seed(store).await;
        let before = audit_log(store).await;
        let mut refused = vec![
            "UPDATE audit_log SET actor = 'mallory' WHERE seq = 1",
            "DELETE FROM audit_log WHERE seq = 2",
            "DELETE FROM audit_log",
            "DELETE FROM audit_head",
            "UPDATE audit_head SET seq = 1, hash = 'x' WHERE id = 1",
        ];
        if db.name == "postgres" {
            refused.push("TRUNCATE audit_log");
            refused.push("TRUNCATE audit_head");
        }
        for sql in refused {
            let err = db.raw_execute(sql).await;
            assert!(err.is_err(), "{}: {sql} was allowed", db.name);
        }
        assert_eq!(audit_log(store).await, before, "{}", db.name);
        assert_eq!(store.audit_head().await.unwrap(), before[1].head());
        eprintln!("refuses tampering: {} ok", db.name);
        db.finish().await.unwrap();
    }
}

fn grants() -> kaohe_store::Grants {
    kaohe_store::Grants {
        roles: [Role::UnitLeader].into_iter().collect(),
        units: vec![code("340102")],
        cadre: None,
    }
}

#[tokio::test]
async fn the_last_holder_of_an_administrator_role_stays_unless_recovering() {
    use kaohe_domain::access::RoleError;
    use kaohe_store::{Grants, NewUser, StoreError};
    for db in TestDatabase::all().await.unwrap() {
        let store = db.store.as_ref();
        for (name, role) in [("sys1", Role::SystemAdmin), ("sec1", Role::SecurityAdmin)] {
            let user = NewUser {
                username: name.into(),
                display_name: name.into(),
                password_hash: "$argon2id$fake".into(),
                roles: [role].into_iter().collect(),
                units: Vec::new(),
                cadre: None,
                totp_secret: Some("JBSWY3DPEHPK3PXP".into()),
                must_change_password: false,
            };
            assert!(
                store
                    .create_user(&user, 1, &audit("user.create"))
                    .await
                    .unwrap()
            );
        }
        let rater = Grants {
            roles: [Role::Rater].into_iter().collect(),
            units: Vec::new(),
            cadre: None,
        };
        let refused = |r: Result<bool, StoreError>| {
            matches!(
                r,
                Err(StoreError::Role(RoleError::LastHolder("system_admin")))
            )
        };
        let head = store.audit_head().await.unwrap();
        // Neither disabled nor demoted while it is the only enabled system administrator.
        let r = store
            .set_disabled("sys1", true, LastHolder::Keep, &audit("user.disable"))
            .await;
        assert!(refused(r), "{}", db.name);
        let r = store
            .set_grants("sys1", &rater, LastHolder::Keep, &audit("user.roles"))
            .await;
        assert!(refused(r), "{}", db.name);
        let sys1 = store.get_user("sys1").await.unwrap().unwrap();
        assert!(!sys1.disabled && sys1.roles.contains(&Role::SystemAdmin));
        assert_eq!(store.audit_head().await.unwrap(), head, "nothing appended");
        // With a second one, the first may go; a disabled holder does not count.
        let sys2 = Grants {
            roles: [Role::SystemAdmin].into_iter().collect(),
            units: Vec::new(),
            cadre: None,
        };
        store
            .create_user(
                &NewUser {
                    username: "sys2".into(),
                    display_name: "sys2".into(),
                    password_hash: "$argon2id$fake".into(),
                    roles: BTreeSet::new(),
                    units: Vec::new(),
                    cadre: None,
                    totp_secret: None,
                    must_change_password: false,
                },
                2,
                &audit("user.create"),
            )
            .await
            .unwrap();
        assert!(
            store
                .set_grants("sys2", &sys2, LastHolder::Keep, &audit("user.roles"))
                .await
                .unwrap()
        );
        assert!(
            store
                .set_disabled("sys1", true, LastHolder::Keep, &audit("user.disable"))
                .await
                .unwrap()
        );
        let r = store
            .set_grants("sys2", &rater, LastHolder::Keep, &audit("user.roles"))
            .await;
        assert!(refused(r), "{}", db.name);
        // Re-enabling is never refused, and the command line (recovery) may leave none.
        assert!(
            store
                .set_disabled("sys1", false, LastHolder::Keep, &audit("user.enable"))
                .await
                .unwrap()
        );
        assert!(
            store
                .set_disabled("sys2", true, LastHolder::Keep, &audit("user.disable"))
                .await
                .unwrap()
        );
        assert!(
            store
                .set_disabled("sys1", true, LastHolder::MayLeave, &audit("user.disable"))
                .await
                .unwrap()
        );
        db.finish().await.unwrap();
    }
}

#[tokio::test]
async fn accounts_and_sessions() {
    use kaohe_store::{NewUser, session_id};
    for db in TestDatabase::all().await.unwrap() {
        let store = db.store.as_ref();
        store
            .upsert_units(
                &[unit("340102", "瑶海区", UnitKind::County, None)],
                &audit("units"),
            )
            .await
            .unwrap();
        let new = NewUser {
            username: "li".into(),
            display_name: "李四".into(),
            password_hash: "$argon2id$fake".into(),
            roles: [Role::Assessor, Role::Official].into_iter().collect(),
            units: vec![code("340102")],
            cadre: Some(code("C1")),
            totp_secret: None,
            must_change_password: true,
        };
        let created = audit("user.create");
        assert!(
            store.create_user(&new, 100, &created).await.unwrap(),
            "{}",
            db.name
        );
        let head = store.audit_head().await.unwrap();
        assert!(
            !store.create_user(&new, 100, &created).await.unwrap(),
            "name taken"
        );
        assert_eq!(
            store.audit_head().await.unwrap(),
            head,
            "a refused change appends nothing"
        );
        let user = store.get_user("li").await.unwrap().unwrap();
        assert_eq!(user.roles, new.roles);
        assert_eq!(user.units, new.units);
        assert_eq!(user.cadre, new.cadre);
        assert_eq!((user.failed_logins, user.disabled), (0, false));
        assert!(user.must_change_password);
        assert_eq!(store.count_users().await.unwrap(), 1);

        // Failures count per address; the account's own count adds them up.
        for n in 1..=3 {
            store
                .record_login_failure("li", "10.0.0.1", n, 200)
                .await
                .unwrap();
        }
        store
            .record_login_failure("li", "10.0.0.2", 1, 210)
            .await
            .unwrap();
        let user = store.get_user("li").await.unwrap().unwrap();
        assert_eq!((user.failed_logins, user.last_failed_at), (4, Some(210)));
        assert_eq!(
            store.login_failures("li", "10.0.0.1").await.unwrap(),
            (3, Some(200))
        );
        assert_eq!(
            store.login_failures("li", "10.0.0.3").await.unwrap(),
            (0, None)
        );
        store.record_login_success("li", "10.0.0.2").await.unwrap();
        assert_eq!(
            store.get_user("li").await.unwrap().unwrap().failed_logins,
            0
        );
        assert_eq!(
            store.login_failures("li", "10.0.0.2").await.unwrap(),
            (0, None)
        );
        assert_eq!(
            store.login_failures("li", "10.0.0.1").await.unwrap().0,
            3,
            "another address stays counted"
        );
        // A TOTP step is accepted once, and never an earlier one.
        assert!(store.accept_totp_step("li", 100).await.unwrap());
        assert!(!store.accept_totp_step("li", 100).await.unwrap());
        assert!(!store.accept_totp_step("li", 99).await.unwrap());
        assert!(store.accept_totp_step("li", 101).await.unwrap());

        // Sessions are found by their token; the stored id is its hash.
        store
            .create_session("tok", "li", "csrf1", 300)
            .await
            .unwrap();
        let s = store.session("tok").await.unwrap().unwrap();
        assert_eq!((s.user.username.as_str(), s.csrf.as_str()), ("li", "csrf1"));
        assert_eq!((s.created_at, s.last_seen_at), (300, 300));
        assert!(store.session(&session_id("tok")).await.unwrap().is_none());
        store.touch_session("tok", 400).await.unwrap();
        assert_eq!(
            store.session("tok").await.unwrap().unwrap().last_seen_at,
            400
        );
        assert_eq!(store.delete_sessions_idle_since(400).await.unwrap(), 0);
        assert_eq!(store.delete_sessions_idle_since(401).await.unwrap(), 1);

        // A new password clears the failures and ends the sessions but the one kept; so does
        // disabling. Each change appends its entry; a change of a missing account appends none.
        store.create_session("tok2", "li", "c", 500).await.unwrap();
        store.create_session("mine", "li", "c", 500).await.unwrap();
        store
            .record_login_failure("li", "10.0.0.1", 5, 500)
            .await
            .unwrap();
        let reset = audit("user.reset");
        assert!(
            store
                .set_password("li", "$argon2id$new", false, Some("mine"), &reset)
                .await
                .unwrap()
        );
        let user = store.get_user("li").await.unwrap().unwrap();
        assert_eq!((user.failed_logins, user.last_failed_at), (0, None));
        assert_eq!(
            store.login_failures("li", "10.0.0.1").await.unwrap(),
            (0, None)
        );
        assert_eq!(user.password_hash, "$argon2id$new");
        assert!(!user.must_change_password);
        assert!(store.session("tok2").await.unwrap().is_none());
        assert!(store.session("mine").await.unwrap().is_some(), "kept");
        let head = store.audit_head().await.unwrap();
        assert!(
            !store
                .set_password("nobody", "x", true, None, &reset)
                .await
                .unwrap()
        );
        assert!(
            !store
                .set_grants("nobody", &grants(), LastHolder::Keep, &audit("user.roles"),)
                .await
                .unwrap()
        );
        assert!(
            !store
                .set_totp_secret("nobody", None, None, &audit("user.totp"))
                .await
                .unwrap()
        );
        assert_eq!(store.audit_head().await.unwrap(), head, "nothing appended");

        // New grants replace the old and end every session.
        store.create_session("tok5", "li", "c", 600).await.unwrap();
        assert!(
            store
                .set_grants("li", &grants(), LastHolder::Keep, &audit("user.roles"))
                .await
                .unwrap()
        );
        let user = store.get_user("li").await.unwrap().unwrap();
        assert_eq!(
            (user.roles, user.units, user.cadre),
            (grants().roles, grants().units, grants().cadre)
        );
        assert!(store.session("mine").await.unwrap().is_none());
        assert!(store.session("tok5").await.unwrap().is_none());

        // A second factor is set and removed; other sessions end.
        store.create_session("tok6", "li", "c", 600).await.unwrap();
        store.create_session("tok7", "li", "c", 600).await.unwrap();
        let totp = audit("user.totp");
        assert!(
            store
                .set_totp_secret("li", Some("JBSWY3DPEHPK3PXP"), Some("tok7"), &totp)
                .await
                .unwrap()
        );
        let user = store.get_user("li").await.unwrap().unwrap();
        assert_eq!(user.totp_secret.as_deref(), Some("JBSWY3DPEHPK3PXP"));
        assert!(store.session("tok6").await.unwrap().is_none());
        assert!(store.session("tok7").await.unwrap().is_some());
        assert!(
            store
                .set_totp_secret("li", None, None, &totp)
                .await
                .unwrap()
        );
        assert_eq!(
            store.get_user("li").await.unwrap().unwrap().totp_secret,
            None
        );
        assert!(store.session("tok7").await.unwrap().is_none());

        store.create_session("tok3", "li", "c", 600).await.unwrap();
        let disable = audit("user.disable");
        assert!(
            store
                .set_disabled("li", true, LastHolder::Keep, &disable)
                .await
                .unwrap()
        );
        assert!(store.session("tok3").await.unwrap().is_none());
        assert!(store.get_user("li").await.unwrap().unwrap().disabled);
        assert!(
            !store
                .set_disabled("nobody", true, LastHolder::Keep, &disable)
                .await
                .unwrap()
        );
        let actions: Vec<String> = store
            .audit_entries(1, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions[1..],
            [
                "user.create",
                "user.reset",
                "user.roles",
                "user.totp",
                "user.totp",
                "user.disable"
            ],
            "{}",
            db.name
        );
        store.create_session("tok4", "li", "c", 700).await.unwrap();
        store.delete_session("tok4").await.unwrap();
        assert!(store.session("tok4").await.unwrap().is_none());
        assert_eq!(store.list_users().await.unwrap().len(), 1);
        db.finish().await.unwrap();
    }
}

mod ratings {
    use super::*;
    use kaohe_domain::ratings::rectification::{
        Rectification, RectificationPolicy, Status, Step, StepKind, Verdict,
    };
    use kaohe_domain::ratings::{
        AppealDecision, AppealGround, Channel, NewRating, Phone, RatingLevel, ReasonTag,
        ServiceCase,
    };
    use kaohe_store::{
        Appeal, CaseTerms, IntakeOutcome, NewRectification, RatingIntake, RectificationState,
        StoreError, StoredCase,
    };
    use time::macros::datetime;

    fn case(id: &str, officials: &[&str]) -> StoredCase {
        StoredCase {
            case: ServiceCase {
                id: code(id),
                item: "不动产登记".into(),
                unit: code("341000-01"),
                window: Some(code("W-03")),
                officials: officials.iter().map(|o| code(o)).collect(),
                channel: Channel::Window,
                accepted_at: datetime!(2026-03-02 09:00 UTC),
                closed_at: datetime!(2026-03-04 07:00 UTC),
                applicant: Some("赵女士".into()),
                phone: Some(Phone::parse("13812345678").unwrap()),
            },
            rating_code: format!("code-{id}"),
        }
    }

    fn intake(case_id: &str, level: RatingLevel, real_name: bool) -> RatingIntake {
        RatingIntake {
            rating: NewRating {
                case_id: code(case_id),
                level,
                tags: vec![ReasonTag::Attitude, ReasonTag::Overdue],
                comment: Some("等了很久".into()),
                channel: Channel::QrCode,
                real_name,
                contact: None,
            },
            rated_at: datetime!(2026-03-05 02:00 UTC),
            rectification: level.is_bad().then(|| NewRectification {
                unit: code("341000-01"),
                real_name,
                opened_on: date!(2026 - 03 - 05),
                deadline: date!(2026 - 03 - 12),
            }),
        }
    }

    on_all_backends!(a_file_of_cases_round_trips_whole, |store| {
        seed(store).await;
        // As many as a file import (SQLite takes its bulk path), in no particular order.
        let n = 10_500;
        let file = |item: &str, code_prefix: &str| -> Vec<StoredCase> {
            (0..n)
                .rev()
                .map(|i| {
                    let officials: &[&str] = match i % 3 {
                        0 => &["C005", "C003"],
                        1 => &["C001"],
                        _ => &[],
                    };
                    let mut c = case(&format!("BJ-{i:05}"), officials);
                    c.case.item = item.into();
                    c.rating_code = format!("{code_prefix}{i}");
                    c
                })
                .collect()
        };
        let first = file("不动产登记", "a-");
        store
            .upsert_cases(&first, &audit("test.cases"))
            .await
            .unwrap();
        let mut all = store.all_cases().await.unwrap();
        assert_eq!(all.len(), n);
        let mut expected = first.clone();
        expected.sort_by(|a, b| a.case.id.cmp(&b.case.id));
        assert_eq!(all, expected);
        // Again, with other items, officials shifted and new codes: codes stay, the rest is
        // replaced.
        let mut second = file("户籍办理", "b-");
        for c in &mut second {
            c.case.officials.reverse();
        }
        store
            .upsert_cases(&second, &audit("test.cases"))
            .await
            .unwrap();
        all = store.all_cases().await.unwrap();
        assert_eq!(all.len(), n);
        let got = store.get_case(&code("BJ-00042")).await.unwrap().unwrap();
        assert_eq!(got.rating_code, "a-42");
        assert_eq!(got.case.item, "户籍办理");
        assert_eq!(got.case.officials, vec![code("C003"), code("C005")]);
        assert!(
            all.iter()
                .all(|c| c.case.item == "户籍办理" && c.rating_code.starts_with("a-"))
        );
        // One unknown official refuses the whole file.
        let mut third = file("社保查询", "c-");
        third[7].case.officials = vec![code("C999")];
        assert!(
            store
                .upsert_cases(&third, &audit("test.cases"))
                .await
                .is_err()
        );
        assert_eq!(store.all_cases().await.unwrap(), all);
        let verified = kaohe_store::verify_audit(store, None).await.unwrap();
        assert!(verified.is_ok(), "{:?}", verified.problems());
    });

    on_all_backends!(cases_round_trip_and_keep_their_rating_code, |store| {
        seed(store).await;
        let a = case("BJ-1", &["C005", "C003"]);
        store
            .upsert_cases(&[a.clone(), case("BJ-2", &[])], &audit("test.cases"))
            .await
            .unwrap();
        assert_eq!(
            store.get_case(&code("BJ-1")).await.unwrap(),
            Some(a.clone())
        );
        assert_eq!(
            store.case_by_rating_code("code-BJ-1").await.unwrap(),
            Some(a.clone())
        );
        assert_eq!(store.case_by_rating_code("nope").await.unwrap(), None);
        // Re-importing with a new code and other officials keeps the code, replaces officials.
        let mut again = case("BJ-1", &["C001"]);
        again.rating_code = "other".into();
        store
            .upsert_cases(&[again], &audit("test.cases"))
            .await
            .unwrap();
        let got = store.get_case(&code("BJ-1")).await.unwrap().unwrap();
        assert_eq!(got.rating_code, "code-BJ-1");
        assert_eq!(got.case.officials, vec![code("C001")]);
        // A case of an unknown unit or official is refused whole.
        let mut bad = case("BJ-3", &["C999"]);
        bad.case.item = "户籍".into();
        assert!(
            store
                .upsert_cases(&[case("BJ-4", &[]), bad], &audit("test.cases"))
                .await
                .is_err()
        );
        assert_eq!(store.get_case(&code("BJ-4")).await.unwrap(), None);
        assert_eq!(store.service_counts().await.unwrap(), (2, 0));
    });

    on_all_backends!(one_rating_per_case_even_within_a_batch, |store| {
        seed(store).await;
        store
            .upsert_cases(
                &[case("BJ-1", &["C005"]), case("BJ-2", &["C005"])],
                &audit("test.cases"),
            )
            .await
            .unwrap();
        let out = store
            .insert_ratings(&[
                intake("BJ-1", RatingLevel::Satisfied, false),
                intake("BJ-1", RatingLevel::VeryDissatisfied, false),
                intake("BJ-9", RatingLevel::Satisfied, false),
                intake("BJ-2", RatingLevel::Dissatisfied, true),
            ])
            .await
            .unwrap();
        assert!(
            matches!(&out[0], IntakeOutcome::Stored(r) if r.rating.level == RatingLevel::Satisfied)
        );
        assert_eq!(out[1], IntakeOutcome::AlreadyRated);
        assert_eq!(out[2], IntakeOutcome::UnknownCase);
        let IntakeOutcome::Stored(bad) = &out[3] else {
            panic!("{:?}", out[3])
        };
        assert_eq!(
            store.rating_of_case(&code("BJ-2")).await.unwrap().as_ref(),
            Some(bad)
        );
        let again = store
            .insert_ratings(&[intake("BJ-2", RatingLevel::Satisfied, false)])
            .await
            .unwrap();
        assert_eq!(again, vec![IntakeOutcome::AlreadyRated]);
        assert_eq!(store.service_counts().await.unwrap(), (2, 2));
        // Only the bad review opened a rectification.
        let queue = store.rectification_queue(None, true, 50).await.unwrap();
        assert_eq!(queue.len(), 1);
        assert_eq!(
            (queue[0].rating_id, queue[0].status, queue[0].real_name),
            (bad.id, Status::Open, true)
        );
        assert!(
            store
                .rectification_queue(Some(&[code("341001")]), true, 50)
                .await
                .unwrap()
                .is_empty()
        );
        let facts = store.rating_facts(0, i64::MAX).await.unwrap();
        assert_eq!(facts.len(), 2);
        assert_eq!(facts[1].officials, vec![code("C005")]);
        // The open rectification is due of the official who handled the case, no one else.
        let due = store
            .open_rectifications_of(&code("C005"), 50)
            .await
            .unwrap();
        assert_eq!(
            due.iter().map(|q| q.rating_id).collect::<Vec<_>>(),
            vec![bad.id]
        );
        assert!(
            store
                .open_rectifications_of(&code("C001"), 50)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            facts[1].rectification.map(|r| r.0.status),
            Some(Status::Open)
        );
    });

    on_all_backends!(the_facts_of_a_unit_hold_its_own_cases_only, |store| {
        seed(store).await;
        let mut other = case("BJ-2", &["C001"]);
        other.case.unit = code("341001");
        store
            .upsert_cases(
                &[case("BJ-1", &["C005"]), other, case("BJ-3", &["C005"])],
                &audit("test.cases"),
            )
            .await
            .unwrap();
        let mut late = intake("BJ-3", RatingLevel::Satisfied, false);
        late.rated_at = datetime!(2026-04-01 02:00 UTC);
        let mut elsewhere = intake("BJ-2", RatingLevel::Satisfied, false);
        elsewhere.rectification = None;
        store
            .insert_ratings(&[
                intake("BJ-1", RatingLevel::VeryDissatisfied, true),
                elsewhere,
                late,
            ])
            .await
            .unwrap();
        let march = (
            datetime!(2026-03-01 00:00 UTC).unix_timestamp(),
            datetime!(2026-04-01 00:00 UTC).unix_timestamp(),
        );
        let facts = store
            .unit_rating_facts(&code("341000-01"), march.0, march.1)
            .await
            .unwrap();
        assert_eq!(facts.len(), 1, "{facts:?}");
        assert_eq!(facts[0].rating.rating.case_id, code("BJ-1"));
        assert_eq!(
            facts[0].rectification.map(|r| (r.0.status, r.1)),
            Some((Status::Open, date!(2026 - 03 - 12)))
        );
        let township = store
            .unit_rating_facts(&code("341001"), 0, i64::MAX)
            .await
            .unwrap();
        assert_eq!(township.len(), 1);
        assert_eq!(township[0].rating.rating.case_id, code("BJ-2"));
        let all = store
            .unit_rating_facts(&code("341000-01"), 0, i64::MAX)
            .await
            .unwrap();
        assert_eq!(all.len(), 2, "oldest first: {all:?}");
        assert_eq!(all[1].rating.rating.case_id, code("BJ-3"));
        assert!(
            store
                .unit_rating_facts(&code("341002"), 0, i64::MAX)
                .await
                .unwrap()
                .is_empty()
        );
    });

    on_all_backends!(a_bulk_import_of_ratings_is_all_or_nothing, |store| {
        seed(store).await;
        let cases: Vec<StoredCase> = (1..=9)
            .map(|i| case(&format!("BJ-{i}"), &["C005"]))
            .collect();
        store
            .upsert_cases(&cases, &audit("test.cases"))
            .await
            .unwrap();
        let mut found = store
            .cases_by_ids(&[code("BJ-3"), code("BJ-99"), code("BJ-1")])
            .await
            .unwrap();
        found.sort_by(|a, b| a.case.id.cmp(&b.case.id));
        assert_eq!(found, vec![cases[0].clone(), cases[2].clone()]);
        assert_eq!(store.all_cases().await.unwrap(), cases);
        store
            .insert_ratings(&[intake("BJ-4", RatingLevel::Satisfied, false)])
            .await
            .unwrap();
        // What the intake rules need of each case, in the order asked; none for an unknown case.
        let terms = store
            .case_terms(vec![code("BJ-4"), code("BJ-99"), code("BJ-1")])
            .await
            .unwrap();
        let expect = |c: &StoredCase, rated| {
            Some(CaseTerms {
                unit: std::sync::Arc::new(c.case.unit.clone()),
                closed_at: c.case.closed_at,
                rated,
            })
        };
        assert_eq!(
            terms,
            vec![expect(&cases[3], true), None, expect(&cases[0], false)]
        );
        // Sorted ids asking for most cases (SQLite walks the keys): the same answers.
        let sorted = ["BJ-0", "BJ-1", "BJ-1", "BJ-4", "BJ-45", "BJ-5", "BJ-99"];
        let terms = store
            .case_terms(sorted.iter().map(|c| code(c)).collect())
            .await
            .unwrap();
        assert_eq!(
            terms,
            vec![
                None,
                expect(&cases[0], false),
                expect(&cases[0], false),
                expect(&cases[3], true),
                None,
                expect(&cases[4], false),
                None
            ]
        );
        // BJ-4 was rated already: nothing of the batch is stored.
        let batch: Vec<RatingIntake> = (1..=9)
            .map(|i| {
                let level = if i % 3 == 0 {
                    RatingLevel::Dissatisfied
                } else {
                    RatingLevel::VerySatisfied
                };
                intake(&format!("BJ-{i}"), level, false)
            })
            .collect();
        let audit_before = store.audit_head().await.unwrap().seq;
        assert_eq!(
            store
                .import_ratings(batch.clone(), audit("import.ratings"))
                .await
                .unwrap(),
            vec![3]
        );
        assert_eq!(store.service_counts().await.unwrap(), (9, 1));
        assert_eq!(store.audit_head().await.unwrap().seq, audit_before);
        // Without it, all are stored with a rectification for each bad review.
        let batch: Vec<RatingIntake> = batch
            .into_iter()
            .filter(|i| i.rating.case_id != code("BJ-4"))
            .collect();
        assert!(
            store
                .import_ratings(batch.clone(), audit("import.ratings"))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(store.service_counts().await.unwrap(), (9, 9));
        // The import's entry and the seal of its ratings.
        assert_eq!(store.audit_head().await.unwrap().seq, audit_before + 2);
        let queue = store.rectification_queue(None, true, 50).await.unwrap();
        let mut rectified: Vec<&str> = queue.iter().map(|q| q.case_id.as_str()).collect();
        rectified.sort_unstable();
        assert_eq!(rectified, vec!["BJ-3", "BJ-6", "BJ-9"]);
        let opened = batch[4]
            .rectification
            .as_ref()
            .map(|r| (r.opened_on, r.deadline));
        assert_eq!(
            queue
                .iter()
                .find(|q| q.case_id == code("BJ-6"))
                .map(|q| (q.opened_on, q.deadline)),
            opened
        );
        let verified = kaohe_store::verify_audit(store, None).await.unwrap();
        assert!(verified.is_ok(), "{:?}", verified.problems());
        assert_eq!(
            store
                .rating_of_case(&code("BJ-6"))
                .await
                .unwrap()
                .map(|r| r.rating),
            Some(batch[4].rating.clone())
        );
    });

    #[tokio::test]
    async fn the_database_refuses_to_delete_or_change_a_rating() {
        for db in TestDatabase::all().await.unwrap() {
            let store = &*db.store;
            seed(store).await;
            store
                .upsert_cases(&[case("BJ-1", &[])], &audit("test.cases"))
                .await
                .unwrap();
            store
                .insert_ratings(&[intake("BJ-1", RatingLevel::Satisfied, false)])
                .await
                .unwrap();
            let before = store.rating_of_case(&code("BJ-1")).await.unwrap().unwrap();
            let mut refused = vec![
                "DELETE FROM ratings",
                "UPDATE ratings SET level = 1",
                "UPDATE ratings SET comment = 'x'",
            ];
            if db.name == "postgres" {
                refused.push("TRUNCATE ratings CASCADE");
            }
            for sql in refused {
                assert!(
                    db.raw_execute(sql).await.is_err(),
                    "{}: {sql} was allowed",
                    db.name
                );
            }
            if db.name == "sqlite" {
                // REPLACE deletes without firing the DELETE trigger: refused by its own.
                let replace = "INSERT OR REPLACE INTO ratings \
                     (id, case_id, level, tags, comment, channel, real_name, contact, rated_at) \
                     SELECT id, case_id, 1, tags, comment, channel, real_name, contact, rated_at FROM ratings";
                assert!(db.raw_execute(replace).await.is_err(), "REPLACE by id");
                let replace = "INSERT OR REPLACE INTO ratings \
                     (case_id, level, tags, comment, channel, real_name, contact, rated_at) \
                     SELECT case_id, 1, tags, comment, channel, real_name, contact, rated_at FROM ratings";
                db.raw_execute(replace).await.unwrap();
                assert_eq!(
                    store.rating_of_case(&code("BJ-1")).await.unwrap().unwrap(),
                    before,
                    "REPLACE by case left the rating as it was"
                );
                let audit_replace = "INSERT OR REPLACE INTO audit_log \
                     SELECT seq, at, actor, 'x', target, before, after, prev_hash, hash FROM audit_log";
                assert!(db.raw_execute(audit_replace).await.is_err());
            }
            let verified = kaohe_store::verify_audit(store, None).await.unwrap();
            assert!(verified.is_ok(), "{}: {:?}", db.name, verified.problems());
            db.raw_execute("UPDATE ratings SET excluded = TRUE")
                .await
                .unwrap();
            let after = store.rating_of_case(&code("BJ-1")).await.unwrap().unwrap();
            assert_eq!(
                after,
                kaohe_domain::ratings::Rating {
                    excluded: true,
                    ..before
                }
            );
            db.finish().await.unwrap();
        }
    }

    /// Dropping the triggers (as the database's owner could) and changing, removing or
    /// inserting a rating: `verify_audit` names each against the seals of the chain.
    #[tokio::test]
    async fn audit_verify_finds_a_changed_removed_or_inserted_rating() {
        for db in TestDatabase::all().await.unwrap() {
            let store = &*db.store;
            seed(store).await;
            let cases: Vec<StoredCase> = (1..=4).map(|i| case(&format!("BJ-{i}"), &[])).collect();
            store
                .upsert_cases(&cases, &audit("test.cases"))
                .await
                .unwrap();
            store
                .insert_ratings(&[
                    intake("BJ-1", RatingLevel::VeryDissatisfied, false),
                    intake("BJ-2", RatingLevel::Satisfied, false),
                ])
                .await
                .unwrap();
            store
                .insert_ratings(&[intake("BJ-3", RatingLevel::Satisfied, false)])
                .await
                .unwrap();
            let rating = store.rating_of_case(&code("BJ-1")).await.unwrap().unwrap();
            let step = Step {
                kind: StepKind::Verify,
                note: "核实属实".into(),
                reached: None,
                verdict: None,
                on: date!(2026 - 03 - 05),
            };
            let state = RectificationState {
                status: Status::Verified,
                closed_on: None,
                called_back: false,
            };
            assert!(
                store
                    .add_step(rating.id, 1, &step, state, "leader", 1, &audit("rect.step"))
                    .await
                    .unwrap()
            );
            let verified = kaohe_store::verify_audit(store, None).await.unwrap();
            assert!(verified.is_ok(), "{}: {:?}", db.name, verified.problems());
            let drop = if db.name == "sqlite" {
                "DROP TRIGGER ratings_no_delete; DROP TRIGGER ratings_no_change; \
                 DROP TRIGGER ratings_no_replace_id; DROP TRIGGER ratings_one_per_case; \
                 DROP TRIGGER rectifications_no_delete; DROP TRIGGER rectification_steps_no_change"
            } else {
                "DROP TRIGGER ratings_guard ON ratings; DROP TRIGGER rectifications_guard ON rectifications; \
                 DROP TRIGGER rectification_steps_no_update_delete ON rectification_steps"
            };
            db.raw_execute(drop).await.unwrap();
            let problems = |v: kaohe_store::AuditVerification| {
                assert!(v.report.is_ok(), "the chain itself is intact");
                v.problems()
            };
            // Level 1 rewritten as 5 and the rectification left behind.
            db.raw_execute("UPDATE ratings SET level = 5 WHERE case_id = 'BJ-1'")
                .await
                .unwrap();
            let found = problems(kaohe_store::verify_audit(store, None).await.unwrap());
            assert_eq!(found.len(), 1, "{}: {found:?}", db.name);
            assert!(found[0].contains("ratings changed"), "{found:?}");
            db.raw_execute("UPDATE ratings SET level = 1 WHERE case_id = 'BJ-1'")
                .await
                .unwrap();
            assert!(
                kaohe_store::verify_audit(store, None)
                    .await
                    .unwrap()
                    .is_ok()
            );
            // Removed.
            db.raw_execute("DELETE FROM ratings WHERE case_id = 'BJ-3'")
                .await
                .unwrap();
            let found = problems(kaohe_store::verify_audit(store, None).await.unwrap());
            assert_eq!(found.len(), 1, "{}: {found:?}", db.name);
            assert!(
                found[0].contains("ratings removed (0 of the 1 sealed are left)"),
                "{found:?}"
            );
            // Inserted behind kaohe's back.
            db.raw_execute(
                "INSERT INTO ratings (case_id, level, tags, channel, real_name, rated_at) \
                 VALUES ('BJ-4', 5, '', 'window', FALSE, 1767225600)",
            )
            .await
            .unwrap();
            let found = problems(kaohe_store::verify_audit(store, None).await.unwrap());
            assert_eq!(found.len(), 2, "{}: {found:?}", db.name);
            assert!(
                found[1].contains("1 ratings inserted without a seal"),
                "{found:?}"
            );
            // A step of the rectification rewritten.
            db.raw_execute("UPDATE rectification_steps SET note = '未核实'")
                .await
                .unwrap();
            let found = problems(kaohe_store::verify_audit(store, None).await.unwrap());
            assert_eq!(found.len(), 3, "{}: {found:?}", db.name);
            assert!(
                found[2].contains("rectification steps changed"),
                "{found:?}"
            );
            db.finish().await.unwrap();
        }
    }

    /// Ratings stored before seals existed (a database upgraded to migration 0009) are sealed
    /// once, as found, when the store is opened.
    #[tokio::test]
    async fn ratings_stored_before_seals_are_sealed_once_at_the_upgrade() {
        for db in TestDatabase::all().await.unwrap() {
            let store = &*db.store;
            seed(store).await;
            store
                .upsert_cases(&[case("BJ-1", &[])], &audit("test.cases"))
                .await
                .unwrap();
            db.raw_execute(
                "INSERT INTO ratings (case_id, level, tags, channel, real_name, rated_at) \
                 VALUES ('BJ-1', 4, '', 'window', FALSE, 1767225600)",
            )
            .await
            .unwrap();
            assert!(
                !kaohe_store::verify_audit(store, None)
                    .await
                    .unwrap()
                    .is_ok()
            );
            assert_eq!(store.seal_unsealed().await.unwrap(), 1, "{}", db.name);
            assert_eq!(store.seal_unsealed().await.unwrap(), 0, "once");
            let verified = kaohe_store::verify_audit(store, None).await.unwrap();
            assert!(verified.is_ok(), "{}: {:?}", db.name, verified.problems());
            let seal = store
                .last_audit_of("ratings.seal")
                .await
                .unwrap()
                .and_then(|e| e.after)
                .unwrap_or_default();
            assert!(seal.contains("\"upgrade\":true"), "{seal}");
            db.finish().await.unwrap();
        }
    }

    on_all_backends!(
        a_rated_case_keeps_its_unit_officials_and_closing_time,
        |store| {
            seed(store).await;
            let rated = case("BJ-1", &["C005"]);
            store
                .upsert_cases(&[rated.clone(), case("BJ-2", &[])], &audit("test.cases"))
                .await
                .unwrap();
            store
                .insert_ratings(&[intake("BJ-1", RatingLevel::VeryDissatisfied, false)])
                .await
                .unwrap();
            let mut moved = rated.clone();
            moved.case.unit = code("341001");
            let mut reassigned = rated.clone();
            reassigned.case.officials = vec![code("C003")];
            let mut reopened = rated.clone();
            reopened.case.closed_at = datetime!(2026-04-30 07:00 UTC);
            for (changed, what) in [
                (moved, "unit"),
                (reassigned, "officials"),
                (reopened, "closed_at"),
            ] {
                let head = store.audit_head().await.unwrap();
                let r = store
                    .upsert_cases(&[case("BJ-2", &["C003"]), changed], &audit("test.cases"))
                    .await;
                assert!(
                    matches!(&r, Err(StoreError::Conflict(m)) if m.contains("BJ-1") && m.contains(what)),
                    "{what}: {r:?}"
                );
                assert_eq!(store.audit_head().await.unwrap(), head, "nothing stored");
            }
            assert_eq!(
                store.get_case(&code("BJ-1")).await.unwrap(),
                Some(rated.clone())
            );
            assert!(
                store
                    .get_case(&code("BJ-2"))
                    .await
                    .unwrap()
                    .unwrap()
                    .case
                    .officials
                    .is_empty()
            );
            // What the rating does not depend on may be corrected; an unrated case may move.
            let mut corrected = rated.clone();
            corrected.case.item = "不动产登记（更正）".into();
            let mut other = case("BJ-2", &["C003"]);
            other.case.unit = code("341001");
            store
                .upsert_cases(&[corrected.clone(), other], &audit("test.cases"))
                .await
                .unwrap();
            assert_eq!(
                store.get_case(&code("BJ-1")).await.unwrap(),
                Some(corrected)
            );
        }
    );

    on_all_backends!(
        a_rectification_runs_to_its_end_and_an_appeal_excludes_without_deleting,
        |store| {
            seed(store).await;
            store
                .upsert_cases(&[case("BJ-1", &["C005"])], &audit("test.cases"))
                .await
                .unwrap();
            let out = store
                .insert_ratings(&[intake("BJ-1", RatingLevel::VeryDissatisfied, true)])
                .await
                .unwrap();
            let IntakeOutcome::Stored(rating) = &out[0] else {
                panic!()
            };
            let d = date!(2026 - 03 - 05);
            let steps = [
                Step {
                    kind: StepKind::Verify,
                    note: "核实属实".into(),
                    reached: None,
                    verdict: None,
                    on: d,
                },
                Step {
                    kind: StepKind::Rectify,
                    note: "已约谈窗口人员".into(),
                    reached: None,
                    verdict: None,
                    on: d,
                },
                Step {
                    kind: StepKind::Callback,
                    note: "电话回访".into(),
                    reached: Some(true),
                    verdict: Some(Verdict::Satisfied),
                    on: d,
                },
                Step {
                    kind: StepKind::Close,
                    note: String::new(),
                    reached: None,
                    verdict: None,
                    on: d,
                },
            ];
            let mut state = Rectification::open(
                true,
                d,
                &WorkCalendar::default(),
                &RectificationPolicy::default(),
            )
            .unwrap();
            for (i, step) in steps.iter().enumerate() {
                state.apply(step).unwrap();
                let s = RectificationState {
                    status: state.status,
                    closed_on: state.closed_on,
                    called_back: state.callbacks_reached > 0,
                };
                let seq = u32::try_from(i + 1).unwrap();
                assert!(
                    store
                        .add_step(
                            rating.id,
                            seq,
                            step,
                            s,
                            "demo_unit_leader",
                            1,
                            &audit("rect.step")
                        )
                        .await
                        .unwrap()
                );
                // The same number twice (a concurrent step) is refused, not stored.
                assert!(
                    !store
                        .add_step(rating.id, seq, step, s, "someone", 2, &audit("rect.step"))
                        .await
                        .unwrap()
                );
            }
            let rec = store.rectification(rating.id).await.unwrap().unwrap();
            assert_eq!(
                rec.steps.iter().map(|s| s.step.clone()).collect::<Vec<_>>(),
                steps.to_vec()
            );
            assert_eq!(rec.steps[0].actor, "demo_unit_leader");
            assert_eq!(rec.deadline, date!(2026 - 03 - 12));
            assert!(
                store
                    .rectification_queue(None, true, 10)
                    .await
                    .unwrap()
                    .is_empty()
            );
            assert_eq!(
                store.rectification_queue(None, false, 10).await.unwrap()[0].status,
                Status::Closed
            );

            let appeal = Appeal {
                rating_id: rating.id,
                ground: AppealGround::Malicious,
                evidence: "监控录像显示".into(),
                filed_by: "leader_b".into(),
                filed_at: 3,
                decision: None,
            };
            assert!(
                store
                    .file_appeal(&appeal, &audit("appeal.file"))
                    .await
                    .unwrap()
            );
            assert!(
                !store
                    .file_appeal(&appeal, &audit("appeal.file"))
                    .await
                    .unwrap()
            );
            assert_eq!(store.appeals(true).await.unwrap(), vec![appeal.clone()]);
            // Four eyes: neither the filer nor whoever worked the rectification decides.
            for involved in ["leader_b", "demo_unit_leader"] {
                let refused = store
                    .decide_appeal(
                        rating.id,
                        AppealDecision::Upheld,
                        "自己决定",
                        involved,
                        4,
                        &audit("appeal.decide"),
                    )
                    .await;
                assert!(
                    matches!(refused, Err(StoreError::FourEyes(ref e)) if e.decider == involved),
                    "{involved}: {refused:?}"
                );
            }
            assert_eq!(store.appeals(true).await.unwrap(), vec![appeal.clone()]);
            assert!(
                store
                    .decide_appeal(
                        rating.id,
                        AppealDecision::Upheld,
                        "证据充分",
                        "demo_assessor",
                        4,
                        &audit("appeal.decide")
                    )
                    .await
                    .unwrap()
            );
            assert!(
                !store
                    .decide_appeal(
                        rating.id,
                        AppealDecision::Rejected,
                        "again",
                        "demo_assessor",
                        5,
                        &audit("appeal.decide")
                    )
                    .await
                    .unwrap()
            );
            assert!(store.appeals(true).await.unwrap().is_empty());
            let rec = store.rectification(rating.id).await.unwrap().unwrap();
            assert!(rec.rating.excluded, "kept, and marked excluded");
            assert_eq!(
                rec.appeal.unwrap().decision.unwrap().0,
                AppealDecision::Upheld
            );
            let actions: Vec<String> = audit_log(store)
                .await
                .into_iter()
                .map(|e| e.action)
                .collect();
            assert_eq!(actions.iter().filter(|a| *a == "rect.step").count(), 4);
            assert!(actions.contains(&"appeal.decide".to_owned()));
        }
    );
}

on_all_backends!(api_tokens_resolve_to_their_account_until_revoked, |store| {
    use kaohe_store::{NewUser, TokenInfo};
    let system = NewUser {
        username: "gov_service".into(),
        display_name: "政务服务网".into(),
        password_hash: "$argon2id$fake".into(),
        roles: [Role::ServiceSystem].into_iter().collect(),
        units: vec![],
        cadre: None,
        totp_secret: None,
        must_change_password: false,
    };
    assert!(
        store
            .create_user(&system, 1, &audit("user.add"))
            .await
            .unwrap()
    );
    let info = TokenInfo {
        id: "t1".into(),
        username: "gov_service".into(),
        label: "一网通办".into(),
        created_at: 5,
        revoked_at: None,
    };
    store
        .create_token(&info, "hash-1", &audit("token.issue"))
        .await
        .unwrap();
    assert!(
        store
            .create_token(&info, "hash-2", &audit("token.issue"))
            .await
            .is_err(),
        "id taken"
    );
    let user = store.token_user("hash-1").await.unwrap().unwrap();
    assert_eq!(user.username, "gov_service");
    assert_eq!(store.token_user("hash-x").await.unwrap(), None);
    assert_eq!(store.list_tokens().await.unwrap(), vec![info]);
    assert!(
        store
            .revoke_token("t1", 9, &audit("token.revoke"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_token("t1", 9, &audit("token.revoke"))
            .await
            .unwrap()
    );
    assert_eq!(store.token_user("hash-1").await.unwrap(), None);
    assert_eq!(store.list_tokens().await.unwrap()[0].revoked_at, Some(9));
});

mod escalation {
    use super::*;
    use kaohe_domain::ratings::rectification::{Status, Step, StepKind};
    use kaohe_domain::ratings::{
        AppealDecision, AppealGround, Channel, NewRating, RatingLevel, ServiceCase,
    };
    use kaohe_store::{
        Appeal, IntakeOutcome, NewRectification, NewUser, RatingIntake, RectificationState,
        StoredCase, escalate_overdue,
    };
    use time::macros::datetime;

    fn case(id: &str) -> StoredCase {
        StoredCase {
            case: ServiceCase {
                id: code(id),
                item: "不动产登记".into(),
                unit: code("341000-01"),
                window: None,
                officials: vec![],
                channel: Channel::Window,
                accepted_at: datetime!(2026-03-02 09:00 UTC),
                closed_at: datetime!(2026-03-04 07:00 UTC),
                applicant: None,
                phone: None,
            },
            rating_code: format!("code-{id}"),
        }
    }

    /// A bad review of `id` on Thursday 5 March 2026, due Thursday 12 March.
    fn bad_review(id: &str) -> RatingIntake {
        RatingIntake {
            rating: NewRating {
                case_id: code(id),
                level: RatingLevel::Dissatisfied,
                tags: vec![],
                comment: None,
                channel: Channel::Online,
                real_name: false,
                contact: None,
            },
            rated_at: datetime!(2026-03-05 02:00 UTC),
            rectification: Some(NewRectification {
                unit: code("341000-01"),
                real_name: false,
                opened_on: date!(2026 - 03 - 05),
                deadline: date!(2026 - 03 - 12),
            }),
        }
    }

    async fn account(store: &dyn Store, name: &str, role: Role, unit: &str) {
        let user = NewUser {
            username: name.into(),
            display_name: name.into(),
            password_hash: "$argon2id$fake".into(),
            roles: [role].into_iter().collect(),
            units: vec![code(unit)],
            cadre: None,
            totp_secret: None,
            must_change_password: false,
        };
        assert!(
            store
                .create_user(&user, 1, &audit("user.create"))
                .await
                .unwrap()
        );
    }

    async fn step(store: &dyn Store, id: i64, seq: u32, kind: StepKind, status: Status) {
        let on = date!(2026 - 03 - 20);
        let step = Step {
            kind,
            note: "已处理".into(),
            reached: None,
            verdict: None,
            on,
        };
        let state = RectificationState {
            status,
            closed_on: (status == Status::Closed).then_some(on),
            called_back: false,
        };
        assert!(
            store
                .add_step(id, seq, &step, state, "leader", 9, &audit("rect.step"))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn an_overdue_rectification_is_escalated_once_and_the_record_outlives_its_closing() {
        for db in TestDatabase::all().await.unwrap() {
            let store = db.store.as_ref();
            seed(store).await;
            account(store, "leader", Role::UnitLeader, "341000-01").await;
            account(store, "town_leader", Role::UnitLeader, "341001").await;
            account(store, "assessor", Role::Assessor, "341000").await;
            account(store, "retired", Role::Assessor, "341000").await;
            assert!(
                store
                    .set_disabled("retired", true, LastHolder::Keep, &audit("user.disable"))
                    .await
                    .unwrap()
            );
            store
                .upsert_cases(
                    &[case("BJ-1"), case("BJ-2"), case("BJ-3")],
                    &audit("test.cases"),
                )
                .await
                .unwrap();
            let ids: Vec<i64> = store
                .insert_ratings(&[bad_review("BJ-1"), bad_review("BJ-2"), bad_review("BJ-3")])
                .await
                .unwrap()
                .into_iter()
                .map(|o| match o {
                    IntakeOutcome::Stored(r) => r.id,
                    other => panic!("{other:?}"),
                })
                .collect();
            // BJ-2 closes in time; BJ-3's review is excluded by an upheld appeal.
            step(store, ids[1], 1, StepKind::Verify, Status::Verified).await;
            step(store, ids[1], 2, StepKind::Explain, Status::Handled).await;
            step(store, ids[1], 3, StepKind::Close, Status::Closed).await;
            let appeal = Appeal {
                rating_id: ids[2],
                ground: AppealGround::Mistaken,
                evidence: "评价人误选".into(),
                filed_by: "leader".into(),
                filed_at: 3,
                decision: None,
            };
            assert!(
                store
                    .file_appeal(&appeal, &audit("appeal.file"))
                    .await
                    .unwrap()
            );
            assert!(
                store
                    .decide_appeal(
                        ids[2],
                        AppealDecision::Upheld,
                        "属实",
                        "assessor",
                        4,
                        &audit("appeal.decide")
                    )
                    .await
                    .unwrap()
            );
            // Friday 13 March is a holiday here: nothing escalates before Monday 16 March.
            store
                .upsert_calendar(
                    &[CalendarEntry {
                        date: date!(2026 - 03 - 13),
                        kind: DayKind::Holiday,
                        name: "测试假日".into(),
                    }],
                    &audit("calendar"),
                )
                .await
                .unwrap();
            for today in [
                date!(2026 - 03 - 12),
                date!(2026 - 03 - 13),
                date!(2026 - 03 - 15),
            ] {
                let none = escalate_overdue(store, today, 100, "system").await.unwrap();
                assert!(none.is_empty(), "{}: {today}: {none:?}", db.name);
            }
            let head = store.audit_head().await.unwrap().seq;
            let today = date!(2026 - 03 - 17);
            let done = escalate_overdue(store, today, 200, "system").await.unwrap();
            assert_eq!(done.len(), 1, "{}: {done:?}", db.name);
            let e = &done[0];
            assert_eq!(e.rating_id, ids[0]);
            assert_eq!(
                (e.deadline, e.due_on, e.on),
                (date!(2026 - 03 - 12), date!(2026 - 03 - 16), today)
            );
            assert_eq!(e.leaders, vec!["leader"]);
            assert_eq!(
                e.assessors,
                vec!["assessor"],
                "a disabled account gets nothing"
            );
            assert_eq!(store.escalation(ids[0]).await.unwrap().as_ref(), Some(e));
            assert_eq!(store.escalation(ids[1]).await.unwrap(), None);
            assert_eq!(
                store.open_escalations().await.unwrap(),
                vec![(ids[0], code("341000-01"))]
            );
            let entries = store.audit_entries(head + 1, 10).await.unwrap();
            assert_eq!(entries.len(), 1, "{}", db.name);
            assert_eq!(entries[0].action, "rectification.escalated");
            assert_eq!(entries[0].actor, "system");
            assert_eq!(entries[0].target, format!("rating:{}", ids[0]));
            let before: serde_json::Value =
                serde_json::from_str(entries[0].before.as_deref().unwrap()).unwrap();
            let after: serde_json::Value =
                serde_json::from_str(entries[0].after.as_deref().unwrap()).unwrap();
            assert_eq!(before["escalated_on"], serde_json::Value::Null);
            assert_eq!(after["escalated_on"], "2026-03-17");
            assert_eq!(after["due_on"], "2026-03-16");
            assert_eq!(after["leaders"], serde_json::json!(["leader"]));

            // A second sweep, the same day or later, records nothing.
            for again in [today, date!(2026 - 03 - 18)] {
                assert!(
                    escalate_overdue(store, again, 300, "system")
                        .await
                        .unwrap()
                        .is_empty()
                );
            }
            assert_eq!(store.audit_head().await.unwrap().seq, head + 1);

            // An upheld appeal takes the review out of every count of overdue work, the
            // escalations still open included; the record of the escalation stays.
            let appeal = Appeal {
                rating_id: ids[0],
                ground: AppealGround::Malicious,
                evidence: "录像".into(),
                filed_by: "leader".into(),
                filed_at: 210,
                decision: None,
            };
            assert!(
                store
                    .file_appeal(&appeal, &audit("appeal.file"))
                    .await
                    .unwrap()
            );
            assert_eq!(store.open_escalations().await.unwrap().len(), 1);
            assert!(
                store
                    .decide_appeal(
                        ids[0],
                        AppealDecision::Upheld,
                        "证据充分",
                        "assessor",
                        230,
                        &audit("appeal.decide"),
                    )
                    .await
                    .unwrap()
            );
            assert!(
                store.open_escalations().await.unwrap().is_empty(),
                "{}",
                db.name
            );
            assert_eq!(store.escalation(ids[0]).await.unwrap().as_ref(), Some(e));

            // Closing late keeps the record that it was escalated.
            step(store, ids[0], 1, StepKind::Verify, Status::Verified).await;
            step(store, ids[0], 2, StepKind::Explain, Status::Handled).await;
            step(store, ids[0], 3, StepKind::Close, Status::Closed).await;
            assert_eq!(store.escalation(ids[0]).await.unwrap().as_ref(), Some(e));
            assert!(store.open_escalations().await.unwrap().is_empty());
            for sql in [
                "DELETE FROM rectification_escalations",
                "UPDATE rectification_escalations SET leaders = ''",
            ] {
                assert!(
                    db.raw_execute(sql).await.is_err(),
                    "{}: {sql} was allowed",
                    db.name
                );
            }
            db.finish().await.unwrap();
        }
    }
}
