//! Pure judgement: (SLO, query answers, window) -> one result per group, and the
//! readiness roll-up. No clock, no network, no logging.

pub mod baseline;
mod events;
pub mod history;
pub mod launch;
pub mod quantile;
pub mod snapshot;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::slo::calendar::{Bounds, Calendar};
use crate::slo::conventions::label;
use crate::slo::exclusion::Exclusion;
use crate::slo::promql::{parse_tag, Tagged};
use crate::slo::promql::{Part, QueryKind, QUANTILES};
use crate::slo::{Counts, Indicator, PromDuration, Sample, SliKind, Slo, BURN_WINDOWS};

/// A verdict, in SPEC's order of precedence (unknown first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Unknown,
    InsufficientData,
    Fail,
    Warn,
    Pass,
    /// A launch checkpoint that has not been reached yet.
    Pending,
}

impl State {
    /// The five states an SLO can be in (`slogate_slo_state{state}`).
    pub const SLO_STATES: [State; 5] = [
        State::Pass,
        State::Warn,
        State::Fail,
        State::InsufficientData,
        State::Unknown,
    ];

    /// The six states of a launch checkpoint.
    pub const CHECKPOINT_STATES: [State; 6] = [
        State::Pending,
        State::Pass,
        State::Warn,
        State::Fail,
        State::InsufficientData,
        State::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
            Self::InsufficientData => "insufficient_data",
            Self::Unknown => "unknown",
            Self::Pending => "pending",
        }
    }

    /// Ready means pass or warn; nothing else ever is.
    pub fn is_ready(self) -> bool {
        matches!(self, Self::Pass | Self::Warn)
    }
}

/// The answer to one planned query: samples, or why there are none.
pub use crate::slo::fuse::Answer;

/// Answers by what they answer, in a fixed order (so "the first failure" is the
/// same on every run).
pub type Answers = BTreeMap<QueryKind, Answer>;

/// Latency quantile estimates of one window: `(quantile, seconds)`.
pub type Quantiles = Vec<(&'static str, Option<f64>)>;

/// The judgement of one SLO for one group.
#[derive(Debug, Clone, PartialEq)]
pub struct SloResult {
    pub slo: String,
    pub kind: SliKind,
    pub service: Option<String>,
    /// The `group_by` labels of this result.
    pub group: BTreeMap<String, String>,
    /// The SLO's static labels (see [`SloResult::labels`]); empty for most
    /// SLOs, so 10,000 groups do not hold 10,000 copies of their group labels.
    pub slo_labels: BTreeMap<String, String>,
    pub objective: Option<f64>,
    pub window: PromDuration,
    /// The window as the user wrote it (`24h` for a checkpoint), for every output.
    pub window_name: String,
    pub sli: Option<f64>,
    /// Events counted over `window`.
    pub events: Option<f64>,
    pub error_budget_remaining: Option<f64>,
    pub burn_rates: Vec<(PromDuration, Option<f64>)>,
    /// Events counted over each burn window.
    pub window_events: Vec<(PromDuration, Option<f64>)>,
    /// Quantile estimates per window (5m, 1h, the judged window) for latency SLOs.
    pub latency_seconds: Option<Vec<(PromDuration, Quantiles)>>,
    /// The measured value of a threshold probe.
    pub value: Option<f64>,
    /// A latency SLO's threshold, exported so dashboards draw each SLO's own.
    pub latency_threshold: Option<PromDuration>,
    /// The burn-rate factor of each enabled alert tier, by its long window (the
    /// lowest when two tiers share one).
    pub burn_thresholds: Vec<(PromDuration, f64)>,
    pub state: State,
    pub ready: bool,
    pub key: bool,
    /// The SLO's weight in the launch score.
    pub weight: f64,
    /// Where an operator reads what to do.
    pub runbook_url: Option<String>,
    pub reason: String,
    /// The queries that answered it, shared by every group of its SLO.
    pub queries: Arc<[String]>,
    /// The group's source series are gone now (it is judged `insufficient_data`).
    pub vanished: bool,
    /// How it compares with a saved baseline (`check --baseline`).
    pub baseline: Option<Arc<baseline::Comparison>>,
    /// A calendar SLO's period so far.
    pub period: Option<PeriodStatus>,
    /// The named datasource it was read from; `None` for the default.
    pub datasource: Option<String>,
    /// The exclusions the judged window overlaps: their events are left out.
    pub exclusions: Vec<Exclusion>,
    /// `(bad, total)` events the exclusions left out of the judged window.
    pub excluded: Option<(f64, f64)>,
}

/// Where a calendar SLO stands in its period.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodStatus {
    pub calendar: Calendar,
    pub bounds: Bounds,
    /// The SLI the period would end with if the rest of it went like the last
    /// day (its error ratio and its traffic); `None` without traffic then.
    pub projected_sli: Option<f64>,
}

