//! The `sli` block and its selectors: each kind's fields, checked with a real
//! PromQL parser.

use super::{parse_promql, Checker};
use crate::config::wire;
use crate::slo::{CompareOp, Indicator, RatioNumerator, Selector, SliKind};

impl Checker {
    /// A vector selector with a metric name, e.g. `http_requests_total{code=~"5.."}`.
    fn selector(&mut self, path: &str, text: &Option<String>) -> Option<Selector> {
        let text = self.required(path, text)?;
        match Selector::parse(text) {
            Ok(selector) => Some(selector),
            Err(e) => {
                self.problem(path, e);
                None
            }
        }
    }

    pub(super) fn sli(&mut self, path: &str, w: &Option<wire::Sli>) -> Option<Indicator> {
        let w = self.required(path, w)?;
        let set = w.kinds_set();
        if set.len() != 1 {
            let names = |kinds: &[SliKind]| {
                kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let found = if set.is_empty() {
                "none".to_string()
            } else {
                names(&set)
            };
            self.problem(
                path,
                format!(
                    "set exactly one of {} (found {found})",
                    names(&SliKind::ALL)
                ),
            );
            return None;
        }
        if let Some(r) = &w.ratio {
            return self.ratio(&format!("{path}.ratio"), r);
        }
        if let Some(l) = &w.latency {
            return self.latency(&format!("{path}.latency"), l);
        }
        if let Some(u) = &w.uptime {
            let selector = self.selector(&format!("{path}.uptime.selector"), &u.selector)?;
            return Some(Indicator::Uptime { selector });
        }
        if let Some(c) = &w.cache {
            let hits = self.selector(&format!("{path}.cache.hits"), &c.hits);
            let misses = self.selector(&format!("{path}.cache.misses"), &c.misses);
            return Some(Indicator::Cache {
                hits: hits?,
                misses: misses?,
            });
        }
        self.threshold(&format!("{path}.threshold"), w.threshold.as_ref()?)
    }

    fn ratio(&mut self, p: &str, r: &wire::Ratio) -> Option<Indicator> {
        let total = self.selector(&format!("{p}.total"), &r.total);
        let numerator = match (&r.errors, &r.good) {
            (Some(_), None) => self
                .selector(&format!("{p}.errors"), &r.errors)
                .map(RatioNumerator::Errors),
            (None, Some(_)) => self
                .selector(&format!("{p}.good"), &r.good)
                .map(RatioNumerator::Good),
            _ => {
                self.problem(p, "set exactly one of errors or good");
                None
            }
        };
        Some(Indicator::Ratio {
            numerator: numerator?,
            total: total?,
        })
    }

    fn latency(&mut self, p: &str, l: &wire::Latency) -> Option<Indicator> {
        let histogram = self.selector(&format!("{p}.histogram"), &l.histogram);
        if let Some(h) = &histogram {
            if h.name.ends_with("_bucket") || h.name.ends_with("_count") {
                self.problem(
                    &format!("{p}.histogram"),
                    format!(
                        "{:?}: name the histogram's base name, without _bucket or _count",
                        h.text
                    ),
                );
            }
        }
        let threshold = self
            .required(&format!("{p}.threshold"), &l.threshold)
            .and_then(|t| self.prom_duration(&format!("{p}.threshold"), t));
        Some(Indicator::Latency {
            histogram: histogram?,
            threshold: threshold?,
        })
    }

    fn threshold(&mut self, p: &str, t: &wire::Threshold) -> Option<Indicator> {
        let query =
            self.required(&format!("{p}.query"), &t.query)
                .and_then(|q| match parse_promql(q) {
                    Ok(_) => Some(q.trim().to_string()),
                    Err(e) => {
                        self.problem(&format!("{p}.query"), e);
                        None
                    }
                });
        let op = self.required(&format!("{p}.op"), &t.op).and_then(|op| {
            let parsed = CompareOp::parse(op);
            if parsed.is_none() {
                self.problem(
                    &format!("{p}.op"),
                    format!("{op:?} is not one of <, <=, >, >=, ==, !="),
                );
            }
            parsed
        });
        let value = self.required(&format!("{p}.value"), &t.value).copied();
        Some(Indicator::Threshold {
            query: query?,
            op: op?,
            value: value?,
        })
    }
}
