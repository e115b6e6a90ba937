//! The window evaluator (评价器, issue 16 item 2): a tablet facing the
//! citizen at each window, with that window's `evaluator_token`. It shows
//! the clerk on duty and the ticket being served, takes the 好差评 rating
//! once the service is done (one rating per ticket, from the evaluator or
//! the phone: the core refuses a second), and idle shows the window's
//! satisfaction today. Also the public facts a window display shows
//! (window name, 工号, photo, 监督电话) and the staff photos.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hallcall_core::{Actor, Command, HallConfig, TicketState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::dto::EventsResponse;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::events_response;
use crate::api::extract::{ApiJson, Bearer};
use crate::app::{App, HallEntry};

/// A rating offered for this long after the service ended, while the window
/// has not called the next ticket.
const RATE_WITHIN_MS: i64 = 10 * 60 * 1000;

/// A staff member as displays show them.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StaffCard {
    pub id: String,
    pub name: String,
    /// 工号; empty when not configured.
    pub staff_no: String,
    /// `/api/v1/halls/{hall}/staff/{id}/photo` when a photo is configured.
    pub photo_url: Option<String>,
}

/// A ticket as the evaluator shows it (no personal data).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EvalTicket {
    pub id: String,
    pub number: String,
    pub category_name: String,
    /// `called`, `serving`, `done`.
    pub state: String,
}

/// Ratings at this window today.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Satisfaction {
    pub ratings: u32,
    /// Mean score (1–5); null without ratings.
    pub mean: Option<f64>,
    /// Share of 非常满意 and 满意 (4–5); null without ratings.
    pub satisfied_share: Option<f64>,
    /// Count per score, 1 (非常不满意) to 5 (非常满意).
    pub by_score: [u32; 5],
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EvaluatorView {
    pub hall: String,
    pub hall_name: String,
    pub timezone: String,
    pub window: u32,
    /// The window's configured name, or "{n}号窗口".
    pub window_name: String,
    /// `closed`, `open`, `calling`, `serving`, `paused`.
    pub window_state: String,
    pub supervision_phone: String,
    /// On duty now.
    pub clerk: Option<StaffCard>,
    /// Called or being served here now.
    pub ticket: Option<EvalTicket>,
    /// Done here in the last 10 minutes, not rated yet, and the window has
    /// not called the next: the evaluator asks for its rating.
    pub to_rate: Option<EvalTicket>,
    pub today: Satisfaction,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EvaluatorRatingBody {
    /// The ticket id (`to_rate.id`).
    pub ticket: String,
    /// 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.
    pub score: u8,
    /// Common reasons (`long_wait`, `slow`, `attitude`, `unskilled`,
    /// `not_told_at_once`, `unclear_materials`, `other`); 1 and 2 need one
    /// of them or a `reason` text.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// The citizen's own words, at most 200 characters.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a window display shows about its window besides the live state.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WindowInfo {
    pub window: u32,
    pub window_name: String,
    pub supervision_phone: String,
    /// The window's A post and B post (the view says who is on duty).
    pub staff: Vec<StaffCard>,
}

fn window_name(cfg: &HallConfig, n: u32) -> String {
    cfg.window(n)
        .map(|w| w.name.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("{n}号窗口"))
}

fn card(cfg: &HallConfig, id: &str) -> StaffCard {
    let s = cfg.staff(id);
    StaffCard {
        id: id.to_string(),
        name: s.map(|s| s.name.clone()).unwrap_or_else(|| id.to_string()),
        staff_no: s.map(|s| s.staff_no.clone()).unwrap_or_default(),
        photo_url: s
            .and_then(|s| s.photo.as_ref())
            .map(|_| format!("/api/v1/halls/{}/staff/{id}/photo", cfg.id)),
    }
}

fn config(entry: &HallEntry) -> Result<HallConfig, ApiError> {
    entry
        .config
        .read()
        .map(|c| c.clone())
        .map_err(|_| ApiError::internal("configuration lock poisoned"))
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The window's evaluator token, or 401/403/404.
fn check_evaluator(cfg: &HallConfig, n: u32, token: Option<&str>) -> Result<(), ApiError> {
    let w = cfg
        .window(n)
        .ok_or_else(|| ApiError::not_found("unknown_window", format!("no window {n}")))?;
    let token = token.ok_or_else(|| ApiError::unauthorized("the evaluator token is missing"))?;
    match &w.evaluator_token {
        Some(t) if same(t, token) => Ok(()),
        Some(_) => Err(ApiError::forbidden(format!(
            "not the evaluator token of window {n}"
        ))),
        None => Err(ApiError::forbidden(format!(
            "window {n} has no evaluator (evaluator_token in its [[hall.window]])"
        ))),
    }
}

fn state_name<T: Serialize>(s: &T) -> String {
    match serde_json::to_value(s) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(m)) => match m.get("state").and_then(|v| v.as_str()) {
            Some(s) => s.to_string(),
            None => m.keys().next().cloned().unwrap_or_default(),
        },
        _ => String::new(),
    }
}

