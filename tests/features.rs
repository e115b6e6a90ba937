//! Issue 15 through the HTTP API of the real binary: a citizen cancels
//! (不排了), a clerk calls a given number (指定叫号), holds a ticket (挂起)
//! and calls it back, completes and sends a ticket on (多窗联办), the
//! supervisor's hall notices (durable across a restart), and 即将到号 on the
//! ticket's status. The rules themselves are tested in the core beside each
//! module; these check the paths, bodies, codes and what the public sees.

mod support;

use serde_json::{json, Value};
use support::*;

fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

/// RFC 3339 of now plus `hours` (notices must end in the future, within a year).
fn in_hours(hours: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(hours)).to_rfc3339()
}

fn types_of(resp: &Value) -> Vec<String> {
    resp["events"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["type"].as_str().unwrap_or("?").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_citizen_cancels_a_waiting_ticket_and_cannot_cancel_once_called() {
    let s = Server::start().await;
    let a1 = str_of(&s.issue("general").await["id"]);
    let a2 = str_of(&s.issue("general").await["id"]);
    let waiting_before = s.state().await["totals"]["waiting"].as_u64();
    assert_eq!(waiting_before, Some(2));

    let r = s
        .post(&format!("/tickets/{a1}/cancel"), None, None)
        .await
        .expect(200);
    assert_eq!(types_of(&r), ["ticket_cancelled"], "{r}");
    assert_eq!(s.ticket_state(&a1).await, "cancelled");
    let st = s.state().await;
    assert_eq!(st["totals"]["waiting"], 1, "{}", st["totals"]);
    assert_eq!(s.ticket(&a2).await["ahead"], 0, "A002 moves up");

    // Twice: refused with a code, nothing changes.
    let seq = s.seq().await;
    s.post(&format!("/tickets/{a1}/cancel"), None, None)
        .await
        .expect_error(409, "not_cancellable");
    // Called: too late to cancel from the phone.
    let t = s.login("s01", 1).await;
    s.call_next(&t, 1).await;
    let seq2 = s.seq().await;
    assert!(seq2 > seq);
    s.post(&format!("/tickets/{a2}/cancel"), None, None)
        .await
        .expect_error(409, "not_cancellable");
    s.post("/tickets/no-such-ticket/cancel", None, None)
        .await
        .expect_error(404, "unknown_ticket");
    assert_eq!(s.seq().await, seq2, "refusals change nothing");
}

#[tokio::test]
async fn a_clerk_calls_a_given_number_out_of_order_and_bad_numbers_are_refused() {
    let s = Server::start().await;
    let t = s.login("s01", 1).await;
    s.issue("general").await;
    s.issue("general").await;
    let a3 = str_of(&s.issue("general").await["id"]);
    let mut sub = Sub::connect(&s, None).await;

    let other = s.login("s03", 2).await;
    let seq = s.seq().await;
    s.act(&t, 1, "call", None)
        .await
        .expect_error(400, "missing_number");
    s.act(&t, 1, "call", Some(json!({"number": "Z999"})))
        .await
        .expect_error(404, "unknown_number");
    s.act(&t, 1, "call", Some(json!({"number": 3})))
        .await
        .expect_error(400, "");
    s.act(&other, 1, "call", Some(json!({"number": "A003"})))
        .await
        .expect_error(403, "");
    assert_eq!(s.seq().await, seq, "refusals change nothing");

    let r = s
        .act(&t, 1, "call", Some(json!({"number": "a3"})))
        .await
        .expect(200);
    assert_eq!(r["ticket"]["number"], "A003", "{r}");
    assert_eq!(r["window"], 1);
    assert_eq!(s.ticket_state(&a3).await, "called");
    // The stream tells displays a call, not that it was out of order.
    let msgs = sub.until_type("ticket_called").await;
    let called = msgs.last().expect("ticket_called");
    assert_eq!(called["number"], "A003", "{called}");
    assert!(called.get("out_of_order").is_none(), "{called}");
}

#[tokio::test]
async fn a_held_ticket_frees_the_window_is_listed_and_is_called_back_at_once() {
    let s = Server::start().await;
    let t = s.login("s01", 1).await;
    let a1 = str_of(&s.issue("general").await["id"]);
    s.issue("general").await;
    s.call_next(&t, 1).await;
    // Only a ticket being served can be held.
    s.act(&t, 1, "hold", None)
        .await
        .expect_error(409, "nothing_serving");
    s.act(&t, 1, "start", None).await.expect(200);
    let r = s.act(&t, 1, "hold", None).await.expect(200);
    assert_eq!(types_of(&r), ["ticket_held"], "{r}");
    let st = s.ticket(&a1).await;
    assert_eq!(st["state"], "held", "{st}");
    assert!(st["held_until"].is_string(), "{st}");
    let view = s.state().await;
    let w1 = &view["windows"][0];
    assert_eq!(w1["state"], "open", "{w1}");
    assert_eq!(w1["held"][0]["number"], "A001", "{w1}");

    // The window serves the next citizen meanwhile, then calls A001 back.
    assert_eq!(s.call_next(&t, 1).await["ticket"]["number"], "A002");
    s.act(&t, 1, "start", None).await.expect(200);
    s.act(&t, 1, "complete", None).await.expect(200);
    let r = s
        .act(&t, 1, "call", Some(json!({"number": "A001"})))
        .await
        .expect(200);
    assert_eq!(r["ticket"]["number"], "A001", "{r}");
    assert_eq!(s.ticket_state(&a1).await, "called");
    let view = s.state().await;
    assert!(
        view["windows"][0].get("held").is_none(),
        "{}",
        view["windows"][0]
    );
}

#[tokio::test]
async fn complete_with_next_category_sends_the_same_ticket_on_and_says_where() {
    let s = Server::start().await;
    let t1 = s.login("s01", 1).await;
    let _t6 = s.login("s11", 6).await; // market only
    let a1 = s.issue("general").await;
    let id = str_of(&a1["id"]);
    s.issue("market").await; // D001 came after A001
    s.call_next(&t1, 1).await;
    s.act(&t1, 1, "start", None).await.expect(200);
    let seq = s.seq().await;
    s.act(&t1, 1, "complete", Some(json!({"next_category": "nope"})))
        .await
        .expect_error(404, "unknown_category");
    s.act(
        &t1,
        1,
        "complete",
        Some(json!({"next_category": "general"})),
    )
    .await
    .expect_error(400, "chain_same_category");
    assert_eq!(s.seq().await, seq, "refusals change nothing");

    let r = s
        .act(&t1, 1, "complete", Some(json!({"next_category": "market"})))
        .await
        .expect(200);
    let types = types_of(&r);
    assert_eq!(types[..2], ["service_completed", "ticket_chained"], "{r}");
    let st = s.ticket(&id).await;
    assert_eq!(st["number"], "A001", "{st}");
    assert_eq!(st["state"], "waiting", "{st}");
    assert_eq!(st["category"], "market", "{st}");
    assert_eq!(st["next_step"]["from_category"], "general", "{st}");
    let windows = st["next_step"]["windows"].as_array().expect("windows");
    assert!(
        windows.contains(&json!(6)) && windows.contains(&json!(1)),
        "{st}"
    );
    assert_eq!(st["ahead"], 0, "its original place: ahead of D001 ({st})");
    let view = s.state().await;
    let chained: Vec<&Value> = view["system_notices"]
        .as_array()
        .expect("system_notices")
        .iter()
        .filter(|n| n["code"] == "chained")
        .collect();
    assert_eq!(chained.len(), 1, "{}", view["system_notices"]);
    assert_eq!(chained[0]["number"], "A001");
}

#[tokio::test]
async fn the_supervisor_adds_and_removes_notices_and_they_survive_a_restart() {
    let mut s = Server::start().await;
    let body = json!({"text": "今天15:00起暂停不动产登记业务", "ends_at": in_hours(8)});
    s.post("/notices", None, Some(body.clone()))
        .await
        .expect_error(401, "");
    s.post("/notices", Some(KIOSK), Some(body.clone()))
        .await
        .expect_error(403, "");
    s.post(
        "/notices",
        Some(SUPERVISOR),
        Some(json!({"text": "x", "ends_at": "tomorrow"})),
    )
    .await
    .expect_error(400, "bad_time");
    s.post(
        "/notices",
        Some(SUPERVISOR),
        Some(json!({"text": "x", "ends_at": "2001-01-01T00:00:00Z"})),
    )
    .await
    .expect_error(400, "bad_notice");
    s.post(
        "/notices",
        Some(SUPERVISOR),
        Some(json!({"text": "", "ends_at": in_hours(8)})),
    )
    .await
    .expect_error(400, "bad_notice");

    let r = s
        .post("/notices", Some(SUPERVISOR), Some(body))
        .await
        .expect(201);
    let id = r["notice"]["id"].as_u64().expect("id");
    assert_eq!(r["notice"]["showing"], true, "{r}");
    s.post(
        "/notices",
        Some(SUPERVISOR),
        Some(json!({"text": "明天起新增跨域通办窗口", "starts_at": in_hours(20), "ends_at": in_hours(30)})),
    )
    .await
    .expect(201);
    let list = s.get("/notices", None).await.expect(200);
    assert_eq!(list["notices"].as_array().map(Vec::len), Some(2), "{list}");
    assert_eq!(list["notices"][1]["showing"], false, "{list}");

    s.restart().await;
    let view = s.state().await;
    assert_eq!(view["notices"][0]["text"], "今天15:00起暂停不动产登记业务");

    s.send(s.http().delete(s.hall_url(&format!("/notices/{id}"))))
        .await
        .expect_error(401, "");
    let r = s
        .send(
            s.http()
                .delete(s.hall_url(&format!("/notices/{id}")))
                .bearer_auth(SUPERVISOR),
        )
        .await
        .expect(200);
    assert_eq!(types_of(&r), ["notice_removed"]);
    s.send(
        s.http()
            .delete(s.hall_url(&format!("/notices/{id}")))
            .bearer_auth(SUPERVISOR),
    )
    .await
    .expect_error(404, "unknown_notice");
    s.send(
        s.http()
            .delete(s.hall_url("/notices/abc"))
            .bearer_auth(SUPERVISOR),
    )
    .await
    .expect_error(400, "bad_notice_id");
    let list = s.get("/notices", None).await.expect(200);
    assert_eq!(list["notices"].as_array().map(Vec::len), Some(1), "{list}");
}

#[tokio::test]
async fn a_ticket_near_its_turn_is_told_once_on_its_status_and_the_stream() {
    let s = Server::start().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(str_of(&s.issue("general").await["id"]));
    }
    assert_eq!(s.ticket(&ids[3]).await["near_turn"], true, "3 ahead");
    assert_eq!(s.ticket(&ids[4]).await["near_turn"], false, "4 ahead");
    let mut sub = Sub::connect_with(&s, &format!("ticket={}", ids[4])).await;
    let t = s.login("s01", 1).await;
    s.call_next(&t, 1).await;
    let msgs = sub.until_type("ticket_near_turn").await;
    let ev = msgs.last().expect("ticket_near_turn");
    assert_eq!(ev["number"], "A005", "{ev}");
    assert_eq!(ev["ahead"], 3, "{ev}");
    assert!(
        ev.get("ticket").is_none(),
        "no ticket id on the stream: {ev}"
    );
    assert_eq!(s.ticket(&ids[4]).await["near_turn"], true);
}

#[tokio::test]
async fn the_openapi_document_has_the_new_paths() {
    let s = Server::start().await;
    let doc = s
        .send(s.http().get(s.url("/api/v1/openapi.json")))
        .await
        .expect(200);
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/halls/{hall}/tickets/{id}/cancel",
        "/api/v1/halls/{hall}/notices",
        "/api/v1/halls/{hall}/notices/{id}",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    let notices = &paths["/api/v1/halls/{hall}/notices"];
    assert!(notices.get("get").is_some() && notices.get("post").is_some());
    assert!(paths["/api/v1/halls/{hall}/notices/{id}"]
        .get("delete")
        .is_some());
    let action = paths["/api/v1/halls/{hall}/windows/{n}/{action}"].to_string();
    assert!(
        action.contains("hold")
            && action.contains("next_category")
            && action.contains("call {number}"),
        "{action}"
    );
}
