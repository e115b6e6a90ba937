//! The hall configuration: the keys of `hall.example.toml` are the contract.
//! Everything is validated once, here, so the rest of the core can rely on
//! every window, category and staff reference being real.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::time::{TimeOfDay, TimeRange};

/// A whole configuration file: one server, one or more halls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(rename = "hall", default)]
    pub halls: Vec<HallConfig>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_listen")]
    pub listen: String,
    #[serde(default = "default_data")]
    pub data: String,
    /// 同城通办: bearer tokens of the city overview (`config/city.rs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub city_tokens: Vec<String>,
}

fn default_listen() -> String {
    "0.0.0.0:8080".into()
}
fn default_data() -> String {
    "./hallcall-data".into()
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            data: default_data(),
            city_tokens: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    /// 0 = Monday, as `time::LocalMoment::weekday`.
    pub fn index(self) -> u8 {
        self as u8
    }
}

/// One service centre.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallConfig {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default = "default_tz")]
    pub timezone: Tz,
    #[serde(default = "all_days")]
    pub open_days: Vec<Day>,
    #[serde(default = "all_hours")]
    pub open_hours: Vec<TimeRange>,
    #[serde(default = "midnight")]
    pub day_close: TimeOfDay,
    #[serde(default)]
    pub kiosk_tokens: Vec<String>,
    #[serde(default)]
    pub supervisor_tokens: Vec<String>,
    /// The base of every link printed or shown to citizens (the ticket's
    /// QR and `status_url`), e.g. `https://dt.example.gov.cn`; empty: the
    /// links are relative to wherever the page was loaded from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub public_url: String,
    /// 监督电话: the hall's complaints line, shown on window displays.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub supervision_phone: String,
    #[serde(default)]
    pub priority_bonus_s: PriorityBonus,
    #[serde(default)]
    pub tidal: TidalPolicy,
    /// 过号: a called ticket may be marked no-show only after it was
    /// recalled this many times (0 allows it at once).
    #[serde(default = "one")]
    pub min_recalls_before_no_show: u32,
    /// 过号重排: where a requeued no-show goes back in line.
    #[serde(default)]
    pub requeue: RequeuePlace,
    /// Opening a window summons a named clerk; if they have not logged in
    /// there after this many seconds, the summons passes to the next free
    /// staff member, or becomes advice for the supervisor.
    #[serde(default = "five_minutes")]
    pub summon_timeout_s: u32,
    /// 挂起: a held ticket not called back within this many minutes becomes
    /// a no-show (the citizen did not come back with the document).
    #[serde(default = "thirty")]
    pub hold_max_min: u32,
    /// 即将到号: a waiting ticket with this many or fewer tickets ahead gets
    /// `ticket_near_turn` (once per wait): the phone page vibrates.
    #[serde(default = "three")]
    pub near_turn_ahead: u32,
    /// 预约: slots can be booked on business dates from today up to this
    /// many days after today (`calendar`: closed dates take no bookings).
    #[serde(default = "seven")]
    pub booking_days_ahead: u32,
    /// Holidays (法定节假日): closed these local dates whatever `open_days`
    /// says; for opening hours, booking and the simulator alike.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closed_dates: Vec<chrono::NaiveDate>,
    /// 调休: working weekends, open these local dates although `open_days`
    /// leaves their weekday out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_open_dates: Vec<chrono::NaiveDate>,
    /// A phone that missed this many booked appointments (never checked
    /// in) within 30 days cannot book for `no_show_ban_days`; 0: no ban.
    #[serde(default = "three")]
    pub no_show_limit: u32,
    #[serde(default = "thirty")]
    pub no_show_ban_days: u32,
    #[serde(rename = "category", default)]
    pub categories: Vec<CategoryConfig>,
    #[serde(rename = "window", default)]
    pub windows: Vec<WindowConfig>,
    #[serde(rename = "staff", default)]
    pub staff: Vec<StaffConfig>,
    /// `[[hall.printer]]`: the kiosks' ticket printers, kept raw here (the
    /// core has no devices); the server parses and validates them with
    /// `hallcall_devices::PrinterConfig`.
    #[serde(rename = "printer", default, skip_serializing_if = "Vec::is_empty")]
    pub printers: Vec<toml::Value>,
    /// `[hall.voice]`: what the announcements say, kept raw here; parsed by
    /// `hallcall_announcer::VoiceConfig` (docs/voice.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<toml::Value>,
    /// `[[hall.webhook]]`: other systems told of chosen events, delivered
    /// by the server from the durable log (`webhook.rs`).
    #[serde(rename = "webhook", default, skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<WebhookConfig>,
}

fn one() -> u32 {
    1
}

fn five_minutes() -> u32 {
    300
}

fn seven() -> u32 {
    7
}

fn three() -> u32 {
    3
}

/// Where a requeued no-show goes back in line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequeuePlace {
    /// To the back: key = the time of the requeue.
    #[default]
    Back,
    /// Key = the time of the requeue minus the ticket's priority bonus: a
    /// green-channel or appointment ticket keeps its head start.
    KeepPriority,
}

