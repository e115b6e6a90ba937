//! Latency from a call event arriving (JSON text) to the first sample handed
//! to the sink. Target: p99 ≤ 100 ms.
//!
//!   cargo bench -p hallcall-announcer --bench latency
//!
//! Measures each iteration separately (criterion reports means; this needs
//! percentiles) and prints p50 / p99 / max for:
//! - `inline`: parse JSON → from_event → compose → AnnouncementSource → first sample;
//! - `via queue`: the same, but the composed job goes through the player
//!   thread's queue as in `hallcall announce` (adds a thread wake-up);
//! - `render_wav`: the server's whole-file render of the same call.
//!
//! Without `--bench` (e.g. under `cargo test --all-targets`) it runs a few
//! iterations as a smoke test.

use std::hint::black_box;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hallcall_announcer::{
    compose_repeated, render_wav, AnnounceError, Announcement, AnnouncementQueue,
    AnnouncementSource, Job, Lang, Output, VoicePack,
};
use rodio::Source;

fn event_text(i: u64) -> String {
    format!(
        r#"{{"seq":{i},"at":"2026-11-23T09:12:00+08:00","hall":"demo","type":"ticket_called","by":"staff:s01","ticket":"k3j9x","number":"A{:03}","category":"general","window":{},"recall":false}}"#,
        i % 1000,
        i % 120 + 1
    )
}

fn first_sample(pack: &VoicePack, text: &str, lang: Lang) -> Option<f32> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let a = Announcement::from_event(&value)?;
    let clips = compose_repeated(&a, lang, 1);
    let mut src = AnnouncementSource::new(pack, &clips);
    let _ = src.sample_rate();
    src.next()
}

fn report(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let pct = |p: f64| v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1];
    println!(
        "{name:<28} n={:<6} p50={:>9.1?} p99={:>9.1?} max={:>9.1?}",
        v.len(),
        pct(0.50),
        pct(0.99),
        v[v.len() - 1]
    );
}

/// Sink stand-in: builds the source, pulls the first sample, reports when.
struct FirstSample {
    pack: Arc<VoicePack>,
    done: mpsc::Sender<Instant>,
}

impl Output for FirstSample {
    fn say(&mut self, job: &Job) -> Result<(), AnnounceError> {
        let mut src = AnnouncementSource::new(&self.pack, &job.clips);
        black_box(src.next());
        let _ = self.done.send(Instant::now());
        Ok(())
    }
    fn describe(&self) -> String {
        "bench".into()
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n: u64 = if full { 20_000 } else { 50 };

    let t = Instant::now();
    let pack = Arc::new(VoicePack::builtin().expect("builtin pack"));
    println!(
        "VoicePack::builtin() (once at start-up): {:.1?}",
        t.elapsed()
    );

    for lang in [Lang::Zh, Lang::ZhEn] {
        let texts: Vec<String> = (0..n).map(event_text).collect();
        let mut lat = Vec::with_capacity(texts.len());
        for text in &texts {
            let t = Instant::now();
            black_box(first_sample(&pack, black_box(text), lang)).expect("a sample");
            lat.push(t.elapsed());
        }
        report(&format!("inline {lang:?}"), lat);
    }

    // Through the player thread, one job at a time (as when calls arrive
    // seconds apart, the thread is asleep in recv() when each arrives).
    let (done_tx, done_rx) = mpsc::channel();
    let out = FirstSample {
        pack: Arc::clone(&pack),
        done: done_tx,
    };
    let queue = AnnouncementQueue::start(move || Box::new(out)).expect("queue");
    let mut lat = Vec::new();
    for i in 0..n.min(5_000) {
        let text = event_text(i);
        let t = Instant::now();
        let value: serde_json::Value = serde_json::from_str(&text).expect("json");
        let a = Announcement::from_event(&value).expect("call");
        let clips = compose_repeated(&a, Lang::Zh, 1);
        queue
            .push(Job {
                announcement: a,
                clips,
            })
            .expect("push");
        let at = done_rx.recv().expect("first sample");
        lat.push(at.duration_since(t));
        if full && i % 16 == 0 {
            // Let the thread go to sleep sometimes, like in a real hall.
            std::thread::sleep(Duration::from_micros(500));
        }
    }
    report("via queue Zh", lat);
    drop(queue.finish());

    let value: serde_json::Value = serde_json::from_str(&event_text(12)).expect("json");
    let a = Announcement::from_event(&value).expect("call");
    let clips = compose_repeated(&a, Lang::ZhEn, 1);
    let mut lat = Vec::new();
    let mut bytes = 0;
    for _ in 0..n.min(2_000) {
        let t = Instant::now();
        bytes = black_box(render_wav(&pack, &clips)).len();
        lat.push(t.elapsed());
    }
    report(&format!("render_wav ZhEn ({} KiB)", bytes / 1024), lat);
}
