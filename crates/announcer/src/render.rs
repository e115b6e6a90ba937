//! Clip sequence → samples: a rodio [`Source`] for the speaker, and a WAV file
//! in memory for `GET /api/v1/halls/{hall}/announcements/{seq}.wav`.

use std::num::NonZero;
use std::sync::Arc;
use std::time::Duration;

use rodio::{ChannelCount, SampleRate, Source};

use crate::clips::Clip;
use crate::pack::VoicePack;

const MONO: ChannelCount = NonZero::<u16>::MIN;

/// One clip placed on the announcement's timeline.
#[derive(Clone, Debug)]
pub(crate) struct Placement {
    samples: Arc<[i16]>,
    /// First sample's position in the announcement.
    start: usize,
    /// Linear fade-in over this many samples (the crossfade with the clip before).
    fade_in: usize,
    /// Linear fade-out over this many samples (the crossfade with the clip after).
    fade_out: usize,
}

impl Placement {
    fn end(&self) -> usize {
        self.start + self.samples.len()
    }

    /// The clip's sample at absolute position `pos` (inside the clip), with
    /// its fades applied. Gains of a crossfade pair sum to exactly 1.
    fn at(&self, pos: usize) -> f32 {
        let k = pos - self.start;
        let len = self.samples.len();
        let s = f32::from(self.samples[k]);
        let mut g = 1.0f32;
        if k < self.fade_in {
            g *= (k + 1) as f32 / (self.fade_in + 1) as f32;
        }
        if k + self.fade_out >= len {
            g *= (len - k) as f32 / (self.fade_out + 1) as f32;
        }
        s * g
    }
}

/// Lays a clip sequence out: where each clip starts, and its crossfades.
/// Returns the placements (sorted by start) and the total length in samples.
pub(crate) fn layout(pack: &VoicePack, clips: &[Clip]) -> (Vec<Placement>, usize) {
    let mut placed: Vec<Placement> = Vec::with_capacity(clips.len());
    let mut pos = 0usize;
    // Overlap requested by a Crossfade that comes right after a sound.
    let mut overlap = 0usize;
    // Whether the last thing on the timeline is a sound (no gap after it).
    let mut after_sound = false;
    for c in clips {
        match *c {
            Clip::Sound(id) => {
                let samples = Arc::clone(pack.clip(id));
                if samples.is_empty() {
                    continue;
                }
                let mut fade_in = 0;
                let mut start = pos;
                if after_sound && overlap > 0 {
                    if let Some(prev) = placed.last_mut() {
                        let ov = overlap.min(prev.samples.len() / 2).min(samples.len() / 2);
                        prev.fade_out = prev.fade_out.max(ov);
                        fade_in = ov;
                        start = pos - ov;
                    }
                }
                pos = start + samples.len();
                placed.push(Placement {
                    samples,
                    start,
                    fade_in,
                    fade_out: 0,
                });
                after_sound = true;
                overlap = 0;
            }
            Clip::Gap(ms) => {
                pos += pack.gap_samples(ms);
                after_sound = false;
                overlap = 0;
            }
            Clip::Crossfade(ms) => {
                if after_sound {
                    overlap = pack.gap_samples(ms);
                }
            }
        }
    }
    (placed, pos)
}

/// A composed announcement as a rodio source: mono f32 at the pack's rate,
/// mixed on the fly from the pack's cached clips (nothing is decoded or
/// copied here; the first sample is ready as soon as the layout is).
#[derive(Clone, Debug)]
pub struct AnnouncementSource {
    placements: Vec<Placement>,
    sample_rate: SampleRate,
    /// Next placement not yet started.
    next: usize,
    /// Placements sounding at `pos` (at most two: a crossfade pair).
    active: Vec<usize>,
    /// Position at which `active` must be recomputed (a clip starts or ends).
    next_change: usize,
    pos: usize,
    total: usize,
}

impl AnnouncementSource {
    /// Builds the source; cost is one `Arc` clone per clip.
    pub fn new(pack: &VoicePack, clips: &[Clip]) -> AnnouncementSource {
        let (placements, total) = layout(pack, clips);
        AnnouncementSource {
            placements,
            // A loaded pack never has rate 0 (checked at load); MIN is a formality.
            sample_rate: NonZero::new(pack.sample_rate()).unwrap_or(NonZero::<u32>::MIN),
            next: 0,
            active: Vec::with_capacity(2),
            next_change: 0,
            pos: 0,
            total,
        }
    }

    /// Total number of samples (= frames, mono).
    pub fn len_samples(&self) -> usize {
        self.total
    }

