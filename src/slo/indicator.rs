//! The SLI kinds and everything that differs between them, in one place: which
//! selectors a kind reads, how its events are counted (by slogate's queries and by
//! the generated recording rules), how answers become `(bad, total)`, which source
//! series must exist. Adding a kind means a variant here, its wire struct and its
//! config check; the compiler points at every match below.

use serde::Serialize;

use super::promql::{Func, Read};
use super::{PromDuration, Selector};

/// The kind of an SLI, as written in the config and reported in outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SliKind {
    Ratio,
    Latency,
    Uptime,
    Cache,
    Threshold,
}

impl SliKind {
    /// Every kind, in the order the config documents them.
    pub const ALL: [SliKind; 5] = [
        Self::Ratio,
        Self::Latency,
        Self::Uptime,
        Self::Cache,
        Self::Threshold,
    ];

    /// The name as written in the config (`ratio`, `latency`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ratio => "ratio",
            Self::Latency => "latency",
            Self::Uptime => "uptime",
            Self::Cache => "cache",
            Self::Threshold => "threshold",
        }
    }

    /// True for checklist probes, which have no objective, budget or burn rate.
    pub fn is_probe(self) -> bool {
        self == Self::Threshold
    }
}

impl std::fmt::Display for SliKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A comparison of a threshold probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl CompareOp {
    const ALL: [CompareOp; 6] = [Self::Lt, Self::Le, Self::Gt, Self::Ge, Self::Eq, Self::Ne];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Eq => "==",
            Self::Ne => "!=",
        }
    }

    /// The comparison that holds exactly when this one does not.
    pub fn negated(self) -> Self {
        match self {
            Self::Lt => Self::Ge,
            Self::Le => Self::Gt,
            Self::Gt => Self::Le,
            Self::Ge => Self::Lt,
            Self::Eq => Self::Ne,
            Self::Ne => Self::Eq,
        }
    }

    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Self::Lt => left < right,
            Self::Le => left <= right,
            Self::Gt => left > right,
            Self::Ge => left >= right,
            Self::Eq => left == right,
            Self::Ne => left != right,
        }
    }

    /// Of two measured values, the one further from passing against `limit`.
    pub fn worse(self, a: f64, b: f64, limit: f64) -> f64 {
        match self {
            Self::Lt | Self::Le => a.max(b),
            Self::Gt | Self::Ge => a.min(b),
            Self::Eq | Self::Ne if self.holds(a, limit) => b,
            Self::Eq | Self::Ne => a,
        }
    }
}

/// Where an SLO's good and bad events come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Indicator {
    /// `errors` (or `good`) over `total` request counters.
    Ratio {
        numerator: RatioNumerator,
        total: Selector,
    },
    /// Requests faster than `threshold`, read from a classic histogram.
    Latency {
        histogram: Selector,
        threshold: PromDuration,
    },
    /// Share of scrapes where the target was up.
    Uptime { selector: Selector },
    /// Cache hits over hits plus misses.
    Cache { hits: Selector, misses: Selector },
    /// A checklist probe: `query op value` must hold; no budget.
    Threshold {
        query: String,
        op: CompareOp,
        value: f64,
    },
}

/// The numerator of a ratio SLI.
#[derive(Debug, Clone, PartialEq)]
pub enum RatioNumerator {
    Errors(Selector),
    Good(Selector),
}

/// Which share of events a part of a combined SLI query counts, or which fact
/// about the source series it reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Good,
    Bad,
    Total,
    /// Source series present at the evaluation instant (count per group).
    Present,
    /// A latency histogram's bucket increases, one series per `le`: the SLI (the
    /// bucket at the threshold over `+Inf`) and the quantiles both come from it.
    Bucket,
}

impl Part {
    const ALL: [Part; 5] = [
        Self::Good,
        Self::Bad,
        Self::Total,
        Self::Present,
        Self::Bucket,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::Bad => "bad",
            Self::Total => "total",
            Self::Present => "present",
            Self::Bucket => "bucket",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// Labels a part keeps besides the SLO's `group_by`.
    pub fn extra_labels(self) -> &'static [&'static str] {
        match self {
            Self::Bucket => &["le"],
            Self::Good | Self::Bad | Self::Total | Self::Present => &[],
        }
    }
}

/// A selector an SLI reads, named by its config field, for checks against a live
/// server (`validate --prometheus.url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The field under `sli`, e.g. `ratio.total`.
    pub field: &'static str,
    /// The PromQL that must match series (a selector, or a probe's query).
    pub promql: String,
    /// A quiet error or miss counter may legitimately match nothing yet.
    pub may_be_empty: bool,
}

