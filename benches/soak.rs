//! Soak bench (issue 14 item 9): one release `hallcall serve` child with 100
//! halls, 10 minutes of mixed traffic through the real HTTP API — issue,
//! call-next, start, complete, rate, `GET /state`, `GET /tickets/{id}` —
//! while 5,000 WebSocket subscribers (50 per hall) follow the halls' event
//! streams and some of them (`SOAK_STUCK`, default 2 %) never read a byte.
//!
//! Each minute it prints the commands' throughput, p50/p99 latency, errors,
//! the events delivered and the server's RSS and CPU. At the end it checks:
//! RSS flat after the warm-up (the last minute's RSS at most 10 % above the
//! RSS at the end of minute `SOAK_WARMUP_MINUTES`, default 1), prints the
//! growth per ticket issued after the warm-up (the day's tickets stay in
//! memory until the day closes, BENCHMARKS.md's memory model), and no
//! reading subscriber missed or repeated an
//! event: every reader checks that each event's `seq` is the one after the
//! last it saw, and if the server closes it (it must not, unless it is too
//! slow) it resumes with `since=` and goes on checking. The stuck ones must
//! be dropped by the server (ping without pong, issue 14 item 7).
//!
//! Run: `cargo bench --bench soak` (10 minutes). Knobs (environment):
//! `SOAK_MINUTES` (10; also `--minutes N`), `SOAK_HALLS` (100),
//! `SOAK_SUBSCRIBERS` (5000), `SOAK_STUCK` (percent, 2), `SOAK_RATE`
//! (commands per second per hall, 2), `SOAK_WARMUP_MINUTES` (1),
//! `SOAK_HALLCALL_BIN` (another build). The server inherits the environment,
//! so `HALLCALL_STORE_CACHE_MB` sizes its sled page cache.
//! The server's ping is set to 5 s and its pong timeout to 10 s, so stuck
//! subscribers go within the first minute. Without `--bench` (as `cargo test
//! --benches` runs it) a 20-second smoke version.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

#[path = "support/child.rs"]
mod child;
use child::{wait_for_line, ChildGuard};
#[path = "support/procfs.rs"]
mod procfs;
use procfs::{cpu_s, loadavg, rss_mib};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const PIN: &str = "246810";
const WINDOWS: usize = 4;
/// Source addresses 127.0.0.2 … for the subscribers, so no address is over
/// the server's per-address connection cap (1,000).
const SRC_ADDRS: usize = 20;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn hall_id(h: usize) -> String {
    format!("s{h:03}")
}

fn kiosk(h: usize) -> String {
    format!("kiosk-soak-{h:03}")
}

fn config_toml(halls: usize, data: &str, pin_hash: &str) -> String {
    let mut s = format!("[server]\nlisten = \"127.0.0.1:0\"\ndata = \"{data}\"\n");
    for h in 0..halls {
        s.push_str(&format!(
            "\n[[hall]]\nid = \"{}\"\nname = \"浸泡测试第{}中心\"\nname_en = \"Soak hall {}\"\ntimezone = \"Asia/Shanghai\"\nkiosk_tokens = [\"{}\"]\nsupervisor_tokens = [\"supervisor-soak-{h:03}\"]\n",
            hall_id(h), h + 1, h + 1, kiosk(h)
        ));
        for (id, name, prefix) in [("general", "综合受理", 'A'), ("social", "社保医保", 'B')]
        {
            s.push_str(&format!(
                "\n[[hall.category]]\nid = \"{id}\"\nname = \"{name}\"\nprefix = \"{prefix}\"\nexpected_s = 300\nlimit_s = 7200\nwait_target_s = 14400\n"
            ));
        }
        for w in 0..WINDOWS {
            s.push_str(&format!(
                "\n[[hall.window]]\nnumber = {}\nkind = \"comprehensive\"\na_post = \"c{:02}\"\n",
                w + 1,
                w + 1
            ));
        }
        for w in 0..WINDOWS {
            s.push_str(&format!(
                "\n[[hall.staff]]\nid = \"c{:02}\"\nname = \"窗口{}\"\npin_hash = \"{pin_hash}\"\n",
                w + 1,
                w + 1
            ));
        }
    }
    s
}

