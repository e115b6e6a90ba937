//! [`Event::write_json`]: an event's JSON written directly, for the store's
//! hot path (every event of every command is serialised once into the log).
//! The bytes are exactly `serde_json::to_writer`'s — the derived
//! `Serialize` stays the definition of the format — but the common events
//! (a ticket's issue, call, start, completion, …) skip serde's map machinery
//! and the escape scan of every key. Any other event, and any string that
//! needs escaping, goes through serde_json itself.
//!
//! Each fast arm destructures its variant without `..`, so a field added to
//! one of these events does not compile until it is written here too; the
//! order of the fields and everything else is checked against serde_json by
//! the tests below and, in debug builds, on every call.

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter};

use super::{Event, EventKind};
use crate::model::Actor;
use crate::time::Rfc3339;

impl Event {
    /// Appends this event's JSON to `out`: the same bytes as
    /// `serde_json::to_writer(out, self)`, written faster for the common
    /// events. On `Err` (serde_json refused a value; not expected of an
    /// event) `out` may hold part of it.
    pub fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let start = out.len();
        if !fast(self, out) {
            out.truncate(start);
            serde_json::to_writer(&mut *out, self)?;
        }
        debug_assert!(
            serde_json::to_vec(self).is_ok_and(|want| out[start..] == want[..]),
            "Event::write_json differs from serde_json for {}",
            String::from_utf8_lossy(&out[start..])
        );
        Ok(())
    }
}

/// A JSON string that needs no escape: no `"`, `\` or control character
/// (serde_json escapes exactly those).
fn plain(s: &str) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Whether any byte of `x` is below `n` (≤ 128): exact, not a guess.
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH != 0;
    let mut chunks = s.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let x = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        if below(x, 0x20) || below(x ^ (ONES * 0x22), 1) || below(x ^ (ONES * 0x5c), 1) {
            return false;
        }
    }
    chunks
        .remainder()
        .iter()
        .all(|&b| b >= 0x20 && b != b'"' && b != b'\\')
}

struct W<'a>(&'a mut Vec<u8>);

impl W<'_> {
    fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    /// `,"key":` — keys are literals that need no escape.
    fn key(&mut self, key: &str) {
        self.0.reserve(key.len() + 4);
        self.0.extend_from_slice(b",\"");
        self.0.extend_from_slice(key.as_bytes());
        self.0.extend_from_slice(b"\":");
    }

    fn str(&mut self, s: &str) {
        if plain(s) {
            self.0.reserve(s.len() + 2);
            self.0.push(b'"');
            self.0.extend_from_slice(s.as_bytes());
            self.0.push(b'"');
        } else {
            self.serde(s);
        }
    }

    /// Any other value, through serde_json (a `Vec` never fails to write,
    /// and the values written here are ones serde_json accepts).
    fn serde<T: Serialize + ?Sized>(&mut self, v: &T) {
        let _ = serde_json::to_writer(&mut *self.0, v);
    }

    fn u64(&mut self, v: u64) {
        let _ = CompactFormatter.write_u64(self.0, v);
    }

    fn u32(&mut self, v: u32) {
        let _ = CompactFormatter.write_u32(self.0, v);
    }

    fn i64(&mut self, v: i64) {
        let _ = CompactFormatter.write_i64(self.0, v);
    }

    fn bool(&mut self, v: bool) {
        self.raw(if v { b"true" } else { b"false" });
    }

    fn field_str(&mut self, key: &str, s: &str) {
        self.key(key);
        self.str(s);
    }

    fn field_u32(&mut self, key: &str, v: u32) {
        self.key(key);
        self.u32(v);
    }

    /// A `bool` with `skip_serializing_if = "std::ops::Not::not"`.
    fn flag(&mut self, key: &str, v: bool) {
        if v {
            self.key(key);
            self.raw(b"true");
        }
    }
}

