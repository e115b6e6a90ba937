//! Staffing policies: which windows a hall opens, who sits where, and the
//! hall configuration the core runs under. A policy only *arranges* the hall
//! (as a manager would before opening); every rule during the day is the core's.
//!
//! | policy | windows staffed at opening | tidal windows |
//! |---|---|---|
//! | `static-all` | every window, fallback included | opened by the supervisor at 08:30, stay open |
//! | `static-base` | comprehensive and specialist windows | never opened |
//! | `tidal` | comprehensive and specialist windows | the core's own policy (its `auto` mode; the simulated supervisor resolves any advice after a minute: accept, or dismiss when the core finds nobody to send) |
//! | `specialist` | same windows as `static-all` | — (re-typed: no pooling) |
//! | `plan` | as `tidal` | the core's tidal mode `plan`: each morning the engine hands the core a staffing plan forecast from the days before (Erlang C per half-hour, see [`crate::forecast`]) as `Command::SetStaffingPlan`; the core summons tidal windows a walk ahead of each half-hour that needs them and closes only above the plan; its reactive rules stay as the safety net |
//! | `bound` | as `tidal`, then the simulated supervisor staffs to a clairvoyant schedule (opens and closes tidal and comprehensive windows a walk ahead of each half-hour): the fewest window-hours found by search on the day's actual citizens that meets the p90 target | none (the bar every policy is measured against) |
//!
//! `static-*` and `specialist` run the core with `tidal.mode = advise` and
//! never act on the advice, so the core cannot open or close anything.
//! `static-base` and `tidal` leave the fallback window unstaffed: while a
//! comprehensive window is open the core gives a fallback window nothing to do.
//! They open the day identically (A posts on duty, the other clerks on standby
//! at a window where they are the B post), so the only difference between
//! them is what the core's tidal policy does: when it opens a tidal window it
//! takes a standby clerk (core rule), who walks over; when it closes one, the
//! clerk goes back to their standby seat.
//!
//! `specialist` turns every comprehensive and tidal window into a specialist
//! window for some categories, keeping the existing specialist windows. The
//! split is a D'Hondt apportionment of those windows over the categories by
//! offered work (expected tickets × configured expected time), counting each
//! existing specialist window as a seat of its categories; a category left
//! without a window joins the window with the least work per seat.

use hallcall_core::config::{TidalMode, WindowKind};
use hallcall_core::HallConfig;
use serde::Serialize;

use crate::error::SimError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    StaticAll,
    StaticBase,
    Tidal,
    Specialist,
    Plan,
    Bound,
}

impl Policy {
    pub const ALL: [Policy; 4] = [
        Policy::StaticAll,
        Policy::StaticBase,
        Policy::Tidal,
        Policy::Specialist,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Policy::StaticAll => "static-all",
            Policy::StaticBase => "static-base",
            Policy::Tidal => "tidal",
            Policy::Specialist => "specialist",
            Policy::Plan => "plan",
            Policy::Bound => "bound",
        }
    }

    /// Staffed to a schedule of windows per half-hour.
    pub fn scheduled(self) -> bool {
        matches!(self, Policy::Plan | Policy::Bound)
    }
}

/// How a clerk takes a seat at the start of the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatHow {
    /// `Command::Login` by the clerk (opens a closed non-tidal window, or
    /// waits on standby).
    Login,
    /// `Command::OpenWindow` by the supervisor (tidal windows, relief clerks).
    Open,
}

/// One seat taken at opening time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Seat {
    pub window: u32,
    pub staff: String,
    pub how: SeatHow,
    /// On duty (the window opens) or on standby (AB post, tidal reserve).
    pub on_duty: bool,
}

