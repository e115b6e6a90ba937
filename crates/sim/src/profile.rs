//! Day profiles: who comes when, and how the people in the hall behave.
//!
//! A profile is the *demand* side of a simulated day (arrival rates per
//! category and time of day, service-time spread, no-shows, green channel)
//! plus the *staff behaviour* the core cannot know (walking to a tidal window,
//! waiting for a called citizen, breaks). It never says anything about call
//! order, windows or thresholds: those come from the hall configuration and
//! are decided by `hallcall-core`.
//!
//! Profiles are TOML (see [`Profile::from_toml`]); [`Profile::town_centre`] is
//! the built-in one. Example:
//!
//! ```toml
//! name = "town-centre"
//! open = "08:30"          # clerks log in, kiosk starts issuing
//! last_ticket = "17:00"   # kiosk stops issuing
//! close = "17:30"         # business hours end; clerks finish the queue
//! service = "lognormal"   # or "exponential"
//! service_sigma = 0.5     # shape of the lognormal; its mean is the category's expected_s
//! green_share = 0.08
//! no_show_share = 0.05
//! requeue_share = 0.3     # of no-shows, who come back later (过号重排)
//! walk_s = 25             # called citizen walks to the window (mean, exponential)
//! no_show_wait_s = 60     # clerk recalls at half of this, marks no-show at the end
//! tidal_walk_s = 90       # clerk reaching a tidal window after the core opens it
//! cancel_share = 0.03     # 不排了: give up after waiting cancel_patience_s (mean,
//! cancel_patience_s = 1200 #   exponential) and cancel from the phone (default 0)
//! hold_share = 0.05       # 挂起: services held halfway while the citizen fetches a
//! hold_away_s = 600       #   document, away this long (mean, exponential); default 0
//!
//! [mix]                   # share of arrivals per category (normalised)
//! general = 0.35
//! social = 0.25
//!
//! [[rate]]                # piecewise-constant Poisson rate, tickets per hour
//! from = "08:30"
//! to = "09:00"
//! per_hour = 40
//! [rate.mix]              # optional: this segment's own category mix
//! general = 0.6
//! social = 0.4
//!
//! [[break]]               # every clerk takes each break once a day (AB岗 handover or failover)
//! from = "11:30"          # start is uniform in [from, to] ...
//! to = "13:00"
//! minutes = 45            # duration, ±20 % (uniform)
//! rota = true             # ... or in turns: slots of `minutes`, clerks in staff order
//! ```

use std::collections::BTreeMap;

use hallcall_core::time::TimeOfDay;
use serde::{Deserialize, Serialize};

use crate::error::SimError;

/// Service-time distribution around the configured expected time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceDist {
    /// Lognormal with mean `expected_s` and shape `service_sigma`.
    Lognormal,
    /// Exponential with mean `expected_s` (the M/M/c validation uses it).
    Exponential,
}

/// One piece of the arrival-rate curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateSegment {
    pub from: TimeOfDay,
    pub to: TimeOfDay,
    /// Tickets per hour, all categories together.
    pub per_hour: f64,
    /// Category shares in this segment; the profile's `mix` when empty.
    #[serde(default)]
    pub mix: BTreeMap<String, f64>,
}

/// A break every clerk with a seat takes once a day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakRule {
    pub from: TimeOfDay,
    pub to: TimeOfDay,
    pub minutes: f64,
    /// Take it in turns (轮岗): the period is cut into slots of `minutes` and
    /// the clerks, in staff order, take slot 1, 2, …, 1, 2, … (so an A post and
    /// the B post listed next to them do not leave together). Otherwise each
    /// clerk starts at a uniform time in `[from, to]`.
    #[serde(default)]
    pub rota: bool,
}

