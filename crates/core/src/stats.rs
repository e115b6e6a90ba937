//! Statistics of a business day, folded from its events: counts, waits,
//! handling times and ratings per category, window and staff member. A pure
//! fold, so the server computes it from the store's log and the simulator
//! from its own events with the same code.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use serde::Serialize;

use crate::event::{Event, EventKind};
use crate::time;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
    pub issued: u32,
    pub called: u32,
    pub served: u32,
    pub no_show: u32,
    pub transferred: u32,
    pub expired: u32,
    pub mean_wait_s: f64,
    pub max_wait_s: f64,
    pub mean_handling_s: f64,
    pub ratings: u32,
    pub mean_rating: Option<f64>,
    /// Share of ratings 4 and 5 (好评率).
    pub good_share: Option<f64>,
    /// Citizens who left the queue themselves (不排了).
    pub cancelled: u32,
    /// 挂起: tickets parked while the citizen fetched something.
    pub held: u32,
    /// 指定叫号: calls of a named number instead of the next in line.
    pub out_of_order: u32,
    /// No-shows per first call (过号率); none before the first call.
    pub no_show_rate: Option<f64>,
    /// Median and 90th percentile of the waits of served tickets
    /// (nearest rank), seconds.
    pub wait_p50_s: Option<f64>,
    pub wait_p90_s: Option<f64>,
    /// 90th percentile of handling times, seconds.
    pub handling_p90_s: Option<f64>,
    /// The national 好差评 levels: index 0 counts score 1 (非常不满意) …
    /// index 4 score 5 (非常满意).
    pub rating_levels: [u32; 5],
    /// Tickets issued per local hour of the day (index 0 = 00:00–01:00);
    /// only folds that know the hall's time zone fill it, and only the
    /// total and the categories have arrivals.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub arrivals_by_hour: Vec<u32>,
    #[serde(skip)]
    waits: Vec<f64>,
    #[serde(skip)]
    handlings: Vec<f64>,
    #[serde(skip)]
    wait_sum: f64,
    #[serde(skip)]
    handling_sum: f64,
    #[serde(skip)]
    rating_sum: u32,
    #[serde(skip)]
    good: u32,
}

