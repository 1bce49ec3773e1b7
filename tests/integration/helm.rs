//! The Helm chart, offline: strict lint and render (Helm 4's library via
//! helm-python-sdk), values.schema.json, kubernetes-validate on core manifests, the
//! Prometheus Operator's models on ServiceMonitor/PrometheusRule, promtool on the
//! rendered rules, and the rendered pod runs what the README documents.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::harness::{run, run_slogate, tool};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const CHART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/helm/slogate");
const PIP: &str =
    "python3 -m pip install -r tools/helm/requirements.txt (or: bash scripts/install-deps.sh)";

fn helm_tool(args: &[&str]) -> (bool, String) {
    let (ok, out) = run(
        Command::new("python3")
            .arg("tools/helm/helm_tool.py")
            .args(args),
        "python3",
    );
    assert!(
        !out.contains("ModuleNotFoundError"),
        "helm-python-sdk is missing: {PIP}\n{out}"
    );
    (ok, out)
}

fn fixture(name: &str) -> String {
    format!("{ROOT}/tests/fixtures/helm/{name}")
}

/// Renders the chart with a values file ("" for defaults) into a fresh directory.
fn render(values: &str) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.values.yaml");
    std::fs::write(&empty, "{}\n").expect("write");
    let values = if values.is_empty() {
        empty.display().to_string()
    } else {
        fixture(values)
    };
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let (ok, report) = helm_tool(&["render", CHART, &values, &out.display().to_string()]);
    assert!(ok, "render failed:\n{report}");
    let doc: Value = serde_json::from_str(&report).expect("render JSON");
    let files = doc["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| PathBuf::from(f.as_str().unwrap_or("")))
        .collect();
    (dir, files)
}

fn names(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|f| {
            f.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .replace("slogate__templates__", "")
        })
        .collect()
}

fn docs(file: &Path) -> Vec<serde_norway::Value> {
    let text = std::fs::read_to_string(file).expect("read manifest");
    text.split("\n---")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_norway::from_str(d).unwrap_or_else(|e| panic!("{}: {e}", file.display())))
        .filter(|v: &serde_norway::Value| !v.is_null())
        .collect()
}

fn find<'a>(files: &'a [PathBuf], name: &str) -> &'a PathBuf {
    files
        .iter()
        .find(|f| f.to_string_lossy().ends_with(name))
        .unwrap_or_else(|| panic!("{name} not rendered"))
}

#[test]
fn chart_lints_strictly_and_renders_what_the_values_switch_on() {
    for values in ["", "all-on.values.yaml", "bearer.values.yaml"] {
        let mut args = vec!["lint", CHART];
        let path = fixture(values);
        if !values.is_empty() {
            args.push(&path);
        }
        let (ok, report) = helm_tool(&args);
        assert!(ok, "lint ({values}):\n{report}");
    }
    let (_d, default) = render("");
    assert_eq!(
        names(&default),
        [
            "configmap.yaml",
            "deployment.yaml",
            "service.yaml",
            "serviceaccount.yaml",
            "tests__test-ready.yaml"
        ]
    );
    let (_d, all) = render("all-on.values.yaml");
    assert_eq!(
        names(&all),
        [
            "configmap.yaml",
            "dashboards.yaml",
            "deployment.yaml",
            "poddisruptionbudget.yaml",
            "prometheusrule.yaml",
            "service.yaml",
            "serviceaccount.yaml",
            "servicemonitor.yaml",
            "tests__test-ready.yaml"
        ]
    );
}

#[test]
fn rendered_core_manifests_pass_kubernetes_validate_strict() {
    for values in ["", "all-on.values.yaml", "bearer.values.yaml"] {
        let (_d, files) = render(values);
        let core: Vec<&PathBuf> = files
            .iter()
            .filter(|f| {
                !f.to_string_lossy().contains("servicemonitor")
                    && !f.to_string_lossy().contains("prometheusrule")
            })
            .collect();
        let (ok, report) = run(
            Command::new("python3")
                .args(["-m", "kubernetes_validate", "--strict", "-k", "1.30.0"])
                .args(&core),
            "kubernetes-validate",
        );
        assert!(
            !report.contains("No module named"),
            "kubernetes-validate is missing: {PIP}"
        );
        assert!(ok, "({values}):\n{report}");
        assert_eq!(
            report.matches(" passed for resource ").count(),
            core.len(),
            "{report}"
        );
    }
}

