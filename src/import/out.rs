//! The imported config as typed structs, and its YAML text.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Format, Imported};

/// One SLO of the output, in the order and spelling of `slogate/v1`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct OutSlo {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The objective in percent as decimal text (`99.9`), written as a number.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "decimal")]
    pub objective: Option<String>,
    pub window: OutWindow,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_by: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runbook_url: Option<String>,
    #[serde(skip_serializing_if = "OutAlerting::is_empty")]
    pub alerting: OutAlerting,
    pub sli: OutSli,
}

/// A rolling window (`28d`), or a calendar one.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum OutWindow {
    Rolling(String),
    Calendar {
        calendar: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        timezone: Option<String>,
    },
}

impl Default for OutWindow {
    fn default() -> Self {
        Self::Rolling(String::new())
    }
}

impl From<String> for OutWindow {
    fn from(text: String) -> Self {
        Self::Rolling(text)
    }
}

impl PartialEq<&str> for OutWindow {
    fn eq(&self, other: &&str) -> bool {
        matches!(self, Self::Rolling(t) if t == other)
    }
}

fn decimal<S: serde::Serializer>(text: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    let text = text.as_deref().unwrap_or_default();
    match (text.parse::<u64>(), text.parse::<f64>()) {
        (Ok(n), _) => s.serialize_u64(n),
        (_, Ok(n)) => s.serialize_f64(n),
        _ => s.serialize_str(text),
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct OutAlerting {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "OutTier::is_default")]
    pub page: OutTier,
    #[serde(skip_serializing_if = "OutTier::is_default")]
    pub ticket: OutTier,
}

impl OutAlerting {
    fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.page.is_default() && self.ticket.is_default()
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct OutTier {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl OutTier {
    fn is_default(&self) -> bool {
        self.enabled.is_none() && self.labels.is_empty()
    }
}

/// The `sli` block: exactly one kind is set (built by the constructors).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct OutSli {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio: Option<Ratio>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uptime: Option<Uptime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Threshold>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Ratio {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub good: Option<String>,
    pub total: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Latency {
    pub histogram: String,
    pub threshold: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Uptime {
    pub selector: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Threshold {
    pub query: String,
    pub op: String,
    pub value: f64,
}

impl OutSli {
    pub fn ratio(errors: Option<String>, good: Option<String>, total: String) -> Self {
        Self {
            ratio: Some(Ratio {
                errors,
                good,
                total,
            }),
            ..Self::default()
        }
    }

    pub fn latency(histogram: String, threshold: String) -> Self {
        Self {
            latency: Some(Latency {
                histogram,
                threshold,
            }),
            ..Self::default()
        }
    }

    pub fn uptime(selector: String) -> Self {
        Self {
            uptime: Some(Uptime { selector }),
            ..Self::default()
        }
    }

    pub fn threshold(query: String, op: &str, value: f64) -> Self {
        Self {
            threshold: Some(Threshold {
                query,
                op: op.to_string(),
                value,
            }),
            ..Self::default()
        }
    }
}

/// The output text and how many SLOs it holds.
pub struct Rendered {
    pub text: String,
    pub slos: usize,
}

#[derive(Serialize)]
struct Prometheus<'a> {
    url: &'a str,
}

/// YAML with a header naming the sources and a comment above each SLO naming
/// the document and path it came from.
pub fn render(imported: &Imported, from: Option<Format>, names: &[String]) -> Rendered {
    let flag = from.map_or(String::new(), |f| format!(" --from={}", f.as_str()));
    let mut text = format!(
        "# Imported by `slogate import{flag}` from {}.\n\
         # Check it with `slogate validate --config.file=FILE`; the import's report\n\
         # (stderr) names every field that was not carried over.\n\
         apiVersion: slogate/v1\n",
        names.join(", ")
    );
    if let Some(url) = &imported.prometheus_url {
        text.push_str(&yaml(&BTreeMap::from([("prometheus", Prometheus { url })])));
    }
    if imported.slos.is_empty() {
        text.push_str("slos: []\n");
    } else {
        text.push_str("slos:\n");
    }
    for (slo, origin) in imported.slos.iter().zip(&imported.origins) {
        text.push_str(&format!("  # {origin}\n"));
        text.push_str(&slo_yaml(slo));
    }
    Rendered {
        text,
        slos: imported.slos.len(),
    }
}

/// One SLO as an item of the `slos:` list, indented under it.
pub fn slo_yaml(slo: &OutSlo) -> String {
    yaml(&[slo])
        .lines()
        .map(|line| format!("  {line}\n"))
        .collect()
}

fn yaml<T: Serialize>(value: &T) -> String {
    serde_norway::to_string(value).expect("plain structs of strings and numbers serialise")
}
