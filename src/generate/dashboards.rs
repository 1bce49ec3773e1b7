//! Grafana dashboards: an overview (one row per service) and an SLO detail view.
//! Every panel reads slogate's exported gauges, so the dashboard shows exactly what
//! slogate judged; every query uses the `datasource` variable. Only the firing-alert
//! annotations read elsewhere: a named datasource's alerts fire in its own ruler,
//! picked by a variable of its own.

use serde_json::json;

use super::grafana::{
    Annotation, Dashboard, DataSourceRef, FieldColor, FieldConfig, Panel, Thresholds, Variable,
};
use super::panels::{
    budget_field, dashboard_url, datasource_variable, firing_alerts, firing_alerts_on, fixed,
    gauge, link, new_dashboard, panel, percent, rollup, slo_state, stat, state_code, state_mapping,
    state_timeline, table, timeseries, timeseries_with_limits, variable_datasource, variable_query,
    yes_no, Layout, PanelSpec, Query,
};
use super::{File, Spec};
use crate::eval::State;
use crate::slo::conventions::{dashboard, label, metric};
use crate::slo::promql::{QUANTILES, QUANTILE_WINDOWS};
use crate::slo::{dashboard_windows, tiers, PromDuration, Severity, SliKind, Slo};

/// Burn thresholds colouring the "Burning now" table: 1x (budget pace), then the
/// ticket and page factors for `window`. Burn-rate panels draw each SLO's own
/// factors from [`metric::SLO_BURN_RATE_THRESHOLD`] instead.
fn burn_thresholds(window: PromDuration) -> Thresholds {
    let mut steps: Vec<(f64, &str)> = tiers(window, None)
        .iter()
        .map(|t| {
            let factor = (t.factor * 1000.0).round() / 1000.0;
            (
                factor,
                if t.severity == Severity::Page {
                    "red"
                } else {
                    "orange"
                },
            )
        })
        .collect();
    steps.push((1.0, "yellow"));
    steps.sort_by(|a, b| a.0.total_cmp(&b.0));
    steps.dedup_by(|a, b| a.0 == b.0);
    Thresholds::absolute(&steps)
}

/// A burn-rate axis with the budget pace (1x) drawn as a line.
fn pace() -> FieldConfig {
    FieldConfig {
        thresholds: Thresholds::absolute(&[(1.0, "yellow")]),
        ..FieldConfig::default()
    }
}

/// A regex matching any of `windows` (`1h|6h`).
fn windows_regex(windows: &[PromDuration]) -> String {
    let names: Vec<String> = windows.iter().map(ToString::to_string).collect();
    names.join("|")
}

/// `sel` narrowed to the given SLOs.
fn of_slos(sel: &str, slos: &[&Slo]) -> String {
    format!("{sel}, slo=~\"{}\"", names_of(slos))
}

fn names_of(slos: &[&Slo]) -> String {
    slos.iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join("|")
}

/// The SLOs each named datasource reads, by datasource name, with the Grafana
/// variable that picks where its rules run (`rules_<name>`, `-` spelled `_`: a
/// variable name is a word).
struct RuleSource<'a> {
    datasource: &'a str,
    variable: String,
    slos: Vec<&'a Slo>,
}

fn rule_sources<'a>(spec: &Spec<'a>) -> Vec<RuleSource<'a>> {
    let mut by_name: std::collections::BTreeMap<&str, Vec<&Slo>> = Default::default();
    for slo in spec.slos {
        if let Some(name) = slo.datasource.as_deref() {
            by_name.entry(name).or_default().push(slo);
        }
    }
    let mut taken = std::collections::BTreeSet::new();
    by_name
        .into_iter()
        .map(|(datasource, slos)| {
            let base = format!("rules_{}", datasource.replace('-', "_"));
            // `a-b` and `a_b` are both datasource names; their variables must differ.
            let variable = (1..)
                .map(|n| match n {
                    1 => base.clone(),
                    n => format!("{base}_{n}"),
                })
                .find(|v| taken.insert(v.clone()))
                .expect("an unused name is found: the set is finite");
            RuleSource {
                datasource,
                variable,
                slos,
            }
        })
        .collect()
}

/// One data source variable per named datasource, after the main one.
fn rule_source_variables(spec: &Spec<'_>) -> Vec<Variable> {
    rule_sources(spec)
        .iter()
        .map(|r| {
            datasource_variable(
                &r.variable,
                &format!("Alerts of datasource {}", r.datasource),
            )
        })
        .collect()
}

