//! Verdicts at the edges (issue 9): each test is named after the behaviour and
//! failed on the code before it.
use super::*;
use crate::slo::{RatioNumerator, Selector};

fn sel(name: &str) -> Selector {
    Selector {
        text: name.into(),
        name: name.into(),
        matchers: Vec::new(),
    }
}

fn part(service: &str, part: &str, value: f64) -> Sample {
    Sample {
        labels: BTreeMap::from([
            ("service".to_string(), service.to_string()),
            (label::QUERY_PART.to_string(), part.to_string()),
        ]),
        value,
    }
}

fn ratio(window: &str) -> Slo {
    Slo {
        window: window.parse().expect("window"),
        ..Slo::for_test(Indicator::Ratio {
            numerator: RatioNumerator::Errors(sel("errors_total")),
            total: sel("requests_total"),
        })
    }
}

/// Answers of `slo.plan(window)`: `(bad, total)` per query window from `counts`,
/// the source series present now unless `vanished`.
fn answers_for(
    slo: &Slo,
    window: PromDuration,
    counts: impl Fn(PromDuration) -> Option<(f64, f64)>,
    present: bool,
) -> Answers {
    slo.plan(window)
        .into_iter()
        .map(|q| {
            let mut samples = Vec::new();
            if let QueryKind::Events(w) = q.kind {
                if let Some((bad, total)) = counts(w) {
                    samples.extend([part("a", "bad", bad), part("a", "total", total)]);
                }
                if w == window && present {
                    samples.push(part("a", "present", 1.0));
                }
            }
            (q.kind, Ok(samples))
        })
        .collect()
}

fn judge(slo: &Slo, window: PromDuration, name: Option<&str>, answers: &Answers) -> SloResult {
    slo.evaluate(&Input {
        window,
        window_name: name,
        answers,
        period: None,
        queries: Vec::new().into(),
        known_groups: &[],
    })
    .remove(0)
}

#[test]
fn one_day_window_healthy_service_passes() {
    // 99.95 % against 99.9 %: a 0.5x burn in every window, half the budget left.
    let s = ratio("1d");
    let a = answers_for(&s, s.window, |_| Some((5.0, 10_000.0)), true);
    let r = judge(&s, s.window, None, &a);
    assert_eq!(r.state, State::Pass, "{}", r.reason);
    assert_eq!(r.error_budget_remaining, Some(0.5));
}

#[test]
fn one_day_window_twenty_x_burn_warns_on_its_scaled_page_tier() {
    let s = ratio("1d");
    // 2 % errors in the last 30 minutes, budget still 60 % left over the day.
    let a = answers_for(
        &s,
        s.window,
        |w| {
            Some(if w.as_millis() <= 1_800_000 {
                (20.0, 1000.0)
            } else {
                (4.0, 10_000.0)
            })
        },
        true,
    );
    let r = judge(&s, s.window, None, &a);
    assert_eq!(r.state, State::Warn);
    assert_eq!(r.reason, "page-level burn: 30m 20.0 and 5m 20.0 over 14.4");
}

#[test]
fn uptime_single_failed_scrape_does_not_warn_but_ten_do() {
    let s = Slo {
        group_by: vec!["service".into()],
        ..Slo::for_test(Indicator::Uptime {
            selector: sel("up"),
        })
    };
    // 30 days of scrapes, one minute apart, all up but the last `failed`.
    let run = |failed: f64| {
        let a = answers_for(
            &s,
            s.window,
            |w| {
                let total = w.as_secs_f64() / 60.0;
                Some((failed.min(total), total))
            },
            true,
        );
        judge(&s, s.window, None, &a)
    };
    let one = run(1.0);
    assert_eq!(one.state, State::Pass, "{}", one.reason);
    let ten = run(10.0);
    assert_eq!(ten.state, State::Warn, "{}", ten.reason);
    assert!(
        ten.reason.starts_with("page-level burn: 1h "),
        "{}",
        ten.reason
    );
}

