//! One test per hall rule (SPEC: Domain, Call order, Tidal windows, Estimates
//! and warnings). Every refused command is also checked to change nothing,
//! by the `H::run` driver.

mod common;

use common::*;
use hallcall_core::*;

fn w(window: u32) -> Command {
    Command::CallNext { window }
}

#[test]
fn numbers_use_the_prefix_and_their_own_daily_sequence() {
    let mut h = H::demo();
    assert_eq!(h.issue("general"), "A001");
    assert_eq!(h.issue("general"), "A002");
    assert_eq!(h.issue("social"), "B001");
    assert_eq!(h.issue("general"), "A003");
}

#[test]
fn numbering_grows_a_fourth_digit_past_999() {
    let mut h = H::demo();
    for _ in 0..999 {
        h.issue("civil");
    }
    assert_eq!(h.issue("civil"), "C1000");
}

#[test]
fn day_close_expires_waiting_tickets_and_resets_numbering() {
    let mut h = H::demo();
    h.issue("general");
    h.issue("general");
    h.advance(20 * 3600); // past midnight: the demo hall closes its day at 24:00
    let evs = h.tick();
    assert_eq!(
        H::types(&evs),
        [
            "ticket_expired",
            "ticket_expired",
            "day_closed",
            "day_opened"
        ]
    );
    assert_eq!(h.issue("general"), "A001");
}

#[test]
fn a_hall_outside_its_opening_hours_issues_nothing() {
    let mut cfg = small_hall();
    cfg.open_hours = vec![hallcall_core::time::TimeRange::parse("08:30-12:00").unwrap()];
    cfg.day_close = hallcall_core::time::TimeOfDay::parse("18:00").unwrap();
    let mut h = H::new(cfg);
    h.advance(4 * 3600); // 13:00
    let e = h
        .run(
            Actor::Kiosk,
            Command::IssueTicket {
                id: "x".into(),
                category: "general".into(),
                priority: Priority::Normal,
                channel: Channel::Kiosk,
                appointment_code: None,
            },
        )
        .unwrap_err();
    assert_eq!(e, Rejected::HallClosed);
}

#[test]
fn clerk_login_opens_the_window_and_calls_in_issue_order() {
    let mut h = H::demo();
    assert_eq!(
        H::types(&h.login("s01", 1)),
        ["day_opened", "window_opened"]
    );
    h.issue("social");
    h.advance(1);
    h.issue("general");
    assert_eq!(h.call(1).as_deref(), Some("B001"));
    let e = h.clerk(1, w(1)).unwrap_err();
    assert!(matches!(e, Rejected::WindowBusy { .. }), "{e}");
}

#[test]
fn green_channel_goes_ahead_by_its_bonus_but_not_further() {
    let mut h = H::demo();
    h.login("s01", 1);
    h.issue("general"); // A001 at 09:00
    h.advance(20 * 60);
    h.issue("general"); // A002 at 09:20
    h.advance(60);
    let (_, green) = h.issue_as("general", Priority::Elderly); // 09:21 - 15 min = 09:06
    assert_eq!(green, "A003");
    assert_eq!(
        h.serve(1, 60).as_deref(),
        Some("A001"),
        "issued before the bonus reaches"
    );
    assert_eq!(
        h.serve(1, 60).as_deref(),
        Some("A003"),
        "the elderly citizen passes A002"
    );
    assert_eq!(h.serve(1, 60).as_deref(), Some("A002"));
    assert_eq!(h.call(1), None, "nothing waits: no event");
}

#[test]
fn a_specialist_window_serves_only_its_categories() {
    let mut h = H::demo();
    h.login("s11", 6); // market only
    h.issue("general");
    h.issue("market");
    assert_eq!(h.call(6).as_deref(), Some("D001"));
    let e = h
        .run(Actor::staff("s11"), Command::Complete { window: 6 })
        .unwrap_err();
    assert_eq!(e, Rejected::NothingServing(6));
}

#[test]
fn a_clerk_acts_only_for_their_own_window() {
    let mut h = H::demo();
    h.login("s01", 1);
    h.login("s03", 2);
    h.issue("general");
    let e = h.run(Actor::staff("s03"), w(1)).unwrap_err();
    assert!(matches!(e, Rejected::NotOnDuty { .. }));
    let e = h.run(Actor::Kiosk, w(1)).unwrap_err();
    assert_eq!(e, Rejected::ClerkOnly);
    let e = h
        .run(
            Actor::staff("s03"),
            Command::Login {
                staff: "s01".into(),
                window: 2,
            },
        )
        .unwrap_err();
    assert!(matches!(e, Rejected::NotOnDuty { .. }));
    let e = h
        .run(
            Actor::staff("s05"),
            Command::Login {
                staff: "s05".into(),
                window: 1,
            },
        )
        .unwrap_err();
    assert!(
        matches!(e, Rejected::NotAPost { .. }),
        "s05 holds no post of window 1"
    );
}

#[test]
fn calling_from_a_closed_or_paused_window_is_refused() {
    let mut h = H::demo();
    h.login("s01", 1);
    h.issue("general");
    h.ok(
        Actor::staff("s01"),
        Command::Pause {
            window: 1,
            reason: PauseReason::Break,
        },
    );
    assert_eq!(h.clerk(1, w(1)).unwrap_err(), Rejected::WindowPaused(1));
    h.ok(Actor::staff("s01"), Command::Resume { window: 1 });
    h.ok(Actor::Supervisor, Command::CloseWindow { window: 1 });
    assert!(h.run(Actor::staff("s01"), w(1)).is_err());
}

#[test]
fn recall_says_the_same_ticket_again_and_no_show_frees_the_window() {
    let mut h = H::demo();
    h.login("s01", 1);
    let (id, _) = h.issue_as("general", Priority::Normal);
    h.call(1);
    let evs = h.ok(Actor::staff("s01"), Command::Recall { window: 1 });
    match &evs[0].kind {
        EventKind::TicketCalled {
            recall,
            number,
            window,
            ..
        } => {
            assert!(*recall);
            assert_eq!((number.as_str(), *window), ("A001", 1));
        }
        k => panic!("{k:?}"),
    }
    h.ok(Actor::staff("s01"), Command::NoShow { window: 1 });
    assert_eq!(
        h.hall.ticket(&id).map(|t| t.state),
        Some(TicketState::NoShow)
    );
    assert_eq!(h.call(1), None);
    assert!(matches!(
        h.run(Actor::staff("s01"), Command::Recall { window: 1 }),
        Err(Rejected::NothingCalled(1))
    ));
}

