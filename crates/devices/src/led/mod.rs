//! LED bars over the windows (窗口条屏), driven by `hallcall led`.
//!
//! [`board`] folds the hall's event stream into what each window shows,
//! [`config`] turns that into text with per-state templates, [`frame`] into
//! the vendor's bytes, and [`client`] writes them over a serial port or TCP
//! whenever a window's text changes.

pub mod board;
pub mod client;
pub mod config;
pub mod frame;