/// A simulated day's demand and the behaviour of the people in the hall.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub open: TimeOfDay,
    pub last_ticket: TimeOfDay,
    pub close: TimeOfDay,
    #[serde(default = "default_service")]
    pub service: ServiceDist,
    #[serde(default = "default_sigma")]
    pub service_sigma: f64,
    #[serde(default)]
    pub green_share: f64,
    #[serde(default)]
    pub no_show_share: f64,
    #[serde(default)]
    pub requeue_share: f64,
    #[serde(default)]
    pub walk_s: f64,
    #[serde(default = "default_no_show_wait")]
    pub no_show_wait_s: f64,
    #[serde(default = "default_tidal_walk")]
    pub tidal_walk_s: f64,
    /// 不排了: the share of citizens who give up waiting after a patience
    /// drawn with mean `cancel_patience_s` (exponential) and cancel from
    /// their phone, if still waiting then. 0 (the default): nobody does.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cancel_share: f64,
    #[serde(default = "default_cancel_patience")]
    pub cancel_patience_s: f64,
    /// 挂起: the share of services the clerk holds halfway (the citizen
    /// fetches a missing document, away for a time with mean `hold_away_s`,
    /// exponential); the window calls them back when it is next free, or
    /// they become a no-show after the hall's `hold_max_min`. 0: none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hold_share: f64,
    #[serde(default = "default_hold_away")]
    pub hold_away_s: f64,
    /// Default category shares; empty means equal shares over the hall's categories.
    #[serde(default)]
    pub mix: BTreeMap<String, f64>,
    #[serde(rename = "rate", default)]
    pub rates: Vec<RateSegment>,
    #[serde(rename = "break", default)]
    pub breaks: Vec<BreakRule>,
    /// Day-of-week effect: arrival rates × `weekday[d]` (Monday first, 7
    /// values); empty = no effect.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekday: Vec<f64>,
    /// Day-to-day noise: every rate of a day × a lognormal factor with mean 1
    /// and this σ (0 = none), drawn per day, the same for every policy.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub day_noise: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn default_service() -> ServiceDist {
    ServiceDist::Lognormal
}
fn default_sigma() -> f64 {
    0.5
}
fn default_no_show_wait() -> f64 {
    60.0
}
fn default_tidal_walk() -> f64 {
    90.0
}
fn default_cancel_patience() -> f64 {
    1200.0
}
fn default_hold_away() -> f64 {
    600.0
}

fn tod(h: u16, m: u16) -> TimeOfDay {
    TimeOfDay(h * 60 + m)
}

