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
    match Rfc3339::new(at) {
        Some(r) => r.as_str().to_owned(),
        None => rfc3339_slow(at),
    }
}

/// [`rfc3339`] through chrono's formatter: years outside 0000–9999, which
/// [`Rfc3339`] does not write, and the reference its tests compare with.
fn rfc3339_slow(at: Millis) -> String {
    match Utc.timestamp_millis_opt(at).single() {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        None => at.to_string(),
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` on the stack: what chrono's
/// `to_rfc3339_opts(Millis, true)` writes for years 0000–9999, without its
/// formatting machinery or an allocation (every event's `at` goes through
/// it when the store encodes the event: ≈ 1,300 instructions an event
/// through chrono, ≈ 100 here).
pub(crate) struct Rfc3339([u8; 24]);

impl Rfc3339 {
    /// `None` for a year outside 0000–9999.
    pub(crate) fn new(at: Millis) -> Option<Rfc3339> {
        const DAY: i64 = 86_400_000;
        let (days, ms) = (at.div_euclid(DAY), at.rem_euclid(DAY));
        // Days since 1970-01-01 to the civil date (H. Hinnant's
        // `civil_from_days`, proleptic Gregorian as chrono).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        if !(0..=9_999).contains(&year) {
            return None;
        }
        let mut b = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut v: i64| {
            for i in (at..at + width).rev() {
                b[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, month);
        put(8, 2, day);
        put(11, 2, ms / 3_600_000);
        put(14, 2, ms / 60_000 % 60);
        put(17, 2, ms / 1_000 % 60);
        put(20, 3, ms % 1_000);
        Some(Rfc3339(b))
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits and separators were written.
        std::str::from_utf8(&self.0).unwrap_or_default()
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
        match Rfc3339::new(*at) {
            Some(r) => s.serialize_str(r.as_str()),
            None => s.serialize_str(&rfc3339_slow(*at)),
        }
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
    fn rfc3339_writes_what_chrono_writes() {
        let mut at: i64 = -62_167_219_200_000 - 5; // just before 0000-01-01
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut checked = 0;
        // Day and year edges, then pseudo-random instants over ±400 years
        // around now, then the edges of what chrono can represent.
        let edges = [
            -62_167_219_200_001,
            -62_167_219_200_000,
            -1,
            0,
            1,
            951_782_399_999, // 2000-02-28T23:59:59.999Z
            951_868_800_000, // 2000-03-01
            4_107_542_399_999,
            253_402_300_799_999, // 9999-12-31T23:59:59.999Z
            253_402_300_800_000,
            i64::MIN,
            i64::MAX,
        ];
        for &e in &edges {
            assert_eq!(rfc3339(e), rfc3339_slow(e), "{e}");
        }
        while checked < 200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let span = 400 * 366 * 86_400_000u64;
            let t = (x % (2 * span)) as i64 - span as i64 + 1_795_395_600_000;
            assert_eq!(rfc3339(t), rfc3339_slow(t), "{t}");
            at += 86_399_999 + (x % 3) as i64; // every day of year 0 onwards
            if at < 300_000_000_000_000 {
                assert_eq!(rfc3339(at), rfc3339_slow(at), "{at}");
            }
            checked += 1;
        }
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
