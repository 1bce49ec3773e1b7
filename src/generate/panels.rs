//! Building blocks of the generated dashboards: grid layout, panels of each type,
//! field configs, variables and links. Content lives in `dashboards.rs`.

use serde_json::json;

use super::grafana::{
    Annotation, Annotations, Dashboard, DashboardLink, DataSourceRef, FieldColor, FieldConfig,
    FieldConfigSource, GridPos, Panel, RowPanel, Target, Templating, Thresholds, TimeRange,
    ValueMap, Variable, VizPanel, SCHEMA_VERSION,
};
use crate::eval::State;
use crate::slo::conventions::metric;

pub(super) const GRID_WIDTH: u32 = 24;

/// State codes of the "state" stat panels: higher is better.
pub(super) const STATE_CODES: [(State, u8, &str); 6] = [
    (State::Pass, 5, "green"),
    (State::Warn, 4, "yellow"),
    (State::Pending, 3, "blue"),
    (State::Fail, 2, "red"),
    (State::InsufficientData, 1, "text"),
    (State::Unknown, 0, "purple"),
];

/// A gauge of slogate's, one series however many replicas export it (replicas
/// compute the same numbers from the same Prometheus).
pub(super) fn gauge(name: &str, selector: &str) -> String {
    format!("max without (instance, pod) ({name}{{{selector}}})")
}

/// A roll-up of slogate's (readiness, launch score): one series from HA
/// replicas (`max` across pods of one shard), the worst of a sharded serve's
/// shards (`min` across `shard`); without sharding there is no `shard` label.
pub(super) fn rollup(name: &str, selector: &str) -> String {
    format!("min without (shard) ({})", gauge(name, selector))
}

/// One number per group from a one-hot `{state}` gauge: the worst state wins.
pub(super) fn state_code(metric_name: &str, selector: &str, by: &str, states: &[State]) -> String {
    let terms: Vec<String> = STATE_CODES
        .iter()
        .filter(|(s, code, _)| states.contains(s) && *code > 0)
        .map(|(s, code, _)| {
            format!(
                "sum without (state) ({metric_name}{{{selector}{}state=\"{}\"}}) * {code}",
                if selector.is_empty() { "" } else { ", " },
                s.as_str()
            )
        })
        .collect();
    format!("min by ({by}) ({})", terms.join(" + "))
}

pub(super) fn state_mapping(states: &[State]) -> ValueMap {
    let entries: Vec<(String, String, &str)> = STATE_CODES
        .iter()
        .filter(|(s, _, _)| states.contains(s))
        .map(|(s, code, color)| (code.to_string(), s.as_str().to_uppercase(), *color))
        .collect();
    let refs: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), *c))
        .collect();
    ValueMap::values(&refs)
}

/// Places panels left to right, wrapping at the grid width.
pub(super) struct Layout {
    x: u32,
    y: u32,
    row_height: u32,
    next_id: u32,
}

impl Layout {
    pub(super) fn new() -> Self {
        Self {
            x: 0,
            y: 0,
            row_height: 0,
            next_id: 1,
        }
    }

    pub(super) fn place(&mut self, w: u32, h: u32) -> GridPos {
        if self.x + w > GRID_WIDTH {
            self.newline();
        }
        let pos = GridPos {
            h,
            w,
            x: self.x,
            y: self.y,
        };
        self.x += w;
        self.row_height = self.row_height.max(h);
        pos
    }

    pub(super) fn newline(&mut self) {
        self.y += self.row_height;
        self.x = 0;
        self.row_height = 0;
    }

    pub(super) fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub(super) fn row(&mut self, title: &str, repeat: Option<&str>) -> Panel {
        self.newline();
        let grid_pos = GridPos {
            h: 1,
            w: GRID_WIDTH,
            x: 0,
            y: self.y,
        };
        self.y += 1;
        Panel::Row(RowPanel {
            kind: "row".into(),
            id: self.id(),
            title: title.into(),
            collapsed: false,
            grid_pos,
            panels: Vec::new(),
            repeat: repeat.map(String::from),
        })
    }
}

/// A query and its legend.
pub(super) struct Query<'a>(pub(super) &'a str, pub(super) String);