impl Profile {
    /// The built-in town centre (镇便民服务中心), made for the demo hall's
    /// categories: about 600 tickets a day, peaks 9–11 and 14–16, a quiet lunch.
    pub fn town_centre() -> Profile {
        let seg = |fh, fm, th, tm, per_hour| RateSegment {
            from: tod(fh, fm),
            to: tod(th, tm),
            per_hour,
            mix: BTreeMap::new(),
        };
        let mix = [
            ("general", 0.40),
            ("social", 0.24),
            ("civil", 0.10),
            ("market", 0.06),
            ("estate", 0.06),
            ("veterans", 0.04),
            ("crosscity", 0.10),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Profile {
            name: "town-centre".into(),
            open: tod(8, 30),
            last_ticket: tod(17, 0),
            close: tod(17, 30),
            service: ServiceDist::Lognormal,
            service_sigma: 0.5,
            green_share: 0.08,
            no_show_share: 0.05,
            requeue_share: 0.3,
            walk_s: 25.0,
            no_show_wait_s: 60.0,
            tidal_walk_s: 90.0,
            cancel_share: 0.0,
            cancel_patience_s: default_cancel_patience(),
            hold_share: 0.0,
            hold_away_s: default_hold_away(),
            mix,
            // 20 + 190 + 65 + 30 + 35 + 180 + 80 = 600 tickets.
            rates: vec![
                seg(8, 30, 9, 0, 40.0),
                seg(9, 0, 11, 0, 95.0),
                seg(11, 0, 12, 0, 65.0),
                seg(12, 0, 13, 0, 30.0),
                seg(13, 0, 14, 0, 35.0),
                seg(14, 0, 16, 0, 90.0),
                seg(16, 0, 17, 0, 80.0),
            ],
            weekday: Vec::new(),
            day_noise: 0.0,
            breaks: vec![
                BreakRule {
                    from: tod(10, 0),
                    to: tod(11, 0),
                    minutes: 15.0,
                    rota: false,
                },
                BreakRule {
                    from: tod(11, 30),
                    to: tod(13, 0),
                    minutes: 45.0,
                    rota: true,
                },
                BreakRule {
                    from: tod(15, 0),
                    to: tod(16, 0),
                    minutes: 15.0,
                    rota: false,
                },
            ],
        }
    }

    /// Parses and checks a profile file's text.
    pub fn from_toml(text: &str) -> Result<Profile, SimError> {
        Profile::from_toml_named(text, "profile")
    }

    /// Parses and checks a profile file's text; a mistake is named by
    /// `name` (the file) and the line it is on.
    pub fn from_toml_named(text: &str, name: &str) -> Result<Profile, SimError> {
        let p: Profile = toml::from_str(text).map_err(|e| SimError::At {
            path: name.to_string(),
            line: e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].lines().count().max(1)
            }),
            message: e.message().trim().to_string(),
        })?;
        p.check().map_err(|(key, message)| SimError::At {
            path: name.to_string(),
            line: line_of(text, &key),
            message,
        })?;
        Ok(p)
    }

    pub fn validate(&self) -> Result<(), SimError> {
        self.check().map_err(|(_, m)| SimError::Profile(m))
    }

    /// Checks the profile alone: `Err((key, message))`, where the key is a
    /// dotted path (`close`, `rate.2.per_hour`, `break.0.minutes`) for
    /// [`line_of`].
    pub fn check(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: String| Err((k.to_string(), m));
        if self.open >= self.close {
            return bad(
                "close",
                format!("close {} must be after open {}", self.close, self.open),
            );
        }
        if !(self.open <= self.last_ticket && self.last_ticket <= self.close) {
            return bad(
                "last_ticket",
                format!(
                    "last_ticket {} must lie within open {} .. close {}",
                    self.last_ticket, self.open, self.close
                ),
            );
        }
        for (name, v) in [
            ("green_share", self.green_share),
            ("no_show_share", self.no_show_share),
            ("requeue_share", self.requeue_share),
            ("cancel_share", self.cancel_share),
            ("hold_share", self.hold_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return bad(name, format!("{name} must be within 0..1, got {v}"));
            }
        }
        for (name, v) in [
            ("service_sigma", self.service_sigma),
            ("walk_s", self.walk_s),
            ("no_show_wait_s", self.no_show_wait_s),
            ("tidal_walk_s", self.tidal_walk_s),
            ("cancel_patience_s", self.cancel_patience_s),
            ("hold_away_s", self.hold_away_s),
        ] {
            if !(v.is_finite() && (0.0..=86_400.0).contains(&v)) {
                return bad(
                    name,
                    format!("{name} must be a number within 0..86400, got {v}"),
                );
            }
        }
        if self.rates.is_empty() {
            return bad("rate", "at least one [[rate]] segment is needed".into());
        }
        if !(self.weekday.is_empty()
            || (self.weekday.len() == 7
                && self
                    .weekday
                    .iter()
                    .all(|w| w.is_finite() && (0.0..=100.0).contains(w))))
        {
            return bad(
                "weekday",
                "weekday needs 7 factors within 0..100, Monday first".into(),
            );
        }
        if !(self.day_noise.is_finite() && (0.0..=2.0).contains(&self.day_noise)) {
            return bad(
                "day_noise",
                format!("day_noise must be within 0..2, got {}", self.day_noise),
            );
        }
        for (i, r) in self.rates.iter().enumerate() {
            if r.from >= r.to {
                return bad(
                    &format!("rate.{i}.to"),
                    format!("rate {}-{}: from must be before to", r.from, r.to),
                );
            }
            if !(r.per_hour.is_finite() && (0.0..=1e6).contains(&r.per_hour)) {
                return bad(
                    &format!("rate.{i}.per_hour"),
                    format!(
                        "rate {}-{}: per_hour must be within 0..1000000",
                        r.from, r.to
                    ),
                );
            }
            check_mix(&r.mix).map_err(|(k, m)| (format!("rate.{i}.mix.{k}"), m))?;
        }
        check_mix(&self.mix).map_err(|(k, m)| (format!("mix.{k}"), m))?;
        for (i, b) in self.breaks.iter().enumerate() {
            if b.from > b.to || !(b.minutes.is_finite() && b.minutes > 0.0 && b.minutes <= 1440.0) {
                return bad(
                    &format!("break.{i}.minutes"),
                    format!(
                        "break {}-{}: need from <= to and minutes within 0..1440 (above 0)",
                        b.from, b.to
                    ),
                );
            }
        }
        Ok(())
    }

    /// Checks the profile against the hall it runs in: the simulated day
    /// (from `open` to `close`) must lie inside one business day of the core,
    /// which ends at the hall's `day_close` (see [`crate::engine::end_minute`]).
    pub fn check_hall(&self, hall: &hallcall_core::HallConfig) -> Result<(), (String, String)> {
        let end = crate::engine::end_minute(hall, self);
        if self.close.minutes() > end {
            return Err((
                "close".into(),
                format!(
                    "close {} is after hall {:?}'s day_close {}, which ends the business day \
                     (and expires every ticket) first: set close at or before it",
                    self.close, hall.id, hall.day_close
                ),
            ));
        }
        Ok(())
    }

    /// Expected tickets a day (before scaling).
    pub fn tickets_per_day(&self) -> f64 {
        self.rates
            .iter()
            .map(|r| {
                let from = r.from.minutes().max(self.open.minutes());
                let to = r.to.minutes().min(self.last_ticket.minutes());
                f64::from(to.saturating_sub(from)) / 60.0 * r.per_hour
            })
            .sum()
    }

    /// Multiplies every rate so that a day expects `tickets` tickets.
    pub fn scale_to(&mut self, tickets: f64) {
        let now = self.tickets_per_day();
        if now > 0.0 && tickets.is_finite() && tickets >= 0.0 {
            let f = tickets / now;
            for r in &mut self.rates {
                r.per_hour *= f;
            }
        }
    }
}

