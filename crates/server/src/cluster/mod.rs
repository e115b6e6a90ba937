//! Several hallcall nodes over one PostgreSQL (`serve --store postgres://…
//! --node ID --advertise HOST:PORT`): each hall is written by exactly one
//! node at a time, any node answers for any hall.
//!
//! - **Leases** (`lease.rs`): every node renews its row in `nodes` and the
//!   leases of the halls it owns about every second (`lease / 3`, at most
//!   1 s); halls are spread over the live nodes in about equal shares; a
//!   node whose lease lapsed stops deciding the hall. The fence is in the
//!   store: every append checks the lease in the same statement, and the
//!   `(hall, seq)` primary key refuses a second writer of a seq
//!   (`hallcall_store::Leases`).
//! - **Owner or follower** (`task.rs`, a child of `hall_task`): the owner's
//!   hall task decides commands; the others tail the log (LISTEN/NOTIFY
//!   wakes them, a periodic read catches anything missed) and broadcast what
//!   they read, so a display on any node sees every event once.
//! - **Forwarding** (`forward.rs`): an HTTP request for a hall this node
//!   does not own goes to the owner's advertised address; while there is
//!   no owner (a takeover) it waits, then answers a retryable 503.
//! - **Clean stop**: SIGTERM hands every hall to another node before the
//!   listener closes ([`Cluster::drain`]).
//! - **Clerk sessions and webhook positions** are in the database: the
//!   node taking a hall over reads the hall's sessions before it decides
//!   anything (`lease.rs`, [`crate::sessions`]), and its hook tasks read
//!   their positions (`crate::webhooks::position`), so a clerk's token and a
//!   webhook's place survive a failover.

pub mod forward;
mod lease;
pub mod migrate;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use hallcall_store::{Lease, Leases, NodeInfo};

use crate::app::App;

/// How a node takes part in a cluster (from `serve`'s flags).
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// This node's id (unique among the nodes).
    pub node: String,
    /// Where the other nodes reach this one (`host:port`).
    pub advertise: String,
    /// How long a lease lasts without renewal.
    pub lease: Duration,
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct ClusterMetrics {
    pub renewals: AtomicU64,
    pub renew_failures: AtomicU64,
    pub acquired: AtomicU64,
    pub released: AtomicU64,
    pub lost: AtomicU64,
    pub forwarded: AtomicU64,
    pub forward_retries: AtomicU64,
    pub forward_failures: AtomicU64,
    pub no_owner: AtomicU64,
    pub tail_wakeups: AtomicU64,
}

/// This node's view of the cluster. Shared by the controller, the
/// forwarding layer, `/healthz` and `/metrics`.
pub struct Cluster {
    pub opts: ClusterOptions,
    leases: Leases,
    /// Valid leases by hall, as last read (refreshed every renewal and when
    /// a forward fails).
    owners: ArcSwap<HashMap<String, Lease>>,
    live: ArcSwap<Vec<NodeInfo>>,
    draining: AtomicBool,
    /// Wakes the controller before its next tick.
    kick: tokio::sync::Notify,
    /// Halls in a clean handoff: disowned but still leased here until their
    /// webhook positions are written. The controller must not release
    /// them meanwhile (it did, and the next owner then repeated a delivery).
    handing_over: std::sync::Mutex<std::collections::HashSet<String>>,
    pub metrics: ClusterMetrics,
}

impl Cluster {
    pub fn new(opts: ClusterOptions, leases: Leases) -> Arc<Cluster> {
        Arc::new(Cluster {
            opts,
            leases,
            owners: ArcSwap::from_pointee(HashMap::new()),
            live: ArcSwap::from_pointee(Vec::new()),
            draining: AtomicBool::new(false),
            kick: tokio::sync::Notify::new(),
            handing_over: Default::default(),
            metrics: ClusterMetrics::default(),
        })
    }

    /// How often leases are renewed: a third of the lease, at most a second.
    pub fn renew_every(&self) -> Duration {
        (self.opts.lease / 3).clamp(Duration::from_millis(50), Duration::from_secs(1))
    }

