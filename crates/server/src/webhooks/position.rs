//! Where each webhook stands: the seq of the last event it has delivered
//! (or passed over as unwanted), per hall and hook — in `webhooks.json` in
//! the data directory (sled), or in the database (PostgreSQL, table
//! `webhook_positions`), shared by every node.
//!
//! Why not the event log: it is the server's bookkeeping, not hall state
//! (the core neither decides nor replays it). A lost or older position only
//! repeats deliveries (at least once; receivers dedupe by the
//! `Idempotency-Key`), it never skips one: the position is written only
//! after the receiver answered 2xx. Writes are batched (at most one every
//! [`WRITE_EVERY`]) and made durable (file: temporary file, fsync, rename,
//! fsync of the directory; database: a commit).
//!
//! Several nodes: only the hall's owner delivers its hooks. When a node
//! takes a hall over, each hook task reads its position from the database
//! ([`Positions::load`]), so it goes on where the previous owner's last
//! write left it: nothing skipped, at most the last [`WRITE_EVERY`] of
//! deliveries repeated. Writes are fenced by the hall's lease, so an old
//! owner that froze and woke cannot move a position.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hallcall_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

pub const FILE: &str = "webhooks.json";
/// A busy hook rewrites its position at most this often.
const WRITE_EVERY: Duration = Duration::from_millis(200);

#[derive(Serialize, Deserialize, Default)]
struct FileFormat {
    version: u32,
    /// hall → hook key (`id` or url) → last seq handled
    halls: BTreeMap<String, BTreeMap<String, u64>>,
}

enum Place {
    File(PathBuf),
    Store(Store),
}

impl Place {
    fn name(&self) -> String {
        match self {
            Place::File(p) => p.display().to_string(),
            Place::Store(_) => "the database (webhook_positions)".into(),
        }
    }
}

/// The delivery positions, shared by every hook task; written by one task.
#[derive(Clone)]
pub struct Positions {
    /// Deliveries sent and not yet answered: a handoff waits for them
    /// before it writes the positions.
    pub in_flight: super::in_flight::InFlight,
    place: Arc<Place>,
    map: Arc<Mutex<BTreeMap<String, BTreeMap<String, u64>>>>,
    /// Database: the (hall, hook) positions set since the last write.
    changed: Arc<Mutex<BTreeSet<(String, String)>>>,
    dirty: Arc<tokio::sync::Notify>,
}

impl Positions {
    /// Where `store` keeps them: in the database when it is PostgreSQL,
    /// else `webhooks.json` in `dir` (read now).
    pub fn open(dir: &Path, store: &Store) -> std::io::Result<Positions> {
        if store.keeps_sessions() {
            return Ok(Positions::with(
                Place::Store(store.clone()),
                BTreeMap::new(),
            ));
        }
        Positions::load_file(dir)
    }

