//! Opening a window is a summons (召集): whoever opens it (the tidal policy,
//! accepted advice, the supervisor) names a staff member, and the window
//! stays closed — no capacity, estimate, go-to entry, display text or
//! announcement — until that clerk logs in there. A summons not answered by
//! its deadline (`summon_timeout_s`) passes to the next free staff member
//! (the tidal policy's own only while under `max_open`), or becomes advice
//! for the supervisor.

use crate::event::{AdviceAction, EventKind, SummonsOutcome};
use crate::hall::handle::Ctx;
use crate::hall::Hall;
use crate::model::Duty;
use crate::reason::Reason;
use crate::time::{Millis, SECOND};

impl Hall {
    /// Summons `staff` to open `window`. A clerk already seated on standby
    /// at that very window is there: the window opens at once.
    pub(crate) fn summon(
        &mut self,
        cx: &mut Ctx,
        window: u32,
        staff: String,
        tidal: bool,
        reason: Reason,
        tried: Vec<String>,
    ) {
        let post = self.post_of(window, &staff);
        if self.staff_at.get(&staff) == Some(&(window, Duty::Standby)) {
            self.emit(
                cx,
                EventKind::WindowOpened {
                    window,
                    staff,
                    post,
                    tidal,
                    reason,
                },
            );
            return;
        }
        let deadline = cx.now + i64::from(self.config.summon_timeout_s) * SECOND;
        self.emit(
            cx,
            EventKind::WindowSummoned {
                window,
                staff,
                post,
                tidal,
                reason,
                deadline,
                tried,
            },
        );
    }

    /// Where `staff` has been summoned to, if anywhere.
    pub(crate) fn summoned_to(&self, staff: &str) -> Option<u32> {
        self.summons
            .iter()
            .find(|(_, s)| s.staff == staff)
            .map(|(&w, _)| w)
    }

    /// The earliest deadline of a pending summons.
    pub(crate) fn next_summons_at(&self) -> Option<Millis> {
        self.summons.values().map(|s| s.deadline).min()
    }

    /// Every summons past its deadline ends; it passes to the next free
    /// staff member (not one tried before), or becomes advice for the
    /// supervisor. `cx` acts as the system.
    pub(crate) fn expire_summons(&mut self, cx: &mut Ctx) {
        let due: Vec<(u32, crate::hall::Summons)> = self
            .summons
            .iter()
            .filter(|(_, s)| s.deadline <= cx.now)
            .map(|(&w, s)| (w, s.clone()))
            .collect();
        for (window, s) in due {
            self.emit(
                cx,
                EventKind::SummonsEnded {
                    window,
                    staff: s.staff.clone(),
                    outcome: SummonsOutcome::Expired,
                },
            );
            // The tidal policy's own summons passes on only while the policy
            // could still summon (clerks may have opened other windows up to
            // `max_open` meanwhile); a supervisor's order is carried out
            // regardless — the bound is the policy's, not the supervisor's.
            let by_policy = matches!(
                s.reason,
                Reason::TidalOverload { .. } | Reason::StaffingPlan { .. }
            );
            if by_policy && self.open_or_summoned() >= self.config.tidal.max_open {
                continue;
            }
            let mut tried = s.tried;
            tried.push(s.staff.clone());
            match self.free_staff_for(window, &tried) {
                Some((next, _)) => self.summon(cx, window, next, s.tidal, s.reason, tried),
                None => {
                    let advice = self.next_advice;
                    self.emit(
                        cx,
                        EventKind::TidalAdvice {
                            advice,
                            action: AdviceAction::Open,
                            window,
                            staff: None,
                            reason: Reason::SummonsUnanswered { staff: s.staff },
                        },
                    );
                }
            }
        }
    }
}
