//! Unit tests: recovery equals live state, snapshots, resume, ordering,
//! statistics days, retention, backup, and every refusal.

use std::path::Path;
use std::time::Duration;

use hallcall_core::stats::DayStats;
use hallcall_core::{Actor, Command, Event, EventKind, Hall, HallConfig, Millis};

use crate::{Store, StoreError, StoreOptions};

mod log_format;
mod snapshot_files;

/// 2026-11-23 09:00 in Shanghai (a Monday).
const NINE_AM: Millis = 1_795_395_600_000;
const DAY: Millis = 24 * 3600 * 1000;

fn config(id: &str) -> HallConfig {
    let mut c = hallcall_core::demo::demo_hall();
    c.id = id.into();
    c
}

/// A deterministic hall driver: a clock, ticket ids, a simple command mix.
struct Driver {
    hall: Hall,
    now: Millis,
    n: u64,
    log: Vec<Event>,
}

impl Driver {
    fn new(hall: Hall) -> Driver {
        Driver {
            hall,
            now: NINE_AM,
            n: 0,
            log: Vec::new(),
        }
    }

    fn run(&mut self, by: Actor, cmd: Command) -> Vec<Event> {
        match self.hall.handle(cmd, by, self.now) {
            Ok(evs) => {
                self.log.extend(evs.iter().cloned());
                evs
            }
            Err(_) => Vec::new(),
        }
    }

    /// The next command batch of a busy morning: logins, tickets, service.
    fn step(&mut self) -> Vec<Event> {
        self.n += 1;
        self.now += 7_000;
        let n = self.n;
        if n <= 3 {
            let staff = ["s01", "s03", "s05"][(n - 1) as usize];
            return self.run(
                Actor::staff(staff),
                Command::Login {
                    staff: staff.into(),
                    window: n as u32,
                },
            );
        }
        let w = (n % 3 + 1) as u32;
        let staff = ["s01", "s03", "s05"][(w - 1) as usize];
        match n % 5 {
            0 | 2 => {
                let cats = ["general", "social", "civil", "market"];
                self.run(
                    Actor::Kiosk,
                    Command::IssueTicket {
                        id: format!("t{n:06}"),
                        category: cats[(n / 5 % 4) as usize].into(),
                        priority: Default::default(),
                        channel: Default::default(),
                        appointment_code: None,
                    },
                )
            }
            1 => self.run(Actor::staff(staff), Command::CallNext { window: w }),
            3 => self.run(Actor::staff(staff), Command::Start { window: w }),
            _ => self.run(Actor::staff(staff), Command::Complete { window: w }),
        }
    }
}

fn open(dir: &Path) -> Store {
    until_unlocked(|| Store::open(dir, StoreOptions::default()), "open")
}

/// Opens sled directly (to read or damage what the store wrote), once the
/// previous handle in this process has let go of the directory's lock.
fn raw_sled(path: &Path) -> sled::Db {
    until_unlocked(|| sled::open(path), "raw sled")
}

/// Retries `open` while the directory's file lock is still held. Dropping a
/// sled `Db` does not release the lock at once: sled's background I/O tasks
/// hold its file a moment longer, so a test that reopens a directory right
/// after closing it saw "could not acquire lock" (CI, 30 November 2026).
/// Any other error fails the test at once.
fn until_unlocked<T, E: std::fmt::Display>(
    mut open: impl FnMut() -> Result<T, E>,
    what: &str,
) -> T {
    let give_up = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match open() {
            Ok(v) => return v,
            Err(e) if is_lock_error(&e.to_string()) && std::time::Instant::now() < give_up => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{what}: {e}"),
        }
    }
}

fn is_lock_error(message: &str) -> bool {
    message.contains("could not acquire lock") || message.contains("in use by")
}

/// Where a test's store lives: a temporary sled directory, or a schema of
/// its own in the PostgreSQL database named by `HALLCALL_TEST_PG`.
enum Fixture {
    Sled(tempfile::TempDir),
    Postgres { url: String, schema: String },
}

