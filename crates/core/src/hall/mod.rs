//! The hall state machine, one module per rule. [`Hall::handle`] decides: it
//! checks a command against the rules and turns it into events, applying each
//! as it goes so a later decision in the same command sees the earlier ones.
//! [`Hall::apply`] changes state and is the only thing that does: live
//! commands, crash replay and the simulator all go through it, so they cannot
//! disagree.
//!
//! | module | rule (decide and apply) |
//! |---|---|
//! | `handle` | the thin dispatch of commands, the [`handle::Ctx`] every rule emits through |
//! | `apply` | the thin dispatch of events, and what follows every event |
//! | `calling` | the call order, call-next, recall, no-show, start, complete, transfer, requeue |
//! | `staffing` | AB posts, login/logout, pause/resume, handover, open/close, failover |
//! | `tickets` | numbering, issue, appointments, cancel |
//! | `ticket_book` | the day's tickets, by serial and by id, shared with snapshots |
//! | `rating` | 好差评: the five levels, reasons for 差评, their warning and follow-up |
//! | `tidal` | the tidal policy, its advice, load and estimates |
//! | `warnings` | red/yellow service-time and wait warnings |
//! | `day` | opening hours, the business day's roll and close |
//! | `reload` | configuration reload |
//! | `timers` | the deadline: `poll_timeout` / `handle_timeout` |
//! | `query` | read-only questions: ticket status, a window's queue |
//! | `call_number` | 指定叫号: calling a given number, out of order or back from hold |
//! | `hold` | 挂起: parking the ticket being served, its deadline |
//! | `chain` | 多窗联办: completing and sending the ticket on to the next category |
//! | `near_turn` | 即将到号: `ticket_near_turn` once a ticket is near its turn |
//! | `notices` | the hall display's scrolling notices |
//! | `admin` | 后台管理: a supervisor's edit of staff, windows, categories, decided like a reload |

pub mod admin;
mod apply;
mod booking;
mod call_number;
mod calling;
mod chain;
mod day;
pub(crate) mod handle;
mod hold;
mod near_turn;
mod notices;
mod query;
mod rating;
mod reload;
mod staffing;
#[cfg(test)]
pub(crate) mod testing;
mod ticket_book;
mod tickets;
mod tidal;
mod timers;
mod warnings;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

/// Hash maps keyed by small ids: FxHash (rustc-hash) instead of SipHash,
/// since keys come from the hall itself, and lookups sit on every command.
pub(crate) type Map<K, V> = HashMap<K, V, rustc_hash::FxBuildHasher>;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::{HallConfig, WindowKind};
use crate::model::{Duty, Ticket, Window, WindowState};
use crate::time::Millis;

pub use booking::{SlotInfo, NO_SHOW_WINDOW};
pub use hold::Hold;
pub use notices::Notice;
pub use query::{NextStep, QueueEntry, TicketStatus};
pub use rating::{
    BadRating, FollowUp, FollowUpStatus, RatingReason, ReasonCode, MAX_HANDLER_CHARS,
    MAX_NOTE_CHARS, MAX_REASON_CHARS,
};
pub use tickets::CHECK_IN_GRACE;
pub use tidal::Load;

/// Position in a queue: the fixed call-order key, then issue order.
pub(crate) type QueueKey = (Millis, u64);

/// A booked appointment (预约).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Appointment {
    pub code: String,
    pub category: String,
    pub slot_start: Millis,
    pub used: bool,
    /// Salted hash of the booker's phone (no-show ban); none for bookings
    /// made before phones were asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Pending tidal advice for the supervisor (`advise` mode).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Advice {
    pub id: u64,
    pub action: crate::event::AdviceAction,
    pub window: u32,
    pub staff: Option<String>,
    #[serde(deserialize_with = "crate::reason::lenient")]
    pub reason: crate::reason::Reason,
    pub at: Millis,
}

/// A pending summons (opening a window): `staff` is asked to log in there
/// by `deadline`; the window stays closed until they do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summons {
    pub staff: String,
    pub post: crate::model::Post,
    pub tidal: bool,
    pub reason: crate::reason::Reason,
    pub at: Millis,
    pub deadline: Millis,
    /// Who was summoned here before and did not come.
    #[serde(default)]
    pub tried: Vec<String>,
}

/// A recent call, for the wall display's list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecentCall {
    pub seq: u64,
    pub at: Millis,
    pub number: String,
    pub category: String,
    pub window: u32,
    pub recall: bool,
}

