//! End-to-end tests of the HTTP API and the WebSocket event stream against
//! the real `hallcall serve` binary, over real sockets: a full morning,
//! AB handover and failover as a display sees them, resume after reconnect,
//! a SIGKILL restart mid-morning, every role refusal, and malformed requests.

mod support;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use support::*;

/// Asserts the hall's `seq` moved past `last` and remembers the new one.
async fn grew(s: &Server, last: &mut u64, what: &str) {
    let now = s.seq().await;
    assert!(now > *last, "{what}: seq {now} did not grow past {last}");
    *last = now;
}

fn events_of(resp: &Value) -> Vec<Value> {
    resp["events"].as_array().cloned().unwrap_or_default()
}

fn types_of(evs: &[Value]) -> Vec<String> {
    evs.iter()
        .map(|e| e["type"].as_str().unwrap_or("?").to_string())
        .collect()
}

fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

// ---------------------------------------------------------------------------
// 1. A full morning
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_full_morning_through_the_http_api() {
    let s = Server::start().await;

    let halls = s
        .send(s.http().get(s.url("/api/v1/halls")))
        .await
        .expect(200);
    assert!(
        halls
            .as_array()
            .expect("list")
            .iter()
            .any(|h| h["id"] == HALL && h["name"] == "示范镇便民服务中心"),
        "{halls}"
    );

    let mut last = s.seq().await;
    let l1 = s.login_full("s01", 1).await;
    assert_eq!(l1["duty"], "on_duty", "{l1}");
    let t1 = str_of(&l1["token"]);
    grew(&s, &mut last, "login s01").await;
    let t2 = s.login("s03", 2).await;
    grew(&s, &mut last, "login s03").await;

    // Nothing waits yet: 204, empty body, nothing recorded.
    let r = s.act(&t1, 1, "call-next", None).await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(r.body.is_empty());
    assert_eq!(s.seq().await, last, "an empty call-next changes nothing");

    // The kiosk issues tickets.
    let a1 = s.issue("general").await;
    assert_eq!(a1["number"], "A001", "{a1}");
    assert_eq!(a1["ahead"], 0, "{a1}");
    let a1_id = str_of(&a1["id"]);
    assert!(
        a1_id.len() >= 24 && a1_id.chars().all(|c| c.is_ascii_hexdigit()),
        "id should be unguessable: {a1_id}"
    );
    assert!(str_of(&a1["issued_at"]).contains('T'), "{a1}");
    assert!(a1["estimated_wait_s"].is_u64(), "{a1}");
    grew(&s, &mut last, "issue A001").await;
    let a2 = s.issue("general").await;
    assert_eq!(a2["number"], "A002");
    assert_eq!(a2["ahead"], 1, "{a2}");
    let a2_id = str_of(&a2["id"]);
    let b1 = s.issue("social").await;
    assert_eq!(b1["number"], "B001");
    assert_eq!(
        b1["ahead"], 2,
        "B001 competes with A001, A002 at the comprehensive windows: {b1}"
    );
    let b1_id = str_of(&b1["id"]);
    let c1 = s.issue("civil").await;
    assert_eq!(c1["number"], "C001");
    let c1_id = str_of(&c1["id"]);
    grew(&s, &mut last, "issue").await;

    let st = s.ticket(&a1_id).await;
    assert_eq!(st["state"], "waiting", "{st}");
    assert_eq!(st["number"], "A001");
    assert_eq!(st["ahead"], 0);
    assert_eq!(st["can_rate"], false);

    // Call, recall, no-show, requeue.
    let call = s.call_next(&t1, 1).await;
    assert_eq!(call["ticket"]["number"], "A001", "{call}");
    assert_eq!(call["ticket"]["id"], a1_id.as_str());
    assert_eq!(call["ticket"]["category"], "general");
    grew(&s, &mut last, "call A001").await;
    let st = s.ticket(&a1_id).await;
    assert_eq!(st["state"], "called", "{st}");
    assert_eq!(st["window"], 1, "{st}");

    s.act(&t1, 1, "call-next", None)
        .await
        .expect_error(409, "window_busy");
    assert_eq!(s.seq().await, last);

    let r = s.act(&t1, 1, "recall", None).await.expect(200);
    let evs = events_of(&r);
    assert_eq!(types_of(&evs), ["ticket_called"], "{r}");
    assert_eq!(evs[0]["recall"], true);
    assert_eq!(evs[0]["number"], "A001");
    assert_eq!(evs[0]["by"], "staff:s01");
    grew(&s, &mut last, "recall").await;
    assert_eq!(r["seq"], last, "the reply's seq is the hall's seq");

    let r = s.act(&t1, 1, "no-show", None).await.expect(200);
    assert_eq!(types_of(&events_of(&r)), ["ticket_no_show"], "{r}");
    grew(&s, &mut last, "no-show").await;
    assert_eq!(s.ticket_state(&a1_id).await, "no_show");

    let r = s
        .post(&format!("/tickets/{a1_id}/requeue"), Some(KIOSK), None)
        .await
        .expect(200);
    let evs = events_of(&r);
    // A requeue is a new wait: with 3 ahead, A001 is near its turn again.
    assert_eq!(
        types_of(&evs),
        ["ticket_requeued", "ticket_near_turn"],
        "{r}"
    );
    assert_eq!(evs[0]["by"], "kiosk");
    grew(&s, &mut last, "requeue").await;
    let st = s.ticket(&a1_id).await;
    assert_eq!(st["state"], "waiting", "{st}");
    assert_eq!(st["number"], "A001", "a requeued ticket keeps its number");
    s.post(&format!("/tickets/{a1_id}/requeue"), Some(KIOSK), None)
        .await
        .expect_error(409, "not_requeueable");

    // A requeued no-show goes to the back: A002 is next.
    let call = s.call_next(&t1, 1).await;
    assert_eq!(call["ticket"]["number"], "A002", "{call}");

    // Transfer to another category: same number, waiting, keeps its key.
    // Window 1 serves 'social' too, so the ticket goes to the other open
    // window serving it (window 2), not straight back here (issue 13 item 4).
    let r = s
        .act(&t1, 1, "transfer", Some(json!({"category": "social"})))
        .await
        .expect(200);
    let evs = events_of(&r);
    // First at window 2, the transferred ticket is near its turn (a new wait).
    assert_eq!(
        types_of(&evs),
        ["ticket_transferred", "ticket_near_turn"],
        "{r}"
    );
    assert_eq!(evs[0]["from_category"], "general");
    assert_eq!(evs[0]["category"], "social");
    assert_eq!(evs[0]["to_window"], 2, "{r}");
    assert!(evs[0].get("only_here").is_none(), "{r}");
    grew(&s, &mut last, "transfer category").await;
    // (SPEC lists a `transferred` state; the status page shows a transferred
    // ticket as waiting in its new queue, which is what the citizen needs.)
    let st = s.ticket(&a2_id).await;
    assert_eq!(st["state"], "waiting", "{st}");
    assert_eq!(st["number"], "A002");
    assert_eq!(st["category"], "social");
    let call = s.call_next(&t2, 2).await;
    assert_eq!(call["ticket"]["number"], "A002", "went to window 2: {call}");
    assert_eq!(call["ticket"]["category"], "social");
    // Window 2 hands it back to window 1 by name.
    s.act(&t2, 2, "transfer", Some(json!({"window": 1})))
        .await
        .expect(200);
    grew(&s, &mut last, "transfer back").await;
    let call = s.call_next(&t1, 1).await;
    assert_eq!(call["ticket"]["number"], "A002", "directed first: {call}");

    // A green-channel ticket arrives: it goes before everyone in the pool...
    let c2 = s
        .post(
            "/tickets",
            Some(KIOSK),
            Some(json!({"category": "civil", "priority": "elderly"})),
        )
        .await
        .expect(201);
    assert_eq!(c2["number"], "C002");
    assert_eq!(c2["ahead"], 0, "green channel first: {c2}");
    let c2_id = str_of(&c2["id"]);

    // ...but a ticket transferred to a window goes first at that window.
    let r = s
        .act(&t1, 1, "transfer", Some(json!({"window": 2})))
        .await
        .expect(200);
    assert_eq!(events_of(&r)[0]["to_window"], 2, "{r}");
    grew(&s, &mut last, "transfer window").await;
    assert_eq!(s.ticket_state(&a2_id).await, "waiting");
    let call = s.call_next(&t2, 2).await;
    assert_eq!(call["ticket"]["number"], "A002", "directed first: {call}");

    s.act(&t2, 2, "complete", None).await.expect_error(409, "");
    s.act(&t2, 2, "start", None).await.expect(200);
    let st = s.ticket(&a2_id).await;
    assert_eq!(st["state"], "serving", "{st}");
    assert_eq!(st["window"], 2);
    s.act(&t2, 2, "complete", None).await.expect(200);
    grew(&s, &mut last, "start+complete").await;
    let st = s.ticket(&a2_id).await;
    assert_eq!(st["state"], "done", "{st}");
    assert_eq!(st["can_rate"], true, "{st}");

    // Rating: not before done, once after.
    s.post(
        &format!("/tickets/{b1_id}/rating"),
        None,
        Some(json!({"score": 5})),
    )
    .await
    .expect_error(409, "not_done");
    let r = s
        .post(
            &format!("/tickets/{a2_id}/rating"),
            None,
            Some(json!({"score": 5})),
        )
        .await
        .expect(200);
    assert_eq!(types_of(&events_of(&r)), ["rating_recorded"], "{r}");
    assert_eq!(events_of(&r)[0]["by"], "public");
    grew(&s, &mut last, "rating").await;
    s.post(
        &format!("/tickets/{a2_id}/rating"),
        None,
        Some(json!({"score": 1})),
    )
    .await
    .expect_error(409, "already_rated");
    assert_eq!(s.seq().await, last, "a refused rating changes nothing");
    let st = s.ticket(&a2_id).await;
    assert_eq!(st["rating"], 5, "{st}");
    assert_eq!(st["can_rate"], false, "{st}");

    // The rest of the morning.
    let serve = |t: String, w: u32, want: &'static str| {
        let s = &s;
        async move {
            let call = s.call_next(&t, w).await;
            assert_eq!(call["ticket"]["number"], want, "window {w}: {call}");
            s.act(&t, w, "start", None).await.expect(200);
            s.act(&t, w, "complete", None).await.expect(200);
            str_of(&call["ticket"]["id"])
        }
    };
    assert_eq!(serve(t1.clone(), 1, "C002").await, c2_id);
    assert_eq!(serve(t1.clone(), 1, "B001").await, b1_id);
    assert_eq!(serve(t2.clone(), 2, "C001").await, c1_id);
    assert_eq!(serve(t1.clone(), 1, "A001").await, a1_id);
    grew(&s, &mut last, "rest of the morning").await;
    // 非常不满意 needs a reason (好差评).
    s.post(
        &format!("/tickets/{a1_id}/rating"),
        None,
        Some(json!({"score": 1, "reasons": ["long_wait"]})),
    )
    .await
    .expect(200);
    for w in [(t1.clone(), 1), (t2.clone(), 2)] {
        let r = s.act(&w.0, w.1, "call-next", None).await;
        assert_eq!(
            r.status,
            204,
            "window {} has nothing left: {}",
            w.1,
            r.text()
        );
    }
    for id in [&a1_id, &a2_id, &b1_id, &c1_id, &c2_id] {
        assert_eq!(s.ticket_state(id).await, "done", "{id}");
    }
    let state = s.state().await;
    assert_eq!(state["totals"]["issued"], 5, "{}", state["totals"]);
    assert_eq!(state["totals"]["done"], 5, "{}", state["totals"]);
    assert_eq!(state["totals"]["waiting"], 0, "{}", state["totals"]);

    // Statistics, JSON.
    let r = s.get("/stats", Some(SUPERVISOR)).await.expect(200);
    assert_eq!(r["hall"], HALL);
    assert_eq!(r["date"], state["business_date"], "{r}");
    let total = &r["stats"]["total"];
    assert_eq!(total["issued"], 5, "{total}");
    // (A002 went to window 2 and back: one call and one transfer more.)
    assert_eq!(total["called"], 9, "recalls are not calls: {total}");
    assert_eq!(total["served"], 5, "{total}");
    assert_eq!(total["no_show"], 1, "{total}");
    assert_eq!(total["transferred"], 3, "{total}");
    assert_eq!(total["ratings"], 2, "{total}");
    assert_eq!(total["mean_rating"], 3.0, "{total}");
    assert_eq!(r["stats"]["by_window"]["1"]["served"], 3, "{r}");
    assert_eq!(r["stats"]["by_window"]["2"]["served"], 2, "{r}");
    assert_eq!(r["stats"]["by_staff"]["s01"]["served"], 3, "{r}");
    assert_eq!(r["stats"]["by_staff"]["s03"]["served"], 2, "{r}");
    // The clerk's own figures, with the window's beside them (issue 13 item 7).
    let own = s.get("/windows/1/stats", Some(&t1)).await.expect(200);
    assert_eq!(own["served"], 3, "{own}");
    assert_eq!(own["window"]["served"], 3, "{own}");
    assert_eq!(r["stats"]["by_category"]["general"]["issued"], 2, "{r}");
    assert_eq!(r["stats"]["by_category"]["civil"]["issued"], 2, "{r}");

    // Statistics, CSV.
    let csv = s
        .send(
            s.http()
                .get(s.hall_url("/stats"))
                .bearer_auth(SUPERVISOR)
                .header("Accept", "text/csv"),
        )
        .await;
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    let disposition = csv
        .headers
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(disposition.contains("attachment"), "{disposition}");
    // Chinese headers and names, ids in their own column, UTF-8 BOM for
    // Excel (issue 13 item 14; tests/reports.rs has the report over days).
    let text = csv.text();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    assert_eq!(
        &header[..5],
        ["日期", "统计范围", "名称", "编号", "取号数"],
        "{text}"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == header.len()), "{text}");
    let row = |scope: &str, key: &str| {
        rows.iter()
            .find(|r| r[1] == scope && r[3] == key)
            .unwrap_or_else(|| panic!("no {scope},{key} row in\n{text}"))
            .clone()
    };
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    assert_eq!(row("合计", "")[col("取号数")], "5");
    assert_eq!(row("合计", "")[col("办结数")], "5");
    assert_eq!(row("窗口", "1")[col("办结数")], "3");
    assert_eq!(row("人员", "s03")[col("办结数")], "2");
    assert_eq!(row("业务", "social")[col("取号数")], "1");
}