impl Fixture {
    fn sled() -> Fixture {
        Fixture::Sled(tempfile::tempdir().expect("tempdir"))
    }

    /// `None` (with a notice) when `HALLCALL_TEST_PG` is unset.
    fn postgres(test: &str) -> Option<Fixture> {
        let Ok(url) = std::env::var("HALLCALL_TEST_PG") else {
            eprintln!(
                "SKIPPED {test} on PostgreSQL: HALLCALL_TEST_PG is not set \
                 (eval \"$(scripts/pg.sh)\" starts a throwaway cluster)"
            );
            return None;
        };
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let mut name: String = test.chars().take(30).collect();
        name = name.to_lowercase();
        let schema = format!(
            "t_{name}_{}_{}_{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        Some(Fixture::Postgres { url, schema })
    }

    fn open(&self, opts: StoreOptions) -> Store {
        match self {
            Fixture::Sled(dir) => {
                until_unlocked(|| Store::open(dir.path(), opts.clone()), "open sled")
            }
            Fixture::Postgres { url, schema } => Store::open_postgres(
                url,
                StoreOptions {
                    pg_schema: Some(schema.clone()),
                    ..opts
                },
            )
            .expect("open postgres"),
        }
    }

    fn open_default(&self) -> Store {
        self.open(StoreOptions::default())
    }
}

/// Each named test, once on sled and once on PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sled() {
                super::$name(super::Fixture::sled()).await
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(f) = super::Fixture::postgres(stringify!($name)) {
                    super::$name(f).await
                }
            }
        }
    )*};
}

on_both_backends!(
    append_then_recover_equals_live,
    snapshot_and_tail_recovery_equals_live_and_replay,
    stored_config_wins_over_the_one_passed,
    events_since_resumes_and_says_when_too_old,
    events_since_never_returns_undurable_events,
    pipelined_appends_keep_order_and_fail_together,
    day_events_and_retention,
    shutdown_flushes_and_then_refuses,
);

async fn drive(store: &Store, d: &mut Driver, steps: usize) {
    for _ in 0..steps {
        let evs = d.step();
        let id = d.hall.id().to_string();
        store.append(&id, evs).await.expect("durable");
        store.maybe_snapshot(&d.hall).expect("snapshot policy");
    }
}

async fn append_then_recover_equals_live(f: Fixture) {
    let live = {
        let store = f.open_default();
        let mut d = Driver::new(store.recover(config("h1")).expect("recover"));
        assert_eq!(d.hall.seq(), 0);
        drive(&store, &mut d, 300).await;
        assert!(d.hall.seq() > 200, "{}", d.hall.seq());
        store.shutdown().await;
        d.hall
    };
    let store = f.open_default();
    let back = store.recover(config("h1")).expect("recover");
    assert_eq!(back.seq(), live.seq());
    assert!(back == live, "recovered hall differs from the live one");
    // A hall never stored starts fresh.
    assert_eq!(store.recover(config("other")).expect("fresh").seq(), 0);
}

async fn snapshot_and_tail_recovery_equals_live_and_replay(f: Fixture) {
    let opts = StoreOptions {
        snapshot_every_events: 50,
        ..StoreOptions::default()
    };
    let (live, log) = {
        let store = f.open(opts.clone());
        let mut d = Driver::new(store.recover(config("h1")).expect("recover"));
        drive(&store, &mut d, 437).await;
        store.shutdown().await;
        (d.hall, d.log)
    };
    let store = f.open(opts);
    let snap_seq = store.snapshot_seq("h1").expect("snap seq");
    assert!(
        snap_seq > 0 && snap_seq < live.seq(),
        "a snapshot below the head: {snap_seq}"
    );
    let back = store.recover(config("h1")).expect("recover");
    assert!(back == live, "snapshot + tail differs from live");
    let mut replay = Hall::new(config("h1"));
    for ev in &log {
        replay.apply(ev);
    }
    assert!(back == replay, "snapshot + tail differs from a full replay");
    // The whole log is still there (retention keeps recent days).
    assert_eq!(store.read_log("h1", 1, usize::MAX).expect("log"), log);
}

