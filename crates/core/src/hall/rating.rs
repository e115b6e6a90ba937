//! 好差评: the national five-level rating of a finished service, and the
//! follow-up of a 差评.
//!
//! A citizen rates once, after the service is done, on the national scale
//! (5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意). The two bad levels
//! need a reason, one of the common reasons the evaluator and the phone offer
//! ([`ReasonCode`]) or a text of at most [`MAX_REASON_CHARS`] characters, and
//! the reason is kept in the log (the 好差评 system's rule: every 差评 is
//! followed up — 回访 and 整改 — so somebody must know what it was about).
//! A bad rating raises a supervisor warning (非常不满意 red, 不满意 yellow) and
//! opens a follow-up record that the supervisor moves through 待回访 / 已回访
//! / 已整改 with a note (`Command::FollowUpRating`). Follow-up usually
//! happens on a later day, so the records outlive the business day's tickets
//! (kept [`BAD_RATING_KEEP`] after the rating once handled; an open one is
//! kept until handled). Reasons and notes are not public: the public event
//! says only the number and the score (`crate::public`).

use serde::{Deserialize, Serialize};

use crate::error::Rejected;
use crate::event::{Event, EventKind, WarningDetail, WarningKind};
use crate::hall::handle::Ctx;
use crate::hall::Hall;
use crate::model::{Actor, Level, TicketState};
use crate::time::{Millis, MINUTE};

/// Longest rating reason text, in characters (the evaluator's text box).
pub const MAX_REASON_CHARS: usize = 200;
/// Longest follow-up note, in characters.
pub const MAX_NOTE_CHARS: usize = 500;
/// Longest name of who followed up (回访人), in characters.
pub const MAX_HANDLER_CHARS: usize = 32;
/// A handled 差评 is kept this long after the rating (the follow-up list and
/// its export); the log keeps everything.
pub const BAD_RATING_KEEP: Millis = 90 * 24 * 60 * MINUTE;

/// The common reasons offered for 不满意 / 非常不满意. The pages word them
/// ([`ReasonCode::label_zh`]); the log keeps the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// 等候时间过长
    LongWait,
    /// 办事效率低
    Slow,
    /// 服务态度不好
    Attitude,
    /// 业务不熟练
    Unskilled,
    /// 未一次性告知
    NotToldAtOnce,
    /// 材料要求不清楚
    UnclearMaterials,
    /// 其他
    Other,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 7] = [
        ReasonCode::LongWait,
        ReasonCode::Slow,
        ReasonCode::Attitude,
        ReasonCode::Unskilled,
        ReasonCode::NotToldAtOnce,
        ReasonCode::UnclearMaterials,
        ReasonCode::Other,
    ];

    /// The wire code, e.g. `long_wait`.
    pub fn code(self) -> &'static str {
        match self {
            ReasonCode::LongWait => "long_wait",
            ReasonCode::Slow => "slow",
            ReasonCode::Attitude => "attitude",
            ReasonCode::Unskilled => "unskilled",
            ReasonCode::NotToldAtOnce => "not_told_at_once",
            ReasonCode::UnclearMaterials => "unclear_materials",
            ReasonCode::Other => "other",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ReasonCode::LongWait => "等候时间过长",
            ReasonCode::Slow => "办事效率低",
            ReasonCode::Attitude => "服务态度不好",
            ReasonCode::Unskilled => "业务不熟练",
            ReasonCode::NotToldAtOnce => "未一次性告知",
            ReasonCode::UnclearMaterials => "材料要求不清楚",
            ReasonCode::Other => "其他",
        }
    }

    pub fn parse(code: &str) -> Option<ReasonCode> {
        ReasonCode::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// Why a citizen rated as they did, as sent: common reason codes and a text.
/// The codes are checked here, not at the edge, so every way in (evaluator,
/// phone, simulator) gets the same answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingReason {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
}

/// Where the follow-up of a 差评 stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpStatus {
    /// 待回访
    #[default]
    Pending,
    /// 已回访: the citizen was contacted.
    Contacted,
    /// 已整改: what went wrong was put right.
    Rectified,
}

impl FollowUpStatus {
    pub fn label_zh(self) -> &'static str {
        match self {
            FollowUpStatus::Pending => "待回访",
            FollowUpStatus::Contacted => "已回访",
            FollowUpStatus::Rectified => "已整改",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            FollowUpStatus::Pending => "pending",
            FollowUpStatus::Contacted => "contacted",
            FollowUpStatus::Rectified => "rectified",
        }
    }
}

