//! Figures a hall manager reads: per policy, waits, the share within the wait
//! target, window-hours, idle share, failovers and handovers; as a terminal
//! table and as JSON.

use std::fmt::Write as _;

use serde::Serialize;

use crate::engine::Tally;
use crate::policy::Policy;

/// One policy's results, per day where it says so.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyReport {
    pub policy: Policy,
    pub days: u32,
    pub tickets_per_day: f64,
    pub served: u64,
    pub no_shows: u64,
    pub requeued: u64,
    /// 不排了: cancelled from the phone while waiting.
    pub cancelled: u64,
    /// 挂起: services held; called back; ran out (no-shows, in `no_shows` too).
    pub holds: u64,
    pub holds_called_back: u64,
    pub holds_expired: u64,
    /// Still waiting when the clerks stopped (counted in the waits, censored).
    pub unserved: u64,
    /// Still at a window just before the core's day close: served to the end
    /// there, service cut short (24-hour halls).
    pub cut_at_close: u64,
    /// Turned away at the kiosk by the hall's own rules (daily cap, last
    /// ticket before closing).
    pub turned_away: u64,
    pub mean_wait_s: f64,
    pub p90_wait_s: f64,
    pub max_wait_s: f64,
    /// Share of citizens (served or sent home) who waited at most their
    /// category's wait target.
    pub within_target: f64,
    pub window_hours_per_day: f64,
    /// Share of staffed window time with no ticket at the window.
    pub idle_share: f64,
    pub mean_waiting: f64,
    pub failovers_per_day: f64,
    pub handovers_per_day: f64,
    pub tidal_opens_per_day: f64,
    pub tidal_closes_per_day: f64,
    pub refused: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub first_refusals: Vec<String>,
    pub commands: u64,
    pub core_events: u64,
    pub sim_events: u64,
    /// Per slot of the day, averaged over days: waiting citizens and staffed windows.
    pub series: Series,
}

#[derive(Clone, Debug, Serialize)]
pub struct Series {
    /// Slot starts, "HH:MM".
    pub at: Vec<String>,
    pub waiting: Vec<f64>,
    pub windows: Vec<f64>,
    /// Windows the schedule asked for (`plan`, `bound`); empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub planned: Vec<f64>,
}

fn percentile(sorted: &[f32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1])
}

impl PolicyReport {
    /// Summarises a tally; `open_min` is the profile's opening minute and
    /// `slot_min` the slot length, for the series labels.
    pub fn from_tally(policy: Policy, mut t: Tally, open_min: u16, slot_min: u32) -> PolicyReport {
        let days = t.days.max(1);
        let per_day = |x: u64| x as f64 / f64::from(days);
        t.waits.sort_unstable_by(f32::total_cmp);
        let n = t.waits.len();
        let mean = if n > 0 {
            t.waits.iter().map(|&w| f64::from(w)).sum::<f64>() / n as f64
        } else {
            0.0
        };
        let slot_ms = f64::from(slot_min) * 60_000.0;
        let norm = slot_ms * f64::from(days);
        // Trim trailing slots where nothing was staffed on any day.
        let used = t
            .slot_staffed
            .iter()
            .rposition(|&s| s > 0.0)
            .map_or(0, |i| i + 1);
        let at = (0..used)
            .map(|i| {
                let m = u32::from(open_min) + i as u32 * slot_min;
                format!("{:02}:{:02}", m / 60, m % 60)
            })
            .collect();
        let series = Series {
            at,
            waiting: t.slot_waiting[..used].iter().map(|v| v / norm).collect(),
            windows: t.slot_staffed[..used].iter().map(|v| v / norm).collect(),
            planned: if t.slot_planned.iter().any(|&v| v > 0.0) {
                t.slot_planned[..used].iter().map(|v| v / norm).collect()
            } else {
                Vec::new()
            },
        };
        let day_ms = t.slot_staffed.len() as f64 * slot_ms;
        PolicyReport {
            policy,
            days: t.days,
            tickets_per_day: per_day(t.issued),
            served: t.served,
            no_shows: t.no_shows,
            requeued: t.requeued,
            cancelled: t.cancelled,
            holds: t.holds,
            holds_called_back: t.holds_called_back,
            holds_expired: t.holds_expired,
            unserved: t.expired,
            cut_at_close: t.cut_at_close,
            turned_away: t.turned_away,
            mean_wait_s: mean,
            p90_wait_s: percentile(&t.waits, 0.9),
            max_wait_s: t.waits.last().map_or(0.0, |&w| f64::from(w)),
            within_target: if n > 0 {
                t.within_target as f64 / n as f64
            } else {
                1.0
            },
            window_hours_per_day: t.staffed_ms / 3_600_000.0 / f64::from(days),
            idle_share: if t.staffed_ms > 0.0 {
                t.idle_ms / t.staffed_ms
            } else {
                0.0
            },
            mean_waiting: if day_ms > 0.0 {
                t.waiting_ms / day_ms / f64::from(days)
            } else {
                0.0
            },
            failovers_per_day: per_day(t.failovers),
            handovers_per_day: per_day(t.handovers),
            tidal_opens_per_day: per_day(t.tidal_opens),
            tidal_closes_per_day: per_day(t.tidal_closes),
            refused: t.refused,
            first_refusals: t.first_refusals,
            commands: t.commands,
            core_events: t.core_events,
            sim_events: t.sim_events,
            series,
        }
    }
}

