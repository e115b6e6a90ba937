//! Several nodes over one database: the node table, hall leases and the
//! wake-up channel. This is only the SQL; which halls a node should own and
//! when it hands one over is decided by the server (`cluster` module).
//!
//! Every time is the database's (`now()`), never a node's clock: two nodes
//! whose clocks disagree still agree on whether a lease has expired, and a
//! node frozen with SIGSTOP cannot believe its lease is young when it wakes.
//!
//! Why the lease is checked inside each append (see `commit::FENCED_SQL`)
//! rather than by ending the old owner's database sessions
//! (`pg_terminate_backend`): a frozen node's next statement could run on a
//! fresh connection made after the termination, so termination alone fences
//! nothing; the check in the statement does, on every connection, and the
//! share lock it takes on the lease row orders an append and a takeover.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{mpsc, oneshot};

use super::{PgInner, PgStore};
use crate::StoreError;

/// The channel each commit of a fenced append notifies (payload: the hall).
pub const EVENTS_CHANNEL: &str = "hallcall_events";
/// The channel a released lease notifies (payload: the hall).
pub const LEASES_CHANNEL: &str = "hallcall_leases";

/// A live node: its id and the address other nodes forward commands to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    pub node: String,
    pub addr: String,
}

/// A valid lease: the hall, the node that owns it and that node's address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub hall: String,
    pub node: String,
    pub addr: String,
}

/// What the wake-up listener reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// A commit wrote events of this hall.
    Events(String),
    /// A lease was released (a clean handoff): look for free halls now.
    Released(String),
    /// The listener (re)connected: notifications may have been missed, so
    /// every follower should read its tail.
    Connected,
}

/// One node's leases. Cheap to clone. Every call runs on the store's own
/// runtime and is awaited here, so it never blocks the caller's threads.
#[derive(Clone)]
pub struct Leases {
    inner: Arc<PgInner>,
    node: Arc<str>,
    addr: Arc<str>,
    lease_ms: i64,
}

impl PgStore {
    pub(crate) fn leases(&self, node: &str, addr: &str, lease: Duration) -> Leases {
        Leases {
            inner: self.inner.clone(),
            node: Arc::from(node),
            addr: Arc::from(addr),
            lease_ms: i64::try_from(lease.as_millis()).unwrap_or(i64::MAX),
        }
    }
}

