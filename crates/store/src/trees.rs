//! [`Trees`]: the open sled database and its trees, shared by the store
//! handle, the writer and the maintenance thread. Everything else in the
//! crate builds on this module and never the other way round, which is what
//! keeps the modules free of import loops.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use crate::StoreError;

/// The sled database of one data directory (see the crate doc for what each
/// tree holds). Cloning clones sled handles, not data.
#[derive(Clone)]
pub(crate) struct Trees {
    pub dir: PathBuf,
    pub db: sled::Db,
    pub log: sled::Tree,
    pub days: sled::Tree,
    pub snap: sled::Tree,
}

/// Locks `m`, ignoring poisoning: every critical section in this crate
/// leaves its data consistent before anything in it can panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The open database, swappable. sled refuses every write after one I/O
/// error (a full disk) until it is opened again, so after a failed group
/// commit the writer closes and reopens it (`crate::writer`); everyone else
/// borrows it for one operation at a time and never keeps it.
pub(crate) struct TreesCell {
    dir: PathBuf,
    slot: RwLock<Option<Arc<Trees>>>,
    /// Why writes fail, from a failed group commit until the reopened
    /// database has been cleaned of that commit's records and flushed.
    failure: Mutex<Option<String>>,
}

impl TreesCell {
    pub fn new(trees: Trees) -> TreesCell {
        TreesCell {
            dir: trees.dir.clone(),
            slot: RwLock::new(Some(Arc::new(trees))),
            failure: Mutex::new(None),
        }
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    fn unavailable(&self, detail: String) -> StoreError {
        StoreError::Unavailable {
            dir: self.dir.clone(),
            detail,
        }
    }

    /// The database, for reads capped at a hall's durable seq: those stay
    /// right while writes fail (a failed commit never raises a durable seq).
    pub fn get(&self) -> Result<Arc<Trees>, StoreError> {
        self.slot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| {
                self.unavailable(
                    self.failure()
                        .unwrap_or_else(|| "the database is being reopened".into()),
                )
            })
    }

    /// The database, for reads that trust everything stored (recovery):
    /// refused while writes fail, because until the writer has reopened
    /// and cleaned it, sled's memory may hold records whose flush failed.
    pub fn get_exact(&self) -> Result<Arc<Trees>, StoreError> {
        if let Some(why) = self.failure() {
            return Err(self.unavailable(why));
        }
        self.get()
    }

    /// Why writes fail now, if they do.
    pub fn failure(&self) -> Option<String> {
        lock(&self.failure).clone()
    }

    pub fn set_failure(&self, why: Option<String>) {
        *lock(&self.failure) = why;
    }

    /// Takes the database out (readers get `Unavailable` meanwhile).
    pub fn take(&self) -> Option<Arc<Trees>> {
        self.slot.write().unwrap_or_else(|e| e.into_inner()).take()
    }

    pub fn put(&self, trees: Arc<Trees>) {
        *self.slot.write().unwrap_or_else(|e| e.into_inner()) = Some(trees);
    }
}
