//! Errors of the engine. Nothing an input can contain makes the engine panic: every problem
//! comes back as one of these.

use std::fmt;

/// One problem found in a framework file, located by line and key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// 1-based line in the TOML source, when known.
    pub line: Option<usize>,
    /// 1-based column in the TOML source, when known.
    pub column: Option<usize>,
    /// Key path, e.g. `dimensions[2].indicators[0].weight`.
    pub key: String,
    /// What is wrong, in English.
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: ")?,
            (Some(l), None) => write!(f, "line {l}: ")?,
            _ => {}
        }
        if !self.key.is_empty() {
            write!(f, "`{}`: ", self.key)?;
        }
        f.write_str(&self.message)
    }
}

/// A framework file that cannot be used. Holds every problem found, not only the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FrameworkError {
    /// The problems, in file order.
    pub issues: Vec<Issue>,
}

impl fmt::Display for FrameworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.issues.as_slice() {
            [] => f.write_str("invalid framework"),
            [one] => write!(f, "invalid framework: {one}"),
            many => {
                write!(f, "invalid framework ({} problems):", many.len())?;
                for i in many {
                    write!(f, "\n  {i}")?;
                }
                Ok(())
            }
        }
    }
}

/// Why an assessment or a Monte Carlo run could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// The input has no column for an indicator of the framework.
    #[error("the input has no column for indicator `{indicator}`")]
    MissingColumn {
        /// Indicator id.
        indicator: String,
    },
    /// A column referenced by an indicator option (e.g. the rating count of a shrunk
    /// indicator) is not in the input.
    #[error("indicator `{indicator}` needs input column `{column}`, which is missing")]
    MissingAuxColumn {
        /// Indicator id.
        indicator: String,
        /// Column that is missing.
        column: String,
    },
    /// A value is missing and the indicator's missing-value rule is `error`.
    #[error("indicator `{indicator}` has no value for person `{person}` and its rule is `error`")]
    MissingValue {
        /// Indicator id.
        indicator: String,
        /// Person id.
        person: String,
    },
    /// The shapes of the input parts disagree.
    #[error("input shape: {0}")]
    Shape(String),
    /// A setting is out of range.
    #[error("settings: {0}")]
    Settings(String),
    /// The input holds no person.
    #[error("the input holds no person")]
    Empty,
    /// A value is infinite (missing values are NaN, never infinite).
    #[error("indicator `{indicator}` has an infinite value for person `{person}`")]
    Infinite {
        /// Indicator or column id.
        indicator: String,
        /// Person id.
        person: String,
    },
}
