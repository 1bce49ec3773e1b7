//! The human status page, server-rendered and dependency-free: the verdict with
//! its score and why, the launch timeline on a time axis, services × SLOs
//! (budget bars, the 1h p95 against its threshold, a link to each group's
//! detail page), probes as a checklist. Readable on a phone: below 720 px the
//! grid becomes one card per service.

mod chart;
pub mod detail;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::escape::markup as esc;
use crate::eval::snapshot::{LaunchStatus, Snapshot};
use crate::eval::{SloResult, State};
use crate::report::{
    budget_left_events, budget_left_seconds, burn_shown, due_text, group_name, milestones, minute,
    p95, pct, plain, score_text, span, Report,
};
use crate::slo::number::count;
use crate::slo::shown_window;

/// How the page is served.
#[derive(Debug, Clone, Copy, Default)]
pub struct View {
    /// `serve --at`: the instant replayed, shown in a banner.
    pub fixed_at: Option<DateTime<Utc>>,
}

/// A state's sign on the page: plain symbols every font has (emoji may be
/// missing on a server or kiosk browser).
pub(crate) fn sign(state: State) -> &'static str {
    match state {
        State::Pass => "✓",
        State::Warn => "!",
        State::Fail => "✗",
        State::InsufficientData => "○",
        State::Unknown => "?",
        State::Pending => "…",
    }
}

fn colour(state: State) -> &'static str {
    match state {
        State::Pass => "#1a7f37",
        State::Warn => "#9a6700",
        State::Fail => "#cf222e",
        State::InsufficientData => "#6e7781",
        State::Unknown => "#8250df",
        State::Pending => "#0969da",
    }
}

const CSS: &str = "\
*{box-sizing:border-box}\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;padding:16px;max-width:1400px;color:#1f2328;overflow-wrap:anywhere}\
a{color:#0969da}h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:24px 0 8px}\
table{border-collapse:collapse;width:100%}td,th{padding:8px 10px;border:1px solid #d0d7de;vertical-align:top;text-align:left}\
th{background:#f6f8fa}.small{font-size:12px;color:#57606a}.verdict{font-size:30px;font-weight:800}\
.pill{display:inline-block;padding:2px 8px;border-radius:10px;color:#fff;margin:2px 6px 2px 0;font-size:13px}\
.state{font-weight:700;text-transform:uppercase;font-size:13px}\
.key{display:inline-block;font-size:11px;border:1px solid #57606a;border-radius:6px;padding:0 4px;margin-left:4px;color:#57606a;font-weight:400}\
.bar{height:8px;background:#eaeef2;border-radius:4px;overflow:hidden;margin:4px 0;max-width:320px}.bar span{display:block;height:100%}\
.banner{background:#ddf4ff;border:1px solid #54aeff;padding:8px 12px;border-radius:6px;margin-bottom:12px}\
.failure{background:#ffebe9;border:1px solid #ff8182;padding:8px 12px;border-radius:6px}\
.cell a.more{font-size:12px}.reason{max-width:340px}\
ul.checklist{list-style:none;padding:0}ul.checklist li{padding:6px 0;border-bottom:1px solid #eaeef2}\
.timeline svg{width:100%;height:auto;max-height:120px}ol.timeline{padding-left:20px}\
figure.chart{margin:0 0 16px;max-width:960px}figure.chart svg{width:100%;height:auto;border-radius:6px}\
figcaption{font-weight:600;margin-bottom:4px}.tick{font-size:11px;fill:#57606a}\
.legend span{margin-right:12px;white-space:nowrap}.legend i{display:inline-block;width:14px;height:3px;vertical-align:middle;margin-right:4px}\
.legend i.dashed{border-top:2px dashed #cf222e;height:0}\
pre{white-space:pre-wrap;background:#f6f8fa;padding:8px;border-radius:6px;font-size:12px}\
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px}dl.facts dt{color:#57606a}dl.facts dd{margin:0}\
@media (max-width:720px){body{padding:10px}.verdict{font-size:24px}\
table.grid,table.grid tbody,table.grid tr,table.grid td,table.grid th{display:block;width:auto}\
table.grid thead{display:none}table.grid tr{margin-bottom:14px;border:1px solid #d0d7de;border-radius:6px}\
table.grid td,table.grid th{border:0;border-top:1px solid #eaeef2}table.grid td.none{display:none}\
table.grid td::before{content:attr(data-slo);display:block;font-weight:600;margin-bottom:2px}\
.reason{max-width:none}}";

