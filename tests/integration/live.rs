//! Live runs: Prometheus scrapes `slogate simulate`, `slogate serve` judges it, and
//! the tests inject regressions, outages and config mistakes.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{get, metric_value, post, wait_for, Prometheus, Simulator, Slogate};

fn scrape_config(sim: &Simulator) -> String {
    format!(
        "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
         scrape_configs:\n  - job_name: simulate\n    static_configs: [{{targets: ['127.0.0.1:{}']}}]\n",
        sim.port
    )
}

/// A fast config: 5-minute windows, a 1-second evaluation interval.
fn fast_config(prom: &Prometheus, slos: &str) -> String {
    format!(
        "apiVersion: slogate/v1\nprometheus: {{url: '{}', timeout: 5s}}\nevaluation: {{interval: 1s}}\n\
         defaults: {{window: 5m, min_events: 50}}\nslos:\n{slos}",
        prom.url()
    )
}

const AVAILABILITY: &str = "  - name: availability
    objective: 99.9
    group_by: [service]
    sli: {ratio: {errors: 'http_requests_total{code=~\"5..\"}', total: http_requests_total}}
";
const LATENCY: &str = "  - name: latency
    objective: 95
    group_by: [service]
    sli: {latency: {histogram: http_request_duration_seconds, threshold: 200ms}}
";

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write config");
    path
}

fn state(doc: &Value, slo: &str, service: &str) -> Option<String> {
    doc["results"]
        .as_array()?
        .iter()
        .find(|r| r["slo"] == slo && r["service"] == service)
        .and_then(|r| r["state"].as_str().map(String::from))
}

