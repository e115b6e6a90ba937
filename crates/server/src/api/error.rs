//! The one error shape of the API: `{"error": {"code", "message"}}` with a
//! fitting 4xx (or 5xx when the server itself failed).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hallcall_core::{RejectClass, Rejected};
use serde::Serialize;

use crate::app::AppError;
use crate::hall_task::CommandError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// For 429: the limit that refused, and when to try again (`Retry-After`).
    pub limited: Option<(&'static str, u64)>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `unknown_hall`, `window_busy`, `bad_json`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// 429 only: which limit refused (e.g. `bookings_per_phone`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// 429 only: seconds to wait, as in the `Retry-After` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            limited: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<Rejected> for ApiError {
    fn from(r: Rejected) -> ApiError {
        let status = match r.class() {
            RejectClass::Invalid => StatusCode::BAD_REQUEST,
            RejectClass::Forbidden => StatusCode::FORBIDDEN,
            RejectClass::NotFound => StatusCode::NOT_FOUND,
            RejectClass::Conflict => StatusCode::CONFLICT,
        };
        ApiError::new(status, r.code(), r.to_string())
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> ApiError {
        match e {
            CommandError::Rejected(r) => r.into(),
            CommandError::Storage(m) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storage_failed", m)
            }
            CommandError::Gone => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "the hall is shutting down",
            ),
            // Several nodes: nothing was done here; retry (the cluster
            // layer does, at the owner).
            CommandError::NotOwner => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_owner",
                "another node owns this hall now; retry",
            ),
        }
    }
}

/// The HTTP edge of the server's domain error.
impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        let message = e.to_string();
        match e {
            AppError::UnknownHall(_) => ApiError::not_found("unknown_hall", message),
            AppError::Unauthorized(_) => ApiError::unauthorized(message),
            AppError::Forbidden(_) => ApiError::forbidden(message),
            AppError::BadCredentials => {
                ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", message)
            }
            AppError::RateLimited(l) => {
                let code = match l.limit {
                    crate::limits::Limit::LoginFailuresPerStaff => "staff_locked",
                    _ => "rate_limited",
                };
                let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, message);
                e.limited = Some((l.limit.code(), l.retry_after_s));
                e
            }
            AppError::Command(c) => c.into(),
            AppError::Internal(_) => ApiError::internal(message),
        }
    }
}

/// The last layer of the router: an error response that is not the API's
/// JSON shape — axum's plain-text rejections (a repeated or malformed query
/// parameter, a path segment that is not UTF-8, …), a bodiless 404 from a
/// page or static file — becomes one, with a code for its status and the
/// original text as the message, so every error names its problem in JSON.
pub async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "content_type",
        StatusCode::UNPROCESSABLE_ENTITY => "bad_request",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase()
    } else {
        text
    };
    let mut out = ApiError::new(status, code, message).into_response();
    for (k, v) in parts.headers.iter() {
        if k != axum::http::header::CONTENT_TYPE && k != axum::http::header::CONTENT_LENGTH {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
                limit: self.limited.map(|(l, _)| l.to_string()),
                retry_after_s: self.limited.map(|(_, s)| s),
            },
        };
        let mut resp = (self.status, Json(body)).into_response();
        if let Some((_, secs)) = self.limited {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        resp
    }
}
