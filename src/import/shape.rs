//! Recognises the PromQL other tools write for event counts, and turns it into
//! slogate selectors: `sum(rate(S[{{.window}}]))` is a count of `S`,
//! `_count - _bucket{le}` is a latency SLI. Anything else is not event counts,
//! and the reason says which part.

use std::collections::BTreeSet;
use std::time::Duration;

use promql_parser::parser::{self, Expr, LabelModifier};

use crate::slo::{render_selector, Selector};

/// The range Sloth's `{{.window}}` is replaced with before parsing: unusual
/// enough that a range written by hand is told apart.
const SENTINEL: &str = "17m17s";
const SENTINEL_SECONDS: u64 = 17 * 60 + 17;

/// How ranges inside a query are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranges {
    /// Sloth: every range is `{{.window}}`, which slogate fills in itself.
    Template,
    /// OpenSLO v1: the query is one sample of a counter; a bare selector or
    /// a `sum` of one is read as the counter, and a `rate`'s range does not
    /// matter because slogate counts over its own windows.
    Any,
}

/// A counter selector summed by some labels.
#[derive(Debug, Clone, PartialEq)]
struct Counted {
    selector: Selector,
    /// The grouping labels as written (the first names the service).
    by: Vec<String>,
    /// `rate`, `increase`, or `` for a bare counter (OpenSLO): errors and
    /// total must agree, or their quotient is no error ratio.
    func: &'static str,
}

/// What an errors/good and total pair counts.
#[derive(Debug, Clone, PartialEq)]
pub enum Events {
    Ratio {
        errors: Option<String>,
        good: Option<String>,
        total: String,
        group_by: Vec<String>,
    },
    Latency {
        histogram: String,
        threshold: String,
        group_by: Vec<String>,
    },
}

/// Which side of the ratio the first query counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Errors,
    Good,
}

/// Parses a query, with Sloth's `{{.window}}` replaced by the sentinel range.
fn parse(query: &str) -> Result<Expr, String> {
    let filled = fill_window(query);
    if filled.contains("{{") {
        return Err("holds a Go template other than {{.window}}".into());
    }
    parser::parse(filled.trim()).map_err(|e| format!("invalid PromQL: {e}"))
}

fn fill_window(query: &str) -> String {
    let mut filled = query.to_string();
    for spelling in [
        "{{.window}}",
        "{{ .window }}",
        "{{.window }}",
        "{{ .window}}",
    ] {
        filled = filled.replace(spelling, SENTINEL);
    }
    filled
}

/// The query with `{{.window}}` replaced by `window`, for queries imported as
/// they are (a probe).
pub fn with_window(query: &str, window: &str) -> String {
    fill_window(query)
        .replace(SENTINEL, window)
        .trim()
        .to_string()
}

fn unparen(mut expr: &Expr) -> &Expr {
    while let Expr::Paren(p) = expr {
        expr = &p.expr;
    }
    expr
}

fn selector_of(vs: &promql_parser::parser::VectorSelector) -> Result<Selector, String> {
    if vs.offset.is_some() || vs.at.is_some() {
        return Err(format!("{vs}: offset and @ are not imported"));
    }
    if !vs.matchers.or_matchers.is_empty() {
        return Err(format!("{vs}: `or` matchers are not supported"));
    }
    let by_label = vs
        .matchers
        .matchers
        .iter()
        .find(|m| m.name == "__name__" && matches!(m.op, promql_parser::label::MatchOp::Equal));
    let name = vs
        .name
        .clone()
        .or_else(|| by_label.map(|m| m.value.clone()))
        .ok_or_else(|| format!("{vs} has no metric name"))?;
    let matchers: Vec<String> = vs
        .matchers
        .matchers
        .iter()
        .filter(|m| m.name != "__name__")
        .map(ToString::to_string)
        .collect();
    Selector::parse(&render_selector(&name, &matchers))
}

