//! Fan-out bench (issue 6 item 8): how long a call takes to reach the last of
//! 1,000 hall displays, next to a raw tokio-tungstenite broadcast of the same
//! payload to the same number of clients.
//!
//! * **hallcall**: the release `hallcall` binary runs as a child process with
//!   the demo hall (`serve --data <tmp> --listen 127.0.0.1:0`); 1,000
//!   WebSocket clients subscribe to `/api/v1/halls/demo/events`; clerk `s01`
//!   logs in to window 1. Each round issues a ticket (kiosk) and waits until
//!   every display has seen it, then times `call-next` from the moment the
//!   HTTP request is sent until the last display has received
//!   `ticket_called`, then starts and completes the ticket (untimed) to free
//!   the window and waits until every display has seen that too.
//! * **raw**: this same bench binary, re-executed as a child process
//!   (`FANOUT_RAW_CHILD=1`), runs a minimal tokio-tungstenite server with
//!   default settings: every connection subscribes to one
//!   `tokio::sync::broadcast` channel; a byte on a control TCP socket
//!   broadcasts one text message. Its rounds mimic the hallcall rounds (one
//!   untimed message, the timed one of the same size as hallcall's
//!   `ticket_called`, two untimed ones).
//!
//! Both servers run at the same time with their 1,000 displays each connected
//! (an idle server costs nothing) and the timed rounds alternate between them,
//! so background load on the machine hits both alike. Servers and clients
//! share the machine's cores; the clients do the same small work per message
//! in both cases (4 KiB WebSocket read buffer, a substring search, three
//! atomics).
//!
//! Run: `cargo bench --bench fanout`. Knobs (environment): `FANOUT_DISPLAYS`
//! (1000), `FANOUT_ROUNDS` (200), `FANOUT_WARMUP` (10), `FANOUT_DATA` (parent
//! of the server's data directory; default the system temp dir),
//! `FANOUT_HALLCALL_BIN` (another `hallcall` binary to measure, e.g. a patched
//! build), `FANOUT_RAW_READ_BUF` (the raw server's WebSocket read buffer,
//! bytes; default tungstenite's 128 KiB), `FANOUT_RAW_NODELAY=1`.
//! Without `--bench` (e.g. `cargo test --benches`) it runs a small smoke
//! version: 50 displays, 5 rounds.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[path = "support/child.rs"]
mod child;
use child::{wait_for_line, ChildGuard};
#[path = "support/procfs.rs"]
mod procfs;
use procfs::{cpu_s, loadavg, rss_mib};
type Res<T> = Result<T, BoxError>;

const HALL: &str = "demo";
const KIOSK: &str = "kiosk-demo";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy, Debug)]
struct Params {
    displays: usize,
    rounds: usize,
    warmup: usize,
}

fn main() {
    if std::env::var_os("FANOUT_RAW_CHILD").is_some() {
        raw_child();
        return;
    }
    let bench = std::env::args().any(|a| a == "--bench");
    let p = if bench {
        Params {
            displays: env_usize("FANOUT_DISPLAYS", 1000),
            rounds: env_usize("FANOUT_ROUNDS", 200),
            warmup: env_usize("FANOUT_WARMUP", 10),
        }
    } else {
        Params {
            displays: 50,
            rounds: 5,
            warmup: 1,
        }
    };
    raise_nofile_limit(p.displays * 4 + 1024);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = rt.block_on(run(p)) {
        eprintln!("fanout bench failed: {e}");
        std::process::exit(1);
    }
}

/// Nice value of both servers (`FANOUT_SERVER_NICE`, default 0 = same as the
/// clients). In a hall the 1,000 displays are separate PCs; here they share
/// the 2 cores with the server. A negative value (as root) lets both servers,
/// hallcall and the raw baseline alike, get the CPU before the displays.
fn server_nice() -> i32 {
    std::env::var("FANOUT_SERVER_NICE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn server_priority(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let nice = server_nice();
    if nice == 0 {
        return;
    }
    // SAFETY: setpriority is async-signal-safe; it runs in the child between
    // fork and exec and only changes the child's own scheduling priority,
    // which every thread it starts inherits.
    unsafe {
        cmd.pre_exec(move || {
            libc::setpriority(libc::PRIO_PROCESS, 0, nice);
            Ok(())
        });
    }
}

/// Raises RLIMIT_NOFILE so the clients (and, inherited, the servers'
/// sockets) fit.
fn raise_nofile_limit(want: usize) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read/write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return;
        }
        let want = want as libc::rlim_t;
        if lim.rlim_cur < want {
            lim.rlim_cur = want.min(lim.rlim_max);
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                eprintln!("warning: could not raise the open-files limit");
            }
        }
    }
}

