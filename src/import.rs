//! `slogate import`: Sloth, Pyrra and OpenSLO specs in, a `slogate/v1` config out,
//! with one note per field that was dropped or approximated.
//!
//! Pure: bytes in, a config and notes out. Every field of every document is
//! accounted for: a converter reads what it carries over and drops what it
//! cannot with a reason; whatever it did not touch is reported as unknown at the
//! end (`doc::Doc::unread`), so no field is lost silently.

mod doc;
mod openslo;
mod out;
mod pyrra;
mod shape;
mod sloth;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use out::OutSli;
pub use out::{OutSlo, Rendered};

/// The tools whose specs are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Sloth,
    Pyrra,
    #[value(name = "openslo")]
    OpenSlo,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sloth => "sloth",
            Self::Pyrra => "pyrra",
            Self::OpenSlo => "openslo",
        }
    }
}

/// One input file: the name it is reported under and its text.
pub struct Input {
    pub name: String,
    pub text: String,
}

/// Choices the user makes on the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Import a precomputed error-ratio SLI as a threshold probe instead of
    /// skipping its SLO.
    pub raw_as_probe: bool,
}

/// What happened to a field that did not carry over as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// The field (or the whole SLO) is not in the output.
    Dropped,
    /// The field is in the output, but means something slightly different.
    Approximated,
    /// Carried over unchanged in meaning; said for the reader (a renamed SLO).
    Info,
    /// A whole SLO (or objective) is not in the output.
    NotImported,
}

/// One line of the report on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// `FILE` or `FILE[DOC]` for files with several documents.
    pub place: String,
    /// The field's path in its document, e.g. `spec.slos[0].alerting.name`.
    pub path: String,
    pub kind: NoteKind,
    pub message: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let word = match self.kind {
            NoteKind::Dropped => "dropped",
            NoteKind::Approximated => "approximated",
            NoteKind::Info => "note",
            NoteKind::NotImported => "not imported",
        };
        if self.path.is_empty() {
            write!(f, "{}: {word}: {}", self.place, self.message)
        } else {
            write!(f, "{}: {}: {word}: {}", self.place, self.path, self.message)
        }
    }
}

/// A file that cannot be imported at all (exit 64).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{place}: {message}")]
pub struct ImportError {
    pub place: String,
    pub message: String,
}

/// The result of an import: the SLOs, the Prometheus URL when a source named
/// one, and the notes in input order.
#[derive(Debug, Default)]
pub struct Imported {
    pub slos: Vec<OutSlo>,
    pub prometheus_url: Option<String>,
    pub notes: Vec<Note>,
    /// Where each SLO came from (`FILE: PATH`), parallel to `slos`.
    pub origins: Vec<String>,
}

impl Imported {
    /// True when something was dropped or approximated (exit 3).
    pub fn lossy(&self) -> bool {
        self.notes.iter().any(|n| n.kind != NoteKind::Info)
    }
}

/// What a document is, judged by its `apiVersion`/`kind` (or Sloth's `version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    SlothV1,
    SlothCrd,
    OpenSloAlpha,
    Pyrra,
    OpenSlo,
}

impl Kind {
    /// The formats whose importer reads this kind: Sloth's own loader reads
    /// OpenSLO v1alpha, so `--from=sloth` does too.
    fn read_by(self) -> &'static [Format] {
        match self {
            Self::SlothV1 | Self::SlothCrd => &[Format::Sloth],
            Self::OpenSloAlpha => &[Format::Sloth, Format::OpenSlo],
            Self::Pyrra => &[Format::Pyrra],
            Self::OpenSlo => &[Format::OpenSlo],
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::SlothV1 => "a Sloth prometheus/v1 spec",
            Self::SlothCrd => "a Sloth PrometheusServiceLevel",
            Self::OpenSloAlpha => "an OpenSLO v1alpha SLO",
            Self::Pyrra => "a Pyrra ServiceLevelObjective",
            Self::OpenSlo => "an OpenSLO v1 document",
        }
    }
}

