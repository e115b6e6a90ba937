//! `hallcall serve` and `hallcall hash-pin`: start-up, the banner, SIGHUP
//! reload and graceful shutdown.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use hallcall_core::config::Config;
use hallcall_core::{Actor, Command};
use hallcall_store::{Store, StoreOptions};

use crate::app::{AppInner, HallEntry, WavCache};
use crate::auth::TokenKey;
use crate::config_file;
use crate::hall_task::HallHandle;
use crate::limits::RateLimits;
use crate::metrics::HallMetrics;
use crate::sessions::Sessions;

#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Configuration file (TOML, see hall.example.toml). Without it: the demo hall.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data directory (sled store). Default: the config's [server].data, or ./hallcall-data.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Address to listen on. Default: the config's [server].listen, or 0.0.0.0:8080.
    #[arg(long)]
    pub listen: Option<String>,
    /// Event store: a `postgres://` URL puts the log in PostgreSQL (several
    /// nodes can share it); without it the log is embedded sled in the data
    /// directory, which still holds the token key either way.
    #[arg(long, env = "HALLCALL_STORE")]
    pub store: Option<String>,
    /// Most client connections open at once (kept 512 below the open-files limit).
    #[arg(long, env = "HALLCALL_MAX_CONNECTIONS", default_value_t = crate::listen::MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Most connections open at once from one client address (raise it behind a proxy).
    #[arg(long, env = "HALLCALL_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = crate::listen::MAX_CONNECTIONS_PER_ADDRESS)]
    pub max_connections_per_address: usize,
    /// Tickets one kiosk token may issue per minute (0: no limit, for load benches).
    #[arg(long, env = "HALLCALL_KIOSK_ISSUES_PER_MINUTE", default_value_t = crate::limits::ISSUES_PER_KIOSK_PER_MINUTE)]
    pub kiosk_issues_per_minute: u32,
    /// Seconds a client has to send a request head; also the idle keep-alive timeout.
    #[arg(long, env = "HALLCALL_HEADER_TIMEOUT_S", default_value_t = crate::listen::HEADER_TIMEOUT.as_secs())]
    pub header_timeout_s: u64,
    /// Several nodes on one PostgreSQL (`--store postgres://…`): this node's
    /// id, unique among them. Halls are spread over the nodes by leases; any
    /// node answers for any hall (docs/scaling.md).
    #[arg(long, env = "HALLCALL_NODE", requires = "advertise")]
    pub node: Option<String>,
    /// With --node: the address the other nodes forward commands to (host:port).
    #[arg(long, env = "HALLCALL_ADVERTISE")]
    pub advertise: Option<String>,
    /// With --node: milliseconds a hall's lease lasts without renewal (renewed
    /// every third of it, at most every second). A dead node's halls are taken
    /// over about this long after it stopped (3 s: failover within the 5 s
    /// goal; a pause longer than this costs the node its halls, safely).
    #[arg(long, env = "HALLCALL_LEASE_MS", default_value_t = 3_000)]
    pub lease_ms: u64,
}

#[derive(clap::Args, Debug, Clone)]
pub struct HashPinArgs {
    /// The PIN to hash; read from stdin when omitted.
    pub pin: Option<String>,
}

