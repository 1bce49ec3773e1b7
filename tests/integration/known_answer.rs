//! Known answers: `check --at end()` and `serve --at end()` against a real Prometheus
//! holding designed history must report the designed SLIs, budgets, burn rates and
//! states to 1e-9.

use serde_json::Value;

use crate::harness::{metric_value, run_slogate, Prometheus, Slogate};
use crate::history::{self, end, end_rfc3339, up_samples_on, window_sum, Backend, DAY};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/slogate.yaml");
const WINDOW: i64 = 30 * DAY;
const BURN_WINDOWS: [(&str, i64); 7] = [
    ("5m", 300),
    ("30m", 1800),
    ("1h", 3600),
    ("2h", 7200),
    ("6h", 21600),
    ("1d", DAY),
    ("3d", 3 * DAY),
];

fn close(got: &Value, want: f64, what: &str) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {got} is not a number"));
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

pub fn result<'a>(doc: &'a Value, slo: &str, service: &str) -> &'a Value {
    doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["slo"] == slo && r["service"] == service)
        .unwrap_or_else(|| panic!("no result for {slo}/{service} in {doc:#}"))
}

/// The expected (bad, total) of an SLO for a service over a window.
pub fn bad_total(slo: &str, service: &str, window: i64) -> (f64, f64) {
    bad_total_on(Backend::Prometheus, slo, service, window)
}

/// The expected (bad, total) as `backend` counts them.
pub fn bad_total_on(backend: Backend, slo: &str, service: &str, window: i64) -> (f64, f64) {
    let m = window_sum(service, window);
    match slo {
        "availability" => (m.errors as f64, m.requests as f64),
        "latency" => ((m.latency[2] + m.latency[3]) as f64, m.requests as f64),
        "cache-hit" => (m.misses as f64, (m.hits + m.misses) as f64),
        "uptime" => {
            let (sum, count) = up_samples_on(backend, service, window);
            ((count - sum) as f64, count as f64)
        }
        other => panic!("no design for {other}"),
    }
}

fn objective(slo: &str) -> f64 {
    match slo {
        "availability" | "uptime" => 0.999,
        "latency" => 0.95,
        "cache-hit" => 0.90,
        other => panic!("no objective for {other}"),
    }
}

/// histogram_quantile's linear interpolation over the designed buckets.
fn quantile(q: f64, service: &str, window: i64) -> f64 {
    let m = window_sum(service, window);
    let total = m.requests as f64;
    let rank = q * total;
    let mut lower = 0.0;
    let mut below = 0.0;
    for (i, upper) in history::BUCKETS.iter().enumerate() {
        let count = below + m.latency[i] as f64;
        if rank <= count {
            return lower + (upper - lower) * (rank - below) / (count - below);
        }
        lower = *upper;
        below = count;
    }
    lower
}

/// The designed verdicts.
const STATES: [(&str, &str, &str); 15] = [
    ("availability", "checkout", "warn"),
    ("availability", "search", "fail"),
    ("availability", "catalog", "pass"),
    ("availability", "inventory", "insufficient_data"),
    ("latency", "checkout", "pass"),
    ("latency", "search", "pass"),
    ("latency", "catalog", "fail"),
    ("uptime", "checkout", "pass"),
    ("uptime", "search", "fail"),
    ("uptime", "catalog", "pass"),
    ("uptime", "inventory", "pass"),
    ("cache-hit", "checkout", "pass"),
    ("cache-hit", "search", "fail"),
    ("cache-hit", "catalog", "warn"),
    ("cache-hit", "inventory", "insufficient_data"),
];

pub fn assert_designed(doc: &Value) {
    assert_designed_on(Backend::Prometheus, doc);
}

