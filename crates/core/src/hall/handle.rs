//! `handle`: the thin front of the rules. It rolls the business day when due,
//! hands the command to the module of its rule, then lets the tidal policy
//! look at the result. Each rule checks a command completely before its first
//! event is emitted, so a refused command leaves the state untouched; the
//! follow-on events (failover, tidal decisions, warnings) cannot fail.

use crate::command::Command;
use crate::error::Rejected;
use crate::event::{Event, EventKind};
use crate::hall::Hall;
use crate::model::{Actor, TicketState};
use crate::time::Millis;

/// What every rule needs to emit events: the time, who acts, and where the
/// events go. Replaces the `(out, by, now)` triple every rule used to take.
pub(crate) struct Ctx<'a> {
    pub now: Millis,
    pub by: Actor,
    pub out: &'a mut Vec<Event>,
}

impl Ctx<'_> {
    /// The same time and output, acting as the hall itself (failover,
    /// tidal decisions, warnings are the system's, whoever triggered them).
    pub fn system(&mut self) -> Ctx<'_> {
        Ctx {
            now: self.now,
            by: Actor::System,
            out: self.out,
        }
    }
}

impl Hall {
    /// Decides a command at time `now` on behalf of `by`, applies the events it
    /// produces and returns them. On `Err` nothing changed.
    pub fn handle(&mut self, cmd: Command, by: Actor, now: Millis) -> Result<Vec<Event>, Rejected> {
        let issue = matches!(cmd, Command::IssueTicket { .. });
        let moves_before = self.near_turn_scan.mark();
        // Room for the usual one to three events: 3 × 312 bytes stays within
        // glibc's per-thread cache (≤ 1,032 bytes), where the 4 a first push
        // reserves (1,248 bytes) went to the shared bins (≈ 420 instructions
        // a command for the allocation alone).
        let mut out = Vec::with_capacity(3);
        let mut cx = Ctx {
            now,
            by,
            out: &mut out,
        };
        if self.business_date.is_some() && now < self.next_close_at {
            self.execute(cmd, &mut cx)?;
        } else {
            // Rolling the business day over happens once a day; keep a copy so
            // that a command refused after the roll still changes nothing.
            let before = self.clone();
            self.roll_day(&mut cx.system());
            if let Err(e) = self.execute(cmd, &mut cx) {
                *self = before;
                return Err(e);
            }
        }
        self.evaluate_tidal(&mut cx.system());
        // 即将到号: an issue moves nobody forward, so only the new ticket
        // can be near its turn then.
        let issued = match cx.out.last().map(|e| &e.kind) {
            Some(EventKind::TicketIssued { ticket, .. }) if issue => self.tickets.serial_of(ticket),
            _ => None,
        };
        self.near_turn_after_command(&mut cx.system(), moves_before, issued);
        Ok(out)
    }