/// Where the generated alerts fired, for the SLOs `sel` selects. Without named
/// datasources, one annotation on the main data source. With them, each SLO's
/// alerts are read where its rules run: the default's SLOs from the main data
/// source, each named datasource's from its own variable, so one ruler never
/// shows another's SLOs twice.
fn alert_annotations(spec: &Spec<'_>, sel: &str) -> Vec<Annotation> {
    let named = rule_sources(spec);
    if named.is_empty() {
        return vec![firing_alerts(sel)];
    }
    let default: Vec<&Slo> = spec
        .slos
        .iter()
        .map(|s| s.as_ref())
        .filter(|s| s.datasource.is_none())
        .collect();
    let mut out = Vec::new();
    if !default.is_empty() {
        out.push(firing_alerts(&of_slos(sel, &default)));
    }
    for r in named {
        out.push(firing_alerts_on(
            &of_slos(sel, &r.slos),
            DataSourceRef {
                kind: "prometheus".into(),
                uid: format!("${{{}}}", r.variable),
            },
            &format!("Firing SLO alerts ({})", r.datasource),
        ));
    }
    out
}

fn kinds<'a>(spec: &Spec<'a>, kind: SliKind) -> Vec<&'a Slo> {
    spec.slos
        .iter()
        .map(|s| s.as_ref())
        .filter(|s| s.indicator.kind() == kind)
        .collect()
}

/// The window most SLOs use (for drawing burn thresholds).
fn main_window(spec: &Spec<'_>) -> PromDuration {
    spec.slos
        .iter()
        .find(|s| !s.indicator.is_probe())
        .map_or(PromDuration::from_secs(30 * 86400), |s| s.window)
}

fn health_panels(layout: &mut Layout, spec: &Spec<'_>) -> Vec<Panel> {
    let interval = spec.interval.as_secs_f64();
    let mut panels = vec![layout.row("slogate", None)];
    panels.push(stat(
        layout,
        "Ready",
        "1 when every service is ready (slogate_ready).",
        vec![Query("ready", rollup(metric::READY, ""))],
        yes_no("READY", "NOT READY"),
        (4, 4),
    ));
    panels.push(stat(
        layout,
        "Launch score",
        "Weighted launch score of the current evaluation: warn counts half, a failing key SLO vetoes.",
        vec![Query("score", rollup(metric::LAUNCH_SCORE, "checkpoint=\"now\""))],
        FieldConfig {
            unit: Some("percentunit".into()),
            decimals: Some(1),
            thresholds: Thresholds::from_base("red", &[(0.5, "orange"), (0.9, "green")]),
            ..FieldConfig::default()
        },
        (5, 4),
    ));
    panels.push(stat(
        layout,
        "Prometheus",
        "Whether slogate's last evaluation reached each datasource (`default` is `prometheus:`).",
        vec![Query("{{datasource}}", gauge(metric::PROMETHEUS_UP, ""))],
        yes_no("REACHABLE", "UNREACHABLE"),
        (5, 4),
    ));
    panels.push(stat(
        layout,
        "Last evaluation age",
        "Seconds since slogate's last finished evaluation.",
        vec![Query(
            "age",
            format!("time() - {}", gauge(metric::LAST_EVALUATION, "")),
        )],
        FieldConfig {
            unit: Some("s".into()),
            thresholds: Thresholds::absolute(&[
                (3.0 * interval, "orange"),
                (5.0 * interval, "red"),
            ]),
            ..FieldConfig::default()
        },
        (5, 4),
    ));
    panels.push(stat(
        layout,
        "Query errors",
        "Failed queries to Prometheus per second.",
        vec![Query(
            "errors/s",
            format!(
                "sum(rate({}_total{{outcome=\"error\"}}[$__rate_interval]))",
                metric::QUERIES
            ),
        )],
        FieldConfig {
            unit: Some("reqps".into()),
            thresholds: Thresholds::absolute(&[(0.001, "red")]),
            ..FieldConfig::default()
        },
        (5, 4),
    ));
    if spec.has_launch {
        panels.push(launch_panel(layout));
    }
    panels.push(burning_now(layout, spec));
    panels
}

/// Every SLO group's 1h burn rate across services, highest first; a row links
/// to that SLO's detail dashboard.
fn burning_now(layout: &mut Layout, spec: &Spec<'_>) -> Panel {
    let link = format!(
        "{}?var-slo=${{__data.fields.slo}}&var-service=${{__data.fields.service}}",
        dashboard_url(dashboard::DETAIL_UID)
    );
    layout.newline();
    table(
        layout,
        "Burning now",
        "Each SLO group's error-budget burn rate over the last hour, highest first: above 1 the budget runs out before the window ends. Click a row for the SLO's detail.",
        Query(
            "",
            format!(
                "sort_desc({})",
                gauge(metric::SLO_BURN_RATE, &format!("{}=\"1h\"", label::WINDOW))
            ),
        ),
        (&[label::SERVICE, label::SLO], "1h burn rate"),
        FieldConfig {
            decimals: Some(2),
            thresholds: burn_thresholds(main_window(spec)),
            custom: Some(json!({"align": "auto", "cellOptions": {"type": "color-text"}, "inspect": false})),
            links: vec![json!({"title": "SLO detail", "url": link})],
            ..FieldConfig::default()
        },
        (24, 6),
    )
}

