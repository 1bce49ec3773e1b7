//! Calendar windows: an SLO judged over the current week, month or quarter in a
//! time zone, from the period's first local midnight to the instant evaluated.

use std::fmt;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::PromDuration;

/// The length of a calendar period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    /// Monday to Sunday (ISO 8601).
    Week,
    Month,
    Quarter,
}

impl Period {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "week" => Some(Self::Week),
            "month" => Some(Self::Month),
            "quarter" => Some(Self::Quarter),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Week => "week",
            Self::Month => "month",
            Self::Quarter => "quarter",
        }
    }

    /// The rolling window of about the same length, used where a window must not
    /// depend on the date: burn-rate factors, generated rules and dashboards.
    pub fn nominal(self) -> PromDuration {
        let days = match self {
            Self::Week => 7,
            Self::Month => 30,
            Self::Quarter => 90,
        };
        PromDuration::from_secs(days * 86400)
    }

    /// The first day of the period holding `day`, and of the next one.
    fn days(self, day: NaiveDate) -> (NaiveDate, NaiveDate) {
        let first = match self {
            Self::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
            Self::Month => day.with_day(1).expect("day 1 exists"),
            Self::Quarter => {
                let month = (day.month0() / 3) * 3 + 1;
                NaiveDate::from_ymd_opt(day.year(), month, 1).expect("valid quarter start")
            }
        };
        let next = match self {
            Self::Week => first + Days::new(7),
            Self::Month => first + Months::new(1),
            Self::Quarter => first + Months::new(3),
        };
        (first, next)
    }
}

/// A calendar window: the period, in a time zone (UTC by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Calendar {
    pub period: Period,
    pub tz: Tz,
}

/// The period holding an instant, and how far into it the instant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub at: DateTime<Utc>,
}

impl Bounds {
    /// From the period's start to the instant (at least one millisecond, so the
    /// window is a valid range: at the boundary itself nothing is counted yet).
    pub fn elapsed(&self) -> PromDuration {
        let ms = (self.at - self.start).num_milliseconds().max(1);
        PromDuration::from_millis(ms as u64)
    }

    /// The share of the period gone by, 0 to 1.
    pub fn elapsed_ratio(&self) -> f64 {
        let total = (self.end - self.start).num_milliseconds() as f64;
        let gone = (self.at - self.start).num_milliseconds() as f64;
        (gone / total).clamp(0.0, 1.0)
    }

    /// The period's length in real time (a March in Berlin is 743 hours).
    pub fn length(&self) -> chrono::TimeDelta {
        self.end - self.start
    }
}

impl Calendar {
    /// The period holding `at`: starts at its first local midnight, ends at the
    /// next period's.
    pub fn bounds(&self, at: DateTime<Utc>) -> Bounds {
        let day = at.with_timezone(&self.tz).date_naive();
        let (first, next) = self.period.days(day);
        Bounds {
            start: self.midnight(first),
            end: self.midnight(next),
            at,
        }
    }

    /// The instant a local day begins: its midnight, the earlier one when the
    /// clock is set back over midnight, or the first valid instant after it when
    /// midnight does not exist (zones that change at 00:00, such as
    /// America/Santiago).
    fn midnight(&self, day: NaiveDate) -> DateTime<Utc> {
        let midnight = day.and_hms_opt(0, 0, 0).expect("midnight is a valid time");
        local_instant(self.tz, midnight)
    }

    /// How the window is shown: `month`, or `month (Europe/Berlin)`.
    pub fn name(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tz == Tz::UTC {
            f.write_str(self.period.as_str())
        } else {
            write!(f, "{} ({})", self.period.as_str(), self.tz.name())
        }
    }
}

