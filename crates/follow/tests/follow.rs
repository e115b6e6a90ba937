//! The follower against a small WebSocket server of the test's own: resume
//! with `since=`, each seq once, a silent server given up, and a connection
//! attempt that survives being raced against a caller's timer.

// tungstenite's handshake callback returns `Result<Response, ErrorResponse>`.
#![allow(clippy::result_large_err)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hallcall_follow::{events_url, FollowOptions, Follower, Update};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

fn quick() -> FollowOptions {
    FollowOptions {
        reconnect_min: Duration::from_millis(10),
        reconnect_max: Duration::from_millis(40),
        idle_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
    }
}

fn event(seq: u64) -> Message {
    Message::text(format!(
        r#"{{"seq":{seq},"type":"ticket_called","number":"A{seq:03}"}}"#
    ))
}

async fn listener() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr").to_string();
    (l, addr)
}

/// The seqs of the next `n` messages, skipping `Connected` and `Lost`.
async fn seqs(f: &mut Follower, n: usize) -> Vec<u64> {
    let mut out = Vec::new();
    while out.len() < n {
        let u = tokio::time::timeout(Duration::from_secs(10), f.next())
            .await
            .expect("an update within 10 s");
        if let Update::Message(v) = u {
            out.push(v["seq"].as_u64().expect("seq"));
        }
    }
    out
}

#[tokio::test]
async fn resumes_with_since_and_hands_each_seq_on_once() {
    let (l, addr) = listener().await;
    let queries = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&queries);
    tokio::spawn(async move {
        for round in 0..2u64 {
            let (tcp, _) = l.accept().await.expect("accept");
            let q = Arc::clone(&seen);
            let mut ws =
                tokio_tungstenite::accept_hdr_async(tcp, move |req: &Request, resp: Response| {
                    q.lock()
                        .expect("lock")
                        .push(req.uri().query().unwrap_or("").to_owned());
                    Ok(resp)
                })
                .await
                .expect("handshake");
            // First link: 1..=3, then a drop. Second: the catch-up overlaps
            // what was seen (2, 3) before the new 4.
            let range = if round == 0 { 1..=3 } else { 2..=4 };
            for s in range {
                ws.send(event(s)).await.expect("send");
            }
            if round == 0 {
                ws.close(None).await.expect("close");
            } else {
                // Keep the second link open until the test ends.
                while ws.next().await.is_some() {}
            }
        }
    });
    let mut f = Follower::new(events_url(&addr, "demo").expect("url"), quick());
    assert_eq!(seqs(&mut f, 4).await, [1, 2, 3, 4]);
    assert_eq!(f.last_seq(), Some(4));
    assert_eq!(f.duplicates(), 2, "2 and 3 came again in the catch-up");
    assert_eq!(f.connections(), 2);
    assert_eq!(*queries.lock().expect("lock"), ["", "since=3"]);
}

#[tokio::test]
async fn a_silent_server_is_pinged_then_given_up() {
    let (l, addr) = listener().await;
    tokio::spawn(async move {
        let (tcp, _) = l.accept().await.expect("accept");
        let _ws = tokio_tungstenite::accept_async(tcp)
            .await
            .expect("handshake");
        // Never reads (so never answers a ping) and never writes.
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    let mut f = Follower::new(
        events_url(&addr, "demo").expect("url"),
        FollowOptions {
            idle_timeout: Duration::from_millis(100),
            ..quick()
        },
    );
    assert!(matches!(f.next().await, Update::Connected(_)));
    let lost = tokio::time::timeout(Duration::from_secs(5), f.next())
        .await
        .expect("given up within 5 s");
    assert!(
        matches!(&lost, Update::Lost { why, .. } if why == "服务器无响应"),
        "{lost:?}"
    );
}

#[tokio::test]
async fn a_connection_attempt_survives_being_raced_against_a_short_timer() {
    // The LED client selects `next()` against its retry timer. A follower
    // whose connect future lived inside `next()` would start over on every
    // tick and, with a slow server, never connect.
    let (l, addr) = listener().await;
    let accepts = Arc::new(AtomicU32::new(0));
    let n = Arc::clone(&accepts);
    tokio::spawn(async move {
        loop {
            let (tcp, _) = l.accept().await.expect("accept");
            n.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                // A slow server: the handshake takes 300 ms.
                tokio::time::sleep(Duration::from_millis(300)).await;
                let mut ws = tokio_tungstenite::accept_async(tcp)
                    .await
                    .expect("handshake");
                ws.send(event(1)).await.expect("send");
                while ws.next().await.is_some() {}
            });
        }
    });
    let mut f = Follower::new(events_url(&addr, "demo").expect("url"), quick());
    let mut ticks = 0;
    let got = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            tokio::select! {
                u = f.next() => if let Update::Message(v) = u { return v },
                () = tokio::time::sleep(Duration::from_millis(20)) => ticks += 1,
            }
        }
    })
    .await
    .expect("connected and got an event within 10 s");
    assert_eq!(got["seq"], 1);
    assert!(ticks >= 5, "the timer won {ticks} times while connecting");
    assert_eq!(
        accepts.load(Ordering::SeqCst),
        1,
        "one connection attempt, not one per tick"
    );
}
