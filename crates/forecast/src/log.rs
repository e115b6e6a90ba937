//! A day of the hall's own event log, reduced to what the forecast reads.

use std::collections::HashMap;

use chrono_tz::Tz;
use hallcall_core::{Event, EventKind, Millis};

use crate::{DayLog, SLOTS, SLOT_MS};

impl DayLog {
    /// What one business day's events say, for the categories `pooled`
    /// accepts (those the plan's windows serve; a category with a
    /// specialist window of its own is left to it).
    ///
    /// - arrivals: `ticket_issued` per half-hour of local time;
    /// - work per arrival: for every call, the window's time from the call
    ///   to the start (the citizen's walk) or to the no-show, plus the
    ///   handling time of each completion, over the tickets issued — so the
    ///   no-show rate and the handling times both enter as the window feels
    ///   them;
    /// - summoning lead: from `window_summoned` to `window_opened` at that
    ///   window.
    pub fn from_events<'a>(
        events: impl IntoIterator<Item = &'a Event>,
        weekday: u8,
        tz: Tz,
        pooled: impl Fn(&str) -> bool,
    ) -> DayLog {
        let mut day = DayLog {
            weekday,
            arrivals: [0.0; SLOTS],
            work_s: 0.0,
            served: 0,
            summons_s: 0.0,
            summons: 0,
        };
        // Ticket id -> when its latest call came, for pooled tickets only.
        let mut called: HashMap<&str, Option<Millis>> = HashMap::new();
        let mut summoned: HashMap<u32, Millis> = HashMap::new();
        let secs = |ms: Millis| ms.max(0) as f64 / 1000.0;
        for ev in events {
            match &ev.kind {
                EventKind::TicketIssued {
                    ticket, category, ..
                } if pooled(category) => {
                    let ms = hallcall_core::time::local(tz, ev.at).ms_of_day;
                    let k = (ms / SLOT_MS).clamp(0, SLOTS as i64 - 1) as usize;
                    day.arrivals[k] += 1.0;
                    day.served += 1;
                    called.insert(ticket, None);
                }
                EventKind::TicketCalled { ticket, .. } => {
                    if let Some(c) = called.get_mut(ticket.as_str()) {
                        // A recall keeps the first call: the window has
                        // been waiting since then.
                        c.get_or_insert(ev.at);
                    }
                }
                EventKind::ServiceStarted { ticket, .. }
                | EventKind::TicketNoShow { ticket, .. } => {
                    if let Some(c) = called.get_mut(ticket.as_str()) {
                        if let Some(at) = c.take() {
                            day.work_s += secs(ev.at - at);
                        }
                    }
                }
                EventKind::ServiceCompleted {
                    ticket, handling_s, ..
                } if called.contains_key(ticket.as_str()) => {
                    day.work_s += handling_s.max(0.0);
                }
                EventKind::WindowSummoned { window, .. } => {
                    summoned.insert(*window, ev.at);
                }
                EventKind::WindowOpened { window, .. } => {
                    if let Some(at) = summoned.remove(window) {
                        day.summons_s += secs(ev.at - at);
                        day.summons += 1;
                    }
                }
                EventKind::SummonsEnded { window, .. } => {
                    summoned.remove(window);
                }
                _ => {}
            }
        }
        day
    }
}
