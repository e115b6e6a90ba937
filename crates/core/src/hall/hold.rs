//! 挂起: the ticket being served is parked — the citizen goes to fetch a
//! missing document or copy — so the window can call others meanwhile. The
//! held ticket belongs to the window that held it: only that window calls it
//! back (`call {number}`, see `call_number`), at once, ahead of anyone
//! waiting. Not called back within `hold_max_min` it becomes a no-show
//! (`ticket_no_show` with `held: true`, requeueable like any 过号), at the
//! deadline the hall names in `poll_timeout`. The time served before the
//! hold counts on in the handling time once service starts again.

use serde::{Deserialize, Serialize};

use crate::error::Rejected;
use crate::event::{Event, EventKind};
use crate::hall::handle::Ctx;
use crate::hall::Hall;
use crate::model::{TicketState, WindowState};
use crate::time::{Millis, MINUTE};

/// A ticket on hold: where, since when, until when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hold {
    pub window: u32,
    pub at: Millis,
    pub deadline: Millis,
    /// Time served before the hold, ms.
    pub served_ms: Millis,
}

impl Hall {
    pub(crate) fn hold(&mut self, cx: &mut Ctx, window: u32) -> Result<(), Rejected> {
        let staff = self.on_duty_actor(&cx.by, window)?;
        let w = &self.windows[self.win_index(window)?];
        let serial = match (w.state, w.current) {
            (WindowState::Serving, Some(s)) => s,
            _ => return Err(Rejected::NothingServing(window)),
        };
        let t = &self.tickets[&serial];
        let kind = EventKind::TicketHeld {
            ticket: t.id.as_str().to_owned(),
            number: t.number.as_str().to_owned(),
            category: t.category.as_str().to_owned(),
            window,
            staff,
            deadline: cx.now + i64::from(self.config.hold_max_min) * MINUTE,
        };
        self.emit(cx, kind);
        Ok(())
    }

    /// The tickets held at `window`, oldest first: (serial, hold).
    pub fn held_at(&self, window: u32) -> impl Iterator<Item = (u64, &Hold)> {
        self.holds
            .iter()
            .filter(move |(_, h)| h.window == window)
            .map(|(s, h)| (*s, h))
    }

    /// The held tickets of a window as the view shows them.
    pub(crate) fn held_views(&self, window: u32) -> Vec<crate::view::HeldView> {
        self.held_at(window)
            .filter_map(|(serial, h)| {
                let t = self.tickets.get(&serial)?;
                Some(crate::view::HeldView {
                    number: t.number.as_str().to_owned(),
                    category: t.category.as_str().to_owned(),
                    since: crate::time::rfc3339(h.at),
                    deadline: crate::time::rfc3339(h.deadline),
                })
            })
            .collect()
    }

    /// The earliest hold deadline, for `poll_timeout`.
    pub(crate) fn next_hold_at(&self) -> Option<Millis> {
        self.holds.values().map(|h| h.deadline).min()
    }

    /// Holds past their deadline become no-shows. `cx` acts as the system.
    pub(crate) fn expire_holds(&mut self, cx: &mut Ctx) {
        let due: Vec<(u64, u32)> = self
            .holds
            .iter()
            .filter(|(_, h)| h.deadline <= cx.now)
            .map(|(s, h)| (*s, h.window))
            .collect();
        for (serial, window) in due {
            let Some(t) = self.tickets.get(&serial) else {
                continue;
            };
            let kind = EventKind::TicketNoShow {
                ticket: t.id.as_str().to_owned(),
                number: t.number.as_str().to_owned(),
                window,
                held: true,
            };
            self.emit(cx, kind);
        }
    }

