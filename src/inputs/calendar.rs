//! The working-day calendar: weekends off, public holidays, and make-up
//! workdays (调休).

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate, Weekday};

use crate::error::{Error, Result};
use crate::inputs::io::{CsvFile, check_unique};

/// What a calendar file says about one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DayKind {
    /// A public holiday: not a working day even on a weekday.
    Holiday,
    /// A make-up workday (调休): a working day even on a weekend.
    Workday,
}

/// A working-day calendar: Monday to Friday, less holidays, plus make-up workdays.
///
/// # Example
///
/// ```
/// use double_random::inputs::Calendar;
/// use chrono::NaiveDate;
/// let cal = Calendar::from_csv("calendar.csv", b"date,kind,name\n2027-04-05,holiday,Qingming\n2027-04-25,workday,make-up\n")?;
/// let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
/// assert!(!cal.is_working_day(d("2027-04-05"))); // a Monday, but a holiday
/// assert!(cal.is_working_day(d("2027-04-25"))); // a Sunday, but a make-up workday
/// assert_eq!(cal.working_days(d("2027-04-03"), d("2027-04-07")).len(), 2);
/// # Ok::<(), double_random::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Calendar {
    days: BTreeMap<NaiveDate, DayKind>,
}

impl Calendar {
    /// Reads a calendar: columns `date` (YYYY-MM-DD) and `kind` (`holiday` or `workday`); other columns are ignored.
    ///
    /// # Errors
    ///
    /// Syntax errors, a missing column, a bad date or kind, or a date listed twice.
    pub fn from_csv(file: &str, bytes: &[u8]) -> Result<Calendar> {
        let mut csv = CsvFile::open(file, bytes)?;
        let c_date = csv.require("date")?;
        let c_kind = csv.require("kind")?;
        let mut seen = BTreeMap::new();
        let mut days = BTreeMap::new();
        while let Some(row) = csv.next_row()? {
            let date = row.date(c_date)?;
            check_unique(&mut seen, &date.to_string(), row.at(c_date))?;
            let kind = row.parse(c_kind, "a day kind (\"holiday\" or \"workday\")", |v| match v {
                "holiday" => Some(DayKind::Holiday),
                "workday" => Some(DayKind::Workday),
                _ => None,
            })?;
            days.insert(date, kind);
        }
        Ok(Calendar { days })
    }

    /// Whether a date is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.days.get(&date) {
            Some(DayKind::Holiday) => false,
            Some(DayKind::Workday) => true,
            None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The working days from `start` to `end`, both included, in order.
    pub fn working_days(&self, start: NaiveDate, end: NaiveDate) -> Vec<NaiveDate> {
        start
            .iter_days()
            .take_while(|d| *d <= end)
            .filter(|d| self.is_working_day(*d))
            .collect()
    }

    /// The `n`-th working day after `date` (`n` ≥ 1), for publication deadlines.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidField`](crate::ErrorKind::InvalidField) when no
    /// such day exists before the end of the calendar's range (year 9999).
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> Result<NaiveDate> {
        let mut d = date;
        let mut left = n;
        while left > 0 {
            d = d.checked_add_days(Days::new(1)).ok_or_else(|| {
                Error::invalid(
                    crate::Location::file("calendar"),
                    "a date with working days after it",
                    date.to_string(),
                )
            })?;
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        Ok(d)
    }
}
