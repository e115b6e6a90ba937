//! How often anyone may do something: fixed-window counters for the public
//! and kiosk writes and for failed logins per address, and the per-staff PIN
//! lockout. Every refusal says which limit it was and when to come back
//! ([`Limited`]), which the HTTP edge turns into `429` with `Retry-After`.
//!
//! The values are the constants below; SECURITY.md lists them with their
//! reasons. All state is in memory: a restart forgets the counters (and the
//! lockouts), which an attacker cannot cause from outside.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// Failed PINs of one staff id (from any address) before it is locked.
pub const STAFF_FAILURES_BEFORE_LOCK: u32 = 5;
/// How long a staff id stays locked after too many failed PINs.
pub const STAFF_LOCK: Duration = Duration::from_secs(5 * 60);
/// Failures older than this (without a new one) are forgotten.
pub const STAFF_FAILURE_MEMORY: Duration = Duration::from_secs(15 * 60);
/// Failed logins from one client address per minute before it is slowed
/// down (429 for the rest of the minute; no staff id is locked by it).
pub const FAILED_LOGINS_PER_ADDRESS_PER_MINUTE: u32 = 10;
/// Bookings per phone number (kept only as a keyed hash) per 24 hours.
pub const BOOKINGS_PER_PHONE_PER_DAY: u32 = 3;
/// Booking attempts per client address per 10 minutes.
pub const BOOKINGS_PER_ADDRESS_PER_10_MIN: u32 = 10;
/// Bookings per hall per minute, whoever makes them.
pub const BOOKINGS_PER_HALL_PER_MINUTE: u32 = 30;
/// Tickets issued per kiosk token per minute (a printer needs seconds per ticket).
pub const ISSUES_PER_KIOSK_PER_MINUTE: u32 = 60;
/// argon2 checks allowed at once (19 MiB and tens of milliseconds each).
pub const PIN_CHECKS_AT_ONCE: usize = 2;

const MINUTE: Duration = Duration::from_secs(60);

/// Which limit refused a request; its `code` names it in the error body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    LoginFailuresPerAddress,
    LoginFailuresPerStaff,
    BookingsPerPhone,
    BookingsPerAddress,
    BookingsPerHall,
    IssuesPerKiosk,
}

impl Limit {
    /// The `limit` field of the 429 body.
    pub fn code(self) -> &'static str {
        match self {
            Limit::LoginFailuresPerAddress => "login_failures_per_address",
            Limit::LoginFailuresPerStaff => "login_failures_per_staff",
            Limit::BookingsPerPhone => "bookings_per_phone",
            Limit::BookingsPerAddress => "bookings_per_address",
            Limit::BookingsPerHall => "bookings_per_hall",
            Limit::IssuesPerKiosk => "issues_per_kiosk",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Limit::LoginFailuresPerAddress => {
                "too many failed logins from this address; wait and try again"
            }
            Limit::LoginFailuresPerStaff => {
                "this staff id is locked after too many wrong PINs; wait, or ask the supervisor to unlock it"
            }
            Limit::BookingsPerPhone => "this phone number has booked too often today",
            Limit::BookingsPerAddress => "too many bookings from this address; try again later",
            Limit::BookingsPerHall => "the hall takes no more bookings this minute; try again shortly",
            Limit::IssuesPerKiosk => "this kiosk issues tickets too fast; try again shortly",
        }
    }
}

/// A refusal: which limit, and after how many seconds to try again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limited {
    pub limit: Limit,
    pub retry_after_s: u64,
}

fn secs_until(now: Instant, end: Instant) -> u64 {
    let d = end.saturating_duration_since(now);
    (d.as_millis().div_ceil(1000) as u64).max(1)
}

/// Counts per key over fixed windows of `period`.
pub struct FixedWindow<K> {
    map: Mutex<HashMap<K, (Instant, u32)>>,
    limit: u32,
    period: Duration,
    what: Limit,
}

/// Keys kept before expired windows are swept out.
const SWEEP_AT: usize = 10_000;

impl<K: Hash + Eq + Clone> FixedWindow<K> {
    pub fn new(limit: u32, period: Duration, what: Limit) -> Self {
        FixedWindow {
            map: Mutex::default(),
            limit,
            period,
            what,
        }
    }