// ---------------------------------------------------------------------------
// 2. AB handover and failover, as a display sees them
// ---------------------------------------------------------------------------

#[tokio::test]
async fn ab_handover_and_failover_seen_by_a_subscriber() {
    let s = Server::start().await;
    let mut sub = Sub::connect(&s, None).await;
    let snap = sub.next().await;
    assert_eq!(snap["type"], "snapshot", "{snap}");
    let n = snap["seq"].as_u64().expect("snapshot seq");
    assert_eq!(n, s.seq().await);
    assert_eq!(
        snap["state"]["seq"], n,
        "the snapshot's state is at its seq"
    );
    assert!(snap["state"]["windows"].is_array(), "{snap}");

    // Window 3: an explicit handover to the standby clerk.
    let a3 = s.login_full("s05", 3).await;
    assert_eq!(a3["duty"], "on_duty");
    let b3 = s.login_full("s06", 3).await;
    assert_eq!(b3["duty"], "standby", "{b3}");
    let (a3, b3) = (str_of(&a3["token"]), str_of(&b3["token"]));
    let r = s.act(&a3, 3, "handover", None).await.expect(200);
    assert_eq!(types_of(&events_of(&r)), ["post_handover"], "{r}");
    let r = s.act(&b3, 3, "call-next", None).await;
    assert_eq!(r.status, 204, "B post now on duty: {}", r.text());
    s.act(&a3, 3, "call-next", None)
        .await
        .expect_error(403, "not_on_duty");

    // Window 1: A on duty, B on standby; window 2 sends a ticket to window 1.
    let a = s.login_full("s01", 1).await;
    assert_eq!(a["duty"], "on_duty");
    let b = s.login_full("s02", 1).await;
    assert_eq!(b["duty"], "standby", "{b}");
    let (ta, tb) = (str_of(&a["token"]), str_of(&b["token"]));
    let tc = s.login("s03", 2).await;
    let x = s.issue("general").await;
    let x_id = str_of(&x["id"]);
    let call = s.call_next(&tc, 2).await;
    assert_eq!(call["ticket"]["id"], x_id.as_str());
    s.act(&tc, 2, "transfer", Some(json!({"window": 1})))
        .await
        .expect(200);
    let y = s.issue("social").await;
    let y_id = str_of(&y["id"]);

    // A leaves: B takes the window at once.
    let r = s
        .act(&ta, 1, "pause", Some(json!({"reason": "leave"})))
        .await
        .expect(200);
    assert_eq!(
        types_of(&events_of(&r)),
        ["post_handover", "staff_logged_out"],
        "{r}"
    );
    let handover_seq = r["seq"].as_u64().expect("seq") - 1;
    // A's session ended with the leave.
    s.act(&ta, 1, "call-next", None).await.expect_error(401, "");
    let state = s.state().await;
    let w1 = &state["windows"][0];
    assert_eq!(w1["number"], 1);
    assert_eq!(w1["staff"]["id"], "s02", "the display shows B: {w1}");
    assert_eq!(w1["staff"]["post"], "b", "{w1}");

    // Now B leaves too, with nobody on standby: pause and failover, quietly
    // (a planned pause is not a failure: no warning while every category
    // still has an open window; issue 13 item 3).
    let r = s
        .act(&tb, 1, "pause", Some(json!({"reason": "leave"})))
        .await
        .expect(200);
    assert_eq!(
        types_of(&events_of(&r)),
        ["window_paused", "failover"],
        "{r}"
    );
    // The clerk's reply is not public: it may name the ticket that moved.
    assert_eq!(events_of(&r)[1]["tickets"], json!([x_id.clone()]), "{r}");
    let end = r["seq"].as_u64().expect("seq");
    let state = s.state().await;
    assert_eq!(
        state["windows"][0]["state"], "paused",
        "{}",
        state["windows"][0]
    );
    // The directed ticket went back to the pool: window 2 can call it.
    assert_eq!(s.ticket_state(&x_id).await, "waiting");
    let call = s.call_next(&tc, 2).await;
    assert_eq!(call["ticket"]["id"], x_id.as_str(), "{call}");

    // What the display saw.
    let got = sub.until_seq(end).await;
    assert_contiguous(&seqs(&got), n + 1);
    for (ev, raw) in got.iter().zip(&sub.raw[1..]) {
        for k in ["seq", "at", "hall", "type", "by"] {
            assert!(ev.get(k).is_some(), "event without {k}: {ev}");
        }
        assert_eq!(ev["hall"], HALL);
        assert!(
            ev.get("ticket").is_none(),
            "a public event carries a ticket id: {ev}"
        );
        for id in [&x_id, &y_id] {
            assert!(
                !raw.contains(id.as_str()),
                "ticket id {id} broadcast in {raw}"
            );
        }
    }
    let find = |ty: &str, from: u64| -> &Value {
        got.iter()
            .find(|e| e["type"] == ty && e["seq"].as_u64() >= Some(from))
            .unwrap_or_else(|| panic!("no {ty} after seq {from} in {got:?}"))
    };
    let h = find("post_handover", handover_seq);
    assert_eq!(h["seq"], handover_seq, "{h}");
    assert_eq!(h["window"], 1);
    assert_eq!(h["from"], "s01");
    assert_eq!(h["from_post"], "a");
    assert_eq!(h["to"], "s02");
    assert_eq!(h["to_post"], "b");
    assert_eq!(h["by"], "staff:s01", "{h}");
    let p = find("window_paused", handover_seq);
    assert_eq!(p["window"], 1);
    assert_eq!(p["staff"], "s02");
    assert_eq!(p["reason"], "leave");
    assert_eq!(p["by"], "staff:s02", "{p}");
    let f = find("failover", handover_seq);
    assert_eq!(f["seq"], p["seq"].as_u64().expect("seq") + 1);
    assert_eq!(f["window"], 1);
    assert_eq!(f["by"], "system", "{f}");
    assert_eq!(f["staff"], "s02", "{f}");
    assert_eq!(f["tickets"], json!([]), "ticket ids are redacted: {f}");
    assert_eq!(f["tickets_moved"], 1, "{f}");
    assert_eq!(f["planned"], true, "{f}");
    // Per category, the open windows serving it now: never an empty list.
    let serving = f["serving"].as_array().expect("serving");
    assert!(!serving.is_empty(), "{f}");
    for c in serving {
        assert!(!c["windows"].as_array().expect("windows").is_empty(), "{f}");
    }
    assert!(
        !got.iter()
            .any(|e| e["type"] == "warning" && e["seq"].as_u64() >= Some(handover_seq)),
        "a planned pause raises no warning: {got:?}"
    );
    let issued: Vec<&Value> = got
        .iter()
        .filter(|e| e["type"] == "ticket_issued")
        .collect();
    assert_eq!(issued.len(), 2);
    assert!(issued.iter().all(|e| e["by"] == "kiosk"), "{issued:?}");
    let h3 = got
        .iter()
        .find(|e| e["type"] == "post_handover" && e["window"] == 3)
        .expect("window 3 handover");
    assert_eq!(h3["by"], "staff:s05", "{h3}");
    assert_eq!(h3["to"], "s06", "{h3}");
    sub.close().await;

    // Neither the public state nor a fresh snapshot names a ticket id.
    let state = s.get("/state", None).await.text();
    let mut fresh = Sub::connect(&s, None).await;
    let snap = fresh.next().await;
    assert_eq!(snap["type"], "snapshot");
    for id in [&x_id, &y_id] {
        assert!(!state.contains(id.as_str()), "GET /state shows {id}");
        assert!(
            !fresh.raw[0].contains(id.as_str()),
            "the snapshot shows {id}"
        );
    }
    fresh.close().await;
}

