//! 即将到号: a citizen who stepped out (coffee, the car park) wants to know
//! in time. Once a waiting ticket has `near_turn_ahead` or fewer tickets
//! ahead of it — counted as its status page counts them (`ahead_of`) — the
//! hall emits `ticket_near_turn`, once per wait (a requeue, transfer or
//! chain starts a new wait). The phone page shows 即将到号 and vibrates; an
//! integrator may send an SMS from the event.
//!
//! Finding the tickets is cheap: a ticket with at most N ahead is among the
//! first N + 1 of its own queue, and counting what is ahead of it stops at
//! N + 1 in each competing queue. Issuing a ticket moves nobody forward, so
//! after an issue only the new ticket is looked at.

use crate::event::EventKind;
use crate::hall::handle::Ctx;
use crate::hall::{Hall, QueueKey};

/// Whether a queue moved since the last scan. Who is near their turn
/// depends only on the queues' contents and which categories compete for
/// the same windows, so a command that moved neither (start, complete,
/// rate, a notice, most of a day's commands) needs no scan; the scan ran
/// after every command before and was a third of a simulated day's time.
/// Not state (replay never scans): equal whatever it holds, and a hall
/// recovered from a snapshot scans after its first command.
#[derive(Clone, Debug)]
pub(crate) struct Scan {
    /// Queue changes so far: enqueue, dequeue, a directed ticket pooled, a
    /// change of which categories compete.
    moves: u64,
    /// `moves` when the last scan ran; `u64::MAX`: never.
    scanned: u64,
}

impl Default for Scan {
    fn default() -> Self {
        Scan {
            moves: 0,
            scanned: u64::MAX,
        }
    }
}

impl PartialEq for Scan {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Scan {
    /// A queue changed.
    pub(crate) fn moved(&mut self) {
        self.moves += 1;
    }

    /// The mark to compare after a command (`Hall::after_command`).
    pub(crate) fn mark(&self) -> u64 {
        self.moves
    }
}

impl Hall {
    /// After a command: emits `ticket_near_turn` where it is due. `before`:
    /// [`Scan::mark`] before the command; `issued`: the ticket the command
    /// issued. An issue moves nobody forward, so when its enqueue was the
    /// only move since the last scan, only the new ticket is looked at;
    /// when nothing moved, nothing is.
    pub(crate) fn near_turn_after_command(
        &mut self,
        cx: &mut Ctx,
        before: u64,
        issued: Option<u64>,
    ) {
        let scan = &self.near_turn_scan;
        if scan.moves == scan.scanned {
            return;
        }
        let only = issued.filter(|_| scan.scanned == before && scan.moves == before + 1);
        self.announce_near_turn(cx, only);
        self.near_turn_scan.scanned = self.near_turn_scan.moves;
    }

    /// Emits `ticket_near_turn` for every waiting ticket that is near its
    /// turn and was not told yet in this wait. `only`: just that ticket
    /// (after an issue). `cx` acts as the system.
    fn announce_near_turn(&mut self, cx: &mut Ctx, only: Option<u64>) {
        let n = self.config.near_turn_ahead as usize;
        let mut due: Vec<(u64, u32)> = Vec::new();
        match only {
            Some(serial) => {
                if let Some(t) = self.tickets.get(&serial) {
                    let key = (t.key, serial);
                    if let Some(a) = self.ahead_capped(serial, key, n) {
                        due.push((serial, a));
                    }
                }
            }
            None => {
                // Those already told are skipped before anything is counted:
                // in a steady queue the first N + 1 mostly are.
                for w in 0..self.directed.len() {
                    for (i, &(_, serial)) in self.directed[w].iter().take(n + 1).enumerate() {
                        if !self.near_turn.contains(&serial) {
                            due.push((serial, i as u32));
                        }
                    }
                }
                // Each queue's oldest ticket: a ticket has at least one
                // ahead for every competing queue whose head is older, so
                // most candidates are ruled out by comparing keys, without
                // walking a queue.
                let heads: Vec<Option<QueueKey>> =
                    self.queues.iter().map(|q| q.first().copied()).collect();
                for c in 0..self.queues.len() {
                    let compete = self.coverage.compete.get(c).copied().unwrap_or(1 << c);
                    for (i, &key) in self.queues[c].iter().take(n + 1).enumerate() {
                        if self.near_turn.contains(&key.1) {
                            continue;
                        }
                        // Later tickets of this queue have at least as many
                        // ahead (this one among them): none of them is due.
                        if i + older_heads(&heads, compete, c, key) > n {
                            break;
                        }
                        if let Some(a) = self.ahead_capped(key.1, key, n) {
                            due.push((key.1, a));
                        }
                    }
                }
            }
        }
        due.retain(|(s, _)| !self.near_turn.contains(s));
        due.sort_unstable();
        due.dedup_by_key(|(s, _)| *s);
        for (serial, ahead) in due {
            let Some(t) = self.tickets.get(&serial) else {
                continue;
            };
            let kind = EventKind::TicketNearTurn {
                ticket: t.id.as_str().to_owned(),
                number: t.number.as_str().to_owned(),
                ahead,
            };
            self.emit(cx, kind);
        }
    }

