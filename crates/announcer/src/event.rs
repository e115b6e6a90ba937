//! Hall events (as JSON on the wire) → what, if anything, is to be said.
//!
//! Deliberately works on `serde_json::Value` and not on hallcall-core's types:
//! the announcer only needs five fields, and must keep working (saying nothing)
//! when it meets an event type it does not know.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use serde_json::Value;

/// Longest ticket number accepted (longer ones are not said).
pub const MAX_TICKET_LEN: usize = 16;

/// Something to say, parsed from one hall event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Announcement {
    /// The event's `seq` (position in the hall's event log), if present.
    pub seq: Option<u64>,
    /// The event's `at` timestamp, if present and valid RFC 3339.
    pub at: Option<DateTime<FixedOffset>>,
    /// The event's `hall`, if present.
    pub hall: Option<String>,
    /// What to say.
    pub kind: AnnouncementKind,
}

/// The three things the hall says out loud.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnnouncementKind {
    /// 请 A012 号 到 3 号窗口 办理. `recall` is a call said again for the same
    /// ticket; it is announced exactly like a call.
    Call {
        /// Ticket number, upper-case ASCII letters and digits ("A012").
        number: String,
        /// Window number.
        window: u32,
        /// Whether this is a recall (重呼).
        recall: bool,
    },
    /// 七号 潮汐窗口已开放.
    TidalOpened {
        /// Window number.
        window: u32,
    },
    /// 三号窗口 暂停服务.
    WindowPaused {
        /// Window number.
        window: u32,
    },
}

impl Announcement {
    /// Parses one hall event. Returns `None` for anything that is not said:
    /// snapshots, other event types, non-tidal window openings, and malformed
    /// events (missing or invalid number / window).
    pub fn from_event(event: &Value) -> Option<Announcement> {
        let kind = match event.get("type")?.as_str()? {
            "ticket_called" => AnnouncementKind::Call {
                number: ticket_number(event.get("number")?)?,
                window: window_number(event.get("window")?)?,
                recall: event.get("recall").and_then(Value::as_bool) == Some(true),
            },
            "window_opened" => {
                if event.get("tidal").and_then(Value::as_bool) != Some(true) {
                    return None;
                }
                AnnouncementKind::TidalOpened {
                    window: window_number(event.get("window")?)?,
                }
            }
            "window_paused" => AnnouncementKind::WindowPaused {
                window: window_number(event.get("window")?)?,
            },
            _ => return None,
        };
        Some(Announcement {
            seq: message_seq(event),
            at: event
                .get("at")
                .and_then(Value::as_str)
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok()),
            hall: event.get("hall").and_then(Value::as_str).map(str::to_owned),
            kind,
        })
    }

    /// The window this announcement is about.
    pub fn window(&self) -> u32 {
        match &self.kind {
            AnnouncementKind::Call { window, .. }
            | AnnouncementKind::TidalOpened { window }
            | AnnouncementKind::WindowPaused { window } => *window,
        }
    }

    /// File name used when rendering to a directory:
    /// `{seq}-{number}-w{window}.wav`, `{seq}-tidal-w{window}.wav`,
    /// `{seq}-paused-w{window}.wav` (`noseq` when the event had no seq).
    pub fn file_name(&self) -> String {
        let seq = self
            .seq
            .map_or_else(|| "noseq".to_owned(), |s| s.to_string());
        match &self.kind {
            AnnouncementKind::Call { number, window, .. } => {
                format!("{seq}-{number}-w{window}.wav")
            }
            AnnouncementKind::TidalOpened { window } => format!("{seq}-tidal-w{window}.wav"),
            AnnouncementKind::WindowPaused { window } => format!("{seq}-paused-w{window}.wav"),
        }
    }
}

/// The `seq` of any message of the event stream (events and snapshots).
pub fn message_seq(message: &Value) -> Option<u64> {
    message.get("seq").and_then(Value::as_u64)
}

/// Whether a stream message is the initial state snapshot.
pub fn is_snapshot(message: &Value) -> bool {
    message.get("type").and_then(Value::as_str) == Some("snapshot")
}

/// "a012" → "A012"; only ASCII letters and digits, 1..=16 characters.
fn ticket_number(v: &Value) -> Option<String> {
    let s = v.as_str()?.trim();
    if s.is_empty() || s.len() > MAX_TICKET_LEN || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    Some(s.to_ascii_uppercase())
}