// ---------------------------------------------------------------------------
// 3. Resume after a reconnect
// ---------------------------------------------------------------------------

#[tokio::test]
async fn resume_after_reconnect_loses_and_repeats_nothing() {
    let s = Server::start().await;
    let mut sub = Sub::connect(&s, None).await;
    let snap = sub.next().await;
    assert_eq!(snap["type"], "snapshot");
    let n0 = snap["seq"].as_u64().expect("seq");

    let t = s.login("s01", 1).await;
    s.issue("general").await;
    s.issue("general").await;
    let seq1 = s.seq().await;
    let live1 = sub.until_seq(seq1).await;
    assert_contiguous(&seqs(&live1), n0 + 1);
    sub.close().await;

    // While the display is away.
    s.issue("social").await;
    let call = s.call_next(&t, 1).await;
    assert_eq!(call["ticket"]["number"], "A001");
    s.act(&t, 1, "recall", None).await.expect(200);
    s.act(&t, 1, "no-show", None).await.expect(200);
    s.post(
        &format!("/tickets/{}/requeue", str_of(&call["ticket"]["id"])),
        Some(&t),
        None,
    )
    .await
    .expect(200);
    let seq2 = s.seq().await;
    assert!(seq2 >= seq1 + 5);

    // Back with since=<last seen>: exactly the missed events, then live ones.
    let mut sub = Sub::connect(&s, Some(seq1)).await;
    let missed = sub.until_seq(seq2).await;
    assert_contiguous(&seqs(&missed), seq1 + 1);
    assert!(missed.iter().all(|e| e["type"] != "snapshot"), "{missed:?}");
    let calls: Vec<&Value> = missed
        .iter()
        .filter(|e| e["type"] == "ticket_called")
        .collect();
    assert_eq!(calls.len(), 2, "the call and the recall: {missed:?}");
    assert_eq!(calls[0]["recall"], false);
    assert_eq!(calls[1]["recall"], true);
    assert!(calls
        .iter()
        .all(|c| c["number"] == "A001" && c["window"] == 1));
    assert!(
        missed.iter().all(|e| e.get("ticket").is_none()),
        "replayed events are public too: {missed:?}"
    );
    let live = s.call_next(&t, 1).await;
    assert_eq!(live["ticket"]["number"], "A002");
    let seq3 = s.seq().await;
    let next = sub.until_seq(seq3).await;
    assert_contiguous(&seqs(&next), seq2 + 1);
    assert_eq!(next.last().expect("event")["type"], "ticket_called");
    assert_eq!(next.last().expect("event")["number"], "A002");
    // Nothing repeated after it: the next message is the next event.
    s.issue("civil").await;
    let after = sub.next().await;
    assert_eq!(after["seq"], seq3 + 1, "{after}");
    assert_eq!(after["type"], "ticket_issued");
    sub.close().await;

    // The whole day, seen as three pieces, is each event exactly once.
    let mut all: Vec<u64> = seqs(&live1);
    all.extend(seqs(&missed));
    all.extend(seqs(&next));
    assert_contiguous(&all, n0 + 1);

    // A replay is the same JSON the live subscriber got.
    let mut again = Sub::connect(&s, Some(n0)).await;
    let replay = again.until_seq(seq1).await;
    assert_eq!(replay, live1, "replayed events equal the live ones");
    again.close().await;

    // since == the current seq: no snapshot, no replay, just what comes next.
    let now = s.seq().await;
    let mut cur = Sub::connect(&s, Some(now)).await;
    s.issue("civil").await;
    let first = cur.next().await;
    assert_eq!(first["seq"], now + 1, "{first}");
    assert_eq!(first["type"], "ticket_issued");
    cur.close().await;

    // since from the future: a snapshot at the current seq.
    let now = s.seq().await;
    let mut fut = Sub::connect(&s, Some(now + 1000)).await;
    let first = fut.next().await;
    assert_eq!(first["type"], "snapshot", "{first}");
    assert_eq!(first["seq"], now);
    fut.close().await;

    // since=0: the whole log from seq 1.
    let all = s.all_events().await;
    assert_eq!(all[0]["type"], "day_opened", "{}", all[0]);
}

