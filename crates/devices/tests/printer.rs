//! The ticket printer end to end: `Printer` talks to a virtual ESC/POS
//! printer (TCP, a device file, a serial pty) that decodes the byte stream
//! and answers `DLE EOT` like a real one.

use std::io::{Read, Write};
use std::time::Duration;

use serialport::SerialPort as _;

use chrono::{DateTime, Utc};
use hallcall_devices::decode::{decode, render_text, Decoded, Item};
use hallcall_devices::escpos::{Align, CutMode, QrLevel};
use hallcall_devices::printer::{PrintError, PrinterProblem, PrinterStatus, Width};
use hallcall_devices::testing::VirtualPrinter;
use hallcall_devices::{Connect, IssueTime, Printer, PrinterConfig, TicketPrint};

const URL: &str = "https://hall.example.gov.cn/t/d3d14e0cd3d5fae30bd4b0f0?hall=demo";

fn ticket() -> TicketPrint {
    let at: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-23T12:19:19.575Z")
        .expect("time")
        .with_timezone(&Utc);
    TicketPrint {
        hall_name: "示范镇便民服务中心".into(),
        number: "A012".into(),
        category_name: "综合业务".into(),
        ahead: 3,
        estimated_wait_s: Some(690),
        issued_at: IssueTime::Zoned {
            at,
            tz: chrono_tz::Asia::Shanghai,
        },
        status_url: URL.into(),
        note: None,
    }
}

fn config(connect: &str) -> PrinterConfig {
    let mut c = PrinterConfig::new("kiosk-demo", Connect::parse(connect).expect("connect"));
    c.footer = "请留意叫号及广播，过号请到服务台重新取号。\n监督电话 12345".into();
    c.timeout_ms = 1500;
    c
}

fn assert_ticket(job: &Decoded) {
    assert!(job.errors.is_empty(), "decode errors: {:?}", job.errors);
    assert!(job.initialized, "ESC @ first");
    let lines: Vec<_> = job.lines().collect();
    let find = |text: &str| {
        lines
            .iter()
            .find(|l| l.text == text)
            .unwrap_or_else(|| panic!("no line {text:?} in\n{}", job.text()))
    };
    let hall = find("示范镇便民服务中心");
    assert!(hall.bold);
    assert_eq!(hall.align, Align::Center);
    let number = find("A012");
    assert_eq!(
        (number.width, number.height),
        (2, 2),
        "number in double size"
    );
    assert_eq!(number.align, Align::Center);
    assert_eq!(find("综合业务").width, 1);
    find("前面等候：3 人");
    find("预计等候：约 12 分钟");
    // 12:19 UTC is 20:19 in the hall's zone.
    find("取号时间：2026-11-23 20:19");
    find("扫码查看排队进度");
    find("请留意叫号及广播，过号请到服务台重新取号。");
    find("监督电话 12345");
    let qr: Vec<_> = job.qr_codes().collect();
    assert_eq!(qr.len(), 1);
    assert_eq!(qr[0].data, URL);
    assert_eq!((qr[0].model, qr[0].module, qr[0].level), (2, 6, QrLevel::M));
    assert_eq!(job.cuts(), [CutMode::Partial]);
    assert!(
        matches!(job.items.last(), Some(Item::Cut(_))),
        "the cut comes last"
    );
    // Nothing is wider than the paper.
    for l in &lines {
        let cols = hallcall_devices::escpos::columns(&l.text) * usize::from(l.width);
        assert!(cols <= 48, "{:?} is {cols} columns", l.text);
    }
}

#[tokio::test]
async fn prints_a_ticket_over_tcp_and_the_virtual_printer_decodes_it() {
    let vp = VirtualPrinter::start().await.expect("virtual printer");
    let printer = Printer::new(config(&vp.connect()));
    printer.print(&ticket()).await.expect("print");
    let jobs = vp.wait_jobs(1, Duration::from_secs(5)).await;
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(
        job.status_requests,
        [1, 2, 3, 4],
        "status asked before printing"
    );
    assert_ticket(job);
    // The picture in docs/devices.md is this ticket.
    let text = render_text(job, 48);
    println!("{text}");
    let docs = include_str!("../../../docs/devices.md");
    assert!(
        docs.contains(text.trim_end()),
        "docs/devices.md is out of date; the decoded ticket is now:\n{text}"
    );
}

#[tokio::test]
async fn paper_out_is_reported_and_nothing_is_printed() {
    let vp = VirtualPrinter::start().await.expect("virtual printer");
    vp.set_status(PrinterStatus::paper_out());
    let printer = Printer::new(config(&vp.connect()));

    let status = printer.status().await.expect("status");
    assert!(status.paper_out && status.offline);
    assert_eq!(status.problems(), [PrinterProblem::PaperOut]);
    assert_eq!(status.describe(), "打印机缺纸");

    let err = printer.print(&ticket()).await.expect_err("no paper");
    match &err {
        PrintError::NotReady { status, .. } => assert!(status.paper_out),
        other => panic!("expected NotReady, got {other:?}"),
    }
    assert_eq!(err.problems(), [PrinterProblem::PaperOut]);
    assert!(err.to_string().ends_with("打印机缺纸"), "{err}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        vp.jobs().is_empty(),
        "a printer without paper gets no ticket"
    );

    // Paper back in: prints; nearly empty roll still prints and is reported.
    vp.set_status(PrinterStatus {
        paper_near_end: true,
        ..PrinterStatus::default()
    });
    let seen = printer
        .print_checked(&ticket())
        .await
        .expect("print")
        .expect("status checked");
    assert_eq!(seen.problems(), [PrinterProblem::PaperNearEnd]);
    assert_eq!(vp.wait_jobs(1, Duration::from_secs(5)).await.len(), 1);
}