pub(super) fn stat_options(text_mode: &str, color_mode: &str) -> serde_json::Value {
    json!({
        "reduceOptions": {"values": false, "calcs": ["lastNotNull"], "fields": ""},
        "orientation": "auto",
        "textMode": text_mode,
        "colorMode": color_mode,
        "graphMode": "none",
        "justifyMode": "auto",
        "percentChangeColorMode": "standard",
        "showPercentChange": false,
        "wideLayout": true,
    })
}

pub(super) fn timeseries_options() -> serde_json::Value {
    json!({
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": true, "calcs": []},
        "tooltip": {"mode": "multi", "sort": "none"},
    })
}

/// Line style; `thresholds` draws the threshold steps as lines.
pub(super) fn timeseries_custom(threshold_lines: bool) -> serde_json::Value {
    json!({
        "drawStyle": "line",
        "lineWidth": 1,
        "fillOpacity": 10,
        "showPoints": "never",
        "spanNulls": false,
        "axisPlacement": "auto",
        "thresholdsStyle": {"mode": if threshold_lines { "dashed" } else { "off" }},
    })
}

pub(super) struct PanelSpec<'a> {
    pub(super) kind: &'a str,
    pub(super) title: &'a str,
    pub(super) description: String,
    pub(super) queries: Vec<Query<'a>>,
    pub(super) defaults: FieldConfig,
    pub(super) options: serde_json::Value,
    pub(super) size: (u32, u32),
}

/// Panel kinds drawn over time (range queries); the others show the instant.
const OVER_TIME: [&str; 2] = ["timeseries", "state-timeline"];

pub(super) fn panel(layout: &mut Layout, spec: PanelSpec<'_>) -> Panel {
    let targets = spec
        .queries
        .iter()
        .enumerate()
        .map(|(i, Query(legend, expr))| Target {
            ref_id: ref_id(i),
            datasource: DataSourceRef::prometheus(),
            expr: expr.clone(),
            legend_format: (*legend).to_string(),
            range: OVER_TIME.contains(&spec.kind),
            instant: !OVER_TIME.contains(&spec.kind),
            format: (spec.kind == "table").then(|| "table".to_string()),
        })
        .collect();
    Panel::Viz(Box::new(VizPanel {
        kind: spec.kind.into(),
        id: layout.id(),
        title: spec.title.into(),
        description: spec.description,
        datasource: DataSourceRef::prometheus(),
        grid_pos: layout.place(spec.size.0, spec.size.1),
        targets,
        field_config: FieldConfigSource {
            defaults: spec.defaults,
            overrides: Vec::new(),
        },
        options: spec.options,
        links: Vec::new(),
        transformations: Vec::new(),
    }))
}

/// A table of instant values, one row per series: the label columns named in
/// `columns` (in that order) and the value as `value_name`, sorted by the value,
/// highest first.
pub(super) fn table(
    layout: &mut Layout,
    title: &str,
    description: &str,
    query: Query<'_>,
    (columns, value_name): (&[&str], &str),
    defaults: FieldConfig,
    size: (u32, u32),
) -> Panel {
    let mut p = panel(
        layout,
        PanelSpec {
            kind: "table",
            title,
            description: description.into(),
            queries: vec![query],
            defaults,
            options: json!({
                "frameIndex": 0,
                "showHeader": true,
                "cellHeight": "sm",
                "sortBy": [{"displayName": value_name, "desc": true}],
            }),
            size,
        },
    );
    if let Panel::Viz(v) = &mut p {
        let order: serde_json::Map<String, serde_json::Value> = columns
            .iter()
            .chain(std::iter::once(&"Value"))
            .enumerate()
            .map(|(i, c)| ((*c).to_string(), json!(i)))
            .collect();
        v.transformations = vec![json!({
            "id": "organize",
            "options": {
                "excludeByName": {"Time": true},
                "indexByName": order,
                "renameByName": {"Value": value_name},
            },
        })];
    }
    p
}

