//! OpenSLO: `openslo/v1` (SLO, SLI, DataSource) and the `openslo/v1alpha` SLOs
//! Sloth reads. One OpenSLO SLO with several objectives becomes one slogate
//! SLO per objective.

use std::collections::{BTreeMap, BTreeSet};

use super::doc::{Doc, Node};
use super::out::{OutSli, OutSlo, OutWindow};
use super::shape::{self, Events, Ranges, Side};
use super::{
    copy_labels, grouped_service, name_from, objective_percent, percent_of_ratio,
    skip_server_fields, sli_of, slo_name,
};

/// The `SLI` and `DataSource` documents among the inputs, by name, and the
/// SLI names some SLO refers to.
pub struct Objects<'d> {
    slis: BTreeMap<String, &'d Doc>,
    sources: BTreeMap<String, &'d Doc>,
    referred: BTreeSet<String>,
}

/// The text at `path` in a document, or "" (for lookups across documents,
/// which do not mark anything read).
fn text_at(doc: &Doc, path: &[&str]) -> String {
    let mut value = doc.root().value;
    for key in path {
        match value.get(*key) {
            Some(v) => value = v,
            None => return String::new(),
        }
    }
    value.as_str().unwrap_or_default().to_string()
}

fn kind(doc: &Doc) -> String {
    text_at(doc, &["kind"])
}

fn name(doc: &Doc) -> String {
    text_at(doc, &["metadata", "name"])
}

impl<'d> Objects<'d> {
    pub fn collect(docs: impl Iterator<Item = &'d Doc>) -> Self {
        let mut objects = Self {
            slis: BTreeMap::new(),
            sources: BTreeMap::new(),
            referred: BTreeSet::new(),
        };
        for doc in docs {
            match kind(doc).as_str() {
                "SLI" => {
                    objects.slis.insert(name(doc), doc);
                }
                "DataSource" => {
                    objects.sources.insert(name(doc), doc);
                }
                "SLO" => {
                    let root = doc.root();
                    let spec = root.value.get("spec");
                    let refs = spec
                        .and_then(|s| s.get("indicatorRef"))
                        .and_then(|r| r.as_str());
                    objects.referred.extend(refs.map(str::to_string));
                }
                _ => {}
            }
        }
        objects
    }
}

fn mark_header(root: &Node<'_>) {
    skip_server_fields(root);
    for key in ["apiVersion", "kind"] {
        if let Some(v) = root.get(key) {
            v.mark();
        }
    }
}

/// An `openslo/v1` document of any kind.
pub fn v1(doc: &Doc, objects: &Objects<'_>, url: &mut Option<String>) -> Vec<(String, OutSlo)> {
    let root = doc.root();
    mark_header(&root);
    match kind(doc).as_str() {
        "SLO" => slo(&root, objects),
        "SLI" => {
            if !objects.referred.contains(&name(doc)) {
                root.drop("an SLI no SLO among the files refers to (indicatorRef)");
            }
            Vec::new()
        }
        "DataSource" => {
            data_source(&root, url);
            Vec::new()
        }
        other => {
            root.drop(format!(
                "OpenSLO {other} objects are not imported; slogate generates its own alerts and names services in each SLO"
            ));
            Vec::new()
        }
    }
}

fn data_source(root: &Node<'_>, url: &mut Option<String>) {
    if let Some(m) = root.get("metadata") {
        m.mark();
    }
    let Some(spec) = root.get("spec") else { return };
    let prometheus = spec
        .text_of("type")
        .is_some_and(|t| t.eq_ignore_ascii_case("prometheus"));
    if !prometheus {
        spec.drop("not a Prometheus data source; SLOs reading it are not imported");
        return;
    }
    let Some(details) = spec.get("connectionDetails") else {
        return;
    };
    for (key, value) in details.entries() {
        let is_url = key.eq_ignore_ascii_case("url") || key.eq_ignore_ascii_case("address");
        let readable = |text: &str| crate::config::check_url_flag(text).is_empty();
        match (is_url, value.text(), url.as_ref()) {
            (true, Some(text), _) if !readable(&text) => value.drop(format!(
                "{text:?} is not an http(s) URL slogate can query; set prometheus.url"
            )),
            (true, Some(text), None) => *url = Some(text),
            (true, Some(text), Some(kept)) if &text == kept => {}
            (true, _, _) => value.drop("a second Prometheus URL; a slogate config reads one Prometheus"),
            (false, _, _) => value.drop("connection settings other than the URL are not imported; set them under prometheus"),
        }
    }
}

