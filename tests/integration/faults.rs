//! Faults a real Prometheus cannot produce (garbage bodies, a hung socket, a 503),
//! from a tiny loopback server: each gives `unknown` with the reason, in time.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::run_slogate;

#[derive(Clone, Copy)]
enum Fault {
    Garbage,
    Hang,
    Unavailable,
}

/// Serves `fault` on 127.0.0.1 for at most 200 connections; returns the port and
/// the number of requests seen.
fn fault_server(fault: Fault) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(200) {
            let Ok(mut stream) = stream else { continue };
            let counter = counter.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = [0u8; 8192];
                // One request per connection is enough for these faults.
                let _ = stream.read(&mut buf);
                counter.fetch_add(1, Ordering::SeqCst);
                let (status, body) = match fault {
                    Fault::Garbage => ("200 OK", "<html><body>Welcome to nginx!</body></html>"),
                    Fault::Unavailable => ("503 Service Unavailable", "upstream overloaded"),
                    Fault::Hang => {
                        std::thread::sleep(Duration::from_secs(15));
                        return;
                    }
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    (port, seen)
}

fn check_against(port: u16) -> (Option<i32>, Value, Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("slogate.yaml");
    std::fs::write(
        &config,
        format!(
            "apiVersion: slogate/v1\nprometheus: {{url: 'http://127.0.0.1:{port}', timeout: 2s}}\n\
             slos:\n  - name: availability\n    objective: 99.9\n    group_by: [service]\n\
             \x20   sli: {{ratio: {{errors: 'http_requests_total{{code=~\"5..\"}}', total: http_requests_total}}}}\n"
        ),
    )
    .expect("write config");
    let started = Instant::now();
    let out = run_slogate(&[
        "check",
        &format!("--config.file={}", config.display()),
        "--output=json",
    ]);
    let took = started.elapsed();
    let doc = serde_json::from_slice(&out.stdout).expect("check JSON");
    (out.status.code(), doc, took)
}

fn only_result(doc: &Value) -> &Value {
    let results = doc["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{doc:#}");
    assert_eq!(results[0]["state"], "unknown");
    assert_eq!(results[0]["ready"], false);
    assert_eq!(doc["ready"], false);
    &results[0]
}

#[test]
fn garbage_body_is_unknown_with_the_reason() {
    let (port, _) = fault_server(Fault::Garbage);
    let (code, doc, _) = check_against(port);
    assert_eq!(code, Some(2));
    assert_eq!(
        only_result(&doc)["reason"],
        "query failed: unexpected response (HTTP 200): expected value at line 1 column 1; \
         body starts \"<html><body>Welcome to nginx!</body></html>\""
    );
    // The server answered, just badly: Prometheus counts as reachable.
    assert_eq!(doc["prometheus_up"], true);
}

#[test]
fn hung_socket_is_unknown_within_the_timeout() {
    let (port, _) = fault_server(Fault::Hang);
    let (code, doc, took) = check_against(port);
    assert_eq!(code, Some(2));
    assert_eq!(
        only_result(&doc)["reason"],
        "query failed: no answer within 2s"
    );
    assert_eq!(doc["prometheus_up"], false);
    // Bounded by the 2s timeout (queries run concurrently), not by the 15s hang.
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn service_unavailable_is_retried_a_bounded_number_of_times() {
    let (port, seen) = fault_server(Fault::Unavailable);
    let (code, doc, _) = check_against(port);
    assert_eq!(code, Some(2));
    assert_eq!(
        only_result(&doc)["reason"],
        "query failed: unexpected response (HTTP 503): expected value at line 1 column 1; body starts \"upstream overloaded\""
    );
    // 8 queries (the 30d window and 7 burn windows), 3 attempts each.
    assert_eq!(seen.load(Ordering::SeqCst), 24);
}
