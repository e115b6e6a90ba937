//! The few ESC/POS commands a ticket needs, written out byte by byte.
//!
//! Why not the `escpos` crate: its current release (0.20) needs Rust 1.88 and
//! edition 2024 (this workspace promises 1.80), has no Chinese (Hanzi) mode
//! command (`FS &`), encodes text only through single-byte code pages, and
//! drives its own blocking transports, while we need async ones with
//! timeouts. What is left for us is a dozen fixed byte sequences, each
//! documented below with the Epson reference name.
//!
//! Text is encoded in GB18030 (which every Unicode character has a code in),
//! after control characters are replaced: a hall or category name can never
//! inject a printer command.

/// ESC
pub const ESC: u8 = 0x1B;
/// GS
pub const GS: u8 = 0x1D;
/// FS
pub const FS: u8 = 0x1C;
/// DLE
pub const DLE: u8 = 0x10;
/// EOT
pub const EOT: u8 = 0x04;
/// LF: print the line buffer and feed one line.
pub const LF: u8 = 0x0A;

/// Longest QR payload (bytes) sent to the printer. Model 2 holds 2,331
/// bytes at level M; a status URL is ~60.
pub const QR_MAX_BYTES: usize = 2331;

/// Horizontal alignment (`ESC a n`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Align {
    /// n = 0.
    #[default]
    Left,
    /// n = 1.
    Center,
    /// n = 2.
    Right,
}

/// QR error correction level (`GS ( k` fn 69): 48 = L … 51 = H.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum QrLevel {
    /// ~7 %.
    L,
    /// ~15 %: survives a crease in the paper.
    #[default]
    M,
    /// ~25 %.
    Q,
    /// ~30 %.
    H,
}

impl QrLevel {
    /// The `n` byte of `GS ( k` fn 69.
    pub fn byte(self) -> u8 {
        match self {
            QrLevel::L => 48,
            QrLevel::M => 49,
            QrLevel::Q => 50,
            QrLevel::H => 51,
        }
    }
    /// From the `n` byte.
    pub fn from_byte(b: u8) -> Option<QrLevel> {
        Some(match b {
            48 => QrLevel::L,
            49 => QrLevel::M,
            50 => QrLevel::Q,
            51 => QrLevel::H,
            _ => return None,
        })
    }
}

/// How the paper is cut at the end of a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CutMode {
    /// Leaves a hinge in the middle, so the ticket does not fall on the floor.
    #[default]
    Partial,
    /// Cuts through.
    Full,
}

/// Builds an ESC/POS byte stream.
#[derive(Clone, Debug, Default)]
pub struct EscPos {
    buf: Vec<u8>,
}

impl EscPos {
    /// `ESC @` (initialize printer), then `FS &` (select Chinese character
    /// mode: bytes ≥ 0x80 are read as two- or four-byte GB18030 codes).
    pub fn new() -> EscPos {
        let mut p = EscPos::default();
        p.raw(&[ESC, b'@']).hanzi(true);
        p
    }

    /// Appends raw bytes.
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// `FS &` (on) / `FS .` (off): Chinese character mode.
    pub fn hanzi(&mut self, on: bool) -> &mut Self {
        self.raw(&[FS, if on { b'&' } else { b'.' }])
    }

    /// `ESC a n`.
    pub fn align(&mut self, a: Align) -> &mut Self {
        let n = match a {
            Align::Left => 0,
            Align::Center => 1,
            Align::Right => 2,
        };
        self.raw(&[ESC, b'a', n])
    }

    /// `ESC E n`: emphasized (bold).
    pub fn bold(&mut self, on: bool) -> &mut Self {
        self.raw(&[ESC, b'E', u8::from(on)])
    }

    /// `GS ! n`: character size, 1–8 times in each direction.
    pub fn size(&mut self, width: u8, height: u8) -> &mut Self {
        let w = width.clamp(1, 8) - 1;
        let h = height.clamp(1, 8) - 1;
        self.raw(&[GS, b'!', (w << 4) | h])
    }

    /// Text, GB18030-encoded, control characters replaced by spaces.
    pub fn text(&mut self, s: &str) -> &mut Self {
        let clean = sanitize(s);
        let (bytes, _, _) = encoding_rs::GB18030.encode(&clean);
        self.buf.extend_from_slice(&bytes);
        self
    }

    /// Text and `LF`.
    pub fn line(&mut self, s: &str) -> &mut Self {
        self.text(s).raw(&[LF])
    }

    /// `ESC d n`: print and feed n lines.
    pub fn feed(&mut self, lines: u8) -> &mut Self {
        self.raw(&[ESC, b'd', lines])
    }