impl PeriodStatus {
    /// `day 12 of 30`: the local day of the period the instant falls on.
    pub fn day_of(&self) -> (i64, i64) {
        let tz = self.calendar.tz;
        let day = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).date_naive();
        let start = day(self.bounds.start);
        let today = (day(self.bounds.at) - start).num_days() + 1;
        let days = (day(self.bounds.end) - start).num_days();
        (today.clamp(1, days.max(1)), days)
    }
}

impl SloResult {
    /// Group labels, then the SLO's static labels (which win).
    pub fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.group.clone();
        labels.extend(self.slo_labels.clone());
        labels
    }
}

/// How the reason of a result whose query failed begins.
pub const QUERY_FAILED: &str = "query failed: ";

type GroupKey = Vec<String>;

fn group_key(slo: &Slo, labels: &BTreeMap<String, String>) -> GroupKey {
    slo.group_by
        .iter()
        .map(|g| labels.get(g).cloned().unwrap_or_default())
        .collect()
}

/// Each group's counts over a window (summed over the spans between
/// exclusions, when it has some), with what the exclusions counted kept apart
/// in [`Counts::excluded`].
fn counts_by_group(slo: &Slo, samples: &[Sample]) -> BTreeMap<GroupKey, Counts> {
    let mut groups: BTreeMap<GroupKey, Counts> = BTreeMap::new();
    let mut excluded: BTreeMap<GroupKey, Counts> = BTreeMap::new();
    for s in samples {
        if !s.value.is_finite() {
            continue;
        }
        let le = s.labels.get("le").map(String::as_str);
        let (into, part) = match s.labels.get(label::QUERY_PART).and_then(|t| parse_tag(t)) {
            Some(Tagged::Counted(Part::Present)) | None => continue,
            Some(Tagged::Counted(part)) => (&mut groups, part),
            Some(Tagged::Excluded(part)) => (&mut excluded, part),
        };
        into.entry(group_key(slo, &s.labels))
            .or_default()
            .add(part, s.value, le);
    }
    for (key, cut) in excluded {
        // A group with nothing counted outside its exclusions is not one.
        if let Some(counts) = groups.get_mut(&key) {
            counts.excluded = Some(Box::new(cut));
        }
    }
    groups
}

/// Everything one SLO evaluation needs, besides the SLO.
pub struct Input<'a> {
    pub window: PromDuration,
    /// The window as written (a checkpoint's `24h`); `None` prints the duration.
    pub window_name: Option<&'a str>,
    pub answers: &'a Answers,
    /// A calendar SLO's period: `window` runs from its start to the instant.
    pub period: Option<(Calendar, Bounds)>,
    pub queries: Arc<[String]>,
    /// Group label sets seen before, so that an outage reports `unknown` for each.
    pub known_groups: &'a [snapshot::GroupLabels],
}

fn percent(ratio: f64) -> String {
    crate::slo::number::shown_percent(ratio)
}

pub use crate::slo::number::short as short_number;

impl Slo {
    /// Burn windows shorter than this are read: the judged window, or for a
    /// calendar SLO its rolling equivalent (burn rates are a speed, and read
    /// across the period's start).
    fn burn_below(&self, input: &Input<'_>) -> PromDuration {
        if input.period.is_some() {
            self.window
        } else {
            input.window
        }
    }

