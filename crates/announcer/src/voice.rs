//! Voice settings (大厅广播设置): what a call says, how often, and how the
//! windows are named — read from the hall's TOML file and compiled against a
//! voice pack, so that every word a template uses is known to exist as a clip
//! before the first call arrives.
//!
//! ```toml
//! [[hall]]
//! id = "xili"
//! # ...
//! [hall.voice]
//! repeat = 2                                  # each call said twice (1–5)
//! repeat_gap_ms = 1000                        # silence between the repetitions
//! call_zh = "请{number}号到{window_name}办理"
//! window_name_zh = "{window}号窗口"            # every window's default name
//! window_names_zh = { 3 = "{window}号台", 2 = "{window}号室" }
//! ```
//!
//! See `docs/voice.md` for every key.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::clips::{ClipId, EN_DIGITS, EN_LETTERS, ZH_DIGITS, ZH_LETTERS};
use crate::compose::Lang;
use crate::error::AnnounceError;
use crate::pack::VoicePack;

/// Longest accepted `repeat`.
pub const MAX_REPEAT: u32 = 5;

/// The voice settings as written in the hall file (`[hall.voice]`), or in a
/// file of their own (a top-level `[voice]` table). Every key is optional.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VoiceConfig {
    /// `zh` or `zh+en`: the languages of each repetition. A `--lang` flag wins.
    pub lang: Lang,
    /// Times each call is said after one chime (1–5, default 2). A `--repeat` flag wins.
    pub repeat: u32,
    /// Silence between two repetitions (ms, default 1000).
    pub repeat_gap_ms: u16,
    /// Whether a chime comes first (default true).
    pub chime: bool,
    /// What a call says in Mandarin. Placeholders: `{number}` (the ticket,
    /// character by character), `{window}` (the window number as a Mandarin
    /// numeral), `{window_name}` (the window's name, below).
    pub call_zh: String,
    /// What a call says in English (said after the Mandarin with `lang = "zh+en"`).
    pub call_en: String,
    /// Default spoken name of a window (`{window}` = its number).
    pub window_name_zh: String,
    /// Default English name of a window.
    pub window_name_en: String,
    /// Names of particular windows, by window number: `{ 3 = "{window}号台" }`.
    pub window_names_zh: BTreeMap<String, String>,
    /// English names of particular windows: `{ 3 = "counter {window}" }`.
    pub window_names_en: BTreeMap<String, String>,
    /// A tidal window opened (`{window}`, `{window_name}`).
    pub tidal_opened_zh: String,
    /// A tidal window opened, in English.
    pub tidal_opened_en: String,
    /// A window paused (`{window}`, `{window_name}`).
    pub paused_zh: String,
    /// A window paused, in English.
    pub paused_en: String,
}

impl Default for VoiceConfig {
    fn default() -> Self {
        VoiceConfig {
            lang: Lang::Zh,
            repeat: 2,
            repeat_gap_ms: 1000,
            chime: true,
            call_zh: "请{number}号到{window_name}办理".into(),
            call_en: "Number {number}, please go to {window_name}".into(),
            window_name_zh: "{window}号窗口".into(),
            window_name_en: "window {window}".into(),
            window_names_zh: BTreeMap::new(),
            window_names_en: BTreeMap::new(),
            tidal_opened_zh: "{window}号潮汐窗口已开放".into(),
            tidal_opened_en: "Window {window} is now open".into(),
            paused_zh: "{window_name}暂停服务".into(),
            paused_en: "{window_name} is paused".into(),
        }
    }
}