/// Each launch checkpoint's state.
fn launch_panel(layout: &mut Layout) -> Panel {
    let states = State::CHECKPOINT_STATES;
    stat(
        layout,
        "Launch checkpoints",
        "State of each launch checkpoint: every SLO judged over [launch, launch + checkpoint].",
        vec![Query(
            "T+{{checkpoint}}",
            state_code(metric::LAUNCH_CHECKPOINT_STATE, "", "checkpoint", &states),
        )],
        FieldConfig {
            mappings: vec![state_mapping(&states)],
            ..FieldConfig::default()
        },
        (24, 4),
    )
}

fn service_panels(layout: &mut Layout, spec: &Spec<'_>) -> Vec<Panel> {
    let sel = "service=\"$service\"";
    let mut panels = vec![layout.row("$service", Some("service"))];
    panels.push(stat(
        layout,
        "Service ready",
        "1 when every key SLO of the service is pass or warn.",
        vec![Query("ready", rollup(metric::SERVICE_READY, sel))],
        yes_no("READY", "NOT READY"),
        (4, 4),
    ));
    panels.push(slo_state(layout, "State per SLO", sel, (10, 4)));

    panels.push(stat(
        layout,
        "SLI over the SLO window",
        "Good events over all events in each SLO's window.",
        vec![Query("{{slo}}", gauge(metric::SLO_SLI, sel))],
        fixed(percent()),
        (10, 4),
    ));
    let budget = budget_field();
    panels.push(stat(
        layout,
        "Error budget remaining",
        "Share of the error budget left; negative when overspent.",
        vec![Query("{{slo}}", gauge(metric::SLO_BUDGET_REMAINING, sel))],
        budget.clone(),
        (6, 7),
    ));
    panels.push(timeseries(
        layout,
        "Error budget remaining over time",
        "The budget burning down; the orange line is the warning level.",
        vec![Query("{{slo}}", gauge(metric::SLO_BUDGET_REMAINING, sel))],
        budget,
        (9, 7),
    ));
    let windows = format!("window=~\"{}\"", windows_regex(&dashboard_windows()));
    panels.push(timeseries_with_limits(
        layout,
        (
            &format!("Burn rate ({})", windows_regex(&dashboard_windows()).replace('|', ", ")),
            "Error-budget burn rate; yellow line: budget pace (1x); red dashes: the burn rate at which each SLO's alerts fire over that window.",
        ),
        vec![Query(
            "{{slo}} {{window}}",
            gauge(metric::SLO_BURN_RATE, &format!("{sel}, {windows}")),
        )],
        vec![Query(
            "{{slo}} alert at {{window}}",
            gauge(metric::SLO_BURN_RATE_THRESHOLD, &format!("{sel}, {windows}")),
        )],
        pace(),
        (9, 7),
    ));
    panels.extend(latency_panel(layout, spec, sel));
    panels.extend(error_rate_panel(layout, spec, sel));
    panels.extend(cache_panel(layout, spec, sel));
    layout.newline();
    let states = State::SLO_STATES;
    panels.push(state_timeline(
        layout,
        "State history",
        "Each SLO's state over time (the worst of its groups): when it started failing, how often it flapped. Click a row for the SLO's detail.",
        vec![Query(
            "{{slo}}",
            state_code(metric::SLO_STATE, sel, "slo", &states),
        )],
        FieldConfig {
            mappings: vec![state_mapping(&states)],
            custom: Some(json!({"fillOpacity": 80, "lineWidth": 0})),
            links: vec![json!({
                "title": "SLO detail",
                "url": format!(
                    "{}?var-slo=${{__field.labels.slo}}&var-service=$service&${{__url_time_range}}",
                    dashboard_url(dashboard::DETAIL_UID)
                ),
            })],
            ..FieldConfig::default()
        },
        (24, 5),
    ));
    panels
}

