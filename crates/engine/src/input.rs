//! What the engine scores: people, their facts, and a column-major matrix of indicator values.
//!
//! The layout is columnar so that a million people × 60 indicators cost one allocation of
//! `f64`s: a missing value is `NaN`.

use crate::error::EngineError;
use kaohe_domain::GradeBlocks;
use serde::{Deserialize, Serialize};

/// A dense column-major matrix of `f64` (`NaN` = missing): entry `(row, col)` is at
/// `data[col * rows + row]`, so each column is a contiguous slice.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "RawMatrix")]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

/// Unchecked form, so that deserialized matrices are checked like constructed ones.
#[derive(Deserialize)]
struct RawMatrix {
    rows: usize,
    cols: usize,
    data: Vec<f64>,
}

impl TryFrom<RawMatrix> for Matrix {
    type Error = EngineError;
    fn try_from(r: RawMatrix) -> Result<Self, Self::Error> {
        Matrix::from_col_major(r.rows, r.cols, r.data)
    }
}

impl Matrix {
    /// A `rows × cols` matrix filled with `NaN` (all missing).
    pub fn missing(rows: usize, cols: usize) -> Self {
        Self {
            rows,
            cols,
            data: vec![f64::NAN; rows.saturating_mul(cols)],
        }
    }

    /// Wraps column-major data; fails when `data.len() != rows * cols`.
    pub fn from_col_major(rows: usize, cols: usize, data: Vec<f64>) -> Result<Self, EngineError> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(EngineError::Shape(format!(
                "matrix of {rows} × {cols} cannot hold {} values",
                data.len()
            )));
        }
        Ok(Self { rows, cols, data })
    }

    /// Builds a matrix from columns of equal length.
    pub fn from_columns(columns: &[Vec<f64>]) -> Result<Self, EngineError> {
        let rows = columns.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(rows * columns.len());
        for (c, col) in columns.iter().enumerate() {
            if col.len() != rows {
                return Err(EngineError::Shape(format!(
                    "column {c} has {} values, column 0 has {rows}",
                    col.len()
                )));
            }
            data.extend_from_slice(col);
        }
        Ok(Self {
            rows,
            cols: columns.len(),
            data,
        })
    }

    /// Builds a matrix from rows of equal length, `None` = missing.
    pub fn from_rows(rows: &[Vec<Option<f64>>]) -> Result<Self, EngineError> {
        let cols = rows.first().map_or(0, Vec::len);
        let mut m = Self::missing(rows.len(), cols);
        for (r, row) in rows.iter().enumerate() {
            if row.len() != cols {
                return Err(EngineError::Shape(format!(
                    "row {r} has {} values, row 0 has {cols}",
                    row.len()
                )));
            }
            for (c, v) in row.iter().enumerate() {
                m.data[c * m.rows + r] = v.unwrap_or(f64::NAN);
            }
        }
        Ok(m)
    }

    /// Number of rows (people).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Value at `(row, col)`; `None` when missing or out of range.
    pub fn get(&self, row: usize, col: usize) -> Option<f64> {
        if row >= self.rows || col >= self.cols {
            return None;
        }
        let v = self.data[col * self.rows + row];
        (!v.is_nan()).then_some(v)
    }

    /// Sets `(row, col)`; `None` marks it missing. Out-of-range positions are ignored and
    /// reported as `false`.
    pub fn set(&mut self, row: usize, col: usize, value: Option<f64>) -> bool {
        if row >= self.rows || col >= self.cols {
            return false;
        }
        self.data[col * self.rows + row] = value.unwrap_or(f64::NAN);
        true
    }

    /// Column `col` as a slice (`NaN` = missing); empty when out of range.
    pub fn column(&self, col: usize) -> &[f64] {
        if col >= self.cols {
            return &[];
        }
        &self.data[col * self.rows..(col + 1) * self.rows]
    }

    /// Column `col` as a mutable slice; empty when out of range.
    pub fn column_mut(&mut self, col: usize) -> &mut [f64] {
        if col >= self.cols {
            return &mut [];
        }
        let rows = self.rows;
        &mut self.data[col * rows..(col + 1) * rows]
    }

    /// The whole column-major buffer.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// Consumes the matrix, returning its column-major buffer.
    pub fn into_vec(self) -> Vec<f64> {
        self.data
    }
}

