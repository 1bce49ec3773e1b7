//! The web config (TLS, client certificates, basic auth, headers) on a real
//! `serve`, checked with curl and reqwest; the same files judged by slogate and
//! by `promtool check web-config`; the lifecycle API off unless asked for.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::harness::{
    free_port, post, run, run_slogate, slogate_bin, tool, wait_for, Proc, Slogate,
};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/slogate.yaml");

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new(tool("openssl"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A new P-256 key, unencrypted, as `openssl req` arguments.
const EC_KEY: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
];

/// A key and a certificate `name.pem` signed by the test CA, with `ext`
/// (subjectAltName, extendedKeyUsage) for `subject`.
fn issue(dir: &Path, name: &str, subject: &str, ext: &str) {
    let (key, csr) = (format!("{name}.key"), format!("{name}.csr"));
    let mut args = vec!["req", "-new", "-subj", subject];
    args.extend(EC_KEY);
    args.extend(["-keyout", &key, "-out", &csr]);
    openssl(dir, &args);
    std::fs::write(dir.join(format!("{name}.ext")), ext).expect("write ext");
    sign(dir, name);
}

/// Signs `name.csr` with the test CA into `name.pem` (again: a renewal).
fn sign(dir: &Path, name: &str) {
    let (csr, ext, pem) = (
        format!("{name}.csr"),
        format!("{name}.ext"),
        format!("{name}.pem"),
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &pem,
        ],
    );
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, in `dir`.
fn certificates(dir: &Path) {
    let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=slogate test CA"];
    ca.extend(EC_KEY);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
    openssl(dir, &ca);
    issue(
        dir,
        "server",
        "/CN=slogate test server",
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    );
    issue(
        dir,
        "client",
        "/CN=slogate test client",
        "extendedKeyUsage=clientAuth\n",
    );
}

fn web_config(dir: &Path, extra: &str) -> PathBuf {
    let hash = bcrypt::hash("s3cret-pass", 4).expect("bcrypt");
    let path = dir.join("web.yml");
    std::fs::write(
        &path,
        format!(
            "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  \
             client_ca_file: ca.pem\n  client_auth_type: RequireAndVerifyClientCert\n\
             http_server_config:\n  headers:\n    X-Frame-Options: deny\n\
             basic_auth_users:\n  alice: '{hash}'\n{extra}"
        ),
    )
    .expect("write web config");
    path
}

/// `curl` against the HTTPS server: (exit code, HTTP status, headers and body).
fn curl(dir: &Path, url: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(tool("curl"))
        .current_dir(dir)
        .args(["-sS", "-i", "--max-time", "10", "--cacert", "ca.pem"])
        .args(args)
        .arg(url)
        .output()
        .expect("run curl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn tls_client_certificates_and_basic_auth_guard_every_endpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    certificates(dir.path());
    let web = web_config(dir.path(), "");
    let (ok, out) = run(
        Command::new(tool("promtool"))
            .args(["check", "web-config"])
            .arg(&web),
        "promtool",
    );
    assert!(ok, "promtool rejects the web config: {out}");

    let port = free_port();
    let mut cmd = Command::new(slogate_bin());
    cmd.args([
        "serve",
        &format!("--config.file={EXAMPLE}"),
        "--prometheus.url=http://127.0.0.1:1",
        &format!("--web.listen-address=127.0.0.1:{port}"),
        &format!("--web.config.file={}", web.display()),
    ]);
    let _serve = Proc::spawn("slogate", &mut cmd, dir.path().join("slogate.log"));
    let base = format!("https://127.0.0.1:{port}");
    let auth = [
        "--cert",
        "client.pem",
        "--key",
        "client.key",
        "-u",
        "alice:s3cret-pass",
    ];
    wait_for("slogate over HTTPS", Duration::from_secs(60), || {
        let (_, out) = curl(dir.path(), &format!("{base}/-/ready"), &auth);
        out.starts_with("HTTP/1.1 200").then_some(())
    });

    for path in ["/metrics", "/", "/api/v1/status", "/-/healthy"] {
        let url = format!("{base}{path}");
        // No client certificate: the handshake fails.
        let (code, out) = curl(dir.path(), &url, &["-u", "alice:s3cret-pass"]);
        assert_ne!(code, 0, "{path} without a client certificate: {out}");
        // Certificate, no password; a wrong one: 401.
        let (_, out) = curl(
            dir.path(),
            &url,
            &["--cert", "client.pem", "--key", "client.key"],
        );
        assert!(out.starts_with("HTTP/1.1 401"), "{path}: {out}");
        assert!(
            out.to_ascii_lowercase().contains("www-authenticate: basic"),
            "{out}"
        );
        for user in ["alice:wrong", "mallory:s3cret-pass"] {
            let args = ["--cert", "client.pem", "--key", "client.key", "-u", user];
            let (_, out) = curl(dir.path(), &url, &args);
            assert!(out.starts_with("HTTP/1.1 401"), "{path} as {user}: {out}");
        }
        // Both: 200, with the configured header.
        let (_, out) = curl(dir.path(), &url, &auth);
        assert!(out.starts_with("HTTP/1.1 200"), "{path}: {out}");
        assert!(
            out.to_ascii_lowercase().contains("x-frame-options: deny"),
            "{out}"
        );
    }
    // Plain HTTP on the HTTPS port gets no answer.
    let (code, _) = curl(dir.path(), &format!("http://127.0.0.1:{port}/metrics"), &[]);
    assert_ne!(code, 0);

    // The same with reqwest (rustls): right credentials 200, wrong 401.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let read = |name: &str| std::fs::read(dir.path().join(name)).expect("read pem");
    let mut identity = read("client.pem");
    identity.extend(read("client.key"));
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&read("ca.pem")).expect("ca"))
        .identity(reqwest::Identity::from_pem(&identity).expect("identity"))
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let get = |password: &str| {
        client
            .get(format!("{base}/metrics"))
            .basic_auth("alice", Some(password))
            .send()
            .expect("request")
    };
    let ok = get("s3cret-pass");
    assert_eq!(ok.status().as_u16(), 200);
    assert!(ok.text().expect("body").contains("slogate_build_info"));
    assert_eq!(get("nope").status().as_u16(), 401);

    // The lifecycle API is off unless asked for, even with the right credentials.
    let (_, out) = curl(
        dir.path(),
        &format!("{base}/-/reload"),
        &[&auth[..], &["-X", "POST"]].concat(),
    );
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
    assert!(
        out.contains("Lifecycle API is not enabled: start slogate with --web.enable-lifecycle"),
        "{out}"
    );

    // A new password in the file applies to the next request, no restart.
    std::thread::sleep(Duration::from_millis(1100));
    let rotated = bcrypt::hash("rotated-pass", 4).expect("bcrypt");
    let text = std::fs::read_to_string(&web).expect("read web config");
    let text = text
        .lines()
        .filter(|l| !l.starts_with("  alice:"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&web, format!("{text}\n  alice: '{rotated}'\n")).expect("rewrite");
    assert_eq!(get("rotated-pass").status().as_u16(), 200);
    assert_eq!(get("s3cret-pass").status().as_u16(), 401);

    // A renewed certificate is served from the next handshake, no restart.
    let serial = || {
        let out = Command::new("sh")
            .current_dir(dir.path())
            .arg("-c")
            .arg(format!(
                "openssl s_client -connect 127.0.0.1:{port} -cert client.pem -key client.key -CAfile ca.pem </dev/null 2>/dev/null | openssl x509 -noout -serial"
            ))
            .output()
            .expect("run openssl s_client");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let before = serial();
    assert!(before.starts_with("serial="), "{before:?}");
    std::thread::sleep(Duration::from_millis(1100));
    sign(dir.path(), "server");
    let after = serial();
    assert!(
        after.starts_with("serial=") && after != before,
        "{before} -> {after}"
    );
    assert_eq!(get("rotated-pass").status().as_u16(), 200);
}

/// slogate rejects a web config exactly when promtool does.
#[test]
fn web_configs_are_judged_as_promtool_judges_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    certificates(dir.path());
    let hash = bcrypt::hash("x", 4).expect("bcrypt");
    let cases = [
        ("empty", String::new()),
        ("users only", format!("basic_auth_users:\n  alice: '{hash}'\n")),
        ("plain password", "basic_auth_users:\n  alice: hunter2\n".to_string()),
        ("tls", "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n".to_string()),
        ("no key", "tls_server_config:\n  cert_file: server.pem\n".to_string()),
        ("no cert", "tls_server_config:\n  key_file: server.key\n".to_string()),
        ("missing file", "tls_server_config:\n  cert_file: nope.pem\n  key_file: server.key\n".to_string()),
        ("mismatched", "tls_server_config:\n  cert_file: server.pem\n  key_file: client.key\n".to_string()),
        ("bad auth type", "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_auth_type: Maybe\n".to_string()),
        ("ca without policy", "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_ca_file: ca.pem\n".to_string()),
        ("verify", "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_ca_file: ca.pem\n  client_auth_type: RequireAndVerifyClientCert\n".to_string()),
        ("request any", "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_auth_type: RequestClientCert\n".to_string()),
        ("tls13 only", "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  min_version: TLS13\n".to_string()),
        ("bad version", "tls_server_config:\n  min_version: TLS14\n".to_string()),
        ("gcm only", "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n".to_string()),
        ("bad cipher", "tls_server_config:\n  cipher_suites: [TLS_NULL]\n".to_string()),
        ("bad curve", "tls_server_config:\n  curve_preferences: [P1]\n".to_string()),
        ("header ok", "http_server_config:\n  headers:\n    Strict-Transport-Security: max-age=31536000\n".to_string()),
        ("header refused", "http_server_config:\n  headers:\n    Server: nginx\n".to_string()),
        ("header value", "http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n".to_string()),
        ("unknown field", "tls_server_config:\n  certfile: server.pem\n".to_string()),
        ("http2 flag", "http_server_config:\n  http2: false\n".to_string()),
    ];
    let mut disagreements = Vec::new();
    for (name, text) in &cases {
        let path = dir.path().join(format!("{}.yml", name.replace(' ', "-")));
        std::fs::write(&path, text).expect("write");
        let (promtool_ok, promtool_out) = run(
            Command::new(tool("promtool"))
                .args(["check", "web-config"])
                .arg(&path),
            "promtool",
        );
        let out = run_slogate(&[
            "validate",
            "--offline",
            &format!("--config.file={EXAMPLE}"),
            &format!("--web.config.file={}", path.display()),
        ]);
        let slogate_ok = out.status.success();
        if !slogate_ok {
            assert_eq!(out.status.code(), Some(64), "{name}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains(&path.display().to_string()),
                "{name}: the error names the file: {err}"
            );
        }
        if promtool_ok != slogate_ok {
            disagreements.push(format!(
                "{name}: promtool {promtool_ok} ({promtool_out}), slogate {slogate_ok} ({})",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
}

/// Without `--web.enable-lifecycle`, `POST /-/reload` is refused and SIGHUP
/// still reloads.
#[test]
fn reload_over_http_needs_the_lifecycle_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("slogate.yaml");
    std::fs::copy(EXAMPLE, &config).expect("copy example");
    let slogate = Slogate::serve(&config, &["--prometheus.url=http://127.0.0.1:1"]);
    let (code, body) = post(&slogate.url("/-/reload"));
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        body,
        "Lifecycle API is not enabled: start slogate with --web.enable-lifecycle to reload over HTTP (SIGHUP always reloads)\n"
    );
    let text = std::fs::read_to_string(&config).expect("read");
    std::fs::write(
        &config,
        text.replace("name: backups-fresh", "name: backups-recent"),
    )
    .expect("write");
    slogate.proc.signal("HUP");
    wait_for("SIGHUP reload", Duration::from_secs(30), || {
        let status = slogate.status();
        let names: Vec<String> = status["results"]
            .as_array()?
            .iter()
            .filter_map(|r| r["slo"].as_str().map(String::from))
            .collect();
        names.iter().any(|n| n == "backups-recent").then_some(())
    });
}

/// A config whose one probe needs no data (`vector(1) < 2`), reaching
/// Prometheus over mTLS (server_name differs from the URL's host) with a
/// password from a file.
fn client_config(dir: &Path, prom_port: u16, extra: &str) -> PathBuf {
    let path = dir.join("slogate.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: slogate/v1\n\
             prometheus:\n  url: https://127.0.0.1:{prom_port}\n  timeout: 5s\n{extra}\
             \x20 tls: {{ca_file: {d}/ca.pem, cert_file: {d}/client.pem, key_file: {d}/client.key, server_name: prometheus.internal}}\n\
             \x20 basic_auth: {{username: slogate, password_file: {d}/password}}\n\
             evaluation: {{interval: 1s}}\n\
             slos:\n  - name: probe\n    service: platform\n    sli: {{threshold: {{query: 'vector(1)', op: '<', value: 2}}}}\n",
            d = dir.display()
        ),
    )
    .expect("write config");
    path
}

fn prometheus_web(dir: &Path, password: &str) -> String {
    let hash = bcrypt::hash(password, 4).expect("bcrypt");
    let _ = dir;
    format!(
        "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  \
         client_ca_file: ca.pem\n  client_auth_type: RequireAndVerifyClientCert\n\
         basic_auth_users:\n  slogate: '{hash}'\n"
    )
}

/// mTLS to Prometheus with its certificate checked for `server_name`; a
/// password that rotates in both places without a restart; and the secret in
/// no output at all.
#[test]
fn mtls_to_prometheus_with_rotating_credentials_and_no_secret_in_any_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    certificates(dir.path());
    // A server certificate for the name slogate is told to expect.
    issue(
        dir.path(),
        "prom",
        "/CN=prometheus.internal",
        "subjectAltName=DNS:prometheus.internal\n",
    );
    let read = |name: &str| std::fs::read(dir.path().join(name)).expect("read");
    let (first, second) = ("pw-SECRET-first-1f2e", "pw-SECRET-second-9a8b");
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("server.pem", read("prom.pem")),
        ("server.key", read("prom.key")),
        ("ca.pem", read("ca.pem")),
    ];
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    let web = prometheus_web(dir.path(), first);
    let prom = crate::harness::Prometheus::start_with_web(
        "scrape_configs: []\n",
        None,
        Some((&web, &files)),
    );
    std::fs::write(dir.path().join("password"), format!("{first}\n")).expect("password");
    let config = client_config(dir.path(), prom.port, "");
    let mut outputs = Vec::new();

    for output in ["json", "table", "markdown", "junit"] {
        let out = run_slogate(&[
            "check",
            &format!("--config.file={}", config.display()),
            &format!("--output={output}"),
            "--log.level=debug",
        ]);
        let text = stdout_and_stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{output}: {text}");
        outputs.push(text);
    }
    let out = run_slogate(&["validate", &format!("--config.file={}", config.display())]);
    let text = stdout_and_stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    outputs.push(text);

    // Without server_name the certificate (for prometheus.internal) does not
    // match 127.0.0.1: unknown, saying why.
    let plain = dir.path().join("no-server-name.yaml");
    std::fs::write(
        &plain,
        std::fs::read_to_string(&config)
            .expect("read")
            .replace(", server_name: prometheus.internal", ""),
    )
    .expect("write");
    let out = run_slogate(&[
        "check",
        &format!("--config.file={}", plain.display()),
        "--output=json",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["results"][0]["state"], "unknown", "{doc:#}");
    assert!(
        doc["results"][0]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("certificate"),
        "{doc:#}"
    );

    // serve, then rotate the password in Prometheus' web config and in the file.
    let slogate = Slogate::serve(&config, &["--log.level=debug"]);
    let passes = |slogate: &Slogate| slogate.status()["results"][0]["state"] == "pass";
    wait_for("first evaluation passes", Duration::from_secs(30), || {
        passes(&slogate).then_some(())
    });
    std::fs::write(
        prom.dir.path().join("web.yml"),
        prometheus_web(dir.path(), second),
    )
    .expect("rotate prometheus");
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::write(dir.path().join("password"), format!("{second}\n")).expect("rotate file");
    let rotated_at = slogate.status()["evaluated_at"]
        .as_str()
        .unwrap_or("")
        .to_string();
    wait_for(
        "an evaluation after the rotation passes",
        Duration::from_secs(30),
        || {
            let s = slogate.status();
            (s["evaluated_at"].as_str() > Some(rotated_at.as_str())
                && s["results"][0]["state"] == "pass")
                .then_some(())
        },
    );
    // A wrong password: unknown, and still no secret anywhere.
    std::fs::write(dir.path().join("password"), "not-the-password\n").expect("break");
    wait_for(
        "a wrong password is unknown",
        Duration::from_secs(30),
        || (slogate.status()["results"][0]["state"] == "unknown").then_some(()),
    );
    outputs.push(slogate.status().to_string());
    outputs.push(slogate.metrics());
    outputs.push(get_text(&slogate.url("/")));
    outputs.push(get_text(&slogate.url("/slo/probe")));
    outputs.push(slogate.proc.log_text());
    for text in &outputs {
        for secret in [first, second] {
            assert!(!text.contains(secret), "{secret} leaked into:\n{text}");
        }
    }
    assert!(
        outputs
            .last()
            .is_some_and(|log| log.contains("Re-read the basic auth password file")),
        "the rotation is logged: {}",
        outputs.last().map(String::as_str).unwrap_or("")
    );
}

fn stdout_and_stderr(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn get_text(url: &str) -> String {
    crate::harness::get(url).1
}

/// An answer larger than `prometheus.max_response_bytes` is refused: the SLO it
/// feeds is unknown, with the reason, and slogate keeps serving.
#[test]
fn an_oversized_answer_is_unknown_not_a_crash() {
    let prom = crate::harness::Prometheus::start("scrape_configs: []\n", None);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("slogate.yaml");
    let pad = "a".repeat(4000);
    std::fs::write(
        &path,
        format!(
            "apiVersion: slogate/v1\nprometheus: {{url: '{}', max_response_bytes: 2048}}\n\
             slos:\n  - name: big\n    service: platform\n    sli: {{threshold: {{query: 'label_replace(vector(1), \"pad\", \"{pad}\", \"\", \"\")', op: '<', value: 2}}}}\n  \
             - name: small\n    service: platform\n    sli: {{threshold: {{query: 'vector(1)', op: '<', value: 2}}}}\n",
            prom.url()
        ),
    )
    .expect("write");
    let out = run_slogate(&[
        "check",
        &format!("--config.file={}", path.display()),
        "--output=json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let state = |slo: &str| {
        doc["results"]
            .as_array()
            .and_then(|r| r.iter().find(|x| x["slo"] == slo))
            .map(|x| (x["state"].clone(), x["reason"].clone()))
            .expect("result")
    };
    assert_eq!(state("small").0, "pass", "{doc:#}");
    assert_eq!(state("big").0, "unknown", "{doc:#}");
    assert_eq!(
        state("big").1,
        "query failed: answer larger than 2048 bytes (prometheus.max_response_bytes); the query reads too many series"
    );
}