/// One step of a 差评's follow-up, as the supervisor recorded it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    pub at: Millis,
    pub by: Actor,
    pub status: FollowUpStatus,
    pub note: String,
    /// Who followed up (回访人), as typed; empty when not given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub handler: String,
}

/// A 不满意 or 非常不满意 rating and its follow-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BadRating {
    pub ticket: String,
    pub number: String,
    pub category: String,
    pub window: Option<u32>,
    pub staff: Option<String>,
    pub score: u8,
    pub reasons: Vec<ReasonCode>,
    pub comment: String,
    pub rated_at: Millis,
    /// The business day of the service.
    pub business_date: Option<chrono::NaiveDate>,
    pub status: FollowUpStatus,
    /// Every follow-up step, oldest first.
    pub follow_ups: Vec<FollowUp>,
}

impl BadRating {
    /// The latest follow-up step, if any.
    pub fn last_follow_up(&self) -> Option<&FollowUp> {
        self.follow_ups.last()
    }
}

/// Is `score` one of the two bad levels (差评)?
pub fn is_bad(score: u8) -> bool {
    score <= 2
}

/// The warning level a bad rating raises.
fn level_of(score: u8) -> Level {
    if score <= 1 {
        Level::Red
    } else {
        Level::Yellow
    }
}

