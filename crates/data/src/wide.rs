//! Wide tables: a header row of free column names and rows of text cells, read from `.csv`
//! (UTF-8 or GB18030) or `.xlsx` like the organization tables, and written back as `.csv` or
//! `.xlsx` atomically (to a temporary file in the same directory, renamed on success).
//!
//! Used for indicator values (`person_id, unit_id, <indicator>…`) and assessment results,
//! whose columns depend on a framework and so are not one of the fixed [`crate::Table`]s.

use crate::error::{ExportError, ImportError, RowErrors};
use crate::export::MAX_XLSX_RECORDS;
use crate::import::{Cells, bytecount_newlines, csv_reader, needs_guard, read_text, walk_rows};
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
    let (header, ()) = walk_rows(
        path,
        |_| Ok(()),
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
/// text columns and of the number columns (or a header error). Number cells must parse as
/// finite numbers: other cells are returned in [`WideColumns::errors`] (`"x" is not a number`);
/// empty cells are `NaN`. Blank rows are skipped and values in columns without a header are
/// errors, as in [`read_wide`].
///
/// A UTF-8 CSV file is parsed from its bytes without a `String` per cell, on two threads when
/// it holds no quoted fields (so that rows can be split at line ends); GB18030 files and XLSX
/// workbooks go through [`read_wide`].
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
    let text = read_text(path)?;
    let csv_err = |source| ImportError::Csv {
        file: path.to_owned(),
        source,
    };
    let mut reader = csv_reader(&text);
    let mut record = csv::ByteRecord::new();
    if !reader.read_byte_record(&mut record).map_err(csv_err)? {
        return Err(ImportError::Empty {
            file: path.to_owned(),
        });
    }
    let header: Vec<String> = record
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_owned())
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(ImportError::Empty {
            file: path.to_owned(),
        });
    }
    let (text_cols, num_cols) = choose(&header)?;
    let start = usize::try_from(reader.position().byte())
        .unwrap_or(text.len())
        .min(text.len());
    let first_line = usize::try_from(reader.position().line()).unwrap_or(2);
    drop(reader);
    let body = &text.as_bytes()[start..];
    let plan = Plan {
        header: &header,
        text_cols: &text_cols,
        num_cols: &num_cols,
    };
    // Split at line ends into two halves when no field can hold a line end (no quotes).
    let split = if body.len() > 1 << 20 && !body.contains(&b'"') {
        let mid = body.len() / 2;
        body[mid..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| mid + p + 1)
    } else {
        None
    };
    let chunks: Vec<Result<Chunk, csv::Error>> = match split {
        Some(at) => {
            let (a, b) = body.split_at(at);
            let b_line = first_line + bytecount_newlines(a);
            std::thread::scope(|s| {
                let hb = s.spawn(|| plan.parse(b, b_line));
                let ra = plan.parse(a, first_line);
                let rb = hb.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
                vec![ra, rb]
            })
        }
        None => vec![plan.parse(body, first_line)],
    };
    let mut errors = RowErrors::new(path);
    let mut chunks_ok = Vec::with_capacity(chunks.len());
    for c in chunks {
        let c = c.map_err(csv_err)?;
        for (row, col, msg) in &c.errors {
            errors.push_at(*row, col.clone(), msg.clone());
        }
        chunks_ok.push(c);
    }
    let n: usize = chunks_ok.iter().map(|c| c.rows.len()).sum();
    let k = num_cols.len();
    let mut rows = Vec::with_capacity(n);
    let mut texts: Vec<Vec<String>> = (0..text_cols.len())
        .map(|_| Vec::with_capacity(n))
        .collect();
    for c in &mut chunks_ok {
        rows.append(&mut c.rows);
        for (t, ct) in texts.iter_mut().zip(&mut c.text) {
            t.append(ct);
        }
    }
    // Row-major chunks → one column-major buffer, columns split between two threads.
    let mut numbers = vec![f64::NAN; n * k];
    if n > 0 {
        let fill = |cols: &mut [f64], first_col: usize| {
            for (dj, col) in cols.chunks_mut(n).enumerate() {
                let j = first_col + dj;
                let mut i = 0;
                for c in &chunks_ok {
                    for r in 0..c.rows_len {
                        col[i] = c.nums[r * k + j];
                        i += 1;
                    }
                }
            }
        };
        let half = k / 2;
        let (left, right) = numbers.split_at_mut(half * n);
        std::thread::scope(|s| {
            s.spawn(|| fill(right, half));
            fill(left, 0);
        });
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

/// Which columns to keep, shared by the parsing threads.
struct Plan<'a> {
    header: &'a [String],
    text_cols: &'a [usize],
    num_cols: &'a [usize],
}