    /// One command to the module of its rule.
    fn execute(&mut self, cmd: Command, cx: &mut Ctx) -> Result<(), Rejected> {
        match cmd {
            Command::IssueTicket {
                id,
                category,
                priority,
                channel,
                appointment_code,
            } => self.issue(
                cx,
                crate::hall::tickets::Issue {
                    id,
                    category,
                    priority,
                    channel,
                    appointment_code,
                },
            ),
            Command::BookAppointment {
                code,
                category,
                slot_start,
                phone,
            } => self.book(
                cx,
                crate::hall::booking::Booking {
                    code,
                    category,
                    slot_start,
                    phone,
                },
            ),
            Command::CancelAppointment { code } => self.cancel_appointment(cx, &code),
            Command::Cancel { ticket } => self.cancel(cx, &ticket),
            Command::Rate {
                ticket,
                score,
                reason,
            } => self.rate(cx, &ticket, score, &reason),
            Command::FollowUpRating {
                ticket,
                status,
                note,
                handler,
            } => self.follow_up_rating(cx, ticket, status, &note, &handler),
            Command::CallNext { window } => self.call_next(cx, window),
            Command::Recall { window } => self.recall(cx, window),
            Command::NoShow { window } => self.no_show(cx, window),
            Command::Start { window } => self.start(cx, window),
            Command::Complete { window } => self.complete(cx, window),
            Command::Transfer {
                window,
                category,
                to_window,
            } => self.transfer(cx, window, category, to_window),
            Command::Requeue { ticket } => self.requeue(cx, &ticket),
            Command::Pause { window, reason } => self.pause(cx, window, reason),
            Command::Resume { window } => self.resume(cx, window),
            Command::Handover { window } => self.handover(cx, window),
            Command::Login { staff, window } => self.login(cx, staff, window),
            Command::Logout { staff, window } => self.logout(cx, staff, window),
            Command::OpenWindow { window, staff } => self.supervisor_open(cx, window, staff),
            Command::CloseWindow { window } => self.supervisor_close(cx, window),
            Command::AcceptAdvice { advice } => self.accept_advice(cx, advice),
            Command::DismissAdvice { advice } => self.dismiss_advice(cx, advice),
            Command::CloseDay => {
                self.close_day(&mut cx.system());
                Ok(())
            }
            Command::ReloadConfig { config } => self.reload(cx, *config),
            Command::EditConfig { edit } => self.edit_config(cx, *edit),
            Command::SetStaffingPlan { windows, lead_s } => {
                self.set_staffing_plan(cx, windows, lead_s)
            }
            Command::CallNumber { window, number } => self.call_number(cx, window, &number),
            Command::Hold { window } => self.hold(cx, window),
            Command::CompleteAndSend {
                window,
                next_category,
            } => self.complete_and_send(cx, window, &next_category),
            Command::AddNotice {
                text,
                starts_at,
                ends_at,
            } => self.add_notice(cx, &text, starts_at, ends_at),
            Command::RemoveNotice { notice } => self.remove_notice(cx, notice),
        }
    }

    /// Emits one event as the context's actor: numbers it, applies it,
    /// records it.
    pub(crate) fn emit(&mut self, cx: &mut Ctx, kind: EventKind) {
        let ev = Event {
            seq: self.seq + 1,
            at: cx.now,
            hall: self.id.clone(),
            by: cx.by.clone(),
            kind,
        };
        self.apply(&ev);
        cx.out.push(ev);
    }

    pub(crate) fn win_index(&self, number: u32) -> Result<usize, Rejected> {
        self.layout
            .win_index
            .get(&number)
            .copied()
            .ok_or(Rejected::UnknownWindow(number))
    }

    pub(crate) fn cat_index(&self, id: &str) -> Result<usize, Rejected> {
        self.layout
            .cat_index
            .get(id)
            .copied()
            .ok_or_else(|| Rejected::UnknownCategory(id.to_string()))
    }

    pub(crate) fn serial_of(&self, ticket: &str) -> Result<u64, Rejected> {
        self.tickets
            .serial_of(ticket)
            .ok_or(Rejected::UnknownTicket)
    }

    /// The staff member on duty at `window` must be the actor.
    pub(crate) fn on_duty_actor(&self, by: &Actor, window: u32) -> Result<String, Rejected> {
        let w = self.win_index(window)?;
        let staff = by.staff_id().ok_or(Rejected::ClerkOnly)?;
        match &self.windows[w].on_duty {
            Some(seat) if seat.staff == staff => Ok(staff.to_string()),
            _ => Err(Rejected::NotOnDuty {
                staff: staff.to_string(),
                window,
            }),
        }
    }

    /// The refusal for acting on a window busy with ticket `serial`.
    pub(crate) fn busy(&self, window: u32, serial: u64) -> Rejected {
        let number = self
            .tickets
            .get(&serial)
            .map(|t| t.number.as_str().to_owned())
            .unwrap_or_default();
        Rejected::WindowBusy { window, number }
    }
}

/// The wire name of a ticket state, for refusals.
pub(crate) fn state_name(s: TicketState) -> &'static str {
    match s {
        TicketState::Waiting => "waiting",
        TicketState::Called => "called",
        TicketState::Serving => "serving",
        TicketState::Held => "held",
        TicketState::Done => "done",
        TicketState::NoShow => "no_show",
        TicketState::Cancelled => "cancelled",
        TicketState::Expired => "expired",
    }
}
