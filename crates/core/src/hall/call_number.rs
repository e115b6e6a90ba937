//! 指定叫号: a clerk calls a given number instead of the next in line — a
//! citizen at the counter whose number the clerk can see, an urgent case —
//! or calls back a ticket held (挂起) at this window. A waiting ticket must
//! be one this window may serve now; calling it before the tickets ahead of
//! it is recorded on the event (`out_of_order`) so statistics can count it,
//! and who called is the event's actor and `staff`, like every call.

use crate::error::Rejected;
use crate::event::EventKind;
use crate::hall::handle::{state_name, Ctx};
use crate::hall::Hall;
use crate::model::TicketState;

/// `a12`, ` A012 ` and `A0012` all name `A012`: the prefix letter upper-cased
/// and the sequence at least three digits, as tickets are numbered.
pub(crate) fn normalize_number(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let mut chars = raw.chars();
    let prefix = chars.next()?.to_ascii_uppercase();
    if !prefix.is_ascii_uppercase() {
        return None;
    }
    let digits = chars.as_str();
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    Some(format!("{prefix}{n:03}"))
}

impl Hall {
    /// The serial of today's ticket numbered `number` (already normalized).
    /// A scan: a clerk names a number a few times an hour, and an index
    /// would cost every issue.
    pub(crate) fn serial_of_number(&self, number: &str) -> Option<u64> {
        self.tickets
            .values()
            .filter(|t| t.number == number)
            .map(|t| t.serial)
            .max()
    }

    pub(crate) fn call_number(
        &mut self,
        cx: &mut Ctx,
        window: u32,
        number: &str,
    ) -> Result<(), Rejected> {
        let (staff, w) = self.ready_to_call(cx, window)?;
        let number = normalize_number(number)
            .ok_or_else(|| Rejected::UnknownNumber(number.trim().to_string()))?;
        let serial = self
            .serial_of_number(&number)
            .ok_or_else(|| Rejected::UnknownNumber(number.clone()))?;
        let t = &self.tickets[&serial];
        let (out_of_order, resumed) = match t.state {
            TicketState::Held => match self.holds.get(&serial) {
                Some(h) if h.window == window => (false, true),
                Some(h) => {
                    return Err(Rejected::HeldElsewhere {
                        number,
                        window: h.window,
                    })
                }
                None => (false, true),
            },
            TicketState::Waiting => {
                if let Some(to) = t.directed_to.filter(|&to| to != window) {
                    return Err(Rejected::DirectedElsewhere { number, window: to });
                }
                let c = self.cat_index(&t.category)?;
                if t.directed_to.is_none() && self.effective_serves(w) & (1 << c) == 0 {
                    return Err(Rejected::CannotServe {
                        window,
                        category: t.category.as_str().to_owned(),
                    });
                }
                (self.next_for(w) != Some(serial), false)
            }
            other => {
                return Err(Rejected::NotCallable {
                    number,
                    state: state_name(other),
                })
            }
        };
        let t = &self.tickets[&serial];
        let kind = EventKind::TicketCalled {
            ticket: t.id.as_str().to_owned(),
            number: t.number.as_str().to_owned(),
            category: t.category.as_str().to_owned(),
            window,
            staff,
            recall: false,
            out_of_order,
            resumed,
        };
        self.emit(cx, kind);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_number;
    use crate::hall::testing::H;
    use crate::{Command, EventKind, Rejected, TicketState};

    fn call_number(h: &mut H, window: u32, number: &str) -> Result<Vec<crate::Event>, Rejected> {
        h.clerk(
            window,
            Command::CallNumber {
                window,
                number: number.into(),
            },
        )
    }

    #[test]
    fn numbers_are_read_as_tickets_are_numbered() {
        assert_eq!(normalize_number(" a12 ").as_deref(), Some("A012"));
        assert_eq!(normalize_number("A0012").as_deref(), Some("A012"));
        assert_eq!(normalize_number("B1234").as_deref(), Some("B1234"));
        assert_eq!(normalize_number("12"), None);
        assert_eq!(normalize_number("A"), None);
        assert_eq!(normalize_number("A1x"), None);
    }

    #[test]
    fn calling_a_later_number_is_out_of_order_and_the_first_stays_first() {
        let mut h = H::demo();
        h.open(1);
        let (a1, _) = h.issue("general");
        let (a2, _) = h.issue("general");
        let evs = call_number(&mut h, 1, "a2").unwrap();
        match &evs[0].kind {
            EventKind::TicketCalled {
                number,
                out_of_order,
                staff,
                ..
            } => {
                assert_eq!(number, "A002");
                assert!(*out_of_order);
                assert_eq!(staff, "s01");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(h.hall.ticket(&a2).unwrap().state, TicketState::Called);
        assert_eq!(h.hall.ticket(&a1).unwrap().state, TicketState::Waiting);
        // Citizens are not told a call was out of order.
        assert!(!evs[0].public().to_json().contains("out_of_order"));
        assert!(evs[0].to_json().contains("\"out_of_order\":true"));
        // Calling the head of the line is not out of order.
        h.finish(1, 60);
        let evs = call_number(&mut h, 1, "A001").unwrap();
        assert!(matches!(
            &evs[0].kind,
            EventKind::TicketCalled {
                out_of_order: false,
                ..
            }
        ));
    }

    #[test]
    fn a_number_the_window_cannot_serve_or_not_waiting_is_refused_and_changes_nothing() {
        let mut h = H::demo();
        h.open(1);
        h.open(6); // market only
        h.issue("general");
        let e = call_number(&mut h, 6, "A001").unwrap_err();
        assert_eq!(e.code(), "cannot_serve");
        let e = call_number(&mut h, 1, "A009").unwrap_err();
        assert_eq!(e, Rejected::UnknownNumber("A009".into()));
        let e = call_number(&mut h, 1, "hello").unwrap_err();
        assert_eq!(e.code(), "unknown_number");
        h.call(1);
        // busy: the window has a ticket called
        let e = call_number(&mut h, 1, "A001").unwrap_err();
        assert_eq!(e.code(), "window_busy");
        h.finish(1, 60);
        let e = call_number(&mut h, 1, "A001").unwrap_err();
        assert_eq!(e.code(), "not_callable");
    }
}
