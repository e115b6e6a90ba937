//! `GET /api/v1/halls/{hall}/events?since=SEQ`: snapshot or missed events,
//! then live events, in order, each once. The subscription and the snapshot
//! (or the missed events) are taken inside the hall task between two
//! batches, so nothing can fall between them. A subscriber that falls more
//! than the broadcast buffer behind is dropped and resumes with `since`.

use std::sync::atomic::Ordering;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use tokio::sync::broadcast::error::RecvError;

use crate::api::dto::EventsQuery;
use crate::api::error::ApiError;
use crate::app::App;
use crate::hall_task::{publish, Published};

/// Resume from the log when at most this many events were missed; beyond
/// that a snapshot is cheaper for everyone.
pub const MAX_REPLAY: usize = 2_000;

pub async fn events(
    State(app): State<App>,
    Path(hall): Path<String>,
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
    let ws = ws.map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::UPGRADE_REQUIRED,
            "websocket_required",
            format!("this path is a WebSocket: {}", e.body_text()),
        )
    })?;
    let handle = entry.handle.clone();
    let store = app.store.clone();
    let sender = handle.events.clone();
    let hall_id = hall.clone();
    // Subscribe and take the catch-up atomically with respect to broadcasts.
    let (rx, first) = handle
        .read(move |h, now| {
            let rx = sender.subscribe();
            let seq = h.seq();
            let missed = match since {
                Some(s) if s == seq => Some(Vec::new()),
                Some(s) if s < seq && (seq - s) as usize <= MAX_REPLAY => store
                    .events_since(&hall_id, s, MAX_REPLAY)
                    .ok()
                    .flatten()
                    .filter(|evs| {
                        evs.first().map(|e| e.seq) == Some(s + 1)
                            && evs.last().map(|e| e.seq) == Some(seq)
                    })
                    .map(|evs| {
                        evs.iter()
                            .map(|e| publish(e).json.to_string())
                            .collect::<Vec<_>>()
                    }),
                _ => None,
            };
            let first = match missed {
                Some(list) => list,
                None => vec![
                    serde_json::json!({"type": "snapshot", "seq": seq, "state": h.view(now)})
                        .to_string(),
                ],
            };
            (rx, (seq, first))
        })
        .await?;
    let metrics = handle.metrics.clone();
    // Displays send nothing: a small read buffer saves tungstenite zero-filling
    // 128 KiB per subscriber on every poll (30 % of fan-out CPU, 130 KiB RSS
    // per display; see crates/server/BENCH.md).
    Ok(ws
        .read_buffer_size(4 * 1024)
        .on_upgrade(move |socket| async move {
            metrics.subscribers.fetch_add(1, Ordering::Relaxed);
            serve_socket(socket, rx, first).await;
            metrics.subscribers.fetch_sub(1, Ordering::Relaxed);
        }))
}

async fn serve_socket(
    mut socket: WebSocket,
    mut rx: tokio::sync::broadcast::Receiver<Published>,
    (mut last, first): (u64, Vec<String>),
) {
    for msg in first {
        if socket.send(Message::Text(msg.into())).await.is_err() {
            return;
        }
    }
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Ok(p) => {
                    if p.seq <= last {
                        continue;
                    }
                    last = p.seq;
                    if socket.send(Message::Text(p.json.to_string().into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::info!(missed = n, "dropping a subscriber that fell behind");
                    let _ = socket
                        .send(Message::Close(Some(CloseFrame { code: 1008, reason: "too slow; reconnect with since".into() })))
                        .await;
                    return;
                }
                Err(RecvError::Closed) => {
                    let _ = socket.send(Message::Close(Some(CloseFrame { code: 1001, reason: "server shutting down".into() }))).await;
                    return;
                }
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
