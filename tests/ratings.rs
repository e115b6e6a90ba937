//! Issue 13 items 9, 12 and 13 over the real API: 好差评 with reasons kept
//! and followed up (差评 list, follow-up, CSV export, restart), appointment
//! check-in by code alone (too early says when), and the supervisor's
//! warning when printed links cannot open on a phone.

mod support;

use serde_json::{json, Value};
use support::*;

fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

async fn rate(s: &Server, id: &str, body: Value) -> Resp {
    s.post(&format!("/tickets/{id}/rating"), None, Some(body))
        .await
}

async fn fu(s: &Server, ticket: &str, token: Option<&str>, body: Value) -> Resp {
    s.post(&format!("/ratings/{ticket}/follow-up"), token, Some(body))
        .await
}

/// Issues a `general` ticket and serves it at window 1; its id.
async fn served(s: &Server, clerk: &str) -> String {
    let id = str_of(&s.issue("general").await["id"]);
    let called = s.call_next(clerk, 1).await;
    assert_eq!(called["ticket"]["id"], id.as_str());
    s.act(clerk, 1, "start", None).await.expect(200);
    s.act(clerk, 1, "complete", None).await.expect(200);
    id
}

#[tokio::test]
async fn bad_ratings_keep_their_reason_and_the_supervisor_follows_them_up() {
    let mut s = Server::start().await;
    let clerk = s.login("s01", 1).await;

    // The phone: 不满意 needs a reason; unknown reasons and long texts are refused.
    let a = served(&s, &clerk).await;
    // A display subscribed from here on, and the seq to replay from later.
    let from = s.seq().await;
    let mut live = Sub::connect(&s, None).await;
    rate(&s, &a, json!({"score": 2}))
        .await
        .expect_error(400, "reason_required");
    rate(&s, &a, json!({"score": 2, "reasons": ["rude"]}))
        .await
        .expect_error(400, "unknown_reason");
    rate(&s, &a, json!({"score": 2, "reason": "慢".repeat(201)}))
        .await
        .expect_error(400, "reason_too_long");
    rate(&s, &a, json!({"score": 0}))
        .await
        .expect_error(400, "bad_score");
    let v = rate(&s, &a,
        json!({"score": 2, "reasons": ["long_wait", "not_told_at_once"], "reason": "材料清单没说全"}),
    )
    .await
    .expect(200);
    let types: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["rating_recorded", "warning"], "{v}");
    assert_eq!(v["events"][1]["kind"], "bad_rating");
    assert_eq!(v["events"][1]["level"], "yellow");

    // The evaluator: 非常不满意 with a reason code and text.
    let b = served(&s, &clerk).await;
    s.post(
        "/windows/1/evaluator/rating",
        Some("evaluator-demo-01"),
        Some(json!({"ticket": b, "score": 1})),
    )
    .await
    .expect_error(400, "reason_required");
    s.post(
        "/windows/1/evaluator/rating",
        Some("evaluator-demo-01"),
        Some(json!({"ticket": b, "score": 1, "reasons": ["attitude"], "reason": "态度生硬"})),
    )
    .await
    .expect(200);
    // A good rating is not a 差评.
    let c = served(&s, &clerk).await;
    rate(&s, &c, json!({"score": 5})).await.expect(200);

    // The list is the supervisor's only.
    s.get("/ratings/bad", None)
        .await
        .expect_error(401, "unauthorized");
    s.get("/ratings/bad", Some(KIOSK))
        .await
        .expect_error(403, "forbidden");
    let list = s.get("/ratings/bad", Some(SUPERVISOR)).await.expect(200);
    assert_eq!(list["pending"], 2, "{list}");
    let r = list["ratings"].as_array().unwrap();
    assert_eq!(r.len(), 2, "{list}");
    let (rb, ra) = (&r[0], &r[1]); // newest first
    assert_eq!(ra["ticket"], a.as_str());
    assert_eq!(ra["score_name"], "不满意");
    assert_eq!(ra["reasons"], json!(["long_wait", "not_told_at_once"]));
    assert_eq!(ra["reason_names"], json!(["等候时间过长", "未一次性告知"]));
    assert_eq!(ra["comment"], "材料清单没说全");
    assert_eq!(
        (ra["window"].clone(), ra["staff"].clone()),
        (json!(1), json!("s01"))
    );
    assert_eq!(ra["status_name"], "待回访");
    assert_eq!(rb["ticket"], b.as_str());
    assert_eq!(rb["score"], 1);
    assert_eq!(rb["comment"], "态度生硬");

    // Follow-up: the supervisor's, with a note, and a clear 4xx otherwise.
    fu(&s, &a, None, json!({"status": "contacted", "note": "x"}))
        .await
        .expect_error(401, "unauthorized");
    fu(
        &s,
        &a,
        Some(KIOSK),
        json!({"status": "contacted", "note": "x"}),
    )
    .await
    .expect_error(403, "forbidden");
    fu(
        &s,
        &a,
        Some(SUPERVISOR),
        json!({"status": "done", "note": "x"}),
    )
    .await
    .expect_error(400, "");
    fu(&s, &a, Some(SUPERVISOR), json!({"status": "contacted"}))
        .await
        .expect_error(400, "note_required");
    fu(
        &s,
        &a,
        Some(SUPERVISOR),
        json!({"status": "contacted", "note": "改".repeat(501)}),
    )
    .await
    .expect_error(400, "note_too_long");
    fu(
        &s,
        &c,
        Some(SUPERVISOR),
        json!({"status": "contacted", "note": "x"}),
    )
    .await
    .expect_error(404, "unknown_bad_rating");
    let v = fu(
        &s,
        &a,
        Some(SUPERVISOR),
        json!({"status": "contacted", "note": "已电话回访，群众表示理解", "handler": "王主任"}),
    )
    .await
    .expect(200);
    assert_eq!(v["events"][0]["type"], "rating_followed_up");
    assert_eq!(v["events"][0]["by"], "supervisor");
    fu(
        &s,
        &a,
        Some(SUPERVISOR),
        json!({"status": "rectified", "note": "窗口张贴材料清单", "handler": "王主任"}),
    )
    .await
    .expect(200);

    let pending = s
        .get("/ratings/bad?status=pending", Some(SUPERVISOR))
        .await
        .expect(200);
    assert_eq!(pending["ratings"].as_array().unwrap().len(), 1);
    assert_eq!(pending["ratings"][0]["ticket"], b.as_str());
    s.get("/ratings/bad?status=later", Some(SUPERVISOR))
        .await
        .expect_error(400, "bad_status");

    // The export: CSV that Excel opens (BOM, Chinese headers, ids in extra columns).
    let csv = s.get("/ratings/bad?format=csv", Some(SUPERVISOR)).await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    assert!(csv.body.starts_with(&[0xef, 0xbb, 0xbf]), "UTF-8 BOM");
    let text = csv.text();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("评价时间,业务日期,号码,业务,窗口,工作人员,评价,原因,意见,回访状态,回访说明,回访人,回访时间,票据ID"),
        "{header}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{text}");
    let row_a = rows.iter().find(|r| r.contains(&a)).expect("row of a");
    for want in [
        "综合",
        "1号窗口",
        "不满意",
        "等候时间过长；未一次性告知",
        "材料清单没说全",
        "已整改",
        "窗口张贴材料清单",
        "王主任",
        "s01",
    ] {
        assert!(row_a.contains(want), "{want} in {row_a}");
    }
    // The same with Accept: text/csv.
    let via_accept = s
        .send(
            s.http()
                .get(s.hall_url("/ratings/bad"))
                .bearer_auth(SUPERVISOR)
                .header("accept", "text/csv"),
        )
        .await;
    assert_eq!(via_accept.body, csv.body);

    // The public never sees reasons or notes: not live, not in a since=
    // replay (both are the core's public projection), not in the status.
    let mut seen = live.until_type("rating_followed_up").await;
    seen.extend(live.until_type("rating_followed_up").await);
    let mut replay = Sub::connect(&s, Some(from)).await;
    seen.extend(replay.until_seq(s.seq().await).await);
    let kinds: Vec<String> = seen
        .iter()
        .filter(|e| e["type"] == "warning")
        .map(|e| format!("{}:{}", str_of(&e["kind"]), str_of(&e["level"])))
        .collect();
    assert_eq!(
        kinds,
        [
            "bad_rating:yellow",
            "bad_rating:red",
            "bad_rating:yellow",
            "bad_rating:red"
        ],
        "live then replayed"
    );
    assert_eq!(
        seen.iter()
            .filter(|e| e["type"] == "rating_followed_up")
            .count(),
        4
    );
    for e in &seen {
        let t = e.to_string();
        for secret in [
            a.as_str(),
            b.as_str(),
            "long_wait",
            "材料清单没说全",
            "态度生硬",
            "已电话回访",
            "窗口张贴材料清单",
            "王主任",
        ] {
            assert!(!t.contains(secret), "{secret} on the public stream: {t}");
        }
    }
    let status = s.ticket(&a).await.to_string();
    assert!(
        !status.contains("材料清单") && !status.contains("long_wait"),
        "{status}"
    );

    // Durable: after a restart the list, reasons and follow-up are all there.
    s.restart().await;
    let after = s.get("/ratings/bad", Some(SUPERVISOR)).await.expect(200);
    let ra2 = after["ratings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ticket"] == a.as_str())
        .cloned()
        .expect("a after restart");
    assert_eq!(ra2["comment"], "材料清单没说全");
    assert_eq!(ra2["status"], "rectified");
    let steps: Vec<String> = ra2["follow_ups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{}",
                str_of(&f["status"]),
                str_of(&f["note"]),
                str_of(&f["handler"])
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            "contacted:已电话回访，群众表示理解:王主任",
            "rectified:窗口张贴材料清单:王主任"
        ]
    );
}

