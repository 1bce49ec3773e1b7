//! Fusion against hand-written answers: which queries are planned, and that each
//! SLO's synthesized answer is what its own query returns.

use super::*;
use crate::slo::{Indicator, Objective, RatioNumerator, Selector};

fn sel(text: &str) -> Selector {
    Selector::parse(text).expect("a valid selector")
}

fn ratio(name: &str, errors: &str, total: &str, group_by: &[&str]) -> Slo {
    Slo {
        name: name.into(),
        objective: Some(Objective::from_percent_text("99").expect("objective")),
        window: PromDuration::from_secs(3600),
        group_by: group_by.iter().map(|g| g.to_string()).collect(),
        ..Slo::for_test(Indicator::Ratio {
            numerator: RatioNumerator::Errors(sel(errors)),
            total: sel(total),
        })
    }
}

fn members<'a>(slos: &'a [Slo], plans: &'a [Vec<PlannedQuery>]) -> Vec<Member<'a>> {
    slos.iter()
        .zip(plans)
        .map(|(slo, plan)| Member { slo, plan })
        .collect()
}

fn sample(labels: &[(&str, &str)], value: f64) -> Sample {
    Sample {
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        value,
    }
}

#[test]
fn client_regexes_are_only_those_rust_and_re2_read_alike() {
    for ok in [
        "5..",
        "2..|3..",
        "(GET|POST)",
        "/api/.*",
        "a{2,3}",
        "[a-z]+",
        r"\.",
        "(?:x)",
    ] {
        assert!(
            client_regex(ok).is_some(),
            "{ok} should be matched client-side"
        );
    }
    for refused in [
        r"\d+", r"\w", "(?i)get", "a{1001}", r"\pL", r"\x41", "(?P<x>a)", r"\",
    ] {
        assert!(
            client_regex(refused).is_none(),
            "{refused} must be left to Prometheus"
        );
    }
    let r = client_regex("5..").expect("regex");
    assert!(r.is_match("503"));
    assert!(!r.is_match("5030"), "anchored like Prometheus");
    assert!(!r.is_match("x503"));
}

