//! Shared helpers of the end-to-end tests: the real `hallcall` binary as a
//! child process on a free port with a temporary data directory, an HTTP
//! client for the API and a WebSocket subscriber for the event stream.
//!
//! The hall is a copy of the demo hall (`hallcall_core::demo::demo_hall()`)
//! written out as a TOML configuration file, with PIN hashes for every staff
//! member (the demo PIN: the digits of the id twice, `s01` → `0101`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

pub const HALL: &str = "demo";
pub const KIOSK: &str = "kiosk-demo";
pub const SUPERVISOR: &str = "supervisor-demo";

/// How long any single wait in these tests may take before it is a failure.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// The `hallcall` binary under test: this build's, or the one named by
/// `HALLCALL_TEST_BIN` (e.g. an older build, to show that a test fails there).
pub fn bin() -> &'static str {
    static BIN: OnceLock<String> = OnceLock::new();
    BIN.get_or_init(|| {
        std::env::var("HALLCALL_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_hallcall").into())
    })
}

/// The demo PIN of a staff member: `s01` → `0101`.
pub fn pin_of(staff: &str) -> String {
    let d: String = staff.chars().filter(char::is_ascii_digit).collect();
    format!("{d}{d}")
}

/// argon2id hashes of the demo PINs `0101` … `1111`, made once with cheap
/// parameters (m=64 KiB, t=1) so that logins are fast in debug builds. The
/// server verifies with the parameters stored in the PHC string, exactly as
/// for a `hallcall hash-pin` hash. `s12` gets a hash made by
/// `hallcall hash-pin 1212` when the tests start (see [`real_hash_s12`]), so
/// the real tool's output is exercised too.
const CHEAP_HASHES: [(&str, &str); 11] = [
    ("s01", "$argon2id$v=19$m=64,t=1,p=1$Gwu+RoXMtQwxSDJfwa5KDw$+033xVp3z0E/KK19AywEWNek9speiKUxtt1I5nlckR0"),
    ("s02", "$argon2id$v=19$m=64,t=1,p=1$VE6yF9+oW5S1jsrWdJVNiw$XW5YNXVCMW2FOA/5ms9WDNwq860IcGoXKCv2onZ9s64"),
    ("s03", "$argon2id$v=19$m=64,t=1,p=1$TPz74cpS+uKixCHTbwNmDQ$izh1CWE9UVkCldiT2vL8U9KG/y9+b/C8swuScrfGQdk"),
    ("s04", "$argon2id$v=19$m=64,t=1,p=1$w4c9I89ZPvSXRTuyiV+cKA$oxAoz9wM22folzNFkbD97ELBPMwzUuBkDaaQ0hl6SiI"),
    ("s05", "$argon2id$v=19$m=64,t=1,p=1$vjLXf7d718NKZLdaZF9McQ$4y6XFnZI/gXk5zbfYMNubl4EU2y4GRXr1Q+E/QjJhuQ"),
    ("s06", "$argon2id$v=19$m=64,t=1,p=1$/LqKnH70D4aU/2nvBkwHpw$KHnGWNq/MJuzWN3bWrsQtVfA1qUQjehL9a3Gay/oKxQ"),
    ("s07", "$argon2id$v=19$m=64,t=1,p=1$zyxTzpX1O5op9QBEgtXEzA$XUnyBFL+mCcOMlTK9O+IXGFjXoL/EF2LdnDbAoQxT0I"),
    ("s08", "$argon2id$v=19$m=64,t=1,p=1$S9ork175NcUbp7lGyELQWA$gsV8D2AToyoL1zXMQ+xm6M4Jj+lJ2C0Cz+6/hkMs1vk"),
    ("s09", "$argon2id$v=19$m=64,t=1,p=1$vu9KUKqha63TefCKRCC30Q$F2t/VCJqYjVvm3FsohLOo3zunK/VDBHtXndc+IbMmJA"),
    ("s10", "$argon2id$v=19$m=64,t=1,p=1$0ITOG6kRQ9GrttZkuLRQLw$ZK+TOUwjDnz3y/4xRct/A03U5iLoXa083o0VyVlLDqw"),
    ("s11", "$argon2id$v=19$m=64,t=1,p=1$Db5ZEBFddeaIJ9KG1EZ83Q$DAY8XtAsXGeZxjDEnW5xKv3q8IqGBT5FxJ+r7Sa6nJc"),
];

