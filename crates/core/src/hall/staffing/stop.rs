//! The one path of every window stop: a pause with nobody to take over, a
//! logout, a close by the supervisor, by accepted advice or by the tidal
//! policy. The window stops, then fails over what it held: tickets
//! transferred to it go back to their category's pool, categories nobody
//! else serves move to fallback/comprehensive windows, and the supervisor is
//! warned.

use crate::config::WindowKind;
use crate::error::Rejected;
use crate::event::{CategoryWindows, EventKind, WarningDetail, WarningKind};
use crate::hall::handle::Ctx;
use crate::hall::Hall;
use crate::model::{Level, TicketState, WindowState};
use crate::reason::Reason;

impl Hall {
    /// Whether the window may be closed now: open and not busy.
    pub(crate) fn check_close(&self, window: u32) -> Result<usize, Rejected> {
        let w = self.win_index(window)?;
        let win = &self.windows[w];
        if win.state == WindowState::Closed {
            return Err(Rejected::WindowClosed(window));
        }
        if win.is_busy() {
            return Err(Rejected::CloseWhileBusy);
        }
        Ok(w)
    }

    pub(crate) fn supervisor_close(&mut self, cx: &mut Ctx, window: u32) -> Result<(), Rejected> {
        // Closing a window that is being opened calls the summons off (and
        // closes it too if it was paused unmanned).
        if let Some(s) = self.summons.get(&window) {
            let w = self.win_index(window)?;
            let closed = self.windows[w].state == WindowState::Closed;
            if !closed {
                self.check_close(window)?;
            }
            let kind = EventKind::SummonsEnded {
                window,
                staff: s.staff.clone(),
                outcome: crate::event::SummonsOutcome::Cancelled,
            };
            self.emit(cx, kind);
            if !closed {
                self.close_window(cx, window, Reason::SupervisorClose);
            }
            return Ok(());
        }
        self.check_close(window)?;
        self.close_window(cx, window, Reason::SupervisorClose);
        Ok(())
    }

    /// The one way a window closes (supervisor, accepted advice, the tidal
    /// policy): through [`Hall::stop_window`], so tickets transferred to it
    /// go back to the pool instead of waiting at a closed window. The caller
    /// has checked [`Hall::check_close`].
    pub(crate) fn close_window(&mut self, cx: &mut Ctx, window: u32, reason: Reason) {
        let Ok(w) = self.win_index(window) else {
            return;
        };
        let staff = self.windows[w].on_duty.as_ref().map(|s| s.staff.clone());
        let tidal = self.kind_of(w) == WindowKind::Tidal;
        let why = reason.clone();
        self.stop_window(cx, window, staff, why, false, |_| EventKind::WindowClosed {
            window,
            tidal,
            reason,
        });
    }

    /// Stops a window (pause or close) and fails over what it held: tickets
    /// directed to it go back to the pool, categories nobody else serves move
    /// to fallback/comprehensive windows; the supervisor is warned.
    pub(crate) fn stop_window(
        &mut self,
        cx: &mut Ctx,
        window: u32,
        staff: Option<String>,
        reason: Reason,
        always_warn: bool,
        stop: impl FnOnce(&Hall) -> EventKind,
    ) {
        let Ok(w) = self.win_index(window) else {
            return;
        };
        // A clerk's pause is planned: tickets move quietly, and only a
        // category left with no open window warns (red).
        let planned = matches!(reason, Reason::Pause { .. });
        let served_before = self.effective_serves(w);
        let covered_before = self.coverage.covered;
        let kind = stop(self);
        self.emit(cx, kind);
        let lost = covered_before & !self.coverage.covered;
        let mut tickets: Vec<(u64, String)> = self.directed[w]
            .iter()
            .map(|&(_, s)| (s, self.tickets[&s].id.to_string()))
            .collect();
        tickets.sort_unstable();
        let tickets: Vec<String> = tickets.into_iter().map(|(_, id)| id).collect();
        if tickets.is_empty() && lost == 0 && !always_warn {
            return;
        }
        let categories: Vec<String> = self
            .config
            .categories
            .iter()
            .enumerate()
            .filter(|(c, _)| lost & (1 << c) != 0)
            .map(|(_, c)| c.id.clone())
            .collect();
        let to_windows: Vec<u32> = self
            .windows
            .iter()
            .enumerate()
            .filter(|(i, win)| win.is_staffed() && self.effective_serves(*i) & lost != 0)
            .map(|(_, win)| win.number)
            .collect();
        // Categories no open window serves any more: said with their own
        // code, never as a move to an empty list of windows.
        let unserved: Vec<String> = self
            .config
            .categories
            .iter()
            .enumerate()
            .filter(|(c, _)| lost & (1 << c) != 0 && self.coverage.eligible[*c] == 0)
            .map(|(_, c)| c.id.clone())
            .collect();
        // Per category this window served: the open windows serving it now,
        // never an empty list (those categories are `unserved`).
        let serving: Vec<CategoryWindows> = self
            .config
            .categories
            .iter()
            .enumerate()
            .filter(|(c, _)| served_before & (1 << c) != 0)
            .filter_map(|(c, cat)| {
                let windows: Vec<u32> = self
                    .windows
                    .iter()
                    .enumerate()
                    .filter(|(i, win)| {
                        win.is_staffed() && self.effective_serves(*i) & (1 << c) != 0
                    })
                    .map(|(_, win)| win.number)
                    .collect();
                (!windows.is_empty()).then(|| CategoryWindows {
                    category: cat.id.clone(),
                    windows,
                })
            })
            .collect();
        let tickets_moved = tickets.len() as u32;
        let level = if unserved.is_empty() {
            Level::Yellow
        } else {
            Level::Red
        };
        let detail = if unserved.is_empty() {
            WarningDetail::Failover {
                reason: reason.clone(),
                tickets_moved,
                categories: categories.clone(),
                to_windows: to_windows.clone(),
                serving: serving.clone(),
            }
        } else {
            WarningDetail::FailoverUnserved {
                reason: reason.clone(),
                tickets_moved,
                categories: categories.clone(),
                to_windows: to_windows.clone(),
                unserved: unserved.clone(),
                serving: serving.clone(),
            }
        };
        let warn = !planned || !unserved.is_empty();
        let mut sys = cx.system();
        self.emit(
            &mut sys,
            EventKind::Failover {
                window,
                staff,
                reason,
                tickets,
                categories,
                to_windows,
                unserved,
                serving,
                planned,
            },
        );
        if !warn {
            return;
        }
        self.emit(
            &mut sys,
            EventKind::Warning {
                level,
                kind: WarningKind::Failover,
                window: Some(window),
                ticket: None,
                number: None,
                category: None,
                detail: Some(detail),
                message: None,
            },
        );
    }

    /// Directed tickets go back to their category's pool with their key; they
    /// keep waiting, so their wait-watch entry stays.
    pub(super) fn apply_failover(&mut self, window: u32, tickets: &[String]) {
        let w = self.layout.win_index.get(&window).copied();
        for id in tickets {
            let Some(serial) = self.tickets.serial_of(id) else {
                continue;
            };
            let Some(t) = self.tickets.get_mut(&serial) else {
                continue;
            };
            if t.state != TicketState::Waiting || t.directed_to != Some(window) {
                continue;
            }
            t.directed_to = None;
            let key = (t.key, serial);
            if let (Some(w), Some(&c)) = (w, self.layout.cat_index.get(t.category.as_str())) {
                self.directed[w].remove(&key);
                self.queues[c].insert(key);
                self.near_turn_scan.moved();
            }
        }
    }
}
