//! The child process of the crash test (`tests/crash.rs`). The test binary
//! runs itself again with `HALLCALL_CRASH_CHILD` set, naming the ignored test
//! `crash_child_process`, which calls [`child_main`]: it recovers a few halls
//! from the store, then runs a seeded stream of commands on each (one tokio
//! task per hall, appends pipelined) and prints one line per event whose
//! append is durable:
//!
//! ```text
//! READY
//! ACK <hall> <seq> <type> <ticket or ->
//! ```
//!
//! The test kills it with SIGKILL at random moments and checks that every
//! acknowledged event survived. It lives here, not in the store library, so
//! that the library does not carry a command-line parser and a random number
//! generator for a test's sake.

use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hallcall_core::model::{TicketState, WindowState};
use hallcall_core::{Actor, Command, Event, Hall, HallConfig, Millis};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use hallcall_store::{Durable, Store, StoreError, StoreOptions};

/// What the child runs, read from the environment the test sets.
#[derive(Debug, Clone)]
pub struct CrashChildArgs {
    /// Data directory of the store (sled).
    pub data: PathBuf,
    /// PostgreSQL instead of sled: (URL, schema).
    pub pg: Option<(String, String)>,
    /// Seed of the command stream (also part of every ticket id).
    pub seed: u64,
    /// Number of halls: h0, h1, … (copies of the demo hall).
    pub halls: usize,
    /// Appends in flight per hall before the oldest is awaited.
    pub pipeline: usize,
    /// Snapshot every this many events.
    pub snapshot_every: u64,
    /// Stop after this many commands per hall (default: until killed).
    pub commands: Option<u64>,
}

/// Set (to the data directory) in the child's environment.
pub const ENV_DATA: &str = "HALLCALL_CRASH_CHILD";
const ENV_SEED: &str = "HALLCALL_CRASH_SEED";
const ENV_HALLS: &str = "HALLCALL_CRASH_HALLS";
const ENV_SNAPSHOT_EVERY: &str = "HALLCALL_CRASH_SNAPSHOT_EVERY";
const ENV_PG_URL: &str = "HALLCALL_CRASH_PG_URL";
const ENV_PG_SCHEMA: &str = "HALLCALL_CRASH_PG_SCHEMA";

impl CrashChildArgs {
    /// The child's arguments, if this process is a crash child.
    pub fn from_env() -> Option<CrashChildArgs> {
        let data = std::env::var_os(ENV_DATA)?;
        let num = |k: &str, d: u64| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(d)
        };
        Some(CrashChildArgs {
            data: PathBuf::from(data),
            pg: std::env::var(ENV_PG_URL)
                .ok()
                .zip(std::env::var(ENV_PG_SCHEMA).ok()),
            seed: num(ENV_SEED, 1),
            halls: num(ENV_HALLS, 4) as usize,
            pipeline: 4,
            snapshot_every: num(ENV_SNAPSHOT_EVERY, 100),
            commands: None,
        })
    }

    /// Sets this child's arguments on `cmd` (the test binary run again).
    pub fn apply(&self, cmd: &mut std::process::Command) {
        cmd.env(ENV_DATA, &self.data)
            .env(ENV_SEED, self.seed.to_string())
            .env(ENV_HALLS, self.halls.to_string())
            .env(ENV_SNAPSHOT_EVERY, self.snapshot_every.to_string());
        if let Some((url, schema)) = &self.pg {
            cmd.env(ENV_PG_URL, url).env(ENV_PG_SCHEMA, schema);
        }
    }
}

/// The configuration of crash-test hall `i`: the demo hall with id `h{i}`.
pub fn hall_config(i: usize) -> HallConfig {
    let mut c = hallcall_core::demo::demo_hall();
    c.id = format!("h{i}");
    c
}

/// Runs the child until it is killed (or `commands` are done).
pub fn child_main(args: CrashChildArgs) -> Result<(), StoreError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| StoreError::Invalid(format!("crash-child: cannot start a runtime: {e}")))?;
    rt.block_on(run(args))
}

async fn run(args: CrashChildArgs) -> Result<(), StoreError> {
    let opts = StoreOptions {
        snapshot_every_events: args.snapshot_every.max(1),
        ..StoreOptions::default()
    };
    let store = match &args.pg {
        Some((url, schema)) => Store::open_postgres(
            url,
            StoreOptions {
                pg_schema: Some(schema.clone()),
                ..opts
            },
        )?,
        None => Store::open(&args.data, opts)?,
    };
    let mut halls = Vec::new();
    for i in 0..args.halls {
        halls.push(store.recover(hall_config(i))?);
    }
    let out = Arc::new(Mutex::new(std::io::stdout()));
    print_line(&out, "READY");
    let mut tasks = Vec::new();
    for (i, hall) in halls.into_iter().enumerate() {
        let store = store.clone();
        let out = out.clone();
        let args = args.clone();
        tasks.push(tokio::spawn(async move {
            let seed = args.seed.wrapping_mul(1_000_003).wrapping_add(i as u64);
            drive(store, hall, seed, &args, out).await
        }));
    }
    for t in tasks {
        t.await
            .map_err(|e| StoreError::Invalid(format!("hall task failed: {e}")))??;
    }
    store.shutdown().await;
    Ok(())
}

