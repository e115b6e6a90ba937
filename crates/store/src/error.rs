//! Errors of the store. Each says what happened and, where an operator has to
//! act, what to do. `Clone`, because one failed flush is reported to every
//! waiter of its group.

use std::path::{Path, PathBuf};

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

    #[error(
        "data directory {dir} holds events but its COMMIT file (the record of the last flush \
         that returned) is missing, so nothing shows whether the database lost its newest \
         events (e.g. a disk image rolled back). Nothing was changed. Restore the latest backup \
         into a new, empty directory (`hallcall restore`), or, to accept the data exactly as it \
         is, run `hallcall accept-store {dir}` and start again"
    )]
    WitnessMissing { dir: PathBuf },

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

    #[error(
        "hall {hall}: another writer appended to this hall ({detail}); this process stopped \
         writing it: recover the hall (Store::recover) to continue from what was written"
    )]
    Conflict { hall: String, detail: String },

    /// Several nodes: the append was not written because this node does
    /// not hold the hall's lease (it lapsed, or was handed to another node).
    /// Nothing of it is in the log; another node writes the hall now.
    #[error(
        "hall {hall}: this node does not hold the hall's lease, so nothing was written; \
         the node that does answers for the hall"
    )]
    NotOwner { hall: String },

    #[error("database {db}: {detail}")]
    Database { db: String, detail: String },

    #[error(
        "the store in {dir} cannot write ({detail}): commands are refused, changing nothing, \
         until a write succeeds again; free disk space — hallcall retries by itself"
    )]
    Unavailable { dir: PathBuf, detail: String },

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
                | StoreError::WitnessMissing { .. }
        )
    }
}

/// Maps a sled error met while running (not while opening: see
/// [`open_error`]).
pub(crate) fn sled_error(dir: &Path, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Corruption { at, .. } => StoreError::Corrupt {
            dir: dir.to_path_buf(),
            detail: format!("sled reports corruption at {at:?}"),
        },
        other => StoreError::Io {
            dir: dir.to_path_buf(),
            detail: other.to_string(),
        },
    }
}

/// Maps a sled error met while opening the database: there a lock error
/// means another process, and anything else means the files cannot be
/// trusted.
pub(crate) fn open_error(dir: &Path, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(ref io) if io.to_string().contains("could not acquire lock") => {
            StoreError::Locked {
                dir: dir.to_path_buf(),
                holder: String::new(),
            }
        }
        sled::Error::Io(io) => StoreError::Io {
            dir: dir.to_path_buf(),
            detail: format!("cannot open the database: {io}"),
        },
        sled::Error::Corruption { at, .. } => StoreError::Corrupt {
            dir: dir.to_path_buf(),
            detail: format!("sled found a damaged record at {at:?}"),
        },
        sled::Error::Unsupported(why) => StoreError::Corrupt {
            dir: dir.to_path_buf(),
            detail: format!("sled cannot open it: {why}"),
        },
        other => StoreError::Corrupt {
            dir: dir.to_path_buf(),
            detail: format!("sled cannot open it: {other}"),
        },
    }
}

pub(crate) fn io_error(dir: &Path, what: &str, e: std::io::Error) -> StoreError {
    StoreError::Io {
        dir: dir.to_path_buf(),
        detail: format!("{what}: {e}"),
    }
}

pub(crate) fn corrupt(dir: &Path, detail: String) -> StoreError {
    StoreError::Corrupt {
        dir: dir.to_path_buf(),
        detail,
    }
}
