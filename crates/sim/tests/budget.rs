//! The engine's defensive bound: a day that does not come to its end within
//! its event budget is an error naming the event it was stuck on, never a
//! hang (issue 18). A budget far below a real day's trips it on purpose.

use hallcall_sim::{simulate, SimError, Simulation};

#[test]
fn a_day_over_its_event_budget_is_an_error_naming_the_event() {
    let mut sim = Simulation::demo(1, 1);
    sim.engine.day_budget = Some(500);
    match simulate(&sim, None) {
        Err(e @ SimError::Stuck { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("stuck at") && text.contains("on event"),
                "{text}"
            );
            assert!(text.contains("more than 500 events"), "{text}");
        }
        other => panic!("expected a stuck-day error, got {other:?}"),
    }
    // The default budget leaves a real day alone.
    sim.engine.day_budget = None;
    simulate(&sim, None).expect("a town-centre day fits its budget");
}
