//! The tidal-window policy (潮汐窗口): open one more window when the load has
//! been high for `sustain_s`, close an idle one when it has been low for five
//! times that, within `min_open..=max_open`, never a busy window.

use crate::config::{TidalMode, WindowKind};
use crate::error::Rejected;
use crate::event::{AdviceAction, Event, EventKind};
use crate::hall::handle::Ctx;
use crate::hall::{Advice, Hall};
use crate::model::{PauseReason, WindowState};
use crate::reason::{tenths, Reason};
use crate::time::{self, Millis, SECOND};

/// A half-hour of the staffing plan, ms.
const PLAN_SLOT: Millis = 30 * 60 * SECOND;

/// Load figures the policy looks at, also shown on the supervisor dashboard.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Load {
    pub waiting: u32,
    pub staffed_windows: u32,
    /// Waiting tickets per staffed window (infinite when tickets wait and no
    /// window is staffed).
    pub per_window: f64,
    /// Estimated wait, seconds, of a ticket issued now in the worst category.
    pub newest_wait_s: f64,
}

impl Hall {
    pub fn load(&self) -> Load {
        let waiting = self.waiting_total();
        let staffed = self.staffed_count();
        let per_window = match (waiting, staffed) {
            (0, _) => 0.0,
            (_, 0) => f64::INFINITY,
            (w, s) => f64::from(w) / f64::from(s),
        };
        Load {
            waiting,
            staffed_windows: staffed,
            per_window,
            newest_wait_s: self.newest_wait_s(),
        }
    }

    /// Estimated wait, seconds, of a ticket issued now in the worst category.
    fn newest_wait_s(&self) -> f64 {
        let mut newest = 0.0f64;
        for c in 0..self.waiting.len() {
            if self.waiting[c] > 0 {
                newest = newest.max(self.newest_estimate_s(c));
            }
        }
        newest
    }

    /// Estimated wait of a normal ticket issued now in category `c`: the work
    /// queued in competing categories shared by the windows that may serve it.
    pub(crate) fn newest_estimate_s(&self, c: usize) -> f64 {
        let eligible = self.coverage.eligible.get(c).copied().unwrap_or(0);
        if eligible == 0 {
            return f64::INFINITY;
        }
        let mask = self.coverage.compete[c];
        let mut work = 0.0;
        let mut bits = mask;
        while bits != 0 {
            let o = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            work += f64::from(self.waiting[o]) * self.avg_service_s[o];
        }
        work / f64::from(eligible)
    }

    /// (open condition, close condition) of the tidal policy, from state alone.
    pub(crate) fn tidal_conditions(&self) -> (bool, bool) {
        let p = &self.config.tidal;
        let waiting = self.waiting_total();
        let staffed = self.staffed_count();
        let per_window = match (waiting, staffed) {
            (0, _) => 0.0,
            (_, 0) => f64::INFINITY,
            (w, s) => f64::from(w) / f64::from(s),
        };
        // The estimate costs O(k²); compute it only when it can decide, and
        // once (this runs after every applied event).
        let mut estimate = None;
        let mut newest = || *estimate.get_or_insert_with(|| self.newest_wait_s());
        let overload = per_window > p.open_per_window || newest() > f64::from(p.open_wait_s);
        // Close only when the hall would not be overloaded with one window
        // fewer: otherwise the window would reopen at once (flapping).
        let underload = per_window < p.close_per_window
            && !overload
            && (staffed <= 1 || {
                let fewer = f64::from(staffed - 1);
                f64::from(waiting) / fewer <= p.open_per_window
                    && newest() * f64::from(staffed) / fewer <= f64::from(p.open_wait_s)
            });
        (overload, underload)
    }

