//! The generator's guarantees.

use kaohe_data::{
    Format, GenSpec, HeaderLang, Phones, check_unit_tree, generate, read_units, write_dataset,
};
use kaohe_domain::{Labeled, UnitKind, WorkCalendar};
use std::collections::{HashMap, HashSet};
use time::UtcOffset;
use time::macros::date;

fn spec(seed: u64, cadres: usize) -> GenSpec {
    GenSpec {
        seed,
        cadres,
        year: 2025,
        cases: None,
    }
}

#[test]
fn same_seed_same_data_other_seed_other_data() {
    let a = generate(&spec(11, 800));
    let b = generate(&spec(11, 800));
    let c = generate(&spec(12, 800));
    assert_eq!(a, b);
    assert_ne!(a.cadres, c.cadres);
    assert_ne!(a.units, c.units);
}

#[test]
fn datasets_of_every_shape_are_consistent() {
    // One county, one city, one province.
    for (cadres, root) in [
        (0, UnitKind::County),
        (7, UnitKind::County),
        (500, UnitKind::County),
        (6_000, UnitKind::City),
        (40_000, UnitKind::Province),
    ] {
        let data = generate(&spec(cadres as u64, cadres));
        assert_eq!(data.cadres.len(), cadres);

        // Units: unique codes, parents listed before children and allowed.
        let mut units: HashMap<&str, UnitKind> = HashMap::new();
        for u in &data.units {
            if let Some(p) = &u.parent {
                let parent = units.get(p.as_str()).copied();
                let parent = parent.unwrap_or_else(|| panic!("parent {p} of {} missing", u.code));
                assert!(u.kind.may_have_parent(parent), "{} under {p}", u.code);
            } else {
                assert_eq!(u.kind, root, "{}", u.code);
            }
            assert!(
                units.insert(u.code.as_str(), u.kind).is_none(),
                "{} twice",
                u.code
            );
        }
        if cadres >= 500 {
            let avg = cadres as f64 / data.units.len() as f64;
            assert!(
                (14.0..=40.0).contains(&avg),
                "{cadres}: {avg} cadres per unit"
            );
        }

        // Cadres: unique ids, existing units, leaders everywhere, plausible ages.
        let mut ids = HashSet::new();
        let mut per_unit: HashMap<&str, (usize, usize)> = HashMap::new();
        let mut men = 0;
        let mut han = 0;
        for c in &data.cadres {
            assert!(ids.insert(c.id.as_str()), "{} twice", c.id);
            assert!(
                units.contains_key(c.unit.as_str()),
                "unit {} missing",
                c.unit
            );
            let entry = per_unit.entry(c.unit.as_str()).or_default();
            entry.0 += 1;
            entry.1 += usize::from(c.is_leader);
            let age = 2025 - c.birth_date.year();
            assert!((23..=60).contains(&age), "{}: age {age}", c.id);
            assert!(!c.name.is_empty() && !c.post.is_empty());
            if c.is_leader {
                assert!(c.rank.is_leading_post(), "{}: {}", c.id, c.rank.zh());
            }
            men += usize::from(c.gender == kaohe_domain::Gender::Male);
            han += usize::from(c.ethnicity == "汉族");
        }
        for (unit, (count, leaders)) in &per_unit {
            assert!(*leaders >= 1, "{unit} has no leader");
            assert!(*leaders <= 9, "{unit} has {leaders} leaders");
            if *count >= 3 {
                assert!(*leaders >= 3, "{unit} has {leaders} leaders of {count}");
            }
        }
        if cadres >= 500 {
            let men = men as f64 / cadres as f64;
            assert!((0.55..=0.7).contains(&men), "{men}");
            let han = han as f64 / cadres as f64;
            assert!((0.85..=0.96).contains(&han), "{han}");
        }

        // Appointments: 1–4 per cadre, consecutive, the last one current and matching.
        let mut history: HashMap<&str, Vec<&kaohe_domain::Appointment>> = HashMap::new();
        for a in &data.appointments {
            assert!(units.contains_key(a.unit.as_str()));
            history.entry(a.cadre.as_str()).or_default().push(a);
        }
        assert_eq!(history.len(), cadres);
        for c in &data.cadres {
            let h = &history[c.id.as_str()];
            assert!((1..=4).contains(&h.len()), "{}: {}", c.id, h.len());
            let last = h[h.len() - 1];
            assert_eq!(last.end_date, None);
            assert_eq!(
                (&last.unit, &last.post, last.rank),
                (&c.unit, &c.post, c.rank)
            );
            for w in h.windows(2) {
                let end = w[0].end_date.expect("earlier posts ended");
                assert!(w[0].start_date <= end);
                assert_eq!(end.next_day(), Some(w[1].start_date), "{}", c.id);
            }
            assert!(
                h[0].start_date.year() - c.birth_date.year() >= 21,
                "{}",
                c.id
            );
        }

        // Sanctions: existing cadres, recent, about 1% a year.
        let mut sanction_ids = HashSet::new();
        for s in &data.sanctions {
            assert!(sanction_ids.insert(s.id.as_str()));
            assert!(ids.contains(s.cadre.as_str()));
            assert!((2023..=2025).contains(&s.start_date.year()));
        }
        if cadres >= 6_000 {
            let rate = data.sanctions.len() as f64 / cadres as f64 / 3.0;
            assert!((0.006..=0.014).contains(&rate), "{rate}");
            let warnings = data
                .sanctions
                .iter()
                .filter(|s| s.kind == kaohe_domain::SanctionKind::Warning)
                .count();
            assert!(warnings * 2 > data.sanctions.len());
        }
    }
}

