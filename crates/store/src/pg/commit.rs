//! Group commit on PostgreSQL, leader/follower: whoever waits for a commit
//! and gets the commit lock first commits the whole queue for everyone.
//!
//! One group is one statement: the events of every hall and the snapshots
//! they make safe, inserted through `UNNEST` of arrays in data-modifying
//! CTEs. A single statement outside `BEGIN` is its own transaction, so a
//! group costs one round trip and one synchronous commit, and either all of
//! it is durable or none of it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use sqlx::{Connection, PgConnection};
use tokio::sync::oneshot;

use super::{Job, PgInner};
use crate::trees::lock;
use crate::StoreError;

/// The statement of one group. `$1..$4`: events (hall, seq, day, body);
/// `$5..$7`: snapshots (hall, seq, body), at most one per hall.
const GROUP_SQL: &str = "\
WITH ev AS (
    INSERT INTO events (hall, seq, day, body)
    SELECT * FROM UNNEST($1::text[], $2::int8[], $3::date[], $4::text[])
    RETURNING 1
), sn AS (
    INSERT INTO snapshots (hall, seq, body)
    SELECT * FROM UNNEST($5::text[], $6::int8[], $7::bytea[])
    ON CONFLICT (hall) DO UPDATE SET seq = EXCLUDED.seq, body = EXCLUDED.body
        WHERE snapshots.seq <= EXCLUDED.seq
    RETURNING 1
)
SELECT (SELECT count(*) FROM ev) AS events, (SELECT count(*) FROM sn) AS snapshots";

/// The statement of one group when several nodes share the database
/// (`StoreOptions::pg_node`): the same inserts, but only for halls whose
/// lease names this node (`$8`) and has not expired on the database's
/// clock. `FOR SHARE` holds the lease rows until the statement commits, so
/// a takeover — an `UPDATE` of the row by the next owner — waits for an
/// append already running and the next owner's recovery reads it; an
/// append that starts after the takeover finds the row changed and writes
/// nothing. Returns the halls written; each wakes the other nodes' tails
/// (`NOTIFY hallcall_events`, delivered at commit).
const FENCED_SQL: &str = "\
WITH own AS (
    SELECT hall FROM leases
    WHERE (hall = ANY($1::text[]) OR hall = ANY($5::text[]))
      AND node = $8 AND expires_at > clock_timestamp()
    FOR SHARE
), ev AS (
    INSERT INTO events (hall, seq, day, body)
    SELECT u.hall, u.seq, u.day, u.body
    FROM UNNEST($1::text[], $2::int8[], $3::date[], $4::text[]) AS u(hall, seq, day, body)
    WHERE u.hall IN (SELECT hall FROM own)
    RETURNING hall, seq
), sn AS (
    INSERT INTO snapshots (hall, seq, body)
    SELECT s.hall, s.seq, s.body
    FROM UNNEST($5::text[], $6::int8[], $7::bytea[]) AS s(hall, seq, body)
    WHERE s.hall IN (SELECT hall FROM own)
    ON CONFLICT (hall) DO UPDATE SET seq = EXCLUDED.seq, body = EXCLUDED.body
        WHERE snapshots.seq <= EXCLUDED.seq
    RETURNING 1
), nt AS (
    SELECT pg_notify('hallcall_events', hall) FROM ev GROUP BY hall
)
SELECT coalesce((SELECT array_agg(DISTINCT hall) FROM ev), '{}'::text[]) AS written,
       (SELECT count(*) FROM nt) AS notified, (SELECT count(*) FROM sn) AS snapshots";

/// The future behind a PostgreSQL [`crate::Durable`]: resolves with this
/// append's result, committing the queue itself when nobody else is.
pub(crate) async fn wait_durable(
    inner: Arc<PgInner>,
    mut rx: oneshot::Receiver<Result<(), StoreError>>,
) -> Result<(), StoreError> {
    loop {
        tokio::select! {
            biased;
            r = &mut rx => return r.unwrap_or(Err(StoreError::Closed)),
            mut slot = inner.commit.lock() => {
                match rx.try_recv() {
                    Ok(r) => return r,
                    Err(oneshot::error::TryRecvError::Closed) => return Err(StoreError::Closed),
                    Err(oneshot::error::TryRecvError::Empty) => {}
                }
                lead_here(&inner, &mut slot).await;
            }
        }
    }
}

/// Commits one group with the committers' connection (made here, on the
/// caller's runtime, the first time; dropped after an error).
async fn lead_here(inner: &Arc<PgInner>, slot: &mut Option<PgConnection>) {
    let group = Group::drain(inner);
    if group.is_empty() {
        return;
    }
    let mut conn = match slot.take() {
        Some(c) => c,
        None => match PgConnection::connect_with(&inner.connect).await {
            Ok(c) => c,
            Err(e) => {
                group.fail(inner.db_err(e));
                return;
            }
        },
    };
    if group.commit(inner, &mut conn).await {
        *slot = Some(conn);
    }
}

