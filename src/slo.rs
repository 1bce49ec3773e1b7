//! The vocabulary of slogate: an SLO, its objective, its indicator and its windows,
//! the burn-rate table of the SRE workbook, and the one PromQL builder.

pub mod anchored;
mod burn;
pub mod calendar;
pub mod conventions;
mod duration;
pub mod exclusion;
pub mod fuse;
mod indicator;
pub mod number;
pub mod promql;

use std::collections::BTreeMap;

pub use burn::{
    dashboard_windows, rule_source, shown_window, tiers, BurnTier, BurnWindow, RuleSource,
    Severity, Tier, BURN_TIERS, BURN_WINDOWS, MAX_THRESHOLD_ERROR_RATIO, WINDOWS,
};
pub use duration::{DurationError, PromDuration};
pub use indicator::{
    CompareOp, Counts, Indicator, Part, RatioNumerator, SliKind, Source, MIN_FAILED_SCRAPES_TO_PAGE,
};

/// One series of an instant-query answer: its labels and value (NaN and infinities
/// are passed through as Prometheus sent them).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// One series of a range-query answer: its labels and `(unix seconds, value)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(f64, f64)>,
}

/// The longest window, launch checkpoint or latency threshold: ten years keeps
/// every instant slogate computes (launch + checkpoint, now - window) far inside
/// the range of dates, and no SLO is judged over more.
pub const MAX_WINDOW: PromDuration = PromDuration::from_secs(3650 * 86400);

/// An objective as the user wrote it (`99.9`), and the exact ratio it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    percent_text: String,
    ratio: f64,
}

impl Objective {
    /// Decimals an objective may have: keeps the budget's exact integer arithmetic
    /// within `u128` (and no real objective needs more than 99.9999999999).
    pub const MAX_DECIMALS: usize = 12;

    /// Parses a percentage written in decimal (`99.9`, `95`), keeping its text.
    /// The ratio is parsed from the shifted decimal text, so `99.9` is exactly `0.999`.
    /// `None` for anything else, including more than [`Self::MAX_DECIMALS`] decimals.
    pub fn from_percent_text(text: &str) -> Option<Self> {
        let text = text.trim();
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        if int.is_empty()
            || int.len() > 3
            || frac.len() > Self::MAX_DECIMALS
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let int = int.trim_start_matches('0');
        let padded = format!("{int:0>2}");
        let (whole, hundredths) = padded.split_at(padded.len() - 2);
        let ratio: f64 = format!(
            "{}.{hundredths}{frac}",
            if whole.is_empty() { "0" } else { whole }
        )
        .parse()
        .ok()?;
        Some(Self {
            percent_text: text.to_string(),
            ratio,
        })
    }

    /// The objective as a ratio, 0 to 1.
    pub fn ratio(&self) -> f64 {
        self.ratio
    }

    /// The percentage as written (`99.9`).
    pub fn percent_text(&self) -> &str {
        &self.percent_text
    }

    /// The error budget as a ratio, `1 - objective`, parsed from exact decimal text
    /// (0.001 for 99.9, not 1 - 0.999 = 0.0010000000000000009).
    pub fn budget(&self) -> f64 {
        self.budget_text().parse().unwrap_or(1.0 - self.ratio)
    }

    /// The error budget as exact decimal text (`99.9` -> `0.001`), for PromQL.
    pub fn budget_text(&self) -> String {
        let (int, frac) = self
            .percent_text
            .split_once('.')
            .unwrap_or((&self.percent_text, ""));
        // percent = digits / 10^frac.len(); budget ratio = (100 * 10^n - digits) / 10^(n + 2)
        let digits: u128 = format!("{int}{frac}").parse().unwrap_or(0);
        let scale = 10u128.pow(frac.len() as u32);
        let budget = (100 * scale).saturating_sub(digits);
        let places = frac.len() + 2;
        let text = format!("{budget:0>width$}", width = places + 1);
        let (whole, decimals) = text.split_at(text.len() - places);
        let decimals = decimals.trim_end_matches('0');
        if decimals.is_empty() {
            whole.to_string()
        } else {
            format!("{whole}.{decimals}")
        }
    }
}

/// A PromQL vector selector with a metric name, split so that suffixes and matchers
/// can be added (`http_request_duration_seconds` -> `..._bucket{le="0.2"}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub text: String,
    pub name: String,
    /// The label matchers besides the metric name, e.g. `code=~"5.."`.
    pub matchers: Vec<Matcher>,
}

/// How a label matcher compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

