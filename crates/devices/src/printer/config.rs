//! `[[hall.printer]]`: one thermal printer per kiosk.
//!
//! ```toml
//! [[hall.printer]]
//! kiosk = "kiosk-east-1"            # the kiosk token whose tickets this printer prints
//! connect = "tcp://10.0.0.21:9100"  # or "/dev/usb/lp0", or "serial:/dev/ttyUSB0?baud=9600"
//! footer = "请留意叫号，过号请到服务台重新排队"
//! width = 48                        # characters per line: 48 (80 mm), 42 (80 mm, wide font), 32 (58 mm)
//! ```

use serde::{Deserialize, Serialize};

use crate::connect::Connect;
use crate::error::ConfigError;
use crate::escpos::CutMode;

/// Characters per line in Font A.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct Width(u8);

impl Width {
    /// 80 mm paper, 12-dot font: the common kiosk printer.
    pub const W48: Width = Width(48);
    /// 80 mm paper on printers with a 576-dot line and wider cells.
    pub const W42: Width = Width(42);
    /// 58 mm paper.
    pub const W32: Width = Width(32);

    /// Columns per line.
    pub fn columns(self) -> usize {
        usize::from(self.0)
    }
}

impl Default for Width {
    fn default() -> Self {
        Width::W48
    }
}

impl TryFrom<u16> for Width {
    type Error = String;
    fn try_from(n: u16) -> Result<Self, Self::Error> {
        match n {
            48 => Ok(Width::W48),
            42 => Ok(Width::W42),
            32 => Ok(Width::W32),
            _ => Err(format!(
                "width = {n}: characters per line must be 48 or 42 (80 mm paper) or 32 (58 mm)"
            )),
        }
    }
}

impl From<Width> for u16 {
    fn from(w: Width) -> u16 {
        u16::from(w.0)
    }
}

/// One `[[hall.printer]]` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrinterConfig {
    /// The kiosk token this printer serves: tickets issued with that token
    /// are printed here.
    pub kiosk: String,
    /// Where the printer is.
    pub connect: Connect,
    /// Printed at the bottom of every ticket; `\n` starts a new line.
    #[serde(default)]
    pub footer: String,
    /// Characters per line.
    #[serde(default)]
    pub width: Width,
    /// QR module size in dots, 1–16 (6 ≈ 25 mm for a status URL).
    #[serde(default = "default_qr_size")]
    pub qr_size: u8,
    /// Partial (default) or full cut.
    #[serde(default)]
    pub cut: CutMode,
    /// Ask the printer for its status (`DLE EOT`) before each ticket, and
    /// refuse to send a ticket to a printer without paper. Turn off only
    /// for a printer whose connection cannot answer (a one-way USB adapter).
    #[serde(default = "default_true")]
    pub check_status: bool,
    /// Milliseconds allowed for connecting and for each read or write.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_qr_size() -> u8 {
    6
}
fn default_true() -> bool {
    true
}
fn default_timeout_ms() -> u64 {
    3000
}

/// Longest footer accepted, in characters.
pub const MAX_FOOTER_CHARS: usize = 400;

impl PrinterConfig {
    /// A printer with default settings.
    pub fn new(kiosk: impl Into<String>, connect: Connect) -> PrinterConfig {
        PrinterConfig {
            kiosk: kiosk.into(),
            connect,
            footer: String::new(),
            width: Width::default(),
            qr_size: default_qr_size(),
            cut: CutMode::default(),
            check_status: true,
            timeout_ms: default_timeout_ms(),
        }
    }

    /// Checks the values that serde cannot; `at` is this entry's key path
    /// (`printer[0]`).
    pub fn validate(&self, at: &str) -> Result<(), ConfigError> {
        if self.kiosk.trim().is_empty() {
            return Err(ConfigError::new(
                format!("{at}.kiosk"),
                "the kiosk token this printer serves is required",
            ));
        }
        if !(1..=16).contains(&self.qr_size) {
            return Err(ConfigError::new(
                format!("{at}.qr_size"),
                format!("{} is not a QR module size (1 to 16 dots)", self.qr_size),
            ));
        }
        if !(100..=60_000).contains(&self.timeout_ms) {
            return Err(ConfigError::new(
                format!("{at}.timeout_ms"),
                format!("{} ms: use 100 to 60000", self.timeout_ms),
            ));
        }
        let n = self.footer.chars().count();
        if n > MAX_FOOTER_CHARS {
            return Err(ConfigError::new(
                format!("{at}.footer"),
                format!("{n} characters; at most {MAX_FOOTER_CHARS} fit a ticket"),
            ));
        }
        if self.footer.chars().any(|c| c.is_control() && c != '\n') {
            return Err(ConfigError::new(
                format!("{at}.footer"),
                "control characters are not printed; use \\n for a new line",
            ));
        }
        Ok(())
    }

