//! The accept loop: how connections are let in, bounded and timed out, so no
//! client can starve the server of file descriptors or tasks.
//!
//! `axum::serve` accepts without bound, sets no header-read timeout (hyper's
//! needs a timer, which it does not give), and sleeps a whole second after
//! an accept error, so 10,000 idle sockets or a slowloris kept `/healthz`
//! from answering. This loop, over hyper's HTTP/1 connection builder:
//!
//! - raises the soft `RLIMIT_NOFILE` to the hard limit at start
//!   ([`raise_nofile_limit`]);
//! - admits at most `max_connections` at once, kept [`FD_RESERVE`] below the
//!   descriptor limit so the store, the logs and the next accept always
//!   have descriptors, and at most `per_address` from one client address;
//!   a connection over either cap is closed at once (the backlog keeps
//!   draining, so the next client is not stuck behind it);
//! - closes a connection that has not sent a complete request head within
//!   `header_timeout` — both a slowloris and an idle keep-alive connection
//!   waiting for its next request (hyper runs the same timer for both);
//! - serves HTTP/1.1 only (browsers speak nothing else over plain HTTP and
//!   a proxy speaks HTTP/1.1 upstream; no HTTP/2 streams to bound), with
//!   upgrades for the WebSocket: after the upgrade the socket belongs to the
//!   event stream and these timers stop, but it keeps its place in the caps;
//! - on shutdown stops accepting, asks every connection to finish its
//!   request in flight, tells every event stream ([`Stopping`]: each sends
//!   its WebSocket a 1001 close), and waits for them all (at most [`DRAIN`]);
//! - answers the requests hyper refuses before the router sees them (a URI
//!   over 64 KiB: 414, request head too large: 431, unparsable: 400) with
//!   the API's JSON error body instead of an empty one ([`JsonErrors`]).

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::Layer;

/// Descriptors kept free below the limit for everything but client sockets.
pub const FD_RESERVE: u64 = 512;
/// Default cap on open client connections.
pub const MAX_CONNECTIONS: usize = 50_000;
/// Default cap on open connections from one client address.
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 1_000;
/// Default time a client has to send a complete request head, and the most
/// an idle keep-alive connection is kept.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for connections to finish.
pub const DRAIN: Duration = Duration::from_secs(10);

/// Set to `true` when the server starts shutting down; every event stream
/// watches it (an axum `Extension` on every request) and closes its socket
/// with 1001.
#[derive(Clone)]
pub struct Stopping(pub tokio::sync::watch::Receiver<bool>);

/// How connections are bounded.
#[derive(Clone, Copy, Debug)]
pub struct ConnLimits {
    pub max_connections: usize,
    pub per_address: usize,
    pub header_timeout: Duration,
}

static OPEN: AtomicU64 = AtomicU64::new(0);
static ACCEPTED: AtomicU64 = AtomicU64::new(0);
static REFUSED_GLOBAL: AtomicU64 = AtomicU64::new(0);
static REFUSED_ADDRESS: AtomicU64 = AtomicU64::new(0);
static ACCEPT_ERRORS: AtomicU64 = AtomicU64::new(0);
static CAP: AtomicU64 = AtomicU64::new(0);

/// Raises the soft limit of open files to the hard limit; returns the soft
/// limit now in force (None where there is no such limit).
pub fn raise_nofile_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit only read/write the struct we pass.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return None;
            }
            if lim.rlim_cur < lim.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: lim.rlim_max,
                    rlim_max: lim.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    lim = raised;
                } else {
                    tracing::warn!(
                        soft = lim.rlim_cur,
                        hard = lim.rlim_max,
                        "could not raise the open-files limit"
                    );
                }
            }
        }
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
        Some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    None
}

/// The connection cap actually used: the requested one, kept below the
/// descriptor limit.
pub fn effective_cap(requested: usize, nofile: Option<u64>) -> usize {
    match nofile {
        Some(n) => requested.min(n.saturating_sub(FD_RESERVE).max(16) as usize),
        None => requested,
    }
}

/// Open connections per client address, and the total.
#[derive(Default)]
struct Table {
    per_address: Mutex<HashMap<IpAddr, usize>>,
    /// Open connections of this listener (`OPEN` counts all, for metrics).
    open: AtomicU64,
    /// Connections still speaking HTTP (not handed over by an upgrade):
    /// what shutdown waits for.
    serving: AtomicU64,
}

/// A place in the table, given back when the connection ends.
struct Admitted {
    table: Arc<Table>,
    ip: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::Relaxed);
        self.table.open.fetch_sub(1, Ordering::Relaxed);
        let mut m = self
            .table
            .per_address
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

