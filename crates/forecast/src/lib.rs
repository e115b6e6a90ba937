//! Forecast and staffing plan from the hall's own history (issue 18, tidal
//! mode `plan`). One crate for both users: the server forecasts from the
//! hall's log in the store, the simulator from the days it simulated, with
//! the same code.
//!
//! Outside the core on purpose: it reads history, and the core only ever
//! gets the result as a value (a [`StaffingPlan`]: windows wanted per
//! half-hour, handed over as `Command::SetStaffingPlan`), so a replay or a
//! simulation stays deterministic. Pure: events in, plan out, no IO.
//!
//! - [`DayLog`] holds what a day's log says ([`DayLog::from_events`]):
//!   tickets issued per half-hour, the weekday, and the work per citizen
//!   (handling plus the walk to the window plus the wait for a no-show, as
//!   the window experiences it), and how long summoned clerks took to
//!   arrive.
//! - [`History::forecast`] predicts a day's arrivals per half-hour: the mean
//!   of the same weekday over the last `weeks` weeks when there are two such
//!   days, else the mean of the last seven days scaled by the weekday's
//!   level, smoothed over neighbouring half-hours.
//! - [`plan`] turns a forecast into windows per half-hour: the fewest
//!   windows `c` with Erlang C's `P(wait > target) = C(c, a) e^{-(c-a)T/s}`
//!   at most 10 % (the p90 target), `a = λ s`.

mod frame;
mod log;

pub use frame::Frame;

/// Half-hours of a day.
pub const SLOTS: usize = 48;
/// Length of a plan slot, milliseconds.
pub const SLOT_MS: i64 = 30 * 60_000;

/// One day of the log, reduced to what the forecast reads.
#[derive(Clone, Debug)]
pub struct DayLog {
    /// 0 = Monday.
    pub weekday: u8,
    /// Tickets issued per half-hour after local midnight.
    pub arrivals: [f64; SLOTS],
    /// Σ handling + walk, seconds, and how many citizens it covers.
    pub work_s: f64,
    pub served: u64,
    /// Σ seconds from a window's summons to its clerk logging in there, and
    /// how many summons that covers (the lead the plan summons ahead by).
    pub summons_s: f64,
    pub summons: u64,
}

/// The hall's history, oldest day first.
#[derive(Clone, Debug, Default)]
pub struct History {
    pub days: Vec<DayLog>,
    /// Same-weekday days looked back at.
    pub weeks: usize,
}

impl History {
    pub fn new(weeks: usize) -> History {
        History {
            days: Vec::new(),
            weeks: weeks.max(1),
        }
    }

    pub fn push(&mut self, day: DayLog) {
        self.days.push(day);
    }

    /// Mean work per citizen (handling + walk), seconds, over the last
    /// `weeks` weeks; `None` without history or without any work in it.
    pub fn work_per_citizen_s(&self) -> Option<f64> {
        let recent = self.days.iter().rev().take(7 * self.weeks);
        let (w, n) = recent.fold((0.0, 0u64), |(w, n), d| (w + d.work_s, n + d.served));
        // Nobody served yet (a new hall): no figure to plan with.
        (n > 0 && w > 0.0).then(|| w / n as f64)
    }

    /// Mean seconds from a summons to the clerk's arrival over the last
    /// `weeks` weeks; `None` when no summons was answered.
    pub fn summon_lead_s(&self) -> Option<f64> {
        let recent = self.days.iter().rev().take(7 * self.weeks);
        let (s, n) = recent.fold((0.0, 0u64), |(s, n), d| (s + d.summons_s, n + d.summons));
        (n > 0).then(|| s / n as f64)
    }

    /// Forecast arrivals per half-hour for a day on `weekday`; `None`
    /// without history.
    pub fn forecast(&self, weekday: u8) -> Option<[f64; SLOTS]> {
        if self.days.is_empty() {
            return None;
        }
        let same: Vec<&DayLog> = self
            .days
            .iter()
            .rev()
            .filter(|d| d.weekday == weekday)
            .take(self.weeks)
            .collect();
        let mean = |days: &[&DayLog]| {
            let mut m = [0.0; SLOTS];
            for d in days {
                for (x, a) in m.iter_mut().zip(d.arrivals.iter()) {
                    *x += a / days.len() as f64;
                }
            }
            m
        };
        let raw = if same.len() >= 2 {
            mean(&same)
        } else {
            // Too few same weekdays yet: the last week's shape, at this
            // weekday's level when one such day is known.
            let recent: Vec<&DayLog> = self.days.iter().rev().take(7).collect();
            let mut m = mean(&recent);
            if let Some(one) = same.first() {
                let total = |a: &[f64; SLOTS]| a.iter().sum::<f64>();
                let f = total(&one.arrivals) / total(&m).max(1e-9);
                m.iter_mut().for_each(|x| *x *= f);
            }
            m
        };
        let mut out = [0.0; SLOTS];
        for k in 0..SLOTS {
            let prev = if k > 0 { raw[k - 1] } else { raw[k] };
            let next = if k + 1 < SLOTS { raw[k + 1] } else { raw[k] };
            // Light smoothing; a slot with nothing forecast stays empty.
            out[k] = if raw[k] > 0.0 {
                0.25 * prev + 0.5 * raw[k] + 0.25 * next
            } else {
                0.0
            };
        }
        Some(out)
    }
}

