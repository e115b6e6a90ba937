//! The display-client pages, embedded in the binary so one file deploys.
//! Pages are plain HTML/JS that speak only the public API and WebSocket.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::app::App;

#[derive(rust_embed::RustEmbed)]
#[folder = "../../display-client/"]
#[exclude = "tests/*"]
#[exclude = "node_modules/*"]
struct Assets;

fn file(path: &str) -> Response {
    match Assets::get(path) {
        Some(f) => {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
            (
                [
                    (header::CONTENT_TYPE, mime.as_ref().to_string()),
                    (header::CACHE_CONTROL, "no-cache".to_string()),
                ],
                f.data.into_owned(),
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, Html("<h1>404</h1>".to_string())).into_response(),
    }
}

pub async fn hall_display() -> Response {
    file("hall.html")
}
pub async fn window_display(Path(_n): Path<String>) -> Response {
    file("window.html")
}
pub async fn evaluator(Path(_n): Path<String>) -> Response {
    file("evaluator.html")
}
pub async fn kiosk() -> Response {
    file("kiosk.html")
}
pub async fn clerk() -> Response {
    file("clerk.html")
}
pub async fn supervisor() -> Response {
    file("supervisor.html")
}
/// 同城通办: every hall at a glance, `/city` (asks for a city token).
pub async fn city() -> Response {
    file("city.html")
}
/// 网上预约 on a phone: `/book?hall=ID`.
pub async fn book() -> Response {
    file("book.html")
}
pub async fn ticket(Path(_id): Path<String>) -> Response {
    file("ticket.html")
}
pub async fn static_file(Path(path): Path<String>) -> Response {
    if path.contains("..") {
        return (StatusCode::NOT_FOUND, "").into_response();
    }
    file(&path)
}

/// A plain index of halls and their pages (no tokens shown).
pub async fn index(State(app): State<App>) -> Html<String> {
    let mut s = String::from(
        "<!doctype html><meta charset=utf-8><title>hallcall</title><style>body{font-family:'Noto Sans CJK SC',sans-serif;margin:2em}</style><h1>hallcall 排队叫号系统</h1><ul>",
    );
    for (id, e) in &app.halls {
        let name = e.config.read().map(|c| c.name.clone()).unwrap_or_default();
        s.push_str(&format!(
            "<li><b>{name}</b> ({id}): <a href=\"/display/hall?hall={id}\">综合屏</a> · <a href=\"/display/window/1?hall={id}\">窗口屏</a> · <a href=\"/kiosk?hall={id}\">取号机</a> · <a href=\"/clerk?hall={id}\">窗口工作台</a> · <a href=\"/supervisor?hall={id}\">管理看板</a> · <a href=\"/book?hall={id}\">网上预约</a></li>"
        ));
    }
    s.push_str("</ul><p><a href=\"/api/v1/openapi.json\">OpenAPI</a></p>");
    Html(s)
}
