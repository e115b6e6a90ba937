//! `hallcall simulate` without building the whole server binary:
//! `cargo run --release -p hallcall-sim --example simulate -- --days 250`.

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "simulate",
    about = "Run simulated days through the hallcall core and compare staffing policies"
)]
struct Cli {
    #[command(flatten)]
    args: hallcall_sim::SimulateArgs,
}

fn main() -> std::process::ExitCode {
    hallcall_sim::run(Cli::parse().args)
}
