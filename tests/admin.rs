//! Administration from the browser (issue 15 item 10) through the real
//! server: the supervisor adds a clerk with a PIN, posts them on a window,
//! resets the PIN; bad edits are JSON 4xx that change nothing; the edits are
//! replayed after a restart while the file is unchanged, exported by
//! `hallcall export-config`, and replaced when the file changes.

mod support;

use serde_json::{json, Value};
use support::*;

async fn admin(s: &Server, token: Option<&str>, body: Value) -> Resp {
    s.post("/admin", token, Some(body)).await
}

async fn login_with(s: &Server, staff: &str, pin: &str, window: u32) -> Resp {
    s.post(
        "/sessions",
        None,
        Some(json!({ "staff": staff, "pin": pin, "window": window })),
    )
    .await
}

fn staff_ids(v: &Value) -> Vec<String> {
    v["staff"]
        .as_array()
        .expect("staff")
        .iter()
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn a_supervisor_adds_posts_and_re_pins_a_clerk_and_the_file_wins_only_when_it_changes() {
    let mut s = Server::start().await;
    let cfg = s.get("/admin", Some(SUPERVISOR)).await;
    let cfg_text = cfg.text();
    let cfg = cfg.expect(200);
    assert!(staff_ids(&cfg).contains(&"s01".to_string()));
    assert!(
        !cfg_text.contains("argon2") && !cfg_text.contains("pin_hash"),
        "{cfg_text}"
    );
    let w6 = cfg["windows"]
        .as_array()
        .and_then(|ws| ws.iter().find(|w| w["number"] == 6))
        .cloned()
        .expect("window 6");

    // Who may: no token 401, a kiosk 403; bad edits are 400 and change nothing.
    let seq = s.seq().await;
    let add = json!({"op": "add_staff", "id": "s99", "name": "赵新人", "staff_no": "0099", "pin": "135790"});
    admin(&s, None, add.clone())
        .await
        .expect_error(401, "unauthorized");
    admin(&s, Some(KIOSK), add.clone())
        .await
        .expect_error(403, "forbidden");
    admin(
        &s,
        Some(SUPERVISOR),
        json!({"op": "add_staff", "id": "s98", "name": "x", "pin": "12"}),
    )
    .await
    .expect_error(400, "bad_pin");
    admin(&s, Some(SUPERVISOR), json!({"op": "promote", "id": "s01"}))
        .await
        .expect_error(400, "bad_request");
    admin(&s, Some(SUPERVISOR), json!({"op": "set_category", "id": "general", "expected_s": 300, "limit_s": 0, "wait_target_s": 900}))
        .await
        .expect_error(400, "bad_config");
    admin(
        &s,
        Some(SUPERVISOR),
        json!({"op": "reset_pin", "id": "nobody", "pin": "135790"}),
    )
    .await
    .expect_error(404, "unknown_staff");
    assert_eq!(s.seq().await, seq, "refused edits change nothing");

    // Add s99, post them on window 6, log in with the PIN given.
    let r = admin(&s, Some(SUPERVISOR), add).await;
    let text = r.text();
    let v = r.expect(200);
    assert!(!text.contains("argon2"), "no hash in the answer: {text}");
    assert_eq!(v["events"][0]["type"], "config_edited", "{v}");
    assert_eq!(v["events"][0]["op"], "add_staff");
    assert_eq!(v["events"][0]["target"], "s99");
    assert_eq!(v["events"][0]["by"], "supervisor");
    admin(
        &s,
        Some(SUPERVISOR),
        json!({"op": "set_window", "number": 6, "kind": w6["kind"], "categories": w6["categories"], "a_post": "s99", "b_post": w6["b_post"]}),
    )
    .await
    .expect(200);
    login_with(&s, "s99", "135790", 6).await.expect(200);

    // A new PIN: the old one fails, the new one works.
    admin(
        &s,
        Some(SUPERVISOR),
        json!({"op": "reset_pin", "id": "s99", "pin": "246802"}),
    )
    .await
    .expect(200);
    login_with(&s, "s99", "135790", 6)
        .await
        .expect_error(401, "bad_credentials");
    login_with(&s, "s99", "246802", 6).await.expect(200);
    // The edit is in the log's public feed with who did it.
    let feed = s.all_events().await;
    let edits: Vec<&Value> = feed
        .iter()
        .filter(|e| e["type"] == "config_edited")
        .collect();
    assert_eq!(edits.len(), 3, "add, post, PIN");
    assert!(edits.iter().all(|e| e["by"] == "supervisor"));

    // Restart with the file unchanged: the edits are replayed and kept.
    s.restart().await;
    assert!(
        staff_ids(&s.get("/admin", Some(SUPERVISOR)).await.expect(200))
            .contains(&"s99".to_string())
    );
    let token = login_with(&s, "s99", "246802", 6).await.expect(200)["token"]
        .as_str()
        .expect("token")
        .to_string();
    // Seated, s99 could not be dropped by the file below (reload_in_use).
    s.act(&token, 6, "logout", None).await.expect(200);

    // export-config (the server stopped: sled is one process's) writes them.
    s.kill();
    let out = std::process::Command::new(bin())
        .arg("export-config")
        .arg("--config")
        .arg(s.config_path())
        .arg("--data")
        .arg(s.data_path())
        .output()
        .expect("run export-config");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported = String::from_utf8(out.stdout).expect("utf-8");
    let parsed = hallcall_core::config::Config::from_toml(&exported).expect("the export parses");
    let hall = &parsed.halls[0];
    assert_eq!(hall.staff("s99").map(|x| x.name.as_str()), Some("赵新人"));
    assert_eq!(hall.window(6).map(|w| w.a_post.as_str()), Some("s99"));

    // The file changes: it wins, the browser's edits are gone.
    let file = std::fs::read_to_string(s.config_path()).expect("config");
    let changed = file.replacen("near_turn_ahead = 3", "near_turn_ahead = 4", 1);
    assert_ne!(file, changed, "the file has near_turn_ahead");
    std::fs::write(s.config_path(), changed).expect("write");
    s.restart().await;
    assert!(
        !staff_ids(&s.get("/admin", Some(SUPERVISOR)).await.expect(200))
            .contains(&"s99".to_string())
    );
    login_with(&s, "s99", "246802", 6)
        .await
        .expect_error(401, "bad_credentials");
}
