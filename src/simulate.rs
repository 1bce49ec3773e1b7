//! The demo and test workload: serves the metrics an instrumented service exposes,
//! for several services, with regressions that can be switched on at run time
//! (`POST /scenario?name=error-burst`) so a demo or game day can watch verdicts change.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serde::Deserialize;

/// Services the simulator pretends to be.
pub const SERVICES: [&str; 3] = ["checkout", "search", "catalog"];
const ROUTES: [&str; 2] = ["/api/v1/items", "/api/v1/orders"];
/// Requests per route per tick; ticks are 100 ms, so 40 requests/s per service.
const REQUESTS_PER_TICK: u64 = 2;
const TICK: Duration = Duration::from_millis(100);
/// Buckets of a typical web latency histogram; 0.2 is the SLO threshold.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.5, 5.0];

/// A workload shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Healthy,
    ErrorBurst,
    LatencyRegression,
    CacheCold,
}

impl Scenario {
    const ALL: [Scenario; 4] = [
        Self::Healthy,
        Self::ErrorBurst,
        Self::LatencyRegression,
        Self::CacheCold,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::ErrorBurst => "error-burst",
            Self::LatencyRegression => "latency-regression",
            Self::CacheCold => "cache-cold",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|x| x.as_str()).collect();
                format!("unknown scenario {s:?}; choose one of {}", names.join(", "))
            })
    }
}

/// How one service behaves under a scenario.
#[derive(Debug, Clone, Copy)]
struct Behaviour {
    /// Share of requests answered 5xx.
    error_ratio: f64,
    /// Percent of requests slower than 200 ms.
    slow_percent: u64,
    /// Percent of cache lookups that hit.
    hit_percent: u64,
}

fn behaviour(scenario: Scenario, hit: bool) -> Behaviour {
    // Healthy: 0.02 % errors (a fifth of a 99.9 % budget), 1 % slow, 95 % hits.
    let healthy = Behaviour {
        error_ratio: 0.0002,
        slow_percent: 1,
        hit_percent: 95,
    };
    if !hit {
        return healthy;
    }
    match scenario {
        Scenario::Healthy => healthy,
        // 5 % errors: a 50x burn of a 99.9 % budget.
        Scenario::ErrorBurst => Behaviour {
            error_ratio: 0.05,
            ..healthy
        },
        Scenario::LatencyRegression => Behaviour {
            slow_percent: 40,
            ..healthy
        },
        Scenario::CacheCold => Behaviour {
            hit_percent: 40,
            ..healthy
        },
    }
}

/// The latency of the request with sequence number `k` (0..100 in a spread order).
fn latency(k: u64, slow_percent: u64) -> f64 {
    match k {
        k if k >= 100 - slow_percent => 0.35,
        k if k < 80 => 0.03,
        k if k < 92 => 0.08,
        _ => 0.15,
    }
}

type Labels = Vec<(String, String)>;

struct Workload {
    registry: Registry,
    requests: Family<Labels, Counter>,
    durations: Family<Labels, Histogram, fn() -> Histogram>,
    hits: Family<Labels, Counter>,
    misses: Family<Labels, Counter>,
    scenario: Mutex<Scenario>,
    target: String,
    sequence: Mutex<u64>,
    error_debt: Mutex<Vec<f64>>,
}

