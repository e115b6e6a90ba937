//! The PostgreSQL backend: the same contract as the sled one — a per-hall
//! ordered log, snapshots, recovery through the core's `apply`, group
//! commit across halls, nothing acknowledged before the commit that covers
//! it — on tables created and migrated at start (`migrations/`, versioned by
//! `sqlx::migrate!`).
//!
//! ## Group commit without a thread hop
//!
//! [`PgStore::append`] checks and serialises the events on the caller's
//! thread and queues them (the order per hall is fixed there). The returned
//! future is the committer: the first one polled takes the commit lock,
//! drains the queue — every hall's pending appends and snapshots — and
//! writes it with one statement (one round trip, its own transaction,
//! `synchronous_commit = on`), then completes every waiter of the group.
//! Futures polled meanwhile wait for either their result or the lock, so a
//! lone command runs its commit on its own task, while under load one
//! commit covers everything that queued up during the previous one
//! (leader/follower). See [`commit`].
//!
//! ## The fence
//!
//! `events` has `PRIMARY KEY (hall, seq)`: an append whose seq is already
//! taken means another writer appended to the hall. The group statement then
//! fails as a whole, and the group is retried hall by hall: halls that do
//! not collide are committed, the colliding hall gets
//! [`StoreError::Conflict`] and refuses appends until it is recovered (which
//! reads what the other writer wrote).
//!
//! ## Reads and other synchronous calls
//!
//! The store's API is synchronous apart from appends and shutdown (the
//! server calls `recover` and the reads from its tasks, as it does with
//! sled, whose reads are disk reads). Here they run on a small runtime of the
//! store's own (one thread, a connection pool) and the caller blocks on a
//! channel; so they work from any thread, inside a runtime or not.

mod commit;
mod lease;
mod read;
mod sessions;

pub use lease::{Lease, Leases, NodeInfo, Notice};
pub use sessions::StoredSession;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::NaiveDate;
use hallcall_core::{Event, Hall};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, PgConnection};
use tokio::sync::oneshot;

use crate::log::encode;
use crate::options::StoreOptions;
use crate::snapshot;
use crate::trees::lock;
use crate::{keys, Durable, StoreError};

/// Versioned schema migrations, embedded at build time.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The newest schema version this build knows.
pub(crate) fn schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Durable hall state in PostgreSQL. Cheap to clone.
#[derive(Clone)]
pub(crate) struct PgStore {
    inner: Arc<PgInner>,
}

pub(crate) struct PgInner {
    /// The database, password removed: named in errors instead of a directory.
    label: PathBuf,
    opts: StoreOptions,
    connect: PgConnectOptions,
    /// On the store's own runtime: reads, recovery, retention, barriers.
    pool: PgPool,
    rt: Mutex<Option<tokio::runtime::Runtime>>,
    handle: tokio::runtime::Handle,
    state: Mutex<State>,
    /// Held by the committer of a group; holds the committers' connection
    /// (made on the runtime of the first committer).
    commit: tokio::sync::Mutex<Option<PgConnection>>,
    /// Last retention run per hall.
    compacted: Mutex<HashMap<Arc<str>, Instant>>,
}

impl Drop for PgInner {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which is not allowed inside another
        // runtime; the store is often dropped inside one.
        if let Some(rt) = lock(&self.rt).take() {
            rt.shutdown_background();
        }
    }
}

pub(crate) struct HallState {
    /// Highest seq covered by a commit.
    pub durable: u64,
    /// Last seq queued.
    pub enqueued: u64,
    /// A write failed or collided: refuse appends until recovered.
    pub poisoned: bool,
    pub snap_seq: u64,
    pub snap_at: Instant,
}

pub(crate) enum Job {
    Append {
        hall: Arc<str>,
        last: u64,
        records: Vec<(u64, Vec<u8>)>,
        days: Vec<(NaiveDate, u64)>,
        done: oneshot::Sender<Result<(), StoreError>>,
    },
    Snapshot {
        hall: Arc<str>,
        seq: u64,
        json: Vec<u8>,
    },
}

pub(crate) struct State {
    pub halls: HashMap<Arc<str>, HallState>,
    pub queue: VecDeque<Job>,
    pub closed: bool,
}

/// `url` without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            let user = cred.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..s + 3], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

