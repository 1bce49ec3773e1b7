//! Named datasources: one config over a real Prometheus and a real
//! VictoriaMetrics, both holding the known-answer history. SLOs on each give
//! the designed answers for their backend; stopping VictoriaMetrics makes only
//! its SLOs `unknown`.

use serde_json::Value;

use crate::harness::{metric_value, run_slogate, Slogate, VictoriaMetrics};
use crate::history::{end_rfc3339, Backend};
use crate::known_answer::{assert_designed_on, history_prometheus};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/slogate.yaml");

/// The example with its SLOs on `default` and again, named `<name>-vm`, on `vm`.
fn two_backend_config(prometheus: &str, victoria: &str) -> serde_norway::Value {
    let text = std::fs::read_to_string(EXAMPLE).expect("example");
    let mut config: serde_norway::Value = serde_norway::from_str(&text).expect("YAML");
    let map = config.as_mapping_mut().expect("mapping");
    map.remove("prometheus");
    let datasources: serde_norway::Value = serde_norway::from_str(&format!(
        "default: {{url: {prometheus}}}\nvm: {{url: {victoria}, timeout: 5s}}\n"
    ))
    .expect("YAML");
    map.insert("datasources".into(), datasources);
    let slos = map
        .get_mut("slos")
        .and_then(|s| s.as_sequence_mut())
        .expect("slos");
    let copies: Vec<serde_norway::Value> = slos
        .iter()
        .map(|s| {
            let mut s = s.clone();
            let m = s.as_mapping_mut().expect("slo");
            let name = m.get("name").and_then(|n| n.as_str()).expect("name");
            let name = format!("{name}-vm");
            m.insert("name".into(), name.into());
            m.insert("datasource".into(), "vm".into());
            s
        })
        .collect();
    slos.extend(copies);
    config
}

fn check(path: &std::path::Path) -> (Option<i32>, Value) {
    let out = run_slogate(&[
        "check",
        &format!("--config.file={}", path.display()),
        &format!("--at={}", end_rfc3339()),
        "--output=json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("NaN"), "{stdout}");
    let doc = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), doc)
}

/// The results read from `datasource`, named as in the example again.
fn part(doc: &Value, datasource: &str) -> Value {
    let mut part = doc.clone();
    let results: Vec<Value> = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["datasource"] == datasource)
        .map(|r| {
            let mut r = r.clone();
            let name = r["slo"]
                .as_str()
                .expect("slo")
                .trim_end_matches("-vm")
                .to_string();
            r["slo"] = name.into();
            r
        })
        .collect();
    part["results"] = results.into();
    part
}