async fn stored_config_wins_over_the_one_passed(f: Fixture) {
    let store = f.open_default();
    let mut d = Driver::new(store.recover(config("h1")).expect("recover"));
    drive(&store, &mut d, 20).await;
    let mut changed = config("h1");
    changed.name = "renamed".into();
    let back = store.recover(changed).expect("recover");
    assert_eq!(back.config().name, config("h1").name);
    assert!(back == d.hall);
}

async fn events_since_resumes_and_says_when_too_old(f: Fixture) {
    let opts = StoreOptions {
        resume_window: 100,
        ..StoreOptions::default()
    };
    let store = f.open(opts);
    let mut d = Driver::new(store.recover(config("h1")).expect("recover"));
    drive(&store, &mut d, 200).await;
    let head = d.hall.seq();
    assert!(head > 110, "{head}");
    let got = store
        .events_since("h1", head - 10, 1000)
        .expect("read")
        .expect("in window");
    assert_eq!(got, d.log[(head - 10) as usize..].to_vec());
    let limited = store
        .events_since("h1", head - 10, 3)
        .expect("read")
        .expect("in window");
    assert_eq!(
        limited.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![head - 9, head - 8, head - 7]
    );
    assert_eq!(
        store.events_since("h1", head, 10).expect("read"),
        Some(vec![])
    );
    assert_eq!(
        store.events_since("h1", head - 101, 10).expect("read"),
        None,
        "too old"
    );
    assert_eq!(
        store.events_since("h1", head + 1, 10).expect("read"),
        None,
        "ahead"
    );
    assert_eq!(
        store.events_since("nobody", 0, 10).expect("read"),
        Some(vec![])
    );
}

async fn events_since_never_returns_undurable_events(f: Fixture) {
    let store = f.open_default();
    let mut d = Driver::new(store.recover(config("h1")).expect("recover"));
    drive(&store, &mut d, 10).await;
    let head = d.hall.seq();
    let pending = store.append("h1", d.step());
    // Before the pending append resolves, nothing past `durable_seq` shows.
    let durable = store.durable_seq("h1").expect("durable");
    let seen = store
        .events_since("h1", head, 100)
        .expect("read")
        .unwrap_or_default();
    assert!(seen.iter().all(|e| e.seq <= durable));
    pending.await.expect("durable");
    assert_eq!(store.durable_seq("h1").expect("durable"), d.hall.seq());
}

