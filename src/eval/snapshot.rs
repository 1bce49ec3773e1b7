//! The outcome of an evaluation as a pure value: every SLO's results, the
//! readiness roll-up, launch checkpoints. Reports, the page, the exporter and the
//! server read these; the scheduler only decides when they are made.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::history::History;
use super::{launch, roll_up, Answers, Input, Readiness, SloResult, State};
use crate::slo::calendar::{Bounds, Calendar};
use crate::slo::promql::PlannedQuery;
use crate::slo::{PromDuration, Slo};

/// The outcome of one evaluation of every SLO.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// When and how the evaluation ran: its instant, reachability, cost.
    pub run: Run,
    pub results: Vec<SloResult>,
    pub readiness: Readiness,
    /// The weighted launch score of these results, 0 to 1.
    pub score: Option<f64>,
    /// Launch checkpoints, when the config has a launch block (serve only).
    pub launch: Option<LaunchStatus>,
    /// Each result's state over time (serve only; shared, updated in place).
    pub history: Option<Arc<RwLock<History>>>,
}

/// One launch checkpoint: every SLO judged over `[at, at + after]` as of `at + after`.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The checkpoint as the user wrote it (`24h`).
    pub name: String,
    pub after: PromDuration,
    pub due: DateTime<Utc>,
    pub state: State,
    pub score: Option<f64>,
    pub results: Vec<SloResult>,
    pub queries_sent: usize,
    pub samples_read: Option<u64>,
    pub prometheus_eval_seconds: Option<f64>,
    pub prometheus_up: bool,
}

/// The launch and its checkpoints.
#[derive(Debug, Clone)]
pub struct LaunchStatus {
    pub at: DateTime<Utc>,
    pub checkpoints: Vec<Checkpoint>,
}

/// Group label sets seen per SLO, remembered so an outage is reported per group.
/// Pairs rather than maps: `serve` holds one per group for its whole life.
pub type KnownGroups = HashMap<String, Vec<GroupLabels>>;

/// One group's labels, sorted by name.
pub type GroupLabels = Box<[(String, String)]>;

/// How an evaluation went, besides its answers.
#[derive(Debug, Clone)]
pub struct Run {
    /// The instant evaluated as of.
    pub at: DateTime<Utc>,
    /// Every query reached Prometheus (answered, even with an error).
    pub prometheus_up: bool,
    pub duration: Duration,
    pub queries_sent: usize,
    /// Samples Prometheus reported reading for these queries (`stats=all`);
    /// `None` when the server reports no statistics.
    pub samples_read: Option<u64>,
    /// Prometheus' own evaluation time for these queries, summed.
    pub prometheus_eval_seconds: Option<f64>,
    /// The instant each window's answers were evaluated as of: long windows may
    /// be reused for a while in `serve` (`evaluation.long_window_interval`).
    pub windows_read_at: BTreeMap<PromDuration, DateTime<Utc>>,
    /// Whether each datasource evaluated was reached, by name.
    pub datasources: BTreeMap<String, bool>,
}

impl Run {
    /// The datasources this run could not reach, by name.
    pub fn unreachable(&self) -> Vec<&str> {
        self.datasources
            .iter()
            .filter(|(_, up)| !**up)
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Who could not be reached, for a message: "Prometheus" when the run read
    /// only the default datasource, else "datasource vm" / "datasources a, b".
    pub fn unreachable_text(&self) -> String {
        let down = self.unreachable();
        match down.as_slice() {
            [] => String::new(),
            ["default"] if self.datasources.len() == 1 => "Prometheus".into(),
            [one] => format!("datasource {one}"),
            many => format!("datasources {}", many.join(", ")),
        }
    }
}

/// One snapshot of the evaluations of several datasources at the same
/// instant: results in the order of `slos`, runs added up, roll-ups redone.
pub fn merge(mut parts: Vec<Snapshot>, slos: &[Arc<Slo>], at: DateTime<Utc>) -> Snapshot {
    if parts.len() == 1 {
        return parts.remove(0);
    }
    let mut results = Vec::new();
    let mut run = Run {
        at,
        prometheus_up: true,
        duration: Duration::ZERO,
        queries_sent: 0,
        samples_read: None,
        prometheus_eval_seconds: None,
        windows_read_at: BTreeMap::new(),
        datasources: BTreeMap::new(),
    };
    for part in parts {
        let r = part.run;
        run.prometheus_up &= r.prometheus_up;
        run.duration = run.duration.max(r.duration);
        run.queries_sent += r.queries_sent;
        if let Some(n) = r.samples_read {
            *run.samples_read.get_or_insert(0) += n;
        }
        if let Some(t) = r.prometheus_eval_seconds {
            *run.prometheus_eval_seconds.get_or_insert(0.0) += t;
        }
        for (w, t) in r.windows_read_at {
            let e = run.windows_read_at.entry(w).or_insert(t);
            *e = (*e).min(t);
        }
        run.datasources.extend(r.datasources);
        results.extend(part.results);
    }
    let position: HashMap<&str, usize> = slos
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    // Stable: each SLO's groups keep their order.
    results.sort_by_key(|r| position.get(r.slo.as_str()).copied());
    Snapshot::of(results, run)
}

impl Snapshot {
    /// The snapshot of `results`, rolled up (no launch, no history yet).
    pub fn of(results: Vec<SloResult>, run: Run) -> Self {
        Self {
            readiness: roll_up(&results),
            score: launch::score(&results),
            results,
            run,
            launch: None,
            history: None,
        }
    }
}

/// One SLO's part of an evaluation: the window judged, its planned queries and
/// their answers.
#[derive(Debug, Clone)]
pub struct Planned<'a> {
    pub slo: &'a Slo,
    pub window: PromDuration,
    /// A calendar SLO's period: `window` runs from its start to the instant.
    pub period: Option<(Calendar, Bounds)>,
    pub plan: Vec<PlannedQuery>,
    /// The queries that answered it, fused ones (shared with other SLOs)
    /// included; empty means its own planned queries.
    pub sent: Vec<String>,
    pub answers: Answers,
}

