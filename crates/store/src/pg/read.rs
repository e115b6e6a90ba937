//! Reads, recovery and retention on PostgreSQL. Every read returns durable
//! events only: ranges are capped at the hall's durable seq, which moves
//! only after the commit that covers it.

use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use hallcall_core::{Event, Hall, HallConfig};
use sqlx::Row;

use super::{HallState, PgInner, PgStore};
use crate::keys;
use crate::log::decode_event;
use crate::retention::deletable_before;
use crate::snapshot::hall_from_snapshot;
use crate::trees::lock;
use crate::StoreError;

/// Events of `hall` with `from <= seq <= upto`, ascending, each checked.
async fn range(
    inner: &PgInner,
    hall: &str,
    from: u64,
    upto: u64,
) -> Result<Vec<Event>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, body FROM events WHERE hall = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
    )
    .bind(hall)
    .bind(i64::try_from(from).unwrap_or(i64::MAX))
    .bind(i64::try_from(upto).unwrap_or(i64::MAX))
    .fetch_all(&inner.pool)
    .await
    .map_err(|e| inner.db_err(e))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let seq: i64 = row.try_get(0).map_err(|e| inner.db_err(e))?;
        let body: &str = row.try_get(1).map_err(|e| inner.db_err(e))?;
        out.push(decode_event(
            &inner.label,
            hall,
            seq as u64,
            body.as_bytes(),
        )?);
    }
    Ok(out)
}

/// `range`, which must hold every event of `from..=upto`.
async fn full_range(
    inner: &PgInner,
    hall: &str,
    from: u64,
    upto: u64,
) -> Result<Vec<Event>, StoreError> {
    let evs = range(inner, hall, from, upto).await?;
    for (i, ev) in evs.iter().enumerate() {
        if ev.seq != from + i as u64 {
            return Err(inner.corrupt(format!(
                "the log of hall {hall} lacks event {}",
                from + i as u64
            )));
        }
    }
    if from <= upto && evs.len() as u64 != upto - from + 1 {
        return Err(inner.corrupt(format!(
            "the log of hall {hall} lacks event {}",
            from + evs.len() as u64
        )));
    }
    Ok(evs)
}

async fn snapshot(inner: &PgInner, hall: &str) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
    let row = sqlx::query("SELECT seq, body FROM snapshots WHERE hall = $1")
        .bind(hall)
        .fetch_optional(&inner.pool)
        .await
        .map_err(|e| inner.db_err(e))?;
    match row {
        None => Ok(None),
        Some(r) => {
            let seq: i64 = r.try_get(0).map_err(|e| inner.db_err(e))?;
            let body: Vec<u8> = r.try_get(1).map_err(|e| inner.db_err(e))?;
            Ok(Some((seq as u64, body)))
        }
    }
}

async fn last_logged(inner: &PgInner, hall: &str) -> Result<u64, StoreError> {
    let last: Option<i64> = sqlx::query_scalar("SELECT max(seq) FROM events WHERE hall = $1")
        .bind(hall)
        .fetch_one(&inner.pool)
        .await
        .map_err(|e| inner.db_err(e))?;
    Ok(last.unwrap_or(0) as u64)
}

async fn first_logged(inner: &PgInner, hall: &str) -> Result<Option<u64>, StoreError> {
    let first: Option<i64> = sqlx::query_scalar("SELECT min(seq) FROM events WHERE hall = $1")
        .bind(hall)
        .fetch_one(&inner.pool)
        .await
        .map_err(|e| inner.db_err(e))?;
    Ok(first.map(|s| s as u64))
}

/// `(date, first seq)` of every business day of `hall`, ascending.
async fn days(inner: &PgInner, hall: &str) -> Result<Vec<(NaiveDate, u64)>, StoreError> {
    let rows =
        sqlx::query("SELECT day, seq FROM events WHERE hall = $1 AND day IS NOT NULL ORDER BY day")
            .bind(hall)
            .fetch_all(&inner.pool)
            .await
            .map_err(|e| inner.db_err(e))?;
    rows.iter()
        .map(|r| {
            let day: NaiveDate = r.try_get(0).map_err(|e| inner.db_err(e))?;
            let seq: i64 = r.try_get(1).map_err(|e| inner.db_err(e))?;
            Ok((day, seq as u64))
        })
        .collect()
}