/// Unix seconds as RFC 3339 in UTC, as the server writes it (`…T…:00.000Z`).
fn rfc3339(secs: u64) -> String {
    hallcall_core::time::rfc3339(secs as i64 * 1000)
}

#[tokio::test]
async fn the_kiosk_checks_an_appointment_in_by_its_code_alone() {
    // 15-minute slots: the next slot start is always within check-in.
    let mut hall = demo_hall_with_pins();
    for c in &mut hall.categories {
        if let Some(slots) = &mut c.appointment_slots {
            slots.slot_s = 900;
        }
    }
    let s = Server::start_with(ServerOptions {
        hall: Some(hall),
        ..Default::default()
    })
    .await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let book = |slot: u64| {
        s.post(
            "/appointments",
            None,
            Some(
                json!({"category": "market", "slot_start": rfc3339(slot), "phone": "13800138000"}),
            ),
        )
    };
    let soon = (now / 900 + 1) * 900;
    let later = soon + 2 * 3600;
    let code_soon = str_of(&book(soon).await.expect(201)["code"]);
    let code_later = str_of(&book(later).await.expect(201)["code"]);

    // The kiosk's (and the supervisor's, as for issuing), not a clerk's.
    s.post(&format!("/appointments/{code_soon}/check-in"), None, None)
        .await
        .expect_error(401, "unauthorized");
    let clerk = s.login("s01", 1).await;
    s.post(
        &format!("/appointments/{code_soon}/check-in"),
        Some(&clerk),
        None,
    )
    .await
    .expect_error(403, "forbidden");
    s.post("/appointments/000000/check-in", Some(KIOSK), None)
        .await
        .expect_error(404, "unknown_appointment");

    // Too early: a 409 that says when check-in opens.
    let early = s
        .post(
            &format!("/appointments/{code_later}/check-in"),
            Some(KIOSK),
            None,
        )
        .await;
    early.expect_error(409, "appointment_too_early");
    let e = &early.json()["error"];
    assert_eq!(e["check_in_from"], rfc3339(later - 900));
    assert_eq!(e["check_in_until"], rfc3339(later + 900));
    let local = str_of(&e["local"]);
    assert!(
        local.starts_with("预约时段 ") && local.contains("签到时间"),
        "{local}"
    );
    assert!(str_of(&e["message"]).contains("未到签到时间"), "{e}");

    // On time, by code alone: the booked category, appointment priority.
    let t = s
        .post(
            &format!("/appointments/{code_soon}/check-in"),
            Some(KIOSK),
            None,
        )
        .await
        .expect(201);
    assert_eq!(t["category"], "market", "{t}");
    assert!(str_of(&t["number"]).starts_with('D'), "{t}");
    assert_eq!(t["appointment"]["late"], false);
    assert_eq!(t["appointment"]["slot_start"], rfc3339(soon));
    assert!(str_of(&t["status_url"]).contains(&str_of(&t["id"])));
    s.post(
        &format!("/appointments/{code_soon}/check-in"),
        Some(KIOSK),
        None,
    )
    .await
    .expect_error(409, "appointment_used");
}

