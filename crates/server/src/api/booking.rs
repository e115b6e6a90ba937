//! 预约 for phones: a day's slots with what is left, the booking's reply
//! (code, local time, check-in window, a QR of the booking link), and
//! cancelling by code. The rules (horizon, holidays, capacity, no-show
//! ban) are the core's (`hall/booking.rs`); booking itself is
//! `public::book` (rate limits per phone, address and hall).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::Json;
use chrono::NaiveDate;
use hallcall_core::hall::{SlotInfo, CHECK_IN_GRACE};
use hallcall_core::time::{self, Millis};
use hallcall_core::{Actor, Command};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::dto::EventsResponse;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::events_response;
use crate::app::{App, AppError, HallEntry};

#[derive(Debug, Deserialize)]
pub struct SlotsQuery {
    pub date: Option<String>,
    pub category: Option<String>,
}

/// A category that takes bookings.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookableCategory {
    pub id: String,
    pub name: String,
    pub name_en: String,
    pub slot_s: u32,
    pub capacity: u32,
}

/// A day's slots of one category.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotsResponse {
    pub date: String,
    /// Empty when no category was asked for (then `slots` is empty too).
    pub category: String,
    /// Every category of the hall that takes bookings, for the page's choice.
    pub categories: Vec<BookableCategory>,
    /// False on a closed date (holiday, a weekday the hall does not open):
    /// then `slots` is empty.
    pub open: bool,
    /// Last date that can be booked (today + `booking_days_ahead`).
    pub last_date: String,
    #[schema(value_type = Vec<Object>)]
    pub slots: Vec<SlotInfo>,
}

/// The reply to a booking.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookedResponse {
    /// Six digits: what the citizen types (or scans) at the kiosk, and the
    /// key that cancels the booking.
    pub code: String,
    pub category: String,
    pub slot_start: String,
    /// `YYYY-MM-DD HH:MM` in the hall's time zone.
    pub local: String,
    pub check_in_from: String,
    pub check_in_until: String,
    /// The booking page of this booking (`/book?hall=…&code=…`), on the
    /// hall's `public_url` when configured.
    pub link: String,
    /// SVG QR code of `link`.
    pub qr_svg: String,
}

fn parse_date(s: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request("bad_date", format!("date must be YYYY-MM-DD, got {s:?}"))
    })
}

#[utoipa::path(get, path = "/api/v1/halls/{hall}/appointments/slots", tag = "public",
    params(("hall" = String, Path), ("date" = String, Query, description = "YYYY-MM-DD, today up to booking_days_ahead"),
        ("category" = Option<String>, Query, description = "a category with appointment_slots; without it only `categories` (those that take bookings) is filled")),
    responses((status = 200, body = SlotsResponse),
        (status = 400, description = "`bad_date`, `bad_slot` (date outside today..booking_days_ahead), `no_appointments`", body = ErrorBody),
        (status = 404, description = "unknown hall or category", body = ErrorBody)))]
pub async fn slots(
    State(app): State<App>,
    Path(hall): Path<String>,
    Query(q): Query<SlotsQuery>,
) -> Result<Json<SlotsResponse>, ApiError> {
    let entry = app.hall(&hall)?;
    let category = q.category.filter(|c| !c.is_empty());
    let date = parse_date(q.date.as_deref().unwrap_or(""))?;
    let c = category.clone();
    let (slots, open, last, categories) = entry
        .handle
        .read(move |h, now| {
            let cfg = h.config();
            let today = time::local(cfg.timezone, now).date;
            let last = today + chrono::Days::new(u64::from(cfg.booking_days_ahead));
            let categories: Vec<BookableCategory> = cfg
                .categories
                .iter()
                .filter_map(|c| {
                    let s = c.appointment_slots.as_ref()?;
                    Some(BookableCategory {
                        id: c.id.clone(),
                        name: c.name.clone(),
                        name_en: c.name_en.clone(),
                        slot_s: s.slot_s,
                        capacity: s.capacity,
                    })
                })
                .collect();
            let slots = match c {
                Some(c) => h.slots(&c, date, now),
                None if date < today || date > last => Err(hallcall_core::Rejected::BadSlot(
                    "date outside today..booking_days_ahead",
                )),
                None => Ok(Vec::new()),
            };
            (slots, cfg.is_open_date(date), last, categories)
        })
        .await?;
    let slots = slots.map_err(ApiError::from)?;
    Ok(Json(SlotsResponse {
        date: date.to_string(),
        category: category.unwrap_or_default(),
        categories,
        open,
        last_date: last.to_string(),
        slots,
    }))
}

/// The 201 body of a booking.
pub fn booked(
    hall: &str,
    entry: &HallEntry,
    code: String,
    category: String,
    slot: Millis,
) -> BookedResponse {
    let (tz, public_url) = match entry.config.read() {
        Ok(c) => (c.timezone, c.public_url.clone()),
        Err(p) => (p.get_ref().timezone, p.get_ref().public_url.clone()),
    };
    let l = time::local(tz, slot);
    let path = format!("/book?hall={hall}&code={code}");
    let link = if public_url.is_empty() {
        path
    } else {
        crate::devices::absolute_url(&public_url, &path)
    };
    let qr_svg = qrcode::QrCode::new(link.as_bytes())
        .map(|q| {
            q.render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default();
    BookedResponse {
        code,
        category,
        slot_start: time::rfc3339(slot),
        local: format!("{} {:02}:{:02}", l.date, l.minute / 60, l.minute % 60),
        check_in_from: time::rfc3339(slot - CHECK_IN_GRACE),
        check_in_until: time::rfc3339(slot + CHECK_IN_GRACE),
        link,
        qr_svg,
    }
}

#[utoipa::path(delete, path = "/api/v1/halls/{hall}/appointments/{code}", tag = "public",
    params(("hall" = String, Path), ("code" = String, Path, description = "the booking's code (its key)")),
    responses((status = 200, body = EventsResponse),
        (status = 404, description = "`unknown_appointment`", body = ErrorBody),
        (status = 409, description = "`appointment_used` (checked in), `appointment_missed` (check-in window over)", body = ErrorBody),
        (status = 429, description = "`rate_limited`: cancels count against the address's booking budget", body = ErrorBody)))]
pub async fn cancel(
    State(app): State<App>,
    Path((hall, code)): Path<(String, String)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<EventsResponse>, ApiError> {
    let entry = app.hall(&hall)?;
    // Six-digit codes are guessable in bulk: a cancel spends the address's
    // booking budget, so nobody can sweep other people's bookings away.
    app.limits.booking_address.hit(&peer.ip()).map_err(|e| {
        app.limits.counters.add(&hall, "rate_limited");
        ApiError::from(AppError::RateLimited(e))
    })?;
    let evs = entry
        .handle
        .command(Command::CancelAppointment { code }, Actor::Public)
        .await?;
    Ok(events_response(evs))
}
