//! Request and response bodies of the HTTP API, with their OpenAPI schemas.
//! Core types that are large views (the hall snapshot, statistics) appear in
//! the schema as objects and are documented in `docs/api.md`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct IssueBody {
    /// Category id, e.g. `general`.
    pub category: String,
    /// `normal` (default), `elderly`, `disabled`, `pregnant`, `military` (green channel).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub priority: Option<hallcall_core::Priority>,
    /// Code of a booked appointment to check in.
    #[serde(default)]
    pub appointment_code: Option<String>,
    /// `kiosk` (default), `mobile`, `assisted` (帮办代办).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub channel: Option<hallcall_core::Channel>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssueResponse {
    pub id: String,
    pub number: String,
    pub category: String,
    pub category_name: String,
    pub ahead: u32,
    pub estimated_wait_s: Option<u64>,
    pub issued_at: String,
    /// The status page: `public_url` + `/t/{id}?hall={hall}` (the path alone
    /// when the hall has no `public_url`).
    pub status_url: String,
    /// Whether the kiosk's thermal printer (`[[hall.printer]]`) printed the
    /// ticket; false when it could not, or the kiosk has no printer.
    pub printed: bool,
    /// Why the printer did not print (打印机缺纸, …): the kiosk shows the
    /// ticket on screen with 请扫码. Null when printed or without a printer.
    pub printer_problem: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BookBody {
    pub category: String,
    /// RFC 3339 start of the slot, e.g. `2026-11-24T10:00:00+08:00`.
    pub slot_start: String,
    /// The citizen's phone number (digits; spaces, `-` and a `+86` prefix are
    /// ignored). Kept only as a keyed hash, to limit bookings per phone.
    pub phone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BookResponse {
    pub code: String,
    pub slot_start: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RatingBody {
    /// 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.
    pub score: u8,
    /// Common reasons (`long_wait`, `slow`, `attitude`, `unskilled`,
    /// `not_told_at_once`, `unclear_materials`, `other`); 1 and 2 need a
    /// reason or a `reason` text.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// The citizen's own words, at most 200 characters.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    pub staff: String,
    pub pin: String,
    pub window: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub staff: String,
    pub name: String,
    pub window: u32,
    /// `on_duty` or `standby`.
    pub duty: String,
}

/// Body of a window action; each action reads the fields it needs.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ActionBody {
    /// transfer: the new category.
    #[serde(default)]
    pub category: Option<String>,
    /// transfer: the window to send the ticket to.
    #[serde(default)]
    pub window: Option<u32>,
    /// pause: `leave`, `meeting`, `break` or `other`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub reason: Option<hallcall_core::PauseReason>,
    /// open (supervisor): the staff member to put on duty.
    #[serde(default)]
    pub staff: Option<String>,
    /// call (指定叫号): the ticket number to call, e.g. `A012`.
    #[serde(default)]
    pub number: Option<String>,
    /// complete (多窗联办): send the ticket on to this category, same number
    /// and place in line.
    #[serde(default)]
    pub next_category: Option<String>,
}

/// `POST /notices`: a scrolling notice for the hall display.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeBody {
    /// At most 200 characters.
    pub text: String,
    /// RFC 3339; default: now.
    #[serde(default)]
    pub starts_at: Option<String>,
    /// RFC 3339, after `starts_at` and in the future.
    pub ends_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalledTicket {
    pub id: String,
    pub number: String,
    pub category: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallResponse {
    pub ticket: CalledTicket,
    pub window: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventsResponse {
    /// Sequence number of the last event this command produced.
    pub seq: u64,
    /// The events, as in the log (`{seq, at, hall, by, type, ...}`).
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<hallcall_core::Event>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HallSummary {
    pub id: String,
    pub name: String,
    pub name_en: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StatsQuery {
    /// Business date `YYYY-MM-DD`; today by default.
    pub date: Option<String>,
    /// First business date of a report over days (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Last business date of a report over days; today by default.
    pub to: Option<String>,
    /// `csv` for the CSV export without an `Accept` header (a plain link).
    pub format: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    pub since: Option<String>,
    /// `1`: also a `view` message after the catch-up and after every batch.
    pub view: Option<String>,
    /// A ticket id: also its status, first and whenever it changes.
    pub ticket: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct WavQuery {
    pub lang: Option<String>,
}

/// What a supervisor's staff action did.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffActionResponse {
    pub staff: String,
    pub unlocked: bool,
    /// The clerk's token no longer works.
    pub session_ended: bool,
    /// The clerk was also logged out of the window (not while serving alone).
    pub logged_out: bool,
    pub message: String,
}
