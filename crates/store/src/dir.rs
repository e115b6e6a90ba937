//! The data directory and whether it can be trusted: `LOCK` (one process at
//! a time), `FORMAT` (readable before sled opens, so a newer format is
//! recognised even if its sled files are not), a foreign directory, sled's
//! own format record, and the `COMMIT` witness of the last flush. Every
//! check here refuses — changing nothing — with an error that says what to
//! do; [`open_dir`] is the only way to a [`Trees`].

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use fs2::FileExt;

use crate::error::{corrupt, io_error, open_error};
use crate::keys;
use crate::options::{StoreOptions, FORMAT_VERSION};
use crate::snapfile::{self, SNAP_DIR};
use crate::trees::Trees;
use crate::witness::{is_blank, parse_witness, write_witness, WITNESS_DAYS, WITNESS_LOG};
use crate::StoreError;

pub(crate) const LOCK_FILE: &str = "LOCK";
pub(crate) const FORMAT_FILE: &str = "FORMAT";
pub(crate) const COMMIT_FILE: &str = "COMMIT";
const SLED_DIR: &str = "sled";
const FORMAT_KEY: &[u8] = b"format";

/// A data directory that passed every check.
pub(crate) struct OpenedDir {
    /// `LOCK`, held for as long as this file is open.
    pub lock: File,
    pub trees: Trees,
    /// `COMMIT`, open for the writer.
    pub witness: File,
}

/// Opens (or creates) the store in `dir`, refusing a directory locked by
/// another process, written by a newer format, corrupt, or not a store.
pub(crate) fn open_dir(dir: &Path, opts: &StoreOptions) -> Result<OpenedDir, StoreError> {
    fs::create_dir_all(dir).map_err(|e| io_error(dir, "cannot create the data directory", e))?;
    let lock = take_lock(dir)?;
    let format_path = dir.join(FORMAT_FILE);
    let marker = read_marker(dir, &format_path)?;
    if let Some(found) = marker {
        newer_format(dir, found)?;
    } else {
        refuse_foreign_files(dir)?;
    }
    let sled_path = dir.join(SLED_DIR);
    if marker.is_some() && !sled_path.join("db").exists() {
        return Err(corrupt(
            dir,
            format!(
                "{FORMAT_FILE} says it holds a store, but {} is missing",
                sled_path.join("db").display()
            ),
        ));
    }
    let db = open_sled(dir, &sled_path, opts)?;
    check_format_record(dir, &db, marker)?;
    check_witness(dir, &db)?;
    let witness = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(COMMIT_FILE))
        .map_err(|e| io_error(dir, "cannot open COMMIT", e))?;
    let trees = trees_of(dir, db)?;
    let leftovers = snapfile::remove_leftovers(&snapfile::snap_dir(dir))?;
    if leftovers > 0 {
        tracing::info!(
            files = leftovers,
            "removed snapshot files a crash left half-written"
        );
    }
    Ok(OpenedDir {
        lock,
        trees,
        witness,
    })
}

fn trees_of(dir: &Path, db: sled::Db) -> Result<Trees, StoreError> {
    let err = |e| open_error(dir, e);
    Ok(Trees {
        dir: dir.to_path_buf(),
        log: db.open_tree("log").map_err(err)?,
        days: db.open_tree("days").map_err(err)?,
        snap: db.open_tree("snap").map_err(err)?,
        db,
    })
}

/// Opens the database of a directory this process already holds (`LOCK`
/// taken, format checked) again, after the writer closed it following a
/// failed write; `COMMIT` is checked as at start.
pub(crate) fn reopen(opts: &StoreOptions, dir: &Path) -> Result<Trees, StoreError> {
    let db = open_sled(dir, &dir.join(SLED_DIR), opts)?;
    check_witness(dir, &db)?;
    trees_of(dir, db)
}

fn newer_format(dir: &Path, found: u32) -> Result<(), StoreError> {
    if found > FORMAT_VERSION {
        return Err(StoreError::NewerFormat {
            dir: dir.to_path_buf(),
            found,
            supported: FORMAT_VERSION,
        });
    }
    Ok(())
}

/// Only a directory that is empty (but for our own files) may be made a store.
fn refuse_foreign_files(dir: &Path) -> Result<(), StoreError> {
    let list_err = |e| io_error(dir, "cannot list the data directory", e);
    let mut others = Vec::new();
    for entry in fs::read_dir(dir).map_err(list_err)? {
        let name = entry.map_err(list_err)?.file_name();
        if name != LOCK_FILE && name != SLED_DIR && name != COMMIT_FILE && name != SNAP_DIR {
            others.push(name.to_string_lossy().into_owned());
        }
    }
    if others.is_empty() {
        return Ok(());
    }
    others.sort();
    others.truncate(5);
    Err(StoreError::Foreign {
        dir: dir.to_path_buf(),
        detail: format!("it holds {} but no {FORMAT_FILE} file", others.join(", ")),
    })
}

