//! Export of the tables as CSV (UTF-8 with BOM, for Excel) or XLSX.
//!
//! The columns are those of [`Table::columns`], in that order, headed in the chosen
//! [`HeaderLang`]. Enumerations are written as their Chinese label under Chinese headers and as
//! their code under English headers; booleans as 是/否 or true/false. Dates are `YYYY-MM-DD`
//! text in CSV and date cells formatted `yyyy-mm-dd` in XLSX; moments (service cases, ratings)
//! RFC 3339 text at the deployment's offset. Import reads back exactly what export writes,
//! except phone numbers of the public, which are masked unless asked for ([`Phones`]).
//!
//! In CSV a text that starts with `=`, `+`, `-` or `@` gets a leading apostrophe so that a
//! spreadsheet program shows it instead of running it as a formula; import removes it again.

use crate::error::ExportError;
use crate::import::RatingRecord;
use crate::import::needs_guard;
use crate::parse::{format_date, format_datetime};
use crate::table::{Format, HeaderLang, Table};
use kaohe_domain::ratings::{Phone, ServiceCase};
use kaohe_domain::{Appointment, Cadre, CalendarEntry, Labeled, Sanction, Unit};
use rust_xlsxwriter::{ExcelDateTime, Workbook};
use std::io::Write;
use std::path::Path;
use time::{Date, OffsetDateTime, UtcOffset};

/// Records a worksheet holds below its header row.
pub const MAX_XLSX_RECORDS: usize = 1_048_575;

/// Writes units to a `.csv` or `.xlsx` file, replacing it.
pub fn write_units(
    path: impl AsRef<Path>,
    units: &[Unit],
    lang: HeaderLang,
) -> Result<(), ExportError> {
    write_table(path.as_ref(), units, &Ctx::plain(lang))
}

/// Writes cadres to a `.csv` or `.xlsx` file, replacing it.
pub fn write_cadres(
    path: impl AsRef<Path>,
    cadres: &[Cadre],
    lang: HeaderLang,
) -> Result<(), ExportError> {
    write_table(path.as_ref(), cadres, &Ctx::plain(lang))
}

/// Writes appointment history to a `.csv` or `.xlsx` file, replacing it.
pub fn write_appointments(
    path: impl AsRef<Path>,
    appointments: &[Appointment],
    lang: HeaderLang,
) -> Result<(), ExportError> {
    write_table(path.as_ref(), appointments, &Ctx::plain(lang))
}

/// Writes sanctions to a `.csv` or `.xlsx` file, replacing it.
pub fn write_sanctions(
    path: impl AsRef<Path>,
    sanctions: &[Sanction],
    lang: HeaderLang,
) -> Result<(), ExportError> {
    write_table(path.as_ref(), sanctions, &Ctx::plain(lang))
}

/// Writes calendar overrides to a `.csv` or `.xlsx` file, replacing it.
pub fn write_calendar(
    path: impl AsRef<Path>,
    entries: &[CalendarEntry],
    lang: HeaderLang,
) -> Result<(), ExportError> {
    write_table(path.as_ref(), entries, &Ctx::plain(lang))
}

/// How phone numbers of the public are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phones {
    /// Masked (`138****5678`): the default of every export.
    #[default]
    Masked,
    /// In full: an export of personal data, which the caller records in the audit log.
    Unmasked,
}

/// Writes service cases to a `.csv` or `.xlsx` file, replacing it; times at `offset`.
pub fn write_cases(
    path: impl AsRef<Path>,
    cases: &[ServiceCase],
    lang: HeaderLang,
    offset: UtcOffset,
    phones: Phones,
) -> Result<(), ExportError> {
    let ctx = Ctx {
        lang,
        offset,
        phones,
    };
    write_table(path.as_ref(), cases, &ctx)
}

/// Writes ratings to a `.csv` or `.xlsx` file, replacing it; times at `offset`.
pub fn write_ratings(
    path: impl AsRef<Path>,
    ratings: &[RatingRecord],
    lang: HeaderLang,
    offset: UtcOffset,
    phones: Phones,
) -> Result<(), ExportError> {
    let ctx = Ctx {
        lang,
        offset,
        phones,
    };
    write_table(path.as_ref(), ratings, &ctx)
}

/// How the cells of a record are written.
struct Ctx {
    lang: HeaderLang,
    offset: UtcOffset,
    phones: Phones,
}

impl Ctx {
    /// For tables without moments or phone numbers.
    fn plain(lang: HeaderLang) -> Self {
        Self {
            lang,
            offset: UtcOffset::UTC,
            phones: Phones::Masked,
        }
    }

    fn moment(&self, at: OffsetDateTime) -> Out<'static> {
        Out::Owned(format_datetime(at, self.offset))
    }

    fn phone(&self, phone: Option<&Phone>) -> Out<'static> {
        match (phone, self.phones) {
            (None, _) => Out::Empty,
            (Some(p), Phones::Masked) => Out::Owned(p.masked()),
            (Some(p), Phones::Unmasked) => Out::Owned(p.reveal().to_owned()),
        }
    }

    fn labels<E: Labeled>(&self, values: &[E]) -> Out<'static> {
        if values.is_empty() {
            return Out::Empty;
        }
        let names: Vec<&str> = values
            .iter()
            .map(|v| match self.lang {
                HeaderLang::Zh => v.zh(),
                HeaderLang::En => v.code(),
            })
            .collect();
        Out::Owned(names.join(";"))
    }
}

