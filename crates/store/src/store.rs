//! [`Store`]: opening, appending, recovery, reads, snapshots, backup.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use fs2::FileExt;
use hallcall_core::{Event, EventKind, Hall, HallConfig};
use tokio::sync::oneshot;

use crate::keys;
use crate::writer::{
    parse_witness, AppendJob, HallShared, Job, Maintenance, SnapshotJob, Trees, Writer,
    WITNESS_DAYS,
};
use crate::{Durable, StoreError};

/// The store format this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

const LOCK_FILE: &str = "LOCK";
const FORMAT_FILE: &str = "FORMAT";
const COMMIT_FILE: &str = "COMMIT";
const SLED_DIR: &str = "sled";
const FORMAT_KEY: &[u8] = b"format";

/// Tunables; [`StoreOptions::default`] is what the server uses.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Snapshot a hall after this many events since its last snapshot.
    pub snapshot_every_events: u64,
    /// … or after this long, if anything changed.
    pub snapshot_every: Duration,
    /// How far behind the newest event a WebSocket client may resume with
    /// missed events; retention never deletes inside this window.
    pub resume_window: u64,
    /// Business days of events kept for statistics and audit before the
    /// newest day; `None` keeps everything.
    pub retention_days: Option<u32>,
    /// Retention runs at most this often per hall.
    pub compact_every: Duration,
    /// Most queued jobs written by one flush.
    pub max_group: usize,
    /// How long the idle writer polls for the next append before it sleeps.
    pub writer_spin: Duration,
    /// sled's page cache, bytes.
    pub cache_bytes: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            snapshot_every_events: 1_000,
            snapshot_every: Duration::from_secs(60),
            resume_window: 10_000,
            retention_days: Some(400),
            compact_every: Duration::from_secs(600),
            max_group: 16_384,
            writer_spin: Duration::from_micros(200),
            cache_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Durable hall state. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct HallEntry {
    shared: Arc<HallShared>,
    /// Last seq handed to the writer.
    enqueued: u64,
    snap_seq: u64,
    snap_at: Instant,
}

struct State {
    halls: HashMap<Arc<str>, HallEntry>,
    tx: Option<Sender<Job>>,
}

struct Inner {
    dir: PathBuf,
    opts: StoreOptions,
    trees: Trees,
    state: Mutex<State>,
    maint_lock: Arc<Mutex<()>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    _lock: File,
}

