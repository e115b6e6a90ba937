//! Announcement → clip sequence. Pure functions, no I/O: what is said comes
//! from the compiled [`Voice`] settings, the pack only from the renderer.
//!
//! Joins: words of a phrase are [`WORD_GAP_MS`] apart, the characters of a
//! ticket number [`TICKET_CHAR_GAP_MS`], the parts of a numeral (十|二)
//! are crossfaded over [`CARDINAL_CROSSFADE_MS`]; punctuation in a template
//! is a [`PAUSE_MS`] pause. Every gap inside a sentence is ≤ 40 ms except
//! those a template asks for with punctuation.

use serde::{Deserialize, Deserializer};

use crate::clips::{Clip, ClipId, EN_DIGITS, EN_LETTERS, ZH_DIGITS, ZH_LETTERS};
use crate::event::{Announcement, AnnouncementKind};
use crate::number::{en_cardinal, zh_cardinal};
use crate::voice::{Part, Sentence, Voice};

/// Silence after the chime.
pub const CHIME_GAP_MS: u16 = 300;
/// Silence between the words of a phrase (请 | A012 | 号到 | ...).
pub const WORD_GAP_MS: u16 = 20;
/// Silence between the characters of a ticket number in Mandarin
/// (A | 零 | 一 | 二): a little more than between words, so each digit is
/// heard on its own, as halls read them. English reads them like words
/// ([`WORD_GAP_MS`]): its isolated digits are long enough already.
pub const TICKET_CHAR_GAP_MS: u16 = 35;
/// Crossfade between the parts of a numeral (十 | 二).
pub const CARDINAL_CROSSFADE_MS: u16 = 12;
/// Pause for punctuation in a template (，, .).
pub const PAUSE_MS: u16 = 120;
/// Silence between the Mandarin and the English sentence.
pub const LANG_GAP_MS: u16 = 600;
/// Default silence between repetitions ([`crate::VoiceConfig::repeat_gap_ms`]).
pub const REPEAT_GAP_MS: u16 = 1000;
/// Longest gap between two sounds of one phrase.
pub const MAX_JOIN_GAP_MS: u16 = 40;

/// Which languages an announcement is said in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Lang {
    /// 只说中文.
    #[default]
    #[value(name = "zh")]
    Zh,
    /// 中文之后再说英文.
    #[value(name = "zh+en")]
    ZhEn,
}

impl Lang {
    /// The command-line / query-string spelling: `zh` or `zh+en`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::ZhEn => "zh+en",
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Lang {
    type Err = String;

    /// `zh`, `zh+en`; also `zh-en`, `zh_en` and `zh en` (a `+` in a query
    /// string may arrive decoded as a space).
    fn from_str(s: &str) -> Result<Lang, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "cmn" => Ok(Lang::Zh),
            "zh+en" | "zh-en" | "zh_en" | "zh en" | "zhen" => Ok(Lang::ZhEn),
            other => Err(format!("未知播报语言 {other:?}（可用 zh、zh+en）")),
        }
    }
}