impl VoiceConfig {
    /// Reads the voice settings of hall `hall` from a TOML text: the
    /// `voice` table of the `[[hall]]` whose `id` is `hall`; else a top-level
    /// `[voice]` table; else the defaults. Other keys of the file are not
    /// looked at (the server's parser owns them).
    pub fn from_toml_str(text: &str, hall: &str) -> Result<VoiceConfig, AnnounceError> {
        let bad = |reason: String| AnnounceError::Voice(reason);
        let doc: toml::Table = text.parse().map_err(|e| bad(format!("TOML: {e}")))?;
        let mut table = doc.get("voice").cloned();
        if let Some(halls) = doc.get("hall") {
            let halls = halls
                .as_array()
                .ok_or_else(|| bad("`hall` must be an array of tables ([[hall]])".into()))?;
            let this = halls
                .iter()
                .find(|h| h.get("id").and_then(toml::Value::as_str) == Some(hall));
            match this {
                Some(h) => {
                    if let Some(v) = h.get("voice") {
                        table = Some(v.clone());
                    }
                }
                None if table.is_none() => {
                    return Err(bad(format!("the file has no [[hall]] with id = {hall:?}")))
                }
                None => {}
            }
        }
        let Some(table) = table else {
            return Ok(VoiceConfig::default());
        };
        let cfg: VoiceConfig = table
            .try_into()
            .map_err(|e: toml::de::Error| bad(format!("[hall.voice]: {}", e.message())))?;
        cfg.check()?;
        Ok(cfg)
    }

    /// The settings from an already parsed `[hall.voice]` table (the server
    /// keeps it raw in the hall configuration), checked like a file's.
    pub fn from_value(table: toml::Value) -> Result<VoiceConfig, AnnounceError> {
        let cfg: VoiceConfig = table.try_into().map_err(|e: toml::de::Error| {
            AnnounceError::Voice(format!("[hall.voice]: {}", e.message()))
        })?;
        cfg.check()?;
        Ok(cfg)
    }

    /// [`VoiceConfig::from_toml_str`] on a file.
    pub fn load(path: &Path, hall: &str) -> Result<VoiceConfig, AnnounceError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AnnounceError::Voice(format!("cannot read {}: {e}", path.display())))?;
        VoiceConfig::from_toml_str(&text, hall)
            .map_err(|e| AnnounceError::Voice(format!("{}: {e}", path.display())))
    }

    fn check(&self) -> Result<(), AnnounceError> {
        if !(1..=MAX_REPEAT).contains(&self.repeat) {
            return Err(AnnounceError::Voice(format!(
                "repeat = {} (must be 1–{MAX_REPEAT})",
                self.repeat
            )));
        }
        Ok(())
    }
}

/// One compiled piece of a sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// Clips of a literal run of text, one word each.
    Words(Vec<ClipId>),
    /// Punctuation: a short pause.
    Pause,
    /// The ticket number, character by character.
    Number,
    /// The window number as a numeral.
    Window,
}

/// The templates of one language, with `{window_name}` substituted.
#[derive(Clone, Debug, Default)]
struct Templates {
    call: Vec<Part>,
    tidal_opened: Vec<Part>,
    paused: Vec<Part>,
    /// The same three for windows with a name of their own.
    named: BTreeMap<u32, [Vec<Part>; 3]>,
}

/// Voice settings compiled against a voice pack: every word of every
/// template is a clip the pack has. Build with [`Voice::new`]; use with
/// [`crate::compose`].
#[derive(Clone, Debug)]
pub struct Voice {
    lang: Lang,
    repeat: u32,
    repeat_gap_ms: u16,
    chime: bool,
    zh: Templates,
    en: Templates,
}

/// Which sentence of a language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sentence {
    Call,
    TidalOpened,
    Paused,
}

impl Voice {
    /// Compiles `config` for `pack`. Fails, naming the key and the text, when
    /// a template has an unknown placeholder or a word the pack has no clip
    /// for (the message lists the words it has).
    pub fn new(config: VoiceConfig, pack: &VoicePack) -> Result<Voice, AnnounceError> {
        Voice::compile(config, &|id| pack.has(id))
    }

    /// The default settings compiled as if every required clip were there
    /// (only used if a pack could not compile the defaults, which the tests
    /// show never happens).
    pub(crate) fn fallback() -> Voice {
        Voice::compile(VoiceConfig::default(), &|id| !id.is_optional()).unwrap_or(Voice {
            lang: Lang::Zh,
            repeat: 1,
            repeat_gap_ms: 1000,
            chime: true,
            zh: Templates::default(),
            en: Templates::default(),
        })
    }

