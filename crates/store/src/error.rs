//! Errors of the store. Each says what happened and, where an operator has to
//! act, what to do. `Clone`, because one failed flush is reported to every
//! waiter of its group.

use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error(
        "data directory {dir} is in use by another running process{holder}: stop that process \
         (e.g. `systemctl stop hallcall`) and start again, or give this one another data directory"
    )]
    Locked { dir: PathBuf, holder: String },

    #[error(
        "data directory {dir} was written by a newer hallcall (store format {found}; this build \
         reads format {supported} and older): run the newer hallcall, or restore a backup made by \
         this version into an empty directory; nothing was changed"
    )]
    NewerFormat {
        dir: PathBuf,
        found: u32,
        supported: u32,
    },

    #[error(
        "data directory {dir} is corrupt: {detail}. Nothing was changed. Move the directory aside \
         (keep it for inspection) and restore the latest backup into a new, empty directory \
         (`hallcall restore <backup> <dir>`)"
    )]
    Corrupt { dir: PathBuf, detail: String },

    #[error(
        "{dir} is not a hallcall data directory ({detail}): point hallcall at an empty directory \
         or at an existing hallcall data directory"
    )]
    Foreign { dir: PathBuf, detail: String },

    #[error("storage error in {dir}: {detail}")]
    Io { dir: PathBuf, detail: String },

    #[error("append to hall {hall} out of order: expected seq {expected}, got {got}")]
    OutOfOrder {
        hall: String,
        expected: u64,
        got: u64,
    },

    #[error("invalid request to the store: {0}")]
    Invalid(String),

    #[error(
        "hall {0}: an earlier write to the store failed, so its state in memory may hold events \
         the disk does not; recover the hall (Store::recover) before appending again"
    )]
    Poisoned(String),

    #[error("the store is shut down")]
    Closed,

    #[error(
        "{0} exists and is not empty: a backup or restore is written into a new, empty directory"
    )]
    TargetNotEmpty(PathBuf),
}

impl StoreError {
    /// Whether an operator must act before the store can be used (the data
    /// directory is locked, newer, corrupt or foreign).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            StoreError::Locked { .. }
                | StoreError::NewerFormat { .. }
                | StoreError::Corrupt { .. }
                | StoreError::Foreign { .. }
        )
    }
}