    fn with<R>(&self, key: &K, f: impl FnOnce(&mut (Instant, u32), Instant) -> R) -> R {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if m.len() > SWEEP_AT {
            let period = self.period;
            m.retain(|_, (t, _)| now.duration_since(*t) < period);
        }
        let e = m.entry(key.clone()).or_insert((now, 0));
        if now.duration_since(e.0) >= self.period {
            *e = (now, 0);
        }
        f(e, now)
    }

    fn refusal(&self, start: Instant, now: Instant) -> Limited {
        Limited {
            limit: self.what,
            retry_after_s: secs_until(now, start + self.period),
        }
    }

    /// Counts this call; refused (and not counted) once the key is at its limit.
    pub fn hit(&self, key: &K) -> Result<(), Limited> {
        self.with(key, |e, now| {
            if e.1 >= self.limit {
                return Err(self.refusal(e.0, now));
            }
            e.1 += 1;
            Ok(())
        })
    }

    /// Whether the key is still under its limit, without counting.
    pub fn check(&self, key: &K) -> Result<(), Limited> {
        self.with(key, |e, now| {
            if e.1 >= self.limit {
                Err(self.refusal(e.0, now))
            } else {
                Ok(())
            }
        })
    }

    /// Counts without checking (e.g. a failure after the check).
    pub fn bump(&self, key: &K) {
        self.with(key, |e, _| e.1 = e.1.saturating_add(1));
    }

    /// Gives back a [`hit`](Self::hit) whose action was refused for another reason.
    pub fn refund(&self, key: &K) {
        self.with(key, |e, _| e.1 = e.1.saturating_sub(1));
    }
}

/// One staff id's failed PINs.
#[derive(Clone, Debug)]
struct StaffFailures {
    /// Attempts counted so far (including ones whose check is running).
    failures: u32,
    last: Instant,
    locked_until: Option<Instant>,
    locked_at: Option<SystemTime>,
}

/// A locked staff id, for the supervisor.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct LockInfo {
    pub staff: String,
    pub failures: u32,
    /// Seconds until the lock ends by itself.
    pub remaining_s: u64,
    /// When it was locked, RFC 3339.
    pub locked_at: String,
}

/// The per-staff PIN lockout, counted across all client addresses. An
/// attempt is counted *before* its hash is checked, under one lock, so any
/// number of parallel attempts gets at most [`STAFF_FAILURES_BEFORE_LOCK`]
/// checks.
#[derive(Default)]
pub struct StaffLocks {
    map: Mutex<HashMap<(String, String), StaffFailures>>,
}

/// What [`StaffLocks::reserve`] decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Reserve {
    /// Check the PIN.
    Check,
    /// Refused; `newly` when this attempt is the one that locked the id.
    Locked { retry_after_s: u64, newly: bool },
}

