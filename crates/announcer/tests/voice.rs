//! The voice measured on rendered audio (durations and levels of rendered
//! WAVs are deterministic, so they are asserted; timing is in the bench):
//! - a composed sentence is at most 1.15× as long as the same sentence
//!   synthesised in one utterance by the same voice (`sounds/reference/`,
//!   made by `sounds/make-voice-pack.sh` with the same trimming);
//! - inside a sentence, the silence at every join is at most 40 ms;
//! - the chime is as loud as the voice (gated RMS, ±1 dB);
//! - a call is said `repeat` times (default 2).
//!
//! `cargo test -p hallcall-announcer --test voice -- --nocapture` prints the
//! figures.

use std::io::Cursor;
use std::path::PathBuf;

use hallcall_announcer::{
    compose, gated_rms_dbfs, render_samples, render_wav, rms_dbfs, sentence, Announcement,
    AnnouncementKind, Clip, ClipId, Lang, Voice, VoiceConfig, VoicePack, CHIME_GAP_MS,
    MAX_JOIN_GAP_MS, REPEAT_GAP_MS,
};

const RATE: usize = 22_050;
/// Below this a sample counts as silence: −40 dBFS, the level the pack's
/// clips are trimmed at.
const SILENCE: i16 = 328;

fn pack() -> VoicePack {
    VoicePack::builtin().expect("builtin pack")
}

fn call(number: &str, window: u32) -> Announcement {
    Announcement {
        seq: Some(1),
        at: None,
        hall: None,
        kind: AnnouncementKind::Call {
            number: number.into(),
            window,
            recall: false,
        },
    }
}

fn reference(name: &str) -> Vec<i16> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../sounds/reference")
        .join(name);
    let r = hound::WavReader::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(r.spec().sample_rate as usize, RATE);
    assert_eq!(r.spec().channels, 1);
    r.into_samples::<i16>()
        .collect::<Result<_, _>>()
        .expect("samples")
}

fn secs(n: usize) -> f64 {
    n as f64 / RATE as f64
}

#[test]
fn a_sentence_is_at_most_1_15_times_one_utterance() {
    let pack = pack();
    let voice = pack.default_voice();
    for (a, english, file) in [
        (call("A012", 12), false, "zh_A012_w12.wav"),
        (call("A105", 21), false, "zh_A105_w21.wav"),
        (call("A012", 12), true, "en_A012_w12.wav"),
    ] {
        let composed = render_samples(&pack, &sentence(&a, &voice, english));
        let one = reference(file);
        let ratio = composed.len() as f64 / one.len() as f64;
        println!(
            "{file}: composed {:.3} s, one utterance {:.3} s, ratio {ratio:.3}",
            secs(composed.len()),
            secs(one.len())
        );
        assert!(ratio <= 1.15, "{file}: ratio {ratio:.3}");
    }
}

/// Sample positions where one clip ends and the next begins inside a
/// sentence (computed from the clip list, independently of the renderer):
/// `(end of previous clip, start of next clip)`.
fn joins(pack: &VoicePack, clips: &[Clip]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut prev_len: Option<usize> = None;
    let mut gap = 0usize;
    let mut overlap = 0usize;
    for c in clips {
        match *c {
            Clip::Sound(id) => {
                let len = pack.clip(id).len();
                if let Some(p) = prev_len {
                    let ov = if gap == 0 {
                        overlap.min(p / 2).min(len / 2)
                    } else {
                        0
                    };
                    let start = pos + gap - ov;
                    out.push((pos, start));
                    pos = start + len;
                } else {
                    pos += gap + len;
                }
                prev_len = Some(len);
                gap = 0;
                overlap = 0;
            }
            Clip::Gap(ms) => gap += usize::from(ms) * RATE / 1000,
            Clip::Crossfade(ms) => overlap = usize::from(ms) * RATE / 1000,
        }
    }
    out
}