/// What the traffic and the subscribers count, read and reset each minute.
#[derive(Default)]
struct Stats {
    ops: AtomicU64,
    errors: AtomicU64,
    latencies_us: Mutex<Vec<u64>>,
    events: AtomicU64,
    /// Tickets issued (for the memory per ticket).
    tickets: AtomicU64,
    gaps: AtomicU64,
    repeats: AtomicU64,
    resumes: AtomicU64,
    stuck_dropped: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Stats {
    fn error(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut f = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        if f.is_none() {
            *f = Some(what);
        }
    }
}

struct Ctx {
    base: String,
    ws_base: String,
    http: reqwest::Client,
    stats: Stats,
    stop: AtomicBool,
}

impl Ctx {
    /// One timed request; the JSON body on 2xx (Null for 204).
    async fn req(&self, rb: reqwest::RequestBuilder, what: &str) -> Option<Value> {
        let t = Instant::now();
        let r = rb.send().await;
        let us = t.elapsed().as_micros() as u64;
        self.stats.ops.fetch_add(1, Ordering::Relaxed);
        self.stats
            .latencies_us
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(us);
        match r {
            Ok(r) if r.status().is_success() => {
                if r.status().as_u16() == 204 {
                    return Some(Value::Null);
                }
                r.json().await.ok().or(Some(Value::Null))
            }
            Ok(r) => {
                let st = r.status();
                let body = r.text().await.unwrap_or_default();
                self.stats.error(format!("{what}: {st} {body}"));
                None
            }
            Err(e) => {
                self.stats.error(format!("{what}: {e}"));
                None
            }
        }
    }
}

/// One hall's traffic: clerks log in at windows 1–4, then a round of issue,
/// call-next, start, complete, rate, state, ticket status per window in turn,
/// paced to `rate` commands per second.
async fn drive_hall(ctx: Arc<Ctx>, h: usize, rate: f64) {
    let hall = format!("{}/api/v1/halls/{}", ctx.base, hall_id(h));
    let mut tokens = Vec::new();
    for w in 0..WINDOWS {
        let body = json!({"staff": format!("c{:02}", w + 1), "pin": PIN, "window": w + 1});
        match ctx
            .req(
                ctx.http.post(format!("{hall}/sessions")).json(&body),
                "login",
            )
            .await
        {
            Some(v) => tokens.push(v["token"].as_str().unwrap_or_default().to_string()),
            None => return,
        }
    }
    let pause = Duration::from_secs_f64(1.0 / rate.max(0.01));
    let mut next = tokio::time::Instant::now();
    let mut w = h % WINDOWS;
    let mut n = 0u64;
    macro_rules! paced {
        ($e:expr) => {{
            next += pause;
            tokio::time::sleep_until(next).await;
            if ctx.stop.load(Ordering::Relaxed) {
                return;
            }
            $e
        }};
    }
    loop {
        n += 1;
        let cat = if n.is_multiple_of(3) {
            "social"
        } else {
            "general"
        };
        let Some(issued) = paced!(
            ctx.req(
                ctx.http
                    .post(format!("{hall}/tickets"))
                    .bearer_auth(kiosk(h))
                    .json(&json!({"category": cat})),
                "issue",
            )
            .await
        ) else {
            continue;
        };
        ctx.stats.tickets.fetch_add(1, Ordering::Relaxed);
        let t = &tokens[w];
        let win = format!("{hall}/windows/{}", w + 1);
        let called = paced!(
            ctx.req(
                ctx.http.post(format!("{win}/call-next")).bearer_auth(t),
                "call-next",
            )
            .await
        );
        let id = called
            .as_ref()
            .and_then(|v| v["ticket"]["id"].as_str())
            .map(str::to_string);
        if let Some(id) = id {
            paced!(
                ctx.req(
                    ctx.http.post(format!("{win}/start")).bearer_auth(t),
                    "start"
                )
                .await
            );
            paced!(
                ctx.req(
                    ctx.http.post(format!("{win}/complete")).bearer_auth(t),
                    "complete",
                )
                .await
            );
            paced!(
                ctx.req(
                    ctx.http
                        .post(format!("{hall}/tickets/{id}/rating"))
                        .json(&json!({"score": 5})),
                    "rate",
                )
                .await
            );
            paced!(
                ctx.req(
                    ctx.http.get(format!(
                        "{hall}/tickets/{}",
                        issued["id"].as_str().unwrap_or(&id)
                    )),
                    "ticket status"
                )
                .await
            );
        }
        paced!(
            ctx.req(ctx.http.get(format!("{hall}/state")), "state")
                .await
        );
        w = (w + 1) % WINDOWS;
    }
}

async fn connect_ws(
    url: &str,
    src: Ipv4Addr,
) -> Res<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>> {
    let addr: SocketAddr = url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .ok_or("no host")?
        .parse()?;
    let sock = tokio::net::TcpSocket::new_v4()?;
    sock.bind(SocketAddr::new(src.into(), 0))?;
    let tcp = sock.connect(addr).await?;
    let (ws, _) = tokio_tungstenite::client_async(url, tcp).await?;
    Ok(ws)
}

/// A reader: checks every event's seq follows the last; resumes with
/// `since=` if the server closes it.
async fn reader(ctx: Arc<Ctx>, h: usize, src: Ipv4Addr) {
    let mut last: Option<u64> = None;
    while !ctx.stop.load(Ordering::Relaxed) {
        let mut url = format!("{}/api/v1/halls/{}/events", ctx.ws_base, hall_id(h));
        if let Some(s) = last {
            url += &format!("?since={s}");
            ctx.stats.resumes.fetch_add(1, Ordering::Relaxed);
        }
        let mut ws = match connect_ws(&url, src).await {
            Ok(ws) => ws,
            Err(e) => {
                ctx.stats.error(format!("subscribe: {e}"));
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        while let Some(Ok(msg)) = ws.next().await {
            let Message::Text(t) = msg else { continue };
            let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else {
                ctx.stats.error("a message that is not JSON".into());
                continue;
            };
            let Some(seq) = v["seq"].as_u64() else {
                continue;
            };
            if v["type"] == "snapshot" {
                last = Some(seq);
                continue;
            }
            match last {
                Some(l) if seq == l + 1 => {}
                Some(l) if seq <= l => {
                    ctx.stats.repeats.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                Some(_) => {
                    ctx.stats.gaps.fetch_add(1, Ordering::Relaxed);
                }
                None => {}
            }
            last = Some(seq);
            ctx.stats.events.fetch_add(1, Ordering::Relaxed);
            if ctx.stop.load(Ordering::Relaxed) {
                let _ = ws.close(None).await;
                return;
            }
        }
    }
}

fn pct(v: &mut [u64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    v[i] as f64 / 1000.0
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let bench = args.iter().any(|a| a == "--bench");
    let minutes: f64 = args
        .iter()
        .position(|a| a == "--minutes")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| env_or("SOAK_MINUTES", if bench { 10.0 } else { 20.0 / 60.0 }));
    let halls: usize = env_or("SOAK_HALLS", if bench { 100 } else { 4 });
    let subs: usize = env_or("SOAK_SUBSCRIBERS", if bench { 5000 } else { 40 });
    let stuck_pct: f64 = env_or("SOAK_STUCK", if bench { 2.0 } else { 5.0 });
    let rate: f64 = env_or("SOAK_RATE", 2.0);
    let warmup: usize = env_or("SOAK_WARMUP_MINUTES", 1);
    let bin = std::env::var("SOAK_HALLCALL_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_hallcall").to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "soak bench: {minutes} min, {halls} halls, {subs} subscribers ({stuck_pct} % stuck), {rate} commands/s per hall; {cores} cores; load {}; binary {bin}",
        loadavg()
    );
    let pin_hash = {
        let out = Command::new(&bin).args(["hash-pin", PIN]).output()?;
        String::from_utf8(out.stdout)?.trim().to_string()
    };
    let dir = tempfile::Builder::new()
        .prefix("hallcall-soak-")
        .tempdir()?;
    let cfg = dir.path().join("soak.toml");
    let data = dir.path().join("data");
    std::fs::write(
        &cfg,
        config_toml(halls, &data.display().to_string(), &pin_hash),
    )?;
    let log = std::fs::File::create(dir.path().join("server.log"))?;
    let mut server = ChildGuard(
        Command::new(&bin)
            .env("HALLCALL_KIOSK_ISSUES_PER_MINUTE", "0")
            .env("HALLCALL_WS_PING_MS", "5000")
            .env("HALLCALL_WS_PONG_TIMEOUT_MS", "10000")
            .env("HALLCALL_LOG", "warn")
            .arg("serve")
            .arg("--config")
            .arg(&cfg)
            .arg("--data")
            .arg(&data)
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()?,
    );
    let pid = server.0.id();
    let line = wait_for_line(&mut server.0, "listening on http://")?;
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .ok_or("no address in the banner")?
        .trim_end_matches('/')
        .to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let ctx = Arc::new(Ctx {
            base: format!("http://{addr}"),
            ws_base: format!("ws://{addr}"),
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .timeout(Duration::from_secs(30))
                .build()?,
            stats: Stats::default(),
            stop: AtomicBool::new(false),
        });
        // Subscribers first, spread over the halls; every 50th-ish is stuck.
        let stuck_every = if stuck_pct > 0.0 { (100.0 / stuck_pct).round() as usize } else { usize::MAX };
        let mut stuck = Vec::new();
        let mut readers = Vec::new();
        for i in 0..subs {
            let h = i % halls;
            let src = Ipv4Addr::new(127, 0, 0, 2 + (i % SRC_ADDRS) as u8);
            if i % stuck_every == stuck_every - 1 {
                let url = format!("{}/api/v1/halls/{}/events", ctx.ws_base, hall_id(h));
                stuck.push(connect_ws(&url, src).await?);
            } else {
                readers.push(tokio::spawn(reader(ctx.clone(), h, src)));
            }
        }
        let n_stuck = stuck.len();
        println!(
            "server pid {pid} on {addr}: {} readers + {n_stuck} stuck subscribers connected; RSS {:.0} MiB",
            readers.len(),
            rss_mib(pid).0
        );
        let drivers: Vec<_> = (0..halls)
            .map(|h| tokio::spawn(drive_hall(ctx.clone(), h, rate)))
            .collect();
        println!("minute | commands | cmd/s | p50 ms | p99 ms | errors | events delivered | server RSS MiB | server CPU %");
        let t0 = Instant::now();
        let total = Duration::from_secs_f64(minutes * 60.0);
        let step = Duration::from_secs_f64((minutes * 60.0).min(60.0));
        let mut rss_per_minute = Vec::new();
        let mut tickets_per_minute = Vec::new();
        let mut cpu0 = cpu_s(pid);
        let mut m = 0;
        let mut all_ops = 0;
        while t0.elapsed() < total {
            let t = Instant::now();
            tokio::time::sleep(step.min(total.saturating_sub(t0.elapsed()))).await;
            m += 1;
            let secs = t.elapsed().as_secs_f64();
            let ops = ctx.stats.ops.swap(0, Ordering::Relaxed);
            all_ops += ops;
            let errors = ctx.stats.errors.swap(0, Ordering::Relaxed);
            let events = ctx.stats.events.swap(0, Ordering::Relaxed);
            tickets_per_minute.push(ctx.stats.tickets.swap(0, Ordering::Relaxed));
            let mut lat = std::mem::take(&mut *ctx.stats.latencies_us.lock().unwrap_or_else(|e| e.into_inner()));
            let (rss, _) = rss_mib(pid);
            let cpu = cpu_s(pid);
            rss_per_minute.push(rss);
            println!(
                "{m:>6} | {ops:>8} | {:>5.0} | {:>6.1} | {:>6.1} | {errors:>6} | {events:>16} | {rss:>14.1} | {:>12.0}",
                ops as f64 / secs,
                pct(&mut lat, 0.5),
                pct(&mut lat, 0.99),
                (cpu - cpu0) / secs * 100.0
            );
            cpu0 = cpu;
        }
        ctx.stop.store(true, Ordering::Relaxed);
        for d in drivers {
            let _ = d.await;
        }
        // The stuck subscribers: the server must have closed every one.
        let mut dropped = 0;
        for mut ws in stuck {
            let ended = tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    match ws.next().await {
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return true,
                        Some(Ok(_)) => {}
                    }
                }
            })
            .await
            .unwrap_or(false);
            dropped += u64::from(ended);
        }
        ctx.stats.stuck_dropped.store(dropped, Ordering::Relaxed);
        for r in readers {
            r.abort();
        }
        let gaps = ctx.stats.gaps.load(Ordering::Relaxed);
        let repeats = ctx.stats.repeats.load(Ordering::Relaxed);
        let resumes = ctx.stats.resumes.load(Ordering::Relaxed);
        // Flat: the last minute's RSS at most 10 % above the RSS at the end
        // of the warm-up (minute `warmup`), by which the bounded caches are
        // full; and the growth per ticket after it, which a day's tickets
        // kept until the day closes explain (BENCHMARKS.md, memory model).
        let w = warmup.clamp(1, rss_per_minute.len().max(1));
        let base = rss_per_minute.get(w - 1).copied().unwrap_or(f64::NAN);
        let last = rss_per_minute.last().copied().unwrap_or(f64::NAN);
        let growth = (last - base) / base * 100.0;
        let later: u64 = tickets_per_minute.iter().skip(w).sum();
        let per_ticket = if later > 0 { (last - base) * 1024.0 * 1024.0 / later as f64 } else { f64::NAN };
        println!(
            "\n{all_ops} commands, {} tickets in {:.1} min; RSS after the warm-up (minute {w}) {base:.1} MiB, at the end {last:.1} MiB ({growth:+.1} %, {per_ticket:.0} bytes per ticket issued after the warm-up): {}",
            tickets_per_minute.iter().sum::<u64>(),
            t0.elapsed().as_secs_f64() / 60.0,
            if growth <= 10.0 { "flat (<= 10 %)" } else { "GREW more than 10 %" }
        );
        println!(
            "subscribers: {gaps} gaps, {repeats} repeats, {resumes} resumes with since= ({}); stuck subscribers dropped by the server: {dropped} of {n_stuck}",
            if gaps == 0 && repeats == 0 { "none missed or repeated an event" } else { "EVENTS MISSED OR REPEATED" }
        );
        if let Some(e) = ctx.stats.first_error.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            println!("first error: {e}");
        }
        println!("load average at the end: {}", loadavg());
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    })?;
    Ok(())
}