    /// Recomputes the clips sounding at `pos` and when that changes next.
    fn update_active(&mut self) {
        let pos = self.pos;
        while let Some(p) = self.placements.get(self.next) {
            if p.start > pos {
                break;
            }
            self.active.push(self.next);
            self.next += 1;
        }
        let placements = &self.placements;
        self.active.retain(|&i| placements[i].end() > pos);
        let next_start = placements.get(self.next).map_or(usize::MAX, |p| p.start);
        let first_end = self
            .active
            .iter()
            .map(|&i| placements[i].end())
            .min()
            .unwrap_or(usize::MAX);
        self.next_change = next_start.min(first_end);
    }

    /// The single clip sounding, unfaded, if that is the case at `pos`.
    fn plain(&self) -> Option<&Placement> {
        match self.active.as_slice() {
            [i] => {
                let p = &self.placements[*i];
                (p.fade_in == 0 && p.fade_out == 0).then_some(p)
            }
            _ => None,
        }
    }

    fn mixed(&self, pos: usize) -> i16 {
        if self.active.is_empty() {
            return 0;
        }
        let sum: f32 = self
            .active
            .iter()
            .map(|&i| self.placements[i].at(pos))
            .sum();
        sum.round().clamp(-32768.0, 32767.0) as i16
    }

    /// Next sample as i16 (what the WAV renderer writes).
    fn next_i16(&mut self) -> Option<i16> {
        if self.pos >= self.total {
            return None;
        }
        if self.pos >= self.next_change {
            self.update_active();
        }
        let pos = self.pos;
        let s = match self.plain() {
            Some(p) => p.samples[pos - p.start],
            None => self.mixed(pos),
        };
        self.pos += 1;
        Some(s)
    }

    /// Appends up to `max` of the remaining samples to `out`, a whole stretch
    /// of one clip or silence at a time. Same samples as [`Self::next`].
    fn fill(&mut self, out: &mut Vec<i16>, max: usize) {
        let stop = self.total.min(self.pos.saturating_add(max));
        while self.pos < stop {
            if self.pos >= self.next_change {
                self.update_active();
            }
            let end = self.next_change.min(stop);
            if let Some(p) = self.plain() {
                out.extend_from_slice(&p.samples[self.pos - p.start..end - p.start]);
            } else if self.active.is_empty() {
                out.resize(out.len() + (end - self.pos), 0);
            } else {
                for pos in self.pos..end {
                    out.push(self.mixed(pos));
                }
            }
            self.pos = end;
        }
    }
}

impl Iterator for AnnouncementSource {
    type Item = rodio::Sample;

    fn next(&mut self) -> Option<rodio::Sample> {
        self.next_i16().map(|s| rodio::Sample::from(s) / 32768.0)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = self.total - self.pos;
        (remaining, Some(remaining))
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

/// The samples of a clip sequence (mono 16-bit at the pack's rate), exactly
/// what [`render_wav`] writes and [`AnnouncementSource`] plays.
pub fn render_samples(pack: &VoicePack, clips: &[Clip]) -> Vec<i16> {
    let mut src = AnnouncementSource::new(pack, clips);
    let mut out = Vec::with_capacity(src.total);
    src.fill(&mut out, usize::MAX);
    out
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
    let samples = {
        let mut src = AnnouncementSource::new(pack, clips);
        let mut v = Vec::with_capacity(n);
        src.fill(&mut v, n);
        v
    };
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
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

    fn call(window: u32) -> Announcement {
        Announcement {
            seq: Some(17),
            at: None,
            hall: None,
            kind: AnnouncementKind::Call {
                number: "A012".into(),
                window,
                recall: false,
            },
        }
    }

    fn samples_of(wav: &[u8]) -> Vec<i16> {
        hound::WavReader::new(std::io::Cursor::new(wav))
            .expect("valid wav")
            .samples::<i16>()
            .collect::<Result<_, _>>()
            .expect("samples")
    }

    /// Independent of `layout`: clip lengths plus gaps minus crossfade
    /// overlaps (half the shorter clip at most).
    fn expected_samples(pack: &VoicePack, clips: &[Clip]) -> usize {
        let mut n = 0;
        let mut prev: Option<usize> = None;
        let mut overlap = 0;
        for c in clips {
            match *c {
                Clip::Sound(id) => {
                    let len = pack.clip(id).len();
                    if let Some(p) = prev {
                        n -= overlap.min(p / 2).min(len / 2);
                    }
                    n += len;
                    prev = Some(len);
                    overlap = 0;
                }
                Clip::Gap(ms) => {
                    n += usize::from(ms) * 22_050 / 1000;
                    prev = None;
                }
                Clip::Crossfade(ms) => overlap = usize::from(ms) * 22_050 / 1000,
            }
        }
        n
    }

    #[test]
    fn wav_length_is_exactly_clips_plus_gaps_minus_crossfades() {
        let pack = pack();
        let voice = pack.default_voice();
        for lang in [Lang::Zh, Lang::ZhEn] {
            for times in 1..=3 {
                for window in [3, 12, 121] {
                    let clips = compose_repeated(&call(window), &voice, lang, times);
                    let wav = render_wav(&pack, &clips);
                    let reader =
                        hound::WavReader::new(std::io::Cursor::new(&wav)).expect("valid wav");
                    let spec = reader.spec();
                    assert_eq!(spec.channels, 1);
                    assert_eq!(spec.sample_rate, 22_050);
                    assert_eq!(spec.bits_per_sample, 16);
                    assert_eq!(spec.sample_format, hound::SampleFormat::Int);
                    let want = expected_samples(&pack, &clips);
                    assert_eq!(reader.len() as usize, want);
                    assert_eq!(pack.samples_len(&clips), want);
                    assert_eq!(wav.len(), 44 + 2 * want);
                }
            }
        }
    }

    #[test]
    fn wav_contains_the_clips_in_order_with_silent_gaps() {
        let pack = pack();
        // Window 3: no numeral with two parts, so no crossfade: exact copies.
        let clips = compose(&call(3), &pack.default_voice(), Lang::Zh);
        assert!(!clips.iter().any(|c| matches!(c, Clip::Crossfade(_))));
        let samples = samples_of(&render_wav(&pack, &clips));
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
                Clip::Crossfade(_) => unreachable!(),
            }
        }
        assert_eq!(at, samples.len());
    }

