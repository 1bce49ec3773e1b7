//! Renders an evaluation for people and programs: SPEC's JSON (shared by
//! `check --output json` and `/api/v1/status`), the terminal table, the Markdown
//! launch report and JUnit XML.

mod junit;
mod markdown;
mod table;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

pub use junit::junit;
pub use markdown::{markdown, Trends};
pub use table::table;

use crate::eval::snapshot::{Checkpoint, LaunchStatus, Snapshot};
use crate::eval::{self, short_number, Readiness, SloResult, State, QUERY_FAILED};
use crate::slo::promql::{QUANTILES, SHOWN_QUANTILE_WINDOW};
use crate::slo::{shown_window, PromDuration};

/// The launch checkpoint a report is about.
#[derive(Debug, Clone)]
pub struct LaunchView {
    pub at: DateTime<Utc>,
    pub checkpoint: String,
    pub state: State,
    pub score: Option<f64>,
}

/// What every renderer reads: one evaluation (now, or of a launch checkpoint).
#[derive(Debug, Clone)]
pub struct Report<'a> {
    pub evaluated_at: DateTime<Utc>,
    pub results: &'a [SloResult],
    pub readiness: Readiness,
    pub prometheus_up: bool,
    pub score: Option<f64>,
    pub launch: Option<LaunchView>,
    /// Checkpoints of the launch, for the status API and page.
    pub timeline: Option<&'a LaunchStatus>,
    /// What the evaluation cost Prometheus.
    pub cost: Cost,
    /// When each window was last read (long windows are reused for a while).
    pub windows_read_at: Option<&'a BTreeMap<PromDuration, DateTime<Utc>>>,
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
    /// The report of a regular evaluation.
    pub fn of_snapshot(s: &'a Snapshot) -> Self {
        Self {
            evaluated_at: s.run.at,
            results: &s.results,
            readiness: s.readiness.clone(),
            prometheus_up: s.run.prometheus_up,
            score: s.score,
            launch: None,
            timeline: s.launch.as_ref(),
            cost: Cost {
                queries: s.run.queries_sent,
                samples: s.run.samples_read,
                prometheus_eval_seconds: s.run.prometheus_eval_seconds,
            },
            windows_read_at: Some(&s.run.windows_read_at),
        }
    }

    /// The report of one launch checkpoint.
    pub fn of_checkpoint(c: &'a Checkpoint, launch_at: DateTime<Utc>) -> Self {
        Self {
            evaluated_at: c.due,
            results: &c.results,
            readiness: eval::roll_up(&c.results),
            prometheus_up: c.prometheus_up,
            score: c.score,
            launch: Some(LaunchView {
                at: launch_at,
                checkpoint: c.name.clone(),
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
        }
    }

    /// The headline: `READY`; `UNKNOWN` when nothing failed but the key SLOs
    /// holding readiness back could not be judged (Prometheus unreachable, a
    /// query refused): a launch lead must not read "not ready" as "regressed";
    /// else `NOT READY`.
    pub fn verdict(&self) -> &'static str {
        if self.readiness.ready {
            "READY"
        } else if unjudged(self.results.iter()) {
            "UNKNOWN"
        } else {
            "NOT READY"
        }
    }

    /// A service's verdict as [`Report::verdict`] words it, lower case; `-`
    /// (as [`Report::by_service`] names it) is the results without a service.
    pub fn service_verdict(&self, service: &str) -> &'static str {
        let service = if service == "-" { "" } else { service };
        let name = |x: &&SloResult| x.service.as_deref().unwrap_or_default() == service;
        if self
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

fn result_json(r: &SloResult) -> Value {
    let burn: Map<String, Value> = r
        .burn_rates
        .iter()
        .map(|(w, b)| (w.to_string(), num(*b)))
        .collect();
    let latency = r.latency_seconds.as_ref().map_or(Value::Null, |windows| {
        Value::Object(
            windows
                .iter()
                .map(|(w, qs)| {
                    let name = if *w == r.window {
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
    json!({
        "slo": r.slo,
        "kind": r.kind,
        "service": r.service,
        "labels": r.labels(),
        "objective": num(r.objective),
        "window": r.window_name,
        "sli": num(r.sli),
        "events": num(r.events),
        "error_budget_remaining": num(r.error_budget_remaining),
        "burn_rates": if probe { Value::Null } else { Value::Object(burn) },
        "latency_seconds": latency,
        "value": num(r.value),
        "state": r.state.as_str(),
        "ready": r.ready,
        "key": r.key,
        "runbook_url": r.runbook_url,
        "reason": r.reason,
        "queries": &*r.queries,
    })
}

/// SPEC's `check --output json` document.
pub fn status_json(r: &Report<'_>) -> Value {
    let mut doc = json!({
        "evaluated_at": time(r.evaluated_at),
        "ready": r.readiness.ready,
        "prometheus_up": r.prometheus_up,
        "score": score_json(r.score),
        "services": r.readiness.services,
        "results": r.results.iter().map(result_json).collect::<Vec<_>>(),
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
    if let Some(l) = &r.launch {
        doc["launch"] = json!({
            "at": time(l.at),
            "checkpoint": l.checkpoint,
            "state": l.state.as_str(),
            "score": score_json(l.score),
        });
    }
    if let Some(t) = r.timeline {
        doc["launch"] = json!({
            "at": time(t.at),
            "checkpoints": t.checkpoints.iter().map(|c| json!({
                "checkpoint": c.name,
                "due": time(c.due),
                "state": c.state.as_str(),
                "score": score_json(c.score),
                "results": c.results.iter().map(result_json).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
    }
    doc
}

/// A ratio as a percentage with up to 3 decimals, or `-`.
pub fn pct(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map_or("-".into(), |v| crate::slo::number::percent(v, 3))
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

/// `p95 (1h) 184ms`, or `-` for SLOs without latency.
pub fn p95_text(r: &SloResult) -> String {
    match p95(r) {
        Some((w, Some(v))) => format!("{} ({w})", millis(Some(v))),
        _ => "-".into(),
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
            table.contains("unknown  query failed (see below)\n"),
            "{table}"
        );
        assert!(
            table.ends_with(&format!(
                "services: checkout=unknown platform=unknown search=unknown\n{failure}\nUNKNOWN (no score: the key SLOs could not be judged)\n"
            )),
            "{table}"
        );
        let md = markdown(&report, &Trends::new());
        assert!(md.contains("**UNKNOWN** · no score"), "{md}");
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
            table.starts_with("SERVICE   SLO           KIND   "),
            "{table}"
        );
        assert!(
            table.contains("CHECKLIST\n  [ ] ❌ backups  fail (value 90000 is not < 86400)\n"),
            "{table}"
        );
        assert!(table.ends_with("NOT READY (score 0.0/100)\n"), "{table}");
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