#[test]
fn slos_on_two_backends_give_each_backends_designed_answers_and_fail_apart() {
    let prom = history_prometheus();
    let mut vm = VictoriaMetrics::with_history();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("slogate.yaml");
    let config = two_backend_config(&prom.url(), &vm.url());
    std::fs::write(&path, serde_norway::to_string(&config).expect("YAML")).expect("write");

    let (code, doc) = check(&path);
    assert_eq!(code, Some(1), "the design has fails");
    assert_eq!(doc["datasources"]["default"], true);
    assert_eq!(doc["datasources"]["vm"], true);
    let count = |d: &str| part(&doc, d)["results"].as_array().map_or(0, Vec::len);
    assert_eq!(count("default"), count("vm"));
    assert!(count("default") >= 15, "{}", count("default"));
    assert_designed_on(Backend::Prometheus, &part(&doc, "default"));
    assert_designed_on(Backend::VictoriaMetrics, &part(&doc, "vm"));
    let services = doc["services"].clone();

    // `validate` checks every SLO against its own backend.
    let out = run_slogate(&["validate", &format!("--config.file={}", path.display())]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("against {}, {}", prom.url(), vm.url()))
            || stdout.contains(&format!("against {}/, {}/", prom.url(), vm.url())),
        "{stdout}"
    );
    assert!(stdout.contains(": datasource vm: plan: "), "{stdout}");

    // VictoriaMetrics goes away: only its SLOs are unknown.
    vm.stop();
    let (code, doc) = check(&path);
    assert_eq!(code, Some(1), "the default's fails still exit 1");
    assert_eq!(doc["datasources"]["default"], true);
    assert_eq!(doc["datasources"]["vm"], false);
    assert_eq!(doc["prometheus_up"], false);
    for r in part(&doc, "vm")["results"].as_array().expect("results") {
        assert_eq!(r["state"], "unknown", "{r}");
        assert!(
            r["reason"]
                .as_str()
                .expect("reason")
                .starts_with("query failed: "),
            "{r}"
        );
    }
    // Not ready overall; platform's backup probe on vm is unknown (the other
    // copies, never seen by this `check`, report no group, hence no service).
    assert_eq!(doc["ready"], false);
    assert_eq!(doc["services"]["platform"], false);
    let mut default = part(&doc, "default");
    default["services"] = services.clone();
    assert_designed_on(Backend::Prometheus, &default);

    // A baseline is a record: `baseline save` refuses one with holes, naming
    // the datasource (the figures as of a past instant do not change, so it is
    // taken again later). `check --baseline.at` still compares the default's
    // SLOs, unchanged by a same-instant baseline, and warns about vm's.
    let file = dir.path().join("baseline.json");
    let out = run_slogate(&[
        "baseline",
        "save",
        &format!("--config.file={}", path.display()),
        &format!("--at={}", end_rfc3339()),
        &format!("--output={}", file.display()),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot measure a baseline: datasource vm was not reachable"),
        "{stderr}"
    );
    assert!(!file.exists());
    let out = run_slogate(&[
        "check",
        &format!("--config.file={}", path.display()),
        &format!("--at={}", end_rfc3339()),
        &format!("--baseline.at={}", end_rfc3339()),
        "--output=json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Some datasources were not reachable: their SLOs have no baseline")
            && stderr.contains("datasources=vm"),
        "{stderr}"
    );
    let compared: Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut with_baseline = 0;
    for r in compared["results"].as_array().expect("results") {
        let b = &r["baseline"];
        match (r["datasource"].as_str(), r["state"].as_str()) {
            (Some("vm"), _) => assert!(b.is_null(), "{r}"),
            (_, Some("pass" | "warn" | "fail")) => {
                assert_eq!(b["regression"], false, "{r}");
                with_baseline += 1;
            }
            _ => {}
        }
    }
    assert!(
        with_baseline >= 10,
        "{with_baseline} default results compared"
    );
    let mut default = part(&compared, "default");
    default["services"] = services.clone();
    assert_designed_on(Backend::Prometheus, &default);

    // `validate` still checks the default's SLOs, and says which it could not.
    let out = run_slogate(&["validate", &format!("--config.file={}", path.display())]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(": datasources.vm.url: warning: not checked against Prometheus: "),
        "{stdout}"
    );
    // Half of the SLOs are on vm.
    let total = config["slos"].as_sequence().map_or(0, Vec::len);
    let unchecked = format!(
        "({total} SLOs; {} not checked: their datasource is unreachable) against ",
        total / 2
    );
    assert!(stdout.contains(&unchecked), "{unchecked:?} not in {stdout}");

    // serve says which datasource is down, and labels the named one's series.
    let slogate = Slogate::serve(&path, &[&format!("--at={}", end_rfc3339())]);
    let metrics = slogate.metrics();
    assert_eq!(
        metric_value(
            &metrics,
            "slogate_prometheus_up",
            &[("datasource", "default")]
        ),
        Some(1.0)
    );
    assert_eq!(
        metric_value(&metrics, "slogate_prometheus_up", &[("datasource", "vm")]),
        Some(0.0)
    );
    assert_eq!(
        metric_value(
            &metrics,
            "slogate_slo_state",
            &[
                ("slo", "availability-vm"),
                ("datasource", "vm"),
                ("state", "unknown"),
            ]
        ),
        Some(1.0),
        "{metrics}"
    );
    let table = run_slogate(&[
        "check",
        &format!("--config.file={}", path.display()),
        &format!("--at={}", end_rfc3339()),
    ]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("datasources default up, vm UNREACHABLE"),
        "{table}"
    );
    assert!(table.contains("availability-vm @vm"), "{table}");
}

