//! City bench (issue 12, build item 7): one `hallcall serve` process with 200
//! halls, thousands of hall/window displays and citizens' phone pages that make
//! the requests the real pages make, and every hall issuing, calling, starting
//! and completing through the real HTTP API at the same time.
//!
//! Two modes, each against its own fresh server, one after the other in the
//! same run:
//!
//! * **refetch** — what `display-client/` does today. Every page starts with
//!   `GET /state` and subscribes to `/events?since=<seq>`
//!   (`lib/live.js` `start`, `_connect`); after every new event it re-fetches
//!   `GET /state` 200–300 ms later, at most one in flight, one more 50 ms after
//!   an overlapping one (`refresh`, `_fetchState`); it polls `/state` every
//!   15 s (displays) or 30 s (phones, `ticket.js` `pollMs: 30000`) and
//!   reconnects with `since=lastSeq` after 0.5, 1, 2, 4, 5 s ± 20 %
//!   (`_nextDelay`). A phone (`js/ticket.js`) also loads its ticket
//!   (`GET /tickets/{id}`): once before `Live.start`, whenever the socket
//!   opens (`onConnection`), twice on its own call (`onCall` and `onEvent`),
//!   once on each other event about its number, 800 ms (trailing debounce)
//!   after any `ticket_called`, `ticket_issued`, `ticket_transferred`,
//!   `ticket_requeued`, `window_*`, `failover` or `day_closed`, and every 60 s.
//! * **push** — the pages as they are now: each loads once (`GET /state`
//!   in `Live.start`, and a phone its ticket first), then updates from the
//!   WebSocket alone — no re-fetch, no polls. The socket asks for pushed
//!   views (`view=1`; a phone also `ticket=<id>`, docs/api.md "Push"): a
//!   `view` message after every batch and a phone's `ticket` status, handled
//!   by [`Client::on_push_view`].
//!
//! Per hall: `CITY_WINDOWS` clerks log in (POST `/sessions`, as `clerk.js`)
//! and each runs a cycle of `CITY_CYCLE_S` seconds: `call-next`, `start` after
//! 15 % of the cycle, `complete` after 85 %, then the kiosk issues a ticket
//! (POST `/tickets` with the kiosk token, as `kiosk.js`) — so the queue stays
//! as long as it started. Each waiting ticket has a phone page open: at start
//! one ticket per phone is issued; each newly issued ticket opens a new phone
//! page, and a phone page closes `CITY_PHONE_LINGER_S` after its own service is
//! completed. Windows start at random phases, so the call rate is flat.
//!
//! **Call → last client**: for every `call-next` whose reply arrives in the
//! measured interval, the time from the reply (and from sending the request)
//! until the last client of that hall that was subscribed when the request
//! was sent has received the `ticket_called` event (over the socket, or in a
//! reconnect's replay/snapshot).
//!
//! The server is the release `hallcall` binary as a child process
//! (`CITY_HALLCALL_BIN` to measure another build); CPU time and RSS come from
//! its `/proc/<pid>/{stat,status}`.
//!
//! **File descriptors.** The bench raises RLIMIT_NOFILE to the hard limit; the
//! server child inherits it. One process can hold at most that many sockets:
//! every client holds a WebSocket, so the server caps the number of clients,
//! and the clients are spread over `CITY_WORKERS` worker processes (this bench
//! binary re-executed) so that no worker exceeds it either. If the limit is
//! below what the requested counts need, the counts are scaled down (same
//! display:phone ratio) and the run says so. The pages' HTTP requests go over
//! a bounded pool of keep-alive connections per worker (`CITY_PAGE_CONNS`,
//! `CITY_CMD_CONNS` in all): a browser would hold one connection per page,
//! which the descriptor limit does not leave room for. Client sockets are
//! bound to 127.0.0.2 … 127.0.0.(1+`CITY_SRC_ADDRS`), so that ephemeral ports
//! do not run out and no address exceeds the server's per-address connection
//! cap; the server's per-kiosk issue rate is lifted
//! (`HALLCALL_KIOSK_ISSUES_PER_MINUTE=0`) for the tickets issued before the
//! run.
//!
//! Run: `cargo bench --bench city`. Knobs (environment): `CITY_HALLS` (200),
//! `CITY_DISPLAYS` (4000), `CITY_PHONES` (20000), `CITY_SECS` (measured
//! seconds per mode, 60), `CITY_WARMUP` (seconds before measuring; default one cycle),
//! `CITY_WINDOWS` (clerks per hall, 4), `CITY_HALL_WINDOWS` (windows in each
//! hall's configuration, 10), `CITY_CYCLE_S` (30), `CITY_MODES`
//! (`refetch,push`), `CITY_WORKERS` (auto), `CITY_PAGE_CONNS` (512),
//! `CITY_CMD_CONNS` (128), `CITY_SRC_ADDRS` (64), `CITY_PHONE_LINGER_S` (2),
//! `CITY_DATA` (parent of the data directories; default the temp dir),
//! `CITY_HALLCALL_BIN`. Quick check: `CITY_HALLS=20 CITY_DISPLAYS=400
//! CITY_PHONES=2000 CITY_SECS=10 cargo bench --bench city`. Without `--bench`
//! (e.g. `cargo test --benches`) it runs a tiny smoke version.

use std::collections::HashMap;
use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::pin::Pin;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[path = "support/child.rs"]
mod child;
use child::{wait_for_line, ChildGuard};
#[path = "support/procfs.rs"]
mod procfs;
use procfs::{cpu_s, loadavg, rss_mib};
type Res<T> = Result<T, BoxError>;

/// Every clerk's PIN (hashed once per run with `hallcall hash-pin`).
const PIN: &str = "246810";
/// Categories of every hall: (id, name, prefix, expected_s).
const CATEGORIES: [(&str, &str, char, u32); 4] = [
    ("general", "综合受理", 'A', 300),
    ("social", "社保医保", 'B', 420),
    ("civil", "民政服务", 'C', 360),
    ("estate", "不动产登记", 'D', 900),
];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn env_str(name: &str) -> Res<String> {
    std::env::var(name).map_err(|_| format!("{name} not set").into())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Refetch,
    Push,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Refetch => "refetch",
            Mode::Push => "push",
        }
    }

    fn parse(s: &str) -> Option<Mode> {
        match s.trim() {
            "refetch" => Some(Mode::Refetch),
            "push" => Some(Mode::Push),
            _ => None,
        }
    }
}

/// How many of `total` things hall `h` of `halls` gets.
fn share(total: usize, halls: usize, h: usize) -> usize {
    total / halls + usize::from(h < total % halls)
}

fn main() {
    if std::env::var_os("CITY_WORKER").is_some() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let code = match rt.block_on(worker_main()) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("city worker failed: {e}");
                1
            }
        };
        // Thousands of tasks and sockets: leave without dropping them one by one.
        std::process::exit(code);
    }
    if let Err(e) = parent_main() {
        eprintln!("city bench failed: {e}");
        std::process::exit(1);
    }
}

// ================================================================= parent ==

#[derive(Clone, Debug)]
struct Params {
    halls: usize,
    displays: usize,
    phones: usize,
    secs: f64,
    warmup: f64,
    windows: usize,
    hall_windows: usize,
    cycle_s: f64,
    modes: Vec<Mode>,
    workers: usize,
    page_conns: usize,
    cmd_conns: usize,
    src_addrs: usize,
    linger_s: f64,
}

impl Params {
    fn from_env(bench: bool) -> Params {
        let modes = std::env::var("CITY_MODES")
            .unwrap_or_else(|_| "refetch,push".into())
            .split(',')
            .filter_map(Mode::parse)
            .collect();
        if bench {
            Params {
                halls: env_or("CITY_HALLS", 200usize).max(1),
                displays: env_or("CITY_DISPLAYS", 4000),
                phones: env_or("CITY_PHONES", 20000),
                secs: env_or("CITY_SECS", 60.0),
                // One whole cycle: every window has called, started and
                // completed once, so the event mix is steady.
                warmup: env_or("CITY_WARMUP", env_or("CITY_CYCLE_S", 30.0)),
                windows: env_or("CITY_WINDOWS", 4usize).max(1),
                hall_windows: env_or("CITY_HALL_WINDOWS", 10usize),
                cycle_s: env_or("CITY_CYCLE_S", 30.0),
                modes,
                workers: env_or("CITY_WORKERS", 0),
                page_conns: env_or("CITY_PAGE_CONNS", 512usize).max(1),
                cmd_conns: env_or("CITY_CMD_CONNS", 128usize).max(1),
                // ≤ 300 clients per address at full scale: under the server's
                // per-address connection cap (1,000), as separate devices are.
                src_addrs: env_or("CITY_SRC_ADDRS", 64usize).clamp(1, 250),
                linger_s: env_or("CITY_PHONE_LINGER_S", 2.0),
            }
        } else {
            Params {
                halls: 2,
                displays: 4,
                phones: 10,
                secs: 3.0,
                warmup: 1.0,
                windows: 2,
                hall_windows: 3,
                cycle_s: 2.0,
                modes,
                workers: 1,
                page_conns: 8,
                cmd_conns: 8,
                src_addrs: 2,
                linger_s: 1.0,
            }
        }
    }
}

