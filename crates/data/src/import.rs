//! Import of the tables from CSV or XLSX files.
//!
//! Every reader checks one file on its own: headers, cell syntax, required values, duplicate
//! keys and date order. Checks that need the database (does the unit of a cadre exist?) are the
//! caller's; [`Parsed`] keeps the row of every record and the headers as written so that the
//! caller reports its findings in the same `FILE:ROW:COLUMN: reason` form, and
//! [`check_unit_tree`] checks a unit tree without touching a database.

use crate::error::{ImportError, RowError, RowErrors};
use crate::parse::{format_date, parse_bool, parse_date, parse_datetime};
use crate::table::{Column, Format, Table};
use calamine::{Data, Reader, Xlsx};
use kaohe_domain::ratings::{
    CaseError, Channel, MAX_TEXT, NewRating, Phone, RatingLevel, ReasonTag, ServiceCase,
};
use kaohe_domain::repeated_codes;
use kaohe_domain::text::check_text;
use kaohe_domain::{
    Appointment, Cadre, CadreStatus, CalendarEntry, Code, DayKind, Gender, Labeled, RankLevel,
    Sanction, SanctionKind, Unit, UnitKind,
};
use std::borrow::Cow;
use std::collections::hash_map::Entry;

/// Maps of the import's keys: a file can hold millions of rows, so a fast hasher (seeded per
/// process) instead of SipHash.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::path::{Path, PathBuf};
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Longest name, post title, ethnicity or holiday name, in characters.
pub const MAX_NAME_LEN: usize = 100;
/// Longest sanction reason, in characters.
pub const MAX_REASON_LEN: usize = 1000;

/// A record and the row it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// Row number as a spreadsheet user sees it (the header is row 1).
    pub row: usize,
    /// The record.
    pub value: T,
}

/// The records of one imported file, in file order, with what is needed to report further
/// problems against the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<T> {
    /// The file as given.
    pub file: PathBuf,
    /// The header row as written in the file (trimmed).
    pub header: Vec<String>,
    /// The records with their row numbers.
    pub rows: Vec<Located<T>>,
    table: Table,
    /// For each column of the table, its index in `header`.
    columns: Vec<Option<usize>>,
}

impl<T> Parsed<T> {
    /// The table the file holds.
    pub fn table(&self) -> Table {
        self.table
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the file held no records.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The records, without their rows.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &T> {
        self.rows.iter().map(|r| &r.value)
    }

    /// The records, without their rows.
    pub fn into_values(self) -> Vec<T> {
        self.rows.into_iter().map(|r| r.value).collect()
    }

    /// The header of the column for the field `key` (e.g. `"unit"`) as written in the file;
    /// the Chinese header when the file lacks the column, `key` itself for an unknown key.
    pub fn column<'s>(&'s self, key: &'s str) -> &'s str {
        let cols = self.table.columns();
        match cols.iter().position(|c| c.key == key) {
            Some(i) => match self.columns.get(i).copied().flatten() {
                Some(h) => &self.header[h],
                None => cols[i].zh,
            },
            None => self
                .header
                .iter()
                .find(|h| h.as_str() == key)
                .map_or(key, String::as_str),
        }
    }

    /// An error at `row` in the column of the field `key`, e.g.
    /// `parsed.error(17, "unit", "unit 340199 does not exist")` displays as
    /// `cadres.csv:17:单位编码: unit 340199 does not exist`.
    pub fn error(&self, row: usize, key: &str, message: impl Into<String>) -> RowError {
        RowError {
            row,
            column: self.column(key).to_owned(),
            message: message.into(),
        }
    }

    /// An empty error list for this file, to collect the caller's own checks.
    pub fn new_errors(&self) -> RowErrors {
        RowErrors::new(self.file.clone())
    }

    /// Reports every record whose reference (given by `get`, in the field `key`) fails
    /// `exists`, as "`what` CODE does not exist".
    pub fn check_refs<'a>(
        &'a self,
        errors: &mut RowErrors,
        key: &str,
        what: &str,
        get: impl Fn(&'a T) -> Option<&'a Code>,
        mut exists: impl FnMut(&Code) -> bool,
    ) {
        for r in &self.rows {
            if let Some(code) = get(&r.value)
                && !exists(code)
            {
                errors.push(self.error(r.row, key, format!("{what} {code} does not exist")));
            }
        }
    }
}

/// Reads units (单位).
pub fn read_units(path: impl AsRef<Path>) -> Result<Parsed<Unit>, ImportError> {
    let mut seen: HashMap<Code, usize> = HashMap::default();
    read_table(path.as_ref(), Table::Units, |row| {
        let code = row.code(0);
        let name = row.text(1, MAX_NAME_LEN);
        let kind = row.label::<UnitKind>(2);
        let parent = row.opt_code(3);
        if let (Some(c), Some(Some(p))) = (&code, &parent)
            && c == p
        {
            row.fail(3, format!("unit {c} cannot be its own parent"));
        }
        if let Some(c) = &code {
            row.unique(&mut seen, c.clone(), 0, || {
                format!("duplicate unit code {c}")
            });
        }
        Some(Unit {
            code: code?,
            name: name?,
            kind: kind?,
            parent: parent?,
        })
    })
}

/// Reads cadres (干部).
pub fn read_cadres(path: impl AsRef<Path>) -> Result<Parsed<Cadre>, ImportError> {
    let mut seen: HashMap<Code, usize> = HashMap::default();
    read_table(path.as_ref(), Table::Cadres, |row| {
        let id = row.code(0);
        let name = row.text(1, MAX_NAME_LEN);
        let gender = row.label::<Gender>(2);
        let ethnicity = row.text(3, MAX_NAME_LEN);
        let birth_date = row.date(4);
        let unit = row.code(5);
        let post = row.text(6, MAX_NAME_LEN);
        let rank = row.label::<RankLevel>(7);
        let is_leader = row.boolean(8);
        let status = row.label::<CadreStatus>(9);
        if let Some(c) = &id {
            row.unique(&mut seen, c.clone(), 0, || {
                format!("duplicate cadre id {c}")
            });
        }
        Some(Cadre {
            id: id?,
            name: name?,
            gender: gender?,
            ethnicity: ethnicity?,
            birth_date: birth_date?,
            unit: unit?,
            post: post?,
            rank: rank?,
            is_leader: is_leader?,
            status: status?,
        })
    })
}

/// Reads appointment history (任职经历). The key of an entry is cadre, unit, post and start date.
pub fn read_appointments(path: impl AsRef<Path>) -> Result<Parsed<Appointment>, ImportError> {
    let mut seen: HashMap<(Code, Code, String, Date), usize> = HashMap::default();
    read_table(path.as_ref(), Table::Appointments, |row| {
        let cadre = row.code(0);
        let unit = row.code(1);
        let post = row.text(2, MAX_NAME_LEN);
        let rank = row.label::<RankLevel>(3);
        let start_date = row.date(4);
        let end_date = row.opt_date(5);
        row.date_order(start_date, end_date, 5);
        if let (Some(c), Some(u), Some(p), Some(s)) = (&cadre, &unit, &post, start_date) {
            row.unique(&mut seen, (c.clone(), u.clone(), p.clone(), s), 0, || {
                format!("duplicate appointment of cadre {c} as {p} in unit {u} from {s}")
            });
        }
        Some(Appointment {
            cadre: cadre?,
            unit: unit?,
            post: post?,
            rank: rank?,
            start_date: start_date?,
            end_date: end_date?,
        })
    })
}

/// Reads disciplinary sanctions (处分).
pub fn read_sanctions(path: impl AsRef<Path>) -> Result<Parsed<Sanction>, ImportError> {
    let mut seen: HashMap<Code, usize> = HashMap::default();
    read_table(path.as_ref(), Table::Sanctions, |row| {
        let id = row.code(0);
        let cadre = row.code(1);
        let kind = row.label::<SanctionKind>(2);
        let start_date = row.date(3);
        let end_date = row.opt_date(4);
        let reason = row.text(5, MAX_REASON_LEN);
        row.date_order(start_date, end_date, 4);
        if let Some(c) = &id {
            row.unique(&mut seen, c.clone(), 0, || {
                format!("duplicate sanction id {c}")
            });
        }
        Some(Sanction {
            id: id?,
            cadre: cadre?,
            kind: kind?,
            start_date: start_date?,
            end_date: end_date?,
            reason: reason?,
        })
    })
}

/// Reads calendar overrides (节假日安排): 休 (holiday) or 班 (make-up working day) per date.
pub fn read_calendar(path: impl AsRef<Path>) -> Result<Parsed<CalendarEntry>, ImportError> {
    let mut seen: HashMap<Date, usize> = HashMap::default();
    read_table(path.as_ref(), Table::Calendar, |row| {
        let date = row.date(0);
        let kind = row.label::<DayKind>(1);
        let name = row.text(2, MAX_NAME_LEN);
        if let Some(d) = date {
            row.unique(&mut seen, d, 0, || format!("duplicate calendar date {d}"));
        }
        Some(CalendarEntry {
            date: date?,
            kind: kind?,
            name: name?,
        })
    })
}

/// A rating as a file holds it: what the rater gave and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingRecord {
    /// What the rater gave.
    pub rating: NewRating,
    /// When the rating was received.
    pub rated_at: OffsetDateTime,
}