/// The designed answers, as `backend` selects samples.
pub fn assert_designed_on(backend: Backend, doc: &Value) {
    assert_eq!(doc["evaluated_at"], end_rfc3339());
    assert_eq!(doc["ready"], false);
    for (slo, service, state) in STATES {
        let r = result(doc, slo, service);
        let what = format!("{slo}/{service}");
        assert_eq!(r["state"], state, "{what}: {}", r["reason"]);
        assert_eq!(r["window"], "30d", "{what}");
        close(
            &r["objective"],
            objective(slo),
            &format!("{what} objective"),
        );
        let (bad, total) = bad_total_on(backend, slo, service, WINDOW);
        close(&r["events"], total, &format!("{what} events"));
        if state == "insufficient_data" {
            assert_eq!(r["sli"], Value::Null, "{what}");
            assert_eq!(r["error_budget_remaining"], Value::Null, "{what}");
            assert_eq!(r["reason"], "0 events in 30d, fewer than min_events 100");
            continue;
        }
        close(&r["sli"], (total - bad) / total, &format!("{what} sli"));
        let budget = 1.0 - objective(slo);
        close(
            &r["error_budget_remaining"],
            1.0 - (bad / total) / budget,
            &format!("{what} budget"),
        );
        for (name, w) in BURN_WINDOWS {
            let (b, t) = bad_total_on(backend, slo, service, w);
            close(
                &r["burn_rates"][name],
                b / t / budget,
                &format!("{what} burn {name}"),
            );
        }
    }
    // The reason names the burn SPEC's example names.
    assert_eq!(
        result(doc, "availability", "checkout")["reason"],
        "page-level burn: 1h 20.0 and 5m 20.0 over 14.4"
    );
    assert_eq!(
        result(doc, "cache-hit", "catalog")["reason"],
        "error budget 20% remaining, under 25%"
    );
    for service in ["checkout", "search", "catalog"] {
        let r = result(doc, "latency", service);
        for (window, seconds) in [("5m", 300), ("1h", 3600), ("30d", WINDOW)] {
            for q in ["0.95", "0.99"] {
                close(
                    &r["latency_seconds"][window][q],
                    quantile(q.parse().expect("quantile"), service, seconds),
                    &format!("{q} over {window} of {service}"),
                );
            }
        }
    }
    // Checkout slowed down half an hour ago: the 5m p95 shows it, the 30d one hides it.
    // (slogate computes quantiles from its bucket increases; the test beside
    // this one checks them against Prometheus' own histogram_quantile.)
    let checkout = &result(doc, "latency", "checkout")["latency_seconds"];
    assert!(checkout["5m"]["0.95"].as_f64() > Some(0.4), "{checkout}");
    assert!(checkout["30d"]["0.95"].as_f64() < Some(0.2), "{checkout}");
    let backups = result(doc, "backups-fresh", "platform");
    close(
        &backups["value"],
        (end() - history::last_backup(end())) as f64,
        "backup age",
    );
    assert_eq!(backups["state"], "pass");
    assert_eq!(backups["error_budget_remaining"], Value::Null);
    assert_eq!(doc["services"]["checkout"], true, "warn is ready");
    assert_eq!(doc["services"]["search"], false);
    assert_eq!(
        doc["services"]["inventory"], false,
        "insufficient data is never ready"
    );
    assert_eq!(doc["services"]["platform"], true);
}

pub fn history_prometheus() -> Prometheus {
    Prometheus::start(
        "global: {scrape_interval: 1m}\nscrape_configs: []\n",
        Some(&history::tsdb()),
    )
}

