//! A day of a real hall's log (the core's own events) reduces to the
//! arrivals, work per citizen and summoning lead the forecast reads.

use chrono::NaiveDate;
use hallcall_core::time::instant_of;
use hallcall_core::{Actor, Channel, Command, Event, Hall, Millis, Priority};
use hallcall_forecast::{DayLog, Frame, History, SLOT_MS};

const S: Millis = 1000;

fn run(hall: &mut Hall, log: &mut Vec<Event>, at: Millis, cmd: Command, by: Actor) {
    let evs = hall.handle(cmd, by, at).expect("accepted");
    log.extend(evs);
}

fn issue(category: &str, id: &str) -> Command {
    Command::IssueTicket {
        id: id.into(),
        category: category.into(),
        priority: Priority::Normal,
        channel: Channel::Kiosk,
        appointment_code: None,
    }
}

#[test]
fn a_days_events_give_arrivals_per_half_hour_work_per_citizen_and_the_summoning_lead() {
    let cfg = hallcall_core::demo::demo_hall();
    let tz = cfg.timezone;
    let frame = Frame::of(&cfg);
    let mut hall = Hall::new(cfg.clone());
    let mut log = Vec::new();
    let date = NaiveDate::from_ymd_opt(2026, 3, 2).expect("date");
    let t0 = instant_of(tz, date, 10 * 60); // 10:00 local, a Monday
    let s01 = Actor::Staff("s01".into());
    run(
        &mut hall,
        &mut log,
        t0,
        Command::Login {
            staff: "s01".into(),
            window: 1,
        },
        s01.clone(),
    );
    // Two general tickets at 10:01 and 10:40, one market ticket (its own
    // specialist window: not planned for).
    run(
        &mut hall,
        &mut log,
        t0 + 60 * S,
        issue("general", "t1"),
        Actor::Kiosk,
    );
    run(
        &mut hall,
        &mut log,
        t0 + 40 * 60 * S,
        issue("general", "t2"),
        Actor::Kiosk,
    );
    run(
        &mut hall,
        &mut log,
        t0 + 41 * 60 * S,
        issue("market", "t3"),
        Actor::Kiosk,
    );
    // t1: called at 10:41, walks 30 s, served 300 s.
    let c = t0 + 41 * 60 * S;
    run(
        &mut hall,
        &mut log,
        c,
        Command::CallNext { window: 1 },
        s01.clone(),
    );
    run(
        &mut hall,
        &mut log,
        c + 30 * S,
        Command::Start { window: 1 },
        s01.clone(),
    );
    run(
        &mut hall,
        &mut log,
        c + 330 * S,
        Command::Complete { window: 1 },
        s01.clone(),
    );
    // t2: called, recalled, a no-show 120 s after the first call.
    let c = c + 330 * S;
    run(
        &mut hall,
        &mut log,
        c,
        Command::CallNext { window: 1 },
        s01.clone(),
    );
    run(
        &mut hall,
        &mut log,
        c + 60 * S,
        Command::Recall { window: 1 },
        s01.clone(),
    );
    run(
        &mut hall,
        &mut log,
        c + 120 * S,
        Command::NoShow { window: 1 },
        s01.clone(),
    );
    // The supervisor summons s03 to window 2; s03 arrives 90 s later.
    let c = c + 200 * S;
    run(
        &mut hall,
        &mut log,
        c,
        Command::OpenWindow {
            window: 2,
            staff: "s03".into(),
        },
        Actor::Supervisor,
    );
    run(
        &mut hall,
        &mut log,
        c + 90 * S,
        Command::Login {
            staff: "s03".into(),
            window: 2,
        },
        Actor::Staff("s03".into()),
    );

    let day = DayLog::from_events(&log, 0, tz, |c| frame.is_pooled(&cfg, c));
    let k = (10 * 60 * 60 * S / SLOT_MS) as usize;
    assert_eq!(day.arrivals[k], 1.0, "10:01 falls in the 10:00 half-hour");
    assert_eq!(
        day.arrivals[k + 1],
        1.0,
        "10:40 in the 10:30 one; market not planned"
    );
    assert_eq!(day.arrivals.iter().sum::<f64>(), 2.0);
    assert_eq!(day.served, 2);
    // 30 s walk + 300 s handling + 120 s waiting for the no-show.
    assert!((day.work_s - 450.0).abs() < 1e-6, "{}", day.work_s);
    assert_eq!((day.summons, day.summons_s), (1, 90.0));

    let mut h = History::new(4);
    h.push(day);
    assert_eq!(h.work_per_citizen_s(), Some(225.0));
    assert_eq!(h.summon_lead_s(), Some(90.0));
    let plan = frame.plan(&h, 0, 0, 48, 48).expect("history");
    assert_eq!(plan.windows.len(), 48);
    assert!(
        plan.windows[k] >= frame.min + frame.specialist,
        "open half-hours get at least the minimum plus the specialists"
    );
}

