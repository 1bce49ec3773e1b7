//! The aligned terminal table of `check`, with probes repeated as a checklist.

use super::{burn_shown, group_name, mark, p95_text, pct, plain, score_text, time, Report};
use crate::eval::SloResult;
use crate::slo::shown_window;

fn align(rows: &[Vec<String>]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, w))| {
                if c + 1 == columns {
                    cell.clone()
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The aligned terminal table of `check`.
pub fn table(r: &Report<'_>) -> String {
    let burn = format!("BURN {}", shown_window());
    let header = [
        "SERVICE",
        "SLO",
        "KIND",
        "OBJECTIVE",
        "SLI/VALUE",
        "BUDGET",
        &burn,
        "P95 (WINDOW)",
        "EVENTS",
        "STATE",
        "REASON",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(ToString::to_string).collect()];
    let mut results: Vec<&SloResult> = r.results.iter().collect();
    results.sort_by_key(|x| (x.service.clone(), x.slo.clone(), group_name(x)));
    rows.extend(results.iter().map(|x| row(x, r.reason_of(x))));
    let mut out = align(&rows);
    out.push_str(&checklist(r, &results));
    out.push_str(&footer(r));
    out
}

fn row(x: &SloResult, reason: &str) -> Vec<String> {
    vec![
        group_name(x),
        x.slo.clone(),
        x.kind.to_string(),
        pct(x.objective),
        if x.kind.is_probe() {
            plain(x.value)
        } else {
            pct(x.sli)
        },
        pct(x.error_budget_remaining),
        plain(burn_shown(x)),
        p95_text(x),
        x.events
            .filter(|e| e.is_finite())
            .map_or("-".into(), |e| format!("{e:.0}")),
        x.state.as_str().to_string(),
        reason.to_string(),
    ]
}

/// Probes again, as a checklist.
fn checklist(r: &Report<'_>, results: &[&SloResult]) -> String {
    let mut out = String::new();
    let probes: Vec<&&SloResult> = results.iter().filter(|x| x.kind.is_probe()).collect();
    if !probes.is_empty() {
        out.push_str("\nCHECKLIST\n");
        for p in probes {
            let tick = if p.ready { "[x]" } else { "[ ]" };
            out.push_str(&format!(
                "  {tick} {} {}  {} ({})\n",
                mark(p.state),
                p.slo,
                p.state.as_str(),
                r.reason_of(p)
            ));
        }
    }
    out
}

/// When, against what, which services are ready, and the verdict.
fn footer(r: &Report<'_>) -> String {
    let mut out = String::new();
    let services: Vec<String> = r
        .readiness
        .services
        .keys()
        .map(|name| {
            let verdict = match r.service_verdict(name) {
                "not ready" => "NOT ready",
                v => v,
            };
            format!("{}={verdict}", if name.is_empty() { "-" } else { name })
        })
        .collect();
    out.push_str(&format!(
        "\nevaluated at {}; prometheus {}; services: {}\n",
        time(r.evaluated_at),
        if r.prometheus_up { "up" } else { "UNREACHABLE" },
        services.join(" "),
    ));
    if let Some(failure) = r.common_failure() {
        out.push_str(&format!("{failure}\n"));
    }
    if let Some(l) = &r.launch {
        out.push_str(&format!(
            "launch {} checkpoint {}: {}\n",
            time(l.at),
            l.checkpoint,
            l.state.as_str()
        ));
    }
    match r.verdict() {
        "UNKNOWN" => out.push_str("UNKNOWN (no score: the key SLOs could not be judged)\n"),
        verdict => out.push_str(&format!("{verdict} (score {}/100)\n", score_text(r.score))),
    }
    out
}
