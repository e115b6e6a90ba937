//! For the people who run the box: liveness, Prometheus metrics, the OpenAPI
//! document, and the JSON answers for unknown paths and methods.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::api::error::ApiError;
use crate::app::App;

/// Liveness: 200 `ok`, or 503 with the reason while the store cannot
/// write (every command is refused then, so the box is not healthy even
/// though it answers). The 503 body is the API's error shape plus `status`.
pub async fn healthz(State(app): State<App>) -> Response {
    let mut failing: Vec<(String, String)> = app
        .halls
        .iter()
        .filter_map(|(id, e)| {
            let why = e.handle.append_failure.lock().ok()?.clone()?;
            Some((id.clone(), why))
        })
        .collect();
    if let Some(why) = app.store.write_failure() {
        if failing.is_empty() {
            failing.push((String::new(), why));
        }
    }
    let uptime_s = app.started.elapsed().as_secs();
    let Some((_, reason)) = failing.first() else {
        let mut body = serde_json::json!({
            "status": "ok",
            "halls": app.halls.len(),
            "uptime_s": uptime_s,
        });
        // Several nodes: which halls this node owns; 503 while it hands
        // its halls over (SIGTERM), so the proxy sends nobody new here.
        if let Some(c) = &app.cluster {
            body["cluster"] = c.health(&app);
            if c.is_draining() {
                body["status"] = "draining".into();
                return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
            }
        }
        return Json(body).into_response();
    };
    let halls: Vec<&str> = failing
        .iter()
        .filter(|(h, _)| !h.is_empty())
        .map(|(h, _)| h.as_str())
        .collect();
    let body = serde_json::json!({
        "status": "failing",
        "reason": reason,
        "halls_failing": halls,
        "halls": app.halls.len(),
        "uptime_s": uptime_s,
        "error": {
            "code": "storage_failed",
            "message": format!("appends fail, commands are refused: {reason}"),
        },
    });
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

pub async fn metrics(State(app): State<App>) -> Response {
    let mut out = String::from(crate::metrics::HELP);
    for (id, e) in &app.halls {
        e.handle.metrics.render(id, &mut out);
    }
    app.limits.counters.render(app.halls.keys(), &mut out);
    if let Some((written, failed)) = app.store.snapshot_counts() {
        use std::fmt::Write;
        let _ = writeln!(out, "hallcall_snapshots_written_total {written}");
        let _ = writeln!(out, "hallcall_snapshot_failures_total {failed}");
    }
    crate::listen::render_metrics(&mut out);
    if let Some(c) = &app.cluster {
        c.render(&app, &mut out);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

pub async fn openapi() -> Json<serde_json::Value> {
    let mut doc = crate::api::openapi();
    complete(&mut doc);
    Json(doc)
}

/// Statuses any request may get before or around its handler: a query or
/// path that does not parse (400), an unknown hall (404), another method on
/// the path (405), a URI over 64 KiB (414), a request head too large (431).
const EVERY_REQUEST: [(&str, &str); 5] = [
    (
        "400",
        "`bad_request` and the handler's own: a query or path parameter that does not parse",
    ),
    ("404", "`unknown_hall`, `not_found` and the handler's own"),
    (
        "405",
        "`method_not_allowed`: the path does not take this method",
    ),
    ("414", "`uri_too_long`: the URI is over 65,534 bytes"),
    ("431", "`headers_too_large`: the request head is too large"),
];
/// With a body: too large (413), not `application/json` (415), bad JSON (400).
const WITH_BODY: [(&str, &str); 2] = [
    ("413", "`body_too_large`: over 16 KiB"),
    ("415", "`content_type`: the body must be `application/json`"),
];
/// With a token: none or unknown (401), not this role or window (403).
const WITH_TOKEN: [(&str, &str); 2] = [
    (
        "401",
        "`unauthorized`: no token, an unknown one, or an ended clerk session",
    ),
    (
        "403",
        "`forbidden`: the token's role or window does not allow this",
    ),
];
/// A command: refused by the hall's rules (409; 400/403/404 above), or not
/// made durable (503 `storage_failed` while the store cannot write).
const COMMAND: [(&str, &str); 2] = [
    (
        "409",
        "the hall's rules refuse the command (e.g. `window_busy`); nothing changed",
    ),
    (
        "503",
        "`storage_failed`: the store cannot write (e.g. a full disk); nothing changed",
    ),
];

/// Fields and parameters whose values are a closed set (the core's enums,
/// in their serde names), declared as enums in the document.
const ENUM_FIELDS: [(&str, &str, &[&str]); 9] = [
    (
        "IssueBody",
        "priority",
        &[
            "normal",
            "elderly",
            "disabled",
            "pregnant",
            "military",
            "appointment",
        ],
    ),
    ("IssueBody", "channel", &["kiosk", "mobile", "assisted"]),
    (
        "ActionBody",
        "reason",
        &["leave", "meeting", "break", "no_staff", "other"],
    ),
    (
        "FollowUpBody",
        "status",
        &["pending", "contacted", "rectified"],
    ),
    (
        "BadRatingView",
        "status",
        &["pending", "contacted", "rectified"],
    ),
    (
        "EvalTicket",
        "state",
        &[
            "waiting",
            "called",
            "serving",
            "held",
            "done",
            "no_show",
            "cancelled",
            "expired",
        ],
    ),
    (
        "EvaluatorView",
        "window_state",
        &["closed", "open", "calling", "serving", "paused"],
    ),
    ("LoginResponse", "duty", &["on_duty", "standby"]),
    ("PrinterWarning", "level", &["yellow", "red"]),
];

/// (path, parameter, values) for path and query parameters with a closed set.
const ENUM_PARAMS: [(&str, &str, &[&str]); 6] = [
    (
        "/api/v1/halls/{hall}/windows/{n}/{action}",
        "action",
        &[
            "call-next",
            "call",
            "recall",
            "no-show",
            "start",
            "complete",
            "hold",
            "transfer",
            "pause",
            "resume",
            "handover",
            "logout",
            "open",
            "close",
        ],
    ),
    (
        "/api/v1/halls/{hall}/advice/{id}/{action}",
        "action",
        &["accept", "dismiss"],
    ),
    (
        "/api/v1/halls/{hall}/staff/{staff}/{action}",
        "action",
        &["unlock", "end-session"],
    ),
    ("/api/v1/halls/{hall}/stats", "format", &["csv", "json"]),
    (
        "/api/v1/halls/{hall}/ratings/bad",
        "status",
        &["pending", "contacted", "rectified"],
    ),
    (
        "/api/v1/halls/{hall}/ratings/bad",
        "format",
        &["csv", "json"],
    ),
];

fn add_statuses(op: &mut serde_json::Value, statuses: &[(&str, &str)]) {
    let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) else {
        return;
    };
    for (status, description) in statuses {
        responses.entry(status.to_string()).or_insert_with(|| {
            serde_json::json!({
                "description": description,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
            })
        });
    }
}

/// Completes the generated document with what the handlers' annotations
/// cannot say (issue 14 item 8): every status the server may answer on each
/// operation (the layers' as well as the handler's), and the closed value
/// sets of enum fields and parameters. `tests/fuzz.rs` checks the server
/// against the result.
pub fn complete(doc: &mut serde_json::Value) {
    if let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for (path, item) in paths.iter_mut() {
            let Some(ops) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in ops.iter_mut() {
                add_statuses(op, &EVERY_REQUEST);
                if op.get("requestBody").is_some() {
                    add_statuses(op, &WITH_BODY);
                }
                if op.get("security").is_some() {
                    add_statuses(op, &WITH_TOKEN);
                }
                if method == "post" || method == "delete" {
                    add_statuses(op, &COMMAND);
                }
                for (p, name, values) in ENUM_PARAMS {
                    if p != path {
                        continue;
                    }
                    let params = op.get_mut("parameters").and_then(|v| v.as_array_mut());
                    for param in params.into_iter().flatten() {
                        if param["name"] == name {
                            param["schema"] = serde_json::json!({"type": "string", "enum": values});
                        }
                    }
                }
            }
        }
        if let Some(e) = paths
            .get_mut("/api/v1/halls/{hall}/events")
            .and_then(|h| h.get_mut("get"))
        {
            add_statuses(
                e,
                &[(
                    "426",
                    "`websocket_required`: a plain GET; this path is a WebSocket",
                )],
            );
        }
        if let Some(h) = paths.get_mut("/healthz").and_then(|h| h.get_mut("get")) {
            add_statuses(h, &[("503", "appends fail: {status: failing, reason, halls_failing, error: {code: storage_failed}}")]);
        }
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(|s| s.as_object_mut())
    {
        for (schema, field, values) in ENUM_FIELDS {
            if let Some(prop) = schemas
                .get_mut(schema)
                .and_then(|s| s.pointer_mut(&format!("/properties/{field}")))
            {
                let nullable = prop["type"].is_array();
                let mut values: Vec<serde_json::Value> =
                    values.iter().map(|v| (*v).into()).collect();
                if nullable {
                    values.push(serde_json::Value::Null);
                }
                prop["enum"] = values.into();
            }
        }
    }
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such path")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this path does not take that method",
    )
}

#[cfg(test)]
mod tests {
    use hallcall_core::model::{Channel, Duty, PauseReason, Priority, TicketState};

    /// The enum lists of the document are the core's serde names.
    #[test]
    fn enum_lists_are_the_core_names() {
        fn all<T: serde::de::DeserializeOwned>(values: &[&str]) {
            for v in values {
                serde_json::from_value::<T>(serde_json::json!(v))
                    .unwrap_or_else(|e| panic!("{v}: {e}"));
            }
        }
        for (schema, field, values) in super::ENUM_FIELDS {
            match (schema, field) {
                ("IssueBody", "priority") => all::<Priority>(values),
                ("IssueBody", "channel") => all::<Channel>(values),
                ("ActionBody", "reason") => all::<PauseReason>(values),
                ("EvalTicket", "state") => all::<TicketState>(values),
                ("LoginResponse", "duty") => all::<Duty>(values),
                _ => {}
            }
        }
    }

    #[test]
    fn every_operation_lists_the_layers_statuses_and_enums() {
        let mut doc = crate::api::openapi();
        super::complete(&mut doc);
        let op = &doc["paths"]["/api/v1/halls/{hall}/tickets"]["post"];
        for s in [
            "400", "401", "403", "404", "405", "409", "413", "414", "415", "429", "431", "503",
        ] {
            assert!(op["responses"].get(s).is_some(), "{s} missing");
        }
        assert_eq!(
            doc["components"]["schemas"]["IssueBody"]["properties"]["priority"]["enum"][0],
            "normal"
        );
    }
}
