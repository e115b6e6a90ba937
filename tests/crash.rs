//! kill -9 test of the store: a child process (this test binary run again
//! as `crash_child_process`, see `support/crash_child.rs`) runs
//! four halls under a seeded command stream and prints a line for every event
//! whose append is durable; this test kills it with SIGKILL at random moments
//! (at least 20 times), restarts it, and after every kill opens the store
//! itself and checks that
//! - every event acknowledged before the kill is there, unchanged;
//! - each hall's sequence has no gap, and snapshot + tail recovery equals a
//!   full replay of the log;
//! - no ticket number is issued twice in a business day;
//! - no ticket is held by two windows.
//!
//! The seed is fixed per run (`CRASH_SEED` overrides it).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hallcall_core::{EventKind, Hall};
use hallcall_store::{Store, StoreError, StoreOptions};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[path = "support/crash_child.rs"]
mod crash_child;

use crash_child::{hall_config, CrashChildArgs};

const HALLS: usize = 4;
const ROUNDS: usize = 24;

/// Where the child's store lives.
#[derive(Clone)]
enum Target {
    Sled(PathBuf),
    Postgres { url: String, schema: String },
}

impl Target {
    fn open(&self) -> Result<Store, StoreError> {
        match self {
            Target::Sled(data) => Store::open(data, StoreOptions::default()),
            Target::Postgres { url, schema } => Store::open_postgres(
                url,
                StoreOptions {
                    pg_schema: Some(schema.clone()),
                    ..StoreOptions::default()
                },
            ),
        }
    }
}

/// Runs this test binary again as the crash child (the ignored test
/// `crash_child_process`, which reads its arguments from the environment).
fn child(target: &Target, seed: u64) -> Child {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut cmd = Command::new(exe);
    cmd.args([
        "crash_child_process",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
        "-q",
    ]);
    let (data, pg) = match target {
        Target::Sled(data) => (data.clone(), None),
        Target::Postgres { url, schema } => (PathBuf::new(), Some((url.clone(), schema.clone()))),
    };
    CrashChildArgs {
        data,
        pg,
        seed,
        halls: HALLS,
        pipeline: 4,
        snapshot_every: 100,
        commands: None,
    }
    .apply(&mut cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the crash child")
}

/// The child's entry point: does nothing unless run by [`child`].
#[test]
#[ignore = "the crash test's child process, run by kill_nine_loses_nothing_acknowledged"]
fn crash_child_process() {
    if let Some(args) = CrashChildArgs::from_env() {
        if let Err(e) = crash_child::child_main(args) {
            eprintln!("crash-child: {e}");
            std::process::exit(1);
        }
    }
}

/// Complete protocol lines of the child's stdout (a line cut by the kill is
/// dropped, and so are the test harness's own lines around them).
fn reader(child: &mut Child) -> (mpsc::Receiver<String>, std::thread::JoinHandle<()>) {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    let t = std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) if buf.last() == Some(&b'\n') => {
                    let line = String::from_utf8_lossy(&buf[..buf.len() - 1]).into_owned();
                    if line != "READY" && !line.starts_with("ACK ") {
                        continue;
                    }
                    if tx.send(line).is_err() {
                        return;
                    }
                }
                Ok(_) => return, // cut by the kill: never acknowledged in full
            }
        }
    });
    (rx, t)
}

#[derive(Debug, Clone)]
struct Ack {
    hall: String,
    seq: u64,
    kind: String,
    ticket: String,
}

fn parse_ack(line: &str) -> Option<Ack> {
    let mut it = line.split(' ');
    if it.next()? != "ACK" {
        return None;
    }
    Some(Ack {
        hall: it.next()?.to_string(),
        seq: it.next()?.parse().ok()?,
        kind: it.next()?.to_string(),
        ticket: it.next()?.to_string(),
    })
}

