//! Tickets: issuing a number (per prefix and business day,
//! the call-order key with its priority bonus), appointment
//! check-in, a citizen's cancel (booking: `booking.rs`, rating: `rating.rs`).

use crate::error::Rejected;
use crate::event::{Event, EventKind};
use crate::hall::handle::{state_name, Ctx};
use crate::hall::Hall;
use crate::model::{Channel, Level, Priority, Ticket, TicketState};
use crate::time::{Millis, MINUTE, SECOND};

/// Appointment check-in opens this long before the slot and closes this long after.
pub const CHECK_IN_GRACE: Millis = 15 * MINUTE;

/// A ticket request as the kiosk (or a phone, or a greeter) makes it.
pub(crate) struct Issue {
    /// The unguessable status-page id, chosen by the shell.
    pub id: String,
    pub category: String,
    pub priority: Priority,
    pub channel: Channel,
    pub appointment_code: Option<String>,
}

impl Hall {
    pub(crate) fn issue(&mut self, cx: &mut Ctx, req: Issue) -> Result<(), Rejected> {
        let Issue {
            id,
            category,
            mut priority,
            channel,
            appointment_code,
        } = req;
        let now = cx.now;
        let c = self.cat_index(&category)?;
        if priority == Priority::Appointment {
            return Err(Rejected::BadPriority("appointment"));
        }
        if !self.is_open_now(now) {
            return Err(Rejected::HallClosed);
        }
        if id.is_empty() || self.tickets.serial_of(&id).is_some() {
            return Err(Rejected::DuplicateId);
        }
        let mut late = false;
        if let Some(code) = &appointment_code {
            let a = self
                .appointments
                .get(code)
                .ok_or(Rejected::UnknownAppointment)?;
            if a.used {
                return Err(Rejected::AppointmentUsed);
            }
            if a.category != category {
                return Err(Rejected::AppointmentCategory(a.category.clone()));
            }
            if now < a.slot_start - CHECK_IN_GRACE {
                return Err(Rejected::AppointmentTooEarly);
            }
            // Late on the day of the slot: served as a normal ticket (below).
            // A slot of an earlier business day is over: book again.
            if now > a.slot_start + CHECK_IN_GRACE
                && self.business_date_of(a.slot_start) < self.business_date_of(now)
            {
                return Err(Rejected::AppointmentExpired);
            }
            if now <= a.slot_start + CHECK_IN_GRACE {
                priority = Priority::Appointment;
            } else {
                late = true;
            }
        }
        if appointment_code.is_none() {
            // Issuing knows the day: the category's daily cap, and no new
            // ticket this close to closing (a booked check-in is owed).
            let cat = &self.config.categories[c];
            let issued = self.counters[(cat.prefix as u8 - b'A') as usize];
            if let Some(cap) = cat.daily_cap.filter(|&cap| issued >= cap) {
                return Err(Rejected::DailyCapReached { category, cap });
            }
            let minutes = cat.last_ticket_before_close_min;
            if let Some(close) = self.closes_now(now) {
                if now >= close - i64::from(minutes) * MINUTE {
                    return Err(Rejected::LastTicketPassed { minutes });
                }
            }
        }
        let bonus = self.bonus_s(priority);
        let prefix = self.config.categories[c].prefix;
        let n = self.counters[(prefix as u8 - b'A') as usize] + 1;
        let number = ticket_number(prefix, n);
        self.emit(
            cx,
            EventKind::TicketIssued {
                ticket: id,
                number,
                category,
                priority,
                channel,
                key: now - i64::from(bonus) * SECOND,
                appointment: appointment_code,
                appointment_late: late,
            },
        );
        Ok(())
    }

    /// The call-order bonus of a priority class, seconds.
    pub(crate) fn bonus_s(&self, priority: Priority) -> u32 {
        let b = &self.config.priority_bonus_s;
        match priority {
            Priority::Normal => 0,
            Priority::Elderly => b.elderly,
            Priority::Disabled => b.disabled,
            Priority::Pregnant => b.pregnant,
            Priority::Military => b.military,
            Priority::Appointment => b.appointment,
        }
    }