/// The format record inside sled must agree with `FORMAT`; a new, empty
/// database gets one (and `FORMAT` is written after it), an older one is
/// upgraded to this build's (see [`FORMAT_VERSION`]).
fn check_format_record(dir: &Path, db: &sled::Db, marker: Option<u32>) -> Result<(), StoreError> {
    let err = |e| open_error(dir, e);
    let meta = db.open_tree("meta").map_err(err)?;
    if let Some(v) = meta.get(FORMAT_KEY).map_err(err)? {
        let found = <[u8; 4]>::try_from(&v[..])
            .ok()
            .map(u32::from_be_bytes)
            .ok_or_else(|| {
                corrupt(
                    dir,
                    "the format record in the database is unreadable".into(),
                )
            })?;
        newer_format(dir, found)?;
        if found < FORMAT_VERSION {
            // An older format this build reads as it is: mark it ours, so
            // that an older build refuses what this one will write.
            meta.insert(FORMAT_KEY, &FORMAT_VERSION.to_be_bytes()[..])
                .map_err(err)?;
            db.flush().map_err(err)?;
            tracing::info!(from = found, to = FORMAT_VERSION, "store format upgraded");
            return write_marker(dir, &dir.join(FORMAT_FILE), FORMAT_VERSION);
        }
        if marker != Some(found) {
            write_marker(dir, &dir.join(FORMAT_FILE), found)?;
        }
        return Ok(());
    }
    if marker.is_some() {
        return Err(corrupt(
            dir,
            format!(
                "{FORMAT_FILE} says the directory holds a store, but the database has no \
                 format record: the database file is damaged, truncated or was replaced"
            ),
        ));
    }
    let foreign = db
        .tree_names()
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
    write_marker(dir, &dir.join(FORMAT_FILE), FORMAT_VERSION)
}

/// The last key a returned flush covered must be there: sled treats a
/// damaged record as the torn end of its log and silently drops everything
/// after it, and this is how that is noticed.
fn check_witness(dir: &Path, db: &sled::Db) -> Result<(), StoreError> {
    let err = |e| open_error(dir, e);
    let witness_path = dir.join(COMMIT_FILE);
    let bytes = match fs::read(&witness_path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A new store has no COMMIT until it is opened; one whose log
            // holds events had one, and without it a rolled-back database
            // would start silently at an older seq.
            let log = db.open_tree("log").map_err(err)?;
            if log.is_empty() {
                return Ok(());
            }
            return Err(StoreError::WitnessMissing {
                dir: dir.to_path_buf(),
            });
        }
        Err(e) => return Err(io_error(dir, "cannot read COMMIT", e)),
    };
    if is_blank(&bytes) {
        return Ok(());
    }
    let Some((tree, key)) = parse_witness(&bytes) else {
        tracing::warn!(path = %witness_path.display(), "COMMIT is damaged; not checked");
        return Ok(());
    };
    let (name, t) = match tree {
        WITNESS_DAYS => ("day index", db.open_tree("days").map_err(err)?),
        _ => ("log", db.open_tree("log").map_err(err)?),
    };
    if t.contains_key(key).map_err(err)? {
        return Ok(());
    }
    let hall = keys::hall_of(key).unwrap_or("?");
    let at = match tree {
        WITNESS_DAYS => {
            String::from_utf8_lossy(key.get(hall.len() + 1..).unwrap_or_default()).into_owned()
        }
        _ => keys::log_seq(hall, key)
            .map(|s| format!("seq {s}"))
            .unwrap_or_default(),
    };
    Err(corrupt(
        dir,
        format!(
            "the last record flushed and acknowledged before the store stopped \
             ({name} of hall {hall}, {at}) is missing: sled dropped the end of its \
             log at a damaged record, so acknowledged events are missing"
        ),
    ))
}

/// `hallcall accept-store`: the operator accepts the database of `dir` as it
/// is. Writes `COMMIT` anew, naming the last key of the log, so the store
/// opens; returns each hall with the last seq it will continue from. Refuses
/// a directory locked, newer, foreign or unreadable, as `open` does.
pub(crate) fn accept_as_is(dir: &Path) -> Result<Vec<(String, u64)>, StoreError> {
    if !dir.join(FORMAT_FILE).is_file() {
        return Err(StoreError::Invalid(format!(
            "{} is not a hallcall data directory (no {FORMAT_FILE} file)",
            dir.display()
        )));
    }
    let _lock = take_lock(dir)?;
    let marker = read_marker(dir, &dir.join(FORMAT_FILE))?;
    if let Some(found) = marker {
        newer_format(dir, found)?;
    }
    let db = open_sled(dir, &dir.join(SLED_DIR), &StoreOptions::default())?;
    check_format_record(dir, &db, marker)?;
    let trees = trees_of(dir, db)?;
    let mut halls = Vec::new();
    for hall in trees.halls()? {
        let last = trees.last_logged(&hall)?;
        halls.push((hall, last));
    }
    let witness = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(dir.join(COMMIT_FILE))
        .map_err(|e| io_error(dir, "cannot write COMMIT", e))?;
    if let Some((key, _)) = trees.log.last().map_err(|e| trees.err(e))? {
        write_witness(&witness, WITNESS_LOG, &key)
            .and_then(|()| witness.sync_all())
            .map_err(|e| io_error(dir, "cannot write COMMIT", e))?;
    }
    Ok(halls)
}

/// A backup or restore target must be new or empty.
pub(crate) fn check_empty_target(to: &Path) -> Result<(), StoreError> {
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
        .ok_or_else(|| {
            corrupt(
                dir,
                format!(
                    "{FORMAT_FILE} is unreadable: {:?}",
                    text.chars().take(40).collect::<String>()
                ),
            )
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

fn open_sled(dir: &Path, sled_path: &Path, opts: &StoreOptions) -> Result<sled::Db, StoreError> {
    // The environment overrides the option so an operator can size the
    // cache to the box without a rebuild (BENCHMARKS.md, memory model).
    let cache_bytes = match crate::options::cache_bytes_from_env() {
        Ok(Some(bytes)) => bytes,
        Ok(None) => opts.cache_bytes,
        Err(what) => return Err(StoreError::Invalid(what)),
    };
    let config = sled::Config::new()
        .path(sled_path)
        .cache_capacity(cache_bytes)
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
            Err(corrupt(
                dir,
                format!("sled failed while reading the database: {what}"),
            ))
        }
    }
}
