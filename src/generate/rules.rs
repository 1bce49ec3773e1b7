//! Prometheus rule files: per SLO, recording rules for the error ratio over every
//! burn window and the SLO window, and multi-window multi-burn-rate alerts; one more
//! file for slogate's own health.
//!
//! Cost: windows up to 6h are read from the raw counters (exact, and what slogate's
//! gauges compute); 1d, 3d and the SLO window sum the recorded 5-minute event counts
//! (`slo:sli_bad:increase5m`, `slo:sli_total:increase5m`), so a 30-day ratio reads one
//! series per group instead of every raw series. Both sums count each event once per
//! rule evaluation inside its 5-minute window, so their ratio is the event-weighted
//! error ratio; only the first and last 5 minutes of the window are weighted less.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::{header, File, Routing};
use crate::slo::conventions::{alert, dashboard, label, metric, record, SLOGATE_JOB};
use crate::slo::{
    rule_source, AlertTier, Indicator, PromDuration, RuleSource, Severity, Slo, Tier,
};

/// The self-health rules' file: only in the default datasource's `rules/`.
pub const SELF_FILE: &str = "slogate-self.yaml";

/// The window of the recorded base counts that long windows sum.
const BASE_WINDOW: PromDuration = PromDuration::from_secs(300);
/// Waits before a burn alert fires: long enough to skip a scrape blip.
const PAGE_FOR: PromDuration = PromDuration::from_secs(120);
const TICKET_FOR: PromDuration = PromDuration::from_secs(15 * 60);
/// SLONotReady and SLOMissingData wait this long: readiness flaps at deploys.
const NOT_READY_FOR: PromDuration = PromDuration::from_secs(10 * 60);
const SELF_FOR: PromDuration = PromDuration::from_secs(5 * 60);
/// Evaluations missed before the last one counts as stale.
const STALE_EVALUATIONS: u32 = 5;

/// A rule file as Prometheus reads it.
#[derive(Debug, Serialize)]
pub struct RuleFile {
    pub groups: Vec<Group>,
}

/// A rule group.
#[derive(Debug, Serialize)]
pub struct Group {
    pub name: String,
    pub rules: Vec<Rule>,
}

/// A recording or alerting rule (only the fields Prometheus 2.42 knows).
#[derive(Debug, Serialize)]
pub struct Rule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    pub expr: String,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Rule {
    fn record(name: String, expr: String, labels: BTreeMap<String, String>) -> Self {
        Self {
            record: Some(name),
            alert: None,
            expr,
            for_: None,
            labels,
            annotations: BTreeMap::new(),
        }
    }
}

/// The recording rule name of the error ratio over `window`.
pub fn ratio_name(window: PromDuration) -> String {
    format!("{}{window}", record::ERROR_RATIO_PREFIX)
}

/// The recording rule name of bad events over `window`.
pub fn bad_events_name(window: PromDuration) -> String {
    format!("{}{window}", record::BAD_EVENTS_PREFIX)
}

fn slo_selector(name: &str, slo: &Slo) -> String {
    format!("{name}{{{}=\"{}\"}}", label::SLO, slo.name)
}

/// Static labels of every series an SLO's rules record.
fn record_labels(slo: &Slo) -> BTreeMap<String, String> {
    let mut labels = slo.labels.clone();
    labels.insert(label::SLO.into(), slo.name.clone());
    if let Some(service) = &slo.service {
        labels.insert(label::SERVICE.into(), service.clone());
    }
    labels
}

/// Every window an SLO's burn alerts read a ratio for, shortest first. Nothing
/// else reads these rules (dashboards read slogate's gauges), so the SLO window's
/// ratio, a `sum_over_time` over 30 days every evaluation, is not recorded.
pub fn ratio_windows(slo: &Slo) -> Vec<PromDuration> {
    let enabled = |severity: Severity| slo.alerting.tier(severity).enabled;
    let mut windows: Vec<PromDuration> = slo
        .tiers()
        .iter()
        .filter(|t| enabled(t.severity))
        .flat_map(|t| [t.long, t.short])
        .collect();
    windows.sort();
    windows.dedup();
    windows
}

