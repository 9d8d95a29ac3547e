//! Errors of import and export, and the located row errors an import reports.

use std::fmt;
use std::path::{Path, PathBuf};

/// How many row errors [`RowErrors`] keeps and shows; the rest are only counted.
pub const MAX_SHOWN_ERRORS: usize = 200;

/// One problem in one cell of an imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Row number as a spreadsheet user sees it: the header is row 1. For CSV files this is the
    /// line on which the record starts.
    pub row: usize,
    /// The column's header text as written in the file.
    pub column: String,
    /// What is wrong, in a sentence without a final period.
    pub message: String,
}

/// The row errors of one file, displayed one `FILE:ROW:COLUMN: reason` per line.
///
/// Keeps the first [`MAX_SHOWN_ERRORS`] errors and counts the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowErrors {
    file: PathBuf,
    errors: Vec<RowError>,
    total: usize,
}

impl RowErrors {
    /// An empty list for `file`.
    pub fn new(file: impl Into<PathBuf>) -> Self {
        Self {
            file: file.into(),
            errors: Vec::new(),
            total: 0,
        }
    }

    /// Adds an error.
    pub fn push(&mut self, error: RowError) {
        self.total += 1;
        if self.errors.len() < MAX_SHOWN_ERRORS {
            self.errors.push(error);
        }
    }

    /// Adds an error at `row` in the column headed `column`.
    pub fn push_at(&mut self, row: usize, column: impl Into<String>, message: impl Into<String>) {
        self.push(RowError {
            row,
            column: column.into(),
            message: message.into(),
        });
    }

    /// Adds the errors of `other` (of the same file, found after those of `self`), keeping
    /// the first [`MAX_SHOWN_ERRORS`] of both in order and counting all.
    pub(crate) fn append(&mut self, other: RowErrors) {
        let uncounted = other.total - other.errors.len();
        for e in other.errors {
            self.push(e);
        }
        self.total += uncounted;
    }

    /// Adds `more` errors of the same file, keeping the first [`MAX_SHOWN_ERRORS`] of both by
    /// row and counting all.
    pub(crate) fn merge(self, mut more: Vec<RowError>) -> RowErrors {
        let uncounted = self.total - self.errors.len();
        more.extend(self.errors);
        more.sort_by_key(|e| e.row);
        let mut merged = RowErrors::new(self.file);
        for e in more {
            merged.push(e);
        }
        merged.total += uncounted;
        merged
    }

    /// The same errors, said to be in `file` (a file read under another name, such as an
    /// upload kept in a temporary file).
    pub fn in_file(self, file: &Path) -> Self {
        Self {
            file: file.to_owned(),
            ..self
        }
    }

    /// The file the errors are in.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The errors kept (at most [`MAX_SHOWN_ERRORS`]), in the order they were found.
    pub fn errors(&self) -> &[RowError] {
        &self.errors
    }

    /// Number of errors found, including those not kept.
    pub fn len(&self) -> usize {
        self.total
    }

    /// Whether no error was found.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// `Ok(())` when empty, else the errors as [`ImportError::Rows`].
    pub fn into_result(self) -> Result<(), ImportError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ImportError::Rows(self))
        }
    }
}

