//! Reports over days (issue 15 item 7): the statistics of every business
//! day in a range and of the range as a whole, per category, window and
//! staff member, with the names a manager reads. A pure function of the
//! days' events and the hall's configuration, so the server (from the
//! store's log) and a test (from a core `Hall`) compute the same figures.
//!
//! The range's figures are folded from all its events at once rather than
//! summed from the days, so its percentiles are true percentiles of the
//! range, not averages of daily ones.

mod csv;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::config::HallConfig;
use crate::event::Event;
use crate::stats::DayStats;

/// The longest range a report covers: a year and a day (the store keeps
/// about 400 days).
pub const MAX_DAYS: i64 = 366;

/// The figures of one business day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DayReport {
    pub date: NaiveDate,
    #[serde(flatten)]
    pub stats: DayStats,
}

/// What the ids of a report are called, from the hall's configuration
/// (ids no longer configured are named by themselves).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Names {
    pub categories: BTreeMap<String, String>,
    pub windows: BTreeMap<u32, String>,
    pub staff: BTreeMap<String, String>,
}

/// The statistics of the business days `from..=to`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The whole range.
    pub total: DayStats,
    /// Every date of the range in order, days without events included
    /// (all zero), so a chart's axis has no gaps.
    pub days: Vec<DayReport>,
    pub names: Names,
}

/// A range the report cannot cover.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("from ({from}) is after to ({to})")]
    Reversed { from: NaiveDate, to: NaiveDate },
    #[error("a report covers at most {MAX_DAYS} days, not {days}")]
    TooLong { days: i64 },
}

/// Checks a range and lists its dates.
pub fn dates(from: NaiveDate, to: NaiveDate) -> Result<Vec<NaiveDate>, RangeError> {
    if from > to {
        return Err(RangeError::Reversed { from, to });
    }
    let days = (to - from).num_days() + 1;
    if days > MAX_DAYS {
        return Err(RangeError::TooLong { days });
    }
    Ok(from.iter_days().take(days as usize).collect())
}

impl Report {
    /// Folds the events of each business day of `from..=to` (`day_events`
    /// answers a date with that day's events, in log order).
    pub fn build<'a>(
        from: NaiveDate,
        to: NaiveDate,
        mut day_events: impl FnMut(NaiveDate) -> &'a [Event],
        config: &HallConfig,
    ) -> Result<Report, RangeError> {
        let tz = Some(config.timezone);
        let mut days = Vec::new();
        let mut all: Vec<&Event> = Vec::new();
        for date in dates(from, to)? {
            let evs = day_events(date);
            all.extend(evs.iter());
            days.push(DayReport {
                date,
                stats: DayStats::fold(evs, tz),
            });
        }
        let total = DayStats::fold(all, tz);
        let names = Names::of(&total, config);
        Ok(Report {
            from,
            to,
            total,
            days,
            names,
        })
    }
}

impl Names {
    fn of(s: &DayStats, config: &HallConfig) -> Names {
        let mut n = Names::default();
        for (id, _) in s.by_category.iter() {
            let name = config
                .category(id)
                .map_or_else(|| id.clone(), |c| c.name.clone());
            n.categories.insert(id.clone(), name);
        }
        for c in &config.categories {
            n.categories.insert(c.id.clone(), c.name.clone());
        }
        for w in s
            .by_window
            .keys()
            .chain(config.windows.iter().map(|w| &w.number))
        {
            n.windows.insert(*w, window_name(config, *w));
        }
        for id in s.by_staff.keys() {
            let name = config
                .staff(id)
                .map_or_else(|| id.clone(), |st| st.name.clone());
            n.staff.insert(id.clone(), name);
        }
        n
    }
}

/// A window's name as a manager reads it: its configured name, else "3号窗口".
fn window_name(config: &HallConfig, number: u32) -> String {
    match config.window(number) {
        Some(w) if !w.name.is_empty() => w.name.clone(),
        _ => format!("{number}号窗口"),
    }
}

#[cfg(test)]
mod tests;
