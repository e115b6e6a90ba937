//! The kiosk at the entrance (and the greeter): issue a ticket, check in an
//! appointment by its code alone (the booking knows its category), requeue
//! a no-show (过号重排; a clerk may requeue too).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hallcall_core::time::rfc3339;
use hallcall_core::{Command, HallConfig, Priority, Rejected};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::dto::*;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{ApiJson, Bearer};
use crate::api::{actor_of, events_response, random_id};
use crate::app::App;
use crate::auth::require_kiosk;
use crate::hall_task::CommandError;

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
    let note = match (body_priority, has_code) {
        (_, true) => Some("预约".to_string()),
        (Priority::Normal, _) => None,
        _ => Some("绿色通道".to_string()),
    };
    let resp = issued(entry, &hall, token.as_deref().unwrap_or_default(), id, note).await?;
    Ok((StatusCode::CREATED, Json(resp)).into_response())
}

/// After a ticket is issued: its status, the status link, and the kiosk's
/// printer (when it has one).
async fn issued(
    entry: &crate::app::HallEntry,
    hall: &str,
    kiosk: &str,
    id: String,
    note: Option<String>,
) -> Result<IssueResponse, ApiError> {
    let lookup = id.clone();
    let status = entry
        .handle
        .read(move |h, _| h.ticket_status(&lookup))
        .await?
        .ok_or_else(|| ApiError::internal("issued ticket not found"))?;
    let path = format!("/t/{}?hall={hall}", status.id);
    let hall_cfg = entry
        .config
        .read()
        .map_err(|_| ApiError::internal("configuration lock poisoned"))?
        .clone();
    let status_url = crate::devices::absolute_url(&hall_cfg.public_url, &path);
    let devices = entry.devices.load_full();
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
    Ok(IssueResponse {
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
    })
}

/// When an appointment may be checked in, as the kiosk says it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInWindow {
    /// RFC 3339 start of the booked slot.
    pub slot_start: String,
    /// Check-in opens (15 minutes before the slot), RFC 3339.
    pub check_in_from: String,
    /// Check-in with priority closes (15 minutes after the slot), RFC 3339;
    /// later the same day the ticket is a normal one.
    pub check_in_until: String,
    /// The same three, in the hall's time zone for the screen (`11月30日 10:00`).
    pub local: String,
    /// Checked in after `check_in_until`: queued as a normal ticket.
    pub late: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInResponse {
    #[serde(flatten)]
    pub ticket: IssueResponse,
    pub appointment: CheckInWindow,
}

fn check_in_window(cfg: &HallConfig, slot_start: i64, late: bool) -> CheckInWindow {
    use chrono::TimeZone;
    let grace = hallcall_core::hall::CHECK_IN_GRACE;
    let fmt = |at: i64, f: &str| match chrono::Utc.timestamp_millis_opt(at).single() {
        Some(t) => t.with_timezone(&cfg.timezone).format(f).to_string(),
        None => String::new(),
    };
    CheckInWindow {
        slot_start: rfc3339(slot_start),
        check_in_from: rfc3339(slot_start - grace),
        check_in_until: rfc3339(slot_start + grace),
        local: format!(
            "预约时段 {}，签到时间 {} 至 {}",
            fmt(slot_start, "%-m月%-d日 %H:%M"),
            fmt(slot_start - grace, "%H:%M"),
            fmt(slot_start + grace, "%H:%M")
        ),
        late,
    }
}

#[utoipa::path(post, path = "/api/v1/halls/{hall}/appointments/{code}/check-in", tag = "kiosk",
    params(("hall" = String, Path, description = "hall id"), ("code" = String, Path, description = "the appointment code (its category comes with it)")),
    responses((status = 201, description = "the ticket, as `POST /tickets`, with `appointment` {slot_start, check_in_from, check_in_until, local, late}", body = CheckInResponse),
        (status = 401, description = "no or invalid token", body = ErrorBody),
        (status = 403, description = "not a kiosk token", body = ErrorBody),
        (status = 404, description = "`unknown_appointment`", body = ErrorBody),
        (status = 409, description = "`appointment_too_early`, `appointment_expired` (the error also has `slot_start`, `check_in_from`, `check_in_until`, `local`), `appointment_used`, `hall_closed`", body = ErrorBody),
        (status = 429, description = "this kiosk token issues too fast", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn check_in(
    State(app): State<App>,
    Path((hall, code)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> Result<Response, ApiError> {
    let role = app.role(&hall, token.as_deref()).await?;
    require_kiosk(&role)?;
    app.check_issue_rate(&hall, token.as_deref().unwrap_or_default())?;
    let entry = app.hall(&hall)?;
    let code = code.trim().to_uppercase();
    let lookup = code.clone();
    let (category, slot_start) = entry
        .handle
        .read(move |h, _| {
            h.appointment(&lookup)
                .map(|a| (a.category.clone(), a.slot_start))
        })
        .await?
        .ok_or_else(|| {
            ApiError::not_found("unknown_appointment", "没有这个预约码，请核对后重新输入")
        })?;
    let cfg = entry
        .config
        .read()
        .map_err(|_| ApiError::internal("configuration lock poisoned"))?
        .clone();
    let id = random_id(12);
    let cmd = Command::IssueTicket {
        id: id.clone(),
        category,
        priority: Priority::Normal,
        channel: hallcall_core::Channel::Kiosk,
        appointment_code: Some(code),
    };
    match entry.handle.command(cmd, actor_of(&role)).await {
        Ok(evs) => {
            let late = evs.iter().any(|e| {
                matches!(
                    e.kind,
                    hallcall_core::EventKind::TicketIssued {
                        appointment_late: true,
                        ..
                    }
                )
            });
            let ticket = issued(
                entry,
                &hall,
                token.as_deref().unwrap_or_default(),
                id,
                Some("预约".to_string()),
            )
            .await?;
            let resp = CheckInResponse {
                ticket,
                appointment: check_in_window(&cfg, slot_start, late),
            };
            Ok((StatusCode::CREATED, Json(resp)).into_response())
        }
        Err(CommandError::Rejected(
            r @ (Rejected::AppointmentTooEarly | Rejected::AppointmentExpired),
        )) => {
            // Says when check-in opens (or was): the kiosk shows it.
            let w = check_in_window(&cfg, slot_start, false);
            let message = match r {
                Rejected::AppointmentTooEarly => format!("未到签到时间：{}", w.local),
                _ => format!("预约已过期：{}。请重新取号或预约", w.local),
            };
            let body = serde_json::json!({"error": {
                "code": r.code(),
                "message": message,
                "slot_start": w.slot_start,
                "check_in_from": w.check_in_from,
                "check_in_until": w.check_in_until,
                "local": w.local,
            }});
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
        Err(e) => Err(e.into()),
    }
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
