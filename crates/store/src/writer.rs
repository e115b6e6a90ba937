//! The writer thread (group commit) and the maintenance thread (retention).
//!
//! The flush policy lives here and nowhere else: drain everything queued,
//! write it as one batch, flush once, then complete every waiter.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use tokio::sync::oneshot;

use crate::keys;
use crate::store::sled_error;
use crate::StoreError;

/// Per-hall state shared between callers and the writer.
#[derive(Debug, Default)]
pub(crate) struct HallShared {
    /// Highest seq covered by a completed flush.
    pub durable: AtomicU64,
    /// A write for this hall failed: refuse appends until it is recovered.
    pub poisoned: AtomicBool,
}

pub(crate) struct AppendJob {
    pub hall: Arc<str>,
    pub last: u64,
    /// (seq, event JSON)
    pub records: Vec<(u64, Vec<u8>)>,
    /// Business days opened by these events.
    pub days: Vec<(NaiveDate, u64)>,
    pub shared: Arc<HallShared>,
    pub done: oneshot::Sender<Result<(), StoreError>>,
}

pub(crate) struct SnapshotJob {
    pub hall: Arc<str>,
    pub seq: u64,
    pub value: Vec<u8>,
    pub shared: Arc<HallShared>,
}

pub(crate) enum Job {
    Append(AppendJob),
    Snapshot(SnapshotJob),
    /// Answered once every job queued before it is done (and flushed).
    Barrier(std::sync::mpsc::Sender<()>),
    Shutdown(oneshot::Sender<()>),
}

pub(crate) struct Trees {
    pub dir: PathBuf,
    pub db: sled::Db,
    pub log: sled::Tree,
    pub days: sled::Tree,
    pub snap: sled::Tree,
}

impl Clone for Trees {
    fn clone(&self) -> Trees {
        Trees {
            dir: self.dir.clone(),
            db: self.db.clone(),
            log: self.log.clone(),
            days: self.days.clone(),
            snap: self.snap.clone(),
        }
    }
}

pub(crate) struct Writer {
    pub trees: Trees,
    pub meta: sled::Tree,
    /// Number of the last group commit; stored in `meta` with each group.
    pub commit: u64,
    /// `COMMIT`: the last commit whose flush returned (see [`crate::store`]).
    pub witness: std::fs::File,
    pub rx: Receiver<Job>,
    pub max_group: usize,
    pub maint: Sender<Maint>,
}

impl Writer {
    pub fn run(mut self) {
        loop {
            let Ok(first) = self.rx.recv() else {
                // Every Store handle is gone: flush what remains and stop.
                if let Err(e) = self.trees.db.flush() {
                    tracing::error!(error = %e, "final flush of the store failed");
                }
                return;
            };
            let mut group = Vec::with_capacity(64);
            group.push(first);
            while group.len() < self.max_group {
                match self.rx.try_recv() {
                    Ok(j) => group.push(j),
                    Err(_) => break,
                }
            }
            if self.commit(group) {
                return;
            }
        }
    }

