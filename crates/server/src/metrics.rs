//! Prometheus metrics in the text exposition format. A handful of counters,
//! gauges and one histogram per hall do not justify a metrics framework; they
//! are atomics written by the hall task and read by `/metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use hallcall_core::{Event, EventKind, Hall};

/// Upper bounds of the command latency histogram, seconds.
const BUCKETS: [f64; 10] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1.0];

#[derive(Default)]
pub struct HallMetrics {
    pub tickets_issued: AtomicU64,
    pub calls: AtomicU64,
    pub subscribers: AtomicU64,
    pub open_windows: AtomicU64,
    /// Messages the hall task received (commands: reads never enter it).
    pub hall_task_messages: AtomicU64,
    /// Appends the store refused (a full disk, …), and failed attempts to
    /// resume after one.
    pub append_failures: AtomicU64,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
    /// (category, waiting) as of the last batch.
    waiting: Mutex<Vec<(String, u32)>>,
}

impl HallMetrics {
    pub fn observe_event(&self, ev: &Event) {
        match ev.kind {
            EventKind::TicketIssued { .. } => {
                self.tickets_issued.fetch_add(1, Ordering::Relaxed);
            }
            EventKind::TicketCalled { .. } => {
                self.calls.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    pub fn observe_command(&self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn observe_state(&self, hall: &Hall) {
        let open = hall.windows().iter().filter(|w| w.is_staffed()).count() as u64;
        self.open_windows.store(open, Ordering::Relaxed);
        let waiting = hall
            .config()
            .categories
            .iter()
            .map(|c| (c.id.clone(), hall.waiting_in(&c.id).unwrap_or(0)))
            .collect();
        if let Ok(mut w) = self.waiting.lock() {
            *w = waiting;
        }
    }

    pub fn render(&self, hall: &str, out: &mut String) {
        let l = |name: &str| format!("{name}{{hall=\"{hall}\"}}");
        let _ = writeln!(
            out,
            "{} {}",
            l("hallcall_tickets_issued_total"),
            self.tickets_issued.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "{} {}",
            l("hallcall_calls_total"),
            self.calls.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "{} {}",
            l("hallcall_open_windows"),
            self.open_windows.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "{} {}",
            l("hallcall_subscribers"),
            self.subscribers.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "{} {}",
            l("hallcall_hall_task_messages_total"),
            self.hall_task_messages.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "{} {}",
            l("hallcall_append_failures_total"),
            self.append_failures.load(Ordering::Relaxed)
        );
        if let Ok(w) = self.waiting.lock() {
            for (cat, n) in w.iter() {
                let _ = writeln!(
                    out,
                    "hallcall_waiting{{hall=\"{hall}\",category=\"{cat}\"}} {n}"
                );
            }
        }
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "hallcall_command_seconds_bucket{{hall=\"{hall}\",le=\"{b}\"}} {}",
                self.latency_buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "hallcall_command_seconds_bucket{{hall=\"{hall}\",le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "hallcall_command_seconds_count{{hall=\"{hall}\"}} {count}"
        );
        let _ = writeln!(
            out,
            "hallcall_command_seconds_sum{{hall=\"{hall}\"}} {}",
            self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
    }
}

pub const HELP: &str = "\
# HELP hallcall_tickets_issued_total Tickets issued since start.
# TYPE hallcall_tickets_issued_total counter
# HELP hallcall_calls_total Calls (including recalls) since start.
# TYPE hallcall_calls_total counter
# HELP hallcall_open_windows Windows open, calling or serving.
# TYPE hallcall_open_windows gauge
# HELP hallcall_subscribers WebSocket subscribers connected.
# TYPE hallcall_subscribers gauge
# HELP hallcall_hall_task_messages_total Messages into the hall's single-writer task (commands only: reads are served from its snapshot).
# TYPE hallcall_hall_task_messages_total counter
# HELP hallcall_append_failures_total Appends the store could not make durable (full disk, lost database); each refused its whole batch.
# TYPE hallcall_append_failures_total counter
# HELP hallcall_snapshots_written_total Hall snapshot files written since start (sled store).
# TYPE hallcall_snapshots_written_total counter
# HELP hallcall_snapshot_failures_total Hall snapshot files that could not be written (sled store); nothing is lost, recovery replays more of the log.
# TYPE hallcall_snapshot_failures_total counter
# HELP hallcall_waiting Tickets waiting per category.
# TYPE hallcall_waiting gauge
# HELP hallcall_command_seconds Time from a batch's start to its durable acknowledgement.
# TYPE hallcall_command_seconds histogram
";