/// Raises RLIMIT_NOFILE to the hard limit; returns the limit now in force.
fn raise_nofile_limit() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read/write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                eprintln!("warning: could not raise the open-files limit");
                libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
            }
        }
    }
    lim.rlim_cur.min(1 << 30) as usize
}

/// Descriptors a process needs besides its client sockets (files, epoll,
/// pipes; `hallcall serve` keeps 512 below the limit for itself).
const FD_SLACK: usize = 600;

fn parent_main() -> Res<()> {
    let bench = std::env::args().any(|a| a == "--bench");
    let mut p = Params::from_env(bench);
    if p.modes.is_empty() {
        return Err("CITY_MODES names no mode (refetch, push)".into());
    }
    p.hall_windows = p.hall_windows.max(p.windows);
    let nofile = raise_nofile_limit();
    let (want_d, want_p) = (p.displays, p.phones);
    // The server holds one socket per client plus the pooled HTTP connections.
    // Phones of new tickets open while served ones linger: one more per window.
    let budget = nofile.saturating_sub(FD_SLACK + p.page_conns + p.cmd_conns + p.halls * p.windows);
    if p.displays + p.phones > budget {
        let f = budget as f64 / (p.displays + p.phones) as f64;
        // Same factor for both, rounded down to whole clients per hall.
        let round = |n: usize| {
            let n = (n as f64 * f).floor() as usize;
            if n >= p.halls {
                n - n % p.halls
            } else {
                n
            }
        };
        p.displays = round(want_d);
        p.phones = round(want_p);
    }
    if p.workers == 0 {
        let per_worker = nofile.saturating_sub(FD_SLACK).max(1000) * 9 / 10;
        let need = p.displays + p.phones + p.page_conns + p.cmd_conns;
        p.workers = need.div_ceil(per_worker).max(1);
    }
    p.workers = p.workers.min(p.halls);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("city bench: {p:?}");
    println!(
        "machine: {cores} cores ({}); RLIMIT_NOFILE {nofile}; load average at start {}",
        cpu_model(),
        loadavg()
    );
    if (p.displays, p.phones) != (want_d, want_p) {
        println!(
            "NOTE: {want_d} displays + {want_p} phones need {} sockets in the server process, but RLIMIT_NOFILE (hard) is {nofile}: scaled to {} displays + {} phones (same ratio). Raise the hard limit (e.g. `ulimit -Hn 65536` as root with CAP_SYS_RESOURCE) for the full counts.",
            want_d + want_p + p.page_conns + p.cmd_conns + p.halls * p.windows + FD_SLACK,
            p.displays,
            p.phones
        );
    }
    let bin = std::env::var("CITY_HALLCALL_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_hallcall").to_string());
    println!("hallcall binary: {bin}");
    let pin_hash = hash_pin(&bin)?;

    let mut results = Vec::new();
    for &mode in &p.modes {
        results.push(run_mode(&p, mode, &bin, &pin_hash)?);
    }
    report(&p, &results);
    Ok(())
}

fn hash_pin(bin: &str) -> Res<String> {
    let out = Command::new(bin).args(["hash-pin", PIN]).output()?;
    if !out.status.success() {
        return Err(format!(
            "hallcall hash-pin failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(String::from_utf8(out.stdout)?.trim().to_string())
}

fn hall_id(h: usize) -> String {
    format!("h{h:03}")
}

fn kiosk_token(h: usize) -> String {
    format!("kiosk-city-{h:03}")
}

fn staff_id(w: usize) -> String {
    format!("c{:02}", w + 1)
}

/// The configuration of `p.halls` halls, each open around the clock (as the
/// demo hall), four categories, `p.hall_windows` comprehensive windows.
fn config_toml(p: &Params, data: &str, pin_hash: &str) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "[server]\nlisten = \"127.0.0.1:0\"\ndata = \"{data}\"\n"
    ));
    for h in 0..p.halls {
        s.push_str(&format!(
            "\n[[hall]]\nid = \"{}\"\nname = \"城区第{}政务服务中心\"\nname_en = \"City service hall {}\"\ntimezone = \"Asia/Shanghai\"\nkiosk_tokens = [\"{}\"]\nsupervisor_tokens = [\"supervisor-city-{h:03}\"]\n",
            hall_id(h),
            h + 1,
            h + 1,
            kiosk_token(h)
        ));
        for (id, name, prefix, expected) in CATEGORIES {
            s.push_str(&format!(
                "\n[[hall.category]]\nid = \"{id}\"\nname = \"{name}\"\nprefix = \"{prefix}\"\nexpected_s = {expected}\nlimit_s = 7200\nwait_target_s = 14400\n"
            ));
        }
        for w in 0..p.hall_windows {
            s.push_str(&format!(
                "\n[[hall.window]]\nnumber = {}\nkind = \"comprehensive\"\na_post = \"{}\"\n",
                w + 1,
                staff_id(w)
            ));
        }
        for w in 0..p.hall_windows {
            s.push_str(&format!(
                "\n[[hall.staff]]\nid = \"{}\"\nname = \"窗口{}\"\npin_hash = \"{pin_hash}\"\n",
                staff_id(w),
                w + 1
            ));
        }
    }
    s
}

/// What one mode measured (merged over the workers).
#[derive(Debug, Default)]
struct ModeResult {
    mode: Option<Mode>,
    displays: usize,
    phones: usize,
    wall_s: f64,
    setup_s: f64,
    events: u64,
    calls: usize,
    incomplete: usize,
    reply_last_us: Vec<f64>,
    send_last_us: Vec<f64>,
    ack_us: Vec<f64>,
    state_lat_us: Vec<f64>,
    req_state: u64,
    req_ticket: u64,
    req_cmd: u64,
    ws_connects: u64,
    http_errors: u64,
    ws_drops: u64,
    subscribed_end: u64,
    server_cpu_s: f64,
    worker_cpu_s: f64,
    rss_connected_mib: f64,
    rss_end_mib: f64,
    hwm_mib: f64,
    load_end: String,
}

struct WorkerProc {
    child: ChildGuard,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
}

impl WorkerProc {
    fn send(&mut self, line: &str) -> Res<()> {
        writeln!(self.stdin, "{line}")?;
        self.stdin.flush()?;
        Ok(())
    }

    /// The next line that starts with `prefix` (other lines are echoed).
    fn expect(&self, prefix: &str, timeout: Duration) -> Res<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return Ok(l),
                Ok(l) => println!("  worker: {l}"),
                Err(_) => return Err(format!("worker sent no {prefix} in time").into()),
            }
        }
    }
}

