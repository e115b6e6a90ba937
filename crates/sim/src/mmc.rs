//! The M/M/c fast path: a stationary queue with one pooled category, `c`
//! comprehensive windows, Poisson arrivals and exponential service, driven
//! through the real [`Hall`] with as few commands as the rules allow (issue,
//! call-next, start, complete). No breaks, no no-shows, no tidal windows, no
//! walking: so the waits the core reports must match Erlang C.
//!
//! The core decides which ticket each window calls and reports each wait
//! (`service_completed.wait_s`); this module only plays kiosk and clerks. Time
//! scale: mean service `c` seconds, so `c·μ = 1/s` and every load relaxes in
//! about the same simulated time. Each business day is a replication: the
//! hall starts empty at midnight, customers arriving in the first 30 minutes
//! (warm-up) are not measured, arrivals stop at 23:30 and the queue drains
//! before the core's midnight day close.

use hallcall_core::config::{
    CategoryConfig, Day, HallConfig, PriorityBonus, StaffConfig, TidalMode, TidalPolicy,
    WindowConfig, WindowKind,
};
use hallcall_core::time::{TimeOfDay, TimeRange};
use hallcall_core::{Actor, Channel, Command, EventKind, Hall, Millis, Priority};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Erlang C: the mean wait in queue of M/M/c with arrival rate `lambda` and
/// service rate `mu` per server (same time unit in, same out).
pub fn erlang_c_wait(c: u32, lambda: f64, mu: f64) -> f64 {
    let a = lambda / mu;
    let rho = a / f64::from(c);
    if rho >= 1.0 {
        return f64::INFINITY;
    }
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..c {
        term *= a / f64::from(k);
        sum += term;
    }
    let last = term * a / f64::from(c) / (1.0 - rho);
    let p_wait = last / (sum + last);
    p_wait / (f64::from(c) * mu - lambda)
}

/// A hall of `c` comprehensive windows and one category.
pub fn mmc_hall(c: u32, mean_service_s: u32) -> HallConfig {
    HallConfig {
        id: "mmc".into(),
        name: "M/M/c".into(),
        name_en: String::new(),
        timezone: hallcall_core::demo::demo_hall().timezone,
        open_days: vec![
            Day::Mon,
            Day::Tue,
            Day::Wed,
            Day::Thu,
            Day::Fri,
            Day::Sat,
            Day::Sun,
        ],
        open_hours: vec![TimeRange {
            start: TimeOfDay(0),
            end: TimeOfDay(1440),
        }],
        day_close: TimeOfDay(1440),
        kiosk_tokens: Vec::new(),
        supervisor_tokens: Vec::new(),
        priority_bonus_s: PriorityBonus::default(),
        tidal: TidalPolicy {
            mode: TidalMode::Advise,
            ..TidalPolicy::default()
        },
        categories: vec![CategoryConfig {
            id: "general".into(),
            name: "综合业务".into(),
            name_en: String::new(),
            prefix: 'A',
            expected_s: mean_service_s,
            limit_s: 86_400,
            wait_target_s: 86_400,
            appointment_slots: None,
        }],
        windows: (1..=c)
            .map(|n| WindowConfig {
                number: n,
                kind: WindowKind::Comprehensive,
                categories: Vec::new(),
                a_post: format!("c{n:02}"),
                b_post: None,
            })
            .collect(),
        staff: (1..=c)
            .map(|n| StaffConfig {
                id: format!("c{n:02}"),
                name: format!("clerk {n}"),
                pin_hash: String::new(),
            })
            .collect(),
    }
}

/// What one M/M/c run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct MmcResult {
    pub c: u32,
    pub rho: f64,
    /// Measured customers (after warm-up).
    pub customers: u64,
    /// Mean wait in queue, in mean service times.
    pub mean_wait: f64,
    /// Standard error of `mean_wait` from batch means.
    pub std_err: f64,
    pub batches: usize,
    /// Erlang C, in mean service times.
    pub erlang_c: f64,
    pub commands: u64,
    pub days: u32,
}

