use super::*;

const EXAMPLE: &str = include_str!("../../tests/data/hall.example.toml");

#[test]
fn the_example_file_parses_and_validates() {
    let mut cfg: Config = toml::from_str(EXAMPLE).expect("example parses");
    // The example leaves staff s02..s07 to the reader ("one [[hall.staff]] per person").
    for id in ["s02", "s03", "s04", "s05", "s06", "s07"] {
        cfg.halls[0].staff.push(StaffConfig {
            id: id.into(),
            name: id.into(),
            pin_hash: String::new(),
            staff_no: String::new(),
            photo: None,
        });
    }
    cfg.validate().expect("valid");
    let h = &cfg.halls[0];
    assert_eq!(h.id, "xili");
    assert_eq!(
        h.categories[3]
            .appointment_slots
            .as_ref()
            .map(|s| s.capacity),
        Some(2)
    );
    assert_eq!(h.windows[3].kind, WindowKind::Tidal);
    assert_eq!(h.tidal.min_open, 3);
    assert_eq!(h.day_close, TimeOfDay(18 * 60));
    assert_eq!(h.public_url, "https://xili.example.gov.cn");
    assert_eq!(h.supervision_phone, "0571-12345");
    assert_eq!(h.windows[0].name, "综合受理 1号窗口");
    assert!(h.windows[0].evaluator_token.is_some());
    assert_eq!(h.staff[0].staff_no, "XL0101");
    assert_eq!(h.printers.len(), 1);
    assert!(h.voice.is_some());
}

#[test]
fn display_key_mistakes_are_named() {
    let e = broken(|h| h.public_url = "xili.example.gov.cn".into());
    assert!(e.starts_with("hall[demo].public_url:"), "{e}");
    let e = broken(|h| h.supervision_phone = "call us".into());
    assert!(e.contains("supervision_phone"), "{e}");
    let e = broken(|h| h.windows[1].evaluator_token = h.windows[0].evaluator_token.clone());
    assert!(e.contains("window[2].evaluator_token"), "{e}");
    let e = broken(|h| h.windows[0].evaluator_token = Some("kiosk-demo".into()));
    assert!(e.contains("16-128"), "{e}");
    let e = broken(|h| h.staff[0].photo = Some("s01.gif".into()));
    assert!(e.contains("staff[s01].photo"), "{e}");
}

fn broken(edit: impl FnOnce(&mut HallConfig)) -> String {
    let mut h = crate::demo::demo_hall();
    edit(&mut h);
    h.validate().expect_err("must be refused").to_string()
}

#[test]
fn mistakes_are_named() {
    let e = broken(|h| h.categories[1].prefix = h.categories[0].prefix);
    assert!(e.contains("duplicate prefix"), "{e}");
    let e = broken(|h| h.windows[5].categories = vec!["nope".into()]);
    assert!(e.contains("unknown category"), "{e}");
    let e = broken(|h| h.windows[0].b_post = Some(h.windows[0].a_post.clone()));
    assert!(e.contains("B post must differ"), "{e}");
    let e = broken(|h| h.windows[0].a_post = "ghost".into());
    assert!(e.contains("unknown staff"), "{e}");
    let e = broken(|h| h.windows[1].number = h.windows[0].number);
    assert!(e.contains("duplicate window number"), "{e}");
    let e = broken(|h| h.tidal.close_per_window = 9.0);
    assert!(e.contains("hysteresis"), "{e}");
    let e = broken(|h| h.id = "Bad Id".into());
    assert!(e.contains("URL segment"), "{e}");
    let e = broken(|h| {
        // Only specialist windows, none of which serves 'complaint'.
        h.windows.retain(|w| w.kind == WindowKind::Specialist);
    });
    assert!(e.contains("no window can ever serve"), "{e}");
}

#[test]
fn unknown_keys_are_refused() {
    let e = Config::from_toml("[[hall]]\nid='x'\nname='x'\ncolour='red'\n").unwrap_err();
    assert!(e.to_string().contains("colour"), "{e}");
}
