//! Issue 18 items 2-4 in the simulator: the `plan` policy staffs to a
//! forecast made from the days before (never the day itself), learning over
//! weeks with weekday effects and day noise; the clairvoyant `bound` staffs
//! to a schedule searched on the day's own citizens; both report the planned
//! windows beside the staffed ones, deterministically.

use hallcall_sim::{simulate, Policy, Simulation};

fn weeks() -> Simulation {
    let mut sim = Simulation::demo(14, 5);
    sim.profile.scale_to(400.0);
    // Mondays busy, weekends quiet, ±10 % from day to day.
    sim.profile.weekday = vec![1.3, 1.0, 1.0, 0.95, 1.05, 0.6, 0.5];
    sim.profile.day_noise = 0.1;
    sim.policies = vec![Policy::Tidal, Policy::Plan, Policy::Bound];
    sim
}

#[test]
fn plan_and_bound_staff_to_their_schedules_and_learn_over_days() {
    let sim = weeks();
    let r = simulate(&sim, None).expect("runs");
    let find = |x: Policy| r.policies.iter().find(|p| p.policy == x).expect("ran");
    let (tidal, plan, bound) = (find(Policy::Tidal), find(Policy::Plan), find(Policy::Bound));
    for p in [plan, bound] {
        assert_eq!(p.days, 14);
        assert!(
            p.series.planned.iter().any(|&w| w > 0.0),
            "{}: a schedule was followed",
            p.policy.name()
        );
        assert_eq!(p.tickets_per_day, tidal.tickets_per_day, "same citizens");
    }
    assert!(
        tidal.series.planned.is_empty(),
        "tidal has no schedule to chart"
    );
    assert!(plan.window_hours_per_day > 0.0 && bound.window_hours_per_day > 0.0);
    let again = simulate(&sim, None).expect("runs");
    for (a, b) in r.policies.iter().zip(&again.policies) {
        assert_eq!(
            a.p90_wait_s,
            b.p90_wait_s,
            "{}: deterministic",
            a.policy.name()
        );
        assert_eq!(a.window_hours_per_day, b.window_hours_per_day);
    }
    let svg = hallcall_sim::chart::svg(&r).expect("renders");
    assert!(svg.contains("plan (planned)") && svg.contains("bound (planned)"));
}

#[test]
fn weekday_effects_and_noise_change_the_days_but_not_across_policies() {
    let sim = weeks();
    let d = hallcall_sim::Demand::new(&sim.profile, &sim.hall).expect("fits");
    let monday = d.day_on(5, 0, Some(0)).arrivals.len();
    let sunday = d.day_on(5, 0, Some(6)).arrivals.len();
    assert!(
        monday > sunday * 2,
        "{monday} on Monday, {sunday} on Sunday"
    );
    assert_eq!(
        d.day_on(5, 3, Some(2)).arrivals,
        d.day_on(5, 3, Some(2)).arrivals
    );
}