    /// The timeout as a `Duration`.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.timeout_ms)
    }
}

/// Validates a hall's printers: each entry, no kiosk with two printers, and
/// (when the hall's kiosk tokens are given) every printer's kiosk is one of
/// them.
pub fn validate_printers(
    printers: &[PrinterConfig],
    kiosk_tokens: Option<&[String]>,
) -> Result<(), ConfigError> {
    for (i, p) in printers.iter().enumerate() {
        let at = format!("printer[{i}]");
        p.validate(&at)?;
        if printers[..i].iter().any(|q| q.kiosk == p.kiosk) {
            return Err(ConfigError::new(
                format!("{at}.kiosk"),
                "another printer already serves this kiosk",
            ));
        }
        if let Some(tokens) = kiosk_tokens {
            if !tokens.iter().any(|t| t == &p.kiosk) {
                return Err(ConfigError::new(
                    format!("{at}.kiosk"),
                    "not one of the hall's kiosk_tokens",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Hall {
        printer: Vec<PrinterConfig>,
    }

    fn parse(text: &str) -> Result<Vec<PrinterConfig>, String> {
        toml::from_str::<Hall>(text)
            .map(|h| h.printer)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn reads_the_documented_table() {
        let p = parse(
            r#"
[[printer]]
kiosk = "kiosk-1"
connect = "tcp://10.0.0.21:9100"
footer = "请留意叫号"

[[printer]]
kiosk = "kiosk-2"
connect = "/dev/usb/lp0"
width = 42
cut = "full"

[[printer]]
kiosk = "kiosk-3"
connect = "serial:/dev/ttyUSB0?baud=9600"
width = 32
check_status = false
"#,
        )
        .expect("parse");
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].width, Width::W48);
        assert_eq!(p[0].qr_size, 6);
        assert_eq!(p[1].width, Width::W42);
        assert_eq!(p[1].cut, CutMode::Full);
        assert!(!p[2].check_status);
        let tokens: Vec<String> = ["kiosk-1", "kiosk-2", "kiosk-3"].map(String::from).into();
        assert_eq!(validate_printers(&p, Some(&tokens)), Ok(()));
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse("[[printer]]\nkiosk = \"k\"\nconnect = \"10.0.0.21\"\n").expect_err("c");
        assert!(
            e.contains("connect") && e.contains("expected tcp://"),
            "{e}"
        );
        let e = parse("[[printer]]\nkiosk = \"k\"\nconnect = \"/dev/usb/lp0\"\nwidth = 40\n")
            .expect_err("w");
        assert!(e.contains("width = 40"), "{e}");
        let e = parse("[[printer]]\nkiosk = \"k\"\nconnect = \"/dev/usb/lp0\"\nfooter2 = \"\"\n")
            .expect_err("unknown");
        assert!(e.contains("footer2"), "{e}");

        let ok = PrinterConfig::new("k", Connect::parse("/dev/usb/lp0").expect("c"));
        let mut bad = ok.clone();
        bad.kiosk = " ".into();
        assert_eq!(
            validate_printers(&[bad], None).map_err(|e| e.field),
            Err("printer[0].kiosk".into())
        );
        let mut bad = ok.clone();
        bad.qr_size = 0;
        assert_eq!(
            validate_printers(&[bad], None).map_err(|e| e.field),
            Err("printer[0].qr_size".into())
        );
        let mut bad = ok.clone();
        bad.timeout_ms = 5;
        assert_eq!(
            validate_printers(&[bad], None).map_err(|e| e.field),
            Err("printer[0].timeout_ms".into())
        );
        let mut bad = ok.clone();
        bad.footer = "a\u{1b}b".into();
        assert_eq!(
            validate_printers(&[bad], None).map_err(|e| e.field),
            Err("printer[0].footer".into())
        );
        let e = validate_printers(&[ok.clone(), ok.clone()], None).expect_err("dup");
        assert_eq!(e.field, "printer[1].kiosk");
        let e = validate_printers(&[ok], Some(&["other".to_owned()])).expect_err("unknown kiosk");
        assert_eq!(
            e.to_string(),
            "printer[0].kiosk: not one of the hall's kiosk_tokens"
        );
    }
}
