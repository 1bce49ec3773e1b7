//! YAML in, validated domain types out. Two stages: loose wire structs
//! (`config/wire.rs`), then checks that collect every problem with its field path.

mod check;
pub use check::{is_slo_name, label_name_problem, parse_promql, DEFAULT_DATASOURCE};
pub(crate) mod wire;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::prom::settings as prom;
use crate::slo::{Launch, Slo};

/// How often and how widely the daemon evaluates.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationSettings {
    pub interval: Duration,
    pub concurrency: usize,
    /// How often `serve` re-reads windows of a day or more (the SLO window's
    /// figures are at most this stale); shorter windows are read every interval.
    pub long_window_interval: Duration,
    /// A fused query returning more series than this is split per SLO.
    pub max_series_per_query: usize,
}

/// How generated alerts route and link, from the config's top-level `alerting`
/// (`generate` flags override the URLs).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertingSettings {
    /// `severity` label values of the page and ticket tiers (default `page`,
    /// `ticket`; kube-prometheus-stack routes `critical` and `warning`).
    pub page_severity: Option<String>,
    pub ticket_severity: Option<String>,
    /// Labels on every generated alert (`cluster`, `team`); an SLO's own win.
    pub labels: std::collections::BTreeMap<String, String>,
    pub grafana_url: Option<String>,
    pub runbook_url: Option<String>,
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Where it came from, for messages.
    pub source: String,
    /// The datasource called `default` (`prometheus:`).
    pub prometheus: prom::Settings,
    /// The other named datasources (`datasources:`), by name.
    pub datasources: std::collections::BTreeMap<String, prom::Settings>,
    pub evaluation: EvaluationSettings,
    pub launch: Option<Launch>,
    pub alerting: AlertingSettings,
    pub slos: Vec<Arc<Slo>>,
}

/// One problem in a config: where, and what is wrong with which value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// Every problem found in one config file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub source_name: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{}: {n} problem{}",
            self.source_name,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            if p.path.is_empty() {
                write!(f, "\n  {}: {}", self.source_name, p.message)?;
            } else {
                write!(f, "\n  {}: {}: {}", self.source_name, p.path, p.message)?;
            }
        }
        Ok(())
    }
}

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        source_name: name.clone(),
        problems: vec![Problem {
            path: String::new(),
            message: format!("cannot read the file: {e}"),
        }],
    })?;
    parse(&name, &text)
}

/// Validates config text; `source_name` names it in messages.
pub fn parse(source_name: &str, text: &str) -> Result<Config, ConfigError> {
    let fail = |problems: Vec<Problem>| ConfigError {
        source_name: source_name.to_string(),
        problems,
    };
    let read = check::deserialize(text).map_err(|p| fail(vec![p]))?;
    let found = read.problems.len();
    let mut checker = check::Checker::new(read.problems);
    let config = checker.config(source_name, read.wire);
    let mut problems = checker.into_problems();
    if let Some(kept) = &read.kept {
        // What the checks found among the parts read, as the file numbers its
        // SLOs; nothing about a part left out (its type error says it).
        let checked = problems.split_off(found);
        let left_out = |p: &Problem| {
            read.left_out
                .iter()
                .any(|k| p.path == *k || p.path.starts_with(&format!("{k}.")))
        };
        problems.extend(
            check::renumber(checked, kept)
                .into_iter()
                .filter(|p| !left_out(p)),
        );
    }
    match (problems, config) {
        (problems, Some(config)) if problems.is_empty() => Ok(config),
        (problems, _) => Err(fail(problems)),
    }
}