/// The nearest-rank percentile `p` (0..=1) of `xs` (sorted here), rounded
/// to 0.1 s; none for no samples.
fn percentile(xs: &mut [f64], p: f64) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let rank = ((p * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
    Some((xs[rank - 1] * 10.0).round() / 10.0)
}

impl Figures {
    fn finish(&mut self) {
        if self.called > 0 {
            self.no_show_rate =
                Some((f64::from(self.no_show) / f64::from(self.called) * 1000.0).round() / 1000.0);
        }
        self.wait_p50_s = percentile(&mut self.waits, 0.5);
        self.wait_p90_s = percentile(&mut self.waits, 0.9);
        self.handling_p90_s = percentile(&mut self.handlings, 0.9);
        if self.served > 0 {
            self.mean_wait_s = (self.wait_sum / f64::from(self.served) * 10.0).round() / 10.0;
            self.mean_handling_s =
                (self.handling_sum / f64::from(self.served) * 10.0).round() / 10.0;
        }
        if self.ratings > 0 {
            self.mean_rating = Some(
                (f64::from(self.rating_sum) / f64::from(self.ratings) * 100.0).round() / 100.0,
            );
            self.good_share =
                Some((f64::from(self.good) / f64::from(self.ratings) * 1000.0).round() / 1000.0);
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DayStats {
    pub total: Figures,
    pub by_category: BTreeMap<String, Figures>,
    pub by_window: BTreeMap<u32, Figures>,
    pub by_staff: BTreeMap<String, Figures>,
}

impl DayStats {
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> DayStats {
        DayStats::fold(events, None)
    }

    /// As [`DayStats::from_events`], with arrivals per local hour of the
    /// hall's time zone `tz` (`Figures::arrivals_by_hour`).
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>, tz: Option<Tz>) -> DayStats {
        let mut s = DayStats::default();
        // ticket id -> category, to attribute events that do not name it.
        let mut category: BTreeMap<String, String> = BTreeMap::new();
        for ev in events {
            match &ev.kind {
                EventKind::TicketIssued {
                    ticket,
                    category: c,
                    ..
                } => {
                    category.insert(ticket.clone(), c.clone());
                    let hour = tz.map(|tz| usize::from(time::local(tz, ev.at).minute / 60));
                    for f in [&mut s.total, s.by_category.entry(c.clone()).or_default()] {
                        f.issued += 1;
                        if let Some(h) = hour {
                            f.arrivals_by_hour.resize(24, 0);
                            if let Some(n) = f.arrivals_by_hour.get_mut(h) {
                                *n += 1;
                            }
                        }
                    }
                }
                // A held ticket called back (`resumed`) was counted at its
                // first call, as a recall is.
                EventKind::TicketCalled {
                    window,
                    staff,
                    recall: false,
                    resumed: false,
                    out_of_order,
                    category: c,
                    ..
                } => {
                    for f in [
                        &mut s.total,
                        s.by_category.entry(c.clone()).or_default(),
                        s.by_window.entry(*window).or_default(),
                        s.by_staff.entry(staff.clone()).or_default(),
                    ] {
                        f.called += 1;
                        f.out_of_order += u32::from(*out_of_order);
                    }
                }
                EventKind::TicketHeld {
                    window,
                    staff,
                    category: c,
                    ..
                } => {
                    for f in [
                        &mut s.total,
                        s.by_category.entry(c.clone()).or_default(),
                        s.by_window.entry(*window).or_default(),
                        s.by_staff.entry(staff.clone()).or_default(),
                    ] {
                        f.held += 1;
                    }
                }
                // 多窗联办: what follows is the next category's.
                EventKind::TicketChained {
                    ticket,
                    category: c,
                    ..
                } => {
                    category.insert(ticket.clone(), c.clone());
                }
                EventKind::ServiceCompleted {
                    category: c,
                    window,
                    staff,
                    wait_s,
                    handling_s,
                    ..
                } => {
                    for f in [
                        &mut s.total,
                        s.by_category.entry(c.clone()).or_default(),
                        s.by_window.entry(*window).or_default(),
                        s.by_staff.entry(staff.clone()).or_default(),
                    ] {
                        f.served += 1;
                        f.waits.push(*wait_s);
                        f.handlings.push(*handling_s);
                        f.wait_sum += wait_s;
                        f.handling_sum += handling_s;
                        f.max_wait_s = f.max_wait_s.max(*wait_s);
                    }
                }
                EventKind::TicketNoShow { ticket, window, .. } => {
                    let c = category.get(ticket).cloned().unwrap_or_default();
                    let mut targets = vec![
                        &mut s.total,
                        s.by_category.entry(c).or_default(),
                        s.by_window.entry(*window).or_default(),
                    ];
                    if let Some(st) = ev.by.staff_id() {
                        targets.push(s.by_staff.entry(st.to_string()).or_default());
                    }
                    for f in targets {
                        f.no_show += 1;
                    }
                }
                EventKind::TicketTransferred {
                    from_category,
                    from_window,
                    ticket,
                    category: c,
                    ..
                } => {
                    category.insert(ticket.clone(), c.clone());
                    let mut targets = vec![
                        &mut s.total,
                        s.by_category.entry(from_category.clone()).or_default(),
                        s.by_window.entry(*from_window).or_default(),
                    ];
                    if let Some(st) = ev.by.staff_id() {
                        targets.push(s.by_staff.entry(st.to_string()).or_default());
                    }
                    for f in targets {
                        f.transferred += 1;
                    }
                }
                EventKind::TicketCancelled { ticket, .. } => {
                    let c = category.get(ticket).cloned().unwrap_or_default();
                    s.total.cancelled += 1;
                    s.by_category.entry(c).or_default().cancelled += 1;
                }
                EventKind::TicketExpired { ticket, .. } => {
                    let c = category.get(ticket).cloned().unwrap_or_default();
                    s.total.expired += 1;
                    s.by_category.entry(c).or_default().expired += 1;
                }
                EventKind::RatingRecorded {
                    ticket,
                    score,
                    window,
                    staff,
                    ..
                } => {
                    let c = category.get(ticket).cloned().unwrap_or_default();
                    let mut targets = vec![&mut s.total, s.by_category.entry(c).or_default()];
                    if let Some(w) = window {
                        targets.push(s.by_window.entry(*w).or_default());
                    }
                    if let Some(st) = staff {
                        targets.push(s.by_staff.entry(st.clone()).or_default());
                    }
                    for f in targets {
                        f.ratings += 1;
                        if let Some(n) =
                            f.rating_levels.get_mut(usize::from(*score).wrapping_sub(1))
                        {
                            *n += 1;
                        }
                        f.rating_sum += u32::from(*score);
                        if *score >= 4 {
                            f.good += 1;
                        }
                    }
                }
                _ => {}
            }
        }
        s.total.finish();
        s.by_category.values_mut().for_each(Figures::finish);
        s.by_window.values_mut().for_each(Figures::finish);
        s.by_staff.values_mut().for_each(Figures::finish);
        s
    }

    /// CSV export: one row per category, window and staff member, then the total.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "scope,key,issued,called,served,no_show,transferred,expired,mean_wait_s,max_wait_s,mean_handling_s,ratings,mean_rating,good_share\n",
        );
        let mut row = |scope: &str, key: &str, f: &Figures| {
            let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
            out.push_str(&format!(
                "{scope},{key},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                f.issued,
                f.called,
                f.served,
                f.no_show,
                f.transferred,
                f.expired,
                f.mean_wait_s,
                f.max_wait_s,
                f.mean_handling_s,
                f.ratings,
                opt(f.mean_rating),
                opt(f.good_share)
            ));
        };
        for (k, f) in &self.by_category {
            row("category", k, f);
        }
        for (k, f) in &self.by_window {
            row("window", &k.to_string(), f);
        }
        for (k, f) in &self.by_staff {
            row("staff", k, f);
        }
        row("total", "", &self.total);
        out
    }
}
