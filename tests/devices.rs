//! The hall's devices through the server (issue 16): a kiosk's ticket
//! printer (`[[hall.printer]]`) is a virtual ESC/POS printer on 127.0.0.1
//! that decodes what the server sends.

mod support;

use std::time::Duration;

use hallcall_devices::decode::Item;
use hallcall_devices::testing::VirtualPrinter;
use hallcall_devices::PrinterStatus;
use serde_json::{json, Value};
use support::*;

const PUBLIC_URL: &str = "https://hall.example.gov.cn";

fn printer_entry(connect: &str, kiosk: &str) -> toml::Value {
    let text = format!(
        "kiosk = {kiosk:?}\nconnect = {connect:?}\nfooter = \"请留意叫号及广播\"\ntimeout_ms = 1000\n"
    );
    toml::Value::Table(toml::from_str(&text).expect("printer entry"))
}

fn hall_with_printer(connect: &str) -> hallcall_core::HallConfig {
    let mut hall = demo_hall_with_pins();
    hall.public_url = PUBLIC_URL.into();
    hall.printers = vec![printer_entry(connect, KIOSK)];
    hall
}

async fn issue(s: &Server) -> Value {
    s.post(
        "/tickets",
        Some(KIOSK),
        Some(json!({ "category": "general" })),
    )
    .await
    .expect(201)
}

async fn printer_warnings(s: &Server) -> Vec<Value> {
    let v = s.get("/devices", Some(SUPERVISOR)).await.expect(200);
    assert_eq!(v["printers"], 1, "{v}");
    v["printer_warnings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn an_issued_ticket_is_printed_with_its_number_qr_and_cut() {
    let vp = VirtualPrinter::start().await.expect("virtual printer");
    let s = Server::start_with(ServerOptions {
        hall: Some(hall_with_printer(&vp.connect())),
        ..ServerOptions::default()
    })
    .await;
    let t = issue(&s).await;
    assert_eq!(t["printed"], true, "{t}");
    assert!(t["printer_problem"].is_null(), "{t}");
    let id = t["id"].as_str().expect("id");
    let url = format!("{PUBLIC_URL}/t/{id}?hall={HALL}");
    assert_eq!(t["status_url"], url.as_str(), "links use public_url");

    let jobs = vp.wait_jobs(1, Duration::from_secs(5)).await;
    assert_eq!(jobs.len(), 1, "one ticket printed");
    let job = &jobs[0];
    assert!(job.errors.is_empty(), "{:?}", job.errors);
    assert!(job.initialized);
    let text = job.text();
    let number = t["number"].as_str().expect("number");
    assert_eq!(number, "A001");
    for want in [
        "示范镇便民服务中心",
        "A001",
        "综合业务",
        "前面等候：0 人",
        "取号时间：",
        "请留意叫号及广播",
    ] {
        assert!(text.contains(want), "{want:?} not on the ticket:\n{text}");
    }
    let qrs: Vec<_> = job.qr_codes().map(|q| q.data.clone()).collect();
    assert_eq!(qrs, vec![url], "the QR is the status page");
    assert!(
        matches!(job.items.last(), Some(Item::Cut(_))),
        "the ticket ends with a cut: {:?}",
        job.items.last()
    );
    assert!(printer_warnings(&s).await.is_empty());
}

#[tokio::test]
async fn paper_out_shows_the_ticket_on_screen_and_warns_the_supervisor() {
    let vp = VirtualPrinter::start().await.expect("virtual printer");
    let s = Server::start_with(ServerOptions {
        hall: Some(hall_with_printer(&vp.connect())),
        ..ServerOptions::default()
    })
    .await;
    vp.set_status(PrinterStatus::paper_out());
    let t = issue(&s).await;
    assert_eq!(t["printed"], false, "{t}");
    let problem = t["printer_problem"].as_str().expect("a problem");
    assert!(problem.contains("缺纸"), "{problem}");
    assert!(
        vp.jobs().is_empty(),
        "nothing is sent to a printer without paper"
    );
    let w = printer_warnings(&s).await;
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0]["level"], "red", "{w:?}");
    assert_eq!(w[0]["printer"], "printer[0]");
    assert!(
        w[0]["problems"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p == "paper_out")),
        "{w:?}"
    );
    // The kiosk token is a secret: the supervisor sees the printer, not it.
    assert!(!serde_json::to_string(&w)
        .unwrap_or_default()
        .contains(KIOSK));
    // Only a supervisor sees it.
    s.get("/devices", Some(KIOSK)).await.expect_error(403, "");
    // The on-screen QR (请扫码) is the public link too, not the kiosk's LAN address.
    let id = t["id"].as_str().expect("id");
    let qr = s.get(&format!("/tickets/{id}/qr.svg"), None).await;
    assert_eq!(qr.status, 200);
    let want = qrcode::QrCode::new(format!("{PUBLIC_URL}/t/{id}?hall={HALL}").as_bytes())
        .expect("qr")
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    assert_eq!(qr.text(), want, "the QR encodes public_url/t/{{id}}?hall=");

    // Paper in: the next ticket prints and the warning goes.
    vp.set_status(PrinterStatus::default());
    let t = issue(&s).await;
    assert_eq!(t["printed"], true, "{t}");
    assert!(printer_warnings(&s).await.is_empty());
    assert_eq!(vp.wait_jobs(1, Duration::from_secs(5)).await.len(), 1);
}

