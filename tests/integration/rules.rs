//! Generated Prometheus rules: committed output has not drifted, promtool accepts
//! and unit-tests them, and end to end a real Prometheus fires SLOFastBurn to a real
//! Alertmanager whose webhook receives it.

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::harness::{free_port, get, tool, wait_for, Proc, Prometheus, Simulator, Slogate};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn generate(config: &str, out: &Path) {
    let status = Command::new(crate::harness::slogate_bin())
        .current_dir(ROOT)
        .args([
            "generate",
            &format!("--config.file={config}"),
            &format!("--output.dir={}", out.display()),
        ])
        .status()
        .expect("run slogate generate");
    assert!(
        status.success(),
        "slogate generate --config.file={config} failed"
    );
}

fn yaml_files(dir: &Path) -> Vec<String> {
    files(dir, ".yaml")
}

fn files(dir: &Path, ext: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(ext))
        .collect();
    names.sort();
    names
}

/// Generated files are committed twice (top level from the example, and the Helm
/// chart's data files from its default config); both must equal a fresh
/// `slogate generate`.
#[test]
fn committed_output_matches_a_fresh_generate() {
    let refresh = "refresh with: bash scripts/generate.sh";
    for (copy, config) in [
        (".", "examples/slogate.yaml"),
        ("helm/slogate/files", "examples/kubernetes.yaml"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        generate(config, dir.path());
        for (sub, ext) in [("rules", ".yaml"), ("dashboards", ".json")] {
            let committed = Path::new(ROOT).join(copy).join(sub);
            let fresh = dir.path().join(sub);
            let place = format!("{copy}/{sub}");
            assert_eq!(
                files(&committed, ext),
                files(&fresh, ext),
                "{place} has drifted; {refresh}"
            );
            for name in files(&fresh, ext) {
                let want = std::fs::read_to_string(fresh.join(&name)).expect("fresh");
                let got = std::fs::read_to_string(committed.join(&name)).expect("committed");
                assert!(got == want, "{place}/{name} has drifted; {refresh}");
            }
        }
    }
}

/// The chart knows which config its files/ came from: a copy of it.
#[test]
fn the_charts_copy_of_its_default_config_is_current() {
    let read = |p: &str| std::fs::read_to_string(Path::new(ROOT).join(p)).expect(p);
    assert!(
        read("helm/slogate/files/config.yaml") == read("examples/kubernetes.yaml"),
        "helm/slogate/files/config.yaml has drifted; refresh with: bash scripts/generate.sh"
    );
}

fn promtool(args: &[&str]) -> (bool, String) {
    crate::harness::run(Command::new(tool("promtool")).args(args), "promtool")
}

#[test]
fn promtool_checks_rules_of_the_example_and_of_every_sli_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    generate("tests/fixtures/config/everything.good.yaml", dir.path());
    let mut files: Vec<String> = yaml_files(&Path::new(ROOT).join("rules"))
        .into_iter()
        .map(|n| format!("{ROOT}/rules/{n}"))
        .collect();
    let everything = yaml_files(&dir.path().join("rules"));
    assert_eq!(
        everything,
        [
            "availability.yaml",
            "latency-1s.yaml",
            "slogate-self.yaml",
            "tls-cert.yaml",
            "uptime.yaml"
        ]
    );
    files.extend(
        everything
            .iter()
            .map(|n| format!("{}/rules/{n}", dir.path().display())),
    );
    // redis-cache reads the `eu` datasource: its rules go to that ruler's dir.
    assert_eq!(
        yaml_files(&dir.path().join("eu/rules")),
        ["redis-cache.yaml"]
    );
    files.push(format!(
        "{}/eu/rules/redis-cache.yaml",
        dir.path().display()
    ));
    for file in files {
        let (ok, report) = promtool(&["check", "rules", &file]);
        assert!(ok && report.contains("SUCCESS"), "{file}:\n{report}");
    }
    // The 7d window of that config scales the alert windows, not the factors:
    // 30m/5m pages at 14.4x, 1h/5m at 6x.
    let availability =
        std::fs::read_to_string(dir.path().join("rules/availability.yaml")).expect("read");
    assert!(
        availability.contains(
            "(slo:sli_error:ratio_rate30m{slo=\"availability\"} > (14.4 * 0.0005) and \
             slo:sli_error:ratio_rate5m{slo=\"availability\"} > (14.4 * 0.0005)) or \
             (slo:sli_error:ratio_rate1h{slo=\"availability\"} > (6 * 0.0005)"
        ),
        "{availability}"
    );
    assert!(
        !availability.contains("alert: SLOSlowBurn"),
        "the ticket tier is disabled in that config"
    );
    assert!(availability.contains("channel: pager") && availability.contains("team: payments"));
}

#[test]
fn promtool_unit_tests_prove_when_alerts_fire() {
    let tests = yaml_files(&Path::new(ROOT).join("rules/tests"));
    assert_eq!(
        tests,
        [
            "burn.test.yaml",
            "cache.test.yaml",
            "latency.test.yaml",
            "uptime.test.yaml"
        ]
    );
    for test in tests {
        let path = format!("{ROOT}/rules/tests/{test}");
        let (ok, report) = promtool(&["test", "rules", &path]);
        assert!(ok && report.contains("SUCCESS"), "{test}:\n{report}");
    }
}

