//! Who may do what. Roles are bearer tokens: kiosk and supervisor tokens
//! come from the hall configuration; clerk tokens are issued at login, bound
//! to one hall, staff member, window and session, and signed (HMAC-SHA256)
//! with a key kept in the data directory (`session.key`, mode 0600). A clerk
//! token is honoured only while it is its clerk's current session
//! ([`crate::sessions`]) and the clerk is still seated at its window on the
//! business day of the login.
//!
//! PIN checks live here too: the per-address and per-staff limits of
//! [`crate::limits`] are applied before the hash is checked, unknown staff
//! ids are checked against a dummy hash of the same cost, and at most two
//! argon2 checks run at once (each needs 19 MiB).
//!
//! Errors are the server's domain error [`AppError`]; the HTTP layer maps
//! them to status codes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::app::{AppError, AppInner, HallEntry};
use crate::limits::{Limit, Limited, Reserve, STAFF_FAILURES_BEFORE_LOCK, STAFF_LOCK};

/// Dummy hashes by argon2 parameter set (see `AppInner::dummy_hash`).
pub type DummyHashes = Mutex<HashMap<String, String>>;

/// Who a bearer token says the caller is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Kiosk,
    Supervisor,
    Clerk { staff: String, window: u32 },
}

/// PINs shorter than this get a warning from `hash-pin` and `check-config`.
pub const MIN_PIN_DIGITS: usize = 6;