fn print_line(out: &Mutex<std::io::Stdout>, line: &str) {
    let out = out.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = out.lock();
    // The test may have stopped reading; that is not our failure.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

async fn drive(
    store: Store,
    mut hall: Hall,
    seed: u64,
    args: &CrashChildArgs,
    out: Arc<Mutex<std::io::Stdout>>,
) -> Result<(), StoreError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut pending: VecDeque<(Durable, Vec<Event>)> = VecDeque::new();
    let mut issued = 0u64;
    let mut n = 0u64;
    let id = hall.id().to_string();
    loop {
        if args.commands.is_some_and(|max| n >= max) {
            break;
        }
        n += 1;
        let decided = match pick(&hall, &mut rng, args.seed, &mut issued) {
            Some((by, cmd)) => hall.handle(cmd, by, now_ms()),
            None => Ok(hall.handle_timeout(now_ms())),
        };
        if let Ok(evs) = decided {
            if !evs.is_empty() {
                let d = store.append(&id, evs.clone());
                store.maybe_snapshot(&hall)?;
                pending.push_back((d, evs));
            }
        }
        while pending.len() >= args.pipeline.max(1) {
            if let Some((d, evs)) = pending.pop_front() {
                d.await?;
                ack(&out, &evs);
            }
        }
        if n.is_multiple_of(8) {
            tokio::task::yield_now().await;
        }
        if rng.gen_ratio(1, 200) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    while let Some((d, evs)) = pending.pop_front() {
        d.await?;
        ack(&out, &evs);
    }
    Ok(())
}

fn ack(out: &Mutex<std::io::Stdout>, evs: &[Event]) {
    let mut text = String::new();
    for e in evs {
        text.push_str(&format!(
            "ACK {} {} {} {}\n",
            e.hall,
            e.seq,
            e.type_name(),
            e.kind.ticket().unwrap_or("-")
        ));
    }
    print_line(out, text.trim_end());
}

/// A plausible next command for `hall`: tickets, logins, the service cycle,
/// now and then a no-show, requeue, transfer, rating, logout, or `None`:
/// let the hall act on its timers (`Hall::handle_timeout`).
fn pick(hall: &Hall, rng: &mut StdRng, tag: u64, issued: &mut u64) -> Option<(Actor, Command)> {
    let cfg = hall.config();
    let r = rng.gen_range(0..100);
    if r < 35 {
        *issued += 1;
        let c = &cfg.categories[rng.gen_range(0..cfg.categories.len())];
        let priority = if rng.gen_ratio(1, 8) {
            hallcall_core::Priority::Elderly
        } else {
            hallcall_core::Priority::Normal
        };
        return Some((
            Actor::Kiosk,
            Command::IssueTicket {
                id: format!("c{tag}-{issued}"),
                category: c.id.clone(),
                priority,
                channel: Default::default(),
                appointment_code: None,
            },
        ));
    }
    if r < 37 {
        return None;
    }
    if r < 39 {
        if let Some(t) = hall.tickets().find(|t| t.state == TicketState::NoShow) {
            return Some((
                Actor::Kiosk,
                Command::Requeue {
                    ticket: t.id.to_string(),
                },
            ));
        }
    }
    if r < 41 {
        if let Some(t) = hall
            .tickets()
            .find(|t| t.state == TicketState::Done && t.rating.is_none())
        {
            return Some((
                Actor::Public,
                Command::Rate {
                    ticket: t.id.to_string(),
                    score: rng.gen_range(1..=5),
                    // 差评 (1, 2) need a reason; it must survive a crash too.
                    reason: hallcall_core::hall::RatingReason {
                        codes: vec!["long_wait".into()],
                        text: "等了很久".into(),
                    },
                },
            ));
        }
    }
    let wc = &cfg.windows[rng.gen_range(0..cfg.windows.len())];
    let window = wc.number;
    let w = hall.window(window)?;
    match &w.on_duty {
        None => {
            let staff = match (&wc.b_post, rng.gen_ratio(1, 4)) {
                (Some(b), true) => b.clone(),
                _ => wc.a_post.clone(),
            };
            Some((
                Actor::staff(staff.clone()),
                Command::Login { staff, window },
            ))
        }
        Some(seat) => {
            let staff = seat.staff.clone();
            let cmd = match w.state {
                WindowState::Open if rng.gen_ratio(1, 30) => Command::Logout {
                    staff: staff.clone(),
                    window,
                },
                WindowState::Calling => match rng.gen_range(0..10) {
                    0 => Command::NoShow { window },
                    1 => Command::Recall { window },
                    _ => Command::Start { window },
                },
                WindowState::Serving if rng.gen_ratio(1, 20) => Command::Transfer {
                    window,
                    category: Some(
                        cfg.categories[rng.gen_range(0..cfg.categories.len())]
                            .id
                            .clone(),
                    ),
                    to_window: None,
                },
                WindowState::Serving => Command::Complete { window },
                WindowState::Paused { .. } => Command::Resume { window },
                _ => Command::CallNext { window },
            };
            Some((Actor::staff(staff), cmd))
        }
    }
}