/// Separators of the cells that hold several values (officials, tags).
const LIST_SEPARATORS: [char; 3] = [';', '；', '、'];

/// Reads service cases (办件). Times without an offset are local time at `offset`.
pub fn read_cases(
    path: impl AsRef<Path>,
    offset: UtcOffset,
) -> Result<Parsed<ServiceCase>, ImportError> {
    let mut seen: HashMap<Code, usize> = HashMap::default();
    read_table(path.as_ref(), Table::ServiceCases, |row| {
        let id = row.code(0);
        let item = row.text(1, MAX_TEXT);
        let unit = row.code(2);
        let window = row.opt_code(3);
        let officials = row.list(4, |t| Code::parse(t).map_err(|e| e.to_string()));
        let channel = row.label::<Channel>(5);
        let accepted_at = row.datetime(6, offset);
        let closed_at = row.datetime(7, offset);
        let applicant = row.optional(8, |t| {
            if t.chars().count() > MAX_TEXT {
                Err(format!("longer than {MAX_TEXT} characters"))
            } else {
                Ok(t.to_owned())
            }
        });
        let phone = row.opt_phone(9);
        if let Some(c) = &id {
            row.unique(&mut seen, c.clone(), 0, || format!("duplicate case {c}"));
        }
        let case = ServiceCase {
            id: id?,
            item: item?,
            unit: unit?,
            window: window?,
            officials: officials?,
            channel: channel?,
            accepted_at: accepted_at?,
            closed_at: closed_at?,
            applicant: applicant?,
            phone: phone?,
        };
        if let Err(e) = case.check() {
            let f = match &e {
                CaseError::Empty(_) | CaseError::TooLong(_) => 1,
                CaseError::ClosedBeforeAccepted => 7,
                CaseError::DuplicateOfficial(_) => 4,
            };
            row.fail(f, e.to_string());
            return None;
        }
        Some(case)
    })
}

/// Reads ratings (好差评): one per case. Times without an offset are local time at `offset`.
/// The intake rules that need the case (rating window, tags) are the caller's, through
/// `RatingIntake::prepare` of the store.
pub fn read_ratings(
    path: impl AsRef<Path>,
    offset: UtcOffset,
) -> Result<Parsed<RatingRecord>, ImportError> {
    let (parsed, errors) = read_table_par(path.as_ref(), Table::Ratings, |row| {
        let case_id = row.code(0);
        let level = row.label::<RatingLevel>(1);
        let tags = row.list(2, |t| ReasonTag::parse_label(t).map_err(|e| e.to_string()));
        let comment = row.optional(3, |t| Ok(t.to_owned()));
        let channel = row.label::<Channel>(4);
        let real_name = row.boolean(5);
        let contact = row.opt_phone(6);
        let rated_at = row.datetime(7, offset);
        Some(RatingRecord {
            rating: NewRating {
                case_id: case_id?,
                level: level?,
                tags: tags?,
                comment: comment?,
                channel: channel?,
                real_name: real_name?,
                contact: contact?,
            },
            rated_at: rated_at?,
        })
    })?;
    // One rating per case.
    let twice = repeated_codes(parsed.rows.iter().map(|r| &r.value.rating.case_id))
        .into_iter()
        .map(|(later, first)| {
            let (r, first_row) = (&parsed.rows[later], parsed.rows[first].row);
            let c = &r.value.rating.case_id;
            parsed.error(
                r.row,
                "case_id",
                format!("case {c} is rated twice: one rating per case; first on row {first_row}"),
            )
        })
        .collect();
    errors.merge(twice).into_result()?;
    Ok(parsed)
}