impl StaffLocks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), StaffFailures>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts an attempt for `staff` before its PIN is checked.
    pub fn reserve(&self, hall: &str, staff: &str) -> Reserve {
        let now = Instant::now();
        let mut m = self.lock();
        if m.len() > SWEEP_AT {
            m.retain(|_, f| {
                f.locked_until.is_some_and(|u| u > now)
                    || now.duration_since(f.last) < STAFF_FAILURE_MEMORY
            });
        }
        let e = m
            .entry((hall.to_string(), staff.to_string()))
            .or_insert(StaffFailures {
                failures: 0,
                last: now,
                locked_until: None,
                locked_at: None,
            });
        match e.locked_until {
            Some(until) if until > now => {
                return Reserve::Locked {
                    retry_after_s: secs_until(now, until),
                    newly: false,
                }
            }
            Some(_) => {
                e.failures = 0;
                e.locked_until = None;
                e.locked_at = None;
            }
            None if now.duration_since(e.last) >= STAFF_FAILURE_MEMORY => e.failures = 0,
            None => {}
        }
        e.last = now;
        if e.failures >= STAFF_FAILURES_BEFORE_LOCK {
            let until = now + STAFF_LOCK;
            e.locked_until = Some(until);
            e.locked_at = Some(SystemTime::now());
            return Reserve::Locked {
                retry_after_s: secs_until(now, until),
                newly: true,
            };
        }
        e.failures += 1;
        Reserve::Check
    }

    /// The checked PIN was wrong (already counted by `reserve`). True when
    /// this failure locked the id.
    pub fn failed(&self, hall: &str, staff: &str) -> bool {
        let now = Instant::now();
        let mut m = self.lock();
        let Some(e) = m.get_mut(&(hall.to_string(), staff.to_string())) else {
            return false;
        };
        e.last = now;
        if e.failures >= STAFF_FAILURES_BEFORE_LOCK && e.locked_until.is_none() {
            e.locked_until = Some(now + STAFF_LOCK);
            e.locked_at = Some(SystemTime::now());
            return true;
        }
        false
    }

    /// The PIN was right: the failures are forgotten (a lock set meanwhile
    /// by parallel attempts stays until it ends or is lifted).
    pub fn succeeded(&self, hall: &str, staff: &str) {
        let mut m = self.lock();
        let key = (hall.to_string(), staff.to_string());
        if let Some(e) = m.get_mut(&key) {
            if e.locked_until.is_none() {
                m.remove(&key);
            } else {
                e.failures = 0;
            }
        }
    }

    /// Lifts a lock (the supervisor's unlock); false when it was not locked.
    pub fn unlock(&self, hall: &str, staff: &str) -> bool {
        let now = Instant::now();
        let mut m = self.lock();
        let key = (hall.to_string(), staff.to_string());
        let locked = m
            .get(&key)
            .and_then(|e| e.locked_until)
            .is_some_and(|u| u > now);
        if locked {
            m.remove(&key);
        }
        locked
    }

    /// The staff ids of a hall that are locked now.
    pub fn locked(&self, hall: &str) -> Vec<LockInfo> {
        let now = Instant::now();
        let m = self.lock();
        let mut v: Vec<LockInfo> = m
            .iter()
            .filter(|((h, _), _)| h == hall)
            .filter_map(|((_, s), e)| {
                let until = e.locked_until.filter(|u| *u > now)?;
                let at: chrono::DateTime<chrono::Utc> = e.locked_at?.into();
                Some(LockInfo {
                    staff: s.clone(),
                    failures: e.failures,
                    remaining_s: secs_until(now, until),
                    locked_at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                })
            })
            .collect();
        v.sort_by(|a, b| a.staff.cmp(&b.staff));
        v
    }
}

/// Security counters per hall for `/metrics`.
#[derive(Default)]
pub struct SecurityCounters {
    map: Mutex<BTreeMap<(String, &'static str), u64>>,
}

/// The counters' names and help lines.
pub const COUNTERS: [(&str, &str); 5] = [
    (
        "pin_checks",
        "PIN hash verifications against a staff member's hash",
    ),
    (
        "pin_dummy_checks",
        "PIN hash verifications against the dummy hash (unknown staff id)",
    ),
    (
        "staff_lockouts",
        "staff ids locked after too many wrong PINs",
    ),
    (
        "login_refused_locked",
        "logins refused because the staff id is locked",
    ),
    ("rate_limited", "requests refused with 429 by any limit"),
];

impl SecurityCounters {
    pub fn add(&self, hall: &str, name: &'static str) {
        let mut m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry((hall.to_string(), name)).or_default() += 1;
    }

    /// Prometheus text for the halls in `halls`.
    pub fn render<'a>(&self, halls: impl Iterator<Item = &'a String> + Clone, out: &mut String) {
        use std::fmt::Write;
        let m = self.map.lock().unwrap_or_else(|p| p.into_inner());
        for (name, help) in COUNTERS {
            let _ = writeln!(out, "# HELP hallcall_{name}_total {help}");
            let _ = writeln!(out, "# TYPE hallcall_{name}_total counter");
            for h in halls.clone() {
                let n = m.get(&(h.clone(), name)).copied().unwrap_or(0);
                let _ = writeln!(out, "hallcall_{name}_total{{hall=\"{h}\"}} {n}");
            }
        }
    }
}