/// Everything derived from the configuration alone: rebuilt, never persisted.
#[derive(Clone, Debug, PartialEq, Default)]
pub(crate) struct Layout {
    pub cat_index: Map<String, usize>,
    pub win_index: Map<u32, usize>,
    /// Whether any window is tidal: halls without one skip the tidal policy.
    pub has_tidal: bool,
    /// Per window: the categories it may ever serve (fallback: all).
    pub serves: Vec<u64>,
    pub all_categories: u64,
}

impl Layout {
    pub(crate) fn of(config: &HallConfig) -> Layout {
        let cat_index: Map<String, usize> = config
            .categories
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        let all = if config.categories.len() >= 64 {
            u64::MAX
        } else {
            (1u64 << config.categories.len()) - 1
        };
        let serves = config
            .windows
            .iter()
            .map(|w| {
                if w.categories.is_empty() {
                    all
                } else {
                    w.categories
                        .iter()
                        .filter_map(|c| cat_index.get(c))
                        .fold(0u64, |m, &i| m | (1 << i))
                }
            })
            .collect();
        Layout {
            win_index: config
                .windows
                .iter()
                .enumerate()
                .map(|(i, w)| (w.number, i))
                .collect(),
            has_tidal: config.windows.iter().any(|w| w.kind == WindowKind::Tidal),
            cat_index,
            serves,
            all_categories: all,
        }
    }
}

/// Who is where: derived from window seats, cached for O(1) login checks and
/// the "served by" coverage that fallback windows and estimates use.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct Coverage {
    /// Categories served by a staffed non-fallback window.
    pub covered: u64,
    /// Per category: staffed windows that may serve it now.
    pub eligible: Vec<u32>,
    /// Per category: categories that compete with it for the same windows.
    pub compete: Vec<u64>,
    /// Windows open, calling or serving.
    pub staffed: u32,
}

/// The state of one hall. Serializable: the store snapshots it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hall {
    pub(crate) config: HallConfig,
    pub(crate) id: Arc<str>,
    /// Sequence number of the last applied event.
    pub(crate) seq: u64,
    pub(crate) business_date: Option<chrono::NaiveDate>,
    /// When the current business day ends; `Millis::MIN` when no day is open.
    pub(crate) next_close_at: Millis,
    /// Per prefix letter A..Z: the last number issued today.
    pub(crate) counters: Vec<u32>,
    pub(crate) next_serial: u64,
    /// The day's tickets and the index of their ids, shared with the
    /// server's read snapshots rather than copied into each (`ticket_book`).
    pub(crate) tickets: ticket_book::TicketBook,
    /// Per category: the pooled waiting tickets in call order.
    pub(crate) queues: Vec<BTreeSet<QueueKey>>,
    /// Per window: tickets transferred to that window, which go first there.
    pub(crate) directed: Vec<BTreeSet<QueueKey>>,
    /// Per category: waiting tickets, pooled or directed.
    pub(crate) waiting: Vec<u32>,
    /// Per category: (waiting-since, serial) in time order, for the wait
    /// warning. Entries of tickets no longer waiting are dropped lazily from
    /// the front (in `apply`), so taking a ticket out costs nothing here.
    pub(crate) wait_watch: Vec<VecDeque<QueueKey>>,
    /// Per category: moving average of handling time, seconds.
    pub(crate) avg_service_s: Vec<f64>,
    pub(crate) windows: Vec<Window>,
    pub(crate) staff_at: Map<String, (u32, Duty)>,
    pub(crate) appointments: Map<String, Appointment>,
    /// `"{category}@{slot_start}"` → bookings.
    pub(crate) slot_load: Map<String, u32>,
    /// Per phone hash: when each missed appointment's check-in closed
    /// (`booking::prune_appointments`), for the no-show ban.
    #[serde(default)]
    pub(crate) missed_appointments: booking::MissedAppointments,
    pub(crate) advice: BTreeMap<u64, Advice>,
    pub(crate) next_advice: u64,
    /// Per window number: the pending summons opening it.
    #[serde(default)]
    pub(crate) summons: BTreeMap<u32, Summons>,
    /// Tidal mode `plan`: windows wanted per half-hour after local midnight
    /// and the summoning lead, ms (`Command::SetStaffingPlan`).
    #[serde(default)]
    pub(crate) staffing_plan: Option<(Vec<u32>, Millis)>,
    /// Since when the tidal open condition holds (reset after acting).
    pub(crate) overload_since: Option<Millis>,
    /// Since when the tidal close condition holds (reset after acting).
    pub(crate) underload_since: Option<Millis>,
    pub(crate) recent_calls: VecDeque<RecentCall>,
    /// Per 10-minute bucket of the business day: the most tickets waiting.
    pub(crate) waiting_series: BTreeMap<Millis, u32>,
    /// Per ticket id: the 差评 (1 and 2) and their follow-up; they outlive
    /// the business day (`rating::BAD_RATING_KEEP`).
    #[serde(default)]
    pub(crate) bad_ratings: BTreeMap<String, BadRating>,
    /// Per half-hour of the business day: (most, last) windows open, for
    /// the dashboard's plan against what is staffed (tidal mode `plan`).
    #[serde(default)]
    pub(crate) staffed_series: BTreeMap<Millis, (u32, u32)>,
    /// Per ticket serial: the tickets on hold (挂起) and where.
    #[serde(default)]
    pub(crate) holds: BTreeMap<u64, Hold>,
    /// Per ticket serial: the time served before a hold, while the ticket
    /// is called back and not yet started again (its handling time goes on).
    #[serde(default)]
    pub(crate) resumed: BTreeMap<u64, Millis>,
    /// Per ticket serial: the category a ticket was sent on from (多窗联办).
    #[serde(default)]
    pub(crate) chained: BTreeMap<u64, String>,
    /// Tickets that got `ticket_near_turn` in their current wait.
    #[serde(default)]
    pub(crate) near_turn: BTreeSet<u64>,
    /// The hall display's notices by id.
    #[serde(default)]
    pub(crate) notices: BTreeMap<u64, Notice>,
    #[serde(default)]
    pub(crate) next_notice: u64,
    pub(crate) coverage: Coverage,
    #[serde(skip)]
    pub(crate) layout: Layout,
    #[serde(skip)]
    pub(crate) open_cache: OpenCache,
    /// A category whose wait watch needs trimming after the current event.
    #[serde(skip)]
    pub(crate) pending_trim: Option<usize>,
    #[serde(skip)]
    pub(crate) timers_checked: timers::Checked,
    /// When the 即将到号 scan is worth running (`near_turn::Scan`).
    #[serde(skip)]
    pub(crate) near_turn_scan: near_turn::Scan,
}