/// What an indicator measures, before objectives are applied.
enum Measure {
    Events(Events),
    /// thresholdMetric: a query compared against each objective's op/value.
    Threshold(String),
}

/// The query of a `metricSource` (inline or by `metricSourceRef`), checked to
/// be Prometheus.
fn query_of(node: &Node<'_>, objects: &Objects<'_>) -> Result<String, String> {
    let Some(source) = node.get("metricSource") else {
        return Err(format!("{} has no metricSource", node.path));
    };
    let kind = match source.get("metricSourceRef") {
        Some(r) => {
            let name = r.text().unwrap_or_default();
            let Some(doc) = objects.sources.get(&name) else {
                return Err(format!(
                    "metricSourceRef {name} names no DataSource among the files"
                ));
            };
            text_at(doc, &["spec", "type"])
        }
        None => source.text_of("type").unwrap_or_default(),
    };
    if !kind.eq_ignore_ascii_case("prometheus") {
        return Err(format!("metricSource type {kind:?} is not Prometheus"));
    }
    let spec = source.get("spec");
    let query = spec
        .as_ref()
        .and_then(|s| s.text_of("query").or_else(|| s.text_of("promql")));
    query.ok_or_else(|| format!("{}.spec has no query", source.path))
}

/// The indicator's `spec` (inline `indicator.spec`, or the referenced SLI's).
fn measure(spec: &Node<'_>, objects: &Objects<'_>) -> Result<Measure, String> {
    let sli_spec = if let Some(inline) = spec.get("indicator") {
        inline.get("spec")
    } else if let Some(r) = spec.get("indicatorRef") {
        let name = r.text().unwrap_or_default();
        let Some(doc) = objects.slis.get(&name) else {
            return Err(format!(
                "indicatorRef {name} names no SLI among the files given"
            ));
        };
        let root = doc.root();
        if let Some(m) = root.get("metadata") {
            m.mark();
        }
        root.get("spec")
    } else {
        None
    };
    let Some(sli) = sli_spec else {
        return Err("it has no indicator".into());
    };
    if let Some(threshold) = sli.get("thresholdMetric") {
        return Ok(Measure::Threshold(query_of(&threshold, objects)?));
    }
    let Some(ratio) = sli.get("ratioMetric") else {
        return Err("indicator is neither ratioMetric nor thresholdMetric".into());
    };
    if ratio.get("raw").is_some() || ratio.get("rawType").is_some() {
        return Err("a precomputed ratio (raw) has no event counts".into());
    }
    if ratio.flag_of("counter") == Some(false) {
        return Err("counter: false queries are gauges; slogate counts counter increases".into());
    }
    let total = match ratio.get("total") {
        Some(t) => query_of(&t, objects)?,
        None => return Err("ratioMetric has no total".into()),
    };
    let (first, side) = match (ratio.get("good"), ratio.get("bad")) {
        (Some(good), None) => (query_of(&good, objects)?, Side::Good),
        (None, Some(bad)) => (query_of(&bad, objects)?, Side::Errors),
        _ => return Err("ratioMetric needs exactly one of good and bad".into()),
    };
    Ok(Measure::Events(shape::events(
        &first,
        side,
        &total,
        Ranges::Any,
    )?))
}