/// Problems with a `--prometheus.url` flag value.
pub fn check_url_flag(url: &str) -> Vec<Problem> {
    let mut checker = check::Checker::new(Vec::new());
    checker.url("--prometheus.url", url);
    checker.into_problems()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/config");

    /// Every `X.bad.yaml` fails with exactly the text of `X.bad.txt`; every
    /// `X.good.yaml` (and the shipped examples) loads.
    #[test]
    fn fixtures_give_their_expected_errors() {
        let mut seen = 0;
        for entry in std::fs::read_dir(FIXTURES).expect("fixtures dir") {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string();
            let text = std::fs::read_to_string(&path).expect("read fixture");
            if let Some(stem) = name.strip_suffix(".bad.yaml") {
                let want = std::fs::read_to_string(path.with_file_name(format!("{stem}.bad.txt")))
                    .expect("a .bad.txt beside each .bad.yaml");
                let got = parse(&name, &text).expect_err(&name).to_string();
                assert_eq!(got.trim_end(), want.trim_end(), "{name}");
                seen += 1;
            } else if name.ends_with(".good.yaml") {
                parse(&name, &text).unwrap_or_else(|e| panic!("{e}"));
                seen += 1;
            }
        }
        assert!(seen >= 3, "only {seen} fixtures found");
        for example in ["slogate.yaml", "demo.yaml", "launch-checklist.yaml"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("examples")
                .join(example);
            load(&path).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// An uptime SLO counts scrapes, not requests: 61 scrapes make a one-hour
    /// launch checkpoint, so the requests' 100 would never judge it.
    #[test]
    fn uptime_slos_need_scrapes_not_the_requests_minimum() {
        let config = |defaults: &str, own: &str| {
            let text = format!(
                "apiVersion: slogate/v1\ndefaults: {{{defaults}}}\nslos:\n\
                 - {{name: up, objective: 99.9, sli: {{uptime: {{selector: up}}}}{own}}}\n\
                 - {{name: ok, objective: 99.9, sli: {{ratio: {{errors: e_total, total: t_total}}}}}}\n"
            );
            let c = parse("t.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
            (c.slos[0].min_events, c.slos[1].min_events)
        };
        assert_eq!(config("", ""), (30, 100));
        assert_eq!(config("min_events: 500", ""), (30, 500));
        assert_eq!(config("min_scrapes: 10, min_events: 50", ""), (10, 50));
        assert_eq!(config("min_scrapes: 10", ", min_events: 90"), (90, 100));
        let e = parse(
            "t.yaml",
            "apiVersion: slogate/v1\ndefaults: {min_scrapes: -1}\nslos: []\n",
        )
        .expect_err("negative");
        assert!(
            e.to_string()
                .contains("defaults.min_scrapes: -1 is negative"),
            "{e}"
        );
    }

    #[test]
    fn objective_keeps_the_written_text() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/slogate.yaml"
        ))
        .expect("example");
        let config = parse("slogate.yaml", &text).expect("example parses");
        let o = config.slos[0].objective.as_ref().expect("objective");
        assert_eq!((o.percent_text(), o.ratio()), ("99.9", 0.999));
    }

    proptest::proptest! {
        /// Bad input never panics: any window, checkpoint, threshold or objective
        /// text is either a valid config or a config error; a valid one plans its
        /// queries and alert tiers.
        #[test]
        fn extreme_numbers_are_errors_never_panics(
            window in "[0-9]{1,22}[ywdhm]",
            checkpoint in "[0-9]{1,22}(y|d|h|ms)",
            threshold in "[0-9]{1,22}(ms|s|d)",
            objective in "[0-9]{1,4}(\\.[0-9]{0,45})?",
        ) {
            let text = format!(
                "apiVersion: slogate/v1\nlaunch: {{at: 2026-11-22T09:00:00Z, checkpoints: [{checkpoint}]}}\n\
                 slos:\n  - name: a\n    objective: \"{objective}\"\n    window: {window}\n\
                 \x20   sli: {{latency: {{histogram: h, threshold: {threshold}}}}}\n"
            );
            if let Some(o) = crate::slo::Objective::from_percent_text(&objective) {
                let _ = (o.budget_text(), o.budget());
            }
            if let Ok(config) = parse("x.yaml", &text) {
                for slo in &config.slos {
                    let _ = slo.plan(slo.window);
                    let _ = slo.tiers();
                    let _ = slo.objective.as_ref().map(|o| o.budget_text());
                }
            }
        }
    }

    #[test]
    fn empty_file_says_where_to_start() {
        assert_eq!(
            parse("x.yaml", "  \n").unwrap_err().to_string(),
            "x.yaml: 1 problem\n  x.yaml: the file is empty; start from examples/slogate.yaml"
        );
    }

    #[test]
    fn type_errors_name_the_field() {
        let err = parse(
            "x.yaml",
            "apiVersion: slogate/v1\nevaluation: {concurrency: many}\nslos: []\n",
        )
        .unwrap_err();
        assert_eq!(err.problems[0].path, "evaluation.concurrency");
        assert!(
            err.problems[0]
                .message
                .starts_with("invalid type: string \"many\", expected i64"),
            "{err}"
        );
    }
}
