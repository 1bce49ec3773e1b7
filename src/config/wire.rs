//! The config file as written: loose serde structs (strings for durations and
//! selectors) so that validation can report every problem at once.
//!
//! Unknown fields are collected by `serde_ignored` rather than refused by
//! `deny_unknown_fields`, which would stop at the first one.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::slo::SliKind;

/// A number kept as its decimal text (`99.9` stays `99.9`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Decimal {
    Number(f64),
    Text(String),
}

impl Decimal {
    pub fn text(&self) -> String {
        match self {
            Self::Number(n) => format!("{n}"),
            Self::Text(t) => t.trim().to_string(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Config {
    #[serde(rename = "apiVersion")]
    pub api_version: Option<String>,
    pub prometheus: Option<Prometheus>,
    /// Named backends besides (or instead of) `prometheus`, which is the one
    /// called `default`.
    #[serde(default)]
    pub datasources: BTreeMap<String, Prometheus>,
    #[serde(default)]
    pub evaluation: Evaluation,
    #[serde(default)]
    pub defaults: Defaults,
    pub launch: Option<Launch>,
    /// How far SLOs may drift from a baseline (`check --baseline`).
    pub baseline: Option<BaselineSettings>,
    /// How generated alerts route and link (read by `generate` only).
    pub alerting: Option<GlobalAlerting>,
    /// Spans whose events count in no SLO's windows.
    #[serde(default)]
    pub exclusions: Vec<Exclusion>,
    #[serde(default)]
    pub slos: Vec<Slo>,
}

#[derive(Debug, Deserialize)]
pub struct Exclusion {
    pub start: Option<String>,
    pub end: Option<String>,
    pub reason: Option<String>,
    /// A recurring one: `day` or `week`, with `day` (of the week), `at` (local
    /// `HH:MM`), `for` and `timezone`.
    pub every: Option<String>,
    pub day: Option<String>,
    pub at: Option<String>,
    #[serde(rename = "for")]
    pub for_: Option<String>,
    pub timezone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct GlobalAlerting {
    #[serde(default)]
    pub severity: Severities,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub grafana_url: Option<String>,
    pub runbook_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Severities {
    pub page: Option<String>,
    pub ticket: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Prometheus {
    pub url: Option<String>,
    pub timeout: Option<String>,
    pub bearer_token_file: Option<PathBuf>,
    pub basic_auth: Option<BasicAuth>,
    pub tls: Option<Tls>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub partial_response: Option<String>,
    pub max_response_bytes: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct BasicAuth {
    pub username: Option<String>,
    pub password_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
pub struct Tls {
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub insecure_skip_verify: bool,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub server_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Evaluation {
    pub interval: Option<String>,
    pub concurrency: Option<i64>,
    pub long_window_interval: Option<String>,
    pub max_series_per_query: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Defaults {
    pub window: Option<Window>,
    pub min_events: Option<i64>,
    pub min_scrapes: Option<i64>,
    pub warn_budget_remaining: Option<f64>,
}

/// A window: a duration (`30d`), the shorthand `calendar-month`, or
/// `{calendar: month, timezone: Europe/Berlin}`. Read as YAML so that every
/// problem in it is named (an untagged enum would only say "no variant").
pub type Window = serde_norway::Value;

#[derive(Debug, Default, Deserialize)]
pub struct BaselineSettings {
    pub tolerance: Option<Tolerance>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Tolerance {
    pub error_ratio: Option<f64>,
    pub latency: Option<f64>,
}

#[derive(Debug, Deserialize)]
pub struct Launch {
    pub at: Option<String>,
    #[serde(default)]
    pub checkpoints: Vec<String>,
    /// After this long past launch, `serve` records a baseline and compares
    /// every later evaluation with it.
    pub baseline: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Slo {
    pub name: Option<String>,
    /// The datasource it is evaluated on (default: `default`).
    pub datasource: Option<String>,
    pub objective: Option<Decimal>,
    pub window: Option<Window>,
    pub min_events: Option<i64>,
    pub warn_budget_remaining: Option<f64>,
    #[serde(default)]
    pub group_by: Vec<String>,
    pub service: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    pub description: Option<String>,
    pub runbook_url: Option<String>,
    pub key: Option<bool>,
    pub weight: Option<f64>,
    #[serde(default)]
    pub alerting: Alerting,
    pub baseline: Option<BaselineSettings>,
    /// Spans whose events count in none of this SLO's windows (besides the
    /// global ones).
    #[serde(default)]
    pub exclusions: Vec<Exclusion>,
    pub sli: Option<Sli>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Alerting {
    pub page: Option<AlertTier>,
    pub ticket: Option<AlertTier>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AlertTier {
    pub enabled: Option<bool>,
    #[serde(rename = "for")]
    pub for_: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
pub struct Sli {
    pub ratio: Option<Ratio>,
    pub latency: Option<Latency>,
    pub uptime: Option<Uptime>,
    pub cache: Option<Cache>,
    pub threshold: Option<Threshold>,
}

impl Sli {
    /// The kinds this block sets (exactly one is valid).
    pub fn kinds_set(&self) -> Vec<SliKind> {
        [
            (SliKind::Ratio, self.ratio.is_some()),
            (SliKind::Latency, self.latency.is_some()),
            (SliKind::Uptime, self.uptime.is_some()),
            (SliKind::Cache, self.cache.is_some()),
            (SliKind::Threshold, self.threshold.is_some()),
        ]
        .into_iter()
        .filter_map(|(kind, set)| set.then_some(kind))
        .collect()
    }
}

#[derive(Debug, Deserialize)]
pub struct Ratio {
    pub errors: Option<String>,
    pub good: Option<String>,
    pub total: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Latency {
    pub histogram: Option<String>,
    pub threshold: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Uptime {
    pub selector: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Cache {
    pub hits: Option<String>,
    pub misses: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Threshold {
    pub query: Option<String>,
    pub op: Option<String>,
    pub value: Option<f64>,
}

/// Every field name the config accepts, for "did you mean" hints.
pub const KNOWN_FIELDS: &[&str] = &[
    "apiVersion",
    "prometheus",
    "datasources",
    "datasource",
    "exclusions",
    "start",
    "end",
    "reason",
    "calendar",
    "timezone",
    "every",
    "day",
    "at",
    "for",
    "evaluation",
    "defaults",
    "launch",
    "slos",
    "url",
    "timeout",
    "bearer_token_file",
    "basic_auth",
    "username",
    "password_file",
    "tls",
    "ca_file",
    "insecure_skip_verify",
    "cert_file",
    "key_file",
    "server_name",
    "max_response_bytes",
    "headers",
    "partial_response",
    "interval",
    "long_window_interval",
    "max_series_per_query",
    "concurrency",
    "window",
    "min_events",
    "min_scrapes",
    "warn_budget_remaining",
    "at",
    "checkpoints",
    "name",
    "objective",
    "group_by",
    "service",
    "labels",
    "description",
    "runbook_url",
    "key",
    "weight",
    "alerting",
    "severity",
    "grafana_url",
    "page",
    "ticket",
    "enabled",
    "for",
    "sli",
    "ratio",
    "latency",
    "uptime",
    "cache",
    "threshold",
    "errors",
    "good",
    "total",
    "histogram",
    "selector",
    "hits",
    "misses",
    "query",
    "op",
    "value",
    "baseline",
    "tolerance",
    "error_ratio",
];