/// The document head and the replay banner.
pub(crate) fn head(title: &str, view: &View, refresh: bool) -> String {
    let mut html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{}\
         <title>{}</title><style>{CSS}</style></head><body>",
        if refresh {
            "<meta http-equiv=\"refresh\" content=\"30\">"
        } else {
            ""
        },
        esc(title)
    );
    if let Some(at) = view.fixed_at {
        let _ = write!(
            html,
            "<div class=\"banner\" id=\"replay\">Replaying a fixed instant: every figure is as of <b>{}</b> (<code>serve --at</code>), not live.</div>",
            crate::report::time(at)
        );
    }
    html
}

/// A bar of a 0-1 fraction.
pub(crate) fn bar(fraction: f64, colour: &str) -> String {
    let pct = (fraction.clamp(0.0, 1.0) * 100.0).round();
    format!("<div class=\"bar\"><span style=\"width:{pct}%;background:{colour}\"></span></div>")
}

/// What is left of the budget in absolute terms: bad events, and downtime
/// for uptime SLOs.
pub(crate) fn budget_words(r: &SloResult) -> Option<String> {
    if let Some(s) = budget_left_seconds(r) {
        return Some(if s >= 0.0 {
            format!("{} of downtime left", span(s.round() as i64))
        } else {
            format!("downtime over budget by {}", span((-s).round() as i64))
        });
    }
    let events = budget_left_events(r)?;
    Some(if events >= 0.0 {
        format!("{} bad events left", count(events.round()))
    } else {
        format!("{} bad events over budget", count((-events).round()))
    })
}

/// The 1h p95 against the threshold: `p95 (1h) 184ms of 200ms`.
pub(crate) fn p95_words(r: &SloResult) -> Option<String> {
    let (window, v) = p95(r)?;
    let limit = r.latency_threshold.map_or(String::new(), |l| {
        format!(" of {}", crate::report::millis(Some(l.as_secs_f64())))
    });
    Some(format!(
        "p95 ({window}) {}{limit}",
        crate::report::millis(v)
    ))
}

