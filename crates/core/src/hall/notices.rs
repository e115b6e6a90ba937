//! The hall display's scrolling notices (公告): the supervisor adds a text
//! with the time range it shows in (a closure this afternoon, a new service)
//! and removes it. Events through the core like everything else, so a
//! restart or a second display shows the same notices. Ended notices are
//! dropped when the next one is added, so the list stays short.

use serde::{Deserialize, Serialize};

use crate::error::Rejected;
use crate::event::{Event, EventKind};
use crate::hall::handle::Ctx;
use crate::hall::Hall;
use crate::model::Actor;
use crate::time::{Millis, MINUTE};

/// Longest notice text, characters (a line that scrolls by in seconds).
pub const NOTICE_MAX_CHARS: usize = 200;
/// At most this many notices at once.
pub const NOTICES_MAX: usize = 20;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub id: u64,
    pub text: String,
    pub starts_at: Millis,
    pub ends_at: Millis,
}

impl Notice {
    pub fn shows_at(&self, now: Millis) -> bool {
        self.starts_at <= now && now < self.ends_at
    }
}

impl Hall {
    pub(crate) fn add_notice(
        &mut self,
        cx: &mut Ctx,
        text: &str,
        starts_at: Millis,
        ends_at: Millis,
    ) -> Result<(), Rejected> {
        if cx.by != Actor::Supervisor {
            return Err(Rejected::SupervisorOnly);
        }
        let text = text.trim();
        if text.is_empty() {
            return Err(Rejected::BadNotice("the text is empty"));
        }
        if text.chars().count() > NOTICE_MAX_CHARS {
            return Err(Rejected::BadNotice(
                "the text is longer than 200 characters",
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(Rejected::BadNotice("the text has control characters"));
        }
        if ends_at <= starts_at {
            return Err(Rejected::BadNotice("ends_at must be after starts_at"));
        }
        if ends_at <= cx.now {
            return Err(Rejected::BadNotice("ends_at is in the past"));
        }
        if ends_at - starts_at > 366 * 24 * 60 * MINUTE {
            return Err(Rejected::BadNotice("a notice shows for at most a year"));
        }
        let live = self.notices.values().filter(|n| n.ends_at > cx.now).count();
        if live >= NOTICES_MAX {
            return Err(Rejected::BadNotice("at most 20 notices; remove one first"));
        }
        let kind = EventKind::NoticeAdded {
            notice: self.next_notice + 1,
            text: text.to_string(),
            starts_at,
            ends_at,
        };
        self.emit(cx, kind);
        Ok(())
    }

    pub(crate) fn remove_notice(&mut self, cx: &mut Ctx, notice: u64) -> Result<(), Rejected> {
        if cx.by != Actor::Supervisor {
            return Err(Rejected::SupervisorOnly);
        }
        if !self.notices.contains_key(&notice) {
            return Err(Rejected::UnknownNotice(notice));
        }
        self.emit(cx, EventKind::NoticeRemoved { notice });
        Ok(())
    }

    /// Every notice not yet ended at `now`, by id (the supervisor's list;
    /// the display shows those with [`Notice::shows_at`]).
    pub fn notices(&self, now: Millis) -> impl Iterator<Item = &Notice> {
        self.notices.values().filter(move |n| n.ends_at > now)
    }

    /// The notices not yet ended, as the view shows them.
    pub fn notice_views(&self, now: Millis) -> Vec<crate::view::NoticeView> {
        self.notices(now)
            .map(|n| crate::view::NoticeView {
                id: n.id,
                text: n.text.clone(),
                starts_at: crate::time::rfc3339(n.starts_at),
                ends_at: crate::time::rfc3339(n.ends_at),
                showing: n.shows_at(now),
            })
            .collect()
    }

    /// What the hall announces by itself beside the supervisor's notices:
    /// open tidal windows, and tickets sent on (多窗联办) still waiting,
    /// with the windows to go to.
    pub(crate) fn system_notices(&self) -> Vec<crate::view::SystemNotice> {
        use crate::view::SystemNotice;
        let mut out: Vec<SystemNotice> = self
            .windows
            .iter()
            .enumerate()
            .filter(|(i, w)| self.kind_of(*i) == crate::config::WindowKind::Tidal && w.is_staffed())
            .map(|(_, w)| SystemNotice::TidalOpen { window: w.number })
            .collect();
        for serial in self.chained.keys() {
            let Some(t) = self.tickets.get(serial) else {
                continue;
            };
            if t.state != crate::model::TicketState::Waiting {
                continue;
            }
            out.push(SystemNotice::Chained {
                number: t.number.as_str().to_owned(),
                category: t.category.as_str().to_owned(),
                windows: self.windows_serving(&t.category),
            });
        }
        out
    }

    pub(super) fn apply_notices(&mut self, ev: &Event) {
        match &ev.kind {
            EventKind::NoticeAdded {
                notice,
                text,
                starts_at,
                ends_at,
            } => {
                self.notices.retain(|_, n| n.ends_at > ev.at);
                self.next_notice = self.next_notice.max(*notice);
                self.notices.insert(
                    *notice,
                    Notice {
                        id: *notice,
                        text: text.clone(),
                        starts_at: *starts_at,
                        ends_at: *ends_at,
                    },
                );
            }
            EventKind::NoticeRemoved { notice } => {
                self.notices.remove(notice);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::hall::testing::H;
    use crate::{Actor, Command};

    fn add(
        h: &mut H,
        by: Actor,
        text: &str,
        from_s: i64,
        to_s: i64,
    ) -> Result<Vec<crate::Event>, crate::Rejected> {
        let now = h.now;
        h.run(
            by,
            Command::AddNotice {
                text: text.into(),
                starts_at: now + from_s * 1000,
                ends_at: now + to_s * 1000,
            },
        )
    }

    #[test]
    fn notices_are_added_with_a_time_range_and_removed_by_id() {
        let mut h = H::demo();
        add(
            &mut h,
            Actor::Supervisor,
            "今天下午三点起暂停办理不动产业务",
            0,
            3600,
        )
        .unwrap();
        add(
            &mut h,
            Actor::Supervisor,
            "明天起新增跨域通办窗口",
            600,
            7200,
        )
        .unwrap();
        let now = h.now;
        let live: Vec<_> = h
            .hall
            .notices(now)
            .map(|n| (n.id, n.shows_at(now)))
            .collect();
        assert_eq!(live, [(1, true), (2, false)]);
        h.ok(Actor::Supervisor, Command::RemoveNotice { notice: 1 });
        assert_eq!(h.hall.notices(now).map(|n| n.id).collect::<Vec<_>>(), [2]);
        // Ids are never reused, even after the highest was removed.
        h.ok(Actor::Supervisor, Command::RemoveNotice { notice: 2 });
        add(&mut h, Actor::Supervisor, "第三条", 0, 60).unwrap();
        assert_eq!(h.hall.notices(now).map(|n| n.id).collect::<Vec<_>>(), [3]);
    }

    #[test]
    fn bad_notices_are_refused_and_change_nothing() {
        let mut h = H::demo();
        let code = |r: Result<Vec<crate::Event>, crate::Rejected>| r.unwrap_err().code();
        assert_eq!(
            code(add(&mut h, Actor::Supervisor, "  ", 0, 60)),
            "bad_notice"
        );
        assert_eq!(
            code(add(&mut h, Actor::Supervisor, "x", 60, 60)),
            "bad_notice"
        );
        assert_eq!(
            code(add(&mut h, Actor::Supervisor, "x", -120, -60)),
            "bad_notice"
        );
        assert_eq!(
            code(add(&mut h, Actor::Supervisor, &"长".repeat(201), 0, 60)),
            "bad_notice"
        );
        assert_eq!(
            code(add(&mut h, Actor::Kiosk, "x", 0, 60)),
            "supervisor_only"
        );
        assert_eq!(
            h.run(Actor::Supervisor, Command::RemoveNotice { notice: 9 })
                .unwrap_err()
                .code(),
            "unknown_notice"
        );
    }
}
