//! [`StoreOptions`]: the tunables, with the defaults the server uses.

use std::time::Duration;

/// The store format this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// Tunables; [`StoreOptions::default`] is what the server uses.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Snapshot a hall after this many events since its last snapshot.
    pub snapshot_every_events: u64,
    /// … or after this long, if anything changed.
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
    /// How long the idle writer polls for the next append before it sleeps.
    pub writer_spin: Duration,
    /// sled's page cache, bytes.
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
            snapshot_every: Duration::from_secs(60),
            resume_window: 10_000,
            retention_days: Some(400),
            compact_every: Duration::from_secs(600),
            max_group: 16_384,
            writer_spin: Duration::from_micros(200),
            cache_bytes: 256 * 1024 * 1024,
            pg_schema: None,
            pg_node: None,
            fail_writes_while: None,
        }
    }
}
