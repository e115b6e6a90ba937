#[test]
fn speed() {
    for (c, rho) in [(1u32, 0.9f64), (10, 0.9)] {
        let t = std::time::Instant::now();
        let r = hallcall_sim::mmc::run(c, rho, 100_000, 1);
        eprintln!("{r:?} {:?}/customer", t.elapsed() / 100_000);
    }
}