/// Writes the common events; false (with `out` to be truncated) for the
/// others.
fn fast(ev: &Event, out: &mut Vec<u8>) -> bool {
    use EventKind as K;
    let Event {
        seq,
        at,
        hall,
        by,
        kind,
    } = ev;
    let mut w = W(out);
    w.0.reserve(256);
    w.raw(b"{\"seq\":");
    w.u64(*seq);
    w.key("at");
    match Rfc3339::new(*at) {
        Some(t) => w.str(t.as_str()),
        None => return false,
    }
    w.field_str("hall", hall);
    w.key("by");
    match by {
        Actor::Staff(id) if plain(id) => {
            w.raw(b"\"staff:");
            w.raw(id.as_bytes());
            w.raw(b"\"");
        }
        Actor::Staff(_) => w.serde(by),
        Actor::Kiosk => w.raw(b"\"kiosk\""),
        Actor::Supervisor => w.raw(b"\"supervisor\""),
        Actor::System => w.raw(b"\"system\""),
        Actor::Public => w.raw(b"\"public\""),
    }
    w.key("type");
    w.str(kind.type_name());
    match kind {
        K::DayOpened { date } => {
            w.key("date");
            w.serde(date);
        }
        K::DayClosed { date, expired } => {
            w.key("date");
            w.serde(date);
            w.field_u32("expired", *expired);
        }
        K::TicketIssued {
            ticket,
            number,
            category,
            priority,
            channel,
            key,
            appointment,
            appointment_late,
        } => {
            w.field_str("ticket", ticket);
            w.field_str("number", number);
            w.field_str("category", category);
            w.key("priority");
            w.serde(priority);
            w.key("channel");
            w.serde(channel);
            w.key("key");
            w.i64(*key);
            if let Some(code) = appointment {
                w.field_str("appointment", code);
            }
            w.flag("appointment_late", *appointment_late);
        }
        K::TicketCalled {
            ticket,
            number,
            category,
            window,
            staff,
            recall,
            out_of_order,
            resumed,
        } => {
            w.field_str("ticket", ticket);
            w.field_str("number", number);
            w.field_str("category", category);
            w.field_u32("window", *window);
            w.field_str("staff", staff);
            w.key("recall");
            w.bool(*recall);
            w.flag("out_of_order", *out_of_order);
            w.flag("resumed", *resumed);
        }
        K::TicketNoShow {
            ticket,
            number,
            window,
            held,
        } => {
            w.field_str("ticket", ticket);
            w.field_str("number", number);
            w.field_u32("window", *window);
            w.flag("held", *held);
        }
        K::TicketNearTurn {
            ticket,
            number,
            ahead,
        } => {
            w.field_str("ticket", ticket);
            w.field_str("number", number);
            w.field_u32("ahead", *ahead);
        }
        K::TicketRequeued {
            ticket,
            number,
            category,
            key,
        } => {
            w.field_str("ticket", ticket);
            w.field_str("number", number);
            w.field_str("category", category);
            w.key("key");
            w.i64(*key);
        }
        K::ServiceStarted {
            ticket,
            number,
            window,
            staff,
        } => {
            w.field_str("ticket", ticket);
            w.field_str("number", number);
            w.field_u32("window", *window);
            w.field_str("staff", staff);
        }
        K::ServiceCompleted {
            ticket,
            number,
            category,
            window,
            staff,
            wait_s,
            handling_s,
        } => {
            w.field_str("ticket", ticket);
            w.field_str("number", number);
            w.field_str("category", category);
            w.field_u32("window", *window);
            w.field_str("staff", staff);
            w.key("wait_s");
            w.serde(wait_s);
            w.key("handling_s");
            w.serde(handling_s);
        }
        K::TicketCancelled { ticket, number } | K::TicketExpired { ticket, number } => {
            w.field_str("ticket", ticket);
            w.field_str("number", number);
        }
        _ => return false,
    }
    w.raw(b"}");
    true
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::command::Command;
    use crate::model::{Channel, Priority, WindowState};
    use crate::time::Millis;

    fn same(ev: &Event) {
        let want = serde_json::to_vec(ev).expect("serde");
        let mut got = b"prefix".to_vec();
        ev.write_json(&mut got).expect("write_json");
        assert!(got.starts_with(b"prefix"));
        assert_eq!(
            String::from_utf8_lossy(&got[6..]),
            String::from_utf8_lossy(&want)
        );
    }

    fn ev(seq: u64, at: Millis, by: Actor, kind: EventKind) -> Event {
        Event {
            seq,
            at,
            hall: Arc::from("b001"),
            by,
            kind,
        }
    }

    /// Strings that need escaping, or not, or are not ASCII.
    const STRINGS: [&str; 8] = [
        "t1",
        "",
        "A001",
        "say \"hi\"",
        "back\\slash",
        "line\nfeed\t\u{1}\u{1f}",
        "综合窗口 ✓",
        "\u{7f}del",
    ];

    fn kinds(s: &str, n: u64, b: bool) -> Vec<EventKind> {
        let st = || s.to_string();
        let date = chrono::NaiveDate::from_ymd_opt(2026, 2, 28).unwrap_or_default();
        let f = [0.0, -0.0, 1.5, 30.0, 1e300, f64::NAN, f64::INFINITY, 0.1][(n % 8) as usize];
        vec![
            EventKind::DayOpened { date },
            EventKind::DayClosed {
                date,
                expired: n as u32,
            },
            EventKind::TicketIssued {
                ticket: st(),
                number: st(),
                category: st(),
                priority: if b {
                    Priority::default()
                } else {
                    Priority::Elderly
                },
                channel: if b {
                    Channel::default()
                } else {
                    Channel::Mobile
                },
                key: -(n as i64) * 1_000_003,
                appointment: b.then(st),
                appointment_late: !b,
            },
            EventKind::TicketCalled {
                ticket: st(),
                number: st(),
                category: st(),
                window: n as u32,
                staff: st(),
                recall: b,
                out_of_order: !b,
                resumed: b,
            },
            EventKind::TicketNoShow {
                ticket: st(),
                number: st(),
                window: u32::MAX,
                held: b,
            },
            EventKind::TicketNearTurn {
                ticket: st(),
                number: st(),
                ahead: 0,
            },
            EventKind::TicketRequeued {
                ticket: st(),
                number: st(),
                category: st(),
                key: i64::MIN,
            },
            EventKind::ServiceStarted {
                ticket: st(),
                number: st(),
                window: 7,
                staff: st(),
            },
            EventKind::ServiceCompleted {
                ticket: st(),
                number: st(),
                category: st(),
                window: 7,
                staff: st(),
                wait_s: f,
                handling_s: -f,
            },
            EventKind::TicketCancelled {
                ticket: st(),
                number: st(),
            },
            EventKind::TicketExpired {
                ticket: st(),
                number: st(),
            },
            // Not written fast: serde_json's own bytes.
            EventKind::NoticeRemoved { notice: n },
        ]
    }

    #[test]
    fn plain_is_exactly_what_serde_json_does_not_escape() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for len in 0..40 {
            for _ in 0..2_000 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        // Mostly plain ASCII, sometimes one of the escaped.
                        match x % 40 {
                            0 => b'"',
                            1 => b'\\',
                            2 => (x >> 8) as u8 % 0x20,
                            3 => 0x7f,
                            4 => 0x20,
                            5 => 0x1f,
                            _ => 0x21 + (x >> 8) as u8 % 0x5e,
                        }
                    })
                    .collect();
                let s = String::from_utf8(bytes).expect("ASCII");
                let escaped = serde_json::to_string(&s).expect("serde") != format!("\"{s}\"");
                assert_eq!(plain(&s), !escaped, "{s:?}");
            }
        }
        for s in STRINGS {
            let escaped = serde_json::to_string(s).expect("serde") != format!("\"{s}\"");
            assert_eq!(plain(s), !escaped, "{s:?}");
        }
    }

    #[test]
    fn every_fast_event_is_serde_jsons_bytes() {
        let ats = [
            0,
            -1,
            1_795_395_690_123,
            i64::MIN,
            i64::MAX,
            253_402_300_800_000,
            -62_167_219_200_001,
        ];
        let mut n = 0u64;
        for s in STRINGS {
            for by in [
                Actor::staff(s),
                Actor::Kiosk,
                Actor::Supervisor,
                Actor::System,
                Actor::Public,
            ] {
                for b in [false, true] {
                    for kind in kinds(s, n, b) {
                        let at = ats[(n % ats.len() as u64) as usize];
                        same(&ev(n.wrapping_mul(0x9e37_79b9), at, by.clone(), kind));
                        n += 1;
                    }
                }
            }
        }
    }

    #[test]
    fn a_days_events_are_serde_jsons_bytes() {
        // The demo hall through a busy day: issues, calls, starts and
        // completions, recalls, no-shows, requeues, transfers, holds,
        // near-turn notices, the day's close — fast and not.
        let mut h = crate::hall::testing::H::demo();
        for w in 1..=5 {
            h.open(w);
        }
        let cats = ["general", "social", "civil", "market", "estate"];
        let mut issued = Vec::new();
        for i in 0..900usize {
            h.advance(17);
            if i % 3 == 0 {
                issued.push(h.issue(cats[i % 5]).0);
                continue;
            }
            let w = (i % 5 + 1) as u32;
            let state = h.hall.window(w).map(|x| x.state);
            let cmd = match (state, i % 7) {
                (Some(WindowState::Calling), 0) => Command::NoShow { window: w },
                (Some(WindowState::Calling), 1 | 4) => Command::NoShow { window: w },
                (Some(WindowState::Calling), _) => Command::Start { window: w },
                (Some(WindowState::Serving), 0) => Command::Hold { window: w },
                (Some(WindowState::Serving), 1) => Command::Transfer {
                    window: w,
                    category: Some(cats[(i + 1) % 5].into()),
                    to_window: None,
                },
                (Some(WindowState::Serving), _) => Command::Complete { window: w },
                (_, 2) if !issued.is_empty() => Command::Requeue {
                    ticket: issued[i % issued.len()].clone(),
                },
                (_, 3) if !issued.is_empty() => Command::Cancel {
                    ticket: issued[i % issued.len()].clone(),
                },
                _ => Command::CallNext { window: w },
            };
            let evs = match h.clerk(w, cmd) {
                // 过号 only after the recalls the hall asks for.
                Err(crate::Rejected::RecallFirst { .. }) => h
                    .clerk(w, Command::Recall { window: w })
                    .unwrap_or_default(),
                r => r.unwrap_or_default(),
            };
            for e in evs {
                if let EventKind::TicketNoShow { ticket, .. } = e.kind {
                    let _ = h.run(Actor::Kiosk, Command::Requeue { ticket });
                }
            }
            h.tick();
        }
        h.advance(24 * 3600);
        h.tick();
        let _ = h.issue("general");
        let types: std::collections::BTreeSet<_> = h.log.iter().map(|e| e.type_name()).collect();
        for t in [
            "day_opened",
            "ticket_issued",
            "ticket_called",
            "service_started",
            "service_completed",
            "ticket_near_turn",
            "ticket_no_show",
            "ticket_requeued",
            "ticket_cancelled",
            "ticket_expired",
            "ticket_transferred",
            "ticket_held",
            "day_closed",
        ] {
            assert!(types.contains(t), "no {t} in {types:?}");
        }
        for e in &h.log {
            same(e);
        }
    }
}
