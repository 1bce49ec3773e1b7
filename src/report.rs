//! Renders an evaluation for people and programs: SPEC's JSON (shared by
//! `check --output json` and `/api/v1/status`), the terminal table, the Markdown
//! launch report and JUnit XML.

mod junit;
mod markdown;
mod table;

use std::collections::BTreeMap;
use std::sync::RwLock;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

pub use junit::junit;
pub use markdown::{markdown, Trends};
pub use table::{styled, table, Style};

use crate::config::DEFAULT_DATASOURCE;
use crate::eval::history::History;
use crate::eval::snapshot::{Checkpoint, LaunchStatus, Snapshot};
use crate::eval::{self, short_number, Readiness, SloResult, State, QUERY_FAILED};
use crate::slo::promql::{QUANTILES, SHOWN_QUANTILE_WINDOW};
use crate::slo::{shown_window, PromDuration, SliKind};

/// The launch checkpoint a report is about.
#[derive(Debug, Clone)]
pub struct LaunchView {
    pub at: DateTime<Utc>,
    pub checkpoint: String,
    pub due: DateTime<Utc>,
    pub state: State,
    pub score: Option<f64>,
}

/// What every renderer reads: one evaluation (now, or of a launch checkpoint).
#[derive(Debug, Clone)]
pub struct Report<'a> {
    pub evaluated_at: DateTime<Utc>,
    /// The instant the report is made as of (`--at`, or the clock): pending
    /// checkpoints count down from it.
    pub now: DateTime<Utc>,
    pub results: &'a [SloResult],
    pub readiness: Readiness,
    pub prometheus_up: bool,
    /// Whether each datasource was reached, by name (regular evaluations).
    pub datasources: Option<&'a BTreeMap<String, bool>>,
    pub score: Option<f64>,
    pub launch: Option<LaunchView>,
    /// The whole launch timeline, shown by every output when there is a launch.
    pub timeline: Option<&'a LaunchStatus>,
    /// What the evaluation cost Prometheus.
    pub cost: Cost,
    /// When each window was last read (long windows are reused for a while).
    pub windows_read_at: Option<&'a BTreeMap<PromDuration, DateTime<Utc>>>,
    /// Each result's state over time (serve).
    pub history: Option<&'a RwLock<History>>,
}

/// What an evaluation cost: queries sent, samples Prometheus read and its
/// evaluation time (both `None` when the server reports no statistics).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost {
    pub queries: usize,
    pub samples: Option<u64>,
    pub prometheus_eval_seconds: Option<f64>,
}

impl<'a> Report<'a> {
    /// `default up, vm UNREACHABLE` when more than one datasource was read.
    pub fn datasource_words(&self) -> Option<String> {
        let d = self.datasources.filter(|d| d.len() > 1)?;
        let words: Vec<String> = d
            .iter()
            .map(|(name, up)| format!("{name} {}", if *up { "up" } else { "UNREACHABLE" }))
            .collect();
        Some(words.join(", "))
    }

    /// The report of a regular evaluation.
    pub fn of_snapshot(s: &'a Snapshot) -> Self {
        Self {
            evaluated_at: s.run.at,
            now: s.run.at,
            results: &s.results,
            readiness: s.readiness.clone(),
            prometheus_up: s.run.prometheus_up,
            datasources: Some(&s.run.datasources),
            score: s.score,
            launch: None,
            timeline: s.launch.as_ref(),
            cost: Cost {
                queries: s.run.queries_sent,
                samples: s.run.samples_read,
                prometheus_eval_seconds: s.run.prometheus_eval_seconds,
            },
            windows_read_at: Some(&s.run.windows_read_at),
            history: s.history.as_deref(),
        }
    }

