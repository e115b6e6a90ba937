//! Schema-driven fuzzing of the API (issue 14 item 8): requests generated
//! from the server's own OpenAPI document, sent with every role (public,
//! kiosk, clerk, supervisor, evaluator, a bogus token) to a server started in
//! this process (`hallcall_server::cli::start`, the real router and accept
//! loop on a loopback port). Each answer must be below 500, an error must be
//! the JSON error shape, its status must be one the document lists for that
//! operation, and a 4xx must change nothing (the hall's `seq` before and
//! after). Seeded (`HALLCALL_FUZZ_SEED`, default 14) and sized
//! (`HALLCALL_FUZZ_REQUESTS`, default 3,000) so that a failure replays.

mod support;

use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};
use support::*;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    serve: hallcall_server::ServeArgs,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Strings that are wrong in most places.
const JUNK: [&str; 12] = [
    "",
    "x",
    "..",
    "%2e%2e",
    "nope",
    "0",
    "-1",
    "99999999999999999999999",
    "A001",
    "ü中文",
    "a b",
    "%00",
];

struct Gen {
    rng: StdRng,
    tickets: Vec<String>,
}

impl Gen {
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.rng.gen_range(0..xs.len())]
    }

    fn junk(&mut self) -> String {
        if self.rng.gen_bool(0.05) {
            return "y".repeat(self.rng.gen_range(100..3000));
        }
        self.pick(&JUNK).to_string()
    }

    fn ticket(&mut self) -> String {
        if !self.tickets.is_empty() && self.rng.gen_bool(0.7) {
            let i = self.rng.gen_range(0..self.tickets.len());
            return self.tickets[i].clone();
        }
        self.junk()
    }

    /// A value for a path or query parameter, by name and schema.
    fn param(&mut self, name: &str, schema: &Value) -> String {
        if let Some(values) = schema["enum"].as_array() {
            if self.rng.gen_bool(0.85) && !values.is_empty() {
                let v = &values[self.rng.gen_range(0..values.len())];
                return v.as_str().map_or_else(|| v.to_string(), str::to_string);
            }
            return self.junk();
        }
        if self.rng.gen_bool(0.15) {
            return self.junk();
        }
        match name {
            "hall" => "demo".into(),
            "n" => self.rng.gen_range(0..12).to_string(),
            "id" | "ticket" => self.ticket(),
            "staff" => format!("s{:02}", self.rng.gen_range(1..14)),
            "seq" => format!("{}.wav", self.rng.gen_range(0..40)),
            "date" | "from" | "to" => self
                .pick(&[
                    "2026-11-30",
                    "2026-12-01",
                    "2025-01-01",
                    "2026-02-30",
                    "today",
                ])
                .into(),
            "since" => self.rng.gen_range(0..60).to_string(),
            "category" => self.pick(&["general", "social", "civil", "nope"]).into(),
            "code" => self.pick(&["ABC123", "000000", "x"]).into(),
            _ => match schema["type"].as_str() {
                Some("integer") => self.rng.gen_range(-2..100).to_string(),
                Some("boolean") => self.pick(&["true", "false", "1"]).into(),
                _ => self.junk(),
            },
        }
    }

    /// A JSON value for a body property.
    fn value(&mut self, name: &str, schema: &Value, doc: &Value) -> Value {
        let schema = resolve(schema, doc);
        if let Some(values) = schema["enum"].as_array() {
            if self.rng.gen_bool(0.85) && !values.is_empty() {
                return values[self.rng.gen_range(0..values.len())].clone();
            }
        }
        if self.rng.gen_bool(0.1) {
            // The wrong type.
            return match self.rng.gen_range(0..4) {
                0 => json!(null),
                1 => json!(12),
                2 => json!([]),
                _ => json!(self.junk()),
            };
        }
        let ty = match &schema["type"] {
            Value::String(t) => t.clone(),
            Value::Array(ts) => ts
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("string")
                .to_string(),
            _ => "string".into(),
        };
        match (name, ty.as_str()) {
            ("category" | "next_category", _) => {
                json!(self.pick(&["general", "social", "civil", "nope"]))
            }
            ("staff", _) => json!(format!("s{:02}", self.rng.gen_range(1..14))),
            ("pin", _) => json!(self.pick(&["0101", "0303", "9999", "", "12345678901234567890"])),
            ("ticket", _) => json!(self.ticket()),
            ("score", _) => json!(self.rng.gen_range(0..7)),
            ("window", _) => json!(self.rng.gen_range(0..12)),
            ("slot_start" | "starts_at" | "ends_at", _) => {
                json!(self.pick(&["2026-12-01T09:00:00+08:00", "2026-11-30T23:00:00Z", "bad"]))
            }
            ("phone", _) => json!(self.pick(&["13800000000", "1", ""])),
            ("number", _) => json!(self.pick(&["A001", "A002", "B001", "Z999", ""])),
            (_, "integer") => json!(self.rng.gen_range(-2..100)),
            (_, "number") => json!(self.rng.gen_range(-2.0..100.0)),
            (_, "boolean") => json!(self.rng.gen_bool(0.5)),
            (_, "array") => json!([]),
            (_, "object") => json!({}),
            _ => json!(self.junk()),
        }
    }

    /// A body for a request-body schema: mostly plausible, sometimes broken.
    fn body(&mut self, schema: &Value, doc: &Value) -> (String, &'static str) {
        match self.rng.gen_range(0..100) {
            0..=5 => return ("{bad".into(), "application/json"),
            6..=8 => return ("category=general".into(), "text/plain"),
            9..=11 => return ("[]".into(), "application/json"),
            _ => {}
        }
        let schema = resolve(schema, doc);
        let mut obj = Map::new();
        if let Some(props) = schema["properties"].as_object() {
            for (k, s) in props {
                if self.rng.gen_bool(0.8) {
                    obj.insert(k.clone(), self.value(k, s, doc));
                }
            }
        }
        if self.rng.gen_bool(0.05) {
            obj.insert("unexpected".into(), json!(1));
        }
        (Value::Object(obj).to_string(), "application/json")
    }
}