#[test]
fn threshold_between_buckets_is_unknown_naming_the_buckets() {
    let s = Slo {
        objective: Some(crate::slo::Objective::from_percent_text("95").expect("valid")),
        ..Slo::for_test(Indicator::Latency {
            histogram: sel("http_request_duration_seconds"),
            threshold: PromDuration::from_millis(250),
        })
    };
    let buckets = |w: PromDuration| {
        let scale = w.as_secs_f64();
        [
            ("0.1", 60.0),
            ("0.20", 75.0),
            ("+Inf", 100.0),
            ("5e-01", 97.0),
        ]
        .into_iter()
        .map(|(le, v)| bucket("a", le, v * scale))
        .collect::<Vec<_>>()
    };
    let a = latency_answers(&s, buckets);
    let r = judge(&s, s.window, None, &a);
    assert_eq!((r.state, r.sli, r.ready), (State::Unknown, None, false));
    assert_eq!(
        r.reason,
        "threshold 250ms is not a bucket boundary of http_request_duration_seconds; \
         its buckets: 0.1, 0.20, 5e-01, +Inf"
    );
}

/// A bucket-increase sample of group `service`.
fn bucket(service: &str, le: &str, value: f64) -> Sample {
    let mut p = part(service, "bucket", value);
    p.labels.insert("le".into(), le.into());
    p
}

/// Answers of a latency SLO's plan: `buckets(window)` per events query, the
/// source present now.
fn latency_answers(s: &Slo, buckets: impl Fn(PromDuration) -> Vec<Sample>) -> Answers {
    let shortest = s
        .plan(s.window)
        .iter()
        .filter_map(|q| match q.kind {
            QueryKind::Events(w) => Some(w),
            _ => None,
        })
        .min();
    s.plan(s.window)
        .into_iter()
        .map(|q| {
            let QueryKind::Events(w) = q.kind else {
                return (q.kind, Ok(Vec::new()));
            };
            let mut samples = buckets(w);
            if Some(w) == shortest {
                samples.push(part("a", "present", 1.0));
            }
            (q.kind, Ok(samples))
        })
        .collect()
}

#[test]
fn checkpoint_burn_windows_longer_than_the_checkpoint_are_null() {
    let s = ratio("30d");
    let one_hour = PromDuration::from_secs(3600);
    let plan: Vec<QueryKind> = s.plan(one_hour).iter().map(|q| q.kind).collect();
    assert!(
        !plan.contains(&QueryKind::Events(PromDuration::from_secs(6 * 3600))),
        "no 6h query at a 1h checkpoint: {plan:?}"
    );
    // A pre-launch-looking 6h burn cannot leak in: only windows up to 1h count.
    let a = answers_for(&s, one_hour, |_| Some((10.0, 1000.0)), true);
    let r = judge(&s, one_hour, Some("60m"), &a);
    let burns: Vec<(String, Option<f64>)> = r
        .burn_rates
        .iter()
        .map(|(w, b)| (w.to_string(), b.map(|b| (b * 10.0).round() / 10.0)))
        .collect();
    assert_eq!(
        burns,
        vec![
            ("5m".into(), Some(10.0)),
            ("30m".into(), Some(10.0)),
            ("1h".into(), Some(10.0)),
            ("2h".into(), None),
            ("6h".into(), None),
            ("1d".into(), None),
            ("3d".into(), None),
        ]
    );
    assert_eq!(
        r.window_name, "60m",
        "a checkpoint keeps the text the user wrote"
    );
    assert_eq!(r.state, State::Fail);
}