/// Whether the hall is open, valid until the next local minute: opening hours
/// change only on minute boundaries, and the time-zone lookup is the most
/// expensive part of issuing a ticket. Not state: equal whatever it holds.
#[derive(Clone, Debug, Default)]
pub(crate) struct OpenCache {
    pub valid_from: Millis,
    pub valid_until: Millis,
    pub open: bool,
    /// `Hall::closes_at` at the same minute.
    pub closes_at: Option<Millis>,
    /// Local milliseconds since the last local half hour at `valid_from`.
    pub half_hour_phase: Millis,
}

impl PartialEq for OpenCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// How many recent calls the wall display lists.
pub const RECENT_CALLS: usize = 10;
/// Weight of the newest handling time in the moving average.
pub const SERVICE_EWMA_ALPHA: f64 = 0.2;

impl Hall {
    /// A fresh hall: every window closed, no business day open yet (the first
    /// command opens one). Pass a validated configuration.
    pub fn new(config: HallConfig) -> Hall {
        let layout = Layout::of(&config);
        let k = config.categories.len();
        let windows = config
            .windows
            .iter()
            .map(|w| Window {
                number: w.number,
                state: WindowState::Closed,
                on_duty: None,
                standby: None,
                current: None,
                since: 0,
            })
            .collect::<Vec<_>>();
        let mut hall = Hall {
            id: Arc::from(config.id.as_str()),
            seq: 0,
            business_date: None,
            next_close_at: Millis::MIN,
            counters: vec![0; 26],
            next_serial: 1,
            tickets: Default::default(),
            queues: vec![BTreeSet::new(); k],
            directed: vec![BTreeSet::new(); windows.len()],
            waiting: vec![0; k],
            wait_watch: vec![VecDeque::new(); k],
            avg_service_s: config
                .categories
                .iter()
                .map(|c| c.expected_s as f64)
                .collect(),
            windows,
            staff_at: Map::default(),
            appointments: Map::default(),
            missed_appointments: Default::default(),
            slot_load: Map::default(),
            advice: BTreeMap::new(),
            next_advice: 1,
            summons: BTreeMap::new(),
            staffing_plan: None,
            overload_since: None,
            underload_since: None,
            recent_calls: VecDeque::new(),
            waiting_series: BTreeMap::new(),
            bad_ratings: BTreeMap::new(),
            staffed_series: BTreeMap::new(),
            holds: BTreeMap::new(),
            resumed: BTreeMap::new(),
            chained: BTreeMap::new(),
            near_turn: BTreeSet::new(),
            notices: BTreeMap::new(),
            next_notice: 0,
            coverage: Coverage::default(),
            layout,
            open_cache: OpenCache::default(),
            pending_trim: None,
            timers_checked: timers::Checked::default(),
            near_turn_scan: near_turn::Scan::default(),
            config,
        };
        hall.recompute_coverage();
        hall
    }