/// `check --output=json` of the example at the end of history against the
/// server at `url`: it exits 1 (the design has fails) and shows no NaN.
pub fn designed_check(url: &str) -> Value {
    let out = run_slogate(&[
        "check",
        &format!("--config.file={EXAMPLE}"),
        &format!("--prometheus.url={url}"),
        &format!("--at={}", end_rfc3339()),
        "--output=json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "any fail exits 1; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("NaN"), "NaN in output: {stdout}");
    serde_json::from_str(&stdout).expect("check JSON")
}

#[test]
fn check_json_matches_the_designed_history() {
    let prom = history_prometheus();
    let doc = designed_check(&prom.url());
    assert_designed(&doc);
    assert_cost_is_what_prometheus_reports(&doc, &prom);
}

/// `cost` counts every query once and reports the samples Prometheus itself says
/// those queries read (`stats=all`), summed.
fn assert_cost_is_what_prometheus_reports(doc: &Value, prom: &Prometheus) {
    let mut queries: Vec<(String, String)> = Vec::new();
    for r in doc["results"].as_array().expect("results") {
        for q in r["queries"].as_array().expect("queries") {
            let key = (r["slo"].to_string(), q.as_str().expect("query").to_string());
            if !queries.contains(&key) {
                queries.push(key);
            }
        }
    }
    assert_eq!(doc["cost"]["queries"], queries.len(), "{:#}", doc["cost"]);
    let samples: u64 = queries
        .iter()
        .map(|(_, q)| {
            let answer: Value = crate::harness::http()
                .post(format!("{}/api/v1/query", prom.url()))
                .form(&[
                    ("query", q.as_str()),
                    ("time", &end().to_string()),
                    ("stats", "all"),
                ])
                .send()
                .and_then(|r| r.text())
                .map(|body| serde_json::from_str(&body).expect("JSON"))
                .expect("stats answer");
            answer["data"]["stats"]["samples"]["totalQueryableSamples"]
                .as_u64()
                .expect("totalQueryableSamples")
        })
        .sum();
    assert!(samples > 1_000_000, "{samples}");
    assert_eq!(doc["cost"]["samples"], samples, "{:#}", doc["cost"]);
    assert!(doc["cost"]["prometheus_eval_seconds"].as_f64() > Some(0.0));
}

#[test]
fn unix_seconds_at_gives_the_same_table() {
    let prom = history_prometheus();
    let run = |at: String| {
        let out = run_slogate(&[
            "check",
            &format!("--config.file={EXAMPLE}"),
            &format!("--prometheus.url={}", prom.url()),
            &format!("--at={at}"),
        ]);
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let table = run(end().to_string());
    assert_eq!(table, run(end_rfc3339().to_string()));
    let header: Vec<&str> = table
        .lines()
        .next()
        .expect("header")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "SERVICE",
            "SLO",
            "KEY",
            "OBJECTIVE",
            "SLI",
            "30d",
            "BUDGET",
            "BURN",
            "1h",
            "P95",
            "/",
            "LIMIT",
            "EVENTS",
            "STATE"
        ],
        "{table}"
    );
    let (bad, total) = bad_total("availability", "search", WINDOW);
    let row: Vec<&str> = table
        .lines()
        .find(|l| l.starts_with("search ") && l.contains("availability"))
        .expect("search availability row")
        .split_whitespace()
        .take(7)
        .collect();
    // One precision rule: three decimals, rounded down (never across the objective).
    let sli = format!(
        "{:.3}",
        ((total - bad) / total * 100_000.0).floor() / 1000.0
    );
    let sli = format!("{}%", sli.trim_end_matches('0').trim_end_matches('.'));
    assert_eq!(
        row,
        [
            "search",
            "availability",
            "yes",
            "99.9%",
            sli.as_str(),
            row[5],
            row[6]
        ]
    );
    assert!(
        row[5].starts_with('-'),
        "overspent budget is negative: {row:?}"
    );
    // Columns line up: every row's SLO column starts where the header's does.
    let slo_col = table.find("SLO").expect("SLO column");
    assert!(table
        .lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| !l.starts_with("    ↳ "))
        .all(|l| l.len() > slo_col && l.as_bytes()[slo_col - 1] == b' '));
    // A failing key SLO (search availability) vetoes the launch score.
    assert!(
        table.ends_with(
            "NOT READY (score 0.0/100: vetoed by availability/search, latency/catalog, uptime/search, key SLOs)\n"
        ),
        "{table}"
    );
    for line in table.lines() {
        assert!(
            line.chars().count() <= 120,
            "wider than 120 columns: {line}"
        );
    }
    let age = end() - history::last_backup(end());
    assert!(
        table.contains(&format!(
            "CHECKLIST\n  [x] ✅ backups-fresh  pass (value {age} is < 86400)\n"
        )),
        "{table}"
    );
    assert!(!table.contains("NaN"), "{table}");
}

