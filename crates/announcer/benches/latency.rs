//! Latency from a call event arriving (JSON text) to the first sample handed
//! to the sink. Target: p99 ≤ 100 ms.
//!
//!   cargo bench -p hallcall-announcer --bench latency
//!
//! Measures each iteration separately (criterion reports means; this needs
//! percentiles) and prints p50 / p99 / max for:
//! - `baseline`: the renderer before the voice work (issue 16), rebuilt here
//!   so that both are measured in the same run: the sentence said once, the
//!   source a lazy chain of the pack's clips and silences, no crossfades;
//! - `inline`: parse JSON → from_event → compose (default voice: chime, said
//!   twice) → AnnouncementSource (layout with crossfades) → first sample;
//! - `via queue`: the same, but the composed job goes through the player
//!   thread's queue as in `hallcall announce` (adds a thread wake-up);
//! - `render_wav`: the server's whole-file render of the same call (and the
//!   pre-issue-16 copy loop over the same clips as its baseline).
//!
//! Without `--bench` (e.g. under `cargo test --all-targets`) it runs a few
//! iterations as a smoke test.

use std::hint::black_box;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hallcall_announcer::{
    compose, compose_repeated, render_wav, AnnounceError, Announcement, AnnouncementQueue,
    AnnouncementSource, Clip, Job, Lang, Output, Voice, VoicePack,
};
use rodio::Source;

fn event_text(i: u64) -> String {
    format!(
        r#"{{"seq":{i},"at":"2026-11-23T09:12:00+08:00","hall":"demo","type":"ticket_called","by":"staff:s01","ticket":"k3j9x","number":"A{:03}","category":"general","window":{},"recall":false}}"#,
        i % 1000,
        i % 120 + 1
    )
}

fn first_sample(pack: &VoicePack, voice: &Voice, text: &str, lang: Lang) -> Option<f32> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let a = Announcement::from_event(&value)?;
    let clips = compose(&a, voice, lang);
    let mut src = AnnouncementSource::new(pack, &clips);
    let _ = src.sample_rate();
    src.next()
}

/// The source as it was before issue 16: a lazy chain of clip and silence
/// segments (each an `Arc` clone), first non-empty segment's first sample.
enum Segment {
    Samples(Arc<[i16]>),
    Silence(usize),
}

fn baseline_first_sample(pack: &VoicePack, voice: &Voice, text: &str, lang: Lang) -> Option<f32> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let a = Announcement::from_event(&value)?;
    let clips = compose_repeated(&a, voice, lang, 1);
    let segments: Vec<Segment> = clips
        .iter()
        .filter_map(|c| match *c {
            Clip::Sound(id) => Some(Segment::Samples(Arc::clone(pack.clip(id)))),
            Clip::Gap(ms) => Some(Segment::Silence(pack.gap_samples(ms))),
            Clip::Crossfade(_) => None,
        })
        .collect();
    let total: usize = segments
        .iter()
        .map(|s| match s {
            Segment::Samples(s) => s.len(),
            Segment::Silence(n) => *n,
        })
        .sum();
    black_box(total);
    segments.iter().find_map(|s| match s {
        Segment::Samples(s) => s.first().map(|&x| f32::from(x) / 32768.0),
        Segment::Silence(0) => None,
        Segment::Silence(_) => Some(0.0),
    })
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

    let voice = pack.default_voice();
    println!(
        "default voice: repeat {}, chime gain {:+.2} dB",
        voice.repeat(),
        pack.chime_gain_db()
    );
    for lang in [Lang::Zh, Lang::ZhEn] {
        let texts: Vec<String> = (0..n).map(event_text).collect();
        // Interleaved, so both see the same machine state.
        let mut base = Vec::with_capacity(texts.len());
        let mut lat = Vec::with_capacity(texts.len());
        for text in &texts {
            let t = Instant::now();
            black_box(baseline_first_sample(&pack, &voice, black_box(text), lang))
                .expect("a sample");
            base.push(t.elapsed());
            let t = Instant::now();
            black_box(first_sample(&pack, &voice, black_box(text), lang)).expect("a sample");
            lat.push(t.elapsed());
        }
        let p50 = |v: &mut Vec<Duration>| {
            v.sort();
            v[v.len() / 2]
        };
        let (b50, n50) = (p50(&mut base), p50(&mut lat));
        report(&format!("baseline {lang:?}"), base);
        report(&format!("inline {lang:?}"), lat);
        println!(
            "  ratio inline/baseline p50 {lang:?}: {:.2}",
            n50.as_secs_f64() / b50.as_secs_f64()
        );
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
        let clips = compose(&a, &voice, Lang::Zh);
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
    let clips = compose(&a, &voice, Lang::ZhEn);
    let mut base = Vec::new();
    let mut lat = Vec::new();
    let mut bytes = 0;
    for _ in 0..n.min(2_000) {
        let t = Instant::now();
        black_box(baseline_render_wav(&pack, &clips));
        base.push(t.elapsed());
        let t = Instant::now();
        bytes = black_box(render_wav(&pack, &clips)).len();
        lat.push(t.elapsed());
    }
    let secs = (bytes - 44) as f64 / 2.0 / f64::from(pack.sample_rate());
    report(&format!("baseline render ZhEn {secs:.1}s"), base);
    report(&format!("render_wav ZhEn ({} KiB)", bytes / 1024), lat);
}

/// The WAV renderer before issue 16 (clips copied, gaps zeroed, no mixing),
/// over the same clip list (crossfades ignored).
fn baseline_render_wav(pack: &VoicePack, clips: &[Clip]) -> Vec<u8> {
    let n: usize = clips
        .iter()
        .map(|c| match *c {
            Clip::Sound(id) => pack.clip(id).len(),
            Clip::Gap(ms) => pack.gap_samples(ms),
            Clip::Crossfade(_) => 0,
        })
        .sum();
    let mut out = Vec::with_capacity(44 + n * 2);
    out.extend_from_slice(&[0u8; 44]);
    for c in clips {
        match *c {
            Clip::Sound(id) => {
                for &s in pack.clip(id).iter() {
                    out.extend_from_slice(&s.to_le_bytes());
                }
            }
            Clip::Gap(ms) => out.resize(out.len() + pack.gap_samples(ms) * 2, 0),
            Clip::Crossfade(_) => {}
        }
    }
    out
}
