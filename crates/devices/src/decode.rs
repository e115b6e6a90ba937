//! Reads an ESC/POS byte stream back: text lines (GB18030 in Chinese mode,
//! decoded to UTF-8) with their size, weight and alignment, QR codes with
//! their payload, feeds, cuts and status requests. The virtual printer uses
//! it to check what hallcall sends; [`render_text`] turns a decoded ticket
//! into the plain-text picture shown in `docs/devices.md`.
//!
//! It is strict where a real printer would print garbage: a byte ≥ 0x80
//! outside Chinese mode, an unknown command, or bad GB18030 is recorded in
//! [`Decoded::errors`], so a test fails instead of a citizen getting a
//! ticket full of mojibake.

use crate::escpos::{Align, CutMode, QrLevel, DLE, EOT, ESC, FS, GS, LF};

/// One printed line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The text, decoded.
    pub text: String,
    /// Alignment when the line started.
    pub align: Align,
    /// Bold.
    pub bold: bool,
    /// Width multiplier (1 = normal, 2 = double).
    pub width: u8,
    /// Height multiplier.
    pub height: u8,
}

/// A printed QR code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Qr {
    /// Payload, as UTF-8 (lossy).
    pub data: String,
    /// Model (2 unless selected otherwise).
    pub model: u8,
    /// Module size, dots.
    pub module: u8,
    /// Error correction.
    pub level: QrLevel,
}

/// What the printer did, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A line of text (possibly empty).
    Line(Line),
    /// A QR code.
    Qr(Qr),
    /// `ESC d n`.
    Feed(u8),
    /// `GS V`.
    Cut(CutMode),
}

/// A decoded stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    /// Printed items in order.
    pub items: Vec<Item>,
    /// Status requests (`DLE EOT n`), by `n`, in order.
    pub status_requests: Vec<u8>,
    /// `ESC @` seen.
    pub initialized: bool,
    /// Problems found; empty for a clean stream.
    pub errors: Vec<String>,
}

impl Decoded {
    /// The text lines.
    pub fn lines(&self) -> impl Iterator<Item = &Line> {
        self.items.iter().filter_map(|i| match i {
            Item::Line(l) => Some(l),
            _ => None,
        })
    }

    /// All text, one line per line.
    pub fn text(&self) -> String {
        self.lines()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The QR codes.
    pub fn qr_codes(&self) -> impl Iterator<Item = &Qr> {
        self.items.iter().filter_map(|i| match i {
            Item::Qr(q) => Some(q),
            _ => None,
        })
    }

    /// The cuts.
    pub fn cuts(&self) -> Vec<CutMode> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Cut(c) => Some(*c),
                _ => None,
            })
            .collect()
    }

    /// Whether anything was printed (not only status requests).
    pub fn printed_anything(&self) -> bool {
        !self.items.is_empty()
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Style {
    align: Align,
    bold: bool,
    width: u8,
    height: u8,
}

/// An incremental decoder: feed it bytes as they arrive.
#[derive(Debug)]
pub struct Decoder {
    pending: Vec<u8>,
    offset: usize,
    style: Style,
    hanzi: bool,
    line: Vec<u8>,
    line_style: Style,
    qr_model: u8,
    qr_module: u8,
    qr_level: QrLevel,
    qr_data: Option<Vec<u8>>,
    out: Decoded,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            pending: Vec::new(),
            offset: 0,
            style: Style {
                width: 1,
                height: 1,
                ..Style::default()
            },
            hanzi: false,
            line: Vec::new(),
            line_style: Style::default(),
            qr_model: 2,
            qr_module: 3,
            qr_level: QrLevel::L,
            qr_data: None,
            out: Decoded::default(),
        }
    }
}

enum Step {
    /// Need more bytes.
    More,
    /// Consumed n bytes.
    Took(usize),
}

