//! Baselines against the designed history: a baseline saved three hours before
//! the end (before checkout's 20× error burst and its slow last half hour)
//! flags exactly checkout's availability and latency at the end; one saved and
//! compared at the same instant flags nothing.

use serde_json::Value;

use crate::harness::run_slogate;
use crate::history::{end, end_rfc3339, minute, MINUTE};
use crate::known_answer::{history_prometheus, result};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/slogate.yaml");

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// Errors over requests of a service in `(at - window, at]`, from the design.
fn error_ratio(service: &str, at: i64, window: i64) -> f64 {
    let (mut errors, mut requests) = (0, 0);
    let mut t = at - window + MINUTE;
    while t <= at {
        let m = minute(service, t);
        errors += m.errors;
        requests += m.requests;
        t += MINUTE;
    }
    errors as f64 / requests as f64
}

#[test]
fn a_baseline_before_the_regression_flags_only_the_regressed_slos() {
    let prom = history_prometheus();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("baseline.json");
    let before = end() - 3 * 3600;
    let url = format!("--prometheus.url={}", prom.url());
    let config = format!("--config.file={EXAMPLE}");
    let out = run_slogate(&[
        "baseline",
        "save",
        &config,
        &url,
        &format!("--at={before}"),
        &format!("--output={}", file.display()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("baseline file"))
            .expect("JSON");
    assert_eq!(saved["version"], 1);
    let entry = saved["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|e| e["slo"] == "availability" && e["labels"]["service"] == "checkout")
        .expect("availability/checkout");
    let then = entry["figures"]["error_ratio_1h"].as_f64().expect("figure");
    assert!(
        (then - error_ratio("checkout", before, 3600)).abs() < 1e-12,
        "{then}"
    );
    assert!(
        entry["figures"]["event_rate_5m"]
            .as_f64()
            .is_some_and(|r| (r - 100.0 / 60.0).abs() < 1e-9),
        "{entry}"
    );

    let out = run_slogate(&[
        "check",
        &config,
        &url,
        &format!("--at={}", end_rfc3339()),
        &format!("--baseline={}", file.display()),
        "--output=json",
    ]);
    assert_eq!(out.status.code(), Some(1), "the designed fails remain");
    let doc = json(&out);
    let mut flagged = Vec::new();
    let compared = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["baseline"].is_object())
        .count();
    // Every measured result (not insufficient_data) is compared.
    let measured = |doc: &Value| {
        doc["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter(|r| r["state"] != "insufficient_data")
            .count()
    };
    assert_eq!(
        compared,
        measured(&doc),
        "results compared with the baseline"
    );
    assert_eq!(compared, 14, "17 results, 3 of them insufficient_data");
    for r in doc["results"].as_array().expect("results") {
        let b = &r["baseline"];
        if r["slo"] == "backups-fresh" || r["state"] == "insufficient_data" {
            continue;
        }
        assert_eq!(b["at"], crate::history::rfc3339(before), "{r}");
        if b["regression"] == true {
            flagged.push(format!(
                "{}/{}",
                r["slo"].as_str().unwrap_or(""),
                r["service"].as_str().unwrap_or("")
            ));
        }
    }
    flagged.sort();
    assert_eq!(
        flagged,
        ["availability/checkout", "latency/checkout"],
        "{doc:#}"
    );
    let latency = result(&doc, "latency", "checkout");
    assert_eq!(
        latency["state"], "warn",
        "a regressed pass is a warning: {latency}"
    );
    let reason = latency["reason"].as_str().expect("reason");
    assert!(
        reason.starts_with("regressed from the baseline of "),
        "{reason}"
    );
    assert!(reason.contains("p95 (5m) "), "{reason}");
    let availability = result(&doc, "availability", "checkout");
    let now = availability["baseline"]["now"]["error_ratio_1h"]
        .as_f64()
        .expect("now");
    assert!(
        (now - error_ratio("checkout", end(), 3600)).abs() < 1e-9,
        "{now}"
    );
    assert!(
        availability["reason"]
            .as_str()
            .is_some_and(|r| r.contains("error ratio (1h) 2% vs baseline ")),
        "{availability}"
    );
    // Same instant: nothing moved, nothing flagged, every state as designed.
    let out = run_slogate(&[
        "check",
        &config,
        &url,
        &format!("--at={}", end_rfc3339()),
        &format!("--baseline.at={}", end_rfc3339()),
        "--output=json",
    ]);
    let same = json(&out);
    crate::known_answer::assert_designed(&same);
    let blocks = same["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["baseline"].is_object())
        .count();
    assert_eq!(
        blocks,
        measured(&same),
        "results compared with the baseline"
    );
    for r in same["results"].as_array().expect("results") {
        let b = &r["baseline"];
        if b.is_null() {
            continue;
        }
        assert_eq!(b["regression"], false, "{r}");
        assert_eq!(b["then"], b["now"], "{r}");
    }
}

#[test]
fn the_tolerance_is_configurable_per_slo_and_checked() {
    let prom = history_prometheus();
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(EXAMPLE).expect("example").replace(
        "  - name: latency\n",
        "  - name: latency\n    baseline:\n      tolerance:\n        latency: 10\n        error_ratio: 100\n",
    );
    let config = dir.path().join("slogate.yaml");
    std::fs::write(&config, &text).expect("write");
    let out = run_slogate(&[
        "check",
        &format!("--config.file={}", config.display()),
        &format!("--prometheus.url={}", prom.url()),
        &format!("--at={}", end_rfc3339()),
        &format!("--baseline.at={}", end() - 3 * 3600),
        "--output=json",
    ]);
    let doc = json(&out);
    assert_eq!(
        result(&doc, "latency", "checkout")["baseline"]["regression"],
        false
    );
    assert_eq!(result(&doc, "latency", "checkout")["state"], "pass");
    assert_eq!(
        result(&doc, "availability", "checkout")["baseline"]["regression"],
        true
    );

    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        text.replace(
            "        latency: 10\n        error_ratio: 100\n",
            "        latency: -1\n        error_ratio: 0.5\n",
        ),
    )
    .expect("write");
    let out = run_slogate(&[
        "validate",
        "--offline",
        &format!("--config.file={}", bad.display()),
    ]);
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("slos[1].baseline.tolerance.error_ratio: 0.5 is not a factor of at least 1"),
        "{err}"
    );
    assert!(
        err.contains("slos[1].baseline.tolerance.latency: -1 is not a fraction above 0"),
        "{err}"
    );
}

/// `launch.baseline: 24h`: once launch + 24h has passed, `serve` records the
/// baseline as of that instant and compares every evaluation with it, in its
/// gauges and on the status page; before then there is none.
#[test]
fn serve_compares_with_the_launch_baseline_once_it_is_due() {
    let prom = history_prometheus();
    let dir = tempfile::tempdir().expect("tempdir");
    let example = std::fs::read_to_string(EXAMPLE).expect("example");
    let with_launch = |launch_at: i64| {
        let path = dir.path().join(format!("launch-{launch_at}.yaml"));
        let text = example.replace(
            "slos:\n",
            &format!(
                "launch:\n  at: {}\n  checkpoints: [1h, 24h]\n  baseline: 24h\nslos:\n",
                crate::history::rfc3339(launch_at)
            ),
        );
        std::fs::write(&path, text).expect("write");
        path
    };
    let url = format!("--prometheus.url={}", prom.url());
    let at = format!("--at={}", end_rfc3339());
    // Launched 27 hours before the end: the baseline is as of 3 hours before.
    let due = crate::harness::Slogate::serve(&with_launch(end() - 27 * 3600), &[&url, &at]);
    let metrics = due.metrics();
    let p95 = crate::harness::metric_value(
        &metrics,
        "slogate_slo_baseline_ratio",
        &[
            ("slo", "latency"),
            ("service", "checkout"),
            ("figure", "p95_5m"),
        ],
    )
    .expect("baseline gauge");
    assert!(p95 > 1.2, "p95 now over then: {p95}");
    let catalog = crate::harness::metric_value(
        &metrics,
        "slogate_slo_baseline_ratio",
        &[
            ("slo", "latency"),
            ("service", "catalog"),
            ("figure", "p95_30d"),
        ],
    )
    .expect("baseline gauge");
    assert!(
        (catalog - 1.0).abs() < 0.01,
        "catalog's 30d p95 barely moved: {catalog}"
    );
    let status = due.status();
    assert_eq!(result(&status, "latency", "checkout")["state"], "warn");
    let page = crate::harness::chromium(
        &dir.path().join("chromium"),
        &["--virtual-time-budget=3000", "--dump-dom", &due.url("/")],
    );
    let regressed = page
        .split("class=\"small baseline\" data-regression=\"true\">")
        .skip(1)
        .map(|s| s.split('<').next().unwrap_or_default().to_string())
        .collect::<Vec<_>>();
    assert_eq!(regressed.len(), 2, "{regressed:?}");
    assert!(
        regressed.iter().any(|r| r.contains("p95 (5m)")),
        "{regressed:?}"
    );
    assert!(
        page.contains("data-regression=\"false\">vs baseline of "),
        "{page}"
    );

    // Launched 23 hours before the end: no baseline yet.
    let early = crate::harness::Slogate::serve(&with_launch(end() - 23 * 3600), &[&url, &at]);
    assert!(!early.metrics().contains("slogate_slo_baseline_ratio{"));
    assert!(early.status()["results"][0].get("baseline").is_none());
}