async fn pipelined_appends_keep_order_and_fail_together(f: Fixture) {
    let store = f.open_default();
    let mut halls: Vec<Driver> = (0..4)
        .map(|i| Driver::new(store.recover(config(&format!("p{i}"))).expect("recover")))
        .collect();
    // Many appends in flight per hall, none awaited until the end.
    let mut pending = Vec::new();
    for _ in 0..200 {
        for d in halls.iter_mut() {
            let evs = d.step();
            pending.push(store.append(d.hall.id(), evs));
        }
    }
    // An empty append resolves only after everything before it.
    let empty = store.append("p0", Vec::new());
    empty.await.expect("empty append");
    for p in pending.into_iter().rev() {
        p.await.expect("durable");
    }
    for d in &halls {
        let log = store.read_log(d.hall.id(), 1, usize::MAX).expect("log");
        assert_eq!(log, d.log, "hall {} stored in order", d.hall.id());
    }

    // A gap is refused, and the hall refuses appends until recovered.
    let d = &mut halls[0];
    let mut skipped = d.step();
    while skipped.is_empty() {
        skipped = d.step();
    }
    let mut next = d.step();
    while next.is_empty() {
        next = d.step();
    }
    let err = store.append("p0", next.clone()).await.expect_err("gap");
    assert!(matches!(err, StoreError::OutOfOrder { .. }), "{err}");
    let err = store.append("p0", next).await.expect_err("poisoned");
    assert!(matches!(err, StoreError::Poisoned(_)), "{err}");
    let back = store.recover(config("p0")).expect("recover");
    assert_eq!(back.seq(), store.durable_seq("p0").expect("durable"));
    let mut d = Driver::new(back);
    d.now = NINE_AM + DAY / 2;
    drive(&store, &mut d, 5).await;
    // Events of another hall, or out of order inside one append, are refused.
    let mut evs = d.step();
    while evs.is_empty() {
        evs = d.step();
    }
    if let Some(e) = evs.first_mut() {
        e.hall = "p1".into();
    }
    assert!(matches!(
        store.append("p0", evs).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn day_events_and_retention(f: Fixture) {
    let opts = StoreOptions {
        snapshot_every_events: 20,
        resume_window: 50,
        retention_days: Some(1),
        compact_every: Duration::ZERO,
        ..StoreOptions::default()
    };
    let store = f.open(opts);
    let mut d = Driver::new(store.recover(config("h1")).expect("recover"));
    let mut per_day = Vec::new();
    for day in 0..4 {
        d.now = NINE_AM + day * DAY;
        d.n = 0;
        let from = d.log.len();
        drive(&store, &mut d, 120).await;
        per_day.push(d.log[from..].to_vec());
    }
    let dates = |evs: &[Event]| {
        evs.iter()
            .find_map(|e| match e.kind {
                EventKind::DayOpened { date } => Some(date),
                _ => None,
            })
            .expect("day opened")
    };
    // Day 3 and 4 are kept (the newest and one before it).
    let d3 = dates(&per_day[2]);
    let got = store.day_events("h1", d3).expect("day events");
    assert_eq!(got.first().map(|e| e.type_name()), Some("day_opened"));
    // The third day's events, from its day_opened to the next day's close.
    let want: Vec<Event> = d
        .log
        .iter()
        .filter(|e| e.seq >= got[0].seq && e.seq <= got[got.len() - 1].seq)
        .cloned()
        .collect();
    assert_eq!(got, want);
    assert!(
        got.iter().any(|e| e.type_name() == "day_closed"),
        "the day's close belongs to it"
    );
    assert_eq!(DayStats::from_events(&got), DayStats::from_events(&want));
    assert!(DayStats::from_events(&got).total.issued > 10);

    // Retention runs on its thread after a snapshot: wait for it.
    let d1 = dates(&per_day[0]);
    let mut pruned = false;
    for _ in 0..200 {
        if store.day_events("h1", d1).expect("read").is_empty() {
            pruned = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(pruned, "day 1 pruned");
    assert_eq!(
        store
            .days("h1")
            .expect("days")
            .first()
            .copied()
            .map(|x| x > d1),
        Some(true)
    );
    assert!(!store
        .day_events("h1", dates(&per_day[3]))
        .expect("read")
        .is_empty());
    assert_eq!(
        store.events_since("h1", 0, 10).expect("read"),
        None,
        "pruned is too old"
    );
    // Recovery still equals the live state.
    let back = store.recover(config("h1")).expect("recover");
    assert!(back == d.hall);
}

#[tokio::test]
async fn backup_while_running_and_restore() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let store = Store::open(
        &data,
        StoreOptions {
            snapshot_every_events: 40,
            ..StoreOptions::default()
        },
    )
    .expect("open");
    let mut a = Driver::new(store.recover(config("a")).expect("recover"));
    let mut b = Driver::new(store.recover(config("b")).expect("recover"));
    drive(&store, &mut a, 120).await;
    drive(&store, &mut b, 60).await;
    let before = a.hall.seq();
    // Appends in flight while the backup runs.
    let pending: Vec<_> = (0..20).map(|_| store.append("a", a.step())).collect();
    let bak = tmp.path().join("bak");
    let s2 = store.clone();
    let bak2 = bak.clone();
    tokio::task::spawn_blocking(move || s2.backup(&bak2))
        .await
        .expect("join")
        .expect("backup");
    for p in pending {
        p.await.expect("durable");
    }
    assert!(matches!(
        store.backup(&bak),
        Err(StoreError::TargetNotEmpty(_))
    ));
    let restored = tmp.path().join("restored");
    Store::restore(&bak, &restored).expect("restore");
    let r = open(&restored);
    assert_eq!(
        r.halls().expect("halls"),
        vec!["a".to_string(), "b".to_string()]
    );
    let rb = r.recover(config("b")).expect("recover b");
    assert!(rb == b.hall);
    let ra = r.recover(config("a")).expect("recover a");
    assert!(ra.seq() >= before && ra.seq() <= a.hall.seq());
    let mut replay = Hall::new(config("a"));
    for ev in a.log.iter().take(ra.seq() as usize) {
        replay.apply(ev);
    }
    assert!(ra == replay, "the backup is a consistent cut of hall a");
}

async fn shutdown_flushes_and_then_refuses(f: Fixture) {
    let store = f.open_default();
    let mut d = Driver::new(store.recover(config("h1")).expect("recover"));
    let pending: Vec<_> = (0..50).map(|_| store.append("h1", d.step())).collect();
    store.shutdown().await;
    for p in pending {
        p.await.expect("flushed before shutdown returned");
    }
    let stored = d.log.len();
    assert_eq!(store.append("h1", d.step()).await, Err(StoreError::Closed));
    drop(store);
    let store = f.open_default();
    let mut want = Hall::new(config("h1"));
    for e in &d.log[..stored] {
        want.apply(e);
    }
    assert!(store.recover(config("h1")).expect("recover") == want);
}

// ---- refusals ------------------------------------------------------------

#[test]
fn refuses_a_newer_format_in_meta() {
    let tmp = tempfile::tempdir().expect("tempdir");
    drop(open(tmp.path()));
    {
        let db = raw_sled(&tmp.path().join("sled"));
        let meta = db.open_tree("meta").expect("meta");
        meta.insert("format", &999u32.to_be_bytes()[..])
            .expect("insert");
        db.flush().expect("flush");
    }
    let err = Store::open(tmp.path(), StoreOptions::default())
        .err()
        .expect("refused");
    assert!(
        matches!(err, StoreError::NewerFormat { found: 999, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("newer hallcall"), "{err}");
}

#[test]
fn refuses_a_newer_format_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    drop(open(tmp.path()));
    std::fs::write(tmp.path().join("FORMAT"), "hallcall-store 999\n").expect("write");
    let err = Store::open(tmp.path(), StoreOptions::default())
        .err()
        .expect("refused");
    assert!(
        matches!(err, StoreError::NewerFormat { found: 999, .. }),
        "{err}"
    );
    // Nothing was changed.
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("FORMAT")).expect("read"),
        "hallcall-store 999\n"
    );
}

#[tokio::test]
async fn refuses_a_corrupt_database_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    {
        let store = open(tmp.path());
        let mut d = Driver::new(store.recover(config("h1")).expect("recover"));
        drive(&store, &mut d, 100).await;
        store.shutdown().await;
    }
    let db = tmp.path().join("sled").join("db");
    let len = std::fs::metadata(&db).expect("db").len();
    let garbage: Vec<u8> = (0..len).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&db, garbage).expect("garbage");
    let err = Store::open(tmp.path(), StoreOptions::default())
        .err()
        .expect("refused");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(
        err.to_string().contains("restore the latest backup"),
        "{err}"
    );
}

#[test]
fn refuses_a_truncated_database_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    drop(open(tmp.path()));
    std::fs::write(tmp.path().join("sled").join("db"), b"").expect("truncate");
    let err = Store::open(tmp.path(), StoreOptions::default())
        .err()
        .expect("refused");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
}

