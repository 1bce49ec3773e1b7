//! The one PromQL builder: every query slogate sends (and every expression the
//! generators write) is spelled here.

use super::conventions::label;
use super::{Indicator, PromDuration, RatioNumerator, Selector, Slo};

/// Which share of events a part of a combined SLI query counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Good,
    Bad,
    Total,
}

impl Part {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::Bad => "bad",
            Self::Total => "total",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Good, Self::Bad, Self::Total]
            .into_iter()
            .find(|p| p.as_str() == text)
    }
}

/// What a planned query answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryKind {
    /// Event counts (by [`Part`]) over a window.
    Events(PromDuration),
    /// p95 and p99 estimates of a latency SLO over a window.
    Quantiles(PromDuration),
    /// The measured value of a threshold probe.
    Probe,
}

/// One instant query and what it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedQuery {
    pub kind: QueryKind,
    pub promql: String,
}

/// Quantiles reported beside a latency SLI.
pub const QUANTILES: [&str; 2] = ["0.95", "0.99"];

/// A float as Prometheus writes it in an `le` label (`0.2`, `1`, `+Inf`).
fn le_value(seconds: f64) -> String {
    format!("{seconds}")
}

/// Matcher for the bucket at a latency threshold. Go clients write `le="1"`, some
/// other client libraries `le="1.0"`: whole seconds match both.
pub fn le_matcher(threshold: PromDuration) -> String {
    let value = le_value(threshold.as_secs_f64());
    if threshold.as_millis() % 1000 == 0 {
        format!("le=~\"{value}|{value}\\\\.0\"")
    } else {
        format!("le=\"{value}\"")
    }
}

fn sum_by(group_by: &[String], extra: &[&str], inner: &str) -> String {
    let labels: Vec<&str> = group_by
        .iter()
        .map(String::as_str)
        .chain(extra.iter().copied())
        .collect();
    if labels.is_empty() {
        format!("sum({inner})")
    } else {
        format!("sum by ({}) ({inner})", labels.join(", "))
    }
}

fn tag(expr: &str, name: &str, value: &str) -> String {
    format!("label_replace({expr}, \"{name}\", \"{value}\", \"\", \"\")")
}

impl Indicator {
    /// The per-series expressions counting each part of the events over `window`,
    /// before aggregation. Empty for probes.
    pub fn event_parts(&self, window: PromDuration) -> Vec<(Part, String)> {
        let increase = |s: &Selector, suffix: &str, extra: &[String]| {
            format!("increase({}[{window}])", s.render(suffix, extra))
        };
        match self {
            Self::Ratio { numerator, total } => {
                let num = match numerator {
                    RatioNumerator::Errors(s) => (Part::Bad, increase(s, "", &[])),
                    RatioNumerator::Good(s) => (Part::Good, increase(s, "", &[])),
                };
                vec![num, (Part::Total, increase(total, "", &[]))]
            }
            Self::Latency {
                histogram,
                threshold,
            } => vec![
                (
                    Part::Good,
                    increase(histogram, "_bucket", &[le_matcher(*threshold)]),
                ),
                (Part::Total, increase(histogram, "_count", &[])),
            ],
            Self::Uptime { selector } => vec![
                (
                    Part::Good,
                    format!("sum_over_time({}[{window}])", selector.text),
                ),
                (
                    Part::Total,
                    format!("count_over_time({}[{window}])", selector.text),
                ),
            ],
            Self::Cache { hits, misses } => vec![
                (Part::Good, increase(hits, "", &[])),
                (Part::Bad, increase(misses, "", &[])),
            ],
            Self::Threshold { .. } => Vec::new(),
        }
    }
}

impl Slo {
    /// One query returning every group's event counts over `window`, each part
    /// tagged with `slogate_part`, so the number of queries does not grow with the
    /// number of services.
    pub fn events_query(&self, window: PromDuration) -> Option<String> {
        let parts = self.indicator.event_parts(window);
        if parts.is_empty() {
            return None;
        }
        let tagged: Vec<String> = parts
            .iter()
            .map(|(part, inner)| {
                tag(
                    &sum_by(&self.group_by, &[], inner),
                    label::QUERY_PART,
                    part.as_str(),
                )
            })
            .collect();
        Some(tagged.join(" or "))
    }