/// `sum [by (L)] (rate|increase(S[W]))`, or (with `Ranges::Any`) `S` or
/// `sum [by (L)] (S)`.
fn counted(expr: &Expr, ranges: Ranges) -> Result<Counted, String> {
    let expr = unparen(expr);
    let (inner, by) = match expr {
        Expr::Aggregate(a) if a.op.to_string() == "sum" && a.param.is_none() => {
            let by = match &a.modifier {
                None => Vec::new(),
                Some(LabelModifier::Include(labels)) => labels.labels.clone(),
                Some(LabelModifier::Exclude(_)) => {
                    return Err("`sum without (...)` has no fixed set of labels to group by".into())
                }
            };
            (unparen(&a.expr), by)
        }
        Expr::VectorSelector(vs) if ranges == Ranges::Any => {
            return Ok(Counted {
                selector: selector_of(vs)?,
                by: Vec::new(),
                func: "",
            })
        }
        Expr::Aggregate(a) => {
            return Err(format!(
                "`{}` aggregation; event counts are a `sum` of counter increases",
                a.op
            ))
        }
        _ => {
            return Err(format!(
                "`{expr}` is not a sum of counter increases like sum(rate(x[{{{{.window}}}}]))"
            ))
        }
    };
    match inner {
        Expr::Call(call) if matches!(call.func.name, "rate" | "increase") => {
            let Some(Expr::MatrixSelector(ms)) = call.args.args.first().map(|a| unparen(a)) else {
                return Err(format!("`{inner}` is not rate or increase of a selector"));
            };
            if ranges == Ranges::Template && ms.range != Duration::from_secs(SENTINEL_SECONDS) {
                return Err(format!(
                    "`{}` has a fixed range where Sloth's {{{{.window}}}} belongs",
                    with_window(&inner.to_string(), "{{.window}}")
                ));
            }
            Ok(Counted {
                selector: selector_of(&ms.vs)?,
                by,
                func: call.func.name,
            })
        }
        Expr::VectorSelector(vs) if ranges == Ranges::Any => Ok(Counted {
            selector: selector_of(vs)?,
            by,
            func: "",
        }),
        Expr::Call(call) => Err(format!(
            "{}() over the window is not a count of counter increases",
            call.func.name
        )),
        _ => Err(format!(
            "`{}` is not rate or increase of a counter",
            with_window(&inner.to_string(), "{{.window}}")
        )),
    }
}

/// The matchers of a selector as a set, without `le`.
fn matcher_set(s: &Selector) -> BTreeSet<String> {
    s.matchers
        .iter()
        .filter(|m| m.name != "le")
        .map(ToString::to_string)
        .collect()
}

/// The `le="v"` of a bucket selector: its only `le` matcher, an equality.
fn le_of(s: &Selector) -> Option<&str> {
    use crate::slo::MatchOp;
    let mut le = s.matchers.iter().filter(|m| m.name == "le");
    match (le.next(), le.next()) {
        (Some(m), None) if m.op == MatchOp::Equal => Some(m.value.as_str()),
        _ => None,
    }
}

/// The histogram base name and matchers a count stands for: `H_count{M}`,
/// or the `H_bucket{le="+Inf", M}` that equals it.
fn count_of(c: &Counted) -> Option<(&str, BTreeSet<String>)> {
    let s = &c.selector;
    if let Some(base) = s.name.strip_suffix("_count") {
        let no_le = !s.matchers.iter().any(|m| m.name == "le");
        return no_le.then(|| (base, matcher_set(s)));
    }
    let base = s.name.strip_suffix("_bucket")?;
    (le_of(s)? == "+Inf").then(|| (base, matcher_set(s)))
}

/// When `bucket` is `H_bucket{le="v", M}` and `count` is `H_count{M}` summed
/// the same way: the histogram `H{M}` and the threshold.
fn histogram_pair(bucket: &Counted, count: &Counted) -> Option<Result<(String, String), String>> {
    let base = bucket.selector.name.strip_suffix("_bucket")?;
    let (count_base, count_matchers) = count_of(count)?;
    if count_base != base || !same_groups(&bucket.by, &count.by) || bucket.func != count.func {
        return None;
    }
    let le = le_of(&bucket.selector)?;
    if le == "+Inf" || matcher_set(&bucket.selector) != count_matchers {
        return None;
    }
    let matchers: Vec<String> = count_matchers.into_iter().collect();
    Some(threshold_of(le).map(|t| (render_selector(base, &matchers), t)))
}

