//! The hall's calendar: which local dates it opens. `open_days` gives the
//! week; `closed_dates` (法定节假日) close a date whatever its weekday and
//! `extra_open_dates` (调休, a working weekend) open one. Opening hours,
//! booking and the simulator all ask here, so a holiday is closed for all
//! three at once.

use chrono::{Datelike, NaiveDate};

use crate::config::{invalid, ConfigError, HallConfig};

/// The most dates each list may hold (a few years of holidays).
pub const MAX_DATES: usize = 400;

/// The longest booking horizon, days.
pub const MAX_BOOKING_DAYS: u32 = 90;

impl HallConfig {
    /// Whether the hall opens on local date `date` at all (its hours are
    /// `open_hours`).
    pub fn is_open_date(&self, date: NaiveDate) -> bool {
        if self.closed_dates.contains(&date) {
            return false;
        }
        let weekday = date.weekday().num_days_from_monday() as u8;
        self.open_days.iter().any(|d| d.index() == weekday) || self.extra_open_dates.contains(&date)
    }

    /// The calendar and booking keys: a date both closed and extra-open is
    /// a mistake, and so is a horizon or ban nobody could mean.
    pub(crate) fn validate_calendar(&self) -> Result<(), ConfigError> {
        let h = self.id.as_str();
        for (field, list) in [
            ("closed_dates", &self.closed_dates),
            ("extra_open_dates", &self.extra_open_dates),
        ] {
            if list.len() > MAX_DATES {
                return Err(invalid(h, field, format!("at most {MAX_DATES} dates")));
            }
        }
        if let Some(d) = self
            .closed_dates
            .iter()
            .find(|d| self.extra_open_dates.contains(d))
        {
            return Err(invalid(
                h,
                "extra_open_dates",
                format!("{d} is also in closed_dates; a date is either closed or open"),
            ));
        }
        if self.booking_days_ahead > MAX_BOOKING_DAYS {
            return Err(invalid(
                h,
                "booking_days_ahead",
                format!("must be 0 to {MAX_BOOKING_DAYS} days"),
            ));
        }
        if self.no_show_limit > 0 && !(1..=365).contains(&self.no_show_ban_days) {
            return Err(invalid(h, "no_show_ban_days", "must be 1 to 365 days"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::demo_hall;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).expect("date")
    }

    #[test]
    fn holidays_close_and_working_weekends_open() {
        let mut c = demo_hall();
        c.open_days.retain(|d| d.index() < 5); // Monday to Friday
        c.closed_dates = vec![d(10, 1)]; // a Thursday: 国庆
        c.extra_open_dates = vec![d(9, 27)]; // a Sunday: 调休
        assert!(!c.is_open_date(d(10, 1)), "holiday");
        assert!(c.is_open_date(d(10, 9)), "an ordinary Friday");
        assert!(c.is_open_date(d(9, 27)), "调休 Sunday");
        assert!(!c.is_open_date(d(10, 11)), "an ordinary Sunday");
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn a_date_both_closed_and_open_or_a_far_horizon_is_refused() {
        let mut c = demo_hall();
        c.closed_dates = vec![d(10, 1)];
        c.extra_open_dates = vec![d(10, 1)];
        assert!(
            matches!(c.validate(), Err(ConfigError::Invalid { field, .. }) if field == "extra_open_dates")
        );
        let mut c = demo_hall();
        c.booking_days_ahead = 91;
        assert!(
            matches!(c.validate(), Err(ConfigError::Invalid { field, .. }) if field == "booking_days_ahead")
        );
        let mut c = demo_hall();
        c.no_show_ban_days = 0;
        assert!(
            matches!(c.validate(), Err(ConfigError::Invalid { field, .. }) if field == "no_show_ban_days")
        );
    }

    #[test]
    fn calendar_dates_are_read_from_the_config_file() {
        let toml = "id = \"x\"\nname = \"X\"\nclosed_dates = [\"2026-10-01\"]\nextra_open_dates = [\"2026-09-27\"]\nbooking_days_ahead = 14\n";
        let c: HallConfig = toml::from_str(toml).expect("parses");
        assert_eq!(c.closed_dates, vec![d(10, 1)]);
        assert_eq!(c.extra_open_dates, vec![d(9, 27)]);
        assert_eq!(
            (c.booking_days_ahead, c.no_show_limit, c.no_show_ban_days),
            (14, 3, 30)
        );
    }
}
