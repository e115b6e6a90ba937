//! Loading the configuration file (the parser with file, line and field
//! errors is the core's, shared with `hallcall simulate`), and the demo hall
//! used when there is no file.

use std::path::Path;

use hallcall_core::config::Config;
pub use hallcall_core::config_file::{parse, ConfigFileError};

use crate::auth::hash_pin;

/// Reads, parses and validates a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigFileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigFileError {
        file: file.clone(),
        line: 0,
        message: e.to_string(),
    })?;
    parse(&file, &text)
}

/// The demo PIN of a demo staff member: the digits of the id twice (s01 → 0101).
pub fn demo_pin(staff: &str) -> String {
    let digits: String = staff.chars().filter(|c| c.is_ascii_digit()).collect();
    format!("{digits}{digits}")
}

/// The demo configuration, with PIN hashes made now from the demo PINs.
pub fn demo_config(data: &str, listen: &str) -> Result<Config, String> {
    let mut hall = hallcall_core::demo::demo_hall();
    for s in &mut hall.staff {
        s.pin_hash = hash_pin(&demo_pin(&s.id))?;
    }
    Ok(Config {
        server: hallcall_core::config::ServerConfig {
            listen: listen.into(),
            data: data.into(),
            city_tokens: Vec::new(),
        },
        halls: vec![hall],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_named() {
        let e = load(Path::new("/nonexistent/hall.toml")).expect_err("no file");
        assert!(
            e.to_string().starts_with("/nonexistent/hall.toml:0: "),
            "{e}"
        );
    }

    #[test]
    fn demo_pins_follow_the_staff_number() {
        assert_eq!(demo_pin("s01"), "0101");
        assert_eq!(demo_pin("s12"), "1212");
    }
}
