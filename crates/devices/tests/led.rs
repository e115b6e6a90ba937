//! `hallcall led` end to end: a fake hall (a local WebSocket server sending
//! recorded events in the documented wire format) drives `run_led`, and a
//! virtual controller (TCP, or the far end of a serial pty) decodes the
//! frames it writes: header, address, checksum, text.

use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serialport::SerialPort as _;

use futures_util::SinkExt;
use hallcall_devices::led::frame::{hex, DecodedFrame};
use hallcall_devices::testing::{split_frames, VirtualLed};
use hallcall_devices::{run_led, Connect, LedConfig, LedOptions};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;

fn example(name: &str) -> LedConfig {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    LedConfig::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

const SNAPSHOT: &str = r#"{"seq":10,"type":"snapshot","state":{"hall":"demo","seq":10,"windows":[
 {"number":1,"kind":"comprehensive","state":"open","pause_reason":null,"current":null},
 {"number":2,"kind":"comprehensive","state":"paused","pause_reason":"break","current":null},
 {"number":3,"kind":"comprehensive","state":"serving","pause_reason":null,
  "current":{"number":"B003","category":"social","state":"serving","since":"2026-11-23T12:10:00.000Z","elapsed_s":60}}]}}"#;

/// Recorded events (docs/api.md format, as the server broadcasts them).
fn event(seq: u64, body: &str) -> String {
    format!(r#"{{"seq":{seq},"at":"2026-11-23T12:19:{seq:02}.000Z","hall":"demo",{body}}}"#)
}

/// A hall that serves two connections: the first gets the snapshot and one
/// call, then drops; the second must come back with `since=11` and gets a
/// repeat of 11 (to be skipped), then pause/resume and more calls. Returns
/// the address and the request paths seen.
async fn fake_hall() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    tokio::spawn(async move {
        for conn in 0.. {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let s = Arc::clone(&s);
            // The callback's signature is tungstenite's (its error type is large).
            #[allow(clippy::result_large_err)]
            let record = move |req: &Request, resp: Response| {
                s.lock().expect("lock").push(req.uri().to_string());
                Ok(resp)
            };
            let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(sock, record).await else {
                continue;
            };
            let msgs: Vec<String> = if conn == 0 {
                vec![
                    SNAPSHOT.to_owned(),
                    event(
                        11,
                        r#""by":"staff:s01","type":"ticket_called","number":"A012","category":"general","window":1,"staff":"s01","recall":false"#,
                    ),
                ]
            } else {
                vec![
                    event(
                        11,
                        r#""by":"staff:s01","type":"ticket_called","number":"A012","category":"general","window":1,"staff":"s01","recall":false"#,
                    ),
                    event(
                        12,
                        r#""by":"staff:s01","type":"ticket_called","number":"A012","category":"general","window":1,"staff":"s01","recall":true"#,
                    ),
                    event(
                        13,
                        r#""by":"staff:s01","type":"service_started","number":"A012","window":1,"staff":"s01""#,
                    ),
                    event(
                        14,
                        r#""by":"kiosk","type":"ticket_issued","number":"A013","category":"general","priority":"normal","channel":"kiosk","key":1"#,
                    ),
                    event(
                        15,
                        r#""by":"staff:s02","type":"window_resumed","window":2,"staff":"s02""#,
                    ),
                    event(
                        16,
                        r#""by":"staff:s03","type":"service_completed","number":"B003","category":"social","window":3,"staff":"s03","wait_s":60.0,"handling_s":300.0"#,
                    ),
                    event(
                        17,
                        r#""by":"staff:s01","type":"window_paused","window":1,"staff":"s01","reason":"break""#,
                    ),
                    event(
                        18,
                        r#""by":"staff:s02","type":"ticket_called","number":"A013","category":"general","window":2,"staff":"s02","recall":false"#,
                    ),
                ]
            };
            for m in msgs {
                if ws.send(Message::Text(m.into())).await.is_err() {
                    break;
                }
            }
            if conn == 0 {
                let _ = ws.close(None).await;
            } else {
                // Stay connected until the client goes.
                use futures_util::StreamExt;
                while let Some(Ok(_)) = ws.next().await {}
            }
        }
    });
    (addr, seen)
}

