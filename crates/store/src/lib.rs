//! # hallcall-store: durable hall state on sled or PostgreSQL
//!
//! This crate owns everything that touches the disk: the append-only event
//! log of every hall, periodic snapshots of the core's [`Hall`] state, the
//! index of business days used by statistics, recovery after a crash,
//! consistent backups, and the refusal to start on a data directory it cannot
//! trust. It is the only crate that uses sled or talks to PostgreSQL.
//!
//! [`Store`] is one interface over two backends: embedded sled (the default,
//! [`Store::open`]; described below) and PostgreSQL
//! ([`Store::open_postgres`]; see the `pg` module: the same contract, a
//! versioned schema, and a leader/follower group commit in which the first
//! waiting append commits for everyone queued, so a lone command pays no
//! thread hop).
//!
//! What it must never do:
//! - **decide anything about queues.** It stores the events
//!   [`Hall::handle`] produced and replays them through [`Hall::apply`] — the
//!   same code path as live operation — and nothing else. It never builds an
//!   event, never changes one, never interprets a command.
//! - **acknowledge before the flush.** A [`Durable`] resolves `Ok` only after
//!   the sled flush that covers its events has returned. Events may be
//!   broadcast, and commands answered, only then; [`Store::events_since`] and
//!   [`Store::day_events`] never return an event that is not yet durable.
//! - lose data silently: a corrupt record, a gap in a hall's sequence, a
//!   snapshot ahead of its log, a directory written by a newer format or held
//!   by another process is an error with a message that says what to do.
//!
//! ## Layout (store format 3)
//!
//! A data directory holds `LOCK` (an advisory lock held while a process uses
//! it, with that process's pid), `FORMAT` (the store format, readable before
//! sled is opened, so a newer format is recognised even if its sled files are
//! not), `COMMIT` (the last key covered by a flush that returned, see below)
//! `snapshots/` (the latest snapshot of each hall, one file each, see the
//! `snapfile` module: kept out of sled because sled holds what it has just
//! written in memory, and a snapshot is a whole day's tickets)
//! and `sled/`, a sled database with four trees:
//!
//! | tree | key | value |
//! |---|---|---|
//! | `meta` | `format` | store format, u32 big-endian |
//! | `log` | hall id, `0x00`, seq of the command's LAST event (u64 big-endian) | one command: its event as JSON exactly as on the wire, or for several events `0x01`, their count (u32 BE), then each event's length (u32 BE) and JSON |
//! | `days` | hall id, `0x00`, business date `YYYY-MM-DD` | seq of that day's `day_opened` (u64 big-endian) |
//! | `snap` | hall id | formats 1–2 only, read until a file supersedes it: `0x01`, seq (u64 big-endian), [`Hall::to_snapshot`] JSON |
//!
//! Keys sort by hall, then sequence, so a hall's events are one range scan;
//! a read from seq `s` starts at key `s`, whose first record holds `s`. One
//! record per command (not per event) keeps a command whole through a crash
//! with a plain insert; databases written one record per event (before
//! issue 17's bench) read unchanged, since a single-event record is the same
//! bytes. Every event read is checked against its place in its record.
//!
//! ## Group commit
//!
//! [`Store::append`] validates and serialises the events on the caller's
//! thread (JSON once per event, into one log record), then — under one short lock, so that the
//! order per hall is fixed when `append` is called — checks that they continue
//! the hall's sequence and queues them. Committing is leader/follower: the
//! first waiter of a [`Durable`] that finds the commit lock free drains
//! everything queued (from every hall), writes it, calls `flush()` once and
//! then completes every waiter of that group — in its own task, so a lone
//! command pays no hop to another thread. While it flushes, the next group
//! gathers, and its first waiter leads it. A background thread commits only
//! what nobody waits for (barriers, shutdown) and heals after a failed write. Each append is one
//! record, so a group is plain inserts: a sled `Batch` (the other way to keep
//! a command whole) costs an extra ~60 µs on this disk (its manifest), more
//! than half a flush. A server task may pipeline: it can
//! append command N+1 before N is durable; N+1 is never acknowledged before N.
//! If a write or flush fails, every waiter of the group gets the error, the
//! hall is marked failed, and later appends for it are refused until
//! [`Store::recover`] is called for it again (its in-memory state may hold
//! events the disk does not).
//!
//! ## Snapshots and compaction: the policy, and why
//!
//! [`Store::maybe_snapshot`] writes a snapshot of a hall every
//! [`StoreOptions::snapshot_every_events`] events (default 1,000) or every
//! [`StoreOptions::snapshot_every`] (default 10 minutes) when something changed. The
//! snapshot is serialised by the caller, handed on by the writer only after
//! the flush covering its sequence number, and written to its file by the
//! maintenance thread (off the commit path), so a snapshot never gets ahead
//! of the durable log. Only the latest snapshot per hall is kept. Recovery is
//! that snapshot plus at most about 1,000 events, whatever the log's length.
//!
//! Events that a snapshot covers are **not** deleted right away: the log is
//! also the record that statistics ([`Store::day_events`], folded by
//! `hallcall_core::stats::DayStats`) and audits ("who called this number?")
//! read, and a second copy in a stats tree would double the bytes written on
//! the hot path for nothing. So the log *is* the statistics store, indexed by
//! business day in `days`, and compaction is retention: after a snapshot, whole
//! business days older than [`StoreOptions::retention_days`] (default 400, so a
//! year-on-year comparison works) are deleted — but never an event newer than
//! the snapshot minus [`StoreOptions::resume_window`] (default 10,000 events),
//! nor anything of the current day. A hall of the demo's size writes about
//! 1–2 MB of events a day, so 400 days is well under a gigabyte.
//!
//! WebSocket resume ([`Store::events_since`]) serves at most `resume_window`
//! events behind the newest durable one; older (or pruned, or ahead of the
//! store, e.g. after a restore) answers `Ok(None)`: send a snapshot instead.
//!
//! ## Refusing to start
//!
//! [`Store::open`] refuses with [`StoreError::Locked`] (another process holds
//! `LOCK` or sled's own lock), [`StoreError::NewerFormat`] (`FORMAT` or the
//! `meta` tree says a newer store format), [`StoreError::Corrupt`] (sled
//! reports corruption or panics while opening, `FORMAT` says the directory was
//! initialised but the database has no format record, the key named in
//! `COMMIT` is missing, …) and
//! [`StoreError::Foreign`] (a non-empty directory that is not a hallcall
//! store). Recovery checks every record it reads and every hall's sequence
//! for gaps and returns [`StoreError::Corrupt`] rather than a partial state.
//!
//! Why `COMMIT`: sled checksums its records, but when it meets a damaged one
//! while opening, it takes it for the torn end of its log and silently
//! recovers only what came before (garbage in the middle of `sled/db` loses
//! half the log without an error). So after every flush that returned, the
//! writer records the last key that flush covered in `COMMIT` (a copy into
//! the file mapped in memory, else a `pwrite`; no fsync: it must survive a killed process, which the page cache ensures,
//! and it is never ahead of the database, even after a power cut, because it
//! is written after the flush). `open` refuses a database that lacks that key.
//!
//! ## Modules, by job
//!
//! Each module uses only those listed above it, so there is no import loop:
//!
//! | module | job |
//! |---|---|
//! | `error`, `keys`, `options`, `durable` | errors, key encodings, tunables, the append future |
//! | `trees` | the open sled database and its trees |
//! | `witness` | the `COMMIT` record of the last flush |
//! | `dir` | directory checks: `LOCK`, `FORMAT`, foreign directory, format record, `COMMIT` |
//! | `log` | encoding an append; reading log ranges and the day index |
//! | `snapfile` | snapshot files: naming, writing whole (temp, fsync, rename), reading back checked |
//! | `snapshot` | the snapshot policy, its serialised form, reading snapshots back (files, or an older format's `snap` tree) |
//! | `retention` | deleting past business days |
//! | `maint` | the maintenance thread: writes snapshot files, then retention, and answers barriers in order |
//! | `writer` | group commit: leader/follower, and the background thread that heals |
//! | `store` | the sled backend's handle: open, append, snapshot, durable reads, shutdown |
//! | `recovery`, `backup` | its `impl` blocks: snapshot + tail through [`Hall::apply`]; backup and restore |
//! | `pg` | the PostgreSQL backend: `mod` (open, migrations, append, snapshot policy), `commit` (leader/follower group commit, the `(hall, seq)` fence), `read` (reads, recovery, retention) |
//! | `backend` | [`Store`]: the one interface, an enum over the two backends |
//!
//! The crash test's child process lives with the test (`tests/support/crash_child.rs`).

// The table above lists the modules in dependency order (rustfmt sorts these).
mod backend;
mod backup;
mod dir;
mod durable;
mod error;
mod keys;
mod log;
mod maint;
mod options;
mod pg;
mod recovery;
mod retention;
mod snapfile;
mod snapshot;
mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod trees;
mod witness;
mod writer;

#[cfg(test)]
mod tests;

pub use backend::{RawSnapshot, Store};
pub use durable::Durable;
pub use error::StoreError;
pub use options::{StoreOptions, FORMAT_VERSION};
pub use pg::{Lease, Leases, NodeInfo, Notice, StoredSession};

#[doc(no_inline)]
pub use hallcall_core::{Event, Hall, HallConfig};