#[test]
fn checkpoint_warn_uses_only_tiers_inside_it() {
    let s = ratio("30d");
    let one_hour = PromDuration::from_secs(3600);
    let mut a = answers_for(
        &s,
        one_hour,
        |w| match w.as_secs_f64() as u64 {
            300 => Some((0.0, 100.0)),
            1800 => Some((5.0, 500.0)),
            _ => Some((5.0, 10_000.0)),
        },
        true,
    );
    // A 6h answer measuring mostly pre-launch traffic at a 10x burn: the 6h/30m
    // page tier would warn on it, but it lies outside the 1h checkpoint.
    a.insert(
        QueryKind::Events(PromDuration::from_secs(6 * 3600)),
        Ok(vec![part("a", "bad", 100.0), part("a", "total", 10_000.0)]),
    );
    let r = judge(&s, one_hour, Some("1h"), &a);
    assert_eq!(r.state, State::Pass, "{}", r.reason);
}

#[test]
fn vanished_source_series_are_insufficient_data_since_when() {
    let s = ratio("30d");
    // Counted over 1h and longer, not over 5m and 30m: gone between 30m and 1h ago.
    let a = answers_for(
        &s,
        s.window,
        |w| (w.as_millis() >= 3_600_000).then_some((0.0, 100_000.0)),
        false,
    );
    let r = judge(&s, s.window, None, &a);
    assert_eq!((r.state, r.ready), (State::InsufficientData, false));
    assert_eq!(
        r.reason,
        "source series absent now (last seen between 30m and 1h ago): the history before is not judged"
    );
    assert_eq!(r.sli, None);
}

#[test]
fn a_failed_query_reason_does_not_depend_on_map_order() {
    let s = ratio("30d");
    for _ in 0..20 {
        let mut a = answers_for(&s, s.window, |_| Some((0.0, 1000.0)), true);
        a.insert(
            QueryKind::Events(PromDuration::from_secs(3600)),
            Err("second".into()),
        );
        a.insert(
            QueryKind::Events(PromDuration::from_secs(300)),
            Err("first".into()),
        );
        assert_eq!(judge(&s, s.window, None, &a).reason, "query failed: first");
    }
}

#[test]
fn no_series_names_the_part_that_matched_nothing() {
    let s = Slo {
        ..Slo::for_test(Indicator::Cache {
            hits: sel("cache_hits_total"),
            misses: sel("cache_misses_total"),
        })
    };
    let a = answers_for(&s, s.window, |_| None, false);
    assert_eq!(
        judge(&s, s.window, None, &a).reason,
        "no series matched over 30d: good cache_hits_total and bad cache_misses_total matched nothing"
    );
}

#[test]
fn latency_quantiles_are_keyed_by_window_and_come_from_the_buckets() {
    let s = Slo::for_test(Indicator::Latency {
        histogram: sel("h"),
        threshold: PromDuration::from_millis(200),
    });
    // Slow lately: the last 5m has 40 % over 0.2s, the last hour less, 30d hardly.
    let a = latency_answers(&s, |w| {
        let counts: [f64; 4] = match w.as_secs_f64() as u64 {
            300 => [30.0, 60.0, 90.0, 100.0],
            3600 => [80.0, 90.0, 98.0, 100.0],
            _ => [90.0, 98.0, 100.0, 100.0],
        };
        ["0.1", "0.2", "0.5", "+Inf"]
            .iter()
            .zip(counts)
            .map(|(le, v)| bucket("a", le, v * 1000.0))
            .collect()
    });
    let r = judge(&s, s.window, None, &a);
    let got: Vec<(String, Option<f64>, Option<f64>)> = r
        .latency_seconds
        .expect("latency")
        .into_iter()
        .map(|(w, q)| (w.to_string(), q[0].1, q[1].1))
        .collect();
    let near = |v: Option<f64>, want: f64| v.is_some_and(|v| (v - want).abs() < 1e-12);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        (got[0].0.as_str(), got[1].0.as_str(), got[2].0.as_str()),
        ("5m", "1h", "30d")
    );
    // 5m: rank 95 is past the 0.5 bucket's 90, in +Inf: the highest finite bound.
    assert!(near(got[0].1, 0.5) && near(got[0].2, 0.5), "{got:?}");
    // 1h: rank 95 in (0.2, 0.5] (90..98): 0.2 + 0.3 * 5/8.
    assert!(near(got[1].1, 0.2 + 0.3 * 5.0 / 8.0), "{got:?}");
    // 30d: rank 95 in (0.1, 0.2] (90..98): 0.1 + 0.1 * 5/8.
    assert!(near(got[2].1, 0.1 + 0.1 * 5.0 / 8.0), "{got:?}");
    // The SLI reads the same buckets: 98 % within 0.2s over 30d.
    assert!(
        r.sli.is_some_and(|v| (v - 0.98).abs() < 1e-12),
        "{:?}",
        r.sli
    );
}

