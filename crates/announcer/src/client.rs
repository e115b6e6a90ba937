//! `hallcall announce`: follow a hall's event stream and say its calls.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
pub use hallcall_follow::with_since;
use hallcall_follow::{FollowOptions, Follower, Update, Url, UrlError};
use serde_json::Value;

use crate::compose::{compose, Lang};
use crate::error::AnnounceError;
use crate::event::{is_snapshot, message_seq, Announcement};
use crate::pack::VoicePack;
use crate::player::{
    open_output, AnnouncementQueue, Job, Output, Said, WavDirOutput, DEFAULT_OUT_DIR,
};
use crate::voice::{Voice, VoiceConfig};

/// Command-line arguments of `hallcall announce` (embed with
/// `#[command(subcommand)]` → `Announce(hallcall_announcer::AnnounceArgs)`).
#[derive(clap::Args, Clone, Debug)]
#[command(about = "大厅广播：订阅大厅事件，播报叫号（声卡，或写成 WAV 文件）")]
pub struct AnnounceArgs {
    /// 大厅 ID（例如 demo）
    #[arg(long)]
    pub hall: String,
    /// 服务器地址：host:port、http://host:port 或 ws://host:port
    #[arg(long)]
    pub server: String,
    /// 无声卡时把广播写成 WAV 文件的目录（默认 ./hallcall-announcements）
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// 播报语言：zh（中文）或 zh+en（中文后接英文）；默认取配置文件，否则 zh
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// 每条广播说几遍（1–5）；默认取配置文件，否则 2
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=5))]
    pub repeat: Option<u32>,
    /// 大厅配置文件（TOML）：读取 id 为 --hall 的 [[hall]] 的 [hall.voice] 播报设置（模板、窗口名称、重复次数），或单独文件中的 [voice] 表；见 docs/voice.md
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// 到达时已超过此时长的叫号不再播报（如 30s、2m；0 表示不限）
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub max_age: Duration,
    /// 语音包目录（默认使用内置语音包，文件名见 sounds/README.md）
    #[arg(long, value_name = "DIR")]
    pub voice: Option<PathBuf>,
}

/// Everything [`run`] needs. Build it from [`AnnounceArgs`] or with
/// [`AnnounceOptions::new`] and adjust the public fields.
#[derive(Clone, Debug)]
pub struct AnnounceOptions {
    /// Hall id.
    pub hall: String,
    /// Server address (`host:port`, `http://…`, `ws://…`).
    pub server: String,
    /// Directory for WAV files when there is no sound device.
    pub out: Option<PathBuf>,
    /// Languages; `None` = the voice settings' `lang`.
    pub lang: Option<Lang>,
    /// Times each sentence is said (after one chime); `None` = the voice
    /// settings' `repeat` (default 2).
    pub repeat: Option<u32>,
    /// Hall file to read the voice settings from (`[hall.voice]` of this
    /// hall, or a top-level `[voice]`); `None` = defaults.
    pub config: Option<PathBuf>,
    /// Calls older than this on arrival are not said; zero disables the check.
    pub max_age: Duration,
    /// Voice pack directory; `None` = the built-in pack.
    pub voice: Option<PathBuf>,
    /// First reconnect delay; doubles up to `reconnect_max`.
    pub reconnect_min: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
    /// Silence on the socket after which a ping is sent; twice → reconnect.
    pub idle_timeout: Duration,
    /// Always render WAV files into `out`, even when a sound device exists
    /// (tests, recording a day's announcements). Not a command-line flag.
    pub render_to_files: bool,
}

impl AnnounceOptions {
    /// Defaults as on the command line.
    pub fn new(hall: impl Into<String>, server: impl Into<String>) -> Self {
        AnnounceOptions {
            hall: hall.into(),
            server: server.into(),
            out: None,
            lang: None,
            repeat: None,
            config: None,
            max_age: Duration::from_secs(30),
            voice: None,
            reconnect_min: Duration::from_millis(250),
            reconnect_max: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            render_to_files: false,
        }
    }
}

impl From<AnnounceArgs> for AnnounceOptions {
    fn from(a: AnnounceArgs) -> Self {
        AnnounceOptions {
            out: a.out,
            lang: a.lang,
            repeat: a.repeat,
            config: a.config,
            max_age: a.max_age,
            voice: a.voice,
            ..AnnounceOptions::new(a.hall, a.server)
        }
    }
}

/// What a [`run_until`] did, for logs and tests.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    /// Announcements said (or rendered), in order.
    pub said: Vec<Said>,
    /// Highest seq seen.
    pub last_seq: Option<u64>,
    /// Successful WebSocket connections.
    pub connections: u32,
    /// Calls not said because they were older than `max_age` on arrival.
    pub stale_dropped: u64,
    /// Events skipped because their seq had been seen already.
    pub duplicates_skipped: u64,
}