impl MmcResult {
    pub fn rel_err(&self) -> f64 {
        self.mean_wait / self.erlang_c - 1.0
    }
}

const DAY: Millis = 86_400_000;
const WARM_UP: Millis = 30 * 60_000;
const LAST_ARRIVAL: Millis = DAY - 30 * 60_000;
/// 2026-03-02 00:00 in Shanghai.
const START: Millis = 1_772_380_800_000;

struct Driver {
    hall: Hall,
    now: Millis,
    commands: u64,
    clerks: Vec<Actor>,
}

impl Driver {
    fn run(&mut self, cmd: Command, by: Actor) -> Vec<hallcall_core::Event> {
        self.commands += 1;
        // The M/M/c driver only sends commands the rules allow; a refusal is a
        // bug in the core or here, and must fail the validation loudly.
        match self.hall.handle(cmd, by, self.now) {
            Ok(evs) => evs,
            Err(e) => panic!("the core refused an M/M/c command at {}: {e}", self.now),
        }
    }

    /// Window `w` (0-based) calls the next ticket and starts serving it;
    /// returns the ticket index it called.
    fn call_and_start(&mut self, w: usize) -> Option<usize> {
        let window = w as u32 + 1;
        let by = self.clerks[w].clone();
        let evs = self.run(Command::CallNext { window }, by.clone());
        let ticket = evs.iter().find_map(|e| match &e.kind {
            EventKind::TicketCalled { ticket, .. } => ticket.parse::<usize>().ok(),
            _ => None,
        })?;
        self.run(Command::Start { window }, by);
        Some(ticket)
    }
}