    /// Tickets ahead of a waiting pooled or directed ticket, if at most `n`.
    fn ahead_capped(&self, serial: u64, key: QueueKey, n: usize) -> Option<u32> {
        let t = self.tickets.get(&serial)?;
        if t.state != crate::model::TicketState::Waiting {
            return None;
        }
        if let Some(w) = t.directed_to.and_then(|d| self.layout.win_index.get(&d)) {
            let a = self.directed[*w].range(..key).take(n + 1).count();
            return (a <= n).then_some(a as u32);
        }
        let c = *self.layout.cat_index.get(t.category.as_str())?;
        let mut ahead = 0;
        let mut bits = self.coverage.compete.get(c).copied().unwrap_or(1 << c);
        while bits != 0 {
            let o = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            ahead += self.queues[o].range(..key).take(n + 1 - ahead).count();
            if ahead > n {
                return None;
            }
        }
        Some(ahead as u32)
    }

    /// Whether the ticket was told it is near its turn in this wait.
    pub fn is_near_turn(&self, serial: u64) -> bool {
        self.near_turn.contains(&serial)
    }
}

/// Queues other than `own` among `compete` whose oldest ticket is older
/// than `key`: a lower bound of what is ahead of `key` in those queues.
fn older_heads(heads: &[Option<QueueKey>], compete: u64, own: usize, key: QueueKey) -> usize {
    let mut bits = compete & !(1u64.checked_shl(own as u32).unwrap_or(0));
    let mut older = 0;
    while bits != 0 {
        let o = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        if heads.get(o).copied().flatten().is_some_and(|h| h < key) {
            older += 1;
        }
    }
    older
}

#[cfg(test)]
mod tests {
    use crate::hall::testing::{types, H};
    use crate::EventKind;

    fn near(evs: &[crate::Event]) -> Vec<(String, u32)> {
        evs.iter()
            .filter_map(|e| match &e.kind {
                EventKind::TicketNearTurn { number, ahead, .. } => Some((number.clone(), *ahead)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_ticket_is_told_once_when_three_or_fewer_are_ahead() {
        let mut h = H::demo();
        h.open(1);
        let mut all = Vec::new();
        for _ in 0..6 {
            let evs = h.run(
                crate::Actor::Kiosk,
                crate::Command::IssueTicket {
                    id: format!("x{}", h.now),
                    category: "general".into(),
                    priority: crate::Priority::Normal,
                    channel: crate::Channel::Kiosk,
                    appointment_code: None,
                },
            );
            all.extend(evs.unwrap());
            h.advance(1);
        }
        // A001..A004 have 0..3 ahead when issued; A005, A006 have 4 and 5.
        assert_eq!(
            near(&all),
            [
                ("A001".into(), 0),
                ("A002".into(), 1),
                ("A003".into(), 2),
                ("A004".into(), 3)
            ]
        );
        let mut calls = Vec::new();
        h.call(1);
        calls.extend(h.clerk(1, crate::Command::Start { window: 1 }).unwrap());
        // A005 has 3 ahead once A001 is called, A006 after the next call.
        let called = h.clerk(1, crate::Command::Complete { window: 1 }).unwrap();
        assert!(near(&called).is_empty());
        let evs = h.clerk(1, crate::Command::CallNext { window: 1 }).unwrap();
        assert_eq!(types(&evs), ["ticket_called", "ticket_near_turn"]);
        assert_eq!(near(&evs), [("A006".into(), 3)]);
        let _ = calls;
    }

    #[test]
    fn the_call_that_moves_a_ticket_forward_tells_it() {
        let mut h = H::demo();
        for _ in 0..5 {
            h.issue("general");
        }
        h.open(1);
        let evs = h.clerk(1, crate::Command::CallNext { window: 1 }).unwrap();
        assert_eq!(near(&evs), [("A005".into(), 3)]);
        // Nobody is told twice.
        h.finish(1, 10);
        let evs = h.clerk(1, crate::Command::CallNext { window: 1 }).unwrap();
        assert!(near(&evs).is_empty());
    }

    #[test]
    fn a_ticket_whose_wait_is_over_is_not_remembered() {
        // The set is copied into every read snapshot: tickets called,
        // cancelled or expired must leave it, or it grows all day.
        let mut h = H::demo();
        let (first, _) = h.issue("general");
        let (second, _) = h.issue("general");
        assert_eq!(h.hall.near_turn.len(), 2);
        h.open(1);
        h.call(1);
        h.ok(
            crate::Actor::Public,
            crate::Command::Cancel {
                ticket: second.clone(),
            },
        );
        assert!(
            h.hall.near_turn.is_empty(),
            "{:?} of {first}, {second}",
            h.hall.near_turn
        );
        h.assert_replays();
    }
}
