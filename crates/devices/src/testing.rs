//! Virtual devices that decode what hallcall sends (feature `testing`):
//! a TCP ESC/POS printer that answers `DLE EOT` with a settable status, and
//! a TCP LED controller that decodes frames by a [`FrameSpec`].
//!
//! They listen on 127.0.0.1 only, and end when dropped.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::decode::{Decoded, Decoder};
use crate::led::frame::{DecodedFrame, FrameSpec};
use crate::printer::PrinterStatus;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Default)]
struct PrinterShared {
    status: PrinterStatus,
    answer_status: bool,
    jobs: Vec<Decoded>,
    status_requests: usize,
}

/// A network ESC/POS printer on 127.0.0.1: every connection's bytes are
/// decoded; a connection that printed something is a job.
pub struct VirtualPrinter {
    port: u16,
    shared: Arc<Mutex<PrinterShared>>,
    jobs_changed: Arc<Notify>,
    task: JoinHandle<()>,
}

impl VirtualPrinter {
    /// Starts listening on an ephemeral port, with paper and the cover shut.
    pub async fn start() -> std::io::Result<VirtualPrinter> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Mutex::new(PrinterShared {
            answer_status: true,
            ..PrinterShared::default()
        }));
        let jobs_changed = Arc::new(Notify::new());
        let (s, n) = (Arc::clone(&shared), Arc::clone(&jobs_changed));
        let task = tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (s, n) = (Arc::clone(&s), Arc::clone(&n));
                tokio::spawn(async move {
                    let mut dec = Decoder::new();
                    let mut buf = [0u8; 4096];
                    loop {
                        let got = match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(k) => k,
                        };
                        for req in dec.push(&buf[..got]) {
                            let answer = {
                                let mut g = lock(&s);
                                g.status_requests += 1;
                                g.answer_status.then(|| g.status.encode(req))
                            };
                            if let Some(a) = answer {
                                if sock.write_all(&[a]).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let job = dec.finish();
                    if job.printed_anything() || !job.errors.is_empty() {
                        lock(&s).jobs.push(job);
                        n.notify_waiters();
                    }
                });
            }
        });
        Ok(VirtualPrinter {
            port,
            shared,
            jobs_changed,
            task,
        })
    }

    /// `tcp://127.0.0.1:PORT`.
    pub fn connect(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    /// What the printer answers from now on.
    pub fn set_status(&self, status: PrinterStatus) {
        lock(&self.shared).status = status;
    }

    /// Stop answering `DLE EOT` (a printer that hangs).
    pub fn set_answers_status(&self, on: bool) {
        lock(&self.shared).answer_status = on;
    }

    /// `DLE EOT` requests received so far.
    pub fn status_requests(&self) -> usize {
        lock(&self.shared).status_requests
    }

    /// Jobs printed so far.
    pub fn jobs(&self) -> Vec<Decoded> {
        lock(&self.shared).jobs.clone()
    }

    /// Waits until at least `n` jobs were printed, or `timeout`.
    pub async fn wait_jobs(&self, n: usize, timeout: Duration) -> Vec<Decoded> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.jobs_changed.notified();
            let jobs = self.jobs();
            if jobs.len() >= n {
                return jobs;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.jobs();
            }
        }
    }
}

impl Drop for VirtualPrinter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Decodes a byte stream into frames by `spec`, skipping bytes before a
/// header (as a controller on a noisy RS-485 line does). Returns the frames
/// and the bytes left over (an incomplete frame).
pub fn split_frames(spec: &FrameSpec, mut bytes: &[u8]) -> (Vec<DecodedFrame>, Vec<u8>) {
    let mut frames = Vec::new();
    loop {
        match spec.decode(bytes) {
            Ok(Some((frame, used))) => {
                frames.push(frame);
                bytes = &bytes[used..];
            }
            Ok(None) => return (frames, bytes.to_vec()),
            Err(_) => {
                // Resynchronise one byte further on.
                if bytes.is_empty() {
                    return (frames, Vec::new());
                }
                bytes = &bytes[1..];
            }
        }
    }
}

/// An LED controller on 127.0.0.1 that decodes frames.
pub struct VirtualLed {
    port: u16,
    frames: Arc<Mutex<Vec<DecodedFrame>>>,
    changed: Arc<Notify>,
    task: JoinHandle<()>,
}

impl VirtualLed {
    /// Starts listening on an ephemeral port.
    pub async fn start(spec: FrameSpec) -> std::io::Result<VirtualLed> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let frames = Arc::new(Mutex::new(Vec::new()));
        let changed = Arc::new(Notify::new());
        let (f, n) = (Arc::clone(&frames), Arc::clone(&changed));
        let task = tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (f, n, spec) = (Arc::clone(&f), Arc::clone(&n), spec.clone());
                tokio::spawn(async move {
                    let mut pending = Vec::new();
                    let mut buf = [0u8; 1024];
                    while let Ok(k) = sock.read(&mut buf).await {
                        if k == 0 {
                            break;
                        }
                        pending.extend_from_slice(&buf[..k]);
                        let (got, rest) = split_frames(&spec, &pending);
                        pending = rest;
                        if !got.is_empty() {
                            lock(&f).extend(got);
                            n.notify_waiters();
                        }
                    }
                });
            }
        });
        Ok(VirtualLed {
            port,
            frames,
            changed,
            task,
        })
    }

    /// `tcp://127.0.0.1:PORT`.
    pub fn connect(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    /// Frames received so far.
    pub fn frames(&self) -> Vec<DecodedFrame> {
        lock(&self.frames).clone()
    }

    /// Waits until `pred` holds for the frames received, or `timeout`.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        pred: impl Fn(&[DecodedFrame]) -> bool,
    ) -> Vec<DecodedFrame> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            let frames = self.frames();
            if pred(&frames) {
                return frames;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.frames();
            }
        }
    }
}

impl Drop for VirtualLed {
    fn drop(&mut self) {
        self.task.abort();
    }
}