impl<'de> Deserialize<'de> for Lang {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Lang, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The whole announcement as `voice` says it in `lang`: chime (if on), then
/// the sentence(s) `voice.repeat()` times: chime · zh [· en] [· zh [· en]] ...
///
/// A recall composes exactly like a call: it is said again because it is a
/// new event, not because it sounds different.
pub fn compose(announcement: &Announcement, voice: &Voice, lang: Lang) -> Vec<Clip> {
    compose_repeated(announcement, voice, lang, voice.repeat())
}

/// [`compose`] with another number of repetitions (at least one).
pub fn compose_repeated(
    announcement: &Announcement,
    voice: &Voice,
    lang: Lang,
    times: u32,
) -> Vec<Clip> {
    let mut b = Builder::default();
    if voice.chime() {
        b.sound(ClipId::Chime);
        b.gap(CHIME_GAP_MS);
    }
    for i in 0..times.max(1) {
        if i > 0 {
            b.gap(voice.repeat_gap_ms());
        }
        sentence_into(&announcement.kind, voice, false, &mut b);
        if lang == Lang::ZhEn {
            b.gap(LANG_GAP_MS);
            sentence_into(&announcement.kind, voice, true, &mut b);
        }
    }
    b.finish()
}

/// One sentence alone (no chime, said once): Mandarin, or English when
/// `english`. What the length tests compare with a one-utterance synthesis.
pub fn sentence(announcement: &Announcement, voice: &Voice, english: bool) -> Vec<Clip> {
    let mut b = Builder::default();
    sentence_into(&announcement.kind, voice, english, &mut b);
    b.finish()
}

fn sentence_into(kind: &AnnouncementKind, voice: &Voice, english: bool, b: &mut Builder) {
    let (which, number, window) = match kind {
        AnnouncementKind::Call { number, window, .. } => (Sentence::Call, number.as_str(), *window),
        AnnouncementKind::TidalOpened { window } => (Sentence::TidalOpened, "", *window),
        AnnouncementKind::WindowPaused { window } => (Sentence::Paused, "", *window),
    };
    let (digits, letters) = if english {
        (&EN_DIGITS, &EN_LETTERS)
    } else {
        (&ZH_DIGITS, &ZH_LETTERS)
    };
    for part in voice.parts(english, which, window) {
        match part {
            Part::Words(ids) => {
                for &id in ids {
                    b.word(&[id]);
                }
            }
            Part::Pause => b.gap(PAUSE_MS),
            Part::Number => {
                let gap = if english {
                    WORD_GAP_MS
                } else {
                    TICKET_CHAR_GAP_MS
                };
                b.ticket(number, digits, letters, gap);
            }
            Part::Window => {
                if english {
                    b.word(&en_cardinal(u64::from(window)));
                } else {
                    b.word(&zh_cardinal(u64::from(window)));
                }
            }
        }
    }
}

/// Appends clips, putting exactly one gap between consecutive sounds.
#[derive(Default)]
struct Builder {
    clips: Vec<Clip>,
    /// Set when a word ended: the next word starts after a word gap.
    after_word: bool,
}

impl Builder {
    fn sound(&mut self, id: ClipId) {
        self.clips.push(Clip::Sound(id));
    }

    /// The clips, without a trailing gap.
    fn finish(mut self) -> Vec<Clip> {
        while matches!(self.clips.last(), Some(Clip::Gap(_) | Clip::Crossfade(_))) {
            self.clips.pop();
        }
        self.clips
    }

    /// Explicit gap; replaces a pending word gap.
    fn gap(&mut self, ms: u16) {
        self.after_word = false;
        if let Some(Clip::Gap(prev)) = self.clips.last_mut() {
            *prev = (*prev).max(ms);
        } else if !self.clips.is_empty() {
            self.clips.push(Clip::Gap(ms));
        }
    }

    fn start_word(&mut self) {
        if self.after_word {
            self.gap(WORD_GAP_MS);
        }
    }

    /// A word: its parts are crossfaded over [`CARDINAL_CROSSFADE_MS`].
    fn word(&mut self, parts: &[ClipId]) {
        self.start_word();
        for (i, &id) in parts.iter().enumerate() {
            if i > 0 {
                self.clips.push(Clip::Crossfade(CARDINAL_CROSSFADE_MS));
            }
            self.sound(id);
        }
        self.after_word = true;
    }