pub fn hash_pin_main(args: HashPinArgs) -> std::process::ExitCode {
    let pin = match args.pin {
        Some(p) => p,
        None => {
            let mut s = String::new();
            if std::io::stdin().read_line(&mut s).is_err() {
                eprintln!("could not read a PIN from stdin");
                return std::process::ExitCode::from(2);
            }
            s.trim().to_string()
        }
    };
    if pin.is_empty() {
        eprintln!("the PIN must not be empty");
        return std::process::ExitCode::from(2);
    }
    if pin.chars().count() < crate::auth::MIN_PIN_DIGITS {
        eprintln!(
            "warning: a PIN of {} digits is weak; use {} or more",
            pin.chars().count(),
            crate::auth::MIN_PIN_DIGITS
        );
    }
    match crate::auth::hash_pin(&pin) {
        Ok(h) => {
            println!("{h}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Config(#[from] config_file::ConfigFileError),
    #[error("{0}")]
    Demo(String),
    #[error("data directory: {0}")]
    Store(#[from] hallcall_store::StoreError),
    #[error("data directory: {0}")]
    Key(#[from] crate::auth::KeyError),
    #[error("data directory: {0}")]
    Sessions(#[from] crate::sessions::SessionsError),
    #[error("configuration: {0}")]
    Devices(#[from] crate::devices::DeviceConfigError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("HALLCALL_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
    let json = std::env::var("HALLCALL_LOG_JSON").is_ok_and(|v| v == "1");
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        b.json().try_init()
    } else {
        b.try_init()
    };
}

/// A running server, for `serve` and for tests that need a real socket.
pub struct Running {
    pub app: crate::app::App,
    pub addr: SocketAddr,
    pub store: Store,
    pub shutdown: tokio::sync::oneshot::Sender<()>,
    pub done: tokio::task::JoinHandle<()>,
}

/// Opens the store, recovers every hall, binds and starts serving.
pub async fn start(args: &ServeArgs) -> Result<(Running, Config, bool), ServeError> {
    let demo = args.config.is_none();
    let mut cfg = match &args.config {
        Some(path) => config_file::load(path)?,
        None => {
            let data = args
                .data
                .as_ref()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|| "./hallcall-data".into());
            let listen = args.listen.clone().unwrap_or_else(|| "0.0.0.0:8080".into());
            tokio::task::spawn_blocking(move || config_file::demo_config(&data, &listen))
                .await
                .map_err(|e| ServeError::Demo(e.to_string()))?
                .map_err(ServeError::Demo)?
        }
    };
    if let Some(d) = &args.data {
        cfg.server.data = d.display().to_string();
    }
    if let Some(l) = &args.listen {
        cfg.server.listen = l.clone();
    }
    let data = PathBuf::from(&cfg.server.data);
    std::fs::create_dir_all(&data)?;
    // Fault injection for the tests of a full disk (tests/faults.rs): while
    // the named file exists, every sled flush fails as on a full disk.
    let opts = StoreOptions {
        fail_writes_while: std::env::var_os("HALLCALL_TEST_FAIL_WRITES_WHILE").map(PathBuf::from),
        // Several nodes: every append is fenced by this node's leases.
        pg_node: args.node.clone(),
        ..StoreOptions::default()
    };
    let store = match &args.store {
        Some(location) => Store::open_location(location, opts)?,
        None => Store::open(&data.join("db"), opts)?,
    };
    let key = TokenKey::load_or_create(&data)?;
    // In the database with PostgreSQL (shared by the nodes), else sessions.json.
    let sessions = Sessions::open(&data, &store)?;
    // Likewise the webhooks' positions (a damaged file refuses the start).
    let webhook_positions = crate::webhooks::position::Positions::open(&data, &store)?;
    let voice = match hallcall_announcer::VoicePack::builtin() {
        Ok(v) => Some(Arc::new(v)),
        Err(e) => {
            tracing::warn!(error = %e, "no voice pack: announcements cannot be rendered");
            None
        }
    };
    let mut halls = BTreeMap::new();
    let adopted = crate::adopted::Adopted::load(&data);
    for hc in &cfg.halls {
        // Printers and voice first: a wrong one refuses the start, naming the key.
        crate::devices::check(hc, voice.as_deref())?;
        let hall = store.recover(hc.clone())?;
        // The file wins only when it changed since it was last adopted: an
        // unchanged file keeps the supervisor's edits (`crate::adopted`).
        let stale = hall.config() != hc && adopted.changed(hc);
        if hall.config() == hc {
            adopted.record(hc);
        } else if !stale {
            tracing::info!(hall = %hc.id, "keeping the configuration edited in the browser: the file is unchanged since it was adopted (hallcall export-config writes the current one)");
        }
        // Several nodes: every hall starts as a follower; the cluster
        // controller makes this node the owner of its share.
        let handle = HallHandle::spawn_as(
            hall,
            store.clone(),
            Arc::new(HallMetrics::default()),
            args.node.is_none(),
        );
        if stale && args.node.is_none() {
            // The file changed while we were down: adopt it as a reload.
            if let Err(e) = handle
                .command(
                    Command::ReloadConfig {
                        config: Box::new(hc.clone()),
                    },
                    Actor::Supervisor,
                )
                .await
            {
                tracing::warn!(hall = %hc.id, error = %e, "the configuration file differs from the stored one and cannot be adopted yet");
            } else {
                adopted.record(hc);
            }
        }
        // Tidal mode `plan`: today's staffing plan from the hall's own log.
        crate::plan::spawn(handle.clone(), store.clone());
        let hall_config = handle.snapshot().hall().config().clone();
        let printer_warnings = crate::devices::PrinterWarnings::default();
        halls.insert(
            hc.id.clone(),
            HallEntry {
                handle,
                // Tokens and PIN hashes as the hall has them (browser edits included).
                config: RwLock::new(hall_config),
                devices: arc_swap::ArcSwap::from_pointee(crate::devices::HallDevices::start(
                    hc,
                    voice.as_deref(),
                    &printer_warnings,
                )?),
                printer_warnings,
            },
        );
    }
    let cluster = match &args.node {
        None => None,
        Some(node) => {
            if store.backend() != "postgres" {
                return Err(ServeError::Demo(
                    "--node needs a shared PostgreSQL store: add --store postgres://…".into(),
                ));
            }
            let advertise = args.advertise.clone().unwrap_or_default();
            let lease = std::time::Duration::from_millis(args.lease_ms.max(300));
            let leases = store.leases(node, &advertise, lease)?;
            Some(crate::cluster::Cluster::new(
                crate::cluster::ClusterOptions {
                    node: node.clone(),
                    advertise,
                    lease,
                },
                leases,
            ))
        }
    };
    let app = Arc::new(AppInner {
        halls,
        store: store.clone(),
        key,
        sessions,
        webhook_positions,
        dummy_hashes: Default::default(),
        voice,
        wav_cache: Mutex::new(WavCache::default()),
        limits: RateLimits::with_kiosk_issues_per_minute(args.kiosk_issues_per_minute),
        started: Instant::now(),
        cluster,
        city_tokens: cfg.server.city_tokens.clone(),
        adopted,
    });
    // One task warms the halls one after another: the dummy hash is made
    // once per argon2 parameter set and then found in the cache, whereas a
    // task per hall raced 200 halls into 200 parallel 19 MiB argon2 blocks
    // (a 1.6-2.3 GiB start-up peak in the city bench).
    {
        let app = app.clone();
        let ids: Vec<String> = app.halls.keys().cloned().collect();
        tokio::spawn(async move {
            for id in ids {
                app.warm_dummy_hash(&id).await;
            }
        });
    }
    let nofile = crate::listen::raise_nofile_limit();
    let limits = crate::listen::ConnLimits {
        max_connections: crate::listen::effective_cap(args.max_connections, nofile),
        per_address: args.max_connections_per_address.max(1),
        header_timeout: std::time::Duration::from_secs(args.header_timeout_s.max(1)),
    };
    tracing::info!(
        open_files = nofile,
        max_connections = limits.max_connections,
        per_address = limits.per_address,
        header_timeout_s = limits.header_timeout.as_secs(),
        "connection limits"
    );
    let listener = tokio::net::TcpListener::bind(&cfg.server.listen).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut router = crate::api::router(app.clone());
    if let Some(cluster) = &app.cluster {
        cluster.start(app.clone());
        router = router.layer(axum::middleware::from_fn_with_state(
            app.clone(),
            crate::cluster::forward::route,
        ));
    }
    let reload_app = app.clone();
    let config_path = args.config.clone();
    tokio::spawn(reload_on_sighup(reload_app, config_path));
    tokio::spawn(crate::ops::backup_on_sigusr1(store.clone(), data.clone()));
    // `[[hall.webhook]]`: delivery from the durable log.
    crate::webhooks::start(app.clone());
    let done = tokio::spawn(crate::listen::serve(listener, router, limits, async move {
        let _ = rx.await;
    }));
    Ok((
        Running {
            app: app.clone(),
            addr,
            store,
            shutdown: tx,
            done,
        },
        cfg,
        demo,
    ))
}

async fn reload_on_sighup(app: crate::app::App, path: Option<PathBuf>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            let Some(path) = &path else {
                tracing::info!("SIGHUP: the demo hall has no configuration file to reload");
                continue;
            };
            match config_file::load(path) {
                Err(e) => {
                    tracing::error!(error = %e, "reload refused; keeping the running configuration")
                }
                Ok(cfg) => {
                    for hc in cfg.halls {
                        let Some(entry) = app.halls.get(&hc.id) else {
                            tracing::warn!(hall = %hc.id, "new hall in the configuration: restart to serve it");
                            continue;
                        };
                        if let Err(e) = crate::devices::check(&hc, app.voice.as_deref()) {
                            tracing::error!(error = %e, "reload refused");
                            continue;
                        }
                        if !app.adopted.changed(&hc) {
                            tracing::info!(hall = %hc.id, "SIGHUP: this hall's section of the file is unchanged; browser edits stay");
                            continue;
                        }
                        match entry
                            .handle
                            .command(
                                Command::ReloadConfig {
                                    config: Box::new(hc.clone()),
                                },
                                Actor::Supervisor,
                            )
                            .await
                        {
                            Ok(_) => {
                                match crate::devices::HallDevices::start(
                                    &hc,
                                    app.voice.as_deref(),
                                    &entry.printer_warnings,
                                ) {
                                    Ok(d) => entry.devices.store(Arc::new(d)),
                                    Err(e) => {
                                        tracing::error!(error = %e, "devices not reloaded")
                                    }
                                }
                                app.adopted.record(&hc);
                                if let Ok(mut c) = entry.config.write() {
                                    *c = hc;
                                }
                                tracing::info!(hall = %entry.handle.id, "configuration reloaded");
                            }
                            Err(e) => {
                                tracing::error!(hall = %entry.handle.id, error = %e, "reload refused")
                            }
                        }
                    }
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (app, path);
}

fn banner(addr: SocketAddr, cfg: &Config, demo: bool) {
    let host = if addr.ip().is_unspecified() {
        format!("127.0.0.1:{}", addr.port())
    } else {
        addr.to_string()
    };
    let mut s = format!(
        "\nhallcall 排队叫号系统 — listening on http://{addr}  (data: {})\n",
        cfg.server.data
    );
    for h in &cfg.halls {
        let kiosk = h.kiosk_tokens.first().cloned().unwrap_or_default();
        let sup = h.supervisor_tokens.first().cloned().unwrap_or_default();
        s += &format!("\n  {} ({})\n", h.name, h.id);
        s += &format!("    hall display     http://{host}/display/hall?hall={}   (+ &audio=1 for speakers, &lang=en)\n", h.id);
        s += &format!(
            "    window display   http://{host}/display/window/1?hall={}\n",
            h.id
        );
        s += &format!(
            "    kiosk            http://{host}/kiosk?hall={}&token={kiosk}\n",
            h.id
        );
        s += &format!("    clerk console    http://{host}/clerk?hall={}\n", h.id);
        if let Some(w) = h.windows.iter().find(|w| w.evaluator_token.is_some()) {
            s += &format!(
                "    evaluator        http://{host}/evaluator/{}?hall={}&token={}   (评价器; one token per window)\n",
                w.number,
                h.id,
                w.evaluator_token.as_deref().unwrap_or_default()
            );
        }
        s += &format!(
            "    supervisor       http://{host}/supervisor?hall={}&token={sup}\n",
            h.id
        );
        s += &format!("    tokens           kiosk: {kiosk}   supervisor: {sup}\n");
        if demo {
            s += "    staff (id name PIN  windows as A/B post)\n";
            for st in &h.staff {
                let posts: Vec<String> = h
                    .windows
                    .iter()
                    .filter_map(|w| {
                        if w.a_post == st.id {
                            Some(format!("{}A", w.number))
                        } else if w.b_post.as_deref() == Some(st.id.as_str()) {
                            Some(format!("{}B", w.number))
                        } else {
                            None
                        }
                    })
                    .collect();
                s += &format!(
                    "      {} {}  PIN {}   {}\n",
                    st.id,
                    st.name,
                    config_file::demo_pin(&st.id),
                    posts.join(" ")
                );
            }
        }
    }
    s += &format!("\n  API: http://{host}/api/v1/openapi.json   health: http://{host}/healthz   metrics: http://{host}/metrics\n");
    println!("{s}");
}

/// `hallcall serve`: runs until SIGTERM or Ctrl-C, then finishes in-flight
/// commands and flushes the store before exiting.
pub async fn serve_main(args: ServeArgs) -> std::process::ExitCode {
    init_tracing();
    return_big_blocks_to_the_system();
    let (running, cfg, demo) = match start(&args).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hallcall: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    banner(running.addr, &cfg, demo);
    shutdown_signal().await;
    if let Some(cluster) = running.app.cluster.clone() {
        tracing::info!("shutting down: handing every hall to another node");
        cluster.drain(&running.app).await;
    }
    tracing::info!("shutting down: finishing in-flight requests");
    let _ = running.shutdown.send(());
    let _ = running.done.await;
    running.store.shutdown().await;
    tracing::info!("store flushed; bye");
    std::process::ExitCode::SUCCESS
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// argon2 allocates 19 MiB per PIN check; glibc would keep those blocks in
/// per-thread arenas for good (230 MiB idle, growing with every login).
/// Pinning the mmap threshold makes such blocks go back to the system.
fn return_big_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called before heavy allocation.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}