fn run_mode(p: &Params, mode: Mode, bin: &str, pin_hash: &str) -> Res<ModeResult> {
    println!("\n== mode {} ==", mode.name());
    let parent = std::env::var_os("CITY_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::Builder::new()
        .prefix("hallcall-city-")
        .tempdir_in(parent)?;
    let data = dir.path().join("data");
    let cfg_path = dir.path().join("city.toml");
    std::fs::write(
        &cfg_path,
        config_toml(p, &data.display().to_string(), pin_hash),
    )?;
    let log = std::fs::File::create(dir.path().join("server.log"))?;
    let t_setup = Instant::now();
    let mut server = ChildGuard(
        Command::new(bin)
            // The kiosk issues a morning's tickets at once before the run:
            // lift the per-kiosk rate (an environment variable, so older
            // builds, which have no such limit, start too).
            .env("HALLCALL_KIOSK_ISSUES_PER_MINUTE", "0")
            .arg("serve")
            .arg("--config")
            .arg(&cfg_path)
            .arg("--data")
            .arg(&data)
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()?,
    );
    let spid = server.0.id();
    let line = wait_for_line(&mut server.0, "listening on http://")?;
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .ok_or("no address in the banner")?
        .trim_end_matches('/')
        .to_string();
    println!(
        "server pid {spid} on {addr}, {} halls; RSS {:.1} MiB",
        p.halls,
        rss_mib(spid).0
    );

    // Workers: contiguous hall ranges.
    let exe = std::env::current_exe()?;
    let mut workers = Vec::new();
    for k in 0..p.workers {
        let h0 = p.halls * k / p.workers;
        let h1 = p.halls * (k + 1) / p.workers;
        let mut child = Command::new(&exe)
            .env("CITY_WORKER", "1")
            .env("CITY_W_ADDR", &addr)
            .env("CITY_W_MODE", mode.name())
            .env("CITY_W_H0", h0.to_string())
            .env("CITY_W_H1", h1.to_string())
            .env("CITY_W_HALLS", p.halls.to_string())
            .env("CITY_W_DISPLAYS", p.displays.to_string())
            .env("CITY_W_PHONES", p.phones.to_string())
            .env("CITY_W_WINDOWS", p.windows.to_string())
            .env("CITY_W_CYCLE_S", p.cycle_s.to_string())
            .env("CITY_W_LINGER_S", p.linger_s.to_string())
            .env(
                "CITY_W_PAGE_CONNS",
                p.page_conns.div_ceil(p.workers).to_string(),
            )
            .env(
                "CITY_W_CMD_CONNS",
                p.cmd_conns.div_ceil(p.workers).to_string(),
            )
            .env("CITY_W_SRC_ADDRS", p.src_addrs.to_string())
            .env("CITY_W_SEED", (k as u64 * 7919 + 17).to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take().ok_or("no worker stdin")?;
        let out = child.stdout.take().ok_or("no worker stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        workers.push(WorkerProc {
            child: ChildGuard(child),
            stdin,
            lines: rx,
        });
    }
    // The server's RSS every 100 ms during the set-up, to place its peak.
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        std::thread::spawn(move || {
            let mut peak = (0.0f64, 0.0f64);
            while sampling.load(Ordering::Relaxed) {
                let rss = rss_mib(spid).0;
                if rss > peak.0 {
                    peak = (rss, t_setup.elapsed().as_secs_f64());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            peak
        })
    };
    for w in &workers {
        let l = w.expect("READY", Duration::from_secs(900))?;
        println!("  worker {}: {l}", w.child.0.id());
    }
    let setup_s = t_setup.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(500));
    sampling.store(false, Ordering::Relaxed);
    let (peak, peak_at) = sampler.join().unwrap_or((f64::NAN, f64::NAN));
    let (rss_connected, hwm_connected) = rss_mib(spid);
    println!(
        "all clients connected after {setup_s:.1} s; server RSS {rss_connected:.1} MiB (VmHWM {hwm_connected:.1}; highest sample {peak:.1} MiB at {peak_at:.1} s); load {}",
        loadavg()
    );
    for w in &mut workers {
        w.send("GO")?;
    }
    std::thread::sleep(Duration::from_secs_f64(p.warmup));
    for w in &mut workers {
        w.send("MEASURE")?;
    }
    let wpids: Vec<u32> = workers.iter().map(|w| w.child.0.id()).collect();
    let cpu_s0 = cpu_s(spid);
    let cpu_w0: f64 = wpids.iter().map(|&p| cpu_s(p)).sum();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(p.secs));
    for w in &mut workers {
        w.send("STOP")?;
    }
    let wall_s = t0.elapsed().as_secs_f64();
    let server_cpu_s = cpu_s(spid) - cpu_s0;
    let worker_cpu_s = wpids.iter().map(|&p| cpu_s(p)).sum::<f64>() - cpu_w0;
    let (rss_end, hwm) = rss_mib(spid);
    let load_end = loadavg();
    let mut r = ModeResult {
        mode: Some(mode),
        displays: p.displays,
        phones: p.phones,
        wall_s,
        setup_s,
        server_cpu_s,
        worker_cpu_s,
        rss_connected_mib: rss_connected,
        rss_end_mib: rss_end,
        hwm_mib: hwm,
        load_end,
        ..Default::default()
    };
    for w in &workers {
        let l = w.expect("RESULT ", Duration::from_secs(120))?;
        let v: serde_json::Value = serde_json::from_str(&l["RESULT ".len()..])?;
        merge(&mut r, &v);
    }
    for mut w in workers {
        let _ = w.send("EXIT");
        drop(w.stdin);
        let _ = w.child.0.wait();
    }
    drop(server);
    drop(dir);
    print_mode(&r);
    Ok(r)
}

fn merge(r: &mut ModeResult, v: &serde_json::Value) {
    let u = |k: &str| v[k].as_u64().unwrap_or(0);
    let list = |k: &str| -> Vec<f64> {
        v[k].as_array()
            .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
            .unwrap_or_default()
    };
    r.events += u("events");
    r.calls += u("calls") as usize;
    r.incomplete += u("incomplete") as usize;
    r.reply_last_us.extend(list("reply_last_us"));
    r.send_last_us.extend(list("send_last_us"));
    r.ack_us.extend(list("ack_us"));
    r.state_lat_us.extend(list("state_lat_us"));
    r.req_state += u("req_state");
    r.req_ticket += u("req_ticket");
    r.req_cmd += u("req_cmd");
    r.ws_connects += u("ws_connects");
    r.http_errors += u("http_errors");
    r.ws_drops += u("ws_drops");
    r.subscribed_end += u("subscribed");
}

