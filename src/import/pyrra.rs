//! Pyrra `ServiceLevelObjective` objects (`pyrra.dev/v1alpha1`): bare
//! selectors, which Pyrra counts with `increase`, as slogate does.

use super::doc::{Doc, Node};
use super::out::{OutSli, OutSlo};
use super::shape;
use super::{alert_name, copy_labels, name_from, objective_percent, skip_server_fields};

/// The label prefix Pyrra strips to make an SLO label (`slo/rules.go`).
const PYRRA_LABEL_PREFIX: &str = "pyrra.dev/";

pub fn slo(doc: &Doc) -> Vec<(String, OutSlo)> {
    let root = doc.root();
    skip_server_fields(&root);
    for key in ["apiVersion", "kind"] {
        if let Some(v) = root.get(key) {
            v.mark();
        }
    }
    let skip = |reason: String| {
        root.skip(reason);
        Vec::new()
    };
    let Some(metadata) = root.get("metadata") else {
        return skip("it has no metadata.name".into());
    };
    let Some(name) = metadata.get("name").and_then(|n| name_from(&n, "")) else {
        return skip("it has no usable metadata.name".into());
    };
    let spec = root.get("spec");
    let spec = match &spec {
        Some(s) => s,
        None => return skip("it has no spec".into()),
    };
    let target = spec.text_of("target").unwrap_or_default();
    let objective = match objective_percent(&target) {
        Ok(o) => o,
        Err(e) => return skip(e),
    };
    let (sli, group_by) = match indicator(spec) {
        Ok(found) => found,
        Err(e) => return skip(e),
    };
    let mut out = OutSlo {
        name,
        objective: Some(objective),
        window: spec
            .text_of("window")
            .unwrap_or_else(|| "28d".into())
            .into(),
        description: spec.text_of("description").filter(|d| !d.trim().is_empty()),
        group_by,
        sli,
        ..OutSlo::default()
    };
    if spec.get("window").is_none() {
        spec.info("no window: Pyrra's default of 28d is written out");
    }
    if let Some(ns) = metadata.get("namespace") {
        ns.drop("Kubernetes namespace; a slogate config has no namespaces");
    }
    if let Some(labels) = metadata.get("labels") {
        for (key, value) in labels.entries() {
            if !key.starts_with(PYRRA_LABEL_PREFIX) {
                value.drop("Kubernetes object label; Pyrra uses it to select the PrometheusRule, not as an SLO label");
            }
        }
        copy_labels(&labels, &mut out.labels, |k| {
            k.strip_prefix(PYRRA_LABEL_PREFIX).map(str::to_string)
        });
    }
    if let Some(annotations) = metadata.get("annotations") {
        annotations.drop("Kubernetes object annotations; not SLO fields");
    }
    if let Some(alerting) = spec.get("alerting") {
        self::alerting(&alerting, &mut out);
    }
    vec![(root.path.clone(), out)]
}

/// The SLI and its grouping; an error says why the SLO cannot be imported.
fn indicator(spec: &Node<'_>) -> Result<(OutSli, Vec<String>), String> {
    let Some(indicator) = spec.get("indicator") else {
        return Err("it has no indicator".into());
    };
    let metric = |node: &Node<'_>, key: &str| -> Result<String, String> {
        let text = node
            .get(key)
            .and_then(|n| n.text_of("metric"))
            .ok_or_else(|| format!("indicator has no {key}.metric"))?;
        crate::slo::Selector::parse(&text)
            .map(|s| s.text)
            .map_err(|e| format!("{key}.metric: {e}"))
    };
    let grouping = |node: &Node<'_>| -> Vec<String> {
        node.get("grouping")
            .map(|g| g.items().iter().filter_map(|i| i.text()).collect())
            .unwrap_or_default()
    };
    if let Some(ratio) = indicator.get("ratio") {
        let sli = OutSli::ratio(
            Some(metric(&ratio, "errors")?),
            None,
            metric(&ratio, "total")?,
        );
        return Ok((sli, grouping(&ratio)));
    }
    if let Some(latency) = indicator.get("latency") {
        let success = metric(&latency, "success")?;
        let total = metric(&latency, "total")?;
        let sli = match shape::latency_selectors(&success, &total) {
            Some(Ok((histogram, threshold))) => OutSli::latency(histogram, threshold),
            // Not one histogram's pair (nginx.yaml's success has a matcher its
            // total lacks), or an `le` that is no whole number of milliseconds:
            // the same arithmetic as Pyrra, as a ratio.
            _ => OutSli::ratio(None, Some(success), total),
        };
        return Ok((sli, grouping(&latency)));
    }
    if let Some(gauge) = indicator.get("bool_gauge") {
        // Pyrra's `(count_over_time - sum_over_time) / count_over_time` is
        // slogate's uptime of the gauge.
        let sli = OutSli::uptime(metric(&indicator, "bool_gauge")?);
        return Ok((sli, grouping(&gauge)));
    }
    if indicator.get("latencyNative").is_some() {
        return Err(
            "native histograms are not read; slogate latency SLIs need classic _bucket series"
                .into(),
        );
    }
    Err("indicator is none of ratio, latency, bool_gauge".into())
}

fn alerting(node: &Node<'_>, out: &mut OutSlo) {
    let disabled = node.flag_of("disabled") == Some(true);
    if disabled || node.flag_of("burnrates") == Some(false) {
        out.alerting.page.enabled = Some(false);
        out.alerting.ticket.enabled = Some(false);
    }
    if let Some(absent) = node.get("absent") {
        if absent.flag() == Some(false) {
            absent.drop("slogate always generates SLOMissingData");
        }
    }
    if let Some(name) = node.get("name") {
        alert_name(&name, out);
    }
    if let Some(name) = node.get("absentName") {
        name.drop("slogate's missing-data alert is named SLOMissingData");
    }
}
