//! `hallcall led`: follow a hall's event stream and keep every window's LED
//! bar showing the right text.
//!
//! The stream is followed by `hallcall-follow`, the client the announcer
//! uses too (and nothing more: no audio stack in a program that drives
//! serial ports): it remembers the last `seq`, reconnects with `?since=SEQ`
//! after a drop (backoff 250 ms doubling to 10 s), so no call is missed or
//! shown twice.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

pub use hallcall_follow::with_since;
use hallcall_follow::{FollowOptions, Follower, Update, Url};

use crate::led::board::Board;
use crate::led::config::{LedConfig, LedConfigError};
use crate::led::frame::hex;
use crate::link::Link;

/// Command-line arguments of `hallcall led` (embed as
/// `Led(hallcall_devices::LedArgs)`).
#[derive(clap::Args, Clone, Debug)]
#[command(about = "窗口条屏：订阅大厅事件，把每个窗口的叫号/暂停文字发给 LED 控制器")]
pub struct LedArgs {
    /// LED 配置文件（格式见 examples/led-rs485.toml、examples/led-tcp.toml）
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// 大厅 ID（覆盖配置文件中的 hall）
    #[arg(long)]
    pub hall: Option<String>,
    /// 服务器地址：host:port、http://host:port 或 ws://host:port（覆盖配置文件中的 server）
    #[arg(long)]
    pub server: Option<String>,
    /// 不写设备：把每一帧以十六进制打印到标准输出（调试帧格式）
    #[arg(long)]
    pub dry_run: bool,
}

/// Why `hallcall led` cannot run.
#[derive(Debug, thiserror::Error)]
pub enum LedError {
    /// The configuration file.
    #[error(transparent)]
    Config(#[from] LedConfigError),
    /// A missing or unusable option.
    #[error("{0}")]
    Option(String),
}

/// Everything [`run_led`] needs.
#[derive(Clone, Debug)]
pub struct LedOptions {
    /// The validated configuration.
    pub config: LedConfig,
    /// Hall id.
    pub hall: String,
    /// Server address.
    pub server: String,
    /// Print frames instead of writing them.
    pub dry_run: bool,
    /// First reconnect delay; doubles up to `reconnect_max`.
    pub reconnect_min: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
    /// Silence after which a ping is sent; twice → reconnect.
    pub idle_timeout: Duration,
    /// How often a frame that failed to write is tried again.
    pub retry_every: Duration,
}

impl LedOptions {
    /// Options from a configuration; `hall` and `server` from the file
    /// unless given.
    pub fn new(
        config: LedConfig,
        hall: Option<String>,
        server: Option<String>,
    ) -> Result<LedOptions, LedError> {
        let hall = hall
            .or_else(|| config.hall.clone())
            .filter(|h| !h.trim().is_empty())
            .ok_or_else(|| LedError::Option("缺少大厅 ID：--hall 或配置文件中的 hall".into()))?;
        let server = server
            .or_else(|| config.server.clone())
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                LedError::Option("缺少服务器地址：--server 或配置文件中的 server".into())
            })?;
        events_url(&server, &hall)?;
        Ok(LedOptions {
            config,
            hall,
            server,
            dry_run: false,
            reconnect_min: Duration::from_millis(250),
            reconnect_max: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            retry_every: Duration::from_secs(2),
        })
    }
}

/// One frame written (or printed, in a dry run).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentFrame {
    /// Window number.
    pub window: u32,
    /// The text shown.
    pub text: String,
    /// The frame.
    pub bytes: Vec<u8>,
}

/// What a [`run_led`] did.
#[derive(Clone, Debug, Default)]
pub struct LedReport {
    /// Frames written, in order.
    pub sent: Vec<SentFrame>,
    /// Frames that failed to write (and were retried).
    pub write_errors: u64,
    /// Highest seq seen.
    pub last_seq: Option<u64>,
    /// Successful WebSocket connections.
    pub connections: u32,
}

/// `hallcall led`: loads the file, runs until Ctrl-C.
pub async fn run_led_cli(args: LedArgs) -> Result<(), LedError> {
    let config = LedConfig::load(&args.config)?;
    let mut opts = LedOptions::new(config, args.hall, args.server)?;
    opts.dry_run = args.dry_run;
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let report = run_led(opts, ctrl_c).await?;
    tracing::info!(frames = report.sent.len(), errors = report.write_errors, last_seq = ?report.last_seq, "条屏停止");
    Ok(())
}

/// Runs until `shutdown` resolves. Network and device trouble is logged and
/// retried, never fatal.
pub async fn run_led<F>(opts: LedOptions, shutdown: F) -> Result<LedReport, LedError>
where
    F: Future<Output = ()>,
{
    let base = events_url(&opts.server, &opts.hall)?;
    let mut bars = Bars::new(&opts);
    let mut board = Board::default();
    let mut report = LedReport::default();
    tracing::info!(url = %base, bars = opts.config.windows.len(), dry_run = opts.dry_run, "条屏启动");
    let mut follower = Follower::new(
        base,
        FollowOptions {
            reconnect_min: opts.reconnect_min,
            reconnect_max: opts.reconnect_max,
            idle_timeout: opts.idle_timeout,
            ..FollowOptions::default()
        },
    );
    // Failed writes are retried, and every bar re-sent each `refresh_s` (a
    // bar that rebooted shows nothing until told again) — also while the
    // server is out of reach: the bars keep the last known texts.
    let mut tick = tokio::time::interval(opts.retry_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let refresh = Duration::from_secs(opts.config.refresh_s);
    let mut last_refresh = tokio::time::Instant::now();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            _ = tick.tick() => {
                if !refresh.is_zero() && last_refresh.elapsed() >= refresh {
                    last_refresh = tokio::time::Instant::now();
                    bars.refresh_all(&board, &mut report).await;
                } else {
                    bars.retry(&board, &mut report).await;
                }
            }
            update = follower.next() => match update {
                Update::Connected(url) => tracing::info!(%url, "已连接大厅事件流"),
                Update::Lost { why, retry_in } => {
                    tracing::warn!(reason = %why, ?retry_in, "事件流断开，将重连");
                }
                Update::Message(value) => {
                    let change = board.apply(&value);
                    bars.update(&board, &change, &mut report).await;
                }
            },
        }
    }
    follower.close().await;
    report.connections = follower.connections();
    report.last_seq = follower.last_seq();
    Ok(report)
}

