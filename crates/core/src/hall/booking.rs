//! 预约: booking a slot, cancelling a booking, what a day's slots have left,
//! and the no-show ban (预约黑名单). Check-in at the kiosk is issuing
//! (`tickets.rs`); which dates the hall opens is `calendar.rs`.
//!
//! The phone a booking was made with reaches the core only as the
//! server's salted hash: enough to count its missed appointments, never
//! the number. A missed appointment is one whose check-in window
//! (`CHECK_IN_GRACE` after the slot) passed without a check-in; the ban is
//! decided at booking time from those, so no timer or event is needed.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::Rejected;
use crate::event::{Event, EventKind};
use crate::hall::handle::Ctx;
use crate::hall::tickets::{slot_key, CHECK_IN_GRACE};
use crate::hall::{Appointment, Hall};
use crate::time::{self, Millis, MINUTE, SECOND};

const DAY: Millis = 24 * 60 * MINUTE;
/// Missed appointments count against a phone over this window.
pub const NO_SHOW_WINDOW: Millis = 30 * DAY;

/// One slot of a day, as the booking page shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SlotInfo {
    #[serde(with = "crate::time::rfc3339_ms")]
    pub start: Millis,
    /// Local `HH:MM` of the start, for the page.
    pub local: String,
    pub capacity: u32,
    pub booked: u32,
    /// Whether it can still be booked now (not started, not full).
    pub bookable: bool,
}

/// A booking request as the shell makes it.
pub(crate) struct Booking {
    pub code: String,
    pub category: String,
    pub slot_start: Millis,
    /// The server's salted hash of the phone number.
    pub phone: Option<String>,
}

impl Hall {
    pub(crate) fn book(&mut self, cx: &mut Ctx, req: Booking) -> Result<(), Rejected> {
        let Booking {
            code,
            category,
            slot_start,
            phone,
        } = req;
        let now = cx.now;
        let c = self.cat_index(&category)?;
        let slots = self.config.categories[c]
            .appointment_slots
            .clone()
            .ok_or_else(|| Rejected::NoAppointments(category.clone()))?;
        if code.is_empty() || self.appointments.contains_key(&code) {
            return Err(Rejected::DuplicateCode);
        }
        if slot_start <= now {
            return Err(Rejected::BadSlot("in the past"));
        }
        let tz = self.config.timezone;
        let days = i64::from(self.config.booking_days_ahead);
        let last = time::local(tz, now).date + chrono::Days::new(days as u64);
        let l = time::local(tz, slot_start);
        if l.date > last {
            return Err(Rejected::BadSlot("beyond booking_days_ahead"));
        }
        if l.ms_of_day % (i64::from(slots.slot_s) * SECOND) != 0 {
            return Err(Rejected::BadSlot("not aligned to the slot length"));
        }
        if !self.config.is_open_date(l.date) {
            return Err(Rejected::BadSlot("the hall is closed that day"));
        }
        if !self.is_open_at(slot_start) {
            return Err(Rejected::BadSlot("outside opening hours"));
        }
        if let Some(until) = phone.as_deref().and_then(|p| self.banned_until(p, now)) {
            return Err(Rejected::BookingBanned { until });
        }
        if self.slot_booked(&category, slot_start) >= slots.capacity {
            return Err(Rejected::SlotFull);
        }
        self.emit(
            cx,
            EventKind::AppointmentBooked {
                code,
                category,
                slot_start,
                phone,
            },
        );
        Ok(())
    }

    /// The holder cancels a booking (the code is the key) before its
    /// check-in window has passed; the slot is free again.
    pub(crate) fn cancel_appointment(&mut self, cx: &mut Ctx, code: &str) -> Result<(), Rejected> {
        let a = self
            .appointments
            .get(code)
            .ok_or(Rejected::UnknownAppointment)?;
        if a.used {
            return Err(Rejected::AppointmentUsed);
        }
        if cx.now > a.slot_start + CHECK_IN_GRACE {
            return Err(Rejected::AppointmentMissed);
        }
        let kind = EventKind::AppointmentCancelled {
            code: code.to_string(),
            category: a.category.clone(),
            slot_start: a.slot_start,
        };
        self.emit(cx, kind);
        Ok(())
    }

    fn slot_booked(&self, category: &str, slot_start: Millis) -> u32 {
        self.slot_load
            .get(&slot_key(category, slot_start))
            .copied()
            .unwrap_or(0)
    }