    fn compile(config: VoiceConfig, has: &dyn Fn(ClipId) -> bool) -> Result<Voice, AnnounceError> {
        config.check()?;
        let zh = Templates::compile(
            [
                ("call_zh", &config.call_zh),
                ("tidal_opened_zh", &config.tidal_opened_zh),
                ("paused_zh", &config.paused_zh),
            ],
            ("window_name_zh", &config.window_name_zh),
            &config.window_names_zh,
            "window_names_zh",
            &|key, text| tokenize_zh(key, text, has),
        )?;
        let en = Templates::compile(
            [
                ("call_en", &config.call_en),
                ("tidal_opened_en", &config.tidal_opened_en),
                ("paused_en", &config.paused_en),
            ],
            ("window_name_en", &config.window_name_en),
            &config.window_names_en,
            "window_names_en",
            &|key, text| tokenize_en(key, text, has),
        )?;
        Ok(Voice {
            lang: config.lang,
            repeat: config.repeat,
            repeat_gap_ms: config.repeat_gap_ms,
            chime: config.chime,
            zh,
            en,
        })
    }

    /// The configured languages.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Times each announcement is said.
    pub fn repeat(&self) -> u32 {
        self.repeat
    }

    /// Silence between repetitions (ms).
    pub fn repeat_gap_ms(&self) -> u16 {
        self.repeat_gap_ms
    }

    /// Whether a chime comes first.
    pub fn chime(&self) -> bool {
        self.chime
    }

    pub(crate) fn parts(&self, english: bool, sentence: Sentence, window: u32) -> &[Part] {
        let t = if english { &self.en } else { &self.zh };
        let i = match sentence {
            Sentence::Call => 0,
            Sentence::TidalOpened => 1,
            Sentence::Paused => 2,
        };
        match t.named.get(&window) {
            Some(named) => &named[i],
            None => match sentence {
                Sentence::Call => &t.call,
                Sentence::TidalOpened => &t.tidal_opened,
                Sentence::Paused => &t.paused,
            },
        }
    }
}

type Tokenizer<'a> = dyn Fn(&str, &str) -> Result<Vec<Part>, AnnounceError> + 'a;

impl Templates {
    fn compile(
        sentences: [(&str, &String); 3],
        default_name: (&str, &String),
        names: &BTreeMap<String, String>,
        names_key: &str,
        tokenize: &Tokenizer,
    ) -> Result<Templates, AnnounceError> {
        for (key, name) in std::iter::once(default_name)
            .chain(names.values().map(|n| (names_key, n)))
            .collect::<Vec<_>>()
        {
            if name.contains("{window_name}") || name.contains("{number}") {
                return Err(AnnounceError::Voice(format!(
                    "{key} = {name:?}: a window name may only use {{window}}"
                )));
            }
        }
        let one = |i: usize, name: &str| -> Result<Vec<Part>, AnnounceError> {
            let (key, text) = sentences[i];
            if i > 0 && text.contains("{number}") {
                return Err(AnnounceError::Voice(format!(
                    "{key} = {text:?}: {{number}} is only known in a call"
                )));
            }
            tokenize(key, &text.replace("{window_name}", name))
        };
        let mut t = Templates {
            call: one(0, default_name.1)?,
            tidal_opened: one(1, default_name.1)?,
            paused: one(2, default_name.1)?,
            named: BTreeMap::new(),
        };
        for (w, name) in names {
            let w: u32 = w.trim().parse().map_err(|_| {
                AnnounceError::Voice(format!(
                    "{names_key}: {w:?} is not a window number (write {{ 3 = \"{{window}}号台\" }})"
                ))
            })?;
            t.named
                .insert(w, [one(0, name)?, one(1, name)?, one(2, name)?]);
        }
        Ok(t)
    }
}

/// Splits a template into placeholders and literal runs.
fn pieces<'t>(key: &str, text: &'t str) -> Result<Vec<Result<Part, &'t str>>, AnnounceError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            out.push(Err(&rest[..open]));
        }
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or_else(|| AnnounceError::Voice(format!("{key} = {text:?}: “{{” without “}}”")))?;
        out.push(Ok(match &rest[open + 1..close] {
            "number" => Part::Number,
            "window" => Part::Window,
            other => {
                return Err(AnnounceError::Voice(format!(
                    "{key} = {text:?}: unknown placeholder {{{other}}} (use {{number}}, {{window}}, {{window_name}})"
                )))
            }
        }));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Err(rest));
    }
    Ok(out)
}