/// Runs `hallcall announce` until Ctrl-C.
pub async fn run(opts: AnnounceOptions) -> Result<(), AnnounceError> {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // No signal handling available: run forever.
            std::future::pending::<()>().await;
        }
    };
    let report = run_until(opts, ctrl_c).await?;
    tracing::info!(
        said = report.said.len(),
        stale = report.stale_dropped,
        last_seq = ?report.last_seq,
        "广播停止"
    );
    Ok(())
}

/// Runs until `shutdown` resolves; then finishes the announcement being said
/// and returns. Errors only on bad options or an unusable voice pack; network
/// and sound device trouble is logged and retried, never fatal.
pub async fn run_until<F>(opts: AnnounceOptions, shutdown: F) -> Result<RunReport, AnnounceError>
where
    F: Future<Output = ()>,
{
    let base = events_url(&opts.server, &opts.hall)?;
    let pack = Arc::new(match &opts.voice {
        Some(dir) => VoicePack::load(dir)?,
        None => VoicePack::builtin()?,
    });
    let mut voice_config = match &opts.config {
        Some(path) => VoiceConfig::load(path, &opts.hall)?,
        None => VoiceConfig::default(),
    };
    if let Some(lang) = opts.lang {
        voice_config.lang = lang;
    }
    if let Some(repeat) = opts.repeat {
        voice_config.repeat = repeat;
    }
    let voice = Voice::new(voice_config, &pack)?;
    if opts.render_to_files || !cfg!(feature = "speaker") {
        // Fail early (with the path) rather than on the first call.
        let dir = opts.out.clone().unwrap_or_else(|| DEFAULT_OUT_DIR.into());
        std::fs::create_dir_all(&dir)
            .map_err(|source| AnnounceError::Output { path: dir, source })?;
    }
    tracing::info!(pack = pack.origin(), url = %base, lang = %voice.lang(), repeat = voice.repeat(), "广播启动");

    let out = opts.out.clone();
    let out_pack = Arc::clone(&pack);
    let files_only = opts.render_to_files;
    let queue = AnnouncementQueue::start(move || {
        let output = if files_only {
            let dir = out.unwrap_or_else(|| DEFAULT_OUT_DIR.into());
            WavDirOutput::new(dir, out_pack).map(|o| Box::new(o) as Box<dyn Output>)
        } else {
            open_output(out_pack, out.as_deref())
        };
        output.unwrap_or_else(|e| {
            tracing::error!(error = %e, "无法打开任何广播输出，只记录日志");
            Box::new(LogOnly)
        })
    })?;

    let mut report = RunReport::default();
    let mut follower = Follower::new(
        base,
        FollowOptions {
            reconnect_min: opts.reconnect_min,
            reconnect_max: opts.reconnect_max,
            idle_timeout: opts.idle_timeout,
            ..FollowOptions::default()
        },
    );
    tokio::pin!(shutdown);
    loop {
        let update = tokio::select! {
            () = &mut shutdown => break,
            u = follower.next() => u,
        };
        match update {
            Update::Connected(url) => tracing::info!(%url, "已连接大厅事件流"),
            Update::Lost { why, retry_in } => {
                tracing::warn!(reason = %why, ?retry_in, "事件流断开，将重连");
            }
            Update::Message(value) => say(&value, &queue, &opts, &voice, &mut report),
        }
    }
    follower.close().await;
    report.connections = follower.connections();
    report.duplicates_skipped = follower.duplicates();
    report.last_seq = follower.last_seq();
    report.said = tokio::task::spawn_blocking(move || queue.abort())
        .await
        .map_err(|e| AnnounceError::Player(e.to_string()))??;
    Ok(report)
}

struct LogOnly;

impl Output for LogOnly {
    fn say(&mut self, job: &Job) -> Result<(), AnnounceError> {
        tracing::warn!(name = %job.announcement.file_name(), "无输出，未播报");
        Ok(())
    }
    fn describe(&self) -> String {
        "仅日志".into()
    }
}

/// One new stream message (the follower has dropped repeats): queue its
/// announcement, or count it as too old to say.
fn say(
    value: &Value,
    queue: &AnnouncementQueue,
    opts: &AnnounceOptions,
    voice: &Voice,
    report: &mut RunReport,
) {
    match decide(value, Utc::now(), opts.max_age) {
        Decision::Say(announcement) => {
            let clips = compose(&announcement, voice, voice.lang());
            tracing::debug!(seq = ?announcement.seq, clips = %crate::compose::describe(&clips), "排队播报");
            if let Err(e) = queue.push(Job {
                announcement,
                clips,
            }) {
                tracing::error!(error = %e, "无法排队播报");
            }
        }
        Decision::Stale { seq, age } => {
            report.stale_dropped += 1;
            tracing::info!(?seq, age_s = age.as_secs(), "叫号已过时，不再播报");
        }
        Decision::Snapshot(seq) => tracing::debug!(?seq, "收到快照"),
        Decision::Silent => {}
    }
}

#[derive(Debug, PartialEq)]
pub(crate) enum Decision {
    Snapshot(Option<u64>),
    Stale { seq: Option<u64>, age: Duration },
    Silent,
    Say(Announcement),
}

