//! The public view of a hall: what a wall display, a window display and the
//! supervisor dashboard draw. It carries numbers, never ticket ids or any
//! personal data, so it can be served without a token.

use serde::Serialize;

use crate::config::WindowKind;
use crate::event::AdviceAction;
use crate::hall::{Hall, Load};
use crate::model::{Level, PauseReason, Post, TicketState, WindowState};
use crate::time::{rfc3339, Millis};

#[derive(Clone, Debug, Serialize)]
pub struct HallView {
    pub hall: String,
    pub name: String,
    pub name_en: String,
    pub seq: u64,
    pub business_date: Option<String>,
    pub now: String,
    /// IANA zone of the hall, so displays show hall-local times.
    pub timezone: String,
    /// When today's opening hours end (RFC 3339); `None` when closed now or
    /// open around the clock.
    pub closes_at: Option<String>,
    /// Every staff member (id and name, nothing else), for dashboards.
    pub staff: Vec<StaffEntry>,
    pub categories: Vec<CategoryView>,
    pub windows: Vec<WindowView>,
    pub recent_calls: Vec<CallView>,
    pub advice: Vec<AdviceView>,
    pub load: LoadView,
    pub totals: Totals,
    /// Most tickets waiting per 10-minute bucket today.
    pub waiting_series: Vec<SeriesPoint>,
    /// The supervisor's notices not yet ended; the hall display scrolls
    /// those whose range includes its clock.
    pub notices: Vec<NoticeView>,
    /// What the hall itself announces beside them (a tidal window opened,
    /// a ticket sent on to another category), as codes the pages word.
    pub system_notices: Vec<SystemNotice>,
    /// Tidal mode `plan`: today's staffing plan against the windows open,
    /// per half-hour; `None` in the other modes or before a plan is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staffing_plan: Option<PlanView>,
}

