//! The per-hall event log: encoding an append (checked, serialised once)
//! and reading ranges back (each record checked against its key). The
//! encoding is the same for every backend; the reads here are sled's.

use chrono::NaiveDate;
use hallcall_core::{Event, EventKind};

use crate::error::{corrupt, sled_error};
use crate::keys;
use crate::trees::Trees;
use crate::StoreError;

/// One append, checked and serialised on the caller's thread.
pub(crate) struct Encoded {
    /// (seq, event JSON exactly as on the wire), consecutive.
    pub records: Vec<(u64, Vec<u8>)>,
    /// Business days opened by these events: (date, seq of `day_opened`).
    pub days: Vec<(NaiveDate, u64)>,
}

/// Checks that `events` belong to `hall` and are consecutive, and serialises
/// each once. Whether they continue the hall's durable sequence is the
/// caller's check (it needs the hall's state).
pub(crate) fn encode(hall: &str, events: &[Event]) -> Result<Encoded, StoreError> {
    keys::check_hall(hall)?;
    let mut records: Vec<(u64, Vec<u8>)> = Vec::with_capacity(events.len());
    let mut days = Vec::new();
    for ev in events {
        if &*ev.hall != hall {
            return Err(StoreError::Invalid(format!(
                "event {} of hall {} appended to hall {hall}",
                ev.seq, ev.hall
            )));
        }
        if let Some((prev, _)) = records.last() {
            if ev.seq != prev + 1 {
                return Err(StoreError::OutOfOrder {
                    hall: hall.into(),
                    expected: prev + 1,
                    got: ev.seq,
                });
            }
        }
        let bytes = serde_json::to_vec(ev).map_err(|e| {
            StoreError::Invalid(format!(
                "event {} of hall {hall} cannot be encoded: {e}",
                ev.seq
            ))
        })?;
        records.push((ev.seq, bytes));
        if let EventKind::DayOpened { date } = ev.kind {
            days.push((date, ev.seq));
        }
    }
    Ok(Encoded { records, days })
}

/// Decodes a stored event and checks that it is the one its place says.
pub(crate) fn decode_event(
    dir: &std::path::Path,
    hall: &str,
    seq: u64,
    value: &[u8],
) -> Result<Event, StoreError> {
    let ev: Event = serde_json::from_slice(value).map_err(|e| {
        corrupt(
            dir,
            format!("event {seq} of hall {hall} is unreadable: {e}"),
        )
    })?;
    if ev.seq != seq || &*ev.hall != hall {
        return Err(corrupt(
            dir,
            format!(
                "the log record at hall {hall} seq {seq} holds event {} of hall {}",
                ev.seq, ev.hall
            ),
        ));
    }
    Ok(ev)
}

impl Trees {
    pub(crate) fn err(&self, e: sled::Error) -> StoreError {
        sled_error(&self.dir, e)
    }

    pub(crate) fn corrupt(&self, detail: String) -> StoreError {
        corrupt(&self.dir, detail)
    }

    /// The last seq in the log of `hall`, 0 if none.
    pub(crate) fn last_logged(&self, hall: &str) -> Result<u64, StoreError> {
        let range = keys::log_key(hall, 0)..=keys::log_key(hall, u64::MAX);
        match self.log.range(range).next_back() {
            None => Ok(0),
            Some(item) => {
                let (k, _) = item.map_err(|e| self.err(e))?;
                keys::log_seq(hall, &k)
                    .ok_or_else(|| self.corrupt(format!("bad log key for hall {hall}")))
            }
        }
    }

    /// The first retained seq in the log of `hall`.
    pub(crate) fn first_logged(&self, hall: &str) -> Result<Option<u64>, StoreError> {
        let range = keys::log_key(hall, 0)..=keys::log_key(hall, u64::MAX);
        match self.log.range(range).next() {
            None => Ok(None),
            Some(item) => {
                let (k, _) = item.map_err(|e| self.err(e))?;
                keys::log_seq(hall, &k)
                    .map(Some)
                    .ok_or_else(|| self.corrupt(format!("bad log key for hall {hall}")))
            }
        }
    }