#[tokio::test]
async fn a_kiosk_without_a_printer_is_not_printed_for() {
    let s = Server::start().await;
    let t = issue(&s).await;
    assert_eq!(t["printed"], false, "{t}");
    assert!(t["printer_problem"].is_null(), "{t}");
    assert!(
        t["status_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("/t/")),
        "{t}"
    );
}

#[test]
fn a_printer_for_an_unknown_kiosk_refuses_the_start_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hall = demo_hall_with_pins();
    hall.printers = vec![printer_entry("tcp://127.0.0.1:9", "kiosk-nobody")];
    let path = dir.path().join("hall.toml");
    let text = hall_toml_of("127.0.0.1:0", &dir.path().join("data"), hall);
    std::fs::write(&path, text).expect("write config");
    let out = std::process::Command::new(bin())
        .args(["serve", "--config"])
        .arg(&path)
        .output()
        .expect("run serve");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("hall[demo].printer[0].kiosk: not one of the hall's kiosk_tokens"),
        "{err}"
    );
}

const EVAL1: &str = "evaluator-demo-01";

async fn evaluator(s: &Server, token: Option<&str>) -> Resp {
    s.get("/windows/1/evaluator", token).await
}

async fn eval_rate(s: &Server, body: Value) -> Resp {
    s.post("/windows/1/evaluator/rating", Some(EVAL1), Some(body))
        .await
}

