//! Where each webhook stands: the seq of the last event it has delivered
//! (or passed over as unwanted), per hall and hook, in `webhooks.json` in
//! the data directory.
//!
//! Why a file beside the data rather than the store: it is the server's
//! bookkeeping, not hall state (the core neither decides nor replays it),
//! it must work the same on sled and PostgreSQL without a schema change,
//! and the same pattern already keeps the clerk sessions. A lost or older
//! position only repeats deliveries (at least once; receivers dedupe by the
//! `Idempotency-Key`), it never skips one: the position is written only
//! after the receiver answered 2xx. Writes are batched (at most one every
//! [`WRITE_EVERY`]) and made durable (temporary file, fsync, rename, fsync
//! of the directory).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub const FILE: &str = "webhooks.json";
/// A busy hook rewrites the file at most this often.
const WRITE_EVERY: Duration = Duration::from_millis(200);

#[derive(Serialize, Deserialize, Default)]
struct FileFormat {
    version: u32,
    /// hall → hook key (`id` or url) → last seq handled
    halls: BTreeMap<String, BTreeMap<String, u64>>,
}

/// The delivery positions, shared by every hook task; written by one task.
#[derive(Clone)]
pub struct Positions {
    path: Arc<PathBuf>,
    map: Arc<Mutex<BTreeMap<String, BTreeMap<String, u64>>>>,
    dirty: Arc<tokio::sync::Notify>,
}

impl Positions {
    /// Reads `webhooks.json` in `dir` (none yet: no positions). A damaged
    /// file refuses the start rather than guess (a guess could skip events).
    pub fn load(dir: &Path) -> std::io::Result<Positions> {
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
        Ok(Positions {
            path: Arc::new(path),
            map: Arc::new(Mutex::new(table.halls)),
            dirty: Arc::new(tokio::sync::Notify::new()),
        })
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, BTreeMap<String, u64>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, hall: &str, hook: &str) -> Option<u64> {
        self.map().get(hall).and_then(|h| h.get(hook)).copied()
    }

    /// Records that `hook` of `hall` has handled every event up to `seq`.
    /// Durable within [`WRITE_EVERY`] (or at once with [`Positions::flush`]).
    pub fn set(&self, hall: &str, hook: &str, seq: u64) {
        self.map()
            .entry(hall.to_string())
            .or_default()
            .insert(hook.to_string(), seq);
        self.dirty.notify_one();
    }

    /// Writes the table now.
    pub async fn flush(&self) -> std::io::Result<()> {
        let table = FileFormat {
            version: 1,
            halls: self.map().clone(),
        };
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write_atomically(&path, &table))
            .await
            .map_err(std::io::Error::other)?
    }

    /// The writer task: after each change, waits [`WRITE_EVERY`] so a burst
    /// of deliveries is one write, then writes.
    pub async fn run_writer(self) {
        loop {
            self.dirty.notified().await;
            tokio::time::sleep(WRITE_EVERY).await;
            if let Err(e) = self.flush().await {
                tracing::error!(error = %e, path = %self.path.display(), "webhook positions not written (deliveries since the last write may repeat)");
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
        let p = Positions::load(dir.path()).expect("empty");
        assert_eq!(p.get("h", "k"), None);
        p.set("h", "k", 42);
        p.flush().await.expect("write");
        assert_eq!(
            Positions::load(dir.path()).expect("load").get("h", "k"),
            Some(42)
        );
        std::fs::write(dir.path().join(FILE), b"{not json").expect("write");
        let err = Positions::load(dir.path()).err().expect("refused");
        assert!(
            err.to_string().contains("not a webhook position table"),
            "{err}"
        );
    }
}
