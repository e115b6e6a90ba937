//! Read-only questions about a hall: a ticket's position and estimate, a
//! window's call order, the public view for displays. Nothing here changes
//! state, and nothing here sits on the command path except `ahead_of`.

use serde::Serialize;

use crate::hall::Hall;
use crate::model::{Priority, TicketState};
use crate::time::{rfc3339, Millis};

/// What the citizen's status page shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TicketStatus {
    pub id: String,
    pub number: String,
    pub category: String,
    pub category_name: String,
    pub state: TicketState,
    /// Waiting tickets that will be called before this one.
    pub ahead: Option<u32>,
    pub estimated_wait_s: Option<u64>,
    pub window: Option<u32>,
    pub issued_at: String,
    pub rating: Option<u8>,
    pub can_rate: bool,
    /// 即将到号: `ticket_near_turn` was emitted for this wait.
    pub near_turn: bool,
    /// 多窗联办: the ticket was sent on to its current category; where to go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<NextStep>,
    /// 挂起: held at `window` until this instant (RFC 3339), then a no-show.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_until: Option<String>,
}

/// Where a ticket sent on (多窗联办) goes next.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NextStep {
    pub from_category: String,
    pub from_category_name: String,
    /// The open windows that serve the ticket's category now.
    pub windows: Vec<u32>,
}

/// One line of a clerk's waiting list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueEntry {
    pub id: String,
    pub number: String,
    pub category: String,
    pub priority: Priority,
    pub waited_s: i64,
    /// Transferred to this very window: goes first.
    pub directed: bool,
}

impl Hall {
    /// (tickets ahead, estimated wait in seconds) of a waiting ticket.
    /// Counting walks only the entries *behind* the ticket in each competing
    /// queue, which for a ticket just issued is next to nothing.
    pub fn ahead_of(&self, serial: u64) -> Option<(u32, Option<u64>)> {
        let t = self.tickets.get(&serial)?;
        if t.state != TicketState::Waiting {
            return None;
        }
        let c = *self.layout.cat_index.get(t.category.as_str())?;
        let key = (t.key, serial);
        if let Some(w) = t.directed_to.and_then(|n| self.layout.win_index.get(&n)) {
            let ahead = self.directed[*w].range(..key).count() as u32;
            let est = f64::from(ahead) * self.avg_service_s[c];
            return Some((ahead, Some(est.round() as u64)));
        }
        let mut ahead = 0u32;
        let mut work = 0.0;
        let mut bits = self.coverage.compete[c];
        while bits != 0 {
            let o = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let q = &self.queues[o];
            let n = (q.len() - q.range(key..).count()) as u32;
            ahead += n;
            work += f64::from(n) * self.avg_service_s[o];
        }
        let eligible = self.coverage.eligible[c];
        let est = (eligible > 0).then(|| (work / f64::from(eligible)).round() as u64);
        Some((ahead, est))
    }

    pub fn ticket_status(&self, id: &str) -> Option<TicketStatus> {
        let serial = self.tickets.serial_of(id)?;
        let t = self.tickets.get(&serial)?;
        let (ahead, est) = match self.ahead_of(serial) {
            Some((a, e)) => (Some(a), e),
            None => (None, None),
        };
        Some(TicketStatus {
            id: t.id.as_str().to_owned(),
            number: t.number.as_str().to_owned(),
            category: t.category.as_str().to_owned(),
            category_name: self
                .config
                .category(&t.category)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
            state: t.state,
            ahead,
            estimated_wait_s: est,
            window: t.window,
            issued_at: rfc3339(t.issued_at),
            rating: t.rating,
            can_rate: t.state == TicketState::Done && t.rating.is_none(),
            near_turn: t.state == TicketState::Waiting && self.is_near_turn(serial),
            next_step: self
                .chained_from(serial)
                .filter(|_| !t.state.is_final())
                .map(|from| NextStep {
                    from_category: from.to_string(),
                    from_category_name: self
                        .config
                        .category(from)
                        .map(|c| c.name.clone())
                        .unwrap_or_default(),
                    windows: self.windows_serving(&t.category),
                }),
            held_until: self.holds.get(&serial).map(|h| rfc3339(h.deadline)),
        })
    }

    /// The waiting tickets window `number` may serve, in the order it would
    /// call them (at most `limit`).
    pub fn window_queue(&self, number: u32, limit: usize, now: Millis) -> Option<Vec<QueueEntry>> {
        let w = *self.layout.win_index.get(&number)?;
        let entry = |serial: u64, directed: bool| {
            self.tickets.get(&serial).map(|t| QueueEntry {
                id: t.id.as_str().to_owned(),
                number: t.number.as_str().to_owned(),
                category: t.category.as_str().to_owned(),
                priority: t.priority,
                waited_s: (now - t.waiting_since) / 1000,
                directed,
            })
        };
        let mut out: Vec<QueueEntry> = self.directed[w]
            .iter()
            .take(limit)
            .filter_map(|&(_, s)| entry(s, true))
            .collect();
        let mut pooled: Vec<(Millis, u64)> = Vec::new();
        let mut bits = self.effective_serves(w);
        while bits != 0 {
            let c = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            pooled.extend(self.queues[c].iter().take(limit));
        }
        pooled.sort_unstable();
        for (_, s) in pooled {
            if out.len() >= limit {
                break;
            }
            if let Some(e) = entry(s, false) {
                out.push(e);
            }
        }
        Some(out)
    }

    /// The serial of the ticket window `number` would call now (for tests and
    /// the simulator; `call-next` uses the same function).
    pub fn peek_next(&self, number: u32) -> Option<u64> {
        let w = *self.layout.win_index.get(&number)?;
        self.next_for(w)
    }
}