#[test]
fn serve_reports_the_same_through_api_and_metrics() {
    let prom = history_prometheus();
    let slogate = Slogate::serve(
        std::path::Path::new(EXAMPLE),
        &[
            &format!("--prometheus.url={}", prom.url()),
            &format!("--at={}", end_rfc3339()),
        ],
    );
    let status = slogate.status();
    assert_designed(&status);
    // Every window was read as of the replayed instant (long ones are then reused
    // for `evaluation.long_window_interval`).
    for window in ["5m", "1h", "1d", "30d"] {
        assert_eq!(status["windows_read_at"][window], end_rfc3339(), "{window}");
    }
    let metrics = slogate.metrics();
    assert!(!metrics.contains("NaN"), "{metrics}");
    let read = metric_value(&metrics, "slogate_query_samples_total", &[]).expect("samples counter");
    assert!(read > 1e6, "samples read so far: {read}");
    let (bad, total) = bad_total("availability", "search", WINDOW);
    let got = metric_value(
        &metrics,
        "slogate_slo_sli_ratio",
        &[("slo", "availability"), ("service", "search")],
    )
    .expect("sli series");
    assert!((got - (total - bad) / total).abs() < 1e-9, "{got}");
    let burn = metric_value(
        &metrics,
        "slogate_slo_burn_rate",
        &[
            ("slo", "availability"),
            ("service", "checkout"),
            ("window", "1h"),
        ],
    );
    assert!((burn.expect("burn series") - 20.0).abs() < 1e-9);
    for (slo, service, state) in STATES {
        let labels = [("slo", slo), ("service", service), ("state", state)];
        assert_eq!(
            metric_value(&metrics, "slogate_slo_state", &labels),
            Some(1.0),
            "{slo}/{service}"
        );
    }
    // 0/0 exports no SLI at all rather than NaN, and is not ready.
    assert_eq!(
        metric_value(
            &metrics,
            "slogate_slo_sli_ratio",
            &[("slo", "availability"), ("service", "inventory")]
        ),
        None
    );
    assert_eq!(
        metric_value(
            &metrics,
            "slogate_slo_events",
            &[
                ("slo", "availability"),
                ("service", "inventory"),
                ("window", "30d")
            ]
        ),
        Some(0.0)
    );
    assert_eq!(
        metric_value(
            &metrics,
            "slogate_service_ready",
            &[("service", "inventory")]
        ),
        Some(0.0)
    );
    assert_eq!(metric_value(&metrics, "slogate_ready", &[]), Some(0.0));
    assert_eq!(
        metric_value(&metrics, "slogate_prometheus_up", &[]),
        Some(1.0)
    );
    let p95 = metric_value(
        &metrics,
        "slogate_slo_latency_seconds",
        &[
            ("slo", "latency"),
            ("service", "checkout"),
            ("quantile", "0.95"),
            ("window", "1h"),
        ],
    )
    .expect("p95 series");
    assert!(
        (p95 - quantile(0.95, "checkout", 3600)).abs() < 1e-9,
        "{p95}"
    );
    let (code, page) = crate::harness::get(&slogate.url("/"));
    assert_eq!(code, 200);
    assert!(
        page.contains("NOT READY") && page.contains("data-state=\"fail\""),
        "{page}"
    );
    assert!(
        page.contains(
            "<a class=\"more\" href=\"https://runbooks.example.com/slo/availability\">runbook</a>"
        ),
        "{page}"
    );
}

pub fn check_json(prom: &Prometheus, config: &str, at: i64) -> (Option<i32>, Value) {
    let out = run_slogate(&[
        "check",
        &format!("--config.file={config}"),
        &format!("--prometheus.url={}", prom.url()),
        &format!("--at={at}"),
        "--output=json",
    ]);
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), doc)
}

