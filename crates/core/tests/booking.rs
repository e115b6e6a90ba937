//! 预约 rules (issue 15 item 2): the booking horizon, the holiday calendar
//! (closed dates, 调休 working weekends) for booking and opening hours, a
//! day's slots with what is left, cancelling a booking, and the no-show ban
//! on a phone (kept as the server's salted hash).

mod common;

use common::*;
use hallcall_core::config::{Day, HallConfig};
use hallcall_core::time::{self, Millis, TimeRange};
use hallcall_core::*;

const MIN: Millis = 60_000;
const DAY: Millis = 24 * 60 * MIN;

/// Monday to Friday, 08:30-12:00 and 13:30-17:30; 国庆-style holiday on
/// Wednesday 2026-11-25, a 调休 working Sunday 2026-11-29; market slots of
/// 30 min for 2 people.
fn weekday_hall() -> HallConfig {
    let mut c = demo::demo_hall();
    c.open_days = vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];
    c.open_hours = vec![
        TimeRange::parse("08:30-12:00").expect("range"),
        TimeRange::parse("13:30-17:30").expect("range"),
    ];
    c.closed_dates = vec![date(25)];
    c.extra_open_dates = vec![date(29)];
    c
}

fn date(d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, d)
        .or_else(|| chrono::NaiveDate::from_ymd_opt(2026, 12, d - 30))
        .expect("date")
}

/// 10:00 local on 2026-11-`d` (d > 30 runs into December).
fn ten_am(d: u32) -> Millis {
    time::instant_of(chrono_tz::Asia::Shanghai, date(d), 600)
}

fn book(h: &mut H, code: &str, slot: Millis, phone: Option<&str>) -> Result<Vec<Event>, Rejected> {
    h.run(
        Actor::Public,
        Command::BookAppointment {
            code: code.into(),
            category: "market".into(),
            slot_start: slot,
            phone: phone.map(str::to_string),
        },
    )
}

fn cancel(h: &mut H, code: &str) -> Result<Vec<Event>, Rejected> {
    h.run(
        Actor::Public,
        Command::CancelAppointment { code: code.into() },
    )
}

#[test]
fn booking_reaches_booking_days_ahead_and_not_a_day_further() {
    let mut h = H::demo(); // Monday 2026-11-23 09:00, booking_days_ahead = 7
    book(&mut h, "100001", ten_am(30), None).expect("7 days ahead");
    assert_eq!(
        book(&mut h, "100002", ten_am(31), None).unwrap_err(),
        Rejected::BadSlot("beyond booking_days_ahead")
    );
    let mut c = demo::demo_hall();
    c.booking_days_ahead = 0;
    let mut h = H::new(c);
    book(&mut h, "100003", ten_am(23), None).expect("today only");
    assert!(book(&mut h, "100004", ten_am(24), None).is_err());
}

#[test]
fn a_holiday_takes_no_bookings_or_tickets_and_a_working_weekend_does() {
    let mut h = H::new(weekday_hall());
    assert_eq!(
        book(&mut h, "200001", ten_am(25), None).unwrap_err(),
        Rejected::BadSlot("the hall is closed that day"),
        "holiday"
    );
    assert_eq!(
        book(&mut h, "200002", ten_am(28), None).unwrap_err(),
        Rejected::BadSlot("the hall is closed that day"),
        "an ordinary Saturday"
    );
    book(&mut h, "200003", ten_am(29), None).expect("调休 Sunday opens");
    assert!(h
        .hall
        .slots("market", date(25), h.now)
        .expect("slots")
        .is_empty());
    let sunday = h.hall.slots("market", date(29), h.now).expect("slots");
    // 08:30-12:00 and 13:30-17:30 in 30-minute slots: 7 + 8.
    assert_eq!(sunday.len(), 15);
    assert_eq!(sunday[0].local, "08:30");
    assert!(sunday.iter().any(|s| s.local == "10:00" && s.booked == 1));
    // Opening hours follow the calendar too: no ticket on the holiday.
    h.now = ten_am(25);
    assert_eq!(
        h.run(
            Actor::Kiosk,
            Command::IssueTicket {
                id: "t-holiday".into(),
                category: "general".into(),
                priority: Priority::Normal,
                channel: Channel::Kiosk,
                appointment_code: None,
            },
        )
        .unwrap_err(),
        Rejected::HallClosed
    );
}

