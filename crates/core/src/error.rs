//! Why a command was refused. A refused command changes nothing.

/// The broad class of a refusal, which the server maps to an HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectClass {
    /// 400: the request itself is wrong.
    Invalid,
    /// 403: this actor may not do this.
    Forbidden,
    /// 404: the thing named does not exist.
    NotFound,
    /// 409: not allowed in the current state.
    Conflict,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("unknown category {0:?}")]
    UnknownCategory(String),
    #[error("unknown window {0}")]
    UnknownWindow(u32),
    #[error("unknown ticket")]
    UnknownTicket,
    #[error("unknown staff {0:?}")]
    UnknownStaff(String),
    #[error("unknown appointment code")]
    UnknownAppointment,
    #[error("unknown or already resolved advice {0}")]
    UnknownAdvice(u64),
    #[error("the hall is closed now (opening hours)")]
    HallClosed,
    #[error("window {0} is closed")]
    WindowClosed(u32),
    #[error("window {0} is paused")]
    WindowPaused(u32),
    #[error("window {window} is busy with ticket {number}: finish or transfer it first")]
    WindowBusy { window: u32, number: String },
    #[error("window {0} has no ticket being called")]
    NothingCalled(u32),
    #[error("window {0} has no ticket being served")]
    NothingServing(u32),
    #[error("window {0} is not paused")]
    NotPaused(u32),
    #[error("window {0} is already open")]
    AlreadyOpen(u32),
    #[error("{staff} is not on duty at window {window}")]
    NotOnDuty { staff: String, window: u32 },
    #[error("only a clerk on duty at a window may do this")]
    ClerkOnly,
    #[error("{staff} holds neither post of window {window}")]
    NotAPost { staff: String, window: u32 },
    #[error("{staff} is already logged in at window {window}")]
    AlreadyLoggedIn { staff: String, window: u32 },
    #[error("window {0} already has a clerk on duty and one on standby")]
    WindowFull(u32),
    #[error("nobody is on standby at window {0}")]
    NoStandby(u32),
    #[error("window {window} cannot serve category {category:?}")]
    CannotServe { window: u32, category: String },
    #[error("a transfer needs a category or a window")]
    EmptyTransfer,
    #[error("cannot transfer to the same window")]
    TransferToSelf,
    #[error("the ticket is {0}, not a no-show")]
    NotRequeueable(&'static str),
    #[error("the ticket is {0}, not waiting or a no-show")]
    NotCancellable(&'static str),
    #[error("a rating is possible only once the service is done")]
    NotDone,
    #[error("this ticket has already been rated")]
    AlreadyRated,
    #[error("score must be 1 to 5, got {0}")]
    BadScore(u8),
    #[error("ticket id already used")]
    DuplicateId,
    #[error("priority {0:?} cannot be chosen at issue; use an appointment code")]
    BadPriority(&'static str),
    #[error("category {0:?} takes no appointments")]
    NoAppointments(String),
    #[error("the slot is not a bookable slot start: {0}")]
    BadSlot(&'static str),
    #[error("this slot is fully booked")]
    SlotFull,
    #[error("this phone missed too many appointments and cannot book until {}", crate::time::rfc3339(*until))]
    BookingBanned { until: crate::time::Millis },
    #[error("the check-in time is over: the appointment counts as missed")]
    AppointmentMissed,
    #[error("appointment code already exists")]
    DuplicateCode,
    #[error("this appointment code was already used")]
    AppointmentUsed,
    #[error("check-in opens 15 minutes before the slot")]
    AppointmentTooEarly,
    #[error("the appointment was for an earlier day: check-in has closed")]
    AppointmentExpired,
    #[error("the appointment is for category {0:?}")]
    AppointmentCategory(String),
    #[error("configuration: {0}")]
    BadConfig(String),
    #[error("the configuration is for hall {0:?}")]
    WrongHall(String),
    #[error("a window that is calling or serving cannot be closed")]
    CloseWhileBusy,
    #[error("no staff member is free to open window {0}")]
    NoStaffAvailable(u32),
    #[error("the new configuration drops {0} while it is in use")]
    ReloadInUse(String),
    #[error("recall the ticket first: no-show needs {needed} recall(s), it has {done}")]
    RecallFirst { needed: u32, done: u32 },
    #[error("今日号已取完: category {category:?} has issued its {cap} tickets for today")]
    DailyCapReached { category: String, cap: u32 },
    #[error("今日取号已停止（闭厅前 {minutes} 分钟停止取号）: no new tickets within {minutes} minutes of closing")]
    LastTicketPassed { minutes: u32 },
    #[error("window {window} is already being opened: {staff} has been summoned there")]
    AlreadySummoned { window: u32, staff: String },
    #[error("no ticket numbered {0:?} today")]
    UnknownNumber(String),
    #[error("ticket {number} is {state}: only a waiting ticket, or one held at this window, can be called")]
    NotCallable { number: String, state: &'static str },
    #[error("ticket {number} is held at window {window}: only that window can call it back")]
    HeldElsewhere { number: String, window: u32 },
    #[error("ticket {number} was transferred to window {window}")]
    DirectedElsewhere { number: String, window: u32 },
    #[error("the ticket is already in category {0:?}: name the next category")]
    ChainSameCategory(String),
    #[error("notice: {0}")]
    BadNotice(&'static str),
    #[error("unknown notice {0}")]
    UnknownNotice(u64),
    #[error("only the supervisor may do this")]
    SupervisorOnly,
    #[error("不满意 and 非常不满意 (score {0}) need a reason: a common reason or a text")]
    ReasonRequired(u8),
    #[error("a rating reason has at most {max} characters")]
    ReasonTooLong { max: usize },
    #[error("unknown rating reason {0:?}")]
    UnknownReason(String),
    #[error("no 差评 (score 1 or 2) on record for this ticket")]
    UnknownBadRating,
    #[error("a follow-up note has at most {max} characters")]
    NoteTooLong { max: usize },
    #[error("已回访 and 已整改 need a note saying what was done")]
    NoteRequired,
    #[error("the handler's name has at most {max} characters")]
    HandlerTooLong { max: usize },
}

impl Rejected {
    /// A stable snake_case code for the JSON error body.
    pub fn code(&self) -> &'static str {
        use Rejected::*;
        match self {
            UnknownCategory(_) => "unknown_category",
            UnknownWindow(_) => "unknown_window",
            UnknownTicket => "unknown_ticket",
            UnknownStaff(_) => "unknown_staff",
            UnknownAppointment => "unknown_appointment",
            UnknownAdvice(_) => "unknown_advice",
            HallClosed => "hall_closed",
            WindowClosed(_) => "window_closed",
            WindowPaused(_) => "window_paused",
            WindowBusy { .. } => "window_busy",
            NothingCalled(_) => "nothing_called",
            NothingServing(_) => "nothing_serving",
            NotPaused(_) => "not_paused",
            AlreadyOpen(_) => "already_open",
            NotOnDuty { .. } => "not_on_duty",
            ClerkOnly => "clerk_only",
            NotAPost { .. } => "not_a_post",
            AlreadyLoggedIn { .. } => "already_logged_in",
            WindowFull(_) => "window_full",
            NoStandby(_) => "no_standby",
            CannotServe { .. } => "cannot_serve",
            EmptyTransfer => "empty_transfer",
            TransferToSelf => "transfer_to_self",
            NotRequeueable(_) => "not_requeueable",
            NotCancellable(_) => "not_cancellable",
            NotDone => "not_done",
            AlreadyRated => "already_rated",
            BadScore(_) => "bad_score",
            DuplicateId => "duplicate_id",
            BadPriority(_) => "bad_priority",
            NoAppointments(_) => "no_appointments",
            BadSlot(_) => "bad_slot",
            SlotFull => "slot_full",
            BookingBanned { .. } => "booking_banned",
            AppointmentMissed => "appointment_missed",
            DuplicateCode => "duplicate_code",
            AppointmentUsed => "appointment_used",
            AppointmentTooEarly => "appointment_too_early",
            AppointmentExpired => "appointment_expired",
            AppointmentCategory(_) => "appointment_category",
            BadConfig(_) => "bad_config",
            WrongHall(_) => "wrong_hall",
            CloseWhileBusy => "close_while_busy",
            NoStaffAvailable(_) => "no_staff_available",
            ReloadInUse(_) => "reload_in_use",
            RecallFirst { .. } => "recall_first",
            DailyCapReached { .. } => "daily_cap_reached",
            LastTicketPassed { .. } => "last_ticket_passed",
            AlreadySummoned { .. } => "already_summoned",
            UnknownNumber(_) => "unknown_number",
            NotCallable { .. } => "not_callable",
            HeldElsewhere { .. } => "held_elsewhere",
            DirectedElsewhere { .. } => "directed_elsewhere",
            ChainSameCategory(_) => "chain_same_category",
            BadNotice(_) => "bad_notice",
            UnknownNotice(_) => "unknown_notice",
            SupervisorOnly => "supervisor_only",
            ReasonRequired(_) => "reason_required",
            ReasonTooLong { .. } => "reason_too_long",
            UnknownReason(_) => "unknown_reason",
            UnknownBadRating => "unknown_bad_rating",
            NoteTooLong { .. } => "note_too_long",
            NoteRequired => "note_required",
            HandlerTooLong { .. } => "handler_too_long",
        }
    }

    pub fn class(&self) -> RejectClass {
        use Rejected::*;
        match self {
            UnknownCategory(_) | UnknownWindow(_) | UnknownTicket | UnknownStaff(_)
            | UnknownAppointment | UnknownAdvice(_) | UnknownNumber(_) | UnknownNotice(_)
            | UnknownBadRating => RejectClass::NotFound,
            NotOnDuty { .. } | ClerkOnly | NotAPost { .. } | SupervisorOnly => {
                RejectClass::Forbidden
            }
            EmptyTransfer
            | TransferToSelf
            | BadScore(_)
            | BadPriority(_)
            | BadSlot(_)
            | BadConfig(_)
            | WrongHall(_)
            | AppointmentCategory(_)
            | NoAppointments(_)
            | ChainSameCategory(_)
            | BadNotice(_)
            | ReasonRequired(_)
            | ReasonTooLong { .. }
            | UnknownReason(_)
            | NoteTooLong { .. }
            | NoteRequired
            | HandlerTooLong { .. } => RejectClass::Invalid,
            _ => RejectClass::Conflict,
        }
    }
}
