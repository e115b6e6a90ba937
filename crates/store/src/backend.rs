//! [`Store`]: the one interface the server uses, over either backend — the
//! embedded sled database (the default) or PostgreSQL. An enum rather than a
//! trait object: two backends, known here, with an async `shutdown` and a
//! future-returning `append`, which a trait object would have to box.
//!
//! Both keep the same contract: a per-hall ordered log whose appends are
//! checked to continue the hall's sequence; [`Durable`] resolves only after
//! the flush or commit that covers the append; snapshots never ahead of the
//! durable log; recovery is the latest snapshot plus the tail through
//! [`Hall::apply`]; reads return durable events only; group commit across
//! halls.

use std::path::Path;

use chrono::NaiveDate;
use hallcall_core::{Event, Hall, HallConfig};

use crate::options::StoreOptions;
use crate::pg::{Leases, PgStore, StoredSession};
use crate::store::SledStore;
use crate::{Durable, StoreError};

/// A stored snapshot as it is: its seq and the `Hall::to_snapshot` JSON.
pub type RawSnapshot = (u64, Vec<u8>);

/// Durable hall state on sled or PostgreSQL. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Sled(SledStore),
    Postgres(PgStore),
}

/// Calls the same method on whichever backend this store is.
macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match &$self.backend {
            Backend::Sled($s) => $e,
            Backend::Postgres($s) => $e,
        }
    };
}