#[test]
fn slots_show_what_is_left_and_a_cancel_frees_a_place() {
    let mut h = H::new(weekday_hall());
    book(&mut h, "300001", ten_am(24), None).expect("first");
    book(&mut h, "300002", ten_am(24), None).expect("second");
    assert_eq!(
        book(&mut h, "300003", ten_am(24), None).unwrap_err(),
        Rejected::SlotFull
    );
    let slot = |h: &H| {
        h.hall
            .slots("market", date(24), h.now)
            .expect("slots")
            .into_iter()
            .find(|s| s.start == ten_am(24))
            .expect("10:00")
    };
    let s = slot(&h);
    assert_eq!((s.capacity, s.booked, s.bookable), (2, 2, false));
    let evs = cancel(&mut h, "300001").expect("cancel");
    assert_eq!(H::types(&evs), ["appointment_cancelled"]);
    assert_eq!((slot(&h).booked, slot(&h).bookable), (1, true));
    book(&mut h, "300003", ten_am(24), None).expect("the freed place");
    assert_eq!(
        cancel(&mut h, "300001").unwrap_err(),
        Rejected::UnknownAppointment
    );
    // Checked in: no longer cancellable.
    h.now = ten_am(24) - 10 * MIN;
    h.ok(
        Actor::Kiosk,
        Command::IssueTicket {
            id: "t-appt".into(),
            category: "market".into(),
            priority: Priority::Normal,
            channel: Channel::Kiosk,
            appointment_code: Some("300002".into()),
        },
    );
    assert_eq!(
        cancel(&mut h, "300002").unwrap_err(),
        Rejected::AppointmentUsed
    );
    // Past its check-in window: a no-show, not cancellable.
    h.now = ten_am(24) + 16 * MIN;
    assert_eq!(
        cancel(&mut h, "300003").unwrap_err(),
        Rejected::AppointmentMissed
    );
    // The public event names no code and no phone.
    let public = serde_json::to_value(evs[0].public()).expect("json");
    assert!(
        public.get("code").is_none() && public.get("phone").is_none(),
        "{public}"
    );
    // Bad queries.
    assert!(matches!(
        h.hall.slots("general", date(24), h.now),
        Err(Rejected::NoAppointments(_))
    ));
    assert!(h
        .hall
        .slots("market", date(23) - chrono::Days::new(1), h.now)
        .is_err());
}

/// Books a market slot on each given day for `phone` and lets every day
/// pass (closing it, as the server's timer does) without a check-in.
fn miss(h: &mut H, phone: &str, days: &[u32], code: &mut u32) {
    for &d in days {
        *code += 1;
        book(h, &format!("{code:06}"), ten_am(d), Some(phone)).expect("book");
    }
}

#[test]
fn missed_appointments_ban_a_phone_and_the_ban_ends() {
    let mut h = H::demo(); // limit 3 in 30 days, ban 30 days
    let mut code = 400_000;
    miss(&mut h, "phone-a", &[23, 24, 25], &mut code);
    miss(&mut h, "phone-b", &[23, 24], &mut code);
    // Day by day to 2026-11-26 09:00, closing each day (missed bookings
    // move to the phone's record at day close).
    for _ in 0..3 {
        h.advance(24 * 3600);
        h.tick();
    }
    let last_missed = ten_am(25) + hall::CHECK_IN_GRACE;
    code += 1;
    assert_eq!(
        book(&mut h, &format!("{code:06}"), ten_am(27), Some("phone-a")).unwrap_err(),
        Rejected::BookingBanned {
            until: last_missed + 30 * DAY
        },
        "three missed in 30 days"
    );
    book(&mut h, "499998", ten_am(27), Some("phone-b")).expect("two missed: not banned");
    book(&mut h, "499999", ten_am(27), None).expect("no phone: no ban");
    // A replay of the log builds the same hall (missed record included).
    let mut replay = Hall::new(demo::demo_hall());
    for ev in &h.log {
        replay.apply(ev);
    }
    assert!(replay == h.hall, "replay differs");
    // 30 days after the third miss, the phone books again.
    h.now = last_missed + 30 * DAY - MIN;
    h.tick();
    let slot = h.now - h.now % (30 * MIN) + 60 * MIN;
    assert!(matches!(
        book(&mut h, "500001", slot, Some("phone-a")),
        Err(Rejected::BookingBanned { .. })
    ));
    h.now = last_missed + 30 * DAY + MIN;
    book(&mut h, "500002", slot + 30 * MIN, Some("phone-a")).expect("the ban is over");
}

#[test]
fn misses_spread_over_more_than_30_days_do_not_ban() {
    let mut c = demo::demo_hall();
    c.booking_days_ahead = 40;
    c.no_show_limit = 2;
    let mut h = H::new(c);
    let mut code = 600_000;
    miss(&mut h, "phone-c", &[23, 54], &mut code); // 31 days apart
    h.now = ten_am(54) + DAY;
    h.tick();
    book(&mut h, "699999", ten_am(56), Some("phone-c")).expect("not within 30 days");
    miss(&mut h, "phone-c", &[57], &mut code);
    h.now = ten_am(57) + hall::CHECK_IN_GRACE + MIN;
    assert!(matches!(
        book(&mut h, "699998", ten_am(58), Some("phone-c")),
        Err(Rejected::BookingBanned { .. })
    ));
}
