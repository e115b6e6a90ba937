use chrono::NaiveDate;

use super::*;
use serde_json::json;

use crate::demo::demo_hall;
use crate::time::{self, Millis, SECOND};

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).expect("date")
}

/// Unix ms of a local (Asia/Shanghai) time on 2026-11-`d`.
fn at(d: u32, h: u16, m: u16) -> Millis {
    time::instant_of(chrono_tz::Asia::Shanghai, date(d), h * 60 + m)
}

/// Events built from their JSON form, as the log stores them, so fields
/// added later with defaults need no change here.
struct Log(Vec<Event>);

impl Log {
    fn push(&mut self, at: Millis, by: &str, mut kind: serde_json::Value) {
        let seq = self.0.len() as u64 + 1;
        let o = kind.as_object_mut().expect("object");
        o.insert("seq".into(), seq.into());
        o.insert("at".into(), time::rfc3339(at).into());
        o.insert("hall".into(), "demo".into());
        o.insert("by".into(), by.into());
        let ev: Event = serde_json::from_value(kind).expect("event");
        self.0.push(ev);
    }

    fn issue(&mut self, at: Millis, id: &str, category: &str) {
        self.push(
            at,
            "kiosk",
            json!({"type": "ticket_issued", "ticket": id, "number": id.to_uppercase(),
                "category": category, "priority": "normal", "channel": "kiosk", "key": at}),
        );
    }

    fn call(&mut self, at: Millis, id: &str, category: &str, extra: serde_json::Value) {
        let mut v = json!({"type": "ticket_called", "ticket": id, "number": id.to_uppercase(),
            "category": category, "window": 1, "staff": "s01", "recall": false});
        if let (Some(o), Some(x)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(x.clone());
        }
        self.push(at, "staff:s01", v);
    }

    /// Called at `at` by s01 at window 1, done after `handling_s`.
    fn serve(&mut self, at: Millis, id: &str, category: &str, wait_s: f64, handling_s: f64) {
        self.call(at, id, category, json!({}));
        self.push(
            at + (handling_s as i64) * SECOND,
            "staff:s01",
            json!({"type": "service_completed", "ticket": id, "number": id.to_uppercase(),
                "category": category, "window": 1, "staff": "s01",
                "wait_s": wait_s, "handling_s": handling_s}),
        );
    }

    fn rate(&mut self, at: Millis, id: &str, score: u8) {
        self.push(
            at,
            "public",
            json!({"type": "rating_recorded", "ticket": id, "number": id.to_uppercase(),
                "score": score, "window": 1, "staff": "s01"}),
        );
    }
}

/// Day 23: three general tickets (two at 09:xx, one at 10:05) served with
/// waits of 60, 120 and 600 s, rated 5 and 1, and one social ticket the
/// citizen cancelled; day 24: nothing; day 25: one no-show.
fn three_days() -> (Vec<Event>, Vec<Event>, Vec<Event>) {
    let mut d1 = Log(Vec::new());
    d1.issue(at(23, 9, 10), "a1", "general");
    d1.issue(at(23, 9, 20), "a2", "general");
    d1.issue(at(23, 10, 5), "a3", "general");
    d1.issue(at(23, 10, 6), "b1", "social");
    d1.serve(at(23, 10, 30), "a1", "general", 60.0, 300.0);
    d1.serve(at(23, 10, 40), "a2", "general", 120.0, 100.0);
    d1.serve(at(23, 10, 50), "a3", "general", 600.0, 200.0);
    d1.push(
        at(23, 10, 51),
        "public",
        json!({"type": "ticket_cancelled", "ticket": "b1", "number": "B1"}),
    );
    d1.rate(at(23, 11, 0), "a1", 5);
    d1.rate(at(23, 11, 1), "a2", 1);
    let mut d3 = Log(Vec::new());
    d3.issue(at(25, 14, 0), "c1", "civil");
    // 指定叫号, then 挂起 and called back: one call, one out of order, one hold.
    d3.call(at(25, 14, 1), "c1", "civil", json!({"out_of_order": true}));
    d3.push(
        at(25, 14, 2),
        "staff:s01",
        json!({"type": "ticket_held", "ticket": "c1", "number": "C1", "category": "civil",
            "window": 1, "staff": "s01", "deadline": time::rfc3339(at(25, 14, 32))}),
    );
    d3.call(at(25, 14, 5), "c1", "civil", json!({"resumed": true}));
    d3.push(
        at(25, 14, 6),
        "staff:s01",
        json!({"type": "ticket_no_show", "ticket": "c1", "number": "C1", "window": 1}),
    );
    (d1.0, Vec::new(), d3.0)
}

