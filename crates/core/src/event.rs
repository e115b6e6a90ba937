//! Events: what happened, in the SPEC's vocabulary. They are the log the store
//! persists, the stream displays subscribe to, and the only input of
//! [`crate::Hall::apply`].

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::HallConfig;
use crate::model::{Actor, Channel, Duty, Level, PauseReason, Post, Priority};
use crate::reason::Reason;
use crate::time::Millis;

mod json;

/// One event with its envelope: per-hall sequence number, time, hall and actor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    #[serde(with = "crate::time::rfc3339_ms")]
    pub at: Millis,
    pub hall: Arc<str>,
    pub by: Actor,
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    /// The `type` string of this event as it appears on the wire.
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdviceAction {
    Open,
    Close,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// Serving beyond 80 % (yellow) or 100 % (red) of the category's time limit.
    ServiceTime,
    /// Waiting beyond the category's wait target.
    Wait,
    /// A window stopped and its work moved elsewhere.
    Failover,
    /// A citizen rated 不满意 (yellow) or 非常不满意 (red): follow it up.
    BadRating,
}

/// How a summons ended without the clerk logging in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SummonsOutcome {
    Expired,
    Cancelled,
}

/// The open windows that now serve a category a stopped window served.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CategoryWindows {
    pub category: String,
    /// Never empty: a category without windows is `unserved` instead.
    pub windows: Vec<u32>,
}

