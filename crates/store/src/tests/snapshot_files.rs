//! Snapshots as files (store format 3, `crate::snapfile`): written outside
//! sled, found again by recovery, moved out of an older format's `snap`
//! tree, refused when damaged, and never the cause of a lost event when one
//! cannot be written.

use std::path::Path;
use std::time::Duration;

use super::{config, drive, open, raw_sled, until_unlocked, Driver, DAY, NINE_AM};
use crate::keys;
use crate::snapfile::{file_name, snap_dir};
use crate::{Store, StoreError, StoreOptions};

fn often() -> StoreOptions {
    StoreOptions {
        snapshot_every_events: 50,
        // Retention as eager as it gets, so a snapshot that was not written
        // would show as a log compacted behind it.
        retention_days: Some(0),
        resume_window: 0,
        compact_every: Duration::ZERO,
        ..StoreOptions::default()
    }
}

/// Two business days of commands, so retention has a past day to delete.
async fn two_days(store: &Store, d: &mut Driver) {
    drive(store, d, 150).await;
    d.now = NINE_AM + DAY;
    d.n = 0;
    drive(store, d, 150).await;
}

fn open_often(dir: &Path) -> Store {
    until_unlocked(|| Store::open(dir, often()), "open")
}

/// The `snap` tree's records in a closed store: (hall, seq).
fn snap_tree(dir: &Path) -> Vec<(String, u64)> {
    let db = raw_sled(&dir.join("sled"));
    let snap = db.open_tree("snap").expect("snap tree");
    snap.iter()
        .map(|item| {
            let (k, v) = item.expect("record");
            let (seq, _) = keys::snap_parts(&v).expect("snap header");
            (String::from_utf8_lossy(&k).into_owned(), seq)
        })
        .collect()
}

/// The seq in `hall`'s snapshot file, read through the store's own reader.
fn file_seq(dir: &Path, hall: &str) -> Option<u64> {
    crate::snapfile::read(&snap_dir(dir), hall, true)
        .expect("readable")
        .map(|f| f.seq)
}

#[tokio::test]
async fn snapshots_are_files_outside_sled_and_recovery_uses_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = open_often(tmp.path());
    let mut d = Driver::new(store.recover(config("h1")).expect("recover"));
    // The new hall's first snapshot (its configuration) is on disk at once.
    assert_eq!(file_seq(tmp.path(), "h1"), Some(0));
    two_days(&store, &mut d).await;
    let snap_seq = store.snapshot_seq("h1").expect("snap seq");
    assert!(snap_seq >= 100, "snapshots taken: {snap_seq}");
    store.shutdown().await;
    let (written, failed) = store.snapshot_counts().expect("sled counts snapshots");
    assert!(
        written >= 2 && failed == 0,
        "written {written}, failed {failed}"
    );
    drop(store);
    // Shutdown waited for the file of the last snapshot taken.
    assert_eq!(file_seq(tmp.path(), "h1"), Some(snap_seq));
    assert!(snap_tree(tmp.path()).is_empty(), "no snapshot kept in sled");

    let store = open_often(tmp.path());
    assert_eq!(store.halls().expect("halls"), vec!["h1".to_string()]);
    let back = store.recover(config("h1")).expect("recover");
    assert!(back == d.hall, "snapshot file + tail differs from live");
    // Retention ran behind the snapshot: the log no longer starts at 1,
    // so the file, not a full replay, is what recovered the hall.
    let first = store.read_log("h1", 1, usize::MAX).expect("read");
    assert!(
        first.first().is_some_and(|e| e.seq > 1),
        "retention kept the whole log: {:?}",
        first.first().map(|e| e.seq)
    );
}