/// Judges every SLO's answers into a snapshot. `window_name` names the window
/// of a checkpoint (`24h`); `known` lists the groups seen before, so a failed
/// query reports `unknown` for each.
pub fn judge(
    planned: &[Planned<'_>],
    window_name: Option<&str>,
    known: &KnownGroups,
    run: Run,
) -> Snapshot {
    let no_groups = Vec::new();
    let results: Vec<SloResult> = planned
        .iter()
        .flat_map(|p| {
            let calendar = p.period.map(|(c, _)| c.to_string());
            // Every window read (a calendar SLO's burn windows reach back
            // before its period), not only the judged one.
            let longest = p
                .plan
                .iter()
                .filter_map(|q| match q.kind {
                    crate::slo::promql::QueryKind::Events(w) => Some(w),
                    crate::slo::promql::QueryKind::Probe => None,
                })
                .max()
                .unwrap_or(p.window);
            let from = run.at - chrono::TimeDelta::milliseconds(longest.as_millis() as i64);
            let touched: Vec<_> = p
                .slo
                .exclusions
                .within(from, run.at)
                .into_iter()
                .filter(|e| e.touches(longest, run.at))
                .collect();
            let mut results = p.slo.evaluate(&Input {
                window: p.window,
                window_name: calendar.as_deref().or(window_name),
                answers: &p.answers,
                period: p.period,
                queries: if p.sent.is_empty() {
                    p.plan.iter().map(|q| q.promql.clone()).collect()
                } else {
                    p.sent.clone().into()
                },
                known_groups: known.get(&p.slo.name).unwrap_or(&no_groups),
            });
            if !touched.is_empty() && !p.slo.indicator.is_probe() {
                for r in &mut results {
                    r.exclusions.clone_from(&touched);
                }
            }
            results
        })
        .collect();
    Snapshot::of(results, run)
}

/// Remembers the groups of every SLO that was judged from data.
pub fn remember_groups(known: &mut KnownGroups, snapshot: &Snapshot) {
    let mut seen: KnownGroups = HashMap::new();
    for r in &snapshot.results {
        if r.state != State::Unknown {
            let labels = r.group.iter().map(|(k, v)| (k.clone(), v.clone()));
            seen.entry(r.slo.clone())
                .or_default()
                .push(labels.collect());
        }
    }
    known.extend(seen);
}

/// When a checkpoint `after` the launch is due. Config checks keep checkpoints
/// within `MAX_WINDOW`, far inside chrono's range; this saturates rather than
/// panics should one ever get past them.
pub fn checkpoint_due(launch_at: DateTime<Utc>, after: PromDuration) -> DateTime<Utc> {
    i64::try_from(after.as_millis())
        .ok()
        .and_then(chrono::TimeDelta::try_milliseconds)
        .and_then(|d| launch_at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl Checkpoint {
    /// A checkpoint not reached yet: every SLO `pending`.
    pub fn pending(
        slos: &[Arc<Slo>],
        (name, after): (&str, PromDuration),
        due: DateTime<Utc>,
    ) -> Self {
        let due_text = due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Self {
            name: name.to_string(),
            after,
            due,
            state: State::Pending,
            score: None,
            results: slos
                .iter()
                .map(|s| s.pending((name, after), &due_text))
                .collect(),
            queries_sent: 0,
            samples_read: None,
            prometheus_eval_seconds: None,
            prometheus_up: true,
        }
    }

    /// A checkpoint judged from the snapshot of its window, as of its due time.
    pub fn judged((name, after): (&str, PromDuration), due: DateTime<Utc>, s: Snapshot) -> Self {
        Self {
            name: name.to_string(),
            after,
            due,
            state: launch::checkpoint_state(&s.results),
            score: s.score,
            results: s.results,
            queries_sent: s.run.queries_sent,
            samples_read: s.run.samples_read,
            prometheus_eval_seconds: s.run.prometheus_eval_seconds,
            prometheus_up: s.run.prometheus_up,
        }
    }

    /// Judged for good: neither pending nor unknown, so its answer no longer
    /// depends on the clock or on Prometheus being reachable.
    pub fn is_settled(&self) -> bool {
        !matches!(self.state, State::Pending | State::Unknown)
    }
}

/// The latest snapshot, shared with the HTTP server and the metrics collector.
#[derive(Debug, Default)]
pub struct Published {
    /// The latest snapshot and how many were published before it.
    latest: RwLock<(u64, Option<Arc<Snapshot>>)>,
}

impl Published {
    pub fn publish(&self, snapshot: Snapshot) {
        let mut guard = self.latest.write().unwrap_or_else(|e| e.into_inner());
        *guard = (guard.0 + 1, Some(Arc::new(snapshot)));
    }

    pub fn latest(&self) -> Option<Arc<Snapshot>> {
        self.latest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }

    /// How many snapshots were published: tells a cache built from one that a
    /// newer one exists, without holding the old one alive.
    pub fn generation(&self) -> u64 {
        self.latest.read().unwrap_or_else(|e| e.into_inner()).0
    }
}

/// The SLOs of [`example`]: a 99.9 % ratio grouped by service, and a probe.
#[cfg(test)]
pub fn example_slos() -> (Slo, Slo) {
    use crate::slo::{CompareOp, Indicator, RatioNumerator, Selector};

    let sel = |n: &str| Selector {
        text: n.into(),
        name: n.into(),
        matchers: Vec::new(),
    };
    let mut ratio = Slo {
        labels: BTreeMap::from([("team".to_string(), "<b>payments</b>".to_string())]),
        ..Slo::for_test(Indicator::Ratio {
            numerator: RatioNumerator::Errors(sel("errors_total")),
            total: sel("requests_total"),
        })
    };
    ratio.alerting.page.enabled = true;
    ratio.alerting.ticket.enabled = true;
    let probe = Slo {
        name: "backups".into(),
        group_by: Vec::new(),
        service: Some("platform".into()),
        ..Slo::for_test(Indicator::Threshold {
            query: "time() - backup_timestamp_seconds".into(),
            op: CompareOp::Lt,
            value: 86400.0,
        })
    };
    (ratio, probe)
}

/// A small snapshot for tests of everything that renders one: `availability`
/// (ratio, 99.9 % over 30d) passing for `checkout` and failing for `search`
/// ("<b>" in a label tests escaping), and a `backups` probe failing.
#[cfg(test)]
pub fn example() -> Snapshot {
    use crate::slo::conventions::label;
    use crate::slo::promql::QueryKind;
    use crate::slo::Sample;

    let part = |service: &str, part: &str, value: f64| Sample {
        labels: BTreeMap::from([
            ("service".to_string(), service.to_string()),
            (label::QUERY_PART.to_string(), part.to_string()),
        ]),
        value,
    };
    let (ratio, probe) = example_slos();
    let answers_ratio: Answers = ratio
        .plan(ratio.window)
        .into_iter()
        .map(|q| {
            let samples = vec![
                part("checkout", "bad", 0.0),
                part("checkout", "total", 100_000.0),
                part("checkout", "present", 1.0),
                part("search", "bad", 1000.0),
                part("search", "total", 100_000.0),
                part("search", "present", 1.0),
            ];
            (q.kind, Ok(samples))
        })
        .collect();
    let answers_probe = Answers::from([(
        QueryKind::Probe,
        Ok(vec![Sample {
            labels: BTreeMap::new(),
            value: 90000.0,
        }]),
    )]);
    let planned = [
        Planned {
            plan: ratio.plan(ratio.window),
            window: ratio.window,
            period: None,
            slo: &ratio,
            sent: Vec::new(),
            answers: answers_ratio,
        },
        Planned {
            plan: probe.plan(probe.window),
            window: probe.window,
            period: None,
            slo: &probe,
            sent: Vec::new(),
            answers: answers_probe,
        },
    ];
    let run = Run {
        at: DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z")
            .expect("time")
            .with_timezone(&Utc),
        prometheus_up: true,
        duration: Duration::from_millis(12),
        queries_sent: 9,
        samples_read: Some(12_345),
        prometheus_eval_seconds: Some(0.004),
        windows_read_at: BTreeMap::new(),
        datasources: BTreeMap::from([("default".to_string(), true)]),
    };
    judge(&planned, None, &KnownGroups::new(), run)
}
