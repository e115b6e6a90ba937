//! The per-hall event log: encoding an append (checked, serialised once,
//! as ONE record per command) and reading ranges back (each event checked
//! against its place). The encoding is the same for every backend; the
//! reads here are sled's.
//!
//! Format (store format 2; both kinds may be mixed in one log, and a
//! format-1 log holds only the first): the key of
//! a record is `hall 0x00 seq` with the seq of the command's LAST event, so
//! a range read from seq `s` that starts at key `s` meets the record holding
//! `s` first. The value is either
//! - one event's JSON, exactly as on the wire (a JSON object, first byte
//!   `{`) — what every record was before one record per command, so older
//!   databases read without migration; or
//! - [`MULTI_V1`], the number of events `n ≥ 2` (u32 BE), then per event its
//!   JSON's length (u32 BE) and the JSON — the events `key - n + 1 ..= key`.
//!
//! Why one record per command: a command's events must reach the disk
//! together (a crash never keeps part of one), and sled's `Batch`, the
//! alternative, costs ≈ 60 µs more per flush (its batch manifest).

use chrono::NaiveDate;
use hallcall_core::{Event, EventKind};

use crate::error::{corrupt, sled_error};
use crate::keys;
use crate::trees::Trees;
use crate::StoreError;

/// First byte of a record holding several events (a JSON event starts with
/// `{`, never with this).
pub(crate) const MULTI_V1: u8 = 1;

/// Bytes before the first event of a multi-event record: format, count.
const MULTI_HEADER: usize = 5;

/// Room reserved per event when serialising.
const EVENT_CAPACITY: usize = 384;

/// One command's log record, ready to insert.
pub(crate) struct Record {
    /// Seq of its first and last event.
    pub first: u64,
    pub last: u64,
    /// `log_key(hall, last)`.
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

/// One append, checked and serialised on the caller's thread, one record
/// per event (PostgreSQL's rows).
pub(crate) struct Encoded {
    /// (seq, event JSON exactly as on the wire), consecutive.
    pub records: Vec<(u64, Vec<u8>)>,
    /// Business days opened by these events: (date, seq of `day_opened`).
    pub days: Vec<(NaiveDate, u64)>,
}

/// One append as sled stores it: one record for the whole command.
pub(crate) struct EncodedCommand {
    /// `None` when the command produced no events.
    pub record: Option<Record>,
    /// Business days opened by these events: (date, seq of `day_opened`).
    pub days: Vec<(NaiveDate, u64)>,
}

/// Checks that `events` belong to `hall` and are consecutive; returns the
/// business days they open. Whether they continue the hall's durable
/// sequence is the caller's check (it needs the hall's state).
fn check(hall: &str, events: &[Event]) -> Result<Vec<(NaiveDate, u64)>, StoreError> {
    keys::check_hall(hall)?;
    let mut days = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        if &*ev.hall != hall {
            return Err(StoreError::Invalid(format!(
                "event {} of hall {} appended to hall {hall}",
                ev.seq, ev.hall
            )));
        }
        if i > 0 && ev.seq != events[i - 1].seq + 1 {
            return Err(StoreError::OutOfOrder {
                hall: hall.into(),
                expected: events[i - 1].seq + 1,
                got: ev.seq,
            });
        }
        if let EventKind::DayOpened { date } = ev.kind {
            days.push((date, ev.seq));
        }
    }
    Ok(days)
}

fn unencodable(hall: &str, seq: u64, e: serde_json::Error) -> StoreError {
    StoreError::Invalid(format!("event {seq} of hall {hall} cannot be encoded: {e}"))
}

/// Checks `events` (see [`check`]) and serialises each once.
pub(crate) fn encode(hall: &str, events: &[Event]) -> Result<Encoded, StoreError> {
    let days = check(hall, events)?;
    let mut records = Vec::with_capacity(events.len());
    for ev in events {
        let mut bytes = Vec::with_capacity(EVENT_CAPACITY);
        ev.write_json(&mut bytes)
            .map_err(|e| unencodable(hall, ev.seq, e))?;
        records.push((ev.seq, bytes));
    }
    Ok(Encoded { records, days })
}

/// Checks `events` (see [`check`]) and serialises them once, into the one
/// log record sled stores for the command.
pub(crate) fn encode_command(hall: &str, events: &[Event]) -> Result<EncodedCommand, StoreError> {
    let days = check(hall, events)?;
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Ok(EncodedCommand { record: None, days });
    };
    let value = if events.len() == 1 {
        // Sized for a typical event (~200-300 bytes), so that serialising
        // does not regrow the buffer on the hot path.
        let mut v = Vec::with_capacity(EVENT_CAPACITY);
        first
            .write_json(&mut v)
            .map_err(|e| unencodable(hall, first.seq, e))?;
        v
    } else {
        let too_large =
            || StoreError::Invalid(format!("a command of hall {hall} is too large to store"));
        let count = u32::try_from(events.len()).map_err(|_| too_large())?;
        let mut v = Vec::with_capacity(MULTI_HEADER + (4 + EVENT_CAPACITY) * events.len());
        v.push(MULTI_V1);
        v.extend_from_slice(&count.to_be_bytes());
        for ev in events {
            let at = v.len();
            v.extend_from_slice(&[0; 4]);
            ev.write_json(&mut v)
                .map_err(|e| unencodable(hall, ev.seq, e))?;
            let len = u32::try_from(v.len() - at - 4).map_err(|_| too_large())?;
            v[at..at + 4].copy_from_slice(&len.to_be_bytes());
        }
        v
    };
    Ok(EncodedCommand {
        record: Some(Record {
            first: first.seq,
            last: last.seq,
            key: keys::log_key(hall, last.seq),
            value,
        }),
        days,
    })
}

