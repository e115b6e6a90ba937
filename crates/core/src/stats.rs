//! Statistics of a business day, folded from its events: counts, waits,
//! handling times and ratings per category, window and staff member. A pure
//! fold, so the server computes it from the store's log and the simulator
//! from its own events with the same code.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::event::{Event, EventKind};

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
    #[serde(skip)]
    wait_sum: f64,
    #[serde(skip)]
    handling_sum: f64,
    #[serde(skip)]
    rating_sum: u32,
    #[serde(skip)]
    good: u32,
}

impl Figures {
    fn finish(&mut self) {
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
                    s.total.issued += 1;
                    s.by_category.entry(c.clone()).or_default().issued += 1;
                }
                EventKind::TicketCalled {
                    ticket,
                    window,
                    staff,
                    recall: false,
                    category: c,
                    ..
                } => {
                    let _ = ticket;
                    for f in [
                        &mut s.total,
                        s.by_category.entry(c.clone()).or_default(),
                        s.by_window.entry(*window).or_default(),
                        s.by_staff.entry(staff.clone()).or_default(),
                    ] {
                        f.called += 1;
                    }
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