/// The rows of one part of a file: numbers row-major.
struct Chunk {
    rows: Vec<usize>,
    rows_len: usize,
    text: Vec<Vec<String>>,
    nums: Vec<f64>,
    errors: Vec<(usize, String, String)>,
}

impl Plan<'_> {
    fn parse(&self, bytes: &[u8], first_line: usize) -> Result<Chunk, csv::Error> {
        let estimate = bytecount_newlines(bytes) + 1;
        let mut c = Chunk {
            rows: Vec::with_capacity(estimate),
            rows_len: 0,
            text: (0..self.text_cols.len())
                .map(|_| Vec::with_capacity(estimate))
                .collect(),
            nums: Vec::with_capacity(estimate * self.num_cols.len()),
            errors: Vec::new(),
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        let mut record = csv::ByteRecord::new();
        let text_of = |b: &[u8]| String::from_utf8_lossy(b.trim_ascii()).trim().to_owned();
        while reader.read_byte_record(&mut record)? {
            if record.iter().all(blank) {
                continue;
            }
            let line =
                usize::try_from(record.position().map_or(1, csv::Position::line)).unwrap_or(1);
            let row = first_line + line - 1;
            for (i, f) in record.iter().enumerate().skip(self.header.len()) {
                if !f.trim_ascii().is_empty() {
                    c.errors.push((
                        row,
                        format!("column {}", i + 1),
                        "a value in a column without a header".to_owned(),
                    ));
                }
            }
            for (t, &col) in c.text.iter_mut().zip(self.text_cols) {
                t.push(record.get(col).map(text_of).unwrap_or_default());
            }
            for &col in self.num_cols {
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
                            if t.is_empty() {
                                f64::NAN
                            } else {
                                c.errors.push((
                                    row,
                                    self.header[col].clone(),
                                    format!("{t:?} is not a number"),
                                ));
                                f64::NAN
                            }
                        }
                    }
                };
                c.nums.push(x);
            }
            c.rows.push(row);
            c.rows_len += 1;
        }
        Ok(c)
    }
}

/// Whether a cell is empty or white space only, without allocating.
fn blank(f: &[u8]) -> bool {
    let t = f.trim_ascii();
    t.is_empty() || std::str::from_utf8(t).is_ok_and(|s| s.trim().is_empty())
}

