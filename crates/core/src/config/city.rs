//! `[server] city_tokens`: the 同城通办 operator's bearer tokens for the
//! city overview (`GET /api/v1/overview`, `/city`). A server key, not a
//! hall's: one token sees every hall this process serves (their public
//! figures only), and no hall token can stand in for it.

use std::collections::HashSet;

use super::{Config, ConfigError};

impl Config {
    pub(crate) fn validate_city_tokens(&self) -> Result<(), ConfigError> {
        let hall_tokens: HashSet<&str> = self
            .halls
            .iter()
            .flat_map(|h| h.kiosk_tokens.iter().chain(&h.supervisor_tokens))
            .map(String::as_str)
            .collect();
        let mut seen = HashSet::new();
        for t in &self.server.city_tokens {
            let bad = |message: &str| ConfigError::Server {
                field: "city_tokens".into(),
                message: message.into(),
            };
            if t.len() < 16 || t.len() > 128 || !t.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(bad("each must be 16-128 printable ASCII characters"));
            }
            if hall_tokens.contains(t.as_str()) {
                return Err(bad(
                    "a city token must differ from every kiosk and supervisor token",
                ));
            }
            if !seen.insert(t.as_str()) {
                return Err(bad("the same token is listed twice"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn with_city(tokens: &str) -> Result<Config, crate::config::ConfigError> {
        let demo = crate::demo::demo_hall();
        let text = toml::to_string(&Config {
            server: Default::default(),
            halls: vec![demo],
        })
        .expect("toml");
        let text = text.replacen(
            "[server]\n",
            &format!("[server]\ncity_tokens = {tokens}\n"),
            1,
        );
        Config::from_toml(&text)
    }

    #[test]
    fn city_tokens_are_read_and_checked() {
        let c = with_city(r#"["city-token-0123456789"]"#).expect("valid");
        assert_eq!(c.server.city_tokens, vec!["city-token-0123456789"]);
        let e = with_city(r#"["short"]"#).expect_err("short");
        assert!(e.to_string().contains("server.city_tokens:"), "{e}");
        let kiosk = crate::demo::demo_hall().kiosk_tokens[0].clone();
        if kiosk.len() >= 16 {
            let e = with_city(&format!("[{kiosk:?}]")).expect_err("a kiosk token");
            assert!(e.to_string().contains("differ"), "{e}");
        }
    }
}
