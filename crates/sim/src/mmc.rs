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
    CategoryConfig, Day, HallConfig, PriorityBonus, RequeuePlace, StaffConfig, TidalMode,
    TidalPolicy, WindowConfig, WindowKind,
};
use hallcall_core::time::{TimeOfDay, TimeRange};
use hallcall_core::{Actor, Channel, Command, EventKind, Hall, Millis, Priority};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::SimError;

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
        public_url: String::new(),
        supervision_phone: String::new(),
        priority_bonus_s: PriorityBonus::default(),
        tidal: TidalPolicy {
            mode: TidalMode::Advise,
            ..TidalPolicy::default()
        },
        min_recalls_before_no_show: 1,
        requeue: RequeuePlace::Back,
        summon_timeout_s: 300,
        hold_max_min: 30,
        near_turn_ahead: 3,
        booking_days_ahead: 7,
        closed_dates: Vec::new(),
        extra_open_dates: Vec::new(),
        no_show_limit: 3,
        no_show_ban_days: 30,
        categories: vec![CategoryConfig {
            id: "general".into(),
            name: "综合业务".into(),
            name_en: String::new(),
            prefix: 'A',
            expected_s: mean_service_s,
            limit_s: 86_400,
            wait_target_s: 86_400,
            appointment_slots: None,
            daily_cap: None,
            last_ticket_before_close_min: 0,
        }],
        windows: (1..=c)
            .map(|n| WindowConfig {
                number: n,
                kind: WindowKind::Comprehensive,
                categories: Vec::new(),
                a_post: format!("c{n:02}"),
                b_post: None,
                name: String::new(),
                evaluator_token: None,
            })
            .collect(),
        staff: (1..=c)
            .map(|n| StaffConfig {
                id: format!("c{n:02}"),
                name: format!("clerk {n}"),
                pin_hash: String::new(),
                staff_no: String::new(),
                photo: None,
            })
            .collect(),
        printers: Vec::new(),
        voice: None,
        webhooks: Vec::new(),
    }
}

/// What one M/M/c run measured. Times are in mean service times (`μ = 1`).
#[derive(Clone, Debug, PartialEq)]
pub struct MmcResult {
    pub c: u32,
    pub rho: f64,
    /// Measured customers (after each day's warm-up).
    pub customers: u64,
    /// Mean wait in queue as the core reported it (`service_completed.wait_s`).
    pub mean_wait: f64,
    /// Standard error of `mean_wait` from batch means.
    pub std_err: f64,
    /// `mean_wait` adjusted by control variates: the batch means of service
    /// times and of inter-arrival gaps, whose true means are known (1 and
    /// `1/λ`), regressed out (Lavenberg & Welch). Same expectation, less noise.
    pub cv_mean_wait: f64,
    pub cv_std_err: f64,
    pub batches: usize,
    /// Erlang C.
    pub erlang_c: f64,
    /// Customers whose wait the core reported differently from the FIFO
    /// M/M/c recursion (Kiefer–Wolfowitz) on the same arrivals and services.
    pub recursion_mismatches: u64,
    pub commands: u64,
    pub days: u32,
}

impl MmcResult {
    pub fn rel_err(&self) -> f64 {
        self.mean_wait / self.erlang_c - 1.0
    }