    pub(crate) fn decode(&self, hall: &str, key: &[u8], value: &[u8]) -> Result<Event, StoreError> {
        let seq = keys::log_seq(hall, key)
            .ok_or_else(|| self.corrupt(format!("bad log key in hall {hall}")))?;
        decode_event(&self.dir, hall, seq, value)
    }

    /// The stored events `from..=upto`, whatever is there (retention may
    /// have removed the start).
    pub(crate) fn read_stored(
        &self,
        hall: &str,
        from: u64,
        upto: u64,
    ) -> Result<Vec<Event>, StoreError> {
        let mut out = Vec::new();
        for item in self
            .log
            .range(keys::log_key(hall, from)..=keys::log_key(hall, upto))
        {
            let (k, v) = item.map_err(|e| self.err(e))?;
            out.push(self.decode(hall, &k, &v)?);
        }
        Ok(out)
    }

    /// Events `from..=upto`, which must all be there.
    pub(crate) fn read_range(
        &self,
        hall: &str,
        from: u64,
        upto: u64,
    ) -> Result<Vec<Event>, StoreError> {
        let mut out = Vec::with_capacity(upto.saturating_sub(from) as usize + 1);
        let mut expect = from;
        for item in self
            .log
            .range(keys::log_key(hall, from)..=keys::log_key(hall, upto))
        {
            let (k, v) = item.map_err(|e| self.err(e))?;
            let ev = self.decode(hall, &k, &v)?;
            if ev.seq != expect {
                return Err(self.corrupt(format!("the log of hall {hall} lacks event {expect}")));
            }
            expect += 1;
            out.push(ev);
        }
        if expect <= upto {
            return Err(self.corrupt(format!("the log of hall {hall} lacks event {expect}")));
        }
        Ok(out)
    }

    /// The first seq of business day `date` of `hall` and the first seq of
    /// the next day the hall opened (if any), from the day index.
    pub(crate) fn day_bounds(
        &self,
        hall: &str,
        date: NaiveDate,
    ) -> Result<Option<(u64, Option<u64>)>, StoreError> {
        let key = keys::day_key(hall, date);
        let Some(v) = self.days.get(&key).map_err(|e| self.err(e))? else {
            return Ok(None);
        };
        let bad = || self.corrupt(format!("bad day index record of hall {hall}"));
        let start = keys::u64_of(&v).ok_or_else(bad)?;
        let mut after = key;
        after.push(0xff);
        let mut next = None;
        if let Some(item) = self.days.range(after..).next() {
            let (k, v) = item.map_err(|e| self.err(e))?;
            if keys::hall_of(&k) == Some(hall) {
                next = Some(keys::u64_of(&v).ok_or_else(bad)?);
            }
        }
        Ok(Some((start, next)))
    }

    /// Business days of `hall` that have events, ascending.
    pub(crate) fn days_of(&self, hall: &str) -> Result<Vec<NaiveDate>, StoreError> {
        let mut out = Vec::new();
        for item in self.days.scan_prefix(keys::prefix(hall)) {
            let (k, _) = item.map_err(|e| self.err(e))?;
            out.push(
                keys::day_of(hall, &k)
                    .ok_or_else(|| self.corrupt(format!("bad day key of hall {hall}")))?,
            );
        }
        Ok(out)
    }

    /// The halls with anything stored, sorted.
    pub(crate) fn halls(&self) -> Result<Vec<String>, StoreError> {
        let mut out = std::collections::BTreeSet::new();
        let mut from: Vec<u8> = Vec::new();
        // One seek per hall: jump past each hall's range.
        while let Some(item) = self.log.range(from.clone()..).next() {
            let (k, _) = item.map_err(|e| self.err(e))?;
            let hall =
                keys::hall_of(&k).ok_or_else(|| self.corrupt("a log key without a hall".into()))?;
            out.insert(hall.to_string());
            from = hall.as_bytes().to_vec();
            from.push(1);
        }
        for item in self.snap.iter().keys() {
            let k = item.map_err(|e| self.err(e))?;
            let hall = std::str::from_utf8(&k)
                .map_err(|_| self.corrupt("a snapshot key is not UTF-8".into()))?;
            out.insert(hall.to_string());
        }
        Ok(out.into_iter().collect())
    }
}
