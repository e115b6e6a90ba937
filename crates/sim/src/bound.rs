//! The clairvoyant bound (issue 18 item 3): for the same simulated citizens,
//! the fewest window-hours of a half-hourly schedule that meets the p90 wait
//! target, found by search.
//!
//! The search knows each day's citizens in advance (arrival, handling, walk)
//! and evaluates a schedule on a pooled FIFO model of the hall: `c(t)`
//! interchangeable windows, each citizen taking the first window free (a
//! window joining at a half-hour counts from a walk before it, the same lead
//! the `plan` policy gets). Starting from every window in every half-hour,
//! it takes windows away one half-hour at a time, quietest first, while the
//! day's p90 stays within the target. The specialist windows are modelled
//! as always open, taking their own categories' citizens when they are free
//! first (the comprehensive windows serve every category). The model knows
//! no breaks, so the schedule is then run through the real core (policy
//! `bound`); while the core's p90 misses the target on the first ten days,
//! the search runs again tighter (target ×0.92 and quantile +0.01 per
//! round, at most eight rounds: the model would otherwise sacrifice exactly
//! the 10 % of citizens it may, where breaks make the real hall slower).

use crate::demand::DayPlan;
use crate::forecast::{StaffingPlan, SLOTS, SLOT_MS};

/// A citizen as the search sees them: arrival (ms after midnight) and the
/// time a window spends on them.
#[derive(Clone, Copy, Debug)]
struct Job {
    at: i64,
    work: i64,
    /// Bit of the citizen's category.
    cat: u64,
}

fn jobs(plan: &DayPlan, no_show_ms: i64) -> Vec<Job> {
    let mut v: Vec<Job> = plan
        .arrivals
        .iter()
        .map(|a| Job {
            at: a.at,
            cat: 1u64 << (a.cat % 64),
            work: if a.no_show {
                no_show_ms
            } else {
                a.service_ms + a.walk_ms
            },
        })
        .collect();
    v.sort_by_key(|j| j.at);
    v
}

/// The day's waits (seconds) under schedule `c` of pooled windows, beside
/// the specialist windows (always open, each serving the categories of its
/// mask); `spec_free` is scratch space, one per specialist window.
fn waits(
    jobs: &[Job],
    c: &[u32],
    lead: i64,
    specialists: &[u64],
    spec_free: &mut Vec<i64>,
    out: &mut Vec<f64>,
) {
    out.clear();
    spec_free.clear();
    spec_free.resize(specialists.len(), 0);
    let max = c.iter().copied().max().unwrap_or(0) as usize;
    // Window i exists in half-hour k when i < c[k]; it may start work from
    // a lead before the half-hour. next[i][k]: the first half-hour from k on
    // where window i exists.
    let mut next = vec![[usize::MAX; SLOTS]; max];
    for (i, row) in next.iter_mut().enumerate() {
        let mut n = usize::MAX;
        for k in (0..SLOTS).rev() {
            if (i as u32) < c[k] {
                n = k;
            }
            row[k] = n;
        }
    }
    let exists_from = |i: usize, t: i64| -> Option<i64> {
        let k0 = ((t + lead) / SLOT_MS).clamp(0, SLOTS as i64 - 1) as usize;
        let k = next[i][k0];
        (k != usize::MAX).then(|| t.max(k as i64 * SLOT_MS - lead))
    };
    let mut free = vec![0i64; max];
    for j in jobs {
        let mut best: Option<(i64, usize)> = None;
        for (i, f) in free.iter().enumerate() {
            if let Some(s) = exists_from(i, j.at.max(*f)) {
                if best.is_none_or(|(b, _)| s < b) {
                    best = Some((s, i));
                }
            }
        }
        let mut spec: Option<(i64, usize)> = None;
        for (i, (&mask, &f)) in specialists.iter().zip(spec_free.iter()).enumerate() {
            let s = j.at.max(f);
            if mask & j.cat != 0 && spec.is_none_or(|(b, _)| s < b) {
                spec = Some((s, i));
            }
        }
        if let Some((s, i)) = spec {
            if best.is_none_or(|(b, _)| s <= b) {
                spec_free[i] = s + j.work;
                out.push((s - j.at) as f64 / 1000.0);
                continue;
            }
        }
        match best {
            Some((s, i)) => {
                free[i] = s + j.work;
                out.push((s - j.at) as f64 / 1000.0);
            }
            // Nobody left to serve them today: they wait for nothing.
            None => out.push(f64::INFINITY),
        }
    }
}