fn all_states(doc: &Value) -> Vec<String> {
    doc["results"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter_map(|r| r["state"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The simulator, Prometheus scraping it, and `slogate serve` judging `slos`.
struct Live {
    sim: Simulator,
    prom: Prometheus,
    config: PathBuf,
    slogate: Slogate,
    _dir: tempfile::TempDir,
}

fn live(slos: &str) -> Live {
    let sim = Simulator::start();
    let prom = Prometheus::start(&scrape_config(&sim), None);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(&dir, "slogate.yaml", &fast_config(&prom, slos));
    let slogate = Slogate::serve(&config, &["--web.enable-lifecycle"]);
    Live {
        sim,
        prom,
        config,
        slogate,
        _dir: dir,
    }
}

#[test]
fn error_burst_turns_only_the_hit_service_red() {
    let l = live(&format!("{AVAILABILITY}{LATENCY}"));
    let (sim, slogate) = (&l.sim, &l.slogate);
    wait_for("every SLO to pass", Duration::from_secs(60), || {
        let doc = slogate.status();
        (doc["results"].as_array().map(Vec::len) == Some(6)
            && all_states(&doc).iter().all(|s| s == "pass"))
        .then_some(())
    });
    sim.set_scenario("error-burst");
    let doc = wait_for(
        "checkout availability to go red",
        Duration::from_secs(60),
        || {
            let doc = slogate.status();
            matches!(
                state(&doc, "availability", "checkout").as_deref(),
                Some("fail" | "warn")
            )
            .then_some(doc)
        },
    );
    for service in ["search", "catalog"] {
        assert_eq!(
            state(&doc, "availability", service).as_deref(),
            Some("pass"),
            "{service}"
        );
        assert_eq!(
            state(&doc, "latency", service).as_deref(),
            Some("pass"),
            "{service}"
        );
    }
    assert_eq!(state(&doc, "latency", "checkout").as_deref(), Some("pass"));
    assert_eq!(doc["services"]["checkout"], false);
    assert_eq!(doc["ready"], false);
    let metrics = slogate.metrics();
    assert_eq!(
        metric_value(
            &metrics,
            "slogate_slo_ready",
            &[("slo", "availability"), ("service", "checkout")]
        ),
        Some(0.0)
    );
    assert_eq!(
        metric_value(&metrics, "slogate_service_ready", &[("service", "search")]),
        Some(1.0)
    );
}

#[test]
fn prometheus_outage_is_unknown_and_recovers_without_restart() {
    let mut l = live(AVAILABILITY);
    let slogate = &l.slogate;
    wait_for("availability to pass", Duration::from_secs(60), || {
        let doc = slogate.status();
        (all_states(&doc).len() == 3 && all_states(&doc).iter().all(|s| s == "pass")).then_some(())
    });
    l.prom.stop();
    let doc = wait_for(
        "every state to become unknown",
        Duration::from_secs(60),
        || {
            let doc = slogate.status();
            all_states(&doc)
                .iter()
                .all(|s| s == "unknown")
                .then_some(doc)
        },
    );
    // Each known group reports unknown, with the reason, and nothing is ready.
    assert_eq!(all_states(&doc).len(), 3);
    assert_eq!(doc["ready"], false);
    assert_eq!(doc["prometheus_up"], false);
    let reason = doc["results"][0]["reason"].as_str().expect("reason");
    assert!(
        reason.starts_with("query failed: cannot reach Prometheus at http://127.0.0.1:"),
        "{reason}"
    );
    let (code, metrics) = get(&slogate.url("/metrics"));
    assert_eq!(code, 200);
    assert_eq!(
        metric_value(&metrics, "slogate_prometheus_up", &[]),
        Some(0.0)
    );
    assert_eq!(metric_value(&metrics, "slogate_ready", &[]), Some(0.0));
    assert_eq!(
        metric_value(
            &metrics,
            "slogate_slo_state",
            &[("service", "checkout"), ("state", "unknown")]
        ),
        Some(1.0)
    );
    assert!(
        metric_value(&metrics, "slogate_queries_total", &[("outcome", "error")])
            .is_some_and(|v| v > 0.0)
    );
    l.prom.restart();
    wait_for("states to recover", Duration::from_secs(60), || {
        let doc = slogate.status();
        (doc["prometheus_up"] == true && all_states(&doc).iter().all(|s| s == "pass")).then_some(())
    });
}

#[test]
fn reload_keeps_the_old_config_on_error_and_drops_removed_slos() {
    let mut l = live(&format!("{AVAILABILITY}{LATENCY}"));
    let (prom, config, slogate) = (&l.prom, &l.config, &l.slogate);
    let has_latency =
        |m: &str| metric_value(m, "slogate_slo_ready", &[("slo", "latency")]).is_some();
    wait_for("latency series", Duration::from_secs(30), || {
        has_latency(&slogate.metrics()).then_some(())
    });

    std::fs::write(
        config,
        fast_config(prom, &AVAILABILITY.replace("99.9", "0.999")),
    )
    .expect("write");
    let (code, body) = post(&slogate.url("/-/reload"));
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains("slogate.yaml: 1 problem")
            && body.contains("slos[0].objective: 0.999 looks like a ratio; objectives are percentages: did you mean 99.9?"),
        "{body}"
    );
    let metrics = slogate.metrics();
    assert_eq!(
        metric_value(&metrics, "slogate_config_last_reload_successful", &[]),
        Some(0.0)
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        has_latency(&slogate.metrics()),
        "the old config keeps serving"
    );
    assert!(slogate
        .proc
        .log_text()
        .contains("Config reload failed; keeping the previous config"));

    std::fs::write(config, fast_config(prom, AVAILABILITY)).expect("write");
    slogate.proc.signal("HUP");
    wait_for("latency series to vanish", Duration::from_secs(30), || {
        let m = slogate.metrics();
        (!has_latency(&m)
            && metric_value(&m, "slogate_config_last_reload_successful", &[]) == Some(1.0))
        .then_some(())
    });
    let doc = slogate.status();
    assert!(doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .all(|r| r["slo"] == "availability"));

    // SIGTERM: a graceful stop, exit 0.
    slogate.proc.signal("TERM");
    let status = wait_for("slogate to exit", Duration::from_secs(20), || {
        l.slogate.proc.child.try_wait().ok().flatten()
    });
    assert!(status.success(), "{status:?}");
}
