//! One task per hall owns its [`Hall`]: commands come in over a channel and
//! are decided one after another (single writer), in batches, with one store
//! append per batch. Replies and broadcasts leave only after the store says
//! the batch is durable, so nothing anyone saw can be lost by a crash.
//!
//! Nothing but commands enters the task. After each durable batch it
//! publishes a [`Snapshot`] (before answering and before broadcasting), and
//! every read is served from that snapshot on the reader's own task.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::ws::Utf8Bytes;
use hallcall_core::{Actor, Command, Event, Hall, Millis, Rejected};
use hallcall_store::Store;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::append_retry::{AppendFailure, AppendRetry};
use crate::metrics::HallMetrics;
pub use cluster_task::Control;

/// Owner or follower of the hall when several nodes share one store
/// (the code lives with the rest of the cluster code).
#[path = "cluster/task.rs"]
mod cluster_task;
use crate::snapshot::{Snapshot, SnapshotCell};

/// Most commands decided together before one append.
const MAX_BATCH: usize = 256;
/// Events a subscriber may fall behind before it is dropped.
pub const SUBSCRIBER_BUFFER: usize = 4096;

/// An event on its way to subscribers, serialized once for all of them; or,
/// after each batch's events, the batch's public view (`kind == "view"`,
/// `seq` = the batch's last event).
#[derive(Clone, Debug)]
pub struct Published {
    pub seq: u64,
    /// The public JSON (`hallcall_core::PublicEvent`): no ticket ids,
    /// appointment codes or configuration. Shared, not copied, by every
    /// subscriber.
    pub json: Utf8Bytes,
    pub kind: &'static str,
}

impl Published {
    /// The end-of-batch view message.
    pub const VIEW: &'static str = "view";

    pub fn is_view(&self) -> bool {
        self.kind == Self::VIEW
    }
}

pub type Reply = Result<Vec<Event>, CommandError>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Rejected(#[from] Rejected),
    #[error("storage failed: {0}")]
    Storage(String),
    #[error("the hall is shutting down")]
    Gone,
    /// Several nodes: another node owns the hall (nothing was decided here).
    #[error("another node owns this hall now")]
    NotOwner,
}

/// A caller waiting for its command's events (a range of the batch's events).
type PendingReply = (
    oneshot::Sender<Reply>,
    Result<std::ops::Range<usize>, Rejected>,
);

struct Msg {
    cmd: Command,
    by: Actor,
    reply: oneshot::Sender<Reply>,
}

/// A cheap handle to a hall's task.
#[derive(Clone)]
pub struct HallHandle {
    pub id: Arc<str>,
    tx: mpsc::Sender<Msg>,
    pub events: broadcast::Sender<Published>,
    pub metrics: Arc<HallMetrics>,
    /// Last durable sequence number, for metrics and health.
    pub seq: Arc<AtomicU64>,
    /// The hall as of its last durable batch: what every read is served from.
    pub snapshot: SnapshotCell,
    /// Why the hall's appends fail, while they do (for `/healthz`).
    pub append_failure: AppendFailure,
    /// Whether this node's task decides the hall's commands (always, on
    /// one node; see [`Control`] for several).
    pub owner: Arc<AtomicBool>,
    ctl: mpsc::UnboundedSender<Control>,
}

pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// The public form of an event, serialised once for every subscriber. What
/// the public may see is decided by the core (`Event::public`, a whitelist);
/// the server only serialises it.
pub fn publish(ev: &Event) -> Published {
    Published {
        seq: ev.seq,
        json: Utf8Bytes::from(ev.public().to_json()),
        kind: ev.type_name(),
    }
}

impl HallHandle {
    /// Starts the task for a recovered hall.
    pub fn spawn(hall: Hall, store: Store, metrics: Arc<HallMetrics>) -> HallHandle {
        HallHandle::spawn_as(hall, store, metrics, true)
    }

