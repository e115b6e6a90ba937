//! Following a hall's event stream from a device program: the announcer
//! (`hallcall announce`, 大厅广播) and the LED bars (`hallcall led`, 窗口条屏).
//!
//! Both need the same thing from the server, and before this crate each had
//! its own copy of it: connect to `/api/v1/halls/{hall}/events`, remember the
//! last `seq`, after a drop reconnect with `?since=SEQ` (backoff 250 ms
//! doubling to 10 s), ping a silent link and give it up when the ping is not
//! answered, and hand each event on exactly once. This crate is that and
//! nothing else — no audio, no serial ports — so either program depends on it
//! without pulling in the other's stack.
//!
//! [`Follower::next`] is cancel-safe: the connection attempt, the backoff
//! sleep and the idle timer live in the follower, not in the future `next`
//! returns. A caller can `select!` it against its own timers (the LED client
//! retries failed writes every few seconds) without ever restarting a
//! connection attempt halfway.

mod address;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::time::Sleep;
use tokio_tungstenite::tungstenite::Message;

pub use crate::address::{events_url, with_since, UrlError};
pub use ::url::Url;

/// How a [`Follower`] connects and reconnects.
#[derive(Clone, Debug)]
pub struct FollowOptions {
    /// First reconnect delay; doubles up to `reconnect_max`, back to this
    /// once a message arrives.
    pub reconnect_min: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
    /// Silence on the socket after which a ping is sent; twice → reconnect.
    pub idle_timeout: Duration,
    /// How long a connection attempt may take.
    pub connect_timeout: Duration,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            reconnect_min: Duration::from_millis(250),
            reconnect_max: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// What [`Follower::next`] hands on.
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    /// A connection is open (its URL, with `since` when resuming).
    Connected(Url),
    /// A stream message not seen before: an event with a new `seq`, the
    /// initial `snapshot` (whose `seq` the cursor has taken), or a message
    /// without a `seq` (`subscribed`, `heartbeat`, …).
    Message(Value),
    /// The link is down or could not be opened; the follower waits
    /// `retry_in`, then reconnects by itself.
    Lost { why: String, retry_in: Duration },
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;
type Connecting = Pin<
    Box<
        dyn Future<
                Output = Result<
                    Result<
                        (
                            Ws,
                            tokio_tungstenite::tungstenite::handshake::client::Response,
                        ),
                        tokio_tungstenite::tungstenite::Error,
                    >,
                    tokio::time::error::Elapsed,
                >,
            > + Send,
    >,
>;

enum State {
    /// Connect on the next call.
    Start,
    Connecting(Connecting),
    Open {
        ws: Box<Ws>,
        /// Fires after `idle_timeout` of silence.
        idle: Pin<Box<Sleep>>,
        pinged: bool,
    },
    Waiting(Pin<Box<Sleep>>),
}

/// One hall's event stream, followed across reconnects.
pub struct Follower {
    base: Url,
    opts: FollowOptions,
    last_seq: Option<u64>,
    backoff: Duration,
    state: State,
    connections: u32,
    duplicates: u64,
}

/// What one step of the state machine came to.
enum Step {
    Yield(Update),
    Next(State),
}

impl Follower {
    /// A follower of `base` (from [`events_url`]); connects on the first
    /// [`Follower::next`].
    pub fn new(base: Url, opts: FollowOptions) -> Follower {
        Follower {
            backoff: opts.reconnect_min,
            base,
            opts,
            last_seq: None,
            state: State::Start,
            connections: 0,
            duplicates: 0,
        }
    }

    /// The highest `seq` handed on (or taken from a snapshot).
    pub fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }

    /// Connections opened so far.
    pub fn connections(&self) -> u32 {
        self.connections
    }

    /// Events dropped because their `seq` had been handed on already (the
    /// overlap of a `since=` catch-up with what was seen before a drop).
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Sends a close frame on an open link (at shutdown).
    pub async fn close(&mut self) {
        if let State::Open { ws, .. } = &mut self.state {
            let _ = ws.close(None).await;
        }
        self.state = State::Start;
    }

