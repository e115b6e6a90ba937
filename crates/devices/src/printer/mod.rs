//! The kiosk's thermal ticket printer (ESC/POS).
//!
//! Each job opens the device, asks for its status (`DLE EOT 1..4`), refuses
//! to print on a printer that cannot (no paper, cover open, error: the kiosk
//! then shows the ticket on screen with 请扫码 and the supervisor is warned),
//! sends the ticket and closes. A fresh connection per ticket means a printer
//! that was power-cycled, or a network printer that another host used in
//! between, needs no recovery logic; it costs one TCP handshake (~1 ms on a
//! hall LAN) per ticket.

pub mod config;
pub mod monitor;
pub mod status;
pub mod ticket;

use std::time::Duration;

use crate::escpos::status_request;
use crate::link::{Link, LinkError};
pub use config::{validate_printers, PrinterConfig, Width};
pub use monitor::{spawn_monitor, PrinterHealth};
pub use status::{BadStatusByte, PrinterProblem, PrinterStatus};
pub use ticket::{render_ticket, wait_text, IssueTime, TicketLayout, TicketPrint};

/// Why a ticket was not printed.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// The printer reported a state it cannot print in (paper out, cover
    /// open, error). Show the ticket on screen and warn the supervisor.
    #[error("{}: {}", .target, .status.describe())]
    NotReady {
        /// The printer.
        target: String,
        /// What it reported.
        status: PrinterStatus,
    },
    /// The printer could not be reached, or did not answer in time.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The printer answered something that is not an ESC/POS status.
    #[error("{target}: {source}")]
    BadStatus {
        /// The printer.
        target: String,
        /// The byte.
        source: BadStatusByte,
    },
}

impl PrintError {
    /// The problems to put in the supervisor's warning: the reported ones,
    /// or "offline" when the printer could not be reached at all.
    pub fn problems(&self) -> Vec<PrinterProblem> {
        match self {
            PrintError::NotReady { status, .. } => status.problems(),
            PrintError::Link(_) | PrintError::BadStatus { .. } => vec![PrinterProblem::Offline],
        }
    }
}

/// One configured printer. Clones share one device lock, so a status poll
/// and a ticket never talk to the device at the same time (a serial port
/// opens exclusively; a network printer serves one connection at a time).
#[derive(Clone, Debug)]
pub struct Printer {
    config: PrinterConfig,
    busy: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Printer {
    /// A printer from its (validated) configuration.
    pub fn new(config: PrinterConfig) -> Printer {
        Printer {
            config,
            busy: std::sync::Arc::default(),
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &PrinterConfig {
        &self.config
    }

    fn timeout(&self) -> Duration {
        self.config.timeout()
    }

    /// Asks the printer for its status.
    pub async fn status(&self) -> Result<PrinterStatus, PrintError> {
        let _device = self.busy.lock().await;
        let mut link = Link::open(&self.config.connect, self.timeout()).await?;
        let s = query_status(&mut link, self.timeout()).await;
        link.close(self.timeout()).await;
        s
    }

    /// Prints a ticket. With `check_status` (the default) the printer is
    /// asked first and a printer that cannot print gets nothing.
    pub async fn print(&self, ticket: &TicketPrint) -> Result<(), PrintError> {
        self.print_checked(ticket).await.map(|_| ())
    }

    /// Like [`Printer::print`], and returns the status seen before printing
    /// (`None` without `check_status`), so the caller can warn about paper
    /// that is nearly used up while tickets still print.
    pub async fn print_checked(
        &self,
        ticket: &TicketPrint,
    ) -> Result<Option<PrinterStatus>, PrintError> {
        let bytes = render_ticket(ticket, &TicketLayout::from(&self.config));
        self.send(&bytes).await
    }

    /// Sends prepared ESC/POS bytes, after the same status check.
    pub async fn send(&self, bytes: &[u8]) -> Result<Option<PrinterStatus>, PrintError> {
        let t = self.timeout();
        let _device = self.busy.lock().await;
        let mut link = Link::open(&self.config.connect, t).await?;
        let status = if self.config.check_status {
            let s = query_status(&mut link, t).await?;
            if !s.can_print() {
                link.close(t).await;
                return Err(PrintError::NotReady {
                    target: self.config.connect.to_string(),
                    status: s,
                });
            }
            Some(s)
        } else {
            None
        };
        // A ticket is ~200 bytes plus the QR; allow for a slow serial line
        // (9600 baud ≈ 1 KB/s) on top of the per-operation timeout.
        let send_timeout = t + Duration::from_millis(bytes.len() as u64);
        link.write_all(bytes, send_timeout).await?;
        link.close(t).await;
        Ok(status)
    }
}

/// `DLE EOT 1..4` on an open link, one answer byte each.
pub async fn query_status(link: &mut Link, timeout: Duration) -> Result<PrinterStatus, PrintError> {
    let mut s = PrinterStatus::default();
    for n in status::STATUS_REQUESTS {
        link.write_all(&status_request(n), timeout).await?;
        let b = link.read_byte(timeout).await?;
        s.apply(n, b).map_err(|source| PrintError::BadStatus {
            target: link.target().to_owned(),
            source,
        })?;
    }
    Ok(s)
}
