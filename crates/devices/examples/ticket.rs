//! Prints the ESC/POS bytes of a sample ticket (hex) and the decoded ticket
//! as text — how the example in docs/devices.md is made:
//!
//! ```sh
//! cargo run -p hallcall-devices --example ticket
//! cargo run -p hallcall-devices --example ticket -- --raw > ticket.bin   # bytes, e.g. for `nc PRINTER 9100 < ticket.bin`
//! cargo run -p hallcall-devices --example ticket -- --svg > ticket.svg   # a picture of the printed ticket
//! ```
//!
//! The picture is drawn from the *decoded* stream (what a printer would
//! make of the bytes), at the printer's scale: 576 dots per line, a 12×24
//! dot Latin cell, 24×24 Hanzi, 30-dot line pitch.

use std::io::Write;

use chrono::{DateTime, Utc};
use hallcall_devices::decode::{decode, render_text, Decoded, Item};
use hallcall_devices::escpos::{columns, Align};
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
    if std::env::args().any(|a| a == "--svg") {
        print!("{}", svg(&decode(&bytes), layout.width.columns())?);
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

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn svg(d: &Decoded, cols: usize) -> Result<String, Box<dyn std::error::Error>> {
    const CELL: usize = 12; // Latin cell width, dots
    const PITCH: usize = 30; // line feed, dots
    const MARGIN: usize = 24;
    let width = cols * CELL;
    let mut body = String::new();
    let mut y = MARGIN;
    for item in &d.items {
        match item {
            Item::Line(l) => {
                let (w, h) = (usize::from(l.width), usize::from(l.height));
                let len = columns(&l.text) * CELL * w;
                let x = match l.align {
                    Align::Left => 0,
                    Align::Center => width.saturating_sub(len) / 2,
                    Align::Right => width.saturating_sub(len),
                };
                let line_h = 24 * h + (PITCH - 24);
                if !l.text.is_empty() {
                    body.push_str(&format!(
                        r#"<text x="{}" y="{}" font-size="{}" textLength="{len}" lengthAdjust="spacingAndGlyphs" font-weight="{}">{}</text>
"#,
                        MARGIN + x,
                        y + 24 * h - 4 * h,
                        24 * h,
                        if l.bold { 700 } else { 400 },
                        esc(&l.text)
                    ));
                }
                y += line_h;
            }
            Item::Qr(q) => {
                let code = qrcode::QrCode::with_error_correction_level(
                    q.data.as_bytes(),
                    qrcode::EcLevel::M,
                )?;
                let n = code.width();
                let m = usize::from(q.module);
                let x0 = MARGIN + width.saturating_sub(n * m) / 2;
                for (i, c) in code.to_colors().iter().enumerate() {
                    if *c == qrcode::Color::Dark {
                        body.push_str(&format!(
                            r#"<rect x="{}" y="{}" width="{m}" height="{m}"/>
"#,
                            x0 + (i % n) * m,
                            y + (i / n) * m
                        ));
                    }
                }
                y += n * m + 6;
            }
            Item::Feed(n) => y += usize::from(*n) * PITCH,
            Item::Cut(_) => {
                body.push_str(&format!(
                    r##"<line x1="0" y1="{y}" x2="{}" y2="{y}" stroke="#888" stroke-dasharray="8 6"/>
<text x="4" y="{}" font-size="16" fill="#888">✂</text>
"##,
                    width + 2 * MARGIN,
                    y - 4
                ));
                y += 8;
            }
        }
    }
    Ok(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{y}" viewBox="0 0 {w} {y}">
<rect width="100%" height="100%" fill="#fbfaf6"/>
<g font-family="Noto Sans Mono CJK SC, Noto Sans CJK SC, monospace" fill="#111">
{body}</g>
</svg>
"##,
        w = width + 2 * MARGIN
    ))
}
