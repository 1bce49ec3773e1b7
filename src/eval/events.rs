//! Judging event-based SLOs (ratio, latency, uptime, cache): counts per window,
//! source series present now, threshold buckets, quantiles, budget and burn.

use std::collections::{BTreeMap, BTreeSet};

use super::quantile::histogram_quantile;
use super::{
    counts_by_group, group_key, percent, short_number, Counts, GroupKey, Input, Quantiles,
    SloResult, State,
};
use crate::slo::conventions::label;
use crate::slo::promql::{parse_tag, Part, QueryKind, Tagged, QUANTILES, QUANTILE_WINDOWS};
use crate::slo::{Indicator, PromDuration, Sample, Severity, Slo, BURN_WINDOWS};

/// Budget arithmetic is exact to about 1e-15; a budget within this of zero is
/// "exactly at the objective", which meets it.
const AT_OBJECTIVE: f64 = 1e-9;

/// The windows latency quantiles are reported over when judging `window`: the
/// short ones inside it, then the window itself.
pub fn quantile_windows(window: PromDuration, burn_below: PromDuration) -> Vec<PromDuration> {
    let mut windows: Vec<PromDuration> = QUANTILE_WINDOWS
        .iter()
        .copied()
        .filter(|w| *w < burn_below)
        .collect();
    // Last, even when a calendar period's elapsed time equals 5m or 1h: then
    // both names are reported, with the same values.
    windows.push(window);
    windows
}

/// What the judged window's answer says about the source series right now.
#[derive(Debug, Default)]
struct Presence {
    /// Groups with at least one source series at the evaluation instant.
    present: BTreeSet<GroupKey>,
    /// Parts that had at least one sample, for "which part matched nothing".
    parts_seen: BTreeSet<&'static str>,
}

fn part_of(s: &Sample) -> Option<Part> {
    match s.labels.get(label::QUERY_PART).and_then(|p| parse_tag(p))? {
        Tagged::Counted(part) => Some(part),
        Tagged::Excluded(_) => None,
    }
}

/// The judged window lies wholly inside exclusions: its answer holds only
/// excluded reads.
fn all_excluded(samples: &[Sample]) -> bool {
    let tags = || {
        samples
            .iter()
            .filter_map(|s| s.labels.get(label::QUERY_PART))
    };
    tags().any(|t| matches!(parse_tag(t), Some(Tagged::Excluded(_))))
        && !tags().any(|t| matches!(parse_tag(t), Some(Tagged::Counted(p)) if p != Part::Present))
}

/// The parts that had at least one sample in `samples`.
fn parts_seen(samples: &[Sample]) -> BTreeSet<&'static str> {
    samples
        .iter()
        .filter_map(part_of)
        .map(Part::as_str)
        .collect()
}

fn presence<'a>(slo: &Slo, samples: impl Iterator<Item = &'a Sample>) -> Presence {
    let mut p = Presence::default();
    for s in samples {
        let Some(part) = part_of(s) else {
            continue;
        };
        if part == Part::Present {
            p.present.insert(group_key(slo, &s.labels));
        }
    }
    p
}

/// Bucket bounds sorted by value (`+Inf` last), for messages.
fn sorted_bounds(les: &[String]) -> Vec<String> {
    let mut bounds: Vec<(f64, &String)> = les
        .iter()
        .map(|le| (le.parse::<f64>().unwrap_or(f64::NAN), le))
        .collect();
    bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    bounds.dedup_by(|a, b| a.0 == b.0);
    bounds.into_iter().map(|(_, le)| le.clone()).collect()
}

