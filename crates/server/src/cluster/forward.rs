//! Any node answers for any hall: a middleware in front of the API sends
//! every request for a hall this node does not own to the owner's
//! advertised address, and answers the rest here.
//!
//! What is forwarded: every `…/halls/{hall}/…` request except the event
//! stream (WebSocket), which every node serves from its own tail. Reads are
//! forwarded too, so a client reads its own writes whichever node the proxy
//! picks (a follower's state may be a few milliseconds behind).
//!
//! Retries, and why they are safe: a request is tried again (until
//! `2 × lease + 1 s` have passed) only when it certainly did nothing — no
//! owner known yet, the owner's port refused the connection, or a node
//! answered `503 not_owner` (a follower refuses before deciding anything;
//! an append fenced by a lapsed lease writes nothing). A request whose
//! owner died after receiving it is not retried: its outcome is unknown, and
//! the client gets `502 owner_unreachable`. A forwarded request carries
//! `x-hallcall-forwarded`; a node that receives one for a hall it does not
//! own answers `503 not_owner` instead of forwarding again, so requests
//! never loop.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;

use super::Cluster;
use crate::api::error::ApiError;
use crate::app::App;

/// Marks a request one node forwarded to another (its value: the sender).
pub const FORWARDED: &str = "x-hallcall-forwarded";
/// Time to connect to an owner before trying again.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Time for the owner's answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a forward waiting for its answer checks the owner's lease.
const LEASE_CHECK: Duration = Duration::from_millis(250);
/// Pause between attempts while nobody owns the hall.
const PAUSE: Duration = Duration::from_millis(50);
/// Largest body forwarded (the API's own limit is 16 KiB).
const MAX_BODY: usize = 64 * 1024;

/// The hall of an API path that is forwarded, if any.
fn hall_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/v1/halls/")?;
    let (hall, tail) = rest.split_once('/')?;
    if hall.is_empty() || tail.is_empty() || tail == "events" {
        return None;
    }
    Some(hall)
}

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn route(State(app): State<App>, req: Request, next: Next) -> Response {
    let Some(cluster) = app.cluster.clone() else {
        return next.run(req).await;
    };
    let hall = match hall_of(req.uri().path()) {
        Some(h) if app.halls.contains_key(h) => h.to_string(),
        _ => return next.run(req).await,
    };
    let forwarded = req.headers().contains_key(FORWARDED);
    let handle = match app.hall(&hall) {
        Ok(e) => e.handle.clone(),
        Err(_) => return next.run(req).await,
    };
    if forwarded {
        // One hop only: the sender retries with a fresh view of the owners.
        if handle.is_owner() {
            return next.run(req).await;
        }
        return not_owner(&cluster);
    }
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the request body is too large",
            )
            .into_response()
        }
    };
    let deadline = tokio::time::Instant::now() + cluster.opts.lease * 2 + Duration::from_secs(1);
    let mut attempt = 0u32;
    loop {
        if attempt > 0 {
            cluster
                .metrics
                .forward_retries
                .fetch_add(1, Ordering::Relaxed);
            if tokio::time::Instant::now() >= deadline {
                cluster.metrics.no_owner.fetch_add(1, Ordering::Relaxed);
                return no_owner(&hall);
            }
            tokio::time::sleep(PAUSE).await;
            cluster.refresh_owners().await;
        }
        attempt += 1;
        if handle.is_owner() {
            let mut local = Request::new(Body::from(body.clone()));
            *local.method_mut() = parts.method.clone();
            *local.uri_mut() = parts.uri.clone();
            *local.version_mut() = parts.version;
            *local.headers_mut() = parts.headers.clone();
            *local.extensions_mut() = parts.extensions.clone();
            let resp = next.clone().run(local).await;
            match refused_unless_done(resp).await {
                Ok(resp) => return resp,
                Err(()) => continue,
            }
        }
        let owner = match cluster.owner_of(&hall) {
            Some(l) if l.node != cluster.opts.node => l,
            // Nobody, or this node before its task has caught up: wait.
            _ => continue,
        };
        match send(
            &owner,
            &parts.method,
            &parts.uri,
            &parts.headers,
            body.clone(),
            &cluster,
        )
        .await
        {
            Ok(resp) => {
                cluster.metrics.forwarded.fetch_add(1, Ordering::Relaxed);
                match refused_unless_done(resp).await {
                    Ok(resp) => return resp,
                    Err(()) => continue,
                }
            }
            Err(Sent::No(why)) => {
                tracing::debug!(hall, owner = %owner.node, error = %why, "owner unreachable; retrying");
                cluster.refresh_owners().await;
                continue;
            }
            Err(Sent::Unknown(why)) => {
                cluster
                    .metrics
                    .forward_failures
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(hall, owner = %owner.node, error = %why, "the owner failed while answering");
                return ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "owner_unreachable",
                    format!(
                        "node {} (owner of hall {hall}) failed while answering; whether the request took effect is unknown: check before repeating it",
                        owner.node
                    ),
                )
                .into_response();
            }
        }
    }
}