impl fmt::Display for RowErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{file}:{}:{}: {}", e.row, e.column, e.message)?;
        }
        let rest = self.total - self.errors.len();
        if rest > 0 {
            write!(
                f,
                "\n{file}: … and {rest} more errors ({} in all)",
                self.total
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for RowErrors {}

/// Why a file could not be imported. An import yields all of its records or this error, never
/// part of the records.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("{}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The extension is neither `.csv` nor `.xlsx`.
    #[error("{}: unsupported file type; expected a .csv or .xlsx file", file.display())]
    UnsupportedFormat {
        /// The file.
        file: PathBuf,
    },
    /// A CSV file that is neither UTF-8 nor GB18030 (GBK) text.
    #[error("{}: {reason}; save the file as CSV in UTF-8 or GB18030/GBK", file.display())]
    Encoding {
        /// The file.
        file: PathBuf,
        /// What was found.
        reason: String,
    },
    /// The CSV structure is broken (e.g. a quote that is never closed).
    #[error("{}: malformed CSV: {source}", file.display())]
    Csv {
        /// The file.
        file: PathBuf,
        /// The cause.
        source: csv::Error,
    },
    /// The workbook could not be opened or has no worksheet.
    #[error("{}: cannot read workbook: {reason}", file.display())]
    Xlsx {
        /// The file.
        file: PathBuf,
        /// The cause, as text (calamine's errors are not `Send`-friendly across versions).
        reason: String,
    },
    /// The file holds no header row.
    #[error("{}: the file is empty; the first row must hold the column headers", file.display())]
    Empty {
        /// The file.
        file: PathBuf,
    },
    /// The header row names unknown columns, repeats a column or lacks a required one.
    #[error("{}:{row}: {}", file.display(), describe_header(unknown, duplicate, missing))]
    Header {
        /// The file.
        file: PathBuf,
        /// The header's row (1 unless a title or notes stand above it).
        row: usize,
        /// Headers that name no column of the table, as written.
        unknown: Vec<String>,
        /// Columns named more than once, as written.
        duplicate: Vec<String>,
        /// Required columns not present, as `中文 (english)`.
        missing: Vec<String>,
    },
    /// One or more rows are invalid.
    #[error("{0}")]
    Rows(RowErrors),
}

impl ImportError {
    /// The same error, a header error being placed on the header's row `row`: for header
    /// checks that see the header's cells but not where the file has it.
    pub fn at_header_row(mut self, row: usize) -> Self {
        if let ImportError::Header { row: at, .. } = &mut self {
            *at = row;
        }
        self
    }
}

fn describe_header(unknown: &[String], duplicate: &[String], missing: &[String]) -> String {
    let quote = |v: &[String]| {
        v.iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if !unknown.is_empty() {
        parts.push(format!("unknown column(s) {}", quote(unknown)));
    }
    if !duplicate.is_empty() {
        parts.push(format!("column(s) given twice {}", quote(duplicate)));
    }
    if !missing.is_empty() {
        parts.push(format!("missing required column(s) {}", missing.join(", ")));
    }
    parts.join("; ")
}

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The file or directory could not be written.
    #[error("{}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The extension is neither `.csv` nor `.xlsx`.
    #[error("{}: unsupported file type; expected a .csv or .xlsx file", file.display())]
    UnsupportedFormat {
        /// The file.
        file: PathBuf,
    },
    /// Writing CSV failed.
    #[error("{}: {source}", file.display())]
    Csv {
        /// The file.
        file: PathBuf,
        /// The cause.
        source: csv::Error,
    },
    /// Writing the workbook failed.
    #[error("{}: {source}", file.display())]
    Xlsx {
        /// The file.
        file: PathBuf,
        /// The cause.
        source: rust_xlsxwriter::XlsxError,
    },
    /// More records than a worksheet holds.
    #[error("{}: {rows} records do not fit in a worksheet (at most {max}); export as .csv", file.display())]
    TooManyRows {
        /// The file.
        file: PathBuf,
        /// Records to write.
        rows: usize,
        /// Records a worksheet holds below its header.
        max: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_caps_the_list() {
        let mut e = RowErrors::new("cadres.csv");
        for row in 2..(MAX_SHOWN_ERRORS + 12) {
            e.push_at(row, "出生日期", "invalid date");
        }
        assert_eq!(e.len(), MAX_SHOWN_ERRORS + 10);
        let text = e.to_string();
        assert!(text.starts_with("cadres.csv:2:出生日期: invalid date\n"));
        assert_eq!(text.lines().count(), MAX_SHOWN_ERRORS + 1);
        assert!(
            text.ends_with("… and 10 more errors (210 in all)"),
            "{text}"
        );
    }

    #[test]
    fn header_message() {
        let e = ImportError::Header {
            row: 1,
            file: "units.csv".into(),
            unknown: vec!["foo".into()],
            duplicate: vec![],
            missing: vec!["单位名称 (name)".into()],
        };
        assert_eq!(
            e.to_string(),
            "units.csv:1: unknown column(s) \"foo\"; missing required column(s) 单位名称 (name)"
        );
    }
}
