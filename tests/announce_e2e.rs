//! End-to-end test of announcements (大厅广播): the server's
//! `GET /api/v1/halls/{hall}/announcements/{seq}.wav` and `hallcall announce`
//! rendering to WAV files (no sound device), against a running server.

mod support;

use std::io::Cursor;
use std::path::Path;
use std::process::{Command, Stdio};
use support::*;

/// Checks a WAV file: 16-bit integer mono with samples; returns the samples.
#[track_caller]
fn wav_samples(bytes: &[u8], what: &str) -> Vec<i16> {
    let r = hound::WavReader::new(Cursor::new(bytes))
        .unwrap_or_else(|e| panic!("{what}: not a WAV file: {e}"));
    let spec = r.spec();
    assert_eq!(spec.channels, 1, "{what}: mono");
    assert_eq!(spec.bits_per_sample, 16, "{what}: 16-bit");
    assert_eq!(spec.sample_format, hound::SampleFormat::Int, "{what}");
    assert!(spec.sample_rate >= 8000, "{what}: {spec:?}");
    let samples: Vec<i16> = r
        .into_samples::<i16>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{what}: bad samples: {e}"));
    assert!(!samples.is_empty(), "{what}: no samples");
    assert!(
        samples.iter().any(|s| s.unsigned_abs() > 100),
        "{what}: only silence"
    );
    samples
}

/// The finished `.wav` files of a directory (not the `.part` being written).
fn wav_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".wav") && !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The seq of the latest event of this type in the hall's log.
async fn last_seq_of(s: &Server, kind: &str) -> u64 {
    let events = s.all_events().await;
    let ev = events
        .iter()
        .rev()
        .find(|e| e["type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in the log"));
    ev["seq"].as_u64().expect("seq")
}

async fn wav_of(s: &Server, seq: u64, lang: &str) -> Resp {
    s.send(
        s.http()
            .get(s.hall_url(&format!("/announcements/{seq}.wav?lang={lang}"))),
    )
    .await
}

#[tokio::test]
async fn server_wav_and_the_announcer_say_the_same_call() {
    let s = Server::start().await;
    let t = s.login("s01", 1).await;
    s.issue("general").await;
    // The issue is followed by its `ticket_near_turn` (nobody ahead), so the
    // ticket_issued is looked up, not assumed to be the last event.
    let issued_seq = last_seq_of(&s, "ticket_issued").await;
    assert_eq!(s.event_at(issued_seq).await["type"], "ticket_issued");
    let call = s.call_next(&t, 1).await;
    assert_eq!(call["ticket"]["number"], "A001");
    let call_seq = s.seq().await;
    let ev = s.event_at(call_seq).await;
    assert_eq!(ev["type"], "ticket_called", "{ev}");
    assert_eq!(ev["number"], "A001");

    // The server renders the call.
    let r = wav_of(&s, call_seq, "zh").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.content_type, "audio/wav");
    let zh = wav_samples(&r.body, "server WAV");
    // Rendered again (from its cache): the same file.
    let again = s
        .send(
            s.http()
                .get(s.hall_url(&format!("/announcements/{call_seq}.wav"))),
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body, r.body, "zh is the default language");
    // Mandarin then English is longer than Mandarin alone.
    let both = wav_of(&s, call_seq, "zh%2Ben").await;
    assert_eq!(both.status, 200, "{}", both.text());
    assert!(wav_samples(&both.body, "zh+en WAV").len() > zh.len());

    // Not a call, no such event, not a seq, bad language: JSON errors.
    wav_of(&s, issued_seq, "zh")
        .await
        .expect_error(404, "not_announced");
    wav_of(&s, call_seq + 1000, "zh")
        .await
        .expect_error(404, "unknown_event");
    s.get("/announcements/abc.wav", None)
        .await
        .expect_error(404, "");
    wav_of(&s, call_seq, "fr")
        .await
        .expect_error(400, "bad_lang");

    // `hallcall announce` as a second process, rendering to files.
    let out = s.dir.path().join("wav");
    let log = std::fs::File::create(s.dir.path().join("announce.log")).expect("log");
    let help = Command::new(bin())
        .args(["announce", "--help"])
        .output()
        .expect("announce --help");
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in ["--hall", "--server", "--out", "--max-age"] {
        assert!(help.contains(flag), "announce --help lacks {flag}:\n{help}");
    }
    let subscribers_before = s.metric("hallcall_subscribers").await.unwrap_or(0.0);
    let announcer = KillOnDrop(
        Command::new(bin())
            .arg("announce")
            .args(["--hall", HALL])
            .args(["--server", &format!("127.0.0.1:{}", s.port)])
            .arg("--out")
            .arg(&out)
            .args(["--max-age", "0"])
            .env("HALLCALL_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn hallcall announce"),
    );
    let announce_log =
        || std::fs::read_to_string(s.dir.path().join("announce.log")).unwrap_or_default();
    // Connected (the server counts it) before the next call is made.
    eventually("the announcer to subscribe", PATIENCE, || async {
        let n = s.metric("hallcall_subscribers").await.unwrap_or(0.0);
        (n > subscribers_before).then_some(())
    })
    .await;

    // Serve A001, call A002: the announcer says it.
    s.act(&t, 1, "start", None).await.expect(200);
    s.act(&t, 1, "complete", None).await.expect(200);
    s.issue("general").await;
    let call = s.call_next(&t, 1).await;
    assert_eq!(call["ticket"]["number"], "A002");
    let seq2 = s.seq().await;
    let name2 = format!("{seq2}-A002-w1.wav");
    let file2 = out.join(&name2);
    eventually(&format!("{name2} from the announcer"), PATIENCE, || {
        let exists = file2.exists();
        async move { exists.then_some(()) }
    })
    .await;
    let from_announcer = std::fs::read(&file2).expect("read announcer WAV");
    let from_server = wav_of(&s, seq2, "zh").await;
    assert_eq!(from_server.status, 200, "{}", from_server.text());
    let a = wav_samples(&from_announcer, "announcer WAV");
    let b = wav_samples(&from_server.body, "server WAV");
    assert_eq!(
        from_announcer.len(),
        from_server.body.len(),
        "the same composer makes the same file"
    );
    assert_eq!(a, b, "the same samples");

    // A recall is said again, as its own file.
    s.act(&t, 1, "recall", None).await.expect(200);
    let seq3 = s.seq().await;
    let name3 = format!("{seq3}-A002-w1.wav");
    let file3 = out.join(&name3);
    eventually(&format!("{name3} (the recall)"), PATIENCE, || {
        let exists = file3.exists();
        async move { exists.then_some(()) }
    })
    .await;
    wav_samples(&std::fs::read(&file3).expect("read"), "recall WAV");

    // Each call once, in order, and nothing from before it connected (the
    // A001 call came with the snapshot; the queue says calls in seq order,
    // so it would have been written before A002's).
    let mut want = vec![name2.clone(), name3.clone()];
    want.sort();
    assert_eq!(wav_files(&out), want, "announcer log:\n{}", announce_log());
    drop(announcer);
}

