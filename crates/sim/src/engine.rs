//! The discrete-event engine: a simulated clock, a queue of things that will
//! happen (a citizen arrives, a called citizen reaches the window, a service
//! ends, a clerk leaves for a break), and the real [`Hall`] that decides
//! everything a hall rule decides.
//!
//! The engine plays the people: the kiosk issues tickets, clerks press
//! call-next / start / complete / no-show, take breaks (pause with reason
//! "leave") and come back (login / resume), the on-duty B post hands the
//! window back to the A post, and a clerk the core assigns to a tidal window
//! walks there before calling. *Which* ticket is called, whether a break is an
//! AB handover or a failover, when a tidal window opens or closes: the core.
//!
//! Clock: the core is driven at event times, and at the core's own deadline
//! (`Hall::poll_timeout` / `Hall::handle_timeout`, the same calls the
//! server's hall task makes): a tidal decision or a warning comes at the
//! instant the core names, not on a tick grid. The engine ends the business
//! day itself, so the core's day-close deadline is left alone.
//!
//! The simulated day lies inside one business day of the core: from the
//! profile's `open` to the hall's `day_close` after it ([`day_bounds`]). Clerks
//! stop calling at `close + overtime_min` (at the latest a minute before the
//! day close), and a citizen still at a window one millisecond before the day
//! close is served to the end there (`cut_at_close`): the core would expire
//! that ticket at its close, and a clerk's later "complete" would be refused.
//!
//! A livelock (something re-scheduling itself at the same instant) or a day
//! that never ends is an error naming the event ([`SimError::Stuck`]), never
//! a hang: each day has an event budget, and so has each simulated instant.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use hallcall_core::config::WindowKind;
use hallcall_core::model::WindowState;
use hallcall_core::time::{instant_of, Millis};
use hallcall_core::{
    Actor, Channel, Command, Duty, EventKind, Hall, PauseReason, Priority, TicketState,
};

use crate::demand::{DayPlan, Demand};
use crate::error::SimError;
use crate::policy::{Policy, SeatHow, Setup};
use crate::profile::Profile;

const MIN: Millis = 60_000;

/// Events one simulated instant may take before the engine calls it a
/// livelock (a busy instant of a real day takes a few dozen).
const INSTANT_BUDGET: u64 = 100_000;

/// Where a simulated day lies: `(open, close, end)` as instants, where `end`
/// is the core's close of the business day that contains `open` (the hall's
/// `day_close` on `date`, or on the next date when the close time of day is
/// not after `open`, e.g. `day_close = "00:00"`).
pub fn day_bounds(
    hall: &hallcall_core::HallConfig,
    profile: &Profile,
    date: chrono::NaiveDate,
) -> (Millis, Millis, Millis) {
    let open = instant_of(hall.timezone, date, profile.open.minutes());
    let close = instant_of(hall.timezone, date, profile.close.minutes());
    (
        open,
        close,
        instant_of(hall.timezone, date, end_minute(hall, profile)),
    )
}

/// The core's close of the business day containing the profile's opening,
/// in minutes after the opening date's midnight (up to 2880).
pub fn end_minute(hall: &hallcall_core::HallConfig, profile: &Profile) -> u16 {
    let dc = hall.day_close.minutes() % 1440;
    if profile.open.minutes() < hall.day_close.minutes() {
        hall.day_close.minutes()
    } else {
        dc + 1440
    }
}

/// Knobs of the engine itself (not of the hall, not of the demand).
#[derive(Clone, Copy, Debug)]
pub struct EngineOptions {
    /// Length of a chart slot, minutes.
    pub slot_min: u32,
    /// Clerks stop calling this long after `close` and send the rest home.
    pub overtime_min: u32,
    /// Supervisor reaction to tidal advice (advise mode), seconds.
    pub advice_delay_s: u32,
    /// Events a simulated day may take before it is called stuck; `None`:
    /// 200,000 plus 200 per citizen of the day (a real day takes ~10 per citizen).
    pub day_budget: Option<u64>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            slot_min: 5,
            overtime_min: 180,
            advice_delay_s: 60,
            day_budget: None,
        }
    }
}

/// Everything measured for one policy, summed over days.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub days: u32,
    pub issued: u64,
    pub served: u64,
    pub no_shows: u64,
    pub requeued: u64,
    /// 不排了: citizens who cancelled from their phone while waiting.
    pub cancelled: u64,
    /// 挂起: services held, held tickets called back, holds that ran out
    /// (counted in `no_shows` too).
    pub holds: u64,
    pub holds_called_back: u64,
    pub holds_expired: u64,
    /// Sent home at day end while still waiting (their wait counts, censored).
    pub expired: u64,
    /// Waits in seconds: served citizens (core's `wait_s`) and expired ones.
    pub waits: Vec<f32>,
    pub within_target: u64,
    pub staffed_ms: f64,
    pub idle_ms: f64,
    pub waiting_ms: f64,
    pub failovers: u64,
    pub handovers: u64,
    pub tidal_opens: u64,
    pub tidal_closes: u64,
    /// Citizens still at a window just before the core's day close, served
    /// to the end there (their service cut short).
    pub cut_at_close: u64,
    /// Citizens the kiosk turned away (the hall's own rule: a daily cap, or
    /// too close to closing); not a refusal of the simulated people.
    pub turned_away: u64,
    /// Commands the core refused (should stay 0 for the built-in set-ups).
    pub refused: u64,
    pub first_refusals: Vec<String>,
    pub commands: u64,
    pub core_events: u64,
    pub sim_events: u64,
    /// Per chart slot: ∫ waiting dt and ∫ staffed windows dt (ms), over days.
    pub slot_waiting: Vec<f64>,
    pub slot_staffed: Vec<f64>,
    /// Per chart slot: ∫ planned windows dt (ms), over days (`plan`, `bound`).
    pub slot_planned: Vec<f64>,
    /// `bound`: search rounds that tightened the model's target.
    pub bound_rounds: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Arrival(u32),
    /// The called citizen reaches window `w` (generation `g`).
    Citizen(u16, u32),
    Recall(u16, u32),
    NoShow(u16, u32),
    Done(u16, u32),
    Ready(u16),
    BreakStart(u16, u16),
    BreakEnd(u16, u32),
    Requeue(u32),
    /// 不排了: citizen `i` gives up, if still waiting.
    GiveUp(u32),
    /// 挂起: the clerk at window `w` (generation `g`) holds the ticket.
    Hold(u16, u32),
    /// The held citizen `i` is back with the document.
    HoldBack(u32),
    /// The core's deadline (`Hall::poll_timeout`).
    Timeout,
    Accept(u64),
    /// The clerk summoned to open window number `n` logs in there (opening
    /// is a summons; the tidal walk is counted when the window opens).
    Answer(u32),
    Close,
    Overtime,
    /// One millisecond before the core's day close: the day ends.
    DayEnd,
    /// The schedule's next half-hour starts in a walk's time: staff to it.
    Plan(u16),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Busy,
}

