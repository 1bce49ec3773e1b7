//! Sloth specs: `prometheus/v1` files and `PrometheusServiceLevel` CRDs, which
//! spell the same fields in snake_case and camelCase.

use std::collections::BTreeMap;

use super::doc::{Doc, Node};
use super::out::{OutSli, OutSlo, OutTier};
use super::shape::{self, Ranges, Side};
use super::{
    alert_name, copy_labels, grouped_service, name_from, objective_percent, skip_server_fields,
    sli_of, Options,
};

/// Sloth's default SLO period (`--default-slo-period`).
const SLOTH_WINDOW: &str = "30d";

/// Field names of one spelling.
struct Spelling {
    error_query: &'static str,
    total_query: &'static str,
    error_ratio_query: &'static str,
    page_alert: &'static str,
    ticket_alert: &'static str,
    slo_plugins: &'static str,
    /// The other spelling's alert fields, which Sloth ignores here.
    foreign_alerts: [&'static str; 2],
}

const SNAKE: Spelling = Spelling {
    error_query: "error_query",
    total_query: "total_query",
    error_ratio_query: "error_ratio_query",
    page_alert: "page_alert",
    ticket_alert: "ticket_alert",
    slo_plugins: "slo_plugins",
    foreign_alerts: ["pageAlert", "ticketAlert"],
};

const CAMEL: Spelling = Spelling {
    error_query: "errorQuery",
    total_query: "totalQuery",
    error_ratio_query: "errorRatioQuery",
    page_alert: "pageAlert",
    ticket_alert: "ticketAlert",
    slo_plugins: "sloPlugins",
    foreign_alerts: ["page_alert", "ticket_alert"],
};

/// A `version: prometheus/v1` file.
pub fn prometheus_v1(doc: &Doc, options: Options) -> Vec<(String, OutSlo)> {
    let root = doc.root();
    if let Some(v) = root.get("version") {
        v.mark();
    }
    spec(&root, &SNAKE, options)
}

/// A `sloth.slok.dev/v1` `PrometheusServiceLevel`.
pub fn crd(doc: &Doc, options: Options) -> Vec<(String, OutSlo)> {
    let root = doc.root();
    skip_server_fields(&root);
    for key in ["apiVersion", "kind"] {
        if let Some(v) = root.get(key) {
            v.mark();
        }
    }
    if let Some(metadata) = root.get("metadata") {
        metadata.drop("Kubernetes object metadata; a slogate config has no objects");
    }
    match root.get("spec") {
        Some(spec_node) => spec(&spec_node, &CAMEL, options),
        None => Vec::new(),
    }
}

fn spec(node: &Node<'_>, k: &Spelling, options: Options) -> Vec<(String, OutSlo)> {
    let service = node.text_of("service");
    let mut common = BTreeMap::new();
    if let Some(labels) = node.get("labels") {
        copy_labels(&labels, &mut common, |k| Some(k.to_string()));
    }
    if let Some(plugins) = node.get(k.slo_plugins) {
        drop_plugins(&plugins);
    }
    let slos = node
        .get("slos")
        .map(|slos| slos.items())
        .unwrap_or_default();
    if slos.is_empty() {
        node.skip("the spec has no SLOs");
    }
    slos.iter()
        .filter_map(|s| {
            let slo = slo(s, k, &service, &common, options)?;
            Some((s.path.clone(), slo))
        })
        .collect()
}

/// Plugins are Go code that only Sloth runs: each one is named.
fn drop_plugins(plugins: &Node<'_>) {
    for entry in plugins.get("chain").map(|c| c.items()).unwrap_or_default() {
        let id = entry
            .value
            .get("id")
            .and_then(|v| v.as_str())
            .unwrap_or("(no id)");
        let mut reason = format!("Sloth plugin {id} is Go code only Sloth runs");
        if id.contains("denominator_corrected") {
            reason.push_str("; the SLI is imported uncorrected");
        }
        entry.drop(reason);
    }
    plugins.mark();
}

fn slo(
    node: &Node<'_>,
    k: &Spelling,
    service: &Option<String>,
    common: &BTreeMap<String, String>,
    options: Options,
) -> Option<OutSlo> {
    let skip = |reason: String| {
        node.skip(reason);
        None
    };
    let Some(name) = node.get("name").and_then(|n| name_from(&n, "")) else {
        return skip("it has no usable name".into());
    };
    let objective_text = node.text_of("objective").unwrap_or_default();
    let objective = match objective_percent(&objective_text) {
        Ok(o) => o,
        Err(e) => return skip(e),
    };
    let sli = match sli(node, k, &objective, options) {
        Ok(sli) => sli,
        Err(e) => return skip(e),
    };
    let (sli, group_by) = sli;
    let probe = sli.threshold.is_some();
    let mut labels = common.clone();
    if let Some(own) = node.get("labels") {
        copy_labels(&own, &mut labels, |k| Some(k.to_string()));
    }
    let mut out = OutSlo {
        name,
        service: service.clone(),
        description: node.text_of("description").filter(|d| !d.trim().is_empty()),
        objective: (!probe).then_some(objective),
        window: SLOTH_WINDOW.to_string().into(),
        group_by,
        labels,
        sli,
        ..OutSlo::default()
    };
    if let Some(sli) = node.get("sli") {
        grouped_service(&mut out, &sli);
    }
    if let Some(plugins) = node.get("plugins") {
        drop_plugins(&plugins);
    }
    if let Some(alerting) = node.get("alerting") {
        self::alerting(&alerting, k, &mut out);
    }
    Some(out)
}

/// The SLI and its grouping; an error says why the SLO cannot be imported.
fn sli(
    slo: &Node<'_>,
    k: &Spelling,
    objective: &str,
    options: Options,
) -> Result<(OutSli, Vec<String>), String> {
    let Some(sli) = slo.get("sli") else {
        return Err("it has no sli".into());
    };
    if let Some(plugin) = sli.get("plugin") {
        let id = plugin
            .value
            .get("id")
            .and_then(|v| v.as_str())
            .unwrap_or("(no id)");
        return Err(format!(
            "SLI plugin {id} builds its queries in Go; slogate cannot see them"
        ));
    }
    if let Some(events) = sli.get("events") {
        let errors = events.text_of(k.error_query).unwrap_or_default();
        let total = events.text_of(k.total_query).unwrap_or_default();
        return shape::events(&errors, Side::Errors, &total, Ranges::Template).map(sli_of);
    }
    if let Some(raw) = sli.get("raw") {
        let query = raw.text_of(k.error_ratio_query).unwrap_or_default();
        return match shape::error_ratio(&query) {
            Ok(selector) => Ok((OutSli::uptime(selector), Vec::new())),
            Err(_) if options.raw_as_probe => {
                let query = shape::with_window(&query, SLOTH_WINDOW);
                crate::config::parse_promql(&query)?;
                // The budget from the objective's decimal text, exactly.
                let budget = crate::slo::Objective::from_percent_text(objective)
                    .and_then(|o| o.budget_text().parse::<f64>().ok())
                    .ok_or_else(|| format!("objective {objective} has no error budget"))?;
                raw.approximate(format!(
                    "imported as a threshold probe: the error ratio over {SLOTH_WINDOW} must stay at or under the error budget; it has no budget or burn rate (--raw-as-probe)"
                ));
                Ok((OutSli::threshold(query, "<=", budget), Vec::new()))
            }
            Err(e) => Err(format!(
                "raw error_ratio_query {e} (--raw-as-probe imports it as a threshold probe)"
            )),
        };
    }
    Err("it has no events or raw sli".into())
}

fn alerting(node: &Node<'_>, k: &Spelling, out: &mut OutSlo) {
    if let Some(labels) = node.get("labels") {
        copy_labels(&labels, &mut out.alerting.labels, |k| Some(k.to_string()));
    }
    if let Some(name) = node.get("name") {
        alert_name(&name, out);
    }
    if let Some(annotations) = node.get("annotations") {
        self::annotations(&annotations, out);
    }
    for key in k.foreign_alerts {
        if let Some(n) = node.get(key) {
            n.drop(format!(
                "unknown field here; this format spells it {}, and Sloth ignores it too",
                if key.starts_with("page") {
                    k.page_alert
                } else {
                    k.ticket_alert
                }
            ));
        }
    }
    if let Some(page) = node.get(k.page_alert) {
        tier(&page, &mut out.alerting.page);
    }
    if let Some(ticket) = node.get(k.ticket_alert) {
        tier(&ticket, &mut out.alerting.ticket);
    }
}

/// `runbook`/`runbook_url` become the SLO's runbook; slogate writes its own
/// other annotations.
fn annotations(node: &Node<'_>, out: &mut OutSlo) {
    for (key, value) in node.entries() {
        let runbook = matches!(key.as_str(), "runbook" | "runbook_url");
        if runbook && out.runbook_url.is_none() {
            out.runbook_url = value.text();
        } else if runbook {
            value.drop("a second runbook; slogate SLOs have one runbook_url, the first one given");
        } else {
            value.drop(
                "slogate writes its own alert annotations (summary, description, runbook_url, dashboard_url)",
            );
        }
    }
}

fn tier(node: &Node<'_>, out: &mut OutTier) {
    if node.flag_of("disable") == Some(true) {
        out.enabled = Some(false);
    }
    if let Some(labels) = node.get("labels") {
        copy_labels(&labels, &mut out.labels, |k| Some(k.to_string()));
    }
    if let Some(annotations) = node.get("annotations") {
        for (_, value) in annotations.entries() {
            value.drop(
                "slogate writes its own alert annotations (summary, description, runbook_url, dashboard_url)",
            );
        }
        annotations.mark();
    }
}
