//! Group commit, leader/follower. The flush policy lives here and nowhere
//! else: whoever commits drains everything queued (from every hall), writes
//! it, flushes once, then completes every waiter. The committer is the first
//! waiting appender that takes the commit lock — in its own task, so a lone
//! command pays no hop to another thread and back (the ≈ 20 µs wake-up of a
//! parked thread that used to be most of a single command's overhead) —
//! and appenders that arrive while it flushes wait for its result or lead
//! the next group. A background thread commits only what no appender waits
//! for: barriers, shutdown, and healing after a failed write. This module
//! depends on [`crate::trees`], [`crate::witness`] and [`crate::retention`]
//! only; the store handle feeds it through [`Job`]s.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use tokio::sync::oneshot;

use crate::dir::reopen;
use crate::error::sled_error;
use crate::keys;
use crate::maint::{Maint, Reply};
use crate::options::StoreOptions;
use crate::trees::{lock, TreesCell};
use crate::witness::{Witness, WITNESS_DAYS, WITNESS_LOG};
use crate::StoreError;

/// Per-hall state shared between callers and the committer.
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
    /// The command's one log record (key, value; see [`crate::log`]), `None`
    /// if it produced no events.
    pub record: Option<(Vec<u8>, Vec<u8>)>,
    /// Business days opened by these events.
    pub days: Vec<(NaiveDate, u64)>,
    pub shared: Arc<HallShared>,
    pub done: oneshot::Sender<Result<(), StoreError>>,
}

pub(crate) struct SnapshotJob {
    pub hall: Arc<str>,
    pub seq: u64,
    /// [`hallcall_core::Hall::to_snapshot`] JSON.
    pub json: Vec<u8>,
    pub shared: Arc<HallShared>,
}

pub(crate) enum Job {
    Append(AppendJob),
    Snapshot(SnapshotJob),
    /// Answered once every job queued before it is done (and flushed).
    Barrier(std::sync::mpsc::Sender<()>),
    Shutdown(oneshot::Sender<()>),
}

/// The queue of jobs and the one [`Writer`] that commits them.
pub(crate) struct Committer {
    queue: Mutex<Queue>,
    /// Wakes the background thread: a job no appender waits for, a failed
    /// write to heal, or closing.
    wake: Condvar,
    /// The commit lock. Appenders only `try_lock` it and otherwise wait for
    /// [`Committer::released`]; it is never handed to a waiter that is not
    /// running (as an async mutex's fair queue would, which deadlocks the
    /// background thread behind a task whose worker thread is blocked, e.g.
    /// in a synchronous `recover`). Only the background thread blocks on it,
    /// and only ever behind a thread that is committing.
    writer: Mutex<Writer>,
    /// Signalled whenever the commit lock is released.
    released: tokio::sync::Notify,
    cell: Arc<TreesCell>,
    max_group: usize,
}

struct Queue {
    jobs: VecDeque<Job>,
    /// No job is accepted any more (shutdown, or every handle dropped).
    closed: bool,
}

/// How often the background thread tries to heal while writes fail (each
/// try still waits for the writer's backoff).
const HEAL_POLL: Duration = Duration::from_millis(20);

