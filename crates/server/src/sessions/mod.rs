//! Clerk sessions: which login a clerk token belongs to, kept durably so
//! that a token is valid for exactly one session — a logout, a new login of
//! the same staff, the supervisor's "end session" and the day's close end
//! it for good, across restarts (and, on PostgreSQL, across nodes).
//!
//! Why a small table of its own rather than the event log: a repeated login
//! at the same window changes nothing in the hall (the core emits no event),
//! yet it must end the earlier token; a supervisor's "end session" may not
//! change the hall either (a clerk serving a citizen stays seated). So the
//! session is not hall state. It stays consistent with the log because a
//! session is written after the login event is durable and before the token
//! is handed out, and a token is honoured only while the log's state also
//! has the clerk seated at that window on the same business day (a day
//! close ends every session without a write).
//!
//! Two places, one [`Sessions`]:
//! - **sled** (one node): `sessions.json` in the data directory
//!   ([`file`]), read whole at start.
//! - **PostgreSQL**: the `sessions` table, shared by every node, so a
//!   clerk's token keeps working on whichever node owns the hall after a
//!   failover or a handoff. Requests for a hall are answered by its owner
//!   (`cluster::forward`), so the owner keeps the hall's sessions in memory
//!   and checks tokens without a database round trip: it reads them when it
//!   takes the hall over, after acquiring the lease ([`Sessions::take_over`],
//!   from `cluster::lease`), and writes through on login, logout and end
//!   session. Writes are fenced by the hall's lease in the database (see
//!   `hallcall_store::Store::put_session`), so an old owner that froze and
//!   woke up cannot overwrite a newer login; it gets
//!   [`SessionsError::NotOwner`] and the request is retried at the owner. A
//!   hall not read yet (a single node without leases, or a takeover whose
//!   read failed) is read at its first token check.

mod file;

pub use file::{private_file, FILE};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use hallcall_store::{Store, StoreError, StoredSession};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum SessionsError {
    #[error(
        "cannot read {path}: {source}; fix its permissions, or delete it to log every clerk out"
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a session table ({source}); delete it to log every clerk out, then start again")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// PostgreSQL: this node no longer holds the hall's lease; nothing was
    /// written (the owner does it: retry there).
    #[error("this node no longer owns hall {0}")]
    NotOwner(String),
    #[error("the session table in the database: {0}")]
    Store(StoreError),
}

impl From<StoreError> for SessionsError {
    fn from(e: StoreError) -> SessionsError {
        match e {
            StoreError::NotOwner { hall } => SessionsError::NotOwner(hall),
            other => SessionsError::Store(other),
        }
    }
}

/// One clerk's current session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub window: u32,
    /// The token nonce of this session (hex).
    pub nonce: String,
    /// The hall's business day at login; the session ends with that day.
    pub date: Option<chrono::NaiveDate>,
}

/// hall → staff → session
pub(crate) type Table = BTreeMap<String, BTreeMap<String, Session>>;

enum Place {
    File(PathBuf),
    Store(Store),
}

#[derive(Default)]
struct Cache {
    table: Table,
    /// PostgreSQL: the halls whose sessions `table` holds as stored. (The
    /// file is read whole at start.)
    loaded: BTreeSet<String>,
}

pub struct Sessions {
    place: Place,
    cache: Mutex<Cache>,
    /// Serializes writers (and PostgreSQL reads into the cache), so the
    /// file always ends with the latest table and a read never overwrites
    /// a newer write in the cache.
    write: tokio::sync::Mutex<()>,
    /// Reads of a hall's sessions from the database (for `/metrics`, and
    /// to show tokens are checked from memory).
    reads: AtomicU64,
}

impl Sessions {
    /// Where `store` keeps them: in the database when it is PostgreSQL,
    /// else `dir/sessions.json` (loaded now; a damaged one refuses to start).
    pub fn open(dir: &Path, store: &Store) -> Result<Sessions, SessionsError> {
        if store.keeps_sessions() {
            return Ok(Sessions::with(
                Place::Store(store.clone()),
                Cache::default(),
            ));
        }
        Sessions::load(dir)
    }

    /// The file in `dir` (sled).
    pub fn load(dir: &Path) -> Result<Sessions, SessionsError> {
        let (path, table) = file::load(dir)?;
        Ok(Sessions::with(
            Place::File(path),
            Cache {
                table,
                loaded: BTreeSet::new(),
            },
        ))
    }