    /// The report of one launch checkpoint, made as of `now`: a pending one is
    /// about `now` (it has not been evaluated at its due time, which lies ahead).
    pub fn of_checkpoint(c: &'a Checkpoint, launch_at: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        Self {
            evaluated_at: if c.state == State::Pending {
                now
            } else {
                c.due
            },
            now,
            results: &c.results,
            readiness: eval::roll_up(&c.results),
            prometheus_up: c.prometheus_up,
            datasources: None,
            score: c.score,
            launch: Some(LaunchView {
                at: launch_at,
                checkpoint: c.name.clone(),
                due: c.due,
                state: c.state,
                score: c.score,
            }),
            timeline: None,
            cost: Cost {
                queries: c.queries_sent,
                samples: c.samples_read,
                prometheus_eval_seconds: c.prometheus_eval_seconds,
            },
            windows_read_at: None,
            history: None,
        }
    }

    /// The same report, with the launch timeline every output shows.
    pub fn with_timeline(mut self, timeline: Option<&'a LaunchStatus>) -> Self {
        self.timeline = timeline;
        self
    }

    /// The score as outputs show it: none when the verdict is UNKNOWN (a score
    /// of 0 would read as a veto).
    pub fn shown_score(&self) -> Option<f64> {
        if self.verdict() == "UNKNOWN" {
            None
        } else {
            self.score
        }
    }

    /// The checkpoint this report is about, when it is not due yet.
    pub fn pending(&self) -> Option<&LaunchView> {
        self.launch.as_ref().filter(|l| l.state == State::Pending)
    }

    /// The headline: `PENDING` for a checkpoint not due yet; `READY`; `UNKNOWN`
    /// when nothing failed but the key SLOs holding readiness back could not be
    /// judged (Prometheus unreachable, a query refused): a launch lead must not
    /// read "not ready" as "regressed"; else `NOT READY`.
    pub fn verdict(&self) -> &'static str {
        if self.pending().is_some() {
            "PENDING"
        } else if self.readiness.ready {
            "READY"
        } else if unjudged(self.results.iter()) {
            "UNKNOWN"
        } else {
            "NOT READY"
        }
    }

    /// The verdict with what explains it, as every output's headline says it:
    /// `PENDING — due in 19h (2026-11-25T06:25Z)`, `NOT READY (score 0.0/100:
    /// vetoed by availability/search, a key SLO)`.
    pub fn headline(&self) -> String {
        if let Some(l) = self.pending() {
            return format!("PENDING — {}", due_text(l.due, self.now));
        }
        match self.verdict() {
            "UNKNOWN" => "UNKNOWN (no score: the key SLOs could not be judged)".into(),
            verdict => format!(
                "{verdict} (score {}/100: {})",
                score_text(self.score),
                score_explanation(self.results)
            ),
        }
    }

    /// A service's verdict as [`Report::verdict`] words it, lower case; `-`
    /// (as [`Report::by_service`] names it) is the results without a service.
    pub fn service_verdict(&self, service: &str) -> &'static str {
        let service = if service == "-" { "" } else { service };
        let name = |x: &&SloResult| x.service.as_deref().unwrap_or_default() == service;
        if self.pending().is_some() {
            "pending"
        } else if self
            .readiness
            .services
            .get(service)
            .copied()
            .unwrap_or(false)
        {
            "ready"
        } else if unjudged(self.results.iter().filter(name)) {
            "unknown"
        } else {
            "not ready"
        }
    }

    /// The query failure every unknown result shares (Prometheus unreachable):
    /// outputs print it once and point rows at it rather than repeat it.
    pub fn common_failure(&self) -> Option<&'a str> {
        let mut unknown = self.results.iter().filter(|x| x.state == State::Unknown);
        let first = unknown.next()?.reason.as_str();
        (first.starts_with(QUERY_FAILED) && unknown.all(|x| x.reason == first)).then_some(first)
    }

    /// A result's reason, or a pointer to the failure printed once.
    pub fn reason_of(&self, x: &'a SloResult) -> &'a str {
        match self.common_failure() {
            Some(common) if x.reason == common => "query failed (see below)",
            _ => &x.reason,
        }
    }

    /// Results grouped by service name, in name order.
    pub fn by_service(&self) -> BTreeMap<String, Vec<&'a SloResult>> {
        let mut out: BTreeMap<String, Vec<&SloResult>> = BTreeMap::new();
        for r in self.results {
            out.entry(r.service.clone().unwrap_or_else(|| "-".into()))
                .or_default()
                .push(r);
        }
        out
    }

    /// The instant a result entered its state, as far as `serve` has watched
    /// (the first evaluation when it never changed).
    pub fn state_since(&self, r: &SloResult) -> Option<DateTime<Utc>> {
        let history = self.history?.read().unwrap_or_else(|e| e.into_inner());
        history.track(&r.slo, &r.group).map(|t| t.since)
    }

    /// The instant a result entered its state, when `serve` saw it change.
    pub fn changed_at(&self, r: &SloResult) -> Option<DateTime<Utc>> {
        let history = self.history?.read().unwrap_or_else(|e| e.into_inner());
        history
            .track(&r.slo, &r.group)
            .filter(|t| t.since > t.watched_from)
            .map(|t| t.since)
    }
}

