//! # hallcall-core: the rules of a service hall, and nothing else
//!
//! This crate is a deterministic state machine (sans-IO). It owns every rule
//! that must be right: ticket numbering per prefix and business day, the call
//! order (`key = issued_at − bonus`, per-category ordered sets, directed
//! tickets first), AB posts and failover, the tidal-window policy, appointment
//! check-in, estimated waits and red/yellow/green warnings.
//!
//! ```text
//!   Command + Actor + now ──► Hall::handle ──► Vec<Event> (already applied)
//!                                    │
//!   Event (replayed from the log) ──► Hall::apply ──► state
//! ```
//!
//! [`Hall::handle`] checks a command completely, then emits events, applying
//! each with [`Hall::apply`]; a refused command changes nothing. `apply` is the
//! only code that changes state, so the live server, crash recovery (snapshot
//! and log replay in `hallcall-store`) and the simulator (`hallcall-sim`) run
//! the same code and cannot disagree.
//!
//! What this crate must never do: read a clock (time comes in as `now`, Unix
//! ms), draw random numbers (ids and codes come in with the command), touch a
//! file, socket, thread or async runtime, or depend on anything that does. If a
//! rule needs the outside world, the shell passes the answer in.

pub mod calendar;
pub mod command;
pub mod config;
pub mod config_file;
pub mod demo;
pub mod error;
pub mod event;
pub mod hall;
pub mod links;
pub mod model;
pub mod overview;
pub mod public;
pub mod reason;
pub mod report;
pub mod stats;
pub mod time;
pub mod view;

pub use command::Command;
pub use config::{Config, ConfigError, HallConfig, WindowKind};
pub use error::{RejectClass, Rejected};
pub use event::{AdviceAction, Event, EventKind, WarningDetail, WarningKind};
pub use hall::{Hall, Load, QueueEntry, TicketStatus};
pub use model::{Actor, Channel, Duty, Level, PauseReason, Post, Priority, TicketState};
pub use public::PublicEvent;
pub use reason::Reason;
pub use time::Millis;
pub use view::HallView;