#[test]
fn slos_over_one_metric_share_one_query_per_window_keeping_their_labels() {
    let slos = [
        ratio("a", r#"req{svc="a", code=~"5.."}"#, r#"req{svc="a"}"#, &[]),
        ratio(
            "b",
            r#"req{svc="b", code=~"5.."}"#,
            r#"req{svc="b"}"#,
            &["route"],
        ),
    ];
    let plans: Vec<_> = slos.iter().map(|s| s.plan(s.window)).collect();
    let fusion = plan(&members(&slos, &plans), Mode::Fused, 100, |_| Some(10));
    // 1h, and the burn windows under it: 5m and 30m.
    assert_eq!(fusion.jobs.len(), 3);
    assert!(fusion.groups.iter().all(|g| g.fused && g.slos == 2));
    assert_eq!(fusion.groups[0].by, ["code", "route", "svc"]);
    let five = fusion
        .jobs
        .iter()
        .find(|(_, j)| j.kind == QueryKind::Events(PromDuration::from_secs(300)))
        .map(|(q, _)| q.as_str())
        .expect("a 5m query");
    assert_eq!(
        five,
        "label_replace(sum by (code, route, svc) (increase(req{svc=~\"a|b\"}[5m])), \"slogate_part\", \"increase\", \"\", \"\") or \
         label_replace(count by (code, route, svc) (req{svc=~\"a|b\"}), \"slogate_part\", \"present\", \"\", \"\")",
        "Prometheus reads only the services some SLO selects"
    );

    // The same SLOs with too wide a query, or an unknown width: one query each.
    for widths in [Some(101), None] {
        let naive = plan(&members(&slos, &plans), Mode::Fused, 100, |_| widths);
        assert_eq!(naive.jobs.len(), 6, "{widths:?}");
        assert!(naive.groups.iter().all(|g| !g.fused));
    }
    assert_eq!(
        plan(&members(&slos, &plans), Mode::Naive, 100, |_| Some(1))
            .jobs
            .len(),
        6
    );
}

#[test]
fn identical_slos_and_unsupported_regexes_are_not_fused() {
    let same = [
        ratio("a", r#"req{code=~"5.."}"#, "req", &[]),
        ratio("b", r#"req{code=~"5.."}"#, "req", &[]),
    ];
    let plans: Vec<_> = same.iter().map(|s| s.plan(s.window)).collect();
    let fusion = plan(&members(&same, &plans), Mode::Fused, 100, |_| Some(1));
    assert!(
        fusion.groups.is_empty(),
        "identical queries are sent once anyway"
    );
    assert_eq!(fusion.jobs.len(), 3);

    let perl = [
        ratio("a", r#"req{code=~"5\\d\\d"}"#, "req", &[]),
        ratio("b", r#"req{code=~"4.."}"#, "req", &[]),
    ];
    let plans: Vec<_> = perl.iter().map(|s| s.plan(s.window)).collect();
    let fusion = plan(&members(&perl, &plans), Mode::Fused, 100, |_| Some(1));
    assert_eq!(fusion.jobs.len(), 6, "b alone is not worth fusing");
}

#[test]
fn synthesized_answers_apply_each_matcher_as_prometheus_does() {
    let slos = [
        ratio("five", r#"req{code=~"5.."}"#, r#"req{route!=""}"#, &["svc"]),
        ratio("no-route", r#"req{code!~"2..", route=""}"#, "req", &[]),
    ];
    let plans: Vec<_> = slos.iter().map(|s| s.plan(s.window)).collect();
    let fusion = plan(&members(&slos, &plans), Mode::Fused, 100, |_| Some(10));
    let hour = QueryKind::Events(PromDuration::from_secs(3600));
    let (promql, _) = fusion
        .jobs
        .iter()
        .find(|(_, j)| j.kind == hour)
        .expect("the 1h query");
    let inc = |svc: &str, route: &str, code: &str, v: f64| {
        let mut labels = vec![("slogate_part", "increase"), ("code", code), ("svc", svc)];
        if !route.is_empty() {
            labels.push(("route", route));
        }
        sample(&labels, v)
    };
    let answer = vec![
        inc("a", "/x", "200", 100.0),
        inc("a", "/x", "503", 3.0),
        inc("a", "", "500", 7.0),
        inc("b", "/y", "5000", 11.0),
        inc("b", "/y", "404", 13.0),
    ];
    let answers = BTreeMap::from([(promql.clone(), Ok(answer))]);
    let (out, refused) = assemble(&fusion, answers.clone(), &BTreeSet::new());
    assert!(refused.is_empty());
    let of = |slo: usize, part: &str| -> Vec<(String, f64)> {
        let mut v: Vec<(String, f64)> = out[&(slo, hour)]
            .as_ref()
            .expect("an answer")
            .iter()
            .filter(|s| s.labels["slogate_part"] == part)
            .map(|s| (s.labels.get("svc").cloned().unwrap_or_default(), s.value))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    // `5..` is anchored: 5000 is not a 5xx. The missing route is "" (not != "").
    assert_eq!(of(0, "bad"), [("a".to_string(), 10.0)]);
    assert_eq!(of(0, "total"), [("a".into(), 103.0), ("b".into(), 24.0)]);
    // No group_by: one sum, without labels besides the part.
    assert_eq!(of(1, "bad"), [(String::new(), 7.0)]);
    assert_eq!(of(1, "total"), [(String::new(), 134.0)]);

    // A newline in a value matched by a regex: asked alone, never guessed.
    let answers = BTreeMap::from([(promql.clone(), Ok(vec![inc("a", "/x", "5\n0", 1.0)]))]);
    let (out, refused) = assemble(&fusion, answers.clone(), &BTreeSet::new());
    assert!(refused.contains(&(0, hour)) && refused.contains(&(1, hour)));
    assert!(!out.contains_key(&(0, hour)));

    // A failed fused query fails each need it answers, with its message; one
    // the scheduler retries leaves them to be asked alone.
    let answers = BTreeMap::from([(promql.clone(), Err("boom".to_string()))]);
    let (out, _) = assemble(&fusion, answers.clone(), &BTreeSet::new());
    assert_eq!(out[&(1, hour)], Err("boom".to_string()));
    let (out, refused) = assemble(&fusion, answers.clone(), &BTreeSet::from([promql.clone()]));
    assert!(out.is_empty() && refused.len() == 2, "{refused:?}");
}

#[test]
fn values_every_slo_pins_narrow_the_read_literally() {
    let odd = r#"a.b|"c"\d"#;
    let slos = [
        ratio(
            "a",
            &format!("req{{svc={odd:?}, code=~\"5..\"}}"),
            &format!("req{{svc={odd:?}}}"),
            &[],
        ),
        ratio(
            "b",
            r#"req{svc="x", code=~"5.."}"#,
            r#"req{svc="x", env="prod"}"#,
            &[],
        ),
    ];
    let plans: Vec<_> = slos.iter().map(|s| s.plan(s.window)).collect();
    let fusion = plan(&members(&slos, &plans), Mode::Fused, 100, |_| Some(1));
    let (query, _) = fusion.jobs.iter().next().expect("a query");
    promql_parser::parser::parse(query).expect("PromQL");
    // The narrowing matcher matches each pinned value literally, and nothing else.
    let text = query;
    let start = text.find("svc=~").expect("a narrowing matcher");
    let selector = format!(
        "x{{{}}}",
        &text[start..text[start..].find('}').expect("}") + start]
    );
    let sel = Selector::parse(&selector).expect("selector");
    let re = client_regex(&sel.matchers[0].value).expect("regex");
    assert!(
        re.is_match(r#"a.b|"c"\d"#) && re.is_match("x"),
        "{selector}"
    );
    assert!(!re.is_match("aXb") && !re.is_match("a.b"), "{selector}");
    assert!(
        !query.contains("env="),
        "env is not pinned by every SLO: {query}"
    );

    // One SLO without a pin on svc: no narrowing on svc.
    let slos = [
        ratio("a", r#"req{svc="a", code=~"5.."}"#, r#"req{svc="a"}"#, &[]),
        ratio("b", r#"req{code=~"5.."}"#, "req", &["svc"]),
    ];
    let plans: Vec<_> = slos.iter().map(|s| s.plan(s.window)).collect();
    let fusion = plan(&members(&slos, &plans), Mode::Fused, 100, |_| Some(1));
    assert!(
        fusion.jobs.keys().all(|q| !q.contains("svc=")),
        "{:?}",
        fusion.jobs.keys()
    );
}

#[test]
fn long_reads_are_sent_as_two_disjoint_halves_answering_as_one() {
    let slos: Vec<Slo> = ["a", "b", "c"]
        .iter()
        .map(|svc| Slo {
            window: PromDuration::from_secs(86_400),
            ..ratio(
                svc,
                &format!(r#"req{{svc="{svc}", code=~"5.."}}"#),
                &format!(r#"req{{svc="{svc}"}}"#),
                &[],
            )
        })
        .collect();
    let plans: Vec<_> = slos.iter().map(|s| s.plan(s.window)).collect();
    let fusion = plan(&members(&slos, &plans), Mode::Fused, 100, |_| Some(10));
    let day = QueryKind::Events(PromDuration::from_secs(86_400));
    for (promql, job) in &fusion.jobs {
        if job.kind == day {
            assert_eq!(job.sent.len(), 2, "{promql}");
            assert!(job.sent[0].contains(r#"svc=~"a""#), "{}", job.sent[0]);
            assert!(job.sent[1].contains(r#"svc=~"b|c""#), "{}", job.sent[1]);
        } else {
            assert_eq!(
                job.sent,
                std::slice::from_ref(promql),
                "windows under a day are one query"
            );
        }
    }
    // The union of the halves' answers, assembled, gives each SLO its own events.
    let (promql, _) = fusion
        .jobs
        .iter()
        .find(|(_, j)| j.kind == day)
        .expect("the 1d read");
    let part = |svc: &str, code: &str, value: f64| {
        sample(
            &[
                ("svc", svc),
                ("code", code),
                (label::QUERY_PART, Func::Increase.as_str()),
            ],
            value,
        )
    };
    let union = vec![
        part("a", "500", 1.0),
        part("a", "200", 9.0),
        part("b", "503", 2.0),
        part("b", "200", 18.0),
        part("c", "200", 30.0),
    ];
    let answers = BTreeMap::from([(promql.clone(), Ok(union))]);
    let (out, refused) = assemble(&fusion, answers.clone(), &BTreeSet::new());
    assert!(refused.is_empty());
    let total = |i: usize, p: Part| -> f64 {
        out[&(i, day)]
            .as_ref()
            .expect("answered")
            .iter()
            .filter(|s| value(s, label::QUERY_PART) == p.as_str())
            .map(|s| s.value)
            .sum()
    };
    assert_eq!(
        [
            total(0, Part::Bad),
            total(1, Part::Bad),
            total(2, Part::Bad)
        ],
        [1.0, 2.0, 0.0]
    );
    assert_eq!(
        [
            total(0, Part::Total),
            total(1, Part::Total),
            total(2, Part::Total)
        ],
        [10.0, 20.0, 30.0]
    );
}