/// Every limiter of the server, and the PIN-check pool.
pub struct RateLimits {
    pub login_failures: FixedWindow<std::net::IpAddr>,
    pub staff: StaffLocks,
    pub booking_phone: FixedWindow<(String, String)>,
    pub booking_address: FixedWindow<std::net::IpAddr>,
    pub booking_hall: FixedWindow<String>,
    pub issue_kiosk: FixedWindow<(String, String)>,
    pub pin_checks: tokio::sync::Semaphore,
    pub counters: SecurityCounters,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            login_failures: FixedWindow::new(
                FAILED_LOGINS_PER_ADDRESS_PER_MINUTE,
                MINUTE,
                Limit::LoginFailuresPerAddress,
            ),
            staff: StaffLocks::default(),
            booking_phone: FixedWindow::new(
                BOOKINGS_PER_PHONE_PER_DAY,
                24 * 60 * MINUTE,
                Limit::BookingsPerPhone,
            ),
            booking_address: FixedWindow::new(
                BOOKINGS_PER_ADDRESS_PER_10_MIN,
                10 * MINUTE,
                Limit::BookingsPerAddress,
            ),
            booking_hall: FixedWindow::new(
                BOOKINGS_PER_HALL_PER_MINUTE,
                MINUTE,
                Limit::BookingsPerHall,
            ),
            issue_kiosk: FixedWindow::new(
                ISSUES_PER_KIOSK_PER_MINUTE,
                MINUTE,
                Limit::IssuesPerKiosk,
            ),
            pin_checks: tokio::sync::Semaphore::new(PIN_CHECKS_AT_ONCE),
            counters: SecurityCounters::default(),
        }
    }
}

impl RateLimits {
    /// The defaults, with another per-kiosk issuing rate (0: unlimited).
    pub fn with_kiosk_issues_per_minute(n: u32) -> Self {
        RateLimits {
            issue_kiosk: FixedWindow::new(
                if n == 0 { u32::MAX } else { n },
                MINUTE,
                Limit::IssuesPerKiosk,
            ),
            ..RateLimits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_window_refuses_past_its_limit_and_says_when_to_return() {
        let w = FixedWindow::new(3, MINUTE, Limit::BookingsPerHall);
        let k = "demo".to_string();
        for _ in 0..3 {
            assert!(w.hit(&k).is_ok());
        }
        let r = w.hit(&k).expect_err("fourth");
        assert_eq!(r.limit, Limit::BookingsPerHall);
        assert!((1..=60).contains(&r.retry_after_s), "{r:?}");
        w.refund(&k);
        assert!(w.hit(&k).is_ok(), "a refunded hit frees its place");
        assert!(w.hit(&"other".to_string()).is_ok(), "keys are separate");
    }

    #[test]
    fn a_staff_id_locks_after_five_counted_attempts_and_unlocks() {
        let l = StaffLocks::default();
        for _ in 0..STAFF_FAILURES_BEFORE_LOCK {
            assert_eq!(l.reserve("h", "s07"), Reserve::Check);
        }
        // Five checks are running; the sixth is refused before any check.
        match l.reserve("h", "s07") {
            Reserve::Locked {
                newly,
                retry_after_s,
            } => {
                assert!(newly);
                assert!(retry_after_s > 290 && retry_after_s <= 300);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            l.reserve("h", "s07"),
            Reserve::Locked { newly: false, .. }
        ));
        assert_eq!(
            l.reserve("h", "s08"),
            Reserve::Check,
            "other staff unaffected"
        );
        assert_eq!(l.locked("h").len(), 1);
        assert!(l.unlock("h", "s07"));
        assert!(!l.unlock("h", "s07"));
        assert_eq!(l.reserve("h", "s07"), Reserve::Check);
    }

    #[test]
    fn the_fifth_failure_locks_and_a_success_forgets_failures() {
        let l = StaffLocks::default();
        for _ in 0..4 {
            assert_eq!(l.reserve("h", "s01"), Reserve::Check);
            assert!(!l.failed("h", "s01"));
        }
        l.succeeded("h", "s01");
        for i in 0..STAFF_FAILURES_BEFORE_LOCK {
            assert_eq!(l.reserve("h", "s01"), Reserve::Check);
            assert_eq!(l.failed("h", "s01"), i + 1 == STAFF_FAILURES_BEFORE_LOCK);
        }
        assert!(matches!(
            l.reserve("h", "s01"),
            Reserve::Locked { newly: false, .. }
        ));
    }
}
