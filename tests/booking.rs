//! 预约 through the real server (issue 15 item 2): a day's slots with what
//! is left, booking with a QR of the booking link, cancelling by code, the
//! refusals as JSON 4xx, and no phone or code on the public stream.

mod support;

use serde_json::{json, Value};
use support::*;

fn tomorrow(s: &str) -> String {
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    (d + chrono::Days::new(1)).to_string()
}

async fn slot_of(s: &Server, date: &str, local: &str) -> Value {
    let r = s
        .get(
            &format!("/appointments/slots?date={date}&category=market"),
            None,
        )
        .await
        .expect(200);
    r["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .find(|x| x["local"] == local)
        .cloned()
        .unwrap_or_else(|| panic!("no {local} slot in {r}"))
}

#[tokio::test]
async fn book_see_the_slot_fill_cancel_and_see_it_free_again() {
    let s = Server::start().await;
    let today = s.state().await["business_date"]
        .as_str()
        .expect("business_date")
        .to_string();
    let day = tomorrow(&today);
    let r = s
        .get(
            &format!("/appointments/slots?date={day}&category=market"),
            None,
        )
        .await
        .expect(200);
    assert_eq!(r["open"], true, "{r}");
    assert_eq!(
        r["categories"][0]["id"], "market",
        "the categories that take bookings: {r}"
    );
    assert_eq!(r["categories"].as_array().map(Vec::len), Some(1), "{r}");
    assert_eq!(
        r["slots"].as_array().map(Vec::len),
        Some(48),
        "demo: 24 h of 30-minute slots: {r}"
    );
    let before = slot_of(&s, &day, "10:00").await;
    assert_eq!(
        (before["capacity"].as_u64(), before["booked"].as_u64()),
        (Some(2), Some(0))
    );
    let slot_start = before["start"].as_str().expect("start").to_string();

    let b = s
        .post(
            "/appointments",
            None,
            Some(json!({"category": "market", "slot_start": slot_start, "phone": "13800138000"})),
        )
        .await
        .expect(201);
    let code = b["code"].as_str().expect("code").to_string();
    assert_eq!(code.len(), 6, "{b}");
    assert_eq!(b["local"], format!("{day} 10:00"), "{b}");
    assert_eq!(b["category"], "market");
    assert!(
        b["link"]
            .as_str()
            .unwrap_or("")
            .ends_with(&format!("/book?hall={HALL}&code={code}")),
        "{b}"
    );
    assert!(
        b["qr_svg"].as_str().unwrap_or("").contains("<svg"),
        "a QR: {b}"
    );
    assert_eq!(slot_of(&s, &day, "10:00").await["booked"], 1);

    // The public stream says a slot filled and freed, never the code or phone.
    let c = s
        .send(
            s.http()
                .delete(s.hall_url(&format!("/appointments/{code}"))),
        )
        .await
        .expect(200);
    assert_eq!(c["events"][0]["type"], "appointment_cancelled", "{c}");
    assert_eq!(slot_of(&s, &day, "10:00").await["booked"], 0);
    let public: Vec<Value> = s
        .all_events()
        .await
        .into_iter()
        .filter(|e| e["type"].as_str().unwrap_or("").starts_with("appointment_"))
        .collect();
    assert_eq!(public.len(), 2, "{public:?}");
    for e in &public {
        assert!(e.get("code").is_none() && e.get("phone").is_none(), "{e}");
    }
    // Cancelled twice: gone.
    s.send(
        s.http()
            .delete(s.hall_url(&format!("/appointments/{code}"))),
    )
    .await
    .expect_error(404, "unknown_appointment");
}

#[tokio::test]
async fn bad_slot_queries_and_bookings_are_json_4xx() {
    let s = Server::start().await;
    let today = s.state().await["business_date"]
        .as_str()
        .expect("business_date")
        .to_string();
    let far = {
        let d = chrono::NaiveDate::parse_from_str(&today, "%Y-%m-%d").expect("date");
        (d + chrono::Days::new(8)).to_string()
    };
    let cases = [
        (
            "/appointments/slots?date=30-11-2026&category=market".to_string(),
            400,
            "bad_date",
        ),
        (
            format!("/appointments/slots?date={far}&category=market"),
            400,
            "bad_slot",
        ),
        (
            format!("/appointments/slots?date={today}&category=general"),
            400,
            "no_appointments",
        ),
        (
            format!("/appointments/slots?date={today}&category=nope"),
            404,
            "unknown_category",
        ),
    ];
    for (path, status, code) in cases {
        s.get(&path, None).await.expect_error(status, code);
    }
    // Beyond booking_days_ahead (7): refused, and the phone's budget is
    // given back (three more bookings still go through today).
    let far_slot = format!("{far}T10:00:00+08:00");
    s.post(
        "/appointments",
        None,
        Some(json!({"category": "market", "slot_start": far_slot, "phone": "13900139000"})),
    )
    .await
    .expect_error(400, "bad_slot");
    s.send(s.http().delete(s.hall_url("/appointments/000000")))
        .await
        .expect_error(404, "unknown_appointment");
}

/// Walks a directory tree and says whether any file holds `needle`.
fn any_file_contains(dir: &std::path::Path, needle: &[u8]) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            any_file_contains(&p, needle)
        } else {
            std::fs::read(&p)
                .map(|b| b.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        }
    })
}

#[tokio::test]
async fn the_phone_reaches_the_log_only_as_a_keyed_hash() {
    let mut s = Server::start().await;
    let today = s.state().await["business_date"]
        .as_str()
        .expect("business_date")
        .to_string();
    let day = tomorrow(&today);
    // The same number written two ways, and another number.
    for (slot, phone) in [
        ("10:00", "13800138000"),
        ("10:30", "+86 138-0013-8000"),
        ("11:00", "13900139000"),
    ] {
        s.post(
            "/appointments",
            None,
            Some(json!({"category": "market", "slot_start": format!("{day}T{slot}:00+08:00"), "phone": phone})),
        )
        .await
        .expect(201);
    }
    s.kill();
    let data = s.data_path();
    let store =
        hallcall_store::Store::open(&data.join("db"), hallcall_store::StoreOptions::default())
            .expect("store opens");
    let phones: Vec<String> = store
        .read_log(HALL, 1, 10_000)
        .expect("log")
        .into_iter()
        .filter_map(|e| match e.kind {
            hallcall_core::EventKind::AppointmentBooked { phone, .. } => phone,
            _ => None,
        })
        .collect();
    drop(store);
    assert_eq!(phones.len(), 3, "every booking carries its phone's hash");
    assert_eq!(
        phones[0], phones[1],
        "one number, one hash (normalised first)"
    );
    assert_ne!(phones[0], phones[2]);
    // A keyed hash in hex, never the number: not "contains 138", which a
    // random hex string does one time in ~70 (this test failed that way).
    assert!(
        phones.iter().all(|h| h.len() >= 32
            && h.bytes().all(|b| b.is_ascii_hexdigit())
            && !h.contains("13800138000")
            && !h.contains("13900139000")),
        "{phones:?}"
    );
    assert!(
        !any_file_contains(&data, b"13800138000") && !any_file_contains(&data, b"13900139000"),
        "no phone number anywhere in the data directory"
    );
}