    /// The next instant a tidal condition has been sustained long enough for
    /// `evaluate_tidal` to act on it.
    pub(super) fn next_tidal_at(&self) -> Option<Millis> {
        if !self.layout.has_tidal {
            return None;
        }
        let p = &self.config.tidal;
        let sustain = i64::from(p.sustain_s) * SECOND;
        // Only a deadline `evaluate_tidal` could act on: a quiet hall with no
        // tidal window to close must not wake its shell after every command.
        let pending = |action| self.advice.values().any(|a| a.action == action);
        let stale_advice = p.mode != TidalMode::Advise
            && self
                .advice
                .values()
                .any(|a| a.action == AdviceAction::Open && self.standby_for(a.window).is_some());
        let open_count = self.open_count();
        let can_open = stale_advice
            || (open_count < p.max_open
                && !pending(AdviceAction::Open)
                && self.closed_tidal_window().is_some());
        let can_close = stale_advice
            || (open_count > p.min_open
                && !pending(AdviceAction::Close)
                && self.idle_tidal_window().is_some());
        let open = self
            .overload_since
            .filter(|_| can_open)
            .map(|t| t + sustain);
        let close = self
            .underload_since
            .filter(|_| can_close)
            .map(|t| t + 5 * sustain);
        open.into_iter()
            .chain(close)
            .chain(self.next_plan_at())
            .min()
    }

    /// Tidal mode `plan`: windows the plan wants at `at` (the half-hour that
    /// starts within the lead counts from `lead` before it).
    fn planned_at(&self, at: Millis) -> Option<u32> {
        if self.config.tidal.mode != TidalMode::Plan {
            return None;
        }
        let (windows, lead) = self.staffing_plan.as_ref()?;
        let l = time::local(self.config.timezone, at + lead);
        windows
            .get(usize::try_from(l.ms_of_day / PLAN_SLOT).ok()?)
            .copied()
    }

    /// Open windows plus windows a clerk is summoned to.
    pub(crate) fn open_or_summoned(&self) -> u32 {
        self.open_count() + self.summons.len() as u32
    }

    /// The next instant the plan wants more windows than are open or
    /// summoned and one could be summoned: now when it already does, else
    /// the lead before the next half-hour that asks for more.
    fn next_plan_at(&self) -> Option<Millis> {
        let (windows, lead) = self.staffing_plan.as_ref()?;
        if self.config.tidal.mode != TidalMode::Plan
            || self.closed_tidal_window().is_none()
            || self.open_or_summoned() >= self.config.tidal.max_open
        {
            return None;
        }
        let have = self.open_or_summoned();
        // From when the timers were last handled (poll_timeout has no clock;
        // a deadline already acted on is filtered there, so none spins).
        // Never handled (a hall just recovered from its snapshot): due at
        // once, so the next handle_timeout names the plan's next instant.
        let Some(now) = self.timers_checked.last() else {
            return Some(Millis::MIN);
        };
        if self.planned_at(now).is_some_and(|n| n > have) {
            return Some(now);
        }
        let l = time::local(self.config.timezone, now + lead);
        let day_start = now + lead - l.ms_of_day;
        let k0 = usize::try_from(l.ms_of_day / PLAN_SLOT).ok()? + 1;
        (k0..windows.len())
            .find(|&k| windows[k] > have)
            .map(|k| day_start + k as Millis * PLAN_SLOT - lead)
    }

    /// `Command::SetStaffingPlan`: at most 48 half-hours, none above the
    /// hall's windows.
    pub(crate) fn set_staffing_plan(
        &mut self,
        cx: &mut Ctx,
        windows: Vec<u32>,
        lead_s: u32,
    ) -> Result<(), Rejected> {
        if windows.len() > 48 || windows.iter().any(|&n| n as usize > self.windows.len()) {
            return Err(Rejected::BadConfig(format!(
                "a staffing plan has at most 48 half-hours of at most {} windows",
                self.windows.len()
            )));
        }
        if lead_s > 3600 {
            return Err(Rejected::BadConfig(
                "a staffing plan's lead is at most 3600 s".into(),
            ));
        }
        self.emit(cx, EventKind::StaffingPlanSet { windows, lead_s });
        Ok(())
    }