/// The whole run, as `--json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub hall: String,
    pub hall_name: String,
    pub profile: String,
    pub expected_tickets_per_day: f64,
    pub days: u32,
    pub seed: u64,
    pub tidal: hallcall_core::config::TidalPolicy,
    /// `specialist`: window → categories.
    pub specialist_split: Vec<(u32, Vec<String>)>,
    pub policies: Vec<PolicyReport>,
    pub timing: Timing,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Timing {
    pub wall_s: f64,
    pub threads: usize,
    pub commands: u64,
    pub core_events: u64,
    pub sim_events: u64,
    pub core_events_per_s: f64,
    pub commands_per_s: f64,
}

fn min(s: f64) -> String {
    format!("{:.1}", s / 60.0)
}

impl Report {
    /// The terminal table.
    pub fn table(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "hall {} ({}), profile {} (~{:.0} tickets/day), {} day{}, seed {}",
            self.hall,
            self.hall_name,
            self.profile,
            self.expected_tickets_per_day,
            self.days,
            if self.days == 1 { "" } else { "s" },
            self.seed
        );
        let _ = writeln!(
            o,
            "tidal thresholds: open when est. wait > {} s or > {} waiting/window for {} s; close below {}/window for {} s",
            self.tidal.open_wait_s,
            self.tidal.open_per_window,
            self.tidal.sustain_s,
            self.tidal.close_per_window,
            5 * self.tidal.sustain_s
        );
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "{:<12} {:>8} {:>7} {:>7} {:>8} {:>9} {:>6} {:>9} {:>9} {:>7} {:>8}",
            "policy",
            "tickets",
            "mean",
            "p90",
            "max",
            "≤target",
            "win-h",
            "idle",
            "failover",
            "handover",
            "unserved"
        );
        let _ = writeln!(
            o,
            "{:<12} {:>8} {:>7} {:>7} {:>8} {:>9} {:>6} {:>9} {:>9} {:>7} {:>8}",
            "", "/day", "min", "min", "min", "", "/day", "", "/day", "/day", "total"
        );
        for p in &self.policies {
            let _ = writeln!(
                o,
                "{:<12} {:>8.0} {:>7} {:>7} {:>8} {:>8.1}% {:>6.1} {:>8.1}% {:>9.1} {:>7.1} {:>8}",
                p.policy.name(),
                p.tickets_per_day,
                min(p.mean_wait_s),
                min(p.p90_wait_s),
                min(p.max_wait_s),
                p.within_target * 100.0,
                p.window_hours_per_day,
                p.idle_share * 100.0,
                p.failovers_per_day,
                p.handovers_per_day,
                p.unserved
            );
        }
        let find = |pol: Policy| self.policies.iter().find(|p| p.policy == pol);
        let _ = writeln!(o);
        if let (Some(all), Some(t)) = (find(Policy::StaticAll), find(Policy::Tidal)) {
            let saving = 1.0 - t.window_hours_per_day / all.window_hours_per_day.max(1e-9);
            let _ = writeln!(
                o,
                "tidal vs static-all: {:.1}% fewer window-hours, p90 wait {} min (target {} min: {}), tidal windows opened {:.1}×/day",
                saving * 100.0,
                min(t.p90_wait_s),
                min(1200.0),
                if t.p90_wait_s <= 1200.0 { "met" } else { "missed" },
                t.tidal_opens_per_day
            );
        }
        if let Some(all) = find(Policy::StaticAll) {
            for pol in [Policy::Plan, Policy::Bound] {
                let Some(p) = find(pol) else {
                    continue;
                };
                let saving = 1.0 - p.window_hours_per_day / all.window_hours_per_day.max(1e-9);
                let _ = writeln!(
                    o,
                    "{} vs static-all: {:.1}% fewer window-hours, p90 wait {} min (target {} min: {})",
                    pol.name(),
                    saving * 100.0,
                    min(p.p90_wait_s),
                    min(1200.0),
                    if p.p90_wait_s <= 1200.0 { "met" } else { "missed" },
                );
            }
        }
        if let Some(b) = find(Policy::Bound) {
            for pol in [Policy::Tidal, Policy::Plan] {
                if let Some(p) = find(pol) {
                    let _ = writeln!(
                        o,
                        "{} vs bound: {:+.1}% window-hours ({:.1} vs {:.1}/day), p90 {} vs {} min",
                        pol.name(),
                        (p.window_hours_per_day / b.window_hours_per_day.max(1e-9) - 1.0) * 100.0,
                        p.window_hours_per_day,
                        b.window_hours_per_day,
                        min(p.p90_wait_s),
                        min(b.p90_wait_s)
                    );
                }
            }
        }
        if let (Some(all), Some(s)) = (find(Policy::StaticAll), find(Policy::Specialist)) {
            let cut = 1.0 - all.mean_wait_s / s.mean_wait_s.max(1e-9);
            let _ = writeln!(
                o,
                "pooling (static-all) vs specialist, same windows: mean wait {} vs {} min ({:+.1}%)",
                min(all.mean_wait_s),
                min(s.mean_wait_s),
                -cut * 100.0
            );
        }
        if !self.specialist_split.is_empty() {
            let split: Vec<String> = self
                .specialist_split
                .iter()
                .map(|(w, c)| format!("{w}:{}", c.join("+")))
                .collect();
            let _ = writeln!(o, "specialist split: {}", split.join(" "));
        }
        for p in self.policies.iter().filter(|p| p.refused > 0) {
            let _ = writeln!(
                o,
                "note: the core refused {} command(s) under {} (first: {})",
                p.refused,
                p.policy.name(),
                p.first_refusals.join("; ")
            );
        }
        for p in self.policies.iter().filter(|p| p.turned_away > 0) {
            let _ = writeln!(
                o,
                "note: under {}, the kiosk turned {} citizen(s) away (the hall's daily cap or last ticket before closing)",
                p.policy.name(),
                p.turned_away
            );
        }
        for p in self
            .policies
            .iter()
            .filter(|p| p.cancelled > 0 || p.holds > 0)
        {
            let days = f64::from(p.days.max(1));
            let _ = writeln!(
                o,
                "{}: {} cancelled (不排了, {:.1}/day); {} held (挂起, {:.1}/day), {} called back, {} no-show after the hold",
                p.policy.name(),
                p.cancelled,
                p.cancelled as f64 / days,
                p.holds,
                p.holds as f64 / days,
                p.holds_called_back,
                p.holds_expired
            );
        }
        for p in self.policies.iter().filter(|p| p.cut_at_close > 0) {
            let _ = writeln!(
                o,
                "note: under {}, {} service(s) still running a moment before the hall's day close were cut short there",
                p.policy.name(),
                p.cut_at_close
            );
        }
        for n in &self.notes {
            let _ = writeln!(o, "note: {n}");
        }
        let t = &self.timing;
        let _ = writeln!(
            o,
            "ran {} commands → {} core events in {:.3} s on {} thread{} ({:.2} M core events/s, {:.2} M commands/s)",
            t.commands,
            t.core_events,
            t.wall_s,
            t.threads,
            if t.threads == 1 { "" } else { "s" },
            t.core_events_per_s / 1e6,
            t.commands_per_s / 1e6
        );
        o
    }
}
