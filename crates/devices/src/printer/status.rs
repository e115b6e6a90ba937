//! Real-time printer status (`DLE EOT n`), decoded into what a hall cares
//! about: can this kiosk print a ticket now, and does someone need to bring
//! paper soon.
//!
//! Every answer byte has bits 1 and 4 set and bits 0 and 7 clear
//! (`b & 0x93 == 0x12`); anything else is not a status answer (a printer
//! that does not speak ESC/POS, or line noise) and is refused.

use serde::Serialize;

/// The `DLE EOT` requests made, in order.
pub const STATUS_REQUESTS: [u8; 4] = [1, 2, 3, 4];

/// What the printer said about itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PrinterStatus {
    /// n=1 bit 3: the printer is offline (cover open, paper out, error, or
    /// feeding by the button).
    pub offline: bool,
    /// n=2 bit 2.
    pub cover_open: bool,
    /// n=2 bit 5 or n=4 bits 5–6: printing stopped, no paper.
    pub paper_out: bool,
    /// n=4 bits 2–3: the roll is nearly used up; tickets still print.
    pub paper_near_end: bool,
    /// n=3 bit 3.
    pub cutter_error: bool,
    /// n=3 bit 5: needs a technician (power cycle at least).
    pub unrecoverable_error: bool,
    /// n=3 bit 6 (e.g. print head too hot): clears by itself.
    pub auto_recoverable_error: bool,
}

/// One thing wrong with a printer, for the supervisor's warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterProblem {
    /// No paper: the kiosk must show the ticket on screen instead.
    PaperOut,
    /// The cover is open.
    CoverOpen,
    /// The cutter jammed.
    CutterError,
    /// An error that needs a technician.
    Error,
    /// An error that clears by itself (head too hot).
    Overheated,
    /// Offline for no reason given above.
    Offline,
    /// Paper is running out; tickets still print.
    PaperNearEnd,
}

impl PrinterProblem {
    /// Whether a ticket can still be printed with this problem.
    pub fn blocks_printing(self) -> bool {
        !matches!(self, PrinterProblem::PaperNearEnd)
    }

    /// The hall's words for it (supervisor warning, kiosk log).
    pub fn describe(self) -> &'static str {
        match self {
            PrinterProblem::PaperOut => "打印机缺纸",
            PrinterProblem::CoverOpen => "打印机上盖打开",
            PrinterProblem::CutterError => "打印机切刀故障",
            PrinterProblem::Error => "打印机故障",
            PrinterProblem::Overheated => "打印机过热",
            PrinterProblem::Offline => "打印机离线",
            PrinterProblem::PaperNearEnd => "打印机纸将用尽",
        }
    }
}

/// A status byte that is not an ESC/POS status answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("answer 0x{byte:02X} to DLE EOT {n} is not an ESC/POS status byte")]
pub struct BadStatusByte {
    /// The request.
    pub n: u8,
    /// The byte received.
    pub byte: u8,
}

fn check(n: u8, byte: u8) -> Result<u8, BadStatusByte> {
    if byte & 0x93 == 0x12 {
        Ok(byte)
    } else {
        Err(BadStatusByte { n, byte })
    }
}

impl PrinterStatus {
    /// Folds one answer into the status.
    pub fn apply(&mut self, n: u8, byte: u8) -> Result<(), BadStatusByte> {
        let b = check(n, byte)?;
        let bit = |i: u8| b & (1 << i) != 0;
        match n {
            1 => self.offline = bit(3),
            2 => {
                self.cover_open = bit(2);
                self.paper_out |= bit(5);
                // bit 6 "error occurred" is detailed by n = 3.
            }
            3 => {
                self.cutter_error = bit(3);
                self.unrecoverable_error = bit(5);
                self.auto_recoverable_error = bit(6);
            }
            4 => {
                self.paper_near_end = bit(2) && bit(3);
                self.paper_out |= bit(5) && bit(6);
            }
            _ => {}
        }
        Ok(())
    }

    /// Decodes the answers to `DLE EOT 1..=4` (any subset, in any order).
    pub fn decode(answers: &[(u8, u8)]) -> Result<PrinterStatus, BadStatusByte> {
        let mut s = PrinterStatus::default();
        for &(n, b) in answers {
            s.apply(n, b)?;
        }
        Ok(s)
    }

