//! Operations: consistent backups while the hall runs, restore, and the
//! systemd unit. A running server owns its data directory (the store's lock),
//! so `hallcall backup` asks it with SIGUSR1 to write the backup itself; when
//! no server runs, the command opens the store and writes it directly.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hallcall_store::{Store, StoreError, StoreOptions};

/// Where a server writes the backups it is asked for.
pub fn backups_dir(data: &Path) -> PathBuf {
    data.join("backups")
}

/// The file naming the newest backup, written after it is complete.
fn latest_file(data: &Path) -> PathBuf {
    backups_dir(data).join("LATEST")
}

fn stamp() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string()
}

/// Writes a backup of a running store into `data/backups/<time>` and records
/// it in `LATEST`.
pub fn backup_running(store: &Store, data: &Path) -> Result<PathBuf, String> {
    let to = backups_dir(data).join(stamp());
    store.backup(&to).map_err(|e| e.to_string())?;
    std::fs::write(latest_file(data), to.display().to_string()).map_err(|e| e.to_string())?;
    Ok(to)
}

/// Serves SIGUSR1: a backup on request, logged with its path.
pub async fn backup_on_sigusr1(store: Store, data: PathBuf) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut usr1) = signal(SignalKind::user_defined1()) else {
            return;
        };
        while usr1.recv().await.is_some() {
            let (s, d) = (store.clone(), data.clone());
            match tokio::task::spawn_blocking(move || backup_running(&s, &d)).await {
                Ok(Ok(path)) => tracing::info!(path = %path.display(), "backup written"),
                Ok(Err(e)) => tracing::error!(error = %e, "backup failed"),
                Err(e) => tracing::error!(error = %e, "backup task failed"),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (store, data);
}

#[derive(clap::Args, Debug, Clone)]
pub struct BackupArgs {
    /// The server's data directory.
    #[arg(long, default_value = "./hallcall-data")]
    pub data: PathBuf,
    /// Where to write the backup when no server is running (default: DATA/backups/<time>).
    /// A running server always writes into DATA/backups/.
    #[arg(long)]
    pub to: Option<PathBuf>,
}

#[derive(clap::Args, Debug, Clone)]
pub struct RestoreArgs {
    /// A backup directory made by `hallcall backup`.
    #[arg(long)]
    pub from: PathBuf,
    /// A new (or empty) data directory to start `hallcall serve --data` on.
    #[arg(long)]
    pub data: PathBuf,
}

/// `hallcall backup`.
pub fn backup_main(args: BackupArgs) -> std::process::ExitCode {
    let db = args.data.join("db");
    match Store::open(&db, StoreOptions::default()) {
        Ok(store) => {
            let to = args
                .to
                .unwrap_or_else(|| backups_dir(&args.data).join(stamp()));
            let result = store.backup(&to);
            drop(store);
            match result {
                Ok(()) => {
                    println!("{}", to.display());
                    std::process::ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("hallcall backup: {e}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        Err(StoreError::Locked { .. }) => match ask_running_server(&args.data, &db) {
            Ok(path) => {
                println!("{path}");
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("hallcall backup: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("hallcall backup: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Signals the server holding the store and waits for its backup.
fn ask_running_server(data: &Path, db: &Path) -> Result<String, String> {
    let pid: i32 = std::fs::read_to_string(db.join("LOCK"))
        .map_err(|e| format!("the data directory is in use, and its LOCK file is unreadable: {e}"))?
        .trim()
        .parse()
        .map_err(|_| {
            "the data directory is in use by a process whose pid is not recorded".to_string()
        })?;
    let before = std::fs::read_to_string(latest_file(data)).ok();
    #[cfg(unix)]
    {
        // SAFETY: kill only sends a signal to the pid named in the lock file.
        if unsafe { libc::kill(pid, libc::SIGUSR1) } != 0 {
            return Err(format!(
                "cannot signal the server (pid {pid}): {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(now) = std::fs::read_to_string(latest_file(data)) {
            if Some(&now) != before.as_ref() {
                return Ok(now);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "the server (pid {pid}) wrote no backup within 120 s; see its log"
    ))
}

/// `hallcall restore`.
pub fn restore_main(args: RestoreArgs) -> std::process::ExitCode {
    match Store::restore(&args.from, &args.data.join("db")) {
        Ok(()) => {
            println!(
                "restored {} into {}; start it with: hallcall serve --data {}",
                args.from.display(),
                args.data.display(),
                args.data.display()
            );
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hallcall restore: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
