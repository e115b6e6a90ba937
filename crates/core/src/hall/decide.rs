//! `handle`: the rules. Each command is checked completely before its first
//! event is emitted, so a refused command leaves the state untouched; the
//! follow-on events (failover, tidal decisions, warnings) cannot fail.

use crate::command::Command;
use crate::config::{HallConfig, WindowKind};
use crate::error::Rejected;
use crate::event::{AdviceAction, Event, EventKind, WarningKind};
use crate::hall::apply::slot_key;
use crate::hall::Hall;
use crate::model::{Actor, Duty, Level, PauseReason, Priority, TicketState, WindowState};
use crate::time::{self, Millis, MINUTE, SECOND};

/// Appointment check-in opens this long before the slot and closes this long after.
pub const CHECK_IN_GRACE: Millis = 15 * MINUTE;
/// How far ahead an appointment can be booked.
pub const BOOKING_HORIZON: Millis = 30 * 24 * 60 * MINUTE;

fn state_name(s: TicketState) -> &'static str {
    match s {
        TicketState::Waiting => "waiting",
        TicketState::Called => "called",
        TicketState::Serving => "serving",
        TicketState::Done => "done",
        TicketState::NoShow => "no_show",
        TicketState::Cancelled => "cancelled",
        TicketState::Expired => "expired",
    }
}

impl Hall {
    /// Decides a command at time `now` on behalf of `by`, applies the events it
    /// produces and returns them. On `Err` nothing changed.
    pub fn handle(&mut self, cmd: Command, by: Actor, now: Millis) -> Result<Vec<Event>, Rejected> {
        let mut out = Vec::new();
        if self.business_date.is_some() && now < self.next_close_at {
            self.execute(cmd, by, now, &mut out)?;
        } else {
            // Rolling the business day over happens once a day; keep a copy so
            // that a command refused after the roll still changes nothing.
            let before = self.clone();
            self.roll_day(now, &mut out);
            if let Err(e) = self.execute(cmd, by, now, &mut out) {
                *self = before;
                return Err(e);
            }
        }
        self.evaluate_tidal(now, &mut out);
        Ok(out)
    }

    /// Emits one event: numbers it, applies it, records it.
    pub(crate) fn emit(&mut self, out: &mut Vec<Event>, at: Millis, by: Actor, kind: EventKind) {
        let ev = Event {
            seq: self.seq + 1,
            at,
            hall: self.id.clone(),
            by,
            kind,
        };
        self.apply(&ev);
        out.push(ev);
    }

    fn win_index(&self, number: u32) -> Result<usize, Rejected> {
        self.layout
            .win_index
            .get(&number)
            .copied()
            .ok_or(Rejected::UnknownWindow(number))
    }

    fn cat_index(&self, id: &str) -> Result<usize, Rejected> {
        self.layout
            .cat_index
            .get(id)
            .copied()
            .ok_or_else(|| Rejected::UnknownCategory(id.to_string()))
    }

    fn serial_of(&self, ticket: &str) -> Result<u64, Rejected> {
        self.by_id
            .get(ticket)
            .copied()
            .ok_or(Rejected::UnknownTicket)
    }

    /// The staff member on duty at `window` must be the actor.
    fn on_duty_actor(&self, by: &Actor, window: u32) -> Result<String, Rejected> {
        let w = self.win_index(window)?;
        let staff = by.staff_id().ok_or(Rejected::ClerkOnly)?;
        match &self.windows[w].on_duty {
            Some(seat) if seat.staff == staff => Ok(staff.to_string()),
            _ => Err(Rejected::NotOnDuty {
                staff: staff.to_string(),
                window,
            }),
        }
    }

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

    pub(crate) fn is_open_at(&self, now: Millis) -> bool {
        let l = time::local(self.config.timezone, now);
        self.config.open_days.iter().any(|d| d.index() == l.weekday)
            && self.config.open_hours.iter().any(|r| r.contains(l.minute))
    }

    /// `is_open_at(now)`, remembered until the next local minute.
    fn is_open_now(&mut self, now: Millis) -> bool {
        let c = &self.open_cache;
        if c.valid_from <= now && now < c.valid_until {
            return c.open;
        }
        let open = self.is_open_at(now);
        let l = time::local(self.config.timezone, now);
        let into_minute = l.ms_of_day % MINUTE;
        self.open_cache = super::OpenCache {
            valid_from: now - into_minute,
            valid_until: now - into_minute + MINUTE,
            open,
        };
        open
    }