fn quantile_of(w: &mut [f64], q: f64) -> f64 {
    if w.is_empty() {
        return 0.0;
    }
    w.sort_unstable_by(f64::total_cmp);
    let rank = ((q * w.len() as f64).ceil() as usize).clamp(1, w.len());
    w[rank - 1]
}

/// The fewest-window-hours schedule for one day's citizens meeting
/// `target_s` at p90 on the model, between `min` and `max` windows while
/// open (`open_slot..close_slot`). The schedule counts the pooled windows;
/// the specialist windows (one category mask each: bit `c` for category
/// `c`) stay open and take their categories' citizens when free first.
#[allow(clippy::too_many_arguments)]
pub fn search(
    plan: &DayPlan,
    specialists: &[u64],
    no_show_ms: i64,
    target_s: f64,
    quantile: f64,
    min: u32,
    max: u32,
    open_slot: usize,
    close_slot: usize,
    lead_ms: i64,
) -> StaffingPlan {
    let jobs = jobs(plan, no_show_ms);
    let mut spec_free = Vec::with_capacity(specialists.len());
    let mut c: Vec<u32> = (0..SLOTS)
        .map(|k| {
            if k >= open_slot && k < close_slot {
                max
            } else {
                0
            }
        })
        .collect();
    let mut buf = Vec::with_capacity(jobs.len());
    let mut ok = |c: &[u32]| {
        waits(&jobs, c, lead_ms, specialists, &mut spec_free, &mut buf);
        quantile_of(&mut buf, quantile) <= target_s
    };
    if !ok(&c) {
        return StaffingPlan { windows: c };
    }
    // Quietest half-hours give up windows first.
    let mut arrivals = [0usize; SLOTS];
    for j in &jobs {
        arrivals[(j.at / SLOT_MS).clamp(0, SLOTS as i64 - 1) as usize] += 1;
    }
    let mut order: Vec<usize> = (open_slot..close_slot.min(SLOTS)).collect();
    order.sort_by_key(|&k| (arrivals[k], k));
    loop {
        let mut changed = false;
        for &k in &order {
            while c[k] > min {
                c[k] -= 1;
                if !ok(&c) {
                    c[k] += 1;
                    break;
                }
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    StaffingPlan { windows: c }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demand::Arrival;

    fn day(n: usize, gap_ms: i64, work_ms: i64) -> DayPlan {
        DayPlan {
            arrivals: (0..n)
                .map(|i| Arrival {
                    at: 9 * 3_600_000 + i as i64 * gap_ms,
                    cat: 0,
                    green: false,
                    service_ms: work_ms,
                    walk_ms: 0,
                    no_show: false,
                    requeue_after_ms: None,
                    cancel_after_ms: None,
                    hold_away_ms: None,
                })
                .collect(),
            breaks: Vec::new(),
        }
    }

    #[test]
    fn a_steady_stream_needs_its_offered_load_and_no_more() {
        // One citizen a minute, 150 s each: 2.5 Erlangs -> 3 windows keep
        // waits at zero; the search finds 3 where citizens come.
        let plan = day(120, 60_000, 150_000);
        let s = search(&plan, &[], 0, 0.0, 0.9, 0, 10, 18, 24, 0);
        assert_eq!(
            &s.windows[18..22],
            &[3, 3, 3, 3],
            "{:?}",
            &s.windows[16..26]
        );
        // A generous target lets it staff less than the offered load briefly.
        let loose = search(&plan, &[], 0, 1200.0, 0.9, 0, 10, 18, 24, 0);
        let hours = |p: &StaffingPlan| p.windows.iter().sum::<u32>();
        assert!(hours(&loose) < hours(&s));
    }
}