/// Nearest-rank percentile of unsorted values.
fn pct(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

impl ModeResult {
    fn page_requests(&self) -> u64 {
        self.req_state + self.req_ticket
    }

    fn all_requests(&self) -> u64 {
        self.page_requests() + self.req_cmd + self.ws_connects
    }

    fn per_event(&self, n: u64) -> f64 {
        n as f64 / self.events.max(1) as f64
    }
}

fn print_mode(r: &ModeResult) {
    let mut a = r.reply_last_us.clone();
    let mut b = r.send_last_us.clone();
    let mut c = r.ack_us.clone();
    let mut s = r.state_lat_us.clone();
    println!(
        "{}: {} displays + {} phones, connected after {:.1} s of set-up",
        r.mode.map(Mode::name).unwrap_or("?"),
        r.displays,
        r.phones,
        r.setup_s
    );
    println!(
        "{}: {} events in {:.1} s ({:.0}/s), {} calls ({} incomplete); call reply → last client p50 {:.2} ms p99 {:.2} ms max {:.2} ms; call sent → last client p50 {:.2} ms p99 {:.2} ms; call-next ack p50 {:.2} ms p99 {:.2} ms; /state answer p50 {:.2} ms p99 {:.2} ms",
        r.mode.map(Mode::name).unwrap_or("?"),
        r.events,
        r.wall_s,
        r.events as f64 / r.wall_s,
        r.calls,
        r.incomplete,
        pct(&mut a, 0.5) / 1e3,
        pct(&mut a, 0.99) / 1e3,
        pct(&mut a, 1.0) / 1e3,
        pct(&mut b, 0.5) / 1e3,
        pct(&mut b, 0.99) / 1e3,
        pct(&mut c, 0.5) / 1e3,
        pct(&mut c, 0.99) / 1e3,
        pct(&mut s, 0.5) / 1e3,
        pct(&mut s, 0.99) / 1e3,
    );
    println!(
        "  requests: /state {} ticket {} commands {} ws upgrades {} → {:.1} per event ({:.1} from pages); http errors {}, ws drops {}, clients subscribed at end {}",
        r.req_state,
        r.req_ticket,
        r.req_cmd,
        r.ws_connects,
        r.per_event(r.all_requests()),
        r.per_event(r.page_requests()),
        r.http_errors,
        r.ws_drops,
        r.subscribed_end
    );
    println!(
        "  server CPU {:.2} s ({:.3} s per 1,000 events), client workers CPU {:.2} s; server RSS {:.1} MiB connected, {:.1} MiB at end (VmHWM {:.1}); load average {}",
        r.server_cpu_s,
        r.server_cpu_s * 1000.0 / r.events.max(1) as f64,
        r.worker_cpu_s,
        r.rss_connected_mib,
        r.rss_end_mib,
        r.hwm_mib,
        r.load_end
    );
}

fn report(p: &Params, rs: &[ModeResult]) {
    println!();
    println!(
        "city bench: {} halls, {} displays + {} phones ({} WebSocket clients), {} clerks per hall, cycle {} s, {} s measured per mode after {} s warm-up, {} worker process(es)",
        p.halls,
        p.displays,
        p.phones,
        p.displays + p.phones,
        p.windows,
        p.cycle_s,
        p.secs,
        p.warmup,
        p.workers
    );
    print!("| {:<44} |", "figure");
    for r in rs {
        print!(" {:>12} |", r.mode.map(Mode::name).unwrap_or("?"));
    }
    println!();
    print!("|{:-<46}|", "");
    for _ in rs {
        print!("{:->14}|", "");
    }
    println!();
    type Row<'a> = (&'a str, Box<dyn Fn(&ModeResult) -> String>);
    let f2 = |x: f64| format!("{x:.2}");
    let rows: Vec<Row> = vec![
        (
            "call reply → last client, p50 ms",
            Box::new(move |r| f2(pct(&mut r.reply_last_us.clone(), 0.5) / 1e3)),
        ),
        (
            "call reply → last client, p99 ms",
            Box::new(move |r| f2(pct(&mut r.reply_last_us.clone(), 0.99) / 1e3)),
        ),
        (
            "call sent → last client, p99 ms",
            Box::new(move |r| f2(pct(&mut r.send_last_us.clone(), 0.99) / 1e3)),
        ),
        (
            "call-next HTTP reply, p99 ms",
            Box::new(move |r| f2(pct(&mut r.ack_us.clone(), 0.99) / 1e3)),
        ),
        (
            "calls timed (incomplete)",
            Box::new(|r| format!("{} ({})", r.calls, r.incomplete)),
        ),
        (
            "events (per s)",
            Box::new(|r| format!("{} ({:.0})", r.events, r.events as f64 / r.wall_s)),
        ),
        (
            "server requests per event",
            Box::new(|r| format!("{:.2}", r.per_event(r.all_requests()))),
        ),
        (
            "… of which page requests",
            Box::new(|r| format!("{:.2}", r.per_event(r.page_requests()))),
        ),
        (
            "server CPU s per 1,000 events",
            Box::new(|r| format!("{:.3}", r.server_cpu_s * 1000.0 / r.events.max(1) as f64)),
        ),
        (
            "server CPU, % of one core",
            Box::new(|r| format!("{:.0}", r.server_cpu_s * 100.0 / r.wall_s)),
        ),
        (
            "server RSS at end, MiB",
            Box::new(|r| format!("{:.1}", r.rss_end_mib)),
        ),
        (
            "server VmHWM, MiB",
            Box::new(|r| format!("{:.1}", r.hwm_mib)),
        ),
        (
            "client workers CPU, % of one core",
            Box::new(|r| format!("{:.0}", r.worker_cpu_s * 100.0 / r.wall_s)),
        ),
    ];
    for (name, f) in &rows {
        print!("| {name:<44} |");
        for r in rs {
            print!(" {:>12} |", f(r));
        }
        println!();
    }
    let find = |m: Mode| rs.iter().find(|r| r.mode == Some(m));
    if let (Some(a), Some(b)) = (find(Mode::Refetch), find(Mode::Push)) {
        let ra = a.per_event(a.all_requests()) / b.per_event(b.all_requests()).max(1e-9);
        println!(
            "requests per event, refetch / push: {ra:.1}× (goal ≥ 10×: {})",
            if ra >= 10.0 { "met" } else { "MISSED" }
        );
        let ca = a.server_cpu_s / a.events.max(1) as f64;
        let cb = b.server_cpu_s / b.events.max(1) as f64;
        println!("server CPU per event, refetch / push: {:.1}×", ca / cb);
    }
    for r in rs {
        let p99 = pct(&mut r.reply_last_us.clone(), 0.99) / 1e3;
        let rss = r.rss_end_mib.max(r.rss_connected_mib) * 1.048_576;
        println!(
            "goals, {}: p99 ≤ 50 ms: {} ({p99:.2} ms); server RSS ≤ 500 MB: {} ({rss:.0} MB)",
            r.mode.map(Mode::name).unwrap_or("?"),
            if p99 <= 50.0 { "met" } else { "MISSED" },
            if rss <= 500.0 { "met" } else { "MISSED" },
        );
    }
    println!("load average at end: {}", loadavg());
}

// ------------------------------------------------------------- processes --

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

// ================================================================= worker ==

/// Request counters of one worker (always counting; the driver diffs them).
#[derive(Default)]
struct Counters {
    state: AtomicU64,
    ticket: AtomicU64,
    cmd: AtomicU64,
    ws: AtomicU64,
    http_errors: AtomicU64,
    ws_drops: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> [u64; 6] {
        [
            self.state.load(Ordering::Relaxed),
            self.ticket.load(Ordering::Relaxed),
            self.cmd.load(Ordering::Relaxed),
            self.ws.load(Ordering::Relaxed),
            self.http_errors.load(Ordering::Relaxed),
            self.ws_drops.load(Ordering::Relaxed),
        ]
    }
}

/// One call's tracking: who has seen it, when it was sent and answered.
#[derive(Default, Clone, Copy)]
struct CallTrack {
    seen: u32,
    last_ns: u64,
    sent_ns: u64,
    reply_ns: u64,
    /// Clients of the hall subscribed when the request was sent.
    expected: u32,
    /// The `ticket_called` event's seq (from the clients).
    seq: u64,
}

/// A hall as the worker drives it.
struct HallRt {
    h: usize,
    id: String,
    base: String,
    kiosk: String,
    tokens: Mutex<Vec<String>>,
    /// Clients whose socket is open.
    subscribed: AtomicUsize,
    /// Highest event seq any client has seen.
    max_seq: AtomicU64,
    /// Calls by ticket number (unique per hall and business day).
    calls: Mutex<HashMap<String, CallTrack>>,
    /// Phone pages closed by their citizen: (when, last seq they had seen).
    /// A call sent before a page closed that the page never saw is not
    /// waited for.
    departures: Mutex<Vec<(u64, u64)>>,
    next_cat: AtomicUsize,
}

impl HallRt {
    fn note_call(&self, number: &str, seq: u64, now_ns: u64) {
        let mut g = self.calls.lock().expect("calls lock");
        let t = g.entry(number.to_string()).or_default();
        t.seen += 1;
        t.seq = seq;
        t.last_ns = t.last_ns.max(now_ns);
    }

    /// Clients a call waits for: those subscribed when it was sent, less the
    /// pages that closed afterwards without having seen it.
    fn expected(&self, t: &CallTrack) -> u32 {
        let gone = self
            .departures
            .lock()
            .expect("departures lock")
            .iter()
            .filter(|&&(at, last)| at > t.sent_ns && last < t.seq)
            .count();
        t.expected.saturating_sub(gone as u32)
    }
}

struct Worker {
    mode: Mode,
    base_t: Instant,
    net: Arc<Net>,
    page: Pool,
    cmd: Pool,
    counters: Counters,
    /// Recording `/state` answer times (µs) while measuring.
    measuring: AtomicBool,
    state_lat: Mutex<Vec<f32>>,
    ack: Mutex<Vec<(u64, f32)>>,
    stop: AtomicBool,
    cycle: Duration,
    linger: Duration,
    host: String,
    rng_seed: AtomicU64,
}

impl Worker {
    fn now_ns(&self) -> u64 {
        self.base_t.elapsed().as_nanos() as u64
    }

    fn seed(&self) -> u64 {
        self.rng_seed
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_mul(0xBF58_476D_1CE4_E5B9)
            | 1
    }
}

/// xorshift64*: cheap jitter for thousands of clients.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Client sockets, spread over several loopback source addresses.
struct Net {
    server: SocketAddr,
    src_addrs: usize,
    next: AtomicUsize,
}

impl Net {
    async fn connect(&self) -> Res<TcpStream> {
        let k = self.next.fetch_add(1, Ordering::Relaxed) % self.src_addrs;
        let sock = tokio::net::TcpSocket::new_v4()?;
        sock.bind(SocketAddr::V4(SocketAddrV4::new(
            Ipv4Addr::new(127, 0, 0, 2 + k as u8),
            0,
        )))?;
        let s = tokio::time::timeout(Duration::from_secs(10), sock.connect(self.server))
            .await
            .map_err(|_| "connect timed out")??;
        s.set_nodelay(true)?;
        Ok(s)
    }
}

// ---------------------------------------------------------------- http --

/// A keep-alive HTTP/1.1 connection and its read buffer.
struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
}

/// A bounded pool of keep-alive connections; a request waits for a free one.
struct Pool {
    sem: tokio::sync::Semaphore,
    idle: Mutex<Vec<Conn>>,
}

