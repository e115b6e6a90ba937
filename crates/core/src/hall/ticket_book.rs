//! The day's tickets by serial, and the index from a ticket's id to its
//! serial: the two things in a hall that grow with every ticket issued.
//!
//! The server answers every read from a frozen copy of the hall taken after
//! each batch of commands (`snapshot.rs` in the server). With ordinary hash
//! maps that copy cloned every ticket of the day after every batch — O(tickets)
//! work per batch, and the day's tickets held twice. Both structures here are
//! persistent (the `imbl` crate: an RRB vector and a B+tree):
//! a clone shares everything, and a change after a clone copies only the path
//! to what changed (a 64-slot leaf and the tree above it), so the live hall and
//! its snapshot hold each ticket once.
//!
//! Serials are dense: the hall numbers its tickets 1, 2, 3 … for good (never
//! reset), inserts each at issue and drops them all when the day closes. So
//! the tickets are a vector indexed by `serial - first`, with a hole for any
//! serial that is not there (none in practice; a restored snapshot is taken
//! as it comes). Each ticket sits behind its own `Arc` so that copying a leaf
//! copies 64 pointers, not 64 tickets, and changing one ticket of a shared
//! leaf clones that ticket only.

use std::fmt;
use std::sync::Arc;

use compact_str::CompactString;
use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};

use crate::model::Ticket;

/// Id → serial, for the commands and events that name a ticket by its id.
/// A B+tree rather than imbl's hash trie: with random ids the trie's nodes
/// cost 80-180 bytes an entry (measured at 100-10,000 entries), the B+tree
/// about 54, what the hash map it replaced cost; lookups compare ids along
/// a path of 2-5 nodes of 16.
pub(crate) type TicketIndex = imbl::OrdMap<CompactString, u64>;

/// The day's tickets by serial. Serialised as the map `{serial: ticket}` it
/// was before it became a vector, so stored snapshots read either way.
#[derive(Clone, Default, PartialEq)]
pub(crate) struct TicketBook {
    /// Serial of slot 0.
    first: u64,
    slots: imbl::Vector<Option<Arc<Ticket>>>,
}

impl TicketBook {
    fn slot(&self, serial: u64) -> Option<usize> {
        let i = serial.checked_sub(self.first)?;
        usize::try_from(i).ok().filter(|&i| i < self.slots.len())
    }

    pub(crate) fn get(&self, serial: &u64) -> Option<&Ticket> {
        let i = self.slot(*serial)?;
        self.slots.get(i)?.as_deref()
    }

    /// The ticket to change: copies the leaf it sits in if a snapshot
    /// shares it, and the ticket itself if a snapshot holds it.
    pub(crate) fn get_mut(&mut self, serial: &u64) -> Option<&mut Ticket> {
        let i = self.slot(*serial)?;
        self.slots.get_mut(i)?.as_mut().map(Arc::make_mut)
    }

    /// Puts `ticket` at `serial`: the next serial in practice (appended);
    /// anywhere else fills the gap with holes.
    pub(crate) fn insert(&mut self, serial: u64, ticket: Ticket) {
        let ticket = Some(Arc::new(ticket));
        if self.slots.is_empty() {
            self.first = serial;
            self.slots.push_back(ticket);
            return;
        }
        if serial < self.first {
            for _ in serial + 1..self.first {
                self.slots.push_front(None);
            }
            self.slots.push_front(ticket);
            self.first = serial;
            return;
        }
        let i = (serial - self.first) as usize;
        while self.slots.len() < i {
            self.slots.push_back(None);
        }
        if i == self.slots.len() {
            self.slots.push_back(ticket);
        } else {
            self.slots.set(i, ticket);
        }
    }

    /// Every ticket, in serial order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Ticket> {
        self.slots.iter().filter_map(|t| t.as_deref())
    }

    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.first = 0;
    }

    /// Whether `self` and `other` are the same structure, not just equal: a
    /// snapshot that shares its tickets with the live hall.
    #[cfg(test)]
    pub(crate) fn shares_with(&self, other: &TicketBook) -> bool {
        self.first == other.first && self.slots.ptr_eq(&other.slots)
    }
}

impl std::ops::Index<&u64> for TicketBook {
    type Output = Ticket;