    /// A native QR code (`GS ( k`, function 165/167/169/180/181 of cn = 49):
    /// select model 2, module size (1–16 dots), error correction level,
    /// store the data, print it. The printer draws the code itself, so no
    /// image is rasterized here.
    pub fn qr(&mut self, data: &[u8], module: u8, level: QrLevel) -> &mut Self {
        let data = &data[..data.len().min(QR_MAX_BYTES)];
        // fn 65: model; n1 = 50 (model 2), n2 = 0.
        self.raw(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]);
        // fn 67: module size.
        self.raw(&[GS, b'(', b'k', 3, 0, 49, 67, module.clamp(1, 16)]);
        // fn 69: error correction.
        self.raw(&[GS, b'(', b'k', 3, 0, 49, 69, level.byte()]);
        // fn 80: store; pL pH count cn fn m and the data.
        let len = data.len() + 3;
        let (pl, ph) = ((len & 0xFF) as u8, (len >> 8) as u8);
        self.raw(&[GS, b'(', b'k', pl, ph, 49, 80, 48]);
        self.raw(data);
        // fn 81: print the stored symbol.
        self.raw(&[GS, b'(', b'k', 3, 0, 49, 81, 48])
    }

    /// `GS V m n` (function B): feed to the cutter and cut.
    pub fn cut(&mut self, mode: CutMode) -> &mut Self {
        let m = match mode {
            CutMode::Full => 65,
            CutMode::Partial => 66,
        };
        self.raw(&[GS, b'V', m, 0])
    }

    /// The bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// `DLE EOT n`: transmit real-time status, n = 1 printer, 2 offline cause,
/// 3 error cause, 4 roll paper sensor. The printer answers one byte at once,
/// even while busy or offline.
pub fn status_request(n: u8) -> [u8; 3] {
    [DLE, EOT, n]
}

/// Replaces control characters (C0, DEL, C1) with spaces.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Columns a string takes on the printer in Font A: one for ASCII, two for
/// everything else (a Hanzi is a 24×24 dot cell, twice a 12×24 Latin one).
pub fn columns(s: &str) -> usize {
    s.chars().map(char_columns).sum()
}

fn char_columns(c: char) -> usize {
    if c.is_ascii() {
        1
    } else {
        2
    }
}

/// Splits text into lines of at most `width` columns: at explicit newlines,
/// then between words where possible (Latin), else between any two
/// characters (Chinese has no spaces to break at).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(2);
    let mut out = Vec::new();
    for para in text.lines() {
        let para = sanitize(para.trim_end());
        if para.is_empty() {
            out.push(String::new());
            continue;
        }
        let mut line = String::new();
        let mut cols = 0;
        for c in para.chars() {
            let w = char_columns(c);
            if cols + w > width {
                // Break at the last space of the line if it is a Latin word.
                let carry = match line.rfind(' ') {
                    Some(i) if c.is_ascii_alphanumeric() && i > 0 => {
                        let tail = line[i + 1..].to_owned();
                        line.truncate(i);
                        tail
                    }
                    _ => String::new(),
                };
                out.push(std::mem::take(&mut line).trim_end().to_owned());
                cols = columns(&carry);
                line = carry;
                if c == ' ' && line.is_empty() {
                    continue;
                }
            }
            line.push(c);
            cols += w;
        }
        out.push(line.trim_end().to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_bytes_follow_the_reference() {
        let mut p = EscPos::default();
        p.qr(b"https://h/t/1", 6, QrLevel::M);
        let b = p.into_bytes();
        assert_eq!(&b[..9], &[0x1D, 0x28, 0x6B, 4, 0, 0x31, 0x41, 0x32, 0]);
        assert_eq!(&b[9..17], &[0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x43, 6]);
        assert_eq!(&b[17..25], &[0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x45, 0x31]);
        assert_eq!(&b[25..33], &[0x1D, 0x28, 0x6B, 16, 0, 0x31, 0x50, 0x30]);
        assert_eq!(&b[33..46], b"https://h/t/1");
        assert_eq!(&b[46..], &[0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x51, 0x30]);
    }

    #[test]
    fn text_is_gb18030_and_cannot_inject_commands() {
        let mut p = EscPos::default();
        p.text("社保A\x1b@\n");
        assert_eq!(
            p.into_bytes(),
            vec![0xC9, 0xE7, 0xB1, 0xA3, b'A', b' ', b'@', b' ']
        );
    }

    #[test]
    fn wrapping_counts_hanzi_as_two_columns() {
        assert_eq!(columns("请A012号"), 8);
        assert_eq!(
            wrap("一二三四五六七八九十", 8),
            ["一二三四", "五六七八", "九十"]
        );
        assert_eq!(
            wrap("Thank you for waiting", 10),
            ["Thank you", "for", "waiting"]
        );
        assert_eq!(wrap("a\n\nb", 10), ["a", "", "b"]);
    }
}
