//! For the people who run the box: liveness, Prometheus metrics, the OpenAPI
//! document, and the JSON answers for unknown paths and methods.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::api::error::ApiError;
use crate::app::App;

pub async fn healthz(State(app): State<App>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "ok",
        "halls": app.halls.len(),
        "uptime_s": app.started.elapsed().as_secs(),
    }))
}

pub async fn metrics(State(app): State<App>) -> Response {
    let mut out = String::from(crate::metrics::HELP);
    for (id, e) in &app.halls {
        e.handle.metrics.render(id, &mut out);
    }
    app.limits.counters.render(app.halls.keys(), &mut out);
    crate::listen::render_metrics(&mut out);
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
