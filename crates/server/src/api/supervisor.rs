//! The supervisor: open and close windows, act on tidal advice, statistics
//! as JSON or CSV.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hallcall_core::{Actor, Command};

use crate::api::dto::*;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::Bearer;
use crate::api::{actor_of, events_response};
use crate::app::{App, HallEntry};
use crate::auth::{require_supervisor, Role};
use crate::limits::LockInfo;

/// `POST /windows/{n}/open {staff}` and `/windows/{n}/close` (the route is
/// shared with the clerk's actions, see `clerk::window_action`).
pub async fn open_or_close(
    entry: &HallEntry,
    role: &Role,
    window: u32,
    action: &str,
    body: ActionBody,
) -> Result<Response, ApiError> {
    require_supervisor(role)?;
    let cmd = if action == "open" {
        let staff = body.staff.ok_or_else(|| {
            ApiError::bad_request("missing_staff", "open needs {\"staff\": \"<id>\"}")
        })?;
        Command::OpenWindow { window, staff }
    } else {
        Command::CloseWindow { window }
    };
    let evs = entry.handle.command(cmd, actor_of(role)).await?;
    Ok(events_response(evs).into_response())
}

#[utoipa::path(post, path = "/api/v1/halls/{hall}/advice/{id}/{action}", tag = "supervisor",
    params(("hall" = String, Path), ("id" = u64, Path), ("action" = String, Path, description = "accept or dismiss")),
    responses((status = 200, body = EventsResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn advice(
    State(app): State<App>,
    Path((hall, id, action)): Path<(String, String, String)>,
    Bearer(token): Bearer,
) -> Result<Json<EventsResponse>, ApiError> {
    let entry = app.hall(&hall)?;
    let role = app.role(&hall, token.as_deref()).await?;
    require_supervisor(&role)?;
    let advice: u64 = id
        .parse()
        .map_err(|_| ApiError::bad_request("bad_advice", "advice id must be a number"))?;
    let cmd = match action.as_str() {
        "accept" => Command::AcceptAdvice { advice },
        "dismiss" => Command::DismissAdvice { advice },
        other => {
            return Err(ApiError::not_found(
                "unknown_action",
                format!("no advice action {other:?}"),
            ))
        }
    };
    Ok(events_response(
        entry.handle.command(cmd, Actor::Supervisor).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/halls/{hall}/stats", tag = "supervisor",
    params(("hall" = String, Path),
        ("date" = Option<String>, Query, description = "YYYY-MM-DD business date (one day; today by default)"),
        ("from" = Option<String>, Query, description = "YYYY-MM-DD: a report over the business days from..=to (at most 366)"),
        ("to" = Option<String>, Query, description = "YYYY-MM-DD, with from; today by default"),
        ("format" = Option<String>, Query, description = "csv or json; else `Accept: text/csv` picks CSV")),
    responses((status = 200, description = "One day: {hall, date, stats: DayStats, names}; a range: {hall, from, to, total, days: [{date, ...DayStats}], names}. CSV (UTF-8 with BOM, Chinese headers) with `Accept: text/csv` or `format=csv`", body = Object),
        (status = 400, description = "`bad_date`, `bad_from`, `bad_to`, `bad_range` (reversed, over 366 days, date with from/to), `bad_format`", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn stats(
    State(app): State<App>,
    Path(hall): Path<String>,
    Query(q): Query<StatsQuery>,
    Bearer(token): Bearer,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let role = app.role(&hall, token.as_deref()).await?;
    require_supervisor(&role)?;
    crate::api::reports::stats(&app, &hall, &q, &headers).await
}

#[utoipa::path(get, path = "/api/v1/halls/{hall}/lockouts", tag = "supervisor",
    params(("hall" = String, Path)),
    responses((status = 200, description = "staff ids locked after too many wrong PINs", body = [LockInfo]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn lockouts(
    State(app): State<App>,
    Path(hall): Path<String>,
    Bearer(token): Bearer,
) -> Result<Json<Vec<LockInfo>>, ApiError> {
    let role = app.role(&hall, token.as_deref()).await?;
    require_supervisor(&role)?;
    Ok(Json(app.limits.staff.locked(&hall)))
}

#[utoipa::path(post, path = "/api/v1/halls/{hall}/staff/{staff}/{action}", tag = "supervisor",
    params(("hall" = String, Path), ("staff" = String, Path, description = "staff id"),
        ("action" = String, Path, description = "`unlock` lifts a PIN lockout; `end-session` ends the clerk's token for good and logs the clerk out when the window allows it")),
    responses((status = 200, body = StaffActionResponse),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "unknown hall, staff or action", body = ErrorBody),
        (status = 409, description = "`not_locked`, `not_logged_in`", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn staff_action(
    State(app): State<App>,
    Path((hall, staff, action)): Path<(String, String, String)>,
    Bearer(token): Bearer,
) -> Result<Json<StaffActionResponse>, ApiError> {
    let entry = app.hall(&hall)?;
    let role = app.role(&hall, token.as_deref()).await?;
    require_supervisor(&role)?;
    let known = entry
        .config
        .read()
        .map_err(|_| ApiError::internal("config lock"))?
        .staff(&staff)
        .is_some();
    if !known {
        return Err(ApiError::not_found(
            "unknown_staff",
            format!("no staff {staff:?} in this hall"),
        ));
    }
    match action.as_str() {
        "unlock" => {
            if !app.limits.staff.unlock(&hall, &staff) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "not_locked",
                    format!("{staff} is not locked"),
                ));
            }
            tracing::info!(hall, staff, "staff id unlocked by the supervisor");
            Ok(Json(StaffActionResponse {
                staff,
                unlocked: true,
                session_ended: false,
                logged_out: false,
                message: "unlocked".into(),
            }))
        }
        "end-session" => {
            let s = staff.clone();
            let seat = entry.handle.read(move |h, _| h.staff_location(&s)).await?;
            let had = app
                .sessions
                .end(&hall, &staff)
                .await
                .map_err(crate::api::clerk::session_store_failed)?;
            if !had && seat.is_none() {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "not_logged_in",
                    format!("{staff} has no session"),
                ));
            }
            let (logged_out, message) = match seat {
                None => (false, "session ended".to_string()),
                Some((window, _)) => match entry
                    .handle
                    .command(
                        Command::Logout {
                            staff: staff.clone(),
                            window,
                        },
                        Actor::Supervisor,
                    )
                    .await
                {
                    Ok(_) => (
                        true,
                        format!("session ended; logged out of window {window}"),
                    ),
                    Err(e) => (
                        false,
                        format!("session ended; still seated at window {window}: {e}"),
                    ),
                },
            };
            tracing::info!(
                hall,
                staff,
                logged_out,
                "clerk session ended by the supervisor"
            );
            Ok(Json(StaffActionResponse {
                staff,
                unlocked: false,
                session_ended: true,
                logged_out,
                message,
            }))
        }
        other => Err(ApiError::not_found(
            "unknown_action",
            format!("no staff action {other:?} (unlock, end-session)"),
        )),
    }
}

/// What the supervisor sees of a hall's devices.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct DevicesResponse {
    /// How many `[[hall.printer]]` the hall has.
    pub printers: usize,
    /// Printers with a problem now (paper out, cover open, offline, paper
    /// nearly used up), from the last poll or ticket.
    pub printer_warnings: Vec<crate::devices::PrinterWarning>,
    /// The hall's `public_url` (base of printed QR codes and `status_url`);
    /// empty when not configured.
    pub public_url: String,
    /// Why printed links will not open on a citizen's phone: `{"code":
    /// "missing"}` (no `public_url`: links use the address the kiosk
    /// used), `loopback` or `private` (with `host`); null when fine.
    #[schema(value_type = Option<Object>)]
    pub public_url_problem: Option<hallcall_core::links::LinkProblem>,
}

#[utoipa::path(get, path = "/api/v1/halls/{hall}/devices", tag = "supervisor",
    params(("hall" = String, Path)),
    responses((status = 200, description = "printer problems (polled every 30 s and on every ticket)", body = DevicesResponse),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn devices(
    State(app): State<App>,
    Path(hall): Path<String>,
    Bearer(token): Bearer,
) -> Result<Json<DevicesResponse>, ApiError> {
    let entry = app.hall(&hall)?;
    let role = app.role(&hall, token.as_deref()).await?;
    require_supervisor(&role)?;
    let (printers, public_url) = {
        let c = entry
            .config
            .read()
            .map_err(|_| ApiError::internal("config lock"))?;
        (c.printers.len(), c.public_url.clone())
    };
    let public_url_problem = hallcall_core::links::public_url_problem(&public_url);
    let printer_warnings = entry
        .printer_warnings
        .lock()
        .map_err(|_| ApiError::internal("printer warnings lock"))?
        .values()
        .cloned()
        .collect();
    Ok(Json(DevicesResponse {
        printers,
        printer_warnings,
        public_url,
        public_url_problem,
    }))
}

#[utoipa::path(get, path = "/api/v1/halls/{hall}/notices", tag = "public",
    params(("hall" = String, Path)),
    responses((status = 200, description = "{notices: [{id, text, starts_at, ends_at, showing}]}: every notice not yet ended, by id", body = Object),
        (status = 404, body = ErrorBody)))]
pub async fn notices(
    State(app): State<App>,
    Path(hall): Path<String>,
) -> Result<Response, ApiError> {
    let entry = app.hall(&hall)?;
    let list = entry.handle.read(|h, now| h.notice_views(now)).await?;
    Ok(Json(serde_json::json!({ "notices": list })).into_response())
}

#[utoipa::path(post, path = "/api/v1/halls/{hall}/notices", tag = "supervisor",
    params(("hall" = String, Path)), request_body = NoticeBody,
    responses((status = 201, description = "{notice: {id, text, starts_at, ends_at, showing}}", body = Object),
        (status = 400, description = "`bad_notice` (empty or over 200 characters, ends before it starts or in the past), `bad_time`", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_notice(
    State(app): State<App>,
    Path(hall): Path<String>,
    Bearer(token): Bearer,
    crate::api::extract::ApiJson(body): crate::api::extract::ApiJson<NoticeBody>,
) -> Result<Response, ApiError> {
    let entry = app.hall(&hall)?;
    let role = app.role(&hall, token.as_deref()).await?;
    require_supervisor(&role)?;
    let time = |field: &str, v: &str| {
        hallcall_core::time::parse_rfc3339(v).ok_or_else(|| {
            ApiError::bad_request(
                "bad_time",
                format!("{field} must be RFC 3339, e.g. 2026-11-24T15:00:00+08:00"),
            )
        })
    };
    let ends_at = time("ends_at", &body.ends_at)?;
    let starts_at = match &body.starts_at {
        Some(s) => Some(time("starts_at", s)?),
        None => None,
    };
    let cmd = |now| Command::AddNotice {
        text: body.text.clone(),
        starts_at: starts_at.unwrap_or(now),
        ends_at,
    };
    let evs = entry
        .handle
        .command(cmd(crate::hall_task::now_ms()), actor_of(&role))
        .await?;
    let id = evs.iter().find_map(|e| match &e.kind {
        hallcall_core::EventKind::NoticeAdded { notice, .. } => Some(*notice),
        _ => None,
    });
    let list = entry.handle.read(|h, now| h.notice_views(now)).await?;
    let notice = list.into_iter().find(|n| Some(n.id) == id);
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "notice": notice })),
    )
        .into_response())
}

#[utoipa::path(delete, path = "/api/v1/halls/{hall}/notices/{id}", tag = "supervisor",
    params(("hall" = String, Path), ("id" = u64, Path)),
    responses((status = 200, description = "`notice_removed`", body = EventsResponse),
        (status = 400, description = "`bad_notice_id`", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`unknown_notice`", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn remove_notice(
    State(app): State<App>,
    Path((hall, id)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> Result<Json<EventsResponse>, ApiError> {
    let entry = app.hall(&hall)?;
    let role = app.role(&hall, token.as_deref()).await?;
    require_supervisor(&role)?;
    let notice: u64 = id
        .parse()
        .map_err(|_| ApiError::bad_request("bad_notice_id", "notice id must be a number"))?;
    let evs = entry
        .handle
        .command(Command::RemoveNotice { notice }, actor_of(&role))
        .await?;
    Ok(events_response(evs))
}
