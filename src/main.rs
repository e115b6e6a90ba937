//! The `hallcall` binary: one executable for the server, the announcer, the
//! simulator and the operator's tools. Each subcommand is a thin shell over a
//! crate in `crates/`.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "hallcall", version, about = "排队叫号系统 — queue management for government service halls")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Validate a configuration file and print its halls.
    CheckConfig { file: std::path::PathBuf },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Cmd::CheckConfig { file } => {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("{}: {e}", file.display());
                    return std::process::ExitCode::from(2);
                }
            };
            match hallcall_core::Config::from_toml(&text) {
                Ok(cfg) => {
                    for h in &cfg.halls {
                        println!("{}: {} ({} categories, {} windows, {} staff)", h.id, h.name, h.categories.len(), h.windows.len(), h.staff.len());
                    }
                    std::process::ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{}: {e}", file.display());
                    std::process::ExitCode::from(1)
                }
            }
        }
    }
}
