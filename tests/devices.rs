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
