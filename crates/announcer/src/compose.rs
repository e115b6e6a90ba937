//! Announcement → clip sequence. Pure functions, no I/O, no voice pack.

use crate::clips::{Clip, ClipId, EN_DIGITS, EN_LETTERS, ZH_DIGITS, ZH_LETTERS};
use crate::event::{Announcement, AnnouncementKind};
use crate::number::{en_cardinal, zh_cardinal};

/// Silence after the chime.
pub const CHIME_GAP_MS: u16 = 350;
/// Silence between words (请 | A012 | 号 | 到 ...).
pub const WORD_GAP_MS: u16 = 90;
/// Silence between the characters of a ticket number (A | 零 | 一 | 二).
pub const TICKET_CHAR_GAP_MS: u16 = 70;
/// Silence inside a cardinal number (十 | 二).
pub const CARDINAL_GAP_MS: u16 = 15;
/// Silence between the Mandarin and the English sentence.
pub const LANG_GAP_MS: u16 = 600;
/// Silence between repetitions (`--repeat`).
pub const REPEAT_GAP_MS: u16 = 900;

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

/// Chime, then the sentence once. See [`compose_repeated`].
pub fn compose(announcement: &Announcement, lang: Lang) -> Vec<Clip> {
    compose_repeated(announcement, lang, 1)
}

/// Chime once, then the sentence(s) `times` times (at least once):
/// chime · zh [· en] [· zh [· en]] ...
///
/// A recall composes exactly like a call: it is said again because it is a
/// new event, not because it sounds different.
pub fn compose_repeated(announcement: &Announcement, lang: Lang, times: u32) -> Vec<Clip> {
    let mut b = Builder::default();
    b.sound(ClipId::Chime);
    b.gap(CHIME_GAP_MS);
    for i in 0..times.max(1) {
        if i > 0 {
            b.gap(REPEAT_GAP_MS);
        }
        zh_sentence(&announcement.kind, &mut b);
        if lang == Lang::ZhEn {
            b.gap(LANG_GAP_MS);
            en_sentence(&announcement.kind, &mut b);
        }
    }
    b.clips
}

fn zh_sentence(kind: &AnnouncementKind, b: &mut Builder) {
    match kind {
        AnnouncementKind::Call { number, window, .. } => {
            // 请 A012 号 到 3 号窗口 办理
            b.word(&[ClipId::ZhQing]);
            b.ticket(number, &ZH_DIGITS, &ZH_LETTERS);
            b.word(&[ClipId::ZhHao]);
            b.word(&[ClipId::ZhDao]);
            b.word(&zh_cardinal(u64::from(*window)));
            b.word(&[ClipId::ZhHao]);
            b.word(&[ClipId::ZhChuangkou]);
            b.word(&[ClipId::ZhBanli]);
        }
        AnnouncementKind::TidalOpened { window } => {
            // 七号 潮汐窗口已开放
            b.word(&zh_cardinal(u64::from(*window)));
            b.word(&[ClipId::ZhHao]);
            b.word(&[ClipId::ZhTidalOpened]);
        }
        AnnouncementKind::WindowPaused { window } => {
            // 三号窗口 暂停服务
            b.word(&zh_cardinal(u64::from(*window)));
            b.word(&[ClipId::ZhHao]);
            b.word(&[ClipId::ZhChuangkou]);
            b.word(&[ClipId::ZhPaused]);
        }
    }
}

fn en_sentence(kind: &AnnouncementKind, b: &mut Builder) {
    match kind {
        AnnouncementKind::Call { number, window, .. } => {
            // Number A012, please go to window 3
            b.word(&[ClipId::EnNumber]);
            b.ticket(number, &EN_DIGITS, &EN_LETTERS);
            b.word(&[ClipId::EnPlease]);
            b.word(&[ClipId::EnGo]);
            b.word(&[ClipId::EnTo]);
            b.word(&[ClipId::EnWindow]);
            b.word(&en_cardinal(u64::from(*window)));
        }
        AnnouncementKind::TidalOpened { window } => {
            // Window 7 is now open
            b.word(&[ClipId::EnWindow]);
            b.word(&en_cardinal(u64::from(*window)));
            b.word(&[ClipId::EnIs]);
            b.word(&[ClipId::EnNow]);
            b.word(&[ClipId::EnOpen]);
        }
        AnnouncementKind::WindowPaused { window } => {
            // Window 3 is paused
            b.word(&[ClipId::EnWindow]);
            b.word(&en_cardinal(u64::from(*window)));
            b.word(&[ClipId::EnIs]);
            b.word(&[ClipId::EnPaused]);
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

    /// A word: its parts are joined by [`CARDINAL_GAP_MS`].
    fn word(&mut self, parts: &[ClipId]) {
        self.start_word();
        for (i, &id) in parts.iter().enumerate() {
            if i > 0 {
                self.clips.push(Clip::Gap(CARDINAL_GAP_MS));
            }
            self.sound(id);
        }
        self.after_word = true;
    }

    /// A ticket number, character by character. Characters other than ASCII
    /// letters and digits are skipped (the parser never lets them through).
    fn ticket(&mut self, number: &str, digits: &[ClipId; 10], letters: &[ClipId; 26]) {
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
                self.clips.push(Clip::Gap(TICKET_CHAR_GAP_MS));
            }
            first = false;
            self.sound(id);
        }
        self.after_word = true;
    }
}