    /// p95 and p99 of a latency SLO over `window`, tagged with `slogate_quantile`.
    pub fn quantiles_query(&self, window: PromDuration) -> Option<String> {
        let Indicator::Latency { histogram, .. } = &self.indicator else {
            return None;
        };
        let rate = format!("rate({}[{window}])", histogram.render("_bucket", &[]));
        let buckets = sum_by(&self.group_by, &["le"], &rate);
        let tagged: Vec<String> = QUANTILES
            .iter()
            .map(|q| {
                tag(
                    &format!("histogram_quantile({q}, {buckets})"),
                    label::QUERY_QUANTILE,
                    q,
                )
            })
            .collect();
        Some(tagged.join(" or "))
    }

    /// Every query one evaluation over `window` needs: the window itself, each burn
    /// window, quantiles for latency SLOs, the probe query for threshold probes.
    pub fn plan(&self, window: PromDuration) -> Vec<PlannedQuery> {
        if let Indicator::Threshold { query, .. } = &self.indicator {
            return vec![PlannedQuery {
                kind: QueryKind::Probe,
                promql: query.clone(),
            }];
        }
        let mut windows = vec![window];
        windows.extend(super::BURN_WINDOWS.iter().filter(|w| **w != window));
        let mut plan: Vec<PlannedQuery> = windows
            .into_iter()
            .filter_map(|w| {
                self.events_query(w).map(|promql| PlannedQuery {
                    kind: QueryKind::Events(w),
                    promql,
                })
            })
            .collect();
        if let Some(promql) = self.quantiles_query(window) {
            plan.push(PlannedQuery {
                kind: QueryKind::Quantiles(window),
                promql,
            });
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_second_thresholds_match_both_le_spellings() {
        assert_eq!(le_matcher(PromDuration::from_millis(200)), "le=\"0.2\"");
        assert_eq!(le_matcher(PromDuration::from_secs(1)), "le=~\"1|1\\\\.0\"");
        assert_eq!(le_matcher(PromDuration::from_millis(2500)), "le=\"2.5\"");
    }
}

#[cfg(test)]
mod parse_tests {
    use super::*;
    use crate::slo::{CompareOp, Objective, Slo};

    fn sel(text: &str, name: &str, matchers: &[&str]) -> Selector {
        Selector {
            text: text.into(),
            name: name.into(),
            matchers: matchers.iter().map(|m| m.to_string()).collect(),
        }
    }

    #[test]
    fn every_generated_query_parses() {
        let kinds = [
            Indicator::Ratio {
                numerator: RatioNumerator::Errors(sel("a{code=~\"5..\"}", "a", &["code=~\"5..\""])),
                total: sel("a", "a", &[]),
            },
            Indicator::Ratio {
                numerator: RatioNumerator::Good(sel("a", "a", &[])),
                total: sel("a", "a", &[]),
            },
            Indicator::Latency {
                histogram: sel("h{route=\"/x\"}", "h", &["route=\"/x\""]),
                threshold: PromDuration::from_secs(1),
            },
            Indicator::Uptime {
                selector: sel("up", "up", &[]),
            },
            Indicator::Cache {
                hits: sel("hits", "hits", &[]),
                misses: sel("misses", "misses", &[]),
            },
            Indicator::Threshold {
                query: "time() - max(b)".into(),
                op: CompareOp::Lt,
                value: 1.0,
            },
        ];
        for (i, indicator) in kinds.into_iter().enumerate() {
            for group_by in [vec![], vec!["service".to_string(), "route".to_string()]] {
                let slo = Slo {
                    name: format!("s{i}"),
                    objective: Some(Objective::from_percent_text("99").unwrap()),
                    window: PromDuration::from_secs(28 * 86400),
                    group_by,
                    ..Slo::for_test(indicator.clone())
                };
                for q in slo.plan(slo.window) {
                    promql_parser::parser::parse(&q.promql)
                        .unwrap_or_else(|e| panic!("{}: {e}", q.promql));
                }
            }
        }
    }

    #[test]
    fn one_query_per_window_returns_every_group() {
        let slo_plan = |group_by: Vec<String>| {
            Slo {
                group_by,
                ..Slo::for_test(Indicator::Ratio {
                    numerator: RatioNumerator::Errors(sel("e", "e", &[])),
                    total: sel("t", "t", &[]),
                })
            }
            .plan(PromDuration::from_secs(30 * 86400))
        };
        let plan = slo_plan(vec!["service".into()]);
        assert_eq!(plan.len(), 8, "the window and 7 burn windows");
        assert_eq!(
            plan[0].promql,
            "label_replace(sum by (service) (increase(e[30d])), \"slogate_part\", \"bad\", \"\", \"\") or \
             label_replace(sum by (service) (increase(t[30d])), \"slogate_part\", \"total\", \"\", \"\")"
        );
    }
}

/// Expressions for generated recording rules: robust to missing series (a missing
/// error counter is 0 errors) and never dividing by zero (no traffic: no sample).
impl Slo {
    fn agg(&self, inner: &str) -> String {
        sum_by(&self.group_by, &[], inner)
    }

    /// `a`, or 0 for every group of `b` where `a` has no series.
    fn or_zero(a: &str, b: &str) -> String {
        format!("({a} or 0 * {b})")
    }

    /// Bad and total events over `window`, aggregated by group. `None` for probes.
    pub fn rule_events(&self, window: PromDuration) -> Option<(String, String)> {
        let inc = |s: &Selector, suffix: &str, extra: &[String]| {
            self.agg(&format!("increase({}[{window}])", s.render(suffix, extra)))
        };
        Some(match &self.indicator {
            Indicator::Ratio { numerator, total } => {
                let total = inc(total, "", &[]);
                let bad = match numerator {
                    RatioNumerator::Errors(e) => Self::or_zero(&inc(e, "", &[]), &total),
                    RatioNumerator::Good(g) => {
                        format!("({total} - {})", Self::or_zero(&inc(g, "", &[]), &total))
                    }
                };
                (bad, total)
            }
            Indicator::Latency {
                histogram,
                threshold,
            } => {
                let total = inc(histogram, "_count", &[]);
                let good = inc(histogram, "_bucket", &[le_matcher(*threshold)]);
                (
                    format!("({total} - {})", Self::or_zero(&good, &total)),
                    total,
                )
            }
            Indicator::Uptime { selector } => {
                let count = self.agg(&format!("count_over_time({}[{window}])", selector.text));
                let up = self.agg(&format!("sum_over_time({}[{window}])", selector.text));
                (format!("({count} - {up})"), count)
            }
            Indicator::Cache { hits, misses } => {
                let (h, m) = (inc(hits, "", &[]), inc(misses, "", &[]));
                let misses = Self::or_zero(&m, &h);
                (
                    misses.clone(),
                    format!("({} + {misses})", Self::or_zero(&h, &m)),
                )
            }
            Indicator::Threshold { .. } => return None,
        })
    }

    /// Copies the first `group_by` label into `service` when it has another name,
    /// so every generated series carries `service`.
    pub fn with_service_label(&self, expr: String) -> String {
        match self.group_by.first() {
            Some(first)
                if first != super::conventions::label::SERVICE && self.service.is_none() =>
            {
                format!("label_replace({expr}, \"service\", \"$1\", \"{first}\", \"(.*)\")")
            }
            _ => expr,
        }
    }

    /// The series whose disappearance means the SLI has no data.
    pub fn source_selector(&self) -> Option<String> {
        Some(match &self.indicator {
            Indicator::Ratio { total, .. } => total.render("", &[]),
            Indicator::Latency { histogram, .. } => histogram.render("_count", &[]),
            Indicator::Uptime { selector } => selector.text.clone(),
            Indicator::Cache { hits, .. } => hits.render("", &[]),
            Indicator::Threshold { .. } => return None,
        })
    }

    /// Groups that had source series in the last hour but have none now, or no
    /// source series at all.
    pub fn missing_data_expr(&self) -> Option<String> {
        let sel = self.source_selector()?;
        let group = |inner: &str| {
            if self.group_by.is_empty() {
                format!("group({inner})")
            } else {
                format!("group by ({}) ({inner})", self.group_by.join(", "))
            }
        };
        let vanished = format!(
            "{} unless {}",
            group(&format!("last_over_time({sel}[1h])")),
            group(&sel)
        );
        Some(format!(
            "({}) or on () absent({sel})",
            self.with_service_label(vanished)
        ))
    }
}
