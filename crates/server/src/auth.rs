//! Who may do what, and how often. Roles are bearer tokens: kiosk and
//! supervisor tokens come from the hall configuration; clerk tokens are issued
//! at login, bound to one hall, staff member and window, and signed
//! (HMAC-SHA256) with a key kept in the data directory, so they survive a
//! restart without a session table. A clerk token is honoured only while its
//! clerk is still seated at its window.
//!
//! Rate limits live here too: public booking per client address, failed PIN
//! attempts per address (PINs are short), and at most two argon2 checks at
//! once (each needs 19 MiB).
//!
//! Errors are the server's domain error [`AppError`]; the HTTP layer maps
//! them to status codes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::app::{AppError, AppInner, HallEntry};

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

impl AppInner {
    /// Resolves a bearer token for a hall: kiosk, supervisor, or a clerk
    /// still seated at the window the token was issued for.
    pub async fn role(&self, hall: &str, token: Option<&str>) -> Result<Role, AppError> {
        let entry = self.hall(hall)?;
        let token = token.ok_or(AppError::Unauthorized("a bearer token is required"))?;
        if let Some(role) = config_role(entry, token)? {
            return Ok(role);
        }
        let (h, staff, window) = self
            .key
            .verify(token)
            .ok_or(AppError::Unauthorized("unknown or invalid token"))?;
        if h != hall {
            return Err(AppError::Forbidden("this token is for another hall".into()));
        }
        let s = staff.clone();
        let seated = entry
            .handle
            .read(move |hall, _| hall.staff_location(&s))
            .await?;
        match seated {
            Some((w, _)) if w == window => Ok(Role::Clerk { staff, window }),
            _ => Err(AppError::Unauthorized(
                "this clerk session has ended; log in again",
            )),
        }
    }

    /// Checks a clerk's PIN: refused outright while the client address is
    /// locked out, counted as a failure when wrong. Returns the staff name.
    pub async fn check_pin(
        &self,
        entry: &HallEntry,
        ip: IpAddr,
        staff: &str,
        pin: &str,
    ) -> Result<String, AppError> {
        if !self.limits.login_allowed(ip) {
            return Err(AppError::RateLimited(
                "too many failed logins from this address; wait a minute",
            ));
        }
        let (hash, name) = {
            let cfg = entry
                .config
                .read()
                .map_err(|_| AppError::Internal("config lock".into()))?;
            match cfg.staff(staff) {
                Some(s) => (s.pin_hash.clone(), s.name.clone()),
                None => (String::new(), String::new()),
            }
        };
        let pin = pin.to_string();
        let permit = self
            .limits
            .pin_checks
            .acquire()
            .await
            .map_err(|_| AppError::Internal("pin check pool closed".into()))?;
        let ok = tokio::task::spawn_blocking(move || !hash.is_empty() && verify_pin(&pin, &hash))
            .await
            .unwrap_or(false);
        drop(permit);
        if !ok {
            self.limits.login_failed(ip);
            return Err(AppError::BadCredentials);
        }
        Ok(name)
    }

    /// Rate-limits public booking per client address.
    pub fn check_booking_rate(&self, ip: IpAddr) -> Result<(), AppError> {
        if self.limits.allow_booking(ip) {
            Ok(())
        } else {
            Err(AppError::RateLimited(
                "too many bookings; try again in a minute",
            ))
        }
    }
}

/// The kiosk or supervisor role a configured token grants, if it is one.
fn config_role(entry: &HallEntry, token: &str) -> Result<Option<Role>, AppError> {
    let cfg = entry
        .config
        .read()
        .map_err(|_| AppError::Internal("config lock".into()))?;
    if cfg.kiosk_tokens.iter().any(|t| t == token) {
        return Ok(Some(Role::Kiosk));
    }
    if cfg.supervisor_tokens.iter().any(|t| t == token) {
        return Ok(Some(Role::Supervisor));
    }
    Ok(None)
}

pub fn require_kiosk(role: &Role) -> Result<(), AppError> {
    match role {
        Role::Kiosk | Role::Supervisor => Ok(()),
        _ => Err(AppError::Forbidden("this needs a kiosk token".into())),
    }
}

pub fn require_supervisor(role: &Role) -> Result<(), AppError> {
    match role {
        Role::Supervisor => Ok(()),
        _ => Err(AppError::Forbidden("this needs a supervisor token".into())),
    }
}

/// The clerk of window `n`, or 403.
pub fn require_clerk_of(role: &Role, n: u32) -> Result<String, AppError> {
    match role {
        Role::Clerk { staff, window } if *window == n => Ok(staff.clone()),
        Role::Clerk { window, .. } => Err(AppError::Forbidden(format!(
            "this clerk token is for window {window}, not {n}"
        ))),
        _ => Err(AppError::Forbidden(
            "this needs the token of a clerk at this window".into(),
        )),
    }
}

/// Bookings allowed per client address per minute.
pub const BOOKINGS_PER_MINUTE: u32 = 10;
/// Failed PIN attempts allowed per client address per minute.
pub const FAILED_LOGINS_PER_MINUTE: u32 = 10;
/// argon2 checks allowed at once (19 MiB and tens of milliseconds each).
pub const PIN_CHECKS_AT_ONCE: usize = 2;

/// The per-address counters and the PIN-check pool.
pub struct RateLimits {
    booking: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    /// Failed logins per client address in the current minute.
    login_failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    pin_checks: tokio::sync::Semaphore,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            booking: Mutex::default(),
            login_failures: Mutex::default(),
            pin_checks: tokio::sync::Semaphore::new(PIN_CHECKS_AT_ONCE),
        }
    }
}

impl RateLimits {
    /// Counts a booking; false once the address is over its limit.
    pub fn allow_booking(&self, ip: IpAddr) -> bool {
        count_per_minute(&self.booking, ip, BOOKINGS_PER_MINUTE, true)
    }

    /// Whether this address may try a PIN now (too many failures lock it out
    /// for the rest of the minute).
    pub fn login_allowed(&self, ip: IpAddr) -> bool {
        count_per_minute(&self.login_failures, ip, FAILED_LOGINS_PER_MINUTE, false)
    }

    pub fn login_failed(&self, ip: IpAddr) {
        count_per_minute(&self.login_failures, ip, FAILED_LOGINS_PER_MINUTE, true);
    }
}

/// A per-address counter over one-minute windows; `bump` counts this call.
fn count_per_minute(
    map: &Mutex<HashMap<IpAddr, (Instant, u32)>>,
    ip: IpAddr,
    limit: u32,
    bump: bool,
) -> bool {
    let Ok(mut m) = map.lock() else {
        return false;
    };
    let now = Instant::now();
    let e = m.entry(ip).or_insert((now, 0));
    if now.duration_since(e.0).as_secs() >= 60 {
        *e = (now, 0);
    }
    if bump {
        e.1 += 1;
    }
    let allowed = if bump { e.1 <= limit } else { e.1 < limit };
    if m.len() > 10_000 {
        m.retain(|_, (t, _)| now.duration_since(*t).as_secs() < 60);
    }
    allowed
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
    fn failed_logins_lock_an_address_out_for_the_minute() {
        let limits = RateLimits::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..FAILED_LOGINS_PER_MINUTE {
            assert!(limits.login_allowed(a));
            limits.login_failed(a);
        }
        assert!(!limits.login_allowed(a));
        assert!(limits.login_allowed(b), "another address is not locked out");
        for _ in 0..BOOKINGS_PER_MINUTE {
            assert!(limits.allow_booking(a));
        }
        assert!(!limits.allow_booking(a));
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
