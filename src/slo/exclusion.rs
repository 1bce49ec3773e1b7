//! Exclusions: spans of time (maintenance, an incident caused elsewhere) whose
//! events count in no window. Each query window subtracts, per group, what its
//! reads counted inside each exclusion it overlaps (`increase(x[d] @ b)`).

use chrono::{DateTime, Utc};

use super::PromDuration;

/// One excluded span, `[start, end]`, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reason: String,
}

/// What one query window leaves out: `length` before the instant `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    pub length: PromDuration,
    pub end: DateTime<Utc>,
}

impl Cut {
    /// The `@` modifier's instant: Unix seconds, with milliseconds when any.
    pub fn at(&self) -> String {
        let ms = self.end.timestamp_millis();
        let (secs, frac) = (ms.div_euclid(1000), ms.rem_euclid(1000));
        if frac == 0 {
            secs.to_string()
        } else {
            format!("{secs}.{frac:03}")
        }
    }
}

impl Exclusion {
    /// Whether it overlaps the window of `window` ending at `at`, `[at - window, at]`.
    pub fn touches(&self, window: PromDuration, at: DateTime<Utc>) -> bool {
        self.cut(window, at).is_some()
    }

    /// The part of the window `[at - window, at]` inside this exclusion, if any
    /// (an overlap of a single instant counts nothing and is left out).
    pub fn cut(&self, window: PromDuration, at: DateTime<Utc>) -> Option<Cut> {
        let from = at - chrono::TimeDelta::milliseconds(window.as_millis() as i64);
        let a = self.start.max(from);
        let b = self.end.min(at);
        let length = (b - a).num_milliseconds();
        (length > 0).then(|| Cut {
            length: PromDuration::from_millis(length as u64),
            end: b,
        })
    }
}

/// The cuts of `window` ending at `at`, one per exclusion it overlaps.
pub fn cuts(exclusions: &[Exclusion], window: PromDuration, at: DateTime<Utc>) -> Vec<Cut> {
    exclusions
        .iter()
        .filter_map(|e| e.cut(window, at))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("RFC 3339")
            .with_timezone(&Utc)
    }

    #[test]
    fn a_window_is_cut_where_it_overlaps_an_exclusion() {
        let e = Exclusion {
            start: utc("2026-11-01T10:00:00Z"),
            end: utc("2026-11-01T20:00:00Z"),
            reason: "maintenance".into(),
        };
        let day = PromDuration::from_secs(86400);
        let hour = PromDuration::from_secs(3600);
        // Wholly inside a day's window.
        let c = e.cut(day, utc("2026-11-02T00:00:00Z")).expect("overlaps");
        assert_eq!(c.length, PromDuration::from_secs(10 * 3600));
        assert_eq!(c.at(), utc("2026-11-01T20:00:00Z").timestamp().to_string());
        // The window's start inside the exclusion: clipped there.
        let c = e.cut(day, utc("2026-11-02T15:00:00Z")).expect("overlaps");
        assert_eq!(c.length, PromDuration::from_secs(5 * 3600));
        // The instant inside it: clipped at the instant.
        let c = e
            .cut(hour, utc("2026-11-01T12:00:30.250Z"))
            .expect("overlaps");
        assert_eq!(c.length, hour);
        assert_eq!(
            c.at(),
            format!("{}.250", utc("2026-11-01T12:00:30Z").timestamp())
        );
        // Before, after, and touching at one instant only.
        assert_eq!(e.cut(hour, utc("2026-11-01T09:00:00Z")), None);
        assert_eq!(e.cut(hour, utc("2026-11-01T10:00:00Z")), None);
        assert_eq!(e.cut(hour, utc("2026-11-01T21:00:00Z")), None);
        assert!(e.touches(hour, utc("2026-11-01T20:59:59Z")));
    }
}