    pub fn cv_rel_err(&self) -> f64 {
        self.cv_mean_wait / self.erlang_c - 1.0
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
    fn run(&mut self, cmd: Command, by: Actor) -> Result<Vec<hallcall_core::Event>, SimError> {
        self.commands += 1;
        // The driver only sends commands the rules allow: a refusal is a bug.
        self.hall.handle(cmd, by, self.now).map_err(|e| {
            SimError::Validation(format!(
                "the core refused an M/M/c command at {}: {e}",
                self.now
            ))
        })
    }

    /// Window `w` (0-based) calls the next ticket and starts serving it;
    /// returns the index of the ticket the core chose.
    fn call_and_start(&mut self, w: usize) -> Result<Option<usize>, SimError> {
        let window = w as u32 + 1;
        let by = self.clerks[w].clone();
        let evs = self.run(Command::CallNext { window }, by.clone())?;
        let ticket = evs.iter().find_map(|e| match &e.kind {
            EventKind::TicketCalled { ticket, .. } => ticket.parse::<usize>().ok(),
            _ => None,
        });
        if ticket.is_some() {
            self.run(Command::Start { window }, by)?;
        }
        Ok(ticket)
    }

    fn arrive(
        &mut self,
        busy: &mut [Option<(Millis, usize)>],
        arrivals: &[(Millis, Millis)],
        i: usize,
    ) -> Result<(), SimError> {
        self.run(
            Command::IssueTicket {
                id: i.to_string(),
                category: "general".into(),
                priority: Priority::Normal,
                channel: Channel::Kiosk,
                appointment_code: None,
            },
            Actor::Kiosk,
        )?;
        if let Some(w) = busy.iter().position(Option::is_none) {
            if let Some(t) = self.call_and_start(w)? {
                busy[w] = Some((self.now + arrivals[t].1, t));
            }
        }
        Ok(())
    }
}

/// FIFO M/M/c waits by the Kiefer–Wolfowitz recursion, in ms.
fn recursion_waits(c: usize, arrivals: &[(Millis, Millis)]) -> Vec<Millis> {
    let mut free = vec![Millis::MIN; c];
    arrivals
        .iter()
        .map(|&(at, service)| {
            let (j, f) = free
                .iter()
                .copied()
                .enumerate()
                .min_by_key(|&(_, f)| f)
                .unwrap_or((0, Millis::MIN));
            let start = at.max(f);
            if let Some(slot) = free.get_mut(j) {
                *slot = start + service;
            }
            start - at
        })
        .collect()
}

/// Batch statistics: (wait, service, gap) means per batch.
#[derive(Default)]
struct Batches {
    size: u64,
    n: u64,
    sum: [f64; 3],
    means: Vec<[f64; 3]>,
}

impl Batches {
    fn add(&mut self, x: [f64; 3]) {
        for (s, v) in self.sum.iter_mut().zip(x) {
            *s += v;
        }
        self.n += 1;
        if self.n == self.size {
            let n = self.n as f64;
            self.means.push(self.sum.map(|s| s / n));
            self.sum = [0.0; 3];
            self.n = 0;
        }
    }