/// `C(c, a)`: Erlang C, the probability of waiting at all, with `a` Erlangs
/// offered to `c` servers (1 when `a >= c`).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    if c == 0 || a >= f64::from(c) {
        return 1.0;
    }
    // Erlang B by recursion, then C from B.
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let rho = a / f64::from(c);
    b / (1.0 - rho * (1.0 - b))
}

/// The fewest servers keeping `P(wait > target_s) <= 1 - quantile` with
/// arrivals `per_s` a second and work `work_s` each (at most `max`).
pub fn servers_for(per_s: f64, work_s: f64, target_s: f64, quantile: f64, max: u32) -> u32 {
    if per_s <= 0.0 {
        return 0;
    }
    let a = per_s * work_s;
    for c in 1..=max {
        if a >= f64::from(c) {
            continue;
        }
        let p = erlang_c(c, a) * (-(f64::from(c) - a) * target_s / work_s).exp();
        if p <= 1.0 - quantile {
            return c;
        }
    }
    max
}

/// Windows wanted per half-hour: a value handed to whoever staffs the hall.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StaffingPlan {
    /// Per half-hour after local midnight.
    pub windows: Vec<u32>,
}

/// The plan for a forecast day: per half-hour the Erlang C windows for the
/// p90 target, at least `min` and at most `max` while the hall is open
/// (`open_slot..close_slot`), 0 outside.
pub fn plan(
    forecast: &[f64; SLOTS],
    work_s: f64,
    target_s: f64,
    min: u32,
    max: u32,
    open_slot: usize,
    close_slot: usize,
) -> StaffingPlan {
    let windows = (0..SLOTS)
        .map(|k| {
            if k < open_slot || k >= close_slot {
                return 0;
            }
            let per_s = forecast[k] / (SLOT_MS as f64 / 1000.0);
            servers_for(per_s, work_s, target_s, 0.9, max).clamp(min, max)
        })
        .collect();
    StaffingPlan { windows }
}

/// Seconds a plan summons ahead when the history holds no answered summons:
/// two minutes, the simulator's town-centre walk rounded up.
pub const DEFAULT_LEAD_S: u32 = 120;

/// Days of history a plan reads: four weeks, so each weekday is seen four
/// times ([`History::forecast`] wants two of them).
pub const HISTORY_DAYS: i64 = 28;

/// The plan for the business day `date` of the hall `cfg` from the hall's
/// own log: `days` are earlier business days with their events (any order;
/// only the [`HISTORY_DAYS`] before `date` count). Returns the windows per
/// half-hour after local midnight and the lead in seconds, as
/// `Command::SetStaffingPlan` takes them; `None` on a day the hall is
/// closed (its calendar) or without history.
pub fn day_plan<'a>(
    cfg: &hallcall_core::HallConfig,
    date: chrono::NaiveDate,
    days: impl IntoIterator<Item = (chrono::NaiveDate, &'a [hallcall_core::Event])>,
) -> Option<(Vec<u32>, u32)> {
    use chrono::Datelike;
    let weekday = |d: chrono::NaiveDate| d.weekday().num_days_from_monday() as u8;
    // The hall's calendar: open days, holidays (closed_dates), 调休
    // (extra_open_dates).
    if !cfg.is_open_date(date) {
        return None;
    }
    let (open, close) = Frame::hours(cfg)?;
    let frame = Frame::of(cfg);
    let mut past: Vec<_> = days
        .into_iter()
        .filter(|(d, _)| *d < date && (date - *d).num_days() <= HISTORY_DAYS)
        .collect();
    past.sort_by_key(|(d, _)| *d);
    let mut history = History::new(4);
    for (d, events) in past {
        history.push(DayLog::from_events(events, weekday(d), cfg.timezone, |c| {
            frame.is_pooled(cfg, c)
        }));
    }
    let mut plan = frame.plan(&history, weekday(date), open, close, close)?;
    // Nobody is summoned while the hall is closed between two opening ranges.
    for (k, n) in plan.windows.iter_mut().enumerate() {
        if !Frame::slot_open(cfg, k) {
            *n = 0;
        }
    }
    let lead = history
        .summon_lead_s()
        .map_or(DEFAULT_LEAD_S, |s| s.ceil().clamp(0.0, 3600.0) as u32);
    Some((plan.windows, lead))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_known_values() {
        // c = 1: C = ρ.
        assert!((erlang_c(1, 0.5) - 0.5).abs() < 1e-12);
        // c = 2, a = 1: C = 1/3.
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(erlang_c(3, 3.0), 1.0);
    }

    #[test]
    fn more_arrivals_need_more_windows_and_a_forecast_follows_the_weekday() {
        let few = servers_for(60.0 / 3600.0, 400.0, 1200.0, 0.9, 20);
        let many = servers_for(200.0 / 3600.0, 400.0, 1200.0, 0.9, 20);
        assert!(few < many, "{few} {many}");
        let mut h = History::new(4);
        for d in 0..14u8 {
            let mut arrivals = [0.0; SLOTS];
            arrivals[20] = if d % 7 == 0 { 50.0 } else { 10.0 };
            h.push(DayLog {
                weekday: d % 7,
                arrivals,
                work_s: 400.0,
                served: 1,
                summons_s: 0.0,
                summons: 0,
            });
        }
        let monday = h.forecast(0).expect("history");
        let tuesday = h.forecast(1).expect("history");
        assert!(
            monday[20] > 3.0 * tuesday[20],
            "{} {}",
            monday[20],
            tuesday[20]
        );
        assert!(History::new(4).forecast(0).is_none());
    }
}