#[tokio::test]
async fn a_format_2_store_with_snapshots_in_sled_recovers_and_moves_them_to_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let store = open(dir);
    let mut d = Driver::new(store.recover(config("h1")).expect("recover"));
    drive(&store, &mut d, 150).await;
    store.shutdown().await;
    drop(store);
    // Make it what format 2 wrote: the snapshot as a `snap` record.
    let snap = crate::snapfile::read(&snap_dir(dir), "h1", true)
        .expect("read")
        .expect("a snapshot");
    {
        let db = raw_sled(&dir.join("sled"));
        db.open_tree("snap")
            .expect("snap")
            .insert("h1", keys::snap_value(snap.seq, &snap.json))
            .expect("insert");
        db.open_tree("meta")
            .expect("meta")
            .insert(b"format", &2u32.to_be_bytes()[..])
            .expect("format 2");
        db.flush().expect("flush");
    }
    std::fs::remove_dir_all(snap_dir(dir)).expect("no files in format 2");
    std::fs::write(dir.join("FORMAT"), "hallcall-store 2\n").expect("FORMAT 2");

    let store = open_often(dir);
    assert_eq!(
        std::fs::read_to_string(dir.join("FORMAT")).expect("FORMAT"),
        "hallcall-store 3\n",
        "marked 3, so a format-2 build refuses it from now on"
    );
    assert_eq!(store.snapshot_seq("h1").expect("seq"), snap.seq);
    let back = store
        .recover(config("h1"))
        .expect("recover from the sled record");
    assert!(
        back == d.hall,
        "recovered from the format-2 snapshot differs"
    );
    d.hall = back;
    drive(&store, &mut d, 100).await;
    store.shutdown().await;
    drop(store);
    assert!(
        file_seq(dir, "h1").is_some_and(|s| s > snap.seq),
        "a newer snapshot went to a file"
    );
    assert!(snap_tree(dir).is_empty(), "the sled record was removed");
    let store = open(dir);
    let back = store.recover(config("h1")).expect("recover");
    assert!(back == d.hall, "recovered after the move differs");
}

#[tokio::test]
async fn a_damaged_snapshot_file_is_refused_by_name() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = open_often(tmp.path());
    let mut d = Driver::new(store.recover(config("h1")).expect("recover"));
    drive(&store, &mut d, 120).await;
    store.shutdown().await;
    drop(store);
    let path = snap_dir(tmp.path()).join(file_name("h1"));
    let mut bytes = std::fs::read(&path).expect("file");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&path, bytes).expect("damage");

    let store = open_often(tmp.path());
    match store.recover(config("h1")) {
        Err(StoreError::Corrupt { detail, .. }) => {
            assert!(detail.contains("h1.snap"), "names the file: {detail}");
            assert!(detail.contains("checksum"), "{detail}");
        }
        Err(e) => panic!("expected Corrupt, got {e}"),
        Ok(_) => panic!("a damaged snapshot was replayed"),
    }
}

#[tokio::test]
async fn a_snapshot_that_cannot_be_written_loses_nothing_and_compacts_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let store = open_often(dir);
    let mut d = Driver::new(store.recover(config("h1")).expect("recover"));
    // Its temporary file cannot be created: every snapshot write fails.
    let blocker = snap_dir(dir).join("h1.snap.tmp");
    std::fs::create_dir(&blocker).expect("blocker");
    two_days(&store, &mut d).await;
    assert!(
        store.snapshot_seq("h1").expect("seq") == 0,
        "no snapshot stored"
    );
    // The store goes on: every command was acknowledged above, and the log
    // was not compacted behind a snapshot that is not there.
    let log = store.read_log("h1", 1, usize::MAX).expect("log");
    assert_eq!(log.first().map(|e| e.seq), Some(1));
    assert_eq!(log, d.log);
    store.shutdown().await;
    let (written, failed) = store.snapshot_counts().expect("sled counts snapshots");
    assert!(
        written == 0 && failed >= 2,
        "written {written}, failed {failed}"
    );
    drop(store);
    std::fs::remove_dir(&blocker).expect("unblock");
    let store = open_often(dir);
    let back = store.recover(config("h1")).expect("recover by replay");
    assert!(back == d.hall, "recovered by replay differs");
    assert_eq!(file_seq(dir, "h1"), Some(0));
}
