//! The human status page: services x SLOs, coloured by state, readable at a glance.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::escape::markup as esc;
use crate::eval::snapshot::{LaunchStatus, Snapshot};
use crate::eval::{SloResult, State};
use crate::report::{burn_shown, group_name, p95_text, pct, plain, score_text, time};
use crate::slo::shown_window;

fn colour(state: State) -> &'static str {
    match state {
        State::Pass => "#1a7f37",
        State::Warn => "#bf8700",
        State::Fail => "#cf222e",
        State::InsufficientData => "#6e7781",
        State::Unknown => "#8250df",
        State::Pending => "#0969da",
    }
}

fn cell(r: &SloResult) -> String {
    let main = if r.kind.is_probe() {
        format!("value {}", plain(r.value))
    } else {
        format!("SLI {} / {}", pct(r.sli), pct(r.objective))
    };
    let mut details = Vec::new();
    if !r.kind.is_probe() {
        details.push(format!("budget {}", pct(r.error_budget_remaining)));
        details.push(format!("burn {} {}", shown_window(), plain(burn_shown(r))));
    }
    if r.latency_seconds.is_some() {
        details.push(format!("p95 {}", p95_text(r)));
    }
    let runbook = r.runbook_url.as_deref().map_or(String::new(), |u| {
        format!(
            "<div class=\"small\"><a href=\"{}\">runbook</a></div>",
            esc(u)
        )
    });
    format!(
        "<td class=\"cell\" style=\"border-left:6px solid {c}\" title=\"{reason}\" data-state=\"{state}\">\
         <div class=\"state\" style=\"color:{c}\">{state}</div><div>{main}</div>\
         <div class=\"small\">{details}</div><div class=\"small reason\">{reason}</div>{runbook}</td>",
        c = colour(r.state),
        state = r.state.as_str(),
        main = esc(&main),
        details = esc(&details.join(" · ")),
        reason = esc(&r.reason),
    )
}

/// The launch timeline: launch time, then each checkpoint with its state, score
/// and what fails, or when it is due.
fn timeline(html: &mut String, l: &LaunchStatus) {
    let _ = write!(
        html,
        "<h2>Launch</h2><ol id=\"launch\" class=\"timeline\"><li><b>launch</b> {}</li>",
        time(l.at)
    );
    for c in &l.checkpoints {
        let failing: Vec<String> = c
            .results
            .iter()
            .filter(|r| !r.ready && r.state != State::Pending)
            .map(|r| {
                format!(
                    "{} {} ({})",
                    r.slo,
                    r.service.as_deref().unwrap_or("-"),
                    r.state.as_str()
                )
            })
            .collect();
        let detail = if c.state == State::Pending {
            format!("pending: due {}", time(c.due))
        } else if failing.is_empty() {
            format!(
                "score {}/100, judged as of {}",
                score_text(c.score),
                time(c.due)
            )
        } else {
            format!(
                "score {}/100; not ready: {}",
                score_text(c.score),
                failing.join(", ")
            )
        };
        let _ = write!(
            html,
            "<li class=\"checkpoint\" data-checkpoint=\"{after}\" data-state=\"{state}\">\
             <b>T+{after}</b> <span class=\"pill\" style=\"background:{c}\">{state}</span> \
             <span class=\"small\">{detail}</span></li>",
            after = c.name,
            state = c.state.as_str(),
            c = colour(c.state),
            detail = esc(&detail),
        );
    }
    html.push_str("</ol>");
}

/// The whole page.
pub fn render(s: &Snapshot) -> String {
    let slos: BTreeSet<&str> = s.results.iter().map(|r| r.slo.as_str()).collect();
    let mut rows: BTreeMap<String, BTreeMap<&str, Vec<&SloResult>>> = BTreeMap::new();
    for r in &s.results {
        rows.entry(group_name(r))
            .or_default()
            .entry(r.slo.as_str())
            .or_default()
            .push(r);
    }
    let mut html = String::new();
    let verdict = if s.readiness.ready {
        ("READY", "#1a7f37")
    } else {
        ("NOT READY", "#cf222e")
    };
    let _ = write!(
        html,
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"30\">\
         <title>slogate: {v}</title><style>\
         body{{font-family:system-ui,sans-serif;margin:24px;color:#1f2328}}\
         table{{border-collapse:collapse}}td,th{{padding:8px 10px;border:1px solid #d0d7de;vertical-align:top}}\
         th{{background:#f6f8fa;text-align:left}}.state{{font-weight:700;text-transform:uppercase}}\
         .small{{font-size:12px;color:#57606a}}.reason{{max-width:260px}}.verdict{{font-size:28px;font-weight:800}}\
         .pill{{display:inline-block;padding:2px 8px;border-radius:10px;color:#fff;margin-right:6px}}</style></head><body>\
         <div class=\"verdict\" id=\"verdict\" style=\"color:{c}\">{v}</div>\
         <p>Evaluated at {at} · Prometheus {up} · launch score {score}/100 · <a href=\"/api/v1/status\">JSON</a> · <a href=\"/metrics\">metrics</a></p><p>",
        v = verdict.0,
        c = verdict.1,
        at = s.run.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        score = score_text(s.score),
        up = if s.run.prometheus_up { "reachable" } else { "<b style=\"color:#cf222e\">UNREACHABLE</b>" },
    );
    for (service, ok) in &s.readiness.services {
        let name = if service.is_empty() {
            "(no service)"
        } else {
            service
        };
        let _ = write!(
            html,
            "<span class=\"pill\" style=\"background:{}\">{} {}</span>",
            if *ok { "#1a7f37" } else { "#cf222e" },
            esc(name),
            if *ok { "ready" } else { "not ready" }
        );
    }
    html.push_str("</p>");
    if let Some(l) = &s.launch {
        timeline(&mut html, l);
    }
    html.push_str("<table id=\"slos\"><tr><th>service</th>");
    for slo in &slos {
        let _ = write!(html, "<th>{}</th>", esc(slo));
    }
    html.push_str("</tr>");
    for (service, cells) in &rows {
        let _ = write!(html, "<tr><th>{}</th>", esc(service));
        for slo in &slos {
            match cells.get(slo) {
                Some(results) => results.iter().for_each(|r| html.push_str(&cell(r))),
                None => html.push_str("<td></td>"),
            }
        }
        html.push_str("</tr>");
    }
    html.push_str("</table></body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_shows_states_reasons_and_escapes_what_it_prints() {
        let html = render(&crate::eval::snapshot::example());
        assert!(html.contains("NOT READY"), "{html}");
        assert!(
            html.contains(
                "SLI 99% below objective 99.9%: error budget overspent (-900% remaining)"
            ),
            "{html}"
        );
        assert!(html.contains("data-state=\"pass\"") && html.contains("data-state=\"fail\""));
        assert!(html.contains("value 90000 is not &lt; 86400"), "{html}");
        assert!(
            !html.contains("is not < 86400"),
            "reasons are escaped: {html}"
        );
    }
}
