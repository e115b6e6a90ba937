//! Issue 18, item 1: every profile and configuration either simulates or is
//! refused with a line-numbered error — a 24-hour hall over several days,
//! zero walking times, a day close at midnight. Each run is bounded: it runs
//! in a thread and a run that does not come back fails the test instead of
//! hanging CI (the engine's own event budget turns a livelock into an error
//! long before that).

use std::sync::mpsc;
use std::time::Duration;

use hallcall_core::time::TimeOfDay;
use hallcall_sim::profile::RateSegment;
use hallcall_sim::{simulate, Policy, Profile, Report, Simulation};

/// Runs `sim` in a thread; a run still going after the bound is a hang.
fn bounded(sim: Simulation) -> Report {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(simulate(&sim, None).map_err(|e| e.to_string()));
    });
    match rx.recv_timeout(Duration::from_secs(900)) {
        Ok(r) => r.expect("simulates"),
        Err(_) => panic!("the simulation did not finish: it hangs"),
    }
}

/// Open around the clock with a constant rate (the profile).
fn all_day(per_hour: f64, walk_s: f64, tidal_walk_s: f64) -> Profile {
    let mut p = Profile::town_centre();
    p.name = "24h".into();
    p.open = TimeOfDay(0);
    p.last_ticket = TimeOfDay(23 * 60 + 59);
    p.close = TimeOfDay(23 * 60 + 59);
    p.walk_s = walk_s;
    p.tidal_walk_s = tidal_walk_s;
    p.rates = vec![RateSegment {
        from: TimeOfDay(0),
        to: TimeOfDay(23 * 60 + 59),
        per_hour,
        mix: Default::default(),
    }];
    p.breaks.clear();
    p
}

/// Every citizen issued a ticket ends the day served, walked away (a no-show
/// who did not come back) or sent home — none is lost at the day close — and
/// the core refused nothing the simulated people did.
fn every_citizen_is_accounted_for(r: &Report) {
    for p in &r.policies {
        let issued = (p.tickets_per_day * f64::from(p.days)).round() as u64;
        assert!(issued > 0, "{}: nobody came", p.policy.name());
        assert_eq!(
            p.refused,
            0,
            "{}: the core refused {:?}",
            p.policy.name(),
            p.first_refusals
        );
        assert_eq!(
            p.served + p.no_shows - p.requeued + p.unserved,
            issued,
            "{}: served {} + no-shows {} - requeued {} + sent home {} != issued {issued}",
            p.policy.name(),
            p.served,
            p.no_shows,
            p.requeued,
            p.unserved
        );
    }
}

#[test]
fn a_24_hour_hall_simulates_day_after_day() {
    // The demo hall is open 00:00-24:00 with its day close at midnight.
    let mut sim = Simulation::demo(3, 18);
    sim.profile = all_day(25.0, 25.0, 90.0);
    let r = bounded(sim.clone());
    assert_eq!(r.days, 3);
    every_citizen_is_accounted_for(&r);
    // The hall: open 00:00-23:59, day_close 23:59.
    sim.hall.open_hours[0].end = TimeOfDay(23 * 60 + 59);
    sim.hall.day_close = TimeOfDay(23 * 60 + 59);
    sim.days = 2;
    for seed in [1, 2, 3] {
        sim.seed = seed;
        let r = bounded(sim.clone());
        assert_eq!(r.days, 2);
        every_citizen_is_accounted_for(&r);
    }
}

#[test]
fn zero_walking_times_simulate() {
    // The 24-hour hall (open 00:00-23:59, day_close 23:59), one day.
    let mut sim = Simulation::demo(1, 18);
    sim.hall.open_hours[0].end = TimeOfDay(23 * 60 + 59);
    sim.hall.day_close = TimeOfDay(23 * 60 + 59);
    sim.profile = all_day(60.0, 0.0, 0.0);
    for seed in [1, 2, 3] {
        sim.seed = seed;
        every_citizen_is_accounted_for(&bounded(sim.clone()));
    }
    sim.hall = hallcall_core::demo::demo_hall();
    // A town-centre day at the tidal policy's working volume, nobody walking.
    sim.profile = Profile::town_centre();
    sim.profile.walk_s = 0.0;
    sim.profile.tidal_walk_s = 0.0;
    sim.profile.scale_to(400.0);
    sim.days = 2;
    let r = bounded(sim);
    every_citizen_is_accounted_for(&r);
    let tidal = r
        .policies
        .iter()
        .find(|p| p.policy == Policy::Tidal)
        .expect("ran");
    assert!(tidal.tidal_opens_per_day > 0.0, "tidal windows still open");
}

#[test]
fn a_day_close_at_midnight_closes_after_the_day_not_before_it() {
    // `day_close = "00:00"`: the business day that opens at 08:30 ends at the
    // next midnight, not at the midnight before the opening.
    let mut sim = Simulation::demo(2, 18);
    sim.hall.day_close = TimeOfDay(0);
    let r = bounded(sim.clone());
    every_citizen_is_accounted_for(&r);
    assert!(
        r.policies.iter().all(|p| p.tickets_per_day > 500.0),
        "a full town-centre day: {:?}",
        r.policies
            .iter()
            .map(|p| p.tickets_per_day)
            .collect::<Vec<_>>()
    );
    // And around the clock, closing at midnight.
    sim.profile = all_day(25.0, 25.0, 90.0);
    every_citizen_is_accounted_for(&bounded(sim));
}

#[test]
fn a_profile_that_outlasts_the_business_day_is_refused_with_its_line() {
    let dir = std::env::temp_dir().join(format!("hallcall-sim-hang-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut hall = hallcall_core::demo::demo_hall();
    hall.day_close = TimeOfDay(18 * 60);
    let cfg = hallcall_core::Config {
        server: Default::default(),
        halls: vec![hall],
    };
    let cfg_path = dir.join("hall.toml");
    std::fs::write(&cfg_path, toml::to_string(&cfg).expect("toml")).expect("write");
    let profile_path = dir.join("late.toml");
    std::fs::write(
        &profile_path,
        "name = \"late\"\nopen = \"08:30\"\nlast_ticket = \"18:30\"\nclose = \"19:00\"\n\
         [[rate]]\nfrom = \"08:30\"\nto = \"18:30\"\nper_hour = 20\n",
    )
    .expect("write");
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: hallcall_sim::SimulateArgs,
    }
    let cli = Cli::parse_from([
        "simulate",
        "--config",
        cfg_path.to_str().expect("utf-8"),
        "--profile",
        profile_path.to_str().expect("utf-8"),
    ]);
    let e = hallcall_sim::resolve(&cli.args).expect_err("refused");
    let text = e.to_string();
    assert!(
        text.contains("late.toml:4:") && text.contains("day_close 18:00"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