fn new_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Workload {
    fn new(scenario: Scenario, target: String) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<Labels, Counter>::default();
        let durations =
            Family::<Labels, Histogram, fn() -> Histogram>::new_with_constructor(new_histogram);
        let hits = Family::<Labels, Counter>::default();
        let misses = Family::<Labels, Counter>::default();
        let backup = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register("http_requests", "HTTP requests served", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            durations.clone(),
        );
        registry.register("cache_hits", "Cache lookups that hit", hits.clone());
        registry.register("cache_misses", "Cache lookups that missed", misses.clone());
        registry.register(
            "backup_last_success_timestamp_seconds",
            "Unix time of the last successful backup",
            backup.clone(),
        );
        // The last nightly backup finished an hour ago.
        backup.set(chrono::Utc::now().timestamp() as f64 - 3600.0);
        for service in SERVICES {
            let _ = hits.get_or_create(&labels(&[("service", service)]));
            let _ = misses.get_or_create(&labels(&[("service", service)]));
            for route in ROUTES {
                let _ = requests.get_or_create(&labels(&[
                    ("service", service),
                    ("route", route),
                    ("code", "200"),
                ]));
                let _ = durations.get_or_create(&labels(&[("service", service), ("route", route)]));
            }
        }
        Self {
            registry,
            requests,
            durations,
            hits,
            misses,
            scenario: Mutex::new(scenario),
            target,
            sequence: Mutex::new(0),
            error_debt: Mutex::new(vec![0.0; SERVICES.len()]),
        }
    }

    fn scenario(&self) -> Scenario {
        *self.scenario.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Serves one tick's worth of requests for every service.
    fn tick(&self) {
        let scenario = self.scenario();
        let mut seq = self.sequence.lock().unwrap_or_else(|e| e.into_inner());
        let mut debt = self.error_debt.lock().unwrap_or_else(|e| e.into_inner());
        for (i, service) in SERVICES.iter().enumerate() {
            let b = behaviour(scenario, *service == self.target);
            for route in ROUTES {
                for _ in 0..REQUESTS_PER_TICK {
                    *seq += 1;
                    // 37 and 53 are prime to 100: each 100 requests visit every k once.
                    let k = (*seq * 37) % 100;
                    debt[i] += b.error_ratio;
                    let code = if debt[i] >= 1.0 {
                        debt[i] -= 1.0;
                        "500"
                    } else {
                        "200"
                    };
                    self.requests
                        .get_or_create(&labels(&[
                            ("service", service),
                            ("route", route),
                            ("code", code),
                        ]))
                        .inc();
                    self.durations
                        .get_or_create(&labels(&[("service", service), ("route", route)]))
                        .observe(latency(k, b.slow_percent));
                    let cache = if (*seq * 53) % 100 < b.hit_percent {
                        &self.hits
                    } else {
                        &self.misses
                    };
                    cache.get_or_create(&labels(&[("service", service)])).inc();
                }
            }
        }
    }

    fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("encoding into a String");
        out
    }
}

#[derive(Deserialize)]
struct ScenarioQuery {
    name: Option<String>,
}

async fn metrics(State(w): State<Arc<Workload>>) -> Response {
    (
        [(header::CONTENT_TYPE, crate::export::CONTENT_TYPE)],
        w.encode(),
    )
        .into_response()
}

async fn get_scenario(State(w): State<Arc<Workload>>) -> String {
    format!("{}\n", w.scenario())
}

async fn set_scenario(State(w): State<Arc<Workload>>, Query(q): Query<ScenarioQuery>) -> Response {
    let Some(name) = q.name else {
        return (
            StatusCode::BAD_REQUEST,
            "want ?name=healthy|error-burst|latency-regression|cache-cold\n",
        )
            .into_response();
    };
    match name.parse::<Scenario>() {
        Ok(s) => {
            *w.scenario.lock().unwrap_or_else(|e| e.into_inner()) = s;
            tracing::info!(scenario = %s, service = %w.target, "Scenario switched");
            format!("{s}\n").into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    }
}

/// Serves the workload on `listener` until `shutdown` resolves.
pub async fn run(
    listener: tokio::net::TcpListener,
    scenario: Scenario,
    target: String,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let workload = Arc::new(Workload::new(scenario, target));
    let ticker = workload.clone();
    let ticking = tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        loop {
            interval.tick().await;
            ticker.tick();
        }
    });
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/scenario", get(get_scenario).post(set_scenario))
        .with_state(workload);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    ticking.abort();
    served
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_latency_keeps_99_percent_under_the_threshold() {
        let slow = (0..100).filter(|k| latency(*k, 1) > 0.2).count();
        assert_eq!(slow, 1);
        let slow = (0..100).filter(|k| latency(*k, 40) > 0.2).count();
        assert_eq!(slow, 40);
    }

    #[test]
    fn scenario_names_round_trip_and_unknown_ones_are_named() {
        for s in Scenario::ALL {
            assert_eq!(s.to_string().parse::<Scenario>(), Ok(s));
        }
        assert_eq!(
            "boom".parse::<Scenario>().unwrap_err(),
            "unknown scenario \"boom\"; choose one of healthy, error-burst, latency-regression, cache-cold"
        );
    }
}
