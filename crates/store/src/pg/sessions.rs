//! Clerk sessions (table `sessions`, migration 0003) and webhook positions
//! (`webhook_positions`, 0004) on PostgreSQL. Sessions: which
//! login a clerk token belongs to, shared by every node, so a token issued
//! on one node works on whichever node owns the hall after a failover, and a
//! logout, a new login or a supervisor's "end session" on any node ends it
//! for good.
//!
//! Writes are fenced like appends (`commit::FENCED_SQL`): when the store
//! belongs to a node of several ([`crate::StoreOptions::pg_node`]), a write
//! of a hall's session happens only if that node holds the hall's lease on
//! the database's clock, checked in the same statement and held `FOR SHARE`
//! until it commits. So a node that froze past its lease and wakes up cannot
//! overwrite a newer login made on the hall's new owner
//! ([`StoreError::NotOwner`]), and a takeover (an `UPDATE` of the lease row)
//! waits for a session write already running, so the new owner's read of
//! the hall's sessions afterwards sees it.
//!
//! Webhook positions (the last seq each hook of a hall has handled) are
//! fenced the same way, so the hall's next owner goes on from where the
//! last one got to and a woken old owner cannot move them.
//!
//! What the server makes of the rows (the token check, the business day,
//! delivery) is its own business; this is only the SQL.

use chrono::NaiveDate;
use tokio::sync::oneshot;

use super::PgStore;
use crate::{keys, StoreError};

/// One clerk's current session in a hall, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSession {
    pub staff: String,
    pub window: u32,
    /// The nonce the session's token carries (hex).
    pub nonce: String,
    /// The hall's business day at login.
    pub date: Option<NaiveDate>,
}

/// A new session replacing the clerk's earlier one; `$6` is the node whose
/// lease must cover the hall.
const PUT_FENCED: &str = "\
WITH own AS (
    SELECT hall FROM leases
    WHERE hall = $1 AND node = $6 AND expires_at > clock_timestamp()
    FOR SHARE
)
INSERT INTO sessions (hall, staff, window_no, nonce, day)
SELECT $1, $2, $3, $4, $5 FROM own
ON CONFLICT (hall, staff) DO UPDATE
    SET window_no = EXCLUDED.window_no, nonce = EXCLUDED.nonce, day = EXCLUDED.day
RETURNING 1";

/// The same for a store of a single node (no leases).
const PUT: &str = "\
INSERT INTO sessions (hall, staff, window_no, nonce, day)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (hall, staff) DO UPDATE
    SET window_no = EXCLUDED.window_no, nonce = EXCLUDED.nonce, day = EXCLUDED.day
RETURNING 1";

/// Ends a clerk's session if `$3` holds the hall's lease; says whether the
/// lease was held and whether a session was ended.
const END_FENCED: &str = "\
WITH own AS (
    SELECT hall FROM leases
    WHERE hall = $1 AND node = $3 AND expires_at > clock_timestamp()
    FOR SHARE
), del AS (
    DELETE FROM sessions
    WHERE hall = $1 AND staff = $2 AND EXISTS (SELECT 1 FROM own)
    RETURNING 1
)
SELECT (SELECT count(*) FROM own) AS owned, (SELECT count(*) FROM del) AS ended";

const END: &str = "DELETE FROM sessions WHERE hall = $1 AND staff = $2";

