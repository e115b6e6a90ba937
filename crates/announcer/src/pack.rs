//! Voice packs: every clip of [`ClipId::ALL`], decoded once and kept in memory.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::clips::{Clip, ClipId, BUILTIN_WAVS};
use crate::error::AnnounceError;
use crate::level::{gated_rms_dbfs, peak};
use crate::voice::{Voice, VoiceConfig};

/// Largest peak the level-matched chime may reach (−1 dBFS).
const CHIME_PEAK_CAP: f64 = 0.891 * 32767.0;

/// A complete set of decoded clips, mono 16-bit at one sample rate.
///
/// Cheap to share (`Arc<VoicePack>`); clips are `Arc<[i16]>` so sources and
/// renders borrow them without copying.
#[derive(Clone)]
pub struct VoicePack {
    sample_rate: u32,
    /// Indexed by [`ClipId::index`]; an optional clip the pack lacks is empty.
    clips: Vec<Arc<[i16]>>,
    origin: String,
    /// Gain applied to the chime at load time so that its loudness matches
    /// the voice's (dB; 0 when already matched).
    chime_gain_db: f64,
    /// The default voice settings compiled against this pack (built on first use).
    default_voice: std::sync::OnceLock<Arc<Voice>>,
}

impl std::fmt::Debug for VoicePack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoicePack")
            .field("origin", &self.origin)
            .field("sample_rate", &self.sample_rate)
            .field("clips", &self.clips.len())
            .field("chime_gain_db", &self.chime_gain_db)
            .finish()
    }
}

impl VoicePack {
    /// The pack shipped in the repository's `sounds/`, embedded in the binary.
    pub fn builtin() -> Result<VoicePack, AnnounceError> {
        let mut decoded = Vec::with_capacity(ClipId::ALL.len());
        for (&id, bytes) in ClipId::ALL.iter().zip(BUILTIN_WAVS) {
            let path = PathBuf::from(format!("<builtin>/{}.wav", id.name()));
            decoded.push(decode(id, &path, *bytes)?);
        }
        VoicePack::assemble(decoded, "builtin".to_owned())
    }

