//! Wide tables: a header row of free column names and rows of text cells, read from `.csv`
//! (UTF-8 or GB18030) or `.xlsx` like the organization tables, and written back as `.csv` or
//! `.xlsx` atomically (to a temporary file in the same directory, renamed on success).
//!
//! Used for indicator values (`person_id, unit_id, <indicator>…`) and assessment results,
//! whose columns depend on a framework and so are not one of the fixed [`crate::Table`]s.

use crate::error::{ExportError, ImportError, RowErrors};
use crate::export::MAX_XLSX_RECORDS;
use crate::import::{
    Cells, LineCounter, csv_header, csv_reader_of, needs_guard, read_text, walk_rows,
};
use crate::plain::{Plain, read_plain};
use crate::table::Format;
use rust_xlsxwriter::Workbook;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One non-blank row of a wide table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WideRow {
    /// Row number as a spreadsheet user sees it (the header is row 1; for CSV the line on
    /// which the record starts).
    pub row: usize,
    /// Cell texts, trimmed, one per header column (missing trailing cells are empty).
    pub cells: Vec<String>,
}

/// A wide table as read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WideTable {
    /// The file read.
    pub file: PathBuf,
    /// Header texts, trimmed, as written.
    pub header: Vec<String>,
    /// The header's row number (1 unless a title or notes stand above it).
    pub header_row: usize,
    /// Non-blank rows below the header.
    pub rows: Vec<WideRow>,
}

impl WideTable {
    /// An empty error list for this table's file.
    pub fn new_errors(&self) -> RowErrors {
        RowErrors::new(&self.file)
    }
}

/// Reads a `.csv` or `.xlsx` file (first worksheet) as a wide table of text cells.
///
/// Blank rows are skipped. A value in a column without a header, or a spreadsheet error cell,
/// is reported as a row error; all such errors are reported together.
pub fn read_wide(path: impl AsRef<Path>) -> Result<WideTable, ImportError> {
    let path = path.as_ref();
    let mut errors = RowErrors::new(path);
    let mut rows = Vec::new();
    let mut step = |cells: &dyn Cells, number: usize, header: &[String], errors: &mut RowErrors| {
        if (0..cells.len()).all(|i| cells.get(i).is_blank()) {
            return;
        }
        let mut out = vec![String::new(); header.len()];
        for i in 0..cells.len() {
            let cell = cells.get(i);
            match header.get(i) {
                Some(h) if !h.is_empty() => match cell.text() {
                    Ok(t) => {
                        if let Some(slot) = out.get_mut(i) {
                            *slot = t.trim().to_owned();
                        }
                    }
                    Err(e) => errors.push_at(number, h.clone(), e),
                },
                _ if !cell.is_blank() => errors.push_at(
                    number,
                    format!("column {}", i + 1),
                    "a value in a column without a header",
                ),
                _ => {}
            }
        }
        rows.push(WideRow {
            row: number,
            cells: out,
        });
    };
    let (header, header_row, ()) = walk_rows(
        path,
        |_, _| Ok(()),
        |cells, number, header, ()| step(cells, number, header, &mut errors),
    )?;
    if header.iter().all(String::is_empty) {
        return Err(ImportError::Empty {
            file: path.to_owned(),
        });
    }
    errors.into_result()?;
    Ok(WideTable {
        file: path.to_owned(),
        header,
        header_row,
        rows,
    })
}

/// Chosen columns of a wide table, for scoring large files: some columns as text, the others
/// parsed as numbers straight from the file's bytes into one column-major buffer.
#[derive(Debug)]
pub struct WideColumns {
    /// The file read.
    pub file: PathBuf,
    /// Header texts, trimmed, as written.
    pub header: Vec<String>,
    /// Row number of each non-blank row (as [`WideRow::row`]).
    pub rows: Vec<usize>,
    /// `text[j][i]`: the trimmed text of the `j`-th chosen text column in row `i`.
    pub text: Vec<Vec<String>>,
    /// Column-major numbers: the `j`-th chosen number column of row `i` is at
    /// `numbers[j * rows.len() + i]`; `NaN` where the cell is empty or not a number.
    pub numbers: Vec<f64>,
    /// Cells of number columns that are not numbers, located; the caller adds its own checks
    /// and reports them all together with [`RowErrors::into_result`].
    pub errors: RowErrors,
}

