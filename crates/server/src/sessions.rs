//! Clerk sessions: which login a clerk token belongs to, kept durably in
//! `sessions.json` in the data directory so that a token is valid for exactly
//! one session, across restarts.
//!
//! Why a small table of its own rather than the event log: a repeated login
//! at the same window changes nothing in the hall (the core emits no event),
//! yet it must end the earlier token; a supervisor's "end session" may not
//! change the hall either (a clerk serving a citizen stays seated). So the
//! session is not hall state. It changes only at login, logout and "end
//! session" — a few writes per clerk per day — so one JSON file, written to a
//! temporary file, fsynced and renamed over the old one, is the simplest
//! durable place. It stays consistent with the log because a session is
//! written after the login event is durable and before the token is handed
//! out, and a token is honoured only while the log's state also has the clerk
//! seated at that window on the same business day (a day close ends every
//! session without touching the file).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

pub const FILE: &str = "sessions.json";

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

#[derive(Serialize, Deserialize, Default)]
struct FileFormat {
    version: u32,
    /// hall → staff → session
    halls: BTreeMap<String, BTreeMap<String, Session>>,
}

pub struct Sessions {
    path: PathBuf,
    map: Mutex<BTreeMap<String, BTreeMap<String, Session>>>,
    /// Serializes writers so the file always ends with the latest table.
    write: tokio::sync::Mutex<()>,
}

impl Sessions {
    /// Loads `dir/sessions.json` (none yet: no sessions). An unreadable or
    /// damaged table refuses to start rather than guess.
    pub fn load(dir: &Path) -> Result<Sessions, SessionsError> {
        let path = dir.join(FILE);
        let halls = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice::<FileFormat>(&bytes)
                    .map_err(|source| SessionsError::Corrupt {
                        path: path.clone(),
                        source,
                    })?
                    .halls
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => return Err(SessionsError::Read { path, source }),
        };
        Ok(Sessions {
            path,
            map: Mutex::new(halls),
            write: tokio::sync::Mutex::new(()),
        })
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, BTreeMap<String, Session>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, hall: &str, staff: &str) -> Option<Session> {
        self.map().get(hall).and_then(|h| h.get(staff)).cloned()
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
        let _w = self.write.lock().await;
        self.map().entry(hall.to_string()).or_default().insert(
            staff.to_string(),
            Session {
                window,
                nonce: nonce.clone(),
                date,
            },
        );
        self.persist().await?;
        Ok(nonce)
    }

    /// Ends a clerk's session for good; false when there was none.
    pub async fn end(&self, hall: &str, staff: &str) -> Result<bool, SessionsError> {
        let _w = self.write.lock().await;
        let had = self
            .map()
            .get_mut(hall)
            .and_then(|h| h.remove(staff))
            .is_some();
        if had {
            self.persist().await?;
        }
        Ok(had)
    }

    /// Writes the table: temporary file, fsync, rename, fsync of the directory.
    async fn persist(&self) -> Result<(), SessionsError> {
        let table = FileFormat {
            version: 1,
            halls: self.map().clone(),
        };
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write_atomically(&path, &table))
            .await
            .map_err(|e| SessionsError::Write {
                path: self.path.clone(),
                source: std::io::Error::other(e.to_string()),
            })?
    }
}

fn write_atomically(path: &Path, table: &FileFormat) -> Result<(), SessionsError> {
    let err = |source| SessionsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let bytes = serde_json::to_vec_pretty(table).map_err(|e| err(std::io::Error::other(e)))?;
    let tmp = path.with_extension("json.tmp");
    let mut f = private_file(&tmp).map_err(err)?;
    f.write_all(&bytes).map_err(err)?;
    f.sync_all().map_err(err)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(err)?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// A new file readable by the owner only (mode 0600 on Unix).
pub fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_session_survives_a_reload_and_a_new_one_replaces_it() {
        let dir = tempfile::tempdir().expect("tmp");
        let s = Sessions::load(dir.path()).expect("empty");
        let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 30);
        let first = s.begin("demo", "s01", 1, d).await.expect("begin");
        let again = Sessions::load(dir.path()).expect("reload");
        assert_eq!(
            again.get("demo", "s01").map(|x| x.nonce),
            Some(first.clone())
        );
        let second = s.begin("demo", "s01", 1, d).await.expect("begin");
        assert_ne!(first, second);
        assert!(s.end("demo", "s01").await.expect("end"));
        assert!(!s.end("demo", "s01").await.expect("end"));
        assert_eq!(
            Sessions::load(dir.path())
                .expect("reload")
                .get("demo", "s01"),
            None
        );
    }

    #[test]
    fn a_damaged_table_refuses_to_load() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join(FILE), b"{\"version\":1,\"ha").expect("write");
        let e = Sessions::load(dir.path()).err().expect("refused");
        assert!(e.to_string().contains("delete it"), "{e}");
    }
}
