//! Clip sequence → samples: a rodio [`Source`] for the speaker, and a WAV file
//! in memory for `GET /api/v1/halls/{hall}/announcements/{seq}.wav`.

use std::num::NonZero;
use std::sync::Arc;
use std::time::Duration;

use rodio::{ChannelCount, SampleRate, Source};

use crate::clips::Clip;
use crate::pack::VoicePack;

const MONO: ChannelCount = NonZero::<u16>::MIN;

#[derive(Clone, Debug)]
enum Segment {
    Samples(Arc<[i16]>),
    Silence(usize),
}

impl Segment {
    fn len(&self) -> usize {
        match self {
            Segment::Samples(s) => s.len(),
            Segment::Silence(n) => *n,
        }
    }
}

/// A composed announcement as a rodio source: mono f32 at the pack's rate,
/// chained from the pack's cached clips (nothing is decoded or copied here).
#[derive(Clone, Debug)]
pub struct AnnouncementSource {
    segments: Vec<Segment>,
    sample_rate: SampleRate,
    segment: usize,
    pos: usize,
    remaining: usize,
    total: usize,
}

impl AnnouncementSource {
    /// Builds the source; cost is one `Arc` clone per clip.
    pub fn new(pack: &VoicePack, clips: &[Clip]) -> AnnouncementSource {
        let segments: Vec<Segment> = clips
            .iter()
            .map(|c| match *c {
                Clip::Sound(id) => Segment::Samples(Arc::clone(pack.clip(id))),
                Clip::Gap(ms) => Segment::Silence(pack.gap_samples(ms)),
            })
            .filter(|s| s.len() > 0)
            .collect();
        let total = segments.iter().map(Segment::len).sum();
        AnnouncementSource {
            segments,
            // A loaded pack never has rate 0 (checked at load); MIN is a formality.
            sample_rate: NonZero::new(pack.sample_rate()).unwrap_or(NonZero::<u32>::MIN),
            segment: 0,
            pos: 0,
            remaining: total,
            total,
        }
    }

    /// Total number of samples (= frames, mono).
    pub fn len_samples(&self) -> usize {
        self.total
    }

    /// Next sample as i16 (what the WAV renderer writes).
    fn next_i16(&mut self) -> Option<i16> {
        loop {
            let seg = self.segments.get(self.segment)?;
            if self.pos < seg.len() {
                let s = match seg {
                    Segment::Samples(s) => s[self.pos],
                    Segment::Silence(_) => 0,
                };
                self.pos += 1;
                self.remaining -= 1;
                return Some(s);
            }
            self.segment += 1;
            self.pos = 0;
        }
    }
}

impl Iterator for AnnouncementSource {
    type Item = rodio::Sample;

