//! Warnings (红黄绿预警): serving beyond 80 % of the category's time limit is
//! yellow, beyond 100 % red, once each per ticket; waiting beyond the wait
//! target is red, once per wait. Waiting tickets are watched per category in
//! time order, so finding the overdue ones reads only those. A category's
//! level also looks ahead: a new ticket's estimated wait beyond 80 % of the
//! wait target is yellow, beyond 100 % red (`category_level`).

use crate::event::{Event, EventKind, WarningDetail, WarningKind};
use crate::hall::handle::Ctx;
use crate::hall::{Hall, QueueKey};
use crate::model::{Level, TicketState, WindowState};
use crate::time::{Millis, SECOND};

impl Hall {
    /// The red/yellow/green level of category `c` at `now`: red once its
    /// oldest waiting ticket is beyond the wait target; otherwise judged on
    /// a ticket issued now — its estimated wait beyond 80 % of the target is
    /// yellow, beyond 100 % red (waiting tickets and no open window to serve
    /// them is red too). Returns the level and the oldest wait, seconds.
    pub(crate) fn category_level(&self, c: usize, now: Millis) -> (Level, Option<i64>) {
        let Some(cat) = self.config.categories.get(c) else {
            return (Level::Green, None);
        };
        let oldest = self.wait_watch[c]
            .iter()
            .find(|&&k| self.watch_live(k))
            .map(|&(since, _)| (now - since) / SECOND)
            .or_else(|| {
                self.queues[c]
                    .iter()
                    .filter_map(|(_, s)| self.tickets.get(s))
                    .map(|t| (now - t.waiting_since) / SECOND)
                    .max()
            });
        let target = f64::from(cat.wait_target_s);
        if oldest.is_some_and(|o| o > i64::from(cat.wait_target_s)) {
            return (Level::Red, oldest);
        }
        let est = self.newest_estimate_s(c);
        let level = if !est.is_finite() {
            if self.waiting[c] > 0 {
                Level::Red
            } else {
                Level::Green
            }
        } else if est > target {
            Level::Red
        } else if est > target * 0.8 {
            Level::Yellow
        } else {
            Level::Green
        };
        (level, oldest)
    }

    /// Raises every warning due at `cx.now`; `cx` acts as the system.
    pub(crate) fn raise_warnings(&mut self, cx: &mut Ctx) {
        let now = cx.now;
        let mut due = Vec::new();
        for win in &self.windows {
            if win.state != WindowState::Serving {
                continue;
            }
            let Some(t) = win.current.and_then(|s| self.tickets.get(&s)) else {
                continue;
            };
            let Some(cat) = self.config.category(&t.category) else {
                continue;
            };
            let elapsed = now - t.started_at.unwrap_or(now);
            let limit = i64::from(cat.limit_s) * SECOND;
            let level = if elapsed > limit {
                Level::Red
            } else if elapsed * 5 > limit * 4 {
                Level::Yellow
            } else {
                Level::Green
            };
            if level > t.service_warned {
                due.push(EventKind::Warning {
                    level,
                    kind: WarningKind::ServiceTime,
                    window: Some(win.number),
                    ticket: Some(t.id.as_str().to_owned()),
                    number: Some(t.number.as_str().to_owned()),
                    category: Some(t.category.as_str().to_owned()),
                    detail: Some(WarningDetail::ServiceTime {
                        elapsed_s: elapsed / SECOND,
                        limit_s: cat.limit_s,
                    }),
                    message: None,
                });
            }
        }
        for (c, cat) in self.config.categories.iter().enumerate() {
            let target = i64::from(cat.wait_target_s) * SECOND;
            for &(since, serial) in &self.wait_watch[c] {
                if !self.watch_live((since, serial)) {
                    continue;
                }
                if now - since <= target {
                    break;
                }
                let t = &self.tickets[&serial];
                due.push(EventKind::Warning {
                    level: Level::Red,
                    kind: WarningKind::Wait,
                    window: None,
                    ticket: Some(t.id.as_str().to_owned()),
                    number: Some(t.number.as_str().to_owned()),
                    category: Some(t.category.as_str().to_owned()),
                    detail: Some(WarningDetail::Wait {
                        waited_s: (now - since) / SECOND,
                        target_s: cat.wait_target_s,
                    }),
                    message: None,
                });
            }
        }
        for kind in due {
            self.emit(cx, kind);
        }
    }

