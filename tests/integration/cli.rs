//! The CLI contract: exit codes, `validate` reporting every problem at once, and
//! `/metrics` passing `promtool check metrics`.

use std::process::Command;

use crate::harness::{run_slogate, tool, Prometheus, Slogate};
use crate::history;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/config");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/slogate.yaml");

#[test]
fn validate_prints_all_five_mistakes_and_exits_64() {
    let file = format!("{FIXTURES}/five-mistakes.bad.yaml");
    let out = run_slogate(&["validate", &format!("--config.file={file}")]);
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want = std::fs::read_to_string(format!("{FIXTURES}/five-mistakes.bad.txt"))
        .expect("expected text")
        .replace("five-mistakes.bad.yaml", &file);
    assert_eq!(stderr.trim_end(), format!("slogate: {}", want.trim_end()));
    for path in [
        "slos[1].descripton",
        "defaults.window",
        "slos[0].sli.ratio.errors",
        "slos[0].objective",
        "slos[2].sli",
    ] {
        assert!(
            stderr.contains(&format!("{file}: {path}: ")),
            "{path} missing in {stderr}"
        );
    }
}

/// A 90 % cache objective cannot burn at 14.4x: validate says it capped the factor.
#[test]
fn validate_says_which_burn_factors_it_capped() {
    let out = run_slogate(&["validate", &format!("--config.file={EXAMPLE}"), "--offline"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "{EXAMPLE}: slos[3].objective: note: page tier 1h/5m: burn factor capped from 14.4x \
             to 7.5x so that a total outage crosses it (at most 75% errors against a budget of 0.1)\n\
             {EXAMPLE}: OK (5 SLOs; not checked against Prometheus: --offline)\n"
        )
    );
}

