//! Prometheus durations (`5m`, `30d`, `1w`, `1h30m`): parsed and formatted exactly,
//! so a window written in a config comes back out in PromQL the way Prometheus reads it.

use std::fmt;
use std::str::FromStr;

/// A non-negative duration with millisecond precision, in Prometheus' grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PromDuration(u64);

/// Units from largest to smallest, as Prometheus formats them.
const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Prometheus duration (want e.g. 5m, 1h30m, 30d, 1w)")]
pub struct DurationError;

impl PromDuration {
    /// A duration of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// A duration of `s` seconds.
    pub const fn from_secs(s: u64) -> Self {
        Self(s * 1000)
    }

    /// Milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Seconds, as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// The equivalent `std::time::Duration`.
    pub const fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_millis(self.0)
    }
}

impl FromStr for PromDuration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(DurationError);
        }
        let mut rest = s;
        let mut total: u64 = 0;
        // Units must appear in decreasing order and at most once, as in Prometheus.
        let mut next_unit = 0;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(DurationError);
            }
            let number: u64 = rest[..digits].parse().map_err(|_| DurationError)?;
            rest = &rest[digits..];
            let (index, (unit, factor)) = UNITS
                .iter()
                .enumerate()
                .skip(next_unit)
                // "ms" must win over "m" followed by digits of "s"
                .filter(|(_, (u, _))| rest.starts_with(u))
                .max_by_key(|(_, (u, _))| u.len())
                .ok_or(DurationError)?;
            rest = &rest[unit.len()..];
            next_unit = index + 1;
            total = number
                .checked_mul(*factor)
                .and_then(|v| total.checked_add(v))
                .ok_or(DurationError)?;
        }
        Ok(Self(total))
    }
}

impl fmt::Display for PromDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        for (unit, factor) in UNITS {
            // Days are the largest unit written out: SLO windows read as 28d and
            // 30d, never 4w or 4w2d (Prometheus parses both).
            if unit == "w" || unit == "y" {
                continue;
            }
            if rest >= factor {
                write!(f, "{}{}", rest / factor, unit)?;
                rest %= factor;
            }
        }
        Ok(())
    }
}

impl serde::Serialize for PromDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_formats_the_usual_windows() {
        for (text, ms, formatted) in [
            ("5m", 300_000, "5m"),
            ("30m", 1_800_000, "30m"),
            ("1h", 3_600_000, "1h"),
            ("1h30m", 5_400_000, "1h30m"),
            ("90m", 5_400_000, "1h30m"),
            ("30d", 2_592_000_000, "30d"),
            ("28d", 2_419_200_000, "28d"),
            ("1w", 604_800_000, "7d"),
            ("1y", 31_536_000_000, "365d"),
            ("250ms", 250, "250ms"),
            ("1s500ms", 1500, "1s500ms"),
        ] {
            let d: PromDuration = text.parse().expect(text);
            assert_eq!(d.as_millis(), ms, "{text}");
            assert_eq!(d.to_string(), formatted);
        }
    }

    #[test]
    fn windows_are_written_in_days_not_weeks() {
        assert_eq!(PromDuration::from_secs(30 * 86400).to_string(), "30d");
        assert_eq!(PromDuration::from_secs(14 * 86400).to_string(), "14d");
    }

    #[test]
    fn rejects_what_prometheus_rejects() {
        for bad in [
            "", "5", "m", "5x", "1.5h", "-5m", "5m1h", "5m5m", "30 d", "30days",
        ] {
            assert_eq!(bad.parse::<PromDuration>(), Err(DurationError), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(ms in 0u64..10_000_000_000_000) {
            let d = PromDuration::from_millis(ms);
            prop_assert_eq!(d.to_string().parse::<PromDuration>(), Ok(d));
        }
    }
}