/// A result as people name it: `availability/checkout`, or the SLO alone.
pub fn result_name(r: &SloResult) -> String {
    match group_name(r).as_str() {
        "-" => r.slo.clone(),
        group => format!("{}/{group}", r.slo),
    }
}

/// Why the launch score is what it is: the key SLOs that veto it, or how the
/// weighted credits add up.
pub fn score_explanation(results: &[SloResult]) -> String {
    if results.iter().any(|r| r.state == State::Pending) {
        return "not judged until the checkpoint is due".into();
    }
    let vetoes: Vec<String> = results
        .iter()
        .filter(|r| r.key && r.state == State::Fail)
        .map(result_name)
        .collect();
    match vetoes.len() {
        0 => {}
        1 => return format!("vetoed by {}, a key SLO", vetoes[0]),
        n => {
            let shown = vetoes
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let more = if n > 3 {
                format!(" and {} more", n - 3)
            } else {
                String::new()
            };
            return format!("vetoed by {shown}{more}, key SLOs");
        }
    }
    if results.is_empty() {
        return "nothing was judged".into();
    }
    let count = |s: State| results.iter().filter(|r| r.state == s).count();
    let mut parts = vec![format!("{} pass", count(State::Pass))];
    let warn = count(State::Warn);
    if warn > 0 {
        parts.push(format!("{warn} warn (half credit)"));
    }
    let none = results.len() - count(State::Pass) - warn;
    if none > 0 {
        parts.push(format!("{none} without credit (fail, unknown or no data)"));
    }
    format!("weighted by SLO: {}", parts.join(", "))
}

/// `due in 19h (2026-11-25T06:25Z)`, or `due now (...)` once reached.
pub fn due_text(due: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let left = (due - now).num_seconds();
    if left <= 0 {
        format!("due now ({})", minute(due))
    } else {
        format!("due in {} ({})", span(left), minute(due))
    }
}

/// A duration in seconds as people say it: `19h`, `2d 3h`, `45m`, `30s`, with
/// at most two units, rounded up so "due in" never says 0.
pub fn span(seconds: i64) -> String {
    const UNITS: [(i64, &str); 4] = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let Some(first) = UNITS.iter().position(|(u, _)| seconds >= *u) else {
        return "0s".into();
    };
    let (big, big_name) = UNITS[first];
    match UNITS.get(first + 1) {
        Some(&(small, small_name)) if first < 3 => {
            let smalls = (seconds % big + small - 1) / small;
            if smalls * small >= big {
                // Rounding up filled the big unit: say it in whole big units
                // (86399 s is 1d, not 24h).
                return span((seconds / big + 1) * big);
            }
            let bigs = seconds / big;
            if smalls == 0 {
                format!("{bigs}{big_name}")
            } else {
                format!("{bigs}{big_name} {smalls}{small_name}")
            }
        }
        _ => format!("{seconds}{big_name}"),
    }
}

/// A time to the minute, as timelines write it: `2026-11-25T06:25Z`.
pub fn minute(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%MZ").to_string()
}

/// The bad events the SLO can still afford over its window (negative when
/// overspent): `remaining × (1 - objective) × events`. `None` for probes.
pub fn budget_left_events(r: &SloResult) -> Option<f64> {
    let allowed = 1.0 - r.objective?;
    Some(r.error_budget_remaining? * allowed * r.events?).filter(|v| v.is_finite())
}

