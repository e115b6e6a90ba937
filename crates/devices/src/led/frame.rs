//! LED controller frames, described by configuration instead of code: LED
//! bars over windows come from many small vendors, each with its own frame,
//! but nearly all are "header, address, maybe a command byte, maybe a length,
//! text in GB2312, a checksum, trailer". `layout` lists the fields in order.
//!
//! ```toml
//! [frame]
//! header = "AA"                  # hex bytes, spaces optional
//! trailer = "55"
//! encoding = "gb2312"            # gb2312 | gbk | gb18030 | ascii
//! checksum = "xor"               # none | sum8 | xor | crc16_modbus | crc16_modbus_be
//! checksum_covers = "after_header"   # after_header | all | text
//! layout = ["header", "address", "0x31", "len8", "text", "checksum", "trailer"]
//! ```
//!
//! Layout fields: `header`, `address` (1 byte), `address16` (2 bytes, big
//! endian), `len8` / `len16be` / `len16le` (text length in bytes), `text`,
//! `checksum`, `trailer`, and literal bytes such as `"0x31"` (a command).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// Bytes written as hex in the configuration (`"AA 55"`, `"0xAA,0x55"`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HexBytes(pub Vec<u8>);

impl TryFrom<String> for HexBytes {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let mut out = Vec::new();
        for tok in s
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
        {
            let t = tok
                .strip_prefix("0x")
                .or_else(|| tok.strip_prefix("0X"))
                .unwrap_or(tok);
            if t.len() % 2 != 0 || t.is_empty() {
                return Err(format!(
                    "{s:?}: write bytes as hex pairs, e.g. \"AA 55\" or \"0xAA 0x55\""
                ));
            }
            for i in (0..t.len()).step_by(2) {
                let byte = u8::from_str_radix(&t[i..i + 2], 16)
                    .map_err(|_| format!("{s:?}: {:?} is not hex", &t[i..i + 2]))?;
                out.push(byte);
            }
        }
        Ok(HexBytes(out))
    }
}

impl From<HexBytes> for String {
    fn from(h: HexBytes) -> String {
        hex(&h.0)
    }
}

/// `AA 55 01`.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Text encoding of the controller's font.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    /// GB2312 (EUC-CN): the 6,763 common Hanzi; what most bar controllers'
    /// fonts hold. Characters outside it are sent as `?`.
    #[default]
    Gb2312,
    /// GBK.
    Gbk,
    /// GB18030.
    Gb18030,
    /// ASCII only.
    Ascii,
}

impl TextEncoding {
    /// Encodes text; characters the encoding lacks become `?`. Returns the
    /// bytes and whether anything was replaced.
    pub fn encode(self, text: &str) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(text.len() * 2);
        let mut replaced = false;
        let mut buf = [0u8; 4];
        for c in text.chars() {
            if c.is_control() {
                out.push(b' ');
                continue;
            }
            if c.is_ascii() {
                out.push(c as u8);
                continue;
            }
            let ok = match self {
                TextEncoding::Ascii => None,
                TextEncoding::Gb18030 => {
                    Some(encoding_rs::GB18030.encode(c.encode_utf8(&mut buf)).0)
                }
                TextEncoding::Gbk | TextEncoding::Gb2312 => {
                    let (b, _, unmappable) = encoding_rs::GBK.encode(c.encode_utf8(&mut buf));
                    let fits = !unmappable
                        && b.len() == 2
                        && (self == TextEncoding::Gbk
                            || ((0xA1..=0xF7).contains(&b[0]) && (0xA1..=0xFE).contains(&b[1])));
                    fits.then_some(b)
                }
            };
            match ok {
                Some(b) => out.extend_from_slice(&b),
                None => {
                    out.push(b'?');
                    replaced = true;
                }
            }
        }
        (out, replaced)
    }

    /// Decodes (for the virtual controller and `--dry-run`).
    pub fn decode(self, bytes: &[u8]) -> String {
        match self {
            TextEncoding::Ascii => String::from_utf8_lossy(bytes).into_owned(),
            TextEncoding::Gb18030 => encoding_rs::GB18030
                .decode_without_bom_handling(bytes)
                .0
                .into_owned(),
            TextEncoding::Gbk | TextEncoding::Gb2312 => encoding_rs::GBK
                .decode_without_bom_handling(bytes)
                .0
                .into_owned(),
        }
    }
}

