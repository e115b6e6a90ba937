//! What a hall's configuration says about its staffing plan: the wait
//! target, which categories the planned windows serve, how many windows
//! there are to plan.

use hallcall_core::config::WindowKind;
use hallcall_core::HallConfig;

use crate::{History, StaffingPlan, SLOTS, SLOT_MS};

/// The fixed part of a hall's plan, from its configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// The tightest category wait target, seconds: the p90 the plan keeps.
    pub target_s: f64,
    /// Per category (configuration order): served by the pooled windows the
    /// plan opens and closes, not by a specialist window of its own.
    /// Measured in the simulator: counting the specialists' categories in
    /// the pool staffs too few comprehensive windows.
    pub pooled: Vec<bool>,
    /// Specialist windows: always open, added to the pooled count.
    pub specialist: u32,
    /// Pooled windows at least while open.
    pub min: u32,
    /// Pooled windows at most: comprehensive plus tidal.
    pub max: u32,
}

impl Frame {
    pub fn of(cfg: &HallConfig) -> Frame {
        let count = |k: WindowKind| cfg.windows.iter().filter(|w| w.kind == k).count() as u32;
        Frame {
            target_s: cfg
                .categories
                .iter()
                .map(|c| f64::from(c.wait_target_s))
                .fold(f64::INFINITY, f64::min),
            pooled: cfg
                .categories
                .iter()
                .map(|c| {
                    !cfg.windows
                        .iter()
                        .any(|w| w.kind == WindowKind::Specialist && w.categories.contains(&c.id))
                })
                .collect(),
            specialist: count(WindowKind::Specialist),
            min: 1,
            max: count(WindowKind::Comprehensive) + count(WindowKind::Tidal),
        }
    }

    /// Whether the category `id` is planned for (unknown ids are).
    pub fn is_pooled(&self, cfg: &HallConfig, id: &str) -> bool {
        cfg.categories
            .iter()
            .position(|c| c.id == id)
            .and_then(|i| self.pooled.get(i).copied())
            .unwrap_or(true)
    }

    /// The half-hour slot a minute of the day falls in.
    pub fn slot(minute: u32) -> usize {
        (minute as usize * 60_000 / SLOT_MS as usize).min(SLOTS)
    }

    /// The hall's opening hours on `weekday` as half-hour slots
    /// `(open, close)`, the close exclusive; `None` on a closed weekday.
    pub fn open_slots(cfg: &HallConfig, weekday: u8) -> Option<(usize, usize)> {
        if !cfg.open_days.iter().any(|d| d.index() == weekday) {
            return None;
        }
        Self::hours(cfg)
    }

    /// The hall's opening hours as half-hour slots `(open, close)`, the
    /// close exclusive, whatever the day.
    pub fn hours(cfg: &HallConfig) -> Option<(usize, usize)> {
        let open = cfg.open_hours.iter().map(|r| r.start.minutes()).min()?;
        let close = cfg.open_hours.iter().map(|r| r.end.minutes()).max()?;
        let close = Self::slot(u32::from(close).saturating_sub(1)) + 1;
        Some((Self::slot(u32::from(open)), close.min(SLOTS)))
    }

    /// Whether the hall is open at some minute of half-hour `k` (a lunch
    /// closure between two ranges of `open_hours` leaves its half-hours out).
    pub fn slot_open(cfg: &HallConfig, k: usize) -> bool {
        let from = (k as i64 * SLOT_MS / 60_000) as u16;
        let to = ((k as i64 + 1) * SLOT_MS / 60_000) as u16;
        cfg.open_hours
            .iter()
            .any(|r| r.start.minutes() < to && r.end.minutes() > from)
    }

    /// The plan for a day on `weekday`: Erlang C on the forecast while open
    /// (`open_slot..close_slot`), the last ticket's half-hour's windows held
    /// until the close (those citizens are still being served), plus the
    /// specialist windows. `None` without history.
    pub fn plan(
        &self,
        history: &History,
        weekday: u8,
        open_slot: usize,
        last_slot: usize,
        close_slot: usize,
    ) -> Option<StaffingPlan> {
        let f = history.forecast(weekday)?;
        let work = history.work_per_citizen_s()?;
        let mut p = crate::plan(
            &f,
            work,
            self.target_s,
            self.min,
            self.max,
            open_slot,
            close_slot,
        );
        if last_slot > open_slot {
            let hold = p.windows[last_slot - 1];
            for k in last_slot..close_slot.min(SLOTS) {
                p.windows[k] = p.windows[k].max(hold);
            }
        }
        Some(self.with_specialists(p))
    }

    /// A pooled-window schedule plus the specialist windows, where open.
    pub fn with_specialists(&self, mut p: StaffingPlan) -> StaffingPlan {
        p.windows
            .iter_mut()
            .filter(|n| **n > 0)
            .for_each(|n| *n += self.specialist);
        p
    }
}
