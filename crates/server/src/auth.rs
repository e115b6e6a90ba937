//! Roles as bearer tokens. Kiosk and supervisor tokens come from the hall
//! configuration; clerk tokens are issued at login, bound to one hall, staff
//! member and window, and signed (HMAC-SHA256) with a key kept in the data
//! directory, so they survive a restart without a session table. A clerk token
//! is honoured only while its clerk is still seated at its window.

use std::path::Path;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Who a bearer token says the caller is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Kiosk,
    Supervisor,
    Clerk { staff: String, window: u32 },
}

/// Makes a PHC argon2id hash of a PIN (`hallcall hash-pin`).
pub fn hash_pin(pin: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a PIN against its stored hash; a malformed hash never matches.
pub fn verify_pin(pin: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(pin.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Signs and checks clerk tokens.
#[derive(Clone)]
pub struct TokenKey {
    key: Vec<u8>,
}

impl TokenKey {
    /// Loads the key from `dir/session.key`, creating it on first start.
    pub fn load_or_create(dir: &Path) -> std::io::Result<TokenKey> {
        let path = dir.join("session.key");
        match std::fs::read(&path) {
            Ok(key) if key.len() >= 32 => Ok(TokenKey { key }),
            _ => {
                let key: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
                std::fs::create_dir_all(dir)?;
                std::fs::write(&path, &key)?;
                Ok(TokenKey { key })
            }
        }
    }

    fn mac(&self, payload: &str) -> String {
        let mut m = match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => return String::new(),
        };
        m.update(payload.as_bytes());
        hex::encode(m.finalize().into_bytes())
    }

    /// `clerk.<hall>.<staff hex>.<window>.<nonce>.<mac>`
    pub fn issue(&self, hall: &str, staff: &str, window: u32) -> String {
        let nonce: u64 = rand::random();
        let payload = format!("clerk.{hall}.{}.{window}.{nonce:016x}", hex::encode(staff));
        let mac = self.mac(&payload);
        format!("{payload}.{mac}")
    }

    /// The (hall, staff, window) a clerk token was issued for, if genuine.
    pub fn verify(&self, token: &str) -> Option<(String, String, u32)> {
        let (payload, mac) = token.rsplit_once('.')?;
        let expected = self.mac(payload);
        if expected.is_empty() || !constant_eq(expected.as_bytes(), mac.as_bytes()) {
            return None;
        }
        let mut parts = payload.split('.');
        if parts.next()? != "clerk" {
            return None;
        }
        let hall = parts.next()?.to_string();
        let staff = String::from_utf8(hex::decode(parts.next()?).ok()?).ok()?;
        let window = parts.next()?.parse().ok()?;
        Some((hall, staff, window))
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_hash_and_verify() {
        let h = hash_pin("0101").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_pin("0101", &h));
        assert!(!verify_pin("0102", &h));
        assert!(!verify_pin("0101", "$argon2id$v=19$m=19456,t=2,p=1$..."));
    }

    #[test]
    fn clerk_tokens_are_bound_and_unforgeable() {
        let dir = tempfile::tempdir().expect("tmp");
        let k = TokenKey::load_or_create(dir.path()).expect("key");
        let t = k.issue("demo", "s01", 3);
        assert_eq!(k.verify(&t), Some(("demo".into(), "s01".into(), 3)));
        let forged = t.replace(".3.", ".4.");
        assert_eq!(k.verify(&forged), None);
        let again = TokenKey::load_or_create(dir.path()).expect("same key after restart");
        assert!(again.verify(&t).is_some());
    }
}