fn recording_rules(slo: &Slo) -> Vec<Rule> {
    let labels = record_labels(slo);
    let Some((bad5, total5)) = slo.rule_events(BASE_WINDOW) else {
        return Vec::new();
    };
    let mut rules = vec![
        Rule::record(
            record::BAD_5M.into(),
            slo.with_service_label(bad5),
            labels.clone(),
        ),
        Rule::record(
            record::TOTAL_5M.into(),
            slo.with_service_label(total5),
            labels.clone(),
        ),
    ];
    // Uptime pages also need enough failed scrapes in the long window: recorded
    // beside the ratio so the alert matches them label for label.
    if slo.indicator.min_bad_to_page().is_some() {
        for t in slo.tiers().iter().filter(|t| t.severity == Severity::Page) {
            let (bad, _) = slo.rule_events(t.long).expect("not a probe");
            rules.push(Rule::record(
                bad_events_name(t.long),
                slo.with_service_label(bad),
                labels.clone(),
            ));
        }
    }
    for window in ratio_windows(slo) {
        let expr = if rule_source(window) == RuleSource::Raw {
            let (bad, total) = slo.rule_events(window).expect("not a probe");
            slo.with_service_label(format!("{bad} / ({total} > 0)"))
        } else {
            let sum = |name: &str| format!("sum_over_time({}[{window}])", slo_selector(name, slo));
            format!("{} / ({} > 0)", sum(record::BAD_5M), sum(record::TOTAL_5M))
        };
        rules.push(Rule::record(ratio_name(window), expr, labels.clone()));
    }
    rules
}

fn number(v: f64) -> String {
    crate::slo::number::decimal(v, 6)
}

fn humanize(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 86400 && secs % 3600 == 0 {
        format!(
            "{}d{}",
            secs / 86400,
            if secs % 86400 == 0 {
                String::new()
            } else {
                format!("{}h", (secs % 86400) / 3600)
            }
        )
    } else if secs >= 3600 {
        format!(
            "{}h{}",
            secs / 3600,
            if secs % 3600 == 0 {
                String::new()
            } else {
                format!("{}m", (secs % 3600) / 60)
            }
        )
    } else {
        format!("{}m", secs.max(60) / 60)
    }
}

struct AlertContext<'a> {
    slo: &'a Slo,
    links: &'a Routing,
}