/// Retention (see [`crate::retention`]): deletes the events of whole past
/// days; the day index is those events' `day` column, so it goes with them.
pub(crate) async fn compact(
    inner: &PgInner,
    hall: &str,
    snap_seq: u64,
    retention_days: u32,
) -> Result<u64, StoreError> {
    let days = days(inner, hall).await?;
    let (end, _) = deletable_before(&days, snap_seq, retention_days, inner.opts.resume_window);
    if end == 0 {
        return Ok(0);
    }
    let done = sqlx::query("DELETE FROM events WHERE hall = $1 AND seq < $2")
        .bind(hall)
        .bind(end as i64)
        .execute(&inner.pool)
        .await
        .map_err(|e| inner.db_err(e))?;
    Ok(done.rows_affected())
}

impl PgStore {
    /// (last logged seq, snapshot seq) of `hall` as stored.
    pub(super) fn stored_heads(&self, hall: &str) -> Result<(u64, u64), StoreError> {
        let inner = self.inner.clone();
        let hall = hall.to_string();
        self.block(async move {
            let last = last_logged(&inner, &hall).await?;
            let snap = snapshot(&inner, &hall).await?.map_or(0, |(s, _)| s);
            Ok((last, snap))
        })
    }

    pub(crate) fn snapshot_seq(&self, hall: &str) -> Result<u64, StoreError> {
        keys::check_hall(hall)?;
        let inner = self.inner.clone();
        let hall = hall.to_string();
        self.block(async move { Ok(snapshot(&inner, &hall).await?.map_or(0, |(s, _)| s)) })
    }

    /// As [`crate::Store::recover`]: the latest snapshot, then every later
    /// event through [`Hall::apply`]; clears a failed hall.
    pub(crate) fn recover(&self, config: HallConfig) -> Result<Hall, StoreError> {
        let id = config.id.clone();
        keys::check_hall(&id)?;
        self.barrier()?;
        let inner = self.inner.clone();
        let hall = self.block(async move {
            let (mut hall, snap_seq) = match snapshot(&inner, &id).await? {
                Some((seq, json)) => (hall_from_snapshot(&inner.label, &id, seq, &json)?, seq),
                None => {
                    let hall = Hall::new(config);
                    if last_logged(&inner, &id).await? == 0 {
                        // A new hall: its first snapshot is its empty state,
                        // so its configuration is stored with its log.
                        sqlx::query(
                            "INSERT INTO snapshots (hall, seq, body) VALUES ($1, 0, $2) \
                             ON CONFLICT (hall) DO NOTHING",
                        )
                        .bind(&id)
                        .bind(hall.to_snapshot())
                        .execute(&inner.pool)
                        .await
                        .map_err(|e| inner.db_err(e))?;
                    }
                    (hall, 0)
                }
            };
            let last = last_logged(&inner, &id).await?;
            if snap_seq > 0 && last < snap_seq {
                return Err(inner.corrupt(format!(
                    "the log of hall {id} ends at seq {last} but its snapshot is at seq {snap_seq}: \
                     acknowledged events were lost"
                )));
            }
            let mut from = hall.seq() + 1;
            while from <= last {
                let upto = last.min(from + 9_999);
                for ev in range(&inner, &id, from, upto).await? {
                    if ev.seq != hall.seq() + 1 {
                        return Err(inner.corrupt(format!(
                            "the log of hall {id} jumps from seq {} to {}: events are missing",
                            hall.seq(),
                            ev.seq
                        )));
                    }
                    hall.apply(&ev);
                }
                if hall.seq() < upto {
                    return Err(inner.corrupt(format!(
                        "the log of hall {id} lacks event {}: events are missing",
                        hall.seq() + 1
                    )));
                }
                from = upto + 1;
            }
            Ok((hall, snap_seq))
        })?;
        let (hall, snap_seq) = hall;
        lock(&self.inner.state).halls.insert(
            Arc::from(hall.id()),
            HallState {
                durable: hall.seq(),
                enqueued: hall.seq(),
                poisoned: false,
                snap_seq,
                snap_at: Instant::now(),
            },
        );
        Ok(hall)
    }

