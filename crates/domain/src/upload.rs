//! Files people upload (e.g. the evidence of an appeal): what kinds are accepted, judged by the
//! content and never by the name, how large they may be, and what name is kept.

use crate::labeled_enum;
use crate::labels::Labeled;

labeled_enum! {
    /// A kind of file accepted for upload.
    pub enum FileKind: "file kind" {
        /// PDF document.
        Pdf = ("pdf", "PDF 文档", "PDF document"),
        /// PNG image.
        Png = ("png", "PNG 图片", "PNG image"),
        /// JPEG photo.
        Jpeg = ("jpeg", "JPEG 照片", "JPEG photo"),
        /// Word document (Office Open XML).
        Docx = ("docx", "Word 文档", "Word document"),
        /// Excel workbook (Office Open XML).
        Xlsx = ("xlsx", "Excel 表格", "Excel workbook"),
    }
}

impl FileKind {
    /// The media type it is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// The kind of a file by its first bytes (magic numbers), `None` for anything else.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"%PDF-") {
            Some(FileKind::Pdf)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileKind::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileKind::Jpeg)
        } else if bytes.starts_with(b"PK\x03\x04") && contains(bytes, b"[Content_Types].xml") {
            // An Office Open XML package is a ZIP archive whose entry names are stored
            // uncompressed: the main part tells a document from a workbook.
            if contains(bytes, b"word/document.xml") {
                Some(FileKind::Docx)
            } else if contains(bytes, b"xl/workbook.xml") {
                Some(FileKind::Xlsx)
            } else {
                None
            }
        } else {
            None
        }
    }

    /// The file name extension it is saved with.
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Png => "png",
            FileKind::Jpeg => "jpg",
            FileKind::Docx => "docx",
            FileKind::Xlsx => "xlsx",
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Kinds accepted as evidence of an appeal of a bad review.
pub const APPEAL_KINDS: &[FileKind] = &[FileKind::Pdf, FileKind::Png, FileKind::Jpeg];

/// Kinds accepted as evidence of a work record (纪实): documents, photos and office files.
pub const RECORD_KINDS: &[FileKind] = &[
    FileKind::Pdf,
    FileKind::Png,
    FileKind::Jpeg,
    FileKind::Docx,
    FileKind::Xlsx,
];

