//! Test support for this crate's tests and the server's (feature
//! `testing`): stores of two cluster nodes on one fresh PostgreSQL schema.

use crate::{Store, StoreOptions};

/// Two nodes' stores (`a`, `b`) on one fresh schema of the database named by
/// `HALLCALL_TEST_PG`; `None` (and a SKIPPED line) without it. `test` names
/// the schema, with the process id and the time, so parallel tests and
/// earlier runs never share one.
pub fn two_nodes(test: &str) -> Option<(Store, Store)> {
    let Ok(url) = std::env::var("HALLCALL_TEST_PG") else {
        eprintln!("SKIPPED {test}: HALLCALL_TEST_PG is not set");
        return None;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let schema = format!("t_{test}_{}_{nanos}", std::process::id());
    let open = |node: &str| {
        Store::open_postgres(
            &url,
            StoreOptions {
                pg_schema: Some(schema.clone()),
                pg_node: Some(node.into()),
                ..StoreOptions::default()
            },
        )
        .expect("open")
    };
    Some((open("a"), open("b")))
}
