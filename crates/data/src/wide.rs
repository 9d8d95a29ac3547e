//! Wide tables: a header row of free column names and rows of text cells, read from `.csv`
//! (UTF-8 or GB18030) or `.xlsx` like the organization tables, and written back as `.csv` or
//! `.xlsx` atomically (to a temporary file in the same directory, renamed on success).
//!
//! Used for indicator values (`person_id, unit_id, <indicator>…`) and assessment results,
//! whose columns depend on a framework and so are not one of the fixed [`crate::Table`]s.

use crate::error::{ExportError, ImportError, RowErrors};
use crate::export::MAX_XLSX_RECORDS;
use crate::import::{Cells, CsvCells, XlsxCells, bytecount_newlines, decode, needs_guard};
use crate::table::Format;
use calamine::{Reader, Xlsx};
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
    let format = Format::from_path(path).ok_or_else(|| ImportError::UnsupportedFormat {
        file: path.to_owned(),
    })?;
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
    let header = match format {
        Format::Csv => {
            let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
                file: path.to_owned(),
                source,
            })?;
            let text = decode(path, bytes)?;
            let csv_err = |source| ImportError::Csv {
                file: path.to_owned(),
                source,
            };
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(text.as_bytes());
            let mut record = csv::StringRecord::new();
            if !reader.read_record(&mut record).map_err(csv_err)? {
                return Err(ImportError::Empty {
                    file: path.to_owned(),
                });
            }
            let header: Vec<String> = record.iter().map(|h| h.trim().to_owned()).collect();
            let (mut line, mut seen) = (1, 0);
            while reader.read_record(&mut record).map_err(csv_err)? {
                let offset = record
                    .position()
                    .and_then(|p| usize::try_from(p.byte()).ok())
                    .unwrap_or(seen)
                    .clamp(seen, text.len());
                line += bytecount_newlines(&text.as_bytes()[seen..offset]);
                let bytes = text.as_bytes();
                let mut offset = offset;
                while let Some(b @ (b'\r' | b'\n')) = bytes.get(offset) {
                    line += usize::from(*b == b'\n');
                    offset += 1;
                }
                seen = offset;
                step(&CsvCells(&record), line, &header, &mut errors);
            }
            header
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
            let mut iter = range.rows();
            let Some(head) = iter.next() else {
                return Err(ImportError::Empty {
                    file: path.to_owned(),
                });
            };
            let head = XlsxCells(head);
            let header: Vec<String> = (0..head.len())
                .map(|i| head.get(i).text().unwrap_or_default().trim().to_owned())
                .collect();
            for (i, cells) in iter.enumerate() {
                step(&XlsxCells(cells), first + i + 2, &header, &mut errors);
            }
            header
        }
    };
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
}