/// `Err(())` when `resp` is a `503 not_owner` (nothing was done: retry).
async fn refused_unless_done(resp: Response) -> Result<Response, ()> {
    if resp.status() != StatusCode::SERVICE_UNAVAILABLE {
        return Ok(resp);
    }
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    let code = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_string));
    if matches!(code.as_deref(), Some("not_owner") | Some("no_owner")) {
        return Err(());
    }
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

fn retry_later(code: &'static str, message: String) -> Response {
    let mut r = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message).into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

fn not_owner(c: &Cluster) -> Response {
    retry_later(
        "not_owner",
        format!("node {} does not own this hall now; retry", c.opts.node),
    )
}

fn no_owner(hall: &str) -> Response {
    retry_later(
        "no_owner",
        format!("no node owns hall {hall} yet (a takeover is under way); retry in a second"),
    )
}

/// Why a forward did not produce an answer.
enum Sent {
    /// The request never reached the owner: safe to send again.
    No(String),
    /// It may have reached it: the outcome is unknown.
    Unknown(String),
}

/// Hop-by-hop headers, which a proxy must not pass on.
fn hop_by_hop(name: &header::HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "upgrade"
            | "te"
            | "trailer"
            | "host"
    )
}

/// Sends one request to `owner` on a fresh connection (HTTP/1.1). Gives
/// up (outcome unknown) if the owner's lease moves away while it holds the
/// request — a frozen owner — rather than waiting for it to wake: what it
/// committed before its lease lapsed stands, and after that it can only
/// refuse a forwarded request (`not_owner`, one hop), so nothing is
/// repeated by giving up.
async fn send(
    owner: &hallcall_store::Lease,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
    c: &Arc<Cluster>,
) -> Result<Response, Sent> {
    let addr = owner.addr.as_str();
    let stream =
        match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(Sent::No(e.to_string())),
            Err(_) => return Err(Sent::No("connect timed out".into())),
        };
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| Sent::No(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut req = hyper::Request::builder().method(method.clone()).uri(path);
    for (k, v) in headers {
        if !hop_by_hop(k) {
            req = req.header(k, v);
        }
    }
    let req = req
        .header(header::HOST, addr)
        .header(FORWARDED, c.opts.node.as_str())
        .body(Body::from(body))
        .map_err(|e| Sent::No(e.to_string()))?;
    let lapsed = async {
        loop {
            tokio::time::sleep(LEASE_CHECK).await;
            // The controller refreshes the map every renewal period.
            if c.owner_of(&owner.hall).is_none_or(|l| l.node != owner.node) {
                return;
            }
        }
    };
    let resp = tokio::select! {
        r = tokio::time::timeout(ANSWER_TIMEOUT, sender.send_request(req)) => match r {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(Sent::Unknown(e.to_string())),
            Err(_) => return Err(Sent::Unknown("no answer in time".into())),
        },
        () = lapsed => return Err(Sent::Unknown(format!("the lease of node {} lapsed while it held the request", owner.node))),
    };
    Ok(resp.map(Body::new))
}
