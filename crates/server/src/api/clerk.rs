//! The clerk at a window: log in, work the window (call-next, recall,
//! no-show, start, complete, transfer, pause, resume, handover, logout), see
//! the window's queue and the clerk's own figures. A clerk token works only
//! for its own window.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hallcall_core::stats::DayStats;
use hallcall_core::{Actor, Command, EventKind, PauseReason};

use crate::api::dto::*;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{ApiJson, Bearer, OptJson};
use crate::api::{actor_of, business_date, day_events, events_response, parse_window, supervisor};
use crate::app::App;
use crate::auth::require_clerk_of;

#[utoipa::path(post, path = "/api/v1/halls/{hall}/sessions", tag = "clerk",
    params(("hall" = String, Path)), request_body = LoginBody,
    responses((status = 200, body = LoginResponse),
        (status = 401, description = "unknown staff or wrong PIN", body = ErrorBody),
        (status = 403, description = "not a post of this window", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "logged in elsewhere, window full", body = ErrorBody),
        (status = 429, description = "too many failed logins from this address (`rate_limited`), or this staff id is locked after 5 wrong PINs (`staff_locked`); `Retry-After` says when to try again", body = ErrorBody),
        (status = 503, description = "the session could not be stored", body = ErrorBody)))]
pub async fn login(
    State(app): State<App>,
    Path(hall): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Json<LoginResponse>, ApiError> {
    let entry = app.hall(&hall)?;
    let name = app
        .check_pin(&hall, entry, peer.ip(), &body.staff, &body.pin)
        .await?;
    let cmd = Command::Login {
        staff: body.staff.clone(),
        window: body.window,
    };
    entry
        .handle
        .command(cmd, Actor::staff(body.staff.clone()))
        .await?;
    let s = body.staff.clone();
    let (seat, date) = entry
        .handle
        .read(move |h, _| (h.staff_location(&s), h.business_date()))
        .await?;
    let duty = seat
        .map(|(_, d)| match d {
            hallcall_core::Duty::OnDuty => "on_duty",
            hallcall_core::Duty::Standby => "standby",
        })
        .unwrap_or("on_duty");
    // The login is durable; this session replaces any earlier one of the clerk.
    let nonce = app
        .sessions
        .begin(&hall, &body.staff, body.window, date)
        .await
        .map_err(session_store_failed)?;
    Ok(Json(LoginResponse {
        token: app.key.issue(&hall, &body.staff, body.window, &nonce),
        staff: body.staff,
        name,
        window: body.window,
        duty: duty.into(),
    }))
}

pub(crate) fn session_store_failed(e: crate::sessions::SessionsError) -> ApiError {
    if let crate::sessions::SessionsError::NotOwner(_) = e {
        // Several nodes: this node lost the hall before the session was
        // written; the cluster layer retries at the owner (a repeated login
        // at the same window changes nothing in the hall).
        return crate::hall_task::CommandError::NotOwner.into();
    }
    tracing::error!(error = %e, "session table");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "session_store_failed",
        "the session table could not be written; try again",
    )
}