/// Subscribers that join while commands stream in (with `since` from the
/// past, or with a snapshot) each see every later event exactly once.
#[tokio::test]
async fn subscribers_joining_during_a_burst_see_every_event_once() {
    // 300 tickets from one kiosk token in seconds: lift the per-kiosk rate.
    let s = Server::start_with(ServerOptions {
        env: vec![("HALLCALL_KIOSK_ISSUES_PER_MINUTE".into(), "0".into())],
        ..Default::default()
    })
    .await;
    let start = s.seq().await;
    const PER_TASK: usize = 150;
    let mut tasks = Vec::new();
    for cat in ["general", "social"] {
        let url = s.hall_url("/tickets");
        let http = s.http().clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..PER_TASK {
                let r = http
                    .post(&url)
                    .bearer_auth(KIOSK)
                    .json(&json!({ "category": cat }))
                    .send()
                    .await
                    .expect("issue");
                assert_eq!(r.status().as_u16(), 201);
            }
        }));
    }
    // Join at known points of the burst: after 20, 40, ... events.
    let mut subs = Vec::new();
    for i in 1..=8u64 {
        eventually("the burst to progress", PATIENCE, || async {
            (s.seq().await >= start + 20 * i).then_some(())
        })
        .await;
        let since = (i % 2 == 0).then_some(start);
        subs.push((since, Sub::connect(&s, since).await));
    }
    for t in tasks {
        t.await.expect("burst task");
    }
    let end = s.seq().await;
    // One event per ticket, and ticket_near_turn for the first four of each
    // category (3 or fewer ahead; no window is open to move the rest up).
    assert_eq!(
        end,
        start + 2 * PER_TASK as u64 + 2 * 4,
        "one event per ticket"
    );
    for (since, mut sub) in subs {
        let first = sub.next().await;
        let mut got = Vec::new();
        let from = match since {
            Some(s0) => {
                assert_ne!(first["type"], "snapshot", "replay expected: {first}");
                got.push(first);
                s0 + 1
            }
            None => {
                assert_eq!(first["type"], "snapshot", "{first}");
                let base = first["seq"].as_u64().expect("seq");
                assert!(base > start && base <= end, "joined mid-burst at {base}");
                assert_eq!(first["state"]["seq"], base);
                base + 1
            }
        };
        if from <= end && got.last().and_then(|e| e["seq"].as_u64()) != Some(end) {
            got.extend(sub.until_seq(end).await);
        }
        assert_contiguous(&seqs(&got), from);
        assert_eq!(got.len() as u64, end + 1 - from, "up to seq {end}");
        sub.close().await;
    }
}

/// Errors outside the handlers (wrong method, a plain GET on the WebSocket
/// path) should have the API's JSON error shape too (SPEC: "Errors are JSON
/// `{"error": {"code", "message"}}` with a fitting 4xx status").
#[tokio::test]
async fn errors_from_the_router_are_json_too() {
    let s = Server::start().await;
    let seq0 = s.seq().await;
    let is_json_error = |r: &Resp| {
        let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        r.content_type.starts_with("application/json")
            && v["error"]["code"].is_string()
            && v["error"]["message"].is_string()
    };
    let mut wrong = Vec::new();
    for (what, r, status) in [
        (
            "GET on the POST-only tickets path",
            s.send(s.http().get(s.hall_url("/tickets"))).await,
            405,
        ),
        (
            "DELETE on the state path",
            s.send(s.http().delete(s.hall_url("/state"))).await,
            405,
        ),
        (
            "plain GET (no WebSocket handshake) on the events path with a bad since",
            s.send(s.http().get(format!("{}?since=abc", s.hall_url("/events"))))
                .await,
            400,
        ),
    ] {
        assert_eq!(r.status, status, "{what}");
        if !is_json_error(&r) {
            wrong.push(format!(
                "{what}: {} {:?} {:?}",
                r.status,
                r.content_type,
                r.text()
            ));
        }
    }
    assert_eq!(s.seq().await, seq0);
    // axum's own rejections (wrong method, missing upgrade headers) are
    // mapped to the JSON error shape too.
    assert!(wrong.is_empty(), "non-JSON errors:\n{}", wrong.join("\n"));
}