#[test]
fn refuses_a_directory_held_by_another_store() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let first = open(tmp.path());
    let err = Store::open(tmp.path(), StoreOptions::default())
        .err()
        .expect("refused");
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    drop(first);
    drop(open(tmp.path()));
}

#[test]
fn refuses_a_foreign_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("notes.txt"), "mine").expect("write");
    let err = Store::open(tmp.path(), StoreOptions::default())
        .err()
        .expect("refused");
    assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
}

/// Garbage over the head, the middle or the end of sled's file: sled itself
/// may take a damaged record for the torn end of its log and drop everything
/// after it; the FORMAT and COMMIT checks turn that into a refusal.
#[tokio::test]
async fn refuses_garbage_anywhere_in_the_database_file() {
    for (name, at, len) in [
        ("head", 0.0, 4096),
        ("middle", 0.5, 4096),
        ("end", 0.95, 4096),
    ] {
        let tmp = tempfile::tempdir().expect("tempdir");
        {
            let store = open(tmp.path());
            let mut d = Driver::new(store.recover(config("h1")).expect("recover"));
            drive(&store, &mut d, 400).await;
            store.shutdown().await;
        }
        let db = tmp.path().join("sled").join("db");
        let mut bytes = std::fs::read(&db).expect("db");
        let start = (bytes.len() as f64 * at) as usize;
        let end = bytes.len().min(start + len);
        for (i, b) in bytes[start..end].iter_mut().enumerate() {
            *b = (i * 7919 % 251) as u8;
        }
        std::fs::write(&db, bytes).expect("write");
        let r =
            Store::open(tmp.path(), StoreOptions::default()).and_then(|s| s.recover(config("h1")));
        let err = r
            .err()
            .unwrap_or_else(|| panic!("{name}: garbage accepted"));
        assert!(matches!(err, StoreError::Corrupt { .. }), "{name}: {err}");
    }
}