/// Today's staffing plan beside what happened (tidal mode `plan`).
#[derive(Clone, Debug, Serialize)]
pub struct PlanView {
    /// How long before a half-hour its windows are summoned.
    pub lead_s: i64,
    /// The half-hours the plan staffs or windows were open, in time order.
    pub slots: Vec<PlanSlot>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlanSlot {
    /// Start of the half-hour (RFC 3339).
    pub at: String,
    /// Windows the plan wants open.
    pub planned: u32,
    /// The most windows open in that half-hour; `None` for the future.
    pub staffed: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StaffEntry {
    pub id: String,
    pub name: String,
    /// Where they are logged in, if anywhere.
    pub window: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CategoryView {
    pub id: String,
    pub name: String,
    pub name_en: String,
    pub prefix: char,
    pub waiting: u32,
    /// Estimated wait of a ticket taken now; `None` when no open window serves it.
    pub estimated_wait_s: Option<u64>,
    pub avg_service_s: u64,
    pub oldest_wait_s: Option<i64>,
    pub wait_target_s: u32,
    /// 红黄绿: red when the oldest ticket waits beyond the target; else a new
    /// ticket's estimate beyond 80 % of the target is yellow, beyond 100 % red.
    pub level: Level,
    pub open_windows: u32,
    /// 今日号已取完: the category's `daily_cap` is reached.
    pub sold_out: bool,
    /// A ticket issued now is estimated to wait past `closes_at`: the kiosk
    /// says so before printing.
    pub past_closing: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct StaffView {
    pub id: String,
    pub name: String,
    pub post: Post,
}

#[derive(Clone, Debug, Serialize)]
pub struct CurrentView {
    pub number: String,
    pub category: String,
    pub state: TicketState,
    pub since: String,
    pub elapsed_s: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct WindowView {
    pub number: u32,
    pub kind: WindowKind,
    pub state: &'static str,
    pub pause_reason: Option<PauseReason>,
    pub staff: Option<StaffView>,
    pub standby: Option<StaffView>,
    pub current: Option<CurrentView>,
    /// Category ids this window serves right now.
    pub serves: Vec<String>,
    pub level: Level,
    /// For a paused or closed window: open windows serving the same categories.
    pub go_to: Vec<u32>,
    /// A closed window being opened (召集中): the summoned clerk, for the
    /// supervisor and that clerk's console; citizens' pages ignore it (the
    /// window is `closed` until the clerk logs in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summons: Option<SummonsView>,
    /// 挂起: tickets held at this window, oldest first (numbers only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<HeldView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct HeldView {
    pub number: String,
    pub category: String,
    pub since: String,
    /// It becomes a no-show at this instant unless called back.
    pub deadline: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct NoticeView {
    pub id: u64,
    pub text: String,
    pub starts_at: String,
    pub ends_at: String,
    /// Whether it shows at the view's `now`.
    pub showing: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum SystemNotice {
    /// A tidal window is open (潮汐窗口已开放).
    TidalOpen { window: u32 },
    /// 多窗联办: ticket `number` goes on to `category` at `windows`.
    Chained {
        number: String,
        category: String,
        windows: Vec<u32>,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct SummonsView {
    pub staff: StaffView,
    pub since: String,
    pub deadline: String,
    pub reason: crate::reason::Reason,
}

#[derive(Clone, Debug, Serialize)]
pub struct CallView {
    pub seq: u64,
    pub at: String,
    pub number: String,
    pub category: String,
    pub window: u32,
    pub recall: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct AdviceView {
    pub id: u64,
    pub action: AdviceAction,
    pub window: u32,
    pub staff: Option<String>,
    pub reason: crate::reason::Reason,
    pub at: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LoadView {
    pub waiting: u32,
    pub staffed_windows: u32,
    pub open_windows: u32,
    pub per_window: Option<f64>,
    pub newest_wait_s: Option<f64>,
    pub overload_since: Option<String>,
    pub underload_since: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    pub issued: u32,
    pub done: u32,
    pub waiting: u32,
    pub no_show: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct SeriesPoint {
    pub at: String,
    pub waiting: u32,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some((x * 10.0).round() / 10.0)
}

impl Hall {
    pub fn view(&self, now: Millis) -> HallView {
        let cfg = &self.config;
        let staff_view = |seat: &Option<crate::model::Seat>| {
            seat.as_ref().map(|s| StaffView {
                id: s.staff.clone(),
                name: cfg
                    .staff(&s.staff)
                    .map(|x| x.name.clone())
                    .unwrap_or_default(),
                post: s.post,
            })
        };
        let closes_at = self.closes_at(now);
        let categories = cfg
            .categories
            .iter()
            .enumerate()
            .map(|(c, cat)| {
                let (level, oldest) = self.category_level(c, now);
                let est = self.newest_estimate_s(c);
                CategoryView {
                    id: cat.id.as_str().to_owned(),
                    name: cat.name.clone(),
                    name_en: cat.name_en.clone(),
                    prefix: cat.prefix,
                    waiting: self.waiting[c],
                    estimated_wait_s: est.is_finite().then(|| est.round() as u64),
                    avg_service_s: self.avg_service_s[c].round() as u64,
                    oldest_wait_s: oldest,
                    wait_target_s: cat.wait_target_s,
                    level,
                    open_windows: self.coverage.eligible[c],
                    sold_out: cat.daily_cap.is_some_and(|cap| {
                        self.counters[(cat.prefix as u8 - b'A') as usize] >= cap
                    }),
                    past_closing: closes_at.is_some_and(|close| {
                        est.is_finite() && now + (est * 1000.0) as i64 > close
                    }),
                }
            })
            .collect();
        let windows = self
            .windows
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let current = w.current.and_then(|s| self.tickets.get(&s));
                let level = current
                    .filter(|t| t.state == TicketState::Serving)
                    .and_then(|t| {
                        let limit = i64::from(cfg.category(&t.category)?.limit_s) * 1000;
                        let el = now - t.started_at?;
                        Some(if el > limit {
                            Level::Red
                        } else if el * 5 > limit * 4 {
                            Level::Yellow
                        } else {
                            Level::Green
                        })
                    })
                    .unwrap_or_default();
                let serves_mask = if w.is_staffed() {
                    self.effective_serves(i)
                } else {
                    self.layout.serves[i]
                };
                // Where a citizen of this window goes instead: windows that
                // serve everything it serves (a paused comprehensive window
                // sends people to other comprehensive windows, not to a
                // specialist); failing that, any that serve part of it.
                let go_to = if w.is_staffed() {
                    Vec::new()
                } else {
                    let open = |pred: &dyn Fn(u64) -> bool| -> Vec<u32> {
                        self.windows
                            .iter()
                            .enumerate()
                            .filter(|(j, o)| o.is_staffed() && pred(self.effective_serves(*j)))
                            .map(|(_, o)| o.number)
                            .collect()
                    };
                    let all = open(&|m| m & serves_mask == serves_mask);
                    if all.is_empty() {
                        open(&|m| m & serves_mask != 0)
                    } else {
                        all
                    }
                };
                WindowView {
                    number: w.number,
                    kind: cfg.windows[i].kind,
                    state: match w.state {
                        WindowState::Closed => "closed",
                        WindowState::Open => "open",
                        WindowState::Calling => "calling",
                        WindowState::Serving => "serving",
                        WindowState::Paused { .. } => "paused",
                    },
                    pause_reason: match w.state {
                        WindowState::Paused { reason } => Some(reason),
                        _ => None,
                    },
                    staff: staff_view(&w.on_duty),
                    standby: staff_view(&w.standby),
                    current: current.map(|t| CurrentView {
                        number: t.number.as_str().to_owned(),
                        category: t.category.as_str().to_owned(),
                        state: t.state,
                        since: rfc3339(w.since),
                        elapsed_s: (now - w.since) / 1000,
                    }),
                    serves: cfg
                        .categories
                        .iter()
                        .enumerate()
                        .filter(|(c, _)| serves_mask & (1 << c) != 0)
                        .map(|(_, c)| c.id.clone())
                        .collect(),
                    level,
                    go_to,
                    summons: self.summons.get(&w.number).map(|s| SummonsView {
                        staff: StaffView {
                            id: s.staff.clone(),
                            name: cfg
                                .staff(&s.staff)
                                .map(|x| x.name.clone())
                                .unwrap_or_default(),
                            post: s.post,
                        },
                        since: rfc3339(s.at),
                        deadline: rfc3339(s.deadline),
                        reason: s.reason.clone(),
                    }),
                    held: self.held_views(w.number),
                }
            })
            .collect();
        let mut totals = Totals::default();
        for t in self.tickets.values() {
            totals.issued += 1;
            match t.state {
                TicketState::Done => totals.done += 1,
                TicketState::Waiting => totals.waiting += 1,
                TicketState::NoShow => totals.no_show += 1,
                _ => {}
            }
        }
        let Load {
            waiting,
            staffed_windows,
            per_window,
            newest_wait_s,
        } = self.load();
        HallView {
            hall: cfg.id.clone(),
            name: cfg.name.clone(),
            name_en: cfg.name_en.clone(),
            seq: self.seq,
            business_date: self.business_date.map(|d| d.to_string()),
            now: rfc3339(now),
            timezone: cfg.timezone.name().to_string(),
            closes_at: closes_at.map(rfc3339),
            staff: cfg
                .staff
                .iter()
                .map(|s| StaffEntry {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    window: self.staff_at.get(&s.id).map(|(w, _)| *w),
                })
                .collect(),
            categories,
            windows,
            recent_calls: self
                .recent_calls
                .iter()
                .map(|c| CallView {
                    seq: c.seq,
                    at: rfc3339(c.at),
                    number: c.number.clone(),
                    category: c.category.clone(),
                    window: c.window,
                    recall: c.recall,
                })
                .collect(),
            advice: self
                .advice
                .values()
                .map(|a| AdviceView {
                    id: a.id,
                    action: a.action,
                    window: a.window,
                    staff: a.staff.clone(),
                    reason: a.reason.clone(),
                    at: rfc3339(a.at),
                })
                .collect(),
            load: LoadView {
                waiting,
                staffed_windows,
                open_windows: self.open_count(),
                per_window: finite(per_window),
                newest_wait_s: finite(newest_wait_s),
                overload_since: self.overload_since.map(rfc3339),
                underload_since: self.underload_since.map(rfc3339),
            },
            totals,
            waiting_series: self
                .waiting_series
                .iter()
                .map(|(at, n)| SeriesPoint {
                    at: rfc3339(*at),
                    waiting: *n,
                })
                .collect(),
            staffing_plan: self.plan_view(now),
            notices: self.notice_views(now),
            system_notices: self.system_notices(),
        }
    }

    /// Today's plan, each half-hour with the most windows open in it (a
    /// half-hour without an event keeps the count the last one left).
    fn plan_view(&self, now: Millis) -> Option<PlanView> {
        const HALF: Millis = 30 * crate::time::MINUTE;
        if self.config.tidal.mode != crate::config::TidalMode::Plan {
            return None;
        }
        let (windows, lead) = self.staffing_plan.as_ref()?;
        let midnight = now - crate::time::local(self.config.timezone, now).ms_of_day;
        // Open windows change only at events: a half-hour without one
        // keeps the count the last one left.
        let mut last = self
            .staffed_series
            .range(..midnight)
            .next_back()
            .map_or(0, |(_, &(_, end))| end);
        let slots = (0..48)
            .filter_map(|k| {
                let at = midnight + k * HALF;
                let staffed = match self.staffed_series.get(&at) {
                    Some(&(most, end)) => {
                        last = end;
                        Some(most)
                    }
                    None => (at <= now).then_some(last),
                };
                let planned = windows.get(k as usize).copied().unwrap_or(0);
                (planned > 0 || staffed.is_some_and(|n| n > 0)).then(|| PlanSlot {
                    at: rfc3339(at),
                    planned,
                    staffed,
                })
            })
            .collect();
        Some(PlanView {
            lead_s: lead / 1000,
            slots,
        })
    }
}