/// Length of the silent run (|s| < −40 dBFS) around a join in the rendered
/// samples: the tail of one clip, the gap, the head of the next.
fn silence_at(samples: &[i16], (end, start): (usize, usize)) -> usize {
    let quiet = |i: usize| {
        samples
            .get(i)
            .is_some_and(|s| s.unsigned_abs() < SILENCE as u16)
    };
    let (mut lo, mut hi) = (end.min(start), end.max(start));
    if (lo..hi).any(|i| !quiet(i)) {
        return 0; // a crossfade: sound throughout
    }
    while lo > 0 && quiet(lo - 1) {
        lo -= 1;
    }
    while quiet(hi) {
        hi += 1;
    }
    hi - lo
}

#[test]
fn joins_inside_a_sentence_are_at_most_40_ms_of_silence() {
    let pack = pack();
    let voice = pack.default_voice();
    let mut all = Vec::new();
    for (a, english) in [
        (call("A012", 12), false),
        (call("C1010", 101), false),
        (call("B7", 3), false),
        (call("A012", 12), true),
    ] {
        let clips = sentence(&a, &voice, english);
        let samples = render_samples(&pack, &clips);
        let gaps: Vec<f64> = joins(&pack, &clips)
            .into_iter()
            .map(|j| silence_at(&samples, j) as f64 * 1000.0 / RATE as f64)
            .collect();
        println!(
            "{} joins: {:?} ms",
            hallcall_announcer::describe(&clips),
            gaps.iter().map(|g| g.round() as u32).collect::<Vec<_>>()
        );
        all.extend(gaps);
    }
    let max = all.iter().copied().fold(0.0, f64::max);
    println!(
        "max silence at a join: {max:.1} ms over {} joins",
        all.len()
    );
    // The English template's comma asks for a pause; every other join is
    // within 40 ms.
    let long: Vec<&f64> = all
        .iter()
        .filter(|&&g| g > f64::from(MAX_JOIN_GAP_MS))
        .collect();
    assert!(
        long.len() <= 1 && long.iter().all(|&&g| g < 200.0),
        "joins over 40 ms: {long:?}"
    );
    // And with a template without punctuation, none at all.
    let no_comma = Voice::new(
        VoiceConfig {
            call_en: "Number {number} please go to {window_name}".into(),
            ..VoiceConfig::default()
        },
        &pack,
    )
    .expect("voice");
    let clips = sentence(&call("A012", 12), &no_comma, true);
    let samples = render_samples(&pack, &clips);
    for j in joins(&pack, &clips) {
        let ms = silence_at(&samples, j) as f64 * 1000.0 / RATE as f64;
        assert!(ms <= f64::from(MAX_JOIN_GAP_MS), "{ms} ms");
    }
}

#[test]
fn the_chime_is_as_loud_as_the_voice() {
    let pack = pack();
    let chime_len = pack.clip(ClipId::Chime).len();
    for lang in [Lang::Zh, Lang::ZhEn] {
        let wav = render_wav(
            &pack,
            &compose(&call("A012", 12), &pack.default_voice(), lang),
        );
        let samples: Vec<i16> = hound::WavReader::new(Cursor::new(&wav))
            .expect("wav")
            .into_samples::<i16>()
            .collect::<Result<_, _>>()
            .expect("samples");
        let (chime, voice) = samples.split_at(chime_len);
        let c = gated_rms_dbfs(chime, RATE as u32).expect("chime level");
        let v = gated_rms_dbfs(voice, RATE as u32).expect("voice level");
        println!(
            "{lang}: chime {c:.2} dBFS, voice {v:.2} dBFS (gated RMS), difference {:+.2} dB; \
             ungated chime {:.2}, voice {:.2}; chime gain at load {:+.2} dB",
            c - v,
            rms_dbfs(chime).unwrap_or(f64::NAN),
            rms_dbfs(voice).unwrap_or(f64::NAN),
            pack.chime_gain_db()
        );
        assert!((c - v).abs() <= 1.0, "{lang}: chime {c:.2} vs voice {v:.2}");
    }
}