/// Reads a wide table keeping only chosen columns: `choose(header)` returns the indices of the
/// text columns and of the number columns (or a header error, which is then placed on the
/// header's row: a title or notes may stand above it). Number cells must parse as
/// finite numbers: other cells are returned in [`WideColumns::errors`] (`"x" is not a number`);
/// empty cells are `NaN`. Blank rows are skipped and values in columns without a header are
/// errors, as in [`read_wide`].
///
/// A plain UTF-8 CSV file (no quoted field) is streamed from disk by several threads, each
/// parsing its share of the lines straight into the column-major numbers, without a `String`
/// per number cell. Other CSV files (quoted fields, GB18030) are parsed from their bytes on one
/// thread; XLSX workbooks go through [`read_wide`]. All paths give the same result.
pub fn read_wide_columns(
    path: impl AsRef<Path>,
    choose: impl FnOnce(&[String]) -> Result<(Vec<usize>, Vec<usize>), ImportError>,
) -> Result<WideColumns, ImportError> {
    let path = path.as_ref();
    let format = Format::from_path(path).ok_or_else(|| ImportError::UnsupportedFormat {
        file: path.to_owned(),
    })?;
    if format == Format::Xlsx {
        return columns_of(read_wide(path)?, choose);
    }
    match read_plain(path, choose)? {
        Plain::Read(columns) => Ok(columns),
        Plain::Other(choose) => csv_columns(path, choose),
        Plain::Chosen(text, numbers) => csv_columns(path, move |_| Ok((text, numbers))),
    }
}

/// [`read_wide_columns`] of any CSV file, on one thread.
fn csv_columns(
    path: &Path,
    choose: impl FnOnce(&[String]) -> Result<(Vec<usize>, Vec<usize>), ImportError>,
) -> Result<WideColumns, ImportError> {
    let text = read_text(path)?;
    let csv_err = |source| ImportError::Csv {
        file: path.to_owned(),
        source,
    };
    let (header, header_row, (), body_start) = csv_header(path, &text, |_, _| Ok(()))?;
    if header.iter().all(String::is_empty) {
        return Err(ImportError::Empty {
            file: path.to_owned(),
        });
    }
    let (text_cols, num_cols) = choose(&header).map_err(|e| e.at_header_row(header_row))?;
    let body = &text.as_bytes()[body_start..];
    let mut reader = csv_reader_of(body);
    let mut record = csv::ByteRecord::new();
    let mut lines = LineCounter::at(text.as_bytes(), body_start);
    let mut errors = RowErrors::new(path);
    let mut rows = Vec::new();
    let mut texts: Vec<Vec<String>> = vec![Vec::new(); text_cols.len()];
    // Row-major while reading, then transposed.
    let mut nums: Vec<f64> = Vec::new();
    while reader.read_byte_record(&mut record).map_err(csv_err)? {
        let line = lines.line_of(body, record.position());
        if record.iter().all(blank) {
            continue;
        }
        for (i, f) in record.iter().enumerate() {
            if header.get(i).is_none_or(String::is_empty) && !blank(f) {
                errors.push_at(
                    line,
                    format!("column {}", i + 1),
                    "a value in a column without a header",
                );
            }
        }
        for (t, &col) in texts.iter_mut().zip(&text_cols) {
            t.push(record.get(col).map(text_of).unwrap_or_default());
        }
        for &col in &num_cols {
            let f = record.get(col).unwrap_or_default().trim_ascii();
            let x = if f.is_empty() {
                f64::NAN
            } else {
                match std::str::from_utf8(f)
                    .ok()
                    .and_then(|t| t.parse::<f64>().ok())
                {
                    Some(x) if x.is_finite() => x,
                    _ => {
                        let t = text_of(f);
                        if !t.is_empty() {
                            errors.push_at(line, &header[col], format!("{t:?} is not a number"));
                        }
                        f64::NAN
                    }
                }
            };
            nums.push(x);
        }
        rows.push(line);
    }
    let (n, k) = (rows.len(), num_cols.len());
    let mut numbers = vec![f64::NAN; n * k];
    for (j, col) in numbers.chunks_mut(n.max(1)).enumerate().take(k) {
        for (i, x) in col.iter_mut().enumerate() {
            *x = nums[i * k + j];
        }
    }
    Ok(WideColumns {
        file: path.to_owned(),
        header,
        rows,
        text: texts,
        numbers,
        errors,
    })
}

/// The trimmed text of a cell.
pub(crate) fn text_of(b: &[u8]) -> String {
    String::from_utf8_lossy(b.trim_ascii()).trim().to_owned()
}

