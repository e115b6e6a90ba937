//! Configuration reload (new window, staff, thresholds) without a restart:
//! refused while it would drop anything in use; windows and categories are
//! matched by number and id.

use std::collections::{BTreeSet, VecDeque};

use crate::config::HallConfig;
use crate::error::Rejected;
use crate::event::EventKind;
use crate::hall::handle::Ctx;
use crate::hall::{Hall, Layout};
use crate::model::{TicketState, Window, WindowState};
use crate::time::Millis;

impl Hall {
    pub(crate) fn reload(&mut self, cx: &mut Ctx, config: HallConfig) -> Result<(), Rejected> {
        self.check_config(&config)?;
        if config == self.config {
            return Ok(());
        }
        self.emit(
            cx,
            EventKind::ConfigReloaded {
                config: Box::new(config),
            },
        );
        Ok(())
    }

    /// Whether the hall may adopt `config`: valid as a file, and dropping
    /// no open window, no category with live tickets, no seated clerk. Also
    /// decides the browser's edits (`admin.rs`).
    pub(crate) fn check_config(&self, config: &HallConfig) -> Result<(), Rejected> {
        if config.id != self.config.id {
            return Err(Rejected::WrongHall(config.id.clone()));
        }
        config
            .validate()
            .map_err(|e| Rejected::BadConfig(e.to_string()))?;
        for w in &self.windows {
            if w.state != WindowState::Closed && config.window(w.number).is_none() {
                return Err(Rejected::ReloadInUse(format!("window {} (open)", w.number)));
            }
        }
        for t in self.tickets.values() {
            if !t.state.is_final() && config.category(&t.category).is_none() {
                return Err(Rejected::ReloadInUse(format!("category {}", t.category)));
            }
        }
        for (staff, (w, _)) in &self.staff_at {
            if config.staff(staff).is_none() {
                return Err(Rejected::ReloadInUse(format!(
                    "staff {staff} (at window {w})"
                )));
            }
        }
        Ok(())
    }

    /// Adopts a new configuration: windows and categories are matched by
    /// number and id; new ones start closed / empty; `reload` has already
    /// refused a reload that drops anything in use.
    pub(super) fn reconfigure(&mut self, config: HallConfig, at: Millis) {
        let old_windows = std::mem::take(&mut self.windows);
        let old_avg: std::collections::HashMap<String, f64> = self
            .config
            .categories
            .iter()
            .zip(self.avg_service_s.iter())
            .map(|(c, a)| (c.id.clone(), *a))
            .collect();
        self.layout = Layout::of(&config);
        self.windows = config
            .windows
            .iter()
            .map(|wc| {
                old_windows
                    .iter()
                    .find(|w| w.number == wc.number)
                    .cloned()
                    .unwrap_or(Window {
                        number: wc.number,
                        state: WindowState::Closed,
                        on_duty: None,
                        standby: None,
                        current: None,
                        since: at,
                    })
            })
            .collect();
        self.avg_service_s = config
            .categories
            .iter()
            .map(|c| old_avg.get(&c.id).copied().unwrap_or(c.expected_s as f64))
            .collect();
        let k = config.categories.len();
        self.config = config;
        self.queues = vec![BTreeSet::new(); k];
        self.wait_watch = vec![VecDeque::new(); k];
        self.waiting = vec![0; k];
        self.directed = vec![BTreeSet::new(); self.windows.len()];
        let mut waiting: Vec<u64> = self
            .tickets
            .values()
            .filter(|t| t.state == TicketState::Waiting)
            .map(|t| t.serial)
            .collect();
        waiting.sort_unstable();
        for serial in waiting {
            self.enqueue(serial);
        }
        // Staff whose window disappeared are no longer seated anywhere.
        let numbers: std::collections::HashSet<u32> =
            self.windows.iter().map(|w| w.number).collect();
        self.staff_at.retain(|_, (w, _)| numbers.contains(w));
    }
}
