//! Operations against the real binary: a consistent backup taken while the
//! server runs (`hallcall backup` signals it), a backup of a stopped data
//! directory, and `hallcall restore` into a fresh directory the server then
//! starts on with exactly what the backup held.

mod support;

use std::process::Command;

use support::*;

fn hallcall(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin())
        .args(args)
        .output()
        .expect("run hallcall");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

#[tokio::test]
async fn backup_while_running_then_restore_brings_back_exactly_the_backup() {
    let mut s = Server::start().await;
    let mut before = Vec::new();
    for _ in 0..3 {
        before.push(str_of(&s.issue("general").await["id"]));
    }
    let data = s.data_path();
    let data_s = data.display().to_string();

    // The server holds the data directory: the command asks it to back up.
    let (ok, path, err) = hallcall(&["backup", "--data", &data_s]);
    assert!(ok, "backup while running failed: {err}");
    assert!(
        std::path::Path::new(&path).is_dir(),
        "no backup at {path:?}"
    );
    assert!(
        path.starts_with(&data_s),
        "a running server backs up under its data dir: {path}"
    );

    // Acknowledged after the backup: must not come back from it.
    let after = str_of(&s.issue("general").await["id"]);

    // Stop the server; put the restored backup where it will start again.
    s.kill();
    let old = s.dir.path().join("data.old");
    std::fs::rename(&data, &old).expect("move data away");
    // A directory that is not a backup restores nothing: refused.
    let (ok, _, err) = hallcall(&["restore", "--from", &path, "--data", &data_s]);
    assert!(!ok, "restoring from a missing backup must fail");
    assert!(err.contains("not a hallcall backup"), "{err}");
    let path = path.replacen(&data_s, &old.display().to_string(), 1);
    let (ok, out, err) = hallcall(&["restore", "--from", &path, "--data", &data_s]);
    assert!(ok, "restore failed: {err}");
    assert!(out.contains("restored"), "{out}");

    // Restoring over a directory that holds a store is refused.
    let (ok, _, err) = hallcall(&["restore", "--from", &path, "--data", &data_s]);
    assert!(!ok, "restore over an existing store must be refused");
    assert!(!err.is_empty());

    s.restart().await;
    for id in &before {
        let r = s.get(&format!("/tickets/{id}"), None).await;
        assert_eq!(
            r.status,
            200,
            "ticket {id} from before the backup: {}",
            r.text()
        );
    }
    let r = s.get(&format!("/tickets/{after}"), None).await;
    r.expect_error(404, "unknown_ticket");
    // Numbering continues from the backup: the 4th general ticket is A004 again,
    // issued once in this restored history.
    let next = s.issue("general").await;
    assert_eq!(next["number"], "A004", "{next}");

    // A stopped data directory is backed up directly.
    let old_s = old.display().to_string();
    let to = s.dir.path().join("offline-backup");
    let to_s = to.display().to_string();
    let (ok, out, err) = hallcall(&["backup", "--data", &old_s, "--to", &to_s]);
    assert!(ok, "offline backup failed: {err}");
    assert_eq!(out, to_s);
    assert!(to.is_dir());
}

fn str_of(v: &serde_json::Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}