impl Slo {
    /// Why a latency group cannot be judged: its threshold is not one of the
    /// buckets the histogram exposes (every request would count as slow).
    fn bucket_problem(&self, counts: &Counts) -> Option<String> {
        let Indicator::Latency {
            histogram,
            threshold,
        } = &self.indicator
        else {
            return None;
        };
        let t = threshold.as_secs_f64();
        let les: Vec<String> = counts.buckets.iter().map(|(le, _)| le.clone()).collect();
        let bounds = sorted_bounds(&les);
        let at_threshold = bounds
            .iter()
            .find(|le| le.parse::<f64>().is_ok_and(|b| (b - t).abs() < 1e-9));
        let has_inf = bounds
            .iter()
            .any(|le| le.parse::<f64>() == Ok(f64::INFINITY));
        match at_threshold {
            None if bounds.is_empty() => Some(format!(
                "{} has no _bucket series (a summary is not a histogram)",
                histogram.name
            )),
            None => Some(format!(
                "threshold {threshold} is not a bucket boundary of {}; its buckets: {}",
                histogram.name,
                bounds.join(", ")
            )),
            _ if !has_inf => Some(format!(
                "{} has no +Inf bucket to count every request; its buckets: {}",
                histogram.name,
                bounds.join(", ")
            )),
            // The generated rules find the bucket by its text: one they cannot
            // match (Go's 0.30000000000000004) would leave them silent.
            Some(le) if !crate::slo::promql::le_matches(threshold.as_millis(), le) => {
                Some(format!(
                "the bucket at threshold {threshold} is written le={le:?}, which the generated \
                 rules cannot match; choose a threshold whose bucket is written exactly"
            ))
            }
            Some(_) => None,
        }
    }

    /// The selectors of the parts that matched nothing over `window`.
    fn nothing_matched(&self, window: &str, seen: &BTreeSet<&'static str>) -> String {
        let missing: Vec<String> = self
            .indicator
            .required_parts()
            .into_iter()
            .filter(|(part, _)| !seen.contains(part.as_str()))
            .map(|(part, selector)| format!("{} {selector}", part.as_str()))
            .collect();
        if missing.is_empty() {
            format!("no series matched over {window}")
        } else {
            format!(
                "no series matched over {window}: {} matched nothing",
                missing.join(" and ")
            )
        }
    }

    pub(super) fn evaluate_events(&self, input: &Input<'_>) -> Vec<SloResult> {
        let by_window: BTreeMap<PromDuration, BTreeMap<GroupKey, Counts>> = input
            .answers
            .iter()
            .filter_map(|(kind, answer)| match (kind, answer) {
                (QueryKind::Events(w), Ok(samples)) => Some((*w, counts_by_group(self, samples))),
                _ => None,
            })
            .collect();
        let main_samples: &[Sample] = match input.answers.get(&QueryKind::Events(input.window)) {
            Some(Ok(samples)) => samples,
            _ => &[],
        };
        // Presence rides on one events answer (the shortest window's): read them all.
        let mut presence = presence(
            self,
            input
                .answers
                .iter()
                .flat_map(|(kind, answer)| match (kind, answer) {
                    (QueryKind::Events(_), Ok(samples)) => samples.as_slice(),
                    _ => &[],
                }),
        );
        presence.parts_seen = parts_seen(main_samples);
        let main = by_window.get(&input.window).cloned().unwrap_or_default();
        if main.is_empty() && all_excluded(main_samples) {
            let mut r = self.result(input, &BTreeMap::new());
            r.state = State::InsufficientData;
            r.reason = format!(
                "the whole {} lies in exclusions: nothing is left to judge",
                r.window_name
            );
            return vec![r];
        }
        if main.is_empty() {
            return vec![self.nothing_to_judge(input, &presence)];
        }
        let quantiles = self.quantiles_by_group(input, &by_window);
        let budget = self.budget().unwrap_or(1.0);
        main.iter()
            .map(|(key, counts)| {
                let mut r = self.result(input, &self.group_labels(key));
                let windows: BTreeMap<PromDuration, (f64, f64)> = by_window
                    .iter()
                    .filter_map(|(w, groups)| {
                        Some((*w, self.indicator.bad_total(groups.get(key)?)?))
                    })
                    .collect();
                r.burn_rates = BURN_WINDOWS
                    .iter()
                    .map(|w| {
                        let burn = windows
                            .get(w)
                            .filter(|(_, t)| *t > 0.0)
                            .map(|(b, t)| b / (t * budget));
                        (*w, burn)
                    })
                    .collect();
                r.window_events = BURN_WINDOWS
                    .iter()
                    .map(|w| (*w, windows.get(w).map(|(_, t)| *t)))
                    .collect();
                if let (Some(q), Some(found)) = (&mut r.latency_seconds, quantiles.get(key)) {
                    for (w, values) in q.iter_mut() {
                        if let Some(v) = found.get(w) {
                            values.clone_from(v);
                        }
                    }
                }
                if !presence.present.contains(key) {
                    r.events = self.indicator.bad_total(counts).map(|(_, t)| t);
                    r.state = State::InsufficientData;
                    r.vanished = true;
                    r.reason = vanished_reason(&windows, input.window);
                    return r;
                }
                if let Some(problem) = self.bucket_problem(counts) {
                    r.reason = problem;
                    return r;
                }
                let counted = self.indicator.bad_total(counts);
                r.excluded = counts
                    .excluded
                    .as_deref()
                    .and_then(|e| self.indicator.bad_total(e));
                self.judge(&mut r, counted, budget, &windows);
                if let (Some(p), Some((bad, total))) = (&mut r.period, counted) {
                    p.projected_sli =
                        projected_sli(bad, total, &p.bounds, &windows, &self.exclusions);
                }
                r
            })
            .collect()
    }

