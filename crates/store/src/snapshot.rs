//! Snapshots: the policy (every `snapshot_every_events` events or
//! `snapshot_every`, whichever first, and only if something changed), the
//! serialised form, and reading them back from sled. A snapshot is written
//! only after the flush covering its seq (see [`crate::writer`]), so it never
//! gets ahead of the durable log. The policy is backend-neutral.

use std::time::Instant;

use hallcall_core::Hall;

use crate::keys;
use crate::options::StoreOptions;
use crate::snapfile;
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
    /// The latest stored snapshot of `hall`: (seq, [`Hall::to_snapshot`]
    /// JSON). Its file (format 3, [`crate::snapfile`]) or, from a store
    /// written by an older format, its record in the `snap` tree, whichever
    /// is newer (the record is removed once a file supersedes it).
    pub(crate) fn snapshot(&self, hall: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        let file = snapfile::read(&snapfile::snap_dir(&self.dir), hall, true)?;
        let legacy = self.legacy_snapshot(hall)?;
        Ok(match (file, legacy) {
            (Some(f), Some((seq, json))) if seq > f.seq => Some((seq, json.to_vec())),
            (Some(f), _) => Some((f.seq, f.json)),
            (None, legacy) => legacy.map(|(seq, json)| (seq, json.to_vec())),
        })
    }

    /// Seq of the stored snapshot of `hall` (0: none), from the headers only.
    pub(crate) fn snapshot_seq(&self, hall: &str) -> Result<u64, StoreError> {
        let file = snapfile::read(&snapfile::snap_dir(&self.dir), hall, false)?;
        let legacy = self.legacy_snapshot(hall)?;
        Ok(file
            .map(|f| f.seq)
            .max(legacy.map(|(seq, _)| seq))
            .unwrap_or(0))
    }

    /// `hall`'s record in the `snap` tree, where formats 1–2 kept snapshots.
    fn legacy_snapshot(&self, hall: &str) -> Result<Option<(u64, sled::IVec)>, StoreError> {
        match self.snap.get(hall.as_bytes()).map_err(|e| self.err(e))? {
            None => Ok(None),
            Some(v) => {
                let (seq, _) = keys::snap_parts(&v).ok_or_else(|| {
                    self.corrupt(format!("the snapshot of hall {hall} has an unknown header"))
                })?;
                Ok(Some((seq, v.subslice(9, v.len() - 9))))
            }
        }
    }

    /// Removes `hall`'s record from the `snap` tree, where formats 1–2 kept
    /// snapshots, once its file has superseded it. Not flushed on purpose:
    /// if it comes back after a crash, the file is newer and wins.
    pub(crate) fn forget_legacy_snapshot(&self, hall: &str) -> Result<(), StoreError> {
        if self
            .snap
            .contains_key(hall.as_bytes())
            .map_err(|e| self.err(e))?
        {
            self.snap.remove(hall.as_bytes()).map_err(|e| self.err(e))?;
        }
        Ok(())
    }
}
