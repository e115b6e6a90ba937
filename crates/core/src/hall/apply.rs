//! `apply`: the one place state changes. It trusts its events (they were
//! decided by `handle` or read back from the log) and never fails.

use std::collections::{BTreeSet, VecDeque};

use crate::event::{AdviceAction, Event, EventKind, WarningKind};
use crate::hall::{
    Advice, Appointment, Hall, Layout, RecentCall, RECENT_CALLS, SERVICE_EWMA_ALPHA,
};
use crate::model::{Duty, Level, Seat, Ticket, TicketState, Window, WindowState};
use crate::time::{self, Millis, MINUTE};

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
            EventKind::DayOpened { date } => {
                self.business_date = Some(*date);
                self.counters.iter_mut().for_each(|c| *c = 0);
                let close = self.config.day_close.minutes();
                self.next_close_at = time::instant_of(self.config.timezone, *date, close);
            }
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
                    rating: None,
                    appointment: appointment.clone(),
                    service_warned: Level::Green,
                    wait_warned: false,
                };
                self.by_id.insert(ticket.as_str().into(), serial);
                self.tickets.insert(serial, t);
                self.enqueue(serial);
            }
            EventKind::TicketCalled {
                ticket,
                number,
                category,
                window,
                staff,
                recall,
            } => {
                if let Some(serial) = self.by_id.get(ticket.as_str()).copied() {
                    if !*recall {
                        self.dequeue(serial);
                    }
                    if let Some(t) = self.tickets.get_mut(&serial) {
                        t.state = TicketState::Called;
                        t.window = Some(*window);
                        t.staff = Some(staff.clone());
                        t.calls += 1;
                        if t.called_at.is_none() {
                            t.called_at = Some(at);
                        }
                    }
                    if let Some(w) = self.win_mut(*window) {
                        if !*recall {
                            w.since = at;
                        }
                        w.state = WindowState::Calling;
                        w.current = Some(serial);
                    }
                }
                self.recent_calls.push_front(RecentCall {
                    seq: ev.seq,
                    at,
                    number: number.clone(),
                    category: category.clone(),
                    window: *window,
                    recall: *recall,
                });
                self.recent_calls.truncate(RECENT_CALLS);
            }
            EventKind::TicketNoShow { ticket, window, .. } => {
                self.set_ticket_state(ticket, TicketState::NoShow, at);
                self.free_window(*window, at);
            }
            EventKind::TicketRequeued { ticket, key, .. } => {
                if let Some(serial) = self.by_id.get(ticket.as_str()).copied() {
                    if let Some(t) = self.tickets.get_mut(&serial) {
                        t.state = TicketState::Waiting;
                        t.key = *key;
                        t.waiting_since = at;
                        t.window = None;
                        t.directed_to = None;
                        t.wait_warned = false;
                        t.called_at = None;
                    }
                    self.enqueue(serial);
                }
            }
            EventKind::ServiceStarted { ticket, window, .. } => {
                if let Some(t) = self.ticket_mut(ticket) {
                    t.state = TicketState::Serving;
                    t.started_at = Some(at);
                }
                if let Some(w) = self.win_mut(*window) {
                    w.state = WindowState::Serving;
                    w.since = at;
                }
            }
            EventKind::ServiceCompleted {
                ticket,
                category,
                window,
                handling_s,
                ..
            } => {
                self.set_ticket_state(ticket, TicketState::Done, at);
                if let Some(&c) = self.layout.cat_index.get(category) {
                    let avg = &mut self.avg_service_s[c];
                    *avg = (1.0 - SERVICE_EWMA_ALPHA) * *avg
                        + SERVICE_EWMA_ALPHA * handling_s.max(0.0);
                }
                self.free_window(*window, at);
            }
            EventKind::TicketTransferred {
                ticket,
                from_window,
                category,
                to_window,
                ..
            } => {
                if let Some(serial) = self.by_id.get(ticket.as_str()).copied() {
                    if let Some(t) = self.tickets.get_mut(&serial) {
                        t.state = TicketState::Waiting;
                        t.category = category.as_str().into();
                        t.waiting_since = at;
                        t.directed_to = *to_window;
                        t.window = None;
                        t.staff = None;
                        t.called_at = None;
                        t.started_at = None;
                        t.service_warned = Level::Green;
                        t.wait_warned = false;
                    }
                    self.enqueue(serial);
                }
                self.free_window(*from_window, at);
            }
            EventKind::TicketCancelled { ticket, .. } => {
                if let Some(serial) = self.by_id.get(ticket.as_str()).copied() {
                    self.dequeue(serial);
                }
                self.set_ticket_state(ticket, TicketState::Cancelled, at);
            }
            EventKind::TicketExpired { ticket, .. } => {
                if let Some(serial) = self.by_id.get(ticket.as_str()).copied() {
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
            EventKind::RatingRecorded { ticket, score, .. } => {
                if let Some(t) = self.ticket_mut(ticket) {
                    t.rating = Some(*score);
                }
            }
            EventKind::AppointmentBooked {
                code,
                category,
                slot_start,
            } => {
                self.appointments.insert(
                    code.clone(),
                    Appointment {
                        code: code.clone(),
                        category: category.clone(),
                        slot_start: *slot_start,
                        used: false,
                    },
                );
                *self
                    .slot_load
                    .entry(slot_key(category, *slot_start))
                    .or_insert(0) += 1;
            }
            EventKind::StaffLoggedIn {
                staff,
                window,
                duty,
                post,
            } => {
                let seat = Seat {
                    staff: staff.clone(),
                    post: *post,
                };
                if let Some(w) = self.win_mut(*window) {
                    match duty {
                        Duty::OnDuty => w.on_duty = Some(seat),
                        Duty::Standby => w.standby = Some(seat),
                    }
                }
                self.staff_at.insert(staff.clone(), (*window, *duty));
            }
            EventKind::StaffLoggedOut { staff, window, .. } => {
                self.unseat(staff, *window);
            }
            EventKind::WindowOpened {
                window,
                staff,
                post,
                tidal,
                ..
            } => {
                // A standby clerk moved here by the supervisor or the tidal
                // policy leaves the seat they held elsewhere.
                if let Some((elsewhere, _)) = self.staff_at.get(staff).copied() {
                    if elsewhere != *window {
                        self.unseat(staff, elsewhere);
                    }
                }
                if let Some(w) = self.win_mut(*window) {
                    if w.standby.as_ref().is_some_and(|s| &s.staff == staff) {
                        w.standby = None;
                    }
                    w.state = WindowState::Open;
                    w.since = at;
                    w.on_duty = Some(Seat {
                        staff: staff.clone(),
                        post: *post,
                    });
                }
                self.staff_at.insert(staff.clone(), (*window, Duty::OnDuty));
                if *tidal {
                    // A fresh opening restarts both clocks: it must prove
                    // itself idle for the full close period before closing.
                    self.overload_since = None;
                    self.underload_since = None;
                }
                windows_changed = true;
            }
            EventKind::WindowClosed { window, tidal, .. } => {
                let seated: Vec<String> = self
                    .window(*window)
                    .map(|w| {
                        w.on_duty
                            .iter()
                            .chain(w.standby.iter())
                            .map(|s| s.staff.clone())
                            .collect()
                    })
                    .unwrap_or_default();
                for s in seated {
                    self.staff_at.remove(&s);
                }
                if let Some(w) = self.win_mut(*window) {
                    w.state = WindowState::Closed;
                    w.on_duty = None;
                    w.standby = None;
                    w.current = None;
                    w.since = at;
                }
                if *tidal {
                    self.underload_since = None;
                }
                windows_changed = true;
            }
            EventKind::WindowPaused { window, reason, .. } => {
                if let Some(w) = self.win_mut(*window) {
                    w.state = WindowState::Paused { reason: *reason };
                    w.since = at;
                }
                windows_changed = true;
            }
            EventKind::WindowResumed { window, .. } => {
                if let Some(w) = self.win_mut(*window) {
                    w.state = if w.current.is_some() {
                        WindowState::Calling
                    } else {
                        WindowState::Open
                    };
                    w.since = at;
                }
                windows_changed = true;
            }
            EventKind::PostHandover {
                window,
                from,
                from_post,
                to,
                to_post,
                ..
            } => {
                if let Some(w) = self.win_mut(*window) {
                    w.on_duty = Some(Seat {
                        staff: to.clone(),
                        post: *to_post,
                    });
                    w.standby = Some(Seat {
                        staff: from.clone(),
                        post: *from_post,
                    });
                }
                self.staff_at.insert(to.clone(), (*window, Duty::OnDuty));
                self.staff_at.insert(from.clone(), (*window, Duty::Standby));
                if let Some(serial) = self.window(*window).and_then(|w| w.current) {
                    if let Some(t) = self.tickets.get_mut(&serial) {
                        t.staff = Some(to.clone());
                    }
                }
            }
            EventKind::Failover {
                window, tickets, ..
            } => {
                // Directed tickets go back to their category's pool with their
                // key; they keep waiting, so their wait-watch entry stays.
                let w = self.layout.win_index.get(window).copied();
                for id in tickets {
                    let Some(serial) = self.by_id.get(id.as_str()).copied() else {
                        continue;
                    };
                    let Some(t) = self.tickets.get_mut(&serial) else {
                        continue;
                    };
                    if t.state != TicketState::Waiting || t.directed_to != Some(*window) {
                        continue;
                    }
                    t.directed_to = None;
                    let key = (t.key, serial);
                    if let (Some(w), Some(&c)) = (w, self.layout.cat_index.get(t.category.as_str()))
                    {
                        self.directed[w].remove(&key);
                        self.queues[c].insert(key);
                    }
                }
            }
            EventKind::TidalAdvice {
                advice,
                action,
                window,
                staff,
                reason,
            } => {
                self.advice.insert(
                    *advice,
                    Advice {
                        id: *advice,
                        action: *action,
                        window: *window,
                        staff: staff.clone(),
                        reason: reason.clone(),
                        at,
                    },
                );
                self.next_advice = self.next_advice.max(advice + 1);
                match action {
                    AdviceAction::Open => self.overload_since = None,
                    AdviceAction::Close => self.underload_since = None,
                }
            }
            EventKind::AdviceResolved { advice, .. } => {
                if let Some(a) = self.advice.remove(advice) {
                    match a.action {
                        AdviceAction::Open => self.overload_since = None,
                        AdviceAction::Close => self.underload_since = None,
                    }
                }
            }
            EventKind::Warning {
                level,
                kind,
                ticket,
                ..
            } => {
                if let Some(serial) = ticket
                    .as_ref()
                    .and_then(|id| self.by_id.get(id.as_str()))
                    .copied()
                {
                    match kind {
                        WarningKind::ServiceTime => {
                            if let Some(t) = self.tickets.get_mut(&serial) {
                                t.service_warned = t.service_warned.max(*level);
                            }
                        }
                        WarningKind::Wait => {
                            let cat = self.tickets.get_mut(&serial).map(|t| {
                                t.wait_warned = true;
                                t.category.to_string()
                            });
                            if let Some(&c) =
                                cat.and_then(|cat| self.layout.cat_index.get(cat.as_str()))
                            {
                                self.trim_watch(c);
                            }
                        }
                        WarningKind::Failover => {}
                    }
                }
            }
            EventKind::DayClosed { .. } => {
                self.tickets.clear();
                self.by_id.clear();
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
                self.appointments.retain(|_, a| a.slot_start >= horizon);
                self.slot_load.retain(|k, _| {
                    k.rsplit_once('@')
                        .and_then(|(_, s)| s.parse::<Millis>().ok())
                        .is_some_and(|s| s >= horizon)
                });
                self.recent_calls.clear();
                self.waiting_series.clear();
                self.business_date = None;
                self.next_close_at = Millis::MIN;
            }
            EventKind::ConfigReloaded { config } => {
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

    fn win_mut(&mut self, number: u32) -> Option<&mut Window> {
        let i = *self.layout.win_index.get(&number)?;
        self.windows.get_mut(i)
    }

    fn ticket_mut(&mut self, id: &str) -> Option<&mut Ticket> {
        let serial = *self.by_id.get(id)?;
        self.tickets.get_mut(&serial)
    }

    fn set_ticket_state(&mut self, id: &str, state: TicketState, at: Millis) {
        if let Some(t) = self.ticket_mut(id) {
            t.state = state;
            if state.is_final() {
                t.finished_at = Some(at);
            }
        }
    }

    fn free_window(&mut self, number: u32, at: Millis) {
        if let Some(w) = self.win_mut(number) {
            w.current = None;
            if w.is_busy() {
                w.state = WindowState::Open;
            }
            w.since = at;
        }
    }

    fn unseat(&mut self, staff: &str, window: u32) {
        if let Some(w) = self.win_mut(window) {
            if w.on_duty.as_ref().is_some_and(|s| s.staff == staff) {
                w.on_duty = None;
            }
            if w.standby.as_ref().is_some_and(|s| s.staff == staff) {
                w.standby = None;
            }
        }
        if self.staff_at.get(staff).is_some_and(|(w, _)| *w == window) {
            self.staff_at.remove(staff);
        }
    }

    /// Puts a waiting ticket into its queue: the window it was directed to,
    /// or its category's pool.
    fn enqueue(&mut self, serial: u64) {
        let Some(t) = self.tickets.get(&serial) else {
            return;
        };
        let Some(&c) = self.layout.cat_index.get(t.category.as_str()) else {
            return;
        };
        let key = (t.key, serial);
        match t.directed_to.and_then(|n| self.layout.win_index.get(&n)) {
            Some(&w) => {
                self.directed[w].insert(key);
            }
            None => {
                self.queues[c].insert(key);
            }
        }
        if !t.wait_warned {
            self.wait_watch[c].push_back((t.waiting_since, serial));
        }
        self.waiting[c] += 1;
    }

    /// Takes a waiting ticket out of whichever queue holds it.
    fn dequeue(&mut self, serial: u64) {
        let Some(t) = self.tickets.get(&serial) else {
            return;
        };
        if t.state != TicketState::Waiting {
            return;
        }
        let Some(&c) = self.layout.cat_index.get(t.category.as_str()) else {
            return;
        };
        let key = (t.key, serial);
        let removed = match t.directed_to.and_then(|n| self.layout.win_index.get(&n)) {
            Some(&w) => self.directed[w].remove(&key),
            None => self.queues[c].remove(&key),
        };
        if removed {
            self.waiting[c] = self.waiting[c].saturating_sub(1);
        }
        // The wait watch entry dies with the state change that follows;
        // `apply` trims it from the front then.
        self.pending_trim = Some(c);
    }

    /// Tidal conditions depend only on state, so they are tracked here, at
    /// event times: replay reproduces the timers exactly.
    fn track_tidal_conditions(&mut self, at: Millis) {
        let (overload, underload) = self.tidal_conditions();
        match (overload, self.overload_since) {
            (true, None) => self.overload_since = Some(at),
            (false, Some(_)) => self.overload_since = None,
            _ => {}
        }
        match (underload, self.underload_since) {
            (true, None) => self.underload_since = Some(at),
            (false, Some(_)) => self.underload_since = None,
            _ => {}
        }
    }

    fn sample_waiting(&mut self, at: Millis) {
        if self.business_date.is_none() {
            return;
        }
        let bucket = at - at.rem_euclid(10 * MINUTE);
        let waiting = self.waiting_total();
        let slot = self.waiting_series.entry(bucket).or_insert(0);
        *slot = (*slot).max(waiting);
    }

    /// Adopts a new configuration: windows and categories are matched by
    /// number and id; new ones start closed / empty; `handle` has already
    /// refused a reload that drops anything in use.
    fn reconfigure(&mut self, config: crate::config::HallConfig, at: Millis) {
        let old_windows = std::mem::take(&mut self.windows);
        let old_avg: std::collections::HashMap<String, f64> = self
            .config
            .categories
            .iter()
            .zip(self.avg_service_s.iter())
            .map(|(c, a)| (c.id.clone(), *a))
            .collect();
        self.layout = Layout::of(&config);
        self.windows = config
            .windows
            .iter()
            .map(|wc| {
                old_windows
                    .iter()
                    .find(|w| w.number == wc.number)
                    .cloned()
                    .unwrap_or(Window {
                        number: wc.number,
                        state: WindowState::Closed,
                        on_duty: None,
                        standby: None,
                        current: None,
                        since: at,
                    })
            })
            .collect();
        self.avg_service_s = config
            .categories
            .iter()
            .map(|c| old_avg.get(&c.id).copied().unwrap_or(c.expected_s as f64))
            .collect();
        let k = config.categories.len();
        self.config = config;
        self.queues = vec![BTreeSet::new(); k];
        self.wait_watch = vec![VecDeque::new(); k];
        self.waiting = vec![0; k];
        self.directed = vec![BTreeSet::new(); self.windows.len()];
        let mut waiting: Vec<u64> = self
            .tickets
            .values()
            .filter(|t| t.state == TicketState::Waiting)
            .map(|t| t.serial)
            .collect();
        waiting.sort_unstable();
        for serial in waiting {
            self.enqueue(serial);
        }
        // Staff whose window disappeared are no longer seated anywhere.
        let numbers: std::collections::HashSet<u32> =
            self.windows.iter().map(|w| w.number).collect();
        self.staff_at.retain(|_, (w, _)| numbers.contains(w));
    }
}

pub(crate) fn slot_key(category: &str, slot_start: Millis) -> String {
    format!("{category}@{slot_start}")
}