    /// The byte a printer in this state answers to `DLE EOT n` (the virtual
    /// printer uses it; also documents the bits).
    pub fn encode(&self, n: u8) -> u8 {
        let bit = |on: bool, i: u8| if on { 1u8 << i } else { 0 };
        0x12 | match n {
            1 => bit(self.offline, 3),
            2 => {
                bit(self.cover_open, 2)
                    | bit(self.paper_out, 5)
                    | bit(
                        self.cutter_error
                            || self.unrecoverable_error
                            || self.auto_recoverable_error,
                        6,
                    )
            }
            3 => {
                bit(self.cutter_error, 3)
                    | bit(self.unrecoverable_error, 5)
                    | bit(self.auto_recoverable_error, 6)
            }
            4 => {
                bit(self.paper_near_end, 2) | bit(self.paper_near_end, 3) | {
                    bit(self.paper_out, 5) | bit(self.paper_out, 6)
                }
            }
            _ => 0,
        }
    }

    /// A printer that is out of paper, as a real one reports it (offline too).
    pub fn paper_out() -> PrinterStatus {
        PrinterStatus {
            offline: true,
            paper_out: true,
            paper_near_end: true,
            ..PrinterStatus::default()
        }
    }

    /// Everything wrong, most serious first.
    pub fn problems(&self) -> Vec<PrinterProblem> {
        let mut p = Vec::new();
        if self.paper_out {
            p.push(PrinterProblem::PaperOut);
        }
        if self.cover_open {
            p.push(PrinterProblem::CoverOpen);
        }
        if self.cutter_error {
            p.push(PrinterProblem::CutterError);
        }
        if self.unrecoverable_error {
            p.push(PrinterProblem::Error);
        }
        if self.auto_recoverable_error {
            p.push(PrinterProblem::Overheated);
        }
        if self.offline && p.is_empty() {
            p.push(PrinterProblem::Offline);
        }
        if self.paper_near_end && !self.paper_out {
            p.push(PrinterProblem::PaperNearEnd);
        }
        p
    }

    /// Whether a ticket can be printed now.
    pub fn can_print(&self) -> bool {
        !self.problems().iter().any(|p| p.blocks_printing())
    }

    /// "打印机缺纸、打印机上盖打开", or "正常".
    pub fn describe(&self) -> String {
        let p = self.problems();
        if p.is_empty() {
            return "正常".into();
        }
        p.iter()
            .map(|p| p.describe())
            .collect::<Vec<_>>()
            .join("、")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_reference_bytes() {
        // A ready printer answers 0x12 to every request.
        let ready =
            PrinterStatus::decode(&[(1, 0x12), (2, 0x12), (3, 0x12), (4, 0x12)]).expect("ready");
        assert!(ready.can_print());
        assert!(ready.problems().is_empty());
        // Paper end: offline (0x1A), "printing stopped by paper end" (0x32),
        // roll sensor near end + end (0x7E).
        let out = PrinterStatus::decode(&[(1, 0x1A), (2, 0x32), (3, 0x12), (4, 0x7E)])
            .expect("paper out");
        assert!(out.paper_out && out.offline && !out.cover_open);
        assert_eq!(out.problems(), [PrinterProblem::PaperOut]);
        assert!(!out.can_print());
        assert_eq!(out.describe(), "打印机缺纸");
        // Cover open: 0x16 on n=2.
        let cover = PrinterStatus::decode(&[(1, 0x1A), (2, 0x16)]).expect("cover");
        assert_eq!(cover.problems(), [PrinterProblem::CoverOpen]);
        // Near end only: prints, with a warning.
        let near = PrinterStatus::decode(&[(4, 0x1E)]).expect("near");
        assert_eq!(near.problems(), [PrinterProblem::PaperNearEnd]);
        assert!(near.can_print());
        assert_eq!(
            PrinterStatus::decode(&[(1, 0x00)]),
            Err(BadStatusByte { n: 1, byte: 0 })
        );
        assert!(PrinterStatus::decode(&[(2, 0x93)]).is_err());
    }

    #[test]
    fn encode_is_the_inverse_of_decode() {
        for s in [
            PrinterStatus::default(),
            PrinterStatus::paper_out(),
            PrinterStatus {
                offline: true,
                cover_open: true,
                ..Default::default()
            },
            PrinterStatus {
                offline: true,
                cutter_error: true,
                auto_recoverable_error: true,
                ..Default::default()
            },
        ] {
            let answers: Vec<(u8, u8)> =
                STATUS_REQUESTS.iter().map(|&n| (n, s.encode(n))).collect();
            assert_eq!(PrinterStatus::decode(&answers), Ok(s));
        }
    }
}