/// Makes a PHC argon2id hash of a PIN (`hallcall hash-pin`), default
/// parameters (19 MiB, 2 passes). The PIN's length is recorded in the hash's
/// associated data (`data=`) so that `check-config` can warn about short
/// PINs; it says nothing an attacker holding the hash could not learn by
/// trying every 4-digit PIN.
pub fn hash_pin(pin: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    let marker = format!("pin{}", pin.chars().count().min(99));
    let data = argon2::AssociatedData::new(marker.as_bytes()).map_err(|e| e.to_string())?;
    let params = argon2::ParamsBuilder::new()
        .data(data)
        .build()
        .map_err(|e| e.to_string())?;
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// The PIN length recorded by [`hash_pin`], if the hash has it.
pub fn pin_length_of(hash: &str) -> Option<usize> {
    let parsed = PasswordHash::new(hash).ok()?;
    let params = argon2::Params::try_from(&parsed).ok()?;
    std::str::from_utf8(params.data())
        .ok()?
        .strip_prefix("pin")?
        .parse()
        .ok()
}

/// `check-config`'s warnings about the PINs of a configuration.
pub fn pin_warnings(cfg: &hallcall_core::config::Config) -> Vec<String> {
    let mut out = Vec::new();
    for h in &cfg.halls {
        let mut unknown = Vec::new();
        for s in &h.staff {
            match pin_length_of(&s.pin_hash) {
                Some(n) if n < MIN_PIN_DIGITS => out.push(format!(
                    "{}: staff {} has a PIN of {n} digits; use {MIN_PIN_DIGITS} or more (hallcall hash-pin): a {n}-digit PIN falls to {} guesses",
                    h.id,
                    s.id,
                    10u64.pow(n as u32)
                )),
                Some(_) => {}
                None => unknown.push(s.id.as_str()),
            }
        }
        if !unknown.is_empty() {
            out.push(format!(
                "{}: PIN length unknown for {} (hashes made before hallcall hash-pin recorded it); re-hash them to have them checked",
                h.id,
                unknown.join(", ")
            ));
        }
    }
    out
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

/// Where the token key could not be used; the server refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the token key {path}: {source}; fix its permissions (the server's user must read it, mode 0600), or delete it to log every clerk out")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the token key {path} is {len} bytes, not {KEY_LEN}: it is truncated or not a hallcall key; restore it from a backup, or delete it to log every clerk out")]
    Length { path: PathBuf, len: usize },
    #[error("cannot create the token key {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Length of the token signing key.
pub const KEY_LEN: usize = 32;
pub const KEY_FILE: &str = "session.key";

/// Signs and checks clerk tokens.
#[derive(Clone)]
pub struct TokenKey {
    key: Vec<u8>,
}

impl TokenKey {
    /// Loads the key from `dir/session.key`, creating it (mode 0600) on first
    /// start. A key that exists but cannot be read, or has the wrong length,
    /// refuses to start: regenerating it would silently end every session.
    pub fn load_or_create(dir: &Path) -> Result<TokenKey, KeyError> {
        let path = dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(key) if key.len() == KEY_LEN => {
                tighten_mode(&path);
                Ok(TokenKey { key })
            }
            Ok(key) => Err(KeyError::Length {
                path,
                len: key.len(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: Vec<u8> = rand::random::<[u8; KEY_LEN]>().to_vec();
                let create = |source| KeyError::Create {
                    path: path.clone(),
                    source,
                };
                std::fs::create_dir_all(dir).map_err(create)?;
                let mut o = std::fs::OpenOptions::new();
                o.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    o.mode(0o600);
                }
                let mut f = o.open(&path).map_err(create)?;
                use std::io::Write;
                f.write_all(&key).map_err(create)?;
                f.sync_all().map_err(create)?;
                if let Ok(d) = std::fs::File::open(dir) {
                    let _ = d.sync_all();
                }
                Ok(TokenKey { key })
            }
            Err(source) => Err(KeyError::Read { path, source }),
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

    /// `clerk.<hall>.<staff hex>.<window>.<nonce>.<mac>`; the nonce is the
    /// session's (see [`crate::sessions`]).
    pub fn issue(&self, hall: &str, staff: &str, window: u32, nonce: &str) -> String {
        let payload = format!("clerk.{hall}.{}.{window}.{nonce}", hex::encode(staff));
        let mac = self.mac(&payload);
        format!("{payload}.{mac}")
    }

    /// The (hall, staff, window, nonce) a clerk token was issued for, if genuine.
    pub fn verify(&self, token: &str) -> Option<ClerkToken> {
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
        let nonce = parts.next()?.to_string();
        Some(ClerkToken {
            hall,
            staff,
            window,
            nonce,
        })
    }

    /// A keyed hash (hex) of a value kept only as a hash, e.g. a phone number.
    pub fn keyed_hash(&self, what: &str, value: &str) -> String {
        self.mac(&format!("{what}\0{value}"))
    }
}

/// What a genuine clerk token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClerkToken {
    pub hall: String,
    pub staff: String,
    pub window: u32,
    pub nonce: String,
}

/// Keeps an existing key file private (0600) if it was left readable by others.
fn tighten_mode(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "the token key was readable by others; setting mode 0600");
                let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The sessions could not be read (PostgreSQL unreachable, or this node
/// lost the hall meanwhile): retryable, never a verdict on the token.
fn session_unreadable(e: crate::sessions::SessionsError) -> AppError {
    use crate::hall_task::CommandError;
    match e {
        crate::sessions::SessionsError::NotOwner(_) => AppError::Command(CommandError::NotOwner),
        other => {
            tracing::error!(error = %other, "clerk sessions");
            AppError::Command(CommandError::Storage(
                "the clerk sessions could not be read; try again".into(),
            ))
        }
    }
}

impl AppInner {
    /// Resolves a bearer token for a hall: kiosk, supervisor, or a clerk
    /// whose session is the current one of that staff member, still seated
    /// at the token's window on the business day of the login.
    pub async fn role(&self, hall: &str, token: Option<&str>) -> Result<Role, AppError> {
        let entry = self.hall(hall)?;
        let token = token.ok_or(AppError::Unauthorized("a bearer token is required"))?;
        if let Some(role) = config_role(entry, token)? {
            return Ok(role);
        }
        let t = self
            .key
            .verify(token)
            .ok_or(AppError::Unauthorized("unknown or invalid token"))?;
        if t.hall != hall {
            return Err(AppError::Forbidden("this token is for another hall".into()));
        }
        const ENDED: &str = "this clerk session has ended; log in again";
        let session = self
            .sessions
            .get(hall, &t.staff)
            .await
            .map_err(session_unreadable)?
            .ok_or(AppError::Unauthorized(ENDED))?;
        if session.window != t.window || !constant_eq(session.nonce.as_bytes(), t.nonce.as_bytes())
        {
            return Err(AppError::Unauthorized(ENDED));
        }
        let s = t.staff.clone();
        let (seated, date) = entry
            .handle
            .read(move |hall, _| (hall.staff_location(&s), hall.business_date()))
            .await?;
        match seated {
            Some((w, _)) if w == t.window && date == session.date => Ok(Role::Clerk {
                staff: t.staff,
                window: t.window,
            }),
            _ => Err(AppError::Unauthorized(ENDED)),
        }
    }

    /// Checks a clerk's PIN. In order: the client address's failed-login
    /// budget (only slows that address: 429 with Retry-After), then the
    /// staff id's lockout, counted before the hash is checked so parallel
    /// attempts cannot overtake it. An unknown staff id is checked against a
    /// dummy hash of the same cost. Returns the staff name.
    pub async fn check_pin(
        &self,
        hall: &str,
        entry: &HallEntry,
        ip: IpAddr,
        staff: &str,
        pin: &str,
    ) -> Result<String, AppError> {
        let counters = &self.limits.counters;
        if let Err(l) = self.limits.login_failures.check(&ip) {
            counters.add(hall, "rate_limited");
            return Err(AppError::RateLimited(l));
        }
        match self.limits.staff.reserve(hall, staff) {
            Reserve::Check => {}
            Reserve::Locked {
                retry_after_s,
                newly,
            } => {
                self.limits.login_failures.bump(&ip);
                counters.add(hall, "login_refused_locked");
                counters.add(hall, "rate_limited");
                if newly {
                    self.staff_locked(hall, staff);
                }
                return Err(AppError::RateLimited(Limited {
                    limit: Limit::LoginFailuresPerStaff,
                    retry_after_s,
                }));
            }
        }
        let known = {
            let cfg = entry
                .config
                .read()
                .map_err(|_| AppError::Internal("config lock".into()))?;
            let first = cfg.staff.first().map(|s| s.pin_hash.clone());
            match cfg.staff(staff) {
                Some(s) => Ok((s.pin_hash.clone(), s.name.clone())),
                None => Err(first),
            }
        };
        let (hash, name, dummy) = match known {
            Ok((h, n)) => (h, n, false),
            Err(like) => (self.dummy_hash(like.as_deref()).await?, String::new(), true),
        };
        let pin = pin.to_string();
        let permit = self
            .limits
            .pin_checks
            .acquire()
            .await
            .map_err(|_| AppError::Internal("pin check pool closed".into()))?;
        counters.add(
            hall,
            if dummy {
                "pin_dummy_checks"
            } else {
                "pin_checks"
            },
        );
        let ok = tokio::task::spawn_blocking(move || verify_pin(&pin, &hash))
            .await
            .unwrap_or(false);
        drop(permit);
        if !ok || dummy {
            self.limits.login_failures.bump(&ip);
            if self.limits.staff.failed(hall, staff) {
                self.staff_locked(hall, staff);
            }
            return Err(AppError::BadCredentials);
        }
        self.limits.staff.succeeded(hall, staff);
        Ok(name)
    }

    fn staff_locked(&self, hall: &str, staff: &str) {
        self.limits.counters.add(hall, "staff_lockouts");
        tracing::warn!(
            hall,
            staff,
            minutes = STAFF_LOCK.as_secs() / 60,
            "staff id locked after {STAFF_FAILURES_BEFORE_LOCK} wrong PINs; the supervisor can unlock it on the dashboard"
        );
    }

    /// Makes a hall's dummy hash ahead of the first unknown staff id, so
    /// that one costs no more than the others.
    pub async fn warm_dummy_hash(&self, hall: &str) {
        let like = self.halls.get(hall).and_then(|e| {
            e.config
                .read()
                .ok()?
                .staff
                .first()
                .map(|s| s.pin_hash.clone())
        });
        if let Err(e) = self.dummy_hash(like.as_deref()).await {
            tracing::warn!(hall, error = %e, "no dummy PIN hash yet");
        }
    }

    /// A hash of a random PIN with the same argon2 parameters as `like` (a
    /// configured staff hash), so an unknown staff id costs what a known one
    /// does. Made once per parameter set.
    async fn dummy_hash(&self, like: Option<&str>) -> Result<String, AppError> {
        let params = like
            .and_then(|h| PasswordHash::new(h).ok())
            .and_then(|p| argon2::Params::try_from(&p).ok())
            .unwrap_or_default();
        let key = format!("{params:?}");
        if let Some(h) = self
            .dummy_hashes
            .lock()
            .map_err(|_| AppError::Internal("dummy hash lock".into()))?
            .get(&key)
        {
            return Ok(h.clone());
        }
        let h = tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            let pin = format!("{:012}", rand::random::<u64>() % 1_000_000_000_000);
            Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                .hash_password(pin.as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
        if let Ok(mut m) = self.dummy_hashes.lock() {
            m.insert(key, h.clone());
        }
        Ok(h)
    }

    /// Public booking: per client address, per phone number (kept as a
    /// keyed hash) and per hall. The phone and hall budgets are taken here
    /// and given back with [`AppInner::refund_booking`] if the hall refuses.
    pub fn check_booking_rate(
        &self,
        hall: &str,
        ip: IpAddr,
        phone: &str,
    ) -> Result<String, AppError> {
        let l = &self.limits;
        let refused = |e: Limited| {
            l.counters.add(hall, "rate_limited");
            AppError::RateLimited(e)
        };
        l.booking_address.hit(&ip).map_err(refused)?;
        let phone_key = (hall.to_string(), self.key.keyed_hash("phone", phone));
        l.booking_phone.hit(&phone_key).map_err(refused)?;
        if let Err(e) = l.booking_hall.hit(&hall.to_string()) {
            l.booking_phone.refund(&phone_key);
            return Err(refused(e));
        }
        Ok(phone_key.1)
    }

    /// Gives back the phone and hall budgets of a booking the hall refused.
    pub fn refund_booking(&self, hall: &str, phone_hash: String) {
        self.limits
            .booking_phone
            .refund(&(hall.to_string(), phone_hash));
        self.limits.booking_hall.refund(&hall.to_string());
    }

    /// Ticket issuing per kiosk (or supervisor) token.
    pub fn check_issue_rate(&self, hall: &str, token: &str) -> Result<(), AppError> {
        self.limits
            .issue_kiosk
            .hit(&(hall.to_string(), self.key.keyed_hash("kiosk", token)))
            .map_err(|e| {
                self.limits.counters.add(hall, "rate_limited");
                AppError::RateLimited(e)
            })
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
        let long = hash_pin("20261130").expect("hash");
        assert!(verify_pin("20261130", &long), "PINs of 6+ digits work");
        assert_eq!(pin_length_of(&long), Some(8));
        assert_eq!(pin_length_of(&h), Some(4));
        assert_eq!(pin_length_of("$argon2id$v=19$m=64,t=1,p=1$Gwu+RoXMtQwxSDJfwa5KDw$+033xVp3z0E/KK19AywEWNek9speiKUxtt1I5nlckR0"), None);
    }

    #[test]
    fn clerk_tokens_are_bound_and_unforgeable() {
        let dir = tempfile::tempdir().expect("tmp");
        let k = TokenKey::load_or_create(dir.path()).expect("key");
        let t = k.issue("demo", "s01", 3, "00ff");
        let v = k.verify(&t).expect("genuine");
        assert_eq!(
            (
                v.hall.as_str(),
                v.staff.as_str(),
                v.window,
                v.nonce.as_str()
            ),
            ("demo", "s01", 3, "00ff")
        );
        let forged = t.replace(".3.", ".4.");
        assert_eq!(k.verify(&forged), None);
        let again = TokenKey::load_or_create(dir.path()).expect("same key after restart");
        assert!(again.verify(&t).is_some());
    }

    #[test]
    fn the_key_file_is_private_and_a_damaged_one_refuses_to_start() {
        let dir = tempfile::tempdir().expect("tmp");
        TokenKey::load_or_create(dir.path()).expect("key");
        let path = dir.path().join(KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let key = std::fs::read(&path).expect("read");
        std::fs::write(&path, &key[..10]).expect("truncate");
        let e = TokenKey::load_or_create(dir.path()).err().expect("refused");
        assert!(e.to_string().contains("truncated"), "{e}");
        assert_eq!(
            std::fs::read(&path).expect("read").len(),
            10,
            "not regenerated"
        );
    }
}