/// What to do with one new stream message (repeats never get here: the
/// follower hands each seq on once). Pure, for tests.
pub(crate) fn decide(msg: &Value, now: DateTime<Utc>, max_age: Duration) -> Decision {
    let seq = message_seq(msg);
    if is_snapshot(msg) {
        return Decision::Snapshot(seq);
    }
    let Some(announcement) = Announcement::from_event(msg) else {
        return Decision::Silent;
    };
    if !max_age.is_zero() {
        if let Some(at) = announcement.at {
            let age = now
                .signed_duration_since(at)
                .to_std()
                .unwrap_or(Duration::ZERO);
            if age > max_age {
                return Decision::Stale { seq, age };
            }
        }
    }
    Decision::Say(announcement)
}

/// `ws://SERVER/api/v1/halls/{hall}/events` (no `since`), with the
/// announcer's errors.
pub fn events_url(server: &str, hall: &str) -> Result<Url, AnnounceError> {
    hallcall_follow::events_url(server, hall).map_err(|e| match e {
        UrlError::EmptyHall => AnnounceError::BadOption("--hall 不能为空".into()),
        UrlError::BadServer { input, reason } => AnnounceError::BadServerUrl { input, reason },
    })
}

/// Parses `30s`, `500ms`, `2m`, `1h`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("无效时长 {s:?}（例如 30s、500ms、2m）"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        u => return Err(format!("无效时间单位 {u:?}（可用 ms、s、m、h）")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("无效时长 {s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use serde_json::json;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: AnnounceArgs,
    }

    #[test]
    fn cli_args_parse() {
        let cli = Cli::try_parse_from([
            "x",
            "--hall",
            "demo",
            "--server",
            "127.0.0.1:8080",
            "--lang",
            "zh+en",
            "--repeat",
            "2",
            "--max-age",
            "45s",
            "--out",
            "/tmp/a",
            "--voice",
            "/tmp/v",
            "--config",
            "/etc/hallcall/hall.toml",
        ])
        .expect("parse");
        let o = AnnounceOptions::from(cli.args);
        assert_eq!(o.hall, "demo");
        assert_eq!(o.lang, Some(Lang::ZhEn));
        assert_eq!(o.repeat, Some(2));
        assert_eq!(o.max_age, Duration::from_secs(45));
        assert_eq!(o.config, Some(PathBuf::from("/etc/hallcall/hall.toml")));
        assert_eq!(o.out, Some(PathBuf::from("/tmp/a")));
        let d = Cli::try_parse_from(["x", "--hall", "demo", "--server", "h:1"]).expect("parse");
        assert_eq!(d.args.lang, None);
        assert_eq!(d.args.repeat, None);
        assert_eq!(d.args.config, None);
        assert_eq!(d.args.max_age, Duration::from_secs(30));
        assert!(
            Cli::try_parse_from(["x", "--hall", "d", "--server", "h", "--repeat", "9"]).is_err()
        );
        assert!(
            Cli::try_parse_from(["x", "--hall", "d", "--server", "h", "--lang", "en"]).is_err()
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn bad_addresses_are_the_announcers_errors() {
        // The URL rules themselves are hallcall-follow's (and tested there).
        assert!(events_url("127.0.0.1:8080", "demo").is_ok());
        assert!(matches!(
            events_url("https://x", "demo"),
            Err(AnnounceError::BadServerUrl { .. })
        ));
        assert!(matches!(
            events_url("127.0.0.1:8080", " "),
            Err(AnnounceError::BadOption(_))
        ));
    }

    #[test]
    fn snapshots_are_silent_and_stale_calls_are_dropped() {
        let now = DateTime::parse_from_rfc3339("2026-11-23T09:12:10+08:00")
            .expect("ts")
            .with_timezone(&Utc);
        let age = Duration::from_secs(30);
        let call = |seq: u64, at: &str| json!({"seq":seq,"at":at,"type":"ticket_called","number":"A012","window":3,"recall":false});
        assert_eq!(
            decide(&json!({"type":"snapshot","seq":16,"state":{}}), now, age),
            Decision::Snapshot(Some(16))
        );
        assert!(matches!(
            decide(&call(17, "2026-11-23T09:12:00+08:00"), now, age),
            Decision::Say(_)
        ));
        // 09:11:00 is 70 s before now: stale.
        assert_eq!(
            decide(&call(18, "2026-11-23T01:11:00Z"), now, age),
            Decision::Stale {
                seq: Some(18),
                age: Duration::from_secs(70)
            }
        );
        // max-age 0 disables the check; a future timestamp is fine.
        assert!(matches!(
            decide(&call(19, "2020-01-01T00:00:00Z"), now, Duration::ZERO),
            Decision::Say(_)
        ));
        assert!(matches!(
            decide(&call(20, "2030-01-01T00:00:00Z"), now, age),
            Decision::Say(_)
        ));
        assert_eq!(
            decide(&json!({"seq":21,"type":"ticket_issued"}), now, age),
            Decision::Silent
        );
    }
}
