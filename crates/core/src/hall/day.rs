//! The business day: opening hours, the day's close (expiring what is still
//! open, resetting numbering), and the roll to the next day that the first
//! command (or timeout) after the close time performs.

use std::collections::{BTreeSet, VecDeque};

use crate::event::{Event, EventKind};
use crate::hall::handle::Ctx;
use crate::hall::{Hall, OpenCache};
use crate::model::{TicketState, WindowState};
use crate::time::{self, Millis, MINUTE};

const HALF_HOUR: Millis = 30 * MINUTE;

impl Hall {
    /// Business date of an instant: the local date, or the next one once the
    /// day's close time has passed.
    pub(crate) fn business_date_of(&self, now: Millis) -> chrono::NaiveDate {
        let l = time::local(self.config.timezone, now);
        if l.minute >= self.config.day_close.minutes() {
            l.date.succ_opt().unwrap_or(l.date)
        } else {
            l.date
        }
    }

    /// Open days come from the calendar (`open_days`, holidays, 调休).
    pub(crate) fn is_open_at(&self, now: Millis) -> bool {
        self.is_open_local(&time::local(self.config.timezone, now))
    }

    fn is_open_local(&self, l: &time::LocalMoment) -> bool {
        self.config.is_open_date(l.date)
            && self.config.open_hours.iter().any(|r| r.contains(l.minute))
    }

    /// `is_open_at(now)`, remembered until the next local minute, with what
    /// else that minute's local time gives (`closes_at`, the half-hour
    /// phase): the time-zone lookup is the dearest part of a command's
    /// bookkeeping, and within a minute the offset cannot change.
    pub(crate) fn is_open_now(&mut self, now: Millis) -> bool {
        let c = &self.open_cache;
        if c.valid_from <= now && now < c.valid_until {
            return c.open;
        }
        let l = time::local(self.config.timezone, now);
        let open = self.is_open_local(&l);
        let closes_at = if open { self.closes_at_local(&l) } else { None };
        let into_minute = l.ms_of_day % MINUTE;
        self.open_cache = OpenCache {
            valid_from: now - into_minute,
            valid_until: now - into_minute + MINUTE,
            open,
            closes_at,
            half_hour_phase: (l.ms_of_day - into_minute) % HALF_HOUR,
        };
        open
    }

    /// When the day's opening hours end (the end of its last period) if the
    /// hall is open at `now`; `None` when closed now or open around the
    /// clock (a period ends at 24:00 and one starts at 00:00).
    pub(crate) fn closes_at(&self, now: Millis) -> Option<Millis> {
        let l = time::local(self.config.timezone, now);
        if !self.is_open_local(&l) {
            return None;
        }
        self.closes_at_local(&l)
    }

    /// `closes_at` for a local moment at which the hall is open.
    fn closes_at_local(&self, l: &time::LocalMoment) -> Option<Millis> {
        let hours = &self.config.open_hours;
        let end = hours.iter().map(|r| r.end.minutes()).max()?;
        if end >= 1440 && hours.iter().any(|r| r.start.minutes() == 0) {
            return None;
        }
        Some(time::instant_of(self.config.timezone, l.date, end))
    }

    /// The start of the local half hour holding `at` (the staffing chart's
    /// bucket), from the minute cache when it covers `at`.
    fn half_hour_of(&mut self, at: Millis) -> Millis {
        self.is_open_now(at);
        let c = &self.open_cache;
        at - (c.half_hour_phase + (at - c.valid_from)) % HALF_HOUR
    }

    /// `closes_at(now)`, remembered with `is_open_now` until the next minute.
    pub(crate) fn closes_now(&mut self, now: Millis) -> Option<Millis> {
        self.is_open_now(now);
        self.open_cache.closes_at
    }

    /// Closes the business day when its close time has passed and opens the
    /// current one, so numbering restarts at 1. `cx` acts as the system.
    pub(crate) fn roll_day(&mut self, cx: &mut Ctx) {
        if self.business_date.is_some() && cx.now < self.next_close_at {
            return;
        }
        if self.business_date.is_some() {
            self.close_day(cx);
        }
        let date = self.business_date_of(cx.now);
        self.emit(cx, EventKind::DayOpened { date });
    }

    /// Expires every ticket still open and ends the day. `cx` acts as the system.
    pub(crate) fn close_day(&mut self, cx: &mut Ctx) {
        let Some(date) = self.business_date else {
            return;
        };
        let mut open: Vec<(u64, String, String)> = self
            .tickets
            .values()
            .filter(|t| !t.state.is_final())
            .map(|t| {
                (
                    t.serial,
                    t.id.as_str().to_owned(),
                    t.number.as_str().to_owned(),
                )
            })
            .collect();
        open.sort_unstable();
        let expired = open.len() as u32;
        for (_, ticket, number) in open {
            self.emit(cx, EventKind::TicketExpired { ticket, number });
        }
        self.emit(cx, EventKind::DayClosed { date, expired });
    }

    /// State changes of this rule's events.
    pub(super) fn apply_day(&mut self, ev: &Event) {
        let at = ev.at;
        match &ev.kind {
            EventKind::DayOpened { date } => {
                self.business_date = Some(*date);
                self.counters.iter_mut().for_each(|c| *c = 0);
                let close = self.config.day_close.minutes();
                self.next_close_at = time::instant_of(self.config.timezone, *date, close);
            }
            EventKind::TicketExpired { ticket, .. } => {
                if let Some(serial) = self.tickets.serial_of(ticket) {
                    let (state, window) = match self.tickets.get(&serial) {
                        Some(t) => (t.state, t.window),
                        None => (TicketState::Expired, None),
                    };
                    match state {
                        TicketState::Waiting => self.dequeue(serial),
                        TicketState::Called | TicketState::Serving => {
                            if let Some(w) = window {
                                self.free_window(w, at);
                            }
                        }
                        _ => {}
                    }
                }
                self.set_ticket_state(ticket, TicketState::Expired, at);
            }
            EventKind::DayClosed { .. } => {
                self.tickets.clear();
                self.queues.iter_mut().for_each(BTreeSet::clear);
                self.directed.iter_mut().for_each(BTreeSet::clear);
                self.wait_watch.iter_mut().for_each(VecDeque::clear);
                self.waiting.iter_mut().for_each(|w| *w = 0);
                for w in &mut self.windows {
                    w.current = None;
                    if w.is_busy() {
                        w.state = WindowState::Open;
                    }
                }
                let horizon = at - 24 * 60 * MINUTE;
                // Missed bookings are remembered for the no-show ban first.
                self.prune_appointments(at, horizon);
                self.slot_load.retain(|k, _| {
                    k.rsplit_once('@')
                        .and_then(|(_, s)| s.parse::<Millis>().ok())
                        .is_some_and(|s| s >= horizon)
                });
                self.recent_calls.clear();
                self.waiting_series.clear();
                self.staffed_series.clear();
                self.business_date = None;
                self.next_close_at = Millis::MIN;
            }
            _ => {}
        }
    }

    /// The most tickets waiting per 10-minute bucket, for the dashboard chart.
    pub(super) fn sample_waiting(&mut self, at: Millis) {
        if self.business_date.is_none() {
            return;
        }
        let bucket = at - at.rem_euclid(10 * MINUTE);
        let waiting = self.waiting_total();
        let slot = self.waiting_series.entry(bucket).or_insert(0);
        *slot = (*slot).max(waiting);
        let half = self.half_hour_of(at);
        let open = self.open_count();
        let staffed = self.staffed_series.entry(half).or_insert((open, open));
        *staffed = (staffed.0.max(open), open);
    }
}
