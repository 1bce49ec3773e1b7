//! VictoriaMetrics as a backend: the known-answer history imported into a real
//! single-node VictoriaMetrics gives the designed answers to 1e-9 (computed for
//! its `(t - w, t]` ranges), and vmalert accepts every generated rule file
//! (the committed ones, and a named datasource's and a calendar SLO's).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{tool, VictoriaMetrics};
use crate::history::Backend;
use crate::known_answer::{assert_designed_on, designed_check};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn check_on_victoria_metrics_gives_the_designed_answers() {
    let vm = VictoriaMetrics::with_history();
    let doc = designed_check(&vm.url());
    assert_designed_on(Backend::VictoriaMetrics, &doc);
    // The designed difference is real: uptime counts one scrape fewer than on
    // Prometheus over the same window.
    let uptime = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["slo"] == "uptime" && r["service"] == "catalog")
        .expect("uptime of catalog");
    assert_eq!(uptime["events"].as_f64(), Some(30.0 * 1440.0), "{uptime}");
}

fn rule_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn vmalert_accepts_every_generated_rule_file() {
    let mut files = rule_files(&Path::new(ROOT).join("rules"));
    files.extend(rule_files(
        &Path::new(ROOT).join("helm/slogate/files/rules"),
    ));
    assert_eq!(files.len(), 8, "{files:?}");
    // And what a config with every feature generates: a calendar SLO, and a
    // named datasource's rules in `eu/rules/`, for that datasource's vmalert.
    let out = tempfile::tempdir().expect("tempdir");
    let generated = crate::harness::run_slogate(&[
        "generate",
        &format!("--config.file={ROOT}/tests/fixtures/config/everything.good.yaml"),
        &format!("--output.dir={}", out.path().display()),
    ]);
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let eu = rule_files(&out.path().join("eu/rules"));
    assert!(!eu.is_empty(), "no rules for datasource eu");
    files.extend(eu);
    let default = rule_files(&out.path().join("rules"));
    assert!(default.len() >= 5, "{default:?}");
    files.extend(default);
    for file in &files {
        let out = Command::new(tool("vmalert"))
            .arg("-dryRun")
            .arg(format!("-rule={}", file.display()))
            .output()
            .expect("run vmalert");
        assert!(
            out.status.success(),
            "vmalert -dryRun {}:\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
