//! Stand-alone `hallcall announce` (the real binary embeds [`AnnounceArgs`]).
//!
//!   cargo run -p hallcall-announcer --example announce -- --hall demo --server 127.0.0.1:8080 --out /tmp/ann
//!   cargo run -p hallcall-announcer --features speaker --example announce -- --hall demo --server 127.0.0.1:8080

use clap::Parser;
use hallcall_announcer::{run, AnnounceArgs};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: AnnounceArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run(Cli::parse().args.into()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