/// OpenSLO's duration shorthand (`28d`, `1w`, `1M`) as a slogate window, and
/// whether it had to be approximated.
fn window(node: &Node<'_>) -> Result<OutWindow, String> {
    let first = node.items().into_iter().next();
    for extra in node.items().iter().skip(1) {
        extra.drop("slogate SLOs have one window; only the first is imported");
    }
    let Some(tw) = first else {
        return Err("it has no timeWindow".into());
    };
    let duration = tw.text_of("duration").unwrap_or_default();
    let rolling = tw.flag_of("isRolling") != Some(false);
    let (count, unit) = duration.split_at(
        duration
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(duration.len()),
    );
    let count: u64 = count
        .parse()
        .map_err(|_| format!("timeWindow duration {duration:?} is not a number and unit"))?;
    let days = match unit {
        "M" => Some(30),
        "Q" => Some(90),
        "Y" => Some(365),
        _ => None,
    };
    let period = match (count, unit) {
        (1, "w") => Some("week"),
        (1, "M") => Some("month"),
        (1, "Q") => Some("quarter"),
        _ => None,
    };
    if let (false, Some(period)) = (rolling, period) {
        return Ok(calendar_window(&tw, period));
    }
    if !rolling && matches!(unit, "s" | "m" | "h") {
        return Err(format!(
            "a calendar window of {duration} (OpenSLO's m is a minute, M a month) has no slogate equivalent"
        ));
    }
    let out = match (days, unit) {
        (Some(d), _) => match count.checked_mul(d) {
            Some(n) => format!("{n}d"),
            None => return Err(format!("timeWindow duration {duration:?} is too long")),
        },
        (None, "m" | "h" | "d" | "w") => duration.clone(),
        _ => {
            return Err(format!(
                "timeWindow duration {duration:?} has an unknown unit"
            ))
        }
    };
    if !rolling {
        tw.approximate(format!(
            "calendar window {duration} imported as a rolling {out} window; slogate's calendar windows are one week, month or quarter"
        ));
    } else if days.is_some() {
        tw.approximate(format!(
            "rolling {duration} imported as {out}; Prometheus durations have no months, quarters or years"
        ));
    }
    if let Some(calendar) = tw.get("calendar") {
        calendar.drop(
            "calendar alignment (startTime, timeZone) is not carried over; the window is rolling",
        );
    }
    Ok(out.into())
}

/// A calendar window of one week, month or quarter, in the calendar's time zone.
fn calendar_window(tw: &Node<'_>, period: &str) -> OutWindow {
    let calendar = tw.get("calendar");
    let zone = calendar.as_ref().and_then(|c| c.text_of("timeZone"));
    let timezone = match zone {
        Some(z) if crate::slo::calendar::parse_tz(&z).is_some() => (z != "UTC").then_some(z),
        Some(z) => {
            if let Some(node) = calendar.as_ref().and_then(|c| c.get("timeZone")) {
                node.drop(format!(
                    "{z:?} is not an IANA time zone slogate knows; the {period} is counted in UTC"
                ));
            }
            None
        }
        None => None,
    };
    if let Some(start) = calendar.as_ref().and_then(|c| c.get("startTime")) {
        start.drop(format!(
            "slogate {period}s start at the calendar boundary (weeks on Monday), not at startTime"
        ));
    }
    OutWindow::Calendar {
        calendar: period.to_string(),
        timezone,
    }
}

/// The document's `metadata` and the SLO name it gives, if usable.
fn named<'d>(root: &Node<'d>) -> (Option<Node<'d>>, Option<String>) {
    let metadata = root.get("metadata");
    let name = metadata
        .as_ref()
        .and_then(|m| m.get("name"))
        .and_then(|n| name_from(&n, ""));
    (metadata, name)
}