#[utoipa::path(get, path = "/api/v1/halls/{hall}/windows/{n}/evaluator", tag = "evaluator",
    params(("hall" = String, Path), ("n" = u32, Path, description = "window number")),
    responses((status = 200, body = EvaluatorView),
        (status = 401, description = "no token", body = ErrorBody),
        (status = 403, description = "not this window's evaluator token", body = ErrorBody),
        (status = 404, description = "unknown hall or window", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn view(
    State(app): State<App>,
    Path((hall, n)): Path<(String, u32)>,
    Bearer(token): Bearer,
) -> Result<Json<EvaluatorView>, ApiError> {
    let entry = app.hall(&hall)?;
    let cfg = config(entry)?;
    check_evaluator(&cfg, n, token.as_deref())?;
    let cfg2 = cfg.clone();
    let v = entry
        .handle
        .read(move |h, now| {
            let cat_name = |id: &str| {
                cfg2.category(id)
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| id.to_string())
            };
            let eval = |t: &hallcall_core::model::Ticket| EvalTicket {
                id: t.id.to_string(),
                number: t.number.to_string(),
                category_name: cat_name(&t.category),
                state: state_name(&t.state),
            };
            let w = h.window(n);
            let current = w
                .and_then(|w| w.current)
                .and_then(|s| h.ticket_by_serial(s))
                .filter(|t| matches!(t.state, TicketState::Called | TicketState::Serving));
            let mut by_score = [0u32; 5];
            let mut last_done: Option<&hallcall_core::model::Ticket> = None;
            for t in h.tickets().filter(|t| t.window == Some(n)) {
                if let Some(r) = t.rating {
                    if (1..=5).contains(&r) {
                        by_score[usize::from(r) - 1] += 1;
                    }
                }
                if t.state == TicketState::Done
                    && t.finished_at
                        .is_some_and(|f| f > last_done.and_then(|d| d.finished_at).unwrap_or(0))
                {
                    last_done = Some(t);
                }
            }
            let to_rate = last_done
                .filter(|_| current.is_none())
                .filter(|t| t.rating.is_none())
                .filter(|t| t.finished_at.is_some_and(|f| now - f <= RATE_WITHIN_MS))
                .map(eval);
            let ratings: u32 = by_score.iter().sum();
            let sum: u32 = by_score
                .iter()
                .enumerate()
                .map(|(i, c)| (i as u32 + 1) * c)
                .sum();
            let today = Satisfaction {
                ratings,
                mean: (ratings > 0).then(|| f64::from(sum) / f64::from(ratings)),
                satisfied_share: (ratings > 0)
                    .then(|| f64::from(by_score[3] + by_score[4]) / f64::from(ratings)),
                by_score,
            };
            (
                w.map(|w| state_name(&w.state)).unwrap_or_default(),
                w.and_then(|w| w.on_duty.as_ref().map(|s| s.staff.clone())),
                current.map(eval),
                to_rate,
                today,
            )
        })
        .await?;
    let (window_state, on_duty, ticket, to_rate, today) = v;
    Ok(Json(EvaluatorView {
        hall: cfg.id.clone(),
        hall_name: cfg.name.clone(),
        timezone: cfg.timezone.name().to_string(),
        window: n,
        window_name: window_name(&cfg, n),
        window_state,
        supervision_phone: cfg.supervision_phone.clone(),
        clerk: on_duty.map(|s| card(&cfg, &s)),
        ticket,
        to_rate,
        today,
    }))
}

#[utoipa::path(post, path = "/api/v1/halls/{hall}/windows/{n}/evaluator/rating", tag = "evaluator",
    params(("hall" = String, Path), ("n" = u32, Path, description = "window number")),
    request_body = EvaluatorRatingBody,
    responses((status = 200, body = EventsResponse),
        (status = 400, description = "`bad_score`, `reason_required` (1 and 2), `reason_too_long`, `unknown_reason`", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not this window's evaluator token", body = ErrorBody),
        (status = 404, description = "unknown hall, window or ticket", body = ErrorBody),
        (status = 409, description = "`not_this_window`, `not_done`, `already_rated` (by the evaluator or the phone)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rate(
    State(app): State<App>,
    Path((hall, n)): Path<(String, u32)>,
    Bearer(token): Bearer,
    ApiJson(body): ApiJson<EvaluatorRatingBody>,
) -> Result<Json<EventsResponse>, ApiError> {
    let entry = app.hall(&hall)?;
    let cfg = config(entry)?;
    check_evaluator(&cfg, n, token.as_deref())?;
    let id = body.ticket.clone();
    let served_here = entry
        .handle
        .read(move |h, _| h.ticket(&id).map(|t| t.window))
        .await?
        .ok_or_else(|| ApiError::not_found("unknown_ticket", "no such ticket"))?;
    if served_here != Some(n) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_this_window",
            format!("the ticket was not served at window {n}"),
        ));
    }
    // The score and its reason are checked by the core (hall::rating),
    // the same for the evaluator and the phone.
    let evs = entry
        .handle
        .command(
            Command::Rate {
                ticket: body.ticket,
                score: body.score,
                reason: hallcall_core::hall::RatingReason {
                    codes: body.reasons,
                    text: body.reason.unwrap_or_default(),
                },
            },
            Actor::Public,
        )
        .await?;
    Ok(events_response(evs))
}

