//! What the public may see of an event: a whitelist, decided here next to
//! [`crate::view`] so that the server only serialises. Displays, phones and
//! integrators subscribe without a token, so nothing that is a key leaves:
//! not a ticket id (the citizen's key to rate and watch their ticket; tickets
//! are followed by number), not an appointment code (the key to check in),
//! not the configuration (it holds tokens and PIN hashes). Every other field
//! keeps its name and shape from [`crate::EventKind`].

use serde::Serialize;

use crate::event::{AdviceAction, Event, EventKind, WarningDetail, WarningKind};
use crate::model::{Actor, Channel, Duty, Level, PauseReason, Post, Priority};
use crate::reason::Reason;
use crate::time::Millis;

/// One event as broadcast: the envelope `{seq, at, hall, by, type}` and the
/// public fields of its kind.
#[derive(Clone, Debug, Serialize)]
pub struct PublicEvent<'a> {
    pub seq: u64,
    #[serde(with = "crate::time::rfc3339_ms")]
    pub at: Millis,
    pub hall: &'a str,
    pub by: &'a Actor,
    #[serde(flatten)]
    pub kind: PublicKind<'a>,
}

impl PublicEvent<'_> {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The public fields of each event kind (see the module doc for what is left
/// out and why).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PublicKind<'a> {
    DayOpened {
        date: chrono::NaiveDate,
    },
    TicketIssued {
        number: &'a str,
        category: &'a str,
        priority: Priority,
        channel: Channel,
        key: Millis,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        appointment_late: bool,
    },
    TicketCalled {
        number: &'a str,
        category: &'a str,
        window: u32,
        staff: &'a str,
        recall: bool,
    },
    TicketNoShow {
        number: &'a str,
        window: u32,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        held: bool,
    },
    /// Without the clerk: parking a ticket is the window's business.
    TicketHeld {
        number: &'a str,
        category: &'a str,
        window: u32,
        #[serde(with = "crate::time::rfc3339_ms")]
        deadline: Millis,
    },
    TicketChained {
        number: &'a str,
        from_category: &'a str,
        category: &'a str,
        from_window: u32,
    },
    TicketNearTurn {
        number: &'a str,
        ahead: u32,
    },
    NoticeAdded {
        notice: u64,
        text: &'a str,
        #[serde(with = "crate::time::rfc3339_ms")]
        starts_at: Millis,
        #[serde(with = "crate::time::rfc3339_ms")]
        ends_at: Millis,
    },
    NoticeRemoved {
        notice: u64,
    },
    TicketRequeued {
        number: &'a str,
        category: &'a str,
        key: Millis,
    },
    ServiceStarted {
        number: &'a str,
        window: u32,
        staff: &'a str,
    },
    ServiceCompleted {
        number: &'a str,
        category: &'a str,
        window: u32,
        staff: &'a str,
        wait_s: f64,
        handling_s: f64,
    },
    TicketTransferred {
        number: &'a str,
        from_window: u32,
        from_category: &'a str,
        category: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        to_window: Option<u32>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        only_here: bool,
    },
    TicketCancelled {
        number: &'a str,
    },
    TicketExpired {
        number: &'a str,
    },
    /// The reasons and the comment stay in the log (the supervisor's 差评
    /// list): a citizen's words about a named clerk are not broadcast.
    RatingRecorded {
        number: &'a str,
        score: u8,
        window: Option<u32>,
        staff: Option<&'a str>,
    },
    /// Only that a 差评 was followed up, and how far: the note stays private.
    RatingFollowedUp {
        number: &'a str,
        status: crate::hall::FollowUpStatus,
    },
    /// The booking's code is its holder's key: only that a slot filled.
    AppointmentBooked {
        category: &'a str,
        #[serde(with = "crate::time::rfc3339_ms")]
        slot_start: Millis,
    },
    /// Only that a slot has room again.
    AppointmentCancelled {
        category: &'a str,
        #[serde(with = "crate::time::rfc3339_ms")]
        slot_start: Millis,
    },
    StaffLoggedIn {
        staff: &'a str,
        window: u32,
        duty: Duty,
        post: Post,
    },
    StaffLoggedOut {
        staff: &'a str,
        window: u32,
        reason: &'a Reason,
    },
    WindowOpened {
        window: u32,
        staff: &'a str,
        post: Post,
        tidal: bool,
        reason: &'a Reason,
    },
    /// For the supervisor and the summoned clerk's console; citizens' pages
    /// ignore it (the window stays closed until the clerk logs in).
    WindowSummoned {
        window: u32,
        staff: &'a str,
        post: Post,
        tidal: bool,
        reason: &'a Reason,
        #[serde(with = "crate::time::rfc3339_ms")]
        deadline: Millis,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        tried: &'a [String],
    },
    SummonsEnded {
        window: u32,
        staff: &'a str,
        outcome: crate::event::SummonsOutcome,
    },
    WindowClosed {
        window: u32,
        tidal: bool,
        reason: &'a Reason,
    },
    WindowPaused {
        window: u32,
        staff: Option<&'a str>,
        reason: PauseReason,
    },
    WindowResumed {
        window: u32,
        staff: &'a str,
    },
    PostHandover {
        window: u32,
        from: &'a str,
        from_post: Post,
        to: &'a str,
        to_post: Post,
        reason: &'a Reason,
    },
    /// The tickets moved are counted, not named (`tickets` stays an empty
    /// list for pages that read it).
    Failover {
        window: u32,
        staff: Option<&'a str>,
        reason: &'a Reason,
        tickets: [u8; 0],
        tickets_moved: usize,
        categories: &'a [String],
        to_windows: &'a [u32],
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        unserved: &'a [String],
        #[serde(skip_serializing_if = "<[crate::event::CategoryWindows]>::is_empty")]
        serving: &'a [crate::event::CategoryWindows],
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        planned: bool,
    },
    TidalAdvice {
        advice: u64,
        action: AdviceAction,
        window: u32,
        staff: Option<&'a str>,
        reason: &'a Reason,
    },
    AdviceResolved {
        advice: u64,
        accepted: bool,
    },
    StaffingPlanSet {
        windows: &'a [u32],
        lead_s: u32,
    },
    Warning {
        level: Level,
        kind: WarningKind,
        #[serde(skip_serializing_if = "Option::is_none")]
        window: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        number: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        category: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<&'a WarningDetail>,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<&'a str>,
    },
    DayClosed {
        date: chrono::NaiveDate,
        expired: u32,
    },
    /// Only that it changed: the configuration holds tokens and PIN hashes.
    ConfigReloaded {},
    /// Which edit (`op`) of what (`target`: staff id, window number or
    /// category id); never the PIN hash or the configuration.
    ConfigEdited {
        op: &'static str,
        target: String,
    },
}

