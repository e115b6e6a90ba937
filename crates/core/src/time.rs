//! Time as a value. The core never reads a clock: every command arrives with
//! `now` in Unix milliseconds, and local-time questions (is the hall open, which
//! business day is it) are answered from the hall's configured timezone.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Unix time in milliseconds. Integers keep the core deterministic and cheap to
/// compare; RFC 3339 appears only at the serialization boundary.
pub type Millis = i64;

/// Milliseconds in one second, for readability at call sites.
pub const SECOND: Millis = 1_000;
/// Milliseconds in one minute.
pub const MINUTE: Millis = 60 * SECOND;

/// Formats a timestamp as RFC 3339 in UTC with millisecond precision.
pub fn rfc3339(at: Millis) -> String {
    match Utc.timestamp_millis_opt(at).single() {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        None => at.to_string(),
    }
}

/// Parses RFC 3339 into Unix milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<Millis> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// serde adapter: `Millis` on the wire as an RFC 3339 string.
pub mod rfc3339_ms {
    use super::*;

    pub fn serialize<S: Serializer>(at: &Millis, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc3339(*at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Millis, D::Error> {
        let s = String::deserialize(d)?;
        parse_rfc3339(&s).ok_or_else(|| serde::de::Error::custom(format!("not RFC 3339: {s}")))
    }
}

/// A time of day as minutes after local midnight; `24:00` (1440) is allowed as
/// the end of a range or a midnight day close.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(pub u16);

impl TimeOfDay {
    pub fn parse(s: &str) -> Option<Self> {
        let (h, m) = s.trim().split_once(':')?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return None;
        }
        let h: u16 = h.parse().ok()?;
        let m: u16 = m.parse().ok()?;
        if m >= 60 || h > 24 || (h == 24 && m != 0) {
            return None;
        }
        Some(TimeOfDay(h * 60 + m))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl std::fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TimeOfDay::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("expected HH:MM, got {s:?}")))
    }
}

/// An opening period such as `08:30-12:00`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

impl TimeRange {
    pub fn parse(s: &str) -> Option<Self> {
        let (a, b) = s.split_once('-')?;
        let start = TimeOfDay::parse(a)?;
        let end = TimeOfDay::parse(b)?;
        (start < end).then_some(TimeRange { start, end })
    }

    pub fn contains(&self, minute: u16) -> bool {
        self.start.0 <= minute && minute < self.end.0
    }
}

impl Serialize for TimeRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}-{}", self.start, self.end))
    }
}

impl<'de> Deserialize<'de> for TimeRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TimeRange::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("expected HH:MM-HH:MM with start < end, got {s:?}"))
        })
    }
}

/// The local calendar view of an instant in a hall's timezone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalMoment {
    pub date: NaiveDate,
    /// Minutes after local midnight.
    pub minute: u16,
    /// Milliseconds after local midnight.
    pub ms_of_day: i64,
    /// 0 = Monday.
    pub weekday: u8,
}

pub fn local(tz: Tz, at: Millis) -> LocalMoment {
    let utc = Utc
        .timestamp_millis_opt(at)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let t = utc.with_timezone(&tz);
    let secs = t.num_seconds_from_midnight() as i64;
    LocalMoment {
        date: t.date_naive(),
        minute: (secs / 60) as u16,
        ms_of_day: secs * 1000 + (t.timestamp_subsec_millis() as i64),
        weekday: t.weekday().num_days_from_monday() as u8,
    }
}

/// The instant a local wall-clock time happens on a date (earliest if ambiguous,
/// shifted past a gap if it does not exist).
pub fn instant_of(tz: Tz, date: NaiveDate, minute: u16) -> Millis {
    let (date, minute) = if minute >= 1440 {
        (date.succ_opt().unwrap_or(date), minute - 1440)
    } else {
        (date, minute)
    };
    let naive_time = NaiveTime::from_hms_opt(u32::from(minute / 60), u32::from(minute % 60), 0)
        .unwrap_or_default();
    let naive = date.and_time(naive_time);
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => t.timestamp_millis(),
        chrono::LocalResult::Ambiguous(a, _) => a.timestamp_millis(),
        chrono::LocalResult::None => {
            let later = naive + chrono::Duration::hours(1);
            tz.from_local_datetime(&later)
                .earliest()
                .map(|t| t.timestamp_millis())
                .unwrap_or(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_of_day_parses_and_refuses() {
        assert_eq!(TimeOfDay::parse("08:30"), Some(TimeOfDay(510)));
        assert_eq!(TimeOfDay::parse("24:00"), Some(TimeOfDay(1440)));
        assert_eq!(TimeOfDay::parse("24:01"), None);
        assert_eq!(TimeOfDay::parse("8:60"), None);
        assert_eq!(TimeOfDay::parse("noon"), None);
        assert!(TimeRange::parse("12:00-08:30").is_none());
        assert!(
            TimeRange::parse("08:30-12:00").is_some_and(|r| r.contains(600) && !r.contains(720))
        );
    }

    #[test]
    fn local_time_in_shanghai() {
        let at = parse_rfc3339("2026-11-23T01:30:00Z").unwrap_or_default();
        let l = local(chrono_tz::Asia::Shanghai, at);
        assert_eq!(l.minute, 9 * 60 + 30);
        assert_eq!(l.weekday, 0);
        assert_eq!(
            instant_of(chrono_tz::Asia::Shanghai, l.date, 9 * 60 + 30),
            at
        );
        assert_eq!(rfc3339(at), "2026-11-23T01:30:00.000Z");
    }
}
