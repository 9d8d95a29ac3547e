//! Parsing of single cells: dates, times, booleans, and the date and time text written on
//! export.

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Parses a date written as `2025-03-01`, `2025/3/1`, `2025.3.1`, `2025年3月1日` or `20250301`.
///
/// A time of day after the date (`2025-03-01 00:00:00`, `2025-03-01T00:00:00`) is ignored, as
/// spreadsheet programs like to add one. The year has four digits.
pub fn parse_date(s: &str) -> Result<Date, String> {
    let t = s.trim();
    parse_date_inner(t).ok_or_else(|| {
        format!("invalid date {t:?}; expected e.g. 2025-03-01, 2025/3/1, 2025年3月1日 or 20250301")
    })
}

fn parse_date_inner(t: &str) -> Option<Date> {
    // Drop a time part.
    let t = match t.find([' ', 'T']) {
        Some(i) if i >= 8 => &t[..i],
        _ => t,
    };
    let (y, m, d) = if let Some((y, rest)) = t.split_once('年') {
        let (m, rest) = rest.split_once('月')?;
        let d = rest
            .strip_suffix('日')
            .or_else(|| rest.strip_suffix('号'))?;
        (y, m, d)
    } else if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        (&t[..4], &t[4..6], &t[6..])
    } else {
        let sep = t.bytes().find(|b| matches!(b, b'-' | b'/' | b'.'))?;
        let mut parts = t.split(char::from(sep));
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        (y, m, d)
    };
    let (y, m, d) = (y.trim(), m.trim(), d.trim());
    if y.len() != 4 || !(1..=2).contains(&m.len()) || !(1..=2).contains(&d.len()) {
        return None;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(y) || !digits(m) || !digits(d) {
        return None;
    }
    let year: i32 = y.parse().ok()?;
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year, month, d.parse().ok()?).ok()
}

/// Parses a moment: RFC 3339 (`2025-03-04T15:30:00+08:00`), or a date in any form
/// [`parse_date`] reads followed by `HH:MM` or `HH:MM:SS`, in local time at `offset`
/// (`2025-03-04 15:30`, `2025/3/4 9:05:00`).
pub fn parse_datetime(s: &str, offset: UtcOffset) -> Result<OffsetDateTime, String> {
    let t = s.trim();
    if let Ok(at) = OffsetDateTime::parse(t, &Rfc3339) {
        return Ok(at);
    }
    parse_local(t)
        .map(|p| p.assume_offset(offset))
        .ok_or_else(|| {
            format!(
                "invalid time {t:?}; expected e.g. 2025-03-04 15:30, 2025-03-04 15:30:00 (local time) or 2025-03-04T15:30:00+08:00"
            )
        })
}