struct Reply {
    status: u16,
    body: Vec<u8>,
    /// When the request was written (after waiting for a connection).
    sent_ns: u64,
}

impl Pool {
    fn new(n: usize) -> Pool {
        Pool {
            sem: tokio::sync::Semaphore::new(n),
            idle: Mutex::new(Vec::new()),
        }
    }

    async fn request(
        &self,
        w: &Worker,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Res<Reply> {
        let _permit = self.sem.acquire().await?;
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\n",
            w.host
        );
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if let Some(b) = body {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            ));
        } else {
            req.push_str("\r\n");
        }
        // The server closes idle keep-alive connections (its header timeout):
        // a kept one that fails is dropped and the next one tried, a fresh
        // connection last.
        loop {
            let reused = self.idle.lock().expect("pool lock").pop();
            let fresh = reused.is_none();
            let mut conn = match reused {
                Some(c) => c,
                None => Conn {
                    s: w.net.connect().await?,
                    buf: Vec::with_capacity(1024),
                },
            };
            let sent_ns = w.now_ns();
            match exchange(&mut conn, req.as_bytes()).await {
                Ok((status, body, keep)) => {
                    if keep {
                        conn.buf.clear();
                        self.idle.lock().expect("pool lock").push(conn);
                    }
                    return Ok(Reply {
                        status,
                        body,
                        sent_ns,
                    });
                }
                Err(_) if !fresh => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Writes one request and reads one response: (status, body, keep-alive).
async fn exchange(c: &mut Conn, req: &[u8]) -> Res<(u16, Vec<u8>, bool)> {
    c.s.write_all(req).await?;
    c.buf.clear();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&c.buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = c.s.read(&mut chunk).await?;
        if n == 0 {
            return Err("connection closed".into());
        }
        c.buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&c.buf[..head_end])?.to_ascii_lowercase();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
    };
    let keep = header("connection:").as_deref() != Some("close");
    let body = if let Some(cl) = header("content-length:").and_then(|v| v.parse::<usize>().ok()) {
        while c.buf.len() < head_end + cl {
            let n = c.s.read(&mut chunk).await?;
            if n == 0 {
                return Err("connection closed in body".into());
            }
            c.buf.extend_from_slice(&chunk[..n]);
        }
        c.buf[head_end..head_end + cl].to_vec()
    } else if header("transfer-encoding:").is_some_and(|v| v.contains("chunked")) {
        let mut body = Vec::new();
        let mut at = head_end;
        loop {
            let line_end = loop {
                if let Some(i) = find(&c.buf[at..], b"\r\n") {
                    break at + i;
                }
                let n = c.s.read(&mut chunk).await?;
                if n == 0 {
                    return Err("connection closed in chunk".into());
                }
                c.buf.extend_from_slice(&chunk[..n]);
            };
            let size_txt = std::str::from_utf8(&c.buf[at..line_end])?;
            let size = usize::from_str_radix(size_txt.split(';').next().unwrap_or("").trim(), 16)?;
            let need = line_end + 2 + size + 2;
            while c.buf.len() < need {
                let n = c.s.read(&mut chunk).await?;
                if n == 0 {
                    return Err("connection closed in chunk".into());
                }
                c.buf.extend_from_slice(&chunk[..n]);
            }
            body.extend_from_slice(&c.buf[line_end + 2..line_end + 2 + size]);
            at = need;
            if size == 0 {
                break;
            }
        }
        body
    } else if status == 204 || status == 304 {
        Vec::new()
    } else {
        return Err("response without length".into());
    };
    Ok((status, body, keep))
}

// ------------------------------------------------------ tiny JSON peeks --

/// The first `"key":<digits>` in `s` (the envelope's, for events and views).
fn peek_u64(s: &str, key: &str) -> Option<u64> {
    let pat = format!("\"{key}\":");
    let i = s.find(&pat)? + pat.len();
    let rest = &s[i..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The first `"key":"<value>"` in `s` (values without escapes).
fn peek_str<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":\"");
    let i = s.find(&pat)? + pat.len();
    let rest = &s[i..];
    Some(&rest[..rest.find('"')?])
}

// -------------------------------------------------------------- worker --