/// Frame checksum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Checksum {
    /// No checksum field.
    #[default]
    None,
    /// Sum of the bytes, modulo 256.
    Sum8,
    /// XOR of the bytes.
    Xor,
    /// CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), low byte first
    /// as Modbus RTU sends it.
    Crc16Modbus,
    /// The same CRC, high byte first.
    Crc16ModbusBe,
}

impl Checksum {
    /// The checksum bytes of `data`.
    pub fn compute(self, data: &[u8]) -> Vec<u8> {
        match self {
            Checksum::None => Vec::new(),
            Checksum::Sum8 => vec![data.iter().fold(0u8, |a, b| a.wrapping_add(*b))],
            Checksum::Xor => vec![data.iter().fold(0u8, |a, b| a ^ b)],
            Checksum::Crc16Modbus => crc16_modbus(data).to_le_bytes().to_vec(),
            Checksum::Crc16ModbusBe => crc16_modbus(data).to_be_bytes().to_vec(),
        }
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        match self {
            Checksum::None => 0,
            Checksum::Sum8 | Checksum::Xor => 1,
            Checksum::Crc16Modbus | Checksum::Crc16ModbusBe => 2,
        }
    }

    /// Whether the checksum is absent.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// CRC-16/MODBUS; `crc16_modbus(b"123456789") == 0x4B37`.
pub fn crc16_modbus(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// Which bytes the checksum covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Covers {
    /// Everything after the header up to the checksum (the common case).
    #[default]
    AfterHeader,
    /// Everything before the checksum, header included.
    All,
    /// The text only.
    Text,
}

/// One field of the frame layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Field {
    /// The header bytes.
    Header,
    /// The window's address, one byte.
    Address,
    /// The window's address, two bytes big endian.
    Address16,
    /// Text length in bytes, one byte.
    Len8,
    /// Text length, two bytes big endian.
    Len16Be,
    /// Text length, two bytes little endian.
    Len16Le,
    /// The encoded text.
    Text,
    /// The checksum.
    Checksum,
    /// The trailer bytes.
    Trailer,
    /// A fixed byte (a command code).
    Byte(u8),
}

impl TryFrom<String> for Field {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Ok(match s.as_str() {
            "header" => Field::Header,
            "address" => Field::Address,
            "address16" => Field::Address16,
            "len8" | "length" => Field::Len8,
            "len16be" => Field::Len16Be,
            "len16le" => Field::Len16Le,
            "text" => Field::Text,
            "checksum" => Field::Checksum,
            "trailer" => Field::Trailer,
            other => {
                let hexdigits = other
                    .strip_prefix("0x")
                    .or_else(|| other.strip_prefix("0X"))
                    .ok_or_else(|| {
                        format!("layout field {other:?}: header, address, address16, len8, len16be, len16le, text, checksum, trailer or a byte like \"0x31\"")
                    })?;
                Field::Byte(
                    u8::from_str_radix(hexdigits, 16)
                        .map_err(|_| format!("layout field {other:?} is not a byte"))?,
                )
            }
        })
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Header => f.write_str("header"),
            Field::Address => f.write_str("address"),
            Field::Address16 => f.write_str("address16"),
            Field::Len8 => f.write_str("len8"),
            Field::Len16Be => f.write_str("len16be"),
            Field::Len16Le => f.write_str("len16le"),
            Field::Text => f.write_str("text"),
            Field::Checksum => f.write_str("checksum"),
            Field::Trailer => f.write_str("trailer"),
            Field::Byte(b) => write!(f, "0x{b:02X}"),
        }
    }
}

impl From<Field> for String {
    fn from(f: Field) -> String {
        f.to_string()
    }
}

/// The `[frame]` section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameSpec {
    /// Bytes that start a frame.
    #[serde(default)]
    pub header: HexBytes,
    /// Bytes that end a frame.
    #[serde(default)]
    pub trailer: HexBytes,
    /// Text encoding.
    #[serde(default)]
    pub encoding: TextEncoding,
    /// Checksum kind.
    #[serde(default)]
    pub checksum: Checksum,
    /// What the checksum covers.
    #[serde(default)]
    pub checksum_covers: Covers,
    /// Fields in order.
    #[serde(default = "default_layout")]
    pub layout: Vec<Field>,
    /// The controller's text buffer in bytes; longer text is cut at a
    /// character boundary.
    #[serde(default)]
    pub max_text_bytes: Option<usize>,
}

