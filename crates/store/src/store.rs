//! [`SledStore`]: the sled backend's handle — opening (directory checks in [`crate::dir`], then
//! the writer and maintenance threads), appending (the order per hall is
//! fixed here), taking snapshots by the policy in [`crate::snapshot`], and
//! the reads that only return durable events. Recovery and backup are
//! `impl SledStore` blocks in their own modules, which use this one; this module
//! uses neither.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use chrono::NaiveDate;
use hallcall_core::{Event, Hall};
use tokio::sync::oneshot;

use crate::dir::open_dir;
use crate::error::io_error;
use crate::log::encode_command;
use crate::maint::{Maintenance, SnapCounts};
use crate::options::StoreOptions;
use crate::snapshot;
use crate::trees::{lock, TreesCell};
use crate::witness::Witness;
use crate::writer::{wait_durable, AppendJob, Committer, HallShared, Job, SnapshotJob, Writer};
use crate::{keys, Durable, StoreError};

/// Durable hall state. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub(crate) struct SledStore {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct HallEntry {
    /// The hall's id, shared by every job queued for it (no allocation an
    /// append).
    pub id: Arc<str>,
    pub shared: Arc<HallShared>,
    /// Last seq handed to the writer.
    pub enqueued: u64,
    pub snap_seq: u64,
    pub snap_at: Instant,
}

pub(crate) struct State {
    pub halls: HashMap<Arc<str>, HallEntry>,
}

pub(crate) struct Inner {
    pub dir: PathBuf,
    pub opts: StoreOptions,
    /// The database; the writer reopens it after a failed write.
    pub trees: Arc<TreesCell>,
    pub state: Mutex<State>,
    /// The job queue and the group commit (leader/follower).
    pub committer: Arc<Committer>,
    /// Held by retention while it deletes; a backup holds it to copy a
    /// stable log.
    pub maint_lock: Arc<Mutex<()>>,
    /// Snapshot files written and failed (by the maintenance thread).
    pub snap_counts: Arc<SnapCounts>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    _lock: File,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.committer.close(); // the background thread commits, flushes and stops
        let threads = std::mem::take(&mut *lock(&self.threads));
        for t in threads {
            let _ = t.join();
        }
    }
}