/// The figures of a warning, by code; the pages word them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum WarningDetail {
    /// A 差评 with its `score` (1 or 2); the reason is not in the warning
    /// (warnings are public), the supervisor's 差评 list has it.
    BadRating { score: u8 },
    /// Serving for `elapsed_s` of a `limit_s` time limit.
    ServiceTime { elapsed_s: i64, limit_s: u32 },
    /// Waiting for `waited_s`, beyond the `target_s` wait target.
    Wait { waited_s: i64, target_s: u32 },
    /// A window stopped (`reason`): `tickets_moved` tickets transferred to
    /// it went back to the pool, `categories` it alone served moved to
    /// `to_windows`.
    Failover {
        reason: Reason,
        tickets_moved: u32,
        categories: Vec<String>,
        to_windows: Vec<u32>,
        /// Per category the window served: the open windows serving it now.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        serving: Vec<CategoryWindows>,
    },
    /// As `failover`, but the `unserved` categories have no open window at
    /// all: the supervisor must act now (red).
    FailoverUnserved {
        reason: Reason,
        tickets_moved: u32,
        categories: Vec<String>,
        to_windows: Vec<u32>,
        unserved: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        serving: Vec<CategoryWindows>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// The first event of a business day: numbering starts at 1 for every prefix.
    DayOpened {
        date: chrono::NaiveDate,
    },
    TicketIssued {
        ticket: String,
        number: String,
        category: String,
        priority: Priority,
        channel: Channel,
        /// Fixed call-order key in Unix ms.
        key: Millis,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        appointment: Option<String>,
        /// Checked in after the 15-minute grace: served as a normal ticket.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        appointment_late: bool,
    },
    TicketCalled {
        ticket: String,
        number: String,
        category: String,
        window: u32,
        staff: String,
        recall: bool,
        /// 指定叫号: the clerk called this number instead of the next in
        /// line (counted in statistics; not shown to the public).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        out_of_order: bool,
        /// The ticket was on hold (挂起) at this window and is called back.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        resumed: bool,
    },
    TicketNoShow {
        ticket: String,
        number: String,
        window: u32,
        /// The ticket was on hold and not called back within `hold_max_min`:
        /// the window it was held at is serving someone else by now.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        held: bool,
    },
    /// 挂起: the ticket being served at `window` is parked (the citizen
    /// fetches a document); the window is free to call others. Only `window`
    /// can call it back (`call {number}`) before `deadline`, else it becomes
    /// a no-show (`ticket_no_show` with `held: true`).
    TicketHeld {
        ticket: String,
        number: String,
        category: String,
        window: u32,
        staff: String,
        #[serde(with = "crate::time::rfc3339_ms")]
        deadline: Millis,
    },
    /// 多窗联办: the ticket was completed at one category's window and goes
    /// on, same number, to `category`, back at its original place in line
    /// (`key` is the key it was issued with).
    TicketChained {
        ticket: String,
        number: String,
        from_category: String,
        category: String,
        from_window: u32,
        key: Millis,
    },
    /// 即将到号: a waiting ticket has `ahead` (at most `near_turn_ahead`)
    /// tickets before it; emitted once per wait.
    TicketNearTurn {
        ticket: String,
        number: String,
        ahead: u32,
    },
    /// A scrolling notice for the hall display, shown from `starts_at` until
    /// `ends_at`.
    NoticeAdded {
        notice: u64,
        text: String,
        #[serde(with = "crate::time::rfc3339_ms")]
        starts_at: Millis,
        #[serde(with = "crate::time::rfc3339_ms")]
        ends_at: Millis,
    },
    NoticeRemoved {
        notice: u64,
    },
    TicketRequeued {
        ticket: String,
        number: String,
        category: String,
        key: Millis,
    },
    ServiceStarted {
        ticket: String,
        number: String,
        window: u32,
        staff: String,
    },
    ServiceCompleted {
        ticket: String,
        number: String,
        category: String,
        window: u32,
        staff: String,
        /// Seconds from issue (or requeue / transfer) to the first call.
        wait_s: f64,
        /// Seconds from start to completion.
        handling_s: f64,
    },
    TicketTransferred {
        ticket: String,
        number: String,
        from_window: u32,
        from_category: String,
        category: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_window: Option<u32>,
        /// A category transfer that no other open window serves: the ticket
        /// can only come back to the window it left.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        only_here: bool,
    },
    TicketCancelled {
        ticket: String,
        number: String,
    },
    TicketExpired {
        ticket: String,
        number: String,
    },
    RatingRecorded {
        ticket: String,
        number: String,
        score: u8,
        window: Option<u32>,
        staff: Option<String>,
        /// Why (required for 1 and 2): common reasons and a text. Not public.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        reasons: Vec<crate::hall::ReasonCode>,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        comment: String,
    },
    /// The supervisor followed up a 差评 (回访 / 整改). The note is not public.
    RatingFollowedUp {
        ticket: String,
        number: String,
        status: crate::hall::FollowUpStatus,
        note: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        handler: String,
    },
    AppointmentBooked {
        code: String,
        category: String,
        #[serde(with = "crate::time::rfc3339_ms")]
        slot_start: Millis,
        /// Salted hash of the booker's phone (no-show ban). Not public.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phone: Option<String>,
    },
    /// The holder cancelled the booking: the slot has room again.
    AppointmentCancelled {
        code: String,
        category: String,
        #[serde(with = "crate::time::rfc3339_ms")]
        slot_start: Millis,
    },
    StaffLoggedIn {
        staff: String,
        window: u32,
        duty: Duty,
        post: Post,
    },
    StaffLoggedOut {
        staff: String,
        window: u32,
        #[serde(deserialize_with = "crate::reason::lenient")]
        reason: Reason,
    },
    WindowOpened {
        window: u32,
        staff: String,
        post: Post,
        tidal: bool,
        #[serde(deserialize_with = "crate::reason::lenient")]
        reason: Reason,
    },
    WindowClosed {
        window: u32,
        tidal: bool,
        #[serde(deserialize_with = "crate::reason::lenient")]
        reason: Reason,
    },
    /// Opening is a summons: `staff` is asked to log in at the window by
    /// `deadline`. The window stays closed (no capacity, estimate, go-to,
    /// display or announcement) until they do; then `window_opened` follows
    /// with this reason. `tried`: who was summoned before and did not come.
    WindowSummoned {
        window: u32,
        staff: String,
        post: Post,
        tidal: bool,
        reason: Reason,
        deadline: Millis,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tried: Vec<String>,
    },
    /// A summons ended without the clerk logging in: `expired` (the next
    /// summons or advice follows) or `cancelled` (the supervisor closed it).
    SummonsEnded {
        window: u32,
        staff: String,
        outcome: SummonsOutcome,
    },
    WindowPaused {
        window: u32,
        staff: Option<String>,
        reason: PauseReason,
    },
    WindowResumed {
        window: u32,
        staff: String,
    },
    PostHandover {
        window: u32,
        from: String,
        from_post: Post,
        to: String,
        to_post: Post,
        #[serde(deserialize_with = "crate::reason::lenient")]
        reason: Reason,
    },
    /// A window stopped serving: its directed tickets went back to the pool
    /// and categories it alone served moved to fallback/comprehensive windows.
    Failover {
        window: u32,
        staff: Option<String>,
        #[serde(deserialize_with = "crate::reason::lenient")]
        reason: Reason,
        tickets: Vec<String>,
        categories: Vec<String>,
        to_windows: Vec<u32>,
        /// Of `categories`, those no open window serves any more.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        unserved: Vec<String>,
        /// Per category the window served and others still serve: the open
        /// windows serving it now (never an empty list).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        serving: Vec<CategoryWindows>,
        /// A clerk's planned pause (休息, 开会, …), not a failure: no warning
        /// unless a category is left unserved.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        planned: bool,
    },
    TidalAdvice {
        advice: u64,
        action: AdviceAction,
        window: u32,
        staff: Option<String>,
        #[serde(deserialize_with = "crate::reason::lenient")]
        reason: Reason,
    },
    AdviceResolved {
        advice: u64,
        accepted: bool,
    },
    /// The staffing plan tidal mode `plan` follows (windows per half-hour
    /// after local midnight, summoned `lead_s` ahead).
    StaffingPlanSet {
        windows: Vec<u32>,
        lead_s: u32,
    },
    Warning {
        level: Level,
        kind: WarningKind,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ticket: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        number: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        category: Option<String>,
        /// What the warning is about, with its figures.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<WarningDetail>,
        /// The sentence of warnings written before details were codes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// The business day ended: waiting tickets expired, numbering resets.
    DayClosed {
        date: chrono::NaiveDate,
        expired: u32,
    },
    /// The hall's configuration changed (new window, staff, thresholds).
    ConfigReloaded {
        config: Box<HallConfig>,
    },
    /// A supervisor's edit from the browser: the edit (for the audit) and
    /// the configuration it made (what a replay adopts).
    ConfigEdited {
        edit: Box<crate::hall::admin::ConfigEdit>,
        config: Box<HallConfig>,
    },
}

impl EventKind {
    pub fn type_name(&self) -> &'static str {
        use EventKind::*;
        match self {
            DayOpened { .. } => "day_opened",
            TicketIssued { .. } => "ticket_issued",
            TicketCalled { .. } => "ticket_called",
            TicketNoShow { .. } => "ticket_no_show",
            TicketRequeued { .. } => "ticket_requeued",
            ServiceStarted { .. } => "service_started",
            ServiceCompleted { .. } => "service_completed",
            TicketTransferred { .. } => "ticket_transferred",
            TicketCancelled { .. } => "ticket_cancelled",
            TicketExpired { .. } => "ticket_expired",
            TicketHeld { .. } => "ticket_held",
            TicketChained { .. } => "ticket_chained",
            TicketNearTurn { .. } => "ticket_near_turn",
            NoticeAdded { .. } => "notice_added",
            NoticeRemoved { .. } => "notice_removed",
            RatingRecorded { .. } => "rating_recorded",
            RatingFollowedUp { .. } => "rating_followed_up",
            AppointmentBooked { .. } => "appointment_booked",
            AppointmentCancelled { .. } => "appointment_cancelled",
            StaffLoggedIn { .. } => "staff_logged_in",
            StaffLoggedOut { .. } => "staff_logged_out",
            WindowOpened { .. } => "window_opened",
            WindowSummoned { .. } => "window_summoned",
            SummonsEnded { .. } => "summons_ended",
            WindowClosed { .. } => "window_closed",
            WindowPaused { .. } => "window_paused",
            WindowResumed { .. } => "window_resumed",
            PostHandover { .. } => "post_handover",
            Failover { .. } => "failover",
            TidalAdvice { .. } => "tidal_advice",
            StaffingPlanSet { .. } => "staffing_plan_set",
            AdviceResolved { .. } => "advice_resolved",
            Warning { .. } => "warning",
            DayClosed { .. } => "day_closed",
            ConfigReloaded { .. } => "config_reloaded",
            ConfigEdited { .. } => "config_edited",
        }
    }

    /// The ticket id an event is about, for redaction and status pages.
    pub fn ticket(&self) -> Option<&str> {
        use EventKind::*;
        match self {
            TicketIssued { ticket, .. }
            | TicketCalled { ticket, .. }
            | TicketNoShow { ticket, .. }
            | TicketRequeued { ticket, .. }
            | ServiceStarted { ticket, .. }
            | ServiceCompleted { ticket, .. }
            | TicketTransferred { ticket, .. }
            | TicketCancelled { ticket, .. }
            | TicketExpired { ticket, .. }
            | TicketHeld { ticket, .. }
            | TicketChained { ticket, .. }
            | TicketNearTurn { ticket, .. }
            | RatingRecorded { ticket, .. }
            | RatingFollowedUp { ticket, .. } => Some(ticket),
            Warning { ticket, .. } => ticket.as_deref(),
            _ => None,
        }
    }
}