    /// Acts on a sustained condition; emits nothing when nothing is due.
    /// `cx` acts as the system.
    pub(crate) fn evaluate_tidal(&mut self, cx: &mut Ctx) {
        let now = cx.now;
        if !self.layout.has_tidal {
            return;
        }
        let sustain = i64::from(self.config.tidal.sustain_s) * SECOND;
        let due_open = self.overload_since.is_some_and(|t| now - t >= sustain);
        let due_close = self.underload_since.is_some_and(|t| now - t >= 5 * sustain);
        // The plan is due on its own clock, whatever the reactive rules say.
        let due_plan = self
            .planned_at(now)
            .is_some_and(|n| n > self.open_or_summoned());
        if !due_open && !due_close && !due_plan {
            return;
        }
        let p = self.config.tidal.clone();
        let open = self.open_count();
        // In auto mode, advice asked for when nobody was free must not block
        // the policy once someone is: it is resolved and the window opened.
        let stale_open_advice = (p.mode != TidalMode::Advise)
            .then(|| {
                self.advice
                    .values()
                    .find(|a| {
                        a.action == AdviceAction::Open
                            && !matches!(a.reason, Reason::SummonsUnanswered { .. })
                            && self.standby_for(a.window).is_some()
                    })
                    .map(|a| a.id)
            })
            .flatten();
        if let Some(advice) = stale_open_advice {
            self.emit(
                cx,
                EventKind::AdviceResolved {
                    advice,
                    accepted: true,
                },
            );
        }
        // Plan mode: summon ahead of the planned need, through the same
        // path as the reactive open (a standby clerk, opening is a summons).
        if let Some(planned) = self.planned_at(now) {
            let have = self.open_or_summoned();
            if planned > have && have < p.max_open {
                if let Some(w) = self.closed_tidal_window() {
                    if let Some((staff, _)) = self.standby_for(w) {
                        let reason = Reason::StaffingPlan { planned };
                        self.summon(cx, w, staff, true, reason, Vec::new());
                        return;
                    }
                }
            }
        }
        let pending = |action| self.advice.values().any(|a| a.action == action);
        if let Some(since) = self.overload_since {
            let summoned = self.summons.len() as u32;
            if now - since >= sustain
                && open + summoned < p.max_open
                && !pending(AdviceAction::Open)
            {
                if let Some(w) = self.closed_tidal_window() {
                    let load = self.load();
                    let reason = Reason::TidalOverload {
                        sustain_s: p.sustain_s,
                        waiting: load.waiting,
                        per_window: tenths(load.per_window),
                        open_per_window: p.open_per_window,
                        newest_wait_s: load.newest_wait_s.clamp(0.0, 99_999.0).round() as u64,
                        open_wait_s: p.open_wait_s,
                        no_free_staff: false,
                    };
                    let staff = self.standby_for(w);
                    match (p.mode, staff) {
                        (TidalMode::Auto | TidalMode::Plan, Some((staff, _))) => {
                            // Opening is a summons: the window counts once
                            // the clerk logs in there.
                            self.summon(cx, w, staff, true, reason, Vec::new());
                        }
                        (mode, staff) => {
                            let mut reason = reason;
                            if let Reason::TidalOverload { no_free_staff, .. } = &mut reason {
                                *no_free_staff = mode != TidalMode::Advise;
                            }
                            let advice = self.next_advice;
                            self.emit(
                                cx,
                                EventKind::TidalAdvice {
                                    advice,
                                    action: AdviceAction::Open,
                                    window: w,
                                    staff: staff.map(|s| s.0),
                                    reason,
                                },
                            );
                        }
                    }
                }
                return;
            }
        }
        if let Some(since) = self.underload_since {
            // Plan mode releases a window only above the plan.
            let above_plan = self.planned_at(now).is_none_or(|n| open > n);
            if now - since >= 5 * sustain
                && open > p.min_open
                && above_plan
                && !pending(AdviceAction::Close)
            {
                if let Some(w) = self.idle_tidal_window() {
                    let load = self.load();
                    let reason = Reason::TidalUnderload {
                        sustain_s: 5 * p.sustain_s,
                        per_window: tenths(load.per_window),
                        close_per_window: p.close_per_window,
                    };
                    match p.mode {
                        TidalMode::Auto | TidalMode::Plan => {
                            // The same path as every close: a ticket
                            // transferred to this window fails over.
                            self.close_window(cx, w, reason);
                        }
                        TidalMode::Advise => {
                            let advice = self.next_advice;
                            self.emit(
                                cx,
                                EventKind::TidalAdvice {
                                    advice,
                                    action: AdviceAction::Close,
                                    window: w,
                                    staff: None,
                                    reason,
                                },
                            );
                        }
                    }
                }
            }
        }
    }