#[test]
fn operator_resources_validate_and_rendered_rules_pass_promtool() {
    let modules = Path::new(ROOT).join("tools/k8s-models/node_modules");
    assert!(
        modules.exists(),
        "run npm ci --prefix tools/k8s-models (or bash scripts/install-deps.sh)"
    );
    let (dir, files) = render("all-on.values.yaml");
    let monitor = find(&files, "servicemonitor.yaml");
    let rules = find(&files, "prometheusrule.yaml");
    let (ok, report) = run(
        Command::new("node")
            .arg("tools/k8s-models/validate.mjs")
            .args([monitor, rules]),
        "node",
    );
    assert!(ok && report.ends_with("7 valid, 0 invalid\n"), "{report}");

    // A broken ServiceMonitor is caught.
    let broken = dir.path().join("broken.yaml");
    let text = std::fs::read_to_string(monitor)
        .expect("read")
        .replace("interval: 15s", "interval: 15");
    std::fs::write(&broken, text).expect("write");
    let (ok, report) = run(
        Command::new("node")
            .arg("tools/k8s-models/validate.mjs")
            .arg(&broken),
        "node",
    );
    assert!(
        !ok && report.contains("ServiceMonitor/slogate: INVALID"),
        "{report}"
    );

    // Each PrometheusRule's spec is a rule file promtool accepts, templates intact.
    let rendered = std::fs::read_to_string(rules).expect("read");
    assert!(rendered.contains(
        "summary: '{{ $labels.service }}: SLO availability is burning its error budget fast'"
    ));
    assert!(rendered.contains("{{ $value | humanizePercentage }}"));
    for (i, doc) in docs(rules).iter().enumerate() {
        let spec = serde_norway::to_string(&doc["spec"]).expect("spec");
        let file = dir.path().join(format!("rules-{i}.yaml"));
        std::fs::write(&file, spec).expect("write");
        let (ok, report) = run(
            Command::new(tool("promtool"))
                .args(["check", "rules"])
                .arg(&file),
            "promtool",
        );
        assert!(
            ok && report.contains("SUCCESS"),
            "{}:\n{report}",
            doc["metadata"]["name"].as_str().unwrap_or("")
        );
    }
    // The dashboards ConfigMap carries the sidecar label and both dashboards.
    let dashboards = &docs(find(&files, "dashboards.yaml"))[0];
    assert_eq!(
        dashboards["metadata"]["labels"]["grafana_dashboard"].as_str(),
        Some("1")
    );
    let data = dashboards["data"].as_mapping().expect("data");
    let keys: Vec<&str> = data.keys().filter_map(|k| k.as_str()).collect();
    assert_eq!(keys, ["slogate-overview.json", "slogate-slo-detail.json"]);
    let overview = data
        .get("slogate-overview.json")
        .and_then(|v| v.as_str())
        .expect("overview");
    assert!(
        overview.contains("${datasource}") && overview.contains("{{slo}}"),
        "dashboard templates survive Helm"
    );
}

#[test]
fn values_schema_accepts_good_values_and_names_every_bad_one() {
    for good in ["all-on.values.yaml", "bearer.values.yaml"] {
        let (ok, report) = helm_tool(&["schema", CHART, &fixture(good)]);
        assert!(ok, "{good}: {report}");
    }
    let (ok, report) = helm_tool(&["schema", CHART, &fixture("bad.values.yaml")]);
    assert!(!ok);
    for want in [
        "at '/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'",
        "at '/replicaCount': got string, want integer",
        "additional properties 'serviceMonitr' not allowed",
    ] {
        assert!(report.contains(want), "missing {want:?} in {report}");
    }
}

#[test]
fn the_pod_runs_the_documented_command_with_a_valid_config() {
    let (dir, files) = render("");
    let deployment = &docs(find(&files, "deployment.yaml"))[0];
    let pod = &deployment["spec"]["template"];
    let container = &pod["spec"]["containers"][0];
    let args: Vec<&str> = container["args"]
        .as_sequence()
        .expect("args")
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    assert_eq!(
        args,
        [
            "serve",
            "--config.file=/etc/slogate/slogate.yaml",
            "--web.listen-address=:10510",
            "--log.level=info",
            "--log.format=logfmt"
        ]
    );
    let help = String::from_utf8_lossy(&run_slogate(&["serve", "--help"]).stdout).into_owned();
    for flag in args
        .iter()
        .skip(1)
        .map(|a| a.split('=').next().unwrap_or(""))
    {
        assert!(help.contains(flag), "slogate serve does not know {flag}");
    }
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"].as_str(),
        Some("/-/healthy")
    );
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"].as_str(),
        Some("/-/ready")
    );
    assert_eq!(
        container["securityContext"]["readOnlyRootFilesystem"].as_bool(),
        Some(true)
    );
    assert_eq!(
        container["securityContext"]["capabilities"]["drop"][0].as_str(),
        Some("ALL")
    );
    assert_eq!(
        pod["spec"]["securityContext"]["runAsNonRoot"].as_bool(),
        Some(true)
    );
    let checksum = pod["metadata"]["annotations"]["checksum/config"]
        .as_str()
        .expect("checksum")
        .to_string();

    // The rendered config is one slogate accepts.
    assert_config_validates(&files, &dir.path().join("slogate.yaml"));

    // A config change rolls the pods.
    let (_d, other) = render("bearer.values.yaml");
    let other_pod = &docs(find(&other, "deployment.yaml"))[0]["spec"]["template"];
    assert_ne!(
        other_pod["metadata"]["annotations"]["checksum/config"].as_str(),
        Some(checksum.as_str())
    );
    let (_d, all) = render("all-on.values.yaml");
    assert_config_validates(&all, &dir.path().join("all-on.yaml"));
}

/// Writes the rendered ConfigMap's config to `path` and runs `slogate validate`.
fn assert_config_validates(files: &[PathBuf], path: &Path) {
    let configmap = &docs(find(files, "configmap.yaml"))[0];
    std::fs::write(
        path,
        configmap["data"]["slogate.yaml"].as_str().expect("config"),
    )
    .expect("write");
    let out = run_slogate(&["validate", &format!("--config.file={}", path.display())]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The chart's default SLOs are the example's (the data files generated from the
/// example are checked by `rules::committed_output_matches_a_fresh_generate`).
#[test]
fn chart_default_slos_match_the_example() {
    let values: serde_norway::Value = serde_norway::from_str(
        &std::fs::read_to_string(format!("{CHART}/values.yaml")).expect("values"),
    )
    .expect("yaml");
    let example: serde_norway::Value = serde_norway::from_str(
        &std::fs::read_to_string(format!("{ROOT}/examples/slogate.yaml")).expect("example"),
    )
    .expect("yaml");
    for key in ["slos", "evaluation", "defaults"] {
        assert_eq!(
            values["config"][key], example[key],
            "values.yaml config.{key} differs from examples/slogate.yaml"
        );
    }
}