/// For uptime, the downtime the SLO can still afford over its window, in seconds
/// (for a calendar SLO, over the rest of its period).
pub fn budget_left_seconds(r: &SloResult) -> Option<f64> {
    if r.kind != SliKind::Uptime {
        return None;
    }
    let allowed = 1.0 - r.objective?;
    let left = match &r.period {
        // The whole period's allowance less the downtime so far, both over
        // the time not excluded so far (exclusions still to come are not
        // known to the result, and are not taken off).
        Some(p) => {
            let (start, at) = (p.bounds.start, p.bounds.at);
            let excluded: f64 = r
                .exclusions
                .iter()
                .map(|e| {
                    (e.end.min(at) - e.start.max(start))
                        .num_milliseconds()
                        .max(0) as f64
                })
                .sum::<f64>()
                / 1000.0;
            let elapsed = p.bounds.elapsed().as_secs_f64() - excluded;
            let length = p.bounds.length().num_milliseconds() as f64 / 1000.0 - excluded;
            allowed * length - (1.0 - r.sli?) * elapsed
        }
        None => r.error_budget_remaining? * allowed * r.window.as_secs_f64(),
    };
    Some(left).filter(|v| v.is_finite())
}

/// One step of a launch timeline as every output lists it: launch, each
/// checkpoint, and "now" in its place.
#[derive(Debug, Clone, PartialEq)]
pub struct Milestone {
    /// `T0`, `T+24h` or `now`.
    pub label: String,
    pub at: DateTime<Utc>,
    /// A checkpoint's state (`None` for launch and now).
    pub state: Option<State>,
    /// What to know: the score and its explanation, or when it is due.
    pub text: String,
}

/// The launch timeline in time order, with `now` placed among the checkpoints.
pub fn milestones(t: &LaunchStatus, now: DateTime<Utc>) -> Vec<Milestone> {
    let mut out = vec![Milestone {
        label: "T0".into(),
        at: t.at,
        state: None,
        text: "launch".into(),
    }];
    for c in &t.checkpoints {
        let text = if c.state == State::Pending {
            due_text(c.due, now)
        } else {
            let not_ready: Vec<String> = c
                .results
                .iter()
                .filter(|r| !r.ready)
                .map(|r| format!("{} ({})", result_name(r), r.state.as_str()))
                .collect();
            let mut text = format!(
                "score {}/100: {}",
                score_text(c.score),
                score_explanation(&c.results)
            );
            if !not_ready.is_empty() {
                text.push_str(&format!("; not ready: {}", not_ready.join(", ")));
            }
            text
        };
        out.push(Milestone {
            label: format!("T+{}", c.name),
            at: c.due,
            state: Some(c.state),
            text,
        });
    }
    let place = out.iter().position(|m| m.at > now).unwrap_or(out.len());
    out.insert(
        place,
        Milestone {
            label: "now".into(),
            at: now,
            state: None,
            text: String::new(),
        },
    );
    out
}

/// RFC 3339 with seconds, as every output writes times.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Whether the key results holding readiness back (at least one) are all unknown.
fn unjudged<'r>(results: impl Iterator<Item = &'r SloResult>) -> bool {
    let mut blocking = results.filter(|x| x.key && !x.ready).peekable();
    blocking.peek().is_some() && blocking.all(|x| x.state == State::Unknown)
}

/// A 0-1 score as 0-100 with one decimal, or `-`.
pub fn score_text(score: Option<f64>) -> String {
    score.map_or("-".into(), |s| format!("{:.1}", s * 100.0))
}

fn score_json(score: Option<f64>) -> Value {
    num(score.map(|s| (s * 1000.0).round() / 10.0))
}

