//! What can go wrong before a simulation runs: bad input, named so a hall
//! manager can fix it. Nothing inside a simulated day is an error: a command
//! the core refuses is counted (`refused`) and the day goes on.

/// An input problem of `hallcall simulate`.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("hall configuration: {0}")]
    Config(#[from] hallcall_core::ConfigError),
    /// The configuration file, with the line and field at fault.
    #[error("hall configuration {0}")]
    ConfigFile(#[from] hallcall_core::config_file::ConfigFileError),
    #[error("no hall {wanted:?} in the configuration (it has: {have})")]
    NoSuchHall { wanted: String, have: String },
    #[error("the configuration has {0} halls: pick one with --hall")]
    WhichHall(usize),
    #[error("profile: {0}")]
    Profile(String),
    #[error("policy {policy}: {message}")]
    Policy { policy: String, message: String },
    #[error("chart: {0}")]
    Chart(String),
    #[error("validation: {0}")]
    Validation(String),
    #[error("{path}:{line}: {message}")]
    At {
        path: String,
        line: usize,
        message: String,
    },
    #[error(
        "policy {policy}, {date}: the simulated day got stuck at {at} on event {event} ({why})"
    )]
    Stuck {
        policy: String,
        date: chrono::NaiveDate,
        at: String,
        event: String,
        why: String,
    },
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}
