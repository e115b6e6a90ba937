//! The HTTP surface: routes, the OpenAPI document generated from the
//! handlers' annotations (so it cannot drift from them), middleware.
//!
//! Handlers are grouped by who calls them: [`public`] (no token: state,
//! ticket status, rating, appointments, WAV), [`kiosk`], [`clerk`],
//! [`supervisor`], [`ops`] (health, metrics, OpenAPI), and [`ws`] (the
//! event stream). They authenticate (`crate::auth`), translate to a core
//! `Command`, hand it to the hall's task and translate the outcome back. No
//! hall rule lives here.

pub mod admin;
pub mod booking;
pub mod city;
pub mod clerk;
pub mod dto;
pub mod error;
pub mod evaluator;
pub mod extract;
pub mod kiosk;
pub mod ops;
pub mod public;
pub mod ratings;
pub mod reports;
pub mod supervisor;
pub mod ws;

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Request};
use axum::routing::{get, post};
use axum::{Json, Router};
use hallcall_core::Actor;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::app::App;
use crate::auth::Role;
use crate::pages;
use dto::EventsResponse;
use error::ApiError;

/// Largest request body accepted (the biggest real one is a few hundred bytes).
pub const MAX_BODY: usize = 16 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "hallcall", description = "排队叫号系统 API: tickets, windows, displays, statistics. Errors are {\"error\":{\"code\",\"message\"}}."),
    paths(
        public::list_halls, kiosk::issue_ticket, public::ticket_status, public::ticket_qr,
        public::rate, kiosk::requeue, public::book, booking::slots, booking::cancel, clerk::login, clerk::window_action,
        clerk::window_queue, clerk::window_stats, supervisor::advice, public::state, supervisor::stats,
        supervisor::lockouts, supervisor::staff_action, supervisor::devices,
        evaluator::view, evaluator::rate, evaluator::window_info, evaluator::staff_photo,
        ratings::list, ratings::follow_up, kiosk::check_in,
        public::cancel, supervisor::notices, supervisor::add_notice, supervisor::remove_notice,
        public::announcement, city::overview, admin::config, admin::edit
    ),
    modifiers(&Bearer),
    tags((name = "public"), (name = "kiosk"), (name = "clerk"), (name = "supervisor"), (name = "evaluator"), (name = "city"))
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
                "description": "Upgrade to WebSocket. Query `since=<seq>`: missed events if recent enough, else {\"type\":\"snapshot\",\"seq\",\"state\"}. Then every event {seq, at, hall, by, type, ...} once, in order. Ticket ids are not broadcast. `view=1` (or the client message {\"type\":\"subscribe\",\"view\":true,\"ticket\":\"<id>\"}) adds {\"type\":\"view\",\"seq\",\"view\"} after every batch; `ticket=<id>` adds {\"type\":\"ticket\",\"seq\",\"ticket\"} when that ticket's status changes (docs/api.md, Push).",
                "parameters": [{"name": "hall", "in": "path", "required": true, "schema": {"type": "string"}},
                               {"name": "since", "in": "query", "required": false, "schema": {"type": "integer"}},
                               {"name": "view", "in": "query", "required": false, "schema": {"type": "string", "enum": ["1", "0", "true", "false"]}},
                               {"name": "ticket", "in": "query", "required": false, "schema": {"type": "string"}}],
                "responses": {"101": {"description": "switching to WebSocket"}, "400": {"description": "bad since or view"}, "404": {"description": "unknown hall or ticket"}}
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
        // public
        .route("/api/v1/halls", get(public::list_halls))
        .route(&format!("{h}/state"), get(public::state))
        .route(&format!("{h}/events"), get(ws::events))
        .route(&format!("{h}/tickets/{{id}}"), get(public::ticket_status))
        .route(
            &format!("{h}/tickets/{{id}}/qr.svg"),
            get(public::ticket_qr),
        )
        .route(&format!("{h}/tickets/{{id}}/rating"), post(public::rate))
        .route(&format!("{h}/tickets/{{id}}/cancel"), post(public::cancel))
        // hall notices: anyone reads them, the supervisor adds and removes
        .route(
            &format!("{h}/notices"),
            get(supervisor::notices).post(supervisor::add_notice),
        )
        .route(
            &format!("{h}/notices/{{id}}"),
            axum::routing::delete(supervisor::remove_notice),
        )
        .route(&format!("{h}/appointments"), post(public::book))
        .route(&format!("{h}/appointments/slots"), get(booking::slots))
        .route(
            &format!("{h}/appointments/{{code}}"),
            axum::routing::delete(booking::cancel),
        )
        .route(
            &format!("{h}/announcements/{{file}}"),
            get(public::announcement),
        )
        // kiosk
        .route(&format!("{h}/tickets"), post(kiosk::issue_ticket))
        .route(&format!("{h}/tickets/{{id}}/requeue"), post(kiosk::requeue))
        // clerk (open/close on the same path are the supervisor's)
        .route(&format!("{h}/sessions"), post(clerk::login))
        .route(
            &format!("{h}/windows/{{n}}/queue"),
            get(clerk::window_queue),
        )
        .route(
            &format!("{h}/windows/{{n}}/stats"),
            get(clerk::window_stats),
        )
        .route(
            &format!("{h}/windows/{{n}}/{{action}}"),
            post(clerk::window_action),
        )
        // supervisor
        .route(
            &format!("{h}/advice/{{id}}/{{action}}"),
            post(supervisor::advice),
        )
        .route(&format!("{h}/stats"), get(supervisor::stats))
        .route(&format!("{h}/lockouts"), get(supervisor::lockouts))
        .route(&format!("{h}/devices"), get(supervisor::devices))
        // 好差评: the supervisor's 差评 list, export and follow-up
        .route(&format!("{h}/ratings/bad"), get(ratings::list))
        .route(
            &format!("{h}/ratings/{{ticket}}/follow-up"),
            post(ratings::follow_up),
        )
        // kiosk: appointment check-in by code alone
        .route(
            &format!("{h}/appointments/{{code}}/check-in"),
            post(kiosk::check_in),
        )
        // the window evaluator (评价器) and what window displays show
        .route(
            &format!("{h}/windows/{{n}}/evaluator"),
            get(evaluator::view),
        )
        .route(
            &format!("{h}/windows/{{n}}/evaluator/rating"),
            post(evaluator::rate),
        )
        .route(
            &format!("{h}/windows/{{n}}/info"),
            get(evaluator::window_info),
        )
        .route(
            &format!("{h}/staff/{{staff}}/photo"),
            get(evaluator::staff_photo),
        )
        .route(
            &format!("{h}/staff/{{staff}}/{{action}}"),
            post(supervisor::staff_action),
        )
        // ops
        .route("/api/v1/openapi.json", get(ops::openapi))
        .route("/api/v1/overview", get(city::overview))
        .route(&format!("{h}/admin"), get(admin::config).post(admin::edit))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics));
    let pages = Router::new()
        .route("/", get(pages::index))
        .route("/display/hall", get(pages::hall_display))
        .route("/display/window/{n}", get(pages::window_display))
        .route("/evaluator/{n}", get(pages::evaluator))
        .route("/kiosk", get(pages::kiosk))
        .route("/clerk", get(pages::clerk))
        .route("/supervisor", get(pages::supervisor))
        .route("/t/{id}", get(pages::ticket))
        .route("/book", get(pages::book))
        .route("/city", get(pages::city))
        .route("/static/{*path}", get(pages::static_file));
    api.merge(pages)
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        // Every error in the API's JSON shape, whoever made it (issue 14 item 8).
        .layer(axum::middleware::map_response(error::json_errors))
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