    /// The one result when the judged window counted nothing: a summary named as
    /// a histogram (its `_count` is there, no bucket) is `unknown`; otherwise
    /// `insufficient_data`, naming the part that matched nothing.
    fn nothing_to_judge(&self, input: &Input<'_>, presence: &Presence) -> SloResult {
        let mut r = self.result(input, &BTreeMap::new());
        let summary = !presence.present.is_empty();
        if let (Some((calendar, bounds)), true) = (input.period, summary) {
            // The period has just begun: its window holds fewer than the two
            // samples `increase` needs, and that says nothing about the series.
            r.state = State::InsufficientData;
            r.reason = format!(
                "the {} began {} ago: no events counted yet",
                calendar.period.as_str(),
                bounds.elapsed()
            );
            return r;
        }
        match self.bucket_problem(&Counts::default()).filter(|_| summary) {
            Some(problem) => r.reason = problem,
            None => {
                r.state = State::InsufficientData;
                r.reason = self.nothing_matched(&r.window_name, &presence.parts_seen);
            }
        }
        r
    }

    /// p95/p99 per group and window, from the windows' bucket increases
    /// (Prometheus' `histogram_quantile`, computed here: no second read).
    fn quantiles_by_group(
        &self,
        input: &Input<'_>,
        by_window: &BTreeMap<PromDuration, BTreeMap<GroupKey, Counts>>,
    ) -> BTreeMap<GroupKey, BTreeMap<PromDuration, Quantiles>> {
        let mut out: BTreeMap<GroupKey, BTreeMap<PromDuration, Quantiles>> = BTreeMap::new();
        for window in quantile_windows(input.window, self.burn_below(input)) {
            for (key, counts) in by_window.get(&window).into_iter().flatten() {
                let buckets = counts.bucket_bounds();
                let values = QUANTILES
                    .iter()
                    .map(|q| {
                        let v = q.parse().ok().and_then(|q| histogram_quantile(q, &buckets));
                        (*q, v)
                    })
                    .collect();
                out.entry(key.clone()).or_default().insert(window, values);
            }
        }
        out
    }

