//! Validation of a parsed configuration: every window, category and staff
//! reference checked once, each mistake named by hall and field, so the rest
//! of the core can rely on them.

use std::collections::{HashMap, HashSet};

use super::*;

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
        self.validate_city_tokens()?;
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
        if !(1..=24 * 60).contains(&self.hold_max_min) {
            return Err(invalid(
                h,
                "hold_max_min",
                "must be 1 to 1440 minutes (a held ticket becomes a no-show after it)",
            ));
        }
        if self.near_turn_ahead > 50 {
            return Err(invalid(h, "near_turn_ahead", "must be 0 to 50"));
        }
        self.validate_calendar()?;
        self.validate_webhooks()?;
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
}