/// Checks the unit tree that results from importing `imported` over the `stored` units (an
/// imported unit replaces a stored one with the same code): every parent code must exist in one
/// of them, every unit must be allowed under its parent ([`UnitKind::may_have_parent`]), and
/// no chain of parents may loop. Problems are reported against the rows of `imported`, in row
/// order.
pub fn check_unit_tree(stored: &[Unit], imported: &Parsed<Unit>) -> Result<(), ImportError> {
    struct Node<'a> {
        kind: UnitKind,
        parent: Option<&'a Code>,
        row: Option<usize>,
    }
    let mut nodes: HashMap<&Code, Node<'_>> =
        HashMap::with_capacity_and_hasher(stored.len() + imported.len(), Default::default());
    for u in stored {
        nodes.insert(
            &u.code,
            Node {
                kind: u.kind,
                parent: u.parent.as_ref(),
                row: None,
            },
        );
    }
    for r in &imported.rows {
        nodes.insert(
            &r.value.code,
            Node {
                kind: r.value.kind,
                parent: r.value.parent.as_ref(),
                row: Some(r.row),
            },
        );
    }
    let mut found: Vec<RowError> = Vec::new();
    for r in &imported.rows {
        let u = &r.value;
        let Some(p) = &u.parent else { continue };
        match nodes.get(p) {
            None => found.push(imported.error(
                r.row,
                "parent",
                format!("parent unit {p} exists neither in this file nor in the database"),
            )),
            Some(parent) if !u.kind.may_have_parent(parent.kind) => found.push(imported.error(
                r.row,
                "parent",
                format!(
                    "a unit of kind {} ({}) may not sit under {p}, a unit of kind {} ({})",
                    u.kind.zh(),
                    u.kind.code(),
                    parent.kind.zh(),
                    parent.kind.code()
                ),
            )),
            Some(_) => {}
        }
    }
    // Stored units left under an imported unit whose kind changed.
    for u in stored {
        let (Some(node), Some(p)) = (nodes.get(&u.code), &u.parent) else {
            continue;
        };
        if node.row.is_some() {
            continue;
        }
        if let Some(Node {
            kind,
            row: Some(row),
            ..
        }) = nodes.get(p)
            && !u.kind.may_have_parent(*kind)
        {
            found.push(imported.error(
                *row,
                "kind",
                format!(
                    "stored unit {} ({}) sits under {p}, which may then not be of kind {} ({})",
                    u.code,
                    u.kind.zh(),
                    kind.zh(),
                    kind.code()
                ),
            ));
        }
    }
    // Cycles: walk up from every imported unit, marking units on the current path (1) and
    // units known to reach a root (2).
    let mut state: HashMap<&Code, u8> =
        HashMap::with_capacity_and_hasher(nodes.len(), Default::default());
    let mut path: Vec<&Code> = Vec::new();
    for r in &imported.rows {
        path.clear();
        let mut cur = Some(&r.value.code);
        while let Some(code) = cur {
            match state.get(code).copied().unwrap_or(0) {
                2 => break,
                1 => {
                    let start = path.iter().position(|c| *c == code).unwrap_or(0);
                    let cycle = &path[start..];
                    let text = cycle
                        .iter()
                        .chain(std::iter::once(&code))
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(" → ");
                    let mut reported = false;
                    for c in cycle {
                        if let Some(row) = nodes.get(c).and_then(|n| n.row) {
                            reported = true;
                            found.push(imported.error(
                                row,
                                "parent",
                                format!("unit {c} is part of a cycle of parents: {text}"),
                            ));
                        }
                    }
                    if !reported {
                        found.push(imported.error(
                            r.row,
                            "parent",
                            format!(
                                "the parents of unit {} lead into a cycle: {text}",
                                r.value.code
                            ),
                        ));
                    }
                    break;
                }
                _ => {
                    state.insert(code, 1);
                    path.push(code);
                    cur = nodes.get(code).and_then(|n| n.parent);
                }
            }
        }
        for c in &path {
            state.insert(c, 2);
        }
    }
    found.sort_by_key(|e| e.row);
    let mut errors = imported.new_errors();
    for e in found {
        errors.push(e);
    }
    errors.into_result()
}

// ---------------------------------------------------------------------------------------------
// Reading files

/// One cell, borrowed from the CSV record or the worksheet.
pub(crate) enum Cell<'a> {
    Text(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(Date),
    DateTime(PrimitiveDateTime),
    Error(String),
}

impl<'a> Cell<'a> {
    pub(crate) fn is_blank(&self) -> bool {
        matches!(self, Cell::Text(s) if s.is_empty())
    }

    pub(crate) fn text(&self) -> Result<Cow<'a, str>, String> {
        Ok(match self {
            Cell::Text(s) => Cow::Borrowed(*s),
            Cell::Int(i) => Cow::Owned(i.to_string()),
            Cell::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                // Integral: a code or a number typed into a text column.
                #[allow(clippy::cast_possible_truncation)]
                Cow::Owned((*f as i64).to_string())
            }
            Cell::Float(f) => Cow::Owned(f.to_string()),
            Cell::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Cell::Date(d) => {
                let mut buf = [0; 16];
                Cow::Owned(format_date(*d, &mut buf).to_owned())
            }
            Cell::DateTime(p) => {
                let mut buf = [0; 16];
                Cow::Owned(format!(
                    "{} {:02}:{:02}:{:02}",
                    format_date(p.date(), &mut buf),
                    p.hour(),
                    p.minute(),
                    p.second()
                ))
            }
            Cell::Error(e) => return Err(format!("the cell holds the spreadsheet error {e}")),
        })
    }
}

/// The cells of one row.
pub(crate) trait Cells {
    fn len(&self) -> usize;
    fn get(&self, i: usize) -> Cell<'_>;
}

pub(crate) struct CsvCells<'a>(pub(crate) &'a csv::StringRecord);

impl Cells for CsvCells<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, i: usize) -> Cell<'_> {
        Cell::Text(unguard(self.0.get(i).unwrap_or("").trim()))
    }
}

/// Undoes the formula guard of CSV export: a text that starts with `=`, `+`, `-` or `@` after
/// any apostrophes is written with one more leading apostrophe, so that spreadsheet programs
/// do not run it as a formula.
fn unguard(s: &str) -> &str {
    let rest = s.trim_start_matches('\'');
    if rest.len() < s.len() && rest.starts_with(['=', '+', '-', '@']) {
        &s[1..]
    } else {
        s
    }
}

/// The formula guard of CSV export; see [`unguard`].
pub(crate) fn needs_guard(s: &str) -> bool {
    s.trim_start_matches('\'').starts_with(['=', '+', '-', '@'])
}

pub(crate) struct XlsxCells<'a>(pub(crate) &'a [Data]);

impl Cells for XlsxCells<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, i: usize) -> Cell<'_> {
        match self.0.get(i) {
            None | Some(Data::Empty) => Cell::Text(""),
            Some(Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s)) => {
                Cell::Text(s.trim())
            }
            Some(Data::Int(i)) => Cell::Int(*i),
            Some(Data::Float(f)) => Cell::Float(*f),
            Some(Data::Bool(b)) => Cell::Bool(*b),
            Some(Data::DateTime(dt)) => {
                if dt.is_datetime() {
                    let (y, m, d, h, mi, s, _) = dt.to_ymd_hms_milli();
                    let date = time::Month::try_from(m)
                        .ok()
                        .and_then(|m| Date::from_calendar_date(i32::from(y), m, d).ok());
                    match (date, time::Time::from_hms(h, mi, s)) {
                        (Some(date), Ok(t)) if t == time::Time::MIDNIGHT => Cell::Date(date),
                        (Some(date), Ok(t)) => Cell::DateTime(PrimitiveDateTime::new(date, t)),
                        _ => Cell::Error(format!("date serial {}", dt.as_f64())),
                    }
                } else {
                    Cell::Error(format!("duration {}", dt.as_f64()))
                }
            }
            Some(Data::Error(e)) => Cell::Error(e.to_string()),
        }
    }
}

/// The parser's view of one row: typed accessors by column index (into
/// [`Table::columns`]) that report problems and remember that the row failed.
struct Row<'a> {
    cells: &'a dyn Cells,
    map: &'a [Option<usize>],
    header: &'a [String],
    columns: &'static [Column],
    number: usize,
    errors: &'a mut RowErrors,
    ok: bool,
}

