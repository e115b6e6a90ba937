//! 同城通办: one line per hall for the city's operator (`GET /api/v1/overview`,
//! the `/city` page) — how many wait, the longest wait, the windows open and
//! the red warnings. Read off the hall's [`HallView`], so the figures and
//! levels are the ones the hall's own dashboard shows, never computed twice.

use serde::Serialize;

use crate::model::Level;
use crate::view::HallView;

/// A hall at a glance.
#[derive(Clone, Debug, Serialize)]
pub struct HallOverview {
    pub hall: String,
    pub name: String,
    pub name_en: String,
    /// The hall's seq the figures are as of.
    pub seq: u64,
    /// The hall's local time of the figures (RFC 3339).
    pub now: String,
    /// Whether the hall has a business day under way (else closed today).
    pub open_today: bool,
    pub waiting: u32,
    /// The oldest waiting ticket's wait, in seconds (0: nobody waits).
    pub longest_wait_s: i64,
    /// Windows staffed and open (idle, calling or serving): what the tidal
    /// rules count.
    pub open_windows: u32,
    pub windows: u32,
    /// Every red warning of the hall, worst first by kind.
    pub red: Vec<RedWarning>,
    /// How many yellow warnings (categories and windows).
    pub yellow: u32,
    /// The worst level in the hall.
    pub level: Level,
}

/// One red warning: a category waiting too long or without an open window,
/// or a window serving beyond its time limit.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RedWarning {
    Category {
        id: String,
        name: String,
        name_en: String,
        waiting: u32,
        oldest_wait_s: Option<i64>,
        open_windows: u32,
    },
    Window {
        number: u32,
        /// The ticket being served there, if any.
        number_served: Option<String>,
        elapsed_s: Option<i64>,
    },
}

impl HallView {
    /// The overview line of this view.
    pub fn overview(&self) -> HallOverview {
        let mut red = Vec::new();
        let mut yellow = 0;
        let mut longest = 0;
        for c in &self.categories {
            longest = longest.max(c.oldest_wait_s.unwrap_or(0));
            match c.level {
                Level::Red => red.push(RedWarning::Category {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    name_en: c.name_en.clone(),
                    waiting: c.waiting,
                    oldest_wait_s: c.oldest_wait_s,
                    open_windows: c.open_windows,
                }),
                Level::Yellow => yellow += 1,
                Level::Green => {}
            }
        }
        for w in &self.windows {
            match w.level {
                Level::Red => red.push(RedWarning::Window {
                    number: w.number,
                    number_served: w.current.as_ref().map(|c| c.number.clone()),
                    elapsed_s: w.current.as_ref().map(|c| c.elapsed_s),
                }),
                Level::Yellow => yellow += 1,
                Level::Green => {}
            }
        }
        let level = if !red.is_empty() {
            Level::Red
        } else if yellow > 0 {
            Level::Yellow
        } else {
            Level::Green
        };
        HallOverview {
            hall: self.hall.clone(),
            name: self.name.clone(),
            name_en: self.name_en.clone(),
            seq: self.seq,
            now: self.now.clone(),
            open_today: self.business_date.is_some(),
            waiting: self.load.waiting,
            longest_wait_s: longest,
            open_windows: self.load.open_windows,
            windows: self.windows.len() as u32,
            red,
            yellow,
            level,
        }
    }
}
