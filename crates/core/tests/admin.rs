//! Administration from the browser (issue 15 item 10): each edit is decided
//! like a reload (refused edits change nothing: `H::run` checks), logged as
//! an attributed `config_edited`, public without the PIN hash, and replayed.

mod common;

use common::*;
use hallcall_core::config::WindowKind;
use hallcall_core::hall::admin::ConfigEdit;
use hallcall_core::*;

fn edit(h: &mut H, e: ConfigEdit) -> Result<Vec<Event>, Rejected> {
    h.run(Actor::Supervisor, Command::EditConfig { edit: Box::new(e) })
}

#[test]
fn staff_are_added_posted_and_retired_and_the_log_replays_the_edits() {
    let mut h = H::demo();
    h.tick();
    let evs = edit(
        &mut h,
        ConfigEdit::AddStaff {
            id: "s99".into(),
            name: "赵新人".into(),
            staff_no: "0099".into(),
            pin_hash: "$argon2id$fake".into(),
        },
    )
    .expect("add");
    assert_eq!(H::types(&evs), ["config_edited"]);
    assert_eq!(evs[0].by, Actor::Supervisor);
    let public = evs[0].public().to_json();
    assert!(
        public.contains("\"op\":\"add_staff\"") && public.contains("\"target\":\"s99\""),
        "{public}"
    );
    assert!(
        !public.contains("argon2"),
        "the PIN hash is never public: {public}"
    );
    assert_eq!(
        h.hall.config().staff("s99").map(|s| s.name.as_str()),
        Some("赵新人")
    );

    // A second add of the same id, and an unknown category, are refused.
    let again = ConfigEdit::AddStaff {
        id: "s99".into(),
        name: "x".into(),
        staff_no: String::new(),
        pin_hash: "h".into(),
    };
    assert!(matches!(edit(&mut h, again), Err(Rejected::BadConfig(_))));
    let w6 = h.hall.config().window(6).expect("window 6").clone();
    let bad = ConfigEdit::SetWindow {
        number: 6,
        kind: WindowKind::Specialist,
        categories: vec!["nope".into()],
        a_post: "s99".into(),
        b_post: None,
    };
    assert!(matches!(edit(&mut h, bad), Err(Rejected::BadConfig(_))));

    // Post s99 on window 6 (A), keep its B post; s99 logs in there.
    edit(
        &mut h,
        ConfigEdit::SetWindow {
            number: 6,
            kind: w6.kind,
            categories: w6.categories.clone(),
            a_post: "s99".into(),
            b_post: w6.b_post.clone(),
        },
    )
    .expect("post");
    h.login("s99", 6);

    // Retiring a posted (and seated) clerk is refused; unposted, it works.
    let retire = || ConfigEdit::RetireStaff { id: "s99".into() };
    assert!(matches!(
        edit(&mut h, retire()),
        Err(Rejected::BadConfig(_))
    ));
    h.ok(
        Actor::staff("s99"),
        Command::Logout {
            staff: "s99".into(),
            window: 6,
        },
    );
    edit(
        &mut h,
        ConfigEdit::SetWindow {
            number: 6,
            kind: w6.kind,
            categories: w6.categories.clone(),
            a_post: w6.a_post.clone(),
            b_post: w6.b_post.clone(),
        },
    )
    .expect("post back");
    edit(&mut h, retire()).expect("retire");
    assert!(h.hall.config().staff("s99").is_none());

    let mut replayed = Hall::new(hallcall_core::demo::demo_hall());
    for e in &h.log {
        replayed.apply(e);
    }
    assert!(replayed == h.hall, "the log replays every edit");
}

#[test]
fn pins_targets_and_caps_are_edited_and_validated_like_the_file() {
    let mut h = H::demo();
    h.tick();
    edit(
        &mut h,
        ConfigEdit::ResetPin {
            id: "s01".into(),
            pin_hash: "$argon2id$new".into(),
        },
    )
    .expect("reset");
    assert_eq!(
        h.hall.config().staff("s01").map(|s| s.pin_hash.as_str()),
        Some("$argon2id$new")
    );
    assert!(matches!(
        edit(
            &mut h,
            ConfigEdit::ResetPin {
                id: "nobody".into(),
                pin_hash: "x".into()
            }
        ),
        Err(Rejected::UnknownStaff(_))
    ));

    let set = |limit_s, cap| ConfigEdit::SetCategory {
        id: "general".into(),
        expected_s: 240,
        limit_s,
        wait_target_s: 900,
        daily_cap: cap,
    };
    // limit_s 0 is refused by the file's own check, naming the field.
    match edit(&mut h, set(0, None)) {
        Err(Rejected::BadConfig(m)) => assert!(m.contains("limit_s"), "{m}"),
        other => panic!("{other:?}"),
    }
    edit(&mut h, set(600, Some(2))).expect("targets");
    let c = h.hall.config().category("general").expect("general");
    assert_eq!(
        (c.expected_s, c.limit_s, c.wait_target_s, c.daily_cap),
        (240, 600, 900, Some(2))
    );
    // The cap applies at once: the third general ticket is refused.
    h.issue("general");
    h.issue("general");
    assert!(h
        .run(
            Actor::Kiosk,
            Command::IssueTicket {
                id: "t-cap".into(),
                category: "general".into(),
                priority: Priority::Normal,
                channel: Channel::Kiosk,
                appointment_code: None,
            },
        )
        .is_err());
}