/// `hallcall hash-pin 1212`, run once per test binary.
pub fn real_hash_s12() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| {
        let out = Command::new(bin())
            .args(["hash-pin", "1212"])
            .output()
            .expect("run hallcall hash-pin");
        assert!(out.status.success(), "hash-pin failed: {out:?}");
        let h = String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_string();
        assert!(h.starts_with("$argon2id$"), "hash-pin printed {h:?}");
        h
    })
}

/// A TOML value from a JSON value (strings, numbers, booleans, arrays and
/// inline tables are written the same way, but for the table syntax).
fn toml_value(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{k} = {}", toml_value(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(toml_value).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// The demo hall with PIN hashes, as a configuration object. One change:
/// the tidal policy's `sustain_s` is 10 minutes instead of 1, so that no
/// tidal window opens by itself (a `system` event on the 1 s tick) in the
/// middle of a test that compares sequence numbers; no test lives that long.
pub fn demo_hall_with_pins() -> hallcall_core::HallConfig {
    let mut hall = hallcall_core::demo::demo_hall();
    hall.tidal.sustain_s = 600;
    for s in &mut hall.staff {
        s.pin_hash = match CHEAP_HASHES.iter().find(|(id, _)| *id == s.id) {
            Some((_, h)) => (*h).to_string(),
            None if s.id == "s12" => real_hash_s12().to_string(),
            None => panic!("no PIN hash for demo staff {}", s.id),
        };
    }
    hall
}

/// The configuration file text: a copy of the demo hall with PIN hashes.
pub fn hall_toml(listen: &str, data: &Path) -> String {
    hall_toml_of(listen, data, demo_hall_with_pins())
}

/// The configuration file text of a hall.
pub fn hall_toml_of(listen: &str, data: &Path, hall: hallcall_core::HallConfig) -> String {
    let v = serde_json::to_value(&hall).expect("hall config to JSON");
    let obj = v.as_object().expect("hall is an object");
    let mut out = format!(
        "[server]\nlisten = {}\ndata = {}\n\n[[hall]]\n",
        json!(listen),
        json!(data.display().to_string())
    );
    let mut sections = String::new();
    for (k, v) in obj {
        match v {
            Value::Null => {}
            Value::Array(items) if items.first().is_some_and(Value::is_object) => {
                for item in items {
                    sections += &format!("\n[[hall.{k}]]\n");
                    for (ik, iv) in item.as_object().expect("object") {
                        if !iv.is_null() {
                            sections += &format!("{ik} = {}\n", toml_value(iv));
                        }
                    }
                }
            }
            other => out += &format!("{k} = {}\n", toml_value(other)),
        }
    }
    out += &sections;
    // The file must say exactly the demo hall (with its hashes).
    let parsed = hallcall_core::config::Config::from_toml(&out).expect("generated TOML parses");
    assert_eq!(parsed.halls, vec![hall], "generated TOML is the demo hall");
    out
}

/// A free TCP port on 127.0.0.1 (bound and released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind :0");
    l.local_addr().expect("addr").port()
}

/// The response of one HTTP request.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {:?}",
                self.status,
                self.text()
            )
        })
    }

    /// Asserts a status and returns the JSON body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            self.text()
        );
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    /// Asserts the API's error shape `{"error": {"code", "message"}}` with
    /// this status (and this code, unless `code` is empty); returns the code.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> String {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            self.text()
        );
        assert!(
            self.content_type.starts_with("application/json"),
            "error content type {:?}, body {:?}",
            self.content_type,
            self.text()
        );
        let v = self.json();
        let err = v
            .get("error")
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("no error object in {v}"));
        let c = err
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no error.code in {v}"));
        let m = err
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no error.message in {v}"));
        assert!(!c.is_empty() && !m.is_empty(), "empty code or message: {v}");
        if !code.is_empty() {
            assert_eq!(c, code, "error code; body {v}");
        }
        c.to_string()
    }
}

/// How a test wants its server started (see [`Server::start_with`]).
#[derive(Default)]
pub struct ServerOptions {
    /// The hall instead of [`demo_hall_with_pins`].
    pub hall: Option<hallcall_core::HallConfig>,
    /// The child's soft open-files limit (as a service manager might leave it).
    pub soft_nofile: Option<u64>,
    /// More `serve` arguments.
    pub args: Vec<String>,
    /// Environment variables of the child (e.g. `HALLCALL_HEADER_TIMEOUT_S`,
    /// which, unlike a flag, an older build under `HALLCALL_TEST_BIN` ignores).
    pub env: Vec<(String, String)>,
}

