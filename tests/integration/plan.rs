//! The query planner against a real Prometheus: SLOs fused into shared queries
//! report exactly what their own queries report, for fewer queries and samples.

use serde_json::Value;

use crate::harness::{run_slogate, Prometheus};
use crate::history::{self, end, DAY};
use crate::known_answer::assert_designed;

const MIXED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/plan/mixed.yaml"
);

fn check(prom: &Prometheus, at: i64, plan: &str) -> Value {
    let out = run_slogate(&[
        "check",
        &format!("--config.file={MIXED}"),
        &format!("--prometheus.url={}", prom.url()),
        &format!("--at={at}"),
        &format!("--plan={plan}"),
        "--output=json",
    ]);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// Every leaf of `a` and `b` equal, numbers to 1e-9 relative; the queries each
/// result lists and the cost are what differ by design.
fn assert_same(a: &Value, b: &Value, path: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys = |o: &serde_json::Map<String, Value>| -> Vec<String> {
                o.keys()
                    .filter(|k| !["queries", "cost"].contains(&k.as_str()))
                    .cloned()
                    .collect()
            };
            assert_eq!(keys(x), keys(y), "{path}");
            for k in keys(x) {
                assert_same(&x[&k], &y[&k], &format!("{path}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                assert_same(x, y, &format!("{path}[{i}]"));
            }
        }
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().expect("f64"), y.as_f64().expect("f64"));
            assert!(
                (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-300),
                "{path}: fused {x}, naive {y}"
            );
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

fn results_named<'a>(doc: &'a Value, slo: &str) -> Vec<&'a Value> {
    doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["slo"] == slo)
        .collect()
}

/// Each (metric, window) is read by one query, or by two halves for windows of
/// a day or more, besides the queries of the SLO the planner must leave alone.
fn assert_each_read_once(doc: &Value) {
    let read = regex::Regex::new(r"\((\w+)(?:\{[^}]*\})?\[(\w+)\]\)").expect("regex");
    let mut by_read: std::collections::BTreeMap<(String, String), Vec<String>> =
        std::collections::BTreeMap::new();
    for r in doc["results"].as_array().expect("results") {
        if r["slo"] == "perl-class" {
            continue;
        }
        for q in r["queries"].as_array().expect("queries") {
            let q = q.as_str().expect("query");
            for c in read.captures_iter(q) {
                let queries = by_read
                    .entry((c[1].to_string(), c[2].to_string()))
                    .or_default();
                if !queries.iter().any(|have| have == q) {
                    queries.push(q.to_string());
                }
            }
        }
    }
    assert!(by_read.len() > 30, "{by_read:#?}");
    let mut split = 0;
    for ((metric, window), queries) in by_read {
        let long = window.ends_with('d') || window.ends_with('w');
        let most = if long { 2 } else { 1 };
        assert!(
            (1..=most).contains(&queries.len()),
            "{metric}[{window}] is read by {queries:#?}"
        );
        split += usize::from(queries.len() == 2);
    }
    assert!(split > 0, "no long read was split in two");
}

#[test]
fn fused_and_naive_plans_report_the_same_figures() {
    let prom = Prometheus::start(
        "global: {scrape_interval: 1m}\nscrape_configs: []\n",
        Some(&history::tsdb()),
    );
    // The end of the history (the known answers), and a day and a half before
    // (other traffic in every window).
    for at in [end(), end() - 3 * DAY / 2] {
        let fused = check(&prom, at, "fused");
        let naive = check(&prom, at, "naive");
        assert_same(&fused, &naive, "$");
        let cost = |doc: &Value, what: &str| doc["cost"][what].as_u64().expect("cost");
        for what in ["queries", "samples"] {
            assert!(
                cost(&fused, what) < cost(&naive, what),
                "{what}: fused {:#} naive {:#}",
                fused["cost"],
                naive["cost"]
            );
        }
        assert_each_read_once(&fused);
    }
    let fused = check(&prom, end(), "fused");
    assert_designed(&fused);
    // The example's availability shares its reads with three SLOs over the same
    // metric: one query per window keeps every label any of them needs.
    let availability = results_named(&fused, "availability")[0]["queries"].to_string();
    assert!(
        availability.contains("sum by (code, route, service) (increase(http_requests_total[30d]))"),
        "{availability}"
    );
    // `\d` is read differently by Rust and RE2: that SLO keeps its own queries.
    let perl = results_named(&fused, "perl-class")[0]["queries"]
        .as_array()
        .expect("queries")
        .clone();
    assert_eq!(perl.len(), 8, "{perl:?}");
    assert!(perl
        .iter()
        .all(|q| q.as_str().expect("query").contains(r#"code=~"5\\d\\d""#)));
}
