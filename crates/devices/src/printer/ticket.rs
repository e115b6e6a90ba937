//! What goes on a ticket, and its ESC/POS bytes.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::escpos::{self, wrap, Align, CutMode, EscPos, QrLevel};
use crate::printer::config::{PrinterConfig, Width};

/// When the ticket was issued, as the citizen reads it: the hall's local
/// time, never the printer's or the server's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IssueTime {
    /// Already formatted by the caller.
    Text(String),
    /// An instant and the hall's zone; printed as `2026-11-23 20:19`.
    Zoned {
        /// The instant.
        at: DateTime<Utc>,
        /// The hall's `timezone`.
        tz: Tz,
    },
}

impl IssueTime {
    /// The printed form.
    pub fn text(&self) -> String {
        match self {
            IssueTime::Text(s) => s.clone(),
            IssueTime::Zoned { at, tz } => {
                at.with_timezone(tz).format("%Y-%m-%d %H:%M").to_string()
            }
        }
    }
}

/// Everything printed about one ticket; the server fills it from the issue
/// reply (`number`, `category_name`, `ahead`, `estimated_wait_s`,
/// `issued_at`, `status_url` made absolute with the hall's `public_url`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketPrint {
    /// The hall's name (示范镇便民服务中心).
    pub hall_name: String,
    /// The ticket number (A012), printed in double size.
    pub number: String,
    /// The category's name (综合业务).
    pub category_name: String,
    /// Tickets to be called before this one.
    pub ahead: u32,
    /// Estimated wait; `None` while no window serving the category is open.
    pub estimated_wait_s: Option<u64>,
    /// Issue time.
    pub issued_at: IssueTime,
    /// Absolute URL of the ticket's public status page, printed as a QR code.
    pub status_url: String,
    /// An extra line under the number, e.g. 绿色通道 or 预约.
    pub note: Option<String>,
}

/// How a printer lays tickets out (from its [`PrinterConfig`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketLayout {
    /// Characters per line.
    pub width: Width,
    /// Footer text, `\n` for new lines.
    pub footer: String,
    /// QR module size, dots.
    pub qr_size: u8,
    /// Cut.
    pub cut: CutMode,
}

impl Default for TicketLayout {
    fn default() -> Self {
        TicketLayout {
            width: Width::W48,
            footer: String::new(),
            qr_size: 6,
            cut: CutMode::Partial,
        }
    }
}

impl From<&PrinterConfig> for TicketLayout {
    fn from(c: &PrinterConfig) -> Self {
        TicketLayout {
            width: c.width,
            footer: c.footer.clone(),
            qr_size: c.qr_size,
            cut: c.cut,
        }
    }
}

/// The line under the QR code.
pub const QR_CAPTION: &str = "扫码查看排队进度";

/// "约 12 分钟" and the like.
pub fn wait_text(estimated_wait_s: Option<u64>) -> String {
    match estimated_wait_s {
        None => "暂无法估计".into(),
        Some(s) if s < 60 => "不到 1 分钟".into(),
        Some(s) => {
            let min = s.div_ceil(60);
            if min < 60 {
                format!("约 {min} 分钟")
            } else if min % 60 == 0 {
                format!("约 {} 小时", min / 60)
            } else {
                format!("约 {} 小时 {} 分钟", min / 60, min % 60)
            }
        }
    }
}

/// Renders a ticket as ESC/POS bytes: `ESC @`, Chinese mode, the hall name
/// (bold, centred), the number at double width and height, the category, the
/// people ahead, the estimated wait and the issue time, the status page as a
/// native QR code, the footer, and a cut.
pub fn render_ticket(t: &TicketPrint, layout: &TicketLayout) -> Vec<u8> {
    let width = layout.width.columns();
    let rule = "-".repeat(width);
    let mut p = EscPos::new();
    p.align(Align::Center).bold(true);
    for l in wrap(&t.hall_name, width) {
        p.line(&l);
    }
    p.bold(false).line(&rule);
    if let Some(note) = t.note.as_deref().filter(|n| !n.trim().is_empty()) {
        p.bold(true).line(note.trim()).bold(false);
    }
    // Double width halves the columns available.
    p.size(2, 2);
    for l in wrap(&t.number, width / 2) {
        p.line(&l);
    }
    p.size(1, 1);
    for l in wrap(&t.category_name, width) {
        p.line(&l);
    }
    p.line(&rule).align(Align::Left);
    for (label, value) in [
        ("前面等候", format!("{} 人", t.ahead)),
        ("预计等候", wait_text(t.estimated_wait_s)),
        ("取号时间", t.issued_at.text()),
    ] {
        for l in wrap(&format!("{label}：{value}"), width) {
            p.line(&l);
        }
    }
    p.align(Align::Center);
    let url = escpos::sanitize(t.status_url.trim());
    if !url.is_empty() && url.len() <= escpos::QR_MAX_BYTES {
        p.feed(1)
            .qr(url.as_bytes(), layout.qr_size, QrLevel::M)
            .line(QR_CAPTION);
    } else if !url.is_empty() {
        // Too long for a code: at least the address is on the ticket.
        for l in wrap(&url, width) {
            p.line(&l);
        }
    }
    if !layout.footer.trim().is_empty() {
        p.line(&rule);
        for l in wrap(&layout.footer, width) {
            p.line(&l);
        }
    }
    p.feed(3).cut(layout.cut);
    p.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_naturally() {
        assert_eq!(wait_text(None), "暂无法估计");
        assert_eq!(wait_text(Some(0)), "不到 1 分钟");
        assert_eq!(wait_text(Some(61)), "约 2 分钟");
        assert_eq!(wait_text(Some(3600)), "约 1 小时");
        assert_eq!(wait_text(Some(4500)), "约 1 小时 15 分钟");
    }

    #[test]
    fn time_is_in_the_halls_zone() {
        let at = DateTime::parse_from_rfc3339("2026-11-23T12:19:19Z")
            .expect("t")
            .with_timezone(&Utc);
        let t = IssueTime::Zoned {
            at,
            tz: chrono_tz::Asia::Shanghai,
        };
        assert_eq!(t.text(), "2026-11-23 20:19");
        let t = IssueTime::Zoned {
            at,
            tz: chrono_tz::Asia::Urumqi,
        };
        assert_eq!(t.text(), "2026-11-23 18:19");
    }
}