#[utoipa::path(get, path = "/api/v1/halls/{hall}/windows/{n}/info", tag = "public",
    params(("hall" = String, Path), ("n" = u32, Path, description = "window number")),
    responses((status = 200, body = WindowInfo), (status = 404, body = ErrorBody)))]
pub async fn window_info(
    State(app): State<App>,
    Path((hall, n)): Path<(String, u32)>,
) -> Result<Json<WindowInfo>, ApiError> {
    let entry = app.hall(&hall)?;
    let cfg = config(entry)?;
    let w = cfg
        .window(n)
        .ok_or_else(|| ApiError::not_found("unknown_window", format!("no window {n}")))?;
    let mut staff = vec![card(&cfg, &w.a_post)];
    if let Some(b) = &w.b_post {
        staff.push(card(&cfg, b));
    }
    Ok(Json(WindowInfo {
        window: n,
        window_name: window_name(&cfg, n),
        supervision_phone: cfg.supervision_phone.clone(),
        staff,
    }))
}

#[utoipa::path(get, path = "/api/v1/halls/{hall}/staff/{staff}/photo", tag = "public",
    params(("hall" = String, Path), ("staff" = String, Path, description = "staff id")),
    responses((status = 200, description = "the photo (JPEG, PNG or WebP)"),
        (status = 404, description = "unknown staff, no photo configured, or the file cannot be read", body = ErrorBody)))]
pub async fn staff_photo(
    State(app): State<App>,
    Path((hall, staff)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let entry = app.hall(&hall)?;
    let cfg = config(entry)?;
    let path = cfg
        .staff(&staff)
        .and_then(|s| s.photo.clone())
        .ok_or_else(|| ApiError::not_found("no_photo", format!("no photo for staff {staff:?}")))?;
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        tracing::warn!(staff = %staff, path = %path, error = %e, "staff photo cannot be read");
        ApiError::not_found(
            "no_photo",
            format!("the photo of staff {staff:?} cannot be read"),
        )
    })?;
    let mime = mime_guess::from_path(&path).first_or_octet_stream();
    Ok((
        [
            (header::CONTENT_TYPE, mime.as_ref().to_string()),
            (header::CACHE_CONTROL, "public, max-age=300".to_string()),
        ],
        bytes,
    )
        .into_response())
}
