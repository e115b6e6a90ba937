//! Where one node keeps its clerk sessions: `sessions.json` in the data
//! directory (the sled store's place; with PostgreSQL they are in the
//! database, shared by every node — see the parent module).
//!
//! Sessions change only at login, logout and "end session" — a few writes
//! per clerk per day — so one JSON file, written to a temporary file,
//! fsynced and renamed over the old one, is the simplest durable place.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Session, SessionsError, Table};

pub const FILE: &str = "sessions.json";

#[derive(Serialize, Deserialize, Default)]
struct FileFormat {
    version: u32,
    /// hall → staff → session
    halls: BTreeMap<String, BTreeMap<String, Session>>,
}

/// Reads `dir/sessions.json` (none yet: no sessions). An unreadable or
/// damaged table refuses to start rather than guess.
pub(super) fn load(dir: &Path) -> Result<(PathBuf, Table), SessionsError> {
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
    Ok((path, halls))
}

/// Writes the whole table (on the blocking pool): temporary file, fsync,
/// rename, fsync of the directory.
pub(super) async fn persist(path: &Path, halls: Table) -> Result<(), SessionsError> {
    let table = FileFormat { version: 1, halls };
    let p = path.to_path_buf();
    tokio::task::spawn_blocking(move || write_atomically(&p, &table))
        .await
        .map_err(|e| SessionsError::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })?
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
