//! One hook of one hall: reads the durable log from the hook's position,
//! posts each wanted event in seq order and moves the position only after
//! the receiver answered 2xx. A failure is retried, the same event, after a
//! pause that doubles up to `retry_max_s`: never skipped, never overtaken.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use hallcall_core::config::WebhookConfig;
use hallcall_core::Event;
use hallcall_store::Store;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use super::position::Positions;
use super::{body_of, signature, EVENT_HEADER, SIGNATURE_HEADER};
use crate::hall_task::HallHandle;

/// Events read from the log at a time.
const READ_BATCH: usize = 256;
/// With nothing new, the hook looks at the log again after this long even
/// without a wake-up from the hall's broadcast.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// Time to connect to the receiver.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest answer read from a receiver (its body is ignored).
const MAX_ANSWER: usize = 64 * 1024;

/// Where an `http://` URL points.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Target {
    /// `host:port` to connect to.
    pub addr: String,
    /// The `Host` header.
    pub host: String,
    /// Path and query.
    pub path: String,
}

impl Target {
    pub(super) fn parse(url: &str) -> Option<Target> {
        let rest = url.strip_prefix("http://")?;
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (host, path) = rest.split_at(split);
        if host.is_empty() {
            return None;
        }
        let has_port = match host.rfind(']') {
            Some(i) => host[i..].contains(':'),
            None => host.contains(':'),
        };
        let addr = if has_port {
            host.to_string()
        } else {
            format!("{host}:80")
        };
        let path = match path {
            "" => "/".to_string(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_string(),
        };
        Some(Target {
            addr,
            host: host.to_string(),
            path,
        })
    }
}

pub(super) struct HookTask {
    pub hall: Arc<str>,
    pub cfg: WebhookConfig,
    pub store: Store,
    pub handle: HallHandle,
    pub positions: Positions,
}

/// Why a delivery did not end with a 2xx.
enum Failed {
    /// The hook should stop trying for now (this node no longer owns the hall).
    NotOwner,
}

impl HookTask {
    pub(super) async fn run(self) {
        let Some(target) = Target::parse(&self.cfg.url) else {
            // Validation refuses such a URL; nothing to deliver to.
            return;
        };
        let key = self.cfg.key().to_string();
        // Where a hook that never delivered starts: the hall as it was when
        // the hook was set up here (at start or at a reload), even if this
        // node only notices later that it owns the hall.
        let born = self.handle.seq.load(Ordering::Acquire);
        // The last seq handled; `None` until this node delivers the hall's
        // hooks (it owns the hall), when it is read where it is kept.
        let mut pos: Option<u64> = None;
        let mut wake = self.handle.events.subscribe();
        let mut conn: Option<SendRequest<Body>> = None;
        loop {
            if !self.handle.is_owner() {
                // Several nodes: the owner of the hall delivers; after a
                // takeover, from the position the last owner wrote.
                pos = None;
                tokio::time::sleep(IDLE_POLL).await;
                continue;
            }
            let at = match pos {
                Some(p) => p,
                None => match self.start_position(&key, born).await {
                    Some(p) => p,
                    None => {
                        tokio::time::sleep(IDLE_POLL).await;
                        continue;
                    }
                },
            };
            pos = Some(at);
            let store = self.store.clone();
            let hall = self.hall.clone();
            let from = at + 1;
            let read =
                tokio::task::spawn_blocking(move || store.read_log(&hall, from, READ_BATCH)).await;
            let events = match read {
                Ok(Ok(evs)) => evs,
                Ok(Err(e)) => {
                    tracing::warn!(hall = %self.hall, hook = %key, error = %e, "webhook: cannot read the log; trying again");
                    tokio::time::sleep(IDLE_POLL).await;
                    continue;
                }
                Err(e) => {
                    tracing::error!(hall = %self.hall, error = %e, "webhook: log read panicked");
                    tokio::time::sleep(IDLE_POLL).await;
                    continue;
                }
            };
            if events.is_empty() {
                // Wait for the hall's next durable batch (or a while).
                let _ = tokio::time::timeout(IDLE_POLL, wake.recv()).await;
                wake = wake.resubscribe();
                continue;
            }
            if let Some(first) = events.first() {
                if first.seq > from {
                    tracing::error!(hall = %self.hall, hook = %key, missing_from = from, missing_to = first.seq - 1, "webhook: events before seq {} are no longer retained and were never delivered", first.seq);
                }
            }
            for ev in &events {
                // Counted from before the request until its position is
                // set, so a clean handoff writes the position after it.
                let mut delivery = None;
                if self.cfg.wants(ev.type_name()) {
                    delivery = self
                        .positions
                        .in_flight
                        .begin(&self.hall, || self.handle.is_owner());
                    if delivery.is_none() {
                        break;
                    }
                    match self.deliver(ev, &target, &mut conn).await {
                        Ok(()) => {}
                        Err(Failed::NotOwner) => break,
                    }
                }
                pos = Some(ev.seq);
                self.positions.set(&self.hall, &key, ev.seq);
                drop(delivery);
            }
        }
    }