    /// Starts the task as the hall's owner, or as a follower that tails the
    /// log until [`Control::Own`] (several nodes).
    pub fn spawn_as(
        hall: Hall,
        store: Store,
        metrics: Arc<HallMetrics>,
        owner: bool,
    ) -> HallHandle {
        let (tx, rx) = mpsc::channel(4096);
        let (ctl, ctl_rx) = mpsc::unbounded_channel();
        let (events, _) = broadcast::channel(SUBSCRIBER_BUFFER);
        let started = now_ms();
        let handle = HallHandle {
            id: Arc::from(hall.id()),
            tx,
            events: events.clone(),
            metrics,
            seq: Arc::new(AtomicU64::new(hall.seq())),
            snapshot: SnapshotCell::new(Snapshot::of(&hall, started)),
            append_failure: AppendFailure::default(),
            owner: Arc::new(AtomicBool::new(owner)),
            ctl,
        };
        let task = HallTask {
            hall,
            store,
            events,
            metrics: handle.metrics.clone(),
            seq: handle.seq.clone(),
            snapshot: handle.snapshot.clone(),
            last_now: started,
            retry: AppendRetry::new(handle.append_failure.clone(), handle.metrics.clone()),
            owner: handle.owner.clone(),
        };
        tokio::spawn(task.run(rx, ctl_rx));
        handle
    }

    /// Runs a command; the events come back once they are durable.
    pub async fn command(&self, cmd: Command, by: Actor) -> Reply {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg { cmd, by, reply })
            .await
            .map_err(|_| CommandError::Gone)?;
        rx.await.map_err(|_| CommandError::Gone)?
    }

    /// The hall as of its last durable batch (never waits for the task).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load()
    }

    /// Reads the hall's durable state: `f` runs on the caller's task over
    /// the latest snapshot (it never enters the hall task, and sees every
    /// command already answered). `now` is the current time.
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Hall, Millis) -> T + Send + 'static,
    ) -> Result<T, CommandError> {
        let snap = self.snapshot();
        Ok(f(snap.hall(), now_ms().max(snap.at)))
    }
}

struct HallTask {
    hall: Hall,
    store: Store,
    events: broadcast::Sender<Published>,
    metrics: Arc<HallMetrics>,
    seq: Arc<AtomicU64>,
    snapshot: SnapshotCell,
    last_now: Millis,
    /// Set while appends fail: the hall decides nothing until it resumes.
    retry: AppendRetry,
    /// See [`HallHandle::owner`].
    owner: Arc<AtomicBool>,
}

impl HallTask {
    /// Time never runs backwards inside a hall, whatever the wall clock does.
    fn now(&mut self) -> Millis {
        self.last_now = self.last_now.max(now_ms());
        self.last_now
    }

    /// Waits for commands or the hall's next deadline, whichever comes
    /// first. The hall says when it needs the time (`poll_timeout`); the
    /// task sleeps until then, so an idle hall does no work.
    async fn run(mut self, mut rx: mpsc::Receiver<Msg>, mut ctl: mpsc::UnboundedReceiver<Control>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        loop {
            let sleep = tokio::time::sleep(self.until_deadline());
            tokio::select! {
                // `recv_many` is cancel safe: nothing is lost when the
                // deadline wins.
                n = rx.recv_many(&mut batch, MAX_BATCH) => {
                    if n == 0 {
                        break;
                    }
                }
                Some(c) = ctl.recv() => {
                    self.control(c, &mut ctl).await;
                    continue;
                }
                () = sleep => {}
            }
            self.metrics
                .hall_task_messages
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            self.process(&mut batch).await;
            batch.clear();
        }
        tracing::info!(hall = %self.hall.id(), "hall task stopped");
    }

    /// How long to sleep before the hall's next deadline. The deadline is
    /// wall-clock time and the sleep is monotonic, so a long sleep is cut to
    /// a minute: a wall clock stepped forward (NTP) delays a timer by at most
    /// that, and waking early is harmless (`process` acts only on what is due).
    fn until_deadline(&self) -> Duration {
        const LONGEST: Duration = Duration::from_secs(60);
        if !self.owner.load(Ordering::Acquire) {
            // A follower runs no timers: the owner's come through the log.
            return LONGEST;
        }
        if let Some(wait) = self.retry.until_retry() {
            // Appends fail: sleep until the next attempt to resume.
            return wait.min(LONGEST);
        }
        match self.hall.poll_timeout() {
            None => LONGEST,
            Some(at) => {
                let ms = at.saturating_sub(now_ms().max(self.last_now)).max(0);
                Duration::from_millis(ms as u64).min(LONGEST)
            }
        }
    }