async fn worker_main() -> Res<()> {
    let addr: SocketAddr = env_str("CITY_W_ADDR")?.parse()?;
    let mode = Mode::parse(&env_str("CITY_W_MODE")?).ok_or("bad mode")?;
    let h0: usize = env_or("CITY_W_H0", 0);
    let h1: usize = env_or("CITY_W_H1", 0);
    let halls: usize = env_or("CITY_W_HALLS", 1);
    let displays: usize = env_or("CITY_W_DISPLAYS", 0);
    let phones: usize = env_or("CITY_W_PHONES", 0);
    let windows: usize = env_or("CITY_W_WINDOWS", 1);
    let cycle_s: f64 = env_or("CITY_W_CYCLE_S", 30.0);
    let linger_s: f64 = env_or("CITY_W_LINGER_S", 10.0);
    let w = Arc::new(Worker {
        mode,
        base_t: Instant::now(),
        net: Arc::new(Net {
            server: addr,
            src_addrs: env_or("CITY_W_SRC_ADDRS", 8),
            next: AtomicUsize::new(0),
        }),
        page: Pool::new(env_or("CITY_W_PAGE_CONNS", 256)),
        cmd: Pool::new(env_or("CITY_W_CMD_CONNS", 64)),
        counters: Counters::default(),
        measuring: AtomicBool::new(false),
        state_lat: Mutex::new(Vec::new()),
        ack: Mutex::new(Vec::new()),
        stop: AtomicBool::new(false),
        cycle: Duration::from_secs_f64(cycle_s),
        linger: Duration::from_secs_f64(linger_s),
        host: addr.to_string(),
        rng_seed: AtomicU64::new(env_or("CITY_W_SEED", 1)),
    });

    // Commands from the parent, one per line on stdin.
    let (ctl_tx, mut ctl) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if ctl_tx.send(line.trim().to_string()).is_err() {
                break;
            }
        }
    });

    // Set-up: clerks log in, the kiosk issues one ticket per phone.
    let t = Instant::now();
    let mut hs = Vec::new();
    let mut setups = FuturesUnordered::new();
    for h in h0..h1 {
        let hall = Arc::new(HallRt {
            h,
            id: hall_id(h),
            base: format!("/api/v1/halls/{}", hall_id(h)),
            kiosk: kiosk_token(h),
            tokens: Mutex::new(Vec::new()),
            subscribed: AtomicUsize::new(0),
            max_seq: AtomicU64::new(0),
            calls: Mutex::new(HashMap::new()),
            departures: Mutex::new(Vec::new()),
            next_cat: AtomicUsize::new(h),
        });
        hs.push(hall.clone());
        let w = w.clone();
        let n_phones = share(phones, halls, h);
        setups.push(async move {
            let mut tokens = Vec::new();
            for win in 0..windows {
                let body = format!(
                    "{{\"staff\":\"{}\",\"pin\":\"{PIN}\",\"window\":{}}}",
                    staff_id(win),
                    win + 1
                );
                let r = w
                    .cmd
                    .request(
                        &w,
                        "POST",
                        &format!("{}/sessions", hall.base),
                        None,
                        Some(&body),
                    )
                    .await?;
                let text = String::from_utf8_lossy(&r.body);
                if r.status != 200 {
                    return Err(BoxError::from(format!(
                        "login {} at {}: {} {text}",
                        staff_id(win),
                        hall.id,
                        r.status
                    )));
                }
                tokens.push(peek_str(&text, "token").ok_or("no token")?.to_string());
            }
            *hall.tokens.lock().expect("tokens") = tokens;
            let mut ids = Vec::with_capacity(n_phones);
            for _ in 0..n_phones {
                ids.push(issue(&w, &hall).await?);
            }
            Ok::<_, BoxError>((hall, ids))
        });
    }
    let mut phone_ids = Vec::new();
    while let Some(r) = setups.next().await {
        phone_ids.push(r?);
    }
    drop(setups);
    let t_login = t.elapsed().as_secs_f64();

    // Clients: the displays, then a phone per waiting ticket.
    let gate = Arc::new(tokio::sync::Semaphore::new(128));
    let mut n_clients = 0usize;
    for hall in &hs {
        for _ in 0..share(displays, halls, hall.h) {
            spawn_client(&w, hall, None, gate.clone());
            n_clients += 1;
        }
    }
    for (hall, ids) in phone_ids {
        for id in ids {
            spawn_client(&w, &hall, Some(id), gate.clone());
            n_clients += 1;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let up: usize = hs
            .iter()
            .map(|h| h.subscribed.load(Ordering::Relaxed))
            .sum();
        if up >= n_clients {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("only {up}/{n_clients} clients connected in 600 s").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "READY halls {h0}..{h1}: {n_clients} clients; logins + tickets {t_login:.1} s, clients {:.1} s",
        t.elapsed().as_secs_f64() - t_login
    );
    std::io::stdout().flush()?;

    let mut m0 = (0u64, [0u64; 6], 0u64);
    loop {
        let Some(cmd) = ctl.recv().await else {
            return Ok(());
        };
        match cmd.as_str() {
            "GO" => {
                let mut rng = Rng(w.seed());
                for hall in &hs {
                    for win in 0..windows {
                        let phase = w.cycle.mul_f64(rng.next_f64());
                        tokio::spawn(window_driver(w.clone(), hall.clone(), win, phase));
                    }
                }
            }
            "MEASURE" => {
                w.measuring.store(true, Ordering::Relaxed);
                let seqs = hs.iter().map(|h| h.max_seq.load(Ordering::Relaxed)).sum();
                m0 = (w.now_ns(), w.counters.snapshot(), seqs);
            }
            "STOP" => {
                let t1 = w.now_ns();
                let c1 = w.counters.snapshot();
                let seqs1: u64 = hs.iter().map(|h| h.max_seq.load(Ordering::Relaxed)).sum();
                w.measuring.store(false, Ordering::Relaxed);
                w.stop.store(true, Ordering::Relaxed);
                // Late receipts of the last calls.
                tokio::time::sleep(Duration::from_secs(5)).await;
                let (t0, c0, seqs0) = m0;
                let mut reply_last = Vec::new();
                let mut send_last = Vec::new();
                let mut incomplete = 0usize;
                for hall in &hs {
                    let g = hall.calls.lock().expect("calls lock");
                    for t in g.values() {
                        if t.reply_ns < t0 || t.reply_ns > t1 || t.sent_ns == 0 {
                            continue;
                        }
                        if t.seen < hall.expected(t) {
                            incomplete += 1;
                            continue;
                        }
                        reply_last.push(t.last_ns.saturating_sub(t.reply_ns) as f64 / 1e3);
                        send_last.push(t.last_ns.saturating_sub(t.sent_ns) as f64 / 1e3);
                    }
                }
                let ack: Vec<f64> = w
                    .ack
                    .lock()
                    .expect("ack")
                    .iter()
                    .filter(|(at, _)| *at >= t0 && *at <= t1)
                    .map(|&(_, us)| us as f64)
                    .collect();
                let state_lat: Vec<f64> = w
                    .state_lat
                    .lock()
                    .expect("lat")
                    .iter()
                    .map(|&x| x as f64)
                    .collect();
                let d = |i: usize| c1[i] - c0[i];
                let subscribed: usize = hs
                    .iter()
                    .map(|h| h.subscribed.load(Ordering::Relaxed))
                    .sum();
                let v = serde_json::json!({
                    "events": seqs1 - seqs0,
                    "calls": reply_last.len() + incomplete,
                    "incomplete": incomplete,
                    "reply_last_us": reply_last,
                    "send_last_us": send_last,
                    "ack_us": ack,
                    "state_lat_us": state_lat,
                    "req_state": d(0),
                    "req_ticket": d(1),
                    "req_cmd": d(2),
                    "ws_connects": d(3),
                    "http_errors": d(4),
                    "ws_drops": d(5),
                    "subscribed": subscribed,
                });
                println!("RESULT {v}");
                std::io::stdout().flush()?;
            }
            "EXIT" => return Ok(()),
            other => eprintln!("worker: unknown command {other:?}"),
        }
    }
}

/// The kiosk issues a ticket (`kiosk.js` `issue`); returns its id.
async fn issue(w: &Worker, hall: &HallRt) -> Res<String> {
    let (cat, _, _, _) =
        CATEGORIES[hall.next_cat.fetch_add(1, Ordering::Relaxed) % CATEGORIES.len()];
    let body = format!("{{\"category\":\"{cat}\"}}");
    w.counters.cmd.fetch_add(1, Ordering::Relaxed);
    let r = w
        .cmd
        .request(
            w,
            "POST",
            &format!("{}/tickets", hall.base),
            Some(&hall.kiosk),
            Some(&body),
        )
        .await?;
    let text = String::from_utf8_lossy(&r.body);
    if r.status != 201 {
        return Err(format!("issue at {}: {} {text}", hall.id, r.status).into());
    }
    Ok(peek_str(&text, "id").ok_or("no ticket id")?.to_string())
}

/// A clerk action on window `win` (`clerk.js` `act`: POST with body `{}`).
async fn clerk(w: &Worker, hall: &HallRt, win: usize, action: &str) -> Res<Reply> {
    let token = hall.tokens.lock().expect("tokens")[win].clone();
    w.counters.cmd.fetch_add(1, Ordering::Relaxed);
    w.cmd
        .request(
            w,
            "POST",
            &format!("{}/windows/{}/{action}", hall.base, win + 1),
            Some(&token),
            Some("{}"),
        )
        .await
}

/// One clerk's day at peak: call, start, complete, and a new citizen arrives.
async fn window_driver(w: Arc<Worker>, hall: Arc<HallRt>, win: usize, phase: Duration) {
    let cycle = w.cycle;
    let mut next = tokio::time::Instant::now() + phase;
    let gate = Arc::new(tokio::sync::Semaphore::new(64));
    while !w.stop.load(Ordering::Relaxed) {
        tokio::time::sleep_until(next).await;
        if w.stop.load(Ordering::Relaxed) {
            break;
        }
        let t0 = next;
        next += cycle;
        let expected = hall.subscribed.load(Ordering::Relaxed) as u32;
        let r = match clerk(&w, &hall, win, "call-next").await {
            Ok(r) => r,
            Err(e) => {
                w.counters.http_errors.fetch_add(1, Ordering::Relaxed);
                eprintln!("call-next {} {}: {e}", hall.id, win + 1);
                continue;
            }
        };
        let reply_ns = w.now_ns();
        if r.status == 204 {
            // Nothing waits: a citizen arrives, the clerk calls next cycle.
            if let Ok(id) = issue(&w, &hall).await {
                spawn_client(&w, &hall, Some(id), gate.clone());
            }
            continue;
        }
        if r.status != 200 {
            w.counters.http_errors.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "call-next {} {}: {} {}",
                hall.id,
                win + 1,
                r.status,
                String::from_utf8_lossy(&r.body)
            );
            continue;
        }
        let text = String::from_utf8_lossy(&r.body);
        if let Some(number) = peek_str(&text, "number") {
            let mut g = hall.calls.lock().expect("calls lock");
            let t = g.entry(number.to_string()).or_default();
            t.sent_ns = r.sent_ns;
            t.reply_ns = reply_ns;
            t.expected = expected;
        }
        if w.measuring.load(Ordering::Relaxed) {
            w.ack.lock().expect("ack").push((
                reply_ns,
                (reply_ns.saturating_sub(r.sent_ns) as f64 / 1e3) as f32,
            ));
        }
        tokio::time::sleep_until(t0 + cycle.mul_f64(0.15)).await;
        check(clerk(&w, &hall, win, "start").await, &hall, win, "start");
        tokio::time::sleep_until(t0 + cycle.mul_f64(0.85)).await;
        check(
            clerk(&w, &hall, win, "complete").await,
            &hall,
            win,
            "complete",
        );
        match issue(&w, &hall).await {
            Ok(id) => spawn_client(&w, &hall, Some(id), gate.clone()),
            Err(e) => eprintln!("issue {}: {e}", hall.id),
        }
    }
}

/// Reports a failed clerk action (the cycle goes on).
fn check(r: Res<Reply>, hall: &HallRt, win: usize, action: &str) {
    match r {
        Ok(r) if r.status == 200 => {}
        Ok(r) => eprintln!(
            "{action} {} {}: {} {}",
            hall.id,
            win + 1,
            r.status,
            String::from_utf8_lossy(&r.body)
        ),
        Err(e) => eprintln!("{action} {} {}: {e}", hall.id, win + 1),
    }
}

// -------------------------------------------------------------- clients --

