//! `GET /api/v1/halls/{hall}/events?since=SEQ&view=1&ticket=ID`: snapshot or
//! missed events, then live events, in order, each once — plus, on request,
//! what the pages draw, so they need no HTTP request per event:
//!
//! * `view=1`: after the catch-up and after every batch, the hall's public
//!   view as `{"type":"view","seq":N,"view":{…}}` (serialised once per batch
//!   by the hall task and shared by every subscriber);
//! * `ticket=ID`: the ticket's status as `{"type":"ticket","seq":N,"ticket":{…}}`
//!   first and whenever it changes (a phone watching its ticket).
//!
//! Everything is served outside the hall task: the subscription is taken
//! first, then the hall's snapshot, which the task publishes before it
//! broadcasts a batch, so no event can fall between the two; missed events
//! are read from the store on the blocking pool.
//!
//! No subscriber can hold on to the server (issue 14 item 7): one that falls
//! more than the broadcast buffer behind, or that has not read a ping sent
//! more than the resume window of events ago, is closed with 1008 and
//! resumes with `since`; one whose send has been blocked longer than the
//! send timeout (it stopped reading and the socket buffers are full) is
//! dropped; one that answers no ping within the pong timeout (a dead peer) is
//! dropped. On shutdown every socket gets a 1001 close. The times are
//! [`StreamLimits`], set by environment variables.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use hallcall_core::TicketStatus;
use hallcall_store::Store;
use tokio::sync::broadcast::error::RecvError;

use crate::api::dto::EventsQuery;
use crate::api::error::ApiError;
use crate::app::App;
use crate::hall_task::{publish, HallHandle, Published};
use crate::listen::Stopping;
use crate::snapshot::Snapshot;

/// Resume from the log when at most this many events were missed; beyond
/// that a snapshot is cheaper for everyone.
pub const MAX_REPLAY: usize = 2_000;

fn flag(v: Option<&str>) -> Result<bool, ApiError> {
    match v {
        None | Some("0") | Some("false") => Ok(false),
        Some("") | Some("1") | Some("true") => Ok(true),
        Some(_) => Err(ApiError::bad_request(
            "bad_view",
            "view must be 1 or 0 (true or false)",
        )),
    }
}

/// How long a subscriber may hold the server, from the environment (read
/// once): `HALLCALL_WS_SEND_TIMEOUT_MS` (default 5,000: a send blocked this
/// long drops the socket), `HALLCALL_WS_PING_MS` (default 15,000: a ping
/// this often), `HALLCALL_WS_PONG_TIMEOUT_MS` (default 15,000: no answer to
/// a ping within this drops the socket). The most events a subscriber may
/// leave unread is the store's resume window, so that it can always resume
/// with `since`; `HALLCALL_WS_MAX_BEHIND` may only lower it (tests, or a
/// hall that would rather resend a snapshot sooner).
#[derive(Clone, Copy, Debug)]
pub struct StreamLimits {
    pub send_timeout: Duration,
    pub ping_every: Duration,
    pub pong_timeout: Duration,
    pub max_behind: Option<u64>,
}

impl StreamLimits {
    pub fn get() -> StreamLimits {
        static LIMITS: OnceLock<StreamLimits> = OnceLock::new();
        *LIMITS.get_or_init(|| {
            let ms = |name: &str, default: u64| {
                let v = std::env::var(name)
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(default)
                    .max(10);
                Duration::from_millis(v)
            };
            StreamLimits {
                send_timeout: ms("HALLCALL_WS_SEND_TIMEOUT_MS", 5_000),
                ping_every: ms("HALLCALL_WS_PING_MS", 15_000),
                pong_timeout: ms("HALLCALL_WS_PONG_TIMEOUT_MS", 15_000),
                max_behind: std::env::var("HALLCALL_WS_MAX_BEHIND")
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|n| n.max(1)),
            }
        })
    }
}

