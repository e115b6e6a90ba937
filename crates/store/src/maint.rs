//! The maintenance thread: everything durable that must stay off the
//! commit path. It writes each hall's snapshot file once the writer has
//! flushed the events the snapshot covers (a 100 KB file and two fsyncs
//! would otherwise stall whichever appender leads the next group), then
//! runs retention for that hall behind the snapshot, and answers barriers
//! in order, so a barrier also covers the snapshots queued before it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::retention::compact;
use crate::snapfile;
use crate::trees::{lock, TreesCell};

pub(crate) enum Maint {
    /// Write `hall`'s snapshot at `seq` (its events are durable), then
    /// compact the hall's log behind it.
    Snapshot {
        hall: Arc<str>,
        seq: u64,
        json: Vec<u8>,
    },
    /// Answered once everything sent before it is done.
    Barrier(Reply),
}

/// Who waits for a [`Maint::Barrier`]: a thread, or a task (shutdown).
pub(crate) enum Reply {
    Thread(std::sync::mpsc::Sender<()>),
    Task(oneshot::Sender<()>),
}

impl Reply {
    pub fn send(self) {
        match self {
            Reply::Thread(tx) => {
                let _ = tx.send(());
            }
            Reply::Task(tx) => {
                let _ = tx.send(());
            }
        }
    }
}

/// Snapshot files written and failed since the store opened (the server's
/// `/metrics`): a failed one is otherwise only a log line, and a hall whose
/// snapshots keep failing replays ever more events on recovery.
#[derive(Debug, Default)]
pub(crate) struct SnapCounts {
    pub written: AtomicU64,
    pub failed: AtomicU64,
}

/// The maintenance thread's state.
pub(crate) struct Maintenance {
    pub counts: Arc<SnapCounts>,
    pub trees: Arc<TreesCell>,
    pub rx: Receiver<Maint>,
    /// Held while compacting; a backup holds it to see a stable log.
    pub lock: Arc<Mutex<()>>,
    pub retention_days: Option<u32>,
    pub resume_window: u64,
    pub every: Duration,
}

impl Maintenance {
    /// Runs until the writer drops its sender (after shutdown), having done
    /// everything queued by then.
    pub fn run(self) {
        let mut last: HashMap<Arc<str>, Instant> = HashMap::new();
        while let Ok(job) = self.rx.recv() {
            match job {
                Maint::Barrier(reply) => reply.send(),
                Maint::Snapshot { hall, seq, json } => {
                    if self.write_snapshot(&hall, seq, &json) && seq > 0 {
                        self.retain(&mut last, hall, seq);
                    }
                }
            }
        }
    }

    /// Writes the file; true once it is durable. A failure loses nothing
    /// (the log still holds every event; recovery replays from the previous
    /// snapshot) and keeps retention from running behind a snapshot that is
    /// not there.
    fn write_snapshot(&self, hall: &str, seq: u64, json: &[u8]) -> bool {
        let dir = snapfile::snap_dir(self.trees.dir());
        if let Err(e) = snapfile::write(&dir, hall, seq, json) {
            self.counts.failed.fetch_add(1, Ordering::Relaxed);
            tracing::error!(hall, seq, error = %e, "snapshot write failed; the log still holds every event");
            return false;
        }
        self.counts.written.fetch_add(1, Ordering::Relaxed);
        // Drop the record an older format kept in sled, if any; not while
        // writes fail (the writer may be reopening the database).
        if let Ok(trees) = self.trees.get_exact() {
            if let Err(e) = trees.forget_legacy_snapshot(hall) {
                tracing::warn!(hall, error = %e, "cannot remove the old snapshot record");
            }
        }
        true
    }

    fn retain(&self, last: &mut HashMap<Arc<str>, Instant>, hall: Arc<str>, snap_seq: u64) {
        let Some(days) = self.retention_days else {
            return;
        };
        if last.get(&hall).is_some_and(|t| t.elapsed() < self.every) {
            return;
        }
        last.insert(hall.clone(), Instant::now());
        let _guard = lock(&self.lock);
        // Not while writes fail: the writer may be reopening the database.
        let Ok(trees) = self.trees.get_exact() else {
            return;
        };
        match compact(&trees, &hall, snap_seq, days, self.resume_window) {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(hall = %hall, records = n, "retention: deleted log records of past days")
            }
            Err(e) => tracing::error!(hall = %hall, error = %e, "retention failed"),
        }
    }
}
