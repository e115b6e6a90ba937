//! Renders one hall event (JSON) to a WAV file, to listen to the voice pack.
//!
//!   cargo run -p hallcall-announcer --example say -- \
//!     '{"seq":17,"type":"ticket_called","number":"A012","window":3}' /tmp/a.wav zh+en [VOICE_DIR] [HALL_TOML HALL_ID]

use hallcall_announcer::{
    compose, describe, render_wav, Announcement, Lang, Voice, VoiceConfig, VoicePack,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(event), Some(out)) = (args.first(), args.get(1)) else {
        return Err(
            "usage: say EVENT_JSON OUT.wav [zh|zh+en] [VOICE_DIR|builtin] [HALL_TOML HALL_ID]"
                .into(),
        );
    };
    let lang = match args.get(2).map(String::as_str) {
        None | Some("zh") => Lang::Zh,
        Some("zh+en") => Lang::ZhEn,
        Some(other) => return Err(format!("unknown language {other}").into()),
    };
    let pack = match args.get(3).map(String::as_str) {
        Some("builtin") | None => VoicePack::builtin()?,
        Some(dir) => VoicePack::load(dir)?,
    };
    let config = match (args.get(4), args.get(5)) {
        (Some(file), Some(hall)) => VoiceConfig::load(file.as_ref(), hall)?,
        _ => VoiceConfig::default(),
    };
    let voice = Voice::new(config, &pack)?;
    let value: serde_json::Value = serde_json::from_str(event)?;
    let a = Announcement::from_event(&value).ok_or("this event is not announced")?;
    let clips = compose(&a, &voice, lang);
    println!("{}", describe(&clips));
    println!("{:.3} s", pack.duration(&clips).as_secs_f64());
    std::fs::write(out, render_wav(&pack, &clips))?;
    Ok(())
}