impl AlertContext<'_> {
    fn runbook(&self, alert_name: &str) -> String {
        self.slo
            .runbook_url
            .clone()
            .unwrap_or_else(|| format!("{}#{}", self.links.runbook_url, alert_name.to_lowercase()))
    }

    fn dashboard(&self) -> String {
        format!(
            "{}/d/{uid}/{uid}?var-slo={}&var-service={{{{ $labels.service }}}}",
            self.links.grafana_url.trim_end_matches('/'),
            self.slo.name,
            uid = dashboard::DETAIL_UID
        )
    }

    fn tier(&self, severity: Severity) -> &AlertTier {
        match severity {
            Severity::Page => &self.slo.alerting.page,
            Severity::Ticket => &self.slo.alerting.ticket,
        }
    }

    /// An alert of `severity`, taking that tier's `for`, labels; `text` is
    /// (summary, description).
    fn alert(
        &self,
        name: &str,
        expr: String,
        severity: Severity,
        default_for: PromDuration,
        (summary, description): (String, String),
    ) -> Rule {
        let tier = self.tier(severity);
        // Everything-wide labels, then the SLO's, then the tier's: the most
        // specific wins, a tier's own `severity` included (never dropped).
        let mut labels = self.links.labels.clone();
        labels.insert(alert::SEVERITY.into(), self.links.severity(severity).into());
        labels.extend(self.slo.alerting.labels.clone());
        labels.extend(tier.labels.clone());
        labels.insert(label::SLO.into(), self.slo.name.clone());
        if let Some(service) = &self.slo.service {
            labels.insert(label::SERVICE.into(), service.clone());
        }
        let annotations = BTreeMap::from([
            ("summary".to_string(), summary),
            ("description".to_string(), description),
            ("runbook_url".to_string(), self.runbook(name)),
            ("dashboard_url".to_string(), self.dashboard()),
        ]);
        Rule {
            record: None,
            alert: Some(name.into()),
            expr,
            for_: Some(tier.for_.unwrap_or(default_for).to_string()),
            labels,
            annotations,
        }
    }

    fn burn_expr(&self, severity: Severity) -> Option<(String, Vec<Tier>)> {
        let objective = self.slo.objective.as_ref()?;
        let budget = objective.budget_text();
        let tiers: Vec<Tier> = self
            .slo
            .tiers()
            .into_iter()
            .filter(|t| t.severity == severity)
            .collect();
        if tiers.is_empty() {
            return None;
        }
        let min_bad = match severity {
            Severity::Page => self.slo.indicator.min_bad_to_page(),
            Severity::Ticket => None,
        };
        let clauses: Vec<String> = tiers
            .iter()
            .map(|t| {
                let factor = number(t.factor);
                let side = |w: PromDuration| {
                    format!(
                        "{} > ({factor} * {budget})",
                        slo_selector(&ratio_name(w), self.slo)
                    )
                };
                let guard = min_bad.map_or(String::new(), |n| {
                    format!(
                        " and {} >= {}",
                        slo_selector(&bad_events_name(t.long), self.slo),
                        number(n)
                    )
                });
                format!("({} and {}{guard})", side(t.long), side(t.short))
            })
            .collect();
        Some((clauses.join(" or "), tiers))
    }

    fn burn_alert(&self, severity: Severity) -> Option<Rule> {
        let (name, default_for) = match severity {
            Severity::Page => (alert::FAST_BURN, PAGE_FOR),
            Severity::Ticket => (alert::SLOW_BURN, TICKET_FOR),
        };
        if !self.tier(severity).enabled {
            return None;
        }
        let (expr, tiers) = self.burn_expr(severity)?;
        let objective = self.slo.objective.as_ref()?;
        let windows: Vec<String> = tiers
            .iter()
            .map(|t| {
                let capped = t.capped_from.map_or(String::new(), |f| {
                    format!(", capped from {}x so a total outage crosses it", number(f))
                });
                format!(
                    "{}/{} over {}x (budget gone in {}{capped})",
                    t.long,
                    t.short,
                    number(t.factor),
                    humanize(t.exhausts_in(self.slo.window))
                )
            })
            .collect();
        let speed = if severity == Severity::Page {
            "fast"
        } else {
            "steadily"
        };
        let summary = format!(
            "{{{{ $labels.service }}}}: SLO {} is burning its error budget {speed}",
            self.slo.name
        );
        let guard = match self.slo.indicator.min_bad_to_page() {
            Some(n) if severity == Severity::Page => format!(
                " A page also needs {} failed scrapes in the long window.",
                number(n)
            ),
            _ => String::new(),
        };
        let description = format!(
            "The error ratio of {{{{ $labels.service }}}} is {{{{ $value | humanizePercentage }}}} \
             against a budget of {} ({}% over {}). Burn windows: {}.{guard}",
            objective.budget_text(),
            objective.percent_text(),
            self.slo.window,
            windows.join("; ")
        );
        Some(self.alert(name, expr, severity, default_for, (summary, description)))
    }

    fn missing_data_alert(&self) -> Option<Rule> {
        let expr = self.slo.missing_data_expr()?;
        let source = self.slo.source_selector()?;
        let summary = format!(
            "{{{{ $labels.service }}}}: SLO {} has no data",
            self.slo.name
        );
        let description = format!(
            "The SLI's source series {source} vanished (or never existed): slogate reports \
             insufficient_data and burn alerts cannot fire. Fires while they stay absent, up \
             to the SLO window ({}).",
            self.slo.window
        );
        Some(self.alert(
            alert::MISSING_DATA,
            expr,
            Severity::Ticket,
            NOT_READY_FOR,
            (summary, description),
        ))
    }

    fn not_ready_alert(&self) -> Rule {
        let summary = format!(
            "{{{{ $labels.service }}}}: SLO {} is not ready",
            self.slo.name
        );
        let description = format!(
            "slogate judges SLO {} of {{{{ $labels.service }}}} not ready (fail, unknown or \
             insufficient data): see the status page or slogate_slo_state for the reason.",
            self.slo.name
        );
        self.alert(
            alert::NOT_READY,
            // Replicas of slogate agree on readiness: one alert, not one per replica.
            format!(
                "max without (instance, pod) ({}) == 0",
                slo_selector(metric::SLO_READY, self.slo)
            ),
            Severity::Ticket,
            NOT_READY_FOR,
            (summary, description),
        )
    }

    fn probe_alert(&self) -> Option<Rule> {
        let Indicator::Threshold { query, op, value } = &self.slo.indicator else {
            return None;
        };
        if !self.slo.alerting.ticket.enabled {
            return None;
        }
        let summary = format!("Checklist probe {} is failing", self.slo.name);
        let description = format!(
            "{query} is {{{{ $value | humanize }}}}, which is not {} {}.",
            op.as_str(),
            number(*value)
        );
        Some(self.alert(
            alert::PROBE_FAILING,
            format!("({query}) {} {}", op.negated().as_str(), number(*value)),
            Severity::Ticket,
            NOT_READY_FOR,
            (summary, description),
        ))
    }
}