/// The evaluator (评价器) of window 1: the clerk and the ticket, then the
/// rating after 办结, once per ticket whether from the evaluator or the phone.
#[tokio::test]
async fn the_evaluator_rates_a_done_ticket_once_and_the_phone_cannot_rate_it_again() {
    let photos = tempfile::tempdir().expect("tempdir");
    let photo = photos.path().join("s01.png");
    // The 8-byte PNG signature is enough for the server: it serves bytes.
    std::fs::write(&photo, b"\x89PNG\r\n\x1a\n").expect("photo");
    let mut hall = demo_hall_with_pins();
    hall.staff[0].photo = Some(photo.display().to_string());
    let s = Server::start_with(ServerOptions {
        hall: Some(hall),
        ..ServerOptions::default()
    })
    .await;
    // Only window 1's evaluator token opens window 1's evaluator.
    evaluator(&s, None).await.expect_error(401, "");
    evaluator(&s, Some("evaluator-demo-02"))
        .await
        .expect_error(403, "");
    evaluator(&s, Some(KIOSK)).await.expect_error(403, "");
    s.get("/windows/99/evaluator", Some(EVAL1))
        .await
        .expect_error(404, "unknown_window");

    let idle = evaluator(&s, Some(EVAL1)).await.expect(200);
    assert_eq!(idle["window_name"], "综合受理 1号窗口", "{idle}");
    assert_eq!(idle["supervision_phone"], "12345");
    assert!(
        idle["clerk"].is_null() && idle["ticket"].is_null(),
        "{idle}"
    );

    let t = s.login("s01", 1).await;
    let a = s.issue("general").await;
    s.call_next(&t, 1).await;
    s.act(&t, 1, "start", None).await.expect(200);
    let v = evaluator(&s, Some(EVAL1)).await.expect(200);
    assert_eq!(v["clerk"]["name"], "张敏", "{v}");
    assert_eq!(v["clerk"]["staff_no"], "1001", "{v}");
    let photo_url = v["clerk"]["photo_url"].as_str().expect("photo url");
    assert_eq!(v["ticket"]["number"], "A001");
    assert_eq!(v["ticket"]["state"], "serving");
    assert!(v["to_rate"].is_null(), "not done yet: {v}");
    let r = s.send(s.http().get(s.url(photo_url))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "image/png");
    assert_eq!(r.body, b"\x89PNG\r\n\x1a\n");

    s.act(&t, 1, "complete", None).await.expect(200);
    let v = evaluator(&s, Some(EVAL1)).await.expect(200);
    let id = a["id"].as_str().expect("id");
    assert_eq!(v["to_rate"]["id"], id, "{v}");
    // 不满意 needs a reason.
    eval_rate(&s, json!({ "ticket": id, "score": 2 }))
        .await
        .expect_error(400, "reason_required");
    eval_rate(&s, json!({ "ticket": id, "score": 6 }))
        .await
        .expect_error(400, "bad_score");
    eval_rate(
        &s,
        json!({ "ticket": id, "score": 2, "reason": "等候时间过长" }),
    )
    .await
    .expect(200);
    let v = evaluator(&s, Some(EVAL1)).await.expect(200);
    assert!(v["to_rate"].is_null(), "rated: {v}");
    assert_eq!(v["today"]["ratings"], 1, "{v}");
    assert_eq!(v["today"]["by_score"][1], 1, "{v}");
    // The phone cannot rate it again, nor the evaluator.
    s.post(
        &format!("/tickets/{id}/rating"),
        None,
        Some(json!({ "score": 5 })),
    )
    .await
    .expect_error(409, "already_rated");
    eval_rate(&s, json!({ "ticket": id, "score": 5 }))
        .await
        .expect_error(409, "already_rated");

    // Rated on the phone first: the evaluator is refused.
    let b = s.issue("general").await;
    let bid = b["id"].as_str().expect("id");
    s.call_next(&t, 1).await;
    s.act(&t, 1, "start", None).await.expect(200);
    s.act(&t, 1, "complete", None).await.expect(200);
    s.post(
        &format!("/tickets/{bid}/rating"),
        None,
        Some(json!({ "score": 4 })),
    )
    .await
    .expect(200);
    eval_rate(&s, json!({ "ticket": bid, "score": 5 }))
        .await
        .expect_error(409, "already_rated");
    // Another window's evaluator cannot rate window 1's tickets.
    let c = s.issue("general").await;
    let cid = c["id"].as_str().expect("id");
    s.call_next(&t, 1).await;
    s.act(&t, 1, "start", None).await.expect(200);
    s.act(&t, 1, "complete", None).await.expect(200);
    s.post(
        "/windows/2/evaluator/rating",
        Some("evaluator-demo-02"),
        Some(json!({ "ticket": cid, "score": 5 })),
    )
    .await
    .expect_error(409, "not_this_window");
}