/// Window numbers are non-negative integers; "7" as a string is tolerated.
fn window_number(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_a_call() {
        let ev = json!({"seq":17,"at":"2026-11-23T09:12:00+08:00","hall":"demo","type":"ticket_called",
            "by":"staff:s01","ticket":"k3j","number":"A012","category":"general","window":3,"recall":false});
        let a = Announcement::from_event(&ev).expect("a call");
        assert_eq!(a.seq, Some(17));
        assert_eq!(a.hall.as_deref(), Some("demo"));
        assert_eq!(
            a.at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-11-23T09:12:00+08:00")
        );
        assert_eq!(
            a.kind,
            AnnouncementKind::Call {
                number: "A012".into(),
                window: 3,
                recall: false
            }
        );
        assert_eq!(a.file_name(), "17-A012-w3.wav");
        assert_eq!(a.window(), 3);
    }

    #[test]
    fn parses_a_recall_and_lowercase_number() {
        let ev =
            json!({"seq":20,"type":"ticket_called","number":" b7 ","window":"12","recall":true});
        let a = Announcement::from_event(&ev).expect("a recall");
        assert_eq!(
            a.kind,
            AnnouncementKind::Call {
                number: "B7".into(),
                window: 12,
                recall: true
            }
        );
        assert_eq!(a.at, None);
    }

    #[test]
    fn tidal_only_when_tidal() {
        let tidal = json!({"seq":18,"at":"2026-11-23T09:13:00+08:00","hall":"demo","type":"window_opened",
            "window":7,"tidal":true,"staff":"s06","reason":"queue long"});
        let a = Announcement::from_event(&tidal).expect("tidal");
        assert_eq!(a.kind, AnnouncementKind::TidalOpened { window: 7 });
        assert_eq!(a.file_name(), "18-tidal-w7.wav");
        let plain = json!({"seq":18,"type":"window_opened","window":7,"tidal":false});
        assert_eq!(Announcement::from_event(&plain), None);
        let no_flag = json!({"seq":18,"type":"window_opened","window":7});
        assert_eq!(Announcement::from_event(&no_flag), None);
    }

    #[test]
    fn paused() {
        let ev = json!({"seq":19,"type":"window_paused","window":3,"reason":"break"});
        let a = Announcement::from_event(&ev).expect("paused");
        assert_eq!(a.kind, AnnouncementKind::WindowPaused { window: 3 });
        assert_eq!(a.file_name(), "19-paused-w3.wav");
    }

    #[test]
    fn says_nothing_for_snapshots_other_types_and_garbage() {
        let snap = json!({"type":"snapshot","seq":42,"state":{"windows":[]}});
        assert!(is_snapshot(&snap));
        assert_eq!(message_seq(&snap), Some(42));
        assert_eq!(Announcement::from_event(&snap), None);
        for ev in [
            json!({"seq":1,"type":"ticket_issued","number":"A001"}),
            json!({"seq":1,"type":"ticket_called","window":3}),
            json!({"seq":1,"type":"ticket_called","number":"A001"}),
            json!({"seq":1,"type":"ticket_called","number":"A-01","window":3}),
            json!({"seq":1,"type":"ticket_called","number":"甲01","window":3}),
            json!({"seq":1,"type":"ticket_called","number":"","window":3}),
            json!({"seq":1,"type":"ticket_called","number":"A0123456789012345","window":3}),
            json!({"seq":1,"type":"ticket_called","number":12,"window":3}),
            json!({"seq":1,"type":"ticket_called","number":"A001","window":-3}),
            json!({"seq":1,"type":"ticket_called","number":"A001","window":5_000_000_000u64}),
            json!({"seq":1,"type":"ticket_called","number":"A001","window":1.5}),
            json!({"seq":1,"type":"window_paused"}),
            json!({"type":7}),
            json!([1, 2]),
            json!("ticket_called"),
            Value::Null,
        ] {
            assert_eq!(Announcement::from_event(&ev), None, "{ev}");
        }
    }

    #[test]
    fn bad_timestamp_is_ignored_not_fatal() {
        let ev = json!({"type":"window_paused","window":3,"at":"yesterday"});
        let a = Announcement::from_event(&ev).expect("paused");
        assert_eq!(a.at, None);
        assert_eq!(a.seq, None);
        assert_eq!(a.file_name(), "noseq-paused-w3.wav");
    }
}
