//! Whether the links printed for citizens can open on a phone.
//!
//! A ticket's QR code and `status_url` are built from the hall's
//! `public_url`. Without one they fall back on the address the kiosk reached
//! the server at, which in a hall is a loopback or LAN address: the printed
//! QR then opens nothing on a phone on mobile data. A `public_url` that is
//! itself a loopback or private address has the same problem. The
//! supervisor is warned either way (issue 13 item 9); this is the check.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;

/// Why printed links will not open on a citizen's phone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum LinkProblem {
    /// No `public_url`: links use the address the kiosk used (typically
    /// loopback or the hall's LAN).
    Missing,
    /// `public_url` names this machine (`localhost`, `127.0.0.1`, `::1`).
    Loopback { host: String },
    /// `public_url` names a private network address or an intranet name
    /// (`192.168.x.x`, `10.x`, `172.16–31.x`, `*.local`, a name without a dot).
    Private { host: String },
}

/// The host of an absolute URL, without port, brackets or user info.
fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map(|(_, r)| r)?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next();
    }
    Some(authority.split(':').next().unwrap_or(authority))
}

fn v4_private(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        // 100.64.0.0/10: carrier-grade NAT, not reachable from outside.
        || (a == 100 && (64..128).contains(&b))
}

fn v6_private(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
}

/// What is wrong with a hall's `public_url` for phones, if anything.
pub fn public_url_problem(public_url: &str) -> Option<LinkProblem> {
    let url = public_url.trim();
    if url.is_empty() {
        return Some(LinkProblem::Missing);
    }
    let host = host_of(url)?.to_ascii_lowercase();
    let h = host.trim_end_matches('.');
    let loopback = || LinkProblem::Loopback { host: host.clone() };
    let private = || LinkProblem::Private { host: host.clone() };
    if let Ok(ip) = h.parse::<Ipv4Addr>() {
        return if ip.is_loopback() {
            Some(loopback())
        } else if v4_private(ip) {
            Some(private())
        } else {
            None
        };
    }
    if let Ok(ip) = h.parse::<Ipv6Addr>() {
        return if ip.is_loopback() {
            Some(loopback())
        } else if v6_private(ip) {
            Some(private())
        } else {
            None
        };
    }
    if h == "localhost" || h.ends_with(".localhost") {
        return Some(loopback());
    }
    let intranet = [
        ".local",
        ".lan",
        ".internal",
        ".intranet",
        ".home.arpa",
        ".corp",
    ];
    if !h.contains('.') || intranet.iter().any(|s| h.ends_with(s)) {
        return Some(private());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(url: &str) -> Option<&'static str> {
        public_url_problem(url).map(|p| match p {
            LinkProblem::Missing => "missing",
            LinkProblem::Loopback { .. } => "loopback",
            LinkProblem::Private { .. } => "private",
        })
    }

    #[test]
    fn a_public_name_or_address_is_fine() {
        assert_eq!(code("https://dt.example.gov.cn"), None);
        assert_eq!(code("https://dt.example.gov.cn:8443/hall/"), None);
        assert_eq!(code("http://203.0.113.7"), None);
        assert_eq!(code("http://[2001:db8::1]:8080"), None);
    }

    #[test]
    fn no_public_url_is_missing() {
        assert_eq!(code(""), Some("missing"));
        assert_eq!(code("   "), Some("missing"));
    }

    #[test]
    fn loopback_and_private_addresses_do_not_open_on_a_phone() {
        assert_eq!(code("http://127.0.0.1:8080"), Some("loopback"));
        assert_eq!(code("http://localhost:8080/"), Some("loopback"));
        assert_eq!(code("http://[::1]:8080"), Some("loopback"));
        assert_eq!(code("http://192.168.1.20:8080"), Some("private"));
        assert_eq!(code("http://10.0.0.5"), Some("private"));
        assert_eq!(code("http://172.20.1.1"), Some("private"));
        assert_eq!(code("http://100.64.3.2"), Some("private"));
        assert_eq!(code("http://[fd00::5]"), Some("private"));
        assert_eq!(code("http://hallserver:8080"), Some("private"));
        assert_eq!(code("http://kiosk.local"), Some("private"));
        assert_eq!(
            public_url_problem("http://user@192.168.0.9:80/x"),
            Some(LinkProblem::Private {
                host: "192.168.0.9".into()
            })
        );
    }
}
