//! The `hallcall led` configuration file (see `examples/led-rs485.toml` and
//! `examples/led-tcp.toml`).
//!
//! ```toml
//! server = "127.0.0.1:8080"     # the hall server (the command line may override)
//! hall = "demo"
//! connect = "serial:/dev/ttyUSB0?baud=9600"   # default for every window
//!
//! [frame]                        # see led::frame
//! header = "AA"
//! ...
//!
//! [text]
//! called = "请{number}号"
//! paused = "暂停服务"
//!
//! [[window]]
//! number = 1
//! address = 1
//! ```

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::connect::Connect;
use crate::error::ConfigError;
use crate::led::board::Show;
use crate::led::frame::FrameSpec;

/// What each bar says in each state. Placeholders: `{number}` (the ticket,
/// when there is one) and `{window}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Templates {
    /// A ticket is called to the window.
    #[serde(default = "default_called")]
    pub called: String,
    /// The called ticket is being served; defaults to `called`, so the bar
    /// keeps naming the number the citizen is looking for.
    #[serde(default)]
    pub serving: Option<String>,
    /// The window is paused.
    #[serde(default = "default_paused")]
    pub paused: String,
    /// Open, nobody called.
    #[serde(default)]
    pub idle: String,
    /// Closed.
    #[serde(default)]
    pub closed: String,
}

fn default_called() -> String {
    "请{number}号".into()
}
fn default_paused() -> String {
    "暂停服务".into()
}

impl Default for Templates {
    fn default() -> Self {
        Templates {
            called: default_called(),
            serving: None,
            paused: default_paused(),
            idle: String::new(),
            closed: String::new(),
        }
    }
}

impl Templates {
    /// The text for a window in a state.
    pub fn render(&self, window: u32, show: &Show) -> String {
        let (t, number) = match show {
            Show::Closed => (&self.closed, ""),
            Show::Idle => (&self.idle, ""),
            Show::Paused => (&self.paused, ""),
            Show::Called(n) => (&self.called, n.as_str()),
            Show::Serving(n) => (self.serving.as_ref().unwrap_or(&self.called), n.as_str()),
        };
        t.replace("{number}", number)
            .replace("{window}", &window.to_string())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (key, t) in [
            ("called", Some(&self.called)),
            ("serving", self.serving.as_ref()),
            ("paused", Some(&self.paused)),
            ("idle", Some(&self.idle)),
            ("closed", Some(&self.closed)),
        ] {
            let Some(t) = t else { continue };
            let rest = t.replace("{number}", "").replace("{window}", "");
            if rest.contains('{') || rest.contains('}') {
                return Err(ConfigError::new(
                    format!("text.{key}"),
                    format!("{t:?}: the placeholders are {{number}} and {{window}}"),
                ));
            }
            if t.chars().any(char::is_control) {
                return Err(ConfigError::new(
                    format!("text.{key}"),
                    "control characters cannot be shown",
                ));
            }
        }
        Ok(())
    }
}

/// One bar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedWindow {
    /// The hall's window number.
    pub number: u32,
    /// The controller address of its bar.
    pub address: u16,
    /// Where this bar is, when not on the file's `connect` (a bar with its
    /// own network controller).
    #[serde(default)]
    pub connect: Option<Connect>,
}

/// The whole file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedConfig {
    /// Hall server address (`host:port`, `http://…`, `ws://…`).
    #[serde(default)]
    pub server: Option<String>,
    /// Hall id.
    #[serde(default)]
    pub hall: Option<String>,
    /// Default device for the bars.
    #[serde(default)]
    pub connect: Option<Connect>,
    /// Frame format.
    pub frame: FrameSpec,
    /// Texts.
    #[serde(default)]
    pub text: Templates,
    /// Send every bar's frame again this often (seconds; 0 = only on
    /// change), for controllers that forget their text on a power cut.
    #[serde(default)]
    pub refresh_s: u64,
    /// Milliseconds allowed to open a device and to write a frame.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// The bars.
    #[serde(rename = "window", default)]
    pub windows: Vec<LedWindow>,
}

fn default_timeout_ms() -> u64 {
    2000
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LedConfigError {
    /// Unreadable.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, or a value of the wrong form.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// toml's message, with the line.
        message: String,
    },
    /// A value that cannot be used.
    #[error("{path}: {source}")]
    Invalid {
        /// The file.
        path: String,
        /// Which key and why.
        source: ConfigError,
    },
}

