//! Export → import gives back exactly what was exported.

use kaohe_data::{
    Dataset, Format, GenSpec, HeaderLang, Phones, Table, generate, read_appointments, read_cadres,
    read_calendar, read_cases, read_ratings, read_sanctions, read_units, write_dataset,
    write_sanctions, write_units,
};
use kaohe_domain::{Code, Sanction, SanctionKind, Unit, UnitKind};
use proptest::prelude::*;
use time::macros::offset;
use time::{Date, Duration, UtcOffset};

fn read_all(dir: &std::path::Path, format: Format) -> Dataset {
    let path = |t: Table| dir.join(format!("{}.{}", t.file_stem(), format.extension()));
    Dataset {
        units: read_units(path(Table::Units)).expect("units").into_values(),
        cadres: read_cadres(path(Table::Cadres))
            .expect("cadres")
            .into_values(),
        appointments: read_appointments(path(Table::Appointments))
            .expect("appointments")
            .into_values(),
        sanctions: read_sanctions(path(Table::Sanctions))
            .expect("sanctions")
            .into_values(),
        calendar: read_calendar(path(Table::Calendar))
            .expect("calendar")
            .into_values(),
        cases: read_cases(path(Table::ServiceCases), offset!(+8))
            .expect("cases")
            .into_values(),
        ratings: read_ratings(path(Table::Ratings), offset!(+8))
            .expect("ratings")
            .into_values(),
    }
}

#[test]
fn generated_dataset_round_trips_in_every_format_and_language() {
    let data = generate(&GenSpec {
        seed: 2025,
        cadres: 2_500,
        year: 2025,
        cases: None,
    });
    assert!(!data.sanctions.is_empty());
    for format in [Format::Csv, Format::Xlsx] {
        for lang in [HeaderLang::Zh, HeaderLang::En] {
            let dir = tempfile::tempdir().expect("tempdir");
            // Times written in UTC read back as the same moments under any local offset.
            let paths = write_dataset(
                dir.path(),
                &data,
                lang,
                format,
                UtcOffset::UTC,
                Phones::Unmasked,
            )
            .expect("export");
            assert_eq!(paths.len(), 7);
            let back = read_all(dir.path(), format);
            assert_eq!(back.units, data.units, "{format:?} {lang:?}");
            assert_eq!(back.cadres, data.cadres, "{format:?} {lang:?}");
            assert_eq!(back.appointments, data.appointments, "{format:?} {lang:?}");
            assert_eq!(back.sanctions, data.sanctions, "{format:?} {lang:?}");
            assert_eq!(back.calendar, data.calendar, "{format:?} {lang:?}");
            assert_eq!(back.cases, data.cases, "{format:?} {lang:?}");
            assert_eq!(back.ratings, data.ratings, "{format:?} {lang:?}");
        }
    }
}

#[test]
fn export_headers_follow_the_language() {
    let data = generate(&GenSpec {
        seed: 1,
        cadres: 50,
        year: 2025,
        cases: None,
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let zh = dir.path().join("zh.csv");
    let en = dir.path().join("en.csv");
    write_units(&zh, &data.units, HeaderLang::Zh).expect("export");
    write_units(&en, &data.units, HeaderLang::En).expect("export");
    let zh = std::fs::read_to_string(zh).expect("read");
    let en = std::fs::read_to_string(en).expect("read");
    assert!(zh.starts_with("\u{feff}单位编码,单位名称,单位类型,上级单位编码\n"));
    assert!(en.starts_with("\u{feff}code,name,kind,parent\n"));
    assert!(
        zh.lines().nth(1).is_some_and(|l| l.ends_with(",县,")),
        "{zh}"
    );
    assert!(
        en.lines().nth(1).is_some_and(|l| l.ends_with(",county,")),
        "{en}"
    );
}

/// Trimmed, non-empty text with the characters that trouble CSV and spreadsheets.
fn text() -> impl Strategy<Value = String> {
    "[=+@'\"a-z干部,;\n-]{0,3}[a-z张王李\"',;=+-]{0,12}[a-z局科]"
        .prop_filter("trimmed", |s| s.trim() == s)
}

fn code() -> impl Strategy<Value = Code> {
    "[-=+@'A-Za-z0-9_]{1,12}".prop_map(|s| Code::parse(&s).expect("no white space"))
}

fn date() -> impl Strategy<Value = Date> {
    // 1850–2100: before 1901 XLSX export writes text instead of a date cell.
    (0i64..91_000).prop_map(|d| time::macros::date!(1850 - 01 - 01) + Duration::days(d))
}

fn sanction() -> impl Strategy<Value = Sanction> {
    (
        code(),
        code(),
        prop::sample::select(vec![
            SanctionKind::Warning,
            SanctionKind::Demerit,
            SanctionKind::Expulsion,
        ]),
        date(),
        prop::option::of(0i64..2_000),
        text(),
    )
        .prop_map(|(id, cadre, kind, start_date, end, reason)| Sanction {
            id,
            cadre,
            kind,
            start_date,
            end_date: end.map(|d| start_date + Duration::days(d)),
            reason,
        })
}

fn unit() -> impl Strategy<Value = Unit> {
    (
        code(),
        text(),
        prop::sample::select(vec![UnitKind::Province, UnitKind::Department]),
        prop::option::of(code()),
    )
        .prop_map(|(code, name, kind, parent)| Unit {
            parent: parent.filter(|p| *p != code),
            code,
            name,
            kind,
        })
}

fn unique_by<T, K: std::hash::Hash + Eq>(mut v: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(key(x)));
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn odd_text_and_dates_round_trip(
        sanctions in prop::collection::vec(sanction(), 0..20),
        units in prop::collection::vec(unit(), 0..20),
        zh in any::<bool>(),
    ) {
        let sanctions = unique_by(sanctions, |s| s.id.clone());
        let units = unique_by(units, |u| u.code.clone());
        let lang = if zh { HeaderLang::Zh } else { HeaderLang::En };
        let dir = tempfile::tempdir().expect("tempdir");
        for ext in ["csv", "xlsx"] {
            let s = dir.path().join(format!("sanctions.{ext}"));
            write_sanctions(&s, &sanctions, lang).expect("export");
            prop_assert_eq!(&read_sanctions(&s).expect("import").into_values(), &sanctions);
            let u = dir.path().join(format!("units.{ext}"));
            write_units(&u, &units, lang).expect("export");
            prop_assert_eq!(&read_units(&u).expect("import").into_values(), &units);
        }
    }
}
