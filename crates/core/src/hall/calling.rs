//! The call order (叫号): every waiting ticket has a fixed key
//! `issued_at − bonus`; each category's pooled tickets are an ordered set and
//! each window has its own set of tickets transferred to it, which go first
//! there. `call-next` takes the smallest key among the heads of the sets the
//! window may serve: O(k log n), no scans. Also the clerk's actions on the
//! ticket at the window: recall, no-show, start, complete, transfer, requeue.

use crate::config::{RequeuePlace, WindowKind};
use crate::error::Rejected;
use crate::event::{Event, EventKind};
use crate::hall::handle::{state_name, Ctx};
use crate::hall::{Hall, RecentCall, RECENT_CALLS, SERVICE_EWMA_ALPHA};
use crate::model::{Actor, Level, Ticket, TicketState, WindowState};
use crate::time::{Millis, SECOND};

impl Hall {
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

    /// The clerk on duty at an open, idle window (the index of the window):
    /// what both call-next and 指定叫号 need before they call anyone.
    pub(crate) fn ready_to_call(&self, cx: &Ctx, window: u32) -> Result<(String, usize), Rejected> {
        let staff = self.on_duty_actor(&cx.by, window)?;
        let w = self.win_index(window)?;
        let win = &self.windows[w];
        match win.state {
            WindowState::Open => Ok((staff, w)),
            WindowState::Closed => Err(Rejected::WindowClosed(window)),
            WindowState::Paused { .. } => Err(Rejected::WindowPaused(window)),
            WindowState::Calling | WindowState::Serving => {
                Err(self.busy(window, win.current.unwrap_or(0)))
            }
        }
    }

    pub(crate) fn call_next(&mut self, cx: &mut Ctx, window: u32) -> Result<(), Rejected> {
        let (staff, w) = self.ready_to_call(cx, window)?;
        let Some(serial) = self.next_for(w) else {
            return Ok(());
        };
        let t = &self.tickets[&serial];
        let kind = EventKind::TicketCalled {
            ticket: t.id.as_str().to_owned(),
            number: t.number.as_str().to_owned(),
            category: t.category.as_str().to_owned(),
            window,
            staff,
            recall: false,
            out_of_order: false,
            resumed: false,
        };
        self.emit(cx, kind);
        Ok(())
    }

    /// 重呼: the same ticket is called again.
    pub(crate) fn recall(&mut self, cx: &mut Ctx, window: u32) -> Result<(), Rejected> {
        self.at_window(cx, window, WindowState::Calling, |t, staff, _| {
            EventKind::TicketCalled {
                ticket: t.id.as_str().to_owned(),
                number: t.number.as_str().to_owned(),
                category: t.category.as_str().to_owned(),
                window,
                staff,
                recall: true,
                out_of_order: false,
                resumed: false,
            }
        })
    }

    /// 过号: the called citizen did not come; the window is free again.
    /// Only after `min_recalls_before_no_show` recalls (重呼 first).
    pub(crate) fn no_show(&mut self, cx: &mut Ctx, window: u32) -> Result<(), Rejected> {
        let (serial, _) = self.current(window, WindowState::Calling, &cx.by)?;
        let needed = self.config.min_recalls_before_no_show;
        let done = self.tickets[&serial].recalls;
        if done < needed {
            return Err(Rejected::RecallFirst { needed, done });
        }
        self.at_window(cx, window, WindowState::Calling, |t, _, _| {
            EventKind::TicketNoShow {
                ticket: t.id.as_str().to_owned(),
                number: t.number.as_str().to_owned(),
                window,
                held: false,
            }
        })
    }

    pub(crate) fn start(&mut self, cx: &mut Ctx, window: u32) -> Result<(), Rejected> {
        self.at_window(cx, window, WindowState::Calling, |t, staff, _| {
            EventKind::ServiceStarted {
                ticket: t.id.as_str().to_owned(),
                number: t.number.as_str().to_owned(),
                window,
                staff,
            }
        })
    }

    /// 办结: the wait and handling times go into the event for statistics.
    pub(crate) fn complete(&mut self, cx: &mut Ctx, window: u32) -> Result<(), Rejected> {
        self.at_window(cx, window, WindowState::Serving, |t, staff, now| {
            let called = t.called_at.unwrap_or(t.waiting_since);
            let started = t.started_at.unwrap_or(called);
            EventKind::ServiceCompleted {
                ticket: t.id.as_str().to_owned(),
                number: t.number.as_str().to_owned(),
                category: t.category.as_str().to_owned(),
                window,
                staff,
                wait_s: (called - t.waiting_since).max(0) as f64 / 1000.0,
                handling_s: (now - started).max(0) as f64 / 1000.0,
            }
        })
    }