/// A policy applied to a hall.
#[derive(Clone, Debug)]
pub struct Setup {
    pub policy: Policy,
    pub config: HallConfig,
    /// Seats in the order they are taken: on-duty seats first.
    pub seats: Vec<Seat>,
    /// Resolve the core's tidal advice (only `tidal`): in `advise` mode every
    /// decision, in `auto` mode the "nobody free, please arrange" advice.
    pub accept_advice: bool,
    /// For `specialist`: window number → categories it serves.
    pub split: Vec<(u32, Vec<String>)>,
}

impl Setup {
    /// Applies `policy` to `base`; `work` is the offered work per category
    /// (hall order), used by the specialist split.
    pub fn new(policy: Policy, base: &HallConfig, work: &[f64]) -> Result<Setup, SimError> {
        let fail = |message: String| SimError::Policy {
            policy: policy.name().into(),
            message,
        };
        let mut config = base.clone();
        let mut accept_advice = false;
        let mut split = Vec::new();
        match policy {
            Policy::Tidal => accept_advice = true,
            Policy::Plan => {
                accept_advice = true;
                config.tidal.mode = TidalMode::Plan;
            }
            _ => config.tidal.mode = TidalMode::Advise,
        }
        if policy == Policy::Specialist {
            split = specialist_split(&config, work);
            for (number, cats) in &split {
                if let Some(w) = config.windows.iter_mut().find(|w| w.number == *number) {
                    w.kind = WindowKind::Specialist;
                    w.categories = cats.clone();
                }
            }
            config.validate().map_err(|e| fail(e.to_string()))?;
        }
        let staffed = |kind: WindowKind| match policy {
            Policy::StaticAll | Policy::Specialist => true,
            Policy::StaticBase | Policy::Tidal | Policy::Plan | Policy::Bound => {
                matches!(kind, WindowKind::Comprehensive | WindowKind::Specialist)
            }
        };
        let mut free: Vec<&str> = config.staff.iter().map(|s| s.id.as_str()).collect();
        let take = |free: &mut Vec<&str>, id: &str| -> bool {
            match free.iter().position(|s| *s == id) {
                Some(i) => {
                    free.remove(i);
                    true
                }
                None => false,
            }
        };
        let mut seats = Vec::new();
        for w in config.windows.iter().filter(|w| staffed(w.kind)) {
            let post = std::iter::once(w.a_post.as_str())
                .chain(w.b_post.as_deref())
                .find(|s| free.contains(s))
                .map(str::to_string);
            let (staff, relief) = match post {
                Some(s) => (s, false),
                None => match free.first() {
                    Some(s) => (s.to_string(), true),
                    None => return Err(fail(format!("no staff left to open window {}", w.number))),
                },
            };
            take(&mut free, &staff);
            let how = if relief || w.kind == WindowKind::Tidal {
                SeatHow::Open
            } else {
                SeatHow::Login
            };
            seats.push(Seat {
                window: w.number,
                staff,
                how,
                on_duty: true,
            });
        }
        // Everyone left waits on standby (B post) at an open window where
        // they hold a post and nobody stands by yet.
        for staff in free.clone() {
            let spot = config.windows.iter().find(|w| {
                (w.a_post == staff || w.b_post.as_deref() == Some(staff))
                    && seats.iter().any(|s| s.window == w.number && s.on_duty)
                    && !seats.iter().any(|s| s.window == w.number && !s.on_duty)
            });
            if let Some(w) = spot {
                take(&mut free, staff);
                seats.push(Seat {
                    window: w.number,
                    staff: staff.to_string(),
                    how: SeatHow::Login,
                    on_duty: false,
                });
            }
        }
        Ok(Setup {
            policy,
            config,
            seats,
            accept_advice,
            split,
        })
    }

    /// Windows staffed at opening.
    pub fn open_windows(&self) -> usize {
        self.seats.iter().filter(|s| s.on_duty).count()
    }
}