impl<'a> Row<'a> {
    fn cell(&self, f: usize) -> Cell<'a> {
        let cells: &'a dyn Cells = self.cells;
        match self.map[f] {
            Some(i) => cells.get(i),
            None => Cell::Text(""),
        }
    }

    fn fail(&mut self, f: usize, message: impl Into<String>) {
        self.ok = false;
        let column = match self.map[f] {
            Some(i) => self.header[i].clone(),
            None => self.columns[f].zh.to_owned(),
        };
        self.errors.push_at(self.number, column, message);
    }

    /// The cell as trimmed text; `None` (reported) for an error cell or a text with a
    /// character no text may hold ([`kaohe_domain::text::check_text`]).
    fn raw(&mut self, f: usize) -> Option<Cow<'a, str>> {
        match self.cell(f).text() {
            Ok(t) => match check_text("", &t) {
                Ok(()) => Some(t),
                Err(e) => {
                    self.fail(
                        f,
                        format!(
                            "{} U+{:04X} at character {} is not allowed",
                            e.kind,
                            u32::from(e.character),
                            e.position
                        ),
                    );
                    None
                }
            },
            Err(e) => {
                self.fail(f, e);
                None
            }
        }
    }

    /// Required non-empty text; `Some(None)` means "empty", `None` means "already reported".
    fn present(&mut self, f: usize) -> Option<Option<Cow<'a, str>>> {
        let t = self.raw(f)?;
        Some(if t.is_empty() { None } else { Some(t) })
    }

    fn required<R>(
        &mut self,
        f: usize,
        parse: impl FnOnce(&str) -> Result<R, String>,
    ) -> Option<R> {
        let r = match self.present(f)? {
            Some(t) => parse(&t),
            None => Err("empty; a value is required".to_owned()),
        };
        self.report(f, r)
    }

    fn optional<R>(
        &mut self,
        f: usize,
        parse: impl FnOnce(&str) -> Result<R, String>,
    ) -> Option<Option<R>> {
        let r = match self.present(f)? {
            Some(t) => parse(&t).map(Some),
            None => Ok(None),
        };
        self.report(f, r)
    }

    fn report<R>(&mut self, f: usize, r: Result<R, String>) -> Option<R> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(f, e);
                None
            }
        }
    }

    fn text(&mut self, f: usize, max: usize) -> Option<String> {
        self.required(f, |t| {
            if t.chars().count() > max {
                Err(format!("longer than {max} characters"))
            } else {
                Ok(t.to_owned())
            }
        })
    }

    fn code(&mut self, f: usize) -> Option<Code> {
        self.required(f, |t| Code::parse(t).map_err(|e| e.to_string()))
    }

    fn opt_code(&mut self, f: usize) -> Option<Option<Code>> {
        self.optional(f, |t| Code::parse(t).map_err(|e| e.to_string()))
    }

    fn date(&mut self, f: usize) -> Option<Date> {
        match self.cell(f) {
            Cell::Date(d) => Some(d),
            Cell::DateTime(p) => Some(p.date()),
            _ => self.required(f, parse_date),
        }
    }

    fn opt_date(&mut self, f: usize) -> Option<Option<Date>> {
        match self.cell(f) {
            Cell::Date(d) => Some(Some(d)),
            Cell::DateTime(p) => Some(Some(p.date())),
            _ => self.optional(f, parse_date),
        }
    }

    /// A moment; a spreadsheet's date-time cell is local time at `offset`.
    fn datetime(&mut self, f: usize, offset: UtcOffset) -> Option<OffsetDateTime> {
        if let Cell::DateTime(p) = self.cell(f) {
            return Some(p.assume_offset(offset));
        }
        self.required(f, |t| parse_datetime(t, offset))
    }

    fn opt_phone(&mut self, f: usize) -> Option<Option<Phone>> {
        self.optional(f, |t| Phone::parse(t).map_err(|e| e.to_string()))
    }

    /// Values separated by `;`, `；` or `、` (empty: none).
    fn list<R>(&mut self, f: usize, parse: impl Fn(&str) -> Result<R, String>) -> Option<Vec<R>> {
        let parsed = self.optional(f, |t| {
            t.split(LIST_SEPARATORS)
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(&parse)
                .collect::<Result<Vec<R>, String>>()
        })?;
        Some(parsed.unwrap_or_default())
    }

    fn label<E: Labeled>(&mut self, f: usize) -> Option<E> {
        self.required(f, |t| E::parse_label(t).map_err(|e| e.to_string()))
    }

    fn boolean(&mut self, f: usize) -> Option<bool> {
        if let Cell::Bool(b) = self.cell(f) {
            return Some(b);
        }
        self.required(f, parse_bool)
    }

    /// Reports an end date (column `f`) before the start date.
    fn date_order(&mut self, start: Option<Date>, end: Option<Option<Date>>, f: usize) {
        if let (Some(s), Some(Some(e))) = (start, end)
            && e < s
        {
            self.fail(f, format!("end date {e} is before the start date {s}"));
        }
    }

    /// Reports a key seen on an earlier row, naming that row.
    fn unique<K: std::hash::Hash + Eq>(
        &mut self,
        seen: &mut HashMap<K, usize>,
        key: K,
        f: usize,
        what: impl FnOnce() -> String,
    ) {
        match seen.entry(key) {
            Entry::Occupied(first) => {
                let first = *first.get();
                self.fail(f, format!("{}; first on row {first}", what()));
            }
            Entry::Vacant(v) => {
                v.insert(self.number);
            }
        }
    }
}

