//! Statistics for the supervisor: one business day (`?date=`, the
//! `DayStats` shape kept since the first release) or a report over days
//! (`?from=&to=`, `hallcall_core::report::Report`), as JSON or as CSV with
//! Chinese headers for Excel. The arithmetic is the core's; this module
//! only reads the days' events from the store and picks the format.

use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use hallcall_core::report::{RangeError, Report};
use hallcall_core::stats::DayStats;
use hallcall_core::Event;

use crate::api::business_date;
use crate::api::dto::StatsQuery;
use crate::api::error::ApiError;
use crate::app::App;

fn parse_date(name: &'static str, s: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(
            match name {
                "from" => "bad_from",
                "to" => "bad_to",
                _ => "bad_date",
            },
            format!("{name} must be YYYY-MM-DD, got {s:?}"),
        )
    })
}

/// What the caller asked for: one day, or a range of days.
enum Span {
    Day(NaiveDate),
    Range(NaiveDate, NaiveDate),
}

async fn span_of(app: &App, hall: &str, q: &StatsQuery) -> Result<Span, ApiError> {
    if q.from.is_none() && q.to.is_none() {
        let date = match q.date.as_deref() {
            Some(d) => parse_date("date", d)?,
            None => business_date(app, hall).await?,
        };
        return Ok(Span::Day(date));
    }
    if q.date.is_some() {
        return Err(ApiError::bad_request(
            "bad_range",
            "give either date or from/to, not both",
        ));
    }
    let from = q
        .from
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("bad_range", "to needs a from (YYYY-MM-DD)"))
        .and_then(|s| parse_date("from", s))?;
    let to = match q.to.as_deref() {
        Some(s) => parse_date("to", s)?,
        None => business_date(app, hall).await?,
    };
    hallcall_core::report::dates(from, to).map_err(range_error)?;
    Ok(Span::Range(from, to))
}

fn range_error(e: RangeError) -> ApiError {
    ApiError::bad_request("bad_range", e.to_string())
}

/// The events of each business day of `from..=to`, read off the async
/// threads (sled reads block).
async fn range_events(
    app: &App,
    hall: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, Vec<Event>)>, ApiError> {
    let dates = hallcall_core::report::dates(from, to).map_err(range_error)?;
    let store = app.store.clone();
    let hall = hall.to_string();
    tokio::task::spawn_blocking(move || {
        dates
            .into_iter()
            .map(|d| store.day_events(&hall, d).map(|evs| (d, evs)))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .map_err(|e| ApiError::internal(e.to_string()))
}

fn wants_csv(q: &StatsQuery, headers: &HeaderMap) -> Result<bool, ApiError> {
    match q.format.as_deref() {
        Some("csv") => return Ok(true),
        Some("json") => return Ok(false),
        Some(other) => {
            return Err(ApiError::bad_request(
                "bad_format",
                format!("format must be csv or json, got {other:?}"),
            ))
        }
        None => {}
    }
    Ok(headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv")))
}

/// `GET …/stats`: the checks come first, so a bad request reads nothing.
pub async fn stats(
    app: &App,
    hall: &str,
    q: &StatsQuery,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let entry = app.hall(hall)?;
    let csv = wants_csv(q, headers)?;
    let span = span_of(app, hall, q).await?;
    let config = entry
        .config
        .read()
        .map_err(|_| ApiError::internal("config lock"))?
        .clone();
    let (from, to) = match &span {
        Span::Day(d) => (*d, *d),
        Span::Range(f, t) => (*f, *t),
    };
    let days = range_events(app, hall, from, to).await?;
    let empty: Vec<Event> = Vec::new();
    let report = Report::build(
        from,
        to,
        |d| {
            days.iter()
                .find(|(date, _)| *date == d)
                .map_or(empty.as_slice(), |(_, evs)| evs.as_slice())
        },
        &config,
    )
    .map_err(range_error)?;
    if csv {
        let name = if from == to {
            format!("{hall}-{from}.csv")
        } else {
            format!("{hall}-{from}_{to}.csv")
        };
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            report.to_csv(),
        )
            .into_response());
    }
    if let Span::Day(date) = span {
        // The single day keeps its first shape: {hall, date, stats: DayStats}.
        let stats: DayStats = report.total;
        return Ok(Json(serde_json::json!({
            "hall": hall, "date": date.to_string(), "stats": stats, "names": report.names,
        }))
        .into_response());
    }
    let mut v = serde_json::to_value(&report).map_err(|e| ApiError::internal(e.to_string()))?;
    if let Some(o) = v.as_object_mut() {
        o.insert("hall".into(), serde_json::Value::String(hall.to_string()));
    }
    Ok(Json(v).into_response())
}
