use std::time::Duration;

use hallcall_store::{Store, StoreOptions};

use super::*;

fn day() -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
}

#[tokio::test]
async fn a_session_survives_a_reload_and_a_new_one_replaces_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = Sessions::load(dir.path()).expect("empty");
    let first = s.begin("demo", "s01", 1, day()).await.expect("begin");
    let again = Sessions::load(dir.path()).expect("reload");
    assert_eq!(
        again
            .get("demo", "s01")
            .await
            .expect("get")
            .map(|x| x.nonce),
        Some(first.clone())
    );
    let second = s.begin("demo", "s01", 1, day()).await.expect("begin");
    assert_ne!(first, second);
    assert!(s.end("demo", "s01").await.expect("end"));
    assert!(!s.end("demo", "s01").await.expect("end"));
    assert_eq!(
        Sessions::load(dir.path())
            .expect("reload")
            .get("demo", "s01")
            .await
            .expect("get"),
        None
    );
}

#[test]
fn a_damaged_table_refuses_to_load() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join(FILE), b"{\"version\":1,\"ha").expect("write");
    let e = Sessions::load(dir.path()).err().expect("refused");
    assert!(e.to_string().contains("delete it"), "{e}");
}

use hallcall_store::testing::two_nodes;

/// On PostgreSQL a session follows the hall from node to node: the node
/// taking a hall over reads the sessions the old owner wrote, checks tokens
/// from memory afterwards (no database read per check), and a session it
/// ends stays ended when the hall moves back. The old owner, its lease
/// gone, cannot write a session at all.
#[tokio::test]
async fn sessions_follow_the_hall_from_node_to_node() {
    let Some((a, b)) = two_nodes("follow") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let (sa, sb) = (
        Sessions::open(dir.path(), &a).expect("a"),
        Sessions::open(dir.path(), &b).expect("b"),
    );
    assert!(sa.shared() && sb.shared());
    let lease = Duration::from_millis(500);
    let la = a.leases("a", "127.0.0.1:1", lease).expect("leases a");
    let lb = b.leases("b", "127.0.0.1:2", lease).expect("leases b");

    assert!(la.acquire("h").await.expect("acquire"));
    assert_eq!(sa.take_over("h").await.expect("take over"), 0);
    let nonce = sa.begin("h", "s01", 1, day()).await.expect("login on a");
    assert!(!dir.path().join(FILE).exists(), "nothing in the file");

    // a stops (its lease lapses); b takes the hall over.
    tokio::time::sleep(lease + Duration::from_millis(150)).await;
    assert!(lb.acquire("h").await.expect("acquire"));
    assert_eq!(sb.take_over("h").await.expect("take over"), 1);
    let reads = sb.store_reads();
    for _ in 0..100 {
        let s = sb.get("h", "s01").await.expect("get").expect("the session");
        assert_eq!(s.nonce, nonce, "a's token is the current session on b");
        assert_eq!(s.window, 1);
    }
    assert_eq!(
        sb.store_reads(),
        reads,
        "token checks are answered from memory"
    );

    // The old owner wakes: it may not write the hall's sessions.
    let stale = sa.begin("h", "s01", 1, day()).await;
    assert!(
        matches!(stale, Err(SessionsError::NotOwner(_))),
        "{stale:?}"
    );
    let stale_end = sa.end("h", "s01").await;
    assert!(
        matches!(stale_end, Err(SessionsError::NotOwner(_))),
        "{stale_end:?}"
    );
    // b ends the session (logout); it stays ended when a gets the hall back.
    assert!(sb.end("h", "s01").await.expect("end on b"));
    assert_eq!(sb.get("h", "s01").await.expect("get"), None);
    lb.release("h").await.expect("release");
    sb.forget("h");
    assert!(la.acquire("h").await.expect("acquire"));
    assert_eq!(sa.take_over("h").await.expect("take over"), 0);
    assert_eq!(
        sa.get("h", "s01").await.expect("get"),
        None,
        "a does not resurrect the session it cached before"
    );
    a.shutdown().await;
    b.shutdown().await;
}

/// A single node on PostgreSQL (no leases) reads a hall's sessions at its
/// first token check, once.
#[tokio::test]
async fn a_hall_not_taken_over_is_read_at_its_first_token_check() {
    let Ok(url) = std::env::var("HALLCALL_TEST_PG") else {
        eprintln!("SKIPPED lazy sessions: HALLCALL_TEST_PG is not set");
        return;
    };
    let schema = format!("t_srv_lazy_{}", std::process::id());
    let opts = || StoreOptions {
        pg_schema: Some(schema.clone()),
        ..StoreOptions::default()
    };
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open_postgres(&url, opts()).expect("open");
    let nonce = {
        let s = Sessions::open(dir.path(), &store).expect("open");
        s.begin("h", "s02", 4, day()).await.expect("begin")
    };
    // A restart: a new process, nothing cached.
    let s = Sessions::open(dir.path(), &store).expect("open");
    assert_eq!(s.store_reads(), 0);
    let got = s.get("h", "s02").await.expect("get").expect("found");
    assert_eq!((got.nonce.as_str(), got.window), (nonce.as_str(), 4));
    assert_eq!(s.get("h", "nobody").await.expect("get"), None);
    assert_eq!(s.store_reads(), 1, "one read for the hall, then memory");
    store.shutdown().await;
}
