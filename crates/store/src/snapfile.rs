//! Snapshot files: the latest snapshot of each hall in a file of its own,
//! `snapshots/<hall>.snap`, outside sled (store format 3).
//!
//! Why not a sled tree, as formats 1–2 had: sled keeps the values it has
//! just written in memory well past its cache size, and a snapshot holds a
//! whole day's tickets. In the 10-minute soak of 100 halls (BENCHMARKS.md,
//! "Soak") each round of snapshots added 8–15 MiB of server memory that
//! stayed live, which alone broke issue 14's "RSS flat after the first
//! minute". A file costs memory only while it is written, and the OS page
//! cache (not the process) keeps what it reads.
//!
//! A file is written whole or not at all: into `<name>.tmp`, fsynced,
//! renamed over the old one, then the directory fsynced, so after a crash
//! a hall has its previous snapshot or the new one, never half of one.
//! Leftover temporary files are removed when the store opens. The header
//! carries the hall id, the seq and a CRC-32 of what follows, so a damaged
//! file is refused by name instead of replayed wrong.
//!
//! | bytes | what |
//! |---|---|
//! | 1 | `0x02` (the version of this layout) |
//! | 8 | seq, u64 big-endian |
//! | 4 | CRC-32 (IEEE) of the hall id and the JSON |
//! | 2 | length of the hall id, u16 big-endian |
//! | n | the hall id, UTF-8 |
//! | rest | [`hallcall_core::Hall::to_snapshot`] JSON |

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{corrupt, io_error};
use crate::StoreError;

/// The directory of snapshot files inside a data directory.
pub(crate) const SNAP_DIR: &str = "snapshots";
const SUFFIX: &str = ".snap";
const TMP_SUFFIX: &str = ".snap.tmp";
const LAYOUT: u8 = 0x02;
/// Version, seq, CRC, id length.
const FIXED: usize = 1 + 8 + 4 + 2;
/// File names stay well under the usual 255-byte limit.
const MAX_NAME: usize = 160;

/// A hall's snapshot as read from its file.
pub(crate) struct SnapFile {
    pub hall: String,
    pub seq: u64,
    pub json: Vec<u8>,
}

pub(crate) fn snap_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(SNAP_DIR)
}

/// The file name of `hall`'s snapshot: the id itself where it is made of
/// letters, digits, `-` and `_` (what operators see in `ls`), `%XX` for any
/// other byte, and cut with a hash of the whole id if that gets long.
pub(crate) fn file_name(hall: &str) -> String {
    let mut name = String::with_capacity(hall.len() + SUFFIX.len());
    for b in hall.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            name.push(b as char);
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    if name.len() > MAX_NAME {
        // The full id is in the header; the hash keeps long ids apart.
        name.truncate(MAX_NAME - 17);
        name.push_str(&format!("~{:016x}", fnv1a(hall.as_bytes())));
    }
    name.push_str(SUFFIX);
    name
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn checksum(hall: &[u8], json: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(hall);
    h.update(json);
    h.finalize()
}

/// The bytes of a snapshot file.
fn encode(hall: &str, seq: u64, json: &[u8]) -> Vec<u8> {
    let id = hall.as_bytes();
    let mut v = Vec::with_capacity(FIXED + id.len() + json.len());
    v.push(LAYOUT);
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&checksum(id, json).to_be_bytes());
    // Hall ids are at most 200 bytes (`keys::check_hall`).
    v.extend_from_slice(&(id.len().min(u16::MAX as usize) as u16).to_be_bytes());
    v.extend_from_slice(id);
    v.extend_from_slice(json);
    v
}

/// Writes `hall`'s snapshot at `seq` into `dir` (see the module doc for
/// why it is whole or absent after a crash). Returns once it is durable.
pub(crate) fn write(dir: &Path, hall: &str, seq: u64, json: &[u8]) -> Result<(), StoreError> {
    let err = |what: &str, e| io_error(dir, what, e);
    if !dir.is_dir() {
        fs::create_dir_all(dir).map_err(|e| err("cannot create the snapshot directory", e))?;
        if let Some(parent) = dir.parent() {
            sync_dir(parent).map_err(|e| err("cannot sync the data directory", e))?;
        }
    }
    let name = file_name(hall);
    let tmp = dir.join(format!(
        "{}{TMP_SUFFIX}",
        &name[..name.len() - SUFFIX.len()]
    ));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(&encode(hall, seq, json))?;
        f.sync_all()?;
        fs::rename(&tmp, dir.join(&name))?;
        sync_dir(dir)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(err(&format!("cannot write the snapshot of hall {hall}"), e));
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    OpenOptions::new().read(true).open(dir)?.sync_all()
}

/// `hall`'s snapshot in `dir`, if it has one: all of it (`whole`), or only
/// its header (the JSON left empty, unchecked) to learn its seq cheaply.
pub(crate) fn read(dir: &Path, hall: &str, whole: bool) -> Result<Option<SnapFile>, StoreError> {
    let path = dir.join(file_name(hall));
    let Some(snap) = read_path(dir, &path, whole)? else {
        return Ok(None);
    };
    if snap.hall != hall {
        return Err(damaged(
            dir,
            &path,
            &format!("it holds hall {:?}, not {hall:?}", snap.hall),
        ));
    }
    Ok(Some(snap))
}