fn is_pause(c: char) -> bool {
    matches!(
        c,
        ',' | '.' | ';' | ':' | '!' | '?' | '，' | '。' | '、' | '；' | '：' | '！' | '？'
    )
}

/// Appends literal words, merging them into the previous `Words` run.
fn push_word(parts: &mut Vec<Part>, id: ClipId) {
    if let Some(Part::Words(w)) = parts.last_mut() {
        w.push(id);
    } else {
        parts.push(Part::Words(vec![id]));
    }
}

fn push_pause(parts: &mut Vec<Part>) {
    if !matches!(parts.last(), None | Some(Part::Pause)) {
        parts.push(Part::Pause);
    }
}

/// “ (the pack lacks zh/tai.wav)” when an optional clip whose text matches
/// is missing from the pack, else nothing.
fn missing_file(matches: impl Fn(&str) -> bool, has: &dyn Fn(ClipId) -> bool) -> String {
    ClipId::ALL
        .iter()
        .find(|id| id.is_optional() && !has(**id) && matches(id.text()))
        .map(|id| format!(" (the voice pack lacks {}.wav)", id.name()))
        .unwrap_or_default()
}

/// Mandarin: literal text is matched against the pack's clip texts, longest
/// first (so 号窗口办理 is one clip when the pack has it); ASCII digits and
/// letters are read one by one; punctuation is a pause; spaces are ignored.
fn tokenize_zh(
    key: &str,
    text: &str,
    has: &dyn Fn(ClipId) -> bool,
) -> Result<Vec<Part>, AnnounceError> {
    let mut lexicon: Vec<(&'static str, ClipId)> = ClipId::ALL
        .iter()
        .filter(|id| id.is_zh() && has(**id) && !id.text().is_ascii())
        .map(|&id| (id.text(), id))
        .collect();
    lexicon.sort_by_key(|(t, _)| std::cmp::Reverse(t.chars().count()));
    let mut parts = Vec::new();
    for piece in pieces(key, text)? {
        let lit = match piece {
            Ok(p) => {
                parts.push(p);
                continue;
            }
            Err(lit) => lit,
        };
        let mut rest = lit;
        while let Some(c) = rest.chars().next() {
            if c.is_whitespace() {
                rest = &rest[c.len_utf8()..];
            } else if is_pause(c) {
                push_pause(&mut parts);
                rest = &rest[c.len_utf8()..];
            } else if let Some(d) = c.to_digit(10) {
                push_word(&mut parts, ZH_DIGITS[d as usize]);
                rest = &rest[1..];
            } else if c.is_ascii_alphabetic() {
                push_word(
                    &mut parts,
                    ZH_LETTERS[usize::from(c.to_ascii_uppercase() as u8 - b'A')],
                );
                rest = &rest[1..];
            } else if let Some(&(t, id)) = lexicon.iter().find(|(t, _)| rest.starts_with(t)) {
                push_word(&mut parts, id);
                rest = &rest[t.len()..];
            } else {
                let words: Vec<&str> = lexicon.iter().rev().map(|(t, _)| *t).collect();
                return Err(AnnounceError::Voice(format!(
                    "{key} = {text:?}: no clip says “{c}” (at “{rest}”){}; the voice pack has: {}",
                    missing_file(|t| rest.starts_with(t), has),
                    words.join(" ")
                )));
            }
        }
    }
    Ok(parts)
}

/// English: words (case-insensitive) are matched against the pack's English
/// clips, longest run of words first (so "please go to window" is one clip
/// when the pack has it); a single letter is read as a letter, digits one by
/// one; punctuation is a pause.
fn tokenize_en(
    key: &str,
    text: &str,
    has: &dyn Fn(ClipId) -> bool,
) -> Result<Vec<Part>, AnnounceError> {
    let mut lexicon: Vec<(Vec<String>, ClipId)> = ClipId::ALL
        .iter()
        .filter(|id| id.is_en() && has(**id) && id.text().len() > 1)
        .map(|&id| (id.text().split(' ').map(str::to_owned).collect(), id))
        .collect();
    lexicon.sort_by_key(|(words, _)| std::cmp::Reverse(words.len()));
    let unknown = |w: &str| {
        let words: Vec<&str> = lexicon.iter().rev().map(|(_, id)| id.text()).collect();
        AnnounceError::Voice(format!(
            "{key} = {text:?}: no clip says “{w}”{}; the voice pack has: {}",
            missing_file(|t| t.eq_ignore_ascii_case(w), has),
            words.join(", ")
        ))
    };
    let mut parts = Vec::new();
    for piece in pieces(key, text)? {
        let lit = match piece {
            Ok(p) => {
                parts.push(p);
                continue;
            }
            Err(lit) => lit,
        };
        // Tokens: words (lower case), single digits, and pauses.
        enum Tok {
            Word(String),
            Digit(u32),
            Pause,
        }
        let mut toks = Vec::new();
        let mut word = String::new();
        for c in lit.chars().chain(std::iter::once(' ')) {
            if c.is_ascii_alphabetic() {
                word.push(c);
                continue;
            }
            if !word.is_empty() {
                toks.push(Tok::Word(std::mem::take(&mut word)));
            }
            if let Some(d) = c.to_digit(10) {
                toks.push(Tok::Digit(d));
            } else if is_pause(c) {
                toks.push(Tok::Pause);
            } else if !c.is_whitespace() && c != '\'' && c != '-' {
                return Err(AnnounceError::Voice(format!(
                    "{key} = {text:?}: cannot say “{c}”"
                )));
            }
        }
        let mut i = 0;
        while i < toks.len() {
            match &toks[i] {
                Tok::Digit(d) => push_word(&mut parts, EN_DIGITS[*d as usize]),
                Tok::Pause => push_pause(&mut parts),
                Tok::Word(w) if w.len() == 1 => {
                    let b = w.as_bytes()[0].to_ascii_uppercase();
                    push_word(&mut parts, EN_LETTERS[usize::from(b - b'A')]);
                }
                Tok::Word(w) => {
                    let found = lexicon.iter().find(|(words, _)| {
                        words.iter().enumerate().all(|(k, lw)| {
                            matches!(toks.get(i + k), Some(Tok::Word(t)) if t.eq_ignore_ascii_case(lw))
                        })
                    });
                    let Some((words, id)) = found else {
                        return Err(unknown(w));
                    };
                    push_word(&mut parts, *id);
                    i += words.len();
                    continue;
                }
            }
            i += 1;
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack() -> VoicePack {
        VoicePack::builtin().expect("builtin pack")
    }

    #[test]
    fn defaults_compile_and_use_the_one_utterance_phrases() {
        let v = Voice::new(VoiceConfig::default(), &pack()).expect("defaults");
        assert_eq!(v.repeat(), 2);
        assert_eq!(v.lang(), Lang::Zh);
        use ClipId::*;
        assert_eq!(
            v.parts(false, Sentence::Call, 3),
            &[
                Part::Words(vec![ZhQing]),
                Part::Number,
                Part::Words(vec![ZhHaoDao]),
                Part::Window,
                Part::Words(vec![ZhHaoChuangkouBanli]),
            ]
        );
        assert_eq!(
            v.parts(true, Sentence::Call, 3),
            &[
                Part::Words(vec![EnNumber]),
                Part::Number,
                Part::Pause,
                Part::Words(vec![EnPleaseGoToWindow]),
                Part::Window,
            ]
        );
        // Compiles without the optional clips too (words instead of phrases).
        let plain = Voice::compile(VoiceConfig::default(), &|id| !id.is_optional()).expect("plain");
        assert_eq!(
            plain.parts(false, Sentence::Call, 3)[4],
            Part::Words(vec![ZhHao, ZhChuangkou, ZhBanli])
        );
        assert_eq!(
            plain.parts(true, Sentence::Call, 3)[3],
            Part::Words(vec![EnPlease, EnGo, EnTo, EnWindow])
        );
        assert_eq!(Voice::fallback().repeat(), 2);
    }

    #[test]
    fn window_names_per_window() {
        let cfg = VoiceConfig::from_toml_str(
            r#"
            [[hall]]
            id = "other"
            [[hall]]
            id = "xili"
            name = "西里镇便民服务中心"
            [hall.voice]
            repeat = 3
            repeat_gap_ms = 800
            lang = "zh+en"
            call_zh = "请{number}号，到{window_name}办理"
            window_names_zh = { 3 = "{window}号台", 2 = "{window}号室" }
            window_names_en = { 3 = "counter {window}" }
            "#,
            "xili",
        )
        .expect("parse");
        assert_eq!(cfg.repeat, 3);
        assert_eq!(cfg.repeat_gap_ms, 800);
        assert_eq!(cfg.lang, Lang::ZhEn);
        let v = Voice::new(cfg, &pack()).expect("compile");
        use ClipId::*;
        assert_eq!(
            v.parts(false, Sentence::Call, 3),
            &[
                Part::Words(vec![ZhQing]),
                Part::Number,
                Part::Words(vec![ZhHao]),
                Part::Pause,
                Part::Words(vec![ZhDao]),
                Part::Window,
                Part::Words(vec![ZhHao, ZhTai, ZhBanli]),
            ]
        );
        assert_eq!(
            v.parts(false, Sentence::Paused, 2),
            &[Part::Window, Part::Words(vec![ZhHao, ZhRoom, ZhPaused])]
        );
        assert_eq!(
            v.parts(false, Sentence::Call, 4)[6],
            Part::Words(vec![ZhHaoChuangkouBanli])
        );
        assert_eq!(
            v.parts(true, Sentence::Call, 3)[3],
            Part::Words(vec![EnPlease, EnGo, EnTo, EnCounter])
        );
    }

    #[test]
    fn a_file_without_the_hall_or_voice_table() {
        assert_eq!(
            VoiceConfig::from_toml_str("[[hall]]\nid = \"xili\"\n", "xili").expect("ok"),
            VoiceConfig::default()
        );
        // A file of its own: a top-level [voice] table.
        let cfg = VoiceConfig::from_toml_str("[voice]\nrepeat = 1\n", "any").expect("ok");
        assert_eq!(cfg.repeat, 1);
        let err =
            VoiceConfig::from_toml_str("[[hall]]\nid = \"a\"\n", "xili").expect_err("no hall");
        assert!(err.to_string().contains("xili"), "{err}");
    }

    #[test]
    fn mistakes_are_named() {
        let pack = pack();
        let e = |toml: &str| -> String {
            match VoiceConfig::from_toml_str(toml, "h") {
                Err(e) => e.to_string(),
                Ok(cfg) => Voice::new(cfg, &pack).expect_err(toml).to_string(),
            }
        };
        let m = e("[voice]\nrepaet = 2\n");
        assert!(m.contains("repaet"), "{m}");
        let m = e("[voice]\nrepeat = 9\n");
        assert!(m.contains("repeat = 9"), "{m}");
        let m = e("[voice]\ncall_zh = \"请{number}号到{window}号窗口喝茶\"\n");
        assert!(
            m.contains("call_zh") && m.contains("喝") && m.contains("窗口"),
            "{m}"
        );
        let m = e("[voice]\ncall_zh = \"请{ticket}号\"\n");
        assert!(m.contains("{ticket}"), "{m}");
        let m = e("[voice]\ncall_en = \"Ticket {number}\"\n");
        assert!(m.contains("call_en") && m.contains("Ticket"), "{m}");
        let m = e("[voice]\nwindow_name_zh = \"{number}号窗口\"\n");
        assert!(m.contains("window_name_zh"), "{m}");
        let m = e("[voice]\npaused_zh = \"{number}暂停服务\"\n");
        assert!(m.contains("paused_zh"), "{m}");
        let m = e("[voice]\nwindow_names_zh = { x = \"{window}号台\" }\n");
        assert!(m.contains("window_names_zh") && m.contains("\"x\""), "{m}");
        let m = e("[voice]\ncall_zh = \"请{number\"\n");
        assert!(m.contains("call_zh"), "{m}");
    }

    #[test]
    fn the_brief_s_own_template_reads_the_same_as_the_default() {
        let cfg = VoiceConfig {
            call_zh: "请{number}号到{window}号窗口办理".into(),
            ..VoiceConfig::default()
        };
        let v = Voice::new(cfg, &pack()).expect("compile");
        let d = pack().default_voice();
        for w in [1, 3, 12] {
            assert_eq!(
                v.parts(false, Sentence::Call, w),
                d.parts(false, Sentence::Call, w)
            );
        }
    }
}