    /// A ticket number, character by character. Characters other than ASCII
    /// letters and digits are skipped (the parser never lets them through).
    fn ticket(&mut self, number: &str, digits: &[ClipId; 10], letters: &[ClipId; 26], gap: u16) {
        self.start_word();
        let mut first = true;
        for b in number.bytes() {
            let id = match b {
                b'0'..=b'9' => digits[usize::from(b - b'0')],
                b'A'..=b'Z' => letters[usize::from(b - b'A')],
                b'a'..=b'z' => letters[usize::from(b - b'a')],
                _ => continue,
            };
            if !first {
                self.clips.push(Clip::Gap(gap));
            }
            first = false;
            self.sound(id);
        }
        self.after_word = true;
    }
}

/// The clips' texts joined, gaps shown as `|` for word gaps, ` ` between
/// the characters of a ticket number, `,` for a pause and `‖` for longer
/// ones; crossfades inside words are not shown. For tests and logs:
/// `"（提示音）‖请|A 零 一 二|号到|十二|号窗口办理"`.
pub fn describe(clips: &[Clip]) -> String {
    let mut s = String::new();
    for c in clips {
        match *c {
            Clip::Sound(id) => s.push_str(id.text()),
            Clip::Gap(WORD_GAP_MS) => s.push('|'),
            Clip::Gap(TICKET_CHAR_GAP_MS) => s.push(' '),
            Clip::Gap(PAUSE_MS) => s.push(','),
            Clip::Gap(ms) if ms > MAX_JOIN_GAP_MS => s.push('‖'),
            Clip::Gap(_) | Clip::Crossfade(_) => {}
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clips::Clip::{Crossfade, Gap, Sound};
    use crate::pack::VoicePack;
    use crate::voice::VoiceConfig;
    use serde_json::json;

    fn call(number: &str, window: u32, recall: bool) -> Announcement {
        Announcement {
            seq: Some(1),
            at: None,
            hall: None,
            kind: AnnouncementKind::Call {
                number: number.into(),
                window,
                recall,
            },
        }
    }

    fn of(kind: AnnouncementKind) -> Announcement {
        Announcement {
            seq: None,
            at: None,
            hall: None,
            kind,
        }
    }

    /// The default voice, said once.
    fn once() -> Voice {
        voice(VoiceConfig {
            repeat: 1,
            ..VoiceConfig::default()
        })
    }

    fn voice(cfg: VoiceConfig) -> Voice {
        Voice::new(cfg, &VoicePack::builtin().expect("pack")).expect("voice")
    }

    #[test]
    fn a_call_exact_clip_sequence() {
        let clips = compose(&call("A012", 3, false), &once(), Lang::Zh);
        use ClipId::*;
        assert_eq!(
            clips,
            vec![
                Sound(Chime),
                Gap(CHIME_GAP_MS),
                Sound(ZhQing),
                Gap(WORD_GAP_MS),
                Sound(ZhLetterA),
                Gap(TICKET_CHAR_GAP_MS),
                Sound(ZhDigit0),
                Gap(TICKET_CHAR_GAP_MS),
                Sound(ZhDigit1),
                Gap(TICKET_CHAR_GAP_MS),
                Sound(ZhDigit2),
                Gap(WORD_GAP_MS),
                Sound(ZhHaoDao),
                Gap(WORD_GAP_MS),
                Sound(ZhDigit3),
                Gap(WORD_GAP_MS),
                Sound(ZhHaoChuangkouBanli),
            ]
        );
        assert_eq!(
            describe(&clips),
            "（提示音）‖请|A 零 一 二|号到|三|号窗口办理"
        );
    }

    #[test]
    fn every_join_inside_a_sentence_is_at_most_40_ms() {
        let v = voice(VoiceConfig {
            repeat: 3,
            lang: Lang::ZhEn,
            ..VoiceConfig::default()
        });
        for w in [1, 12, 101, 2024] {
            for lang in [Lang::Zh, Lang::ZhEn] {
                let clips = compose(&call("C1010", w, false), &v, lang);
                for c in &clips {
                    match *c {
                        Gap(ms) => assert!(
                            ms <= MAX_JOIN_GAP_MS
                                || ms == PAUSE_MS
                                || ms == CHIME_GAP_MS
                                || ms == LANG_GAP_MS
                                || ms == REPEAT_GAP_MS,
                            "{ms}"
                        ),
                        Crossfade(ms) => assert!(ms <= 20, "{ms}"),
                        Sound(_) => {}
                    }
                }
            }
        }
    }

    #[test]
    fn windows_are_read_as_cardinals() {
        for (w, said) in [
            (3, "三"),
            (10, "十"),
            (12, "十二"),
            (20, "二十"),
            (99, "九十九"),
            (101, "一百零一"),
            (110, "一百一十"),
            (1000, "一千"),
            (1024, "一千零二十四"),
        ] {
            assert_eq!(
                describe(&compose(&call("B7", w, false), &once(), Lang::Zh)),
                format!("（提示音）‖请|B 七|号到|{said}|号窗口办理"),
                "window {w}"
            );
        }
        // 十二: two clips crossfaded.
        let clips = compose(&call("B7", 12, false), &once(), Lang::Zh);
        let i = clips
            .iter()
            .position(|c| *c == Sound(ClipId::ZhShi))
            .expect("十");
        assert_eq!(clips[i + 1], Crossfade(CARDINAL_CROSSFADE_MS));
        assert_eq!(clips[i + 2], Sound(ClipId::ZhDigit2));
    }

    #[test]
    fn ticket_numbers_are_read_digit_by_digit() {
        for (n, said) in [
            ("A012", "A 零 一 二"),
            ("A100", "A 一 零 零"),
            ("0", "零"),
            ("ZX9", "Z X 九"),
            ("C1010", "C 一 零 一 零"),
        ] {
            assert_eq!(
                describe(&compose(&call(n, 1, false), &once(), Lang::Zh)),
                format!("（提示音）‖请|{said}|号到|一|号窗口办理")
            );
        }
    }

    #[test]
    fn a_recall_is_said_like_a_call() {
        for lang in [Lang::Zh, Lang::ZhEn] {
            assert_eq!(
                compose(&call("A012", 3, true), &once(), lang),
                compose(&call("A012", 3, false), &once(), lang)
            );
        }
    }

    #[test]
    fn zh_en() {
        let clips = compose(&call("A012", 12, false), &once(), Lang::ZhEn);
        assert_eq!(
            describe(&clips),
            "（提示音）‖请|A 零 一 二|号到|十二|号窗口办理‖number|A|zero|one|two,please go to window|twelve"
        );
        assert_eq!(
            describe(&compose(&call("A012", 21, false), &once(), Lang::ZhEn)),
            "（提示音）‖请|A 零 一 二|号到|二十一|号窗口办理‖number|A|zero|one|two,please go to window|twentyone"
        );
    }

    #[test]
    fn notices() {
        let tidal = of(AnnouncementKind::TidalOpened { window: 7 });
        assert_eq!(
            describe(&compose(&tidal, &once(), Lang::Zh)),
            "（提示音）‖七|号|潮汐窗口已开放"
        );
        assert_eq!(
            describe(&compose(&tidal, &once(), Lang::ZhEn)),
            "（提示音）‖七|号|潮汐窗口已开放‖window|seven|is now open"
        );
        let paused = of(AnnouncementKind::WindowPaused { window: 3 });
        assert_eq!(
            describe(&compose(&paused, &once(), Lang::Zh)),
            "（提示音）‖三|号窗口|暂停服务"
        );
        assert_eq!(
            describe(&compose(&paused, &once(), Lang::ZhEn)),
            "（提示音）‖三|号窗口|暂停服务‖window|three|is paused"
        );
    }

    #[test]
    fn from_wire_json_to_clips() {
        let ev = json!({"seq":18,"type":"window_opened","window":11,"tidal":true});
        let a = Announcement::from_event(&ev).expect("tidal");
        assert_eq!(
            describe(&compose(&a, &once(), Lang::Zh)),
            "（提示音）‖十一|号|潮汐窗口已开放"
        );
    }

    #[test]
    fn each_call_is_said_twice_by_default_after_one_chime() {
        let v = VoicePack::builtin().expect("pack").default_voice();
        let twice = compose(&call("A1", 2, false), &v, Lang::Zh);
        let single = compose(&call("A1", 2, false), &once(), Lang::Zh);
        assert_eq!(
            describe(&twice),
            "（提示音）‖请|A 一|号到|二|号窗口办理‖请|A 一|号到|二|号窗口办理"
        );
        assert_eq!(twice[single.len()], Gap(REPEAT_GAP_MS));
        assert_eq!(twice.len(), 2 * single.len() - 1);
        assert_eq!(
            compose_repeated(&call("A1", 2, false), &v, Lang::Zh, 0),
            single
        );
        let zhen2 = compose(&call("A1", 2, false), &v, Lang::ZhEn);
        assert_eq!(
            describe(&zhen2),
            "（提示音）‖请|A 一|号到|二|号窗口办理‖number|A|one,please go to window|two\
             ‖请|A 一|号到|二|号窗口办理‖number|A|one,please go to window|two"
        );
        // The gap and the chime are settings too.
        let v = voice(VoiceConfig {
            repeat: 3,
            repeat_gap_ms: 2500,
            chime: false,
            ..VoiceConfig::default()
        });
        let clips = compose(&call("A1", 2, false), &v, Lang::Zh);
        assert_eq!(clips[0], Sound(ClipId::ZhQing));
        assert_eq!(clips.iter().filter(|c| **c == Gap(2500)).count(), 2);
    }

    #[test]
    fn sequences_alternate_sound_and_join_and_never_end_in_a_gap() {
        let v = once();
        for w in [0, 1, 10, 15, 100, 999, 10_000, 123_456_789] {
            for kind in [
                AnnouncementKind::Call {
                    number: "K0".into(),
                    window: w,
                    recall: false,
                },
                AnnouncementKind::TidalOpened { window: w },
                AnnouncementKind::WindowPaused { window: w },
            ] {
                for lang in [Lang::Zh, Lang::ZhEn] {
                    let clips = compose_repeated(&of(kind.clone()), &v, lang, 3);
                    assert!(matches!(clips.first(), Some(Sound(ClipId::Chime))));
                    assert!(matches!(clips.last(), Some(Sound(_))));
                    for (i, c) in clips.iter().enumerate() {
                        assert_eq!(matches!(c, Sound(_)), i % 2 == 0, "{clips:?}");
                    }
                }
            }
        }
    }
}