fn options(cfg: LedConfig, server: &str) -> LedOptions {
    let mut o = LedOptions::new(cfg, None, Some(server.to_owned())).expect("options");
    o.reconnect_min = Duration::from_millis(50);
    o.retry_every = Duration::from_millis(100);
    o
}

/// What every test expects to see, per window, in order.
fn expected(texts: &[(u16, &str)], frames: &[DecodedFrame]) {
    let got: Vec<(u16, String)> = frames.iter().map(|f| (f.address, f.text.clone())).collect();
    let want: Vec<(u16, String)> = texts.iter().map(|(a, t)| (*a, (*t).to_owned())).collect();
    assert_eq!(got, want);
    for f in frames {
        assert!(f.checksum_ok, "bad checksum in {}", hex(&f.raw));
    }
}

#[tokio::test]
async fn tcp_bars_follow_the_hall_and_resume_with_since() {
    let mut cfg = example("led-tcp.toml");
    // One virtual controller per bar, as in the profile (each its own IP).
    let mut bars = Vec::new();
    for w in &mut cfg.windows {
        let v = VirtualLed::start(cfg.frame.clone())
            .await
            .expect("virtual led");
        w.connect = Some(Connect::parse(&v.connect()).expect("connect"));
        bars.push(v);
    }
    let (server, seen) = fake_hall().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(run_led(options(cfg, &server), async {
        let _ = stopped.await;
    }));

    let want1: &[(u16, &str)] = &[
        (1, "1号窗口"),
        (1, "请A012号到1号窗口"),
        (1, "请A012号到1号窗口"), // recall: sent again
        (1, "A012 正在办理"),
        (1, "暂停服务"),
    ];
    let want2: &[(u16, &str)] = &[(1, "暂停服务"), (1, "2号窗口"), (1, "请A013号到2号窗口")];
    let want3: &[(u16, &str)] = &[(1, "B003 正在办理"), (1, "3号窗口")];
    let f1 = bars[0]
        .wait_for(Duration::from_secs(10), |f| f.len() >= want1.len())
        .await;
    let f2 = bars[1]
        .wait_for(Duration::from_secs(10), |f| f.len() >= want2.len())
        .await;
    let f3 = bars[2]
        .wait_for(Duration::from_secs(10), |f| f.len() >= want3.len())
        .await;
    // Let anything extra (a duplicate) arrive before stopping.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = stop.send(());
    let report = run.await.expect("join").expect("run");

    expected(want1, &f1);
    expected(want2, &f2);
    expected(want3, &f3);
    assert_eq!(
        bars[0].frames().len(),
        want1.len(),
        "seq 11 was not shown twice"
    );
    assert_eq!(report.last_seq, Some(18));
    assert_eq!(report.connections, 2);
    let paths = seen.lock().expect("lock").clone();
    assert_eq!(
        paths,
        [
            "/api/v1/halls/demo/events",
            "/api/v1/halls/demo/events?since=11"
        ]
    );
    // The frame of "请A012号到1号窗口": 55 AA | 00 01 | 10 | 00 11 | GB18030 | CRC.
    let raw = &f1[1].raw;
    assert_eq!(&raw[..7], &[0x55, 0xAA, 0x00, 0x01, 0x10, 0x00, 0x11]);
    println!("window 1 called A012: {}", hex(raw));
}