fn read_path(dir: &Path, path: &Path, whole: bool) -> Result<Option<SnapFile>, StoreError> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(dir, &format!("cannot read {}", path.display()), e)),
    };
    let read_err = |e| io_error(dir, &format!("cannot read {}", path.display()), e);
    let mut fixed = [0u8; FIXED];
    if let Err(e) = f.read_exact(&mut fixed) {
        return Err(match e.kind() {
            ErrorKind::UnexpectedEof => damaged(dir, path, "it is shorter than its header"),
            _ => read_err(e),
        });
    }
    if fixed[0] != LAYOUT {
        return Err(damaged(
            dir,
            path,
            &format!("its layout byte is {:#04x}", fixed[0]),
        ));
    }
    let seq = u64::from_be_bytes(fixed[1..9].try_into().unwrap_or_default());
    let crc = u32::from_be_bytes(fixed[9..13].try_into().unwrap_or_default());
    let id_len = usize::from(u16::from_be_bytes([fixed[13], fixed[14]]));
    let mut id = vec![0u8; id_len];
    if let Err(e) = f.read_exact(&mut id) {
        return Err(match e.kind() {
            ErrorKind::UnexpectedEof => damaged(dir, path, "it ends inside its hall id"),
            _ => read_err(e),
        });
    }
    let mut json = Vec::new();
    if whole {
        f.read_to_end(&mut json).map_err(read_err)?;
        if checksum(&id, &json) != crc {
            return Err(damaged(dir, path, "its checksum does not match"));
        }
    }
    let hall = String::from_utf8(id).map_err(|_| damaged(dir, path, "its hall id is not UTF-8"))?;
    Ok(Some(SnapFile { hall, seq, json }))
}

fn damaged(dir: &Path, path: &Path, why: &str) -> StoreError {
    corrupt(
        dir,
        format!(
            "the snapshot file {} is damaged ({why}); restore the data directory from a backup \
             (`hallcall restore`)",
            path.display()
        ),
    )
}

/// The halls with a snapshot file in `dir`, from the files' headers.
pub(crate) fn halls(dir: &Path) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for path in files(dir, SUFFIX)? {
        if let Some(snap) = read_path(dir, &path, false)? {
            out.push(snap.hall);
        }
    }
    Ok(out)
}

/// Removes the temporary files a crash left behind (at open, before any
/// snapshot is written). Returns how many.
pub(crate) fn remove_leftovers(dir: &Path) -> Result<usize, StoreError> {
    let tmps = files(dir, TMP_SUFFIX)?;
    for path in &tmps {
        fs::remove_file(path)
            .map_err(|e| io_error(dir, &format!("cannot remove {}", path.display()), e))?;
    }
    Ok(tmps.len())
}

/// The files in `dir` whose names end in `suffix` (none if `dir` is absent).
fn files(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>, StoreError> {
    let list_err = |e| io_error(dir, "cannot list the snapshot directory", e);
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(list_err(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(list_err)?;
        if entry.file_name().to_string_lossy().ends_with(suffix) {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_id_where_safe_and_bounded_always() {
        assert_eq!(file_name("b000"), "b000.snap");
        assert_eq!(file_name("徐汇/1"), "%E5%BE%90%E6%B1%87%2F1.snap");
        assert_eq!(file_name("..x"), "%2E%2Ex.snap");
        let long_a = "a".repeat(200);
        let long_b = format!("{}b", "a".repeat(199));
        let (na, nb) = (file_name(&long_a), file_name(&long_b));
        assert!(na.len() <= MAX_NAME + SUFFIX.len(), "{na}");
        assert_ne!(na, nb, "long ids with a common prefix share a file");
    }

    #[test]
    fn a_file_reads_back_as_written_and_damage_is_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join(SNAP_DIR);
        assert!(read(&dir, "h1", true).expect("absent").is_none());
        write(&dir, "h1", 42, br#"{"id":"h1"}"#).expect("write");
        let back = read(&dir, "h1", true).expect("read").expect("present");
        assert_eq!((back.hall.as_str(), back.seq), ("h1", 42));
        assert_eq!(back.json, br#"{"id":"h1"}"#);
        assert_eq!(halls(&dir).expect("halls"), vec!["h1".to_string()]);

        // One flipped byte in the JSON.
        let path = dir.join(file_name("h1"));
        let mut bytes = fs::read(&path).expect("bytes");
        let last = bytes.len() - 2;
        bytes[last] ^= 0x20;
        fs::write(&path, &bytes).expect("damage");
        let e = read(&dir, "h1", true).err().expect("refused");
        assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
        assert!(e.to_string().contains("checksum"), "{e}");
        // A cut file.
        fs::write(&path, &bytes[..10]).expect("cut");
        let e = read(&dir, "h1", true).err().expect("refused");
        assert!(e.to_string().contains("shorter than its header"), "{e}");
    }

    #[test]
    fn leftovers_of_a_crash_are_removed_and_never_read() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join(SNAP_DIR);
        write(&dir, "h1", 7, b"{}").expect("write");
        fs::write(dir.join("h1.snap.tmp"), b"half a snap").expect("leftover");
        assert_eq!(halls(&dir).expect("halls"), vec!["h1".to_string()]);
        assert_eq!(remove_leftovers(&dir).expect("cleanup"), 1);
        assert!(!dir.join("h1.snap.tmp").exists());
        assert_eq!(
            read(&dir, "h1", true).expect("read").map(|s| s.seq),
            Some(7)
        );
    }
}