// ---- helpers shared by the handler modules --------------------------------

fn parse_window(s: &str) -> Result<u32, ApiError> {
    s.parse().map_err(|_| {
        ApiError::bad_request("bad_window", format!("window must be a number, got {s:?}"))
    })
}

/// Who the log records as having done a command.
fn actor_of(role: &Role) -> Actor {
    match role {
        Role::Kiosk => Actor::Kiosk,
        Role::Supervisor => Actor::Supervisor,
        Role::Clerk { staff, .. } => Actor::staff(staff.clone()),
    }
}

fn random_id(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

fn events_response(events: Vec<hallcall_core::Event>) -> Json<EventsResponse> {
    Json(EventsResponse {
        seq: events.last().map(|e| e.seq).unwrap_or(0),
        events,
    })
}

/// A business day's events, read off the async threads (sled reads block).
async fn day_events(
    app: &App,
    hall: &str,
    date: chrono::NaiveDate,
) -> Result<Vec<hallcall_core::Event>, ApiError> {
    let store = app.store.clone();
    let hall = hall.to_string();
    tokio::task::spawn_blocking(move || store.day_events(&hall, date))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Today's business date of a hall, from its state.
async fn business_date(app: &App, hall: &str) -> Result<chrono::NaiveDate, ApiError> {
    let entry = app.hall(hall)?;
    let d = entry.handle.read(|h, _| h.business_date()).await?;
    Ok(d.unwrap_or_else(|| chrono::Utc::now().date_naive()))
}
