//! Retention, run by the maintenance thread ([`crate::maint`]): deletes
//! whole past business days of a hall after a snapshot (see "Snapshots and compaction" in the crate
//! doc for the policy and why the log is also the statistics store).

use chrono::NaiveDate;

use crate::keys;
use crate::trees::Trees;
use crate::StoreError;

/// Which leading days of a hall retention may delete: given its days
/// `(date, first seq)` ascending, the seq before which everything may go
/// (0: nothing). A day goes when it is older than `retention_days` before
/// the newest day and ends at or before `snap_seq - resume_window`; the
/// newest day never goes. Shared by both backends.
pub(crate) fn deletable_before(
    days: &[(NaiveDate, u64)],
    snap_seq: u64,
    retention_days: u32,
    resume_window: u64,
) -> (u64, usize) {
    let Some(newest) = days.last().map(|d| d.0) else {
        return (0, 0);
    };
    let cutoff = newest - chrono::Duration::days(i64::from(retention_days));
    let horizon = snap_seq.saturating_sub(resume_window);
    let mut end = 0;
    let mut n = 0;
    for w in days.windows(2) {
        let (date, next_first) = (w[0].0, w[1].1);
        if date >= cutoff || next_first.saturating_sub(1) > horizon {
            break;
        }
        end = next_first;
        n += 1;
    }
    (end, n)
}

/// Deletes the log entries of business days older than `retention_days`
/// before the newest day, and their day index entries, but nothing newer than
/// `snap_seq - resume_window`. Only whole records go (one per command): one
/// that ends at or after a day's end is kept with the day after it. Returns
/// how many records were deleted.
pub(crate) fn compact(
    trees: &Trees,
    hall: &str,
    snap_seq: u64,
    retention_days: u32,
    resume_window: u64,
) -> Result<u64, StoreError> {
    let mut days: Vec<(NaiveDate, u64)> = Vec::new();
    let mut day_keys: Vec<Vec<u8>> = Vec::new();
    for item in trees.days.scan_prefix(keys::prefix(hall)) {
        let (k, v) = item.map_err(|e| trees.err(e))?;
        let (Some(date), Some(seq)) = (keys::day_of(hall, &k), keys::u64_of(&v)) else {
            return Err(trees.corrupt(format!("bad day index record for hall {hall}")));
        };
        days.push((date, seq));
        day_keys.push(k.to_vec());
    }
    let (end, n_days) = deletable_before(&days, snap_seq, retention_days, resume_window);
    let mut deleted = 0;
    for (i, day_key) in day_keys.iter().enumerate().take(n_days) {
        let day_end = days[i + 1].1.min(end);
        // Everything of this hall before `day_end` (the day and anything older).
        loop {
            let mut batch = sled::Batch::default();
            let mut n = 0;
            for item in trees
                .log
                .range(keys::log_key(hall, 0)..keys::log_key(hall, day_end))
                .take(1000)
            {
                let (k, _) = item.map_err(|e| trees.err(e))?;
                batch.remove(k);
                n += 1;
            }
            if n == 0 {
                break;
            }
            trees.log.apply_batch(batch).map_err(|e| trees.err(e))?;
            deleted += n;
        }
        // The index entry goes last: a crash in between leaves it to be
        // pruned next time, never an orphaned stretch of log.
        trees.days.remove(day_key).map_err(|e| trees.err(e))?;
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, n).unwrap_or_default()
    }

    #[test]
    fn deletes_old_days_but_never_the_resume_window_or_the_newest_day() {
        let days = [(d(1), 1), (d(2), 100), (d(3), 200), (d(4), 300)];
        // Keep one day before the newest: days 1 and 2 go.
        assert_eq!(deletable_before(&days, 350, 1, 0), (200, 2));
        // The resume window reaches into day 2: only day 1 goes.
        assert_eq!(deletable_before(&days, 350, 1, 200), (100, 1));
        // Nothing is old enough.
        assert_eq!(deletable_before(&days, 350, 30, 0), (0, 0));
        assert_eq!(deletable_before(&days[..1], 350, 0, 0), (0, 0));
        assert_eq!(deletable_before(&[], 350, 0, 0), (0, 0));
    }
}