impl SledStore {
    /// Opens (or creates) the store in `dir`. Refuses — changing nothing — a
    /// directory locked by another process, written by a newer format,
    /// corrupt, or not a hallcall store; the error says what to do.
    pub fn open(dir: &Path, opts: StoreOptions) -> Result<SledStore, StoreError> {
        let opened = open_dir(dir, &opts)?;
        let (mtx, mrx) = mpsc::channel();
        let maint_lock = Arc::new(Mutex::new(()));
        let cell = Arc::new(TreesCell::new(opened.trees));
        let writer = Writer {
            cell: cell.clone(),
            opts: opts.clone(),
            failed: None,
            witness: Witness::new(opened.witness),
            maint: Some(mtx),
            spare: std::collections::VecDeque::new(),
        };
        let committer = Arc::new(Committer::new(writer, cell.clone(), opts.max_group));
        let snap_counts = Arc::new(SnapCounts::default());
        let maintenance = Maintenance {
            counts: snap_counts.clone(),
            trees: cell.clone(),
            rx: mrx,
            lock: maint_lock.clone(),
            retention_days: opts.retention_days,
            resume_window: opts.resume_window,
            every: opts.compact_every,
        };
        let spawn_err = |e| io_error(dir, "cannot start the store's threads", e);
        let background = committer.clone();
        let w = std::thread::Builder::new()
            .name("hallcall-store-writer".into())
            .spawn(move || background.run())
            .map_err(spawn_err)?;
        let m = std::thread::Builder::new()
            .name("hallcall-store-maint".into())
            .spawn(move || maintenance.run())
            .map_err(spawn_err)?;
        Ok(SledStore {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                opts,
                trees: cell,
                state: Mutex::new(State {
                    halls: HashMap::new(),
                }),
                committer,
                maint_lock,
                snap_counts,
                threads: Mutex::new(vec![w, m]),
                _lock: opened.lock,
            }),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub fn options(&self) -> &StoreOptions {
        &self.inner.opts
    }

    /// The entry of `hall`, loaded from disk the first time.
    pub(crate) fn entry<'a>(
        &self,
        st: &'a mut State,
        hall: &str,
    ) -> Result<&'a mut HallEntry, StoreError> {
        if !st.halls.contains_key(hall) {
            let t = self.inner.trees.get()?;
            let snap_seq = t.snapshot_seq(hall)?;
            let last = t.last_logged(hall)?.max(snap_seq);
            let shared = Arc::new(HallShared::default());
            shared.durable.store(last, Ordering::Release);
            let id: Arc<str> = Arc::from(hall);
            st.halls.insert(
                id.clone(),
                HallEntry {
                    id,
                    shared,
                    enqueued: last,
                    snap_seq,
                    snap_at: Instant::now(),
                },
            );
        }
        st.halls
            .get_mut(hall)
            .ok_or_else(|| StoreError::Invalid(format!("hall {hall} vanished")))
    }

    /// Highest durable seq of `hall`.
    pub fn durable_seq(&self, hall: &str) -> Result<u64, StoreError> {
        keys::check_hall(hall)?;
        let mut st = lock(&self.inner.state);
        Ok(self
            .entry(&mut st, hall)?
            .shared
            .durable
            .load(Ordering::Acquire))
    }

    /// Queues a job for the next group commit.
    pub(crate) fn send(&self, job: Job) -> Result<(), StoreError> {
        let _st = lock(&self.inner.state);
        self.inner.committer.push(job)
    }

    /// Waits until every job queued before this call is written and flushed,
    /// and every snapshot queued before it is in its file.
    pub(crate) fn barrier(&self) -> Result<(), StoreError> {
        let (tx, rx) = mpsc::channel();
        self.send(Job::Barrier(tx))?;
        rx.recv().map_err(|_| StoreError::Closed)
    }

    /// Queues `events` (the output of one `Hall::handle`, in order) for the
    /// next group commit. The order per hall is fixed here, before awaiting:
    /// the events must continue the hall's sequence. The returned future
    /// resolves once a flush covering them has returned.
    ///
    /// Awaiting it commits: the first waiter that finds the commit lock free
    /// writes and flushes every queued append in its own task (see
    /// [`crate::writer`]), so it must be polled — as awaiting does.
    pub fn append(&self, hall: &str, events: Vec<Event>) -> Durable {
        match self.enqueue(hall, &events) {
            Ok(rx) => Durable::leading(Box::pin(wait_durable(self.inner.committer.clone(), rx))),
            Err(e) => Durable::ready(Err(e)),
        }
    }

    fn enqueue(
        &self,
        hall: &str,
        events: &[Event],
    ) -> Result<oneshot::Receiver<Result<(), StoreError>>, StoreError> {
        let enc = encode_command(hall, events)?;
        let (done, rx) = oneshot::channel();
        let mut st = lock(&self.inner.state);
        if let Some(why) = self.inner.trees.failure() {
            // Refused before it is queued: nothing is numbered or written.
            return Err(StoreError::Unavailable {
                dir: self.inner.dir.clone(),
                detail: why,
            });
        }
        let entry = self.entry(&mut st, hall)?;
        if entry.shared.poisoned.load(Ordering::Acquire) {
            return Err(StoreError::Poisoned(hall.into()));
        }
        let (last, record) = match enc.record {
            Some(r) => {
                if r.first != entry.enqueued + 1 {
                    entry.shared.poisoned.store(true, Ordering::Release);
                    return Err(StoreError::OutOfOrder {
                        hall: hall.into(),
                        expected: entry.enqueued + 1,
                        got: r.first,
                    });
                }
                (r.last, Some((r.key, r.value)))
            }
            // Nothing to write: still resolves only after everything queued
            // before it, so pipelined answers stay in order.
            None => (entry.enqueued, None),
        };
        let job = AppendJob {
            hall: entry.id.clone(),
            last,
            record,
            days: enc.days,
            shared: entry.shared.clone(),
            done,
        };
        // Queued under the state lock: the queue keeps each hall's seq order.
        self.inner.committer.push(Job::Append(job))?;
        entry.enqueued = last;
        Ok(rx)
    }

    /// Durable events of `hall` with seq > `since`, ascending, at most
    /// `limit`, for a WebSocket client resuming. `Ok(None)` means "send a
    /// snapshot instead": `since` is more than `resume_window` events behind,
    /// older than what retention kept, or ahead of the store.
    pub fn events_since(
        &self,
        hall: &str,
        since: u64,
        limit: usize,
    ) -> Result<Option<Vec<Event>>, StoreError> {
        let durable = self.durable_seq(hall)?;
        if since > durable || durable - since > self.inner.opts.resume_window {
            return Ok(None);
        }
        if since == durable {
            return Ok(Some(Vec::new()));
        }
        match self.inner.trees.get()?.first_logged(hall)? {
            Some(first) if first <= since + 1 => {}
            _ => return Ok(None),
        }
        let upto = durable.min(since.saturating_add(limit as u64));
        self.inner
            .trees
            .get()?
            .read_range(hall, since + 1, upto)
            .map(Some)
    }

    /// Retained durable events of `hall` from seq `from` on, ascending, at
    /// most `limit` (for audits, tools and tests; no resume window).
    pub fn read_log(&self, hall: &str, from: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        let durable = self.durable_seq(hall)?;
        if from > durable || limit == 0 {
            return Ok(Vec::new());
        }
        let upto = durable.min(from.saturating_add(limit as u64 - 1));
        self.inner.trees.get()?.read_stored(hall, from, upto)
    }

    /// The durable events of `hall`'s business day `date` (from its
    /// `day_opened` to the next day's), for statistics
    /// (`hallcall_core::stats::DayStats::from_events`). Empty for a day the
    /// hall did not open or that retention has deleted.
    pub fn day_events(&self, hall: &str, date: NaiveDate) -> Result<Vec<Event>, StoreError> {
        let durable = self.durable_seq(hall)?;
        let Some((start, next)) = self.inner.trees.get()?.day_bounds(hall, date)? else {
            return Ok(Vec::new());
        };
        let end = next.unwrap_or(durable + 1).min(durable + 1);
        if start >= end {
            return Ok(Vec::new());
        }
        self.inner.trees.get()?.read_range(hall, start, end - 1)
    }

    /// Business days of `hall` that have events, ascending.
    pub fn days(&self, hall: &str) -> Result<Vec<NaiveDate>, StoreError> {
        keys::check_hall(hall)?;
        self.inner.trees.get()?.days_of(hall)
    }

    /// The halls with anything stored, sorted.
    pub fn halls(&self) -> Result<Vec<String>, StoreError> {
        self.inner.trees.get()?.halls()
    }

    /// Seq of the stored snapshot of `hall` (0: none).
    pub fn snapshot_seq(&self, hall: &str) -> Result<u64, StoreError> {
        self.inner.trees.get()?.snapshot_seq(hall)
    }

    /// The snapshot policy, in one place: snapshot `hall` when
    /// `snapshot_every_events` events or `snapshot_every` have passed since
    /// its last snapshot (and something changed). Call it after each command
    /// batch, after `append`. The snapshot is written once its events are
    /// durable. Returns whether one was taken.
    pub fn maybe_snapshot(&self, hall: &Hall) -> Result<bool, StoreError> {
        let id = hall.id();
        keys::check_hall(id)?;
        let seq = hall.seq();
        {
            let mut st = lock(&self.inner.state);
            let entry = self.entry(&mut st, id)?;
            if !snapshot::is_due(seq, entry.snap_seq, entry.snap_at, &self.inner.opts) {
                return Ok(false);
            }
            if seq > entry.enqueued {
                return Err(StoreError::Invalid(format!(
                    "snapshot of hall {id} at seq {seq} is ahead of its appended events ({}): append first",
                    entry.enqueued
                )));
            }
        }
        // Serialised outside the lock: other halls keep appending meanwhile.
        let json = snapshot::serialise(hall)?;
        let mut st = lock(&self.inner.state);
        let entry = self.entry(&mut st, id)?;
        self.inner.committer.push(Job::Snapshot(SnapshotJob {
            hall: entry.id.clone(),
            seq,
            json,
            shared: entry.shared.clone(),
        }))?;
        entry.snap_seq = seq;
        entry.snap_at = Instant::now();
        Ok(true)
    }

    /// Snapshot files (written, failed) since the store opened.
    pub fn snapshot_counts(&self) -> (u64, u64) {
        let c = &self.inner.snap_counts;
        (
            c.written.load(Ordering::Relaxed),
            c.failed.load(Ordering::Relaxed),
        )
    }

    /// Why writes fail now (a full disk, …), until one succeeds again.
    pub fn write_failure(&self) -> Option<String> {
        self.inner.trees.failure()
    }

    /// Flushes everything queued and stops the writer; later appends fail
    /// with [`StoreError::Closed`].
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        let pushed = {
            let _st = lock(&self.inner.state);
            self.inner.committer.push_last(Job::Shutdown(tx))
        };
        if pushed.is_ok() {
            let _ = rx.await;
        }
    }
}
