//! The hall configuration: the keys of `hall.example.toml` are the contract.
//! Everything is validated once, here, so the rest of the core can rely on
//! every window, category and staff reference being real.

use std::collections::{HashMap, HashSet};

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
}

fn one() -> u32 {
    1
}

fn five_minutes() -> u32 {
    300
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
    #[error("hall[{hall}].{field}: {message}")]
    Invalid {
        hall: String,
        field: String,
        message: String,
    },
}

fn invalid(hall: &str, field: impl Into<String>, message: impl Into<String>) -> ConfigError {
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

impl Config {
    /// Parses and validates a configuration text: [`crate::config_file::parse`]
    /// (the one parser), its file-and-line error as [`ConfigError::Toml`].
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        crate::config_file::parse("config", text).map_err(|e| ConfigError::Toml(e.to_string()))
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.halls.is_empty() {
            return Err(ConfigError::NoHalls);
        }
        let mut ids = HashSet::new();
        for h in &self.halls {
            h.validate()?;
            if !ids.insert(h.id.as_str()) {
                return Err(invalid(&h.id, "id", "two halls share this id"));
            }
        }
        Ok(())
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl HallConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let h = self.id.as_str();
        if !is_slug(h) {
            return Err(invalid(
                h,
                "id",
                "must be 1-64 characters of a-z, 0-9, '-' or '_' (it is a URL segment)",
            ));
        }
        if self.name.trim().is_empty() {
            return Err(invalid(h, "name", "must not be empty"));
        }
        if self.open_days.is_empty() {
            return Err(invalid(h, "open_days", "at least one day must be open"));
        }
        if self.open_hours.is_empty() {
            return Err(invalid(h, "open_hours", "at least one period must be open"));
        }
        let mut hours = self.open_hours.clone();
        hours.sort_by_key(|r| r.start);
        for pair in hours.windows(2) {
            if pair[1].start < pair[0].end {
                return Err(invalid(h, "open_hours", "periods overlap"));
            }
        }
        if self.categories.is_empty() {
            return Err(invalid(h, "category", "at least one category is needed"));
        }
        if self.categories.len() > MAX_CATEGORIES {
            return Err(invalid(
                h,
                "category",
                format!("at most {MAX_CATEGORIES} categories"),
            ));
        }
        let mut cat_ids = HashSet::new();
        let mut prefixes = HashMap::new();
        for c in &self.categories {
            let f = |k: &str| format!("category[{}].{k}", c.id);
            if !is_slug(&c.id) {
                return Err(invalid(h, f("id"), "must be a-z, 0-9, '-' or '_'"));
            }
            if !cat_ids.insert(c.id.as_str()) {
                return Err(invalid(h, f("id"), "duplicate category id"));
            }
            if !c.prefix.is_ascii_uppercase() {
                return Err(invalid(h, f("prefix"), "must be one letter A-Z"));
            }
            if let Some(other) = prefixes.insert(c.prefix, c.id.as_str()) {
                return Err(invalid(
                    h,
                    f("prefix"),
                    format!(
                        "duplicate prefix {:?}, also used by category {other}",
                        c.prefix
                    ),
                ));
            }
            if c.expected_s == 0 {
                return Err(invalid(h, f("expected_s"), "must be > 0"));
            }
            if c.limit_s == 0 {
                return Err(invalid(h, f("limit_s"), "must be > 0"));
            }
            if c.wait_target_s == 0 {
                return Err(invalid(h, f("wait_target_s"), "must be > 0"));
            }
            if c.daily_cap == Some(0) {
                return Err(invalid(
                    h,
                    f("daily_cap"),
                    "must be > 0 (leave it out for no cap)",
                ));
            }
            if c.last_ticket_before_close_min > 1440 {
                return Err(invalid(
                    h,
                    f("last_ticket_before_close_min"),
                    "must be at most 1440",
                ));
            }
            if let Some(s) = &c.appointment_slots {
                if s.slot_s < 60 || s.slot_s > 86_400 || 86_400 % s.slot_s != 0 {
                    return Err(invalid(
                        h,
                        f("appointment_slots.slot_s"),
                        "must be at least 60 and divide a day",
                    ));
                }
                if s.capacity == 0 {
                    return Err(invalid(h, f("appointment_slots.capacity"), "must be > 0"));
                }
            }
        }
        let mut staff_ids = HashSet::new();
        for s in &self.staff {
            if s.id.trim().is_empty() || s.id.len() > 64 {
                return Err(invalid(h, "staff.id", "must be 1-64 characters"));
            }
            if !staff_ids.insert(s.id.as_str()) {
                return Err(invalid(
                    h,
                    format!("staff[{}].id", s.id),
                    "duplicate staff id",
                ));
            }
        }
        if self.windows.is_empty() {
            return Err(invalid(h, "window", "at least one window is needed"));
        }
        if self.windows.len() > MAX_WINDOWS {
            return Err(invalid(
                h,
                "window",
                format!("at most {MAX_WINDOWS} windows"),
            ));
        }
        let mut numbers = HashSet::new();
        let mut served: HashSet<&str> = HashSet::new();
        let mut serves_all = false;
        for w in &self.windows {
            let f = |k: &str| format!("window[{}].{k}", w.number);
            if w.number == 0 || w.number > 9999 {
                return Err(invalid(h, f("number"), "must be 1-9999"));
            }
            if !numbers.insert(w.number) {
                return Err(invalid(h, f("number"), "duplicate window number"));
            }
            if !staff_ids.contains(w.a_post.as_str()) {
                return Err(invalid(
                    h,
                    f("a_post"),
                    format!("unknown staff {:?}", w.a_post),
                ));
            }
            if let Some(b) = &w.b_post {
                if !staff_ids.contains(b.as_str()) {
                    return Err(invalid(h, f("b_post"), format!("unknown staff {b:?}")));
                }
                if *b == w.a_post {
                    return Err(invalid(
                        h,
                        f("b_post"),
                        "B post must differ from the A post",
                    ));
                }
            }
            for c in &w.categories {
                if !cat_ids.contains(c.as_str()) {
                    return Err(invalid(
                        h,
                        f("categories"),
                        format!("unknown category {c:?}"),
                    ));
                }
            }
            match w.kind {
                WindowKind::Specialist if w.categories.is_empty() => {
                    return Err(invalid(
                        h,
                        f("categories"),
                        "a specialist window must list its categories",
                    ));
                }
                WindowKind::Comprehensive | WindowKind::Fallback if !w.categories.is_empty() => {
                    return Err(invalid(
                        h,
                        f("categories"),
                        "comprehensive and fallback windows serve every category; remove the list",
                    ));
                }
                WindowKind::Specialist => served.extend(w.categories.iter().map(String::as_str)),
                WindowKind::Tidal if !w.categories.is_empty() => {
                    served.extend(w.categories.iter().map(String::as_str))
                }
                _ => serves_all = true,
            }
        }
        if !serves_all {
            if let Some(c) = self
                .categories
                .iter()
                .find(|c| !served.contains(c.id.as_str()))
            {
                return Err(invalid(
                    h,
                    format!("category[{}]", c.id),
                    "no window can ever serve this category",
                ));
            }
        }
        let t = &self.tidal;
        if t.sustain_s == 0 {
            return Err(invalid(h, "tidal.sustain_s", "must be > 0"));
        }
        if t.min_open > t.max_open {
            return Err(invalid(
                h,
                "tidal.min_open",
                "must not exceed tidal.max_open",
            ));
        }
        if !(t.close_per_window >= 0.0 && t.close_per_window < t.open_per_window) {
            return Err(invalid(
                h,
                "tidal.close_per_window",
                "must be >= 0 and below tidal.open_per_window (hysteresis)",
            ));
        }
        self.validate_display_keys()
    }

    /// `public_url`, `supervision_phone`, window names and evaluator tokens,
    /// staff numbers and photos (printers and voice: the server's crates).
    fn validate_display_keys(&self) -> Result<(), ConfigError> {
        let h = self.id.as_str();
        let u = self.public_url.as_str();
        if !u.is_empty()
            && (!(u.starts_with("https://") || u.starts_with("http://"))
                || u.len() > 200
                || u.contains(['?', '#'])
                || u.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(invalid(
                h,
                "public_url",
                "must be an http:// or https:// address without spaces, query or fragment, e.g. https://dt.example.gov.cn",
            ));
        }
        let phone = self.supervision_phone.as_str();
        if phone.chars().count() > 32
            || !phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '+' | '(' | ')'))
        {
            return Err(invalid(
                h,
                "supervision_phone",
                "at most 32 characters of digits, spaces, '-', '+', '(' and ')'",
            ));
        }
        let plain =
            |s: &str, max: usize| s.chars().count() <= max && !s.chars().any(char::is_control);
        let mut tokens: HashSet<&str> = self
            .kiosk_tokens
            .iter()
            .chain(&self.supervisor_tokens)
            .map(String::as_str)
            .collect();
        for w in &self.windows {
            let f = |k: &str| format!("window[{}].{k}", w.number);
            if !plain(&w.name, 40) {
                return Err(invalid(
                    h,
                    f("name"),
                    "at most 40 characters, no control characters",
                ));
            }
            if let Some(t) = &w.evaluator_token {
                if t.len() < 16 || t.len() > 128 || !t.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(invalid(
                        h,
                        f("evaluator_token"),
                        "must be 16-128 printable ASCII characters",
                    ));
                }
                if !tokens.insert(t.as_str()) {
                    return Err(invalid(
                        h,
                        f("evaluator_token"),
                        "is already another window's evaluator token, a kiosk or a supervisor token",
                    ));
                }
            }
        }
        for s in &self.staff {
            let f = |k: &str| format!("staff[{}].{k}", s.id);
            if !plain(&s.staff_no, 32) {
                return Err(invalid(
                    h,
                    f("staff_no"),
                    "at most 32 characters, no control characters",
                ));
            }
            if let Some(p) = &s.photo {
                let lower = p.to_ascii_lowercase();
                if p.trim().is_empty()
                    || !plain(p, 512)
                    || ![".jpg", ".jpeg", ".png", ".webp"]
                        .iter()
                        .any(|e| lower.ends_with(e))
                {
                    return Err(invalid(
                        h,
                        f("photo"),
                        "must be the path of a .jpg, .jpeg, .png or .webp file",
                    ));
                }
            }
        }
        Ok(())
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../tests/data/hall.example.toml");

    #[test]
    fn the_example_file_parses_and_validates() {
        let mut cfg: Config = toml::from_str(EXAMPLE).expect("example parses");
        // The example leaves staff s02..s07 to the reader ("one [[hall.staff]] per person").
        for id in ["s02", "s03", "s04", "s05", "s06", "s07"] {
            cfg.halls[0].staff.push(StaffConfig {
                id: id.into(),
                name: id.into(),
                pin_hash: String::new(),
                staff_no: String::new(),
                photo: None,
            });
        }
        cfg.validate().expect("valid");
        let h = &cfg.halls[0];
        assert_eq!(h.id, "xili");
        assert_eq!(
            h.categories[3]
                .appointment_slots
                .as_ref()
                .map(|s| s.capacity),
            Some(2)
        );
        assert_eq!(h.windows[3].kind, WindowKind::Tidal);
        assert_eq!(h.tidal.min_open, 3);
        assert_eq!(h.day_close, TimeOfDay(18 * 60));
        assert_eq!(h.public_url, "https://xili.example.gov.cn");
        assert_eq!(h.supervision_phone, "0571-12345");
        assert_eq!(h.windows[0].name, "综合受理 1号窗口");
        assert!(h.windows[0].evaluator_token.is_some());
        assert_eq!(h.staff[0].staff_no, "XL0101");
        assert_eq!(h.printers.len(), 1);
        assert!(h.voice.is_some());
    }

    #[test]
    fn display_key_mistakes_are_named() {
        let e = broken(|h| h.public_url = "xili.example.gov.cn".into());
        assert!(e.starts_with("hall[demo].public_url:"), "{e}");
        let e = broken(|h| h.supervision_phone = "call us".into());
        assert!(e.contains("supervision_phone"), "{e}");
        let e = broken(|h| h.windows[1].evaluator_token = h.windows[0].evaluator_token.clone());
        assert!(e.contains("window[2].evaluator_token"), "{e}");
        let e = broken(|h| h.windows[0].evaluator_token = Some("kiosk-demo".into()));
        assert!(e.contains("16-128"), "{e}");
        let e = broken(|h| h.staff[0].photo = Some("s01.gif".into()));
        assert!(e.contains("staff[s01].photo"), "{e}");
    }

    fn broken(edit: impl FnOnce(&mut HallConfig)) -> String {
        let mut h = crate::demo::demo_hall();
        edit(&mut h);
        h.validate().expect_err("must be refused").to_string()
    }

    #[test]
    fn mistakes_are_named() {
        let e = broken(|h| h.categories[1].prefix = h.categories[0].prefix);
        assert!(e.contains("duplicate prefix"), "{e}");
        let e = broken(|h| h.windows[5].categories = vec!["nope".into()]);
        assert!(e.contains("unknown category"), "{e}");
        let e = broken(|h| h.windows[0].b_post = Some(h.windows[0].a_post.clone()));
        assert!(e.contains("B post must differ"), "{e}");
        let e = broken(|h| h.windows[0].a_post = "ghost".into());
        assert!(e.contains("unknown staff"), "{e}");
        let e = broken(|h| h.windows[1].number = h.windows[0].number);
        assert!(e.contains("duplicate window number"), "{e}");
        let e = broken(|h| h.tidal.close_per_window = 9.0);
        assert!(e.contains("hysteresis"), "{e}");
        let e = broken(|h| h.id = "Bad Id".into());
        assert!(e.contains("URL segment"), "{e}");
        let e = broken(|h| {
            // Only specialist windows, none of which serves 'complaint'.
            h.windows.retain(|w| w.kind == WindowKind::Specialist);
        });
        assert!(e.contains("no window can ever serve"), "{e}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = Config::from_toml("[[hall]]\nid='x'\nname='x'\ncolour='red'\n").unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
    }
}