impl Store {
    /// Opens (or creates) the sled store in `dir`. Refuses — changing nothing
    /// — a directory locked by another process, written by a newer format,
    /// corrupt, or not a hallcall store; the error says what to do.
    pub fn open(dir: &Path, opts: StoreOptions) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Sled(SledStore::open(dir, opts)?),
        })
    }

    /// Connects to PostgreSQL at `url` (`postgres://user:pass@host:port/db`),
    /// creating or migrating the schema (in [`StoreOptions::pg_schema`] if
    /// set). Refuses a database migrated by a newer hallcall. Blocks until
    /// connected; callable inside a runtime or not.
    pub fn open_postgres(url: &str, opts: StoreOptions) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Postgres(PgStore::open(url, opts)?),
        })
    }

    /// Opens `location`: a `postgres://` or `postgresql://` URL, or else a
    /// data directory for sled. What `hallcall serve --store` takes.
    pub fn open_location(location: &str, opts: StoreOptions) -> Result<Store, StoreError> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            Store::open_postgres(location, opts)
        } else {
            Store::open(Path::new(location), opts)
        }
    }

    /// Which backend: `"sled"` or `"postgres"` (for logs and metrics).
    pub fn backend(&self) -> &'static str {
        match &self.backend {
            Backend::Sled(_) => "sled",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// The data directory (sled), or the database URL without its password
    /// (PostgreSQL).
    pub fn dir(&self) -> &Path {
        match &self.backend {
            Backend::Sled(s) => s.dir(),
            Backend::Postgres(p) => p.label(),
        }
    }

    pub fn options(&self) -> &StoreOptions {
        each!(self, s => s.options())
    }

    /// Highest durable seq of `hall`.
    pub fn durable_seq(&self, hall: &str) -> Result<u64, StoreError> {
        each!(self, s => s.durable_seq(hall))
    }

    /// Rebuilds a hall: its latest snapshot, then every later event through
    /// [`Hall::apply`]; `Hall::new(config)` if nothing is stored. If the stored
    /// configuration differs from `config`, the hall is returned as stored
    /// (the server then issues `ReloadConfig`). Also clears a failed hall.
    pub fn recover(&self, config: HallConfig) -> Result<Hall, StoreError> {
        each!(self, s => s.recover(config))
    }

    /// Queues `events` (the output of one `Hall::handle`, in order) for the
    /// next group commit. The order per hall is fixed here, before awaiting:
    /// the events must continue the hall's sequence. The returned future
    /// resolves once a flush (sled) or commit (PostgreSQL) covering them has
    /// returned.
    pub fn append(&self, hall: &str, events: Vec<Event>) -> Durable {
        each!(self, s => s.append(hall, events))
    }

    /// The snapshot policy, in one place: snapshot `hall` when
    /// `snapshot_every_events` events or `snapshot_every` have passed since
    /// its last snapshot (and something changed). Call it after each command
    /// batch, after `append`. The snapshot is written once its events are
    /// durable. Returns whether one was taken.
    pub fn maybe_snapshot(&self, hall: &Hall) -> Result<bool, StoreError> {
        each!(self, s => s.maybe_snapshot(hall))
    }

    /// Seq of the stored snapshot of `hall` (0: none).
    pub fn snapshot_seq(&self, hall: &str) -> Result<u64, StoreError> {
        each!(self, s => s.snapshot_seq(hall))
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
        each!(self, s => s.events_since(hall, since, limit))
    }

    /// Retained durable events of `hall` from seq `from` on, ascending, at
    /// most `limit` (for audits, tools and tests; no resume window).
    pub fn read_log(&self, hall: &str, from: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        each!(self, s => s.read_log(hall, from, limit))
    }

    /// The durable events of `hall`'s business day `date` (from its
    /// `day_opened` to the next day's), for statistics
    /// (`hallcall_core::stats::DayStats::from_events`). Empty for a day the
    /// hall did not open or that retention has deleted.
    pub fn day_events(&self, hall: &str, date: NaiveDate) -> Result<Vec<Event>, StoreError> {
        each!(self, s => s.day_events(hall, date))
    }

    /// Business days of `hall` that have events, ascending.
    pub fn days(&self, hall: &str) -> Result<Vec<NaiveDate>, StoreError> {
        each!(self, s => s.days(hall))
    }

    /// The halls with anything stored, sorted.
    pub fn halls(&self) -> Result<Vec<String>, StoreError> {
        each!(self, s => s.halls())
    }

    /// Committed events of `hall` from seq `from` on, at most `limit`, even
    /// past what this process appended: a node that does not own the hall
    /// tails what its owner writes (several nodes on PostgreSQL). They
    /// become durable for this store's reads too. On sled (one process) the
    /// same as [`Store::read_log`].
    pub fn follow(&self, hall: &str, from: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        match &self.backend {
            Backend::Sled(s) => s.read_log(hall, from, limit),
            Backend::Postgres(p) => p.follow(hall, from, limit),
        }
    }

    /// This node's hall leases (several nodes on PostgreSQL; see
    /// [`Leases`]). Appends are fenced by them only if the store was opened
    /// with [`StoreOptions::pg_node`] set to `node`.
    pub fn leases(
        &self,
        node: &str,
        addr: &str,
        lease: std::time::Duration,
    ) -> Result<Leases, StoreError> {
        match &self.backend {
            Backend::Sled(_) => Err(StoreError::Invalid(
                "several nodes need a shared PostgreSQL store (--store postgres://…)".into(),
            )),
            Backend::Postgres(p) => {
                if p.options().pg_node.as_deref() != Some(node) {
                    return Err(StoreError::Invalid(format!(
                        "the store was not opened for node {node} (StoreOptions::pg_node)"
                    )));
                }
                Ok(p.leases(node, addr, lease))
            }
        }
    }

    /// Whether clerk sessions and webhook positions live in this store
    /// (PostgreSQL: shared by every node, see [`Store::put_session`]). With
    /// sled they stay in the server's `sessions.json` and `webhooks.json`
    /// beside the data, and these methods answer [`StoreError::Invalid`].
    pub fn keeps_sessions(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Every stored clerk session of `hall` (PostgreSQL). A node reads them
    /// when it takes the hall over, after acquiring its lease, so it sees
    /// every session the previous owner wrote.
    pub async fn sessions_of(&self, hall: &str) -> Result<Vec<StoredSession>, StoreError> {
        match &self.backend {
            Backend::Sled(_) => Err(sessions_not_here()),
            Backend::Postgres(p) => p.sessions_of(hall).await,
        }
    }

    /// Makes `session` its clerk's current session in `hall`, replacing an
    /// earlier one, durably (PostgreSQL). Fenced like appends: with
    /// [`StoreOptions::pg_node`] set, written only while that node holds the
    /// hall's lease, else [`StoreError::NotOwner`] and nothing changes.
    pub async fn put_session(&self, hall: &str, session: StoredSession) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled(_) => Err(sessions_not_here()),
            Backend::Postgres(p) => p.put_session(hall, session).await,
        }
    }

    /// Ends `staff`'s session in `hall` for good (PostgreSQL); `Ok(false)`
    /// when there was none. Fenced as [`Store::put_session`].
    pub async fn end_session(&self, hall: &str, staff: &str) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sled(_) => Err(sessions_not_here()),
            Backend::Postgres(p) => p.end_session(hall, staff).await,
        }
    }

    /// The stored position of webhook `hook` of `hall` (PostgreSQL): the
    /// last seq it handled, as the hall's owner last wrote it.
    pub async fn webhook_position(
        &self,
        hall: &str,
        hook: &str,
    ) -> Result<Option<u64>, StoreError> {
        match &self.backend {
            Backend::Sled(_) => Err(sessions_not_here()),
            Backend::Postgres(p) => p.webhook_position(hall, hook).await,
        }
    }

    /// Stores positions of `hall`'s webhooks (PostgreSQL), fenced by the
    /// hall's lease as [`Store::put_session`] is.
    pub async fn put_webhook_positions(
        &self,
        hall: &str,
        positions: Vec<(String, u64)>,
    ) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled(_) => Err(sessions_not_here()),
            Backend::Postgres(p) => p.put_webhook_positions(hall, positions).await,
        }
    }

    /// A hall's log as stored, to move it to another store (`hallcall
    /// migrate`): its latest snapshot (seq, JSON) and every retained event.
    pub fn export(&self, hall: &str) -> Result<(Option<RawSnapshot>, Vec<Event>), StoreError> {
        match &self.backend {
            Backend::Sled(s) => {
                let snap = s.inner.trees.get()?.snapshot(hall)?;
                let events = s.read_log(hall, 1, usize::MAX)?;
                Ok((snap, events))
            }
            Backend::Postgres(_) => Err(StoreError::Invalid(
                "a PostgreSQL store is copied with the database's own tools (pg_dump)".into(),
            )),
        }
    }

    /// Writes a hall exported by [`Store::export`] into this PostgreSQL
    /// store, in one transaction, refusing a hall that already has a log here.
    pub fn import(
        &self,
        hall: &str,
        snapshot: Option<RawSnapshot>,
        events: Vec<Event>,
    ) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled(_) => Err(StoreError::Invalid(
                "import writes into a PostgreSQL store".into(),
            )),
            Backend::Postgres(p) => p.import(hall, snapshot, events),
        }
    }

    /// Writes a consistent copy of a sled store into `to` (a new or empty
    /// directory) while it runs. For each hall the copy holds its snapshot
    /// and every durable event up to a single seq, with no gap; retention is
    /// paused meanwhile. `to` is itself a data directory (see
    /// [`Store::restore`]). A PostgreSQL store is backed up by the database's
    /// own tools (`pg_dump`, base backups), which this refuses to imitate.
    pub fn backup(&self, to: &Path) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sled(s) => s.backup(to),
            Backend::Postgres(_) => Err(StoreError::Invalid(
                "a PostgreSQL store is backed up with the database's own tools (pg_dump or a \
                 base backup); `hallcall backup` copies sled data directories"
                    .into(),
            )),
        }
    }

    /// Accepts the sled database in `dir` as it is (`hallcall accept-store`),
    /// after [`StoreError::WitnessMissing`]: writes its `COMMIT` anew, naming
    /// the last logged key. Returns each hall and the seq it continues from.
    pub fn accept_as_is(dir: &Path) -> Result<Vec<(String, u64)>, StoreError> {
        crate::dir::accept_as_is(dir)
    }

    /// Restores a sled backup made by [`Store::backup`] into `to`, a new or
    /// empty directory, checking it on the way (format, records). Start
    /// hallcall on `to` afterwards.
    pub fn restore(backup: &Path, to: &Path) -> Result<(), StoreError> {
        SledStore::restore(backup, to)
    }

    /// A PostgreSQL setting as the store's sessions see it (`SHOW name`), to
    /// check what the store relies on (e.g. `synchronous_commit`).
    #[cfg(test)]
    pub(crate) fn pg_setting(&self, name: &str) -> Result<String, StoreError> {
        match &self.backend {
            Backend::Sled(_) => Err(StoreError::Invalid("not a PostgreSQL store".into())),
            Backend::Postgres(p) => p.setting(name),
        }
    }

    /// Why the store cannot write now (sled: a group commit failed, e.g. a
    /// full disk, and the database has not been reopened and flushed again
    /// yet), until a write succeeds again; `None` while it writes. While
    /// set, appends and [`Store::recover`] are refused with
    /// [`StoreError::Unavailable`] and the writer retries by itself.
    pub fn write_failure(&self) -> Option<String> {
        match &self.backend {
            Backend::Sled(s) => s.write_failure(),
            Backend::Postgres(_) => None,
        }
    }

    /// Snapshot files written and failed since the store opened: sled's
    /// are files of their own, written off the commit path (`None` on
    /// PostgreSQL, where a snapshot is a row written like the log).
    pub fn snapshot_counts(&self) -> Option<(u64, u64)> {
        match &self.backend {
            Backend::Sled(s) => Some(s.snapshot_counts()),
            Backend::Postgres(_) => None,
        }
    }

    /// Flushes (commits) everything queued and stops; later appends fail
    /// with [`StoreError::Closed`].
    pub async fn shutdown(&self) {
        each!(self, s => s.shutdown().await)
    }
}

fn sessions_not_here() -> StoreError {
    StoreError::Invalid(
        "clerk sessions and webhook positions are kept in files beside a sled store, not in it"
            .into(),
    )
}
