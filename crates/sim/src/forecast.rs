//! Forecast and staffing plan from the hall's own history (issue 18, `plan`).
//!
//! Outside the core on purpose: it reads history, and the core only ever
//! gets the result as a value (a [`StaffingPlan`]: windows wanted per
//! half-hour), so a replay or a simulation stays deterministic.
//!
//! - [`History`] holds what a day's log says: tickets issued per half-hour,
//!   the weekday, and the work per citizen (handling plus the walk to the
//!   window, as the window experiences it).
//! - [`History::forecast`] predicts a day's arrivals per half-hour: the mean
//!   of the same weekday over the last `weeks` weeks when there are two such
//!   days, else the mean of the last seven days scaled by the weekday's
//!   level, smoothed over neighbouring half-hours.
//! - [`plan`] turns a forecast into windows per half-hour: the fewest
//!   windows `c` with Erlang C's `P(wait > target) = C(c, a) e^{-(c-a)T/s}`
//!   at most 10 % (the p90 target), `a = λ s`.

use crate::demand::DayPlan;

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
}

impl DayLog {
    /// What a day's log says: its arrivals and their work, counting the
    /// categories marked in `pooled` (those the schedule's windows serve;
    /// the others have specialist windows of their own).
    pub fn of(plan: &DayPlan, weekday: u8, pooled: &[bool]) -> DayLog {
        let mut arrivals = [0.0; SLOTS];
        let mut work_s = 0.0;
        let mut served = 0;
        for a in &plan.arrivals {
            if !pooled.get(usize::from(a.cat)).copied().unwrap_or(true) {
                continue;
            }
            served += 1;
            let k = (a.at / SLOT_MS).clamp(0, SLOTS as i64 - 1) as usize;
            arrivals[k] += 1.0;
            work_s += (a.service_ms + a.walk_ms) as f64 / 1000.0;
        }
        DayLog {
            weekday,
            arrivals,
            work_s,
            served,
        }
    }
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
    /// `weeks` weeks; `None` without history.
    pub fn work_per_citizen_s(&self) -> Option<f64> {
        let recent = self.days.iter().rev().take(7 * self.weeks);
        let (w, n) = recent.fold((0.0, 0u64), |(w, n), d| (w + d.work_s, n + d.served));
        (n > 0).then(|| w / n as f64)
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