#[test]
fn opening_hours_become_half_hour_slots_and_a_closed_day_has_none() {
    let mut cfg = hallcall_core::demo::demo_hall();
    assert_eq!(Frame::open_slots(&cfg, 0), Some((0, 48)));
    cfg.open_hours = vec![hallcall_core::time::TimeRange::parse("08:30-17:45").expect("range")];
    cfg.open_days.retain(|d| d.index() < 5);
    assert_eq!(Frame::open_slots(&cfg, 2), Some((17, 36)));
    assert_eq!(Frame::open_slots(&cfg, 6), None);
    let f = Frame::of(&cfg);
    assert_eq!((f.specialist, f.max), (2, 7));
    assert!(!f.is_pooled(&cfg, "market") && f.is_pooled(&cfg, "general"));
}

#[test]
fn a_lunch_closure_gets_no_windows_in_the_plan() {
    let mut cfg = hallcall_core::demo::demo_hall();
    cfg.open_hours = ["08:30-12:00", "14:00-17:30"]
        .iter()
        .map(|r| hallcall_core::time::TimeRange::parse(r).expect("range"))
        .collect();
    let frame = Frame::of(&cfg);
    let monday = NaiveDate::from_ymd_opt(2026, 3, 2).expect("date");
    // Two Mondays of history, a ticket every half-hour while open.
    let mut days = Vec::new();
    for back in [7u64, 14] {
        let date = monday - chrono::Days::new(back);
        let mut hall = Hall::new(cfg.clone());
        let mut log = Vec::new();
        let t0 = instant_of(cfg.timezone, date, 0);
        log.extend(hall.handle_timeout(t0 + S));
        for k in 0..48i64 {
            if Frame::slot_open(&cfg, k as usize) {
                // The last half-hour before each close takes no tickets.
                let at = t0 + k * SLOT_MS + 60 * S;
                let cmd = issue("general", &format!("{back}-{k}"));
                if let Ok(evs) = hall.handle(cmd, Actor::Kiosk, at) {
                    log.extend(evs);
                }
            }
        }
        days.push((date, log));
    }
    // Work per ticket: none was served, so no plan at all.
    assert!(hallcall_forecast::day_plan(
        &cfg,
        monday,
        days.iter().map(|(d, e)| (*d, e.as_slice()))
    )
    .is_none());
    // With work: serve one ticket each day.
    for (date, log) in &mut days {
        let mut hall = Hall::new(cfg.clone());
        for e in log.iter() {
            hall.apply(e);
        }
        let t = instant_of(cfg.timezone, *date, 16 * 60);
        let s01 = Actor::Staff("s01".into());
        run(
            &mut hall,
            log,
            t,
            Command::Login {
                staff: "s01".into(),
                window: 1,
            },
            s01.clone(),
        );
        run(
            &mut hall,
            log,
            t + S,
            Command::CallNext { window: 1 },
            s01.clone(),
        );
        run(
            &mut hall,
            log,
            t + 20 * S,
            Command::Start { window: 1 },
            s01.clone(),
        );
        run(
            &mut hall,
            log,
            t + 620 * S,
            Command::Complete { window: 1 },
            s01,
        );
    }
    let (windows, lead) =
        hallcall_forecast::day_plan(&cfg, monday, days.iter().map(|(d, e)| (*d, e.as_slice())))
            .expect("a plan");
    assert_eq!(
        lead,
        hallcall_forecast::DEFAULT_LEAD_S,
        "no summons in the history"
    );
    let slot = |h: i64, m: i64| ((h * 60 + m) * 60_000 / SLOT_MS) as usize;
    assert_eq!(windows[slot(8, 0)], 0, "before opening");
    assert!(
        windows[slot(9, 0)] > frame.specialist,
        "open in the morning: {windows:?}"
    );
    assert_eq!(windows[slot(12, 0)], 0, "lunch: {windows:?}");
    assert_eq!(windows[slot(13, 30)], 0, "lunch: {windows:?}");
    assert!(windows[slot(14, 0)] > 0, "open again: {windows:?}");
    assert_eq!(windows[slot(17, 30)], 0, "closed: {windows:?}");
}