/// Commits everything queued, on the caller's runtime (for `shutdown`).
pub(crate) async fn drain_here(inner: &Arc<PgInner>) {
    let mut slot = inner.commit.lock().await;
    while !lock(&inner.state).queue.is_empty() {
        lead_here(inner, &mut slot).await;
    }
}

/// Commits everything queued, with a pooled connection (for barriers, which
/// run on the store's runtime: the committers' connection may belong to a
/// runtime whose thread is the one waiting for this barrier).
pub(crate) async fn drain_with_pool(inner: &Arc<PgInner>) -> Result<(), StoreError> {
    let _slot = inner.commit.lock().await;
    loop {
        let group = Group::drain(inner);
        if group.is_empty() {
            return Ok(());
        }
        let mut conn = match inner.pool.acquire().await {
            Ok(c) => c,
            Err(e) => {
                let err = inner.db_err(e);
                group.fail(err.clone());
                return Err(err);
            }
        };
        if !group.commit(inner, &mut conn).await {
            // A failed connection is not returned to the pool.
            conn.detach();
        }
    }
}

struct Append {
    hall: Arc<str>,
    last: u64,
    records: Vec<(u64, Vec<u8>)>,
    days: Vec<(NaiveDate, u64)>,
    done: Option<oneshot::Sender<Result<(), StoreError>>>,
}

/// A drained group. If it is dropped before it completed its waiters (the
/// committing future was cancelled mid-commit), every waiter gets an error
/// and its hall is poisoned: whether the commit happened is unknown, and
/// recovery reads what is there.
struct Group {
    inner: Arc<PgInner>,
    appends: Vec<Append>,
    snapshots: Vec<(Arc<str>, u64, Vec<u8>)>,
}

impl Group {
    fn drain(inner: &Arc<PgInner>) -> Group {
        let mut st = lock(&inner.state);
        let n = st.queue.len().min(inner.opts.max_group.max(1));
        let mut appends = Vec::new();
        let mut snapshots: Vec<(Arc<str>, u64, Vec<u8>)> = Vec::new();
        for job in st.queue.drain(..n) {
            match job {
                Job::Append {
                    hall,
                    last,
                    records,
                    days,
                    done,
                } => appends.push(Append {
                    hall,
                    last,
                    records,
                    days,
                    done: Some(done),
                }),
                Job::Snapshot { hall, seq, json } => snapshots.push((hall, seq, json)),
            }
        }
        Group {
            inner: inner.clone(),
            appends,
            snapshots,
        }
    }

    fn is_empty(&self) -> bool {
        self.appends.is_empty() && self.snapshots.is_empty()
    }

    /// Fails every waiter with `err` and poisons their halls.
    fn fail(mut self, err: StoreError) {
        self.finish(|_| Some(err.clone()));
    }

    /// Completes every waiter: `Ok` unless `outcome` gives an error for its
    /// hall (that hall is then poisoned). Successful halls become durable up
    /// to their last seq.
    fn finish(&mut self, outcome: impl Fn(&str) -> Option<StoreError>) {
        let mut st = lock(&self.inner.state);
        for a in self.appends.drain(..) {
            let Some(done) = a.done else { continue };
            let r = match outcome(&a.hall) {
                Some(e) => {
                    if let Some(h) = st.halls.get_mut(&a.hall) {
                        h.poisoned = true;
                    }
                    Err(e)
                }
                None => {
                    if let Some(h) = st.halls.get_mut(&a.hall) {
                        h.durable = h.durable.max(a.last);
                    }
                    Ok(())
                }
            };
            let _ = done.send(r);
        }
    }

