//! Tidal mode `plan` in `hallcall serve` (issue 18 item 2): a hall whose
//! log holds two weeks of history gets today's staffing plan at start,
//! forecast from that log, and the core summons a tidal window ahead of the
//! forecast peak (through the tidal summons path); the public view carries
//! the plan beside the windows open.

mod support;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use hallcall_core::config::TidalMode;
use hallcall_core::time::{instant_of, local, parse_rfc3339};
use hallcall_core::{Actor, Channel, Command, Event, Hall, HallConfig, Millis, Priority};
use hallcall_store::{Store, StoreOptions};
use serde_json::Value;
use support::*;

const S: Millis = 1000;
const MIN: Millis = 60 * S;
const HALF: Millis = 30 * MIN;

/// A time zone where it is now between 04:00 and 18:00, so that the peak
/// half-hours after now are still today.
fn daytime_zone() -> chrono_tz::Tz {
    let now = hallcall_server::hall_task::now_ms();
    [
        chrono_tz::Asia::Shanghai,
        chrono_tz::Europe::London,
        chrono_tz::America::New_York,
        chrono_tz::Pacific::Auckland,
        chrono_tz::America::Los_Angeles,
    ]
    .into_iter()
    .find(|tz| (4..18).contains(&(local(*tz, now).minute / 60)))
    .expect("one of five zones is in daytime")
}

fn hall(tz: chrono_tz::Tz) -> HallConfig {
    let mut h = demo_hall_with_pins();
    h.timezone = tz;
    h.tidal.mode = TidalMode::Plan;
    // Summoned clerks take 40 minutes here (a lead longer than a
    // half-hour, so the summons at start is for a coming half-hour).
    h.summon_timeout_s = 3600;
    // The reactive safety net stays out of the way: every summons here is
    // the supervisor's (in the history) or the plan's (today).
    h.tidal.open_wait_s = 86_400;
    h.tidal.open_per_window = 1000.0;
    h
}

fn run(hall: &mut Hall, log: &mut Vec<Event>, at: Millis, cmd: Command, by: Actor) {
    let evs = hall
        .handle(cmd.clone(), by, at)
        .unwrap_or_else(|e| panic!("{cmd:?} at {at}: {e}"));
    log.extend(evs);
}

/// One past day: a ticket in half-hour `k`, twelve in each of `k+1..=k+3`
/// (the peak), all served at windows 1-5 (30 s walk, 10 min handling), and
/// a summons to tidal window 8 answered 40 minutes later.
fn history_day(hall: &mut Hall, log: &mut Vec<Event>, date: NaiveDate, k: i64) {
    let tz = hall.config().timezone;
    let midnight = instant_of(tz, date, 0);
    log.extend(hall.handle_timeout(midnight + S));
    let mut t = midnight + k * HALF + MIN;
    let clerks = ["s01", "s03", "s05", "s07", "s09"];
    for (i, s) in clerks.iter().enumerate() {
        let login = Command::Login {
            staff: (*s).into(),
            window: i as u32 + 1,
        };
        run(hall, log, t, login, Actor::Staff((*s).into()));
    }
    let issue = |n: String| Command::IssueTicket {
        id: n,
        category: "general".into(),
        priority: Priority::Normal,
        channel: Channel::Kiosk,
        appointment_code: None,
    };
    t += MIN;
    run(hall, log, t, issue(format!("{date}-k")), Actor::Kiosk);
    for slot in 1..=3 {
        for i in 0..12 {
            let at = midnight + (k + slot) * HALF + i * 2 * MIN;
            run(
                hall,
                log,
                at,
                issue(format!("{date}-{slot}-{i}")),
                Actor::Kiosk,
            );
        }
    }
    t = midnight + (k + 3) * HALF + 25 * MIN;
    for _round in 0..8 {
        for (i, s) in clerks.iter().enumerate() {
            let w = i as u32 + 1;
            let by = Actor::Staff((*s).into());
            let evs = hall
                .handle(Command::CallNext { window: w }, by.clone(), t)
                .expect("call");
            if evs.is_empty() {
                continue;
            }
            log.extend(evs);
            run(
                hall,
                log,
                t + 30 * S,
                Command::Start { window: w },
                by.clone(),
            );
            run(hall, log, t + 630 * S, Command::Complete { window: w }, by);
        }
        t += 640 * S;
    }
    let open = Command::OpenWindow {
        window: 8,
        staff: "s06".into(),
    };
    run(hall, log, t, open, Actor::Supervisor);
    let login = Command::Login {
        staff: "s06".into(),
        window: 8,
    };
    run(hall, log, t + 40 * MIN, login, Actor::Staff("s06".into()));
}