#[tokio::test]
async fn a_window_display_gets_its_name_staff_numbers_and_the_supervision_phone() {
    let s = Server::start().await;
    let v = s.get("/windows/6/info", None).await.expect(200);
    assert_eq!(v["window_name"], "专项受理 6号窗口", "{v}");
    assert_eq!(v["supervision_phone"], "12345");
    assert_eq!(v["staff"][0]["id"], "s11");
    assert_eq!(v["staff"][0]["staff_no"], "1011");
    assert_eq!(v["staff"][1]["id"], "s02");
    assert!(v["staff"][0]["photo_url"].is_null());
    s.get("/windows/99/info", None)
        .await
        .expect_error(404, "unknown_window");
    s.get("/staff/s01/photo", None)
        .await
        .expect_error(404, "no_photo");
}

async fn configured_printers(s: &Server) -> u64 {
    let v = s.get("/devices", Some(SUPERVISOR)).await.expect(200);
    v["printers"].as_u64().unwrap_or(0)
}

/// SIGHUP: a printer added to the file prints the next ticket; a reload
/// with a wrong printer is refused for the hall and the running one stays.
#[tokio::test]
async fn a_reload_adds_a_printer_and_a_wrong_one_is_refused() {
    let vp = VirtualPrinter::start().await.expect("virtual printer");
    let s = Server::start().await;
    assert_eq!(issue(&s).await["printed"], false);
    let listen = format!("127.0.0.1:{}", s.port);
    let write = |hall: hallcall_core::HallConfig| {
        std::fs::write(s.config_path(), hall_toml_of(&listen, &s.data_path(), hall))
            .expect("write config")
    };
    write(hall_with_printer(&vp.connect()));
    s.sighup();
    for _ in 0..100 {
        if configured_printers(&s).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        configured_printers(&s).await,
        1,
        "the reload added the printer"
    );
    let t = issue(&s).await;
    assert_eq!(t["printed"], true, "{t}");
    assert!(t["status_url"]
        .as_str()
        .is_some_and(|u| u.starts_with(PUBLIC_URL)));

    let mut wrong = hall_with_printer(&vp.connect());
    wrong.printers = vec![printer_entry(&vp.connect(), "kiosk-nobody")];
    write(wrong);
    s.sighup();
    let mut refused = false;
    for _ in 0..100 {
        if s.log_tail().contains("hall[demo].printer[0].kiosk") {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refused, "the log names the wrong key:\n{}", s.log_tail());
    let t = issue(&s).await;
    assert_eq!(t["printed"], true, "the running printer stays: {t}");
    assert_eq!(vp.wait_jobs(2, Duration::from_secs(5)).await.len(), 2);
}

/// Paper nearly used up: the ticket prints and the supervisor gets a yellow
/// warning; a printer that stops answering costs the kiosk its timeout (1 s
/// here, never more than 4 s), not a hung request.
#[tokio::test]
async fn paper_near_end_prints_with_a_yellow_warning_and_a_silent_printer_is_capped() {
    let vp = VirtualPrinter::start().await.expect("virtual printer");
    let s = Server::start_with(ServerOptions {
        hall: Some(hall_with_printer(&vp.connect())),
        ..ServerOptions::default()
    })
    .await;
    vp.set_status(PrinterStatus {
        paper_near_end: true,
        ..PrinterStatus::default()
    });
    let t = issue(&s).await;
    assert_eq!(t["printed"], true, "{t}");
    let w = printer_warnings(&s).await;
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0]["level"], "yellow", "{w:?}");
    assert_eq!(w[0]["problems"][0], "paper_near_end", "{w:?}");
    assert_eq!(vp.wait_jobs(1, Duration::from_secs(5)).await.len(), 1);

    vp.set_status(PrinterStatus::default());
    vp.set_answers_status(false);
    let t0 = std::time::Instant::now();
    let t = issue(&s).await;
    let took = t0.elapsed();
    assert_eq!(t["printed"], false, "{t}");
    assert!(
        t["printer_problem"]
            .as_str()
            .is_some_and(|p| p.contains("离线")),
        "{t}"
    );
    assert!(
        took < Duration::from_millis(4500),
        "the kiosk waited {took:?}"
    );
    let w = printer_warnings(&s).await;
    assert_eq!(w[0]["level"], "red", "{w:?}");
}
