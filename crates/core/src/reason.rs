//! Why something happened, as a code and its parameters, never prose: the
//! pages word it (in Chinese and English, `display-client/lib/labels.js`),
//! so an English display can translate it and a sentence can never come out
//! malformed. Events written before reasons were codes carry a sentence;
//! it reads back as [`Reason::Text`] and is shown as it is.

use serde::{Deserialize, Deserializer, Serialize};

use crate::model::PauseReason;

/// Why a window opened, closed, changed hands or failed over, why a clerk
/// left, why the tidal policy advises. On the wire: `{"code": "...", ...}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    /// A clerk of the window logged in (窗口人员登录).
    Login,
    /// The clerk logged out (退出登录).
    Logout,
    /// The clerk on duty handed the window to the one on standby (交接).
    Handover,
    /// The clerk paused: leave, meeting, break… (离岗、开会…).
    Pause { pause: PauseReason },
    /// The supervisor opened the window (主管开窗).
    SupervisorOpen,
    /// The supervisor closed the window (主管关窗).
    SupervisorClose,
    /// The tidal policy: the load stayed high for `sustain_s` — `waiting`
    /// tickets, `per_window` per staffed window (threshold
    /// `open_per_window`), a new ticket would wait `newest_wait_s`
    /// (threshold `open_wait_s`). `no_free_staff`: advice because nobody
    /// was free to send (auto mode).
    TidalOverload {
        sustain_s: u32,
        waiting: u32,
        per_window: f64,
        open_per_window: f64,
        newest_wait_s: u64,
        open_wait_s: u32,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        no_free_staff: bool,
    },
    /// The tidal policy: the load stayed low for `sustain_s` — `per_window`
    /// per staffed window under `close_per_window`.
    TidalUnderload {
        sustain_s: u32,
        per_window: f64,
        close_per_window: f64,
    },
    /// The staffing plan asks for `planned` windows in the coming half-hour
    /// (tidal mode `plan`, 按计划提前开窗).
    StaffingPlan { planned: u32 },
    /// The staff member summoned to open the window (`staff`) did not log in
    /// there in time and nobody else was free (召集无人响应).
    SummonsUnanswered { staff: String },
    /// The supervisor accepted tidal advice `advice`, given for `why`.
    AdviceAccepted { advice: u64, why: Box<Reason> },
    /// A sentence written before reasons were codes (old logs and snapshots).
    Text { text: String },
}

/// A figure for a reason's parameters: one decimal, finite, so that it reads
/// well and survives its JSON round trip exactly.
pub(crate) fn tenths(x: f64) -> f64 {
    (x.clamp(0.0, 9999.0) * 10.0).round() / 10.0
}

/// Reads a reason written either way: a code (now) or a sentence (before).
pub(crate) fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Reason, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Coded(Reason),
        Sentence(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::Coded(r) => r,
        Either::Sentence(text) => Reason::Text { text },
    })
}
