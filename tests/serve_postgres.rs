//! `hallcall serve --store postgres://…`: the server keeps its log in
//! PostgreSQL instead of the data directory's sled, and a SIGKILL loses
//! nothing it acknowledged. Needs `HALLCALL_TEST_PG` (scripts/pg.sh sets it
//! in CI); without it the test says SKIPPED and passes.

mod support;

use std::process::Command;

use support::*;

/// A database of this test's own on the server named by `HALLCALL_TEST_PG`,
/// so a rerun never finds an earlier run's log.
fn fresh_database(url: &str) -> Option<String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!("serve_{}_{nanos}", std::process::id());
    let ok = Command::new("psql")
        .args([url, "-q", "-c", &format!("CREATE DATABASE {name}")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        return None;
    }
    let (base, _db) = url.rsplit_once('/')?;
    Some(format!("{base}/{name}"))
}

#[tokio::test]
async fn serve_on_postgres_keeps_every_acknowledged_ticket_through_sigkill() {
    let Ok(url) = std::env::var("HALLCALL_TEST_PG") else {
        eprintln!("SKIPPED serve_on_postgres: HALLCALL_TEST_PG is not set");
        return;
    };
    let db = fresh_database(&url).expect("psql creates a database for the test");
    let mut s = Server::start_with(ServerOptions {
        args: vec!["--store".into(), db.clone()],
        ..Default::default()
    })
    .await;
    let mut issued = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..5 {
        let t = s.issue("general").await;
        issued.push(t["number"].clone());
        ids.push(t["id"].as_str().unwrap_or_default().to_string());
    }
    let seq_before = s.seq().await;
    assert!(
        !s.data_path().join("db").exists(),
        "with --store postgres:// the data directory holds no sled log"
    );

    s.kill();
    s.restart().await;

    assert!(s.seq().await >= seq_before, "the log survived the SIGKILL");
    let next = s.issue("general").await["number"].clone();
    assert!(
        !issued.contains(&next),
        "a number issued before the kill is never issued again: {next} in {issued:?}"
    );
    for id in &ids {
        assert_eq!(
            s.ticket_state(id).await,
            "waiting",
            "ticket {id} is still waiting after the restart"
        );
    }
}