impl Decoder {
    /// A decoder in the printer's power-on state.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Feeds bytes; returns the `n` of every `DLE EOT n` completed by them,
    /// which a printer answers at once.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.pending.extend_from_slice(bytes);
        let before = self.out.status_requests.len();
        let mut at = 0;
        while at < self.pending.len() {
            match self.step(at) {
                Step::More => break,
                Step::Took(n) => at += n,
            }
        }
        self.pending.drain(..at);
        self.offset += at;
        self.out.status_requests[before..].to_vec()
    }

    /// Ends the stream: an unterminated line is kept, an incomplete command
    /// is an error.
    pub fn finish(mut self) -> Decoded {
        if !self.pending.is_empty() {
            let msg = format!(
                "stream ends inside a command at offset {}: {:02X?}",
                self.offset,
                &self.pending[..self.pending.len().min(8)]
            );
            self.out.errors.push(msg);
        }
        if !self.line.is_empty() {
            self.end_line();
        }
        self.out
    }

    fn err(&mut self, at: usize, msg: String) {
        self.out
            .errors
            .push(format!("offset {}: {msg}", self.offset + at));
    }

    fn end_line(&mut self) {
        let bytes = std::mem::take(&mut self.line);
        let style = if bytes.is_empty() {
            self.style
        } else {
            self.line_style
        };
        let text = if self.hanzi || bytes.is_ascii() {
            let (t, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
            if had_errors {
                self.out
                    .errors
                    .push(format!("invalid GB18030 in line {:02X?}", bytes));
            }
            t.into_owned()
        } else {
            self.out.errors.push(format!(
                "bytes ≥ 0x80 outside Chinese mode (FS &): {:02X?}",
                bytes
            ));
            String::from_utf8_lossy(&bytes).into_owned()
        };
        self.out.items.push(Item::Line(Line {
            text,
            align: style.align,
            bold: style.bold,
            width: style.width,
            height: style.height,
        }));
    }

    fn step(&mut self, at: usize) -> Step {
        let b = &self.pending[at..];
        let need = |n: usize| b.len() < n;
        match b[0] {
            LF => {
                self.end_line();
                Step::Took(1)
            }
            0x0D => Step::Took(1),
            DLE => {
                if need(3) {
                    return Step::More;
                }
                if b[1] == EOT && (1..=4).contains(&b[2]) {
                    self.out.status_requests.push(b[2]);
                } else {
                    let msg = format!("unknown command DLE {:02X} {:02X}", b[1], b[2]);
                    self.err(at, msg);
                }
                Step::Took(3)
            }
            ESC => {
                if need(2) {
                    return Step::More;
                }
                match b[1] {
                    b'@' => {
                        self.style = Style {
                            width: 1,
                            height: 1,
                            ..Style::default()
                        };
                        self.out.initialized = true;
                        Step::Took(2)
                    }
                    b'a' | b'E' | b'!' | b'd' | b'-' | b'G' | b'M' | b'J' | b'3' => {
                        if need(3) {
                            return Step::More;
                        }
                        let n = b[2];
                        match b[1] {
                            b'a' => {
                                self.style.align = match n {
                                    0 | 48 => Align::Left,
                                    1 | 49 => Align::Center,
                                    _ => Align::Right,
                                }
                            }
                            b'E' => self.style.bold = n & 1 == 1,
                            b'!' => {
                                self.style.bold = n & 0x08 != 0;
                                self.style.height = if n & 0x10 != 0 { 2 } else { 1 };
                                self.style.width = if n & 0x20 != 0 { 2 } else { 1 };
                            }
                            b'd' => {
                                if !self.line.is_empty() {
                                    self.end_line();
                                }
                                self.out.items.push(Item::Feed(n));
                            }
                            _ => {} // underline, double-strike, font, feed dots, spacing
                        }
                        Step::Took(3)
                    }
                    b'2' => Step::Took(2),
                    other => {
                        self.err(at, format!("unknown command ESC {other:02X}"));
                        Step::Took(2)
                    }
                }
            }
            FS => {
                if need(2) {
                    return Step::More;
                }
                match b[1] {
                    b'&' => {
                        self.hanzi = true;
                        Step::Took(2)
                    }
                    b'.' => {
                        self.hanzi = false;
                        Step::Took(2)
                    }
                    b'!' | b'W' | b'-' => {
                        if need(3) {
                            return Step::More;
                        }
                        Step::Took(3)
                    }
                    other => {
                        self.err(at, format!("unknown command FS {other:02X}"));
                        Step::Took(2)
                    }
                }
            }
            GS => {
                if need(2) {
                    return Step::More;
                }
                match b[1] {
                    b'!' => {
                        if need(3) {
                            return Step::More;
                        }
                        self.style.width = (b[2] >> 4) + 1;
                        self.style.height = (b[2] & 0x0F) + 1;
                        Step::Took(3)
                    }
                    b'B' => {
                        if need(3) {
                            return Step::More;
                        }
                        Step::Took(3)
                    }
                    b'V' => {
                        if need(3) {
                            return Step::More;
                        }
                        let (mode, len) = match b[2] {
                            0 | 48 => (CutMode::Full, 3),
                            1 | 49 => (CutMode::Partial, 3),
                            65 | 97 => (CutMode::Full, 4),
                            66 | 98 => (CutMode::Partial, 4),
                            m => {
                                self.err(at, format!("unknown cut GS V {m}"));
                                return Step::Took(3);
                            }
                        };
                        if need(len) {
                            return Step::More;
                        }
                        if !self.line.is_empty() {
                            self.end_line();
                        }
                        self.out.items.push(Item::Cut(mode));
                        Step::Took(len)
                    }
                    b'(' => {
                        if need(5) {
                            return Step::More;
                        }
                        let len = usize::from(b[3]) | (usize::from(b[4]) << 8);
                        if need(5 + len) {
                            return Step::More;
                        }
                        let sub = b[2];
                        let params = b[5..5 + len].to_vec();
                        if sub == b'k' {
                            self.two_d(at, &params);
                        } else {
                            self.err(at, format!("unknown command GS ( {sub:02X}"));
                        }
                        Step::Took(5 + len)
                    }
                    other => {
                        self.err(at, format!("unknown command GS {other:02X}"));
                        Step::Took(2)
                    }
                }
            }
            c if c < 0x20 || c == 0x7F => {
                self.err(at, format!("unexpected control byte {c:02X}"));
                Step::Took(1)
            }
            _ => {
                if self.line.is_empty() {
                    self.line_style = self.style;
                }
                // Take the whole run of text bytes at once.
                let n = b
                    .iter()
                    .position(|&c| c < 0x20 || c == 0x7F)
                    .unwrap_or(b.len());
                self.line.extend_from_slice(&b[..n]);
                Step::Took(n)
            }
        }
    }

    /// `GS ( k` with its parameter block `cn fn …`.
    fn two_d(&mut self, at: usize, p: &[u8]) {
        if p.len() < 2 {
            self.err(at, "GS ( k without cn fn".into());
            return;
        }
        if p[0] != 49 {
            self.err(at, format!("2D symbol type cn={} is not QR (49)", p[0]));
            return;
        }
        match (p[1], &p[2..]) {
            (65, [n1, ..]) => self.qr_model = n1.saturating_sub(48),
            (67, [n]) => self.qr_module = *n,
            (69, [n]) => match QrLevel::from_byte(*n) {
                Some(l) => self.qr_level = l,
                None => self.err(at, format!("QR error level {n}")),
            },
            (80, [48, data @ ..]) => self.qr_data = Some(data.to_vec()),
            (81, [48]) => match self.qr_data.take() {
                Some(d) => {
                    if !self.line.is_empty() {
                        self.end_line();
                    }
                    self.out.items.push(Item::Qr(Qr {
                        data: String::from_utf8_lossy(&d).into_owned(),
                        model: self.qr_model,
                        module: self.qr_module,
                        level: self.qr_level,
                    }))
                }
                None => self.err(at, "QR print without stored data".into()),
            },
            (82, _) => {}
            (f, rest) => self.err(at, format!("QR function {f} with {} bytes", rest.len())),
        }
    }
}

