//! The announcer's errors. Messages are for the hall's operator (Chinese,
//! with the technical detail kept verbatim).

use std::path::PathBuf;

/// Everything that can go wrong in the announcer.
#[derive(Debug, thiserror::Error)]
pub enum AnnounceError {
    /// `--voice DIR` is not a directory.
    #[error("语音包目录不存在或不是目录: {dir}")]
    PackDir {
        /// The directory given.
        dir: PathBuf,
    },
    /// A voice pack lacks a clip.
    #[error("语音包缺少文件 {path}（应录音:“{text}”）；文件名见 sounds/README.md")]
    MissingClip {
        /// The expected file.
        path: PathBuf,
        /// What the clip should say.
        text: &'static str,
    },
    /// A clip could not be read or decoded.
    #[error("语音文件无法读取 {path}: {reason}")]
    BadClip {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Clips of one pack have different sample rates.
    #[error("语音文件采样率不一致 {path}: {found} Hz，其他文件为 {expected} Hz（请统一转换，例如 sox in.wav -r {expected} out.wav）")]
    SampleRateMismatch {
        /// The odd file.
        path: PathBuf,
        /// The pack's rate (from the first clip).
        expected: u32,
        /// This file's rate.
        found: u32,
    },
    /// `--server` / `--hall` do not make a valid WebSocket URL.
    #[error("服务器地址无效 {input:?}: {reason}")]
    BadServerUrl {
        /// What was given.
        input: String,
        /// Why it is rejected.
        reason: String,
    },
    /// The voice settings (`[hall.voice]`, `--config`) are invalid.
    #[error("播报设置无效: {0}")]
    Voice(String),
    /// A command-line value is invalid.
    #[error("参数无效: {0}")]
    BadOption(String),
    /// The render directory cannot be created or written.
    #[error("无法写入语音输出目录 {path}: {source}")]
    Output {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The sound device failed (only with the `speaker` feature).
    #[error("声卡输出失败: {0}")]
    Device(String),
    /// The playback thread could not be started or died.
    #[error("播放线程异常: {0}")]
    Player(String),
}