/// Identifies a document, or says why it is not one slogate imports.
fn kind_of(value: &serde_norway::Value) -> Result<Kind, String> {
    let field = |k: &str| value.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    let (api, kind, version) = (field("apiVersion"), field("kind"), field("version"));
    if !value.is_mapping() {
        return Err("not a YAML mapping; expected a Sloth, Pyrra or OpenSLO document".into());
    }
    match (api, kind) {
        ("", _) if version == "prometheus/v1" => Ok(Kind::SlothV1),
        ("sloth.slok.dev/v1", "PrometheusServiceLevel") => Ok(Kind::SlothCrd),
        ("openslo/v1alpha", _) => Ok(Kind::OpenSloAlpha),
        ("pyrra.dev/v1alpha1", "ServiceLevelObjective") => Ok(Kind::Pyrra),
        ("openslo/v1", _) => Ok(Kind::OpenSlo),
        ("monitoring.coreos.com/v1", "PrometheusRule") => Err(
            "a PrometheusRule (generated rules), not an SLO spec; import the spec it was generated from".into(),
        ),
        ("", "") if value.get("groups").is_some() => Err(
            "a Prometheus rule file (generated rules), not an SLO spec; import the spec it was generated from".into(),
        ),
        ("", "") if !version.is_empty() => Err(format!(
            "Sloth spec version {version:?} is not read; only prometheus/v1"
        )),
        ("", "") => Err("no apiVersion/kind (or Sloth `version`): not a Sloth, Pyrra or OpenSLO document".into()),
        (api, kind) => Err(format!(
            "apiVersion {api:?} kind {kind:?} is not a Sloth, Pyrra or OpenSLO SLO document"
        )),
    }
}

/// Reads every document of every input, checks it against `from` (when
/// given), and converts it. Errors only when an input cannot be read at all.
pub fn import(
    from: Option<Format>,
    inputs: &[Input],
    options: Options,
) -> Result<Imported, ImportError> {
    let mut docs = Vec::new();
    for input in inputs {
        let values = parse_documents(input)?;
        let several = values.len() > 1;
        for (i, value) in values.into_iter().enumerate() {
            let place = if several {
                format!("{}[{i}]", input.name)
            } else {
                input.name.clone()
            };
            for (place, value) in list_items(place, value) {
                let kind = check_kind(from, &place, &value)?;
                docs.push((kind, doc::Doc::new(place, value)));
            }
        }
    }
    if docs.is_empty() {
        let names: Vec<_> = inputs.iter().map(|i| i.name.as_str()).collect();
        return Err(ImportError {
            place: names.join(", "),
            message: "no documents to import".into(),
        });
    }
    let mut imported = Imported::default();
    let open_slo_objects = openslo::Objects::collect(
        docs.iter()
            .filter(|(k, _)| *k == Kind::OpenSlo)
            .map(|(_, d)| d),
    );
    for (kind, doc) in &docs {
        let slos = match kind {
            Kind::SlothV1 => sloth::prometheus_v1(doc, options),
            Kind::SlothCrd => sloth::crd(doc, options),
            Kind::OpenSloAlpha => openslo::v1alpha(doc),
            Kind::Pyrra => pyrra::slo(doc),
            Kind::OpenSlo => openslo::v1(doc, &open_slo_objects, &mut imported.prometheus_url),
        };
        for (path, slo) in slos {
            imported.origins.push(if path.is_empty() {
                doc.place.clone()
            } else {
                format!("{}: {path}", doc.place)
            });
            imported.slos.push(slo);
        }
    }
    // After every conversion: an OpenSLO SLI document is read by the SLO that
    // refers to it, which may come later.
    for (_, doc) in &docs {
        doc.report_unread();
        imported.notes.extend(doc.take_notes());
    }
    rename_clashes(&mut imported);
    keep_valid(&mut imported);
    Ok(imported)
}

/// Leaves out, with a line each, the SLOs slogate's own config check refuses
/// (a window Prometheus cannot read, a label that hides a group), so one odd
/// field costs its SLO, not the whole import.
fn keep_valid(imported: &mut Imported) {
    let slos = std::mem::take(&mut imported.slos);
    let origins = std::mem::take(&mut imported.origins);
    for (slo, origin) in slos.into_iter().zip(origins) {
        let text = format!("apiVersion: slogate/v1\nslos:\n{}", out::slo_yaml(&slo));
        match crate::config::parse("import", &text) {
            Ok(_) => {
                imported.slos.push(slo);
                imported.origins.push(origin);
            }
            Err(e) => {
                let problems: Vec<String> = e
                    .problems
                    .iter()
                    .map(|p| {
                        let field = p.path.strip_prefix("slos[0].").unwrap_or(&p.path);
                        format!("{field}: {}", p.message)
                    })
                    .collect();
                let (place, path) = origin.split_once(": ").unwrap_or((&origin, ""));
                imported.notes.push(Note {
                    place: place.to_string(),
                    path: path.to_string(),
                    kind: NoteKind::NotImported,
                    message: format!(
                        "the converted SLO {:?} fails slogate's checks: {}",
                        slo.name,
                        problems.join("; ")
                    ),
                });
            }
        }
    }
}

