//! Time as a value: whole seconds since the Unix epoch, UTC. Amazon's timestamps have
//! second precision (`20190714T155300Z`).
//!
//! Calendar arithmetic is checked: an instant that Amazon's format cannot write (a year
//! past 9999) is `None`, never a panic and never a wrapped-around date.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::error::{ReasonCode, Refusal};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// 9999-12-31T23:59:59Z: the last instant Amazon's `YYYYMMDDTHHMMSSZ` (a four-digit
    /// year) can write. Checked arithmetic answers `None` past it.
    pub const LATEST: Timestamp = Timestamp(253_402_300_799);

    pub const fn from_unix_seconds(seconds: i64) -> Timestamp {
        Timestamp(seconds)
    }

    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    /// This instant plus some seconds; saturates rather than overflowing. For offsets and
    /// tests: a rule computing an instant it stores uses [`Timestamp::checked_plus_seconds`].
    pub fn plus_seconds(self, seconds: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(seconds))
    }

    /// This instant plus some seconds, or `None` past [`Timestamp::LATEST`].
    pub fn checked_plus_seconds(self, seconds: i64) -> Option<Timestamp> {
        self.0.checked_add(seconds).map(Timestamp).filter(|t| *t <= Timestamp::LATEST)
    }

    pub fn seconds_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    fn to_datetime(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(self.0).ok()
    }

    /// The same wall-clock time `months` calendar months later, the day clamped to the
    /// month's length (31 January + 1 month = 28 or 29 February); `None` past
    /// [`Timestamp::LATEST`].
    pub fn plus_months(self, months: u8) -> Option<Timestamp> {
        let dt = self.to_datetime()?;
        let total = i32::from(u8::from(dt.month())) - 1 + i32::from(months);
        let year = dt.year().checked_add(total.div_euclid(12))?;
        let month = Month::try_from(u8::try_from(total.rem_euclid(12) + 1).ok()?).ok()?;
        let day = dt.day().min(time::util::days_in_month(month, year));
        let date = Date::from_calendar_date(year, month, day).ok()?;
        let later = Timestamp(PrimitiveDateTime::new(date, dt.time()).assume_utc().unix_timestamp());
        (later <= Timestamp::LATEST).then_some(later)
    }

    /// Midnight UTC of the first day of this instant's calendar month: monthly limits
    /// reset then (spec §5.1). `None` for an instant outside the calendar Amazon writes.
    pub fn month_start(self) -> Option<Timestamp> {
        let dt = self.to_datetime()?;
        let date = Date::from_calendar_date(dt.year(), dt.month(), 1).ok()?;
        Some(Timestamp(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc().unix_timestamp()))
    }
}

/// The refusal of a rule whose new instant (`what`) would fall past [`Timestamp::LATEST`].
/// Unreachable through the API (the sandbox clock is bounded well before it) but answered
/// cleanly if ever reached.
pub fn beyond_calendar(what: &str) -> Refusal {
    Refusal::new(
        ReasonCode::InvalidParameterValue,
        format!("{what} would fall after 99991231T235959Z, the last instant Amazon's timestamps can write"),
    )
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
            ("9998-11-30 23:59:59", 13, "9999-12-30 23:59:59"),
        ];
        for (start, months, expected) in cases {
            assert_eq!(ts(start).plus_months(months), Some(ts(expected)), "{start} + {months}");
        }
    }

    #[test]
    fn month_start_is_midnight_of_the_first() {
        assert_eq!(ts("2024-02-29 13:14:15").month_start(), Some(ts("2024-02-01 00:00:00")));
        assert_eq!(ts("2024-03-01 00:00:00").month_start(), Some(ts("2024-03-01 00:00:00")));
        assert_eq!(Timestamp::LATEST.month_start(), Some(ts("9999-12-01 00:00:00")));
    }

    /// Past year 9999 there is no answer: no panic (the old `plus_months` panicked there) and
    /// no wrap to 1970.
    #[test]
    fn past_the_last_writable_instant_arithmetic_answers_none() {
        assert_eq!(Timestamp::LATEST, ts("9999-12-31 23:59:59"));
        assert_eq!(ts("9999-01-31 00:00:00").plus_months(13), None);
        assert_eq!(ts("9999-12-01 00:00:00").plus_months(1), None);
        assert_eq!(Timestamp::LATEST.plus_months(255), None);
        assert_eq!(Timestamp(i64::MAX).plus_months(1), None);
        assert_eq!(Timestamp(i64::MAX).month_start(), None);
        assert_eq!(Timestamp::LATEST.plus_seconds(1).month_start(), None);
        assert_eq!(Timestamp::LATEST.checked_plus_seconds(0), Some(Timestamp::LATEST));
        assert_eq!(Timestamp::LATEST.checked_plus_seconds(1), None);
        assert_eq!(Timestamp(i64::MAX).checked_plus_seconds(1), None);
    }
}
