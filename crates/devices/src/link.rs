//! One open connection to a device, whatever the transport, with a timeout
//! on every operation: a printer that was switched off must cost the kiosk a
//! few seconds, never a hung ticket request.
//!
//! Serial ports use the `serialport` crate, which is blocking; each operation
//! runs on tokio's blocking pool and the port is handed back afterwards. A
//! port whose operation timed out is dropped (its thread may still be stuck
//! in the driver) and the next operation fails with [`LinkError::Closed`], so
//! callers reopen.

use std::io::{Read, Write};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::connect::{Connect, Flow, Parity};

/// What went wrong talking to a device. `target` is the `connect` string.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The device could not be opened or connected to.
    #[error("cannot open {target}: {source}")]
    Open {
        /// The device.
        target: String,
        /// Why.
        source: std::io::Error,
    },
    /// No answer within the timeout.
    #[error("{target}: timed out ({what})")]
    Timeout {
        /// The device.
        target: String,
        /// What was being done.
        what: &'static str,
    },
    /// Reading or writing failed.
    #[error("{target}: {source}")]
    Io {
        /// The device.
        target: String,
        /// Why.
        source: std::io::Error,
    },
    /// The device closed the connection, or a timed-out serial port was dropped.
    #[error("{target}: connection closed")]
    Closed {
        /// The device.
        target: String,
    },
}

/// An open device.
pub struct Link {
    target: String,
    inner: Inner,
}

enum Inner {
    Tcp(TcpStream),
    File(tokio::fs::File),
    Serial(Option<Box<dyn serialport::SerialPort>>),
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("target", &self.target)
            .finish()
    }
}

async fn open_file(path: &std::path::Path, read: bool) -> std::io::Result<tokio::fs::File> {
    tokio::fs::OpenOptions::new()
        .read(read)
        .write(true)
        .open(path)
        .await
}

