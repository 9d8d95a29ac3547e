//! Which characters a text kaohe receives may hold: one rule for every field of every route,
//! file and command.
//!
//! Refused: control characters other than tab, line feed and carriage return (NUL among them,
//! which PostgreSQL cannot store in `TEXT`), the bidirectional formatting characters (they can
//! make a name or comment read differently from what is stored: `U+202E` turns `exe.txt` into
//! `txt.exe` on screen), and the zero-width characters (they make two names that look the same
//! different, or hide text).

use std::fmt;

/// Why a character may not be in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forbidden {
    /// A control character (C0 other than tab, LF, CR; DEL; C1), NUL among them.
    Control,
    /// A bidirectional formatting character (embedding, override, isolate, mark).
    Bidi,
    /// A zero-width or invisible formatting character.
    Invisible,
}

impl Forbidden {
    /// Why `c` is not allowed, if it is not.
    pub fn of(c: char) -> Option<Forbidden> {
        match c {
            '\t' | '\n' | '\r' => None,
            c if c.is_control() => Some(Forbidden::Control),
            '\u{061C}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}' => Some(Forbidden::Bidi),
            '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' => {
                Some(Forbidden::Invisible)
            }
            _ => None,
        }
    }
}

/// A text with a character it may not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {kind} U+{code:04X} at character {position} is not allowed", code = u32::from(*.character))]
pub struct TextError {
    /// The field (a form field, a JSON path, a column).
    pub field: String,
    /// The character.
    pub character: char,
    /// What kind of character.
    pub kind: Forbidden,
    /// Its position, counted in characters from 1.
    pub position: usize,
}

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Forbidden::Control => "the control character",
            Forbidden::Bidi => "the bidirectional formatting character",
            Forbidden::Invisible => "the invisible character",
        })
    }
}

/// Checks that `text`, the value of `field`, holds no forbidden character.
pub fn check_text(field: &str, text: &str) -> Result<(), TextError> {
    match text
        .chars()
        .enumerate()
        .find_map(|(i, c)| Forbidden::of(c).map(|kind| (i, c, kind)))
    {
        Some((i, character, kind)) => Err(TextError {
            field: field.to_owned(),
            character,
            kind,
            position: i + 1,
        }),
        None => Ok(()),
    }
}

/// Whether `bytes` (UTF-8 or JSON text) may hold a forbidden character, raw or as a JSON
/// `\u` escape: a quick test before a closer look.
pub fn may_hold_forbidden(bytes: &[u8]) -> bool {
    let raw = String::from_utf8_lossy(bytes);
    raw.chars().any(|c| Forbidden::of(c).is_some()) || bytes.windows(2).any(|w| w == b"\\u")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn control_bidi_and_invisible_characters_are_refused_with_their_field() {
        assert!(check_text("comment", "办事很快\n谢谢\t!").is_ok());
        let e = check_text("comment", "好\0评").unwrap_err();
        assert_eq!((e.kind, e.position), (Forbidden::Control, 2));
        assert_eq!(
            e.to_string(),
            "comment: the control character U+0000 at character 2 is not allowed"
        );
        assert_eq!(
            check_text("applicant", "赵\u{202E}女士").unwrap_err().kind,
            Forbidden::Bidi
        );
        assert_eq!(
            check_text("applicant", "赵\u{200B}女士").unwrap_err().kind,
            Forbidden::Invisible
        );
        assert_eq!(
            check_text("x", "\u{7F}").unwrap_err().kind,
            Forbidden::Control
        );
        assert!(may_hold_forbidden(br#"{"a":"\u0000"}"#));
        assert!(may_hold_forbidden("赵\u{2066}".as_bytes()));
        assert!(!may_hold_forbidden(r#"{"a":"赵女士"}"#.as_bytes()));
    }
}