/// `le` in seconds as a slogate duration: `0.4` -> `400ms`, `5.0` -> `5s`.
pub fn threshold_of(le: &str) -> Result<String, String> {
    let bad = || format!("le=\"{le}\" is not a whole number of milliseconds");
    let text = le.trim().trim_start_matches('+');
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digit = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !digit(int) || !digit(frac) {
        return Err(bad());
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > 3 {
        return Err(bad());
    }
    let millis: u64 = format!("{int}{frac:0<3}").parse().map_err(|_| bad())?;
    match millis {
        0 => Err(format!("le=\"{le}\" is zero: no request is that fast")),
        m if m % 1000 == 0 => Ok(format!("{}s", m / 1000)),
        m => Ok(format!("{m}ms")),
    }
}

/// Reads an errors (or good) query and a total query as event counts.
pub fn events(first: &str, side: Side, total: &str, ranges: Ranges) -> Result<Events, String> {
    // Messages quote the queries as written, with {{.window}}.
    read_events(first, side, total, ranges).map_err(|e| e.replace(SENTINEL, "{{.window}}"))
}

fn read_events(first: &str, side: Side, total: &str, ranges: Ranges) -> Result<Events, String> {
    let which = match side {
        Side::Errors => "errors",
        Side::Good => "good",
    };
    let total_expr = parse(total).map_err(|e| format!("total query {e}"))?;
    let total = counted(&total_expr, ranges).map_err(|e| format!("total query: {e}"))?;
    let parsed = parse(first).map_err(|e| format!("{which} query {e}"))?;
    // `X or vector(0)` (errors that may not exist yet) counts as X: slogate
    // reads missing errors as none.
    let first_expr = match (side, unparen(&parsed)) {
        (Side::Errors, Expr::Binary(b)) if b.op.to_string() == "or" && is_zero_vector(&b.rhs) => {
            b.lhs.as_ref()
        }
        (_, e) => e,
    };
    // `H_count - H_bucket{le}`: requests slower than le.
    if let (Side::Errors, Expr::Binary(b)) = (side, unparen(first_expr)) {
        if b.op.to_string() == "-" && b.modifier.is_none() {
            let count = counted(&b.lhs, ranges).map_err(|e| format!("errors query: {e}"))?;
            let bucket = counted(&b.rhs, ranges).map_err(|e| format!("errors query: {e}"))?;
            return match histogram_pair(&bucket, &count) {
                Some(_) if count_of(&count) != count_of(&total) || !same_groups(&count.by, &total.by) || count.func != total.func => Err(
                    "errors query subtracts a histogram's buckets from another count than the total".into(),
                ),
                Some(pair) => pair.map(|(histogram, threshold)| Events::Latency {
                    histogram,
                    threshold,
                    group_by: total.by.clone(),
                }),
                None => Err("errors query is a difference that is not `H_count - H_bucket{le=\"...\"}` of one histogram".into()),
            };
        }
    }
    let first = counted(first_expr, ranges).map_err(|e| format!("{which} query: {e}"))?;
    if first.func != total.func {
        return Err(format!(
            "{which} are counted with {} and total with {}; their quotient is no error ratio",
            describe(first.func),
            describe(total.func)
        ));
    }
    if !same_groups(&first.by, &total.by) {
        return Err(format!(
            "{which} are summed by ({}) and total by ({}); they must group alike",
            first.by.join(", "),
            total.by.join(", ")
        ));
    }
    // A bucket over its count is a latency SLI when `le` is a whole number of
    // milliseconds; otherwise the same quotient as a ratio.
    if let (Side::Good, Some(Ok((histogram, threshold)))) = (side, histogram_pair(&first, &total)) {
        return Ok(Events::Latency {
            histogram,
            threshold,
            group_by: total.by,
        });
    }
    let (errors, good) = match side {
        Side::Errors => (Some(first.selector.text), None),
        Side::Good => (None, Some(first.selector.text)),
    };
    Ok(Events::Ratio {
        errors,
        good,
        total: total.selector.text,
        group_by: total.by,
    })
}

/// `by (b, a)` groups as `by (a, b)`.
fn same_groups(a: &[String], b: &[String]) -> bool {
    let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<_>>();
    a.len() == b.len() && set(a) == set(b)
}

/// `vector(0)`.
fn is_zero_vector(e: &Expr) -> bool {
    match unparen(e) {
        Expr::Call(c) if c.func.name == "vector" => matches!(
            c.args.args.first().map(|a| unparen(a)),
            Some(Expr::NumberLiteral(n)) if n.val == 0.0
        ),
        _ => false,
    }
}

fn describe(func: &str) -> String {
    if func.is_empty() {
        "a bare counter".into()
    } else {
        format!("{func}()")
    }
}

/// Pyrra's latency indicator: bare `H_bucket{le, M}` success and `H_count{M}`
/// total selectors. `None` when they are not one histogram's pair.
pub fn latency_selectors(success: &str, total: &str) -> Option<Result<(String, String), String>> {
    let bucket = Counted {
        selector: Selector::parse(success).ok()?,
        by: Vec::new(),
        func: "",
    };
    let count = Counted {
        selector: Selector::parse(total).ok()?,
        by: Vec::new(),
        func: "",
    };
    histogram_pair(&bucket, &count)
}

/// Sloth's raw SLI `1 - (sum(sum_over_time(G[W])) / sum(count_over_time(G[W])))`:
/// the share of samples of a 0–1 gauge below one, which is slogate's uptime of
/// `G`. Returns `G`.
pub fn error_ratio(query: &str) -> Result<String, String> {
    let not =
        "is not 1 - sum(sum_over_time(G[{{.window}}])) / sum(count_over_time(G[{{.window}}])); \
               a precomputed error ratio has no event counts";
    let expr = parse(query)?;
    let Expr::Binary(b) = unparen(&expr) else {
        return Err(not.into());
    };
    let one = matches!(unparen(&b.lhs), Expr::NumberLiteral(n) if n.val == 1.0);
    let Expr::Binary(ratio) = unparen(&b.rhs) else {
        return Err(not.into());
    };
    if b.op.to_string() != "-" || !one || ratio.op.to_string() != "/" {
        return Err(not.into());
    }
    let over_time = |e: &Expr, func: &str| -> Option<Selector> {
        let inner = match unparen(e) {
            Expr::Aggregate(a) if a.op.to_string() == "sum" && a.modifier.is_none() => {
                unparen(&a.expr)
            }
            other => other,
        };
        let Expr::Call(call) = inner else { return None };
        let Some(Expr::MatrixSelector(ms)) = call.args.args.first().map(|a| unparen(a)) else {
            return None;
        };
        (call.func.name == func && ms.range == Duration::from_secs(SENTINEL_SECONDS))
            .then(|| selector_of(&ms.vs).ok())
            .flatten()
    };
    match (
        over_time(&ratio.lhs, "sum_over_time"),
        over_time(&ratio.rhs, "count_over_time"),
    ) {
        (Some(s), Some(c)) if s == c => Ok(s.text),
        _ => Err(not.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(first: &str, side: Side, total: &str) -> Result<Events, String> {
        events(first, side, total, Ranges::Template)
    }

    #[test]
    fn sums_of_rates_are_ratios_in_any_spacing() {
        let got = ev(
            "(\n sum(\n  rate(http_request_duration_seconds_count{job=\"myapp\", code=~\"(5..|429)\"}[{{.window}}])\n )\n)",
            Side::Errors,
            "sum(rate(http_request_duration_seconds_count{job=\"myapp\"}[{{ .window }}]))",
        );
        assert_eq!(
            got,
            Ok(Events::Ratio {
                errors: Some(
                    "http_request_duration_seconds_count{job=\"myapp\", code=~\"(5..|429)\"}"
                        .into()
                ),
                good: None,
                total: "http_request_duration_seconds_count{job=\"myapp\"}".into(),
                group_by: vec![],
            })
        );
    }

    #[test]
    fn errors_and_total_must_count_alike() {
        assert_eq!(
            ev(
                "sum(increase(e_total[{{.window}}]))",
                Side::Errors,
                "sum(rate(t_total[{{.window}}]))"
            ),
            Err("errors are counted with increase() and total with rate(); their quotient is no error ratio".into())
        );
        // Missing errors read as none, as slogate reads them anyway.
        let got = ev(
            "sum(increase(e_total[{{.window}}])) or on() vector(0)",
            Side::Errors,
            "sum(increase(t_total[{{.window}}]))",
        );
        assert!(
            matches!(got, Ok(Events::Ratio { ref errors, .. }) if errors.as_deref() == Some("e_total")),
            "{got:?}"
        );
        assert_eq!(
            ev(
                "sum(rate(x{c=\"5\" or c=\"4\"}[{{.window}}]))",
                Side::Errors,
                "sum(rate(x[{{.window}}]))"
            ),
            Err("errors query: x{c=\"5\" or c=\"4\"}: `or` matchers are not supported".into())
        );
    }

    #[test]
    fn grouping_must_agree() {
        let got = ev(
            "sum by (route) (rate(x_total{code=\"500\"}[{{.window}}]))",
            Side::Errors,
            "sum by (route) (rate(x_total[{{.window}}]))",
        );
        assert!(matches!(got, Ok(Events::Ratio { ref group_by, .. }) if group_by == &["route"]));
        let got = ev(
            "sum by (route) (rate(x_total{code=\"500\"}[{{.window}}]))",
            Side::Errors,
            "sum(rate(x_total[{{.window}}]))",
        );
        assert_eq!(
            got,
            Err("errors are summed by (route) and total by (); they must group alike".into())
        );
    }

    #[test]
    fn count_minus_bucket_is_latency() {
        let got = ev(
            "(sum(rate(h_count{verb!=\"WATCH\"}[{{.window}}])) - sum(rate(h_bucket{le=\"0.4\",verb!=\"WATCH\"}[{{.window}}])))",
            Side::Errors,
            "sum(rate(h_count{verb!=\"WATCH\"}[{{.window}}]))",
        );
        assert_eq!(
            got,
            Ok(Events::Latency {
                histogram: "h{verb!=\"WATCH\"}".into(),
                threshold: "400ms".into(),
                group_by: vec![],
            })
        );
        let inf = ev(
            "sum(rate(h_bucket{le=\"+Inf\"}[{{.window}}])) - sum(rate(h_bucket{le=\"0.3\"}[{{.window}}]))",
            Side::Errors,
            "sum(rate(h_count[{{.window}}]))",
        );
        assert!(
            matches!(inf, Ok(Events::Latency { ref threshold, .. }) if threshold == "300ms"),
            "{inf:?}"
        );
        // An `le` that is no whole number of milliseconds: the same quotient as a ratio.
        let odd = ev(
            "sum(rate(h_bucket{le=\"0.0025\"}[{{.window}}]))",
            Side::Good,
            "sum(rate(h_count[{{.window}}]))",
        );
        assert!(
            matches!(odd, Ok(Events::Ratio { ref good, .. }) if good.as_deref() == Some("h_bucket{le=\"0.0025\"}")),
            "{odd:?}"
        );
        let good = ev(
            "sum(rate(h_bucket{le=\"5\",verb!=\"WATCH\"}[{{.window}}]))",
            Side::Good,
            "sum(rate(h_count{verb!=\"WATCH\"}[{{.window}}]))",
        );
        assert!(matches!(good, Ok(Events::Latency { ref threshold, .. }) if threshold == "5s"));
    }

    #[test]
    fn other_shapes_say_why() {
        assert_eq!(
            ev(
                "sum(rate(x[5m]))",
                Side::Errors,
                "sum(rate(y[{{.window}}]))"
            ),
            Err(
                "errors query: `rate(x[5m])` has a fixed range where Sloth's {{.window}} belongs"
                    .into()
            )
        );
        let vm = ev(
            "1 - histogram_share(0.2, sum by (vmrange) (rate(b[{{.window}}])))",
            Side::Errors,
            "vector(1)[{{.window}}]",
        );
        assert!(vm.unwrap_err().starts_with("total query invalid PromQL"));
        let gauge = ev(
            "sum_over_time((count(g < 0.75))[{{.window}}:]) OR on() vector(0)",
            Side::Errors,
            "sum_over_time((count(g))[{{.window}}:])",
        );
        let message = gauge.expect_err("a gauge subquery is not event counts");
        assert!(
            message.starts_with("total query: `sum_over_time"),
            "{message}"
        );
    }

    #[test]
    fn thresholds_are_exact_milliseconds() {
        for (le, want) in [
            ("0.4", "400ms"),
            ("5.0", "5s"),
            ("0.05", "50ms"),
            ("1", "1s"),
            ("2.5", "2500ms"),
        ] {
            assert_eq!(threshold_of(le), Ok(want.to_string()), "{le}");
        }
        assert!(threshold_of("0.0025").is_err());
        assert!(threshold_of("+Inf").is_err());
        assert!(threshold_of("0").is_err());
    }

    #[test]
    fn a_share_of_gauge_samples_is_uptime() {
        let q = "1 - (\n sum(sum_over_time(g{a=\"b\"}[{{.window}}]))\n /\n sum(count_over_time(g{a=\"b\"}[{{.window}}]))\n)";
        assert_eq!(error_ratio(q), Ok("g{a=\"b\"}".into()));
        assert!(error_ratio("1 - avg_over_time(g[{{.window}}])").is_err());
    }
}