#[tokio::test]
async fn rs485_bars_over_a_serial_port() {
    let (mut master, slave) = serialport::TTYPort::pair().expect("pty pair");
    let path = slave.name().expect("pty name");
    let mut cfg = example("led-rs485.toml");
    cfg.connect = Some(Connect::parse(&format!("serial:{path}?baud=9600")).expect("connect"));
    let spec = cfg.frame.clone();

    // The controller's end of the bus.
    let bus = std::thread::spawn(move || {
        master
            .set_timeout(Duration::from_millis(100))
            .expect("timeout");
        let mut pending = Vec::new();
        let mut frames = Vec::new();
        let mut buf = [0u8; 256];
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        // 10 bars from the snapshot, then window 1 called, recalled, served, paused; 2 resumed and called.
        while std::time::Instant::now() < deadline && frames.len() < 16 {
            match master.read(&mut buf) {
                Ok(n) => {
                    pending.extend_from_slice(&buf[..n]);
                    let (got, rest) = split_frames(&spec, &pending);
                    frames.extend(got);
                    pending = rest;
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) => panic!("pty read: {e}"),
            }
        }
        // The master stays open until the client stops: closing it would
        // fail the client's drain of the last frame.
        (frames, master)
    });

    let (server, _) = fake_hall().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(run_led(options(cfg, &server), async {
        let _ = stopped.await;
    }));
    let (frames, master) = tokio::task::spawn_blocking(move || bus.join().expect("bus thread"))
        .await
        .expect("join");
    let _ = stop.send(());
    let report = run.await.expect("join").expect("run");
    drop((master, slave));

    let mut want: Vec<(u16, String)> = vec![
        (1, "1号窗口".into()),
        (2, "暂停服务".into()),
        (3, "请B003号".into()),
    ];
    // Windows 4-10 are not in the snapshot: closed, shown blank.
    want.extend((4..=10).map(|a| (a, String::new())));
    want.extend(
        [
            (1, "请A012号"),
            (1, "请A012号"), // recall
            // service_started: "serving" defaults to the called text → no frame.
            (2, "2号窗口"),
            (3, "3号窗口"),
            (1, "暂停服务"),
            (2, "请A013号"),
        ]
        .map(|(a, t)| (a, t.to_owned())),
    );
    let got: Vec<(u16, String)> = frames.iter().map(|f| (f.address, f.text.clone())).collect();
    assert_eq!(got, want);
    for f in &frames {
        assert!(f.checksum_ok, "{}", hex(&f.raw));
        assert_eq!(f.raw[0], 0xAA);
        assert_eq!(f.raw[2], 0x31);
        assert_eq!(f.raw.last(), Some(&0x55));
    }
    assert_eq!(
        report.write_errors,
        0,
        "sent: {:?}",
        report
            .sent
            .iter()
            .map(|s| (s.window, &s.text))
            .collect::<Vec<_>>()
    );
    println!("window 1 called A012: {}", hex(&frames[10].raw));
}

#[tokio::test]
async fn a_dead_bar_is_retried_while_the_others_update() {
    let mut cfg = example("led-tcp.toml");
    let live = VirtualLed::start(cfg.frame.clone())
        .await
        .expect("virtual led");
    // Window 1's controller is down (nothing listens on that port yet).
    // Bound but not listening: connections are refused, and no other test
    // can take the port before the controller "comes back".
    let reserved = tokio::net::TcpSocket::new_v4().expect("socket");
    reserved
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let dead_port = reserved.local_addr().expect("addr").port();
    cfg.windows[0].connect =
        Some(Connect::parse(&format!("tcp://127.0.0.1:{dead_port}")).expect("c"));
    cfg.windows[1].connect = Some(Connect::parse(&live.connect()).expect("c"));
    cfg.windows[2].connect = Some(Connect::parse(&live.connect()).expect("c"));
    cfg.windows[2].address = 2;
    let (server, _) = fake_hall().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(run_led(options(cfg.clone(), &server), async {
        let _ = stopped.await;
    }));
    // Windows 2 and 3 get their frames although window 1 cannot be reached.
    let frames = live
        .wait_for(Duration::from_secs(10), |f| {
            f.iter().any(|x| x.text == "请A013号到2号窗口")
        })
        .await;
    assert!(frames.iter().any(|x| x.text == "请A013号到2号窗口"));
    // Window 1's controller comes back: it gets its current text.
    let back = reserved.listen(16).expect("listen");
    let (mut sock, _) = tokio::time::timeout(Duration::from_secs(5), back.accept())
        .await
        .expect("retried within the timeout")
        .expect("accept");
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    let frame = loop {
        use tokio::io::AsyncReadExt;
        let n = tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf))
            .await
            .expect("frame in time")
            .expect("read");
        got.extend_from_slice(&buf[..n]);
        let (frames, _) = split_frames(&cfg.frame, &got);
        if let Some(f) = frames.into_iter().next() {
            break f;
        }
    };
    assert_eq!(frame.text, "暂停服务");
    let _ = stop.send(());
    let report = run.await.expect("join").expect("run");
    assert!(report.write_errors > 0);
}
