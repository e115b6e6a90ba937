//! What anyone may ask, without a token: the halls, a hall's state, a
//! ticket's status and QR code, rating a finished ticket, booking an
//! appointment (rate-limited per address), and a call's announcement as WAV.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hallcall_core::{Actor, Command};

use crate::api::dto::*;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::events_response;
use crate::api::extract::ApiJson;
use crate::app::App;
use crate::hall_task::CommandError;

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

#[utoipa::path(get, path = "/api/v1/halls/{hall}/state", tag = "public",
    params(("hall" = String, Path)),
    responses((status = 200, description = "HallView snapshot with `seq`: categories, windows, recent calls, advice, load, totals, waiting_series; staffing_plan {lead_s, slots [{at, planned, staffed}]} in tidal mode plan once today's plan is set", body = Object),
        (status = 404, body = ErrorBody)))]
pub async fn state(State(app): State<App>, Path(hall): Path<String>) -> Result<Response, ApiError> {
    let entry = app.hall(&hall)?;
    let view = entry.handle.snapshot().view.clone();
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Bytes::from(view),
    )
        .into_response())
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
    match entry.handle.snapshot().ticket_status(&id) {
        Some(s) => Ok(Json(s).into_response()),
        None => Err(unknown_ticket()),
    }
}

fn unknown_ticket() -> ApiError {
    ApiError::not_found("unknown_ticket", "no such ticket today")
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
    if !entry.handle.snapshot().ticket_exists(&id) {
        return Err(unknown_ticket());
    }
    // The hall's public_url when configured (a phone on the street must
    // open it); else the address the kiosk reached this server at.
    let public_url = entry
        .config
        .read()
        .map(|c| c.public_url.clone())
        .unwrap_or_default();
    let url = if public_url.is_empty() {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}/t/{id}?hall={hall}")
    } else {
        crate::devices::absolute_url(&public_url, &format!("/t/{id}?hall={hall}"))
    };
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
        (status = 400, description = "`bad_score` (not 1..5), `reason_required` (1 and 2), `reason_too_long` (over 200 characters), `unknown_reason`", body = ErrorBody),
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

#[utoipa::path(post, path = "/api/v1/halls/{hall}/appointments", tag = "public",
    params(("hall" = String, Path)), request_body = BookBody,
    responses((status = 201, body = crate::api::booking::BookedResponse),
        (status = 400, description = "bad slot", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`slot_full`, `booking_banned` (this phone missed no_show_limit appointments in 30 days)", body = ErrorBody),
        (status = 429, description = "a booking limit (per phone, per address, per hall); `Retry-After` says when to try again", body = ErrorBody)))]
pub async fn book(
    State(app): State<App>,
    Path(hall): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<BookBody>,
) -> Result<Response, ApiError> {
    let entry = app.hall(&hall)?;
    let slot = hallcall_core::time::parse_rfc3339(&body.slot_start).ok_or_else(|| {
        ApiError::bad_request(
            "bad_slot",
            "slot_start must be RFC 3339, e.g. 2026-11-24T10:00:00+08:00",
        )
    })?;
    let phone = normalize_phone(&body.phone).ok_or_else(|| {
        ApiError::bad_request(
            "bad_phone",
            "phone must be a phone number of 6 to 15 digits, e.g. 13800138000",
        )
    })?;
    let phone_hash = app.check_booking_rate(&hall, peer.ip(), &phone)?;
    let booked = book_with_fresh_code(&hall, entry, &body, slot, &phone_hash).await;
    if booked.is_err() {
        app.refund_booking(&hall, phone_hash);
    }
    booked
}

/// The digits of a phone number: spaces and `-` dropped, `+86`/`86` in
/// front of an 11-digit mainland number dropped; 6 to 15 digits.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let s: String = raw
        .trim()
        .trim_start_matches('+')
        .chars()
        .filter(|c| *c != ' ' && *c != '-')
        .collect();
    if !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let s = match s.strip_prefix("86") {
        Some(rest) if rest.len() == 11 && rest.starts_with('1') => rest.to_string(),
        _ => s,
    };
    (6..=15).contains(&s.len()).then_some(s)
}