    /// The factor of each enabled alert tier, by long window (see
    /// [`SloResult::burn_thresholds`]).
    fn burn_thresholds(&self) -> Vec<(PromDuration, f64)> {
        let mut by_window: BTreeMap<PromDuration, f64> = BTreeMap::new();
        for t in self.tiers() {
            if self.alerting.tier(t.severity).enabled {
                let factor = by_window.entry(t.long).or_insert(t.factor);
                *factor = factor.min(t.factor);
            }
        }
        by_window.into_iter().collect()
    }

    fn result(&self, input: &Input<'_>, group: &BTreeMap<String, String>) -> SloResult {
        let service = self
            .service
            .clone()
            .or_else(|| self.group_by.first().and_then(|g| group.get(g).cloned()));
        SloResult {
            slo: self.name.clone(),
            kind: self.indicator.kind(),
            service,
            group: group.clone(),
            slo_labels: self.labels.clone(),
            objective: self.objective.as_ref().map(|o| o.ratio()),
            window: input.window,
            window_name: input
                .window_name
                .map_or_else(|| input.window.to_string(), str::to_string),
            sli: None,
            events: None,
            error_budget_remaining: None,
            burn_rates: if self.indicator.is_probe() {
                Vec::new()
            } else {
                BURN_WINDOWS.iter().map(|w| (*w, None)).collect()
            },
            window_events: Vec::new(),
            latency_seconds: matches!(self.indicator, Indicator::Latency { .. }).then(|| {
                events::quantile_windows(input.window, self.burn_below(input))
                    .into_iter()
                    .map(|w| (w, QUANTILES.iter().map(|q| (*q, None)).collect()))
                    .collect()
            }),
            value: None,
            latency_threshold: match &self.indicator {
                Indicator::Latency { threshold, .. } => Some(*threshold),
                _ => None,
            },
            burn_thresholds: self.burn_thresholds(),
            state: State::Unknown,
            ready: false,
            key: self.key,
            weight: self.weight,
            runbook_url: self.runbook_url.clone(),
            vanished: false,
            baseline: None,
            exclusions: Vec::new(),
            excluded: None,
            datasource: self.datasource.clone(),
            period: input.period.map(|(calendar, bounds)| PeriodStatus {
                calendar,
                bounds,
                projected_sli: None,
            }),
            reason: String::new(),
            queries: input.queries.clone(),
        }
    }

    fn group_labels(&self, key: &GroupKey) -> BTreeMap<String, String> {
        self.group_by
            .iter()
            .cloned()
            .zip(key.iter().cloned())
            .collect()
    }

    /// Judges this SLO from its query answers: one result per group.
    pub fn evaluate(&self, input: &Input<'_>) -> Vec<SloResult> {
        let failed = input.answers.values().find_map(|a| a.as_ref().err());
        if let Some(err) = failed {
            let groups: Vec<BTreeMap<String, String>> = if input.known_groups.is_empty() {
                vec![BTreeMap::new()]
            } else {
                input
                    .known_groups
                    .iter()
                    .map(|g| g.iter().cloned().collect())
                    .collect()
            };
            return groups
                .iter()
                .map(|g| {
                    let mut r = self.result(input, g);
                    r.reason = format!("{QUERY_FAILED}{err}");
                    r
                })
                .collect();
        }
        let mut results = match &self.indicator {
            Indicator::Threshold { op, value, .. } => self.evaluate_probe(input, *op, *value),
            _ => self.evaluate_events(input),
        };
        for r in &mut results {
            r.ready = r.state.is_ready();
        }
        results
    }

    fn evaluate_probe(
        &self,
        input: &Input<'_>,
        op: crate::slo::CompareOp,
        limit: f64,
    ) -> Vec<SloResult> {
        let samples: Vec<&Sample> = input
            .answers
            .get(&QueryKind::Probe)
            .and_then(|a| a.as_ref().ok())
            .map(|s| s.iter().filter(|s| !s.value.is_nan()).collect())
            .unwrap_or_default();
        let mut worst: BTreeMap<GroupKey, f64> = BTreeMap::new();
        for s in samples {
            let key = group_key(self, &s.labels);
            let v = worst
                .get(&key)
                .map_or(s.value, |w| op.worse(*w, s.value, limit));
            worst.insert(key, v);
        }
        if worst.is_empty() {
            let mut r = self.result(input, &BTreeMap::new());
            r.state = State::InsufficientData;
            r.reason = match &self.indicator {
                Indicator::Threshold { query, .. } => format!(
                    "the probe query {query:?} returned no series: is the exporter of its metric \
                     scraped, and is the metric named as written?"
                ),
                _ => "the probe query returned no series".into(),
            };
            return vec![r];
        }
        worst
            .into_iter()
            .map(|(key, v)| {
                let mut r = self.result(input, &self.group_labels(&key));
                r.value = Some(v);
                let holds = op.holds(v, limit);
                r.state = if holds { State::Pass } else { State::Fail };
                r.reason = format!(
                    "value {} {} {}",
                    short_number(v),
                    if holds { "is" } else { "is not" },
                    format_args!("{} {}", op.as_str(), short_number(limit))
                );
                r
            })
            .collect()
    }
}