/// A number for JSON: non-finite values and `None` become `null`, never NaN.
fn num(v: Option<f64>) -> Value {
    v.filter(|v| v.is_finite())
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

fn result_json(r: &SloResult, since: Option<DateTime<Utc>>) -> Value {
    let burn: Map<String, Value> = r
        .burn_rates
        .iter()
        .map(|(w, b)| (w.to_string(), num(*b)))
        .collect();
    let latency = r.latency_seconds.as_ref().map_or(Value::Null, |windows| {
        Value::Object(
            windows
                .iter()
                .enumerate()
                .map(|(i, (w, qs))| {
                    // The judged window comes last (see `quantile_windows`).
                    let name = if i + 1 == windows.len() {
                        r.window_name.clone()
                    } else {
                        w.to_string()
                    };
                    let qs = qs.iter().map(|(q, v)| (q.to_string(), num(*v))).collect();
                    (name, Value::Object(qs))
                })
                .collect(),
        )
    });
    let probe = r.kind.is_probe();
    let mut doc = json!({
        "slo": r.slo,
        "kind": r.kind,
        "service": r.service,
        "labels": r.labels(),
        "objective": num(r.objective),
        "window": r.window_name,
        "datasource": r.datasource.as_deref().unwrap_or(DEFAULT_DATASOURCE),
        "sli": num(r.sli),
        "events": num(r.events),
        "error_budget_remaining": num(r.error_budget_remaining),
        "error_budget_remaining_events": num(budget_left_events(r)),
        "burn_rates": if probe { Value::Null } else { Value::Object(burn) },
        "latency_seconds": latency,
        "value": num(r.value),
        "state": r.state.as_str(),
        "ready": r.ready,
        "key": r.key,
        "runbook_url": r.runbook_url,
        "reason": r.reason,
        "queries": &*r.queries,
    });
    if r.kind == SliKind::Uptime {
        doc["error_budget_remaining_seconds"] = num(budget_left_seconds(r));
    }
    if let Some(since) = since {
        doc["state_since"] = Value::from(time(since));
    }
    if !r.exclusions.is_empty() {
        doc["exclusions"] = r
            .exclusions
            .iter()
            .map(|e| json!({"start": time(e.start), "end": time(e.end), "reason": e.reason}))
            .collect();
        doc["excluded_events"] = match r.excluded {
            Some((bad, total)) => json!({"bad": num(Some(bad)), "total": num(Some(total))}),
            None => Value::Null,
        };
    }
    if let Some(p) = &r.period {
        let (day, days) = p.day_of();
        doc["period"] = json!({
            "calendar": p.calendar.period.as_str(),
            "timezone": p.calendar.tz.name(),
            "start": time(p.bounds.start),
            "end": time(p.bounds.end),
            "elapsed_ratio": num(Some(p.bounds.elapsed_ratio())),
            "day": day,
            "days": days,
            "projected_sli": num(p.projected_sli),
        });
    }
    if let Some(c) = &r.baseline {
        doc["baseline"] = json!({
            "at": time(c.at),
            "then": c.then,
            "now": c.now,
            "change": c.change,
            "regression": !c.regressions.is_empty(),
            "regressions": c.regressions,
        });
    }
    doc
}

fn checkpoint_json(c: &Checkpoint) -> Value {
    json!({
        "checkpoint": c.name,
        "due": time(c.due),
        "state": c.state.as_str(),
        "score": score_json(c.score),
        "score_explanation": score_explanation(&c.results),
        "results": c.results.iter().map(|x| result_json(x, None)).collect::<Vec<_>>(),
    })
}

/// SPEC's `check --output json` document.
pub fn status_json(r: &Report<'_>) -> Value {
    let results: Vec<Value> = r
        .results
        .iter()
        .map(|x| result_json(x, r.state_since(x)))
        .collect();
    let mut doc = json!({
        "evaluated_at": time(r.evaluated_at),
        "verdict": r.verdict(),
        "ready": r.readiness.ready,
        "prometheus_up": r.prometheus_up,
        "datasources": r.datasources,
        "score": score_json(r.shown_score()),
        "score_explanation": if r.verdict() == "UNKNOWN" {
            "the key SLOs could not be judged".to_string()
        } else {
            score_explanation(r.results)
        },
        "services": r.readiness.services,
        "results": results,
        "cost": {
            "queries": r.cost.queries,
            "samples": r.cost.samples,
            "prometheus_eval_seconds": num(r.cost.prometheus_eval_seconds),
        },
    });
    if let Some(reads) = r.windows_read_at.filter(|m| !m.is_empty()) {
        let reads: Map<String, Value> = reads
            .iter()
            .map(|(w, t)| (w.to_string(), Value::from(time(*t))))
            .collect();
        doc["windows_read_at"] = Value::Object(reads);
    }
    let mut launch = Map::new();
    if let Some(t) = r.timeline {
        launch.insert("at".into(), Value::from(time(t.at)));
        launch.insert(
            "checkpoints".into(),
            t.checkpoints.iter().map(checkpoint_json).collect(),
        );
    }
    if let Some(l) = &r.launch {
        launch.insert("at".into(), Value::from(time(l.at)));
        launch.insert("checkpoint".into(), Value::from(l.checkpoint.clone()));
        launch.insert("due".into(), Value::from(time(l.due)));
        launch.insert("state".into(), Value::from(l.state.as_str()));
        launch.insert("score".into(), score_json(l.score));
        if l.state == State::Pending {
            let left = (l.due - r.now).num_seconds().max(0);
            launch.insert("due_in_seconds".into(), Value::from(left));
        }
    }
    if !launch.is_empty() {
        doc["launch"] = Value::Object(launch);
    }
    doc
}

/// A ratio as a percentage by the one rule every output follows
/// ([`crate::slo::number::shown_percent`]), or `-`.
pub fn pct(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map_or("-".into(), crate::slo::number::shown_percent)
}

/// A plain number, or `-`.
pub fn plain(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite()).map_or("-".into(), short_number)
}

