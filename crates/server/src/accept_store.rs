//! `hallcall accept-store DIR`: the operator's answer to a data directory
//! refused because its `COMMIT` record is missing (issue 14 item 5). The
//! refusal exists because such a database may have been rolled back (a disk
//! image restored, files copied from an older state) and would otherwise
//! start silently at an older seq, issuing numbers a second time; only a
//! person can say the data is what they want. This command records that
//! decision and prints, per hall, the seq the hall will continue from.

use std::path::PathBuf;

use hallcall_store::Store;

#[derive(clap::Args, Debug, Clone)]
pub struct AcceptStoreArgs {
    /// The store directory the refusal named (or the `--data` directory
    /// that holds it as `db/`).
    pub dir: PathBuf,
}

/// `hallcall accept-store`.
pub fn accept_store_main(args: AcceptStoreArgs) -> std::process::ExitCode {
    let dir = if args.dir.join("db").join("FORMAT").is_file() {
        args.dir.join("db")
    } else {
        args.dir
    };
    match Store::accept_as_is(&dir) {
        Ok(halls) => {
            println!("accepted {} as it is:", dir.display());
            for (hall, seq) in halls {
                println!("  hall {hall}: continues after seq {seq}");
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hallcall accept-store: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
