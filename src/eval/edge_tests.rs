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
        queries: Vec::new(),
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
    let mut a = answers_for(&s, s.window, |_| None, true);
    for (_, answer) in a.iter_mut() {
        // No good part: no bucket matches 250ms; the histogram is there.
        answer
            .as_mut()
            .expect("ok")
            .push(part("a", "total", 1000.0));
    }
    let main = a
        .get_mut(&QueryKind::Events(s.window))
        .and_then(|x| x.as_mut().ok())
        .expect("main answer");
    for le in ["0.1", "0.20", "+Inf", "5e-01"] {
        let mut b = part("a", "bucket", 1.0);
        b.labels.insert("le".into(), le.into());
        main.push(b);
    }
    let r = judge(&s, s.window, None, &a);
    assert_eq!((r.state, r.sli, r.ready), (State::Unknown, None, false));
    assert_eq!(
        r.reason,
        "threshold 250ms is not a bucket boundary of http_request_duration_seconds; \
         its buckets: 0.1, 0.20, 5e-01, +Inf"
    );
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
fn latency_quantiles_are_keyed_by_window() {
    let s = Slo::for_test(Indicator::Latency {
        histogram: sel("h"),
        threshold: PromDuration::from_millis(200),
    });
    let mut a = answers_for(&s, s.window, |_| Some((0.0, 1000.0)), true);
    let quantile = |q: &str, v: f64| Sample {
        labels: BTreeMap::from([
            ("service".to_string(), "a".to_string()),
            (label::QUERY_QUANTILE.to_string(), q.to_string()),
        ]),
        value: v,
    };
    for (w, p95) in [(300, 0.3), (3600, 0.25), (30 * 86400, 0.15)] {
        a.insert(
            QueryKind::Quantiles(PromDuration::from_secs(w)),
            Ok(vec![quantile("0.95", p95), quantile("0.99", f64::NAN)]),
        );
    }
    let main = a
        .get_mut(&QueryKind::Events(s.window))
        .and_then(|x| x.as_mut().ok())
        .expect("main");
    let mut bucket = part("a", "bucket", 1.0);
    bucket.labels.insert("le".into(), "0.2".into());
    main.extend([bucket, part("a", "good", 1000.0)]);
    let r = judge(&s, s.window, None, &a);
    let got: Vec<(String, Option<f64>, Option<f64>)> = r
        .latency_seconds
        .expect("latency")
        .into_iter()
        .map(|(w, q)| (w.to_string(), q[0].1, q[1].1))
        .collect();
    assert_eq!(
        got,
        vec![
            ("5m".into(), Some(0.3), None),
            ("1h".into(), Some(0.25), None),
            ("30d".into(), Some(0.15), None),
        ]
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
        queries: Vec::new(),
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