    /// Writes the group; returns whether the connection is still good.
    async fn commit(mut self, inner: &Arc<PgInner>, conn: &mut PgConnection) -> bool {
        // Appends of halls poisoned after they were queued are refused, as
        // the sled writer refuses them.
        let poisoned: Vec<Arc<str>> = {
            let st = lock(&inner.state);
            self.appends
                .iter()
                .filter(|a| st.halls.get(&a.hall).is_some_and(|h| h.poisoned))
                .map(|a| a.hall.clone())
                .collect()
        };
        for a in self.appends.iter_mut() {
            if poisoned.contains(&a.hall) {
                if let Some(done) = a.done.take() {
                    let _ = done.send(Err(StoreError::Poisoned(a.hall.to_string())));
                }
            }
        }
        let halls: Vec<Arc<str>> = {
            let mut v: Vec<Arc<str>> = self
                .appends
                .iter()
                .filter(|a| a.done.is_some())
                .map(|a| a.hall.clone())
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let snaps = self.safe_snapshots();
        let node = inner.opts.pg_node.clone();
        let all = Batch::of(&self.appends, &snaps, None);
        match all.run(conn, node.as_deref()).await {
            Ok(written) => {
                // Fenced: a hall with events that were not written has lost
                // its lease; nothing of it is in the log.
                let fenced: Vec<Arc<str>> = match &written {
                    None => Vec::new(),
                    Some(w) => self
                        .appends
                        .iter()
                        .filter(|a| a.done.is_some() && !a.records.is_empty())
                        .filter(|a| !w.iter().any(|h| *h == *a.hall))
                        .map(|a| a.hall.clone())
                        .collect(),
                };
                for hall in &fenced {
                    tracing::warn!(hall = %hall, "append refused: this node no longer holds the hall's lease");
                }
                self.finish(|h| {
                    fenced
                        .iter()
                        .any(|f| &**f == h)
                        .then(|| StoreError::NotOwner {
                            hall: h.to_string(),
                        })
                });
                let snaps: Vec<_> = snaps
                    .into_iter()
                    .filter(|s| !fenced.contains(&s.0))
                    .collect();
                self.after_snapshots(&snaps);
                true
            }
            Err(e) if is_unique_violation(&e) => {
                // Someone else wrote to one of these halls: find which, hall
                // by hall, and commit the others.
                let mut collided: HashMap<Arc<str>, StoreError> = HashMap::new();
                for hall in &halls {
                    let one = Batch::of(&self.appends, &snaps, Some(hall));
                    match one.run(conn, node.as_deref()).await {
                        Ok(Some(w))
                            if !w.iter().any(|h| *h == **hall)
                                && self.appends.iter().any(|a| {
                                    a.hall == *hall && a.done.is_some() && !a.records.is_empty()
                                }) =>
                        {
                            collided.insert(
                                hall.clone(),
                                StoreError::NotOwner {
                                    hall: hall.to_string(),
                                },
                            );
                        }
                        Ok(_) => {}
                        Err(e) if is_unique_violation(&e) => {
                            collided.insert(hall.clone(), conflict(hall, &e));
                        }
                        Err(e) => {
                            let err = inner.db_err(e);
                            // Unknown for this hall and the rest: fail them.
                            let done: Vec<Arc<str>> = halls
                                .iter()
                                .take_while(|h| *h != hall)
                                .filter(|h| !collided.contains_key(*h))
                                .cloned()
                                .collect();
                            self.finish(|h| {
                                if done.iter().any(|d| &**d == h) {
                                    None
                                } else {
                                    Some(collided.get(h).cloned().unwrap_or_else(|| err.clone()))
                                }
                            });
                            return false;
                        }
                    }
                }
                // Snapshots of halls without appends in this group.
                let alone: Vec<_> = snaps
                    .iter()
                    .filter(|s| !halls.contains(&s.0))
                    .cloned()
                    .collect();
                let alone = Batch::of(&[], &alone, None);
                if let Err(e) = alone.run(conn, node.as_deref()).await {
                    tracing::warn!(error = %e, "snapshots not written");
                }
                for (hall, err) in &collided {
                    tracing::error!(hall = %hall, error = %err, "append collided: another writer appended to this hall");
                }
                self.finish(|h| collided.get(h).cloned());
                let snaps: Vec<_> = snaps
                    .into_iter()
                    .filter(|s| !collided.contains_key(&s.0))
                    .collect();
                self.after_snapshots(&snaps);
                true
            }
            Err(e) => {
                let err = inner.db_err(e);
                tracing::error!(error = %err, "group commit failed");
                self.fail(err);
                false
            }
        }
    }

    /// The group's snapshots that are safe to write with it: their events
    /// are durable already or in this group (whose statement is atomic);
    /// the newest per hall.
    fn safe_snapshots(&self) -> Vec<(Arc<str>, u64, Vec<u8>)> {
        let st = lock(&self.inner.state);
        let mut in_group: HashMap<&str, u64> = HashMap::new();
        for a in self.appends.iter().filter(|a| a.done.is_some()) {
            let e = in_group.entry(&a.hall).or_default();
            *e = (*e).max(a.last);
        }
        let mut best: HashMap<Arc<str>, (u64, &Vec<u8>)> = HashMap::new();
        for (hall, seq, json) in &self.snapshots {
            let Some(h) = st.halls.get(hall) else {
                // Not loaded: only the empty first snapshot of a new hall.
                if *seq == 0 {
                    best.insert(hall.clone(), (*seq, json));
                }
                continue;
            };
            let covered = h.durable.max(in_group.get(&**hall).copied().unwrap_or(0));
            if h.poisoned || *seq > covered {
                tracing::warn!(hall = %hall, seq, "snapshot dropped: its events are not durable");
                continue;
            }
            if best.get(hall).is_none_or(|(s, _)| *s <= *seq) {
                best.insert(hall.clone(), (*seq, json));
            }
        }
        best.into_iter()
            .map(|(h, (s, j))| (h, s, j.clone()))
            .collect()
    }

    /// Retention runs after a snapshot, at most every `compact_every`.
    fn after_snapshots(&self, snaps: &[(Arc<str>, u64, Vec<u8>)]) {
        let Some(days) = self.inner.opts.retention_days else {
            return;
        };
        for (hall, seq, _) in snaps {
            if *seq == 0 {
                continue;
            }
            {
                let mut last = lock(&self.inner.compacted);
                if last
                    .get(hall)
                    .is_some_and(|t| t.elapsed() < self.inner.opts.compact_every)
                {
                    continue;
                }
                last.insert(hall.clone(), Instant::now());
            }
            let inner = self.inner.clone();
            let (hall, seq) = (hall.clone(), *seq);
            self.inner.handle.spawn(async move {
                match super::read::compact(&inner, &hall, seq, days).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(hall = %hall, deleted = n, "retention: deleted events of past days")
                    }
                    Err(e) => tracing::error!(hall = %hall, error = %e, "retention failed"),
                }
            });
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.appends.iter().any(|a| a.done.is_some()) {
            let err = StoreError::Database {
                db: self.inner.label.display().to_string(),
                detail: "the commit was interrupted; whether it happened is unknown".into(),
            };
            self.finish(|_| Some(err.clone()));
        }
    }
}

