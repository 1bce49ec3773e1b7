//! The Markdown readiness report of a launch review: a table per service, the reason
//! of every non-pass, a burn-rate sparkline per SLO, and probes as a checklist.

use super::{burn_shown, mark, milestones, minute, pct, plain, result_name, time, Report};
use crate::eval::snapshot::LaunchStatus;
pub use crate::eval::Trends;
use crate::eval::{SloResult, State};
use crate::slo::shown_window;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A text sparkline: the full bar is the highest burn, at least 1 (budget pace);
/// a step without traffic is a blank.
pub fn sparkline(values: &[Option<f64>]) -> String {
    let top = values.iter().flatten().copied().fold(1.0_f64, f64::max);
    values
        .iter()
        .map(|v| match v {
            Some(v) if v.is_finite() => BARS[((v.max(0.0) / top) * 7.0).round() as usize],
            _ => ' ',
        })
        .collect()
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn row(r: &SloResult, reason: &str, trends: &Trends) -> String {
    let trend = trends
        .get(&(r.slo.clone(), r.group.clone()))
        .map_or("-".to_string(), |v| format!("`{}`", sparkline(v)));
    let measured = measured(r);
    let mut reason = if r.state == State::Pass {
        String::new()
    } else {
        cell(reason)
    };
    if let Some(words) = super::exclusion_words(r) {
        if !reason.is_empty() {
            reason.push_str("; ");
        }
        reason.push_str(&cell(&words));
    }
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} {} | {} |\n",
        cell(&super::slo_name(r)),
        if r.key { "yes" } else { "no" },
        pct(r.objective),
        measured,
        pct(r.error_budget_remaining),
        plain(burn_shown(r)),
        trend,
        mark(r.state),
        r.state.as_str(),
        reason
    )
}

/// The SLI, with the p95 against its threshold for latency SLOs.
fn measured(r: &SloResult) -> String {
    let sli = measured_sli(r);
    match super::period_after_sli(r) {
        Some(words) => format!("{sli} {}", cell(&words)),
        None => sli,
    }
}

fn measured_sli(r: &SloResult) -> String {
    match (&r.latency_seconds, r.latency_threshold) {
        (Some(_), Some(limit)) => format!(
            "{} (p95 {} of {})",
            pct(r.sli),
            super::p95_text(r),
            super::millis(Some(limit.as_secs_f64()))
        ),
        (Some(_), None) => format!("{} (p95 {})", pct(r.sli), super::p95_text(r)),
        _ => pct(r.sli),
    }
}

/// The report as Markdown.
pub fn markdown(r: &Report<'_>, trends: &Trends) -> String {
    let mut out = String::from("# slogate readiness report\n\n");
    let headline = r.headline();
    out.push_str(&format!(
        "**{}**{} · evaluated at {} · Prometheus {}\n",
        r.verdict(),
        headline.strip_prefix(r.verdict()).unwrap_or_default(),
        time(r.evaluated_at),
        match r.datasource_words() {
            Some(words) => format!("datasources: {words}"),
            None if r.prometheus_up => "up".into(),
            None => "**unreachable**".into(),
        }
    ));
    if let Some(failure) = r.common_failure() {
        out.push_str(&format!("\n> {}\n", cell(failure)));
    }
    if let Some(l) = &r.launch {
        if l.state == State::Pending {
            out.push_str(&format!(
                "\nLaunch at {}: checkpoint **{}** judges every SLO over the window from launch to launch + {} once due.\n\n",
                time(l.at),
                l.checkpoint,
                l.checkpoint
            ));
            for x in r.results {
                out.push_str(&format!(
                    "- {} **{}** ({}{})\n",
                    mark(x.state),
                    cell(&x.slo),
                    x.kind,
                    if x.key { ", key" } else { "" }
                ));
            }
        } else {
            out.push_str(&format!(
                "\nLaunch at {}: checkpoint **{}** is {} **{}** (the window from launch to launch + {}).\n",
                time(l.at),
                l.checkpoint,
                mark(l.state),
                l.state.as_str(),
                l.checkpoint
            ));
        }
    }
    if r.pending().is_none() {
        services(&mut out, r, trends);
    }
    if let Some(t) = r.timeline {
        timeline(&mut out, r, t);
    }
    out
}

/// A table per service, then the checklist of probes.
fn services(out: &mut String, r: &Report<'_>, trends: &Trends) {
    for (service, results) in r.by_service() {
        let slos: Vec<&&SloResult> = results.iter().filter(|x| !x.kind.is_probe()).collect();
        if slos.is_empty() {
            continue;
        }
        let verdict = match r.service_verdict(&service) {
            "ready" => "✅ ready",
            "unknown" => "❓ unknown",
            _ => "❌ not ready",
        };
        out.push_str(&format!(
            "\n## {} {}\n\n| SLO | key | objective | measured | error budget | burn {} | burn trend | state | reason |\n\
             | --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- |\n",
            cell(&service),
            verdict,
            shown_window()
        ));
        for x in slos {
            out.push_str(&row(x, r.reason_of(x), trends));
        }
    }
    let probes: Vec<&SloResult> = r.results.iter().filter(|x| x.kind.is_probe()).collect();
    if !probes.is_empty() {
        out.push_str("\n## Checklist\n\n");
        for p in probes {
            out.push_str(&format!(
                "- [{}] {} **{}**{}: {}\n",
                if p.ready { "x" } else { " " },
                mark(p.state),
                cell(&p.slo),
                if p.key { "" } else { " (non-key)" },
                cell(r.reason_of(p))
            ));
        }
    }
}

/// The launch timeline, then a table per checkpoint already judged.
fn timeline(out: &mut String, r: &Report<'_>, t: &LaunchStatus) {
    out.push_str(
        "\n## Launch timeline\n\n| step | time (UTC) | state | |\n| --- | --- | --- | --- |\n",
    );
    for m in milestones(t, r.now) {
        let state = m
            .state
            .map_or(String::new(), |s| format!("{} {}", mark(s), s.as_str()));
        let label = if m.label == "now" {
            "**now**".to_string()
        } else {
            m.label.clone()
        };
        out.push_str(&format!(
            "| {label} | {} | {state} | {} |\n",
            minute(m.at),
            cell(&m.text)
        ));
    }
    for c in t.checkpoints.iter().filter(|c| c.state != State::Pending) {
        out.push_str(&format!(
            "\n### T+{} {} {}\n\n| SLO | key | objective | measured | error budget | state | reason |\n\
             | --- | --- | ---: | ---: | ---: | --- | --- |\n",
            c.name,
            mark(c.state),
            c.state.as_str()
        ));
        for x in &c.results {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} {} | {} |\n",
                cell(&result_name(x)),
                if x.key { "yes" } else { "no" },
                if x.kind.is_probe() {
                    "-".into()
                } else {
                    pct(x.objective)
                },
                if x.kind.is_probe() {
                    plain(x.value)
                } else {
                    measured(x)
                },
                pct(x.error_budget_remaining),
                mark(x.state),
                x.state.as_str(),
                if x.state == State::Pass {
                    String::new()
                } else {
                    cell(&x.reason)
                }
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_the_peak_and_leaves_gaps_blank() {
        assert_eq!(
            sparkline(&[Some(0.0), Some(10.0), None, Some(20.0)]),
            "▁▅ █"
        );
        // Under budget pace the bars stay low: 1 is the floor of the scale.
        assert_eq!(sparkline(&[Some(0.0), Some(0.5), Some(1.0)]), "▁▅█");
    }
}