fn spawn_client(
    w: &Arc<Worker>,
    hall: &Arc<HallRt>,
    ticket: Option<String>,
    gate: Arc<tokio::sync::Semaphore>,
) {
    let c = Client {
        w: w.clone(),
        hall: hall.clone(),
        ticket,
        number: None,
        last_seq: None,
        state_seq: 0,
        attempt: 0,
        rng: Rng(w.seed()),
        state_inflight: false,
        state_again: false,
        stale_strikes: 0,
        stale_seq: 0,
        last_msg: Instant::now(),
        up: false,
        closing_at: None,
    };
    tokio::spawn(async move {
        if let Err(e) = c.run(gate).await {
            eprintln!("client: {e}");
        }
    });
}

type Ws = WebSocketStream<TcpStream>;

/// What a finished page request brings back.
enum Fetched {
    /// `GET /state`: the view's seq (None: failed), from a poll or not.
    State(Option<u64>, bool),
    /// `GET /tickets/{id}`: the ticket's number (None: failed).
    Ticket(Option<String>),
}

type Fetch = Pin<Box<dyn Future<Output = Fetched> + Send>>;

/// One display or phone page (`lib/live.js` `Live`, plus `js/ticket.js` for a
/// phone). Field names follow `Live`'s.
struct Client {
    w: Arc<Worker>,
    hall: Arc<HallRt>,
    /// A phone's ticket id; None for a display.
    ticket: Option<String>,
    /// A phone's ticket number (`status.number`), once loaded.
    number: Option<String>,
    last_seq: Option<u64>,
    state_seq: u64,
    attempt: u32,
    rng: Rng,
    state_inflight: bool,
    state_again: bool,
    stale_strikes: u32,
    stale_seq: u64,
    last_msg: Instant,
    up: bool,
    /// A phone whose own service is complete closes its page at this time.
    closing_at: Option<tokio::time::Instant>,
}