/// The clips' texts joined, gaps shown as `|` for word gaps and `‖` for long
/// ones, omitted inside words. For tests and logs: `"（提示音）‖请|A 零 一 二|号|..."`.
pub fn describe(clips: &[Clip]) -> String {
    let mut s = String::new();
    for c in clips {
        match *c {
            Clip::Sound(id) => s.push_str(id.text()),
            Clip::Gap(ms) if ms > WORD_GAP_MS => s.push('‖'),
            Clip::Gap(WORD_GAP_MS) => s.push('|'),
            Clip::Gap(TICKET_CHAR_GAP_MS) => s.push(' '),
            Clip::Gap(_) => {}
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clips::Clip::{Gap, Sound};
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

    #[test]
    fn a_call_exact_clip_sequence() {
        let clips = compose(&call("A012", 3, false), Lang::Zh);
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
                Sound(ZhHao),
                Gap(WORD_GAP_MS),
                Sound(ZhDao),
                Gap(WORD_GAP_MS),
                Sound(ZhDigit3),
                Gap(WORD_GAP_MS),
                Sound(ZhHao),
                Gap(WORD_GAP_MS),
                Sound(ZhChuangkou),
                Gap(WORD_GAP_MS),
                Sound(ZhBanli),
            ]
        );
        assert_eq!(
            describe(&clips),
            "（提示音）‖请|A 零 一 二|号|到|三|号|窗口|办理"
        );
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
                describe(&compose(&call("B7", w, false), Lang::Zh)),
                format!("（提示音）‖请|B 七|号|到|{said}|号|窗口|办理"),
                "window {w}"
            );
        }
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
                describe(&compose(&call(n, 1, false), Lang::Zh)),
                format!("（提示音）‖请|{said}|号|到|一|号|窗口|办理")
            );
        }
    }

    #[test]
    fn a_recall_is_said_like_a_call() {
        assert_eq!(
            compose(&call("A012", 3, true), Lang::Zh),
            compose(&call("A012", 3, false), Lang::Zh)
        );
        assert_eq!(
            compose(&call("A012", 3, true), Lang::ZhEn),
            compose(&call("A012", 3, false), Lang::ZhEn)
        );
    }

    #[test]
    fn zh_en() {
        let clips = compose(&call("A012", 12, false), Lang::ZhEn);
        assert_eq!(
            describe(&clips),
            "（提示音）‖请|A 零 一 二|号|到|十二|号|窗口|办理‖number|A zero one two|please|go|to|window|twelve"
        );
        assert_eq!(
            describe(&compose(&call("A012", 21, false), Lang::ZhEn)),
            "（提示音）‖请|A 零 一 二|号|到|二十一|号|窗口|办理‖number|A zero one two|please|go|to|window|twentyone"
        );
        assert_eq!(
            clips.iter().filter(|c| **c == Sound(ClipId::Chime)).count(),
            1
        );
    }

    #[test]
    fn lang_spellings() {
        for (s, l) in [
            ("zh", Lang::Zh),
            ("zh+en", Lang::ZhEn),
            ("zh en", Lang::ZhEn),
            ("ZH-EN", Lang::ZhEn),
        ] {
            assert_eq!(s.parse::<Lang>(), Ok(l), "{s}");
        }
        assert!("en".parse::<Lang>().is_err());
        assert_eq!(Lang::ZhEn.to_string(), "zh+en");
        assert_eq!(Lang::Zh.to_string().parse::<Lang>(), Ok(Lang::Zh));
    }

    #[test]
    fn tidal_and_paused() {
        let tidal = of(AnnouncementKind::TidalOpened { window: 7 });
        assert_eq!(
            describe(&compose(&tidal, Lang::Zh)),
            "（提示音）‖七|号|潮汐窗口已开放"
        );
        assert_eq!(
            describe(&compose(&tidal, Lang::ZhEn)),
            "（提示音）‖七|号|潮汐窗口已开放‖window|seven|is|now|open"
        );
        let paused = of(AnnouncementKind::WindowPaused { window: 3 });
        assert_eq!(
            describe(&compose(&paused, Lang::Zh)),
            "（提示音）‖三|号|窗口|暂停服务"
        );
        assert_eq!(
            describe(&compose(&paused, Lang::ZhEn)),
            "（提示音）‖三|号|窗口|暂停服务‖window|three|is|paused"
        );
    }

    #[test]
    fn from_wire_json_to_clips() {
        let ev = json!({"seq":18,"type":"window_opened","window":11,"tidal":true});
        let a = Announcement::from_event(&ev).expect("tidal");
        assert_eq!(
            describe(&compose(&a, Lang::Zh)),
            "（提示音）‖十一|号|潮汐窗口已开放"
        );
    }

    #[test]
    fn repeat_says_the_sentence_again_after_one_chime() {
        let once = compose(&call("A1", 2, false), Lang::Zh);
        let twice = compose_repeated(&call("A1", 2, false), Lang::Zh, 2);
        assert_eq!(
            describe(&twice),
            "（提示音）‖请|A 一|号|到|二|号|窗口|办理‖请|A 一|号|到|二|号|窗口|办理"
        );
        assert_eq!(twice[once.len()], Gap(REPEAT_GAP_MS));
        assert_eq!(compose_repeated(&call("A1", 2, false), Lang::Zh, 0), once);
        let zhen2 = compose_repeated(&call("A1", 2, false), Lang::ZhEn, 2);
        assert_eq!(
            describe(&zhen2),
            "（提示音）‖请|A 一|号|到|二|号|窗口|办理‖number|A one|please|go|to|window|two\
             ‖请|A 一|号|到|二|号|窗口|办理‖number|A one|please|go|to|window|two"
        );
    }

    #[test]
    fn sequences_alternate_sound_and_gap_and_never_end_in_a_gap() {
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
                    let clips = compose_repeated(&of(kind.clone()), lang, 3);
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