/// Reads `path` as `table`, calling `build` for every non-blank row below the header.
fn read_table<T>(
    path: &Path,
    table: Table,
    build: impl FnMut(&mut Row<'_>) -> Option<T>,
) -> Result<Parsed<T>, ImportError> {
    let (parsed, errors) = collect_table(path, table, build)?;
    errors.into_result()?;
    Ok(parsed)
}

/// [`read_table`], with the problems returned instead of raised.
fn collect_table<T>(
    path: &Path,
    table: Table,
    mut build: impl FnMut(&mut Row<'_>) -> Option<T>,
) -> Result<(Parsed<T>, RowErrors), ImportError> {
    let columns = table.columns();
    let mut errors = RowErrors::new(path);
    let mut rows: Vec<Located<T>> = Vec::new();
    let (header, _, map) = walk_rows(
        path,
        |header, row| resolve_header(path, columns, header, row),
        |cells, number, header, map| {
            let row = take_row(cells, number, header, map, columns, &mut errors, &mut build);
            rows.extend(row);
        },
    )?;
    let parsed = Parsed {
        file: path.to_owned(),
        header,
        rows,
        table,
        columns: map,
    };
    Ok((parsed, errors))
}

/// One row of a table file: its record from `build`, or its problems added to `errors`. A row
/// of blank cells is skipped.
fn take_row<T>(
    cells: &dyn Cells,
    number: usize,
    header: &[String],
    map: &[Option<usize>],
    columns: &'static [Column],
    errors: &mut RowErrors,
    build: &mut impl FnMut(&mut Row<'_>) -> Option<T>,
) -> Option<Located<T>> {
    if (0..cells.len()).all(|i| cells.get(i).is_blank()) {
        return None;
    }
    let before = errors.len();
    let mut ok = true;
    for i in 0..cells.len() {
        if header.get(i).is_none_or(|h| h.is_empty()) && !cells.get(i).is_blank() {
            ok = false;
            errors.push_at(
                number,
                format!("column {}", i + 1),
                "a value in a column without a header",
            );
        }
    }
    let mut row = Row {
        cells,
        map,
        header,
        columns,
        number,
        errors,
        ok,
    };
    let value = build(&mut row);
    if row.ok && row.errors.len() == before {
        value.map(|value| Located { row: number, value })
    } else {
        None
    }
}

/// The records and problems of one part of a file.
type Part<T> = (Vec<Located<T>>, RowErrors);

/// Bodies smaller than this are read by one thread.
const PAR_FROM: usize = 1 << 20;

/// [`read_table`] on two threads for a large UTF-8 or GB18030 CSV file whose body holds no
/// quote character (its records are its lines, so it can be cut at a line end); by
/// [`read_table`] otherwise. `build` sees each row once, in no particular order across the
/// threads; the records and the problems come back in row order. Problems are returned, not
/// raised, so that the caller can add its own before reporting.
fn read_table_par<T: Send>(
    path: &Path,
    table: Table,
    build: impl Fn(&mut Row<'_>) -> Option<T> + Sync,
) -> Result<(Parsed<T>, RowErrors), ImportError> {
    let columns = table.columns();
    let text = match Format::from_path(path) {
        Some(Format::Csv) => read_text(path)?,
        _ => return collect_table(path, table, build),
    };
    let csv_err = |source| ImportError::Csv {
        file: path.to_owned(),
        source,
    };
    let (header, _, map, body_start) = csv_header(path, &text, |header, row| {
        resolve_header(path, columns, header, row)
    })?;
    let bytes = text.as_bytes();
    let body = &bytes[body_start.min(bytes.len())..];
    // Where the second part starts: the line after the middle, when the body has no quote.
    let cut = (body.len() >= PAR_FROM && memchr::memchr(b'"', body).is_none())
        .then(|| memchr::memchr(b'\n', &body[body.len() / 2..]))
        .flatten()
        .map(|i| body_start + body.len() / 2 + i + 1);
    let parts: Vec<(usize, usize)> = match cut {
        Some(cut) => vec![(body_start, cut), (cut, bytes.len())],
        None => vec![(body_start, bytes.len())],
    };
    // Records are at most the lines: each part's records are stored once, without regrowing,
    // the first part's with room for all.
    let lines: Vec<usize> = parts
        .iter()
        .map(|&(from, to)| memchr::memchr_iter(b'\n', &bytes[from..to]).count() + 1)
        .collect();
    let total: usize = lines.iter().sum();
    let read_part = |k: usize| -> Result<Part<T>, ImportError> {
        let (from, to) = parts[k];
        let mut errors = RowErrors::new(path);
        let mut rows = Vec::with_capacity(if k == 0 { total } else { lines[k] });
        let part = &bytes[from..to];
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(part);
        let mut record = csv::StringRecord::new();
        let mut lines = LineCounter::at(bytes, from);
        let mut build = |row: &mut Row<'_>| build(row);
        while reader.read_record(&mut record).map_err(csv_err)? {
            let number = lines.line_of(part, record.position());
            let row = take_row(
                &CsvCells(&record),
                number,
                &header,
                &map,
                columns,
                &mut errors,
                &mut build,
            );
            rows.extend(row);
        }
        Ok((rows, errors))
    };
    let results: Vec<Result<Part<T>, ImportError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..parts.len())
            .map(|k| scope.spawn(move || read_part(k)))
            .collect();
        let mut results = vec![read_part(0)];
        results.extend(handles.into_iter().map(|h| {
            h.join().unwrap_or_else(|_| {
                Err(ImportError::Io {
                    file: path.to_owned(),
                    source: std::io::Error::other("a reading thread stopped"),
                })
            })
        }));
        results
    });
    let mut rows: Vec<Located<T>> = Vec::new();
    let mut errors = RowErrors::new(path);
    for (k, result) in results.into_iter().enumerate() {
        let (part_rows, part_errors) = result?;
        if k == 0 {
            rows = part_rows;
        } else {
            rows.extend(part_rows);
        }
        errors.append(part_errors);
    }
    Ok((
        Parsed {
            file: path.to_owned(),
            header,
            rows,
            table,
            columns: map,
        },
        errors,
    ))
}

/// Rows of a file searched for its header: offices put a title (often merged across the
/// columns), notes or blank rows above it.
pub(crate) const HEADER_SEARCH_ROWS: usize = 10;

/// Picks the header among the first rows of a file (`rows`: each row's trimmed cells and its
/// number): the first row shaped like a header (at least two filled cells, none of them a
/// number) that `on_header` accepts; the rows above it are a title, notes or blank. When such
/// rows exist but none is accepted, the error of the first one; when none exists, the first
/// row is the header, as in a file without a title. Returns the header's index in `rows` and
/// what `on_header` made of it.
pub(crate) fn pick_header<H>(
    path: &Path,
    rows: &[(Vec<String>, usize)],
    mut on_header: impl FnMut(&[String], usize) -> Result<H, ImportError>,
) -> Result<(usize, H), ImportError> {
    let shaped = |cells: &[String]| {
        cells.iter().filter(|c| !c.is_empty()).count() >= 2
            && !cells.iter().any(|c| c.parse::<f64>().is_ok())
    };
    let mut first_error = None;
    for (i, (cells, number)) in rows.iter().enumerate() {
        if !shaped(cells) {
            continue;
        }
        match on_header(cells, *number) {
            Ok(h) => return Ok((i, h)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    let (cells, number) = rows.first().ok_or_else(|| ImportError::Empty {
        file: path.to_owned(),
    })?;
    Ok((0, on_header(cells, *number)?))
}

/// Walks the rows of a `.csv` (UTF-8 or GB18030) or `.xlsx` (first worksheet) file: finds the
/// header row among the first [`HEADER_SEARCH_ROWS`] ([`pick_header`], with `on_header`
/// called with a candidate row and its number), then calls `on_row` with every later row and
/// its number as a spreadsheet user sees it (CSV rows count the lines they start on, blank
/// lines included). Returns the header, its row number and what `on_header` made of it.
pub(crate) fn walk_rows<H>(
    path: &Path,
    on_header: impl FnMut(&[String], usize) -> Result<H, ImportError>,
    mut on_row: impl FnMut(&dyn Cells, usize, &[String], &H),
) -> Result<(Vec<String>, usize, H), ImportError> {
    let format = Format::from_path(path).ok_or_else(|| ImportError::UnsupportedFormat {
        file: path.to_owned(),
    })?;
    match format {
        Format::Csv => {
            let text = read_text(path)?;
            let csv_err = |source| ImportError::Csv {
                file: path.to_owned(),
                source,
            };
            let (header, number, context, body_start) = csv_header(path, &text, on_header)?;
            let body = &text.as_bytes()[body_start..];
            let mut reader = csv_reader_of(body);
            let mut record = csv::StringRecord::new();
            let mut lines = LineCounter::at(text.as_bytes(), body_start);
            while reader.read_record(&mut record).map_err(csv_err)? {
                let number = lines.line_of(body, record.position());
                on_row(&CsvCells(&record), number, &header, &context);
            }
            Ok((header, number, context))
        }
        Format::Xlsx => {
            let xlsx_err = |e: &dyn std::fmt::Display| ImportError::Xlsx {
                file: path.to_owned(),
                reason: e.to_string(),
            };
            let mut book: Xlsx<_> = calamine::open_workbook(path).map_err(|e| match e {
                calamine::XlsxError::Io(source) => ImportError::Io {
                    file: path.to_owned(),
                    source,
                },
                e => xlsx_err(&e),
            })?;
            let range = book
                .worksheet_range_at(0)
                .ok_or_else(|| xlsx_err(&"the workbook has no worksheet"))?
                .map_err(|e| xlsx_err(&e))?;
            let first = range.start().map_or(0, |(r, _)| r as usize);
            let head: Vec<(Vec<String>, usize)> = range
                .rows()
                .take(HEADER_SEARCH_ROWS)
                .enumerate()
                .map(|(i, cells)| {
                    let cells = XlsxCells(cells);
                    let texts = (0..cells.len())
                        .map(|c| cells.get(c).text().unwrap_or_default().trim().to_owned())
                        .collect();
                    (texts, first + i + 1)
                })
                .collect();
            let (at, context) = pick_header(path, &head, on_header)?;
            let (header, number) = head.into_iter().nth(at).unwrap_or_default();
            for (i, cells) in range.rows().enumerate().skip(at + 1) {
                on_row(&XlsxCells(cells), first + i + 1, &header, &context);
            }
            Ok((header, number, context))
        }
    }
}

/// The header of a CSV text ([`pick_header`] over its first [`HEADER_SEARCH_ROWS`] records):
/// its cells trimmed, its line, what `on_header` made of it, and the byte offset where the
/// record after it starts.
pub(crate) fn csv_header<H>(
    path: &Path,
    text: &str,
    on_header: impl FnMut(&[String], usize) -> Result<H, ImportError>,
) -> Result<(Vec<String>, usize, H, usize), ImportError> {
    let mut reader = csv_reader(text);
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::default();
    let mut head = Vec::new();
    let mut ends = Vec::new();
    while head.len() < HEADER_SEARCH_ROWS
        && reader
            .read_record(&mut record)
            .map_err(|source| ImportError::Csv {
                file: path.to_owned(),
                source,
            })?
    {
        let number = lines.line_of(text.as_bytes(), record.position());
        head.push((record.iter().map(|h| h.trim().to_owned()).collect(), number));
        ends.push(usize::try_from(reader.position().byte()).unwrap_or(text.len()));
    }
    let (at, context) = pick_header(path, &head, on_header)?;
    let end = ends.get(at).copied().unwrap_or(text.len()).min(text.len());
    let (header, number) = head.into_iter().nth(at).unwrap_or_default();
    Ok((header, number, context, end))
}

/// A CSV file's text: read whole and decoded from UTF-8 (with or without BOM) or GB18030.
pub(crate) fn read_text(path: &Path) -> Result<String, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        file: path.to_owned(),
        source,
    })?;
    decode(path, bytes)
}

/// The CSV reader every table file is read with: no header handling (the caller maps the
/// header itself) and rows of any length (extra or missing cells are reported per row).
pub(crate) fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv_reader_of(text.as_bytes())
}

