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

use std::collections::BTreeMap;
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
            app.sessions.forget(id);
        }
    }
    // Held in the table but not decided here: a restart within the lease,
    // or a takeover whose recovery failed. Take it up, or give it back.
    for id in &held {
        match app.halls.get(id) {
            Some(e) if e.handle.is_owner() => {}
            Some(_) if !draining && take_up(app, id).await => {}
            // `hand_over` releases it once its webhook positions are written.
            _ if c.is_handing_over(id) => {}
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

/// What the share rule (see the module doc) tells one node to do.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Share {
    /// Take up to this many free halls.
    Take(usize),
    /// Hand one of its halls to a node below its share.
    GiveOne,
    Stay,
}

/// The share rule: `total` halls; `counts` the halls each live node owns
/// (every live node, `me` included).
pub(super) fn share(total: usize, counts: &BTreeMap<&str, usize>, me: &str) -> Share {
    let n = counts.len().max(1);
    let (ceil, floor) = (total.div_ceil(n), total / n);
    let mine = counts.get(me).copied().unwrap_or(0);
    if mine < ceil {
        return Share::Take(ceil - mine);
    }
    let needy = counts.values().any(|&k| k < floor);
    // The most loaded node gives (ties: the smallest id), so two nodes
    // never both give up a hall for one newcomer.
    let most = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(node, _)| *node);
    if mine > floor && needy && most == Some(me) {
        Share::GiveOne
    } else {
        Share::Stay
    }
}

async fn balance(c: &Arc<Cluster>, app: &App) -> Result<(), StoreError> {
    let live = c.live.load_full();
    let me = c.opts.node.as_str();
    let mine = app.halls.values().filter(|e| e.handle.is_owner()).count();
    let owners = c.owners.load_full();
    let mut counts: BTreeMap<&str, usize> = live.iter().map(|x| (x.node.as_str(), 0)).collect();
    for l in owners.values() {
        if let Some(k) = counts.get_mut(l.node.as_str()) {
            *k += 1;
        }
    }
    counts.insert(me, mine);
    match share(app.halls.len(), &counts, me) {
        Share::Stay => {}
        Share::Take(mut wanted) => {
            for (id, e) in &app.halls {
                if wanted == 0 {
                    break;
                }
                if owners.contains_key(id) || e.handle.is_owner() {
                    continue;
                }
                if !c.leases.acquire(id).await? {
                    continue;
                }
                if take_up(app, id).await {
                    c.metrics.acquired.fetch_add(1, Ordering::Relaxed);
                    wanted -= 1;
                } else {
                    c.leases.release(id).await?;
                }
            }
            c.refresh_owners().await;
        }
        Share::GiveOne => {
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
    }
    Ok(())
}

/// Makes this node decide `hall`, whose lease it has just acquired (or
/// still holds after a restart): first its clerk sessions as the previous
/// owner left them — the lease is ours, so nobody else writes them now, and
/// acquiring it waited for any session write still holding the old lease —
/// then the log (the task's recovery). Sessions first, so no request is
/// decided here before a clerk's token can be checked. A failed read is
/// retried at the first token check.
async fn take_up(app: &App, hall: &str) -> bool {
    let Some(e) = app.halls.get(hall) else {
        return false;
    };
    match app.sessions.take_over(hall).await {
        Ok(n) => tracing::debug!(hall, sessions = n, "clerk sessions read"),
        Err(err) => {
            tracing::warn!(hall, error = %err, "cannot read the hall's clerk sessions now; they are read at the first token check")
        }
    }
    e.handle.own().await
}

/// A clean handoff of `hall`: its task stops deciding (after the batch in
/// progress is durable and answered), then the lease is released and the
/// other nodes are woken. Commands arriving meanwhile are retried by the
/// forwarding layer until the next owner answers.
/// How long a handoff waits for webhook requests already sent.
const WEBHOOK_SETTLE: Duration = Duration::from_secs(3);

pub(super) async fn hand_over(c: &Arc<Cluster>, app: &App, hall: &str) {
    let Some(e) = app.halls.get(hall) else {
        return;
    };
    c.handing_over().insert(hall.to_string());
    e.handle.disown().await;
    app.sessions.forget(hall);
    // The webhooks' latest positions, while the lease is still ours, so the
    // next owner repeats no delivery made here: first the requests already
    // sent are answered (a receiver may hold an event it has not answered).
    if !app
        .webhook_positions
        .in_flight
        .settle(hall, WEBHOOK_SETTLE)
        .await
    {
        tracing::warn!(hall, "a webhook delivery was still unanswered at the handoff; the next owner may send it again");
    }
    if let Err(err) = app.webhook_positions.flush().await {
        tracing::warn!(hall, error = %err, "webhook positions not written before the handoff; the next owner may repeat a few deliveries");
    }
    match c.leases.release(hall).await {
        Ok(()) => {
            c.metrics.released.fetch_add(1, Ordering::Relaxed);
        }
        Err(err) => {
            tracing::warn!(hall, error = %err, "cannot release the lease; it lapses instead")
        }
    }
    c.handing_over().remove(hall);
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{share, Share};

    fn counts(v: &[(&'static str, usize)]) -> BTreeMap<&'static str, usize> {
        v.iter().copied().collect()
    }

    /// About equal shares: a node takes free halls up to ⌈h/n⌉; only the
    /// most loaded node (ties: smallest id) gives one up, and only while a
    /// node is below ⌊h/n⌋ — so a newcomer gets its share one clean handoff
    /// at a time and an uneven split that cannot be evened out stays put.
    #[test]
    fn halls_spread_in_about_equal_shares_one_handoff_at_a_time() {
        // A lone node takes every hall.
        assert_eq!(share(3, &counts(&[("n1", 0)]), "n1"), Share::Take(3));
        // Two newcomers: the owner of all three gives one up, they take one each.
        let c = counts(&[("n1", 3), ("n2", 0), ("n3", 0)]);
        assert_eq!(share(3, &c, "n1"), Share::GiveOne);
        assert_eq!(share(3, &c, "n2"), Share::Take(1));
        // 2/1/0: n1 still gives (n3 has none), n2 stays.
        let c = counts(&[("n1", 2), ("n2", 1), ("n3", 0)]);
        assert_eq!(share(3, &c, "n1"), Share::GiveOne);
        assert_eq!(share(3, &c, "n2"), Share::Stay);
        // Even: nobody moves.
        let c = counts(&[("n1", 1), ("n2", 1), ("n3", 1)]);
        for n in ["n1", "n2", "n3"] {
            assert_eq!(share(3, &c, n), Share::Stay);
        }
        // 4 halls over 3 nodes, 2/2/0: only n1 (tie, smaller id) gives one.
        let c = counts(&[("n1", 2), ("n2", 2), ("n3", 0)]);
        assert_eq!(share(4, &c, "n1"), Share::GiveOne);
        assert_eq!(share(4, &c, "n2"), Share::Stay);
        assert_eq!(share(4, &c, "n3"), Share::Take(2));
        // 2/1/1 cannot be evener: n1 keeps its two; the others would take
        // a free hall (⌈4/3⌉ = 2) but none is free, so nothing moves.
        let c = counts(&[("n1", 2), ("n2", 1), ("n3", 1)]);
        assert_eq!(share(4, &c, "n1"), Share::Stay);
        assert_eq!(share(4, &c, "n2"), Share::Take(1));
    }
}
