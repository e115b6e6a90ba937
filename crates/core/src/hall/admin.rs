//! Administration from the browser (issue 15 item 10): a supervisor adds,
//! edits and retires staff, resets a PIN, sets a window's kind, categories
//! and A/B posts, and a category's targets and caps.
//!
//! Each edit is applied to a copy of the hall's configuration and decided
//! exactly like a file reload (`reload::check_config`: the whole file's
//! validation, and nothing in use dropped), then logged as one
//! `config_edited` event carrying the edit (who and what, for the audit
//! feed) and the resulting configuration (so a replay adopts exactly it,
//! whatever later code would make of the edit). The PIN is hashed by the
//! server before it gets here: the core never sees a PIN.

use serde::{Deserialize, Serialize};

use crate::config::{HallConfig, StaffConfig, WindowKind};
use crate::error::Rejected;
use crate::event::EventKind;
use crate::hall::handle::Ctx;
use crate::hall::Hall;

/// One edit of the hall's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ConfigEdit {
    /// A new staff member (id not yet used).
    AddStaff {
        id: String,
        name: String,
        #[serde(default)]
        staff_no: String,
        pin_hash: String,
    },
    /// Name and 工号 of a staff member.
    EditStaff {
        id: String,
        name: String,
        #[serde(default)]
        staff_no: String,
    },
    /// Removes a staff member: refused while seated at a window or posted
    /// (A or B) on one.
    RetireStaff { id: String },
    /// A new PIN (its argon2 hash).
    ResetPin { id: String, pin_hash: String },
    /// A window's kind, categories (specialist) and posts.
    SetWindow {
        number: u32,
        kind: WindowKind,
        #[serde(default)]
        categories: Vec<String>,
        a_post: String,
        #[serde(default)]
        b_post: Option<String>,
    },
    /// A category's expected handling time, time limit, wait target and
    /// daily cap (`None`: no cap).
    SetCategory {
        id: String,
        expected_s: u32,
        limit_s: u32,
        wait_target_s: u32,
        #[serde(default)]
        daily_cap: Option<u32>,
    },
}

impl ConfigEdit {
    /// `add_staff`, `set_window`, … (the `op` on the wire).
    pub fn op(&self) -> &'static str {
        match self {
            ConfigEdit::AddStaff { .. } => "add_staff",
            ConfigEdit::EditStaff { .. } => "edit_staff",
            ConfigEdit::RetireStaff { .. } => "retire_staff",
            ConfigEdit::ResetPin { .. } => "reset_pin",
            ConfigEdit::SetWindow { .. } => "set_window",
            ConfigEdit::SetCategory { .. } => "set_category",
        }
    }

    /// What the edit is about: a staff id, a window number, a category id.
    pub fn target(&self) -> String {
        match self {
            ConfigEdit::AddStaff { id, .. }
            | ConfigEdit::EditStaff { id, .. }
            | ConfigEdit::RetireStaff { id }
            | ConfigEdit::ResetPin { id, .. }
            | ConfigEdit::SetCategory { id, .. } => id.clone(),
            ConfigEdit::SetWindow { number, .. } => number.to_string(),
        }
    }

    /// The edit without its PIN hash, for the log's readers (audit, hooks).
    pub fn redacted(&self) -> ConfigEdit {
        let mut e = self.clone();
        if let ConfigEdit::AddStaff { pin_hash, .. } | ConfigEdit::ResetPin { pin_hash, .. } =
            &mut e
        {
            *pin_hash = String::new();
        }
        e
    }

    /// `config` with this edit made; an unknown target or a duplicate id is
    /// refused here, everything else by the configuration's validation.
    pub fn applied_to(&self, mut config: HallConfig) -> Result<HallConfig, Rejected> {
        let bad = |m: String| Rejected::BadConfig(m);
        let staff_idx = |c: &HallConfig, id: &str| {
            c.staff
                .iter()
                .position(|s| s.id == id)
                .ok_or_else(|| Rejected::UnknownStaff(id.to_string()))
        };
        match self {
            ConfigEdit::AddStaff {
                id,
                name,
                staff_no,
                pin_hash,
            } => {
                if config.staff(id).is_some() {
                    return Err(bad(format!("staff id {id} is already used")));
                }
                if pin_hash.is_empty() {
                    return Err(bad("a new staff member needs a PIN".into()));
                }
                config.staff.push(StaffConfig {
                    id: id.clone(),
                    name: name.clone(),
                    pin_hash: pin_hash.clone(),
                    staff_no: staff_no.clone(),
                    photo: None,
                });
            }
            ConfigEdit::EditStaff { id, name, staff_no } => {
                let i = staff_idx(&config, id)?;
                config.staff[i].name = name.clone();
                config.staff[i].staff_no = staff_no.clone();
            }
            ConfigEdit::RetireStaff { id } => {
                let i = staff_idx(&config, id)?;
                if let Some(w) = config
                    .windows
                    .iter()
                    .find(|w| &w.a_post == id || w.b_post.as_ref() == Some(id))
                {
                    return Err(bad(format!(
                        "staff {id} is posted on window {}: change its posts first",
                        w.number
                    )));
                }
                config.staff.remove(i);
            }
            ConfigEdit::ResetPin { id, pin_hash } => {
                let i = staff_idx(&config, id)?;
                if pin_hash.is_empty() {
                    return Err(bad("the new PIN is missing".into()));
                }
                config.staff[i].pin_hash = pin_hash.clone();
            }
            ConfigEdit::SetWindow {
                number,
                kind,
                categories,
                a_post,
                b_post,
            } => {
                let w = config
                    .windows
                    .iter_mut()
                    .find(|w| w.number == *number)
                    .ok_or(Rejected::UnknownWindow(*number))?;
                w.kind = *kind;
                w.categories = categories.clone();
                w.a_post = a_post.clone();
                w.b_post = b_post.clone().filter(|b| !b.is_empty());
            }
            ConfigEdit::SetCategory {
                id,
                expected_s,
                limit_s,
                wait_target_s,
                daily_cap,
            } => {
                let c = config
                    .categories
                    .iter_mut()
                    .find(|c| &c.id == id)
                    .ok_or_else(|| Rejected::UnknownCategory(id.clone()))?;
                c.expected_s = *expected_s;
                c.limit_s = *limit_s;
                c.wait_target_s = *wait_target_s;
                c.daily_cap = *daily_cap;
            }
        }
        Ok(config)
    }
}

impl Hall {
    pub(crate) fn edit_config(&mut self, cx: &mut Ctx, edit: ConfigEdit) -> Result<(), Rejected> {
        let config = edit.applied_to(self.config.clone())?;
        self.check_config(&config)?;
        if config == self.config {
            return Ok(());
        }
        self.emit(
            cx,
            EventKind::ConfigEdited {
                edit: Box::new(edit),
                config: Box::new(config),
            },
        );
        Ok(())
    }
}