/// p95 over 5m and 1h against the threshold, for services with latency SLOs.
fn latency_panel(layout: &mut Layout, spec: &Spec<'_>, sel: &str) -> Option<Panel> {
    let latency = kinds(spec, SliKind::Latency);
    if !latency.is_empty() {
        let slos = names_of(&latency);
        let p95_over = |window: PromDuration| {
            Query(
                "{{slo}} p95 over {{window}}",
                gauge(
                    metric::SLO_LATENCY,
                    &format!(
                        "{sel}, slo=~\"{slos}\", quantile=\"{}\", window=\"{window}\"",
                        QUANTILES[0]
                    ),
                ),
            )
        };
        return Some(timeseries_with_limits(
            layout,
            (
                "p95 latency",
                "p95 over the last 5m and 1h (not over the SLO window); red dashes: each SLO's threshold.",
            ),
            QUANTILE_WINDOWS.iter().map(|w| p95_over(*w)).collect(),
            vec![Query(
                "{{slo}} threshold",
                gauge(metric::SLO_LATENCY_THRESHOLD, &format!("{sel}, slo=~\"{slos}\"")),
            )],
            FieldConfig {
                unit: Some("s".into()),
                ..FieldConfig::default()
            },
            (8, 7),
        ));
    }
    None
}

/// Failed requests against the error budget, for services with ratio SLOs.
fn error_rate_panel(layout: &mut Layout, spec: &Spec<'_>, sel: &str) -> Option<Panel> {
    let ratios = kinds(spec, SliKind::Ratio);
    if ratios.is_empty() {
        return None;
    }
    // The error ratio now, over 5m and 1h: each window's burn rate times its
    // SLO's budget (1 - objective), one series per SLO and window.
    let slos = of_slos(sel, &ratios);
    let burn = gauge(
        metric::SLO_BURN_RATE,
        &format!("{slos}, {}=~\"5m|1h\"", label::WINDOW),
    );
    let budget = format!("(1 - {})", gauge(metric::SLO_OBJECTIVE, &slos));
    Some(timeseries_with_limits(
        layout,
        (
            "Error rate",
            "Failed requests over all requests in the last 5 minutes and hour; red dashes: each SLO's budget (1 - objective, a burn rate of 1).",
        ),
        vec![Query(
            "{{slo}} {{window}}",
            format!("{burn} * ignoring ({}) group_left () {budget}", label::WINDOW),
        )],
        vec![Query("{{slo}} budget", budget)],
        percent(),
        (8, 7),
    ))
}

/// Hit ratio against the target, for services with cache SLOs.
fn cache_panel(layout: &mut Layout, spec: &Spec<'_>, sel: &str) -> Option<Panel> {
    let caches = kinds(spec, SliKind::Cache);
    if caches.is_empty() {
        return None;
    }
    let slos = of_slos(sel, &caches);
    Some(timeseries_with_limits(
        layout,
        (
            "Cache hit ratio",
            "Hits over lookups in the SLO window; red dashes: each SLO's target.",
        ),
        vec![Query("{{slo}}", gauge(metric::SLO_SLI, &slos))],
        vec![Query("{{slo}} target", gauge(metric::SLO_OBJECTIVE, &slos))],
        percent(),
        (8, 7),
    ))
}

/// "This month so far" for calendar SLOs: the SLI since the period began, the
/// share of the period gone by, and the SLI the period ends with at the last
/// day's pace (`slogate_slo_period_elapsed_ratio`,
/// `slogate_slo_projected_sli_ratio`). None without calendar SLOs.
fn period_panels(layout: &mut Layout, spec: &Spec<'_>, sel: &str) -> Vec<Panel> {
    let calendars: Vec<&Slo> = spec
        .slos
        .iter()
        .map(|s| &**s)
        .filter(|s| s.calendar.is_some())
        .collect();
    let Some(first) = calendars.first().and_then(|s| s.calendar) else {
        return Vec::new();
    };
    let period = if calendars
        .iter()
        .all(|s| s.calendar.map(|c| c.period) == Some(first.period))
    {
        first.period.as_str()
    } else {
        "period"
    };
    let slos = of_slos(sel, &calendars);
    vec![
        stat(
            layout,
            &format!("This {period} so far: SLI"),
            &format!("The SLI of each calendar SLO since its {period} began (in its time zone)."),
            vec![Query("{{slo}}", gauge(metric::SLO_SLI, &slos))],
            fixed(percent()),
            (8, 5),
        ),
        stat(
            layout,
            &format!("This {period} so far: elapsed"),
            &format!("How much of the {period} has gone by."),
            vec![Query("{{slo}}", gauge(metric::SLO_PERIOD_ELAPSED, &slos))],
            fixed(percent()),
            (8, 5),
        ),
        stat(
            layout,
            &format!("Projected SLI at {period} end"),
            &format!(
                "The SLI the {period} ends with if the rest of it goes like the last day (its error ratio and traffic)."
            ),
            vec![Query("{{slo}}", gauge(metric::SLO_PROJECTED_SLI, &slos))],
            fixed(percent()),
            (8, 5),
        ),
    ]
}