/// Checks a reason as sent: known codes, no duplicates kept, a text of at
/// most [`MAX_REASON_CHARS`] characters; a bad score needs one or the other.
fn check_reason(score: u8, reason: &RatingReason) -> Result<(Vec<ReasonCode>, String), Rejected> {
    let mut codes = Vec::new();
    for c in &reason.codes {
        let code = ReasonCode::parse(c.trim()).ok_or_else(|| Rejected::UnknownReason(c.clone()))?;
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    let text = reason.text.trim();
    if text.chars().count() > MAX_REASON_CHARS {
        return Err(Rejected::ReasonTooLong {
            max: MAX_REASON_CHARS,
        });
    }
    if is_bad(score) && codes.is_empty() && text.is_empty() {
        return Err(Rejected::ReasonRequired(score));
    }
    Ok((codes, text.to_string()))
}

impl Hall {
    /// 好差评: once, after the service is done; 1 and 2 with a reason. A bad
    /// rating raises a supervisor warning.
    pub(crate) fn rate(
        &mut self,
        cx: &mut Ctx,
        ticket: &str,
        score: u8,
        reason: &RatingReason,
    ) -> Result<(), Rejected> {
        if !(1..=5).contains(&score) {
            return Err(Rejected::BadScore(score));
        }
        let serial = self.serial_of(ticket)?;
        let t = &self.tickets[&serial];
        if t.state != TicketState::Done {
            return Err(Rejected::NotDone);
        }
        if t.rating.is_some() {
            return Err(Rejected::AlreadyRated);
        }
        let (reasons, comment) = check_reason(score, reason)?;
        let (id, number, category, window, staff) = (
            t.id.as_str().to_owned(),
            t.number.as_str().to_owned(),
            t.category.as_str().to_owned(),
            t.window,
            t.staff.clone(),
        );
        self.emit(
            cx,
            EventKind::RatingRecorded {
                ticket: id.clone(),
                number: number.clone(),
                score,
                window,
                staff,
                reasons,
                comment,
            },
        );
        if is_bad(score) {
            self.emit(
                &mut cx.system(),
                EventKind::Warning {
                    level: level_of(score),
                    kind: WarningKind::BadRating,
                    window,
                    ticket: Some(id),
                    number: Some(number),
                    category: Some(category),
                    detail: Some(WarningDetail::BadRating { score }),
                    message: None,
                },
            );
        }
        Ok(())
    }

    /// The supervisor records a 差评's follow-up (回访 / 整改) with a note.
    pub(crate) fn follow_up_rating(
        &mut self,
        cx: &mut Ctx,
        ticket: String,
        status: FollowUpStatus,
        note: &str,
        handler: &str,
    ) -> Result<(), Rejected> {
        if cx.by != Actor::Supervisor {
            return Err(Rejected::SupervisorOnly);
        }
        let b = self
            .bad_ratings
            .get(&ticket)
            .ok_or(Rejected::UnknownBadRating)?;
        let note = note.trim();
        if note.chars().count() > MAX_NOTE_CHARS {
            return Err(Rejected::NoteTooLong {
                max: MAX_NOTE_CHARS,
            });
        }
        if status != FollowUpStatus::Pending && note.is_empty() {
            return Err(Rejected::NoteRequired);
        }
        let handler = handler.trim();
        if handler.chars().count() > MAX_HANDLER_CHARS {
            return Err(Rejected::HandlerTooLong {
                max: MAX_HANDLER_CHARS,
            });
        }
        let number = b.number.clone();
        self.emit(
            cx,
            EventKind::RatingFollowedUp {
                ticket,
                number,
                status,
                note: note.to_string(),
                handler: handler.to_string(),
            },
        );
        Ok(())
    }

    /// The 差评 on record, open ones and those handled in the last
    /// [`BAD_RATING_KEEP`], in no particular order.
    pub fn bad_ratings(&self) -> impl Iterator<Item = &BadRating> {
        self.bad_ratings.values()
    }

    pub fn bad_rating(&self, ticket: &str) -> Option<&BadRating> {
        self.bad_ratings.get(ticket)
    }

    /// State changes of this rule's events.
    pub(super) fn apply_rating(&mut self, ev: &Event) {
        match &ev.kind {
            EventKind::RatingRecorded {
                ticket,
                number,
                score,
                window,
                staff,
                reasons,
                comment,
            } => {
                let mut category = String::new();
                if let Some(t) = self.ticket_mut(ticket) {
                    t.rating = Some(*score);
                    category = t.category.as_str().to_owned();
                }
                if is_bad(*score) {
                    self.bad_ratings.insert(
                        ticket.clone(),
                        BadRating {
                            ticket: ticket.clone(),
                            number: number.clone(),
                            category,
                            window: *window,
                            staff: staff.clone(),
                            score: *score,
                            reasons: reasons.clone(),
                            comment: comment.clone(),
                            rated_at: ev.at,
                            business_date: self.business_date,
                            status: FollowUpStatus::Pending,
                            follow_ups: Vec::new(),
                        },
                    );
                }
            }
            EventKind::RatingFollowedUp {
                ticket,
                status,
                note,
                handler,
                ..
            } => {
                if let Some(b) = self.bad_ratings.get_mut(ticket) {
                    b.status = *status;
                    b.follow_ups.push(FollowUp {
                        at: ev.at,
                        by: ev.by.clone(),
                        status: *status,
                        note: note.clone(),
                        handler: handler.clone(),
                    });
                }
            }
            _ => {}
        }
    }

    /// At day close: handled 差评 older than [`BAD_RATING_KEEP`] leave the
    /// list (open ones stay until handled).
    pub(super) fn prune_bad_ratings(&mut self, at: Millis) {
        let horizon = at - BAD_RATING_KEEP;
        self.bad_ratings
            .retain(|_, b| b.status == FollowUpStatus::Pending || b.rated_at >= horizon);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(codes: &[&str], text: &str) -> RatingReason {
        RatingReason {
            codes: codes.iter().map(|c| c.to_string()).collect(),
            text: text.to_string(),
        }
    }

    #[test]
    fn a_bad_score_needs_a_code_or_a_text() {
        assert_eq!(
            check_reason(2, &reason(&[], "  ")),
            Err(Rejected::ReasonRequired(2))
        );
        assert_eq!(
            check_reason(1, &reason(&["attitude", "attitude"], "")),
            Ok((vec![ReasonCode::Attitude], String::new()))
        );
        assert_eq!(
            check_reason(2, &reason(&[], " 材料说了三次 ")),
            Ok((vec![], "材料说了三次".to_string()))
        );
        // Good scores need nothing.
        assert_eq!(
            check_reason(3, &reason(&[], "")),
            Ok((vec![], String::new()))
        );
    }

    #[test]
    fn codes_are_known_and_text_is_at_most_200_characters() {
        assert_eq!(
            check_reason(1, &reason(&["rude"], "")),
            Err(Rejected::UnknownReason("rude".into()))
        );
        let cjk200 = "慢".repeat(200);
        assert!(check_reason(1, &reason(&[], &cjk200)).is_ok());
        assert_eq!(
            check_reason(1, &reason(&[], &format!("{cjk200}慢"))),
            Err(Rejected::ReasonTooLong { max: 200 })
        );
    }

    #[test]
    fn every_reason_code_reads_back() {
        for r in ReasonCode::ALL {
            assert_eq!(ReasonCode::parse(r.code()), Some(r));
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.code()));
        }
    }
}