/// What has been verified of one hall so far.
struct Checker {
    index: usize,
    /// A full replay of the verified log.
    replay: Hall,
    date: Option<String>,
    numbers: HashSet<(Option<String>, String)>,
    holder: HashMap<String, u32>,
    /// seq -> (type, ticket) of every verified event.
    seen: HashMap<u64, (String, String)>,
}

impl Checker {
    fn new(index: usize) -> Checker {
        Checker {
            index,
            replay: Hall::new(hall_config(index)),
            date: None,
            numbers: HashSet::new(),
            holder: HashMap::new(),
            seen: HashMap::new(),
        }
    }

    /// Recovers the hall and checks the events added since the last check.
    fn check(&mut self, store: &Store) -> Hall {
        let id = format!("h{}", self.index);
        let hall = store.recover(hall_config(self.index)).expect("recover");
        let from = self.replay.seq() + 1;
        let events = store.read_log(&id, from, usize::MAX).expect("read log");
        for (i, ev) in events.iter().enumerate() {
            assert_eq!(
                ev.seq,
                from + i as u64,
                "hall {id}: gap in the sequence before {}",
                ev.seq
            );
            match &ev.kind {
                EventKind::DayOpened { date } => self.date = Some(date.to_string()),
                EventKind::TicketIssued { number, .. } => {
                    assert!(
                        self.numbers.insert((self.date.clone(), number.clone())),
                        "hall {id}: number {number} issued twice on {:?} (seq {})",
                        self.date,
                        ev.seq
                    );
                }
                EventKind::TicketCalled {
                    ticket,
                    window,
                    recall: false,
                    ..
                } => {
                    if let Some(other) = self.holder.insert(ticket.clone(), *window) {
                        assert_eq!(
                            other, *window,
                            "hall {id}: ticket {ticket} called to window {window} while window {other} holds it (seq {})",
                            ev.seq
                        );
                    }
                }
                EventKind::ServiceCompleted { ticket, .. }
                | EventKind::TicketNoShow { ticket, .. }
                | EventKind::TicketTransferred { ticket, .. }
                | EventKind::TicketExpired { ticket, .. }
                | EventKind::TicketCancelled { ticket, .. }
                | EventKind::TicketRequeued { ticket, .. } => {
                    self.holder.remove(ticket);
                }
                EventKind::DayClosed { .. } => self.holder.clear(),
                _ => {}
            }
            self.seen.insert(
                ev.seq,
                (
                    ev.type_name().to_string(),
                    ev.kind.ticket().unwrap_or("-").to_string(),
                ),
            );
            self.replay.apply(ev);
        }
        assert_eq!(
            hall.seq(),
            self.replay.seq(),
            "hall {id}: recovered seq vs log"
        );
        assert!(
            hall == self.replay,
            "hall {id}: snapshot + tail recovery differs from a full replay"
        );
        let mut current = HashSet::new();
        for w in hall.windows() {
            if let Some(serial) = w.current {
                assert!(
                    current.insert(serial),
                    "hall {id}: ticket serial {serial} held by two windows"
                );
            }
        }
        hall
    }

    fn acked(&self, ack: &Ack) {
        let got = self.seen.get(&ack.seq);
        assert_eq!(
            got,
            Some(&(ack.kind.clone(), ack.ticket.clone())),
            "acknowledged event {} {} ({} {}) lost or changed after a kill",
            ack.hall,
            ack.seq,
            ack.kind,
            ack.ticket
        );
    }
}

#[test]
fn kill_nine_loses_nothing_acknowledged() {
    let tmp = tempfile::tempdir().expect("tempdir");
    kill_nine(Target::Sled(tmp.path().join("data")));
}

