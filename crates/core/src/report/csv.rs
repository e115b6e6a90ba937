//! The report as CSV for a spreadsheet (issue 13 item 14): Chinese headers
//! and names with the ids in their own column, times in minutes, UTF-8
//! with a byte-order mark so Excel opens it as UTF-8 rather than GBK.

use crate::stats::{DayStats, Figures};

use super::Report;

/// Excel reads a UTF-8 file as the local code page (GBK in China) unless it
/// starts with this mark.
pub const BOM: &str = "\u{feff}";

const HEADER: [&str; 28] = [
    "日期",
    "统计范围",
    "名称",
    "编号",
    "取号数",
    "叫号数",
    "办结数",
    "过号数",
    "过号率",
    "转办数",
    "挂起数",
    "指定叫号数",
    "取消数",
    "过期数",
    "平均等候(分钟)",
    "等候中位数(分钟)",
    "等候P90(分钟)",
    "最长等候(分钟)",
    "平均办理(分钟)",
    "办理P90(分钟)",
    "评价数",
    "非常满意",
    "满意",
    "基本满意",
    "不满意",
    "非常不满意",
    "平均评分",
    "满意率",
];

/// A field quoted when it holds a comma, quote or line break (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn minutes(s: f64) -> String {
    format!("{:.1}", s / 60.0)
}

fn opt_minutes(s: Option<f64>) -> String {
    s.map(minutes).unwrap_or_default()
}

fn percent(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_default()
}

impl Report {
    /// One row per day and scope (合计, each 业务, 窗口, 人员 and each hour
    /// with arrivals, 到达时段), the range's rows first when it spans
    /// several days; CRLF line ends as RFC 4180 and Excel expect.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(BOM);
        push_row(&mut out, HEADER.iter().map(|h| h.to_string()));
        if self.from != self.to {
            let label = format!("{}至{}", self.from, self.to);
            self.rows(&mut out, &label, &self.total);
        }
        for d in &self.days {
            self.rows(&mut out, &d.date.to_string(), &d.stats);
        }
        out
    }

    fn rows(&self, out: &mut String, date: &str, s: &DayStats) {
        figures_row(out, date, "合计", "全部", "", &s.total);
        // Categories in the hall's configured order, then any no longer configured.
        let mut cats: Vec<&String> = s.by_category.keys().collect();
        let order = |id: &String| {
            self.names
                .categories
                .keys()
                .position(|k| k == id)
                .unwrap_or(usize::MAX)
        };
        cats.sort_by_key(|id| order(id));
        for id in cats {
            let name = self.names.categories.get(id).unwrap_or(id);
            figures_row(out, date, "业务", name, id, &s.by_category[id]);
        }
        for (n, f) in &s.by_window {
            let name = self
                .names
                .windows
                .get(n)
                .cloned()
                .unwrap_or_else(|| format!("{n}号窗口"));
            figures_row(out, date, "窗口", &name, &n.to_string(), f);
        }
        for (id, f) in &s.by_staff {
            let name = self.names.staff.get(id).unwrap_or(id);
            figures_row(out, date, "人员", name, id, f);
        }
        for (h, n) in s.total.arrivals_by_hour.iter().enumerate() {
            if *n > 0 {
                let mut cells = vec![
                    date.to_string(),
                    "到达时段".into(),
                    format!("{h:02}:00-{:02}:00", h + 1),
                    format!("{h:02}"),
                    n.to_string(),
                ];
                cells.resize(HEADER.len(), String::new());
                push_row(out, cells.into_iter());
            }
        }
    }
}

fn figures_row(out: &mut String, date: &str, scope: &str, name: &str, id: &str, f: &Figures) {
    let mut cells = vec![
        date.to_string(),
        scope.to_string(),
        name.to_string(),
        id.to_string(),
        f.issued.to_string(),
        f.called.to_string(),
        f.served.to_string(),
        f.no_show.to_string(),
        percent(f.no_show_rate),
        f.transferred.to_string(),
        f.held.to_string(),
        f.out_of_order.to_string(),
        f.cancelled.to_string(),
        f.expired.to_string(),
        if f.served > 0 {
            minutes(f.mean_wait_s)
        } else {
            String::new()
        },
        opt_minutes(f.wait_p50_s),
        opt_minutes(f.wait_p90_s),
        if f.served > 0 {
            minutes(f.max_wait_s)
        } else {
            String::new()
        },
        if f.served > 0 {
            minutes(f.mean_handling_s)
        } else {
            String::new()
        },
        opt_minutes(f.handling_p90_s),
        f.ratings.to_string(),
    ];
    // 非常满意 … 非常不满意: scores 5 down to 1.
    cells.extend(f.rating_levels.iter().rev().map(u32::to_string));
    cells.push(f.mean_rating.map(|m| format!("{m:.2}")).unwrap_or_default());
    cells.push(percent(f.good_share));
    push_row(out, cells.into_iter());
}

fn push_row(out: &mut String, cells: impl Iterator<Item = String>) {
    let line: Vec<String> = cells.map(|c| field(&c)).collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}
