//! Turns wire structs into domain types, collecting every problem with the field
//! path and the offending value, and a hint where the fix is obvious.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use promql_parser::parser::{self, Expr};

mod sli;

use super::wire;
use super::{AlertingSettings, Config, EvaluationSettings, Problem};
use crate::prom::settings as prom;
use crate::slo::calendar;
use crate::slo::conventions::label;
use crate::slo::exclusion::{Every, Exclusion, Exclusions, Recurring};
use crate::slo::promql::QueryKind;
use crate::slo::{
    AlertTier, Alerting, Indicator, Launch, Objective, PromDuration, Slo, Tolerance, MAX_WINDOW,
};

const API_VERSION: &str = "slogate/v1";
const DEFAULT_URL: &str = "http://127.0.0.1:9090";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
const DEFAULT_CONCURRENCY: usize = 8;
/// 30 days of samples re-read every minute are most of slogate's cost; every five
/// minutes they move the SLO-window figures by at most 5 minutes of events.
const DEFAULT_LONG_WINDOW_INTERVAL: Duration = Duration::from_secs(300);
const DEFAULT_MAX_SERIES_PER_QUERY: usize = crate::slo::fuse::DEFAULT_MAX_SERIES;
const MAX_MAX_SERIES_PER_QUERY: i64 = 10_000_000;
/// Occurrences of recurring exclusions one window may hold (a daily one over
/// 400 days): each is a span of the window's query.
const MAX_RECURRING_SPANS: u64 = 400;

/// The datasource `prometheus:` stands for, and SLOs without one use.
pub const DEFAULT_DATASOURCE: &str = "default";
const DEFAULT_WINDOW: PromDuration = PromDuration::from_secs(30 * 86400);
const DEFAULT_MIN_EVENTS: u64 = 100;
/// Scrapes an uptime SLO needs before it is judged: its events are scrapes, not
/// requests, and a target scraped once a minute gives 60 an hour, so the requests'
/// 100 would leave a one-hour launch checkpoint never judged. 30 is half an hour
/// of one-minute scrapes (7.5 minutes of 15-second ones).
const DEFAULT_MIN_SCRAPES: u64 = 30;
const DEFAULT_WARN_BUDGET_REMAINING: f64 = 0.25;