#[test]
fn store_and_durable_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Store>();
    send::<crate::Durable>();
    send_sync::<StoreError>();
}

// ---- PostgreSQL only -----------------------------------------------------

/// A raw connection to a fixture's schema, as "another writer" would have.
async fn raw_pg(f: &Fixture) -> Option<sqlx::PgConnection> {
    use sqlx::Connection;
    let Fixture::Postgres { url, schema } = f else {
        return None;
    };
    let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query(&format!("SET search_path = {schema}"))
        .execute(&mut c)
        .await
        .expect("search_path");
    Some(c)
}

/// The (hall, seq) key is the fence: an append whose seq another writer
/// took is refused with `Conflict` (and nothing of it is written), the other
/// halls of the same group commit, and recovery continues from what the
/// other writer wrote.
#[tokio::test]
async fn postgres_colliding_append_is_refused_and_other_halls_commit() {
    let Some(f) = Fixture::postgres("colliding_append") else {
        return;
    };
    let store = f.open_default();
    let mut a = Driver::new(store.recover(config("a")).expect("recover a"));
    let mut b = Driver::new(store.recover(config("b")).expect("recover b"));
    drive(&store, &mut a, 10).await;
    drive(&store, &mut b, 10).await;
    let mut mine = a.step();
    while mine.is_empty() {
        mine = a.step();
    }
    // Another writer appends the first of these events before we do.
    let mut raw = raw_pg(&f).await.expect("postgres fixture");
    let theirs = &mine[0];
    sqlx::query("INSERT INTO events (hall, seq, body) VALUES ($1, $2, $3)")
        .bind("a")
        .bind(theirs.seq as i64)
        .bind(serde_json::to_string(theirs).expect("json"))
        .execute(&mut raw)
        .await
        .expect("foreign insert");
    let head_a = store.durable_seq("a").expect("durable");
    let pa = store.append("a", mine.clone());
    let pb = store.append("b", b.step());
    // b's waiter commits the group that holds both.
    pb.await.expect("b commits despite a's collision");
    let err = pa.await.expect_err("a collides");
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("another writer"), "{err}");
    assert!(matches!(
        store.append("a", a.step()).await,
        Err(StoreError::Poisoned(_))
    ));
    // Nothing else of ours was written: the other writer's row only.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE hall = 'a' AND seq > $1")
        .bind(head_a as i64)
        .fetch_one(&mut raw)
        .await
        .expect("count");
    assert_eq!(n, 1);
    assert_eq!(store.read_log("b", 1, usize::MAX).expect("log b"), b.log);
    let back = store.recover(config("a")).expect("recover a");
    assert_eq!(
        back.seq(),
        head_a + 1,
        "recovery reads the other writer's event"
    );
}