    #[test]
    fn a_crossfade_overlaps_the_two_clips_with_gains_summing_to_one() {
        let pack = pack();
        let (a, b) = (pack.clip(ClipId::ZhShi), pack.clip(ClipId::ZhDigit2));
        let clips = [
            Clip::Sound(ClipId::ZhShi),
            Clip::Crossfade(12),
            Clip::Sound(ClipId::ZhDigit2),
        ];
        let ov = pack.gap_samples(12);
        assert_eq!(ov, 264);
        let out = render_samples(&pack, &clips);
        assert_eq!(out.len(), a.len() + b.len() - ov);
        let cut = a.len() - ov;
        assert_eq!(&out[..cut], &a[..cut], "before the overlap: the first clip");
        assert_eq!(&out[a.len()..], &b[ov..], "after it: the second");
        for k in 0..ov {
            let (x, y) = (f32::from(a[cut + k]), f32::from(b[k]));
            let g_in = (k + 1) as f32 / (ov + 1) as f32;
            let want = (x * (1.0 - g_in) + y * g_in).round();
            assert!((f32::from(out[cut + k]) - want).abs() <= 1.0, "at {k}");
        }
        // A crossfade after a gap, or first, is ignored.
        let odd = [
            Clip::Crossfade(12),
            Clip::Sound(ClipId::ZhShi),
            Clip::Gap(10),
            Clip::Crossfade(12),
            Clip::Sound(ClipId::ZhDigit2),
        ];
        assert_eq!(
            render_samples(&pack, &odd).len(),
            a.len() + pack.gap_samples(10) + b.len()
        );
    }

    #[test]
    fn source_yields_the_same_samples_as_the_wav() {
        let pack = pack();
        let clips = compose(&call(12), &pack.default_voice(), Lang::ZhEn);
        let from_wav = samples_of(&render_wav(&pack, &clips));
        let src = AnnouncementSource::new(&pack, &clips);
        assert_eq!(src.channels().get(), 1);
        assert_eq!(src.sample_rate().get(), 22_050);
        assert_eq!(src.len_samples(), from_wav.len());
        assert_eq!(src.size_hint(), (from_wav.len(), Some(from_wav.len())));
        assert_eq!(src.total_duration(), Some(pack.duration(&clips)));
        let from_src: Vec<i16> = src.map(|s| (s * 32768.0) as i16).collect();
        assert_eq!(from_src, from_wav);
        assert_eq!(render_samples(&pack, &clips), from_wav);
        // Filled in odd-sized blocks: the same again.
        let mut src = AnnouncementSource::new(&pack, &clips);
        let mut blocks = Vec::new();
        while blocks.len() < from_wav.len() {
            src.fill(&mut blocks, 777);
        }
        assert_eq!(blocks, from_wav);
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