/// Each series' state over time as coloured bands (`mappings` name the states).
pub(super) fn state_timeline(
    layout: &mut Layout,
    title: &str,
    description: &str,
    queries: Vec<Query<'_>>,
    defaults: FieldConfig,
    size: (u32, u32),
) -> Panel {
    panel(
        layout,
        PanelSpec {
            kind: "state-timeline",
            title,
            description: description.into(),
            queries,
            defaults,
            options: json!({
                "mergeValues": true,
                "showValue": "never",
                "alignValue": "left",
                "rowHeight": 0.9,
                "legend": {"displayMode": "list", "placement": "bottom", "showLegend": false, "calcs": []},
                "tooltip": {"mode": "single", "sort": "none"},
            }),
            size,
        },
    )
}

pub(super) fn stat(
    layout: &mut Layout,
    title: &str,
    description: &str,
    queries: Vec<Query<'_>>,
    defaults: FieldConfig,
    size: (u32, u32),
) -> Panel {
    panel(
        layout,
        PanelSpec {
            kind: "stat",
            title,
            description: description.into(),
            queries,
            defaults,
            options: stat_options("value_and_name", "background"),
            size,
        },
    )
}

pub(super) fn timeseries(
    layout: &mut Layout,
    title: &str,
    description: &str,
    queries: Vec<Query<'_>>,
    mut defaults: FieldConfig,
    size: (u32, u32),
) -> Panel {
    let lines = defaults.thresholds.steps.len() > 1;
    defaults.custom = Some(timeseries_custom(lines));
    defaults.color = FieldColor {
        mode: "palette-classic".into(),
    };
    panel(
        layout,
        PanelSpec {
            kind: "timeseries",
            title,
            description: description.into(),
            queries,
            defaults,
            options: timeseries_options(),
            size,
        },
    )
}