/// Whether a URL from the config may be a link: http(s) only (no `javascript:`).
pub(crate) fn is_web_link(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// The detail page of a result.
pub fn detail_href(r: &SloResult) -> String {
    let encode =
        |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    let query: Vec<String> = r
        .group
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let mut href = format!("/slo/{}", encode(&r.slo));
    if !query.is_empty() {
        href.push('?');
        href.push_str(&query.join("&"));
    }
    href
}

fn cell(r: &SloResult, report: &Report<'_>) -> String {
    let c = colour(r.state);
    let mut body = format!(
        "<div class=\"state\" style=\"color:{c}\">{} {}</div><div>SLI {} / {}</div>",
        sign(r.state),
        r.state.as_str(),
        pct(r.sli),
        pct(r.objective)
    );
    if let Some(remaining) = r.error_budget_remaining {
        let _ = write!(
            body,
            "{}<div class=\"small budget\">budget {} left{}</div>",
            bar(remaining, c),
            pct(Some(remaining)),
            budget_words(r).map_or(String::new(), |w| format!(" · {}", esc(&w)))
        );
    }
    let mut details = vec![format!("burn {} {}", shown_window(), plain(burn_shown(r)))];
    if let Some(p) = p95_words(r) {
        details.push(p);
    }
    if let Some(since) = report.changed_at(r) {
        details.push(format!("since {}", minute(since)));
    }
    if let Some(d) = &r.datasource {
        let _ = write!(
            body,
            "<div class=\"small datasource\">datasource {}</div>",
            esc(d)
        );
    }
    if let Some(words) = crate::report::period_words(r) {
        let _ = write!(body, "<div class=\"small period\">{}</div>", esc(&words));
    }
    if let Some(words) = crate::report::exclusion_words(r) {
        let _ = write!(body, "<div class=\"small excluded\">{}</div>", esc(&words));
    }
    if let Some(c) = &r.baseline {
        let words = if c.regressions.is_empty() {
            "no regression".to_string()
        } else {
            c.regressions.join("; ")
        };
        let _ = write!(
            body,
            "<div class=\"small baseline\" data-regression=\"{}\">vs baseline of {}: {}</div>",
            !c.regressions.is_empty(),
            minute(c.at),
            esc(&words)
        );
    }
    let runbook = r
        .runbook_url
        .as_deref()
        .filter(|u| is_web_link(u))
        .map_or(String::new(), |u| {
            format!(" · <a class=\"more\" href=\"{}\">runbook</a>", esc(u))
        });
    let _ = write!(
        body,
        "<div class=\"small\">{}</div><div class=\"small reason\">{}</div>\
         <a class=\"more\" href=\"{}\">details →</a>{runbook}",
        esc(&details.join(" · ")),
        esc(report.reason_of(r)),
        esc(&detail_href(r))
    );
    format!(
        "<td class=\"cell\" data-slo=\"{slo}\" data-state=\"{state}\" style=\"border-left:6px solid {c}\">{body}</td>",
        slo = esc(&r.slo),
        state = r.state.as_str(),
    )
}

/// The launch timeline on a time axis with a "now" marker, then as a list.
fn timeline(html: &mut String, l: &LaunchStatus, now: DateTime<Utc>) {
    let steps = milestones(l, now);
    let first = steps.iter().map(|m| m.at).min().unwrap_or(now);
    let last = steps.iter().map(|m| m.at).max().unwrap_or(now);
    let span_secs = (last - first).num_seconds().max(1) as f64;
    // Checkpoints are often hours apart and then weeks: a square-root scale keeps
    // the early ones apart.
    let x = |t: DateTime<Utc>| {
        let f = ((t - first).num_seconds().max(0) as f64 / span_secs).sqrt();
        40.0 + f * 920.0
    };
    let _ = write!(
        html,
        "<h2>Launch</h2><div class=\"timeline\"><svg viewBox=\"0 0 1000 110\" role=\"img\" aria-label=\"launch timeline\">\
         <line x1=\"40\" x2=\"960\" y1=\"50\" y2=\"50\" stroke=\"#8c959f\" stroke-width=\"2\"/>"
    );
    for (i, m) in steps.iter().enumerate() {
        let cx = x(m.at);
        let label_y = if i % 2 == 0 { 30.0 } else { 82.0 };
        if m.label == "now" {
            let _ = write!(
                html,
                "<g id=\"now\"><line x1=\"{cx:.1}\" x2=\"{cx:.1}\" y1=\"20\" y2=\"80\" stroke=\"#0969da\" stroke-width=\"2\"/>\
                 <text x=\"{cx:.1}\" y=\"100\" text-anchor=\"middle\" class=\"tick\" style=\"fill:#0969da\">now</text></g>"
            );
            continue;
        }
        let fill = m.state.map_or("#57606a", colour);
        let _ = write!(
            html,
            "<circle cx=\"{cx:.1}\" cy=\"50\" r=\"8\" fill=\"{fill}\"/>\
             <text x=\"{cx:.1}\" y=\"{label_y}\" text-anchor=\"middle\" class=\"tick\">{} {}</text>",
            esc(&m.label),
            m.state.map_or(String::new(), |s| s.as_str().to_string())
        );
    }
    html.push_str("</svg>");
    let pending = l.checkpoints.iter().filter(|c| c.state == State::Pending);
    if let Some(next) = pending.min_by_key(|c| c.due) {
        let _ = write!(
            html,
            "<p id=\"next\">Next: <b>T+{}</b> {}</p>",
            esc(&next.name),
            esc(&due_text(next.due, now))
        );
    }
    let _ = write!(
        html,
        "<ol id=\"launch\" class=\"timeline\"><li><b>launch</b> {}</li>",
        minute(l.at)
    );
    for c in &l.checkpoints {
        let step = steps
            .iter()
            .find(|m| m.label == format!("T+{}", c.name))
            .map_or(String::new(), |m| m.text.clone());
        let _ = write!(
            html,
            "<li class=\"checkpoint\" data-checkpoint=\"{after}\" data-state=\"{state}\">\
             <b>T+{after}</b> <span class=\"pill\" style=\"background:{c}\">{state}</span> \
             <span class=\"small\">{detail}</span></li>",
            after = esc(&c.name),
            state = c.state.as_str(),
            c = colour(c.state),
            detail = esc(&step),
        );
    }
    html.push_str("</ol></div>");
}

/// The whole page.
pub fn render(s: &Snapshot, view: &View) -> String {
    let report = Report::of_snapshot(s);
    let slos: Vec<(&str, bool)> = {
        let mut seen = BTreeSet::new();
        s.results
            .iter()
            .filter(|r| !r.kind.is_probe() && seen.insert(r.slo.as_str()))
            .map(|r| (r.slo.as_str(), r.key))
            .collect()
    };
    let mut rows: BTreeMap<String, BTreeMap<&str, Vec<&SloResult>>> = BTreeMap::new();
    for r in s.results.iter().filter(|r| !r.kind.is_probe()) {
        rows.entry(group_name(r))
            .or_default()
            .entry(r.slo.as_str())
            .or_default()
            .push(r);
    }
    let verdict = report.verdict();
    let vc = match verdict {
        "READY" => colour(State::Pass),
        "UNKNOWN" => colour(State::Unknown),
        _ => colour(State::Fail),
    };
    let mut html = head(&format!("slogate: {verdict}"), view, true);
    let why = match verdict {
        "UNKNOWN" => "no score: the key SLOs could not be judged".to_string(),
        _ => crate::report::score_explanation(s.results.as_slice()),
    };
    let _ = write!(
        html,
        "<header><div class=\"verdict\" id=\"verdict\" style=\"color:{vc}\">{verdict}</div>\
         <div id=\"score\"><b>launch score {}/100</b>{}<span class=\"small\" id=\"score-why\">{}</span></div>\
         <p class=\"small\">Evaluated at {} · Prometheus {} · <a href=\"/api/v1/status\">JSON</a> · <a href=\"/metrics\">metrics</a></p><p>",
        score_text(report.shown_score()),
        bar(report.shown_score().unwrap_or(0.0), vc),
        esc(&why),
        crate::report::time(s.run.at),
        match report.datasource_words() {
            Some(words) if s.run.prometheus_up => esc(&words),
            Some(words) => format!("<b style=\"color:#cf222e\">{}</b>", esc(&words)),
            None if s.run.prometheus_up => "reachable".into(),
            None => "<b style=\"color:#cf222e\">UNREACHABLE</b>".into(),
        },
    );
    for service in s.readiness.services.keys() {
        let verdict = report.service_verdict(service);
        let c = match verdict {
            "ready" => colour(State::Pass),
            "unknown" => colour(State::Unknown),
            _ => colour(State::Fail),
        };
        let name = if service.is_empty() {
            "(no service)"
        } else {
            service
        };
        let _ = write!(
            html,
            "<span class=\"pill\" style=\"background:{c}\">{} {verdict}</span>",
            esc(name)
        );
    }
    html.push_str("</p></header>");
    if let Some(failure) = report.common_failure() {
        let _ = write!(html, "<p class=\"failure\">{}</p>", esc(failure));
    }
    if let Some(l) = &s.launch {
        timeline(&mut html, l, s.run.at);
    }
    if !slos.is_empty() {
        html.push_str("<h2>SLOs</h2><table id=\"slos\" class=\"grid\"><thead><tr><th>service</th>");
        for (slo, key) in &slos {
            let _ = write!(
                html,
                "<th>{}{}</th>",
                esc(slo),
                if *key {
                    "<span class=\"key\">key</span>"
                } else {
                    ""
                }
            );
        }
        html.push_str("</tr></thead><tbody>");
        for (service, cells) in &rows {
            let _ = write!(html, "<tr><th>{}</th>", esc(service));
            for (slo, _) in &slos {
                match cells.get(slo) {
                    Some(results) => results
                        .iter()
                        .for_each(|r| html.push_str(&cell(r, &report))),
                    None => html.push_str("<td class=\"none\"></td>"),
                }
            }
            html.push_str("</tr>");
        }
        html.push_str("</tbody></table>");
    }
    let probes: Vec<&SloResult> = s.results.iter().filter(|r| r.kind.is_probe()).collect();
    if !probes.is_empty() {
        html.push_str("<h2>Checklist</h2><ul id=\"checklist\" class=\"checklist\">");
        for p in probes {
            let _ = write!(
                html,
                "<li data-slo=\"{slo}\" data-state=\"{state}\"><span style=\"color:{c}\">{mark} <b>{slo}</b></span>{key} \
                 <span class=\"small\">{service}</span> — {reason} <a class=\"small\" href=\"{href}\">details →</a></li>",
                slo = esc(&p.slo),
                state = p.state.as_str(),
                c = colour(p.state),
                mark = sign(p.state),
                key = if p.key { "<span class=\"key\">key</span>" } else { "" },
                service = esc(p.service.as_deref().unwrap_or("")),
                reason = esc(report.reason_of(p)),
                href = esc(&detail_href(p)),
            );
        }
        html.push_str("</ul>");
    }
    html.push_str(
        "<p class=\"small\">A <span class=\"key\">key</span> SLO holds its service back when it is not met; the others are reported, not counted.</p></body></html>\n",
    );
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_shows_states_reasons_and_escapes_what_it_prints() {
        let html = render(&crate::eval::snapshot::example(), &View::default());
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

    /// Probes are a checklist, not columns of the grid; the page has a viewport
    /// for phones, budget bars with what is left, and the score's explanation.
    #[test]
    fn probes_are_a_checklist_and_the_page_fits_a_phone() {
        let html = render(&crate::eval::snapshot::example(), &View::default());
        assert!(
            html.contains(
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            ),
            "{html}"
        );
        let grid =
            &html[html.find("id=\"slos\"").expect("grid")..html.find("</table>").expect("end")];
        assert!(
            !grid.contains("backups"),
            "a probe is no grid column: {grid}"
        );
        assert!(html.contains("<ul id=\"checklist\""), "{html}");
        assert!(
            html.contains("<li data-slo=\"backups\" data-state=\"fail\">"),
            "{html}"
        );
        assert!(
            html.contains("budget -900% left · 900 bad events over budget"),
            "{html}"
        );
        assert!(
            html.contains(
                "id=\"score-why\">vetoed by availability/search, backups/platform, key SLOs<"
            ),
            "{html}"
        );
        assert!(
            html.contains("href=\"/slo/availability?service=search\""),
            "{html}"
        );
        assert!(!html.contains("id=\"replay\""), "{html}");
        let replay = render(
            &crate::eval::snapshot::example(),
            &View {
                fixed_at: DateTime::from_timestamp(1_795_000_000, 0),
            },
        );
        assert!(replay.contains("id=\"replay\""), "{replay}");
    }
}
