//! Table and property tests of the judgement.
use super::*;
use crate::slo::{RatioNumerator, Selector};
use proptest::prelude::*;

fn sel(name: &str) -> Selector {
    Selector {
        text: name.into(),
        name: name.into(),
        matchers: Vec::new(),
    }
}

fn slo(indicator: Indicator) -> Slo {
    Slo {
        labels: BTreeMap::from([("team".into(), "payments".into())]),
        ..Slo::for_test(indicator)
    }
}

fn ratio() -> Slo {
    slo(Indicator::Ratio {
        numerator: RatioNumerator::Errors(sel("errors_total")),
        total: sel("requests_total"),
    })
}

fn sample(service: &str, part: &str, value: f64) -> Sample {
    Sample {
        labels: BTreeMap::from([
            ("service".to_string(), service.to_string()),
            (label::QUERY_PART.to_string(), part.to_string()),
        ]),
        value,
    }
}

/// Answers where every window has the same `(bad, total)` per service, and every
/// service's source series are present now.
fn answers(slo: &Slo, per_window: &[(&str, f64, f64)]) -> Answers {
    slo.plan(slo.window)
        .into_iter()
        .map(|q| {
            let mut samples: Vec<Sample> = per_window
                .iter()
                .flat_map(|(s, bad, total)| [sample(s, "bad", *bad), sample(s, "total", *total)])
                .collect();
            if q.kind == QueryKind::Events(slo.window) {
                samples.extend(per_window.iter().map(|(s, _, _)| sample(s, "present", 1.0)));
            }
            (q.kind, Ok(samples))
        })
        .collect()
}

fn run(slo: &Slo, answers: &Answers) -> Vec<SloResult> {
    slo.evaluate(&Input {
        window: slo.window,
        window_name: None,
        answers,
        period: None,
        queries: Vec::new().into(),
        known_groups: &[],
    })
}

#[test]
fn results_carry_their_latency_threshold_and_enabled_alert_factors() {
    let mut latency = slo(Indicator::Latency {
        histogram: sel("http_request_duration_seconds"),
        threshold: PromDuration::from_millis(250),
    });
    latency.window = PromDuration::from_secs(7 * 86400);
    latency.alerting.page.enabled = true;
    latency.alerting.ticket.enabled = false;
    let r = latency.result(
        &Input {
            window: latency.window,
            window_name: None,
            answers: &Answers::new(),
            period: None,
            queries: Vec::new().into(),
            known_groups: &[],
        },
        &BTreeMap::new(),
    );
    assert_eq!(r.latency_threshold, Some(PromDuration::from_millis(250)));
    // Only the page tiers of a 7-day SLO: the workbook's 1h and 6h scaled to 7d.
    let pages: Vec<(PromDuration, f64)> = latency
        .tiers()
        .into_iter()
        .filter(|t| t.severity == crate::slo::Severity::Page)
        .map(|t| (t.long, t.factor))
        .collect();
    assert!(!pages.is_empty());
    assert_eq!(r.burn_thresholds, pages);
    let mut all_tiers = ratio();
    all_tiers.alerting.page.enabled = true;
    all_tiers.alerting.ticket.enabled = true;
    let r = all_tiers.result(
        &Input {
            window: PromDuration::from_secs(30 * 86400),
            window_name: None,
            answers: &Answers::new(),
            period: None,
            queries: Vec::new().into(),
            known_groups: &[],
        },
        &BTreeMap::new(),
    );
    assert_eq!(r.latency_threshold, None);
    assert_eq!(
        r.burn_thresholds,
        [(3600, 14.4), (21600, 6.0), (86400, 3.0), (259200, 1.0)]
            .map(|(s, f)| (PromDuration::from_secs(s), f))
    );
}

#[test]
fn zero_total_is_insufficient_data_never_nan() {
    let s = ratio();
    let r = &run(&s, &answers(&s, &[("a", 0.0, 0.0)]))[0];
    assert_eq!(r.state, State::InsufficientData);
    assert_eq!(
        (r.sli, r.error_budget_remaining, r.events),
        (None, None, Some(0.0))
    );
    assert!(r.burn_rates.iter().all(|(_, b)| b.is_none()));
    assert!(!r.ready);
}

#[test]
fn fewer_than_min_events_is_insufficient_data() {
    let s = ratio();
    let r = &run(&s, &answers(&s, &[("a", 0.0, 99.0)]))[0];
    assert_eq!(r.state, State::InsufficientData);
    assert_eq!(r.reason, "99 events in 30d, fewer than min_events 100");
}

#[test]
fn missing_error_series_means_no_errors() {
    let s = ratio();
    let a: Answers = s
        .plan(s.window)
        .into_iter()
        .map(|q| {
            let present = sample("a", "present", 1.0);
            (q.kind, Ok(vec![sample("a", "total", 1000.0), present]))
        })
        .collect();
    let r = &run(&s, &a)[0];
    assert_eq!(
        (r.state, r.sli, r.error_budget_remaining),
        (State::Pass, Some(1.0), Some(1.0))
    );
}

#[test]
fn exactly_at_the_objective_meets_it() {
    let s = ratio();
    let r = &run(&s, &answers(&s, &[("a", 1.0, 1000.0)]))[0];
    assert_eq!(r.sli, Some(0.999));
    assert!(r.error_budget_remaining.unwrap().abs() < 1e-12);
    // Budget 0 is under the 25 % warning line, but not overspent.
    assert_eq!(r.state, State::Warn);
}