/// Counted events of one group over one window, by part, before they are
/// turned into `(bad, total)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub good: Option<f64>,
    pub bad: Option<f64>,
    pub total: Option<f64>,
    /// Bucket increases of a latency histogram: `(le as written, increase)`.
    pub buckets: Vec<(String, f64)>,
    /// What exclusions inside the window counted (not in the counts above).
    pub excluded: Option<Box<Counts>>,
}

impl Counts {
    /// Adds `value` to the slot of `part`; `le` is the bucket's bound for
    /// [`Part::Bucket`]. Presence is read apart.
    pub fn add(&mut self, part: Part, value: f64, le: Option<&str>) {
        let slot = match part {
            Part::Good => &mut self.good,
            Part::Bad => &mut self.bad,
            Part::Total => &mut self.total,
            Part::Bucket => {
                self.buckets
                    .push((le.unwrap_or_default().to_string(), value));
                return;
            }
            Part::Present => return,
        };
        *slot = Some(slot.unwrap_or(0.0) + value);
    }

    /// Buckets as `(upper bound, count)`, bounds parsed (`+Inf`, `2e-01`, `0.20`).
    pub fn bucket_bounds(&self) -> Vec<(f64, f64)> {
        self.buckets
            .iter()
            .filter_map(|(le, v)| Some((le.parse::<f64>().ok()?, *v)))
            .collect()
    }

    /// The summed count of the buckets whose bound is `bound`.
    fn at_bound(&self, bound: f64) -> Option<f64> {
        let at: Vec<f64> = self
            .bucket_bounds()
            .into_iter()
            .filter(|(le, _)| *le == bound || (le - bound).abs() < 1e-9)
            .map(|(_, v)| v)
            .collect();
        (!at.is_empty()).then(|| at.iter().sum())
    }
}

/// Failed scrapes in a page tier's long window before an uptime SLO pages.
pub const MIN_FAILED_SCRAPES_TO_PAGE: f64 = 10.0;

fn increase(s: &Selector, suffix: &str, extra: &[String], window: PromDuration) -> String {
    format!("increase({}[{window}])", s.render(suffix, extra))
}

impl Indicator {
    /// The kind of this indicator.
    pub fn kind(&self) -> SliKind {
        match self {
            Self::Ratio { .. } => SliKind::Ratio,
            Self::Latency { .. } => SliKind::Latency,
            Self::Uptime { .. } => SliKind::Uptime,
            Self::Cache { .. } => SliKind::Cache,
            Self::Threshold { .. } => SliKind::Threshold,
        }
    }

    /// True for checklist probes, which have no objective, budget or burn rate.
    pub fn is_probe(&self) -> bool {
        self.kind().is_probe()
    }

    /// Every selector this SLI reads, with its config field.
    pub fn sources(&self) -> Vec<Source> {
        let source = |field, promql, may_be_empty| Source {
            field,
            promql,
            may_be_empty,
        };
        match self {
            Self::Ratio { numerator, total } => {
                let num = match numerator {
                    RatioNumerator::Errors(s) => source("ratio.errors", s.render("", &[]), true),
                    RatioNumerator::Good(s) => source("ratio.good", s.render("", &[]), false),
                };
                vec![num, source("ratio.total", total.render("", &[]), false)]
            }
            Self::Latency { histogram, .. } => vec![source(
                "latency.histogram",
                histogram.render("_count", &[]),
                false,
            )],
            Self::Uptime { selector } => {
                vec![source("uptime.selector", selector.text.clone(), false)]
            }
            Self::Cache { hits, misses } => vec![
                source("cache.hits", hits.render("", &[]), false),
                source("cache.misses", misses.render("", &[]), true),
            ],
            Self::Threshold { query, .. } => vec![source("threshold.query", query.clone(), true)],
        }
    }

    /// The series whose disappearance means the SLI has no data (the last source
    /// that may not be empty: the total where there is one); `None` for probes.
    pub fn source_selector(&self) -> Option<String> {
        let main = self.sources().into_iter().rev().find(|s| !s.may_be_empty)?;
        Some(main.promql)
    }

    /// The selectors whose series show the SLI's source is there: the main
    /// source, and for a cache either counter (a cache that only ever missed has
    /// no hit series yet, and is failing, not gone).
    pub fn presence_selectors(&self) -> Vec<String> {
        self.presence_reads().iter().map(Read::series).collect()
    }