/// Every rule of one SLO: recording rules, then alerts.
fn slo_rules(slo: &Slo, links: &Routing) -> Vec<Rule> {
    let ctx = AlertContext { slo, links };
    let mut rules = recording_rules(slo);
    rules.extend(
        [
            ctx.burn_alert(Severity::Page),
            ctx.burn_alert(Severity::Ticket),
            ctx.missing_data_alert(),
            ctx.probe_alert(),
            Some(ctx.not_ready_alert()),
        ]
        .into_iter()
        .flatten(),
    );
    rules
}

/// The alerts generated for an SLO, as the status page lists them: name and
/// tier (`page`, `ticket`), in the order of its rule file.
pub fn alerts_of(slo: &Slo) -> Vec<(String, String)> {
    let links = Routing {
        grafana_url: String::new(),
        runbook_url: String::new(),
        page_severity: Severity::Page.as_str().into(),
        ticket_severity: Severity::Ticket.as_str().into(),
        labels: BTreeMap::new(),
    };
    slo_rules(slo, &links)
        .into_iter()
        .filter_map(|r| {
            let severity = r.labels.get(alert::SEVERITY).cloned().unwrap_or_default();
            r.alert.map(|a| (a, severity))
        })
        .collect()
}

/// One group per SLO: recording rules first, then the alerts that read them, so
/// the alerts see this evaluation's ratios (groups run concurrently; rules within a
/// group run in order).
/// An SLO's rules go to the ruler that sees its data: `rules/` for the default
/// datasource, `<datasource>/rules/` for a named one.
fn slo_file(slo: &Slo, links: &Routing, source: &str) -> File {
    let rules = slo_rules(slo, links);
    let dir = slo
        .datasource
        .as_ref()
        .map_or(String::new(), |d| format!("{d}/"));
    File {
        path: format!("{dir}rules/{}.yaml", slo.name),
        text: render(
            &RuleFile {
                groups: vec![Group {
                    name: format!("slogate-{}", slo.name),
                    rules,
                }],
            },
            source,
        ),
    }
}