impl Leases {
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Runs `f` on the store's runtime; awaits it without blocking.
    async fn run<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Leases) -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let fut = f(self.clone());
        self.inner.handle.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.await.unwrap_or(Err(StoreError::Closed))
    }

    /// Renews this node's row in `nodes` and returns every live node
    /// (this one included), sorted by id.
    pub async fn heartbeat(&self) -> Result<Vec<NodeInfo>, StoreError> {
        self.run(|l| async move {
            sqlx::query(
                "INSERT INTO nodes (node, addr, expires_at) \
                 VALUES ($1, $2, now() + make_interval(secs => $3::float8 / 1000)) \
                 ON CONFLICT (node) DO UPDATE SET addr = EXCLUDED.addr, expires_at = EXCLUDED.expires_at",
            )
            .bind(&*l.node)
            .bind(&*l.addr)
            .bind(l.lease_ms as f64)
            .execute(&l.inner.pool)
            .await
            .map_err(|e| l.inner.db_err(e))?;
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT node, addr FROM nodes WHERE expires_at > now() ORDER BY node",
            )
            .fetch_all(&l.inner.pool)
            .await
            .map_err(|e| l.inner.db_err(e))?;
            Ok(rows
                .into_iter()
                .map(|(node, addr)| NodeInfo { node, addr })
                .collect())
        })
        .await
    }

    /// Removes this node from `nodes` (a clean stop), so the others count
    /// it out of the shares at once.
    pub async fn leave(&self) -> Result<(), StoreError> {
        self.run(|l| async move {
            sqlx::query("DELETE FROM nodes WHERE node = $1")
                .bind(&*l.node)
                .execute(&l.inner.pool)
                .await
                .map_err(|e| l.inner.db_err(e))?;
            Ok(())
        })
        .await
    }

    /// Extends every lease this node still holds; returns those halls. A
    /// lease that has already expired is not renewed — another node may have
    /// taken it, and this node's state of the hall may be stale — the node
    /// must acquire it again (and recover the hall) to write.
    pub async fn renew(&self) -> Result<Vec<String>, StoreError> {
        self.run(|l| async move {
            sqlx::query_scalar(
                "UPDATE leases SET expires_at = now() + make_interval(secs => $2::float8 / 1000), addr = $3 \
                 WHERE node = $1 AND expires_at > now() RETURNING hall",
            )
            .bind(&*l.node)
            .bind(l.lease_ms as f64)
            .bind(&*l.addr)
            .fetch_all(&l.inner.pool)
            .await
            .map_err(|e| l.inner.db_err(e))
        })
        .await
    }

    /// Takes `hall`'s lease if nobody holds a valid one; returns whether
    /// this node holds it now. The `UPDATE` waits for any append still
    /// holding the row's share lock, so the caller's recovery afterwards
    /// reads everything the previous owner wrote.
    pub async fn acquire(&self, hall: &str) -> Result<bool, StoreError> {
        let hall = hall.to_string();
        self.run(|l| async move {
            let got: Option<String> = sqlx::query_scalar(
                "INSERT INTO leases (hall, node, addr, expires_at) \
                 VALUES ($1, $2, $3, now() + make_interval(secs => $4::float8 / 1000)) \
                 ON CONFLICT (hall) DO UPDATE \
                   SET node = EXCLUDED.node, addr = EXCLUDED.addr, expires_at = EXCLUDED.expires_at \
                   WHERE leases.expires_at <= now() \
                 RETURNING node",
            )
            .bind(&hall)
            .bind(&*l.node)
            .bind(&*l.addr)
            .bind(l.lease_ms as f64)
            .fetch_optional(&l.inner.pool)
            .await
            .map_err(|e| l.inner.db_err(e))?;
            Ok(got.as_deref() == Some(&*l.node))
        })
        .await
    }

    /// Gives `hall`'s lease up (expires it now) and tells the other nodes
    /// (`NOTIFY hallcall_leases`), so one of them takes it over at once.
    /// The caller stops writing the hall first.
    pub async fn release(&self, hall: &str) -> Result<(), StoreError> {
        let hall = hall.to_string();
        self.run(|l| async move {
            sqlx::query(
                "WITH r AS (UPDATE leases SET expires_at = now() - interval '1 millisecond' \
                   WHERE hall = $1 AND node = $2 RETURNING hall) \
                 SELECT pg_notify($3, hall) FROM r",
            )
            .bind(&hall)
            .bind(&*l.node)
            .bind(LEASES_CHANNEL)
            .execute(&l.inner.pool)
            .await
            .map_err(|e| l.inner.db_err(e))?;
            Ok(())
        })
        .await
    }

    /// Every valid lease (who owns which hall now), by hall.
    pub async fn owners(&self) -> Result<Vec<Lease>, StoreError> {
        self.run(|l| async move {
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT hall, node, addr FROM leases WHERE expires_at > now() ORDER BY hall",
            )
            .fetch_all(&l.inner.pool)
            .await
            .map_err(|e| l.inner.db_err(e))?;
            Ok(rows
                .into_iter()
                .map(|(hall, node, addr)| Lease { hall, node, addr })
                .collect())
        })
        .await
    }

    /// Listens on the wake-up channels until `tx` is dropped, reconnecting
    /// after errors (and reporting [`Notice::Connected`] each time, since
    /// notifications sent meanwhile are lost).
    pub fn listen(&self, tx: mpsc::UnboundedSender<Notice>) {
        let inner = self.inner.clone();
        self.inner.handle.spawn(async move {
            loop {
                if tx.is_closed() {
                    return;
                }
                let mut listener = match PgListener::connect_with(&inner.pool).await {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::warn!(error = %e, "LISTEN: cannot connect; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        continue;
                    }
                };
                if let Err(e) = listener.listen_all([EVENTS_CHANNEL, LEASES_CHANNEL]).await {
                    tracing::warn!(error = %e, "LISTEN failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
                if tx.send(Notice::Connected).is_err() {
                    return;
                }
                loop {
                    match listener.try_recv().await {
                        Ok(Some(n)) => {
                            let hall = n.payload().to_string();
                            let notice = if n.channel() == EVENTS_CHANNEL {
                                Notice::Events(hall)
                            } else {
                                Notice::Released(hall)
                            };
                            if tx.send(notice).is_err() {
                                return;
                            }
                        }
                        // The connection was lost; sqlx reconnects on the
                        // next call, and we report it.
                        Ok(None) => {
                            if tx.send(Notice::Connected).is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "LISTEN connection failed; reconnecting");
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            break;
                        }
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hallcall_core::{Actor, Command, Event, Hall};

    use crate::StoreError;

    /// 2026-11-23 09:00 in Shanghai.
    const NINE_AM: i64 = 1_795_395_600_000;

    use crate::testing::two_nodes;

    fn config() -> hallcall_core::HallConfig {
        let mut c = hallcall_core::demo::demo_hall();
        c.id = "h".into();
        c
    }

    /// The events of one more ticket on `hall`.
    fn issue(hall: &mut Hall, n: u32) -> Vec<Event> {
        hall.handle(
            Command::IssueTicket {
                id: format!("t{n}"),
                category: "general".into(),
                priority: Default::default(),
                channel: Default::default(),
                appointment_code: None,
            },
            Actor::Kiosk,
            NINE_AM + i64::from(n) * 1_000,
        )
        .expect("issued")
    }

    /// The fence: a node writes a hall only while it holds the lease — a
    /// node that never had it is refused, and so is the old owner that
    /// "wakes up" after its lease lapsed and another node took the hall,
    /// even before the new owner has written anything (so the `(hall, seq)`
    /// key alone would have let it through). Nothing refused is in the log.
    #[tokio::test]
    async fn a_node_writes_a_hall_only_while_it_holds_the_lease() {
        let Some((a, b)) = two_nodes("fence") else {
            return;
        };
        let lease = Duration::from_millis(600);
        let la = a.leases("a", "127.0.0.1:1", lease).expect("leases a");
        let lb = b.leases("b", "127.0.0.1:2", lease).expect("leases b");
        assert!(
            la.acquire("h").await.expect("acquire"),
            "a takes the free hall"
        );
        assert!(
            !lb.acquire("h").await.expect("acquire"),
            "b cannot take a held hall"
        );
        assert_eq!(la.owners().await.expect("owners")[0].node, "a");

        let mut ha = a.recover(config()).expect("recover a");
        let first = issue(&mut ha, 1);
        let first_last = first.last().map(|e| e.seq).unwrap_or(0);
        a.append("h", first).await.expect("the owner writes");

        let mut hb = b.recover(config()).expect("recover b");
        let refused = b.append("h", issue(&mut hb, 2)).await;
        assert!(
            matches!(refused, Err(StoreError::NotOwner { .. })),
            "a node without the lease is refused: {refused:?}"
        );

        // a "freezes" past its lease; b takes the hall over.
        tokio::time::sleep(lease + Duration::from_millis(200)).await;
        assert!(
            lb.acquire("h").await.expect("acquire"),
            "b takes the lapsed lease"
        );
        assert_eq!(
            la.renew().await.expect("renew"),
            Vec::<String>::new(),
            "a's lease is gone"
        );
        // a wakes and appends seq 2 before b has written anything.
        let stale = a.append("h", issue(&mut ha, 2)).await;
        assert!(
            matches!(stale, Err(StoreError::NotOwner { .. })),
            "the lapsed owner is fenced out: {stale:?}"
        );
        let mut hb = b.recover(config()).expect("b recovers");
        assert_eq!(
            hb.seq(),
            first_last,
            "b sees a's first write and nothing of the refused one"
        );
        let second = issue(&mut hb, 3);
        let last = second.last().map(|e| e.seq).unwrap_or(0);
        b.append("h", second).await.expect("the new owner writes");
        assert_eq!(b.durable_seq("h").expect("seq"), last);

        // A clean handoff: b releases, a takes it at once.
        lb.release("h").await.expect("release");
        assert!(
            la.acquire("h").await.expect("acquire"),
            "a takes the released hall"
        );
        // a follows b's writes before owning again.
        let followed = a.follow("h", first_last + 1, 100).expect("follow");
        assert!(
            followed.iter().any(|e| e.seq == last),
            "a reads b's events: {followed:?}"
        );
        a.shutdown().await;
        b.shutdown().await;
    }
}
