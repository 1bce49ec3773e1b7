//! The launch gate against backfilled history: a launch 20 days and 6 hours before
//! the end of history, so the 1h checkpoint is clean and the 24h one holds the
//! incident of search at T+6h; a 60d checkpoint is still pending.

use std::path::PathBuf;

use serde_json::Value;

use crate::harness::{get, metric_value, run_slogate, Prometheus, Slogate};
use crate::history::{self, end, DAY};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/launch-24h.md");

fn launch_at() -> i64 {
    end() - 20 * DAY - 6 * 3600
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .expect("valid time")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn config(dir: &tempfile::TempDir, prom: &Prometheus) -> PathBuf {
    let path = dir.path().join("launch.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: slogate/v1\nprometheus: {{url: '{}'}}\n\
             launch: {{at: '{}', checkpoints: [1h, 24h, 60d]}}\nslos:\n\
             \x20 - name: availability\n    objective: 99.9\n    group_by: [service]\n    weight: 3\n\
             \x20   sli: {{ratio: {{errors: 'http_requests_total{{service!=\"inventory\",code=\"500\"}}', total: 'http_requests_total{{service!=\"inventory\"}}'}}}}\n\
             \x20 - name: backups-fresh\n    service: platform\n\
             \x20   sli: {{threshold: {{query: 'time() - max(backup_last_success_timestamp_seconds)', op: '<', value: 86400}}}}\n",
            prom.url(),
            rfc3339(launch_at())
        ),
    )
    .expect("write config");
    path
}