    /// Restores a hall from its serialized snapshot.
    pub fn from_snapshot(bytes: &[u8]) -> Result<Hall, serde_json::Error> {
        let mut hall: Hall = serde_json::from_slice(bytes)?;
        hall.layout = Layout::of(&hall.config);
        Ok(hall)
    }

    pub fn to_snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn config(&self) -> &HallConfig {
        &self.config
    }

    /// Sequence number of the last applied event.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    pub fn business_date(&self) -> Option<chrono::NaiveDate> {
        self.business_date
    }

    pub fn window(&self, number: u32) -> Option<&Window> {
        self.layout
            .win_index
            .get(&number)
            .map(|&i| &self.windows[i])
    }

    pub fn windows(&self) -> &[Window] {
        &self.windows
    }

    pub fn ticket(&self, id: &str) -> Option<&Ticket> {
        self.tickets
            .serial_of(id)
            .and_then(|s| self.tickets.get(&s))
    }

    pub fn tickets(&self) -> impl Iterator<Item = &Ticket> {
        self.tickets.values()
    }

    pub fn ticket_by_serial(&self, serial: u64) -> Option<&Ticket> {
        self.tickets.get(&serial)
    }

    /// Where a staff member is logged in, if anywhere.
    pub fn staff_location(&self, staff: &str) -> Option<(u32, Duty)> {
        self.staff_at.get(staff).copied()
    }

    pub fn pending_advice(&self) -> impl Iterator<Item = &Advice> {
        self.advice.values()
    }

    /// The pending summons opening `window`, if any.
    pub fn summons(&self, window: u32) -> Option<&Summons> {
        self.summons.get(&window)
    }

    pub fn waiting_total(&self) -> u32 {
        self.waiting.iter().sum()
    }

    pub fn waiting_in(&self, category: &str) -> Option<u32> {
        self.layout
            .cat_index
            .get(category)
            .map(|&c| self.waiting[c])
    }

    pub fn avg_service_s(&self, category: &str) -> Option<f64> {
        self.layout
            .cat_index
            .get(category)
            .map(|&c| self.avg_service_s[c])
    }

    pub fn recent_calls(&self) -> impl Iterator<Item = &RecentCall> {
        self.recent_calls.iter()
    }

    pub fn appointment(&self, code: &str) -> Option<&Appointment> {
        self.appointments.get(code)
    }

    pub(crate) fn kind_of(&self, w: usize) -> WindowKind {
        self.config.windows[w].kind
    }

    /// The categories window `w` may serve right now: its configured set, or
    /// for a fallback window the categories no staffed window serves.
    pub(crate) fn effective_serves(&self, w: usize) -> u64 {
        match self.kind_of(w) {
            WindowKind::Fallback => self.layout.all_categories & !self.coverage.covered,
            _ => self.layout.serves[w],
        }
    }

    /// Windows that are not closed.
    pub(crate) fn open_count(&self) -> u32 {
        self.windows
            .iter()
            .filter(|w| w.state != WindowState::Closed)
            .count() as u32
    }

    pub(crate) fn staffed_count(&self) -> u32 {
        self.coverage.staffed
    }

    /// Recomputes which categories are served where; called after any change
    /// of a window's state (rare compared to ticket events).
    pub(crate) fn recompute_coverage(&mut self) {
        let k = self.config.categories.len();
        let mut covered = 0u64;
        for (i, w) in self.windows.iter().enumerate() {
            if w.is_staffed() && self.kind_of(i) != WindowKind::Fallback {
                covered |= self.layout.serves[i];
            }
        }
        self.coverage.covered = covered;
        let mut eligible = vec![0u32; k];
        let mut compete = vec![0u64; k];
        for i in 0..self.windows.len() {
            if !self.windows[i].is_staffed() {
                continue;
            }
            let mask = self.effective_serves(i);
            for (c, (e, m)) in eligible.iter_mut().zip(compete.iter_mut()).enumerate() {
                if mask & (1 << c) != 0 {
                    *e += 1;
                    *m |= mask;
                }
            }
        }
        for (c, m) in compete.iter_mut().enumerate() {
            *m |= 1 << c;
        }
        self.coverage.staffed = self.windows.iter().filter(|w| w.is_staffed()).count() as u32;
        self.coverage.eligible = eligible;
        if self.coverage.compete != compete {
            self.near_turn_scan.moved();
        }
        self.coverage.compete = compete;
    }
}