/// Whether a cell is empty or white space only, without allocating.
pub(crate) fn blank(f: &[u8]) -> bool {
    let t = f.trim_ascii();
    t.is_empty() || std::str::from_utf8(t).is_ok_and(|s| s.trim().is_empty())
}

/// [`WideColumns`] from a table read by [`read_wide`].
fn columns_of(
    table: WideTable,
    choose: impl FnOnce(&[String]) -> Result<(Vec<usize>, Vec<usize>), ImportError>,
) -> Result<WideColumns, ImportError> {
    let (text_cols, num_cols) =
        choose(&table.header).map_err(|e| e.at_header_row(table.header_row))?;
    let n = table.rows.len();
    let mut errors = table.new_errors();
    let mut numbers = vec![f64::NAN; n * num_cols.len()];
    for (i, row) in table.rows.iter().enumerate() {
        for (j, &col) in num_cols.iter().enumerate() {
            let t = row.cells[col].as_str();
            if t.is_empty() {
                continue;
            }
            match t.parse::<f64>() {
                Ok(x) if x.is_finite() => numbers[j * n + i] = x,
                _ => errors.push_at(
                    row.row,
                    &table.header[col],
                    format!("{t:?} is not a number"),
                ),
            }
        }
    }
    let text = text_cols
        .iter()
        .map(|&col| table.rows.iter().map(|r| r.cells[col].clone()).collect())
        .collect();
    Ok(WideColumns {
        rows: table.rows.iter().map(|r| r.row).collect(),
        file: table.file,
        header: table.header,
        text,
        numbers,
        errors,
    })
}

/// One cell to write into a wide table.
#[derive(Debug, Clone, PartialEq)]
pub enum WideCell {
    /// Text.
    Text(String),
    /// A number (written as a number cell in XLSX).
    Number(f64),
    /// Nothing.
    Empty,
}

/// The temporary file a result is written to before it is renamed over `path`.
fn temp_path(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!(".{name}.{}.tmp", std::process::id()))
}

/// Writes `bytes` to `path` atomically: into a temporary file in the same directory, renamed
/// over `path` only once complete. On failure `path` is left as it was.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), ExportError> {
    let path = path.as_ref();
    let io_err = |source| ExportError::Io {
        file: path.to_owned(),
        source,
    };
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io_err)
}

/// Writes a wide table to a `.csv` (UTF-8 with BOM; texts that look like formulas get a
/// leading apostrophe) or `.xlsx` file, atomically (see [`write_atomic`]).
pub fn write_wide(
    path: impl AsRef<Path>,
    header: &[String],
    rows: &[Vec<WideCell>],
) -> Result<(), ExportError> {
    let path = path.as_ref();
    match Format::from_path(path) {
        Some(Format::Csv) => {
            let mut w = WideCsvWriter::create(path, header)?;
            for row in rows {
                for c in row {
                    match c {
                        WideCell::Text(s) => w.text(s)?,
                        WideCell::Number(x) => w.number(*x)?,
                        WideCell::Empty => w.empty()?,
                    }
                }
                w.end_row()?;
            }
            w.finish()
        }
        Some(Format::Xlsx) => write_atomic(path, &wide_xlsx(path, header, rows)?),
        None => Err(ExportError::UnsupportedFormat {
            file: path.to_owned(),
        }),
    }
}

/// Writing the cells of a wide `.csv` file, row by row: a [`WideCsvWriter`] (the file itself)
/// or [`WideCsvRows`] (a part of it formatted in memory, e.g. by another thread).
pub trait WideCsvRow {
    /// Writes a text cell (with a leading apostrophe when it looks like a formula).
    fn text(&mut self, s: &str) -> Result<(), ExportError>;
    /// Writes a text cell of `parts` joined by `sep`, like [`WideCsvRow::text`] of the join.
    fn joined(&mut self, parts: &[String], sep: &str) -> Result<(), ExportError>;
    /// Writes a number cell, as Rust displays the number.
    fn number(&mut self, x: f64) -> Result<(), ExportError>;
    /// Writes an empty cell.
    fn empty(&mut self) -> Result<(), ExportError>;
    /// Ends the current row.
    fn end_row(&mut self) -> Result<(), ExportError>;
}

