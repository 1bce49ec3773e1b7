//! Every endpoint through the router itself (`tower::ServiceExt::oneshot`), no socket.

use axum::body::Body;
use axum::http::{Method, Request};
use tower::ServiceExt;

use super::*;
use crate::eval::snapshot;
use crate::export::Flags;
use crate::prom::QueryMetrics;

/// A router over a fresh state, and the state's published cell and reload queue.
fn app() -> (Router, Arc<Published>, mpsc::Receiver<ReloadRequest>) {
    let published = Arc::new(Published::default());
    let exporter = Arc::new(Exporter::new(
        published.clone(),
        &QueryMetrics::default(),
        Arc::new(Flags::default()),
    ));
    let (reload, requests) = mpsc::channel(4);
    let state = AppState {
        published: published.clone(),
        exporter,
        reload,
        engine: None,
        view: Default::default(),
        lifecycle: true,
    };
    (router(state), published, requests)
}

/// Status, content type and body of one request.
async fn call(router: &Router, method: Method, path: &str) -> (u16, String, String) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[tokio::test]
async fn before_the_first_evaluation_only_health_and_metrics_answer() {
    let (router, _, _) = app();
    assert_eq!(
        call(&router, Method::GET, "/-/healthy").await,
        (200, "text/plain; charset=utf-8".into(), "OK\n".into())
    );
    let not_yet = "slogate has not finished its first evaluation yet\n".to_string();
    for path in ["/-/ready", "/api/v1/status", "/"] {
        let (status, _, body) = call(&router, Method::GET, path).await;
        assert_eq!((status, &body), (503, &not_yet), "{path}");
    }
    let (status, content_type, body) = call(&router, Method::GET, "/metrics").await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, crate::export::CONTENT_TYPE)
    );
    assert!(body.contains("\nslogate_ready 0.0\n"), "{body}");
    assert!(body.ends_with("# EOF\n"), "{body}");
}

#[tokio::test]
async fn after_an_evaluation_every_endpoint_reads_the_snapshot() {
    let (router, published, _) = app();
    published.publish(snapshot::example());
    assert_eq!(call(&router, Method::GET, "/-/ready").await.2, "Ready\n");
    let (status, content_type, body) = call(&router, Method::GET, "/api/v1/status").await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let doc: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(doc["ready"], false);
    assert_eq!(doc["evaluated_at"], "2026-11-24T12:00:00Z");
    let states: Vec<&str> = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["state"].as_str())
        .collect();
    assert_eq!(states, ["pass", "fail", "fail"]);
    let (status, content_type, page) = call(&router, Method::GET, "/").await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "text/html; charset=utf-8")
    );
    assert!(page.contains("data-state=\"fail\""), "{page}");
    let (_, _, metrics) = call(&router, Method::GET, "/metrics").await;
    assert!(
        metrics.contains(
            "slogate_slo_state{service=\"checkout\",slo=\"availability\",team=\"<b>payments</b>\",state=\"pass\"} 1.0"
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn reload_answers_with_the_outcome() {
    let (router, _, mut requests) = app();
    let answering = tokio::spawn(async move {
        let first = requests.recv().await.expect("first request");
        let _ = first.send(Ok(()));
        let second = requests.recv().await.expect("second request");
        let _ = second.send(Err("x.yaml: 1 problem\n  x.yaml: slos: is empty".into()));
        // Dropped without an answer: the app is shutting down.
        drop(requests.recv().await);
    });
    assert_eq!(
        call(&router, Method::POST, "/-/reload").await,
        (200, "text/plain; charset=utf-8".into(), "Reloaded\n".into())
    );
    let (status, _, body) = call(&router, Method::POST, "/-/reload").await;
    assert_eq!(
        (status, body.as_str()),
        (400, "x.yaml: 1 problem\n  x.yaml: slos: is empty\n")
    );
    let (status, _, body) = call(&router, Method::POST, "/-/reload").await;
    assert_eq!((status, body.as_str()), (503, "shutting down\n"));
    answering.await.expect("answering task");
    assert_eq!(call(&router, Method::GET, "/-/reload").await.0, 405);
    assert_eq!(call(&router, Method::GET, "/nowhere").await.0, 404);
}

#[tokio::test]
async fn metrics_are_gzipped_when_the_scraper_accepts_gzip() {
    use std::io::Read;
    let (router, published, _) = app();
    published.publish(snapshot::example());
    let scrape = |accept: &'static str| {
        let router = router.clone();
        async move {
            let request = Request::builder()
                .uri("/metrics")
                .header(header::ACCEPT_ENCODING, accept)
                .body(Body::empty())
                .expect("request");
            let response = router.oneshot(request).await.expect("infallible");
            let encoding = response
                .headers()
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().expect("ascii").to_string());
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("body");
            (encoding, body)
        }
    };
    let (_, _, plain) = call(&router, Method::GET, "/metrics").await;
    // What Prometheus sends.
    let (encoding, body) = scrape("gzip").await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut text)
        .expect("gzip");
    assert_eq!(text, plain);
    assert!(body.len() < plain.len());
    for refused in ["identity", "gzip;q=0", "br, deflate"] {
        let (encoding, body) = scrape(refused).await;
        assert_eq!(
            (encoding, body.as_ref()),
            (None, plain.as_bytes()),
            "{refused}"
        );
    }
    assert_eq!(scrape("br, GZIP;q=0.5").await.0.as_deref(), Some("gzip"));
}