    /// Closes the business day when its close time has passed and opens the
    /// current one, so numbering restarts at 1.
    fn roll_day(&mut self, now: Millis, out: &mut Vec<Event>) {
        if self.business_date.is_some() && now < self.next_close_at {
            return;
        }
        if self.business_date.is_some() {
            self.close_day(now, out);
        }
        let date = self.business_date_of(now);
        self.emit(out, now, Actor::System, EventKind::DayOpened { date });
    }

    fn close_day(&mut self, now: Millis, out: &mut Vec<Event>) {
        let Some(date) = self.business_date else {
            return;
        };
        let mut open: Vec<(u64, String, String)> = self
            .tickets
            .values()
            .filter(|t| !t.state.is_final())
            .map(|t| (t.serial, t.id.to_string(), t.number.to_string()))
            .collect();
        open.sort_unstable();
        let expired = open.len() as u32;
        for (_, ticket, number) in open {
            self.emit(
                out,
                now,
                Actor::System,
                EventKind::TicketExpired { ticket, number },
            );
        }
        self.emit(
            out,
            now,
            Actor::System,
            EventKind::DayClosed { date, expired },
        );
    }

    fn execute(
        &mut self,
        cmd: Command,
        by: Actor,
        now: Millis,
        out: &mut Vec<Event>,
    ) -> Result<(), Rejected> {
        match cmd {
            Command::IssueTicket {
                id,
                category,
                priority,
                channel,
                appointment_code,
            } => self.issue(
                out,
                by,
                now,
                id,
                category,
                priority,
                channel,
                appointment_code,
            ),
            Command::BookAppointment {
                code,
                category,
                slot_start,
            } => self.book(out, by, now, code, category, slot_start),
            Command::CallNext { window } => self.call_next(out, by, now, window),
            Command::Recall { window } => {
                self.at_window(out, by, now, window, WindowState::Calling, |t, staff| {
                    EventKind::TicketCalled {
                        ticket: t.id.to_string(),
                        number: t.number.to_string(),
                        category: t.category.to_string(),
                        window,
                        staff,
                        recall: true,
                    }
                })
            }
            Command::NoShow { window } => {
                self.at_window(out, by, now, window, WindowState::Calling, |t, _| {
                    EventKind::TicketNoShow {
                        ticket: t.id.to_string(),
                        number: t.number.to_string(),
                        window,
                    }
                })
            }
            Command::Start { window } => {
                self.at_window(out, by, now, window, WindowState::Calling, |t, staff| {
                    EventKind::ServiceStarted {
                        ticket: t.id.to_string(),
                        number: t.number.to_string(),
                        window,
                        staff,
                    }
                })
            }
            Command::Complete { window } => {
                self.at_window(out, by, now, window, WindowState::Serving, |t, staff| {
                    let called = t.called_at.unwrap_or(t.waiting_since);
                    let started = t.started_at.unwrap_or(called);
                    EventKind::ServiceCompleted {
                        ticket: t.id.to_string(),
                        number: t.number.to_string(),
                        category: t.category.to_string(),
                        window,
                        staff,
                        wait_s: (called - t.waiting_since).max(0) as f64 / 1000.0,
                        handling_s: (now - started).max(0) as f64 / 1000.0,
                    }
                })
            }
            Command::Transfer {
                window,
                category,
                to_window,
            } => self.transfer(out, by, now, window, category, to_window),
            Command::Pause { window, reason } => self.pause(out, by, now, window, reason),
            Command::Resume { window } => {
                let staff = self.on_duty_actor(&by, window)?;
                let w = &self.windows[self.win_index(window)?];
                if !matches!(w.state, WindowState::Paused { .. }) {
                    return Err(Rejected::NotPaused(window));
                }
                self.emit(out, now, by, EventKind::WindowResumed { window, staff });
                Ok(())
            }
            Command::Handover { window } => {
                let from = self.on_duty_actor(&by, window)?;
                let w = &self.windows[self.win_index(window)?];
                let (Some(on), Some(sb)) = (w.on_duty.clone(), w.standby.clone()) else {
                    return Err(Rejected::NoStandby(window));
                };
                self.emit(
                    out,
                    now,
                    by,
                    EventKind::PostHandover {
                        window,
                        from,
                        from_post: on.post,
                        to: sb.staff,
                        to_post: sb.post,
                        reason: "交接".into(),
                    },
                );
                Ok(())
            }
            Command::Login { staff, window } => self.login(out, by, now, staff, window),
            Command::Logout { staff, window } => self.logout(out, by, now, staff, window),
            Command::Requeue { ticket } => {
                if !matches!(by, Actor::Kiosk | Actor::Staff(_) | Actor::Supervisor) {
                    return Err(Rejected::ClerkOnly);
                }
                let serial = self.serial_of(&ticket)?;
                let t = &self.tickets[&serial];
                if t.state != TicketState::NoShow {
                    return Err(Rejected::NotRequeueable(state_name(t.state)));
                }
                let kind = EventKind::TicketRequeued {
                    ticket: t.id.to_string(),
                    number: t.number.to_string(),
                    category: t.category.to_string(),
                    key: now,
                };
                self.emit(out, now, by, kind);
                Ok(())
            }
            Command::Cancel { ticket } => {
                let serial = self.serial_of(&ticket)?;
                let t = &self.tickets[&serial];
                if !matches!(t.state, TicketState::Waiting | TicketState::NoShow) {
                    return Err(Rejected::NotCancellable(state_name(t.state)));
                }
                let kind = EventKind::TicketCancelled {
                    ticket: t.id.to_string(),
                    number: t.number.to_string(),
                };
                self.emit(out, now, by, kind);
                Ok(())
            }
            Command::OpenWindow { window, staff } => {
                self.open_window(out, by, now, window, staff, "主管开窗".into())
            }
            Command::CloseWindow { window } => {
                let w = self.win_index(window)?;
                let win = &self.windows[w];
                if win.state == WindowState::Closed {
                    return Err(Rejected::WindowClosed(window));
                }
                if win.is_busy() {
                    return Err(Rejected::CloseWhileBusy);
                }
                let staff = win.on_duty.as_ref().map(|s| s.staff.clone());
                let tidal = self.kind_of(w) == WindowKind::Tidal;
                self.stop_window(out, by, now, window, staff, "主管关窗", false, |_| {
                    EventKind::WindowClosed {
                        window,
                        tidal,
                        reason: "主管关窗".into(),
                    }
                });
                Ok(())
            }
            Command::AcceptAdvice { advice } => {
                let a = self
                    .advice
                    .get(&advice)
                    .cloned()
                    .ok_or(Rejected::UnknownAdvice(advice))?;
                match a.action {
                    AdviceAction::Open => {
                        let staff = match a.staff.filter(|s| !self.is_on_duty_anywhere(s)) {
                            Some(s) => s,
                            None => self
                                .standby_for(a.window)
                                .map(|s| s.0)
                                .ok_or(Rejected::NoStaffAvailable(a.window))?,
                        };
                        self.check_open(a.window, &staff)?;
                        self.emit(
                            out,
                            now,
                            by.clone(),
                            EventKind::AdviceResolved {
                                advice,
                                accepted: true,
                            },
                        );
                        let post = self.post_of(a.window, &staff);
                        self.emit(
                            out,
                            now,
                            by,
                            EventKind::WindowOpened {
                                window: a.window,
                                staff,
                                post,
                                tidal: true,
                                reason: format!("主管采纳建议：{}", a.reason),
                            },
                        );
                    }
                    AdviceAction::Close => {
                        let w = self.win_index(a.window)?;
                        let win = &self.windows[w];
                        if win.state == WindowState::Closed {
                            return Err(Rejected::WindowClosed(a.window));
                        }
                        if win.is_busy() {
                            return Err(Rejected::CloseWhileBusy);
                        }
                        self.emit(
                            out,
                            now,
                            by.clone(),
                            EventKind::AdviceResolved {
                                advice,
                                accepted: true,
                            },
                        );
                        let window = a.window;
                        let staff = self.windows[w].on_duty.as_ref().map(|s| s.staff.clone());
                        let reason = format!("主管采纳建议：{}", a.reason);
                        self.stop_window(
                            out,
                            by,
                            now,
                            window,
                            staff,
                            "潮汐窗口关闭",
                            false,
                            |_| EventKind::WindowClosed {
                                window,
                                tidal: true,
                                reason,
                            },
                        );
                    }
                }
                Ok(())
            }
            Command::DismissAdvice { advice } => {
                if !self.advice.contains_key(&advice) {
                    return Err(Rejected::UnknownAdvice(advice));
                }
                self.emit(
                    out,
                    now,
                    by,
                    EventKind::AdviceResolved {
                        advice,
                        accepted: false,
                    },
                );
                Ok(())
            }
            Command::Rate { ticket, score } => {
                if !(1..=5).contains(&score) {
                    return Err(Rejected::BadScore(score));
                }
                let serial = self.serial_of(&ticket)?;
                let t = &self.tickets[&serial];
                if t.state != TicketState::Done {
                    return Err(Rejected::NotDone);
                }
                if t.rating.is_some() {
                    return Err(Rejected::AlreadyRated);
                }
                let kind = EventKind::RatingRecorded {
                    ticket: t.id.to_string(),
                    number: t.number.to_string(),
                    score,
                    window: t.window,
                    staff: t.staff.clone(),
                };
                self.emit(out, now, by, kind);
                Ok(())
            }
            Command::CloseDay => {
                self.close_day(now, out);
                Ok(())
            }
            Command::Tick => {
                self.raise_warnings(now, out);
                Ok(())
            }
            Command::ReloadConfig { config } => self.reload(out, by, now, *config),
        }
    }