    /// The lowest-numbered closed tidal window.
    fn closed_tidal_window(&self) -> Option<u32> {
        self.windows
            .iter()
            .enumerate()
            .filter(|(i, w)| {
                self.kind_of(*i) == WindowKind::Tidal
                    && w.state == WindowState::Closed
                    && !self.summons.contains_key(&w.number)
            })
            .map(|(_, w)| w.number)
            .min()
    }

    /// The highest-numbered open tidal window with no ticket at it.
    fn idle_tidal_window(&self) -> Option<u32> {
        self.windows
            .iter()
            .enumerate()
            .filter(|(i, w)| {
                self.kind_of(*i) == WindowKind::Tidal
                    && matches!(
                        w.state,
                        WindowState::Open
                            | WindowState::Paused {
                                reason: PauseReason::NoStaff
                            }
                    )
                    && w.current.is_none()
            })
            .map(|(_, w)| w.number)
            .max()
    }

    /// The supervisor accepts tidal advice: the window opens (with the named
    /// clerk, or whoever is free) or closes through the one close path.
    pub(crate) fn accept_advice(&mut self, cx: &mut Ctx, advice: u64) -> Result<(), Rejected> {
        let a = self
            .advice
            .get(&advice)
            .cloned()
            .ok_or(Rejected::UnknownAdvice(advice))?;
        let resolved = EventKind::AdviceResolved {
            advice,
            accepted: true,
        };
        match a.action {
            AdviceAction::Open => {
                let staff = match a.staff.filter(|s| !self.is_on_duty_anywhere(s)) {
                    Some(s) => s,
                    None => self
                        .standby_for(a.window)
                        .map(|s| s.0)
                        .ok_or(Rejected::NoStaffAvailable(a.window))?,
                };
                let w = self.check_open(a.window, &staff)?;
                self.emit(cx, resolved);
                let tidal = self.kind_of(w) == WindowKind::Tidal;
                let reason = Reason::AdviceAccepted {
                    advice,
                    why: Box::new(a.reason),
                };
                self.summon(cx, a.window, staff, tidal, reason, Vec::new());
            }
            AdviceAction::Close => {
                self.check_close(a.window)?;
                self.emit(cx, resolved);
                let reason = Reason::AdviceAccepted {
                    advice,
                    why: Box::new(a.reason),
                };
                self.close_window(cx, a.window, reason);
            }
        }
        Ok(())
    }

    pub(crate) fn dismiss_advice(&mut self, cx: &mut Ctx, advice: u64) -> Result<(), Rejected> {
        if !self.advice.contains_key(&advice) {
            return Err(Rejected::UnknownAdvice(advice));
        }
        self.emit(
            cx,
            EventKind::AdviceResolved {
                advice,
                accepted: false,
            },
        );
        Ok(())
    }

    /// State changes of this rule's events.
    pub(super) fn apply_tidal(&mut self, ev: &Event) {
        match &ev.kind {
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
                        at: ev.at,
                    },
                );
                self.next_advice = self.next_advice.max(advice + 1);
                match action {
                    AdviceAction::Open => self.overload_since = None,
                    AdviceAction::Close => self.underload_since = None,
                }
            }
            EventKind::StaffingPlanSet { windows, lead_s } => {
                self.staffing_plan = Some((windows.clone(), i64::from(*lead_s) * SECOND));
            }
            EventKind::AdviceResolved { advice, .. } => {
                if let Some(a) = self.advice.remove(advice) {
                    match a.action {
                        AdviceAction::Open => self.overload_since = None,
                        AdviceAction::Close => self.underload_since = None,
                    }
                }
            }
            _ => {}
        }
    }

    /// Tidal conditions depend only on state, so they are tracked after every
    /// applied event, at event times: replay reproduces the timers exactly.
    pub(super) fn track_tidal_conditions(&mut self, at: Millis) {
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
}
