//! Where a device is: the `connect` key of a printer or an LED bar.
//!
//! One string names the transport, so a hall technician can move a printer
//! from USB to the network by changing one line:
//!
//! | `connect` | transport |
//! |---|---|
//! | `tcp://10.0.0.21:9100` (`tcp://host` means port 9100) | TCP, the raw printing port of network printers and LED controllers |
//! | `/dev/usb/lp0` or `file:/dev/usb/lp0` | a device file (USB printer class, parallel port) |
//! | `serial:/dev/ttyUSB0?baud=9600&parity=none&data_bits=8&stop_bits=1&flow=none` | a serial port (RS-232, or RS-485 through an adapter) |

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The raw printing port (JetDirect / AppSocket) that ESC/POS network
/// printers listen on; used when a `tcp://` address has no port.
pub const DEFAULT_TCP_PORT: u16 = 9100;

/// A parsed `connect` value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Connect {
    /// `tcp://host:port`.
    Tcp {
        /// Host name or IP address (IPv6 without brackets).
        host: String,
        /// Port.
        port: u16,
    },
    /// A device file written (and, for status, read) like a file.
    File {
        /// Path of the device, e.g. `/dev/usb/lp0`.
        path: PathBuf,
    },
    /// A serial port.
    Serial(SerialSettings),
}

/// Serial line settings; the defaults (9600 8N1, no flow control) are what
/// thermal printers and RS-485 LED controllers ship with.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SerialSettings {
    /// Port path, e.g. `/dev/ttyUSB0`.
    pub path: String,
    /// Baud rate.
    pub baud: u32,
    /// Data bits, 5 to 8.
    pub data_bits: u8,
    /// Parity.
    pub parity: Parity,
    /// Stop bits, 1 or 2.
    pub stop_bits: u8,
    /// Flow control.
    pub flow: Flow,
}

/// Serial parity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Parity {
    /// No parity bit.
    None,
    /// Odd parity.
    Odd,
    /// Even parity.
    Even,
}

/// Serial flow control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flow {
    /// None.
    None,
    /// XON/XOFF.
    Software,
    /// RTS/CTS.
    Hardware,
}

/// A `connect` string that could not be understood; the message says what
/// forms are accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("connect = {input:?}: {reason} (expected tcp://HOST:PORT, a device path such as /dev/usb/lp0, or serial:/dev/ttyUSB0?baud=9600)")]
pub struct ConnectError {
    /// The value given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Connect {
    /// Parses a `connect` value.
    pub fn parse(input: &str) -> Result<Connect, ConnectError> {
        let err = |reason: &str| ConnectError {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let s = input.trim();
        if let Some(rest) = s.strip_prefix("tcp://") {
            let url = url::Url::parse(&format!("tcp://{rest}")).map_err(|e| err(&e.to_string()))?;
            let host = url
                .host_str()
                .filter(|h| !h.is_empty())
                .ok_or_else(|| err("missing host"))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
            if !(url.path().is_empty() || url.path() == "/") || url.query().is_some() {
                return Err(err("a tcp address has no path or query"));
            }
            let port = url.port().unwrap_or(DEFAULT_TCP_PORT);
            if port == 0 {
                return Err(err("port 0"));
            }
            return Ok(Connect::Tcp { host, port });
        }
        if let Some(rest) = s.strip_prefix("serial:") {
            return parse_serial(rest).map(Connect::Serial).map_err(|r| err(&r));
        }
        let path = s.strip_prefix("file:").unwrap_or(s);
        if path.starts_with('/') {
            return Ok(Connect::File { path: path.into() });
        }
        if s.is_empty() {
            return Err(err("empty"));
        }
        Err(err("unknown form"))
    }
}

fn parse_serial(rest: &str) -> Result<SerialSettings, String> {
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = path.trim_start_matches("//");
    if path.is_empty() {
        return Err("missing serial port path".into());
    }
    let mut s = SerialSettings {
        path: path.to_owned(),
        baud: 9600,
        data_bits: 8,
        parity: Parity::None,
        stop_bits: 1,
        flow: Flow::None,
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair:?} is not key=value"))?;
        match k {
            "baud" => {
                s.baud = v
                    .parse()
                    .ok()
                    .filter(|b| (50..=4_000_000).contains(b))
                    .ok_or_else(|| format!("baud={v} is not a baud rate"))?;
            }
            "data_bits" => {
                s.data_bits = v
                    .parse()
                    .ok()
                    .filter(|b| (5..=8).contains(b))
                    .ok_or_else(|| format!("data_bits={v}: 5 to 8"))?;
            }
            "stop_bits" => {
                s.stop_bits = v
                    .parse()
                    .ok()
                    .filter(|b| *b == 1 || *b == 2)
                    .ok_or_else(|| format!("stop_bits={v}: 1 or 2"))?;
            }
            "parity" => {
                s.parity = match v {
                    "none" | "n" => Parity::None,
                    "odd" | "o" => Parity::Odd,
                    "even" | "e" => Parity::Even,
                    _ => return Err(format!("parity={v}: none, odd or even")),
                }
            }
            "flow" => {
                s.flow = match v {
                    "none" => Flow::None,
                    "software" | "xonxoff" => Flow::Software,
                    "hardware" | "rtscts" => Flow::Hardware,
                    _ => return Err(format!("flow={v}: none, software or hardware")),
                }
            }
            _ => {
                return Err(format!(
                    "unknown serial option {k:?} (baud, data_bits, parity, stop_bits, flow)"
                ))
            }
        }
    }
    Ok(s)
}