/// Facts about a person that decide blocks and vetoes, independent of indicator values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Facts {
    /// Sanction-derived blocks: a warning in the year rules out the top grade; a sanction of
    /// 记过 or worse in effect gives no grade (不定等次).
    pub blocks: GradeBlocks,
    /// Number of routine (平时) assessments graded 较差 in the period.
    pub routine_poor: u32,
    /// Vetoes (一票否决) raised outside the indicator values, by code, e.g.
    /// `political_unfit` or `refused_assessment`. Each gives the worst grade.
    pub vetoes: Vec<String>,
}

/// One person assessed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Person id (e.g. the cadre code).
    pub person_id: String,
    /// Unit id: the default quota scope and the scope of `rank_in_unit`.
    pub unit_id: String,
    /// Optional quota group inside the scope (e.g. `leaders`), for a separate leaders' quota.
    #[serde(default)]
    pub quota_group: Option<String>,
    /// Facts that block grades or veto.
    #[serde(default)]
    pub facts: Facts,
}

impl Person {
    /// A person with no facts.
    pub fn new(person_id: impl Into<String>, unit_id: impl Into<String>) -> Self {
        Self {
            person_id: person_id.into(),
            unit_id: unit_id.into(),
            quota_group: None,
            facts: Facts::default(),
        }
    }
}

/// Past values of one column, for latent (潜功) credit over a multi-year window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Column (indicator) id.
    pub column: String,
    /// Number of past years held.
    pub years: usize,
    /// `years × people` values, year-major: `data[y * people + row]`, `y = 0` the year before
    /// the assessed one, `y = 1` two years before, and so on. `NaN` = missing.
    pub data: Vec<f64>,
}

/// Everything an assessment reads.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Input {
    /// The people, one per matrix row.
    pub people: Vec<Person>,
    /// Column ids of `values` (indicator ids, plus any auxiliary columns such as rating counts).
    pub columns: Vec<String>,
    /// Values of the assessed period, `people.len() × columns.len()`, column-major.
    pub values: Matrix,
    /// Baseline-period values for growth scoring, same shape as `values`; `None` when no
    /// indicator scores growth.
    pub baseline: Option<Matrix>,
    /// Past values for latent credit.
    pub history: Vec<History>,
}

impl Input {
    /// An input without baseline or history.
    pub fn new(people: Vec<Person>, columns: Vec<String>, values: Matrix) -> Self {
        Self {
            people,
            columns,
            values,
            baseline: None,
            history: Vec::new(),
        }
    }

    /// Checks that the parts agree in shape.
    pub fn validate(&self) -> Result<(), EngineError> {
        let n = self.people.len();
        if n == 0 {
            return Err(EngineError::Empty);
        }
        if self.values.rows() != n || self.values.cols() != self.columns.len() {
            return Err(EngineError::Shape(format!(
                "values are {} × {}, expected {n} people × {} columns",
                self.values.rows(),
                self.values.cols(),
                self.columns.len()
            )));
        }
        if let Some(b) = &self.baseline
            && (b.rows() != n || b.cols() != self.columns.len())
        {
            return Err(EngineError::Shape(format!(
                "baseline is {} × {}, expected {n} × {}",
                b.rows(),
                b.cols(),
                self.columns.len()
            )));
        }
        for h in &self.history {
            if h.years.checked_mul(n) != Some(h.data.len()) {
                return Err(EngineError::Shape(format!(
                    "history of `{}` holds {} values, expected {} years × {n} people",
                    h.column,
                    h.data.len(),
                    h.years
                )));
            }
        }
        Ok(())
    }

    /// Index of a column by id.
    pub fn column_index(&self, id: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_shape_is_checked_everywhere() {
        let m = Matrix::from_rows(&[vec![Some(1.0), None], vec![Some(3.0), Some(4.0)]])
            .expect("rectangular");
        assert_eq!(m.column(0), &[1.0, 3.0]);
        assert_eq!(m.get(0, 1), None);
        assert_eq!(m.get(1, 1), Some(4.0));
        assert_eq!(m.get(2, 0), None);
        assert!(m.column(5).is_empty());
        assert!(Matrix::from_col_major(2, 2, vec![1.0]).is_err());
        assert!(Matrix::from_columns(&[vec![1.0], vec![1.0, 2.0]]).is_err());
        let bad: Result<Matrix, _> = toml::from_str("rows = 2\ncols = 2\ndata = [1.0]");
        assert!(bad.is_err());
        let ok: Matrix = toml::from_str("rows = 1\ncols = 2\ndata = [1.0, 2.0]").expect("valid");
        assert_eq!(ok.cols(), 2);
    }
}
