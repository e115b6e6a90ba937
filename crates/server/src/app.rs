//! Shared server state: the halls this process serves, the store, the token
//! key, the voice pack. Handlers get it through axum's `State`.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use hallcall_announcer::VoicePack;
use hallcall_core::HallConfig;
use hallcall_store::Store;

use crate::api::error::ApiError;
use crate::auth::{Role, TokenKey};
use crate::hall_task::HallHandle;

pub struct HallEntry {
    pub handle: HallHandle,
    /// Tokens and PIN hashes live here; reloaded with the configuration.
    pub config: RwLock<HallConfig>,
}

pub struct AppInner {
    pub halls: BTreeMap<String, HallEntry>,
    pub store: Store,
    pub key: TokenKey,
    pub voice: Option<Arc<VoicePack>>,
    pub wav_cache: Mutex<WavCache>,
    pub booking_limit: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    /// Failed logins per client address in the current minute.
    pub login_failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    /// argon2 needs 19 MiB and tens of milliseconds per check: at most two at once.
    pub pin_checks: tokio::sync::Semaphore,
    pub started: Instant,
}

pub type App = Arc<AppInner>;

/// Rendered announcements by (hall, seq): a display PC asks for each once,
/// several displays ask for the same one.
#[derive(Default)]
pub struct WavCache {
    order: std::collections::VecDeque<(String, u64)>,
    map: HashMap<(String, u64), Arc<Vec<u8>>>,
}

impl WavCache {
    const CAPACITY: usize = 64;

    pub fn get(&self, hall: &str, seq: u64) -> Option<Arc<Vec<u8>>> {
        self.map.get(&(hall.to_string(), seq)).cloned()
    }

    pub fn put(&mut self, hall: &str, seq: u64, wav: Arc<Vec<u8>>) {
        let k = (hall.to_string(), seq);
        if self.map.insert(k.clone(), wav).is_none() {
            self.order.push_back(k);
        }
        while self.order.len() > Self::CAPACITY {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }
}

/// Bookings allowed per client address per minute.
pub const BOOKINGS_PER_MINUTE: u32 = 10;

impl AppInner {
    pub fn hall(&self, id: &str) -> Result<&HallEntry, ApiError> {
        self.halls
            .get(id)
            .ok_or_else(|| ApiError::not_found("unknown_hall", format!("no hall {id:?} here")))
    }

    /// Resolves a bearer token for a hall: kiosk, supervisor, or a clerk
    /// still seated at the window the token was issued for.
    pub async fn role(&self, hall: &str, token: Option<&str>) -> Result<Role, ApiError> {
        let entry = self.hall(hall)?;
        let token = token.ok_or_else(|| ApiError::unauthorized("a bearer token is required"))?;
        {
            let cfg = entry
                .config
                .read()
                .map_err(|_| ApiError::internal("config lock"))?;
            if cfg.kiosk_tokens.iter().any(|t| t == token) {
                return Ok(Role::Kiosk);
            }
            if cfg.supervisor_tokens.iter().any(|t| t == token) {
                return Ok(Role::Supervisor);
            }
        }
        let (h, staff, window) = self
            .key
            .verify(token)
            .ok_or_else(|| ApiError::unauthorized("unknown or invalid token"))?;
        if h != hall {
            return Err(ApiError::forbidden("this token is for another hall"));
        }
        let s = staff.clone();
        let seated = entry
            .handle
            .read(move |hall, _| hall.staff_location(&s))
            .await
            .map_err(ApiError::from)?;
        match seated {
            Some((w, _)) if w == window => Ok(Role::Clerk { staff, window }),
            _ => Err(ApiError::unauthorized(
                "this clerk session has ended; log in again",
            )),
        }
    }

    /// Rate-limits public booking per client address.
    pub fn allow_booking(&self, ip: IpAddr) -> bool {
        count_per_minute(&self.booking_limit, ip, BOOKINGS_PER_MINUTE, true)
    }

    /// Whether this address may try a PIN now (too many failures lock it out
    /// for the rest of the minute: PINs are short).
    pub fn login_allowed(&self, ip: IpAddr) -> bool {
        count_per_minute(&self.login_failures, ip, FAILED_LOGINS_PER_MINUTE, false)
    }

    pub fn login_failed(&self, ip: IpAddr) {
        count_per_minute(&self.login_failures, ip, FAILED_LOGINS_PER_MINUTE, true);
    }
}

/// Failed PIN attempts allowed per client address per minute.
pub const FAILED_LOGINS_PER_MINUTE: u32 = 10;

/// A per-address counter over one-minute windows; `bump` counts this call.
fn count_per_minute(
    map: &Mutex<HashMap<IpAddr, (Instant, u32)>>,
    ip: IpAddr,
    limit: u32,
    bump: bool,
) -> bool {
    {
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
}

pub fn require_kiosk(role: &Role) -> Result<(), ApiError> {
    match role {
        Role::Kiosk | Role::Supervisor => Ok(()),
        _ => Err(ApiError::forbidden("this needs a kiosk token")),
    }
}

pub fn require_supervisor(role: &Role) -> Result<(), ApiError> {
    match role {
        Role::Supervisor => Ok(()),
        _ => Err(ApiError::forbidden("this needs a supervisor token")),
    }
}

/// The clerk of window `n`, or 403.
pub fn require_clerk_of(role: &Role, n: u32) -> Result<String, ApiError> {
    match role {
        Role::Clerk { staff, window } if *window == n => Ok(staff.clone()),
        Role::Clerk { window, .. } => Err(ApiError::forbidden(format!(
            "this clerk token is for window {window}, not {n}"
        ))),
        _ => Err(ApiError::forbidden(
            "this needs the token of a clerk at this window",
        )),
    }
}
