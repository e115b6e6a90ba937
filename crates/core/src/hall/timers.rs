//! Timers as a deadline (after quinn-proto's `Connection::poll_timeout` /
//! `handle_timeout`): the hall says when it next needs the time, and the
//! shell calls back at that instant. Nothing is polled on a fixed period, so
//! an idle hall costs nothing and a timer fires on time, not up to a tick
//! late. Each rule names its own next instant: the business day's close
//! (`day`), the next yellow/red warning (`warnings`), the tidal policy's
//! sustained conditions (`tidal`).

use crate::event::Event;
use crate::hall::handle::Ctx;
use crate::hall::Hall;
use crate::model::Actor;
use crate::time::Millis;

/// When the timers were last handled, and at which sequence number. A
/// deadline at or before that instant, with no event applied since, has
/// already been acted on or could not be (the tidal policy at `max_open`,
/// say), and acting again would decide the same: it is not returned again,
/// so a shell never spins on a deadline in the past. Not state: equal
/// whatever it holds, never persisted.
#[derive(Clone, Debug, Default)]
pub(crate) struct Checked {
    at: Option<(Millis, u64)>,
}

impl Checked {
    /// When the timers were last handled.
    pub(crate) fn last(&self) -> Option<Millis> {
        self.at.map(|(at, _)| at)
    }
}

impl PartialEq for Checked {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Hall {
    /// The next instant (Unix ms) at which the hall needs
    /// [`Hall::handle_timeout`] called, or `None` when nothing is timed. It
    /// may be in the past: call `handle_timeout` at once then (a hall with
    /// no business day open yet answers `Millis::MIN`, so its day opens).
    /// Ask again after every `handle` or `handle_timeout`: any event may
    /// move it.
    pub fn poll_timeout(&self) -> Option<Millis> {
        let checked = self.timers_checked.at;
        let fresh = |d: &Millis| match checked {
            Some((at, seq)) => *d > at || seq != self.seq,
            None => true,
        };
        [
            Some(self.next_close_at),
            self.next_warning_at(),
            self.next_tidal_at(),
            self.next_summons_at(),
            self.next_hold_at(),
        ]
        .into_iter()
        .flatten()
        .filter(fresh)
        .min()
    }

    /// Acts on every timer due at `now`: rolls the business day over once its
    /// close time has passed, raises the warnings due, lets the tidal policy
    /// act on a sustained load. Returns the events, already applied (none
    /// when nothing was due). Safe to call at any time.
    pub fn handle_timeout(&mut self, now: Millis) -> Vec<Event> {
        let mut out = Vec::new();
        let mut cx = Ctx {
            now,
            by: Actor::System,
            out: &mut out,
        };
        self.roll_day(&mut cx);
        self.raise_warnings(&mut cx);
        self.expire_summons(&mut cx);
        self.expire_holds(&mut cx);
        self.evaluate_tidal(&mut cx);
        self.timers_checked.at = Some((now, self.seq));
        out
    }
}