    /// The citizen leaves the queue (or gives up after a no-show).
    pub(crate) fn cancel(&mut self, cx: &mut Ctx, ticket: &str) -> Result<(), Rejected> {
        let serial = self.serial_of(ticket)?;
        let t = &self.tickets[&serial];
        if !matches!(t.state, TicketState::Waiting | TicketState::NoShow) {
            return Err(Rejected::NotCancellable(state_name(t.state)));
        }
        let kind = EventKind::TicketCancelled {
            ticket: t.id.as_str().to_owned(),
            number: t.number.as_str().to_owned(),
        };
        self.emit(cx, kind);
        Ok(())
    }

    /// State changes of this rule's events.
    pub(super) fn apply_tickets(&mut self, ev: &Event) {
        let at = ev.at;
        match &ev.kind {
            EventKind::TicketIssued {
                ticket,
                number,
                category,
                priority,
                channel,
                key,
                appointment,
                ..
            } => {
                let serial = self.next_serial;
                self.next_serial += 1;
                if let Some(p) = number.bytes().next() {
                    if p.is_ascii_uppercase() {
                        self.counters[(p - b'A') as usize] += 1;
                    }
                }
                if let Some(code) = appointment {
                    if let Some(a) = self.appointments.get_mut(code) {
                        a.used = true;
                    }
                }
                let t = Ticket {
                    id: ticket.as_str().into(),
                    serial,
                    number: number.as_str().into(),
                    category: category.as_str().into(),
                    priority: *priority,
                    channel: *channel,
                    issued_at: at,
                    key: *key,
                    state: TicketState::Waiting,
                    waiting_since: at,
                    directed_to: None,
                    window: None,
                    staff: None,
                    called_at: None,
                    started_at: None,
                    finished_at: None,
                    calls: 0,
                    recalls: 0,
                    rating: None,
                    appointment: appointment.clone(),
                    service_warned: Level::Green,
                    wait_warned: false,
                };
                self.tickets.insert(serial, t);
                self.enqueue(serial);
            }
            EventKind::TicketCancelled { ticket, .. } => {
                if let Some(serial) = self.tickets.serial_of(ticket) {
                    self.dequeue(serial);
                }
                self.set_ticket_state(ticket, TicketState::Cancelled, at);
            }
            _ => {}
        }
    }

    pub(crate) fn ticket_mut(&mut self, id: &str) -> Option<&mut Ticket> {
        let serial = self.tickets.serial_of(id)?;
        self.tickets.get_mut(&serial)
    }

    pub(crate) fn set_ticket_state(&mut self, id: &str, state: TicketState, at: Millis) {
        if let Some(t) = self.ticket_mut(id) {
            t.state = state;
            if state.is_final() {
                t.finished_at = Some(at);
            }
        }
    }
}

/// The key of an appointment slot's booking count.
pub(crate) fn slot_key(category: &str, slot_start: Millis) -> String {
    format!("{category}@{slot_start}")
}

/// `format!("{prefix}{n:03}")` without the formatting machinery (≈ 570
/// instructions an issue through `format!`, ≈ 60 here).
fn ticket_number(prefix: char, n: u32) -> String {
    let mut s = String::with_capacity(8);
    s.push(prefix);
    if n < 1_000 {
        for d in [n / 100, n / 10 % 10, n % 10] {
            s.push(char::from(b'0' + d as u8));
        }
    } else {
        s.push_str(&n.to_string());
    }
    s
}

#[cfg(test)]
mod number_tests {
    #[test]
    fn ticket_number_is_the_zero_padded_format() {
        for prefix in ['A', 'Z', 'é'] {
            for n in (0..20_000).chain([u32::MAX - 1, u32::MAX]) {
                assert_eq!(super::ticket_number(prefix, n), format!("{prefix}{n:03}"));
            }
        }
    }
}