fn overview(spec: &Spec<'_>, source: &str) -> Dashboard {
    let mut layout = Layout::new();
    let mut panels = health_panels(&mut layout, spec);
    let sel = "service=~\"$service\"";
    panels.extend(period_panels(&mut layout, spec, sel));
    panels.extend(service_panels(&mut layout, spec));
    let mut d = new_dashboard(
        dashboard::OVERVIEW_UID,
        "slogate / SLO overview",
        source,
        [variable_datasource(), service_variable(true)]
            .into_iter()
            .chain(rule_source_variables(spec))
            .collect(),
        vec![link(
            "SLO detail",
            &dashboard_url(dashboard::DETAIL_UID),
            "One SLO in depth",
        )],
        panels,
    );
    d.annotations
        .list
        .extend(alert_annotations(spec, "slo!=\"\", service=~\"$service\""));
    d
}

/// Markdown describing every SLO: objective, window, the PromQL of its SLI, runbook.
fn definitions(spec: &Spec<'_>) -> String {
    let mut text = String::from("## SLO definitions\n\n");
    for slo in spec.slos {
        let objective = slo
            .objective
            .as_ref()
            .map_or("probe".to_string(), |o| format!("{}%", o.percent_text()));
        text.push_str(&format!("### {}\n\n", slo.name));
        if let Some(d) = &slo.description {
            text.push_str(&format!("{d}\n\n"));
        }
        let window = match slo.calendar {
            Some(c) => format!(
                "the calendar {c} so far (alerts and recorded rules: rolling {})",
                slo.window
            ),
            None => slo.window.to_string(),
        };
        text.push_str(&format!(
            "Kind `{}`, objective {objective}, window {window}.\n\n",
            slo.indicator.kind(),
        ));
        let query = slo.indicator.definition(|| slo.events_query(slo.window));
        text.push_str(&format!("```promql\n{query}\n```\n\n"));
        if let Some(r) = &slo.runbook_url {
            text.push_str(&format!("Runbook: [{r}]({r})\n\n"));
        }
    }
    text
}

/// The detail dashboard's stat row: state, SLI, objective, budget, events.
fn detail_stats(layout: &mut Layout, sel: &str) -> Vec<Panel> {
    let mut panels = Vec::new();
    panels.push(slo_state(layout, "State", sel, (4, 5)));
    for (title, name) in [
        ("SLI", metric::SLO_SLI),
        ("Objective", metric::SLO_OBJECTIVE),
    ] {
        panels.push(stat(
            layout,
            title,
            &format!("{name} for the selected SLO."),
            vec![Query("{{slo}}", gauge(name, sel))],
            fixed(percent()),
            (5, 5),
        ));
    }
    panels.push(stat(
        layout,
        "Error budget remaining",
        "Share of the error budget left; negative when overspent.",
        vec![Query("{{slo}}", gauge(metric::SLO_BUDGET_REMAINING, sel))],
        budget_field(),
        (5, 5),
    ));
    panels.push(stat(
        layout,
        "Events",
        "Events counted in the SLO window and each burn window.",
        vec![Query("{{window}}", gauge(metric::SLO_EVENTS, sel))],
        FieldConfig {
            unit: Some("short".into()),
            color: FieldColor {
                mode: "fixed".into(),
            },
            ..FieldConfig::default()
        },
        (5, 5),
    ));
    panels
}

/// The `service` variable: every service slogate reports on. From the state
/// gauge, which every result has (probes, `unknown` and zero-event SLOs have no
/// SLI, and every SLI vanishes while Prometheus is unreachable).
fn service_variable(multi: bool) -> Variable {
    let query = format!("label_values({}, service)", metric::SLO_STATE);
    variable_query("service", "Service", &query, multi)
}

/// The detail dashboard's variables: datasource, service, its SLOs, then one per
/// named datasource.
fn detail_variables(spec: &Spec<'_>) -> Vec<Variable> {
    let mut variables = vec![
        variable_datasource(),
        service_variable(false),
        variable_query(
            "slo",
            "SLO",
            &format!(
                "label_values({}{{service=\"$service\"}}, slo)",
                metric::SLO_STATE
            ),
            false,
        ),
    ];
    variables.extend(rule_source_variables(spec));
    variables
}

