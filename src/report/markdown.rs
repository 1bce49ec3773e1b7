//! The Markdown readiness report of a launch review: a table per service, the reason
//! of every non-pass, a burn-rate sparkline per SLO, and probes as a checklist.

use super::{burn_shown, mark, pct, plain, score_text, time, Report};
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
    let measured = if r.latency_seconds.is_some() {
        format!("{} (p95 {})", pct(r.sli), super::p95_text(r))
    } else {
        pct(r.sli)
    };
    let reason = if r.state == State::Pass {
        String::new()
    } else {
        cell(reason)
    };
    format!(
        "| {} | {} | {} | {} | {} | {} | {} {} | {} |\n",
        cell(&r.slo),
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

/// The report as Markdown.
pub fn markdown(r: &Report<'_>, trends: &Trends) -> String {
    let mut out = String::from("# slogate readiness report\n\n");
    let score = match r.verdict() {
        "UNKNOWN" => "no score (the key SLOs could not be judged)".to_string(),
        _ => format!("score {}/100", score_text(r.score)),
    };
    out.push_str(&format!(
        "**{}** · {score} · evaluated at {} · Prometheus {}\n",
        r.verdict(),
        time(r.evaluated_at),
        if r.prometheus_up {
            "up"
        } else {
            "**unreachable**"
        }
    ));
    if let Some(failure) = r.common_failure() {
        out.push_str(&format!("\n> {}\n", cell(failure)));
    }
    if let Some(l) = &r.launch {
        out.push_str(&format!(
            "\nLaunch at {}: checkpoint **{}** is {} **{}** (the window from launch to launch + {}).\n",
            time(l.at),
            l.checkpoint,
            mark(l.state),
            l.state.as_str(),
            l.checkpoint
        ));
    }
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
            "\n## {} {}\n\n| SLO | objective | measured | error budget | burn {} | burn trend | state | reason |\n\
             | --- | ---: | ---: | ---: | ---: | --- | --- | --- |\n",
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
                "- [{}] {} **{}**: {}\n",
                if p.ready { "x" } else { " " },
                mark(p.state),
                cell(&p.slo),
                cell(r.reason_of(p))
            ));
        }
    }
    out
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
