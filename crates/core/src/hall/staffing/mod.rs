//! Staffing (AB岗): who sits at which window, the A and B posts, handover,
//! pause and resume, opening a window. Every window stop (pause without a B
//! post, logout, any close) takes one path, in [`stop`]: it fails over what
//! the window held.

mod stop;
mod summons;

use crate::config::WindowKind;
use crate::error::Rejected;
use crate::event::{Event, EventKind};
use crate::hall::handle::Ctx;
use crate::hall::Hall;
use crate::model::{Actor, Duty, PauseReason, Post, Seat, Window, WindowState};
use crate::reason::Reason;

impl Hall {
    pub(crate) fn login(
        &mut self,
        cx: &mut Ctx,
        staff: String,
        window: u32,
    ) -> Result<(), Rejected> {
        acting_for_self(&cx.by, &staff, window)?;
        if self.config.staff(&staff).is_none() {
            return Err(Rejected::UnknownStaff(staff));
        }
        let w = self.win_index(window)?;
        // The clerk summoned here logs in: now the window opens (a standby
        // seat elsewhere is left; on duty elsewhere, they must log out first).
        if let Some(s) = self.summons.get(&window).filter(|s| s.staff == staff) {
            if let Some((at, Duty::OnDuty)) = self.staff_at.get(&staff) {
                return Err(Rejected::AlreadyLoggedIn { staff, window: *at });
            }
            let kind = EventKind::WindowOpened {
                window,
                staff,
                post: s.post,
                tidal: s.tidal,
                reason: s.reason.clone(),
            };
            self.emit(cx, kind);
            return Ok(());
        }
        if let Some((at, _)) = self.staff_at.get(&staff) {
            if *at == window {
                return Ok(()); // already seated here: a new token, no change
            }
            return Err(Rejected::AlreadyLoggedIn { staff, window: *at });
        }
        let post = self.post_of(window, &staff);
        if post == Post::Relief {
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
                    cx,
                    EventKind::WindowOpened {
                        window,
                        staff,
                        post,
                        tidal: false,
                        reason: Reason::Login,
                    },
                );
            }
            (WindowState::Closed, None, None) => {
                // A closed tidal window: wait on standby until the load opens it.
                self.emit(
                    cx,
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
                    cx,
                    EventKind::StaffLoggedIn {
                        staff: staff.clone(),
                        window,
                        duty: Duty::OnDuty,
                        post,
                    },
                );
                self.emit(cx, EventKind::WindowResumed { window, staff });
            }
            (_, Some(_), None) => {
                self.emit(
                    cx,
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

    pub(crate) fn logout(
        &mut self,
        cx: &mut Ctx,
        staff: String,
        window: u32,
    ) -> Result<(), Rejected> {
        acting_for_self(&cx.by, &staff, window)?;
        let w = self.win_index(window)?;
        match self.staff_at.get(&staff) {
            Some((at, _)) if *at == window => {}
            _ => return Err(Rejected::NotOnDuty { staff, window }),
        }
        let win = self.windows[w].clone();
        let on_duty = win.on_duty.as_ref().is_some_and(|s| s.staff == staff);
        if !on_duty {
            self.emit(
                cx,
                EventKind::StaffLoggedOut {
                    staff,
                    window,
                    reason: Reason::Logout,
                },
            );
            return Ok(());
        }
        if let (Some(on), Some(sb)) = (win.on_duty.clone(), win.standby.clone()) {
            self.hand_over_and_leave(cx, window, on, sb, Reason::Logout);
            return Ok(());
        }
        if let Some(serial) = win.current {
            return Err(self.busy(window, serial));
        }
        self.emit(
            cx,
            EventKind::StaffLoggedOut {
                staff: staff.clone(),
                window,
                reason: Reason::Logout,
            },
        );
        if win.state == WindowState::Closed {
            return Ok(());
        }
        let s = Some(staff);
        self.stop_window(cx, window, s.clone(), Reason::Logout, true, |_| {
            EventKind::WindowPaused {
                window,
                staff: s,
                reason: PauseReason::NoStaff,
            }
        });
        Ok(())
    }

    /// 暂停: an absence (leave, meeting) hands the window to the B post on
    /// standby; otherwise the window stops and fails over.
    pub(crate) fn pause(
        &mut self,
        cx: &mut Ctx,
        window: u32,
        reason: PauseReason,
    ) -> Result<(), Rejected> {
        let staff = self.on_duty_actor(&cx.by, window)?;
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
                self.hand_over_and_leave(cx, window, on, sb, Reason::Pause { pause: reason });
                return Ok(());
            }
        }
        if let Some(serial) = win.current {
            return Err(self.busy(window, serial));
        }
        let s = Some(staff.clone());
        self.stop_window(
            cx,
            window,
            s.clone(),
            Reason::Pause { pause: reason },
            reason.is_absence(),
            |_| EventKind::WindowPaused {
                window,
                staff: s,
                reason,
            },
        );
        Ok(())
    }

    pub(crate) fn resume(&mut self, cx: &mut Ctx, window: u32) -> Result<(), Rejected> {
        let staff = self.on_duty_actor(&cx.by, window)?;
        let w = &self.windows[self.win_index(window)?];
        if !matches!(w.state, WindowState::Paused { .. }) {
            return Err(Rejected::NotPaused(window));
        }
        self.emit(cx, EventKind::WindowResumed { window, staff });
        Ok(())
    }

