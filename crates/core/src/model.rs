//! The nouns of a service hall: who acts, tickets, windows and posts.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::time::Millis;

/// Who caused an event. Every state change records one, so any call, transfer
/// or failover can be traced afterwards. On the wire: `"kiosk"`,
/// `"supervisor"`, `"system"`, `"public"` or `"staff:<id>"`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Actor {
    Staff(String),
    Kiosk,
    Supervisor,
    /// The hall itself: tidal decisions, warnings, day close, failover.
    System,
    /// A citizen acting with their ticket's unguessable id (rating, booking).
    Public,
}

impl Actor {
    pub fn staff(id: impl Into<String>) -> Actor {
        Actor::Staff(id.into())
    }

    pub fn staff_id(&self) -> Option<&str> {
        match self {
            Actor::Staff(s) => Some(s),
            _ => None,
        }
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::Staff(s) => write!(f, "staff:{s}"),
            Actor::Kiosk => f.write_str("kiosk"),
            Actor::Supervisor => f.write_str("supervisor"),
            Actor::System => f.write_str("system"),
            Actor::Public => f.write_str("public"),
        }
    }
}

impl Serialize for Actor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "kiosk" => Actor::Kiosk,
            "supervisor" => Actor::Supervisor,
            "system" => Actor::System,
            "public" => Actor::Public,
            other => match other.strip_prefix("staff:") {
                Some(id) => Actor::Staff(id.to_string()),
                None => return Err(serde::de::Error::custom(format!("unknown actor {other:?}"))),
            },
        })
    }
}

/// Priority class. Green-channel classes and due appointments get a call-order
/// bonus; the class itself is never shown on a display.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    #[default]
    Normal,
    Elderly,
    Disabled,
    Pregnant,
    Military,
    Appointment,
}

impl Priority {
    pub fn is_green_channel(self) -> bool {
        matches!(
            self,
            Priority::Elderly | Priority::Disabled | Priority::Pregnant | Priority::Military
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    #[default]
    Kiosk,
    Mobile,
    /// 帮办代办: issued by a greeter for someone who needs help.
    Assisted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    Waiting,
    Called,
    Serving,
    /// 挂起: parked at the window that served it, until called back there.
    Held,
    Done,
    NoShow,
    Cancelled,
    Expired,
}

impl TicketState {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TicketState::Done | TicketState::Cancelled | TicketState::Expired
        )
    }
}

/// Warning level (红黄绿预警); green is the absence of a warning.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    #[default]
    Green,
    Yellow,
    Red,
}

/// A ticket of the current business day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    /// Unguessable id for the citizen's status page (chosen by the shell).
    pub id: CompactString,
    /// Issue order within the hall, the tie-break of the call order.
    pub serial: u64,
    pub number: CompactString,
    pub category: CompactString,
    pub priority: Priority,
    pub channel: Channel,
    pub issued_at: Millis,
    /// Fixed call-order key: `issued_at - bonus`, `now` after a requeue.
    pub key: Millis,
    pub state: TicketState,
    /// Since when it is waiting (issue, requeue or transfer): the wait target
    /// and the wait warning are measured from here.
    pub waiting_since: Millis,
    /// Transferred to a specific window: goes first there, only there.
    pub directed_to: Option<u32>,
    pub window: Option<u32>,
    pub staff: Option<String>,
    pub called_at: Option<Millis>,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    pub calls: u32,
    /// Recalls since the last first call (过号 needs enough of them).
    #[serde(default)]
    pub recalls: u32,
    pub rating: Option<u8>,
    pub appointment: Option<String>,
    /// Highest warning already raised for this ticket's service time.
    pub service_warned: Level,
    pub wait_warned: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Post {
    /// 主岗
    A,
    /// 备岗
    B,
    /// Someone put there by the supervisor or the tidal policy who holds
    /// neither post of this window (顶岗).
    Relief,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Duty {
    OnDuty,
    Standby,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    /// 离岗: the AB rule applies.
    Leave,
    /// 开会: the AB rule applies.
    Meeting,
    Break,
    /// The clerk on duty logged out and nobody was on standby.
    NoStaff,
    Other,
}

impl PauseReason {
    /// Whether this pause means the clerk leaves the window (AB岗 applies).
    pub fn is_absence(self) -> bool {
        matches!(
            self,
            PauseReason::Leave | PauseReason::Meeting | PauseReason::NoStaff
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum WindowState {
    Closed,
    Open,
    Calling,
    Serving,
    Paused { reason: PauseReason },
}

/// A staff member at a window.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Seat {
    pub staff: String,
    pub post: Post,
}

/// The live state of one window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub number: u32,
    pub state: WindowState,
    pub on_duty: Option<Seat>,
    pub standby: Option<Seat>,
    /// Serial of the ticket called or served here.
    pub current: Option<u64>,
    /// Since when the window is in its state (for idle time and warnings).
    pub since: Millis,
}

impl Window {
    /// Open, calling or serving: a clerk is at the window and taking tickets.
    pub fn is_staffed(&self) -> bool {
        matches!(
            self.state,
            WindowState::Open | WindowState::Calling | WindowState::Serving
        )
    }

    pub fn is_busy(&self) -> bool {
        matches!(self.state, WindowState::Calling | WindowState::Serving)
    }
}
