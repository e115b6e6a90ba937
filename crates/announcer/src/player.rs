//! Saying announcements strictly one at a time, off the async runtime.
//!
//! [`AnnouncementQueue`] owns one OS thread that takes jobs in arrival order
//! and hands each to an [`Output`], which returns only when the announcement
//! has been said completely (played to the end, or written). So two
//! announcements never overlap, and a slow sound card never blocks the event
//! stream: [`AnnouncementQueue::push`] never waits.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::clips::Clip;
use crate::error::AnnounceError;
use crate::event::Announcement;
use crate::pack::VoicePack;
use crate::render::render_wav;

/// One announcement to say: what it is about, and its composed clips.
#[derive(Clone, Debug)]
pub struct Job {
    /// The parsed event.
    pub announcement: Announcement,
    /// Its clip sequence (from [`crate::compose`]).
    pub clips: Vec<Clip>,
}

/// Where announcements are said.
pub trait Output {
    /// Says one announcement and returns once it has been said completely.
    fn say(&mut self, job: &Job) -> Result<(), AnnounceError>;
    /// For logs: "声卡" / "目录 /x".
    fn describe(&self) -> String;
}

/// Renders each announcement to `{dir}/{seq}-{number}-w{window}.wav`
/// (written to a temporary name, then renamed: readers never see half a file).
pub struct WavDirOutput {
    dir: PathBuf,
    pack: Arc<VoicePack>,
}

impl WavDirOutput {
    /// Creates `dir` if needed.
    pub fn new(dir: impl Into<PathBuf>, pack: Arc<VoicePack>) -> Result<Self, AnnounceError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| AnnounceError::Output {
            path: dir.clone(),
            source,
        })?;
        Ok(WavDirOutput { dir, pack })
    }

    /// The directory written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Output for WavDirOutput {
    fn say(&mut self, job: &Job) -> Result<(), AnnounceError> {
        let name = job.announcement.file_name();
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!(".{name}.part"));
        let wav = render_wav(&self.pack, &job.clips);
        std::fs::write(&tmp, wav)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|source| AnnounceError::Output { path, source })
    }

    fn describe(&self) -> String {
        format!("WAV 文件目录 {}", self.dir.display())
    }
}

/// Plays through the default sound device (feature `speaker`).
#[cfg(feature = "speaker")]
pub struct SpeakerOutput {
    // Field order matters: the player must be dropped before the device sink.
    player: rodio::Player,
    sink: rodio::MixerDeviceSink,
    pack: Arc<VoicePack>,
}

#[cfg(feature = "speaker")]
impl SpeakerOutput {
    /// Opens the default output device.
    pub fn open(pack: Arc<VoicePack>) -> Result<Self, AnnounceError> {
        let mut sink = rodio::DeviceSinkBuilder::open_default_sink()
            .map_err(|e| AnnounceError::Device(e.to_string()))?;
        sink.log_on_drop(false);
        let player = rodio::Player::connect_new(sink.mixer());
        Ok(SpeakerOutput { player, sink, pack })
    }
}

#[cfg(feature = "speaker")]
impl Output for SpeakerOutput {
    fn say(&mut self, job: &Job) -> Result<(), AnnounceError> {
        self.player.append(crate::render::AnnouncementSource::new(
            &self.pack, &job.clips,
        ));
        self.player.sleep_until_end();
        Ok(())
    }

    fn describe(&self) -> String {
        format!(
            "声卡（默认输出设备, {} Hz）",
            self.sink.config().sample_rate()
        )
    }
}

/// Default directory for rendered announcements when `--out` is not given.
pub const DEFAULT_OUT_DIR: &str = "hallcall-announcements";

