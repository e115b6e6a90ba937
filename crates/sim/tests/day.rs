//! A simulated town-centre day through the real core: every policy meets the
//! same citizens, the core refuses nothing the simulated people do, breaks
//! produce AB handovers and failovers, and the tidal policy opens windows.

use hallcall_sim::{simulate, Policy, Simulation};

#[test]
fn a_town_centre_day_runs_every_policy_on_the_same_citizens() {
    let sim = Simulation::demo(2, 7);
    let r = simulate(&sim, None).expect("runs");
    assert_eq!(r.policies.len(), 4);
    let tickets = r.policies[0].tickets_per_day;
    assert!((500.0..700.0).contains(&tickets), "{tickets} tickets a day");
    for p in &r.policies {
        assert_eq!(
            p.tickets_per_day,
            tickets,
            "{}: common random numbers",
            p.policy.name()
        );
        assert_eq!(p.refused, 0, "{}: {:?}", p.policy.name(), p.first_refusals);
        assert!(p.served > 0 && p.mean_wait_s > 0.0 && p.p90_wait_s >= p.mean_wait_s * 0.5);
        assert!(
            p.handovers_per_day > 0.0,
            "{}: breaks hand windows to the B post",
            p.policy.name()
        );
        assert!(!p.series.waiting.is_empty());
    }
    let find = |x: Policy| r.policies.iter().find(|p| p.policy == x).expect("ran");
    assert!(
        find(Policy::Tidal).tidal_opens_per_day > 0.0,
        "a busy day opens tidal windows"
    );
    assert_eq!(find(Policy::StaticBase).tidal_opens_per_day, 0.0);
    assert!(
        find(Policy::StaticAll).failovers_per_day > 0.0,
        "no B post left: breaks fail over"
    );
    assert!(
        find(Policy::StaticAll).window_hours_per_day
            > find(Policy::StaticBase).window_hours_per_day,
        "static-all staffs more"
    );
}

#[test]
fn the_same_seed_gives_the_same_report_and_the_chart_renders() {
    let mut sim = Simulation::demo(1, 3);
    sim.policies = vec![Policy::Tidal, Policy::StaticBase];
    let a = simulate(&sim, None).expect("runs");
    let b = simulate(&sim, None).expect("runs");
    for (x, y) in a.policies.iter().zip(&b.policies) {
        assert_eq!(x.mean_wait_s, y.mean_wait_s);
        assert_eq!(x.window_hours_per_day, y.window_hours_per_day);
        assert_eq!(x.core_events, y.core_events);
    }
    let svg = hallcall_sim::chart::svg(&a).expect("renders");
    assert!(svg.starts_with("<svg") && svg.contains("tidal") && svg.contains("static-base"));
    let json = serde_json::to_value(&a).expect("serialises");
    assert_eq!(json["policies"][0]["policy"], "tidal");
    assert!(a.table().contains("tidal"));
}

#[test]
fn a_configuration_file_and_a_profile_file_are_used() {
    let dir = std::env::temp_dir().join(format!("hallcall-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut hall = hallcall_core::demo::demo_hall();
    hall.id = "town".into();
    let cfg = hallcall_core::Config {
        server: Default::default(),
        halls: vec![hall],
    };
    let cfg_path = dir.join("hall.toml");
    std::fs::write(&cfg_path, toml::to_string(&cfg).expect("toml")).expect("write");
    let mut profile = hallcall_sim::Profile::town_centre();
    profile.name = "quiet".into();
    profile.scale_to(200.0);
    let profile_path = dir.join("quiet.toml");
    std::fs::write(&profile_path, toml::to_string(&profile).expect("toml")).expect("write");
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
        "--policies",
        "tidal",
        "--open-wait",
        "600",
    ]);
    let sim = hallcall_sim::resolve(&cli.args).expect("resolves");
    assert_eq!(sim.hall.id, "town");
    assert_eq!(sim.hall.tidal.open_wait_s, 600);
    assert_eq!(sim.profile.name, "quiet");
    let r = simulate(&sim, None).expect("runs");
    assert!(r.policies[0].tickets_per_day < 300.0);
    let bad = Cli::parse_from(["simulate", "--config", "/nonexistent/hall.toml"]);
    let e = hallcall_sim::resolve(&bad.args).expect_err("missing file");
    assert!(e.to_string().contains("/nonexistent/hall.toml"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