/// The objects of a document: the document itself, or each of the `items` of
/// a Kubernetes `List` (what `kubectl get -o yaml` prints); empty documents
/// carry nothing.
fn list_items(place: String, value: serde_norway::Value) -> Vec<(String, serde_norway::Value)> {
    let is_list = value.get("kind").and_then(|k| k.as_str()) == Some("List");
    match value.get("items").and_then(|i| i.as_sequence()) {
        Some(items) if is_list => items
            .iter()
            .enumerate()
            .map(|(j, item)| (format!("{place} items[{j}]"), item.clone()))
            .collect(),
        _ if value.is_null() => Vec::new(),
        _ => vec![(place, value)],
    }
}

/// What a document is; refuses one `--from` does not read, or one that is no
/// SLO spec.
fn check_kind(
    from: Option<Format>,
    place: &str,
    value: &serde_norway::Value,
) -> Result<Kind, ImportError> {
    let fail = |message: String| ImportError {
        place: place.to_string(),
        message,
    };
    let kind = kind_of(value).map_err(fail)?;
    match from {
        Some(from) if !kind.read_by().contains(&from) => Err(fail(format!(
            "is {}, not read by --from={}; use --from={} or leave --from out",
            kind.describe(),
            from.as_str(),
            kind.read_by()[0].as_str()
        ))),
        _ => Ok(kind),
    }
}

/// Splits a file into its YAML documents.
fn parse_documents(input: &Input) -> Result<Vec<serde_norway::Value>, ImportError> {
    use serde::Deserialize;
    let mut values = Vec::new();
    for de in serde_norway::Deserializer::from_str(&input.text) {
        let mut value = serde_norway::Value::deserialize(de).map_err(|e| ImportError {
            place: input.name.clone(),
            message: format!("invalid YAML: {e}"),
        })?;
        // `<<: *anchor` merge keys, as YAML 1.1 readers apply them.
        value.apply_merge().map_err(|e| ImportError {
            place: input.name.clone(),
            message: format!("invalid YAML merge key: {e}"),
        })?;
        values.push(value);
    }
    Ok(values)
}

/// Gives every SLO a unique name: a later SLO whose name is taken becomes
/// `<service>-<name>` (as Sloth's ids do), or `<name>-2`, `-3`, ... when that
/// is taken too or there is no service.
fn rename_clashes(imported: &mut Imported) {
    let mut taken = BTreeSet::new();
    for (slo, origin) in imported.slos.iter_mut().zip(&imported.origins) {
        if taken.insert(slo.name.clone()) {
            continue;
        }
        let base = match &slo.service {
            Some(service) => slo_name(&format!("{service}-{}", slo.name)),
            None => slo.name.clone(),
        };
        let mut name = base.clone();
        let mut n = 1;
        while taken.contains(&name) {
            n += 1;
            name = format!("{base}-{n}");
        }
        let (place, path) = origin.split_once(": ").unwrap_or((origin, ""));
        imported.notes.push(Note {
            place: place.to_string(),
            path: path.to_string(),
            kind: NoteKind::Info,
            message: format!(
                "renamed {:?} to {name:?}: an SLO imported before it has the same name",
                slo.name
            ),
        });
        slo.name = name.clone();
        taken.insert(name);
    }
}

/// The text of an import's output: a header naming the sources, then the
/// config, each SLO preceded by a comment saying where it came from.
pub fn render(imported: &Imported, from: Option<Format>, names: &[String]) -> Rendered {
    out::render(imported, from, names)
}

/// An objective in percent, checked as slogate checks it.
fn objective_percent(text: &str) -> Result<String, String> {
    let text = text.trim();
    let value: f64 = text
        .parse()
        .map_err(|_| format!("objective {text:?} is not a number"))?;
    let decimals = text.split_once('.').map_or(0, |(_, f)| f.len());
    if crate::slo::Objective::from_percent_text(text).is_none()
        || !(1.0..100.0).contains(&value)
        || decimals > crate::slo::Objective::MAX_DECIMALS
    {
        return Err(format!(
            "objective {text} is not a percentage slogate reads (1 to 100, exclusive, at most {} decimals)",
            crate::slo::Objective::MAX_DECIMALS
        ));
    }
    Ok(text.to_string())
}

