//! The ballot key file (选票密钥文件): where the deployment's ballot key
//! (`kaohe_domain::polls::BallotKey`) is kept, outside the database, readable by the account
//! that runs kaohe alone.

use super::new_ballot_key;
use crate::{Store, StoreError};
use kaohe_domain::polls::BallotKey;
use std::io::Write as _;
use std::path::Path;

fn failed(path: &Path, reason: impl std::fmt::Display) -> StoreError {
    StoreError::BallotKeyFile {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

/// The ballot key in `path`; created there (mode 0600) when there is no such file and no
/// ballot waits in the pool. With ballots in the pool a missing file is an error: a new key
/// would leave them unreadable, so the file must be restored instead.
///
/// # Errors
/// [`StoreError::BallotKeyFile`] when the file cannot be read or written, holds no key, or is
/// missing while ballots wait in the pool.
pub async fn load_or_create(path: &Path, store: &dyn Store) -> Result<BallotKey, StoreError> {
    match std::fs::read_to_string(path) {
        Ok(text) => return read(path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(failed(path, e)),
    }
    let pooled = store.pooled_ballots().await?;
    if pooled > 0 {
        return Err(failed(
            path,
            format!(
                "missing, and {pooled} ballots of open polls wait in the pool encrypted under \
                 the key it held: restore the file (a new key could not read them)"
            ),
        ));
    }
    let key = new_ballot_key()?;
    create(path, &key)?;
    tracing::info!(path = %path.display(), key = %key.id(), "created the ballot key file");
    // Another process may have created it first: the file decides.
    let text = std::fs::read_to_string(path).map_err(|e| failed(path, e))?;
    read(path, &text)
}

fn read(path: &Path, text: &str) -> Result<BallotKey, StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                "the ballot key file can be read by other accounts: chmod 600 it"
            );
        }
    }
    BallotKey::parse(text).map_err(|e| failed(path, e))
}

/// Writes the key to a file of its own and links it into place, so that `path` either does not
/// exist or holds a whole key, and an existing file is never replaced.
fn create(path: &Path, key: &BallotKey) -> Result<(), StoreError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| failed(path, e))?;
    let name = path
        .file_name()
        .map_or_else(|| "ballot-key".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(key.to_file_text().as_bytes())?;
        f.sync_all()
    });
    let linked = written.and_then(|()| match std::fs::hard_link(&tmp, path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    });
    let removed = std::fs::remove_file(&tmp);
    linked.map_err(|e| failed(path, e))?;
    removed.map_err(|e| failed(&tmp, e))
}
