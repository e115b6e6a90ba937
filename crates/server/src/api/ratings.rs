//! The supervisor's 差评 list (好差评, issue 13 item 13): every 不满意 and
//! 非常不满意 with its reason, and its follow-up (待回访 / 已回访 / 已整改 +
//! note), as JSON or as a CSV that Excel opens (Chinese headers, UTF-8 with
//! BOM, ids in extra columns). The records and the rule live in the core
//! (`hall::rating`); this module reads them from the snapshot and sends the
//! follow-up command.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::TimeZone;
use hallcall_core::hall::{BadRating, FollowUpStatus};
use hallcall_core::{Actor, Command, HallConfig};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::dto::EventsResponse;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::events_response;
use crate::api::extract::{ApiJson, Bearer};
use crate::app::App;
use crate::auth::require_supervisor;

#[derive(Debug, Deserialize, ToSchema)]
pub struct BadRatingsQuery {
    /// `pending` (待回访), `contacted` (已回访) or `rectified` (已整改); all by default.
    pub status: Option<String>,
    /// `csv` for the CSV export (as `Accept: text/csv`).
    pub format: Option<String>,
}

/// One follow-up step.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpView {
    /// RFC 3339.
    pub at: String,
    /// Who sent the command (`supervisor`).
    pub by: String,
    /// `pending`, `contacted`, `rectified`.
    pub status: String,
    pub status_name: String,
    pub note: String,
    /// 回访人, as typed.
    pub handler: String,
}

/// A 差评 as the supervisor sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BadRatingView {
    /// The ticket id: the key of `POST …/ratings/{ticket}/follow-up`.
    pub ticket: String,
    pub number: String,
    pub category: String,
    pub category_name: String,
    pub window: Option<u32>,
    pub staff: Option<String>,
    pub staff_name: Option<String>,
    /// 1 (非常不满意) or 2 (不满意).
    pub score: u8,
    pub score_name: String,
    /// Common reason codes (`long_wait`, `slow`, `attitude`, `unskilled`,
    /// `not_told_at_once`, `unclear_materials`, `other`).
    pub reasons: Vec<String>,
    /// The same, worded (等候时间过长, …).
    pub reason_names: Vec<String>,
    /// The citizen's own words (at most 200 characters).
    pub comment: String,
    /// RFC 3339.
    pub rated_at: String,
    /// The business day of the service, `YYYY-MM-DD`.
    pub business_date: Option<String>,
    /// `pending` (待回访), `contacted` (已回访), `rectified` (已整改).
    pub status: String,
    pub status_name: String,
    /// Every follow-up step, oldest first.
    pub follow_ups: Vec<FollowUpView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BadRatingsResponse {
    pub hall: String,
    /// Newest first.
    pub ratings: Vec<BadRatingView>,
    /// Open (待回访) 差评, whatever the filter.
    pub pending: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FollowUpBody {
    /// `pending` (待回访), `contacted` (已回访) or `rectified` (已整改).
    #[schema(value_type = String)]
    pub status: FollowUpStatus,
    /// What was said or done; required for `contacted` and `rectified`, at
    /// most 500 characters.
    #[serde(default)]
    pub note: String,
    /// Who followed up (回访人), at most 32 characters.
    #[serde(default)]
    pub handler: String,
}

fn score_name(score: u8) -> &'static str {
    match score {
        5 => "非常满意",
        4 => "满意",
        3 => "基本满意",
        2 => "不满意",
        _ => "非常不满意",
    }
}

fn local_time(cfg: &HallConfig, at: i64) -> String {
    match chrono::Utc.timestamp_millis_opt(at).single() {
        Some(t) => t
            .with_timezone(&cfg.timezone)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        None => String::new(),
    }
}

fn view_of(cfg: &HallConfig, b: &BadRating) -> BadRatingView {
    let staff_name = b.staff.as_deref().map(|s| {
        cfg.staff(s)
            .map(|x| x.name.clone())
            .unwrap_or_else(|| s.to_string())
    });
    BadRatingView {
        ticket: b.ticket.clone(),
        number: b.number.clone(),
        category: b.category.clone(),
        category_name: cfg
            .category(&b.category)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| b.category.clone()),
        window: b.window,
        staff: b.staff.clone(),
        staff_name,
        score: b.score,
        score_name: score_name(b.score).to_string(),
        reasons: b.reasons.iter().map(|r| r.code().to_string()).collect(),
        reason_names: b.reasons.iter().map(|r| r.label_zh().to_string()).collect(),
        comment: b.comment.clone(),
        rated_at: hallcall_core::time::rfc3339(b.rated_at),
        business_date: b.business_date.map(|d| d.to_string()),
        status: b.status.code().to_string(),
        status_name: b.status.label_zh().to_string(),
        follow_ups: b
            .follow_ups
            .iter()
            .map(|f| FollowUpView {
                at: hallcall_core::time::rfc3339(f.at),
                by: f.by.to_string(),
                status: f.status.code().to_string(),
                status_name: f.status.label_zh().to_string(),
                note: f.note.clone(),
                handler: f.handler.clone(),
            })
            .collect(),
    }
}