#[test]
fn a_requeued_no_show_queues_from_now() {
    let mut h = H::demo();
    h.login("s01", 1);
    let (id, _) = h.issue_as("general", Priority::Normal); // A001
    h.advance(60);
    h.issue("general"); // A002
    h.call(1);
    h.ok(Actor::staff("s01"), Command::Recall { window: 1 });
    h.ok(Actor::staff("s01"), Command::NoShow { window: 1 });
    h.advance(60);
    let e = h
        .run(
            Actor::Kiosk,
            Command::Requeue {
                ticket: "nope".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e, Rejected::UnknownTicket);
    h.ok(Actor::Kiosk, Command::Requeue { ticket: id.clone() });
    assert_eq!(h.serve(1, 10).as_deref(), Some("A002"));
    assert_eq!(h.serve(1, 10).as_deref(), Some("A001"));
    let e = h
        .run(Actor::Kiosk, Command::Requeue { ticket: id })
        .unwrap_err();
    assert!(matches!(e, Rejected::NotRequeueable("done")));
}

#[test]
fn a_ticket_transferred_to_a_window_goes_first_there_and_keeps_its_number() {
    let mut h = H::demo();
    h.login("s01", 1);
    h.login("s11", 6);
    h.issue("market"); // D001, waits for window 6
    h.advance(60);
    let (id, _) = h.issue_as("general", Priority::Normal); // A001
    assert_eq!(h.call(1).as_deref(), Some("D001"));
    h.ok(Actor::staff("s01"), Command::Start { window: 1 });
    h.issue("market"); // D002
                       // Window 1 sends D001 on to the market specialist.
    let evs = h.ok(
        Actor::staff("s01"),
        Command::Transfer {
            window: 1,
            category: None,
            to_window: Some(6),
        },
    );
    // A transfer is a new wait: first at window 6, D001 is near its turn.
    assert_eq!(H::types(&evs), ["ticket_transferred", "ticket_near_turn"]);
    assert_eq!(
        h.call(6).as_deref(),
        Some("D001"),
        "directed ticket first at window 6"
    );
    // A transfer to a window that cannot serve the category is refused.
    assert_eq!(h.call(1).as_deref(), Some("A001"));
    h.ok(Actor::staff("s01"), Command::Start { window: 1 });
    let e = h
        .run(
            Actor::staff("s01"),
            Command::Transfer {
                window: 1,
                category: None,
                to_window: Some(7),
            },
        )
        .unwrap_err();
    assert!(matches!(e, Rejected::WindowClosed(7)));
    h.login("s12", 7);
    let e = h
        .run(
            Actor::staff("s01"),
            Command::Transfer {
                window: 1,
                category: None,
                to_window: Some(7),
            },
        )
        .unwrap_err();
    assert!(matches!(e, Rejected::CannotServe { window: 7, .. }), "{e}");
    let e = h
        .run(
            Actor::staff("s01"),
            Command::Transfer {
                window: 1,
                category: Some("nope".into()),
                to_window: None,
            },
        )
        .unwrap_err();
    assert!(matches!(e, Rejected::UnknownCategory(_)));
    // To a category: keeps number and key, queues in the new category.
    h.ok(
        Actor::staff("s01"),
        Command::Transfer {
            window: 1,
            category: Some("estate".into()),
            to_window: None,
        },
    );
    let t = h.hall.ticket(&id).expect("ticket");
    assert_eq!(
        (t.number.as_str(), t.category.as_str(), t.state),
        ("A001", "estate", TicketState::Waiting)
    );
    assert_eq!(h.call(7).as_deref(), Some("A001"));
}

#[test]
fn completing_and_rating_follow_the_ticket_life() {
    let mut h = H::demo();
    h.login("s01", 1);
    let (id, _) = h.issue_as("general", Priority::Normal);
    let e = h
        .run(
            Actor::Public,
            Command::Rate {
                ticket: id.clone(),
                score: 5,
                reason: Default::default(),
            },
        )
        .unwrap_err();
    assert_eq!(e, Rejected::NotDone);
    h.serve(1, 120);
    let e = h
        .run(
            Actor::Public,
            Command::Rate {
                ticket: id.clone(),
                score: 6,
                reason: Default::default(),
            },
        )
        .unwrap_err();
    assert_eq!(e, Rejected::BadScore(6));
    let evs = h.ok(
        Actor::Public,
        Command::Rate {
            ticket: id.clone(),
            score: 5,
            reason: Default::default(),
        },
    );
    assert!(matches!(
        &evs[0].kind,
        EventKind::RatingRecorded {
            score: 5,
            window: Some(1),
            ..
        }
    ));
    let e = h
        .run(
            Actor::Public,
            Command::Rate {
                ticket: id,
                score: 4,
                reason: Default::default(),
            },
        )
        .unwrap_err();
    assert_eq!(e, Rejected::AlreadyRated);
}

#[test]
fn a_second_clerk_is_on_standby_and_handover_swaps_at_once() {
    let mut h = H::demo();
    h.login("s01", 1);
    let evs = h.login("s02", 1);
    assert!(matches!(
        &evs[0].kind,
        EventKind::StaffLoggedIn {
            duty: Duty::Standby,
            post: Post::B,
            ..
        }
    ));
    let e = h
        .run(Actor::staff("s02"), Command::Handover { window: 1 })
        .unwrap_err();
    assert!(
        matches!(e, Rejected::NotOnDuty { .. }),
        "only the clerk on duty hands over"
    );
    h.ok(Actor::staff("s01"), Command::Handover { window: 1 });
    assert_eq!(h.on_duty(1), "s02");
    let w1 = h.hall.window(1).expect("window");
    assert_eq!(w1.standby.as_ref().map(|s| s.staff.as_str()), Some("s01"));
}

#[test]
fn a_leaves_and_b_on_standby_takes_the_window_with_its_ticket() {
    let mut h = H::demo();
    h.login("s01", 1);
    h.login("s02", 1);
    h.issue("general");
    h.call(1);
    h.ok(Actor::staff("s01"), Command::Start { window: 1 });
    let evs = h.ok(
        Actor::staff("s01"),
        Command::Pause {
            window: 1,
            reason: PauseReason::Meeting,
        },
    );
    assert_eq!(H::types(&evs), ["post_handover", "staff_logged_out"]);
    assert_eq!(h.on_duty(1), "s02");
    assert_eq!(
        h.hall.window(1).map(|w| w.state),
        Some(hallcall_core::model::WindowState::Serving)
    );
    h.ok(Actor::staff("s02"), Command::Complete { window: 1 });
    assert_eq!(h.hall.staff_location("s01"), None, "A has left the window");
}

#[test]
fn a_leaves_without_b_the_window_pauses_and_its_tickets_fail_over() {
    let mut h = H::demo();
    h.login("s01", 1);
    h.login("s03", 2);
    h.login("s11", 6);
    h.issue("general");
    let (d, _) = h.issue_as("market", Priority::Normal);
    // window 2 takes A001, window 6 transfers D001 to window 1 specifically
    h.call(2);
    assert_eq!(h.call(6).as_deref(), Some("D001"));
    h.ok(Actor::staff("s11"), Command::Start { window: 6 });
    h.ok(
        Actor::staff("s11"),
        Command::Transfer {
            window: 6,
            category: None,
            to_window: Some(1),
        },
    );
    let evs = h.ok(
        Actor::staff("s01"),
        Command::Pause {
            window: 1,
            reason: PauseReason::Leave,
        },
    );
    // A planned pause (离岗) moves the ticket quietly: no warning (issue 13 item 3).
    assert_eq!(H::types(&evs), ["window_paused", "failover"]);
    match &evs[1].kind {
        EventKind::Failover {
            window,
            staff,
            tickets,
            reason,
            ..
        } => {
            assert_eq!(*window, 1);
            assert_eq!(staff.as_deref(), Some("s01"));
            assert_eq!(tickets, &vec![d.clone()]);
            // The reason is the leave (离岗), as a code the pages word.
            assert_eq!(
                reason,
                &Reason::Pause {
                    pause: PauseReason::Leave
                }
            );
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(evs[1].by, Actor::System);
    // Back in the pool: window 6 can call it again.
    assert_eq!(h.call(6).as_deref(), Some("D001"));
}

#[test]
fn a_category_nobody_serves_any_more_fails_over_to_the_fallback_window() {
    let mut h = H::new(small_hall());
    h.login("s05", 3); // specialist: market
    h.login("s07", 5); // fallback
    h.issue("market");
    assert_eq!(
        h.call(5),
        None,
        "fallback serves only what nobody else serves"
    );
    let evs = h.ok(
        Actor::staff("s05"),
        Command::Logout {
            staff: "s05".into(),
            window: 3,
        },
    );
    assert_eq!(
        H::types(&evs),
        ["staff_logged_out", "window_paused", "failover", "warning"]
    );
    match &evs[2].kind {
        EventKind::Failover {
            categories,
            to_windows,
            ..
        } => {
            assert_eq!(categories, &vec!["market".to_string()]);
            assert_eq!(to_windows, &vec![5]);
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(h.call(5).as_deref(), Some("D001"));
    // B logs in: the window resumes with B on duty.
    let evs = h.login("s01", 3);
    assert_eq!(H::types(&evs), ["staff_logged_in", "window_resumed"]);
    assert_eq!(h.on_duty(3), "s01");
}

#[test]
fn an_unserved_category_without_fallback_is_a_red_warning() {
    let mut h = H::new(small_hall());
    h.login("s05", 3);
    let evs = h.ok(
        Actor::staff("s05"),
        Command::Pause {
            window: 3,
            reason: PauseReason::Leave,
        },
    );
    match &evs.last().map(|e| &e.kind) {
        Some(EventKind::Warning { level, kind, .. }) => {
            assert_eq!((*level, *kind), (Level::Red, WarningKind::Failover));
        }
        k => panic!("{k:?}"),
    }
}

#[test]
fn supervisor_close_is_refused_while_serving() {
    let mut h = H::demo();
    h.login("s01", 1);
    h.issue("general");
    h.call(1);
    let e = h
        .run(Actor::Supervisor, Command::CloseWindow { window: 1 })
        .unwrap_err();
    assert_eq!(e, Rejected::CloseWhileBusy);
    let e = h
        .run(
            Actor::Supervisor,
            Command::OpenWindow {
                window: 1,
                staff: "s05".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e, Rejected::AlreadyOpen(1));
    h.ok(
        Actor::Supervisor,
        Command::OpenWindow {
            window: 4,
            staff: "s05".into(),
        },
    );
    h.answer(4);
    assert_eq!(
        h.hall
            .window(4)
            .and_then(|w| w.on_duty.as_ref())
            .map(|s| s.post),
        Some(Post::Relief)
    );
}

fn busy_hall(mode: hallcall_core::config::TidalMode) -> H {
    let mut cfg = hallcall_core::demo::demo_hall();
    cfg.tidal.mode = mode;
    cfg.tidal.min_open = 1;
    let mut h = H::new(cfg);
    h.login("s01", 1);
    h
}

#[test]
fn tidal_opens_only_after_the_load_is_sustained() {
    let mut h = busy_hall(hallcall_core::config::TidalMode::Auto);
    for _ in 0..9 {
        h.issue("general"); // 9 per window > 8
    }
    h.advance(59);
    assert!(
        h.tick().is_empty(),
        "59 s is not sustained: a tick that decides nothing emits nothing"
    );
    h.advance(1);
    let evs = h.tick();
    // Opening is a summons: s06 is asked to come; window 8 counts only
    // once s06 logs in there.
    assert_eq!(H::types(&evs), ["window_summoned"]);
    match &evs[0].kind {
        EventKind::WindowSummoned {
            window,
            tidal,
            staff,
            post,
            reason,
            ..
        } => {
            assert_eq!((*window, *tidal), (8, true));
            assert_eq!((staff.as_str(), *post), ("s06", Post::A));
            // Sustained for 60 s (持续60秒), as a code with its figures.
            assert!(
                matches!(reason, Reason::TidalOverload { sustain_s: 60, .. }),
                "{reason:?}"
            );
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(evs[0].by, Actor::System);
    assert_eq!(H::types(&h.answer(8)), ["window_opened"]);
    // 9 waiting over 2 windows is 4.5 per window, but the newest ticket still
    // waits 9 × 300 s / 2 = 1350 s > 1200 s: after another sustained minute
    // the second tidal window opens; with three windows (900 s) none more.
    h.advance(59);
    assert!(h.tick().is_empty());
    h.advance(1);
    let evs = h.tick();
    assert!(
        matches!(&evs[..], [e] if matches!(e.kind, EventKind::WindowSummoned { window: 9, .. })),
        "{evs:?}"
    );
    h.answer(9);
    h.advance(600);
    assert!(h.tick().is_empty());
}

#[test]
fn tidal_opens_on_a_long_estimated_wait_too() {
    let mut h = busy_hall(hallcall_core::config::TidalMode::Auto);
    // 5 estate tickets at 600 s each = 3000 s > 1200 s, only 5 per window.
    for _ in 0..5 {
        h.issue("estate");
    }
    assert!(h.hall.load().newest_wait_s > 1200.0);
    h.advance(60);
    assert_eq!(H::types(&h.tick()), ["window_summoned"]);
}

#[test]
fn tidal_closes_an_idle_window_after_five_sustain_periods_never_a_busy_one() {
    let mut h = busy_hall(hallcall_core::config::TidalMode::Auto);
    h.login("s03", 2);
    h.ok(
        Actor::Supervisor,
        Command::OpenWindow {
            window: 8,
            staff: "s06".into(),
        },
    );
    h.answer(8);
    h.issue("general");
    h.call(8); // the tidal window is busy
    h.advance(400);
    assert!(h.tick().is_empty(), "busy tidal window stays open");
    h.ok(Actor::staff("s06"), Command::Start { window: 8 });
    // The underload has lasted long enough; the policy runs on every change,
    // so the window closes the moment its ticket is done.
    let evs = h.ok(Actor::staff("s06"), Command::Complete { window: 8 });
    assert_eq!(H::types(&evs), ["service_completed", "window_closed"]);
    assert!(matches!(
        &evs[1].kind,
        EventKind::WindowClosed {
            window: 8,
            tidal: true,
            ..
        }
    ));
    assert_eq!(h.hall.staff_location("s06"), None);
}

#[test]
fn tidal_respects_min_and_max_open() {
    let mut cfg = hallcall_core::demo::demo_hall();
    cfg.tidal.max_open = 1;
    cfg.tidal.min_open = 1;
    let mut h = H::new(cfg);
    h.login("s01", 1);
    for _ in 0..30 {
        h.issue("general");
    }
    h.advance(3600);
    let evs = h.tick();
    assert!(
        !H::types(&evs)
            .iter()
            .any(|t| *t == "window_opened" || *t == "tidal_advice"),
        "max_open = 1 reached"
    );
    assert!(
        H::types(&evs).iter().all(|t| *t == "warning"),
        "only the wait warnings: {evs:?}"
    );
    let mut cfg = hallcall_core::demo::demo_hall();
    cfg.tidal.min_open = 2;
    let mut h = H::new(cfg);
    h.login("s01", 1);
    h.ok(
        Actor::Supervisor,
        Command::OpenWindow {
            window: 8,
            staff: "s06".into(),
        },
    );
    h.answer(8);
    h.advance(3600);
    assert!(h.tick().is_empty(), "min_open = 2: the tidal window stays");
}

#[test]
fn tidal_advise_mode_asks_the_supervisor() {
    let mut h = busy_hall(hallcall_core::config::TidalMode::Advise);
    for _ in 0..20 {
        h.issue("general");
    }
    h.advance(60);
    let evs = h.tick();
    let advice = match &evs[..] {
        [e] => match &e.kind {
            EventKind::TidalAdvice {
                advice,
                action: AdviceAction::Open,
                window: 8,
                ..
            } => *advice,
            k => panic!("{k:?}"),
        },
        _ => panic!("{:?}", H::types(&evs)),
    };
    h.advance(120);
    assert!(h.tick().is_empty(), "one advice at a time");
    let evs = h.ok(Actor::Supervisor, Command::AcceptAdvice { advice });
    assert_eq!(H::types(&evs), ["advice_resolved", "window_summoned"]);
    assert_eq!(H::types(&h.answer(8)), ["window_opened"]);
    let e = h
        .run(Actor::Supervisor, Command::DismissAdvice { advice })
        .unwrap_err();
    assert_eq!(e, Rejected::UnknownAdvice(advice));
    // Still overloaded (20 over 2): after another sustain period, advice for window 9.
    h.advance(60);
    let evs = h.tick();
    assert!(
        matches!(&evs[0].kind, EventKind::TidalAdvice { window: 9, .. }),
        "{evs:?}"
    );
}

#[test]
fn estimates_count_competing_work_over_eligible_windows() {
    let mut h = H::demo();
    h.login("s01", 1);
    h.login("s03", 2);
    for _ in 0..4 {
        h.issue("general"); // 300 s each
    }
    let (id, _) = h.issue_as("social", Priority::Normal); // 420 s
    let st = h.hall.ticket_status(&id).expect("status");
    assert_eq!(st.ahead, Some(4));
    assert_eq!(st.estimated_wait_s, Some(4 * 300 / 2));
    let (green, _) = h.issue_as("general", Priority::Elderly);
    assert_eq!(h.hall.ticket_status(&green).and_then(|s| s.ahead), Some(0));
}

#[test]
fn service_time_average_moves_from_the_configured_seed() {
    let mut h = H::demo();
    h.login("s01", 1);
    h.issue("general");
    h.serve(1, 600);
    let avg = h.hall.avg_service_s("general").expect("avg");
    assert!((avg - (0.8 * 300.0 + 0.2 * 600.0)).abs() < 1e-9, "{avg}");
}

#[test]
fn warnings_yellow_at_80_percent_red_at_100_and_wait_target_once_each() {
    let mut h = H::demo();
    h.login("s01", 1);
    h.issue("general"); // limit 900 s
    h.call(1);
    h.ok(Actor::staff("s01"), Command::Start { window: 1 });
    h.advance(700);
    h.issue("general");
    h.advance(21); // 721 s > 720
    let evs = h.tick();
    assert!(
        matches!(&evs[..], [e] if matches!(e.kind, EventKind::Warning { level: Level::Yellow, kind: WarningKind::ServiceTime, .. })),
        "{evs:?}"
    );
    assert!(h.tick().is_empty(), "once");
    h.advance(180);
    let evs = h.tick();
    assert!(
        matches!(&evs[..], [e] if matches!(e.kind, EventKind::Warning { level: Level::Red, kind: WarningKind::ServiceTime, .. })),
        "{evs:?}"
    );
    h.advance(1200); // A002 has waited 1380 s > 1200 s
    let evs = h.tick();
    assert!(
        matches!(&evs[..], [e] if matches!(&e.kind, EventKind::Warning { level: Level::Red, kind: WarningKind::Wait, number: Some(n), .. } if n == "A002")),
        "{evs:?}"
    );
    assert!(h.tick().is_empty());
}

#[test]
fn appointments_book_within_capacity_and_check_in_around_the_slot() {
    let mut h = H::demo();
    let slot = NINE_AM + 3600 * 1000; // 10:00, aligned to 30 min
    let book = |h: &mut H, code: &str, slot| {
        h.run(
            Actor::Public,
            Command::BookAppointment {
                code: code.into(),
                category: "market".into(),
                slot_start: slot,
                phone: None,
            },
        )
    };
    book(&mut h, "111111", slot).expect("first");
    book(&mut h, "222222", slot).expect("second");
    assert_eq!(
        book(&mut h, "333333", slot).unwrap_err(),
        Rejected::SlotFull
    );
    assert_eq!(
        book(&mut h, "444444", slot + 60_000).unwrap_err(),
        Rejected::BadSlot("not aligned to the slot length")
    );
    assert_eq!(
        book(&mut h, "111111", slot + 1_800_000).unwrap_err(),
        Rejected::DuplicateCode
    );
    let e = h
        .run(
            Actor::Public,
            Command::BookAppointment {
                code: "5".into(),
                category: "general".into(),
                slot_start: slot,
                phone: None,
            },
        )
        .unwrap_err();
    assert!(matches!(e, Rejected::NoAppointments(_)));
    let check_in = |h: &mut H, id: &str, code: &str| {
        h.run(
            Actor::Kiosk,
            Command::IssueTicket {
                id: id.into(),
                category: "market".into(),
                priority: Priority::Normal,
                channel: Channel::Kiosk,
                appointment_code: Some(code.into()),
            },
        )
    };
    h.advance(44 * 60); // 09:44: 16 minutes early
    assert_eq!(
        check_in(&mut h, "a", "111111").unwrap_err(),
        Rejected::AppointmentTooEarly
    );
    h.advance(60); // 09:45
    let evs = check_in(&mut h, "a", "111111").expect("on time");
    assert!(
        matches!(&evs[0].kind, EventKind::TicketIssued { priority: Priority::Appointment, key, .. } if *key == h.now - 1_800_000)
    );
    assert_eq!(
        check_in(&mut h, "b", "111111").unwrap_err(),
        Rejected::AppointmentUsed
    );
    h.advance(31 * 60); // 10:16: late, becomes a normal ticket
    let evs = check_in(&mut h, "c", "222222").expect("late");
    assert!(matches!(
        &evs[0].kind,
        EventKind::TicketIssued {
            priority: Priority::Normal,
            appointment_late: true,
            ..
        }
    ));
    assert_eq!(
        check_in(&mut h, "d", "999999").unwrap_err(),
        Rejected::UnknownAppointment
    );
}

#[test]
fn events_carry_the_envelope_the_displays_rely_on() {
    let mut h = H::demo();
    h.login("s01", 3 - 2);
    h.issue("general");
    let evs = h.clerk(1, w(1)).expect("call");
    let v: serde_json::Value = serde_json::from_str(&evs[0].to_json()).expect("json");
    assert_eq!(v["type"], "ticket_called");
    assert_eq!(v["hall"], "demo");
    assert_eq!(v["by"], "staff:s01");
    assert_eq!(v["number"], "A001");
    assert_eq!(v["window"], 1);
    assert_eq!(v["recall"], false);
    assert_eq!(v["at"], "2026-11-23T01:00:00.000Z");
    assert!(v["seq"].as_u64().is_some_and(|s| s >= 3));
    let back: Event = serde_json::from_value(v).expect("round trip");
    assert_eq!(back, evs[0]);
}

#[test]
fn snapshot_and_replay_rebuild_the_same_state() {
    let mut h = H::demo();
    h.login("s01", 1);
    h.login("s02", 1);
    for c in ["general", "social", "market", "general"] {
        h.issue(c);
    }
    h.serve(1, 100);
    h.call(1);
    let snap = h.hall.to_snapshot();
    let restored = Hall::from_snapshot(&snap).expect("snapshot");
    assert!(restored == h.hall);
    let mut replayed = Hall::new(hallcall_core::demo::demo_hall());
    for e in &h.log {
        replayed.apply(e);
    }
    assert!(replayed == h.hall);
    // Applying an event twice changes nothing (replay over a snapshot).
    let again = h.log.last().cloned().expect("log");
    replayed.apply(&again);
    assert!(replayed == h.hall);
}

#[test]
fn configuration_reload_adds_windows_and_refuses_to_drop_one_in_use() {
    let mut h = H::demo();
    h.login("s01", 1);
    let mut cfg = hallcall_core::demo::demo_hall();
    cfg.windows.retain(|w| w.number != 1);
    let e = h
        .run(
            Actor::Supervisor,
            Command::ReloadConfig {
                config: Box::new(cfg),
            },
        )
        .unwrap_err();
    assert!(matches!(e, Rejected::ReloadInUse(_)));
    let mut cfg = hallcall_core::demo::demo_hall();
    cfg.tidal.open_per_window = 4.0;
    cfg.windows.push(hallcall_core::config::WindowConfig {
        number: 11,
        kind: WindowKind::Comprehensive,
        categories: vec![],
        a_post: "s05".into(),
        b_post: None,
        name: String::new(),
        evaluator_token: None,
    });
    let evs = h.ok(
        Actor::Supervisor,
        Command::ReloadConfig {
            config: Box::new(cfg.clone()),
        },
    );
    assert_eq!(H::types(&evs), ["config_reloaded"]);
    assert_eq!(
        h.hall
            .window(1)
            .and_then(|w| w.on_duty.as_ref())
            .map(|s| s.staff.as_str()),
        Some("s01")
    );
    h.login("s05", 11);
    h.issue("general");
    assert_eq!(h.call(11).as_deref(), Some("A001"));
    assert!(h
        .run(
            Actor::Supervisor,
            Command::ReloadConfig {
                config: Box::new(cfg)
            }
        )
        .expect("same")
        .is_empty());
}

#[test]
fn stats_fold_counts_waits_and_ratings() {
    let mut h = H::demo();
    h.login("s01", 1);
    let (id, _) = h.issue_as("general", Priority::Normal);
    h.issue("social");
    h.advance(60);
    h.serve(1, 300);
    h.ok(
        Actor::Public,
        Command::Rate {
            ticket: id,
            score: 4,
            reason: Default::default(),
        },
    );
    h.call(1);
    h.ok(Actor::staff("s01"), Command::Recall { window: 1 });
    h.ok(Actor::staff("s01"), Command::NoShow { window: 1 });
    let s = hallcall_core::stats::DayStats::from_events(&h.log);
    assert_eq!(
        (
            s.total.issued,
            s.total.served,
            s.total.no_show,
            s.total.ratings
        ),
        (2, 1, 1, 1)
    );
    assert_eq!(s.by_category["general"].mean_wait_s, 60.0);
    assert_eq!(s.by_staff["s01"].mean_handling_s, 300.0);
    assert_eq!(
        s.by_staff["s01"].no_show, 1,
        "no-shows count for the clerk who marked them"
    );
    assert_eq!(s.by_window[&1].good_share, Some(1.0));
    let csv = s.to_csv();
    assert!(
        csv.lines().any(|l| l.starts_with("total,,2,2,1,1,")),
        "{csv}"
    );
}

#[test]
fn a_tidal_window_opened_on_a_long_wait_is_not_closed_at_once() {
    let mut h = busy_hall(hallcall_core::config::TidalMode::Auto);
    // 3 estate tickets: 3 × 600 s over one window = 1800 s > 1200 s, but only
    // 3 per window: the wait criterion opens a tidal window.
    for _ in 0..3 {
        h.issue("estate");
    }
    h.advance(60);
    assert_eq!(H::types(&h.tick()), ["window_summoned"]);
    h.answer(8);
    // 1.5 per window is under close_per_window = 2, yet while the wait
    // criterion still holds the new window must not be closed again.
    for _ in 0..6 {
        h.advance(60);
        let evs = h.tick();
        assert!(!H::types(&evs).contains(&"window_closed"), "{evs:?}");
    }
}

#[test]
fn the_supervisor_can_staff_a_window_its_clerk_left_unmanned() {
    let mut h = H::new(small_hall());
    h.login("s05", 3);
    h.ok(
        Actor::staff("s05"),
        Command::Logout {
            staff: "s05".into(),
            window: 3,
        },
    );
    let e = h.run(
        Actor::Supervisor,
        Command::OpenWindow {
            window: 1,
            staff: "s05".into(),
        },
    );
    assert!(e.is_ok(), "a closed window opens: {e:?}");
    let evs = h.ok(
        Actor::Supervisor,
        Command::OpenWindow {
            window: 3,
            staff: "s02".into(),
        },
    );
    assert_eq!(H::types(&evs), ["window_summoned"]);
    assert_eq!(H::types(&h.answer(3)), ["window_opened"]);
    assert_eq!(h.on_duty(3), "s02");
    assert_eq!(
        h.hall.window(3).map(|w| w.state),
        Some(hallcall_core::model::WindowState::Open)
    );
}

#[test]
fn auto_mode_advice_for_lack_of_staff_gives_way_once_someone_is_free() {
    let mut cfg = hallcall_core::demo::demo_hall();
    cfg.tidal.min_open = 1;
    let mut h = H::new(cfg);
    // Everyone who could staff window 8 is busy elsewhere or on standby nowhere.
    for (s, w) in [
        ("s01", 1),
        ("s03", 2),
        ("s05", 3),
        ("s07", 4),
        ("s09", 5),
        ("s11", 6),
        ("s12", 7),
        ("s02", 10),
    ] {
        h.login(s, w);
    }
    h.login("s06", 3); // standby at 3 (A post of 8)
    h.login("s08", 4); // standby at 4 (B post of 8)
    h.login("s04", 2); // standby at 2
    h.login("s10", 5); // standby at 5
    for _ in 0..90 {
        h.issue("general");
    }
    h.advance(60);
    let evs = h.tick();
    // Standby clerks are free: one of them is summoned to open it.
    assert!(
        matches!(&evs[..], [e] if matches!(e.kind, EventKind::WindowSummoned { window: 8, .. })),
        "{evs:?}"
    );
}

#[test]
fn the_public_view_names_staff_and_zone_but_no_ticket_ids() {
    let mut h = H::demo();
    h.login("s01", 1);
    let (id, _) = h.issue_as("general", Priority::Normal);
    h.call(1);
    let v = serde_json::to_value(h.hall.view(h.now)).expect("view");
    assert_eq!(v["timezone"], "Asia/Shanghai");
    assert_eq!(v["staff"][0]["name"], "张敏");
    assert_eq!(v["staff"][0]["window"], 1);
    assert_eq!(v["windows"][0]["current"]["number"], "A001");
    assert!(
        !v.to_string().contains(&id),
        "ticket ids must not be in the public view"
    );
}

#[test]
fn a_paused_window_sends_citizens_to_windows_that_serve_all_it_served() {
    let mut h = H::demo();
    h.login("s01", 1);
    h.login("s03", 2);
    h.login("s11", 6); // market specialist
    h.ok(
        Actor::staff("s01"),
        Command::Pause {
            window: 1,
            reason: PauseReason::Break,
        },
    );
    let v = serde_json::to_value(h.hall.view(h.now)).expect("view");
    assert_eq!(
        v["windows"][0]["go_to"],
        serde_json::json!([2]),
        "not to the market specialist"
    );
    h.ok(Actor::staff("s01"), Command::Resume { window: 1 });
    h.ok(
        Actor::staff("s11"),
        Command::Pause {
            window: 6,
            reason: PauseReason::Break,
        },
    );
    let v = serde_json::to_value(h.hall.view(h.now)).expect("view");
    assert_eq!(
        v["windows"][5]["go_to"],
        serde_json::json!([1, 2]),
        "market is served at the comprehensive windows"
    );
}

#[test]
fn the_tidal_auto_close_fails_over_a_ticket_transferred_to_that_window() {
    let mut h = H::new(small_hall());
    h.login("s01", 1);
    h.ok(
        Actor::Supervisor,
        Command::OpenWindow {
            window: 4,
            staff: "s06".into(),
        },
    );
    h.answer(4);
    h.issue("general");
    assert_eq!(h.call(1).as_deref(), Some("A001"));
    h.ok(Actor::staff("s01"), Command::Start { window: 1 });
    h.ok(
        Actor::staff("s01"),
        Command::Transfer {
            window: 1,
            category: None,
            to_window: Some(4),
        },
    );
    // One ticket over two windows is under close_per_window: after five
    // sustain periods the tidal policy closes the idle tidal window 4.
    h.advance(5 * 60);
    let evs = h.tick();
    assert_eq!(
        H::types(&evs),
        ["window_closed", "failover", "warning"],
        "{evs:?}"
    );
    assert!(matches!(
        evs[0].kind,
        EventKind::WindowClosed {
            window: 4,
            tidal: true,
            ..
        }
    ));
    assert_eq!(evs[0].by, Actor::System);
    // The ticket is not stranded at the closed window: window 1 calls it.
    assert_eq!(h.call(1).as_deref(), Some("A001"));
}

#[test]
fn the_hall_names_its_next_deadline_and_acts_on_it_then() {
    let mut h = busy_hall(hallcall_core::config::TidalMode::Auto);
    let close = h.hall.poll_timeout().expect("the business day closes");
    assert!(close > h.now, "nothing due right after opening the day");
    // Serving starts: the yellow warning is due the first ms past 80 % of
    // the 900 s limit (720 s), the red one past 100 %.
    h.issue("general");
    h.call(1);
    h.ok(Actor::staff("s01"), Command::Start { window: 1 });
    let started = h.now;
    assert_eq!(h.hall.poll_timeout(), Some(started + 720_001));
    h.now = started + 720_000;
    assert!(h.tick().is_empty(), "not yet at the deadline");
    h.now = started + 720_001;
    assert_eq!(H::types(&h.tick()), ["warning"]);
    assert_eq!(h.hall.poll_timeout(), Some(started + 900_001));
    // Nine waiting over one window: the tidal window opens when the load has
    // been high for sustain_s = 60 s, not a tick later.
    let t0 = h.now;
    for _ in 0..9 {
        h.issue("general");
    }
    assert_eq!(h.hall.poll_timeout(), Some(t0 + 60_000));
    h.now = t0 + 60_000;
    assert_eq!(H::types(&h.tick()), ["window_summoned"]);
    // Warnings still to come, and the day's close; never a deadline passed.
    let next = h.hall.poll_timeout().expect("still timed");
    assert!(next > h.now && next <= close);
}

#[test]
fn a_tidal_deadline_the_policy_cannot_act_on_is_not_named() {
    let mut cfg = hallcall_core::demo::demo_hall();
    cfg.tidal.max_open = 2;
    cfg.tidal.min_open = 1;
    let mut h = H::new(cfg);
    h.login("s01", 1);
    for _ in 0..30 {
        h.issue("general");
    }
    h.advance(60);
    h.login("s03", 2);
    // The overload is sustained, but max_open = 2 allows no tidal window;
    // the hall knows that and names no deadline for it.
    assert!(h.hall.poll_timeout().is_some_and(|d| d > h.now));
    assert!(!H::types(&h.tick()).contains(&"window_opened"));
    assert!(
        h.hall.poll_timeout().is_some_and(|d| d > h.now),
        "a shell sleeping until the deadline would spin"
    );
}

#[test]
fn a_failover_that_leaves_a_category_unserved_says_so_with_its_own_code() {
    let mut h = H::new(small_hall());
    h.login("s05", 3); // the only window serving market (no fallback staffed)
    let evs = h.ok(
        Actor::staff("s05"),
        Command::Pause {
            window: 3,
            reason: PauseReason::Leave,
        },
    );
    let detail = evs.iter().find_map(|e| match &e.kind {
        EventKind::Warning { detail, .. } => detail.clone(),
        _ => None,
    });
    match detail {
        Some(WarningDetail::FailoverUnserved {
            unserved,
            to_windows,
            ..
        }) => {
            assert_eq!(unserved, vec!["market".to_string()]);
            assert!(to_windows.is_empty());
        }
        d => panic!("{d:?}"),
    }
    // No event carries prose, and none a move to an empty list of windows.
    for e in &evs {
        let json = e.public().to_json();
        assert!(!json.contains("改由"), "{json}");
        assert!(!json.contains("message"), "{json}");
    }
}

#[test]
fn the_public_event_keeps_keys_and_secrets_off_the_stream() {
    let mut h = H::demo();
    h.login("s01", 1);
    h.login("s03", 2);
    h.issue("general");
    h.call(1);
    h.ok(Actor::staff("s01"), Command::Start { window: 1 });
    h.ok(
        Actor::staff("s01"),
        Command::Transfer {
            window: 1,
            category: None,
            to_window: Some(2),
        },
    );
    h.ok(
        Actor::staff("s03"),
        Command::Pause {
            window: 2,
            reason: PauseReason::Break,
        },
    );
    let cfg = h.hall.config().clone();
    h.ok(
        Actor::Supervisor,
        Command::ReloadConfig {
            config: Box::new({
                let mut c = cfg;
                c.name = "renamed".into();
                c
            }),
        },
    );
    for e in &h.log {
        let v: serde_json::Value = serde_json::from_str(&e.public().to_json()).expect("json");
        for key in ["seq", "at", "hall", "by", "type"] {
            assert!(v.get(key).is_some(), "{key} missing in {v}");
        }
        assert_eq!(v["type"], e.type_name());
        for secret in ["ticket", "code", "appointment", "config"] {
            assert!(v.get(secret).is_none(), "{secret} in {v}");
        }
        if e.type_name() == "failover" {
            assert_eq!(v["tickets_moved"], 1, "{v}");
            assert_eq!(v["tickets"], serde_json::json!([]), "{v}");
        }
    }
}

#[test]
fn events_and_snapshots_written_with_sentences_still_read_back() {
    // Logs written before reasons were codes carry sentences.
    let old = r#"{"seq":7,"at":"2026-11-23T09:05:00.000+08:00","hall":"demo","by":"supervisor","type":"window_closed","window":8,"tidal":true,"reason":"主管关窗"}"#;
    let e: Event = serde_json::from_str(old).expect("old window_closed");
    assert!(matches!(
        &e.kind,
        EventKind::WindowClosed { reason: Reason::Text { text }, .. } if text == "主管关窗"
    ));
    let old = r#"{"seq":8,"at":"2026-11-23T09:05:00.000+08:00","hall":"demo","by":"system","type":"warning","level":"yellow","kind":"failover","window":1,"message":"离岗：0张转办票退回公共队列"}"#;
    let e: Event = serde_json::from_str(old).expect("old warning");
    assert!(matches!(
        &e.kind,
        EventKind::Warning {
            message: Some(_),
            detail: None,
            ..
        }
    ));
    // A snapshot holding advice with a sentence for its reason.
    let mut h = busy_hall(hallcall_core::config::TidalMode::Advise);
    for _ in 0..20 {
        h.issue("general");
    }
    h.advance(60);
    assert_eq!(H::types(&h.tick()), ["tidal_advice"]);
    let mut snap: serde_json::Value =
        serde_json::from_slice(&h.hall.to_snapshot()).expect("snapshot json");
    let advice = snap["advice"]
        .as_object_mut()
        .and_then(|m| m.values_mut().next())
        .expect("one advice");
    advice["reason"] = "持续60秒高负荷".into();
    let back = Hall::from_snapshot(&serde_json::to_vec(&snap).expect("bytes")).expect("reads");
    let a = back.pending_advice().next().expect("advice");
    assert!(matches!(&a.reason, Reason::Text { text } if text == "持续60秒高负荷"));
}

/// Issue 13 item 2: the category's level looks ahead. A new ticket whose
/// estimated wait is beyond 80 % of the wait target makes the category
/// yellow, beyond 100 % red, even while the oldest ticket is still young.
#[test]
fn a_category_is_yellow_then_red_when_a_new_tickets_estimate_nears_its_wait_target() {
    let mut cfg = small_hall();
    cfg.tidal.mode = hallcall_core::config::TidalMode::Advise;
    let mut h = H::new(cfg);
    h.login("s01", 1); // one comprehensive window: general's estimate = waiting × 300 s
    let level = |h: &H| {
        let v = serde_json::to_value(h.hall.view(h.now)).expect("view");
        let c = v["categories"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["id"] == "general").cloned())
            .expect("general");
        (
            c["level"].as_str().unwrap_or("").to_string(),
            c["estimated_wait_s"].as_u64(),
        )
    };
    for _ in 0..3 {
        h.issue("general");
    }
    assert_eq!(level(&h), ("green".to_string(), Some(900))); // 75 % of 1200 s
    h.issue("general");
    assert_eq!(level(&h), ("yellow".to_string(), Some(1200))); // 100 %: yellow, not yet red
    h.issue("general");
    assert_eq!(level(&h), ("red".to_string(), Some(1500)));
    // Nobody has waited long: only the look-ahead makes it red.
    assert!(h.hall.view(h.now).categories[0].oldest_wait_s.unwrap_or(0) < 60);
}

/// Issue 13 item 4: a transfer goes somewhere else. The window itself is
/// refused as target; a category transfer that this window also serves goes
/// to another open window serving it, and only when there is none does it
/// come back here — which the event (the reply) says.
#[test]
fn a_category_transfer_prefers_another_open_window_and_says_when_it_can_only_come_back() {
    let mut cfg = small_hall();
    cfg.tidal.mode = hallcall_core::config::TidalMode::Advise;
    let mut h = H::new(cfg);
    h.login("s01", 1);
    h.issue("general");
    h.issue("general");
    let first = h.call(1).expect("called");
    // The window itself is refused as target.
    let e = h
        .clerk(
            1,
            Command::Transfer {
                window: 1,
                category: None,
                to_window: Some(1),
            },
        )
        .unwrap_err();
    assert_eq!(e, Rejected::TransferToSelf);
    // Only window 1 serves 'social': the transfer can only come back here.
    let evs = h
        .clerk(
            1,
            Command::Transfer {
                window: 1,
                category: Some("social".into()),
                to_window: None,
            },
        )
        .expect("transfer");
    let only_here = |evs: &[Event]| {
        evs.iter().find_map(|e| match &e.kind {
            EventKind::TicketTransferred {
                to_window,
                only_here,
                ..
            } => Some((*to_window, *only_here)),
            _ => None,
        })
    };
    assert_eq!(only_here(&evs), Some((None, true)));
    // With window 2 open, the same transfer goes there, not back to window 1.
    h.login("s03", 2);
    assert_eq!(h.call(1).as_deref(), Some(first.as_str()));
    let evs = h
        .clerk(
            1,
            Command::Transfer {
                window: 1,
                category: Some("social".into()),
                to_window: None,
            },
        )
        .expect("transfer");
    assert_eq!(only_here(&evs), Some((Some(2), false)));
    assert_ne!(h.call(1).as_deref(), Some(first.as_str()));
    assert_eq!(h.call(2).as_deref(), Some(first.as_str()));
}

/// Issue 13 item 5: no-show needs a recall. 过号 is refused until the ticket
/// was recalled `min_recalls_before_no_show` times (default 1; a fresh call
/// starts the count again); `requeue = "keep_priority"` keeps a green-channel
/// ticket's head start, `"back"` (the default) queues it from now.
#[test]
fn no_show_needs_the_configured_recalls_and_requeue_can_keep_the_priority() {
    let mut h = H::demo();
    assert_eq!(h.hall.config().min_recalls_before_no_show, 1);
    h.login("s01", 1);
    let (id, _) = h.issue_as("general", Priority::Elderly); // A001, key = issue - 900 s
    h.call(1);
    let no_show = Command::NoShow { window: 1 };
    let e = h.run(Actor::staff("s01"), no_show.clone()).unwrap_err();
    assert_eq!(e, Rejected::RecallFirst { needed: 1, done: 0 });
    assert_eq!(e.code(), "recall_first");
    h.ok(Actor::staff("s01"), Command::Recall { window: 1 });
    h.ok(Actor::staff("s01"), no_show.clone());
    // "back": the requeued ticket goes behind one issued before the requeue.
    h.advance(60);
    h.issue("general"); // A002
    h.advance(60);
    h.ok(Actor::Kiosk, Command::Requeue { ticket: id.clone() });
    assert_eq!(h.call(1).as_deref(), Some("A002"));

    // Two recalls configured; "keep_priority": it keeps its 900 s bonus.
    let mut cfg = hallcall_core::demo::demo_hall();
    cfg.min_recalls_before_no_show = 2;
    cfg.requeue = hallcall_core::config::RequeuePlace::KeepPriority;
    let mut h = H::new(cfg);
    h.login("s01", 1);
    let (id, _) = h.issue_as("general", Priority::Elderly); // A001
    h.call(1);
    h.ok(Actor::staff("s01"), Command::Recall { window: 1 });
    let e = h.run(Actor::staff("s01"), no_show.clone()).unwrap_err();
    assert_eq!(e, Rejected::RecallFirst { needed: 2, done: 1 });
    h.ok(Actor::staff("s01"), Command::Recall { window: 1 });
    h.ok(Actor::staff("s01"), no_show);
    h.advance(60);
    h.issue("general"); // A002, issued 60 s before the requeue
    h.advance(60);
    h.ok(Actor::Kiosk, Command::Requeue { ticket: id });
    assert_eq!(h.call(1).as_deref(), Some("A001"));
}

/// Issue 13 item 6: issuing knows the day. A category's `daily_cap` refuses
/// with `daily_cap_reached` (今日号已取完); no ticket is issued within
/// `last_ticket_before_close_min` (default 30) of closing
/// (`last_ticket_passed`), except an appointment check-in; the view says when
/// a new ticket's estimate runs past closing, so the kiosk can warn first.
#[test]
fn issuing_stops_at_the_daily_cap_and_before_closing_and_the_view_warns_past_closing() {
    let mut cfg = small_hall();
    cfg.tidal.mode = hallcall_core::config::TidalMode::Advise;
    cfg.open_hours = vec![
        hallcall_core::time::TimeRange::parse("08:30-12:00").unwrap(),
        hallcall_core::time::TimeRange::parse("13:30-17:30").unwrap(),
    ];
    cfg.day_close = hallcall_core::time::TimeOfDay::parse("18:00").unwrap();
    cfg.categories[1].daily_cap = Some(2); // social
    assert_eq!(cfg.categories[0].last_ticket_before_close_min, 30);
    let mut h = H::new(cfg);
    h.login("s01", 1);
    h.issue("social");
    h.issue("social");
    let issue = |id: &str, category: &str| Command::IssueTicket {
        id: id.into(),
        category: category.into(),
        priority: Priority::Normal,
        channel: Channel::Kiosk,
        appointment_code: None,
    };
    let e = h.run(Actor::Kiosk, issue("x1", "social")).unwrap_err();
    assert_eq!(e.code(), "daily_cap_reached");
    assert!(e.to_string().contains("今日号已取完"), "{e}");
    h.issue("general"); // other categories go on
    let v = h.hall.view(h.now);
    assert!(v.categories[1].sold_out && !v.categories[0].sold_out);
    // 09:00, closing 17:30: nothing runs past closing yet.
    assert!(v.closes_at.is_some());
    assert!(!v.categories[0].past_closing);
    // 16:40: 50 min left; four general tickets ahead at 300 s each = 20 min.
    h.advance(7 * 3600 + 40 * 60);
    for _ in 0..3 {
        h.issue("general");
    }
    assert!(!h.hall.view(h.now).categories[0].past_closing);
    for _ in 0..8 {
        h.issue("general");
    }
    // 12 waiting × 300 s = 60 min > 50 min left.
    assert!(h.hall.view(h.now).categories[0].past_closing);
    // 17:01: within 30 minutes of closing.
    h.advance(21 * 60);
    let e = h.run(Actor::Kiosk, issue("x2", "general")).unwrap_err();
    assert_eq!(e.code(), "last_ticket_passed");
    assert!(e.to_string().contains("停止取号"), "{e}");
}

/// Issue 13 item 3: a break is not a failure. A clerk's pause moves the
/// tickets transferred to the window quietly (a failover event, planned, and
/// no warning) and names, per category the window served, the open windows
/// serving it now, never an empty list; a pause that leaves a category with
/// no open window is the red case.
#[test]
fn a_planned_pause_moves_tickets_quietly_and_names_the_windows_now_serving() {
    let mut h = H::new(small_hall());
    h.login("s01", 1);
    h.login("s03", 2);
    h.login("s05", 3); // specialist: market
    h.issue("general");
    h.call(2);
    h.clerk(
        2,
        Command::Transfer {
            window: 2,
            category: None,
            to_window: Some(1),
        },
    )
    .expect("transfer to window 1");
    let evs = h.ok(
        Actor::staff("s01"),
        Command::Pause {
            window: 1,
            reason: PauseReason::Break,
        },
    );
    assert_eq!(H::types(&evs), ["window_paused", "failover"], "no warning");
    match &evs[1].kind {
        EventKind::Failover {
            tickets,
            serving,
            planned,
            unserved,
            ..
        } => {
            assert!(*planned);
            assert_eq!(tickets.len(), 1);
            assert!(unserved.is_empty());
            let by: Vec<(&str, &[u32])> = serving
                .iter()
                .map(|s| (s.category.as_str(), s.windows.as_slice()))
                .collect();
            assert_eq!(
                by,
                [
                    ("general", &[2][..]),
                    ("social", &[2][..]),
                    ("market", &[2, 3][..])
                ]
            );
        }
        k => panic!("{k:?}"),
    }
    // The specialist pauses too while nobody else serves 'market' but
    // window 2: still served, quiet. Window 2 pausing then leaves every
    // category without an open window: red.
    let evs = h.ok(
        Actor::staff("s05"),
        Command::Pause {
            window: 3,
            reason: PauseReason::Meeting,
        },
    );
    assert!(!H::types(&evs).contains(&"warning"), "{:?}", H::types(&evs));
    let evs = h.ok(
        Actor::staff("s03"),
        Command::Pause {
            window: 2,
            reason: PauseReason::Break,
        },
    );
    let levels: Vec<Level> = evs
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Warning { level, .. } => Some(*level),
            _ => None,
        })
        .collect();
    assert_eq!(levels, [Level::Red], "{:?}", H::types(&evs));
}

/// Issue 13 item 1: an opened window counts only when someone sits at it.
/// Opening (tidal auto, accepted advice, the supervisor) summons a named
/// clerk; the window stays closed — no capacity, estimate, go-to entry,
/// display or announcement — until that clerk logs in there. Unanswered, the
/// summons passes to the next free staff member after `summon_timeout_s`
/// (default 300 s), and with nobody left it becomes advice.
#[test]
fn opening_a_window_summons_a_named_clerk_and_counts_only_once_they_log_in() {
    let mut h = busy_hall(hallcall_core::config::TidalMode::Auto);
    assert_eq!(h.hall.config().summon_timeout_s, 300);
    for _ in 0..9 {
        h.issue("general");
    }
    let estimate = |h: &H| h.hall.view(h.now).categories[0].estimated_wait_s;
    let before = estimate(&h);
    h.advance(60);
    let evs = h.tick();
    assert_eq!(H::types(&evs), ["window_summoned"]);
    let v = h.hall.view(h.now);
    let w8 = v.windows.iter().find(|w| w.number == 8).expect("window 8");
    assert_eq!(w8.state, "closed", "not open for citizens");
    assert!(w8.staff.is_none());
    assert_eq!(
        w8.summons.as_ref().map(|s| s.staff.id.as_str()),
        Some("s06")
    );
    assert_eq!(v.load.staffed_windows, 1, "no capacity yet");
    assert_eq!(estimate(&h), before, "no estimate drop yet");
    assert!(v.windows.iter().all(|w| !w.go_to.contains(&8)));
    // Nobody came in 5 minutes: the summons passes to the next free clerk.
    h.advance(300);
    let evs = h.tick();
    assert_eq!(H::types(&evs)[..2], ["summons_ended", "window_summoned"]);
    let next = match &evs[1].kind {
        EventKind::WindowSummoned { staff, tried, .. } => {
            assert_eq!(tried, &vec!["s06".to_string()]);
            staff.clone()
        }
        k => panic!("{k:?}"),
    };
    assert_ne!(next, "s06");
    // Another clerk logging in elsewhere changes nothing; the summoned one
    // logging in at window 8 opens it, and now it counts.
    let evs = h.answer(8);
    assert_eq!(H::types(&evs), ["window_opened"]);
    assert_eq!(h.on_duty(8), next);
    assert_eq!(h.hall.view(h.now).load.staffed_windows, 2);
    assert!(estimate(&h) < before);

    // Supervisor opening; nobody answers; nobody is left: advice. A close
    // calls a summons off.
    let mut cfg = small_hall();
    cfg.tidal.mode = hallcall_core::config::TidalMode::Advise;
    let mut h = H::new(cfg);
    h.login("s01", 1);
    let open = |window: u32, staff: &str| Command::OpenWindow {
        window,
        staff: staff.into(),
    };
    assert_eq!(
        H::types(&h.ok(Actor::Supervisor, open(4, "s06"))),
        ["window_summoned"]
    );
    let e = h.run(Actor::Supervisor, open(4, "s04")).unwrap_err();
    assert_eq!(e.code(), "already_summoned");
    h.advance(301);
    assert_eq!(H::types(&h.tick()), ["summons_ended", "window_summoned"]); // s04, its B post
    h.advance(301);
    let evs = h.tick();
    assert_eq!(H::types(&evs), ["summons_ended", "tidal_advice"]);
    match &evs[1].kind {
        EventKind::TidalAdvice {
            window: 4, reason, ..
        } => assert_eq!(
            reason,
            &Reason::SummonsUnanswered {
                staff: "s04".into()
            }
        ),
        k => panic!("{k:?}"),
    }
    assert_eq!(
        H::types(&h.ok(Actor::Supervisor, open(2, "s03"))),
        ["window_summoned"]
    );
    let evs = h.ok(Actor::Supervisor, Command::CloseWindow { window: 2 });
    assert_eq!(H::types(&evs), ["summons_ended"]);
    assert!(h.hall.summons(2).is_none());
    // A window its clerk left unmanned, being staffed: closing it calls the
    // summons off and closes the window.
    h.login("s05", 3);
    h.ok(
        Actor::staff("s05"),
        Command::Logout {
            staff: "s05".into(),
            window: 3,
        },
    );
    h.ok(Actor::Supervisor, open(3, "s03"));
    let evs = h.ok(Actor::Supervisor, Command::CloseWindow { window: 3 });
    assert_eq!(H::types(&evs)[..2], ["summons_ended", "window_closed"]);
}

/// A summons of the tidal policy that nobody answered passes on only while
/// the policy could still summon: if clerks opened other windows meanwhile up
/// to `max_open`, it ends there (found by the property test: a policy
/// summons passed on to a clerk already on standby there opened a window
/// beyond `max_open`). A supervisor's order is carried out regardless: the
/// bound is the policy's, and the supervisor may open beyond it.
#[test]
fn an_unanswered_tidal_summons_is_not_passed_on_beyond_max_open() {
    use hallcall_core::config::TidalMode;
    let mut cfg = hallcall_core::demo::demo_hall();
    cfg.tidal.mode = TidalMode::Auto;
    cfg.tidal.min_open = 1;
    cfg.tidal.max_open = 2;
    let mut h = H::new(cfg);
    h.login("s01", 1);
    for _ in 0..9 {
        h.issue("general");
    }
    h.advance(60);
    assert_eq!(H::types(&h.tick()), ["window_summoned"]); // window 8, s06
                                                          // Meanwhile a clerk opens window 2 by logging in: 2 open = max_open.
    h.login("s03", 2);
    h.advance(300);
    let evs = h.tick();
    assert_eq!(H::types(&evs), ["summons_ended"], "{evs:?}");
    assert!(h.hall.summons(8).is_none());

    // The supervisor's order passes on although 2 windows are open.
    let open = Command::OpenWindow {
        window: 9,
        staff: "s10".into(),
    };
    assert_eq!(
        H::types(&h.ok(Actor::Supervisor, open)),
        ["window_summoned"]
    );
    h.advance(301);
    let evs = h.tick();
    assert_eq!(H::types(&evs)[..2], ["summons_ended", "window_summoned"]);
}

#[test]
fn plan_mode_summons_when_no_reactive_tidal_condition_is_due() {
    use hallcall_core::config::TidalMode;
    // s01 has just logged in: the hall is quiet, the underload condition
    // only starts, nothing reactive is due for minutes.
    let mut h = busy_hall(TidalMode::Plan);
    h.tick();
    let mut plan = vec![1u32; 48];
    plan[18] = 2; // 09:00-09:30 wants a second window: due at once
    let mut evs = h.ok(
        Actor::Supervisor,
        Command::SetStaffingPlan {
            windows: plan,
            lead_s: 90,
        },
    );
    h.advance(1);
    evs.extend(h.tick());
    assert_eq!(
        H::types(&evs),
        ["staffing_plan_set", "window_summoned"],
        "the plan acts on its own"
    );
}

#[test]
fn a_recovered_hall_in_plan_mode_asks_for_the_time_before_following_a_new_plan() {
    use hallcall_core::config::TidalMode;
    let mut h = busy_hall(TidalMode::Plan);
    h.tick();
    // A restart: the hall comes back from its snapshot, its timers never
    // handled since (the server's case when the day is already open).
    h.hall = Hall::from_snapshot(&h.hall.to_snapshot()).expect("snapshot");
    let mut plan = vec![1u32; 48];
    plan[20] = 2;
    h.ok(
        Actor::Supervisor,
        Command::SetStaffingPlan {
            windows: plan,
            lead_s: 90,
        },
    );
    assert!(
        h.hall.poll_timeout().is_some_and(|d| d <= h.now),
        "due at once, so the plan's next instant gets computed: {:?}",
        h.hall.poll_timeout()
    );
    h.tick();
    let due = NINE_AM + 3_600_000 - 90_000;
    assert_eq!(h.hall.poll_timeout(), Some(due), "a walk before 10:00");
}

#[test]
fn plan_mode_summons_a_walk_ahead_of_the_planned_half_hour_through_the_tidal_path() {
    use hallcall_core::config::TidalMode;
    let mut plan = vec![1u32; 48];
    plan[20] = 2; // 10:00-10:30 wants a second window
    let set = Command::SetStaffingPlan {
        windows: plan.clone(),
        lead_s: 90,
    };
    // Auto mode holds the plan but does not act on it.
    let mut auto = busy_hall(TidalMode::Auto);
    auto.ok(Actor::Supervisor, set.clone());
    auto.tick();
    auto.now = NINE_AM + 3_600_000;
    assert!(!H::types(&auto.tick()).contains(&"window_summoned"));

    let mut h = busy_hall(TidalMode::Plan);
    let evs = h.ok(Actor::Supervisor, set);
    assert_eq!(H::types(&evs), ["staffing_plan_set"]);
    h.tick();
    let due = NINE_AM + 3_600_000 - 90_000;
    assert_eq!(h.hall.poll_timeout(), Some(due), "a walk before 10:00");
    h.now = due - 1;
    assert!(h.tick().is_empty(), "not before the lead");
    h.now = due;
    let evs = h.tick();
    assert_eq!(H::types(&evs), ["window_summoned"]);
    let json = serde_json::to_value(&evs[0].kind).expect("json");
    assert_eq!(json["reason"]["code"], "staffing_plan");
    assert_eq!(json["reason"]["planned"], 2);
    // Met (summoned): nothing more is due for the plan, and a plan that
    // does not fit the hall is refused.
    assert!(h.hall.poll_timeout().is_some_and(|d| d > h.now));
    let e = h
        .run(
            Actor::Supervisor,
            Command::SetStaffingPlan {
                windows: vec![99],
                lead_s: 0,
            },
        )
        .expect_err("too many windows");
    assert_eq!(e.code(), "bad_config");
}
