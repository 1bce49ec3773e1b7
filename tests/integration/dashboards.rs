//! Generated Grafana dashboards: Grafana's own schema types accept them (and reject
//! a broken one, naming the panel), and every panel query returns data from a real
//! Prometheus holding backfilled history and scraping a running `slogate serve`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{free_port, http, wait_for, Prometheus, Slogate};
use crate::history;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs the schema check; `(success, output)`.
fn schema_check(files: &[String]) -> (bool, String) {
    let tsc = Path::new(ROOT).join("tools/grafana-schema/node_modules/.bin/tsc");
    assert!(
        tsc.exists(),
        "Grafana's schema types are not installed: run npm ci --prefix tools/grafana-schema (or bash scripts/install-deps.sh)"
    );
    crate::harness::run(
        Command::new("node")
            .arg("tools/grafana-schema/check.mjs")
            .args(files),
        "node (apt-get install -y nodejs)",
    )
}

#[test]
fn dashboards_match_grafanas_schema_types() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new(crate::harness::slogate_bin())
        .current_dir(ROOT)
        .args([
            "generate",
            "--config.file=tests/fixtures/config/everything.good.yaml",
            &format!("--output.dir={}", dir.path().display()),
        ])
        .status()
        .expect("generate");
    assert!(status.success());
    let mut files: Vec<String> = ["slogate-overview.json", "slogate-slo-detail.json"]
        .iter()
        .map(|f| format!("{ROOT}/dashboards/{f}"))
        .collect();
    files.extend(
        ["slogate-overview.json", "slogate-slo-detail.json"]
            .iter()
            .map(|f| format!("{}/dashboards/{f}", dir.path().display())),
    );
    let (ok, report) = schema_check(&files);
    assert!(ok, "{report}");
    assert!(report.starts_with("OK: 4 dashboard(s)"), "{report}");
    // The config with a launch block gets the checkpoint panel.
    let overview =
        std::fs::read_to_string(dir.path().join("dashboards/slogate-overview.json")).expect("read");
    assert!(overview.contains("\"title\": \"Launch checkpoints\""));
    // A calendar SLO gets "this month so far" panels on both dashboards.
    let detail = std::fs::read_to_string(dir.path().join("dashboards/slogate-slo-detail.json"))
        .expect("read");
    for d in [&overview, &detail] {
        for title in [
            "This month so far: SLI",
            "This month so far: elapsed",
            "Projected SLI at month end",
        ] {
            assert!(d.contains(&format!("\"title\": \"{title}\"")), "{title}");
        }
        // Only the calendar SLO (JSON escapes the quotes).
        assert!(d.contains(r#"slogate_slo_projected_sli_ratio{service"#));
        assert!(d.contains(r#"slo=~\"latency-1s\"}"#));
    }
    // The committed dashboards (examples/slogate.yaml has no calendar SLO) do not.
    let committed =
        std::fs::read_to_string(format!("{ROOT}/dashboards/slogate-overview.json")).expect("read");
    assert!(!committed.contains("so far"));
}

#[test]
fn a_broken_dashboard_fails_the_check_naming_the_panel() {
    let mut d: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{ROOT}/dashboards/slogate-overview.json")).expect("read"),
    )
    .expect("json");
    let panels = d["panels"].as_array_mut().expect("panels");
    // A misspelled key, a wrong type and a bad enum value.
    let options = panels[1]["options"].as_object_mut().expect("options");
    let mode = options.remove("colorMode").expect("colorMode");
    options.insert("colourMode".into(), mode);
    panels[2]["gridPos"]["h"] = Value::from("4");
    panels[3]["options"]["graphMode"] = Value::from("sparkline");
    // An annotation query may hold its datasource's fields (expr), not wrong types.
    d["annotations"]["list"][1]["enable"] = Value::from("yes");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("broken.json");
    std::fs::write(&file, serde_json::to_string_pretty(&d).expect("json")).expect("write");
    let (ok, report) = schema_check(&[file.display().to_string()]);
    assert!(!ok, "{report}");
    let name = file.display();
    for want in [
        format!("{name}: panel 2 \"Ready\" options: TS2353: Object literal may only specify known properties, and '\"colourMode\"' does not exist"),
        format!("{name}: panel 3 \"Launch score\": TS2322: Type 'string' is not assignable to type 'number'."),
        format!("{name}: panel 4 \"Prometheus\" options: TS2322: Type '\"sparkline\"' is not assignable to type '\"none\" | \"area\" | \"line\"'."),
        format!("{name}: annotation \"Firing SLO alerts\": TS2322: Type 'string' is not assignable to type 'boolean'."),
    ] {
        assert!(report.contains(&want), "missing {want:?} in:\n{report}");
    }
}

#[test]
fn every_panel_query_returns_data_from_prometheus_and_slogate() {
    let example = format!("{ROOT}/examples/slogate.yaml");
    let slogate_port = free_port();
    let prom = Prometheus::start(
        &format!(
            "global: {{scrape_interval: 1s}}\nscrape_configs:\n  - job_name: slogate\n    static_configs: [{{targets: ['127.0.0.1:{slogate_port}']}}]\n"
        ),
        Some(&history::tsdb()),
    );
    let _slogate = Slogate::serve_on(
        slogate_port,
        Path::new(&example),
        &[
            &format!("--prometheus.url={}", prom.url()),
            &format!("--at={}", history::end_rfc3339()),
        ],
    );
    let query = |promql: &str| -> Vec<Value> {
        let text = http()
            .post(format!("{}/api/v1/query", prom.url()))
            .form(&[("query", promql)])
            .send()
            .and_then(|r| r.text())
            .expect("query Prometheus");
        let body: Value = serde_json::from_str(&text).expect("Prometheus JSON");
        assert_eq!(body["status"], "success", "{promql}: {body}");
        body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    // rate() needs two scrapes of slogate.
    wait_for("two scrapes of slogate", Duration::from_secs(60), || {
        let r = query("count_over_time(slogate_ready[1m])");
        r.first()
            .and_then(|s| s["value"][1].as_str())
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|n| *n >= 3.0)
    });
    let mut checked = 0;
    for file in ["slogate-overview.json", "slogate-slo-detail.json"] {
        let d: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{ROOT}/dashboards/{file}")).expect("read"),
        )
        .expect("json");
        for (panel, promql) in slogate::generate::dashboards::queries(&d, "checkout", "latency") {
            let result = query(&promql);
            assert!(
                !result.is_empty(),
                "{file}: panel {panel:?} returned nothing for {promql}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} queries");
    // Every service gets a row, the probe-only one (platform) too: the service
    // variable reads a series slogate exports for every result.
    for file in ["slogate-overview.json", "slogate-slo-detail.json"] {
        let d: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{ROOT}/dashboards/{file}")).expect("read"),
        )
        .expect("json");
        let variable = d["templating"]["list"]
            .as_array()
            .expect("variables")
            .iter()
            .find(|v| v["name"] == "service")
            .expect("a service variable");
        let text = variable["query"]["query"]
            .as_str()
            .or_else(|| variable["query"].as_str())
            .expect("query text");
        let metric = text
            .strip_prefix("label_values(")
            .and_then(|t| t.split(',').next())
            .unwrap_or_else(|| panic!("{file}: {text}"));
        let services: Vec<String> = query(&format!("group by (service) ({metric})"))
            .iter()
            .filter_map(|s| s["metric"]["service"].as_str().map(String::from))
            .collect();
        assert!(
            services.iter().any(|s| s == "platform"),
            "{file}: the service variable ({text}) misses the probe's service: {services:?}"
        );
    }
}