    /// Reads `webhooks.json` in `dir` (none yet: no positions). A damaged
    /// file refuses the start rather than guess (a guess could skip events).
    pub fn load_file(dir: &Path) -> std::io::Result<Positions> {
        let path = dir.join(FILE);
        let table = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<FileFormat>(&bytes).map_err(|e| {
                std::io::Error::other(format!(
                    "{} is not a webhook position table ({e}); move it away to deliver every hook's events from now on, or restore it from a backup",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileFormat::default(),
            Err(e) => return Err(e),
        };
        Ok(Positions::with(Place::File(path), table.halls))
    }

    fn with(place: Place, halls: BTreeMap<String, BTreeMap<String, u64>>) -> Positions {
        Positions {
            in_flight: Default::default(),
            place: Arc::new(place),
            map: Arc::new(Mutex::new(halls)),
            changed: Arc::default(),
            dirty: Arc::new(tokio::sync::Notify::new()),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, BTreeMap<String, u64>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn changed(&self) -> std::sync::MutexGuard<'_, BTreeSet<(String, String)>> {
        self.changed.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, hall: &str, hook: &str) -> Option<u64> {
        self.map().get(hall).and_then(|h| h.get(hook)).copied()
    }

    /// The position to deliver from, read where it is kept: from memory
    /// (the file, read at start), or from the database — called when this
    /// node starts delivering a hall's hooks (it owns the hall now), so it
    /// goes on from the previous owner's last write.
    pub async fn load(&self, hall: &str, hook: &str) -> Result<Option<u64>, StoreError> {
        let Place::Store(store) = &*self.place else {
            return Ok(self.get(hall, hook));
        };
        let stored = store.webhook_position(hall, hook).await?;
        let mut m = self.map();
        let h = m.entry(hall.to_string()).or_default();
        match stored {
            Some(seq) => {
                h.insert(hook.to_string(), seq);
            }
            None => {
                h.remove(hook);
            }
        }
        Ok(stored)
    }

    /// Records that `hook` of `hall` has handled every event up to `seq`.
    /// Durable within [`WRITE_EVERY`] (or at once with [`Positions::flush`]).
    pub fn set(&self, hall: &str, hook: &str, seq: u64) {
        self.map()
            .entry(hall.to_string())
            .or_default()
            .insert(hook.to_string(), seq);
        if matches!(*self.place, Place::Store(_)) {
            self.changed().insert((hall.to_string(), hook.to_string()));
        }
        self.dirty.notify_one();
    }

    /// Writes the positions now: the whole file, or the changed rows hall
    /// by hall. A hall this node no longer owns is skipped (its new owner
    /// keeps its positions); any other failure is kept for the next write.
    pub async fn flush(&self) -> std::io::Result<()> {
        let store = match &*self.place {
            Place::File(path) => {
                let table = FileFormat {
                    version: 1,
                    halls: self.map().clone(),
                };
                let path = path.clone();
                return tokio::task::spawn_blocking(move || write_atomically(&path, &table))
                    .await
                    .map_err(std::io::Error::other)?;
            }
            Place::Store(store) => store,
        };
        let changed = std::mem::take(&mut *self.changed());
        let mut by_hall: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
        for (hall, hook) in changed {
            if let Some(seq) = self.get(&hall, &hook) {
                by_hall.entry(hall).or_default().push((hook, seq));
            }
        }
        let mut failed = None;
        for (hall, rows) in by_hall {
            match store.put_webhook_positions(&hall, rows.clone()).await {
                Ok(()) => {}
                Err(StoreError::NotOwner { .. }) => {
                    tracing::debug!(
                        hall,
                        "webhook positions not written: another node owns the hall now"
                    );
                }
                Err(e) => {
                    let mut c = self.changed();
                    for (hook, _) in rows {
                        c.insert((hall.clone(), hook));
                    }
                    failed = Some(std::io::Error::other(e.to_string()));
                }
            }
        }
        failed.map_or(Ok(()), Err)
    }

    /// The writer task: after each change, waits [`WRITE_EVERY`] so a burst
    /// of deliveries is one write, then writes.
    pub async fn run_writer(self) {
        loop {
            self.dirty.notified().await;
            tokio::time::sleep(WRITE_EVERY).await;
            if let Err(e) = self.flush().await {
                tracing::error!(error = %e, place = %self.place.name(), "webhook positions not written (deliveries since the last write may repeat)");
                // Try again after the pause even if nothing else changes.
                self.dirty.notify_one();
            }
        }
    }
}

fn write_atomically(path: &Path, table: &FileFormat) -> std::io::Result<()> {
    use std::io::Write;
    let bytes = serde_json::to_vec_pretty(table).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    let mut f = crate::sessions::private_file(&tmp)?;
    f.write_all(&bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn positions_survive_a_reload_and_a_damaged_file_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = Positions::load_file(dir.path()).expect("empty");
        assert_eq!(p.get("h", "k"), None);
        p.set("h", "k", 42);
        p.flush().await.expect("write");
        assert_eq!(
            Positions::load_file(dir.path())
                .expect("load")
                .get("h", "k"),
            Some(42)
        );
        std::fs::write(dir.path().join(FILE), b"{not json").expect("write");
        let err = Positions::load_file(dir.path()).err().expect("refused");
        assert!(
            err.to_string().contains("not a webhook position table"),
            "{err}"
        );
    }
}