pub async fn events(
    State(app): State<App>,
    Path(hall): Path<String>,
    stopping: Option<axum::Extension<Stopping>>,
    Query(q): Query<EventsQuery>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let entry = app.hall(&hall)?;
    let since =
        match q.since.as_deref() {
            None | Some("") => None,
            Some(s) => Some(s.parse::<u64>().map_err(|_| {
                ApiError::bad_request("bad_since", "since must be a sequence number")
            })?),
        };
    let want_view = flag(q.view.as_deref())?;
    let ticket = match q.ticket {
        Some(id) if !id.is_empty() => {
            if !entry.handle.snapshot().ticket_exists(&id) {
                return Err(ApiError::not_found(
                    "unknown_ticket",
                    "no such ticket today",
                ));
            }
            Some(id)
        }
        _ => None,
    };
    let ws = ws.map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::UPGRADE_REQUIRED,
            "websocket_required",
            format!("this path is a WebSocket: {}", e.body_text()),
        )
    })?;
    let handle = entry.handle.clone();
    // Several nodes: a client resuming here from another node waits until
    // this node's tail has reached its `since`.
    crate::cluster::await_seq(&app, &hall, since).await;
    let (rx, snap, first) = catch_up(&handle, &app.store, since).await?;
    let opts = Watch {
        view: want_view,
        ticket,
        handle: handle.clone(),
        stopping: stopping.map(|axum::Extension(s)| s),
        max_behind: StreamLimits::get()
            .max_behind
            .map_or(app.store.options().resume_window, |m| {
                m.min(app.store.options().resume_window)
            }),
    };
    let metrics = handle.metrics.clone();
    // Displays send nothing: a small read buffer saves tungstenite zero-filling
    // 128 KiB per subscriber on every poll (30 % of fan-out CPU, 130 KiB RSS
    // per display; see crates/server/BENCH.md).
    Ok(ws
        .read_buffer_size(4 * 1024)
        .max_message_size(4 * 1024)
        .on_upgrade(move |socket| async move {
            metrics.subscribers.fetch_add(1, Ordering::Relaxed);
            serve_socket(socket, rx, snap, first, opts).await;
            metrics.subscribers.fetch_sub(1, Ordering::Relaxed);
        }))
}

/// What a new subscriber gets before live events: the subscription, the
/// snapshot it starts from, and either the missed events (`since` recent
/// enough) or one `snapshot` message. Never enters the hall task.
async fn catch_up(
    handle: &HallHandle,
    store: &Store,
    since: Option<u64>,
) -> Result<
    (
        tokio::sync::broadcast::Receiver<Published>,
        Arc<Snapshot>,
        First,
    ),
    ApiError,
> {
    // Subscribe first, then load: the task publishes a batch's snapshot
    // before broadcasting it, so every event newer than this snapshot is
    // still to come on `rx`.
    let rx = handle.events.subscribe();
    let snap = handle.snapshot();
    let seq = snap.seq;
    let missed = match since {
        Some(s) if s == seq => Some(Vec::new()),
        Some(s) if s < seq && (seq - s) as usize <= MAX_REPLAY => {
            let store = store.clone();
            let hall = handle.id.to_string();
            tokio::task::spawn_blocking(move || store.events_since(&hall, s, MAX_REPLAY))
                .await
                .map_err(|e| ApiError::internal(e.to_string()))?
                .ok()
                .flatten()
                .map(|mut evs| {
                    // The store may already hold events of a batch the
                    // snapshot does not include yet: those come live.
                    evs.retain(|e| e.seq <= seq);
                    evs
                })
                .filter(|evs| {
                    evs.first().map(|e| e.seq) == Some(s + 1)
                        && evs.last().map(|e| e.seq) == Some(seq)
                })
                .map(|evs| evs.iter().map(|e| publish(e).json).collect::<Vec<_>>())
        }
        _ => None,
    };
    let first = match missed {
        Some(list) => First::Missed(list),
        None => First::Snapshot(Utf8Bytes::from(format!(
            "{{\"type\":\"snapshot\",\"seq\":{seq},\"state\":{}}}",
            snap.view.as_str()
        ))),
    };
    Ok((rx, snap, first))
}

/// How a subscriber catches up.
enum First {
    /// The events after its `since`, up to the snapshot.
    Missed(Vec<Utf8Bytes>),
    /// One `snapshot` message (it holds the view).
    Snapshot(Utf8Bytes),
}

/// What a subscriber asked for besides events.
struct Watch {
    view: bool,
    ticket: Option<String>,
    handle: HallHandle,
    /// Set when the server shuts down (absent when the router is served
    /// by something other than [`crate::listen::serve`]).
    stopping: Option<Stopping>,
    /// Most events sent but not yet read (the store's resume window).
    max_behind: u64,
}