/// Runs M/M/c at load `rho` through the real core until at least `customers`
/// customers were measured, and compares the mean wait with Erlang C.
pub fn run(c: u32, rho: f64, customers: u64, seed: u64) -> MmcResult {
    let c_us = c as usize;
    let mean_service_ms = 1000.0 * f64::from(c);
    let lambda_per_ms = rho / 1000.0; // c·μ = 1/s
    let mut rng = StdRng::seed_from_u64(seed);
    let mut d = Driver {
        hall: Hall::new(mmc_hall(c, c)),
        now: START,
        commands: 0,
        clerks: (1..=c).map(|n| Actor::Staff(format!("c{n:02}"))).collect(),
    };
    for (w, by) in d.clerks.clone().into_iter().enumerate() {
        let staff = by.staff_id().map(str::to_string).unwrap_or_default();
        d.run(
            Command::Login {
                staff,
                window: w as u32 + 1,
            },
            by,
        );
    }
    // Batch means over consecutive measured arrivals.
    let batch = (customers / 40).max(1);
    let (mut batch_sum, mut batch_n) = (0.0f64, 0u64);
    let mut batch_means: Vec<f64> = Vec::new();
    let (mut total, mut measured) = (0.0f64, 0u64);
    let mut days = 0u32;
    let exp = |rng: &mut StdRng, mean: f64| -mean * (1.0 - rng.gen::<f64>()).ln();
    while measured < customers {
        let day0 = START + i64::from(days) * DAY;
        days += 1;
        // arrivals[i] = (arrival offset, service ms); waits[i] once served.
        let mut arrivals: Vec<(Millis, Millis)> = Vec::new();
        let mut t = 1.0f64;
        loop {
            t += exp(&mut rng, 1.0 / lambda_per_ms);
            if t as Millis >= LAST_ARRIVAL {
                break;
            }
            let s = (exp(&mut rng, mean_service_ms).round() as Millis).max(1);
            arrivals.push((t as Millis, s));
        }
        let mut waits = vec![f64::NAN; arrivals.len()];
        // Per window: when its service ends and which ticket it serves.
        let mut busy: Vec<Option<(Millis, usize)>> = vec![None; c_us];
        let mut next = 0usize;
        loop {
            let done = busy
                .iter()
                .enumerate()
                .filter_map(|(w, b)| b.map(|(at, _)| (at, w)))
                .min();
            let arrival = arrivals.get(next).map(|a| day0 + a.0);
            match (arrival, done) {
                (Some(at), Some((end, _))) if at < end => {
                    d.now = at;
                    arrive(&mut d, &mut busy, &arrivals, next);
                    next += 1;
                }
                (Some(at), None) => {
                    d.now = at;
                    arrive(&mut d, &mut busy, &arrivals, next);
                    next += 1;
                }
                (_, Some((end, w))) => {
                    d.now = end;
                    let window = w as u32 + 1;
                    let by = d.clerks[w].clone();
                    let evs = d.run(Command::Complete { window }, by);
                    for e in &evs {
                        if let EventKind::ServiceCompleted { ticket, wait_s, .. } = &e.kind {
                            if let Ok(i) = ticket.parse::<usize>() {
                                waits[i] = *wait_s;
                            }
                        }
                    }
                    busy[w] = None;
                    if d.hall.waiting_total() > 0 {
                        if let Some(i) = d.call_and_start(w) {
                            busy[w] = Some((d.now + arrivals[i].1, i));
                        }
                    }
                }
                (None, None) => break,
            }
        }
        for (i, &(at, _)) in arrivals.iter().enumerate() {
            if at < WARM_UP || measured >= customers {
                continue;
            }
            let w = waits[i];
            // Every measured customer was served before midnight: if one
            // was not, the comparison is void.
            assert!(w.is_finite(), "customer {i} of day {days} was not served");
            let w = w * 1000.0 / mean_service_ms;
            total += w;
            measured += 1;
            batch_sum += w;
            batch_n += 1;
            if batch_n == batch {
                batch_means.push(batch_sum / batch_n as f64);
                batch_sum = 0.0;
                batch_n = 0;
            }
        }
    }
    let mean = total / measured.max(1) as f64;
    let k = batch_means.len();
    let std_err = if k > 1 {
        let m = batch_means.iter().sum::<f64>() / k as f64;
        let var = batch_means.iter().map(|b| (b - m).powi(2)).sum::<f64>() / (k - 1) as f64;
        (var / k as f64).sqrt()
    } else {
        f64::NAN
    };
    // In mean service times: mu = 1.
    MmcResult {
        c,
        rho,
        customers: measured,
        mean_wait: mean,
        std_err,
        batches: k,
        erlang_c: erlang_c_wait(c, rho * f64::from(c), 1.0),
        commands: d.commands,
        days,
    }
}

fn arrive(
    d: &mut Driver,
    busy: &mut [Option<(Millis, usize)>],
    arrivals: &[(Millis, Millis)],
    i: usize,
) {
    d.run(
        Command::IssueTicket {
            id: i.to_string(),
            category: "general".into(),
            priority: Priority::Normal,
            channel: Channel::Kiosk,
            appointment_code: None,
        },
        Actor::Kiosk,
    );
    if let Some(w) = busy.iter().position(Option::is_none) {
        if let Some(t) = d.call_and_start(w) {
            busy[w] = Some((d.now + arrivals[t].1, t));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_known_values() {
        // M/M/1: Wq = rho / (mu - lambda).
        assert!((erlang_c_wait(1, 0.9, 1.0) - 9.0).abs() < 1e-9);
        // M/M/2 at a = 1: P(wait) = 1/3, Wq = (1/3) / (2 - 1).
        assert!((erlang_c_wait(2, 1.0, 1.0) - 1.0 / 3.0).abs() < 1e-9);
        assert!(erlang_c_wait(3, 3.0, 1.0).is_infinite());
    }

    #[test]
    fn a_short_run_goes_through_the_core_without_refusals() {
        let r = run(3, 0.8, 2_000, 1);
        assert_eq!(r.customers, 2_000);
        assert!(r.commands >= 4 * 2_000);
        assert!(r.mean_wait > 0.0);
    }
}