/// One label matcher of a selector, as parsed and as written back into PromQL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    /// The matcher as PromQL, e.g. `code=~"5.."`.
    pub text: String,
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Selector {
    /// Parses a vector selector with a metric name and no `offset`, `@` or `or`
    /// matchers, e.g. `http_requests_total{code=~"5.."}`.
    pub fn parse(text: &str) -> Result<Self, String> {
        use promql_parser::label::MatchOp as Op;
        use promql_parser::parser::{self, Expr};
        let text = text.trim();
        let expr = parser::parse(text).map_err(|e| format!("invalid PromQL {text:?}: {e}"))?;
        let Expr::VectorSelector(vs) = expr else {
            return Err(format!(
                "{text:?} is not a vector selector (want e.g. http_requests_total{{code=~\"5..\"}})"
            ));
        };
        if vs.offset.is_some() || vs.at.is_some() {
            return Err(format!("{text:?}: offset and @ are not allowed here"));
        }
        let Some(name) = vs.name.clone() else {
            return Err(format!("{text:?} has no metric name"));
        };
        // Prometheus 3 accepts any UTF-8 name when quoted (`{"a.b"="x"}`); the
        // queries and rules slogate writes spell names bare, so only bare ones.
        let bare = |n: &str, colon: bool| {
            let mut chars = n.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
        };
        if !bare(&name, true) {
            return Err(format!(
                "{text:?}: metric name {name:?} is not a plain Prometheus name ([a-zA-Z_:][a-zA-Z0-9_:]*)"
            ));
        }
        if let Some(m) = vs
            .matchers
            .matchers
            .iter()
            .find(|m| m.name != "__name__" && !bare(&m.name, false))
        {
            return Err(format!(
                "{text:?}: label name {:?} is not a plain Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)",
                m.name
            ));
        }
        if !vs.matchers.or_matchers.is_empty() {
            return Err(format!("{text:?}: `or` matchers are not supported"));
        }
        let matchers = vs
            .matchers
            .matchers
            .iter()
            .filter(|m| m.name != "__name__")
            .map(|m| Matcher {
                name: m.name.clone(),
                op: match m.op {
                    Op::Equal => MatchOp::Equal,
                    Op::NotEqual => MatchOp::NotEqual,
                    Op::Re(_) => MatchOp::Regex,
                    Op::NotRe(_) => MatchOp::NotRegex,
                },
                value: m.value.clone(),
                text: m.to_string(),
            })
            .collect();
        Ok(Selector {
            text: text.to_string(),
            name,
            matchers,
        })
    }

    /// The selector with `suffix` appended to the metric name and extra matchers.
    pub fn render(&self, suffix: &str, extra: &[String]) -> String {
        let own: Vec<String> = self.matchers.iter().map(ToString::to_string).collect();
        render_selector(&format!("{}{suffix}", self.name), own.iter().chain(extra))
    }
}

/// `name{m1, m2}`, or `name` without matchers.
pub fn render_selector<'a>(name: &str, matchers: impl IntoIterator<Item = &'a String>) -> String {
    let all: Vec<&str> = matchers.into_iter().map(String::as_str).collect();
    if all.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", all.join(", "))
    }
}

/// A launch and the checkpoints after it at which SLOs are judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    pub at: chrono::DateTime<chrono::Utc>,
    /// Each checkpoint as written (`24h`, the name outputs use) and its duration.
    pub checkpoints: Vec<(String, PromDuration)>,
    /// How long after launch `serve` records the baseline it compares with.
    pub baseline: Option<PromDuration>,
}

/// Per-tier alerting overrides (used by the rule generator).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertTier {
    pub enabled: bool,
    pub for_: Option<PromDuration>,
    pub labels: BTreeMap<String, String>,
}

/// Alerting settings of one SLO.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Alerting {
    pub page: AlertTier,
    pub ticket: AlertTier,
    pub labels: BTreeMap<String, String>,
}

impl Alerting {
    /// The settings of the tier alerting with `severity`.
    pub fn tier(&self, severity: Severity) -> &AlertTier {
        match severity {
            Severity::Page => &self.page,
            Severity::Ticket => &self.ticket,
        }
    }
}

/// How far an SLO may drift from a saved baseline before a later evaluation
/// calls it a regression (`check --baseline`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// An error ratio more than this many times the baseline's is a regression,
    /// when it also burns the error budget (above 1 - objective).
    pub error_ratio: f64,
    /// A latency quantile more than this fraction above the baseline's is a
    /// regression (0.2: 20 % slower).
    pub latency: f64,
}