impl Link {
    /// Opens (connects to) a device.
    pub async fn open(connect: &Connect, timeout: Duration) -> Result<Link, LinkError> {
        let target = connect.to_string();
        let t = target.clone();
        let timed_out = move |what| LinkError::Timeout { target: t, what };
        let open_err = |source| LinkError::Open {
            target: target.clone(),
            source,
        };
        let inner = match connect {
            Connect::Tcp { host, port } => {
                let s = tokio::time::timeout(timeout, TcpStream::connect((host.as_str(), *port)))
                    .await
                    .map_err(|_| timed_out("connect"))?
                    .map_err(open_err)?;
                // Tickets and frames are small and wanted now.
                let _ = s.set_nodelay(true);
                Inner::Tcp(s)
            }
            Connect::File { path } => {
                // Read for status answers; a device node the service may
                // only write to still prints (status reads then fail).
                let first = tokio::time::timeout(timeout, open_file(path, true)).await;
                let f = match first {
                    Err(_) => return Err(timed_out("open")),
                    Ok(Err(e)) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                        tokio::time::timeout(timeout, open_file(path, false))
                            .await
                            .map_err(|_| timed_out("open"))?
                            .map_err(open_err)?
                    }
                    Ok(r) => r.map_err(open_err)?,
                };
                Inner::File(f)
            }
            Connect::Serial(s) => {
                let builder = serialport::new(&s.path, s.baud)
                    .data_bits(match s.data_bits {
                        5 => serialport::DataBits::Five,
                        6 => serialport::DataBits::Six,
                        7 => serialport::DataBits::Seven,
                        _ => serialport::DataBits::Eight,
                    })
                    .parity(match s.parity {
                        Parity::None => serialport::Parity::None,
                        Parity::Odd => serialport::Parity::Odd,
                        Parity::Even => serialport::Parity::Even,
                    })
                    .stop_bits(if s.stop_bits == 2 {
                        serialport::StopBits::Two
                    } else {
                        serialport::StopBits::One
                    })
                    .flow_control(match s.flow {
                        Flow::None => serialport::FlowControl::None,
                        Flow::Software => serialport::FlowControl::Software,
                        Flow::Hardware => serialport::FlowControl::Hardware,
                    })
                    .timeout(timeout);
                let port = tokio::time::timeout(
                    timeout,
                    tokio::task::spawn_blocking(move || builder.open()),
                )
                .await
                .map_err(|_| timed_out("open"))?
                .map_err(|e| open_err(std::io::Error::other(e)))?
                .map_err(|e| open_err(std::io::Error::from(e)))?;
                Inner::Serial(Some(port))
            }
        };
        Ok(Link { target, inner })
    }

    /// The `connect` string of the device.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Writes all of `bytes` and flushes them to the device.
    pub async fn write_all(&mut self, bytes: &[u8], timeout: Duration) -> Result<(), LinkError> {
        let target = self.target.clone();
        let io = |source| LinkError::Io {
            target: target.clone(),
            source,
        };
        let timed_out = || LinkError::Timeout {
            target: target.clone(),
            what: "write",
        };
        match &mut self.inner {
            Inner::Tcp(s) => tokio::time::timeout(timeout, async {
                s.write_all(bytes).await?;
                s.flush().await
            })
            .await
            .map_err(|_| timed_out())?
            .map_err(io),
            Inner::File(f) => tokio::time::timeout(timeout, async {
                f.write_all(bytes).await?;
                f.flush().await
            })
            .await
            .map_err(|_| timed_out())?
            .map_err(io),
            Inner::Serial(slot) => {
                let mut port = slot.take().ok_or_else(|| LinkError::Closed {
                    target: target.clone(),
                })?;
                let data = bytes.to_vec();
                let job = tokio::task::spawn_blocking(move || {
                    let r = port.write_all(&data).and_then(|()| port.flush());
                    (port, r)
                });
                match tokio::time::timeout(timeout, job).await {
                    Ok(Ok((port, r))) => {
                        *slot = Some(port);
                        r.map_err(io)
                    }
                    Ok(Err(join)) => Err(io(std::io::Error::other(join))),
                    Err(_) => Err(timed_out()),
                }
            }
        }
    }

    /// Reads one byte (a status answer).
    pub async fn read_byte(&mut self, timeout: Duration) -> Result<u8, LinkError> {
        let target = self.target.clone();
        let io = |source| LinkError::Io {
            target: target.clone(),
            source,
        };
        let timed_out = || LinkError::Timeout {
            target: target.clone(),
            what: "read",
        };
        let closed = || LinkError::Closed {
            target: target.clone(),
        };
        let mut b = [0u8; 1];
        let n = match &mut self.inner {
            Inner::Tcp(s) => tokio::time::timeout(timeout, s.read(&mut b))
                .await
                .map_err(|_| timed_out())?
                .map_err(io)?,
            Inner::File(f) => tokio::time::timeout(timeout, f.read(&mut b))
                .await
                .map_err(|_| timed_out())?
                .map_err(io)?,
            Inner::Serial(slot) => {
                let mut port = slot.take().ok_or_else(closed)?;
                let job = tokio::task::spawn_blocking(move || {
                    let mut b = [0u8; 1];
                    let r = port.set_timeout(timeout).map_err(std::io::Error::from);
                    let r = r.and_then(|()| port.read(&mut b));
                    (port, r, b[0])
                });
                // The port's own timeout ends the read; ours is the backstop.
                match tokio::time::timeout(timeout + Duration::from_millis(500), job).await {
                    Ok(Ok((port, r, byte))) => {
                        *slot = Some(port);
                        match r {
                            Ok(n) => {
                                b[0] = byte;
                                n
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                                return Err(timed_out())
                            }
                            Err(e) => return Err(io(e)),
                        }
                    }
                    Ok(Err(join)) => return Err(io(std::io::Error::other(join))),
                    Err(_) => return Err(timed_out()),
                }
            }
        };
        if n == 0 {
            return Err(closed());
        }
        Ok(b[0])
    }

    /// Whether the other end has gone away, checked without waiting: a TCP
    /// peer that closed the connection, whose close the next write would not
    /// notice (the write lands in the socket buffer and is lost). Bytes the
    /// device sent unasked (acknowledgements) are read and dropped, so they
    /// cannot fill the receive window. Other transports report `false`.
    pub fn peer_closed(&mut self) -> bool {
        let Inner::Tcp(s) = &mut self.inner else {
            return false;
        };
        let mut buf = [0u8; 256];
        loop {
            match s.try_read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
                Err(_) => return true,
            }
        }
    }

    /// Closes the connection politely (TCP: shutdown, so the device sees the
    /// end of the job).
    pub async fn close(mut self, timeout: Duration) {
        if let Inner::Tcp(s) = &mut self.inner {
            let _ = tokio::time::timeout(timeout, s.shutdown()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn a_tcp_peer_that_hung_up_is_noticed_before_writing() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let c = Connect::parse(&format!("tcp://{}", l.local_addr().expect("addr"))).expect("c");
        let t = Duration::from_secs(2);

        // A controller that acknowledges and stays: open, acks drained.
        let mut link = Link::open(&c, t).await.expect("open");
        let (mut s, _) = l.accept().await.expect("accept");
        s.write_all(b"OK\r\nOK\r\n").await.expect("ack");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!link.peer_closed());
        assert!(!link.peer_closed());

        // It hangs up: noticed without a write.
        drop(s);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(link.peer_closed());
    }
}
