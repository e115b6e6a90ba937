//! Polling a printer between tickets, so paper that runs out at 3 p.m. is a
//! supervisor warning at 3 p.m., not a citizen without a ticket at 4.
//!
//! [`spawn_monitor`] asks the printer for its status every `every` and
//! publishes the result on a `watch` channel; the server raises a warning
//! when `problems` changes (`changed()` wakes only on a change of what is
//! wrong, not on every poll).

use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::printer::{PrintError, Printer, PrinterProblem, PrinterStatus};

/// The latest poll's outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PrinterHealth {
    /// What is wrong; empty when the printer is fine (or not yet polled).
    pub problems: Vec<PrinterProblem>,
    /// The status, when the printer answered.
    pub status: Option<PrinterStatus>,
    /// Why it did not answer.
    pub error: Option<String>,
    /// Polls done.
    pub polls: u64,
}

impl PrinterHealth {
    /// Whether a ticket can be printed, as far as the last poll knows.
    pub fn can_print(&self) -> bool {
        !self.problems.iter().any(|p| p.blocks_printing())
    }

    fn from_poll(r: &Result<PrinterStatus, PrintError>, polls: u64) -> PrinterHealth {
        match r {
            Ok(s) => PrinterHealth {
                problems: s.problems(),
                status: Some(*s),
                error: None,
                polls,
            },
            Err(e) => PrinterHealth {
                problems: e.problems(),
                status: None,
                error: Some(e.to_string()),
                polls,
            },
        }
    }
}

/// Polls `printer` every `every` until the returned task is aborted or
/// every receiver is dropped. The channel's value changes (and wakes
/// receivers) only when the set of problems changes; `polls` and the raw
/// status are updated silently in between.
pub fn spawn_monitor(
    printer: Printer,
    every: Duration,
) -> (JoinHandle<()>, watch::Receiver<PrinterHealth>) {
    let (tx, rx) = watch::channel(PrinterHealth::default());
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut polls = 0u64;
        loop {
            tick.tick().await;
            if tx.is_closed() {
                return;
            }
            polls += 1;
            let r = printer.status().await;
            let health = PrinterHealth::from_poll(&r, polls);
            tx.send_if_modified(|cur| {
                let changed = cur.problems != health.problems || cur.polls == 0;
                if changed {
                    tracing::info!(
                        printer = %printer.config().connect,
                        problems = ?health.problems,
                        "打印机状态变化"
                    );
                }
                *cur = health;
                changed
            });
        }
    });
    (task, rx)
}
