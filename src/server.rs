//! The HTTP surface: `fn router(state) -> Router`. Handlers only read state or
//! forward a request to the app; they hold no business logic.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use tokio::sync::{mpsc, oneshot, watch};

use crate::eval::snapshot::Published;
use crate::export::{Exporter, CONTENT_TYPE};
use crate::page::View;
use crate::scheduler::Engine;

/// A reload request; the app answers with the outcome.
pub type ReloadRequest = oneshot::Sender<Result<(), String>>;

/// What the handlers read.
#[derive(Clone)]
pub struct AppState {
    pub published: Arc<Published>,
    pub exporter: Arc<Exporter>,
    pub reload: mpsc::Sender<ReloadRequest>,
    /// The engine in use, for what detail pages read from Prometheus on
    /// request and the SLO definitions they show (`None`, in unit tests:
    /// detail pages answer 404).
    pub engine: Option<watch::Receiver<Arc<Engine>>>,
    /// How pages are served (the instant `serve --at` replays).
    pub view: View,
    /// `POST /-/reload` is allowed (`--web.enable-lifecycle`).
    pub lifecycle: bool,
}

/// Every route slogate serves.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/slo/{name}", get(detail_page))
        .route("/metrics", get(metrics))
        .route("/api/v1/status", get(status))
        .route("/-/healthy", get(|| async { "OK\n" }))
        .route("/-/ready", get(ready))
        .route("/-/reload", post(reload))
        .with_state(state)
}

async fn metrics(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let gzip = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            // `gzip;q=0` refuses gzip.
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f64>().ok())
                    == Some(0.0)
            });
            name.eq_ignore_ascii_case("gzip") && !refused
        });
    // Encoding a new snapshot can take a while with many SLO groups: off the
    // async workers.
    let exporter = s.exporter.clone();
    let Ok(scrape) = tokio::task::spawn_blocking(move || exporter.scrape(gzip)).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "encoding failed\n").into_response();
    };
    let mut response = ([(header::CONTENT_TYPE, CONTENT_TYPE)], scrape.body).into_response();
    let h = response.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if scrape.gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

fn not_yet() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "slogate has not finished its first evaluation yet\n",
    )
        .into_response()
}

async fn status(State(s): State<AppState>) -> Response {
    match s.published.latest() {
        Some(snapshot) => Json(crate::report::status_json(
            &crate::report::Report::of_snapshot(&snapshot),
        ))
        .into_response(),
        None => not_yet(),
    }
}

async fn status_page(State(s): State<AppState>) -> Response {
    match s.published.latest() {
        Some(snapshot) => Html(crate::page::render(&snapshot, &s.view)).into_response(),
        None => not_yet(),
    }
}

/// `/slo/{name}?label=value...`: one SLO group, with charts read on request.
async fn detail_page(
    State(s): State<AppState>,
    Path(name): Path<String>,
    Query(group): Query<BTreeMap<String, String>>,
) -> Response {
    let Some(snapshot) = s.published.latest() else {
        return not_yet();
    };
    let Some(result) = snapshot
        .results
        .iter()
        .find(|r| r.slo == name && r.group == group)
    else {
        return (
            StatusCode::NOT_FOUND,
            format!("no SLO {name:?} with group {group:?} in the last evaluation\n"),
        )
            .into_response();
    };
    let at = snapshot.run.at;
    let engine = s.engine.as_ref().map(|e| e.borrow().clone());
    let slo = engine
        .as_ref()
        .and_then(|e| e.slos.iter().find(|x| x.name == name).cloned());
    let Some(slo) = slo else {
        return (
            StatusCode::NOT_FOUND,
            format!("SLO {name:?} is not in the config in use\n"),
        )
            .into_response();
    };
    let detail = match &engine {
        Some(e) => {
            crate::scheduler::detail::detail(e.source.of(&slo), &slo, &result.group, at).await
        }
        None => Default::default(),
    };
    let track = snapshot.history.as_ref().and_then(|h| {
        h.read()
            .unwrap_or_else(|e| e.into_inner())
            .track(&result.slo, &result.group)
            .cloned()
    });
    Html(crate::page::detail::render(
        result,
        &slo,
        &detail,
        track.as_ref(),
        at,
        &s.view,
    ))
    .into_response()
}

async fn ready(State(s): State<AppState>) -> Response {
    match s.published.latest() {
        Some(_) => "Ready\n".into_response(),
        None => not_yet(),
    }
}

async fn reload(State(s): State<AppState>) -> Response {
    if !s.lifecycle {
        return (
            StatusCode::FORBIDDEN,
            "Lifecycle API is not enabled: start slogate with --web.enable-lifecycle to reload over HTTP (SIGHUP always reloads)\n",
        )
            .into_response();
    }
    let (tx, rx) = oneshot::channel();
    if s.reload.send(tx).await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    match rx.await {
        Ok(Ok(())) => "Reloaded\n".into_response(),
        Ok(Err(e)) => (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response(),
    }
}

/// Serves `router` on `listener` until `shutdown` resolves: plain HTTP, or as
/// the web config says (TLS, client certificates, basic auth, extra headers).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    web: Option<Arc<web::Watched>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let Some(web) = web else {
        return axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await;
    };
    let router = router.layer(axum::middleware::from_fn_with_state(
        web.clone(),
        guard::guard,
    ));
    let Some(tls) = web.current().tls.clone() else {
        return axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await;
    };
    let config = web::server_config(&tls).map_err(std::io::Error::other)?;
    tls::serve(listener, router, config, shutdown).await
}

mod guard;
mod tls;
pub mod web;

#[cfg(test)]
mod tests;