/// The arrays of one statement.
struct Batch {
    halls: Vec<String>,
    seqs: Vec<i64>,
    days: Vec<Option<NaiveDate>>,
    bodies: Vec<String>,
    snap_halls: Vec<String>,
    snap_seqs: Vec<i64>,
    snap_bodies: Vec<Vec<u8>>,
}

impl Batch {
    /// The events (and snapshots) of `only` hall, or of all halls.
    fn of(
        appends: &[Append],
        snaps: &[(Arc<str>, u64, Vec<u8>)],
        only: Option<&Arc<str>>,
    ) -> Batch {
        let mut b = Batch {
            halls: Vec::new(),
            seqs: Vec::new(),
            days: Vec::new(),
            bodies: Vec::new(),
            snap_halls: Vec::new(),
            snap_seqs: Vec::new(),
            snap_bodies: Vec::new(),
        };
        let wanted = |h: &Arc<str>| only.is_none_or(|o| o == h);
        for a in appends
            .iter()
            .filter(|a| a.done.is_some() && wanted(&a.hall))
        {
            for (seq, body) in &a.records {
                b.halls.push(a.hall.to_string());
                b.seqs.push(*seq as i64);
                b.days
                    .push(a.days.iter().find(|(_, s)| s == seq).map(|(d, _)| *d));
                // serde_json writes UTF-8; a lossy copy can only differ if
                // that ever changed, and decoding would then refuse it.
                b.bodies.push(String::from_utf8_lossy(body).into_owned());
            }
        }
        for (hall, seq, json) in snaps.iter().filter(|s| wanted(&s.0)) {
            b.snap_halls.push(hall.to_string());
            b.snap_seqs.push(*seq as i64);
            b.snap_bodies.push(json.clone());
        }
        b
    }

    /// Runs the group's statement. `Ok(None)`: everything written (one
    /// node); `Ok(Some(halls))`: fenced by `node`'s leases, only `halls`
    /// were written.
    async fn run(
        self,
        conn: &mut PgConnection,
        node: Option<&str>,
    ) -> Result<Option<Vec<String>>, sqlx::Error> {
        if self.halls.is_empty() && self.snap_halls.is_empty() {
            return Ok(node.map(|_| Vec::new()));
        }
        let Some(node) = node else {
            return sqlx::query(GROUP_SQL)
                .bind(self.halls)
                .bind(self.seqs)
                .bind(self.days)
                .bind(self.bodies)
                .bind(self.snap_halls)
                .bind(self.snap_seqs)
                .bind(self.snap_bodies)
                .execute(conn)
                .await
                .map(|_| None);
        };
        let written: Vec<String> = sqlx::query_scalar(FENCED_SQL)
            .bind(self.halls)
            .bind(self.seqs)
            .bind(self.days)
            .bind(self.bodies)
            .bind(self.snap_halls)
            .bind(self.snap_seqs)
            .bind(self.snap_bodies)
            .bind(node)
            .fetch_one(conn)
            .await?;
        Ok(Some(written))
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505"))
}

fn conflict(hall: &str, e: &sqlx::Error) -> StoreError {
    StoreError::Conflict {
        hall: hall.to_string(),
        detail: e.to_string(),
    }
}