    /// Where to deliver from now that this node delivers the hall's hooks
    /// (at start, or after taking the hall over): the kept position, or —
    /// a hook that never delivered anywhere — `born`, the hall's seq when
    /// the hook was set up (a new hook hears of events from then on, not
    /// the hall's whole retained history). `None` when the position cannot
    /// be read now.
    async fn start_position(&self, key: &str, born: u64) -> Option<u64> {
        match self.positions.load(&self.hall, key).await {
            Ok(Some(p)) => Some(p),
            Ok(None) => {
                let p = born;
                self.positions.set(&self.hall, key, p);
                if let Err(e) = self.positions.flush().await {
                    tracing::error!(error = %e, "webhook position not written");
                }
                tracing::info!(hall = %self.hall, hook = %key, from = p + 1, "new webhook: delivering events after seq {p}");
                Some(p)
            }
            Err(e) => {
                tracing::warn!(hall = %self.hall, hook = %key, error = %e, "webhook: cannot read its position; trying again");
                None
            }
        }
    }

    /// Posts `ev` until the receiver takes it (2xx), pausing longer after
    /// each failure.
    async fn deliver(
        &self,
        ev: &Event,
        target: &Target,
        conn: &mut Option<SendRequest<Body>>,
    ) -> Result<(), Failed> {
        let body = body_of(ev, self.cfg.payload);
        let sig = signature(self.cfg.secret.as_bytes(), body.as_bytes());
        let idem = format!("{}:{}", ev.hall, ev.seq);
        let mut pause = Duration::from_millis(u64::from(self.cfg.retry_min_ms));
        let longest = Duration::from_secs(u64::from(self.cfg.retry_max_s));
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match self
                .post(target, conn, &body, &sig, &idem, ev.type_name())
                .await
            {
                Ok(status) if status.is_success() => {
                    if attempt > 1 {
                        tracing::info!(hall = %self.hall, hook = %self.cfg.key(), seq = ev.seq, attempt, "webhook delivered after retrying");
                    }
                    return Ok(());
                }
                Ok(status) => {
                    *conn = None;
                    self.failed(ev, attempt, &format!("answered {status}"), pause);
                }
                Err(why) => {
                    *conn = None;
                    self.failed(ev, attempt, &why, pause);
                }
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(longest);
            if !self.handle.is_owner() {
                return Err(Failed::NotOwner);
            }
        }
    }

    fn failed(&self, ev: &Event, attempt: u32, why: &str, pause: Duration) {
        // Attempts 1, 2, 4, 8, …: a receiver down for a day must not fill
        // the log.
        if attempt.is_power_of_two() {
            tracing::warn!(hall = %self.hall, hook = %self.cfg.key(), seq = ev.seq, attempt, error = why, retry_in_ms = pause.as_millis() as u64, "webhook delivery failed; retrying the same event");
        }
    }

    async fn post(
        &self,
        target: &Target,
        conn: &mut Option<SendRequest<Body>>,
        body: &str,
        sig: &str,
        idem: &str,
        ty: &str,
    ) -> Result<StatusCode, String> {
        let timeout = Duration::from_secs(u64::from(self.cfg.timeout_s));
        let reused = match conn.take() {
            Some(mut s) => s.ready().await.is_ok().then_some(s),
            None => None,
        };
        let mut sender = match reused {
            Some(s) => s,
            None => connect(&target.addr).await?,
        };
        let req = hyper::Request::post(target.path.as_str())
            .header(header::HOST, target.host.as_str())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, "hallcall-webhook/1")
            .header("idempotency-key", idem)
            .header(EVENT_HEADER, ty)
            .header(
                SIGNATURE_HEADER,
                HeaderValue::from_str(sig).map_err(|e| e.to_string())?,
            )
            .body(Body::from(body.to_string()))
            .map_err(|e| e.to_string())?;
        let resp = match tokio::time::timeout(timeout, sender.send_request(req)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err(format!("no answer within {}s", timeout.as_secs())),
        };
        let status = resp.status();
        // Read the answer to the end so the connection can be used again.
        match tokio::time::timeout(
            timeout,
            axum::body::to_bytes(Body::new(resp.into_body()), MAX_ANSWER),
        )
        .await
        {
            Ok(Ok(_)) => *conn = Some(sender),
            _ => *conn = None,
        }
        Ok(status)
    }
}

async fn connect(addr: &str) -> Result<SendRequest<Body>, String> {
    let stream =
        match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(format!("connect {addr}: {e}")),
            Err(_) => return Err(format!("connect {addr}: timed out")),
        };
    let _ = stream.set_nodelay(true);
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn a_url_becomes_an_address_host_and_path() {
        let t = Target::parse("http://127.0.0.1:9000/hook?x=1").expect("url");
        assert_eq!(
            (t.addr.as_str(), t.host.as_str(), t.path.as_str()),
            ("127.0.0.1:9000", "127.0.0.1:9000", "/hook?x=1")
        );
        let t = Target::parse("http://sms.example").expect("url");
        assert_eq!((t.addr.as_str(), t.path.as_str()), ("sms.example:80", "/"));
        let t = Target::parse("http://[::1]/h").expect("url");
        assert_eq!(t.addr, "[::1]:80");
        assert!(Target::parse("https://x/").is_none());
    }
}
