//! Exclusions: spans of time (maintenance, an incident caused elsewhere) whose
//! events count in no window. Each query window subtracts, per group, what its
//! reads counted inside each exclusion it overlaps (`increase(x[d] @ b)`).

use chrono::{DateTime, Datelike, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

use super::calendar::local_instant;
use super::PromDuration;

/// One excluded span, `[start, end]`, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reason: String,
}

/// How often a recurring exclusion comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Day,
    Week(Weekday),
}

/// A maintenance window that comes back every day or week at a local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurring {
    pub every: Every,
    /// Local time it starts at.
    pub at: NaiveTime,
    pub length: PromDuration,
    pub tz: Tz,
    pub reason: String,
}

impl Recurring {
    /// Its occurrences overlapping `[from, to]`. A start that falls in a
    /// change to summer time moves to the end of the gap (the first local
    /// minute that exists); one the clock passes twice starts at the first.
    pub fn occurrences(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Exclusion> {
        let length = chrono::TimeDelta::milliseconds(self.length.as_millis() as i64);
        // The day before `from` too: an occurrence started then may reach in.
        let span = chrono::TimeDelta::days(8).max(length + chrono::TimeDelta::days(1));
        let first = (from - span).with_timezone(&self.tz).date_naive();
        let last = to.with_timezone(&self.tz).date_naive();
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .filter(|d| match self.every {
                Every::Day => true,
                Every::Week(w) => d.weekday() == w,
            })
            .filter_map(|d| {
                let local = d.and_time(self.at);
                let start = local_instant(self.tz, local);
                let end = start + length;
                (end > from && start < to).then(|| Exclusion {
                    start,
                    end,
                    reason: self.reason.clone(),
                })
            })
            .collect()
    }
}

/// An SLO's exclusions: one-off spans and recurring ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions {
    /// Sorted by start, not overlapping.
    pub once: Vec<Exclusion>,
    pub recurring: Vec<Recurring>,
}

impl Exclusions {
    pub fn is_empty(&self) -> bool {
        self.once.is_empty() && self.recurring.is_empty()
    }

    /// How many seconds of `[from, to]` lie inside exclusions (overlapping
    /// spans counted once).
    pub fn seconds_within(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
        self.within(from, to)
            .iter()
            .map(|e| {
                (e.end.min(to) - e.start.max(from))
                    .num_milliseconds()
                    .max(0) as f64
                    / 1000.0
            })
            .sum()
    }

    /// Every excluded span overlapping `[from, to]`, sorted by start; spans
    /// that overlap or touch (a recurring one over a one-off) are merged, with
    /// both reasons.
    pub fn within(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Exclusion> {
        let mut all: Vec<Exclusion> = self
            .once
            .iter()
            .filter(|e| e.end > from && e.start < to)
            .cloned()
            .collect();
        for r in &self.recurring {
            all.extend(r.occurrences(from, to));
        }
        all.sort_by_key(|e| e.start);
        let mut merged: Vec<Exclusion> = Vec::with_capacity(all.len());
        for e in all {
            match merged.last_mut() {
                Some(last) if e.start <= last.end => {
                    last.end = last.end.max(e.end);
                    if !last.reason.split("; ").any(|r| r == e.reason) {
                        last.reason = format!("{}; {}", last.reason, e.reason);
                    }
                }
                _ => merged.push(e),
            }
        }
        merged
    }
}

/// What one query window leaves out: `length` before the instant `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    pub length: PromDuration,
    pub end: DateTime<Utc>,
}

impl Cut {
    /// Where the span begins.
    pub fn start(&self) -> DateTime<Utc> {
        self.end - chrono::TimeDelta::milliseconds(self.length.as_millis() as i64)
    }

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

/// A window with exclusions in it: the spans between them, which are read and
/// summed, and the spans inside them, read only to report what was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub kept: Vec<Cut>,
    pub cut: Vec<Cut>,
}

