//! The closed set of clips a voice pack provides, and the [`Clip`] data value
//! that an announcement is composed of.
//!
//! Generated list; keep it in the same order as `sounds/make-voice-pack.sh`
//! writes files (the order only matters for readability).

use serde::{Serialize, Serializer};

macro_rules! clip_table {
    ($($variant:ident = $file:literal => $text:literal,)*) => {
        /// One recorded clip of a voice pack. The file is `{pack}/{name}.wav`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(missing_docs)]
        pub enum ClipId {
            $($variant,)*
        }

        impl ClipId {
            /// Every clip a complete voice pack must contain.
            pub const ALL: &'static [ClipId] = &[$(ClipId::$variant,)*];

            /// File name inside the pack directory, without `.wav` (ASCII).
            pub const fn name(self) -> &'static str {
                match self {
                    $(ClipId::$variant => $file,)*
                }
            }

            /// What the clip says (for humans recording a pack, and for tests).
            pub const fn text(self) -> &'static str {
                match self {
                    $(ClipId::$variant => $text,)*
                }
            }
        }

        /// The bundled pack (`sounds/`), embedded at build time so that the
        /// product needs neither the files nor espeak-ng/sox at run time.
        pub(crate) const BUILTIN_WAVS: &[&[u8]] = &[
            $(include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../sounds/", $file, ".wav")),)*
        ];
    };
}

clip_table! {
    Chime = "chime" => "（提示音）",
    ZhDigit0 = "zh/digit_0" => "零",
    ZhDigit1 = "zh/digit_1" => "一",
    ZhDigit2 = "zh/digit_2" => "二",
    ZhDigit3 = "zh/digit_3" => "三",
    ZhDigit4 = "zh/digit_4" => "四",
    ZhDigit5 = "zh/digit_5" => "五",
    ZhDigit6 = "zh/digit_6" => "六",
    ZhDigit7 = "zh/digit_7" => "七",
    ZhDigit8 = "zh/digit_8" => "八",
    ZhDigit9 = "zh/digit_9" => "九",
    ZhShi = "zh/shi" => "十",
    ZhBai = "zh/bai" => "百",
    ZhQian = "zh/qian" => "千",
    ZhWan = "zh/wan" => "万",
    ZhLiang = "zh/liang" => "两",
    ZhQing = "zh/qing" => "请",
    ZhHao = "zh/hao" => "号",
    ZhDao = "zh/dao" => "到",
    ZhChuangkou = "zh/chuangkou" => "窗口",
    ZhBanli = "zh/banli" => "办理",
    ZhTidalOpened = "zh/tidal_opened" => "潮汐窗口已开放",
    ZhPaused = "zh/paused" => "暂停服务",
    ZhTai = "zh/tai" => "台",
    ZhRoom = "zh/room" => "室",
    ZhGuitai = "zh/guitai" => "柜台",
    ZhQianwang = "zh/qianwang" => "前往",
    ZhHaoDao = "zh/hao_dao" => "号到",
    ZhHaoChuangkou = "zh/hao_chuangkou" => "号窗口",
    ZhHaoChuangkouBanli = "zh/hao_chuangkou_banli" => "号窗口办理",
    ZhLetterA = "zh/letter_A" => "A",
    ZhLetterB = "zh/letter_B" => "B",
    ZhLetterC = "zh/letter_C" => "C",
    ZhLetterD = "zh/letter_D" => "D",
    ZhLetterE = "zh/letter_E" => "E",
    ZhLetterF = "zh/letter_F" => "F",
    ZhLetterG = "zh/letter_G" => "G",
    ZhLetterH = "zh/letter_H" => "H",
    ZhLetterI = "zh/letter_I" => "I",
    ZhLetterJ = "zh/letter_J" => "J",
    ZhLetterK = "zh/letter_K" => "K",
    ZhLetterL = "zh/letter_L" => "L",
    ZhLetterM = "zh/letter_M" => "M",
    ZhLetterN = "zh/letter_N" => "N",
    ZhLetterO = "zh/letter_O" => "O",
    ZhLetterP = "zh/letter_P" => "P",
    ZhLetterQ = "zh/letter_Q" => "Q",
    ZhLetterR = "zh/letter_R" => "R",
    ZhLetterS = "zh/letter_S" => "S",
    ZhLetterT = "zh/letter_T" => "T",
    ZhLetterU = "zh/letter_U" => "U",
    ZhLetterV = "zh/letter_V" => "V",
    ZhLetterW = "zh/letter_W" => "W",
    ZhLetterX = "zh/letter_X" => "X",
    ZhLetterY = "zh/letter_Y" => "Y",
    ZhLetterZ = "zh/letter_Z" => "Z",
    EnDigit0 = "en/digit_0" => "zero",
    EnDigit1 = "en/digit_1" => "one",
    EnDigit2 = "en/digit_2" => "two",
    EnDigit3 = "en/digit_3" => "three",
    EnDigit4 = "en/digit_4" => "four",
    EnDigit5 = "en/digit_5" => "five",
    EnDigit6 = "en/digit_6" => "six",
    EnDigit7 = "en/digit_7" => "seven",
    EnDigit8 = "en/digit_8" => "eight",
    EnDigit9 = "en/digit_9" => "nine",
    En10 = "en/n_10" => "ten",
    En11 = "en/n_11" => "eleven",
    En12 = "en/n_12" => "twelve",
    En13 = "en/n_13" => "thirteen",
    En14 = "en/n_14" => "fourteen",
    En15 = "en/n_15" => "fifteen",
    En16 = "en/n_16" => "sixteen",
    En17 = "en/n_17" => "seventeen",
    En18 = "en/n_18" => "eighteen",
    En19 = "en/n_19" => "nineteen",
    En20 = "en/n_20" => "twenty",
    En30 = "en/n_30" => "thirty",
    En40 = "en/n_40" => "forty",
    En50 = "en/n_50" => "fifty",
    En60 = "en/n_60" => "sixty",
    En70 = "en/n_70" => "seventy",
    En80 = "en/n_80" => "eighty",
    En90 = "en/n_90" => "ninety",
    EnHundred = "en/hundred" => "hundred",
    EnThousand = "en/thousand" => "thousand",
    EnNumber = "en/number" => "number",
    EnPlease = "en/please" => "please",
    EnGo = "en/go" => "go",
    EnTo = "en/to" => "to",
    EnWindow = "en/window" => "window",
    EnIs = "en/is" => "is",
    EnNow = "en/now" => "now",
    EnOpen = "en/open" => "open",
    EnPaused = "en/paused" => "paused",
    EnCounter = "en/counter" => "counter",
    EnRoom = "en/room" => "room",
    EnPleaseGoToWindow = "en/please_go_to_window" => "please go to window",
    EnIsNowOpen = "en/is_now_open" => "is now open",
    EnIsPaused = "en/is_paused" => "is paused",
    EnLetterA = "en/letter_A" => "A",
    EnLetterB = "en/letter_B" => "B",
    EnLetterC = "en/letter_C" => "C",
    EnLetterD = "en/letter_D" => "D",
    EnLetterE = "en/letter_E" => "E",
    EnLetterF = "en/letter_F" => "F",
    EnLetterG = "en/letter_G" => "G",
    EnLetterH = "en/letter_H" => "H",
    EnLetterI = "en/letter_I" => "I",
    EnLetterJ = "en/letter_J" => "J",
    EnLetterK = "en/letter_K" => "K",
    EnLetterL = "en/letter_L" => "L",
    EnLetterM = "en/letter_M" => "M",
    EnLetterN = "en/letter_N" => "N",
    EnLetterO = "en/letter_O" => "O",
    EnLetterP = "en/letter_P" => "P",
    EnLetterQ = "en/letter_Q" => "Q",
    EnLetterR = "en/letter_R" => "R",
    EnLetterS = "en/letter_S" => "S",
    EnLetterT = "en/letter_T" => "T",
    EnLetterU = "en/letter_U" => "U",
    EnLetterV = "en/letter_V" => "V",
    EnLetterW = "en/letter_W" => "W",
    EnLetterX = "en/letter_X" => "X",
    EnLetterY = "en/letter_Y" => "Y",
    EnLetterZ = "en/letter_Z" => "Z",
}