/// Seconds as milliseconds (`184ms`), or `-`.
pub fn millis(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map_or("-".into(), |s| format!("{}ms", short_number(s * 1000.0)))
}

/// The burn rate people read first (over 1h, the window pages look at first).
pub fn burn_shown(r: &SloResult) -> Option<f64> {
    let shown = shown_window();
    r.burn_rates
        .iter()
        .find(|(w, _)| *w == shown)
        .and_then(|(_, b)| *b)
}

/// The p95 estimate of a latency SLO over the window shown to people (1h, or
/// the judged window when that is shorter), and that window.
pub fn p95(r: &SloResult) -> Option<(PromDuration, Option<f64>)> {
    let windows = r.latency_seconds.as_ref()?;
    let (window, qs) = windows
        .iter()
        .find(|(w, _)| *w == SHOWN_QUANTILE_WINDOW)
        .or_else(|| windows.last())?;
    let v = qs
        .iter()
        .find(|(q, _)| *q == QUANTILES[0])
        .and_then(|(_, v)| *v);
    Some((*window, v))
}

/// A calendar SLO's place in its period, after its SLI:
/// `(day 12 of 31, Europe/Berlin); projected 99.93% at month end`.
fn period_place(r: &SloResult) -> Option<(&'static str, String)> {
    let p = r.period.as_ref()?;
    let (day, days) = p.day_of();
    let period = p.calendar.period.as_str();
    let zone = if p.calendar.tz == chrono_tz::Tz::UTC {
        String::new()
    } else {
        format!(", {}", p.calendar.tz.name())
    };
    let projected = p.projected_sli.map_or(String::new(), |v| {
        format!("; projected {} at {period} end", pct(Some(v)))
    });
    Some((period, format!("(day {day} of {days}{zone}){projected}")))
}

/// `SLI month-to-date 99.95% (day 12 of 31, Europe/Berlin); projected 99.93% at
/// month end`, for calendar SLOs.
pub fn period_words(r: &SloResult) -> Option<String> {
    let (period, place) = period_place(r)?;
    Some(format!("SLI {period}-to-date {} {place}", pct(r.sli)))
}

/// [`period_words`] after the SLI itself (the Markdown report's cell):
/// `month-to-date (day 12 of 31, Europe/Berlin); projected 99.93% at month end`.
pub fn period_after_sli(r: &SloResult) -> Option<String> {
    let (period, place) = period_place(r)?;
    Some(format!("{period}-to-date {place}"))
}

/// The exclusions a result's window leaves out, for people:
/// `leaves out 2026-11-05T10:00Z to 2026-11-05T20:00Z (database migration): 60000 events, 48000 bad`.
pub fn exclusion_words(r: &SloResult) -> Option<String> {
    if r.exclusions.is_empty() {
        return None;
    }
    // A recurring exclusion touches a 30d window 30 times: more than three
    // spans are summed up.
    let spans: Vec<String> = match r.exclusions.as_slice() {
        [first, .., last] if r.exclusions.len() > 3 => {
            let mut reasons: Vec<&str> = r.exclusions.iter().map(|e| e.reason.as_str()).collect();
            reasons.sort_unstable();
            reasons.dedup();
            vec![format!(
                "{} spans from {} to {} ({})",
                r.exclusions.len(),
                minute(first.start),
                minute(last.end),
                reasons.join("; ")
            )]
        }
        all => all
            .iter()
            .map(|e| format!("{} to {} ({})", minute(e.start), minute(e.end), e.reason))
            .collect(),
    };
    let counted = r.excluded.map_or(String::new(), |(bad, total)| {
        format!(
            ": {} events, {} bad",
            short_number(total),
            short_number(bad)
        )
    });
    Some(format!("leaves out {}{counted}", spans.join(", ")))
}