    /// Emits the event `make` builds from the ticket at `window` (which must
    /// be in state `expect`), the clerk on duty there and the time.
    fn at_window(
        &mut self,
        cx: &mut Ctx,
        window: u32,
        expect: WindowState,
        make: impl FnOnce(&Ticket, String, Millis) -> EventKind,
    ) -> Result<(), Rejected> {
        let (serial, staff) = self.current(window, expect, &cx.by)?;
        let kind = make(&self.tickets[&serial], staff, cx.now);
        self.emit(cx, kind);
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

    /// 转办: the ticket keeps its number and key and waits again, in another
    /// category and/or directed to a window that may serve it.
    pub(crate) fn transfer(
        &mut self,
        cx: &mut Ctx,
        window: u32,
        category: Option<String>,
        to_window: Option<u32>,
    ) -> Result<(), Rejected> {
        if category.is_none() && to_window.is_none() {
            return Err(Rejected::EmptyTransfer);
        }
        self.on_duty_actor(&cx.by, window)?;
        let w = self.win_index(window)?;
        let serial = match (self.windows[w].state, self.windows[w].current) {
            (WindowState::Calling | WindowState::Serving, Some(s)) => s,
            _ => return Err(Rejected::NothingServing(window)),
        };
        let t = &self.tickets[&serial];
        let new_cat = category.unwrap_or_else(|| t.category.as_str().to_owned());
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
        // A category transfer goes somewhere else: when this window serves
        // the category too, the ticket is directed to another open window
        // that serves it; with none, it can only come back here (and the
        // event says so).
        let mut to_window = to_window;
        let mut only_here = false;
        if to_window.is_none() && self.effective_serves(w) & (1 << c) != 0 {
            to_window = self.other_window_for(w, c);
            only_here = to_window.is_none();
        }
        let t = &self.tickets[&serial];
        let kind = EventKind::TicketTransferred {
            ticket: t.id.as_str().to_owned(),
            number: t.number.as_str().to_owned(),
            from_window: window,
            from_category: t.category.as_str().to_owned(),
            category: new_cat,
            to_window,
            only_here,
        };
        self.emit(cx, kind);
        Ok(())
    }

    /// Another staffed window than `w` that serves category `c` now, for a
    /// category transfer: the one with the fewest tickets already directed
    /// to it, an idle one first, then the lowest number.
    fn other_window_for(&self, w: usize, c: usize) -> Option<u32> {
        self.windows
            .iter()
            .enumerate()
            .filter(|&(j, o)| j != w && o.is_staffed() && self.effective_serves(j) & (1 << c) != 0)
            .min_by_key(|&(j, o)| {
                (
                    self.directed[j].len(),
                    o.state != WindowState::Open,
                    o.number,
                )
            })
            .map(|(_, o)| o.number)
    }

    /// 过号重排: a no-show queues again with key = now.
    pub(crate) fn requeue(&mut self, cx: &mut Ctx, ticket: &str) -> Result<(), Rejected> {
        if !matches!(cx.by, Actor::Kiosk | Actor::Staff(_) | Actor::Supervisor) {
            return Err(Rejected::ClerkOnly);
        }
        let serial = self.serial_of(ticket)?;
        let t = &self.tickets[&serial];
        if t.state != TicketState::NoShow {
            return Err(Rejected::NotRequeueable(state_name(t.state)));
        }
        let key = match self.config.requeue {
            RequeuePlace::Back => cx.now,
            RequeuePlace::KeepPriority => cx.now - i64::from(self.bonus_s(t.priority)) * SECOND,
        };
        let kind = EventKind::TicketRequeued {
            ticket: t.id.as_str().to_owned(),
            number: t.number.as_str().to_owned(),
            category: t.category.as_str().to_owned(),
            key,
        };
        self.emit(cx, kind);
        Ok(())
    }

    /// State changes of this rule's events.
    pub(super) fn apply_calling(&mut self, ev: &Event) {
        let at = ev.at;
        match &ev.kind {
            EventKind::TicketCalled {
                ticket,
                number,
                category,
                window,
                staff,
                recall,
                ..
            } => {
                if let Some(serial) = self.tickets.serial_of(ticket) {
                    if !*recall {
                        self.dequeue(serial);
                    }
                    if let Some(t) = self.tickets.get_mut(&serial) {
                        t.state = TicketState::Called;
                        t.window = Some(*window);
                        t.staff = Some(staff.clone());
                        t.calls += 1;
                        t.recalls = if *recall { t.recalls + 1 } else { 0 };
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
                if let Some(serial) = self.tickets.serial_of(ticket) {
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
                if let Some(serial) = self.tickets.serial_of(ticket) {
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
            _ => {}
        }
    }

    /// The window's ticket is gone (done, no-show, transferred, expired).
    pub(crate) fn free_window(&mut self, number: u32, at: Millis) {
        if let Some(w) = self.win_mut(number) {
            w.current = None;
            if w.is_busy() {
                w.state = WindowState::Open;
            }
            w.since = at;
        }
    }

    /// Puts a waiting ticket into its queue: the window it was directed to,
    /// or its category's pool.
    pub(crate) fn enqueue(&mut self, serial: u64) {
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
        self.near_turn_scan.moved();
        if !t.wait_warned {
            self.wait_watch[c].push_back((t.waiting_since, serial));
        }
        self.waiting[c] += 1;
    }

    /// Takes a waiting ticket out of whichever queue holds it.
    pub(crate) fn dequeue(&mut self, serial: u64) {
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
            self.near_turn_scan.moved();
        }
        // Its wait is over: a new one (requeue, transfer) may be told again,
        // and the set, copied into every read snapshot, keeps only waits.
        self.near_turn.remove(&serial);
        // The wait watch entry dies with the state change that follows;
        // `apply` trims it from the front then.
        self.pending_trim = Some(c);
    }
}