/// [`csv_reader`] of bytes: part of a file's text from a record's start.
pub(crate) fn csv_reader_of(bytes: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
}

/// Line numbers of CSV records, counted here: the reader skips blank lines without counting
/// them.
#[derive(Default)]
pub(crate) struct LineCounter {
    line: usize,
    seen: usize,
}

impl LineCounter {
    /// A counter for records read from `text[from..]`, `from` being where a line starts.
    pub(crate) fn at(text: &[u8], from: usize) -> Self {
        LineCounter {
            line: 1 + memchr::memchr_iter(b'\n', &text[..from.min(text.len())]).count(),
            seen: 0,
        }
    }

    /// The line on which the record read at `position` of `text` starts (the header is line 1);
    /// records must be given in order.
    pub(crate) fn line_of(&mut self, text: &[u8], position: Option<&csv::Position>) -> usize {
        let offset = position
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(self.seen)
            .clamp(self.seen, text.len());
        self.line = self.line.max(1) + bytecount_newlines(&text[self.seen..offset]);
        // The position is where the reader started, before any blank lines.
        let mut offset = offset;
        while let Some(b @ (b'\r' | b'\n')) = text.get(offset) {
            self.line += usize::from(*b == b'\n');
            offset += 1;
        }
        self.seen = offset;
        self.line
    }
}

fn bytecount_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// Matches the header row to the columns of the table.
fn resolve_header(
    path: &Path,
    columns: &[Column],
    header: &[String],
    row: usize,
) -> Result<Vec<Option<usize>>, ImportError> {
    let mut map = vec![None; columns.len()];
    let mut unknown = Vec::new();
    let mut duplicate = Vec::new();
    if header.iter().all(|h| h.is_empty()) {
        return Err(ImportError::Empty {
            file: path.to_owned(),
        });
    }
    for (i, h) in header.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        match columns.iter().position(|c| c.matches(h)) {
            None => unknown.push(h.clone()),
            Some(c) if map[c].is_some() => duplicate.push(h.clone()),
            Some(c) => map[c] = Some(i),
        }
    }
    let missing: Vec<String> = columns
        .iter()
        .zip(&map)
        .filter(|(c, m)| c.required && m.is_none())
        .map(|(c, _)| format!("{} ({})", c.zh, c.key))
        .collect();
    if unknown.is_empty() && duplicate.is_empty() && missing.is_empty() {
        Ok(map)
    } else {
        Err(ImportError::Header {
            file: path.to_owned(),
            row,
            unknown,
            duplicate,
            missing,
        })
    }
}

