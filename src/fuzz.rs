//! Bounded fuzzing of the two inputs slogate does not control: config files and
//! Prometheus answers. Generated documents mix the real field names with wrong
//! types, extreme numbers, deep nesting and odd unicode; nothing may panic, and
//! an accepted config must plan its queries, alert tiers and generated files.
//! `SLOGATE_FUZZ_CASES` sets the cases per property (CI: the default; longer:
//! `scripts/fuzz.sh`).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Number, Value};

use crate::config::wire::KNOWN_FIELDS;

fn cases(default: u32) -> u32 {
    std::env::var("SLOGATE_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

/// Texts that have broken parsers before: durations past every bound, numbers
/// past f64, PromQL fragments, control and bidi characters, long runs.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{0,12}",
        "[0-9]{1,25}(ms|s|m|h|d|w|y)",
        "-?[0-9]{1,4}(\\.[0-9]{0,30})?(e[+-]?[0-9]{1,4})?",
        "(1e309|-1e309|NaN|nan|Inf|-Inf|0x1p-1074|9223372036854775808)",
        "[a-z_]{1,8}\\{[a-z]{1,4}(=|!=|=~|!~)\"[^\"]{0,8}\"\\}(\\[[0-9]{1,6}[smhdwy]\\])?",
        "(sum|rate|increase|histogram_quantile|label_replace)\\([a-z_{}\\[\\]0-9\" ,]{0,24}\\)?",
        "\\PC{0,16}",
        ".{0,8}[\u{0}-\u{1f}\u{202e}\u{feff}\u{fffd}].{0,8}",
        Just("a".repeat(5000)),
        Just("2026-11-22T09:00:00Z".to_string()),
        Just("99999-12-31T23:59:59Z".to_string()),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(KNOWN_FIELDS).prop_map(str::to_string),
        1 => text(),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A config that is mostly right: a valid base with generated values put at
/// real paths (so parsing gets past the first field), or a wholly generated one.
fn config_text() -> impl Strategy<Value = String> {
    let base = serde_json::json!({
        "apiVersion": "slogate/v1",
        "launch": {"at": "2026-11-22T09:00:00Z", "checkpoints": ["1h", "24h"]},
        "slos": [
            {"name": "a", "objective": 99.9, "group_by": ["service"],
             "sli": {"ratio": {"errors": "http_requests_total{code=~\"5..\"}", "total": "http_requests_total"}}},
            {"name": "b", "objective": 95, "sli": {"latency": {"histogram": "h_seconds", "threshold": "200ms"}}},
            {"name": "c", "service": "p", "sli": {"threshold": {"query": "vector(1)", "op": "<", "value": 2}}}
        ]
    });
    let paths: &[&[&str]] = &[
        &["defaults"],
        &["evaluation"],
        &["prometheus"],
        &["alerting"],
        &["launch", "checkpoints"],
        &["launch", "at"],
        &["slos", "0", "objective"],
        &["slos", "0", "window"],
        &["slos", "0", "group_by"],
        &["slos", "0", "sli", "ratio"],
        &["slos", "0", "alerting"],
        &["slos", "1", "sli", "latency", "threshold"],
        &["slos", "1", "min_events"],
        &["slos", "2", "sli", "threshold", "value"],
        &["slos", "2", "labels"],
        &["slos"],
    ];
    prop_oneof![
        4 => (proptest::sample::select(paths), value(), any::<bool>()).prop_map(move |(path, v, yaml)| {
            let mut doc = base.clone();
            let mut at = &mut doc;
            for (i, p) in path.iter().enumerate() {
                let last = i + 1 == path.len();
                at = match p.parse::<usize>() {
                    Ok(n) => &mut at[n],
                    Err(_) if last => {
                        at[*p] = v.clone();
                        break;
                    }
                    Err(_) => &mut at[*p],
                };
                if last {
                    *at = v.clone();
                }
            }
            if yaml {
                serde_norway::to_string(&doc).unwrap_or_default()
            } else {
                doc.to_string()
            }
        }),
        1 => value().prop_map(|v| v.to_string()),
        1 => text(),
    ]
}

/// A Prometheus answer: the right envelope with generated insides, or anything.
fn api_body() -> impl Strategy<Value = Vec<u8>> {
    let sample = (
        proptest::collection::btree_map(text(), text(), 0..4),
        value(),
        proptest::collection::vec(value(), 0..4),
    )
        .prop_map(|(metric, v, values)| {
            serde_json::json!({"metric": metric, "value": v, "values": values})
        });
    let envelope = (
        prop_oneof![
            Just("success".to_string()),
            Just("error".to_string()),
            text()
        ],
        prop_oneof![
            Just("vector".to_string()),
            Just("matrix".to_string()),
            Just("scalar".to_string()),
            Just("string".to_string()),
            text()
        ],
        proptest::collection::vec(sample, 0..5),
        value(),
        proptest::collection::vec(text(), 0..3),
    )
        .prop_map(|(status, kind, result, stats, warnings)| {
            serde_json::json!({
                "status": status,
                "data": {"resultType": kind, "result": result, "stats": stats},
                "warnings": warnings,
                "errorType": "bad_data",
                "error": "x",
            })
            .to_string()
            .into_bytes()
        });
    prop_oneof![
        6 => envelope,
        1 => value().prop_map(|v| v.to_string().into_bytes()),
        1 => proptest::collection::vec(any::<u8>(), 0..256),
    ]
}

fn run<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value)) {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..Config::default()
    });
    runner
        .run(&strategy, |v| {
            test(v);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Any config text is a config or a config error; an accepted one plans its
/// queries and tiers and generates its rules and dashboards.
#[test]
fn fuzz_configs_never_panic() {
    run(cases(1_500), config_text(), |text| {
        if let Ok(config) = crate::config::parse("x.yaml", &text) {
            for slo in &config.slos {
                let _ = slo.plan(slo.window);
                let _ = slo.tiers();
            }
            let spec = crate::generate::Spec {
                slos: &config.slos,
                interval: config.evaluation.interval,
                has_launch: config.launch.is_some(),
            };
            let links = crate::generate::Routing {
                grafana_url: "http://g".into(),
                runbook_url: "http://r".into(),
                page_severity: "page".into(),
                ticket_severity: "ticket".into(),
                labels: Default::default(),
            };
            let _ = crate::generate::all(&spec, &links, "x.yaml");
        }
    });
}

/// Any answer is samples or an error; no status code or body panics.
#[test]
fn fuzz_prometheus_answers_never_panic() {
    run(
        cases(3_000),
        (
            api_body(),
            prop_oneof![Just(200u16), Just(400), Just(422), Just(503), 100u16..600],
        ),
        |(body, status)| {
            let _ = crate::prom::parse_response(status, &body);
            let _ = crate::prom::parse_range_response(status, &body);
        },
    );
}
