//! The HTTP surface: routes, the OpenAPI document generated from the
//! handlers' annotations (so it cannot drift from them), middleware.

pub mod dto;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod ws;

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Request};
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::app::App;
use crate::pages;

/// Largest request body accepted (the biggest real one is a few hundred bytes).
pub const MAX_BODY: usize = 16 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "hallcall", description = "排队叫号系统 API: tickets, windows, displays, statistics. Errors are {\"error\":{\"code\",\"message\"}}."),
    paths(
        handlers::list_halls, handlers::issue_ticket, handlers::ticket_status, handlers::ticket_qr,
        handlers::rate, handlers::requeue, handlers::book, handlers::login, handlers::window_action,
        handlers::window_queue, handlers::window_stats, handlers::advice, handlers::state, handlers::stats,
        handlers::announcement
    ),
    modifiers(&Bearer),
    tags((name = "public"), (name = "kiosk"), (name = "clerk"), (name = "supervisor"))
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// The OpenAPI document, plus the WebSocket path utoipa cannot describe.
pub fn openapi() -> serde_json::Value {
    let mut v = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    if let Some(paths) = v.get_mut("paths").and_then(|p| p.as_object_mut()) {
        paths.insert(
            "/api/v1/halls/{hall}/events".into(),
            serde_json::json!({"get": {
                "tags": ["public"],
                "summary": "WebSocket: snapshot or missed events, then live events",
                "description": "Upgrade to WebSocket. Query `since=<seq>`: missed events if recent enough, else {\"type\":\"snapshot\",\"seq\",\"state\"}. Then every event {seq, at, hall, by, type, ...} once, in order. Ticket ids are not broadcast.",
                "parameters": [{"name": "hall", "in": "path", "required": true, "schema": {"type": "string"}},
                               {"name": "since", "in": "query", "required": false, "schema": {"type": "integer"}}],
                "responses": {"101": {"description": "switching to WebSocket"}, "400": {"description": "bad since"}, "404": {"description": "unknown hall"}}
            }}),
        );
        paths.insert("/healthz".into(), serde_json::json!({"get": {"summary": "liveness", "responses": {"200": {"description": "ok"}}}}));
        paths.insert("/metrics".into(), serde_json::json!({"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text exposition format"}}}}));
    }
    v
}

#[derive(Clone, Default)]
struct Counter(std::sync::Arc<AtomicU64>);

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{n:08x}"))
            .ok()
            .map(RequestId::new)
    }
}

pub fn router(app: App) -> Router {
    let h = "/api/v1/halls/{hall}";
    let api = Router::new()
        .route("/api/v1/halls", get(handlers::list_halls))
        .route(&format!("{h}/tickets"), post(handlers::issue_ticket))
        .route(&format!("{h}/tickets/{{id}}"), get(handlers::ticket_status))
        .route(
            &format!("{h}/tickets/{{id}}/qr.svg"),
            get(handlers::ticket_qr),
        )
        .route(&format!("{h}/tickets/{{id}}/rating"), post(handlers::rate))
        .route(
            &format!("{h}/tickets/{{id}}/requeue"),
            post(handlers::requeue),
        )
        .route(&format!("{h}/appointments"), post(handlers::book))
        .route(&format!("{h}/sessions"), post(handlers::login))
        .route(
            &format!("{h}/windows/{{n}}/queue"),
            get(handlers::window_queue),
        )
        .route(
            &format!("{h}/windows/{{n}}/stats"),
            get(handlers::window_stats),
        )
        .route(
            &format!("{h}/windows/{{n}}/{{action}}"),
            post(handlers::window_action),
        )
        .route(
            &format!("{h}/advice/{{id}}/{{action}}"),
            post(handlers::advice),
        )
        .route(&format!("{h}/state"), get(handlers::state))
        .route(&format!("{h}/stats"), get(handlers::stats))
        .route(&format!("{h}/events"), get(ws::events))
        .route(
            &format!("{h}/announcements/{{file}}"),
            get(handlers::announcement),
        )
        .route("/api/v1/openapi.json", get(|| async { Json(openapi()) }))
        .route("/healthz", get(handlers::healthz))
        .route("/metrics", get(handlers::metrics));
    let pages = Router::new()
        .route("/", get(pages::index))
        .route("/display/hall", get(pages::hall_display))
        .route("/display/window/{n}", get(pages::window_display))
        .route("/kiosk", get(pages::kiosk))
        .route("/clerk", get(pages::clerk))
        .route("/supervisor", get(pages::supervisor))
        .route("/t/{id}", get(pages::ticket))
        .route("/static/{*path}", get(pages::static_file));
    api.merge(pages)
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-")
                    .to_string();
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(Counter::default()))
        .with_state(app)
}
