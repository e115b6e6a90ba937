//! Which wins, the configuration file or the browser's edits
//! (issue 15 item 10)? The file wins when it *changes*: each hall's section
//! of the file, as last adopted, is remembered by its SHA-256 in
//! `config-adopted.json` in the data directory. At start and on SIGHUP a hall
//! whose section differs from the hall's stored configuration is reloaded
//! from the file only if the section changed since it was last adopted; an
//! unchanged file therefore never undoes the supervisor's edits (which are
//! in the log and replayed), and an edited file replaces them all.
//! `hallcall export-config` writes the current configuration, edits
//! included, so the file can catch up.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hallcall_core::HallConfig;
use sha2::{Digest, Sha256};

pub const FILE: &str = "config-adopted.json";

pub struct Adopted {
    path: PathBuf,
    map: Mutex<BTreeMap<String, String>>,
}

/// The fingerprint of a hall's section of the file.
pub fn fingerprint(hc: &HallConfig) -> String {
    let json = serde_json::to_vec(hc).unwrap_or_default();
    hex::encode(Sha256::digest(&json))
}

impl Adopted {
    /// Reads the record in `dir` (none yet, or unreadable: nothing recorded,
    /// so the file wins as before this record existed).
    pub fn load(dir: &Path) -> Adopted {
        let path = dir.join(FILE);
        let map = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Adopted {
            path,
            map: Mutex::new(map),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the file's section `hc` changed since it was last adopted.
    pub fn changed(&self, hc: &HallConfig) -> bool {
        self.map().get(&hc.id) != Some(&fingerprint(hc))
    }

    /// Records that the file's section `hc` is adopted (written at once:
    /// temporary file, fsync, rename).
    pub fn record(&self, hc: &HallConfig) {
        let table = {
            let mut m = self.map();
            if m.get(&hc.id) == Some(&fingerprint(hc)) {
                return;
            }
            m.insert(hc.id.clone(), fingerprint(hc));
            m.clone()
        };
        let write = || -> std::io::Result<()> {
            let tmp = self.path.with_extension("json.tmp");
            let mut f = crate::sessions::private_file(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(&table).map_err(std::io::Error::other)?)?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&tmp, &self.path)
        };
        if let Err(e) = write() {
            tracing::error!(error = %e, path = %self.path.display(), "cannot record the adopted configuration; an unchanged file may undo browser edits at the next start");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_section_is_unchanged_until_it_changes() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut hc = hallcall_core::demo::demo_hall();
        let a = Adopted::load(dir.path());
        assert!(a.changed(&hc), "nothing recorded: the file wins");
        a.record(&hc);
        let a = Adopted::load(dir.path());
        assert!(!a.changed(&hc));
        hc.name.push('x');
        assert!(a.changed(&hc));
    }
}