    async fn process(&mut self, batch: &mut Vec<Msg>) {
        if !self.owner.load(Ordering::Acquire) {
            self.refuse_not_owner(batch);
            return;
        }
        if self.retry.reason().is_some() && !self.resume().await {
            let why = self.retry.reason().unwrap_or_default().to_string();
            for Msg { reply, .. } in batch.drain(..) {
                let _ = reply.send(Err(CommandError::Storage(why.clone())));
            }
            return;
        }
        let started = std::time::Instant::now();
        let mut events: Vec<Event> = Vec::new();
        let mut replies: Vec<PendingReply> = Vec::new();
        // Timers due by now come first, as they came first in time; their
        // events are durable and broadcast with the batch's, answering nobody.
        let now = self.now();
        if self.hall.poll_timeout().is_some_and(|at| at <= now) {
            events.extend(self.hall.handle_timeout(now));
        }
        for Msg { cmd, by, reply } in batch.drain(..) {
            let now = self.now();
            match self.hall.handle(cmd, by, now) {
                Ok(evs) => {
                    let start = events.len();
                    events.extend(evs);
                    replies.push((reply, Ok(start..events.len())));
                }
                Err(e) => replies.push((reply, Err(e))),
            }
        }
        if !events.is_empty() {
            let durable = self.store.append(self.hall.id(), events.clone()).await;
            if let Err(e) = durable {
                if self.lost_the_hall(&e) {
                    self.lease_lost(replies).await;
                    return;
                }
                self.append_failed(e.to_string(), replies);
                return;
            }
            // Durable now: publish the snapshot first (callers read their
            // own writes from it; a new subscriber that loads it after
            // subscribing misses nothing), answer the callers (the clerk's
            // HTTP reply should not queue behind a thousand subscriber
            // wake-ups), then broadcast. All only after the flush.
            let now = self.now();
            let snapshot = Snapshot::of(&self.hall, now);
            let view = Published {
                seq: snapshot.seq,
                json: snapshot.view_msg.clone(),
                kind: Published::VIEW,
            };
            self.snapshot.publish(snapshot);
            self.seq.store(self.hall.seq(), Ordering::Release);
            let elapsed = started.elapsed();
            for (reply, outcome) in replies.drain(..) {
                self.metrics.observe_command(elapsed);
                let _ = reply.send(match outcome {
                    Ok(range) => Ok(events[range].to_vec()),
                    Err(e) => Err(CommandError::Rejected(e)),
                });
            }
            for ev in &events {
                self.metrics.observe_event(ev);
                let _ = self.events.send(publish(ev));
            }
            let _ = self.events.send(view);
            if let Err(e) = self.store.maybe_snapshot(&self.hall) {
                tracing::warn!(hall = %self.hall.id(), error = %e, "snapshot failed (the log still holds everything)");
            }
        }
        let elapsed = started.elapsed();
        for (reply, outcome) in replies {
            self.metrics.observe_command(elapsed);
            let _ = reply.send(match outcome {
                Ok(range) => Ok(events[range].to_vec()),
                Err(e) => Err(CommandError::Rejected(e)),
            });
        }
        self.metrics.observe_state(&self.hall);
    }
}

impl HallTask {
    /// An append failed: the hall goes back to its last durable state (the
    /// published snapshot's frozen copy: the store that just failed is not
    /// read) and every caller of the batch is refused, so nothing of the
    /// batch is ever seen or numbered. See [`crate::append_retry`].
    fn append_failed(&mut self, why: String, replies: Vec<PendingReply>) {
        tracing::error!(hall = %self.hall.id(), error = %why, "append failed; the hall is back at its last durable state and refuses commands until the store writes again");
        self.hall = self.snapshot.load().hall().clone();
        self.retry.failed(why.clone());
        for (reply, _) in replies {
            let _ = reply.send(Err(CommandError::Storage(why.clone())));
        }
    }

    /// While appends fail: when due, recovers the hall from the store (which
    /// succeeds only once the store writes again) and resumes. True when the
    /// hall may decide again.
    async fn resume(&mut self) -> bool {
        if !self.retry.due(self.store.write_failure().is_none()) {
            return false;
        }
        let store = self.store.clone();
        let config = self.hall.config().clone();
        let recovered = tokio::task::spawn_blocking(move || store.recover(config))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        match recovered {
            Ok(hall) => {
                if hall.seq() != self.hall.seq() {
                    tracing::warn!(hall = %self.hall.id(), durable = hall.seq(), here = self.hall.seq(), "the store's durable state differs from the hall's; continuing from the store's");
                    let now = self.now();
                    self.seq.store(hall.seq(), Ordering::Release);
                    self.snapshot.publish(Snapshot::of(&hall, now));
                }
                self.hall = hall;
                self.retry.resumed();
                tracing::info!(hall = %self.hall.id(), seq = self.hall.seq(), "appends succeed again; the hall resumes");
                true
            }
            Err(why) => {
                self.retry.still_failing(why);
                false
            }
        }
    }
}
