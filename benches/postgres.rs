//! PostgreSQL store bench (`cargo bench --bench postgres`, with
//! `HALLCALL_TEST_PG` set: `eval "$(scripts/pg.sh)"` starts a throwaway
//! cluster): a durable command's latency beside a raw single-row INSERT +
//! COMMIT in the same run, on the same server, table shape and session
//! settings; group-commit throughput over 100 halls; and failover times of
//! two `hallcall serve --node` processes: SIGKILL or SIGSTOP of the owner
//! to the first command the other node accepts (`support/failover.rs`;
//! `HALLCALL_BENCH_ONLY=failover` runs only that part, with the default
//! lease unless `HALLCALL_BENCH_LEASE_MS` is set).
//!
//! Prints a table; the figures go to BENCHMARKS.md.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hallcall_core::Hall;
use hallcall_store::{Store, StoreOptions};

#[path = "support/failover.rs"]
mod failover;
#[path = "support/script.rs"]
mod script;
use script::{config, pct, us, Script};
use sqlx::{Connection, PgConnection};

const LATENCY_OPS: usize = 4_000;
const LATENCY_BLOCKS: usize = 20;
const CLIENTS: usize = 256;
const HALLS: usize = 100;
const LOAD_SECS: u64 = 5;

struct Row {
    name: String,
    ops: usize,
    p50: Duration,
    p99: Duration,
    rate: f64,
}

fn latency_row(name: &str, mut lat: Vec<Duration>, elapsed: Duration) -> Row {
    lat.sort_unstable();
    Row {
        name: name.into(),
        ops: lat.len(),
        p50: pct(&lat, 0.5),
        p99: pct(&lat, 0.99),
        rate: lat.len() as f64 / elapsed.as_secs_f64(),
    }
}

fn options(schema: &str) -> StoreOptions {
    StoreOptions {
        pg_schema: Some(schema.into()),
        ..StoreOptions::default()
    }
}

/// A session like the store's: the bench schema, synchronous commit.
async fn raw_connection(url: &str, schema: &str) -> PgConnection {
    let mut c = PgConnection::connect(url).await.expect("connect");
    for set in [
        format!("SET search_path = {schema}"),
        "SET synchronous_commit = on".to_string(),
    ] {
        sqlx::query(&set)
            .execute(&mut c)
            .await
            .expect("session settings");
    }
    c
}

/// Single-client latency: raw (one prepared single-row INSERT of a real
/// event, autocommit, i.e. INSERT + COMMIT in one round trip) and the store
/// (decide + append + await durable per command), in alternating blocks so
/// both see the same server state and background noise.
async fn latency(url: &str, schema: &str) -> (Row, Row) {
    let store = Store::open_postgres(url, options(schema)).expect("open");
    let mut s = Script::new(store.recover(config(0)).expect("recover"));
    let mut raw = raw_connection(url, schema).await;
    sqlx::query("CREATE TABLE raw_events (LIKE events INCLUDING ALL)")
        .execute(&mut raw)
        .await
        .expect("raw table");
    let mut sample = Script::new(Hall::new(config(1)));
    let value: Vec<String> = (0..50)
        .flat_map(|_| sample.step())
        .map(|e| serde_json::to_string(&e).unwrap_or_default())
        .collect();
    let (mut raw_lat, mut ours) = (Vec::new(), Vec::new());
    let (mut raw_time, mut our_time) = (Duration::ZERO, Duration::ZERO);
    let mut seq = 0i64;
    for _ in 0..LATENCY_BLOCKS {
        let t0 = Instant::now();
        for _ in 0..LATENCY_OPS / LATENCY_BLOCKS {
            let t = Instant::now();
            seq += 1;
            sqlx::query("INSERT INTO raw_events (hall, seq, body) VALUES ($1, $2, $3)")
                .bind("raw")
                .bind(seq)
                .bind(&value[seq as usize % value.len()])
                .execute(&mut raw)
                .await
                .expect("insert");
            raw_lat.push(t.elapsed());
        }
        raw_time += t0.elapsed();
        let t0 = Instant::now();
        for _ in 0..LATENCY_OPS / LATENCY_BLOCKS {
            let t = Instant::now();
            let evs = s.step();
            store.append("b000", evs).await.expect("durable");
            store.maybe_snapshot(&s.hall).expect("snapshot");
            ours.push(t.elapsed());
        }
        our_time += t0.elapsed();
    }
    store.shutdown().await;
    (
        latency_row(
            "raw: single-row INSERT + COMMIT, 1 client",
            raw_lat,
            raw_time,
        ),
        latency_row("store: durable command, 1 client", ours, our_time),
    )
}