    /// Like a map's index: for serials the caller knows are there.
    fn index(&self, serial: &u64) -> &Ticket {
        match self.get(serial) {
            Some(t) => t,
            None => panic!("no ticket with serial {serial}"),
        }
    }
}

impl fmt::Debug for TicketBook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.values().map(|t| (t.serial, t)))
            .finish()
    }
}

impl Serialize for TicketBook {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(
            self.slots
                .iter()
                .enumerate()
                .filter_map(|(i, t)| Some((self.first + i as u64, t.as_deref()?))),
        )
    }
}

impl<'de> Deserialize<'de> for TicketBook {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TicketBook, D::Error> {
        let map = std::collections::BTreeMap::<u64, Ticket>::deserialize(d)?;
        let mut book = TicketBook::default();
        for (serial, t) in map {
            book.insert(serial, t);
        }
        Ok(book)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hall::testing::H;

    fn ticket(serial: u64) -> Ticket {
        thread_local! {
            static ISSUED: Ticket = {
                let mut h = H::demo();
                let (id, _) = h.issue("general");
                h.hall.ticket(&id).cloned().expect("issued")
            };
        }
        let mut t = ISSUED.with(Ticket::clone);
        t.serial = serial;
        t
    }

    #[test]
    fn serials_in_any_order_are_found_and_others_are_not() {
        let mut b = TicketBook::default();
        for s in [10, 11, 14, 7] {
            b.insert(s, ticket(s));
        }
        for s in [7, 10, 11, 14] {
            assert_eq!(b.get(&s).map(|t| t.serial), Some(s));
        }
        for s in [0, 6, 8, 9, 12, 13, 15, u64::MAX] {
            assert!(b.get(&s).is_none(), "serial {s}");
            assert!(b.get_mut(&s).is_none(), "serial {s}");
        }
        assert_eq!(
            b.values().map(|t| t.serial).collect::<Vec<_>>(),
            [7, 10, 11, 14]
        );
        b.clear();
        assert_eq!(b.values().count(), 0);
        b.insert(3, ticket(3));
        assert_eq!(b.get(&3).map(|t| t.serial), Some(3));
    }

    #[test]
    fn a_change_after_a_clone_leaves_the_clone_as_it_was() {
        let mut live = TicketBook::default();
        for s in 1..=200 {
            live.insert(s, ticket(s));
        }
        let frozen = live.clone();
        assert!(frozen.shares_with(&live));
        live.get_mut(&150).expect("there").calls = 7;
        live.insert(201, ticket(201));
        assert_eq!(frozen.get(&150).map(|t| t.calls), Some(0));
        assert_eq!(live.get(&150).map(|t| t.calls), Some(7));
        assert!(frozen.get(&201).is_none());
        // Untouched tickets are the same allocation in both.
        let (a, b) = (frozen.get(&3).expect("3"), live.get(&3).expect("3"));
        assert!(std::ptr::eq(a, b));
    }

    #[test]
    fn a_hall_and_its_clone_hold_each_untouched_ticket_once() {
        let mut h = H::demo();
        let first: Vec<(String, String)> = (0..100).map(|_| h.issue("general")).collect();
        let frozen = h.hall.clone();
        assert!(frozen.tickets.shares_with(&h.hall.tickets));
        h.open(1);
        let called = h.call(1).expect("a ticket called");
        let (more, _) = h.issue("general");
        for (id, number) in &first {
            let (a, b) = (frozen.ticket(id).expect("in both"), h.hall.ticket(id));
            if *number == called {
                assert_ne!(
                    Some(a),
                    b,
                    "the called ticket changed in the live hall only"
                );
            } else {
                assert!(b.is_some_and(|b| std::ptr::eq(a, b)), "{id} copied");
            }
        }
        assert!(frozen.ticket(&more).is_none());
    }

    #[test]
    fn serialised_as_the_serial_map_it_was() {
        let mut b = TicketBook::default();
        b.insert(5, ticket(5));
        b.insert(6, ticket(6));
        let json = serde_json::to_value(&b).expect("serialises");
        let keys: Vec<_> = json.as_object().expect("a map").keys().cloned().collect();
        assert_eq!(keys, ["5", "6"]);
        let old: std::collections::HashMap<u64, Ticket> =
            serde_json::from_value(json.clone()).expect("reads as a map");
        assert_eq!(old.len(), 2);
        let back: TicketBook = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, b);
    }
}