// ---------------------------------------------------------------- clients --

/// What the display clients of one server share with the driver.
struct Shared {
    n: usize,
    base: Instant,
    /// Clients that have received their first message (subscribed).
    ready: AtomicUsize,
    /// Clients whose connection ended.
    gone: AtomicUsize,
    /// Highest `seq` each client has seen.
    last_seq: Vec<AtomicU64>,
    /// Receipts of the timed message in this round.
    called: AtomicUsize,
    /// When each client received the timed message (ns since `base`).
    recv_ns: Vec<AtomicU64>,
    done: tokio::sync::Notify,
    /// One timed message as received, to size the raw payload.
    sample: Mutex<Option<String>>,
}

impl Shared {
    fn new(n: usize, base: Instant) -> Arc<Shared> {
        Arc::new(Shared {
            n,
            base,
            ready: AtomicUsize::new(0),
            gone: AtomicUsize::new(0),
            last_seq: (0..n).map(|_| AtomicU64::new(0)).collect(),
            called: AtomicUsize::new(0),
            recv_ns: (0..n).map(|_| AtomicU64::new(0)).collect(),
            done: tokio::sync::Notify::new(),
            sample: Mutex::new(None),
        })
    }

    fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }
}

/// The top-level `"seq":N` of an event (the first one in the text: the
/// envelope's, which precedes any nested state in both key orders).
fn parse_seq(s: &str) -> Option<u64> {
    let i = s.find("\"seq\":")? + 6;
    let digits: &str = &s[i..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// One display: connect, then for every text message record the seq and,
/// for a `ticket_called`, the receipt time.
async fn display(
    url: String,
    idx: usize,
    shared: Arc<Shared>,
    gate: Arc<tokio::sync::Semaphore>,
) -> Res<()> {
    let permit = gate.acquire_owned().await?;
    // A display only reads small text frames: a 4 KiB read buffer instead of
    // tungstenite's 128 KiB, which is zero-filled on every read attempt.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (mut ws, _) = match tokio_tungstenite::connect_async_with_config(
        url.as_str(),
        Some(config),
        true,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            shared.gone.fetch_add(1, Ordering::Relaxed);
            return Err(e.into());
        }
    };
    let mut permit = Some(permit);
    while let Some(msg) = ws.next().await {
        let text = match msg {
            Ok(Message::Text(t)) => t,
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        };
        let s = text.as_str();
        if let Some(seq) = parse_seq(s) {
            shared.last_seq[idx].fetch_max(seq, Ordering::Relaxed);
        }
        if permit.take().is_some() {
            shared.ready.fetch_add(1, Ordering::Release);
        }
        if s.contains("\"ticket_called\"") {
            shared.recv_ns[idx].store(shared.now_ns(), Ordering::Relaxed);
            if shared.called.fetch_add(1, Ordering::AcqRel) + 1 == shared.n {
                shared.done.notify_one();
            }
            if idx == 0 {
                let mut g = shared.sample.lock().expect("sample lock");
                if g.is_none() {
                    *g = Some(s.to_string());
                }
            }
        }
    }
    shared.gone.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Connects the displays to `url` (at most 64 handshakes at a time) and waits
/// until each has received its first message.
async fn connect_displays(url: &str, shared: &Arc<Shared>) -> Res<Duration> {
    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(64));
    for idx in 0..shared.n {
        let (url, shared, gate) = (url.to_string(), shared.clone(), gate.clone());
        tokio::spawn(async move {
            if let Err(e) = display(url, idx, shared, gate).await {
                eprintln!("display {idx}: {e}");
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while shared.ready.load(Ordering::Acquire) < shared.n {
        if shared.gone.load(Ordering::Relaxed) > 0 {
            return Err(format!(
                "{} displays failed to connect",
                shared.gone.load(Ordering::Relaxed)
            )
            .into());
        }
        if Instant::now() > deadline {
            return Err("displays did not all connect within 120 s".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(started.elapsed())
}

/// Waits until every display has seen `seq` (untimed: between steps).
async fn wait_all_seen(shared: &Shared, seq: u64) -> Res<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if shared
            .last_seq
            .iter()
            .all(|s| s.load(Ordering::Relaxed) >= seq)
        {
            return Ok(());
        }
        if shared.gone.load(Ordering::Relaxed) > 0 {
            return Err("a display disconnected".into());
        }
        if Instant::now() > deadline {
            return Err(format!("displays did not all see seq {seq} within 30 s").into());
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

/// Per-round timing of the timed message, µs after it was sent.
#[derive(Clone, Copy, Debug, Default)]
struct Round {
    first_us: f64,
    median_us: f64,
    last_us: f64,
    /// Send → HTTP response (hallcall only).
    ack_us: f64,
}

/// Arms a round: clears the receipt counter; returns the send time in ns.
fn arm(shared: &Shared) -> u64 {
    shared.called.store(0, Ordering::Release);
    shared.now_ns()
}

/// Waits until every display has the timed message; summarises the round.
async fn collect(shared: &Shared, t0_ns: u64, ack_us: f64) -> Res<Round> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let notified = shared.done.notified();
        if shared.called.load(Ordering::Acquire) >= shared.n {
            break;
        }
        if shared.gone.load(Ordering::Relaxed) > 0 {
            return Err("a display disconnected".into());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "only {}/{} displays got the call within 30 s",
                shared.called.load(Ordering::Relaxed),
                shared.n
            )
            .into());
        }
        let _ = tokio::time::timeout(left.min(Duration::from_millis(100)), notified).await;
    }
    let mut lat: Vec<f64> = shared
        .recv_ns
        .iter()
        .map(|r| r.load(Ordering::Relaxed).saturating_sub(t0_ns) as f64 / 1000.0)
        .collect();
    lat.sort_by(f64::total_cmp);
    Ok(Round {
        first_us: lat[0],
        median_us: lat[lat.len() / 2],
        last_us: lat[lat.len() - 1],
        ack_us,
    })
}

// ------------------------------------------------------------- processes --

// -------------------------------------------------------------- hallcall --

struct Hallcall {
    // Field order is drop order: the server stops before its data goes.
    _child: ChildGuard,
    _dir: tempfile::TempDir,
    pid: u32,
    http: reqwest::Client,
    base: String,
    token: String,
    shared: Arc<Shared>,
    bin: String,
}

impl Hallcall {
    /// Starts the server and logs clerk s01 (demo PIN 0101) in at window 1.
    async fn start(displays: usize, base_t: Instant) -> Res<Hallcall> {
        let parent = std::env::var_os("FANOUT_DATA")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let dir = tempfile::Builder::new()
            .prefix("hallcall-fanout-")
            .tempdir_in(parent)?;
        let log = std::fs::File::create(dir.path().join("server.log"))?;
        let bin = std::env::var("FANOUT_HALLCALL_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_hallcall").to_string());
        let mut cmd = Command::new(&bin);
        server_priority(&mut cmd);
        // Every display connects from 127.0.0.1 and every round issues a
        // ticket: lift the per-address cap and the per-kiosk rate (through
        // the environment, so older builds under FANOUT_HALLCALL_BIN start).
        let child = cmd
            .env("HALLCALL_MAX_CONNECTIONS_PER_ADDRESS", "1000000")
            .env("HALLCALL_KIOSK_ISSUES_PER_MINUTE", "0")
            .arg("serve")
            .arg("--data")
            .arg(dir.path().join("data"))
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()?;
        let mut child = ChildGuard(child);
        let pid = child.0.id();
        let line = wait_for_line(&mut child.0, "listening on http://")?;
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .ok_or("no address in the banner")?
            .to_string();
        let base = format!("http://{addr}/api/v1/halls/{HALL}");
        let http = reqwest::Client::builder().build()?;
        let login: serde_json::Value = http
            .post(format!("{base}/sessions"))
            .json(&serde_json::json!({"staff": "s01", "pin": "0101", "window": 1}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = login["token"].as_str().ok_or("no token")?.to_string();
        Ok(Hallcall {
            _child: child,
            _dir: dir,
            pid,
            http,
            base,
            token,
            shared: Shared::new(displays, base_t),
            bin,
        })
    }

    fn events_url(&self) -> String {
        format!("{}/events", self.base.replacen("http://", "ws://", 1))
    }

    async fn state_seq(&self) -> Res<u64> {
        let v: serde_json::Value = self
            .http
            .get(format!("{}/state", self.base))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        v["seq"].as_u64().ok_or_else(|| "no seq in state".into())
    }

    async fn window(&self, action: &str) -> Res<reqwest::Response> {
        Ok(self
            .http
            .post(format!("{}/windows/1/{action}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?)
    }

    async fn round(&self) -> Res<Round> {
        // Untimed: a ticket to call, seen by every display.
        self.http
            .post(format!("{}/tickets", self.base))
            .bearer_auth(KIOSK)
            .json(&serde_json::json!({"category": "general"}))
            .send()
            .await?
            .error_for_status()?;
        wait_all_seen(&self.shared, self.state_seq().await?).await?;

        // Timed: call-next sent → last display has ticket_called.
        let t0 = arm(&self.shared);
        let sent = Instant::now();
        let resp = self.window("call-next").await?;
        let ack_us = sent.elapsed().as_secs_f64() * 1e6;
        if resp.status() != reqwest::StatusCode::OK {
            return Err(format!("call-next answered {}", resp.status()).into());
        }
        let r = collect(&self.shared, t0, ack_us).await?;

        // Untimed: start and complete to free the window.
        self.window("start").await?.error_for_status()?;
        self.window("complete").await?.error_for_status()?;
        wait_all_seen(&self.shared, self.state_seq().await?).await?;
        Ok(r)
    }
}

// ------------------------------------------------------------------- raw --

/// A message of exactly `len` bytes: `{"seq":N,"type":"...","pad":"xxx"}`.
fn raw_payload(seq: u64, kind: &str, len: usize) -> String {
    let mut s = format!("{{\"seq\":{seq},\"type\":\"{kind}\",\"pad\":\"");
    let pad = len.saturating_sub(s.len() + 2);
    s.push_str(&"x".repeat(pad));
    s.push_str("\"}");
    s
}

/// The raw server (child process): a WebSocket listener whose connections all
/// subscribe to one broadcast channel, and a control socket on which `C`
/// broadcasts a `ticket_called`-sized message and `F` a filler message.
fn raw_child() {
    let len = env_usize("FANOUT_PAYLOAD_LEN", 400);
    let read_buf = env_usize("FANOUT_RAW_READ_BUF", 0);
    let nodelay = std::env::var("FANOUT_RAW_NODELAY").is_ok_and(|v| v == "1");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let ws = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind ws");
        let ctl = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind ctl");
        println!(
            "RAW ws={} ctl={}",
            ws.local_addr().expect("addr"),
            ctl.local_addr().expect("addr")
        );
        let _ = std::io::stdout().flush();
        let (tx, _) =
            tokio::sync::broadcast::channel::<tokio_tungstenite::tungstenite::Utf8Bytes>(4096);
        let sender = tx.clone();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = ws.accept().await else {
                    continue;
                };
                if nodelay {
                    let _ = tcp.set_nodelay(true);
                }
                let mut rx = sender.subscribe();
                tokio::spawn(async move {
                    let config = (read_buf > 0)
                        .then(|| WebSocketConfig::default().read_buffer_size(read_buf));
                    let Ok(mut socket) =
                        tokio_tungstenite::accept_async_with_config(tcp, config).await
                    else {
                        return;
                    };
                    if socket
                        .send(Message::text(raw_payload(0, "hello", 64)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    loop {
                        tokio::select! {
                            m = rx.recv() => match m {
                                Ok(text) => {
                                    if socket.send(Message::Text(text)).await.is_err() {
                                        return;
                                    }
                                }
                                Err(_) => return,
                            },
                            incoming = socket.next() => match incoming {
                                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                                Some(Ok(_)) => {}
                            },
                        }
                    }
                });
            }
        });
        let Ok((mut c, _)) = ctl.accept().await else {
            return;
        };
        let _ = c.set_nodelay(true);
        let mut seq = 0u64;
        let mut buf = [0u8; 1];
        while let Ok(1) = c.read(&mut buf).await {
            seq += 1;
            let kind = if buf[0] == b'C' {
                "ticket_called"
            } else {
                "ticket_issued"
            };
            let _ = tx.send(raw_payload(seq, kind, len).into());
        }
    });
}

struct Raw {
    _child: ChildGuard,
    pid: u32,
    ws: String,
    ctl: Option<tokio::net::TcpStream>,
    ctl_addr: String,
    shared: Arc<Shared>,
    seq: u64,
}

impl Raw {
    fn start(displays: usize, payload_len: usize, base_t: Instant) -> Res<Raw> {
        let exe = std::env::current_exe()?;
        let mut cmd = Command::new(exe);
        server_priority(&mut cmd);
        let child = cmd
            .env("FANOUT_RAW_CHILD", "1")
            .env("FANOUT_PAYLOAD_LEN", payload_len.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut child = ChildGuard(child);
        let pid = child.0.id();
        let line = wait_for_line(&mut child.0, "RAW ")?;
        let field = |k: &str| {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(k))
                .map(str::to_string)
                .ok_or_else(|| BoxError::from(format!("no {k} in {line:?}")))
        };
        Ok(Raw {
            ws: format!("ws://{}/", field("ws=")?),
            ctl_addr: field("ctl=")?,
            _child: child,
            pid,
            ctl: None,
            shared: Shared::new(displays, base_t),
            seq: 0,
        })
    }

    async fn send(&mut self, what: &[u8]) -> Res<()> {
        if self.ctl.is_none() {
            let c = tokio::net::TcpStream::connect(&self.ctl_addr).await?;
            c.set_nodelay(true)?;
            self.ctl = Some(c);
        }
        let ctl = self.ctl.as_mut().ok_or("no control socket")?;
        ctl.write_all(what).await?;
        self.seq += what.len() as u64;
        Ok(())
    }

    async fn round(&mut self) -> Res<Round> {
        // Untimed, like ticket_issued.
        self.send(b"F").await?;
        wait_all_seen(&self.shared, self.seq).await?;
        // Timed.
        let t0 = arm(&self.shared);
        self.send(b"C").await?;
        let r = collect(&self.shared, t0, f64::NAN).await?;
        // Untimed, like service_started and service_completed.
        self.send(b"FF").await?;
        wait_all_seen(&self.shared, self.seq).await?;
        Ok(r)
    }
}

// ---------------------------------------------------------------- report --

/// Nearest-rank percentile of sorted values.
fn pct(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

struct Dist {
    p50: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

fn dist(rounds: &[Round], f: impl Fn(&Round) -> f64) -> Dist {
    let mut v: Vec<f64> = rounds.iter().map(f).collect();
    v.sort_by(f64::total_cmp);
    Dist {
        p50: pct(&v, 0.50),
        p99: pct(&v, 0.99),
        max: v.last().copied().unwrap_or(f64::NAN),
        mean: v.iter().sum::<f64>() / v.len().max(1) as f64,
    }
}

fn row(name: &str, d: &Dist) {
    println!(
        "| {name:<42} | {:>8.2} | {:>8.2} | {:>8.2} | {:>8.2} |",
        d.p50 / 1000.0,
        d.p99 / 1000.0,
        d.max / 1000.0,
        d.mean / 1000.0
    );
}

async fn run(p: Params) -> Res<()> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let base_t = Instant::now();
    println!(
        "fan-out bench: {} displays per server, {} timed calls each (+{} warm-up), {} cores shared by both servers and all clients; servers at nice {} (FANOUT_SERVER_NICE); load average at start {}",
        p.displays, p.rounds, p.warmup, cores, server_nice(), loadavg()
    );

    let hc = Hallcall::start(p.displays, base_t).await?;
    println!("hallcall binary: {}", hc.bin);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let hc_idle = rss_mib(hc.pid);
    let t = connect_displays(&hc.events_url(), &hc.shared).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hc_conn = rss_mib(hc.pid);
    println!(
        "hallcall: {} displays connected in {:.2} s",
        p.displays,
        t.as_secs_f64()
    );
    for _ in 0..p.warmup.max(1) {
        hc.round().await?;
    }
    let sample = hc
        .shared
        .sample
        .lock()
        .expect("sample lock")
        .clone()
        .unwrap_or_default();
    println!(
        "  ticket_called as a display gets it ({} bytes): {sample}",
        sample.len()
    );

    let mut raw = Raw::start(p.displays, sample.len().max(64), base_t)?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let raw_idle = rss_mib(raw.pid);
    let t = connect_displays(&raw.ws, &raw.shared).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let raw_conn = rss_mib(raw.pid);
    println!(
        "raw: {} displays connected in {:.2} s",
        p.displays,
        t.as_secs_f64()
    );
    for _ in 0..p.warmup.max(1) {
        raw.round().await?;
    }

    // Timed rounds, alternating which server goes first.
    let (cpu_hc0, cpu_raw0, cpu_me0) = (cpu_s(hc.pid), cpu_s(raw.pid), cpu_s(std::process::id()));
    let started = Instant::now();
    let mut h = Vec::with_capacity(p.rounds);
    let mut r = Vec::with_capacity(p.rounds);
    for i in 0..p.rounds {
        if i % 2 == 0 {
            h.push(hc.round().await?);
            r.push(raw.round().await?);
        } else {
            r.push(raw.round().await?);
            h.push(hc.round().await?);
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let (cpu_hc, cpu_raw, cpu_me) = (
        cpu_s(hc.pid) - cpu_hc0,
        cpu_s(raw.pid) - cpu_raw0,
        cpu_s(std::process::id()) - cpu_me0,
    );
    let hc_end = rss_mib(hc.pid);
    let raw_end = rss_mib(raw.pid);
    let load_end = loadavg();
    drop(raw);
    drop(hc);

    let h_last = dist(&h, |x| x.last_us);
    let r_last = dist(&r, |x| x.last_us);
    println!();
    println!(
        "| {:<42} | {:>8} | {:>8} | {:>8} | {:>8} |",
        "latency, ms", "p50", "p99", "max", "mean"
    );
    println!(
        "|{:-<44}|{:->10}|{:->10}|{:->10}|{:->10}|",
        "", "", "", "", ""
    );
    row("hallcall: call-next sent → LAST display", &h_last);
    row(
        "hallcall: call-next sent → first display",
        &dist(&h, |x| x.first_us),
    );
    row(
        "hallcall: call-next sent → median display",
        &dist(&h, |x| x.median_us),
    );
    row(
        "hallcall: call-next sent → HTTP 200",
        &dist(&h, |x| x.ack_us),
    );
    row(
        "hallcall: spread, last − first display",
        &dist(&h, |x| x.last_us - x.first_us),
    );
    row("raw: trigger sent → LAST client", &r_last);
    row(
        "raw: trigger sent → first client",
        &dist(&r, |x| x.first_us),
    );
    row(
        "raw: trigger sent → median client",
        &dist(&r, |x| x.median_us),
    );
    row(
        "raw: spread, last − first client",
        &dist(&r, |x| x.last_us - x.first_us),
    );
    println!();
    let ratio50 = h_last.p50 / r_last.p50;
    let ratio99 = h_last.p99 / r_last.p99;
    println!("ratio hallcall / raw (to the LAST display): p50 {ratio50:.2}×, p99 {ratio99:.2}×");
    println!(
        "server VmRSS, MiB: hallcall {:.1} before displays, {:.1} with {} displays, {:.1} after the calls (VmHWM {:.1}); raw {:.1} before, {:.1} with displays (VmHWM {:.1})",
        hc_idle.0, hc_conn.0, p.displays, hc_end.0, hc_end.1, raw_idle.0, raw_conn.0, raw_end.1
    );
    println!(
        "CPU during the timed rounds ({wall:.1} s wall): hallcall server {cpu_hc:.2} s, raw server {cpu_raw:.2} s, bench clients + driver {cpu_me:.2} s; load average at end {load_end}"
    );
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let rss = hc_conn.0.max(hc_end.0);
    println!(
        "targets: p99 ≤ 10 ms: {} ({:.2} ms); ratio p99 ≤ 1.5×: {} ({ratio99:.2}×); RSS ≤ 150 MB with {} displays: {} ({rss:.1} MiB)",
        verdict(h_last.p99 <= 10_000.0),
        h_last.p99 / 1000.0,
        verdict(ratio99 <= 1.5),
        p.displays,
        verdict(rss * 1.048_576 <= 150.0),
    );
    Ok(())
}
