//! # hallcall-announcer — 大厅广播
//!
//! Turns hall events into speech: chime + “请 A012 号 到 3 号窗口 办理”
//! (optionally followed by “Number A012, please go to window 3”), composed
//! from a voice pack of short clips (`sounds/` in the repository, embedded in
//! the binary; any directory with the same file names via [`VoicePack::load`]).
//!
//! ## What this crate owns
//! - the voice pack format and loading ([`VoicePack`], [`ClipId`]);
//! - how a call is read out: the hall's voice settings (templates such as
//!   `请{number}号到{window_name}办理`, window names such as 3号台, repeat count;
//!   [`VoiceConfig`], compiled against a pack into a [`Voice`]),
//!   Mandarin/English number reading and the clip sequence of an
//!   announcement, as plain data from pure functions
//!   ([`Announcement::from_event`], [`compose`], [`Clip`]);
//! - rendering that sequence: a rodio [`AnnouncementSource`] and an in-memory
//!   WAV file ([`render_wav`], what `GET /api/v1/halls/{hall}/announcements/{seq}.wav`
//!   serves);
//! - the `hallcall announce` client ([`AnnounceArgs`], [`run`]): follows the
//!   hall's event stream over WebSocket and announces each call once (said
//!   `repeat` times after one chime, default twice), one announcement at a time.
//!
//! ## What it must never do
//! - **Never decide call order.** It says what the hall already decided, in
//!   event (`seq`) order; it has no opinion on who is next.
//! - **Never block the hall.** It is only a subscriber: the event stream is
//!   read continuously and playback runs on its own thread, so a slow or
//!   missing sound card cannot hold up the server; the WAV renderer is a cheap
//!   pure function the server can call inline.
//! - **Never crash for want of a sound device.** Without the `speaker`
//!   feature, or when no device opens, it logs a warning and renders each
//!   announcement to a WAV file in `--out DIR` instead. Bad events are
//!   skipped, not fatal; network trouble means reconnecting with backoff and
//!   `since=<last seq>`, so no call is said twice or missed.
//!
//! ## Cargo feature `speaker`
//! Off by default. `speaker` enables rodio's playback (cpal, ALSA on Linux)
//! through the default output device. Building it needs the ALSA headers:
//! `apt-get install -y libasound2-dev pkg-config`. Without it rodio is still
//! used (`default-features = false`) for its `Source` trait only.
//! On a machine without a sound card, libasound prints its own `ALSA lib …`
//! lines to stderr when the device is probed; the announcer then warns once
//! and renders WAV files as without the feature.
//!
//! ## Server usage
//! ```no_run
//! use hallcall_announcer::{compose, render_wav, Announcement, Lang, VoicePack};
//! let pack = VoicePack::builtin()?; // once, at start-up; share as Arc<VoicePack>
//! let voice = pack.default_voice(); // or Voice::new(VoiceConfig::load(file, hall)?, &pack)?
//! let event: serde_json::Value = serde_json::from_str(
//!     r#"{"seq":17,"type":"ticket_called","number":"A012","window":3,"recall":false}"#,
//! )?;
//! if let Some(a) = Announcement::from_event(&event) {
//!     let wav: Vec<u8> = render_wav(&pack, &compose(&a, &voice, Lang::Zh)); // audio/wav
//!     # drop(wav);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]
#![deny(clippy::unwrap_used)]

mod client;
mod clips;
mod compose;
mod error;
mod event;
mod level;
mod number;
mod pack;
mod player;
mod render;
mod voice;

pub use client::{
    events_url, parse_duration, run, run_until, with_since, AnnounceArgs, AnnounceOptions,
    RunReport,
};
pub use clips::{Clip, ClipId};
pub use compose::{
    compose, compose_repeated, describe, sentence, Lang, CARDINAL_CROSSFADE_MS, CHIME_GAP_MS,
    LANG_GAP_MS, MAX_JOIN_GAP_MS, PAUSE_MS, REPEAT_GAP_MS, TICKET_CHAR_GAP_MS, WORD_GAP_MS,
};
pub use error::AnnounceError;
pub use event::{is_snapshot, message_seq, Announcement, AnnouncementKind};
pub use level::{gated_rms_dbfs, peak, rms_dbfs};
pub use number::{en_cardinal, zh_cardinal};
pub use pack::VoicePack;
#[cfg(feature = "speaker")]
pub use player::SpeakerOutput;
pub use player::{
    open_output, AnnouncementQueue, Job, Output, Said, WavDirOutput, DEFAULT_OUT_DIR,
};
pub use render::{render_samples, render_wav, AnnouncementSource};
pub use voice::{Voice, VoiceConfig, MAX_REPEAT};

/// Parses one event and renders it as a WAV file with the default voice
/// settings ([`VoicePack::default_voice`]: chime, said twice), or `None` if
/// the event is not announced (what the server's `announcements/{seq}.wav`
/// route needs). Same samples as `hallcall announce` without `--config`.
pub fn render_event_wav(
    pack: &VoicePack,
    event: &serde_json::Value,
    lang: Lang,
) -> Option<Vec<u8>> {
    render_event_wav_with(pack, &pack.default_voice(), event, lang)
}

/// [`render_event_wav`] with a hall's own voice settings (`[hall.voice]`,
/// see [`VoiceConfig::from_toml_str`]).
pub fn render_event_wav_with(
    pack: &VoicePack,
    voice: &Voice,
    event: &serde_json::Value,
    lang: Lang,
) -> Option<Vec<u8>> {
    Announcement::from_event(event).map(|a| render_wav(pack, &compose(&a, voice, lang)))
}
