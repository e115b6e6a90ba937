//! `apply`: the one place state changes. It trusts its events (they were
//! decided by `handle` or read back from the log) and never fails. Each event
//! goes to the module of its rule; what every event needs afterwards (wait
//! watch compaction, coverage, tidal timers, the waiting chart) happens here.

use crate::event::{Event, EventKind as K};
use crate::hall::Hall;

impl Hall {
    /// Applies one event. Events must come in sequence order; an event with a
    /// sequence number at or below the current one is ignored, which makes
    /// replay over a snapshot idempotent.
    pub fn apply(&mut self, ev: &Event) {
        if ev.seq <= self.seq {
            return;
        }
        self.seq = ev.seq;
        let at = ev.at;
        let mut windows_changed = false;
        match &ev.kind {
            K::DayOpened { .. } | K::TicketExpired { .. } => {
                self.apply_day(ev);
                self.forget_ticket_extras(ev);
            }
            K::DayClosed { .. } => {
                self.apply_day(ev);
                self.prune_bad_ratings(at);
                self.forget_ticket_extras(ev);
            }
            // A held ticket's no-show must not free the window it was held
            // at: that window serves someone else by now.
            K::TicketHeld { .. } | K::TicketNoShow { held: true, .. } => self.apply_hold(ev),
            K::TicketChained { .. } => self.apply_chain(ev),
            K::TicketNearTurn { ticket, .. } => {
                if let Some(serial) = self.tickets.serial_of(ticket) {
                    self.near_turn.insert(serial);
                }
            }
            K::NoticeAdded { .. } | K::NoticeRemoved { .. } => self.apply_notices(ev),
            K::RatingRecorded { .. } | K::RatingFollowedUp { .. } => self.apply_rating(ev),
            K::AppointmentBooked { .. } | K::AppointmentCancelled { .. } => self.apply_booking(ev),
            K::TicketIssued { .. } | K::TicketCancelled { .. } => {
                self.apply_tickets(ev);
                self.forget_ticket_extras(ev);
            }
            K::TicketCalled { .. }
            | K::TicketNoShow { .. }
            | K::TicketRequeued { .. }
            | K::ServiceStarted { .. }
            | K::ServiceCompleted { .. }
            | K::TicketTransferred { .. } => {
                self.apply_calling(ev);
                self.after_call_for_hold(ev);
                self.forget_ticket_extras(ev);
            }
            K::StaffLoggedIn { .. }
            | K::StaffLoggedOut { .. }
            | K::WindowOpened { .. }
            | K::WindowSummoned { .. }
            | K::SummonsEnded { .. }
            | K::WindowClosed { .. }
            | K::WindowPaused { .. }
            | K::WindowResumed { .. }
            | K::PostHandover { .. }
            | K::Failover { .. } => windows_changed = self.apply_staffing(ev),
            K::TidalAdvice { .. } | K::AdviceResolved { .. } | K::StaffingPlanSet { .. } => {
                self.apply_tidal(ev)
            }
            K::Warning { .. } => self.apply_warning(ev),
            K::ConfigReloaded { config } | K::ConfigEdited { config, .. } => {
                self.reconfigure((**config).clone(), at);
                windows_changed = true;
            }
        }
        if let Some(c) = self.pending_trim.take() {
            // Dead entries are dropped in bulk once they outnumber the live
            // ones: taking a ticket out of the queue then touches no other
            // ticket (at 100,000 waiting, every ticket touched is a cache miss).
            if self.wait_watch[c].len() > 2 * self.waiting[c] as usize + 64 {
                self.compact_watch(c);
            }
        }
        if windows_changed {
            self.recompute_coverage();
        }
        self.track_tidal_conditions(at);
        self.sample_waiting(at);
    }

    /// What the hold, chain and near-turn rules keep per ticket, dropped
    /// when it no longer applies: a new wait (requeue, transfer) may be
    /// told again that it is near its turn; a ticket that left the day
    /// leaves every list; a closed day leaves nothing behind.
    fn forget_ticket_extras(&mut self, ev: &Event) {
        match &ev.kind {
            K::DayClosed { .. } => {
                self.holds.clear();
                self.resumed.clear();
                self.chained.clear();
                self.near_turn.clear();
            }
            K::TicketRequeued { ticket, .. } | K::TicketTransferred { ticket, .. } => {
                if let Some(serial) = self.tickets.serial_of(ticket) {
                    self.near_turn.remove(&serial);
                }
            }
            K::TicketExpired { ticket, .. } | K::TicketCancelled { ticket, .. } => {
                if let Some(serial) = self.tickets.serial_of(ticket) {
                    self.holds.remove(&serial);
                    self.resumed.remove(&serial);
                }
            }
            _ => {}
        }
    }
}