#[test]
fn a_vanished_group_does_not_hold_back_its_service_while_a_sibling_has_data() {
    let s = Slo {
        group_by: vec!["service".into(), "version".into()],
        ..ratio("30d")
    };
    let group = |version: &str, part_name: &str, value: f64| {
        let mut p = part("checkout", part_name, value);
        p.labels.insert("version".into(), version.into());
        p
    };
    let answers: Answers = s
        .plan(s.window)
        .into_iter()
        .map(|q| {
            let mut samples = vec![group("v1", "total", 1000.0), group("v2", "total", 1000.0)];
            if q.kind == QueryKind::Events(s.window) {
                samples.push(group("v2", "present", 1.0));
            }
            (q.kind, Ok(samples))
        })
        .collect();
    let rs = s.evaluate(&Input {
        window: s.window,
        window_name: None,
        answers: &answers,
        period: None,
        queries: Vec::new().into(),
        known_groups: &[],
    });
    let states: Vec<(State, bool)> = rs.iter().map(|r| (r.state, r.vanished)).collect();
    assert_eq!(
        states,
        vec![(State::InsufficientData, true), (State::Pass, false)]
    );
    assert!(roll_up(&rs).ready, "v2 carries checkout");
    // Alone, a vanished group is not ready.
    assert!(!roll_up(&rs[..1]).ready);
}

#[test]
fn latency_buckets_the_rules_could_not_read_are_unknown() {
    let slo = |millis: u64| Slo {
        objective: Some(crate::slo::Objective::from_percent_text("95").expect("valid")),
        ..Slo::for_test(Indicator::Latency {
            histogram: sel("h"),
            threshold: PromDuration::from_millis(millis),
        })
    };
    let judged = |s: &Slo, les: &'static [&'static str]| {
        let a = latency_answers(s, |_| les.iter().map(|le| bucket("a", le, 100.0)).collect());
        judge(s, s.window, None, &a)
    };
    // Go's LinearBuckets(0.1, 0.1, n) writes 0.30000000000000004: equal to 300ms
    // by value, but the generated rules' le matcher would never find it.
    let r = judged(&slo(300), &["0.1", "0.2", "0.30000000000000004", "+Inf"]);
    assert_eq!(r.state, State::Unknown);
    assert_eq!(
        r.reason,
        "the bucket at threshold 300ms is written le=\"0.30000000000000004\", which the \
         generated rules cannot match; choose a threshold whose bucket is written exactly"
    );
    // Buckets without +Inf cannot count every request.
    let r = judged(&slo(200), &["0.1", "0.2", "0.5"]);
    assert_eq!(
        (r.state, r.reason.as_str()),
        (
            State::Unknown,
            "h has no +Inf bucket to count every request; its buckets: 0.1, 0.2, 0.5"
        )
    );
}

#[test]
fn a_summary_named_as_a_histogram_is_unknown_not_missing() {
    let s = Slo::for_test(Indicator::Latency {
        histogram: sel("h"),
        threshold: PromDuration::from_millis(200),
    });
    // `_count` is there (present), no bucket increases at all.
    let a = latency_answers(&s, |_| Vec::new());
    let r = judge(&s, s.window, None, &a);
    assert_eq!(
        (r.state, r.reason.as_str()),
        (
            State::Unknown,
            "h has no _bucket series (a summary is not a histogram)"
        )
    );
}