#[derive(Clone, Debug)]
struct WinSim {
    number: u32,
    phase: Phase,
    gen: u32,
    ready_at: Millis,
    /// Who the plan put on duty here (gets the window back after a break).
    home: Option<usize>,
    /// Citizens held here who are back: called back when the window is free.
    back: Vec<u32>,
}

#[derive(Clone, Debug)]
struct Person {
    id: String,
    /// Window the plan seats them at.
    home: Option<usize>,
    away: bool,
    gen: u32,
    /// Break to start at the next idle moment (duration, ms).
    break_due: Option<Millis>,
}

/// One policy's simulator: a hall that lives across days.
pub struct Engine<'a> {
    setup: &'a Setup,
    demand: &'a Demand,
    opts: EngineOptions,
    hall: Hall,
    now: Millis,
    heap: BinaryHeap<Reverse<(Millis, u64, Ev)>>,
    seq: u64,
    wins: Vec<WinSim>,
    win_index: HashMap<u32, usize>,
    persons: Vec<Person>,
    staff_index: HashMap<String, usize>,
    cat_ids: Vec<String>,
    targets_s: Vec<f64>,
    plan: DayPlan,
    next_arrival: usize,
    /// Per ticket of the day: it has already walked away once.
    no_showed: Vec<bool>,
    /// Per ticket of the day: its service was held once (and where).
    held: Vec<Option<u16>>,
    day_base: Millis,
    open_at: Millis,
    closing: bool,
    overtime: bool,
    starting: bool,
    day_done: bool,
    dirty_all: bool,
    rehome: bool,
    /// The core deadline the heap holds an `Ev::Timeout` for.
    timer_at: Option<Millis>,
    /// Where the core's business day would roll over: the engine closes it.
    day_close_at: Millis,
    slot_ms: Millis,
    /// Windows wanted per half-hour after local midnight (`plan`, `bound`);
    /// empty: no schedule.
    schedule: Vec<u32>,
    /// The schedule's current target (`bound`: the engine staffs to it).
    target: Option<u32>,
    /// The schedule's current count, for the chart (`plan`, `bound`).
    shown: Option<u32>,
    /// Windows the schedule closed: their clerks do not reopen them.
    released: Vec<bool>,
    /// A window paused under a schedule: staff to the target again.
    restaff: bool,
    pub tally: Tally,
    /// Print window, post and tidal events to stderr (debugging aid).
    pub trace: bool,
    /// The day's events as the core emitted them, when asked for
    /// ([`Engine::keep_log`]): `plan` learns from the log, as the server does.
    log: Option<Vec<hallcall_core::Event>>,
}

