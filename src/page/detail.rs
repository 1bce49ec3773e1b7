//! The detail page of one SLO group: its state and since when, SLI and budget
//! burn-down over the SLO window, burn rates per window over the last day,
//! the generated alerts and whether they fire, the queries and the runbook.

use std::fmt::Write;

use super::chart::{self, Chart, Series};
use super::{bar, budget_words, colour, head, p95_words, sign, View};
use crate::escape::markup as esc;
use crate::eval::history::Track;
use crate::eval::{SloResult, State};
use crate::report::{minute, pct, plain, result_name, span, time};
use crate::scheduler::detail::Detail;
use crate::slo::Slo;

const LINE_COLOURS: [&str; 4] = ["#0969da", "#bf3989", "#1a7f37", "#9a6700"];

fn percent(v: f64) -> String {
    crate::slo::number::shown_percent(v)
}

fn number(v: f64) -> String {
    crate::slo::number::decimal(v, 2)
}

/// "failing since 09:55 (2h 5m), 3 changes in the last day".
fn history_words(track: Option<&Track>, now: chrono::DateTime<chrono::Utc>) -> String {
    let Some(t) = track else {
        return "No state history yet (serve keeps it in memory from its start).".into();
    };
    let changes = match t.changes.len() {
        0 => "no change in the last day".to_string(),
        1 => "1 change in the last day".to_string(),
        n => format!("{n} changes in the last day"),
    };
    let at_least = if t.since > t.watched_from {
        ""
    } else {
        "at least "
    };
    format!(
        "{} since {at_least}{} ({} ago), {changes}.",
        t.state.as_str(),
        minute(t.since),
        span((now - t.since).num_seconds().max(0))
    )
}