    /// [`Self::presence_selectors`] as reads: one count per series present now.
    pub fn presence_reads(&self) -> Vec<Read<'_>> {
        let present = |selector, suffix| Read {
            part: Part::Present,
            func: Func::Present,
            selector,
            suffix,
        };
        match self {
            Self::Cache { hits, misses } => vec![present(hits, ""), present(misses, "")],
            Self::Ratio { total, .. } => vec![present(total, "")],
            Self::Latency { histogram, .. } => vec![present(histogram, "_count")],
            Self::Uptime { selector } => vec![present(selector, "")],
            Self::Threshold { .. } => Vec::new(),
        }
    }

    /// What each part of the events counts, per source series, before
    /// aggregation. Empty for probes.
    pub fn event_reads(&self) -> Vec<Read<'_>> {
        let read = |part, func, selector, suffix| Read {
            part,
            func,
            selector,
            suffix,
        };
        match self {
            Self::Ratio { numerator, total } => {
                let num = match numerator {
                    RatioNumerator::Errors(s) => read(Part::Bad, Func::Increase, s, ""),
                    RatioNumerator::Good(s) => read(Part::Good, Func::Increase, s, ""),
                };
                vec![num, read(Part::Total, Func::Increase, total, "")]
            }
            Self::Latency { histogram, .. } => {
                vec![read(Part::Bucket, Func::Increase, histogram, "_bucket")]
            }
            Self::Uptime { selector } => vec![
                read(Part::Good, Func::SumOverTime, selector, ""),
                read(Part::Total, Func::CountOverTime, selector, ""),
            ],
            Self::Cache { hits, misses } => vec![
                read(Part::Good, Func::Increase, hits, ""),
                read(Part::Bad, Func::Increase, misses, ""),
            ],
            Self::Threshold { .. } => Vec::new(),
        }
    }

    /// `(bad, total)` from counted parts, or `None` when there is nothing to count.
    /// A missing error series means no errors; a missing miss counter, no misses; a
    /// missing good series, no good events.
    pub fn bad_total(&self, c: &Counts) -> Option<(f64, f64)> {
        let (bad, total) = match self {
            Self::Cache { .. } => {
                if c.good.is_none() && c.bad.is_none() {
                    return None;
                }
                let (good, bad) = (c.good.unwrap_or(0.0), c.bad.unwrap_or(0.0));
                (bad, good + bad)
            }
            Self::Ratio {
                numerator: RatioNumerator::Errors(_),
                ..
            } => (c.bad.unwrap_or(0.0), c.total?),
            Self::Latency { threshold, .. } => {
                // Good: the bucket at the threshold (by value, whatever the
                // spelling); total: the `+Inf` bucket.
                let total = c.at_bound(f64::INFINITY)?;
                let good = c.at_bound(threshold.as_secs_f64()).unwrap_or(0.0);
                (total - good, total)
            }
            Self::Ratio {
                numerator: RatioNumerator::Good(_),
                ..
            }
            | Self::Uptime { .. } => {
                let total = c.total?;
                let bad = c.bad.unwrap_or_else(|| total - c.good.unwrap_or(0.0));
                (bad, total)
            }
            Self::Threshold { .. } => return None,
        };
        // Counter skew between two series can push bad past the bounds for a moment.
        Some((bad.clamp(0.0, total.max(0.0)), total.max(0.0)))
    }

    /// Bad and total events over `window` for recording rules, aggregated by
    /// `agg`, robust to missing series (a missing error counter is 0 errors) and
    /// never dividing. `None` for probes.
    pub fn rule_events(
        &self,
        window: PromDuration,
        agg: impl Fn(&str) -> String,
    ) -> Option<(String, String)> {
        let inc =
            |s: &Selector, suffix: &str, extra: &[String]| agg(&increase(s, suffix, extra, window));
        let or_zero = |a: &str, b: &str| format!("({a} or 0 * {b})");
        Some(match self {
            Self::Ratio { numerator, total } => {
                let total = inc(total, "", &[]);
                let bad = match numerator {
                    RatioNumerator::Errors(e) => or_zero(&inc(e, "", &[]), &total),
                    RatioNumerator::Good(g) => {
                        format!("({total} - {})", or_zero(&inc(g, "", &[]), &total))
                    }
                };
                (bad, total)
            }
            Self::Latency {
                histogram,
                threshold,
            } => {
                // No `or 0` for the good part: a histogram always exposes the
                // threshold's bucket, so its absence means the threshold is not a
                // boundary, and every request would count as slow.
                let total = inc(histogram, "_count", &[]);
                let le = super::promql::le_matcher(*threshold);
                let good = inc(histogram, "_bucket", &[le]);
                (format!("({total} - {good})"), total)
            }
            Self::Uptime { selector } => {
                let count = agg(&format!("count_over_time({}[{window}])", selector.text));
                let up = agg(&format!("sum_over_time({}[{window}])", selector.text));
                (format!("({count} - {up})"), count)
            }
            Self::Cache { hits, misses } => {
                let (h, m) = (inc(hits, "", &[]), inc(misses, "", &[]));
                let misses = or_zero(&m, &h);
                (misses.clone(), format!("({} + {misses})", or_zero(&h, &m)))
            }
            Self::Threshold { .. } => return None,
        })
    }

    /// The parts an SLI cannot be computed without, with the selector each reads.
    pub fn required_parts(&self) -> Vec<(Part, String)> {
        match self {
            Self::Ratio { numerator, total } => {
                let mut parts = Vec::new();
                if let RatioNumerator::Good(good) = numerator {
                    parts.push((Part::Good, good.text.clone()));
                }
                parts.push((Part::Total, total.text.clone()));
                parts
            }
            Self::Latency { histogram, .. } => {
                vec![(Part::Bucket, histogram.render("_bucket", &[]))]
            }
            Self::Uptime { selector } => vec![(Part::Total, selector.text.clone())],
            Self::Cache { hits, misses } => vec![
                (Part::Good, hits.text.clone()),
                (Part::Bad, misses.text.clone()),
            ],
            Self::Threshold { .. } => Vec::new(),
        }
    }

    /// Bad events a page needs in its long window besides the burn rate. A scrape
    /// is a coarse event: one failed scrape of one target is a 16.7x burn over 1h
    /// and 200x over 5m, yet pages nobody; ten failed scrapes in the hour do.
    pub fn min_bad_to_page(&self) -> Option<f64> {
        match self {
            Self::Uptime { .. } => Some(MIN_FAILED_SCRAPES_TO_PAGE),
            Self::Ratio { .. } | Self::Latency { .. } | Self::Cache { .. } => None,
            Self::Threshold { .. } => None,
        }
    }

    /// The SLI's definition as PromQL, for people (dashboards): the events query
    /// of the window, or the probe's comparison.
    pub fn definition(&self, events_query: impl FnOnce() -> Option<String>) -> String {
        match self {
            Self::Threshold { query, op, value } => format!("{query} {} {value}", op.as_str()),
            Self::Ratio { .. }
            | Self::Latency { .. }
            | Self::Uptime { .. }
            | Self::Cache { .. } => events_query().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(name: &str) -> Selector {
        Selector {
            text: name.into(),
            name: name.into(),
            matchers: Vec::new(),
        }
    }

    #[test]
    fn kinds_serialise_as_the_config_spells_them() {
        for kind in SliKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).expect("serialise"),
                serde_json::Value::from(kind.as_str())
            );
        }
    }

    #[test]
    fn missing_numerators_count_as_nothing_bad_or_nothing_good() {
        let errors = Indicator::Ratio {
            numerator: RatioNumerator::Errors(sel("e")),
            total: sel("t"),
        };
        let only_total = Counts {
            total: Some(100.0),
            ..Counts::default()
        };
        assert_eq!(errors.bad_total(&only_total), Some((0.0, 100.0)));
        let good = Indicator::Ratio {
            numerator: RatioNumerator::Good(sel("g")),
            total: sel("t"),
        };
        assert_eq!(good.bad_total(&only_total), Some((100.0, 100.0)));
        let cache = Indicator::Cache {
            hits: sel("h"),
            misses: sel("m"),
        };
        let hits = Counts {
            good: Some(90.0),
            ..Counts::default()
        };
        assert_eq!(cache.bad_total(&hits), Some((0.0, 90.0)));
        assert_eq!(cache.bad_total(&Counts::default()), None);
    }

    #[test]
    fn negated_ops_hold_exactly_when_the_op_does_not() {
        for op in CompareOp::ALL {
            for (a, b) in [(1.0, 2.0), (2.0, 2.0), (3.0, 2.0)] {
                assert_ne!(op.holds(a, b), op.negated().holds(a, b), "{op:?} {a} {b}");
            }
        }
    }
}
