//! The writer thread: group commit. The flush policy lives here and nowhere
//! else: drain everything queued (from every hall), write it, flush once,
//! then complete every waiter. This module depends on [`crate::trees`],
//! [`crate::witness`] and [`crate::retention`] only; the store handle feeds
//! it through [`Job`]s.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use tokio::sync::oneshot;

use crate::error::sled_error;
use crate::keys;
use crate::retention::Maint;
use crate::trees::Trees;
use crate::witness::{write_witness, WITNESS_DAYS, WITNESS_LOG};
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

pub(crate) struct Writer {
    pub trees: Trees,
    /// `COMMIT`: the last key written by a flush that returned.
    pub witness: std::fs::File,
    pub rx: Receiver<Job>,
    pub max_group: usize,
    pub spin: Duration,
    pub maint: Sender<Maint>,
}

impl Writer {
    pub fn run(mut self) {
        loop {
            let Ok(first) = self.next_job() else {
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

    /// The next job: a short spin first (a client that was just answered
    /// usually sends its next command within microseconds, and waking a
    /// sleeping thread costs more than the spin), then a blocking wait.
    fn next_job(&self) -> Result<Job, std::sync::mpsc::RecvError> {
        if !self.spin.is_zero() {
            let until = Instant::now() + self.spin;
            loop {
                match self.rx.try_recv() {
                    Ok(j) => return Ok(j),
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                        return Err(std::sync::mpsc::RecvError)
                    }
                    Err(std::sync::mpsc::TryRecvError::Empty) => {}
                }
                if Instant::now() >= until {
                    break;
                }
                std::hint::spin_loop();
            }
        }
        self.rx.recv()
    }

    /// Writes and flushes one group; true when asked to shut down.
    fn commit(&mut self, group: Vec<Job>) -> bool {
        // (key, value) to write; an append of several events is written as
        // one sled batch so that a crash never keeps part of a command. A
        // batch costs sled an extra ~60 µs (its manifest), so a group of
        // single-event appends, the common case, is written as plain inserts.
        let mut log_writes: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut multi = false;
        let mut day_writes: Vec<(Vec<u8>, [u8; 8])> = Vec::new();
        let mut snap_writes: Vec<(Arc<str>, Vec<u8>)> = Vec::new();
        let mut appends = Vec::new();
        let mut snaps = Vec::new();
        let mut snaps_written = Vec::new();
        let mut barriers = Vec::new();
        let mut shutdown = None;
        for job in group {
            match job {
                Job::Append(mut a) => {
                    if a.shared.poisoned.load(Ordering::Acquire) {
                        let _ = a.done.send(Err(StoreError::Poisoned(a.hall.to_string())));
                        continue;
                    }
                    let records = std::mem::take(&mut a.records);
                    multi |= records.len() > 1;
                    for (seq, bytes) in records {
                        log_writes.push((keys::log_key(&a.hall, seq), bytes));
                    }
                    for (date, seq) in &a.days {
                        day_writes.push((keys::day_key(&a.hall, *date), seq.to_be_bytes()));
                    }
                    appends.push(a);
                }
                Job::Snapshot(mut s) => {
                    if s.seq <= s.shared.durable.load(Ordering::Acquire) {
                        // Its events are durable already: this flush covers it.
                        snap_writes.push((s.hall.clone(), std::mem::take(&mut s.value)));
                        snaps_written.push((s.hall, s.seq));
                    } else {
                        snaps.push(s);
                    }
                }
                Job::Barrier(tx) => barriers.push(tx),
                Job::Shutdown(tx) => shutdown = Some(tx),
            }
        }
        let wrote = !log_writes.is_empty() || !day_writes.is_empty() || !snap_writes.is_empty();
        // The last log or day key of this group: the witness of its flush.
        let last_key = match (day_writes.last(), log_writes.last()) {
            (Some((k, _)), _) => Some((WITNESS_DAYS, k.clone())),
            (None, Some((k, _))) => Some((WITNESS_LOG, k.clone())),
            _ => None,
        };
        let result = (|| -> Result<(), sled::Error> {
            if multi {
                let mut batch = sled::Batch::default();
                for (k, v) in log_writes {
                    batch.insert(k, v);
                }
                self.trees.log.apply_batch(batch)?;
            } else {
                for (k, v) in log_writes {
                    self.trees.log.insert(k, v)?;
                }
            }
            // The day index after the log: sled recovers a prefix of its
            // log, so an index entry never points at a missing event.
            for (k, v) in day_writes {
                self.trees.days.insert(k, &v[..])?;
            }
            for (hall, v) in snap_writes {
                self.trees.snap.insert(hall.as_bytes(), v)?;
            }
            if wrote {
                self.trees.db.flush()?;
            }
            Ok(())
        })();
        if let (Ok(()), Some((tree, key))) = (&result, last_key) {
            if let Err(e) = write_witness(&self.witness, tree, &key) {
                tracing::warn!(error = %e, "cannot record the last flushed key in COMMIT");
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