/// Opens the output: the sound device if built with `speaker` and a device
/// opens; otherwise WAV files in `out` (default [`DEFAULT_OUT_DIR`]), with a
/// warning saying why. Never fails because of the sound device.
pub fn open_output(
    pack: Arc<VoicePack>,
    out: Option<&Path>,
) -> Result<Box<dyn Output>, AnnounceError> {
    let out = out.map_or_else(|| PathBuf::from(DEFAULT_OUT_DIR), Path::to_path_buf);
    #[cfg(feature = "speaker")]
    {
        match SpeakerOutput::open(Arc::clone(&pack)) {
            Ok(s) => return Ok(Box::new(s)),
            Err(e) => tracing::warn!(
                error = %e,
                out = %out.display(),
                "无法打开声卡，改为把广播写成 WAV 文件 (no sound device; rendering to WAV files)"
            ),
        }
    }
    #[cfg(not(feature = "speaker"))]
    tracing::warn!(
        out = %out.display(),
        "本程序编译时未启用声卡输出（cargo feature `speaker`），广播写成 WAV 文件 \
         (built without the `speaker` feature; rendering to WAV files)"
    );
    Ok(Box::new(WavDirOutput::new(out, pack)?))
}

/// What the queue did with one job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Said {
    /// The announcement's seq.
    pub seq: Option<u64>,
    /// Its file name (also used for logs in speaker mode).
    pub name: String,
    /// `false` when the output failed (logged, not fatal).
    pub ok: bool,
}

/// A FIFO of announcements said one at a time on a dedicated thread.
pub struct AnnouncementQueue {
    tx: mpsc::Sender<Box<Job>>,
    handle: JoinHandle<Vec<Said>>,
    aborted: Arc<AtomicBool>,
}