fn detail(spec: &Spec<'_>, source: &str) -> Dashboard {
    let mut layout = Layout::new();
    let sel = "service=\"$service\", slo=\"$slo\"";
    let mut panels = detail_stats(&mut layout, sel);
    panels.extend(period_panels(&mut layout, spec, sel));
    panels.push(timeseries_with_limits(
        &mut layout,
        (
            "SLI and objective",
            "The SLI over the SLO window against its objective (red dashes).",
        ),
        vec![Query("SLI", gauge(metric::SLO_SLI, sel))],
        vec![Query("objective", gauge(metric::SLO_OBJECTIVE, sel))],
        percent(),
        (12, 8),
    ));
    panels.push(timeseries(
        &mut layout,
        "Error budget burn-down",
        "Share of the budget left over time; below zero the SLO is missed.",
        vec![Query("budget", gauge(metric::SLO_BUDGET_REMAINING, sel))],
        budget_field(),
        (12, 8),
    ));
    panels.push(timeseries_with_limits(
        &mut layout,
        (
            "Burn rate per window",
            "Burn rate over 5m to 3d; yellow line: budget pace (1x); red dashes: the burn rate at which the SLO's alerts fire over that window.",
        ),
        vec![Query("{{window}}", gauge(metric::SLO_BURN_RATE, sel))],
        vec![Query(
            "alert at {{window}}",
            gauge(metric::SLO_BURN_RATE_THRESHOLD, sel),
        )],
        pace(),
        (12, 8),
    ));
    panels.push(timeseries(
        &mut layout,
        "Events per window",
        "Events counted in each window.",
        vec![Query("{{window}}", gauge(metric::SLO_EVENTS, sel))],
        FieldConfig {
            unit: Some("short".into()),
            ..FieldConfig::default()
        },
        (12, 8),
    ));
    panels.push(panel(
        &mut layout,
        PanelSpec {
            kind: "text",
            title: "Definitions",
            description: "The PromQL slogate evaluates for each SLO.".into(),
            queries: Vec::new(),
            defaults: FieldConfig::default(),
            options: json!({"mode": "markdown", "content": definitions(spec)}),
            size: (24, 14),
        },
    ));
    let mut d = new_dashboard(
        dashboard::DETAIL_UID,
        "slogate / SLO detail",
        source,
        detail_variables(spec),
        vec![link(
            "SLO overview",
            &dashboard_url(dashboard::OVERVIEW_UID),
            "Every service at a glance",
        )],
        panels,
    );
    d.annotations.list.extend(alert_annotations(
        spec,
        "slo=\"$slo\", service=\"$service\"",
    ));
    d
}

/// The dashboards for `config`, as `dashboards/<uid>.json`.
pub fn generate(spec: &Spec<'_>, source: &str) -> Vec<File> {
    [overview(spec, source), detail(spec, source)]
        .into_iter()
        .map(|d| File {
            path: format!("dashboards/{}.json", d.uid),
            // Plain structs of strings, numbers and maps always serialize.
            text: format!(
                "{}\n",
                serde_json::to_string_pretty(&d).expect("dashboard serializes")
            ),
        })
        .collect()
}