impl Drop for Inner {
    fn drop(&mut self) {
        lock(&self.state).tx = None; // the writer drains, flushes and stops
        let threads = std::mem::take(&mut *lock(&self.threads));
        for t in threads {
            let _ = t.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Maps a sled error met while running.
pub(crate) fn sled_error(dir: &Path, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Corruption { at, .. } => StoreError::Corrupt {
            dir: dir.to_path_buf(),
            detail: format!("sled reports corruption at {at:?}"),
        },
        other => StoreError::Io {
            dir: dir.to_path_buf(),
            detail: other.to_string(),
        },
    }
}

fn io_error(dir: &Path, what: &str, e: std::io::Error) -> StoreError {
    StoreError::Io {
        dir: dir.to_path_buf(),
        detail: format!("{what}: {e}"),
    }
}

impl Store {
    /// Opens (or creates) the store in `dir`. Refuses — changing nothing — a
    /// directory locked by another process, written by a newer format,
    /// corrupt, or not a hallcall store; the error says what to do.
    pub fn open(dir: &Path, opts: StoreOptions) -> Result<Store, StoreError> {
        fs::create_dir_all(dir)
            .map_err(|e| io_error(dir, "cannot create the data directory", e))?;
        let lock_file = take_lock(dir)?;

        let format_path = dir.join(FORMAT_FILE);
        let marker = read_marker(dir, &format_path)?;
        if let Some(found) = marker {
            if found > FORMAT_VERSION {
                return Err(StoreError::NewerFormat {
                    dir: dir.to_path_buf(),
                    found,
                    supported: FORMAT_VERSION,
                });
            }
        }
        let sled_path = dir.join(SLED_DIR);
        if marker.is_none() {
            // Only a directory that is empty (but for our lock) may be made a store.
            let mut others = Vec::new();
            for entry in
                fs::read_dir(dir).map_err(|e| io_error(dir, "cannot list the data directory", e))?
            {
                let entry =
                    entry.map_err(|e| io_error(dir, "cannot list the data directory", e))?;
                let name = entry.file_name();
                if name != LOCK_FILE && name != SLED_DIR && name != COMMIT_FILE {
                    others.push(name.to_string_lossy().into_owned());
                }
            }
            if !others.is_empty() {
                others.sort();
                others.truncate(5);
                return Err(StoreError::Foreign {
                    dir: dir.to_path_buf(),
                    detail: format!("it holds {} but no {FORMAT_FILE} file", others.join(", ")),
                });
            }
        }
        let sled_existed = sled_path.join("db").exists();
        if marker.is_some() && !sled_existed {
            return Err(StoreError::Corrupt {
                dir: dir.to_path_buf(),
                detail: format!(
                    "{FORMAT_FILE} says it holds a store, but {} is missing",
                    sled_path.join("db").display()
                ),
            });
        }

        let db = open_sled(dir, &sled_path, &opts)?;
        let err = |e| open_error(dir, e);
        let meta = db.open_tree("meta").map_err(err)?;
        match meta.get(FORMAT_KEY).map_err(err)? {
            Some(v) => {
                let found = <[u8; 4]>::try_from(&v[..])
                    .ok()
                    .map(u32::from_be_bytes)
                    .ok_or_else(|| StoreError::Corrupt {
                        dir: dir.to_path_buf(),
                        detail: "the format record in the database is unreadable".into(),
                    })?;
                if found > FORMAT_VERSION {
                    return Err(StoreError::NewerFormat {
                        dir: dir.to_path_buf(),
                        found,
                        supported: FORMAT_VERSION,
                    });
                }
                if marker != Some(found) {
                    write_marker(dir, &format_path, found)?;
                }
            }
            None => {
                if marker.is_some() {
                    return Err(StoreError::Corrupt {
                        dir: dir.to_path_buf(),
                        detail: format!(
                            "{FORMAT_FILE} says the directory holds a store, but the database has no \
                             format record: the database file is damaged, truncated or was replaced"
                        ),
                    });
                }
                let names = db.tree_names();
                let foreign = names
                    .iter()
                    .any(|n| !matches!(&n[..], b"meta" | b"__sled__default"))
                    || !db.is_empty();
                if foreign {
                    return Err(StoreError::Foreign {
                        dir: dir.to_path_buf(),
                        detail: "it holds a sled database without a hallcall format record".into(),
                    });
                }
                meta.insert(FORMAT_KEY, &FORMAT_VERSION.to_be_bytes()[..])
                    .map_err(err)?;
                db.flush().map_err(err)?;
                write_marker(dir, &format_path, FORMAT_VERSION)?;
            }
        }
        // The last key a returned flush covered must be there: sled treats a
        // damaged record as the torn end of its log and silently drops
        // everything after it, and this is how that is noticed.
        let witness_path = dir.join(COMMIT_FILE);
        match fs::read(&witness_path) {
            Ok(b) if b.is_empty() => {}
            Ok(b) => match parse_witness(&b) {
                Some((tree, key)) => {
                    let (name, t) = match tree {
                        WITNESS_DAYS => ("day index", db.open_tree("days").map_err(err)?),
                        _ => ("log", db.open_tree("log").map_err(err)?),
                    };
                    if !t.contains_key(key).map_err(err)? {
                        let hall = keys::hall_of(key).unwrap_or("?");
                        let at = match tree {
                            WITNESS_DAYS => String::from_utf8_lossy(
                                key.get(hall.len() + 1..).unwrap_or_default(),
                            )
                            .into_owned(),
                            _ => keys::log_seq(hall, key)
                                .map(|s| format!("seq {s}"))
                                .unwrap_or_default(),
                        };
                        return Err(StoreError::Corrupt {
                            dir: dir.to_path_buf(),
                            detail: format!(
                                "the last record flushed and acknowledged before the store stopped \
                                 ({name} of hall {hall}, {at}) is missing: sled dropped the end of its \
                                 log at a damaged record, so acknowledged events are missing"
                            ),
                        });
                    }
                }
                None => {
                    tracing::warn!(path = %witness_path.display(), "COMMIT is damaged; not checked")
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(dir, "cannot read COMMIT", e)),
        }
        let witness = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&witness_path)
            .map_err(|e| io_error(dir, "cannot open COMMIT", e))?;

        let trees = Trees {
            dir: dir.to_path_buf(),
            log: db.open_tree("log").map_err(err)?,
            days: db.open_tree("days").map_err(err)?,
            snap: db.open_tree("snap").map_err(err)?,
            db,
        };

        let (tx, rx) = mpsc::channel();
        let (mtx, mrx) = mpsc::channel();
        let maint_lock = Arc::new(Mutex::new(()));
        let writer = Writer {
            trees: trees.clone(),
            witness,
            rx,
            max_group: opts.max_group.max(1),
            spin: opts.writer_spin,
            maint: mtx,
        };
        let maintenance = Maintenance {
            trees: trees.clone(),
            rx: mrx,
            lock: maint_lock.clone(),
            retention_days: opts.retention_days,
            resume_window: opts.resume_window,
            every: opts.compact_every,
        };
        let spawn_err = |e| io_error(dir, "cannot start the store's threads", e);
        let w = std::thread::Builder::new()
            .name("hallcall-store-writer".into())
            .spawn(move || writer.run())
            .map_err(spawn_err)?;
        let m = std::thread::Builder::new()
            .name("hallcall-store-maint".into())
            .spawn(move || maintenance.run())
            .map_err(spawn_err)?;
        Ok(Store {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                opts,
                trees,
                state: Mutex::new(State {
                    halls: HashMap::new(),
                    tx: Some(tx),
                }),
                maint_lock,
                threads: Mutex::new(vec![w, m]),
                _lock: lock_file,
            }),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub fn options(&self) -> &StoreOptions {
        &self.inner.opts
    }

    fn err(&self, e: sled::Error) -> StoreError {
        sled_error(&self.inner.dir, e)
    }

    fn corrupt(&self, detail: String) -> StoreError {
        StoreError::Corrupt {
            dir: self.inner.dir.clone(),
            detail,
        }
    }

    /// The last seq in the log of `hall`, 0 if none.
    fn last_logged(&self, hall: &str) -> Result<u64, StoreError> {
        let t = &self.inner.trees;
        match t
            .log
            .range(keys::log_key(hall, 0)..=keys::log_key(hall, u64::MAX))
            .next_back()
        {
            None => Ok(0),
            Some(item) => {
                let (k, _) = item.map_err(|e| self.err(e))?;
                keys::log_seq(hall, &k)
                    .ok_or_else(|| self.corrupt(format!("bad log key for hall {hall}")))
            }
        }
    }

    fn first_logged(&self, hall: &str) -> Result<Option<u64>, StoreError> {
        let t = &self.inner.trees;
        match t
            .log
            .range(keys::log_key(hall, 0)..=keys::log_key(hall, u64::MAX))
            .next()
        {
            None => Ok(None),
            Some(item) => {
                let (k, _) = item.map_err(|e| self.err(e))?;
                keys::log_seq(hall, &k)
                    .map(Some)
                    .ok_or_else(|| self.corrupt(format!("bad log key for hall {hall}")))
            }
        }
    }

    /// Seq of the stored snapshot of `hall` (0: none).
    pub fn snapshot_seq(&self, hall: &str) -> Result<u64, StoreError> {
        match self
            .inner
            .trees
            .snap
            .get(hall.as_bytes())
            .map_err(|e| self.err(e))?
        {
            None => Ok(0),
            Some(v) => keys::snap_parts(&v).map(|(s, _)| s).ok_or_else(|| {
                self.corrupt(format!("the snapshot of hall {hall} has an unknown header"))
            }),
        }
    }

    /// The entry of `hall`, loaded from disk the first time.
    fn entry<'a>(&self, st: &'a mut State, hall: &str) -> Result<&'a mut HallEntry, StoreError> {
        if !st.halls.contains_key(hall) {
            let snap_seq = self.snapshot_seq(hall)?;
            let last = self.last_logged(hall)?.max(snap_seq);
            let shared = Arc::new(HallShared::default());
            shared.durable.store(last, Ordering::Release);
            st.halls.insert(
                Arc::from(hall),
                HallEntry {
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

    /// Waits until every job queued before this call is written and flushed.
    fn barrier(&self) -> Result<(), StoreError> {
        let (tx, rx) = mpsc::channel();
        {
            let st = lock(&self.inner.state);
            let sender = st.tx.as_ref().ok_or(StoreError::Closed)?;
            sender
                .send(Job::Barrier(tx))
                .map_err(|_| StoreError::Closed)?;
        }
        rx.recv().map_err(|_| StoreError::Closed)
    }

    /// Rebuilds a hall: its latest snapshot, then every later event through
    /// [`Hall::apply`]; `Hall::new(config)` if nothing is stored. If the stored
    /// configuration differs from `config`, the hall is returned as stored
    /// (the server then issues `ReloadConfig`). Also clears a failed hall.
    pub fn recover(&self, config: HallConfig) -> Result<Hall, StoreError> {
        let id = config.id.clone();
        keys::check_hall(&id)?;
        self.barrier()?;
        let t = &self.inner.trees;
        let (mut hall, snap_seq) = match t.snap.get(id.as_bytes()).map_err(|e| self.err(e))? {
            Some(v) => {
                let (seq, json) = keys::snap_parts(&v).ok_or_else(|| {
                    self.corrupt(format!("the snapshot of hall {id} has an unknown header"))
                })?;
                let hall = Hall::from_snapshot(json).map_err(|e| {
                    self.corrupt(format!(
                        "the snapshot of hall {id} at seq {seq} is unreadable: {e}"
                    ))
                })?;
                if hall.seq() != seq || hall.id() != id {
                    return Err(self.corrupt(format!(
                        "the snapshot of hall {id} at seq {seq} holds hall {} at seq {}",
                        hall.id(),
                        hall.seq()
                    )));
                }
                (hall, seq)
            }
            None => {
                let hall = Hall::new(config);
                if self.last_logged(&id)? == 0 {
                    // A new hall: its first snapshot is its empty state, so the
                    // configuration it started with is stored with its log.
                    let json = hall.to_snapshot();
                    let st = lock(&self.inner.state);
                    let tx = st.tx.as_ref().ok_or(StoreError::Closed)?;
                    let shared = Arc::new(HallShared::default());
                    tx.send(Job::Snapshot(SnapshotJob {
                        hall: Arc::from(id.as_str()),
                        seq: 0,
                        value: keys::snap_value(0, &json),
                        shared,
                    }))
                    .map_err(|_| StoreError::Closed)?;
                }
                (hall, 0)
            }
        };
        let from = hall.seq() + 1;
        for item in t
            .log
            .range(keys::log_key(&id, from)..=keys::log_key(&id, u64::MAX))
        {
            let (k, v) = item.map_err(|e| self.err(e))?;
            let ev = self.decode(&id, &k, &v)?;
            if ev.seq != hall.seq() + 1 {
                return Err(self.corrupt(format!(
                    "the log of hall {id} jumps from seq {} to {}: events are missing",
                    hall.seq(),
                    ev.seq
                )));
            }
            hall.apply(&ev);
        }
        let last_logged = self.last_logged(&id)?;
        if snap_seq > 0 && last_logged < snap_seq {
            return Err(self.corrupt(format!(
                "the log of hall {id} ends at seq {last_logged} but its snapshot is at seq {snap_seq}: \
                 acknowledged events were lost"
            )));
        }
        let shared = Arc::new(HallShared::default());
        shared.durable.store(hall.seq(), Ordering::Release);
        lock(&self.inner.state).halls.insert(
            Arc::from(id.as_str()),
            HallEntry {
                shared,
                enqueued: hall.seq(),
                snap_seq,
                snap_at: Instant::now(),
            },
        );
        Ok(hall)
    }

    fn decode(&self, hall: &str, key: &[u8], value: &[u8]) -> Result<Event, StoreError> {
        let seq = keys::log_seq(hall, key)
            .ok_or_else(|| self.corrupt(format!("bad log key in hall {hall}")))?;
        let ev: Event = serde_json::from_slice(value)
            .map_err(|e| self.corrupt(format!("event {seq} of hall {hall} is unreadable: {e}")))?;
        if ev.seq != seq || &*ev.hall != hall {
            return Err(self.corrupt(format!(
                "the log record at hall {hall} seq {seq} holds event {} of hall {}",
                ev.seq, ev.hall
            )));
        }
        Ok(ev)
    }

    /// Queues `events` (the output of one `Hall::handle`, in order) for the
    /// next group commit. The order per hall is fixed here, before awaiting:
    /// the events must continue the hall's sequence. The returned future
    /// resolves once a flush covering them has returned.
    pub fn append(&self, hall: &str, events: Vec<Event>) -> Durable {
        match self.enqueue(hall, events) {
            Ok(rx) => Durable::waiting(rx),
            Err(e) => Durable::ready(Err(e)),
        }
    }

    fn enqueue(
        &self,
        hall: &str,
        events: Vec<Event>,
    ) -> Result<oneshot::Receiver<Result<(), StoreError>>, StoreError> {
        keys::check_hall(hall)?;
        let mut records = Vec::with_capacity(events.len());
        let mut days = Vec::new();
        for ev in &events {
            if &*ev.hall != hall {
                return Err(StoreError::Invalid(format!(
                    "event {} of hall {} appended to hall {hall}",
                    ev.seq, ev.hall
                )));
            }
            if let Some((prev, _)) = records.last() {
                if ev.seq != prev + 1 {
                    return Err(StoreError::OutOfOrder {
                        hall: hall.into(),
                        expected: prev + 1,
                        got: ev.seq,
                    });
                }
            }
            let bytes = serde_json::to_vec(ev).map_err(|e| {
                StoreError::Invalid(format!(
                    "event {} of hall {hall} cannot be encoded: {e}",
                    ev.seq
                ))
            })?;
            records.push((ev.seq, bytes));
            if let EventKind::DayOpened { date } = ev.kind {
                days.push((date, ev.seq));
            }
        }
        let (done, rx) = oneshot::channel();
        let mut st = lock(&self.inner.state);
        let tx = st.tx.clone().ok_or(StoreError::Closed)?;
        let entry = self.entry(&mut st, hall)?;
        if entry.shared.poisoned.load(Ordering::Acquire) {
            return Err(StoreError::Poisoned(hall.into()));
        }
        let last = match (records.first(), records.last()) {
            (Some(&(first, _)), Some(&(last, _))) => {
                if first != entry.enqueued + 1 {
                    entry.shared.poisoned.store(true, Ordering::Release);
                    return Err(StoreError::OutOfOrder {
                        hall: hall.into(),
                        expected: entry.enqueued + 1,
                        got: first,
                    });
                }
                last
            }
            // Nothing to write: still resolves only after everything queued
            // before it, so pipelined answers stay in order.
            _ => entry.enqueued,
        };
        let job = AppendJob {
            hall: Arc::from(hall),
            last,
            records,
            days,
            shared: entry.shared.clone(),
            done,
        };
        tx.send(Job::Append(job)).map_err(|_| StoreError::Closed)?;
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
        match self.first_logged(hall)? {
            Some(first) if first <= since + 1 => {}
            _ => return Ok(None),
        }
        let upto = durable.min(since.saturating_add(limit as u64));
        self.read_range(hall, since + 1, upto).map(Some)
    }

    /// Retained durable events of `hall` from seq `from` on, ascending, at
    /// most `limit` (for audits, tools and tests; no resume window).
    pub fn read_log(&self, hall: &str, from: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        let durable = self.durable_seq(hall)?;
        if from > durable || limit == 0 {
            return Ok(Vec::new());
        }
        let upto = durable.min(from.saturating_add(limit as u64 - 1));
        let t = &self.inner.trees;
        let mut out = Vec::new();
        for item in t
            .log
            .range(keys::log_key(hall, from)..=keys::log_key(hall, upto))
        {
            let (k, v) = item.map_err(|e| self.err(e))?;
            out.push(self.decode(hall, &k, &v)?);
        }
        Ok(out)
    }

    /// Events `from..=upto`, which must all be there.
    fn read_range(&self, hall: &str, from: u64, upto: u64) -> Result<Vec<Event>, StoreError> {
        let t = &self.inner.trees;
        let mut out = Vec::with_capacity(upto.saturating_sub(from) as usize + 1);
        let mut expect = from;
        for item in t
            .log
            .range(keys::log_key(hall, from)..=keys::log_key(hall, upto))
        {
            let (k, v) = item.map_err(|e| self.err(e))?;
            let ev = self.decode(hall, &k, &v)?;
            if ev.seq != expect {
                return Err(self.corrupt(format!("the log of hall {hall} lacks event {expect}")));
            }
            expect += 1;
            out.push(ev);
        }
        if expect <= upto {
            return Err(self.corrupt(format!("the log of hall {hall} lacks event {expect}")));
        }
        Ok(out)
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
            let due = seq > entry.snap_seq
                && (seq - entry.snap_seq >= self.inner.opts.snapshot_every_events
                    || entry.snap_at.elapsed() >= self.inner.opts.snapshot_every);
            if !due {
                return Ok(false);
            }
            if seq > entry.enqueued {
                return Err(StoreError::Invalid(format!(
                    "snapshot of hall {id} at seq {seq} is ahead of its appended events ({}): append first",
                    entry.enqueued
                )));
            }
        }
        let json = hall.to_snapshot();
        if json.is_empty() {
            return Err(StoreError::Invalid(format!(
                "hall {id} could not be serialised"
            )));
        }
        let value = keys::snap_value(seq, &json);
        let mut st = lock(&self.inner.state);
        let tx = st.tx.clone().ok_or(StoreError::Closed)?;
        let entry = self.entry(&mut st, id)?;
        tx.send(Job::Snapshot(SnapshotJob {
            hall: Arc::from(id),
            seq,
            value,
            shared: entry.shared.clone(),
        }))
        .map_err(|_| StoreError::Closed)?;
        entry.snap_seq = seq;
        entry.snap_at = Instant::now();
        Ok(true)
    }

    /// The durable events of `hall`'s business day `date` (from its
    /// `day_opened` to the next day's), for statistics
    /// (`hallcall_core::stats::DayStats::from_events`). Empty for a day the
    /// hall did not open or that retention has deleted.
    pub fn day_events(&self, hall: &str, date: NaiveDate) -> Result<Vec<Event>, StoreError> {
        let durable = self.durable_seq(hall)?;
        let t = &self.inner.trees;
        let key = keys::day_key(hall, date);
        let Some(v) = t.days.get(&key).map_err(|e| self.err(e))? else {
            return Ok(Vec::new());
        };
        let start = keys::u64_of(&v)
            .ok_or_else(|| self.corrupt(format!("bad day index record of hall {hall}")))?;
        let mut end = durable + 1;
        let mut after = key.clone();
        after.push(0xff);
        if let Some(item) = t.days.range(after..).next() {
            let (k, v) = item.map_err(|e| self.err(e))?;
            if keys::hall_of(&k) == Some(hall) {
                end = keys::u64_of(&v)
                    .ok_or_else(|| self.corrupt(format!("bad day index record of hall {hall}")))?;
            }
        }
        let end = end.min(durable + 1);
        if start >= end {
            return Ok(Vec::new());
        }
        self.read_range(hall, start, end - 1)
    }

    /// Business days of `hall` that have events, ascending.
    pub fn days(&self, hall: &str) -> Result<Vec<NaiveDate>, StoreError> {
        keys::check_hall(hall)?;
        let mut out = Vec::new();
        for item in self.inner.trees.days.scan_prefix(keys::prefix(hall)) {
            let (k, _) = item.map_err(|e| self.err(e))?;
            out.push(
                keys::day_of(hall, &k)
                    .ok_or_else(|| self.corrupt(format!("bad day key of hall {hall}")))?,
            );
        }
        Ok(out)
    }

    /// The halls with anything stored, sorted.
    pub fn halls(&self) -> Result<Vec<String>, StoreError> {
        let t = &self.inner.trees;
        let mut out = std::collections::BTreeSet::new();
        let mut from: Vec<u8> = Vec::new();
        loop {
            let Some(item) = t.log.range(from.clone()..).next() else {
                break;
            };
            let (k, _) = item.map_err(|e| self.err(e))?;
            let hall =
                keys::hall_of(&k).ok_or_else(|| self.corrupt("a log key without a hall".into()))?;
            out.insert(hall.to_string());
            from = hall.as_bytes().to_vec();
            from.push(1);
        }
        for item in t.snap.iter().keys() {
            let k = item.map_err(|e| self.err(e))?;
            let hall = std::str::from_utf8(&k)
                .map_err(|_| self.corrupt("a snapshot key is not UTF-8".into()))?;
            out.insert(hall.to_string());
        }
        Ok(out.into_iter().collect())
    }

    /// Writes a consistent copy of the store into `to` (a new or empty
    /// directory) while it runs. For each hall the copy holds its snapshot
    /// and every durable event up to a single seq, with no gap; retention is
    /// paused meanwhile. `to` is itself a data directory (see [`Store::restore`]).
    pub fn backup(&self, to: &Path) -> Result<(), StoreError> {
        check_empty_target(to)?;
        if to.exists() && fs::canonicalize(to).ok() == fs::canonicalize(&self.inner.dir).ok() {
            return Err(StoreError::Invalid(
                "cannot back up a store into itself".into(),
            ));
        }
        let target = Store::open(to, StoreOptions::default())?;
        let _pause = lock(&self.inner.maint_lock);
        self.barrier()?;
        let (src, dst) = (&self.inner.trees, &target.inner.trees);
        let terr = |e| sled_error(to, e);
        for hall in self.halls()? {
            let snap = src.snap.get(hall.as_bytes()).map_err(|e| self.err(e))?;
            let snap_seq = match &snap {
                Some(v) => keys::snap_parts(v).map(|(s, _)| s).ok_or_else(|| {
                    self.corrupt(format!("the snapshot of hall {hall} has an unknown header"))
                })?,
                None => 0,
            };
            let upto = self.durable_seq(&hall)?.max(snap_seq);
            let mut batch = sled::Batch::default();
            let mut n = 0;
            for item in src
                .log
                .range(keys::log_key(&hall, 0)..=keys::log_key(&hall, upto))
            {
                let (k, v) = item.map_err(|e| self.err(e))?;
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
                let (k, v) = item.map_err(|e| self.err(e))?;
                if keys::u64_of(&v).is_some_and(|s| s <= upto) {
                    dst.days.insert(k, v).map_err(terr)?;
                }
            }
            if let Some(v) = snap {
                dst.snap.insert(hall.as_bytes(), v).map_err(terr)?;
            }
        }
        dst.db.flush().map_err(terr)?;
        drop(target);
        Ok(())
    }

    /// Restores a backup made by [`Store::backup`] into `to`, a new or empty
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
        let src = Store::open(backup, StoreOptions::default())?;
        for hall in src.halls()? {
            // Every record readable and every sequence without a gap.
            let mut from = src.first_logged(&hall)?.unwrap_or(1);
            loop {
                let evs = src.read_log(&hall, from, 10_000)?;
                let Some(last) = evs.last() else { break };
                if last.seq + 1 - from != evs.len() as u64 {
                    return Err(
                        src.corrupt(format!("the log of hall {hall} has a gap after seq {from}"))
                    );
                }
                from = last.seq + 1;
            }
        }
        src.backup(to)
    }

    /// Flushes everything queued and stops the writer; later appends fail
    /// with [`StoreError::Closed`].
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        {
            let st = lock(&self.inner.state);
            let Some(sender) = st.tx.as_ref() else { return };
            if sender.send(Job::Shutdown(tx)).is_err() {
                return;
            }
        }
        let _ = rx.await;
        lock(&self.inner.state).tx = None;
    }
}

fn check_empty_target(to: &Path) -> Result<(), StoreError> {
    if to.exists() {
        let mut it =
            fs::read_dir(to).map_err(|e| io_error(to, "cannot list the target directory", e))?;
        if it.next().is_some() {
            return Err(StoreError::TargetNotEmpty(to.to_path_buf()));
        }
    }
    Ok(())
}

/// Takes `dir/LOCK` (advisory, released by the kernel when the process dies)
/// and writes our pid into it.
fn take_lock(dir: &Path) -> Result<File, StoreError> {
    let path = dir.join(LOCK_FILE);
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| io_error(dir, "cannot open the lock file", e))?;
    if f.try_lock_exclusive().is_err() {
        let mut holder = String::new();
        let _ = f.read_to_string(&mut holder);
        let holder = holder.trim();
        return Err(StoreError::Locked {
            dir: dir.to_path_buf(),
            holder: if holder.is_empty() {
                String::new()
            } else {
                format!(" (pid {holder})")
            },
        });
    }
    let _ = f.set_len(0);
    let _ = f.seek(SeekFrom::Start(0));
    let _ = writeln!(f, "{}", std::process::id());
    let _ = f.sync_all();
    Ok(f)
}

fn read_marker(dir: &Path, path: &Path) -> Result<Option<u32>, StoreError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(dir, "cannot read FORMAT", e)),
    };
    text.trim()
        .strip_prefix("hallcall-store ")
        .and_then(|v| v.trim().parse::<u32>().ok())
        .map(Some)
        .ok_or_else(|| StoreError::Corrupt {
            dir: dir.to_path_buf(),
            detail: format!(
                "{FORMAT_FILE} is unreadable: {:?}",
                text.chars().take(40).collect::<String>()
            ),
        })
}