#[test]
fn overspent_budget_fails_and_is_negative() {
    let s = ratio();
    let r = &run(&s, &answers(&s, &[("a", 3.0, 1000.0)]))[0];
    assert_eq!(r.state, State::Fail);
    assert!((r.error_budget_remaining.unwrap() + 2.0).abs() < 1e-9);
    assert_eq!(
        r.reason,
        "SLI 99.7% below objective 99.9%: error budget overspent (-200% remaining)"
    );
}

#[test]
fn page_level_burn_warns_with_budget_left() {
    let s = ratio();
    let mut a = answers(&s, &[("a", 100.0, 1_000_000.0)]);
    for w in [PromDuration::from_secs(3600), PromDuration::from_secs(300)] {
        a.insert(
            QueryKind::Events(w),
            Ok(vec![sample("a", "bad", 20.0), sample("a", "total", 1000.0)]),
        );
    }
    let r = &run(&s, &a)[0];
    assert_eq!(r.state, State::Warn);
    assert_eq!(r.reason, "page-level burn: 1h 20.0 and 5m 20.0 over 14.4");
    assert!(r.ready, "warn is ready");
}

#[test]
fn a_failed_query_is_unknown_for_every_known_group() {
    let s = ratio();
    let mut a = answers(&s, &[("a", 0.0, 1000.0)]);
    a.insert(
        QueryKind::Events(PromDuration::from_secs(300)),
        Err("no answer within 2s".into()),
    );
    let known: [crate::eval::snapshot::GroupLabels; 2] = [
        Box::new([("service".to_string(), "a".to_string())]),
        Box::new([("service".to_string(), "b".to_string())]),
    ];
    let rs = s.evaluate(&Input {
        window: s.window,
        window_name: None,
        answers: &a,
        period: None,
        queries: Vec::new().into(),
        known_groups: &known,
    });
    assert_eq!(rs.len(), 2);
    for r in &rs {
        assert_eq!((r.state, r.ready), (State::Unknown, false));
        assert_eq!(r.reason, "query failed: no answer within 2s");
    }
    assert_eq!(rs[1].service.as_deref(), Some("b"));
    assert_eq!(rs[1].labels()["team"], "payments");
}

#[test]
fn no_series_at_all_is_one_insufficient_result() {
    let s = ratio();
    let rs = run(&s, &answers(&s, &[]));
    assert_eq!(rs.len(), 1);
    assert_eq!(
        (rs[0].state, rs[0].reason.as_str()),
        (
            State::InsufficientData,
            "no series matched over 30d: total requests_total matched nothing"
        )
    );
}

#[test]
fn a_probe_reports_its_worst_series() {
    let s = slo(Indicator::Threshold {
        query: "x".into(),
        op: crate::slo::CompareOp::Lt,
        value: 86400.0,
    });
    let mut s = s;
    s.group_by.clear();
    s.service = Some("platform".into());
    let a = Answers::from([(
        QueryKind::Probe,
        Ok(vec![
            Sample {
                labels: BTreeMap::new(),
                value: 3600.0,
            },
            Sample {
                labels: BTreeMap::new(),
                value: 90000.0,
            },
        ]),
    )]);
    let r = &run(&s, &a)[0];
    assert_eq!((r.state, r.value), (State::Fail, Some(90000.0)));
    assert_eq!(r.reason, "value 90000 is not < 86400");
    assert_eq!(r.error_budget_remaining, None);
}

/// A probe whose query finds nothing names the query and the likely cause.
#[test]
fn a_probe_without_series_names_its_query_and_the_likely_cause() {
    let mut s = slo(Indicator::Threshold {
        query: "time() - max(backup_last_success_timestamp_seconds)".into(),
        op: crate::slo::CompareOp::Lt,
        value: 86400.0,
    });
    s.group_by.clear();
    let r = &run(&s, &Answers::from([(QueryKind::Probe, Ok(Vec::new()))]))[0];
    assert_eq!(r.state, State::InsufficientData);
    assert_eq!(
        r.reason,
        "the probe query \"time() - max(backup_last_success_timestamp_seconds)\" returned no \
         series: is the exporter of its metric scraped, and is the metric named as written?"
    );
}

#[test]
fn readiness_ignores_non_key_slos_and_nothing_is_not_ready() {
    let s = ratio();
    let mut rs = run(&s, &answers(&s, &[("a", 0.0, 1000.0), ("b", 10.0, 1000.0)]));
    assert_eq!(
        roll_up(&rs).services,
        BTreeMap::from([("a".into(), true), ("b".into(), false)])
    );
    assert!(!roll_up(&rs).ready);
    rs[1].key = false;
    assert!(roll_up(&rs).ready);
    assert!(!roll_up(&[]).ready);
}

proptest! {
    #[test]
    fn budget_falls_as_errors_rise(total in 100u32..1_000_000, a in 0u32..1000, b in 0u32..1000) {
        let s = ratio();
        let (lo, hi) = (a.min(b) as f64, a.max(b) as f64);
        let total = total as f64 + hi;
        let budget = |bad: f64| run(&s, &answers(&s, &[("x", bad, total)]))[0].error_budget_remaining.unwrap();
        prop_assert!(budget(lo) >= budget(hi));
    }
}