    /// Sets SLI, budget, state and reason from the window's `(bad, total)`;
    /// `windows` holds `(bad, total)` of every window counted.
    fn judge(
        &self,
        r: &mut SloResult,
        counts: Option<(f64, f64)>,
        budget: f64,
        windows: &BTreeMap<PromDuration, (f64, f64)>,
    ) {
        let Some((bad, total)) = counts else {
            r.state = State::InsufficientData;
            r.reason = self.nothing_matched(&r.window_name, &BTreeSet::new());
            return;
        };
        r.events = Some(total);
        if total <= 0.0 || total < self.min_events as f64 {
            r.state = State::InsufficientData;
            r.reason = format!(
                "{} events in {}, fewer than min_events {}",
                short_number(total),
                r.window_name,
                self.min_events
            );
            return;
        }
        let sli = (total - bad) / total;
        let remaining = 1.0 - bad / (total * budget);
        r.sli = Some(sli);
        r.error_budget_remaining = Some(remaining);
        let objective = self
            .objective
            .as_ref()
            .map_or(String::new(), |o| format!("{}%", o.percent_text()));
        if remaining < -AT_OBJECTIVE {
            r.state = State::Fail;
            r.reason = format!(
                "SLI {} below objective {objective}: error budget overspent ({} remaining)",
                percent(sli),
                percent(remaining)
            );
            return;
        }
        if remaining < self.warn_budget_remaining {
            r.state = State::Warn;
            r.reason = format!(
                "error budget {} remaining, under {}",
                percent(remaining),
                percent(self.warn_budget_remaining)
            );
            return;
        }
        if let Some(burn) = self.page_burn(r, windows) {
            r.state = State::Warn;
            r.reason = burn;
            return;
        }
        r.state = State::Pass;
        r.reason = format!(
            "SLI {} meets objective {objective}; {} of the error budget remaining",
            percent(sli),
            percent(remaining)
        );
    }

    /// A page-level burn under way: both windows of a page tier over its factor
    /// (and, for uptime, enough failed scrapes in the long window). Only tiers
    /// whose windows lie inside the judged window count.
    fn page_burn(
        &self,
        r: &SloResult,
        windows: &BTreeMap<PromDuration, (f64, f64)>,
    ) -> Option<String> {
        let burn = |w: PromDuration| {
            r.burn_rates
                .iter()
                .find(|(x, _)| *x == w)
                .and_then(|(_, b)| *b)
        };
        let min_bad = self.indicator.min_bad_to_page().unwrap_or(0.0);
        // A calendar SLO's burn windows are read across its period's start.
        let fits = if r.period.is_some() {
            self.window
        } else {
            r.window
        };
        self.tiers()
            .into_iter()
            .filter(|t| t.severity == Severity::Page && t.long <= fits)
            .find_map(|t| {
                let (long, short) = (burn(t.long)?, burn(t.short)?);
                let bad = windows.get(&t.long).map_or(0.0, |(b, _)| *b);
                (long > t.factor && short > t.factor && bad >= min_bad).then(|| {
                    format!(
                        "page-level burn: {} {long:.1} and {} {short:.1} over {}",
                        t.long,
                        t.short,
                        short_number(t.factor)
                    )
                })
            })
    }
}

/// The window whose pace a calendar period is projected at: the last day.
pub const PACE_WINDOW: PromDuration = PromDuration::from_secs(86400);

/// The SLI a calendar period ends with if its rest goes at the pace of the
/// last day: `(bad + bad/s × left) / (total + total/s × left)`, from the events
/// so far and the 1d window's rates. Excluded time counts in neither: the
/// last day's rates are per second not excluded, and `left` leaves out the
/// exclusions still to come in the period. `None` without traffic in the last
/// day, or when all of it was excluded.
fn projected_sli(
    bad: f64,
    total: f64,
    bounds: &crate::slo::calendar::Bounds,
    windows: &BTreeMap<PromDuration, (f64, f64)>,
    exclusions: &crate::slo::exclusion::Exclusions,
) -> Option<f64> {
    let left = (bounds.end - bounds.at).num_milliseconds().max(0) as f64 / 1000.0
        - exclusions.seconds_within(bounds.at, bounds.end);
    let (pace_bad, pace_total) = windows.get(&PACE_WINDOW).copied()?;
    if pace_total <= 0.0 {
        return None;
    }
    let day_ago = bounds.at - chrono::TimeDelta::milliseconds(PACE_WINDOW.as_millis() as i64);
    let per_second = PACE_WINDOW.as_secs_f64() - exclusions.seconds_within(day_ago, bounds.at);
    if per_second <= 0.0 {
        return None;
    }
    let left = left.max(0.0);
    let end_bad = bad + pace_bad / per_second * left;
    let end_total = total + pace_total / per_second * left;
    (end_total > 0.0)
        .then(|| 1.0 - end_bad / end_total)
        .filter(|v| v.is_finite())
}

