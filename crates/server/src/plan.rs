//! Tidal mode `plan` in the server: once a day (at start, and after each
//! local midnight) a hall in mode `plan` gets today's staffing plan,
//! forecast from its own event log in the store by `hallcall-forecast`
//! (arrivals per category by weekday and half-hour over the last four
//! weeks, handling times, no-shows, how long summoned clerks took) and
//! handed to the core as `Command::SetStaffingPlan`. The core then summons
//! ahead of the planned half-hours through the same path as tidal `auto`;
//! nothing here decides a rule.
//!
//! One small task per hall, asleep between checks: it reads the current
//! configuration from the hall's snapshot every time, so a reload into or
//! out of mode `plan` takes effect within [`RECHECK`], and so does a node
//! becoming the hall's owner (several nodes: only the owner plans).

use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::NaiveDate;
use hallcall_core::config::TidalMode;
use hallcall_core::time::local;
use hallcall_core::{Actor, Command, HallConfig, Millis};
use hallcall_store::{Store, StoreError};

use crate::hall_task::{now_ms, CommandError, HallHandle};

/// The longest a planner sleeps: a reload into mode `plan` gets its plan
/// this long after at most.
const RECHECK: Duration = Duration::from_secs(600);

/// Today's plan for `cfg` from the store: `None` on a closed day or without
/// history. Reads at most [`hallcall_forecast::HISTORY_DAYS`] days (blocking IO).
pub fn plan_for(
    store: &Store,
    cfg: &HallConfig,
    today: NaiveDate,
) -> Result<Option<Command>, StoreError> {
    let from = today - chrono::Days::new(hallcall_forecast::HISTORY_DAYS as u64);
    let mut days = Vec::new();
    for d in store.days(&cfg.id)? {
        if d >= from && d < today {
            days.push((d, store.day_events(&cfg.id, d)?));
        }
    }
    Ok(
        hallcall_forecast::day_plan(cfg, today, days.iter().map(|(d, e)| (*d, e.as_slice())))
            .map(|(windows, lead_s)| Command::SetStaffingPlan { windows, lead_s }),
    )
}

/// Starts the planner of one hall.
pub fn spawn(handle: HallHandle, store: Store) {
    tokio::spawn(run(handle, store));
}

async fn run(handle: HallHandle, store: Store) {
    let mut planned: Option<NaiveDate> = None;
    loop {
        let cfg = handle.snapshot().hall().config().clone();
        let now = now_ms();
        let today = local(cfg.timezone, now).date;
        // Several nodes: only the hall's owner plans (a follower would read
        // four weeks of log for a command the owner refuses to take).
        let owner = handle.owner.load(Ordering::Acquire);
        if owner && cfg.tidal.mode == TidalMode::Plan && planned != Some(today) {
            let (s, c) = (store.clone(), cfg.clone());
            let made = tokio::task::spawn_blocking(move || plan_for(&s, &c, today)).await;
            match made {
                Ok(Ok(Some(cmd))) => match handle.command(cmd, Actor::System).await {
                    Ok(_) => {
                        tracing::info!(hall = %cfg.id, %today, "staffing plan set");
                        planned = Some(today);
                    }
                    Err(CommandError::Gone) => return,
                    // Ownership moved meanwhile: the new owner plans.
                    Err(CommandError::NotOwner) => {}
                    Err(e) => tracing::warn!(hall = %cfg.id, error = %e, "staffing plan refused"),
                },
                Ok(Ok(None)) => {
                    tracing::info!(hall = %cfg.id, %today, "no staffing plan today: closed, or no history yet (the reactive tidal rules staff the hall)");
                    planned = Some(today);
                }
                Ok(Err(e)) => {
                    tracing::warn!(hall = %cfg.id, error = %e, "staffing plan: reading the log failed")
                }
                Err(e) => tracing::warn!(hall = %cfg.id, error = %e, "staffing plan task failed"),
            }
        }
        tokio::time::sleep(until_next_day(&cfg, now_ms()).min(RECHECK)).await;
    }
}

/// From `now` to a second after the hall's next local midnight.
fn until_next_day(cfg: &HallConfig, now: Millis) -> Duration {
    let ms_of_day = local(cfg.timezone, now).ms_of_day;
    let left = (24 * 3_600_000 - ms_of_day).max(0) + 1000;
    Duration::from_millis(left as u64)
}
