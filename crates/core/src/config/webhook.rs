//! `[[hall.webhook]]`: another system (an SMS gateway, WeChat, the
//! province's 好差评 platform) told of the hall's events over HTTP. The
//! server delivers them from the durable log (`hallcall_server::webhooks`);
//! here are only the keys and their checks, so a mistake is refused with the
//! rest of the file, named by hall and field.

use serde::{Deserialize, Serialize};

use super::{invalid, ConfigError, HallConfig};

/// One receiver of a hall's events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Names the hook's delivery position (so a changed `url` can keep its
    /// place); the `url` when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// `http://host[:port]/path`. TLS is not built in: an `https` receiver
    /// is reached through a local TLS proxy (docs/api.md, Webhooks).
    pub url: String,
    /// The event types to deliver (`ticket_called`, …); `["*"]`: all.
    pub events: Vec<String>,
    /// Key of the `X-Hallcall-Signature` HMAC-SHA256 of each body.
    pub secret: String,
    /// What each body holds: the public form displays get (default) or the
    /// log's form with ticket ids and rating reasons.
    #[serde(default, skip_serializing_if = "WebhookPayload::is_public")]
    pub payload: WebhookPayload,
    /// Seconds to wait for the receiver's answer before trying again.
    #[serde(default = "ten")]
    pub timeout_s: u32,
    /// First pause after a failed delivery, in milliseconds; it doubles
    /// after each failure up to `retry_max_s`.
    #[serde(default = "one_second_ms")]
    pub retry_min_ms: u32,
    #[serde(default = "five_minutes_s")]
    pub retry_max_s: u32,
}

/// The body of a delivery.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookPayload {
    /// The whitelist the WebSocket sends (`Event::public`).
    #[default]
    Public,
    /// The event as logged (ticket ids, appointment codes, rating reasons),
    /// except events that carry configuration, which stay public.
    Full,
}

impl WebhookPayload {
    fn is_public(&self) -> bool {
        *self == WebhookPayload::Public
    }
}

fn ten() -> u32 {
    10
}
fn one_second_ms() -> u32 {
    1000
}
fn five_minutes_s() -> u32 {
    300
}

impl WebhookConfig {
    /// The key of its delivery position: `id`, or else the `url`.
    pub fn key(&self) -> &str {
        if self.id.is_empty() {
            &self.url
        } else {
            &self.id
        }
    }

    /// Whether events of type `ty` go to this hook.
    pub fn wants(&self, ty: &str) -> bool {
        self.events.iter().any(|e| e == "*" || e == ty)
    }
}

/// `http://` then a host; nothing that would need TLS or a shell.
fn is_http_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?']).next().unwrap_or("");
    !host.is_empty()
        && url.len() <= 2048
        && url.bytes().all(|b| b.is_ascii_graphic())
        && !host.contains('@')
}

fn is_event_type(s: &str) -> bool {
    s == "*"
        || (!s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
}

impl HallConfig {
    pub(crate) fn validate_webhooks(&self) -> Result<(), ConfigError> {
        let h = self.id.as_str();
        let mut keys = std::collections::HashSet::new();
        for (i, w) in self.webhooks.iter().enumerate() {
            let f = |k: &str| format!("webhook[{i}].{k}");
            if !is_http_url(&w.url) {
                return Err(invalid(
                    h,
                    f("url"),
                    "must be http://host[:port]/path (for https use a local TLS proxy)",
                ));
            }
            if w.events.is_empty() {
                return Err(invalid(
                    h,
                    f("events"),
                    "name at least one event type, or \"*\" for all",
                ));
            }
            if let Some(bad) = w.events.iter().find(|e| !is_event_type(e)) {
                return Err(invalid(
                    h,
                    f("events"),
                    format!("{bad:?} is not an event type (snake_case, e.g. ticket_called)"),
                ));
            }
            if w.secret.len() < 16 {
                return Err(invalid(
                    h,
                    f("secret"),
                    "must be at least 16 characters (the receiver checks the signature with it)",
                ));
            }
            if !(1..=300).contains(&w.timeout_s) {
                return Err(invalid(h, f("timeout_s"), "must be 1 to 300 seconds"));
            }
            if !(10..=600_000).contains(&w.retry_min_ms) {
                return Err(invalid(h, f("retry_min_ms"), "must be 10 to 600000"));
            }
            if !(1..=86_400).contains(&w.retry_max_s) {
                return Err(invalid(h, f("retry_max_s"), "must be 1 to 86400 seconds"));
            }
            if !keys.insert(w.key()) {
                return Err(invalid(
                    h,
                    f("id"),
                    "two webhooks share this id (or url without an id): each keeps its own position",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn with_hook(hook: &str) -> String {
        let demo = crate::demo::demo_hall();
        let mut text = toml::to_string(&Config {
            server: Default::default(),
            halls: vec![demo],
        })
        .expect("toml");
        text.push_str("\n[[hall.webhook]]\n");
        text.push_str(hook);
        text
    }

    #[test]
    fn a_webhook_parses_with_its_defaults() {
        let c = Config::from_toml(&with_hook(
            "url = \"http://127.0.0.1:9000/hook\"\nevents = [\"ticket_called\"]\nsecret = \"0123456789abcdef\"\n",
        ))
        .expect("valid");
        let w = &c.halls[0].webhooks[0];
        assert_eq!(w.key(), "http://127.0.0.1:9000/hook");
        assert_eq!(w.payload, super::WebhookPayload::Public);
        assert_eq!(
            (w.timeout_s, w.retry_min_ms, w.retry_max_s),
            (10, 1000, 300)
        );
        assert!(w.wants("ticket_called") && !w.wants("ticket_issued"));
    }

    #[test]
    fn a_bad_webhook_is_named_by_field() {
        for (hook, field) in [
            ("url = \"https://x.example/h\"\nevents = [\"*\"]\nsecret = \"0123456789abcdef\"\n", "webhook[0].url"),
            ("url = \"http://x/h\"\nevents = []\nsecret = \"0123456789abcdef\"\n", "webhook[0].events"),
            ("url = \"http://x/h\"\nevents = [\"Ticket Called\"]\nsecret = \"0123456789abcdef\"\n", "webhook[0].events"),
            ("url = \"http://x/h\"\nevents = [\"*\"]\nsecret = \"short\"\n", "webhook[0].secret"),
            ("url = \"http://x/h\"\nevents = [\"*\"]\nsecret = \"0123456789abcdef\"\ntimeout_s = 0\n", "webhook[0].timeout_s"),
        ] {
            let err = Config::from_toml(&with_hook(hook)).expect_err(hook);
            assert!(err.to_string().contains(field), "{hook}: {err}");
        }
    }
}
