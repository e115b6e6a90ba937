//! [`Trees`]: the open sled database and its trees, shared by the store
//! handle, the writer and the maintenance thread. Everything else in the
//! crate builds on this module and never the other way round, which is what
//! keeps the modules free of import loops.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

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