    /// The lease of `hall` as last read.
    pub fn owner_of(&self, hall: &str) -> Option<Lease> {
        self.owners.load().get(hall).cloned()
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Re-reads who owns what (after a forward found the map stale).
    pub async fn refresh_owners(&self) {
        match self.leases.owners().await {
            Ok(list) => {
                let map = list.into_iter().map(|l| (l.hall.clone(), l)).collect();
                self.owners.store(Arc::new(map));
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the leases"),
        }
    }

    /// Starts the controller and the wake-up listener.
    pub fn start(self: &Arc<Self>, app: App) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.leases.listen(tx);
        tokio::spawn(lease::follow_notices(self.clone(), app.clone(), rx));
        tokio::spawn(lease::run(self.clone(), app));
    }

    /// SIGTERM: a clean handoff. Stops taking halls, hands each owned hall
    /// over (its task stops deciding, then the lease is released and the
    /// other nodes are told), waits until another node owns each of them
    /// (bounded) and until the proxy's health checks have seen this node
    /// down (`/healthz` answers 503 from now on). The listener keeps
    /// serving meanwhile; requests for those halls are forwarded.
    pub async fn drain(self: &Arc<Self>, app: &App) {
        self.draining.store(true, Ordering::Release);
        if let Err(e) = self.leases.leave().await {
            tracing::warn!(error = %e, "cannot leave the node table; the others see this node expire");
        }
        self.kick.notify_one();
        let mine: Vec<String> = app
            .halls
            .iter()
            .filter(|(_, e)| e.handle.is_owner())
            .map(|(id, _)| id.clone())
            .collect();
        for hall in &mine {
            lease::hand_over(self, app, hall).await;
        }
        let others = self.live.load().iter().any(|n| n.node != self.opts.node);
        if !others {
            // The last node: nobody will take the halls; they wait, released,
            // for the next node to start.
            tracing::info!(halls = mine.len(), "no other node is live: halls released");
            return;
        }
        let deadline = tokio::time::Instant::now() + self.opts.lease * 3;
        loop {
            self.refresh_owners().await;
            let owners = self.owners.load();
            let pending = mine
                .iter()
                .filter(|h| owners.get(*h).is_none_or(|l| l.node == self.opts.node))
                .count();
            if pending == 0 || tokio::time::Instant::now() > deadline {
                if pending > 0 {
                    tracing::warn!(pending, "stopping before every hall was taken over");
                }
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Let the proxy's health checks (deploy/haproxy.cfg: every 500 ms)
        // take this node out before the listener closes.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        tracing::info!(halls = mine.len(), "every hall handed over");
    }

    fn handing_over(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        self.handing_over.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `hall` is in a clean handoff from this node.
    pub(crate) fn is_handing_over(&self, hall: &str) -> bool {
        self.handing_over().contains(hall)
    }

    /// `/healthz` fields.
    pub fn health(&self, app: &App) -> serde_json::Value {
        let owned: Vec<&str> = app
            .halls
            .iter()
            .filter(|(_, e)| e.handle.is_owner())
            .map(|(id, _)| id.as_str())
            .collect();
        serde_json::json!({
            "node": self.opts.node,
            "advertise": self.opts.advertise,
            "owned": owned,
            "draining": self.is_draining(),
            "live_nodes": self.live.load().iter().map(|n| n.node.as_str()).collect::<Vec<_>>(),
        })
    }

    /// Prometheus lines.
    pub fn render(&self, app: &App, out: &mut String) {
        let m = &self.metrics;
        let node = &self.opts.node;
        let owned = app.halls.values().filter(|e| e.handle.is_owner()).count();
        let counters: [(&str, &str, &AtomicU64); 10] = [
            (
                "hallcall_cluster_lease_renewals_total",
                "lease renewals that succeeded",
                &m.renewals,
            ),
            (
                "hallcall_cluster_lease_renew_failures_total",
                "lease renewals that failed (database unreachable)",
                &m.renew_failures,
            ),
            (
                "hallcall_cluster_leases_acquired_total",
                "halls taken over by this node",
                &m.acquired,
            ),
            (
                "hallcall_cluster_leases_released_total",
                "halls handed over by this node",
                &m.released,
            ),
            (
                "hallcall_cluster_leases_lost_total",
                "halls whose lease lapsed while this node owned them",
                &m.lost,
            ),
            (
                "hallcall_cluster_forwarded_total",
                "requests forwarded to the owner of their hall",
                &m.forwarded,
            ),
            (
                "hallcall_cluster_forward_retries_total",
                "forwarding attempts repeated (no owner yet, owner gone)",
                &m.forward_retries,
            ),
            (
                "hallcall_cluster_forward_failures_total",
                "forwarded requests answered with an error by this node",
                &m.forward_failures,
            ),
            (
                "hallcall_cluster_no_owner_total",
                "requests answered 503 because no node owned the hall in time",
                &m.no_owner,
            ),
            (
                "hallcall_cluster_tail_wakeups_total",
                "NOTIFY wake-ups of followed halls",
                &m.tail_wakeups,
            ),
        ];
        let _ = writeln!(
            out,
            "# HELP hallcall_cluster_owned_halls halls this node owns (holds the lease of)"
        );
        let _ = writeln!(out, "# TYPE hallcall_cluster_owned_halls gauge");
        let _ = writeln!(
            out,
            "hallcall_cluster_owned_halls{{node=\"{node}\"}} {owned}"
        );
        let _ = writeln!(
            out,
            "# HELP hallcall_cluster_live_nodes live nodes this node sees"
        );
        let _ = writeln!(out, "# TYPE hallcall_cluster_live_nodes gauge");
        let _ = writeln!(
            out,
            "hallcall_cluster_live_nodes{{node=\"{node}\"}} {}",
            self.live.load().len()
        );
        let _ = writeln!(
            out,
            "# HELP hallcall_cluster_session_reads_total reads of a hall's clerk sessions from the database (one per takeover; tokens are checked from memory)"
        );
        let _ = writeln!(out, "# TYPE hallcall_cluster_session_reads_total counter");
        let _ = writeln!(
            out,
            "hallcall_cluster_session_reads_total{{node=\"{node}\"}} {}",
            app.sessions.store_reads()
        );
        let _ = writeln!(
            out,
            "# HELP hallcall_cluster_lease_seconds the lease duration"
        );
        let _ = writeln!(out, "# TYPE hallcall_cluster_lease_seconds gauge");
        let _ = writeln!(
            out,
            "hallcall_cluster_lease_seconds{{node=\"{node}\"}} {}",
            self.opts.lease.as_secs_f64()
        );
        for (name, help, v) in counters {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(
                out,
                "{name}{{node=\"{node}\"}} {}",
                v.load(Ordering::Relaxed)
            );
        }
    }
}

/// For the WebSocket catch-up on a follower: a client resuming with
/// `since` ahead of what this node has tailed (it was on another node)
/// waits, up to a second, until this node has read that far, so it gets
/// the missed events rather than a snapshot.
pub async fn await_seq(app: &App, hall: &str, since: Option<u64>) {
    let (Some(_), Some(since), Ok(entry)) = (&app.cluster, since, app.hall(hall)) else {
        return;
    };
    let handle = &entry.handle;
    if handle.is_owner() || handle.seq.load(Ordering::Acquire) >= since {
        return;
    }
    handle.tail();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    while handle.seq.load(Ordering::Acquire) < since && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