impl Table {
    fn admit(self: &Arc<Self>, ip: IpAddr, limits: &ConnLimits) -> Option<Admitted> {
        let mut m = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
        if self.open.load(Ordering::Relaxed) as usize >= limits.max_connections {
            REFUSED_GLOBAL.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let n = m.entry(ip).or_insert(0);
        if *n >= limits.per_address {
            REFUSED_ADDRESS.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *n += 1;
        self.open.fetch_add(1, Ordering::Relaxed);
        OPEN.fetch_add(1, Ordering::Relaxed);
        Some(Admitted {
            table: self.clone(),
            ip,
        })
    }
}

/// A client socket that holds its place in the connection table until it
/// is closed, wherever it ends up (an upgraded WebSocket included).
struct Counted {
    io: tokio::net::TcpStream,
    _place: Admitted,
    json: JsonErrors,
}

/// Rewrites hyper's automatic answers to requests it cannot parse — a bare
/// `400`, `414` or `431` with `content-length: 0`, written before the router
/// sees anything — into the API's error shape. The router never sends a
/// 4xx without a body, so such a head is always hyper's.
#[derive(Default)]
struct JsonErrors {
    /// The replacement being written, and how much of it is out.
    pending: Option<(Vec<u8>, usize)>,
}

impl JsonErrors {
    /// The JSON answer for hyper's automatic error head `buf`, if it is one.
    fn replacement(buf: &[u8]) -> Option<Vec<u8>> {
        let head = std::str::from_utf8(buf.get(..buf.len().min(512))?).ok()?;
        let (code, message) = match head.get(..13)? {
            "HTTP/1.1 400 " => ("bad_request", "the request could not be parsed as HTTP/1.1"),
            "HTTP/1.1 414 " => (
                "uri_too_long",
                "the request URI is longer than 65,534 bytes",
            ),
            "HTTP/1.1 431 " => (
                "headers_too_large",
                "the request head (request line and headers) is too large",
            ),
            _ => return None,
        };
        if !head
            .to_ascii_lowercase()
            .contains("\r\ncontent-length: 0\r\n")
        {
            return None;
        }
        let status_line = &head[..head.find("\r\n")?];
        let body = serde_json::json!({"error": {"code": code, "message": message}}).to_string();
        Some(
            format!(
                "{status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    }
}

impl tokio::io::AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let me = self.get_mut();
        if me.json.pending.is_none() {
            if let Some(r) = JsonErrors::replacement(buf) {
                me.json.pending = Some((r, 0));
            }
        }
        // Write the replacement in place of `buf`, then report `buf` written.
        while let Some((r, done)) = me.json.pending.as_mut() {
            if *done == r.len() {
                me.json.pending = None;
                return Poll::Ready(Ok(buf.len()));
            }
            match Pin::new(&mut me.io).poll_write(cx, &r[*done..]) {
                Poll::Ready(Ok(n)) => *done += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Pin::new(&mut me.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        // Heads go through `poll_write`, where they can be looked at.
        let buf = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &**b);
        self.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then drains.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send,
) {
    CAP.store(limits.max_connections as u64, Ordering::Relaxed);
    let table = Arc::new(Table::default());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let router = router.layer(axum::Extension(Stopping(stop_rx.clone())));
    let mut last_refusal_log = tokio::time::Instant::now() - Duration::from_secs(60);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    ACCEPT_ERRORS.fetch_add(1, Ordering::Relaxed);
                    if !is_connection_error(&e) {
                        // Out of descriptors or memory: let a moment pass,
                        // but not a whole second of refusing everyone.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(admitted) = table.admit(peer.ip(), &limits) else {
            drop(stream);
            let now = tokio::time::Instant::now();
            if now.duration_since(last_refusal_log) >= Duration::from_secs(10) {
                last_refusal_log = now;
                tracing::warn!(
                    peer = %peer.ip(),
                    open = table.open.load(Ordering::Relaxed),
                    cap = limits.max_connections,
                    per_address = limits.per_address,
                    "connection refused: over the connection cap (logged at most every 10 s)"
                );
            }
            continue;
        };
        ACCEPTED.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        let svc =
            TowerToHyperService::new(axum::Extension(ConnectInfo(peer)).layer(router.clone()));
        let mut stop = stop_rx.clone();
        let table_of_task = table.clone();
        table.serving.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let table = table_of_task;
            let mut b = hyper::server::conn::http1::Builder::new();
            b.timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .keep_alive(true);
            // The place is held by the socket itself, so a WebSocket keeps
            // counting after the upgrade hands the socket to the event stream.
            let io = Counted {
                io: stream,
                _place: admitted,
                json: JsonErrors::default(),
            };
            let conn = b.serve_connection(TokioIo::new(io), svc).with_upgrades();
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            table.serving.fetch_sub(1, Ordering::Relaxed);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let deadline = tokio::time::Instant::now() + DRAIN;
    // Requests in flight, then the event streams' 1001 closes: every
    // socket gives its place back when it is closed.
    while (table.serving.load(Ordering::Relaxed) > 0 || table.open.load(Ordering::Relaxed) > 0)
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Errors of one connection (the peer gave up before we accepted it).
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// Prometheus lines for the connection counters.
pub fn render_metrics(out: &mut String) {
    use std::fmt::Write;
    let lines: [(&str, &str, &str, &AtomicU64); 6] = [
        (
            "hallcall_connections_open",
            "gauge",
            "client connections open now",
            &OPEN,
        ),
        (
            "hallcall_connections_cap",
            "gauge",
            "the cap on open client connections",
            &CAP,
        ),
        (
            "hallcall_connections_accepted_total",
            "counter",
            "client connections admitted",
            &ACCEPTED,
        ),
        (
            "hallcall_connections_refused_cap_total",
            "counter",
            "connections closed at once: the server was at its connection cap",
            &REFUSED_GLOBAL,
        ),
        (
            "hallcall_connections_refused_address_total",
            "counter",
            "connections closed at once: their address was at its cap",
            &REFUSED_ADDRESS,
        ),
        (
            "hallcall_accept_errors_total",
            "counter",
            "failed accepts (e.g. out of descriptors)",
            &ACCEPT_ERRORS,
        ),
    ];
    for (name, kind, help, v) in lines {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        let _ = writeln!(out, "{name} {}", v.load(Ordering::Relaxed));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_stays_below_the_descriptor_limit() {
        assert_eq!(
            effective_cap(50_000, Some(4096)),
            4096 - FD_RESERVE as usize
        );
        assert_eq!(effective_cap(1000, Some(1_048_576)), 1000);
        assert_eq!(effective_cap(1000, None), 1000);
    }
}