fn write_marker(dir: &Path, path: &Path, version: u32) -> Result<(), StoreError> {
    let tmp = path.with_extension("tmp");
    let werr = |e| io_error(dir, "cannot write FORMAT", e);
    let mut f = File::create(&tmp).map_err(werr)?;
    writeln!(f, "hallcall-store {version}").map_err(werr)?;
    f.sync_all().map_err(werr)?;
    fs::rename(&tmp, path).map_err(werr)?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn open_error(dir: &Path, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(ref io) if io.to_string().contains("could not acquire lock") => {
            StoreError::Locked {
                dir: dir.to_path_buf(),
                holder: String::new(),
            }
        }
        sled::Error::Io(io) => StoreError::Io {
            dir: dir.to_path_buf(),
            detail: format!("cannot open the database: {io}"),
        },
        sled::Error::Corruption { at, .. } => StoreError::Corrupt {
            dir: dir.to_path_buf(),
            detail: format!("sled found a damaged record at {at:?}"),
        },
        sled::Error::Unsupported(why) => StoreError::Corrupt {
            dir: dir.to_path_buf(),
            detail: format!("sled cannot open it: {why}"),
        },
        other => StoreError::Corrupt {
            dir: dir.to_path_buf(),
            detail: format!("sled cannot open it: {other}"),
        },
    }
}

fn open_sled(dir: &Path, sled_path: &Path, opts: &StoreOptions) -> Result<sled::Db, StoreError> {
    let config = sled::Config::new()
        .path(sled_path)
        .cache_capacity(opts.cache_bytes)
        .flush_every_ms(Some(1000));
    // sled may panic on some damaged files instead of returning an error.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open())) {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(e)) => Err(open_error(dir, e)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(StoreError::Corrupt {
                dir: dir.to_path_buf(),
                detail: format!("sled failed while reading the database: {what}"),
            })
        }
    }
}
