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
    crate::listen::render_metrics(&mut out);
    if let Some(c) = &app.cluster {
        c.render(&app, &mut out);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

pub async fn openapi() -> Json<serde_json::Value> {
    Json(crate::api::openapi())
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
