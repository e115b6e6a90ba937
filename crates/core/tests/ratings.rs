//! 好差评 (issue 13 item 13): the five national levels, a reason for the two
//! bad ones (kept in the log, not public), the supervisor's warning, and the
//! follow-up of a 差评 (待回访 / 已回访 / 已整改 + note) that outlives the
//! business day. Also appointment check-in after its day (item 12).

mod common;

use common::*;
use hallcall_core::hall::{FollowUpStatus, RatingReason};
use hallcall_core::*;

fn reason(codes: &[&str], text: &str) -> RatingReason {
    RatingReason {
        codes: codes.iter().map(|c| c.to_string()).collect(),
        text: text.into(),
    }
}

fn rate(h: &mut H, ticket: &str, score: u8, r: RatingReason) -> Result<Vec<Event>, Rejected> {
    h.run(
        Actor::Public,
        Command::Rate {
            ticket: ticket.into(),
            score,
            reason: r,
        },
    )
}

fn follow_up(
    h: &mut H,
    by: Actor,
    ticket: &str,
    status: FollowUpStatus,
    note: &str,
) -> Result<Vec<Event>, Rejected> {
    h.run(
        by,
        Command::FollowUpRating {
            ticket: ticket.into(),
            status,
            note: note.into(),
            handler: "王主任".into(),
        },
    )
}

/// A demo hall with one ticket served at window 1 by s01; its id.
fn served() -> (H, String) {
    let mut h = H::demo();
    h.login("s01", 1);
    let (id, _) = h.issue_as("general", Priority::Normal);
    h.serve(1, 300);
    (h, id)
}