impl Default for Tolerance {
    /// Twice the errors, or a fifth slower.
    fn default() -> Self {
        Self {
            error_ratio: 2.0,
            latency: 0.2,
        }
    }
}

/// One validated service-level objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    pub name: String,
    /// `None` only for threshold probes.
    pub objective: Option<Objective>,
    /// The SLO window; for a calendar SLO, the rolling window of about its
    /// period's length (burn-rate factors, generated rules and dashboards).
    pub window: PromDuration,
    /// Judged over the current calendar period instead of a rolling window.
    pub calendar: Option<calendar::Calendar>,
    /// The named datasource it is read from; `None` for the default one.
    pub datasource: Option<String>,
    /// Spans whose events count in no window (the config's global ones and the
    /// SLO's own): one-off and recurring.
    pub exclusions: exclusion::Exclusions,
    pub min_events: u64,
    pub warn_budget_remaining: f64,
    pub group_by: Vec<String>,
    pub service: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub description: Option<String>,
    pub runbook_url: Option<String>,
    pub key: bool,
    /// Weight in the launch score (default 1).
    pub weight: f64,
    pub alerting: Alerting,
    /// Regression limits against a baseline.
    pub baseline: Tolerance,
    pub indicator: Indicator,
}

impl Slo {
    /// The error budget, `1 - objective`; `None` for probes.
    pub fn budget(&self) -> Option<f64> {
        self.objective.as_ref().map(Objective::budget)
    }

    /// The alert tiers of this SLO (see [`tiers`]); none for probes.
    pub fn tiers(&self) -> Vec<Tier> {
        match self.budget() {
            Some(budget) => tiers(self.window, Some(budget)),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
impl Slo {
    /// A 99.9 % SLO over 30 days, grouped by service, with every option at its
    /// default: tests change what they are about.
    pub fn for_test(indicator: Indicator) -> Self {
        Self {
            name: "availability".into(),
            objective: (!indicator.is_probe())
                .then(|| Objective::from_percent_text("99.9").expect("valid")),
            window: PromDuration::from_secs(30 * 86400),
            calendar: None,
            datasource: None,
            exclusions: exclusion::Exclusions::default(),
            min_events: 100,
            warn_budget_remaining: 0.25,
            group_by: vec!["service".into()],
            service: None,
            labels: BTreeMap::new(),
            description: None,
            runbook_url: None,
            key: true,
            weight: 1.0,
            alerting: Alerting::default(),
            baseline: Tolerance::default(),
            indicator,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objective_keeps_its_text_and_is_exact() {
        let o = Objective::from_percent_text("99.9").unwrap();
        assert_eq!(o.ratio(), 0.999);
        assert_eq!(o.percent_text(), "99.9");
        assert_eq!(Objective::from_percent_text("95").unwrap().ratio(), 0.95);
        assert_eq!(
            Objective::from_percent_text("99.95").unwrap().ratio(),
            0.9995
        );
        assert_eq!(Objective::from_percent_text("5").unwrap().ratio(), 0.05);
        assert_eq!(Objective::from_percent_text("0.5").unwrap().ratio(), 0.005);
        assert_eq!(
            Objective::from_percent_text("99.999").unwrap().ratio(),
            0.99999
        );
        assert_eq!(Objective::from_percent_text("1e3"), None);
        let budget = |t: &str| Objective::from_percent_text(t).unwrap().budget_text();
        assert_eq!(budget("99.9"), "0.001");
        assert_eq!(budget("95"), "0.05");
        assert_eq!(budget("99.95"), "0.0005");
        assert_eq!(budget("90"), "0.1");
        assert_eq!(budget("50.5"), "0.495");
        assert_eq!(
            Objective::from_percent_text("99.9").unwrap().budget(),
            0.001
        );
    }

    #[test]
    fn quoted_utf8_names_are_refused_as_the_generated_promql_cannot_spell_them() {
        assert!(Selector::parse(r#"http_requests_total{code=~"5..", route!=""}"#).is_ok());
        assert!(Selector::parse("slo:sli_bad:increase5m").is_ok());
        // What promql-parser accepts (Prometheus 3's quoted names).
        let e = Selector::parse(r#"http_requests_total{"k8s.pod"="x"}"#).expect_err("refused");
        assert!(
            e.ends_with(r#"label name "k8s.pod" is not a plain Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)"#),
            "{e}"
        );
        assert!(Selector::parse(r#"{"http.requests"}"#).is_err());
    }
}