impl FileKind {
    /// The labels of `kinds`, for messages (e.g. `PDF, PNG, JPEG`).
    fn list(kinds: &[FileKind]) -> String {
        kinds
            .iter()
            .map(|k| k.code().to_uppercase())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Limits of uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadPolicy {
    /// Largest file, in bytes (default 5 MiB).
    pub max_bytes: usize,
    /// Kinds accepted (default those of appeals: PDF, PNG, JPEG).
    pub kinds: &'static [FileKind],
}

impl Default for UploadPolicy {
    fn default() -> Self {
        Self {
            max_bytes: 5 * 1024 * 1024,
            kinds: APPEAL_KINDS,
        }
    }
}

/// Longest file name kept, in characters.
pub const MAX_NAME: usize = 100;

/// Why an upload is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// No bytes.
    #[error("the file {0:?} is empty")]
    Empty(String),
    /// Over the size limit.
    #[error("the file {name:?} is {size} bytes; at most {max} bytes are accepted")]
    TooLarge {
        /// File name.
        name: String,
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Not of an accepted kind by its content, whatever its name says.
    #[error("the file {name:?} is not one of {accepted} by its content")]
    Kind {
        /// File name.
        name: String,
        /// The accepted kinds, listed.
        accepted: String,
    },
}

/// An accepted upload: its kind by content and the name to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Kind, from the content.
    pub kind: FileKind,
    /// The name without any directory, control characters or quotes, at most [`MAX_NAME`]
    /// characters (`upload` when nothing is left).
    pub name: String,
}

/// Checks an upload named `name` with content `bytes`.
pub fn check_upload(
    name: &str,
    bytes: &[u8],
    policy: &UploadPolicy,
) -> Result<Accepted, UploadError> {
    let clean = clean_name(name);
    if bytes.is_empty() {
        return Err(UploadError::Empty(clean));
    }
    if bytes.len() > policy.max_bytes {
        return Err(UploadError::TooLarge {
            name: clean,
            size: bytes.len(),
            max: policy.max_bytes,
        });
    }
    let kind = FileKind::sniff(bytes)
        .filter(|k| policy.kinds.contains(k))
        .ok_or_else(|| UploadError::Kind {
            name: clean.clone(),
            accepted: FileKind::list(policy.kinds),
        })?;
    Ok(Accepted { kind, name: clean })
}

/// The last path component of `name`, without control characters, quotes or backslashes.
fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\'' | ';'))
        .take(MAX_NAME)
        .collect();
    let kept = kept.trim().trim_start_matches('.').to_owned();
    if kept.is_empty() {
        "upload".to_owned()
    } else {
        kept
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kinds_come_from_the_content_not_the_name() {
        let p = UploadPolicy::default();
        let png = b"\x89PNG\r\n\x1a\nrest";
        assert_eq!(check_upload("x.pdf", png, &p).unwrap().kind, FileKind::Png);
        assert_eq!(
            check_upload("a.jpg", &[0xFF, 0xD8, 0xFF, 0xE0], &p)
                .unwrap()
                .kind,
            FileKind::Jpeg
        );
        assert_eq!(
            check_upload("a", b"%PDF-1.7\n", &p).unwrap().kind,
            FileKind::Pdf
        );
        assert_eq!(
            check_upload("photo.png", b"MZ\x90\x00 an executable", &p),
            Err(UploadError::Kind {
                name: "photo.png".into(),
                accepted: "PDF, PNG, JPEG".into()
            })
        );
        let docx = b"PK\x03\x04....[Content_Types].xml....word/document.xml";
        assert!(check_upload("a.docx", docx, &p).is_err());
        let records = UploadPolicy {
            kinds: RECORD_KINDS,
            ..p
        };
        assert_eq!(
            check_upload("a.bin", docx, &records).unwrap().kind,
            FileKind::Docx
        );
        let xlsx = b"PK\x03\x04....[Content_Types].xml....xl/workbook.xml";
        assert_eq!(
            check_upload("a", xlsx, &records).unwrap().kind,
            FileKind::Xlsx
        );
        assert!(check_upload("a.zip", b"PK\x03\x04 plain zip", &records).is_err());
        assert_eq!(
            check_upload("a.png", b"", &p),
            Err(UploadError::Empty("a.png".into()))
        );
        let big = vec![0xFFu8; 11];
        assert!(matches!(
            check_upload("b.jpg", &big, &UploadPolicy { max_bytes: 10, ..p }),
            Err(UploadError::TooLarge {
                size: 11,
                max: 10,
                ..
            })
        ));
    }

    #[test]
    fn names_lose_their_directories_and_dangerous_characters() {
        let p = UploadPolicy::default();
        let png = b"\x89PNG\r\n\x1a\n";
        assert_eq!(
            check_upload("../../etc/passwd", png, &p).unwrap().name,
            "passwd"
        );
        assert_eq!(
            check_upload("C:\\证据\\录像截图.png", png, &p)
                .unwrap()
                .name,
            "录像截图.png"
        );
        assert_eq!(
            check_upload("a\"b\r\n.png", png, &p).unwrap().name,
            "ab.png"
        );
        assert_eq!(check_upload("..", png, &p).unwrap().name, "upload");
        assert_eq!(check_upload(".hidden", png, &p).unwrap().name, "hidden");
    }

    proptest! {
        #[test]
        fn kept_names_are_short_and_plain(name in "\\PC{0,300}") {
            let n = clean_name(&name);
            prop_assert!(!n.is_empty() && n.chars().count() <= MAX_NAME);
            prop_assert!(!n.contains(['/', '\\', '"', '\'', ';']));
            prop_assert!(!n.chars().any(char::is_control));
            prop_assert!(!n.starts_with('.'));
        }
    }
}