fn check(config: &std::path::Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec![
        "check".to_string(),
        format!("--config.file={}", config.display()),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_slogate(&args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn states(doc: &Value) -> Vec<(String, String)> {
    doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                format!(
                    "{}/{}",
                    r["slo"].as_str().unwrap_or(""),
                    r["service"].as_str().unwrap_or("")
                ),
                r["state"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// A `check --output=json` document without its `cost` (Prometheus' evaluation
/// time differs from run to run; the verdict must not).
fn verdict(json: &str) -> Value {
    let mut doc: Value = serde_json::from_str(json).expect("json");
    let cost = doc.as_object_mut().and_then(|o| o.remove("cost"));
    // The timeline is as of now: later checkpoints settle as time goes on.
    let timeline = doc["launch"]
        .as_object_mut()
        .and_then(|o| o.remove("checkpoints"));
    assert!(timeline.is_some(), "{json}");
    assert!(
        cost.is_some_and(|c| c["queries"].as_u64() > Some(0)),
        "{json}"
    );
    doc
}

fn history_prometheus() -> Prometheus {
    Prometheus::start("scrape_configs: []\n", Some(&history::tsdb()))
}

#[test]
fn checkpoints_give_the_same_verdict_days_later_as_on_time() {
    let prom = history_prometheus();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(&dir, &prom);

    let (code, one_hour) = check(&config, &["--launch.checkpoint=1h", "--output=json"]);
    assert_eq!(code, Some(0), "{one_hour}");
    let doc: Value = serde_json::from_str(&one_hour).expect("json");
    assert_eq!(doc["launch"]["state"], "pass");
    assert_eq!(doc["launch"]["checkpoint"], "1h");
    assert_eq!(doc["launch"]["at"], rfc3339(launch_at()));
    assert_eq!(doc["launch"]["score"], 100.0);
    assert_eq!(doc["evaluated_at"], rfc3339(launch_at() + 3600));
    // The whole timeline comes along, as of now: 24h is settled, 60d is not.
    let timeline: Vec<(&str, &str)> = doc["launch"]["checkpoints"]
        .as_array()
        .expect("checkpoints")
        .iter()
        .map(|c| {
            (
                c["checkpoint"].as_str().unwrap_or(""),
                c["state"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        timeline,
        [("1h", "pass"), ("24h", "fail"), ("60d", "pending")]
    );
    assert_eq!(
        doc["launch"]["checkpoints"][1]["score_explanation"],
        "vetoed by availability/search, a key SLO"
    );
    assert!(doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .all(|r| r["window"] == "1h"));
    // As if run on time: five minutes after the checkpoint, same document.
    let on_time = format!("--at={}", launch_at() + 3600 + 300);
    let (_, again) = check(
        &config,
        &["--launch.checkpoint=1h", "--output=json", &on_time],
    );
    assert_eq!(verdict(&again), verdict(&one_hour));

    let (code, day) = check(&config, &["--launch.checkpoint=24h", "--output=json"]);
    assert_eq!(code, Some(1), "{day}");
    let doc: Value = serde_json::from_str(&day).expect("json");
    assert_eq!(doc["launch"]["state"], "fail");
    assert_eq!(doc["launch"]["score"], 0.0, "a failing key SLO vetoes");
    // The checkpoint keeps the text the user wrote, not `1d`; burns longer than it
    // would read pre-launch traffic and are null.
    for r in doc["results"].as_array().expect("results") {
        assert_eq!(r["window"], "24h", "{r:#}");
        if r["kind"] == "ratio" {
            assert_eq!(r["burn_rates"]["3d"], Value::Null, "{r:#}");
            assert!(r["burn_rates"]["1d"].is_number(), "{r:#}");
        }
    }
    assert_eq!(
        states(&doc),
        [
            ("availability/catalog".to_string(), "pass".to_string()),
            ("availability/checkout".to_string(), "pass".to_string()),
            ("availability/search".to_string(), "fail".to_string()),
            ("backups-fresh/platform".to_string(), "pass".to_string()),
        ]
    );
    let on_time = format!("--at={}", launch_at() + DAY + 60);
    let (_, again) = check(
        &config,
        &["--launch.checkpoint=24h", "--output=json", &on_time],
    );
    assert_eq!(verdict(&again), verdict(&day));

    let (code, later) = check(&config, &["--launch.checkpoint=60d", "--output=json"]);
    assert_eq!(code, Some(2));
    let doc: Value = serde_json::from_str(&later).expect("json");
    assert_eq!(doc["launch"]["state"], "pending");
    assert_eq!(doc["launch"]["score"], Value::Null);
    assert!(states(&doc).iter().all(|(_, s)| s == "pending"), "{later}");
    assert_eq!(doc["launch"]["due"], rfc3339(launch_at() + 60 * DAY));
    let left = doc["launch"]["due_in_seconds"]
        .as_i64()
        .expect("due_in_seconds");
    assert!(left > 0 && left <= 60 * DAY, "{left}");
    // A pending report is about now, not its due time (which lies ahead).
    let evaluated =
        chrono::DateTime::parse_from_rfc3339(doc["evaluated_at"].as_str().expect("time"))
            .expect("RFC 3339");
    assert!(evaluated.timestamp() < launch_at() + 60 * DAY, "{later}");

    // Before its time, the 1h checkpoint is pending too: said once, with when it
    // is due, one line per SLO (no service `-`, no score).
    let early = format!("--at={}", launch_at() + 1800);
    let (code, out) = check(&config, &["--launch.checkpoint=1h", &early]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.ends_with(&format!(
            "PENDING — due in 30m ({})\n",
            minute(launch_at() + 3600)
        )),
        "{out}"
    );
    assert!(
        out.contains("  ⏳ availability  ratio, key\n  ⏳ backups-fresh  threshold, key\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!("evaluated at {};", rfc3339(launch_at() + 1800))),
        "{out}"
    );
    assert!(!out.contains("\n-  ") && !out.contains("score"), "{out}");
}

fn minute(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .expect("valid time")
        .format("%Y-%m-%dT%H:%MZ")
        .to_string()
}

/// Without `--launch.checkpoint`, every output still carries the launch
/// timeline as of now; `--launch.at` tries another launch time.
#[test]
fn every_output_carries_the_launch_timeline() {
    let prom = history_prometheus();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(&dir, &prom);
    let now = end();
    let at = format!("--at={now}");
    let (code, table) = check(&config, &[&at]);
    assert_eq!(code, Some(1), "{table}");
    let want = format!(
        "LAUNCH TIMELINE\n\
         \x20 T0     {}             launch\n\
         \x20 T+1h   {}  ✅ pass     score 100.0/100: weighted by SLO: 4 pass\n\
         \x20 T+24h  {}  ❌ fail     score 0.0/100: vetoed by availability/search, a key SLO; not ready: availability/search (fail)\n\
         \x20 now    {}\n\
         \x20 T+60d  {}  ⏳ pending  due in 39d 18h ({})\n",
        minute(launch_at()),
        minute(launch_at() + 3600),
        minute(launch_at() + DAY),
        minute(now),
        minute(launch_at() + 60 * DAY),
        minute(launch_at() + 60 * DAY),
    );
    assert!(table.contains(&want), "want:\n{want}\nin:\n{table}");

    let (_, md) = check(&config, &[&at, "--output=markdown"]);
    assert!(md.contains("## Launch timeline\n"), "{md}");
    assert!(
        md.contains(&format!("| **now** | {} |  |  |\n", minute(now))),
        "{md}"
    );
    assert!(md.contains("\n### T+24h ❌ fail\n"), "{md}");
    assert!(
        md.contains("| availability/search | yes | 99.9% | 66.661% | -33239% | ❌ fail | SLI 66.661% below objective 99.9%"),
        "{md}"
    );

    let (_, xml) = check(&config, &[&at, "--output=junit"]);
    assert!(
        xml.contains("<property name=\"launch.checkpoint.24h.state\" value=\"fail\"/>"),
        "{xml}"
    );

    // Launched five days before the end of history instead: both early
    // checkpoints are clean, without editing the file.
    let moved = format!("--launch.at={}", rfc3339(end() - 5 * DAY));
    let (_, json) = check(&config, &[&at, &moved, "--output=json"]);
    let doc: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(doc["launch"]["at"], rfc3339(end() - 5 * DAY));
    let states: Vec<&str> = doc["launch"]["checkpoints"]
        .as_array()
        .expect("checkpoints")
        .iter()
        .map(|c| c["state"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(states, ["pass", "pass", "pending"], "{json}");
    let out = run_slogate(&[
        "check",
        &format!("--config.file={}", config.display()),
        "--launch.at=soon",
    ]);
    assert_eq!(out.status.code(), Some(64));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "--launch.at \"soon\" is neither RFC 3339 (2026-11-22T10:00:00Z) nor Unix seconds"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn junit_reads_back_with_one_case_per_result() {
    let prom = history_prometheus();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(&dir, &prom);
    let (code, xml) = check(&config, &["--launch.checkpoint=24h", "--output=junit"]);
    assert_eq!(code, Some(1));
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("not XML: {e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(
        (
            root.attribute("tests"),
            root.attribute("failures"),
            root.attribute("errors")
        ),
        (Some("4"), Some("1"), Some("0"))
    );
    let cases: Vec<_> = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 4);
    let failed: Vec<_> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .map(|c| {
            (
                c.attribute("classname").unwrap_or(""),
                c.attribute("name").unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [("slogate.search", "availability {service=search}")]
    );
    let failure = cases
        .iter()
        .flat_map(|c| c.children())
        .find(|n| n.has_tag_name("failure"))
        .expect("failure");
    assert!(
        failure
            .attribute("message")
            .unwrap_or("")
            .starts_with("SLI "),
        "{xml}"
    );
    // A pending checkpoint is skipped, not failed.
    let (code, xml) = check(&config, &["--launch.checkpoint=60d", "--output=junit"]);
    assert_eq!(code, Some(2));
    let doc = roxmltree::Document::parse(&xml).expect("XML");
    assert_eq!(doc.root_element().attribute("skipped"), Some("2"));
}

#[test]
fn markdown_report_matches_the_golden_file() {
    let prom = history_prometheus();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(&dir, &prom);
    let at = format!("--at={}", end());
    let (code, md) = check(
        &config,
        &["--launch.checkpoint=24h", "--output=markdown", &at],
    );
    assert_eq!(code, Some(1));
    // The history ends at the last full hour: name its times, not their values.
    let md = md
        .replace(&minute(end()), "<now>")
        .replace(&minute(launch_at()), "<launch>")
        .replace(&minute(launch_at() + 3600), "<T+1h>")
        .replace(&minute(launch_at() + DAY), "<T+24h>")
        .replace(&minute(launch_at() + 60 * DAY), "<T+60d>")
        .replace(&rfc3339(launch_at() + DAY), "<T+24h>")
        .replace(&rfc3339(launch_at()), "<launch>");
    if std::env::var_os("SLOGATE_UPDATE_GOLDEN").is_some() {
        std::fs::write(GOLDEN, &md).expect("write golden");
    }
    let want =
        std::fs::read_to_string(GOLDEN).expect("golden file (SLOGATE_UPDATE_GOLDEN=1 writes it)");
    assert_eq!(
        md, want,
        "refresh with: SLOGATE_UPDATE_GOLDEN=1 cargo test --test integration markdown_report"
    );
}

#[test]
fn serve_shows_the_launch_timeline_in_metrics_api_and_page() {
    let prom = history_prometheus();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(&dir, &prom);
    let slogate = Slogate::serve(&config, &[]);
    let metrics = slogate.metrics();
    for (checkpoint, state) in [("1h", "pass"), ("24h", "fail"), ("60d", "pending")] {
        assert_eq!(
            metric_value(
                &metrics,
                "slogate_launch_checkpoint_state",
                &[("checkpoint", checkpoint), ("state", state)]
            ),
            Some(1.0),
            "{checkpoint} in {metrics}"
        );
    }
    assert_eq!(
        metric_value(
            &metrics,
            "slogate_launch_score_ratio",
            &[("checkpoint", "1h")]
        ),
        Some(1.0)
    );
    assert_eq!(
        metric_value(
            &metrics,
            "slogate_launch_score_ratio",
            &[("checkpoint", "24h")]
        ),
        Some(0.0)
    );
    let status = slogate.status();
    let checkpoints = status["launch"]["checkpoints"]
        .as_array()
        .expect("checkpoints");
    assert_eq!(checkpoints.len(), 3);
    assert_eq!(checkpoints[2]["due"], rfc3339(launch_at() + 60 * DAY));

    // The page as a browser renders it.
    let (code, _) = get(&slogate.url("/"));
    assert_eq!(code, 200);
    let dom = crate::harness::chromium(
        &dir.path().join("chromium"),
        &["--dump-dom", &slogate.url("/")],
    );
    assert!(
        dom.contains("id=\"launch\""),
        "no launch timeline in:\n{dom}"
    );
    assert!(
        dom.contains("data-checkpoint=\"24h\" data-state=\"fail\""),
        "{dom}"
    );
    assert!(
        dom.contains("not ready: availability/search (fail)"),
        "{dom}"
    );
    assert!(
        dom.contains("data-checkpoint=\"60d\" data-state=\"pending\""),
        "{dom}"
    );
    assert!(
        dom.contains("due in 39d ")
            && dom.contains(&format!("h ({})", minute(launch_at() + 60 * DAY))),
        "{dom}"
    );
}

/// A reload that moves the launch (and drops an SLO) forgets every settled
/// checkpoint: the API, the metrics and the checkpoint results follow the new config.
#[test]
fn reload_forgets_settled_checkpoints() {
    let prom = history_prometheus();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = config(&dir, &prom);
    let slogate = Slogate::serve(&path, &["--web.enable-lifecycle"]);
    let checkpoint_24h = |status: &Value| status["launch"]["checkpoints"][1].clone();
    let before = checkpoint_24h(&slogate.status());
    assert_eq!(before["state"], "fail", "{before:#}");
    // Five days before the end of history: both checkpoints are clean.
    let moved = end() - 5 * DAY;
    let text = std::fs::read_to_string(&path).expect("read config");
    let text = text.replace(&rfc3339(launch_at()), &rfc3339(moved));
    let text = &text[..text
        .find("  - name: backups-fresh")
        .expect("probe in config")];
    std::fs::write(&path, text).expect("rewrite config");
    let (code, body) = crate::harness::post(&slogate.url("/-/reload"));
    assert_eq!(code, 200, "{body}");
    let after = crate::harness::wait_for(
        "the reloaded launch",
        std::time::Duration::from_secs(30),
        || {
            let status = slogate.status();
            (status["launch"]["at"] == rfc3339(moved)).then_some(status)
        },
    );
    let c = checkpoint_24h(&after);
    assert_eq!(c["due"], rfc3339(moved + DAY), "{c:#}");
    assert_eq!(c["state"], "pass", "{c:#}");
    let slos: Vec<&str> = c["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["slo"].as_str())
        .collect();
    assert!(
        !slos.is_empty() && slos.iter().all(|s| *s == "availability"),
        "the removed probe is gone: {slos:?}"
    );
    let metrics = slogate.metrics();
    for (state, value) in [("pass", 1.0), ("fail", 0.0)] {
        assert_eq!(
            metric_value(
                &metrics,
                "slogate_launch_checkpoint_state",
                &[("checkpoint", "24h"), ("state", state)]
            ),
            Some(value),
            "{metrics}"
        );
    }
}

/// The T+1h checkpoint judges an uptime SLO: 61 scrapes of checkout's target in
/// the hour (both ends included) meet uptime's own minimum, 30 scrapes; the
/// requests' 100 left it `insufficient_data` at every one-hour checkpoint.
#[test]
fn one_hour_checkpoint_judges_uptime_from_its_scrapes() {
    let prom = history_prometheus();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("uptime.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: slogate/v1\nprometheus: {{url: '{}'}}\n\
             defaults: {{min_events: 100}}\n\
             launch: {{at: '{}', checkpoints: [1h]}}\nslos:\n\
             \x20 - name: uptime\n    objective: 99\n    group_by: [job]\n\
             \x20   sli: {{uptime: {{selector: 'up{{job=\"checkout\"}}'}}}}\n",
            prom.url(),
            rfc3339(launch_at())
        ),
    )
    .expect("write config");
    let (code, out) = check(&path, &["--launch.checkpoint=1h", "--output=json"]);
    let doc: Value = serde_json::from_str(&out).expect("json");
    let result = &doc["results"][0];
    assert_eq!(
        (&result["state"], &result["events"], &result["window"]),
        (&Value::from("pass"), &Value::from(61.0), &Value::from("1h")),
        "{out}"
    );
    assert_eq!(code, Some(0), "{out}");
}
