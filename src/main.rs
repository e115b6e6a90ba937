//! The `hallcall` binary: one executable for the server, the announcer, the
//! simulator and the operator's tools. Each subcommand is a thin shell over a
//! crate in `crates/`.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "hallcall",
    version,
    about = "排队叫号系统 — queue management for government service halls"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve halls: HTTP API, WebSocket events, display pages (demo hall without --config).
    Serve(hallcall_server::ServeArgs),
    /// Write a consistent backup of a data directory (asks a running server to do it).
    Backup(hallcall_server::ops::BackupArgs),
    /// Restore a backup into a new data directory.
    Restore(hallcall_server::ops::RestoreArgs),
    /// Accept a data directory refused for a missing COMMIT record, exactly as it is.
    AcceptStore(hallcall_server::accept_store::AcceptStoreArgs),
    /// Move the halls of a sled data directory into PostgreSQL (docs/scaling.md).
    Migrate(hallcall_server::cluster::migrate::MigrateArgs),
    /// Print the argon2 hash of a PIN for a [[hall.staff]] pin_hash.
    HashPin(hallcall_server::HashPinArgs),
    /// Say every call of a hall on this machine's speakers (or render WAV files).
    Announce(hallcall_announcer::AnnounceArgs),
    /// Drive the LED bars over the windows (窗口条屏) from a hall's events.
    Led(hallcall_devices::LedArgs),
    /// Write the halls' current configuration (browser edits included) as TOML.
    ExportConfig(hallcall_server::export_config::ExportConfigArgs),
    /// Validate a configuration file and print its halls.
    CheckConfig { file: std::path::PathBuf },
    /// Run simulated days through the core and compare staffing policies.
    Simulate(hallcall_sim::SimulateArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Serve(args) => runtime().block_on(hallcall_server::cli::serve_main(args)),
        Cmd::Backup(args) => hallcall_server::ops::backup_main(args),
        Cmd::Restore(args) => hallcall_server::ops::restore_main(args),
        Cmd::AcceptStore(args) => hallcall_server::accept_store::accept_store_main(args),
        Cmd::Migrate(args) => hallcall_server::cluster::migrate::migrate_main(args),
        Cmd::HashPin(args) => hallcall_server::cli::hash_pin_main(args),
        Cmd::ExportConfig(args) => hallcall_server::export_config::export_config_main(args),
        Cmd::Announce(args) => {
            hallcall_server::cli::init_tracing();
            match runtime().block_on(hallcall_announcer::run(args.into())) {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hallcall announce: {e}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        Cmd::Led(args) => {
            hallcall_server::cli::init_tracing();
            match runtime().block_on(hallcall_devices::run_led_cli(args)) {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hallcall led: {e}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        Cmd::Simulate(args) => hallcall_sim::run(args),
        Cmd::CheckConfig { file } => {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("{}: {e}", file.display());
                    return std::process::ExitCode::from(2);
                }
            };
            match hallcall_server::config_file::parse(&file.display().to_string(), &text) {
                Ok(cfg) => {
                    // Printers and voice, as `serve` checks them.
                    let pack = hallcall_announcer::VoicePack::builtin().ok();
                    for h in &cfg.halls {
                        if let Err(e) = hallcall_server::devices::check(h, pack.as_ref()) {
                            eprintln!("{}: {e}", file.display());
                            return std::process::ExitCode::from(1);
                        }
                    }
                    for h in &cfg.halls {
                        println!(
                            "{}: {} ({} categories, {} windows, {} staff)",
                            h.id,
                            h.name,
                            h.categories.len(),
                            h.windows.len(),
                            h.staff.len()
                        );
                    }
                    for w in hallcall_server::auth::pin_warnings(&cfg) {
                        println!("warning: {w}");
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

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hallcall: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    }
}