    /// Writes and flushes one group; true when asked to shut down.
    fn commit(&mut self, group: Vec<Job>) -> bool {
        let mut log_batch = sled::Batch::default();
        let mut day_batch = sled::Batch::default();
        let (mut wrote, mut wrote_days) = (false, false);
        let mut appends = Vec::new();
        let mut snaps = Vec::new();
        let mut snap_batch = sled::Batch::default();
        let mut snaps_written = Vec::new();
        let mut barriers = Vec::new();
        let mut shutdown = None;
        for job in group {
            match job {
                Job::Append(a) => {
                    if a.shared.poisoned.load(Ordering::Acquire) {
                        let _ = a.done.send(Err(StoreError::Poisoned(a.hall.to_string())));
                        continue;
                    }
                    for (seq, bytes) in &a.records {
                        log_batch.insert(keys::log_key(&a.hall, *seq), bytes.as_slice());
                        wrote = true;
                    }
                    for (date, seq) in &a.days {
                        day_batch.insert(keys::day_key(&a.hall, *date), &seq.to_be_bytes()[..]);
                        wrote_days = true;
                    }
                    appends.push(a);
                }
                Job::Snapshot(s) => {
                    if s.seq <= s.shared.durable.load(Ordering::Acquire) {
                        // Its events are durable already: this flush covers it.
                        snap_batch.insert(s.hall.as_bytes(), s.value.as_slice());
                        wrote = true;
                        snaps_written.push((s.hall, s.seq));
                    } else {
                        snaps.push(s);
                    }
                }
                Job::Barrier(tx) => barriers.push(tx),
                Job::Shutdown(tx) => shutdown = Some(tx),
            }
        }
        let result = (|| -> Result<(), sled::Error> {
            if wrote {
                self.trees.log.apply_batch(log_batch)?;
            }
            if wrote_days {
                self.trees.days.apply_batch(day_batch)?;
            }
            if !snaps_written.is_empty() {
                self.trees.snap.apply_batch(snap_batch)?;
            }
            if wrote || wrote_days {
                self.meta
                    .insert(COMMIT_KEY, &(self.commit + 1).to_be_bytes()[..])?;
                self.trees.db.flush()?;
            }
            Ok(())
        })();
        if result.is_ok() && (wrote || wrote_days) {
            self.commit += 1;
            if let Err(e) = write_witness(&self.witness, self.commit) {
                tracing::warn!(error = %e, "cannot record the commit number in COMMIT");
            }
        }
        match result {
            Ok(()) => {
                for a in appends {
                    a.shared.durable.fetch_max(a.last, Ordering::AcqRel);
                    let _ = a.done.send(Ok(()));
                }
            }
            Err(e) => {
                let err = sled_error(&self.trees.dir, e);
                tracing::error!(error = %err, "group commit failed");
                for a in appends {
                    a.shared.poisoned.store(true, Ordering::Release);
                    let _ = a.done.send(Err(err.clone()));
                }
            }
        }
        for (hall, snap_seq) in snaps_written {
            if snap_seq > 0 {
                let _ = self.maint.send(Maint::Compact { hall, snap_seq });
            }
        }
        // Snapshots go in only once the events they cover are durable; the
        // next group's flush (or sled's periodic one) makes them durable. If
        // one is lost, recovery uses the previous snapshot and a longer tail.
        for s in snaps {
            if s.shared.poisoned.load(Ordering::Acquire)
                || s.seq > s.shared.durable.load(Ordering::Acquire)
            {
                tracing::warn!(hall = %s.hall, seq = s.seq, "snapshot dropped: its events are not durable");
                continue;
            }
            match self.trees.snap.insert(s.hall.as_bytes(), s.value) {
                Ok(_) => {
                    let _ = self.maint.send(Maint::Compact {
                        hall: s.hall,
                        snap_seq: s.seq,
                    });
                }
                Err(e) => tracing::error!(hall = %s.hall, error = %e, "snapshot write failed"),
            }
        }
        if shutdown.is_some() || !barriers.is_empty() {
            // Barriers and shutdown also cover the snapshots just written.
            if let Err(e) = self.trees.db.flush() {
                tracing::error!(error = %e, "flush failed");
            }
        }
        for b in barriers {
            let _ = b.send(());
        }
        if let Some(tx) = shutdown {
            let _ = tx.send(());
            return true;
        }
        false
    }
}

/// Key of the group commit number in `meta`.
pub(crate) const COMMIT_KEY: &[u8] = b"commit";

/// Records `commit` in the witness file. No fsync: it must survive a process
/// crash (the page cache does), and it is written only after sled's flush
/// returned, so it is never ahead of the database, even after a power cut.
pub(crate) fn write_witness(f: &std::fs::File, commit: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    f.write_all_at(&witness_bytes(commit), 0)
}

