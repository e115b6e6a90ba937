//! What each window's bar should show, folded from the hall's public event
//! stream (a snapshot, then events). Works on `serde_json::Value` like the
//! announcer: it needs a handful of fields and must keep going, unchanged,
//! when it meets an event type it does not know.

use std::collections::BTreeMap;

use serde_json::Value;

/// What a bar shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Show {
    /// The window is closed (or a summons to open it is pending).
    Closed,
    /// Open, no ticket.
    Idle,
    /// Paused.
    Paused,
    /// A ticket is called here.
    Called(String),
    /// A ticket is being served here.
    Serving(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Win {
    phase: Phase,
    number: Option<String>,
    serving: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Phase {
    #[default]
    Closed,
    Open,
    Paused,
}

/// The windows' states.
#[derive(Clone, Debug, Default)]
pub struct Board {
    windows: BTreeMap<u32, Win>,
}

/// What one message changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    /// Windows whose state may have changed.
    pub windows: Vec<u32>,
    /// A snapshot: every window is to be shown afresh.
    pub all: bool,
    /// Windows where a ticket was called again (重呼): shown again even
    /// though the text did not change, so the bar flashes anew.
    pub recalled: Vec<u32>,
}

fn window_of(v: &Value, key: &str) -> Option<u32> {
    v.get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

fn number_of(v: &Value) -> Option<String> {
    v.get("number")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 16)
        .map(str::to_owned)
}

impl Board {
    /// What window `n` shows now (closed if never heard of).
    pub fn show(&self, n: u32) -> Show {
        let Some(w) = self.windows.get(&n) else {
            return Show::Closed;
        };
        match (w.phase, &w.number) {
            (Phase::Closed, _) => Show::Closed,
            (Phase::Paused, _) => Show::Paused,
            (Phase::Open, None) => Show::Idle,
            (Phase::Open, Some(num)) if w.serving => Show::Serving(num.clone()),
            (Phase::Open, Some(num)) => Show::Called(num.clone()),
        }
    }

    /// Folds one stream message.
    pub fn apply(&mut self, msg: &Value) -> Change {
        let mut ch = Change::default();
        let Some(ty) = msg.get("type").and_then(Value::as_str) else {
            return ch;
        };
        if ty == "snapshot" {
            self.windows.clear();
            let list = msg
                .get("state")
                .and_then(|s| s.get("windows"))
                .and_then(Value::as_array);
            for w in list.into_iter().flatten() {
                let Some(n) = window_of(w, "number") else {
                    continue;
                };
                let current = w.get("current").and_then(number_of);
                let state = w.get("state").and_then(Value::as_str).unwrap_or("closed");
                let win = match state {
                    "open" => Win {
                        phase: Phase::Open,
                        ..Win::default()
                    },
                    "calling" | "serving" => Win {
                        phase: Phase::Open,
                        serving: state == "serving",
                        number: current,
                    },
                    "paused" => Win {
                        phase: Phase::Paused,
                        number: current,
                        serving: false,
                    },
                    // closed, opening (a summons nobody answered yet), unknown.
                    _ => Win::default(),
                };
                self.windows.insert(n, win);
            }
            ch.all = true;
            return ch;
        }
        let win = window_of(msg, "window");
        let mut touch = |board: &mut Board, n: u32, f: &dyn Fn(&mut Win)| {
            f(board.windows.entry(n).or_default());
            ch.windows.push(n);
        };
        match (ty, win) {
            ("ticket_called", Some(n)) => {
                let number = number_of(msg);
                if msg.get("recall").and_then(Value::as_bool) == Some(true) {
                    ch.recalled.push(n);
                }
                touch(self, n, &|w| {
                    w.phase = Phase::Open;
                    w.number.clone_from(&number);
                    w.serving = false;
                });
            }
            ("service_started", Some(n)) => {
                let number = number_of(msg);
                touch(self, n, &|w| {
                    if number.is_some() {
                        w.number.clone_from(&number);
                    }
                    w.serving = true;
                });
            }
            ("service_completed" | "ticket_no_show", Some(n)) => touch(self, n, &|w| {
                w.number = None;
                w.serving = false;
            }),
            ("ticket_transferred", _) => {
                if let Some(n) = window_of(msg, "from_window") {
                    touch(self, n, &|w| {
                        w.number = None;
                        w.serving = false;
                    });
                }
            }
            ("ticket_expired" | "ticket_cancelled", _) => {
                // No window field: find the window holding that number.
                if let Some(num) = number_of(msg) {
                    let held: Vec<u32> = self
                        .windows
                        .iter()
                        .filter(|(_, w)| w.number.as_deref() == Some(num.as_str()))
                        .map(|(n, _)| *n)
                        .collect();
                    for n in held {
                        touch(self, n, &|w| {
                            w.number = None;
                            w.serving = false;
                        });
                    }
                }
            }
            ("window_opened", Some(n)) => touch(self, n, &|w| {
                w.phase = Phase::Open;
            }),
            ("window_closed", Some(n)) => touch(self, n, &|w| *w = Win::default()),
            ("window_paused", Some(n)) => touch(self, n, &|w| w.phase = Phase::Paused),
            ("window_resumed", Some(n)) => touch(self, n, &|w| w.phase = Phase::Open),
            ("day_closed", _) => {
                let all: Vec<u32> = self.windows.keys().copied().collect();
                for n in all {
                    touch(self, n, &|w| {
                        w.number = None;
                        w.serving = false;
                    });
                }
            }
            _ => {}
        }
        ch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn follows_a_window_through_its_day() {
        let mut b = Board::default();
        let ch = b.apply(&json!({"type":"snapshot","seq":5,"state":{"windows":[
            {"number":1,"state":"open","current":null},
            {"number":2,"state":"serving","current":{"number":"B003"}},
            {"number":3,"state":"paused","current":null},
            {"number":4,"state":"closed","current":null},
            {"number":5,"state":"opening","current":null}
        ]}}));
        assert!(ch.all);
        assert_eq!(b.show(1), Show::Idle);
        assert_eq!(b.show(2), Show::Serving("B003".into()));
        assert_eq!(b.show(3), Show::Paused);
        assert_eq!(b.show(4), Show::Closed);
        assert_eq!(b.show(5), Show::Closed);
        assert_eq!(b.show(99), Show::Closed);

        let ch = b.apply(
            &json!({"seq":6,"type":"ticket_called","number":"A012","window":1,"recall":false}),
        );
        assert_eq!(ch.windows, [1]);
        assert_eq!(b.show(1), Show::Called("A012".into()));
        let ch = b.apply(
            &json!({"seq":7,"type":"ticket_called","number":"A012","window":1,"recall":true}),
        );
        assert_eq!(ch.recalled, [1]);
        b.apply(&json!({"seq":8,"type":"service_started","number":"A012","window":1}));
        assert_eq!(b.show(1), Show::Serving("A012".into()));
        b.apply(&json!({"seq":9,"type":"service_completed","number":"A012","window":1}));
        assert_eq!(b.show(1), Show::Idle);
        b.apply(&json!({"seq":10,"type":"window_paused","window":1,"reason":"break"}));
        assert_eq!(b.show(1), Show::Paused);
        b.apply(&json!({"seq":11,"type":"window_resumed","window":1}));
        assert_eq!(b.show(1), Show::Idle);
        b.apply(
            &json!({"seq":12,"type":"ticket_called","number":"A013","window":1,"recall":false}),
        );
        b.apply(&json!({"seq":13,"type":"ticket_no_show","number":"A013","window":1}));
        assert_eq!(b.show(1), Show::Idle);
        b.apply(
            &json!({"seq":14,"type":"ticket_called","number":"A014","window":1,"recall":false}),
        );
        b.apply(&json!({"seq":15,"type":"ticket_transferred","number":"A014","from_window":1,"category":"social"}));
        assert_eq!(b.show(1), Show::Idle);
        b.apply(&json!({"seq":16,"type":"ticket_expired","number":"B003"}));
        assert_eq!(b.show(2), Show::Idle);
        b.apply(&json!({"seq":17,"type":"window_closed","window":2}));
        assert_eq!(b.show(2), Show::Closed);
        b.apply(&json!({"seq":18,"type":"window_opened","window":4,"tidal":true}));
        assert_eq!(b.show(4), Show::Idle);
        b.apply(
            &json!({"seq":19,"type":"ticket_called","number":"C001","window":4,"recall":false}),
        );
        let ch = b.apply(&json!({"seq":20,"type":"day_closed"}));
        assert!(ch.windows.contains(&4));
        assert_eq!(b.show(4), Show::Idle);
        // Unknown and malformed messages change nothing.
        assert_eq!(
            b.apply(&json!({"seq":21,"type":"warning","window":4})),
            Change::default()
        );
        assert_eq!(b.apply(&json!({"seq":22})), Change::default());
        assert_eq!(
            b.apply(&json!({"type":"ticket_called","window":"x"})),
            Change::default()
        );
    }
}