/// How the window `[at - window, at]` splits around `exclusions` (sorted by
/// start, not overlapping); `None` when it overlaps none. Each kept span is
/// read on its own so that Prometheus extrapolates it at its own pace: read
/// whole and less the excluded part, the window's extrapolation to its edges
/// would carry the excluded pace into what is kept.
pub fn split(exclusions: &[Exclusion], window: PromDuration, at: DateTime<Utc>) -> Option<Split> {
    let cut = cuts(exclusions, window, at);
    if cut.is_empty() {
        return None;
    }
    let mut kept = Vec::new();
    let mut keep = |from: DateTime<Utc>, to: DateTime<Utc>| {
        let length = (to - from).num_milliseconds();
        if length > 0 {
            kept.push(Cut {
                length: PromDuration::from_millis(length as u64),
                end: to,
            });
        }
    };
    let mut from = at - chrono::TimeDelta::milliseconds(window.as_millis() as i64);
    for c in &cut {
        keep(from, c.start());
        from = c.end;
    }
    keep(from, at);
    Some(Split { kept, cut })
}

/// An RFC 3339 instant, for tests.
#[cfg(test)]
pub(crate) fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("an RFC 3339 time")
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn recurring_windows_follow_local_time_and_merge_with_one_offs() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let weekly = Recurring {
            every: Every::Week(Weekday::Sun),
            at: NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
            length: PromDuration::from_secs(3600),
            tz: berlin,
            reason: "weekly maintenance".into(),
        };
        let got = weekly.occurrences(utc("2026-03-20T00:00:00Z"), utc("2026-04-06T00:00:00Z"));
        let starts: Vec<String> = got.iter().map(|e| e.start.to_rfc3339()).collect();
        assert_eq!(
            starts,
            [
                // 02:30 CET; on 29 March 02:30 does not exist: 03:00 CEST.
                "2026-03-22T01:30:00+00:00",
                "2026-03-29T01:00:00+00:00",
                "2026-04-05T00:30:00+00:00",
            ]
        );
        assert!(got
            .iter()
            .all(|e| e.end - e.start == chrono::TimeDelta::hours(1)));
        let daily = Recurring {
            every: Every::Day,
            at: NaiveTime::from_hms_opt(23, 30, 0).unwrap(),
            length: PromDuration::from_secs(3600),
            tz: Tz::UTC,
            reason: "backups".into(),
        };
        // One started the day before reaches into the range.
        let got = daily.occurrences(utc("2026-03-21T00:10:00Z"), utc("2026-03-21T12:00:00Z"));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].start, utc("2026-03-20T23:30:00Z"));
        let all = Exclusions {
            once: vec![Exclusion {
                start: utc("2026-03-21T00:00:00Z"),
                end: utc("2026-03-21T02:00:00Z"),
                reason: "migration".into(),
            }],
            recurring: vec![daily],
        };
        let within = all.within(utc("2026-03-20T00:00:00Z"), utc("2026-03-22T00:00:00Z"));
        // The one of the 19th reaches past midnight into the range.
        assert_eq!(within.len(), 3, "{within:?}");
        assert_eq!(within[0].start, utc("2026-03-19T23:30:00Z"));
        assert_eq!(within[1].start, utc("2026-03-20T23:30:00Z"));
        assert_eq!(within[1].end, utc("2026-03-21T02:00:00Z"));
        assert_eq!(within[1].reason, "backups; migration");
        assert_eq!(within[2].start, utc("2026-03-21T23:30:00Z"));
    }

    #[test]
    fn a_window_splits_into_the_spans_around_its_exclusions() {
        let e = |s: &str, t: &str| Exclusion {
            start: utc(s),
            end: utc(t),
            reason: "x".into(),
        };
        let list = [
            e("2026-11-01T02:00:00Z", "2026-11-01T03:00:00Z"),
            e("2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z"),
        ];
        let span = |h: u64, end: &str| Cut {
            length: PromDuration::from_secs(h * 3600),
            end: utc(end),
        };
        let six = PromDuration::from_secs(6 * 3600);
        let s = split(&list, six, utc("2026-11-01T07:00:00Z")).expect("overlaps");
        assert_eq!(
            s.kept,
            [
                span(1, "2026-11-01T02:00:00Z"),
                span(2, "2026-11-01T05:00:00Z")
            ]
        );
        assert_eq!(
            s.cut,
            [
                span(1, "2026-11-01T03:00:00Z"),
                span(2, "2026-11-01T07:00:00Z")
            ]
        );
        // A window starting inside an exclusion keeps only what follows it.
        let three = PromDuration::from_secs(3 * 3600);
        let s = split(&list, three, utc("2026-11-01T08:00:00Z")).expect("overlaps");
        assert_eq!(s.kept, [span(1, "2026-11-01T08:00:00Z")]);
        let hour = PromDuration::from_secs(3600);
        assert_eq!(split(&list, hour, utc("2026-11-01T05:00:00Z")), None);
    }
}
