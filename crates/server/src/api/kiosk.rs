//! The kiosk at the entrance (and the greeter): issue a ticket, requeue a
//! no-show (过号重排; a clerk may requeue too).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hallcall_core::{Command, Priority};

use crate::api::dto::*;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{ApiJson, Bearer};
use crate::api::{actor_of, events_response, random_id};
use crate::app::App;
use crate::auth::require_kiosk;

#[utoipa::path(post, path = "/api/v1/halls/{hall}/tickets", tag = "kiosk",
    params(("hall" = String, Path, description = "hall id")),
    request_body = IssueBody,
    responses((status = 201, body = IssueResponse),
        (status = 400, description = "bad JSON, bad priority", body = ErrorBody),
        (status = 401, description = "no or invalid token", body = ErrorBody),
        (status = 403, description = "not a kiosk token", body = ErrorBody),
        (status = 404, description = "unknown hall, category or appointment", body = ErrorBody),
        (status = 409, description = "hall closed, appointment used or too early", body = ErrorBody),
        (status = 429, description = "this kiosk token issues too fast (`issues_per_kiosk`); `Retry-After` says when to try again", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn issue_ticket(
    State(app): State<App>,
    Path(hall): Path<String>,
    Bearer(token): Bearer,
    ApiJson(body): ApiJson<IssueBody>,
) -> Result<Response, ApiError> {
    let role = app.role(&hall, token.as_deref()).await?;
    require_kiosk(&role)?;
    app.check_issue_rate(&hall, token.as_deref().unwrap_or_default())?;
    let entry = app.hall(&hall)?;
    // 96 random bits: unguessable, and 24 hex characters stay inline in the core.
    let id = random_id(12);
    let body_priority = body.priority.unwrap_or(Priority::Normal);
    let has_code = body.appointment_code.is_some();
    let cmd = Command::IssueTicket {
        id: id.clone(),
        category: body.category,
        priority: body.priority.unwrap_or(Priority::Normal),
        channel: body.channel.unwrap_or_default(),
        appointment_code: body.appointment_code,
    };
    entry.handle.command(cmd, actor_of(&role)).await?;
    let lookup = id.clone();
    let status = entry
        .handle
        .read(move |h, _| h.ticket_status(&lookup))
        .await?
        .ok_or_else(|| ApiError::internal("issued ticket not found"))?;
    let path = format!("/t/{}?hall={hall}", status.id);
    let (hall_cfg, note) = {
        let c = entry
            .config
            .read()
            .map_err(|_| ApiError::internal("configuration lock poisoned"))?;
        let note = match (body_priority, has_code) {
            (_, true) => Some("预约".to_string()),
            (Priority::Normal, _) => None,
            _ => Some("绿色通道".to_string()),
        };
        (c.clone(), note)
    };
    let status_url = crate::devices::absolute_url(&hall_cfg.public_url, &path);
    let devices = entry.devices.load_full();
    let kiosk = token.as_deref().unwrap_or_default();
    let (printed, printer_problem) = if devices.has_printer(kiosk) {
        let t = crate::devices::ticket_print(
            &hall_cfg,
            &status.number,
            &status.category_name,
            status.ahead.unwrap_or(0),
            status.estimated_wait_s,
            &status.issued_at,
            &path,
            note,
        );
        match devices.print(kiosk, &t, &entry.printer_warnings).await {
            Some(Ok(())) => (true, None),
            Some(Err(problem)) => (false, Some(problem)),
            None => (false, None),
        }
    } else {
        (false, None)
    };
    let resp = IssueResponse {
        status_url,
        printed,
        printer_problem,
        id: status.id,
        number: status.number,
        category: status.category,
        category_name: status.category_name,
        ahead: status.ahead.unwrap_or(0),
        estimated_wait_s: status.estimated_wait_s,
        issued_at: status.issued_at,
    };
    Ok((StatusCode::CREATED, Json(resp)).into_response())
}

#[utoipa::path(post, path = "/api/v1/halls/{hall}/tickets/{id}/requeue", tag = "kiosk",
    params(("hall" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = EventsResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "not a no-show", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn requeue(
    State(app): State<App>,
    Path((hall, id)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> Result<Json<EventsResponse>, ApiError> {
    let role = app.role(&hall, token.as_deref()).await?;
    let entry = app.hall(&hall)?;
    let evs = entry
        .handle
        .command(Command::Requeue { ticket: id }, actor_of(&role))
        .await?;
    Ok(events_response(evs))
}