async fn write_history(dir: &std::path::Path, cfg: &HallConfig, today: NaiveDate, k: i64) {
    let db = dir.join("db");
    let _ = std::fs::remove_dir_all(&db);
    let store = Store::open(&db, StoreOptions::default()).expect("open store");
    let mut hall = Hall::new(cfg.clone());
    for back in (1..=14u64).rev() {
        let mut log = Vec::new();
        let date = today - chrono::Days::new(back);
        history_day(&mut hall, &mut log, date, k);
        store.append(&cfg.id, log).await.expect("append history");
    }
    store.shutdown().await;
}

fn slot_of(view: &Value, at: Millis) -> Option<&Value> {
    view["staffing_plan"]["slots"].as_array()?.iter().find(|s| {
        let start = s["at"]
            .as_str()
            .and_then(parse_rfc3339)
            .unwrap_or(Millis::MIN);
        start <= at && at < start + HALF
    })
}

#[tokio::test]
async fn a_hall_in_plan_mode_gets_its_plan_from_its_log_and_summons_ahead_of_the_peak() {
    let tz = daytime_zone();
    let cfg = hall(tz);
    let mut server = Server::start_with(ServerOptions {
        hall: Some(cfg.clone()),
        ..ServerOptions::default()
    })
    .await;
    assert!(
        server.state().await.get("staffing_plan").is_none(),
        "no history, no plan"
    );
    server.kill();
    let now = local(tz, hallcall_server::hall_task::now_ms());
    let k = now.ms_of_day / HALF;
    write_history(&server.data_path(), &cfg, now.date, k).await;
    server.restart().await;

    let deadline = Instant::now() + PATIENCE;
    let (view, window) = loop {
        let view = server.state().await;
        let summoned = view["windows"]
            .as_array()
            .and_then(|ws| ws.iter().find(|w| !w["summons"].is_null()).cloned());
        if let (Some(w), false) = (summoned, view["staffing_plan"].is_null()) {
            break (view, w);
        }
        assert!(
            Instant::now() < deadline,
            "no plan or no summons: plan {} open {}\n{}",
            view["staffing_plan"],
            view["load"],
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let plan = &view["staffing_plan"];
    assert_eq!(
        plan["lead_s"], 2400,
        "the lead is how long summoned clerks took: {plan}"
    );
    let summons = &window["summons"];
    assert_eq!(window["kind"], "tidal", "{window}");
    assert_eq!(summons["reason"]["code"], "staffing_plan", "{summons}");
    let since = summons["since"]
        .as_str()
        .and_then(parse_rfc3339)
        .expect("since");
    let planned_now = slot_of(&view, since).expect("the current half-hour is planned")["planned"]
        .as_u64()
        .expect("planned");
    let peak = summons["reason"]["planned"].as_u64().expect("planned");
    assert!(
        peak > planned_now,
        "summoned for the coming peak ({peak} windows) while this half-hour needs {planned_now}: {plan}"
    );
    let ahead = slot_of(&view, since + 2400 * S).expect("the half-hour a lead ahead")["planned"]
        .as_u64()
        .expect("planned");
    assert_eq!(
        peak, ahead,
        "the summons is for the half-hour a lead ahead: {plan}"
    );
    assert!(
        slot_of(&view, since).expect("now")["staffed"].is_u64(),
        "the half-hour under way shows what is staffed: {plan}"
    );
    assert!(
        slot_of(&view, since + 2 * HALF).expect("later")["staffed"].is_null(),
        "the future has nothing staffed yet: {plan}"
    );
    let log = server.log_tail();
    assert!(log.contains("staffing plan set"), "{log}");
}