    /// As [`crate::Store::events_since`].
    pub(crate) fn events_since(
        &self,
        hall: &str,
        since: u64,
        limit: usize,
    ) -> Result<Option<Vec<Event>>, StoreError> {
        let durable = self.durable_seq(hall)?;
        if since > durable || durable - since > self.inner.opts.resume_window {
            return Ok(None);
        }
        if since == durable {
            return Ok(Some(Vec::new()));
        }
        let upto = durable.min(since.saturating_add(limit as u64));
        let inner = self.inner.clone();
        let hall = hall.to_string();
        self.block(async move {
            match first_logged(&inner, &hall).await? {
                Some(first) if first <= since + 1 => {}
                _ => return Ok(None),
            }
            full_range(&inner, &hall, since + 1, upto).await.map(Some)
        })
    }

    /// As [`crate::Store::follow`]: committed events of `hall` from seq
    /// `from` on, however far past what this node appended (another node
    /// writes the hall), stopping at the first gap; what it returns becomes
    /// this node's durable seq of the hall, so `events_since` and the other
    /// reads serve it too.
    pub(crate) fn follow(
        &self,
        hall: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        keys::check_hall(hall)?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let upto = from.saturating_add(limit as u64 - 1);
        let inner = self.inner.clone();
        let id = hall.to_string();
        let mut evs = self.block(async move { range(&inner, &id, from, upto).await })?;
        // Only the contiguous run from `from`: a commit is all or nothing
        // and one node writes a hall at a time, so a gap would be a bug;
        // stopping there never skips an event.
        let run = evs
            .iter()
            .enumerate()
            .take_while(|(i, e)| e.seq == from + *i as u64)
            .count();
        evs.truncate(run);
        if let Some(last) = evs.last().map(|e| e.seq) {
            self.with_hall(hall, |st, k| {
                if let Some(h) = st.halls.get_mut(&k) {
                    // Never behind what this node itself queued.
                    if h.enqueued <= last {
                        h.durable = last;
                        h.enqueued = last;
                    }
                }
                Ok(())
            })?;
        }
        Ok(evs)
    }