/// The seq of the first event of the record stored at `last` (its key's
/// seq), from its header alone.
pub(crate) fn record_first(
    dir: &std::path::Path,
    hall: &str,
    last: u64,
    value: &[u8],
) -> Result<u64, StoreError> {
    if value.first() != Some(&MULTI_V1) {
        return Ok(last);
    }
    let count = value
        .get(1..MULTI_HEADER)
        .and_then(keys::u32_of)
        .filter(|&n| n >= 2 && u64::from(n) <= last)
        .ok_or_else(|| {
            corrupt(
                dir,
                format!("the log record of hall {hall} ending at seq {last} has a damaged header"),
            )
        })?;
    Ok(last + 1 - u64::from(count))
}

/// Decodes the record stored at `last` (its key's seq) and checks that it
/// holds exactly the events its place says, consecutive, ending at `last`.
/// Anything else — a garbled or torn record, an event out of place — is
/// reported as corrupt, never skipped.
pub(crate) fn decode_record(
    dir: &std::path::Path,
    hall: &str,
    last: u64,
    value: &[u8],
) -> Result<Vec<Event>, StoreError> {
    if value.first() != Some(&MULTI_V1) {
        return Ok(vec![decode_event(dir, hall, last, value)?]);
    }
    let first = record_first(dir, hall, last, value)?;
    let torn = |seq: u64| {
        corrupt(
            dir,
            format!(
                "the log record of hall {hall} ending at seq {last} is torn or garbled at event {seq}"
            ),
        )
    };
    let mut out = Vec::with_capacity((last + 1 - first) as usize);
    let mut rest = &value[MULTI_HEADER..];
    for seq in first..=last {
        let len = rest
            .get(..4)
            .and_then(keys::u32_of)
            .ok_or_else(|| torn(seq))? as usize;
        let json = rest.get(4..4 + len).ok_or_else(|| torn(seq))?;
        out.push(decode_event(dir, hall, seq, json)?);
        rest = &rest[4 + len..];
    }
    if !rest.is_empty() {
        return Err(torn(last));
    }
    Ok(out)
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

    fn key_seq(&self, hall: &str, key: &[u8]) -> Result<u64, StoreError> {
        keys::log_seq(hall, key).ok_or_else(|| self.corrupt(format!("bad log key for hall {hall}")))
    }

    /// The last seq in the log of `hall`, 0 if none.
    pub(crate) fn last_logged(&self, hall: &str) -> Result<u64, StoreError> {
        let range = keys::log_key(hall, 0)..=keys::log_key(hall, u64::MAX);
        match self.log.range(range).next_back() {
            None => Ok(0),
            Some(item) => {
                let (k, _) = item.map_err(|e| self.err(e))?;
                self.key_seq(hall, &k)
            }
        }
    }

    /// The first retained seq in the log of `hall`.
    pub(crate) fn first_logged(&self, hall: &str) -> Result<Option<u64>, StoreError> {
        let range = keys::log_key(hall, 0)..=keys::log_key(hall, u64::MAX);
        match self.log.range(range).next() {
            None => Ok(None),
            Some(item) => {
                let (k, v) = item.map_err(|e| self.err(e))?;
                let last = self.key_seq(hall, &k)?;
                record_first(&self.dir, hall, last, &v).map(Some)
            }
        }
    }

    /// Calls `f` with each stored event of `hall` from seq `from` to `upto`
    /// in order, whatever is there (retention may have removed the start),
    /// each checked against its place; stops early when `f` says so.
    pub(crate) fn scan(
        &self,
        hall: &str,
        from: u64,
        upto: u64,
        mut f: impl FnMut(Event) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        // The record holding `from` is the first whose last seq is ≥ `from`.
        for item in self
            .log
            .range(keys::log_key(hall, from)..=keys::log_key(hall, u64::MAX))
        {
            let (k, v) = item.map_err(|e| self.err(e))?;
            let last = self.key_seq(hall, &k)?;
            for ev in decode_record(&self.dir, hall, last, &v)? {
                if ev.seq > upto {
                    return Ok(());
                }
                if ev.seq >= from && !f(ev)? {
                    return Ok(());
                }
            }
            if last >= upto {
                return Ok(());
            }
        }
        Ok(())
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
        self.scan(hall, from, upto, |ev| {
            out.push(ev);
            Ok(true)
        })?;
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
        self.scan(hall, from, upto, |ev| {
            if ev.seq != expect {
                return Err(self.corrupt(format!("the log of hall {hall} lacks event {expect}")));
            }
            expect += 1;
            out.push(ev);
            Ok(true)
        })?;
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
        // Snapshot files, and records of an older format's `snap` tree.
        out.extend(crate::snapfile::halls(&crate::snapfile::snap_dir(
            &self.dir,
        ))?);
        for item in self.snap.iter().keys() {
            let k = item.map_err(|e| self.err(e))?;
            let hall = std::str::from_utf8(&k)
                .map_err(|_| self.corrupt("a snapshot key is not UTF-8".into()))?;
            out.insert(hall.to_string());
        }
        Ok(out.into_iter().collect())
    }
}