/// The instant a local time names in `tz`: the earlier one when the clock
/// passes it twice, or, when it does not exist (in a change to summer time),
/// the first local minute after it that does, which is the end of the gap and
/// the instant of the change (gaps are whole minutes and last at most a day).
pub fn local_instant(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    (0..=24 * 60)
        .find_map(|m| {
            tz.from_local_datetime(&(local + chrono::TimeDelta::minutes(m)))
                .earliest()
        })
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

/// The time zone named `text` (an IANA name such as `Europe/Berlin`, or `UTC`).
pub fn parse_tz(text: &str) -> Option<Tz> {
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("RFC 3339")
            .with_timezone(&Utc)
    }

    fn bounds(period: Period, tz: &str, at: &str) -> (String, String) {
        let b = Calendar {
            period,
            tz: parse_tz(tz).expect("zone"),
        }
        .bounds(utc(at));
        (b.start.to_rfc3339(), b.end.to_rfc3339())
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (utc(a).to_rfc3339(), utc(b).to_rfc3339())
    }

    #[test]
    fn a_month_in_berlin_starts_at_local_midnight_and_march_is_743_hours() {
        let at = "2026-03-31T12:00:00Z";
        assert_eq!(
            bounds(Period::Month, "Europe/Berlin", at),
            pair("2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z")
        );
        let c = Calendar {
            period: Period::Month,
            tz: parse_tz("Europe/Berlin").unwrap(),
        };
        let b = c.bounds(utc(at));
        assert_eq!(b.length(), chrono::TimeDelta::hours(743));
        assert_eq!(b.elapsed().as_millis(), (30 * 24 + 13) * 3_600_000);
        // October gives the hour back.
        let oct = c.bounds(utc("2026-10-15T00:00:00Z"));
        assert_eq!(oct.length(), chrono::TimeDelta::hours(745));
        // 22:30 UTC on 31 March is already April in Berlin.
        assert_eq!(
            bounds(Period::Month, "Europe/Berlin", "2026-03-31T22:30:00Z"),
            pair("2026-03-31T22:00:00Z", "2026-04-30T22:00:00Z")
        );
    }

    #[test]
    fn southern_hemisphere_changes_the_other_way() {
        // Sydney leaves summer time on 5 April 2026 (+11 to +10).
        assert_eq!(
            bounds(Period::Month, "Australia/Sydney", "2026-04-10T00:00:00Z"),
            pair("2026-03-31T13:00:00Z", "2026-04-30T14:00:00Z")
        );
        let c = Calendar {
            period: Period::Month,
            tz: parse_tz("Australia/Sydney").unwrap(),
        };
        assert_eq!(
            c.bounds(utc("2026-04-10T00:00:00Z")).length(),
            chrono::TimeDelta::hours(30 * 24 + 1)
        );
    }

    #[test]
    fn a_midnight_that_does_not_exist_starts_the_period_at_the_change() {
        // America/Santiago moves its clocks from 00:00 to 01:00 on Sunday
        // 6 September 2026 (-04 to -03).
        let c = Calendar {
            period: Period::Week,
            tz: parse_tz("America/Santiago").unwrap(),
        };
        // The midnight of Sunday 6 September 2026 does not exist there.
        let day = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        let start = c.midnight(day);
        assert_eq!(start, utc("2026-09-06T04:00:00Z"));
        assert_eq!(
            start.with_timezone(&c.tz).to_rfc3339(),
            "2026-09-06T01:00:00-03:00"
        );
    }

    #[test]
    fn quarters_and_iso_weeks_across_a_year_boundary() {
        assert_eq!(
            bounds(Period::Quarter, "UTC", "2026-05-17T08:00:00Z"),
            pair("2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z")
        );
        assert_eq!(
            bounds(Period::Quarter, "UTC", "2026-12-31T23:59:59Z"),
            pair("2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z")
        );
        // Thursday 1 January 2026 is in the week starting Monday 29 December 2025.
        assert_eq!(
            bounds(Period::Week, "UTC", "2026-01-01T10:00:00Z"),
            pair("2025-12-29T00:00:00Z", "2026-01-05T00:00:00Z")
        );
        // A Monday's own midnight starts its week.
        assert_eq!(
            bounds(Period::Week, "UTC", "2026-01-05T00:00:00Z"),
            pair("2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z")
        );
    }

    #[test]
    fn at_the_boundary_nothing_has_elapsed_and_the_first_minute_is_a_minute() {
        let c = Calendar {
            period: Period::Month,
            tz: Tz::UTC,
        };
        let b = c.bounds(utc("2026-04-01T00:00:00Z"));
        assert_eq!(b.start, utc("2026-04-01T00:00:00Z"));
        assert_eq!(b.elapsed().as_millis(), 1);
        assert_eq!(b.elapsed_ratio(), 0.0);
        let b = c.bounds(utc("2026-04-01T00:01:00Z"));
        assert_eq!(b.elapsed().as_millis(), 60_000);
        assert_eq!(b.elapsed_ratio(), 60.0 / (30.0 * 86400.0));
        assert_eq!(c.to_string(), "month");
        let berlin = Calendar {
            tz: parse_tz("Europe/Berlin").unwrap(),
            ..c
        };
        assert_eq!(berlin.to_string(), "month (Europe/Berlin)");
        assert_eq!(parse_tz("Mars/Olympus"), None);
    }
}
