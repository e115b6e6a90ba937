//! The cluster controller: one task per node that, every `renew_every`
//! (or at once when woken), renews this node's row and leases, stops
//! deciding any hall whose lease it no longer holds, takes free halls up to
//! its share, and hands one hall at a time to a node below its share.
//!
//! Shares: with `h` halls and `n` live nodes a node takes free halls while
//! it owns fewer than ⌈h/n⌉, and the most loaded node (ties: the smallest
//! id) hands one over while it owns more than ⌊h/n⌋ and some live node owns
//! fewer than ⌊h/n⌋ — so a joining node gets its share by clean handoffs,
//! one at a time, and nodes never trade a hall back and forth.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use hallcall_store::{Notice, StoreError};
use tokio::sync::mpsc;

use super::Cluster;
use crate::app::App;

/// How often every followed hall is read even without a NOTIFY (a safety
/// net: a notification is lost only while the listener reconnects, and a
/// reconnect makes every follower read anyway).
const FOLLOW_POLL: Duration = Duration::from_secs(5);

pub(super) async fn run(c: Arc<Cluster>, app: App) {
    let mut tick = tokio::time::interval(c.renew_every());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = c.kick.notified() => {}
        }
        if let Err(e) = step(&c, &app).await {
            tracing::warn!(error = %e, "cluster: lease step failed; retrying");
        }
    }
}

/// One round: heartbeat, renew, reconcile, balance.
async fn step(c: &Arc<Cluster>, app: &App) -> Result<(), StoreError> {
    let draining = c.is_draining();
    if !draining {
        let live = c.leases.heartbeat().await?;
        c.live.store(Arc::new(live));
    }
    let held = match c.leases.renew().await {
        Ok(h) => {
            c.metrics.renewals.fetch_add(1, Ordering::Relaxed);
            h
        }
        Err(e) => {
            // The leases run out unless a later renewal succeeds; the
            // fence in every append keeps a lapsed owner from writing.
            c.metrics.renew_failures.fetch_add(1, Ordering::Relaxed);
            return Err(e);
        }
    };
    // Lapsed (this node was frozen or cut off longer than the lease): stop
    // deciding; another node may own the hall already.
    for (id, e) in &app.halls {
        if e.handle.is_owner() && !held.iter().any(|h| h == id) {
            c.metrics.lost.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(hall = %id, "the hall's lease lapsed; following its new owner");
            e.handle.disown().await;
        }
    }
    // Held in the table but not decided here: a restart within the lease,
    // or a takeover whose recovery failed. Take it up, or give it back.
    for id in &held {
        match app.halls.get(id) {
            Some(e) if e.handle.is_owner() => {}
            Some(e) if !draining && e.handle.own().await => {}
            _ => {
                c.leases.release(id).await?;
            }
        }
    }
    c.refresh_owners().await;
    if draining {
        return Ok(());
    }
    balance(c, app).await
}

async fn balance(c: &Arc<Cluster>, app: &App) -> Result<(), StoreError> {
    let live = c.live.load_full();
    let n = live.len().max(1);
    let total = app.halls.len();
    let ceil = total.div_ceil(n);
    let floor = total / n;
    let me = c.opts.node.as_str();
    let mut mine = app.halls.values().filter(|e| e.handle.is_owner()).count();
    let owners = c.owners.load_full();
    if mine < ceil {
        for (id, e) in &app.halls {
            if mine >= ceil {
                break;
            }
            if owners.contains_key(id) || e.handle.is_owner() {
                continue;
            }
            if !c.leases.acquire(id).await? {
                continue;
            }
            if e.handle.own().await {
                c.metrics.acquired.fetch_add(1, Ordering::Relaxed);
                mine += 1;
            } else {
                c.leases.release(id).await?;
            }
        }
        c.refresh_owners().await;
        return Ok(());
    }
    if mine <= floor {
        return Ok(());
    }
    let mut counts: HashMap<&str, usize> = live.iter().map(|x| (x.node.as_str(), 0)).collect();
    for l in owners.values() {
        if let Some(k) = counts.get_mut(l.node.as_str()) {
            *k += 1;
        }
    }
    counts.insert(me, mine);
    let needy = counts.values().any(|&k| k < floor);
    let most = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(node, _)| *node);
    if needy && most == Some(me) {
        if let Some(id) = app
            .halls
            .iter()
            .rev()
            .find(|(_, e)| e.handle.is_owner())
            .map(|(id, _)| id.clone())
        {
            tracing::info!(hall = %id, "handing a hall to a node below its share");
            hand_over(c, app, &id).await;
        }
    }
    Ok(())
}

/// A clean handoff of `hall`: its task stops deciding (after the batch in
/// progress is durable and answered), then the lease is released and the
/// other nodes are woken. Commands arriving meanwhile are retried by the
/// forwarding layer until the next owner answers.
pub(super) async fn hand_over(c: &Arc<Cluster>, app: &App, hall: &str) {
    let Some(e) = app.halls.get(hall) else {
        return;
    };
    e.handle.disown().await;
    match c.leases.release(hall).await {
        Ok(()) => {
            c.metrics.released.fetch_add(1, Ordering::Relaxed);
        }
        Err(err) => {
            tracing::warn!(hall, error = %err, "cannot release the lease; it lapses instead")
        }
    }
    c.refresh_owners().await;
}

/// Turns wake-ups into tails (followed halls) and controller rounds
/// (released leases), and reads every followed hall now and then.
pub(super) async fn follow_notices(
    c: Arc<Cluster>,
    app: App,
    mut rx: mpsc::UnboundedReceiver<Notice>,
) {
    let tail_all = |app: &App| {
        for e in app.halls.values() {
            if !e.handle.is_owner() {
                e.handle.tail();
            }
        }
    };
    let mut poll = tokio::time::interval(FOLLOW_POLL);
    loop {
        tokio::select! {
            n = rx.recv() => match n {
                None => return,
                Some(Notice::Events(hall)) => {
                    if let Some(e) = app.halls.get(&hall) {
                        if !e.handle.is_owner() {
                            c.metrics.tail_wakeups.fetch_add(1, Ordering::Relaxed);
                            e.handle.tail();
                        }
                    }
                }
                Some(Notice::Released(_)) => c.kick.notify_one(),
                Some(Notice::Connected) => tail_all(&app),
            },
            _ = poll.tick() => tail_all(&app),
        }
    }
}