    /// The clerk on duty passes the window to the one on standby at once.
    pub(crate) fn handover(&mut self, cx: &mut Ctx, window: u32) -> Result<(), Rejected> {
        let from = self.on_duty_actor(&cx.by, window)?;
        let w = &self.windows[self.win_index(window)?];
        let (Some(on), Some(sb)) = (w.on_duty.clone(), w.standby.clone()) else {
            return Err(Rejected::NoStandby(window));
        };
        self.emit(
            cx,
            EventKind::PostHandover {
                window,
                from,
                from_post: on.post,
                to: sb.staff,
                to_post: sb.post,
                reason: Reason::Handover,
            },
        );
        Ok(())
    }

    /// AB岗: the clerk on standby takes the window at once (with its current
    /// ticket) and the one on duty leaves it.
    fn hand_over_and_leave(
        &mut self,
        cx: &mut Ctx,
        window: u32,
        on: Seat,
        standby: Seat,
        reason: Reason,
    ) {
        self.emit(
            cx,
            EventKind::PostHandover {
                window,
                from: on.staff.clone(),
                from_post: on.post,
                to: standby.staff,
                to_post: standby.post,
                reason: reason.clone(),
            },
        );
        self.emit(
            cx,
            EventKind::StaffLoggedOut {
                staff: on.staff,
                window,
                reason,
            },
        );
    }

    /// Whether `staff` may be put at `window` now; its index if so.
    pub(crate) fn check_open(&self, window: u32, staff: &str) -> Result<usize, Rejected> {
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
        if let Some(s) = self.summons.get(&window) {
            return Err(Rejected::AlreadySummoned {
                window,
                staff: s.staff.clone(),
            });
        }
        if let Some(at) = self.summoned_to(staff) {
            return Err(Rejected::AlreadySummoned {
                window: at,
                staff: staff.to_string(),
            });
        }
        Ok(w)
    }

    /// The supervisor opens a window with a named staff member.
    pub(crate) fn supervisor_open(
        &mut self,
        cx: &mut Ctx,
        window: u32,
        staff: String,
    ) -> Result<(), Rejected> {
        let w = self.check_open(window, &staff)?;
        let tidal = self.kind_of(w) == WindowKind::Tidal;
        self.summon(cx, window, staff, tidal, Reason::SupervisorOpen, Vec::new());
        Ok(())
    }

    pub(crate) fn is_on_duty_anywhere(&self, staff: &str) -> bool {
        self.staff_at
            .get(staff)
            .is_some_and(|(_, d)| *d == Duty::OnDuty)
    }

    /// Who can staff window `w` now: its standby clerk, else its A then B post
    /// if they are not at any window, else any clerk on standby elsewhere;
    /// never someone already summoned to a window.
    pub(crate) fn standby_for(&self, number: u32) -> Option<(String, Post)> {
        self.free_staff_for(number, &[])
    }

    /// As [`Hall::standby_for`], skipping the staff in `tried` (a summons
    /// passing on).
    pub(crate) fn free_staff_for(&self, number: u32, tried: &[String]) -> Option<(String, Post)> {
        let cfg = self.config.window(number)?;
        let w = self.window(number)?;
        let free = |s: &String| !tried.contains(s) && self.summoned_to(s).is_none();
        if let Some(s) = w.standby.as_ref().filter(|s| free(&s.staff)) {
            return Some((s.staff.clone(), s.post));
        }
        if !self.staff_at.contains_key(&cfg.a_post) && free(&cfg.a_post) {
            return Some((cfg.a_post.clone(), Post::A));
        }
        if let Some(b) = &cfg.b_post {
            if !self.staff_at.contains_key(b) && free(b) {
                return Some((b.clone(), Post::B));
            }
        }
        let mut standby: Vec<&String> = self
            .staff_at
            .iter()
            .filter(|(s, (_, d))| *d == Duty::Standby && free(s))
            .map(|(s, _)| s)
            .collect();
        standby.sort();
        standby
            .first()
            .map(|s| ((*s).clone(), self.post_of(number, s)))
    }

    pub(crate) fn post_of(&self, number: u32, staff: &str) -> Post {
        match self.config.window(number) {
            Some(w) if w.a_post == staff => Post::A,
            Some(w) if w.b_post.as_deref() == Some(staff) => Post::B,
            _ => Post::Relief,
        }
    }

    /// State changes of this rule's events; true when a window's state
    /// changed (the coverage must be recomputed).
    pub(super) fn apply_staffing(&mut self, ev: &Event) -> bool {
        let at = ev.at;
        match &ev.kind {
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
                false
            }
            EventKind::StaffLoggedOut { staff, window, .. } => {
                self.unseat(staff, *window);
                false
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
                self.summons.remove(window);
                if *tidal {
                    // A fresh opening restarts both clocks: it must prove
                    // itself idle for the full close period before closing.
                    self.overload_since = None;
                    self.underload_since = None;
                }
                true
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
                true
            }
            EventKind::WindowPaused { window, reason, .. } => {
                if let Some(w) = self.win_mut(*window) {
                    w.state = WindowState::Paused { reason: *reason };
                    w.since = at;
                }
                true
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
                true
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
                false
            }
            EventKind::Failover {
                window, tickets, ..
            } => {
                self.apply_failover(*window, tickets);
                false
            }
            EventKind::WindowSummoned {
                window,
                staff,
                post,
                tidal,
                reason,
                deadline,
                tried,
            } => {
                self.summons.insert(
                    *window,
                    crate::hall::Summons {
                        staff: staff.clone(),
                        post: *post,
                        tidal: *tidal,
                        reason: reason.clone(),
                        at,
                        deadline: *deadline,
                        tried: tried.clone(),
                    },
                );
                false
            }
            EventKind::SummonsEnded { window, .. } => {
                self.summons.remove(window);
                false
            }
            _ => false,
        }
    }

    pub(crate) fn win_mut(&mut self, number: u32) -> Option<&mut Window> {
        let i = *self.layout.win_index.get(&number)?;
        self.windows.get_mut(i)
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