/// Decodes a CSV file: UTF-8 (a byte-order mark is dropped), else GB18030 (a superset of GBK
/// and GB2312, as written by Chinese office software).
pub(crate) fn decode(path: &Path, bytes: Vec<u8>) -> Result<String, ImportError> {
    let encoding_err = |reason: &str| ImportError::Encoding {
        file: path.to_owned(),
        reason: reason.to_owned(),
    };
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(encoding_err("the file is UTF-16 text"));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(encoding_err(
            "the file is a zip archive, likely an Excel workbook (name it .xlsx)",
        ));
    }
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if bom {
                s.drain(..3);
            }
            Ok(s)
        }
        Err(_) if bom => Err(encoding_err(
            "the file starts with a UTF-8 byte-order mark but is not valid UTF-8",
        )),
        Err(e) => {
            let bytes = e.into_bytes();
            encoding_rs::GB18030
                .decode_without_bom_handling_and_without_replacement(&bytes)
                .map(Cow::into_owned)
                .ok_or_else(|| encoding_err("the file is neither UTF-8 nor GB18030/GBK text"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let path = dir.path().join(name);
        let mut f = std::fs::File::create(&path).expect("create");
        f.write_all(text.as_bytes()).expect("write");
        path
    }

    fn rows_err<T: std::fmt::Debug>(r: Result<T, ImportError>) -> RowErrors {
        match r {
            Err(ImportError::Rows(e)) => e,
            other => panic!("expected row errors, got {other:?}"),
        }
    }

    #[test]
    fn guard_round_trip() {
        for s in ["=1+1", "'=x", "''@a", "-5", "+86", "plain", "'quoted'", ""] {
            let written = if needs_guard(s) {
                format!("'{s}")
            } else {
                s.to_owned()
            };
            assert_eq!(unguard(&written), s);
        }
    }

    #[test]
    fn units_with_all_kinds_of_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(
            &dir,
            "units.csv",
            "Code, NAME ,kind,parent\n\
             34,安徽省,省,\n\
             3401,合肥市,city,34\n\
             \n\
             3401,重复市,市,34\n\
             x y,坏编码,县,3401\n\
             3402,,乡镇,3402\n\
             3403,某单位,村,\n",
        );
        let e = rows_err(read_units(&path));
        let text = e.to_string();
        let lines: Vec<&str> = text.lines().collect();
        let f = path.display();
        assert_eq!(
            lines,
            vec![
                format!("{f}:5:Code: duplicate unit code 3401; first on row 3"),
                format!(
                    "{f}:6:Code: identifier \"x y\" contains white space or a control character"
                ),
                format!("{f}:7:NAME: empty; a value is required"),
                format!("{f}:7:parent: unit 3402 cannot be its own parent"),
                format!(
                    "{f}:8:kind: \"村\" is not a valid unit kind; expected one of: 省/province, 市/city, 县/county, 乡镇/township, 部门/department"
                ),
            ]
        );
    }

    #[test]
    fn header_problems() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(&dir, "units.csv", "单位编码,名称,单位名称,颜色\n1,a,b,c\n");
        let e = read_units(&path).expect_err("bad header");
        assert!(
            matches!(&e, ImportError::Header { unknown, duplicate, missing, .. }
                if unknown == &["颜色"] && duplicate == &["单位名称"] && missing == &["单位类型 (kind)"]),
            "{e:?}"
        );
        let empty = write(&dir, "empty.csv", "");
        assert!(matches!(read_units(&empty), Err(ImportError::Empty { .. })));
        let other = write(&dir, "units.txt", "");
        assert!(matches!(
            read_units(&other),
            Err(ImportError::UnsupportedFormat { .. })
        ));
        let missing = dir.path().join("missing.csv");
        assert!(matches!(read_units(&missing), Err(ImportError::Io { .. })));
    }

    #[test]
    fn unnamed_columns_and_optional_columns() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Trailing empty header cells are fine while their cells are empty; the optional
        // parent column may be absent.
        let ok = write(&dir, "u.csv", "code,name,kind,,\n1,一,县,,\n");
        let parsed = read_units(&ok).expect("valid");
        assert_eq!(parsed.rows[0].value.parent, None);
        assert_eq!(parsed.column("parent"), "上级单位编码");
        assert_eq!(parsed.column("code"), "code");
        let bad = write(&dir, "v.csv", "code,name,kind\n1,一,县,extra\n");
        let e = rows_err(read_units(&bad));
        assert_eq!(e.errors()[0].column, "column 4");
    }

    #[test]
    fn encodings() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.csv");
        std::fs::write(&path, [0xFF, 0xFE, b'a', 0]).expect("write");
        assert!(matches!(
            read_calendar(&path),
            Err(ImportError::Encoding { .. })
        ));
        // 0xFF is not GB18030.
        std::fs::write(&path, b"date,kind,name\n2025-01-01,\xFF,x\n").expect("write");
        assert!(matches!(
            read_calendar(&path),
            Err(ImportError::Encoding { .. })
        ));
    }

    #[test]
    fn unit_tree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let stored = vec![
            Unit {
                code: Code::parse("34").expect("code"),
                name: "省".into(),
                kind: UnitKind::Province,
                parent: None,
            },
            Unit {
                code: Code::parse("3401").expect("code"),
                name: "市".into(),
                kind: UnitKind::City,
                parent: Some(Code::parse("34").expect("code")),
            },
        ];
        let path = write(
            &dir,
            "units.csv",
            "单位编码,单位名称,单位类型,上级单位编码\n\
             340102,区,县,3401\n\
             340103,镇,乡镇,3401\n\
             340104,某,县,9999\n\
             A,a,部门,B\n\
             B,b,部门,C\n\
             C,c,部门,A\n\
             D,d,部门,A\n",
        );
        let parsed = read_units(&path).expect("file is valid on its own");
        let e = match check_unit_tree(&stored, &parsed) {
            Err(ImportError::Rows(e)) => e,
            other => panic!("{other:?}"),
        };
        let msgs: Vec<(usize, &str)> = e
            .errors()
            .iter()
            .map(|e| (e.row, e.message.as_str()))
            .collect();
        assert_eq!(msgs.len(), 5, "{e}");
        assert_eq!(msgs[0].0, 3);
        assert!(msgs[0].1.contains("may not sit under 3401"), "{e}");
        assert_eq!(msgs[1].0, 4);
        assert!(msgs[1].1.contains("9999 exists neither"), "{e}");
        assert_eq!(
            &msgs[2..].iter().map(|m| m.0).collect::<Vec<_>>(),
            &[5, 6, 7]
        );
        assert!(msgs[2].1.contains("A → B → C → A"), "{e}");
        // Changing the kind of a stored parent strands its children.
        let path = write(&dir, "u2.csv", "code,name,kind\n34,省,县\n");
        let parsed = read_units(&path).expect("valid");
        let e = check_unit_tree(&stored, &parsed).expect_err("city under county");
        assert!(
            e.to_string().contains("u2.csv:2:kind: stored unit 3401"),
            "{e}"
        );
        // A good file passes.
        let path = write(
            &dir,
            "u3.csv",
            "code,name,kind,parent\n340102,区,县,3401\nX,局,部门,340102\n",
        );
        check_unit_tree(&stored, &read_units(&path).expect("valid")).expect("valid tree");
    }

    #[test]
    fn service_cases_with_lists_local_times_and_errors() {
        use time::macros::{datetime, offset};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(
            &dir,
            "service_cases.csv",
            "办件编号,事项名称,单位编码,窗口,经办人,渠道,受理时间,办结时间,申请人,联系电话\n\
             BJ-1,不动产登记,U1,W-01,G1、G2;G3,窗口,2025-03-04 09:00,2025-03-04T09:30:00+08:00,赵女士,138-1234-5678\n\
             BJ-2,企业开办,U1,,,online,2025-03-04 20:00,2025-03-05 10:00,,\n",
        );
        let parsed = read_cases(&path, offset!(+8)).expect("valid");
        let a = &parsed.rows[0].value;
        assert_eq!(
            a.officials.iter().map(Code::as_str).collect::<Vec<_>>(),
            ["G1", "G2", "G3"]
        );
        assert_eq!(a.accepted_at, datetime!(2025-03-04 01:00 UTC));
        assert_eq!(a.phone.as_ref().map(Phone::reveal), Some("13812345678"));
        let b = &parsed.rows[1].value;
        assert_eq!(
            (b.channel, b.window.as_ref(), b.officials.len()),
            (Channel::Online, None, 0)
        );
        let bad = write(
            &dir,
            "bad_cases.csv",
            "id,item,unit,officials,channel,accepted_at,closed_at,phone\n\
             BJ-1,不动产登记,U1,G1;G1,窗口,2025-03-04 09:00,2025-03-04 10:00,\n\
             BJ-2,不动产登记,U1,G1,窗口,2025-03-04 09:00,2025-03-03 10:00,\n\
             BJ-3,不动产登记,U1,G1,柜台,2025-03-04,2025-03-04 10:00,138x\n\
             BJ-1,不动产登记,U1,G1,窗口,2025-03-04 09:00,2025-03-04 10:00,\n",
        );
        let e = rows_err(read_cases(&bad, offset!(+8)));
        let found: Vec<(usize, &str)> = e
            .errors()
            .iter()
            .map(|e| (e.row, e.column.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (2, "officials"),
                (3, "closed_at"),
                (4, "channel"),
                (4, "accepted_at"),
                (4, "phone"),
                (5, "id"),
            ],
            "{e}"
        );
        assert!(
            e.to_string().contains("closed_at is before accepted_at"),
            "{e}"
        );
    }

    #[test]
    fn ratings_with_labels_numbers_and_errors() {
        use time::macros::{datetime, offset};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(
            &dir,
            "ratings.csv",
            "办件编号,评价等级,评价原因,评价内容,评价渠道,是否实名,联系电话,评价时间\n\
             BJ-1,非常满意,高效便捷,,窗口,否,,2025-03-04 09:43\n\
             BJ-2,2,材料要求过多;多次跑动, 材料不一致 ,移动端,是,13900001111,2025-03-06T19:20:00+08:00\n",
        );
        let parsed = read_ratings(&path, offset!(+8)).expect("valid");
        let r = &parsed.rows[1].value;
        assert_eq!(r.rating.level, RatingLevel::Dissatisfied);
        assert_eq!(
            r.rating.tags,
            [ReasonTag::TooManyDocuments, ReasonTag::RepeatVisits]
        );
        assert!(r.rating.real_name);
        assert_eq!(r.rated_at, datetime!(2025-03-06 11:20 UTC));
        assert_eq!(
            parsed.rows[0].value.rating.level,
            RatingLevel::VerySatisfied
        );
        let bad = write(
            &dir,
            "bad_ratings.csv",
            "case_id,level,tags,channel,real_name,rated_at\n\
             BJ-1,6,好评,窗口,也许,2025-03-04 09:43\n\
             BJ-2,5,,窗口,否,yesterday\n\
             BJ-2,5,,窗口,否,2025-03-04 09:43\n\
             BJ-3,5,,窗口,否,2025-03-04 09:43\n\
             BJ-3,4,,窗口,否,2025-03-04 09:45\n",
        );
        let e = rows_err(read_ratings(&bad, offset!(+8)));
        let found: Vec<(usize, &str)> = e
            .errors()
            .iter()
            .map(|e| (e.row, e.column.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (2, "level"),
                (2, "tags"),
                (2, "real_name"),
                (3, "rated_at"),
                (6, "case_id"),
            ],
            "{e}"
        );
        // Row 4 repeats the case of row 3, which is refused itself: only row 6, the second
        // rating of a case rated validly on row 5, is a second rating.
        assert!(
            e.to_string()
                .contains("case BJ-3 is rated twice: one rating per case; first on row 5"),
            "{e}"
        );
    }

    /// A ratings file of `n` rows (about 60 bytes each), a blank line every 1,000 lines, the
    /// comment of row 2 given as `first_comment`.
    fn ratings_text(n: usize, first_comment: &str) -> String {
        let mut text = String::from("case_id,level,tags,comment,channel,real_name,rated_at\n");
        for i in 0..n {
            let comment = if i == 0 { first_comment } else { "" };
            text.push_str(&format!(
                "BJ-{i:07},{},,{comment},窗口,否,2025-03-04 09:{:02}\n",
                1 + i % 5,
                i % 60
            ));
            if i % 1000 == 999 {
                text.push('\n');
            }
        }
        text
    }

    #[test]
    fn a_large_plain_ratings_file_reads_on_two_threads_as_on_one() {
        use time::macros::offset;
        let dir = tempfile::tempdir().expect("tempdir");
        let n = 30_000;
        // A quote sends the file down the one-thread path.
        let plain = write(&dir, "plain.csv", &ratings_text(n, "ok"));
        let quoted = write(&dir, "quoted.csv", &ratings_text(n, "\"ok\""));
        assert!(std::fs::metadata(&plain).expect("size").len() > 1 << 20);
        let two = read_ratings(&plain, offset!(+8)).expect("valid");
        let one = read_ratings(&quoted, offset!(+8)).expect("valid");
        assert_eq!(two.len(), n);
        assert_eq!(two.rows, one.rows);
        // Row numbers count the header and the blank lines.
        assert_eq!(two.rows[0].row, 2);
        assert_eq!(two.rows[999].row, 1001);
        assert_eq!(two.rows[1000].row, 1003);
        assert_eq!(two.rows[n - 1].row, n + 1 + (n - 1) / 1000);
    }

    #[test]
    fn a_large_plain_ratings_file_reports_every_problem_in_row_order() {
        use time::macros::offset;
        let dir = tempfile::tempdir().expect("tempdir");
        let n = 30_000;
        let mut text = ratings_text(n, "");
        // A bad level early, one late, and a case rated again in the second half.
        text = text.replacen("BJ-0000010,1,", "BJ-0000010,9,", 1);
        text = text.replacen("BJ-0029000,1,", "BJ-0029000,0,", 1);
        text = text.replacen("BJ-0028001,", "BJ-0000003,", 1);
        let path = write(&dir, "bad.csv", &text);
        let e = rows_err(read_ratings(&path, offset!(+8)));
        let found: Vec<(usize, &str)> = e
            .errors()
            .iter()
            .map(|e| (e.row, e.column.as_str()))
            .collect();
        // Row of record i: i + 2 plus one blank line per 1,000 records before it.
        let row = |i: usize| i + 2 + i / 1000;
        assert_eq!(
            found,
            [
                (row(10), "level"),
                (row(28_001), "case_id"),
                (row(29_000), "level")
            ],
            "{e}"
        );
        assert!(
            e.to_string().contains(&format!(
                "case BJ-0000003 is rated twice: one rating per case; first on row {}",
                row(3)
            )),
            "{e}"
        );
    }

    #[test]
    fn caller_reference_checks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(
            &dir,
            "appointments.csv",
            "干部编号,单位编码,职务,职务职级,任职开始日期,任职结束日期\n\
             G1,340102,科员,二级科员,2020-01-01,2021-12-31\n\
             G1,340199,科员,一级科员,2022/1/1,\n",
        );
        let parsed = read_appointments(&path).expect("valid");
        assert_eq!(parsed.rows[1].row, 3);
        let mut errors = parsed.new_errors();
        parsed.check_refs(
            &mut errors,
            "unit",
            "unit",
            |a| Some(&a.unit),
            |c| c.as_str() == "340102",
        );
        assert_eq!(
            errors.to_string(),
            format!("{}:3:单位编码: unit 340199 does not exist", path.display())
        );
    }

    #[test]
    fn dates_before_start_and_duplicates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(
            &dir,
            "sanctions.csv",
            "id,cadre,kind,start_date,end_date,reason\n\
             S1,G1,警告,2024-05-01,2024-04-30,违反工作纪律\n\
             S1,G2,记过,2024-05-01,,违反廉洁纪律\n",
        );
        let e = rows_err(read_sanctions(&path));
        assert_eq!(e.len(), 2);
        assert_eq!(e.errors()[0].column, "end_date");
        assert!(e.errors()[1].message.contains("first on row 2"));
        let path = write(
            &dir,
            "calendar.csv",
            "日期,类型,名称\n2025-10-01,休,国庆节\n2025年10月1日,holiday,国庆节\n",
        );
        let e = rows_err(read_calendar(&path));
        assert_eq!(e.errors()[0].row, 3);
    }
}