/// The cell writing shared by [`WideCsvWriter`] and [`WideCsvRows`].
struct CellWriter<W: Write> {
    path: PathBuf,
    out: csv::Writer<W>,
    field: String,
    numbers: NumberText,
}

impl<W: Write> CellWriter<W> {
    fn new(path: PathBuf, out: W) -> Self {
        Self {
            path,
            out: csv::WriterBuilder::new()
                .buffer_capacity(1 << 20)
                .from_writer(out),
            field: String::new(),
            numbers: NumberText::default(),
        }
    }

    fn csv_err(&self, source: csv::Error) -> ExportError {
        ExportError::Csv {
            file: self.path.clone(),
            source,
        }
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), ExportError> {
        self.out.write_field(bytes).map_err(|e| self.csv_err(e))
    }

    /// The inner writer, flushed.
    fn into_inner(self) -> Result<W, ExportError> {
        let path = self.path;
        self.out.into_inner().map_err(|e| ExportError::Io {
            file: path,
            source: e.into_error(),
        })
    }
}

impl<W: Write> WideCsvRow for CellWriter<W> {
    fn text(&mut self, s: &str) -> Result<(), ExportError> {
        if needs_guard(s) {
            let mut field = std::mem::take(&mut self.field);
            field.clear();
            field.push('\'');
            field.push_str(s);
            let r = self.put(field.as_bytes());
            self.field = field;
            r
        } else {
            self.put(s.as_bytes())
        }
    }

    fn joined(&mut self, parts: &[String], sep: &str) -> Result<(), ExportError> {
        let mut field = std::mem::take(&mut self.field);
        field.clear();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                field.push_str(sep);
            }
            field.push_str(p);
        }
        let r = self.text(&field);
        self.field = field;
        r
    }

    fn number(&mut self, x: f64) -> Result<(), ExportError> {
        let mut numbers = std::mem::take(&mut self.numbers);
        let r = self.put(numbers.format(x).as_bytes());
        self.numbers = numbers;
        r
    }

    fn empty(&mut self) -> Result<(), ExportError> {
        self.put(b"")
    }

    fn end_row(&mut self) -> Result<(), ExportError> {
        self.out
            .write_record(None::<&[u8]>)
            .map_err(|e| self.csv_err(e))
    }
}

/// A wide `.csv` file written row by row, straight to disk: like [`write_wide`]'s CSV (UTF-8
/// with BOM, formula guard, numbers as Rust displays them) without holding the file in memory.
/// It goes to a temporary file in the same directory, synced and renamed over the path only by
/// [`WideCsvWriter::finish`]; dropped unfinished, it removes the temporary file.
pub struct WideCsvWriter {
    path: PathBuf,
    tmp: PathBuf,
    cells: Option<CellWriter<std::fs::File>>,
}

impl WideCsvWriter {
    /// Starts the file with its header.
    pub fn create(path: impl AsRef<Path>, header: &[String]) -> Result<Self, ExportError> {
        let path = path.as_ref().to_owned();
        let tmp = temp_path(&path);
        let io_err = |source| ExportError::Io {
            file: path.clone(),
            source,
        };
        let mut file = std::fs::File::create(&tmp).map_err(io_err)?;
        let mut w = Self {
            path: path.clone(),
            tmp,
            cells: None,
        };
        file.write_all(b"\xEF\xBB\xBF").map_err(io_err)?;
        let mut cells = CellWriter::new(path, file);
        for h in header {
            cells.text(h)?;
        }
        cells.end_row()?;
        w.cells = Some(cells);
        Ok(w)
    }

    fn cells(&mut self) -> Result<&mut CellWriter<std::fs::File>, ExportError> {
        // Empty only after a failed `append`.
        match &mut self.cells {
            Some(c) => Ok(c),
            None => Err(ExportError::Io {
                file: self.path.clone(),
                source: std::io::ErrorKind::BrokenPipe.into(),
            }),
        }
    }

    /// Appends rows formatted by [`WideCsvRows`] (complete rows only).
    pub fn append(&mut self, rows: WideCsvRows) -> Result<(), ExportError> {
        let bytes = rows.0.into_inner()?;
        let Some(cells) = self.cells.take() else {
            return self.cells().map(|_| ());
        };
        let mut file = cells.into_inner()?;
        file.write_all(&bytes).map_err(|source| ExportError::Io {
            file: self.path.clone(),
            source,
        })?;
        self.cells = Some(CellWriter::new(self.path.clone(), file));
        Ok(())
    }