fn self_file(interval: Duration, links: &Routing, source: &str) -> File {
    let alert =
        |name: &str, expr: String, severity: Severity, summary: &str, description: &str| Rule {
            record: None,
            alert: Some(name.into()),
            expr,
            for_: Some(SELF_FOR.to_string()),
            labels: {
                let mut labels = links.labels.clone();
                labels.insert(
                    alert::SEVERITY.to_string(),
                    links.severity(severity).to_string(),
                );
                labels
            },
            annotations: BTreeMap::from([
                ("summary".to_string(), summary.to_string()),
                ("description".to_string(), description.to_string()),
                (
                    "runbook_url".to_string(),
                    format!("{}#{}", links.runbook_url, name.to_lowercase()),
                ),
                (
                    "dashboard_url".to_string(),
                    format!(
                        "{}/d/{uid}/{uid}",
                        links.grafana_url.trim_end_matches('/'),
                        uid = dashboard::OVERVIEW_UID
                    ),
                ),
            ]),
        };
    let stale = interval.as_secs().max(1) * u64::from(STALE_EVALUATIONS);
    let rules = vec![
        alert(
            alert::SLOGATE_DOWN,
            format!("up{{job=\"{SLOGATE_JOB}\"}} == 0 or absent(up{{job=\"{SLOGATE_JOB}\"}})"),
            Severity::Page,
            "slogate is down",
            "Prometheus cannot scrape slogate (job=\"slogate\"): SLO gauges and readiness are stale.",
        ),
        alert(
            alert::PROMETHEUS_UNREACHABLE,
            format!("{} == 0", metric::PROMETHEUS_UP),
            Severity::Ticket,
            "slogate cannot reach datasource {{ $labels.datasource }}",
            "slogate's last evaluation could not reach datasource {{ $labels.datasource }}: every SLO read from it is unknown. Check its url (prometheus.url for default), credentials and network.",
        ),
        alert(
            alert::EVALUATION_STALE,
            format!("time() - {} > {stale}", metric::LAST_EVALUATION),
            Severity::Ticket,
            "slogate's verdicts are stale",
            "slogate has not finished an evaluation for {{ $value | humanizeDuration }}: evaluations hang or the process is stuck.",
        ),
    ];
    File {
        path: format!("rules/{SELF_FILE}"),
        text: render(
            &RuleFile {
                groups: vec![Group {
                    name: "slogate-self".into(),
                    rules,
                }],
            },
            source,
        ),
    }
}

fn render(file: &RuleFile, source: &str) -> String {
    // Serializing plain structs of strings and maps cannot fail.
    let yaml = serde_norway::to_string(file).expect("rule file serializes");
    format!("{}{}", header(source), quote_yaml11(&yaml))
}

/// Plain scalars that YAML 1.2 (serde_norway) reads as strings but YAML 1.1
/// reads as booleans or numbers: Kubernetes reads a PrometheusRule with YAML 1.1,
/// where a label `country: no` would become `false` and be refused.
fn yaml11_special(value: &str) -> bool {
    static SPECIAL: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    SPECIAL
        .get_or_init(|| {
            regex::Regex::new(concat!(
                r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF",
                r"|[-+]?[0-9][0-9_]*_[0-9_]*(?:\.[0-9_]*)?",
                r"|[-+]?0b[01_]+|[-+]?0x[0-9a-fA-F_]+",
                r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)$",
            ))
            .expect("valid regex")
        })
        .is_match(value)
}

