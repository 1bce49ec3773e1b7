//! Baselines: what each SLO and group measured at one instant (`baseline
//! save`), and how a later evaluation compares with it (`check --baseline`).
//! Pure: results in, figures and comparisons out.
//!
//! A figure is named `<what>_<window>`: `error_ratio_1h`, `event_rate_5m`
//! (events per second), `p95_30d`; plus `sli` (over the SLO window) and
//! `value` (a probe's). A regression is an error ratio more than
//! `tolerance.error_ratio` times the baseline's that also burns the error
//! budget and has at least 5 more bad events than the baseline's ratio
//! predicts (so one error on a quiet service is not one), or a p95/p99 more
//! than `tolerance.latency` above the baseline's.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{SloResult, State};
use crate::slo::number::{short, shown_percent};
use crate::slo::{PromDuration, Tolerance};

/// The file format's version, checked when a baseline is read.
pub const VERSION: u32 = 1;

/// Windows a baseline records besides the SLO's own.
const WINDOWS: [PromDuration; 2] = [PromDuration::from_secs(300), PromDuration::from_secs(3600)];

/// Bad events a window must have beyond what the baseline's error ratio
/// predicts before its rise counts as a regression: below this, a rise is
/// noise of a handful of requests.
const MIN_EXCESS_BAD: f64 = 5.0;

/// A saved baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// The instant the figures were measured as of.
    pub at: DateTime<Utc>,
    pub results: Vec<Entry>,
}

/// The file: the instant in RFC 3339.
#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    at: String,
    results: Vec<Entry>,
}

/// One SLO and group's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub slo: String,
    pub labels: BTreeMap<String, String>,
    pub figures: BTreeMap<String, f64>,
}

/// A result against its baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub at: DateTime<Utc>,
    pub then: BTreeMap<String, f64>,
    pub now: BTreeMap<String, f64>,
    /// `now / then - 1` for each figure in both, where `then` is not 0.
    pub change: BTreeMap<String, f64>,
    /// Each regression, as a reason (`p95 (1h) 250ms vs baseline 150ms (+67%)`).
    pub regressions: Vec<String>,
}

impl Baseline {
    /// The figures of every judged result, as of `at`.
    pub fn of(results: &[SloResult], at: DateTime<Utc>) -> Self {
        Self {
            at,
            results: results
                .iter()
                .map(|r| Entry {
                    slo: r.slo.clone(),
                    labels: r.labels(),
                    figures: figures(r),
                })
                .filter(|e| !e.figures.is_empty())
                .collect(),
        }
    }

    /// Reads a saved baseline, naming what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let f: File =
            serde_json::from_str(text).map_err(|e| format!("not a slogate baseline: {e}"))?;
        if f.version != VERSION {
            return Err(format!(
                "baseline version {} is not {VERSION}; save it again with this slogate",
                f.version
            ));
        }
        let at = DateTime::parse_from_rfc3339(&f.at)
            .map_err(|e| format!("baseline `at` {:?} is not RFC 3339: {e}", f.at))?
            .with_timezone(&Utc);
        Ok(Self {
            at,
            results: f.results,
        })
    }

    /// The file's text: pretty JSON, entries in evaluation order.
    pub fn to_json(&self) -> String {
        let file = File {
            version: VERSION,
            at: self.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            results: self.results.clone(),
        };
        let mut text =
            serde_json::to_string_pretty(&file).expect("strings and finite numbers serialise");
        text.push('\n');
        text
    }

    /// The entry of the result's SLO and group, if the baseline has one.
    pub fn entry(&self, r: &SloResult) -> Option<&Entry> {
        let labels = r.labels();
        self.results
            .iter()
            .find(|e| e.slo == r.slo && e.labels == labels)
    }
}