/// A ratio target (`0.9995`) as a percentage, shifted as decimal text so it
/// stays exact (`99.95`, never `99.94999…`).
fn percent_of_ratio(text: &str) -> Result<String, String> {
    let t = text.trim();
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) {
        return Err(format!("target {t:?} is not a decimal ratio (e.g. 0.999)"));
    }
    let padded = format!("{frac:0<2}");
    let (whole, rest) = padded.split_at(2);
    let whole = format!("{int}{whole}").trim_start_matches('0').to_string();
    let whole = if whole.is_empty() { "0".into() } else { whole };
    let percent = if rest.trim_end_matches('0').is_empty() {
        whole
    } else {
        format!("{whole}.{}", rest.trim_end_matches('0'))
    };
    objective_percent(&percent).map_err(|e| format!("target {t} ({percent}%): {e}"))
}

/// A name slogate accepts: characters other than letters, digits, '-' and '_'
/// become '-'.
fn slo_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The SLO's name from `node`, noting a change when one was needed.
fn name_from(node: &doc::Node<'_>, prefix: &str) -> Option<String> {
    let text = node.text()?;
    let name = slo_name(&format!("{prefix}{text}"));
    if !crate::config::is_slo_name(&name) {
        return None;
    }
    if name != format!("{prefix}{text}") {
        node.info(format!(
            "name {text:?} becomes {name:?}: slogate names hold letters, digits, '-' and '_'"
        ));
    }
    Some(name)
}

/// Copies labels from a mapping into `into`, dropping the ones slogate
/// refuses; values are written as text (`true`, `0.2`).
fn copy_labels(
    node: &doc::Node<'_>,
    into: &mut std::collections::BTreeMap<String, String>,
    rename: impl Fn(&str) -> Option<String>,
) {
    for (key, value) in node.entries() {
        let Some(name) = rename(&key) else { continue };
        if name == crate::slo::conventions::label::SERVICE {
            value.drop("label `service` would contradict the SLO's service; slogate sets it from `service`");
            continue;
        }
        if let Some(problem) = crate::config::label_name_problem(&name) {
            value.drop(format!("label {problem}"));
            continue;
        }
        match value.text() {
            Some(text) => {
                into.insert(name, text);
            }
            None => value.drop("label value is not a scalar"),
        }
    }
}

/// The `sli` block and grouping of recognised event counts.
fn sli_of(events: shape::Events) -> (OutSli, Vec<String>) {
    match events {
        shape::Events::Ratio {
            errors,
            good,
            total,
            group_by,
        } => (OutSli::ratio(errors, good, total), group_by),
        shape::Events::Latency {
            histogram,
            threshold,
            group_by,
        } => (OutSli::latency(histogram, threshold), group_by),
    }
}

/// An SLI summed by `service` names each group's service; a fixed service
/// would hide it (slogate reports the `service` field first), so it goes.
fn grouped_service(out: &mut OutSlo, note_on: &doc::Node<'_>) {
    let grouped = out
        .group_by
        .iter()
        .any(|g| g == crate::slo::conventions::label::SERVICE);
    if let (true, Some(fixed)) = (grouped, &out.service) {
        note_on.approximate(format!(
            "summed by `service`: each group's own service label names its service, in place of the fixed service {fixed:?}"
        ));
        out.service = None;
    }
}

/// Marks what the Kubernetes API server adds to an object (`kubectl get -o
/// yaml`) as read: none of it was written by the user.
fn skip_server_fields(root: &doc::Node<'_>) {
    if let Some(metadata) = root.get("metadata") {
        for key in [
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "managedFields",
            "selfLink",
        ] {
            if let Some(n) = metadata.get(key) {
                n.mark();
            }
        }
    }
    if let Some(status) = root.get("status") {
        status.mark();
    }
}

/// The label slogate's alerts carry the source tool's alert name in.
const ALERT_NAME_LABEL: &str = "alert_name";

/// The source tool's alert name, kept as the `alert_name` label unless the
/// spec's own alert labels set one.
fn alert_name(node: &doc::Node<'_>, out: &mut OutSlo) {
    let Some(text) = node.text() else { return };
    if out.alerting.labels.contains_key(ALERT_NAME_LABEL) {
        node.drop(format!(
            "the alert labels already set {ALERT_NAME_LABEL}; slogate's burn-rate alerts are named SLOFastBurn and SLOSlowBurn"
        ));
        return;
    }
    node.approximate(format!(
        "kept as the alert label {ALERT_NAME_LABEL}={text:?}; slogate's burn-rate alerts are named SLOFastBurn and SLOSlowBurn"
    ));
    out.alerting
        .labels
        .insert(ALERT_NAME_LABEL.to_string(), text);
}