fn parse_local(t: &str) -> Option<PrimitiveDateTime> {
    let i = t.find([' ', 'T'])?;
    let date = parse_date_inner(t[..i].trim())?;
    let mut parts = t[i + 1..].trim().split(':');
    let two = |s: &str, min_len: usize| -> Option<u8> {
        if (min_len..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let hour = two(parts.next()?, 1)?;
    let minute = two(parts.next()?, 2)?;
    let second = match parts.next() {
        Some(s) => two(s, 2)?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(PrimitiveDateTime::new(
        date,
        Time::from_hms(hour, minute, second).ok()?,
    ))
}

/// A moment as RFC 3339 text at `offset`, to the second: `2025-03-04T15:30:00+08:00`.
pub fn format_datetime(at: OffsetDateTime, offset: UtcOffset) -> String {
    let at = at.to_offset(offset).replace_nanosecond(0).unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_default()
}

/// Parses a boolean: 是/否, true/false, 1/0, y/n, yes/no (English case-insensitive); also 对/错
/// and √/× as found in hand-kept sheets.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    let t = s.trim();
    const TRUE: &[&str] = &["是", "true", "1", "y", "yes", "对", "√", "t"];
    const FALSE: &[&str] = &["否", "false", "0", "n", "no", "错", "×", "f"];
    if TRUE.iter().any(|v| v.eq_ignore_ascii_case(t)) {
        Ok(true)
    } else if FALSE.iter().any(|v| v.eq_ignore_ascii_case(t)) {
        Ok(false)
    } else {
        Err(format!(
            "invalid yes/no value {t:?}; expected 是/否, true/false, 1/0, y/n or yes/no"
        ))
    }
}

/// Writes `date` as `YYYY-MM-DD` into `buf` and returns the text. Years outside 0..=9999 are
/// written with as many digits as they need (and will not read back).
pub fn format_date(date: Date, buf: &mut [u8; 16]) -> &str {
    use std::io::Write;
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    // 16 bytes hold any `time::Date` without the large-dates feature (±9999).
    let _ = write!(
        cursor,
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    );
    let len = usize::try_from(cursor.position()).unwrap_or(0);
    std::str::from_utf8(&buf[..len]).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn date_forms() {
        let d = date!(2025 - 03 - 01);
        for s in [
            "2025-03-01",
            "2025/3/1",
            "2025.3.1",
            "2025年3月1日",
            "2025年03月01日",
            "20250301",
            " 2025-3-01 ",
            "2025-03-01 00:00:00",
            "2025-03-01T00:00:00",
            "2025/03/01 0:00",
        ] {
            assert_eq!(parse_date(s), Ok(d), "{s}");
        }
        for s in [
            "",
            "2025-02-30",
            "2025-13-01",
            "25-3-1",
            "2025-3",
            "2025-3-1-1",
            "2025年3月",
            "2025031",
            "March 1, 2025",
            "2025-0x-01",
            "2025-+3-01",
        ] {
            assert!(parse_date(s).is_err(), "{s}");
        }
        let e = parse_date("2025-02-30").expect_err("invalid");
        assert!(e.contains("2025-02-30"), "{e}");
    }

    #[test]
    fn bools() {
        for s in ["是", "TRUE", "1", "Y", "yes"] {
            assert_eq!(parse_bool(s), Ok(true), "{s}");
        }
        for s in ["否", "false", "0", "n", "No"] {
            assert_eq!(parse_bool(s), Ok(false), "{s}");
        }
        assert!(parse_bool("maybe").is_err());
        assert!(parse_bool("").is_err());
    }

    #[test]
    fn datetime_forms() {
        use time::macros::{datetime, offset};
        let at = datetime!(2025-03-04 15:30 +8);
        for s in [
            "2025-03-04T15:30:00+08:00",
            "2025-03-04T07:30:00Z",
            "2025-03-04 15:30",
            "2025-03-04T15:30",
            " 2025/3/4 15:30:00 ",
            "2025年3月4日 15:30",
        ] {
            assert_eq!(parse_datetime(s, offset!(+8)), Ok(at), "{s}");
        }
        assert_eq!(
            parse_datetime("2025-03-04 9:05", offset!(+8)),
            Ok(datetime!(2025-03-04 9:05 +8))
        );
        for s in [
            "2025-03-04",
            "2025-03-04 25:00",
            "2025-03-04 15:3",
            "2025-03-04 15:30:00:00",
            "15:30",
            "",
        ] {
            assert!(parse_datetime(s, offset!(+8)).is_err(), "{s}");
        }
        let text = format_datetime(datetime!(2025-03-04 07:30:00.5 UTC), offset!(+8));
        assert_eq!(text, "2025-03-04T15:30:00+08:00");
        assert_eq!(parse_datetime(&text, offset!(-5)), Ok(at));
    }

    proptest! {
        #[test]
        fn format_then_parse(days in 0i64..(9999 * 366)) {
            let d = date!(0001 - 01 - 01).checked_add(time::Duration::days(days));
            prop_assume!(d.is_some());
            let d = d.expect("assumed");
            let mut buf = [0; 16];
            prop_assert_eq!(parse_date(format_date(d, &mut buf)), Ok(d));
        }
    }
}