#[test]
fn bad_usage_exits_64_before_doing_anything() {
    for args in [
        vec!["check", "--no-such-flag"],
        vec![
            "check",
            &format!("--config.file={EXAMPLE}"),
            "--at=yesterday",
        ],
        vec![
            "check",
            &format!("--config.file={EXAMPLE}"),
            "--prometheus.url=ftp://x",
        ],
        vec!["serve", "--config.file=/nonexistent/slogate.yaml"],
        vec![
            "serve",
            &format!("--config.file={EXAMPLE}"),
            "--web.listen-address=nowhere",
        ],
        vec!["simulate", "--scenario=meltdown"],
        // Input that used to overflow and panic (exit 101): a config error, exit 64.
        vec![
            "check",
            &format!("--config.file={ROOT}/examples/launch-checklist.yaml"),
            "--launch.checkpoint=280000y",
        ],
        vec![
            "check",
            &format!("--config.file={ROOT}/tests/fixtures/config/edges.bad.yaml"),
        ],
        vec![
            "check",
            &format!("--config.file={EXAMPLE}"),
            "--at=99999999999999999999",
        ],
    ] {
        let out = run_slogate(&args);
        assert_eq!(
            out.status.code(),
            Some(64),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = run_slogate(&["check", "--config.file=/nonexistent/slogate.yaml"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        "slogate: /nonexistent/slogate.yaml: 1 problem\n  /nonexistent/slogate.yaml: cannot read the file: No such file or directory (os error 2)"
    );
}

#[test]
fn validate_against_prometheus_checks_selectors_and_bucket_boundaries() {
    let prom = Prometheus::start("scrape_configs: []\n", Some(&history::tsdb()));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("live.yaml");
    std::fs::write(
        &config,
        "apiVersion: slogate/v1\nslos:\n\
         - name: latency\n  objective: 95\n  group_by: [service]\n\
         \x20 sli: {latency: {histogram: http_request_duration_seconds, threshold: 250ms}}\n\
         - name: typo\n  objective: 99\n\
         \x20 sli: {ratio: {errors: 'http_requests_total{code=\"500\"}', total: http_request_total}}\n",
    )
    .expect("write");
    let out = run_slogate(&[
        "validate",
        &format!("--config.file={}", config.display()),
        &format!("--prometheus.url={}", prom.url()),
    ]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(64), "{stdout}{stderr}");
    let file = config.display();
    // Every request would count as slow: an error naming the buckets (the history
    // spells search's 0.2 as `0.20`: one bound, not two).
    assert!(
        stderr.contains(&format!(
            "{file}: slos[0].sli.latency.threshold: 250ms (0.25s) is not a bucket boundary of \
             http_request_duration_seconds; its buckets: 0.1, 0.2, 0.5, inf"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{file}: slos[1].sli.ratio.total: \"http_request_total\" matches no series in the last 30d on {}",
            prom.url()
        )),
        "{stderr}"
    );
    // The example config matches the backfilled history: exit 0.
    let out = run_slogate(&[
        "validate",
        &format!("--config.file={EXAMPLE}"),
        &format!("--prometheus.url={}", prom.url()),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // It prints the plan with what it costs Prometheus now: 33 queries, 12 of
    // them over a day or more (30d, 1d, 3d for each of the 4 event SLOs).
    let stdout = String::from_utf8_lossy(&out.stdout);
    let plan = stdout
        .lines()
        .find_map(|l| l.split_once(": plan: ").map(|(_, p)| p.to_string()))
        .unwrap_or_else(|| panic!("no plan line in {stdout}"));
    assert!(
        plan.starts_with("33 queries per evaluation reading ")
            && plan.contains(" samples now (21 queries, "),
        "{plan}"
    );
    assert!(plan.contains("; 12 queries, "), "{plan}");

    // Without the flag, validate checks against the config's own prometheus.url
    // (it used to print OK unchecked); a config's server out of reach is said so,
    // and OK never claims the selectors were checked.
    let with_url = |url: &str| {
        let text = std::fs::read_to_string(&config).expect("read");
        let own = dir.path().join("own-url.yaml");
        std::fs::write(
            &own,
            text.replace(
                "apiVersion: slogate/v1\n",
                &format!("apiVersion: slogate/v1\nprometheus: {{url: '{url}'}}\n"),
            ),
        )
        .expect("write");
        let out = run_slogate(&["validate", &format!("--config.file={}", own.display())]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, _, stderr) = with_url(&prom.url());
    assert_eq!(code, Some(64), "{stderr}");
    assert!(
        stderr.contains("\"http_request_total\" matches no series in the last 30d"),
        "{stderr}"
    );
    let closed = format!("http://127.0.0.1:{}", crate::harness::free_port());
    let (code, stdout, stderr) = with_url(&closed);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("prometheus.url: warning: not checked against Prometheus: cannot reach Prometheus at {closed}")),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(": OK (2 SLOs; not checked against Prometheus)\n"),
        "{stdout}"
    );

    // What `check` would get wrong is an error: a group_by label no series has
    // (one blank group that passes) and a matcher on a label the metric never
    // has (availability reads 100 %). A label that is there passes.
    let wrong = dir.path().join("wrong-labels.yaml");
    std::fs::write(
        &wrong,
        "apiVersion: slogate/v1\nslos:\n\
         - name: availability\n  objective: 99.9\n  group_by: [svc]\n\
         \x20 sli: {ratio: {errors: 'http_requests_total{status=~\"5..\"}', total: http_requests_total}}\n\
         - name: by-service\n  objective: 99.9\n  group_by: [service]\n\
         \x20 sli: {ratio: {errors: 'http_requests_total{code=~\"5..\"}', total: http_requests_total}}\n\
         - name: no-errors-yet\n  objective: 99.9\n\
         \x20 sli: {ratio: {errors: 'http_requests_total{code=\"599\"}', total: http_requests_total}}\n",
    )
    .expect("write");
    let out = run_slogate(&[
        "validate",
        &format!("--config.file={}", wrong.display()),
        &format!("--prometheus.url={}", prom.url()),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    let file = wrong.display();
    assert!(
        stderr.contains(&format!(
            "{file}: slos[0].group_by: group_by label \"svc\" is on no series of http_requests_total \
             in the last 30d: every group would collapse into one blank group (a series has: "
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{file}: slos[0].sli.ratio.errors: status=~\"5..\" can never match: no series of \
             http_requests_total in the last 30d has the label \"status\""
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(": 2 problems"),
        "only slos[0] is wrong: {stderr}"
    );
    // A counter that matches nothing yet (no 599 so far) stays a warning, saying why.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "{file}: slos[2].sli.ratio.errors: warning: \"http_requests_total{{code=\\\"599\\\"}}\" matches \
             no series in the last 30d: fine for a counter of errors or misses before the first \
             one (it counts as zero); check the name otherwise"
        )),
        "{stdout}"
    );
}

/// OpenMetrics to the classic text format `promtool check metrics` reads
/// (TOOLING.md): no `# EOF` or `# UNIT`, `_info` gauges, `_total` counter names.
fn to_classic_text(openmetrics: &str) -> String {
    let mut renamed: Vec<(String, String)> = Vec::new();
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE line");
            match kind {
                "info" => renamed.push((name.to_string(), format!("{name}_info"))),
                "counter" => renamed.push((name.to_string(), format!("{name}_total"))),
                _ => {}
            }
        }
    }
    let mut out = String::new();
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let mut line = line.to_string();
        for (from, to) in &renamed {
            for prefix in ["# TYPE ", "# HELP "] {
                if let Some(rest) = line.strip_prefix(&format!("{prefix}{from} ")) {
                    let rest = if prefix == "# TYPE " && rest == "info" {
                        "gauge"
                    } else {
                        rest
                    };
                    line = format!("{prefix}{to} {rest}");
                }
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[test]
fn metrics_pass_promtool_check_metrics() {
    let prom = Prometheus::start("scrape_configs: []\n", Some(&history::tsdb()));
    let slogate = Slogate::serve(
        std::path::Path::new(EXAMPLE),
        &[
            &format!("--prometheus.url={}", prom.url()),
            &format!("--at={}", history::end_rfc3339()),
        ],
    );
    let (code, _) = crate::harness::get(&slogate.url("/metrics"));
    assert_eq!(code, 200);
    let response = crate::harness::http()
        .get(slogate.url("/metrics"))
        .send()
        .expect("scrape");
    assert_eq!(
        response.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let body = response.text().expect("body");
    assert!(body.ends_with("# EOF\n"));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("metrics.txt");
    std::fs::write(&file, to_classic_text(&body)).expect("write");
    let out = Command::new(tool("promtool"))
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&file).expect("open"))
        .output()
        .expect("run promtool");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && report.trim().is_empty(),
        "promtool check metrics:\n{report}"
    );
}
