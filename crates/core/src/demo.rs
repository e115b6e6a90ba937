//! The demo hall: a town centre (镇便民服务中心) with 5 comprehensive, 2
//! specialist, 2 tidal and 1 fallback window. `hallcall serve` without a
//! configuration file runs it; tests and the simulator use it too.

use crate::config::*;
use crate::time::{TimeOfDay, TimeRange};

fn category(
    id: &str,
    name: &str,
    name_en: &str,
    prefix: char,
    expected_s: u32,
    limit_s: u32,
) -> CategoryConfig {
    CategoryConfig {
        id: id.into(),
        name: name.into(),
        name_en: name_en.into(),
        prefix,
        expected_s,
        limit_s,
        wait_target_s: 1200,
        appointment_slots: None,
        daily_cap: None,
        last_ticket_before_close_min: 30,
    }
}

fn window(number: u32, kind: WindowKind, categories: &[&str], a: &str, b: &str) -> WindowConfig {
    WindowConfig {
        number,
        kind,
        categories: categories.iter().map(|s| s.to_string()).collect(),
        a_post: a.into(),
        b_post: Some(b.into()),
        name: format!(
            "{} {number}号窗口",
            match kind {
                WindowKind::Comprehensive => "综合受理",
                WindowKind::Specialist => "专项受理",
                WindowKind::Tidal => "潮汐",
                WindowKind::Fallback => "兜底",
            }
        ),
        evaluator_token: Some(format!("evaluator-demo-{number:02}")),
    }
}

/// Names of the demo staff, `s01` to `s12`.
pub const DEMO_STAFF: [(&str, &str); 12] = [
    ("s01", "张敏"),
    ("s02", "李娜"),
    ("s03", "王强"),
    ("s04", "刘洋"),
    ("s05", "陈静"),
    ("s06", "杨帆"),
    ("s07", "赵磊"),
    ("s08", "黄丽"),
    ("s09", "周杰"),
    ("s10", "吴芳"),
    ("s11", "徐明"),
    ("s12", "孙燕"),
];

/// The demo hall, open around the clock so the demo works whenever it runs.
pub fn demo_hall() -> HallConfig {
    use WindowKind::*;
    let mut market = category(
        "market",
        "市场准入",
        "Business registration",
        'D',
        900,
        1800,
    );
    market.wait_target_s = 1800;
    market.appointment_slots = Some(AppointmentSlots {
        slot_s: 1800,
        capacity: 2,
    });
    HallConfig {
        id: "demo".into(),
        name: "示范镇便民服务中心".into(),
        name_en: "Demo Town Service Centre".into(),
        timezone: chrono_tz::Asia::Shanghai,
        open_days: vec![
            Day::Mon,
            Day::Tue,
            Day::Wed,
            Day::Thu,
            Day::Fri,
            Day::Sat,
            Day::Sun,
        ],
        open_hours: vec![TimeRange {
            start: TimeOfDay(0),
            end: TimeOfDay(1440),
        }],
        day_close: TimeOfDay(1440),
        kiosk_tokens: vec!["kiosk-demo".into()],
        supervisor_tokens: vec!["supervisor-demo".into()],
        public_url: String::new(),
        supervision_phone: "12345".into(),
        priority_bonus_s: PriorityBonus::default(),
        tidal: TidalPolicy {
            mode: TidalMode::Auto,
            sustain_s: 60,
            open_wait_s: 1200,
            open_per_window: 8.0,
            close_per_window: 2.0,
            min_open: 3,
            max_open: 10,
        },
        min_recalls_before_no_show: 1,
        requeue: RequeuePlace::Back,
        summon_timeout_s: 300,
        hold_max_min: 30,
        near_turn_ahead: 3,
        booking_days_ahead: 7,
        closed_dates: Vec::new(),
        extra_open_dates: Vec::new(),
        no_show_limit: 3,
        no_show_ban_days: 30,
        categories: vec![
            category("general", "综合业务", "General services", 'A', 300, 900),
            category(
                "social",
                "社保医保",
                "Social and medical insurance",
                'B',
                420,
                1200,
            ),
            category(
                "civil",
                "民政残联",
                "Civil affairs and disability",
                'C',
                360,
                1200,
            ),
            market,
            category(
                "estate",
                "不动产登记",
                "Real estate registration",
                'E',
                600,
                1800,
            ),
            category(
                "veterans",
                "退役军人服务",
                "Veterans services",
                'F',
                420,
                1200,
            ),
            category(
                "crosscity",
                "跨域通办",
                "Cross-region services",
                'G',
                480,
                1200,
            ),
        ],
        windows: vec![
            window(1, Comprehensive, &[], "s01", "s02"),
            window(2, Comprehensive, &[], "s03", "s04"),
            window(3, Comprehensive, &[], "s05", "s06"),
            window(4, Comprehensive, &[], "s07", "s08"),
            window(5, Comprehensive, &[], "s09", "s10"),
            window(6, Specialist, &["market"], "s11", "s02"),
            window(7, Specialist, &["estate"], "s12", "s04"),
            window(8, Tidal, &[], "s06", "s08"),
            window(9, Tidal, &[], "s10", "s12"),
            window(10, Fallback, &[], "s02", "s04"),
        ],
        staff: DEMO_STAFF
            .iter()
            .map(|(id, name)| StaffConfig {
                id: (*id).into(),
                name: (*name).into(),
                pin_hash: String::new(),
                staff_no: format!("10{}", id.trim_start_matches('s')),
                photo: None,
            })
            .collect(),
        printers: Vec::new(),
        voice: None,
        webhooks: Vec::new(),
    }
}