/// One cell to write.
enum Out<'a> {
    Text(&'a str),
    Owned(String),
    Date(Date),
    Empty,
}

/// A record of one of the tables, as the cells of its row in [`Table::columns`] order.
trait Record {
    const TABLE: Table;
    fn cells<'a>(&'a self, ctx: &Ctx, out: &mut Vec<Out<'a>>);
}

fn label<E: Labeled>(v: E, lang: HeaderLang) -> Out<'static> {
    Out::Text(match lang {
        HeaderLang::Zh => v.zh(),
        HeaderLang::En => v.code(),
    })
}

fn boolean(v: bool, lang: HeaderLang) -> Out<'static> {
    Out::Text(match (lang, v) {
        (HeaderLang::Zh, true) => "是",
        (HeaderLang::Zh, false) => "否",
        (HeaderLang::En, true) => "true",
        (HeaderLang::En, false) => "false",
    })
}

fn opt_date(d: Option<Date>) -> Out<'static> {
    d.map_or(Out::Empty, Out::Date)
}

impl Record for Unit {
    const TABLE: Table = Table::Units;
    fn cells<'a>(&'a self, ctx: &Ctx, out: &mut Vec<Out<'a>>) {
        let lang = ctx.lang;
        out.extend([
            Out::Text(self.code.as_str()),
            Out::Text(&self.name),
            label(self.kind, lang),
            self.parent
                .as_ref()
                .map_or(Out::Empty, |p| Out::Text(p.as_str())),
        ]);
    }
}

impl Record for Cadre {
    const TABLE: Table = Table::Cadres;
    fn cells<'a>(&'a self, ctx: &Ctx, out: &mut Vec<Out<'a>>) {
        let lang = ctx.lang;
        out.extend([
            Out::Text(self.id.as_str()),
            Out::Text(&self.name),
            label(self.gender, lang),
            Out::Text(&self.ethnicity),
            Out::Date(self.birth_date),
            Out::Text(self.unit.as_str()),
            Out::Text(&self.post),
            label(self.rank, lang),
            boolean(self.is_leader, lang),
            label(self.status, lang),
        ]);
    }
}

impl Record for Appointment {
    const TABLE: Table = Table::Appointments;
    fn cells<'a>(&'a self, ctx: &Ctx, out: &mut Vec<Out<'a>>) {
        let lang = ctx.lang;
        out.extend([
            Out::Text(self.cadre.as_str()),
            Out::Text(self.unit.as_str()),
            Out::Text(&self.post),
            label(self.rank, lang),
            Out::Date(self.start_date),
            opt_date(self.end_date),
        ]);
    }
}

impl Record for Sanction {
    const TABLE: Table = Table::Sanctions;
    fn cells<'a>(&'a self, ctx: &Ctx, out: &mut Vec<Out<'a>>) {
        let lang = ctx.lang;
        out.extend([
            Out::Text(self.id.as_str()),
            Out::Text(self.cadre.as_str()),
            label(self.kind, lang),
            Out::Date(self.start_date),
            opt_date(self.end_date),
            Out::Text(&self.reason),
        ]);
    }
}

impl Record for CalendarEntry {
    const TABLE: Table = Table::Calendar;
    fn cells<'a>(&'a self, ctx: &Ctx, out: &mut Vec<Out<'a>>) {
        let lang = ctx.lang;
        out.extend([
            Out::Date(self.date),
            label(self.kind, lang),
            Out::Text(&self.name),
        ]);
    }
}

impl Record for ServiceCase {
    const TABLE: Table = Table::ServiceCases;
    fn cells<'a>(&'a self, ctx: &Ctx, out: &mut Vec<Out<'a>>) {
        let officials = if self.officials.is_empty() {
            Out::Empty
        } else {
            let ids: Vec<&str> = self.officials.iter().map(|o| o.as_str()).collect();
            Out::Owned(ids.join(";"))
        };
        out.extend([
            Out::Text(self.id.as_str()),
            Out::Text(&self.item),
            Out::Text(self.unit.as_str()),
            self.window
                .as_ref()
                .map_or(Out::Empty, |w| Out::Text(w.as_str())),
            officials,
            label(self.channel, ctx.lang),
            ctx.moment(self.accepted_at),
            ctx.moment(self.closed_at),
            self.applicant.as_deref().map_or(Out::Empty, Out::Text),
            ctx.phone(self.phone.as_ref()),
        ]);
    }
}