/// Follows a `$ref` into `components`.
fn resolve<'a>(schema: &'a Value, doc: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .map(|s| resolve(s, doc))
            .unwrap_or(schema),
        None => match schema["allOf"].as_array().and_then(|a| a.first()) {
            Some(first) if schema.get("properties").is_none() => resolve(first, doc),
            _ => schema,
        },
    }
}

struct Op {
    method: String,
    path: String,
    op: Value,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzed_requests_get_documented_json_answers_and_4xx_change_nothing() {
    let started = std::time::Instant::now();
    let n: usize = env_or("HALLCALL_FUZZ_REQUESTS", 3000);
    let seed: u64 = env_or("HALLCALL_FUZZ_SEED", 14);
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let cfg = dir.path().join("hall.toml");
    std::fs::write(&cfg, hall_toml("127.0.0.1:0", &data)).expect("config");
    let cli = Cli::parse_from([
        "hallcall",
        "--config",
        cfg.to_str().expect("path"),
        "--data",
        data.to_str().expect("path"),
        "--listen",
        "127.0.0.1:0",
    ]);
    let (running, _, _) = hallcall_server::cli::start(&cli.serve)
        .await
        .expect("the server starts in this process");
    let base = format!("http://{}", running.addr);
    let http = reqwest::Client::new();
    let hall = format!("{base}/api/v1/halls/{HALL}");

    // What the roles need: tickets, two clerk sessions.
    let mut tickets = Vec::new();
    for cat in ["general", "social", "general", "civil"] {
        let r = http
            .post(format!("{hall}/tickets"))
            .bearer_auth(KIOSK)
            .json(&json!({ "category": cat }))
            .send()
            .await
            .expect("issue");
        let v: Value = r.json().await.expect("json");
        tickets.push(v["id"].as_str().expect("id").to_string());
    }
    let mut roles: Vec<Option<String>> = vec![
        None,
        Some(KIOSK.into()),
        Some(SUPERVISOR.into()),
        Some("evaluator-demo-01".into()),
        Some("bogus-token".into()),
    ];
    for (staff, window) in [("s01", 1), ("s03", 2)] {
        let r = http
            .post(format!("{hall}/sessions"))
            .json(&json!({ "staff": staff, "pin": pin_of(staff), "window": window }))
            .send()
            .await
            .expect("login");
        let v: Value = r.json().await.expect("json");
        roles.push(Some(v["token"].as_str().expect("token").to_string()));
    }

    let doc: Value = http
        .get(format!("{base}/api/v1/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("ops") {
            ops.push(Op {
                method: method.clone(),
                path: path.clone(),
                op: op.clone(),
            });
        }
    }
    let seq = |http: reqwest::Client, hall: String| async move {
        let v: Value = http
            .get(format!("{hall}/state"))
            .send()
            .await
            .expect("state")
            .json()
            .await
            .expect("json");
        v["seq"].as_u64().expect("seq")
    };

    let mut g = Gen {
        rng: StdRng::seed_from_u64(seed),
        tickets,
    };
    let mut failures: Vec<String> = Vec::new();
    let mut by_status: std::collections::BTreeMap<u16, usize> = Default::default();
    for i in 0..n {
        let op = &ops[g.rng.gen_range(0..ops.len())];
        // Path parameters.
        let params: Vec<Value> = op.op["parameters"].as_array().cloned().unwrap_or_default();
        let mut path = op.path.clone();
        let mut query: Vec<(String, String)> = Vec::new();
        for p in &params {
            let name = p["name"].as_str().unwrap_or_default();
            let value = g.param(name, &p["schema"]);
            match p["in"].as_str() {
                Some("path") => {
                    path = path.replace(&format!("{{{name}}}"), &value);
                }
                Some("query") if g.rng.gen_bool(0.5) => {
                    query.push((name.to_string(), value.clone()));
                    if g.rng.gen_bool(0.05) {
                        query.push((name.to_string(), value));
                    }
                }
                _ => {}
            }
        }
        // Now and then another method than the document's.
        let method = if g.rng.gen_bool(0.03) {
            g.pick(&["put", "patch", "delete", "post", "get"])
                .to_string()
        } else {
            op.method.clone()
        };
        let qs: String = query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let url = if qs.is_empty() {
            format!("{base}{path}")
        } else {
            format!("{base}{path}?{qs}")
        };
        let mut rb = http.request(method.to_uppercase().parse().expect("method"), url.as_str());
        let role = roles[g.rng.gen_range(0..roles.len())].clone();
        if let Some(t) = &role {
            rb = rb.bearer_auth(t);
        }
        if let Some(schema) = op
            .op
            .pointer("/requestBody/content/application~1json/schema")
        {
            let (body, ctype) = g.body(schema, &doc);
            rb = rb.header("content-type", ctype).body(body);
        }
        let before = seq(http.clone(), hall.clone()).await;
        let r = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("#{i} {method} {url}: no answer: {e}"));
                continue;
            }
        };
        let status = r.status().as_u16();
        *by_status.entry(status).or_default() += 1;
        let ctype = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = r.bytes().await.unwrap_or_default();
        let what = format!("#{i} {method} {url} (role {role:?}) -> {status}");
        if status >= 500 {
            failures.push(format!("{what}: 5xx {}", String::from_utf8_lossy(&body)));
        }
        if status >= 400 {
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let ok = ctype.starts_with("application/json")
                && v["error"]["code"].as_str().is_some_and(|c| !c.is_empty())
                && v["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty());
            if !ok {
                failures.push(format!(
                    "{what}: not the JSON error shape ({ctype}): {}",
                    String::from_utf8_lossy(&body[..body.len().min(200)])
                ));
            }
            if status < 500 {
                let after = seq(http.clone(), hall.clone()).await;
                if after != before {
                    failures.push(format!("{what}: seq {before} -> {after} on a {status}"));
                }
            }
        }
        // Another method than the document's may be another operation on
        // the path (or 405): below 500 it is judged by the checks above.
        let documented = if method == op.method {
            op.op["responses"].get(status.to_string()).is_some()
        } else {
            status < 500
        };
        if !documented {
            failures.push(format!(
                "{what}: status not documented for {} {}",
                op.method, op.path
            ));
        }
    }
    // A few paths the document does not have.
    for p in [
        "/nope",
        "/api/v1/halls/demo/nope",
        "/static/../Cargo.toml",
        "/static/nope.js",
    ] {
        let r = http.get(format!("{base}{p}")).send().await.expect("get");
        let status = r.status().as_u16();
        let ctype = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if status != 404 || !ctype.starts_with("application/json") {
            failures.push(format!("GET {p} -> {status} {ctype}"));
        }
    }
    let _ = running.shutdown.send(());
    eprintln!(
        "{n} fuzzed requests (seed {seed}) in {:.1} s; statuses {by_status:?}",
        started.elapsed().as_secs_f64()
    );
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} failures, the first:\n{}",
        failures.len(),
        failures
            .iter()
            .take(25)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