/// The bars, their devices and what each last showed.
struct Bars {
    config: LedConfig,
    dry_run: bool,
    /// Window → (device key, address).
    windows: BTreeMap<u32, (String, u16)>,
    devices: HashMap<String, (crate::connect::Connect, Option<Link>)>,
    shown: HashMap<u32, String>,
    dirty: BTreeSet<u32>,
}

impl Bars {
    fn new(opts: &LedOptions) -> Bars {
        let mut windows = BTreeMap::new();
        let mut devices = HashMap::new();
        for w in &opts.config.windows {
            if let Some(dev) = opts.config.device_of(w) {
                let key = dev.to_string();
                devices
                    .entry(key.clone())
                    .or_insert_with(|| (dev.clone(), None));
                windows.insert(w.number, (key, w.address));
            }
        }
        Bars {
            config: opts.config.clone(),
            dry_run: opts.dry_run,
            windows,
            devices,
            shown: HashMap::new(),
            dirty: BTreeSet::new(),
        }
    }

    async fn update(
        &mut self,
        board: &Board,
        change: &crate::led::board::Change,
        r: &mut LedReport,
    ) {
        let targets: Vec<u32> = if change.all {
            self.windows.keys().copied().collect()
        } else {
            change
                .windows
                .iter()
                .copied()
                .filter(|w| self.windows.contains_key(w))
                .collect()
        };
        let mut done = BTreeSet::new();
        for w in targets {
            if !done.insert(w) {
                continue;
            }
            let text = self.config.text.render(w, &board.show(w));
            let again = change.recalled.contains(&w);
            if again || self.shown.get(&w) != Some(&text) || self.dirty.contains(&w) {
                self.send(w, text, r).await;
            }
        }
    }

    async fn retry(&mut self, board: &Board, r: &mut LedReport) {
        let dirty: Vec<u32> = self.dirty.iter().copied().collect();
        for w in dirty {
            let text = self.config.text.render(w, &board.show(w));
            self.send(w, text, r).await;
        }
    }

    async fn refresh_all(&mut self, board: &Board, r: &mut LedReport) {
        let all: Vec<u32> = self.windows.keys().copied().collect();
        for w in all {
            let text = self.config.text.render(w, &board.show(w));
            self.send(w, text, r).await;
        }
    }

    async fn send(&mut self, window: u32, text: String, r: &mut LedReport) {
        let Some((key, address)) = self.windows.get(&window).cloned() else {
            return;
        };
        let frame = self.config.frame.build(address, &text);
        if self.dry_run {
            println!("window {window} → {text:?}: {}", hex(&frame));
        } else {
            let timeout = self.config.timeout();
            let Some((connect, link)) = self.devices.get_mut(&key) else {
                return;
            };
            if link.as_mut().is_some_and(Link::peer_closed) {
                tracing::info!(window, device = %connect, "条屏控制器断开了连接，重新连接");
                *link = None;
            }
            if link.is_none() {
                match Link::open(connect, timeout).await {
                    Ok(l) => *link = Some(l),
                    Err(e) => {
                        if self.dirty.insert(window) {
                            tracing::warn!(window, error = %e, "无法打开条屏设备，稍后重试");
                        }
                        r.write_errors += 1;
                        return;
                    }
                }
            }
            let Some(l) = link.as_mut() else { return };
            if let Err(e) = l.write_all(&frame, timeout).await {
                tracing::warn!(window, error = %e, "写条屏失败，稍后重试");
                *link = None;
                self.dirty.insert(window);
                r.write_errors += 1;
                return;
            }
        }
        tracing::debug!(window, %text, frame = %hex(&frame), "条屏已更新");
        self.dirty.remove(&window);
        self.shown.insert(window, text.clone());
        r.sent.push(SentFrame {
            window,
            text,
            bytes: frame,
        });
    }
}

/// `ws://SERVER/api/v1/halls/{hall}/events`, with the LED client's errors.
pub fn events_url(server: &str, hall: &str) -> Result<Url, LedError> {
    hallcall_follow::events_url(server, hall).map_err(|e| LedError::Option(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_addresses_are_option_errors() {
        // The URL rules themselves are hallcall-follow's (and tested there).
        assert!(events_url("127.0.0.1:8080", "demo").is_ok());
        assert!(matches!(
            events_url("https://x", "demo"),
            Err(LedError::Option(_))
        ));
        assert!(matches!(events_url("h:1", " "), Err(LedError::Option(_))));
    }

    #[test]
    fn cli_args() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            a: LedArgs,
        }
        let c = Cli::try_parse_from(["x", "--config", "led.toml", "--hall", "demo", "--dry-run"])
            .expect("parse");
        assert_eq!(c.a.hall.as_deref(), Some("demo"));
        assert!(c.a.dry_run);
        assert!(Cli::try_parse_from(["x"]).is_err());
    }
}
