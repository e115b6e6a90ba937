//! The one path of every window stop: a pause with nobody to take over, a
//! logout, a close by the supervisor, by accepted advice or by the tidal
//! policy. The window stops, then fails over what it held: tickets
//! transferred to it go back to their category's pool, categories nobody
//! else serves move to fallback/comprehensive windows, and the supervisor is
//! warned.

use crate::config::WindowKind;
use crate::error::Rejected;
use crate::event::{EventKind, WarningKind};
use crate::hall::handle::Ctx;
use crate::hall::Hall;
use crate::model::{Level, TicketState, WindowState};

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
        self.check_close(window)?;
        self.close_window(cx, window, "主管关窗", "主管关窗".into());
        Ok(())
    }

    /// The one way a window closes (supervisor, accepted advice, the tidal
    /// policy): through [`Hall::stop_window`], so tickets transferred to it
    /// go back to the pool instead of waiting at a closed window. The caller
    /// has checked [`Hall::check_close`].
    pub(crate) fn close_window(
        &mut self,
        cx: &mut Ctx,
        window: u32,
        failover: &str,
        reason: String,
    ) {
        let Ok(w) = self.win_index(window) else {
            return;
        };
        let staff = self.windows[w].on_duty.as_ref().map(|s| s.staff.clone());
        let tidal = self.kind_of(w) == WindowKind::Tidal;
        self.stop_window(cx, window, staff, failover, false, |_| {
            EventKind::WindowClosed {
                window,
                tidal,
                reason,
            }
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
        reason: &str,
        always_warn: bool,
        stop: impl FnOnce(&Hall) -> EventKind,
    ) {
        let Ok(w) = self.win_index(window) else {
            return;
        };
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
        let unserved = (0..self.config.categories.len())
            .any(|c| lost & (1 << c) != 0 && self.coverage.eligible[c] == 0);
        let message = format!(
            "{reason}：{}张转办票退回公共队列{}{}",
            tickets.len(),
            if categories.is_empty() {
                String::new()
            } else {
                format!("，{}改由{:?}号窗口办理", categories.join("、"), to_windows)
            },
            if unserved {
                "；有业务无窗口可办，请立即安排"
            } else {
                ""
            }
        );
        let mut sys = cx.system();
        self.emit(
            &mut sys,
            EventKind::Failover {
                window,
                staff,
                reason: reason.to_string(),
                tickets,
                categories,
                to_windows,
            },
        );
        self.emit(
            &mut sys,
            EventKind::Warning {
                level: if unserved { Level::Red } else { Level::Yellow },
                kind: WarningKind::Failover,
                window: Some(window),
                ticket: None,
                number: None,
                category: None,
                message,
            },
        );
    }

    /// Directed tickets go back to their category's pool with their key; they
    /// keep waiting, so their wait-watch entry stays.
    pub(super) fn apply_failover(&mut self, window: u32, tickets: &[String]) {
        let w = self.layout.win_index.get(&window).copied();
        for id in tickets {
            let Some(serial) = self.by_id.get(id.as_str()).copied() else {
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
            }
        }
    }
}