    /// (raw SE, control-variate mean, control-variate SE) given the overall
    /// raw mean and the known means of the two controls.
    fn analyse(&self, raw_mean: f64, known: [f64; 2]) -> (f64, f64, f64) {
        let k = self.means.len();
        if k < 5 {
            return (f64::NAN, raw_mean, f64::NAN);
        }
        let kf = k as f64;
        let mean = |i: usize| self.means.iter().map(|m| m[i]).sum::<f64>() / kf;
        let mu = [mean(0), mean(1), mean(2)];
        let cov = |i: usize, j: usize| {
            self.means
                .iter()
                .map(|m| (m[i] - mu[i]) * (m[j] - mu[j]))
                .sum::<f64>()
                / (kf - 1.0)
        };
        let raw_se = (cov(0, 0) / kf).sqrt();
        let (sss, sgg, ssg) = (cov(1, 1), cov(2, 2), cov(1, 2));
        let (sws, swg) = (cov(0, 1), cov(0, 2));
        let det = sss * sgg - ssg * ssg;
        if det.abs() < f64::MIN_POSITIVE {
            return (raw_se, raw_mean, raw_se);
        }
        let b1 = (sws * sgg - swg * ssg) / det;
        let b2 = (swg * sss - sws * ssg) / det;
        let adjusted: Vec<f64> = self
            .means
            .iter()
            .map(|m| m[0] - b1 * (m[1] - known[0]) - b2 * (m[2] - known[1]))
            .collect();
        let am = adjusted.iter().sum::<f64>() / kf;
        let avar = adjusted.iter().map(|a| (a - am).powi(2)).sum::<f64>() / (kf - 3.0);
        let cv_mean = raw_mean - b1 * (mu[1] - known[0]) - b2 * (mu[2] - known[1]);
        (raw_se, cv_mean, (avar / kf).sqrt())
    }
}

/// Runs M/M/c at load `rho` through the real core until `customers`
/// customers were measured, and compares the mean wait with Erlang C.
pub fn run(c: u32, rho: f64, customers: u64, seed: u64) -> Result<MmcResult, SimError> {
    if c == 0 || !(rho > 0.0 && rho < 1.0) || customers == 0 {
        return Err(SimError::Validation(format!(
            "need c >= 1, 0 < rho < 1, customers > 0 (got {c}, {rho}, {customers})"
        )));
    }
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
    for n in 1..=c {
        let staff = format!("c{n:02}");
        d.run(
            Command::Login {
                staff: staff.clone(),
                window: n,
            },
            Actor::Staff(staff),
        )?;
    }
    let mut batches = Batches {
        size: (customers / 40).max(1),
        ..Batches::default()
    };
    let (mut total, mut measured, mut mismatches) = (0.0f64, 0u64, 0u64);
    let mut days = 0u32;
    let exp = |rng: &mut StdRng, mean: f64| -mean * (1.0 - rng.gen::<f64>()).ln();
    while measured < customers {
        let day0 = START + i64::from(days) * DAY;
        days += 1;
        // (arrival offset, service) in ms; gaps[i] = inter-arrival gap before i.
        let mut arrivals: Vec<(Millis, Millis)> = Vec::new();
        let mut gaps: Vec<f64> = Vec::new();
        let mut t = 1.0f64;
        let mut to_measure = customers - measured;
        while to_measure > 0 {
            let gap = exp(&mut rng, 1.0 / lambda_per_ms);
            t += gap;
            if t as Millis >= LAST_ARRIVAL {
                break;
            }
            let s = (exp(&mut rng, mean_service_ms).round() as Millis).max(1);
            arrivals.push((t as Millis, s));
            gaps.push(gap);
            if t as Millis >= WARM_UP {
                to_measure -= 1;
            }
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
                    d.arrive(&mut busy, &arrivals, next)?;
                    next += 1;
                }
                (Some(at), None) => {
                    d.now = at;
                    d.arrive(&mut busy, &arrivals, next)?;
                    next += 1;
                }
                (_, Some((end, w))) => {
                    d.now = end;
                    let window = w as u32 + 1;
                    let by = d.clerks[w].clone();
                    for e in d.run(Command::Complete { window }, by)? {
                        if let EventKind::ServiceCompleted { ticket, wait_s, .. } = &e.kind {
                            if let Some(slot) =
                                ticket.parse::<usize>().ok().and_then(|i| waits.get_mut(i))
                            {
                                *slot = *wait_s;
                            }
                        }
                    }
                    busy[w] = None;
                    if let Some(i) = d.call_and_start(w)? {
                        busy[w] = Some((d.now + arrivals[i].1, i));
                    }
                }
                (None, None) => break,
            }
        }
        let reference = recursion_waits(c_us, &arrivals);
        for (i, &(at, service)) in arrivals.iter().enumerate() {
            let w = waits[i];
            if !w.is_finite() {
                return Err(SimError::Validation(format!(
                    "customer {i} of day {days} was never served"
                )));
            }
            if (w * 1000.0).round() as Millis != reference[i] {
                mismatches += 1;
            }
            if at < WARM_UP {
                continue;
            }
            let unit = mean_service_ms / 1000.0;
            let w = w / unit;
            total += w;
            measured += 1;
            batches.add([
                w,
                service as f64 / mean_service_ms,
                gaps[i] / mean_service_ms,
            ]);
        }
    }
    let mean = total / measured as f64;
    let lambda = rho * f64::from(c); // per mean service time
    let (std_err, cv_mean_wait, cv_std_err) = batches.analyse(mean, [1.0, 1.0 / lambda]);
    Ok(MmcResult {
        c,
        rho,
        customers: measured,
        mean_wait: mean,
        std_err,
        cv_mean_wait,
        cv_std_err,
        batches: batches.means.len(),
        erlang_c: erlang_c_wait(c, lambda, 1.0),
        recursion_mismatches: mismatches,
        commands: d.commands,
        days,
    })
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
    fn a_short_run_goes_through_the_core_and_matches_the_recursion() {
        let r = run(3, 0.8, 2_000, 1).expect("runs");
        assert_eq!(r.customers, 2_000);
        assert!(r.commands >= 4 * 2_000);
        assert!(r.mean_wait > 0.0);
        assert_eq!(r.recursion_mismatches, 0);
        assert!(run(3, 1.2, 10, 1).is_err());
    }

    #[test]
    fn the_recursion_is_fifo_over_c_servers() {
        // Two servers; three customers at t = 0 with services 10, 20, 5.
        assert_eq!(
            recursion_waits(2, &[(0, 10), (0, 20), (0, 5)]),
            vec![0, 0, 10]
        );
    }
}
