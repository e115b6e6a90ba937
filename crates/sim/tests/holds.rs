//! 不排了 and 挂起 in the simulator: citizens who give up cancel through the
//! core, clerks hold services and call the citizens back with `call
//! {number}`, the report counts both, and a profile without them meets the
//! same citizens as before (their draws come from a stream of their own).

use hallcall_sim::{simulate, Policy, Simulation};

fn one_day(cancel_share: f64, hold_share: f64) -> hallcall_sim::report::Report {
    let mut sim = Simulation::demo(1, 11);
    sim.policies = vec![Policy::Tidal];
    sim.profile.cancel_share = cancel_share;
    sim.profile.hold_share = hold_share;
    simulate(&sim, None).expect("runs")
}

#[test]
fn cancels_and_holds_go_through_the_core_and_show_in_the_report() {
    let plain = one_day(0.0, 0.0);
    let p0 = &plain.policies[0];
    assert_eq!((p0.cancelled, p0.holds), (0, 0));
    assert!(!plain.table().contains("不排了"), "{}", plain.table());

    let r = one_day(0.1, 0.1);
    let p = &r.policies[0];
    assert_eq!(p.refused, 0, "{:?}", p.first_refusals);
    assert_eq!(
        p.tickets_per_day, p0.tickets_per_day,
        "the same citizens arrive"
    );
    assert!(p.cancelled > 0, "nobody cancelled: {p:?}");
    assert!(p.holds > 20, "a tenth of ~600 services held: {}", p.holds);
    assert!(p.holds_called_back > 0, "nobody called back");
    assert!(p.holds_called_back + p.holds_expired <= p.holds);
    println!("{}", r.table());
    let table = r.table();
    assert!(
        table.contains("cancelled (不排了") && table.contains("held (挂起"),
        "{table}"
    );
    let json = serde_json::to_value(&r).expect("serialises");
    assert_eq!(json["policies"][0]["holds"], p.holds);
    assert_eq!(json["policies"][0]["cancelled"], p.cancelled);
}
