//! # hallcall-devices — the hall's hardware
//!
//! - **Ticket printer** (取号机热敏打印机): [`printer::render_ticket`] lays a
//!   ticket out in ESC/POS (GB18030 in Chinese mode, the number in double
//!   size, a native QR code of the status page, a cut), and
//!   [`printer::Printer`] sends it over TCP port 9100, a USB printer device
//!   file or a serial port, after asking the printer for its status
//!   (`DLE EOT`): a printer without paper gets nothing and the caller gets
//!   [`printer::PrintError::NotReady`] to warn the supervisor with.
//! - **LED bars** (窗口条屏): `hallcall led` ([`led::client::run_led`])
//!   follows a hall's event stream and writes each window's text as a frame
//!   built from configuration (address, header/trailer, GB2312/GB18030,
//!   checksum none/sum8/xor/CRC-16 MODBUS) to a serial port or TCP.
//! - [`decode`] reads ESC/POS back; with the `testing` feature,
//!   [`testing`] has a virtual printer and a virtual LED controller.
//!
//! ## What it must never do
//! - **Never decide anything about the queue.** It prints what the server
//!   issued and shows what the event stream says.
//! - **Never hang a caller.** Every device operation has a timeout; a dead
//!   printer costs a kiosk its `timeout_ms`, a dead LED bar is retried in the
//!   background while the other bars keep updating.
//! - **Never let text become commands.** Control characters in names,
//!   footers and templates are replaced before encoding.
//!
//! ## Build
//! Pure Rust: `serialport` is used without its `libudev` feature (port
//! enumeration only), so no system library is needed.

#![deny(missing_docs)]
#![deny(clippy::unwrap_used)]

pub mod connect;
pub mod decode;
mod error;
pub mod escpos;
pub mod led;
pub mod link;
pub mod printer;
#[cfg(feature = "testing")]
pub mod testing;

pub use connect::{Connect, ConnectError};
pub use error::ConfigError;
pub use led::client::{run_led, run_led_cli, LedArgs, LedError, LedOptions, LedReport, SentFrame};
pub use led::config::{LedConfig, LedConfigError};
pub use printer::{
    render_ticket, spawn_monitor, validate_printers, IssueTime, PrintError, Printer, PrinterConfig,
    PrinterHealth, PrinterProblem, PrinterStatus, TicketLayout, TicketPrint,
};