impl<'a> Engine<'a> {
    pub fn new(setup: &'a Setup, demand: &'a Demand, opts: EngineOptions) -> Engine<'a> {
        let cfg = &setup.config;
        let staff_index: HashMap<String, usize> = cfg
            .staff
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let win_index: HashMap<u32, usize> = cfg
            .windows
            .iter()
            .enumerate()
            .map(|(i, w)| (w.number, i))
            .collect();
        let mut persons: Vec<Person> = cfg
            .staff
            .iter()
            .map(|s| Person {
                id: s.id.clone(),
                home: None,
                away: false,
                gen: 0,
                break_due: None,
            })
            .collect();
        let mut wins: Vec<WinSim> = cfg
            .windows
            .iter()
            .map(|w| WinSim {
                number: w.number,
                phase: Phase::Idle,
                gen: 0,
                ready_at: 0,
                home: None,
                back: Vec::new(),
            })
            .collect();
        for seat in &setup.seats {
            if let (Some(&p), Some(&w)) =
                (staff_index.get(&seat.staff), win_index.get(&seat.window))
            {
                persons[p].home = Some(w);
                if seat.on_duty {
                    wins[w].home = Some(p);
                }
            }
        }
        let span = i64::from(demand.profile.close.minutes() - demand.profile.open.minutes()) * MIN
            + i64::from(opts.overtime_min) * MIN
            + 60 * MIN;
        let slot_ms = i64::from(opts.slot_min.max(1)) * MIN;
        let slots = (span / slot_ms + 1) as usize;
        Engine {
            setup,
            demand,
            opts,
            hall: Hall::new(cfg.clone()),
            now: 0,
            heap: BinaryHeap::new(),
            seq: 0,
            wins,
            win_index,
            persons,
            staff_index,
            cat_ids: cfg.categories.iter().map(|c| c.id.clone()).collect(),
            targets_s: cfg
                .categories
                .iter()
                .map(|c| f64::from(c.wait_target_s))
                .collect(),
            plan: DayPlan::default(),
            next_arrival: 0,
            no_showed: Vec::new(),
            held: Vec::new(),
            day_base: 0,
            open_at: 0,
            closing: false,
            overtime: false,
            starting: false,
            day_done: false,
            dirty_all: false,
            rehome: false,
            timer_at: None,
            day_close_at: 0,
            slot_ms,
            schedule: Vec::new(),
            target: None,
            shown: None,
            released: vec![false; cfg.windows.len()],
            restaff: false,
            trace: false,
            log: None,
            tally: Tally {
                slot_waiting: vec![0.0; slots],
                slot_staffed: vec![0.0; slots],
                slot_planned: vec![0.0; slots],
                ..Tally::default()
            },
        }
    }

    pub fn hall(&self) -> &Hall {
        &self.hall
    }

    /// Keep every event the core emits until [`Engine::take_log`].
    pub fn keep_log(&mut self) {
        self.log.get_or_insert_with(Vec::new);
    }

    /// The events kept since the last call (empty unless [`Engine::keep_log`]).
    pub fn take_log(&mut self) -> Vec<hallcall_core::Event> {
        self.log.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// The windows wanted per half-hour for the next day (`plan`, `bound`).
    pub fn set_schedule(&mut self, plan: Option<&crate::forecast::StaffingPlan>) {
        self.schedule = plan.map(|p| p.windows.clone()).unwrap_or_default();
    }

    fn push(&mut self, at: Millis, ev: Ev) {
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, ev)));
    }

    /// Runs one business day on `date` with the facts in `plan`. An error
    /// means the day did not come to its end within its event budget (a
    /// livelock in the engine or the core), naming the event.
    pub fn run_day(&mut self, date: chrono::NaiveDate, plan: DayPlan) -> Result<(), SimError> {
        let setup: &'a Setup = self.setup;
        let demand: &'a Demand = self.demand;
        let cfg = &setup.config;
        let p = &demand.profile;
        self.day_base = instant_of(cfg.timezone, date, 0);
        let (open_at, close_at, day_close) = day_bounds(cfg, p, date);
        self.open_at = open_at;
        if day_close <= open_at {
            return Err(SimError::Profile(format!(
                "the simulated day opens at {} but hall {:?} closes its business day at {}",
                p.open, cfg.id, cfg.day_close
            )));
        }
        let overtime_at = (close_at + i64::from(self.opts.overtime_min) * MIN)
            .min(day_close - 60_000)
            .max(open_at);
        let budget = self
            .opts
            .day_budget
            .unwrap_or(200_000 + 200 * plan.arrivals.len() as u64);
        self.no_showed = vec![false; plan.arrivals.len()];
        self.held = vec![None; plan.arrivals.len()];
        self.plan = plan;
        self.next_arrival = 0;
        self.heap.clear();
        self.closing = false;
        self.overtime = false;
        self.day_done = false;
        for w in &mut self.wins {
            w.phase = Phase::Idle;
            w.gen += 1;
            w.ready_at = 0;
            w.back.clear();
        }
        for p in &mut self.persons {
            p.away = false;
            p.gen += 1;
            p.break_due = None;
        }
        self.now = self.open_at;
        self.tally.days += 1;

        // Opening: clerks take their seats.
        self.starting = true;
        for s in &setup.seats {
            let cmd_login = Command::Login {
                staff: s.staff.clone(),
                window: s.window,
            };
            match s.how {
                SeatHow::Login => self.exec(cmd_login, Actor::Staff(s.staff.clone())),
                SeatHow::Open => self.exec(
                    Command::OpenWindow {
                        window: s.window,
                        staff: s.staff.clone(),
                    },
                    Actor::Supervisor,
                ),
            };
        }
        self.starting = false;

        if let Some(a) = self.plan.arrivals.first() {
            let at = self.day_base + a.at;
            self.push(at, Ev::Arrival(0));
        }
        for (pi, person) in self.persons.iter().enumerate() {
            if person.home.is_none() {
                continue;
            }
            if let Some(bs) = self.plan.breaks.get(pi) {
                for (bi, b) in bs.iter().enumerate() {
                    let at = self.day_base + b.start;
                    self.seq += 1;
                    self.heap.push(Reverse((
                        at,
                        self.seq,
                        Ev::BreakStart(pi as u16, bi as u16),
                    )));
                }
            }
        }
        self.day_close_at = day_close;
        self.timer_at = None;
        self.push(close_at.min(day_close - 1), Ev::Close);
        self.push(overtime_at, Ev::Overtime);
        self.push(day_close - 1, Ev::DayEnd);
        self.target = None;
        self.shown = None;
        self.released.iter_mut().for_each(|r| *r = false);
        if !self.schedule.is_empty() && setup.policy == Policy::Plan {
            // The core's tidal mode `plan` follows the plan handed to it as
            // a value; the engine only answers the summons.
            let windows = self.schedule.clone();
            let lead_s = p.tidal_walk_s.round() as u32;
            self.exec(
                Command::SetStaffingPlan { windows, lead_s },
                Actor::Supervisor,
            );
        }
        if !self.schedule.is_empty() {
            // Each half-hour's count applies from a walk before it starts.
            let lead = (p.tidal_walk_s * 1000.0) as Millis;
            let slot = crate::forecast::SLOT_MS;
            let schedule = std::mem::take(&mut self.schedule);
            for k in 0..schedule.len() {
                let start = self.day_base + k as Millis * slot;
                if start + slot <= open_at || start >= day_close {
                    continue;
                }
                let at = (start - lead).max(open_at);
                self.push(at, Ev::Plan(k as u16));
            }
            self.schedule = schedule;
        }
        self.dispatch_all();
        self.arm_timer();

        let mut events = 0u64;
        let mut instant = (self.now, 0u64);
        while let Some(Reverse((at, _, ev))) = self.heap.pop() {
            events += 1;
            if instant.0 == at {
                instant.1 += 1;
            } else {
                instant = (at, 1);
            }
            if events > budget || instant.1 > INSTANT_BUDGET {
                let why = if instant.1 > INSTANT_BUDGET {
                    format!("{} events at this one instant", instant.1)
                } else {
                    format!("more than {budget} events in the day")
                };
                self.heap.clear();
                return Err(SimError::Stuck {
                    policy: setup.policy.name().into(),
                    date,
                    at: hallcall_core::time::rfc3339(at),
                    event: format!("{ev:?}"),
                    why,
                });
            }
            self.advance(at);
            self.tally.sim_events += 1;
            if ev == Ev::DayEnd {
                self.end_day();
                break;
            }
            self.step(ev);
            if self.rehome {
                self.rehome = false;
                self.rehome_all();
            }
            if self.restaff {
                self.restaff = false;
                self.staff_to_target();
            }
            if self.dirty_all {
                self.dispatch_all();
            }
            self.arm_timer();
            if self.closing
                && self.all_closed()
                && (self.overtime || self.hall.waiting_total() == 0)
            {
                self.finish_day();
                break;
            }
        }
        if !self.day_done {
            // The heap ran dry before the day end (cannot happen: `DayEnd` is
            // always scheduled); end it the same way.
            self.end_day();
        }
        Ok(())
    }

    /// The core's day close is a millisecond away: whoever is still at a
    /// window is served to the end now, then the day finishes.
    fn end_day(&mut self) {
        self.closing = true;
        self.overtime = true;
        for w in 0..self.wins.len() {
            let Some(win) = self.hall.windows().get(w) else {
                continue;
            };
            let (called, serving) = (
                win.state == WindowState::Calling,
                win.state == WindowState::Serving,
            );
            if called {
                self.clerk(w, |window| Command::Start { window });
            }
            if called || serving {
                self.tally.cut_at_close += 1;
                self.clerk(w, |window| Command::Complete { window });
            }
            self.wins[w].phase = Phase::Idle;
            self.wins[w].gen += 1;
        }
        self.finish_day();
    }

    fn all_closed(&self) -> bool {
        self.hall
            .windows()
            .iter()
            .all(|w| w.state == WindowState::Closed)
    }

    fn finish_day(&mut self) {
        self.day_done = true;
        for i in 0..self.persons.len() {
            if let Some((window, _)) = self.hall.staff_location(&self.persons[i].id) {
                let staff = self.persons[i].id.clone();
                self.exec(
                    Command::Logout {
                        staff: staff.clone(),
                        window,
                    },
                    Actor::Staff(staff),
                );
            }
        }
        // Citizens still waiting are sent home: their wait so far counts
        // (a lower bound), and they missed the target unless it is short.
        let mut sent_home: Vec<(usize, Millis)> = self
            .hall
            .tickets()
            .filter(|t| t.state == TicketState::Waiting)
            .filter_map(|t| Engine::ticket_index(&t.id).map(|i| (i, t.waiting_since)))
            .collect();
        sent_home.sort_unstable();
        for (i, since) in sent_home {
            let cat = self.plan.arrivals.get(i).map_or(0, |a| a.cat as usize);
            self.tally.expired += 1;
            self.record_wait(cat, (self.now - since) as f64 / 1000.0);
        }
        self.exec(Command::CloseDay, Actor::System);
        self.heap.clear();
    }

    /// Moves the clock, integrating window and queue figures.
    fn advance(&mut self, to: Millis) {
        let dt = to - self.now;
        if dt <= 0 {
            return;
        }
        let mut staffed = 0u32;
        let mut idle = 0u32;
        for w in self.hall.windows() {
            if w.is_staffed() {
                staffed += 1;
                if !w.is_busy() {
                    idle += 1;
                }
            }
        }
        let waiting = f64::from(self.hall.waiting_total());
        let t = &mut self.tally;
        t.staffed_ms += f64::from(staffed) * dt as f64;
        t.idle_ms += f64::from(idle) * dt as f64;
        t.waiting_ms += waiting * dt as f64;
        let mut a = self.now;
        while a < to {
            let rel = a - self.open_at;
            if rel < 0 {
                a = to.min(self.open_at);
                continue;
            }
            let slot = (rel / self.slot_ms) as usize;
            let end = to.min(self.open_at + (slot as i64 + 1) * self.slot_ms);
            let d = (end - a) as f64;
            if slot < t.slot_waiting.len() {
                t.slot_waiting[slot] += waiting * d;
                t.slot_staffed[slot] += f64::from(staffed) * d;
                if let Some(n) = self.shown {
                    t.slot_planned[slot] += f64::from(n) * d;
                }
            }
            a = end;
        }
        self.now = to;
    }

    /// Makes sure the heap wakes the core at its next deadline (before the
    /// day's close, which the engine performs itself).
    fn arm_timer(&mut self) {
        let Some(at) = self.hall.poll_timeout() else {
            return;
        };
        let at = at.max(self.now);
        if at >= self.day_close_at || self.timer_at.is_some_and(|t| t <= at) {
            return;
        }
        self.timer_at = Some(at);
        self.push(at, Ev::Timeout);
    }

    /// Runs one command through the core and lets the engine see its events.
    fn exec(&mut self, cmd: Command, by: Actor) -> bool {
        self.tally.commands += 1;
        match self.hall.handle(cmd, by, self.now) {
            Ok(evs) => {
                if self.trace {
                    for ev in &evs {
                        if matches!(
                            ev.kind,
                            EventKind::WindowOpened { .. }
                                | EventKind::WindowClosed { .. }
                                | EventKind::WindowPaused { .. }
                                | EventKind::WindowResumed { .. }
                                | EventKind::PostHandover { .. }
                                | EventKind::TidalAdvice { .. }
                                | EventKind::StaffLoggedIn { .. }
                                | EventKind::StaffLoggedOut { .. }
                        ) {
                            eprintln!(
                                "{} w={} {}",
                                hallcall_core::time::rfc3339(ev.at),
                                self.hall.waiting_total(),
                                serde_json::to_string(&ev.kind).unwrap_or_default()
                            );
                        }
                    }
                }
                self.tally.core_events += evs.len() as u64;
                for ev in &evs {
                    self.observe(&ev.kind);
                }
                if let Some(log) = self.log.as_mut() {
                    log.extend(evs);
                }
                true
            }
            Err(e) => {
                self.tally.refused += 1;
                if self.tally.first_refusals.len() < 5 {
                    self.tally.first_refusals.push(e.to_string());
                }
                false
            }
        }
    }

    fn on_duty(&self, w: usize) -> Option<usize> {
        let seat = self.hall.windows().get(w)?.on_duty.as_ref()?;
        self.staff_index.get(&seat.staff).copied()
    }

    /// A command by the clerk on duty at window `w`.
    fn clerk(&mut self, w: usize, cmd: impl FnOnce(u32) -> Command) -> bool {
        let Some(p) = self.on_duty(w) else {
            return false;
        };
        let staff = self.persons[p].id.clone();
        let number = self.wins[w].number;
        self.exec(cmd(number), Actor::Staff(staff))
    }

    fn ticket_index(id: &str) -> Option<usize> {
        id.parse().ok()
    }

    fn observe(&mut self, kind: &EventKind) {
        match kind {
            EventKind::TicketCalled {
                ticket,
                window,
                recall: false,
                resumed,
                ..
            } => {
                if *resumed {
                    self.tally.holds_called_back += 1;
                }
                let (Some(&w), Some(i)) =
                    (self.win_index.get(window), Engine::ticket_index(ticket))
                else {
                    return;
                };
                let Some(a) = self.plan.arrivals.get(i).copied() else {
                    return;
                };
                let win = &mut self.wins[w];
                win.phase = Phase::Busy;
                win.gen += 1;
                let g = win.gen;
                if a.no_show && !self.no_showed[i] {
                    self.no_showed[i] = true;
                    let half = (self.demand.profile.no_show_wait_s * 500.0) as Millis;
                    self.push(self.now + half, Ev::Recall(w as u16, g));
                } else {
                    self.push(self.now + a.walk_ms, Ev::Citizen(w as u16, g));
                }
            }
            EventKind::TicketIssued { .. } => self.tally.issued += 1,
            EventKind::ServiceCompleted { ticket, wait_s, .. } => {
                self.tally.served += 1;
                let cat = Engine::ticket_index(ticket)
                    .and_then(|i| self.plan.arrivals.get(i))
                    .map_or(0, |a| a.cat as usize);
                self.record_wait(cat, *wait_s);
            }
            EventKind::TicketNoShow { held, .. } => {
                self.tally.no_shows += 1;
                if *held {
                    self.tally.holds_expired += 1;
                }
            }
            EventKind::TicketCancelled { .. } => self.tally.cancelled += 1,
            EventKind::TicketHeld { .. } => self.tally.holds += 1,
            EventKind::TicketRequeued { .. } => self.tally.requeued += 1,
            EventKind::WindowOpened { window, tidal, .. } => {
                if let Some(&w) = self.win_index.get(window) {
                    let walk = if *tidal && !self.starting {
                        self.tally.tidal_opens += 1;
                        (self.demand.profile.tidal_walk_s * 1000.0) as Millis
                    } else {
                        0
                    };
                    let win = &mut self.wins[w];
                    win.phase = Phase::Idle;
                    win.gen += 1;
                    win.ready_at = self.now + walk;
                    if walk > 0 {
                        let at = self.now + walk;
                        self.push(at, Ev::Ready(w as u16));
                    }
                }
                self.dirty_all = true;
            }
            EventKind::WindowClosed { window, tidal, .. } => {
                if let Some(&w) = self.win_index.get(window) {
                    self.wins[w].phase = Phase::Idle;
                    self.wins[w].gen += 1;
                }
                if *tidal && !self.closing {
                    self.tally.tidal_closes += 1;
                }
                self.rehome = true;
                self.dirty_all = true;
            }
            EventKind::WindowPaused { .. } => {
                // Under a schedule the supervisor fills the gap a break leaves.
                self.restaff = self.target.is_some();
                self.dirty_all = true;
            }
            EventKind::WindowResumed { .. }
            | EventKind::StaffLoggedIn { .. }
            | EventKind::StaffLoggedOut { .. } => self.dirty_all = true,
            EventKind::PostHandover { .. } => {
                self.tally.handovers += 1;
                self.dirty_all = true;
            }
            EventKind::Failover { .. } => {
                self.tally.failovers += 1;
                self.dirty_all = true;
            }
            EventKind::WindowSummoned { window, .. } => {
                let at = self.now;
                self.push(at, Ev::Answer(*window));
            }
            EventKind::TidalAdvice { advice, .. } if self.setup.accept_advice => {
                let at = self.now + i64::from(self.opts.advice_delay_s) * 1000;
                self.push(at, Ev::Accept(*advice));
            }
            EventKind::DayClosed { .. } => {
                // The hall's own day close cleared every window's ticket (the
                // engine ends its day before it, so only `finish_day` gets
                // here): the freed windows are dispatched (closed) again.
                for w in &mut self.wins {
                    w.phase = Phase::Idle;
                    w.gen += 1;
                }
                self.dirty_all = true;
            }
            _ => {}
        }
    }

    fn record_wait(&mut self, cat: usize, wait_s: f64) {
        self.tally.waits.push(wait_s as f32);
        if wait_s <= self.targets_s.get(cat).copied().unwrap_or(f64::INFINITY) {
            self.tally.within_target += 1;
        }
    }

    fn step(&mut self, ev: Ev) {
        match ev {
            Ev::Arrival(i) => {
                let i = i as usize;
                let Some(a) = self.plan.arrivals.get(i).copied() else {
                    return;
                };
                if let Some(n) = self.plan.arrivals.get(i + 1) {
                    let at = self.day_base + n.at;
                    self.push(at, Ev::Arrival(i as u32 + 1));
                }
                let cmd = Command::IssueTicket {
                    id: i.to_string(),
                    category: self.cat_ids[a.cat as usize].clone(),
                    priority: if a.green {
                        Priority::Elderly
                    } else {
                        Priority::Normal
                    },
                    channel: Channel::Kiosk,
                    appointment_code: None,
                };
                let (refused, firsts) = (self.tally.refused, self.tally.first_refusals.len());
                if !self.exec(cmd, Actor::Kiosk) {
                    // The hall's rule turned them away at the kiosk.
                    self.tally.refused = refused;
                    self.tally.first_refusals.truncate(firsts);
                    self.tally.turned_away += 1;
                } else if let Some(patience) = a.cancel_after_ms {
                    self.push(self.now + patience, Ev::GiveUp(i as u32));
                }
                self.dirty_all = true;
            }
            Ev::Citizen(w, g) => {
                let w = w as usize;
                if self.wins[w].gen != g {
                    return;
                }
                if self.clerk(w, |window| Command::Start { window }) {
                    let service = self.current_arrival(w).map_or(60_000, |a| a.service_ms);
                    let ticket = self.current_ticket(w);
                    let holds = self
                        .current_arrival(w)
                        .is_some_and(|a| a.hold_away_ms.is_some());
                    let held = ticket.and_then(|i| self.held.get(i).copied().flatten());
                    if held.is_some() {
                        // Back from the hold: the second half of the service.
                        self.push(self.now + service - service / 2, Ev::Done(w as u16, g));
                    } else if holds {
                        self.push(self.now + service / 2, Ev::Hold(w as u16, g));
                    } else {
                        self.push(self.now + service, Ev::Done(w as u16, g));
                    }
                } else {
                    self.wins[w].phase = Phase::Idle;
                    self.dispatch(w);
                }
            }
            Ev::Recall(w, g) => {
                let w = w as usize;
                if self.wins[w].gen != g {
                    return;
                }
                self.clerk(w, |window| Command::Recall { window });
                let half = (self.demand.profile.no_show_wait_s * 500.0) as Millis;
                self.push(self.now + half, Ev::NoShow(w as u16, g));
            }
            Ev::NoShow(w, g) => {
                let w = w as usize;
                if self.wins[w].gen != g {
                    return;
                }
                let back = self.current_arrival(w).and_then(|a| a.requeue_after_ms);
                let ticket = self.current_ticket(w);
                self.clerk(w, |window| Command::NoShow { window });
                if let (Some(after), Some(i)) = (back, ticket) {
                    self.push(self.now + after, Ev::Requeue(i as u32));
                }
                self.wins[w].phase = Phase::Idle;
                self.dispatch(w);
            }
            Ev::Done(w, g) => {
                let w = w as usize;
                if self.wins[w].gen != g {
                    return;
                }
                self.clerk(w, |window| Command::Complete { window });
                self.wins[w].phase = Phase::Idle;
                self.dispatch(w);
            }
            Ev::Ready(w) => self.dispatch(w as usize),
            Ev::GiveUp(i) => {
                let waiting = self
                    .hall
                    .ticket(&i.to_string())
                    .is_some_and(|t| t.state == TicketState::Waiting);
                if waiting {
                    self.exec(
                        Command::Cancel {
                            ticket: i.to_string(),
                        },
                        Actor::Public,
                    );
                    self.dirty_all = true;
                }
            }
            Ev::Hold(w, g) => {
                let w = w as usize;
                if self.wins[w].gen != g {
                    return;
                }
                let ticket = self.current_ticket(w);
                let away = self.current_arrival(w).and_then(|a| a.hold_away_ms);
                if let (Some(i), Some(away)) = (ticket, away) {
                    if self.clerk(w, |window| Command::Hold { window }) {
                        self.held[i] = Some(w as u16);
                        self.push(self.now + away, Ev::HoldBack(i as u32));
                        self.wins[w].phase = Phase::Idle;
                        self.wins[w].gen += 1;
                        self.dispatch(w);
                        return;
                    }
                }
                // Could not hold: the service goes on to its end.
                let rest = self
                    .current_arrival(w)
                    .map_or(0, |a| a.service_ms - a.service_ms / 2);
                self.push(self.now + rest, Ev::Done(w as u16, g));
            }
            Ev::HoldBack(i) => {
                let held = self
                    .hall
                    .ticket(&i.to_string())
                    .is_some_and(|t| t.state == TicketState::Held);
                if let (true, Some(w)) = (held, self.held.get(i as usize).copied().flatten()) {
                    let w = usize::from(w);
                    self.wins[w].back.push(i);
                    self.dispatch(w);
                }
            }
            Ev::BreakStart(p, b) => self.break_start(p as usize, b as usize),
            Ev::BreakEnd(p, g) => self.break_end(p as usize, g),
            Ev::Requeue(i) => {
                if !self.closing {
                    self.exec(
                        Command::Requeue {
                            ticket: i.to_string(),
                        },
                        Actor::Kiosk,
                    );
                    self.dirty_all = true;
                }
            }
            Ev::Timeout => {
                if self.timer_at == Some(self.now) {
                    self.timer_at = None;
                }
                if self.hall.poll_timeout().is_some_and(|at| at <= self.now) {
                    let evs = self.hall.handle_timeout(self.now);
                    self.tally.core_events += evs.len() as u64;
                    for ev in &evs {
                        self.observe(&ev.kind);
                    }
                    if let Some(log) = self.log.as_mut() {
                        log.extend(evs);
                    }
                }
            }
            Ev::Answer(window) => {
                if let Some(staff) = self.hall.summons(window).map(|s| s.staff.clone()) {
                    self.exec(
                        Command::Login {
                            staff: staff.clone(),
                            window,
                        },
                        Actor::Staff(staff),
                    );
                }
            }
            Ev::Accept(advice) => {
                // Pending advice blocks the core's next tidal decision, so the
                // supervisor always resolves it: accept, or dismiss when the
                // core finds nobody to send. Under a schedule, advice to close
                // is taken only when the hall is above the schedule.
                let close = self.hall.pending_advice().any(|a| {
                    a.id == advice && a.action == hallcall_core::event::AdviceAction::Close
                });
                let above = self.target.is_some_and(|n| self.staffed_count() > n);
                if (close && self.target.is_some() && !above)
                    || !self.exec(Command::AcceptAdvice { advice }, Actor::Supervisor)
                {
                    self.exec(Command::DismissAdvice { advice }, Actor::Supervisor);
                }
            }
            Ev::Close => {
                self.closing = true;
                self.dirty_all = true;
            }
            Ev::Overtime => {
                self.closing = true;
                self.overtime = true;
                self.dirty_all = true;
            }
            Ev::DayEnd => self.end_day(),
            Ev::Plan(k) => {
                self.shown = self.schedule.get(usize::from(k)).copied();
                // `plan` is the core's own tidal mode; the engine staffs to
                // the schedule only for `bound`.
                if self.setup.policy != Policy::Plan {
                    self.target = self.shown;
                    self.staff_to_target();
                }
            }
        }
    }

    fn current_ticket(&self, w: usize) -> Option<usize> {
        let serial = self.hall.windows().get(w)?.current?;
        let t = self.hall.ticket_by_serial(serial)?;
        Engine::ticket_index(&t.id)
    }

    fn current_arrival(&self, w: usize) -> Option<crate::demand::Arrival> {
        self.current_ticket(w)
            .and_then(|i| self.plan.arrivals.get(i).copied())
    }

    fn break_start(&mut self, p: usize, b: usize) {
        if self.closing || self.persons[p].away {
            return;
        }
        let Some(dur) = self
            .plan
            .breaks
            .get(p)
            .and_then(|bs| bs.get(b))
            .map(|b| b.dur_ms)
        else {
            return;
        };
        let id = self.persons[p].id.clone();
        match self.hall.staff_location(&id) {
            Some((n, Duty::OnDuty)) => {
                self.persons[p].break_due = Some(dur);
                if let Some(&w) = self.win_index.get(&n) {
                    self.dispatch(w);
                }
            }
            Some((window, Duty::Standby)) => {
                self.exec(
                    Command::Logout {
                        staff: id.clone(),
                        window,
                    },
                    Actor::Staff(id),
                );
                self.go_away(p, dur);
            }
            None => self.go_away(p, dur),
        }
    }

    fn go_away(&mut self, p: usize, dur: Millis) {
        let person = &mut self.persons[p];
        person.away = true;
        person.gen += 1;
        let g = person.gen;
        self.push(self.now + dur, Ev::BreakEnd(p as u16, g));
    }

    fn break_end(&mut self, p: usize, g: u32) {
        if self.persons[p].gen != g || !self.persons[p].away {
            return;
        }
        self.persons[p].away = false;
        let id = self.persons[p].id.clone();
        match self.hall.staff_location(&id) {
            Some((window, Duty::OnDuty)) => {
                let paused = self
                    .win_index
                    .get(&window)
                    .and_then(|&w| self.hall.windows().get(w))
                    .is_some_and(|w| matches!(w.state, WindowState::Paused { .. }));
                if paused {
                    self.exec(Command::Resume { window }, Actor::Staff(id));
                }
            }
            Some((_, Duty::Standby)) => {}
            None => {
                if !self.closing {
                    self.login_home(p);
                }
            }
        }
        self.dirty_all = true;
    }

    fn login_home(&mut self, p: usize) {
        let Some(w) = self.persons[p].home else {
            return;
        };
        if self.released[w] {
            // The schedule closed their window: they wait to be sent.
            return;
        }
        if self
            .hall
            .windows()
            .get(w)
            .is_some_and(|x| x.on_duty.is_some() && x.standby.is_some())
        {
            // Both posts taken (someone was sent here): they wait to be sent.
            return;
        }
        let id = self.persons[p].id.clone();
        let window = self.wins[w].number;
        // A window nobody serves any more is reopened by its clerk; a tidal
        // window gets its reserve clerk back on standby; otherwise standby.
        self.exec(
            Command::Login {
                staff: id.clone(),
                window,
            },
            Actor::Staff(id),
        );
    }

    fn staffed_count(&self) -> u32 {
        self.hall
            .windows()
            .iter()
            .filter(|w| w.is_staffed())
            .count() as u32
    }

    /// Staffed windows plus windows a clerk has been summoned to (opening
    /// is a summons: the window opens when they log in, at the same instant).
    fn staffed_or_summoned(&self) -> u32 {
        self.hall
            .windows()
            .iter()
            .filter(|w| w.is_staffed() || self.hall.summons(w.number).is_some())
            .count() as u32
    }

    fn summoned(&self, staff: &str) -> bool {
        self.hall.windows().iter().any(|w| {
            self.hall
                .summons(w.number)
                .is_some_and(|s| s.staff == staff)
        })
    }

    /// Whether the schedule may close window `w`: a tidal window, or a
    /// comprehensive one while another comprehensive window stays open
    /// (specialist and fallback windows are left as the policy set them).
    fn closable(&self, w: usize) -> bool {
        match self.setup.config.windows[w].kind {
            WindowKind::Tidal => true,
            WindowKind::Comprehensive => {
                self.hall
                    .windows()
                    .iter()
                    .enumerate()
                    .filter(|(i, x)| {
                        *i != w
                            && x.is_staffed()
                            && self.setup.config.windows[*i].kind == WindowKind::Comprehensive
                    })
                    .count()
                    >= 1
            }
            _ => false,
        }
    }

    /// A clerk who can be sent to a window now: not away, not on duty.
    fn free_clerk(&self) -> Option<usize> {
        (0..self.persons.len()).find(|&p| {
            !self.persons[p].away
                && self.persons[p].break_due.is_none()
                && !self.summoned(&self.persons[p].id)
                && !matches!(
                    self.hall.staff_location(&self.persons[p].id),
                    Some((_, Duty::OnDuty))
                )
        })
    }

    /// Opens or closes windows until the staffed count meets the schedule's
    /// target: reopens windows it released first, then tidal windows; closes
    /// idle tidal windows first, then idle comprehensive ones (busy windows
    /// close when their citizen is done, in `dispatch`).
    fn staff_to_target(&mut self) {
        let Some(target) = self.target else {
            return;
        };
        let setup: &'a Setup = self.setup;
        let order: Vec<usize> = (0..self.wins.len())
            .filter(|&i| self.released[i])
            .chain(
                (0..self.wins.len()).filter(|&i| setup.config.windows[i].kind == WindowKind::Tidal),
            )
            .collect();
        for w in order {
            if self.staffed_or_summoned() >= target
                || (self.closing && self.hall.waiting_total() == 0)
                || self.overtime
            {
                break;
            }
            if self.hall.windows()[w].state != WindowState::Closed
                || self.hall.summons(self.wins[w].number).is_some()
            {
                continue;
            }
            // The window's own posts first, else anyone free.
            let cfg_w = &setup.config.windows[w];
            let own = std::iter::once(cfg_w.a_post.as_str())
                .chain(cfg_w.b_post.as_deref())
                .filter_map(|s| self.staff_index.get(s).copied())
                .find(|&p| {
                    !self.persons[p].away
                        && self.persons[p].break_due.is_none()
                        && !self.summoned(&self.persons[p].id)
                        && !matches!(
                            self.hall.staff_location(&self.persons[p].id),
                            Some((_, Duty::OnDuty))
                        )
                });
            let Some(p) = own.or_else(|| self.free_clerk()) else {
                break;
            };
            let (window, staff) = (self.wins[w].number, self.persons[p].id.clone());
            if let Some((at, Duty::Standby)) = self.hall.staff_location(&staff) {
                self.exec(
                    Command::Logout {
                        staff: staff.clone(),
                        window: at,
                    },
                    Actor::Staff(staff.clone()),
                );
            }
            if self.exec(Command::OpenWindow { window, staff }, Actor::Supervisor) {
                self.released[w] = false;
            }
        }
        let mut close: Vec<usize> = (0..self.wins.len())
            .filter(|&i| {
                let win = &self.hall.windows()[i];
                win.is_staffed() && !win.is_busy() && self.wins[i].phase == Phase::Idle
            })
            .collect();
        close.sort_by_key(|&i| self.setup.config.windows[i].kind != WindowKind::Tidal);
        for w in close {
            if self.staffed_count() <= target {
                break;
            }
            self.close_for_schedule(w);
        }
        self.dirty_all = true;
    }

    fn close_for_schedule(&mut self, w: usize) -> bool {
        if !self.closable(w) || self.hall.windows().get(w).is_none_or(|x| x.is_busy()) {
            return false;
        }
        let number = self.wins[w].number;
        if self.exec(Command::CloseWindow { window: number }, Actor::Supervisor) {
            if self.setup.config.windows[w].kind != WindowKind::Tidal {
                self.released[w] = true;
            }
            return true;
        }
        false
    }

    /// Clerks that the core unseated (tidal close) go back to their seats.
    fn rehome_all(&mut self) {
        if self.closing {
            return;
        }
        for p in 0..self.persons.len() {
            let person = &self.persons[p];
            if person.away
                || person.home.is_none()
                || self.hall.staff_location(&person.id).is_some()
            {
                continue;
            }
            self.login_home(p);
        }
    }

    /// Lets idle windows act, the longest-idle first.
    fn dispatch_all(&mut self) {
        self.dirty_all = false;
        let mut idle: Vec<(Millis, usize)> = self
            .hall
            .windows()
            .iter()
            .enumerate()
            .filter(|(i, w)| self.wins[*i].phase == Phase::Idle && w.state != WindowState::Closed)
            .map(|(i, w)| (w.since, i))
            .collect();
        idle.sort_unstable();
        for (_, w) in idle {
            self.dispatch(w);
        }
        // Actions above may have changed the hall again (break → handover).
        if self.dirty_all {
            self.dirty_all = false;
            for w in 0..self.wins.len() {
                self.dispatch(w);
            }
        }
    }

    /// What the clerk at an idle window does now.
    fn dispatch(&mut self, w: usize) {
        for _ in 0..4 {
            if self.wins[w].phase != Phase::Idle {
                return;
            }
            let number = self.wins[w].number;
            let Some(win) = self.hall.windows().get(w) else {
                return;
            };
            let state = win.state;
            if state == WindowState::Closed || win.is_busy() {
                return;
            }
            let standby = win
                .standby
                .as_ref()
                .and_then(|s| self.staff_index.get(&s.staff).copied());
            // Held citizens who are back come first; one whose hold ran
            // out (a no-show now) is dropped.
            while let Some(&i) = self.wins[w].back.first() {
                let held = self
                    .hall
                    .ticket(&i.to_string())
                    .is_some_and(|t| t.state == TicketState::Held);
                if held {
                    break;
                }
                self.wins[w].back.remove(0);
            }
            let back = self.wins[w].back.first().copied();
            let nothing = self.hall.peek_next(number).is_none() && back.is_none();
            if self.closing && (self.overtime || nothing) {
                self.exec(Command::CloseWindow { window: number }, Actor::Supervisor);
                return;
            }
            if matches!(state, WindowState::Paused { .. }) {
                return;
            }
            let Some(p) = self.on_duty(w) else {
                return;
            };
            if self.persons[p].away || self.now < self.wins[w].ready_at {
                return;
            }
            // A B post covering for an absent A post keeps the window until
            // the A post is back, and takes the break after handing back.
            let covering = self.wins[w]
                .home
                .is_some_and(|h| h != p && self.persons[h].away);
            if !covering {
                if let Some(dur) = self.persons[p].break_due.take() {
                    if self.setup.config.windows[w].kind == WindowKind::Tidal
                        && matches!(
                            self.setup.policy,
                            Policy::Tidal | Policy::Plan | Policy::Bound
                        )
                    {
                        // Sent to a tidal window with nobody to take over: the
                        // supervisor closes it for the break (the core may open
                        // it again with someone else); the clerk returns to
                        // their own seat afterwards.
                        self.exec(Command::CloseWindow { window: number }, Actor::Supervisor);
                    } else {
                        self.clerk(w, |window| Command::Pause {
                            window,
                            reason: PauseReason::Leave,
                        });
                    }
                    self.go_away(p, dur);
                    continue;
                }
            }
            if let (Some(h), Some(s)) = (self.wins[w].home, standby) {
                if h == s && h != p && !self.persons[h].away {
                    self.clerk(w, |window| Command::Handover { window });
                    if let Some(dur) = self.persons[p].break_due.take() {
                        // Now on standby: leave for the deferred break.
                        let staff = self.persons[p].id.clone();
                        self.exec(
                            Command::Logout {
                                staff: staff.clone(),
                                window: number,
                            },
                            Actor::Staff(staff),
                        );
                        self.go_away(p, dur);
                    }
                    continue;
                }
            }
            if self
                .target
                .is_some_and(|n| !self.closing && self.staffed_count() > n)
                && self.close_for_schedule(w)
            {
                return;
            }
            if let Some(i) = back {
                let number_of = self
                    .hall
                    .ticket(&i.to_string())
                    .map(|t| t.number.to_string());
                self.wins[w].back.remove(0);
                if let Some(n) = number_of {
                    self.clerk(w, |window| Command::CallNumber { window, number: n });
                }
                return;
            }
            if !nothing {
                self.clerk(w, |window| Command::CallNext { window });
            }
            return;
        }
    }
}
