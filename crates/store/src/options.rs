//! [`StoreOptions`]: the tunables, with the defaults the server uses.

use std::time::Duration;

/// The store format this build writes and the newest it reads. 3: snapshots
/// are files of their own (`crate::snapfile`), no longer records of the
/// `snap` tree, which format 3 still reads until a file supersedes each.
/// 2: a log record holds one command, possibly several events
/// (`crate::log`); 1 held one event per record, which formats 2 and 3 read
/// as it is. An older directory is marked 3 when this build opens it
/// (nothing else is rewritten), so an older build then refuses it as newer
/// instead of recovering without the snapshots it cannot see.
pub const FORMAT_VERSION: u32 = 3;

/// sled's page cache by default: 4 MiB (256 MiB until issue 14, which a
/// hall server filled in under an hour of busy traffic and then kept; then
/// 64 MiB, which the 10-minute soak of 100 halls was still filling: the
/// events and snapshots just written stay in it). The hot path only appends
/// and reads back what it just wrote; older days, statistics and recovery
/// read through the OS page cache. Soak growth per ticket over 10 minutes:
/// 1,539 bytes at 8 MiB, 1,244 at 4 MiB while snapshots were sled records,
/// 617–698 once they became files (format 3); `cargo bench --bench store`
/// holds at 4 and 8 against 64 MiB: BENCHMARKS.md, "Soak".
pub const DEFAULT_CACHE_BYTES: u64 = 4 * 1024 * 1024;

/// The environment variable that sets sled's page cache, in MiB.
pub const CACHE_ENV: &str = "HALLCALL_STORE_CACHE_MB";

/// `HALLCALL_STORE_CACHE_MB` as bytes, if set to a whole number of MiB
/// (1 … 65,536); anything else is `Err` naming the value, so a typo does
/// not silently run with the default.
pub fn cache_bytes_from_env() -> Result<Option<u64>, String> {
    match std::env::var(CACHE_ENV) {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(v)) => {
            Err(format!("{CACHE_ENV}={v:?} is not a number of MiB"))
        }
        Ok(v) => parse_cache_mb(&v).map(Some),
    }
}

/// A number of MiB (1 … 65,536) as bytes.
fn parse_cache_mb(v: &str) -> Result<u64, String> {
    match v.trim().parse::<u64>() {
        Ok(mb) if (1..=65_536).contains(&mb) => Ok(mb * 1024 * 1024),
        _ => Err(format!(
            "{CACHE_ENV}={v:?} is not a number of MiB between 1 and 65536"
        )),
    }
}

/// Tunables; [`StoreOptions::default`] is what the server uses.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Snapshot a hall after this many events since its last snapshot: this
    /// bounds recovery (the latest snapshot plus at most this many events).
    pub snapshot_every_events: u64,
    /// … or after this long, if anything changed. Default 10 minutes (it was
    /// 60 s): a snapshot holds all of the day's tickets, so writing one per
    /// hall every minute rewrote a growing value through sled all day (a
    /// hall at 2 commands/s reaches 1,000 events only every ~10 minutes, so
    /// the timer, not the count, set the pace). In the 10-minute soak
    /// (BENCHMARKS.md, "Soak") 600 s took the memory growth from 1,882 to
    /// 1,539 bytes a ticket (−18 %). Recovery
    /// is still bounded by `snapshot_every_events`; a quieter hall replays
    /// fewer events than that, which costs microseconds each.
    pub snapshot_every: Duration,
    /// How far behind the newest event a WebSocket client may resume with
    /// missed events; retention never deletes inside this window.
    pub resume_window: u64,
    /// Business days of events kept for statistics and audit before the
    /// newest day; `None` keeps everything.
    pub retention_days: Option<u32>,
    /// Retention runs at most this often per hall.
    pub compact_every: Duration,
    /// Most queued jobs written by one flush.
    pub max_group: usize,
    /// sled's page cache, bytes (sled's `cache_capacity`). sled counts
    /// pages at their serialised size, so the memory it holds for them is
    /// larger than this, and it keeps more than the cache (one page-table
    /// entry per page; BENCHMARKS.md, memory model). A busy hall's day of
    /// events is about 2 MiB serialised; reads beyond the cache (old days,
    /// statistics) go to the OS page cache. The environment variable
    /// `HALLCALL_STORE_CACHE_MB`, if set, replaces it when a sled store
    /// opens (see [`cache_bytes_from_env`]).
    pub cache_bytes: u64,
    /// PostgreSQL only: the schema that holds hallcall's tables, created if
    /// missing (lower-case letters, digits, `_`); `None` uses the
    /// connection's `search_path` (normally `public`). Lets several
    /// deployments, or tests, share one database.
    pub pg_schema: Option<String>,
    /// PostgreSQL only, several nodes: this node's id. When set, every
    /// append is fenced by the hall's lease — the group statement writes a
    /// hall's events only while `leases` names this node for it, unexpired,
    /// holding a share lock on that row until it commits — and each commit
    /// wakes the other nodes' tails with `NOTIFY hallcall_events`. `None`
    /// (one node): no lease is checked.
    pub pg_node: Option<String>,
    /// Fault injection, for tests of a full disk without filling one (sled
    /// only): while this file exists, every group commit writes its records
    /// and then fails as a flush on a full disk does. `None` in production.
    pub fail_writes_while: Option<std::path::PathBuf>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            snapshot_every_events: 1_000,
            snapshot_every: Duration::from_secs(600),
            resume_window: 10_000,
            retention_days: Some(400),
            compact_every: Duration::from_secs(600),
            max_group: 16_384,
            cache_bytes: DEFAULT_CACHE_BYTES,
            pg_schema: None,
            pg_node: None,
            fail_writes_while: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_cache_mb;

    #[test]
    fn cache_mb_is_whole_mib_in_range() {
        assert_eq!(parse_cache_mb("64"), Ok(64 * 1024 * 1024));
        assert_eq!(parse_cache_mb(" 8 "), Ok(8 * 1024 * 1024));
        for bad in ["0", "-1", "8M", "", "65537", "1.5"] {
            let e = parse_cache_mb(bad).expect_err(bad);
            assert!(e.contains("HALLCALL_STORE_CACHE_MB"), "{e}");
        }
    }
}