    /// As [`crate::Store::import`]: writes a hall's snapshot and events as
    /// they are, into a database that holds nothing of that hall.
    pub(crate) fn import(
        &self,
        hall: &str,
        snapshot: Option<(u64, Vec<u8>)>,
        events: Vec<Event>,
    ) -> Result<(), StoreError> {
        keys::check_hall(hall)?;
        let enc = crate::log::encode(hall, &events)?;
        let inner = self.inner.clone();
        let id = hall.to_string();
        self.block(async move {
            let mut tx = inner.pool.begin().await.map_err(|e| inner.db_err(e))?;
            let taken: i64 = sqlx::query_scalar(
                "SELECT (SELECT count(*) FROM events WHERE hall = $1) \
                      + (SELECT count(*) FROM snapshots WHERE hall = $1 AND seq > 0)",
            )
            .bind(&id)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| inner.db_err(e))?;
            if taken > 0 {
                return Err(StoreError::Invalid(format!(
                    "hall {id} already has a log in {}: nothing was imported",
                    inner.label.display()
                )));
            }
            sqlx::query("DELETE FROM snapshots WHERE hall = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(|e| inner.db_err(e))?;
            if let Some((seq, body)) = snapshot {
                sqlx::query("INSERT INTO snapshots (hall, seq, body) VALUES ($1, $2, $3)")
                    .bind(&id)
                    .bind(seq as i64)
                    .bind(body)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| inner.db_err(e))?;
            }
            for chunk in enc.records.chunks(1000) {
                let halls: Vec<&str> = chunk.iter().map(|_| id.as_str()).collect();
                let seqs: Vec<i64> = chunk.iter().map(|(s, _)| *s as i64).collect();
                let days: Vec<Option<chrono::NaiveDate>> = chunk
                    .iter()
                    .map(|(s, _)| enc.days.iter().find(|(_, d)| d == s).map(|(d, _)| *d))
                    .collect();
                let bodies: Vec<String> = chunk
                    .iter()
                    .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
                    .collect();
                sqlx::query(
                    "INSERT INTO events (hall, seq, day, body) \
                     SELECT * FROM UNNEST($1::text[], $2::int8[], $3::date[], $4::text[])",
                )
                .bind(halls)
                .bind(seqs)
                .bind(days)
                .bind(bodies)
                .execute(&mut *tx)
                .await
                .map_err(|e| inner.db_err(e))?;
            }
            tx.commit().await.map_err(|e| inner.db_err(e))?;
            Ok(())
        })?;
        // Loaded afresh from the database on next use.
        crate::trees::lock(&self.inner.state).halls.remove(hall);
        Ok(())
    }

    /// As [`crate::Store::read_log`].
    pub(crate) fn read_log(
        &self,
        hall: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let durable = self.durable_seq(hall)?;
        if from > durable || limit == 0 {
            return Ok(Vec::new());
        }
        let upto = durable.min(from.saturating_add(limit as u64 - 1));
        let inner = self.inner.clone();
        let hall = hall.to_string();
        self.block(async move { range(&inner, &hall, from, upto).await })
    }

    /// As [`crate::Store::day_events`].
    pub(crate) fn day_events(&self, hall: &str, date: NaiveDate) -> Result<Vec<Event>, StoreError> {
        let durable = self.durable_seq(hall)?;
        let inner = self.inner.clone();
        let hall = hall.to_string();
        self.block(async move {
            let bounds = sqlx::query(
                "SELECT (SELECT seq FROM events WHERE hall = $1 AND day = $2 ORDER BY seq LIMIT 1), \
                        (SELECT seq FROM events WHERE hall = $1 AND day > $2 ORDER BY day, seq LIMIT 1)",
            )
            .bind(&hall)
            .bind(date)
            .fetch_one(&inner.pool)
            .await
            .map_err(|e| inner.db_err(e))?;
            let start: Option<i64> = bounds.try_get(0).map_err(|e| inner.db_err(e))?;
            let next: Option<i64> = bounds.try_get(1).map_err(|e| inner.db_err(e))?;
            let Some(start) = start.map(|s| s as u64) else {
                return Ok(Vec::new());
            };
            let end = next.map_or(durable + 1, |n| n as u64).min(durable + 1);
            if start >= end {
                return Ok(Vec::new());
            }
            full_range(&inner, &hall, start, end - 1).await
        })
    }

    /// As [`crate::Store::days`].
    pub(crate) fn days(&self, hall: &str) -> Result<Vec<NaiveDate>, StoreError> {
        keys::check_hall(hall)?;
        let inner = self.inner.clone();
        let hall = hall.to_string();
        self.block(async move {
            Ok(days(&inner, &hall)
                .await?
                .into_iter()
                .map(|(d, _)| d)
                .collect())
        })
    }

    /// `SHOW name` on one of the store's sessions.
    #[cfg(test)]
    pub(crate) fn setting(&self, name: &str) -> Result<String, StoreError> {
        if !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(StoreError::Invalid(format!("setting {name:?}")));
        }
        let inner = self.inner.clone();
        let sql = format!("SHOW {name}");
        self.block(async move {
            sqlx::query_scalar(&sql)
                .fetch_one(&inner.pool)
                .await
                .map_err(|e| inner.db_err(e))
        })
    }

    /// As [`crate::Store::halls`].
    pub(crate) fn halls(&self) -> Result<Vec<String>, StoreError> {
        let inner = self.inner.clone();
        self.block(async move {
            sqlx::query_scalar(
                "SELECT hall FROM snapshots UNION SELECT DISTINCT hall FROM events ORDER BY 1",
            )
            .fetch_all(&inner.pool)
            .await
            .map_err(|e| inner.db_err(e))
        })
    }
}
