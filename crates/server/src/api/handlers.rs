//! The HTTP handlers: authenticate, translate to a core [`Command`], hand it
//! to the hall's task, translate the outcome back. No hall rule lives here.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hallcall_core::stats::DayStats;
use hallcall_core::{Actor, Command, EventKind, PauseReason, Priority};

use crate::api::dto::*;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{ApiJson, Bearer, OptJson};
use crate::app::{require_clerk_of, require_kiosk, require_supervisor, App};
use crate::auth::{verify_pin, Role};

fn parse_window(s: &str) -> Result<u32, ApiError> {
    s.parse().map_err(|_| {
        ApiError::bad_request("bad_window", format!("window must be a number, got {s:?}"))
    })
}

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

#[utoipa::path(get, path = "/api/v1/halls", tag = "public",
    responses((status = 200, description = "The halls this process serves", body = [HallSummary])))]
pub async fn list_halls(State(app): State<App>) -> Json<Vec<HallSummary>> {
    Json(
        app.halls
            .iter()
            .filter_map(|(id, e)| {
                let c = e.config.read().ok()?;
                Some(HallSummary {
                    id: id.clone(),
                    name: c.name.clone(),
                    name_en: c.name_en.clone(),
                })
            })
            .collect(),
    )
}

#[utoipa::path(post, path = "/api/v1/halls/{hall}/tickets", tag = "kiosk",
    params(("hall" = String, Path, description = "hall id")),
    request_body = IssueBody,
    responses((status = 201, body = IssueResponse),
        (status = 400, description = "bad JSON, bad priority", body = ErrorBody),
        (status = 401, description = "no or invalid token", body = ErrorBody),
        (status = 403, description = "not a kiosk token", body = ErrorBody),
        (status = 404, description = "unknown hall, category or appointment", body = ErrorBody),
        (status = 409, description = "hall closed, appointment used or too early", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn issue_ticket(
    State(app): State<App>,
    Path(hall): Path<String>,
    Bearer(token): Bearer,
    ApiJson(body): ApiJson<IssueBody>,
) -> Result<Response, ApiError> {
    let role = app.role(&hall, token.as_deref()).await?;
    require_kiosk(&role)?;
    let entry = app.hall(&hall)?;
    // 96 random bits: unguessable, and 24 hex characters stay inline in the core.
    let id = random_id(12);
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
    let resp = IssueResponse {
        status_url: format!("/t/{}?hall={hall}", status.id),
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

#[utoipa::path(get, path = "/api/v1/halls/{hall}/tickets/{id}", tag = "public",
    params(("hall" = String, Path), ("id" = String, Path, description = "the ticket's unguessable id")),
    responses((status = 200, description = "TicketStatus: number, state, ahead, estimated_wait_s, window, can_rate", body = Object),
        (status = 404, body = ErrorBody)))]
pub async fn ticket_status(
    State(app): State<App>,
    Path((hall, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let entry = app.hall(&hall)?;
    let st = entry.handle.read(move |h, _| h.ticket_status(&id)).await?;
    match st {
        Some(s) => Ok(Json(s).into_response()),
        None => Err(ApiError::not_found(
            "unknown_ticket",
            "no such ticket today",
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/halls/{hall}/tickets/{id}/qr.svg", tag = "public",
    params(("hall" = String, Path), ("id" = String, Path)),
    responses((status = 200, description = "SVG QR code of the ticket's status page", content_type = "image/svg+xml"),
        (status = 404, body = ErrorBody)))]
pub async fn ticket_qr(
    State(app): State<App>,
    Path((hall, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let entry = app.hall(&hall)?;
    let check = id.clone();
    if !entry
        .handle
        .read(move |h, _| h.ticket(&check).is_some())
        .await?
    {
        return Err(ApiError::not_found(
            "unknown_ticket",
            "no such ticket today",
        ));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let url = format!("http://{host}/t/{id}?hall={hall}");
    let code =
        qrcode::QrCode::new(url.as_bytes()).map_err(|e| ApiError::internal(e.to_string()))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

#[utoipa::path(post, path = "/api/v1/halls/{hall}/tickets/{id}/rating", tag = "public",
    params(("hall" = String, Path), ("id" = String, Path)), request_body = RatingBody,
    responses((status = 200, body = EventsResponse),
        (status = 400, description = "score not 1..5", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not done yet, or already rated", body = ErrorBody)))]
pub async fn rate(
    State(app): State<App>,
    Path((hall, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<RatingBody>,
) -> Result<Json<EventsResponse>, ApiError> {
    let entry = app.hall(&hall)?;
    let evs = entry
        .handle
        .command(
            Command::Rate {
                ticket: id,
                score: body.score,
            },
            Actor::Public,
        )
        .await?;
    Ok(events_response(evs))
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

#[utoipa::path(post, path = "/api/v1/halls/{hall}/appointments", tag = "public",
    params(("hall" = String, Path)), request_body = BookBody,
    responses((status = 201, body = BookResponse),
        (status = 400, description = "bad slot", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "slot full", body = ErrorBody),
        (status = 429, description = "too many bookings from this address", body = ErrorBody)))]
pub async fn book(
    State(app): State<App>,
    Path(hall): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<BookBody>,
) -> Result<Response, ApiError> {
    let entry = app.hall(&hall)?;
    if !app.allow_booking(peer.ip()) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many bookings; try again in a minute",
        ));
    }
    let slot = hallcall_core::time::parse_rfc3339(&body.slot_start).ok_or_else(|| {
        ApiError::bad_request(
            "bad_slot",
            "slot_start must be RFC 3339, e.g. 2026-11-24T10:00:00+08:00",
        )
    })?;
    for _ in 0..5 {
        let code = format!("{:06}", rand::random::<u32>() % 1_000_000);
        let cmd = Command::BookAppointment {
            code: code.clone(),
            category: body.category.clone(),
            slot_start: slot,
        };
        match entry.handle.command(cmd, Actor::Public).await {
            Ok(_) => {
                let resp = BookResponse {
                    code,
                    slot_start: hallcall_core::time::rfc3339(slot),
                };
                return Ok((StatusCode::CREATED, Json(resp)).into_response());
            }
            Err(crate::hall_task::CommandError::Rejected(
                hallcall_core::Rejected::DuplicateCode,
            )) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::internal("could not find a free appointment code"))
}

#[utoipa::path(post, path = "/api/v1/halls/{hall}/sessions", tag = "clerk",
    params(("hall" = String, Path)), request_body = LoginBody,
    responses((status = 200, body = LoginResponse),
        (status = 401, description = "unknown staff or wrong PIN", body = ErrorBody),
        (status = 403, description = "not a post of this window", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "logged in elsewhere, window full", body = ErrorBody),
        (status = 429, description = "too many failed logins from this address", body = ErrorBody)))]
pub async fn login(
    State(app): State<App>,
    Path(hall): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Json<LoginResponse>, ApiError> {
    let entry = app.hall(&hall)?;
    if !app.login_allowed(peer.ip()) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many failed logins from this address; wait a minute",
        ));
    }
    let (hash, name) = {
        let cfg = entry
            .config
            .read()
            .map_err(|_| ApiError::internal("config lock"))?;
        match cfg.staff(&body.staff) {
            Some(s) => (s.pin_hash.clone(), s.name.clone()),
            None => (String::new(), String::new()),
        }
    };
    let pin = body.pin.clone();
    let permit = app
        .pin_checks
        .acquire()
        .await
        .map_err(|_| ApiError::internal("pin check pool closed"))?;
    let ok = tokio::task::spawn_blocking(move || !hash.is_empty() && verify_pin(&pin, &hash))
        .await
        .unwrap_or(false);
    drop(permit);
    if !ok {
        app.login_failed(peer.ip());
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "unknown staff id or wrong PIN",
        ));
    }
    let cmd = Command::Login {
        staff: body.staff.clone(),
        window: body.window,
    };
    entry
        .handle
        .command(cmd, Actor::staff(body.staff.clone()))
        .await?;
    let s = body.staff.clone();
    let duty = entry
        .handle
        .read(move |h, _| h.staff_location(&s))
        .await?
        .map(|(_, d)| match d {
            hallcall_core::Duty::OnDuty => "on_duty",
            hallcall_core::Duty::Standby => "standby",
        })
        .unwrap_or("on_duty");
    Ok(Json(LoginResponse {
        token: app.key.issue(&hall, &body.staff, body.window),
        staff: body.staff,
        name,
        window: body.window,
        duty: duty.into(),
    }))
}

#[utoipa::path(post, path = "/api/v1/halls/{hall}/windows/{n}/{action}", tag = "clerk",
    params(("hall" = String, Path), ("n" = u32, Path, description = "window number"),
        ("action" = String, Path, description = "call-next, recall, no-show, start, complete, transfer, pause, resume, handover, logout (clerk of the window); open, close (supervisor)")),
    request_body(content = ActionBody, description = "transfer {category?, window?}; pause {reason}; open {staff}"),
    responses((status = 200, description = "call-next: CallResponse; others: EventsResponse", body = EventsResponse),
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
    let by = actor_of(&role);
    let cmd =
        match action.as_str() {
            "open" | "close" => {
                require_supervisor(&role)?;
                if action == "open" {
                    let staff = body.staff.ok_or_else(|| {
                        ApiError::bad_request("missing_staff", "open needs {\"staff\": \"<id>\"}")
                    })?;
                    Command::OpenWindow { window, staff }
                } else {
                    Command::CloseWindow { window }
                }
            }
            other => {
                let staff = require_clerk_of(&role, window)?;
                match other {
                    "call-next" => Command::CallNext { window },
                    "recall" => Command::Recall { window },
                    "no-show" => Command::NoShow { window },
                    "start" => Command::Start { window },
                    "complete" => Command::Complete { window },
                    "transfer" => Command::Transfer {
                        window,
                        category: body.category,
                        to_window: body.window,
                    },
                    "pause" => match body.reason {
                        Some(PauseReason::NoStaff) | None => return Err(ApiError::bad_request(
                            "bad_reason",
                            "pause needs {\"reason\": \"leave\"|\"meeting\"|\"break\"|\"other\"}",
                        )),
                        Some(reason) => Command::Pause { window, reason },
                    },
                    "resume" => Command::Resume { window },
                    "handover" => Command::Handover { window },
                    "logout" => Command::Logout { staff, window },
                    _ => {
                        return Err(ApiError::not_found(
                            "unknown_action",
                            format!("no window action {other:?}"),
                        ))
                    }
                }
            }
        };
    let is_call = matches!(cmd, Command::CallNext { .. });
    let evs = entry.handle.command(cmd, by).await?;
    if is_call {
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
        return Ok(match called {
            Some(c) => Json(c).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        });
    }
    Ok(events_response(evs).into_response())
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

#[utoipa::path(get, path = "/api/v1/halls/{hall}/windows/{n}/stats", tag = "clerk",
    params(("hall" = String, Path), ("n" = u32, Path)),
    responses((status = 200, description = "today's figures of the clerk holding the token", body = Object),
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
    Ok(Json(stats.by_staff.get(&staff).cloned().unwrap_or_default()).into_response())
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

#[utoipa::path(get, path = "/api/v1/halls/{hall}/state", tag = "public",
    params(("hall" = String, Path)),
    responses((status = 200, description = "HallView snapshot with `seq`: categories, windows, recent calls, advice, load, totals", body = Object),
        (status = 404, body = ErrorBody)))]
pub async fn state(State(app): State<App>, Path(hall): Path<String>) -> Result<Response, ApiError> {
    let entry = app.hall(&hall)?;
    let v = entry.handle.read(|h, now| h.view(now)).await?;
    Ok(Json(v).into_response())
}

#[utoipa::path(get, path = "/api/v1/halls/{hall}/stats", tag = "supervisor",
    params(("hall" = String, Path), ("date" = Option<String>, Query, description = "YYYY-MM-DD business date")),
    responses((status = 200, description = "DayStats (JSON) or CSV with `Accept: text/csv`", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
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
    let date = match q.date.as_deref() {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| ApiError::bad_request("bad_date", "date must be YYYY-MM-DD"))?,
        None => business_date(&app, &hall).await?,
    };
    let events = day_events(&app, &hall, date).await?;
    let stats = DayStats::from_events(&events);
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    if wants_csv {
        let disposition = format!("attachment; filename=\"{hall}-{date}.csv\"");
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            stats.to_csv(),
        )
            .into_response());
    }
    Ok(
        Json(serde_json::json!({ "hall": hall, "date": date.to_string(), "stats": stats }))
            .into_response(),
    )
}

#[utoipa::path(get, path = "/api/v1/halls/{hall}/announcements/{seq}.wav", tag = "public",
    params(("hall" = String, Path), ("seq" = u64, Path, description = "sequence number of a call event"),
        ("lang" = Option<String>, Query, description = "zh (default) or zh+en")),
    responses((status = 200, description = "WAV, 16-bit mono", content_type = "audio/wav"),
        (status = 404, description = "no such event, or not an announced one", body = ErrorBody)))]
pub async fn announcement(
    State(app): State<App>,
    Path((hall, file)): Path<(String, String)>,
    Query(q): Query<WavQuery>,
) -> Result<Response, ApiError> {
    app.hall(&hall)?;
    let seq: u64 = file
        .strip_suffix(".wav")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ApiError::not_found("not_found", "expected /announcements/{seq}.wav"))?;
    let lang: hallcall_announcer::Lang = q
        .lang
        .as_deref()
        .unwrap_or("zh")
        .parse()
        .map_err(|_| ApiError::bad_request("bad_lang", "lang must be zh or zh+en"))?;
    let cache_key = format!("{hall}/{lang}");
    if let Some(wav) = app
        .wav_cache
        .lock()
        .ok()
        .and_then(|c| c.get(&cache_key, seq))
    {
        return Ok(wav_response(&wav));
    }
    let voice = app.voice.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_voice",
            "no voice pack loaded",
        )
    })?;
    let event = app
        .store
        .read_log(&hall, seq, 1)
        .map_err(|e| ApiError::internal(e.to_string()))?
        .into_iter()
        .find(|e| e.seq == seq)
        .ok_or_else(|| ApiError::not_found("unknown_event", format!("no event {seq}")))?;
    let value = serde_json::to_value(&event).map_err(|e| ApiError::internal(e.to_string()))?;
    let wav = tokio::task::spawn_blocking(move || {
        hallcall_announcer::render_event_wav(&voice, &value, lang)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .ok_or_else(|| {
        ApiError::not_found(
            "not_announced",
            format!("event {seq} is not a call or notice"),
        )
    })?;
    let wav = Arc::new(wav);
    if let Ok(mut c) = app.wav_cache.lock() {
        c.put(&cache_key, seq, wav.clone());
    }
    Ok(wav_response(&wav))
}

fn wav_response(wav: &Arc<Vec<u8>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "audio/wav"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        wav.as_ref().clone(),
    )
        .into_response()
}

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
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
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
