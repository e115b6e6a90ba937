//! A small driver for tests: a hall, a clock that only moves when told, and
//! shorthands that keep each test about its rule.
#![allow(dead_code)]

use hallcall_core::config::{HallConfig, StaffConfig, WindowConfig, WindowKind};
use hallcall_core::*;

/// 2026-11-23 09:00 in Shanghai (a Monday).
pub const NINE_AM: Millis = 1_795_395_600_000;

pub struct H {
    pub hall: Hall,
    pub now: Millis,
    pub next_id: u64,
    pub log: Vec<Event>,
}

impl H {
    pub fn new(cfg: HallConfig) -> H {
        cfg.validate().expect("test config is valid");
        H {
            hall: Hall::new(cfg),
            now: NINE_AM,
            next_id: 1,
            log: Vec::new(),
        }
    }

    pub fn demo() -> H {
        H::new(hallcall_core::demo::demo_hall())
    }

    pub fn advance(&mut self, secs: i64) {
        self.now += secs * 1000;
    }

    /// Runs a command; on refusal asserts that nothing changed.
    pub fn run(&mut self, by: Actor, cmd: Command) -> Result<Vec<Event>, Rejected> {
        let before = self.hall.clone();
        match self.hall.handle(cmd, by, self.now) {
            Ok(evs) => {
                self.log.extend(evs.iter().cloned());
                Ok(evs)
            }
            Err(e) => {
                assert!(self.hall == before, "refused command changed state: {e}");
                Err(e)
            }
        }
    }

    pub fn ok(&mut self, by: Actor, cmd: Command) -> Vec<Event> {
        let c = format!("{cmd:?}");
        self.run(by, cmd)
            .unwrap_or_else(|e| panic!("{c} refused: {e}"))
    }

    pub fn issue_as(&mut self, category: &str, priority: Priority) -> (String, String) {
        let id = format!("t{:04}", self.next_id);
        self.next_id += 1;
        let evs = self.ok(
            Actor::Kiosk,
            Command::IssueTicket {
                id: id.clone(),
                category: category.into(),
                priority,
                channel: Channel::Kiosk,
                appointment_code: None,
            },
        );
        let number = evs
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::TicketIssued { number, .. } => Some(number.clone()),
                _ => None,
            })
            .expect("ticket_issued");
        (id, number)
    }

    pub fn issue(&mut self, category: &str) -> String {
        self.issue_as(category, Priority::Normal).1
    }

    pub fn login(&mut self, staff: &str, window: u32) -> Vec<Event> {
        self.ok(
            Actor::staff(staff),
            Command::Login {
                staff: staff.into(),
                window,
            },
        )
    }

    /// The clerk summoned to open `window` logs in there (opening a window
    /// is a summons: it opens only then).
    pub fn answer(&mut self, window: u32) -> Vec<Event> {
        let staff = self
            .hall
            .summons(window)
            .map(|s| s.staff.clone())
            .expect("a summons to answer");
        self.login(&staff, window)
    }

    pub fn on_duty(&self, window: u32) -> String {
        self.hall
            .window(window)
            .and_then(|w| w.on_duty.as_ref())
            .map(|s| s.staff.clone())
            .expect("someone on duty")
    }

    pub fn clerk(&mut self, window: u32, cmd: Command) -> Result<Vec<Event>, Rejected> {
        let s = self.on_duty(window);
        self.run(Actor::staff(s), cmd)
    }

    /// Calls next at a window; the number called, if any.
    pub fn call(&mut self, window: u32) -> Option<String> {
        let evs = self
            .clerk(window, Command::CallNext { window })
            .expect("call-next accepted");
        evs.iter().find_map(|e| match &e.kind {
            EventKind::TicketCalled { number, .. } => Some(number.clone()),
            _ => None,
        })
    }

    /// Calls, starts and completes the next ticket at a window.
    pub fn serve(&mut self, window: u32, secs: i64) -> Option<String> {
        let n = self.call(window)?;
        self.clerk(window, Command::Start { window })
            .expect("start");
        self.advance(secs);
        self.clerk(window, Command::Complete { window })
            .expect("complete");
        Some(n)
    }

    /// Lets the hall act on its timers now (what the server does when the
    /// hall's deadline comes).
    pub fn tick(&mut self) -> Vec<Event> {
        let evs = self.hall.handle_timeout(self.now);
        self.log.extend(evs.iter().cloned());
        evs
    }

    pub fn types(evs: &[Event]) -> Vec<&'static str> {
        evs.iter().map(|e| e.type_name()).collect()
    }
}

/// A small hall for rule and property tests: 2 comprehensive windows, one
/// specialist for `market`, one tidal, one fallback; three categories.
pub fn small_hall() -> HallConfig {
    let mut h = hallcall_core::demo::demo_hall();
    h.id = "small".into();
    h.categories.truncate(4); // general, social, civil, market
    h.categories.remove(2); // general, social, market
    let w = |number, kind, cats: &[&str], a: &str, b: Option<&str>| WindowConfig {
        number,
        kind,
        categories: cats.iter().map(|s| s.to_string()).collect(),
        a_post: a.into(),
        b_post: b.map(Into::into),
        name: String::new(),
        evaluator_token: None,
    };
    h.windows = vec![
        w(1, WindowKind::Comprehensive, &[], "s01", Some("s02")),
        w(2, WindowKind::Comprehensive, &[], "s03", Some("s04")),
        w(3, WindowKind::Specialist, &["market"], "s05", Some("s01")),
        w(4, WindowKind::Tidal, &[], "s06", Some("s04")),
        w(5, WindowKind::Fallback, &[], "s07", None),
    ];
    h.staff = (1..=7)
        .map(|i| StaffConfig {
            id: format!("s{i:02}"),
            name: format!("员工{i}"),
            pin_hash: String::new(),
            staff_no: String::new(),
            photo: None,
        })
        .collect();
    h.tidal.min_open = 1;
    h.tidal.max_open = 4;
    h
}
