//! Commands: what someone asks the hall to do. The shell authenticates the
//! caller and passes an [`crate::Actor`]; the core decides whether the rules
//! allow it. Randomness (ticket ids, appointment codes) comes in with the
//! command so that the core stays deterministic.

use serde::{Deserialize, Serialize};

use crate::config::HallConfig;
use crate::model::{Channel, PauseReason, Priority};
use crate::time::Millis;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Take a ticket. `id` is the unguessable status-page id chosen by the shell.
    IssueTicket {
        id: String,
        category: String,
        #[serde(default)]
        priority: Priority,
        #[serde(default)]
        channel: Channel,
        #[serde(default)]
        appointment_code: Option<String>,
    },
    BookAppointment {
        code: String,
        category: String,
        slot_start: Millis,
        /// The server's salted hash of the booker's phone, for the no-show
        /// ban (the number itself never reaches the core).
        #[serde(default)]
        phone: Option<String>,
    },
    /// The holder cancels a booking; the code is the key.
    CancelAppointment {
        code: String,
    },
    CallNext {
        window: u32,
    },
    Recall {
        window: u32,
    },
    NoShow {
        window: u32,
    },
    Start {
        window: u32,
    },
    Complete {
        window: u32,
    },
    Transfer {
        window: u32,
        category: Option<String>,
        to_window: Option<u32>,
    },
    Pause {
        window: u32,
        reason: PauseReason,
    },
    Resume {
        window: u32,
    },
    Handover {
        window: u32,
    },
    Login {
        staff: String,
        window: u32,
    },
    Logout {
        staff: String,
        window: u32,
    },
    Requeue {
        ticket: String,
    },
    Cancel {
        ticket: String,
    },
    OpenWindow {
        window: u32,
        staff: String,
    },
    CloseWindow {
        window: u32,
    },
    AcceptAdvice {
        advice: u64,
    },
    DismissAdvice {
        advice: u64,
    },
    /// 好差评: 5 非常满意 … 1 非常不满意; 1 and 2 need a reason.
    Rate {
        ticket: String,
        score: u8,
        #[serde(default)]
        reason: crate::hall::RatingReason,
    },
    /// The supervisor records the follow-up of a 差评 (回访 / 整改) with a
    /// note; `handler` names who followed up (回访人).
    FollowUpRating {
        ticket: String,
        status: crate::hall::FollowUpStatus,
        #[serde(default)]
        note: String,
        #[serde(default)]
        handler: String,
    },
    /// Ends the business day now (`Hall::handle_timeout` does it at
    /// `day_close` by itself).
    CloseDay,
    /// The staffing plan of tidal mode `plan`: windows wanted per half-hour
    /// after local midnight (at most 48), and how long before a half-hour its
    /// windows are summoned (the walk to the window). A value computed
    /// outside the core, so a replay decides the same.
    SetStaffingPlan {
        windows: Vec<u32>,
        lead_s: u32,
    },
    ReloadConfig {
        config: Box<HallConfig>,
    },
    /// 后台管理: one edit of the configuration from the browser
    /// (`hall/admin.rs`), decided like a reload.
    EditConfig {
        edit: Box<crate::hall::admin::ConfigEdit>,
    },
    /// 指定叫号: call ticket `number` (e.g. `A012`) at `window`: a waiting
    /// ticket the window may serve (out of order), or one held there.
    CallNumber {
        window: u32,
        number: String,
    },
    /// 挂起: park the ticket being served at `window`.
    Hold {
        window: u32,
    },
    /// 多窗联办: complete the ticket being served at `window` and send it
    /// on to `next_category`, keeping its number and place in line.
    CompleteAndSend {
        window: u32,
        next_category: String,
    },
    /// A scrolling notice on the hall display from `starts_at` to `ends_at`.
    AddNotice {
        text: String,
        starts_at: Millis,
        ends_at: Millis,
    },
    RemoveNotice {
        notice: u64,
    },
}
