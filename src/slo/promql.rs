//! The one PromQL builder: every query slogate sends (and every expression the
//! generators write) is spelled here.

use chrono::{DateTime, Utc};

use super::conventions::label;
use super::exclusion::{split, Cut, Split};
pub use super::Part;
use super::{Indicator, PromDuration, Slo};

/// What a planned query answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryKind {
    /// Event counts (by [`Part`]) over a window; for latency SLOs the bucket
    /// increases, which also give the quantiles.
    Events(PromDuration),
    /// The measured value of a threshold probe.
    Probe,
}

/// One instant query and what it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedQuery {
    pub kind: QueryKind,
    pub promql: String,
    /// Whether it also reports which source series are present now.
    pub presence: bool,
    /// Whether it leaves out exclusions (then it is never fused with other
    /// SLOs' reads, which do not).
    pub excludes: bool,
}

/// The instant a plan leaves exclusions out as of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanAt {
    pub at: DateTime<Utc>,
    /// Where `serve` reuses long windows' answers: the start of the current
    /// `long_window_interval`. A rolling window of a day or more with
    /// exclusions is read as of this instant (every span carries `@`), so its
    /// query text, and its answer, hold for the interval as other long
    /// windows' do. `at` elsewhere.
    pub long_at: DateTime<Utc>,
    /// A calendar period so far is judged as of `long_at` (`serve`, a day or
    /// more into the period): read as one span ending there with `@`, it is
    /// reused for the interval like a rolling long window.
    pub pin_period: bool,
}

/// The part tag of a read over the `i`th kept or excluded span of a window.
fn span_part(prefix: &str, i: usize, part: Part) -> String {
    format!("{prefix}{i}-{}", part.as_str())
}

/// How the part tag of a read over a span between exclusions begins.
pub const KEPT_PREFIX: &str = "kept-";
/// How the part tag of a read over an exclusion begins.
pub const EXCLUDED_PREFIX: &str = "excluded-";

/// What a `slogate_part` tag holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tagged {
    /// A part over the window, or over a span of it between exclusions.
    Counted(Part),
    /// A part over an exclusion inside the window (reported, not counted).
    Excluded(Part),
}

/// Reads a `slogate_part` tag: `bad`, `kept-0-bad`, `excluded-1-bucket`.
pub fn parse_tag(tag: &str) -> Option<Tagged> {
    let of_span = |rest: &str| rest.split_once('-').and_then(|(_, p)| Part::parse(p));
    if let Some(rest) = tag.strip_prefix(KEPT_PREFIX) {
        return of_span(rest).map(Tagged::Counted);
    }
    if let Some(rest) = tag.strip_prefix(EXCLUDED_PREFIX) {
        return of_span(rest).map(Tagged::Excluded);
    }
    Part::parse(tag).map(Tagged::Counted)
}

/// How a read turns each source series into one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Func {
    Increase,
    SumOverTime,
    CountOverTime,
    /// The series is there at the evaluation instant (counted; no window).
    Present,
}

impl Func {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Increase => "increase",
            Self::SumOverTime => "sum_over_time",
            Self::CountOverTime => "count_over_time",
            Self::Present => "present",
        }
    }

    /// The per-series expression over `window` (an instant selector for presence:
    /// one sample per series).
    pub fn apply(self, series: &str, window: PromDuration) -> String {
        match self {
            Self::Present => series.to_string(),
            f => format!("{}({series}[{window}])", f.as_str()),
        }
    }

    /// How the per-series numbers of a group add up.
    fn aggregate(self, by: &[String], extra: &[&str], inner: &str) -> String {
        match self {
            Self::Present => count_by(by, extra, inner),
            Self::Increase | Self::SumOverTime | Self::CountOverTime => sum_by(by, extra, inner),
        }
    }
}

/// What one part of an SLI reads from one selector.
#[derive(Debug, Clone, Copy)]
pub struct Read<'a> {
    pub part: Part,
    pub func: Func,
    pub selector: &'a super::Selector,
    /// Appended to the metric name (`_bucket`, `_count`).
    pub suffix: &'static str,
}

