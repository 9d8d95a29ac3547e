//! Identifiers that come from outside: unit codes, cadre ids, sanction ids.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest accepted identifier, in characters.
pub const MAX_CODE_LEN: usize = 64;

/// Why a string is not a valid [`Code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// The identifier is empty (or only white space).
    #[error("identifier is empty")]
    Empty,
    /// The identifier is longer than [`MAX_CODE_LEN`] characters.
    #[error("identifier is longer than {MAX_CODE_LEN} characters")]
    TooLong,
    /// The identifier holds white space or a control character.
    #[error("identifier {0:?} contains white space or a control character")]
    BadChar(String),
}

/// A validated external identifier (编码): non-empty, at most 64 characters, no white space
/// or control characters. Units are keyed by their code (e.g. an administrative division code),
/// cadres and sanctions by the id their source system gives them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Code(String);

impl Code {
    /// Parses an identifier, trimming surrounding white space.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(CodeError::Empty);
        }
        if s.chars().count() > MAX_CODE_LEN {
            return Err(CodeError::TooLong);
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(CodeError::BadChar(s.to_owned()));
        }
        Ok(Self(s.to_owned()))
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Code {
    type Error = CodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Code> for String {
    fn from(c: Code) -> Self {
        c.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_rejects() {
        assert_eq!(
            Code::parse(" 340102 ").map(String::from),
            Ok("340102".into())
        );
        assert_eq!(Code::parse("  "), Err(CodeError::Empty));
        assert!(matches!(Code::parse("a b"), Err(CodeError::BadChar(_))));
        assert_eq!(Code::parse(&"x".repeat(65)), Err(CodeError::TooLong));
        assert!(Code::parse(&"编".repeat(64)).is_ok());
    }
}