/// Why a group whose source series are gone is not judged, and since when: the
/// shortest window that still counted events for it, and the one before it.
fn vanished_reason(windows: &BTreeMap<PromDuration, (f64, f64)>, judged: PromDuration) -> String {
    let queried: Vec<PromDuration> = BURN_WINDOWS
        .iter()
        .copied()
        .filter(|w| *w < judged)
        .chain(std::iter::once(judged))
        .collect();
    let seen = queried.iter().position(|w| windows.contains_key(w));
    let since = match seen {
        Some(0) => format!("last seen less than {} ago", queried[0]),
        Some(i) => format!(
            "last seen between {} and {} ago",
            queried[i - 1],
            queried[i]
        ),
        None => "not seen in any window".into(),
    };
    format!("source series absent now ({since}): the history before is not judged")
}

#[cfg(test)]
mod window_tests {
    use super::*;

    #[test]
    fn the_judged_window_comes_last_even_when_a_period_equals_a_quantile_window() {
        let m = PromDuration::from_secs;
        assert_eq!(
            quantile_windows(m(30 * 86400), m(30 * 86400)),
            [m(300), m(3600), m(30 * 86400)]
        );
        // A calendar period one hour in: the 1h figure and the period's.
        assert_eq!(
            quantile_windows(m(3600), m(30 * 86400)),
            [m(300), m(3600), m(3600)]
        );
        // A 1h launch checkpoint: nothing longer than itself.
        assert_eq!(quantile_windows(m(3600), m(3600)), [m(300), m(3600)]);
    }
    /// The projection runs the rest of the period at the last day's pace per
    /// second not excluded, and over the time not excluded that is left.
    #[test]
    fn a_projection_leaves_excluded_time_out_of_the_pace_and_of_what_is_left() {
        use crate::slo::exclusion::{Exclusion, Exclusions};
        let t = crate::slo::exclusion::utc;
        // 10 days into a 30-day period: 1000 bad of 1,000,000 so far; the
        // last day 20 bad of 43,200 total.
        let bounds = crate::slo::calendar::Bounds {
            start: t("2026-04-01T00:00:00Z"),
            end: t("2026-05-01T00:00:00Z"),
            at: t("2026-04-11T00:00:00Z"),
        };
        let windows = BTreeMap::from([(PACE_WINDOW, (20.0, 43_200.0))]);
        let none = Exclusions::default();
        let left = 20.0;
        let want = 1.0 - (1000.0 + 20.0 * left) / (1_000_000.0 + 43_200.0 * left);
        let got = projected_sli(1000.0, 1_000_000.0, &bounds, &windows, &none).expect("sli");
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        // 12 of the last 24 hours excluded: the day's events came in 12 hours,
        // so the pace per day is twice as fast. A 5-day freeze still to come
        // leaves 15 days of it.
        let with = Exclusions {
            once: vec![
                Exclusion {
                    start: t("2026-04-10T06:00:00Z"),
                    end: t("2026-04-10T18:00:00Z"),
                    reason: "migration".into(),
                },
                Exclusion {
                    start: t("2026-04-20T00:00:00Z"),
                    end: t("2026-04-25T00:00:00Z"),
                    reason: "freeze".into(),
                },
            ],
            recurring: Vec::new(),
        };
        let want = 1.0 - (1000.0 + 40.0 * 15.0) / (1_000_000.0 + 86_400.0 * 15.0);
        let got = projected_sli(1000.0, 1_000_000.0, &bounds, &windows, &with).expect("sli");
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        // The whole last day excluded: no pace to project at.
        let all_day = Exclusions {
            once: vec![Exclusion {
                start: t("2026-04-10T00:00:00Z"),
                end: t("2026-04-11T00:00:00Z"),
                reason: "outage elsewhere".into(),
            }],
            recurring: Vec::new(),
        };
        assert_eq!(
            projected_sli(1000.0, 1_000_000.0, &bounds, &windows, &all_day),
            None
        );
    }
}