impl LedConfig {
    /// Reads and validates a file.
    pub fn load(path: &Path) -> Result<LedConfig, LedConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| LedConfigError::Read {
            path: name.clone(),
            source,
        })?;
        LedConfig::parse(&name, &text)
    }

    /// Parses and validates TOML text; `name` is used in messages.
    pub fn parse(name: &str, text: &str) -> Result<LedConfig, LedConfigError> {
        let cfg: LedConfig = toml::from_str(text).map_err(|e| LedConfigError::Parse {
            path: name.to_owned(),
            message: e.to_string(),
        })?;
        cfg.validate().map_err(|source| LedConfigError::Invalid {
            path: name.to_owned(),
            source,
        })?;
        Ok(cfg)
    }

    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.frame.validate("frame")?;
        self.text.validate()?;
        if self.windows.is_empty() {
            return Err(ConfigError::new(
                "window",
                "no [[window]] entries: list each bar with its window number and address",
            ));
        }
        if !(100..=60_000).contains(&self.timeout_ms) {
            return Err(ConfigError::new(
                "timeout_ms",
                format!("{} ms: use 100 to 60000", self.timeout_ms),
            ));
        }
        let one_byte = self
            .frame
            .layout
            .contains(&crate::led::frame::Field::Address);
        let mut seen = BTreeSet::new();
        let mut seen_addr = BTreeSet::new();
        for (i, w) in self.windows.iter().enumerate() {
            let at = format!("window[{i}]");
            if !seen.insert(w.number) {
                return Err(ConfigError::new(
                    format!("{at}.number"),
                    format!("window {} is listed twice", w.number),
                ));
            }
            if one_byte && w.address > 255 {
                return Err(ConfigError::new(
                    format!("{at}.address"),
                    format!(
                        "{} does not fit the one-byte \"address\" field (0–255; use \"address16\")",
                        w.address
                    ),
                ));
            }
            let device = w.connect.as_ref().or(self.connect.as_ref());
            let Some(device) = device else {
                return Err(ConfigError::new(
                    format!("{at}.connect"),
                    "no device: set connect for this window or at the top of the file",
                ));
            };
            if !seen_addr.insert((device.to_string(), w.address)) {
                return Err(ConfigError::new(
                    format!("{at}.address"),
                    format!(
                        "address {} is used twice on {device}: two bars would show the same text",
                        w.address
                    ),
                ));
            }
        }
        let probe = self.text.render(0, &Show::Called("A012".into()))
            + &self.text.render(0, &Show::Paused)
            + &self.text.render(0, &Show::Idle)
            + &self.text.render(0, &Show::Closed);
        if self.frame.encoding.encode(&probe).1 {
            return Err(ConfigError::new(
                "text",
                format!(
                    "a template has characters that {:?} cannot encode; they would show as ?",
                    self.frame.encoding
                ),
            ));
        }
        Ok(())
    }

    /// The device of a window.
    pub fn device_of<'a>(&'a self, w: &'a LedWindow) -> Option<&'a Connect> {
        w.connect.as_ref().or(self.connect.as_ref())
    }

    /// The timeout as a `Duration`.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
connect = "tcp://127.0.0.1:4001"
[frame]
header = "AA"
trailer = "55"
checksum = "sum8"
layout = ["header", "address", "len8", "text", "checksum", "trailer"]
"#;

    #[test]
    fn templates_render_each_state() {
        let t = Templates {
            idle: "{window}号窗口".into(),
            ..Templates::default()
        };
        assert_eq!(t.render(3, &Show::Called("A012".into())), "请A012号");
        assert_eq!(t.render(3, &Show::Serving("A012".into())), "请A012号");
        assert_eq!(t.render(3, &Show::Paused), "暂停服务");
        assert_eq!(t.render(3, &Show::Idle), "3号窗口");
        assert_eq!(t.render(3, &Show::Closed), "");
    }

    #[test]
    fn errors_name_the_key() {
        let err = |extra: &str| match LedConfig::parse("led.toml", &format!("{BASE}{extra}")) {
            Err(LedConfigError::Invalid { source, .. }) => source.field,
            other => panic!("{extra}: {other:?}"),
        };
        assert_eq!(err(""), "window");
        assert_eq!(
            err("[[window]]\nnumber = 1\naddress = 300\n"),
            "window[0].address"
        );
        assert_eq!(
            err("[[window]]\nnumber = 1\naddress = 1\n[[window]]\nnumber = 1\naddress = 2\n"),
            "window[1].number"
        );
        assert_eq!(
            err("[[window]]\nnumber = 1\naddress = 1\n[[window]]\nnumber = 2\naddress = 1\n"),
            "window[1].address"
        );
        assert_eq!(
            err("[text]\ncalled = \"请{num}号\"\n[[window]]\nnumber = 1\naddress = 1\n"),
            "text.called"
        );
        assert_eq!(
            err("[text]\npaused = \"暂停服务喆\"\n[[window]]\nnumber = 1\naddress = 1\n"),
            "text"
        );
        let e = LedConfig::parse("led.toml", &format!("{BASE}[[window]]\nnumber = 1\n"))
            .expect_err("missing address");
        assert!(e.to_string().contains("address"), "{e}");
        let ok = LedConfig::parse(
            "led.toml",
            &format!("{BASE}[[window]]\nnumber = 1\naddress = 1\n"),
        )
        .expect("ok");
        assert_eq!(ok.text, Templates::default());
    }
}