    fn with(place: Place, cache: Cache) -> Sessions {
        Sessions {
            place,
            cache: Mutex::new(cache),
            write: tokio::sync::Mutex::new(()),
            reads: AtomicU64::new(0),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether sessions are shared through the database.
    pub fn shared(&self) -> bool {
        matches!(self.place, Place::Store(_))
    }

    /// How many times a hall's sessions were read from the database.
    pub fn store_reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// `staff`'s current session in `hall`. From memory, except the first
    /// time a hall is asked for on PostgreSQL without a takeover having
    /// read it.
    pub async fn get(&self, hall: &str, staff: &str) -> Result<Option<Session>, SessionsError> {
        if let Some(found) = self.cached(hall, staff) {
            return Ok(found);
        }
        let _w = self.write.lock().await;
        if let Some(found) = self.cached(hall, staff) {
            return Ok(found);
        }
        self.read_hall(hall).await?;
        Ok(self.cached(hall, staff).flatten())
    }

    /// `None` when the hall's sessions are not in memory.
    fn cached(&self, hall: &str, staff: &str) -> Option<Option<Session>> {
        let c = self.cache();
        if self.shared() && !c.loaded.contains(hall) {
            return None;
        }
        Some(c.table.get(hall).and_then(|h| h.get(staff)).cloned())
    }

    /// PostgreSQL: replaces the cached sessions of `hall` with the stored
    /// ones. Call with `write` held.
    async fn read_hall(&self, hall: &str) -> Result<usize, SessionsError> {
        let Place::Store(store) = &self.place else {
            return Ok(0);
        };
        self.reads.fetch_add(1, Ordering::Relaxed);
        let rows = store.sessions_of(hall).await?;
        let n = rows.len();
        let sessions = rows
            .into_iter()
            .map(|s| {
                (
                    s.staff,
                    Session {
                        window: s.window,
                        nonce: s.nonce,
                        date: s.date,
                    },
                )
            })
            .collect();
        let mut c = self.cache();
        c.table.insert(hall.to_string(), sessions);
        c.loaded.insert(hall.to_string());
        Ok(n)
    }

    /// This node has just acquired `hall`'s lease (and is about to decide
    /// its commands): read its sessions as the previous owner left them.
    /// Returns how many there are. On the file, nothing to do.
    pub async fn take_over(&self, hall: &str) -> Result<usize, SessionsError> {
        if !self.shared() {
            return Ok(0);
        }
        let _w = self.write.lock().await;
        self.forget(hall);
        self.read_hall(hall).await
    }

    /// This node no longer decides `hall`: drop its cached sessions (the
    /// next owner may change them; a later takeover reads them again).
    pub fn forget(&self, hall: &str) {
        if !self.shared() {
            return;
        }
        let mut c = self.cache();
        c.loaded.remove(hall);
        c.table.remove(hall);
    }

    /// Starts a new session (ending any earlier one of this clerk) and
    /// makes it durable; returns its nonce.
    pub async fn begin(
        &self,
        hall: &str,
        staff: &str,
        window: u32,
        date: Option<chrono::NaiveDate>,
    ) -> Result<String, SessionsError> {
        let nonce = hex::encode(rand::random::<[u8; 16]>());
        let session = Session {
            window,
            nonce: nonce.clone(),
            date,
        };
        let _w = self.write.lock().await;
        match &self.place {
            Place::File(path) => {
                let table = {
                    let mut c = self.cache();
                    c.table
                        .entry(hall.to_string())
                        .or_default()
                        .insert(staff.to_string(), session);
                    c.table.clone()
                };
                file::persist(path, table).await?;
            }
            Place::Store(store) => {
                store
                    .put_session(
                        hall,
                        StoredSession {
                            staff: staff.to_string(),
                            window,
                            nonce: nonce.clone(),
                            date,
                        },
                    )
                    .await?;
                // Durable; a hall not cached yet is read whole at its first
                // token check.
                let mut c = self.cache();
                if c.loaded.contains(hall) {
                    c.table
                        .entry(hall.to_string())
                        .or_default()
                        .insert(staff.to_string(), session);
                }
            }
        }
        Ok(nonce)
    }

    /// Ends a clerk's session for good; false when there was none.
    pub async fn end(&self, hall: &str, staff: &str) -> Result<bool, SessionsError> {
        let _w = self.write.lock().await;
        match &self.place {
            Place::File(path) => {
                let table = {
                    let mut c = self.cache();
                    let had = c
                        .table
                        .get_mut(hall)
                        .and_then(|h| h.remove(staff))
                        .is_some();
                    if !had {
                        return Ok(false);
                    }
                    c.table.clone()
                };
                file::persist(path, table).await?;
                Ok(true)
            }
            Place::Store(store) => {
                let had = store.end_session(hall, staff).await?;
                if let Some(h) = self.cache().table.get_mut(hall) {
                    h.remove(staff);
                }
                Ok(had)
            }
        }
    }
}

#[cfg(test)]
mod tests;