    /// State changes of `ticket_held` and of a held ticket's no-show.
    pub(super) fn apply_hold(&mut self, ev: &Event) {
        let at = ev.at;
        match &ev.kind {
            EventKind::TicketHeld {
                ticket,
                window,
                deadline,
                ..
            } => {
                let Some(serial) = self.tickets.serial_of(ticket) else {
                    return;
                };
                let mut served_ms = 0;
                if let Some(t) = self.tickets.get_mut(&serial) {
                    served_ms = t.started_at.map_or(0, |s| (at - s).max(0));
                    t.state = TicketState::Held;
                }
                self.holds.insert(
                    serial,
                    Hold {
                        window: *window,
                        at,
                        deadline: *deadline,
                        served_ms,
                    },
                );
                self.free_window(*window, at);
            }
            EventKind::TicketNoShow { ticket, .. } => {
                if let Some(serial) = self.tickets.serial_of(ticket) {
                    self.holds.remove(&serial);
                }
                // The window it was held at serves someone else by now.
                self.set_ticket_state(ticket, TicketState::NoShow, at);
            }
            _ => {}
        }
    }

    /// After `apply_calling`: a held ticket called back leaves the holds and
    /// keeps the time it was served before; when service starts again, its
    /// start moves back by that much so the handling time counts both parts.
    pub(super) fn after_call_for_hold(&mut self, ev: &Event) {
        match &ev.kind {
            EventKind::TicketCalled {
                ticket,
                resumed: true,
                ..
            } => {
                if let Some(serial) = self.tickets.serial_of(ticket) {
                    if let Some(h) = self.holds.remove(&serial) {
                        self.resumed.insert(serial, h.served_ms);
                    }
                }
            }
            EventKind::ServiceStarted { ticket, .. } => {
                let Some(serial) = self.tickets.serial_of(ticket) else {
                    return;
                };
                if let Some(served) = self.resumed.remove(&serial) {
                    if let Some(t) = self.tickets.get_mut(&serial) {
                        t.started_at = Some(ev.at - served);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::hall::testing::{types, H};
    use crate::model::WindowState;
    use crate::{Command, EventKind, TicketState};

    fn hold(h: &mut H, window: u32) -> Result<Vec<crate::Event>, crate::Rejected> {
        h.clerk(window, Command::Hold { window })
    }

    fn call_number(
        h: &mut H,
        window: u32,
        number: &str,
    ) -> Result<Vec<crate::Event>, crate::Rejected> {
        h.clerk(
            window,
            Command::CallNumber {
                window,
                number: number.into(),
            },
        )
    }

    #[test]
    fn a_held_ticket_frees_the_window_and_comes_back_at_once_with_its_handling_time() {
        let mut h = H::demo();
        h.open(1);
        let (a1, _) = h.issue("general");
        h.issue("general");
        h.call(1);
        h.clerk(1, Command::Start { window: 1 }).unwrap();
        h.advance(120);
        let evs = hold(&mut h, 1).unwrap();
        assert_eq!(types(&evs), ["ticket_held"]);
        assert_eq!(h.hall.ticket(&a1).unwrap().state, TicketState::Held);
        assert_eq!(h.hall.window(1).unwrap().state, WindowState::Open);
        assert_eq!(h.hall.held_at(1).count(), 1);
        // The window calls the next citizen meanwhile.
        assert_eq!(h.call(1).as_deref(), Some("A002"));
        h.finish(1, 60);
        // A held ticket cannot be cancelled from the phone.
        let e = h
            .run(crate::Actor::Public, Command::Cancel { ticket: a1.clone() })
            .unwrap_err();
        assert_eq!(e.code(), "not_cancellable");
        let evs = call_number(&mut h, 1, "A001").unwrap();
        match &evs[0].kind {
            EventKind::TicketCalled {
                resumed,
                out_of_order,
                ..
            } => assert!(*resumed && !*out_of_order),
            other => panic!("{other:?}"),
        }
        assert_eq!(h.hall.held_at(1).count(), 0);
        h.clerk(1, Command::Start { window: 1 }).unwrap();
        h.advance(30);
        let evs = h.clerk(1, Command::Complete { window: 1 }).unwrap();
        match &evs[0].kind {
            EventKind::ServiceCompleted { handling_s, .. } => assert_eq!(*handling_s, 150.0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_the_window_that_held_a_ticket_calls_it_back() {
        let mut h = H::demo();
        h.open(1);
        h.open(2);
        h.issue("general");
        h.call(1);
        h.clerk(1, Command::Start { window: 1 }).unwrap();
        hold(&mut h, 1).unwrap();
        let e = call_number(&mut h, 2, "A001").unwrap_err();
        assert_eq!(e.code(), "held_elsewhere");
        // Nothing served: nothing to hold.
        let e = hold(&mut h, 1).unwrap_err();
        assert_eq!(e.code(), "nothing_serving");
    }

    #[test]
    fn a_hold_not_called_back_in_time_becomes_a_no_show_at_its_deadline() {
        let mut h = H::demo();
        h.open(1);
        let (a1, _) = h.issue("general");
        h.call(1);
        h.clerk(1, Command::Start { window: 1 }).unwrap();
        let held_at = h.now;
        hold(&mut h, 1).unwrap();
        h.issue("general");
        h.call(1); // window 1 now calls A002
        let deadline = held_at + 30 * 60_000;
        assert_eq!(h.hall.poll_timeout().map(|d| d <= deadline), Some(true));
        h.now = deadline - 1;
        assert!(h.tick().iter().all(|e| e.type_name() != "ticket_no_show"));
        assert_eq!(h.hall.poll_timeout(), Some(deadline));
        h.now = deadline;
        let evs = h.tick();
        assert_eq!(types(&evs), ["ticket_no_show"]);
        assert!(matches!(
            evs[0].kind,
            EventKind::TicketNoShow { held: true, .. }
        ));
        assert_eq!(h.hall.ticket(&a1).unwrap().state, TicketState::NoShow);
        // Window 1 still calls A002: the expiry did not free it.
        assert_eq!(h.hall.window(1).unwrap().state, WindowState::Calling);
        assert_eq!(h.hall.held_at(1).count(), 0);
        // A no-show from hold may be requeued like any other.
        h.ok(crate::Actor::Kiosk, Command::Requeue { ticket: a1.clone() });
        assert_eq!(h.hall.ticket(&a1).unwrap().state, TicketState::Waiting);
    }

    #[test]
    fn the_log_rebuilds_holds_chains_notices_and_near_turns() {
        let mut h = H::demo();
        h.open(1);
        for _ in 0..6 {
            h.issue("general");
        }
        h.ok(
            crate::Actor::Supervisor,
            Command::AddNotice {
                text: "今天下午暂停不动产登记".into(),
                starts_at: h.now,
                ends_at: h.now + 3_600_000,
            },
        );
        call_number(&mut h, 1, "A004").unwrap();
        h.clerk(1, Command::Start { window: 1 }).unwrap();
        h.advance(60);
        hold(&mut h, 1).unwrap(); // A004 held, 60 s served
        h.call(1);
        h.clerk(1, Command::Start { window: 1 }).unwrap();
        h.advance(30);
        // A001 goes on to market at its original place.
        h.clerk(
            1,
            Command::CompleteAndSend {
                window: 1,
                next_category: "market".into(),
            },
        )
        .unwrap();
        call_number(&mut h, 1, "A004").unwrap(); // back from hold, not started yet
        h.assert_replays();
        h.clerk(1, Command::Start { window: 1 }).unwrap();
        h.clerk(1, Command::Hold { window: 1 }).unwrap();
        h.now += 31 * 60_000;
        h.tick(); // the second hold runs out
        h.assert_replays();
        h.ok(crate::Actor::Kiosk, Command::CloseDay);
        h.assert_replays();
        assert_eq!(
            h.hall.holds.len() + h.hall.chained.len() + h.hall.near_turn.len(),
            0
        );
    }
}