    fn next(&mut self) -> Option<rodio::Sample> {
        self.next_i16().map(|s| rodio::Sample::from(s) / 32768.0)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for AnnouncementSource {}

impl Source for AnnouncementSource {
    fn current_span_len(&self) -> Option<usize> {
        // One span: channels and rate never change.
        None
    }

    fn channels(&self) -> ChannelCount {
        MONO
    }

    fn sample_rate(&self) -> SampleRate {
        self.sample_rate
    }

    fn total_duration(&self) -> Option<Duration> {
        Some(Duration::from_nanos(
            (self.total as u64).saturating_mul(1_000_000_000) / u64::from(self.sample_rate.get()),
        ))
    }
}

/// Renders a clip sequence as a complete WAV file (RIFF, PCM 16-bit mono, the
/// pack's sample rate). Pure and cheap: one allocation of the exact size.
/// Its sample count is exactly [`VoicePack::samples_len`].
pub fn render_wav(pack: &VoicePack, clips: &[Clip]) -> Vec<u8> {
    let n = pack.samples_len(clips);
    // A WAV file cannot exceed 4 GiB; an announcement is a few seconds.
    // Cap the data rather than write an invalid header.
    let n = n.min((u32::MAX as usize - 36) / 2);
    let data_len = (n * 2) as u32;
    let rate = pack.sample_rate();
    let mut out = Vec::with_capacity(44 + n * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes()); // byte rate
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    let mut written = 0usize;
    for c in clips {
        if written >= n {
            break;
        }
        match *c {
            Clip::Sound(id) => {
                for &s in pack.clip(id).iter().take(n - written) {
                    out.extend_from_slice(&s.to_le_bytes());
                    written += 1;
                }
            }
            Clip::Gap(ms) => {
                let k = pack.gap_samples(ms).min(n - written);
                out.resize(out.len() + k * 2, 0);
                written += k;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clips::ClipId;
    use crate::compose::{compose, compose_repeated, Lang};
    use crate::event::{Announcement, AnnouncementKind};

    fn pack() -> VoicePack {
        VoicePack::builtin().expect("builtin pack")
    }

    fn call() -> Announcement {
        Announcement {
            seq: Some(17),
            at: None,
            hall: None,
            kind: AnnouncementKind::Call {
                number: "A012".into(),
                window: 12,
                recall: false,
            },
        }
    }

    /// Independent of `VoicePack::samples_len`: recomputed from clip lengths
    /// and gap milliseconds.
    fn expected_samples(pack: &VoicePack, clips: &[Clip]) -> usize {
        let mut n = 0;
        for c in clips {
            match *c {
                Clip::Sound(id) => n += pack.clip(id).len(),
                Clip::Gap(ms) => n += usize::from(ms) * 22_050 / 1000,
            }
        }
        n
    }

    #[test]
    fn wav_length_is_exactly_clips_plus_gaps() {
        let pack = pack();
        for lang in [Lang::Zh, Lang::ZhEn] {
            for times in 1..=3 {
                let clips = compose_repeated(&call(), lang, times);
                let wav = render_wav(&pack, &clips);
                let reader = hound::WavReader::new(std::io::Cursor::new(&wav)).expect("valid wav");
                let spec = reader.spec();
                assert_eq!(spec.channels, 1);
                assert_eq!(spec.sample_rate, 22_050);
                assert_eq!(spec.bits_per_sample, 16);
                assert_eq!(spec.sample_format, hound::SampleFormat::Int);
                let want = expected_samples(&pack, &clips);
                assert_eq!(reader.len() as usize, want);
                assert_eq!(reader.duration() as usize, want);
                assert_eq!(wav.len(), 44 + 2 * want);
            }
        }
    }

    #[test]
    fn wav_contains_the_clips_in_order_with_silent_gaps() {
        let pack = pack();
        let clips = compose(&call(), Lang::Zh);
        let wav = render_wav(&pack, &clips);
        let samples: Vec<i16> = hound::WavReader::new(std::io::Cursor::new(&wav))
            .expect("valid wav")
            .samples::<i16>()
            .collect::<Result<_, _>>()
            .expect("samples");
        let mut at = 0;
        for c in &clips {
            match *c {
                Clip::Sound(id) => {
                    let clip = pack.clip(id);
                    assert_eq!(&samples[at..at + clip.len()], &clip[..], "{}", id.name());
                    at += clip.len();
                }
                Clip::Gap(ms) => {
                    let k = pack.gap_samples(ms);
                    assert!(samples[at..at + k].iter().all(|&s| s == 0));
                    at += k;
                }
            }
        }
        assert_eq!(at, samples.len());
    }

    #[test]
    fn source_yields_the_same_samples_as_the_wav() {
        let pack = pack();
        let clips = compose(&call(), Lang::ZhEn);
        let wav = render_wav(&pack, &clips);
        let from_wav: Vec<i16> = hound::WavReader::new(std::io::Cursor::new(&wav))
            .expect("valid wav")
            .samples::<i16>()
            .collect::<Result<_, _>>()
            .expect("samples");
        let src = AnnouncementSource::new(&pack, &clips);
        assert_eq!(src.channels().get(), 1);
        assert_eq!(src.sample_rate().get(), 22_050);
        assert_eq!(src.len_samples(), from_wav.len());
        assert_eq!(src.size_hint(), (from_wav.len(), Some(from_wav.len())));
        assert_eq!(src.total_duration(), Some(pack.duration(&clips)));
        let from_src: Vec<i16> = src.map(|s| (s * 32768.0) as i16).collect();
        assert_eq!(from_src, from_wav);
    }

    #[test]
    fn empty_sequence_is_a_valid_empty_wav() {
        let pack = pack();
        let wav = render_wav(&pack, &[]);
        assert_eq!(wav.len(), 44);
        let reader = hound::WavReader::new(std::io::Cursor::new(&wav)).expect("valid wav");
        assert_eq!(reader.len(), 0);
        assert_eq!(AnnouncementSource::new(&pack, &[]).next(), None);
        let only_gap = [Clip::Gap(100)];
        assert_eq!(AnnouncementSource::new(&pack, &only_gap).count(), 2205);
        let one = [Clip::Sound(ClipId::Chime)];
        assert_eq!(
            hound::WavReader::new(std::io::Cursor::new(render_wav(&pack, &one)))
                .expect("valid")
                .duration(),
            30_870 // 1.4 s at 22050 Hz
        );
    }
}
