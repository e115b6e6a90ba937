//! Configuration errors shared by the printer and LED sections.

/// A configuration value that cannot be used. `field` is the key path, e.g.
/// `printer[0].width` or `window[3].address`, so the message points at the
/// line to fix; the server prefixes it with `hall[ID].`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConfigError {
    /// Key path of the value.
    pub field: String,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            field: field.into(),
            message: message.into(),
        }
    }
}