#[tokio::test]
async fn the_supervisor_is_told_when_printed_links_cannot_open_on_a_phone() {
    // The demo hall has no public_url: links use the kiosk's address.
    let s = Server::start().await;
    let d = s.get("/devices", Some(SUPERVISOR)).await.expect(200);
    assert_eq!(d["public_url"], "");
    assert_eq!(d["public_url_problem"], json!({"code": "missing"}));
    let t = s.issue("general").await;
    assert!(str_of(&t["status_url"]).starts_with("/t/"), "{t}");
    drop(s);

    let mut hall = demo_hall_with_pins();
    hall.public_url = "http://192.168.1.20:8080".into();
    let s = Server::start_with(ServerOptions {
        hall: Some(hall),
        ..Default::default()
    })
    .await;
    let d = s.get("/devices", Some(SUPERVISOR)).await.expect(200);
    assert_eq!(
        d["public_url_problem"],
        json!({"code": "private", "host": "192.168.1.20"})
    );
    drop(s);

    let mut hall = demo_hall_with_pins();
    hall.public_url = "https://dt.example.gov.cn".into();
    let s = Server::start_with(ServerOptions {
        hall: Some(hall),
        ..Default::default()
    })
    .await;
    let d = s.get("/devices", Some(SUPERVISOR)).await.expect(200);
    assert_eq!(d["public_url_problem"], Value::Null);
    let t = s.issue("general").await;
    assert!(
        str_of(&t["status_url"]).starts_with("https://dt.example.gov.cn/t/"),
        "{t}"
    );
}