/// A timer that may be unset.
async fn maybe_sleep(at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

impl Client {
    fn refetch(&self) -> bool {
        self.w.mode == Mode::Refetch
    }

    /// `_nextDelay`: 0.5 s, 1 s, 2 s, 4 s, then 5 s, ±20 %.
    fn next_delay(&mut self) -> Duration {
        let base = (500.0 * 2f64.powi(self.attempt as i32)).min(5000.0);
        self.attempt = (self.attempt + 1).min(10);
        Duration::from_secs_f64(base * (0.8 + self.rng.next_f64() * 0.4) / 1e3)
    }

    fn fetch_state(&self, poll: bool) -> Fetch {
        let (w, path) = (self.w.clone(), format!("{}/state", self.hall.base));
        Box::pin(async move {
            w.counters.state.fetch_add(1, Ordering::Relaxed);
            let t = w.now_ns();
            let r = w.page.request(&w, "GET", &path, None, None).await;
            if w.measuring.load(Ordering::Relaxed) {
                let us = (w.now_ns() - t) as f64 / 1e3;
                w.state_lat.lock().expect("lat").push(us as f32);
            }
            let seq = match r {
                Ok(r) if r.status == 200 => peek_u64(&String::from_utf8_lossy(&r.body), "seq"),
                _ => {
                    w.counters.http_errors.fetch_add(1, Ordering::Relaxed);
                    None
                }
            };
            Fetched::State(seq, poll)
        })
    }

    /// `ticket.js` `load`.
    fn fetch_ticket(&self) -> Option<Fetch> {
        let id = self.ticket.clone()?;
        let (w, path) = (self.w.clone(), format!("{}/tickets/{id}", self.hall.base));
        Some(Box::pin(async move {
            w.counters.ticket.fetch_add(1, Ordering::Relaxed);
            let number = match w.page.request(&w, "GET", &path, None, None).await {
                Ok(r) if r.status == 200 => {
                    peek_str(&String::from_utf8_lossy(&r.body), "number").map(str::to_string)
                }
                _ => {
                    w.counters.http_errors.fetch_add(1, Ordering::Relaxed);
                    None
                }
            };
            Fetched::Ticket(number)
        }))
    }

    async fn connect(&mut self) -> Res<Ws> {
        let mut url = format!("ws://{}{}/events", self.w.host, self.hall.base);
        let mut query = Vec::new();
        if let Some(s) = self.last_seq {
            query.push(format!("since={s}"));
        }
        if !self.refetch() {
            // Push: the view after every batch, and a phone's ticket status
            // (docs/api.md, "Push"; the pages ask by a `subscribe` message,
            // which the query does the same as).
            query.push("view=1".into());
            if let Some(id) = &self.ticket {
                query.push(format!("ticket={id}"));
            }
        }
        if !query.is_empty() {
            url.push_str(&format!("?{}", query.join("&")));
        }
        self.w.counters.ws.fetch_add(1, Ordering::Relaxed);
        let stream = self.w.net.connect().await?;
        // Small frames only: a 4 KiB read buffer instead of 128 KiB.
        let config = WebSocketConfig::default().read_buffer_size(4096);
        let (ws, _) = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::client_async_with_config(url, stream, Some(config)),
        )
        .await
        .map_err(|_| "websocket open timed out")??;
        Ok(ws)
    }

    async fn run(mut self, gate: Arc<tokio::sync::Semaphore>) -> Res<()> {
        let refetch = self.refetch();
        let mut inflight: FuturesUnordered<Fetch> = FuturesUnordered::new();
        let startup = gate.acquire_owned().await?;
        // ticket.js: `await load()` before `Live.start()` (both modes: the
        // page needs its number).
        if let Some(f) = self.fetch_ticket() {
            if let Fetched::Ticket(n) = f.await {
                self.number = n;
            }
        }
        {
            // Live.start (both modes): the first /state gives lastSeq;
            // retried with backoff.
            loop {
                if let Fetched::State(Some(seq), _) = self.fetch_state(false).await {
                    self.state_seq = seq;
                    self.last_seq = Some(seq);
                    self.hall.max_seq.fetch_max(seq, Ordering::Relaxed);
                    break;
                }
                tokio::time::sleep(self.next_delay()).await;
            }
        }
        let mut ws: Option<Ws> = None;
        let mut reconnect_at: Option<tokio::time::Instant> = Some(tokio::time::Instant::now());
        let mut state_timer: Option<tokio::time::Instant> = None;
        let mut ticket_soon: Option<tokio::time::Instant> = None;
        let poll_every = Duration::from_secs(if self.ticket.is_some() { 30 } else { 15 });
        let now = tokio::time::Instant::now();
        let mut poll_at = refetch.then(|| now + poll_every);
        let mut ticket_every_at =
            (refetch && self.ticket.is_some()).then(|| now + Duration::from_secs(60));
        let mut startup = Some(startup);
        loop {
            // Connect when due (`_connect`, with its 10 s open timeout).
            if ws.is_none() && reconnect_at.is_some_and(|t| t <= tokio::time::Instant::now()) {
                reconnect_at = None;
                match self.connect().await {
                    Ok(s) => {
                        ws = Some(s);
                        self.attempt = 0;
                        self.last_msg = Instant::now();
                        self.up = true;
                        self.hall.subscribed.fetch_add(1, Ordering::Relaxed);
                        drop(startup.take());
                        // ticket.js `onConnection: (up) => up && load()`.
                        if refetch {
                            if let Some(f) = self.fetch_ticket() {
                                inflight.push(f);
                            }
                        }
                    }
                    Err(_) => {
                        reconnect_at = Some(tokio::time::Instant::now() + self.next_delay());
                    }
                }
                continue;
            }
            tokio::select! {
                msg = async { ws.as_mut().expect("ws").next().await }, if ws.is_some() => {
                    match msg {
                        Some(Ok(Message::Text(t))) => {
                            self.last_msg = Instant::now();
                            let actions = self.dispatch(t.as_str());
                            if refetch {
                                if actions.refresh && state_timer.is_none() {
                                    let d = 200.0 + self.rng.next_f64() * 100.0;
                                    state_timer = Some(tokio::time::Instant::now() + Duration::from_secs_f64(d / 1e3));
                                }
                                for _ in 0..actions.load_now {
                                    if let Some(f) = self.fetch_ticket() {
                                        inflight.push(f);
                                    }
                                }
                                if actions.load_soon {
                                    ticket_soon = Some(tokio::time::Instant::now() + Duration::from_millis(800));
                                }
                            }
                            if actions.done && self.closing_at.is_none() {
                                self.closing_at = Some(tokio::time::Instant::now() + self.w.linger);
                            }
                        }
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                            ws = None;
                            self.up = false;
                            self.hall.subscribed.fetch_sub(1, Ordering::Relaxed);
                            self.w.counters.ws_drops.fetch_add(1, Ordering::Relaxed);
                            reconnect_at = Some(tokio::time::Instant::now() + self.next_delay());
                        }
                        Some(Ok(_)) => {}
                    }
                }
                _ = maybe_sleep(reconnect_at), if ws.is_none() => {}
                _ = maybe_sleep(state_timer) => {
                    state_timer = None;
                    self.start_state_fetch(false, &mut inflight);
                }
                _ = maybe_sleep(poll_at) => {
                    poll_at = poll_at.map(|t| t + poll_every);
                    self.start_state_fetch(true, &mut inflight);
                }
                _ = maybe_sleep(ticket_soon) => {
                    ticket_soon = None;
                    if let Some(f) = self.fetch_ticket() {
                        inflight.push(f);
                    }
                }
                _ = maybe_sleep(ticket_every_at) => {
                    ticket_every_at = ticket_every_at.map(|t| t + Duration::from_secs(60));
                    if let Some(f) = self.fetch_ticket() {
                        inflight.push(f);
                    }
                }
                Some(done) = inflight.next(), if !inflight.is_empty() => match done {
                    Fetched::State(seq, poll) => {
                        self.state_inflight = false;
                        if let Some(seq) = seq {
                            self.state_seq = self.state_seq.max(seq);
                            // `_pollState`: a stale socket is closed and reopened.
                            if poll && self.stale_check(seq) && ws.take().is_some() {
                                self.up = false;
                                self.hall.subscribed.fetch_sub(1, Ordering::Relaxed);
                                reconnect_at = Some(tokio::time::Instant::now() + self.next_delay());
                            }
                        }
                        if self.state_again {
                            self.state_again = false;
                            if state_timer.is_none() {
                                state_timer = Some(tokio::time::Instant::now() + Duration::from_millis(50));
                            }
                        }
                    }
                    Fetched::Ticket(n) => {
                        if n.is_some() {
                            self.number = n;
                        }
                    }
                },
                _ = maybe_sleep(self.closing_at) => {
                    // The citizen closes the page.
                    if ws.is_some() {
                        self.hall.departures.lock().expect("departures lock")
                            .push((self.w.now_ns(), self.last_seq.unwrap_or(0)));
                        self.hall.subscribed.fetch_sub(1, Ordering::Relaxed);
                    }
                    return Ok(());
                }
            }
        }
    }

    /// `_fetchState`: at most one in flight; an overlapping call asks again.
    fn start_state_fetch(&mut self, poll: bool, inflight: &mut FuturesUnordered<Fetch>) {
        if self.state_inflight {
            self.state_again = true;
            return;
        }
        self.state_inflight = true;
        inflight.push(self.fetch_state(poll));
    }

    /// `_pollState`'s stale-socket rule; true = reconnect.
    fn stale_check(&mut self, view_seq: u64) -> bool {
        let Some(last) = self.last_seq else {
            return false;
        };
        if !self.up {
            return false;
        }
        if view_seq > last && self.last_msg.elapsed() > Duration::from_secs(5) {
            self.stale_strikes += 1;
            if self.stale_strikes >= 2 && view_seq != self.stale_seq {
                self.stale_seq = view_seq;
                self.stale_strikes = 0;
                return true;
            }
        } else {
            self.stale_strikes = 0;
        }
        false
    }

    /// `_dispatch`: one text message from the socket.
    fn dispatch(&mut self, s: &str) -> Actions {
        let mut a = Actions::default();
        let t = s.trim_start();
        if t.starts_with('[')
            || s.contains("\"type\":\"snapshot\"")
            || s.contains("\"type\":\"view\"")
            || !s.contains("\"type\":\"")
        {
            // A snapshot (reconnect too far behind, or push mode's first
            // message), a pushed view (see `on_push_view`), a batch, or a
            // message kind pages do not know: parse it whole. Events take the
            // fast path below.
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(s) {
                self.dispatch_value(&v, &mut a);
            }
            return a;
        }
        let (Some(seq), Some(kind)) = (peek_u64(s, "seq"), peek_str(s, "type")) else {
            return a;
        };
        if kind == "lagged" || kind == "resync" {
            return a;
        }
        if kind == "view" || kind == "ticket" {
            self.on_push_view(seq);
            return a;
        }
        let number = peek_str(s, "number");
        self.event(seq, kind, number, &mut a);
        a
    }

    fn dispatch_value(&mut self, v: &serde_json::Value, a: &mut Actions) {
        if let Some(list) = v.as_array() {
            for m in list {
                self.dispatch_value(m, a);
            }
            return;
        }
        match v["type"].as_str() {
            Some("snapshot") => self.snapshot(v, a),
            Some("view") | Some("ticket") => {
                if let Some(seq) = v["seq"].as_u64() {
                    self.on_push_view(seq);
                }
            }
            Some(kind) => {
                if let Some(seq) = v["seq"].as_u64() {
                    let kind = kind.to_string();
                    self.event(seq, &kind, v["number"].as_str(), a);
                }
            }
            None => {
                if let Some(evs) = v["events"].as_array() {
                    for e in evs {
                        self.dispatch_value(e, a);
                    }
                }
            }
        }
    }

    /// `_snapshot`: calls newer than lastSeq come from `recent_calls`.
    fn snapshot(&mut self, v: &serde_json::Value, a: &mut Actions) {
        let state = if v["state"].is_object() {
            &v["state"]
        } else {
            &v["view"]
        };
        let Some(seq) = v["seq"].as_u64().or_else(|| state["seq"].as_u64()) else {
            return;
        };
        let prev = self.last_seq;
        if let (Some(prev), Some(calls)) = (prev, state["recent_calls"].as_array()) {
            let now = self.w.now_ns();
            for c in calls {
                let cseq = c["seq"].as_u64().unwrap_or(0);
                if cseq > prev {
                    if let Some(n) = c["number"].as_str() {
                        self.hall.note_call(n, cseq, now);
                        if self.number.as_deref() == Some(n) {
                            a.load_now += 1;
                        }
                    }
                }
            }
        }
        self.last_seq = Some(match prev {
            Some(p) if seq >= p => seq,
            Some(_) => seq,
            None => seq,
        });
        self.hall.max_seq.fetch_max(seq, Ordering::Relaxed);
        self.state_seq = self.state_seq.max(seq);
        // ticket.js `onResync: () => load()`.
        if prev.is_some_and(|p| p != seq) {
            a.load_now += 1;
        }
    }

    /// PUSH MODE HOOK: a `{"type":"view","seq":N,"view":{…}}` message
    /// (after every batch's events) or, for a phone, `{"type":"ticket","seq":N,
    /// "ticket":{…}}` (when its status changed). The page renders it; the
    /// server sends the batch's events before it, so calls are timed from
    /// the events and the bench only notes the seq (a view is parsed whole
    /// in `dispatch`, as a page's `JSON.parse` does; a ticket status is
    /// peeked).
    fn on_push_view(&mut self, seq: u64) {
        self.state_seq = self.state_seq.max(seq);
    }

    /// `_event` + the pages' `onCall`/`onEvent` (ticket.js).
    fn event(&mut self, seq: u64, kind: &str, number: Option<&str>, a: &mut Actions) {
        if self.last_seq.is_some_and(|l| seq <= l) {
            return;
        }
        self.last_seq = Some(seq);
        self.hall.max_seq.fetch_max(seq, Ordering::Relaxed);
        let mine = number.is_some() && number == self.number.as_deref();
        if kind == "ticket_called" {
            if let Some(n) = number {
                self.hall.note_call(n, seq, self.w.now_ns());
            }
            // ticket.js onCall: load() for our own number.
            if mine {
                a.load_now += 1;
            }
        }
        if self.ticket.is_some() {
            // ticket.js onEvent.
            if mine {
                a.load_now += 1;
            } else if matches!(
                kind,
                "ticket_called"
                    | "ticket_issued"
                    | "ticket_transferred"
                    | "ticket_requeued"
                    | "window_opened"
                    | "window_closed"
                    | "window_paused"
                    | "window_resumed"
                    | "failover"
                    | "day_closed"
            ) {
                a.load_soon = true;
            }
            if mine && kind == "service_completed" {
                a.done = true;
            }
        }
        // Live._event: refresh() after every new event.
        a.refresh = true;
    }
}

/// What one socket message asks the page to do.
#[derive(Default)]
struct Actions {
    refresh: bool,
    load_now: u32,
    load_soon: bool,
    done: bool,
}