/// Single-quotes the values (and list items) of `yaml` that YAML 1.1 would not
/// read as the strings they are.
fn quote_yaml11(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len());
    // Inside a block scalar (`key: |`) lines are text, not YAML: left alone.
    let mut block: Option<usize> = None;
    for line in yaml.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(at) = block {
            if line.trim().is_empty() || indent > at {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            block = None;
        }
        if line.ends_with(": |") || line.ends_with(": |-") || line.ends_with(": >") {
            block = Some(indent);
        }
        let (head, value) = match line.split_once(": ") {
            Some((key, value)) if !key.trim_start().starts_with('#') => (format!("{key}: "), value),
            _ => match line.trim_start().strip_prefix("- ") {
                Some(item) => (line[..line.len() - item.len()].to_string(), item),
                None => (String::new(), line),
            },
        };
        if !head.is_empty() && yaml11_special(value) {
            out.push_str(&format!("{head}'{value}'\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Every rule file for `slos`: one per SLO (so each can be loaded, reviewed and
/// owned on its own, and a PrometheusRule per SLO stays small), plus self-health.
pub fn generate(
    slos: &[std::sync::Arc<Slo>],
    interval: Duration,
    links: &Routing,
    source: &str,
) -> Vec<File> {
    let mut files: Vec<File> = slos.iter().map(|s| slo_file(s, links, source)).collect();
    files.push(self_file(interval, links, source));
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(path: &str) -> crate::config::Config {
        let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
            .expect("read config");
        crate::config::parse(path, &text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn links() -> Routing {
        Routing {
            grafana_url: "http://grafana".into(),
            runbook_url: "http://runbooks/alerts.md".into(),
            page_severity: "page".into(),
            ticket_severity: "ticket".into(),
            labels: BTreeMap::new(),
        }
    }

    fn all_rules(path: &str) -> Vec<Rule> {
        let c = config(path);
        c.slos
            .iter()
            .flat_map(|slo| slo_rules(slo, &links()))
            .collect()
    }

    /// Top-level alerting settings route every alert; an SLO's own labels, its
    /// tier's `severity` included, win and are never dropped.
    #[test]
    fn alerts_carry_the_routing_and_the_slos_own_labels_win() {
        let text = "apiVersion: slogate/v1\n\
            alerting: {severity: {page: critical, ticket: warning}, labels: {cluster: eu-1, team: shop}}\n\
            slos:\n\
            - name: a\n  objective: 99.9\n  sli: {ratio: {errors: e, total: t}}\n\
            \x20 alerting: {labels: {team: search}, page: {labels: {severity: sev1}}}\n\
            - name: b\n  objective: 99\n  sli: {ratio: {errors: e, total: t}}\n";
        let c = crate::config::parse("x.yaml", text).unwrap_or_else(|e| panic!("{e}"));
        let a = &c.alerting;
        let routing = Routing {
            page_severity: a.page_severity.clone().expect("page"),
            ticket_severity: a.ticket_severity.clone().expect("ticket"),
            labels: a.labels.clone(),
            ..links()
        };
        let label = |slo: usize, alert: &str, name: &str| -> String {
            slo_rules(&c.slos[slo], &routing)
                .into_iter()
                .find(|r| r.alert.as_deref() == Some(alert))
                .and_then(|r| r.labels.get(name).cloned())
                .unwrap_or_default()
        };
        assert_eq!(label(0, alert::FAST_BURN, "severity"), "sev1");
        assert_eq!(label(0, alert::SLOW_BURN, "severity"), "warning");
        assert_eq!(label(0, alert::FAST_BURN, "team"), "search");
        assert_eq!(label(0, alert::FAST_BURN, "cluster"), "eu-1");
        assert_eq!(label(1, alert::FAST_BURN, "severity"), "critical");
        assert_eq!(label(1, alert::SLOW_BURN, "team"), "shop");
        let own = self_file(Duration::from_secs(60), &routing, "x.yaml").text;
        assert!(
            own.contains("severity: critical") && own.contains("cluster: eu-1"),
            "{own}"
        );
    }

    /// Label values YAML 1.1 would read as booleans or numbers stay strings in
    /// the rule files (Kubernetes reads PrometheusRules with YAML 1.1).
    #[test]
    fn label_values_yaml11_would_misread_are_quoted() {
        let text = "apiVersion: slogate/v1\nslos:\n\
            - name: a\n  objective: 99.9\n  sli: {ratio: {errors: e, total: t}}\n\
            \x20 labels: {country: 'no', notify: 'on', amount: '1_000', at: '1:20', plain: 'norway'}\n";
        let c = crate::config::parse("x.yaml", text).unwrap_or_else(|e| panic!("{e}"));
        let file = slo_file(&c.slos[0], &links(), "x.yaml");
        assert_eq!(
            quote_yaml11("a: |\n  b: no\nc: no\n"),
            "a: |\n  b: no\nc: 'no'\n"
        );
        for quoted in [
            "country: 'no'",
            "notify: 'on'",
            "amount: '1_000'",
            "at: '1:20'",
        ] {
            assert!(file.text.contains(quoted), "{quoted} in\n{}", file.text);
        }
        assert!(file.text.contains("plain: norway\n"));
        // And it still reads back as the same strings.
        let back: serde_norway::Value = serde_norway::from_str(&file.text).expect("yaml");
        let labels = &back["groups"][0]["rules"][0]["labels"];
        assert_eq!(labels["country"].as_str(), Some("no"));
        assert_eq!(labels["amount"].as_str(), Some("1_000"));
    }

    /// Recording rules cost every evaluation: each recorded ratio is read by an
    /// alert of its SLO (the SLO window's ratio, a 30-day `sum_over_time`, was not).
    #[test]
    fn every_recorded_ratio_is_read_by_an_alert() {
        for path in [
            "examples/slogate.yaml",
            "tests/fixtures/config/everything.good.yaml",
        ] {
            let c = config(path);
            for slo in &c.slos {
                let rules = slo_rules(slo, &links());
                let alerts: Vec<&str> = rules
                    .iter()
                    .filter(|r| r.alert.is_some())
                    .map(|r| r.expr.as_str())
                    .collect();
                for name in rules.iter().filter_map(|r| r.record.as_deref()) {
                    if name.starts_with("slo:sli_error:ratio_rate") {
                        assert!(
                            alerts.iter().any(|a| a.contains(&format!("{name}{{"))),
                            "{path}: {}: {name} is recorded but no alert reads it",
                            slo.name
                        );
                    }
                }
                assert!(
                    !rules.iter().any(|r| r.record.as_deref()
                        == Some(ratio_name(slo.window).as_str())
                        && !slo.tiers().iter().any(|t| t.long == slo.window)),
                    "{path}: {}: the SLO window's ratio is recorded",
                    slo.name
                );
            }
        }
    }

    #[test]
    fn every_generated_expression_parses() {
        for path in [
            "examples/slogate.yaml",
            "tests/fixtures/config/everything.good.yaml",
        ] {
            let rules = all_rules(path);
            assert!(rules.len() > 20, "{path}: {} rules", rules.len());
            for r in rules {
                promql_parser::parser::parse(&r.expr)
                    .unwrap_or_else(|e| panic!("{path}: {}: {e}", r.expr));
            }
        }
        for file in generate(&[], Duration::from_secs(60), &links(), "x.yaml") {
            assert!(file
                .text
                .starts_with("# Generated by slogate from x.yaml; do not edit.\n"));
        }
    }

    #[test]
    fn output_is_deterministic() {
        let c = config("examples/slogate.yaml");
        let a = generate(&c.slos, c.evaluation.interval, &links(), "e.yaml");
        let b = generate(&c.slos, c.evaluation.interval, &links(), "e.yaml");
        assert_eq!(a, b);
    }

    #[test]
    fn fast_burn_factors_follow_the_window() {
        let c = config("tests/fixtures/config/everything.good.yaml");
        let slo = c.slos.iter().find(|s| s.name == "latency-1s").expect("slo");
        let ctx = AlertContext {
            slo,
            links: &links(),
        };
        // 28d window (the defaults of that file): the workbook's windows and factors.
        let (expr, _) = ctx.burn_expr(Severity::Page).expect("page tier");
        assert_eq!(
            expr,
            "(slo:sli_error:ratio_rate1h{slo=\"latency-1s\"} > (14.4 * 0.01) and slo:sli_error:ratio_rate5m{slo=\"latency-1s\"} > (14.4 * 0.01)) or \
             (slo:sli_error:ratio_rate6h{slo=\"latency-1s\"} > (6 * 0.01) and slo:sli_error:ratio_rate30m{slo=\"latency-1s\"} > (6 * 0.01))"
        );
        let (expr, _) = ctx.burn_expr(Severity::Ticket).expect("ticket tier");
        assert!(
            expr.contains("> (3 * 0.01)") && expr.contains("> (1 * 0.01)"),
            "{expr}"
        );
    }
}
