//! Webhooks (issue 15 item 8) through the real server: a local receiver
//! that fails, drops connections and goes away, a server killed (SIGKILL)
//! while it is retrying; every wanted event still arrives, none is skipped,
//! first arrivals are in seq order, each carries `Idempotency-Key: hall:seq`
//! and a signature the receiver can check, and the position survives.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hallcall_core::config::{WebhookConfig, WebhookPayload};
use serde_json::Value;
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const SECRET: &str = "hook-secret-for-the-test-0001";
const WANTED: [&str; 4] = [
    "ticket_issued",
    "ticket_called",
    "service_started",
    "service_completed",
];

/// One request the receiver answered 200.
#[derive(Clone, Debug)]
struct Got {
    key: String,
    event: String,
    signature: String,
    body: String,
}

/// A tiny HTTP/1.1 receiver on a fixed port: answers 500 to every 4th
/// request and closes the connection without answering every 7th; can be
/// stopped (connections refused) and started again on the same port.
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Got>>>,
    requests: Arc<Mutex<u64>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let mut r = Receiver {
            port: free_port(),
            got: Arc::default(),
            requests: Arc::default(),
            task: None,
        };
        r.up().await;
        r
    }

    async fn up(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind the receiver's port again");
        let (got, requests) = (self.got.clone(), self.requests.clone());
        // One task for the listener and its connections (one at a time, as
        // the hook sends them), so `down` ends them all.
        self.task = Some(tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = serve_conn(stream, &got, &requests).await;
            }
        }));
    }

    fn down(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().expect("lock").clone()
    }
}

async fn serve_conn(
    stream: tokio::net::TcpStream,
    got: &Mutex<Vec<Got>>,
    requests: &Mutex<u64>,
) -> std::io::Result<()> {
    let mut r = BufReader::new(stream);
    loop {
        let mut headers = HashMap::new();
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        assert!(line.starts_with("POST /hook "), "request line {line:?}");
        loop {
            line.clear();
            r.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .expect("content-length");
        let mut body = vec![0; len];
        r.read_exact(&mut body).await?;
        let n = {
            let mut n = requests.lock().expect("lock");
            *n += 1;
            *n
        };
        if n % 7 == 0 {
            // Gone mid-request: the hook cannot know whether it arrived.
            return Ok(());
        }
        let status = if n % 4 == 0 {
            "500 Internal Server Error"
        } else {
            "200 OK"
        };
        if n % 4 != 0 {
            got.lock().expect("lock").push(Got {
                key: headers.get("idempotency-key").cloned().unwrap_or_default(),
                event: headers.get("x-hallcall-event").cloned().unwrap_or_default(),
                signature: headers
                    .get("x-hallcall-signature")
                    .cloned()
                    .unwrap_or_default(),
                body: String::from_utf8(body).expect("utf-8 body"),
            });
        }
        r.get_mut()
            .write_all(format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n").as_bytes())
            .await?;
    }
}

fn hall_with_hook(port: u16) -> hallcall_core::HallConfig {
    let mut hall = demo_hall_with_pins();
    hall.webhooks = vec![WebhookConfig {
        id: String::new(),
        url: format!("http://127.0.0.1:{port}/hook"),
        events: WANTED.iter().map(|s| s.to_string()).collect(),
        secret: SECRET.into(),
        payload: WebhookPayload::Full,
        timeout_s: 5,
        retry_min_ms: 50,
        retry_max_s: 1,
    }];
    hall
}

/// Two tickets issued, one of them served at window 1.
async fn some_traffic(s: &Server) {
    s.issue("general").await;
    s.issue("general").await;
    let t = s.login("s01", 1).await;
    let called = s.call_next(&t, 1).await;
    assert!(called["ticket"]["number"].is_string(), "{called}");
    s.act(&t, 1, "start", None).await.expect(200);
    s.act(&t, 1, "complete", None).await.expect(200);
}

#[tokio::test]
async fn every_wanted_event_arrives_once_in_order_across_receiver_and_server_restarts() {
    let mut rx = Receiver::start().await;
    let mut s = Server::start_with(ServerOptions {
        hall: Some(hall_with_hook(rx.port)),
        ..Default::default()
    })
    .await;

    some_traffic(&s).await;
    eventually("a first delivery", Duration::from_secs(20), || async {
        (!rx.got().is_empty()).then_some(())
    })
    .await;

    // The receiver goes away; the hall keeps working.
    rx.down();
    some_traffic(&s).await;
    // The server dies while it retries, and comes back on the same data.
    s.kill();
    s.restart().await;
    some_traffic(&s).await;
    rx.up().await;
    some_traffic(&s).await;
    // Killed once more while deliveries flow.
    s.restart().await;
    some_traffic(&s).await;

    let wanted: Vec<(u64, String)> = s
        .all_events()
        .await
        .iter()
        .filter(|e| WANTED.contains(&e["type"].as_str().unwrap_or("")))
        .map(|e| {
            (
                e["seq"].as_u64().expect("seq"),
                e["type"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let keys: BTreeSet<String> = wanted
        .iter()
        .map(|(seq, _)| format!("demo:{seq}"))
        .collect();
    eventually(
        "every wanted event delivered",
        Duration::from_secs(60),
        || async {
            let have: BTreeSet<String> = rx.got().into_iter().map(|g| g.key).collect();
            keys.is_subset(&have).then_some(())
        },
    )
    .await;

    let got = rx.got();
    let mut seen = BTreeSet::new();
    let mut first_arrivals = Vec::new();
    for g in &got {
        let seq: u64 = g
            .key
            .strip_prefix("demo:")
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("idempotency key {:?}", g.key));
        assert_eq!(
            g.signature,
            hallcall_server::webhooks::signature(SECRET.as_bytes(), g.body.as_bytes()),
            "signature of {}",
            g.key
        );
        let v: Value = serde_json::from_str(&g.body).expect("JSON body");
        assert_eq!(v["seq"], seq, "body seq vs key: {v}");
        assert_eq!(v["type"], g.event.as_str(), "X-Hallcall-Event: {v}");
        assert!(WANTED.contains(&g.event.as_str()), "unwanted {}", g.event);
        if g.event == "ticket_issued" {
            // payload = "full": the ticket's id (its status link) is there.
            assert!(v["ticket"].as_str().is_some_and(|t| t.len() >= 16), "{v}");
        }
        if seen.insert(seq) {
            first_arrivals.push(seq);
        }
    }
    let want_seqs: Vec<u64> = wanted.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(
        first_arrivals, want_seqs,
        "first arrivals in seq order, none skipped, none extra"
    );
    let repeats = got.len() - first_arrivals.len();
    let requests = *rx.requests.lock().expect("lock");
    eprintln!(
        "webhooks: {} wanted events, {} deliveries answered 200 ({repeats} repeats), {requests} requests",
        want_seqs.len(),
        got.len()
    );
    assert!(
        requests > got.len() as u64,
        "the receiver failed some requests"
    );
    assert!(s.data_path().join("webhooks.json").exists());
}
