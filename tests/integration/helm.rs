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
    let path = (!values.is_empty()).then(|| fixture(values));
    render_with(path, "{}\n")
}

/// Renders the chart with values given as YAML text.
fn render_text(values: &str) -> (tempfile::TempDir, Vec<PathBuf>) {
    render_with(None, values)
}

/// Renders values given as YAML text, expecting Helm to refuse: its report.
fn render_fails(values: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("values.yaml");
    std::fs::write(&path, values).expect("write");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let (ok, report) = helm_tool(&[
        "render",
        CHART,
        &path.display().to_string(),
        &out.display().to_string(),
    ]);
    assert!(!ok, "the render should fail:\n{report}");
    report
}

fn render_with(file: Option<String>, text: &str) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let inline = dir.path().join("inline.values.yaml");
    std::fs::write(&inline, text).expect("write");
    let values = file.unwrap_or_else(|| inline.display().to_string());
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

/// The chart's default values (`""`) and every values fixture.
const VALUES_FILES: [&str; 5] = [
    "",
    "all-on.values.yaml",
    "bearer.values.yaml",
    "secure.values.yaml",
    "sharded.values.yaml",
];

#[test]
fn chart_lints_strictly_and_renders_what_the_values_switch_on() {
    for values in VALUES_FILES {
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
    for values in VALUES_FILES {
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
    assert!(ok && report.ends_with("3 valid, 0 invalid\n"), "{report}");

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
        "summary: '{{ $labels.service }}: SLO prometheus-query-availability is burning its error budget fast'"
    ));
    assert!(rendered.contains("{{ $value | humanizePercentage }}"));
    assert_rules_pass_promtool(rules, dir.path());
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

/// A web config from a Secret: mounted and passed to serve; probes check the
/// port (the kubelet has no client certificate); the ServiceMonitor scrapes
/// over HTTPS with the operator's TLS and basic-auth settings, and validates.
#[test]
fn a_web_config_secret_switches_probes_and_the_service_monitor() {
    let (_d, files) = render("secure.values.yaml");
    let deployment = doc(&files, "deployment.yaml");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let args = strings(&container["args"]);
    assert!(
        args.contains(&"--web.config.file=/etc/slogate/web/web.yml"),
        "{args:?}"
    );
    assert!(!args.contains(&"--web.enable-lifecycle"), "{args:?}");
    for probe in ["livenessProbe", "readinessProbe"] {
        assert_eq!(
            container[probe]["tcpSocket"]["port"].as_str(),
            Some("metrics"),
            "{probe}"
        );
        assert!(container[probe]["httpGet"].is_null(), "{probe}");
    }
    let volumes = &deployment["spec"]["template"]["spec"]["volumes"];
    let web = volumes
        .as_sequence()
        .and_then(|v| v.iter().find(|x| x["name"].as_str() == Some("web")))
        .expect("web volume");
    assert_eq!(web["secret"]["secretName"].as_str(), Some("slogate-web"));
    let monitor = doc(&files, "servicemonitor.yaml");
    let endpoint = &monitor["spec"]["endpoints"][0];
    assert_eq!(endpoint["scheme"].as_str(), Some("https"));
    assert_eq!(
        endpoint["tlsConfig"]["serverName"].as_str(),
        Some("slogate.monitoring.svc")
    );
    assert_eq!(
        endpoint["basicAuth"]["password"]["name"].as_str(),
        Some("slogate-scrape")
    );
    let (ok, report) = run(
        Command::new("node")
            .arg("tools/k8s-models/validate.mjs")
            .arg(find(&files, "servicemonitor.yaml")),
        "node",
    );
    assert!(ok && report.ends_with("1 valid, 0 invalid\n"), "{report}");
    // TLS without client authentication: HTTPS probes; the lifecycle flag passes.
    let (_d, files) =
        render_text("web: {configSecret: slogate-web, tls: true, enableLifecycle: true}\n");
    let deployment = doc(&files, "deployment.yaml");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["readinessProbe"]["httpGet"]["scheme"].as_str(),
        Some("HTTPS")
    );
    assert!(strings(&container["args"]).contains(&"--web.enable-lifecycle"));
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
    let args = strings(&container["args"]);
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
    let out = run_slogate(&[
        "validate",
        &format!("--config.file={}", path.display()),
        "--offline",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The chart's default config is examples/kubernetes.yaml without what the chart
/// writes itself (the data files generated from it are checked by
/// `rules::committed_output_matches_a_fresh_generate`), and has no top-level map
/// that Helm would merge into a user's config.
#[test]
fn chart_default_config_is_the_kubernetes_example() {
    let values: serde_norway::Value = serde_norway::from_str(
        &std::fs::read_to_string(format!("{CHART}/values.yaml")).expect("values"),
    )
    .expect("yaml");
    let mut example: serde_norway::Mapping = serde_norway::from_str(
        &std::fs::read_to_string(format!("{ROOT}/examples/kubernetes.yaml")).expect("example"),
    )
    .expect("yaml");
    for key in ["apiVersion", "prometheus", "alerting"] {
        example.remove(key);
    }
    assert_eq!(
        values["config"],
        serde_norway::Value::Mapping(example.clone())
    );
    let keys: Vec<String> = example.keys().map(|k| format!("{k:?}")).collect();
    assert_eq!(
        example.len(),
        1,
        "only slos, a list Helm replaces: {keys:?}"
    );
}

/// Each PrometheusRule's spec in `rules` is a rule file `promtool check rules`
/// accepts.
fn assert_rules_pass_promtool(rules: &Path, scratch: &Path) {
    for (i, doc) in docs(rules).iter().enumerate() {
        let spec = serde_norway::to_string(&doc["spec"]).expect("spec");
        let file = scratch.join(format!("rules-{i}.yaml"));
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
}

/// A YAML sequence of strings.
fn strings(v: &serde_norway::Value) -> Vec<&str> {
    v.as_sequence()
        .expect("a sequence")
        .iter()
        .filter_map(|a| a.as_str())
        .collect()
}

/// The one document of a rendered manifest file.
fn doc(files: &[PathBuf], name: &str) -> serde_norway::Value {
    docs(find(files, name)).remove(0)
}

/// With sharding on, the pods are a StatefulSet of `shards` replicas that pass
/// `--shard.count` and take their index from their ordinal (the host name).
#[test]
fn sharding_renders_a_statefulset_of_shards() {
    let (_d, files) = render("sharded.values.yaml");
    let set = doc(&files, "deployment.yaml");
    assert_eq!(set["kind"], "StatefulSet");
    assert_eq!(set["spec"]["replicas"], 3);
    assert_eq!(set["spec"]["serviceName"], "slogate");
    assert_eq!(set["spec"]["podManagementPolicy"], "Parallel");
    let args = strings(&set["spec"]["template"]["spec"]["containers"][0]["args"]);
    assert!(args.contains(&"--shard.count=3"), "{args:?}");
    assert!(
        !args.iter().any(|a| a.starts_with("--shard.index")),
        "{args:?}"
    );
    let pdb = &doc(&files, "poddisruptionbudget.yaml")["spec"];
    assert_eq!(
        pdb["minAvailable"], 2,
        "three shards allow minAvailable: {pdb:?}"
    );
    let (_d, plain) = render("");
    let deployment = doc(&plain, "deployment.yaml");
    assert_eq!(deployment["kind"], "Deployment");
    assert!(deployment["spec"].get("serviceName").is_none());
    let args = strings(&deployment["spec"]["template"]["spec"]["containers"][0]["args"]);
    assert!(!args.iter().any(|a| a.starts_with("--shard")), "{args:?}");
}

#[test]
fn pod_disruption_budget_never_blocks_a_drain_of_one_replica() {
    let (_d, one) = render_text("podDisruptionBudget: {enabled: true}\n");
    let spec = &doc(&one, "poddisruptionbudget.yaml")["spec"];
    assert_eq!(spec["maxUnavailable"], 1, "{spec:?}");
    assert!(spec.get("minAvailable").is_none(), "{spec:?}");
    let (_d, two) =
        render_text("replicaCount: 2\npodDisruptionBudget: {enabled: true, minAvailable: 1}\n");
    let spec = &doc(&two, "poddisruptionbudget.yaml")["spec"];
    assert_eq!(spec["minAvailable"], 1, "{spec:?}");
    assert!(spec.get("maxUnavailable").is_none(), "{spec:?}");
}

/// The job label the operator would give slogate's series: the Service label
/// named by the ServiceMonitor's jobLabel, else the Service's name.
fn operator_job(files: &[PathBuf]) -> String {
    let service = doc(files, "service.yaml");
    let monitor = doc(files, "servicemonitor.yaml");
    match monitor["spec"]["jobLabel"].as_str() {
        Some(label) => service["metadata"]["labels"][label]
            .as_str()
            .expect("the job label is on the Service")
            .to_string(),
        None => service["metadata"]["name"]
            .as_str()
            .expect("name")
            .to_string(),
    }
}

#[test]
fn self_health_rules_select_the_job_the_service_monitor_gives() {
    for (values, job) in [
        ("", "slogate"),
        ("nameOverride: watcher\n", "watcher"),
        (
            "fullnameOverride: slo-eye\nserviceMonitor: {enabled: true, jobLabel: \"\"}\n",
            "slo-eye",
        ),
    ] {
        let text = format!(
            "serviceMonitor: {{enabled: true}}\nprometheusRule: {{enabled: true}}\n{values}"
        );
        let (_d, files) = render_text(&text);
        assert_eq!(operator_job(&files), job, "{values}");
        let rules = std::fs::read_to_string(find(&files, "prometheusrule.yaml")).expect("read");
        assert!(
            rules.contains(&format!("absent(up{{job=\"{job}\"}})")),
            "SlogateDown must select job={job} ({values})"
        );
        assert!(
            !rules.contains("job=\"slogate\"") || job == "slogate",
            "{values}"
        );
    }
    // Not scraped through the ServiceMonitor: no SlogateDown firing for ever.
    let (_d, files) = render_text("prometheusRule: {enabled: true}\n");
    let rules = std::fs::read_to_string(find(&files, "prometheusrule.yaml")).expect("read");
    assert!(!rules.contains("SlogateDown"), "{rules}");
}

/// Scrapes slogate the way the rendered ServiceMonitor tells the operator to,
/// through a real Prometheus whose relabelling sets the target labels the
/// operator sets (service, namespace, pod, job), and reads what arrives.
#[test]
fn the_service_monitor_keeps_slogate_labels_over_operator_target_labels() {
    use crate::harness::{free_port, wait_for, Prometheus, Slogate};
    let (_d, files) = render_text("serviceMonitor: {enabled: true}\n");
    let endpoint = doc(&files, "servicemonitor.yaml")["spec"]["endpoints"][0].clone();
    let honor = endpoint["honorLabels"].as_bool().unwrap_or(false);
    let job = operator_job(&files);
    let port = free_port();
    let scrape = format!(
        "global: {{scrape_interval: 1s}}\n\
         scrape_configs:\n\
         - job_name: serviceMonitor/monitoring/slogate/0\n\
         \x20 honor_labels: {honor}\n\
         \x20 metrics_path: /metrics\n\
         \x20 static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n\
         \x20 relabel_configs:\n\
         \x20 - {{target_label: namespace, replacement: monitoring}}\n\
         \x20 - {{target_label: service, replacement: slogate}}\n\
         \x20 - {{target_label: pod, replacement: slogate-6d4f9b7c5-x2x9q}}\n\
         \x20 - {{target_label: endpoint, replacement: metrics}}\n\
         \x20 - {{target_label: job, replacement: {job}}}\n"
    );
    let prom = Prometheus::start(&scrape, Some(&crate::history::tsdb()));
    let config = tempfile::NamedTempFile::new().expect("temp");
    let example =
        std::fs::read_to_string(format!("{ROOT}/examples/slogate.yaml")).expect("example");
    std::fs::write(config.path(), example).expect("write");
    let _slogate = Slogate::serve_on(
        port,
        config.path(),
        &[
            &format!("--prometheus.url={}", prom.url()),
            &format!("--at={}", crate::history::end()),
        ],
    );
    let series = |query: &str| -> Vec<Value> {
        let (_, body) = crate::harness::get(&format!(
            "{}/api/v1/query?query={}",
            prom.url(),
            url_encode(query)
        ));
        let doc: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        doc["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let ready = wait_for(
        "slogate scraped",
        std::time::Duration::from_secs(60),
        || {
            let s = series("slogate_slo_ready{slo=\"availability\"}");
            (s.len() == 4).then_some(s)
        },
    );
    let mut services: Vec<String> = ready
        .iter()
        .map(|s| s["metric"]["service"].as_str().unwrap_or("").to_string())
        .collect();
    services.sort();
    assert_eq!(
        services,
        ["catalog", "checkout", "inventory", "search"],
        "{ready:?}"
    );
    assert!(
        ready
            .iter()
            .all(|s| s["metric"].get("exported_service").is_none()),
        "{ready:?}"
    );
    // The operator's other target labels still arrive, and the job the self-health
    // rules select is the one Prometheus gave.
    assert!(ready
        .iter()
        .all(|s| s["metric"]["namespace"] == "monitoring"));
    assert_eq!(series(&format!("up{{job=\"{job}\"}}")).len(), 1);
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// The README's two commands for a user's own SLOs: `slogate generate
/// --output.helm-values`, then the chart with that file renders rules and
/// dashboards for exactly those SLOs; a config changed without regenerating fails
/// the render with the fix.
#[test]
fn a_users_own_slos_get_exactly_their_rules_and_stale_rules_fail_the_render() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("mine.yaml");
    std::fs::write(
        &config,
        "apiVersion: slogate/v1\n\
         prometheus: {url: 'http://prometheus.monitoring:9090'}\n\
         defaults: {window: 28d}\n\
         slos:\n\
         - name: checkout-errors\n\
         \x20 objective: 99.5\n\
         \x20 group_by: [service]\n\
         \x20 labels: {country: 'no', notify: 'on', amount: '1_000'}\n\
         \x20 sli: {ratio: {errors: 'shop_requests_total{code=~\"5..\"}', total: shop_requests_total}}\n\
         - name: search-speed\n\
         \x20 objective: 95\n\
         \x20 sli: {latency: {histogram: search_duration_seconds, threshold: 300ms}}\n",
    )
    .expect("write");
    let values = dir.path().join("slo-values.yaml");
    let out = run_slogate(&[
        "generate",
        &format!("--config.file={}", config.display()),
        &format!("--output.helm-values={}", values.display()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = std::fs::read_to_string(&values).expect("values written");
    let switches = "prometheusRule: {enabled: true}\ndashboards: {enabled: true}\nserviceMonitor: {enabled: true}\n";
    let (_d, files) = render_text(&format!("{generated}{switches}"));
    let rules: Vec<String> = docs(find(&files, "prometheusrule.yaml"))
        .iter()
        .map(|d| d["metadata"]["name"].as_str().expect("name").to_string())
        .collect();
    assert_eq!(
        rules,
        [
            "slogate-checkout-errors",
            "slogate-search-speed",
            "slogate-slogate-self"
        ]
    );
    assert_rules_pass_promtool(find(&files, "prometheusrule.yaml"), dir.path());
    let rule_text = std::fs::read_to_string(find(&files, "prometheusrule.yaml")).expect("read");
    assert!(
        rule_text.contains("shop_requests_total")
            && !rule_text.contains("prometheus_http_requests_total")
    );
    let dashboards = doc(&files, "dashboards.yaml");
    let detail = dashboards["data"]["slogate-slo-detail.json"]
        .as_str()
        .expect("detail");
    assert!(
        detail.contains("checkout-errors"),
        "the dashboards are the user's"
    );
    let configmap = std::fs::read_to_string(find(&files, "configmap.yaml")).expect("read");
    assert!(configmap.contains("checkout-errors") && configmap.contains("window: 28d"));
    assert!(
        !configmap.contains("prometheus-query-availability"),
        "no default SLO merged in"
    );

    // The config changed in values without regenerating: the render refuses.
    let stale = generated.replacen("\"objective\": 99.5", "\"objective\": 99.9", 1);
    assert_ne!(stale, generated);
    let report = render_fails(&format!("{stale}{switches}"));
    assert!(
        report.contains("generated.rules were generated for another config than values.config")
            && report.contains("--output.helm-values=slo-values.yaml"),
        "{report}"
    );
    // Rules from another slogate version: regenerate.
    let other = generated.replacen(
        &format!("slogateVersion: \"{}\"", env!("CARGO_PKG_VERSION")),
        "slogateVersion: \"0.0.1\"",
        1,
    );
    assert_ne!(other, generated);
    let report = render_fails(&format!("{other}{switches}"));
    assert!(
        report.contains("were generated by slogate 0.0.1"),
        "{report}"
    );
    // A config written by hand, without generated rules: the render says what to run.
    let by_hand =
        "config:\n  slos:\n  - name: mine\n    objective: 99\n    sli: {uptime: {selector: up}}\n";
    let report = render_fails(&format!("{by_hand}{switches}"));
    assert!(
        report.contains("values.config is not the example the chart's rules were generated from"),
        "{report}"
    );
    // With neither switch on, a hand-written config renders (no rules to be stale).
    let (_d, files) = render_text(by_hand);
    assert!(names(&files).contains(&"configmap.yaml".to_string()));
}

/// The chart's rules route in a kube-prometheus-stack Alertmanager (critical,
/// warning) and link to the Grafana the values name.
#[test]
fn default_rules_use_kube_prometheus_stack_severities_and_the_grafana_url() {
    let (_d, files) =
        render_text("prometheusRule: {enabled: true}\ngrafanaUrl: https://grafana.example.com/\n");
    let mut severities = std::collections::BTreeSet::new();
    for d in docs(find(&files, "prometheusrule.yaml")) {
        for group in d["spec"]["groups"].as_sequence().expect("groups") {
            for rule in group["rules"].as_sequence().expect("rules") {
                if let Some(s) = rule["labels"]["severity"].as_str() {
                    severities.insert(s.to_string());
                }
                if let Some(url) = rule["annotations"]["dashboard_url"].as_str() {
                    assert!(url.starts_with("https://grafana.example.com/d/"), "{url}");
                }
            }
        }
    }
    assert_eq!(
        severities.into_iter().collect::<Vec<_>>(),
        ["critical", "warning"]
    );
}

/// What teams set on every chart: extra flags, env, volumes, a priority class,
/// a mirror registry for both images; `helm test` checks slogate reaches its
/// Prometheus, not only that it is up.
#[test]
fn the_values_teams_expect_reach_the_pod_and_helm_test_checks_prometheus() {
    let (_d, files) = render("all-on.values.yaml");
    let pod = &doc(&files, "deployment.yaml")["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(
        container["image"],
        "registry.example.com/mirror/slogate:0.1.0"
    );
    let args = strings(&container["args"]);
    assert_eq!(args.last(), Some(&"--log.level=debug"), "{args:?}");
    assert_eq!(container["env"][0]["name"], "TZ");
    let mounts = format!("{:?}", container["volumeMounts"]);
    assert!(
        mounts.contains("scratch") && mounts.contains("/tmp"),
        "{mounts}"
    );
    assert!(format!("{:?}", pod["volumes"]).contains("emptyDir"));
    assert_eq!(pod["priorityClassName"], "system-cluster-critical");
    let test = doc(&files, "tests__test-ready.yaml");
    let test = &test["spec"]["containers"][0];
    assert_eq!(test["image"], "mirror.example.com/library/busybox:1.36");
    let command = format!("{:?}", test["command"]);
    assert!(
        command.contains("/-/ready")
            && command.contains("grep '^slogate_prometheus_up{'")
            && command.contains("! echo \\\"$up\\\" | grep -q '} 0'"),
        "{command}"
    );
    // Defaults: the images as named, no registry prefixed.
    let (_d, files) = render("");
    let test = doc(&files, "tests__test-ready.yaml");
    assert_eq!(test["spec"]["containers"][0]["image"], "busybox:1.36");
    let image =
        &doc(&files, "deployment.yaml")["spec"]["template"]["spec"]["containers"][0]["image"];
    assert_eq!(image.as_str(), Some("ghcr.io/slogate/slogate:0.1.0"));
}

/// The image's version label and the chart's appVersion follow Cargo.toml: a
/// release bumps one number, and this test names the others.
#[test]
fn image_and_chart_versions_follow_the_crate() {
    let version = env!("CARGO_PKG_VERSION");
    let dockerfile =
        std::fs::read_to_string(format!("{ROOT}/Dockerfile")).expect("read Dockerfile");
    assert!(
        dockerfile
            .lines()
            .any(|l| l == format!("ARG VERSION={version}")),
        "Dockerfile: ARG VERSION must default to {version} (Cargo.toml)"
    );
    let chart = std::fs::read_to_string(format!("{CHART}/Chart.yaml")).expect("read Chart.yaml");
    assert!(
        chart
            .lines()
            .any(|l| l == format!("appVersion: \"{version}\"")),
        "helm/slogate/Chart.yaml: appVersion must be \"{version}\" (Cargo.toml)"
    );
}
