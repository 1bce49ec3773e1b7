//! Renders a snapshot for people and programs: SPEC's JSON (shared by
//! `check --output json` and `/api/v1/status`) and the terminal table.

use serde_json::{json, Map, Value};

use crate::eval::{short_number, SloResult};
use crate::scheduler::Snapshot;

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
    let latency = r.latency_seconds.as_ref().map_or(Value::Null, |qs| {
        Value::Object(qs.iter().map(|(q, v)| (q.to_string(), num(*v))).collect())
    });
    let probe = r.kind == "threshold";
    json!({
        "slo": r.slo,
        "kind": r.kind,
        "service": r.service,
        "labels": r.labels,
        "objective": num(r.objective),
        "window": r.window.to_string(),
        "sli": num(r.sli),
        "events": num(r.events),
        "error_budget_remaining": num(r.error_budget_remaining),
        "burn_rates": if probe { Value::Null } else { Value::Object(burn) },
        "latency_seconds": latency,
        "value": num(r.value),
        "state": r.state.as_str(),
        "ready": r.ready,
        "key": r.key,
        "reason": r.reason,
        "queries": r.queries,
    })
}

/// SPEC's `check --output json` document.
pub fn status_json(s: &Snapshot) -> Value {
    json!({
        "evaluated_at": s.evaluated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "ready": s.readiness.ready,
        "prometheus_up": s.prometheus_up,
        "services": s.readiness.services,
        "results": s.results.iter().map(result_json).collect::<Vec<_>>(),
    })
}

/// A ratio as a percentage with up to 3 decimals, or `-`.
pub fn pct(v: Option<f64>) -> String {
    match v.filter(|v| v.is_finite()) {
        Some(v) => {
            let text = format!("{:.3}", v * 100.0);
            format!("{}%", text.trim_end_matches('0').trim_end_matches('.'))
        }
        None => "-".into(),
    }
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

/// The burn rate over the hour, the window pages look at first.
pub fn burn_1h(r: &SloResult) -> Option<f64> {
    r.burn_rates
        .iter()
        .find(|(w, _)| w.as_millis() == 3_600_000)
        .and_then(|(_, b)| *b)
}

/// The p95 estimate of a latency SLO.
pub fn p95(r: &SloResult) -> Option<f64> {
    r.latency_seconds
        .as_ref()
        .and_then(|qs| qs.iter().find(|(q, _)| *q == "0.95"))
        .and_then(|(_, v)| *v)
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

/// The aligned terminal table of `check`.
pub fn table(s: &Snapshot) -> String {
    let header = [
        "SERVICE",
        "SLO",
        "KIND",
        "OBJECTIVE",
        "SLI/VALUE",
        "BUDGET",
        "BURN 1h",
        "P95",
        "EVENTS",
        "STATE",
        "REASON",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(ToString::to_string).collect()];
    let mut results: Vec<&SloResult> = s.results.iter().collect();
    results.sort_by_key(|r| (r.service.clone(), r.slo.clone(), group_name(r)));
    for r in results {
        rows.push(vec![
            group_name(r),
            r.slo.clone(),
            r.kind.to_string(),
            pct(r.objective),
            if r.kind == "threshold" {
                plain(r.value)
            } else {
                pct(r.sli)
            },
            pct(r.error_budget_remaining),
            plain(burn_1h(r)),
            millis(p95(r)),
            r.events
                .filter(|e| e.is_finite())
                .map_or("-".into(), |e| format!("{e:.0}")),
            r.state.as_str().to_string(),
            r.reason.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, w))| {
                if c + 1 == header.len() {
                    cell.clone()
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    let services: Vec<String> = s
        .readiness
        .services
        .iter()
        .map(|(name, ok)| {
            format!(
                "{}={}",
                if name.is_empty() { "-" } else { name },
                if *ok { "ready" } else { "NOT ready" }
            )
        })
        .collect();
    out.push_str(&format!(
        "\nevaluated at {}; prometheus {}; services: {}\n{}\n",
        s.evaluated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        if s.prometheus_up { "up" } else { "UNREACHABLE" },
        services.join(" "),
        if s.readiness.ready {
            "READY"
        } else {
            "NOT READY"
        }
    ));
    out
}

/// `check`'s exit code: 0 pass/warn, 1 any fail, 2 any unknown or insufficient data.
pub fn exit_code(s: &Snapshot) -> u8 {
    use crate::eval::State;
    if s.results.iter().any(|r| r.state == State::Fail) {
        1
    } else if s.results.is_empty() || s.results.iter().any(|r| !r.state.is_ready()) {
        2
    } else {
        0
    }
}