fn slo(root: &Node<'_>, objects: &Objects<'_>) -> Vec<(String, OutSlo)> {
    let skip = |node: &Node<'_>, reason: String| {
        node.skip(reason);
        Vec::new()
    };
    let (metadata, base) = named(root);
    let Some(base) = base else {
        return skip(root, "it has no usable metadata.name".into());
    };
    let Some(spec) = root.get("spec") else {
        return skip(root, "it has no spec".into());
    };
    let measure = match measure(&spec, objects) {
        Ok(m) => m,
        Err(e) => return skip(root, e),
    };
    if let Some(m) = spec.get("indicator").and_then(|i| i.get("metadata")) {
        m.drop("slogate SLOs have no separate SLI object; its name and display name are not kept");
    }
    let window = match spec.get("timeWindow").map(|w| self::window(&w)) {
        Some(Ok(w)) => w,
        Some(Err(e)) => return skip(root, e),
        None => return skip(root, "it has no timeWindow".into()),
    };
    let mut labels = BTreeMap::new();
    if let Some(m) = &metadata {
        if let Some(d) = m.get("displayName") {
            d.drop("slogate SLOs have no display name");
        }
        if let Some(l) = m.get("labels") {
            copy_labels(&l, &mut labels, |k| Some(k.to_string()));
        }
        if let Some(a) = m.get("annotations") {
            a.drop("annotations are not SLO fields in slogate");
        }
    }
    if let Some(method) = spec.get("budgetingMethod") {
        match method.text().as_deref() {
            Some("Occurrences") => {}
            _ if matches!(measure, Measure::Threshold(_)) => {
                method.drop("a threshold probe has no error budget");
            }
            Some(m) => method.approximate(format!(
                "{m} imported as Occurrences: slogate counts events, so the objective now applies to events, not time slices"
            )),
            None => {}
        }
    }
    if let Some(a) = spec.get("alertPolicies") {
        a.drop(
            "OpenSLO alert policies are not imported; slogate generates its own burn-rate alerts",
        );
    }
    let template = OutSlo {
        service: spec.text_of("service"),
        description: spec.text_of("description").filter(|d| !d.trim().is_empty()),
        window,
        labels,
        ..OutSlo::default()
    };
    let list = spec
        .get("objectives")
        .map(|o| o.items())
        .unwrap_or_default();
    if list.is_empty() {
        return skip(root, "it has no objectives".into());
    }
    let several = list.len() > 1;
    list.iter()
        .enumerate()
        .filter_map(|(k, node)| {
            let name = if several {
                slo_name(&format!("{base}-{k}"))
            } else {
                base.clone()
            };
            let out = objective(
                node,
                &measure,
                OutSlo {
                    name,
                    ..template.clone()
                },
            )?;
            Some((node.path.clone(), out))
        })
        .collect()
}

/// One objective as one SLO; `None` (with its note) when it cannot be.
fn objective(node: &Node<'_>, measure: &Measure, mut out: OutSlo) -> Option<OutSlo> {
    let skip = |reason: String| {
        node.skip(reason);
        None
    };
    if ["indicator", "indicatorRef", "compositeWeight"]
        .iter()
        .any(|k| node.get(k).is_some())
    {
        return skip("composite SLOs are not supported".into());
    }
    if let Some(d) = node.get("displayName") {
        d.drop("slogate SLOs have no display name");
    }
    for key in ["timeSliceTarget", "timeSliceWindow"] {
        if let Some(t) = node.get(key) {
            t.drop("time slices are not supported; the objective applies to events");
        }
    }
    let target = match (node.get("targetPercent"), node.get("target")) {
        (Some(p), _) => objective_percent(&p.text().unwrap_or_default()),
        (None, Some(t)) => percent_of_ratio(&t.text().unwrap_or_default()),
        (None, None) => Err("it has no target".into()),
    };
    match measure {
        Measure::Events(events) => {
            for key in ["op", "value"] {
                if let Some(n) = node.get(key) {
                    n.drop("op and value apply to thresholdMetric only");
                }
            }
            match target {
                Ok(t) => out.objective = Some(t),
                Err(e) => return skip(e),
            }
            let (sli, group_by) = sli_of(events.clone());
            out.sli = sli;
            out.group_by = group_by;
            grouped_service(&mut out, node);
        }
        Measure::Threshold(query) => {
            let op = match node.text_of("op").as_deref() {
                Some("lt") => "<",
                Some("lte") => "<=",
                Some("gt") => ">",
                Some("gte") => ">=",
                other => {
                    return skip(format!(
                        "thresholdMetric op {other:?} is not lt, lte, gt or gte"
                    ))
                }
            };
            let Some(value) = node.text_of("value").and_then(|v| v.parse::<f64>().ok()) else {
                return skip("thresholdMetric objective has no numeric value".into());
            };
            for key in ["target", "targetPercent"] {
                if let Some(t) = node.get(key) {
                    t.drop("a threshold probe holds or fails at each evaluation; the target share of good samples is not carried over");
                }
            }
            out.sli = OutSli::threshold(query.clone(), op, value);
        }
    }
    Some(out)
}