/// A `hallcall serve` child process with its own data directory and port.
/// Killed (SIGKILL) when dropped; its log is printed if the test failed.
pub struct Server {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    starts: u32,
    http: reqwest::Client,
    opts: ServerOptions,
}

impl Server {
    /// Starts a server on a free port with a fresh data directory.
    pub async fn start() -> Server {
        Server::start_with(ServerOptions::default()).await
    }

    /// Starts a server with options.
    pub async fn start_with(opts: ServerOptions) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("http client");
        let mut s = Server {
            port: 0,
            dir,
            child: None,
            starts: 0,
            http,
            opts,
        };
        // Another process may take the port between our probe and the
        // server's bind: try a few ports.
        for _ in 0..5 {
            s.port = free_port();
            s.write_config();
            if s.launch().await.is_ok() {
                s.wait_day_opened().await;
                return s;
            }
        }
        panic!("the server did not start; log:\n{}", s.log_tail());
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("hall.toml")
    }

    pub fn data_path(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn listen(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn write_config(&self) {
        let hall = self.opts.hall.clone().unwrap_or_else(demo_hall_with_pins);
        let text = hall_toml_of(&self.listen(), &self.data_path(), hall);
        std::fs::write(self.config_path(), text).expect("write hall.toml");
    }

    fn log_path(&self, n: u32) -> PathBuf {
        self.dir.path().join(format!("server-{n}.log"))
    }

    /// Spawns the child and waits for `/healthz`.
    async fn launch(&mut self) -> Result<(), String> {
        self.starts += 1;
        let log = std::fs::File::create(self.log_path(self.starts)).expect("log file");
        let mut cmd = Command::new(bin());
        if let Some(soft) = self.opts.soft_nofile {
            use std::os::unix::process::CommandExt;
            // SAFETY: only getrlimit/setrlimit (async-signal-safe) run in the child.
            unsafe {
                cmd.pre_exec(move || {
                    let mut lim = libc::rlimit {
                        rlim_cur: 0,
                        rlim_max: 0,
                    };
                    if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    lim.rlim_cur = soft.min(lim.rlim_max);
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let child = cmd
            .arg("serve")
            .arg("--config")
            .arg(self.config_path())
            .arg("--data")
            .arg(self.data_path())
            .arg("--listen")
            .arg(self.listen())
            .args(&self.opts.args)
            .envs(self.opts.env.iter().map(|(k, v)| (k, v)))
            .env("HALLCALL_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log clone"))
            .stderr(log)
            .spawn()
            .expect("spawn hallcall serve");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    self.child = None;
                    return Err(format!("server exited early: {status}"));
                }
            }
            if let Ok(r) = self
                .http
                .get(self.url("/healthz"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
            {
                // Only our own child counts: two tests can be handed the
                // same free port, and then the loser's health check reached
                // the winner's server (a test saw another test's tickets
                // ahead of its first one, 30 November 2026). Our server's
                // banner names the address it bound.
                if r.status().as_u16() == 200 && self.banner_says_listening() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                self.kill();
                return Err("no /healthz within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether this start's log has the banner our child prints once it
    /// listens on `self.port`.
    fn banner_says_listening(&self) -> bool {
        let want = format!("listening on http://{}", self.listen());
        std::fs::read_to_string(self.log_path(self.starts)).is_ok_and(|log| log.contains(&want))
    }

    /// The hall's first tick opens the business day (`day_opened`); waiting
    /// for it keeps `seq` still while a test compares it before and after.
    async fn wait_day_opened(&self) {
        let deadline = Instant::now() + PATIENCE;
        while self.seq().await == 0 {
            assert!(Instant::now() < deadline, "the business day never opened");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGHUP: the server reloads its configuration file.
    pub fn sighup(&self) {
        if let Some(c) = &self.child {
            // SAFETY: kill(2) on our own child's pid.
            unsafe {
                libc::kill(c.id() as libc::pid_t, libc::SIGHUP);
            }
        }
    }

    /// SIGTERM: graceful shutdown (the child keeps running until it exits;
    /// [`Server::kill`] or drop reaps it).
    pub fn sigterm(&self) {
        if let Some(c) = &self.child {
            // SAFETY: kill(2) on our own child's pid.
            unsafe {
                libc::kill(c.id() as libc::pid_t, libc::SIGTERM);
            }
        }
    }

    /// SIGKILL: no graceful shutdown, no final flush.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kills the server and starts it once more on the same directory and
    /// port; the error when it exits early (its log says why).
    pub async fn try_restart(&mut self) -> Result<(), String> {
        self.kill();
        self.launch().await
    }

    /// Starts the server again on the same data directory and port.
    pub async fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self.launch().await {
                Ok(()) => return,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("restart attempt failed ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("restart failed: {e}; log:\n{}", self.log_tail()),
            }
        }
    }

    pub fn log_tail(&self) -> String {
        let mut s = String::new();
        for n in 1..=self.starts {
            let text = std::fs::read_to_string(self.log_path(n)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(60);
            s += &format!("--- server start {n} ---\n{}\n", lines[from..].join("\n"));
        }
        s
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `/api/v1/halls/demo{rest}`
    pub fn hall_url(&self, rest: &str) -> String {
        self.url(&format!("/api/v1/halls/{HALL}{rest}"))
    }

    pub fn ws_url(&self, since: Option<u64>) -> String {
        let mut u = format!("ws://127.0.0.1:{}/api/v1/halls/{HALL}/events", self.port);
        if let Some(s) = since {
            u += &format!("?since={s}");
        }
        u
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub async fn send(&self, rb: reqwest::RequestBuilder) -> Resp {
        let r = rb.send().await.expect("HTTP request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = r.bytes().await.expect("body").to_vec();
        Resp {
            status,
            content_type,
            headers,
            body,
        }
    }

    fn auth(rb: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
        match token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    /// GET a hall path.
    pub async fn get(&self, rest: &str, token: Option<&str>) -> Resp {
        self.send(Self::auth(self.http.get(self.hall_url(rest)), token))
            .await
    }

    /// POST a JSON body (or nothing) to a hall path.
    pub async fn post(&self, rest: &str, token: Option<&str>, body: Option<Value>) -> Resp {
        let mut rb = Self::auth(self.http.post(self.hall_url(rest)), token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        self.send(rb).await
    }

    pub async fn state(&self) -> Value {
        self.get("/state", None).await.expect(200)
    }

    pub async fn seq(&self) -> u64 {
        self.state().await["seq"].as_u64().expect("state.seq")
    }

    /// Issues a ticket at the kiosk; returns the 201 body.
    pub async fn issue(&self, category: &str) -> Value {
        let v = self
            .post(
                "/tickets",
                Some(KIOSK),
                Some(json!({ "category": category })),
            )
            .await
            .expect(201);
        assert_eq!(v["category"], category, "{v}");
        v
    }

    /// A ticket's public status.
    pub async fn ticket(&self, id: &str) -> Value {
        self.get(&format!("/tickets/{id}"), None).await.expect(200)
    }

    /// A ticket's state (`waiting`, `called`, …).
    pub async fn ticket_state(&self, id: &str) -> String {
        self.ticket(id).await["state"]
            .as_str()
            .expect("state")
            .to_string()
    }

    /// Clerk login; returns the whole 200 body (with `token` and `duty`).
    pub async fn login_full(&self, staff: &str, window: u32) -> Value {
        let v = self
            .post(
                "/sessions",
                None,
                Some(json!({ "staff": staff, "pin": pin_of(staff), "window": window })),
            )
            .await
            .expect(200);
        assert_eq!(v["staff"], staff);
        assert_eq!(v["window"], window);
        v
    }

    /// Clerk login; returns the token.
    pub async fn login(&self, staff: &str, window: u32) -> String {
        self.login_full(staff, window).await["token"]
            .as_str()
            .expect("token")
            .to_string()
    }

    /// `POST /windows/{n}/{action}` with a token and an optional body.
    pub async fn act(&self, token: &str, window: u32, action: &str, body: Option<Value>) -> Resp {
        self.post(&format!("/windows/{window}/{action}"), Some(token), body)
            .await
    }

    /// call-next that must call someone; returns `{ticket, window}`.
    pub async fn call_next(&self, token: &str, window: u32) -> Value {
        let v = self.act(token, window, "call-next", None).await.expect(200);
        assert_eq!(v["window"], window, "{v}");
        v
    }

    /// The value of a metric line `name{hall="demo"} N`.
    pub async fn metric(&self, name: &str) -> Option<f64> {
        let r = self.send(self.http.get(self.url("/metrics"))).await;
        let text = r.text();
        let prefix = format!("{name}{{hall=\"{HALL}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse().ok())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("server log:\n{}", self.log_tail());
        }
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A display-like subscriber of `/api/v1/halls/demo/events`.
pub struct Sub {
    ws: Ws,
    /// Every text message received, as sent.
    pub raw: Vec<String>,
}

/// How a subscription ended or what it gave.
#[derive(Debug)]
pub enum Next {
    Msg(Value),
    Timeout,
    Closed(String),
}

impl Sub {
    pub async fn connect(server: &Server, since: Option<u64>) -> Sub {
        Sub::connect_url(server.ws_url(since)).await
    }

    /// Subscribes with a query string of its own, e.g. `view=1&ticket=ID`.
    pub async fn connect_with(server: &Server, query: &str) -> Sub {
        Sub::connect_url(format!("{}?{query}", server.ws_url(None))).await
    }

    async fn connect_url(url: String) -> Sub {
        let (ws, resp) = tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(&url))
            .await
            .unwrap_or_else(|_| panic!("WebSocket connect to {url} timed out"))
            .unwrap_or_else(|e| panic!("WebSocket connect to {url}: {e}"));
        assert_eq!(resp.status().as_u16(), 101);
        Sub {
            ws,
            raw: Vec::new(),
        }
    }

    /// The next text message, parsed.
    pub async fn next_within(&mut self, wait: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Next::Timeout,
                Ok(None) => return Next::Closed("end of stream".into()),
                Ok(Some(Err(e))) => return Next::Closed(e.to_string()),
                Ok(Some(Ok(Message::Text(t)))) => {
                    let s = t.as_str().to_string();
                    let v: Value = serde_json::from_str(&s)
                        .unwrap_or_else(|e| panic!("event is not JSON ({e}): {s}"));
                    self.raw.push(s);
                    return Next::Msg(v);
                }
                Ok(Some(Ok(Message::Close(f)))) => return Next::Closed(format!("close {f:?}")),
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// The next message; panics if none comes within [`PATIENCE`].
    #[track_caller]
    pub fn next(&mut self) -> impl std::future::Future<Output = Value> + '_ {
        let caller = std::panic::Location::caller();
        async move {
            match self.next_within(PATIENCE).await {
                Next::Msg(v) => v,
                other => panic!("{caller}: expected an event, got {other:?}"),
            }
        }
    }

    /// Messages up to and including the one with `seq`.
    pub async fn until_seq(&mut self, seq: u64) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let v = self.next().await;
            let s = v["seq"].as_u64();
            out.push(v);
            if s.is_some_and(|s| s >= seq) {
                return out;
            }
        }
    }

    /// Messages up to and including the first of this type.
    pub async fn until_type(&mut self, ty: &str) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let v = self.next().await;
            let done = v["type"] == ty;
            out.push(v);
            if done {
                return out;
            }
        }
    }

    /// Sends a text message (a page's `subscribe`).
    pub async fn send_json(&mut self, v: Value) {
        self.ws
            .send(Message::Text(v.to_string().into()))
            .await
            .expect("send on the WebSocket");
    }

    pub async fn close(mut self) {
        let _ = self.ws.send(Message::Close(None)).await;
        // Drain until the server acknowledges, briefly.
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(_)) = self.ws.next().await {}
        })
        .await;
    }
}

/// The `seq` of each message.
pub fn seqs(msgs: &[Value]) -> Vec<u64> {
    msgs.iter()
        .map(|m| m["seq"].as_u64().unwrap_or_else(|| panic!("no seq: {m}")))
        .collect()
}

/// Asserts `seqs` is exactly `from, from+1, …`.
#[track_caller]
pub fn assert_contiguous(seqs: &[u64], from: u64) {
    let want: Vec<u64> = (from..from + seqs.len() as u64).collect();
    assert_eq!(
        seqs,
        want.as_slice(),
        "seqs must continue without gap or repeat"
    );
}

/// Polls `f` until it returns `Some`, or panics after `wait`.
pub async fn eventually<T, F, Fut>(what: &str, wait: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + wait;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Server {
    /// The public form of the event with this `seq`, replayed from the log.
    pub async fn event_at(&self, seq: u64) -> Value {
        assert!(seq > 0);
        let mut sub = Sub::connect(self, Some(seq - 1)).await;
        let v = sub.next().await;
        assert_eq!(v["seq"], seq, "replay from {} started with {v}", seq - 1);
        sub.close().await;
        v
    }

    /// Every event of the log from seq 1 to the current seq, public form.
    pub async fn all_events(&self) -> Vec<Value> {
        let now = self.seq().await;
        let mut sub = Sub::connect(self, Some(0)).await;
        let evs = sub.until_seq(now).await;
        sub.close().await;
        assert_contiguous(&seqs(&evs), 1);
        evs
    }
}

/// A child process killed (SIGKILL) and reaped when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