impl PgStore {
    /// Connects, creates `opts.pg_schema` if it is set and missing, and runs
    /// the migrations. Refuses a database migrated by a newer hallcall.
    pub(crate) fn open(url: &str, opts: StoreOptions) -> Result<PgStore, StoreError> {
        let label = PathBuf::from(redact(url));
        let db = label.display().to_string();
        let db_err = move |e: sqlx::Error| StoreError::Database {
            db: db.clone(),
            detail: e.to_string(),
        };
        let mut connect: PgConnectOptions = url.parse().map_err(|e: sqlx::Error| {
            StoreError::Invalid(format!("{} is not a PostgreSQL URL: {e}", label.display()))
        })?;
        // Nothing is acknowledged before it is on disk, whatever the
        // server's default says.
        let mut settings = vec![("synchronous_commit", "on".to_string())];
        if let Some(schema) = &opts.pg_schema {
            if schema.is_empty()
                || !schema
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(StoreError::Invalid(format!(
                    "schema {schema:?}: use lower-case letters, digits and _"
                )));
            }
            settings.push(("search_path", schema.clone()));
        }
        connect = connect
            .options(settings)
            .application_name("hallcall")
            .disable_statement_logging();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("hallcall-store-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Io {
                dir: label.clone(),
                detail: format!("cannot start the store's runtime: {e}"),
            })?;
        let handle = rt.handle().clone();
        let schema = opts.pg_schema.clone();
        let node = opts.pg_node.is_some();
        let pool_opts = connect.clone();
        let label2 = label.clone();
        let pool = match run_on(&handle, async move {
            // Several nodes: one more for LISTEN, which keeps its own.
            let pool = PgPoolOptions::new()
                .max_connections(if node { 6 } else { 4 })
                .connect_with(pool_opts)
                .await
                .map_err(&db_err)?;
            if let Some(schema) = schema {
                sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                    .execute(&pool)
                    .await
                    .map_err(&db_err)?;
            }
            MIGRATOR.run(&pool).await.map_err(|e| match e {
                sqlx::migrate::MigrateError::VersionMissing(found) => StoreError::NewerFormat {
                    dir: label2.clone(),
                    found: u32::try_from(found).unwrap_or(u32::MAX),
                    supported: u32::try_from(schema_version()).unwrap_or(u32::MAX),
                },
                other => StoreError::Database {
                    db: label2.display().to_string(),
                    detail: format!("migrating the schema: {other}"),
                },
            })?;
            Ok(pool)
        }) {
            Ok(pool) => pool,
            Err(e) => {
                // Dropping a runtime blocks, which is refused inside another
                // runtime (open is often called inside one).
                rt.shutdown_background();
                return Err(e);
            }
        };
        Ok(PgStore {
            inner: Arc::new(PgInner {
                label,
                opts,
                connect,
                pool,
                rt: Mutex::new(Some(rt)),
                handle,
                state: Mutex::new(State {
                    halls: HashMap::new(),
                    queue: VecDeque::new(),
                    closed: false,
                }),
                commit: tokio::sync::Mutex::new(None),
                compacted: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub(crate) fn label(&self) -> &Path {
        &self.inner.label
    }

    pub(crate) fn options(&self) -> &StoreOptions {
        &self.inner.opts
    }

    /// Runs `f` on the store's runtime and waits for it.
    fn block<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        run_on(&self.inner.handle, f)
    }

    /// The state of `hall`, loaded from the database the first time.
    fn with_hall<T>(
        &self,
        hall: &str,
        f: impl FnOnce(&mut State, Arc<str>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        keys::check_hall(hall)?;
        {
            let mut st = lock(&self.inner.state);
            if let Some((k, _)) = st.halls.get_key_value(hall) {
                let k = k.clone();
                return f(&mut st, k);
            }
        }
        let (last, snap_seq) = self.stored_heads(hall)?;
        let mut st = lock(&self.inner.state);
        let key: Arc<str> = Arc::from(hall);
        // Another caller may have loaded it meanwhile: theirs stands.
        st.halls.entry(key.clone()).or_insert_with(|| {
            let head = last.max(snap_seq);
            HallState {
                durable: head,
                enqueued: head,
                poisoned: false,
                snap_seq,
                snap_at: Instant::now(),
            }
        });
        f(&mut st, key)
    }

    /// Highest durable seq of `hall`.
    pub(crate) fn durable_seq(&self, hall: &str) -> Result<u64, StoreError> {
        self.with_hall(hall, |st, k| Ok(st.halls.get(&k).map_or(0, |h| h.durable)))
    }

    /// Queues `events` for the next group commit; see the module doc.
    pub(crate) fn append(&self, hall: &str, events: Vec<Event>) -> Durable {
        match self.enqueue(hall, &events) {
            Ok(rx) => {
                let inner = self.inner.clone();
                Durable::committing(
                    Box::pin(commit::wait_durable(inner, rx)),
                    self.inner.handle.clone(),
                )
            }
            Err(e) => Durable::ready(Err(e)),
        }
    }

    fn enqueue(
        &self,
        hall: &str,
        events: &[Event],
    ) -> Result<oneshot::Receiver<Result<(), StoreError>>, StoreError> {
        let enc = encode(hall, events)?;
        let (done, rx) = oneshot::channel();
        self.with_hall(hall, move |st, key| {
            if st.closed {
                return Err(StoreError::Closed);
            }
            let Some(h) = st.halls.get_mut(&key) else {
                return Err(StoreError::Invalid(format!("hall {key} vanished")));
            };
            if h.poisoned {
                return Err(StoreError::Poisoned(key.to_string()));
            }
            let last = match (enc.records.first(), enc.records.last()) {
                (Some(&(first, _)), Some(&(last, _))) => {
                    if first != h.enqueued + 1 {
                        h.poisoned = true;
                        return Err(StoreError::OutOfOrder {
                            hall: key.to_string(),
                            expected: h.enqueued + 1,
                            got: first,
                        });
                    }
                    last
                }
                // Nothing to write: resolves after everything queued before.
                _ => h.enqueued,
            };
            h.enqueued = last;
            st.queue.push_back(Job::Append {
                hall: key,
                last,
                records: enc.records,
                days: enc.days,
                done,
            });
            Ok(rx)
        })
    }

    /// The snapshot policy of [`crate::snapshot`]; the snapshot is written by
    /// the commit that covers its seq (or a later one).
    pub(crate) fn maybe_snapshot(&self, hall: &Hall) -> Result<bool, StoreError> {
        let id = hall.id();
        let seq = hall.seq();
        let opts = &self.inner.opts;
        let due = self.with_hall(id, |st, key| {
            let h = st
                .halls
                .get(&key)
                .ok_or_else(|| StoreError::Invalid(format!("hall {key} vanished")))?;
            if !snapshot::is_due(seq, h.snap_seq, h.snap_at, opts) {
                return Ok(false);
            }
            if seq > h.enqueued {
                return Err(StoreError::Invalid(format!(
                    "snapshot of hall {id} at seq {seq} is ahead of its appended events ({}): append first",
                    h.enqueued
                )));
            }
            Ok(true)
        })?;
        if !due {
            return Ok(false);
        }
        let json = snapshot::serialise(hall)?;
        self.with_hall(id, |st, key| {
            if st.closed {
                return Err(StoreError::Closed);
            }
            if let Some(h) = st.halls.get_mut(&key) {
                h.snap_seq = seq;
                h.snap_at = Instant::now();
            }
            st.queue.push_back(Job::Snapshot {
                hall: key,
                seq,
                json,
            });
            Ok(true)
        })
    }

    /// Commits everything queued before this call (on the store's runtime,
    /// with a pooled connection).
    pub(crate) fn barrier(&self) -> Result<(), StoreError> {
        if lock(&self.inner.state).queue.is_empty() && self.inner.commit.try_lock().is_ok() {
            return Ok(());
        }
        let inner = self.inner.clone();
        self.block(async move { commit::drain_with_pool(&inner).await })
    }

    /// Commits everything queued, then refuses appends.
    pub(crate) async fn shutdown(&self) {
        commit::drain_here(&self.inner).await;
        lock(&self.inner.state).closed = true;
    }
}

/// Runs `f` on `handle`'s runtime and blocks this thread until it is done.
/// Works inside another runtime too (the work is not on this thread).
fn run_on<T, F>(handle: &tokio::runtime::Handle, f: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    handle.spawn(async move {
        let _ = tx.send(f.await);
    });
    rx.recv().unwrap_or(Err(StoreError::Closed))
}

impl PgInner {
    pub(crate) fn db_err(&self, e: sqlx::Error) -> StoreError {
        match &e {
            sqlx::Error::Database(d) if d.code().as_deref() == Some("23505") => {
                StoreError::Conflict {
                    hall: String::new(),
                    detail: d.message().to_string(),
                }
            }
            _ => StoreError::Database {
                db: self.label.display().to_string(),
                detail: e.to_string(),
            },
        }
    }

    pub(crate) fn corrupt(&self, detail: String) -> StoreError {
        crate::error::corrupt(&self.label, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_removes_the_password() {
        assert_eq!(
            redact("postgres://hc:secret@127.0.0.1:54329/hallcall"),
            "postgres://hc@127.0.0.1:54329/hallcall"
        );
        assert_eq!(redact("postgres://127.0.0.1/db"), "postgres://127.0.0.1/db");
    }
}