/// What a result measured, by figure name; only finite numbers.
pub fn figures(r: &SloResult) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let mut put = |name: String, v: Option<f64>| {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            out.insert(name, v);
        }
    };
    let window = r.window_name.as_str();
    put("sli".into(), r.sli);
    put("value".into(), r.value);
    put(format!("error_ratio_{window}"), r.sli.map(|s| 1.0 - s));
    put(
        format!("event_rate_{window}"),
        r.events.map(|e| e / r.window.as_secs_f64()),
    );
    let budget = r.objective.map(|o| 1.0 - o);
    for w in WINDOWS {
        let burn = r
            .burn_rates
            .iter()
            .find(|(bw, _)| *bw == w)
            .and_then(|(_, b)| *b);
        put(
            format!("error_ratio_{w}"),
            burn.zip(budget).map(|(b, e)| b * e),
        );
        let events = r
            .window_events
            .iter()
            .find(|(ew, _)| *ew == w)
            .and_then(|(_, e)| *e);
        put(
            format!("event_rate_{w}"),
            events.map(|e| e / w.as_secs_f64()),
        );
    }
    for (w, quantiles) in r.latency_seconds.iter().flatten() {
        let name = if *w == r.window {
            window.to_string()
        } else {
            w.to_string()
        };
        for (q, v) in quantiles {
            let q = q.trim_start_matches("0.");
            put(format!("p{q}_{name}"), *v);
        }
    }
    out
}

/// `error_ratio_1h` as `error ratio (1h)`, `p95_5m` as `p95 (5m)`.
fn label(name: &str) -> String {
    match name.rsplit_once('_') {
        Some((what, window)) => format!("{} ({window})", what.replace('_', " ")),
        None => name.to_string(),
    }
}

fn millis(seconds: f64) -> String {
    format!("{}ms", short(seconds * 1000.0))
}

/// A result against its baseline entry.
pub fn compare(
    entry: &Entry,
    at: DateTime<Utc>,
    r: &SloResult,
    tolerance: Tolerance,
) -> Comparison {
    let now = figures(r);
    let budget = r.objective.map(|o| 1.0 - o);
    let mut change = BTreeMap::new();
    let mut regressions = Vec::new();
    for (name, then) in &entry.figures {
        let Some(current) = now.get(name).copied() else {
            continue;
        };
        if *then != 0.0 {
            change.insert(name.clone(), current / then - 1.0);
        }
        if let Some(window) = name.strip_prefix("error_ratio_") {
            let burning = budget.is_some_and(|b| current > b);
            // Bad events beyond what the baseline's ratio predicts for now's
            // traffic: one error in a quiet five minutes is no regression.
            let total = now
                .get(&format!("event_rate_{window}"))
                .zip(window.parse::<PromDuration>().ok())
                .map_or(0.0, |(rate, w)| rate * w.as_secs_f64());
            let excess = (current - then) * total;
            if burning && excess >= MIN_EXCESS_BAD && current > tolerance.error_ratio * then {
                let times = if *then > 0.0 {
                    format!("×{}", short(current / then))
                } else {
                    "none then".into()
                };
                regressions.push(format!(
                    "{} {} vs baseline {} ({times})",
                    label(name),
                    shown_percent(current),
                    shown_percent(*then)
                ));
            }
        } else if name.starts_with('p') && *then > 0.0 && current > (1.0 + tolerance.latency) * then
        {
            regressions.push(format!(
                "{} {} vs baseline {} (+{}%)",
                label(name),
                millis(current),
                millis(*then),
                ((current / then - 1.0) * 100.0).round()
            ));
        }
    }
    Comparison {
        at,
        then: entry.figures.clone(),
        now,
        change,
        regressions,
    }
}

/// Compares every result that has a baseline entry, and turns a regressed
/// `pass` into `warn` (its reason says why); other states keep theirs, with
/// the regressions added to the reason. `tolerance` gives each SLO's limits.
pub fn apply(
    baseline: &Baseline,
    results: &mut [SloResult],
    tolerance: impl Fn(&str) -> Tolerance,
) {
    for r in results.iter_mut() {
        let Some(entry) = baseline.entry(r) else {
            continue;
        };
        let c = compare(entry, baseline.at, r, tolerance(&r.slo));
        if !c.regressions.is_empty() {
            let what = format!(
                "regressed from the baseline of {}: {}",
                baseline.at.format("%Y-%m-%dT%H:%MZ"),
                c.regressions.join("; ")
            );
            if r.state == State::Pass {
                r.state = State::Warn;
                r.reason = what;
            } else {
                r.reason = format!("{}; {what}", r.reason);
            }
        }
        r.baseline = Some(std::sync::Arc::new(c));
    }
}