impl Watch {
    /// The ticket message, if the status differs from the last one sent.
    fn ticket_update(&self, snap: &Snapshot, last: &mut Option<TicketStatus>) -> Option<Utf8Bytes> {
        let id = self.ticket.as_deref()?;
        let st = snap.ticket_status(id);
        if st.is_none() || st == *last {
            return None;
        }
        let msg = serde_json::json!({"type": "ticket", "seq": snap.seq, "ticket": st});
        *last = st;
        Some(Utf8Bytes::from(msg.to_string()))
    }
}

/// What a page may send on its socket: `{"type":"subscribe","view":true,
/// "ticket":"<id>"}` asks for what the query's `view=1` and `ticket=` ask
/// for, so a page's URL stays `events?since=N`.
#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum ClientMsg {
    Subscribe {
        #[serde(default)]
        view: bool,
        #[serde(default)]
        ticket: Option<String>,
    },
}

/// Time without a message after which a `view` subscriber gets a heartbeat,
/// so a page can tell a quiet hall from a dead link.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(30);

fn heartbeat() -> Utf8Bytes {
    let now = hallcall_core::time::rfc3339(crate::hall_task::now_ms());
    Utf8Bytes::from(format!("{{\"type\":\"heartbeat\",\"now\":\"{now}\"}}"))
}

fn ws_error(code: &str, message: &str) -> Utf8Bytes {
    Utf8Bytes::from(
        serde_json::json!({"type": "error", "error": {"code": code, "message": message}})
            .to_string(),
    )
}

/// A socket's state: what it has sent, what it watches.
struct Session {
    watch: Watch,
    /// Last event seq sent.
    last: u64,
    /// Seq of the last view this socket has (sent, or inside its snapshot).
    last_view: u64,
    sent_ticket: Option<TicketStatus>,
}

impl Session {
    /// Messages that follow a batch's end (`seq`): its view, the ticket.
    fn after_batch(&mut self, p: &Published) -> Vec<Utf8Bytes> {
        let mut out = Vec::new();
        if p.seq <= self.last_view {
            return out;
        }
        self.last_view = p.seq;
        if self.watch.view {
            out.push(p.json.clone());
        }
        if self.watch.ticket.is_some() {
            let snap = self.watch.handle.snapshot();
            out.extend(self.watch.ticket_update(&snap, &mut self.sent_ticket));
        }
        out
    }

    /// A `subscribe` message: acknowledge, then what is due now.
    fn subscribe(&mut self, view: bool, ticket: Option<String>) -> Vec<Utf8Bytes> {
        let snap = self.watch.handle.snapshot();
        if let Some(id) = ticket.filter(|t| !t.is_empty()) {
            if !snap.ticket_exists(&id) {
                return vec![ws_error("unknown_ticket", "no such ticket today")];
            }
            self.watch.ticket = Some(id);
            self.sent_ticket = None;
        }
        let newly_view = view && !self.watch.view;
        self.watch.view |= view;
        let mut out = vec![Utf8Bytes::from(
            serde_json::json!({
                "type": "subscribed",
                "view": self.watch.view,
                "ticket": self.watch.ticket.is_some(),
                "now": hallcall_core::time::rfc3339(crate::hall_task::now_ms()),
            })
            .to_string(),
        )];
        // Views and statuses newer than the events this socket has sent
        // come after those events, at their batch's end.
        if snap.seq <= self.last {
            if newly_view {
                out.push(snap.view_msg.clone());
                self.last_view = self.last_view.max(snap.seq);
            }
            out.extend(self.watch.ticket_update(&snap, &mut self.sent_ticket));
        }
        out
    }
}

/// Sends `msgs`; false when the socket failed or the sends stayed blocked
/// longer than `limit` (a client that stopped reading: drop it).
async fn send_all(socket: &mut WebSocket, msgs: Vec<Utf8Bytes>, limit: Duration) -> bool {
    let sending = async {
        for m in msgs {
            if socket.send(Message::Text(m)).await.is_err() {
                return false;
            }
        }
        true
    };
    match tokio::time::timeout(limit, sending).await {
        Ok(ok) => ok,
        Err(_) => {
            tracing::info!(
                timeout_ms = limit.as_millis() as u64,
                "dropping a subscriber whose send stayed blocked"
            );
            false
        }
    }
}

/// Sends a close frame, giving a peer that reads nothing a moment only.
async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }));
    let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(frame)).await;
}

