//! The subset of Grafana's classic dashboard JSON slogate writes, as typed structs
//! (checked against Grafana's own schema types by `tools/grafana-schema`).

use std::collections::BTreeMap;

use serde::Serialize;

/// Grafana's dashboard JSON schema version written; Grafana 10.x and later load it.
pub const SCHEMA_VERSION: u32 = 39;
/// Every panel and variable queries the data source picked in this variable.
pub const DATASOURCE_VAR: &str = "${datasource}";

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub uid: String,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub timezone: String,
    pub editable: bool,
    pub graph_tooltip: u8,
    pub schema_version: u32,
    pub version: u32,
    pub refresh: String,
    pub time: TimeRange,
    pub templating: Templating,
    pub annotations: Annotations,
    pub links: Vec<DashboardLink>,
    pub panels: Vec<Panel>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimeRange {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Templating {
    pub list: Vec<Variable>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub label: String,
    pub query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datasource: Option<DataSourceRef>,
    pub refresh: u8,
    pub hide: u8,
    pub multi: bool,
    pub include_all: bool,
    pub sort: u8,
    pub regex: String,
    pub skip_url_sync: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DataSourceRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub uid: String,
}

impl DataSourceRef {
    pub fn prometheus() -> Self {
        Self {
            kind: "prometheus".into(),
            uid: DATASOURCE_VAR.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Annotations {
    pub list: Vec<Annotation>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotation {
    pub built_in: u8,
    pub datasource: DataSourceRef,
    pub enable: bool,
    pub hide: bool,
    pub icon_color: String,
    pub name: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A Prometheus annotation query's own fields (`expr`, `step`, `titleFormat`,
    /// ...): Grafana's schema leaves annotation queries open to them.
    #[serde(flatten)]
    pub query: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardLink {
    pub title: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    pub icon: String,
    pub tooltip: String,
    pub tags: Vec<String>,
    pub as_dropdown: bool,
    pub include_vars: bool,
    pub keep_time: bool,
    pub target_blank: bool,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct GridPos {
    pub h: u32,
    pub w: u32,
    pub x: u32,
    pub y: u32,
}

/// A panel or a row (Grafana tells them apart by `type: row`).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Panel {
    Row(RowPanel),
    Viz(Box<VizPanel>),
}

#[derive(Debug, Clone, Serialize)]
pub struct RowPanel {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: u32,
    pub title: String,
    pub collapsed: bool,
    #[serde(rename = "gridPos")]
    pub grid_pos: GridPos,
    pub panels: Vec<Panel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VizPanel {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: u32,
    pub title: String,
    pub description: String,
    pub datasource: DataSourceRef,
    pub grid_pos: GridPos,
    pub targets: Vec<Target>,
    pub field_config: FieldConfigSource,
    pub options: serde_json::Value,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<DashboardLink>,
    /// Grafana transformations (`{id, options}`), e.g. to tidy a table.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transformations: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub ref_id: String,
    pub datasource: DataSourceRef,
    pub expr: String,
    pub legend_format: String,
    pub range: bool,
    pub instant: bool,
    /// `table` for one row per series (table panels).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldConfigSource {
    pub defaults: FieldConfig,
    pub overrides: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FieldConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u32>,
    pub color: FieldColor,
    pub thresholds: Thresholds,
    pub mappings: Vec<ValueMap>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<serde_json::Value>,
    /// Data links (`{title, url}`), e.g. from a table row to a dashboard.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldColor {
    pub mode: String,
}

impl Default for FieldColor {
    fn default() -> Self {
        Self {
            mode: "thresholds".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Thresholds {
    pub mode: String,
    pub steps: Vec<Step>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self::absolute(&[])
    }
}

impl Thresholds {
    /// Absolute steps: the base colour (green) then `(value, colour)` in order.
    pub fn absolute(steps: &[(f64, &str)]) -> Self {
        Self::from_base("green", steps)
    }

    pub fn from_base(base: &str, steps: &[(f64, &str)]) -> Self {
        let mut all = vec![Step {
            color: base.into(),
            value: None,
        }];
        all.extend(steps.iter().map(|(v, c)| Step {
            color: (*c).into(),
            value: Some(*v),
        }));
        Self {
            mode: "absolute".into(),
            steps: all,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub color: String,
    /// `null` for the base step.
    pub value: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValueMap {
    #[serde(rename = "type")]
    pub kind: String,
    pub options: BTreeMap<String, ValueText>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValueText {
    pub text: String,
    pub color: String,
    pub index: u32,
}

impl ValueMap {
    /// Maps each number to a text and colour.
    pub fn values(entries: &[(&str, &str, &str)]) -> Self {
        Self {
            kind: "value".into(),
            options: entries
                .iter()
                .enumerate()
                .map(|(i, (value, text, color))| {
                    (
                        (*value).to_string(),
                        ValueText {
                            text: (*text).into(),
                            color: (*color).into(),
                            index: i as u32,
                        },
                    )
                })
                .collect(),
        }
    }
}
