//! Data files of kaohe (考核): import and export of the organization tables and of public
//! service ratings (service cases, ratings) as CSV or XLSX, and a seeded generator of realistic
//! synthetic data.
//!
//! - [`import`]: `read_units`, `read_cadres`, …, `read_cases`, `read_ratings` read a `.csv` (UTF-8 with or without BOM, or
//!   GB18030/GBK) or `.xlsx` file with Chinese or English headers, and either return every
//!   record with its row number or report every bad row as `FILE:ROW:COLUMN: reason`.
//! - [`export`]: `write_units`, `write_cadres`, … write what import reads back exactly.
//! - [`wide`]: `read_wide` and `write_wide` for tables whose columns are not fixed
//!   (indicator values, assessment results).
//! - [`synth`]: `generate` builds a unit tree, cadres, appointment history, sanctions and the
//!   holiday calendar from a seed; `write_dataset` writes them as files `kaohe import` reads.

pub mod error;
pub mod export;
pub mod import;
pub mod parse;
mod plain;
pub mod synth;
pub mod table;
pub mod values;
pub mod wide;

pub use error::{ExportError, ImportError, MAX_SHOWN_ERRORS, RowError, RowErrors};
pub use export::{
    Phones, write_appointments, write_cadres, write_calendar, write_cases, write_ratings,
    write_sanctions, write_units,
};

pub use import::{
    Located, Parsed, RatingRecord, check_unit_tree, read_appointments, read_cadres, read_calendar,
    read_cases, read_ratings, read_sanctions, read_units,
};
pub use synth::{Dataset, GenSpec, generate, official_calendar, write_dataset};
pub use table::{Column, Format, HeaderLang, ParseNameError, Table};
pub use values::read_value_table;
pub use wide::{
    WideCell, WideColumns, WideCsvRow, WideCsvRows, WideCsvWriter, WideRow, WideTable, read_wide,
    read_wide_columns, write_atomic, write_wide,
};