fn ignored_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => {
            let p = ignored_path(parent);
            if p.is_empty() {
                key.clone()
            } else {
                format!("{p}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn unknown_field(path: String) -> Problem {
    let field = path.rsplit(['.', ']']).next().unwrap_or("").to_string();
    let hint = wire::KNOWN_FIELDS
        .iter()
        .map(|k| (edit_distance(&field, k), k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| format!("; did you mean `{k}`?"))
        .unwrap_or_default();
    Problem {
        path,
        message: format!("unknown field `{field}`{hint}"),
    }
}

/// Parses YAML into wire structs; returns them with one problem per unknown field.
/// The wire config and the problems found reading it: unknown fields, and type
/// errors (a string where a list belongs). A type error does not hide the rest:
/// the parts that fail to read are left out and reported, the others are read
/// and checked, so one run reports every problem. `Err` only when the text is
/// not YAML at all (or empty).
pub fn deserialize(text: &str) -> Result<Read, Problem> {
    if text.trim().is_empty() {
        return Err(Problem {
            path: String::new(),
            message: "the file is empty; start from examples/slogate.yaml".into(),
        });
    }
    let first = match read::<wire::Config>(serde_norway::Deserializer::from_str(text), "") {
        Ok((wire, problems)) => {
            return Ok(Read {
                wire,
                problems,
                kept: None,
                left_out: Vec::new(),
            })
        }
        Err(first) => first,
    };
    // Not YAML, or not a mapping: nothing to salvage.
    let Ok(serde_norway::Value::Mapping(mut doc)) = serde_norway::from_str(text) else {
        return Err(first);
    };
    let mut problems = Vec::new();
    let mut left_out = Vec::new();
    let keys: Vec<serde_norway::Value> = doc.keys().cloned().collect();
    for key in keys {
        if key.as_str() == Some("slos") {
            continue;
        }
        let mut part = serde_norway::Mapping::new();
        part.insert(key.clone(), doc[&key].clone());
        if let Err(p) = read::<wire::Config>(serde_norway::Value::Mapping(part), "") {
            problems.push(p);
            left_out.extend(key.as_str().map(str::to_string));
            doc.remove(&key);
        }
    }
    // Each SLO alone: a field with a type error is left out and the SLO read
    // again, so its other fields are still checked; an SLO that cannot be read
    // at all is left out, and the index of every SLO kept is remembered.
    let mut kept = Vec::new();
    if let Some(serde_norway::Value::Sequence(slos)) = doc.get_mut("slos") {
        let all = std::mem::take(slos);
        for (i, mut slo) in all.into_iter().enumerate() {
            let prefix = format!("slos[{i}]");
            // Bounded: each pass removes one of the SLO's fields.
            for _ in 0..16 {
                match read::<wire::Slo>(slo.clone(), &prefix) {
                    Ok(_) => {
                        kept.push(i);
                        slos.push(slo);
                        break;
                    }
                    Err(p) => {
                        let field = p
                            .path
                            .strip_prefix(&format!("{prefix}."))
                            .and_then(|rest| rest.split(['.', '[']).next())
                            .map(str::to_string);
                        problems.push(p);
                        let removed = match (&mut slo, field) {
                            (serde_norway::Value::Mapping(m), Some(f)) => {
                                m.remove(f.as_str()).is_some().then_some(f)
                            }
                            _ => None,
                        };
                        match removed {
                            // Without its `sli` the SLO's kind is unknown, and so
                            // whether it needs an objective.
                            Some(f) if f == "sli" => left_out
                                .extend([format!("{prefix}.sli"), format!("{prefix}.objective")]),
                            Some(f) => left_out.push(format!("{prefix}.{f}")),
                            None => break,
                        }
                    }
                }
            }
        }
        if kept.is_empty() && !slos.is_empty() {
            left_out.push("slos".to_string());
        }
    }
    if problems.is_empty() {
        problems.push(first);
    }
    match read::<wire::Config>(serde_norway::Value::Mapping(doc), "") {
        Ok((wire, unknown)) => {
            problems.extend(renumber(unknown, &kept));
            Ok(Read {
                wire,
                problems,
                kept: Some(kept),
                left_out,
            })
        }
        Err(_) => Err(problems.remove(0)),
    }
}

/// What [`deserialize`] read.
pub struct Read {
    pub wire: wire::Config,
    /// Unknown fields and type errors, paths as the file numbers its SLOs.
    pub problems: Vec<Problem>,
    /// When SLOs with type errors were left out: the file's index of each SLO
    /// read, for [`renumber`]ing the problems found checking them.
    pub kept: Option<Vec<usize>>,
    /// Top-level sections left out for a type error (`slos` when every SLO
    /// was): what checking finds missing there is not news.
    pub left_out: Vec<String>,
}

/// Reads `T` from `de`, collecting unknown fields; a type error names its field
/// path (under `prefix`).
fn read<'de, T: serde::Deserialize<'de>>(
    de: impl serde::Deserializer<'de>,
    prefix: &str,
) -> Result<(T, Vec<Problem>), Problem> {
    let join = |path: String| match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path,
        (false, true) => prefix.to_string(),
        (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
        (false, false) => format!("{prefix}.{path}"),
    };
    let mut unknown = Vec::new();
    let mut on_unknown = |path: serde_ignored::Path<'_>| {
        unknown.push(unknown_field(join(ignored_path(&path))));
    };
    let ignoring = serde_ignored::Deserializer::new(de, &mut on_unknown);
    let value: T = serde_path_to_error::deserialize(ignoring).map_err(|e| {
        let path = match e.path().to_string().as_str() {
            "." => String::new(),
            p => p.to_string(),
        };
        // The YAML error may already start with the path: say it once.
        let message = e.inner().to_string();
        let message = message
            .strip_prefix(&format!("{path}: "))
            .map_or(message.clone(), str::to_string);
        Problem {
            path: join(path),
            message,
        }
    })?;
    Ok((value, unknown))
}

/// Problem paths of the SLOs read (`slos[j]`, counted among the kept ones) as the
/// file numbers them (`slos[kept[j]]`).
pub fn renumber(problems: Vec<Problem>, kept: &[usize]) -> Vec<Problem> {
    problems
        .into_iter()
        .map(|mut p| {
            if let Some(rest) = p.path.strip_prefix("slos[") {
                if let Some((j, tail)) = rest.split_once(']') {
                    if let Some(i) = j.parse::<usize>().ok().and_then(|j| kept.get(j)) {
                        p.path = format!("slos[{i}]{tail}");
                    }
                }
            }
            p
        })
        .collect()
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What is wrong with a label name an SLO sets, if anything.
pub fn label_name_problem(name: &str) -> Option<String> {
    if !is_label_name(name) {
        Some(format!("{name:?} is not a valid Prometheus label name"))
    } else if name.starts_with("__") || label::RESERVED.contains(&name) {
        Some(format!("{name:?} is reserved by slogate or Prometheus"))
    } else {
        None
    }
}

/// True for names of letters, digits, '-' and '_'.
pub fn is_slo_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Parses a PromQL expression, naming what it is for in the message.
pub fn parse_promql(promql: &str) -> Result<Expr, String> {
    parser::parse(promql).map_err(|e| format!("invalid PromQL {promql:?}: {e}"))
}

/// Collects problems while converting.
pub struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    pub fn new(problems: Vec<Problem>) -> Self {
        Self { problems }
    }

    pub fn into_problems(self) -> Vec<Problem> {
        self.problems
    }

    fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_string(),
            message: message.into(),
        });
    }

    fn prom_duration(&mut self, path: &str, text: &str) -> Option<PromDuration> {
        match text.parse::<PromDuration>() {
            Ok(d) if d > MAX_WINDOW => {
                self.problem(
                    path,
                    format!("{text:?} is longer than {MAX_WINDOW}, the longest duration slogate accepts"),
                );
                None
            }
            Ok(d) if d.as_millis() > 0 => Some(d),
            Ok(_) => {
                self.problem(path, format!("{text:?} must be longer than zero"));
                None
            }
            Err(e) => {
                self.problem(path, format!("{text:?} is {e}"));
                None
            }
        }
    }

    fn std_duration(&mut self, path: &str, text: Option<&str>, default: Duration) -> Duration {
        let Some(text) = text else { return default };
        match humantime::parse_duration(text) {
            Ok(d) if !d.is_zero() => d,
            _ => {
                self.problem(
                    path,
                    format!("{text:?} is not a positive duration (e.g. 30s, 1m)"),
                );
                default
            }
        }
    }

    fn required<'a, T>(&mut self, path: &str, value: &'a Option<T>) -> Option<&'a T> {
        if value.is_none() {
            self.problem(path, "is required");
        }
        value.as_ref()
    }

    fn labels(&mut self, path: &str, labels: &BTreeMap<String, String>) {
        for name in labels.keys() {
            self.label_name(&format!("{path}.{name}"), name);
        }
    }

    fn label_name(&mut self, path: &str, name: &str) {
        if let Some(message) = label_name_problem(name) {
            self.problem(path, message);
        }
    }

    pub fn config(&mut self, source: &str, w: wire::Config) -> Option<Config> {
        match w.api_version.as_deref() {
            Some(API_VERSION) => {}
            Some(other) => self.problem(
                "apiVersion",
                format!("{other:?} is not supported; use {API_VERSION:?}"),
            ),
            None => self.problem("apiVersion", format!("is required; use {API_VERSION:?}")),
        }
        let mut named = w.datasources;
        let default_named = named.remove(DEFAULT_DATASOURCE);
        let has_default = w.prometheus.is_some() || default_named.is_some();
        if w.prometheus.is_some() && default_named.is_some() {
            self.problem(
                "datasources.default",
                "`prometheus` is the datasource called default: set one or the other",
            );
        }
        let prometheus = match default_named {
            Some(d) if w.prometheus.is_none() => self.prometheus("datasources.default", Some(d)),
            _ => self.prometheus("prometheus", w.prometheus),
        };
        let mut datasources = BTreeMap::new();
        for (name, d) in named {
            let at = format!("datasources.{name}");
            if !is_slo_name(&name) {
                self.problem(
                    &at,
                    format!("{name:?} may only hold letters, digits, '-' and '_'"),
                );
            }
            // `generate` writes a datasource's rules to `<name>/rules/`.
            if matches!(name.as_str(), "rules" | "dashboards") {
                self.problem(
                    &at,
                    format!(
                        "{name:?} is the name of a directory `generate` writes; choose another"
                    ),
                );
            }
            let settings = self.prometheus(&at, Some(d));
            datasources.insert(name, settings);
        }
        let evaluation = self.evaluation(&w.evaluation);
        let exclusions = self.exclusions("exclusions", &w.exclusions);
        self.no_overlap("exclusions", &exclusions.0);
        let mut defaults = self.defaults(&w.defaults);
        defaults.exclusions = exclusions;
        defaults.baseline = self.tolerance("baseline", w.baseline.as_ref(), Tolerance::default());
        let launch = w.launch.as_ref().and_then(|l| self.launch(l));
        let alerting = self.global_alerting(w.alerting.as_ref());
        if w.slos.is_empty() {
            self.problem("slos", "is empty; define at least one SLO");
        }
        let mut names = BTreeSet::new();
        let mut slos = Vec::new();
        for (i, s) in w.slos.iter().enumerate() {
            let path = format!("slos[{i}]");
            if let Some(name) = &s.name {
                if !names.insert(name.clone()) {
                    self.problem(
                        &format!("{path}.name"),
                        format!("{name:?} is defined twice"),
                    );
                }
            }
            let no_default = !has_default && !datasources.is_empty();
            let datasource = match s.datasource.as_deref().map(str::trim) {
                None if no_default => {
                    self.problem(
                        &format!("{path}.datasource"),
                        format!(
                            "is required: the config has no default datasource (`prometheus` or `datasources.default`); name one of {}",
                            datasources.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    );
                    None
                }
                None => None,
                Some(DEFAULT_DATASOURCE) if !no_default => None,
                Some(name) if datasources.contains_key(name) => Some(name.to_string()),
                Some(name) => {
                    let mut known: Vec<&str> = datasources.keys().map(String::as_str).collect();
                    if !no_default {
                        known.insert(0, DEFAULT_DATASOURCE);
                    }
                    self.problem(
                        &format!("{path}.datasource"),
                        format!(
                            "{name:?} is not a datasource of this config ({})",
                            known.join(", ")
                        ),
                    );
                    None
                }
            };
            if let Some(mut slo) = self.slo(&path, s, &defaults) {
                let own_label = slo.group_by.iter().any(|g| g == label::DATASOURCE)
                    || slo.labels.contains_key(label::DATASOURCE);
                if datasource.is_some() && own_label {
                    self.problem(
                        &format!("{path}.datasource"),
                        "the SLO's series carry its datasource as the label `datasource`, which its group_by or labels also set: rename that label",
                    );
                }
                slo.datasource = datasource;
                slos.push(Arc::new(slo));
            }
        }
        Some(Config {
            source: source.to_string(),
            prometheus,
            datasources,
            evaluation,
            launch,
            alerting,
            slos,
        })
    }

    fn global_alerting(&mut self, w: Option<&wire::GlobalAlerting>) -> AlertingSettings {
        let Some(w) = w else {
            return AlertingSettings::default();
        };
        self.labels("alerting.labels", &w.labels);
        let mut severity = |tier: &str, value: &Option<String>| {
            let value = value.as_ref()?;
            if value.trim().is_empty() {
                self.problem(
                    &format!("alerting.severity.{tier}"),
                    "is empty; Alertmanager routes on it (e.g. critical, warning)",
                );
                return None;
            }
            Some(value.clone())
        };
        let page_severity = severity("page", &w.severity.page);
        let ticket_severity = severity("ticket", &w.severity.ticket);
        for (field, url) in [
            ("grafana_url", &w.grafana_url),
            ("runbook_url", &w.runbook_url),
        ] {
            if let Some(u) = url {
                if url::Url::parse(u).is_err() {
                    self.problem(
                        &format!("alerting.{field}"),
                        format!("{u:?} is not a URL (want e.g. https://grafana.example.com)"),
                    );
                }
            }
        }
        AlertingSettings {
            page_severity,
            ticket_severity,
            labels: w.labels.clone(),
            grafana_url: w.grafana_url.clone(),
            runbook_url: w.runbook_url.clone(),
        }
    }

    fn prometheus(&mut self, at: &str, w: Option<wire::Prometheus>) -> prom::Settings {
        let Some(w) = w else {
            return prom::Settings {
                url: DEFAULT_URL.into(),
                timeout: DEFAULT_TIMEOUT,
                bearer_token_file: None,
                basic_auth: None,
                ca_file: None,
                insecure_skip_verify: false,
                client_cert: None,
                server_name: None,
                headers: BTreeMap::new(),
                partial_response: prom::PartialResponse::default(),
                max_response_bytes: prom::MAX_RESPONSE_BYTES,
            };
        };
        let url = w.url.clone().unwrap_or_else(|| DEFAULT_URL.into());
        self.url(&format!("{at}.url"), &url);
        let basic_auth = w.basic_auth.as_ref().and_then(|b| {
            let username = self.required(&format!("{at}.basic_auth.username"), &b.username)?;
            let password_file =
                self.required(&format!("{at}.basic_auth.password_file"), &b.password_file)?;
            Some(prom::BasicAuth {
                username: username.clone(),
                password_file: password_file.clone(),
            })
        });
        if basic_auth.is_some() && w.bearer_token_file.is_some() {
            self.problem(
                &format!("{at}.bearer_token_file"),
                "set either bearer_token_file or basic_auth, not both",
            );
        }
        let tls = w.tls.as_ref();
        let client_cert = match tls.map(|t| (&t.cert_file, &t.key_file)) {
            Some((Some(cert), Some(key))) => Some((cert.clone(), key.clone())),
            Some((Some(_), None)) => {
                self.problem(&format!("{at}.tls.key_file"), "cert_file needs key_file");
                None
            }
            Some((None, Some(_))) => {
                self.problem(&format!("{at}.tls.cert_file"), "key_file needs cert_file");
                None
            }
            _ => None,
        };
        let max_response_bytes = match w.max_response_bytes {
            None => prom::MAX_RESPONSE_BYTES,
            Some(n) if n >= 1024 => n as u64,
            Some(n) => {
                self.problem(
                    &format!("{at}.max_response_bytes"),
                    format!(
                        "{n} is too small; answers need at least 1024 bytes (default {})",
                        prom::MAX_RESPONSE_BYTES
                    ),
                );
                prom::MAX_RESPONSE_BYTES
            }
        };
        prom::Settings {
            url,
            timeout: self.std_duration(
                &format!("{at}.timeout"),
                w.timeout.as_deref(),
                DEFAULT_TIMEOUT,
            ),
            bearer_token_file: w.bearer_token_file,
            basic_auth,
            ca_file: w.tls.as_ref().and_then(|t| t.ca_file.clone()),
            insecure_skip_verify: w.tls.as_ref().is_some_and(|t| t.insecure_skip_verify),
            client_cert,
            server_name: tls.and_then(|t| t.server_name.clone()),
            headers: w.headers,
            partial_response: self.partial_response(at, w.partial_response.as_deref()),
            max_response_bytes,
        }
    }

    fn partial_response(&mut self, at: &str, text: Option<&str>) -> prom::PartialResponse {
        let Some(text) = text else {
            return prom::PartialResponse::default();
        };
        prom::PartialResponse::parse(text.trim()).unwrap_or_else(|| {
            self.problem(
                &format!("{at}.partial_response"),
                format!("{text:?} is not one of reject, accept"),
            );
            prom::PartialResponse::default()
        })
    }

    /// Checks a Prometheus URL; also used for `--prometheus.url`.
    pub fn url(&mut self, path: &str, url: &str) {
        match url::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => self.problem(
                path,
                format!("{url:?} is not an http(s) URL (e.g. http://127.0.0.1:9090)"),
            ),
        }
    }

    fn evaluation(&mut self, w: &wire::Evaluation) -> EvaluationSettings {
        let interval = self.std_duration(
            "evaluation.interval",
            w.interval.as_deref(),
            DEFAULT_INTERVAL,
        );
        let concurrency = match w.concurrency {
            None => DEFAULT_CONCURRENCY,
            Some(n @ 1..=256) => n as usize,
            Some(n) => {
                self.problem(
                    "evaluation.concurrency",
                    format!("{n} is not between 1 and 256"),
                );
                DEFAULT_CONCURRENCY
            }
        };
        let max_series_per_query = match w.max_series_per_query {
            None => DEFAULT_MAX_SERIES_PER_QUERY,
            Some(n @ 0..=MAX_MAX_SERIES_PER_QUERY) => n as usize,
            Some(n) => {
                self.problem(
                    "evaluation.max_series_per_query",
                    format!("{n} is not between 0 (never fuse) and {MAX_MAX_SERIES_PER_QUERY}"),
                );
                DEFAULT_MAX_SERIES_PER_QUERY
            }
        };
        EvaluationSettings {
            interval,
            concurrency,
            max_series_per_query,
            long_window_interval: self.std_duration(
                "evaluation.long_window_interval",
                w.long_window_interval.as_deref(),
                DEFAULT_LONG_WINDOW_INTERVAL,
            ),
        }
    }

    fn window(&mut self, path: &str, w: Option<&wire::Window>, default: Window) -> Window {
        use serde_norway::Value;
        let Some(w) = w else { return default };
        match w {
            Value::String(text) => {
                if calendar::Period::parse(text.trim()).is_some() {
                    self.problem(
                        path,
                        format!(
                            "{text:?} is not a duration; a calendar window is written calendar-{}",
                            text.trim()
                        ),
                    );
                    return default;
                }
                if let Some(period) = text.trim().strip_prefix("calendar-") {
                    return self
                        .calendar(path, path, Some(period), None)
                        .unwrap_or(default);
                }
                match self.prom_duration(path, text) {
                    Some(d) if d.as_millis() % 60_000 == 0 => Window {
                        duration: d,
                        calendar: None,
                    },
                    Some(_) => {
                        self.problem(path, format!("{text:?} must be whole minutes"));
                        default
                    }
                    None => default,
                }
            }
            Value::Mapping(map) => {
                let mut period = None;
                let mut timezone = None;
                for (key, value) in map {
                    let key = key.as_str().map_or_else(|| yaml_text(key), str::to_string);
                    let text = match value {
                        Value::String(t) => Some(t.as_str()),
                        _ => None,
                    };
                    match key.as_str() {
                        "calendar" | "timezone" if text.is_none() => self.problem(
                            &format!("{path}.{key}"),
                            format!("{} is not a string", yaml_text(value)),
                        ),
                        "calendar" => period = text,
                        "timezone" => timezone = text,
                        _ => self.problem(
                            &format!("{path}.{key}"),
                            "unknown field (a calendar window has `calendar` and `timezone`)",
                        ),
                    }
                }
                if period.is_none() {
                    self.problem(
                        &format!("{path}.calendar"),
                        "required: week, month or quarter",
                    );
                    return default;
                }
                self.calendar(path, &format!("{path}.calendar"), period, timezone)
                    .unwrap_or(default)
            }
            other => {
                self.problem(
                    path,
                    format!(
                        "{} is neither a duration (30d) nor a calendar window \
                         (calendar-month, or {{calendar: month, timezone: Europe/Berlin}})",
                        yaml_text(other)
                    ),
                );
                default
            }
        }
    }

    /// A calendar window from its period and time zone (UTC when `None`).
    /// `period_at` is where the period was written: the window itself for the
    /// shorthand `calendar-month`, its `calendar` field otherwise.
    fn calendar(
        &mut self,
        path: &str,
        period_at: &str,
        period: Option<&str>,
        tz: Option<&str>,
    ) -> Option<Window> {
        let text = period?.trim();
        let period = calendar::Period::parse(text);
        if period.is_none() {
            self.problem(
                period_at,
                format!("{text:?} is not a calendar period (week, month or quarter)"),
            );
        }
        let tz = self.timezone(&format!("{path}.timezone"), tz);
        let c = calendar::Calendar {
            period: period?,
            tz: tz?,
        };
        Some(Window {
            duration: c.period.nominal(),
            calendar: Some(c),
        })
    }

    fn min_events(&mut self, path: &str, value: Option<i64>, default: u64) -> u64 {
        match value {
            None => default,
            Some(n) if n >= 0 => n as u64,
            Some(n) => {
                self.problem(path, format!("{n} is negative"));
                default
            }
        }
    }

    fn warn_budget(&mut self, path: &str, value: Option<f64>, default: f64) -> f64 {
        match value {
            None => default,
            Some(v) if (0.0..=1.0).contains(&v) => v,
            Some(v) => {
                let hint = if (1.0..=100.0).contains(&v) {
                    format!("; did you mean {}?", v / 100.0)
                } else {
                    String::new()
                };
                self.problem(path, format!("{v} is not a ratio between 0 and 1{hint}"));
                default
            }
        }
    }

    fn weight(&mut self, path: &str, value: Option<f64>) -> f64 {
        match value {
            None => 1.0,
            Some(v) if v.is_finite() && v >= 0.0 => v,
            Some(v) => {
                self.problem(path, format!("{v} is not a non-negative number"));
                1.0
            }
        }
    }

    /// `baseline.tolerance` at `path`: a factor of at least 1 for error
    /// ratios, a fraction above 0 for latency.
    fn tolerance(
        &mut self,
        path: &str,
        w: Option<&wire::BaselineSettings>,
        default: Tolerance,
    ) -> Tolerance {
        let Some(t) = w.and_then(|b| b.tolerance.as_ref()) else {
            return default;
        };
        let mut out = default;
        if let Some(f) = t.error_ratio {
            if f.is_finite() && f >= 1.0 {
                out.error_ratio = f;
            } else {
                self.problem(
                    &format!("{path}.tolerance.error_ratio"),
                    format!("{f} is not a factor of at least 1 (2 flags twice the baseline's error ratio)"),
                );
            }
        }
        if let Some(l) = t.latency {
            if l.is_finite() && l > 0.0 {
                out.latency = l;
            } else {
                self.problem(
                    &format!("{path}.tolerance.latency"),
                    format!("{l} is not a fraction above 0 (0.2 flags a quantile 20% above the baseline's)"),
                );
            }
        }
        out
    }

    fn defaults(&mut self, w: &wire::Defaults) -> Defaults {
        Defaults {
            exclusions: (Vec::new(), Vec::new()),
            window: self.window(
                "defaults.window",
                w.window.as_ref(),
                Window {
                    duration: DEFAULT_WINDOW,
                    calendar: None,
                },
            ),
            baseline: Tolerance::default(),
            min_events: self.min_events("defaults.min_events", w.min_events, DEFAULT_MIN_EVENTS),
            min_scrapes: self.min_events(
                "defaults.min_scrapes",
                w.min_scrapes,
                DEFAULT_MIN_SCRAPES,
            ),
            warn_budget_remaining: self.warn_budget(
                "defaults.warn_budget_remaining",
                w.warn_budget_remaining,
                DEFAULT_WARN_BUDGET_REMAINING,
            ),
        }
    }

    fn launch(&mut self, w: &wire::Launch) -> Option<Launch> {
        let mut checkpoints: Vec<(String, PromDuration)> = w
            .checkpoints
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                self.prom_duration(&format!("launch.checkpoints[{i}]"), c)
                    .map(|d| (c.trim().to_string(), d))
            })
            .collect();
        // In time order, whatever order they are written in: timelines read so.
        checkpoints.sort_by_key(|(_, d)| *d);
        let baseline = w
            .baseline
            .as_deref()
            .and_then(|b| self.prom_duration("launch.baseline", b));
        let at_text = self.required("launch.at", &w.at)?;
        match chrono::DateTime::parse_from_rfc3339(at_text) {
            Ok(t) => Some(Launch {
                at: t.with_timezone(&chrono::Utc),
                checkpoints,
                baseline,
            }),
            Err(e) => {
                self.problem(
                    "launch.at",
                    format!("{at_text:?} is not an RFC 3339 time ({e})"),
                );
                None
            }
        }
    }

    /// The exclusions at `path`, each `{start, end, reason}` with `end` after
    /// `start`, numbered by their place in the list; sorted by start.
    fn exclusions(&mut self, path: &str, w: &[wire::Exclusion]) -> Listed {
        let mut out = Vec::new();
        let mut recurring = Vec::new();
        for (i, e) in w.iter().enumerate() {
            let at = format!("{path}[{i}]");
            if e.every.is_some() {
                recurring.extend(self.recurring(&at, e));
                continue;
            }
            for (field, set) in [
                ("day", e.day.is_some()),
                ("at", e.at.is_some()),
                ("for", e.for_.is_some()),
                ("timezone", e.timezone.is_some()),
            ] {
                if set {
                    self.problem(
                        &format!("{at}.{field}"),
                        "belongs to a recurring exclusion (with `every: day` or `every: week`)",
                    );
                }
            }
            let mut instant = |field: &str, text: &Option<String>| {
                let text = self.required(&format!("{at}.{field}"), text)?.clone();
                match chrono::DateTime::parse_from_rfc3339(text.trim()) {
                    Ok(t) => Some(t.with_timezone(&chrono::Utc)),
                    Err(err) => {
                        self.problem(
                            &format!("{at}.{field}"),
                            format!("{text:?} is not an RFC 3339 time ({err})"),
                        );
                        None
                    }
                }
            };
            let start = instant("start", &e.start);
            let end = instant("end", &e.end);
            let reason = self.exclusion_reason(&at, e.reason.as_deref());
            let (Some(start), Some(end), Some(reason)) = (start, end, reason) else {
                continue;
            };
            if end <= start {
                self.problem(
                    &at,
                    format!(
                        "end {} is not after start {}",
                        end.to_rfc3339(),
                        start.to_rfc3339()
                    ),
                );
                continue;
            }
            out.push((at, Exclusion { start, end, reason }));
        }
        out.sort_by_key(|(_, e)| e.start);
        (out, recurring)
    }

    /// A `timezone` at `path`: an IANA name, UTC when not set.
    fn timezone(&mut self, path: &str, text: Option<&str>) -> Option<chrono_tz::Tz> {
        let Some(name) = text.map(str::trim) else {
            return Some(chrono_tz::Tz::UTC);
        };
        let tz = calendar::parse_tz(name);
        if tz.is_none() {
            self.problem(
                path,
                format!("{name:?} is not an IANA time zone (e.g. UTC, Europe/Berlin)"),
            );
        }
        tz
    }

    /// An exclusion's `reason`: required, since every output says why.
    fn exclusion_reason(&mut self, at: &str, text: Option<&str>) -> Option<String> {
        match text.map(str::trim) {
            Some(r) if !r.is_empty() => Some(r.to_string()),
            _ => {
                self.problem(
                    &format!("{at}.reason"),
                    "is required: every output that leaves these events out says why",
                );
                None
            }
        }
    }

    /// A recurring exclusion: `every: day|week`, `day` for weeks, `at` (local
    /// `HH:MM`), `for` (shorter than the period), `timezone` (UTC), `reason`.
    fn recurring(&mut self, at: &str, e: &wire::Exclusion) -> Option<Recurring> {
        for (field, set) in [("start", e.start.is_some()), ("end", e.end.is_some())] {
            if set {
                self.problem(
                    &format!("{at}.{field}"),
                    "a recurring exclusion has `at` and `for`, not start and end",
                );
            }
        }
        let every_text = e.every.as_deref().unwrap_or_default().trim().to_lowercase();
        let day = e.day.as_deref().map(str::trim);
        let every = match (every_text.as_str(), day) {
            ("day", None) => Some(Every::Day),
            ("day", Some(_)) => {
                self.problem(&format!("{at}.day"), "only weekly exclusions have a day");
                None
            }
            ("week", Some(d)) => {
                match d.parse::<chrono::Weekday>() {
                    Ok(w) => Some(Every::Week(w)),
                    Err(_) => {
                        self.problem(
                        &format!("{at}.day"),
                        format!("{d:?} is not a day of the week (monday ... sunday, or mon ... sun)"),
                    );
                        None
                    }
                }
            }
            ("week", None) => {
                self.problem(&format!("{at}.day"), "is required for `every: week`");
                None
            }
            (other, _) => {
                self.problem(
                    &format!("{at}.every"),
                    format!("{other:?} is not day or week"),
                );
                None
            }
        };
        let start = match e.at.as_deref().map(str::trim) {
            Some(t) => match chrono::NaiveTime::parse_from_str(t, "%H:%M") {
                Ok(time) => Some(time),
                Err(_) => {
                    self.problem(
                        &format!("{at}.at"),
                        format!("{t:?} is not a local time HH:MM (e.g. 02:30)"),
                    );
                    None
                }
            },
            None => {
                self.problem(
                    &format!("{at}.at"),
                    "is required: the local time it starts (HH:MM)",
                );
                None
            }
        };
        let length = self
            .required(&format!("{at}.for"), &e.for_)
            .cloned()
            .and_then(|t| self.prom_duration(&format!("{at}.for"), &t));
        let period = match every {
            Some(Every::Week(_)) => PromDuration::from_secs(7 * 86400),
            _ => PromDuration::from_secs(86400),
        };
        let length = match length {
            // Against an unknown period, only the period's own message.
            Some(l) if l < period || every.is_none() => Some(l),
            Some(l) => {
                self.problem(
                    &format!("{at}.for"),
                    format!("{l} is not shorter than the period it recurs in ({period})"),
                );
                None
            }
            None => None,
        };
        let tz = self.timezone(&format!("{at}.timezone"), e.timezone.as_deref());
        let reason = self.exclusion_reason(at, e.reason.as_deref());
        Some(Recurring {
            every: every?,
            at: start?,
            length: length?,
            tz: tz?,
            reason: reason?,
        })
    }

    /// Reports every pair of exclusions in `list` (sorted by start) that
    /// overlap, at `path`, naming both.
    fn no_overlap(&mut self, path: &str, list: &[(String, Exclusion)]) {
        for pair in list.windows(2) {
            let ((a_at, a), (b_at, b)) = (&pair[0], &pair[1]);
            // Two global ones are reported once, at the top level.
            let own = a_at.starts_with(path) || b_at.starts_with(path);
            if b.start < a.end && own {
                self.problem(
                    path,
                    format!(
                        "{b_at} ({} to {}) overlaps {a_at} ({} to {})",
                        b.start.to_rfc3339(),
                        b.end.to_rfc3339(),
                        a.start.to_rfc3339(),
                        a.end.to_rfc3339()
                    ),
                );
            }
        }
    }

    fn objective(&mut self, path: &str, w: &Option<wire::Decimal>) -> Option<Objective> {
        let text = self.required(path, w)?.text();
        let value = text.parse::<f64>().ok();
        let decimals = text.split_once('.').map_or(0, |(_, f)| f.len());
        if decimals > Objective::MAX_DECIMALS {
            self.problem(
                path,
                format!(
                    "{text} has {decimals} decimals; at most {} are supported",
                    Objective::MAX_DECIMALS
                ),
            );
            return None;
        }
        match (Objective::from_percent_text(&text), value) {
            (Some(o), Some(v)) if (1.0..100.0).contains(&v) => Some(o),
            (_, Some(v)) if v > 0.0 && v < 1.0 => {
                let percent = (v * 1e6).round() / 1e4;
                self.problem(
                    path,
                    format!("{text} looks like a ratio; objectives are percentages: did you mean {percent}?"),
                );
                None
            }
            _ => {
                self.problem(
                    path,
                    format!("{text} is not a percentage between 1 and 100, exclusive (e.g. 99.9)"),
                );
                None
            }
        }
    }

    fn alert_tier(&mut self, path: &str, w: &Option<wire::AlertTier>) -> AlertTier {
        let Some(w) = w else {
            return AlertTier {
                enabled: true,
                ..AlertTier::default()
            };
        };
        self.labels(&format!("{path}.labels"), &w.labels);
        AlertTier {
            enabled: w.enabled.unwrap_or(true),
            for_: w
                .for_
                .as_deref()
                .and_then(|f| self.prom_duration(&format!("{path}.for"), f)),
            labels: w.labels.clone(),
        }
    }

    /// The SLO's label names: valid, not reserved, not hiding a group's value or
    /// contradicting its service.
    fn slo_labels(&mut self, path: &str, w: &wire::Slo) {
        for (i, g) in w.group_by.iter().enumerate() {
            self.label_name(&format!("{path}.group_by[{i}]"), g);
        }
        self.labels(&format!("{path}.labels"), &w.labels);
        self.labels(&format!("{path}.alerting.labels"), &w.alerting.labels);
        let service_grouped = w.group_by.iter().any(|g| g == label::SERVICE);
        if let (Some(value), false) = (w.labels.get(label::SERVICE), service_grouped) {
            let hint = match &w.service {
                Some(service) => format!("it would contradict `service: {service}`"),
                None => format!("set `service: {value}` instead"),
            };
            self.problem(
                &format!("{path}.labels.{}", label::SERVICE),
                format!("{value:?}: the service is the `service` field or the first group_by label; {hint}"),
            );
        }
        for g in &w.group_by {
            if w.labels.contains_key(g) {
                self.problem(
                    &format!("{path}.labels.{g}"),
                    format!(
                        "{g:?} is also in group_by; a static label would hide the group's value"
                    ),
                );
            }
        }
    }

    fn slo(&mut self, path: &str, w: &wire::Slo, d: &Defaults) -> Option<Slo> {
        let name = self.required(&format!("{path}.name"), &w.name).cloned();
        if let Some(n) = &name {
            if !is_slo_name(n) {
                self.problem(
                    &format!("{path}.name"),
                    format!("{n:?} may only hold letters, digits, '-' and '_'"),
                );
            }
        }
        let indicator = self.sli(&format!("{path}.sli"), &w.sli);
        let objective = match &indicator {
            Some(i) if i.is_probe() => {
                if w.objective.is_some() {
                    self.problem(
                        &format!("{path}.objective"),
                        "threshold probes have no objective: the probe's value and op decide",
                    );
                }
                None
            }
            _ => self.objective(&format!("{path}.objective"), &w.objective),
        };
        self.slo_labels(path, w);
        let window = self.window(&format!("{path}.window"), w.window.as_ref(), d.window);
        let kind_default = match &indicator {
            Some(Indicator::Uptime { .. }) => d.min_scrapes,
            _ => d.min_events,
        };
        let min_events = self.min_events(&format!("{path}.min_events"), w.min_events, kind_default);
        let warn_budget_remaining = self.warn_budget(
            &format!("{path}.warn_budget_remaining"),
            w.warn_budget_remaining,
            d.warn_budget_remaining,
        );
        let alerting = Alerting {
            page: self.alert_tier(&format!("{path}.alerting.page"), &w.alerting.page),
            ticket: self.alert_tier(&format!("{path}.alerting.ticket"), &w.alerting.ticket),
            labels: w.alerting.labels.clone(),
        };
        let (mut once, mut recurring) =
            self.exclusions(&format!("{path}.exclusions"), &w.exclusions);
        if !once.is_empty() {
            once.extend(d.exclusions.0.iter().cloned());
            once.sort_by_key(|(_, e)| e.start);
            self.no_overlap(&format!("{path}.exclusions"), &once);
        } else {
            once = d.exclusions.0.clone();
        }
        recurring.extend(d.exclusions.1.iter().cloned());
        // Each occurrence in a window is a span of its query: bound them.
        let occurrences: u64 = recurring
            .iter()
            .map(|r| {
                let period = match r.every {
                    Every::Day => 86_400_000,
                    Every::Week(_) => 7 * 86_400_000,
                };
                window.duration.as_millis() / period + 1
            })
            .sum();
        if occurrences > MAX_RECURRING_SPANS {
            self.problem(
                &format!("{path}.exclusions"),
                format!(
                    "recurring exclusions come back about {occurrences} times in the {} window \
                     (at most {MAX_RECURRING_SPANS}): each is a span of the window's query; use \
                     a shorter window or fewer recurring exclusions",
                    window.duration
                ),
            );
        }
        let exclusions = Exclusions {
            once: once.into_iter().map(|(_, e)| e).collect(),
            recurring,
        };
        let indicator = indicator?;
        if objective.is_none() && !indicator.is_probe() {
            return None;
        }
        let slo = Slo {
            name: name?,
            objective,
            window: window.duration,
            // A probe's query has no window: a calendar default does not apply.
            calendar: window.calendar.filter(|_| !indicator.is_probe()),
            datasource: None,
            exclusions,
            min_events,
            warn_budget_remaining,
            group_by: w.group_by.clone(),
            service: w.service.clone(),
            labels: w.labels.clone(),
            description: w.description.clone(),
            runbook_url: w.runbook_url.clone(),
            key: w.key.unwrap_or(true),
            weight: self.weight(&format!("{path}.weight"), w.weight),
            alerting,
            baseline: self.tolerance(&format!("{path}.baseline"), w.baseline.as_ref(), d.baseline),
            indicator,
        };
        // A probe's query (the user's expression inside ours) must parse. The
        // others are built from selectors parsed above, and a property test shows
        // they parse whatever the label values; parsing them here was half of
        // loading a config (each parse compiles every regex matcher).
        let plan = slo.plan(slo.window);
        for q in plan.iter().filter(|q| q.kind == QueryKind::Probe) {
            if let Err(e) = parse_promql(&q.promql) {
                self.problem(path, format!("generated query does not parse: {e}"));
            }
        }
        Some(slo)
    }
}

/// A checked window: its duration, and its calendar when it is one (then the
/// duration is the rolling equivalent, see [`calendar::Period::nominal`]).
#[derive(Debug, Clone, Copy)]
struct Window {
    duration: PromDuration,
    calendar: Option<calendar::Calendar>,
}

/// A YAML value as it would be written, for messages.
fn yaml_text(v: &serde_norway::Value) -> String {
    match v {
        serde_norway::Value::String(s) => format!("{s:?}"),
        other => serde_norway::to_string(other)
            .map(|t| t.trim().to_string())
            .unwrap_or_else(|_| "this value".into()),
    }
}

/// Exclusions as read: one-off ones with where each was written, and
/// recurring ones.
type Listed = (Vec<(String, Exclusion)>, Vec<Recurring>);

/// Defaults applied to every SLO that does not set its own.
struct Defaults {
    window: Window,
    /// The config's global exclusions (one-off ones with where each was
    /// written, and recurring ones).
    exclusions: Listed,
    /// `baseline.tolerance`, for SLOs without their own.
    baseline: Tolerance,
    min_events: u64,
    /// `min_events` of uptime SLOs, whose events are scrapes.
    min_scrapes: u64,
    warn_budget_remaining: f64,
}