/// Resolves when the server starts shutting down (never without a signal).
async fn stopped(stopping: &mut Option<Stopping>) {
    match stopping {
        Some(Stopping(rx)) => {
            if rx.wait_for(|&stop| stop).await.is_err() {
                std::future::pending::<()>().await
            }
        }
        None => std::future::pending::<()>().await,
    }
}

/// The ping in flight: when it was sent and the last event seq sent before
/// it (its payload, echoed by the pong).
#[derive(Clone, Copy)]
struct PingOut {
    at: tokio::time::Instant,
    seq: u64,
}

async fn serve_socket(
    mut socket: WebSocket,
    mut rx: tokio::sync::broadcast::Receiver<Published>,
    snap: Arc<Snapshot>,
    first: First,
    watch: Watch,
) {
    let mut s = Session {
        watch,
        last: snap.seq,
        last_view: snap.seq,
        sent_ticket: None,
    };
    let mut opening = match first {
        First::Snapshot(msg) => vec![msg],
        First::Missed(mut list) => {
            if s.watch.view {
                list.push(snap.view_msg.clone());
            }
            list
        }
    };
    opening.extend(s.watch.ticket_update(&snap, &mut s.sent_ticket));
    drop(snap);
    let limits = StreamLimits::get();
    if !send_all(&mut socket, opening, limits.send_timeout).await {
        return;
    }
    let mut stopping = s.watch.stopping.take();
    let mut quiet = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    let mut pings = tokio::time::interval_at(
        tokio::time::Instant::now() + limits.ping_every,
        limits.ping_every,
    );
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ping_out: Option<PingOut> = None;
    loop {
        if let Some(p) = ping_out {
            if s.last.saturating_sub(p.seq) > s.watch.max_behind {
                tracing::info!(
                    behind = s.last - p.seq,
                    "dropping a subscriber more than the resume window behind"
                );
                close(&mut socket, 1008, "too far behind; reconnect with since").await;
                return;
            }
        }
        let out = tokio::select! {
            () = stopped(&mut stopping) => {
                close(&mut socket, 1001, "server shutting down").await;
                return;
            }
            _ = pings.tick() => {
                match ping_out {
                    Some(p) if p.at.elapsed() >= limits.pong_timeout => {
                        tracing::info!("dropping a subscriber that answers no ping");
                        close(&mut socket, 1008, "no pong").await;
                        return;
                    }
                    Some(_) => continue,
                    None => {
                        ping_out = Some(PingOut { at: tokio::time::Instant::now(), seq: s.last });
                        let ping = Message::Ping(s.last.to_be_bytes().to_vec().into());
                        match tokio::time::timeout(limits.send_timeout, socket.send(ping)).await {
                            Ok(Ok(())) => continue,
                            _ => return,
                        }
                    }
                }
            }
            ev = rx.recv() => match ev {
                Ok(p) if p.is_view() => s.after_batch(&p),
                Ok(p) => {
                    if p.seq <= s.last {
                        continue;
                    }
                    s.last = p.seq;
                    vec![p.json]
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::info!(missed = n, "dropping a subscriber that fell behind");
                    close(&mut socket, 1008, "too slow; reconnect with since").await;
                    return;
                }
                Err(RecvError::Closed) => {
                    close(&mut socket, 1001, "server shutting down").await;
                    return;
                }
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(Message::Pong(payload))) => {
                    // The answer to the ping in flight (its payload is the
                    // seq it was sent at); anything else is unsolicited.
                    if ping_out.is_some_and(|p| payload.as_ref() == p.seq.to_be_bytes()) {
                        ping_out = None;
                    }
                    continue;
                }
                Some(Ok(Message::Text(t))) => match serde_json::from_str::<ClientMsg>(t.as_str()) {
                    Ok(ClientMsg::Subscribe { view, ticket }) => s.subscribe(view, ticket),
                    Err(e) => vec![ws_error("bad_message", &format!("expected {{\"type\":\"subscribe\",\"view\":true,\"ticket\":\"<id>\"}}: {e}"))],
                },
                Some(Ok(_)) => continue,
            },
            _ = quiet.tick() => {
                if !s.watch.view {
                    continue;
                }
                vec![heartbeat()]
            }
        };
        if out.is_empty() {
            continue;
        }
        quiet.reset();
        if !send_all(&mut socket, out, limits.send_timeout).await {
            return;
        }
    }
}