impl Read<'_> {
    /// The series read, e.g. `http_request_duration_seconds_bucket{route="/"}`.
    pub fn series(&self) -> String {
        self.selector.render(self.suffix, &[])
    }

    /// The metric name read, suffix included.
    pub fn metric(&self) -> String {
        format!("{}{}", self.selector.name, self.suffix)
    }

    /// The part's events for one group: aggregated by `group_by` (and the part's
    /// extra labels) over `window`.
    fn aggregated(&self, group_by: &[String], window: PromDuration) -> String {
        self.func.aggregate(
            group_by,
            self.part.extra_labels(),
            &self.func.apply(&self.series(), window),
        )
    }

    /// [`Self::aggregated`] over a span: `sum by (..) (increase(x[10h] @ 1764000000))`.
    fn aggregated_over(&self, group_by: &[String], cut: &Cut) -> String {
        let inner = format!(
            "{}({}[{}] @ {})",
            self.func.as_str(),
            self.series(),
            cut.length,
            cut.at()
        );
        self.func
            .aggregate(group_by, self.part.extra_labels(), &inner)
    }
}

/// One query answering several reads of one metric (fused from several SLOs),
/// each function's answer tagged with its name under `slogate_part`:
/// `sum by (labels) (increase(metric{common}[window]))`.
pub fn fused_query(
    metric: &str,
    common: &[String],
    by: &[String],
    funcs: &[Func],
    window: PromDuration,
) -> String {
    let series = super::render_selector(metric, common);
    funcs
        .iter()
        .map(|f| {
            tag(
                &f.aggregate(by, &[], &f.apply(&series, window)),
                label::QUERY_PART,
                f.as_str(),
            )
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// `label=~"v1|v2|..."`: the label equal to any of `values` (each matched
/// literally).
pub fn any_of_matcher(label: &str, values: &[String]) -> String {
    let alternatives: Vec<String> = values.iter().map(|v| regex::escape(v)).collect();
    format!("{label}=~{}", string_literal(&alternatives.join("|")))
}

/// A PromQL double-quoted string literal of `text`.
fn string_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The number of series a fused query over `metric{common}` by `by` returns
/// (counted at the instant).
pub fn width_query(metric: &str, common: &[String], by: &[String]) -> String {
    format!(
        "count({})",
        count_by(by, &[], &super::render_selector(metric, common))
    )
}

/// Quantiles reported beside a latency SLI; the first is the one people are shown.
pub const QUANTILES: [&str; 2] = ["0.95", "0.99"];

/// Short windows latency quantiles are reported over, besides the judged window.
/// The 1h one is shown to people: "p95 < 200 ms" means lately, not over 30 days.
pub const QUANTILE_WINDOWS: [PromDuration; 2] = [
    PromDuration::from_secs(5 * 60),
    PromDuration::from_secs(3600),
];

/// The quantile window shown in tables, pages and reports.
pub const SHOWN_QUANTILE_WINDOW: PromDuration = QUANTILE_WINDOWS[1];

/// An RE2 regex matching every way a client library writes `millis` / 1000 as an
/// `le` label value: `0.2`, `0.20`, `.2`, `2e-01`, `2.0E-1`; `1`, `1.0`, `1e+00`.
/// Prometheus 2.x stores the label as scraped, so the bucket is found whatever the
/// spelling (Prometheus 3 normalises it; the regex still matches).
pub fn le_regex(millis: u64) -> String {
    let whole = millis / 1000;
    let frac = format!("{:03}", millis % 1000);
    let frac = frac.trim_end_matches('0');
    let fixed_frac = if frac.is_empty() {
        r"(\.0*)?".to_string()
    } else {
        format!(r"\.{frac}0*")
    };
    let fixed = match whole {
        0 => format!("0*{fixed_frac}"),
        w => format!("0*{w}{fixed_frac}"),
    };
    // Scientific notation: one significant digit before the point.
    let (digits, exponent) = if whole > 0 {
        let w = whole.to_string();
        (format!("{w}{frac}"), w.len() as i64 - 1)
    } else {
        let significant = frac.trim_start_matches('0');
        let zeros = frac.len() - significant.len();
        (significant.to_string(), -(zeros as i64) - 1)
    };
    let digits = digits.trim_end_matches('0');
    let (first, rest) = digits.split_at(1.min(digits.len()));
    let mantissa = if rest.is_empty() {
        format!(r"{first}(\.0*)?")
    } else {
        format!(r"{first}\.{rest}0*")
    };
    let exp = match exponent {
        0 => "[+-]?0*".to_string(),
        e if e > 0 => format!(r"\+?0*{e}"),
        e => format!("-0*{}", -e),
    };
    format!(r"\+?(?:{fixed}|{mantissa}[eE]{exp})")
}

/// True when the `le` text `le` is matched by [`le_regex`] of `millis` (as
/// Prometheus matches it: anchored).
pub fn le_matches(millis: u64, le: &str) -> bool {
    super::anchored::anchored(&le_regex(millis)).is_some_and(|r| r.is_match(le))
}

/// Matcher for the bucket at a latency threshold, whatever its spelling.
pub fn le_matcher(threshold: PromDuration) -> String {
    // Inside a PromQL string literal each regex backslash is written twice.
    let regex = le_regex(threshold.as_millis()).replace('\\', r"\\");
    format!("le=~\"{regex}\"")
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

fn count_by(group_by: &[String], extra: &[&str], inner: &str) -> String {
    format!(
        "count{}",
        sum_by(group_by, extra, inner).trim_start_matches("sum")
    )
}

fn tag(expr: &str, name: &str, value: &str) -> String {
    format!("label_replace({expr}, \"{name}\", \"{value}\", \"\", \"\")")
}

impl Slo {
    /// One query returning every group's event counts over `window`, each part
    /// tagged with `slogate_part`, so the number of queries does not grow with the
    /// number of services.
    pub fn events_query(&self, window: PromDuration) -> Option<String> {
        self.tagged(&self.indicator.event_reads(), window, None)
    }

    /// Each read over `window`, tagged with its part. A window with exclusions
    /// in it is read as the spans between them instead (`kept-<i>-<part>`,
    /// summed per group), plus each excluded span (`excluded-<i>-<part>`, only
    /// reported): one query either way.
    fn tagged(
        &self,
        reads: &[Read<'_>],
        window: PromDuration,
        split: Option<&Split>,
    ) -> Option<String> {
        if reads.is_empty() {
            return None;
        }
        let mut tagged = Vec::new();
        for r in reads {
            match split {
                Some(s) if r.func != Func::Present => {
                    for (prefix, spans) in [(KEPT_PREFIX, &s.kept), (EXCLUDED_PREFIX, &s.cut)] {
                        if let Some(summed) = self.summed_over(r, spans) {
                            tagged.push(tag(
                                &summed,
                                label::QUERY_PART,
                                &span_part(prefix, 0, r.part),
                            ));
                        }
                    }
                }
                _ => tagged.push(tag(
                    &r.aggregated(&self.group_by, window),
                    label::QUERY_PART,
                    r.part.as_str(),
                )),
            }
        }
        Some(tagged.join(" or "))
    }

    /// A read over several spans, summed per group in Prometheus (one series
    /// per group and part whatever the number of spans): each span's sum is
    /// told apart by a `slogate_span` label so that `or` keeps them all, then
    /// summed without it. `None` without spans.
    fn summed_over(&self, r: &Read<'_>, spans: &[Cut]) -> Option<String> {
        match spans {
            [] => None,
            [one] => Some(r.aggregated_over(&self.group_by, one)),
            many => {
                let each: Vec<String> = many
                    .iter()
                    .enumerate()
                    .map(|(i, span)| {
                        tag(
                            &r.aggregated_over(&self.group_by, span),
                            label::QUERY_SPAN,
                            &i.to_string(),
                        )
                    })
                    .collect();
                Some(sum_by(
                    &self.group_by,
                    r.part.extra_labels(),
                    &each.join(" or "),
                ))
            }
        }
    }

    /// Event counts over `window` plus what is present now (one count per group
    /// of the source series at the evaluation instant: vanished data).
    fn events_and_presence_query(
        &self,
        window: PromDuration,
        split: Option<&Split>,
    ) -> Option<String> {
        let mut reads = self.indicator.event_reads();
        if reads.is_empty() {
            return None;
        }
        reads.extend(self.indicator.presence_reads());
        self.tagged(&reads, window, split)
    }

    /// Every query one evaluation over `window` needs: the window itself, each
    /// burn window inside it (latency quantiles come from the same bucket
    /// increases), the probe query for probes. The shortest events query also
    /// reports which source series are present now (it is read every interval,
    /// while long windows may be reused for a while). Windows longer than
    /// `window` are left out: at a launch checkpoint they would read data from
    /// before the launch.
    pub fn plan(&self, window: PromDuration) -> Vec<PlannedQuery> {
        self.plan_over(window, window, None)
    }

    /// Whether the read of `w` (when this SLO judges over `judged`) may be
    /// pinned to [`PlanAt::long_at`]: a rolling window of a day or more. Not a
    /// calendar period so far, whose start is fixed.
    fn pinnable(&self, w: PromDuration, judged: PromDuration) -> bool {
        w >= PromDuration::from_secs(86400) && (w != judged || self.calendar.is_none())
    }

    /// [`Self::plan`] judging over `window` with the burn windows shorter than
    /// `burn_below`: a calendar SLO on the first day of its month still has
    /// its 1d and 3d burn rates (a speed, read across the boundary). With the
    /// instant `at`, every window leaves out the SLO's exclusions.
    pub fn plan_over(
        &self,
        window: PromDuration,
        burn_below: PromDuration,
        at: Option<PlanAt>,
    ) -> Vec<PlannedQuery> {
        if let Indicator::Threshold { query, .. } = &self.indicator {
            return vec![PlannedQuery {
                kind: QueryKind::Probe,
                promql: query.clone(),
                presence: false,
                excludes: false,
            }];
        }
        let mut windows = vec![window];
        windows.extend(
            super::BURN_WINDOWS
                .iter()
                .copied()
                .filter(|w| *w < burn_below && *w != window),
        );
        let shortest = windows.iter().copied().min().unwrap_or(window);
        windows
            .into_iter()
            .filter_map(|w| {
                let presence = w == shortest;
                let split = at.and_then(|at| {
                    let pin_period = at.pin_period && w == window;
                    let pinned = pin_period || self.pinnable(w, window);
                    let t = if pinned { at.long_at } else { at.at };
                    let from = t - chrono::TimeDelta::milliseconds(w.as_millis() as i64);
                    let split = split(&self.exclusions.within(from, t), w, t);
                    // An exclusion that began after `long_at`: read unpinned,
                    // the window would run at the current instant and count
                    // it. Read as of `long_at` (as every other reused long
                    // window is), it lies outside.
                    let late = pinned && t < at.at && !self.exclusions.within(t, at.at).is_empty();
                    // A pinned period is read as one span with `@`, exclusions
                    // or not.
                    split.or_else(|| {
                        (pin_period || late).then(|| Split {
                            kept: vec![Cut { length: w, end: t }],
                            cut: Vec::new(),
                        })
                    })
                });
                let promql = if presence {
                    self.events_and_presence_query(w, split.as_ref())
                } else {
                    self.tagged(&self.indicator.event_reads(), w, split.as_ref())
                };
                promql.map(|promql| PlannedQuery {
                    kind: QueryKind::Events(w),
                    promql,
                    presence,
                    excludes: split.is_some(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_bucket_matches_every_spelling_of_its_bound() {
        let matches = |millis: u64, le: &str| {
            regex::Regex::new(&format!("^(?:{})$", le_regex(millis)))
                .expect("valid regex")
                .is_match(le)
        };
        for (millis, spellings) in [
            (
                200,
                &[
                    "0.2",
                    "0.20",
                    "0.200",
                    ".2",
                    "2e-01",
                    "2E-1",
                    "2.0e-01",
                    "2.000000e-01",
                    "+0.2",
                ][..],
            ),
            (
                1000,
                &["1", "1.0", "1.00", "01", "1e+00", "1e0", "1.0E+00"][..],
            ),
            (2500, &["2.5", "2.50", "2.5e+00", "2.5E0"][..]),
            (10_000, &["10", "10.0", "1e+01", "1.0E1"][..]),
            (50, &["0.05", "0.050", "5e-02", "5.0e-2"][..]),
            (1050, &["1.05", "1.050", "1.05e+00"][..]),
        ] {
            for le in spellings {
                assert!(matches(millis, le), "{millis}ms should match le={le}");
            }
        }
        for (millis, other) in [
            (
                200,
                &["0.25", "0.02", "2", "20", "2e-02", "0.2.0", "+Inf"][..],
            ),
            (1000, &["10", "0.1", "1.5", "1e+01", "11"][..]),
            (2500, &["2.55", "25", "2.5e+01"][..]),
        ] {
            for le in other {
                assert!(!matches(millis, le), "{millis}ms must not match le={le}");
            }
        }
        assert_eq!(
            le_matcher(PromDuration::from_millis(200)),
            r#"le=~"\\+?(?:0*\\.20*|2(\\.0*)?[eE]-0*1)""#
        );
    }
}

#[cfg(test)]
mod parse_tests {
    use super::*;
    use crate::slo::{CompareOp, Objective, RatioNumerator, Selector, Slo};

    fn sel(text: &str) -> Selector {
        Selector::parse(text).expect("a valid selector")
    }

    #[test]
    fn every_generated_query_parses() {
        let kinds = [
            Indicator::Ratio {
                numerator: RatioNumerator::Errors(sel("a{code=~\"5..\"}")),
                total: sel("a"),
            },
            Indicator::Ratio {
                numerator: RatioNumerator::Good(sel("a")),
                total: sel("a"),
            },
            Indicator::Latency {
                histogram: sel("h{route=\"/x\"}"),
                threshold: PromDuration::from_secs(1),
            },
            Indicator::Uptime {
                selector: sel("up"),
            },
            Indicator::Cache {
                hits: sel("hits"),
                misses: sel("misses"),
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

    /// `serve` reads a day-plus window as of `long_at` to reuse it. An
    /// exclusion that began after `long_at` must not be counted by reading the
    /// window unpinned at the current instant: the read stays pinned.
    #[test]
    fn a_long_window_stays_pinned_when_an_exclusion_began_after_its_cadence_start() {
        use crate::slo::exclusion::{Exclusion, Exclusions};
        let utc = crate::slo::exclusion::utc;
        let mut slo = Slo::for_test(Indicator::Ratio {
            numerator: RatioNumerator::Errors(sel("a{code=~\"5..\"}")),
            total: sel("a"),
        });
        slo.exclusions = Exclusions {
            once: vec![Exclusion {
                start: utc("2026-11-24T12:01:00Z"),
                end: utc("2026-11-24T13:00:00Z"),
                reason: "deploy".into(),
            }],
            recurring: Vec::new(),
        };
        let at = PlanAt {
            at: utc("2026-11-24T12:03:00Z"),
            long_at: utc("2026-11-24T12:00:00Z"),
            pin_period: false,
        };
        let plan = slo.plan_over(slo.window, slo.window, Some(at));
        let long_at = at.long_at.timestamp();
        for q in &plan {
            let QueryKind::Events(w) = q.kind else {
                continue;
            };
            let pinned = q.promql.contains(&format!("@ {long_at}"));
            assert_eq!(
                pinned,
                w >= PromDuration::from_secs(86400),
                "{w}: {}",
                q.promql
            );
            promql_parser::parser::parse(&q.promql).unwrap_or_else(|e| panic!("{e}"));
        }
        // Before the exclusion began (and with none in the window) nothing is pinned.
        let before = PlanAt {
            at: utc("2026-11-24T12:00:30Z"),
            ..at
        };
        let plan = slo.plan_over(slo.window, slo.window, Some(before));
        assert!(plan.iter().all(|q| !q.promql.contains(" @ ")), "{plan:?}");
    }

    proptest::proptest! {
        /// The generated queries are not parsed when a config loads (it was the
        /// bulk of loading one): whatever label values the selectors hold, every
        /// query built from them parses.
        #[test]
        fn generated_queries_parse_whatever_the_label_values(
            a in "[a-zA-Z0-9 _./:\"\\\\'`{}()|*+?\\[\\]^$é☃\n\t-]{0,12}",
            b in "[a-zA-Z0-9 _./:\"\\\\'`{}|é\n-]{0,12}",
            by in proptest::sample::select(vec![vec![], vec!["service".to_string()]]),
        ) {
            let errors = format!("a{{code=~{}, route!={}}}", super::string_literal(&a), super::string_literal(&b));
            let total = format!("a{{route!={}}}", super::string_literal(&b));
            let histogram = format!("h{{route={}, x!~{}}}", super::string_literal(&b), super::string_literal(&a));
            // Patterns the regex engine rejects are refused when the config loads.
            proptest::prop_assume!(Selector::parse(&errors).is_ok());
            proptest::prop_assume!(Selector::parse(&histogram).is_ok());
            for indicator in [
                Indicator::Ratio {
                    numerator: RatioNumerator::Errors(sel(&errors)),
                    total: sel(&total),
                },
                Indicator::Ratio {
                    numerator: RatioNumerator::Good(sel(&errors)),
                    total: sel(&total),
                },
                Indicator::Latency {
                    histogram: sel(&histogram),
                    threshold: PromDuration::from_millis(250),
                },
                Indicator::Uptime {
                    selector: sel(&errors),
                },
                Indicator::Cache {
                    hits: sel(&errors),
                    misses: sel(&total),
                },
            ] {
                let slo = Slo {
                    objective: Some(Objective::from_percent_text("99").unwrap()),
                    group_by: by.clone(),
                    ..Slo::for_test(indicator)
                };
                for q in slo.plan(slo.window) {
                    if let Err(e) = promql_parser::parser::parse(&q.promql) {
                        panic!("{}: {e}", q.promql);
                    }
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
                    numerator: RatioNumerator::Errors(sel("e")),
                    total: sel("t"),
                })
            }
            .plan(PromDuration::from_secs(30 * 86400))
        };
        let plan = slo_plan(vec!["service".into()]);
        assert_eq!(plan.len(), 8, "the window and 7 burn windows");
        let kinds: Vec<QueryKind> = slo_plan(vec![]).iter().map(|q| q.kind).collect();
        assert!(kinds.contains(&QueryKind::Events(PromDuration::from_secs(3 * 86400))));
        assert_eq!(
            plan[0].promql,
            "label_replace(sum by (service) (increase(e[30d])), \"slogate_part\", \"bad\", \"\", \"\") or \
             label_replace(sum by (service) (increase(t[30d])), \"slogate_part\", \"total\", \"\", \"\")"
        );
        assert_eq!(
            plan[1].promql,
            "label_replace(sum by (service) (increase(e[5m])), \"slogate_part\", \"bad\", \"\", \"\") or \
             label_replace(sum by (service) (increase(t[5m])), \"slogate_part\", \"total\", \"\", \"\") or \
             label_replace(count by (service) (t), \"slogate_part\", \"present\", \"\", \"\")",
            "the shortest window also says what is present now"
        );
    }
}

/// Expressions for generated recording rules: robust to missing series (a missing
/// error counter is 0 errors) and never dividing by zero (no traffic: no sample).
impl Slo {
    fn agg(&self, inner: &str) -> String {
        sum_by(&self.group_by, &[], inner)
    }

    /// Bad and total events over `window`, aggregated by group. `None` for probes.
    pub fn rule_events(&self, window: PromDuration) -> Option<(String, String)> {
        self.indicator.rule_events(window, |inner| self.agg(inner))
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
        self.indicator.source_selector()
    }

    /// Groups that had source series within the SLO window but have none now, or
    /// no source series at all.
    pub fn missing_data_expr(&self) -> Option<String> {
        let sources = self.indicator.presence_selectors();
        if sources.is_empty() {
            return None;
        }
        let group = |inner: &str| {
            if self.group_by.is_empty() {
                format!("group({inner})")
            } else {
                format!("group by ({}) ({inner})", self.group_by.join(", "))
            }
        };
        // Groups recorded (by the 5m total rule) within the SLO window but without
        // source series now: absent for as long as slogate reports them
        // insufficient_data, up to the window.
        let recorded = format!(
            "{}{{{}=\"{}\"}}",
            super::conventions::record::TOTAL_5M,
            super::conventions::label::SLO,
            self.name
        );
        let mut vanished = group(&format!("last_over_time({recorded}[{}])", self.window));
        for s in &sources {
            vanished.push_str(&format!(" unless {}", group(s)));
        }
        let absent: Vec<String> = sources.iter().map(|s| format!("absent({s})")).collect();
        Some(format!(
            "({}) or on () ({})",
            self.with_service_label(vanished),
            absent.join(" and on () ")
        ))
    }
}