/// The D'Hondt split of comprehensive and tidal windows over categories.
fn specialist_split(config: &HallConfig, work: &[f64]) -> Vec<(u32, Vec<String>)> {
    let k = config.categories.len();
    let cat_of = |id: &str| config.categories.iter().position(|c| c.id == id);
    let mut seats = vec![0.0f64; k];
    for w in config
        .windows
        .iter()
        .filter(|w| w.kind == WindowKind::Specialist)
    {
        let share = 1.0 / w.categories.len().max(1) as f64;
        for c in w.categories.iter().filter_map(|c| cat_of(c)) {
            seats[c] += share;
        }
    }
    let pooled: Vec<u32> = config
        .windows
        .iter()
        .filter(|w| matches!(w.kind, WindowKind::Comprehensive | WindowKind::Tidal))
        .map(|w| w.number)
        .collect();
    let w_of = |c: usize| work.get(c).copied().unwrap_or(0.0);
    let mut assigned: Vec<(u32, Vec<usize>)> = Vec::new();
    for number in pooled {
        let best = (0..k).max_by(|&a, &b| {
            let qa = w_of(a) / (seats[a] + 1.0);
            let qb = w_of(b) / (seats[b] + 1.0);
            // Ties go to the earlier category.
            qa.total_cmp(&qb).then(b.cmp(&a))
        });
        if let Some(c) = best {
            seats[c] += 1.0;
            assigned.push((number, vec![c]));
        }
    }
    // Categories with no window at all join the window with the least work per seat.
    for c in 0..k {
        if seats[c] > 0.0 || assigned.is_empty() {
            continue;
        }
        let load = |cats: &[usize]| {
            cats.iter()
                .map(|&c| w_of(c) / seats[c].max(1.0))
                .sum::<f64>()
        };
        if let Some(i) = (0..assigned.len())
            .min_by(|&a, &b| load(&assigned[a].1).total_cmp(&load(&assigned[b].1)))
        {
            assigned[i].1.push(c);
            seats[c] += 1.0;
        }
    }
    assigned
        .into_iter()
        .map(|(n, cats)| {
            (
                n,
                cats.into_iter()
                    .map(|c| config.categories[c].id.clone())
                    .collect(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demand::Demand;
    use crate::profile::Profile;

    fn setup(policy: Policy) -> Setup {
        let hall = hallcall_core::demo::demo_hall();
        let d = Demand::new(&Profile::town_centre(), &hall).expect("fits");
        Setup::new(policy, &hall, &d.work_by_cat()).expect("applies")
    }

    #[test]
    fn static_all_staffs_every_window_and_static_base_no_tidal_one() {
        let all = setup(Policy::StaticAll);
        assert_eq!(all.open_windows(), 10);
        assert_eq!(all.config.tidal.mode, TidalMode::Advise);
        let base = setup(Policy::StaticBase);
        assert_eq!(base.open_windows(), 7);
        assert_eq!(base.seats.len(), 12, "five B posts on standby");
        let tidal = setup(Policy::Tidal);
        assert_eq!(
            tidal.seats, base.seats,
            "the same opening; only the core's tidal policy differs"
        );
        assert_eq!(tidal.config.tidal.mode, TidalMode::Auto);
    }

    #[test]
    fn specialist_splits_the_pooled_windows_by_work_and_serves_every_category() {
        let s = setup(Policy::Specialist);
        assert_eq!(s.open_windows(), 10);
        assert!(s
            .config
            .windows
            .iter()
            .all(|w| w.kind != WindowKind::Comprehensive && w.kind != WindowKind::Tidal));
        let served: std::collections::BTreeSet<&str> = s
            .config
            .windows
            .iter()
            .flat_map(|w| w.categories.iter().map(String::as_str))
            .collect();
        assert_eq!(served.len(), s.config.categories.len());
        assert_eq!(s.split.len(), 7, "windows 1-5, 8 and 9 are re-typed");
        let general = s
            .split
            .iter()
            .filter(|(_, c)| c.iter().any(|c| c == "general"))
            .count();
        assert_eq!(general, 3, "{:?}", s.split);
    }
}
