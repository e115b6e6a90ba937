//! `hallcall announce` against a tiny in-test WebSocket server: snapshot, two
//! calls, a stale call, then the connection drops; the client must reconnect
//! with `since=<last seq>`, skip the replayed duplicate, and render every
//! announcement exactly once, in order, never overlapping.

// tungstenite's handshake callback returns `Result<Response, ErrorResponse>`.
#![allow(clippy::result_large_err)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::SinkExt;
use hallcall_announcer::{
    compose, run_until, AnnounceOptions, Announcement, Lang, Voice, VoiceConfig, VoicePack,
};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

fn ts(offset: chrono::Duration) -> String {
    (chrono::Utc::now() + offset).to_rfc3339()
}

fn call(seq: u64, number: &str, window: u32, recall: bool, at: String) -> Value {
    json!({"seq":seq,"at":at,"hall":"demo","type":"ticket_called","by":"staff:s01",
        "ticket":"k3j","number":number,"category":"general","window":window,"recall":recall})
}

async fn send_all(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    msgs: &[Value],
) {
    for m in msgs {
        ws.send(Message::text(m.to_string())).await.expect("send");
    }
}

fn wav_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_with_since_and_says_nothing_twice() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let uris: Arc<Mutex<Vec<String>>> = Arc::default();
    let fresh = ts(chrono::Duration::zero());
    let stale = ts(chrono::Duration::minutes(-10));

    let server_uris = Arc::clone(&uris);
    let (f1, f2) = (fresh.clone(), fresh.clone());
    let server = tokio::spawn(async move {
        let mut keep = Vec::new();
        for conn in 0..2 {
            let (tcp, _) = listener.accept().await.expect("accept");
            let uris = Arc::clone(&server_uris);
            let mut ws =
                tokio_tungstenite::accept_hdr_async(tcp, move |req: &Request, resp: Response| {
                    if let Ok(mut u) = uris.lock() {
                        u.push(req.uri().to_string());
                    }
                    Ok(resp)
                })
                .await
                .expect("handshake");
            if conn == 0 {
                send_all(
                    &mut ws,
                    &[
                        json!({"type":"snapshot","seq":10,"state":{"windows":[]}}),
                        call(11, "A012", 3, false, f1.clone()),
                        call(12, "A012", 3, true, f1.clone()),
                        call(13, "B001", 5, false, stale.clone()),
                        json!({"seq":14,"at":f1,"type":"ticket_issued","number":"A020"}),
                    ],
                )
                .await;
                // Abrupt drop: no close frame.
                drop(ws);
            } else {
                send_all(
                    &mut ws,
                    &[
                        // The server replays one event the client already has.
                        call(12, "A012", 3, true, f2.clone()),
                        json!({"seq":15,"at":f2,"type":"window_paused","window":3,"reason":"break"}),
                        json!({"seq":16,"at":f2,"type":"window_opened","window":7,"tidal":true,"staff":"s06"}),
                        json!({"seq":17,"at":f2,"type":"window_opened","window":8,"tidal":false}),
                        call(18, "C105", 12, false, f2.clone()),
                    ],
                )
                .await;
                keep.push(ws); // stays open until the test ends
            }
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(keep);
    });

    let out = tempfile::tempdir().expect("tempdir");
    let mut opts = AnnounceOptions::new("demo", addr.to_string());
    opts.out = Some(out.path().to_path_buf());
    opts.render_to_files = true;
    opts.lang = Some(Lang::ZhEn);
    // The hall file's voice settings: said three times, window 12 is 十二号台.
    let cfg_dir = tempfile::tempdir().expect("tempdir");
    let hall_file = cfg_dir.path().join("hall.toml");
    std::fs::write(
        &hall_file,
        "[[hall]]\nid = \"demo\"\nname = \"演示大厅\"\n\n[hall.voice]\nrepeat = 3\n\
         window_names_zh = { 12 = \"{window}号台\" }\n",
    )
    .expect("write hall file");
    opts.config = Some(hall_file.clone());
    opts.reconnect_min = Duration::from_millis(50);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let client = tokio::spawn(run_until(opts, async {
        let _ = stop_rx.await;
    }));

    let want = [
        "11-A012-w3.wav",
        "12-A012-w3.wav",
        "15-paused-w3.wav",
        "16-tidal-w7.wav",
        "18-C105-w12.wav",
    ];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while wav_files(out.path()) != want && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(());
    let report = client.await.expect("client task").expect("client result");
    server.abort();

    assert_eq!(wav_files(out.path()), want, "rendered files");
    let uris = uris.lock().expect("uris").clone();
    assert_eq!(
        uris,
        vec![
            "/api/v1/halls/demo/events".to_owned(),
            "/api/v1/halls/demo/events?since=14".to_owned()
        ]
    );
    assert_eq!(report.connections, 2);
    assert_eq!(
        report.said.iter().map(|s| s.seq).collect::<Vec<_>>(),
        vec![Some(11), Some(12), Some(15), Some(16), Some(18)],
        "said once each, in order"
    );
    assert!(report.said.iter().all(|s| s.ok));
    assert_eq!(report.stale_dropped, 1);
    assert_eq!(report.duplicates_skipped, 1);
    assert_eq!(report.last_seq, Some(18));

    // Each file is exactly the composed announcement, with the hall's settings.
    let pack = VoicePack::builtin().expect("pack");
    let cfg = VoiceConfig::load(&hall_file, "demo").expect("voice config");
    assert_eq!(cfg.repeat, 3);
    let voice = Voice::new(cfg, &pack).expect("voice");
    let a = Announcement::from_event(&call(18, "C105", 12, false, fresh)).expect("call");
    let clips = compose(&a, &voice, Lang::ZhEn);
    assert_eq!(
        hallcall_announcer::describe(&clips)
            .matches("号|台")
            .count(),
        3,
        "said three times, with the window's own name"
    );
    let r = hound::WavReader::open(out.path().join("18-C105-w12.wav")).expect("wav");
    assert_eq!(r.len() as usize, pack.samples_len(&clips));
    let default_len = pack.samples_len(&compose(&a, &pack.default_voice(), Lang::ZhEn));
    assert!(r.len() as usize > default_len);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeps_retrying_while_the_server_is_down_and_stops_on_shutdown() {
    // Reserve a port, then close it: nothing listens there.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let out = tempfile::tempdir().expect("tempdir");
    let mut opts = AnnounceOptions::new("demo", format!("http://{addr}"));
    opts.out = Some(out.path().to_path_buf());
    opts.render_to_files = true;
    opts.reconnect_min = Duration::from_millis(20);
    opts.reconnect_max = Duration::from_millis(40);
    let report = run_until(opts, tokio::time::sleep(Duration::from_millis(300)))
        .await
        .expect("no error: network trouble is retried, not fatal");
    assert_eq!(report.connections, 0);
    assert!(report.said.is_empty());
}

#[tokio::test]
async fn bad_options_fail_fast_with_a_clear_message() {
    let opts = AnnounceOptions::new("demo", "https://hall.example");
    let err = run_until(opts, std::future::pending())
        .await
        .expect_err("tls not supported");
    assert!(err.to_string().contains("ws://"), "{err}");

    let mut opts = AnnounceOptions::new("demo", "127.0.0.1:1");
    opts.voice = Some("/nonexistent/voice".into());
    let err = run_until(opts, std::future::pending())
        .await
        .expect_err("no pack");
    assert!(err.to_string().contains("/nonexistent/voice"), "{err}");
}
