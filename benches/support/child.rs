//! The server child both load benches (`benches/fanout.rs`,
//! `benches/city.rs`) start: terminated when dropped, and read until it
//! says it listens. Included with `#[path]`.

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::time::Duration;

/// A child process that is terminated (SIGTERM, then SIGKILL after 5 s) when
/// dropped.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // SAFETY: signalling our own child by its pid.
        unsafe {
            libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM);
        }
        for _ in 0..100 {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads the child's stdout until a line containing `marker`; returns that
/// line and keeps draining the rest on a thread.
pub fn wait_for_line(
    child: &mut Child,
    marker: &str,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let out = child.stdout.take().ok_or("no stdout")?;
    let mut reader = BufReader::new(out);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(format!("child exited before printing {marker:?}").into());
        }
        if line.contains(marker) {
            break;
        }
    }
    std::thread::spawn(move || {
        let mut sink = String::new();
        while matches!(reader.read_line(&mut sink), Ok(n) if n > 0) {
            sink.clear();
        }
    });
    Ok(line)
}
