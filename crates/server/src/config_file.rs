//! Reading the configuration file, with errors that name the file, the line
//! and the field, and the demo hall used when there is no file.

use std::path::Path;

use hallcall_core::config::{Config, ConfigError};

use crate::auth::hash_pin;

#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ConfigFileError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// Loads and validates a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigFileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigFileError {
        file: file.clone(),
        line: 0,
        message: e.to_string(),
    })?;
    parse(&file, &text)
}

pub fn parse(file: &str, text: &str) -> Result<Config, ConfigFileError> {
    let cfg: Config = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
            .unwrap_or(0);
        ConfigFileError {
            file: file.into(),
            line,
            message: e.message().to_string(),
        }
    })?;
    cfg.validate().map_err(|e| {
        let line = match &e {
            ConfigError::Invalid { hall, field, .. } => locate(text, hall, field),
            _ => 0,
        };
        ConfigFileError {
            file: file.into(),
            line,
            message: e.to_string(),
        }
    })?;
    Ok(cfg)
}

/// Best-effort line of a validation error: the hall's `id = "..."` line, then
/// the entry named in brackets (`category[social]`, `window[3]`), then the key.
fn locate(text: &str, hall: &str, field: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let find_from = |start: usize, pred: &dyn Fn(&str) -> bool| {
        (start..lines.len()).find(|&i| pred(lines[i].trim()))
    };
    let Some(mut at) = find_from(0, &|l| {
        l.starts_with("id") && l.contains(&format!("\"{hall}\""))
    }) else {
        return 0;
    };
    let mut key = field;
    if let Some((entry, rest)) = field.split_once('[') {
        if let Some((name, tail)) = rest.split_once(']') {
            let pred: Box<dyn Fn(&str) -> bool> = match entry {
                "window" => Box::new(move |l: &str| {
                    l.starts_with("number") && l.split('=').nth(1).map(str::trim) == Some(name)
                }),
                _ => Box::new(move |l: &str| {
                    l.starts_with("id") && l.contains(&format!("\"{name}\""))
                }),
            };
            if let Some(i) = find_from(at, &*pred) {
                at = i;
            }
            key = tail.trim_start_matches('.');
        }
    }
    let key = key.rsplit('.').next().unwrap_or(key);
    if !key.is_empty() {
        if let Some(i) = find_from(at, &|l| {
            l.starts_with(key) && l[key.len()..].trim_start().starts_with('=')
        }) {
            return i + 1;
        }
    }
    at + 1
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
        },
        halls: vec![hall],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_file_line_and_field() {
        let text = "[[hall]]\nid = \"x\"\nname = \"X\"\n\n[[hall.category]]\nid = \"a\"\nname = \"A\"\nprefix = \"A\"\nexpected_s = 1\nlimit_s = 1\nwait_target_s = 1\n\n[[hall.category]]\nid = \"b\"\nname = \"B\"\nprefix = \"A\"\nexpected_s = 1\nlimit_s = 1\nwait_target_s = 1\n";
        let e = parse("hall.toml", text).expect_err("duplicate prefix");
        assert_eq!(e.line, 16, "{e}");
        assert!(
            e.to_string()
                .starts_with("hall.toml:16: hall[x].category[b].prefix: duplicate prefix"),
            "{e}"
        );
        let e = parse("hall.toml", "[[hall]]\nid = 3\n").expect_err("type");
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn demo_pins_follow_the_staff_number() {
        assert_eq!(demo_pin("s01"), "0101");
        assert_eq!(demo_pin("s12"), "1212");
    }
}