/// Burn rate per step across a report window, per (SLO, group labels).
pub type Trends = BTreeMap<(String, BTreeMap<String, String>), Vec<Option<f64>>>;

/// Bad and total events per step, per group (its labels), from a range answer
/// of [`Slo::events_query`] over one step: `None` where a step has no answer.
pub type StepCounts = BTreeMap<BTreeMap<String, String>, Vec<Option<(f64, f64)>>>;

impl Slo {
    /// Bad and total events per timestamp, per group.
    pub fn step_counts(&self, series: &[crate::slo::Series], timestamps: &[f64]) -> StepCounts {
        let mut by_group: BTreeMap<GroupKey, BTreeMap<i64, Counts>> = BTreeMap::new();
        for s in series {
            let Some(part) = s.labels.get(label::QUERY_PART).and_then(|p| Part::parse(p)) else {
                continue;
            };
            let le = s.labels.get("le").map(String::as_str);
            let steps = by_group.entry(group_key(self, &s.labels)).or_default();
            for (t, v) in s.points.iter().filter(|(_, v)| v.is_finite()) {
                steps
                    .entry((*t * 1000.0).round() as i64)
                    .or_default()
                    .add(part, *v, le);
            }
        }
        by_group
            .into_iter()
            .map(|(key, steps)| {
                let counts = timestamps
                    .iter()
                    .map(|t| {
                        steps
                            .get(&((t * 1000.0).round() as i64))
                            .and_then(|c| self.indicator.bad_total(c))
                    })
                    .collect();
                (self.group_labels(&key), counts)
            })
            .collect()
    }

    /// Burn rate per timestamp, per group, from a range answer of
    /// [`Slo::events_query`] over one step: a step without traffic is `None`.
    pub fn burn_trend(&self, series: &[crate::slo::Series], timestamps: &[f64]) -> Trends {
        let budget = self.objective.as_ref().map_or(1.0, |o| o.budget());
        self.step_counts(series, timestamps)
            .into_iter()
            .map(|(group, counts)| {
                let burns = counts
                    .into_iter()
                    .map(|c| {
                        c.filter(|(_, total)| *total > 0.0)
                            .map(|(bad, total)| bad / (total * budget))
                    })
                    .collect();
                ((self.name.clone(), group), burns)
            })
            .collect()
    }
}

/// Readiness rolled up per service and overall.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Readiness {
    /// Service name (empty for SLOs without one) -> ready.
    pub services: BTreeMap<String, bool>,
    pub ready: bool,
}

/// A service is ready when all its key SLOs are; overall when every service is.
/// Nothing evaluated is never ready. A vanished group does not hold its service
/// back while another group of the same SLO and service still has data (a
/// rolled-out version, a replaced pod): it is reported, not counted.
pub fn roll_up(results: &[SloResult]) -> Readiness {
    let mut services: BTreeMap<String, bool> = BTreeMap::new();
    let replaced = |r: &SloResult| {
        r.vanished
            && results
                .iter()
                .any(|o| o.slo == r.slo && o.service == r.service && !o.vanished)
    };
    for r in results {
        let ready = services
            .entry(r.service.clone().unwrap_or_default())
            .or_insert(true);
        if r.key && !r.ready && !replaced(r) {
            *ready = false;
        }
    }
    let ready = !services.is_empty() && services.values().all(|r| *r);
    Readiness { services, ready }
}

#[cfg(test)]
mod edge_tests;
#[cfg(test)]
mod tests;
