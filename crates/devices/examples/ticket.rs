//! Prints the ESC/POS bytes of a sample ticket (hex) and the decoded ticket
//! as text — how the example in docs/devices.md is made:
//!
//! ```sh
//! cargo run -p hallcall-devices --example ticket
//! cargo run -p hallcall-devices --example ticket -- --raw > ticket.bin   # bytes, e.g. for `nc PRINTER 9100 < ticket.bin`
//! ```

use std::io::Write;

use chrono::{DateTime, Utc};
use hallcall_devices::decode::{decode, render_text};
use hallcall_devices::led::frame::hex;
use hallcall_devices::{render_ticket, IssueTime, TicketLayout, TicketPrint};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let at: DateTime<Utc> =
        DateTime::parse_from_rfc3339("2026-11-23T12:19:19.575Z")?.with_timezone(&Utc);
    let ticket = TicketPrint {
        hall_name: "示范镇便民服务中心".into(),
        number: "A012".into(),
        category_name: "综合业务".into(),
        ahead: 3,
        estimated_wait_s: Some(690),
        issued_at: IssueTime::Zoned {
            at,
            tz: chrono_tz::Asia::Shanghai,
        },
        status_url: "https://hall.example.gov.cn/t/d3d14e0cd3d5fae30bd4b0f0?hall=demo".into(),
        note: None,
    };
    let layout = TicketLayout {
        footer: "请留意叫号及广播，过号请到服务台重新取号。\n监督电话 12345".into(),
        ..TicketLayout::default()
    };
    let bytes = render_ticket(&ticket, &layout);
    if std::env::args().any(|a| a == "--raw") {
        std::io::stdout().write_all(&bytes)?;
        return Ok(());
    }
    println!("{} bytes:", bytes.len());
    for chunk in bytes.chunks(24) {
        println!("{}", hex(chunk));
    }
    println!();
    print!("{}", render_text(&decode(&bytes), layout.width.columns()));
    Ok(())
}