/// `CLIENTS` tasks over `HALLS` halls for `LOAD_SECS`, each deciding and
/// appending under its hall's lock and awaiting durability outside it, as
/// the server's hall tasks do.
async fn concurrent(url: &str, schema: &str) -> (Row, u64) {
    let store = Store::open_postgres(url, options(schema)).expect("open");
    let halls: Vec<Arc<Mutex<Script>>> = (0..HALLS)
        .map(|i| {
            Arc::new(Mutex::new(Script::new(
                store.recover(config(100 + i)).expect("recover"),
            )))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(LOAD_SECS);
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let hall = halls[c % HALLS].clone();
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut events = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                let durable = {
                    let mut s = hall.lock().unwrap_or_else(|e| e.into_inner());
                    let evs = s.step();
                    events += evs.len() as u64;
                    let d = store.append(s.hall.id(), evs);
                    store.maybe_snapshot(&s.hall).expect("snapshot");
                    d
                };
                durable.await.expect("durable");
                lat.push(t.elapsed());
            }
            (lat, events)
        }));
    }
    let mut lat = Vec::new();
    let mut events = 0;
    for t in tasks {
        let (l, e) = t.await.expect("client");
        lat.extend(l);
        events += e;
    }
    let el = t0.elapsed();
    store.shutdown().await;
    (
        latency_row(
            &format!("store: {CLIENTS} clients over {HALLS} halls"),
            lat,
            el,
        ),
        events,
    )
}

fn main() {
    let Ok(url) = std::env::var("HALLCALL_TEST_PG") else {
        eprintln!(
            "set HALLCALL_TEST_PG to a PostgreSQL URL (eval \"$(scripts/pg.sh)\" starts a throwaway cluster)"
        );
        std::process::exit(2);
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let only_failover = std::env::var("HALLCALL_BENCH_ONLY").is_ok_and(|v| v == "failover");
    if !only_failover {
        latency_and_throughput(&rt, &url);
    }
    let lease_ms = std::env::var("HALLCALL_BENCH_LEASE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let db = rt.block_on(fresh_database(&url));
    let f = rt.block_on(failover::run(&db, lease_ms, 5, 3));
    rt.block_on(drop_database(&url, &db));
    let secs = |v: &[Duration]| {
        v.iter()
            .map(|d| format!("{:.2}", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let worst = |v: &[Duration]| v.iter().max().copied().unwrap_or_default();
    println!();
    println!("failover, 2 nodes, lease {} ms:", f.lease_ms);
    println!(
        "  SIGKILL of the owner -> first command accepted by the other node (s): {}; worst {:.2} (target <= 5) {}",
        secs(&f.kills),
        worst(&f.kills).as_secs_f64(),
        if worst(&f.kills) <= Duration::from_secs(5) { "MET" } else { "MISSED" }
    );
    let stop_goal = Duration::from_millis(f.lease_ms + 2_000);
    println!(
        "  SIGSTOP of the owner -> first command accepted by the other node (s): {}; worst {:.2} (target <= lease + 2 = {:.1}) {}",
        secs(&f.stops),
        worst(&f.stops).as_secs_f64(),
        stop_goal.as_secs_f64(),
        if worst(&f.stops) <= stop_goal { "MET" } else { "MISSED" }
    );
}

/// A database of its own for the failover nodes (they use the default
/// schema), named after this process.
async fn fresh_database(url: &str) -> String {
    let name = format!("bench_failover_{}", std::process::id());
    let mut c = PgConnection::connect(url).await.expect("connect");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .await
        .expect("create the failover database");
    let (base, _) = url.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{name}")
}

/// Drops the failover database (its nodes have stopped).
async fn drop_database(url: &str, db: &str) {
    let Some((_, name)) = db.rsplit_once('/') else {
        return;
    };
    let mut c = PgConnection::connect(url).await.expect("connect");
    if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut c)
        .await
    {
        eprintln!("could not drop {name}: {e}");
    }
}

fn latency_and_throughput(rt: &tokio::runtime::Runtime, url: &str) {
    let url = url.to_string();
    let schema = format!("bench_{}", std::process::id());
    let ((raw, single), (conc, conc_events), version) = rt.block_on(async {
        let lat = latency(&url, &schema).await;
        let conc = concurrent(&url, &schema).await;
        let mut c = raw_connection(&url, &schema).await;
        let version: String = sqlx::query_scalar("SHOW server_version")
            .fetch_one(&mut c)
            .await
            .unwrap_or_default();
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&mut c)
            .await
            .expect("drop the bench schema");
        (lat, conc, version)
    });
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!(
        "hallcall PostgreSQL store bench: PostgreSQL {version} on the same box, {cores} cores"
    );
    println!();
    println!(
        "| {:<42} | {:>8} | {:>9} | {:>9} | {:>10} |",
        "case", "ops", "p50 µs", "p99 µs", "ops/s"
    );
    println!(
        "|{:-<44}|{:->10}|{:->11}|{:->11}|{:->12}|",
        "", "", "", "", ""
    );
    for r in [&raw, &single, &conc] {
        println!(
            "| {:<42} | {:>8} | {:>9.0} | {:>9.0} | {:>10.0} |",
            r.name,
            r.ops,
            us(r.p50),
            us(r.p99),
            r.rate
        );
    }
    println!();
    let ratio = single.p50.as_secs_f64() / raw.p50.as_secs_f64().max(1e-9);
    println!(
        "single-command p50 / raw INSERT+COMMIT p50 = {ratio:.2} (target <= 1.30) {}",
        if ratio <= 1.3 { "MET" } else { "MISSED" }
    );
    println!(
        "durable commands/s with group commit over {HALLS} halls = {:.0} ({:.0} events/s; target >= 20,000) {}",
        conc.rate,
        conc_events as f64 / LOAD_SECS as f64,
        if conc.rate >= 20_000.0 { "MET" } else { "MISSED" }
    );
}
