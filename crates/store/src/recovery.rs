//! Recovery: the latest snapshot of a hall, then every later event through
//! the core's [`Hall::apply`] — the same code path as live operation — with
//! every record and the sequence checked on the way.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use hallcall_core::{Hall, HallConfig};

use crate::keys;
use crate::snapshot::{self, hall_from_snapshot};
use crate::store::{HallEntry, SledStore};
use crate::trees::lock;
use crate::writer::HallShared;
use crate::StoreError;

impl SledStore {
    /// Rebuilds a hall: its latest snapshot, then every later event through
    /// [`Hall::apply`]; `Hall::new(config)` if nothing is stored. If the stored
    /// configuration differs from `config`, the hall is returned as stored
    /// (the server then issues `ReloadConfig`). Also clears a failed hall.
    pub fn recover(&self, config: HallConfig) -> Result<Hall, StoreError> {
        let id = config.id.clone();
        keys::check_hall(&id)?;
        self.barrier()?;
        // Refused while writes fail: sled may hold records whose flush failed.
        let t = self.inner.trees.get_exact()?;
        let (mut hall, snap_seq) = match t.snapshot(&id)? {
            Some((seq, json)) => (hall_from_snapshot(&t.dir, &id, seq, &json)?, seq),
            None => {
                let hall = Hall::new(config);
                if t.last_logged(&id)? == 0 {
                    // A new hall: its first snapshot is its empty state, so the
                    // configuration it started with is stored with its log.
                    // Written here, before the hall can append: the file is
                    // durable before any event of the hall is.
                    let dir = crate::snapfile::snap_dir(&t.dir);
                    crate::snapfile::write(&dir, &id, 0, &snapshot::serialise(&hall)?)?;
                }
                (hall, 0)
            }
        };
        // A record may start before the snapshot (one written per event, or
        // a snapshot inside a command): `scan` skips what precedes it.
        let mut gap = None;
        t.scan(&id, hall.seq() + 1, u64::MAX, |ev| {
            if ev.seq != hall.seq() + 1 {
                gap = Some((hall.seq(), ev.seq));
                return Ok(false);
            }
            hall.apply(&ev);
            Ok(true)
        })?;
        if let Some((have, next)) = gap {
            return Err(t.corrupt(format!(
                "the log of hall {id} jumps from seq {have} to {next}: events are missing"
            )));
        }
        let last_logged = t.last_logged(&id)?;
        if snap_seq > 0 && last_logged < snap_seq {
            return Err(t.corrupt(format!(
                "the log of hall {id} ends at seq {last_logged} but its snapshot is at seq {snap_seq}: \
                 acknowledged events were lost"
            )));
        }
        let shared = Arc::new(HallShared::default());
        shared.durable.store(hall.seq(), Ordering::Release);
        let key: Arc<str> = Arc::from(id.as_str());
        lock(&self.inner.state).halls.insert(
            key.clone(),
            HallEntry {
                id: key,
                shared,
                enqueued: hall.seq(),
                snap_seq,
                snap_at: Instant::now(),
            },
        );
        Ok(hall)
    }
}