impl fmt::Display for Connect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Connect::Tcp { host, port } if host.contains(':') => write!(f, "tcp://[{host}]:{port}"),
            Connect::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            Connect::File { path } => write!(f, "{}", path.display()),
            Connect::Serial(s) => {
                let parity = match s.parity {
                    Parity::None => "none",
                    Parity::Odd => "odd",
                    Parity::Even => "even",
                };
                let flow = match s.flow {
                    Flow::None => "none",
                    Flow::Software => "software",
                    Flow::Hardware => "hardware",
                };
                write!(
                    f,
                    "serial:{}?baud={}&data_bits={}&parity={parity}&stop_bits={}&flow={flow}",
                    s.path, s.baud, s.data_bits, s.stop_bits
                )
            }
        }
    }
}

impl TryFrom<String> for Connect {
    type Error = ConnectError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Connect::parse(&s)
    }
}

impl From<Connect> for String {
    fn from(c: Connect) -> String {
        c.to_string()
    }
}

impl std::str::FromStr for Connect {
    type Err = ConnectError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Connect::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(
            Connect::parse("tcp://10.0.0.21:9100"),
            Ok(Connect::Tcp {
                host: "10.0.0.21".into(),
                port: 9100
            })
        );
        assert_eq!(
            Connect::parse("tcp://printer-1"),
            Ok(Connect::Tcp {
                host: "printer-1".into(),
                port: 9100
            })
        );
        let v6 = Connect::parse("tcp://[::1]:4001").expect("v6");
        assert_eq!(
            v6,
            Connect::Tcp {
                host: "::1".into(),
                port: 4001
            }
        );
        assert_eq!(v6.to_string(), "tcp://[::1]:4001");
        assert_eq!(
            Connect::parse("/dev/usb/lp0"),
            Ok(Connect::File {
                path: "/dev/usb/lp0".into()
            })
        );
        assert_eq!(
            Connect::parse("file:/dev/usb/lp1"),
            Ok(Connect::File {
                path: "/dev/usb/lp1".into()
            })
        );
        let Ok(Connect::Serial(s)) =
            Connect::parse("serial:/dev/ttyUSB0?baud=19200&parity=even&stop_bits=2")
        else {
            panic!("serial")
        };
        assert_eq!(s.path, "/dev/ttyUSB0");
        assert_eq!(s.baud, 19200);
        assert_eq!(s.parity, Parity::Even);
        assert_eq!(s.stop_bits, 2);
        assert_eq!(s.data_bits, 8);
        let c = Connect::Serial(s);
        assert_eq!(Connect::parse(&c.to_string()), Ok(c));
    }

    #[test]
    fn bad_forms_say_why() {
        for bad in [
            "",
            "10.0.0.21:9100",
            "tcp://",
            "tcp://h:0",
            "tcp://h:99999",
            "tcp://h:9100/x",
            "serial:",
            "serial:/dev/ttyS0?baud=fast",
            "serial:/dev/ttyS0?parity=mark",
            "serial:/dev/ttyS0?speed=9600",
            "usb://1234",
        ] {
            let e = Connect::parse(bad).expect_err(bad);
            assert!(e.to_string().contains("expected tcp://"), "{e}");
        }
    }
}