pub(crate) fn witness_bytes(commit: u64) -> [u8; 20] {
    let mut b = [0u8; 20];
    b[..4].copy_from_slice(b"HCC1");
    b[4..12].copy_from_slice(&commit.to_be_bytes());
    b[12..20].copy_from_slice(&(!commit).to_be_bytes());
    b
}

pub(crate) fn parse_witness(b: &[u8]) -> Option<u64> {
    if b.len() != 20 || &b[..4] != b"HCC1" {
        return None;
    }
    let n = u64::from_be_bytes(b[4..12].try_into().ok()?);
    let check = u64::from_be_bytes(b[12..20].try_into().ok()?);
    (check == !n).then_some(n)
}

pub(crate) enum Maint {
    Compact { hall: Arc<str>, snap_seq: u64 },
}

/// Retention: deletes whole past business days; see the crate doc.
pub(crate) struct Maintenance {
    pub trees: Trees,
    pub rx: Receiver<Maint>,
    /// Held while compacting; a backup holds it to see a stable log.
    pub lock: Arc<Mutex<()>>,
    pub retention_days: Option<u32>,
    pub resume_window: u64,
    pub every: Duration,
}

impl Maintenance {
    pub fn run(self) {
        let mut last: HashMap<Arc<str>, Instant> = HashMap::new();
        while let Ok(Maint::Compact { hall, snap_seq }) = self.rx.recv() {
            let Some(days) = self.retention_days else {
                continue;
            };
            if last.get(&hall).is_some_and(|t| t.elapsed() < self.every) {
                continue;
            }
            last.insert(hall.clone(), Instant::now());
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            match compact(&self.trees, &hall, snap_seq, days, self.resume_window) {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(hall = %hall, deleted = n, "retention: deleted events of past days")
                }
                Err(e) => tracing::error!(hall = %hall, error = %e, "retention failed"),
            }
        }
    }
}

/// Deletes the log entries of business days older than `retention_days`
/// before the newest day, and their day index entries, but nothing newer than
/// `snap_seq - resume_window`. Returns how many events were deleted.
pub(crate) fn compact(
    trees: &Trees,
    hall: &str,
    snap_seq: u64,
    retention_days: u32,
    resume_window: u64,
) -> Result<u64, StoreError> {
    let err = |e| sled_error(&trees.dir, e);
    let mut days: Vec<(NaiveDate, Vec<u8>, u64)> = Vec::new();
    for item in trees.days.scan_prefix(keys::prefix(hall)) {
        let (k, v) = item.map_err(err)?;
        let (Some(date), Some(seq)) = (keys::day_of(hall, &k), keys::u64_of(&v)) else {
            return Err(StoreError::Corrupt {
                dir: trees.dir.clone(),
                detail: format!("bad day index record for hall {hall}"),
            });
        };
        days.push((date, k.to_vec(), seq));
    }
    let Some(newest) = days.last().map(|d| d.0) else {
        return Ok(0);
    };
    let cutoff = newest - chrono::Duration::days(i64::from(retention_days));
    let horizon = snap_seq.saturating_sub(resume_window);
    let mut deleted = 0;
    for i in 0..days.len().saturating_sub(1) {
        let (date, ref day_key, _) = days[i];
        let end = days[i + 1].2; // first seq of the next day
        if date >= cutoff || end.saturating_sub(1) > horizon {
            break;
        }
        // Everything of this hall before `end` (the day and anything older).
        loop {
            let mut batch = sled::Batch::default();
            let mut n = 0;
            for item in trees
                .log
                .range(keys::log_key(hall, 0)..keys::log_key(hall, end))
                .take(1000)
            {
                let (k, _) = item.map_err(err)?;
                batch.remove(k);
                n += 1;
            }
            if n == 0 {
                break;
            }
            trees.log.apply_batch(batch).map_err(err)?;
            deleted += n;
        }
        // The index entry goes last: a crash in between leaves it to be
        // pruned next time, never an orphaned stretch of log.
        trees.days.remove(day_key).map_err(err)?;
    }
    Ok(deleted)
}