/// Decodes a complete stream.
pub fn decode(bytes: &[u8]) -> Decoded {
    let mut d = Decoder::new();
    d.push(bytes);
    d.finish()
}

/// Renders a decoded ticket as plain text `width` columns wide (Hanzi count
/// as two): alignment kept, double-size text letter-spaced and marked, the
/// QR code and the cut shown as labelled lines.
pub fn render_text(d: &Decoded, width: usize) -> String {
    let mut out = String::new();
    for item in &d.items {
        let (text, align, note) = match item {
            Item::Line(l) => {
                let mut text = l.text.clone();
                if l.width > 1 {
                    let gap = " ".repeat(usize::from(l.width) - 1);
                    text = l
                        .text
                        .chars()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(&gap);
                }
                let mut marks = Vec::new();
                if l.width > 1 || l.height > 1 {
                    marks.push(format!("{}×{}", l.width, l.height));
                }
                if l.bold {
                    marks.push("bold".into());
                }
                (text, l.align, marks.join(", "))
            }
            Item::Qr(q) => (
                format!(
                    "[QR model {} · {} dots · level {:?}: {}]",
                    q.model, q.module, q.level, q.data
                ),
                Align::Center,
                String::new(),
            ),
            Item::Feed(n) => {
                for _ in 0..*n {
                    out.push('\n');
                }
                continue;
            }
            Item::Cut(c) => {
                let label = match c {
                    CutMode::Partial => " partial cut ",
                    CutMode::Full => " full cut ",
                };
                let dashes = width.saturating_sub(label.len() + 2) / 2;
                out.push_str(&format!(
                    "✂{}{label}{}\n",
                    "-".repeat(dashes),
                    "-".repeat(dashes)
                ));
                continue;
            }
        };
        let cols = crate::escpos::columns(&text);
        let pad = match align {
            Align::Left => 0,
            Align::Center => width.saturating_sub(cols) / 2,
            Align::Right => width.saturating_sub(cols),
        };
        let mut line = format!("{}{text}", " ".repeat(pad));
        if !note.is_empty() {
            let used = pad + cols;
            line.push_str(&" ".repeat(width.saturating_sub(used) + 2));
            line.push_str(&format!("‹{note}›"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escpos::EscPos;

    #[test]
    fn decodes_what_the_builder_writes_in_any_chunking() {
        let mut p = EscPos::new();
        p.align(Align::Center)
            .bold(true)
            .line("城东便民服务中心")
            .bold(false)
            .size(2, 2)
            .line("A012")
            .size(1, 1)
            .qr(b"https://hall.example/t/abc?hall=east", 6, QrLevel::M)
            .feed(2)
            .cut(CutMode::Partial);
        p.raw(&[DLE, EOT, 4]);
        let bytes = p.into_bytes();
        let whole = decode(&bytes);
        assert!(whole.errors.is_empty(), "{:?}", whole.errors);
        // Byte by byte gives the same result.
        let mut d = Decoder::new();
        let mut requests = Vec::new();
        for b in &bytes {
            requests.extend(d.push(std::slice::from_ref(b)));
        }
        assert_eq!(requests, [4]);
        let bytewise = d.finish();
        assert_eq!(bytewise, whole);
        let lines: Vec<&Line> = whole.lines().collect();
        assert_eq!(lines[0].text, "城东便民服务中心");
        assert!(lines[0].bold);
        assert_eq!(lines[0].align, Align::Center);
        assert_eq!(
            (lines[1].text.as_str(), lines[1].width, lines[1].height),
            ("A012", 2, 2)
        );
        let qr: Vec<&Qr> = whole.qr_codes().collect();
        assert_eq!(qr.len(), 1);
        assert_eq!(qr[0].data, "https://hall.example/t/abc?hall=east");
        assert_eq!((qr[0].model, qr[0].module, qr[0].level), (2, 6, QrLevel::M));
        assert_eq!(whole.cuts(), [CutMode::Partial]);
        assert!(whole.initialized);
    }

    #[test]
    fn chinese_without_hanzi_mode_is_an_error() {
        let (gb, _, _) = encoding_rs::GB18030.encode("社保");
        let mut bytes = vec![ESC, b'@'];
        bytes.extend_from_slice(&gb);
        bytes.push(LF);
        let d = decode(&bytes);
        assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
        let mut ok = vec![FS, b'&'];
        ok.extend_from_slice(&gb);
        ok.push(LF);
        let d = decode(&ok);
        assert!(d.errors.is_empty());
        assert_eq!(d.text(), "社保");
    }

    #[test]
    fn unknown_commands_and_truncation_are_reported() {
        let d = decode(&[ESC, b'Z', b'x', LF, GS, b'(', b'k', 10, 0, 49]);
        assert_eq!(d.errors.len(), 2, "{:?}", d.errors);
        assert!(d.errors[1].contains("ends inside a command"));
    }
}
