//! The workload both store benches drive (`benches/store.rs` on sled,
//! `benches/postgres.rs` on PostgreSQL): one script, so the two backends'
//! figures are for exactly the same commands. Included with `#[path]`.

use std::time::Duration;

use hallcall_core::{Actor, Command, Event, Hall, HallConfig, Millis};

/// 2026-11-23 09:00 in Shanghai (a Monday).
pub const NINE_AM: Millis = 1_795_395_600_000;

pub fn config(i: usize) -> HallConfig {
    let mut c = hallcall_core::demo::demo_hall();
    c.id = format!("b{i:03}");
    c
}

/// A deterministic workload of a busy hall: clerks log in at windows 1–5,
/// then tickets are issued and served (call, start, complete) round-robin.
/// Time is synthetic: 15 s per command, so business days roll over.
pub struct Script {
    pub hall: Hall,
    now: Millis,
    n: u64,
}

impl Script {
    pub fn new(hall: Hall) -> Script {
        Script {
            hall,
            now: NINE_AM,
            n: 0,
        }
    }

    /// The script's next command (its clock moves on): the harness's work,
    /// which a bench that times a command as a server runs it leaves out.
    pub fn prepare(&mut self) -> (Actor, Command) {
        use hallcall_core::model::WindowState;
        self.n += 1;
        self.now += 15_000;
        for (w, staff) in [(1, "s01"), (2, "s03"), (3, "s05"), (4, "s07"), (5, "s09")] {
            if self.hall.window(w).is_some_and(|x| x.on_duty.is_none()) {
                return (
                    Actor::staff(staff),
                    Command::Login {
                        staff: staff.into(),
                        window: w,
                    },
                );
            }
        }
        let w = (self.n % 5 + 1) as u32;
        let win = self.hall.window(w).map(|x| (x.state, x.on_duty.clone()));
        let Some((state, Some(seat))) = win else {
            // Not reached (every window was staffed above); a refused
            // command, as the removed Tick was an empty one: `step` goes on.
            return (Actor::System, Command::Resume { window: w });
        };
        let clerk = Actor::staff(seat.staff);
        match state {
            WindowState::Calling => (clerk, Command::Start { window: w }),
            WindowState::Serving => (clerk, Command::Complete { window: w }),
            _ if self.n.is_multiple_of(2) && self.hall.waiting_total() > 0 => {
                (clerk, Command::CallNext { window: w })
            }
            _ => {
                let cats = ["general", "social", "civil", "market", "estate"];
                (
                    Actor::Kiosk,
                    Command::IssueTicket {
                        id: format!("t{}", self.n),
                        category: cats[(self.n % 5) as usize].into(),
                        priority: Default::default(),
                        channel: Default::default(),
                        appointment_code: None,
                    },
                )
            }
        }
    }

    /// The next command that produces events.
    pub fn step(&mut self) -> Vec<Event> {
        loop {
            let (by, cmd) = self.prepare();
            let evs = self.decide(by, cmd);
            if !evs.is_empty() {
                return evs;
            }
        }
    }

    /// The hall decides a command prepared by [`Script::prepare`]: its
    /// events, none if it was refused.
    pub fn decide(&mut self, by: Actor, cmd: Command) -> Vec<Event> {
        self.hall.handle(cmd, by, self.now).unwrap_or_default()
    }
}

pub fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