impl PgStore {
    /// Runs `f` on the store's runtime and awaits it without blocking the
    /// caller's thread.
    async fn run_async<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.inner.handle.spawn(async move {
            let _ = tx.send(f.await);
        });
        rx.await.unwrap_or(Err(StoreError::Closed))
    }

    /// Every stored session of `hall`, by staff id.
    pub(crate) async fn sessions_of(&self, hall: &str) -> Result<Vec<StoredSession>, StoreError> {
        keys::check_hall(hall)?;
        let inner = self.inner.clone();
        let hall = hall.to_string();
        self.run_async(async move {
            let rows: Vec<(String, i64, String, Option<NaiveDate>)> = sqlx::query_as(
                "SELECT staff, window_no, nonce, day FROM sessions WHERE hall = $1 ORDER BY staff",
            )
            .bind(&hall)
            .fetch_all(&inner.pool)
            .await
            .map_err(|e| inner.db_err(e))?;
            rows.into_iter()
                .map(|(staff, window, nonce, date)| {
                    let window = u32::try_from(window).map_err(|_| {
                        inner.corrupt(format!(
                            "session of {staff} in hall {hall}: window {window} is out of range"
                        ))
                    })?;
                    Ok(StoredSession {
                        staff,
                        window,
                        nonce,
                        date,
                    })
                })
                .collect()
        })
        .await
    }

    /// Stores `session` as its clerk's current one in `hall` (replacing any
    /// earlier one), durably. [`StoreError::NotOwner`] when this node does
    /// not hold the hall's lease (nothing written).
    pub(crate) async fn put_session(
        &self,
        hall: &str,
        session: StoredSession,
    ) -> Result<(), StoreError> {
        keys::check_hall(hall)?;
        let inner = self.inner.clone();
        let hall = hall.to_string();
        self.run_async(async move {
            let node = inner.opts.pg_node.clone();
            let q = sqlx::query_scalar::<_, i32>(if node.is_some() { PUT_FENCED } else { PUT })
                .bind(&hall)
                .bind(&session.staff)
                .bind(i64::from(session.window))
                .bind(&session.nonce)
                .bind(session.date);
            let q = match &node {
                Some(n) => q.bind(n),
                None => q,
            };
            let written = q
                .fetch_optional(&inner.pool)
                .await
                .map_err(|e| inner.db_err(e))?;
            match written {
                Some(_) => Ok(()),
                None => Err(StoreError::NotOwner { hall }),
            }
        })
        .await
    }

    /// Ends `staff`'s session in `hall` for good; `Ok(false)` when there was
    /// none. [`StoreError::NotOwner`] when this node does not hold the
    /// hall's lease (nothing changed).
    pub(crate) async fn end_session(&self, hall: &str, staff: &str) -> Result<bool, StoreError> {
        keys::check_hall(hall)?;
        let inner = self.inner.clone();
        let (hall, staff) = (hall.to_string(), staff.to_string());
        self.run_async(async move {
            match inner.opts.pg_node.clone() {
                Some(node) => {
                    let (owned, ended): (i64, i64) = sqlx::query_as(END_FENCED)
                        .bind(&hall)
                        .bind(&staff)
                        .bind(&node)
                        .fetch_one(&inner.pool)
                        .await
                        .map_err(|e| inner.db_err(e))?;
                    if owned == 0 {
                        return Err(StoreError::NotOwner { hall });
                    }
                    Ok(ended > 0)
                }
                None => {
                    let done = sqlx::query(END)
                        .bind(&hall)
                        .bind(&staff)
                        .execute(&inner.pool)
                        .await
                        .map_err(|e| inner.db_err(e))?;
                    Ok(done.rows_affected() > 0)
                }
            }
        })
        .await
    }
}

/// Webhook positions (`$1` hall, `$2`/`$3` hook keys and seqs) if `$4`
/// holds the hall's lease; returns the rows written.
const POSITIONS_FENCED: &str = "\
WITH own AS (
    SELECT hall FROM leases
    WHERE hall = $1 AND node = $4 AND expires_at > clock_timestamp()
    FOR SHARE
)
INSERT INTO webhook_positions (hall, hook, seq)
SELECT $1, u.hook, u.seq FROM UNNEST($2::text[], $3::int8[]) AS u(hook, seq)
WHERE EXISTS (SELECT 1 FROM own)
ON CONFLICT (hall, hook) DO UPDATE SET seq = EXCLUDED.seq
RETURNING 1";

