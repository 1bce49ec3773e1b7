//! `slogate import` on the Sloth, Pyrra and OpenSLO corpora (vendored under
//! tests/fixtures/import with their licences): every file imports, its report
//! and config equal the golden files, and every config validates and generates
//! rules promtool accepts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{slogate_bin, tool};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/import");
const REFRESH: &str =
    "refresh with: SLOGATE_UPDATE_GOLDEN=1 cargo test --test integration import::";

/// Runs `slogate ARGS` in the fixtures directory: (exit code, stdout, stderr).
pub fn slogate_in_fixtures(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(slogate_bin())
        .current_dir(FIXTURES)
        .args(args)
        .output()
        .expect("run slogate");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every spec of the corpora, relative to the fixtures directory; Sloth's
/// generated `_gen/` rules are not specs.
fn corpus_files() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read corpus dir").flatten() {
            let path = entry.path();
            if path.is_dir() && !path.ends_with("_gen") {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    for corpus in ["sloth", "pyrra", "openslo", "prometheus"] {
        walk(&Path::new(FIXTURES).join(corpus), &mut files);
    }
    let mut names: Vec<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(FIXTURES)
                .expect("under fixtures")
                .display()
                .to_string()
        })
        .collect();
    names.sort();
    names
}

/// Checks `actual` against the golden file (or rewrites it); returns a
/// message on a difference.
fn golden(name: &str, actual: &str) -> Option<String> {
    let path = Path::new(FIXTURES).join("golden").join(name);
    if std::env::var_os("SLOGATE_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write golden");
        return None;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    (want != actual).then(|| format!("{name} differs:\n--- want\n{want}\n--- got\n{actual}"))
}

/// The config validates offline and its generated rules pass promtool.
pub fn assert_usable(config_text: &str, what: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("slogate.yaml");
    std::fs::write(&config, config_text).expect("write config");
    let config_arg = format!("--config.file={}", config.display());
    let (code, out, err) = slogate_in_fixtures(&["validate", "--offline", &config_arg]);
    assert_eq!(code, 0, "{what}: validate failed:\n{out}{err}");
    let out_dir = dir.path().join("out");
    let (code, out, err) = slogate_in_fixtures(&[
        "generate",
        &config_arg,
        &format!("--output.dir={}", out_dir.display()),
    ]);
    assert_eq!(code, 0, "{what}: generate failed:\n{out}{err}");
    let rules = out_dir.join("rules");
    let files: Vec<PathBuf> = std::fs::read_dir(&rules)
        .expect("rules dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(!files.is_empty(), "{what}: no rule files");
    let check = Command::new(tool("promtool"))
        .arg("check")
        .arg("rules")
        .args(&files)
        .output()
        .expect("run promtool");
    assert!(
        check.status.success(),
        "{what}: promtool check rules failed:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn every_corpus_file_imports_as_its_golden_report_says() {
    let files = corpus_files();
    assert!(files.len() >= 49, "corpora incomplete: {files:?}");
    let mut differences = Vec::new();
    let mut clean = BTreeSet::new();
    for file in &files {
        let (code, out, err) = slogate_in_fixtures(&["import", file]);
        assert!(
            code == 0 || code == 3,
            "{file}: exit {code} (want 0 or 3):\n{err}"
        );
        assert!(!err.contains("panicked"), "{file}: {err}");
        if code == 0 {
            clean.insert(file.as_str());
        }
        let report = format!("{err}exit status: {code}\n");
        differences.extend(golden(&format!("{file}.report"), &report));
        differences.extend(golden(&format!("{file}.slogate.yaml"), &out));
        if !out.contains("slos: []") {
            assert_usable(&out, file);
        }
    }
    assert!(
        differences.is_empty(),
        "{}\n{REFRESH}",
        differences.join("\n")
    );
    assert_eq!(
        clean,
        BTreeSet::from([
            "prometheus/known-answer-pyrra.yaml",
            "pyrra/examples/caddy-response-latency.yaml",
            "sloth/examples/no-alerts.yml",
        ]),
        "the files that carry over without a loss"
    );
}

#[test]
fn several_files_import_into_one_config_with_unique_names() {
    let (code, out, err) = slogate_in_fixtures(&[
        "import",
        "--from=pyrra",
        "pyrra/examples/prometheus-http.yaml",
        "pyrra/examples/docker-compose/pyrra/prometheus-http.yaml",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("pyrra/examples/docker-compose/pyrra/prometheus-http.yaml: note: renamed \"prometheus-api-query\" to \"prometheus-api-query-2\": an SLO imported before it has the same name\n"),
        "{err}"
    );
    assert_usable(&out, "the two prometheus-http.yaml");

    let manifests = Path::new(FIXTURES).join("pyrra/examples/kubernetes/manifests/slos");
    let mut args: Vec<String> = std::fs::read_dir(&manifests)
        .expect("manifests")
        .flatten()
        .map(|e| {
            format!(
                "pyrra/examples/kubernetes/manifests/slos/{}",
                e.file_name().to_string_lossy()
            )
        })
        .collect();
    args.sort();
    assert_eq!(args.len(), 14);
    let mut argv = vec!["import"];
    argv.extend(args.iter().map(String::as_str));
    let (code, out, err) = slogate_in_fixtures(&argv);
    assert_eq!(code, 3, "{err}");
    assert_eq!(out.matches("\n  - name: ").count(), 14, "{out}");
    assert!(
        err.ends_with("slogate import: 14 SLOs from 14 files; 0 not imported, 42 fields dropped, 0 approximated\n"),
        "{err}"
    );
    assert_usable(&out, "the 14 Kubernetes manifests");
}

#[test]
fn unreadable_input_exits_64_naming_the_file() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["import", "sloth/examples/_gen/getting-started.yml"],
            "slogate: sloth/examples/_gen/getting-started.yml: a Prometheus rule file (generated rules), not an SLO spec; import the spec it was generated from\n",
        ),
        (
            &["import", "--from=pyrra", "sloth/examples/getting-started.yml"],
            "slogate: sloth/examples/getting-started.yml: is a Sloth prometheus/v1 spec, not read by --from=pyrra; use --from=sloth or leave --from out\n",
        ),
        (
            &["import", "sloth/examples/missing.yml"],
            "slogate: sloth/examples/missing.yml: cannot read the file: No such file or directory (os error 2)\n",
        ),
        (
            &["import", "sloth/LICENSE"],
            "slogate: sloth/LICENSE: invalid YAML: mapping values are not allowed in this context at line 92 column 36\n",
        ),
        (
            &["import", "sloth/SOURCE.txt"],
            "slogate: sloth/SOURCE.txt: not a YAML mapping; expected a Sloth, Pyrra or OpenSLO document\n",
        ),
    ];
    for (args, want) in cases {
        let (code, out, err) = slogate_in_fixtures(args);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (64, "", want),
            "{args:?}"
        );
    }
    let (code, _, err) = slogate_in_fixtures(&["import"]);
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("FILES"), "{err}");
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "version: prometheus/v1\nslos: [\n").expect("write");
    let (code, _, err) = slogate_in_fixtures(&["import", &broken.display().to_string()]);
    assert_eq!(code, 64, "{err}");
    assert!(
        err.starts_with(&format!("slogate: {}: invalid YAML: ", broken.display())),
        "{err}"
    );
}

