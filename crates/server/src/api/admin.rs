//! 后台管理 (issue 15 item 10): the supervisor edits staff, windows and
//! categories from the dashboard. `GET …/admin` lists what may be edited
//! (never a PIN hash or a token); `POST …/admin` takes one edit
//! (`hallcall_core::hall::admin::ConfigEdit`, with `pin` instead of a hash:
//! the PIN is hashed here with argon2, as `hallcall hash-pin` does, so it is
//! never logged) and hands it to the hall as `Command::EditConfig`. The core
//! decides it like a file reload; once durable, the hall's tokens and PIN
//! hashes used by logins are taken from the hall's new configuration.

use axum::extract::{Path, State};
use axum::Json;
use hallcall_core::hall::admin::ConfigEdit;
use hallcall_core::{Actor, Command};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Bearer};
use crate::app::App;
use crate::auth::{hash_pin, require_supervisor, MIN_PIN_DIGITS};

#[derive(Serialize, ToSchema)]
pub struct AdminStaff {
    pub id: String,
    pub name: String,
    pub staff_no: String,
}

#[derive(Serialize, ToSchema)]
pub struct AdminWindow {
    pub number: u32,
    /// comprehensive, specialist, tidal or fallback
    pub kind: String,
    pub categories: Vec<String>,
    pub a_post: String,
    pub b_post: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AdminCategory {
    pub id: String,
    pub name: String,
    pub expected_s: u32,
    pub limit_s: u32,
    pub wait_target_s: u32,
    pub daily_cap: Option<u32>,
}

/// What the dashboard may edit.
#[derive(Serialize, ToSchema)]
pub struct AdminConfig {
    pub staff: Vec<AdminStaff>,
    pub windows: Vec<AdminWindow>,
    pub categories: Vec<AdminCategory>,
}

#[utoipa::path(get, path = "/api/v1/halls/{hall}/admin", tag = "supervisor",
    params(("hall" = String, Path)),
    responses((status = 200, description = "staff, windows and categories as configured now (no PIN hashes, no tokens)", body = AdminConfig),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn config(
    State(app): State<App>,
    Path(hall): Path<String>,
    Bearer(token): Bearer,
) -> Result<Json<AdminConfig>, ApiError> {
    let entry = app.hall(&hall)?;
    require_supervisor(&app.role(&hall, token.as_deref()).await?)?;
    let snap = entry.handle.snapshot();
    let c = snap.hall().config();
    Ok(Json(AdminConfig {
        staff: c
            .staff
            .iter()
            .map(|s| AdminStaff {
                id: s.id.clone(),
                name: s.name.clone(),
                staff_no: s.staff_no.clone(),
            })
            .collect(),
        windows: c
            .windows
            .iter()
            .map(|w| AdminWindow {
                number: w.number,
                kind: serde_json::to_value(w.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                categories: w.categories.clone(),
                a_post: w.a_post.clone(),
                b_post: w.b_post.clone(),
            })
            .collect(),
        categories: c
            .categories
            .iter()
            .map(|k| AdminCategory {
                id: k.id.clone(),
                name: k.name.clone(),
                expected_s: k.expected_s,
                limit_s: k.limit_s,
                wait_target_s: k.wait_target_s,
                daily_cap: k.daily_cap,
            })
            .collect(),
    }))
}

/// A PIN as the clerks type it: digits only, `MIN_PIN_DIGITS` to 12.
fn check_pin(pin: &str) -> Result<(), ApiError> {
    let n = pin.chars().count();
    if !(MIN_PIN_DIGITS..=12).contains(&n) || !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::bad_request(
            "bad_pin",
            format!("the PIN must be {MIN_PIN_DIGITS} to 12 digits"),
        ));
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/halls/{hall}/admin", tag = "supervisor",
    params(("hall" = String, Path)),
    request_body(content = Object, description = "one edit, by `op`: {op: add_staff, id, name, staff_no?, pin} | {op: edit_staff, id, name, staff_no?} | {op: retire_staff, id} | {op: reset_pin, id, pin} | {op: set_window, number, kind, categories?, a_post, b_post?} | {op: set_category, id, expected_s, limit_s, wait_target_s, daily_cap?}"),
    responses((status = 200, description = "{seq, events}: the config_edited event in its public form {op, target}; nothing when the edit changes nothing", body = Object),
        (status = 400, description = "`bad_request` (unknown op, missing or wrong field), `bad_pin`, `bad_config` (the edit would make an invalid configuration: the message names the field)", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`unknown_staff`, `unknown_window`, `unknown_category`", body = ErrorBody),
        (status = 409, description = "`reload_in_use`: the edit would drop something in use (a seated clerk, an open window)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn edit(
    State(app): State<App>,
    Path(hall): Path<String>,
    Bearer(token): Bearer,
    ApiJson(mut body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let entry = app.hall(&hall)?;
    require_supervisor(&app.role(&hall, token.as_deref()).await?)?;
    let obj = body
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("bad_request", "the body must be a JSON object"))?;
    // A hash never comes from the browser: only a PIN, hashed here.
    obj.remove("pin_hash");
    let op = obj
        .get("op")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if op == "add_staff" || op == "reset_pin" {
        let pin = obj
            .remove("pin")
            .and_then(|p| p.as_str().map(str::to_string))
            .ok_or_else(|| ApiError::bad_request("bad_pin", "`pin` is required"))?;
        check_pin(&pin)?;
        let hash = tokio::task::spawn_blocking(move || hash_pin(&pin))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?
            .map_err(ApiError::internal)?;
        obj.insert("pin_hash".into(), Value::String(hash));
    }
    let edit: ConfigEdit = serde_json::from_value(body).map_err(|e| {
        ApiError::bad_request(
            "bad_request",
            format!("not an edit ({e}); op is one of add_staff, edit_staff, retire_staff, reset_pin, set_window, set_category"),
        )
    })?;
    let events = entry
        .handle
        .command(
            Command::EditConfig {
                edit: Box::new(edit),
            },
            Actor::Supervisor,
        )
        .await?;
    // Logins read PINs (and tokens) from here: adopt the hall's new configuration.
    let now = entry.handle.snapshot().hall().config().clone();
    if let Ok(mut c) = entry.config.write() {
        *c = now;
    }
    let seq = events.last().map(|e| e.seq).unwrap_or(0);
    let public: Vec<Value> = events
        .iter()
        .filter_map(|e| serde_json::from_str(&e.public().to_json()).ok())
        .collect();
    Ok(Json(serde_json::json!({ "seq": seq, "events": public })))
}