#[test]
fn a_loaded_pack_s_chime_is_matched_to_its_voice() {
    // The built-in pack with a chime 12 dB too loud: matched at load time.
    let dir = tempfile::tempdir().expect("tempdir");
    let pack = pack();
    for &id in ClipId::ALL {
        let path = dir.path().join(format!("{}.wav", id.name()));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let mut w = hound::WavWriter::create(
            &path,
            hound::WavSpec {
                channels: 1,
                sample_rate: 22_050,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            },
        )
        .expect("create");
        let gain = if id == ClipId::Chime { 4.0 } else { 1.0 };
        for &s in pack.clip(id).iter() {
            let s = (f64::from(s) * gain).clamp(-32768.0, 32767.0) as i16;
            w.write_sample(s).expect("write");
        }
        w.finalize().expect("finalize");
    }
    let loaded = VoicePack::load(dir.path()).expect("load");
    assert!(loaded.chime_gain_db() < -5.0, "{}", loaded.chime_gain_db());
    let c = gated_rms_dbfs(loaded.clip(ClipId::Chime), 22_050).expect("chime");
    let v = gated_rms_dbfs(pack.clip(ClipId::Chime), 22_050).expect("builtin chime");
    assert!((c - v).abs() <= 1.0, "{c} vs {v}");
}

#[test]
fn a_call_is_said_twice_by_default() {
    let pack = pack();
    let voice = pack.default_voice();
    let a = call("A012", 12);
    let one = render_samples(&pack, &sentence(&a, &voice, false)).len();
    let all = render_samples(&pack, &compose(&a, &voice, Lang::Zh)).len();
    let chime = pack.clip(ClipId::Chime).len();
    let gap = |ms: u16| usize::from(ms) * RATE / 1000;
    assert_eq!(
        all,
        chime + gap(CHIME_GAP_MS) + one + gap(REPEAT_GAP_MS) + one
    );
    println!(
        "default zh announcement: {:.3} s (chime {:.3} s + {} ms + sentence {:.3} s × 2 + {} ms)",
        secs(all),
        secs(chime),
        CHIME_GAP_MS,
        secs(one),
        REPEAT_GAP_MS
    );
    // repeat from the settings.
    let three = Voice::new(
        VoiceConfig {
            repeat: 3,
            repeat_gap_ms: 500,
            ..VoiceConfig::default()
        },
        &pack,
    )
    .expect("voice");
    let all3 = render_samples(&pack, &compose(&a, &three, Lang::Zh)).len();
    assert_eq!(all3, chime + gap(CHIME_GAP_MS) + 3 * one + 2 * gap(500));
}

#[test]
fn a_pack_without_the_optional_clips_joins_words_and_names_what_a_template_lacks() {
    let builtin = pack();
    let dir = tempfile::tempdir().expect("tempdir");
    for &id in ClipId::ALL.iter().filter(|id| !id.is_optional()) {
        let path = dir.path().join(format!("{}.wav", id.name()));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let mut w = hound::WavWriter::create(
            &path,
            hound::WavSpec {
                channels: 1,
                sample_rate: 22_050,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            },
        )
        .expect("create");
        for &s in builtin.clip(id).iter() {
            w.write_sample(s).expect("write");
        }
        w.finalize().expect("finalize");
    }
    let pack = VoicePack::load(dir.path()).expect("a pack without the optional clips loads");
    assert!(!pack.has(ClipId::ZhHaoDao) && pack.has(ClipId::ZhHao));
    let clips = compose(&call("A012", 12), &pack.default_voice(), Lang::ZhEn);
    assert_eq!(
        hallcall_announcer::describe(&clips),
        "（提示音）‖请|A 零 一 二|号|到|十二|号|窗口|办理‖number|A|zero|one|two,please|go|to|window|twelve\
         ‖请|A 零 一 二|号|到|十二|号|窗口|办理‖number|A|zero|one|two,please|go|to|window|twelve"
    );
    let err = Voice::new(
        VoiceConfig {
            window_name_zh: "{window}号台".into(),
            ..VoiceConfig::default()
        },
        &pack,
    )
    .expect_err("台 is not in this pack");
    assert!(err.to_string().contains("zh/tai.wav"), "{err}");
    let err = Voice::new(
        VoiceConfig {
            window_name_en: "counter {window}".into(),
            ..VoiceConfig::default()
        },
        &pack,
    )
    .expect_err("counter is not in this pack");
    assert!(err.to_string().contains("en/counter.wav"), "{err}");
}