/// Two numbers (or two nulls) that agree to 1e-9.
fn same(a: &serde_json::Value, b: &serde_json::Value, what: &str) {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => assert!(
            (x - y).abs() <= 1e-9 * x.abs().max(1.0),
            "{what}: imported {x}, native {y}"
        ),
        _ => assert_eq!(a, b, "{what}"),
    }
}

/// Sloth, Pyrra and OpenSLO specs of the known-answer history's SLOs, imported,
/// give `check --at` the SLIs, budgets, event counts and burn rates of the
/// native config to 1e-9.
#[test]
fn imported_specs_give_the_native_numbers_on_the_known_answer_history() {
    use crate::known_answer::{check_json, history_prometheus};
    let prom = history_prometheus();
    let at = crate::history::end();
    let native_config = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/slogate.yaml");
    let (_, native) = check_json(&prom, native_config, at);
    let native = native["results"]
        .as_array()
        .expect("native results")
        .clone();
    for (spec, slos) in [
        ("prometheus/known-answer-sloth.yml", 2),
        ("prometheus/known-answer-pyrra.yaml", 3),
        ("prometheus/known-answer-openslo.yaml", 2),
    ] {
        let (code, out, err) = slogate_in_fixtures(&["import", spec]);
        assert!(code == 0 || code == 3, "{spec}: {err}");
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("slogate.yaml");
        std::fs::write(&config, &out).expect("write");
        let (_, doc) = check_json(&prom, &config.display().to_string(), at);
        let results = doc["results"].as_array().expect("results");
        let groups = |r: &serde_json::Value| r["labels"].clone();
        let mut compared = BTreeSet::new();
        for r in results {
            let what = format!("{spec}: {} {}", r["slo"], groups(r));
            let n = native
                .iter()
                .find(|n| {
                    n["slo"] == r["slo"] && n["service"] == r["service"] && groups(n) == groups(r)
                })
                .unwrap_or_else(|| panic!("{what}: no native result"));
            for key in ["sli", "error_budget_remaining", "events"] {
                same(&r[key], &n[key], &format!("{what} {key}"));
            }
            let burns = r["burn_rates"].as_object().expect("burn_rates");
            assert_eq!(burns.len(), 7, "{what}");
            for (w, v) in burns {
                same(v, &n["burn_rates"][w], &format!("{what} burn {w}"));
            }
            assert!(
                r["sli"].is_number() || r["state"] == "insufficient_data",
                "{what}"
            );
            compared.insert(r["slo"].as_str().expect("slo").to_string());
        }
        assert_eq!(compared.len(), slos, "{spec}: {compared:?}");
        assert!(
            results.len() >= 4 * slos,
            "{spec}: {} results",
            results.len()
        );
    }
}

/// `--raw-as-probe` keeps an SLO whose SLI is a precomputed ratio, as a probe
/// on that ratio over Sloth's window; `--output.file` takes the config and
/// leaves stdout empty.
#[test]
fn raw_ratios_become_probes_on_request_and_output_file_takes_the_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("imported.yaml");
    let (code, out, err) = slogate_in_fixtures(&[
        "import",
        "--raw-as-probe",
        &format!("--output.file={}", file.display()),
        "prometheus/sloth-edge-cases.yml",
    ]);
    assert_eq!((code, out.as_str()), (3, ""), "{err}");
    assert!(
        err.contains("prometheus/sloth-edge-cases.yml: slos[2].sli.raw: approximated: imported as a threshold probe: the error ratio over 30d must stay at or under the error budget; it has no budget or burn rate (--raw-as-probe)\n"),
        "{err}"
    );
    let config = std::fs::read_to_string(&file).expect("the config file");
    assert!(
        config.contains(
            "  - name: average-of-ratios\n    service: shop\n    window: 30d\n    labels:\n      team: payments\n    sli:\n      threshold:\n        query: avg_over_time(job:error_ratio:rate5m[30d])\n        op: <=\n        value: 0.01\n"
        ),
        "{config}"
    );
    assert_usable(&config, "--raw-as-probe");
}