impl AnnouncementQueue {
    /// Starts the player thread. `make_output` runs on that thread (a sound
    /// device handle may not be `Send`).
    pub fn start<F>(make_output: F) -> Result<Self, AnnounceError>
    where
        F: FnOnce() -> Box<dyn Output> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel::<Box<Job>>();
        let aborted = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&aborted);
        let handle = std::thread::Builder::new()
            .name("hallcall-announcer".into())
            .spawn(move || {
                let mut output = make_output();
                tracing::info!(output = %output.describe(), "广播输出就绪");
                let mut said = Vec::new();
                for job in rx {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let name = job.announcement.file_name();
                    let ok = match output.say(&job) {
                        Ok(()) => {
                            tracing::info!(seq = ?job.announcement.seq, %name, "已广播");
                            true
                        }
                        Err(e) => {
                            tracing::warn!(seq = ?job.announcement.seq, %name, error = %e, "广播失败");
                            false
                        }
                    };
                    said.push(Said {
                        seq: job.announcement.seq,
                        name,
                        ok,
                    });
                }
                said
            })
            .map_err(|e| AnnounceError::Player(e.to_string()))?;
        Ok(AnnouncementQueue {
            tx,
            handle,
            aborted,
        })
    }

    /// Queues a job. Never blocks.
    pub fn push(&self, job: Job) -> Result<(), AnnounceError> {
        self.tx
            .send(Box::new(job))
            .map_err(|_| AnnounceError::Player("播放线程已退出".into()))
    }

    /// Says everything queued, then stops. Blocking: call from a blocking
    /// context (`tokio::task::spawn_blocking`).
    pub fn finish(self) -> Result<Vec<Said>, AnnounceError> {
        drop(self.tx);
        self.handle
            .join()
            .map_err(|_| AnnounceError::Player("播放线程崩溃".into()))
    }

    /// Finishes the announcement being said, drops the rest, stops. Blocking.
    pub fn abort(self) -> Result<Vec<Said>, AnnounceError> {
        self.aborted.store(true, Ordering::SeqCst);
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::{compose, Lang};
    use crate::event::AnnouncementKind;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    type Log = Arc<Mutex<Vec<(u64, Instant, Instant)>>>;

    /// A fake sink that takes 15 ms per announcement and records start/end.
    /// Closed until the test opens it: the fake sink cannot finish before.
    type Gate = Arc<(Mutex<bool>, std::sync::Condvar)>;

    struct Recorder(Log, Gate);

    impl Output for Recorder {
        fn say(&mut self, job: &Job) -> Result<(), AnnounceError> {
            let start = Instant::now();
            let (open, cv) = &*self.1;
            if let Ok(guard) = open.lock() {
                // Bounded so that a bug cannot hang the test suite.
                let _ = cv.wait_timeout_while(guard, Duration::from_secs(10), |o| !*o);
            }
            std::thread::sleep(Duration::from_millis(15));
            let seq = job.announcement.seq.unwrap_or(0);
            if let Ok(mut log) = self.0.lock() {
                log.push((seq, start, Instant::now()));
            }
            if seq == 3 {
                return Err(AnnounceError::Device("fake failure".into()));
            }
            Ok(())
        }
        fn describe(&self) -> String {
            "recorder".into()
        }
    }

    fn job(seq: u64) -> Job {
        let announcement = Announcement {
            seq: Some(seq),
            at: None,
            hall: None,
            kind: AnnouncementKind::Call {
                number: format!("A{seq:03}"),
                window: 1,
                recall: false,
            },
        };
        static VOICE: std::sync::OnceLock<Arc<crate::Voice>> = std::sync::OnceLock::new();
        let voice = VOICE.get_or_init(|| VoicePack::builtin().expect("pack").default_voice());
        let clips = compose(&announcement, voice, Lang::Zh);
        Job {
            announcement,
            clips,
        }
    }

    #[test]
    fn never_overlaps_keeps_order_and_push_never_blocks() {
        let log: Log = Arc::default();
        let gate: Gate = Arc::default();
        let rec = Recorder(Arc::clone(&log), Arc::clone(&gate));
        let q = AnnouncementQueue::start(move || Box::new(rec)).expect("start");
        // All pushes return while the sink is stuck on the first job: the
        // event stream is never held up by playback.
        for seq in 1..=4 {
            q.push(job(seq)).expect("push");
        }
        std::thread::sleep(Duration::from_millis(20));
        for seq in 5..=8 {
            q.push(job(seq)).expect("push");
        }
        assert!(log.lock().expect("log").is_empty(), "sink finished early");
        if let Ok(mut open) = gate.0.lock() {
            *open = true;
        }
        gate.1.notify_all();
        let said = q.finish().expect("finish");
        let log = log.lock().expect("log").clone();
        assert_eq!(
            log.iter().map(|e| e.0).collect::<Vec<_>>(),
            (1..=8).collect::<Vec<_>>()
        );
        for w in log.windows(2) {
            assert!(
                w[0].2 <= w[1].1,
                "overlap: {} ends after {} starts",
                w[0].0,
                w[1].0
            );
        }
        // A failing output is logged, not fatal; the queue goes on.
        assert_eq!(said.len(), 8);
        assert!(!said[2].ok);
        assert!(said.iter().enumerate().all(|(i, s)| s.ok == (i != 2)));
    }

    #[test]
    fn abort_drops_the_rest() {
        let log: Log = Arc::default();
        let gate: Gate = Arc::new((Mutex::new(true), std::sync::Condvar::new()));
        let rec = Recorder(Arc::clone(&log), gate);
        let q = AnnouncementQueue::start(move || Box::new(rec)).expect("start");
        for seq in 1..=20 {
            q.push(job(seq)).expect("push");
        }
        std::thread::sleep(Duration::from_millis(5));
        let said = q.abort().expect("abort");
        assert!(said.len() < 20, "{}", said.len());
    }

    #[test]
    fn wav_dir_output_writes_named_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pack = Arc::new(VoicePack::builtin().expect("pack"));
        let mut out = WavDirOutput::new(dir.path().join("sub"), Arc::clone(&pack)).expect("out");
        let j = job(17);
        out.say(&j).expect("say");
        let path = dir.path().join("sub/17-A017-w1.wav");
        let r = hound::WavReader::open(&path).expect("wav");
        assert_eq!(r.len() as usize, pack.samples_len(&j.clips));
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .expect("ls")
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn open_output_falls_back_to_files_without_a_device() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pack = Arc::new(VoicePack::builtin().expect("pack"));
        // Without `speaker` this is always the directory; with it, it is the
        // device if one opens here, else the directory. Either way: no panic.
        let out = open_output(pack, Some(dir.path())).expect("output");
        if cfg!(not(feature = "speaker")) {
            assert!(out.describe().contains(&dir.path().display().to_string()));
        }
    }
}
