//! Shared server state: the halls this process serves, the store, the token
//! key, the rate limits, the voice pack. Handlers get it through axum's
//! `State`. Failures here are [`AppError`], the server's domain error; the
//! HTTP layer (`api::error`) decides their status codes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use hallcall_announcer::VoicePack;
use hallcall_core::HallConfig;
use hallcall_store::Store;

use crate::auth::{DummyHashes, TokenKey};
use crate::hall_task::{CommandError, HallHandle};
use crate::limits::{Limited, RateLimits};
use crate::sessions::Sessions;

pub struct HallEntry {
    pub handle: HallHandle,
    /// Tokens and PIN hashes live here; reloaded with the configuration.
    pub config: RwLock<HallConfig>,
    /// Printers and voice (`[[hall.printer]]`, `[hall.voice]`); replaced
    /// whole on a reload.
    pub devices: arc_swap::ArcSwap<crate::devices::HallDevices>,
    /// The hall's printer problems, for the supervisor (`GET …/devices`).
    pub printer_warnings: crate::devices::PrinterWarnings,
}

pub struct AppInner {
    pub halls: BTreeMap<String, HallEntry>,
    pub store: Store,
    pub key: TokenKey,
    /// Each clerk's current session (durable: `sessions.json` with sled,
    /// the database with PostgreSQL).
    pub sessions: Sessions,
    /// Where each webhook stands (`webhooks.json`, or the database).
    pub webhook_positions: crate::webhooks::position::Positions,
    pub dummy_hashes: DummyHashes,
    pub voice: Option<Arc<VoicePack>>,
    pub wav_cache: Mutex<WavCache>,
    pub limits: RateLimits,
    pub started: Instant,
    /// Several nodes on one PostgreSQL (`serve --node`): leases, owners,
    /// forwarding. `None` on a single node.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// `[server] city_tokens`: the 同城通办 overview (`api::city`); read at start.
    pub city_tokens: Vec<String>,
    /// Which file sections were adopted (`crate::adopted`): file or browser edits.
    pub adopted: crate::adopted::Adopted,
}

pub type App = Arc<AppInner>;

/// What can go wrong between a request and the hall, independent of HTTP.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no hall {0:?} here")]
    UnknownHall(String),
    /// No token, an unknown one, or a clerk session that has ended.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// A genuine token that does not allow this.
    #[error("{0}")]
    Forbidden(String),
    #[error("unknown staff id or wrong PIN")]
    BadCredentials,
    /// A limit refused the request; retry after `retry_after_s`.
    #[error("{}", .0.limit.message())]
    RateLimited(Limited),
    /// The hall refused the command, or could not make it durable.
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("{0}")]
    Internal(String),
}

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

impl AppInner {
    pub fn hall(&self, id: &str) -> Result<&HallEntry, AppError> {
        self.halls
            .get(id)
            .ok_or_else(|| AppError::UnknownHall(id.to_string()))
    }
}
