//! A tenant header (Mimir's `X-Scope-OrgID`) from `prometheus.headers` reaches
//! the backend on every query, and never appears in slogate's output or logs,
//! even at debug level. A loopback proxy in front of the real Prometheus
//! records each request's headers.

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::{http, read_http_request, run_slogate};
use crate::history::end_rfc3339;
use crate::known_answer::{assert_designed, history_prometheus};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/slogate.yaml");
const TENANT: &str = "tenant-4711-not-for-logs";

/// Forwards requests to `upstream` for at most `limit` connections or a
/// minute, one request per connection, recording each request's head.
fn recording_proxy(upstream: String, limit: usize) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    listener.set_nonblocking(true).expect("nonblocking");
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    std::thread::spawn(move || {
        let client = http();
        let started = Instant::now();
        let mut served = 0;
        while served < limit && started.elapsed() < Duration::from_secs(60) {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            served += 1;
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let Some((head, body)) = read_http_request(&mut stream) else {
                continue;
            };
            seen.lock().expect("lock").push(head.clone());
            let mut line = head.lines().next().unwrap_or_default().split(' ');
            let (method, path) = (line.next().unwrap_or("GET"), line.next().unwrap_or("/"));
            let url = format!("{upstream}{path}");
            let request = if method == "POST" {
                client
                    .post(url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
            } else {
                client.get(url)
            };
            let (status, answer) = match request.send() {
                Ok(r) => (
                    r.status().as_u16(),
                    r.bytes().map(|b| b.to_vec()).unwrap_or_default(),
                ),
                Err(_) => (502, Vec::new()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                answer.len()
            );
            let _ = stream.write_all(&answer);
        }
    });
    (port, heads)
}

#[test]
fn the_tenant_header_reaches_the_backend_and_never_the_logs() {
    let prom = history_prometheus();
    let (port, heads) = recording_proxy(prom.url(), 400);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("slogate.yaml");
    let text = std::fs::read_to_string(EXAMPLE).expect("example").replace(
        "  timeout: 30s\n",
        &format!("  timeout: 30s\n  headers:\n    X-Scope-OrgID: {TENANT}\n"),
    );
    assert!(text.contains(TENANT));
    std::fs::write(&config, text).expect("write");
    let out = run_slogate(&[
        "--log.level=debug",
        "check",
        &format!("--config.file={}", config.display()),
        &format!("--prometheus.url=http://127.0.0.1:{port}"),
        &format!("--at={}", end_rfc3339()),
        "--output=json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("check JSON");
    assert_designed(&doc);
    let heads = heads.lock().expect("lock").clone();
    assert!(
        heads.len() >= 10,
        "{} requests reached the proxy",
        heads.len()
    );
    for head in &heads {
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("x-scope-orgid: {TENANT}")),
            "a query without the tenant header:\n{head}"
        );
    }
    assert!(
        stderr.contains("level=debug") || stderr.contains("DEBUG"),
        "debug logs: {stderr}"
    );
    assert!(
        !stderr.contains(TENANT),
        "the tenant appears in the logs:\n{stderr}"
    );
    assert!(!stdout.contains(TENANT), "the tenant appears in the output");
    let out = run_slogate(&[
        "--log.level=debug",
        "validate",
        "--offline",
        &format!("--config.file={}", config.display()),
    ]);
    assert!(out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(TENANT), "validate shows the tenant:\n{all}");
}

/// Two Mimir tenants as two named datasources, each behind its own recording
/// proxy in front of the same Prometheus: `serve` sends each SLO's queries with
/// its own datasource's tenant only, and no tenant shows in the debug log,
/// `/metrics`, the JSON API or the status page.
#[test]
fn each_named_datasource_sends_its_own_tenant_and_serve_never_shows_it() {
    let prom = history_prometheus();
    let (port_a, heads_a) = recording_proxy(prom.url(), 400);
    let (port_b, heads_b) = recording_proxy(prom.url(), 400);
    let (tenant_a, tenant_b) = ("team-a-secret-org", "team-b-secret-org");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("slogate.yaml");
    std::fs::write(
        &config,
        format!(
            r#"apiVersion: slogate/v1
datasources:
  team-a: {{url: "http://127.0.0.1:{port_a}", headers: {{X-Scope-OrgID: {tenant_a}}}}}
  team-b: {{url: "http://127.0.0.1:{port_b}", headers: {{X-Scope-OrgID: {tenant_b}}}}}
slos:
  - name: availability-a
    datasource: team-a
    objective: 99.9
    group_by: [service]
    sli: {{ratio: {{errors: 'http_requests_total{{code=~"5.."}}', total: http_requests_total}}}}
  - name: availability-b
    datasource: team-b
    objective: 99.9
    group_by: [service]
    sli: {{ratio: {{errors: 'http_requests_total{{code=~"5.."}}', total: http_requests_total}}}}
"#
        ),
    )
    .expect("write");
    let slogate = crate::harness::Slogate::serve(
        &config,
        &["--log.level=debug", &format!("--at={}", end_rfc3339())],
    );
    let status = slogate.status();
    let results = status["results"].as_array().expect("results");
    // Four services each (inventory has no traffic in the design).
    assert_eq!(results.len(), 8);
    for r in results {
        assert!(
            matches!(
                r["state"].as_str(),
                Some("pass" | "warn" | "fail" | "insufficient_data")
            ),
            "{r}"
        );
        let slo = r["slo"].as_str().expect("slo");
        let want = if slo.ends_with("-a") {
            "team-a"
        } else {
            "team-b"
        };
        assert_eq!(r["datasource"], want, "{r}");
    }
    let (_, page) = crate::harness::get(&slogate.url("/"));
    let shown = format!(
        "{}{}{}{}",
        slogate.metrics(),
        status,
        page,
        slogate.proc.log_text()
    );
    assert!(shown.contains("level=debug") || shown.contains("DEBUG"));
    for tenant in [tenant_a, tenant_b] {
        assert!(!shown.contains(tenant), "{tenant} is shown");
    }
    for (heads, own, other) in [
        (&heads_a, tenant_a, tenant_b),
        (&heads_b, tenant_b, tenant_a),
    ] {
        let heads = heads.lock().expect("lock").clone();
        assert!(heads.len() >= 3, "{} requests with {own}", heads.len());
        for head in &heads {
            let head = head.to_ascii_lowercase();
            assert!(head.contains(&format!("x-scope-orgid: {own}")), "{head}");
            assert!(!head.contains(other), "{head}");
        }
    }
}