#[test]
fn generated_rules_go_to_each_datasources_ruler_and_unknown_names_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("slogate.yaml");
    let config = two_backend_config("http://127.0.0.1:9", "http://127.0.0.1:9");
    std::fs::write(&path, serde_norway::to_string(&config).expect("YAML")).expect("write");
    let out_dir = dir.path().join("out");
    let generate = |config: &std::path::Path| {
        let out = run_slogate(&[
            "generate",
            &format!("--config.file={}", config.display()),
            &format!("--output.dir={}", out_dir.display()),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    generate(&path);
    assert!(out_dir.join("rules/availability.yaml").is_file());
    assert!(out_dir.join("rules/slogate-self.yaml").is_file());
    assert!(out_dir.join("vm/rules/availability-vm.yaml").is_file());
    assert!(!out_dir.join("rules/availability-vm.yaml").exists());

    // The datasource renamed: its old rules go (they would keep alerting on
    // SLOs that moved); a file generate did not write stays.
    let keep = out_dir.join("vm/rules/hand-written.yaml");
    std::fs::write(&keep, "groups: []\n").expect("write");
    let renamed = dir.path().join("renamed.yaml");
    let text = std::fs::read_to_string(&path)
        .expect("read")
        .replace("vm:", "vm2:")
        .replace("datasource: vm", "datasource: vm2");
    std::fs::write(&renamed, text).expect("write");
    generate(&renamed);
    assert!(out_dir.join("vm2/rules/availability-vm.yaml").is_file());
    let left: Vec<_> = std::fs::read_dir(out_dir.join("vm/rules"))
        .expect("vm/rules kept for the hand-written file")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["hand-written.yaml"]);
    std::fs::remove_file(&keep).expect("remove");
    // Another run's output below this one (`--output.dir=out/staging`) is not
    // a datasource's folder: its generated rules stay.
    let staging = out_dir.join("staging/rules");
    std::fs::create_dir_all(&staging).expect("mkdir");
    for name in ["slogate-self.yaml", "availability.yaml"] {
        std::fs::copy(out_dir.join("rules").join(name), staging.join(name)).expect("copy");
    }
    generate(&renamed);
    assert!(staging.join("availability.yaml").is_file());
    std::fs::remove_dir_all(out_dir.join("staging")).expect("remove");
    assert!(
        !out_dir.join("vm").exists(),
        "an emptied directory goes too"
    );
    assert!(out_dir.join("rules/availability.yaml").is_file());

    let text = std::fs::read_to_string(&path).expect("read").replacen(
        "datasource: vm",
        "datasource: victoria",
        1,
    );
    std::fs::write(&path, text).expect("write");
    // A flag for the default datasource when no SLO reads it changes nothing.
    let only_vm = dir.path().join("only-vm.yaml");
    std::fs::write(
        &only_vm,
        "apiVersion: slogate/v1\ndatasources: {vm: {url: http://127.0.0.1:9}}\nslos:\n  - {name: a, objective: 99, datasource: vm, sli: {ratio: {errors: e_total, total: t_total}}}\n",
    )
    .expect("write");
    let out = run_slogate(&[
        "check",
        &format!("--config.file={}", only_vm.display()),
        "--prometheus.url=http://127.0.0.1:9",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert!(
        stderr.contains("--prometheus.url: every SLO of ")
            && stderr.contains("reads a named datasource; the flag sets the default one's URL"),
        "{stderr}"
    );

    let stderr = crate::harness::validate_offline_problems(&path);
    assert!(
        stderr
            .contains(".datasource: \"victoria\" is not a datasource of this config (default, vm)"),
        "{stderr}"
    );
}
