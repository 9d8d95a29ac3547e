//! Ballot codes (一评一码): one per rater, good for one ballot.
//!
//! A code is 12 characters from a 32-character alphabet without the characters people confuse
//! on a slip or a phone keyboard (no `0`, `1`, `I`, `O`): 60 bits drawn from the operating
//! system's random source by the caller (the domain does no IO), printed in three groups of
//! four (`K7QM-3XPA-9TRD`). Typing accepts lower case, spaces and hyphens.
//!
//! Guessing: a poll holds at most [`super::MAX_CODES_PER_GROUP`] codes per group, so at most a
//! few tens of thousands of valid codes, about 2^15 among 2^60. One guess hits with probability
//! 2^15 / 2^60 = 2^-45 ≈ 2.8 × 10^-14. Even an attacker with 10,000 addresses, each at the
//! voting page's rate limit (10 attempts a minute), makes 1.44 × 10^8 guesses a day, and over
//! a poll open for 30 days about 4.3 × 10^9 guesses: the chance of hitting one code is about
//! 1.2 × 10^-4. docs/polls.md shows the arithmetic.
//!
//! Only a hash of each code is stored ([`code_hash`]): SHA-256 over a tag, the poll's id and
//! the code, so a code of one poll never matches another poll's hash.

use crate::Code;
use sha2::{Digest, Sha256};
use std::fmt;

/// The 32 characters of a code: digits 2–9 and the letters without `I` and `O`.
pub const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Characters of a code, without separators.
pub const CODE_LEN: usize = 12;

/// Random bits in a code (5 a character).
pub const CODE_BITS: u32 = 5 * CODE_LEN as u32;

/// A well-formed ballot code: 12 characters of [`ALPHABET`], upper case, no separators.
#[derive(Clone, PartialEq, Eq)]
pub struct BallotCode(String);

/// Why a typed text is not a ballot code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeFormatError {
    /// Too few or too many characters.
    #[error("a ballot code has {CODE_LEN} characters (hyphens and spaces aside), not {0}")]
    Length(usize),
    /// A character outside the alphabet.
    #[error("a ballot code holds only digits 2–9 and letters other than I and O")]
    Character,
}

impl BallotCode {
    /// The code of 8 random bytes (the first 60 bits are used).
    pub fn from_random(random: &[u8; 8]) -> Self {
        let bits = u64::from_be_bytes(*random) >> 4;
        let text = (0..CODE_LEN)
            .map(|i| {
                let shift = 5 * (CODE_LEN - 1 - i);
                char::from(ALPHABET[((bits >> shift) & 31) as usize])
            })
            .collect();
        Self(text)
    }

    /// Parses a typed or scanned code: case, spaces and hyphens do not matter.
    pub fn parse(text: &str) -> Result<Self, CodeFormatError> {
        let mut out = String::with_capacity(CODE_LEN);
        for c in text.chars() {
            if c == '-' || c == ' ' {
                continue;
            }
            let c = c.to_ascii_uppercase();
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return Err(CodeFormatError::Character);
            }
            out.push(c);
        }
        if out.len() != CODE_LEN {
            return Err(CodeFormatError::Length(out.len()));
        }
        Ok(Self(out))
    }

    /// The code without separators.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code as printed: three groups of four characters.
    pub fn printed(&self) -> String {
        let s = &self.0;
        format!("{}-{}-{}", &s[..4], &s[4..8], &s[8..])
    }
}

/// Never shows the code itself, so that a code cannot reach a log line by `{:?}`.
impl fmt::Debug for BallotCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BallotCode(…)")
    }
}

/// What is stored of a code: hex SHA-256 over a tag, the poll's id and the code.
pub fn code_hash(poll: &Code, code: &BallotCode) -> String {
    let mut h = Sha256::new();
    h.update(b"kaohe-poll-code-v1\0");
    h.update(poll.as_str().as_bytes());
    h.update(b"\0");
    h.update(code.as_str().as_bytes());
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_round_trip_through_typing() {
        let c = BallotCode::from_random(&[0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]);
        assert_eq!(c.as_str().len(), CODE_LEN);
        let typed = c.printed().to_ascii_lowercase().replace('-', " ");
        assert_eq!(BallotCode::parse(&typed), Ok(c.clone()));
        assert_eq!(format!("{c:?}"), "BallotCode(…)");
        assert_eq!(
            BallotCode::parse("ABCD-EFGH-JKL"),
            Err(CodeFormatError::Length(11))
        );
        assert_eq!(
            BallotCode::parse("ABCD-EFGH-JKL0"),
            Err(CodeFormatError::Character)
        );
        assert_eq!(
            BallotCode::parse("ABCD-EFGH-JKLÖ"),
            Err(CodeFormatError::Character)
        );
    }

    #[test]
    fn every_bit_reaches_the_code() {
        let zero = BallotCode::from_random(&[0; 8]);
        assert_eq!(zero.as_str(), "222222222222");
        let mut seen = std::collections::BTreeSet::new();
        for bit in 4..64 {
            let mut r = [0u8; 8];
            let v = 1u64 << bit;
            r.copy_from_slice(&v.to_be_bytes());
            assert!(seen.insert(BallotCode::from_random(&r).0), "bit {bit}");
        }
    }

    #[test]
    fn hashes_differ_by_poll() {
        let c = BallotCode::parse("K7QM3XPA9TRD").unwrap();
        let a = code_hash(&Code::parse("P1").unwrap(), &c);
        let b = code_hash(&Code::parse("P2").unwrap(), &c);
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