#[test]
fn a_bad_rating_needs_a_reason_keeps_it_and_warns_the_supervisor() {
    let (mut h, id) = served();
    // 不满意 without a reason is refused (and changes nothing: `run` checks).
    assert_eq!(
        rate(&mut h, &id, 2, reason(&[], "  ")).unwrap_err(),
        Rejected::ReasonRequired(2)
    );
    assert_eq!(
        rate(&mut h, &id, 1, reason(&["rude"], "")).unwrap_err(),
        Rejected::UnknownReason("rude".into())
    );
    assert_eq!(
        rate(&mut h, &id, 1, reason(&[], &"等".repeat(201))).unwrap_err(),
        Rejected::ReasonTooLong { max: 200 }
    );
    let evs = rate(
        &mut h,
        &id,
        2,
        reason(&["long_wait", "not_told_at_once"], "材料清单没说全"),
    )
    .expect("rated");
    assert_eq!(H::types(&evs), ["rating_recorded", "warning"]);
    match &evs[0].kind {
        EventKind::RatingRecorded {
            score,
            reasons,
            comment,
            window,
            staff,
            ..
        } => {
            assert_eq!(*score, 2);
            assert_eq!(
                reasons,
                &[
                    hallcall_core::hall::ReasonCode::LongWait,
                    hallcall_core::hall::ReasonCode::NotToldAtOnce
                ]
            );
            assert_eq!(comment, "材料清单没说全");
            assert_eq!((*window, staff.as_deref()), (Some(1), Some("s01")));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(evs[0].by, Actor::Public);
    assert!(matches!(
        &evs[1].kind,
        EventKind::Warning {
            level: Level::Yellow,
            kind: WarningKind::BadRating,
            window: Some(1),
            detail: Some(WarningDetail::BadRating { score: 2 }),
            ..
        }
    ));
    let b = h.hall.bad_rating(&id).expect("on the 差评 list");
    assert_eq!(
        (b.number.as_str(), b.category.as_str(), b.status),
        ("A001", "general", FollowUpStatus::Pending)
    );
    // The reason is in the log: a hall rebuilt from it has the same list.
    let mut replay = Hall::new(h.hall.config().clone());
    for ev in &h.log {
        replay.apply(ev);
    }
    assert_eq!(replay.bad_rating(&id), Some(b));
}

#[test]
fn very_dissatisfied_is_a_red_warning_and_good_ratings_need_no_reason() {
    let (mut h, id) = served();
    let evs = rate(&mut h, &id, 1, reason(&["attitude"], "")).expect("rated");
    assert!(matches!(
        &evs[1].kind,
        EventKind::Warning {
            level: Level::Red,
            kind: WarningKind::BadRating,
            ..
        }
    ));
    h.issue("general");
    h.serve(1, 60);
    let id2 = h
        .hall
        .tickets()
        .find(|t| t.number == "A002")
        .unwrap()
        .id
        .to_string();
    let evs = rate(&mut h, &id2, 3, RatingReason::default()).expect("基本满意");
    assert_eq!(H::types(&evs), ["rating_recorded"]);
    assert!(h.hall.bad_rating(&id2).is_none());
    assert_eq!(h.hall.bad_ratings().count(), 1);
}

#[test]
fn reasons_and_notes_stay_off_the_public_stream() {
    let (mut h, id) = served();
    let evs = rate(&mut h, &id, 1, reason(&["attitude"], "态度很差")).unwrap();
    let public: Vec<String> = evs.iter().map(|e| e.public().to_json()).collect();
    for p in &public {
        assert!(!p.contains("attitude") && !p.contains("态度很差"), "{p}");
        assert!(!p.contains(&id), "no ticket id: {p}");
    }
    assert!(public[0].contains("\"score\":1"), "{}", public[0]);
    let evs = follow_up(
        &mut h,
        Actor::Supervisor,
        &id,
        FollowUpStatus::Contacted,
        "已电话致歉，13800000000",
    )
    .unwrap();
    let p = evs[0].public().to_json();
    assert!(p.contains("\"type\":\"rating_followed_up\""), "{p}");
    assert!(p.contains("\"status\":\"contacted\""), "{p}");
    assert!(
        !p.contains("致歉") && !p.contains("王主任") && !p.contains(&id),
        "{p}"
    );
    // The log keeps them.
    assert!(evs[0].to_json().contains("已电话致歉"));
}

#[test]
fn the_supervisor_follows_up_a_bad_rating_with_a_note() {
    let (mut h, id) = served();
    rate(&mut h, &id, 2, reason(&["slow"], "")).unwrap();
    assert_eq!(
        follow_up(
            &mut h,
            Actor::staff("s01"),
            &id,
            FollowUpStatus::Contacted,
            "x"
        )
        .unwrap_err(),
        Rejected::SupervisorOnly
    );
    assert_eq!(
        follow_up(
            &mut h,
            Actor::Supervisor,
            "nope",
            FollowUpStatus::Contacted,
            "x"
        )
        .unwrap_err(),
        Rejected::UnknownBadRating
    );
    assert_eq!(
        follow_up(
            &mut h,
            Actor::Supervisor,
            &id,
            FollowUpStatus::Contacted,
            " "
        )
        .unwrap_err(),
        Rejected::NoteRequired
    );
    assert_eq!(
        follow_up(
            &mut h,
            Actor::Supervisor,
            &id,
            FollowUpStatus::Rectified,
            &"改".repeat(501)
        )
        .unwrap_err(),
        Rejected::NoteTooLong { max: 500 }
    );
    let evs = follow_up(
        &mut h,
        Actor::Supervisor,
        &id,
        FollowUpStatus::Contacted,
        "已回访，群众表示理解",
    )
    .unwrap();
    assert_eq!(H::types(&evs), ["rating_followed_up"]);
    assert_eq!(evs[0].by, Actor::Supervisor);
    h.advance(3600);
    follow_up(
        &mut h,
        Actor::Supervisor,
        &id,
        FollowUpStatus::Rectified,
        "窗口增加材料清单",
    )
    .unwrap();
    let b = h.hall.bad_rating(&id).unwrap();
    assert_eq!(b.status, FollowUpStatus::Rectified);
    let steps: Vec<_> = b
        .follow_ups
        .iter()
        .map(|f| (f.status, f.note.as_str(), f.handler.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (FollowUpStatus::Contacted, "已回访，群众表示理解", "王主任"),
            (FollowUpStatus::Rectified, "窗口增加材料清单", "王主任")
        ]
    );
    // A good rating has nothing to follow up.
    h.issue("general");
    h.serve(1, 60);
    let id2 = h
        .hall
        .tickets()
        .find(|t| t.number == "A002")
        .unwrap()
        .id
        .to_string();
    rate(&mut h, &id2, 5, RatingReason::default()).unwrap();
    assert_eq!(
        follow_up(
            &mut h,
            Actor::Supervisor,
            &id2,
            FollowUpStatus::Contacted,
            "x"
        )
        .unwrap_err(),
        Rejected::UnknownBadRating
    );
}

#[test]
fn a_bad_rating_is_followed_up_after_its_day_and_leaves_the_list_90_days_after_handling() {
    let (mut h, id) = served();
    rate(&mut h, &id, 1, reason(&["other"], "")).unwrap();
    h.issue("general");
    h.serve(1, 60);
    let open = h
        .hall
        .tickets()
        .find(|t| t.number == "A002")
        .unwrap()
        .id
        .to_string();
    rate(&mut h, &open, 2, reason(&["slow"], "")).unwrap();
    h.advance(20 * 3600); // past midnight: the day closes, the tickets go
    assert!(H::types(&h.tick()).contains(&"day_closed"));
    assert!(h.hall.ticket(&id).is_none());
    // Next morning the supervisor calls back.
    follow_up(
        &mut h,
        Actor::Supervisor,
        &id,
        FollowUpStatus::Contacted,
        "已回访",
    )
    .unwrap();
    assert_eq!(h.hall.bad_ratings().count(), 2);
    // 91 days later: the handled one leaves the list, the open one stays.
    for _ in 0..91 {
        h.advance(24 * 3600);
        h.tick();
    }
    let left: Vec<_> = h.hall.bad_ratings().map(|b| b.ticket.clone()).collect();
    assert_eq!(left, [open]);
}

#[test]
fn an_appointment_of_an_earlier_day_cannot_be_checked_in() {
    let mut h = H::demo();
    let slot = NINE_AM + 3600 * 1000; // 10:00
    h.ok(
        Actor::Public,
        Command::BookAppointment {
            code: "123456".into(),
            category: "market".into(),
            slot_start: slot,
            phone: None,
        },
    );
    h.advance(24 * 3600); // the next day, 09:00
    h.tick();
    let e = h
        .run(
            Actor::Kiosk,
            Command::IssueTicket {
                id: "x".into(),
                category: "market".into(),
                priority: Priority::Normal,
                channel: Channel::Kiosk,
                appointment_code: Some("123456".into()),
            },
        )
        .unwrap_err();
    assert_eq!(e, Rejected::AppointmentExpired);
}