/// The detail page.
pub fn render(
    r: &SloResult,
    slo: &Slo,
    d: &Detail,
    track: Option<&Track>,
    now: chrono::DateTime<chrono::Utc>,
    view: &View,
) -> String {
    let c = colour(r.state);
    let mut html = head(&format!("slogate: {}", result_name(r)), view, false);
    let _ = write!(
        html,
        "<nav class=\"small\"><a href=\"/\">← all SLOs</a></nav>\
         <h1 id=\"title\">{}{}</h1>\
         <p><span class=\"pill\" style=\"background:{c}\">{} {}</span> {}</p>\
         <p id=\"history\" class=\"small\">{}</p>",
        esc(&result_name(r)),
        if r.key {
            "<span class=\"key\">key</span>"
        } else {
            ""
        },
        sign(r.state),
        r.state.as_str(),
        esc(&r.reason),
        esc(&history_words(track, now)),
    );
    if let Some(description) = &slo.description {
        let _ = write!(html, "<p>{}</p>", esc(description));
    }
    html.push_str("<dl class=\"facts\">");
    let mut fact = |name: &str, value: String| {
        let _ = write!(html, "<dt>{name}</dt><dd>{}</dd>", esc(&value));
    };
    fact("kind", r.kind.to_string());
    fact("window", r.window_name.clone());
    if r.kind.is_probe() {
        fact("value", plain(r.value));
    } else {
        fact("objective", pct(r.objective));
        fact("SLI", pct(r.sli));
        fact(
            "error budget",
            format!(
                "{} left{}",
                pct(r.error_budget_remaining),
                budget_words(r).map_or(String::new(), |w| format!(" ({w})"))
            ),
        );
        let burns: Vec<String> = r
            .burn_rates
            .iter()
            .map(|(w, b)| format!("{w} {}", plain(*b)))
            .collect();
        fact("burn rates", burns.join(" · "));
    }
    if let Some(p) = p95_words(r) {
        fact("latency", p);
    }
    fact(
        "events",
        r.events.map_or("-".into(), crate::slo::number::count),
    );
    fact("evaluated at", time(now));
    html.push_str("</dl>");
    if let Some(remaining) = r.error_budget_remaining {
        html.push_str(&bar(remaining, c));
    }
    for e in &d.errors {
        let _ = write!(html, "<p class=\"failure\">Could not read {}</p>", esc(e));
    }
    if !r.kind.is_probe() {
        let objective = r.objective.unwrap_or(f64::NAN);
        let _ = write!(
            html,
            "<h2>SLI and error budget over the {} window</h2>",
            esc(&r.window_name)
        );
        html.push_str(&chart::render(&Chart {
            id: "sli-chart",
            title: "SLI to date (from the window's start)",
            lines: vec![Series {
                name: "SLI".into(),
                colour: LINE_COLOURS[0],
                points: d.sli.clone(),
            }],
            limits: vec![("objective".into(), objective)]
                .into_iter()
                .filter(|(_, v): &(String, f64)| v.is_finite())
                .collect(),
            format: percent,
        }));
        html.push_str(&chart::render(&Chart {
            id: "budget-chart",
            title: "Error budget remaining (burn-down)",
            lines: vec![Series {
                name: "budget left".into(),
                colour: LINE_COLOURS[1],
                points: d.budget.clone(),
            }],
            limits: vec![("exhausted".into(), 0.0)],
            format: percent,
        }));
        html.push_str("<h2>Burn rate, last day</h2>");
        let limits = r
            .burn_thresholds
            .iter()
            .map(|(w, f)| (format!("alert over {w}"), *f))
            .collect();
        html.push_str(&chart::render(&Chart {
            id: "burn-chart",
            title: "Burn rate per window (1 = spending the budget exactly over the window)",
            lines: d
                .burns
                .iter()
                .enumerate()
                .map(|(i, (w, line))| Series {
                    name: w.to_string(),
                    colour: LINE_COLOURS[i % LINE_COLOURS.len()],
                    points: line.clone(),
                })
                .collect(),
            limits,
            format: number,
        }));
    } else {
        let limit = match &slo.indicator {
            crate::slo::Indicator::Threshold { value, .. } => {
                vec![("threshold".to_string(), *value)]
            }
            _ => Vec::new(),
        };
        html.push_str("<h2>Value, last day</h2>");
        html.push_str(&chart::render(&Chart {
            id: "value-chart",
            title: "Probe value",
            lines: vec![Series {
                name: "value".into(),
                colour: LINE_COLOURS[0],
                points: d.values.clone(),
            }],
            limits: limit,
            format: number,
        }));
    }
    html.push_str(
        "<h2>Alerts</h2><table id=\"alerts\"><thead><tr><th>alert</th><th>tier</th><th>now</th></tr></thead><tbody>",
    );
    for (name, tier) in crate::generate::rules::alerts_of(slo) {
        // A fixed word, never the label's text: the datasource is not trusted markup.
        let now = match d
            .firing
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.state.as_str())
        {
            Some("firing") => "firing",
            Some("pending") => "pending",
            _ => "inactive",
        };
        let style = match now {
            "firing" => format!(" style=\"color:{}\"", colour(State::Fail)),
            "pending" => format!(" style=\"color:{}\"", colour(State::Warn)),
            _ => String::new(),
        };
        let _ = write!(
            html,
            "<tr data-alert=\"{n}\" data-now=\"{now}\"><td>{n}</td><td>{}</td><td{style}><b>{now}</b></td></tr>",
            esc(&tier),
            n = esc(&name),
        );
    }
    html.push_str(
        "</tbody></table><p class=\"small\">From the datasource's <code>ALERTS</code>: alerts fire only where the generated rules are loaded.</p>",
    );
    html.push_str("<h2>Queries</h2>");
    for q in r.queries.iter() {
        let _ = write!(html, "<pre>{}</pre>", esc(q));
    }
    match r.runbook_url.as_deref().filter(|u| super::is_web_link(u)) {
        Some(u) => {
            let _ = write!(html, "<p>Runbook: <a href=\"{u}\">{u}</a></p>", u = esc(u));
        }
        None => html.push_str("<p class=\"small\">No runbook_url in the config for this SLO.</p>"),
    }
    html.push_str("</body></html>\n");
    html
}