const POSITIONS: &str = "\
INSERT INTO webhook_positions (hall, hook, seq)
SELECT $1, u.hook, u.seq FROM UNNEST($2::text[], $3::int8[]) AS u(hook, seq)
ON CONFLICT (hall, hook) DO UPDATE SET seq = EXCLUDED.seq
RETURNING 1";

impl PgStore {
    /// The stored position of `hook` of `hall` (the last seq it handled).
    pub(crate) async fn webhook_position(
        &self,
        hall: &str,
        hook: &str,
    ) -> Result<Option<u64>, StoreError> {
        keys::check_hall(hall)?;
        let inner = self.inner.clone();
        let (hall, hook) = (hall.to_string(), hook.to_string());
        self.run_async(async move {
            let seq: Option<i64> = sqlx::query_scalar(
                "SELECT seq FROM webhook_positions WHERE hall = $1 AND hook = $2",
            )
            .bind(&hall)
            .bind(&hook)
            .fetch_optional(&inner.pool)
            .await
            .map_err(|e| inner.db_err(e))?;
            Ok(seq.map(|s| u64::try_from(s).unwrap_or(0)))
        })
        .await
    }

    /// Stores positions of `hall`'s hooks, fenced by the hall's lease as
    /// sessions are ([`StoreError::NotOwner`]: nothing written).
    pub(crate) async fn put_webhook_positions(
        &self,
        hall: &str,
        positions: Vec<(String, u64)>,
    ) -> Result<(), StoreError> {
        keys::check_hall(hall)?;
        if positions.is_empty() {
            return Ok(());
        }
        let inner = self.inner.clone();
        let hall = hall.to_string();
        self.run_async(async move {
            let (hooks, seqs): (Vec<String>, Vec<i64>) = positions
                .into_iter()
                .map(|(h, s)| (h, i64::try_from(s).unwrap_or(i64::MAX)))
                .unzip();
            let node = inner.opts.pg_node.clone();
            let q = sqlx::query_scalar::<_, i32>(if node.is_some() {
                POSITIONS_FENCED
            } else {
                POSITIONS
            })
            .bind(&hall)
            .bind(&hooks)
            .bind(&seqs);
            let q = match &node {
                Some(n) => q.bind(n),
                None => q,
            };
            let written = q
                .fetch_all(&inner.pool)
                .await
                .map_err(|e| inner.db_err(e))?;
            if written.is_empty() {
                return Err(StoreError::NotOwner { hall });
            }
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::StoredSession;
    use crate::{Store, StoreError, StoreOptions};

    use crate::testing::two_nodes;

    fn session(nonce: &str) -> StoredSession {
        StoredSession {
            staff: "s01".into(),
            window: 3,
            nonce: nonce.into(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, 30),
        }
    }

    /// Sessions are shared and fenced like appends: the lease holder's
    /// login is read by the next owner; a node without the lease — the old
    /// owner waking after its lease lapsed — can neither overwrite the newer
    /// login nor end it, and nothing it tried is stored.
    #[tokio::test]
    async fn only_the_lease_holder_writes_a_halls_sessions() {
        let Some((a, b)) = two_nodes("sessions") else {
            return;
        };
        assert!(a.keeps_sessions());
        let lease = Duration::from_millis(600);
        let la = a.leases("a", "127.0.0.1:1", lease).expect("leases a");
        let lb = b.leases("b", "127.0.0.1:2", lease).expect("leases b");
        assert!(la.acquire("h").await.expect("acquire"));
        a.put_session("h", session("n1"))
            .await
            .expect("owner writes");
        let refused = b.put_session("h", session("evil")).await;
        assert!(
            matches!(refused, Err(StoreError::NotOwner { .. })),
            "a node without the lease is refused: {refused:?}"
        );
        assert_eq!(
            b.sessions_of("h").await.expect("read"),
            vec![session("n1")],
            "any node reads the owner's session"
        );

        // a freezes past its lease; b takes the hall over and the clerk
        // logs in again there.
        tokio::time::sleep(lease + Duration::from_millis(200)).await;
        assert!(lb.acquire("h").await.expect("acquire"));
        assert_eq!(b.sessions_of("h").await.expect("read"), vec![session("n1")]);
        b.put_session("h", session("n2")).await.expect("new owner");
        // a wakes: neither its stale login nor an end of the session lands.
        let stale = a.put_session("h", session("n1-again")).await;
        assert!(
            matches!(stale, Err(StoreError::NotOwner { .. })),
            "{stale:?}"
        );
        let stale_end = a.end_session("h", "s01").await;
        assert!(
            matches!(stale_end, Err(StoreError::NotOwner { .. })),
            "{stale_end:?}"
        );
        assert_eq!(b.sessions_of("h").await.expect("read"), vec![session("n2")]);

        // The owner ends it for good; a second end finds none.
        assert!(b.end_session("h", "s01").await.expect("end"));
        assert!(!b.end_session("h", "s01").await.expect("end again"));
        assert!(a.sessions_of("h").await.expect("read").is_empty());
        // Other halls are apart.
        assert!(b.sessions_of("other").await.expect("read").is_empty());
        a.shutdown().await;
        b.shutdown().await;
    }

    /// Webhook positions: shared, fenced by the lease like sessions.
    #[tokio::test]
    async fn only_the_lease_holder_moves_a_halls_webhook_positions() {
        let Some((a, b)) = two_nodes("hooks") else {
            return;
        };
        let lease = Duration::from_millis(500);
        let la = a.leases("a", "127.0.0.1:1", lease).expect("leases a");
        let lb = b.leases("b", "127.0.0.1:2", lease).expect("leases b");
        assert!(la.acquire("h").await.expect("acquire"));
        assert_eq!(a.webhook_position("h", "sms").await.expect("read"), None);
        a.put_webhook_positions("h", vec![("sms".into(), 7), ("wx".into(), 3)])
            .await
            .expect("owner writes");
        a.put_webhook_positions("h", vec![("sms".into(), 9)])
            .await
            .expect("owner moves on");
        let refused = b.put_webhook_positions("h", vec![("sms".into(), 1)]).await;
        assert!(
            matches!(refused, Err(StoreError::NotOwner { .. })),
            "{refused:?}"
        );
        tokio::time::sleep(lease + Duration::from_millis(150)).await;
        assert!(lb.acquire("h").await.expect("acquire"));
        assert_eq!(b.webhook_position("h", "sms").await.expect("read"), Some(9));
        assert_eq!(b.webhook_position("h", "wx").await.expect("read"), Some(3));
        let stale = a.put_webhook_positions("h", vec![("sms".into(), 8)]).await;
        assert!(
            matches!(stale, Err(StoreError::NotOwner { .. })),
            "{stale:?}"
        );
        assert_eq!(b.webhook_position("h", "sms").await.expect("read"), Some(9));
        a.shutdown().await;
        b.shutdown().await;
    }

    /// One node on PostgreSQL (no `--node`): sessions are stored unfenced.
    #[tokio::test]
    async fn a_single_node_stores_sessions_without_leases() {
        let Ok(url) = std::env::var("HALLCALL_TEST_PG") else {
            eprintln!("SKIPPED single-node sessions: HALLCALL_TEST_PG is not set");
            return;
        };
        let schema = format!("t_sessions_one_{}", std::process::id());
        let s = Store::open_postgres(
            &url,
            StoreOptions {
                pg_schema: Some(schema),
                ..StoreOptions::default()
            },
        )
        .expect("open");
        s.put_session("h", session("n1")).await.expect("put");
        s.put_session("h", session("n2")).await.expect("replace");
        assert_eq!(s.sessions_of("h").await.expect("read"), vec![session("n2")]);
        assert!(s.end_session("h", "s01").await.expect("end"));
        assert!(s.sessions_of("h").await.expect("read").is_empty());
        s.shutdown().await;
    }
}
