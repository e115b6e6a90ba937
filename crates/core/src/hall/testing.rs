//! A small driver for the unit tests beside the rules (the integration
//! tests in `tests/common` have their own): the demo hall, a clock that
//! moves only when told, and shorthands that keep each test about its rule.

use crate::{Actor, Channel, Command, Event, EventKind, Hall, Millis, Priority, Rejected};

/// 2026-11-23 09:00 in Shanghai (a Monday).
pub(crate) const NINE_AM: Millis = 1_795_395_600_000;

pub(crate) struct H {
    pub hall: Hall,
    pub now: Millis,
    next_id: u64,
    /// Every event, in order, for replay checks.
    pub log: Vec<Event>,
}

impl H {
    /// The demo hall (windows 1-5 serve everything, window 6 only `market`).
    pub fn demo() -> H {
        H {
            hall: Hall::new(crate::demo::demo_hall()),
            now: NINE_AM,
            next_id: 1,
            log: Vec::new(),
        }
    }

    pub fn advance(&mut self, secs: i64) {
        self.now += secs * 1000;
    }

    /// Runs a command; on refusal asserts that nothing changed.
    pub fn run(&mut self, by: Actor, cmd: Command) -> Result<Vec<Event>, Rejected> {
        let before = self.hall.clone();
        let r = self.hall.handle(cmd, by, self.now);
        match &r {
            Ok(evs) => self.log.extend(evs.iter().cloned()),
            Err(e) => assert!(self.hall == before, "refused command changed state: {e}"),
        }
        r
    }

    pub fn ok(&mut self, by: Actor, cmd: Command) -> Vec<Event> {
        let c = format!("{cmd:?}");
        self.run(by, cmd)
            .unwrap_or_else(|e| panic!("{c} refused: {e}"))
    }

    /// Issues a ticket; (id, number).
    pub fn issue(&mut self, category: &str) -> (String, String) {
        let id = format!("t{:04}", self.next_id);
        self.next_id += 1;
        let evs = self.ok(
            Actor::Kiosk,
            Command::IssueTicket {
                id: id.clone(),
                category: category.into(),
                priority: Priority::Normal,
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

    /// Logs the window's A post in (the demo's staff: window n has s0(2n-1)
    /// for windows 1-5, s11 at window 6).
    pub fn open(&mut self, window: u32) -> Actor {
        let staff = self.hall.config.windows[self.hall.win_index(window).expect("window")]
            .a_post
            .clone();
        self.ok(
            Actor::staff(staff.clone()),
            Command::Login {
                staff: staff.clone(),
                window,
            },
        );
        Actor::staff(staff)
    }

    pub fn clerk(&mut self, window: u32, cmd: Command) -> Result<Vec<Event>, Rejected> {
        let s = self
            .hall
            .window(window)
            .and_then(|w| w.on_duty.as_ref())
            .map(|s| s.staff.clone())
            .expect("someone on duty");
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

    /// Starts and completes the ticket called at a window.
    pub fn finish(&mut self, window: u32, secs: i64) {
        self.clerk(window, Command::Start { window })
            .expect("start");
        self.advance(secs);
        self.clerk(window, Command::Complete { window })
            .expect("complete");
    }

    pub fn tick(&mut self) -> Vec<Event> {
        let evs = self.hall.handle_timeout(self.now);
        self.log.extend(evs.iter().cloned());
        evs
    }

    /// A fresh hall that applied the log (what recovery does) equals the
    /// live one, and so does one restored from a snapshot of the live hall.
    pub fn assert_replays(&self) {
        let mut replayed = Hall::new(self.hall.config.clone());
        for ev in &self.log {
            replayed.apply(ev);
        }
        assert!(replayed == self.hall, "replaying the log differs");
        let restored = Hall::from_snapshot(&self.hall.to_snapshot()).expect("snapshot");
        assert!(restored == self.hall, "the snapshot differs");
    }
}

pub(crate) fn types(evs: &[Event]) -> Vec<&'static str> {
    evs.iter().map(|e| e.type_name()).collect()
}
