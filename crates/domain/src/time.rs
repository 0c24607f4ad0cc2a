//! Time as a value: whole seconds since the Unix epoch, UTC. Amazon's timestamps have
//! second precision (`20190714T155300Z`).

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix_seconds(seconds: i64) -> Timestamp {
        Timestamp(seconds)
    }

    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    /// This instant plus some seconds; saturates rather than overflowing.
    pub fn plus_seconds(self, seconds: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(seconds))
    }

    pub fn seconds_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// The same wall-clock time `months` calendar months later, the day clamped to the
    /// month's length (31 January + 1 month = 28 or 29 February).
    pub fn plus_months(self, months: u8) -> Timestamp {
        let dt = self.to_datetime();
        let total = i32::from(dt.month() as u8) - 1 + i32::from(months);
        let year = dt.year() + total.div_euclid(12);
        let month = Month::try_from((total.rem_euclid(12) + 1) as u8).expect("1..=12");
        let day = dt.day().min(time::util::days_in_month(month, year));
        let date = Date::from_calendar_date(year, month, day).expect("clamped day is valid");
        Timestamp(PrimitiveDateTime::new(date, dt.time()).assume_utc().unix_timestamp())
    }

    /// Midnight UTC of the first day of this instant's calendar month: monthly limits
    /// reset then (spec §5.1).
    pub fn month_start(self) -> Timestamp {
        let dt = self.to_datetime();
        let date = Date::from_calendar_date(dt.year(), dt.month(), 1).expect("day 1 exists");
        Timestamp(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc().unix_timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        Timestamp(PrimitiveDateTime::parse(s, format).unwrap().assume_utc().unix_timestamp())
    }

    #[test]
    fn calendar_arithmetic_clamps_days_and_crosses_years() {
        let cases = [
            ("2024-01-31 10:00:00", 1, "2024-02-29 10:00:00"),
            ("2023-01-31 10:00:00", 1, "2023-02-28 10:00:00"),
            ("2024-03-15 00:00:01", 13, "2025-04-15 00:00:01"),
            ("2024-12-01 23:59:59", 1, "2025-01-01 23:59:59"),
        ];
        for (start, months, expected) in cases {
            assert_eq!(ts(start).plus_months(months), ts(expected), "{start} + {months}");
        }
    }

    #[test]
    fn month_start_is_midnight_of_the_first() {
        assert_eq!(ts("2024-02-29 13:14:15").month_start(), ts("2024-02-01 00:00:00"));
        assert_eq!(ts("2024-03-01 00:00:00").month_start(), ts("2024-03-01 00:00:00"));
    }
}