fn default_tz() -> Tz {
    chrono_tz::Asia::Shanghai
}
fn all_days() -> Vec<Day> {
    use Day::*;
    vec![Mon, Tue, Wed, Thu, Fri, Sat, Sun]
}
fn all_hours() -> Vec<TimeRange> {
    vec![TimeRange {
        start: TimeOfDay(0),
        end: TimeOfDay(1440),
    }]
}
fn midnight() -> TimeOfDay {
    TimeOfDay(1440)
}

/// Call-order bonus per priority class, in seconds: `key = issued_at - bonus`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PriorityBonus {
    pub elderly: u32,
    pub disabled: u32,
    pub pregnant: u32,
    pub military: u32,
    pub appointment: u32,
}

impl Default for PriorityBonus {
    fn default() -> Self {
        PriorityBonus {
            elderly: 900,
            disabled: 900,
            pregnant: 900,
            military: 900,
            appointment: 1800,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TidalMode {
    /// Opens and closes tidal windows itself, assigning a standby clerk.
    Auto,
    /// Emits advice; the supervisor accepts or dismisses it.
    Advise,
    /// As `auto`, and summons staff ahead of a staffing plan handed in as a
    /// value (`Command::SetStaffingPlan`, forecast outside the core from the
    /// hall's history); closes only above the plan. The reactive rules stay
    /// as the safety net.
    Plan,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TidalPolicy {
    pub mode: TidalMode,
    pub sustain_s: u32,
    pub open_wait_s: u32,
    pub open_per_window: f64,
    pub close_per_window: f64,
    pub min_open: u32,
    pub max_open: u32,
}

impl Default for TidalPolicy {
    fn default() -> Self {
        TidalPolicy {
            mode: TidalMode::Auto,
            sustain_s: 60,
            open_wait_s: 1200,
            open_per_window: 8.0,
            close_per_window: 2.0,
            min_open: 1,
            max_open: 64,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryConfig {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub prefix: char,
    pub expected_s: u32,
    pub limit_s: u32,
    pub wait_target_s: u32,
    #[serde(default)]
    pub appointment_slots: Option<AppointmentSlots>,
    /// 今日号已取完: at most this many tickets a business day (appointment
    /// check-ins excepted); none: no cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_cap: Option<u32>,
    /// No new ticket (appointment check-ins excepted) this many minutes
    /// before the end of the day's opening hours.
    #[serde(default = "thirty")]
    pub last_ticket_before_close_min: u32,
}

fn thirty() -> u32 {
    30
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentSlots {
    pub slot_s: u32,
    pub capacity: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum WindowKind {
    /// 综合受理: serves every category.
    Comprehensive,
    /// Serves its listed categories.
    Specialist,
    /// 潮汐窗口: closed by default, opened and closed by load.
    Tidal,
    /// 兜底: serves any category no open window serves.
    Fallback,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowConfig {
    pub number: u32,
    pub kind: WindowKind,
    /// Specialist windows must list categories; tidal windows may (else all).
    #[serde(default)]
    pub categories: Vec<String>,
    pub a_post: String,
    #[serde(default)]
    pub b_post: Option<String>,
    /// The window's name on its display, e.g. "综合受理 3号窗口"; empty: the
    /// pages name it by number and kind.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The bearer token of the window's evaluator tablet (评价器,
    /// `/evaluator/{window}`); without one the window has no evaluator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluator_token: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffConfig {
    pub id: String,
    pub name: String,
    /// argon2 PHC string made by `hallcall hash-pin`; checked by the server.
    #[serde(default)]
    pub pin_hash: String,
    /// 工号: the staff number shown on the window display and evaluator.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub staff_no: String,
    /// A photo file (JPEG, PNG or WebP), served by the server for the window
    /// display and the evaluator; a relative path is read from the server's
    /// working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
}

/// A configuration mistake, named by hall and field so a hall manager can fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("TOML: {0}")]
    Toml(String),
    #[error("no [[hall]] is configured")]
    NoHalls,
    /// A `[server]` key.
    #[error("server.{field}: {message}")]
    Server { field: String, message: String },
    #[error("hall[{hall}].{field}: {message}")]
    Invalid {
        hall: String,
        field: String,
        message: String,
    },
}

pub(crate) fn invalid(
    hall: &str,
    field: impl Into<String>,
    message: impl Into<String>,
) -> ConfigError {
    ConfigError::Invalid {
        hall: hall.to_string(),
        field: field.into(),
        message: message.into(),
    }
}

/// The most windows a hall may have: window sets are `u128` bitmasks.
pub const MAX_WINDOWS: usize = 128;
/// The most categories a hall may have: category sets are `u64` bitmasks.
pub const MAX_CATEGORIES: usize = 64;

impl HallConfig {
    pub fn category(&self, id: &str) -> Option<&CategoryConfig> {
        self.categories.iter().find(|c| c.id == id)
    }

    pub fn window(&self, number: u32) -> Option<&WindowConfig> {
        self.windows.iter().find(|w| w.number == number)
    }

    pub fn staff(&self, id: &str) -> Option<&StaffConfig> {
        self.staff.iter().find(|s| s.id == id)
    }
}

mod city;
mod validate;
mod webhook;
pub use webhook::{WebhookConfig, WebhookPayload};

#[cfg(test)]
mod tests;