impl Committer {
    pub fn new(writer: Writer, cell: Arc<TreesCell>, max_group: usize) -> Committer {
        Committer {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                closed: false,
            }),
            wake: Condvar::new(),
            writer: Mutex::new(writer),
            released: tokio::sync::Notify::new(),
            cell,
            max_group: max_group.max(1),
        }
    }

    /// Queues a job. Appends are committed by their waiters; anything else
    /// also wakes the background thread. The caller fixes the order: the
    /// store pushes a hall's appends under its own lock, in seq order.
    pub fn push(&self, job: Job) -> Result<(), StoreError> {
        let mut q = lock(&self.queue);
        if q.closed {
            return Err(StoreError::Closed);
        }
        let wake = !matches!(job, Job::Append(_));
        q.jobs.push_back(job);
        if wake {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Queues `Shutdown` as the last job: later pushes are refused.
    pub fn push_last(&self, job: Job) -> Result<(), StoreError> {
        let mut q = lock(&self.queue);
        if q.closed {
            return Err(StoreError::Closed);
        }
        q.jobs.push_back(job);
        q.closed = true;
        self.wake.notify_one();
        Ok(())
    }

    /// Refuses later jobs; the background thread commits what is queued,
    /// flushes and stops.
    pub fn close(&self) {
        lock(&self.queue).closed = true;
        self.wake.notify_one();
    }

    /// The next group: everything queued, up to `max_group`. The whole
    /// queue is swapped for the writer's spare one when it fits, so a
    /// lone command allocates no group.
    fn drain(&self, w: &mut Writer) -> VecDeque<Job> {
        let mut group = std::mem::take(&mut w.spare);
        group.clear();
        let mut q = lock(&self.queue);
        if q.jobs.len() <= self.max_group {
            std::mem::swap(&mut q.jobs, &mut group);
        } else {
            group.extend(q.jobs.drain(..self.max_group));
        }
        group
    }

    /// Commits one group with the lock held; tells the background thread
    /// when the commit failed, so that it heals the store. False if nothing
    /// was queued.
    fn lead(&self, w: &mut Writer) -> bool {
        let group = self.drain(w);
        if group.is_empty() {
            w.spare = group;
            return false;
        }
        run_blocking(|| w.commit(group));
        if w.failed.is_some() {
            // Under the queue lock, so the thread cannot miss it between
            // looking at the failure and going to sleep.
            let _q = lock(&self.queue);
            self.wake.notify_one();
        }
        true
    }

    /// The background thread: barriers, snapshots written on their own,
    /// shutdown, healing, and the final flush once every handle is gone.
    pub fn run(self: Arc<Self>) {
        loop {
            let closed = {
                let mut q = lock(&self.queue);
                loop {
                    let unwaited = q.jobs.iter().any(|j| !matches!(j, Job::Append(_)));
                    if q.closed || unwaited {
                        break;
                    }
                    if self.cell.failure().is_some() {
                        q = self
                            .wake
                            .wait_timeout(q, HEAL_POLL)
                            .unwrap_or_else(|e| e.into_inner())
                            .0;
                        break;
                    }
                    q = self.wake.wait(q).unwrap_or_else(|e| e.into_inner());
                }
                q.closed
            };
            let mut w = lock(&self.writer);
            if w.failed
                .as_ref()
                .is_some_and(|f| Instant::now() >= f.next_try)
            {
                w.heal();
            }
            loop {
                let group = self.drain(&mut w);
                if group.is_empty() {
                    w.spare = group;
                    break;
                }
                if w.commit(group) {
                    w.maint = None;
                    drop(w);
                    self.released.notify_waiters();
                    return;
                }
            }
            if closed {
                // Every Store handle is gone: flush what remains and stop.
                if let Ok(t) = self.cell.get() {
                    if let Err(e) = t.db.flush() {
                        tracing::error!(error = %e, "final flush of the store failed");
                    }
                }
                w.maint = None;
                drop(w);
                self.released.notify_waiters();
                return;
            }
            drop(w);
            self.released.notify_waiters();
        }
    }

    /// The commit lock, if nobody holds it.
    fn try_writer(&self) -> Option<std::sync::MutexGuard<'_, Writer>> {
        match self.writer.try_lock() {
            Ok(w) => Some(w),
            Err(std::sync::TryLockError::Poisoned(e)) => Some(e.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }
}

/// Resolves with an append's result: leads a group commit when the commit
/// lock is free and the append is not yet done, otherwise waits for the
/// current leader's result (or for the lock, to lead the next group).
pub(crate) async fn wait_durable(
    c: Arc<Committer>,
    mut rx: oneshot::Receiver<Result<(), StoreError>>,
) -> Result<(), StoreError> {
    let answered = |r: Result<Result<(), StoreError>, oneshot::error::TryRecvError>| match r {
        Ok(r) => Some(r),
        Err(oneshot::error::TryRecvError::Closed) => Some(Err(StoreError::Closed)),
        Err(oneshot::error::TryRecvError::Empty) => None,
    };
    loop {
        if let Some(r) = answered(rx.try_recv()) {
            return r;
        }
        if let Some(mut w) = c.try_writer() {
            if let Some(r) = answered(rx.try_recv()) {
                return r;
            }
            let led = c.lead(&mut w);
            drop(w);
            c.released.notify_waiters();
            if !led {
                // Every queued job is answered by whoever drained it,
                // before the lock is released; this one never was.
                return answered(rx.try_recv()).unwrap_or(Err(StoreError::Closed));
            }
            continue;
        }
        // Someone commits: wait for its answer, or for the lock to lead the
        // next group. Registered before looking at the lock again, so a
        // release in between is not missed.
        let released = c.released.notified();
        tokio::pin!(released);
        released.as_mut().enable();
        if c.try_writer().is_some() {
            continue; // (the guard is dropped at once; the loop takes it again)
        }
        tokio::select! {
            biased;
            r = &mut rx => return r.unwrap_or(Err(StoreError::Closed)),
            _ = released => {}
        }
    }
}

/// Runs a blocking write + flush where the leader is. On a multi-threaded
/// runtime's worker, `block_in_place` first hands the worker's other tasks to
/// another thread (so a ~100 µs flush holds up no other hall), while this
/// task keeps its thread: the command still pays no hop. Elsewhere (a
/// current-thread runtime, or no runtime) it simply runs.
fn run_blocking<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

pub(crate) struct Writer {
    /// The database, which the writer alone closes and reopens (see
    /// [`Writer::heal`]).
    pub cell: Arc<TreesCell>,
    pub opts: StoreOptions,
    /// `COMMIT`: the last key written by a flush that returned.
    pub witness: Witness,
    /// Retention's queue; `None` once the background thread has stopped,
    /// which stops the maintenance thread too.
    pub maint: Option<Sender<Maint>>,
    /// Set by a failed group commit, cleared by a successful [`Writer::heal`].
    pub failed: Option<Failed>,
    /// The emptied queue of the last group, to be the next one's (see
    /// [`Committer::drain`]).
    pub spare: VecDeque<Job>,
}

/// What a failed group commit left behind: records sled may hold in memory
/// (or have half-written) although their flush failed. None of them was
/// acknowledged; all are removed before the store writes again.
pub(crate) struct Failed {
    /// Log keys of the failed appends.
    log_keys: Vec<Vec<u8>>,
    /// Day-index keys the failed appends wrote, with the seq each points at.
    day_keys: Vec<(Vec<u8>, u64)>,
    /// When to try again, and the wait after that (doubling up to
    /// [`HEAL_BACKOFF_MAX`]).
    next_try: Instant,
    backoff: Duration,
}

/// First and longest waits between attempts to write again after a failure.
const HEAL_BACKOFF_MIN: Duration = Duration::from_millis(100);
const HEAL_BACKOFF_MAX: Duration = Duration::from_secs(5);
/// How long a reopen waits for readers to return their borrowed database.
const CLOSE_PATIENCE: Duration = Duration::from_secs(2);

impl Writer {
    /// Hands a job to the maintenance thread; once it has stopped, a
    /// barrier is answered here (a snapshot is dropped: nothing waits).
    fn to_maint(&self, job: Maint) {
        let job = match &self.maint {
            Some(m) => match m.send(job) {
                Ok(()) => return,
                Err(std::sync::mpsc::SendError(job)) => job,
            },
            None => job,
        };
        if let Maint::Barrier(reply) = job {
            reply.send();
        }
    }

    /// Writes and flushes one group; true when asked to shut down.
    fn commit(&mut self, mut group: VecDeque<Job>) -> bool {
        let trees = match self.cell.get_exact() {
            Ok(t) => t,
            Err(e) => return refuse(group, &e),
        };
        // (key, value) to write: one record per command, even of several
        // events, so a plain insert keeps a command whole (see `crate::log`).
        let mut log_writes: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut day_writes: Vec<(Vec<u8>, [u8; 8])> = Vec::new();
        let mut appends = Vec::new();
        let mut snaps = Vec::new();
        let mut barriers = Vec::new();
        let mut shutdown = None;
        for job in group.drain(..) {
            match job {
                Job::Append(mut a) => {
                    if a.shared.poisoned.load(Ordering::Acquire) {
                        let _ = a.done.send(Err(StoreError::Poisoned(a.hall.to_string())));
                        continue;
                    }
                    if let Some(record) = a.record.take() {
                        log_writes.push(record);
                    }
                    for (date, seq) in &a.days {
                        day_writes.push((keys::day_key(&a.hall, *date), seq.to_be_bytes()));
                    }
                    appends.push(a);
                }
                Job::Snapshot(s) => snaps.push(s),
                Job::Barrier(tx) => barriers.push(tx),
                Job::Shutdown(tx) => shutdown = Some(tx),
            }
        }
        self.spare = group;
        let wrote = !log_writes.is_empty() || !day_writes.is_empty();
        let result = (|| -> Result<(), sled::Error> {
            for (k, v) in &mut log_writes {
                trees.log.insert(&k[..], std::mem::take(v))?;
            }
            // The day index after the log: sled recovers a prefix of its
            // log, so an index entry never points at a missing event.
            for (k, v) in &day_writes {
                trees.days.insert(&k[..], &v[..])?;
            }
            if wrote {
                if self.fault_injected() {
                    return Err(sled::Error::Io(std::io::Error::from_raw_os_error(ENOSPC)));
                }
                trees.db.flush()?;
            }
            Ok(())
        })();
        // The last log or day key of this group: the witness of its flush.
        let last_key = match (day_writes.last(), log_writes.last()) {
            (Some((k, _)), _) => Some((WITNESS_DAYS, &k[..])),
            (None, Some((k, _))) => Some((WITNESS_LOG, &k[..])),
            _ => None,
        };
        if let (Ok(()), Some((tree, key))) = (&result, last_key) {
            if let Err(e) = self.witness.write(tree, key) {
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
                let err = sled_error(&trees.dir, e);
                tracing::error!(error = %err, "group commit failed; refusing writes until one succeeds again");
                // Before anyone is answered: whoever hears of the refusal
                // and then asks (`/healthz`, `write_failure`) sees it too
                // (the refused appender could see "healthy" first).
                self.cell.set_failure(Some(err.to_string()));
                let mut failed = Failed {
                    log_keys: log_writes.into_iter().map(|(k, _)| k).collect(),
                    day_keys: Vec::new(),
                    next_try: Instant::now() + HEAL_BACKOFF_MIN,
                    backoff: HEAL_BACKOFF_MIN,
                };
                for a in appends {
                    failed.day_keys.extend(
                        a.days
                            .iter()
                            .map(|(date, seq)| (keys::day_key(&a.hall, *date), *seq)),
                    );
                    a.shared.poisoned.store(true, Ordering::Release);
                    let _ = a.done.send(Err(err.clone()));
                }
                self.failed = Some(failed);
            }
        }
        // A snapshot goes to its file only once the events it covers are
        // durable (this group's flush or an earlier one), so it never gets
        // ahead of the log. The maintenance thread writes it (see
        // `crate::maint`); if one is lost, recovery uses the previous
        // snapshot and a longer tail.
        for s in snaps {
            if s.shared.poisoned.load(Ordering::Acquire)
                || s.seq > s.shared.durable.load(Ordering::Acquire)
            {
                tracing::warn!(hall = %s.hall, seq = s.seq, "snapshot dropped: its events are not durable");
                continue;
            }
            self.to_maint(Maint::Snapshot {
                hall: s.hall,
                seq: s.seq,
                json: s.json,
            });
        }
        // Barriers and shutdown are answered once the maintenance thread
        // has also written the snapshots queued before them.
        for b in barriers {
            self.to_maint(Maint::Barrier(Reply::Thread(b)));
        }
        if let Some(tx) = shutdown {
            if let Err(e) = trees.db.flush() {
                tracing::error!(error = %e, "flush failed");
            }
            self.to_maint(Maint::Barrier(Reply::Task(tx)));
            return true;
        }
        false
    }
}

/// `ENOSPC`: what an injected fault reports (a full disk).
const ENOSPC: i32 = 28;

/// Answers a group without touching the database: while writes fail, every
/// append is refused at once (its hall must be recovered before appending
/// again), snapshots are dropped, barriers and shutdown are answered.
fn refuse(group: VecDeque<Job>, err: &StoreError) -> bool {
    let mut stop = false;
    for job in group {
        match job {
            Job::Append(a) => {
                a.shared.poisoned.store(true, Ordering::Release);
                let _ = a.done.send(Err(err.clone()));
            }
            Job::Snapshot(_) => {}
            Job::Barrier(tx) => {
                let _ = tx.send(());
            }
            Job::Shutdown(tx) => {
                let _ = tx.send(());
                stop = true;
            }
        }
    }
    stop
}

impl Writer {
    /// Whether the test hook says the disk is full now.
    fn fault_injected(&self) -> bool {
        self.opts
            .fail_writes_while
            .as_ref()
            .is_some_and(|p| p.exists())
    }

    /// After a failed commit: closes the database, reopens it (sled refuses
    /// every write after an I/O error until reopened, and reopening drops
    /// whatever it held only in memory), removes any record of the failed
    /// commit that reached the disk anyway, and flushes. Success clears the
    /// failure: the store writes again, without a restart. Failure waits
    /// longer before the next try.
    fn heal(&mut self) {
        let Some(mut failed) = self.failed.take() else {
            return;
        };
        failed.backoff = (failed.backoff * 2).min(HEAL_BACKOFF_MAX);
        failed.next_try = Instant::now() + failed.backoff;
        if let Some(mut old) = self.cell.take() {
            let give_up = Instant::now() + CLOSE_PATIENCE;
            loop {
                match Arc::try_unwrap(old) {
                    Ok(trees) => {
                        drop(trees);
                        break;
                    }
                    Err(still_borrowed) if Instant::now() < give_up => {
                        old = still_borrowed;
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(still_borrowed) => {
                        tracing::warn!("the store is still borrowed; reopening it later");
                        self.cell.put(still_borrowed);
                        self.failed = Some(failed);
                        return;
                    }
                }
            }
        }
        let trees = match reopen(&self.opts, self.cell.dir()) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "cannot reopen the store yet");
                self.failed = Some(failed);
                return;
            }
        };
        let cleaned = (|| -> Result<(), sled::Error> {
            for k in &failed.log_keys {
                trees.log.remove(k)?;
            }
            for (k, seq) in &failed.day_keys {
                if trees
                    .days
                    .get(k)?
                    .is_some_and(|v| keys::u64_of(&v) == Some(*seq))
                {
                    trees.days.remove(k)?;
                }
            }
            if self.fault_injected() {
                return Err(sled::Error::Io(std::io::Error::from_raw_os_error(ENOSPC)));
            }
            trees.db.flush()?;
            Ok(())
        })();
        let why = cleaned.map_err(|e| sled_error(&trees.dir, e).to_string());
        // Reads capped at durable seqs may use it either way.
        self.cell.put(Arc::new(trees));
        match why {
            Ok(()) => {
                tracing::info!("the store writes again");
                self.cell.set_failure(None);
            }
            Err(why) => {
                tracing::warn!(error = %why, retry_in = ?failed.backoff, "the store still cannot write");
                self.cell.set_failure(Some(why));
                self.failed = Some(failed);
            }
        }
    }
}