#[utoipa::path(post, path = "/api/v1/halls/{hall}/windows/{n}/{action}", tag = "clerk",
    params(("hall" = String, Path), ("n" = u32, Path, description = "window number"),
        ("action" = String, Path, description = "call-next, call {number} (指定叫号: a waiting ticket this window may serve, or one held here), recall, no-show, start, complete {next_category?} (多窗联办), hold (挂起), transfer, pause, resume, handover, logout (clerk of the window); open, close (supervisor)")),
    request_body(content = ActionBody, description = "call {number}; complete {next_category?}; transfer {category?, window?}; pause {reason}; open {staff}"),
    responses((status = 200, description = "call-next and call: CallResponse; others: EventsResponse", body = EventsResponse),
        (status = 204, description = "call-next: nothing waits"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn window_action(
    State(app): State<App>,
    Path((hall, n, action)): Path<(String, String, String)>,
    Bearer(token): Bearer,
    OptJson(body): OptJson<ActionBody>,
) -> Result<Response, ApiError> {
    let entry = app.hall(&hall)?;
    let window = parse_window(&n)?;
    let role = app.role(&hall, token.as_deref()).await?;
    if action == "open" || action == "close" {
        return supervisor::open_or_close(entry, &role, window, &action, body).await;
    }
    let staff = require_clerk_of(&role, window)?;
    let cmd = match action.as_str() {
        "call-next" => Command::CallNext { window },
        "call" => match body.number {
            Some(number) => Command::CallNumber { window, number },
            None => {
                return Err(ApiError::bad_request(
                    "missing_number",
                    "call needs {\"number\": \"A012\"} (call-next calls the next in line)",
                ))
            }
        },
        "hold" => Command::Hold { window },
        "complete" => match body.next_category {
            Some(next_category) => Command::CompleteAndSend {
                window,
                next_category,
            },
            None => Command::Complete { window },
        },
        "recall" => Command::Recall { window },
        "no-show" => Command::NoShow { window },
        "start" => Command::Start { window },
        "transfer" => Command::Transfer {
            window,
            category: body.category,
            to_window: body.window,
        },
        "pause" => match body.reason {
            Some(PauseReason::NoStaff) | None => {
                return Err(ApiError::bad_request(
                    "bad_reason",
                    "pause needs {\"reason\": \"leave\"|\"meeting\"|\"break\"|\"other\"}",
                ))
            }
            Some(reason) => Command::Pause { window, reason },
        },
        "resume" => Command::Resume { window },
        "handover" => Command::Handover { window },
        "logout" => Command::Logout {
            staff: staff.clone(),
            window,
        },
        other => {
            return Err(ApiError::not_found(
                "unknown_action",
                format!("no window action {other:?}"),
            ))
        }
    };
    let is_call = matches!(cmd, Command::CallNext { .. } | Command::CallNumber { .. });
    let is_logout = matches!(cmd, Command::Logout { .. });
    let evs = entry.handle.command(cmd, actor_of(&role)).await?;
    if is_logout {
        match app.sessions.end(&hall, &staff).await {
            Ok(_) => {}
            // The logout is durable and the clerk no longer seated, which
            // alone refuses the token; the session row the new owner keeps
            // is replaced at the clerk's next login.
            Err(crate::sessions::SessionsError::NotOwner(_)) => {
                tracing::warn!(
                    hall,
                    staff,
                    "logged out, but the hall moved before the session was ended here"
                );
            }
            Err(e) => return Err(session_store_failed(e)),
        }
    }
    if !is_call {
        return Ok(events_response(evs).into_response());
    }
    let called = evs.iter().find_map(|e| match &e.kind {
        EventKind::TicketCalled {
            ticket,
            number,
            category,
            window,
            ..
        } => Some(CallResponse {
            ticket: CalledTicket {
                id: ticket.clone(),
                number: number.clone(),
                category: category.clone(),
            },
            window: *window,
        }),
        _ => None,
    });
    Ok(match called {
        Some(c) => Json(c).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

#[utoipa::path(get, path = "/api/v1/halls/{hall}/windows/{n}/queue", tag = "clerk",
    params(("hall" = String, Path), ("n" = u32, Path)),
    responses((status = 200, description = "QueueEntry list in call order", body = [Object]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn window_queue(
    State(app): State<App>,
    Path((hall, n)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> Result<Response, ApiError> {
    let entry = app.hall(&hall)?;
    let window = parse_window(&n)?;
    let role = app.role(&hall, token.as_deref()).await?;
    require_clerk_of(&role, window)?;
    let q = entry
        .handle
        .read(move |h, now| h.window_queue(window, 200, now))
        .await?;
    match q {
        Some(q) => Ok(Json(q).into_response()),
        None => Err(ApiError::not_found(
            "unknown_window",
            format!("no window {window}"),
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/halls/{hall}/windows/{n}/stats", tag = "clerk",
    params(("hall" = String, Path), ("n" = u32, Path)),
    responses((status = 200, description = "today's figures of the clerk holding the token, and the window's (all its clerks) under `window`", body = Object),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn window_stats(
    State(app): State<App>,
    Path((hall, n)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> Result<Response, ApiError> {
    let window = parse_window(&n)?;
    let role = app.role(&hall, token.as_deref()).await?;
    let staff = require_clerk_of(&role, window)?;
    let date = business_date(&app, &hall).await?;
    let events = day_events(&app, &hall, date).await?;
    let stats = DayStats::from_events(&events);
    let own = stats.by_staff.get(&staff).cloned().unwrap_or_default();
    let whole = stats.by_window.get(&window).cloned().unwrap_or_default();
    let mut body = serde_json::to_value(own).unwrap_or_default();
    if let Some(o) = body.as_object_mut() {
        // The person's own figures stay at the top level; the window's
        // (every clerk who worked it today) sit beside them.
        o.insert(
            "window".into(),
            serde_json::to_value(whole).unwrap_or_default(),
        );
    }
    Ok(Json(body).into_response())
}