    /// The next update. Never ends: trouble is reported as [`Update::Lost`]
    /// and retried. Cancel-safe (see the crate doc).
    pub async fn next(&mut self) -> Update {
        loop {
            let step = match &mut self.state {
                State::Start => {
                    let url = with_since(&self.base, self.last_seq);
                    tracing::debug!(%url, "连接事件流");
                    let connect = tokio::time::timeout(
                        self.opts.connect_timeout,
                        tokio_tungstenite::connect_async(url.to_string()),
                    );
                    Step::Next(State::Connecting(Box::pin(connect)))
                }
                State::Connecting(connect) => match connect.await {
                    Ok(Ok((ws, _))) => {
                        self.connections += 1;
                        let url = with_since(&self.base, self.last_seq);
                        self.state = State::Open {
                            ws: Box::new(ws),
                            idle: Box::pin(tokio::time::sleep(self.opts.idle_timeout)),
                            pinged: false,
                        };
                        return Update::Connected(url);
                    }
                    Ok(Err(e)) => self.lose(format!("连接失败：{e}")),
                    Err(_) => self.lose("连接超时".into()),
                },
                State::Open { ws, idle, pinged } => {
                    tokio::select! {
                        m = ws.next() => match m {
                            None => self.lose("连接关闭".into()),
                            Some(Err(e)) => self.lose(e.to_string()),
                            Some(Ok(m)) => {
                                *pinged = false;
                                idle.as_mut().reset(tokio::time::Instant::now() + self.opts.idle_timeout);
                                self.backoff = self.opts.reconnect_min;
                                match m {
                                    Message::Text(t) => match self.take(t.as_str()) {
                                        Some(v) => Step::Yield(Update::Message(v)),
                                        None => continue,
                                    },
                                    Message::Close(f) => self.lose(
                                        f.map_or_else(|| "连接关闭".to_owned(), |f| format!("连接关闭: {f}")),
                                    ),
                                    // Pings are answered by tungstenite.
                                    _ => continue,
                                }
                            }
                        },
                        () = idle.as_mut() => {
                            if *pinged {
                                self.lose("服务器无响应".into())
                            } else {
                                *pinged = true;
                                idle.as_mut().reset(tokio::time::Instant::now() + self.opts.idle_timeout);
                                match ws.send(Message::Ping(Default::default())).await {
                                    Ok(()) => continue,
                                    Err(e) => self.lose(e.to_string()),
                                }
                            }
                        }
                    }
                }
                State::Waiting(sleep) => {
                    sleep.as_mut().await;
                    Step::Next(State::Start)
                }
            };
            match step {
                Step::Yield(u) => return u,
                Step::Next(s) => self.state = s,
            }
        }
    }

    /// The link is gone: wait the backoff (doubling it for next time) and
    /// say why.
    fn lose(&mut self, why: String) -> Step {
        let retry_in = self.backoff;
        self.backoff = self.backoff.saturating_mul(2).min(self.opts.reconnect_max);
        self.state = State::Waiting(Box::pin(tokio::time::sleep(retry_in)));
        Step::Yield(Update::Lost { why, retry_in })
    }

    /// A text message: its JSON if it is to be handed on; `None` for a
    /// repeat of a seq already handed on, or for something that is not JSON.
    fn take(&mut self, text: &str) -> Option<Value> {
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "事件不是 JSON，忽略");
                return None;
            }
        };
        let seq = value.get("seq").and_then(Value::as_u64);
        let snapshot = value.get("type").and_then(Value::as_str) == Some("snapshot");
        if let Some(s) = seq {
            if !snapshot && self.last_seq.is_some_and(|l| s <= l) {
                self.duplicates += 1;
                tracing::debug!(seq = s, "重复事件，跳过");
                return None;
            }
            // A snapshot older than what was seen never moves the cursor back.
            self.last_seq = Some(self.last_seq.map_or(s, |l| l.max(s)));
        }
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follower() -> Follower {
        Follower::new(
            events_url("h:1", "demo").expect("url"),
            FollowOptions::default(),
        )
    }

    #[test]
    fn each_seq_is_handed_on_once_and_a_snapshot_sets_the_cursor() {
        let mut f = follower();
        let ev = |seq: u64| format!(r#"{{"seq":{seq},"type":"ticket_called"}}"#);
        assert!(f
            .take(r#"{"type":"snapshot","seq":16,"state":{}}"#)
            .is_some());
        assert_eq!(f.last_seq(), Some(16));
        assert_eq!(f.take(&ev(15)), None);
        assert!(f.take(&ev(17)).is_some());
        assert_eq!(f.take(&ev(17)), None);
        assert_eq!(f.duplicates(), 2);
        // Messages without a seq pass and leave the cursor alone.
        assert!(f.take(r#"{"type":"heartbeat"}"#).is_some());
        assert_eq!(f.last_seq(), Some(17));
        // An older snapshot is handed on but never moves the cursor back.
        assert!(f.take(r#"{"type":"snapshot","seq":3}"#).is_some());
        assert_eq!(f.last_seq(), Some(17));
        assert_eq!(f.take("not json"), None);
    }

    #[test]
    fn backoff_doubles_to_its_cap_and_is_reported() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut f = follower();
            let mut waits = Vec::new();
            for _ in 0..8 {
                match f.lose("x".into()) {
                    Step::Yield(Update::Lost { retry_in, .. }) => waits.push(retry_in.as_millis()),
                    _ => panic!("lose yields Lost"),
                }
            }
            assert_eq!(waits, [250, 500, 1000, 2000, 4000, 8000, 10000, 10000]);
        });
    }
}