    fn is_on_duty_anywhere(&self, staff: &str) -> bool {
        self.staff_at
            .get(staff)
            .is_some_and(|(_, d)| *d == Duty::OnDuty)
    }

    /// Emits the event `make` builds from the ticket at `window` (which must
    /// be in state `expect`) and the clerk on duty there.
    fn at_window(
        &mut self,
        out: &mut Vec<Event>,
        by: Actor,
        now: Millis,
        window: u32,
        expect: WindowState,
        make: impl FnOnce(&crate::model::Ticket, String) -> EventKind,
    ) -> Result<(), Rejected> {
        let (serial, staff) = self.current(window, expect, &by)?;
        let kind = make(&self.tickets[&serial], staff);
        self.emit(out, now, by, kind);
        Ok(())
    }

    /// The ticket at a window in the expected state, and the clerk on duty.
    fn current(
        &self,
        window: u32,
        expect: WindowState,
        by: &Actor,
    ) -> Result<(u64, String), Rejected> {
        let staff = self.on_duty_actor(by, window)?;
        let w = &self.windows[self.win_index(window)?];
        match (w.state, w.current) {
            (s, Some(serial)) if s == expect => Ok((serial, staff)),
            _ if expect == WindowState::Serving => Err(Rejected::NothingServing(window)),
            _ => Err(Rejected::NothingCalled(window)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn issue(
        &mut self,
        out: &mut Vec<Event>,
        by: Actor,
        now: Millis,
        id: String,
        category: String,
        mut priority: crate::model::Priority,
        channel: crate::model::Channel,
        appointment_code: Option<String>,
    ) -> Result<(), Rejected> {
        let c = self.cat_index(&category)?;
        if priority == Priority::Appointment {
            return Err(Rejected::BadPriority("appointment"));
        }
        if !self.is_open_now(now) {
            return Err(Rejected::HallClosed);
        }
        if id.is_empty() || self.by_id.contains_key(id.as_str()) {
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
            if now <= a.slot_start + CHECK_IN_GRACE {
                priority = Priority::Appointment;
            } else {
                late = true;
            }
        }
        let b = &self.config.priority_bonus_s;
        let bonus = match priority {
            Priority::Normal => 0,
            Priority::Elderly => b.elderly,
            Priority::Disabled => b.disabled,
            Priority::Pregnant => b.pregnant,
            Priority::Military => b.military,
            Priority::Appointment => b.appointment,
        };
        let prefix = self.config.categories[c].prefix;
        let n = self.counters[(prefix as u8 - b'A') as usize] + 1;
        let number = format!("{prefix}{n:03}");
        self.emit(
            out,
            now,
            by,
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

    fn book(
        &mut self,
        out: &mut Vec<Event>,
        by: Actor,
        now: Millis,
        code: String,
        category: String,
        slot_start: Millis,
    ) -> Result<(), Rejected> {
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
        if slot_start > now + BOOKING_HORIZON {
            return Err(Rejected::BadSlot("more than 30 days ahead"));
        }
        let l = time::local(self.config.timezone, slot_start);
        if l.ms_of_day % (i64::from(slots.slot_s) * SECOND) != 0 {
            return Err(Rejected::BadSlot("not aligned to the slot length"));
        }
        if !self.is_open_at(slot_start) {
            return Err(Rejected::BadSlot("outside opening hours"));
        }
        let booked = self
            .slot_load
            .get(&slot_key(&category, slot_start))
            .copied()
            .unwrap_or(0);
        if booked >= slots.capacity {
            return Err(Rejected::SlotFull);
        }
        self.emit(
            out,
            now,
            by,
            EventKind::AppointmentBooked {
                code,
                category,
                slot_start,
            },
        );
        Ok(())
    }

    /// The waiting ticket window `w` must call next, without scanning: its
    /// directed tickets first, else the smallest key among the heads of the
    /// category queues it may serve — O(k log n).
    pub(crate) fn next_for(&self, w: usize) -> Option<u64> {
        if let Some(&(_, serial)) = self.directed[w].first() {
            return Some(serial);
        }
        let mut best: Option<(Millis, u64)> = None;
        let mut bits = self.effective_serves(w);
        while bits != 0 {
            let c = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let Some(&head) = self.queues[c].first() {
                if best.is_none_or(|b| head < b) {
                    best = Some(head);
                }
            }
        }
        best.map(|(_, s)| s)
    }

    fn call_next(
        &mut self,
        out: &mut Vec<Event>,
        by: Actor,
        now: Millis,
        window: u32,
    ) -> Result<(), Rejected> {
        let staff = self.on_duty_actor(&by, window)?;
        let w = self.win_index(window)?;
        let win = &self.windows[w];
        match win.state {
            WindowState::Open => {}
            WindowState::Closed => return Err(Rejected::WindowClosed(window)),
            WindowState::Paused { .. } => return Err(Rejected::WindowPaused(window)),
            WindowState::Calling | WindowState::Serving => {
                return Err(self.busy(window, win.current.unwrap_or(0)));
            }
        }
        let Some(serial) = self.next_for(w) else {
            return Ok(());
        };
        let t = &self.tickets[&serial];
        let kind = EventKind::TicketCalled {
            ticket: t.id.to_string(),
            number: t.number.to_string(),
            category: t.category.to_string(),
            window,
            staff,
            recall: false,
        };
        self.emit(out, now, by, kind);
        Ok(())
    }

    fn transfer(
        &mut self,
        out: &mut Vec<Event>,
        by: Actor,
        now: Millis,
        window: u32,
        category: Option<String>,
        to_window: Option<u32>,
    ) -> Result<(), Rejected> {
        if category.is_none() && to_window.is_none() {
            return Err(Rejected::EmptyTransfer);
        }
        let staff = self.on_duty_actor(&by, window)?;
        let w = self.win_index(window)?;
        let serial = match (self.windows[w].state, self.windows[w].current) {
            (WindowState::Calling | WindowState::Serving, Some(s)) => s,
            _ => return Err(Rejected::NothingServing(window)),
        };
        let t = &self.tickets[&serial];
        let new_cat = category.unwrap_or_else(|| t.category.to_string());
        let c = self.cat_index(&new_cat)?;
        if let Some(target) = to_window {
            if target == window {
                return Err(Rejected::TransferToSelf);
            }
            let tw = self.win_index(target)?;
            match self.windows[tw].state {
                WindowState::Closed => return Err(Rejected::WindowClosed(target)),
                WindowState::Paused { .. } => return Err(Rejected::WindowPaused(target)),
                _ => {}
            }
            let may =
                self.kind_of(tw) == WindowKind::Fallback || self.layout.serves[tw] & (1 << c) != 0;
            if !may {
                return Err(Rejected::CannotServe {
                    window: target,
                    category: new_cat,
                });
            }
        }
        let _ = staff;
        let kind = EventKind::TicketTransferred {
            ticket: t.id.to_string(),
            number: t.number.to_string(),
            from_window: window,
            from_category: t.category.to_string(),
            category: new_cat,
            to_window,
        };
        self.emit(out, now, by, kind);
        Ok(())
    }

    fn pause(
        &mut self,
        out: &mut Vec<Event>,
        by: Actor,
        now: Millis,
        window: u32,
        reason: PauseReason,
    ) -> Result<(), Rejected> {
        let staff = self.on_duty_actor(&by, window)?;
        let w = self.win_index(window)?;
        let win = self.windows[w].clone();
        match win.state {
            WindowState::Closed => return Err(Rejected::WindowClosed(window)),
            WindowState::Paused { .. } => return Err(Rejected::WindowPaused(window)),
            _ => {}
        }
        let on = win.on_duty.clone().ok_or(Rejected::NotOnDuty {
            staff: staff.clone(),
            window,
        })?;
        if reason.is_absence() {
            if let Some(sb) = win.standby.clone() {
                // AB岗: the B post takes the window at once, current ticket included.
                self.hand_over_and_leave(out, by, now, window, on, sb, reason.label_zh());
                return Ok(());
            }
        }
        if let Some(serial) = win.current {
            return Err(self.busy(window, serial));
        }
        let why = format!(
            "{}号窗口{}（{}），无B岗在岗",
            window,
            reason.label_zh(),
            staff
        );
        let s = Some(staff.clone());
        self.stop_window(
            out,
            by,
            now,
            window,
            s.clone(),
            &why,
            reason.is_absence(),
            |_| EventKind::WindowPaused {
                window,
                staff: s,
                reason,
            },
        );
        Ok(())
    }

    /// Stops a window (pause or close) and fails over what it held: tickets
    /// directed to it go back to the pool, categories nobody else serves move
    /// to fallback/comprehensive windows; the supervisor is warned.
    #[allow(clippy::too_many_arguments)]
    fn stop_window(
        &mut self,
        out: &mut Vec<Event>,
        by: Actor,
        now: Millis,
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
        self.emit(out, now, by, kind);
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
        self.emit(
            out,
            now,
            Actor::System,
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
            out,
            now,
            Actor::System,
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

    /// AB岗: the clerk on standby takes the window at once (with its current
    /// ticket) and the one on duty leaves it.
    #[allow(clippy::too_many_arguments)]
    fn hand_over_and_leave(
        &mut self,
        out: &mut Vec<Event>,
        by: Actor,
        now: Millis,
        window: u32,
        on: crate::model::Seat,
        standby: crate::model::Seat,
        reason: &str,
    ) {
        self.emit(
            out,
            now,
            by.clone(),
            EventKind::PostHandover {
                window,
                from: on.staff.clone(),
                from_post: on.post,
                to: standby.staff,
                to_post: standby.post,
                reason: reason.into(),
            },
        );
        self.emit(
            out,
            now,
            by,
            EventKind::StaffLoggedOut {
                staff: on.staff,
                window,
                reason: reason.into(),
            },
        );
    }

    /// The refusal for acting on a window busy with ticket `serial`.
    fn busy(&self, window: u32, serial: u64) -> Rejected {
        let number = self
            .tickets
            .get(&serial)
            .map(|t| t.number.to_string())
            .unwrap_or_default();
        Rejected::WindowBusy { window, number }
    }

    fn login(
        &mut self,
        out: &mut Vec<Event>,
        by: Actor,
        now: Millis,
        staff: String,
        window: u32,
    ) -> Result<(), Rejected> {
        acting_for_self(&by, &staff, window)?;
        if self.config.staff(&staff).is_none() {
            return Err(Rejected::UnknownStaff(staff));
        }
        let w = self.win_index(window)?;
        if let Some((at, _)) = self.staff_at.get(&staff) {
            if *at == window {
                return Ok(()); // already seated here: a new token, no change
            }
            return Err(Rejected::AlreadyLoggedIn { staff, window: *at });
        }
        let post = self.post_of(window, &staff);
        if post == crate::model::Post::Relief {
            return Err(Rejected::NotAPost { staff, window });
        }
        let win = &self.windows[w];
        match (win.state, &win.on_duty, &win.standby) {
            (WindowState::Closed, None, sb)
                if self.kind_of(w) != WindowKind::Tidal || sb.is_some() =>
            {
                if self.kind_of(w) == WindowKind::Tidal {
                    return Err(Rejected::WindowFull(window));
                }
                self.emit(
                    out,
                    now,
                    by,
                    EventKind::WindowOpened {
                        window,
                        staff,
                        post,
                        tidal: false,
                        reason: "窗口人员登录".into(),
                    },
                );
            }
            (WindowState::Closed, None, None) => {
                // A closed tidal window: wait on standby until the load opens it.
                self.emit(
                    out,
                    now,
                    by,
                    EventKind::StaffLoggedIn {
                        staff,
                        window,
                        duty: Duty::Standby,
                        post,
                    },
                );
            }
            (_, None, _) => {
                self.emit(
                    out,
                    now,
                    by.clone(),
                    EventKind::StaffLoggedIn {
                        staff: staff.clone(),
                        window,
                        duty: Duty::OnDuty,
                        post,
                    },
                );
                self.emit(out, now, by, EventKind::WindowResumed { window, staff });
            }
            (_, Some(_), None) => {
                self.emit(
                    out,
                    now,
                    by,
                    EventKind::StaffLoggedIn {
                        staff,
                        window,
                        duty: Duty::Standby,
                        post,
                    },
                );
            }
            (_, Some(_), Some(_)) => return Err(Rejected::WindowFull(window)),
        }
        Ok(())
    }

    fn logout(
        &mut self,
        out: &mut Vec<Event>,
        by: Actor,
        now: Millis,
        staff: String,
        window: u32,
    ) -> Result<(), Rejected> {
        acting_for_self(&by, &staff, window)?;
        let w = self.win_index(window)?;
        match self.staff_at.get(&staff) {
            Some((at, _)) if *at == window => {}
            _ => return Err(Rejected::NotOnDuty { staff, window }),
        }
        let win = self.windows[w].clone();
        let on_duty = win.on_duty.as_ref().is_some_and(|s| s.staff == staff);
        if !on_duty {
            self.emit(
                out,
                now,
                by,
                EventKind::StaffLoggedOut {
                    staff,
                    window,
                    reason: "退出登录".into(),
                },
            );
            return Ok(());
        }
        if let (Some(on), Some(sb)) = (win.on_duty.clone(), win.standby.clone()) {
            self.hand_over_and_leave(out, by, now, window, on, sb, "退出登录");
            return Ok(());
        }
        if let Some(serial) = win.current {
            return Err(self.busy(window, serial));
        }
        self.emit(
            out,
            now,
            by.clone(),
            EventKind::StaffLoggedOut {
                staff: staff.clone(),
                window,
                reason: "退出登录".into(),
            },
        );
        if win.state == WindowState::Closed {
            return Ok(());
        }
        let why = format!("{window}号窗口{staff}退出登录，无B岗在岗");
        let s = Some(staff);
        self.stop_window(out, by, now, window, s.clone(), &why, true, |_| {
            EventKind::WindowPaused {
                window,
                staff: s,
                reason: PauseReason::NoStaff,
            }
        });
        Ok(())
    }

    fn check_open(&self, window: u32, staff: &str) -> Result<usize, Rejected> {
        let w = self.win_index(window)?;
        if self.config.staff(staff).is_none() {
            return Err(Rejected::UnknownStaff(staff.to_string()));
        }
        // A closed window, or one paused because its clerk left with nobody
        // to take over: the supervisor puts someone there.
        let win = &self.windows[w];
        let unmanned = matches!(
            win.state,
            WindowState::Paused {
                reason: PauseReason::NoStaff
            }
        ) && win.on_duty.is_none();
        if win.state != WindowState::Closed && !unmanned {
            return Err(Rejected::AlreadyOpen(window));
        }
        if let Some((at, Duty::OnDuty)) = self.staff_at.get(staff) {
            return Err(Rejected::AlreadyLoggedIn {
                staff: staff.to_string(),
                window: *at,
            });
        }
        Ok(w)
    }

    fn open_window(
        &mut self,
        out: &mut Vec<Event>,
        by: Actor,
        now: Millis,
        window: u32,
        staff: String,
        reason: String,
    ) -> Result<(), Rejected> {
        let w = self.check_open(window, &staff)?;
        let post = self.post_of(window, &staff);
        let tidal = self.kind_of(w) == WindowKind::Tidal;
        self.emit(
            out,
            now,
            by,
            EventKind::WindowOpened {
                window,
                staff,
                post,
                tidal,
                reason,
            },
        );
        Ok(())
    }

    /// Yellow at 80 % and red at 100 % of the time limit while serving; red
    /// once a ticket waits beyond its category's wait target.
    fn raise_warnings(&mut self, now: Millis, out: &mut Vec<Event>) {
        let mut due = Vec::new();
        for win in &self.windows {
            if win.state != WindowState::Serving {
                continue;
            }
            let Some(t) = win.current.and_then(|s| self.tickets.get(&s)) else {
                continue;
            };
            let Some(cat) = self.config.category(&t.category) else {
                continue;
            };
            let elapsed = now - t.started_at.unwrap_or(now);
            let limit = i64::from(cat.limit_s) * SECOND;
            let level = if elapsed > limit {
                Level::Red
            } else if elapsed * 5 > limit * 4 {
                Level::Yellow
            } else {
                Level::Green
            };
            if level > t.service_warned {
                due.push(EventKind::Warning {
                    level,
                    kind: WarningKind::ServiceTime,
                    window: Some(win.number),
                    ticket: Some(t.id.to_string()),
                    number: Some(t.number.to_string()),
                    category: Some(t.category.to_string()),
                    message: format!(
                        "{}号窗口办理{}已{}分钟，{}限时{}分钟",
                        win.number,
                        t.number,
                        elapsed / MINUTE,
                        cat.name,
                        cat.limit_s / 60
                    ),
                });
            }
        }
        for (c, cat) in self.config.categories.iter().enumerate() {
            let target = i64::from(cat.wait_target_s) * SECOND;
            for &(since, serial) in &self.wait_watch[c] {
                if !self.watch_live((since, serial)) {
                    continue;
                }
                if now - since <= target {
                    break;
                }
                let t = &self.tickets[&serial];
                due.push(EventKind::Warning {
                    level: Level::Red,
                    kind: WarningKind::Wait,
                    window: None,
                    ticket: Some(t.id.to_string()),
                    number: Some(t.number.to_string()),
                    category: Some(t.category.to_string()),
                    message: format!(
                        "{}已等候{}分钟，超过{}目标{}分钟",
                        t.number,
                        (now - since) / MINUTE,
                        cat.name,
                        cat.wait_target_s / 60
                    ),
                });
            }
        }
        for kind in due {
            self.emit(out, now, Actor::System, kind);
        }
    }

    fn reload(
        &mut self,
        out: &mut Vec<Event>,
        by: Actor,
        now: Millis,
        config: HallConfig,
    ) -> Result<(), Rejected> {
        if config.id != self.config.id {
            return Err(Rejected::WrongHall(config.id));
        }
        config
            .validate()
            .map_err(|e| Rejected::BadConfig(e.to_string()))?;
        for w in &self.windows {
            if w.state != WindowState::Closed && config.window(w.number).is_none() {
                return Err(Rejected::ReloadInUse(format!("window {} (open)", w.number)));
            }
        }
        for t in self.tickets.values() {
            if !t.state.is_final() && config.category(&t.category).is_none() {
                return Err(Rejected::ReloadInUse(format!("category {}", t.category)));
            }
        }
        for (staff, (w, _)) in &self.staff_at {
            if config.staff(staff).is_none() {
                return Err(Rejected::ReloadInUse(format!(
                    "staff {staff} (at window {w})"
                )));
            }
        }
        if config == self.config {
            return Ok(());
        }
        self.emit(
            out,
            now,
            by,
            EventKind::ConfigReloaded {
                config: Box::new(config),
            },
        );
        Ok(())
    }
}

/// A clerk logs in and out only as themselves (supervisors may act for anyone).
fn acting_for_self(by: &Actor, staff: &str, window: u32) -> Result<(), Rejected> {
    match by.staff_id() {
        Some(actor) if actor != staff => Err(Rejected::NotOnDuty {
            staff: actor.into(),
            window,
        }),
        _ => Ok(()),
    }
}