#[tokio::test]
async fn cover_open_and_a_silent_printer_are_errors_within_the_timeout() {
    let vp = VirtualPrinter::start().await.expect("virtual printer");
    vp.set_status(PrinterStatus {
        offline: true,
        cover_open: true,
        ..PrinterStatus::default()
    });
    let mut cfg = config(&vp.connect());
    cfg.timeout_ms = 300;
    let printer = Printer::new(cfg);
    let err = printer.print(&ticket()).await.expect_err("cover");
    assert_eq!(err.problems(), [PrinterProblem::CoverOpen]);

    vp.set_answers_status(false);
    let started = std::time::Instant::now();
    let err = printer.print(&ticket()).await.expect_err("silent");
    assert!(matches!(err, PrintError::Link(_)), "{err:?}");
    assert_eq!(err.problems(), [PrinterProblem::Offline]);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(vp.jobs().is_empty());

    // Nobody listening at all.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let gone = Printer::new(config(&format!("tcp://127.0.0.1:{port}")));
    let err = gone.status().await.expect_err("refused");
    assert!(err.to_string().contains("cannot open"), "{err}");
}

#[tokio::test]
async fn a_device_file_gets_the_same_bytes() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("lp0");
    std::fs::write(&path, b"").expect("create");
    let mut cfg = config(path.to_str().expect("utf-8 path"));
    // A plain file cannot answer DLE EOT.
    cfg.check_status = false;
    cfg.width = Width::W42;
    cfg.cut = CutMode::Full;
    Printer::new(cfg).print(&ticket()).await.expect("print");
    let job = decode(&std::fs::read(&path).expect("read"));
    assert!(job.errors.is_empty(), "{:?}", job.errors);
    assert!(job.status_requests.is_empty());
    assert_eq!(job.cuts(), [CutMode::Full]);
    assert!(job.text().contains("A012"));
    assert_eq!(job.lines().next().map(|l| l.text.len()), Some(27)); // 9 Hanzi × 3 UTF-8 bytes
    for l in job.lines() {
        assert!(hallcall_devices::escpos::columns(&l.text) * usize::from(l.width) <= 42);
    }
}

#[tokio::test]
async fn a_serial_printer_answers_status_on_the_line() {
    let (mut master, slave) = serialport::TTYPort::pair().expect("pty pair");
    let path = slave.name().expect("pty name");
    // The printer's side of the line: decode, answer DLE EOT as "ready".
    let printer_side = std::thread::spawn(move || {
        master
            .set_timeout(Duration::from_millis(100))
            .expect("timeout");
        let mut dec = hallcall_devices::decode::Decoder::new();
        let mut buf = [0u8; 512];
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut all = Vec::new();
        let mut seen_cut = false;
        while std::time::Instant::now() < deadline && !seen_cut {
            match master.read(&mut buf) {
                Ok(n) => {
                    for req in dec.push(&buf[..n]) {
                        let b = PrinterStatus::default().encode(req);
                        master.write_all(&[b]).expect("answer");
                    }
                    all.extend_from_slice(&buf[..n]);
                    seen_cut = all.windows(2).any(|w| w == [0x1D, b'V']);
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) => panic!("pty read: {e}"),
            }
        }
        // Drain what follows the cut command.
        std::thread::sleep(Duration::from_millis(100));
        if let Ok(n) = master.read(&mut buf) {
            dec.push(&buf[..n]);
        }
        dec.finish()
    });
    let printer = Printer::new(config(&format!("serial:{path}?baud=115200")));
    printer.print(&ticket()).await.expect("print over serial");
    let job = printer_side.join().expect("printer thread");
    drop(slave);
    assert_eq!(job.status_requests, [1, 2, 3, 4]);
    assert_ticket(&job);
}

#[tokio::test]
async fn the_monitor_reports_paper_running_out_between_tickets() {
    use hallcall_devices::printer::spawn_monitor;
    let vp = VirtualPrinter::start().await.expect("virtual printer");
    let printer = Printer::new(config(&vp.connect()));
    let (task, mut health) = spawn_monitor(printer.clone(), Duration::from_millis(50));
    let first = wait(&mut health).await;
    assert!(first.problems.is_empty() && first.can_print(), "{first:?}");
    vp.set_status(PrinterStatus::paper_out());
    let h = wait(&mut health).await;
    assert_eq!(h.problems, [PrinterProblem::PaperOut]);
    assert!(!h.can_print());
    // Printing meanwhile is serialized with the polls and refused.
    assert!(printer.print(&ticket()).await.is_err());
    vp.set_status(PrinterStatus::default());
    let h = wait(&mut health).await;
    assert!(h.problems.is_empty());
    printer.print(&ticket()).await.expect("paper back");
    assert_eq!(vp.wait_jobs(1, Duration::from_secs(5)).await.len(), 1);
    task.abort();
}

async fn wait(
    rx: &mut tokio::sync::watch::Receiver<hallcall_devices::PrinterHealth>,
) -> hallcall_devices::PrinterHealth {
    tokio::time::timeout(Duration::from_secs(5), rx.changed())
        .await
        .expect("a change in time")
        .expect("monitor alive");
    rx.borrow_and_update().clone()
}
