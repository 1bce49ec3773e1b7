//! Faults a real Prometheus cannot produce (garbage bodies, a hung socket, a 503),
//! from a tiny loopback server: each gives `unknown` with the reason, in time.

use std::io::Write;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::run_slogate;

#[derive(Clone, Copy)]
enum Fault {
    Garbage,
    Hang,
    Unavailable,
    /// A Thanos-style answer: data, plus a warning that a store was not asked.
    PartialData,
}

/// The warning a Thanos querier sends when a store is down.
const STORE_WARNING: &str = "No StoreAPIs matched for this query";

/// A healthy-looking vector: checkout served 1000 requests, none failed, and its
/// series are present; with the warning, the answer says it may lack data.
fn partial_body() -> String {
    let sample = |part: &str, v: &str| {
        format!(
            r#"{{"metric":{{"service":"checkout","slogate_part":"{part}"}},"value":[1700000000,"{v}"]}}"#
        )
    };
    format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{},{},{}]}},"warnings":["{STORE_WARNING}"]}}"#,
        sample("total", "1000"),
        sample("bad", "0"),
        sample("present", "1")
    )
}

/// Reads one HTTP request (head and body) as text.
fn read_request(stream: &mut std::net::TcpStream) -> String {
    crate::harness::read_http_request(stream).map_or(String::new(), |(head, body)| {
        format!("{head}\r\n\r\n{}", String::from_utf8_lossy(&body))
    })
}

/// Serves `fault` on 127.0.0.1 for at most 200 connections; returns the port, the
/// number of requests seen and their text.
fn fault_server(fault: Fault) -> (u16, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (counter, kept) = (seen.clone(), requests.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(200) {
            let Ok(mut stream) = stream else { continue };
            let (counter, kept) = (counter.clone(), kept.clone());
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                // One request per connection is enough for these faults.
                let request = read_request(&mut stream);
                kept.lock().expect("lock").push(request);
                counter.fetch_add(1, Ordering::SeqCst);
                let partial = partial_body();
                let (status, body) = match fault {
                    Fault::Garbage => ("200 OK", "<html><body>Welcome to nginx!</body></html>"),
                    Fault::Unavailable => ("503 Service Unavailable", "upstream overloaded"),
                    Fault::PartialData => ("200 OK", partial.as_str()),
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
    (port, seen, requests)
}

fn check_against(port: u16) -> (Option<i32>, Value, Duration) {
    check_with(port, "")
}

/// `check` against the fault server, with extra `prometheus` settings.
fn check_with(port: u16, prometheus_extra: &str) -> (Option<i32>, Value, Duration) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("slogate.yaml");
    std::fs::write(
        &config,
        format!(
            "apiVersion: slogate/v1\nprometheus: {{url: 'http://127.0.0.1:{port}', timeout: 2s{prometheus_extra}}}\n\
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
    let (port, _, _) = fault_server(Fault::Garbage);
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
    let (port, _, _) = fault_server(Fault::Hang);
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
    let (port, seen, _) = fault_server(Fault::Unavailable);
    let (code, doc, _) = check_against(port);
    assert_eq!(code, Some(2));
    assert_eq!(
        only_result(&doc)["reason"],
        "query failed: unexpected response (HTTP 503): expected value at line 1 column 1; body starts \"upstream overloaded\""
    );
    // 8 queries (the 30d window and 7 burn windows), 3 attempts each.
    assert_eq!(seen.load(Ordering::SeqCst), 24);
}

#[test]
fn partial_answers_are_unknown_unless_accepted() {
    let (port, _, requests) = fault_server(Fault::PartialData);
    let (code, doc, _) = check_against(port);
    assert_eq!(code, Some(2));
    assert_eq!(
        only_result(&doc)["reason"],
        format!("query failed: partial response: {STORE_WARNING}")
    );
    assert_eq!(doc["prometheus_up"], true);
    // Thanos is asked not to answer partially at all.
    let sent = requests.lock().expect("lock").clone();
    assert!(!sent.is_empty());
    assert!(
        sent.iter().all(|r| r.contains("partial_response=false")),
        "{sent:?}"
    );
    // `accept` takes the answer as it is (and does not ask for completeness).
    let (port, _, requests) = fault_server(Fault::PartialData);
    let (code, doc, _) = check_with(port, ", partial_response: accept");
    let r = &doc["results"][0];
    assert_eq!(
        (code, &r["state"]),
        (Some(0), &Value::from("pass")),
        "{doc:#}"
    );
    assert_eq!(r["events"], 1000.0);
    let sent = requests.lock().expect("lock").clone();
    assert!(
        sent.iter().all(|r| !r.contains("partial_response")),
        "{sent:?}"
    );
}