/// An `openslo/v1alpha` SLO, as Sloth reads it: `ratioMetrics` with
/// `{{.window}}` queries, objectives named `<name>-<index>` like Sloth's.
pub fn v1alpha(doc: &Doc) -> Vec<(String, OutSlo)> {
    let root = doc.root();
    mark_header(&root);
    let skip = |reason: String| {
        root.skip(reason);
        Vec::new()
    };
    if root.value.get("kind").and_then(|k| k.as_str()) != Some("SLO") {
        return skip("only v1alpha SLO documents are read".into());
    }
    let (metadata, base) = named(&root);
    let Some(base) = base else {
        return skip("it has no usable metadata.name".into());
    };
    if let Some(d) = metadata.as_ref().and_then(|m| m.get("displayName")) {
        d.drop("slogate SLOs have no display name");
    }
    let Some(spec) = root.get("spec") else {
        return skip("it has no spec".into());
    };
    let window = match spec
        .get("timeWindows")
        .and_then(|w| w.items().into_iter().next())
    {
        Some(tw) => {
            let count = tw.text_of("count").unwrap_or_default();
            let unit = match tw.text_of("unit").as_deref() {
                Some("Day") => "d",
                Some("Week") => "w",
                other => return skip(format!("timeWindows unit {other:?} is not Day or Week")),
            };
            match count.parse::<u32>() {
                Ok(n) if n > 0 => {}
                _ => {
                    return skip(format!(
                        "timeWindows count {count:?} is not a whole number above 0"
                    ))
                }
            }
            let window = format!("{count}{unit}");
            match (tw.flag_of("isRolling"), window.as_str()) {
                (Some(false), "1w") => OutWindow::Calendar {
                    calendar: "week".into(),
                    timezone: None,
                },
                (Some(false), _) => {
                    tw.approximate(format!(
                        "calendar window imported as a rolling {window} window; slogate's calendar windows are one week, month or quarter"
                    ));
                    window.into()
                }
                _ => window.into(),
            }
        }
        None => "30d".to_string().into(),
    };
    if let Some(method) = spec.get("budgetingMethod") {
        if method.text().as_deref() != Some("Occurrences") {
            method.approximate("imported as Occurrences: slogate counts events");
        }
    }
    let service = spec.text_of("service");
    let description = spec.text_of("description").filter(|d| !d.trim().is_empty());
    let mut slos = Vec::new();
    let objectives = spec
        .get("objectives")
        .map(|o| o.items())
        .unwrap_or_default();
    if objectives.is_empty() {
        return skip("it has no objectives".into());
    }
    for (k, objective) in objectives.iter().enumerate() {
        if objective
            .get("ratioMetrics")
            .and_then(|r| r.flag_of("counter"))
            == Some(false)
        {
            objective.skip("counter: false queries are gauges; slogate counts counter increases");
            continue;
        }
        let skip_objective = |reason: String| objective.skip(reason);
        let query = |side: &str| -> Result<String, String> {
            let m = objective
                .get("ratioMetrics")
                .and_then(|r| r.get(side))
                .ok_or_else(|| format!("ratioMetrics has no {side}"))?;
            let source = m.text_of("source").unwrap_or_default();
            let kind = m.text_of("queryType").unwrap_or_default();
            if !source.eq_ignore_ascii_case("prometheus") || !kind.eq_ignore_ascii_case("promql") {
                return Err(format!(
                    "{side} source {source:?} queryType {kind:?} is not prometheus promql"
                ));
            }
            m.text_of("query")
                .ok_or_else(|| format!("{side} has no query"))
        };
        let events = query("good")
            .and_then(|good| Ok((good, query("total")?)))
            .and_then(|(good, total)| shape::events(&good, Side::Good, &total, Ranges::Template));
        let target = percent_of_ratio(&objective.text_of("target").unwrap_or_default());
        let (events, target) = match (events, target) {
            (Ok(e), Ok(t)) => (e, t),
            (Err(e), _) | (_, Err(e)) => {
                skip_objective(e);
                continue;
            }
        };
        let (sli, group_by) = sli_of(events);
        let mut out = OutSlo {
            name: slo_name(&format!("{base}-{k}")),
            service: service.clone(),
            description: description.clone(),
            objective: Some(target),
            window: window.clone(),
            group_by,
            sli,
            ..OutSlo::default()
        };
        grouped_service(&mut out, objective);
        slos.push((objective.path.clone(), out));
    }
    slos
}
