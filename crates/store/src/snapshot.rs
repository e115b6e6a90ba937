//! Snapshots: the policy (every `snapshot_every_events` events or
//! `snapshot_every`, whichever first, and only if something changed), the
//! serialised form, and reading them back from sled. A snapshot is written
//! only after the flush covering its seq (see [`crate::writer`]), so it never
//! gets ahead of the durable log. The policy is backend-neutral.

use std::time::Instant;

use hallcall_core::Hall;

use crate::keys;
use crate::options::StoreOptions;
use crate::trees::Trees;
use crate::StoreError;

/// Whether hall `id` at `seq`, last snapshotted at `snap_seq` at `snap_at`,
/// is due for a snapshot.
///
/// Each hall is due a little early, by its own fixed share of up to a
/// quarter of either limit ([`stagger`]), so the limits still bound
/// recovery while halls with the same traffic (a city's halls opening at
/// 9:00, the soak's 100 halls) do not all serialise and write their
/// snapshots in the same minute: in the soak that one minute added 10.8 MiB
/// of RSS at once, most of its growth over 10 minutes.
pub(crate) fn is_due(
    id: &str,
    seq: u64,
    snap_seq: u64,
    snap_at: Instant,
    opts: &StoreOptions,
) -> bool {
    let early = stagger(id);
    let events = opts.snapshot_every_events - opts.snapshot_every_events / 4 * early / 1024;
    let every = opts.snapshot_every - opts.snapshot_every / 4 * early as u32 / 1024;
    seq > snap_seq && (seq - snap_seq >= events.max(1) || snap_at.elapsed() >= every)
}

/// A hall's fixed share, 0..1024, from its id (FNV-1a: the same on every
/// node and every start, unlike the standard library's seeded hash).
fn stagger(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % 1024
}

/// [`Hall::to_snapshot`], refusing an empty result (the core could not
/// serialise the hall).
pub(crate) fn serialise(hall: &Hall) -> Result<Vec<u8>, StoreError> {
    let json = hall.to_snapshot();
    if json.is_empty() {
        return Err(StoreError::Invalid(format!(
            "hall {} could not be serialised",
            hall.id()
        )));
    }
    Ok(json)
}

/// A hall from its stored snapshot, checked to be the hall and seq it is
/// stored as.
pub(crate) fn hall_from_snapshot(
    dir: &std::path::Path,
    id: &str,
    seq: u64,
    json: &[u8],
) -> Result<Hall, StoreError> {
    let hall = Hall::from_snapshot(json).map_err(|e| {
        crate::error::corrupt(
            dir,
            format!("the snapshot of hall {id} at seq {seq} is unreadable: {e}"),
        )
    })?;
    if hall.seq() != seq || hall.id() != id {
        return Err(crate::error::corrupt(
            dir,
            format!(
                "the snapshot of hall {id} at seq {seq} holds hall {} at seq {}",
                hall.id(),
                hall.seq()
            ),
        ));
    }
    Ok(hall)
}

impl Trees {
    /// The stored snapshot of `hall`: (seq, [`hallcall_core::Hall::to_snapshot`] JSON).
    pub(crate) fn snapshot(&self, hall: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        match self.snap.get(hall.as_bytes()).map_err(|e| self.err(e))? {
            None => Ok(None),
            Some(v) => keys::snap_parts(&v)
                .map(|(s, json)| Some((s, json.to_vec())))
                .ok_or_else(|| {
                    self.corrupt(format!("the snapshot of hall {hall} has an unknown header"))
                }),
        }
    }

    /// Seq of the stored snapshot of `hall` (0: none).
    pub(crate) fn snapshot_seq(&self, hall: &str) -> Result<u64, StoreError> {
        match self.snap.get(hall.as_bytes()).map_err(|e| self.err(e))? {
            None => Ok(0),
            Some(v) => keys::snap_parts(&v).map(|(s, _)| s).ok_or_else(|| {
                self.corrupt(format!("the snapshot of hall {hall} has an unknown header"))
            }),
        }
    }
}

#[cfg(test)]
mod stagger_tests {
    use super::*;

    /// The event limit still bounds recovery for every hall, and halls with
    /// the same traffic fall due at different events, not all at once.
    #[test]
    fn halls_fall_due_staggered_within_the_limits() {
        let opts = StoreOptions::default();
        let now = Instant::now();
        let first_due = |id: &str| {
            (1..=opts.snapshot_every_events)
                .find(|&seq| is_due(id, seq, 0, now, &opts))
                .expect("due by the limit")
        };
        let dues: Vec<u64> = (0..100).map(|i| first_due(&format!("b{i:03}"))).collect();
        let lowest = opts.snapshot_every_events - opts.snapshot_every_events / 4;
        assert!(
            dues.iter()
                .all(|&d| d >= lowest && d <= opts.snapshot_every_events),
            "{dues:?}"
        );
        let distinct: std::collections::BTreeSet<u64> = dues.iter().copied().collect();
        assert!(
            distinct.len() >= 50,
            "100 halls fall due at only {} distinct events",
            distinct.len()
        );
        assert_eq!(
            first_due("b007"),
            first_due("b007"),
            "the same hall, the same share"
        );
    }
}
