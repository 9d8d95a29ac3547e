//! Enumerations with a stable English code, a Chinese label and an English label.
//!
//! The code is what the database stores and the API speaks; the labels are what people read.
//! Imports accept any of the three (case-insensitive for the English ones).

/// A text that names no value of the enumeration it was parsed as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {what}; expected one of: {expected}")]
pub struct ParseLabelError {
    /// What was being parsed, e.g. "gender".
    pub what: &'static str,
    /// The text that did not match.
    pub value: String,
    /// The accepted values, Chinese labels first.
    pub expected: String,
}

/// An enumeration whose values carry a code and labels in both languages.
pub trait Labeled: Sized + Copy + 'static {
    /// What the enumeration names, for error messages.
    const WHAT: &'static str;
    /// Every value, in display order.
    const ALL: &'static [Self];
    /// Stable English code, stored and exchanged.
    fn code(self) -> &'static str;
    /// Chinese label (the default in the UI and in exports).
    fn zh(self) -> &'static str;
    /// English label.
    fn en(self) -> &'static str;
    /// The label in a language: `"en"` for English, anything else for Chinese.
    fn label(self, lang: &str) -> &'static str {
        if lang == "en" { self.en() } else { self.zh() }
    }
    /// Parses a code or a label in either language.
    fn parse_label(s: &str) -> Result<Self, ParseLabelError> {
        let t = s.trim();
        Self::ALL
            .iter()
            .copied()
            .find(|v| {
                v.zh() == t || v.code().eq_ignore_ascii_case(t) || v.en().eq_ignore_ascii_case(t)
            })
            .ok_or_else(|| ParseLabelError {
                what: Self::WHAT,
                value: t.to_owned(),
                expected: Self::ALL
                    .iter()
                    .map(|v| format!("{}/{}", v.zh(), v.code()))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// Defines a fieldless enum implementing [`Labeled`], `Display` (the code) and serde as the code.
#[macro_export]
macro_rules! labeled_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = ($code:literal, $zh:literal, $en:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $crate::labels::Labeled for $name {
            const WHAT: &'static str = $what;
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn code(self) -> &'static str {
                match self { $(Self::$variant => $code),+ }
            }
            fn zh(self) -> &'static str {
                match self { $(Self::$variant => $zh),+ }
            }
            fn en(self) -> &'static str {
                match self { $(Self::$variant => $en),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::labels::Labeled::code(*self))
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::labels::ParseLabelError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <Self as $crate::labels::Labeled>::parse_label(s)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($crate::labels::Labeled::code(*self))
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                <Self as $crate::labels::Labeled>::parse_label(&s).map_err(::serde::de::Error::custom)
            }
        }
    };
}