/// A 1d-window SLO (the launch checklist's) stays silent at 0.5x and pages at 20x.
#[test]
fn one_day_window_alerts_stay_silent_at_half_burn_and_page_at_twenty() {
    let dir = tempfile::tempdir().expect("tempdir");
    generate("examples/launch-checklist.yaml", dir.path());
    let tests = dir.path().join("tests");
    std::fs::create_dir_all(&tests).expect("mkdir");
    let test = tests.join("one-day.test.yaml");
    std::fs::copy(
        Path::new(ROOT).join("tests/fixtures/promtool/one-day.test.yaml"),
        &test,
    )
    .expect("copy test");
    let (ok, report) = promtool(&["test", "rules", &test.display().to_string()]);
    assert!(ok && report.contains("SUCCESS"), "{report}");
}

/// A webhook receiver on 127.0.0.1 that keeps every notification body (at most 500).
fn webhook() -> (u16, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let store = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(500) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let body = crate::harness::read_http_request(&mut stream).map(|(_, body)| body);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            if let Some(Ok(v)) = body.map(|b| serde_json::from_slice::<Value>(&b)) {
                store.lock().expect("lock").push(v);
            }
        }
    });
    (port, seen)
}

fn alertmanager(hook_port: u16) -> (Proc, u16, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(
        &config,
        format!(
            "route:\n  receiver: hook\n  group_by: [alertname, slo, service]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: hook\n    webhook_configs: [{{url: 'http://127.0.0.1:{hook_port}/'}}]\n\
             inhibit_rules:\n  - source_matchers: [severity=\"page\"]\n    target_matchers: [severity=\"ticket\"]\n    equal: [slo, service]\n"
        ),
    )
    .expect("write alertmanager.yml");
    let port = free_port();
    let mut proc = Proc::spawn(
        "alertmanager",
        Command::new(tool("prometheus-alertmanager"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address="),
        dir.path().join("alertmanager.log"),
    );
    let ready = (0..300).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        get(&format!("http://127.0.0.1:{port}/-/ready")).0 == 200
    });
    if !ready {
        let log = proc.log_text();
        proc.kill();
        panic!("Alertmanager did not become ready:\n{log}");
    }
    (proc, port, dir)
}

#[test]
fn error_burst_pages_through_prometheus_and_alertmanager() {
    let (hook_port, notifications) = webhook();
    let (_am, am_port, _am_dir) = alertmanager(hook_port);
    let sim = Simulator::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let slogate_port = free_port();
    let config = dir.path().join("slogate.yaml");
    let write_config = |prom_url: &str| {
        std::fs::write(
            &config,
            format!(
                "apiVersion: slogate/v1\nprometheus: {{url: '{prom_url}'}}\nevaluation: {{interval: 1s}}\nslos:\n\
                 \x20 - name: availability\n    objective: 99.9\n    group_by: [service]\n\
                 \x20   runbook_url: https://runbooks.example.com/availability\n\
                 \x20   alerting: {{page: {{for: 5s}}}}\n\
                 \x20   sli: {{ratio: {{errors: 'http_requests_total{{code=~\"5..\"}}', total: http_requests_total}}}}\n"
            ),
        )
        .expect("write config")
    };
    write_config("http://127.0.0.1:9");
    generate(&config.display().to_string(), dir.path());
    let prom = Prometheus::start(
        &format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
             rule_files: ['{}/rules/*.yaml']\n\
             alerting: {{alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{am_port}']}}]}}]}}\n\
             scrape_configs:\n\
             \x20 - job_name: simulate\n    static_configs: [{{targets: ['127.0.0.1:{}']}}]\n\
             \x20 - job_name: slogate\n    static_configs: [{{targets: ['127.0.0.1:{slogate_port}']}}]\n",
            dir.path().display(),
            sim.port
        ),
        None,
    );
    write_config(&prom.url());
    let _slogate = Slogate::serve_on(slogate_port, &config, &[]);
    // Some healthy traffic first, then the burst.
    std::thread::sleep(Duration::from_secs(10));
    sim.set_scenario("error-burst");
    let alert = wait_for(
        "SLOFastBurn at the webhook",
        Duration::from_secs(120),
        || {
            let seen = notifications.lock().expect("lock");
            seen.iter()
                .flat_map(|n| n["alerts"].as_array().cloned().unwrap_or_default())
                .find(|a| a["labels"]["alertname"] == "SLOFastBurn" && a["status"] == "firing")
        },
    );
    assert_eq!(alert["labels"]["service"], "checkout");
    assert_eq!(alert["labels"]["slo"], "availability");
    assert_eq!(alert["labels"]["severity"], "page");
    let annotations = &alert["annotations"];
    assert_eq!(
        annotations["summary"],
        "checkout: SLO availability is burning its error budget fast"
    );
    assert_eq!(
        annotations["runbook_url"],
        "https://runbooks.example.com/availability"
    );
    assert_eq!(
        annotations["dashboard_url"],
        "http://localhost:3000/d/slogate-slo-detail/slogate-slo-detail?var-slo=availability&var-service=checkout"
    );
    let description = annotations["description"].as_str().expect("description");
    assert!(
        description.starts_with("The error ratio of checkout is ")
            && description.contains("% against a budget of 0.001"),
        "{description}"
    );
    // A few more evaluation rounds: still nothing about the healthy services.
    std::thread::sleep(Duration::from_secs(5));
    let seen = notifications.lock().expect("lock");
    let others: Vec<&Value> = seen
        .iter()
        .flat_map(|n| n["alerts"].as_array().into_iter().flatten())
        .filter(|a| a["labels"]["service"] != "checkout")
        .collect();
    assert!(
        others.is_empty(),
        "alerts for healthy services: {others:#?}"
    );
}
