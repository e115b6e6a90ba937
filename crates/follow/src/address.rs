//! The stream's address: `ws://SERVER/api/v1/halls/{hall}/events`, with
//! `?since=SEQ` when resuming. Devices sit on the hall's LAN and talk plain
//! `ws://` to the hall server; TLS is not compiled in.

use ::url::Url;

/// Why a server address or hall id cannot be followed. The messages are
/// for whoever installs the device, so they are Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("大厅 ID 不能为空")]
    EmptyHall,
    #[error("服务器地址 {input:?} 无效：{reason}")]
    BadServer { input: String, reason: String },
}

/// `ws://SERVER/api/v1/halls/{hall}/events` (no `since`). `server` is
/// `host:port`, `http://host:port[/prefix]` or `ws://…`.
pub fn events_url(server: &str, hall: &str) -> Result<Url, UrlError> {
    let bad = |reason: &str| UrlError::BadServer {
        input: server.to_owned(),
        reason: reason.to_owned(),
    };
    if hall.trim().is_empty() {
        return Err(UrlError::EmptyHall);
    }
    let server = server.trim();
    let with_scheme = if server.contains("://") {
        server.to_owned()
    } else {
        format!("ws://{server}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|e| bad(&e.to_string()))?;
    match url.scheme() {
        "ws" | "http" => {}
        "wss" | "https" => {
            return Err(bad(
                "本程序未编译 TLS 支持，请在局域网内用 ws:// 或 http:// 直连大厅服务器",
            ))
        }
        _ => return Err(bad("只支持 ws:// 或 http://")),
    }
    url.set_scheme("ws").map_err(|()| bad("无法设置协议"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("缺少主机名"));
    }
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| bad("不是可用的地址"))?
        .pop_if_empty()
        .extend(["api", "v1", "halls", hall.trim(), "events"]);
    Ok(url)
}

/// The events URL with `?since=SEQ` when a seq is known.
pub fn with_since(base: &Url, since: Option<u64>) -> Url {
    let mut url = base.clone();
    if let Some(s) = since {
        url.query_pairs_mut()
            .clear()
            .append_pair("since", &s.to_string());
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = |s: &str, h: &str| events_url(s, h).map(|u| u.to_string());
        let want = "ws://127.0.0.1:8080/api/v1/halls/demo/events";
        assert_eq!(u("127.0.0.1:8080", "demo").as_deref().ok(), Some(want));
        assert_eq!(
            u("http://127.0.0.1:8080/", "demo").as_deref().ok(),
            Some(want)
        );
        assert_eq!(u("ws://127.0.0.1:8080", "demo").as_deref().ok(), Some(want));
        assert_eq!(
            u("http://proxy.local/hallcall/", "城东 1").as_deref().ok(),
            Some("ws://proxy.local/hallcall/api/v1/halls/%E5%9F%8E%E4%B8%9C%201/events")
        );
        assert_eq!(
            u("hall-box", "a/b").as_deref().ok(),
            Some("ws://hall-box/api/v1/halls/a%2Fb/events")
        );
        assert!(matches!(
            events_url("https://x", "demo"),
            Err(UrlError::BadServer { .. })
        ));
        assert!(u("ftp://x", "demo").is_err());
        assert_eq!(events_url("127.0.0.1:8080", " "), Err(UrlError::EmptyHall));
        let base = events_url("h:1", "demo").expect("url");
        assert_eq!(
            with_since(&base, None).as_str(),
            "ws://h:1/api/v1/halls/demo/events"
        );
        assert_eq!(
            with_since(&base, Some(42)).as_str(),
            "ws://h:1/api/v1/halls/demo/events?since=42"
        );
    }
}