// ---------------------------------------------------------------------------
// 4. SIGKILL mid-morning and restart
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_restart_mid_morning_loses_nothing_acknowledged() {
    let mut s = Server::start().await;
    let t1 = s.login("s01", 1).await;
    let t2 = s.login("s03", 2).await;
    let mut acked: Vec<(String, String)> = Vec::new();
    for cat in ["general", "general", "general", "social", "social"] {
        let v = s.issue(cat).await;
        acked.push((str_of(&v["id"]), str_of(&v["number"])));
    }
    let call = s.call_next(&t1, 1).await;
    assert_eq!(call["ticket"]["number"], "A001");
    let a1_id = str_of(&call["ticket"]["id"]);

    let mut sub = Sub::connect(&s, None).await;
    let snap = sub.next().await;
    assert_eq!(snap["type"], "snapshot");
    let mut last_seen = snap["seq"].as_u64().expect("seq");

    // Kiosks keep issuing while the box dies.
    let burst: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let burst = burst.clone();
        let url = s.hall_url("/tickets");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        tasks.push(tokio::spawn(async move {
            loop {
                let r = http
                    .post(&url)
                    .bearer_auth(KIOSK)
                    .json(&json!({"category": "civil"}))
                    .send()
                    .await;
                let Ok(r) = r else { return };
                if r.status().as_u16() != 201 {
                    return;
                }
                let Ok(v) = r.json::<Value>().await else {
                    return;
                };
                burst
                    .lock()
                    .expect("lock")
                    .push((str_of(&v["id"]), str_of(&v["number"])));
            }
        }));
    }
    eventually("some tickets of the burst", PATIENCE, || {
        let n = burst.lock().expect("lock").len();
        async move { (n >= 10).then_some(()) }
    })
    .await;
    s.kill();
    for t in tasks {
        t.await.expect("burst task");
    }
    let burst = burst.lock().expect("lock").clone();
    assert!(burst.len() >= 10);
    acked.extend(burst.iter().cloned());

    // The display loses its connection; it has seen a prefix of the log.
    loop {
        match sub.next_within(PATIENCE).await {
            Next::Msg(v) => {
                let seq = v["seq"].as_u64().expect("seq");
                assert_eq!(seq, last_seen + 1, "no gap before the crash: {v}");
                last_seen = seq;
            }
            Next::Closed(_) => break,
            Next::Timeout => panic!("the subscriber did not notice the kill"),
        }
    }

    eprintln!(
        "killed with {} burst tickets acknowledged; the display had seen seq {last_seen}",
        burst.len()
    );
    s.restart().await;

    // Nothing acknowledged is lost.
    for (id, number) in &acked {
        let st = s.get(&format!("/tickets/{id}"), None).await;
        let st = st.expect(200);
        assert_eq!(&str_of(&st["number"]), number, "{st}");
    }
    assert_eq!(s.ticket(&a1_id).await["state"], "called");
    assert_eq!(s.ticket(&a1_id).await["window"], 1);
    let seq_after = s.seq().await;
    eprintln!("after the restart: seq {seq_after}");
    assert!(
        seq_after >= last_seen,
        "everything broadcast was durable: seq {seq_after} < seen {last_seen}"
    );

    // The display resumes where it was.
    let mut sub = Sub::connect(&s, Some(last_seen)).await;

    // Clerk tokens from before the restart still work while the clerk is seated.
    s.act(&t1, 1, "start", None).await.expect(200);
    s.act(&t1, 1, "complete", None).await.expect(200);
    assert_eq!(s.ticket_state(&a1_id).await, "done");

    // Numbering continues: nothing is issued twice.
    let fresh = s.issue("civil").await;
    let fresh_no = str_of(&fresh["number"]);
    assert!(
        acked.iter().all(|(_, n)| *n != fresh_no),
        "{fresh_no} was issued before the restart"
    );
    let max_acked_c = acked
        .iter()
        .filter(|(_, n)| n.starts_with('C'))
        .map(|(_, n)| n[1..].parse::<u32>().expect("number"))
        .max()
        .expect("civil tickets");
    assert!(fresh_no[1..].parse::<u32>().expect("number") > max_acked_c);
    let a = s.issue("general").await;
    assert_eq!(a["number"], "A004", "{a}");

    // The next call reaches the resumed display exactly once.
    let before_call = s.seq().await;
    let call = s.call_next(&t1, 1).await;
    assert_eq!(call["ticket"]["number"], "A002", "{call}");
    let call_seq = s.seq().await;
    // ...and to one window only.
    let other = s.call_next(&t2, 2).await;
    assert_eq!(other["ticket"]["number"], "A003", "{other}");
    let end = s.seq().await;
    let got = sub.until_seq(end).await;
    assert_contiguous(&seqs(&got), last_seen + 1);
    let a2_calls: Vec<&Value> = got
        .iter()
        .filter(|e| e["type"] == "ticket_called" && e["number"] == "A002")
        .collect();
    assert_eq!(a2_calls.len(), 1, "{got:?}");
    // The call's batch may end with a ticket_near_turn after the call.
    let a2_seq = a2_calls[0]["seq"].as_u64().expect("seq");
    assert!(
        before_call < a2_seq && a2_seq <= call_seq,
        "{a2_seq} not in {before_call}..={call_seq}"
    );
    assert_eq!(a2_calls[0]["window"], 1);
    s.issue("general").await;
    let after = sub.next().await;
    assert_eq!(after["seq"], end + 1, "nothing repeated: {after}");
    sub.close().await;

    // Over the whole log: no number issued twice, no ticket called to two
    // windows without a return to the queue in between.
    let all = s.all_events().await;
    let mut numbers = HashSet::new();
    for e in all.iter().filter(|e| e["type"] == "ticket_issued") {
        let no = str_of(&e["number"]);
        assert!(numbers.insert(no.clone()), "{no} issued twice");
    }
    let mut at: BTreeMap<String, u64> = BTreeMap::new();
    for e in &all {
        if e["type"] == "ticket_called" && e["recall"] == false {
            let no = str_of(&e["number"]);
            let w = e["window"].as_u64().expect("window");
            if let Some(prev) = at.insert(no.clone(), w) {
                panic!("{no} called at window {prev} and again at {w}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// 5. Every role refusal
// ---------------------------------------------------------------------------

#[tokio::test]
async fn every_role_refusal() {
    let s = Server::start().await;
    let t1 = s.login("s01", 1).await;
    let t2 = s.login("s03", 2).await;
    let x = s.issue("general").await;
    let x_id = str_of(&x["id"]);
    let seq0 = s.seq().await;

    let issue = Some(json!({"category": "general"}));
    // A valid-looking clerk token for another window: signature breaks.
    let forged = {
        let mut parts: Vec<&str> = t1.split('.').collect();
        let w = parts.iter().position(|p| *p == "1").expect("window part");
        parts[w] = "2";
        parts.join(".")
    };
    let cases: Vec<(&str, Resp, u16)> = vec![
        (
            "issue without token",
            s.post("/tickets", None, issue.clone()).await,
            401,
        ),
        (
            "issue with garbage token",
            s.post("/tickets", Some("garbage"), issue.clone()).await,
            401,
        ),
        (
            "issue with a forged clerk token",
            s.post("/tickets", Some(&forged), issue.clone()).await,
            401,
        ),
        (
            "issue with a clerk token",
            s.post("/tickets", Some(&t1), issue.clone()).await,
            403,
        ),
        (
            "call-next without token",
            s.post("/windows/1/call-next", None, None).await,
            401,
        ),
        (
            "call-next with garbage token",
            s.post("/windows/1/call-next", Some("Bearer-nonsense"), None)
                .await,
            401,
        ),
        (
            "call-next with the forged token",
            s.act(&forged, 2, "call-next", None).await,
            401,
        ),
        (
            "kiosk on a window action",
            s.act(KIOSK, 1, "call-next", None).await,
            403,
        ),
        (
            "kiosk on pause",
            s.act(KIOSK, 1, "pause", Some(json!({"reason": "break"})))
                .await,
            403,
        ),
        (
            "clerk of window 1 on window 2",
            s.act(&t1, 2, "call-next", None).await,
            403,
        ),
        (
            "clerk of window 2 on window 1",
            s.act(&t2, 1, "logout", None).await,
            403,
        ),
        (
            "clerk of window 1 reads window 2's queue",
            s.get("/windows/2/queue", Some(&t1)).await,
            403,
        ),
        ("clerk on stats", s.get("/stats", Some(&t1)).await, 403),
        ("kiosk on stats", s.get("/stats", Some(KIOSK)).await, 403),
        ("stats without token", s.get("/stats", None).await, 401),
        (
            "kiosk opens a window",
            s.act(KIOSK, 3, "open", Some(json!({"staff": "s05"}))).await,
            403,
        ),
        (
            "kiosk closes a window",
            s.act(KIOSK, 1, "close", None).await,
            403,
        ),
        (
            "clerk opens a window",
            s.act(&t1, 3, "open", Some(json!({"staff": "s05"}))).await,
            403,
        ),
        (
            "clerk closes its own window",
            s.act(&t1, 1, "close", None).await,
            403,
        ),
        (
            "supervisor on call-next",
            s.act(SUPERVISOR, 1, "call-next", None).await,
            403,
        ),
        (
            "supervisor on complete",
            s.act(SUPERVISOR, 1, "complete", None).await,
            403,
        ),
        (
            "requeue without token",
            s.post(&format!("/tickets/{x_id}/requeue"), None, None)
                .await,
            401,
        ),
        (
            "advice without supervisor",
            s.post("/advice/1/accept", Some(KIOSK), None).await,
            403,
        ),
        (
            "wrong PIN",
            s.post(
                "/sessions",
                None,
                Some(json!({"staff": "s05", "pin": "9999", "window": 3})),
            )
            .await,
            401,
        ),
        (
            "unknown staff",
            s.post(
                "/sessions",
                None,
                Some(json!({"staff": "s99", "pin": "9999", "window": 3})),
            )
            .await,
            401,
        ),
        (
            "another clerk's PIN",
            s.post(
                "/sessions",
                None,
                Some(json!({"staff": "s05", "pin": "0101", "window": 3})),
            )
            .await,
            401,
        ),
        (
            "staff who holds no post at this window",
            s.post(
                "/sessions",
                None,
                Some(json!({"staff": "s05", "pin": "0505", "window": 1})),
            )
            .await,
            403,
        ),
    ];
    for (what, r, status) in &cases {
        assert_eq!(r.status, *status, "{what}: {}", r.text());
        let code = r.expect_error(*status, "");
        if *status == 401 && what.contains("PIN") {
            assert_eq!(code, "bad_credentials", "{what}");
        }
    }
    assert_eq!(s.seq().await, seq0, "no refusal changed anything");
    assert_eq!(s.ticket_state(&x_id).await, "waiting");

    // The right roles do work (so the refusals above were about the role).
    s.get("/windows/2/queue", Some(&t2)).await.expect(200);
    s.get("/stats", Some(SUPERVISOR)).await.expect(200);
    let c = s.call_next(&t1, 1).await;
    assert_eq!(c["ticket"]["id"], x_id.as_str());

    // A clerk token ends with the session.
    // 过号 needs a recall first (issue 13 item 5).
    s.act(&t1, 1, "no-show", None)
        .await
        .expect_error(409, "recall_first");
    s.act(&t1, 1, "recall", None).await.expect(200);
    s.act(&t1, 1, "no-show", None).await.expect(200);
    s.act(&t1, 1, "logout", None).await.expect(200);
    let seq1 = s.seq().await;
    s.act(&t1, 1, "call-next", None)
        .await
        .expect_error(401, "unauthorized");
    s.post(&format!("/tickets/{x_id}/requeue"), Some(&t1), None)
        .await
        .expect_error(401, "unauthorized");
    assert_eq!(s.seq().await, seq1);
}

// ---------------------------------------------------------------------------
// 6. Malformed requests
// ---------------------------------------------------------------------------

#[tokio::test]
async fn malformed_requests_are_json_4xx_and_change_nothing() {
    let s = Server::start().await;
    let t1 = s.login("s01", 1).await;
    let x = s.issue("general").await;
    let x_id = str_of(&x["id"]);
    let call = s.call_next(&t1, 1).await;
    assert_eq!(call["ticket"]["id"], x_id.as_str());
    let state0 = s.state().await;

    let raw_post =
        |path: String, ct: Option<&'static str>, body: Vec<u8>, token: Option<&'static str>| {
            let mut rb = s.http().post(path).body(body);
            if let Some(ct) = ct {
                rb = rb.header("Content-Type", ct);
            }
            if let Some(t) = token {
                rb = rb.bearer_auth(t);
            }
            s.send(rb)
        };
    let json_ct = Some("application/json");
    let big = {
        let pad = "x".repeat(20 * 1024);
        serde_json::to_vec(&json!({"category": "general", "pad": pad})).expect("json")
    };
    let other_hall = |rest: &str| s.url(&format!("/api/v1/halls/nope{rest}"));

    let mut cases: Vec<(&str, Resp, u16, &str)> = Vec::new();
    macro_rules! case {
        ($what:expr, $resp:expr, $status:expr, $code:expr) => {
            let before = s.seq().await;
            let r = $resp;
            assert_eq!(
                s.seq().await,
                before,
                "{} changed the hall: {}",
                $what,
                r.text()
            );
            cases.push(($what, r, $status, $code));
        };
    }
    case!(
        "malformed JSON",
        raw_post(
            s.hall_url("/tickets"),
            json_ct,
            b"{category:".to_vec(),
            Some(KIOSK)
        )
        .await,
        400,
        "bad_json"
    );
    case!(
        "JSON of the wrong shape",
        raw_post(
            s.hall_url("/tickets"),
            json_ct,
            br#"{"category": 7}"#.to_vec(),
            Some(KIOSK)
        )
        .await,
        400,
        ""
    );
    case!(
        "missing category",
        raw_post(s.hall_url("/tickets"), json_ct, b"{}".to_vec(), Some(KIOSK)).await,
        400,
        ""
    );
    case!(
        "unknown priority",
        s.post(
            "/tickets",
            Some(KIOSK),
            Some(json!({"category": "general", "priority": "vip"}))
        )
        .await,
        400,
        ""
    );
    case!(
        "malformed login",
        raw_post(s.hall_url("/sessions"), json_ct, b"{staff:".to_vec(), None).await,
        400,
        "bad_json"
    );
    case!(
        "malformed window action body",
        raw_post(
            s.hall_url("/windows/1/transfer"),
            json_ct,
            b"{window:".to_vec(),
            Some(KIOSK)
        )
        .await,
        400,
        "bad_json"
    );
    case!(
        "unknown hall: state",
        s.send(s.http().get(other_hall("/state"))).await,
        404,
        "unknown_hall"
    );
    case!(
        "unknown hall: issue",
        s.send(
            s.http()
                .post(other_hall("/tickets"))
                .bearer_auth(KIOSK)
                .json(&json!({"category": "general"}))
        )
        .await,
        404,
        "unknown_hall"
    );
    case!(
        "unknown hall: call-next",
        s.send(
            s.http()
                .post(other_hall("/windows/1/call-next"))
                .bearer_auth(&t1)
        )
        .await,
        404,
        "unknown_hall"
    );
    case!(
        "unknown hall: ticket",
        s.send(s.http().get(other_hall(&format!("/tickets/{x_id}"))))
            .await,
        404,
        "unknown_hall"
    );
    case!(
        "unknown category",
        s.post("/tickets", Some(KIOSK), Some(json!({"category": "nope"})))
            .await,
        404,
        "unknown_category"
    );
    case!(
        "unknown ticket: status",
        s.get("/tickets/0123456789abcdef0123456789abcdef", None)
            .await,
        404,
        "unknown_ticket"
    );
    case!(
        "unknown ticket: rating",
        s.post("/tickets/nope/rating", None, Some(json!({"score": 5})))
            .await,
        404,
        "unknown_ticket"
    );
    case!(
        "unknown ticket: requeue",
        s.post("/tickets/nope/requeue", Some(KIOSK), None).await,
        404,
        "unknown_ticket"
    );
    case!(
        "unknown window: login",
        s.post(
            "/sessions",
            None,
            Some(json!({"staff": "s05", "pin": "0505", "window": 99}))
        )
        .await,
        404,
        "unknown_window"
    );
    case!(
        "unknown window: open",
        s.act(SUPERVISOR, 99, "open", Some(json!({"staff": "s05"})))
            .await,
        404,
        "unknown_window"
    );
    case!(
        "window that is not a number",
        s.post("/windows/one/call-next", Some(&t1), None).await,
        400,
        "bad_window"
    );
    case!(
        "unknown window action",
        s.act(&t1, 1, "dance", None).await,
        404,
        "unknown_action"
    );
    case!(
        "transfer to an unknown category",
        s.act(&t1, 1, "transfer", Some(json!({"category": "nope"})))
            .await,
        404,
        "unknown_category"
    );
    case!(
        "transfer to an unknown window",
        s.act(&t1, 1, "transfer", Some(json!({"window": 99}))).await,
        404,
        "unknown_window"
    );
    case!(
        "transfer to nowhere",
        s.act(&t1, 1, "transfer", Some(json!({}))).await,
        400,
        "empty_transfer"
    );
    case!(
        "transfer to itself",
        s.act(&t1, 1, "transfer", Some(json!({"window": 1}))).await,
        400,
        "transfer_to_self"
    );
    case!(
        "transfer to a closed window",
        s.act(&t1, 1, "transfer", Some(json!({"window": 2}))).await,
        409,
        "window_closed"
    );
    case!(
        "pause with an unknown reason",
        s.act(&t1, 1, "pause", Some(json!({"reason": "nap"}))).await,
        400,
        ""
    );
    case!(
        "pause without a reason",
        s.act(&t1, 1, "pause", Some(json!({}))).await,
        400,
        "bad_reason"
    );
    case!(
        "rating out of range",
        s.post(
            &format!("/tickets/{x_id}/rating"),
            None,
            Some(json!({"score": 9}))
        )
        .await,
        400,
        ""
    );
    case!(
        "rating not a number",
        s.post(
            &format!("/tickets/{x_id}/rating"),
            None,
            Some(json!({"score": "good"}))
        )
        .await,
        400,
        ""
    );
    case!(
        "stats for a bad date",
        s.get("/stats?date=yesterday", Some(SUPERVISOR)).await,
        400,
        "bad_date"
    );
    case!(
        "advice id not a number",
        s.post("/advice/abc/accept", Some(SUPERVISOR), None).await,
        400,
        "bad_advice"
    );
    case!(
        "unknown advice",
        s.post("/advice/77/accept", Some(SUPERVISOR), None).await,
        404,
        "unknown_advice"
    );
    case!(
        "oversized issue body",
        raw_post(s.hall_url("/tickets"), json_ct, big.clone(), Some(KIOSK)).await,
        413,
        "body_too_large"
    );
    case!(
        "oversized login body",
        raw_post(s.hall_url("/sessions"), json_ct, big.clone(), None).await,
        413,
        "body_too_large"
    );
    case!(
        "oversized window action body",
        raw_post(
            s.hall_url("/windows/1/transfer"),
            json_ct,
            big.clone(),
            None
        )
        .await,
        413,
        "body_too_large"
    );
    case!(
        "wrong content type: issue",
        raw_post(
            s.hall_url("/tickets"),
            Some("text/plain"),
            br#"{"category":"general"}"#.to_vec(),
            Some(KIOSK)
        )
        .await,
        415,
        "content_type"
    );
    case!(
        "no content type: issue",
        raw_post(
            s.hall_url("/tickets"),
            None,
            br#"{"category":"general"}"#.to_vec(),
            Some(KIOSK)
        )
        .await,
        415,
        "content_type"
    );
    case!(
        "wrong content type: login",
        raw_post(
            s.hall_url("/sessions"),
            Some("application/x-www-form-urlencoded"),
            b"staff=s05&pin=0505&window=3".to_vec(),
            None
        )
        .await,
        415,
        "content_type"
    );
    case!(
        "unknown path",
        s.send(s.http().get(s.url("/api/v1/nope"))).await,
        404,
        "not_found"
    );
    for (what, r, status, code) in &cases {
        assert_eq!(r.status, *status, "{what}: {}", r.text());
        r.expect_error(*status, code);
    }

    // Bad `since` on the WebSocket, and an unknown hall there.
    for (url, status, code) in [
        (format!("{}?since=abc", s.ws_url(None)), 400, "bad_since"),
        (format!("{}?since=-1", s.ws_url(None)), 400, "bad_since"),
        (
            format!("ws://127.0.0.1:{}/api/v1/halls/nope/events", s.port),
            404,
            "unknown_hall",
        ),
    ] {
        let before = s.seq().await;
        match tokio_tungstenite::connect_async(&url).await {
            Ok(_) => panic!("{url}: the upgrade should be refused"),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status().as_u16(), status, "{url}");
                let body = resp.body().clone().unwrap_or_default();
                let v: Value = serde_json::from_slice(&body)
                    .unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {body:?}"));
                assert_eq!(v["error"]["code"], code, "{url}: {v}");
                assert!(v["error"]["message"].is_string(), "{v}");
            }
            Err(e) => panic!("{url}: {e}"),
        }
        assert_eq!(s.seq().await, before);
    }

    // Nothing changed at all.
    let state1 = s.state().await;
    assert_eq!(state1["seq"], state0["seq"]);
    assert_eq!(state1["totals"], state0["totals"]);
    let windows = |st: &Value| -> Vec<Value> {
        st["windows"]
            .as_array()
            .expect("windows")
            .iter()
            .map(|w| json!([w["number"], w["state"], w["staff"], w["current"]["number"]]))
            .collect()
    };
    assert_eq!(windows(&state1), windows(&state0));
    let st = s.ticket(&x_id).await;
    assert_eq!(st["state"], "called", "{st}");
    assert_eq!(st["category"], "general", "{st}");
    assert_eq!(st["window"], 1, "{st}");
}

/// Appointment codes are the citizen's key to check in: the public stream
/// must not carry them, neither at booking nor at check-in.
#[tokio::test]
async fn appointment_codes_stay_off_the_public_stream() {
    let s = Server::start().await;
    let mut sub = Sub::connect(&s, None).await;
    let first = sub.next().await;
    assert_eq!(first["type"], "snapshot");
    // The next half-hour slot (demo hall: open around the clock, market takes
    // appointments in 30-minute slots); check-in opens 15 minutes before it.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let slot = (now / 1800 + 1) * 1800;
    let slot_rfc = chrono_like_rfc3339(slot);
    let booked = s
        .post(
            "/appointments",
            None,
            Some(json!({"category": "market", "slot_start": slot_rfc, "phone": "13800138000"})),
        )
        .await
        .expect(201);
    let code = str_of(&booked["code"]);
    let ev = loop {
        let v = sub.next().await;
        if v["type"] == "appointment_booked" {
            break v;
        }
    };
    assert!(ev.get("code").is_none(), "code broadcast: {ev}");
    assert!(!ev.to_string().contains(&code), "code broadcast: {ev}");
    if slot - now <= 15 * 60 {
        let t = s
            .post(
                "/tickets",
                Some("kiosk-demo"),
                Some(json!({"category": "market", "appointment_code": code})),
            )
            .await
            .expect(201);
        let issued = loop {
            let v = sub.next().await;
            if v["type"] == "ticket_issued" {
                break v;
            }
        };
        assert_eq!(issued["number"], t["number"]);
        assert!(
            !issued.to_string().contains(&code),
            "code broadcast at check-in: {issued}"
        );
    }
}

/// PINs are short: five wrong ones lock the staff id (even for the right PIN;
/// tests/hardening.rs has the parallel attack), and an address that keeps
/// failing waits for the rest of the minute; other requests are unaffected.
#[tokio::test]
async fn failed_logins_are_rate_limited() {
    let s = Server::start().await;
    let login = |staff: &'static str, pin: String, window: u32| {
        s.post(
            "/sessions",
            None,
            Some(json!({"staff": staff, "pin": pin, "window": window})),
        )
    };
    for i in 0..5 {
        login("s01", format!("99{i:02}"), 1)
            .await
            .expect_error(401, "bad_credentials");
    }
    login("s01", pin_of("s01"), 1)
        .await
        .expect_error(429, "staff_locked");
    for i in 0..4 {
        login("s03", format!("99{i:02}"), 2)
            .await
            .expect_error(401, "bad_credentials");
    }
    // Ten failures from this address: even another clerk's right PIN waits.
    login("s05", pin_of("s05"), 3)
        .await
        .expect_error(429, "rate_limited");
    // Kiosks keep working.
    s.issue("general").await;
}

/// RFC 3339 in UTC for Unix seconds, without a date crate in the tests.
fn chrono_like_rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// ---------------------------------------------------------------------------
// Reads never queue behind writes; pages need no request per event
// ---------------------------------------------------------------------------

/// Reads are served from the hall's published snapshot (and the store),
/// never by the single-writer hall task: its message counter stays put
/// through every kind of read, and one clerk or kiosk request is one message.
#[tokio::test]
async fn reads_are_served_without_entering_the_hall_task() {
    let s = Server::start().await;
    let token = s.login("s01", 1).await;
    let t = s.issue("general").await;
    let id = str_of(&t["id"]);
    s.issue("general").await;
    let messages = || async {
        s.metric("hallcall_hall_task_messages_total")
            .await
            .expect("hallcall_hall_task_messages_total is exported")
    };
    let before = messages().await;
    let seq = s.seq().await;
    for _ in 0..10 {
        s.state().await;
        s.ticket(&id).await;
        s.get("/windows/1/queue", Some(&token)).await.expect(200);
        s.get(&format!("/tickets/{id}/qr.svg"), None).await;
        s.get("/windows/1/stats", Some(&token)).await.expect(200);
    }
    // Catch-up from the log, and from a snapshot.
    let mut replay = Sub::connect(&s, Some(seq - 2)).await;
    assert_contiguous(&seqs(&replay.until_seq(seq).await), seq - 1);
    let mut fresh = Sub::connect(&s, None).await;
    assert_eq!(fresh.next().await["type"], "snapshot");
    let mut watch = Sub::connect_with(&s, &format!("view=1&ticket={id}")).await;
    assert_eq!(
        watch.until_type("ticket").await.last().expect("msg")["ticket"]["state"],
        "waiting"
    );
    assert_eq!(
        messages().await,
        before,
        "reads (state, ticket status, queue, QR, role checks, catch-up) entered the hall task"
    );
    let called = s.call_next(&token, 1).await;
    assert_eq!(called["ticket"]["id"], id.as_str());
    assert_eq!(
        messages().await,
        before + 1.0,
        "a call is one trip into the hall task"
    );
    s.issue("social").await;
    assert_eq!(
        messages().await,
        before + 2.0,
        "an issue is one trip into the hall task"
    );
    for sub in [replay, fresh, watch] {
        sub.close().await;
    }
}

/// With `view=1` a subscriber gets the hall's view after every batch, and
/// with `ticket=ID` that ticket's status whenever it changes — what the
/// pages draw, without asking. Resuming with `since` still replays the
/// missed events exactly once, then the current view.
#[tokio::test]
async fn the_stream_carries_the_view_and_a_watched_ticket() {
    let s = Server::start().await;
    let token = s.login("s01", 1).await;
    let t = s.issue("general").await;
    let id = str_of(&t["id"]);
    let number = str_of(&t["number"]);

    let mut sub = Sub::connect_with(&s, &format!("view=1&ticket={id}")).await;
    let first = sub.next().await;
    assert_eq!(first["type"], "snapshot", "{first}");
    let at = first["seq"].as_u64().expect("seq");
    let st = sub.next().await;
    assert_eq!(st["type"], "ticket", "{st}");
    assert_eq!(st["ticket"]["number"], number.as_str());
    assert_eq!(st["ticket"]["state"], "waiting");
    assert_eq!(st["ticket"]["ahead"], 0);

    s.call_next(&token, 1).await;
    let seq = s.seq().await;
    let msgs = sub.until_type("ticket").await;
    let events: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["type"] != "view" && m["type"] != "ticket")
        .collect();
    assert_contiguous(
        &events
            .iter()
            .map(|m| m["seq"].as_u64().expect("seq"))
            .collect::<Vec<_>>(),
        at + 1,
    );
    assert!(events
        .iter()
        .any(|e| e["type"] == "ticket_called" && e["number"] == number.as_str()));
    let view = msgs
        .iter()
        .find(|m| m["type"] == "view")
        .expect("a view after the batch");
    assert_eq!(view["seq"], seq, "{view}");
    assert_eq!(view["view"]["seq"], seq);
    let w1 = view["view"]["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .find(|w| w["number"] == 1)
        .expect("window 1")
        .clone();
    assert_eq!(w1["current"]["number"], number.as_str(), "{w1}");
    let watched = msgs.last().expect("ticket");
    assert_eq!(watched["ticket"]["state"], "called", "{watched}");
    assert_eq!(watched["ticket"]["window"], 1);

    // A change elsewhere brings a view but no repeated ticket message.
    s.issue("social").await;
    let seq2 = s.seq().await;
    let after = sub.until_type("view").await;
    assert_eq!(after.last().expect("view")["seq"], seq2);
    assert!(after.iter().all(|m| m["type"] != "ticket"), "{after:?}");
    sub.close().await;

    // Resume: the missed events once each, then the view as of the last.
    let mut resumed = Sub::connect_with(&s, &format!("since={at}&view=1")).await;
    let msgs = resumed.until_type("view").await;
    let (view, events) = msgs.split_last().expect("messages");
    assert_contiguous(&seqs(events), at + 1);
    assert_eq!(events.last().expect("events")["seq"], seq2);
    assert_eq!(view["seq"], seq2);
    assert!(matches!(
        resumed.next_within(Duration::from_millis(300)).await,
        Next::Timeout
    ));
    resumed.close().await;

    // A page keeps its URL `events?since=N` and subscribes by message.
    let mut page = Sub::connect(&s, Some(seq2)).await;
    page.send_json(json!({"type": "subscribe", "view": true, "ticket": id}))
        .await;
    let ack = page.next().await;
    assert_eq!(ack["type"], "subscribed", "{ack}");
    assert!(ack["now"].is_string(), "{ack}");
    let v = page.next().await;
    assert_eq!(
        (v["type"].as_str(), v["seq"].as_u64()),
        (Some("view"), Some(seq2)),
        "{v}"
    );
    let t = page.next().await;
    assert_eq!(
        (t["type"].as_str(), t["ticket"]["state"].as_str()),
        (Some("ticket"), Some("called")),
        "{t}"
    );
    s.act(&token, 1, "start", None).await.expect(200);
    let msgs = page.until_type("ticket").await;
    assert_eq!(types_of(&msgs), ["service_started", "view", "ticket"]);
    assert_eq!(msgs[2]["ticket"]["state"], "serving");
    page.send_json(json!({"type": "subscribe", "ticket": "nope"}))
        .await;
    assert_eq!(page.next().await["error"]["code"], "unknown_ticket");
    page.send_json(json!({"type": "hello"})).await;
    assert_eq!(page.next().await["error"]["code"], "bad_message");
    page.close().await;

    // A ticket nobody issued cannot be watched.
    let r = s
        .send(s.http().get(s.hall_url("/events?ticket=nope")))
        .await;
    r.expect_error(404, "unknown_ticket");
    let r = s.send(s.http().get(s.hall_url("/events?view=maybe"))).await;
    r.expect_error(400, "bad_view");
}