/// A CSV field: quoted when it holds a comma, quote or line break; a
/// leading `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet does
/// not run a citizen's text as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The CSV export: UTF-8 with a BOM (Excel), Chinese headers, then the ids.
fn to_csv(cfg: &HallConfig, list: &[&BadRating]) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str("评价时间,业务日期,号码,业务,窗口,工作人员,评价,原因,意见,回访状态,回访说明,回访人,回访时间,票据ID,业务ID,人员ID,评分\r\n");
    for b in list {
        let v = view_of(cfg, b);
        let last = b.last_follow_up();
        let row = [
            local_time(cfg, b.rated_at),
            v.business_date.clone().unwrap_or_default(),
            v.number.clone(),
            v.category_name.clone(),
            v.window.map(|w| format!("{w}号窗口")).unwrap_or_default(),
            v.staff_name.clone().unwrap_or_default(),
            v.score_name.clone(),
            v.reason_names.join("；"),
            v.comment.clone(),
            v.status_name.clone(),
            last.map(|f| f.note.clone()).unwrap_or_default(),
            last.map(|f| f.handler.clone()).unwrap_or_default(),
            last.map(|f| local_time(cfg, f.at)).unwrap_or_default(),
            v.ticket.clone(),
            v.category.clone(),
            v.staff.clone().unwrap_or_default(),
            v.score.to_string(),
        ];
        let cells: Vec<String> = row.iter().map(|c| csv_field(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

fn config(app: &App, hall: &str) -> Result<HallConfig, ApiError> {
    app.hall(hall)?
        .config
        .read()
        .map(|c| c.clone())
        .map_err(|_| ApiError::internal("configuration lock poisoned"))
}

#[utoipa::path(get, path = "/api/v1/halls/{hall}/ratings/bad", tag = "supervisor",
    params(("hall" = String, Path), ("status" = Option<String>, Query, description = "pending, contacted or rectified"),
        ("format" = Option<String>, Query, description = "csv: the CSV export (as Accept: text/csv)")),
    responses((status = 200, description = "the 差评 (scores 1 and 2) with reasons and follow-up, newest first; CSV (UTF-8 with BOM, Chinese headers) with `Accept: text/csv` or `format=csv`", body = BadRatingsResponse),
        (status = 400, description = "`bad_status`, `bad_format`", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(app): State<App>,
    Path(hall): Path<String>,
    Query(q): Query<BadRatingsQuery>,
    Bearer(token): Bearer,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let role = app.role(&hall, token.as_deref()).await?;
    require_supervisor(&role)?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some("pending") => Some(FollowUpStatus::Pending),
        Some("contacted") => Some(FollowUpStatus::Contacted),
        Some("rectified") => Some(FollowUpStatus::Rectified),
        Some(other) => {
            return Err(ApiError::bad_request(
                "bad_status",
                format!("status must be pending, contacted or rectified, got {other:?}"),
            ))
        }
    };
    let csv = match q.format.as_deref() {
        None | Some("") | Some("json") => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv")),
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "bad_format",
                format!("format must be json or csv, got {other:?}"),
            ))
        }
    };
    let cfg = config(&app, &hall)?;
    let snap = app.hall(&hall)?.handle.snapshot();
    let h = snap.hall();
    let pending = h
        .bad_ratings()
        .filter(|b| b.status == FollowUpStatus::Pending)
        .count() as u32;
    let mut list: Vec<&BadRating> = h
        .bad_ratings()
        .filter(|b| status.is_none_or(|s| b.status == s))
        .collect();
    list.sort_by(|a, b| b.rated_at.cmp(&a.rated_at).then(a.number.cmp(&b.number)));
    if csv {
        let disposition = format!("attachment; filename=\"{hall}-chaping.csv\"");
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            to_csv(&cfg, &list),
        )
            .into_response());
    }
    Ok(Json(BadRatingsResponse {
        hall: hall.clone(),
        ratings: list.iter().map(|b| view_of(&cfg, b)).collect(),
        pending,
    })
    .into_response())
}

#[utoipa::path(post, path = "/api/v1/halls/{hall}/ratings/{ticket}/follow-up", tag = "supervisor",
    params(("hall" = String, Path), ("ticket" = String, Path, description = "the ticket id of the 差评 (`ticket` in the list)")),
    request_body = FollowUpBody,
    responses((status = 200, description = "the `rating_followed_up` event", body = EventsResponse),
        (status = 400, description = "`bad_json` (status not pending/contacted/rectified), `note_required`, `note_too_long`, `handler_too_long`", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "`unknown_hall`, `unknown_bad_rating`", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn follow_up(
    State(app): State<App>,
    Path((hall, ticket)): Path<(String, String)>,
    Bearer(token): Bearer,
    ApiJson(body): ApiJson<FollowUpBody>,
) -> Result<Json<EventsResponse>, ApiError> {
    let role = app.role(&hall, token.as_deref()).await?;
    require_supervisor(&role)?;
    let entry = app.hall(&hall)?;
    let evs = entry
        .handle
        .command(
            Command::FollowUpRating {
                ticket,
                status: body.status,
                note: body.note,
                handler: body.handler,
            },
            Actor::Supervisor,
        )
        .await?;
    Ok(events_response(evs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("慢"), "慢");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
    }
}