/// A schema migrated by a newer hallcall is refused, changing nothing; the
/// tables of this version (with the leases table for later) are there.
#[tokio::test]
async fn postgres_refuses_a_newer_schema() {
    let Some(f) = Fixture::postgres("newer_schema") else {
        return;
    };
    drop(f.open_default());
    let mut raw = raw_pg(&f).await.expect("postgres fixture");
    for table in ["events", "snapshots", "leases"] {
        sqlx::query(&format!("SELECT count(*) FROM {table}"))
            .execute(&mut raw)
            .await
            .unwrap_or_else(|e| panic!("table {table}: {e}"));
    }
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', true, '\\x00', 0)",
    )
    .execute(&mut raw)
    .await
    .expect("insert");
    let Fixture::Postgres { url, schema } = &f else {
        return;
    };
    let opts = StoreOptions {
        pg_schema: Some(schema.clone()),
        ..StoreOptions::default()
    };
    let err = Store::open_postgres(url, opts).err().expect("refused");
    assert!(
        matches!(err, StoreError::NewerFormat { found: 9999, .. }),
        "{err}"
    );
}

/// Commits are synchronous even where the server's or the URL's default
/// says otherwise: nothing is acknowledged before it is on disk.
#[tokio::test]
async fn postgres_commits_synchronously_whatever_the_default() {
    let Some(Fixture::Postgres { url, schema }) = Fixture::postgres("sync_commit") else {
        return;
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    let lax = format!("{url}{sep}options=-c%20synchronous_commit%3Doff");
    {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&lax).await.expect("connect");
        let v: String = sqlx::query_scalar("SHOW synchronous_commit")
            .fetch_one(&mut c)
            .await
            .expect("show");
        assert_eq!(v, "off", "the URL's options reach the server");
    }
    let opts = StoreOptions {
        pg_schema: Some(schema),
        ..StoreOptions::default()
    };
    let store = Store::open_postgres(&lax, opts).expect("open");
    assert_eq!(store.backend(), "postgres");
    assert_eq!(store.pg_setting("synchronous_commit").expect("show"), "on");
}

/// A committer dropped in the middle of its commit (its caller gave up)
/// fails the group it took on, and poisons those halls: whether the commit
/// happened is unknown, so nobody is told it did, and recovery reads what
/// is there.
#[tokio::test]
async fn postgres_committer_dropped_mid_commit_fails_its_group() {
    let Some(f) = Fixture::postgres("dropped_committer") else {
        return;
    };
    let store = f.open_default();
    let mut a = Driver::new(store.recover(config("a")).expect("recover a"));
    let mut b = Driver::new(store.recover(config("b")).expect("recover b"));
    let mut evs_a = a.step();
    while evs_a.is_empty() {
        evs_a = a.step();
    }
    let mut evs_b = b.step();
    while evs_b.is_empty() {
        evs_b = b.step();
    }
    let pa = store.append("a", evs_a);
    let pb = store.append("b", evs_b);
    // pa leads (it is polled first) and is dropped after its first poll,
    // long before a round trip to the server can have finished.
    let cut = tokio::time::timeout(Duration::from_nanos(1), pa).await;
    assert!(cut.is_err(), "the commit cannot finish within one poll");
    let err = pb.await.expect_err("b's commit was interrupted");
    assert!(matches!(err, StoreError::Database { .. }), "{err}");
    assert!(err.to_string().contains("interrupted"), "{err}");
    assert!(matches!(
        store.append("b", b.step()).await,
        Err(StoreError::Poisoned(_))
    ));
    // Recovery reads what is there and the hall works again.
    let back = store.recover(config("b")).expect("recover b");
    assert_eq!(back.seq(), store.durable_seq("b").expect("durable"));
    let mut d = Driver::new(back);
    drive(&store, &mut d, 5).await;
}