impl ClipId {
    /// Clips a loaded pack may lack: the words only custom templates use
    /// (台, 室, 柜台, 前往, counter, room) and the phrases said in one
    /// utterance (号到, 号窗口, 号窗口办理, please go to window, is now open,
    /// is paused). Without a phrase the announcer
    /// joins its words; a template that needs a missing word is refused when
    /// the voice settings are loaded, naming the file.
    pub const fn is_optional(self) -> bool {
        matches!(
            self,
            ClipId::ZhTai
                | ClipId::ZhRoom
                | ClipId::ZhGuitai
                | ClipId::ZhQianwang
                | ClipId::ZhHaoDao
                | ClipId::ZhHaoChuangkou
                | ClipId::ZhHaoChuangkouBanli
                | ClipId::EnCounter
                | ClipId::EnRoom
                | ClipId::EnPleaseGoToWindow
                | ClipId::EnIsNowOpen
                | ClipId::EnIsPaused
        )
    }

    /// `true` for the Mandarin clips (`zh/…`), `false` for English and the chime.
    pub fn is_zh(self) -> bool {
        self.name().starts_with("zh/")
    }

    /// `true` for the English clips (`en/…`).
    pub fn is_en(self) -> bool {
        self.name().starts_with("en/")
    }

    /// Looks a clip up by its file name (`"zh/qing"`).
    pub fn from_name(name: &str) -> Option<ClipId> {
        ClipId::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// Position in [`ClipId::ALL`] (dense index used by the voice pack).
    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

impl Serialize for ClipId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Mandarin digits 零..九.
pub const ZH_DIGITS: [ClipId; 10] = [
    ClipId::ZhDigit0,
    ClipId::ZhDigit1,
    ClipId::ZhDigit2,
    ClipId::ZhDigit3,
    ClipId::ZhDigit4,
    ClipId::ZhDigit5,
    ClipId::ZhDigit6,
    ClipId::ZhDigit7,
    ClipId::ZhDigit8,
    ClipId::ZhDigit9,
];
/// English digits zero..nine.
pub const EN_DIGITS: [ClipId; 10] = [
    ClipId::EnDigit0,
    ClipId::EnDigit1,
    ClipId::EnDigit2,
    ClipId::EnDigit3,
    ClipId::EnDigit4,
    ClipId::EnDigit5,
    ClipId::EnDigit6,
    ClipId::EnDigit7,
    ClipId::EnDigit8,
    ClipId::EnDigit9,
];
/// English ten..nineteen.
pub const EN_TEENS: [ClipId; 10] = [
    ClipId::En10,
    ClipId::En11,
    ClipId::En12,
    ClipId::En13,
    ClipId::En14,
    ClipId::En15,
    ClipId::En16,
    ClipId::En17,
    ClipId::En18,
    ClipId::En19,
];
/// English twenty, thirty, .. ninety (index 0 is twenty).
pub const EN_TENS: [ClipId; 8] = [
    ClipId::En20,
    ClipId::En30,
    ClipId::En40,
    ClipId::En50,
    ClipId::En60,
    ClipId::En70,
    ClipId::En80,
    ClipId::En90,
];
/// Latin letters as read in Mandarin announcements.
pub const ZH_LETTERS: [ClipId; 26] = [
    ClipId::ZhLetterA,
    ClipId::ZhLetterB,
    ClipId::ZhLetterC,
    ClipId::ZhLetterD,
    ClipId::ZhLetterE,
    ClipId::ZhLetterF,
    ClipId::ZhLetterG,
    ClipId::ZhLetterH,
    ClipId::ZhLetterI,
    ClipId::ZhLetterJ,
    ClipId::ZhLetterK,
    ClipId::ZhLetterL,
    ClipId::ZhLetterM,
    ClipId::ZhLetterN,
    ClipId::ZhLetterO,
    ClipId::ZhLetterP,
    ClipId::ZhLetterQ,
    ClipId::ZhLetterR,
    ClipId::ZhLetterS,
    ClipId::ZhLetterT,
    ClipId::ZhLetterU,
    ClipId::ZhLetterV,
    ClipId::ZhLetterW,
    ClipId::ZhLetterX,
    ClipId::ZhLetterY,
    ClipId::ZhLetterZ,
];
/// Latin letters as read in English.
pub const EN_LETTERS: [ClipId; 26] = [
    ClipId::EnLetterA,
    ClipId::EnLetterB,
    ClipId::EnLetterC,
    ClipId::EnLetterD,
    ClipId::EnLetterE,
    ClipId::EnLetterF,
    ClipId::EnLetterG,
    ClipId::EnLetterH,
    ClipId::EnLetterI,
    ClipId::EnLetterJ,
    ClipId::EnLetterK,
    ClipId::EnLetterL,
    ClipId::EnLetterM,
    ClipId::EnLetterN,
    ClipId::EnLetterO,
    ClipId::EnLetterP,
    ClipId::EnLetterQ,
    ClipId::EnLetterR,
    ClipId::EnLetterS,
    ClipId::EnLetterT,
    ClipId::EnLetterU,
    ClipId::EnLetterV,
    ClipId::EnLetterW,
    ClipId::EnLetterX,
    ClipId::EnLetterY,
    ClipId::EnLetterZ,
];

/// One element of a composed announcement: a clip, a silence, or a crossfade
/// between two clips.
///
/// An announcement is a plain `Vec<Clip>`, computed by the pure
/// [`crate::compose`]; rendering and playback only follow it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Clip {
    /// Play this clip of the voice pack.
    Sound(ClipId),
    /// Silence of this many milliseconds.
    Gap(u16),
    /// The next sound starts this many milliseconds before the previous one
    /// ends, and the two are crossfaded (linear, gains summing to 1) over
    /// that overlap. Only between two sounds; elsewhere it is ignored.
    Crossfade(u16),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_ascii_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for (i, c) in ClipId::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
            assert!(c.name().is_ascii(), "{}", c.name());
            assert!(seen.insert(c.name()), "duplicate {}", c.name());
            assert_eq!(ClipId::from_name(c.name()), Some(*c));
        }
        assert_eq!(ClipId::ALL.len(), BUILTIN_WAVS.len());
        assert_eq!(ClipId::from_name("zh/nope"), None);
    }
}
