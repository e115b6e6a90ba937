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

/// Whether a hall at `seq`, last snapshotted at `snap_seq` at `snap_at`, is
/// due for a snapshot.
pub(crate) fn is_due(seq: u64, snap_seq: u64, snap_at: Instant, opts: &StoreOptions) -> bool {
    seq > snap_seq
        && (seq - snap_seq >= opts.snapshot_every_events
            || snap_at.elapsed() >= opts.snapshot_every)
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