/// A time series panel of `data` with `limits` drawn as dashed red lines: each
/// SLO's own objective or threshold, read from slogate's gauges, so SLOs with
/// different limits in one panel each get theirs.
pub(super) fn timeseries_with_limits(
    layout: &mut Layout,
    (title, description): (&str, &str),
    data: Vec<Query<'_>>,
    limits: Vec<Query<'_>>,
    defaults: FieldConfig,
    size: (u32, u32),
) -> Panel {
    let first_limit = data.len();
    let count = data.len() + limits.len();
    let queries = data.into_iter().chain(limits).collect();
    let mut panel = timeseries(layout, title, description, queries, defaults, size);
    if let Panel::Viz(p) = &mut panel {
        for i in first_limit..count {
            p.field_config.overrides.push(json!({
                "matcher": {"id": "byFrameRefID", "options": ref_id(i)},
                "properties": [
                    {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
                    {"id": "custom.fillOpacity", "value": 0},
                    {"id": "color", "value": {"mode": "fixed", "fixedColor": "red"}},
                ],
            }));
        }
    }
    panel
}

/// The id of a panel's `i`th query: A, B, ...
fn ref_id(i: usize) -> String {
    char::from(b'A' + i as u8).to_string()
}

/// Error budget left: red when overspent, orange under the default warning level.
pub(super) fn budget_field() -> FieldConfig {
    FieldConfig {
        thresholds: Thresholds::from_base("red", &[(0.0, "orange"), (0.25, "green")]),
        ..percent()
    }
}

/// One neutral colour: the value itself carries no verdict.
pub(super) fn fixed(field: FieldConfig) -> FieldConfig {
    FieldConfig {
        color: FieldColor {
            mode: "fixed".into(),
        },
        ..field
    }
}

pub(super) fn percent() -> FieldConfig {
    FieldConfig {
        unit: Some("percentunit".into()),
        decimals: Some(3),
        ..FieldConfig::default()
    }
}

pub(super) fn variable_datasource() -> Variable {
    datasource_variable("datasource", "Data source")
}

/// A Prometheus data source picker called `name`.
pub(super) fn datasource_variable(name: &str, label: &str) -> Variable {
    Variable {
        kind: "datasource".into(),
        name: name.into(),
        label: label.into(),
        query: "prometheus".into(),
        datasource: None,
        refresh: 1,
        hide: 0,
        multi: false,
        include_all: false,
        sort: 0,
        regex: String::new(),
        skip_url_sync: false,
    }
}

pub(super) fn variable_query(name: &str, label: &str, query: &str, multi: bool) -> Variable {
    Variable {
        kind: "query".into(),
        name: name.into(),
        label: label.into(),
        query: query.into(),
        datasource: Some(DataSourceRef::prometheus()),
        refresh: 2,
        hide: 0,
        multi,
        include_all: multi,
        sort: 1,
        regex: String::new(),
        skip_url_sync: false,
    }
}

pub(super) fn annotations() -> Annotations {
    Annotations {
        list: vec![Annotation {
            built_in: 1,
            datasource: DataSourceRef {
                kind: "grafana".into(),
                uid: "-- Grafana --".into(),
            },
            enable: true,
            hide: true,
            icon_color: "rgba(0, 211, 255, 1)".into(),
            name: "Annotations & Alerts".into(),
            kind: Some("dashboard".into()),
            query: serde_json::Map::new(),
        }],
    }
}

/// Marks where the generated alerts fired (Prometheus' `ALERTS` series) for the
/// SLOs `sel` selects: title the alert, text its SLO, service and severity.
pub(super) fn firing_alerts(sel: &str) -> Annotation {
    firing_alerts_on(sel, DataSourceRef::prometheus(), "Firing SLO alerts")
}

/// [`firing_alerts`] read from the data source `datasource` (the ruler of a named
/// slogate datasource), shown as `name`.
pub(super) fn firing_alerts_on(sel: &str, datasource: DataSourceRef, name: &str) -> Annotation {
    let query = [
        (
            "expr",
            json!(format!("ALERTS{{alertstate=\"firing\", {sel}}}")),
        ),
        ("step", json!("1m")),
        ("titleFormat", json!("{{alertname}}")),
        ("textFormat", json!("{{slo}} / {{service}} ({{severity}})")),
        ("tagKeys", json!("slo,service,severity")),
        ("useValueForTime", json!(false)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Annotation {
        built_in: 0,
        datasource,
        enable: true,
        hide: false,
        icon_color: "red".into(),
        name: name.into(),
        kind: None,
        query,
    }
}

pub(super) fn link(title: &str, url: &str, tooltip: &str) -> DashboardLink {
    DashboardLink {
        title: title.into(),
        kind: "link".into(),
        url: url.into(),
        icon: "dashboard".into(),
        tooltip: tooltip.into(),
        tags: Vec::new(),
        as_dropdown: false,
        include_vars: true,
        keep_time: true,
        target_blank: false,
    }
}

pub(super) fn dashboard_url(uid: &str) -> String {
    format!("/d/{uid}/{uid}")
}

pub(super) fn new_dashboard(
    uid: &str,
    title: &str,
    source: &str,
    variables: Vec<Variable>,
    links: Vec<DashboardLink>,
    panels: Vec<Panel>,
) -> Dashboard {
    Dashboard {
        uid: uid.into(),
        title: title.into(),
        description: format!("Generated by slogate from {source}; do not edit."),
        tags: vec!["slogate".into(), "slo".into()],
        timezone: "browser".into(),
        editable: true,
        graph_tooltip: 1,
        schema_version: SCHEMA_VERSION,
        version: 1,
        refresh: "1m".into(),
        time: TimeRange {
            from: "now-24h".into(),
            to: "now".into(),
        },
        templating: Templating { list: variables },
        annotations: annotations(),
        links,
        panels,
    }
}

/// The worst state of each SLO matching `sel`, as coloured text.
pub(super) fn slo_state(layout: &mut Layout, title: &str, sel: &str, size: (u32, u32)) -> Panel {
    let states = State::SLO_STATES;
    stat(
        layout,
        title,
        "The worst state across the SLO's groups.",
        vec![Query(
            "{{slo}}",
            state_code(metric::SLO_STATE, sel, "slo", &states),
        )],
        FieldConfig {
            mappings: vec![state_mapping(&states)],
            ..FieldConfig::default()
        },
        size,
    )
}

/// A 0/1 gauge shown as a green `yes` or a red `no`.
pub(super) fn yes_no(yes: &str, no: &str) -> FieldConfig {
    FieldConfig {
        mappings: vec![ValueMap::values(&[("1", yes, "green"), ("0", no, "red")])],
        thresholds: Thresholds::from_base("red", &[(1.0, "green")]),
        ..FieldConfig::default()
    }
}
