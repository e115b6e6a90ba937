//! What readers see: after every durable batch the hall task publishes an
//! immutable [`Snapshot`] of the hall, and every read — `/state`, a ticket's
//! status, a window's queue, a clerk token's role check, a new subscriber's
//! catch-up — is answered from it on the caller's own task. Reads never
//! queue behind writes, and a busy hall's task does nothing but decide,
//! append and publish.
//!
//! The snapshot is swapped in (an `arc-swap` pointer: readers take it with
//! one atomic load and a reference count, never a lock the writer could wait
//! on) *before* the batch's callers are answered and *before* its events are
//! broadcast. So a caller reads its own writes, and a subscriber that
//! subscribes first and then loads the snapshot can miss nothing: any event
//! broadcast before it subscribed is already in the snapshot it loads.
//!
//! It holds a frozen copy of the core's `Hall` (cloned once per batch that
//! changed something) plus the public view serialised once. The clone does
//! not copy the day's tickets: the core keeps them in persistent structures
//! (`hall/ticket_book.rs`), so the snapshot shares them with the live hall and
//! a later change copies only the leaf it touches. What a clone still copies
//! is bounded by the hall, not the day: configuration, windows, the queues of
//! waiting tickets. A ticket's
//! status, a window's queue, where a clerk is seated are asked of that
//! frozen copy on demand (`HallHandle::read` runs its closure over it):
//! working out every waiting ticket's position eagerly after every batch
//! would cost O(waiting²) per batch with the core's `ahead_of`, for pages
//! that mostly are not looking.

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::extract::ws::Utf8Bytes;
use hallcall_core::{Hall, Millis, TicketStatus};

/// A hall as of one durable sequence number.
pub struct Snapshot {
    /// Last durable sequence number this snapshot includes.
    pub seq: u64,
    /// When it was taken (hall time, ms): the figures in `view` are as of then.
    pub at: Millis,
    hall: Hall,
    /// The public view (`GET /state`), serialised once.
    pub view: Utf8Bytes,
    /// `{"type":"view","seq":N,"view":{…}}`, serialised once and shared by
    /// every subscriber that asked for views.
    pub view_msg: Utf8Bytes,
}

impl Snapshot {
    /// Freezes `hall` as of `now`.
    pub fn of(hall: &Hall, now: Millis) -> Snapshot {
        let view = serde_json::to_string(&hall.view(now)).unwrap_or_else(|_| "null".into());
        let view_msg = format!(
            "{{\"type\":\"view\",\"seq\":{},\"view\":{view}}}",
            hall.seq()
        );
        Snapshot {
            seq: hall.seq(),
            at: now,
            hall: hall.clone(),
            view: Utf8Bytes::from(view),
            view_msg: Utf8Bytes::from(view_msg),
        }
    }

    /// The frozen hall, for any read-only question of the core.
    pub fn hall(&self) -> &Hall {
        &self.hall
    }

    pub fn ticket_status(&self, id: &str) -> Option<TicketStatus> {
        self.hall.ticket_status(id)
    }

    pub fn ticket_exists(&self, id: &str) -> bool {
        self.hall.ticket(id).is_some()
    }
}

/// The slot a hall task publishes into and readers load from.
#[derive(Clone)]
pub struct SnapshotCell(Arc<ArcSwap<Snapshot>>);

impl SnapshotCell {
    pub fn new(first: Snapshot) -> SnapshotCell {
        SnapshotCell(Arc::new(ArcSwap::from_pointee(first)))
    }

    /// The latest published snapshot.
    pub fn load(&self) -> Arc<Snapshot> {
        self.0.load_full()
    }

    /// Publishes a new snapshot (the hall task only).
    pub fn publish(&self, next: Snapshot) {
        self.0.store(Arc::new(next));
    }
}
