//! Uploaded files kept as evidence (of appeals of bad reviews, of work records): what is stored
//! of them, and where their content lives ([`Vault`]: in the database, or in a directory by
//! content hash, checked on every read).

use crate::StoreError;
use crate::sql::label;
use kaohe_domain::upload::FileKind;
use sha2::Digest;
use std::path::PathBuf;

/// An evidence file to store, already checked (`kaohe_domain::upload::check_upload`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    /// Name to keep.
    pub name: String,
    /// Kind, from the content.
    pub kind: FileKind,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// The content.
    pub bytes: Vec<u8>,
}

impl NewFile {
    /// A checked upload with its hash computed here.
    pub fn new(name: String, kind: FileKind, bytes: Vec<u8>) -> Self {
        Self {
            name,
            kind,
            sha256: sha256_hex(&bytes),
            bytes,
        }
    }
}

/// A stored evidence file, without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// Number given by the store.
    pub id: i64,
    /// Name kept.
    pub name: String,
    /// Kind.
    pub kind: FileKind,
    /// Size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
}

pub(crate) fn file_info(
    table: &'static str,
    id: i64,
    name: String,
    kind: &str,
    size: i64,
    sha256: String,
) -> Result<FileInfo, StoreError> {
    Ok(FileInfo {
        id,
        name,
        kind: label(table, "kind", kind)?,
        size: u64::try_from(size).unwrap_or_default(),
        sha256,
    })
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where the content of evidence files lives: in the database (the default) or in a directory,
/// one file per content hash (`ab/abcdef…`). Either way the hash is checked on every read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Vault {
    /// In the database, beside the file's record.
    #[default]
    Database,
    /// In this directory, named by content hash.
    Directory(PathBuf),
}

/// Why a stored file cannot be given back.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The content no longer matches the hash it was stored with.
    #[error(
        "evidence file {id} ({name}) has been changed since it was stored: its SHA-256 no longer matches"
    )]
    Changed {
        /// The file.
        id: i64,
        /// Its name.
        name: String,
    },
    /// The content is missing.
    #[error("evidence file {id} ({name}) is missing from the evidence store")]
    Missing {
        /// The file.
        id: i64,
        /// Its name.
        name: String,
    },
    /// The directory could not be read or written.
    #[error("evidence directory {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

impl Vault {
    fn path_of(dir: &std::path::Path, sha256: &str) -> PathBuf {
        dir.join(sha256.get(..2).unwrap_or("00")).join(sha256)
    }

    /// Keeps the contents of `files` where the vault says: in a directory, written (atomically,
    /// by hash, so a write that a failed transaction leaves behind is harmless) before the
    /// database rows; returns what the database keeps of each (`None`: kept in the directory).
    pub fn keep(&self, files: &[NewFile]) -> Result<Vec<Option<Vec<u8>>>, VaultError> {
        match self {
            Vault::Database => Ok(files.iter().map(|f| Some(f.bytes.clone())).collect()),
            Vault::Directory(dir) => {
                for f in files {
                    let path = Self::path_of(dir, &f.sha256);
                    let io = |source| VaultError::Io {
                        path: path.display().to_string(),
                        source,
                    };
                    if path.exists() {
                        continue;
                    }
                    let parent = path.parent().unwrap_or(dir);
                    std::fs::create_dir_all(parent).map_err(io)?;
                    let tmp = parent.join(format!(".{}.part", f.sha256));
                    std::fs::write(&tmp, &f.bytes).map_err(io)?;
                    std::fs::rename(&tmp, &path).map_err(io)?;
                }
                Ok(vec![None; files.len()])
            }
        }
    }

    /// The content of a stored file (`stored`: what the database kept), its hash checked.
    pub fn read(&self, info: &FileInfo, stored: Option<Vec<u8>>) -> Result<Vec<u8>, VaultError> {
        let bytes = match (stored, self) {
            (Some(b), _) => b,
            (None, Vault::Directory(dir)) => {
                let path = Self::path_of(dir, &info.sha256);
                match std::fs::read(&path) {
                    Ok(b) => b,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Err(VaultError::Missing {
                            id: info.id,
                            name: info.name.clone(),
                        });
                    }
                    Err(source) => {
                        return Err(VaultError::Io {
                            path: path.display().to_string(),
                            source,
                        });
                    }
                }
            }
            (None, Vault::Database) => {
                return Err(VaultError::Missing {
                    id: info.id,
                    name: info.name.clone(),
                });
            }
        };
        if sha256_hex(&bytes) != info.sha256 {
            return Err(VaultError::Changed {
                id: info.id,
                name: info.name.clone(),
            });
        }
        Ok(bytes)
    }
}
