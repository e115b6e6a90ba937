//! `hallcall migrate --from DIR --to postgres://…`: moves the halls of a
//! sled data directory into PostgreSQL — each hall's latest snapshot and
//! every retained event, as stored, one transaction per hall — so an
//! existing installation can move to several nodes. The sled directory is
//! only read (stop the server first: it holds the directory's lock).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use hallcall_store::{Store, StoreOptions};

#[derive(clap::Args, Debug, Clone)]
pub struct MigrateArgs {
    /// The sled store: a server's data directory or its `db` directory.
    #[arg(long)]
    pub from: PathBuf,
    /// The PostgreSQL database (`postgres://user:pass@host:port/db`).
    #[arg(long)]
    pub to: String,
}

/// The sled store inside `dir`: `dir/db` for a server's data directory.
fn sled_dir(dir: &Path) -> PathBuf {
    let db = dir.join("db");
    if !dir.join("FORMAT").exists() && db.join("FORMAT").exists() {
        db
    } else {
        dir.to_path_buf()
    }
}

pub fn migrate_main(args: MigrateArgs) -> ExitCode {
    if !(args.to.starts_with("postgres://") || args.to.starts_with("postgresql://")) {
        eprintln!("hallcall migrate: --to must be a postgres:// URL");
        return ExitCode::from(2);
    }
    let from = sled_dir(&args.from);
    if !from.join("FORMAT").exists() {
        eprintln!(
            "hallcall migrate: {} is not a hallcall data directory (no FORMAT file)",
            from.display()
        );
        return ExitCode::from(2);
    }
    let sled = match Store::open(&from, StoreOptions::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hallcall migrate: {e}");
            return ExitCode::FAILURE;
        }
    };
    let pg = match Store::open_postgres(&args.to, StoreOptions::default()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hallcall migrate: {e}");
            return ExitCode::FAILURE;
        }
    };
    let halls = match sled.halls() {
        Ok(h) => h,
        Err(e) => {
            eprintln!("hallcall migrate: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = false;
    for hall in halls {
        let moved = sled.export(&hall).and_then(|(snap, events)| {
            let (n, last) = (events.len(), events.last().map(|e| e.seq).unwrap_or(0));
            let snap_seq = snap.as_ref().map(|(s, _)| *s);
            pg.import(&hall, snap, events).map(|()| (n, last, snap_seq))
        });
        match moved {
            Ok((n, last, snap)) => println!(
                "hall {hall}: {n} events (up to seq {last}), snapshot at seq {}",
                snap.map_or("none".to_string(), |s| s.to_string())
            ),
            Err(e) => {
                eprintln!("hall {hall}: not moved: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
