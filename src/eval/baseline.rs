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
//! than `tolerance.latency` above the baseline's over at least 100 events. A
//! 5m regression counts only when the 1h figure regressed too.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{SloResult, State};
use crate::slo::number::{short, shown_percent};
use crate::slo::{PromDuration, Tolerance};

/// The file format's version, checked when a baseline is read.
pub const VERSION: u32 = 1;

/// Windows a baseline records besides the SLO's own.
const WINDOWS: [PromDuration; 2] = [PromDuration::from_secs(300), PromDuration::from_secs(3600)];

/// Events a window must hold before its quantiles are compared: fewer make a
/// p95 the luck of a handful of requests.
const MIN_EVENTS_FOR_QUANTILES: f64 = 100.0;

/// The short window: its regressions count only when the same figure over the
/// long one regressed too, as burn alerts pair windows, so one bad minute does
/// not flip a result.
const SHORT: &str = "5m";
const LONG: &str = "1h";

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
                .filter(|r| measured(r))
                .map(|r| Entry {
                    slo: r.slo.clone(),
                    labels: r.group.clone(),
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

    /// The entries by SLO and group labels (static labels may change without
    /// losing the comparison).
    fn index(&self) -> HashMap<(&str, &BTreeMap<String, String>), &Entry> {
        self.results
            .iter()
            .map(|e| ((e.slo.as_str(), &e.labels), e))
            .collect()
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
    // A calendar period is named by its period alone (`error_ratio_month`):
    // no spaces or slashes of a time zone in figure names.
    let window = r
        .period
        .as_ref()
        .map_or(r.window_name.as_str(), |p| p.calendar.period.as_str());
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
    let quantile_windows = r.latency_seconds.as_deref().unwrap_or_default();
    for (i, (w, quantiles)) in quantile_windows.iter().enumerate() {
        // The judged window comes last (see `events::quantile_windows`).
        let name = if i + 1 == quantile_windows.len() {
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
    let events_in = |window: &str| match window.parse::<PromDuration>() {
        Ok(w) => now
            .get(&format!("event_rate_{window}"))
            .map_or(0.0, |rate| rate * w.as_secs_f64()),
        // A calendar period: the events so far.
        Err(_) => r.events.unwrap_or(0.0),
    };
    let regressed = |name: &str| -> Option<String> {
        let then = *entry.figures.get(name)?;
        let current = *now.get(name)?;
        let (what, window) = name.rsplit_once('_')?;
        if what == "error_ratio" {
            let burning = budget.is_some_and(|b| current > b);
            // Bad events beyond what the baseline's ratio predicts for now's
            // traffic: one error in a quiet five minutes is no regression.
            let excess = (current - then) * events_in(window);
            let worse = current > tolerance.error_ratio * then;
            (burning && excess >= MIN_EXCESS_BAD && worse).then(|| {
                let times = if then > 0.0 {
                    format!("×{}", short(current / then))
                } else {
                    "none then".into()
                };
                format!(
                    "{} {} vs baseline {} ({times})",
                    label(name),
                    shown_percent(current),
                    shown_percent(then)
                )
            })
        } else if is_quantile(what) {
            let enough = events_in(window) >= MIN_EVENTS_FOR_QUANTILES;
            (enough && then > 0.0 && current > (1.0 + tolerance.latency) * then).then(|| {
                format!(
                    "{} {} vs baseline {} (+{}%)",
                    label(name),
                    millis(current),
                    millis(then),
                    ((current / then - 1.0) * 100.0).round()
                )
            })
        } else {
            None
        }
    };
    let mut change = BTreeMap::new();
    let mut regressions = Vec::new();
    for (name, then) in &entry.figures {
        let Some(current) = now.get(name).copied() else {
            continue;
        };
        if *then != 0.0 {
            change.insert(name.clone(), current / then - 1.0);
        }
        let Some(words) = regressed(name) else {
            continue;
        };
        let paired = match name.strip_suffix(&format!("_{SHORT}")) {
            Some(what) => regressed(&format!("{what}_{LONG}")).is_some(),
            None => true,
        };
        if paired {
            regressions.push(words);
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

/// A result judged on data: not unknown, not insufficient data.
fn measured(r: &SloResult) -> bool {
    !matches!(r.state, State::Unknown | State::InsufficientData) && !figures(r).is_empty()
}

/// `p95`, `p99`.
fn is_quantile(what: &str) -> bool {
    what.strip_prefix('p')
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// Compares every result that has a baseline entry, and turns a regressed
/// `pass` into `warn` (its reason says why); other states keep theirs, with
/// the regressions added to the reason. `tolerance` gives each SLO's limits.
/// Returns how many measured results had no entry (a new SLO or group).
pub fn apply(
    baseline: &Baseline,
    results: &mut [SloResult],
    tolerance: impl Fn(&str) -> Tolerance,
) -> usize {
    let index = baseline.index();
    let mut unmatched = 0;
    for r in results.iter_mut() {
        // Nothing judged now (unknown, insufficient data): nothing to compare.
        if !measured(r) {
            continue;
        }
        let Some(entry) = index.get(&(r.slo.as_str(), &r.group)) else {
            unmatched += 1;
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
    unmatched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::SliKind;

    const FIVE: PromDuration = PromDuration::from_secs(300);
    const HOUR: PromDuration = PromDuration::from_secs(3600);

    /// A 99.9 % ratio result over 30d with 1000 requests a minute and the
    /// given error ratios over 5m and 1h.
    fn result(ratio_5m: f64, ratio_1h: f64) -> SloResult {
        let budget = 0.001;
        SloResult {
            slo: "availability".into(),
            kind: SliKind::Ratio,
            service: Some("checkout".into()),
            group: BTreeMap::from([("service".into(), "checkout".into())]),
            slo_labels: BTreeMap::new(),
            objective: Some(0.999),
            window: PromDuration::from_secs(30 * 86400),
            window_name: "30d".into(),
            sli: Some(0.9999),
            events: Some(1000.0 * 43200.0),
            error_budget_remaining: Some(0.9),
            burn_rates: vec![
                (FIVE, Some(ratio_5m / budget)),
                (HOUR, Some(ratio_1h / budget)),
            ],
            window_events: vec![(FIVE, Some(5000.0)), (HOUR, Some(60000.0))],
            latency_seconds: None,
            value: None,
            latency_threshold: None,
            burn_thresholds: Vec::new(),
            state: State::Pass,
            ready: true,
            key: true,
            weight: 1.0,
            runbook_url: None,
            reason: "fine".into(),
            queries: Vec::new().into(),
            vanished: false,
            baseline: None,
            period: None,
            exclusions: Vec::new(),
            excluded: None,
            datasource: None,
        }
    }

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-24T09:00:00Z")
            .expect("time")
            .with_timezone(&Utc)
    }

    fn regressions(then: SloResult, now: SloResult) -> Vec<String> {
        let base = Baseline::of(&[then], at());
        let mut results = [now];
        assert_eq!(apply(&base, &mut results, |_| Tolerance::default()), 0);
        results[0]
            .baseline
            .as_ref()
            .expect("compared")
            .regressions
            .clone()
    }

    #[test]
    fn figures_are_named_by_what_and_window() {
        let names: Vec<String> = figures(&result(0.0001, 0.0001)).into_keys().collect();
        assert_eq!(
            names,
            [
                "error_ratio_1h",
                "error_ratio_30d",
                "error_ratio_5m",
                "event_rate_1h",
                "event_rate_30d",
                "event_rate_5m",
                "sli"
            ]
        );
    }

    #[test]
    fn a_short_window_regression_needs_the_long_window_too() {
        // 5m ten times worse and burning, 1h unchanged: noise, not a regression.
        assert_eq!(
            regressions(result(0.0002, 0.0002), result(0.002, 0.0002)),
            Vec::<String>::new()
        );
        // Both windows worse: both are named.
        assert_eq!(
            regressions(result(0.0002, 0.0002), result(0.02, 0.02)),
            [
                "error ratio (1h) 2% vs baseline 0.02% (×100)",
                "error ratio (5m) 2% vs baseline 0.02% (×100)"
            ]
        );
    }

    #[test]
    fn a_handful_of_errors_on_a_clean_baseline_is_not_a_regression() {
        // 4 errors in an hour of 60,000 requests (0.0067 %) does not burn the
        // budget; 0.2 % does, but 4 bad events beyond none is still noise.
        let mut quiet = result(0.0, 0.0);
        quiet.window_events = vec![(FIVE, Some(500.0)), (HOUR, Some(2000.0))];
        let mut now = quiet.clone();
        now.burn_rates = vec![(FIVE, Some(2.0)), (HOUR, Some(2.0))];
        assert_eq!(regressions(quiet.clone(), now), Vec::<String>::new());
        let mut worse = quiet.clone();
        worse.burn_rates = vec![(FIVE, Some(10.0)), (HOUR, Some(10.0))];
        assert_eq!(
            regressions(quiet, worse),
            [
                "error ratio (1h) 1% vs baseline 0% (none then)",
                "error ratio (5m) 1% vs baseline 0% (none then)"
            ]
        );
    }

    #[test]
    fn a_regressed_pass_warns_and_unknown_results_are_not_compared() {
        let base = Baseline::of(&[result(0.0002, 0.0002)], at());
        let mut unknown = result(0.02, 0.02);
        unknown.state = State::Unknown;
        let mut results = [result(0.02, 0.02), unknown];
        apply(&base, &mut results, |_| Tolerance::default());
        assert_eq!(results[0].state, State::Warn);
        assert!(results[0]
            .reason
            .starts_with("regressed from the baseline of 2026-11-24T09:00Z: "));
        assert!(results[1].baseline.is_none());
        assert_eq!(results[1].state, State::Unknown);
        let text = base.to_json();
        assert_eq!(Baseline::parse(&text), Ok(base));
        assert_eq!(
            Baseline::parse(&text.replace("\"version\": 1", "\"version\": 2")),
            Err("baseline version 2 is not 1; save it again with this slogate".into())
        );
    }
}
