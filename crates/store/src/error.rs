//! Store errors.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database.
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// The database refused or failed a statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database refused or failed a statement of a bulk import (SQLite).
    #[error("database error: {0}")]
    Bulk(#[from] rusqlite::Error),
    /// A bulk import's blocking thread ended without an answer.
    #[error("the import stopped: {0}")]
    Worker(#[from] tokio::task::JoinError),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The change conflicts with the stored state (another step came first, a version is
    /// taken): the message says what.
    #[error("{0}")]
    Conflict(String),
    /// An account rule refused the change (the last holder of an administrator role).
    #[error(transparent)]
    Role(#[from] kaohe_domain::access::RoleError),
    /// The decider proposed, filed or worked the matter (four eyes): another account must
    /// decide it.
    #[error(transparent)]
    FourEyes(#[from] kaohe_domain::access::FourEyesError),
    /// The operating system gave no random bytes (the key of a ballot).
    #[error("no randomness from the operating system: {0}")]
    Randomness(String),
    /// A poll definition that cannot be run.
    #[error(transparent)]
    Poll(#[from] kaohe_domain::polls::PollError),
    /// A pooled ballot that does not decrypt: another ballot key, or changed.
    #[error("{0}")]
    Pool(#[from] kaohe_domain::polls::PoolError),
    /// The ballot key file cannot be read, written or used.
    #[error("ballot key file {path}: {reason}")]
    BallotKeyFile {
        /// The key file.
        path: std::path::PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A paper count that does not fit its poll.
    #[error(transparent)]
    Paper(#[from] kaohe_domain::polls::PaperError),
    /// A stored value does not parse as its domain type: the database was changed outside kaohe.
    #[error("corrupt stored value in {table}.{column}: {reason}")]
    Corrupt {
        /// Table.
        table: &'static str,
        /// Column.
        column: &'static str,
        /// Why it does not parse.
        reason: String,
    },
}
