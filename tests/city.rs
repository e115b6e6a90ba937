//! 同城通办 overview (issue 15 item 9) through the real server: two halls,
//! `GET /api/v1/overview` with a city token lists both with their waiting,
//! longest wait, open windows and red warnings; no token is 401, a hall's
//! token 403; `/city` is served.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::*;

const CITY: &str = "city-token-for-the-test-01";

/// Adds a second hall `east` (its general category's wait target 1 s, so it
/// turns red at once) and a city token to the server's file, and restarts.
async fn two_halls_and_a_city_token(s: &mut Server) {
    let mut east = demo_hall_with_pins();
    east.id = "east".into();
    east.name = "东区便民服务中心".into();
    east.kiosk_tokens = vec!["kiosk-east-000000001".into()];
    east.supervisor_tokens = vec!["supervisor-east-0001".into()];
    for w in &mut east.windows {
        w.evaluator_token = None;
    }
    if let Some(c) = east.categories.iter_mut().find(|c| c.id == "general") {
        c.wait_target_s = 1;
    }
    let east_text = hall_toml_of("127.0.0.1:1", &s.data_path(), east);
    let east_hall = &east_text[east_text.find("[[hall]]").expect("[[hall]]")..];
    let text = std::fs::read_to_string(s.config_path()).expect("config");
    let text = text.replacen(
        "[server]\n",
        &format!("[server]\ncity_tokens = [{CITY:?}]\n"),
        1,
    ) + "\n"
        + east_hall;
    std::fs::write(s.config_path(), text).expect("write config");
    s.restart().await;
}

async fn overview(s: &Server, token: Option<&str>) -> Resp {
    let mut rb = s.http().get(s.url("/api/v1/overview"));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    s.send(rb).await
}

fn hall<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["halls"]
        .as_array()
        .and_then(|hs| hs.iter().find(|h| h["hall"] == id))
        .unwrap_or_else(|| panic!("no hall {id} in {v}"))
}

#[tokio::test]
async fn the_overview_lists_every_hall_for_a_city_token_only() {
    let mut s = Server::start().await;
    two_halls_and_a_city_token(&mut s).await;

    overview(&s, None).await.expect_error(401, "unauthorized");
    overview(&s, Some("not-a-token-at-all-0000"))
        .await
        .expect_error(401, "unauthorized");
    overview(&s, Some(SUPERVISOR))
        .await
        .expect_error(403, "forbidden");

    s.issue("general").await;
    s.issue("social").await;
    s.login("s01", 1).await;
    s.send(
        s.http()
            .post(s.url("/api/v1/halls/east/tickets"))
            .bearer_auth("kiosk-east-000000001")
            .json(&json!({"category": "general"})),
    )
    .await
    .expect(201);

    let v = eventually(
        "east's general red, its ticket waiting 1 s",
        Duration::from_secs(15),
        || async {
            let v = overview(&s, Some(CITY)).await.expect(200);
            let red = hall(&v, "east")["red"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let waited = hall(&v, "east")["longest_wait_s"].as_i64().unwrap_or(0) >= 1;
            (waited
                && red
                    .iter()
                    .any(|r| r["kind"] == "category" && r["id"] == "general"))
            .then_some(v)
        },
    )
    .await;
    let ids: Vec<&str> = v["halls"]
        .as_array()
        .expect("halls")
        .iter()
        .filter_map(|h| h["hall"].as_str())
        .collect();
    assert_eq!(ids, ["demo", "east"]);
    let demo = hall(&v, "demo");
    assert_eq!(demo["waiting"], 2, "{demo}");
    assert_eq!(demo["open_windows"], 1, "{demo}");
    assert!(demo["windows"].as_u64().unwrap_or(0) >= 10, "{demo}");
    assert!(demo["longest_wait_s"].as_i64().is_some(), "{demo}");
    let east = hall(&v, "east");
    assert_eq!(east["name"], "东区便民服务中心");
    assert_eq!(east["waiting"], 1);
    assert_eq!(east["open_windows"], 0);
    assert_eq!(east["level"], "red");
    assert!(east["longest_wait_s"].as_i64().unwrap_or(0) >= 1, "{east}");
    assert_eq!(v["totals"]["halls"], 2);
    assert_eq!(v["totals"]["waiting"], 3);
    assert!(v["totals"]["halls_red"].as_u64().unwrap_or(0) >= 1);

    let page = s.send(s.http().get(s.url("/city"))).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("city.js"), "{}", page.text());
    let doc = s
        .send(s.http().get(s.url("/api/v1/openapi.json")))
        .await
        .expect(200);
    assert!(doc["paths"]["/api/v1/overview"]["get"].is_object());
}
