//! The simulator's days follow the hall's calendar (issue 15 item 2): a
//! holiday in `closed_dates` is skipped, a 调休 working weekend in
//! `extra_open_dates` is simulated.

use chrono::NaiveDate;
use hallcall_core::config::Day;
use hallcall_sim::Simulation;

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).expect("date")
}

#[test]
fn simulated_days_skip_holidays_and_keep_working_weekends() {
    let mut sim = Simulation::demo(5, 1);
    sim.hall.open_days = vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];
    sim.hall.closed_dates = vec![d(10, 1), d(10, 2)]; // Thursday, Friday
    sim.hall.extra_open_dates = vec![d(10, 11)]; // Sunday
    sim.start = d(9, 30); // Wednesday
    assert_eq!(
        sim.dates(),
        [d(9, 30), d(10, 5), d(10, 6), d(10, 7), d(10, 8)],
        "5 open days from Wednesday 30 September"
    );
    sim.days = 9;
    assert!(sim.dates().contains(&d(10, 11)), "the 调休 Sunday is a day");
}
