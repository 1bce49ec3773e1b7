//! Owns time and concurrency: runs every query of an evaluation with bounded
//! concurrency at one instant, judges the answers, and publishes an immutable
//! snapshot that scrapes and API calls read.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use tokio::sync::watch;

use crate::eval::{self, Answer, Readiness, SloResult};
use crate::prom::{Client, ClientError};
use crate::slo::promql::QueryKind;
use crate::slo::{PromDuration, Slo};

/// The outcome of one evaluation of every SLO.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub evaluated_at: DateTime<Utc>,
    pub results: Vec<SloResult>,
    pub readiness: Readiness,
    /// Every query reached Prometheus (answered, even with an error).
    pub prometheus_up: bool,
    pub duration: Duration,
    pub queries_sent: usize,
}

/// What one evaluation covers.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub slos: &'a [Arc<Slo>],
    /// Evaluate as of this instant.
    pub at: DateTime<Utc>,
    /// Judge over this window instead of each SLO's own (launch checkpoints).
    pub window: Option<PromDuration>,
    pub concurrency: usize,
}

/// Group label sets seen per SLO, remembered so an outage is reported per group.
pub type KnownGroups = HashMap<String, Vec<BTreeMap<String, String>>>;

/// Runs one evaluation.
pub async fn evaluate(client: &Client, req: &Request<'_>, known: &KnownGroups) -> Snapshot {
    let started = Instant::now();
    let time = req.at.timestamp_millis() as f64 / 1000.0;
    let plans: Vec<(usize, PromDuration, Vec<_>)> = req
        .slos
        .iter()
        .enumerate()
        .map(|(i, slo)| {
            let window = req.window.unwrap_or(slo.window);
            (i, window, slo.plan(window))
        })
        .collect();
    // Owned jobs: borrowed ones trip a higher-ranked lifetime limit of rustc
    // when this future is spawned.
    let jobs: Vec<(usize, QueryKind, String)> = plans
        .iter()
        .flat_map(|(i, _, plan)| plan.iter().map(move |q| (*i, q.kind, q.promql.clone())))
        .collect();
    let answers: Vec<(usize, QueryKind, Result<_, ClientError>)> = stream::iter(jobs)
        .map(|(i, kind, promql)| {
            let client = client.clone();
            async move { (i, kind, client.query(&promql, Some(time)).await) }
        })
        .buffer_unordered(req.concurrency.max(1))
        .collect()
        .await;
    let queries_sent = answers.len();
    let mut prometheus_up = true;
    let mut by_slo: Vec<HashMap<QueryKind, Answer>> = vec![HashMap::new(); req.slos.len()];
    for (i, kind, answer) in answers {
        let answer = answer.map_err(|e| {
            if e.is_unreachable() {
                prometheus_up = false;
            }
            tracing::warn!(slo = %req.slos[i].name, error = %e, "Query failed");
            e.to_string()
        });
        by_slo[i].insert(kind, answer);
    }
    let no_groups = Vec::new();
    let results: Vec<SloResult> = plans
        .iter()
        .flat_map(|(i, window, plan)| {
            let slo = &req.slos[*i];
            slo.evaluate(&eval::Input {
                window: *window,
                answers: &by_slo[*i],
                queries: plan.iter().map(|q| q.promql.clone()).collect(),
                known_groups: known.get(&slo.name).unwrap_or(&no_groups),
            })
        })
        .collect();
    Snapshot {
        evaluated_at: req.at,
        readiness: eval::roll_up(&results),
        results,
        prometheus_up,
        duration: started.elapsed(),
        queries_sent,
    }
}

/// Remembers the groups of every SLO that was judged from data.
pub fn remember_groups(known: &mut KnownGroups, snapshot: &Snapshot) {
    let mut seen: KnownGroups = HashMap::new();
    for r in &snapshot.results {
        if r.state != eval::State::Unknown {
            let groups = seen.entry(r.slo.clone()).or_default();
            groups.push(r.group.clone());
        }
    }
    for (slo, groups) in seen {
        known.insert(slo, groups);
    }
}

/// The latest snapshot, shared with the HTTP server and the metrics collector.
#[derive(Debug, Default)]
pub struct Published {
    latest: RwLock<Option<Arc<Snapshot>>>,
}

impl Published {
    pub fn publish(&self, snapshot: Snapshot) {
        let mut guard = self.latest.write().unwrap_or_else(|e| e.into_inner());
        *guard = Some(Arc::new(snapshot));
    }

    pub fn latest(&self) -> Option<Arc<Snapshot>> {
        self.latest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// What the daemon evaluates with; replaced as a whole on reload.
#[derive(Debug, Clone)]
pub struct Engine {
    pub slos: Vec<Arc<Slo>>,
    pub client: Client,
    pub interval: Duration,
    pub concurrency: usize,
}

/// Evaluates every `interval` (as of now, or of `fixed_at` when replaying), and at
/// once whenever the engine is replaced, until `shutdown` resolves.
pub async fn run(
    mut engine: watch::Receiver<Arc<Engine>>,
    fixed_at: Option<DateTime<Utc>>,
    published: Arc<Published>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut known = KnownGroups::new();
    tokio::pin!(shutdown);
    loop {
        let current = engine.borrow_and_update().clone();
        // SLOs removed by a reload must not come back as "unknown" placeholders.
        known.retain(|name, _| current.slos.iter().any(|s| &s.name == name));
        let snapshot = evaluate(
            &current.client,
            &Request {
                slos: &current.slos,
                at: fixed_at.unwrap_or_else(Utc::now),
                window: None,
                concurrency: current.concurrency,
            },
            &known,
        )
        .await;
        remember_groups(&mut known, &snapshot);
        tracing::info!(
            results = snapshot.results.len(),
            queries = snapshot.queries_sent,
            prometheus_up = snapshot.prometheus_up,
            ready = snapshot.readiness.ready,
            took_ms = snapshot.duration.as_millis() as u64,
            "Evaluated"
        );
        published.publish(snapshot);
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(current.interval) => {}
            changed = engine.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}
