//! hallcall-sim (skeleton; being written).
/// Arguments of `hallcall simulate`.
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}
pub fn run(_args: SimulateArgs) -> std::process::ExitCode {
    std::process::ExitCode::FAILURE
}
