//! 多窗联办: one visit, several windows. A clerk completes their part and
//! sends the same ticket on to the next category's windows: the citizen
//! keeps the number (never a second ticket) and the place in line it was
//! issued with, so they are not put behind everyone who came later. The
//! completion counts as a service of the first category (statistics see two
//! services, one ticket); `ticket_chained` then puts the ticket back in
//! line in the next category. The phone page and the displays name the
//! windows that serve it.

use crate::error::Rejected;
use crate::event::{Event, EventKind};
use crate::hall::handle::Ctx;
use crate::hall::Hall;
use crate::model::{Level, TicketState, WindowState};

impl Hall {
    pub(crate) fn complete_and_send(
        &mut self,
        cx: &mut Ctx,
        window: u32,
        next_category: &str,
    ) -> Result<(), Rejected> {
        self.on_duty_actor(&cx.by, window)?;
        let w = &self.windows[self.win_index(window)?];
        let serial = match (w.state, w.current) {
            (WindowState::Serving, Some(s)) => s,
            _ => return Err(Rejected::NothingServing(window)),
        };
        self.cat_index(next_category)?;
        let t = &self.tickets[&serial];
        if t.category == next_category {
            return Err(Rejected::ChainSameCategory(next_category.to_string()));
        }
        let (ticket, number, from_category, key) = (
            t.id.as_str().to_owned(),
            t.number.as_str().to_owned(),
            t.category.as_str().to_owned(),
            t.key,
        );
        // Checked completely above: `complete` cannot refuse now.
        self.complete(cx, window)?;
        self.emit(
            cx,
            EventKind::TicketChained {
                ticket,
                number,
                from_category,
                category: next_category.to_string(),
                from_window: window,
                key,
            },
        );
        Ok(())
    }

    /// The open windows that serve `category` now (where to go next).
    pub fn windows_serving(&self, category: &str) -> Vec<u32> {
        let Some(&c) = self.layout.cat_index.get(category) else {
            return Vec::new();
        };
        self.windows
            .iter()
            .enumerate()
            .filter(|(i, w)| w.is_staffed() && self.effective_serves(*i) & (1 << c) != 0)
            .map(|(_, w)| w.number)
            .collect()
    }

    /// The category a waiting ticket was sent on from, if it was.
    pub fn chained_from(&self, serial: u64) -> Option<&str> {
        self.chained.get(&serial).map(String::as_str)
    }

    /// State change of `ticket_chained`: the finished ticket waits again in
    /// the next category with its original key.
    pub(super) fn apply_chain(&mut self, ev: &Event) {
        let EventKind::TicketChained {
            ticket,
            from_category,
            category,
            key,
            ..
        } = &ev.kind
        else {
            return;
        };
        let Some(serial) = self.tickets.serial_of(ticket) else {
            return;
        };
        if let Some(t) = self.tickets.get_mut(&serial) {
            t.state = TicketState::Waiting;
            t.category = category.as_str().into();
            t.key = *key;
            t.waiting_since = ev.at;
            t.directed_to = None;
            t.window = None;
            t.staff = None;
            t.called_at = None;
            t.started_at = None;
            t.finished_at = None;
            t.service_warned = Level::Green;
            t.wait_warned = false;
        }
        self.chained.insert(serial, from_category.clone());
        self.near_turn.remove(&serial);
        self.enqueue(serial);
    }
}

#[cfg(test)]
mod tests {
    use crate::hall::testing::{types, H};
    use crate::{Command, TicketState};

    fn send(h: &mut H, window: u32, next: &str) -> Result<Vec<crate::Event>, crate::Rejected> {
        h.clerk(
            window,
            Command::CompleteAndSend {
                window,
                next_category: next.into(),
            },
        )
    }

    #[test]
    fn a_sent_on_ticket_keeps_its_number_and_its_original_place_in_line() {
        let mut h = H::demo();
        h.open(1);
        h.open(6); // market only
        let (a1, _) = h.issue("general");
        h.advance(60);
        let (d1, _) = h.issue("market"); // came later than A001
        h.call(1);
        h.clerk(1, Command::Start { window: 1 }).unwrap();
        h.advance(300);
        let evs = send(&mut h, 1, "market").unwrap();
        assert_eq!(
            types(&evs)[..2],
            ["service_completed", "ticket_chained"],
            "{evs:?}"
        );
        let t = h.hall.ticket(&a1).unwrap();
        assert_eq!(
            (t.state, t.number.as_str(), t.category.as_str()),
            (TicketState::Waiting, "A001", "market")
        );
        assert_eq!(
            h.hall.windows_serving("market"),
            vec![1, 2, 3, 4, 5, 6]
                .into_iter()
                .filter(|w| h.hall.window(*w).unwrap().is_staffed())
                .collect::<Vec<_>>()
        );
        // Window 6 calls A001 before D001, who took a ticket after A001.
        assert_eq!(h.call(6).as_deref(), Some("A001"));
        h.finish(6, 60);
        assert_eq!(h.call(6).as_deref(), Some("D001"));
        let _ = d1;
    }

    #[test]
    fn sending_on_needs_a_ticket_in_service_and_another_known_category() {
        let mut h = H::demo();
        h.open(1);
        h.issue("general");
        let e = send(&mut h, 1, "market").unwrap_err();
        assert_eq!(e.code(), "nothing_serving");
        h.call(1);
        h.clerk(1, Command::Start { window: 1 }).unwrap();
        assert_eq!(
            send(&mut h, 1, "nope").unwrap_err().code(),
            "unknown_category"
        );
        assert_eq!(
            send(&mut h, 1, "general").unwrap_err().code(),
            "chain_same_category"
        );
    }
}
