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

/// The positions of `codes` in code order, equal codes in their given order (a stable sort).
/// Sorts a compact key of each code's first 16 bytes, so that millions of codes sort without
/// reaching into each one's text; codes whose keys tie are compared whole.
pub fn code_order<'a>(codes: impl IntoIterator<Item = &'a Code>) -> Vec<usize> {
    let codes: Vec<&Code> = codes.into_iter().collect();
    sorted_keys(&codes).into_iter().map(|(_, i)| i).collect()
}

/// The positions of the codes given more than once, each with the position of its first: for
/// every code, its later occurrences (in the given order) paired with its first, ordered by code.
pub fn repeated_codes<'a>(codes: impl IntoIterator<Item = &'a Code>) -> Vec<(usize, usize)> {
    let codes: Vec<&Code> = codes.into_iter().collect();
    let keys = sorted_keys(&codes);
    let mut repeated = Vec::new();
    let mut first = None;
    for pair in keys.windows(2) {
        let ((ka, a), (kb, b)) = (pair[0], pair[1]);
        if ka == kb && codes[a] == codes[b] {
            repeated.push((b, *first.get_or_insert(a)));
        } else {
            first = None;
        }
    }
    repeated
}

/// Each code's [`prefix_key`] and position, in code order (equal codes by position).
fn sorted_keys(codes: &[&Code]) -> Vec<(u128, usize)> {
    let mut keys: Vec<(u128, usize)> = codes
        .iter()
        .enumerate()
        .map(|(i, c)| (prefix_key(c.as_str()), i))
        .collect();
    keys.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| codes[a.1].cmp(codes[b.1]))
            .then(a.1.cmp(&b.1))
    });
    keys
}

/// The first 16 bytes of `s`, zero-padded, as a big-endian number: `prefix_key(a) <
/// prefix_key(b)` only when `a < b`.
fn prefix_key(s: &str) -> u128 {
    let mut key = [0u8; 16];
    let n = s.len().min(16);
    key[..n].copy_from_slice(&s.as_bytes()[..n]);
    u128::from_be_bytes(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn code_order_is_a_stable_sort_by_code(
            raw in prop::collection::vec("[A-C0-2]{1,3}|BJ2025-[0-9]{7}[A-Z]{0,12}|[a-z\u{4e00}-\u{4e03}]{1,20}", 0..60)
        ) {
            let codes: Vec<Code> = raw.iter().map(|s| Code::parse(s).expect("a code")).collect();
            let mut expected: Vec<usize> = (0..codes.len()).collect();
            expected.sort_by(|&a, &b| codes[a].cmp(&codes[b]));
            prop_assert_eq!(code_order(&codes), expected);
        }

        #[test]
        fn repeated_codes_pair_each_later_occurrence_with_the_first(
            raw in prop::collection::vec("[A-C]{1,2}|BJ2025-000000[0-3]", 0..40)
        ) {
            let codes: Vec<Code> = raw.iter().map(|s| Code::parse(s).expect("a code")).collect();
            let mut expected: Vec<(usize, usize)> = (0..codes.len())
                .filter_map(|i| {
                    let first = codes.iter().position(|c| *c == codes[i])?;
                    (first < i).then_some((i, first))
                })
                .collect();
            expected.sort_by(|a, b| codes[a.0].cmp(&codes[b.0]).then(a.0.cmp(&b.0)));
            prop_assert_eq!(repeated_codes(&codes), expected);
        }
    }

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
