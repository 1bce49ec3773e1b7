//! What a detail page of one SLO group draws, read from Prometheus on request:
//! the SLI and budget burn-down over the SLO window, burn rates per window over
//! the last day, a probe's value over the last day, and the SLO's alerts as the
//! datasource's `ALERTS` has them. Three or four queries per page view.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::Source;
use crate::eval::StepCounts;
use crate::slo::{Indicator, PromDuration, Slo};

/// Points across the SLO window in the burn-down.
pub const WINDOW_STEPS: u64 = 60;

/// The step of the last day's burn rates (the shortest burn window).
const BURN_STEP: u64 = 300;

/// The burn windows drawn over the last day (those inside the SLO window).
pub const BURN_WINDOWS: [&str; 3] = ["5m", "1h", "6h"];

/// The span of the last-day charts.
const DAY: u64 = 86_400;

/// A chart line: `(unix seconds, value)`, `None` where there is no data.
pub type Line = Vec<(f64, Option<f64>)>;

/// One alert as the datasource reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub name: String,
    /// `firing` or `pending`.
    pub state: String,
    pub severity: String,
}

/// Everything a detail page draws besides the result itself.
#[derive(Debug, Clone, Default)]
pub struct Detail {
    /// SLI to date over the SLO window (from its start).
    pub sli: Line,
    /// Error budget remaining to date over the SLO window.
    pub budget: Line,
    /// Burn rate per window over the last day.
    pub burns: Vec<(PromDuration, Line)>,
    /// A probe's value over the last day.
    pub values: Line,
    /// Alerts of this SLO (and group) pending or firing now.
    pub firing: Vec<Firing>,
    /// Queries that failed, with why: the page says so instead of drawing nothing.
    pub errors: Vec<String>,
}

fn steps(end: f64, step: u64, count: u64) -> Vec<f64> {
    (0..count)
        .map(|i| end - ((count - 1 - i) * step) as f64)
        .collect()
}

fn seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

/// The counts of `group` in a step-counts answer.
fn of_group(
    counts: StepCounts,
    group: &BTreeMap<String, String>,
) -> Option<Vec<Option<(f64, f64)>>> {
    counts.into_iter().find(|(g, _)| g == group).map(|(_, c)| c)
}

/// Reads what the detail page of `slo`'s `group` draws, as of `at`.
pub async fn detail<S: Source>(
    source: &S,
    slo: &Slo,
    group: &BTreeMap<String, String>,
    at: DateTime<Utc>,
) -> Detail {
    let mut out = Detail::default();
    let end = seconds(at);
    let budget = slo.objective.as_ref().map_or(1.0, |o| o.budget());
    // The window, in steps: cumulative counts from its start give the SLI and
    // the budget left "to date", ending at today's figures.
    // A calendar SLO's window is its period so far.
    let span = slo
        .calendar
        .map_or(slo.window, |c| c.bounds(at).elapsed())
        .as_millis()
        / 1000;
    let step = (span / WINDOW_STEPS).max(60);
    if let Some(promql) = slo.events_query(PromDuration::from_secs(step)) {
        let times = steps(end, step, (span / step).clamp(1, WINDOW_STEPS));
        match source
            .query_range(&promql, (times[0], end, step as f64))
            .await
        {
            Ok(series) => {
                let counts = of_group(slo.step_counts(&series, &times), group).unwrap_or_default();
                let (mut bad, mut total) = (0.0, 0.0);
                for (t, c) in times
                    .iter()
                    .zip(counts.iter().chain(std::iter::repeat(&None)))
                {
                    if let Some((b, n)) = c {
                        bad += b;
                        total += n;
                    }
                    let known = total > 0.0;
                    out.sli.push((*t, known.then(|| 1.0 - bad / total)));
                    out.budget
                        .push((*t, known.then(|| 1.0 - bad / (total * budget))));
                }
            }
            Err(e) => out
                .errors
                .push(format!("SLI over {}: {}", slo.window, e.message)),
        }
        // The last day's burn rates, from 5-minute counts summed per window.
        let windows: Vec<PromDuration> = BURN_WINDOWS
            .iter()
            .filter_map(|w| w.parse::<PromDuration>().ok())
            .filter(|w| *w <= slo.window)
            .collect();
        let longest = windows
            .iter()
            .map(|w| w.as_millis() / 1000)
            .max()
            .unwrap_or(0);
        let count = (DAY + longest) / BURN_STEP;
        let times = steps(end, BURN_STEP, count);
        let query = slo.events_query(PromDuration::from_secs(BURN_STEP));
        let answer = match query {
            Some(q) => {
                source
                    .query_range(&q, (times[0], end, BURN_STEP as f64))
                    .await
            }
            None => Ok(Vec::new()),
        };
        match answer {
            Ok(series) => {
                let counts = of_group(slo.step_counts(&series, &times), group).unwrap_or_default();
                let first_shown = (longest / BURN_STEP) as usize;
                for w in windows {
                    let n = (w.as_millis() / 1000 / BURN_STEP).max(1) as usize;
                    let line = (first_shown..times.len())
                        .map(|i| {
                            let (bad, total) = counts
                                .get(i + 1 - n..=i)
                                .unwrap_or_default()
                                .iter()
                                .flatten()
                                .fold((0.0, 0.0), |(b, t), (x, y)| (b + x, t + y));
                            let burn = (total > 0.0).then(|| bad / (total * budget));
                            (times[i], burn)
                        })
                        .collect();
                    out.burns.push((w, line));
                }
            }
            Err(e) => out.errors.push(format!("burn rates: {}", e.message)),
        }
    }
    if let Indicator::Threshold { query, .. } = &slo.indicator {
        let times = (end - DAY as f64, end, BURN_STEP as f64);
        match source.query_range(query, times).await {
            Ok(series) => {
                out.values = series
                    .first()
                    .map(|s| {
                        s.points
                            .iter()
                            .map(|(t, v)| (*t, Some(*v).filter(|v| v.is_finite())))
                            .collect()
                    })
                    .unwrap_or_default();
            }
            Err(e) => out.errors.push(format!("probe value: {}", e.message)),
        }
    }
    let alerts = format!(
        "ALERTS{{slo=\"{}\"}}",
        crate::escape::label_value(&slo.name)
    );
    match source.query(&alerts, end).await {
        Ok((samples, _)) => {
            out.firing = samples
                .into_iter()
                .filter(|s| {
                    group
                        .iter()
                        .all(|(k, v)| s.labels.get(k).is_none_or(|x| x == v))
                })
                .map(|s| Firing {
                    name: s.labels.get("alertname").cloned().unwrap_or_default(),
                    state: s.labels.get("alertstate").cloned().unwrap_or_default(),
                    severity: s.labels.get("severity").cloned().unwrap_or_default(),
                })
                .collect();
        }
        Err(e) => out.errors.push(format!("ALERTS: {}", e.message)),
    }
    out
}
