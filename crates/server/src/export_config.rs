//! `hallcall export-config --config FILE`: the halls' current configuration
//! as TOML — the file's `[server]` section and, for each of its halls, the
//! configuration the hall has now (the file as adopted plus the supervisor's
//! edits from the browser, replayed from the store). What an operator puts
//! back into the file so that the file and the hall agree again (see
//! `crate::adopted` for which wins when they differ).
//!
//! It opens the store, so with sled the server must be stopped (sled allows
//! one process); with PostgreSQL (`--store`) it may run. The output holds PIN
//! hashes and tokens: keep it as private as the file.

use std::path::PathBuf;

use hallcall_core::config::Config;
use hallcall_store::{Store, StoreOptions};

#[derive(clap::Args, Debug, Clone)]
pub struct ExportConfigArgs {
    /// The configuration file the server runs with.
    #[arg(long)]
    pub config: PathBuf,
    /// The data directory (default: the file's `[server] data`).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// `postgres://…` when the halls are stored in PostgreSQL.
    #[arg(long)]
    pub store: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// The TOML text of the halls' current configuration.
pub fn export(args: &ExportConfigArgs) -> Result<String, String> {
    let file = crate::config_file::load(&args.config).map_err(|e| e.to_string())?;
    let data = args
        .data
        .clone()
        .unwrap_or_else(|| PathBuf::from(&file.server.data));
    let store = match &args.store {
        Some(url) => Store::open_location(url, StoreOptions::default()),
        None => Store::open(&data.join("db"), StoreOptions::default()),
    }
    .map_err(|e| format!("{e} (with sled, stop the server first: one process at a time)"))?;
    let mut halls = Vec::with_capacity(file.halls.len());
    for hc in &file.halls {
        let hall = store.recover(hc.clone()).map_err(|e| e.to_string())?;
        halls.push(hall.config().clone());
    }
    let out = Config {
        server: file.server.clone(),
        halls,
    };
    let body = toml::to_string(&out).map_err(|e| format!("cannot write TOML: {e}"))?;
    // What is written must read back as the same configuration.
    let back =
        Config::from_toml(&body).map_err(|e| format!("the export does not read back: {e}"))?;
    if back != out {
        return Err("the export does not read back as the same configuration".into());
    }
    Ok(format!(
        "# Written by `hallcall export-config`: each hall's configuration as it is now,\n# the supervisor's browser edits included. It holds PIN hashes and tokens: keep it private.\n\n{body}"
    ))
}

/// `hallcall export-config`.
pub fn export_config_main(args: ExportConfigArgs) -> std::process::ExitCode {
    match export(&args) {
        Ok(text) => {
            let written = match &args.output {
                Some(p) => std::fs::write(p, text).map_err(|e| e.to_string()),
                None => {
                    print!("{text}");
                    Ok(())
                }
            };
            match written {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hallcall export-config: {e}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("hallcall export-config: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
