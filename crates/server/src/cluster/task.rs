//! The hall task's part in several nodes (a child module of `hall_task`,
//! kept in `cluster/` with the rest of the cluster code): a hall task is
//! either the hall's **owner** — it decides commands and appends, as on one
//! node — or a **follower**: it refuses commands (the HTTP layer forwards
//! them to the owner) and tails the log, applying what the owner wrote with
//! `Hall::apply` and broadcasting it, so displays on every node get the same
//! snapshot, `since=` catch-up and live events.
//!
//! The cluster controller switches a task with [`Control`] messages,
//! handled between batches, so a batch never straddles a change of owner.

use std::sync::atomic::Ordering;

use hallcall_core::Event;
use tokio::sync::{mpsc, oneshot};

use super::{publish, CommandError, HallHandle, HallTask, Msg, PendingReply, Published};
use crate::snapshot::Snapshot;

/// Most events read per tail query.
const TAIL_CHUNK: usize = 1_000;

/// What the cluster controller tells a hall task.
#[derive(Debug)]
pub enum Control {
    /// This node now holds the hall's lease: catch up with the log
    /// (recovering from the store) and start deciding commands. Answers
    /// whether the task is the owner now.
    Own(oneshot::Sender<bool>),
    /// Stop deciding commands (before the lease is given up): answers once
    /// the batch in progress, if any, is durable and answered.
    Disown(oneshot::Sender<()>),
    /// Read and broadcast what the owner wrote (a NOTIFY arrived, or the
    /// periodic check).
    Tail,
}

impl HallHandle {
    /// Whether this node's task decides the hall's commands.
    pub fn is_owner(&self) -> bool {
        self.owner.load(Ordering::Acquire)
    }

    /// See [`Control::Own`].
    pub async fn own(&self) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.ctl.send(Control::Own(tx)).is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// See [`Control::Disown`].
    pub async fn disown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.ctl.send(Control::Disown(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// See [`Control::Tail`]; does not wait.
    pub fn tail(&self) {
        let _ = self.ctl.send(Control::Tail);
    }
}

impl HallTask {
    /// Handles `first` and every control message already queued behind it
    /// (several `Tail`s become one read).
    pub(super) async fn control(
        &mut self,
        first: Control,
        ctl: &mut mpsc::UnboundedReceiver<Control>,
    ) {
        let mut tail = false;
        let mut next = Some(first);
        while let Some(c) = next.take() {
            match c {
                Control::Tail => tail = true,
                Control::Own(ack) => {
                    tail = false;
                    let ok = self.resync().await;
                    if ok {
                        self.owner.store(true, Ordering::Release);
                        tracing::info!(hall = %self.hall.id(), seq = self.hall.seq(), "this node owns the hall now");
                    }
                    let _ = ack.send(ok);
                }
                Control::Disown(ack) => {
                    if self.owner.swap(false, Ordering::AcqRel) {
                        tracing::info!(hall = %self.hall.id(), seq = self.hall.seq(), "this node no longer owns the hall");
                    }
                    let _ = ack.send(());
                }
            }
            next = ctl.try_recv().ok();
        }
        if tail {
            self.tail().await;
        }
    }

    /// A follower refuses commands: the HTTP layer retries them at the owner.
    pub(super) fn refuse_not_owner(&mut self, batch: &mut Vec<Msg>) {
        for Msg { reply, .. } in batch.drain(..) {
            let _ = reply.send(Err(CommandError::NotOwner));
        }
    }

    /// Whether a failed append means another node writes the hall: the
    /// fence refused it (the lease lapsed), or — several nodes — its seq
    /// was taken (`(hall, seq)` collided: someone else wrote). Either way
    /// this node stops deciding the hall and follows the log; the
    /// controller makes it the owner again (recovering) if the lease is
    /// still its own.
    pub(super) fn lost_the_hall(&self, e: &hallcall_store::StoreError) -> bool {
        use hallcall_store::StoreError;
        match e {
            StoreError::NotOwner { .. } => true,
            StoreError::Conflict { .. } => self.store.options().pg_node.is_some(),
            _ => false,
        }
    }

    /// The store refused an append because this node's lease has lapsed
    /// (nothing of the batch was written): back to the last durable state,
    /// refuse the batch's callers (retryable), become a follower and read
    /// what the new owner wrote.
    pub(super) async fn lease_lost(&mut self, replies: Vec<PendingReply>) {
        tracing::warn!(hall = %self.hall.id(), "the hall's lease was lost: nothing of the batch was written; following the new owner");
        self.owner.store(false, Ordering::Release);
        self.hall = self.snapshot.load().hall().clone();
        for (reply, _) in replies {
            let _ = reply.send(Err(CommandError::NotOwner));
        }
        self.tail().await;
    }

    /// Reads the hall from the store (snapshot + log, as at start) and
    /// broadcasts the events this task had not broadcast yet. Before taking
    /// a hall over: whatever the previous owner wrote is in the state, and
    /// the store's bookkeeping for the hall is fresh. False if the store
    /// cannot be read.
    async fn resync(&mut self) -> bool {
        let before = self.seq.load(Ordering::Acquire);
        let store = self.store.clone();
        let config = self.hall.config().clone();
        let recovered = tokio::task::spawn_blocking(move || store.recover(config)).await;
        let hall = match recovered {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => {
                tracing::error!(hall = %self.hall.id(), error = %e, "cannot take the hall over: recovery failed");
                return false;
            }
            Err(e) => {
                tracing::error!(hall = %self.hall.id(), error = %e, "cannot take the hall over");
                return false;
            }
        };
        let missed = if hall.seq() > before {
            let store = self.store.clone();
            let id = self.hall.id().to_string();
            let n = (hall.seq() - before) as usize;
            tokio::task::spawn_blocking(move || store.read_log(&id, before + 1, n))
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        self.hall = hall;
        self.publish_followed(&missed);
        true
    }

    /// Follower: applies and broadcasts what the owner committed since this
    /// task's seq, in chunks, until nothing is left.
    pub(super) async fn tail(&mut self) {
        loop {
            if self.owner.load(Ordering::Acquire) {
                return;
            }
            let from = self.hall.seq() + 1;
            let store = self.store.clone();
            let id = self.hall.id().to_string();
            let read =
                tokio::task::spawn_blocking(move || store.follow(&id, from, TAIL_CHUNK)).await;
            let evs = match read {
                Ok(Ok(evs)) => evs,
                Ok(Err(e)) => {
                    tracing::warn!(hall = %self.hall.id(), error = %e, "tail read failed; the next wake-up retries");
                    return;
                }
                Err(_) => return,
            };
            if evs.is_empty() {
                return;
            }
            for ev in &evs {
                self.hall.apply(ev);
            }
            self.publish_followed(&evs);
            if evs.len() < TAIL_CHUNK {
                return;
            }
        }
    }

    /// Publishes the state after `events` (already applied or recovered),
    /// then broadcasts them and the batch's view, as the owner does after a
    /// durable batch.
    fn publish_followed(&mut self, events: &[Event]) {
        let now = self.now();
        let snapshot = Snapshot::of(&self.hall, now);
        let view = Published {
            seq: snapshot.seq,
            json: snapshot.view_msg.clone(),
            kind: Published::VIEW,
        };
        self.snapshot.publish(snapshot);
        self.seq.store(self.hall.seq(), Ordering::Release);
        if events.is_empty() {
            return;
        }
        for ev in events {
            self.metrics.observe_event(ev);
            let _ = self.events.send(publish(ev));
        }
        let _ = self.events.send(view);
        self.metrics.observe_state(&self.hall);
    }
}