    /// The slots of `category` on local date `date` with what each has
    /// left: every slot inside the opening hours, none on a closed date.
    pub fn slots(
        &self,
        category: &str,
        date: NaiveDate,
        now: Millis,
    ) -> Result<Vec<SlotInfo>, Rejected> {
        let c = self.cat_index(category)?;
        let slots = self.config.categories[c]
            .appointment_slots
            .clone()
            .ok_or_else(|| Rejected::NoAppointments(category.to_string()))?;
        let tz = self.config.timezone;
        let today = time::local(tz, now).date;
        let last = today + chrono::Days::new(u64::from(self.config.booking_days_ahead));
        if date < today || date > last {
            return Err(Rejected::BadSlot("date outside today..booking_days_ahead"));
        }
        if !self.config.is_open_date(date) {
            return Ok(Vec::new());
        }
        let step = slots.slot_s.max(60) / 60;
        let mut out = Vec::new();
        let mut minute: u32 = 0;
        while minute < 24 * 60 {
            let m = minute as u16;
            let start = time::instant_of(tz, date, m);
            let open =
                self.config.open_hours.iter().any(|r| r.contains(m)) && slots.slot_s % 60 == 0;
            if open {
                let booked = self.slot_booked(category, start);
                out.push(SlotInfo {
                    start,
                    local: format!("{:02}:{:02}", m / 60, m % 60),
                    capacity: slots.capacity,
                    booked,
                    bookable: start > now && booked < slots.capacity,
                });
            }
            minute += step;
        }
        Ok(out)
    }

    /// Until when `phone` (a salted hash) may not book: `no_show_limit`
    /// missed appointments within 30 days ban it for `no_show_ban_days`
    /// from the last of them.
    pub(crate) fn banned_until(&self, phone: &str, now: Millis) -> Option<Millis> {
        let limit = self.config.no_show_limit as usize;
        if limit == 0 {
            return None;
        }
        let ban = i64::from(self.config.no_show_ban_days) * DAY;
        let mut missed: Vec<Millis> = self
            .missed_appointments
            .get(phone)
            .cloned()
            .unwrap_or_default();
        missed.extend(
            self.appointments
                .values()
                .filter(|a| a.phone.as_deref() == Some(phone) && is_missed(a, now))
                .map(|a| a.slot_start + CHECK_IN_GRACE),
        );
        missed.sort_unstable();
        missed
            .windows(limit)
            .filter(|w| w[limit - 1] - w[0] <= NO_SHOW_WINDOW)
            .map(|w| w[limit - 1] + ban)
            .filter(|&until| now < until)
            .max()
    }

    /// At day close: bookings with a phone that were missed move to the
    /// phone's record (kept as long as they can still count towards a ban);
    /// other bookings are kept until `horizon`.
    pub(crate) fn prune_appointments(&mut self, at: Millis, horizon: Millis) {
        let keep_missed =
            NO_SHOW_WINDOW + i64::from(self.config.no_show_ban_days) * DAY + CHECK_IN_GRACE;
        let mut moved: Vec<(String, Millis)> = Vec::new();
        self.appointments.retain(|_, a| {
            if let (true, Some(p)) = (is_missed(a, at), a.phone.as_ref()) {
                moved.push((p.clone(), a.slot_start + CHECK_IN_GRACE));
                return false;
            }
            a.slot_start >= horizon
        });
        for (p, t) in moved {
            self.missed_appointments.entry(p).or_default().push(t);
        }
        self.missed_appointments.retain(|_, ts| {
            ts.retain(|&t| t >= at - keep_missed);
            !ts.is_empty()
        });
    }

    /// State changes of this rule's events.
    pub(super) fn apply_booking(&mut self, ev: &Event) {
        match &ev.kind {
            EventKind::AppointmentBooked {
                code,
                category,
                slot_start,
                phone,
            } => {
                self.appointments.insert(
                    code.clone(),
                    Appointment {
                        code: code.clone(),
                        category: category.clone(),
                        slot_start: *slot_start,
                        used: false,
                        phone: phone.clone(),
                    },
                );
                *self
                    .slot_load
                    .entry(slot_key(category, *slot_start))
                    .or_insert(0) += 1;
            }
            EventKind::AppointmentCancelled {
                code,
                category,
                slot_start,
            } => {
                self.appointments.remove(code);
                let key = slot_key(category, *slot_start);
                if let Some(n) = self.slot_load.get_mut(&key) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.slot_load.remove(&key);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Not checked in, and its check-in window is over at `now`.
fn is_missed(a: &Appointment, now: Millis) -> bool {
    !a.used && now > a.slot_start + CHECK_IN_GRACE
}

/// Missed appointments per phone hash (time each check-in window closed).
pub(crate) type MissedAppointments = BTreeMap<String, Vec<Millis>>;