    /// The next instant a warning falls due (the deadline `raise_warnings`
    /// acts on): a serving ticket crossing 80 % or 100 % of its time limit,
    /// the oldest unwarned waiting ticket of a category passing its target.
    pub(super) fn next_warning_at(&self) -> Option<Millis> {
        let mut next: Option<Millis> = None;
        let mut at = |d: Millis| next = Some(next.map_or(d, |n| n.min(d)));
        for win in &self.windows {
            if win.state != WindowState::Serving {
                continue;
            }
            let Some(t) = win.current.and_then(|s| self.tickets.get(&s)) else {
                continue;
            };
            let (Some(cat), Some(started)) = (self.config.category(&t.category), t.started_at)
            else {
                continue;
            };
            let limit = i64::from(cat.limit_s) * SECOND;
            // The first millisecond at which `raise_warnings` sees the level:
            // yellow once elapsed × 5 > limit × 4, red once elapsed > limit.
            match t.service_warned {
                Level::Green => at(started + limit * 4 / 5 + 1),
                Level::Yellow => at(started + limit + 1),
                Level::Red => {}
            }
        }
        for (c, cat) in self.config.categories.iter().enumerate() {
            let target = i64::from(cat.wait_target_s) * SECOND;
            if let Some(&(since, _)) = self.wait_watch[c].iter().find(|&&k| self.watch_live(k)) {
                at(since + target + 1);
            }
        }
        next
    }

    /// State changes of this rule's events.
    pub(super) fn apply_warning(&mut self, ev: &Event) {
        let EventKind::Warning {
            level,
            kind,
            ticket,
            ..
        } = &ev.kind
        else {
            return;
        };
        let Some(serial) = ticket.as_ref().and_then(|id| self.tickets.serial_of(id)) else {
            return;
        };
        match kind {
            WarningKind::ServiceTime => {
                if let Some(t) = self.tickets.get_mut(&serial) {
                    t.service_warned = t.service_warned.max(*level);
                }
            }
            WarningKind::Wait => {
                let cat = self.tickets.get_mut(&serial).map(|t| {
                    t.wait_warned = true;
                    t.category.as_str().to_owned()
                });
                if let Some(&c) = cat.and_then(|cat| self.layout.cat_index.get(cat.as_str())) {
                    self.trim_watch(c);
                }
            }
            WarningKind::Failover | WarningKind::BadRating => {}
        }
    }

    /// A waiting ticket's entry in the wait watch is live if the ticket still
    /// waits since that time and has not been warned.
    pub(crate) fn watch_live(&self, (since, serial): QueueKey) -> bool {
        self.tickets.get(&serial).is_some_and(|t| {
            t.state == TicketState::Waiting && t.waiting_since == since && !t.wait_warned
        })
    }

    /// Drops every dead entry of a category's wait watch, keeping the order.
    pub(crate) fn compact_watch(&mut self, c: usize) {
        let mut watch = std::mem::take(&mut self.wait_watch[c]);
        watch.retain(|&k| self.watch_live(k));
        self.wait_watch[c] = watch;
    }

    /// Drops dead entries from the front of a category's wait watch.
    pub(crate) fn trim_watch(&mut self, c: usize) {
        while let Some(&front) = self.wait_watch[c].front() {
            if self.watch_live(front) {
                break;
            }
            self.wait_watch[c].pop_front();
        }
    }
}