    /// Loads a pack directory laid out like `sounds/` (`zh/qing.wav`,
    /// `zh/digit_0.wav`, `en/number.wav`, `chime.wav`, ...).
    ///
    /// Any WAV format hound reads is accepted (8/16/24/32-bit integer or
    /// 32-bit float, any channel count: channels are averaged to mono), but all
    /// clips must share one sample rate. The error names the first missing or
    /// unreadable file. Optional clips ([`ClipId::is_optional`]) may be missing.
    ///
    /// The chime is scaled at load time to the loudness of the voice (gated
    /// RMS of the Mandarin clips, see [`crate::gated_rms_dbfs`]), peak capped
    /// at −1 dBFS, so any chime a hall brings is level-matched.
    pub fn load(dir: impl AsRef<Path>) -> Result<VoicePack, AnnounceError> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(AnnounceError::PackDir {
                dir: dir.to_path_buf(),
            });
        }
        let mut decoded = Vec::with_capacity(ClipId::ALL.len());
        for &id in ClipId::ALL {
            let path = dir.join(format!("{}.wav", id.name()));
            if id.is_optional() && !path.exists() {
                decoded.push(Decoded {
                    path,
                    sample_rate: 0,
                    samples: Arc::from(Vec::new()),
                });
                continue;
            }
            let file = std::fs::File::open(&path).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    AnnounceError::MissingClip {
                        path: path.clone(),
                        text: id.text(),
                    }
                } else {
                    AnnounceError::BadClip {
                        path: path.clone(),
                        reason: e.to_string(),
                    }
                }
            })?;
            decoded.push(decode(id, &path, std::io::BufReader::new(file))?);
        }
        VoicePack::assemble(decoded, dir.display().to_string())
    }

    fn assemble(decoded: Vec<Decoded>, origin: String) -> Result<VoicePack, AnnounceError> {
        let Some(first) = decoded.first() else {
            return Err(AnnounceError::BadClip {
                path: PathBuf::from(origin),
                reason: "empty pack".into(),
            });
        };
        let sample_rate = first.sample_rate;
        let mut clips = Vec::with_capacity(decoded.len());
        for d in decoded {
            if d.samples.is_empty() {
                // An optional clip the pack lacks.
                clips.push(d.samples);
                continue;
            }
            if d.sample_rate != sample_rate {
                return Err(AnnounceError::SampleRateMismatch {
                    path: d.path,
                    expected: sample_rate,
                    found: d.sample_rate,
                });
            }
            clips.push(d.samples);
        }
        let chime_gain_db = match_chime_to_voice(&mut clips, sample_rate);
        Ok(VoicePack {
            sample_rate,
            clips,
            origin,
            chime_gain_db,
            default_voice: std::sync::OnceLock::new(),
        })
    }

    /// Whether the pack has this clip (always, unless it is optional and missing).
    pub fn has(&self, id: ClipId) -> bool {
        !self.clips[id.index()].is_empty()
    }

    /// Gain (dB) applied to the chime at load time to match the voice.
    pub fn chime_gain_db(&self) -> f64 {
        self.chime_gain_db
    }

    /// The default voice settings ([`VoiceConfig::default`]) compiled for this
    /// pack: what the server's WAV route and `hallcall announce` without
    /// `--config` use. Compiled once.
    pub fn default_voice(&self) -> Arc<Voice> {
        Arc::clone(self.default_voice.get_or_init(|| {
            // The default templates use only required clips (phrases are
            // optional and fall back to words), so this cannot fail for a
            // loaded pack; fall back to the plain composition if it ever did.
            Arc::new(Voice::new(VoiceConfig::default(), self).unwrap_or_else(|_| Voice::fallback()))
        }))
    }

    /// Sample rate of every clip (Hz).
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Where the pack came from (a directory, or `builtin`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The decoded samples of one clip.
    pub fn clip(&self, id: ClipId) -> &Arc<[i16]> {
        &self.clips[id.index()]
    }

    /// Length of one clip.
    pub fn clip_duration(&self, id: ClipId) -> Duration {
        self.samples_to_duration(self.clips[id.index()].len())
    }

    /// Number of samples a gap of `ms` milliseconds lasts at this pack's rate.
    pub fn gap_samples(&self, ms: u16) -> usize {
        (u64::from(ms) * u64::from(self.sample_rate) / 1000) as usize
    }

    /// Number of samples of a whole clip sequence (clips + gaps − crossfade
    /// overlaps).
    pub fn samples_len(&self, clips: &[Clip]) -> usize {
        crate::render::layout(self, clips).1
    }

    /// Duration of a whole clip sequence.
    pub fn duration(&self, clips: &[Clip]) -> Duration {
        self.samples_to_duration(self.samples_len(clips))
    }

    fn samples_to_duration(&self, n: usize) -> Duration {
        Duration::from_nanos((n as u64).saturating_mul(1_000_000_000) / u64::from(self.sample_rate))
    }
}

/// Scales the chime so that its gated RMS equals the Mandarin voice's.
/// Returns the gain applied (dB).
fn match_chime_to_voice(clips: &mut [Arc<[i16]>], rate: u32) -> f64 {
    let voice: Vec<i16> = ClipId::ALL
        .iter()
        .filter(|id| id.is_zh())
        .flat_map(|id| clips[id.index()].iter().copied())
        .collect();
    let chime = &clips[ClipId::Chime.index()];
    let (Some(v), Some(c)) = (gated_rms_dbfs(&voice, rate), gated_rms_dbfs(chime, rate)) else {
        return 0.0;
    };
    let mut gain_db = v - c;
    let pk = f64::from(peak(chime));
    if pk > 0.0 {
        gain_db = gain_db.min(20.0 * (CHIME_PEAK_CAP / pk).log10());
    }
    if gain_db.abs() < 0.05 {
        return 0.0;
    }
    let g = 10f64.powf(gain_db / 20.0);
    let scaled: Arc<[i16]> = chime
        .iter()
        .map(|&s| (f64::from(s) * g).round().clamp(-32768.0, 32767.0) as i16)
        .collect();
    clips[ClipId::Chime.index()] = scaled;
    gain_db
}

struct Decoded {
    path: PathBuf,
    sample_rate: u32,
    samples: Arc<[i16]>,
}