fn check_mix(mix: &BTreeMap<String, f64>) -> Result<(), (String, String)> {
    for (k, v) in mix {
        if !(v.is_finite() && *v >= 0.0) {
            return Err((k.clone(), format!("mix.{k} must be >= 0, got {v}")));
        }
    }
    if !mix.is_empty() && mix.values().sum::<f64>() <= 0.0 {
        return Err((String::new(), "a mix needs a positive share".into()));
    }
    Ok(())
}

/// The 1-based line of a dotted key (`close`, `rate.2.per_hour`,
/// `rate.0.mix.general`, `break.1.minutes`) in a profile's text: the line
/// that sets it, else the header of its table, else line 1.
pub fn line_of(text: &str, key: &str) -> usize {
    let parts: Vec<&str> = key.split('.').filter(|p| !p.is_empty()).collect();
    // The table the key lives in, as the header's text and its index among
    // headers of that name.
    let (table, nth, rest): (Option<String>, usize, &[&str]) = match parts.as_slice() {
        [t @ ("rate" | "break"), i, rest @ ..] if i.parse::<usize>().is_ok() => {
            let i = i.parse().unwrap_or(0);
            match rest {
                ["mix", k @ ..] => (Some(format!("{t}.mix")), i, k),
                _ => (Some((*t).to_string()), i, rest),
            }
        }
        ["mix", rest @ ..] => (Some("mix".into()), 0, rest),
        [t @ ("rate" | "break")] => (Some((*t).to_string()), 0, &[]),
        _ => (None, 0, parts.as_slice()),
    };
    let want = rest.first().copied();
    let mut current: Option<String> = None;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut header_line = None;
    let mut index_of_parent: usize = 0;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(h) = t.strip_prefix('[') {
            let name = h.trim_start_matches('[');
            let name = name.split(']').next().unwrap_or("").trim().to_string();
            let c = seen.entry(name.clone()).or_insert(0);
            *c += 1;
            if name == "rate" || name == "break" {
                index_of_parent = *c - 1;
            }
            let idx = if name.ends_with(".mix") {
                index_of_parent
            } else {
                *c - 1
            };
            if table.as_deref() == Some(name.as_str()) && idx == nth {
                header_line = Some(n + 1);
            }
            current = Some(name);
            continue;
        }
        let here = match (&table, &current) {
            (None, None) => true,
            (Some(t), Some(c)) => {
                t == c && header_line.is_some() && {
                    let count = seen.get(c).copied().unwrap_or(0);
                    (if c.ends_with(".mix") {
                        index_of_parent
                    } else {
                        count - 1
                    }) == nth
                }
            }
            _ => false,
        };
        if here {
            if let (Some(w), Some((k, _))) = (want, t.split_once('=')) {
                if k.trim().trim_matches('"') == w {
                    return n + 1;
                }
            }
        }
    }
    header_line.unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_town_centre_expects_about_600_tickets() {
        let p = Profile::town_centre();
        p.validate().expect("valid");
        assert!(
            (p.tickets_per_day() - 600.0).abs() < 1.0,
            "{}",
            p.tickets_per_day()
        );
    }

    #[test]
    fn profiles_round_trip_through_toml_and_mistakes_are_named() {
        let p = Profile::town_centre();
        let text = toml::to_string(&p).expect("serialises");
        assert_eq!(Profile::from_toml(&text).expect("parses"), p);
        let e = Profile::from_toml(&text.replace("no_show_share = 0.05", "no_show_share = 5.0"))
            .expect_err("refused");
        assert!(e.to_string().contains("no_show_share"), "{e}");
        let e = Profile::from_toml("name = 'x'\nopen = '09:00'\n").expect_err("refused");
        assert!(e.to_string().contains("profile"), "{e}");
    }
}