/// Every query of a dashboard, with Grafana's variables replaced by sample values
/// (for parsing and for running against a real Prometheus).
pub fn queries(
    dashboard_json: &serde_json::Value,
    service: &str,
    slo: &str,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dashboard_json];
    while let Some(v) = stack.pop() {
        if let Some(panels) = v["panels"].as_array() {
            stack.extend(panels.iter().rev());
        }
        for t in v["targets"].as_array().into_iter().flatten() {
            let expr = t["expr"]
                .as_str()
                .unwrap_or_default()
                .replace("$__rate_interval", "1m")
                .replace("$service", service)
                .replace("$slo", slo);
            out.push((v["title"].as_str().unwrap_or_default().to_string(), expr));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(path: &str) -> crate::config::Config {
        let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
            .expect("read");
        crate::config::parse(path, &text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn generate(c: &crate::config::Config, source: &str) -> Vec<File> {
        super::generate(&Spec::of(c), source)
    }

    #[test]
    fn every_panel_query_parses_after_substitution() {
        for path in [
            "examples/slogate.yaml",
            "tests/fixtures/config/everything.good.yaml",
        ] {
            for file in generate(&config(path), path) {
                let d: serde_json::Value = serde_json::from_str(&file.text).expect("json");
                let qs = queries(&d, "checkout", "availability");
                assert!(qs.len() >= 10, "{}: {} queries", file.path, qs.len());
                for (panel, q) in qs {
                    promql_parser::parser::parse(&q)
                        .unwrap_or_else(|e| panic!("{}: {panel}: {q}: {e}", file.path));
                }
            }
        }
    }

    #[test]
    fn every_panel_uses_the_datasource_variable_and_ids_are_unique() {
        for file in generate(&config("examples/slogate.yaml"), "x") {
            let d: serde_json::Value = serde_json::from_str(&file.text).expect("json");
            let mut ids = Vec::new();
            for p in d["panels"].as_array().expect("panels") {
                ids.push(p["id"].as_u64().expect("id"));
                if p["type"] != "row" {
                    assert_eq!(p["datasource"]["uid"], "${datasource}", "{}", p["title"]);
                    for t in p["targets"].as_array().expect("targets") {
                        assert_eq!(t["datasource"]["uid"], "${datasource}");
                    }
                }
            }
            let n = ids.len();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), n, "duplicate panel ids in {}", file.path);
        }
    }

    /// The panels an on-call SRE opens first: what burns now across services
    /// (linking to the detail), and each service's state history.
    #[test]
    fn overview_shows_what_burns_now_and_the_state_history() {
        let files = generate(&config("examples/slogate.yaml"), "x");
        let overview: serde_json::Value =
            serde_json::from_str(&files[0].text).expect("overview json");
        let mut found = Vec::new();
        let mut walk = vec![overview["panels"].clone()];
        while let Some(serde_json::Value::Array(panels)) = walk.pop() {
            for p in panels {
                walk.push(p["panels"].clone());
                found.push((
                    p["type"].as_str().unwrap_or_default().to_string(),
                    p["title"].as_str().unwrap_or_default().to_string(),
                    p.clone(),
                ));
            }
        }
        let panel = |title: &str| {
            found
                .iter()
                .find(|(_, t, _)| t == title)
                .unwrap_or_else(|| panic!("no {title} panel"))
        };
        let (kind, _, burning) = panel("Burning now");
        assert_eq!(kind, "table");
        let target = &burning["targets"][0];
        assert!(target["expr"].as_str().expect("expr").starts_with(
            "sort_desc(max without (instance, pod) (slogate_slo_burn_rate{window=\"1h\"}))"
        ));
        assert_eq!(target["format"], "table");
        let link = burning["fieldConfig"]["defaults"]["links"][0]["url"]
            .as_str()
            .expect("link");
        assert!(link.contains("/d/slogate-slo-detail/") && link.contains("${__data.fields.slo}"));
        let (kind, _, history) = panel("State history");
        assert_eq!(kind, "state-timeline");
        assert!(history["targets"][0]["expr"]
            .as_str()
            .expect("expr")
            .contains("slogate_slo_state"));
        assert_eq!(history["targets"][0]["range"], true);
        let link = history["fieldConfig"]["defaults"]["links"][0]["url"]
            .as_str()
            .expect("link");
        assert!(link.contains("/d/slogate-slo-detail/") && link.contains("${__field.labels.slo}"));
    }

    /// Panels mixing SLOs draw each SLO's own limit, read from slogate's gauges,
    /// as a dashed line: no fixed threshold that fits one SLO of the panel.
    #[test]
    fn limits_are_drawn_from_each_slos_gauges_not_fixed() {
        let files = generate(&config("examples/slogate.yaml"), "x");
        let mut checked = Vec::new();
        for file in &files {
            let d: serde_json::Value = serde_json::from_str(&file.text).expect("json");
            let mut all = Vec::new();
            let mut walk = vec![d["panels"].clone()];
            while let Some(serde_json::Value::Array(panels)) = walk.pop() {
                for p in panels {
                    walk.push(p["panels"].clone());
                    all.push(p);
                }
            }
            for p in &all {
                let title = p["title"].as_str().unwrap_or_default();
                let limit = match title {
                    "p95 latency" => metric::SLO_LATENCY_THRESHOLD,
                    t if t.starts_with("Burn rate") => metric::SLO_BURN_RATE_THRESHOLD,
                    "Error rate" | "Cache hit ratio" | "SLI and objective" => metric::SLO_OBJECTIVE,
                    _ => continue,
                };
                let targets = p["targets"].as_array().expect("targets");
                let last = targets.last().expect("a limit query");
                assert!(
                    last["expr"].as_str().expect("expr").contains(limit),
                    "{title}: {last}"
                );
                let overrides = p["fieldConfig"]["overrides"].as_array().expect("overrides");
                assert_eq!(overrides.len(), 1, "{title}");
                assert_eq!(overrides[0]["matcher"]["options"], last["refId"], "{title}");
                assert_eq!(
                    overrides[0]["properties"][0]["value"]["fill"], "dash",
                    "{title}"
                );
                // Only the budget pace (1x) is fixed, on burn-rate panels.
                let steps = p["fieldConfig"]["defaults"]["thresholds"]["steps"]
                    .as_array()
                    .expect("steps");
                let fixed: Vec<f64> = steps.iter().filter_map(|s| s["value"].as_f64()).collect();
                let pace: &[f64] = if limit == metric::SLO_BURN_RATE_THRESHOLD {
                    &[1.0]
                } else {
                    &[]
                };
                assert_eq!(fixed, pace, "{title}");
                checked.push(title.to_string());
            }
        }
        checked.sort();
        checked.dedup();
        assert_eq!(
            checked,
            [
                "Burn rate (1h, 6h)",
                "Burn rate per window",
                "Cache hit ratio",
                "Error rate",
                "SLI and objective",
                "p95 latency"
            ],
            "panels checked"
        );
    }

    /// Where the generated alerts fired, on both dashboards: Prometheus' ALERTS
    /// for the SLOs shown.
    #[test]
    fn firing_alerts_are_annotations_on_both_dashboards() {
        for file in generate(&config("examples/slogate.yaml"), "x") {
            let d: serde_json::Value = serde_json::from_str(&file.text).expect("json");
            let list = d["annotations"]["list"].as_array().expect("annotations");
            let alerts = list
                .iter()
                .find(|a| a["name"] == "Firing SLO alerts")
                .unwrap_or_else(|| panic!("{}: no alert annotation", file.path));
            assert_eq!(alerts["datasource"]["uid"], "${datasource}");
            let expr = alerts["expr"].as_str().expect("expr");
            assert!(expr.starts_with("ALERTS{alertstate=\"firing\", "), "{expr}");
            let concrete = expr
                .replace("$service", "checkout")
                .replace("$slo", "availability");
            promql_parser::parser::parse(&concrete).unwrap_or_else(|e| panic!("{expr}: {e}"));
            assert_eq!(alerts["titleFormat"], "{{alertname}}");
        }
    }

    /// A named datasource's alerts fire in its own ruler: each dashboard gets a
    /// data source variable for it and reads that SLO's alerts there, and the main
    /// data source's annotation leaves that SLO out.
    #[test]
    fn a_named_datasource_gets_its_own_variable_and_alert_annotation() {
        let c = config("tests/fixtures/config/everything.good.yaml");
        for file in generate(&c, "x") {
            let d: serde_json::Value = serde_json::from_str(&file.text).expect("json");
            let variables = d["templating"]["list"].as_array().expect("variables");
            let rules_eu = variables
                .iter()
                .find(|v| v["name"] == "rules_eu")
                .unwrap_or_else(|| panic!("{}: no rules_eu variable", file.path));
            assert_eq!(rules_eu["type"], "datasource");
            assert_eq!(rules_eu["query"], "prometheus");
            assert_eq!(rules_eu["label"], "Alerts of datasource eu");
            let list = d["annotations"]["list"].as_array().expect("annotations");
            let names: Vec<&str> = list.iter().filter_map(|a| a["name"].as_str()).collect();
            assert_eq!(
                names,
                [
                    "Annotations & Alerts",
                    "Firing SLO alerts",
                    "Firing SLO alerts (eu)"
                ],
                "{}",
                file.path
            );
            let eu = &list[2];
            assert_eq!(eu["datasource"]["uid"], "${rules_eu}");
            let eu_expr = eu["expr"].as_str().expect("expr");
            assert!(eu_expr.ends_with(", slo=~\"redis-cache\"}"), "{eu_expr}");
            let main_expr = list[1]["expr"].as_str().expect("expr");
            assert!(!main_expr.contains("redis-cache"), "{main_expr}");
            assert!(main_expr.contains("|"), "{main_expr}");
            for expr in [eu_expr, main_expr] {
                let concrete = expr
                    .replace("$service", "checkout")
                    .replace("$slo", "availability");
                promql_parser::parser::parse(&concrete).unwrap_or_else(|e| panic!("{expr}: {e}"));
            }
        }
    }

    #[test]
    fn variable_names_of_similar_datasources_differ() {
        let mut c = config("tests/fixtures/config/everything.good.yaml");
        let slos: Vec<Slo> = c
            .slos
            .iter()
            .take(2)
            .zip(["a-b", "a_b"])
            .map(|(s, ds)| Slo {
                datasource: Some(ds.into()),
                ..(**s).clone()
            })
            .collect();
        c.slos = slos.into_iter().map(std::sync::Arc::new).collect();
        let names: Vec<String> = rule_sources(&Spec::of(&c))
            .into_iter()
            .map(|r| r.variable)
            .collect();
        assert_eq!(names, ["rules_a_b", "rules_a_b_2"]);
    }

    #[test]
    fn state_codes_rank_worst_first() {
        let q = state_code("m", "service=\"a\"", "slo", &State::SLO_STATES);
        assert_eq!(
            q,
            "min by (slo) (sum without (state) (m{service=\"a\", state=\"pass\"}) * 5 + \
             sum without (state) (m{service=\"a\", state=\"warn\"}) * 4 + \
             sum without (state) (m{service=\"a\", state=\"fail\"}) * 2 + \
             sum without (state) (m{service=\"a\", state=\"insufficient_data\"}) * 1)"
        );
    }
}