impl Event {
    /// This event as the public may see it.
    pub fn public(&self) -> PublicEvent<'_> {
        PublicEvent {
            seq: self.seq,
            at: self.at,
            hall: &self.hall,
            by: &self.by,
            kind: self.kind.public(),
        }
    }
}

impl EventKind {
    /// The public fields of this kind.
    pub fn public(&self) -> PublicKind<'_> {
        use EventKind as K;
        use PublicKind as P;
        match self {
            K::DayOpened { date } => P::DayOpened { date: *date },
            K::TicketIssued {
                number,
                category,
                priority,
                channel,
                key,
                appointment_late,
                ..
            } => P::TicketIssued {
                number,
                category,
                priority: *priority,
                channel: *channel,
                key: *key,
                appointment_late: *appointment_late,
            },
            K::TicketCalled {
                number,
                category,
                window,
                staff,
                recall,
                ..
            } => P::TicketCalled {
                number,
                category,
                window: *window,
                staff,
                recall: *recall,
            },
            K::TicketNoShow {
                number,
                window,
                held,
                ..
            } => P::TicketNoShow {
                number,
                window: *window,
                held: *held,
            },
            K::TicketHeld {
                number,
                category,
                window,
                deadline,
                ..
            } => P::TicketHeld {
                number,
                category,
                window: *window,
                deadline: *deadline,
            },
            K::TicketChained {
                number,
                from_category,
                category,
                from_window,
                ..
            } => P::TicketChained {
                number,
                from_category,
                category,
                from_window: *from_window,
            },
            K::TicketNearTurn { number, ahead, .. } => P::TicketNearTurn {
                number,
                ahead: *ahead,
            },
            K::NoticeAdded {
                notice,
                text,
                starts_at,
                ends_at,
            } => P::NoticeAdded {
                notice: *notice,
                text,
                starts_at: *starts_at,
                ends_at: *ends_at,
            },
            K::NoticeRemoved { notice } => P::NoticeRemoved { notice: *notice },
            K::TicketRequeued {
                number,
                category,
                key,
                ..
            } => P::TicketRequeued {
                number,
                category,
                key: *key,
            },
            K::ServiceStarted {
                number,
                window,
                staff,
                ..
            } => P::ServiceStarted {
                number,
                window: *window,
                staff,
            },
            K::ServiceCompleted {
                number,
                category,
                window,
                staff,
                wait_s,
                handling_s,
                ..
            } => P::ServiceCompleted {
                number,
                category,
                window: *window,
                staff,
                wait_s: *wait_s,
                handling_s: *handling_s,
            },
            K::TicketTransferred {
                number,
                from_window,
                from_category,
                category,
                to_window,
                only_here,
                ..
            } => P::TicketTransferred {
                number,
                from_window: *from_window,
                from_category,
                category,
                to_window: *to_window,
                only_here: *only_here,
            },
            K::TicketCancelled { number, .. } => P::TicketCancelled { number },
            K::TicketExpired { number, .. } => P::TicketExpired { number },
            K::RatingRecorded {
                number,
                score,
                window,
                staff,
                ..
            } => P::RatingRecorded {
                number,
                score: *score,
                window: *window,
                staff: staff.as_deref(),
            },
            K::RatingFollowedUp { number, status, .. } => P::RatingFollowedUp {
                number,
                status: *status,
            },
            K::AppointmentBooked {
                category,
                slot_start,
                ..
            } => P::AppointmentBooked {
                category,
                slot_start: *slot_start,
            },
            K::AppointmentCancelled {
                category,
                slot_start,
                ..
            } => P::AppointmentCancelled {
                category,
                slot_start: *slot_start,
            },
            K::StaffLoggedIn {
                staff,
                window,
                duty,
                post,
            } => P::StaffLoggedIn {
                staff,
                window: *window,
                duty: *duty,
                post: *post,
            },
            K::StaffLoggedOut {
                staff,
                window,
                reason,
            } => P::StaffLoggedOut {
                staff,
                window: *window,
                reason,
            },
            K::WindowOpened {
                window,
                staff,
                post,
                tidal,
                reason,
            } => P::WindowOpened {
                window: *window,
                staff,
                post: *post,
                tidal: *tidal,
                reason,
            },
            K::WindowSummoned {
                window,
                staff,
                post,
                tidal,
                reason,
                deadline,
                tried,
            } => P::WindowSummoned {
                window: *window,
                staff,
                post: *post,
                tidal: *tidal,
                reason,
                deadline: *deadline,
                tried,
            },
            K::SummonsEnded {
                window,
                staff,
                outcome,
            } => P::SummonsEnded {
                window: *window,
                staff,
                outcome: *outcome,
            },
            K::WindowClosed {
                window,
                tidal,
                reason,
            } => P::WindowClosed {
                window: *window,
                tidal: *tidal,
                reason,
            },
            K::WindowPaused {
                window,
                staff,
                reason,
            } => P::WindowPaused {
                window: *window,
                staff: staff.as_deref(),
                reason: *reason,
            },
            K::WindowResumed { window, staff } => P::WindowResumed {
                window: *window,
                staff,
            },
            K::PostHandover {
                window,
                from,
                from_post,
                to,
                to_post,
                reason,
            } => P::PostHandover {
                window: *window,
                from,
                from_post: *from_post,
                to,
                to_post: *to_post,
                reason,
            },
            K::Failover {
                window,
                staff,
                reason,
                tickets,
                categories,
                to_windows,
                unserved,
                serving,
                planned,
            } => P::Failover {
                window: *window,
                staff: staff.as_deref(),
                reason,
                tickets: [],
                tickets_moved: tickets.len(),
                categories,
                to_windows,
                unserved,
                serving,
                planned: *planned,
            },
            K::TidalAdvice {
                advice,
                action,
                window,
                staff,
                reason,
            } => P::TidalAdvice {
                advice: *advice,
                action: *action,
                window: *window,
                staff: staff.as_deref(),
                reason,
            },
            K::AdviceResolved { advice, accepted } => P::AdviceResolved {
                advice: *advice,
                accepted: *accepted,
            },
            K::StaffingPlanSet { windows, lead_s } => P::StaffingPlanSet {
                windows,
                lead_s: *lead_s,
            },
            K::Warning {
                level,
                kind,
                window,
                number,
                category,
                detail,
                message,
                ..
            } => P::Warning {
                level: *level,
                kind: *kind,
                window: *window,
                number: number.as_deref(),
                category: category.as_deref(),
                detail: detail.as_ref(),
                message: message.as_deref(),
            },
            K::DayClosed { date, expired } => P::DayClosed {
                date: *date,
                expired: *expired,
            },
            K::ConfigReloaded { .. } => P::ConfigReloaded {},
            K::ConfigEdited { edit, .. } => P::ConfigEdited {
                op: edit.op(),
                target: edit.target(),
            },
        }
    }
}