/// The same on PostgreSQL (`HALLCALL_TEST_PG`, a schema of its own): an
/// acknowledged append is one whose commit returned.
#[test]
fn kill_nine_loses_nothing_acknowledged_on_postgres() {
    let Ok(url) = std::env::var("HALLCALL_TEST_PG") else {
        eprintln!(
            "SKIPPED kill_nine_loses_nothing_acknowledged_on_postgres: HALLCALL_TEST_PG is not set"
        );
        return;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let schema = format!("crash_{}_{nanos}", std::process::id());
    kill_nine(Target::Postgres { url, schema });
}

fn kill_nine(target: Target) {
    let started = Instant::now();
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0005);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut checkers: Vec<Checker> = (0..HALLS).map(Checker::new).collect();
    let mut all_acks: Vec<Ack> = Vec::new();
    let (mut kills, mut rounds_with_acks, mut early_kills) = (0, 0, 0);

    for round in 0..ROUNDS {
        let mut c = child(&target, seed.wrapping_add(round as u64 * 7919));
        let (lines, t) = reader(&mut c);
        // Every sixth round the kill lands during start-up or recovery.
        let early = round % 6 == 5;
        if early {
            std::thread::sleep(Duration::from_millis(rng.gen_range(0..40)));
            early_kills += 1;
        } else {
            match lines.recv_timeout(Duration::from_secs(20)) {
                Ok(l) if l == "READY" => {}
                other => {
                    let _ = c.kill();
                    panic!("round {round}: the child did not start: {other:?}");
                }
            }
            std::thread::sleep(Duration::from_millis(rng.gen_range(50..300)));
        }
        c.kill().expect("SIGKILL");
        let status = c.wait().expect("wait");
        assert!(
            !status.success(),
            "round {round}: the child ended by itself: {status}"
        );
        kills += 1;
        t.join().expect("reader");
        let acks: Vec<Ack> = lines.try_iter().filter_map(|l| parse_ack(&l)).collect();
        if !acks.is_empty() {
            rounds_with_acks += 1;
        }

        let store = target.open().expect("reopen after kill");
        for ch in checkers.iter_mut() {
            ch.check(&store);
        }
        for a in &acks {
            let i: usize = a.hall.trim_start_matches('h').parse().expect("hall index");
            checkers[i].acked(a);
        }
        drop(store);
        all_acks.extend(acks);
    }

    // Once more from scratch: every acknowledged event of every round.
    let store = target.open().expect("reopen");
    let mut fresh: Vec<Checker> = (0..HALLS).map(Checker::new).collect();
    let mut events = 0;
    for ch in fresh.iter_mut() {
        let hall = ch.check(&store);
        events += hall.seq();
    }
    for a in &all_acks {
        let i: usize = a.hall.trim_start_matches('h').parse().expect("hall index");
        fresh[i].acked(a);
    }
    eprintln!(
        "crash test ({}): {kills} kills ({early_kills} during start-up), {} acknowledged events checked, \
         {events} events stored in {HALLS} halls, {rounds_with_acks} rounds acknowledged work, {:.1} s",
        match target {
            Target::Sled(_) => "sled",
            Target::Postgres { .. } => "postgres",
        },
        all_acks.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(kills >= 20, "only {kills} kills");
    assert!(
        rounds_with_acks >= ROUNDS / 2,
        "too few rounds acknowledged anything ({rounds_with_acks}): the kills tested little"
    );
}

#[test]
fn a_directory_in_use_by_another_process_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let mut c = child(&Target::Sled(data.clone()), 1);
    let (lines, t) = reader(&mut c);
    let ready = lines.recv_timeout(Duration::from_secs(20));
    let r = Store::open(&data, StoreOptions::default());
    let _ = c.kill();
    let _ = c.wait();
    let _ = t.join();
    assert_eq!(ready.as_deref(), Ok("READY"));
    let err = r.err().expect("refused while the child holds it");
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("another running process") && msg.contains(&format!("pid {}", c.id())),
        "{msg}"
    );
    // Once the holder is gone (killed: the kernel drops its lock), it opens.
    Store::open(&data, StoreOptions::default()).expect("open after the holder died");
}