/// Half an hour after the history ends every source series is gone: the 30 days
/// before are not judged as `pass`, and the reason says since when.
#[test]
fn vanished_series_are_insufficient_data_not_pass() {
    let prom = history_prometheus();
    let (code, doc) = check_json(&prom, EXAMPLE, end() + 30 * 60);
    assert_eq!(code, Some(2), "{doc:#}");
    assert_eq!(doc["ready"], false);
    for r in doc["results"].as_array().expect("results") {
        assert_eq!(r["state"], "insufficient_data", "{r:#}");
        assert_eq!(r["ready"], false);
        if r["kind"] != "threshold" {
            let reason = r["reason"].as_str().expect("reason");
            assert!(
                reason.starts_with("source series absent now (last seen between "),
                "{reason}"
            );
        }
    }
    assert_eq!(
        result(&doc, "availability", "checkout")["reason"],
        "source series absent now (last seen between 30m and 1h ago): the history before is not judged"
    );
}

/// A latency threshold between buckets (250ms on 0.1/0.2/0.5) would count every
/// request as slow: `unknown` naming the buckets, never `fail`, whatever the
/// client's spelling of the bounds.
#[test]
fn threshold_between_buckets_is_unknown_naming_the_buckets() {
    let prom = history_prometheus();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("latency.yaml");
    std::fs::write(
        &config,
        "apiVersion: slogate/v1\nslos:\n- name: latency\n  objective: 95\n  group_by: [service]\n\
         \x20 sli: {latency: {histogram: http_request_duration_seconds, threshold: 250ms}}\n",
    )
    .expect("write");
    let (code, doc) = check_json(&prom, &config.display().to_string(), end());
    assert_eq!(code, Some(2), "unknown, not fail: {doc:#}");
    for (service, buckets) in [
        ("checkout", "0.1, 0.2, 0.5, +Inf"),
        ("search", "1e-01, 0.20, 5.0e-01, +Inf"),
    ] {
        let r = result(&doc, "latency", service);
        assert_eq!(
            (&r["state"], &r["sli"]),
            (&Value::from("unknown"), &Value::Null)
        );
        assert_eq!(
            r["reason"],
            format!(
                "threshold 250ms is not a bucket boundary of http_request_duration_seconds; its buckets: {buckets}"
            )
        );
    }
}

/// slogate's quantiles (computed from the bucket increases it reads anyway) equal
/// Prometheus' own `histogram_quantile` over the same windows, to 1e-9.
#[test]
fn quantiles_equal_prometheus_histogram_quantile() {
    let prom = history_prometheus();
    let (code, doc) = check_json(&prom, EXAMPLE, end());
    assert_eq!(code, Some(1));
    let mut compared = 0;
    for (window, _) in [("5m", 300), ("1h", 3600), ("30d", WINDOW)] {
        for q in ["0.95", "0.99"] {
            let promql = format!(
                "histogram_quantile({q}, sum by (service, le) (rate(http_request_duration_seconds_bucket[{window}])))"
            );
            let body = crate::harness::http()
                .post(format!("{}/api/v1/query", prom.url()))
                .form(&[("query", promql.as_str()), ("time", &end().to_string())])
                .send()
                .and_then(|r| r.text())
                .expect("answer");
            let answer: Value = serde_json::from_str(&body).expect("JSON");
            for series in answer["data"]["result"].as_array().expect("vector") {
                let service = series["metric"]["service"].as_str().expect("service");
                let want: f64 = series["value"][1]
                    .as_str()
                    .and_then(|v| v.parse().ok())
                    .expect("value");
                let got = &result(&doc, "latency", service)["latency_seconds"][window][q];
                if want.is_nan() {
                    assert_eq!(got, &Value::Null, "{service} {window} {q}");
                } else {
                    close(got, want, &format!("{service} {window} {q}"));
                }
                compared += 1;
            }
        }
    }
    // 4 services (inventory's 0/0 is NaN there and null here), 3 windows, 2 quantiles.
    assert_eq!(compared, 24);
}