fn decode(id: ClipId, path: &Path, reader: impl Read) -> Result<Decoded, AnnounceError> {
    let bad = |reason: String| AnnounceError::BadClip {
        path: path.to_path_buf(),
        reason,
    };
    let mut wav = hound::WavReader::new(reader).map_err(|e| bad(e.to_string()))?;
    let spec = wav.spec();
    if spec.sample_rate == 0 || spec.channels == 0 {
        return Err(bad("sample rate or channel count is 0".into()));
    }
    let interleaved: Vec<i32> = match spec.sample_format {
        hound::SampleFormat::Int => {
            let shift = i32::from(spec.bits_per_sample) - 16;
            wav.samples::<i32>()
                .map(|s| s.map(|s| if shift >= 0 { s >> shift } else { s << -shift }))
                .collect::<Result<_, _>>()
                .map_err(|e| bad(e.to_string()))?
        }
        hound::SampleFormat::Float => wav
            .samples::<f32>()
            .map(|s| s.map(|s| (s.clamp(-1.0, 1.0) * 32767.0).round() as i32))
            .collect::<Result<_, _>>()
            .map_err(|e| bad(e.to_string()))?,
    };
    let channels = usize::from(spec.channels);
    let samples: Arc<[i16]> = interleaved
        .chunks_exact(channels)
        .map(|frame| {
            let sum: i64 = frame.iter().map(|&s| i64::from(s)).sum();
            (sum / channels as i64).clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16
        })
        .collect();
    if samples.is_empty() {
        return Err(bad(format!("clip “{}” has no samples", id.text())));
    }
    Ok(Decoded {
        path: path.to_path_buf(),
        sample_rate: spec.sample_rate,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, rate: u32, channels: u16, frames: usize) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 24,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).expect("create");
        for i in 0..frames * usize::from(channels) {
            w.write_sample(if i % 2 == 0 { 1 << 20 } else { -(1 << 20) })
                .expect("write");
        }
        w.finalize().expect("finalize");
    }

    #[test]
    fn builtin_pack_is_complete_and_22050_hz() {
        let pack = VoicePack::builtin().expect("builtin pack");
        assert_eq!(pack.sample_rate(), 22_050);
        for &id in ClipId::ALL {
            let d = pack.clip_duration(id);
            assert!(
                d > Duration::from_millis(100) && d < Duration::from_secs(3),
                "{}: {d:?}",
                id.name()
            );
            let peak = pack.clip(id).iter().map(|s| s.unsigned_abs()).max();
            assert!(peak > Some(3000), "{} is (nearly) silent", id.name());
        }
    }

    #[test]
    fn load_reads_a_directory_and_downmixes_24_bit_stereo() {
        let dir = tempfile::tempdir().expect("tempdir");
        for &id in ClipId::ALL {
            write_wav(
                &dir.path().join(format!("{}.wav", id.name())),
                48_000,
                2,
                480,
            );
        }
        let pack = VoicePack::load(dir.path()).expect("load");
        assert_eq!(pack.sample_rate(), 48_000);
        // each frame is (+x, -x): downmix to 0
        assert_eq!(pack.clip(ClipId::ZhQing).len(), 480);
        assert!(pack.clip(ClipId::ZhQing).iter().all(|&s| s == 0));
        assert_eq!(pack.clip_duration(ClipId::Chime), Duration::from_millis(10));
    }

    #[test]
    fn load_names_the_missing_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        for &id in ClipId::ALL {
            if id != ClipId::ZhBanli {
                write_wav(
                    &dir.path().join(format!("{}.wav", id.name())),
                    22_050,
                    1,
                    100,
                );
            }
        }
        let err = VoicePack::load(dir.path()).expect_err("incomplete pack");
        let msg = err.to_string();
        assert!(matches!(err, AnnounceError::MissingClip { .. }), "{msg}");
        assert!(
            msg.contains("zh/banli.wav") && msg.contains("办理"),
            "{msg}"
        );
    }

    #[test]
    fn load_rejects_mixed_sample_rates_and_garbage() {
        let dir = tempfile::tempdir().expect("tempdir");
        for &id in ClipId::ALL {
            let rate = if id == ClipId::EnWindow {
                44_100
            } else {
                22_050
            };
            write_wav(&dir.path().join(format!("{}.wav", id.name())), rate, 1, 100);
        }
        let msg = VoicePack::load(dir.path()).expect_err("mixed").to_string();
        assert!(
            msg.contains("en/window.wav") && msg.contains("44100"),
            "{msg}"
        );

        std::fs::write(dir.path().join("en/window.wav"), b"not a wav").expect("write");
        let msg = VoicePack::load(dir.path())
            .expect_err("garbage")
            .to_string();
        assert!(msg.contains("en/window.wav"), "{msg}");

        let msg = VoicePack::load(dir.path().join("nope"))
            .expect_err("no dir")
            .to_string();
        assert!(msg.contains("nope"), "{msg}");
    }
}