fn default_layout() -> Vec<Field> {
    vec![
        Field::Header,
        Field::Address,
        Field::Len8,
        Field::Text,
        Field::Checksum,
        Field::Trailer,
    ]
}

impl Default for FrameSpec {
    fn default() -> Self {
        FrameSpec {
            header: HexBytes::default(),
            trailer: HexBytes::default(),
            encoding: TextEncoding::default(),
            checksum: Checksum::default(),
            checksum_covers: Covers::default(),
            layout: default_layout(),
            max_text_bytes: None,
        }
    }
}

/// A frame read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedFrame {
    /// Address field (0 when the layout has none).
    pub address: u16,
    /// Text, decoded.
    pub text: String,
    /// Whether the checksum matched (true without a checksum).
    pub checksum_ok: bool,
    /// The frame's bytes.
    pub raw: Vec<u8>,
}

/// Why bytes are not a frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The header does not match.
    #[error("no header at the start")]
    Header,
    /// A fixed byte or the trailer does not match.
    #[error("{0} does not match")]
    Mismatch(String),
}

impl FrameSpec {
    fn has(&self, f: Field) -> bool {
        self.layout.contains(&f)
    }

    fn len_field(&self) -> Option<Field> {
        self.layout
            .iter()
            .copied()
            .find(|f| matches!(f, Field::Len8 | Field::Len16Be | Field::Len16Le))
    }

    fn max_text(&self) -> usize {
        let by_len = match self.len_field() {
            Some(Field::Len8) => 255,
            _ => 65_535,
        };
        self.max_text_bytes.unwrap_or(by_len).min(by_len)
    }