async fn book_with_fresh_code(
    hall: &str,
    entry: &crate::app::HallEntry,
    body: &BookBody,
    slot: hallcall_core::time::Millis,
    phone_hash: &str,
) -> Result<Response, ApiError> {
    for _ in 0..5 {
        let code = format!("{:06}", rand::random::<u32>() % 1_000_000);
        let cmd = Command::BookAppointment {
            code: code.clone(),
            category: body.category.clone(),
            slot_start: slot,
            phone: Some(phone_hash.to_string()),
        };
        match entry.handle.command(cmd, Actor::Public).await {
            Ok(_) => {
                let resp =
                    crate::api::booking::booked(hall, entry, code, body.category.clone(), slot);
                return Ok((StatusCode::CREATED, Json(resp)).into_response());
            }
            Err(CommandError::Rejected(hallcall_core::Rejected::DuplicateCode)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::internal("could not find a free appointment code"))
}

#[utoipa::path(get, path = "/api/v1/halls/{hall}/announcements/{seq}.wav", tag = "public",
    params(("hall" = String, Path), ("seq" = u64, Path, description = "sequence number of a call event"),
        ("lang" = Option<String>, Query, description = "zh or zh+en; default: the `lang` of the hall's [hall.voice] (zh)")),
    responses((status = 200, description = "WAV, 16-bit mono", content_type = "audio/wav"),
        (status = 404, description = "no such event, or not an announced one", body = ErrorBody)))]
pub async fn announcement(
    State(app): State<App>,
    Path((hall, file)): Path<(String, String)>,
    Query(q): Query<WavQuery>,
) -> Result<Response, ApiError> {
    let entry = app.hall(&hall)?;
    // The hall's own voice ([hall.voice]); its `lang` is the default language.
    let devices = entry.devices.load_full();
    let seq: u64 = file
        .strip_suffix(".wav")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ApiError::not_found("not_found", "expected /announcements/{seq}.wav"))?;
    let lang: hallcall_announcer::Lang = match q.lang.as_deref() {
        Some(l) => l
            .parse()
            .map_err(|_| ApiError::bad_request("bad_lang", "lang must be zh or zh+en"))?,
        None => devices.lang,
    };
    let cache_key = format!("{hall}/{}/{lang}", devices.generation);
    if let Some(wav) = app
        .wav_cache
        .lock()
        .ok()
        .and_then(|c| c.get(&cache_key, seq))
    {
        return Ok(wav_response(&wav));
    }
    let (Some(pack), Some(voice)) = (app.voice.clone(), devices.voice.clone()) else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_voice",
            "no voice pack loaded",
        ));
    };
    let event = app
        .store
        .read_log(&hall, seq, 1)
        .map_err(|e| ApiError::internal(e.to_string()))?
        .into_iter()
        .find(|e| e.seq == seq)
        .ok_or_else(|| ApiError::not_found("unknown_event", format!("no event {seq}")))?;
    let value = serde_json::to_value(&event).map_err(|e| ApiError::internal(e.to_string()))?;
    let wav = tokio::task::spawn_blocking(move || {
        hallcall_announcer::render_event_wav_with(&pack, &voice, &value, lang)
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

#[utoipa::path(post, path = "/api/v1/halls/{hall}/tickets/{id}/cancel", tag = "public",
    params(("hall" = String, Path), ("id" = String, Path, description = "the ticket's unguessable id: the key")),
    responses((status = 200, description = "`ticket_cancelled`: the ticket left every queue and display", body = EventsResponse),
        (status = 404, description = "no such ticket today", body = ErrorBody),
        (status = 409, description = "`not_cancellable`: already called, being served, held or finished", body = ErrorBody)))]
pub async fn cancel(
    State(app): State<App>,
    Path((hall, id)): Path<(String, String)>,
) -> Result<Json<EventsResponse>, ApiError> {
    let entry = app.hall(&hall)?;
    // An id the hall never issued is refused here, without a command.
    if !entry.handle.snapshot().ticket_exists(&id) {
        return Err(unknown_ticket());
    }
    let evs = entry
        .handle
        .command(Command::Cancel { ticket: id }, Actor::Public)
        .await?;
    Ok(events_response(evs))
}
