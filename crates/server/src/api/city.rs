//! 同城通办: the city operator's overview of every hall this process serves
//! (`GET /api/v1/overview`, the `/city` page). The token is one of
//! `[server] city_tokens`; no hall token opens it. Each line is the core's
//! [`hallcall_core::overview`] of the hall's latest snapshot, read on the
//! caller's task: the hall tasks do no work for it, so the page can poll it.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::Bearer;
use crate::app::{App, AppError};

/// The city at a glance: every hall, then the sums.
#[derive(Serialize, ToSchema)]
pub struct OverviewResponse {
    /// When the figures were read (RFC 3339, UTC).
    pub at: String,
    /// One line per hall, in hall id order: `{hall, name, name_en, seq, now,
    /// open_today, waiting, longest_wait_s, open_windows, windows, red:
    /// [{kind: "category", id, name, name_en, waiting, oldest_wait_s,
    /// open_windows} | {kind: "window", number, number_served, elapsed_s}],
    /// yellow, level}`.
    #[schema(value_type = Vec<Object>)]
    pub halls: Vec<hallcall_core::overview::HallOverview>,
    pub totals: OverviewTotals,
}

#[derive(Serialize, ToSchema)]
pub struct OverviewTotals {
    pub halls: u32,
    pub waiting: u32,
    pub open_windows: u32,
    /// Red warnings across the city.
    pub red: u32,
    /// Halls with at least one red warning.
    pub halls_red: u32,
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The caller must hold a city token.
fn require_city(app: &App, token: Option<&str>) -> Result<(), AppError> {
    let token = token.ok_or(AppError::Unauthorized("a bearer token is required"))?;
    let known = app.city_tokens.iter().fold(false, |acc, t| {
        acc | constant_eq(t.as_bytes(), token.as_bytes())
    });
    if known {
        return Ok(());
    }
    let a_hall_token = app.halls.values().any(|e| {
        e.config.read().is_ok_and(|c| {
            c.kiosk_tokens
                .iter()
                .chain(&c.supervisor_tokens)
                .any(|t| t == token)
        })
    });
    if a_hall_token {
        return Err(AppError::Forbidden(
            "the city overview needs a city token ([server] city_tokens), not a hall's".into(),
        ));
    }
    Err(AppError::Unauthorized("unknown or invalid token"))
}

#[utoipa::path(get, path = "/api/v1/overview", tag = "city",
    responses((status = 200, description = "Every hall's waiting, longest wait, open windows and red warnings (from each hall's latest durable state)", body = OverviewResponse),
        (status = 401, description = "`unauthorized`: no token or not a city token", body = ErrorBody),
        (status = 403, description = "`forbidden`: a hall's kiosk or supervisor token", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn overview(
    State(app): State<App>,
    Bearer(token): Bearer,
) -> Result<Json<OverviewResponse>, ApiError> {
    require_city(&app, token.as_deref())?;
    let mut halls = Vec::with_capacity(app.halls.len());
    for entry in app.halls.values() {
        halls.push(
            entry
                .handle
                .read(|hall, now| hall.view(now).overview())
                .await
                .map_err(AppError::from)?,
        );
    }
    let totals = OverviewTotals {
        halls: halls.len() as u32,
        waiting: halls.iter().map(|h| h.waiting).sum(),
        open_windows: halls.iter().map(|h| h.open_windows).sum(),
        red: halls.iter().map(|h| h.red.len() as u32).sum(),
        halls_red: halls.iter().filter(|h| !h.red.is_empty()).count() as u32,
    };
    Ok(Json(OverviewResponse {
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        halls,
        totals,
    }))
}