/// `p95 (1h) 184ms`, or `-` for SLOs without latency.
pub fn p95_text(r: &SloResult) -> String {
    match p95(r) {
        Some((w, Some(v))) => format!("{} ({w})", millis(Some(v))),
        _ => "-".into(),
    }
}

/// The SLO's name as tables show it: `availability`, or `availability @vm` when
/// it is read from a named datasource.
pub fn slo_name(r: &SloResult) -> String {
    match &r.datasource {
        Some(d) => format!("{} @{d}", r.slo),
        None => r.slo.clone(),
    }
}

/// A human name for a result's group: the service, plus any further group labels.
pub fn group_name(r: &SloResult) -> String {
    let service = r.service.clone().unwrap_or_else(|| "-".into());
    let extra: Vec<String> = r
        .group
        .iter()
        .filter(|(k, v)| k.as_str() != "service" && Some(*v) != r.service.as_ref())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if extra.is_empty() {
        service
    } else {
        format!("{service} {{{}}}", extra.join(","))
    }
}

/// `check`'s exit code: 0 pass/warn, 1 any fail, 2 any unknown, insufficient data
/// or pending (and no fail).
pub fn exit_code(results: &[SloResult]) -> u8 {
    if results.iter().any(|r| r.state == State::Fail) {
        1
    } else if results.is_empty() || results.iter().any(|r| !r.state.is_ready()) {
        2
    } else {
        0
    }
}