fn report(cfg: &HallConfig) -> Report {
    let (d1, d2, d3) = three_days();
    Report::build(
        date(23),
        date(25),
        |d| match d.day() {
            23 => &d1,
            24 => &d2,
            _ => &d3,
        },
        cfg,
    )
    .expect("report")
}

use chrono::Datelike;

#[test]
fn a_range_has_every_day_and_true_percentiles_over_the_range() {
    let r = report(&demo_hall());
    let dates: Vec<NaiveDate> = r.days.iter().map(|d| d.date).collect();
    assert_eq!(dates, [date(23), date(24), date(25)], "a quiet day stays");
    assert_eq!(r.days[1].stats.total.issued, 0);
    let t = &r.total;
    assert_eq!((t.total.issued, t.total.served), (5, 3));
    assert_eq!(t.total.cancelled, 1);
    // Waits 60, 120, 600: nearest-rank median 120, p90 600.
    assert_eq!(t.total.wait_p50_s, Some(120.0));
    assert_eq!(t.total.wait_p90_s, Some(600.0));
    assert_eq!(t.total.handling_p90_s, Some(300.0));
    assert_eq!(t.total.rating_levels, [1, 0, 0, 0, 1], "one 1, one 5");
    // Day 25: one call (the call back from hold is not another), one no-show.
    let d3 = &r.days[2].stats.total;
    assert_eq!((d3.called, d3.out_of_order, d3.held), (1, 1, 1));
    assert_eq!(d3.no_show_rate, Some(1.0));
    assert_eq!(r.total.by_staff["s01"].out_of_order, 1);
    // Over the range 1 no-show of 4 first calls.
    assert_eq!(t.total.no_show_rate, Some(0.25));
    assert_eq!(r.days[0].stats.by_category["social"].cancelled, 1);
}

#[test]
fn arrivals_count_by_the_halls_local_hour() {
    let r = report(&demo_hall());
    let h = &r.days[0].stats.total.arrivals_by_hour;
    assert_eq!(h.len(), 24);
    assert_eq!(
        (h[9], h[10], h[1]),
        (2, 2, 0),
        "09:10 and 09:20 Beijing time are 01:xx UTC"
    );
    assert_eq!(r.total.by_category["civil"].arrivals_by_hour[14], 1);
    assert!(
        r.total.by_window[&1].arrivals_by_hour.is_empty(),
        "windows have no arrivals"
    );
}

#[test]
fn a_reversed_or_too_long_range_is_refused() {
    let cfg = demo_hall();
    let none: Vec<Event> = Vec::new();
    assert!(matches!(
        Report::build(date(25), date(23), |_| &none, &cfg),
        Err(RangeError::Reversed { .. })
    ));
    let from = date(1) - chrono::Days::new(400);
    assert_eq!(
        Report::build(from, date(1), |_| &none, &cfg),
        Err(RangeError::TooLong { days: 401 })
    );
    assert_eq!(dates(date(1), date(1)).map(|d| d.len()), Ok(1));
}

#[test]
fn the_csv_opens_in_excel_with_chinese_headers_names_and_ids() {
    let mut cfg = demo_hall();
    cfg.windows[0].name = "综合受理, 1号".into();
    let csv = report(&cfg).to_csv();
    assert!(
        csv.starts_with('\u{feff}'),
        "UTF-8 byte-order mark for Excel"
    );
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split("\r\n").collect();
    assert!(lines[0].starts_with("日期,统计范围,名称,编号,取号数,叫号数,办结数,过号数,过号率"));
    assert!(lines[0].ends_with("非常满意,满意,基本满意,不满意,非常不满意,平均评分,满意率"));
    let width = lines[0].split(',').count();
    let row = |prefix: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no row {prefix} in\n{csv}"))
            .to_string()
    };
    // The range first, then each day.
    let total = row("2026-11-23至2026-11-25,合计,全部,,5,4,3,1,25.0%,0,1,1,1,0,");
    assert_eq!(total.split(',').count(), width, "{total}");
    assert!(total.ends_with(",2,1,0,0,0,1,3.00,50.0%"), "{total}");
    row("2026-11-23,业务,综合业务,general,3,3,3,0,0.0%");
    row("2026-11-23,业务,社保医保,social,1,0,0,0,,0,0,0,1,");
    row("2026-11-23,窗口,\"综合受理, 1号\",1,");
    row("2026-11-23,人员,张");
    row("2026-11-23,到达时段,09:00-10:00,09,2");
    row("2026-11-24,合计,全部,,0,0,0,0,,");
    // Every data row has the header's width (the quoted comma is one field).
    for l in lines.iter().filter(|l| !l.is_empty() && !l.contains('"')) {
        assert_eq!(l.split(',').count(), width, "{l}");
    }
}
