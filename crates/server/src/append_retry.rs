//! What a hall does while its appends fail (a full disk, a lost database):
//! the hall task's failure path, kept out of the task's main loop.
//!
//! A refused command must leave no trace: not in the state, the snapshot, the
//! stream, a `since=` catch-up, a ticket number or a seq. So on a failed
//! append the hall goes back to its last durable state — the snapshot the
//! task published after its last durable batch, a frozen copy of the `Hall`,
//! so nothing is read from a store that just failed — and every caller of the
//! batch gets `storage_failed` (503). Until the store writes again the hall
//! decides nothing (commands are refused at once, timers wait); it retries by
//! itself, with a backoff, by recovering the hall from the store, which the
//! store allows only once a write has succeeded again. `/healthz` answers
//! 503 with the reason meanwhile, and `hallcall_append_failures_total`
//! counts the failed appends.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::metrics::HallMetrics;

/// First and longest waits between two attempts to resume.
const BACKOFF_MIN: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Why a hall's appends fail, shared with `/healthz`; `None` while healthy.
pub type AppendFailure = Arc<Mutex<Option<String>>>;

/// The failure state of one hall's appends.
pub(crate) struct AppendRetry {
    shared: AppendFailure,
    metrics: Arc<HallMetrics>,
    failing: Option<Failing>,
}

struct Failing {
    reason: String,
    backoff: Duration,
    next_try: Instant,
}

impl AppendRetry {
    pub fn new(shared: AppendFailure, metrics: Arc<HallMetrics>) -> AppendRetry {
        AppendRetry {
            shared,
            metrics,
            failing: None,
        }
    }

    /// An append failed (or a resume attempt did): count it, say why, and
    /// wait longer before the next attempt.
    pub fn failed(&mut self, reason: String) {
        self.metrics.append_failures.fetch_add(1, Ordering::Relaxed);
        let backoff = match &self.failing {
            None => BACKOFF_MIN,
            Some(f) => (f.backoff * 2).min(BACKOFF_MAX),
        };
        if let Ok(mut s) = self.shared.lock() {
            *s = Some(reason.clone());
        }
        self.failing = Some(Failing {
            reason,
            backoff,
            next_try: Instant::now() + backoff,
        });
    }

    /// A resume attempt failed without a new append failing: wait longer.
    pub fn still_failing(&mut self, reason: String) {
        if let Some(f) = &mut self.failing {
            f.backoff = (f.backoff * 2).min(BACKOFF_MAX);
            f.next_try = Instant::now() + f.backoff;
            f.reason = reason.clone();
        }
        if let Ok(mut s) = self.shared.lock() {
            *s = Some(reason);
        }
    }

    /// The hall was recovered from the store: appends may go again.
    pub fn resumed(&mut self) {
        self.failing = None;
        if let Ok(mut s) = self.shared.lock() {
            *s = None;
        }
    }

    /// Why appends fail, while they do.
    pub fn reason(&self) -> Option<&str> {
        self.failing.as_ref().map(|f| f.reason.as_str())
    }

    /// Whether to try resuming now: the backoff has passed, or the store
    /// says it writes again (`store_writes`), so a hall recovers as soon as
    /// space returns instead of at its next backoff step.
    pub fn due(&self, store_writes: bool) -> bool {
        self.failing
            .as_ref()
            .is_some_and(|f| store_writes || Instant::now() >= f.next_try)
    }

    /// How long the task may sleep before it should try resuming.
    pub fn until_retry(&self) -> Option<Duration> {
        self.failing
            .as_ref()
            .map(|f| f.next_try.saturating_duration_since(Instant::now()))
    }
}