/// A hall's own voice (`[hall.voice]`: said three times, window 1 is
/// "1号台"): the server renders with it, and `hallcall announce --config`
/// of the same file says exactly the same.
#[tokio::test]
async fn a_halls_own_voice_is_what_the_server_and_the_announcer_say() {
    let mut hall = demo_hall_with_pins();
    hall.voice = Some(toml::Value::Table(
        toml::from_str("repeat = 3\nwindow_names_zh = { 1 = \"{window}号台\" }\n")
            .expect("voice table"),
    ));
    let s = Server::start_with(ServerOptions {
        hall: Some(hall),
        ..ServerOptions::default()
    })
    .await;
    let out = s.dir.path().join("wav");
    let log = std::fs::File::create(s.dir.path().join("announce.log")).expect("log");
    let subscribers_before = s.metric("hallcall_subscribers").await.unwrap_or(0.0);
    let announcer = KillOnDrop(
        Command::new(bin())
            .arg("announce")
            .args(["--hall", HALL])
            .args(["--server", &format!("127.0.0.1:{}", s.port)])
            .arg("--config")
            .arg(s.config_path())
            .arg("--out")
            .arg(&out)
            .args(["--max-age", "0"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn hallcall announce"),
    );
    eventually("the announcer to subscribe", PATIENCE, || async {
        let n = s.metric("hallcall_subscribers").await.unwrap_or(0.0);
        (n > subscribers_before).then_some(())
    })
    .await;
    let t = s.login("s01", 1).await;
    s.issue("general").await;
    s.call_next(&t, 1).await;
    let seq = s.seq().await;
    let file = out.join(format!("{seq}-A001-w1.wav"));
    eventually("the call from the announcer", PATIENCE, || {
        let exists = file.exists();
        async move { exists.then_some(()) }
    })
    .await;
    let from_announcer = std::fs::read(&file).expect("read announcer WAV");
    // No lang: the hall's (zh).
    let r = s
        .send(
            s.http()
                .get(s.hall_url(&format!("/announcements/{seq}.wav"))),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        wav_samples(&r.body, "server WAV"),
        wav_samples(&from_announcer, "announcer WAV"),
        "the hall's voice, the same samples"
    );
    // And not the default voice (said twice, 1号窗口): longer.
    let pack = hallcall_announcer::VoicePack::builtin().expect("voice pack");
    let event = s.event_at(seq).await;
    let default = hallcall_announcer::render_event_wav(&pack, &event, hallcall_announcer::Lang::Zh)
        .expect("a call");
    assert!(
        wav_samples(&r.body, "server WAV").len() > wav_samples(&default, "default WAV").len(),
        "three times is longer than twice"
    );
    drop(announcer);
}