/// [`WideColumns`] from a table read by [`read_wide`].
fn columns_of(
    table: WideTable,
    choose: impl FnOnce(&[String]) -> Result<(Vec<usize>, Vec<usize>), ImportError>,
) -> Result<WideColumns, ImportError> {
    let (text_cols, num_cols) = choose(&table.header)?;
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

/// Writes `bytes` to `path` atomically: into a temporary file in the same directory, renamed
/// over `path` only once complete. On failure `path` is left as it was.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), ExportError> {
    let path = path.as_ref();
    let io_err = |source| ExportError::Io {
        file: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
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
    let bytes = match Format::from_path(path) {
        Some(Format::Csv) => wide_csv(path, header, rows)?,
        Some(Format::Xlsx) => wide_xlsx(path, header, rows)?,
        None => {
            return Err(ExportError::UnsupportedFormat {
                file: path.to_owned(),
            });
        }
    };
    write_atomic(path, &bytes)
}

/// Writes a wide `.csv` file like [`write_wide`], asking `row(i, cells)` for the cells of each
/// of `rows` rows in turn (`cells` comes cleared) instead of holding all rows in memory.
pub fn write_wide_csv_rows(
    path: impl AsRef<Path>,
    header: &[String],
    rows: usize,
    mut row: impl FnMut(usize, &mut Vec<WideCell>),
) -> Result<(), ExportError> {
    let path = path.as_ref();
    let csv_err = |source| ExportError::Csv {
        file: path.to_owned(),
        source,
    };
    let mut buf = Vec::with_capacity(64 * rows.min(1 << 24) + 1024);
    buf.extend_from_slice(b"\xEF\xBB\xBF");
    let mut w = csv::WriterBuilder::new().from_writer(buf);
    w.write_record(header).map_err(csv_err)?;
    let mut cells = Vec::new();
    let mut number = String::new();
    for i in 0..rows {
        cells.clear();
        row(i, &mut cells);
        for c in &cells {
            match c {
                WideCell::Text(s) if needs_guard(s) => w.write_field(format!("'{s}")),
                WideCell::Text(s) => w.write_field(s),
                WideCell::Number(x) => {
                    use std::fmt::Write as _;
                    number.clear();
                    let _ = write!(number, "{x}");
                    w.write_field(&number)
                }
                WideCell::Empty => w.write_field(""),
            }
            .map_err(csv_err)?;
        }
        w.write_record(None::<&[u8]>).map_err(csv_err)?;
    }
    let bytes = w.into_inner().map_err(|e| ExportError::Io {
        file: path.to_owned(),
        source: e.into_error(),
    })?;
    write_atomic(path, &bytes)
}

fn wide_csv(
    path: &Path,
    header: &[String],
    rows: &[Vec<WideCell>],
) -> Result<Vec<u8>, ExportError> {
    let csv_err = |source| ExportError::Csv {
        file: path.to_owned(),
        source,
    };
    let mut w = csv::WriterBuilder::new().from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(header).map_err(csv_err)?;
    for row in rows {
        for c in row {
            match c {
                WideCell::Text(s) if needs_guard(s) => w.write_field(format!("'{s}")),
                WideCell::Text(s) => w.write_field(s),
                WideCell::Number(x) => w.write_field(x.to_string()),
                WideCell::Empty => w.write_field(""),
            }
            .map_err(csv_err)?;
        }
        w.write_record(None::<&[u8]>).map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| ExportError::Io {
        file: path.to_owned(),
        source: e.into_error(),
    })
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
    fn streamed_csv_equals_write_wide() {
        let dir = tempfile::tempdir().expect("tempdir");
        let header = vec!["person_id".to_owned(), "x".to_owned(), "y".to_owned()];
        let rows = vec![
            vec![
                WideCell::Text("=A1".into()),
                WideCell::Number(1.5),
                WideCell::Empty,
            ],
            vec![
                WideCell::Text("p,2".into()),
                WideCell::Number(2.0),
                WideCell::Text("q".into()),
            ],
        ];
        let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
        write_wide(&a, &header, &rows).expect("write");
        write_wide_csv_rows(&b, &header, rows.len(), |i, cells| {
            cells.extend(rows[i].clone());
        })
        .expect("stream");
        assert_eq!(std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
    }

    #[test]
    fn columns_fast_path_matches_read_wide_and_locates_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let choose = |h: &[String]| -> Result<(Vec<usize>, Vec<usize>), ImportError> {
            assert_eq!(h, ["id", "x", "y"]);
            Ok((vec![0], vec![2, 1]))
        };
        // Large enough (> 1 MiB, no quotes) to be split between two threads.
        let mut text = String::from("\u{feff}id,x,y\n");
        for i in 0..120_000 {
            if i == 70_000 {
                text.push_str("\n , ,\n");
            }
            let x = if i % 7 == 0 {
                String::new()
            } else {
                format!("{}.5", i)
            };
            text.push_str(&format!("p{i}, {x} ,{}\n", i % 13));
        }
        let path = dir.path().join("big.csv");
        std::fs::write(&path, &text).expect("write");
        let fast = read_wide_columns(&path, choose).expect("read");
        let slow = columns_of(read_wide(&path).expect("read"), choose).expect("columns");
        assert!(fast.errors.is_empty() && slow.errors.is_empty());
        assert_eq!(fast.rows.len(), 120_000);
        assert_eq!(fast.rows, slow.rows);
        assert_eq!(fast.text, slow.text);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fast.numbers), bits(&slow.numbers));
        assert_eq!(fast.rows[70_000], 70_004);
        assert_eq!(fast.numbers[120_000 + 1], 1.5);
        assert!(fast.numbers[120_000].is_nan());

        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "id,x,y\n\"p,1\",abc,2\np2,1,2,9\n").expect("write");
        let e = read_wide_columns(&bad, choose)
            .and_then(|c| c.errors.into_result())
            .expect_err("bad cells");
        let msg = e.to_string();
        assert!(
            msg.contains(":2:x:") && msg.contains("\"abc\" is not a number"),
            "{msg}"
        );
        assert!(msg.contains(":3:column 4:"), "{msg}");
    }
}