/// A state with a mark a person sees at once.
pub fn mark(state: State) -> &'static str {
    match state {
        State::Pass => "✅",
        State::Warn => "⚠️",
        State::Fail => "❌",
        // Not a question mark: that is `unknown`, a different answer.
        State::InsufficientData => "⚪",
        State::Unknown => "❓",
        State::Pending => "⏳",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::snapshot;

    /// A calendar uptime SLO's downtime left: the period's allowance and the
    /// downtime so far, both over the time not excluded.
    #[test]
    fn calendar_downtime_left_leaves_excluded_time_out() {
        use crate::slo::calendar::{Bounds, Calendar, Period};
        use crate::slo::exclusion::Exclusion;
        let t = crate::slo::exclusion::utc;
        let mut r = snapshot::example().results[0].clone();
        r.kind = SliKind::Uptime;
        r.objective = Some(0.999);
        r.sli = Some(0.9995);
        r.period = Some(crate::eval::PeriodStatus {
            calendar: Calendar {
                period: Period::Month,
                tz: chrono_tz::Tz::UTC,
            },
            bounds: Bounds {
                start: t("2026-04-01T00:00:00Z"),
                end: t("2026-05-01T00:00:00Z"),
                at: t("2026-04-11T00:00:00Z"),
            },
            projected_sli: None,
        });
        let day = 86_400.0;
        let left = budget_left_seconds(&r).expect("uptime");
        let want = 0.001 * 30.0 * day - 0.0005 * 10.0 * day;
        assert!((left - want).abs() < 1e-6, "{left} vs {want}");
        // One day of the ten excluded (the part before the period is not).
        r.exclusions = vec![Exclusion {
            start: t("2026-03-31T00:00:00Z"),
            end: t("2026-04-02T00:00:00Z"),
            reason: "migration".into(),
        }];
        let left = budget_left_seconds(&r).expect("uptime");
        let want = 0.001 * 29.0 * day - 0.0005 * 9.0 * day;
        assert!((left - want).abs() < 1e-6, "{left} vs {want}");
    }

    #[test]
    fn spans_round_up_into_the_next_unit() {
        assert_eq!(span(68_400), "19h");
        assert_eq!(span(68_399), "19h");
        assert_eq!(span(86_399), "1d");
        assert_eq!(span(90), "1m 30s");
        assert_eq!(span(30), "30s");
        assert_eq!(span(3_439_080), "39d 20h");
    }

    /// Each state has its own mark; in particular no data is not a question.
    #[test]
    fn every_state_has_a_distinct_mark() {
        let states = [
            State::Pass,
            State::Warn,
            State::Fail,
            State::InsufficientData,
            State::Unknown,
            State::Pending,
        ];
        let marks: std::collections::BTreeSet<&str> = states.iter().map(|s| mark(*s)).collect();
        assert_eq!(marks.len(), states.len());
        assert_eq!(mark(State::InsufficientData), "⚪");
        assert_eq!(mark(State::Unknown), "❓");
    }

    /// Prometheus unreachable: the headline says UNKNOWN, not NOT READY (which
    /// reads as a regression), and the failure naming the datasource is printed
    /// once instead of on every row.
    #[test]
    fn an_unreachable_prometheus_is_unknown_and_named_once() {
        let failure =
            "query failed: cannot reach Prometheus at http://127.0.0.1:1: connection refused";
        let mut s = snapshot::example();
        for r in &mut s.results {
            (r.state, r.ready, r.reason) = (State::Unknown, false, failure.to_string());
        }
        s.readiness = eval::roll_up(&s.results);
        s.run.prometheus_up = false;
        let report = Report::of_snapshot(&s);
        assert_eq!(report.verdict(), "UNKNOWN");
        assert_eq!(report.service_verdict("search"), "unknown");
        let table = table(&report);
        assert_eq!(table.matches("http://127.0.0.1:1").count(), 1, "{table}");
        assert!(
            table.contains("❓ unknown\n    ↳ query failed (see below)\n"),
            "{table}"
        );
        assert!(
            table.ends_with(&format!(
                "prometheus UNREACHABLE\nservices: checkout=unknown platform=unknown search=unknown\n{failure}\nUNKNOWN (no score: the key SLOs could not be judged)\n"
            )),
            "{table}"
        );
        let md = markdown(&report, &Trends::new());
        assert!(
            md.contains("**UNKNOWN** (no score: the key SLOs could not be judged) · evaluated"),
            "{md}"
        );
        assert_eq!(md.matches("http://127.0.0.1:1").count(), 1, "{md}");
        assert!(md.contains("## search ❓ unknown"), "{md}");
        // One failed key SLO among unknown ones is a real NOT READY.
        s.results[0].state = State::Fail;
        assert_eq!(Report::of_snapshot(&s).verdict(), "NOT READY");
    }

    #[test]
    fn json_table_markdown_and_junit_agree_on_the_verdicts() {
        let s = snapshot::example();
        let report = Report::of_snapshot(&s);
        let doc = status_json(&report);
        assert_eq!(doc["ready"], false);
        assert_eq!(doc["services"]["checkout"], true);
        let search = &doc["results"][1];
        assert_eq!(
            (&search["service"], &search["state"], &search["window"]),
            (
                &Value::from("search"),
                &Value::from("fail"),
                &Value::from("30d")
            )
        );
        assert_eq!(search["error_budget_remaining"], -9.0);
        assert_eq!(
            doc["results"][2]["burn_rates"],
            Value::Null,
            "a probe has no burn"
        );
        let table = table(&report);
        assert!(
            table.starts_with("SERVICE   SLO           KEY  OBJECTIVE  SLI 30d  BUDGET  BURN 1h  P95 / LIMIT  EVENTS  STATE\n\
                               checkout  availability  yes      99.9%     100%    100%        0            -    100k  ✅ pass\n"),
            "{table}"
        );
        assert!(
            table.contains("CHECKLIST\n  [ ] ❌ backups  fail (value 90000 is not < 86400)\n"),
            "{table}"
        );
        assert!(
            table.ends_with("NOT READY (score 0.0/100: vetoed by availability/search, backups/platform, key SLOs)\n"),
            "{table}"
        );
        let md = markdown(&report, &Trends::new());
        assert!(md.contains("## search ❌ not ready"), "{md}");
        assert!(
            md.contains("- [ ] ❌ **backups**: value 90000 is not < 86400"),
            "{md}"
        );
        assert_eq!(
            doc["cost"],
            serde_json::json!({"queries": 9, "samples": 12345, "prometheus_eval_seconds": 0.004})
        );
        let xml = junit(&report);
        assert!(xml.contains("tests=\"3\" failures=\"2\""), "{xml}");
        assert_eq!(exit_code(report.results), 1);
    }
}