    /// Completes the file: flushes and syncs it, then renames it over the path.
    pub fn finish(mut self) -> Result<(), ExportError> {
        let path = self.path.clone();
        let Some(cells) = self.cells.take() else {
            return self.cells().map(|_| ());
        };
        let io_err = |source| ExportError::Io {
            file: path.clone(),
            source,
        };
        let file = cells.into_inner()?;
        file.sync_all().map_err(io_err)?;
        drop(file);
        std::fs::rename(&self.tmp, &path).map_err(io_err)?;
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl WideCsvRow for WideCsvWriter {
    fn text(&mut self, s: &str) -> Result<(), ExportError> {
        self.cells()?.text(s)
    }
    fn joined(&mut self, parts: &[String], sep: &str) -> Result<(), ExportError> {
        self.cells()?.joined(parts, sep)
    }
    fn number(&mut self, x: f64) -> Result<(), ExportError> {
        self.cells()?.number(x)
    }
    fn empty(&mut self) -> Result<(), ExportError> {
        self.cells()?.empty()
    }
    fn end_row(&mut self) -> Result<(), ExportError> {
        self.cells()?.end_row()
    }
}

impl Drop for WideCsvWriter {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            drop(self.cells.take());
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Rows of a wide `.csv` file formatted in memory, for [`WideCsvWriter::append`]: lets other
/// threads format parts of a large file while the writer writes its own.
pub struct WideCsvRows(CellWriter<Vec<u8>>);

impl WideCsvRows {
    /// Empty rows for the file at `path` (named in errors).
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self(CellWriter::new(path.as_ref().to_owned(), Vec::new()))
    }
}

impl WideCsvRow for WideCsvRows {
    fn text(&mut self, s: &str) -> Result<(), ExportError> {
        self.0.text(s)
    }
    fn joined(&mut self, parts: &[String], sep: &str) -> Result<(), ExportError> {
        self.0.joined(parts, sep)
    }
    fn number(&mut self, x: f64) -> Result<(), ExportError> {
        self.0.number(x)
    }
    fn empty(&mut self) -> Result<(), ExportError> {
        self.0.empty()
    }
    fn end_row(&mut self) -> Result<(), ExportError> {
        self.0.end_row()
    }
}

/// Numbers as text exactly as `f64`'s `Display` writes them (shortest digits that read back
/// to the same number, never an exponent), without its cost for the usual cases.
#[derive(Default)]
struct NumberText {
    ints: itoa::Buffer,
    floats: ryu::Buffer,
    other: String,
}

impl NumberText {
    fn format(&mut self, x: f64) -> &str {
        if x.fract() == 0.0 && x.abs() < 1e15 {
            if x == 0.0 && x.is_sign_negative() {
                return "-0";
            }
            // Integral and exactly an i64.
            return self.ints.format(x as i64);
        }
        if x.is_finite() {
            let s = self.floats.format_finite(x);
            // With at most 15 significant digits the shortest digits are unique, so both
            // algorithms agree (with 16 or 17 they may break a tie differently).
            let digits = s
                .trim_start_matches(['-', '0', '.'])
                .bytes()
                .filter(u8::is_ascii_digit)
                .count();
            if digits <= 15 && !s.contains('e') && !s.ends_with(".0") {
                return s;
            }
        }
        use std::fmt::Write as _;
        self.other.clear();
        let _ = write!(self.other, "{x}");
        &self.other
    }
}

fn wide_xlsx(
    path: &Path,
    header: &[String],
    rows: &[Vec<WideCell>],
) -> Result<Vec<u8>, ExportError> {
    if rows.len() > MAX_XLSX_RECORDS {
        return Err(ExportError::TooManyRows {
            file: path.to_owned(),
            rows: rows.len(),
            max: MAX_XLSX_RECORDS,
        });
    }
    let xlsx_err = |source| ExportError::Xlsx {
        file: path.to_owned(),
        source,
    };
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (j, h) in header.iter().enumerate() {
        let col = u16::try_from(j).unwrap_or(u16::MAX);
        sheet
            .write_string_with_format(0, col, h, &bold)
            .map_err(xlsx_err)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(xlsx_err)?;
    for (i, cells) in rows.iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        for (j, c) in cells.iter().enumerate() {
            let col = u16::try_from(j).unwrap_or(u16::MAX);
            match c {
                WideCell::Text(s) => {
                    sheet.write_string(row, col, s).map_err(xlsx_err)?;
                }
                WideCell::Number(x) if x.is_finite() => {
                    sheet.write_number(row, col, *x).map_err(xlsx_err)?;
                }
                WideCell::Number(_) | WideCell::Empty => {}
            }
        }
    }
    book.save_to_buffer().map_err(xlsx_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_csv_and_xlsx_with_row_numbers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let header = vec!["person_id".to_owned(), "x".to_owned()];
        let rows = vec![
            vec![WideCell::Text("=A1".into()), WideCell::Number(1.5)],
            vec![WideCell::Text("p2".into()), WideCell::Empty],
        ];
        for ext in ["csv", "xlsx"] {
            let path = dir.path().join(format!("t.{ext}"));
            write_wide(&path, &header, &rows).expect("write");
            let t = read_wide(&path).expect("read");
            assert_eq!(t.header, header);
            assert_eq!(t.rows.len(), 2);
            assert_eq!(t.rows[0].row, 2);
            assert_eq!(t.rows[0].cells, vec!["=A1", "1.5"]);
            assert_eq!(t.rows[1].cells, vec!["p2", ""]);
        }
        let gbk = dir.path().join("g.csv");
        let (bytes, _, _) = encoding_rs::GB18030.encode("人员编号,x\n\n张三,2\n");
        std::fs::write(&gbk, &bytes).expect("write");
        let t = read_wide(&gbk).expect("read gbk");
        assert_eq!(t.header[0], "人员编号");
        assert_eq!(t.rows[0].row, 3);
        let bad = dir.path().join("b.csv");
        std::fs::write(&bad, "a\n1,2\n").expect("write");
        let e = read_wide(&bad).expect_err("headerless value");
        assert!(e.to_string().contains(":2:column 2:"), "{e}");
    }

    #[test]
    fn csv_writer_quotes_guards_and_writes_numbers_as_display_does() {
        let dir = tempfile::tempdir().expect("tempdir");
        let header = vec!["person_id".to_owned(), "x".to_owned(), "y".to_owned()];
        let path = dir.path().join("a.csv");
        let mut w = WideCsvWriter::create(&path, &header).expect("create");
        w.text("=A1").expect("text");
        w.number(1.5).expect("number");
        w.empty().expect("empty");
        w.end_row().expect("row");
        w.text("p,2").expect("text");
        w.number(-0.0).expect("number");
        w.joined(&["missing:x".to_owned(), "veto:\"y\"".to_owned()], ";")
            .expect("joined");
        w.end_row().expect("row");
        // Rows formatted apart and appended come out as if written in place.
        let mut rows = WideCsvRows::new(&path);
        rows.text("+1").expect("text");
        rows.number(1e-7).expect("number");
        rows.joined(&[], ";").expect("joined");
        rows.end_row().expect("row");
        w.append(rows).expect("append");
        w.number(2.0).expect("number");
        w.end_row().expect("row");
        assert!(std::fs::read_dir(dir.path()).expect("dir").count() == 1);
        assert!(!path.exists(), "renamed only when finished");
        w.finish().expect("finish");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "\u{feff}person_id,x,y\n'=A1,1.5,\n\"p,2\",-0,\"missing:x;veto:\"\"y\"\"\"\n\
             '+1,0.0000001,\n2\n"
        );
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
        // Dropped unfinished: no file, no temporary file left.
        let other = dir.path().join("b.csv");
        drop(WideCsvWriter::create(&other, &header).expect("create"));
        assert!(!other.exists());
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }

    #[test]
    fn numbers_are_written_as_display_writes_them() {
        let mut t = NumberText::default();
        let mut check = |x: f64| assert_eq!(t.format(x), format!("{x}"), "{:?}", x.to_bits());
        for k in (0..2_000_000u64).step_by(7) {
            check(k as f64 / 1e4);
            check(-(k as f64) / 1e2);
        }
        for x in [
            0.0,
            -0.0,
            1.0,
            1e15,
            1e16,
            1e17,
            1e21,
            1e22,
            1e-5,
            1e-6,
            1e-7,
            1.5e-300,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.1 + 0.2,
            123_456_789.123_456_78,
            9007199254740993.0,
            999999999999999.9,
        ] {
            check(x);
        }
        // Pseudo-random doubles across all magnitudes.
        let mut bits = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..200_000 {
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            check(f64::from_bits(bits));
        }
    }

    type Choose = fn(&[String]) -> Result<(Vec<usize>, Vec<usize>), ImportError>;

    /// Reads `text` (written to `dir/name`) by every path: the plain fast path, the general CSV
    /// path (forced by quoting the first header cell) and [`read_wide`].
    fn all_paths(
        dir: &Path,
        name: &str,
        text: &str,
        choose: Choose,
    ) -> [Result<WideColumns, ImportError>; 3] {
        let plain = dir.join(format!("{name}.csv"));
        std::fs::write(&plain, text).expect("write");
        let quoted = dir.join(format!("{name}-quoted.csv"));
        let body = text.trim_start_matches('\u{feff}');
        std::fs::write(&quoted, format!("\"{body}")).expect("write");
        let quoted_text = std::fs::read_to_string(&quoted).expect("read");
        let first_comma = quoted_text.find(',').expect("a comma");
        let mut q = quoted_text;
        q.insert(first_comma, '"');
        std::fs::write(&quoted, q).expect("write");
        [
            read_wide_columns(&plain, choose),
            read_wide_columns(&quoted, choose),
            read_wide(&plain).and_then(|t| columns_of(t, choose)),
        ]
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// Everything but the file name, and the errors as text without the file name.
    fn same(a: &WideColumns, b: &WideColumns) {
        assert_eq!(a.header, b.header);
        assert_eq!(a.rows, b.rows);
        assert_eq!(a.text, b.text);
        assert_eq!(bits(&a.numbers), bits(&b.numbers));
        let errs = |c: &WideColumns| {
            c.errors
                .errors()
                .iter()
                .map(|e| (e.row, e.column.clone(), e.message.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(errs(a), errs(b));
        assert_eq!(a.errors.len(), b.errors.len());
    }

    #[test]
    fn every_path_reads_the_same_columns_rows_and_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let choose = |h: &[String]| -> Result<(Vec<usize>, Vec<usize>), ImportError> {
            assert_eq!(h, ["id", "x", "y"]);
            Ok((vec![0], vec![2, 1]))
        };
        // Large enough (> 1 MiB) to be split between threads; blank lines (which leave gaps to
        // close), white space, empty and missing trailing cells; LF and CRLF line ends.
        for (name, eol) in [("lf", "\n"), ("crlf", "\r\n")] {
            let mut text = format!("\u{feff}id,x,y{eol}");
            for i in 0..120_000 {
                if i == 30_000 || i == 90_000 {
                    text.push_str(&format!("{eol} , ,{eol}"));
                }
                let x = if i % 7 == 0 {
                    String::new()
                } else {
                    format!("{i}.5")
                };
                match i % 11 {
                    0 => text.push_str(&format!("p{i}{eol}")),
                    1 => text.push_str(&format!("p{i}, {x} {eol}")),
                    _ => text.push_str(&format!("p{i}, {x} ,{}{eol}", i % 13)),
                }
            }
            let [plain, general, wide] = all_paths(dir.path(), name, &text, choose);
            let plain = plain.expect("plain");
            let general = general.expect("general");
            let wide = wide.expect("wide");
            assert!(plain.errors.is_empty());
            assert_eq!(plain.rows.len(), 120_000);
            same(&plain, &wide);
            same(&general, &wide);
            assert_eq!(plain.rows[30_000], 30_004);
            assert_eq!(plain.rows[119_999], 120_005);
            assert_eq!(plain.text[0][119_999], "p119999");
            // Column-major: y first, then x.
            assert_eq!(plain.numbers[120_000 + 3], 3.5);
            assert!(plain.numbers[120_000 + 7].is_nan());
            assert_eq!(plain.numbers[2], 2.0);
            assert!(plain.numbers[0].is_nan() && plain.numbers[1].is_nan());
        }
    }

    #[test]
    fn every_path_locates_the_same_cell_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let choose = |h: &[String]| -> Result<(Vec<usize>, Vec<usize>), ImportError> {
            assert_eq!(h, ["id", "x", "", "y"]);
            Ok((vec![0], vec![1, 3]))
        };
        let text = "id,x,,y\np1,abc,,2\np2,1,,2,9\n\np3, 1e400 ,,\np4,,v,-inf\np5,NaN\n";
        let [plain, general, wide] = all_paths(dir.path(), "bad", text, choose);
        let (plain, general) = (plain.expect("plain"), general.expect("general"));
        same(&plain, &general);
        // `read_wide` reports the values without a header itself.
        let wide = wide.expect_err("values without a header").to_string();
        assert!(wide.contains("bad.csv:3:column 5: a value"), "{wide}");
        assert!(wide.contains("bad.csv:6:column 3: a value"), "{wide}");
        let msg = plain.errors.to_string();
        for want in [
            "bad.csv:2:x: \"abc\" is not a number",
            "bad.csv:3:column 5: a value in a column without a header",
            "bad.csv:5:x: \"1e400\" is not a number",
            "bad.csv:6:column 3: a value in a column without a header",
            "bad.csv:6:y: \"-inf\" is not a number",
            "bad.csv:7:x: \"NaN\" is not a number",
        ] {
            assert!(msg.contains(want), "{want} not in {msg}");
        }
        assert_eq!(plain.errors.len(), 6, "{msg}");
        assert_eq!(plain.rows, [2, 3, 5, 6, 7]);
    }

    #[test]
    fn the_fast_number_parser_accepts_what_rust_accepts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let choose = |h: &[String]| -> Result<(Vec<usize>, Vec<usize>), ImportError> {
            assert_eq!(h, ["id", "x"]);
            Ok((vec![0], vec![1]))
        };
        let cells = [
            "+5",
            "-0",
            ".5",
            "5.",
            "1e5",
            "1E+05",
            "1.e3",
            "1e",
            "e5",
            ".",
            "-",
            "+",
            "0x10",
            "inf",
            "infinity",
            "1_0",
            "１",
            "00012",
            "1.7976931348623157e308",
            "1.8e308",
            "4.9e-324",
            "2.4703282292062327e-324",
            "0.1000000000000000055511151231257827",
            "123456789012345678901234567890",
            " 7 ",
            "\t8",
            "9 9",
            "1-2",
            "--1",
            "+-1",
            "1e+",
            "0.30000000000000004",
            "111.38",
            "-45.36e-2",
        ];
        let mut text = String::from("id,x\n");
        for (i, c) in cells.iter().enumerate() {
            text.push_str(&format!("p{i},{c}\n"));
        }
        let [plain, general, wide] = all_paths(dir.path(), "num", &text, choose);
        let (plain, general, wide) = (
            plain.expect("plain"),
            general.expect("general"),
            wide.expect("wide"),
        );
        same(&plain, &wide);
        same(&general, &wide);
        for (i, c) in cells.iter().enumerate() {
            let want = c.trim().parse::<f64>().ok().filter(|x| x.is_finite());
            let got = plain.numbers[i];
            match want {
                Some(x) => assert_eq!(got.to_bits(), x.to_bits(), "{c:?}"),
                None => assert!(got.is_nan(), "{c:?}"),
            }
        }
    }

    #[test]
    fn files_that_are_not_plain_utf8_take_the_general_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let choose = |h: &[String]| -> Result<(Vec<usize>, Vec<usize>), ImportError> {
            assert_eq!(h, ["人员编号", "x"]);
            Ok((vec![0], vec![1]))
        };
        let gbk = dir.path().join("g.csv");
        let (bytes, _, _) = encoding_rs::GB18030.encode("人员编号,x\n张三,2\n\"李,四\",3\n");
        std::fs::write(&gbk, &bytes).expect("write");
        let c = read_wide_columns(&gbk, choose).expect("gbk");
        assert_eq!(c.text[0], ["张三", "李,四"]);
        assert_eq!(c.numbers, [2.0, 3.0]);
        // A lone carriage return ends a record in CSV: not plain.
        let cr = dir.path().join("cr.csv");
        std::fs::write(&cr, "人员编号,x\n张三,2\r李四,3\n").expect("write");
        let c = read_wide_columns(&cr, choose).expect("cr");
        assert_eq!(c.text[0], ["张三", "李四"]);
        assert_eq!(c.numbers, [2.0, 3.0]);
        // A column chosen twice.
        let twice = dir.path().join("twice.csv");
        std::fs::write(&twice, "人员编号,x\n张三,2\n").expect("write");
        let c = read_wide_columns(&twice, |_| Ok((vec![0, 0], vec![1, 1]))).expect("twice");
        assert_eq!(c.text, [["张三"], ["张三"]]);
        assert_eq!(c.numbers, [2.0, 2.0]);
        let empty = dir.path().join("empty.csv");
        std::fs::write(&empty, " , \n1,2\n").expect("write");
        assert!(matches!(
            read_wide_columns(&empty, choose),
            Err(ImportError::Empty { .. })
        ));
    }
}
