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

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, Serializer};

use crate::model::Ticket;

/// The day's tickets by serial, and their ids. Serialised as the map
/// `{serial: ticket}` it was before it became a vector, so stored snapshots
/// read either way; the id index is rebuilt from the tickets (older builds
/// stored it as the hall's `by_id`, which is now ignored).
#[derive(Clone, Default)]
pub(crate) struct TicketBook {
    /// Serial of slot 0.
    first: u64,
    slots: imbl::Vector<Option<Arc<Ticket>>>,
    /// Hash of a ticket's id → its serial. An id whose hash is taken by
    /// another id goes to the next free value (linear probing), which is
    /// sound because entries only ever leave all together (`clear`). Keyed
    /// by hash, not by the id itself, because a B+tree of ids cost twice the
    /// memory (~54 bytes an entry against ~29) and string compares made
    /// issuing ~30 % slower in `cargo bench --bench core`; imbl's hash trie
    /// cost 80-180 bytes an entry.
    ids: imbl::OrdMap<u64, u64>,
}

impl PartialEq for TicketBook {
    /// The tickets; the index follows from them.
    fn eq(&self, other: &TicketBook) -> bool {
        self.values().eq(other.values())
    }
}

fn id_hash(id: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(id)
}

impl TicketBook {
    fn slot(&self, serial: u64) -> Option<usize> {
        let i = serial.checked_sub(self.first)?;
        usize::try_from(i).ok().filter(|&i| i < self.slots.len())
    }

    /// Where `id` is in the index (`Ok`), or the free key it would take.
    fn probe(&self, id: &str) -> Result<(u64, u64), u64> {
        let mut key = id_hash(id);
        loop {
            match self.ids.get(&key) {
                None => return Err(key),
                Some(&serial) if self.get(&serial).is_some_and(|t| t.id == id) => {
                    return Ok((key, serial))
                }
                Some(_) => key = key.wrapping_add(1),
            }
        }
    }

    /// The serial of the ticket with this id.
    pub(crate) fn serial_of(&self, id: &str) -> Option<u64> {
        self.probe(id).ok().map(|(_, serial)| serial)
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
        let key = match self.probe(&ticket.id) {
            Ok((key, _)) | Err(key) => key,
        };
        self.ids.insert(key, serial);
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
        self.ids.clear();
        self.first = 0;
    }

    /// Whether `self` and `other` are the same structure, not just equal: a
    /// snapshot that shares its tickets with the live hall.
    #[cfg(test)]
    pub(crate) fn shares_with(&self, other: &TicketBook) -> bool {
        self.first == other.first && self.slots.ptr_eq(&other.slots) && self.ids.ptr_eq(&other.ids)
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

    fn with_id(serial: u64, id: &str) -> Ticket {
        let mut t = ticket(serial);
        t.id = id.into();
        t
    }

    #[test]
    fn ids_whose_hashes_collide_are_both_found() {
        let mut b = TicketBook::default();
        b.insert(1, with_id(1, "a"));
        // Make "b" collide: its hash's key already holds "a"'s serial, as a
        // real collision would leave it.
        b.ids.insert(id_hash("b"), 1);
        b.insert(2, with_id(2, "b"));
        b.insert(3, with_id(3, "c"));
        assert_eq!(b.serial_of("a"), Some(1));
        assert_eq!(b.serial_of("b"), Some(2));
        assert_eq!(b.serial_of("c"), Some(3));
        assert_eq!(b.serial_of("d"), None);
        // Inserting the same id again moves it, as a map's insert would.
        b.insert(4, with_id(4, "b"));
        assert_eq!(b.serial_of("b"), Some(4));
        b.clear();
        assert_eq!(b.serial_of("a"), None);
    }

    #[test]
    fn a_snapshot_with_the_old_id_map_still_reads() {
        let mut h = H::demo();
        let (id, _) = h.issue("general");
        let mut json: serde_json::Value =
            serde_json::from_slice(&h.hall.to_snapshot()).expect("json");
        json["by_id"] = serde_json::json!({ id.clone(): 1 });
        let bytes = serde_json::to_vec(&json).expect("bytes");
        let back = crate::Hall::from_snapshot(&bytes).expect("reads");
        assert_eq!(back.ticket(&id).map(|t| t.serial), Some(1));
        assert!(back == h.hall);
    }

    #[test]
    fn after_the_day_closes_new_tickets_are_found_by_id_and_serial() {
        let mut h = H::demo();
        let (old, _) = h.issue("general");
        h.issue("general");
        h.advance(20 * 3600); // past midnight: the demo hall's day close
        h.tick();
        assert!(h.hall.ticket(&old).is_none());
        let (id, number) = h.issue("general");
        assert_eq!(number, "A001");
        let frozen = h.hall.clone();
        for hall in [&h.hall, &frozen] {
            let t = hall.ticket(&id).expect("found by id");
            assert_eq!(t.serial, 3);
            assert_eq!(hall.ticket_by_serial(3).map(|t| t.id.as_str()), Some(&*id));
            assert!(hall.ticket_status(&id).is_some());
        }
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