impl Record for RatingRecord {
    const TABLE: Table = Table::Ratings;
    fn cells<'a>(&'a self, ctx: &Ctx, out: &mut Vec<Out<'a>>) {
        let r = &self.rating;
        out.extend([
            Out::Text(r.case_id.as_str()),
            label(r.level, ctx.lang),
            ctx.labels(&r.tags),
            r.comment.as_deref().map_or(Out::Empty, Out::Text),
            label(r.channel, ctx.lang),
            boolean(r.real_name, ctx.lang),
            ctx.phone(r.contact.as_ref()),
            ctx.moment(self.rated_at),
        ]);
    }
}

fn write_table<T: Record>(path: &Path, records: &[T], ctx: &Ctx) -> Result<(), ExportError> {
    match Format::from_path(path) {
        Some(Format::Csv) => write_csv(path, records, ctx),
        Some(Format::Xlsx) => write_xlsx(path, records, ctx),
        None => Err(ExportError::UnsupportedFormat {
            file: path.to_owned(),
        }),
    }
}

fn write_csv<T: Record>(path: &Path, records: &[T], ctx: &Ctx) -> Result<(), ExportError> {
    let lang = ctx.lang;
    let io_err = |source| ExportError::Io {
        file: path.to_owned(),
        source,
    };
    let csv_err = |source| ExportError::Csv {
        file: path.to_owned(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io_err)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
    // The byte-order mark tells Excel the file is UTF-8.
    out.write_all(b"\xEF\xBB\xBF").map_err(io_err)?;
    let mut w = csv::WriterBuilder::new().from_writer(out);
    w.write_record(T::TABLE.columns().iter().map(|c| c.header(lang)))
        .map_err(csv_err)?;
    let mut cells = Vec::with_capacity(T::TABLE.columns().len());
    let mut date_buf = [0u8; 16];
    let mut guarded = String::new();
    for r in records {
        cells.clear();
        r.cells(ctx, &mut cells);
        for c in &cells {
            let text = match c {
                Out::Text(s) => *s,
                Out::Owned(s) => s.as_str(),
                Out::Date(d) => format_date(*d, &mut date_buf),
                Out::Empty => "",
            };
            if needs_guard(text) {
                guarded.clear();
                guarded.push('\'');
                guarded.push_str(text);
                w.write_field(&guarded)
            } else {
                w.write_field(text)
            }
            .map_err(csv_err)?;
        }
        w.write_record(None::<&[u8]>).map_err(csv_err)?;
    }
    let out = w.into_inner().map_err(|e| io_err(e.into_error()))?;
    let file = out.into_inner().map_err(|e| io_err(e.into_error()))?;
    file.sync_all().map_err(io_err)
}

fn write_xlsx<T: Record>(path: &Path, records: &[T], ctx: &Ctx) -> Result<(), ExportError> {
    let lang = ctx.lang;
    if records.len() > MAX_XLSX_RECORDS {
        return Err(ExportError::TooManyRows {
            file: path.to_owned(),
            rows: records.len(),
            max: MAX_XLSX_RECORDS,
        });
    }
    let xlsx_err = |source| ExportError::Xlsx {
        file: path.to_owned(),
        source,
    };
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(T::TABLE.file_stem()).map_err(xlsx_err)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let date_format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (i, column) in T::TABLE.columns().iter().enumerate() {
        let col = u16::try_from(i).unwrap_or(u16::MAX);
        sheet
            .write_string_with_format(0, col, column.header(lang), &bold)
            .map_err(xlsx_err)?;
        let width = match column.key {
            "name" | "post" | "item" | "accepted_at" | "closed_at" | "rated_at" => 24.0,
            "reason" | "comment" => 40.0,
            _ => 14.0,
        };
        sheet.set_column_width(col, width).map_err(xlsx_err)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(xlsx_err)?;
    let mut cells = Vec::with_capacity(T::TABLE.columns().len());
    let mut date_buf = [0u8; 16];
    for (i, r) in records.iter().enumerate() {
        // Bounded by MAX_XLSX_RECORDS above.
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        cells.clear();
        r.cells(ctx, &mut cells);
        for (j, c) in cells.iter().enumerate() {
            let col = u16::try_from(j).unwrap_or(u16::MAX);
            match c {
                Out::Text(s) => {
                    sheet.write_string(row, col, *s).map_err(xlsx_err)?;
                }
                Out::Owned(s) => {
                    sheet.write_string(row, col, s).map_err(xlsx_err)?;
                }
                Out::Date(d) => match excel_date(*d) {
                    Some(x) => {
                        sheet
                            .write_datetime_with_format(row, col, x, &date_format)
                            .map_err(xlsx_err)?;
                    }
                    // Before 1901 Excel's calendar is unreliable (the 1900 leap-year bug):
                    // such dates are written as text, which import reads as well.
                    None => {
                        sheet
                            .write_string(row, col, format_date(*d, &mut date_buf))
                            .map_err(xlsx_err)?;
                    }
                },
                Out::Empty => {}
            }
        }
    }
    book.save(path).map_err(xlsx_err)
}

fn excel_date(d: Date) -> Option<ExcelDateTime> {
    if !(1901..=9999).contains(&d.year()) {
        return None;
    }
    let year = u16::try_from(d.year()).ok()?;
    ExcelDateTime::from_ymd(year, u8::from(d.month()), d.day()).ok()
}
