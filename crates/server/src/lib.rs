//! # hallcall-server: the hall on the network
//!
//! Owns: the HTTP API and its OpenAPI document, roles and tokens, the
//! WebSocket fan-out with resume, the per-hall task that drives the core,
//! configuration loading and reload, the demo hall, metrics, the embedded
//! display pages, and the WAV rendering endpoint (through the announcer's
//! composer).
//!
//! ```text
//!  commands ──► handler ──► HallHandle ──mpsc──► hall task ──► Hall::handle (core)
//!                                                  │  events
//!                                                  ▼
//!                                      Store::append (group commit, flush)
//!                                                  │ durable
//!                               publish Snapshot ◄─┤ (arc-swap)
//!                                  reply ◄─────────┴────────► broadcast ──► WebSocket subscribers
//!
//!  reads (state, ticket status, queue, role checks, WS catch-up) ──► Snapshot (+ store)
//! ```
//!
//! Must never: decide a hall rule (that is `hallcall-core`), acknowledge or
//! broadcast an event before the store has flushed it, let one hall or one
//! slow subscriber hold up another, panic on input, or broadcast a ticket's
//! unguessable id or a configuration secret.

pub mod accept_store;
pub mod adopted;
pub mod api;
pub mod app;
mod append_retry;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod config_file;
pub mod devices;
pub mod export_config;
pub mod hall_task;
pub mod limits;
pub mod listen;
pub mod metrics;
pub mod ops;
pub mod pages;
pub mod plan;
pub mod sessions;
pub mod snapshot;
pub mod webhooks;

pub use cli::{HashPinArgs, ServeArgs};