    /// Checks that the layout can be written and read back; `at` is the
    /// section's key path (`frame`).
    pub fn validate(&self, at: &str) -> Result<(), ConfigError> {
        let count = |f: Field| self.layout.iter().filter(|x| **x == f).count();
        if count(Field::Text) != 1 {
            return Err(ConfigError::new(
                format!("{at}.layout"),
                "needs \"text\" exactly once",
            ));
        }
        for f in [
            Field::Header,
            Field::Trailer,
            Field::Checksum,
            Field::Address,
            Field::Address16,
        ] {
            if count(f) > 1 {
                return Err(ConfigError::new(
                    format!("{at}.layout"),
                    format!("\"{f}\" more than once"),
                ));
            }
        }
        if self.has(Field::Address) && self.has(Field::Address16) {
            return Err(ConfigError::new(
                format!("{at}.layout"),
                "\"address\" or \"address16\", not both",
            ));
        }
        if self.checksum.is_empty() == self.has(Field::Checksum) {
            return Err(ConfigError::new(
                format!("{at}.checksum"),
                "a checksum kind needs \"checksum\" in the layout, and \"checksum\" in the layout needs a kind",
            ));
        }
        if !self.header.0.is_empty() && !self.has(Field::Header) {
            return Err(ConfigError::new(
                format!("{at}.layout"),
                "header bytes are set but \"header\" is not in the layout",
            ));
        }
        if !self.trailer.0.is_empty() && !self.has(Field::Trailer) {
            return Err(ConfigError::new(
                format!("{at}.layout"),
                "trailer bytes are set but \"trailer\" is not in the layout",
            ));
        }
        if self.header.0.is_empty() {
            return Err(ConfigError::new(
                format!("{at}.header"),
                "a frame needs header bytes, or a controller cannot find where it starts",
            ));
        }
        let text_at = self.layout.iter().position(|f| *f == Field::Text);
        let len_at = self
            .layout
            .iter()
            .position(|f| matches!(f, Field::Len8 | Field::Len16Be | Field::Len16Le));
        let text_end_known = match (len_at, text_at) {
            (Some(l), Some(t)) => l < t,
            _ => false,
        };
        let trailer_after_text = match (
            self.layout.iter().position(|f| *f == Field::Trailer),
            text_at,
        ) {
            (Some(r), Some(t)) => r > t,
            _ => false,
        };
        if !text_end_known && (self.trailer.0.is_empty() || !trailer_after_text) {
            return Err(ConfigError::new(
                format!("{at}.layout"),
                "without a length before the text, a trailer must mark the end of the frame",
            ));
        }
        if self.max_text_bytes == Some(0) {
            return Err(ConfigError::new(
                format!("{at}.max_text_bytes"),
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// Builds the frame that shows `text` on the bar at `address`.
    pub fn build(&self, address: u16, text: &str) -> Vec<u8> {
        let (mut body, _) = self.encoding.encode(text);
        let max = self.max_text();
        if body.len() > max {
            body.truncate(cut_at_char(&body, max, self.encoding));
        }
        let mut out = Vec::with_capacity(body.len() + 16);
        let mut header_end = 0;
        let mut text_range = (0, 0);
        for f in &self.layout {
            match f {
                Field::Header => {
                    out.extend_from_slice(&self.header.0);
                    header_end = out.len();
                }
                Field::Address => out.push((address & 0xFF) as u8),
                Field::Address16 => out.extend_from_slice(&address.to_be_bytes()),
                Field::Len8 => out.push(body.len().min(255) as u8),
                Field::Len16Be => out.extend_from_slice(&(body.len() as u16).to_be_bytes()),
                Field::Len16Le => out.extend_from_slice(&(body.len() as u16).to_le_bytes()),
                Field::Text => {
                    text_range.0 = out.len();
                    out.extend_from_slice(&body);
                    text_range.1 = out.len();
                }
                Field::Checksum => {
                    let covered = match self.checksum_covers {
                        Covers::AfterHeader => &out[header_end..],
                        Covers::All => &out[..],
                        Covers::Text => &out[text_range.0..text_range.1],
                    };
                    let sum = self.checksum.compute(covered);
                    out.extend_from_slice(&sum);
                }
                Field::Trailer => out.extend_from_slice(&self.trailer.0),
                Field::Byte(b) => out.push(*b),
            }
        }
        out
    }

    /// Reads one frame at the start of `bytes`: `Ok(None)` when more bytes
    /// are needed, `Ok(Some((frame, bytes used)))`, or why it is not one.
    pub fn decode(&self, bytes: &[u8]) -> Result<Option<(DecodedFrame, usize)>, FrameError> {
        self.decode_with(bytes, None)
    }

    /// `decode`, with the text length fixed when the layout has no length
    /// field (trying each place the trailer could end the frame).
    fn decode_with(
        &self,
        bytes: &[u8],
        forced_len: Option<usize>,
    ) -> Result<Option<(DecodedFrame, usize)>, FrameError> {
        let mut at = 0usize;
        let mut header_end = 0;
        let mut address = 0u16;
        let mut text_len: Option<usize> = None;
        let mut text_range = (0, 0);
        let mut checksum_ok = true;
        let take = |at: usize, n: usize| bytes.get(at..at + n);
        for (i, f) in self.layout.iter().enumerate() {
            match f {
                Field::Header => {
                    let h = &self.header.0;
                    match take(at, h.len()) {
                        Some(got) if got == h.as_slice() => {}
                        Some(_) => return Err(FrameError::Header),
                        None if bytes[at..] == h[..bytes.len() - at] => return Ok(None),
                        None => return Err(FrameError::Header),
                    }
                    at += h.len();
                    header_end = at;
                }
                Field::Address => {
                    let Some(b) = take(at, 1) else {
                        return Ok(None);
                    };
                    address = u16::from(b[0]);
                    at += 1;
                }
                Field::Address16 => {
                    let Some(b) = take(at, 2) else {
                        return Ok(None);
                    };
                    address = u16::from_be_bytes([b[0], b[1]]);
                    at += 2;
                }
                Field::Len8 => {
                    let Some(b) = take(at, 1) else {
                        return Ok(None);
                    };
                    text_len = Some(usize::from(b[0]));
                    at += 1;
                }
                Field::Len16Be | Field::Len16Le => {
                    let Some(b) = take(at, 2) else {
                        return Ok(None);
                    };
                    let v = if *f == Field::Len16Be {
                        u16::from_be_bytes([b[0], b[1]])
                    } else {
                        u16::from_le_bytes([b[0], b[1]])
                    };
                    text_len = Some(usize::from(v));
                    at += 2;
                }
                Field::Text => {
                    let n = match text_len.or(forced_len) {
                        Some(n) => n,
                        None => {
                            // The text ends where the fixed-size rest and the trailer fit.
                            let tail: usize = self.layout[i + 1..]
                                .iter()
                                .map(|f| match f {
                                    Field::Checksum => self.checksum.len(),
                                    Field::Trailer => self.trailer.0.len(),
                                    Field::Byte(_) | Field::Address | Field::Len8 => 1,
                                    Field::Address16 | Field::Len16Be | Field::Len16Le => 2,
                                    Field::Header | Field::Text => 0,
                                })
                                .sum();
                            let trailer = &self.trailer.0;
                            if trailer.is_empty() || tail < trailer.len() {
                                return Err(FrameError::Mismatch(
                                    "layout (no way to find the end of the text)".into(),
                                ));
                            }
                            // The trailer bytes can also occur inside a
                            // binary checksum: prefer the first end whose
                            // checksum holds, as a controller would.
                            let mut first = None;
                            let mut failed = None;
                            let mut k = at;
                            while k + tail <= bytes.len() {
                                if bytes[k + tail - trailer.len()..k + tail] == trailer[..] {
                                    match self.decode_with(bytes, Some(k - at)) {
                                        Ok(Some(found)) if found.0.checksum_ok => {
                                            return Ok(Some(found))
                                        }
                                        Ok(Some(found)) => {
                                            first.get_or_insert(found);
                                        }
                                        Ok(None) => {}
                                        Err(e) => failed = Some(e),
                                    }
                                }
                                k += 1;
                            }
                            return match (first, failed) {
                                (Some(f), _) => Ok(Some(f)),
                                (None, Some(e)) => Err(e),
                                (None, None) => Ok(None),
                            };
                        }
                    };
                    if take(at, n).is_none() {
                        return Ok(None);
                    }
                    text_range = (at, at + n);
                    at += n;
                }
                Field::Checksum => {
                    let n = self.checksum.len();
                    let Some(got) = take(at, n) else {
                        return Ok(None);
                    };
                    let covered = match self.checksum_covers {
                        Covers::AfterHeader => &bytes[header_end..at],
                        Covers::All => &bytes[..at],
                        Covers::Text => &bytes[text_range.0..text_range.1],
                    };
                    checksum_ok = self.checksum.compute(covered) == got;
                    at += n;
                }
                Field::Trailer => {
                    let t = &self.trailer.0;
                    let Some(got) = take(at, t.len()) else {
                        return Ok(None);
                    };
                    if got != t.as_slice() {
                        return Err(FrameError::Mismatch("trailer".into()));
                    }
                    at += t.len();
                }
                Field::Byte(b) => {
                    let Some(got) = take(at, 1) else {
                        return Ok(None);
                    };
                    if got[0] != *b {
                        return Err(FrameError::Mismatch(format!("byte 0x{b:02X}")));
                    }
                    at += 1;
                }
            }
        }
        Ok(Some((
            DecodedFrame {
                address,
                text: self.encoding.decode(&bytes[text_range.0..text_range.1]),
                checksum_ok,
                raw: bytes[..at].to_vec(),
            },
            at,
        )))
    }
}

/// The longest prefix of `bytes` (encoded text) of at most `max` bytes that
/// ends on a character boundary.
fn cut_at_char(bytes: &[u8], max: usize, enc: TextEncoding) -> usize {
    let mut i = 0;
    while i < bytes.len() {
        let w = if bytes[i] < 0x80 {
            1
        } else if enc == TextEncoding::Gb18030
            && bytes.get(i + 1).is_some_and(|b| (0x30..=0x39).contains(b))
        {
            4
        } else {
            2
        };
        if i + w > max {
            break;
        }
        i += w;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_reference_values() {
        assert_eq!(crc16_modbus(b"123456789"), 0x4B37);
        assert_eq!(Checksum::Crc16Modbus.compute(b"123456789"), [0x37, 0x4B]);
        assert_eq!(Checksum::Crc16ModbusBe.compute(b"123456789"), [0x4B, 0x37]);
        // Modbus "read holding registers" request 01 03 00 00 00 0A → C5 CD.
        assert_eq!(
            Checksum::Crc16Modbus.compute(&[0x01, 0x03, 0x00, 0x00, 0x00, 0x0A]),
            [0xC5, 0xCD]
        );
        assert_eq!(Checksum::Sum8.compute(&[0xFF, 0x02, 0x01]), [0x02]);
        assert_eq!(Checksum::Xor.compute(&[0x0F, 0xF0, 0x01]), [0xFE]);
    }

    #[test]
    fn gb2312_keeps_common_hanzi_and_marks_the_rest() {
        let (b, r) = TextEncoding::Gb2312.encode("请A012号");
        assert_eq!(b, [0xC7, 0xEB, b'A', b'0', b'1', b'2', 0xBA, 0xC5]);
        assert!(!r);
        // 㐀 (CJK Ext. A) is in GBK/GB18030 but not GB2312; 𠀀 only in GB18030.
        assert_eq!(
            TextEncoding::Gb2312.encode("暂停"),
            TextEncoding::Gbk.encode("暂停")
        );
        assert_eq!(TextEncoding::Gb2312.encode("喆").0, b"?");
        assert_eq!(TextEncoding::Gbk.encode("喆").0, [0x86, 0xB4]);
        assert_eq!(TextEncoding::Gbk.encode("𠀀"), (b"?".to_vec(), true));
        assert_eq!(TextEncoding::Gb18030.encode("𠀀").0.len(), 4);
        assert_eq!(TextEncoding::Ascii.encode("请A"), (b"?A".to_vec(), true));
    }

    fn spec(toml_text: &str) -> FrameSpec {
        toml::from_str(toml_text).expect("spec")
    }

    #[test]
    fn build_and_decode_round_trip() {
        let s = spec(
            r#"header = "AA"
trailer = "55"
checksum = "xor"
layout = ["header", "address", "0x31", "len8", "text", "checksum", "trailer"]"#,
        );
        s.validate("frame").expect("valid");
        let f = s.build(3, "请A012号");
        assert_eq!(
            hex(&f),
            "AA 03 31 08 C7 EB 41 30 31 32 BA C5 ".to_owned()
                + &format!("{:02X}", Checksum::Xor.compute(&f[1..12])[0])
                + " 55"
        );
        let (d, used) = s.decode(&f).expect("frame").expect("complete");
        assert_eq!(used, f.len());
        assert_eq!(
            (d.address, d.text.as_str(), d.checksum_ok),
            (3, "请A012号", true)
        );
        // Every prefix is "need more".
        for k in 0..f.len() {
            assert_eq!(s.decode(&f[..k]), Ok(None), "prefix {k}");
        }
        let mut bad = f.clone();
        bad[5] ^= 1;
        assert!(
            !s.decode(&bad)
                .expect("frame")
                .expect("complete")
                .0
                .checksum_ok
        );
        assert_eq!(s.decode(&[0x00, 0xAA]), Err(FrameError::Header));
    }

    #[test]
    fn text_without_length_ends_at_the_trailer() {
        let s = spec(
            r#"header = "02"
trailer = "03"
checksum = "crc16_modbus"
checksum_covers = "all"
layout = ["header", "address16", "text", "checksum", "trailer"]"#,
        );
        s.validate("frame").expect("valid");
        let f = s.build(0x0102, "暂停服务");
        let (d, used) = s.decode(&f).expect("ok").expect("complete");
        assert_eq!(
            (d.address, d.text.as_str(), d.checksum_ok),
            (0x0102, "暂停服务", true)
        );
        assert_eq!(used, f.len());
        let empty = s.build(7, "");
        assert_eq!(s.decode(&empty).expect("ok").expect("complete").0.text, "");
    }

    #[test]
    fn long_text_is_cut_on_a_character() {
        let s = FrameSpec {
            header: HexBytes(vec![0xAA]),
            max_text_bytes: Some(5),
            ..FrameSpec::default()
        };
        let f = s.build(1, "请A012号");
        let (d, _) = s.decode(&f).expect("ok").expect("complete");
        assert_eq!(d.text, "请A01");
    }

    #[test]
    fn bad_layouts_name_the_field() {
        let e = |t: &str| spec(t).validate("frame").expect_err(t).field;
        assert_eq!(
            e("header = \"AA\"\nlayout = [\"header\", \"address\"]"),
            "frame.layout"
        );
        assert_eq!(
            e("header = \"AA\"\nchecksum = \"sum8\"\nlayout = [\"header\", \"len8\", \"text\"]"),
            "frame.checksum"
        );
        assert_eq!(
            e("header = \"AA\"\nlayout = [\"header\", \"text\"]"),
            "frame.layout"
        );
        assert_eq!(e("layout = [\"len8\", \"text\"]"), "frame.header");
        assert!(toml::from_str::<FrameSpec>("header = \"A\"").is_err());
        assert!(toml::from_str::<FrameSpec>("layout = [\"colour\"]").is_err());
    }
}