#[test]
fn written_dataset_passes_the_tree_check() {
    let data = generate(&spec(3, 5_000));
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = write_dataset(
        dir.path(),
        &data,
        HeaderLang::Zh,
        Format::Csv,
        UtcOffset::UTC,
        Phones::Unmasked,
    )
    .expect("write");
    let names: Vec<String> = paths
        .iter()
        .map(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(
        names,
        [
            "units.csv",
            "cadres.csv",
            "appointments.csv",
            "sanctions.csv",
            "calendar.csv",
            "service_cases.csv",
            "ratings.csv"
        ]
    );
    let units = read_units(&paths[0]).expect("units");
    check_unit_tree(&[], &units).expect("a valid tree");
}

#[test]
fn calendar_holds_the_official_2025_days() {
    let data = generate(&spec(1, 10));
    let cal = WorkCalendar::new(&data.calendar);
    for off in [
        date!(2025 - 01 - 01),
        date!(2025 - 01 - 28),
        date!(2025 - 02 - 04),
        date!(2025 - 04 - 04),
        date!(2025 - 05 - 05),
        date!(2025 - 06 - 02),
        date!(2025 - 10 - 08),
        date!(2024 - 02 - 16),
        date!(2026 - 02 - 23),
    ] {
        assert!(!cal.is_working_day(off), "{off}");
    }
    for on in [
        date!(2025 - 01 - 26),
        date!(2025 - 02 - 08),
        date!(2025 - 04 - 27),
        date!(2025 - 09 - 28),
        date!(2025 - 10 - 11),
        date!(2026 - 01 - 04),
    ] {
        assert!(cal.is_working_day(on), "{on}");
    }
}

#[test]
fn service_cases_and_ratings_look_like_a_county_service_centre() {
    use kaohe_domain::ratings::suspicion::{RatingFact, SuspicionKind, SuspicionPolicy, flag};
    use kaohe_domain::ratings::{RatingPolicy, check_rating};
    let data = generate(&spec(5, 800));
    assert_eq!(data, generate(&spec(5, 800)), "deterministic");
    assert_eq!(data.cases.len(), 1_600, "two cases per cadre");
    let cadre_unit: HashMap<&str, &str> = data
        .cadres
        .iter()
        .map(|c| (c.id.as_str(), c.unit.as_str()))
        .collect();
    let cases: HashMap<&str, &kaohe_domain::ratings::ServiceCase> =
        data.cases.iter().map(|c| (c.id.as_str(), c)).collect();
    assert_eq!(cases.len(), data.cases.len(), "case ids are unique");
    for c in &data.cases {
        c.check().expect("a valid case");
        assert!(!c.officials.is_empty());
        for o in &c.officials {
            assert_eq!(
                cadre_unit.get(o.as_str()),
                Some(&c.unit.as_str()),
                "{o} of {}",
                c.id
            );
        }
        assert!(
            c.window.is_some() == (c.channel == kaohe_domain::ratings::Channel::Window),
            "{}",
            c.id
        );
    }
    assert!(data.cases.iter().any(|c| c.item == "不动产登记"));
    let rated = data.ratings.len() as f64 / data.cases.len() as f64;
    assert!((0.6..=0.8).contains(&rated), "rated share {rated}");
    let mut seen = HashSet::new();
    let policy = RatingPolicy::default();
    for r in &data.ratings {
        assert!(
            seen.insert(r.rating.case_id.as_str()),
            "one rating per case"
        );
        let case = cases[r.rating.case_id.as_str()];
        check_rating(case, r.rating.clone(), r.rated_at, &policy).expect("within the rules");
        let bad = r.rating.level.is_bad();
        for t in &r.rating.tags {
            let praise = matches!(
                t,
                kaohe_domain::ratings::ReasonTag::Efficient
                    | kaohe_domain::ratings::ReasonTag::Courteous
            );
            assert!(!(bad && praise), "praise on a bad review of {}", case.id);
        }
        if bad {
            assert!(!r.rating.tags.is_empty(), "a bad review names a reason");
        }
    }
    let share = |pred: &dyn Fn(u8) -> bool| {
        data.ratings
            .iter()
            .filter(|r| pred(r.rating.level.value()))
            .count() as f64
            / data.ratings.len() as f64
    };
    assert!(share(&|l| l == 5) > 0.75, "mostly 非常满意");
    let bad = share(&|l| l <= 2);
    assert!((0.01..=0.06).contains(&bad), "bad share {bad}");
    assert!(
        data.ratings
            .iter()
            .any(|r| r.rating.real_name && r.rating.contact.is_some())
    );
    // Planted patterns are found by the suspicion checks.
    let facts: Vec<RatingFact<'_>> = data
        .ratings
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let case = cases[r.rating.case_id.as_str()];
            RatingFact {
                id: i as i64,
                rated_at: r.rated_at,
                officials: &case.officials,
                case_id: &case.id,
                contact: r
                    .rating
                    .contact
                    .as_ref()
                    .or(case.phone.as_ref())
                    .map(|p| p.reveal()),
            }
        })
        .collect();
    let flags = flag(
        &facts,
        &SuspicionPolicy {
            utc_offset: time::macros::offset!(+8),
            ..SuspicionPolicy::default()
        },
    );
    let count = |k: SuspicionKind| flags.values().filter(|f| f.contains(&k)).count();
    assert!(count(SuspicionKind::Burst) >= 10, "{flags:?}");
    assert!(count(SuspicionKind::RepeatContact) >= 6, "{flags:?}");
    assert!(
        (1..=10).contains(&count(SuspicionKind::OddHour)),
        "{flags:?}"
    );
}
