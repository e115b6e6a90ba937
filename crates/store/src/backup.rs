//! Backup while running and restore. A backup is itself a data directory:
//! per hall, its snapshot and every durable event up to one seq, no gap.

use std::fs;
use std::path::Path;

use crate::dir::{check_empty_target, FORMAT_FILE};
use crate::error::sled_error;
use crate::keys;
use crate::options::StoreOptions;
use crate::snapfile;
use crate::store::SledStore;
use crate::trees::lock;
use crate::StoreError;

impl SledStore {
    /// Writes a consistent copy of the store into `to` (a new or empty
    /// directory) while it runs. For each hall the copy holds its snapshot
    /// and every durable event up to a single seq, with no gap; retention is
    /// paused meanwhile. `to` is itself a data directory (see [`crate::Store::restore`]).
    pub fn backup(&self, to: &Path) -> Result<(), StoreError> {
        check_empty_target(to)?;
        if to.exists() && fs::canonicalize(to).ok() == fs::canonicalize(&self.inner.dir).ok() {
            return Err(StoreError::Invalid(
                "cannot back up a store into itself".into(),
            ));
        }
        let target = SledStore::open(to, StoreOptions::default())?;
        // The barrier first: it waits for the maintenance thread, which
        // takes the pause lock to compact.
        self.barrier()?;
        let _pause = lock(&self.inner.maint_lock);
        let (src, dst) = (&*self.inner.trees.get_exact()?, &*target.inner.trees.get()?);
        let terr = |e| sled_error(to, e);
        for hall in src.halls()? {
            let snap = src.snapshot(&hall)?;
            let snap_seq = snap.as_ref().map_or(0, |(seq, _)| *seq);
            let upto = self.durable_seq(&hall)?.max(snap_seq);
            let mut batch = sled::Batch::default();
            let mut n = 0;
            for item in src
                .log
                .range(keys::log_key(&hall, 0)..=keys::log_key(&hall, upto))
            {
                let (k, v) = item.map_err(|e| src.err(e))?;
                batch.insert(k, v);
                n += 1;
                if n % 10_000 == 0 {
                    dst.log
                        .apply_batch(std::mem::take(&mut batch))
                        .map_err(terr)?;
                }
            }
            dst.log.apply_batch(batch).map_err(terr)?;
            for item in src.days.scan_prefix(keys::prefix(&hall)) {
                let (k, v) = item.map_err(|e| src.err(e))?;
                if keys::u64_of(&v).is_some_and(|s| s <= upto) {
                    dst.days.insert(k, v).map_err(terr)?;
                }
            }
            if let Some((seq, json)) = snap {
                snapfile::write(&snapfile::snap_dir(&dst.dir), &hall, seq, &json)?;
            }
        }
        // The snapshot files are durable already; this makes the log so.
        dst.db.flush().map_err(terr)?;
        drop(target);
        Ok(())
    }

    /// Restores a backup made by [`crate::Store::backup`] into `to`, a new or empty
    /// directory, checking it on the way (format, records). Start hallcall on
    /// `to` afterwards.
    pub fn restore(backup: &Path, to: &Path) -> Result<(), StoreError> {
        check_empty_target(to)?;
        // Opening a missing or empty directory would create an empty store
        // and "restore" nothing: a backup must already be a store.
        if !backup.join(FORMAT_FILE).is_file() {
            return Err(StoreError::Invalid(format!(
                "{} is not a hallcall backup (no FORMAT file); give the directory `hallcall backup` printed",
                backup.display()
            )));
        }
        let src = SledStore::open(backup, StoreOptions::default())?;
        let t = src.inner.trees.get()?;
        for hall in src.halls()? {
            // Every record readable and every sequence without a gap.
            let mut from = t.first_logged(&hall)?.unwrap_or(1);
            loop {
                let evs = src.read_log(&hall, from, 10_000)?;
                let Some(last) = evs.last() else { break };
                if last.seq + 1 - from != evs.len() as u64 {
                    return Err(
                        t.corrupt(format!("the log of hall {hall} has a gap after seq {from}"))
                    );
                }
                from = last.seq + 1;
            }
        }
        src.backup(to)
    }
}
