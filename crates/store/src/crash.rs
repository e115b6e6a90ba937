//! placeholder
#[derive(clap::Args, Debug)]
pub struct CrashChildArgs {
    #[arg(long)]
    pub data: std::path::PathBuf,
}
pub fn child_main(_args: CrashChildArgs) -> std::process::ExitCode {
    std::process::ExitCode::FAILURE
}
