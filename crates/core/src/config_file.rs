//! Reading a configuration file's text, with errors that name the file, the
//! line and the field — the one parser of `hallcall serve`, `check-config`
//! and `simulate`. Reading the file itself is the caller's job (the core
//! touches no files): pass its name for the messages.

use crate::config::{Config, ConfigError};

/// A configuration mistake located in its file: `hall.toml:16: hall[x].…`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ConfigFileError {
    pub file: String,
    /// 1-based; 0 when no line can be named (e.g. no hall at all).
    pub line: usize,
    pub message: String,
}

/// Parses and validates a configuration file's text.
pub fn parse(file: &str, text: &str) -> Result<Config, ConfigFileError> {
    let cfg: Config = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| {
                let before = text.get(..s.start).unwrap_or(text);
                before.matches('\n').count() + 1
            })
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
        // A key at the start of its line is on that line, not the one before.
        let e = parse(
            "hall.toml",
            "[[hall]]\nid = \"x\"\nname = \"X\"\ncolour = \"red\"\n",
        )
        .expect_err("unknown key");
        assert_eq!(e.line, 4, "{e}");
        let e = parse("hall.toml", "").expect_err("no hall");
        assert_eq!(
            (e.line, e.to_string().as_str()),
            (0, "hall.toml:0: no [[hall]] is configured")
        );
    }
}
